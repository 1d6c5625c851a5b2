// Command redisx-bench-go-observability measures what observability costs
// the Go binding, in one run against one server: lock acquire+release cycles
// and rate-limit checks per second, sequential (one goroutine, one call at
// a time), first on a bare client, then on one with a Prometheus collector
// registered (scraped once a second) and OpenTelemetry attached through
// redisxotel (SDK tracer with a batch span processor over an exporter that
// drops spans, SDK meter with a manual reader and the duration Producer,
// collected once a second). Rounds alternate the two clients and the median
// is reported. It prints name=value lines; the ratios are instrumented over
// bare (1: free). It reports figures, never judges them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	redisx "github.com/redisx/redisx/bindings/go"
	"github.com/redisx/redisx/bindings/go/redisxotel"
	"github.com/redisx/redisx/bindings/go/redisxprom"
)

// discard is a span exporter that drops every span.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func lockRate(ctx context.Context, c *redisx.Client, name string, n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		lk, err := c.TryLock(ctx, name, 10*time.Second)
		if err != nil {
			fail("TryLock: %v", err)
		}
		if err := lk.Release(ctx); err != nil {
			fail("Release: %v", err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func checkRate(ctx context.Context, l *redisx.Limiter, key string, n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := l.Check(ctx, key); err != nil {
			fail("Check: %v", err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func main() {
	url := flag.String("url", "redis://127.0.0.1:6379/0", "server")
	n := flag.Int("n", 5000, "calls per round")
	rounds := flag.Int("rounds", 5, "rounds")
	flag.Parse()
	// A cancellable ctx: both clients take the same (queue) path.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	bare, err := redisx.Open(*url)
	if err != nil {
		fail("open: %v", err)
	}
	defer bare.Close()
	obs, err := redisx.Open(*url)
	if err != nil {
		fail("open: %v", err)
	}
	defer obs.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(redisxprom.NewCollector(obs, nil))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	defer tp.Shutdown(context.Background())
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(redisxotel.NewProducer(obs)))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	inst, err := redisxotel.Instrument(obs, redisxotel.WithTracerProvider(tp), redisxotel.WithMeterProvider(mp))
	if err != nil {
		fail("instrument: %v", err)
	}
	defer inst.Shutdown()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a scrape and a collection each second, as in production
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_, _ = reg.Gather()
				var rm metricdata.ResourceMetrics
				_ = reader.Collect(context.Background(), &rm)
			}
		}
	}()

	limiters := [2]*redisx.Limiter{}
	for i, c := range [2]*redisx.Client{bare, obs} {
		l, err := c.NewLimiter("bench-obs-"+strconv.Itoa(i), redisx.GCRA, 1000000000, time.Hour)
		if err != nil {
			fail("limiter: %v", err)
		}
		defer l.Close()
		limiters[i] = l
	}
	var lock [2][]float64
	var check [2][]float64
	for r := 0; r < *rounds; r++ {
		for i, c := range [2]*redisx.Client{bare, obs} {
			lock[i] = append(lock[i], lockRate(ctx, c, "bench-obs-lock-"+strconv.Itoa(i), *n))
			check[i] = append(check[i], checkRate(ctx, limiters[i], "k", *n))
		}
	}
	lb, lo := median(lock[0]), median(lock[1])
	cb, co := median(check[0]), median(check[1])
	fmt.Printf("go_observability_lock_bare_per_s=%.0f\n", lb)
	fmt.Printf("go_observability_lock_instrumented_per_s=%.0f\n", lo)
	fmt.Printf("go_observability_check_bare_per_s=%.0f\n", cb)
	fmt.Printf("go_observability_check_instrumented_per_s=%.0f\n", co)
	fmt.Printf("observability_lock_ratio=%.3f\n", lo/lb)
	fmt.Printf("observability_check_ratio=%.3f\n", co/cb)
}
