#!/usr/bin/env bash
# Start the server in the background (building it first if needed) and return once
# GET /fhir/metadata answers. Used by `make hapi`; `make hapi-stop` stops it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
port="${SERVER_PORT:-8080}"
url="http://127.0.0.1:$port/fhir"
log="$here/target/hapi.log"
pidfile="$here/target/hapi.pid"

if curl -sf -o /dev/null "$url/metadata"; then
	echo "HAPI FHIR already answers at $url"
	exit 0
fi

echo "Building the HAPI FHIR server (first build downloads ~350 MB from Maven Central)..."
"$here/build.sh"
SERVER_PORT="$port" nohup "$here/run.sh" >"$log" 2>&1 &
echo $! >"$pidfile"

printf 'Starting HAPI FHIR on %s ' "$url"
for _ in $(seq 1 300); do
	if curl -sf -o /dev/null "$url/metadata"; then
		printf '\nHAPI FHIR answers at %s (log: %s; stop: make hapi-stop)\n' "$url" "$log"
		exit 0
	fi
	if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		printf '\nHAPI FHIR exited during start-up; the end of its log:\n' >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
	printf '.'
	sleep 1
done
printf '\nHAPI FHIR did not answer within 300 s; see %s\n' "$log" >&2
exit 1
