package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// context.Background() has no Done channel: these calls take the blocking
// direct path and must answer exactly as the asynchronous one does.
func TestUncancellableCallsAnswerAsTheAsyncPath(t *testing.T) {
	c := open(t)
	bg := context.Background()
	name := lockName(t, "l")
	lk, err := c.TryLock(bg, name, time.Minute)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	if _, err := c.TryLock(bg, name, time.Minute); !errors.Is(err, redisx.ErrLockHeld) {
		t.Errorf("TryLock of a held lock = %v, want ErrLockHeld", err)
	}
	start := time.Now()
	if _, err := c.Lock(bg, name, time.Minute, redisx.WithWait(200*time.Millisecond)); !errors.Is(err, redisx.ErrLockHeld) || time.Since(start) < 150*time.Millisecond {
		t.Errorf("Lock waiting 200 ms = %v after %v, want ErrLockHeld after the wait", err, time.Since(start))
	}
	if info, err := c.LockInfo(bg, name); err != nil || !info.Locked || info.FencingToken != lk.FencingToken() {
		t.Errorf("LockInfo = %+v, %v; want held with token %d", info, err, lk.FencingToken())
	}
	if err := lk.Extend(bg, time.Minute); err != nil {
		t.Errorf("Extend: %v", err)
	}
	if err := lk.Release(bg); err != nil {
		t.Errorf("Release: %v", err)
	}
	if err := lk.Release(bg); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("second Release = %v, want ErrLockNotOwned", err)
	}
	key := lockName(t, "bin")
	if _, err := c.Do(bg, "SET", key, []byte{0, 1, 2}); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if v, err := c.Do(bg, "GET", key); err != nil || string(v.([]byte)) != "\x00\x01\x02" {
		t.Errorf("GET = %q, %v", v, err)
	}
	var e *redisx.Error
	if _, err := c.Do(bg, "NOSUCHCOMMAND"); !errors.As(err, &e) || !errors.Is(err, redisx.ErrServer) {
		t.Errorf("unknown command = %v, want an *Error wrapping ErrServer", err)
	}
	rec, err := c.BeginIdempotent(bg, key+":idem", []byte("fp"), time.Minute, 0)
	if err != nil || rec.State() != redisx.IdemNew {
		t.Fatalf("begin = %v, %v; want NEW", rec, err)
	}
	if err := rec.Complete(bg, []byte("done"), nil, time.Minute); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if again, err := c.BeginIdempotent(bg, key+":idem", []byte("fp"), time.Minute, 0); err != nil ||
		again.State() != redisx.IdemCompleted || string(again.Response()) != "done" {
		t.Errorf("begin after Complete = %v, %v; want COMPLETED with the response", again, err)
	}
	l, err := c.NewLimiter(lockName(t, "rl"), redisx.FixedWindow, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false} {
		if r, err := l.Check(bg, "k"); err != nil || r.Allowed != want {
			t.Errorf("check %d = %+v, %v; want allowed %v", i, r, err, want)
		}
	}
	if err := l.Reset(bg, "k"); err != nil {
		t.Errorf("Reset: %v", err)
	}
	if r, err := l.Peek(bg, "k"); err != nil || r.Remaining != 2 {
		t.Errorf("Peek after Reset = %+v, %v; want 2 remaining", r, err)
	}
	st, ok := c.Stats().Operation("lock", "acquire")
	if !ok || st.OK < 1 || st.Rejected < 2 {
		t.Errorf("stats of lock/acquire = %+v; want the direct calls counted", st)
	}
}

func TestManyUncancellableGoroutinesUseFewThreads(t *testing.T) {
	c := open(t)
	bg := context.Background()
	name := lockName(t, "held")
	holder, err := c.TryLock(bg, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release(bg)
	before := threads(t)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := int64(threads(t)); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Value
	// Waits that last (a held lock): a goroutine per blocking C call would
	// hold an OS thread each for the whole wait.
	for g := 0; g < 300; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if _, err := c.Do(bg, "SET", lockName(t, fmt.Sprint(g)), g); err != nil {
				failed.CompareAndSwap(nil, err)
			}
			if _, err := c.Lock(bg, name, time.Minute, redisx.WithWait(300*time.Millisecond)); !errors.Is(err, redisx.ErrLockHeld) {
				failed.CompareAndSwap(nil, fmt.Errorf("Lock of a held lock = %v, want ErrLockHeld", err))
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("OS threads: before %d, peak %d, for 300 goroutines on context.Background()", before, peak.Load())
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	if peak.Load() >= 100 {
		t.Errorf("peak OS thread count %d for 300 goroutines; want far fewer (< 100)", peak.Load())
	}
}
