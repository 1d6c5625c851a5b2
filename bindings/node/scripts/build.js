#!/usr/bin/env node
// npm's install step: builds the addon with node-gyp against the headers of
// the Node.js that runs it, never downloaded ones (node-gyp's default), and
// links the installed libredisx through pkg-config (binding.gyp).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');

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

function pkgConfigOk() {
  const r = spawnSync('pkg-config', ['--exists', 'redisx']);
  return r.status === 0;
}

function main() {
  if (!pkgConfigOk()) {
    console.error('redisx: `pkg-config --exists redisx` failed: install libredisx-dev (the C library) first');
    return 1;
  }
  const dir = nodedir();
  if (!dir) {
    console.error(`redisx: no Node.js headers next to ${process.execPath}; set npm_config_nodedir to a directory holding include/node`);
    return 1;
  }
  const gyp = nodeGyp();
  if (!gyp) {
    console.error('redisx: node-gyp not found (it ships with npm)');
    return 1;
  }
  const cmd = gyp.endsWith('.js') ? [process.execPath, gyp] : [gyp];
  const args = [...cmd.slice(1), 'rebuild', `--nodedir=${dir}`];
  if (process.env.REDISX_DEBUG_BUILD) args.push('--debug');
  const r = spawnSync(cmd[0], args, { cwd: PKG, stdio: 'inherit' });
  return r.status ?? 1;
}

process.exit(main());
