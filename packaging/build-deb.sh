#!/usr/bin/env bash
# Build the Debian packages libredisx0 and libredisx-dev (Debian 12, dh +
# CMake) and smoke-test them.
#
#   packaging/build-deb.sh [OUTDIR]      (default: ./build-deb/)
#
# debian/ has to sit at the top of a source tree, but the project keeps it in
# packaging/debian, so the source tree is copied into a scratch directory under
# /tmp (without build*/ directories), packaging/debian is copied to debian/
# there and `dpkg-buildpackage -b -us -uc` runs in that copy. The resulting
# .deb files are moved to OUTDIR and listed; then both packages are unpacked
# into a throwaway root and a small C program is compiled (via pkg-config, and
# once more statically), a CMake find_package(redisx) consumer is configured
# and built, and the programs are run against the unpacked library.
# Exits non-zero on any failure.
set -euo pipefail

log() { printf '==> %s\n' "$*"; }
die() { printf 'build-deb.sh: error: %s\n' "$*" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if root=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null); then
  have_git=1
else
  root=$(cd "$script_dir/.." && pwd)
  have_git=0
fi
[[ -f $root/CMakeLists.txt && -d $root/packaging/debian ]] || die "not a redisx source tree: $root"

outdir=${1:-./build-deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# ---- build dependencies: install only what is missing ----------------------
needed=(debhelper dpkg-dev cmake ninja-build pkg-config libhiredis-dev libssl-dev fakeroot build-essential)
missing=()
for pkg in "${needed[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing missing packages: ${missing[*]}"
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d /tmp/redisx-deb.XXXXXX)
# REDISX_DEB_KEEP=1 keeps the scratch tree (source copy, build dir, unpacked root).
cleanup() {
  if [[ ${REDISX_DEB_KEEP:-0} == 1 ]]; then
    printf 'build-deb.sh: scratch tree kept in %s\n' "$work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
src=$work/redisx-${version%-*}
mkdir -p "$src"

# ---- copy the source tree ----------------------------------------------------
# Tracked files plus untracked-but-not-ignored ones (work in progress other
# engineers have not committed yet), minus build*/ trees, any top-level debian/
# and files deleted in the work tree.
log "copying source tree $root -> $src"
if ((have_git)); then
  (cd "$root" &&
    git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      case $f in build*/* | debian/* | packaging/debian/*) continue ;; esac
      if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
    done |
    tar --null --no-recursion -T - -cf -) | tar -xf - -C "$src"
else
  (cd "$root" && tar --exclude='./build*' --exclude=./.git --exclude=./debian \
    --exclude=./packaging/debian -cf - .) | tar -xf - -C "$src"
fi
cp -a "$root/packaging/debian" "$src/debian"
chmod +x "$src/debian/rules"

# ---- build -------------------------------------------------------------------
jobs=$(nproc 2>/dev/null || echo 2)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$jobs"
log "dpkg-buildpackage -b -us -uc (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
(cd "$src" && dpkg-buildpackage -b -us -uc)

shopt -s nullglob
debs=("$work"/*.deb)
shopt -u nullglob
((${#debs[@]})) || die "dpkg-buildpackage produced no .deb files"
rm -f "$outdir"/libredisx0_*.deb "$outdir"/libredisx0-dbgsym_*.deb "$outdir"/libredisx-dev_*.deb
mv -f "${debs[@]}" "$outdir"/

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib_deb=$outdir/libredisx0_${version}_${arch}.deb
dev_deb=$outdir/libredisx-dev_${version}_${arch}.deb
[[ -f $lib_deb ]] || die "missing $lib_deb"
[[ -f $dev_deb ]] || die "missing $dev_deb"

for deb in "${debs[@]}"; do
  deb=$outdir/$(basename "$deb")
  log "contents of $(basename "$deb")"
  dpkg-deb -c "$deb"
done
log "control of $(basename "$lib_deb")"
dpkg-deb -f "$lib_deb" Package Version Architecture Multi-Arch Depends
dpkg-deb -f "$dev_deb" Package Version Architecture Multi-Arch Depends

# ---- smoke test: unpack both packages into a throwaway root -------------------
sysroot=$work/root
mkdir -p "$sysroot"
dpkg -x "$lib_deb" "$sysroot"
dpkg -x "$dev_deb" "$sysroot"
libdir=$sysroot/usr/lib/$ma
for f in "$libdir/libredisx.so.0" "$libdir/libredisx.so" "$libdir/libredisx.a" \
  "$sysroot/usr/include/redisx/redisx.h" "$libdir/pkgconfig/redisx.pc" \
  "$libdir/cmake/redisx/redisxConfig.cmake" "$libdir/cmake/redisx/redisxTargets.cmake"; do
  [[ -e $f ]] || die "not in the packages: ${f#"$sysroot"}"
done
soname=$(objdump -p "$libdir/libredisx.so.0" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == libredisx.so.0 ]] || die "unexpected SONAME '$soname'"

t=$work/smoke
mkdir -p "$t"
cat >"$t/smoke.c" <<'EOF'
#include <redisx/redisx.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  printf("redisx %s (%d)\n", redisx_version_string(), redisx_version());
  if (redisx_version() != REDISX_VERSION_NUMBER) {
    fprintf(stderr, "header/library version mismatch: %d != %d\n", redisx_version(), REDISX_VERSION_NUMBER);
    return 1;
  }
  const char *name = redisx_status_name(REDISX_OK);
  return name != NULL && strcmp(name, "OK") == 0 ? 0 : 1;
}
EOF

# 1. shared, through pkg-config with the unpacked root as sysroot
pc_env=(env PKG_CONFIG_SYSROOT_DIR="$sysroot" PKG_CONFIG_PATH="$libdir/pkgconfig")
cflags=$("${pc_env[@]}" pkg-config --cflags redisx)
libs=$("${pc_env[@]}" pkg-config --libs redisx)
log "shared: cc $cflags smoke.c $libs"
# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
cc -std=c11 -Wall -Wextra -Werror $cflags "$t/smoke.c" -o "$t/smoke_shared" $libs
readelf -d "$t/smoke_shared" | grep -q 'NEEDED.*\[libredisx\.so\.0\]' ||
  die "smoke_shared is not linked against libredisx.so.0"
LD_LIBRARY_PATH=$libdir "$t/smoke_shared"

# 2. static: libredisx.a plus its private dependencies (hiredis, pthread)
log "static: cc smoke.c libredisx.a $(pkg-config --libs hiredis) -pthread"
# shellcheck disable=SC2046
cc -std=c11 -I"$sysroot/usr/include" "$t/smoke.c" -o "$t/smoke_static" \
  "$libdir/libredisx.a" $(pkg-config --libs hiredis) -pthread
if readelf -d "$t/smoke_static" | grep -q 'libredisx'; then
  die "smoke_static still needs libredisx.so"
fi
"$t/smoke_static"

# 3. CMake: find_package(redisx) from the unpacked root
mkdir -p "$t/cmake"
cp "$t/smoke.c" "$t/cmake/smoke.c"
cat >"$t/cmake/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(redisx_smoke LANGUAGES C)
find_package(redisx 0.1 REQUIRED CONFIG)
add_executable(smoke_cmake smoke.c)
target_link_libraries(smoke_cmake PRIVATE redisx::redisx)
EOF
log "cmake: find_package(redisx) with CMAKE_PREFIX_PATH=$sysroot/usr"
cmake -S "$t/cmake" -B "$t/cmake/build" -G Ninja -DCMAKE_PREFIX_PATH="$sysroot/usr" \
  -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON >"$t/cmake.log" 2>&1 ||
  { cat "$t/cmake.log" >&2; die "cmake configure of the find_package consumer failed"; }
cmake --build "$t/cmake/build" >>"$t/cmake.log" 2>&1 ||
  { cat "$t/cmake.log" >&2; die "build of the find_package consumer failed"; }
LD_LIBRARY_PATH=$libdir "$t/cmake/build/smoke_cmake"

log "OK: packages in $outdir"
for deb in "${debs[@]}"; do ls -l "$outdir/$(basename "$deb")"; done
