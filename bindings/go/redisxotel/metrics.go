package redisxotel

import (
	"context"
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

// The duration histogram's family; its points carry db.system.name and
// db.operation.name like the spans.
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
		name, unit := f.OTelName, f.Unit // the core's (docs/OPENTELEMETRY.md)
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

// Producer produces the client's histograms from the core's snapshot:
// db.client.operation.duration, redisx.lock.wait.duration,
// redisx.lock.hold.duration and the per-name redisx.ratelimit.duration,
// redisx.cache.duration and redisx.stream.duration (a sdkmetric.Producer:
// pass it to a reader with sdkmetric.WithProducer). Nothing is recorded per
// operation: each collection reads the core's cumulative histograms.
type Producer struct {
	client *redisx.Client
	start  time.Time
}

// NewProducer returns the Producer of client's histograms.
func NewProducer(client *redisx.Client) *Producer {
	return &Producer{client: client, start: time.Now()}
}

var _ sdkmetric.Producer = (*Producer)(nil)

// Produce implements sdkmetric.Producer. A series appears once its
// operation has run. The duration histogram's attributes are
// db.system.name and db.operation.name ("<primitive>.<operation>": raw
// commands are one series, "client.command"); the others carry the core's
// labels (limiter, cache, stream, group, operation).
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	m := p.client.Metrics()
	now := time.Now()
	var metrics []metricdata.Metrics
	for _, f := range m.Families {
		if f.Type != redisx.MetricHistogram || len(f.Samples) == 0 {
			continue
		}
		ip, io := -1, -1
		for i, l := range f.LabelNames {
			switch l {
			case "primitive":
				ip = i
			case "operation":
				io = i
			}
		}
		points := make([]metricdata.HistogramDataPoint[float64], 0, len(f.Samples))
		for _, s := range f.Samples {
			counts := make([]uint64, len(m.Bounds)+1)
			var prev uint64
			for b, c := range s.Cumulative {
				counts[b] = c - prev
				prev = c
			}
			counts[len(m.Bounds)] = s.Count - prev
			attrs := attrsOf(f.LabelNames, s.LabelValues)
			if f.Name == durationFamily && ip >= 0 && io >= 0 {
				attrs = attribute.NewSet(
					attribute.String("db.system.name", "redis"),
					attribute.String("db.operation.name", s.LabelValues[ip]+"."+s.LabelValues[io]))
			}
			points = append(points, metricdata.HistogramDataPoint[float64]{
				Attributes:   attrs,
				StartTime:    p.start,
				Time:         now,
				Count:        s.Count,
				Bounds:       append([]float64(nil), m.Bounds...),
				BucketCounts: counts,
				Sum:          s.Value,
			})
		}
		metrics = append(metrics, metricdata.Metrics{
			Name:        f.OTelName,
			Description: f.Help,
			Unit:        f.Unit,
			Data: metricdata.Histogram[float64]{
				DataPoints:  points,
				Temporality: metricdata.CumulativeTemporality,
			},
		})
	}
	if len(metrics) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope:   instrumentation.Scope{Name: ScopeName, Version: redisx.Version()},
		Metrics: metrics,
	}}, nil
}
