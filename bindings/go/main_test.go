package redisx_test

import (
	"context"
	"fmt"
	"net"
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

// serverURL is the private redis-server TestMain starts on a free loopback
// port (never a fixed one) and stops afterwards.
var serverURL string

func TestMain(m *testing.M) {
	if mode := os.Getenv("REDISX_GO_TEST_CHILD"); mode != "" {
		runChild(mode) // a child process of a test (see childCommand)
	}
	dir, err := os.MkdirTemp("", "redisx-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pidfile := filepath.Join(dir, "redis.pid")
	port, err := startRedis(dir, pidfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start redis-server:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	serverURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	code := m.Run()
	stopRedis(pidfile)
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedis(dir, pidfile string) (int, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		out, err := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", pidfile,
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")).CombinedOutput()
		if err != nil {
			last = fmt.Errorf("%v: %s", err, out)
			continue
		}
		for i := 0; i < 200; i++ {
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				fmt.Fprint(c, "PING\r\n")
				buf := make([]byte, 7)
				c.SetReadDeadline(time.Now().Add(time.Second))
				n, _ := c.Read(buf)
				c.Close()
				if strings.HasPrefix(string(buf[:n]), "+PONG") {
					return port, nil
				}
			}
			time.Sleep(25 * time.Millisecond)
		}
		stopRedis(pidfile)
		last = fmt.Errorf("redis-server on port %d did not answer", port)
	}
	return 0, last
}

func stopRedis(pidfile string) {
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(pidfile)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				if p, err := os.FindProcess(pid); err == nil {
					p.Signal(os.Interrupt)
				}
			}
			return
		}
		time.Sleep(20 * time.Millisecond) // daemonized child may not have written it yet
	}
}

// open opens a client on the test server; it is closed when the test ends.
func open(t *testing.T, opts ...redisx.Option) *redisx.Client {
	t.Helper()
	c, err := redisx.Open(serverURL, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var (
	runsMu sync.Mutex
	runs   = map[*testing.T]int{}
	nruns  = map[string]int{}
)

// lockName is unique per test and per run of it (go test -count=N), so
// tests never share keys.
func lockName(t *testing.T, suffix string) string {
	runsMu.Lock()
	run, ok := runs[t]
	if !ok {
		nruns[t.Name()]++
		run = nruns[t.Name()]
		runs[t] = run
	}
	runsMu.Unlock()
	return fmt.Sprintf("go-test:%s#%d:%s", t.Name(), run, suffix)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or a generous bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never happened: %s", what)
}

// threads reads the process's OS thread count from /proc/self/status.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("read /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}
