#!/usr/bin/env bash
# The Go observability-cost benchmark (main.go): lock cycles and rate-limit
# checks per second on a bare client and on one with the Prometheus
# collector and OpenTelemetry (redisxotel) attached.
#
#   bench/go/observability/run.sh [-n N] [-rounds N]
#
# Without REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1
# port and stops it at exit. Builds in a temporary copy (modules into
# REDISX_BENCH_GOMODCACHE, default /tmp/redisx-go-bench-cache); nothing
# third-party lands in the repository. Prints name=value lines, among them
#   observability_lock_ratio  = instrumented / bare lock cycles per second
#   observability_check_ratio = instrumented / bare checks per second
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
source "$repo/scripts/lib.sh"
tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-go-obs-bench.XXXXXX")
on_exit 'rm -rf "$tmp_dir"'
export GOMODCACHE=${REDISX_BENCH_GOMODCACHE:-/tmp/redisx-go-bench-cache}
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
mkdir -p "$tmp_dir/src"
cp "$here/go.mod" "$here/main.go" "$tmp_dir/src/"
(
    cd "$tmp_dir/src"
    for m in "" /redisxotel /redisxprom; do
        go mod edit -replace=github.com/redisx/redisx/bindings/go$m="$repo/bindings/go$m"
    done
    go mod tidy >/dev/null 2>&1 || go mod tidy
    go build -o "$tmp_dir/bench" .
) >&2
start_redis_if_needed
"$tmp_dir/bench" -url "$REDISX_URL" "$@"
