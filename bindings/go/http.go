package redisx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// ---- rate limiting -----------------------------------------------------------

// RateLimitConfig configures Limiter.Middleware; the zero value is the
// default.
type RateLimitConfig struct {
	// Key names the budget a request spends from (default: ClientIP).
	Key func(*http.Request) string
	// Cost is the units a request spends (default: 1).
	Cost func(*http.Request) int64
	// OnError answers a request whose check failed: an error of a limiter
	// that fails closed, an invalid key or cost, a cancelled request
	// (default: 503 Service Unavailable).
	OnError func(http.ResponseWriter, *http.Request, error)
}

// Middleware is net/http middleware that checks every request against the
// limiter. Allowed: the X-RateLimit-* headers (see RateLimitResult.Headers)
// are set and the request goes on. Denied: 429 with the headers, Retry-After
// and the body "Too Many Requests". An error (see RateLimitConfig.OnError):
// 503 by default; with the default fail-open policy an unreachable Redis
// lets requests through instead.
func (l *Limiter) Middleware(cfg RateLimitConfig) func(http.Handler) http.Handler {
	key := cfg.Key
	if key == nil {
		key = ClientIP
	}
	onError := cfg.OnError
	if onError == nil {
		onError = serviceUnavailable
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cost := int64(1)
			if cfg.Cost != nil {
				cost = cfg.Cost(r)
			}
			res, err := l.CheckN(r.Context(), key(r), cost)
			if err != nil {
				onError(w, r, err)
				return
			}
			a, err := res.answer()
			if err != nil {
				onError(w, r, err)
				return
			}
			if a.status != 0 { // denied: the core's 429
				a.write(w)
				return
			}
			a.setHeaders(w.Header())
			next.ServeHTTP(w, r)
		})
	}
}

// ClientIP returns the host part of r.RemoteAddr: the peer's address, not a
// header a client can forge. Behind a proxy, pass a Key function that reads
// the header your proxy sets.
func ClientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func serviceUnavailable(w http.ResponseWriter, _ *http.Request, _ error) {
	writeText(w, http.StatusServiceUnavailable, "Service Unavailable")
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// ---- idempotency -------------------------------------------------------------

// IdempotencyConfig configures Client.IdempotencyMiddleware; the zero value
// is the default.
type IdempotencyConfig struct {
	// Namespace, when set, prefixes the record key: "<Namespace>:<header>".
	Namespace string
	// Required answers 400 to requests without an Idempotency-Key header
	// (default: they run normally).
	Required bool
	// Lease is how long a request may run before a duplicate may take its
	// record over (default 30s).
	Lease time.Duration
	// TTL is how long a completed response is replayed (default 24h).
	TTL time.Duration
	// Wait is how long a duplicate waits for the first request to finish
	// (default 0: it gets 409 at once).
	Wait time.Duration
	// OnError answers a request whose record could not be read, e.g. Redis
	// unreachable with the default fail-closed policy (default: 503 Service
	// Unavailable; an invalid Idempotency-Key gets 400 either way).
	OnError func(http.ResponseWriter, *http.Request, error)
}

// IdempotencyMiddleware is net/http middleware implementing the
// Idempotency-Key header (IETF draft "The Idempotency-Key HTTP Header
// Field") over BeginIdempotent, with the same records and the same stored
// responses as every redisx binding:
//
//   - no Idempotency-Key header: the handler runs normally (400 with
//     Required);
//   - the request's fingerprint is IdempotencyFingerprint(method, path with
//     query, body), so the same key with another request is 422;
//   - first request: the handler runs with a buffering ResponseWriter; a
//     status below 500 stores the body with the metadata
//     {"status":<int>,"content_type":"<type>"} for TTL, a status of 500 or
//     more (or a panic) fails the record so that a retry runs again;
//   - a duplicate while the first runs: 409 with Retry-After (after Wait);
//   - a duplicate after it completed: the stored status, Content-Type and
//     body, with "Idempotent-Replayed: true".
//
// Only status, Content-Type and body are stored and replayed. The whole
// request body is read for the fingerprint: bound it first (e.g.
// http.MaxBytesReader; an oversized body gets 413).
func (c *Client) IdempotencyMiddleware(cfg IdempotencyConfig) func(http.Handler) http.Handler {
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	onError := cfg.OnError
	if onError == nil {
		onError = serviceUnavailable
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			value := r.Header.Get("Idempotency-Key")
			if value == "" {
				if cfg.Required {
					writeAnswer(w, capi.Redisx_http_key_required())
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			key, err := recordKey(cfg.Namespace, value)
			if err != nil {
				writeAnswer(w, capi.Redisx_http_key_invalid())
				return
			}
			var body []byte
			if r.Body != nil {
				b, err := io.ReadAll(r.Body)
				r.Body.Close()
				if err != nil {
					var tooBig *http.MaxBytesError
					if errors.As(err, &tooBig) {
						writeText(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
					} else {
						writeText(w, http.StatusBadRequest, "cannot read the request body")
					}
					return
				}
				body = b
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			fp := IdempotencyFingerprint(r.Method, pathWithQuery(r), body)
			rec, err := c.BeginIdempotent(r.Context(), key, fp, cfg.Lease, cfg.Wait)
			if err != nil {
				if errors.Is(err, ErrInvalidArgument) {
					writeAnswer(w, capi.Redisx_http_key_invalid())
					return
				}
				onError(w, r, err)
				return
			}
			if rec.State() == IdemNew {
				runOnce(w, r, next, rec, cfg.TTL)
				return
			}
			// 409 with Retry-After, 422, or the stored response replayed.
			writeAnswer(w, capi.Redisx_http_idem_answer(capi.Redisx_idem_state(rec.State()),
				rec.Remaining().Milliseconds(), rec.Metadata(), rec.Response()))
		})
	}
}

// IdempotencyFingerprint is the fingerprint IdempotencyMiddleware (and every
// redisx binding's HTTP helper) gives a request: the raw 32 bytes of
// SHA-256(upper-case method + "\n" + path with query + "\n" + body),
// computed by the C core (redisx_http_fingerprint). An empty method is GET,
// as in net/http.
func IdempotencyFingerprint(method, pathWithQuery string, body []byte) []byte {
	if method == "" {
		method = http.MethodGet
	}
	out := make([]byte, capi.REDISX_HTTP_FINGERPRINT_LEN)
	n, err := capi.Redisx_http_fingerprint(out, method, []byte(pathWithQuery), body).Get()
	if err != nil {
		// Only a method holding a NUL byte gets here (C reads up to it);
		// hash the same bytes another binding would send to C.
		method, _, _ = strings.Cut(method, "\x00")
		if method == "" {
			method = http.MethodGet
		}
		n, _ = capi.Redisx_http_fingerprint(out, method, []byte(pathWithQuery), body).Get()
	}
	return out[:n]
}

// recordKey is the record key of a header value (namespace ":" value, or
// the value alone), by the core's rule; an error for a key the store would
// refuse.
func recordKey(namespace, value string) (string, error) {
	out := make([]byte, capi.REDISX_HTTP_OUT_MAX)
	n, err := capi.Redisx_http_record_key(out, namespace, []byte(value)).Get()
	if err != nil {
		return "", errorOf(err)
	}
	return string(out[:n]), nil
}

// pathWithQuery is the request target as the client sent it (what the other
// bindings' servers hand them), or the URL's path and query when the request
// did not come from a server or used another form.
func pathWithQuery(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// httpAnswer is one answer of the core's HTTP rules (redisx/http.h): the
// status (0: no answer, only headers to add), the headers in order, the body.
type httpAnswer struct {
	status int
	header [][2]string
	body   []byte
}

// takeAnswer reads and frees a response of the core.
func takeAnswer(o capi.Out[capi.HttpResponse]) (httpAnswer, error) {
	resp, err := o.Get()
	if err != nil {
		return httpAnswer{}, errorOf(err)
	}
	if resp == 0 {
		return httpAnswer{}, nil
	}
	defer capi.Redisx_http_response_free(resp)
	a := httpAnswer{status: capi.Redisx_http_response_status(resp), body: capi.Redisx_http_response_body(resp)}
	n := capi.Redisx_http_response_header_count(resp)
	for i := int64(0); i < n; i++ {
		a.header = append(a.header, [2]string{capi.Redisx_http_response_header_name(resp, i),
			capi.Redisx_http_response_header_value(resp, i)})
	}
	return a, nil
}

func (a httpAnswer) setHeaders(h http.Header) {
	for _, kv := range a.header {
		h.Set(kv[0], kv[1])
	}
}

// write sends the answer as it is: no Content-Type is sniffed for a body
// the core sends without one (a replay stored without a type).
func (a httpAnswer) write(w http.ResponseWriter) {
	h := w.Header()
	a.setHeaders(h)
	if _, set := h["Content-Type"]; !set {
		h["Content-Type"] = nil
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// writeAnswer sends an answer of the core; its only error is running out of
// memory, answered 503.
func writeAnswer(w http.ResponseWriter, o capi.Out[capi.HttpResponse]) {
	a, err := takeAnswer(o)
	if err != nil || a.status == 0 {
		serviceUnavailable(w, nil, err)
		return
	}
	a.write(w)
}

// storedMetadata is the metadata stored with a response; nil when the core
// refuses its content type (not UTF-8, control characters, too long).
func storedMetadata(status int, contentType string) []byte {
	out := make([]byte, capi.REDISX_HTTP_OUT_MAX)
	n, err := capi.Redisx_http_metadata(out, status, []byte(contentType)).Get()
	if err != nil {
		return nil
	}
	return out[:n]
}

// runOnce runs the handler of a NEW record with a buffering writer, stores
// or fails the record, then sends the response.
func runOnce(w http.ResponseWriter, r *http.Request, next http.Handler, rec *IdemRecord, ttl time.Duration) {
	// The outcome must be recorded even when the client has gone away.
	ctx := context.WithoutCancel(r.Context())
	cw := &captureWriter{header: http.Header{}}
	done := false
	defer func() {
		if !done { // the handler panicked: let a retry run
			rec.Fail(ctx)
		}
	}()
	next.ServeHTTP(cw, r)
	done = true

	status, header := cw.result()
	meta := storedMetadata(status, header.Get("Content-Type"))
	if capi.Redisx_http_status_is_stored(status) == 0 || meta == nil {
		rec.Fail(ctx)
	} else {
		// An error here (the lease passed and a duplicate took the record
		// over, Redis gone) cannot undo the work: the response goes out.
		rec.Complete(ctx, cw.body.Bytes(), meta, ttl)
	}
	dst := w.Header()
	for k, v := range header {
		dst[k] = v
	}
	w.WriteHeader(status)
	w.Write(cw.body.Bytes())
}

// captureWriter buffers a handler's response: the status and the headers
// as they were at WriteHeader (as net/http sends them), and the body.
type captureWriter struct {
	header http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status != 0 || code < 200 { // informational responses are not stored
		return
	}
	c.status = code
	c.sent = c.header.Clone()
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	return c.body.Write(p)
}

// result is the status and headers to send and store; like net/http, a body
// without a Content-Type gets a sniffed one.
func (c *captureWriter) result() (int, http.Header) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	h := c.sent
	if _, set := h["Content-Type"]; !set && c.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(c.body.Bytes()))
	}
	return c.status, h
}
