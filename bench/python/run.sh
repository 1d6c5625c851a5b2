#!/usr/bin/env bash
# redisx's Python package next to redis-py, against ONE server in ONE run.
#
#   bench/python/run.sh
#
# Builds a throwaway venv under /tmp with redis-py (from PyPI) and this
# repository's bindings/python (against the installed libredisx), starts a
# throwaway redis-server on a free 127.0.0.1 port (or uses $REDISX_URL), and
# prints `name=value` lines (see bench.py), among them
#   python_seq_ratio   = redisx try_lock+release cycles/s / redis-py Lock(blocking=False)
#   python_async_ratio = redisx asyncio cycles/s / redis.asyncio Lock, 1000 tasks
# It reports figures only; it never judges them.
#
# Optional: REDISX_PY_BENCH_SEQ_CYCLES (5000), REDISX_PY_BENCH_TASKS (1000),
# REDISX_PY_BENCH_ROUNDS (5), REDISX_PY_BENCH_POOL (100: redis.asyncio's
# BlockingConnectionPool size), PYTHON (python3 first on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
seq_cycles=${REDISX_PY_BENCH_SEQ_CYCLES:-5000}
tasks=${REDISX_PY_BENCH_TASKS:-1000}
rounds=${REDISX_PY_BENCH_ROUNDS:-5}
pool=${REDISX_PY_BENCH_POOL:-100}

for tool in redis-server redis-cli "$python"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: $tool not found" >&2
        exit 2
    fi
done

# Room for redis.asyncio's pool and the server's clients.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-pybench.XXXXXX")
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

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# 1. The throwaway environment: redis-py and this checkout's package.
"$python" -m venv "$tmp_dir/venv"
venv_py=$tmp_dir/venv/bin/python
if ! "$venv_py" -m pip install -q --disable-pip-version-check redis "$repo/bindings/python" \
    >"$tmp_dir/pip.log" 2>&1; then
    cat "$tmp_dir/pip.log" >&2
    echo "run.sh: installing redis-py and bindings/python failed" >&2
    exit 1
fi

# 2. The server.
if [[ -n ${REDISX_URL:-} ]]; then
    url=$REDISX_URL
else
    started=
    mkdir -p "$tmp_dir/redis"
    for _ in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
            --pidfile "$tmp_dir/redis/redis.pid" --dir "$tmp_dir/redis" --logfile "$tmp_dir/redis/redis.log" \
            >/dev/null; then
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
        stop_server
    done
    if [[ -z $started ]]; then
        echo "run.sh: could not start redis-server on 127.0.0.1; its log:" >&2
        cat "$tmp_dir/redis/redis.log" >&2 2>/dev/null || true
        exit 1
    fi
    url=redis://127.0.0.1:$port
fi

echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cores=$(nproc)"
echo "redis_version=$(redis-cli -u "$url" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
echo "seq_cycles=$seq_cycles"
echo "async_tasks=$tasks"
echo "async_rounds=$rounds"
echo "redispy_pool=$pool"

# 3. The measurements (from /tmp: the venv's redisx, not the source tree).
cd "$tmp_dir"
"$venv_py" "$here/bench.py" "$url" --seq-cycles "$seq_cycles" --tasks "$tasks" --rounds "$rounds" --pool "$pool"
