#!/usr/bin/env bash
# Start the Parley HAPI FHIR server in the foreground (base URL http://127.0.0.1:${SERVER_PORT:-8080}/fhir).
# Builds the jar first if it is missing or older than pom.xml / src/.
# Configuration comes from the environment (SERVER_PORT, SPRING_DATASOURCE_URL, ...; see README.md);
# extra JVM options can be given in JAVA_OPTS, extra Spring arguments as script arguments.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/parley-hapi.jar"

if [ ! -f "$jar" ] || [ -n "$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit)" ]; then
	echo "run.sh: building $jar" >&2
	"$here/build.sh" >&2
fi

cd "$here"
# shellcheck disable=SC2086  # JAVA_OPTS is a list of options
exec java -Xmx1g ${JAVA_OPTS:-} -jar "$jar" "$@"
