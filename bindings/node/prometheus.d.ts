// Types of `redisx/prometheus` (lib/prometheus.js).
import { Client } from './index';

export interface RegisterMetricsOptions {
  /** A prom-client Registry (default: prom-client's global registry). */
  registry?: { registerMetric(metric: unknown): void; removeSingleMetric(name: string): void };
  /** Constant labels added to every sample. */
  labels?: Record<string, string>;
}

/** Registers the client's metric families; returns a function removing them. */
export function registerMetrics(client: Client, options?: RegisterMetricsOptions): () => void;
