#!/usr/bin/env node
// `prepare` (npm runs it before packing: `npm pack`, `npm publish`, and
// `npm install --install-links <this folder>`): the package must carry the
// SWIG interface that lives at the repository's top (swig/), so it is copied
// into the package. The copy is ignored by git; inside the repository
// scripts/swig.js reads ../../swig itself.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
const src = path.join(PKG, '..', '..', 'swig');
const dst = path.join(PKG, 'swig');
if (fs.existsSync(path.join(src, 'redisx.i'))) {
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['redisx.i', 'node.i']) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}
