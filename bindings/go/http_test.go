package redisx_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// serve runs h on a real HTTP server on 127.0.0.1 for the test's duration
// (handler panics are expected in some tests: their log is dropped).
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, body string, header ...string) reply {
	t.Helper()
	r, err := doErr(method, url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// goDo sends a request from another goroutine; a failure is reported as an
// error (t.Fatal must not run there) and a zero reply.
func goDo(t *testing.T, method, url string, body string, header ...string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		r, err := doErr(method, url, body, header...)
		if err != nil {
			t.Error(err)
		}
		ch <- r
	}()
	return ch
}

func doErr(method, url string, body string, header ...string) (reply, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, string(b)}, nil
}

// ---- rate-limit middleware -----------------------------------------------------

func TestRateLimitMiddlewareByClientIP(t *testing.T) {
	c := open(t)
	l, err := c.NewLimiter(lockName(t, "ip"), redisx.FixedWindow, 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	srv := serve(t, l.Middleware(redisx.RateLimitConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, "hello")
	})))
	for i, remaining := range []string{"1", "0"} {
		r := do(t, "GET", srv.URL, "")
		reset, _ := strconv.Atoi(r.header.Get("X-RateLimit-Reset"))
		if r.status != 200 || r.body != "hello" || r.header.Get("X-RateLimit-Limit") != "2" ||
			r.header.Get("X-RateLimit-Remaining") != remaining || reset < 1 || reset > 3600 || r.header.Get("Retry-After") != "" {
			t.Errorf("request %d: %d %q %v; want 200 with limit 2, remaining %s", i+1, r.status, r.body, r.header, remaining)
		}
	}
	r := do(t, "GET", srv.URL, "")
	retry, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || r.body != "Too Many Requests" || r.header.Get("X-RateLimit-Limit") != "2" ||
		r.header.Get("X-RateLimit-Remaining") != "0" || retry < 1 || retry > 3600 {
		t.Errorf("third request: %d %q %v; want 429 Too Many Requests with the headers and Retry-After", r.status, r.body, r.header)
	}
	if calls.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", calls.Load())
	}
	// The key was the client's IP: the budget is the one of 127.0.0.1.
	peek, err := l.Peek(ctxFor(t), "127.0.0.1")
	if err != nil || peek.Allowed || peek.Remaining != 0 {
		t.Errorf("Peek(127.0.0.1) = %+v, %v; want the spent budget", peek, err)
	}
}

func TestRateLimitMiddlewareWithKeyAndCost(t *testing.T) {
	c := open(t)
	l, err := c.NewLimiter(lockName(t, "user"), redisx.GCRA, 5, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mw := l.Middleware(redisx.RateLimitConfig{
		Key: func(r *http.Request) string { return r.Header.Get("X-User") },
		Cost: func(r *http.Request) int64 {
			n, _ := strconv.ParseInt(r.URL.Query().Get("cost"), 10, 64)
			return n
		},
	})
	srv := serve(t, mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })))
	if r := do(t, "POST", srv.URL+"?cost=3", "", "X-User", "a"); r.status != 204 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("a, cost 3: %d %v; want 204 with 2 remaining", r.status, r.header)
	}
	if r := do(t, "POST", srv.URL+"?cost=3", "", "X-User", "a"); r.status != 429 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("a, cost 3 again: %d %v; want 429 with 2 remaining", r.status, r.header)
	}
	if r := do(t, "POST", srv.URL+"?cost=5", "", "X-User", "b"); r.status != 204 || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("b, cost 5: %d %v; want 204 with its own budget", r.status, r.header)
	}
	// A cost above the capacity is an error: the error path, 503 by default.
	if r := do(t, "POST", srv.URL+"?cost=6", "", "X-User", "c"); r.status != http.StatusServiceUnavailable {
		t.Errorf("cost 6 of 5: %d, want 503", r.status)
	}
}

func TestRateLimitMiddlewareWithoutRedis(t *testing.T) {
	url := deadURL(t)
	c := open2(t, url, shortTimeouts()...)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	open, err := c.NewLimiter("dead", redisx.TokenBucket, 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, open.Middleware(redisx.RateLimitConfig{})(handler))
	if r := do(t, "GET", srv.URL, ""); r.status != 200 || r.body != "ok" || r.header.Get("X-RateLimit-Remaining") != "3" {
		t.Errorf("fail-open limiter without Redis: %d %q %v; want 200 with the whole budget", r.status, r.body, r.header)
	}

	closed, err := c.NewLimiter("dead", redisx.TokenBucket, 3, time.Minute, redisx.WithLimiterFailPolicy(redisx.FailClosed))
	if err != nil {
		t.Fatal(err)
	}
	srv = serve(t, closed.Middleware(redisx.RateLimitConfig{})(handler))
	if r := do(t, "GET", srv.URL, ""); r.status != http.StatusServiceUnavailable || r.body == "ok" {
		t.Errorf("fail-closed limiter without Redis: %d %q; want 503", r.status, r.body)
	}
	var seen error
	srv = serve(t, closed.Middleware(redisx.RateLimitConfig{OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		seen = err
		w.WriteHeader(http.StatusTeapot)
	}})(handler))
	if r := do(t, "GET", srv.URL, ""); r.status != http.StatusTeapot ||
		!(errors.Is(seen, redisx.ErrConnection) || errors.Is(seen, redisx.ErrTimeout)) {
		t.Errorf("OnError: status %d, error %v; want 418 and ErrConnection/ErrTimeout", r.status, seen)
	}
}

// ---- idempotency middleware ------------------------------------------------------

// idemServer counts handler runs; the handler answers 201 JSON by default,
// or the status in ?status=, or panics with ?panic=1; it holds until
// release is closed when ?hold=1.
type idemServer struct {
	*httptest.Server
	calls   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func newIdemServer(t *testing.T, c *redisx.Client, cfg redisx.IdempotencyConfig) *idemServer {
	s := &idemServer{entered: make(chan struct{}, 10), release: make(chan struct{})}
	s.Server = serve(t, c.IdempotencyMiddleware(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		if q.Get("hold") == "1" {
			s.entered <- struct{}{}
			<-s.release
		}
		if q.Get("panic") == "1" {
			panic("handler failed")
		}
		status := http.StatusCreated
		if v := q.Get("status"); v != "" {
			status, _ = strconv.Atoi(v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Run", strconv.FormatInt(n, 10))
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"run":%d,"got":%q}`, n, body)
	})))
	return s
}

func TestIdempotencyMiddlewareReplaysTheFirstResponse(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{})
	key := lockName(t, "k")
	first := do(t, "POST", s.URL+"/orders?x=1", `{"item":42}`, "Idempotency-Key", key)
	if first.status != 201 || first.header.Get("Content-Type") != "application/json" ||
		first.body != `{"run":1,"got":"{\"item\":42}"}` || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first request: %d %v %q", first.status, first.header, first.body)
	}
	second := do(t, "POST", s.URL+"/orders?x=1", `{"item":42}`, "Idempotency-Key", key)
	if second.status != 201 || second.header.Get("Content-Type") != "application/json" || second.body != first.body ||
		second.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("duplicate: %d %v %q; want the first response replayed", second.status, second.header, second.body)
	}
	if s.calls.Load() != 1 {
		t.Errorf("handler ran %d times, want once", s.calls.Load())
	}
	// Other body, other path or other method with the same key: 422.
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/orders?x=1", `{"item":43}`},
		{"POST", "/orders?x=2", `{"item":42}`},
		{"PUT", "/orders?x=1", `{"item":42}`},
	} {
		if got := do(t, r.method, s.URL+r.path, r.body, "Idempotency-Key", key); got.status != http.StatusUnprocessableEntity {
			t.Errorf("same key, %s %s %s: %d, want 422", r.method, r.path, r.body, got.status)
		}
	}
	if s.calls.Load() != 1 {
		t.Errorf("handler ran %d times, want once", s.calls.Load())
	}
	// The stored record is the cross-language contract: compact JSON
	// metadata, the raw body as the response.
	meta, err := c.Do(ctxFor(t), "HGET", "redisx:idem:{"+key+"}", "meta")
	if err != nil || string(meta.([]byte)) != `{"status":201,"content_type":"application/json"}` {
		t.Errorf("stored metadata = %q (%v)", meta, err)
	}
	resp, err := c.Do(ctxFor(t), "HGET", "redisx:idem:{"+key+"}", "resp")
	if err != nil || string(resp.([]byte)) != first.body {
		t.Errorf("stored response = %q (%v), want the body", resp, err)
	}
}

func TestIdempotencyMiddlewareConcurrentDuplicateIsConflict(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{})
	key := lockName(t, "k")
	firstc := goDo(t, "POST", s.URL+"/pay?hold=1", "100", "Idempotency-Key", key)
	select {
	case <-s.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the first request never reached the handler")
	}
	dup := do(t, "POST", s.URL+"/pay?hold=1", "100", "Idempotency-Key", key)
	retry, _ := strconv.Atoi(dup.header.Get("Retry-After"))
	if dup.status != http.StatusConflict || retry < 1 || retry > 30 {
		t.Errorf("duplicate while the first runs: %d %v; want 409 with Retry-After in [1, 30]", dup.status, dup.header)
	}
	close(s.release)
	first := <-firstc
	if first.status != 201 || s.calls.Load() != 1 {
		t.Errorf("first request: %d, handler runs %d; want 201, once", first.status, s.calls.Load())
	}
	if again := do(t, "POST", s.URL+"/pay?hold=1", "100", "Idempotency-Key", key); again.status != 201 ||
		again.body != first.body || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry after completion: %d %q %v; want the replay", again.status, again.body, again.header)
	}
}

func TestIdempotencyMiddlewareWaitsWhenConfigured(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{Wait: 20 * time.Second})
	key := lockName(t, "k")
	firstc := goDo(t, "POST", s.URL+"/?hold=1", "b", "Idempotency-Key", key)
	<-s.entered
	dupc := goDo(t, "POST", s.URL+"/?hold=1", "b", "Idempotency-Key", key)
	time.Sleep(200 * time.Millisecond)
	close(s.release)
	first, dup := <-firstc, <-dupc
	if first.status != 201 || dup.status != 201 || dup.body != first.body || dup.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("first %d %q, waiting duplicate %d %q %v; want the replay", first.status, first.body, dup.status, dup.body, dup.header)
	}
	if s.calls.Load() != 1 {
		t.Errorf("handler ran %d times, want once", s.calls.Load())
	}
}

func TestIdempotencyMiddlewareServerErrorsAndPanicsLetARetryRun(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{})
	key := lockName(t, "k")
	if r := do(t, "POST", s.URL+"/?status=500", "x", "Idempotency-Key", key); r.status != 500 || r.header.Get("X-Run") != "1" {
		t.Fatalf("first: %d %v, want the handler's 500", r.status, r.header)
	}
	if r := do(t, "POST", s.URL+"/?status=500", "x", "Idempotency-Key", key); r.status != 500 || r.header.Get("X-Run") != "2" ||
		r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("retry after a 500: %d %v, want the handler run again", r.status, r.header)
	}
	key2 := lockName(t, "panic")
	req, _ := http.NewRequest("POST", s.URL+"/?panic=1", strings.NewReader("x"))
	req.Header.Set("Idempotency-Key", key2)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a panicking handler answered %d", resp.StatusCode)
	}
	before := s.calls.Load()
	// The panic failed the record: a begin of the same request is NEW again
	// (not IN_PROGRESS for the 30 s lease, not a takeover).
	rec, err := c.BeginIdempotent(ctxFor(t), key2, redisx.IdempotencyFingerprint("POST", "/?panic=1", []byte("x")), time.Second, 0)
	if err != nil || rec.State() != redisx.IdemNew || rec.TakenOver() {
		t.Errorf("after a panic: begin = %v, %v; want NEW (the record was failed, not left in progress)", rec, err)
	}
	if s.calls.Load() != before {
		t.Error("handler ran again unexpectedly")
	}
	// 4xx answers are final: stored and replayed.
	key3 := lockName(t, "4xx")
	do(t, "POST", s.URL+"/?status=409", "x", "Idempotency-Key", key3)
	if r := do(t, "POST", s.URL+"/?status=409", "x", "Idempotency-Key", key3); r.status != 409 ||
		r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry after a 409 from the handler: %d %v, want the 409 replayed", r.status, r.header)
	}
}

// The answers' texts are the C core's (docs/KEYS.md "HTTP"): the same bytes
// as the Python and Node middlewares send.
func TestIdempotencyMiddlewareAnswersCarryTheCoresBodies(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{Required: true, Namespace: "texts"})
	const text = "text/plain; charset=utf-8"
	cases := []struct {
		name, key, body, want string
		status                int
	}{
		{"missing", "", "x", "Idempotency-Key header required", 400},
		{"too long", strings.Repeat("k", 1100), "x", "Invalid Idempotency-Key", 400},
		{"first", "t-1", "x", "", 201},
		{"other body", "t-1", "y", "Idempotency-Key was used with a different request", 422},
	}
	for _, tc := range cases {
		var hdr []string
		if tc.key != "" {
			hdr = []string{"Idempotency-Key", tc.key}
		}
		r := do(t, "POST", s.URL, tc.body, hdr...)
		if r.status != tc.status || (tc.want != "" && (r.body != tc.want || r.header.Get("Content-Type") != text)) {
			t.Errorf("%s: %d %q %v; want %d %q (%s)", tc.name, r.status, r.body, r.header, tc.status, tc.want, text)
		}
	}
}

func TestIdempotencyMiddlewareWithoutTheHeader(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{})
	for i := 1; i <= 2; i++ {
		if r := do(t, "POST", s.URL, "x"); r.status != 201 || r.header.Get("X-Run") != strconv.Itoa(i) {
			t.Errorf("request %d without a key: %d %v, want the handler to run", i, r.status, r.header)
		}
	}
	req := newIdemServer(t, c, redisx.IdempotencyConfig{Required: true})
	if r := do(t, "POST", req.URL, "x"); r.status != http.StatusBadRequest || req.calls.Load() != 0 {
		t.Errorf("Required without a key: %d, handler runs %d; want 400, none", r.status, req.calls.Load())
	}
	if r := do(t, "POST", req.URL, "x", "Idempotency-Key", strings.Repeat("k", 2000)); r.status != http.StatusBadRequest {
		t.Errorf("a key above 1024 bytes: %d, want 400", r.status)
	}
}

func TestIdempotencyMiddlewareNamespaceAndOtherLanguagesRecords(t *testing.T) {
	c := open(t)
	s := newIdemServer(t, c, redisx.IdempotencyConfig{Namespace: "orders"})
	key := lockName(t, "k")
	body := []byte("from python")
	// Another language's HTTP helper stored this response for the same
	// request: same record key, fingerprint and metadata format.
	rec, err := c.BeginIdempotent(ctxFor(t), "orders:"+key, redisx.IdempotencyFingerprint("POST", "/o?a=b", body), time.Minute, 0)
	if err != nil || rec.State() != redisx.IdemNew {
		t.Fatalf("begin: %v, %v", rec, err)
	}
	if err := rec.Complete(ctxFor(t), []byte("stored elsewhere"), []byte(`{"status":202,"content_type":"text/plain"}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	r := do(t, "POST", s.URL+"/o?a=b", string(body), "Idempotency-Key", key)
	if r.status != 202 || r.header.Get("Content-Type") != "text/plain" || r.body != "stored elsewhere" ||
		r.header.Get("Idempotent-Replayed") != "true" || s.calls.Load() != 0 {
		t.Errorf("replay of a record stored elsewhere: %d %v %q (handler runs %d)", r.status, r.header, r.body, s.calls.Load())
	}
	// The fingerprint covers the request target as sent, escapes included.
	key3 := lockName(t, "k3")
	rec, err = c.BeginIdempotent(ctxFor(t), "orders:"+key3, redisx.IdempotencyFingerprint("DELETE", "/o/a%2Fb?q=%7E&r", nil), time.Minute, 0)
	if err != nil || rec.State() != redisx.IdemNew {
		t.Fatalf("begin: %v, %v", rec, err)
	}
	if err := rec.Complete(ctxFor(t), []byte("gone"), []byte(`{"status":200,"content_type":""}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "DELETE", s.URL+"/o/a%2Fb?q=%7E&r", "", "Idempotency-Key", key3); r.status != 200 || r.body != "gone" ||
		r.header.Get("Idempotent-Replayed") != "true" || r.header.Get("Content-Type") != "" || s.calls.Load() != 0 {
		t.Errorf("replay for an escaped target: %d %v %q (handler runs %d)", r.status, r.header, r.body, s.calls.Load())
	}
	// And the reverse: a response stored here is readable by the same begin
	// from any language.
	key2 := lockName(t, "k2")
	first := do(t, "PATCH", s.URL+"/o/1", "p", "Idempotency-Key", key2)
	stored, err := c.BeginIdempotent(ctxFor(t), "orders:"+key2, redisx.IdempotencyFingerprint("PATCH", "/o/1", []byte("p")), time.Minute, 0)
	if err != nil || stored.State() != redisx.IdemCompleted || string(stored.Response()) != first.body ||
		string(stored.Metadata()) != `{"status":201,"content_type":"application/json"}` {
		t.Errorf("record stored by the middleware: %v %q %q (%v)", stored.State(), stored.Response(), stored.Metadata(), err)
	}
}

func TestIdempotencyMiddlewareStoresSniffedAndEmptyContentTypes(t *testing.T) {
	c := open(t)
	mw := c.IdempotencyMiddleware(redisx.IdempotencyConfig{})
	srv := serve(t, mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "<html><body>hi</body></html>")
	})))
	key := lockName(t, "html")
	first := do(t, "POST", srv.URL+"/html", "", "Idempotency-Key", key)
	second := do(t, "POST", srv.URL+"/html", "", "Idempotency-Key", key)
	if first.status != 200 || second.status != 200 || second.body != first.body ||
		second.header.Get("Content-Type") != "text/html; charset=utf-8" || first.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("sniffed type: first %d %v, replay %d %v", first.status, first.header, second.status, second.header)
	}
	key = lockName(t, "empty")
	do(t, "POST", srv.URL+"/empty", "", "Idempotency-Key", key)
	r := do(t, "POST", srv.URL+"/empty", "", "Idempotency-Key", key)
	if r.status != http.StatusNoContent || r.body != "" || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay of a 204: %d %q %v", r.status, r.body, r.header)
	}
	meta, err := c.Do(ctxFor(t), "HGET", "redisx:idem:{"+key+"}", "meta")
	if err != nil || string(meta.([]byte)) != `{"status":204,"content_type":""}` {
		t.Errorf("metadata of a 204 without a type = %q (%v)", meta, err)
	}
}

func TestIdempotencyMiddlewareWithoutRedisIsServiceUnavailable(t *testing.T) {
	c := open2(t, deadURL(t), shortTimeouts()...)
	var calls atomic.Int64
	srv := serve(t, c.IdempotencyMiddleware(redisx.IdempotencyConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
	})))
	if r := do(t, "POST", srv.URL, "x", "Idempotency-Key", "k"); r.status != http.StatusServiceUnavailable || calls.Load() != 0 {
		t.Errorf("fail-closed without Redis: %d, handler runs %d; want 503, none", r.status, calls.Load())
	}
}

func TestIdempotencyFingerprintIsSHA256OfMethodPathAndBody(t *testing.T) {
	want := sha256.Sum256([]byte("POST\n/a/b?c=d\nbody"))
	if got := redisx.IdempotencyFingerprint("POST", "/a/b?c=d", []byte("body")); !bytes.Equal(got, want[:]) {
		t.Errorf("fingerprint = %x, want %x", got, want)
	}
}
