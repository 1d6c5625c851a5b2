// Types of `redisx/opentelemetry` (lib/opentelemetry.js). The OpenTelemetry
// types are structural here so that the package's types compile without the
// optional peers; @opentelemetry/api's TracerProvider and MeterProvider and
// sdk-metrics' MetricProducer fit them.
import { Client } from './index';

export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}
/** sdk-metrics' MetricProducer: hand it to a MetricReader (`metricProducers`). */
export interface RedisxMetricProducer {
  collect(options?: { timeoutMillis?: number }): Promise<{ resourceMetrics: unknown; errors: unknown[] }>;
}

export interface InstrumentOptions {
  /** Default: the global tracer provider; false: no spans. */
  tracerProvider?: TracerProviderLike | false;
  /** Default: the global meter provider; false: no observable counters and gauges. */
  meterProvider?: MeterProviderLike | false;
}

export interface Instrumentation {
  /** db.client.operation.duration of this client (null without @opentelemetry/sdk-metrics). */
  readonly metricProducer: RedisxMetricProducer | null;
  /** Stops the spans and observations (idempotent). */
  uninstrument(): void;
}

/** Spans for every operation of `client` and its metrics; throws InvalidArgument
 *  without @opentelemetry/api, for a closed client or one instrumented already. */
export function instrument(client: Client, options?: InstrumentOptions): Instrumentation;

/** A MetricProducer of the client's db.client.operation.duration, for a
 *  MetricReader made before the MeterProvider handed to instrument(). */
export function metricProducer(client: Client): RedisxMetricProducer;
