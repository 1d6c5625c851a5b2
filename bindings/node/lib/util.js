'use strict';
// Small argument helpers shared by the idiomatic layer. They only check
// JavaScript types; every range and meaning is checked by the C core.
const { translate, invalid } = require('./errors');

/** Runs a synchronous native call, turning its error into a redisx class. */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw translate(e);
  }
}

function checkMs(value, what, { optional = false } = {}) {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    throw invalid(`${what} must be a number of milliseconds, got ${value === undefined ? 'nothing' : typeof value}`);
  }
  return value;
}

function checkKey(key, what) {
  if (typeof key !== 'string') throw invalid(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  return key;
}

/** An options argument: undefined is {}; anything but an object (null, a
 *  number, ...) is InvalidArgument, not the TypeError of destructuring. */
function options(o, what) {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object') {
    throw invalid(`${what} must be an object, got ${o === null ? 'null' : typeof o}`);
  }
  return o;
}

/** Binary input for the C core: Buffer, Uint8Array (viewed, not copied),
 *  string (UTF-8) or null. */
function binary(v, what) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw invalid(`${what} must be a Buffer, a Uint8Array, a string or null, got ${typeof v}`);
}

/** The `signal` of an options argument without checking anything (the
 *  options are checked where they are read, inside the operation). */
function signalOf(o) {
  return o !== null && typeof o === 'object' ? o.signal : undefined;
}

/** An AbortSignal, or anything that behaves as one (what Node's own APIs
 *  accept): `aborted`, `reason`, add/removeEventListener. */
function isSignal(s) {
  return (
    s !== null &&
    typeof s === 'object' &&
    typeof s.aborted === 'boolean' &&
    typeof s.addEventListener === 'function' &&
    typeof s.removeEventListener === 'function'
  );
}

module.exports = { call, checkMs, checkKey, binary, options, signalOf, isSignal };
