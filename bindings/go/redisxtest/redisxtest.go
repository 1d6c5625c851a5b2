// Package redisxtest starts throwaway redis-servers for the tests of code that
// uses redisx: a standalone server or a local Redis Cluster on free
// 127.0.0.1 ports, without persistence, stopped when the test ends.
//
//	func TestCheckout(t *testing.T) {
//		client := redisxtest.NewClient(t) // a fresh server of this test's own
//		...
//	}
//
// Starting a server takes a few milliseconds, so a server per test (the
// simplest: no state leaks between tests) is usually affordable; tests that
// share one use a key prefix each (redisx.WithPrefix).
//
// The server binary is $REDISX_REDIS_SERVER when set, else "redis-server" on
// PATH (Debian: apt-get install redis-server). When it cannot be found or does
// not start, the test fails with a message saying why: it is never skipped.
package redisxtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	redisx "github.com/redisx/redisx/bindings/go"
)

// startDeadline bounds how long a server may take to answer its first PING
// (generous: busy CI machines, valgrind neighbours).
const startDeadline = 20 * time.Second

// Server is a redis-server child process of the test.
type Server struct {
	// Port is the loopback port it listens on; URL is redis://127.0.0.1:Port/0.
	Port int
	URL  string
	// Dir is its working folder (its log is Dir/redis.log).
	Dir string

	tb   testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Option changes how StartServer starts a server.
type Option func(*config)

type config struct {
	args []string
}

// WithArgs passes extra redis-server arguments, e.g.
// WithArgs("--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru").
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// StartServer starts a redis-server on a free loopback port and stops it when
// the test (or benchmark) ends. It fails the test when no server can be
// started.
func StartServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s, err := start(tb, tb.TempDir(), cfg.args)
	if err != nil {
		tb.Fatalf("redisxtest: %v", err)
	}
	return s
}

// NewClient starts a server of the test's own (StartServer) and opens a
// client on it, closed when the test ends.
func NewClient(tb testing.TB, opts ...redisx.Option) *redisx.Client {
	tb.Helper()
	return StartServer(tb).Client(tb, opts...)
}

// Client opens a client on the server, closed when the test ends.
func (s *Server) Client(tb testing.TB, opts ...redisx.Option) *redisx.Client {
	tb.Helper()
	c, err := redisx.Open(s.URL, opts...)
	if err != nil {
		tb.Fatalf("redisxtest: open %s: %v", s.URL, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
// It is safe to call more than once; the test's cleanup calls it too.
func (s *Server) Stop() {
	s.once.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func binary() (string, error) {
	if p := os.Getenv("REDISX_REDIS_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server not found on PATH (install it, e.g. apt-get install redis-server, or set REDISX_REDIS_SERVER)")
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs a server in dir; a port taken between the probe and the bind
// costs another attempt.
func start(tb testing.TB, dir string, extra []string) (*Server, error) {
	exe, err := binary()
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}, extra...)
		cmd := exec.Command(exe, args...)
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %v", exe, err)
		}
		s := &Server{Port: port, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), Dir: dir,
			tb: tb, cmd: cmd, done: make(chan struct{})}
		go func() { cmd.Wait(); close(s.done) }()
		if last = s.waitReady(); last == nil {
			tb.Cleanup(s.Stop)
			return s, nil
		}
		s.Stop()
	}
	return nil, last
}

func (s *Server) waitReady() error {
	for end := time.Now().Add(startDeadline); time.Now().Before(end); {
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited: %s", s.Port, lastLines(string(log), 5))
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprint(c, "PING\r\n")
			buf := make([]byte, 16)
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on port %d did not answer PING within %v", s.Port, startDeadline)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Cluster is a local Redis Cluster of masters without replicas, its 16384
// slots split evenly between them.
type Cluster struct {
	Nodes []*Server
	// URL names every node as a seed: redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...
	URL string
}

// StartCluster starts a cluster of the given number of masters (1 to 16) and
// waits until every node reports cluster_state:ok. It is stopped when the
// test ends.
func StartCluster(tb testing.TB, masters int, opts ...Option) *Cluster {
	tb.Helper()
	if masters < 1 || masters > 16 {
		tb.Fatalf("redisxtest: StartCluster: masters must be 1..16, got %d", masters)
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cl := &Cluster{}
	seeds := make([]string, 0, masters)
	for i := 0; i < masters; i++ {
		dir := tb.TempDir()
		args := append([]string{"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000"}, cfg.args...)
		s, err := start(tb, dir, args)
		if err != nil {
			tb.Fatalf("redisxtest: cluster node %d: %v", i, err)
		}
		cl.Nodes = append(cl.Nodes, s)
		seeds = append(seeds, fmt.Sprintf("127.0.0.1:%d", s.Port))
	}
	cl.URL = "redis+cluster://" + strings.Join(seeds, ",")
	if err := cl.form(tb); err != nil {
		tb.Fatalf("redisxtest: forming the cluster: %v", err)
	}
	return cl
}

// Client opens a cluster client on every node as a seed, closed when the test
// ends.
func (cl *Cluster) Client(tb testing.TB, opts ...redisx.Option) *redisx.Client {
	tb.Helper()
	c, err := redisx.Open(cl.URL, opts...)
	if err != nil {
		tb.Fatalf("redisxtest: open %s: %v", cl.URL, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Stop stops every node.
func (cl *Cluster) Stop() {
	for _, n := range cl.Nodes {
		n.Stop()
	}
}

// form gives each node its share of the slots, introduces them to the first
// and waits for the cluster to agree.
func (cl *Cluster) form(tb testing.TB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conns := make([]*redisx.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		c, err := redisx.Open(n.URL)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c
	}
	per := 16384 / len(cl.Nodes)
	for i, c := range conns {
		first, last := i*per, (i+1)*per-1
		if i == len(conns)-1 {
			last = 16383
		}
		if _, err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last); err != nil {
			return fmt.Errorf("node %d: CLUSTER ADDSLOTSRANGE %d %d: %v", i, first, last, err)
		}
		// Distinct epochs, so the nodes need not resolve a collision first.
		if _, err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1); err != nil {
			return fmt.Errorf("node %d: CLUSTER SET-CONFIG-EPOCH: %v", i, err)
		}
	}
	for i := 1; i < len(cl.Nodes); i++ {
		if _, err := conns[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", cl.Nodes[i].Port); err != nil {
			return fmt.Errorf("CLUSTER MEET 127.0.0.1 %d: %v", cl.Nodes[i].Port, err)
		}
	}
	for {
		ok := 0
		for _, c := range conns {
			info, err := c.Do(ctx, "CLUSTER", "INFO")
			b, _ := info.([]byte)
			if err == nil && strings.Contains(string(b), "cluster_state:ok") &&
				strings.Contains(string(b), fmt.Sprintf("cluster_known_nodes:%d", len(conns))) {
				ok++
			}
		}
		if ok == len(conns) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("the nodes did not reach cluster_state:ok within 60 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
