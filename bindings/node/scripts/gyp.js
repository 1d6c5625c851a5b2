#!/usr/bin/env node
// What binding.gyp asks at configure time (gyp's <!@(...) command expansion),
// and what scripts/build.js checks before it starts node-gyp:
//
//   node scripts/gyp.js sources          the core's C files (csrc/SOURCES)
//   node scripts/gyp.js hiredis-include  the directory holding hiredis.h
//   node scripts/gyp.js hiredis-lib      the static libhiredis.a
//
// hiredis is never shipped: it is Debian's libhiredis-dev (libhiredis.a is
// PIC there), linked statically so the addon needs no libhiredis.so at run
// time. $REDISX_HIREDIS_INCLUDE / $REDISX_HIREDIS_LIB override the search.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
const CSRC = path.join(PKG, 'csrc');
const MISSING_HIREDIS =
  'redisx: hiredis not found (hiredis.h and the static libhiredis.a); install libhiredis-dev ' +
  '(Debian/Ubuntu: apt install libhiredis-dev), or set REDISX_HIREDIS_INCLUDE and REDISX_HIREDIS_LIB';

function pkgConfigVar(name) {
  const r = spawnSync('pkg-config', [`--variable=${name}`, 'hiredis'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function multiarch() {
  return { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' }[process.arch] || '';
}

function first(candidates, test) {
  for (const c of candidates) if (c && test(c)) return c;
  return null;
}

function hiredisInclude() {
  const env = process.env.REDISX_HIREDIS_INCLUDE;
  if (env) return fs.existsSync(path.join(env, 'hiredis.h')) ? env : null;
  const inc = pkgConfigVar('includedir');
  return first(
    [inc, inc && path.join(inc, 'hiredis'), '/usr/include/hiredis', '/usr/local/include/hiredis'],
    (d) => fs.existsSync(path.join(d, 'hiredis.h')),
  );
}

function hiredisLib() {
  const env = process.env.REDISX_HIREDIS_LIB;
  if (env) return fs.existsSync(env) ? env : null;
  const lib = pkgConfigVar('libdir');
  const ma = multiarch();
  return first(
    [lib, ma && `/usr/lib/${ma}`, '/usr/lib64', '/usr/lib', ma && `/usr/local/lib/${ma}`, '/usr/local/lib'].map(
      (d) => d && path.join(d, 'libhiredis.a'),
    ),
    (f) => fs.existsSync(f),
  );
}

function sources() {
  const list = path.join(CSRC, 'SOURCES');
  if (!fs.existsSync(list)) throw new Error(`redisx: ${list} is missing (the package's C sources; scripts/generate.js writes them)`);
  return fs
    .readFileSync(list, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((f) => path.posix.join('csrc', f));
}

/** Throws with the message naming libhiredis-dev when either part is missing. */
function hiredis() {
  const include = hiredisInclude();
  const lib = hiredisLib();
  if (!include || !lib) throw new Error(MISSING_HIREDIS);
  return { include, lib };
}

module.exports = { hiredis, sources };

if (require.main === module) {
  try {
    const what = process.argv[2];
    if (what === 'sources') console.log(sources().join('\n'));
    else if (what === 'hiredis-include') console.log(hiredis().include);
    else if (what === 'hiredis-lib') console.log(hiredis().lib);
    else throw new Error('usage: gyp.js sources | hiredis-include | hiredis-lib');
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
