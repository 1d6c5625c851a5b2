#!/usr/bin/env node
// Writes what the package compiles and ships but git does not keep, from the
// repository around it (so it runs in a checkout only: at pack time, and
// before a build inside the checkout):
//
//   csrc/                  the core's C sources (../../scripts/core-sources)
//   gen/redisx_wrap.cxx    the SWIG Node-API wrapper of ../../swig/redisx.i
//   LICENSE                the repository's licence, shipped in the tarball
//
// Files whose content did not change keep their timestamps, so a rebuild in
// a checkout recompiles only what changed.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const swig = require('./swig');

const PKG = path.resolve(__dirname, '..');
const REPO = path.resolve(PKG, '..', '..');

/** True inside a checkout of the repository (not in an installed tarball). */
function inCheckout() {
  // The repository's own bindings/node, not a tarball installed into some
  // node_modules that happens to sit in a checkout.
  const own = path.join(REPO, 'bindings', 'node');
  return (
    fs.existsSync(own) &&
    fs.realpathSync(own) === fs.realpathSync(PKG) &&
    fs.existsSync(path.join(REPO, 'scripts', 'core-sources')) &&
    fs.existsSync(path.join(REPO, 'ffi', 'include', 'redisx', 'version.h')) &&
    fs.existsSync(path.join(REPO, 'swig', 'redisx.i'))
  );
}

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  });
}

/** Makes `dst` hold exactly the files of `src`, rewriting only those that differ. */
function sync(src, dst) {
  const want = new Set(listFiles(src));
  for (const f of listFiles(dst)) if (!want.has(f)) fs.rmSync(path.join(dst, f));
  for (const f of want) {
    const from = path.join(src, f);
    const to = path.join(dst, f);
    const data = fs.readFileSync(from);
    if (fs.existsSync(to) && fs.readFileSync(to).equals(data)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, data);
  }
}

function generate() {
  if (!inCheckout()) throw new Error(`redisx: ${REPO} is not a redisx checkout; generate.js runs only inside one`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-gen-'));
  try {
    execFileSync(path.join(REPO, 'scripts', 'core-sources'), [path.join(tmp, 'csrc')], { stdio: 'inherit' });
    swig.generate(path.join(tmp, 'gen', 'redisx_wrap.cxx'), path.join(REPO, 'swig'), path.join(tmp, 'csrc', 'ffi', 'include'));
    sync(path.join(tmp, 'csrc'), path.join(PKG, 'csrc'));
    sync(path.join(tmp, 'gen'), path.join(PKG, 'gen'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.copyFileSync(path.join(REPO, 'LICENSE'), path.join(PKG, 'LICENSE'));
  const version = fs.readFileSync(path.join(PKG, 'csrc', 'VERSION'), 'utf8').trim();
  const pkgVersion = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')).version;
  if (version !== pkgVersion) {
    throw new Error(`redisx: package.json says ${pkgVersion}, ffi/include/redisx/version.h says ${version}: keep them equal`);
  }
}

function hasAddonApi() {
  try {
    require.resolve('node-addon-api', { paths: [PKG] });
    return true;
  } catch {
    return false;
  }
}

/**
 * node-addon-api (headers only) is needed to compile. A tarball bundles it;
 * in a checkout `npm install <folder>` links the folder without installing
 * its dependencies, so it is installed here, into this folder.
 */
function ensureAddonApi() {
  if (hasAddonApi()) return;
  if (!inCheckout()) throw new Error('redisx: node-addon-api is missing (the tarball bundles it: reinstall the package)');
  process.stderr.write('redisx: installing node-addon-api into the package folder (a checkout does not carry it)\n');
  // The outer npm's settings (its prefix, global, the command being run)
  // must not leak into this one; cache, registry and offline may.
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_offline', 'npm_config_userconfig', 'npm_config_prefer_offline']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())));
  const npmCli = process.env.npm_execpath;
  const [cmd, pre] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const r = spawnSync(
    cmd,
    [...pre, 'install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: PKG, env, stdio: 'inherit' },
  );
  if (r.status !== 0 || !hasAddonApi()) throw new Error('redisx: `npm install` of node-addon-api in the package folder failed');
}

module.exports = { generate, ensureAddonApi, inCheckout, hasAddonApi, PKG, REPO };

if (require.main === module) {
  try {
    generate();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
