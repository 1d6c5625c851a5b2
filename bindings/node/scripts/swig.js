#!/usr/bin/env node
// Generates the Node-API wrapper from swig/redisx.i at build time (a
// node-gyp action; the output lives under build/ and is never committed).
//
//   node scripts/swig.js --inputs     the .i files (gyp dependency tracking)
//   node scripts/swig.js OUT.cxx      runs swig -javascript -napi
//
// SWIG >= 4.2 is needed for -napi (Debian 12 ships 4.1). Taken from, in order:
// $SWIG; `swig` on PATH when new enough; a private venv in .swig-venv/ with
// PyPI's `swig` package, created on first use (python from $PYTHON or
// python3).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
const MIN = [4, 2];

function interfaceDir() {
  // Inside the repository: ../../swig (never a stale copy); in a packed
  // tarball: ./swig (copied there by scripts/prepare.js).
  const repo = path.join(PKG, '..', '..');
  const dirs = fs.existsSync(path.join(repo, 'ffi', 'include', 'redisx')) ? [path.join(repo, 'swig')] : [];
  for (const d of [...dirs, path.join(PKG, 'swig')]) {
    if (fs.existsSync(path.join(d, 'redisx.i')) && fs.existsSync(path.join(d, 'node.i'))) return d;
  }
  throw new Error('redisx: swig/redisx.i and swig/node.i not found next to the package');
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function swigVersion(bin) {
  try {
    const m = /SWIG Version (\d+)\.(\d+)\.(\d+)/.exec(run(bin, ['-version']));
    return m ? m.slice(1).map(Number) : null;
  } catch {
    return null;
  }
}

function newEnough(v) {
  return v && (v[0] > MIN[0] || (v[0] === MIN[0] && v[1] >= MIN[1]));
}

function findSwig() {
  if (process.env.SWIG) {
    if (!newEnough(swigVersion(process.env.SWIG))) throw new Error(`redisx: $SWIG (${process.env.SWIG}) is not SWIG >= 4.2`);
    return process.env.SWIG;
  }
  if (newEnough(swigVersion('swig'))) return 'swig';
  const venv = path.join(PKG, '.swig-venv');
  const bin = path.join(venv, 'bin', 'swig');
  if (newEnough(swigVersion(bin))) return bin;
  const python = process.env.PYTHON || 'python3';
  process.stderr.write(`redisx: SWIG >= 4.2 not found; installing PyPI's swig into ${venv}\n`);
  run(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'swig>=4.2,<5'], {
    stdio: 'inherit',
  });
  if (!newEnough(swigVersion(bin))) throw new Error('redisx: installing swig from PyPI did not give SWIG >= 4.2');
  return bin;
}

function redisxIncludes() {
  // SWIG's preprocessor does not search the system include directories.
  const flags = run('pkg-config', ['--cflags-only-I', 'redisx']).trim().split(/\s+/).filter(Boolean);
  const includedir = run('pkg-config', ['--variable=includedir', 'redisx']).trim();
  if (includedir) flags.push(`-I${includedir}`);
  return flags;
}

function main(argv) {
  const dir = interfaceDir();
  if (argv[0] === '--inputs') {
    process.stdout.write([path.join(dir, 'redisx.i'), path.join(dir, 'node.i')].join('\n') + '\n');
    return;
  }
  if (argv.length !== 1) throw new Error('usage: swig.js --inputs | swig.js OUT.cxx');
  const out = path.resolve(argv[0]);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const swig = findSwig();
  execFileSync(swig, ['-javascript', '-napi', '-c++', ...redisxIncludes(), `-I${dir}`, '-o', out, path.join(dir, 'redisx.i')], {
    stdio: 'inherit',
  });
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
