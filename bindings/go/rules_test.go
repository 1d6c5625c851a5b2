package redisx_test

// The behaviours every binding shares (README "Same behaviour in every
// language"): the Python and Node suites assert the same rules.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func TestLockWithoutWaitWaitsForARelease(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "x")
	holder, err := c.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	time.AfterFunc(500*time.Millisecond, func() { holder.Release(ctx) })
	lk, err := c.Lock(ctx, name, 10*time.Second) // no WithWait: the default wait
	if err != nil {
		t.Fatalf("Lock without WithWait on a lock released after 0.5s = %v, want the lock", err)
	}
	lk.Release(ctx)
}

func TestLockWithoutWaitGivesUpWithErrLockHeldAfterTenSeconds(t *testing.T) {
	t.Parallel()
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "x")
	holder, err := c.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer holder.Release(ctx)
	start := time.Now()
	_, err = c.Lock(ctx, name, 10*time.Second) // ctx allows 60s: the default wait ends it
	elapsed := time.Since(start)
	if !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("Lock without WithWait on a held lock = %v, want ErrLockHeld", err)
	}
	if elapsed < 9500*time.Millisecond || elapsed > 30*time.Second {
		t.Errorf("Lock without WithWait gave up after %v, want the default 10s", elapsed)
	}
}

func TestAKeptAliveLockDroppedByTheCallerIsRenewedUntilClose(t *testing.T) {
	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	probe := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "dropped")
	const ttl = time.Second
	fencing := func() int64 {
		lk, err := c.Lock(ctx, name, ttl)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if err := lk.KeepAlive(nil); err != nil {
			t.Fatalf("KeepAlive: %v", err)
		}
		return lk.FencingToken()
	}() // the *Lock is unreachable from here on
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	time.Sleep(4 * ttl)
	runtime.GC()
	info, err := probe.LockInfo(ctx, name)
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if !info.Locked || info.FencingToken != fencing {
		t.Fatalf("4 x ttl after the kept-alive Lock was dropped: %+v, want still held by fencing token %d", info, fencing)
	}
	c.Close() // stops renewal: the lease now runs out on its own
	eventually(t, "the lease expires after Close", func() bool {
		info, err := probe.LockInfo(ctx, name)
		return err == nil && !info.Locked
	})
}

func TestNilContextIsErrInvalidArgument(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	l, err := c.NewLimiter(lockName(t, "l"), redisx.FixedWindow, 10, time.Minute)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	lk, err := c.Lock(ctx, lockName(t, "held"), time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	//nolint:staticcheck // a nil context is what is being tested
	var nilCtx context.Context
	calls := map[string]func() error{
		"Lock":     func() error { _, err := c.Lock(nilCtx, lockName(t, "a"), time.Second); return err },
		"TryLock":  func() error { _, err := c.TryLock(nilCtx, lockName(t, "b"), time.Second); return err },
		"LockInfo": func() error { _, err := c.LockInfo(nilCtx, lockName(t, "c")); return err },
		"Do":       func() error { _, err := c.Do(nilCtx, "PING"); return err },
		"BeginIdempotent": func() error {
			_, err := c.BeginIdempotent(nilCtx, lockName(t, "d"), nil, time.Second, time.Second)
			return err
		},
		"Check":   func() error { _, err := l.Check(nilCtx, "k"); return err },
		"Reset":   func() error { return l.Reset(nilCtx, "k") },
		"Extend":  func() error { return lk.Extend(nilCtx, time.Minute) },
		"Release": func() error { return lk.Release(nilCtx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("%s(nil ctx) = %v, want ErrInvalidArgument", name, err)
		}
	}
	if err := lk.Release(ctx); err != nil {
		t.Errorf("Release after the nil-ctx calls: %v", err)
	}
}

func TestNegativeWaitIsErrInvalidArgument(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	if _, err := c.Lock(ctx, lockName(t, "l"), time.Second, redisx.WithWait(-time.Millisecond)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Lock with WithWait(-1ms) = %v, want ErrInvalidArgument", err)
	}
	if _, err := c.BeginIdempotent(ctx, lockName(t, "i"), nil, time.Second, -time.Millisecond); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("BeginIdempotent with wait -1ms = %v, want ErrInvalidArgument", err)
	}
	if info, err := c.LockInfo(ctx, lockName(t, "l")); err != nil || info.Locked {
		t.Errorf("after the refused Lock: %+v, %v; want it free", info, err)
	}
}

func TestNamesAreTheirBytes(t *testing.T) {
	// Go strings are bytes: a name that is not UTF-8 is used as it is (like
	// Python bytes and Node Buffers), so distinct strings are distinct locks.
	c := open(t)
	ctx := ctxFor(t)
	base := lockName(t, "")
	a, err := c.Lock(ctx, base+"\xff", time.Minute)
	if err != nil {
		t.Fatalf("Lock(invalid UTF-8): %v", err)
	}
	defer a.Release(ctx)
	b, err := c.TryLock(ctx, base+"\uFFFD", time.Minute)
	if err != nil {
		t.Fatalf("TryLock of U+FFFD while %q is held = %v, want another lock", base+"\xff", err)
	}
	b.Release(ctx)
}

func TestReconnectBackoffIsTheClientsOption(t *testing.T) {
	if _, err := redisx.Open(serverURL, redisx.WithReconnectBackoff(2*time.Second, time.Second)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("WithReconnectBackoff(2s, 1s) = %v, want ErrInvalidArgument", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("redis://127.0.0.1:%d/0", port) // nobody listens
	failures := func(min, max time.Duration) uint64 {
		c, err := redisx.Open(dead, redisx.WithReconnectBackoff(min, max), redisx.WithConnectTimeout(time.Second))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer c.Close()
		time.Sleep(1500 * time.Millisecond)
		return c.Stats().ConnectFailures
	}
	slow, fast := failures(time.Minute, time.Minute), failures(time.Millisecond, 10*time.Millisecond)
	// A minute between attempts leaves time for the first attempt and the
	// immediate retry only; 10ms for many more.
	if slow > 3 || fast < 10 {
		t.Errorf("connect failures in 1.5s: %d with a 1min backoff (want <= 3), %d with 1..10ms (want >= 10)", slow, fast)
	}
}

func TestStateAndLogHandlersGetTheQueuesItems(t *testing.T) {
	var mu sync.Mutex
	var states []redisx.StateChange
	var logs []redisx.LogEntry
	c, err := redisx.Open(serverURL,
		redisx.WithStateHandler(func(s redisx.StateChange) { mu.Lock(); states = append(states, s); mu.Unlock() }),
		redisx.WithLogHandler(func(e redisx.LogEntry) { mu.Lock(); logs = append(logs, e); mu.Unlock() }),
		redisx.WithLogLevel(redisx.LogDebug))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := c.Do(ctxFor(t), "PING"); err != nil {
		t.Fatalf("PING: %v", err)
	}
	c.Close() // waits until the handlers saw every item
	mu.Lock()
	defer mu.Unlock()
	connected := false
	for _, s := range states {
		connected = connected || (s.State == redisx.StateConnected && s.Connection == 0)
	}
	if !connected {
		t.Errorf("states = %+v, want connection 0 connected", states)
	}
	if len(logs) == 0 {
		t.Error("no log line at LogDebug from open, connect and close")
	}
	for _, e := range logs {
		if e.Message == "" || e.Level.String() == "" {
			t.Errorf("log entry %+v without message or level", e)
		}
	}

}

func TestARefusedConnectionIsAWarningAndADisconnectedState(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []redisx.LogEntry
	var states []redisx.StateChange
	c, err := redisx.Open(fmt.Sprintf("redis://127.0.0.1:%d/0", port), // nobody listens
		redisx.WithStateHandler(func(s redisx.StateChange) { mu.Lock(); states = append(states, s); mu.Unlock() }),
		redisx.WithLogHandler(func(e redisx.LogEntry) { mu.Lock(); logs = append(logs, e); mu.Unlock() }))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	eventually(t, "a warning and a disconnected state", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(logs) > 0 && len(states) > 0
	})
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, e := range logs {
		if e.Level < redisx.LogWarn { // the default level
			t.Errorf("log entry %+v below the default LogWarn", e)
		}
	}
	if states[0].State != redisx.StateDisconnected || states[0].Detail == "" || states[0].State.String() != "disconnected" {
		t.Errorf("first state = %+v, want disconnected with the connect error", states[0])
	}
	if want := fmt.Sprintf("127.0.0.1:%d", port); states[0].Node != want {
		t.Errorf("first state's node = %q, want %q (the node that refused)", states[0].Node, want)
	}
}
