package redisx_test

// What the core promises against a real server that misbehaves (issue 8,
// "Done when"): no ownerless lease or record after a timeout, every
// primitive as a least-privilege ACL user, no error during a SCRIPT FLUSH
// storm, fencing tokens that keep increasing across a restart without
// persistence. Each test that freezes, flushes or restarts its server runs
// a private one (private_server_test.go). The same defaults in every
// package are rules_test.go's.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// ctxKinds are the two paths of every call: a cancellable ctx goes through
// the library's asynchronous form and the client's queue, an uncancellable
// one runs the blocking form on the caller's thread (direct_test.go).
var ctxKinds = []struct {
	name string
	ctx  func(t *testing.T) context.Context
}{
	{"cancellable", ctxFor},
	{"background", func(*testing.T) context.Context { return context.Background() }},
}

// commandCalls is how many times the server ran cmd (scripts' calls
// included), from INFO commandstats.
func commandCalls(t *testing.T, c *redisx.Client, cmd string) int64 {
	t.Helper()
	r, err := c.Do(ctxFor(t), "INFO", "commandstats")
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	var text string
	switch v := r.(type) {
	case []byte:
		text = string(v)
	case string:
		text = v
	default:
		t.Fatalf("INFO commandstats answered %T", r)
	}
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(rest[:strings.IndexByte(rest+",", ',')], 10, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		return n
	}
	return 0
}

// frozenSetup opens a client with a short command timeout on a private
// server, with its connection already made and its scripts loaded, so that
// the call under test is written to a server that then does not answer.
func frozenSetup(t *testing.T) (srv *privateRedis, c, probe *redisx.Client) {
	t.Helper()
	srv = startPrivateRedis(t)
	var err error
	c, err = redisx.Open(srv.URL(), redisx.WithCommandTimeout(2*time.Second)) // long enough that the call is written under load
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	probe, err = redisx.Open(srv.URL())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { probe.Close() })
	ctx := ctxFor(t)
	warm, err := c.TryLock(ctx, lockName(t, "warm-up"), time.Minute)
	if err != nil {
		t.Fatalf("warm-up TryLock: %v", err)
	}
	if err := warm.Release(ctx); err != nil {
		t.Fatalf("warm-up Release: %v", err)
	}
	rec, err := c.BeginIdempotent(ctx, lockName(t, "warm-up"), []byte("fp"), time.Minute, 0)
	if err != nil {
		t.Fatalf("warm-up BeginIdempotent: %v", err)
	}
	if err := rec.Fail(ctx); err != nil {
		t.Fatalf("warm-up Fail: %v", err)
	}
	return srv, c, probe
}

// freezeDuring runs call while the server is stopped (SIGSTOP), keeps it
// stopped a little longer (the client's clean-up meets a frozen server too)
// and resumes it.
func freezeDuring(t *testing.T, srv *privateRedis, call func() error) error {
	t.Helper()
	srv.Freeze()
	defer srv.Thaw() // also when call fails the test
	err := call()
	time.Sleep(time.Second)
	return err
}

func TestATimedOutTryLockLeavesNoOwnerlessLease(t *testing.T) {
	t.Parallel()
	for _, kind := range ctxKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv, c, probe := frozenSetup(t)
			ctx := kind.ctx(t)
			name := lockName(t, "frozen")
			const lease = time.Minute
			err := freezeDuring(t, srv, func() error {
				lk, err := c.TryLock(ctx, name, lease)
				if err == nil {
					lk.Release(ctx)
				}
				return err
			})
			if !errors.Is(err, redisx.ErrTimeout) {
				t.Fatalf("TryLock on a frozen server = %v, want ErrTimeout", err)
			}
			thawed := time.Now()
			pctx := ctxFor(t)
			var info redisx.LockInfo
			eventually(t, "the lease the frozen server granted is released", func() bool {
				info, err = probe.LockInfo(pctx, name)
				if err != nil {
					t.Fatalf("LockInfo: %v", err)
				}
				return !info.Locked
			})
			// The :fence key lives as long as the lease it came with: the
			// acquire did run once the server resumed (else this test
			// would show nothing).
			if info.LastFencingToken == 0 {
				t.Fatalf("LockInfo = %+v: the resumed server never ran the timed-out acquire", info)
			}
			t.Logf("lease of %v released %v after SIGCONT", lease, time.Since(thawed))
			lk, err := probe.TryLock(pctx, name, 10*time.Second)
			if err != nil {
				t.Fatalf("TryLock after the clean-up = %v, want the lock", err)
			}
			if lk.FencingToken() <= info.LastFencingToken {
				t.Errorf("fencing token %d after the clean-up, want above %d", lk.FencingToken(), info.LastFencingToken)
			}
			lk.Release(pctx)
		})
	}
}

func TestATimedOutBeginLeavesNoOwnerlessRecord(t *testing.T) {
	t.Parallel()
	for _, kind := range ctxKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv, c, probe := frozenSetup(t)
			ctx := kind.ctx(t)
			key := lockName(t, "frozen")
			fp := []byte("fingerprint")
			const lease = time.Minute
			pctx := ctxFor(t)
			hsets := commandCalls(t, probe, "hset")
			err := freezeDuring(t, srv, func() error {
				rec, err := c.BeginIdempotent(ctx, key, fp, lease, 0)
				if err == nil {
					rec.Fail(ctx)
				}
				return err
			})
			if !errors.Is(err, redisx.ErrTimeout) {
				t.Fatalf("BeginIdempotent on a frozen server = %v, want ErrTimeout", err)
			}
			thawed := time.Now()
			// The timed-out begin runs first: a fresh begin sent at once
			// could be served in the same event-loop turn of the resumed
			// server, before it, and take the record itself.
			eventually(t, "the resumed server ran the timed-out begin", func() bool {
				return commandCalls(t, probe, "hset")-hsets >= 1
			})
			var rec *redisx.IdemRecord
			eventually(t, "a fresh begin answers NEW", func() bool {
				rec, err = probe.BeginIdempotent(pctx, key, fp, lease, 0)
				if err != nil {
					t.Fatalf("BeginIdempotent: %v", err)
				}
				if rec.State() != redisx.IdemNew && rec.State() != redisx.IdemInProgress {
					t.Fatalf("BeginIdempotent = %v, want NEW (or IN_PROGRESS before the clean-up)", rec.State())
				}
				return rec.State() == redisx.IdemNew
			})
			t.Logf("record of a %v lease freed %v after SIGCONT", lease, time.Since(thawed))
			if rec.TakenOver() {
				t.Errorf("the fresh begin took the record over: the ownerless one outlived its lease")
			}
			// Two records were written: the timed-out begin's (it ran once
			// the server resumed, else this test would show nothing) and
			// the fresh one's.
			if n := commandCalls(t, probe, "hset") - hsets; n < 2 {
				t.Fatalf("%d HSET since the freeze: the resumed server never ran the timed-out begin", n)
			}
			if err := rec.Complete(pctx, []byte("done"), nil, time.Minute); err != nil {
				t.Errorf("Complete: %v", err)
			}
		})
	}
}

// aclRules are docs/KEYS.md's rules ("ACL rules for a least-privilege
// user") for prefix, with or without the wake-up channels.
func aclRules(prefix string, channels bool) []any {
	rules := []any{"on", ">secret", "resetkeys", "~" + prefix + ":*", "resetchannels"}
	if channels {
		rules = append(rules, "&"+prefix+":*")
	}
	rules = append(rules, "-@all",
		"+evalsha", "+eval", "+del", "+time",
		"+get", "+set", "+pttl", "+pexpire", "+hmget", "+hset", "+hdel", "+hincrby", "+incrby",
		"+zadd", "+zcard", "+zcount", "+zrangebyscore", "+zremrangebyscore")
	if channels {
		rules = append(rules, "+publish", "+subscribe", "+unsubscribe")
	}
	return rules
}

func TestEveryPrimitiveWorksAsALeastPrivilegeUser(t *testing.T) {
	t.Parallel()
	for _, channels := range []bool{true, false} {
		label := "with wake-up channels"
		if !channels {
			label = "without wake-up channels"
		}
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			admin := open(t)
			ctx := ctxFor(t)
			id := fmt.Sprintf("%d-%d-%t", os.Getpid(), time.Now().UnixNano(), channels)
			user, prefix := "go-acl-"+id, "goacl-"+id
			if _, err := admin.Do(ctx, append([]any{"ACL", "SETUSER", user}, aclRules(prefix, channels)...)...); err != nil {
				t.Fatalf("ACL SETUSER: %v", err)
			}
			t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
			asUser := func() *redisx.Client {
				return open(t, redisx.WithAuth(user, "secret"), redisx.WithPrefix(prefix))
			}
			c, other := asUser(), asUser()

			// The user has exactly these rights: no other key, and a
			// channel only when granted.
			if _, err := c.Do(ctx, "SET", "not-"+prefix+":x", "1"); !errors.Is(err, redisx.ErrServer) {
				t.Fatalf("SET outside the prefix as %s = %v, want a refusal (ErrServer)", user, err)
			}
			_, err := c.Do(ctx, "PUBLISH", prefix+":x", "m")
			if channels && err != nil {
				t.Fatalf("PUBLISH on a granted channel = %v", err)
			}
			if !channels && !errors.Is(err, redisx.ErrServer) {
				t.Fatalf("PUBLISH without channel rights = %v, want a refusal (ErrServer)", err)
			}

			for _, kind := range ctxKinds {
				ctx := kind.ctx(t)
				name := lockName(t, "lock-"+kind.name)
				lk, err := c.Lock(ctx, name, 30*time.Second)
				if err != nil {
					t.Fatalf("%s: Lock: %v", kind.name, err)
				}
				if err := lk.Extend(ctx, 40*time.Second); err != nil {
					t.Errorf("%s: Extend: %v", kind.name, err)
				}
				if info, err := c.LockInfo(ctx, name); err != nil || !info.Locked || info.TTL <= 30*time.Second {
					t.Errorf("%s: LockInfo after Extend = %+v, %v; want locked with a TTL above 30s", kind.name, info, err)
				}
				if err := lk.Release(ctx); err != nil {
					t.Errorf("%s: Release: %v", kind.name, err)
				}
				again, err := other.TryLock(ctx, name, 30*time.Second)
				if err != nil {
					t.Fatalf("%s: TryLock after Release = %v, want the lock (the release took effect)", kind.name, err)
				}
				if err := again.Release(ctx); err != nil {
					t.Errorf("%s: second Release: %v", kind.name, err)
				}

				key := lockName(t, "idem-complete-"+kind.name)
				rec, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0)
				if err != nil || rec.State() != redisx.IdemNew {
					t.Fatalf("%s: BeginIdempotent = %v, %v; want NEW", kind.name, rec, err)
				}
				if err := rec.Complete(ctx, []byte("response"), []byte("meta"), time.Minute); err != nil {
					t.Errorf("%s: Complete: %v", kind.name, err)
				}
				if rec, err := other.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0); err != nil ||
					rec.State() != redisx.IdemCompleted || string(rec.Response()) != "response" {
					t.Errorf("%s: begin after Complete = %v, %v; want COMPLETED with the response", kind.name, rec, err)
				}

				key = lockName(t, "idem-fail-"+kind.name)
				rec, err = c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0)
				if err != nil || rec.State() != redisx.IdemNew {
					t.Fatalf("%s: BeginIdempotent = %v, %v; want NEW", kind.name, rec, err)
				}
				if err := rec.Fail(ctx); err != nil {
					t.Errorf("%s: Fail: %v", kind.name, err)
				}
				if rec, err := other.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0); err != nil || rec.State() != redisx.IdemNew {
					t.Errorf("%s: begin after Fail = %v, %v; want NEW", kind.name, rec, err)
				} else if err := rec.Fail(ctx); err != nil {
					t.Errorf("%s: second Fail: %v", kind.name, err)
				}

				for _, alg := range algorithms {
					l, err := c.NewLimiter("acl", alg, 5, time.Minute)
					if err != nil {
						t.Fatalf("NewLimiter(%v): %v", alg, err)
					}
					k := lockName(t, "rl-"+kind.name)
					if res, err := l.Check(ctx, k); err != nil || !res.Allowed || res.FailOpen {
						t.Errorf("%s: %v Check = %+v, %v; want allowed by Redis", kind.name, alg, res, err)
					}
					if res, err := l.Peek(ctx, k); err != nil || res.Remaining != 4 {
						t.Errorf("%s: %v Peek = %+v, %v; want 4 remaining", kind.name, alg, res, err)
					}
					if err := l.Reset(ctx, k); err != nil {
						t.Errorf("%s: %v Reset: %v", kind.name, alg, err)
					}
					l.Close()
				}
			}

			// Waits end after a release / completion: by the wake-up when
			// the channels are granted, by polling when not.
			name := lockName(t, "waited")
			holder, err := c.Lock(ctx, name, 30*time.Second)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			released := make(chan error, 1)
			time.AfterFunc(300*time.Millisecond, func() { released <- holder.Release(ctx) })
			start := time.Now()
			waited, err := other.Lock(ctx, name, 30*time.Second, redisx.WithWait(25*time.Second))
			if err != nil {
				t.Fatalf("waiting Lock = %v, want the lock after the release", err)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("waiting Lock got the lock after %v, long after the release at 0.3s", d)
			}
			if err := <-released; err != nil {
				t.Errorf("Release of the held lock: %v", err)
			}
			if err := waited.Release(ctx); err != nil {
				t.Errorf("Release of the waited-for lock: %v", err)
			}

			key := lockName(t, "idem-waited")
			owner, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0)
			if err != nil || owner.State() != redisx.IdemNew {
				t.Fatalf("BeginIdempotent = %v, %v; want NEW", owner, err)
			}
			completed := make(chan error, 1)
			time.AfterFunc(300*time.Millisecond, func() { completed <- owner.Complete(ctx, []byte("late"), nil, time.Minute) })
			rec, err := other.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 25*time.Second)
			if err != nil || rec.State() != redisx.IdemCompleted || string(rec.Response()) != "late" {
				t.Errorf("waiting begin = %v, %v; want COMPLETED with the response", rec, err)
			}
			if err := <-completed; err != nil {
				t.Errorf("Complete of the waited-for record: %v", err)
			}
		})
	}
}

func TestAScriptFlushStormYieldsNoError(t *testing.T) {
	t.Parallel()
	srv := startPrivateRedis(t)
	c, err := redisx.Open(srv.URL(), redisx.WithConnections(2))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	flusher, err := redisx.Open(srv.URL())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer flusher.Close()
	ctx := ctxFor(t)

	const flushes = 400
	var (
		stop    atomic.Bool
		ops     atomic.Int64
		failed  atomic.Int64
		errMu   sync.Mutex
		errs    []string
		workers sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		failed.Add(1)
		errMu.Lock()
		if len(errs) < 10 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
		errMu.Unlock()
	}
	limiters := make([]*redisx.Limiter, len(algorithms))
	for i, alg := range algorithms {
		if limiters[i], err = c.NewLimiter("storm", alg, 100000, time.Hour); err != nil {
			t.Fatalf("NewLimiter(%v): %v", alg, err)
		}
	}
	for w := 0; w < 4; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			for i := 0; !stop.Load(); i++ {
				kind := ctxKinds[(w+i)%2]
				ctx := ctx
				if kind.name == "background" {
					ctx = context.Background()
				}
				name := fmt.Sprintf("%s:w%d", lockName(t, "lock"), w)
				lk, err := c.Lock(ctx, name, 30*time.Second)
				if err != nil {
					fail("%s Lock: %v", kind.name, err)
				} else if err := lk.Release(ctx); err != nil {
					fail("%s Release: %v", kind.name, err)
				}
				l := limiters[i%len(limiters)]
				if res, err := l.Check(ctx, fmt.Sprintf("w%d", w)); err != nil || res.FailOpen || !res.Allowed {
					fail("%s %v Check = %+v, %v", kind.name, l.Algorithm(), res, err)
				}
				key := fmt.Sprintf("%s:w%d:%d", lockName(t, "idem"), w, i)
				rec, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 0)
				if err != nil || rec.State() != redisx.IdemNew {
					fail("%s BeginIdempotent = %v, %v", kind.name, rec, err)
				} else if err := rec.Complete(ctx, []byte("r"), nil, time.Minute); err != nil {
					fail("%s Complete: %v", kind.name, err)
				}
				ops.Add(4)
			}
		}(w)
	}
	var flushErr error
	for i := 0; i < flushes && flushErr == nil; i++ {
		_, flushErr = flusher.Do(ctx, "SCRIPT", "FLUSH")
		time.Sleep(2 * time.Millisecond)
	}
	stop.Store(true)
	workers.Wait()
	if flushErr != nil {
		t.Fatalf("SCRIPT FLUSH: %v", flushErr)
	}
	reloads := c.Stats().ScriptReloads
	t.Logf("%d flushes, %d calls, %d NOSCRIPT answered by EVAL", flushes, ops.Load(), reloads)
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d calls failed during %d SCRIPT FLUSH, first: %s", n, ops.Load(), flushes, strings.Join(errs, "; "))
	}
	if ops.Load() < 100 {
		t.Errorf("only %d calls ran during the storm", ops.Load())
	}
	if reloads == 0 {
		t.Errorf("no NOSCRIPT met during %d SCRIPT FLUSH: the storm tested nothing", flushes)
	}
}

func TestFencingTokensKeepIncreasingAcrossARestartWithoutPersistence(t *testing.T) {
	t.Parallel()
	srv := startPrivateRedis(t)
	c, err := redisx.Open(srv.URL())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	ctx := ctxFor(t)
	name := lockName(t, "restart")
	var before int64
	for i := 0; i < 3; i++ { // a few tokens, as a guarded store would have seen
		lk, err := c.TryLock(ctx, name, time.Minute)
		if err != nil {
			t.Fatalf("TryLock: %v", err)
		}
		before = lk.FencingToken()
		if err := lk.Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
	}

	srv.Restart() // same port, empty: no RDB, no AOF

	// The same client reconnects by itself; the new server remembers nothing.
	eventually(t, "the client is connected to the restarted server", func() bool {
		n, err := c.Do(ctx, "DBSIZE")
		if err != nil {
			if !errors.Is(err, redisx.ErrConnection) && !errors.Is(err, redisx.ErrTimeout) {
				t.Fatalf("DBSIZE after the restart: %v", err)
			}
			return false
		}
		if n != int64(0) {
			t.Fatalf("DBSIZE after the restart = %v, want 0 (no persistence)", n)
		}
		return true
	})
	if info, err := c.LockInfo(ctx, name); err != nil || info.Locked || info.LastFencingToken != 0 {
		t.Fatalf("LockInfo after the restart = %+v, %v; want a server that remembers no token", info, err)
	}
	lk, err := c.TryLock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("TryLock after the restart: %v", err)
	}
	defer lk.Release(ctx)
	if lk.FencingToken() <= before {
		t.Errorf("fencing token after the restart = %d, want above %d (issued before it)", lk.FencingToken(), before)
	}
}
