#!/usr/bin/env bash
# Go benchmark, against ONE server in ONE run:
#   - locks: the redisx Go binding next to go-redsync/redsync (on go-redis
#     v9), acquire+release cycles per second, sequential and with 1000
#     goroutines;
#   - the cache: L1 hits and get-or-load (64 goroutines, Zipf 1.1 over 100k
#     keys, with and without a local cache of 10k entries) next to
#     go-redis/cache v9 and its TinyLFU (cache_peers.go);
#   - streams: publish → handler → ack throughput (16 publishers, 16
#     handlers) and one-at-a-time delivery latency next to a go-redis
#     XREADGROUP/XACK loop and Watermill's redisstream (stream_peers.go);
#   - rate limits: redisx GCRA next to go-redis/redis_rate/v10 (GCRA on
#     go-redis v9), checks per second, sequential and with 50 goroutines,
#     every check allowed.
#
#   bench/go/run.sh [flags of main.go: -bench lock,rl,cache,cachepeers,stream
#                    -seq N -goroutines N -per N -rl-seq N -rl-goroutines N
#                    -rl-per N -rounds N -gol-goroutines N -gol-per N
#                    -gol-keys N -gol-l1 N -gol-zipf S -stream-n N
#                    -stream-publishers N -stream-workers N -stream-latency-n N]
#
# Without REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1
# port and stops it at exit; with REDISX_URL (redis://...) it uses that server
# (keys "bench-go*", "rate:bench-go-rl*", "redisx:lock:{bench-go:*}" and
# "redisx:rl:bench-go-rl:{bench-go-rl:*}:gcra" are written there).
#
# The peers are fetched from the Go module proxy at run time into a throwaway
# module cache (REDISX_BENCH_GOMODCACHE, default /tmp/redisx-go-bench-cache),
# and the program is built in a temporary copy of this folder: nothing
# third-party lands in the repository. Needs go, swig, libredisx-dev and
# redis-server, as the binding does.
#
# Prints `name=value` lines; the ones the project tracks:
#   go_seq_ratio        = redisx / redsync sequential cycles per second
#   go_concurrent_ratio = redisx / redsync cycles per second, 1000 goroutines
#   go_rl_seq_ratio     = redisx / redis_rate sequential checks per second
#   go_rl_conc_ratio    = redisx / redis_rate checks per second, 50 goroutines
#   go_cache_l1_hit_ratio      = redisx / go-redis/cache L1 hits per second
#   go_cache_gol_<l1|l2>_ratio = redisx / go-redis/cache get-or-load calls/s
#   go_stream_vs_<goredis|watermill>_ratio
#                       = redisx / peer messages per second, publish to ack
# (above 1: redisx did more). It reports figures only; it never judges them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib.sh"

for tool in go redis-server redis-cli swig; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: $tool not found" >&2
        exit 2
    fi
done

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-go-bench.XXXXXX")
on_exit 'rm -rf "$tmp_dir"'

# Build first (fetching the peers), so that a failing download never leaves
# a server running for nothing.
export GOMODCACHE=${REDISX_BENCH_GOMODCACHE:-/tmp/redisx-go-bench-cache}
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
mkdir -p "$tmp_dir/src"
cp "$here/go.mod" "$here"/*.go "$tmp_dir/src/"
(
    cd "$tmp_dir/src"
    go mod edit -replace=github.com/redisx/redisx/bindings/go="$repo/bindings/go"
    go mod download github.com/go-redsync/redsync/v4 github.com/redis/go-redis/v9 github.com/go-redis/redis_rate/v10 \
        github.com/go-redis/cache/v9 github.com/ThreeDotsLabs/watermill github.com/ThreeDotsLabs/watermill-redisstream
    go mod tidy >/dev/null 2>&1 || go mod tidy
    go build -o "$tmp_dir/redisx-bench-go" .
) >&2

start_redis_if_needed # unless REDISX_URL is set; stops at exit
url=$REDISX_URL

host_port=${url#redis://}
host_port=${host_port##*@}
host_port=${host_port%%/*}
redis_version=$(redis-cli -h "${host_port%:*}" -p "${host_port##*:}" info server 2>/dev/null | tr -d '\r' |
    sed -n 's/^redis_version://p' || true)
cpu=$({ grep -m1 -E '^(model name|Model|cpu model)[[:space:]]*:' /proc/cpuinfo || true; } | cut -d: -f2- | sed 's/^[[:space:]]*//')
echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu=${cpu:-unknown}"
echo "cores=$(nproc)"
echo "redis_version=${redis_version:-unknown}"
(cd "$tmp_dir/src" && go list -m -f '{{.Path}}={{.Version}}' github.com/go-redsync/redsync/v4 github.com/redis/go-redis/v9 \
    github.com/go-redis/redis_rate/v10 github.com/go-redis/cache/v9 github.com/ThreeDotsLabs/watermill-redisstream) |
    sed -e 's#^github.com/go-redsync/redsync/v4=#go_peer_redsync_version=#' -e 's#^github.com/redis/go-redis/v9=#go_peer_go_redis_version=#' \
        -e 's#^github.com/go-redis/redis_rate/v10=#go_peer_redis_rate_version=#' \
        -e 's#^github.com/go-redis/cache/v9=#go_peer_go_redis_cache_version=#' \
        -e 's#^github.com/ThreeDotsLabs/watermill-redisstream=#go_peer_watermill_redisstream_version=#'
"$tmp_dir/redisx-bench-go" -url "$url" "$@"
