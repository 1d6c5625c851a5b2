package redisx_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

var algorithms = []redisx.Algorithm{
	redisx.FixedWindow, redisx.SlidingLog, redisx.SlidingWindow, redisx.TokenBucket, redisx.GCRA,
}

// seqWant is the canonical sequence every redisx binding must produce (see
// the interop worker's rl-sequence mode): limit 5 per hour, burst 0, key "k".
var seqWant = []string{
	"reset",
	"check 1 1 5 4 -",
	"check 1 1 5 3 -",
	"check 1 1 5 2 -",
	"check 1 1 5 1 -",
	"check 1 1 5 0 -",
	"check 1 0 5 0 +",
	"check 1 0 5 0 +",
	"peek 1 0 5 0 +",
	"reset",
	"peek 1 1 5 5 -",
	"check 3 1 5 2 -",
	"check 3 0 5 2 +",
	"check 2 1 5 0 -",
	"check 6 InvalidArgument",
}

func seqLine(op string, cost int64, r redisx.RateLimitResult) string {
	allowed, sign := 0, "?"
	if r.Allowed {
		allowed = 1
	}
	switch {
	case r.RetryAfter == -time.Millisecond:
		sign = "-"
	case r.RetryAfter > 0:
		sign = "+"
	}
	return fmt.Sprintf("%s %d %d %d %d %s", op, cost, allowed, r.Limit, r.Remaining, sign)
}

func TestCanonicalSequenceForEveryAlgorithm(t *testing.T) {
	c := open(t)
	for _, alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			ctx := ctxFor(t)
			l, err := c.NewLimiter(lockName(t, "seq-"+alg.String()), alg, 5, time.Hour)
			if err != nil {
				t.Fatalf("NewLimiter: %v", err)
			}
			defer l.Close()
			var got []string
			reset := func() {
				if err := l.Reset(ctx, "k"); err != nil {
					t.Fatalf("Reset: %v", err)
				}
				got = append(got, "reset")
			}
			check := func(cost int64) {
				r, err := l.CheckN(ctx, "k", cost)
				var e *redisx.Error
				switch {
				case errors.As(err, &e):
					got = append(got, fmt.Sprintf("check %d %s", cost, e.Class()))
				case err != nil:
					t.Fatalf("CheckN(%d): %v", cost, err)
				default:
					got = append(got, seqLine("check", cost, r))
				}
			}
			peek := func() {
				r, err := l.Peek(ctx, "k")
				if err != nil {
					t.Fatalf("Peek: %v", err)
				}
				got = append(got, seqLine("peek", 1, r))
			}
			reset()
			for i := 0; i < 7; i++ {
				check(1)
			}
			peek()
			reset()
			peek()
			check(3)
			check(3)
			check(2)
			check(6)
			if !reflect.DeepEqual(got, seqWant) {
				t.Errorf("sequence of %s:\n got %q\nwant %q", alg, got, seqWant)
			}
		})
	}
}

func TestAllowedResultFields(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	for _, alg := range algorithms {
		l, err := c.NewLimiter(lockName(t, alg.String()), alg, 5, time.Hour)
		if err != nil {
			t.Fatalf("NewLimiter(%s): %v", alg, err)
		}
		if l.Name() != lockName(t, alg.String()) || l.Algorithm() != alg || l.Capacity() != 5 {
			t.Errorf("%s: Name %q, Algorithm %v, Capacity %d", alg, l.Name(), l.Algorithm(), l.Capacity())
		}
		r, err := l.Check(ctx, "k")
		if err != nil {
			t.Fatalf("%s Check: %v", alg, err)
		}
		// The sliding window counter's budget is whole only once the current
		// window has also decayed out as the previous one: up to 2 periods.
		if r.FailOpen || r.RetryAfter != -time.Millisecond || r.Reset <= 0 || r.Reset > 2*time.Hour {
			t.Errorf("%s: first check %+v, want not fail-open, RetryAfter -1ms, Reset in (0, 2h]", alg, r)
		}
		for i := 0; i < 4; i++ {
			l.Check(ctx, "k")
		}
		r, err = l.Check(ctx, "k")
		if err != nil {
			t.Fatalf("%s Check: %v", alg, err)
		}
		// The sliding window counter may have to wait for most of the next
		// window as well: up to 2 periods.
		if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 2*time.Hour {
			t.Errorf("%s: 6th check %+v, want denied with RetryAfter in (0, 2h]", alg, r)
		}
	}
}

func TestAlgorithmNames(t *testing.T) {
	for i, name := range []string{"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"} {
		alg, err := redisx.ParseAlgorithm(name)
		if err != nil || alg != redisx.Algorithm(i) || alg.String() != name {
			t.Errorf("ParseAlgorithm(%q) = %v (%d), %v; want %d", name, alg, alg, err, i)
		}
	}
	if _, err := redisx.ParseAlgorithm("leaky"); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("ParseAlgorithm(leaky) = %v, want ErrInvalidArgument", err)
	}
}

func TestConcurrentChecksNeverExceedTheLimit(t *testing.T) {
	c := open(t)
	for _, alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			ctx := ctxFor(t)
			l, err := c.NewLimiter(lockName(t, "c"), alg, 20, time.Hour, redisx.WithBurst(20))
			if err != nil {
				t.Fatalf("NewLimiter: %v", err)
			}
			var allowed, denied atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						r, err := l.Check(ctx, "shared")
						if err != nil {
							t.Errorf("Check: %v", err)
							return
						}
						if r.Allowed {
							allowed.Add(1)
						} else {
							denied.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if allowed.Load() != 20 || denied.Load() != 60 {
				t.Errorf("8 goroutines x 10 checks at 20 per hour: %d allowed, %d denied; want exactly 20 and 60",
					allowed.Load(), denied.Load())
			}
		})
	}
}

func TestCostOutsideOneToCapacityIsInvalid(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	for _, alg := range algorithms {
		l, err := c.NewLimiter(lockName(t, alg.String()), alg, 5, time.Hour)
		if err != nil {
			t.Fatalf("NewLimiter(%s): %v", alg, err)
		}
		for _, cost := range []int64{6, 1000, 0, -1} {
			if _, err := l.CheckN(ctx, "k", cost); !errors.Is(err, redisx.ErrInvalidArgument) {
				t.Errorf("%s CheckN(cost %d) = %v, want ErrInvalidArgument", alg, cost, err)
			}
		}
		// Nothing was spent by the refused checks.
		if r, err := l.Peek(ctx, "k"); err != nil || !r.Allowed || r.Remaining != 5 {
			t.Errorf("%s Peek after refused costs = %+v, %v; want the whole budget", alg, r, err)
		}
	}
	// A burst above the limit raises the capacity of the bucket algorithms.
	l, err := c.NewLimiter(lockName(t, "burst"), redisx.TokenBucket, 5, time.Hour, redisx.WithBurst(10))
	if err != nil {
		t.Fatalf("NewLimiter with burst 10: %v", err)
	}
	if l.Capacity() != 10 {
		t.Errorf("Capacity with burst 10 = %d", l.Capacity())
	}
	if r, err := l.CheckN(ctx, "k", 10); err != nil || !r.Allowed || r.Remaining != 0 {
		t.Errorf("CheckN(10) with burst 10 = %+v, %v; want allowed, nothing left", r, err)
	}
}

func TestNewLimiterRejectsBadParameters(t *testing.T) {
	c := open(t)
	cases := []struct {
		what   string
		alg    redisx.Algorithm
		limit  int64
		period time.Duration
		opts   []redisx.LimiterOption
	}{
		{"limit 0", redisx.FixedWindow, 0, time.Second, nil},
		{"negative limit", redisx.GCRA, -5, time.Second, nil},
		{"period 0", redisx.TokenBucket, 5, 0, nil},
		{"period above 366 days", redisx.FixedWindow, 5, 367 * 24 * time.Hour, nil},
		{"unknown algorithm", redisx.Algorithm(9), 5, time.Second, nil},
		{"burst on a window algorithm", redisx.SlidingWindow, 5, time.Second, []redisx.LimiterOption{redisx.WithBurst(7)}},
		{"negative burst", redisx.GCRA, 5, time.Second, []redisx.LimiterOption{redisx.WithBurst(-1)}},
	}
	for _, tc := range cases {
		if l, err := c.NewLimiter(lockName(t, "bad"), tc.alg, tc.limit, tc.period, tc.opts...); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("NewLimiter with %s = %v, %v; want ErrInvalidArgument", tc.what, l, err)
		}
	}
	if _, err := c.NewLimiter("", redisx.GCRA, 5, time.Second); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("NewLimiter with an empty name = %v, want ErrInvalidArgument", err)
	}
	if _, err := c.NewLimiter("a\x00b", redisx.GCRA, 5, time.Second); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("NewLimiter with a NUL in the name = %v, want ErrInvalidArgument", err)
	}
}

func TestLimitersShareBudgetsByNameAcrossClients(t *testing.T) {
	a := open(t)
	b := open(t)
	other := open(t, redisx.WithPrefix("go-test-other"))
	ctx := ctxFor(t)
	name := lockName(t, "shared")
	la, err := a.NewLimiter(name, redisx.SlidingWindow, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.NewLimiter(name, redisx.SlidingWindow, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := other.NewLimiter(name, redisx.SlidingWindow, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	la.CheckN(ctx, "k", 2)
	if r, err := lb.Check(ctx, "k"); err != nil || !r.Allowed || r.Remaining != 0 {
		t.Errorf("second client's check = %+v, %v; want allowed with 0 left", r, err)
	}
	if r, err := la.Check(ctx, "k"); err != nil || r.Allowed {
		t.Errorf("first client's check of a spent budget = %+v, %v; want denied", r, err)
	}
	if r, err := lo.Check(ctx, "k"); err != nil || !r.Allowed || r.Remaining != 2 {
		t.Errorf("check under another prefix = %+v, %v; want a budget of its own", r, err)
	}
	if r, err := la.Check(ctx, "other-key"); err != nil || !r.Allowed || r.Remaining != 2 {
		t.Errorf("check of another key = %+v, %v; want a budget of its own", r, err)
	}
}

func TestClosedLimiterAndClientGiveErrClosed(t *testing.T) {
	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	l, err := c.NewLimiter(lockName(t, "l"), redisx.GCRA, 5, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := c.NewLimiter(lockName(t, "l2"), redisx.GCRA, 5, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	l.Close()
	if _, err := l.Check(ctx, "k"); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Check on a closed limiter = %v, want ErrClosed", err)
	}
	c.Close()
	if _, err := l2.Check(ctx, "k"); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Check after Client.Close = %v, want ErrClosed", err)
	}
	if err := l2.Reset(ctx, "k"); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Reset after Client.Close = %v, want ErrClosed", err)
	}
	if _, err := c.NewLimiter("x", redisx.GCRA, 5, time.Second); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("NewLimiter after Client.Close = %v, want ErrClosed", err)
	}
}

// deadURL is a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return "redis://127.0.0.1:" + strconv.Itoa(port)
}

func shortTimeouts(opts ...redisx.Option) []redisx.Option {
	return append(opts, redisx.WithCommandTimeout(200*time.Millisecond), redisx.WithConnectTimeout(200*time.Millisecond))
}

func TestUnreachableServerFailsOpenByDefault(t *testing.T) {
	url := deadURL(t)
	ctx := ctxFor(t)
	c := open2(t, url, shortTimeouts()...)
	l, err := c.NewLimiter("dead", redisx.FixedWindow, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Check(ctx, "k")
	if err != nil {
		t.Fatalf("Check without a server (default fail-open) = %v", err)
	}
	if !r.Allowed || !r.FailOpen || r.Limit != 5 || r.Remaining != 5 || r.Reset != 0 {
		t.Errorf("fail-open result = %+v, want allowed, FailOpen, remaining = limit = 5, reset 0", r)
	}

	closedLimiter, err := c.NewLimiter("dead", redisx.FixedWindow, 5, time.Minute, redisx.WithLimiterFailPolicy(redisx.FailClosed))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := closedLimiter.Check(ctx, "k"); !errors.Is(err, redisx.ErrConnection) && !errors.Is(err, redisx.ErrTimeout) {
		t.Errorf("fail-closed limiter without a server = %v, want ErrConnection or ErrTimeout", err)
	}

	cc := open2(t, url, shortTimeouts(redisx.WithRateLimitFailPolicy(redisx.FailClosed))...)
	lc, err := cc.NewLimiter("dead", redisx.GCRA, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Check(ctx, "k"); !errors.Is(err, redisx.ErrConnection) && !errors.Is(err, redisx.ErrTimeout) {
		t.Errorf("limiter of a fail-closed client without a server = %v, want ErrConnection or ErrTimeout", err)
	}
	// ... unless the limiter overrides the client's policy.
	lo, err := cc.NewLimiter("dead", redisx.GCRA, 5, time.Minute, redisx.WithLimiterFailPolicy(redisx.FailOpen))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := lo.Check(ctx, "k"); err != nil || !r.Allowed || !r.FailOpen {
		t.Errorf("fail-open limiter of a fail-closed client = %+v, %v; want allowed, FailOpen", r, err)
	}
}

func TestHeadersOfAllowedAndDeniedResults(t *testing.T) {
	allowed := redisx.RateLimitResult{
		Allowed: true, Limit: 10, Remaining: 7, Reset: 1500 * time.Millisecond, RetryAfter: -time.Millisecond,
	}
	want := http.Header{
		"X-Ratelimit-Limit":     {"10"},
		"X-Ratelimit-Remaining": {"7"},
		"X-Ratelimit-Reset":     {"2"},
	}
	if got := allowed.Headers(); !reflect.DeepEqual(got, want) {
		t.Errorf("Headers of an allowed result = %v, want %v", got, want)
	}
	denied := redisx.RateLimitResult{Limit: 10, Remaining: 0, Reset: 60000 * time.Millisecond, RetryAfter: 2001 * time.Millisecond}
	want = http.Header{
		"X-Ratelimit-Limit":     {"10"},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {"60"},
		"Retry-After":           {"3"},
	}
	if got := denied.Headers(); !reflect.DeepEqual(got, want) {
		t.Errorf("Headers of a denied result = %v, want %v", got, want)
	}
	// Retry-After is at least 1 second; a whole budget resets in 0.
	soon := redisx.RateLimitResult{Limit: 1, RetryAfter: 1 * time.Millisecond}
	if got := soon.Headers(); got.Get("Retry-After") != "1" || got.Get("X-RateLimit-Reset") != "0" {
		t.Errorf("Headers of a result denied for 1 ms = %v, want Retry-After 1, X-RateLimit-Reset 0", got)
	}
	exact := redisx.RateLimitResult{Limit: 1, Reset: 3000 * time.Millisecond, RetryAfter: 1000 * time.Millisecond}
	if got := exact.Headers(); got.Get("Retry-After") != "1" || got.Get("X-RateLimit-Reset") != "3" {
		t.Errorf("Headers of whole seconds = %v, want Retry-After 1, X-RateLimit-Reset 3", got)
	}
	h := http.Header{}
	exact.SetHeaders(h)
	if !reflect.DeepEqual(h, exact.Headers()) {
		t.Errorf("SetHeaders = %v, Headers = %v", h, exact.Headers())
	}
}

func TestHeadersOfRealResults(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	l, err := c.NewLimiter(lockName(t, "h"), redisx.FixedWindow, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Check(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	h := r.Headers()
	reset, _ := strconv.Atoi(h.Get("X-RateLimit-Reset"))
	if h.Get("X-RateLimit-Limit") != "1" || h.Get("X-RateLimit-Remaining") != "0" || reset < 1 || reset > 3600 ||
		h.Get("Retry-After") != "" {
		t.Errorf("headers of an allowed check = %v", h)
	}
	r, err = l.Check(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	h = r.Headers()
	retry, _ := strconv.Atoi(h.Get("Retry-After"))
	if r.Allowed || retry < 1 || retry > 3600 {
		t.Errorf("headers of a denied check = %v", h)
	}
}
