package redisxotel_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	redisx "github.com/redisx/redisx/bindings/go"
	"github.com/redisx/redisx/bindings/go/redisxotel"
	"github.com/redisx/redisx/bindings/go/redisxtest"
)

type fixture struct {
	client *redisx.Client
	rec    *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	port   int
}

func setup(t *testing.T, opts ...redisx.Option) *fixture {
	t.Helper()
	srv := redisxtest.StartServer(t)
	c := srv.Client(t, opts...)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(redisxotel.NewProducer(c)))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	inst, err := redisxotel.Instrument(c, redisxotel.WithTracerProvider(tp), redisxotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Shutdown() })
	return &fixture{client: c, rec: rec, tp: tp, reader: reader, port: srv.Port}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func only(t *testing.T, f *fixture, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range f.rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %s (all: %d)", len(found), name, len(f.rec.Ended()))
	}
	return found[0]
}

func TestLockAcquireIsAChildOfTheCallersSpanWithItsFencingToken(t *testing.T) {
	f := setup(t)
	ctx, parent := f.tp.Tracer("test").Start(ctxT(t), "request")
	lk, err := f.client.TryLock(ctx, "otel-job", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.TryLock(ctx, "otel-job", 30*time.Second); !errors.Is(err, redisx.ErrLockHeld) {
		t.Fatalf("second TryLock: %v", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var acquires []sdktrace.ReadOnlySpan
	for _, s := range f.rec.Ended() {
		if s.Name() == "lock.acquire" {
			acquires = append(acquires, s)
		}
	}
	if len(acquires) != 2 {
		t.Fatalf("%d lock.acquire spans", len(acquires))
	}
	for _, s := range acquires {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("parent %v, want %v", s.Parent().SpanID(), parent.SpanContext().SpanID())
		}
		if s.SpanKind() != trace.SpanKindClient {
			t.Errorf("kind %v", s.SpanKind())
		}
		if s.InstrumentationScope().Name != "redisx" || s.InstrumentationScope().Version != redisx.Version() {
			t.Errorf("scope %+v", s.InstrumentationScope())
		}
		a := attrs(s)
		if a["db.system.name"].AsString() != "redis" || a["db.operation.name"].AsString() != "lock.acquire" ||
			a["db.namespace"].AsString() != "0" || a["server.address"].AsString() != "127.0.0.1" ||
			a["server.port"].AsInt64() != int64(f.port) {
			t.Errorf("attributes %v", a)
		}
		if s.Status().Code != codes.Unset {
			t.Errorf("status %v (a held lock on a try is no error)", s.Status())
		}
	}
	won := attrs(acquires[0])
	if got := won["redisx.lock.fencing_token"].AsInt64(); got != lk.FencingToken() || got <= 0 {
		t.Errorf("fencing token %d, lock's %d", got, lk.FencingToken())
	}
	if _, ok := attrs(acquires[1])["redisx.lock.fencing_token"]; ok {
		t.Errorf("a held lock has a fencing token attribute")
	}
	if _, ok := attrs(acquires[1])["error.type"]; ok {
		t.Errorf("a held lock on a try has error.type")
	}
	if only(t, f, "lock.release").Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("release is not a child of the request")
	}
}

func TestRateLimitCheckSaysAllowedAndRemaining(t *testing.T) {
	f := setup(t)
	ctx := ctxT(t)
	lim, err := f.client.NewLimiter("otel-api", redisx.FixedWindow, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	for i := 0; i < 2; i++ {
		if _, err := lim.Check(ctx, "user-1"); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, s := range f.rec.Ended() {
		if s.Name() != "ratelimit.check" {
			continue
		}
		a := attrs(s)
		if a["redisx.name"].AsString() != "otel-api" || s.Status().Code != codes.Unset {
			t.Errorf("attributes %v status %v", a, s.Status())
		}
		got = append(got, strconv.FormatBool(a["redisx.ratelimit.allowed"].AsBool())+"/"+strconv.FormatInt(a["redisx.ratelimit.remaining"].AsInt64(), 10))
	}
	if len(got) != 2 || got[0] != "true/0" || got[1] != "false/0" {
		t.Errorf("checks %v, want [true/0 false/0]", got)
	}
}

func TestARawCommandIsNamedAfterItAndAServerErrorHasItsPrefix(t *testing.T) {
	f := setup(t)
	ctx := ctxT(t)
	if _, err := f.client.Do(ctx, "set", "otel-k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Do(ctx, "LPUSH", "otel-k", "x"); !errors.Is(err, redisx.ErrServer) {
		t.Fatalf("LPUSH on a string: %v", err)
	}
	set := only(t, f, "SET")
	if attrs(set)["db.operation.name"].AsString() != "SET" || set.Status().Code != codes.Unset {
		t.Errorf("SET: %v %v", attrs(set), set.Status())
	}
	lp := only(t, f, "LPUSH")
	a := attrs(lp)
	if a["error.type"].AsString() != "ERR_SERVER" || a["db.response.status_code"].AsString() != "WRONGTYPE" || lp.Status().Code != codes.Error {
		t.Errorf("LPUSH: %v %v", a, lp.Status())
	}
}

func TestAnUnreachableServerGivesTheStatusAsErrorType(t *testing.T) {
	srv := redisxtest.StartServer(t)
	url := srv.URL
	srv.Stop() // nobody listens on its port now
	c, err := redisx.Open(url, redisx.WithConnectTimeout(200*time.Millisecond), redisx.WithCommandTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	inst, err := redisxotel.Instrument(c, redisxotel.WithTracerProvider(tp), redisxotel.WithMeterProvider(sdkmetric.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Shutdown()
	_, derr := c.Do(ctxT(t), "PING")
	var e *redisx.Error
	if !errors.As(derr, &e) || (!errors.Is(derr, redisx.ErrConnection) && !errors.Is(derr, redisx.ErrTimeout)) {
		t.Fatalf("PING to nobody: %v", derr)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	if got := attrs(spans[0])["error.type"].AsString(); got != e.Name {
		t.Errorf("error.type %q, want %q", got, e.Name)
	}
	if spans[0].Status().Code != codes.Error || spans[0].Status().Description != derr.Error() {
		t.Errorf("status %v", spans[0].Status())
	}
}

func TestAHandledMessageLinksToItsPublisher(t *testing.T) {
	f := setup(t)
	ctx := ctxT(t)
	stream := "otel-s-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := f.client.CreateGroup(ctx, stream, "g", "0"); err != nil {
		t.Fatal(err)
	}
	pctx, parent := f.tp.Tracer("test").Start(ctx, "producer")
	id, err := f.client.Publish(pctx, stream, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	parent.End()
	var headers map[string][]byte
	var handlerSpan trace.SpanContext
	cctx, cancel := context.WithCancel(ctx)
	err = f.client.Consume(cctx, stream, "g", func(hctx context.Context, m *redisx.StreamMessage) error {
		headers = m.Headers
		handlerSpan = trace.SpanContextFromContext(hctx)
		cancel()
		return nil
	}, redisx.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	pub := only(t, f, "stream.publish")
	h := only(t, f, "stream.handle")
	if pub.SpanKind() != trace.SpanKindProducer || h.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kinds %v %v", pub.SpanKind(), h.SpanKind())
	}
	if pub.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("publish is not the producer's child")
	}
	want := "00-" + pub.SpanContext().TraceID().String() + "-" + pub.SpanContext().SpanID().String() + "-01"
	if string(headers["traceparent"]) != want {
		t.Errorf("traceparent %q, want %q", headers["traceparent"], want)
	}
	if h.Parent().IsValid() {
		t.Errorf("handle span has a parent: %v", h.Parent())
	}
	if len(h.Links()) != 1 || h.Links()[0].SpanContext.SpanID() != pub.SpanContext().SpanID() ||
		h.Links()[0].SpanContext.TraceID() != pub.SpanContext().TraceID() {
		t.Errorf("links %v", h.Links())
	}
	if handlerSpan.SpanID() != h.SpanContext().SpanID() {
		t.Errorf("the handler's ctx does not carry the handle span")
	}
	a, pa := attrs(h), attrs(pub)
	if a["messaging.system"].AsString() != "redis" || a["messaging.destination.name"].AsString() != stream ||
		a["messaging.message.id"].AsString() != id || a["messaging.consumer.group.name"].AsString() != "g" {
		t.Errorf("handle attributes %v", a)
	}
	if pa["messaging.message.id"].AsString() != id || pa["messaging.destination.name"].AsString() != stream {
		t.Errorf("publish attributes %v", pa)
	}
}

func TestACallersTraceparentIsKept(t *testing.T) {
	f := setup(t)
	ctx := ctxT(t)
	stream := "otel-k-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	mine := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if _, err := f.client.PublishMessage(ctx, stream, redisx.OutMessage{Payload: 1,
		Headers: map[string][]byte{"traceparent": []byte(mine)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.client.CreateGroup(ctx, stream, "g", "0"); err != nil {
		t.Fatal(err)
	}
	var got string
	cctx, cancel := context.WithCancel(ctx)
	if err := f.client.Consume(cctx, stream, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		got = string(m.Headers["traceparent"])
		cancel()
		return nil
	}, redisx.WithWorkers(1)); err != nil {
		t.Fatal(err)
	}
	if got != mine {
		t.Errorf("traceparent %q, want the caller's %q", got, mine)
	}
	h := only(t, f, "stream.handle")
	if len(h.Links()) != 1 || h.Links()[0].SpanContext.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("links %v", h.Links())
	}
}

func TestMetricsAfterKnownOperations(t *testing.T) {
	f := setup(t)
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		if _, err := f.client.Do(ctx, "PING"); err != nil {
			t.Fatal(err)
		}
	}
	lk, err := f.client.TryLock(ctx, "otel-m", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lk.Release(ctx)
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "redisx" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}
	h, ok := byName["db.client.operation.duration"].Data.(metricdata.Histogram[float64])
	if !ok || byName["db.client.operation.duration"].Unit != "s" {
		t.Fatalf("no duration histogram: %v", byName["db.client.operation.duration"])
	}
	found := false
	for _, p := range h.DataPoints {
		op, _ := p.Attributes.Value("db.operation.name")
		sys, _ := p.Attributes.Value("db.system.name")
		if op.AsString() == "client.command" && sys.AsString() == "redis" {
			found = true
			var sum uint64
			for _, c := range p.BucketCounts {
				sum += c
			}
			if p.Count != 3 || sum != 3 || len(p.Bounds) != 9 || p.Bounds[8] != 10 || p.Sum <= 0 {
				t.Errorf("command histogram %+v", p)
			}
		}
	}
	if !found {
		t.Errorf("no client.command series in %v", h.DataPoints)
	}
	ops, ok := byName["redisx.operations"].Data.(metricdata.Sum[int64])
	if !ok || !ops.IsMonotonic {
		t.Fatalf("redisx.operations: %v", byName["redisx.operations"])
	}
	want := map[string]int64{"client/command/ok": 3, "lock/acquire/ok": 1, "lock/release/ok": 1}
	for _, p := range ops.DataPoints {
		pr, _ := p.Attributes.Value("primitive")
		op, _ := p.Attributes.Value("operation")
		st, _ := p.Attributes.Value("status")
		k := pr.AsString() + "/" + op.AsString() + "/" + st.AsString()
		if w, ok := want[k]; ok {
			if p.Value != w {
				t.Errorf("%s = %d, want %d", k, p.Value, w)
			}
			delete(want, k)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing series %v", want)
	}
	up, ok := byName["redisx.connections.up"].Data.(metricdata.Gauge[int64])
	if !ok || len(up.DataPoints) != 1 || up.DataPoints[0].Value != 1 {
		t.Errorf("redisx.connections.up: %v", byName["redisx.connections.up"])
	}
	acq, ok := byName["redisx.lock.acquisitions"].Data.(metricdata.Sum[int64])
	if !ok || len(acq.DataPoints) == 0 {
		t.Errorf("redisx.lock.acquisitions: %v", byName["redisx.lock.acquisitions"])
	}
	if u := byName["redisx.operations"].Unit; u != "{operation}" {
		t.Errorf("redisx.operations unit %q, want the core's {operation}", u)
	}
	// The lock's wait and hold histograms come through the Producer too.
	for _, name := range []string{"redisx.lock.wait.duration", "redisx.lock.hold.duration"} {
		h, ok := byName[name].Data.(metricdata.Histogram[float64])
		if !ok || byName[name].Unit != "s" || len(h.DataPoints) != 1 || h.DataPoints[0].Count != 1 {
			t.Errorf("%s: %+v", name, byName[name])
		}
	}
}
