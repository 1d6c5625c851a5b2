'use strict';
// Prometheus metrics of a redisx client for prom-client (an optional peer
// dependency), read from the core at scrape time:
//
//   const promClient = require('prom-client');
//   const { registerMetrics } = require('redisx/prometheus');
//   registerMetrics(client, { registry: promClient.register });
//   // several clients: registerMetrics(other, { registry, labels: { client: 'sessions' } })
//
// The families, their names, labels and help texts are the core's
// (redisx_metrics_collect, docs/METRICS.md): the same in every language.
// Nothing is recorded per operation: a scrape takes one snapshot, shared by
// every family of that scrape.
const { invalid } = require('./errors');
const { snapshot } = require('./metrics');

function bound(b) {
  return String(b);
}

// One collection per scrape: the first family's get() collects, the others
// of the same scrape (same macrotask) reuse it.
class Snapshot {
  constructor(client, labels) {
    this._client = client;
    this._labels = labels;
    this._current = null;
  }

  families() {
    if (this._current) return this._current;
    const out = new Map();
    for (const f of snapshot(this._client)) {
      const values = [];
      for (const s of f.samples) {
        const labels = { ...this._labels };
        for (let l = 0; l < f.labels.length; l++) labels[f.labels[l]] = s.values[l];
        if (f.type === 'histogram') {
          for (let b = 0; b < f.bounds.length; b++) {
            values.push({ metricName: `${f.name}_bucket`, labels: { ...labels, le: bound(f.bounds[b]) }, value: s.cumulative[b] });
          }
          values.push({ metricName: `${f.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count });
          values.push({ metricName: `${f.name}_sum`, labels, value: s.value });
          values.push({ metricName: `${f.name}_count`, labels, value: s.count });
        } else {
          values.push({ labels, value: s.value });
        }
      }
      out.set(f.name, { name: f.name, help: f.help, type: f.type, values, aggregator: 'sum' });
    }
    this._current = out;
    setImmediate(() => {
      this._current = null;
    });
    return out;
  }
}

/**
 * Registers the client's metric families with a prom-client registry
 * (`options.registry`, default prom-client's global one). `options.labels`:
 * constant labels added to every sample (to tell clients apart). Returns a
 * function that removes them again. A closed client reports no samples.
 */
function registerMetrics(client, options = {}) {
  if (!client || typeof client.stats !== 'function' || !('_c' in client)) {
    throw invalid('registerMetrics: client must be a redisx Client');
  }
  if (options === null || typeof options !== 'object') throw invalid('registerMetrics: options must be an object');
  let { registry, labels = {} } = options;
  if (registry === undefined) {
    let prom;
    try {
      prom = require('prom-client');
    } catch {
      throw invalid('registerMetrics needs prom-client (npm install prom-client) or options.registry');
    }
    registry = prom.register;
  }
  if (!registry || typeof registry.registerMetric !== 'function') {
    throw invalid('registerMetrics: options.registry must be a prom-client Registry');
  }
  if (labels === null || typeof labels !== 'object' || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw invalid('registerMetrics: options.labels must map names to strings');
  }
  const snap = new Snapshot(client, { ...labels });
  const names = [...snap.families().keys()];
  if (names.length === 0) throw invalid('registerMetrics: the client is closed');
  for (const name of names) {
    const help = snap.families().get(name).help;
    const type = snap.families().get(name).type;
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => snap.families().get(name) || { name, help, type, values: [], aggregator: 'sum' },
      reset: () => {},
    });
  }
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}

module.exports = { registerMetrics };
