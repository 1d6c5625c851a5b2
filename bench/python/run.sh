#!/usr/bin/env bash
# redisx's Python package next to redis-py, limits, cachetools and aiocache,
# against ONE server in ONE run.
#
#   bench/python/run.sh
#
# Builds a throwaway venv under /tmp with redis-py (from PyPI) and this
# repository's bindings/python (against the installed libredisx), starts a
# throwaway redis-server on a free 127.0.0.1 port (or uses $REDISX_URL), and
# prints `name=value` lines (see bench.py), among them
#   python_seq_ratio   = redisx try_lock+release cycles/s / redis-py Lock(blocking=False)
#   python_async_ratio = redisx asyncio cycles/s / redis.asyncio Lock, 1000 tasks
#   python_rl_<seq|conc>_<moving|fixed>_ratio
#                      = redisx Limiter.check/s (sliding_log | fixed_window) /
#                        limits MovingWindowRateLimiter | FixedWindowRateLimiter hits/s
#                        (1 thread | REDISX_PY_BENCH_RL_THREADS threads)
# and from peers.py (the cache and streams; what each side does per operation
# is in its docstring):
#   py_cache_l1_hit_ratio   = redisx Cache.get L1 hits/s / cachetools.TTLCache gets/s
#   py_cache_gol_<l2|l1>_ratio
#                      = redisx get_or_load_async calls/s (L1 off | on) /
#                        aiocache RedisCache get-or-set calls/s, 64 tasks, Zipf keys
#   py_stream_vs_redispy_ratio
#                      = redisx publish -> handler -> ack messages/s / a redis-py
#                        xreadgroup/xack loop, same publishers and handler threads
# and from observability.py:
#   observability_lock_ratio, observability_check_ratio
#                      = with redisx.prometheus + redisx.opentelemetry attached / without
#                        (observability.py; its BENCH_* variables apply)
# It reports figures only; it never judges them.
#
# Optional: REDISX_PY_BENCH_ONLY (locks | peers | observability: run one of the programs),
# REDISX_PY_BENCH_PEER_ROUNDS (3), REDISX_PY_BENCH_SEQ_CYCLES (5000), REDISX_PY_BENCH_TASKS (1000),
# REDISX_PY_BENCH_ROUNDS (5), REDISX_PY_BENCH_POOL (100: redis.asyncio's
# BlockingConnectionPool size), REDISX_PY_BENCH_RL_SEQ (5000 hits),
# REDISX_PY_BENCH_RL_CONC (16000 hits), REDISX_PY_BENCH_RL_THREADS (8),
# PYTHON (python3 first on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib.sh"
python=${PYTHON:-python3}
seq_cycles=${REDISX_PY_BENCH_SEQ_CYCLES:-5000}
tasks=${REDISX_PY_BENCH_TASKS:-1000}
rounds=${REDISX_PY_BENCH_ROUNDS:-5}
pool=${REDISX_PY_BENCH_POOL:-100}
rl_seq=${REDISX_PY_BENCH_RL_SEQ:-5000}
rl_conc=${REDISX_PY_BENCH_RL_CONC:-16000}
rl_threads=${REDISX_PY_BENCH_RL_THREADS:-8}

for tool in redis-server redis-cli "$python"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: $tool not found" >&2
        exit 2
    fi
done

# Room for redis.asyncio's pool and the server's clients.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-pybench.XXXXXX")
on_exit 'rm -rf "$tmp_dir"'

# 1. The throwaway environment: redis-py, limits and this checkout's package.
"$python" -m venv "$tmp_dir/venv"
venv_py=$tmp_dir/venv/bin/python
if ! "$venv_py" -m pip install -q --disable-pip-version-check redis limits cachetools aiocache prometheus_client \
    opentelemetry-api==1.45.2 opentelemetry-sdk==1.45.2 "$repo/bindings/python" \
    >"$tmp_dir/pip.log" 2>&1; then
    cat "$tmp_dir/pip.log" >&2
    echo "run.sh: installing redis-py, limits, cachetools, aiocache, the OpenTelemetry SDK and bindings/python failed" >&2
    exit 1
fi

# 2. The server: $REDISX_URL, else a throwaway one (stopped at exit).
start_redis_if_needed
url=$REDISX_URL

echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cores=$(nproc)"
echo "redis_version=$(redis-cli -u "$url" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
echo "seq_cycles=$seq_cycles"
echo "async_tasks=$tasks"
echo "async_rounds=$rounds"
echo "redispy_pool=$pool"

# 3. The measurements (from /tmp: the venv's redisx, not the source tree).
cd "$tmp_dir"
only=${REDISX_PY_BENCH_ONLY:-}
"$venv_py" -m pip list --disable-pip-version-check 2>/dev/null |
    awk '$1 ~ /^(redis|limits|cachetools|aiocache)$/ { print "py_peer_" $1 "_version=" $2 }'
if [[ $only != peers && $only != observability ]]; then
    "$venv_py" "$here/bench.py" "$url" --seq-cycles "$seq_cycles" --tasks "$tasks" --rounds "$rounds" --pool "$pool" \
        --rl-seq-hits "$rl_seq" --rl-conc-hits "$rl_conc" --rl-threads "$rl_threads"
fi
if [[ $only != locks && $only != observability ]]; then
    "$venv_py" "$here/peers.py" "$url" --rounds "${REDISX_PY_BENCH_PEER_ROUNDS:-3}"
fi
if [[ $only != locks && $only != peers ]]; then
    "$venv_py" "$here/observability.py" "$url"
fi
