'use strict';
// `require('redisx/testing')`: throwaway redis-servers for tests (lib/testing.js).
module.exports = require('./lib/testing');
