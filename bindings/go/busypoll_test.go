package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// Busy polling (WithBusyPoll, the core's redisx_options_set_busy_poll_us):
// the option's checks, and that spinning on the socket changes no answer.

func TestBusyPollSettingsAreChecked(t *testing.T) {
	for _, bad := range []time.Duration{-time.Microsecond, 100*time.Millisecond + time.Microsecond, time.Hour} {
		if _, err := redisx.Open(serverURL, redisx.WithBusyPoll(bad)); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("WithBusyPoll(%v): %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func TestBusyPollAnswersTheSame(t *testing.T) {
	c, err := redisx.Open(serverURL, redisx.WithBusyPoll(200*time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t)
	key := fmt.Sprintf("bp-k-%d", time.Now().UnixNano())
	job := fmt.Sprintf("bp-job-%d", time.Now().UnixNano())
	for i := 0; i < 200; i++ {
		if _, err := c.Do(ctx, "SET", key, fmt.Sprint(i)); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
		if v, err := c.Do(ctx, "GET", key); err != nil || string(v.([]byte)) != fmt.Sprint(i) {
			t.Fatalf("GET %d: %v %v", i, v, err)
		}
	}
	// Many goroutines at once: some calls join the I/O thread's pipeline.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := c.Do(ctx, "INCR", key+"-n"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("INCR: %v", err)
	}
	if v, err := c.Do(ctx, "GET", key+"-n"); err != nil || string(v.([]byte)) != "800" {
		t.Fatalf("after 16x50 INCR: %v %v", v, err)
	}
	lk, err := c.TryLock(ctx, job, 30*time.Second)
	if err != nil || lk.FencingToken() <= 0 {
		t.Fatalf("TryLock: %v", err)
	}
	if _, err := c.TryLock(ctx, job, 30*time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("second TryLock: %v", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBusyPollFrozenServerStillTimesOut(t *testing.T) {
	s := startPrivateRedis(t)
	c, err := redisx.Open(s.URL(), redisx.WithBusyPoll(100*time.Millisecond), redisx.WithCommandTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do(context.Background(), "PING"); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	defer s.Thaw()
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, redisx.ErrTimeout) {
		t.Fatalf("PING on a frozen server: %v, want ErrTimeout", err)
	}
}
