package redisx_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func TestEverySentinelMatchesItsStatus(t *testing.T) {
	cases := []struct {
		sentinel error
		name     string
		code     int
	}{
		{redisx.ErrInvalidArgument, "ERR_INVALID", -1},
		{redisx.ErrOutOfMemory, "ERR_NOMEM", -2},
		{redisx.ErrTimeout, "ERR_TIMEOUT", -3},
		{redisx.ErrConnection, "ERR_CONNECTION", -4},
		{redisx.ErrClosed, "ERR_CLOSED", -5},
		{redisx.ErrAuth, "ERR_AUTH", -6},
		{redisx.ErrServer, "ERR_SERVER", -7},
		{redisx.ErrProtocol, "ERR_PROTOCOL", -8},
		{redisx.ErrLockHeld, "ERR_LOCKED", -9},
		{redisx.ErrLockNotOwned, "ERR_NOT_OWNER", -10},
		{redisx.ErrWouldBlock, "ERR_WOULDBLOCK", -11},
		{redisx.ErrEmpty, "ERR_EMPTY", -12},
		{redisx.ErrInvalidURL, "ERR_URL", -13},
		{redisx.ErrCancelled, "ERR_CANCELLED", -14},
	}
	for _, tc := range cases {
		err := error(&redisx.Error{Code: tc.code, Name: tc.name, Detail: "x"})
		for _, other := range cases {
			if got := errors.Is(err, other.sentinel); got != (other.name == tc.name) {
				t.Errorf("errors.Is(%s error, sentinel of %s) = %v", tc.name, other.name, got)
			}
		}
		if tc.sentinel.Error() == "" {
			t.Errorf("sentinel of %s has no message", tc.name)
		}
	}
	// Every error code of the loaded library has a sentinel: a new code in
	// errors.h fails here until the binding names it.
	if got, want := len(redisx.StatusNames())-1, len(cases); got != want {
		t.Errorf("the C library has %d error statuses, the binding knows %d: %v", got, want, redisx.StatusNames())
	}
}

func TestOpenRejectsBadInput(t *testing.T) {
	if _, err := redisx.Open("http://nope"); !errors.Is(err, redisx.ErrInvalidURL) {
		t.Errorf("Open(http://...) = %v, want ErrInvalidURL", err)
	}
	if _, err := redisx.Open(serverURL, redisx.WithConnections(0)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("WithConnections(0) = %v, want ErrInvalidArgument", err)
	}
	if _, err := redisx.Open(serverURL, redisx.WithCommandTimeout(0)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("WithCommandTimeout(0) = %v, want ErrInvalidArgument", err)
	}
	if _, err := redisx.Open(serverURL, redisx.WithPrefix("")); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("WithPrefix(\"\") = %v, want ErrInvalidArgument", err)
	}
	if _, err := redisx.Open(serverURL, redisx.WithPrefix("a\x00b")); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("WithPrefix with a NUL byte = %v, want ErrInvalidArgument", err)
	}
}

func TestLockRejectsBadInput(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	for _, tc := range []struct {
		what string
		name string
		ttl  time.Duration
	}{
		{"zero ttl", "x", 0},
		{"negative ttl", "x", -time.Second},
		{"ttl above a day", "x", 25 * time.Hour},
		{"empty name", "", time.Second},
		{"name with a NUL byte", "a\x00b", time.Second},
		{"name above 1024 bytes", string(bytes.Repeat([]byte("n"), 1025)), time.Second},
	} {
		if _, err := c.Lock(ctx, tc.name, tc.ttl); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("Lock with %s = %v, want ErrInvalidArgument", tc.what, err)
		}
		if _, err := c.TryLock(ctx, tc.name, tc.ttl); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("TryLock with %s = %v, want ErrInvalidArgument", tc.what, err)
		}
	}
	var e *redisx.Error
	_, err := c.Lock(ctx, "x", 0)
	if !errors.As(err, &e) || e.Code != -1 || e.Name != "ERR_INVALID" || e.Detail == "" {
		t.Errorf("Lock with zero ttl: %#v, want *Error{-1, ERR_INVALID, detail}", err)
	}
	lk, err := c.Lock(ctx, lockName(t, "ok"), time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := lk.Extend(ctx, 0); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Extend(0) = %v, want ErrInvalidArgument", err)
	}
	lk.Release(ctx)
	if _, err := c.Do(ctx); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Do() without arguments = %v, want ErrInvalidArgument", err)
	}
	if _, err := c.Do(ctx, "SET", "k", struct{}{}); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Do with a struct argument = %v, want ErrInvalidArgument", err)
	}
}

func TestDoIsBinarySafe(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := []byte("go-test:bin\x00key")
	val := []byte{0, 'a', 0, 0xff, 'b', 0}
	if r, err := c.Do(ctx, "SET", key, val); err != nil || r != "OK" {
		t.Fatalf("SET = %#v, %v; want \"OK\"", r, err)
	}
	r, err := c.Do(ctx, "GET", key)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if b, ok := r.([]byte); !ok || !bytes.Equal(b, val) {
		t.Fatalf("GET = %#v, want %#v", r, val)
	}
	if r, err := c.Do(ctx, "STRLEN", key); err != nil || r != int64(len(val)) {
		t.Errorf("STRLEN = %#v, %v; want %d", r, err, len(val))
	}
	if r, err := c.Do(ctx, "SET", "go-test:empty", []byte{}); err != nil || r != "OK" {
		t.Fatalf("SET empty = %#v, %v", r, err)
	}
	if r, err := c.Do(ctx, "GET", "go-test:empty"); err != nil || r == nil || len(r.([]byte)) != 0 {
		t.Errorf("GET of an empty value = %#v, %v; want an empty []byte", r, err)
	}
	if r, err := c.Do(ctx, "GET", "go-test:missing"); err != nil || r != nil {
		t.Errorf("GET of a missing key = %#v, %v; want nil", r, err)
	}
	c.Do(ctx, "DEL", "go-test:list")
	if _, err := c.Do(ctx, "RPUSH", "go-test:list", val, 42, 1.5, true); err != nil {
		t.Fatalf("RPUSH: %v", err)
	}
	r, err = c.Do(ctx, "LRANGE", "go-test:list", 0, -1)
	if err != nil {
		t.Fatalf("LRANGE: %v", err)
	}
	arr, ok := r.([]any)
	if !ok || len(arr) != 4 || !bytes.Equal(arr[0].([]byte), val) || string(arr[1].([]byte)) != "42" ||
		string(arr[2].([]byte)) != "1.5" || string(arr[3].([]byte)) != "1" {
		t.Errorf("LRANGE = %#v", r)
	}
	_, err = c.Do(ctx, "NOSUCHCOMMAND")
	var e *redisx.Error
	if !errors.Is(err, redisx.ErrServer) || !errors.As(err, &e) || e.Detail == "" {
		t.Errorf("unknown command = %v, want ErrServer with the server's message", err)
	}
}

func TestClosedClientReturnsErrClosed(t *testing.T) {
	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	ctx := ctxFor(t)
	if _, err := c.Lock(ctx, "x", time.Second); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Lock after Close = %v, want ErrClosed", err)
	}
	if _, err := c.TryLock(ctx, "x", time.Second); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("TryLock after Close = %v, want ErrClosed", err)
	}
	if _, err := c.LockInfo(ctx, "x"); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("LockInfo after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Do(ctx, "PING"); !errors.Is(err, redisx.ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
	if s := c.Stats(); s.Operations != nil || s.ConnectionsUp != 0 {
		t.Errorf("Stats after Close = %+v, want the zero Stats", s)
	}
}

func TestCloseEndsWaitsWithErrClosed(t *testing.T) {
	holderClient := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "held")
	holder, err := holderClient.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer holder.Release(ctx)

	c, err := redisx.Open(serverURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Lock(context.Background(), name, time.Second) // no deadline at all
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, redisx.ErrClosed) {
			t.Errorf("Lock waiting during Close = %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Lock waiting during Close never returned")
	}
}

func TestEventHandlerReceivesEvents(t *testing.T) {
	var mu sync.Mutex
	var events []redisx.Event
	c, err := redisx.Open(serverURL, redisx.WithEventKeys(), redisx.WithEventHandler(func(e redisx.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := ctxFor(t)
	name := lockName(t, "ev")
	lk, err := c.Lock(ctx, name, time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := c.TryLock(ctx, name, time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("TryLock = %v, want ErrLockHeld", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	c.Close() // delivers every event before returning

	mu.Lock()
	defer mu.Unlock()
	var acquired, held, released bool
	for _, e := range events {
		if e.Primitive != "lock" || e.Key != name {
			continue
		}
		switch {
		case e.Operation == "acquire" && e.Err == nil && e.Status == "OK":
			acquired = true
			if e.RoundTrips < 1 || e.Duration <= 0 {
				t.Errorf("acquire event without round trips or duration: %+v", e)
			}
			if u, err := url.Parse(serverURL); err != nil || e.Node != u.Host {
				t.Errorf("acquire event's node %q, want the server %q", e.Node, serverURL)
			}
		case e.Operation == "acquire" && errors.Is(e.Err, redisx.ErrLockHeld) && e.Status == "ERR_LOCKED":
			held = true
		case e.Operation == "release" && e.Err == nil:
			released = true
		}
	}
	if !acquired || !held || !released {
		t.Errorf("events = %+v; want a successful acquire, an ERR_LOCKED acquire and a release of %s", events, name)
	}
}

func TestStatsCountOperations(t *testing.T) {
	c := open(t, redisx.WithPrefix("go-test-stats"), redisx.WithConnections(2))
	ctx := ctxFor(t)
	name := lockName(t, "s")
	for i := 0; i < 3; i++ {
		lk, err := c.Lock(ctx, name, time.Second)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if _, err := c.TryLock(ctx, name, time.Second); !errors.Is(err, redisx.ErrLockHeld) {
			t.Fatalf("TryLock = %v", err)
		}
		lk.Release(ctx)
	}
	s := c.Stats()
	acq, ok := s.Operation("lock", "acquire")
	if !ok || acq.Calls != 6 || acq.OK != 3 || acq.Rejected != 3 || acq.Errors != 0 || acq.RoundTrips < 6 {
		t.Errorf("lock/acquire stats = %+v, want 6 calls: 3 OK, 3 rejected", acq)
	}
	var inBuckets uint64
	for _, b := range acq.Latency {
		inBuckets += b.Count
	}
	if len(acq.Latency) == 0 || inBuckets != acq.Calls || acq.P50 <= 0 || acq.P99 < acq.P50 {
		t.Errorf("lock/acquire latency = %d buckets holding %d, p50 %v, p99 %v", len(acq.Latency), inBuckets, acq.P50, acq.P99)
	}
	if rel, ok := s.Operation("lock", "release"); !ok || rel.OK != 3 {
		t.Errorf("lock/release stats = %+v, want 3 OK", rel)
	}
	if s.ConnectionsUp != 2 || s.Connects < 2 || s.InFlight != 0 {
		t.Errorf("client stats = %+v, want 2 connections up and nothing in flight", s)
	}
	if c.Prefix() != "go-test-stats" {
		t.Errorf("Prefix() = %q", c.Prefix())
	}
}

func TestPrefixDecidesWhichLocksAreShared(t *testing.T) {
	a := open(t, redisx.WithPrefix("go-test-a"))
	b := open(t, redisx.WithPrefix("go-test-b"))
	a2 := open(t, redisx.WithPrefix("go-test-a"))
	ctx := ctxFor(t)
	name := lockName(t, "p")
	lk, err := a.Lock(ctx, name, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer lk.Release(ctx)
	if other, err := b.TryLock(ctx, name, time.Second); err != nil {
		t.Errorf("TryLock under another prefix = %v, want success", err)
	} else {
		other.Release(ctx)
	}
	if _, err := a2.TryLock(ctx, name, time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Errorf("TryLock under the same prefix = %v, want ErrLockHeld", err)
	}
}

func TestUnreachableServerFailsClosedOrOpen(t *testing.T) {
	port, err := freePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	url := "redis://127.0.0.1:" + strconv.Itoa(port)
	ctx := ctxFor(t)

	closed := open2(t, url, redisx.WithCommandTimeout(200*time.Millisecond), redisx.WithConnectTimeout(200*time.Millisecond))
	_, err = closed.TryLock(ctx, "x", time.Second)
	if !errors.Is(err, redisx.ErrConnection) && !errors.Is(err, redisx.ErrTimeout) {
		t.Errorf("TryLock without a server = %v, want ErrConnection or ErrTimeout", err)
	}

	open := open2(t, url, redisx.WithFailOpenLocks(), redisx.WithCommandTimeout(200*time.Millisecond),
		redisx.WithConnectTimeout(200*time.Millisecond))
	lk, err := open.TryLock(ctx, "x", time.Second)
	if err != nil {
		t.Fatalf("fail-open TryLock without a server = %v, want a fail-open lock", err)
	}
	if !lk.FailOpen() || lk.FencingToken() != 0 || lk.Token() != "" {
		t.Errorf("fail-open lock: FailOpen %v, fencing %d, token %q", lk.FailOpen(), lk.FencingToken(), lk.Token())
	}
	if err := lk.Release(ctx); err != nil {
		t.Errorf("Release of a fail-open lock = %v", err)
	}
}

func open2(t *testing.T, url string, opts ...redisx.Option) *redisx.Client {
	t.Helper()
	c, err := redisx.Open(url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
