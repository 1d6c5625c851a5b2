package redisx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func TestCircuitBreakerSettingsAreChecked(t *testing.T) {
	for _, bad := range [][3]int64{{-1, 1000, 1000}, {5, 0, 1000}, {5, 1000, 7200000}} {
		_, err := redisx.Open(serverURL, redisx.WithCircuitBreaker(int(bad[0]),
			time.Duration(bad[1])*time.Millisecond, time.Duration(bad[2])*time.Millisecond))
		if !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("WithCircuitBreaker%v: %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func TestCircuitBreakerFailsCallsAtOnceWhileOpen(t *testing.T) {
	s := startPrivateRedis(t)
	c, err := redisx.Open(s.URL(), redisx.WithCommandTimeout(10*time.Second), redisx.WithConnectTimeout(500*time.Millisecond),
		redisx.WithReconnectBackoff(20*time.Millisecond, 100*time.Millisecond),
		redisx.WithCircuitBreaker(3, time.Minute, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t)
	if _, err := c.Do(ctx, "PING"); err != nil {
		t.Fatalf("PING: %v", err)
	}
	s.Stop()
	open := func() bool {
		_, err := c.Do(ctx, "PING")
		return errors.Is(err, redisx.ErrConnection) && strings.Contains(err.Error(), "circuit breaker")
	}
	eventually(t, "the breaker opens", open)
	t0 := time.Now()
	for i := 0; i < 50; i++ {
		if _, err := c.Do(ctx, "PING"); !errors.Is(err, redisx.ErrConnection) || !strings.Contains(err.Error(), "circuit breaker") {
			t.Fatalf("call %d under an open breaker: %v", i, err)
		}
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("50 calls took %v; each would wait 10 s without the breaker", d)
	}
	lim, err := c.NewLimiter("brk", redisx.FixedWindow, 5, time.Second, redisx.WithLimiterFailPolicy(redisx.FailOpen))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r, err := lim.Check(context.Background(), "user")
	if err != nil || !r.Allowed || !r.FailOpen {
		t.Errorf("fail-open check under an open breaker: %+v, %v", r, err)
	}
	st := c.Stats()
	if st.CircuitOpens < 1 || st.CircuitRejected < 50 || st.CircuitsOpen != 1 {
		t.Errorf("stats %+v", st)
	}
	s.Restart()
	eventually(t, "the client answers again", func() bool { _, err := c.Do(ctx, "PING"); return err == nil })
	if st := c.Stats(); st.CircuitsOpen != 0 {
		t.Errorf("CircuitsOpen = %d after the restart", st.CircuitsOpen)
	}
}
