#!/usr/bin/env bash
# Each package used the way a service outside this repository would: a fresh
# folder under /tmp, the package installed from its path in the checkout
# (pip, npm, go mod replace; each compiles the core itself), and a few lines
# that take and release a lock on a running redis-server and receive an
# event. tests/packaged/ does the same from the built wheel, tarball and
# module folder.
source "$(dirname "$0")/../../scripts/lib.sh"
unset REDISX_URL
start_redis_if_needed
work=$(mktemp -d /tmp/redisx-outside-XXXXXX)
on_exit 'rm -rf "$work"'
root=$REDISX_ROOT

log "outside: Python (fresh venv, pip install <path>)"
"$(python_for_venv)" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$root/bindings/python" >/dev/null
cat >"$work/app.py" <<'PY'
import sys, redisx
events = []
with redisx.Client.from_url(sys.argv[1], prefix="outside", on_event=events.append) as c:
    with c.lock("job", ttl=5.0, wait=5.0) as lk:
        print("python: fencing token", lk.fencing_token)
assert any(e.operation == "acquire" and e.ok for e in events), events
PY
(cd "$work" && "$work/venv/bin/python" app.py "$REDISX_URL") | tee -a "$work/tokens"

log "outside: Node (npm install <path>)"
mkdir "$work/node" && cd "$work/node"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$root/bindings/node" >/dev/null
cat >app.js <<'JS'
const { Client } = require('redisx');
(async () => {
  const events = [];
  const c = Client.fromUrl(process.argv[2], { prefix: 'outside', onEvent: (e) => events.push(e) });
  await c.withLock('job', { ttl: 5000, wait: 5000 }, async (lk) => console.log('node: fencing token', lk.fencingToken));
  await c.close();
  if (!events.some((e) => e.operation === 'acquire')) throw new Error('no acquire event');
})().catch((e) => { console.error(e); process.exit(1); });
JS
node app.js "$REDISX_URL" | tee -a "$work/tokens"

log "outside: Go (go mod replace <path>)"
mkdir "$work/go" && cd "$work/go"
go mod init outside >/dev/null 2>&1
go mod edit -require=github.com/redisx/redisx/bindings/go@v0.0.0 -replace=github.com/redisx/redisx/bindings/go="$root/bindings/go"
cat >main.go <<'GO'
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func main() {
	var events atomic.Int64
	c, err := redisx.Open(os.Args[1], redisx.WithPrefix("outside"),
		redisx.WithEventHandler(func(redisx.Event) { events.Add(1) }))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	lk, err := c.Lock(ctx, "job", 5*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println("go: fencing token", lk.FencingToken())
	if err := lk.Release(ctx); err != nil {
		panic(err)
	}
	c.Close()
	if events.Load() == 0 {
		panic("no events")
	}
}
GO
go run . "$REDISX_URL" | tee -a "$work/tokens"
# Three tokens, strictly increasing across the languages; the server keeps the
# last one (with an expiry: contract v2 leaves no permanent key per name).
read -r -a tokens <<<"$(awk '/fencing token/ {printf "%s ", $NF}' "$work/tokens")"
[ "${#tokens[@]}" = 3 ] && [ "${tokens[0]}" -lt "${tokens[1]}" ] && [ "${tokens[1]}" -lt "${tokens[2]}" ] ||
  { echo "outside: expected 3 increasing fencing tokens, got ${tokens[*]}"; exit 1; }
last=$(redis-cli -u "$REDISX_URL" GET "outside:lock:{job}:fence")
[ "$last" = "${tokens[2]}" ] || { echo "outside: the server remembers $last, the last token was ${tokens[2]}"; exit 1; }
[ "$(redis-cli -u "$REDISX_URL" PTTL "outside:lock:{job}:fence")" -gt 0 ] ||
  { echo "outside: the fence key of lock job does not expire"; exit 1; }
echo "outside: python, node and go each took and released the lock from outside the repository (3 increasing tokens)"
