#!/usr/bin/env bash
# redisx's Node binding vs its npm peers, in ONE run against ONE server:
#   - redlock (on ioredis): lock acquire+release cycles per second;
#   - rate-limiter-flexible's RateLimiterRedis (on ioredis) vs a redisx
#     fixed_window limiter: allowed checks per second;
# each sequential and with 1000 in flight;
#   - peers.js: the cache next to cache-manager 7 (memory store: L1 hits;
#     @keyv/redis and memory + @keyv/redis: get-or-load over Zipf keys) and
#     streams next to an ioredis XREADGROUP/XACK loop (publish -> handler ->
#     ack, delivery latency); what each side does per operation is at its top.
#
#   bench/node/run.sh
#
# Without REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1
# port and stops it at exit; with REDISX_URL (redis://host:port[/db]) it uses
# that server. The peers (redlock, rate-limiter-flexible, ioredis) are
# installed from npm into a
# throwaway folder under /tmp, removed at exit. The redisx addon is built
# (npm install in bindings/node) if it is not yet.
#
# Optional: BENCH_SEQ_CYCLES (5000), BENCH_CONCURRENCY (1000),
# BENCH_CYCLES_PER_WORKER (20), BENCH_RL_SEQ_CHECKS (5000),
# BENCH_RL_CONCURRENCY (1000), BENCH_RL_CHECKS_PER_WORKER (20), BENCH_REPEATS
# (3), BENCH_ONLY (lock | rl | cache | peers), BENCH_GOL_TASKS (64),
# BENCH_GOL_PER (500), BENCH_GOL_KEYS (100000), BENCH_GOL_ZIPF (1.1),
# BENCH_STREAM_N (10000), BENCH_STREAM_PUBLISHERS (16), BENCH_STREAM_WORKERS
# (16), BENCH_STREAM_LATENCY_N (500), CACHE_MANAGER_SPEC
# (cache-manager@latest), KEYV_SPEC (keyv@5: what @keyv/redis 5 accepts),
# KEYV_REDIS_SPEC, CACHEABLE_SPEC (@latest), REDLOCK_SPEC (redlock@4, the current `latest`),
# RLFLEX_SPEC (rate-limiter-flexible@latest), IOREDIS_SPEC (ioredis@latest).
#
# Prints `name=value` lines, among them
#   node_seq_ratio        = redisx / redlock sequential cycles/s
#   node_concurrent_ratio = redisx / redlock cycles/s with BENCH_CONCURRENCY in flight
#   node_rl_seq_ratio     = redisx / rate-limiter-flexible sequential checks/s
#   node_rl_conc_ratio    = the same with BENCH_RL_CONCURRENCY in flight
#   node_cache_l1_hit_ratio = redisx / cache-manager memory-store L1 hits per second
#   node_cache_gol_<l2|l1>_ratio = redisx / cache-manager wrap get-or-load calls/s
#   node_stream_vs_ioredis_ratio = redisx / ioredis loop messages/s, publish to ack
# It reports figures only; it never judges them. Note that a redisx acquire
# also issues a fencing token (one more key written per cycle than redlock).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pkg=$root/bindings/node
source "$root/scripts/lib.sh"

for tool in redis-server redis-cli node npm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool not found" >&2; exit 2; }
done

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-node-bench.XXXXXX")
on_exit 'rm -rf "$tmp_dir"'

if [[ ! -f $pkg/build/Release/redisx.node ]]; then
    echo "run.sh: building the redisx addon (npm install in bindings/node)" >&2
    (cd "$pkg" && npm install --no-audit --no-fund >&2)
fi

peers=("${REDLOCK_SPEC:-redlock@4}" "${RLFLEX_SPEC:-rate-limiter-flexible@latest}" "${IOREDIS_SPEC:-ioredis@latest}"
    "${CACHE_MANAGER_SPEC:-cache-manager@latest}" "${KEYV_SPEC:-keyv@5}" "${KEYV_REDIS_SPEC:-@keyv/redis@latest}"
    "${CACHEABLE_SPEC:-cacheable@latest}")
echo "run.sh: installing ${peers[*]} into $tmp_dir/peers" >&2
mkdir -p "$tmp_dir/peers"
(cd "$tmp_dir/peers" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund --no-package-lock "${peers[@]}" >&2)

if [[ -n ${REDISX_URL:-} ]]; then
    url=$REDISX_URL
else
    start_redis_if_needed # stopped at exit
    url=$REDISX_URL
    echo "server=redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDISX_THROWAWAY_PORT"
fi

only=${BENCH_ONLY:-}
if [[ $only != peers ]]; then
    REDISX_URL=$url PEER_DIR=$tmp_dir/peers node "$here/bench.js"
fi
if [[ -z $only || $only == peers ]]; then
    REDISX_URL=$url PEER_DIR=$tmp_dir/peers node "$here/peers.js"
fi
