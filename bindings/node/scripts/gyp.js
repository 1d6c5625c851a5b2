#!/usr/bin/env node
// What binding.gyp asks at configure time (gyp's <!@(...) command expansion),
// and what scripts/build.js checks before it starts node-gyp:
//
//   node scripts/gyp.js sources          the core's C files (csrc/SOURCES)
//   node scripts/gyp.js hiredis-include  the directory holding hiredis.h
//   node scripts/gyp.js hiredis-lib      the static libhiredis.a
//   node scripts/gyp.js openssl-include  the directory holding openssl/ssl.h
//   node scripts/gyp.js openssl-libs     the static libssl.a and libcrypto.a
//
// hiredis is never shipped: it is Debian's libhiredis-dev (libhiredis.a is
// PIC there), linked statically so the addon needs no libhiredis.so at run
// time. $REDISX_HIREDIS_INCLUDE / $REDISX_HIREDIS_LIB override the search.
//
// OpenSSL (the core's TLS, rediss://) is the same: Debian's libssl-dev,
// libssl.a and libcrypto.a linked statically with their symbols hidden
// (binding.gyp's --exclude-libs), so the addon needs no libssl.so, and
// its OpenSSL never meets the one Node.js carries (the addon binds to its
// own copy at link time and exports only the Node-API entry points).
// $REDISX_OPENSSL_INCLUDE / $REDISX_OPENSSL_LIBDIR override the search.
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

const MISSING_OPENSSL =
  'redisx: OpenSSL not found (openssl/ssl.h and the static libssl.a and libcrypto.a, for rediss://); ' +
  'install libssl-dev (Debian/Ubuntu: apt install libssl-dev), or set REDISX_OPENSSL_INCLUDE and REDISX_OPENSSL_LIBDIR';

function opensslInclude() {
  const env = process.env.REDISX_OPENSSL_INCLUDE;
  if (env) return fs.existsSync(path.join(env, 'openssl', 'ssl.h')) ? env : null;
  return first(['/usr/include', '/usr/local/include'], (d) => fs.existsSync(path.join(d, 'openssl', 'ssl.h')));
}

function opensslLibdir() {
  const both = (d) => fs.existsSync(path.join(d, 'libssl.a')) && fs.existsSync(path.join(d, 'libcrypto.a'));
  const env = process.env.REDISX_OPENSSL_LIBDIR;
  if (env) return both(env) ? env : null;
  const ma = multiarch();
  return first([ma && `/usr/lib/${ma}`, '/usr/lib64', '/usr/lib', ma && `/usr/local/lib/${ma}`, '/usr/local/lib'], both);
}

/** Throws with the message naming libssl-dev when a part is missing. */
function openssl() {
  const include = opensslInclude();
  const libdir = opensslLibdir();
  if (!include || !libdir) throw new Error(MISSING_OPENSSL);
  // libssl before libcrypto: the linker resolves an archive's symbols once.
  return { include, libs: [path.join(libdir, 'libssl.a'), path.join(libdir, 'libcrypto.a')] };
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

module.exports = { hiredis, openssl, sources };

if (require.main === module) {
  try {
    const what = process.argv[2];
    if (what === 'sources') console.log(sources().join('\n'));
    else if (what === 'hiredis-include') console.log(hiredis().include);
    else if (what === 'hiredis-lib') console.log(hiredis().lib);
    else if (what === 'openssl-include') console.log(openssl().include);
    else if (what === 'openssl-libs') console.log(openssl().libs.join('\n'));
    else throw new Error('usage: gyp.js sources | hiredis-include | hiredis-lib | openssl-include | openssl-libs');
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
