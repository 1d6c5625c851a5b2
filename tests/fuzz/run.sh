#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz/ and
#   tests/fuzz/run.sh              replays the committed corpus only (CI: seconds)
#   tests/fuzz/run.sh --runs N     fuzzes each harness for N executions
# Options: --only NAME (one harness), --build DIR. One fuzzer process at a
# time, in process (no -jobs). Prints name=value lines on stdout: <harness>_execs,
# <harness>_crashes, <harness>_seconds, <harness>_corpus (files after the run).
# A crash, leak, timeout or UBSan report leaves its input under
# DIR/artifacts/<harness>/ and fails the script. New inputs found by --runs
# go to DIR/corpus/<harness>/, never into tests/fuzz/corpus/: minimize what
# is worth keeping (-merge=1) and commit it by hand.
source "$(dirname "$0")/../../scripts/lib.sh"
need_packages "${BUILD_PACKAGES[@]}" clang libclang-rt-14-dev
cd "$REDISX_ROOT"

runs=0
only=""
build=build-fuzz
while [ $# -gt 0 ]; do
  case $1 in
  --runs) runs=$2; shift 2 ;;
  --only) only=$2; shift 2 ;;
  --build) build=$2; shift 2 ;;
  *) echo "usage: $0 [--runs N] [--only fuzz_url|fuzz_options|fuzz_reply] [--build DIR]" >&2; exit 2 ;;
  esac
done
harnesses=(fuzz_url fuzz_options fuzz_reply)
[ -z "$only" ] || harnesses=("$only")

log "building the fuzz harnesses in $build (clang, -fsanitize=fuzzer,address,undefined)"
out=$(mktemp)
if ! { CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREDISX_FUZZ=ON \
  -DREDISX_BUILD_TESTS=OFF -DREDISX_BUILD_BENCH=OFF && cmake --build "$build" -j 2 --target "${harnesses[@]}"; } \
  >"$out" 2>&1; then
  cat "$out"
  rm -f "$out"
  echo "FAILED: fuzz build in $build"
  exit 1
fi
rm -f "$out"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for h in "${harnesses[@]}"; do
  seeds=tests/fuzz/corpus/$h
  art=$build/artifacts/$h
  rm -rf "$art"
  mkdir -p "$art"
  logf=$build/$h.log
  if [ "$runs" -eq 0 ]; then
    log "$h: replaying $seeds"
    args=(-runs=0 "$seeds")
  else
    log "$h: $runs executions (log: $logf)"
    mkdir -p "$build/corpus/$h"
    args=(-runs="$runs" -print_final_stats=1 -timeout=10 "$build/corpus/$h" "$seeds")
  fi
  start=$(date +%s)
  rc=0
  "$build/tests/fuzz/$h" -artifact_prefix="$art/" "${args[@]}" >"$logf" 2>&1 || rc=$?
  secs=$(($(date +%s) - start))
  if [ "$runs" -eq 0 ]; then
    execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$logf" | tail -n 1)
  else
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n 1)
  fi
  crashes=$(find "$art" -type f | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1 # died without writing its input (e.g. out of memory in the fuzzer itself)
  fi
  echo "${h}_execs=${execs:-0}"
  echo "${h}_crashes=$crashes"
  echo "${h}_seconds=$secs"
  [ "$runs" -eq 0 ] || echo "${h}_corpus=$(find "$build/corpus/$h" -type f | wc -l)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    grep -v 'failed to allocate' "$logf" | grep -E -A 30 'ERROR|SUMMARY|runtime error|check failed' | head -n 60 >&2 || true
    echo "FAILED: $h (exit $rc; inputs in $art, log in $logf)" >&2
    failed=1
  fi
done
exit "$failed"
