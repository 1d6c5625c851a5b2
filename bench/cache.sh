#!/usr/bin/env bash
# The cache's L2 path next to redis-benchmark's GET, against ONE server in
# ONE run (issue 11's "L2 hit" ratios).
#
#   bench/cache.sh [build-dir]        (default ./build; builds nothing)
#
# Expects build-dir/bench/redisx_cache_bench (REDISX_BUILD_BENCH=ON). Without
# REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1 port.
# Prints the program's lines (get_*, cache_l2_hit_*, cache_l1_hit_*,
# cache_l2_async_per_s) and
#   cache_l2_hit_latency_ratio = p50 of a blocking redisx_cache_fetch answered
#                                by L2 (one EVALSHA of cache_fetch.lua, L1 off)
#                                / p50 of redis-benchmark -c 1 -t get
#   cache_l2_hit_floor_ratio   = the same p50 / p50 of a bare GET through
#                                redisx_command in the same rounds
#   cache_l2_conc_ratio        = redisx fetches/s answered by L2, IN_FLIGHT
#                                in flight on one client, over KEYS keys
#                                / redis-benchmark -c 50 -P 16 -t get -r KEYS
#   server_us_per_l2_fetch     = usec_per_call of EVALSHA during the program
#                                (INFO commandstats; nearly all of them L2
#                                fetches), next to server_us_per_get during
#                                redis-benchmark's GETs: the server's share,
#                                which bounds the concurrent ratio
# Both sides read 100-byte values over the same number of keys (the GET side:
# keys written by redis-benchmark -t set -d 100 -r KEYS first). A redisx L2
# hit is a script that reads a hash and the server's time; a GET reads a
# string. Figures only; it never judges them.
#
# Optional: REDISX_BENCH_CACHE_ROUNDS (20, of 1000 fetches each),
# REDISX_BENCH_CACHE_ASYNC (200000), REDISX_BENCH_CACHE_IN_FLIGHT (1000),
# REDISX_BENCH_CACHE_KEYS (10000), REDISX_BENCH_CACHE_P16_N (1000000).
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/common.sh"

build_dir=${1:-./build}
bench_bin=$build_dir/bench/redisx_cache_bench
rounds=${REDISX_BENCH_CACHE_ROUNDS:-20}
async_n=${REDISX_BENCH_CACHE_ASYNC:-200000}
in_flight=${REDISX_BENCH_CACHE_IN_FLIGHT:-1000}
nkeys=${REDISX_BENCH_CACHE_KEYS:-10000}
p16_n=${REDISX_BENCH_CACHE_P16_N:-1000000}

bench_need_tools redis-server redis-benchmark redis-cli
if [[ ! -x $bench_bin ]]; then
    echo "cache.sh: $bench_bin not found; build it first (cmake -DREDISX_BUILD_BENCH=ON)" >&2
    exit 2
fi
bench_server
bench_header

# The GET side's keys: 100-byte values under key:<0..KEYS-1> (about every key
# of the range after 20 draws per key).
run_redis_benchmark -c 50 -P 16 -n $((nkeys * 20)) -r "$nkeys" -d 100 -t set >/dev/null

c1_csv=$(run_redis_benchmark -c 1 -n 20000 -d 100 -t get)
c1_p50_ms=$(csv_field "$c1_csv" p50_latency_ms || true)
need "$c1_p50_ms" "p50_latency_ms of redis-benchmark -c 1 -t get"
c1_p50_ns=$(awk -v ms="$c1_p50_ms" 'BEGIN { printf "%.0f", ms * 1e6 }')
echo "redis_benchmark_get_c1_p50_ns=$c1_p50_ns"

redis-cli "${conn_args[@]}" config resetstat >/dev/null
if ! out=$("$bench_bin" "$url" "$rounds" "$async_n" "$in_flight" "$nkeys"); then
    echo "$out"
    echo "cache.sh: $bench_bin failed" >&2
    exit 1
fi
echo "$out"
echo "server_us_per_l2_fetch=$(server_us_per_call evalsha)"
value() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
l2_p50=$(value cache_l2_hit_p50_ns)
get_p50=$(value get_p50_ns)
l2_async=$(value cache_l2_async_per_s)
need "$l2_p50" cache_l2_hit_p50_ns
need "$get_p50" get_p50_ns
need "$l2_async" cache_l2_async_per_s

redis-cli "${conn_args[@]}" config resetstat >/dev/null
p16_csv=$(run_redis_benchmark -c 50 -P 16 -n "$p16_n" -r "$nkeys" -d 100 -t get)
echo "server_us_per_get=$(server_us_per_call get)"
p16_rps=$(csv_field "$p16_csv" rps || true)
need "$p16_rps" "rps of redis-benchmark -c 50 -P 16 -t get"
echo "redis_benchmark_get_c50_P16_rps=$p16_rps"

if [[ -z $user_url ]]; then
    redis-cli "${conn_args[@]}" flushdb >/dev/null
fi

awk -v l2="$l2_p50" -v c1="$c1_p50_ns" -v g="$get_p50" -v a="$l2_async" -v p="$p16_rps" 'BEGIN {
    if (c1 > 0) printf "cache_l2_hit_latency_ratio=%.3f\n", l2 / c1; else print "cache_l2_hit_latency_ratio=nan"
    if (g > 0) printf "cache_l2_hit_floor_ratio=%.3f\n", l2 / g; else print "cache_l2_hit_floor_ratio=nan"
    if (p > 0) printf "cache_l2_conc_ratio=%.3f\n", a / p; else print "cache_l2_conc_ratio=nan"
}'
