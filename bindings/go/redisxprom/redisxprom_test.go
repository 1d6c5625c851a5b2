package redisxprom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	redisx "github.com/redisx/redisx/bindings/go"
	"github.com/redisx/redisx/bindings/go/redisxprom"
	"github.com/redisx/redisx/bindings/go/redisxtest"
)

// value finds the sample of family name whose labels are exactly want.
func value(t *testing.T, fams []*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m
		}
	}
	t.Fatalf("no sample %s%v", name, want)
	return nil
}

func TestScrapeAfterKnownOperations(t *testing.T) {
	c := redisxtest.NewClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(redisxprom.NewCollector(c, prometheus.Labels{"client": "orders"}))

	l, err := c.TryLock(ctx, "job", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TryLock(ctx, "job", 30*time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("second TryLock: %v", err)
	}
	l.Release(ctx)
	lim, err := c.NewLimiter("api", redisx.SlidingLog, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	for i := 0; i < 3; i++ {
		lim.Check(ctx, "user-1")
	}
	for i := 0; i < 4; i++ {
		c.Do(ctx, "PING")
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather (pedantic registry): %v", err)
	}
	L := func(kv ...string) map[string]string {
		m := map[string]string{"client": "orders"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	check := func(name string, want float64, kv ...string) {
		t.Helper()
		if got := value(t, fams, name, L(kv...)).GetCounter().GetValue(); got != want {
			t.Errorf("%s%v = %v, want %v", name, L(kv...), got, want)
		}
	}
	check("redisx_lock_acquisitions_total", 1, "status", "acquired")
	check("redisx_lock_acquisitions_total", 1, "status", "held")
	check("redisx_ratelimit_requests_total", 2, "limiter", "api", "status", "allowed")
	check("redisx_ratelimit_requests_total", 1, "limiter", "api", "status", "rejected")
	if g := value(t, fams, "redisx_locks_held", L()).GetGauge().GetValue(); g != 0 {
		t.Errorf("redisx_locks_held = %v, want 0", g)
	}
	if n := value(t, fams, "redisx_lock_hold_duration_seconds", L()).GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("lock hold count %d, want 1", n)
	}
	if n := value(t, fams, "redisx_ratelimit_duration_seconds", L("limiter", "api", "operation", "check")).GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("limiter check count %d, want 3", n)
	}
	check("redisx_operations_total", 4, "primitive", "client", "operation", "command", "status", "ok")
	h := value(t, fams, "redisx_operation_duration_seconds", L("primitive", "client", "operation", "command")).GetHistogram()
	if h.GetSampleCount() != 4 || h.GetSampleSum() <= 0 {
		t.Errorf("histogram count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	if b := h.GetBucket(); len(b) != 9 || b[len(b)-1].GetUpperBound() != 10 || b[len(b)-1].GetCumulativeCount() != 4 {
		t.Errorf("buckets %v", b)
	}
	if g := value(t, fams, "redisx_connections_up", L()).GetGauge().GetValue(); g != 1 {
		t.Errorf("connections up %v", g)
	}
	// One duration series per operation that ran: command, lock acquire and
	// release, rate-limit check.
	n, err := testutil.GatherAndCount(reg, "redisx_operation_duration_seconds")
	if err != nil || n != 4 {
		t.Errorf("GatherAndCount = %d, %v", n, err)
	}
	c.Close()
	if fams, err := reg.Gather(); err != nil || len(fams) != 0 {
		t.Errorf("a closed client: %d families, %v", len(fams), err)
	}
}

func TestTextNamesAndTypes(t *testing.T) {
	c := redisxtest.NewClient(t)
	c.Do(context.Background(), "PING")
	reg := prometheus.NewRegistry()
	reg.MustRegister(redisxprom.NewCollector(c, nil))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "redisx_") {
			t.Errorf("family %s", name)
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s without _total", name)
		}
	}
}
