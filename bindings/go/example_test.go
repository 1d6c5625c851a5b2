package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// The lock's fencing token goes to the protected resource, which rejects
// writes carrying an older one.
func ExampleClient_Lock() {
	c, err := redisx.Open("redis://127.0.0.1:6379/0", redisx.WithPrefix("myapp"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	lk, err := c.Lock(ctx, "nightly-report", 30*time.Second)
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("someone else is still running it")
		return
	} else if err != nil {
		panic(err)
	}
	defer lk.Release(context.Background())
	if err := lk.KeepAlive(func() { fmt.Println("lost the lock: stop writing") }); err != nil {
		panic(err)
	}
	fmt.Println("running with fencing token", lk.FencingToken())
}

// Every client IP may make 100 requests a minute to /api/ (one budget shared
// by every process and language that uses the limiter "api"); denied
// requests get 429 with Retry-After.
func ExampleLimiter_Middleware() {
	c, err := redisx.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	l, err := c.NewLimiter("api", redisx.GCRA, 100, time.Minute)
	if err != nil {
		panic(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	mux := http.NewServeMux()
	mux.Handle("/api/", l.Middleware(redisx.RateLimitConfig{
		Key: func(r *http.Request) string { return r.Header.Get("X-Api-Key") }, // default: the client IP
	})(api))
	http.ListenAndServe("127.0.0.1:8080", mux)
}

// A retried POST with the same Idempotency-Key gets the first response
// again (with Idempotent-Replayed: true) instead of creating a second order.
func ExampleClient_IdempotencyMiddleware() {
	c, err := redisx.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	createOrder := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintln(w, `{"order":42}`)
	})
	mw := c.IdempotencyMiddleware(redisx.IdempotencyConfig{Namespace: "orders", Required: true})
	http.ListenAndServe("127.0.0.1:8080", mw(createOrder))
}

// Without HTTP: run a job once per key, replay its result to duplicates.
func ExampleClient_BeginIdempotent() {
	c, err := redisx.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	rec, err := c.BeginIdempotent(ctx, "invoice:2024-0042", []byte("send"), 30*time.Second, 0)
	if err != nil {
		panic(err)
	}
	switch rec.State() {
	case redisx.IdemNew:
		result := []byte("sent") // ... do the work ...
		if err := rec.Complete(ctx, result, nil, 24*time.Hour); err != nil {
			panic(err)
		}
	case redisx.IdemCompleted:
		fmt.Printf("already done: %s\n", rec.Response())
	case redisx.IdemInProgress:
		fmt.Println("running elsewhere; retry in", rec.Remaining())
	case redisx.IdemMismatch:
		fmt.Println("key reused for another request")
	}
}

// rediss:// with a private CA and a client certificate (for a server with
// tls-auth-clients yes). The system's CA store is used when no CA is given;
// the certificate must name the URL's host unless WithTLSServerName says
// which name it carries.
func ExampleWithTLSCAFile() {
	c, err := redisx.Open("rediss://redis.internal:6380/0",
		redisx.WithTLSCAFile("/etc/redis/tls/ca.crt"),
		redisx.WithTLSClientCert("/etc/redis/tls/client.crt", "/etc/redis/tls/client.key"))
	if err != nil {
		panic(err) // ErrInvalidArgument naming a file that cannot be loaded
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lk, err := c.Lock(ctx, "nightly-report", 30*time.Second)
	if errors.Is(err, redisx.ErrConnection) {
		fmt.Println("cannot reach Redis:", err) // e.g. "... TLS handshake: certificate verify failed: ..."
		return
	} else if err != nil {
		panic(err)
	}
	defer lk.Release(context.Background())
}
