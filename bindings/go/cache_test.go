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

type user struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func newCache[T any](t *testing.T, c *redisx.Client, suffix string, opts ...redisx.CacheOption) *redisx.Cache[T] {
	t.Helper()
	cache, err := redisx.NewCache[T](c, lockName(t, suffix), opts...)
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	t.Cleanup(func() { cache.Close() })
	return cache
}

func TestCacheSetGetDeleteRoundTrip(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[user](t, c, "users")
	if _, err := cache.Get(ctx, "u1"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	want := user{ID: 1, Name: "Zoë", Tags: []string{"a", "b"}}
	if err := cache.Set(ctx, "u1", want, 0); err != nil {
		t.Fatal(err)
	}
	got, err := cache.Get(ctx, "u1")
	if err != nil || got.Name != want.Name || got.ID != 1 || len(got.Tags) != 2 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	// the same through the queue (a cancellable ctx) and from Redis (no L1)
	other := newCache[user](t, c, "users-l2", redisx.WithL1(0, 0, 0))
	if err := other.Set(context.Background(), "u2", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Get(ctx, "u2"); err != nil || got.Name != want.Name {
		t.Fatalf("Get from L2 = %+v, %v", got, err)
	}
	if err := cache.Delete(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(ctx, "u1"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

func TestCacheValueIsJSONInRedis(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	name := lockName(t, "json")
	cache, err := redisx.NewCache[map[string]any](c, name)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	if err := cache.Set(ctx, "k", map[string]any{"a": []int{1, 2}}, 0); err != nil {
		t.Fatal(err)
	}
	v, err := c.Do(ctx, "HGET", "redisx:cache:"+name+":{k}", "v") // docs/KEYS.md
	if err != nil || string(v.([]byte)) != `{"a":[1,2]}` {
		t.Fatalf("HGET = %q, %v", v, err)
	}
}

func TestCacheCodecs(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	raw := newCache[[]byte](t, c, "bytes", redisx.WithCodec[[]byte](redisx.BytesCodec{}))
	if err := raw.Set(ctx, "b", []byte{0, 0xff, 'x'}, 0); err != nil {
		t.Fatal(err)
	}
	if b, err := raw.Get(ctx, "b"); err != nil || string(b) != "\x00\xffx" {
		t.Fatalf("bytes = %q, %v", b, err)
	}
	text := newCache[string](t, c, "str", redisx.WithCodec[string](redisx.StringCodec{}))
	if err := text.Set(ctx, "s", "héllo", 0); err != nil {
		t.Fatal(err)
	}
	if s, err := text.Get(ctx, "s"); err != nil || s != "héllo" {
		t.Fatalf("str = %q, %v", s, err)
	}
	if _, err := redisx.NewCache[int](c, lockName(t, "mismatch"), redisx.WithCodec[string](redisx.StringCodec{})); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("a codec of another type: %v", err)
	}
}

func TestCacheGetOrLoadRunsTheLoaderOnceForConcurrentCallers(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	a := newCache[int](t, c, "flight")
	// a second client: the single flight spans connections and processes
	c2 := open(t)
	b, err := redisx.NewCache[int](c2, a.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var calls atomic.Int32
	load := func(context.Context) (int, error) {
		calls.Add(1)
		time.Sleep(300 * time.Millisecond) // keeps the others waiting on the lease
		return 42, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		cache := a
		if i%2 == 1 {
			cache = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cache.GetOrLoad(ctx, "cold", load)
			if err == nil && v != 42 {
				err = errors.New("wrong value")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the loader ran %d times", n)
	}
	if n := a.Counters().Loads + b.Counters().Loads; n != 1 {
		t.Fatalf("loads counted: %d", n)
	}
}

func TestCacheLoaderErrorCachesNothing(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[string](t, c, "errs")
	boom := errors.New("backend down")
	_, err := cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("GetOrLoad = %v, want the loader's error", err)
	}
	if _, err := cache.Get(ctx, "k"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("Get after a failed load: %v", err)
	}
	if n := cache.Counters().LoadErrors; n != 1 {
		t.Fatalf("load errors: %d", n)
	}
	v, err := cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "ok", nil })
	if err != nil || v != "ok" {
		t.Fatalf("the next load: %q, %v", v, err)
	}
}

func TestCacheLoaderNotFoundIsCachedNegative(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[string](t, c, "neg", redisx.WithNegativeTTL(30*time.Second))
	var calls atomic.Int32
	for i := 0; i < 3; i++ {
		_, err := cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
			calls.Add(1)
			return "", redisx.ErrNotFound
		})
		if !errors.Is(err, redisx.ErrNotFound) {
			t.Fatalf("GetOrLoad = %v", err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("the loader ran %d times", calls.Load())
	}
}

func TestCacheBadInputIsInvalidArgument(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[string](t, c, "bad", redisx.WithMaxValueBytes(1024))
	for _, key := range []string{"", "a\x00b", strings.Repeat("x", 1025)} {
		if _, err := cache.Get(ctx, key); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("Get(%q): %v", key[:min(len(key), 8)], err)
		}
		if err := cache.Set(ctx, key, "v", 0); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("Set(%q): %v", key[:min(len(key), 8)], err)
		}
	}
	big := strings.Repeat("x", 2000)
	if err := cache.Set(ctx, "big", big, 0); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("Set of a huge value: %v", err)
	}
	if _, err := cache.GetOrLoad(ctx, "big", func(context.Context) (string, error) { return big, nil }); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("GetOrLoad of a huge value: %v", err)
	}
	if v, err := cache.GetOrLoad(ctx, "big", func(context.Context) (string, error) { return "small", nil }); err != nil || v != "small" {
		t.Errorf("the refused fill left a lease behind: %q, %v", v, err)
	}
	if err := cache.Set(ctx, "k", "v", -time.Second); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("a negative ttl: %v", err)
	}
	for _, name := range []string{"", "a{b}"} {
		if _, err := redisx.NewCache[int](c, name); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Errorf("NewCache(%q): %v", name, err)
		}
	}
	if _, err := redisx.NewCache[int](c, "x", redisx.WithTTLJitter(0.9)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("jitter 0.9: %v", err)
	}
	if _, err := cache.GetOrLoad(ctx, "k", nil); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Errorf("a nil loader: %v", err)
	}
}

func TestCacheStaleIfErrorServesTheOldValue(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[string](t, c, "sie", redisx.WithL1(0, 0, 0), redisx.WithStaleIfError(time.Minute))
	if err := cache.Set(ctx, "k", "old", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the value goes stale", func() bool {
		_, err := cache.Get(ctx, "k")
		return errors.Is(err, redisx.ErrNotFound)
	})
	v, err := cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "", errors.New("down") })
	if err != nil || v != "old" {
		t.Fatalf("GetOrLoad with a failing loader = %q, %v; want the stale value", v, err)
	}
	// the same call without a stale-if-error window surfaces the error
	_, err = cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "", errors.New("down") },
		redisx.LoadStaleIfError(0))
	if err == nil || err.Error() != "down" {
		t.Fatalf("GetOrLoad with LoadStaleIfError(0) = %v; want the loader's error", err)
	}
	if _, err := cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "x", nil },
		redisx.LoadTTL(-time.Second)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("a negative LoadTTL: %v", err)
	}
	v, err = cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "new", nil }, redisx.LoadTTL(time.Hour))
	if err != nil || v != "new" {
		t.Fatalf("GetOrLoad = %q, %v", v, err)
	}
}

// cacheOnBoth has B set "k" to 1 and A read it until A holds an L1 copy.
func cacheOnBoth(t *testing.T, ctx context.Context, a, b *redisx.Cache[int]) {
	t.Helper()
	if err := b.Set(ctx, "k", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && a.Counters().L1Hits == 0; i++ {
		if v, err := a.Get(ctx, "k"); err != nil || v != 1 {
			t.Fatalf("Get = %v, %v", v, err)
		}
	}
	if a.Counters().L1Hits == 0 {
		t.Fatal("A kept no L1 copy")
	}
}

// Two clients: two processes' worth of L1. With tracking, B's write drops
// A's copy at once; without, A serves it for the L1 TTL (a minute here),
// which is what makes the tracked case mean something.
func TestCacheTrackingDropsAnotherProcesssL1Copy(t *testing.T) {
	for _, tracking := range []bool{true, false} {
		t.Run(fmt.Sprintf("tracking=%v", tracking), func(t *testing.T) {
			ctx := ctxFor(t)
			name := lockName(t, "track")
			ca, cb := open(t), open(t)
			a, err := redisx.NewCache[int](ca, name, redisx.WithL1(10000, 64<<20, time.Minute), redisx.WithTracking(tracking))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := redisx.NewCache[int](cb, name, redisx.WithTracking(tracking))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			cacheOnBoth(t, ctx, a, b)
			if err := b.Set(ctx, "k", 2, time.Minute); err != nil {
				t.Fatal(err)
			}
			v, _ := a.Get(ctx, "k")
			for i := 0; tracking && v != 2 && i < 500; i++ {
				time.Sleep(10 * time.Millisecond)
				v, _ = a.Get(ctx, "k")
			}
			switch {
			case tracking && (v != 2 || a.Counters().Invalidations == 0):
				t.Errorf("tracking: A reads %d (invalidations %d), want 2", v, a.Counters().Invalidations)
			case !tracking && v != 1:
				t.Errorf("no tracking: A reads %d, want its L1 copy 1", v)
			}
		})
	}
}

// WithCacheTrackingBcast: the server tells A of every cache write under
// the prefix, even of a key A never read, and B's write drops A's copy.
func TestCacheTrackingInBcastModeIsToldOfKeysNeverRead(t *testing.T) {
	ctx := ctxFor(t)
	name := lockName(t, "track-bcast")
	ca, cb := open(t, redisx.WithCacheTrackingBcast(true)), open(t)
	a, err := redisx.NewCache[int](ca, name, redisx.WithL1(10000, 64<<20, time.Minute), redisx.WithTracking(true))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := redisx.NewCache[int](cb, name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cacheOnBoth(t, ctx, a, b)
	before := a.Counters().Invalidations
	if err := b.Set(ctx, "never-read", 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500 && a.Counters().Invalidations == before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Counters().Invalidations == before {
		t.Fatal("BCAST told A nothing of a key it never read")
	}
	if err := b.Set(ctx, "k", 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	v, _ := a.Get(ctx, "k")
	for i := 0; v != 2 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
		v, _ = a.Get(ctx, "k")
	}
	if v != 2 {
		t.Fatalf("A reads %d, want 2", v)
	}
}

// outcomes records what each cache operation's OpResult says it found.
type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) Start(ctx context.Context, op *redisx.Operation) (context.Context, func(*redisx.OpResult)) {
	if op.Primitive != "cache" || (op.Operation != "fetch" && op.Operation != "get") {
		return ctx, nil
	}
	name := op.Operation
	return ctx, func(r *redisx.OpResult) {
		o.mu.Lock()
		o.got = append(o.got, name+":"+r.CacheOutcome)
		o.mu.Unlock()
	}
}

func TestCacheOutcomesAreTheCoresForEveryLayer(t *testing.T) {
	c := open(t)
	rec := &outcomes{}
	c.SetInstrumentation(rec)
	ctx := ctxFor(t)
	l1 := newCache[string](t, c, "outcomes")
	l2, err := redisx.NewCache[string](c, l1.Name(), redisx.WithL1(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	load := func(context.Context) (string, error) { return "v", nil }
	none := func(context.Context) (string, error) { return "", redisx.ErrNotFound }
	if _, err := l1.GetOrLoad(ctx, "k", load); err != nil {
		t.Fatal(err)
	}
	if _, err := l1.GetOrLoad(ctx, "k", load); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.GetOrLoad(ctx, "gone", none); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("a load answering ErrNotFound: %v", err)
	}
	if _, err := l2.Get(ctx, "gone"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("a cached not-found: %v", err)
	}
	if _, err := l2.Get(ctx, "never"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("an absent key: %v", err)
	}
	want := []string{"fetch:load", "fetch:hit_l1", "get:hit_l2", "fetch:load", "get:negative", "get:miss"}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if strings.Join(rec.got, " ") != strings.Join(want, " ") {
		t.Fatalf("outcomes %v, want %v", rec.got, want)
	}
}
