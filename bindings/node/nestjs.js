'use strict';
// `require('redisx/nestjs')`: the NestJS module (lib/nestjs.js); needs @nestjs/common, @nestjs/core, reflect-metadata, rxjs.
module.exports = require('./lib/nestjs');
