'use strict';
// The core's metric families (redisx_metrics_collect) read into plain
// objects: what the Prometheus and OpenTelemetry bridges both convert.
const N = require('./native');

const TYPES = ['counter', 'gauge', 'histogram'];

// One snapshot of the core's families: [{ name, otel, unit, type, help,
// labels, samples: [{ labels, value, count, cumulative }] }] (empty for a
// closed client); otel and unit are the OpenTelemetry instrument's.
function snapshot(client) {
  if (client._closing || client._closed || !client._c) return [];
  let m;
  try {
    m = N.redisx_metrics_collect(client._c);
  } catch {
    return [];
  }
  try {
    const nb = N.redisx_metrics_bucket_count(m);
    const bounds = [];
    for (let b = 0; b < nb; b++) bounds.push(N.redisx_metrics_bucket_bound(m, b));
    const out = [];
    for (let f = 0; f < N.redisx_metrics_families(m); f++) {
      const type = TYPES[N.redisx_metrics_type(m, f)];
      const nl = N.redisx_metrics_label_count(m, f);
      const labels = [];
      for (let l = 0; l < nl; l++) labels.push(N.redisx_metrics_label_name(m, f, l));
      const samples = [];
      for (let s = 0; s < N.redisx_metrics_samples(m, f); s++) {
        const values = [];
        for (let l = 0; l < nl; l++) values.push(N.redisx_metrics_label_value(m, f, s, l));
        const sample = { values, value: N.redisx_metrics_value(m, f, s), count: 0, cumulative: null };
        if (type === 'histogram') {
          sample.count = Number(N.redisx_metrics_count(m, f, s));
          sample.cumulative = [];
          for (let b = 0; b < nb; b++) sample.cumulative.push(Number(N.redisx_metrics_cumulative(m, f, s, b)));
        }
        samples.push(sample);
      }
      out.push({
        name: N.redisx_metrics_name(m, f),
        otel: N.redisx_metrics_otel_name(m, f),
        unit: N.redisx_metrics_unit(m, f),
        help: N.redisx_metrics_help(m, f),
        type,
        labels,
        samples,
        bounds,
      });
    }
    return out;
  } finally {
    N.redisx_metrics_free(m);
  }
}

module.exports = { snapshot, TYPES };
