'use strict';
// `require('redisx/opentelemetry')`: OpenTelemetry spans and metrics of a client (lib/opentelemetry.js).
module.exports = require('./lib/opentelemetry');
