#!/usr/bin/env bash
# A throwaway Redis Cluster on loopback for the language suites (the C suites
# have the same in tests/c/harness.c, rt_cluster_start):
#
#   tests/cluster/cluster.sh start DIR MASTERS REPLICAS [OWNER_PID]
#       (MASTERS >= 1; fewer than 3 only with REPLICAS 0)
#       starts MASTERS * (1 + REPLICAS) cluster-enabled redis-servers on free
#       127.0.0.1 ports, joins them (redis-cli --cluster create), and waits
#       until every node says cluster_state:ok, knows every node and lists
#       every replica in CLUSTER SLOTS. Prints the ports on one line (the
#       first MASTERS are the masters) and keeps them in DIR/ports. With
#       OWNER_PID, a watchdog stops the nodes once that process has ended, so
#       a test run that dies leaves nothing behind.
#   tests/cluster/cluster.sh stop DIR
#       stops every node of DIR (and waits until they have exited).
#
# With REDISX_CLUSTER_TLS=CERTS (a folder made by tests/tls/make-certs.sh)
# every node serves TLS only (--port 0, the printed ports are TLS ports,
# server.crt for 127.0.0.1, no client certificate required) and speaks TLS
# on the cluster bus and for replication too (--tls-cluster yes
# --tls-replication yes): for rediss+cluster:// URLs. A node dials its peers
# as a TLS client with client.crt (server.crt is for serverAuth only), as
# the C harness's nodes do (docs/CLUSTER.md). redis-cli joins and checks the
# nodes with --tls --cacert CERTS/ca.crt.
source "$(dirname "$0")/../../scripts/lib.sh"

tls=${REDISX_CLUSTER_TLS:-}
cli_tls=()
[ -z "$tls" ] || cli_tls=(--tls --cacert "$tls/ca.crt")
cli() { redis-cli "${cli_tls[@]}" "$@"; }

usage() { echo "usage: $0 start DIR MASTERS REPLICAS [OWNER_PID] | stop DIR" >&2; exit 2; }

stop_nodes() { # dir [node-glob]
  local pidfile pid glob=${2:-node-*}
  for pidfile in "$1"/$glob/redis.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
  done
  for pidfile in "$1"/$glob/redis.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    rm -f "$pidfile"
  done
  return 0
}

start_node() { # dir -> prints the port
  local dir=$1 port node listen
  for _ in $(seq 10); do
    port=$(free_port) || return 1
    node=$dir/node-$port
    mkdir -p "$node"
    listen=(--port "$port")
    [ -z "$tls" ] || listen=(--port 0 --tls-port "$port" --tls-cert-file "$tls/server.crt"
      --tls-key-file "$tls/server.key" --tls-ca-cert-file "$tls/ca.crt" --tls-auth-clients no
      --tls-cluster yes --tls-replication yes
      --tls-client-cert-file "$tls/client.crt" --tls-client-key-file "$tls/client.key")
    if redis-server "${listen[@]}" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$node/redis.pid" --dir "$node" --logfile redis.log \
      --cluster-enabled yes --cluster-config-file "$node/nodes.conf" --cluster-node-timeout 5000 \
      --repl-diskless-sync-delay 0 --repl-ping-replica-period 1 >/dev/null; then
      for _ in $(seq 200); do
        if [ -s "$node/redis.pid" ] &&
          [ "$(cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' |
            sed -n 's/^process_id://p')" = "$(cat "$node/redis.pid")" ]; then
          echo "$port"
          return 0
        fi
        sleep 0.05
      done
    fi
    stop_nodes "$dir" "node-$port" # lost a race for the port, or the server died: another port
    rm -rf "$node"
  done
  return 1
}

node_ready() { # port nodes masters replicas
  local info slots
  info=$(cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r') || return 1
  grep -qx 'cluster_state:ok' <<<"$info" || return 1
  grep -qx "cluster_known_nodes:$2" <<<"$info" || return 1
  # CLUSTER SLOTS: MASTERS ranges (or more), each with 2 + 1 + REPLICAS fields
  slots=$(cli -h 127.0.0.1 -p "$1" --json cluster slots 2>/dev/null) || return 1
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); m,k=int(sys.argv[2]),int(sys.argv[3]);
sys.exit(0 if len(r)>=m and all(len(x)==3+k for x in r) else 1)' "$slots" "$3" "$4"
}

case ${1:-} in
start)
  [ $# -ge 4 ] || usage
  dir=$2 masters=$3 replicas=$4 owner=${5:-}
  [[ $masters =~ ^[0-9]+$ && $replicas =~ ^[0-9]+$ && $masters -ge 1 ]] || usage
  # redis-cli --cluster create wants 3 masters; 1 or 2 (benchmarks' scaling
  # runs) are joined by hand, without replicas.
  [[ $masters -ge 3 || $replicas -eq 0 ]] || { echo "cluster.sh: fewer than 3 masters take no replicas" >&2; exit 2; }
  for f in ca.crt server.crt server.key client.crt client.key; do # stop needs none of them
    [ -z "$tls" ] || [ -r "$tls/$f" ] ||
      { echo "cluster.sh: REDISX_CLUSTER_TLS=$tls has no $f (tests/tls/make-certs.sh)" >&2; exit 2; }
  done
  mkdir -p "$dir"
  total=$((masters * (1 + replicas)))
  ports=()
  for _ in $(seq "$total"); do
    port=$(start_node "$dir") || { stop_nodes "$dir"; echo "cluster.sh: cannot start a node" >&2; exit 1; }
    ports+=("$port")
  done
  if [ -n "$owner" ]; then
    # A session of its own, so a signal to the tests' process group spares it.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
      [ -d "$2" ] && "$3" stop "$2"' watchdog "$owner" "$dir" "$0" </dev/null >/dev/null 2>&1 &
  fi
  addrs=()
  for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
  if [ "$masters" -lt 3 ]; then
    for i in "${!ports[@]}"; do # slots split evenly, the nodes introduced to the first
      lo=$((16384 * i / masters)) hi=$((16384 * (i + 1) / masters - 1))
      cli -h 127.0.0.1 -p "${ports[$i]}" cluster addslotsrange "$lo" "$hi" >>"$dir/create.log" 2>&1
      [ "$i" -eq 0 ] || cli -h 127.0.0.1 -p "${ports[$i]}" cluster meet 127.0.0.1 "${ports[0]}" \
        >>"$dir/create.log" 2>&1
    done
  elif ! cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes \
    >"$dir/create.log" 2>&1; then
    cat "$dir/create.log" >&2
    stop_nodes "$dir"
    echo "cluster.sh: redis-cli --cluster create failed" >&2
    exit 1
  fi
  for p in "${ports[@]}"; do
    ok=
    for _ in $(seq 600); do # 60 s: gossip and the replicas' first sync
      if node_ready "$p" "$total" "$masters" "$replicas"; then ok=1; break; fi
      sleep 0.1
    done
    [ -n "$ok" ] || { stop_nodes "$dir"; echo "cluster.sh: node 127.0.0.1:$p not ready in 60 s" >&2; exit 1; }
  done
  # redis-cli --cluster create makes the first MASTERS addresses the masters.
  echo "${ports[*]}" | tee "$dir/ports"
  ;;
stop)
  [ $# -eq 2 ] || usage
  stop_nodes "$2"
  rm -rf "$2"
  ;;
*) usage ;;
esac
