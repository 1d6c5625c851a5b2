#!/usr/bin/env node
// npm's prepack (`npm pack`, `npm publish`), in a checkout: everything the
// tarball needs so that installing it needs no SWIG, no Python, no network
// and no libredisx:
//
//   csrc/, gen/redisx_wrap.cxx, LICENSE       scripts/generate.js
//   node_modules/node-addon-api               bundled, for the fallback build
//   prebuilds/<platform>-<arch>/redisx.node   the addon built here (Node-API:
//                                             one binary for every Node >= 18)
//
// scripts/postpack.js removes the prebuild and LICENSE again afterwards.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { generate, ensureAddonApi, PKG } = require('./generate');
const { build, checkPlatform } = require('./build');

function main() {
  checkPlatform();
  generate();
  ensureAddonApi();
  build();
  const where = `${process.platform}-${process.arch}`;
  const dir = path.join(PKG, 'prebuilds', where);
  fs.rmSync(path.join(PKG, 'prebuilds'), { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'redisx.node');
  fs.copyFileSync(path.join(PKG, 'build', 'Release', 'redisx.node'), out);
  // Debug sections make the tarball several times larger; the symbols a
  // backtrace needs stay (--strip-debug, not --strip-all).
  const r = spawnSync('strip', ['--strip-debug', out], { stdio: 'inherit' });
  if (r.error || r.status !== 0) console.error('redisx: strip not available; the prebuild keeps its debug sections');
  console.error(`redisx: prebuilt ${path.relative(PKG, out)} (${fs.statSync(out).size} bytes)`);
}

try {
  main();
} catch (e) {
  console.error(/^redisx:/.test(e.message) ? e.message : e.stack || String(e));
  process.exit(1);
}
