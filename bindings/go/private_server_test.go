package redisx_test

// A redis-server of a test's own, for tests that freeze, flush or restart
// their server: they must not disturb the shared one TestMain starts.

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// privateRedis is a redis-server child process on a free 127.0.0.1 port,
// without persistence (an empty --save, --appendonly no), stopped by its pid
// when the test ends.
type privateRedis struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startPrivateRedis starts a server on a free port (tries another port when
// one is taken between the probe and the server's bind).
func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	s := &privateRedis{t: t, dir: t.TempDir()}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		if last = s.startOn(port); last == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("cannot start a private redis-server: %v", last)
	return nil
}

func (s *privateRedis) startOn(port int) error {
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", port)))
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done, s.port = cmd, done, port
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start", port)
		default:
		}
		if ping(port) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("redis-server on port %d did not answer", port)
}

func ping(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	fmt.Fprint(c, "PING\r\n")
	buf := make([]byte, 7)
	c.SetReadDeadline(time.Now().Add(time.Second))
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "+PONG")
}

func (s *privateRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

func (s *privateRedis) Pid() int { return s.cmd.Process.Pid }

// Freeze stops the server process (SIGSTOP): it keeps its sockets, the
// kernel keeps accepting bytes, nothing answers. Thaw resumes it.
func (s *privateRedis) Freeze() {
	s.t.Helper()
	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		s.t.Fatalf("SIGSTOP redis-server %d: %v", s.Pid(), err)
	}
}

func (s *privateRedis) Thaw() {
	s.t.Helper()
	if err := syscall.Kill(s.Pid(), syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.t.Fatalf("SIGCONT redis-server %d: %v", s.Pid(), err)
	}
}

// Stop ends the server by its pid (SIGCONT first, in case it is frozen;
// then SIGTERM, SIGKILL if it lingers) and waits for it to exit.
func (s *privateRedis) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	pid := s.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGCONT)
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		<-s.done
	}
}

// Restart stops the server and starts a new, empty one on the same port
// (no persistence: it remembers nothing).
func (s *privateRedis) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = s.startOn(s.port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may still be in use for a moment
	}
	s.t.Fatalf("cannot restart redis-server on port %d: %v", s.port, err)
}
