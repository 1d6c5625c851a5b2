#!/usr/bin/env node
// npm's install step. From a tarball: the prebuilt addon for this platform
// (prebuilds/<platform>-<arch>/redisx.node, made at pack time) when it loads
// here; otherwise a build from the C sources the tarball ships (csrc/, the
// SWIG wrapper in gen/, node-addon-api bundled), which needs a C/C++
// compiler, libhiredis-dev, libssl-dev and the Node.js headers, and never SWIG, Python
// packages, a network or libredisx. Inside a checkout: always a build, after
// generating csrc/ and gen/ from the repository.
//
// REDISX_BUILD_FROM_SOURCE=1 (or `npm install --build-from-source`) skips
// the prebuilt addon.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { generate, ensureAddonApi, inCheckout, hasAddonApi, PKG } = require('./generate');
const { hiredis, openssl } = require('./gyp');

const MIN_NODE = 18;

function fail(msg) {
  const e = new Error(msg);
  e.redisx = true;
  throw e;
}

function checkPlatform() {
  const where = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') {
    fail(
      `redisx: unsupported platform ${where}: the package supports Linux only ` +
        '(a prebuilt addon for linux-x64 with glibc; other Linux systems build it from source)',
    );
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE) fail(`redisx: Node.js ${process.versions.node} is too old; redisx needs Node.js >= ${MIN_NODE}`);
}

function glibc() {
  try {
    return process.report.getReport().header.glibcVersionRuntime || null;
  } catch {
    return null;
  }
}

/** The prebuilt addon's path when it exists and loads in this Node.js, else null. */
function usablePrebuild() {
  const where = `${process.platform}-${process.arch}`;
  const file = path.join(PKG, 'prebuilds', where, 'redisx.node');
  if (!fs.existsSync(file)) {
    console.error(`redisx: no prebuilt addon for ${where}; building it from source`);
    return null;
  }
  if (!glibc()) {
    console.error(`redisx: the prebuilt addon for ${where} needs glibc (this system has another C library); building it from source`);
    return null;
  }
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`redisx: the prebuilt addon ${path.relative(PKG, file)} does not load here; building it from source:\n${r.stderr.trim()}`);
    return null;
  }
  return file;
}

function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  // Node installed under a prefix (/usr/bin/node) keeps its headers in
  // <prefix>/include/node (Debian/NodeSource: /usr/include/node).
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function build() {
  for (const f of ['csrc/SOURCES', 'gen/redisx_wrap.cxx']) {
    if (!fs.existsSync(path.join(PKG, f))) fail(`redisx: ${f} is missing: this is neither a packed tarball nor a checkout`);
  }
  hiredis(); // throws naming libhiredis-dev
  openssl(); // throws naming libssl-dev
  if (!hasAddonApi()) fail('redisx: node-addon-api is missing (the tarball bundles it: reinstall the package)');
  const dir = nodedir();
  if (!dir) fail(`redisx: no Node.js headers next to ${process.execPath}; set npm_config_nodedir to a directory holding include/node`);
  const gyp = nodeGyp();
  if (!gyp) fail('redisx: node-gyp not found (it ships with npm)');
  const cmd = gyp.endsWith('.js') ? [process.execPath, gyp] : [gyp];
  const args = [...cmd.slice(1), 'rebuild', `--nodedir=${dir}`];
  if (process.env.REDISX_DEBUG_BUILD) args.push('--debug');
  const r = spawnSync(cmd[0], args, { cwd: PKG, stdio: 'inherit' });
  if (r.status !== 0) fail('redisx: building the addon failed (see the compiler output above)');
}

function main() {
  checkPlatform();
  if (inCheckout()) {
    generate();
    ensureAddonApi();
    build();
    return;
  }
  const fromSource = process.env.REDISX_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
  if (!fromSource) {
    const file = usablePrebuild();
    if (file) {
      // A build left over from an earlier install would shadow the prebuild.
      fs.rmSync(path.join(PKG, 'build'), { recursive: true, force: true });
      console.error(`redisx: using the prebuilt addon ${path.relative(PKG, file)}`);
      return;
    }
  }
  build();
}

module.exports = { build, checkPlatform };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e.redisx || /^redisx:/.test(e.message) ? e.message : e.stack || String(e));
    process.exit(1);
  }
}
