package redisx_test

// Redis Sentinel through the package: a redis+sentinel:// URL passed through
// to the core (docs/SENTINEL.md), against a master, a replica and three
// sentinels that tests/sentinel/sentinel.sh starts on loopback. The lookup,
// the ROLE check and failover handling are the core's
// (tests/c/test_sentinel.c); this checks the package passes the URL through
// and that its primitives work.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

var (
	sentinelOnce  sync.Once
	sentinelPorts []int // master, replica, s1, s2, s3
	sentinelErr   error
)

// testSentinel starts one master + replica + 3 sentinels for the package's
// tests (its watchdog stops them when this test binary exits).
func testSentinel(t *testing.T) []int {
	t.Helper()
	sentinelOnce.Do(func() {
		dir, err := os.MkdirTemp("", "redisx-go-sentinel-")
		if err != nil {
			sentinelErr = err
			return
		}
		script, _ := filepath.Abs(filepath.Join("..", "..", "tests", "sentinel", "sentinel.sh"))
		out, err := exec.Command(script, "start", dir, strconv.Itoa(os.Getpid())).Output()
		if err != nil {
			sentinelErr = fmt.Errorf("sentinel.sh start: %v", err)
			return
		}
		for _, f := range strings.Fields(string(out)) {
			p, err := strconv.Atoi(f)
			if err != nil {
				sentinelErr = fmt.Errorf("sentinel.sh printed %q", out)
				return
			}
			sentinelPorts = append(sentinelPorts, p)
		}
		if len(sentinelPorts) != 5 {
			sentinelErr = fmt.Errorf("sentinel.sh printed %q", out)
		}
	})
	if sentinelErr != nil {
		t.Fatal(sentinelErr)
	}
	return sentinelPorts
}

func sentinelURL(ports []int, master string) string {
	addrs := make([]string, 0, 3)
	for _, p := range ports[2:] {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + master
}

func TestSentinelURLReachesTheMasterAndPrimitivesWork(t *testing.T) {
	ports := testSentinel(t)
	prefix := fmt.Sprintf("gos-%d", time.Now().UnixNano())
	c := open2(t, sentinelURL(ports, "mymaster"), redisx.WithPrefix(prefix), redisx.WithCommandTimeout(10*time.Second))
	ctx := ctxFor(t)
	info, err := c.Do(ctx, "INFO", "server")
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%s", info); !strings.Contains(s, fmt.Sprintf("tcp_port:%d\r", ports[0])) {
		t.Fatalf("not on the master (port %d): %q", ports[0], s)
	}
	lk, err := c.Lock(ctx, "res", 30*time.Second)
	if err != nil || lk.FencingToken() <= 0 {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := c.TryLock(ctx, "res", time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("TryLock on a held lock: %v", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lim, err := c.NewLimiter("api", redisx.GCRA, 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 3; j++ {
		r, err := lim.Check(ctx, "u")
		if err != nil || r.Allowed != (j < 2) {
			t.Fatalf("check %d: %+v, %v", j, r, err)
		}
	}
	rec, err := c.BeginIdempotent(ctx, "order-1", []byte("fp"), 30*time.Second, 0)
	if err != nil || rec.State() != redisx.IdemNew {
		t.Fatalf("begin: %v", err)
	}
	if err := rec.Complete(ctx, []byte("done"), nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	rec, err = c.BeginIdempotent(ctx, "order-1", []byte("fp"), 30*time.Second, 0)
	if err != nil || rec.State() != redisx.IdemCompleted || string(rec.Response()) != "done" {
		t.Fatalf("begin again: %v", err)
	}
}

func TestWithSentinelsDoesWhatTheURLDoes(t *testing.T) {
	ports := testSentinel(t)
	list := []string{"127.0.0.1:1"} // a dead one first
	for _, p := range ports[2:] {
		list = append(list, fmt.Sprintf("127.0.0.1:%d", p))
	}
	c := open2(t, "redis://127.0.0.1:1/0", redisx.WithSentinels("mymaster", list...), redisx.WithSentinelAuth("", ""),
		redisx.WithCommandTimeout(10*time.Second))
	info, err := c.Do(ctxFor(t), "INFO", "server")
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%s", info); !strings.Contains(s, fmt.Sprintf("tcp_port:%d\r", ports[0])) {
		t.Fatalf("not on the master (port %d): %q", ports[0], s)
	}
	if _, err := redisx.Open("redis://127.0.0.1:1", redisx.WithSentinels("m", "a:1", "a:1")); !errors.Is(err, redisx.ErrInvalidURL) {
		t.Fatalf("a sentinel named twice: %v", err)
	}
}

func TestSentinelUnknownMasterIsAClearConnectionError(t *testing.T) {
	ports := testSentinel(t)
	c := open2(t, sentinelURL(ports, "nosuchmaster"), redisx.WithCommandTimeout(10*time.Second))
	_, err := c.Do(ctxFor(t), "PING")
	if !errors.Is(err, redisx.ErrConnection) || !strings.Contains(err.Error(), "does not know master 'nosuchmaster'") {
		t.Fatalf("PING with an unknown master: %v", err)
	}
}

func TestSentinelURLWithoutAMasterIsRefused(t *testing.T) {
	_, err := redisx.Open("redis+sentinel://127.0.0.1:26379/")
	if !errors.Is(err, redisx.ErrInvalidURL) || !strings.Contains(err.Error(), "names no master") {
		t.Fatalf("Open: %v", err)
	}
}
