package redisx_test

// TLS over a cluster and over Sentinel: rediss+cluster:// against a 3-master
// cluster whose nodes serve TLS only (bus and replication too), and
// rediss+sentinel:// against TLS-only sentinels, master and replica, both
// started by the scripts the plain tests use (tests/cluster/cluster.sh with
// REDISX_CLUSTER_TLS, tests/sentinel/sentinel.sh with REDISX_SENTINEL_TLS)
// with the certificates of tests/tls/make-certs.sh. Topology and TLS are the
// core's; this checks that the WithTLS* options reach every connection the
// core makes (seeds, every master, the sentinels, the master they name) and
// that a wrong CA is ErrConnection with the certificate's reason.

import (
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

// startTLSTopology runs tests/<kind>/<kind>.sh start with envName=the
// certificates' folder and returns the ports it printed; the servers stop
// when the test ends (or by the script's watchdog if this binary dies).
func startTLSTopology(t *testing.T, f *tlsFiles, kind, envName string, args ...string) []int {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "tests", kind, kind+".sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "redisx-go-tlstopo-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, append(append([]string{"start", dir}, args...), strconv.Itoa(os.Getpid()))...)
	cmd.Env = append(os.Environ(), envName+"="+f.dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("%s start: %v\n%s", script, err, stderr.String())
	}
	// Registered after makeTLSFiles' TempDir: runs before the certificates go.
	t.Cleanup(func() { exec.Command(script, "stop", dir).Run() })
	var ports []int
	for _, s := range strings.Fields(string(out)) {
		p, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s printed %q", script, out)
		}
		ports = append(ports, p)
	}
	return ports
}

// tlsKeysPerNode counts the keys matching pattern on each node (a rediss://
// client per node).
func tlsKeysPerNode(t *testing.T, f *tlsFiles, ports []int, pattern string) []int {
	t.Helper()
	ctx := tlsCtx(t)
	var counts []int
	for _, p := range ports {
		node := openTLS(t, fmt.Sprintf("rediss://127.0.0.1:%d", p), redisx.WithTLSCAFile(f.ca))
		found, cursor := 0, "0"
		for {
			r, err := node.Do(ctx, "SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
			if err != nil {
				t.Fatalf("SCAN on %d: %v", p, err)
			}
			parts := r.([]any)
			cursor = string(parts[0].([]byte))
			found += len(parts[1].([]any))
			if cursor == "0" {
				break
			}
		}
		node.Close()
		counts = append(counts, found)
	}
	return counts
}

// failsVerifyingTheCertificate checks that a command over c fails with
// ErrConnection naming the failed certificate check.
func failsVerifyingTheCertificate(t *testing.T, c *redisx.Client) {
	t.Helper()
	_, err := c.Do(tlsCtx(t), "PING")
	if !errors.Is(err, redisx.ErrConnection) || !strings.Contains(err.Error(), "certificate verify failed") {
		t.Fatalf("PING: %v, want ErrConnection naming 'certificate verify failed'", err)
	}
	t.Logf("refused: %v", err)
}

func TestTLSCluster(t *testing.T) {
	f := makeTLSFiles(t)
	ports := startTLSTopology(t, f, "cluster", "REDISX_CLUSTER_TLS", "3", "0")
	addrs := make([]string, len(ports))
	for i, p := range ports {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	url := "rediss+cluster://" + strings.Join(addrs, ",")

	t.Run("PrimitivesOnEveryMaster", func(t *testing.T) {
		prefix := fmt.Sprintf("gotc-%d", time.Now().UnixNano())
		c := openTLS(t, url, redisx.WithPrefix(prefix), redisx.WithTLSCAFile(f.ca))
		ctx := tlsCtx(t)
		// The names are the keys' hash tags: 30 of them spread over the 3 masters.
		names := make([]string, 30)
		for i := range names {
			names[i] = fmt.Sprintf("n-%d", i)
		}
		var locks []*redisx.Lock
		for _, n := range names {
			lk, err := c.Lock(ctx, n, time.Minute, redisx.WithWait(15*time.Second))
			if err != nil || lk.FencingToken() <= 0 {
				t.Fatalf("Lock %s: %v", n, err)
			}
			locks = append(locks, lk)
		}
		if _, err := c.TryLock(ctx, names[0], time.Minute); !errors.Is(err, redisx.ErrLockHeld) {
			t.Fatalf("TryLock on a held lock: %v", err)
		}
		lockKeys := tlsKeysPerNode(t, f, ports, prefix+":lock:*")
		for _, lk := range locks {
			if err := lk.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range names {
			if info, err := c.LockInfo(ctx, n); err != nil || info.Locked {
				t.Fatalf("LockInfo %s after release: %+v, %v", n, info, err)
			}
		}

		lim, err := c.NewLimiter("api", redisx.FixedWindow, 2, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		defer lim.Close()
		for _, n := range names {
			for j, want := range []bool{true, true, false} {
				r, err := lim.Check(ctx, n)
				if err != nil || r.Allowed != want || r.FailOpen {
					t.Fatalf("check %s/%d: %+v, %v", n, j, r, err)
				}
			}
		}
		rlKeys := tlsKeysPerNode(t, f, ports, prefix+":rl:*")

		for _, n := range names {
			rec, err := c.BeginIdempotent(ctx, n, []byte("fp"), 30*time.Second, 0)
			if err != nil || rec.State() != redisx.IdemNew {
				t.Fatalf("begin %s: %v", n, err)
			}
			if err := rec.Complete(ctx, []byte("done-"+n), nil, 5*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range names {
			rec, err := c.BeginIdempotent(ctx, n, []byte("fp"), 30*time.Second, 0)
			if err != nil || rec.State() != redisx.IdemCompleted || string(rec.Response()) != "done-"+n {
				t.Fatalf("begin again %s: %v", n, err)
			}
		}
		idemKeys := tlsKeysPerNode(t, f, ports, prefix+":idem:*")
		for _, k := range []struct {
			what   string
			counts []int
		}{{"lock", lockKeys}, {"rate-limit", rlKeys}, {"idempotency", idemKeys}} {
			if !everyNode(k.counts) {
				t.Errorf("%s keys per master %v, want some on each", k.what, k.counts)
			}
		}
	})
	t.Run("WrongCA", func(t *testing.T) {
		failsVerifyingTheCertificate(t, openFailing(t, url, redisx.WithTLSCAFile(f.otherCA)))
	})
}

func TestTLSSentinel(t *testing.T) {
	f := makeTLSFiles(t)
	ports := startTLSTopology(t, f, "sentinel", "REDISX_SENTINEL_TLS") // master, replica, s1, s2, s3
	if len(ports) != 5 {
		t.Fatalf("sentinel.sh printed %v", ports)
	}
	url := fmt.Sprintf("rediss+sentinel://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/mymaster", ports[2], ports[3], ports[4])

	t.Run("Primitives", func(t *testing.T) {
		c := openTLS(t, url, redisx.WithPrefix(fmt.Sprintf("gots-%d", time.Now().UnixNano())), redisx.WithTLSCAFile(f.ca))
		ctx := tlsCtx(t)
		// TLS only: the master's plain port is 0, its TLS port the one printed.
		r, err := c.Do(ctx, "CONFIG", "GET", "tls-port")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.([]any); len(got) != 2 || string(got[1].([]byte)) != strconv.Itoa(ports[0]) {
			t.Fatalf("CONFIG GET tls-port = %q, want the master's %d", got, ports[0])
		}
		roundTrip(t, c)
	})
	t.Run("WrongCA", func(t *testing.T) {
		failsVerifyingTheCertificate(t, openFailing(t, url, redisx.WithTLSCAFile(f.otherCA)))
	})
}
