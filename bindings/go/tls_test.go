package redisx_test

// rediss:// against redis-servers of the tests' own, with the CA, server and
// client certificates of tests/tls/make-certs.sh.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// tlsFiles are the PEM files of one test run: ca signs server (SANs
// IP:127.0.0.1 and DNS:localhost) and client; otherCA signs nothing the
// servers present.
type tlsFiles struct {
	dir                   string
	ca, otherCA           string
	serverCert, serverKey string
	clientCert, clientKey string
	clientPEM             string // client certificate and key in one file
}

func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// makeTLSFiles runs tests/tls/make-certs.sh, the certificates of every
// language's TLS tests, into a temporary directory.
func makeTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	d := t.TempDir()
	script, err := filepath.Abs(filepath.Join("..", "..", "tests", "tls", "make-certs.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", script, d).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return &tlsFiles{
		dir: d, ca: filepath.Join(d, "ca.crt"), otherCA: filepath.Join(d, "other-ca.crt"),
		serverCert: filepath.Join(d, "server.crt"), serverKey: filepath.Join(d, "server.key"),
		clientCert: filepath.Join(d, "client.crt"), clientKey: filepath.Join(d, "client.key"),
		clientPEM: filepath.Join(d, "client-and-key.pem"),
	}
}

// startTLSRedis starts a TLS-only redis-server (--port 0) on a free port;
// authClients is its --tls-auth-clients ("optional" or "yes"). It is
// stopped when the test ends. Returns the TLS port.
func startTLSRedis(t *testing.T, f *tlsFiles, authClients string) int {
	t.Helper()
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		cmd := exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--tls-cert-file", f.serverCert, "--tls-key-file", f.serverKey, "--tls-ca-cert-file", f.ca,
			"--tls-auth-clients", authClients, "--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", f.dir, "--logfile", filepath.Join(f.dir, fmt.Sprintf("redis-tls-%d.log", port)))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		stop := func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		if last = waitTLSPing(port, f, done); last == nil {
			t.Cleanup(stop)
			return port
		}
		stop()
	}
	t.Fatalf("cannot start a TLS redis-server: %v", last)
	return 0
}

// waitTLSPing waits until the server answers PING over TLS (Go's crypto/tls,
// presenting the client certificate), or exited.
func waitTLSPing(port int, f *tlsFiles, exited chan struct{}) error {
	cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
	if err != nil {
		return err
	}
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(25 * time.Millisecond) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on TLS port %d exited at start", port)
		default:
		}
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprint(c, "PING\r\n")
		buf := make([]byte, 7)
		n, _ := c.Read(buf)
		c.Close()
		if strings.HasPrefix(string(buf[:n]), "+PONG") {
			return nil
		}
	}
	return fmt.Errorf("redis-server on TLS port %d did not answer", port)
}

// tlsCtx: generous, the machine may be loaded.
func tlsCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openTLS(t *testing.T, url string, opts ...redisx.Option) *redisx.Client {
	t.Helper()
	opts = append([]redisx.Option{redisx.WithConnectTimeout(20 * time.Second), redisx.WithCommandTimeout(20 * time.Second)}, opts...)
	c, err := redisx.Open(url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip takes a lock, checks a rate limit and makes an idempotency round
// trip over c.
func roundTrip(t *testing.T, c *redisx.Client) {
	t.Helper()
	ctx := tlsCtx(t)
	name := lockName(t, "job")
	lk, err := c.Lock(ctx, name, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if lk.FencingToken() <= 0 {
		t.Errorf("fencing token %d", lk.FencingToken())
	}
	if _, err := c.TryLock(ctx, name, 10*time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Errorf("second TryLock: %v, want ErrLockHeld", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Errorf("Release: %v", err)
	}

	l, err := c.NewLimiter(lockName(t, "api"), redisx.FixedWindow, 2, time.Minute)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	defer l.Close()
	for i, want := range []bool{true, true, false} {
		res, err := l.Check(ctx, "user:1")
		if err != nil {
			t.Fatalf("Check %d: %v", i, err)
		}
		if res.Allowed != want || res.FailOpen {
			t.Errorf("Check %d: allowed=%v failOpen=%v, want allowed=%v", i, res.Allowed, res.FailOpen, want)
		}
	}

	key, fp := lockName(t, "order"), []byte("POST /orders {}")
	rec, err := c.BeginIdempotent(ctx, key, fp, 30*time.Second, 0)
	if err != nil {
		t.Fatalf("BeginIdempotent: %v", err)
	}
	if rec.State() != redisx.IdemNew {
		t.Fatalf("first begin: %v", rec.State())
	}
	if err := rec.Complete(ctx, []byte("created\x0042"), nil, time.Minute); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	again, err := c.BeginIdempotent(ctx, key, fp, 30*time.Second, 0)
	if err != nil {
		t.Fatalf("second BeginIdempotent: %v", err)
	}
	if again.State() != redisx.IdemCompleted || string(again.Response()) != "created\x0042" {
		t.Errorf("second begin: %v %q", again.State(), again.Response())
	}
}

// connectFails checks that an operation over c fails with ErrConnection and
// a detail that mentions each of want. Open c with openFailing: the library
// fails waiting commands when the connect timeout has passed without a
// connection, with the last attempt's reason.
var failFast = []redisx.Option{redisx.WithConnectTimeout(5 * time.Second), redisx.WithCommandTimeout(5 * time.Second)}

func openFailing(t *testing.T, url string, opts ...redisx.Option) *redisx.Client {
	t.Helper()
	return openTLS(t, url, append(opts, failFast...)...)
}

func connectFails(t *testing.T, c *redisx.Client, want ...string) {
	t.Helper()
	_, err := c.TryLock(tlsCtx(t), lockName(t, "refused"), 10*time.Second)
	if !errors.Is(err, redisx.ErrConnection) {
		t.Fatalf("TryLock: %v, want ErrConnection", err)
	}
	t.Logf("refused: %v", err)
	for _, w := range want {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestTLS(t *testing.T) {
	f := makeTLSFiles(t)
	port := startTLSRedis(t, f, "optional")
	url := fmt.Sprintf("rediss://127.0.0.1:%d/0", port)

	t.Run("CAFile", func(t *testing.T) { roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca))) })
	t.Run("Localhost", func(t *testing.T) {
		roundTrip(t, openTLS(t, fmt.Sprintf("rediss://localhost:%d/0", port), redisx.WithTLSCAFile(f.ca)))
	})
	t.Run("CADir", func(t *testing.T) {
		dir := filepath.Join(f.dir, "cadir")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		ca, err := os.ReadFile(f.ca)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
			t.Fatal(err)
		}
		openssl(t, dir, "rehash", ".")
		roundTrip(t, openTLS(t, url, redisx.WithTLSCADir(dir)))
	})
	t.Run("WithTLSOnRedisURL", func(t *testing.T) {
		roundTrip(t, openTLS(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port), redisx.WithTLS(), redisx.WithTLSCAFile(f.ca)))
	})
	t.Run("ServerName", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSServerName("localhost")))
	})
	t.Run("WrongCA", func(t *testing.T) {
		connectFails(t, openFailing(t, url, redisx.WithTLSCAFile(f.otherCA)), "certificate")
	})
	t.Run("WrongCAInsecureSkipVerify", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.otherCA), redisx.WithTLSInsecureSkipVerify()))
	})
	t.Run("HostnameMismatch", func(t *testing.T) {
		connectFails(t, openFailing(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSServerName("wrong.example")),
			"certificate", "hostname")
	})
	t.Run("HostnameMismatchInsecureSkipVerify", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSServerName("wrong.example"),
			redisx.WithTLSInsecureSkipVerify()))
	})
	t.Run("HostnameMismatchVerifyHostnameOff", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSServerName("wrong.example"),
			redisx.WithTLSVerifyHostname(false)))
	})
	t.Run("PlainClientOnTLSPort", func(t *testing.T) {
		connectFails(t, openFailing(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port)), "rediss://")
	})
}

func TestTLSClientCertRequired(t *testing.T) {
	f := makeTLSFiles(t)
	port := startTLSRedis(t, f, "yes")
	url := fmt.Sprintf("rediss://127.0.0.1:%d/0", port)

	t.Run("Without", func(t *testing.T) {
		connectFails(t, openFailing(t, url, redisx.WithTLSCAFile(f.ca)), "client certificate")
	})
	t.Run("With", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSClientCert(f.clientCert, f.clientKey)))
	})
	t.Run("KeyInCertFile", func(t *testing.T) {
		roundTrip(t, openTLS(t, url, redisx.WithTLSCAFile(f.ca), redisx.WithTLSClientCert(f.clientPEM, "")))
	})
}

// Bad TLS options are ErrInvalidArgument with the library's message, at
// Open; no server is needed.
func TestTLSBadOptions(t *testing.T) {
	f := makeTLSFiles(t)
	missing := filepath.Join(f.dir, "missing.pem")
	for _, tc := range []struct {
		name string
		url  string
		opts []redisx.Option
		want string // in the error's detail
	}{
		{"MissingCAFile", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSCAFile(missing)}, missing},
		{"MissingCADir", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSCADir(missing)}, missing},
		{"MissingClientCert", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSClientCert(missing, f.clientKey)}, missing},
		{"MissingClientKey", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSClientCert(f.clientCert, missing)}, missing},
		{"KeyOfAnotherCert", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSClientCert(f.clientCert, f.serverKey)}, "server.key"},
		{"KeyWithoutCert", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSClientCert("", f.clientKey)}, "TLS client certificate file"},
		{"EmptyCAFile", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSCAFile("")}, "TLS CA file"},
		{"NULInServerName", "rediss://127.0.0.1:1/0", []redisx.Option{redisx.WithTLSServerName("a\x00b")}, "NUL"},
		{"TLSOverUnix", "unix:///tmp/redisx-none.sock", []redisx.Option{redisx.WithTLS()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := redisx.Open(tc.url, tc.opts...)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			var e *redisx.Error
			if !errors.Is(err, redisx.ErrInvalidArgument) || !errors.As(err, &e) {
				t.Fatalf("Open: %v, want ErrInvalidArgument", err)
			}
			if !strings.Contains(e.Detail, tc.want) {
				t.Errorf("detail %q does not mention %q", e.Detail, tc.want)
			}
		})
	}
}
