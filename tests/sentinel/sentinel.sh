#!/usr/bin/env bash
# A throwaway Redis Sentinel setup on loopback (docs/SENTINEL.md): one
# master, one replica and three sentinels watching it as "mymaster".
#
#   tests/sentinel/sentinel.sh start DIR [OWNER_PID]
#       starts them on free 127.0.0.1 ports and waits until the replica is in
#       sync and every sentinel knows the master, the replica and the two
#       other sentinels. Prints one line "MASTER REPLICA S1 S2 S3" (ports)
#       and keeps it in DIR/ports. With OWNER_PID, a watchdog stops them
#       once that process has ended.
#   tests/sentinel/sentinel.sh stop DIR
#       stops every server of DIR (and waits until they have exited).
#
# With REDISX_SENTINEL_TLS=CERTS (a folder made by tests/tls/make-certs.sh)
# every server and sentinel serves TLS only (--port 0, server.crt for
# 127.0.0.1, no client certificate required) and replicates and monitors
# over TLS: for rediss+sentinel:// URLs. With REDISX_SENTINEL_PASSWORD=PW
# the sentinels require AUTH PW (requirepass; they use it among themselves
# too), the master and replica none.
#
# The sentinels decide quickly (down-after 2 s, failover timeout 10 s), so
# `SENTINEL FAILOVER mymaster` to any of them switches within seconds.
source "$(dirname "$0")/../../scripts/lib.sh"

tls=${REDISX_SENTINEL_TLS:-}
tls_args=()
cli_tls=()
if [ -n "$tls" ]; then
  tls_args=(--tls-cert-file "$tls/server.crt" --tls-key-file "$tls/server.key" --tls-ca-cert-file "$tls/ca.crt"
    --tls-auth-clients no --tls-replication yes)
  cli_tls=(--tls --cacert "$tls/ca.crt")
fi
cli() { redis-cli "${cli_tls[@]}" "$@"; }
spw=${REDISX_SENTINEL_PASSWORD:-}
scli() { if [ -n "$spw" ]; then REDISCLI_AUTH=$spw cli "$@"; else cli "$@"; fi; }

usage() { echo "usage: $0 start DIR [OWNER_PID] | stop DIR" >&2; exit 2; }

stop_all() { # dir [glob]
  local pidfile pid glob=${2:-*}
  local pids=()
  # A server removes its pid file as it exits: read each once, tolerate it gone.
  for pidfile in "$1"/$glob/redis.pid; do
    pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] || continue
    pids+=("$pid")
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  done
  rm -f "$1"/$glob/redis.pid
  return 0
}

# start_one DIR KIND [args...] -> prints the port. KIND is server or
# sentinel; a sentinel's config file is written (it must be writable: the
# sentinel rewrites it) from the extra lines in $SENTINEL_CONF.
start_one() {
  local dir=$1 kind=$2 port node
  shift 2
  for _ in $(seq 10); do
    port=$(free_port) || return 1
    node=$dir/$kind-$port
    mkdir -p "$node"
    local ok=
    if [ "$kind" = sentinel ]; then
      local ports="port $port"
      [ -n "$tls" ] && ports="port 0
tls-port $port
tls-cert-file $tls/server.crt
tls-key-file $tls/server.key
tls-ca-cert-file $tls/ca.crt
tls-auth-clients no
tls-replication yes"
      printf '%s\nbind 127.0.0.1\ndaemonize yes\npidfile %s\nlogfile %s\ndir %s\n%s\n' \
        "$ports" "$node/redis.pid" "$node/redis.log" "$node" "$SENTINEL_CONF" >"$node/sentinel.conf"
      [ -z "$spw" ] || printf 'requirepass %s\n' "$spw" >>"$node/sentinel.conf"
      redis-server "$node/sentinel.conf" --sentinel >/dev/null && ok=1
    else
      local listen=(--port "$port")
      [ -n "$tls" ] && listen=(--port 0 --tls-port "$port" "${tls_args[@]}")
      redis-server "${listen[@]}" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$node/redis.pid" --dir "$node" --logfile redis.log \
        --repl-diskless-sync-delay 0 --repl-ping-replica-period 1 "$@" >/dev/null && ok=1
    fi
    if [ -n "$ok" ]; then
      for _ in $(seq 200); do
        if [ -s "$node/redis.pid" ] &&
          [ "$(scli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' |
            sed -n 's/^process_id://p')" = "$(cat "$node/redis.pid")" ]; then
          echo "$port"
          return 0
        fi
        sleep 0.05
      done
    fi
    stop_all "$dir" "$kind-$port" # lost a race for the port, or it died: another port
    rm -rf "$node"
  done
  return 1
}

sentinel_ready() { # port master_port
  local addr n
  addr=$(scli -h 127.0.0.1 -p "$1" sentinel get-master-addr-by-name mymaster 2>/dev/null | tr -d '\r' |
    tr '\n' ' ')
  [ "$addr" = "127.0.0.1 $2 " ] || return 1
  n=$(scli -h 127.0.0.1 -p "$1" sentinel replicas mymaster 2>/dev/null | grep -c '^name$')
  [ "$n" -ge 1 ] || return 1
  n=$(scli -h 127.0.0.1 -p "$1" sentinel sentinels mymaster 2>/dev/null | grep -c '^name$')
  [ "$n" -ge 2 ]
}

case ${1:-} in
start)
  [ $# -ge 2 ] || usage
  dir=$2 owner=${3:-}
  mkdir -p "$dir"
  master=$(start_one "$dir" server) || { echo "sentinel.sh: cannot start the master" >&2; exit 1; }
  replica=$(start_one "$dir" server --replicaof 127.0.0.1 "$master") ||
    { stop_all "$dir"; echo "sentinel.sh: cannot start the replica" >&2; exit 1; }
  if [ -n "$owner" ]; then
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
      [ -d "$2" ] && "$3" stop "$2"' watchdog "$owner" "$dir" "$0" </dev/null >/dev/null 2>&1 &
  fi
  ok=
  for _ in $(seq 300); do # the replica's first sync
    if cli -h 127.0.0.1 -p "$master" info replication 2>/dev/null | tr -d '\r' |
      grep -q '^slave0:.*state=online'; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { stop_all "$dir"; echo "sentinel.sh: the replica did not sync in 30 s" >&2; exit 1; }
  SENTINEL_CONF="sentinel monitor mymaster 127.0.0.1 $master 2
sentinel down-after-milliseconds mymaster 2000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 1"
  sentinels=()
  for _ in 1 2 3; do
    s=$(start_one "$dir" sentinel) || { stop_all "$dir"; echo "sentinel.sh: cannot start a sentinel" >&2; exit 1; }
    sentinels+=("$s")
  done
  for s in "${sentinels[@]}"; do
    ok=
    for _ in $(seq 600); do # 60 s: the sentinels find each other through the master's hello channel
      if sentinel_ready "$s" "$master"; then ok=1; break; fi
      sleep 0.1
    done
    [ -n "$ok" ] || { stop_all "$dir"; echo "sentinel.sh: sentinel 127.0.0.1:$s not ready in 60 s" >&2; exit 1; }
  done
  echo "$master $replica ${sentinels[*]}" | tee "$dir/ports"
  ;;
stop)
  [ $# -eq 2 ] || usage
  stop_all "$2"
  rm -rf "$2"
  ;;
*) usage ;;
esac
