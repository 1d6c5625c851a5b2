'use strict';
// The native addon: the SWIG-generated module plus the hand-written Poller,
// shutdownClient and freeClient (src/loop.cc), with the core linked in. A
// local build (build/Release, made by the install step when no prebuild fits,
// or in a checkout) comes first, then the prebuild the tarball ships for this
// platform. SWIG defines its exports as non-enumerable properties: they are
// copied onto a plain frozen object so that Object.keys, destructuring and
// spreading see them.
const fs = require('node:fs');
const path = require('node:path');

function load() {
  const root = path.join(__dirname, '..');
  const candidates = [
    path.join(root, 'build', 'Release', 'redisx.node'),
    path.join(root, 'build', 'Debug', 'redisx.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'redisx.node'),
  ];
  for (const file of candidates) if (fs.existsSync(file)) return require(file);
  throw new Error(
    `redisx: no native addon for ${process.platform}-${process.arch} (looked for ${candidates
      .map((c) => path.relative(root, c))
      .join(', ')}): reinstall the package, which builds one when no prebuild fits`,
  );
}

const raw = load();
const native = {};
for (const key of Object.getOwnPropertyNames(raw)) native[key] = raw[key];
Object.freeze(native);

// The core is linked into the addon, so its version is the headers' own; the
// check stays for a build that would link another copy.
if (native.redisx_version() < native.REDISX_VERSION_NUMBER) {
  throw new Error(
    `redisx: libredisx ${native.redisx_version_string()} is older than the headers this addon was built with ` +
      `(${native.REDISX_VERSION_NUMBER}); rebuild the addon or upgrade libredisx`,
  );
}

module.exports = native;
