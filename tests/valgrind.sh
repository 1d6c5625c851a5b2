#!/usr/bin/env bash
# Runs a Criterion suite under valgrind memcheck and fails on any memory error
# or definite leak in any process. Criterion runs each test in a worker
# process and ignores a worker's exit status once its test has passed, so
# every process logs to its own file and the logs are checked here.
set -u
d=$(mktemp -d)
valgrind --trace-children=yes --trace-children-skip='*redis-server*,*redis-cli*,*/sh,*/sleep,*/openssl' \
  --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --error-exitcode=99 --exit-on-first-error=yes --log-file="$d/vg.%p.log" "$@"
rc=$?
bad=$(grep -lE 'ERROR SUMMARY: [1-9]|Exit program on first error' "$d"/vg.*.log 2>/dev/null)
if [ -n "$bad" ]; then
  cat $bad >&2
  echo "valgrind: errors or leaks reported (above)" >&2
  [ "$rc" -eq 0 ] && rc=98
else
  echo "valgrind: $(ls "$d" | wc -l) processes checked, no errors, no definite leaks" >&2
fi
rm -rf "$d"
exit "$rc"
