// Package redisxprom exports a redisx client's metrics to Prometheus
// (github.com/prometheus/client_golang), read from the core at scrape time:
//
//	prometheus.MustRegister(redisxprom.NewCollector(client, nil))
//	// several clients in one process: a constant label each
//	prometheus.MustRegister(redisxprom.NewCollector(other, prometheus.Labels{"client": "sessions"}))
//
// The families, their names, labels and help texts are the core's
// (Client.Metrics, docs/METRICS.md): the same in every language. Nothing is
// recorded per operation; a scrape takes one snapshot. The package redisx
// itself does not depend on client_golang.
package redisxprom

import (
	"github.com/prometheus/client_golang/prometheus"

	redisx "github.com/redisx/redisx/bindings/go"
)

// Collector is a prometheus.Collector of one client's metrics. It is
// "unchecked" (Describe sends nothing): the families are the core's and a
// series appears once its operation has run.
type Collector struct {
	client *redisx.Client
	labels prometheus.Labels
}

// NewCollector collects client's metrics, with constLabels (may be nil)
// added to every sample.
func NewCollector(client *redisx.Client, constLabels prometheus.Labels) *Collector {
	return &Collector{client: client, labels: constLabels}
}

// Describe implements prometheus.Collector (unchecked: nothing is sent).
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector. A closed client yields nothing.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.client == nil {
		return
	}
	m := c.client.Metrics()
	for _, f := range m.Families {
		desc := prometheus.NewDesc(f.Name, f.Help, f.LabelNames, c.labels)
		for _, s := range f.Samples {
			var metric prometheus.Metric
			var err error
			switch f.Type {
			case redisx.MetricCounter:
				metric, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, s.Value, s.LabelValues...)
			case redisx.MetricGauge:
				metric, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.Value, s.LabelValues...)
			default:
				buckets := make(map[float64]uint64, len(m.Bounds))
				for i, b := range m.Bounds {
					buckets[b] = s.Cumulative[i]
				}
				metric, err = prometheus.NewConstHistogram(desc, s.Count, s.Value, buckets, s.LabelValues...)
			}
			if err != nil {
				ch <- prometheus.NewInvalidMetric(desc, err)
				continue
			}
			ch <- metric
		}
	}
}
