package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

func streamKey(c *redisx.Client, stream, suffix string) string {
	return c.Prefix() + ":stream:{" + stream + "}" + suffix
}

func uniqueStream(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
}

func pendingCount(t *testing.T, c *redisx.Client, stream, group string) int64 {
	t.Helper()
	v, err := c.Do(context.Background(), "XPENDING", streamKey(c, stream, ""), group)
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return v.([]any)[0].(int64)
}

type order struct {
	N    int    `json:"n"`
	Name string `json:"name"`
}

func TestStreamPublishConsumeRoundTrip(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	const n = 50
	msgs := make([]redisx.OutMessage, n)
	for i := range msgs {
		msgs[i] = redisx.OutMessage{Payload: order{i, "o"}, Headers: map[string][]byte{"type": []byte("order")}}
	}
	ids, err := c.PublishBatch(ctx, s, msgs)
	if err != nil || len(ids) != n {
		t.Fatalf("PublishBatch: %v %d", err, len(ids))
	}
	raw, err := c.PublishMessage(ctx, s, redisx.OutMessage{NoPayload: true, Fields: map[string][]byte{"k": []byte("v\x00")}})
	if err != nil {
		t.Fatal(err)
	}
	bin, err := c.PublishMessage(ctx, s, redisx.OutMessage{Payload: []byte{0, 1, 2}, Codec: redisx.BytesPayload})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int]bool{}
	var gotRaw, gotBin bool
	cctx, cancel := context.WithCancel(ctx)
	err = c.Consume(cctx, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		mu.Lock()
		defer mu.Unlock()
		switch m.ID {
		case raw:
			gotRaw = m.Payload == nil && string(m.Fields["k"]) == "v\x00"
		case bin:
			var b []byte
			gotBin = m.Codec == "bytes" && m.Decode(&b) == nil && string(b) == "\x00\x01\x02"
		default:
			var o order
			if err := m.Decode(&o); err != nil {
				t.Errorf("Decode: %v", err)
			}
			if string(m.Headers["type"]) != "order" || m.Codec != "json" || m.Stream != s || m.DeliveryCount != 1 {
				t.Errorf("message %+v", m)
			}
			seen[o.N] = true
		}
		if len(seen) == n && gotRaw && gotBin {
			cancel()
		}
		return nil
	}, redisx.WithWorkers(4))
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if len(seen) != n || !gotRaw || !gotBin {
		t.Fatalf("seen %d raw %v bin %v", len(seen), gotRaw, gotBin)
	}
	if p := pendingCount(t, c, s, "g"); p != 0 {
		t.Fatalf("pending %d after acks", p)
	}
}

func TestStreamFailingHandlerIsRetriedThenDeadLettered(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	id, err := c.Publish(ctx, s, map[string]int{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var counts []int64
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	go func() {
		// The DLQ entry appears once the third delivery failed.
		for cctx.Err() == nil {
			v, _ := c.Do(ctx, "XLEN", streamKey(c, s, ":dlq"))
			if n, _ := v.(int64); n == 1 {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err = c.Consume(cctx, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		mu.Lock()
		counts = append(counts, m.DeliveryCount)
		mu.Unlock()
		return errors.New("boom")
	}, redisx.WithMaxDeliveries(3), redisx.WithRetryBackoff(10*time.Millisecond, 40*time.Millisecond))
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if fmt.Sprint(counts) != "[1 2 3]" {
		t.Fatalf("delivery counts %v, want [1 2 3]", counts)
	}
	v, err := c.Do(ctx, "XRANGE", streamKey(c, s, ":dlq"), "-", "+")
	if err != nil {
		t.Fatal(err)
	}
	entry := v.([]any)[0].([]any)[1].([]any)
	f := map[string]string{}
	for i := 0; i+1 < len(entry); i += 2 {
		f[string(entry[i].([]byte))] = string(entry[i+1].([]byte))
	}
	if f["rx-dlq-id"] != id || f["rx-dlq-deliveries"] != "3" || f["rx-dlq-error"] != "boom" || f["rx-codec"] != "json" {
		t.Fatalf("DLQ entry %v", f)
	}
	if p := pendingCount(t, c, s, "g"); p != 0 {
		t.Fatalf("pending %d", p)
	}
}

func TestStreamDeadLetterErrorAndExplicitSettle(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishBatch(ctx, s, []redisx.OutMessage{{Payload: "dead"}, {Payload: "ack"}}); err != nil {
		t.Fatal(err)
	}
	var done atomic.Int32
	cctx, cancel := context.WithCancel(ctx)
	err := c.Consume(cctx, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		var v string
		_ = m.Decode(&v)
		defer func() {
			if done.Add(1) == 2 {
				cancel()
			}
		}()
		if v == "dead" {
			return redisx.DeadLetterError(errors.New("poison"))
		}
		if err := m.Ack(); err != nil {
			t.Errorf("Ack: %v", err)
		}
		if err := m.Ack(); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("second Ack = %v, want ErrInvalidArgument", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := c.Do(ctx, "XLEN", streamKey(c, s, ":dlq"))
	if v.(int64) != 1 || pendingCount(t, c, s, "g") != 0 {
		t.Fatalf("dlq %v pending %d", v, pendingCount(t, c, s, "g"))
	}
}

func TestStreamGracefulStopLosesNothing(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	msgs := make([]redisx.OutMessage, n)
	for i := range msgs {
		msgs[i] = redisx.OutMessage{Payload: i}
	}
	if _, err := c.PublishBatch(ctx, s, msgs); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	handler := func(_ context.Context, m *redisx.StreamMessage) error {
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		handled[m.ID]++
		mu.Unlock()
		return nil
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			mu.Lock()
			k := len(handled)
			mu.Unlock()
			if k >= 50 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	if err := c.Consume(cctx, s, "g", handler, redisx.WithWorkers(8), redisx.WithConsumerName("a")); err != nil {
		t.Fatal(err)
	}
	if p := pendingCount(t, c, s, "g"); p != 0 {
		t.Fatalf("%d pending after a graceful stop: every message handed out must be settled", p)
	}
	first := len(handled)
	if first >= n {
		t.Fatalf("the stop came too late to test anything (%d handled)", first)
	}
	// A second consumer gets exactly the rest.
	cctx2, cancel2 := context.WithCancel(ctx)
	go func() {
		for {
			mu.Lock()
			k := len(handled)
			mu.Unlock()
			if k >= n {
				cancel2()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	if err := c.Consume(cctx2, s, "g", handler, redisx.WithConsumerName("b")); err != nil {
		t.Fatal(err)
	}
	for id, k := range handled {
		if k != 1 {
			t.Fatalf("message %s handled %d times", id, k)
		}
	}
	if len(handled) != n {
		t.Fatalf("handled %d of %d", len(handled), n)
	}
}

func TestStreamBadInput(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	h := func(context.Context, *redisx.StreamMessage) error { return nil }
	cases := map[string]error{
		"empty stream": func() error { _, err := c.Publish(ctx, "", 1); return err }(),
		"reserved field": func() error {
			_, err := c.PublishMessage(ctx, s, redisx.OutMessage{NoPayload: true, Fields: map[string][]byte{"rx-x": nil}})
			return err
		}(),
		"no fields":   func() error { _, err := c.PublishMessage(ctx, s, redisx.OutMessage{NoPayload: true}); return err }(),
		"unencodable": func() error { _, err := c.Publish(ctx, s, make(chan int)); return err }(),
		"bytes codec": func() error {
			_, err := c.PublishMessage(ctx, s, redisx.OutMessage{Payload: 3, Codec: redisx.BytesPayload})
			return err
		}(),
		"no messages":    func() error { _, err := c.PublishBatch(ctx, s, nil); return err }(),
		"workers 0":      c.Consume(ctx, s, "g", h, redisx.WithWorkers(0)),
		"nil handler":    c.Consume(ctx, s, "g", nil),
		"max deliveries": c.Consume(ctx, s, "g", h, redisx.WithMaxDeliveries(0)),
		"NUL in group":   c.CreateGroup(ctx, s, "g\x00", "0"),
		"empty group":    c.CreateGroup(ctx, s, "", "0"),
	}
	for name, err := range cases {
		if !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	// No group: Consume reports the server's NOGROUP instead of hanging.
	if err := c.Consume(ctx, s+"-none", "g", h); !errors.Is(err, redisx.ErrServer) {
		t.Errorf("Consume without a group = %v, want ErrServer", err)
	}
}

func TestStreamStopWithABlockedReadReturnsPromptly(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "$"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Consume(cctx, s, "g", func(context.Context, *redisx.StreamMessage) error { return nil },
			redisx.WithBlock(30*time.Second))
	}()
	time.Sleep(200 * time.Millisecond) // let the read block (not an assertion)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Consume = %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("stop took %v with a 30s BLOCK: the blocked read was not ended", d)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("Consume did not return after ctx ended (blocked read not ended)")
	}
}

func TestStreamDeadLettersListRequeuePurge(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	id, err := c.Publish(ctx, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	handler := func(_ context.Context, m *redisx.StreamMessage) error {
		return redisx.DeadLetterError(errors.New("gave up"))
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		for cctx.Err() == nil {
			if l, _ := c.DeadLetters(ctx, s, 10, false, ""); len(l) == 1 {
				cancel()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := c.Consume(cctx, s, "g", handler, redisx.WithWorkers(1), redisx.WithConsumerName("c1")); err != nil {
		t.Fatal(err)
	}
	list, err := c.DeadLetters(ctx, s, 10, false, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("DeadLetters = %v, %v", list, err)
	}
	e := list[0]
	if e.OriginalID != id || e.Group != "g" || e.Consumer != "c1" || e.Error != "gave up" || e.Deleted {
		t.Fatalf("entry %+v", e)
	}
	newID, err := c.RequeueDeadLetter(ctx, s, e.ID)
	if err != nil || newID == "" || newID == id {
		t.Fatalf("RequeueDeadLetter = %q, %v", newID, err)
	}
	if _, err := c.RequeueDeadLetter(ctx, s, e.ID); !errors.Is(err, redisx.ErrEmpty) {
		t.Fatalf("second requeue = %v, want ErrEmpty", err)
	}
	cctx2, cancel2 := context.WithCancel(ctx)
	err = c.Consume(cctx2, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		defer cancel2()
		var v int
		if m.ID != newID || m.Decode(&v) != nil || v != 7 {
			t.Errorf("requeued message %+v", m)
		}
		return redisx.DeadLetterError(errors.New("again"))
	})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.DeadLetters(ctx, s, 10, false, "")
	if err != nil || len(again) != 1 {
		t.Fatalf("DeadLetters after the requeue = %v, %v", again, err)
	}
	one, err := c.DeadLetter(ctx, s, again[0].ID)
	if err != nil || one.ID != again[0].ID || one.Error != "again" || one.OriginalID != newID || len(one.Fields) != len(again[0].Fields) {
		t.Fatalf("DeadLetter by id = %+v, %v; listed %+v", one, err, again[0])
	}
	if _, err := c.DeadLetter(ctx, s, "1-1"); !errors.Is(err, redisx.ErrEmpty) {
		t.Fatalf("DeadLetter of no entry = %v, want ErrEmpty", err)
	}
	if n, err := c.PurgeDeadLetters(ctx, s, ""); err != nil || n != 1 {
		t.Fatalf("PurgeDeadLetters = %d, %v", n, err)
	}
	if _, err := c.DeadLetters(ctx, s, 0, false, ""); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("count 0 = %v, want ErrInvalidArgument", err)
	}
}

func TestStreamGroupInfo(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.Publish(ctx, s, i); err != nil {
			t.Fatal(err)
		}
	}
	// Take one message and leave it pending (read with XREADGROUP directly).
	if _, err := c.Do(ctx, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", streamKey(c, s, ""), ">"); err != nil {
		t.Fatal(err)
	}
	info, err := c.GroupInfo(ctx, s, "g")
	if err != nil || info.Consumers != 1 || info.Pending != 1 || !strings.Contains(info.LastDeliveredID, "-") {
		t.Fatalf("GroupInfo = %+v, %v", info, err)
	}
	if info.Lag != -1 && info.Lag != 2 {
		t.Errorf("lag %d, want 2 (or -1: unknown)", info.Lag)
	}
	if _, err := c.GroupInfo(ctx, s, "nosuch"); !errors.Is(err, redisx.ErrEmpty) {
		t.Fatalf("GroupInfo of no group = %v, want ErrEmpty", err)
	}
}

func TestStreamIdempotentConsumerAcksACompletedRedelivery(t *testing.T) {
	c := open2(t, serverURL)
	ctx := context.Background()
	s := uniqueStream(t)
	if err := c.CreateGroup(ctx, s, "g", "0"); err != nil {
		t.Fatal(err)
	}
	id, err := c.Publish(ctx, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	var first []*redisx.StreamMessage
	err = c.Consume(cctx, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		first = append(first, m)
		cancel()
		return nil
	}, redisx.WithWorkers(1), redisx.WithConsumerName("c1"), redisx.WithIdempotentConsumer(30*time.Second, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].ID != id || first[0].TakenOver {
		t.Fatalf("first delivery %+v", first)
	}
	// Completed: the entry put back on the pending list is acked by the
	// core, never handed to the handler again.
	if _, err := c.Do(ctx, "XCLAIM", streamKey(c, s, ""), "g", "c1", "0", id, "FORCE"); err != nil {
		t.Fatal(err)
	}
	cctx2, cancel2 := context.WithCancel(ctx)
	go func() {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) && pendingCount(t, c, s, "g") != 0 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel2()
	}()
	var seen []string
	err = c.Consume(cctx2, s, "g", func(_ context.Context, m *redisx.StreamMessage) error {
		seen = append(seen, m.ID)
		return nil
	}, redisx.WithWorkers(1), redisx.WithConsumerName("c1"), redisx.WithIdempotentConsumer(30*time.Second, time.Minute),
		redisx.WithReclaim(time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	if pendingCount(t, c, s, "g") != 0 || len(seen) != 0 {
		t.Fatalf("pending %d, handled again %v", pendingCount(t, c, s, "g"), seen)
	}
	if err := c.Consume(ctx, s, "g", func(context.Context, *redisx.StreamMessage) error { return nil },
		redisx.WithIdempotentConsumer(0, time.Minute)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("lease 0 = %v, want ErrInvalidArgument", err)
	}
}
