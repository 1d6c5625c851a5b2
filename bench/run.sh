#!/usr/bin/env bash
# redisx lock benchmark next to redis-benchmark, against ONE server in ONE run.
#
#   bench/run.sh [build-dir]        (default ./build; builds nothing)
#
# Expects build-dir/bench/redisx_lock_bench (configure with
# REDISX_BUILD_BENCH=ON, the default). Without REDISX_URL it starts a
# throwaway redis-server on a free 127.0.0.1 port and stops it at exit; with
# REDISX_URL (redis://... or unix://...) it uses that server, and
# redis-benchmark then writes its own key "key:__rand_int__" there.
#
# Optional: REDISX_BENCH_SEQ_CYCLES (20000), REDISX_BENCH_ASYNC_CYCLES
# (200000), REDISX_BENCH_IN_FLIGHT (1000).
#
# Prints `name=value` lines, among them the ratios the project tracks:
#   set_seq_latency_ratio    = p50 of a blocking SET through redisx_command()
#                              / p50 of redis-benchmark -c 1 -n 20000 -t set
#   set_pipeline_ratio       = redisx async SETs/s, in_flight at a time on one
#                              connection / redis-benchmark -c 1 -P in_flight -t set
#   lock_cycle_latency_ratio = median(redisx acquire+release cycle)
#                              / (2 * p50 of redis-benchmark -c 1 -n 20000 -t set)
#   set_seq_latency_ratio_busy_poll, lock_cycle_latency_ratio_busy_poll
#                            = the same two with redisx_options_set_busy_poll_us
#                              (200 us): the calling thread spins on the socket
#                              instead of sleeping until the reply
#   lock_cycle_floor_ratio   = median(redisx cycle) / median(the same cycle,
#                              same scripts and keys, over bare synchronous
#                              hiredis), in alternating blocks of one run
#   set_seq_floor_ratio      = the same for a blocking SET
#   lock_cycle_server_share  = server time of the two scripts (INFO
#                              commandstats) / median(redisx cycle): what no
#                              client can take off a cycle
#   lock_throughput_ratio    = redisx concurrent cycles/s (default 1 connection)
#                              / redis-benchmark -c 50 -P 16 -t set requests/s
# It reports figures only; it never judges them.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/common.sh"

build_dir=${1:-./build}
bench_bin=$build_dir/bench/redisx_lock_bench
seq_cycles=${REDISX_BENCH_SEQ_CYCLES:-20000}
async_cycles=${REDISX_BENCH_ASYNC_CYCLES:-200000}
in_flight=${REDISX_BENCH_IN_FLIGHT:-1000}

bench_need_tools redis-server redis-benchmark redis-cli
if [[ ! -x $bench_bin ]]; then
    echo "run.sh: $bench_bin not found; build it first, e.g.:" >&2
    echo "  cmake -S . -B $build_dir -G Ninja -DREDISX_BUILD_BENCH=ON && ninja -C $build_dir redisx_lock_bench" >&2
    exit 2
fi
bench_server
bench_header

# 1. One client, no pipelining: the round trip a lock cycle is compared with.
c1_csv=$(run_redis_benchmark -c 1 -n 20000 -t set)
c1_p50_ms=$(csv_field "$c1_csv" p50_latency_ms || true)
c1_rps=$(csv_field "$c1_csv" rps || true)
need "$c1_p50_ms" "p50_latency_ms of redis-benchmark -c 1"
need "$c1_rps" "rps of redis-benchmark -c 1"
c1_p50_us=$(awk -v ms="$c1_p50_ms" 'BEGIN { printf "%.1f", ms * 1000 }')
echo "redis_benchmark_set_c1_p50_us=$c1_p50_us"
echo "redis_benchmark_set_c1_rps=$c1_rps"

# 2. redisx: sequential latency and concurrent throughput.
if ! lock_out=$("$bench_bin" "$url" "$seq_cycles" "$async_cycles" "$in_flight"); then
    echo "$lock_out"
    echo "run.sh: $bench_bin failed" >&2
    exit 1
fi
echo "$lock_out"
lock_value() { printf '%s\n' "$lock_out" | sed -n "s/^$1=//p"; }
cycle_p50_us=$(lock_value redisx_lock_cycle_p50_us)
floor_cycle_p50_us=$(lock_value hiredis_lock_cycle_p50_us)
floor_set_p50_us=$(lock_value hiredis_set_seq_p50_us)
server_cycle_us=$(lock_value server_us_per_lock_cycle)
async_c1=$(lock_value redisx_lock_async_c1_cycles_per_s)
async_c4=$(lock_value redisx_lock_async_c4_cycles_per_s)
need "$cycle_p50_us" redisx_lock_cycle_p50_us
need "$async_c1" redisx_lock_async_c1_cycles_per_s
need "$async_c4" redisx_lock_async_c4_cycles_per_s

set_seq_p50_us=$(lock_value redisx_set_seq_p50_us)
set_async=$(lock_value redisx_set_async_c1_per_s)
need "$set_seq_p50_us" redisx_set_seq_p50_us
set_seq_bp_us=$(lock_value redisx_set_seq_busy_poll_p50_us)
cycle_bp_us=$(lock_value redisx_lock_cycle_busy_poll_p50_us)
need "$set_seq_bp_us" redisx_set_seq_busy_poll_p50_us
need "$cycle_bp_us" redisx_lock_cycle_busy_poll_p50_us
need "$set_async" redisx_set_async_c1_per_s

# 3. One client, pipelined as deep as redisx's in-flight window.
p1k_csv=$(run_redis_benchmark -c 1 -P "$in_flight" -n 1000000 -t set)
p1k_rps=$(csv_field "$p1k_csv" rps || true)
need "$p1k_rps" "rps of redis-benchmark -c 1 -P $in_flight"
echo "redis_benchmark_set_c1_P${in_flight}_rps=$p1k_rps"

# 4. Many clients, pipelined: what the server can do for plain SETs.
p16_csv=$(run_redis_benchmark -c 50 -P 16 -n 1000000 -t set)
p16_rps=$(csv_field "$p16_csv" rps || true)
need "$p16_rps" "rps of redis-benchmark -c 50 -P 16"
echo "redis_benchmark_set_c50_P16_rps=$p16_rps"

if [[ -z $user_url ]]; then
    redis-cli "${conn_args[@]}" del key:__rand_int__ >/dev/null
fi

awk -v l="$cycle_p50_us" -v s="$c1_p50_us" -v t1="$async_c1" -v t4="$async_c4" -v r="$p16_rps" \
    -v ss="$set_seq_p50_us" -v sa="$set_async" -v p1k="$p1k_rps" \
    -v fl="$floor_cycle_p50_us" -v fs="$floor_set_p50_us" -v sv="$server_cycle_us" \
    -v sb="$set_seq_bp_us" -v lb="$cycle_bp_us" 'BEGIN {
    if (s > 0) printf "set_seq_latency_ratio=%.3f\n", ss / s
    else print "set_seq_latency_ratio=nan"
    if (s > 0) printf "set_seq_latency_ratio_busy_poll=%.3f\n", sb / s
    else print "set_seq_latency_ratio_busy_poll=nan"
    if (s > 0) printf "lock_cycle_latency_ratio_busy_poll=%.3f\n", lb / (2 * s)
    else print "lock_cycle_latency_ratio_busy_poll=nan"
    if (p1k > 0) printf "set_pipeline_ratio=%.3f\n", sa / p1k
    else print "set_pipeline_ratio=nan"
    if (s > 0) printf "lock_cycle_latency_ratio=%.3f\n", l / (2 * s)
    else print "lock_cycle_latency_ratio=nan"
    if (fl > 0) printf "lock_cycle_floor_ratio=%.3f\n", l / fl
    else print "lock_cycle_floor_ratio=nan"
    if (fs > 0) printf "set_seq_floor_ratio=%.3f\n", ss / fs
    else print "set_seq_floor_ratio=nan"
    if (sv > 0 && l > 0) printf "lock_cycle_server_share=%.3f\n", sv / l
    else print "lock_cycle_server_share=nan"
    if (r > 0) {
        printf "lock_throughput_ratio=%.3f\n", t1 / r
        printf "lock_throughput_ratio_connections4=%.3f\n", t4 / r
    } else {
        print "lock_throughput_ratio=nan"
        print "lock_throughput_ratio_connections4=nan"
    }
}'
