#!/usr/bin/env node
// npm's postpack: the checkout goes back to what git keeps plus build
// output. A prebuild left here would be found by lib/native.js after the
// sources changed; the LICENSE copy is the repository's, not a second one.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
fs.rmSync(path.join(PKG, 'prebuilds'), { recursive: true, force: true });
fs.rmSync(path.join(PKG, 'LICENSE'), { force: true });
