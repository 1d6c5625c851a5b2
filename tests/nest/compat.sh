#!/usr/bin/env bash
# redisx/nestjs declares @nestjs/common and @nestjs/core ^10 || ^11 || ^12 as
# peers; the Node suite runs on the newest (the package's devDependencies).
# This runs the Nest application test (bindings/node/test/nestjs.test.js:
# every decorator over HTTP on Express and Fastify, consumers, shutdown) on
# each older major: a copy of the package with its built addon, beside a
# node_modules holding that major from the npm registry.
#
#   tests/nest/compat.sh [MAJOR...]     (default: 10 11; after the Node suite
#                                        built bindings/node/build/Release)
source "$(dirname "$0")/../../scripts/lib.sh"
set -euo pipefail
pkg=$REDISX_ROOT/bindings/node
[ -f "$pkg/build/Release/redisx.node" ] || { echo "nest-compat: build the Node package first (npm install in bindings/node)" >&2; exit 2; }
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(10 11)
for major in "${majors[@]}"; do
  dir=$REDISX_ROOT/build/nest-compat/$major
  rm -rf "$dir/redisx"
  mkdir -p "$dir/redisx/build/Release" "$dir/redisx/test" "$dir/redisx/scripts"
  cp -r "$pkg/lib" "$pkg/package.json" "$pkg"/*.js "$pkg"/*.d.ts "$dir/redisx/"
  cp "$pkg/build/Release/redisx.node" "$dir/redisx/build/Release/"
  cp "$pkg/test/nestjs.test.js" "$dir/redisx/test/"
  cp "$pkg/scripts/redis-for-tests.js" "$dir/redisx/scripts/"
  # node_modules one level up: the copy's own requires resolve there.
  cat >"$dir/package.json" <<JSON
{ "name": "redisx-nest-compat-$major", "private": true,
  "dependencies": {
    "@nestjs/common": "^$major.0.0", "@nestjs/core": "^$major.0.0",
    "@nestjs/platform-express": "^$major.0.0", "@nestjs/platform-fastify": "^$major.0.0",
    "reflect-metadata": "^0.2.2", "rxjs": "^7.8.1" } }
JSON
  log "redisx/nestjs on Nest $major"
  (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
  (cd "$dir/redisx" && node -e "console.log('@nestjs/core', require('@nestjs/core/package.json').version)" &&
    node --test test/nestjs.test.js 2>&1 | tail -n 8)
done
