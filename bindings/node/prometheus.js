'use strict';
// `require('redisx/prometheus')`: prom-client metrics of a client (lib/prometheus.js).
module.exports = require('./lib/prometheus');
