#!/usr/bin/env bash
# Go lock benchmark: the redisx Go binding next to go-redsync/redsync (on
# go-redis v9), acquire+release cycles per second, sequential and with 1000
# goroutines, against ONE server in ONE run.
#
#   bench/go/run.sh [flags of main.go: -seq N -goroutines N -per N -rounds N]
#
# Without REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1
# port and stops it at exit; with REDISX_URL (redis://...) it uses that server
# (keys "bench-go:*" and "redisx:lock:{bench-go:*}" are written there).
#
# The peers are fetched from the Go module proxy at run time into a throwaway
# module cache (REDISX_BENCH_GOMODCACHE, default /tmp/redisx-go-bench-cache),
# and the program is built in a temporary copy of this folder: nothing
# third-party lands in the repository. Needs go, swig, libredisx-dev and
# redis-server, as the binding does.
#
# Prints `name=value` lines; the two the project tracks:
#   go_seq_ratio        = redisx / redsync sequential cycles per second
#   go_concurrent_ratio = redisx / redsync cycles per second, 1000 goroutines
# (above 1: redisx did more). It reports figures only; it never judges them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in go redis-server redis-cli swig; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: $tool not found" >&2
        exit 2
    fi
done

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-go-bench.XXXXXX")
server_pid=
server_alive() {
    local state
    kill -0 "$server_pid" 2>/dev/null || return 1
    state=$(awk '{ print $3 }' "/proc/$server_pid/stat" 2>/dev/null || true)
    [[ $state != Z ]]
}
stop_server() {
    if [[ -n $server_pid ]] && server_alive; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            server_alive || break
            sleep 0.1
        done
    fi
    server_pid=
}
cleanup() {
    stop_server
    rm -rf "$tmp_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Build first (fetching the peers), so that a failing download never leaves
# a server running for nothing.
export GOMODCACHE=${REDISX_BENCH_GOMODCACHE:-/tmp/redisx-go-bench-cache}
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
mkdir -p "$tmp_dir/src"
cp "$here/go.mod" "$here/main.go" "$tmp_dir/src/"
(
    cd "$tmp_dir/src"
    go mod edit -replace=redisx="$repo/bindings/go"
    go mod download github.com/go-redsync/redsync/v4 github.com/redis/go-redis/v9
    go mod tidy >/dev/null 2>&1 || go mod tidy
    go build -o "$tmp_dir/redisx-bench-go" .
) >&2

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [[ -n ${REDISX_URL:-} ]]; then
    url=$REDISX_URL
else
    started=
    for _ in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        mkdir -p "$tmp_dir/redis"
        if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
            --pidfile "$tmp_dir/redis/redis.pid" --dir "$tmp_dir/redis" --logfile "$tmp_dir/redis/redis.log" >/dev/null; then
            for _ in $(seq 100); do
                [[ -s $tmp_dir/redis/redis.pid ]] && server_pid=$(cat "$tmp_dir/redis/redis.pid")
                if [[ -n $server_pid ]] && [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true) == PONG ]]; then
                    started=1
                    break
                fi
                sleep 0.05
            done
        fi
        [[ -n $started ]] && break
        stop_server # lost a race for the port, or the server died: retry
    done
    if [[ -z $started ]]; then
        echo "run.sh: could not start redis-server on 127.0.0.1; its log:" >&2
        cat "$tmp_dir/redis/redis.log" >&2 2>/dev/null || true
        exit 1
    fi
    url=redis://127.0.0.1:$port
fi

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
(cd "$tmp_dir/src" && go list -m -f '{{.Path}}={{.Version}}' github.com/go-redsync/redsync/v4 github.com/redis/go-redis/v9) |
    sed -e 's#^github.com/go-redsync/redsync/v4=#go_peer_redsync_version=#' -e 's#^github.com/redis/go-redis/v9=#go_peer_go_redis_version=#'
"$tmp_dir/redisx-bench-go" -url "$url" "$@"
