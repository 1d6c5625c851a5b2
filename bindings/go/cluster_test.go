package redisx_test

// Redis Cluster through the package: a redis+cluster:// URL (or
// WithClusterSeeds) and every primitive on a 3-master cluster that
// tests/cluster/cluster.sh starts on loopback. The routing is the core's
// (docs/CLUSTER.md); this checks that the package passes the topology through
// and that primitives and raw commands land on every master.

import (
	"bytes"
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
	clusterOnce  sync.Once
	clusterPorts []int
	clusterErr   error
	clusterDir   string
)

func clusterScript() string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "tests", "cluster", "cluster.sh"))
	return p
}

// testCluster starts one 3-master cluster for the package's tests (its
// watchdog stops it when this test binary exits; TestMain does not know it).
func testCluster(t *testing.T) []int {
	t.Helper()
	clusterOnce.Do(func() {
		clusterDir, clusterErr = os.MkdirTemp("", "redisx-go-cluster-")
		if clusterErr != nil {
			return
		}
		out, err := exec.Command(clusterScript(), "start", clusterDir, "3", "0", strconv.Itoa(os.Getpid())).Output()
		if err != nil {
			clusterErr = fmt.Errorf("cluster.sh start: %v", err)
			return
		}
		for _, f := range strings.Fields(string(out)) {
			p, err := strconv.Atoi(f)
			if err != nil {
				clusterErr = fmt.Errorf("cluster.sh printed %q", out)
				return
			}
			clusterPorts = append(clusterPorts, p)
		}
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return clusterPorts
}

func clusterURL(ports []int) string {
	addrs := make([]string, len(ports))
	for i, p := range ports {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// keysPerNode counts the keys matching pattern on each node.
func keysPerNode(t *testing.T, ports []int, pattern string) []int {
	t.Helper()
	ctx := ctxFor(t)
	var counts []int
	for _, p := range ports {
		node := open2(t, fmt.Sprintf("redis://127.0.0.1:%d", p))
		found, cursor := 0, "0"
		for {
			r, err := node.Do(ctx, "SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
			if err != nil {
				t.Fatalf("SCAN on %d: %v", p, err)
			}
			parts := r.([]any)
			cursor = fmt.Sprint(string(parts[0].([]byte)))
			found += len(parts[1].([]any))
			if cursor == "0" {
				break
			}
		}
		counts = append(counts, found)
	}
	return counts
}

func everyNode(counts []int) bool {
	for _, n := range counts {
		if n == 0 {
			return false
		}
	}
	return len(counts) > 0
}

func TestClusterRawCommandsAreRoutedBySlot(t *testing.T) {
	ports := testCluster(t)
	prefix := lockName(t, "")
	c := open2(t, clusterURL(ports), redisx.WithCommandTimeout(10*time.Second))
	ctx := ctxFor(t)
	for i := 0; i < 90; i++ {
		if _, err := c.Do(ctx, "SET", fmt.Sprintf("%sk%d", prefix, i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
	}
	for i := 0; i < 90; i++ {
		r, err := c.Do(ctx, "GET", fmt.Sprintf("%sk%d", prefix, i))
		if err != nil || !bytes.Equal(r.([]byte), []byte(fmt.Sprintf("v%d", i))) {
			t.Fatalf("GET %d = %v, %v", i, r, err)
		}
	}
	if counts := keysPerNode(t, ports, prefix+"k*"); !everyNode(counts) || counts[0]+counts[1]+counts[2] != 90 {
		t.Fatalf("keys per node %v, want 90 on all three", counts)
	}
	_, err := c.Do(ctx, "MSET", prefix+"x1", "1", prefix+"x2", "2")
	if !errors.Is(err, redisx.ErrInvalidArgument) || !strings.Contains(err.Error(), "slot") {
		t.Fatalf("MSET across slots: %v, want ErrInvalidArgument naming the slots", err)
	}
	tag := "{" + prefix + "}"
	if _, err := c.Do(ctx, "MSET", tag+"a", "1", tag+"b", "2"); err != nil {
		t.Fatalf("MSET in one slot: %v", err)
	}
}

func TestClusterPrimitivesOnEveryMaster(t *testing.T) {
	ports := testCluster(t)
	prefix := strings.NewReplacer(":", "-", "#", "-", "/", "-").Replace(lockName(t, "p"))
	c := open2(t, clusterURL(ports), redisx.WithPrefix(prefix), redisx.WithCommandTimeout(10*time.Second))
	ctx := ctxFor(t)
	var locks []*redisx.Lock
	for i := 0; i < 30; i++ {
		lk, err := c.Lock(ctx, fmt.Sprintf("res-%d", i), 30*time.Second)
		if err != nil || lk.FencingToken() <= 0 {
			t.Fatalf("Lock %d: %v", i, err)
		}
		locks = append(locks, lk)
	}
	if counts := keysPerNode(t, ports, "*"+prefix+"*"); !everyNode(counts) {
		t.Fatalf("lock keys per node %v", counts)
	}
	if _, err := c.TryLock(ctx, "res-0", time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("TryLock on a held lock: %v", err)
	}
	got := make(chan *redisx.Lock, 1)
	go func() {
		lk, err := c.Lock(ctx, "res-0", 30*time.Second, redisx.WithWait(20*time.Second))
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		got <- lk
	}()
	time.Sleep(100 * time.Millisecond)
	if err := locks[0].Release(ctx); err != nil {
		t.Fatal(err)
	}
	if next := <-got; next == nil || next.FencingToken() <= locks[0].FencingToken() {
		t.Fatalf("the waiter got %v", next)
	} else if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}
	for _, lk := range locks[1:] {
		if err := lk.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}

	lim, err := c.NewLimiter("api", redisx.GCRA, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		for j := 0; j < 4; j++ {
			r, err := lim.Check(ctx, fmt.Sprintf("user-%d", i))
			if err != nil || r.Allowed != (j < 3) {
				t.Fatalf("check %d/%d: %+v, %v", i, j, r, err)
			}
		}
	}
	for i := 0; i < 30; i++ {
		rec, err := c.BeginIdempotent(ctx, fmt.Sprintf("order-%d", i), []byte("fp"), 30*time.Second, 0)
		if err != nil || rec.State() != redisx.IdemNew {
			t.Fatalf("begin %d: %v", i, err)
		}
		if err := rec.Complete(ctx, []byte(fmt.Sprintf("done-%d", i)), nil, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 30; i++ {
		rec, err := c.BeginIdempotent(ctx, fmt.Sprintf("order-%d", i), []byte("fp"), 30*time.Second, 0)
		if err != nil || rec.State() != redisx.IdemCompleted || string(rec.Response()) != fmt.Sprintf("done-%d", i) {
			t.Fatalf("begin again %d: %v", i, err)
		}
	}
	if counts := keysPerNode(t, ports, "*"+prefix+"*"); !everyNode(counts) {
		t.Fatalf("keys per node %v", counts)
	}
}

func TestClusterSeedsOptionWithADeadSeed(t *testing.T) {
	ports := testCluster(t)
	dead := ports[0] + 1
	for _, p := range ports {
		if p == dead {
			dead++
		}
	}
	ctx := ctxFor(t)
	key := lockName(t, "seed")
	for _, seeds := range [][]string{
		{fmt.Sprintf("127.0.0.1:%d", dead), fmt.Sprintf("127.0.0.1:%d", ports[1])},
		{fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d", dead, ports[2])},
	} {
		c := open2(t, "redis://127.0.0.1:1", redisx.WithClusterSeeds(seeds...), redisx.WithCommandTimeout(10*time.Second))
		if _, err := c.Do(ctx, "SET", key, "1"); err != nil {
			t.Fatalf("SET via seeds %v: %v", seeds, err)
		}
	}
}

func TestClusterMalformedURLsAndSeeds(t *testing.T) {
	for _, url := range []string{"redis+cluster://", "redis+cluster://127.0.0.1:0", "redis+cluster://127.0.0.1:7000,",
		"redis+cluster://127.0.0.1:7000,:7001", "redis+cluster://127.0.0.1:7000/3"} {
		if c, err := redisx.Open(url); !errors.Is(err, redisx.ErrInvalidURL) {
			if c != nil {
				c.Close()
			}
			t.Errorf("Open(%q): %v, want ErrInvalidURL", url, err)
		}
	}
	for _, seeds := range [][]string{{}, {""}, {"127.0.0.1:99999"}, {"h:1,,h:2"}} {
		if c, err := redisx.Open("redis://127.0.0.1:1", redisx.WithClusterSeeds(seeds...)); !errors.Is(err, redisx.ErrInvalidURL) {
			if c != nil {
				c.Close()
			}
			t.Errorf("WithClusterSeeds(%q): %v, want ErrInvalidURL", seeds, err)
		}
	}
}
