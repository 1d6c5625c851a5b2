# Shared by bench/run.sh and bench/ratelimit.sh (sourced, not run): one
# server for the whole run, redis-benchmark's CSV, the machine header.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

bench_need_tools() { # tool...
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "bench: $tool not found; install Redis (e.g. the redis-server and redis-tools packages)" >&2
            exit 2
        fi
    done
}

# Starts a throwaway redis-server unless REDISX_URL is set; sets url,
# user_url and conn_args (redis-cli / redis-benchmark connection arguments).
bench_server() {
    user_url=${REDISX_URL:-}
    start_redis_if_needed # stops at exit
    url=$REDISX_URL
    if [[ -z $user_url ]]; then
        conn_args=(-h 127.0.0.1 -p "$REDISX_THROWAWAY_PORT")
    elif [[ $url == unix://* ]]; then
        local sock=${url#unix://}
        conn_args=(-s "${sock%%\?*}")
    else
        conn_args=(-u "$url")
    fi
}

# A column of the first data row of redis-benchmark --csv output (the header
# row names the columns).
csv_field() { # csv-text column
    printf '%s\n' "$1" | tr -d '"\r' | awk -F, -v col="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        c { print $c; found = 1; exit }
        END { if (!found) exit 1 }'
}

run_redis_benchmark() { # args...
    local out
    if ! out=$(redis-benchmark "${conn_args[@]}" --csv "$@"); then
        echo "bench: redis-benchmark $* failed" >&2
        exit 1
    fi
    printf '%s\n' "$out"
}

need() { # value what
    if [[ -z $1 ]] || ! [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
        echo "bench: could not read $2 (got '${1}')" >&2
        exit 1
    fi
}

bench_header() {
    local redis_version cpu
    redis_version=$(redis-cli "${conn_args[@]}" info server | tr -d '\r' | sed -n 's/^redis_version://p')
    cpu=$({ grep -m1 -E '^(model name|Model|cpu model)[[:space:]]*:' /proc/cpuinfo || true; } | cut -d: -f2- |
        sed 's/^[[:space:]]*//')
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu=${cpu:-unknown}"
    echo "cores=$(nproc)"
    echo "redis_version=${redis_version:-unknown}"
}

# usec_per_call of one command in INFO commandstats since the last
# CONFIG RESETSTAT (a script's own redis.call()s are inside its EVALSHA's).
server_us_per_call() { # command (lower case, e.g. evalsha)
    redis-cli "${conn_args[@]}" info commandstats | tr -d '\r' |
        sed -n "s/^cmdstat_$1:.*usec_per_call=\([0-9.]*\).*/\1/p"
}
