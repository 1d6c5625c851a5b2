#!/usr/bin/env bash
# Cross-language streams: Go produces N messages (REDISX_INTEROP_STREAM_N,
# default 20000; e.g. 100000 for the issue's figure) into one stream while a
# Python and a Node consumer share its group "g" (each handler HINCRBYs a
# hash by the message id, then the message is acked). The Python consumer is
# killed with SIGKILL mid-run and a fresh one started; its unacked messages
# are reclaimed by the live consumers after the min idle time (3 s).
# In the end: every id handled (0 lost), nothing pending (every id acked),
# nothing dead-lettered, the group has read every entry; duplicates (handled
# but not acked when the process died) are counted, printed, and at most the
# killed consumer's in-flight limit (32).
# Then a message Go published is dead-lettered by Node and requeued (and
# consumed again) by Python: the requeued entry carries rx-requeued-from.
#
#   tests/interop/streams.sh [URL PREFIX]
#
# run.sh calls it with its server and prefix; alone it starts a throwaway
# redis-server. Same environment as run.sh: REDISX_PYTHON, REDISX_NODE_PATH,
# REDISX_GO_MODULE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib.sh"
python=${REDISX_PYTHON:-python3}
n=${REDISX_INTEROP_STREAM_N:-20000}
in_flight=32
if [ $# -ge 2 ]; then
  url=$1 prefix=$2
else
  unset REDISX_URL
  start_redis_if_needed
  url=$REDISX_URL prefix="interop-streams-$$"
fi
case $url in
redis+cluster://*)
  first=${url#redis+cluster://}
  first=${first%%,*}
  rcli() { redis-cli -c -h "${first%%:*}" -p "${first##*:}" "$@"; }
  ;;
*) rcli() { redis-cli -u "$url" "$@"; } ;;
esac

work=$(mktemp -d)
on_exit 'rm -rf "$work"'
gosrc=$here/go
if [ -n "${REDISX_GO_MODULE:-}" ]; then
  gosrc=$work/gosrc
  cp -r "$here/go" "$gosrc"
  (cd "$gosrc" && go mod edit -replace="github.com/redisx/redisx/bindings/go=$REDISX_GO_MODULE")
fi
(cd "$gosrc" && go build -o "$work/goworker" .)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
on_exit cleanup
fail() { echo "interop: FAIL: $*" >&2; exit 1; }
stream=interop
skey="$prefix:stream:{$stream}"
handled_key="$prefix:stream-handled"

start_consumer() { # lang out
  case $1 in
  python) "$python" "$here/worker.py" stream-consume "$url" "$prefix" "$stream" >"$2" 2>&1 &
    ;;
  node) NODE_PATH=${REDISX_NODE_PATH:-} node "$here/worker.js" stream-consume "$url" "$prefix" "$stream" >"$2" 2>&1 &
    ;;
  esac
  pids+=($!)
  last_pid=$!
}

wait_for() { # seconds description command...
  local secs=$1 what=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $end ] || fail "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}
handled_at_least() { [ "$(rcli HLEN "$handled_key")" -ge "$1" ]; }
group_exists() { rcli XINFO GROUPS "$skey" 2>/dev/null | grep -qx g; }

log "streams: go produces $n messages, python and node consume in one group, python is SIGKILLed mid-run"
"$work/goworker" stream-produce "$url" "$prefix" "$stream" "$n" >"$work/produce.out" 2>&1 &
producer=$!
pids+=($producer)
wait_for 60 "the group" group_exists
start_consumer python "$work/py1.out"
victim=$last_pid
start_consumer node "$work/node.out"
node_pid=$last_pid
wait_for 300 "a quarter of the messages handled" handled_at_least $((n / 4))
kill -9 "$victim"
wait "$victim" 2>/dev/null || true
killed_at=$(rcli HLEN "$handled_key")
echo "interop: python consumer SIGKILLed with $killed_at of $n handled; starting a new one"
start_consumer python "$work/py2.out"
py2=$last_pid
wait "$producer" || fail "the go producer failed: $(cat "$work/produce.out")"
grep -qx "PUBLISHED $n" "$work/produce.out" || fail "producer: $(cat "$work/produce.out")"
all_done() { [ "$(rcli HLEN "$handled_key")" -ge "$n" ] && [ "$(rcli XPENDING "$skey" g | head -1)" = 0 ]; }
wait_for 600 "every message handled and acked" all_done
rcli SET "$prefix:stream-stop" 1 >/dev/null
wait "$py2" || fail "the second python consumer failed: $(cat "$work/py2.out")"
wait "$node_pid" || fail "the node consumer failed: $(cat "$work/node.out")"

distinct=$(rcli HLEN "$handled_key")
total=$(rcli HVALS "$handled_key" | awk '{s += $1} END {print s}')
pending=$(rcli XPENDING "$skey" g | head -1)
dlq=$(rcli XLEN "$skey:dlq")
read_count=$(rcli XINFO GROUPS "$skey" | awk 'prev == "entries-read" {print; exit} {prev = $0}')
dups=$((total - distinct))
[ "$distinct" = "$n" ] || fail "$distinct distinct messages handled of $n: some were lost"
[ "$pending" = 0 ] || fail "$pending messages still pending"
[ "$dlq" = 0 ] || fail "$dlq messages dead-lettered"
[ "$read_count" = "$n" ] || fail "the group read $read_count entries of $n"
[ "$dups" -le "$in_flight" ] || fail "$dups duplicates: more than the killed consumer's in-flight limit ($in_flight)"
echo "interop: streams: $n of $n handled and acked, 0 lost, 0 pending, 0 dead-lettered; $dups duplicate(s) from the killed consumer (limit $in_flight)"
echo "interop: streams: after the kill, the new python consumer handled $(sed -n 's/^HANDLED //p' "$work/py2.out"), node $(sed -n 's/^HANDLED //p' "$work/node.out") in all"

# ---- a message dead-lettered by node is requeued by python ---------------------
dstream=interop-dlq
dkey="$prefix:stream:{$dstream}"
"$work/goworker" stream-produce "$url" "$prefix" "$dstream" 1 | grep -qx "PUBLISHED 1" || fail "go could not publish to $dstream"
dead=$(NODE_PATH=${REDISX_NODE_PATH:-} node "$here/worker.js" stream-deadletter "$url" "$prefix" "$dstream") ||
  fail "node could not dead-letter: $dead"
dead_id=${dead#DEAD }
[ "$(rcli XLEN "$dkey:dlq")" = 1 ] || fail "node's dead-letter is not in the DLQ"
req=$("$python" "$here/worker.py" stream-requeue "$url" "$prefix" "$dstream") || fail "python could not requeue: $req"
read -r word orig new got n reason <<<"$req"
[ "$word $orig $reason" = "REQUEUED $dead_id node_gave_up" ] || fail "python saw '$req' for node's dead-letter of $dead_id"
[ "$new" = "$got" ] && [ "$n" = 0 ] || fail "python consumed $got (payload n=$n), requeued as $new"
[ "$(rcli XRANGE "$dkey" "$new" "$new" | sed -n 2p)" = rx-requeued-from ] || fail "the requeued entry has no rx-requeued-from"
[ "$(rcli XRANGE "$dkey" "$new" "$new" | sed -n 3p)" = "$dead_id" ] || fail "rx-requeued-from is not $dead_id"
[ "$(rcli XLEN "$dkey:dlq")" = 0 ] && [ "$(rcli XPENDING "$dkey" g | head -1)" = 0 ] || fail "DLQ or pending not empty after the requeue"
echo "interop: streams: go's message $dead_id dead-lettered by node, requeued by python as $new and consumed again"
