#!/usr/bin/env bash
# The ABI surface three ways: what the library exports (nm -D), what the
# public headers declare (REDISX_API), and what the version script lists must
# be the same set of redisx_* names, and nothing else may be exported.
set -euo pipefail
lib=$1 src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^REDISX_[0-9.]*$' | sort -u >"$tmp/exported"
grep -ho 'REDISX_API [^(]*(' "$src"/ffi/include/redisx/*.h | grep -v __attribute__ |
  sed 's/.*[ *]\(redisx_[a-z_0-9]*\)($/\1/' | sort -u >"$tmp/declared"
grep -o 'redisx_[a-z_0-9]*;' "$src/ffi/redisx.map" | tr -d ';' | sort -u >"$tmp/mapped"
status=0
if grep -v '^redisx_' "$tmp/exported"; then echo "FAIL: non-redisx_ symbols exported (above)"; status=1; fi
if ! diff -u "$tmp/declared" "$tmp/exported"; then echo "FAIL: headers and exports differ"; status=1; fi
if ! diff -u "$tmp/declared" "$tmp/mapped"; then echo "FAIL: headers and version script differ"; status=1; fi
n=$(wc -l <"$tmp/exported")
[ "$status" -eq 0 ] && echo "abi_symbols: $n redisx_* symbols exported, matching headers and ffi/redisx.map"
exit $status
