// Interop worker, Go side: same command line as worker.py (see there), plus
// the rate-limit and idempotency modes:
//
//	rl-sequence URL PREFIX ALGORITHM       the canonical sequence on limiter "seq-<ALGORITHM>"
//	rl-share URL PREFIX ALGORITHM N CONC   N checks on "share-<ALGORITHM>", key "shared": ALLOWED <count>
//	idem-dup URL PREFIX KEY M              M concurrent duplicates: M lines RESP <response>
//	idem-hold URL PREFIX KEY LEASE_MS      begin, STARTED <STATE>, then sleep until killed
//	idem-begin URL PREFIX KEY LEASE_MS WAIT_MS  begin: <STATE> <taken_over 0|1>; completes a NEW one
//	http-dump URL PREFIX LANG              the canonical dump of the HTTP middlewares' answers (run.sh)
//	http-fingerprint URL PREFIX METHOD TARGET BODY  hex SHA-256 fingerprint of that HTTP request
//	cache-set / cache-get / cache-delete / cache-serve / cache-load  the cache modes (as worker.py)
//	cache-set-tagged / cache-invalidate-tags                      tags (as worker.py)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	mode, url, prefix := args[0], args[1], args[2]
	ctx := context.Background()
	client, err := redisx.Open(url, redisx.WithPrefix(prefix), redisx.WithCommandTimeout(10*time.Second))
	if err != nil {
		return err
	}
	defer client.Close()
	switch mode {
	case "count":
		n, _ := strconv.Atoi(args[3])
		for i := 0; i < n; i++ {
			lk, err := client.Lock(ctx, "counter", 30*time.Second, redisx.WithWait(120*time.Second))
			if err != nil {
				return err
			}
			raw, err := client.Do(ctx, "GET", prefix+":counter")
			if err != nil {
				return err
			}
			value := 0
			if b, ok := raw.([]byte); ok {
				value, _ = strconv.Atoi(string(b))
			}
			if _, err := client.Do(ctx, "SET", prefix+":counter", strconv.Itoa(value+1)); err != nil {
				return err
			}
			if _, err := client.Do(ctx, "RPUSH", prefix+":fences", fmt.Sprintf("go:%d", lk.FencingToken())); err != nil {
				return err
			}
			if err := lk.Release(ctx); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond) // outside the lock
		}
	case "hold":
		lk, err := client.Lock(ctx, "hold", 30*time.Second, redisx.WithWait(30*time.Second))
		if err != nil {
			return err
		}
		fmt.Printf("HELD %d\n", lk.FencingToken())
		bufio.NewReader(os.Stdin).ReadString('\n')
		if err := lk.Release(ctx); err != nil {
			return err
		}
		fmt.Println("RELEASED")
	case "probe":
		lk, err := client.TryLock(ctx, "hold", 30*time.Second)
		if errors.Is(err, redisx.ErrLockHeld) {
			info, err := client.LockInfo(ctx, "hold")
			if err != nil {
				return err
			}
			fmt.Printf("HELD-BY %d\n", info.FencingToken)
			return nil
		}
		if err != nil {
			return err
		}
		lk.Release(ctx)
		fmt.Println("FREE")
	case "rl-sequence":
		return rlSequence(ctx, client, args[3])
	case "rl-share":
		n, _ := strconv.Atoi(args[4])
		conc, _ := strconv.Atoi(args[5])
		return rlShare(ctx, client, args[3], n, conc)
	case "idem-dup":
		m, _ := strconv.Atoi(args[4])
		return idemDup(ctx, client, prefix, args[3], m)
	case "idem-hold":
		leaseMs, _ := strconv.Atoi(args[4])
		rec, err := client.BeginIdempotent(ctx, args[3], []byte("crash"), time.Duration(leaseMs)*time.Millisecond, 0)
		if err != nil {
			return err
		}
		fmt.Printf("STARTED %s\n", rec.State())
		for {
			time.Sleep(time.Hour) // until SIGKILL
		}
	case "http-dump":
		return httpDump(ctx, client, args[3])
	case "http-fingerprint":
		fmt.Println(hex.EncodeToString(redisx.IdempotencyFingerprint(args[3], args[4], []byte(args[5]))))
	case "idem-begin":
		leaseMs, _ := strconv.Atoi(args[4])
		waitMs, _ := strconv.Atoi(args[5])
		rec, err := client.BeginIdempotent(ctx, args[3], []byte("crash"),
			time.Duration(leaseMs)*time.Millisecond, time.Duration(waitMs)*time.Millisecond)
		if err != nil {
			return err
		}
		takenOver := 0
		if rec.TakenOver() {
			takenOver = 1
		}
		fmt.Printf("%s %d\n", rec.State(), takenOver)
		if rec.State() == redisx.IdemNew {
			return rec.Complete(ctx, []byte("done-go"), nil, 60*time.Second)
		}
	case "cache-set", "cache-get", "cache-delete", "cache-serve", "cache-load", "cache-set-tagged", "cache-invalidate-tags":
		return cacheMode(ctx, client, prefix, mode, args[3:])
	case "stream-produce":
		n, _ := strconv.Atoi(args[4])
		return streamProduce(ctx, client, args[3], n)
	default:
		return fmt.Errorf("unknown mode %s", mode)
	}
	return nil
}

// cacheLine prints a cached JSON value as every language does (keys sorted:
// encoding/json sorts map keys; compact).
func cacheLine(ctx context.Context, cache *redisx.Cache[any], key string) (string, error) {
	v, err := cache.Get(ctx, key)
	if errors.Is(err, redisx.ErrNotFound) {
		return "MISS", nil
	}
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return "VALUE " + strings.TrimSuffix(b.String(), "\n"), nil
}

// cacheMode: the cache modes of worker.py, on cache "interop" (L1 TTL 1 s).
func cacheMode(ctx context.Context, client *redisx.Client, prefix, mode string, args []string) error {
	cache, err := redisx.NewCache[any](client, "interop", redisx.WithL1(10000, 64<<20, time.Second))
	if err != nil {
		return err
	}
	defer cache.Close()
	key := args[0]
	switch mode {
	case "cache-set":
		var v any
		if err := json.Unmarshal([]byte(args[1]), &v); err != nil {
			return err
		}
		return cache.Set(ctx, key, v, time.Minute)
	case "cache-set-tagged":
		var v any
		if err := json.Unmarshal([]byte(args[1]), &v); err != nil {
			return err
		}
		return cache.Set(ctx, key, v, time.Minute, redisx.SetTags(args[2]))
	case "cache-invalidate-tags":
		return cache.InvalidateTags(ctx, key)
	case "cache-get":
		line, err := cacheLine(ctx, cache, key)
		if err != nil {
			return err
		}
		fmt.Println(line)
	case "cache-delete":
		return cache.Delete(ctx, key)
	case "cache-serve":
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			line, err := cacheLine(ctx, cache, key)
			if err != nil {
				return err
			}
			fmt.Println(line)
		}
	case "cache-load":
		m, _ := strconv.Atoi(args[1])
		load := func(ctx context.Context) (any, error) {
			if _, err := client.Do(ctx, "INCR", prefix+":cache-loads"); err != nil {
				return nil, err
			}
			time.Sleep(300 * time.Millisecond)
			return map[string]any{"by": "go"}, nil
		}
		lines := make([]string, m)
		errs := make([]error, m)
		var wg sync.WaitGroup
		for i := range m {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := cache.GetOrLoad(ctx, key, load)
				if err != nil {
					errs[i] = err
					return
				}
				b, _ := json.Marshal(v)
				lines[i] = "LOADED " + string(b)
			}()
		}
		wg.Wait()
		for i := range m {
			if errs[i] != nil {
				return errs[i]
			}
			fmt.Println(lines[i])
		}
	}
	return nil
}

// rlSequence runs the canonical sequence (SEQ) on limiter "seq-<algorithm>".
func rlSequence(ctx context.Context, client *redisx.Client, algorithm string) error {
	alg, err := redisx.ParseAlgorithm(algorithm)
	if err != nil {
		return err
	}
	l, err := client.NewLimiter("seq-"+algorithm, alg, 5, time.Hour)
	if err != nil {
		return err
	}
	defer l.Close()
	line := func(op string, cost int64, r redisx.RateLimitResult) {
		allowed, sign := 0, "?"
		if r.Allowed {
			allowed = 1
		}
		if r.RetryAfter == -time.Millisecond {
			sign = "-"
		} else if r.RetryAfter > 0 {
			sign = "+"
		}
		fmt.Printf("%s %d %d %d %d %s\n", op, cost, allowed, r.Limit, r.Remaining, sign)
	}
	reset := func() error {
		if err := l.Reset(ctx, "k"); err != nil {
			return err
		}
		fmt.Println("reset")
		return nil
	}
	check := func(cost int64) error {
		r, err := l.CheckN(ctx, "k", cost)
		var e *redisx.Error
		if errors.As(err, &e) {
			fmt.Printf("check %d %s\n", cost, e.Class())
			return nil
		} else if err != nil {
			return err
		}
		line("check", cost, r)
		return nil
	}
	peek := func() error {
		r, err := l.Peek(ctx, "k")
		if err != nil {
			return err
		}
		line("peek", 1, r)
		return nil
	}
	steps := []func() error{reset}
	for i := 0; i < 7; i++ {
		steps = append(steps, func() error { return check(1) })
	}
	steps = append(steps, peek, reset, peek,
		func() error { return check(3) }, func() error { return check(3) },
		func() error { return check(2) }, func() error { return check(6) })
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// rlShare makes n checks of cost 1 on key "shared" of limiter
// "share-<algorithm>" (30 per hour), conc at a time.
func rlShare(ctx context.Context, client *redisx.Client, algorithm string, n, conc int) error {
	alg, err := redisx.ParseAlgorithm(algorithm)
	if err != nil {
		return err
	}
	l, err := client.NewLimiter("share-"+algorithm, alg, 30, time.Hour)
	if err != nil {
		return err
	}
	defer l.Close()
	var allowed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(conc, 1))
	for i := 0; i < n; i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r, err := l.Check(ctx, "shared")
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			if r.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	fmt.Printf("ALLOWED %d\n", allowed.Load())
	return nil
}

// idemDup runs m concurrent duplicates of one request: the work (an INCR of
// "<prefix>:executions") must run once, and every duplicate print the same
// response.
func idemDup(ctx context.Context, client *redisx.Client, prefix, key string, m int) error {
	responses := make([]string, m)
	errs := make([]error, m)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := client.BeginIdempotent(ctx, key, []byte("same-request"), 10*time.Second, 20*time.Second)
			if err != nil {
				errs[i] = err
				return
			}
			switch rec.State() {
			case redisx.IdemNew:
				if _, err := client.Do(ctx, "INCR", prefix+":executions"); err != nil {
					errs[i] = err
					return
				}
				time.Sleep(300 * time.Millisecond)
				resp := fmt.Sprintf("go-%d", os.Getpid())
				if err := rec.Complete(ctx, []byte(resp), []byte("m"), 60*time.Second); err != nil {
					errs[i] = err
					return
				}
				responses[i] = resp
			case redisx.IdemCompleted:
				responses[i] = string(rec.Response())
			default:
				errs[i] = fmt.Errorf("begin %d: unexpected state %s", i, rec.State())
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, r := range responses {
		fmt.Printf("RESP %s\n", r)
	}
	return nil
}

// ---- the HTTP middlewares' answers, dumped canonically (as worker.py) ----------

var dumpHeaders = map[string]bool{"content-type": true, "idempotent-replayed": true, "retry-after": true,
	"x-ratelimit-limit": true, "x-ratelimit-remaining": true, "x-ratelimit-reset": true}

var dumpBody = []byte("{\"amount\":\"10 \u20ac\"}")

func dumpLine(name string, rr *httptest.ResponseRecorder) error {
	res := rr.Result()
	var out []string
	for k, vs := range res.Header {
		k = strings.ToLower(k)
		if !dumpHeaders[k] {
			continue
		}
		for _, v := range vs {
			if k == "retry-after" || k == "x-ratelimit-reset" {
				n, err := strconv.Atoi(v)
				if err != nil || n > 3600 || (k == "retry-after" && n < 1) {
					return fmt.Errorf("%s: %s out of range: %q", name, k, v)
				}
				v = "N"
			}
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	hdr := strings.Join(out, "|")
	if hdr == "" {
		hdr = "-"
	}
	body, _ := io.ReadAll(res.Body)
	b := hex.EncodeToString(body)
	if b == "" {
		b = "-"
	}
	fmt.Printf("%s %d %s %s\n", name, res.StatusCode, hdr, b)
	return nil
}

func httpDump(ctx context.Context, client *redisx.Client, lang string) error {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":7}`)
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	})
	call := func(h http.Handler, name, key string, body []byte) error {
		req := httptest.NewRequest("POST", "/orders?id=7", bytes.NewReader(body))
		req.RemoteAddr = "10.0.0.1:1234"
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		return dumpLine(name, rr)
	}
	ns := "dump-" + lang
	idem := client.IdempotencyMiddleware(redisx.IdempotencyConfig{Namespace: ns, Required: true})(handler)
	fp := redisx.IdempotencyFingerprint("POST", "/orders?id=7", dumpBody)
	steps := []struct {
		name, key string
		body      []byte
	}{
		{"required", "", dumpBody},
		{"invalid", strings.Repeat("k", 1100), dumpBody},
		{"first", "k1", dumpBody},
		{"replay", "k1", dumpBody},
		{"mismatch", "k1", []byte("another body")},
	}
	for _, s := range steps {
		if err := call(idem, s.name, s.key, s.body); err != nil {
			return err
		}
	}
	if _, err := client.BeginIdempotent(ctx, ns+":k2", fp, 600*time.Second, 0); err != nil {
		return err
	}
	if err := call(idem, "in-progress", "k2", dumpBody); err != nil {
		return err
	}
	rec, err := client.BeginIdempotent(ctx, ns+":k1", fp, 30*time.Second, 0)
	if err != nil {
		return err
	}
	fmt.Printf("metadata %s %s\n", rec.State(), hex.EncodeToString(rec.Metadata()))
	lim, err := client.NewLimiter(ns, redisx.FixedWindow, 1, time.Hour)
	if err != nil {
		return err
	}
	rl := lim.Middleware(redisx.RateLimitConfig{})(ok)
	if err := call(rl, "rl-allowed", "", nil); err != nil {
		return err
	}
	return call(rl, "rl-denied", "", nil)
}

// streamProduce creates group "g" on stream (from the start) and publishes
// n JSON messages {"n": i} with header type=interop, 500 per batch.
func streamProduce(ctx context.Context, client *redisx.Client, stream string, n int) error {
	if err := client.CreateGroup(ctx, stream, "g", "0"); err != nil {
		return err
	}
	for i := 0; i < n; i += 500 {
		var msgs []redisx.OutMessage
		for j := i; j < n && j < i+500; j++ {
			msgs = append(msgs, redisx.OutMessage{Payload: map[string]int{"n": j},
				Headers: map[string][]byte{"type": []byte("interop")}})
		}
		if _, err := client.PublishBatch(ctx, stream, msgs); err != nil {
			return err
		}
	}
	fmt.Printf("PUBLISHED %d\n", n)
	return nil
}
