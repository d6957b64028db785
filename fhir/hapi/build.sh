#!/usr/bin/env bash
# Build the Parley HAPI FHIR server jar (target/parley-hapi.jar). Needs Java 17+ and Maven 3.8.3+.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

# Maven itself needs little heap here; C1-only JIT makes a short-lived Maven run faster.
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx1g -XX:+TieredCompilation -XX:TieredStopAtLevel=1}"

exec mvn -q -B package -DskipTests "$@"
