#!/usr/bin/env bash
# The npm package as a user gets it, with nothing of redisx installed:
#
#   tests/packaged/node.sh [DIST [KEEP]]
#
# DIST: where the tarball goes (default build/dist). KEEP: a folder in which
# the tarball stays installed afterwards, for tests/interop
# (REDISX_NODE_PATH=KEEP/node_modules runs the interop test with the package
# as installed, not the in-tree build).
#
# 1. `npm pack` in bindings/node (SWIG >= 4.2 from $SWIG or the package's own
#    venv: packing is the one step that needs it) into DIST; the tarball
#    carries the wrapper, the core's sources, LICENSE, node-addon-api and a
#    linux-x64 prebuild.
# 2. In a fresh folder, `npm install --offline` of the tarball with an empty
#    npm cache, SWIG=/bin/false and a pkg-config that finds nothing: a lock,
#    a rate-limit check and an idempotency round trip against a throwaway
#    redis-server, and a lock over rediss:// against a TLS-only one
#    (certificates from the openssl CLI); the .node the process loaded needs
#    no libredisx, libhiredis, libssl or libcrypto (readelf -d: the core,
#    hiredis and OpenSSL are linked in) and exports only Node-API entry
#    points. Again with --ignore-scripts: the prebuild needs no install step.
# 3. The same tarball, offline again, built from its own sources
#    (REDISX_BUILD_FROM_SOURCE=1): the fallback when no prebuild fits.
#    Without hiredis that build stops with a message naming libhiredis-dev,
#    without OpenSSL's static libraries one naming libssl-dev.
# 4. An unsupported platform is refused at install time with a message (by
#    npm, and by the install step when npm is told to --force).
# 5. `npm install /abs/path/bindings/node` from another folder, on a fresh
#    clone of this checkout's HEAD (npm links the folder; the install step
#    fetches node-addon-api and builds).
source "$(dirname "$0")/../../scripts/lib.sh"
unset REDISX_URL
root=$REDISX_ROOT
dist=${1:-$root/build/dist}
keep=${2:-}
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  keep=$(cd "$keep" && pwd) # before any cd below
fi
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
for tool in npm node readelf nm git openssl redis-cli; do
  command -v "$tool" >/dev/null || { echo "packaged/node: $tool not found" >&2; exit 2; }
done
start_redis_if_needed
work=$(mktemp -d "${TMPDIR:-/tmp}/redisx-packaged-node-XXXXXX")
on_exit 'rm -rf "$work"'

start_tls_redis "$work/tls"
tls_url=$TLS_REDIS_URL
npm_q=(--no-audit --no-fund --loglevel=error)

log "packaged/node: npm pack into $dist"
version=$(sed -n 's/^#define REDISX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$root/ffi/include/redisx/version.h" | paste -sd.)
rm -f "$dist/redisx-$version.tgz"
(cd "$root/bindings/node" && npm pack --pack-destination "$dist" "${npm_q[@]}" >"$work/pack.log" 2>&1) ||
  { tail -n 40 "$work/pack.log"; echo "packaged/node: npm pack failed"; exit 1; }
tarball=$dist/redisx-$version.tgz
[ -f "$tarball" ] || { echo "packaged/node: $tarball not written (package.json's version is not $version?)"; exit 1; }
tar tzf "$tarball" >"$work/contents"
for f in package/LICENSE package/gen/redisx_wrap.cxx package/csrc/SOURCES package/csrc/core/scripts.c \
  package/prebuilds/linux-x64/redisx.node package/node_modules/node-addon-api/napi.h \
  package/opentelemetry.js package/opentelemetry.d.ts package/nestjs.js package/nestjs.d.ts package/lib/nestjs.js; do
  grep -qx "$f" "$work/contents" || { echo "packaged/node: the tarball lacks $f"; exit 1; }
done
if grep -E '^package/(build|\.swig-venv)/' "$work/contents" | head -n 3 | grep .; then
  echo "packaged/node: build output in the tarball"
  exit 1
fi
[ "$(tar xzf "$tarball" -O package/csrc/VERSION)" = "$version" ] || { echo "packaged/node: csrc/VERSION is not $version"; exit 1; }
echo "packaged/node: $(basename "$tarball"), $(wc -l <"$work/contents") files, $(du -k "$tarball" | cut -f1) kB"

# What an app does with the package: the checks of the issue, and which
# .node file the process mapped.
cat >"$work/app.js" <<'JS'
const fs = require('node:fs');
const { Client } = require('redisx');
(async () => {
  const c = Client.fromUrl(process.argv[2], { prefix: `packaged-${process.pid}` });
  try {
    const token = await c.withLock('job', { ttl: 5000, wait: 5000 }, async (lk) => lk.fencingToken);
    if (!(token > 0)) throw new Error(`lock: fencing token ${token}`);
    const lim = c.limiter('api', { algorithm: 'fixed_window', limit: 2, period: 60000 });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await lim.check('user')).allowed);
    if (seen.join() !== 'true,true,false') throw new Error(`rate limit: ${seen}`);
    const first = await c.idempotencyBegin('order-1', 'body', { lease: 5000 });
    if (first.state !== 'NEW') throw new Error(`idempotency: first begin is ${first.state}`);
    await first.complete('receipt-1', null, { ttl: 60000 });
    const again = await c.idempotencyBegin('order-1', 'body', { lease: 5000 });
    if (again.state !== 'COMPLETED' || again.response.toString() !== 'receipt-1') {
      throw new Error(`idempotency: replay is ${again.state} ${again.response}`);
    }
    console.log(`ok: lock (fencing token ${token}), rate limit (${seen}), idempotency (${again.state})`);
    // The OpenTelemetry subpath loads without its optional peers and says
    // what instrument() needs (a linked folder has its devDependencies).
    const { instrument } = require('redisx/opentelemetry');
    let peer = true;
    try {
      require.resolve('@opentelemetry/api', { paths: [require('node:path').dirname(require.resolve('redisx/opentelemetry'))] });
    } catch {
      peer = false;
    }
    if (peer) {
      instrument(c, { meterProvider: false }).uninstrument();
    } else {
      try {
        instrument(c);
        throw new Error('instrument() worked without @opentelemetry/api');
      } catch (e) {
        if (e.code !== 'ERR_INVALID' || !/@opentelemetry\/api/.test(e.message)) throw e;
      }
    }
    console.log(`ok: redisx/opentelemetry (${peer ? 'with' : 'without'} @opentelemetry/api)`);
  } finally {
    await c.close();
  }
  // rediss:// with the test CA: the addon's own OpenSSL does the handshake.
  const t = Client.fromUrl(process.argv[3], {
    prefix: `packaged-${process.pid}`, tls: { caFile: process.argv[4] }, connectTimeout: 10000, commandTimeout: 10000,
  });
  try {
    const token = await t.withLock('job', { ttl: 5000, wait: 5000 }, async (lk) => lk.fencingToken);
    if (!(token > 0)) throw new Error(`tls lock: fencing token ${token}`);
    console.log(`ok: rediss:// lock (fencing token ${token})`);
  } finally {
    await t.close();
  }
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const loaded = [...new Set(maps.map((l) => l.split(/\s+/)[5]).filter((p) => p && p.endsWith('.node')))];
  console.log(`loaded: ${loaded.join(' ')}`);
})().catch((e) => { console.error(e); process.exit(1); });
JS

# A pkg-config that finds nothing (no redisx, no hiredis), SWIG that fails if
# anything calls it, an empty cache and no network.
mkdir -p "$work/empty-pc"
offline_env=(env PKG_CONFIG_LIBDIR="$work/empty-pc" PKG_CONFIG_PATH= SWIG=/bin/false)

check_addon() { # app_dir expected_path_part
  local out node_file
  cp "$work/app.js" "$1/app.js"
  out=$(cd "$1" && node app.js "$REDISX_URL" "$tls_url" "$work/tls/ca.crt") || { echo "$out"; echo "packaged/node: the app failed in $1"; exit 1; }
  echo "$out" | sed 's/^/  /'
  node_file=$(echo "$out" | sed -n 's/^loaded: //p')
  [ -n "$node_file" ] && [ "${node_file#* }" = "$node_file" ] || { echo "packaged/node: loaded .node files: '$node_file'"; exit 1; }
  case $node_file in *"$2"*) ;; *) echo "packaged/node: loaded $node_file, expected one under $2"; exit 1 ;; esac
  if readelf -d "$node_file" | grep NEEDED | grep -Ei 'redisx|hiredis|libssl|libcrypto'; then
    echo "packaged/node: $node_file needs the libraries above"
    exit 1
  fi
  nm -D --defined-only "$node_file" | awk '{print $3}' | sort >"$work/exports"
  if grep -Ev '^(napi_register_module_v1|node_api_module_get_api_version_v1)$' "$work/exports" | head -n 5 | grep .; then
    echo "packaged/node: $node_file exports more than its Node-API entry points"
    exit 1
  fi
  echo "  $node_file: NEEDED $(readelf -d "$node_file" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | paste -sd' ')"
}

log "packaged/node: npm install --offline <tarball> (empty cache): the prebuild"
mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
"${offline_env[@]}" npm install --cache "$work/cache" --offline "${npm_q[@]}" "$tarball" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "packaged/node: offline install of the tarball failed"; exit 1; }
[ ! -e node_modules/redisx/build ] || { echo "packaged/node: the install built the addon although the prebuild fits"; exit 1; }
check_addon "$work/app" node_modules/redisx/prebuilds/linux-x64/redisx.node

log "packaged/node: npm install --offline --ignore-scripts <tarball>: the prebuild needs no install step"
mkdir "$work/app-noscripts" && cd "$work/app-noscripts"
npm init -y >/dev/null
"${offline_env[@]}" npm install --ignore-scripts --cache "$work/cache" --offline "${npm_q[@]}" "$tarball" \
  >"$work/install-noscripts.log" 2>&1 || { cat "$work/install-noscripts.log"; echo "packaged/node: install --ignore-scripts failed"; exit 1; }
check_addon "$work/app-noscripts" node_modules/redisx/prebuilds/linux-x64/redisx.node

log "packaged/node: npm install --offline <tarball>, built from its sources (REDISX_BUILD_FROM_SOURCE=1)"
mkdir "$work/app-src" && cd "$work/app-src"
npm init -y >/dev/null
"${offline_env[@]}" REDISX_BUILD_FROM_SOURCE=1 npm install --cache "$work/cache-src" --offline "${npm_q[@]}" "$tarball" \
  >"$work/install-src.log" 2>&1 || { tail -n 40 "$work/install-src.log"; echo "packaged/node: offline build from the tarball failed"; exit 1; }
check_addon "$work/app-src" node_modules/redisx/build/Release/redisx.node

log "packaged/node: a build from source without hiredis stops naming libhiredis-dev"
# As on a machine without libhiredis-dev: the search is pointed at nothing.
if out=$(cd "$work/app-src" && "${offline_env[@]}" REDISX_BUILD_FROM_SOURCE=1 REDISX_HIREDIS_LIB="$work/none/libhiredis.a" \
  npm rebuild redisx --cache "$work/cache-src" --offline "${npm_q[@]}" 2>&1); then
  echo "packaged/node: the build went ahead without hiredis"
  exit 1
fi
echo "$out" | grep -q 'install libhiredis-dev' || { echo "packaged/node: no libhiredis-dev in the message: $out"; exit 1; }
echo "  $(echo "$out" | grep -m1 'install libhiredis-dev' | sed 's/^npm error //')"

log "packaged/node: a build from source without OpenSSL's static libraries stops naming libssl-dev"
if out=$(cd "$work/app-src" && "${offline_env[@]}" REDISX_BUILD_FROM_SOURCE=1 REDISX_OPENSSL_LIBDIR="$work/none" \
  npm rebuild redisx --cache "$work/cache-src" --offline "${npm_q[@]}" 2>&1); then
  echo "packaged/node: the build went ahead without OpenSSL"
  exit 1
fi
echo "$out" | grep -q 'install libssl-dev' || { echo "packaged/node: no libssl-dev in the message: $out"; exit 1; }
echo "  $(echo "$out" | grep -m1 'install libssl-dev' | sed 's/^npm error //')"

log "packaged/node: an unsupported platform is refused at install time"
# Node (npm included) made to report darwin: npm refuses the package for its
# "os" field; with --force, npm installs it and the install step refuses.
echo "Object.defineProperty(process, 'platform', { value: 'darwin' });" >"$work/darwin.js"
for force in "" --force; do
  mkdir -p "$work/app-darwin$force" && cd "$work/app-darwin$force"
  npm init -y >/dev/null
  if out=$(NODE_OPTIONS="--require $work/darwin.js" npm install $force --cache "$work/cache" --offline "${npm_q[@]}" \
    "$tarball" 2>&1); then
    echo "packaged/node: npm install ${force:+$force }accepted darwin"
    exit 1
  fi
  want='Unsupported platform for redisx'
  [ -z "$force" ] || want='redisx: unsupported platform darwin-'
  echo "$out" | grep -q "$want" || { echo "packaged/node: unclear refusal: $out"; exit 1; }
  echo "  npm install ${force:+$force }on darwin: $(echo "$out" | grep -m1 "$want" | sed 's/^npm error //')"
done

log "packaged/node: npm install /abs/path/bindings/node from another folder (fresh clone of HEAD)"
git clone -q "$root" "$work/clone"
mkdir "$work/app-link" && cd "$work/app-link"
npm init -y >/dev/null
npm install "${npm_q[@]}" "$work/clone/bindings/node" >"$work/install-link.log" 2>&1 ||
  { tail -n 40 "$work/install-link.log"; echo "packaged/node: npm install <folder> failed on a fresh clone"; exit 1; }
check_addon "$work/app-link" "$work/clone/bindings/node/build/Release/redisx.node"

if [ -n "$keep" ]; then
  log "packaged/node: the tarball installed into $keep (kept)"
  cd "$keep"
  [ -f package.json ] || npm init -y >/dev/null
  "${offline_env[@]}" npm install --cache "$work/cache" --offline "${npm_q[@]}" "$tarball" >"$work/install-keep.log" 2>&1 ||
    { cat "$work/install-keep.log"; echo "packaged/node: install into $keep failed"; exit 1; }
  check_addon "$keep" node_modules/redisx/prebuilds/linux-x64/redisx.node
  rm -f "$keep/app.js"
fi

echo "packaged/node: the tarball installs offline (prebuild and source build), and a fresh checkout installs from its folder"
