#!/usr/bin/env bash
# redisx rate limits next to redis-benchmark running the SAME Lua script
# (EVALSHA), per algorithm, against ONE server in ONE run.
#
#   bench/ratelimit.sh [build-dir]        (default ./build; builds nothing)
#
# Expects build-dir/bench/redisx_ratelimit_bench (REDISX_BUILD_BENCH=ON).
# Without REDISX_URL it starts a throwaway redis-server on a free 127.0.0.1
# port. For each algorithm it prints `name=value` lines, among them
#   rl_<algorithm>_seq_ratio  = redisx blocking checks/s, one thread
#                               / redis-benchmark -c 1 EVALSHA requests/s
#   rl_<algorithm>_conc_ratio = redisx async checks/s (1 connection, N in flight)
#                               / redis-benchmark -c 50 -P 16 EVALSHA requests/s
# Both sides run every check allowed (limit far above the run) over the same
# number of keys. Figures only; it never judges them.
#
# Optional: REDISX_BENCH_RL_SEQ (20000), REDISX_BENCH_RL_ASYNC (200000),
# REDISX_BENCH_RL_IN_FLIGHT (1000), REDISX_BENCH_RL_KEYS (10000),
# REDISX_BENCH_RL_P16_N (500000), REDISX_BENCH_RL_ALGORITHMS (all five).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

build_dir=${1:-./build}
bench_bin=$build_dir/bench/redisx_ratelimit_bench
seq=${REDISX_BENCH_RL_SEQ:-20000}
async_n=${REDISX_BENCH_RL_ASYNC:-200000}
in_flight=${REDISX_BENCH_RL_IN_FLIGHT:-1000}
nkeys=${REDISX_BENCH_RL_KEYS:-10000}
p16_n=${REDISX_BENCH_RL_P16_N:-500000}
algorithms=${REDISX_BENCH_RL_ALGORITHMS:-fixed_window sliding_log sliding_window token_bucket gcra}

bench_need_tools redis-server redis-benchmark redis-cli
if [[ ! -x $bench_bin ]]; then
    echo "ratelimit.sh: $bench_bin not found; build it first (cmake -DREDISX_BUILD_BENCH=ON)" >&2
    exit 2
fi
bench_server
bench_header

# Script file, keys and limit of each algorithm, as the library calls it.
script_of() { case $1 in fixed_window) echo rl_fixed_window ;; sliding_log) echo rl_sliding_log ;;
    sliding_window) echo rl_sliding_window ;; token_bucket) echo rl_token_bucket ;; gcra) echo rl_gcra ;; esac; }
keys_of() { # algorithm: numkeys and key patterns for redis-benchmark
    local k="rlbench:{__rand_int__}"
    case $1 in
    fixed_window) echo "1 $k:fw" ;;
    sliding_log) echo "2 $k:sl $k:sl:seq" ;;
    sliding_window) echo "1 $k:sw" ;;
    token_bucket) echo "1 $k:tb" ;;
    gcra) echo "1 $k:gcra" ;;
    esac
}
limit_of() { [[ $1 == sliding_log ]] && echo 100000 || echo 1000000000; }

for alg in $algorithms; do
    file=$here/../core/scripts/$(script_of "$alg").lua
    [[ -f $file ]] || { echo "ratelimit.sh: unknown algorithm $alg" >&2; exit 2; }
    sha=$(redis-cli "${conn_args[@]}" script load "$(cat "$file")")
    # shellcheck disable=SC2046 # the key list splits on purpose
    # ARGV: limit, period, burst, cost, peek. The burst is the limit, as the
    # library sends it for a limiter created with burst 0: a literal 0 makes
    # token bucket and GCRA deny every check, a cheaper path than the one
    # redisx runs.
    cmd=(evalsha "$sha" $(keys_of "$alg") "$(limit_of "$alg")" 3600000 "$(limit_of "$alg")" 1 0)
    c1=$(run_redis_benchmark -c 1 -n "$seq" -r "$nkeys" "${cmd[@]}")
    c1_rps=$(csv_field "$c1" rps || true)
    need "$c1_rps" "redis-benchmark -c 1 rps ($alg)"
    p16=$(run_redis_benchmark -c 50 -P 16 -n "$p16_n" -r "$nkeys" "${cmd[@]}")
    p16_rps=$(csv_field "$p16" rps || true)
    need "$p16_rps" "redis-benchmark -c 50 -P 16 rps ($alg)"
    if ! out=$("$bench_bin" "$url" "$alg" "$seq" "$async_n" "$in_flight" "$nkeys"); then
        echo "ratelimit.sh: $bench_bin failed for $alg" >&2
        exit 1
    fi
    echo "$out"
    seq_rate=$(printf '%s\n' "$out" | sed -n "s/^redisx_rl_${alg}_seq_checks_per_s=//p")
    async_rate=$(printf '%s\n' "$out" | sed -n "s/^redisx_rl_${alg}_async_checks_per_s=//p")
    need "$seq_rate" "redisx sequential rate ($alg)"
    need "$async_rate" "redisx concurrent rate ($alg)"
    echo "redis_benchmark_rl_${alg}_c1_rps=$c1_rps"
    echo "redis_benchmark_rl_${alg}_c50_P16_rps=$p16_rps"
    awk -v a="$alg" -v s="$seq_rate" -v c="$c1_rps" -v x="$async_rate" -v p="$p16_rps" 'BEGIN {
        printf "rl_%s_seq_ratio=%.3f\n", a, s / c
        printf "rl_%s_conc_ratio=%.3f\n", a, x / p
    }'
    if [[ -z $user_url ]]; then
        redis-cli "${conn_args[@]}" --scan --pattern 'rlbench:*' | xargs -r -n 500 redis-cli "${conn_args[@]}" del >/dev/null
    fi
done
