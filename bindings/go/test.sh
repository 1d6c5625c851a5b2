#!/usr/bin/env bash
# The Go binding's checks: go vet, then the tests with the race detector.
# The tests start their own redis-server on a free loopback port.
#
#   bindings/go/test.sh [extra go test flags, e.g. -run Lock -v]
set -euo pipefail
cd "$(dirname "$0")"

for tool in go swig pkg-config redis-server; do
    command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool not found" >&2; exit 2; }
done
pkg-config --exists redisx || { echo "test.sh: libredisx-dev is not installed (pkg-config redisx)" >&2; exit 2; }

# The go tool keys its build cache on the package's own files: swig/redisx.i
# and swig/go.i are covered through the .h symlinks in internal/capi, but the
# installed C headers are not. Fold their digest into CGO_CFLAGS so that a
# reinstalled libredisx-dev with changed headers regenerates the binding.
includedir=$(pkg-config --variable=includedir redisx)
digest=$(cat "$includedir"/redisx/*.h | sha256sum | cut -c1-16)
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DREDISX_HEADERS_DIGEST=$digest"

go vet ./...
go test -race -count=1 ./... "$@"
