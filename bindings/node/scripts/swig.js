#!/usr/bin/env node
// Generates the Node-API wrapper from swig/redisx.i (used by
// scripts/generate.js: at pack time, and when the addon is built inside a
// checkout). A packed tarball ships the wrapper, so installing it never
// needs SWIG.
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

/**
 * Writes the Node-API wrapper of swig/redisx.i (interface directory
 * `swigDir`) to `out`, against the public headers in `includeDir`.
 */
function generate(out, swigDir, includeDir) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const swig = findSwig();
  // SWIG's preprocessor does not search the system include directories:
  // the headers are the ones shipped beside the wrapper (csrc/), never an
  // installed libredisx-dev.
  execFileSync(swig, ['-javascript', '-napi', '-c++', `-I${includeDir}`, `-I${swigDir}`, '-o', out, path.join(swigDir, 'redisx.i')], {
    stdio: 'inherit',
  });
}

module.exports = { generate, findSwig };
