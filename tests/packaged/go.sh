#!/usr/bin/env bash
# The Go module as a user gets it: the module folder alone (bindings/go, as
# in the module zip `go get` fetches; not the checkout), required by a fresh
# program through a replace, built offline (GOPROXY=off) with a `swig` and a
# `pkg-config redisx` on PATH that fail when called, then again through
# `go mod vendor` and -mod=vendor. Each binary takes a lock, checks a rate
# limit and makes an idempotency round trip against a throwaway redis-server,
# and must not need libredisx (nor libhiredis, libssl or libcrypto: they are
# linked statically); the first also makes them over rediss:// against a
# TLS-only redis-server, with a CA the openssl CLI makes.
# Then `go get MODULE@vX.Y.Z` from a file proxy that holds the module zip
# the go tool would make from the tag (the folder plus the root LICENSE),
# extracted read-only into a module cache, as from proxy.golang.org.
# CGO_ENABLED=0, another platform and a machine without hiredis or OpenSSL
# must fail with messages that name cgo, Linux, libhiredis-dev and
# libssl-dev.
#
#   tests/packaged/go.sh
source "$(dirname "$0")/../../scripts/lib.sh"
set -euo pipefail
module=github.com/redisx/redisx/bindings/go

for tool in go cc readelf openssl redis-server redis-cli; do
  command -v "$tool" >/dev/null 2>&1 || { echo "packaged/go: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/redisx-packaged-go-XXXXXX")
on_exit 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"'

# Offline, no toolchain switch, a build cache of its own (nothing from an
# earlier in-tree build is reused), and tools that must not be needed.
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOSUMDB=off
export GOCACHE=$work/gocache GOMODCACHE=$work/gomodcache
mkdir -p "$work/shims"
cat >"$work/shims/swig" <<'SH'
#!/bin/sh
echo "packaged/go: swig was called ($*): the module must build without SWIG" >&2
exit 97
SH
real_pkg_config=$(command -v pkg-config || true)
cat >"$work/shims/pkg-config" <<SH
#!/bin/sh
case " \$* " in *redisx*) echo "packaged/go: pkg-config was asked for redisx (\$*): the module must not use libredisx" >&2; exit 97;; esac
[ -n "$real_pkg_config" ] && exec "$real_pkg_config" "\$@"
exit 1
SH
chmod +x "$work/shims/swig" "$work/shims/pkg-config"
export PATH="$work/shims:$PATH"

log "packaged/go: the module folder alone"
# What a module zip holds: the folder without what generate.sh installs.
mkdir "$work/module"
# redisxprom and redisxotel are modules of their own: a module zip leaves nested modules out.
tar -C "$REDISX_ROOT/bindings/go" --exclude=./.swig-venv --exclude=./redisxprom --exclude=./redisxotel -cf - . | tar -C "$work/module" -xf -
if links=$(find "$work/module" -type l) && [ -n "$links" ]; then
  echo "packaged/go: symbolic links in the module (a module zip drops them):" >&2
  echo "$links" >&2
  exit 1
fi
chmod -R a-w "$work/module" # a build must not write into the module (the module cache is read-only)

mkdir "$work/app"
cd "$work/app"
go mod init example.com/app >/dev/null 2>&1
go mod edit -require="$module@v0.0.0" -replace="$module=$work/module"
cat >main.go <<'GO'
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func check(ok bool, format string, args ...any) {
	if !ok {
		fmt.Fprintf(os.Stderr, "packaged app: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := "packaged-go-" + strconv.Itoa(os.Getpid()) + "-" + os.Args[2]
	opts := []redisx.Option{redisx.WithPrefix(prefix)}
	if ca := os.Getenv("PACKAGED_TLS_CA"); ca != "" { // for a rediss:// URL
		opts = append(opts, redisx.WithTLSCAFile(ca))
	}
	c, err := redisx.Open(os.Args[1], opts...)
	check(err == nil, "open: %v", err)
	defer c.Close()

	lk, err := c.Lock(ctx, "job", 5*time.Second)
	check(err == nil, "lock: %v", err)
	check(lk.FencingToken() > 0, "fencing token %d", lk.FencingToken())
	_, err = c.TryLock(ctx, "job", 5*time.Second)
	check(err != nil, "a second holder got the lock")
	check(lk.Release(ctx) == nil, "release")

	l, err := c.NewLimiter("api", redisx.FixedWindow, 2, time.Minute)
	check(err == nil, "limiter: %v", err)
	for i, want := range []bool{true, true, false} {
		res, err := l.Check(ctx, "user:1")
		check(err == nil, "check %d: %v", i, err)
		check(res.Allowed == want, "check %d: allowed=%v, want %v", i, res.Allowed, want)
	}

	fp := []byte("POST /orders {}")
	rec, err := c.BeginIdempotent(ctx, "order:1", fp, 30*time.Second, 0)
	check(err == nil, "begin: %v", err)
	check(rec.State() == redisx.IdemNew, "first begin: %v", rec.State())
	check(rec.Complete(ctx, []byte("created\x0042"), []byte(`{"status":201}`), time.Minute) == nil, "complete")
	again, err := c.BeginIdempotent(ctx, "order:1", fp, 30*time.Second, 0)
	check(err == nil, "second begin: %v", err)
	check(again.State() == redisx.IdemCompleted, "second begin: %v", again.State())
	check(bytes.Equal(again.Response(), []byte("created\x0042")), "replayed %q", again.Response())

	fmt.Printf("packaged go (%s): lock token %d, rate limit 2/min denied the third, idempotent response replayed\n",
		os.Args[2], lk.FencingToken())
}
GO

no_libredisx() { # binary
  local needed
  needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  if grep -q 'redisx\|hiredis\|libssl\|libcrypto' <<<"$needed"; then
    echo "packaged/go: $1 needs a shared redisx/hiredis/OpenSSL library:" >&2
    echo "$needed" >&2
    exit 1
  fi
  echo "packaged/go: $(basename "$1") NEEDED: $(echo $needed)"
}

unset REDISX_URL
start_redis_if_needed

start_tls_redis "$work/tls"
tls_url=$TLS_REDIS_URL

log "packaged/go: go build (replace, offline, no swig, no libredisx)"
go build -o app .
no_libredisx app
./app "$REDISX_URL" mod
PACKAGED_TLS_CA=$TLS_REDIS_CA ./app "$tls_url" mod-tls

log "packaged/go: go mod vendor, go build -mod=vendor"
go mod vendor
vendored=vendor/$module/internal/capi
for f in capi_wrap.c core-conn.c core-scripts.c include/redisx/redisx.h; do
  [ -f "$vendored/$f" ] || { echo "packaged/go: go mod vendor left out $f" >&2; exit 1; }
done
go build -mod=vendor -o app-vendor .
no_libredisx app-vendor
./app-vendor "$REDISX_URL" vendor
rm -rf vendor

log "packaged/go: go get from a module proxy (file://, the zip of the folder + LICENSE)"
# The version the module carries: its copy of version.h (the tag is
# bindings/go/v<that>).
version=v$(sed -n 's/^#define REDISX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$work/module/internal/capi/include/redisx/version.h" | paste -sd.)
proxy=$work/proxy/$module/@v
mkdir -p "$proxy" "$work/zipper"
echo "$version" >"$proxy/list"
printf '{"Version":"%s","Time":"2026-01-01T00:00:00Z"}\n' "$version" >"$proxy/$version.info"
cp "$work/module/go.mod" "$proxy/$version.mod"
# For a module in a subdirectory without a LICENSE, the go tool's zip
# carries the repository root's (cmd/go/internal/modfetch/coderepo.go).
[ -f "$REDISX_ROOT/LICENSE" ] || { echo "packaged/go: no LICENSE at the repository root" >&2; exit 1; }
cat >"$work/zipper/main.go" <<'GO'
// Writes a module zip: every regular file of DIR under MODULE@VERSION/.
package main

import (
	"archive/zip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	dir, prefix, license, out := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	f, err := os.Create(out)
	if err != nil {
		panic(err)
	}
	zw := zip.NewWriter(f)
	add := func(name, path string) {
		w, err := zw.Create(prefix + "/" + name)
		if err != nil {
			panic(err)
		}
		r, err := os.Open(path)
		if err != nil {
			panic(err)
		}
		defer r.Close()
		if _, err := io.Copy(w, r); err != nil {
			panic(err)
		}
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		add(filepath.ToSlash(rel), path)
		return nil
	})
	if err != nil {
		panic(err)
	}
	add("LICENSE", license)
	if err := zw.Close(); err != nil {
		panic(err)
	}
	f.Close()
}
GO
(cd "$work/zipper" && go mod init zipper >/dev/null 2>&1 && go run . "$work/module" "$module@$version" "$REDISX_ROOT/LICENSE" "$proxy/$version.zip")
mkdir "$work/app-get"
cp main.go "$work/app-get/"
(
  cd "$work/app-get"
  go mod init example.com/app >/dev/null 2>&1
  GOPROXY=file://$work/proxy GOFLAGS= go get "$module@$version"
  grep -q "$module $version" go.mod
  [ -f "$GOMODCACHE/$module@$version/LICENSE" ] || { echo "packaged/go: no LICENSE in the module" >&2; exit 1; }
  go build -o app .
  no_libredisx app
  ./app "$REDISX_URL" "go-get-$version"
)

log "packaged/go: CGO_ENABLED=0 fails naming cgo"
if CGO_ENABLED=0 go build -o app-nocgo . >"$work/nocgo.log" 2>&1; then
  echo "packaged/go: CGO_ENABLED=0 go build succeeded" >&2
  exit 1
fi
grep -q 'redisx_needs_cgo' "$work/nocgo.log" || { cat "$work/nocgo.log" >&2; echo "packaged/go: no cgo message" >&2; exit 1; }
grep 'redisx_needs_cgo' "$work/nocgo.log"

log "packaged/go: a platform other than Linux is refused with a message"
# No cross compiler here: a compiler that does not define __linux__ stands
# in for another platform's.
if CGO_CFLAGS=-U__linux__ go build -o app-other . >"$work/other.log" 2>&1; then
  echo "packaged/go: a build without __linux__ succeeded" >&2
  exit 1
fi
grep -q 'redisx supports Linux only' "$work/other.log" || { cat "$work/other.log" >&2; echo "packaged/go: no platform message" >&2; exit 1; }
grep -m1 'redisx supports Linux only' "$work/other.log"

log "packaged/go: without hiredis' headers the build names libhiredis-dev"
# A copy of the module whose hiredis include directory does not exist stands
# in for a machine without libhiredis-dev.
chmod -R u+w "$work/module"
cp -R "$work/module" "$work/module-nohiredis"
sed -i 's#-I/usr/include/hiredis#-I/nonexistent/hiredis#' "$work/module-nohiredis/internal/capi/cgo.go"
go mod edit -replace="$module=$work/module-nohiredis"
if go build -o app-nohiredis . >"$work/nohiredis.log" 2>&1; then
  echo "packaged/go: a build without hiredis' headers succeeded" >&2
  exit 1
fi
grep -q 'libhiredis-dev' "$work/nohiredis.log" || { cat "$work/nohiredis.log" >&2; echo "packaged/go: no libhiredis-dev message" >&2; exit 1; }
grep -m1 'libhiredis-dev' "$work/nohiredis.log"

log "packaged/go: without OpenSSL's headers the build names libssl-dev"
# They are on the compiler's default path, which a build cannot take away:
# a copy of the module that looks for a header that does not exist stands in
# for a machine without libssl-dev.
cp -R "$work/module" "$work/module-nossl"
sed -i 's#<openssl/ssl.h>#<openssl/nonexistent-ssl.h>#' "$work/module-nossl/internal/capi/cgo.go"
grep -q 'nonexistent-ssl.h' "$work/module-nossl/internal/capi/cgo.go" || { echo "packaged/go: cgo.go has no OpenSSL check" >&2; exit 1; }
go mod edit -replace="$module=$work/module-nossl"
if go build -o app-nossl . >"$work/nossl.log" 2>&1; then
  echo "packaged/go: a build without OpenSSL's headers succeeded" >&2
  exit 1
fi
grep -q 'libssl-dev' "$work/nossl.log" || { cat "$work/nossl.log" >&2; echo "packaged/go: no libssl-dev message" >&2; exit 1; }
grep -m1 'libssl-dev' "$work/nossl.log"

log "packaged/go: passed"
