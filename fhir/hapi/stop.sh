#!/usr/bin/env bash
# Stop a server started by start-background.sh.
set -euo pipefail

pidfile="$(cd "$(dirname "$0")" && pwd)/target/hapi.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	kill "$(cat "$pidfile")"
	echo "HAPI FHIR stopped."
else
	echo "No HAPI FHIR started by make hapi is running."
fi
rm -f "$pidfile"
