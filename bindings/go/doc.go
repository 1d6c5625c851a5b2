// Package redisx is the Go binding of redisx: Redis building blocks (so far
// a multiplexing client, distributed locks with fencing tokens, rate limits
// and idempotency records, with net/http middleware for the last two)
// implemented once in C and shared, key for key and script for script, with
// the Python and Node.js bindings.
//
//	c, err := redisx.Open("redis://127.0.0.1:6379/0")
//	if err != nil { ... }
//	defer c.Close()
//	lk, err := c.Lock(ctx, "nightly-report", 30*time.Second)
//	if err != nil { ... }          // waits up to 10s; ctx can end the wait sooner
//	defer lk.Release(ctx)
//	write(lk.FencingToken(), data) // let the resource reject older tokens
//
// Rate limits and idempotency:
//
//	l, err := c.NewLimiter("api", redisx.GCRA, 100, time.Minute)
//	mux.Handle("/api/", l.Middleware(redisx.RateLimitConfig{})(api))                    // 429, X-RateLimit-*
//	mux.Handle("/orders", c.IdempotencyMiddleware(redisx.IdempotencyConfig{})(orders)) // Idempotency-Key
//
// Errors are *Error values carrying the C status code, its name and a
// detail; errors.Is matches them against the sentinels (ErrLockHeld,
// ErrLockNotOwned, ErrTimeout, ErrConnection, ErrClosed, ...), whose names are
// the same in every redisx binding.
//
// An operation whose context can be cancelled goes through the C library's
// asynchronous API: the calling goroutine waits on a channel (and on its
// context, whose end cancels the operation in the library), while one
// goroutine per client drains the library's completion queue from Go's
// network poller. So any number of goroutines can wait for locks without
// holding OS threads. An operation whose context can never be cancelled
// (context.Background()) runs the library's blocking form on its own
// thread, one round trip on an idle connection. Retries, backoff, renewal
// and key layout stay in the C library.
package redisx
