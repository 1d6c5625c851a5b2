package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func TestLockThenReleaseFreesTheLock(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "a")

	lk, err := c.Lock(ctx, name, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if lk.Name() != name {
		t.Errorf("Name() = %q, want %q", lk.Name(), name)
	}
	if !strings.HasPrefix(lk.Token(), fmt.Sprintf("%d:", lk.FencingToken())) {
		t.Errorf("Token() = %q, want it to start with the fencing token %d", lk.Token(), lk.FencingToken())
	}
	if lk.FailOpen() {
		t.Error("FailOpen() = true for a lock granted by Redis")
	}
	info, err := c.LockInfo(ctx, name)
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if !info.Locked || info.FencingToken != lk.FencingToken() || info.TTL <= 0 || info.TTL > 10*time.Second {
		t.Errorf("LockInfo while held = %+v, want locked by fencing token %d with a TTL in (0, 10s]", info, lk.FencingToken())
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	info, err = c.LockInfo(ctx, name)
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if info.Locked || info.LastFencingToken != lk.FencingToken() {
		t.Errorf("LockInfo after release = %+v, want free with last fencing token %d", info, lk.FencingToken())
	}
	// Released twice: the second time this handle no longer owns it.
	if err := lk.Release(ctx); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("second Release = %v, want ErrLockNotOwned", err)
	}
}

func TestFencingTokensStrictlyIncrease(t *testing.T) {
	c := open(t)
	other := open(t) // another client, same prefix: same counter
	ctx := ctxFor(t)
	name := lockName(t, "f")
	var last int64
	for i := 0; i < 5; i++ {
		cl := c
		if i%2 == 1 {
			cl = other
		}
		lk, err := cl.Lock(ctx, name, 5*time.Second)
		if err != nil {
			t.Fatalf("Lock #%d: %v", i, err)
		}
		if lk.FencingToken() <= last {
			t.Fatalf("fencing token #%d = %d, not above %d", i, lk.FencingToken(), last)
		}
		last = lk.FencingToken()
		if err := lk.Release(ctx); err != nil {
			t.Fatalf("Release #%d: %v", i, err)
		}
	}
}

func TestTryLockOnHeldLockIsErrLockHeld(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "h")
	holder, err := c.Lock(ctx, name, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer holder.Release(ctx)

	lk, err := c.TryLock(ctx, name, time.Second)
	if lk != nil || !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("TryLock on a held lock = %v, %v; want nil, ErrLockHeld", lk, err)
	}
	var e *redisx.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *redisx.Error", err)
	}
	if e.Name != "ERR_LOCKED" || e.Code != -9 || !strings.Contains(e.Detail, name) {
		t.Errorf("*Error = %+v, want Name ERR_LOCKED, Code -9 and the lock name in Detail", e)
	}
	if errors.Is(err, redisx.ErrLockNotOwned) || errors.Is(err, redisx.ErrTimeout) {
		t.Error("ErrLockHeld also matches other sentinels")
	}
}

func TestWithWaitGivesUpWithErrLockHeld(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "w")
	holder, err := c.Lock(ctx, name, 30*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer holder.Release(ctx)
	if _, err := c.Lock(ctx, name, time.Second, redisx.WithWait(150*time.Millisecond)); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("Lock with WithWait on a held lock = %v, want ErrLockHeld", err)
	}
}

func TestLockWaitsForTheHolderToRelease(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "x")
	holder, err := c.Lock(ctx, name, 30*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	got := make(chan *redisx.Lock, 1)
	go func() {
		lk, err := c.Lock(ctx, name, 5*time.Second)
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		got <- lk
	}()
	time.Sleep(100 * time.Millisecond)
	if err := holder.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	lk := <-got
	if lk == nil {
		return
	}
	if lk.FencingToken() <= holder.FencingToken() {
		t.Errorf("waiter's fencing token %d not above holder's %d", lk.FencingToken(), holder.FencingToken())
	}
	lk.Release(ctx)
}

func TestReleaseAfterExpiryIsErrLockNotOwned(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "e")
	lk, err := c.Lock(ctx, name, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	eventually(t, "the lease expires", func() bool {
		info, err := c.LockInfo(ctx, name)
		return err == nil && !info.Locked
	})
	if err := lk.Extend(ctx, time.Second); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("Extend after expiry = %v, want ErrLockNotOwned", err)
	}
	if err := lk.Release(ctx); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("Release after expiry = %v, want ErrLockNotOwned", err)
	}
}

func TestExtendKeepsTheLeaseAndOthersOut(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "x")
	lk, err := c.Lock(ctx, name, 2*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := lk.Extend(ctx, 30*time.Second); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	info, err := c.LockInfo(ctx, name)
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if info.TTL <= 2*time.Second {
		t.Errorf("TTL after Extend(30s) = %v, want above the original 2s", info.TTL)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func TestKeepAliveHoldsThePastThreeTTLs(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "k")
	const ttl = 500 * time.Millisecond
	lk, err := c.Lock(ctx, name, ttl)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	var lost atomic.Bool
	if err := lk.KeepAlive(func() { lost.Store(true) }); err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	if err := lk.KeepAlive(nil); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("second KeepAlive = %v, want ErrInvalidArgument", err)
	}
	time.Sleep(4 * ttl)
	info, err := c.LockInfo(ctx, name)
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if !info.Locked || info.FencingToken != lk.FencingToken() {
		t.Fatalf("after 4 x ttl with KeepAlive: %+v, want still held by fencing token %d", info, lk.FencingToken())
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release after 4 x ttl: %v", err)
	}
	if lost.Load() || lk.Lost() {
		t.Error("onLost ran for a lock that was renewed and released")
	}
}

func TestKeepAliveCallsOnLostWhenTheKeyIsDeleted(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "l")
	lk, err := c.Lock(ctx, name, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	lostCh := make(chan struct{})
	if err := lk.KeepAlive(func() { close(lostCh) }); err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	// The key layout is the interop contract (lock.h): {prefix}:lock:{<name>}.
	n, err := c.Do(ctx, "DEL", "redisx:lock:{"+name+"}")
	if err != nil || n != int64(1) {
		t.Fatalf("DEL of the lock key = %v, %v; want 1", n, err)
	}
	select {
	case <-lostCh:
	case <-time.After(20 * time.Second):
		t.Fatal("onLost never ran after the lock key was deleted")
	}
	if !lk.Lost() {
		t.Error("Lost() = false after onLost ran")
	}
}

func TestCancelDuringWaitReturnsCanceledAndHoldsNothing(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "c")
	holder, err := c.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	lk, err := c.Lock(wctx, name, time.Minute)
	elapsed := time.Since(start)
	if lk != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock cancelled while waiting = %v, %v; want nil, context.Canceled", lk, err)
	}
	// The holder's lease is a minute: returning well before means the
	// cancellation, not the lease, ended the wait.
	if elapsed > 30*time.Second {
		t.Errorf("cancelled Lock returned after %v", elapsed)
	}
	info, err := c.LockInfo(ctx, name)
	if err != nil || !info.Locked || info.FencingToken != holder.FencingToken() {
		t.Fatalf("LockInfo after the cancelled wait = %+v, %v; want still the holder's", info, err)
	}
	if err := holder.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	// The abandoned wait may still obtain the lock after this release; the
	// binding then releases it at once, so a TryLock soon succeeds (a leak
	// would hold it for its whole minute).
	eventually(t, "the lock can be taken after the cancelled waiter's leftovers", func() bool {
		lk, err := c.TryLock(ctx, name, time.Second)
		if err != nil {
			return false
		}
		lk.Release(ctx)
		return true
	})
}

// cancelAtSubmit is a context that is cancelled the moment the binding asks
// whether it may submit (its first Err call, which still answers nil): the
// acquire is then in flight while the caller has already given up.
type cancelAtSubmit struct {
	context.Context
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelAtSubmit) Err() error {
	first := false
	c.once.Do(func() { first = true; c.cancel() })
	if first {
		return nil
	}
	return c.Context.Err()
}

func TestLockObtainedAfterCancellationIsReleased(t *testing.T) {
	c := open(t)
	abandoned := 0
	var names []string
	for i := 0; i < 30; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		name := lockName(t, fmt.Sprint(i))
		lk, err := c.Lock(&cancelAtSubmit{Context: ctx, cancel: cancel}, name, time.Minute)
		cancel()
		switch {
		case err == nil: // the completion won the race: an ordinary lock
			lk.Release(context.Background())
		case errors.Is(err, context.Canceled):
			abandoned++
			names = append(names, name)
		default:
			t.Fatalf("Lock: %v", err)
		}
	}
	if abandoned == 0 {
		t.Fatal("no acquire was abandoned; the test did not exercise the path")
	}
	ctx := ctxFor(t)
	for _, name := range names {
		// The acquire may have run on the server before the cancellation
		// (then the library released the lock nobody received) or not at
		// all: either way no lease is left behind for its minute.
		eventually(t, name+" free", func() bool {
			info, err := c.LockInfo(ctx, name)
			return err == nil && !info.Locked
		})
	}
}

func TestContextDeadlineBoundsTheWait(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "d")
	holder, err := c.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer holder.Release(ctx)
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	lk, err := c.Lock(dctx, name, time.Second)
	if lk != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock past its deadline = %v, %v; want nil, context.DeadlineExceeded", lk, err)
	}
	// An already expired context never reaches Redis.
	if _, err := c.Lock(dctx, lockName(t, "free"), time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with an expired context = %v, want context.DeadlineExceeded", err)
	}
}

func TestFiveThousandGoroutinesUseFewThreads(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	const goroutines = 5000
	const names = 500 // ten goroutines per name: some wait for others

	before := threads(t)
	var peak atomic.Int64
	peak.Store(int64(before))
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
	var failures atomic.Int64
	var firstErr atomic.Value
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lk, err := c.Lock(ctx, lockName(t, fmt.Sprint(i%names)), 10*time.Second)
			if err == nil {
				err = lk.Release(ctx)
			}
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	<-sampled
	after := threads(t)
	t.Logf("OS threads: before %d, peak %d, after %d, for %d goroutines", before, peak.Load(), after, goroutines)
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d lock/release cycles failed, first: %v", n, goroutines, firstErr.Load())
	}
	if peak.Load() >= 100 {
		t.Errorf("peak OS thread count %d for %d goroutines; want far fewer (< 100)", peak.Load(), goroutines)
	}
	st, ok := c.Stats().Operation("lock", "acquire")
	if !ok || st.OK < goroutines {
		t.Errorf("stats for lock/acquire = %+v, want at least %d OK", st, goroutines)
	}
}

func TestDroppedLocksAreFreedByTheGarbageCollector(t *testing.T) {
	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	probe := open(t)
	ctx := ctxFor(t)
	const n = 50
	// Dropped without Release, some with renewal running: the cleanup frees
	// the plain ones, whose leases run out; the kept-alive ones are held by
	// the client and renewed until Close.
	func() {
		for i := 0; i < n; i++ {
			lk, err := c.Lock(ctx, lockName(t, fmt.Sprint(i)), 300*time.Millisecond)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			if i%2 == 0 {
				if err := lk.KeepAlive(func() {}); err != nil {
					t.Fatalf("KeepAlive: %v", err)
				}
			}
		}
	}()
	locked := func(i int) bool {
		info, err := probe.LockInfo(ctx, lockName(t, fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("LockInfo: %v", err)
		}
		return info.Locked
	}
	for i := 1; i < n; i += 2 {
		eventually(t, fmt.Sprint(i)+" expires once its dropped handle is collected", func() bool {
			runtime.GC()
			return !locked(i)
		})
	}
	// The client is unharmed.
	lk, err := c.Lock(ctx, lockName(t, "after"), time.Second)
	if err != nil {
		t.Fatalf("Lock after the collections: %v", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	for i := 0; i < n; i += 2 {
		if !locked(i) {
			t.Fatalf("kept-alive lock %d expired before Close", i)
		}
	}
	c.Close()
	for i := 0; i < n; i += 2 {
		eventually(t, fmt.Sprint(i)+" expires after Close", func() bool { return !locked(i) })
	}
}

func TestLocksOutliveTheirClientSafely(t *testing.T) {
	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := ctxFor(t)
	lk, err := c.Lock(ctx, lockName(t, "a"), time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := lk.KeepAlive(nil); err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	c.Close()
	if err := lk.Release(ctx); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Release after Close = %v, want ErrClosed", err)
	}
	if err := lk.Extend(ctx, time.Second); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Extend after Close = %v, want ErrClosed", err)
	}
	if lk.FencingToken() <= 0 || lk.Token() == "" {
		t.Error("lock accessors changed after Close")
	}
	lk = nil
	runtime.GC()
	runtime.GC()

	// A client dropped without Close is closed by its cleanup.
	func() {
		d, err := redisx.Open(serverURL)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, err := d.Do(ctx, "PING"); err != nil {
			t.Fatalf("PING: %v", err)
		}
	}()
	runtime.GC()
	runtime.GC()
}
