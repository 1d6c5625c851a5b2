#!/usr/bin/env bash
# Cross-language interop: separate Python, Node and Go processes contend for
# the same locks on one redis-server.
#  1. While one language holds lock "hold", the other two see it held (their
#     try-acquire is refused) and read the holder's fencing token.
#  2. Each language increments a plain GET/SET counter 300 times under lock
#     "counter", concurrently: the counter ends at exactly 900, and the fencing
#     tokens, recorded in lock order, strictly increase across languages.
# Needs the three packages installed (scripts/test does that): REDISX_PYTHON
# (a python with redisx), REDISX_NODE_PATH (node_modules holding redisx),
# and the Go worker built from tests/interop/go.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib.sh"
python=${REDISX_PYTHON:-python3}
per=${REDISX_INTEROP_N:-300}
unset REDISX_URL
start_redis_if_needed
url=$REDISX_URL
prefix="interop-$$"
gobin=$(mktemp -d)/worker
on_exit 'rm -rf "$(dirname "$gobin")"'
(cd "$here/go" && go build -o "$gobin" .)

run_worker() { # lang args...
  local lang=$1
  shift
  case $lang in
  python) "$python" "$here/worker.py" "$@" ;;
  node) NODE_PATH=${REDISX_NODE_PATH:-} node "$here/worker.js" "$@" ;;
  go) "$gobin" "$@" ;;
  esac
}

fail() { echo "interop: FAIL: $*" >&2; exit 1; }
checks=0

for holder in python node go; do
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  out=$(mktemp)
  run_worker "$holder" hold "$url" "$prefix" <"$fifo" >"$out" &
  pid=$!
  exec 7>"$fifo" # keeps the holder waiting until we write a line
  for _ in $(seq 200); do grep -q '^HELD' "$out" && break; sleep 0.05; done
  fence=$(awk '/^HELD/ {print $2}' "$out")
  [ -n "$fence" ] || fail "$holder did not take the lock: $(cat "$out")"
  for other in python node go; do
    [ "$other" = "$holder" ] && continue
    seen=$(run_worker "$other" probe "$url" "$prefix")
    [ "$seen" = "HELD-BY $fence" ] || fail "$other saw '$seen' while $holder held fencing token $fence"
    checks=$((checks + 1))
    echo "interop: $other sees the lock held by $holder (fencing token $fence)"
  done
  echo >&7
  exec 7>&-
  wait "$pid" || fail "$holder hold worker failed"
  grep -q '^RELEASED' "$out" || fail "$holder did not release"
  rm -f "$fifo" "$out"
done

echo "interop: python, node and go each increment the counter $per times under one lock"
pids=()
for lang in python node go; do
  run_worker "$lang" count "$url" "$prefix" "$per" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a count worker failed"; done

counter=$(redis-cli -u "$url" GET "$prefix:counter")
[ "$counter" = "$((3 * per))" ] || fail "counter is $counter, expected $((3 * per))"
checks=$((checks + 1))
echo "interop: counter = $counter"
redis-cli -u "$url" LRANGE "$prefix:fences" 0 -1 >"$gobin.fences"
"$python" - "$gobin.fences" "$per" <<'PY'
import sys
entries = [l.strip() for l in open(sys.argv[1]) if l.strip()]
per = int(sys.argv[2])
langs = {}
last = 0
for e in entries:
    lang, fence = e.split(":")
    fence = int(fence)
    if fence <= last:
        sys.exit("interop: FAIL: fencing token %d after %d (%s)" % (fence, last, e))
    last = fence
    langs[lang] = langs.get(lang, 0) + 1
if langs != {"python": per, "node": per, "go": per}:
    sys.exit("interop: FAIL: entries per language %r" % langs)
switches = sum(1 for a, b in zip(entries, entries[1:]) if a.split(":")[0] != b.split(":")[0])
if switches < 3:
    sys.exit("interop: FAIL: only %d hand-overs between languages: no real contention" % switches)
print("interop: %d fencing tokens strictly increasing across languages (%d hand-overs between languages)"
      % (len(entries), switches))
PY
checks=$((checks + 1))
echo "$checks passed, 0 failed"
