#!/usr/bin/env bash
# redisx stream publishing next to redis-benchmark's XADD, against ONE server
# in ONE run (issue 12's publish ratio).
#
#   bench/streams.sh [build-dir]        (default ./build; builds nothing)
#
# Expects build-dir/bench/redisx_stream_bench (REDISX_BUILD_BENCH=ON). Without
# REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1 port.
# Prints the program's lines and
#   stream_publish_ratio = redisx publishes/s with IN_FLIGHT in flight on one
#                          client (one message each, trimmed by length: a
#                          plain XADD <key> MAXLEN ~ MAXLEN * <fields>, 100 B
#                          payload) / redis-benchmark -c 50 -P 16 running
#                          XADD <key> MAXLEN ~ MAXLEN * f <100 B> itself
#   server_us_per_publish = usec_per_call of XADD during redisx's run (INFO
#                          commandstats), next to server_us_per_xadd during
#                          redis-benchmark's: the server's share, which bounds
#                          the ratio (a batch, or a trim by age, is one
#                          EVALSHA of stream_publish.lua instead)
# Figures only; it never judges them.
#
# Optional: REDISX_BENCH_STREAM_N (200000), REDISX_BENCH_STREAM_IN_FLIGHT
# (1000), REDISX_BENCH_STREAM_MAXLEN (100000), REDISX_BENCH_STREAM_P16_N
# (1000000).
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/common.sh"

build_dir=${1:-./build}
bench_bin=$build_dir/bench/redisx_stream_bench
n=${REDISX_BENCH_STREAM_N:-200000}
in_flight=${REDISX_BENCH_STREAM_IN_FLIGHT:-1000}
maxlen=${REDISX_BENCH_STREAM_MAXLEN:-100000}
p16_n=${REDISX_BENCH_STREAM_P16_N:-1000000}

bench_need_tools redis-server redis-benchmark redis-cli
if [[ ! -x $bench_bin ]]; then
    echo "streams.sh: $bench_bin not found; build it first (cmake -DREDISX_BUILD_BENCH=ON)" >&2
    exit 2
fi
bench_server
bench_header

value=$(printf 'x%.0s' $(seq 100))
key=redisxbench:xadd:$$
redis-cli "${conn_args[@]}" config resetstat >/dev/null
p16_csv=$(run_redis_benchmark -c 50 -P 16 -n "$p16_n" xadd "$key" maxlen '~' "$maxlen" '*' f "$value")
p16_rps=$(csv_field "$p16_csv" rps || true)
need "$p16_rps" "rps of redis-benchmark -c 50 -P 16 XADD"
echo "redis_benchmark_xadd_c50_P16_rps=$p16_rps"
echo "redis_benchmark_xadd_stream_length=$(redis-cli "${conn_args[@]}" xlen "$key")"
echo "server_us_per_xadd=$(server_us_per_call xadd)"
redis-cli "${conn_args[@]}" del "$key" >/dev/null

redis-cli "${conn_args[@]}" config resetstat >/dev/null
if ! out=$("$bench_bin" "$url" "$n" "$in_flight" "$maxlen"); then
    echo "$out"
    echo "streams.sh: $bench_bin failed" >&2
    exit 1
fi
echo "$out"
echo "server_us_per_publish=$(server_us_per_call xadd)"
rate=$(printf '%s\n' "$out" | sed -n 's/^stream_publish_per_s=//p')
need "$rate" stream_publish_per_s

awk -v a="$rate" -v p="$p16_rps" 'BEGIN {
    if (p > 0) printf "stream_publish_ratio=%.3f\n", a / p; else print "stream_publish_ratio=nan"
}'
