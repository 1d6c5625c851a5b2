#!/usr/bin/env bash
# CI check: the generated files committed in internal/capi (SWIG's output and
# the core's C sources, see generate.sh) are what generate.sh writes from the
# current swig/, core/ and ffi/. Fails, naming the stale files, when someone
# changed the core or the interface without regenerating.
#
#   bindings/go/check-generated.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/generate.sh" "$tmp/capi"
# The hand-written files are not generate.sh's: compare everything else.
if ! diff -r -q -x cgo.go -x nocgo.go "$here/internal/capi" "$tmp/capi" >"$tmp/diff"; then
    sed -e "s#$tmp/capi#(generated)#g" -e "s#$here/##g" "$tmp/diff" >&2
    echo "check-generated: bindings/go/internal/capi is stale: run bindings/go/generate.sh and commit the result" >&2
    exit 1
fi

# Every generated C file must reach the compiler: cgo skips a file whose name
# ends in _<GOOS> or _<GOARCH> on other platforms.
want=$(cd "$tmp/capi" && ls -- *.c | sort)
got=$(cd "$here" && go list -f '{{join .CFiles "\n"}}' ./internal/capi | sort)
if [ "$want" != "$got" ]; then
    echo "check-generated: the go tool does not compile every generated C file of internal/capi:" >&2
    diff <(echo "$want") <(echo "$got") >&2 || true
    exit 1
fi
echo "check-generated: bindings/go/internal/capi is up to date"
