package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// PayloadCodec turns a payload into bytes and back. Its Name goes with every
// message (the rx-codec field, docs/KEYS.md), so a consumer in any language
// knows how to read it. JSONPayload is the default of every binding.
type PayloadCodec interface {
	Name() string
	Encode(v any) ([]byte, error)
	Decode(data []byte, v any) error
}

type jsonCodec struct{}

func (jsonCodec) Name() string                    { return "json" }
func (jsonCodec) Encode(v any) ([]byte, error)    { return json.Marshal(v) }
func (jsonCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

type bytesCodec struct{}

func (bytesCodec) Name() string { return "bytes" }
func (bytesCodec) Encode(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case string:
		return []byte(b), nil
	case nil:
		return []byte{}, nil
	}
	return nil, invalid("the bytes codec takes []byte or string, got %T", v)
}
func (bytesCodec) Decode(data []byte, v any) error {
	switch p := v.(type) {
	case *[]byte:
		*p = append([]byte(nil), data...)
	case *string:
		*p = string(data)
	default:
		return invalid("the bytes codec decodes into *[]byte or *string, got %T", v)
	}
	return nil
}

var (
	// JSONPayload encodes payloads as JSON (encoding/json), codec name "json".
	JSONPayload PayloadCodec = jsonCodec{}
	// BytesPayload passes []byte or string payloads through, codec name "bytes".
	BytesPayload PayloadCodec = bytesCodec{}
)

// OutMessage is one message to publish: a Payload (encoded by Codec, JSON
// when nil) and/or plain Fields (names must not start with "rx-", which
// redisx reserves), with optional Headers (e.g. "traceparent", "type").
type OutMessage struct {
	Payload any
	// NoPayload publishes Fields only (a nil Payload is otherwise the JSON null).
	NoPayload bool
	Codec     PayloadCodec
	Fields    map[string][]byte
	Headers   map[string][]byte
}

// PublishOption configures Publish and PublishBatch.
type PublishOption func(*publishConfig)

type publishConfig struct {
	trim      capi.Redisx_stream_trim
	threshold int64
	err       error
}

// WithMaxLen trims the stream to about n newest entries (XADD MAXLEN ~ n).
func WithMaxLen(n int64) PublishOption {
	return func(c *publishConfig) {
		c.trim = enumAs(capi.REDISX_STREAM_TRIM_NONE, int(capi.REDISX_STREAM_TRIM_MAXLEN))
		c.threshold = n
	}
}

// WithMaxAge drops entries older than d by the server's clock (MINID ~).
func WithMaxAge(d time.Duration) PublishOption {
	return func(c *publishConfig) {
		c.trim = enumAs(capi.REDISX_STREAM_TRIM_NONE, int(capi.REDISX_STREAM_TRIM_MAXAGE))
		c.threshold = millis(d)
	}
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func addMessage(b capi.StreamBatch, m OutMessage) error {
	if err := capi.Redisx_stream_batch_add_message(b); err != nil {
		return errorOf(err)
	}
	if !m.NoPayload {
		codec := m.Codec
		if codec == nil {
			codec = JSONPayload
		}
		data, err := codec.Encode(m.Payload)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return err
			}
			return invalid("payload: %v", err)
		}
		if err := noNUL(codec.Name(), "codec name"); err != nil {
			return err
		}
		if err := capi.Redisx_stream_batch_add_payload(b, data, codec.Name()); err != nil {
			return errorOf(err)
		}
	} else if len(m.Fields) == 0 {
		return invalid("a message needs a payload or fields")
	}
	for _, name := range sortedKeys(m.Headers) {
		if err := noNUL(name, "header name"); err != nil {
			return err
		}
		if err := capi.Redisx_stream_batch_add_header(b, name, m.Headers[name]); err != nil {
			return errorOf(err)
		}
	}
	for _, name := range sortedKeys(m.Fields) {
		if err := capi.Redisx_stream_batch_add_field(b, []byte(name), m.Fields[name]); err != nil {
			return errorOf(err)
		}
	}
	return nil
}

// PublishBatch appends msgs to stream in one round trip (one script call:
// atomic, ids in order) and returns their ids.
func (c *Client) PublishBatch(ctx context.Context, stream string, msgs []OutMessage, opts ...PublishOption) ([]string, error) {
	if !c.core.instrumented() {
		return c.publishBatch(ctx, stream, msgs, opts)
	}
	op := &Operation{Primitive: "stream", Operation: "publish", Name: stream, Stream: stream, Headers: map[string]string{}}
	ictx, done := c.core.start(ctx, op)
	if len(op.Headers) > 0 {
		msgs = withHeaders(msgs, op.Headers)
	}
	ids, err := c.publishBatch(ictx, stream, msgs, opts)
	if done != nil {
		done(&OpResult{Err: err, MessageIDs: ids})
	}
	return ids, err
}

// withHeaders copies msgs with the headers of add that a message does not
// set itself (the caller's maps stay as they are).
func withHeaders(msgs []OutMessage, add map[string]string) []OutMessage {
	out := make([]OutMessage, len(msgs))
	for i, m := range msgs {
		h := make(map[string][]byte, len(m.Headers)+len(add))
		for k, v := range m.Headers {
			h[k] = v
		}
		for k, v := range add {
			if _, set := h[k]; !set {
				h[k] = []byte(v)
			}
		}
		m.Headers = h
		out[i] = m
	}
	return out
}

func (c *Client) publishBatch(ctx context.Context, stream string, msgs []OutMessage, opts []PublishOption) ([]string, error) {
	if ctx == nil {
		return nil, nilContext()
	}
	if err := ctx.Err(); err != nil {
		return nil, cancelled(ctx, "publish")
	}
	var cfg publishConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := noNUL(stream, "stream name"); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, invalid("no messages to publish")
	}
	b, err := capi.Redisx_stream_batch_new().Get()
	if err != nil {
		return nil, errorOf(err)
	}
	defer capi.Redisx_stream_batch_free(b)
	for _, m := range msgs {
		if err := addMessage(b, m); err != nil {
			return nil, err
		}
	}
	k := c.core
	err = capi.Redisx_stream_publish_batch(k.h, stream, b, cfg.trim, cfg.threshold)
	runtime.KeepAlive(k)
	if err != nil {
		return nil, errorOf(err)
	}
	ids := make([]string, len(msgs))
	for i := range ids {
		ids[i] = capi.Redisx_stream_batch_id(b, int64(i))
	}
	return ids, nil
}

// Publish appends one message with payload (JSON by default; WithCodec in
// an OutMessage through PublishMessage for others) and returns its id.
func (c *Client) Publish(ctx context.Context, stream string, payload any, opts ...PublishOption) (string, error) {
	return c.PublishMessage(ctx, stream, OutMessage{Payload: payload}, opts...)
}

// PublishMessage appends one message and returns its id.
func (c *Client) PublishMessage(ctx context.Context, stream string, m OutMessage, opts ...PublishOption) (string, error) {
	ids, err := c.PublishBatch(ctx, stream, []OutMessage{m}, opts...)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// CreateGroup creates consumer group group on stream (and the stream:
// MKSTREAM), reading from startID ("$": new entries only, "0": all; ""
// means "$"). An existing group is no error.
func (c *Client) CreateGroup(ctx context.Context, stream, group, startID string) error {
	if ctx == nil {
		return nilContext()
	}
	if startID == "" {
		startID = "$"
	}
	for _, s := range [][2]string{{stream, "stream name"}, {group, "group name"}, {startID, "start id"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return err
		}
	}
	k := c.core
	err := capi.Redisx_group_create(k.h, stream, group, startID)
	runtime.KeepAlive(k)
	return errorOf(err)
}

// StreamMessage is a message handed to a handler. Settle it with Ack,
// Retry or DeadLetter; a handler that returns without settling acks it
// (nil error) or retries it (an error; see Consume).
type StreamMessage struct {
	ID            string
	Stream        string
	DeliveryCount int64
	// Fields are the plain fields (names not starting with "rx-").
	Fields map[string][]byte
	// Payload is the raw payload, nil when the message has none.
	Payload []byte
	// Codec names the payload's codec ("json", "bytes", ...), "" if none.
	Codec   string
	Headers map[string][]byte
	// TakenOver (WithIdempotentConsumer): this message's record was taken
	// over from a consumer that began it and never finished (part of the
	// work may be done).
	TakenOver bool

	h       capi.Message
	d       *delivery
	mu      sync.Mutex
	settled bool
	codecs  map[string]PayloadCodec
}

// delivery frees its C delivery once every message of it is settled.
type delivery struct {
	h    capi.Delivery
	left int
	mu   sync.Mutex
}

func (d *delivery) done() {
	d.mu.Lock()
	d.left--
	last := d.left == 0
	d.mu.Unlock()
	if last {
		capi.Redisx_delivery_free(d.h)
	}
}

// Decode decodes the payload into v with the message's codec (JSON when
// the message names none; a custom codec must be given to Consume with
// WithCodecs).
func (m *StreamMessage) Decode(v any) error {
	if m.Payload == nil {
		return invalid("message %s has no payload", m.ID)
	}
	name := m.Codec
	if name == "" {
		name = "json"
	}
	codec, ok := m.codecs[name]
	if !ok {
		return invalid("message %s: unknown codec %q", m.ID, name)
	}
	return codec.Decode(m.Payload, v)
}

// settle runs f once on the C message; a second settle is ErrInvalidArgument.
func (m *StreamMessage) settle(f func() error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settled {
		return invalid("message %s is settled already", m.ID)
	}
	err := f()
	if err != nil && isStatus(err, codeInvalid) {
		return errorOf(err)
	}
	m.settled = true
	m.d.done()
	return errorOf(err)
}

// Ack acknowledges the message: done, never delivered again.
func (m *StreamMessage) Ack() error {
	return m.settle(func() error { return capi.Redisx_message_ack(m.h) })
}

// Retry leaves the message pending and has it redelivered after delay (a
// negative delay: the consumer's jittered exponential backoff). After the
// consumer's max deliveries it goes to the dead-letter stream instead:
// movedToDLQ says so.
func (m *StreamMessage) Retry(delay time.Duration, reason string) (movedToDLQ bool, err error) {
	if err := noNUL(reason, "reason"); err != nil {
		return false, err
	}
	ms := int64(-1)
	if delay >= 0 {
		ms = millis(delay)
	}
	err = m.settle(func() error {
		v, err := capi.Redisx_message_retry(m.h, ms, reason).Get()
		movedToDLQ = v != 0
		return err
	})
	return movedToDLQ, err
}

// DeadLetter moves the message to the dead-letter stream with reason, and
// acks it, atomically.
func (m *StreamMessage) DeadLetter(reason string) error {
	if err := noNUL(reason, "reason"); err != nil {
		return err
	}
	return m.settle(func() error { return capi.Redisx_message_dead_letter(m.h, reason) })
}

func (m *StreamMessage) isSettled() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settled
}

// deadLetterError is what DeadLetterError wraps.
type deadLetterError struct{ err error }

func (e *deadLetterError) Error() string { return "dead-letter: " + e.err.Error() }
func (e *deadLetterError) Unwrap() error { return e.err }

// DeadLetterError makes a handler's error move its message to the
// dead-letter stream at once instead of retrying it.
func DeadLetterError(err error) error {
	if err == nil {
		err = errors.New("dead-lettered by the handler")
	}
	return &deadLetterError{err}
}

// ConsumerOption configures Consume.
type ConsumerOption func(*consumerConfig)

type consumerConfig struct {
	workers      int
	name         string
	maxInFlight  int
	maxDeliv     int
	backoffMin   time.Duration
	backoffMax   time.Duration
	minIdle      time.Duration
	reclaimEvery time.Duration
	block        time.Duration
	stopTimeout  time.Duration
	codecs       map[string]PayloadCodec
	sets         []func(capi.ConsumerOptions) error
}

func (c *consumerConfig) add(f func(capi.ConsumerOptions) error) { c.sets = append(c.sets, f) }

// WithWorkers runs n handlers at a time (default 4).
func WithWorkers(n int) ConsumerOption { return func(c *consumerConfig) { c.workers = n } }

// WithConsumerName names the consumer within its group (default: host and
// pid based, unique per Consume call).
func WithConsumerName(name string) ConsumerOption { return func(c *consumerConfig) { c.name = name } }

// WithMaxInFlight bounds the messages handed out and unsettled (default:
// the core's 64, at least twice the workers).
func WithMaxInFlight(n int) ConsumerOption {
	return func(c *consumerConfig) {
		c.maxInFlight = n
		c.add(func(o capi.ConsumerOptions) error { return capi.Redisx_consumer_options_set_max_in_flight(o, n) })
	}
}

// WithMaxDeliveries sets the deliveries after which a failing message is
// dead-lettered (default 5).
func WithMaxDeliveries(n int) ConsumerOption {
	return func(c *consumerConfig) {
		c.add(func(o capi.ConsumerOptions) error { return capi.Redisx_consumer_options_set_max_deliveries(o, n) })
	}
}

// WithRetryBackoff sets the retry backoff (default 100ms doubling to 30s,
// jittered).
func WithRetryBackoff(min, max time.Duration) ConsumerOption {
	return func(c *consumerConfig) {
		c.add(func(o capi.ConsumerOptions) error {
			return capi.Redisx_consumer_options_set_retry_backoff_ms(o, millis(min), millis(max))
		})
	}
}

// WithReclaim sets how long a message stays pending on a silent consumer
// before others reclaim it (default 30s), and how often to look (0: min
// idle / 2).
func WithReclaim(minIdle, interval time.Duration) ConsumerOption {
	return func(c *consumerConfig) {
		c.add(func(o capi.ConsumerOptions) error {
			return capi.Redisx_consumer_options_set_reclaim(o, millis(minIdle), millis(interval))
		})
	}
}

// WithIdempotentConsumer wraps every message in an idempotency record of
// the core (exactly-once in effect, docs/STREAMS.md): a redelivery of a
// message whose handler completed is acknowledged without running the
// handler again, and one whose handler runs elsewhere is not handed out.
// lease is the longest handler time (past it a dead consumer's record is
// taken over: StreamMessage.TakenOver), ttl how long a redelivery is
// recognised; both 1ms..30 days. Off by default.
func WithIdempotentConsumer(lease, ttl time.Duration) ConsumerOption {
	return func(c *consumerConfig) {
		c.add(func(o capi.ConsumerOptions) error {
			return capi.Redisx_consumer_options_set_idempotent(o, millis(lease), millis(ttl))
		})
	}
}

// WithBlock sets the longest XREADGROUP BLOCK (default 1s).
func WithBlock(d time.Duration) ConsumerOption {
	return func(c *consumerConfig) {
		c.add(func(o capi.ConsumerOptions) error { return capi.Redisx_consumer_options_set_block_ms(o, millis(d)) })
	}
}

// WithStopTimeout sets how long Consume waits, once ctx ends, for running
// handlers (default 10s); messages still running then stay pending and are
// redelivered after the min idle time.
func WithStopTimeout(d time.Duration) ConsumerOption {
	return func(c *consumerConfig) { c.stopTimeout = d }
}

// WithCodecs adds codecs (by Name) that StreamMessage.Decode may use.
func WithCodecs(codecs ...PayloadCodec) ConsumerOption {
	return func(c *consumerConfig) {
		for _, k := range codecs {
			c.codecs[k.Name()] = k
		}
	}
}

var (
	codeEmpty      = codeOf("ERR_EMPTY")
	codeConnection = codeOf("ERR_CONNECTION")
	codeTimeout    = codeOf("ERR_TIMEOUT")
)

// reasonOf is an error's text as a dead-letter reason (C reads it up to a NUL).
func reasonOf(err error) string { return strings.ReplaceAll(err.Error(), "\x00", "") }

var consumerSeq struct {
	mu sync.Mutex
	n  int
}

func defaultConsumerName() string {
	consumerSeq.mu.Lock()
	consumerSeq.n++
	n := consumerSeq.n
	consumerSeq.mu.Unlock()
	host, _ := os.Hostname()
	if host == "" {
		host = "go"
	}
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), n)
}

// Consume runs handler for the messages of group on stream until ctx
// ends, with WithWorkers(n) handlers at a time, then stops gracefully:
// no new reads, running handlers get WithStopTimeout to finish (their
// context is cancelled then), what they settle is settled, the rest stays
// pending for other consumers. A handler returning nil acks its message
// (unless it settled it itself); an error retries it (redelivered after
// the backoff, dead-lettered after the max deliveries);
// DeadLetterError(err) dead-letters it at once; a panic counts as an
// error. The group must exist (CreateGroup). Consume returns nil when ctx
// ended or the client was closed, or the error that stopped it (ErrServer for NOGROUP: the group
// or stream was deleted; ErrInvalidArgument for bad options).
func (c *Client) Consume(ctx context.Context, stream, group string, handler func(context.Context, *StreamMessage) error, opts ...ConsumerOption) error {
	if ctx == nil {
		return nilContext()
	}
	if handler == nil {
		return invalid("handler is nil")
	}
	cfg := consumerConfig{workers: 4, stopTimeout: 10 * time.Second,
		codecs: map[string]PayloadCodec{"json": JSONPayload, "bytes": BytesPayload}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.workers < 1 || cfg.workers > 10000 {
		return invalid("workers must be 1..10000, got %d", cfg.workers)
	}
	if cfg.stopTimeout < 0 {
		return invalid("stop timeout must not be negative")
	}
	if cfg.name == "" {
		cfg.name = defaultConsumerName()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {group, "group name"}, {cfg.name, "consumer name"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return err
		}
	}
	copts, err := capi.Redisx_consumer_options_new().Get()
	if err != nil {
		return errorOf(err)
	}
	if cfg.maxInFlight == 0 && cfg.workers*2 > 64 {
		cfg.add(func(o capi.ConsumerOptions) error {
			return capi.Redisx_consumer_options_set_max_in_flight(o, min(cfg.workers*2, 10000))
		})
	}
	for _, f := range cfg.sets {
		if err := f(copts); err != nil {
			capi.Redisx_consumer_options_free(copts)
			return errorOf(err)
		}
	}
	k := c.core
	cons, err := capi.Redisx_consumer_new(k.h, stream, group, cfg.name, copts).Get()
	capi.Redisx_consumer_options_free(copts)
	if err != nil {
		runtime.KeepAlive(k)
		return errorOf(err)
	}

	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	jobs := make(chan *StreamMessage, cfg.workers)
	var wg sync.WaitGroup
	for i := 0; i < cfg.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				runHandler(hctx, k, group, handler, m)
			}
		}()
	}
	stopped := make(chan struct{})
	stopDone := make(chan struct{})
	go func() {
		defer close(stopDone)
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		// Ends a blocked read at once; waits for what is handed out.
		_ = capi.Redisx_consumer_stop(cons, millis(cfg.stopTimeout))
		hcancel()
	}()

	var result error
	for {
		if k.closed.Load() { // Client.Close: settles would fail, stop reading
			break
		}
		d, err := capi.Redisx_consumer_next(cons, cfg.workers, 1000).Get()
		if err != nil {
			if isStatus(err, codeEmpty) {
				continue
			}
			if isStatus(err, codeClosed) {
				break
			}
			if isStatus(err, codeConnection) || isStatus(err, codeTimeout) {
				select { // the next call reconnects
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			result = errorOf(err)
			break
		}
		n := int(capi.Redisx_delivery_count(d))
		if n == 0 {
			capi.Redisx_delivery_free(d)
			continue
		}
		dl := &delivery{h: d, left: n}
		for i := 0; i < n; i++ {
			jobs <- newStreamMessage(capi.Redisx_delivery_message(d, int64(i)), dl, cfg.codecs)
		}
	}
	close(stopped)
	close(jobs)
	wg.Wait()
	<-stopDone
	capi.Redisx_consumer_free(cons)
	runtime.KeepAlive(k)
	return result
}

func newStreamMessage(h capi.Message, d *delivery, codecs map[string]PayloadCodec) *StreamMessage {
	m := &StreamMessage{
		ID:            capi.Redisx_message_id(h),
		Stream:        capi.Redisx_message_stream(h),
		DeliveryCount: capi.Redisx_message_delivery_count(h),
		TakenOver:     capi.Redisx_message_taken_over(h) != 0,
		Payload:       capi.Redisx_message_payload(h),
		Codec:         capi.Redisx_message_codec(h),
		Fields:        map[string][]byte{},
		Headers:       map[string][]byte{},
		h:             h,
		d:             d,
		codecs:        codecs,
	}
	nf := capi.Redisx_message_field_count(h)
	for i := int64(0); i < nf; i++ {
		if capi.Redisx_message_field_reserved(h, i) != 0 {
			continue
		}
		m.Fields[string(capi.Redisx_message_field_name(h, i))] = capi.Redisx_message_field_value(h, i)
	}
	nh := capi.Redisx_message_header_count(h)
	for i := int64(0); i < nh; i++ {
		m.Headers[capi.Redisx_message_header_name(h, i)] = capi.Redisx_message_header_value(h, i)
	}
	return m
}

func runHandler(ctx context.Context, k *core, group string, handler func(context.Context, *StreamMessage) error, m *StreamMessage) {
	var done func(*OpResult)
	if k.instrumented() {
		op := &Operation{Primitive: "stream", Operation: "handle", Name: m.Stream, Stream: m.Stream, Group: group, MessageID: m.ID}
		for _, name := range [...]string{"traceparent", "tracestate"} {
			if v, ok := m.Headers[name]; ok {
				if op.Headers == nil {
					op.Headers = map[string]string{}
				}
				op.Headers[name] = string(v)
			}
		}
		ctx, done = k.start(ctx, op)
	}
	var err error
	if done != nil {
		defer func() { done(&OpResult{Err: err}) }()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handler panicked: %v", r)
			}
		}()
		err = handler(ctx, m)
	}()
	if m.isSettled() {
		return
	}
	var dl *deadLetterError
	switch {
	case err == nil:
		_ = m.Ack()
	case errors.As(err, &dl):
		_ = m.DeadLetter(reasonOf(dl.err))
	default:
		_, _ = m.Retry(-1, reasonOf(err))
	}
}

// DeadLetterEntry is one entry of a stream's dead-letter stream: its ID
// there, the original entry's id, stream, group and consumer, the delivery
// count and error text at the move, whether the original had been deleted
// (then it has no fields and cannot be requeued), and the original fields
// in order (payload, codec and headers included, as name/value pairs).
type DeadLetterEntry struct {
	ID         string
	OriginalID string
	Stream     string
	Group      string
	Consumer   string
	Deliveries int64
	Error      string
	Deleted    bool
	Fields     [][2][]byte
}

// DeadLetters lists up to count (1..10000) entries of stream's dead-letter
// stream, oldest first (newestFirst: newest first), after the entry id
// after ("" from the start).
func (c *Client) DeadLetters(ctx context.Context, stream string, count int, newestFirst bool, after string) ([]DeadLetterEntry, error) {
	if ctx == nil {
		return nil, nilContext()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {after, "after id"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return nil, err
		}
	}
	nf := 0
	if newestFirst {
		nf = 1
	}
	k := c.core
	list, err := capi.Redisxgo_dlq_list(k.h, stream, nf, after, count).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return nil, errorOf(err)
	}
	defer capi.Redisx_dlq_entries_free(list)
	n := capi.Redisx_dlq_entries_count(list)
	out := make([]DeadLetterEntry, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, deadLetterOf(capi.Redisx_dlq_entries_entry(list, i)))
	}
	return out, nil
}

func deadLetterOf(e capi.DlqEntry) DeadLetterEntry {
	d := DeadLetterEntry{
		ID:         capi.Redisx_dlq_entry_id(e),
		OriginalID: capi.Redisx_dlq_entry_original_id(e),
		Stream:     capi.Redisx_dlq_entry_stream(e),
		Group:      capi.Redisx_dlq_entry_group(e),
		Consumer:   capi.Redisx_dlq_entry_consumer(e),
		Deliveries: capi.Redisx_dlq_entry_deliveries(e),
		Error:      capi.Redisx_dlq_entry_error(e),
		Deleted:    capi.Redisx_dlq_entry_deleted(e) != 0,
	}
	for j := int64(0); j < capi.Redisx_dlq_entry_field_count(e); j++ {
		d.Fields = append(d.Fields, [2][]byte{capi.Redisx_dlq_entry_field_name(e, j), capi.Redisx_dlq_entry_field_value(e, j)})
	}
	return d
}

// DeadLetter reads DLQ entry dlqID of stream (as DeadLetters lists them);
// ErrEmpty when there is none.
func (c *Client) DeadLetter(ctx context.Context, stream, dlqID string) (DeadLetterEntry, error) {
	if ctx == nil {
		return DeadLetterEntry{}, nilContext()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {dlqID, "dead-letter id"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return DeadLetterEntry{}, err
		}
	}
	k := c.core
	e, err := capi.Redisxgo_dlq_inspect(k.h, stream, dlqID).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return DeadLetterEntry{}, errorOf(err)
	}
	defer capi.Redisx_dlq_entry_free(e)
	return deadLetterOf(e), nil
}

// GroupInfo is the state of a consumer group (XINFO GROUPS).
type GroupInfo struct {
	Consumers int64
	// Pending entries: delivered, not yet acknowledged.
	Pending int64
	// Lag is the entries not yet delivered to the group, EntriesRead those
	// it read; -1 when Redis cannot tell.
	Lag, EntriesRead int64
	LastDeliveredID  string
}

// GroupInfo reads the state of group on stream; ErrEmpty when the stream
// has no such group.
func (c *Client) GroupInfo(ctx context.Context, stream, group string) (GroupInfo, error) {
	if ctx == nil {
		return GroupInfo{}, nilContext()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {group, "group name"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return GroupInfo{}, err
		}
	}
	k := c.core
	g, err := capi.Redisxgo_group_inspect(k.h, stream, group).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return GroupInfo{}, errorOf(err)
	}
	defer capi.Redisx_group_info_free(g)
	return GroupInfo{
		Consumers:       capi.Redisx_group_info_consumers(g),
		Pending:         capi.Redisx_group_info_pending(g),
		Lag:             capi.Redisx_group_info_lag(g),
		EntriesRead:     capi.Redisx_group_info_entries_read(g),
		LastDeliveredID: capi.Redisx_group_info_last_delivered_id(g),
	}, nil
}

// RequeueDeadLetter puts DLQ entry dlqID back on stream as a new entry
// (rx-requeued-from = the original id, then its fields) and removes it from
// the DLQ, in one script; it returns the new id. ErrEmpty when there is no
// such entry.
func (c *Client) RequeueDeadLetter(ctx context.Context, stream, dlqID string) (string, error) {
	if ctx == nil {
		return "", nilContext()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {dlqID, "dead-letter id"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 64)
	k := c.core
	n, err := capi.Redisxgo_dlq_requeue(buf, k.h, stream, dlqID).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return "", errorOf(err)
	}
	return string(buf[:n]), nil
}

// PurgeDeadLetters deletes the DLQ entries of stream (all, or up to and
// including upTo) and returns how many went.
func (c *Client) PurgeDeadLetters(ctx context.Context, stream, upTo string) (int64, error) {
	if ctx == nil {
		return 0, nilContext()
	}
	for _, s := range [][2]string{{stream, "stream name"}, {upTo, "up-to id"}} {
		if err := noNUL(s[0], s[1]); err != nil {
			return 0, err
		}
	}
	k := c.core
	n, err := capi.Redisxgo_dlq_purge(k.h, stream, upTo).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return 0, errorOf(err)
	}
	return int64(n), nil
}
