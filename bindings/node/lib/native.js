'use strict';
// The SWIG-generated module (build/Release/redisx.node) plus the hand-written
// Poller, shutdownClient and freeClient (src/loop.cc). SWIG defines its exports as
// non-enumerable properties: they are copied onto a plain frozen object so
// that Object.keys, destructuring and spreading see them.
const path = require('node:path');

function load() {
  const candidates = ['Release', 'Debug'].map((d) => path.join(__dirname, '..', 'build', d, 'redisx.node'));
  let lastError;
  for (const file of candidates) {
    try {
      return require(file);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      lastError = e;
    }
  }
  throw new Error(`redisx: the native addon is not built (npm install builds it): ${lastError.message}`);
}

const raw = load();
const native = {};
for (const key of Object.getOwnPropertyNames(raw)) native[key] = raw[key];
Object.freeze(native);

// The headers the addon was compiled against must not be newer than the
// library loaded at run time (same major: the SONAME guarantees it).
if (native.redisx_version() < native.REDISX_VERSION_NUMBER) {
  throw new Error(
    `redisx: libredisx ${native.redisx_version_string()} is older than the headers this addon was built with ` +
      `(${native.REDISX_VERSION_NUMBER}); rebuild the addon or upgrade libredisx`,
  );
}

module.exports = native;
