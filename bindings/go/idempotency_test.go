package redisx_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func begin(t *testing.T, c *redisx.Client, key, fp string, lease, wait time.Duration) *redisx.IdemRecord {
	t.Helper()
	rec, err := c.BeginIdempotent(ctxFor(t), key, []byte(fp), lease, wait)
	if err != nil {
		t.Fatalf("BeginIdempotent(%s): %v", key, err)
	}
	return rec
}

func TestIdempotencyStatesAndReplay(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	rec := begin(t, c, key, "fp", 10*time.Second, 0)
	if rec.State() != redisx.IdemNew || rec.Key() != key || rec.TakenOver() || rec.FailOpen() ||
		rec.Remaining() != 10*time.Second || rec.Response() != nil {
		t.Fatalf("first begin: state %v key %q takenOver %v failOpen %v remaining %v response %q",
			rec.State(), rec.Key(), rec.TakenOver(), rec.FailOpen(), rec.Remaining(), rec.Response())
	}
	dup := begin(t, c, key, "fp", 10*time.Second, 0)
	if dup.State() != redisx.IdemInProgress || dup.Remaining() <= 0 || dup.Remaining() > 10*time.Second {
		t.Errorf("begin while in progress: %v, remaining %v; want IN_PROGRESS with the lease left", dup.State(), dup.Remaining())
	}
	// Binary-safe values: NUL bytes and non-UTF-8 survive.
	resp := []byte("resp\x00\xff\x01")
	meta := []byte{0, 1, 2}
	if err := rec.Complete(ctx, resp, meta, time.Minute); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	done := begin(t, c, key, "fp", 10*time.Second, 0)
	if done.State() != redisx.IdemCompleted || string(done.Response()) != string(resp) || string(done.Metadata()) != string(meta) {
		t.Errorf("begin after complete: %v %q %q; want COMPLETED with the stored response", done.State(), done.Response(), done.Metadata())
	}
	if done.Remaining() <= 0 || done.Remaining() > time.Minute {
		t.Errorf("remaining TTL of the completed record = %v, want in (0, 1m]", done.Remaining())
	}
	if err := done.Complete(ctx, []byte("x"), nil, time.Minute); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Complete of a COMPLETED record = %v, want ErrInvalidArgument", err)
	}
	for _, s := range []redisx.IdemState{redisx.IdemNew, redisx.IdemInProgress, redisx.IdemCompleted, redisx.IdemMismatch} {
		if want := []string{"NEW", "IN_PROGRESS", "COMPLETED", "MISMATCH"}[s]; s.String() != want {
			t.Errorf("IdemState(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

func TestEmptyResponseAndMetadataAreStored(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	rec := begin(t, c, key, "", time.Second, 0)
	if err := rec.Complete(ctx, nil, []byte{}, time.Minute); err != nil {
		t.Fatalf("Complete(nil, empty): %v", err)
	}
	done := begin(t, c, key, "", time.Second, 0)
	if done.State() != redisx.IdemCompleted || done.Response() == nil || len(done.Response()) != 0 || len(done.Metadata()) != 0 {
		t.Errorf("record completed with empty values: %v %q %q", done.State(), done.Response(), done.Metadata())
	}
}

func TestIdempotencyMismatchOnAnotherFingerprint(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	rec := begin(t, c, key, "request-a", 10*time.Second, 0)
	if got := begin(t, c, key, "request-b", 10*time.Second, 0).State(); got != redisx.IdemMismatch {
		t.Errorf("begin with another fingerprint while in progress = %v, want MISMATCH", got)
	}
	if err := rec.Complete(ctx, []byte("a"), nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := begin(t, c, key, "request-b", 10*time.Second, 0)
	if m.State() != redisx.IdemMismatch || m.Response() != nil {
		t.Errorf("begin with another fingerprint after complete = %v %q, want MISMATCH without the response", m.State(), m.Response())
	}
}

func TestFailLetsARetryRun(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	rec := begin(t, c, key, "fp", 10*time.Second, 0)
	if err := rec.Fail(ctx); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	retry := begin(t, c, key, "fp", 10*time.Second, 0)
	if retry.State() != redisx.IdemNew || retry.TakenOver() {
		t.Errorf("begin after Fail = %v (takenOver %v), want NEW, not a takeover", retry.State(), retry.TakenOver())
	}
	if err := rec.Fail(ctx); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("Fail of a record someone else owns now = %v, want ErrLockNotOwned", err)
	}
}

func TestCompleteAfterTakeoverIsNotOwned(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	stale := begin(t, c, key, "fp", 300*time.Millisecond, 0)
	var fresh *redisx.IdemRecord
	eventually(t, "the lease passes and a begin takes the record over", func() bool {
		fresh = begin(t, c, key, "fp", 10*time.Second, 0)
		return fresh.State() != redisx.IdemInProgress
	})
	if fresh.State() != redisx.IdemNew || !fresh.TakenOver() {
		t.Fatalf("begin after the lease = %v (takenOver %v), want NEW taken over", fresh.State(), fresh.TakenOver())
	}
	if err := stale.Complete(ctx, []byte("stale"), nil, time.Minute); !errors.Is(err, redisx.ErrLockNotOwned) {
		t.Errorf("Complete by the stale worker = %v, want ErrLockNotOwned", err)
	}
	var e *redisx.Error
	if err := stale.Fail(ctx); !errors.As(err, &e) || e.Name != "ERR_NOT_OWNER" || e.Class() != "LockNotOwned" {
		t.Errorf("Fail by the stale worker = %v, want ERR_NOT_OWNER (LockNotOwned)", err)
	}
	if err := fresh.Complete(ctx, []byte("fresh"), nil, time.Minute); err != nil {
		t.Fatalf("Complete by the new owner: %v", err)
	}
	if r := begin(t, c, key, "fp", time.Second, 0); r.State() != redisx.IdemCompleted || string(r.Response()) != "fresh" {
		t.Errorf("after takeover and complete: %v %q, want COMPLETED fresh", r.State(), r.Response())
	}
}

func TestCompletedRecordExpiresAfterItsTTL(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	rec := begin(t, c, key, "fp", 10*time.Second, 0)
	if err := rec.Complete(ctx, []byte("r"), nil, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the completed record expires (ttl 200 ms)", func() bool {
		r := begin(t, c, key, "fp", 10*time.Second, 0)
		if r.State() == redisx.IdemCompleted {
			return false
		}
		if r.State() != redisx.IdemNew || r.TakenOver() {
			t.Fatalf("after expiry: %v (takenOver %v), want NEW", r.State(), r.TakenOver())
		}
		return true
	})
}

func TestWaitingBeginGetsTheCompletedResponse(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	owner := begin(t, c, key, "fp", 30*time.Second, 0)
	got := make(chan *redisx.IdemRecord, 1)
	go func() {
		rec, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 30*time.Second)
		if err != nil {
			t.Errorf("waiting begin: %v", err)
		}
		got <- rec
	}()
	time.Sleep(200 * time.Millisecond)
	if err := owner.Complete(ctx, []byte("the response"), []byte("m"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := <-got
	if rec == nil {
		return
	}
	if rec.State() != redisx.IdemCompleted || string(rec.Response()) != "the response" || string(rec.Metadata()) != "m" {
		t.Errorf("waiting begin = %v %q %q, want COMPLETED with the owner's response", rec.State(), rec.Response(), rec.Metadata())
	}
}

func TestWaitingBeginGetsNewWhenTheOwnerFails(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	owner := begin(t, c, key, "fp", 30*time.Second, 0)
	got := make(chan *redisx.IdemRecord, 1)
	go func() {
		rec, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, 30*time.Second)
		if err != nil {
			t.Errorf("waiting begin: %v", err)
		}
		got <- rec
	}()
	time.Sleep(200 * time.Millisecond)
	if err := owner.Fail(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := <-got; rec != nil && rec.State() != redisx.IdemNew {
		t.Errorf("waiting begin after the owner failed = %v, want NEW", rec.State())
	}
}

func TestWaitRunsOutWithInProgress(t *testing.T) {
	c := open(t)
	key := lockName(t, "k")
	begin(t, c, key, "fp", 30*time.Second, 0)
	if rec := begin(t, c, key, "fp", 30*time.Second, 300*time.Millisecond); rec.State() != redisx.IdemInProgress {
		t.Errorf("begin waiting 300 ms on a 30 s lease = %v, want IN_PROGRESS", rec.State())
	}
}

func TestCancelledWaitLeavesNoRecordLeasedToNobody(t *testing.T) {
	c := open(t)
	key := lockName(t, "k")
	owner := begin(t, c, key, "fp", 30*time.Second, 0)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.BeginIdempotent(ctx, key, []byte("fp"), 30*time.Second, time.Minute)
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiting begin = %v, want context.Canceled", err)
	}
	// The library's wait may still be running: when the owner fails, it may
	// turn NEW for a caller who is gone. That record must be failed at once,
	// not held for its 30 s lease.
	if err := owner.Fail(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a begin gets NEW (no abandoned lease)", func() bool {
		r := begin(t, c, key, "fp", 30*time.Second, 0)
		if r.State() == redisx.IdemNew {
			r.Fail(ctxFor(t))
			return true
		}
		return false
	})
}

func TestOneHundredConcurrentDuplicatesRunTheWorkOnce(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	key := lockName(t, "k")
	counter := lockName(t, "executions")
	var local atomic.Int64
	responses := make([]string, 100)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := c.BeginIdempotent(ctx, key, []byte("same-request"), 10*time.Second, 20*time.Second)
			if err != nil {
				t.Errorf("begin %d: %v", i, err)
				return
			}
			switch rec.State() {
			case redisx.IdemNew:
				local.Add(1)
				if _, err := c.Do(ctx, "INCR", counter); err != nil {
					t.Errorf("INCR: %v", err)
				}
				time.Sleep(300 * time.Millisecond)
				resp := fmt.Sprintf("go-%d-%d", os.Getpid(), i)
				if err := rec.Complete(ctx, []byte(resp), []byte("m"), time.Minute); err != nil {
					t.Errorf("Complete: %v", err)
				}
				responses[i] = resp
			case redisx.IdemCompleted:
				responses[i] = string(rec.Response())
			default:
				t.Errorf("begin %d = %v, want NEW or COMPLETED", i, rec.State())
			}
		}()
	}
	wg.Wait()
	n, err := c.Do(ctx, "GET", counter)
	if err != nil || string(n.([]byte)) != "1" || local.Load() != 1 {
		t.Errorf("the work ran %v times in Redis (%v), %d times locally; want exactly once", n, err, local.Load())
	}
	for i, r := range responses {
		if r != responses[0] || r == "" {
			t.Fatalf("response %d = %q, response 0 = %q: want one response for all", i, r, responses[0])
		}
	}
}

// childEnv runs this test binary as a child process in the given mode (see
// TestMain and runChild).
func childCommand(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "REDISX_GO_TEST_CHILD="+mode, "REDISX_GO_TEST_URL="+serverURL,
		"REDISX_GO_TEST_ARGS="+strings.Join(args, "\x1f"))
	cmd.Stderr = os.Stderr
	return cmd
}

func TestTakeoverAfterACrashedWorker(t *testing.T) {
	c := open(t)
	key := lockName(t, "k")
	const lease = 2 * time.Second
	cmd := childCommand("idem-hold", key, lease.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "STARTED NEW\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child printed %q (%v), want STARTED NEW", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup of any kind
		t.Fatal(err)
	}
	cmd.Wait()
	if rec := begin(t, c, key, "crash", lease, 0); rec.State() != redisx.IdemInProgress || rec.Remaining() > lease {
		t.Fatalf("begin right after the crash = %v (remaining %v), want IN_PROGRESS within the lease", rec.State(), rec.Remaining())
	}
	var rec *redisx.IdemRecord
	eventually(t, "the crashed worker's lease passes", func() bool {
		rec = begin(t, c, key, "crash", lease, 0)
		return rec.State() != redisx.IdemInProgress
	})
	if rec.State() != redisx.IdemNew || !rec.TakenOver() {
		t.Fatalf("begin after the lease = %v (takenOver %v), want NEW taken over", rec.State(), rec.TakenOver())
	}
	if err := rec.Complete(ctxFor(t), []byte("done"), nil, time.Minute); err != nil {
		t.Errorf("Complete after takeover: %v", err)
	}
}

// runChild is the child side of childCommand; it never returns.
func runChild(mode string) {
	args := strings.Split(os.Getenv("REDISX_GO_TEST_ARGS"), "\x1f")
	c, err := redisx.Open(os.Getenv("REDISX_GO_TEST_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	switch mode {
	case "idem-hold":
		lease, err := time.ParseDuration(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		rec, err := c.BeginIdempotent(context.Background(), args[0], []byte("crash"), lease, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		fmt.Printf("STARTED %s\n", rec.State())
		for {
			time.Sleep(time.Hour) // until SIGKILL
		}
	default:
		fmt.Fprintln(os.Stderr, "child: unknown mode", mode)
		os.Exit(2)
	}
}

func TestIdempotencyFailPolicies(t *testing.T) {
	url := deadURL(t)
	ctx := ctxFor(t)
	closed := open2(t, url, shortTimeouts()...)
	if _, err := closed.BeginIdempotent(ctx, "k", []byte("fp"), time.Second, 0); !errors.Is(err, redisx.ErrConnection) && !errors.Is(err, redisx.ErrTimeout) {
		t.Errorf("begin without a server (default fail-closed) = %v, want ErrConnection or ErrTimeout", err)
	}
	open := open2(t, url, shortTimeouts(redisx.WithIdempotencyFailPolicy(redisx.FailOpen))...)
	rec, err := open.BeginIdempotent(ctx, "k", []byte("fp"), time.Second, 0)
	if err != nil {
		t.Fatalf("fail-open begin without a server = %v", err)
	}
	if rec.State() != redisx.IdemNew || !rec.FailOpen() {
		t.Errorf("fail-open begin = %v (failOpen %v), want NEW, FailOpen", rec.State(), rec.FailOpen())
	}
	if err := rec.Complete(ctx, []byte("r"), nil, time.Minute); err != nil {
		t.Errorf("Complete of a fail-open record = %v, want nil (it does nothing)", err)
	}
}

func TestBeginRejectsBadArguments(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cases := []struct {
		what  string
		key   string
		fp    []byte
		lease time.Duration
	}{
		{"an empty key", "", nil, time.Second},
		{"a key with a NUL", "a\x00b", nil, time.Second},
		{"a key above 1024 bytes", strings.Repeat("k", 1025), nil, time.Second},
		{"a fingerprint above 64 KiB", "k", make([]byte, 65537), time.Second},
		{"lease 0", "k", nil, 0},
	}
	for _, tc := range cases {
		if _, err := c.BeginIdempotent(ctx, tc.key, tc.fp, tc.lease, 0); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("begin with %s = %v, want ErrInvalidArgument", tc.what, err)
		}
	}
	rec := begin(t, c, lockName(t, "k"), "fp", time.Second, 0)
	if err := rec.Complete(ctx, nil, nil, 0); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Complete with ttl 0 = %v, want ErrInvalidArgument", err)
	}
}
