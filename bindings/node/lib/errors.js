'use strict';
// Error classes, one per redisx status, all subclasses of RedisxError. The
// codes and messages come from the C table (redisx_status_name/strerror for
// 0, -1, -2, ... until NULL), so numbers are never copied here; only the class
// names are chosen, the same in every redisx binding.
const N = require('./native');

const CLASS_NAMES = {
  ERR_INVALID: 'InvalidArgument',
  ERR_NOMEM: 'OutOfMemory',
  ERR_TIMEOUT: 'Timeout',
  ERR_CONNECTION: 'ConnectionError',
  ERR_CLOSED: 'ClientClosed',
  ERR_AUTH: 'AuthError',
  ERR_SERVER: 'ServerError',
  ERR_PROTOCOL: 'ProtocolError',
  ERR_LOCKED: 'LockHeld',
  ERR_NOT_OWNER: 'LockNotOwned',
  ERR_WOULDBLOCK: 'WouldBlock',
  ERR_EMPTY: 'Empty',
  ERR_URL: 'InvalidURL',
  ERR_CANCELLED: 'Cancelled',
};

/** Base of every redisx error: .status (number), .code ('ERR_NOT_OWNER'),
 *  .detail (what the core said about this failure). */
class RedisxError extends Error {
  constructor(status, detail) {
    const text = detail || N.redisx_strerror(status);
    super(text);
    this.status = status;
    this.code = N.redisx_status_name(status) || 'ERR_UNKNOWN';
    this.detail = text;
  }
}
Object.defineProperty(RedisxError.prototype, 'name', { value: 'RedisxError', writable: true, configurable: true });

const classes = { RedisxError };
const byStatus = new Map();

function pascal(code) {
  return code
    .replace(/^ERR_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
}

function defineClass(name, status, code) {
  const cls = { [name]: class extends RedisxError {} }[name];
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(cls, 'status', { value: status, enumerable: true });
  Object.defineProperty(cls, 'code', { value: code, enumerable: true });
  return cls;
}

for (let status = -1; ; status--) {
  const code = N.redisx_status_name(status);
  if (code == null) break;
  const name = CLASS_NAMES[code] || pascal(code);
  const cls = defineClass(name, status, code);
  classes[name] = cls;
  byStatus.set(status, cls);
}

for (const [code, name] of Object.entries(CLASS_NAMES)) {
  if (!classes[name]) throw new Error(`redisx: libredisx has no status ${code}; the addon and the library disagree`);
}

/** What an operation stopped through its AbortSignal rejects with: a
 *  Cancelled (the core completed it with ERR_CANCELLED) named "AbortError",
 *  the name fetch and Node's own APIs give theirs, with the signal's reason
 *  as `cause`. */
class AbortError extends classes.Cancelled {
  constructor(reason) {
    super(classes.Cancelled.status, 'the operation was aborted');
    Object.defineProperty(this, 'cause', { value: reason, writable: true, configurable: true });
  }
}
Object.defineProperty(AbortError.prototype, 'name', { value: 'AbortError', writable: true, configurable: true });
classes.AbortError = AbortError;

/** The error for a status and its detail. */
function fromStatus(status, detail) {
  const cls = byStatus.get(status) || RedisxError;
  return new cls(status, detail);
}

/** Turns an error thrown by the native module (.status/.code/.detail) into
 *  its class; other errors pass through. */
function translate(e) {
  if (e instanceof RedisxError) return e;
  if (e && typeof e.status === 'number' && typeof e.code === 'string' && 'detail' in e) {
    return fromStatus(e.status, e.detail);
  }
  return e;
}

function invalid(detail) {
  return fromStatus(classes.InvalidArgument.status, detail);
}

module.exports = { ...classes, errors: classes, fromStatus, translate, invalid };
