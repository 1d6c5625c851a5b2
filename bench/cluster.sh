#!/usr/bin/env bash
# redisx on a local Redis Cluster next to redis-benchmark --cluster running
# the SAME Lua scripts, with 1 and with 3 masters, in ONE run.
#
#   bench/cluster.sh [build-dir]        (default ./build; builds nothing)
#
# Starts its own clusters (tests/cluster/cluster.sh, loopback only) and stops
# them at exit; REDISX_URL is ignored. For each size M in 1 3 it prints
# `name=value` lines, among them
#   cluster_m<M>_lock_cycles_per_s        redisx acquire+release cycles/s,
#                                         1000 chains in flight (redisx_lock_bench)
#   cluster_m<M>_bench_lock_cycles_per_s  redis-benchmark --cluster -c 50 -P 16
#                                         (without --cluster for 1 master,
#                                         which it refuses)
#                                         running lock_acquire.lua and then
#                                         lock_release.lua: 1 / (1/acquire rps
#                                         + 1/release rps)
#   cluster_m<M>_lock_ratio               the first / the second
#   cluster_m<M>_gcra_checks_per_s        redisx GCRA checks/s, 1000 in flight
#   cluster_m<M>_bench_gcra_rps           redis-benchmark --cluster -c 50 -P 16
#                                         running rl_gcra.lua
#   cluster_m<M>_gcra_ratio               the first / the second
# and cluster_{lock,gcra}_scaling_1_to_3 (3-master rate / 1-master rate) for
# redisx and for redis-benchmark. redis-benchmark's release finds no lease to
# delete (its keys are random), a cheaper script path than redisx's real
# release: its cycle rate is an upper bound. On a machine with fewer cores
# than masters + clients, scaling measures the machine more than the cluster.
# Figures only; it never judges them.
#
# Optional: REDISX_BENCH_CLUSTER_CYCLES (200000), REDISX_BENCH_CLUSTER_CHECKS
# (300000), REDISX_BENCH_CLUSTER_N (redis-benchmark requests per script,
# 300000), REDISX_BENCH_CLUSTER_SIZES ("1 3").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

build_dir=${1:-./build}
lock_bin=$build_dir/bench/redisx_lock_bench
rl_bin=$build_dir/bench/redisx_ratelimit_bench
cycles=${REDISX_BENCH_CLUSTER_CYCLES:-200000}
checks=${REDISX_BENCH_CLUSTER_CHECKS:-300000}
bench_n=${REDISX_BENCH_CLUSTER_N:-300000}
sizes=${REDISX_BENCH_CLUSTER_SIZES:-1 3}
in_flight=1000

bench_need_tools redis-server redis-benchmark redis-cli
for bin in "$lock_bin" "$rl_bin"; do
    if [[ ! -x $bin ]]; then
        echo "cluster.sh: $bin not found; build it first (cmake -DREDISX_BUILD_BENCH=ON)" >&2
        exit 2
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/redisx-bench-cluster.XXXXXX")
cleanup() {
    local d
    for d in "$work"/m*; do
        [[ -d $d ]] && { "$here/../tests/cluster/cluster.sh" stop "$d" || true; }
    done
    rm -rf "$work"
}
trap cleanup EXIT

value() { # text name
    printf '%s\n' "$1" | sed -n "s/^$2=//p"
}

# One redis-benchmark --cluster run of an EVALSHA; prints its requests/s.
bench_script() { # first-port masters sha numkeys keys-and-args...
    local port=$1 cluster=(--cluster) out rps
    # redis-benchmark refuses a one-node cluster: that node alone, then
    [[ $2 -gt 1 ]] || cluster=()
    shift 2
    out=$(redis-benchmark -h 127.0.0.1 -p "$port" "${cluster[@]}" --csv -c 50 -P 16 -n "$bench_n" -r 100000000 \
        evalsha "$@" 2>/dev/null) || { echo "cluster.sh: redis-benchmark evalsha $* failed" >&2; exit 1; }
    out=$(grep '^"' <<<"$out" || true) # --cluster prints the nodes before the CSV
    rps=$(csv_field "$out" rps || true)
    need "$rps" "redis-benchmark --cluster rps (evalsha $*)"
    echo "$rps"
}

load_script() { # ports-array-name file -> sha (loaded on every master)
    local -n ps=$1
    local p sha=
    for p in "${ps[@]}"; do sha=$(redis-cli -h 127.0.0.1 -p "$p" script load "$(cat "$2")"); done
    echo "$sha"
}

first=1
declare -A lock_rate gcra_rate bench_lock bench_gcra
for m in $sizes; do
    dir=$work/m$m
    read -r -a ports <<<"$("$here/../tests/cluster/cluster.sh" start "$dir" "$m" 0 $$)"
    url="redis+cluster://$(printf '127.0.0.1:%s,' "${ports[@]}")"
    url=${url%,}
    if [[ -n $first ]]; then
        conn_args=(-h 127.0.0.1 -p "${ports[0]}")
        bench_header
        first=
    fi
    echo "cluster_m${m}_masters=$m"

    out=$("$lock_bin" "$url" 2000 "$cycles" "$in_flight") || { echo "cluster.sh: $lock_bin failed" >&2; exit 1; }
    lock_rate[$m]=$(value "$out" redisx_lock_async_c1_cycles_per_s)
    need "${lock_rate[$m]}" "redisx lock cycles/s ($m masters)"
    out=$("$rl_bin" "$url" gcra 2000 "$checks" "$in_flight" 10000) ||
        { echo "cluster.sh: $rl_bin failed" >&2; exit 1; }
    gcra_rate[$m]=$(value "$out" redisx_rl_gcra_async_checks_per_s)
    need "${gcra_rate[$m]}" "redisx GCRA checks/s ($m masters)"

    # redis-benchmark puts one "{tag}" per node, so each script's keys stay
    # on one node; ARGV as redisx sends them (docs/KEYS.md).
    acq=$(load_script ports "$here/../core/scripts/lock_acquire.lua")
    rel=$(load_script ports "$here/../core/scripts/lock_release.lua")
    gcra=$(load_script ports "$here/../core/scripts/rl_gcra.lua")
    a=$(bench_script "${ports[0]}" "$m" "$acq" 2 "bench:lock:{tag}:__rand_int__" "bench:lock:{tag}:__rand_int__:fence" \
        0123456789abcdef0123456789abcdef 30000)
    r=$(bench_script "${ports[0]}" "$m" "$rel" 1 "bench:lock:{tag}:__rand_int__" \
        "1:0123456789abcdef0123456789abcdef")
    bench_lock[$m]=$(awk -v a="$a" -v r="$r" 'BEGIN { printf "%.0f", 1 / (1 / a + 1 / r) }')
    bench_gcra[$m]=$(bench_script "${ports[0]}" "$m" "$gcra" 1 "bench:rl:{tag}:__rand_int__:gcra" \
        1000000000 3600000 1000000000 1 0)

    echo "cluster_m${m}_lock_cycles_per_s=${lock_rate[$m]}"
    echo "cluster_m${m}_bench_lock_acquire_rps=$a"
    echo "cluster_m${m}_bench_lock_release_rps=$r"
    echo "cluster_m${m}_bench_lock_cycles_per_s=${bench_lock[$m]}"
    awk -v m="$m" -v x="${lock_rate[$m]}" -v b="${bench_lock[$m]}" \
        'BEGIN { printf "cluster_m%s_lock_ratio=%.3f\n", m, x / b }'
    echo "cluster_m${m}_gcra_checks_per_s=${gcra_rate[$m]}"
    echo "cluster_m${m}_bench_gcra_rps=${bench_gcra[$m]}"
    awk -v m="$m" -v x="${gcra_rate[$m]}" -v b="${bench_gcra[$m]}" \
        'BEGIN { printf "cluster_m%s_gcra_ratio=%.3f\n", m, x / b }'
    "$here/../tests/cluster/cluster.sh" stop "$dir"
done

if [[ -n ${lock_rate[1]:-} && -n ${lock_rate[3]:-} ]]; then
    awk -v l1="${lock_rate[1]}" -v l3="${lock_rate[3]}" -v g1="${gcra_rate[1]}" -v g3="${gcra_rate[3]}" \
        -v bl1="${bench_lock[1]}" -v bl3="${bench_lock[3]}" -v bg1="${bench_gcra[1]}" -v bg3="${bench_gcra[3]}" 'BEGIN {
        printf "cluster_lock_scaling_1_to_3=%.3f\n", l3 / l1
        printf "cluster_gcra_scaling_1_to_3=%.3f\n", g3 / g1
        printf "cluster_bench_lock_scaling_1_to_3=%.3f\n", bl3 / bl1
        printf "cluster_bench_gcra_scaling_1_to_3=%.3f\n", bg3 / bg1
    }'
fi
