package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// promptly is the generous bound for "at once" on a loaded machine: a
// cancelled wait must end long before the holder's lease (a minute) or the
// default wait (10 s) would end it.
const promptly = time.Second

// holdLock takes name for a minute on its own client (the holder).
func holdLock(t *testing.T, name string) (*redisx.Client, *redisx.Lock) {
	t.Helper()
	hc := open(t)
	holder, err := hc.Lock(ctxFor(t), name, time.Minute)
	if err != nil {
		t.Fatalf("holder Lock: %v", err)
	}
	return hc, holder
}

// assertFreeAndUntaken checks, after the holder released name, that the
// cancelled waiter never took it: the lock stays free and the newest fencing
// token the server remembers is still the holder's.
func assertFreeAndUntaken(t *testing.T, c *redisx.Client, name string, holder *redisx.Lock) {
	t.Helper()
	ctx := ctxFor(t)
	if err := holder.Release(ctx); err != nil {
		t.Fatalf("holder Release: %v", err)
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		info, err := c.LockInfo(ctx, name)
		if err != nil {
			t.Fatalf("LockInfo: %v", err)
		}
		if info.Locked || info.LastFencingToken != holder.FencingToken() {
			t.Fatalf("after the holder's release: %+v; want free, last token %d (the cancelled waiter took it)",
				info, holder.FencingToken())
		}
	}
	lk, err := c.TryLock(ctx, name, time.Second)
	if err != nil {
		t.Fatalf("TryLock after the release: %v", err)
	}
	lk.Release(ctx)
}

func TestCancelStopsALockWaitAtOnce(t *testing.T) {
	name := lockName(t, "l")
	_, holder := holdLock(t, name)
	c := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	lk, err := c.Lock(ctx, name, time.Minute) // default wait: 10 s
	elapsed := time.Since(start)
	if lk != nil || !errors.Is(err, context.Canceled) || !errors.Is(err, redisx.ErrCancelled) {
		t.Fatalf("Lock cancelled while waiting = %v, %v; want nil, context.Canceled and ErrCancelled", lk, err)
	}
	if elapsed > 200*time.Millisecond+promptly {
		t.Errorf("Lock returned %v after the cancel; want at once", elapsed-200*time.Millisecond)
	}
	assertFreeAndUntaken(t, c, name, holder)
}

func TestDeadlineShorterThanTheWaitEndsItAtOnce(t *testing.T) {
	name := lockName(t, "l")
	_, holder := holdLock(t, name)
	c := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	lk, err := c.Lock(ctx, name, time.Minute, redisx.WithWait(30*time.Second))
	elapsed := time.Since(start)
	if lk != nil || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, redisx.ErrCancelled) {
		t.Fatalf("Lock past its deadline = %v, %v; want nil, context.DeadlineExceeded and ErrCancelled", lk, err)
	}
	if elapsed > 200*time.Millisecond+promptly {
		t.Errorf("Lock returned %v after its deadline; want at once", elapsed-200*time.Millisecond)
	}
	var e *redisx.Error
	if !errors.As(err, &e) || e.Name != "ERR_CANCELLED" || e.Class() != "Cancelled" {
		t.Errorf("errors.As(%v) = %+v; want the ERR_CANCELLED *Error", err, e)
	}
	assertFreeAndUntaken(t, c, name, holder)
}

func TestCancelStopsAWaitingBeginAtOnce(t *testing.T) {
	for _, deadline := range []bool{false, true} {
		t.Run(fmt.Sprintf("deadline=%v", deadline), func(t *testing.T) {
			c := open(t)
			key := lockName(t, "k")
			owner := begin(t, c, key, "fp", 30*time.Second, 0)
			var ctx context.Context
			var cancel context.CancelFunc
			want := context.Canceled
			if deadline {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
				want = context.DeadlineExceeded
			} else {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			defer cancel()
			start := time.Now()
			rec, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, time.Minute)
			elapsed := time.Since(start)
			if rec != nil || !errors.Is(err, want) || !errors.Is(err, redisx.ErrCancelled) {
				t.Fatalf("cancelled waiting begin = %v, %v; want nil, %v and ErrCancelled", rec, err, want)
			}
			if elapsed > 200*time.Millisecond+promptly {
				t.Errorf("begin returned %v after the cancel; want at once", elapsed-200*time.Millisecond)
			}
			// The wait is gone: when the owner fails, nobody takes the record,
			// so the next begin gets NEW at its first try (an abandoned wait
			// would have taken it and held it for 30 s, or until it is failed).
			if err := owner.Fail(ctxFor(t)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			r := begin(t, c, key, "fp", 30*time.Second, 0)
			if r.State() != redisx.IdemNew || r.TakenOver() {
				t.Fatalf("begin after the owner failed = %v (taken over %v); want NEW", r.State(), r.TakenOver())
			}
			r.Fail(ctxFor(t))
		})
	}
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return len(es)
}

func TestCancelledCallsLeakNoGoroutineTagOrHandle(t *testing.T) {
	name := lockName(t, "l")
	_, holder := holdLock(t, name)
	defer holder.Release(ctxFor(t))
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	key := lockName(t, "k")
	owner := begin(t, c, key, "fp", time.Minute, 0)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(20+i)*time.Millisecond)
			defer cancel()
			var err error
			if i%2 == 0 {
				_, err = c.Lock(ctx, name, time.Minute)
			} else {
				_, err = c.BeginIdempotent(ctx, key, []byte("fp"), time.Minute, time.Minute)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				wrong.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d cancelled waits did not return context.DeadlineExceeded", n)
	}
	if n := redisx.Pending(c); n != 0 {
		t.Errorf("%d tags still pending after every call returned", n)
	}
	if s := c.Stats(); s.InFlight != 0 {
		t.Errorf("library reports %d operations in flight after every call returned", s.InFlight)
	}
	if err := owner.Fail(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, owner = nil, nil
	// Closed and unreachable: its goroutines end and the cleanup frees the
	// handle and its queue (whose descriptor would otherwise stay open).
	eventually(t, "goroutines and descriptors back to their count before", func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= goroutines && openFDs(t) <= fds
	})
}

func TestCallsRacingCloseGetNilOrErrClosed(t *testing.T) {
	for round := 0; round < 10; round++ {
		c, err := redisx.Open(serverURL)
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.NewLimiter(lockName(t, "rl"), redisx.GCRA, 1_000_000, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var bad atomic.Value
		var calls, closed atomic.Int64
		stop := make(chan struct{})
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				// Even goroutines use the blocking direct path
				// (context.Background), odd ones the asynchronous one.
				ctx := context.Background()
				if g%2 == 1 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Minute)
					defer cancel()
				}
				for i := 0; ; i++ {
					var err error
					switch i % 3 {
					case 0:
						_, err = c.Do(ctx, "SET", lockName(t, fmt.Sprint(g)), i)
					case 1:
						var lk *redisx.Lock
						if lk, err = c.TryLock(ctx, lockName(t, fmt.Sprint("lk", round, ":", g)), time.Minute); err == nil {
							err = lk.Release(ctx)
						}
					case 2:
						_, err = l.Check(ctx, fmt.Sprint(g))
					}
					calls.Add(1)
					if errors.Is(err, redisx.ErrClosed) {
						closed.Add(1)
					} else if err != nil {
						bad.CompareAndSwap(nil, err)
					}
					select {
					case <-stop:
						return
					default:
					}
				}
			}(g)
		}
		time.Sleep(time.Duration(5+round*3) * time.Millisecond)
		c.Close()
		time.Sleep(5 * time.Millisecond) // calls after Close too
		close(stop)
		wg.Wait()
		if err := bad.Load(); err != nil {
			t.Fatalf("round %d: a call racing Close returned %v; want nil or ErrClosed", round, err)
		}
		if closed.Load() == 0 {
			t.Fatalf("round %d: no call met the closed client (%d calls)", round, calls.Load())
		}
		if n := redisx.Pending(c); n != 0 {
			t.Fatalf("round %d: %d tags pending after Close", round, n)
		}
	}
}
