// Package redisxotel reports a redisx client's operations to OpenTelemetry
// (go.opentelemetry.io/otel): one span per public operation, the trace
// context carried in stream messages, and the core's metrics.
//
//	inst, err := redisxotel.Instrument(client) // global providers
//	defer inst.Shutdown()
//	// the duration histogram comes from the core's snapshot, through a Producer:
//	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithProducer(redisxotel.NewProducer(client)))
//
// Spans, attributes and metric names are the contract every redisx package
// keeps (docs/OPENTELEMETRY.md). The package redisx itself does not depend
// on OpenTelemetry: it exposes the hook (redisx.Instrumentation) that this
// package plugs into.
package redisxotel

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	redisx "github.com/redisx/redisx/bindings/go"
)

// ScopeName is the instrumentation scope of every span and metric.
const ScopeName = "redisx"

// Option configures Instrument.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where the observable counters and gauges go
// (default: otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// Instrumentation is a client's OpenTelemetry instrumentation (see
// Instrument). It implements redisx.Instrumentation.
type Instrumentation struct {
	client *redisx.Client
	tracer trace.Tracer
	prop   propagation.TraceContext
	reg    metric.Registration
}

// Instrument starts tracing client's operations and registers the
// observable instruments of its metrics (one batch callback over the core's
// snapshot). Shutdown undoes both.
func Instrument(client *redisx.Client, opts ...Option) (*Instrumentation, error) {
	if client == nil {
		return nil, errors.New("redisxotel: client is nil")
	}
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	version := redisx.Version()
	i := &Instrumentation{
		client: client,
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version)),
	}
	reg, err := registerObservables(cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(version)), client)
	if err != nil {
		return nil, err
	}
	i.reg = reg
	client.SetInstrumentation(i)
	return i, nil
}

// Shutdown stops the tracing of later operations and unregisters the
// metrics callback.
func (i *Instrumentation) Shutdown() error {
	i.client.SetInstrumentation(nil)
	if i.reg != nil {
		return i.reg.Unregister()
	}
	return nil
}

// SpanName returns the span name (and db.operation.name) of op:
// "<primitive>.<operation>", or a raw command's name.
func SpanName(op *redisx.Operation) string {
	if op.Primitive == "client" && op.Operation == "command" {
		if op.Command == "" {
			return "COMMAND"
		}
		return op.Command
	}
	return op.Primitive + "." + op.Operation
}

type headerCarrier map[string]string

func (h headerCarrier) Get(k string) string { return h[k] }
func (h headerCarrier) Set(k, v string)     { h[k] = v }
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// Start implements redisx.Instrumentation.
func (i *Instrumentation) Start(ctx context.Context, op *redisx.Operation) (context.Context, func(*redisx.OpResult)) {
	name := SpanName(op)
	kind := trace.SpanKindClient
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		attribute.String("db.system.name", "redis"),
		attribute.String("db.operation.name", name),
		attribute.String("db.namespace", strconv.Itoa(op.Server.DB)),
		attribute.String("server.address", op.Server.Address),
	)
	if op.Server.Port != 0 {
		attrs = append(attrs, attribute.Int("server.port", op.Server.Port))
	}
	if op.Name != "" {
		attrs = append(attrs, attribute.String("redisx.name", op.Name))
	}
	opts := make([]trace.SpanStartOption, 0, 4)
	if op.Primitive == "stream" {
		attrs = append(attrs,
			attribute.String("messaging.system", "redis"),
			attribute.String("messaging.destination.name", op.Stream))
		switch op.Operation {
		case "publish":
			kind = trace.SpanKindProducer
		case "handle":
			kind = trace.SpanKindConsumer
			attrs = append(attrs,
				attribute.String("messaging.message.id", op.MessageID),
				attribute.String("messaging.consumer.group.name", op.Group))
			// A root span linked to the producer's: a message is handled
			// long after and apart from the trace that published it.
			opts = append(opts, trace.WithNewRoot())
			if len(op.Headers) > 0 {
				if sc := trace.SpanContextFromContext(i.prop.Extract(context.Background(), headerCarrier(op.Headers))); sc.IsValid() {
					opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
				}
			}
		}
	}
	opts = append(opts, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	ctx, span := i.tracer.Start(ctx, name, opts...)
	if op.Primitive == "stream" && op.Operation == "publish" && op.Headers != nil {
		i.prop.Inject(ctx, headerCarrier(op.Headers))
	}
	if !span.IsRecording() {
		return ctx, func(*redisx.OpResult) { span.End() }
	}
	return ctx, func(r *redisx.OpResult) {
		end(span, op, r)
		span.End()
	}
}

// ErrorType returns the error.type of err: the core status name of a redisx
// error ("ERR_TIMEOUT"), else "_OTHER".
func ErrorType(err error) string {
	var e *redisx.Error
	if errors.As(err, &e) {
		return e.Name
	}
	return "_OTHER"
}

// Expected reports whether err is an expected non-success outcome of op
// rather than an error: a lock held by another on a try-acquire, a cache
// miss or a cached "not found".
func Expected(op *redisx.Operation, err error) bool {
	switch {
	case op.Primitive == "lock" && op.Operation == "acquire":
		return op.Try && errors.Is(err, redisx.ErrLockHeld)
	case op.Primitive == "cache" && (op.Operation == "get" || op.Operation == "fetch"):
		return errors.Is(err, redisx.ErrNotFound)
	}
	return false
}

func end(span trace.Span, op *redisx.Operation, r *redisx.OpResult) {
	if r.CacheOutcome != "" {
		span.SetAttributes(attribute.String("redisx.cache.outcome", r.CacheOutcome))
	}
	if r.Err != nil {
		if Expected(op, r.Err) {
			return
		}
		span.SetAttributes(attribute.String("error.type", ErrorType(r.Err)))
		var e *redisx.Error
		if errors.As(r.Err, &e) && e.Name == "ERR_SERVER" && e.Detail != "" {
			prefix, _, _ := strings.Cut(e.Detail, " ")
			span.SetAttributes(attribute.String("db.response.status_code", prefix))
		}
		span.SetStatus(codes.Error, r.Err.Error())
		return
	}
	switch {
	case op.Primitive == "lock" && op.Operation == "acquire":
		span.SetAttributes(attribute.Int64("redisx.lock.fencing_token", r.FencingToken))
	case op.Primitive == "ratelimit" && op.Operation == "check" && r.RateLimit != nil:
		span.SetAttributes(attribute.Bool("redisx.ratelimit.allowed", r.RateLimit.Allowed),
			attribute.Int64("redisx.ratelimit.remaining", r.RateLimit.Remaining))
	case op.Primitive == "stream" && op.Operation == "publish" && len(r.MessageIDs) == 1:
		span.SetAttributes(attribute.String("messaging.message.id", r.MessageIDs[0]))
	}
}
