package redisx

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Algorithm is a rate-limiting algorithm; the numbers are the C library's
// (redisx_ratelimit_algorithm) and never change.
type Algorithm int

const (
	// FixedWindow allows limit units per window of period, windows aligned
	// to the Unix epoch. Cheap; allows up to 2*limit around a boundary.
	FixedWindow Algorithm = 0
	// SlidingLog is exact: at most limit units in any period (one sorted-set
	// entry per unit, so memory grows with the limit).
	SlidingLog Algorithm = 1
	// SlidingWindow weighs the previous fixed window by how much of it still
	// overlaps the sliding window: close to exact, constant memory.
	SlidingWindow Algorithm = 2
	// TokenBucket is a bucket of burst tokens refilled at limit per period.
	TokenBucket Algorithm = 3
	// GCRA is the generic cell rate algorithm: the token bucket's behaviour
	// stored as one timestamp.
	GCRA Algorithm = 4
)

var algorithmNames = [...]string{"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"}

// String returns the name every redisx binding uses: "fixed_window",
// "sliding_log", "sliding_window", "token_bucket" or "gcra".
func (a Algorithm) String() string {
	if a >= 0 && int(a) < len(algorithmNames) {
		return algorithmNames[a]
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// ParseAlgorithm returns the Algorithm of a name String gives;
// ErrInvalidArgument for any other name.
func ParseAlgorithm(name string) (Algorithm, error) {
	for i, n := range algorithmNames {
		if n == name {
			return Algorithm(i), nil
		}
	}
	return 0, invalid("unknown rate-limit algorithm %q", name)
}

// FailPolicy says what a primitive does when Redis cannot be reached.
type FailPolicy int

const (
	// FailClosed reports the error (ErrConnection, ErrTimeout, ...).
	FailClosed FailPolicy = 0
	// FailOpen pretends success in the degraded way the primitive documents
	// and says so in its result.
	FailOpen FailPolicy = 1
)

// Limiter is a rate limit bound to a client: limit units per period for
// every key, in one budget shared by every limiter with the same name,
// algorithm and parameters on the same prefix, in any process and any
// redisx language. Safe for concurrent use. Close frees it early; a Limiter
// dropped without Close is freed by the garbage collector.
type Limiter struct {
	client   *Client // keeps the client reachable while the limiter is
	h        *limiterHandle
	name     string
	alg      Algorithm
	capacity int64
}

// limiterHandle owns the C handle; Close or the Limiter's cleanup frees it.
type limiterHandle struct {
	mu    sync.RWMutex // held for reading around every call that uses h
	h     capi.Limiter
	freed bool
}

func (lh *limiterHandle) free() {
	lh.mu.Lock()
	defer lh.mu.Unlock()
	if !lh.freed {
		lh.freed = true
		capi.Redisx_limiter_free(lh.h)
	}
}

// use runs f with the C handle unless the limiter was closed.
func (lh *limiterHandle) use(f func(capi.Limiter) error) error {
	lh.mu.RLock()
	defer lh.mu.RUnlock()
	if lh.freed {
		return newError(codeClosed, "limiter is closed")
	}
	return f(lh.h)
}

// LimiterOption configures Client.NewLimiter.
type LimiterOption func(*limiterConfig)

type limiterConfig struct {
	burst  int64
	policy *FailPolicy
}

// WithBurst sets the bucket size of TokenBucket and GCRA (default: limit);
// the window algorithms accept only 0 or limit.
func WithBurst(n int64) LimiterOption {
	return func(c *limiterConfig) { c.burst = n }
}

// WithLimiterFailPolicy overrides the client's rate-limit fail policy (see
// WithRateLimitFailPolicy; default FailOpen) for this limiter.
func WithLimiterFailPolicy(p FailPolicy) LimiterOption {
	return func(c *limiterConfig) { c.policy = &p }
}

// NewLimiter defines the rate limit name (1..256 bytes): limit units per
// period with the given algorithm. Invalid parameters give
// ErrInvalidArgument naming the offending one. No round trip to Redis.
func (c *Client) NewLimiter(name string, alg Algorithm, limit int64, period time.Duration, opts ...LimiterOption) (*Limiter, error) {
	var cfg limiterConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := noNUL(name, "limiter name"); err != nil {
		return nil, err
	}
	k := c.core
	h, err := capi.Redisx_limiter_new(k.h, name, enumAs(capi.REDISX_RATELIMIT_FIXED_WINDOW, int(alg)), limit, millis(period), cfg.burst).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return nil, errorOf(err)
	}
	if cfg.policy != nil {
		if err := capi.Redisx_limiter_set_fail_policy(h, enumAs(capi.REDISX_FAIL_CLOSED, int(*cfg.policy))); err != nil {
			capi.Redisx_limiter_free(h)
			return nil, errorOf(err)
		}
	}
	l := &Limiter{
		client:   c,
		h:        &limiterHandle{h: h},
		name:     name,
		alg:      alg,
		capacity: capi.Redisx_limiter_capacity(h),
	}
	runtime.AddCleanup(l, (*limiterHandle).free, l.h)
	return l, nil
}

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Algorithm returns the limiter's algorithm.
func (l *Limiter) Algorithm() Algorithm { return l.alg }

// Capacity is the most units a key can spend at once: limit for the window
// algorithms, burst for TokenBucket and GCRA. Larger costs are refused with
// ErrInvalidArgument.
func (l *Limiter) Capacity() int64 { return l.capacity }

// Close frees the limiter; later calls return ErrClosed. Checks in flight
// complete normally. Idempotent.
func (l *Limiter) Close() error {
	l.h.free()
	return nil
}

// Check spends one unit of key's budget if it is available. A denied check
// is no error: read RateLimitResult.Allowed. Connection errors follow the
// fail policy (default: allowed, with FailOpen set).
func (l *Limiter) Check(ctx context.Context, key string) (RateLimitResult, error) {
	return l.CheckN(ctx, key, 1)
}

// CheckN spends cost units (1..Capacity) of key's budget if they are all
// available; a denied check spends nothing. A cost outside 1..Capacity is
// ErrInvalidArgument (it could never be allowed).
func (l *Limiter) CheckN(ctx context.Context, key string, cost int64) (RateLimitResult, error) {
	return l.instrumented(ctx, "check", func(ctx context.Context) (RateLimitResult, error) { return l.checkN(ctx, key, cost) })
}

func (l *Limiter) checkN(ctx context.Context, key string, cost int64) (RateLimitResult, error) {
	return l.result(ctx, key, func(h capi.Limiter) capi.Out[capi.RatelimitResult] {
		return capi.Redisx_limiter_check(h, key, cost)
	}, func(h capi.Limiter, tag uintptr) error {
		return capi.Redisx_limiter_check_async(h, key, cost, tag)
	})
}

// Peek tells what a check of cost 1 would answer now, spending nothing.
func (l *Limiter) Peek(ctx context.Context, key string) (RateLimitResult, error) {
	return l.instrumented(ctx, "peek", func(ctx context.Context) (RateLimitResult, error) { return l.peek(ctx, key) })
}

func (l *Limiter) peek(ctx context.Context, key string) (RateLimitResult, error) {
	return l.result(ctx, key, func(h capi.Limiter) capi.Out[capi.RatelimitResult] {
		return capi.Redisx_limiter_peek(h, key)
	}, func(h capi.Limiter, tag uintptr) error {
		return capi.Redisx_limiter_peek_async(h, key, tag)
	})
}

// Reset forgets key's state: its whole budget is available again.
func (l *Limiter) reset(ctx context.Context, key string) error {
	if err := noNUL(key, "key"); err != nil {
		return err
	}
	k := l.client.core
	var err error
	if k.tryDirect(ctx) {
		err = errorOf(l.h.use(func(h capi.Limiter) error { return capi.Redisx_limiter_reset(h, key) }))
		k.leaveDirect()
	} else {
		err = k.callStatus(ctx, func(tag uintptr) error {
			return l.h.use(func(h capi.Limiter) error { return capi.Redisx_limiter_reset_async(h, key, tag) })
		})
	}
	runtime.KeepAlive(l)
	return err
}

// result runs a check or peek: blocking (run) when the client takes the
// direct path for ctx, else asynchronous (submit).
func (l *Limiter) result(ctx context.Context, key string, run func(capi.Limiter) capi.Out[capi.RatelimitResult],
	submit func(capi.Limiter, uintptr) error) (RateLimitResult, error) {
	if err := noNUL(key, "key"); err != nil {
		return RateLimitResult{}, err
	}
	k := l.client.core
	var r capi.RatelimitResult
	if k.tryDirect(ctx) {
		err := l.h.use(func(h capi.Limiter) error {
			var err error
			r, err = run(h).Get()
			return err
		})
		k.leaveDirect()
		runtime.KeepAlive(l)
		if err != nil {
			return RateLimitResult{}, errorOf(err)
		}
	} else {
		it, err := k.call(ctx, func(tag uintptr) error {
			return l.h.use(func(h capi.Limiter) error { return submit(h, tag) })
		})
		runtime.KeepAlive(l)
		if err != nil {
			return RateLimitResult{}, err
		}
		if err := status(it); err != nil {
			capi.Redisx_item_free(it)
			return RateLimitResult{}, err
		}
		r = capi.Redisx_item_take_ratelimit_result(it)
		capi.Redisx_item_free(it)
	}
	defer capi.Redisx_ratelimit_result_free(r)
	return RateLimitResult{
		Allowed:    capi.Redisx_ratelimit_result_allowed(r) != 0,
		Limit:      capi.Redisx_ratelimit_result_limit(r),
		Remaining:  capi.Redisx_ratelimit_result_remaining(r),
		Reset:      time.Duration(capi.Redisx_ratelimit_result_reset_ms(r)) * time.Millisecond,
		RetryAfter: time.Duration(capi.Redisx_ratelimit_result_retry_after_ms(r)) * time.Millisecond,
		FailOpen:   capi.Redisx_ratelimit_result_fail_open(r) != 0,
	}, nil
}

// RateLimitResult is the answer of a check or peek.
type RateLimitResult struct {
	Allowed    bool          // the check was allowed (and its cost spent)
	Limit      int64         // the limiter's capacity (X-RateLimit-Limit)
	Remaining  int64         // units still available after this check, >= 0
	Reset      time.Duration // until the key's budget is whole again (0: it is whole now)
	RetryAfter time.Duration // when denied: until the same cost can be allowed; -1ms when allowed
	FailOpen   bool          // Redis was unreachable or too slow and the fail-open policy allowed the check; it may or may not have been counted
}

// Headers returns the standard rate-limit response headers of r, by the
// rule every redisx binding applies:
//
//	X-RateLimit-Limit     = Limit
//	X-RateLimit-Remaining = Remaining
//	X-RateLimit-Reset     = Reset in seconds, rounded up
//	Retry-After           = RetryAfter in seconds, rounded up, at least 1; only when denied
func (r RateLimitResult) Headers() http.Header {
	h := make(http.Header, 4)
	r.SetHeaders(h)
	return h
}

// SetHeaders sets the headers of Headers on h (e.g. w.Header()). The rule
// is the C core's (redisx_http_ratelimit_answer), the same in every binding;
// negative values (a hand-made result) count as 0.
func (r RateLimitResult) SetHeaders(h http.Header) {
	a, err := r.answer()
	if err != nil {
		return // cannot happen: every value is clamped to what the core takes
	}
	for _, kv := range a.header {
		if kv[0] != "Content-Type" {
			h.Set(kv[0], kv[1])
		}
	}
}

// answer is the core's rate-limit answer of r: the headers (status 0) when
// allowed, the whole 429 when denied.
func (r RateLimitResult) answer() (httpAnswer, error) {
	allowed := 0
	if r.Allowed {
		allowed = 1
	}
	return takeAnswer(capi.Redisx_http_ratelimit_answer(allowed, max(0, r.Limit), max(0, r.Remaining),
		max(0, r.Reset.Milliseconds()), max(0, r.RetryAfter.Milliseconds())))
}
