'use strict';
// redisx for Node.js: distributed locks with fencing tokens, rate limiting,
// idempotency records and a multiplexing client, from the redisx C core (the
// same keys and Lua scripts as the Python and Go packages).
//
// Every export is a plain `exports.X =` assignment so that ESM's named imports
// (`import { Client, LockHeld } from 'redisx'`) find them.
const N = require('./native');
const errors = require('./errors');
const { Client, Lock } = require('./client');
const ratelimit = require('./ratelimit');
const idem = require('./idempotency');
const http = require('./http');
const cache = require('./cache');

exports.Client = Client;
exports.Lock = Lock;
exports.Limiter = ratelimit.Limiter;
exports.RateLimitResult = ratelimit.RateLimitResult;
/** Express-style rate-limit middleware: rateLimit(limiter, { key, cost }). */
exports.rateLimit = ratelimit.rateLimit;
/** The standard rate-limit headers of a result. */
exports.rateLimitHeaders = ratelimit.rateLimitHeaders;
/** The algorithm names, in C enum order. */
exports.algorithms = Object.freeze(Object.keys(ratelimit.ALGORITHMS));
exports.IdempotencyRecord = idem.IdempotencyRecord;
exports.IdempotencyState = idem.IdempotencyState;
exports.IdempotencyConflict = idem.IdempotencyConflict;
exports.IdempotencyInProgress = idem.IdempotencyInProgress;
exports.IdempotencyMismatch = idem.IdempotencyMismatch;
exports.jsonCodec = idem.jsonCodec;
exports.Cache = cache.Cache;
/** NestJS-style method decorator: @Cached({ key, ttl, cache }). */
exports.Cached = cache.Cached;
/** Method decorator: @InvalidateTags({ tags, cache }) after the method resolved. */
exports.InvalidateTags = cache.InvalidateTags;
/** Thrown by a cache loader for "no value"; what getOrLoad rejects with for a cached "not found". */
exports.NotFound = cache.NotFound;
/** The cache codecs by name: json (default), buffer, string. */
exports.cacheCodecs = cache.codecs;
/** Express-style HTTP idempotency middleware: idempotency(client, options). */
exports.idempotency = http.idempotency;
exports.IdempotencyInterceptor = http.IdempotencyInterceptor;
/** SHA-256 of METHOD "\n" path-with-query "\n" body (the HTTP helpers' fingerprint). */
exports.requestFingerprint = http.requestFingerprint;
const stream = require('./stream');
exports.Consumer = stream.Consumer;
exports.StreamMessage = stream.StreamMessage;
/** Throw from a stream handler to dead-letter its message at once. */
exports.DeadLetter = stream.DeadLetter;
/** Method decorator: @StreamConsumer({ stream, group, concurrency, ... }). */
exports.StreamConsumer = stream.StreamConsumer;
/** Starts the @StreamConsumer methods of an instance: { consumers, done, stop() }. */
exports.startStreamConsumers = stream.startStreamConsumers;
exports.bytesCodec = stream.bytesCodec;
exports.jsonStreamCodec = stream.jsonStreamCodec;
exports.RedisxError = errors.RedisxError;
exports.InvalidArgument = errors.InvalidArgument;
exports.OutOfMemory = errors.OutOfMemory;
exports.Timeout = errors.Timeout;
exports.ConnectionError = errors.ConnectionError;
exports.ClientClosed = errors.ClientClosed;
exports.AuthError = errors.AuthError;
exports.ServerError = errors.ServerError;
exports.ProtocolError = errors.ProtocolError;
exports.LockHeld = errors.LockHeld;
exports.LockNotOwned = errors.LockNotOwned;
exports.WouldBlock = errors.WouldBlock;
exports.Empty = errors.Empty;
exports.InvalidURL = errors.InvalidURL;
exports.Cancelled = errors.Cancelled;
/** What an operation aborted through its `signal` rejects with (a Cancelled). */
exports.AbortError = errors.AbortError;
/** Every error class by name, including any for statuses added to the C
 *  table after this file was written. */
exports.errors = errors.errors;
/** Version of the loaded libredisx, "MAJOR.MINOR.PATCH". */
exports.libraryVersion = N.redisx_version_string();
/** The SWIG-generated module, one function per C call (advanced use). */
exports.native = N;
