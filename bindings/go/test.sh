#!/usr/bin/env bash
# The Go binding's checks: go vet, then the tests with the race detector, of
# the module and of the nested modules redisxprom and redisxotel.
# The module builds from its committed files (generate.sh's output) with a
# C compiler and libhiredis-dev: no SWIG, no libredisx. The tests start their
# own redis-server on a free loopback port.
#
#   bindings/go/test.sh [extra go test flags, e.g. -run Lock -v]
set -euo pipefail
cd "$(dirname "$0")"

for tool in go cc redis-server; do
    command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool not found" >&2; exit 2; }
done

go vet ./...
go test -race -count=1 ./... "$@"
# redisxprom is a module of its own (client_golang is its dependency, not
# the redisx module's), built against this checkout through a replace.
(cd redisxprom && go vet ./... && go test -race -count=1 ./... "$@")
# redisxotel likewise (the OpenTelemetry modules are its dependencies only).
(cd redisxotel && go vet ./... && go test -race -count=1 ./... "$@")
