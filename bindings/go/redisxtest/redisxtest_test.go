package redisxtest_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	redisx "github.com/redisx/redisx/bindings/go"
	"github.com/redisx/redisx/bindings/go/redisxtest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestNewClientTalksToAServerOfItsOwn(t *testing.T) {
	c := redisxtest.NewClient(t)
	if _, err := c.Do(ctx(t), "SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	v, err := c.Do(ctx(t), "GET", "k")
	if err != nil || string(v.([]byte)) != "v" {
		t.Fatalf("GET = %v, %v", v, err)
	}
	// Nothing persists: a second server starts empty.
	other := redisxtest.NewClient(t)
	n, err := other.Do(ctx(t), "DBSIZE")
	if err != nil || n.(int64) != 0 {
		t.Fatalf("DBSIZE of a new server = %v, %v", n, err)
	}
	l, err := c.TryLock(ctx(t), "job", 30*time.Second)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	if l.FencingToken() == 0 {
		t.Fatal("a lock without a fencing token")
	}
}

func TestStopStopsTheServer(t *testing.T) {
	s := redisxtest.StartServer(t, redisxtest.WithArgs("--maxmemory", "10mb"))
	c := s.Client(t, redisx.WithCommandTimeout(2*time.Second))
	got, err := c.Do(ctx(t), "CONFIG", "GET", "maxmemory")
	if err != nil || fmt.Sprint(string(got.([]any)[1].([]byte))) != "10485760" {
		t.Fatalf("CONFIG GET maxmemory = %v, %v (WithArgs not passed?)", got, err)
	}
	s.Stop()
	s.Stop() // twice is fine
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second); err == nil {
		conn.Close()
		t.Fatalf("port %d still accepts connections after Stop", s.Port)
	}
	if _, err := c.Do(ctx(t), "PING"); err == nil {
		t.Fatal("PING answered by a stopped server")
	}
}

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	msg string
}

type fatal struct{}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

func TestAMissingBinaryFailsWithAReason(t *testing.T) {
	t.Setenv("REDISX_REDIS_SERVER", "/nonexistent/redis-server")
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					panic(r)
				}
			}
		}()
		redisxtest.StartServer(f)
	}()
	if !strings.Contains(f.msg, "/nonexistent/redis-server") {
		t.Fatalf("StartServer without a binary: %q, want a failure naming the binary", f.msg)
	}
}

func TestStartClusterSpreadsKeysOverEveryMaster(t *testing.T) {
	cl := redisxtest.StartCluster(t, 3)
	if len(cl.Nodes) != 3 || !strings.HasPrefix(cl.URL, "redis+cluster://") {
		t.Fatalf("cluster %+v", cl)
	}
	c := cl.Client(t)
	for i := 0; i < 60; i++ {
		l, err := c.TryLock(ctx(t), fmt.Sprintf("name-%d", i), 60*time.Second)
		if err != nil {
			t.Fatalf("TryLock name-%d: %v", i, err)
		}
		_ = l
	}
	for i, n := range cl.Nodes {
		nc := n.Client(t)
		size, err := nc.Do(ctx(t), "DBSIZE")
		if err != nil || size.(int64) == 0 {
			t.Fatalf("node %d holds %v keys (%v): the slots are not spread", i, size, err)
		}
	}
}

func TestStartClusterRefusesABadSize(t *testing.T) {
	f := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		redisxtest.StartCluster(f, 0)
	}()
	if !strings.Contains(f.msg, "masters") {
		t.Fatalf("StartCluster(0): %q", f.msg)
	}
}
