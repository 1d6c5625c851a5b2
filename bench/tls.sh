#!/usr/bin/env bash
# redisx over TLS next to redis-benchmark --tls, against ONE throwaway
# redis-server (started here, loopback only, with certificates made here by
# the openssl CLI) that serves a plain and a TLS port.
#
#   bench/tls.sh [build-dir]        (default ./build; builds nothing)
#
# Expects build-dir/bench/redisx_tls_bench (REDISX_BUILD_BENCH=ON, a build
# with TLS). Prints `name=value` lines, among them
#   tls_set_seq_latency_ratio   = p50 of a blocking SET through redisx_command()
#                                 over rediss:// / p50 of redis-benchmark --tls
#                                 -c 1 -n N -t set (run before and after redisx;
#                                 their mean)
#   plain_set_seq_latency_ratio = the same over plain TCP on the same server
#   tls_set_seq_mean_ratio      = the same with means (redis-benchmark's
#                                 avg_latency_ms): its p50 comes in steps of
#                                 about 8 µs, which the loopback round trip is
#                                 only two or three of
# Figures only; it never judges them. Optional: REDISX_BENCH_TLS_CALLS (20000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

build_dir=${1:-./build}
bench_bin=$build_dir/bench/redisx_tls_bench
calls=${REDISX_BENCH_TLS_CALLS:-20000}

bench_need_tools redis-server redis-benchmark redis-cli openssl
if [[ ! -x $bench_bin ]]; then
    echo "tls.sh: $bench_bin not found; build it first (cmake -DREDISX_BUILD_BENCH=ON)" >&2
    exit 2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-tls-bench-XXXXXX")
pid=
stop_tls_server() {
    if [[ -n $pid ]] && pid_alive "$pid"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    fi
    rm -rf "$dir"
}
on_exit stop_tls_server

"$REDISX_ROOT/tests/tls/make-certs.sh" "$dir" || exit 1

started=
for _ in $(seq 10); do
    plain_port=$(free_port)
    tls_port=$(free_port)
    [[ $plain_port != "$tls_port" ]] || continue
    if redis-server --port "$plain_port" --tls-port "$tls_port" --bind 127.0.0.1 --save '' --appendonly no \
        --tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key" --tls-ca-cert-file "$dir/ca.crt" \
        --tls-auth-clients no --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" \
        --logfile "$dir/redis.log" >/dev/null; then
        for _ in $(seq 100); do
            [[ -s $dir/redis.pid ]] && pid=$(cat "$dir/redis.pid")
            if [[ -n $pid ]] && redis-cli -h 127.0.0.1 -p "$plain_port" ping 2>/dev/null | grep -q PONG; then
                started=1
                break 2
            fi
            sleep 0.05
        done
    fi
done
[[ -n $started ]] || { echo "tls.sh: could not start a TLS redis-server" >&2; cat "$dir/redis.log" >&2 || true; exit 1; }
conn_args=(-h 127.0.0.1 -p "$plain_port")
bench_header
echo "tls_version=$(openssl version | cut -d' ' -f2)"

tls_args=(--tls --cacert "$dir/ca.crt" -h 127.0.0.1 -p "$tls_port")
rb_latency_us() { # redis-benchmark connection args...: "p50 mean" in µs
    local csv p50 avg
    csv=$(redis-benchmark "$@" --csv -c 1 -n "$calls" -t set) || { echo "tls.sh: redis-benchmark failed" >&2; exit 1; }
    p50=$(csv_field "$csv" p50_latency_ms || true)
    avg=$(csv_field "$csv" avg_latency_ms || true)
    need "$p50" "p50_latency_ms of redis-benchmark $*"
    need "$avg" "avg_latency_ms of redis-benchmark $*"
    awk -v p="$p50" -v a="$avg" 'BEGIN { printf "%.1f %.1f\n", p * 1000, a * 1000 }'
}

read -r rb_tls_1 rb_tls_mean_1 < <(rb_latency_us "${tls_args[@]}")
read -r rb_plain_1 rb_plain_mean_1 < <(rb_latency_us "${conn_args[@]}")
out=$("$bench_bin" "$dir/ca.crt" "rediss://127.0.0.1:$tls_port" "redis://127.0.0.1:$plain_port" "$calls")
read -r rb_tls_2 rb_tls_mean_2 < <(rb_latency_us "${tls_args[@]}")
read -r rb_plain_2 rb_plain_mean_2 < <(rb_latency_us "${conn_args[@]}")
echo "$out"
value() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
tls_p50=$(value redisx_tls_set_seq_p50_us)
tls_mean=$(value redisx_tls_set_seq_mean_us)
plain_p50=$(value redisx_plain_set_seq_p50_us)
need "$tls_p50" redisx_tls_set_seq_p50_us
need "$tls_mean" redisx_tls_set_seq_mean_us
need "$plain_p50" redisx_plain_set_seq_p50_us
echo "redis_benchmark_tls_set_c1_p50_us=$rb_tls_1,$rb_tls_2"
echo "redis_benchmark_tls_set_c1_mean_us=$rb_tls_mean_1,$rb_tls_mean_2"
echo "redis_benchmark_plain_set_c1_p50_us=$rb_plain_1,$rb_plain_2"
awk -v t="$tls_p50" -v p="$plain_p50" -v t1="$rb_tls_1" -v t2="$rb_tls_2" -v p1="$rb_plain_1" -v p2="$rb_plain_2" \
    -v tm="$tls_mean" -v m1="$rb_tls_mean_1" -v m2="$rb_tls_mean_2" \
    'BEGIN {
        printf "tls_set_seq_latency_ratio=%.2f\n", t / ((t1 + t2) / 2)
        printf "tls_set_seq_mean_ratio=%.2f\n", tm / ((m1 + m2) / 2)
        printf "plain_set_seq_latency_ratio=%.2f\n", p / ((p1 + p2) / 2)
        printf "redisx_tls_overhead_us=%.1f\n", t - p
    }'
