package redisxotel

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	redisx "github.com/redisx/redisx/bindings/go"
)

// DurationMetric is the histogram of operation durations, in seconds, on
// the OpenTelemetry advisory bounds (0.001 … 10 s).
const DurationMetric = "db.client.operation.duration"

// OTelName returns the OpenTelemetry instrument name of a core metric family
// (docs/OPENTELEMETRY.md has the table): "redisx_lock_acquisitions_total"
// is "redisx.lock.acquisitions". A family the table does not know (a newer
// core) gets "redisx." + its name without "redisx_" and "_total".
func OTelName(family string) string {
	if n, ok := otelNames[family]; ok {
		return n
	}
	return "redisx." + strings.TrimSuffix(strings.TrimPrefix(family, "redisx_"), "_total")
}

var otelNames = map[string]string{
	"redisx_operations_total":                    "redisx.operations",
	"redisx_round_trips_total":                   "redisx.round_trips",
	"redisx_lock_acquisitions_total":             "redisx.lock.acquisitions",
	"redisx_ratelimit_requests_total":            "redisx.ratelimit.requests",
	"redisx_idempotency_requests_total":          "redisx.idempotency.requests",
	"redisx_cache_hits_total":                    "redisx.cache.hits",
	"redisx_cache_misses_total":                  "redisx.cache.misses",
	"redisx_cache_loads_total":                   "redisx.cache.loads",
	"redisx_cache_load_errors_total":             "redisx.cache.load_errors",
	"redisx_cache_stampedes_avoided_total":       "redisx.cache.stampedes_avoided",
	"redisx_cache_stale_served_total":            "redisx.cache.stale_served",
	"redisx_cache_early_refreshes_total":         "redisx.cache.early_refreshes",
	"redisx_cache_fail_open_total":               "redisx.cache.fail_open",
	"redisx_cache_evictions_total":               "redisx.cache.evictions",
	"redisx_cache_l1_entries":                    "redisx.cache.l1.entries",
	"redisx_cache_l1_bytes":                      "redisx.cache.l1.bytes",
	"redisx_stream_messages_published_total":     "redisx.stream.messages.published",
	"redisx_stream_messages_delivered_total":     "redisx.stream.messages.delivered",
	"redisx_stream_messages_consumed_total":      "redisx.stream.messages.consumed",
	"redisx_stream_messages_retried_total":       "redisx.stream.messages.retried",
	"redisx_stream_messages_dead_lettered_total": "redisx.stream.messages.dead_lettered",
	"redisx_stream_messages_claimed_total":       "redisx.stream.messages.claimed",
	"redisx_connects_total":                      "redisx.connects",
	"redisx_disconnects_total":                   "redisx.disconnects",
	"redisx_connect_failures_total":              "redisx.connect_failures",
	"redisx_script_reloads_total":                "redisx.script_reloads",
	"redisx_operations_in_flight":                "redisx.operations.in_flight",
	"redisx_connections_up":                      "redisx.connections.up",
	"redisx_circuit_breaker_opens_total":         "redisx.circuit_breaker.opens",
	"redisx_circuit_breaker_rejected_total":      "redisx.circuit_breaker.rejected",
	"redisx_circuit_breakers_open":               "redisx.circuit_breakers.open",
	"redisx_wakeups_total":                       "redisx.wakeups",
	"redisx_cluster_redirects_total":             "redisx.cluster.redirects",
	"redisx_cluster_retries_total":               "redisx.cluster.retries",
	"redisx_cluster_slot_refreshes_total":        "redisx.cluster.slot_refreshes",
}

// The duration histogram is the Producer's, not an observable's.
const durationFamily = "redisx_operation_duration_seconds"

func attrsOf(names, values []string) attribute.Set {
	kv := make([]attribute.KeyValue, len(names))
	for i := range names {
		kv[i] = attribute.String(names[i], values[i])
	}
	return attribute.NewSet(kv...)
}

// registerObservables creates one observable instrument per counter and
// gauge family of the core and one callback that reads one snapshot for
// all of them.
func registerObservables(m metric.Meter, client *redisx.Client) (metric.Registration, error) {
	snap := client.Metrics()
	counters := map[string]metric.Int64ObservableCounter{}
	gauges := map[string]metric.Int64ObservableGauge{}
	var all []metric.Observable
	add := func(f redisx.MetricFamily) error {
		name := OTelName(f.Name)
		unit := "{" + unitOf(f.Name) + "}"
		if strings.HasSuffix(f.Name, "_bytes") {
			unit = "By"
		}
		switch f.Type {
		case redisx.MetricCounter:
			c, err := m.Int64ObservableCounter(name, metric.WithDescription(f.Help), metric.WithUnit(unit))
			if err != nil {
				return err
			}
			counters[f.Name] = c
			all = append(all, c)
		case redisx.MetricGauge:
			g, err := m.Int64ObservableGauge(name, metric.WithDescription(f.Help), metric.WithUnit(unit))
			if err != nil {
				return err
			}
			gauges[f.Name] = g
			all = append(all, g)
		}
		return nil
	}
	for _, f := range snap.Families {
		if err := add(f); err != nil {
			return nil, err
		}
	}
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, f := range client.Metrics().Families {
			for _, s := range f.Samples {
				opt := metric.WithAttributeSet(attrsOf(f.LabelNames, s.LabelValues))
				if c, ok := counters[f.Name]; ok {
					o.ObserveInt64(c, int64(s.Value), opt)
				} else if g, ok := gauges[f.Name]; ok {
					o.ObserveInt64(g, int64(s.Value), opt)
				}
			}
		}
		return nil
	}, all...)
}

// unitOf names what a family counts, for the {annotation} unit.
func unitOf(family string) string {
	switch {
	case strings.Contains(family, "connect"):
		return "connection"
	case strings.Contains(family, "round_trips"), strings.Contains(family, "retries"), strings.Contains(family, "redirects"):
		return "command"
	case strings.Contains(family, "stream_messages"):
		return "message"
	case strings.Contains(family, "cache_l1_entries"):
		return "entry"
	case strings.Contains(family, "circuit"):
		return "breaker"
	}
	return "operation"
}

// Producer produces the db.client.operation.duration histogram of one
// client from the core's snapshot (a sdkmetric.Producer: pass it to a
// reader with sdkmetric.WithProducer). Nothing is recorded per operation:
// each collection reads the core's cumulative histograms.
type Producer struct {
	client *redisx.Client
	start  time.Time
}

// NewProducer returns the Producer of client's duration histogram.
func NewProducer(client *redisx.Client) *Producer {
	return &Producer{client: client, start: time.Now()}
}

var _ sdkmetric.Producer = (*Producer)(nil)

// Produce implements sdkmetric.Producer. A series appears once its
// operation has run; attributes are db.system.name and db.operation.name
// ("<primitive>.<operation>": raw commands are one series,
// "client.command").
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	m := p.client.Metrics()
	now := time.Now()
	var points []metricdata.HistogramDataPoint[float64]
	for _, f := range m.Families {
		if f.Name != durationFamily || f.Type != redisx.MetricHistogram {
			continue
		}
		var ip, io = -1, -1
		for i, l := range f.LabelNames {
			switch l {
			case "primitive":
				ip = i
			case "operation":
				io = i
			}
		}
		if ip < 0 || io < 0 {
			continue
		}
		for _, s := range f.Samples {
			counts := make([]uint64, len(m.Bounds)+1)
			var prev uint64
			for b, c := range s.Cumulative {
				counts[b] = c - prev
				prev = c
			}
			counts[len(m.Bounds)] = s.Count - prev
			points = append(points, metricdata.HistogramDataPoint[float64]{
				Attributes: attribute.NewSet(
					attribute.String("db.system.name", "redis"),
					attribute.String("db.operation.name", s.LabelValues[ip]+"."+s.LabelValues[io])),
				StartTime:    p.start,
				Time:         now,
				Count:        s.Count,
				Bounds:       append([]float64(nil), m.Bounds...),
				BucketCounts: counts,
				Sum:          s.Value,
			})
		}
	}
	if len(points) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName, Version: redisx.Version()},
		Metrics: []metricdata.Metrics{{
			Name:        DurationMetric,
			Description: "Duration of redisx operations (a lock or idempotency wait included).",
			Unit:        "s",
			Data: metricdata.Histogram[float64]{
				DataPoints:  points,
				Temporality: metricdata.CumulativeTemporality,
			},
		}},
	}}, nil
}
