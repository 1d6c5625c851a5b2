#!/usr/bin/env bash
# Compares the built library with the ABI baseline in packaging/abi/ (abidw
# output of the last release-worthy state, public headers only). Any
# difference fails: an incompatible change must not happen, and an addition
# must come with a new baseline (tests/check_abi.sh --update) and a note in
# the commit message.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
baseline=$root/packaging/abi/libredisx.so.0.abi
lib=${1:-$root/build/libredisx.so}
if [ "${1:-}" = "--update" ]; then
  lib=${2:-$root/build/libredisx.so}
  abidw --headers-dir "$root/ffi/include/redisx" --no-corpus-path --out-file "$baseline" "$lib"
  echo "check_abi: baseline updated from $lib"
  exit 0
fi
set +e
abidiff --headers-dir2 "$root/ffi/include/redisx" "$baseline" "$lib"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "check_abi: FAILED (abidiff exit $rc): the ABI differs from packaging/abi/libredisx.so.0.abi"
  exit 1
fi
echo "check_abi: ABI identical to packaging/abi/libredisx.so.0.abi"
