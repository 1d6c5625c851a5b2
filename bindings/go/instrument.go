package redisx

import (
	"context"
	"strings"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Instrumentation observes every public operation of a Client while it
// runs: tracing and per-call metrics plug in here (package redisxotel does
// OpenTelemetry; docs/OPENTELEMETRY.md). Start is called on the calling
// goroutine with the caller's ctx before the operation does anything; the
// ctx it returns is the one the operation (and, for stream.handle, the
// handler) runs with, and the function it returns (may be nil) is called
// exactly once, on the same goroutine, when the operation completed. Both
// must be cheap and safe for concurrent use; neither may call the client.
type Instrumentation interface {
	Start(ctx context.Context, op *Operation) (context.Context, func(*OpResult))
}

// Operation describes an operation to an Instrumentation. Only bounded
// values are here: never a key, a lock name or a value.
type Operation struct {
	// Primitive and Operation are the core's stable identifiers
	// (redisx_event_primitive / redisx_event_operation): "lock" "acquire",
	// "ratelimit" "check", "cache" "fetch" (GetOrLoad), "stream" "publish",
	// "stream" "handle", "client" "command", ...
	Primitive, Operation string
	// Command is a raw command's name, upper-cased ("SET"); "" otherwise.
	Command string
	// Name is the name the user gave the limiter, cache or stream; ""
	// for locks, idempotency records and commands.
	Name string
	// Try is true for a lock acquire that does not wait (TryLock).
	Try bool
	// Server is where the client connects (from its URL).
	Server ServerInfo
	// Stream, Group and MessageID describe stream operations ("handle":
	// the message handled).
	Stream, Group, MessageID string
	// Headers: for "publish", an Instrumentation adds the headers every
	// published message should carry (e.g. "traceparent"); a header the
	// caller set on a message wins. For "handle", the message's headers
	// "traceparent" and "tracestate", when present.
	Headers map[string]string
}

// ServerInfo is the server a client names in its URL: the host (a unix
// socket's path) and port (0 for a unix socket), the first seed of a
// cluster or the first sentinel; DB is the database index.
type ServerInfo struct {
	Address string
	Port    int
	DB      int
}

// OpResult is how an operation ended.
type OpResult struct {
	Err          error            // nil on success; an *Error (possibly wrapped), a ctx error, or a handler's error (stream.handle)
	FencingToken int64            // lock acquire: the fencing token of the lock obtained
	RateLimit    *RateLimitResult // ratelimit check and peek: the answer
	CacheOutcome string           // cache fetch and get: "hit_l1", "hit_l2", "stale", "refresh", "load", "negative", "miss"
	MessageIDs   []string         // stream publish: the ids of the messages
}

type instrBox struct{ i Instrumentation }

// SetInstrumentation makes every later operation of c report to i (nil
// removes it). Calls in progress keep the Instrumentation they started
// with. Without one an operation costs one atomic load more.
func (c *Client) SetInstrumentation(i Instrumentation) {
	if i == nil {
		c.core.instr.Store(nil)
		return
	}
	c.core.instr.Store(&instrBox{i})
}

// Server returns where the client connects, as its URL says (see
// ServerInfo).
func (c *Client) Server() ServerInfo { return c.core.server }

// start begins op under the client's Instrumentation: (ctx, nil) without one.
func (k *core) start(ctx context.Context, op *Operation) (context.Context, func(*OpResult)) {
	b := k.instr.Load()
	if b == nil || ctx == nil {
		return ctx, nil
	}
	op.Server = k.server
	return b.i.Start(ctx, op)
}

func (k *core) instrumented() bool { return k.instr.Load() != nil }

// serverOf is the server the core parsed from the client's URL and
// options (redisx_client_server_address and friends).
func serverOf(h capi.Client) ServerInfo {
	return ServerInfo{
		Address: capi.Redisx_client_server_address(h),
		Port:    capi.Redisx_client_server_port(h),
		DB:      capi.Redisx_client_database(h),
	}
}

// ---- the public operations under the Instrumentation ------------------------

// Do runs one Redis command, e.g. Do(ctx, "SET", "k", []byte{0, 1}). Arguments
// may be string, []byte, any integer, float32/64 or bool; values are binary
// safe. The reply is nil (nil reply), []byte (bulk string), string (status
// reply such as "OK"), int64, or []any of those; an error reply is returned
// as an *Error wrapping ErrServer (inside an array it is an *Error element).
// Not for blocking commands (BLPOP, SUBSCRIBE, ...).
func (c *Client) Do(ctx context.Context, args ...any) (any, error) {
	if !c.core.instrumented() {
		return c.do(ctx, args)
	}
	op := &Operation{Primitive: "client", Operation: "command"}
	if len(args) > 0 {
		if b, err := argBytes(args[0]); err == nil {
			op.Command = strings.ToUpper(string(b))
		}
	}
	ictx, done := c.core.start(ctx, op)
	v, err := c.do(ictx, args)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return v, err
}

func (c *Client) acquire(ctx context.Context, name string, ttl, limit time.Duration) (*Lock, error) {
	ictx, done := c.core.start(ctx, &Operation{Primitive: "lock", Operation: "acquire", Try: limit == 0})
	lk, err := c.acquireLock(ictx, name, ttl, limit)
	if done != nil {
		r := &OpResult{Err: err}
		if lk != nil {
			r.FencingToken = lk.fencing
		}
		done(r)
	}
	return lk, err
}

// Release gives the lock up if this handle still owns it; ErrLockNotOwned
// when its lease expired or someone else holds it now. It stops automatic
// renewal either way.
func (lk *Lock) Release(ctx context.Context) error {
	ictx, done := lk.h.k.start(ctx, &Operation{Primitive: "lock", Operation: "release"})
	err := lk.release(ictx)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

// Extend sets the remaining lease to ttl (and the lease automatic renewal
// keeps) if this handle still owns the lock; ErrLockNotOwned otherwise.
func (lk *Lock) Extend(ctx context.Context, ttl time.Duration) error {
	ictx, done := lk.h.k.start(ctx, &Operation{Primitive: "lock", Operation: "extend"})
	err := lk.extend(ictx, ttl)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (l *Limiter) instrumented(ctx context.Context, operation string, run func(context.Context) (RateLimitResult, error)) (RateLimitResult, error) {
	ictx, done := l.client.core.start(ctx, &Operation{Primitive: "ratelimit", Operation: operation, Name: l.name})
	r, err := run(ictx)
	if done != nil {
		res := &OpResult{Err: err}
		if err == nil {
			res.RateLimit = &r
		}
		done(res)
	}
	return r, err
}

// Reset forgets key's state: its whole budget is available again.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	ictx, done := l.client.core.start(ctx, &Operation{Primitive: "ratelimit", Operation: "reset", Name: l.name})
	err := l.reset(ictx, key)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

// Version returns the version of the redisx library this package carries
// ("MAJOR.MINOR.PATCH"): the package's version, the instrumentation scope's.
func Version() string { return capi.Redisx_version_string() }
