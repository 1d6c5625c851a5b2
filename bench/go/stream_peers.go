package main

// Streams end to end (publish → handler → ack) next to a plain go-redis v9
// XREADGROUP/XACK loop and Watermill's redisstream Pub/Sub (on go-redis v9),
// in one run against one server, each round on a fresh stream and group:
//
//   - throughput: P goroutines publish N messages (a 100-byte payload, MAXLEN
//     ~ 100000) while the consumer side runs W handlers at a time; the clock
//     stops when the handlers have seen all N and the group has nothing
//     pending (XPENDING), so every message was acked.
//       redisx:   Client.Publish (one EVALSHA of stream_publish.lua, payload
//                 and codec fields), Client.Consume with WithWorkers(W) and
//                 WithMaxInFlight(64) (XREADGROUP on its own connection,
//                 one XACK per message, its claim extended in the background);
//       go-redis: XADD MAXLEN ~ (one field); one reader goroutine doing
//                 XREADGROUP COUNT 64 BLOCK 1000 with at most 64 unacked,
//                 handing messages to W workers, each acking with XACK;
//       Watermill: Publisher.Publish (XADD MAXLEN ~, its uuid and metadata
//                 fields), W Subscribers in one consumer group (a Watermill
//                 subscription hands out one message at a time and waits for
//                 its Ack, so W subscribers give W handlers), Ack → XACK.
//   - latency: one message at a time, the time from the start of the publish
//     to the handler's start (no queue in front of it): p50 and p99.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

	"github.com/redisx/redisx/bindings/go"
)

const streamMaxLen = 100000

// A side starts its consumers on a fresh stream (calling onMsg in the
// handler, before the ack) and publishes to it.
type streamSide interface {
	start(ctx context.Context, stream string, workers int, onMsg func()) (stop func(), err error)
	publish(ctx context.Context, stream string) error
	pendingKey(stream string) (key, group string)
}

var payload100 = make([]byte, 100)

// ---- redisx

type redisxStreams struct{ c *redisx.Client }

func (s redisxStreams) start(ctx context.Context, stream string, workers int, onMsg func()) (func(), error) {
	if err := s.c.CreateGroup(ctx, stream, "g", "0"); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.c.Consume(cctx, stream, "g", func(context.Context, *redisx.StreamMessage) error {
			onMsg()
			return nil
		}, redisx.WithWorkers(workers), redisx.WithMaxInFlight(64), redisx.WithConsumerName("c"))
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fail("redisx Consume: %v", err)
		}
	}, nil
}

func (s redisxStreams) publish(ctx context.Context, stream string) error {
	_, err := s.c.PublishMessage(ctx, stream, redisx.OutMessage{Payload: payload100, Codec: redisx.BytesPayload},
		redisx.WithMaxLen(streamMaxLen))
	return err
}

func (redisxStreams) pendingKey(stream string) (string, string) {
	return "redisx:stream:{" + stream + "}", "g"
}

// ---- go-redis XREADGROUP / XACK loop

type goRedisStreams struct{ c *goredis.Client }

func (s goRedisStreams) start(ctx context.Context, stream string, workers int, onMsg func()) (func(), error) {
	if err := s.c.XGroupCreateMkStream(ctx, stream, "g", "0").Err(); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	work := make(chan string, 64)
	slots := make(chan struct{}, 64) // at most 64 read and not yet acked
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				onMsg()
				if err := s.c.XAck(ctx, stream, "g", id).Err(); err != nil {
					fail("go-redis XACK: %v", err)
				}
				<-slots
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		for cctx.Err() == nil {
			slots <- struct{}{} // room for one more unacked message
			free := cap(slots) - len(slots)
			res, err := s.c.XReadGroup(cctx, &goredis.XReadGroupArgs{Group: "g", Consumer: "c",
				Streams: []string{stream, ">"}, Count: int64(1 + free), Block: time.Second}).Result()
			if err != nil {
				<-slots
				if errors.Is(err, goredis.Nil) {
					continue
				}
				if cctx.Err() != nil {
					return
				}
				fail("go-redis XREADGROUP: %v", err)
			}
			first := true
			for _, st := range res {
				for _, m := range st.Messages {
					if !first {
						slots <- struct{}{}
					}
					first = false
					work <- m.ID
				}
			}
			if first {
				<-slots
			}
		}
	}()
	return func() { cancel(); wg.Wait() }, nil
}

func (s goRedisStreams) publish(ctx context.Context, stream string) error {
	return s.c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, MaxLen: streamMaxLen, Approx: true,
		Values: []any{"payload", payload100}}).Err()
}

func (goRedisStreams) pendingKey(stream string) (string, string) { return stream, "g" }

// ---- Watermill (redisstream)

// Watermill's Subscriber.Close closes the go-redis client it was given: each
// subscriber gets a client of its own (a pool of its own, as W services would).
type watermillStreams struct {
	c   *goredis.Client
	pub *redisstream.Publisher
}

func newWatermill(c *goredis.Client) watermillStreams {
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: c, DefaultMaxlen: streamMaxLen},
		watermill.NopLogger{})
	if err != nil {
		fail("watermill NewPublisher: %v", err)
	}
	return watermillStreams{c, pub}
}

func (s watermillStreams) start(ctx context.Context, stream string, workers int, onMsg func()) (func(), error) {
	if err := s.c.XGroupCreateMkStream(ctx, stream, "g", "0").Err(); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	var subs []*redisstream.Subscriber
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{Client: goredis.NewClient(s.c.Options()), ConsumerGroup: "g",
			Consumer: fmt.Sprintf("c%d", i), OldestId: "0"}, watermill.NopLogger{})
		if err != nil {
			cancel()
			return nil, err
		}
		msgs, err := sub.Subscribe(cctx, stream)
		if err != nil {
			cancel()
			return nil, err
		}
		subs = append(subs, sub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range msgs {
				onMsg()
				m.Ack()
			}
		}()
	}
	return func() {
		cancel()
		for _, sub := range subs {
			_ = sub.Close()
		}
		wg.Wait()
	}, nil
}

func (s watermillStreams) publish(_ context.Context, stream string) error {
	return s.pub.Publish(stream, message.NewMessage(watermill.NewUUID(), payload100))
}

func (watermillStreams) pendingKey(stream string) (string, string) { return stream, "g" }

// ---- the runs

// throughputRun: messages/s from the first publish to the last ack, and
// messages/s from the first publish to the last publish's return.
func throughputRun(ctx context.Context, gr *goredis.Client, s streamSide, stream string, n, publishers, workers int) (float64, float64, error) {
	var seen atomic.Int64
	all := make(chan struct{})
	stop, err := s.start(ctx, stream, workers, func() {
		if seen.Add(1) == int64(n) {
			close(all)
		}
	})
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for i := 0; i < publishers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := s.publish(ctx, stream); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	pubRate := float64(n) / time.Since(t0).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	select {
	case <-all:
	case <-time.After(120 * time.Second):
		return 0, 0, fmt.Errorf("%d of %d messages handled after 120 s", seen.Load(), n)
	}
	key, group := s.pendingKey(stream)
	for {
		p, err := gr.XPending(ctx, key, group).Result()
		if err != nil {
			return 0, 0, err
		}
		if p.Count == 0 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	return float64(n) / time.Since(t0).Seconds(), pubRate, nil
}

// latencyRun: publish-start → handler-start of one message at a time, and
// publish-start → the publish's return.
func latencyRun(ctx context.Context, s streamSide, stream string, n, workers int) ([]time.Duration, []time.Duration, error) {
	got := make(chan time.Time, 1)
	stop, err := s.start(ctx, stream, workers, func() { got <- time.Now() })
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	lat := make([]time.Duration, 0, n)
	pub := make([]time.Duration, 0, n)
	for i := 0; i < n+50; i++ { // the first 50: warm-up
		t0 := time.Now()
		if err := s.publish(ctx, stream); err != nil {
			return nil, nil, err
		}
		t1 := time.Now()
		select {
		case t := <-got:
			if i >= 50 {
				lat = append(lat, t.Sub(t0))
				pub = append(pub, t1.Sub(t0))
			}
		case <-time.After(10 * time.Second):
			return nil, nil, fmt.Errorf("message %d not delivered after 10 s", i)
		}
	}
	return lat, pub, nil
}

func pct(d []time.Duration, p float64) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(float64(len(s)-1)*p)].Microseconds())
}

func benchStreamPeers(ctx context.Context, rx *redisx.Client, gr *goredis.Client, rounds, n, publishers, workers, latN int) {
	sides := []struct {
		name string
		s    streamSide
	}{
		{"redisx", redisxStreams{rx}},
		{"goredis", goRedisStreams{gr}},
		{"watermill", newWatermill(gr)},
	}
	fmt.Printf("go_stream_messages=%d\ngo_stream_publishers=%d\ngo_stream_workers=%d\ngo_stream_latency_messages=%d\n",
		n, publishers, workers, latN)
	rates, pubRates := map[string][]float64{}, map[string][]float64{}
	for r := 0; r <= rounds; r++ { // round 0: warm-up
		for _, side := range sides {
			stream := fmt.Sprintf("bench-go-stream-%s-%d-%d", side.name, r, time.Now().UnixNano())
			key, _ := side.s.pendingKey(stream)
			m := n
			if r == 0 {
				m = n / 10
			}
			v, pv, err := throughputRun(ctx, gr, side.s, stream, m, publishers, workers)
			if err != nil {
				fail("%s stream throughput: %v", side.name, err)
			}
			if r > 0 {
				rates[side.name] = append(rates[side.name], v)
				pubRates[side.name] = append(pubRates[side.name], pv)
			}
			gr.Del(ctx, key)
		}
	}
	for _, side := range sides {
		fmt.Printf("go_stream_%s_msgs_per_s=%.0f\n", side.name, median(rates[side.name]))
		// the publishers' own pace, consumers running beside them
		fmt.Printf("go_stream_%s_published_per_s=%.0f\n", side.name, median(pubRates[side.name]))
	}
	for _, side := range sides {
		stream := fmt.Sprintf("bench-go-stream-lat-%s-%d", side.name, time.Now().UnixNano())
		lat, pub, err := latencyRun(ctx, side.s, stream, latN, workers)
		if err != nil {
			fail("%s stream latency: %v", side.name, err)
		}
		key, _ := side.s.pendingKey(stream)
		gr.Del(ctx, key)
		fmt.Printf("go_stream_%s_latency_p50_us=%.0f\ngo_stream_%s_latency_p99_us=%.0f\n",
			side.name, pct(lat, 0.5), side.name, pct(lat, 0.99))
		fmt.Printf("go_stream_%s_publish_p50_us=%.0f\n", side.name, pct(pub, 0.5))
	}
	for _, peer := range []string{"goredis", "watermill"} {
		fmt.Printf("go_stream_vs_%s_ratio=%.3f\n", peer, median(rates["redisx"])/median(rates[peer]))
	}
}
