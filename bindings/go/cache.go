package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// ErrNotFound is the answer of Cache.Get for a key with no fresh value and
// of GetOrLoad for a cached "not found". A loader returns an error matching
// it (errors.Is) to say the key has no value: GetOrLoad then caches "not
// found" for the cache's negative TTL. It is an answer, not a failure of
// the library, so it is no *Error.
var ErrNotFound = errors.New("redisx: cache: not found")

// Codec turns a Cache's values into bytes and back.
type Codec[T any] interface {
	Marshal(v T) ([]byte, error)
	Unmarshal(data []byte) (T, error)
}

// JSONCodec is the default codec: encoding/json, the format every redisx
// language reads (a value cached by Python is read by Node and Go).
type JSONCodec[T any] struct{}

func (JSONCodec[T]) Marshal(v T) ([]byte, error) { return json.Marshal(v) }

func (JSONCodec[T]) Unmarshal(data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// BytesCodec stores []byte values as they are.
type BytesCodec struct{}

func (BytesCodec) Marshal(v []byte) ([]byte, error)      { return v, nil }
func (BytesCodec) Unmarshal(data []byte) ([]byte, error) { return data, nil }

// StringCodec stores string values as their bytes (UTF-8 for text).
type StringCodec struct{}

func (StringCodec) Marshal(v string) ([]byte, error)      { return []byte(v), nil }
func (StringCodec) Unmarshal(data []byte) (string, error) { return string(data), nil }

// CacheOption configures NewCache.
type CacheOption func(*cacheConfig)

type cacheConfig struct {
	codec                      any
	ttl, wait, swr, sie        time.Duration
	l1Entries, l1Bytes         int64
	l1TTL                      time.Duration
	l1Set                      bool
	maxValue                   int64
	negativeTTL, lease, stale  time.Duration
	jitter, beta               *float64
	policy                     *FailPolicy
	tracking                   *bool
	hasNeg, hasLease, hasStale bool
}

// WithCodec sets the codec (default JSONCodec[T]); its type must be
// Codec[T] of the cache's T (ErrInvalidArgument otherwise).
func WithCodec[T any](codec Codec[T]) CacheOption { return func(c *cacheConfig) { c.codec = codec } }

// WithCacheTTL sets how long a loaded or set value stays fresh (default 1 min).
func WithCacheTTL(d time.Duration) CacheOption { return func(c *cacheConfig) { c.ttl = d } }

// WithCacheWait sets how long GetOrLoad waits for another caller's load
// (default 10 s; then ErrTimeout, unless a stale value within the
// stale-if-error window serves).
func WithCacheWait(d time.Duration) CacheOption { return func(c *cacheConfig) { c.wait = d } }

// WithStaleWhileRevalidate serves a value up to d past its TTL while one
// caller across processes refreshes it (default 0).
func WithStaleWhileRevalidate(d time.Duration) CacheOption { return func(c *cacheConfig) { c.swr = d } }

// WithStaleIfError serves a value up to d past its TTL when Redis fails,
// the wait runs out or the loader fails (default 0).
func WithStaleIfError(d time.Duration) CacheOption { return func(c *cacheConfig) { c.sie = d } }

// WithL1 bounds this process's L1 (entries 0 turns it off; defaults 10,000
// entries, 64 MiB, TTL 1 s).
func WithL1(entries, bytes int64, ttl time.Duration) CacheOption {
	return func(c *cacheConfig) { c.l1Entries, c.l1Bytes, c.l1TTL, c.l1Set = entries, bytes, ttl, true }
}

// WithMaxValueBytes sets the largest value (default 1 MiB; larger ones:
// ErrInvalidArgument).
func WithMaxValueBytes(n int64) CacheOption { return func(c *cacheConfig) { c.maxValue = n } }

// WithNegativeTTL sets how long a "not found" is cached (default 5 s).
func WithNegativeTTL(d time.Duration) CacheOption {
	return func(c *cacheConfig) { c.negativeTTL, c.hasNeg = d, true }
}

// WithLoadLease sets how long a loader may take before a waiter takes over
// (default 10 s).
func WithLoadLease(d time.Duration) CacheOption {
	return func(c *cacheConfig) { c.lease, c.hasLease = d, true }
}

// WithStaleWindow sets how long entries are kept past their TTL to be
// served stale (default 60 s); it bounds the SWR and stale-if-error windows.
func WithStaleWindow(d time.Duration) CacheOption {
	return func(c *cacheConfig) { c.stale, c.hasStale = d, true }
}

// WithTTLJitter cuts each TTL by a random part of up to fraction (0..0.5,
// default 0.1).
func WithTTLJitter(fraction float64) CacheOption {
	return func(c *cacheConfig) { c.jitter = &fraction }
}

// WithXFetchBeta sets XFetch's beta (0 turns early refresh off; default 1).
func WithXFetchBeta(beta float64) CacheOption { return func(c *cacheConfig) { c.beta = &beta } }

// WithCacheFailPolicy overrides the cache fail policy (default FailOpen).
func WithCacheFailPolicy(p FailPolicy) CacheOption { return func(c *cacheConfig) { c.policy = &p } }

// WithTracking keeps the cache's L1 coherent across processes with Redis'
// client tracking (off by default; docs/CACHE.md): another process's write
// or tag invalidation drops this process's copies within milliseconds
// instead of the L1 TTL.
func WithTracking(on bool) CacheOption { return func(c *cacheConfig) { c.tracking = &on } }

// Cache is a two-tier cache of T values bound to a client (docs/CACHE.md):
// an L1 in this process over an L2 in Redis, shared by every cache of the
// same name on the same prefix in any process and any redisx language.
// Another process's Set or Delete reaches this process's L1 copy when it
// expires (the L1 TTL, 1 s by default). Safe for concurrent use. Close
// frees it early; a Cache dropped without Close is freed by the garbage
// collector.
type Cache[T any] struct {
	client              *Client
	h                   *cacheHandle
	name                string
	codec               Codec[T]
	ttl, wait, swr, sie int64 // ms
}

type cacheHandle struct {
	mu    sync.RWMutex
	h     capi.Cache
	freed bool
}

func (ch *cacheHandle) free() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if !ch.freed {
		ch.freed = true
		capi.Redisx_cache_free(ch.h)
	}
}

func (ch *cacheHandle) use(f func(capi.Cache) error) error {
	ch.mu.RLock()
	defer ch.mu.RUnlock()
	if ch.freed {
		return newError(codeClosed, "cache is closed")
	}
	return f(ch.h)
}

// NewCache makes the cache name (1..128 bytes, no '{' or '}') of T values
// on c. No round trip to Redis.
func NewCache[T any](c *Client, name string, opts ...CacheOption) (*Cache[T], error) {
	cfg := cacheConfig{ttl: time.Minute, wait: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	codec := Codec[T](JSONCodec[T]{})
	if cfg.codec != nil {
		cd, ok := cfg.codec.(Codec[T])
		if !ok {
			return nil, invalid("codec %T is not a Codec of the cache's value type %T", cfg.codec, *new(T))
		}
		codec = cd
	}
	if err := noNUL(name, "cache name"); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		v    time.Duration
		what string
	}{{cfg.ttl, "ttl"}, {cfg.wait, "wait"}, {cfg.swr, "stale-while-revalidate window"}, {cfg.sie, "stale-if-error window"}} {
		if d.v < 0 {
			return nil, invalid("cache %s must not be negative, got %v", d.what, d.v)
		}
	}
	if cfg.ttl == 0 {
		return nil, invalid("cache ttl must be positive")
	}
	k := c.core
	h, err := capi.Redisx_cache_new(k.h, name).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return nil, errorOf(err)
	}
	set := func(e error) {
		if err == nil && e != nil {
			err = errorOf(e)
		}
	}
	if cfg.l1Set {
		if cfg.l1Entries < 0 || cfg.l1Bytes < 0 {
			set(invalid("L1 bounds must not be negative"))
		} else {
			set(capi.Redisx_cache_set_l1(h, cfg.l1Entries, cfg.l1Bytes, millis(cfg.l1TTL)))
		}
	}
	if cfg.maxValue != 0 {
		if cfg.maxValue < 0 {
			set(invalid("max value bytes must be positive"))
		} else {
			set(capi.Redisx_cache_set_max_value_bytes(h, cfg.maxValue))
		}
	}
	if cfg.hasNeg {
		set(capi.Redisx_cache_set_negative_ttl_ms(h, millis(cfg.negativeTTL)))
	}
	if cfg.hasLease {
		set(capi.Redisx_cache_set_lease_ms(h, millis(cfg.lease)))
	}
	if cfg.hasStale {
		set(capi.Redisx_cache_set_stale_ms(h, millis(cfg.stale)))
	}
	if cfg.jitter != nil {
		set(capi.Redisx_cache_set_ttl_jitter(h, *cfg.jitter))
	}
	if cfg.beta != nil {
		set(capi.Redisx_cache_set_xfetch_beta(h, *cfg.beta))
	}
	if cfg.policy != nil {
		set(capi.Redisx_cache_set_fail_policy(h, enumAs(capi.REDISX_FAIL_CLOSED, int(*cfg.policy))))
	}
	if cfg.tracking != nil {
		on := 0
		if *cfg.tracking {
			on = 1
		}
		set(capi.Redisx_cache_set_tracking(h, on))
	}
	if err != nil {
		capi.Redisx_cache_free(h)
		return nil, err
	}
	cache := &Cache[T]{
		client: c, h: &cacheHandle{h: h}, name: name, codec: codec,
		ttl: millis(cfg.ttl), wait: millis(cfg.wait), swr: millis(cfg.swr), sie: millis(cfg.sie),
	}
	runtime.AddCleanup(cache, (*cacheHandle).free, cache.h)
	return cache, nil
}

// Name returns the cache's name.
func (c *Cache[T]) Name() string { return c.name }

// Close frees the cache; later calls return ErrClosed.
func (c *Cache[T]) Close() error {
	c.h.free()
	return nil
}

// answer is what a fetch or a get found.
type answer struct {
	state int
	value []byte // nil without a value
	stale bool
	lease capi.CacheEntry // non-zero: the entry holds the key's lease (to fill or abandon, then free)
	// outcome is the core's outcome identifier (redisx_event_outcome):
	// "hit_l1", "hit_l2", "stale", "refresh", "load", "negative", "miss".
	outcome string
}

func answerOf(e capi.CacheEntry) answer {
	a := answer{
		state:   int(capi.Redisx_cache_entry_state(e)),
		stale:   capi.Redisx_cache_entry_is_stale(e) != 0,
		outcome: capi.Redisx_cache_entry_outcome(e),
	}
	if a.state != int(capi.REDISX_CACHE_NEGATIVE) && a.state != int(capi.REDISX_CACHE_MISS) {
		a.value = capi.Redisx_cache_entry_value(e)
	}
	if capi.Redisx_cache_entry_should_refresh(e) != 0 {
		a.lease = e
	} else {
		capi.Redisx_cache_entry_free(e)
	}
	return a
}

// withTags runs f with the core's list of tags (nil when there are none);
// the core copies what it needs during the call. A bad tag (empty, above
// 1024 bytes) is ErrInvalidArgument from the core.
func withTags(tags []string, f func(t capi.Tags) error) error {
	if len(tags) == 0 {
		return f(0)
	}
	t, err := capi.Redisx_tags_new().Get()
	if err != nil {
		return errorOf(err)
	}
	defer capi.Redisx_tags_free(t)
	for _, tag := range tags {
		if err := capi.Redisx_tags_add(t, []byte(tag)); err != nil {
			return errorOf(err)
		}
	}
	return f(t)
}

func (c *Cache[T]) fetch(ctx context.Context, key string, get bool, wait, swr, sie int64, tags ...string) (answer, error) {
	if ctx == nil {
		return answer{}, nilContext()
	}
	if err := noNUL(key, "cache key"); err != nil {
		return answer{}, err
	}
	k := c.client.core
	var a answer
	err := c.h.use(func(h capi.Cache) error {
		// An L1 hit needs neither the queue nor a blocking call.
		e, err := capi.Redisx_cache_peek(h, key).Get()
		if err != nil {
			return errorOf(err)
		}
		if e != 0 {
			a = answerOf(e)
			return nil
		}
		if k.tryDirect(ctx) {
			var out capi.Out[capi.CacheEntry]
			terr := withTags(tags, func(t capi.Tags) error {
				if get {
					out = capi.Redisx_cache_get(h, key)
				} else if t != 0 {
					out = capi.Redisx_cache_fetch_tagged(h, key, t, wait, swr, sie)
				} else {
					out = capi.Redisx_cache_fetch(h, key, wait, swr, sie)
				}
				return nil
			})
			k.leaveDirect()
			if terr != nil {
				return terr
			}
			e, err := out.Get()
			if err != nil {
				return errorOf(err)
			}
			a = answerOf(e)
			return nil
		}
		it, err := k.call(ctx, func(tag uintptr) error {
			if get {
				return capi.Redisx_cache_get_async(h, key, tag)
			}
			return withTags(tags, func(t capi.Tags) error {
				if t != 0 {
					return capi.Redisx_cache_fetch_tagged_async(h, key, t, wait, swr, sie, tag)
				}
				return capi.Redisx_cache_fetch_async(h, key, wait, swr, sie, tag)
			})
		})
		if err != nil {
			return err
		}
		if err := status(it); err != nil {
			capi.Redisx_item_free(it)
			return err
		}
		e = capi.CacheEntry(capi.Redisx_item_take_cache_entry(it).Swigcptr())
		capi.Redisx_item_free(it)
		a = answerOf(e)
		return nil
	})
	return a, err
}

// Get returns the fresh value of key (1..1024 bytes), from this process's
// L1 or from Redis; ErrNotFound when there is none or "not found" is cached.
func (c *Cache[T]) Get(ctx context.Context, key string) (T, error) {
	ictx, done := c.client.core.start(ctx, &Operation{Primitive: "cache", Operation: "get", Name: c.name})
	if done == nil {
		return c.get(ctx, key, nil)
	}
	res := &OpResult{}
	v, err := c.get(ictx, key, res)
	res.Err = err
	done(res)
	return v, err
}

func (c *Cache[T]) get(ctx context.Context, key string, res *OpResult) (T, error) {
	var zero T
	a, err := c.fetch(ctx, key, true, 0, 0, 0)
	if err != nil {
		return zero, err
	}
	if res != nil {
		res.CacheOutcome = a.outcome
	}
	if a.state != int(capi.REDISX_CACHE_HIT) {
		return zero, ErrNotFound
	}
	return c.decode(a.value)
}

func (c *Cache[T]) decode(b []byte) (T, error) {
	v, err := c.codec.Unmarshal(b)
	if err != nil {
		return v, fmt.Errorf("redisx: cache %s: decoding a value: %w", c.name, err)
	}
	return v, nil
}

func (c *Cache[T]) encode(v T) ([]byte, error) {
	b, err := c.codec.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("redisx: cache %s: encoding a value: %w (%w)", c.name, err, ErrInvalidArgument)
	}
	return b, nil
}

// SetOption adds to one Set.
type SetOption func(*setConfig)

type setConfig struct{ tags []string }

// SetTags makes the entry carry tags (any bytes, 1..1024 each, at most 64),
// for InvalidateTags.
func SetTags(tags ...string) SetOption {
	return func(c *setConfig) { c.tags = append(c.tags, tags...) }
}

// Set writes v for ttl (0: the cache's TTL) to Redis and this process's L1;
// a load in progress can then no longer fill. SetTags tags the entry.
func (c *Cache[T]) Set(ctx context.Context, key string, v T, ttl time.Duration, opts ...SetOption) error {
	var sc setConfig
	for _, o := range opts {
		o(&sc)
	}
	ictx, done := c.client.core.start(ctx, &Operation{Primitive: "cache", Operation: "set", Name: c.name})
	err := c.set(ictx, key, v, ttl, sc.tags)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (c *Cache[T]) set(ctx context.Context, key string, v T, ttl time.Duration, tags []string) error {
	if ctx == nil {
		return nilContext()
	}
	if err := noNUL(key, "cache key"); err != nil {
		return err
	}
	ttlMs := c.ttl
	if ttl != 0 {
		ttlMs = millis(ttl)
	}
	b, err := c.encode(v)
	if err != nil {
		return err
	}
	k := c.client.core
	return c.h.use(func(h capi.Cache) error {
		if len(tags) > 0 {
			if k.tryDirect(ctx) {
				err := withTags(tags, func(t capi.Tags) error { return errorOf(capi.Redisx_cache_set_tagged(h, key, b, ttlMs, t)) })
				k.leaveDirect()
				return err
			}
			return k.callStatus(ctx, func(tag uintptr) error {
				return withTags(tags, func(t capi.Tags) error { return capi.Redisx_cache_set_tagged_async(h, key, b, ttlMs, t, tag) })
			})
		}
		if k.tryDirect(ctx) {
			err := errorOf(capi.Redisx_cache_set(h, key, b, ttlMs))
			k.leaveDirect()
			return err
		}
		return k.callStatus(ctx, func(tag uintptr) error { return capi.Redisx_cache_set_async(h, key, b, ttlMs, tag) })
	})
}

// InvalidateTags invalidates every entry carrying any of tags, written by
// any process in any language: once it returns no read from Redis answers
// such an entry and this process's L1 copies are gone; other processes' L1
// copies go as after a Delete (with tracking, when the server's message
// arrives; without, within their L1 TTL). One round trip per Redis node,
// whatever the number of entries. It fails when Redis cannot be reached,
// whatever the fail policy.
func (c *Cache[T]) InvalidateTags(ctx context.Context, tags ...string) error {
	ictx, done := c.client.core.start(ctx, &Operation{Primitive: "cache", Operation: "invalidate_tags", Name: c.name})
	err := c.invalidateTags(ictx, tags)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (c *Cache[T]) invalidateTags(ctx context.Context, tags []string) error {
	if ctx == nil {
		return nilContext()
	}
	if len(tags) == 0 {
		return nil
	}
	k := c.client.core
	return c.h.use(func(h capi.Cache) error {
		if k.tryDirect(ctx) {
			err := withTags(tags, func(t capi.Tags) error { return errorOf(capi.Redisx_cache_invalidate_tags(h, t)) })
			k.leaveDirect()
			return err
		}
		return k.callStatus(ctx, func(tag uintptr) error {
			return withTags(tags, func(t capi.Tags) error { return capi.Redisx_cache_invalidate_tags_async(h, t, tag) })
		})
	})
}

// Delete deletes key from Redis and this process's L1 and ends any load in
// progress.
func (c *Cache[T]) Delete(ctx context.Context, key string) error {
	ictx, done := c.client.core.start(ctx, &Operation{Primitive: "cache", Operation: "delete", Name: c.name})
	err := c.delete(ictx, key)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (c *Cache[T]) delete(ctx context.Context, key string) error {
	if ctx == nil {
		return nilContext()
	}
	if err := noNUL(key, "cache key"); err != nil {
		return err
	}
	k := c.client.core
	return c.h.use(func(h capi.Cache) error {
		if k.tryDirect(ctx) {
			err := errorOf(capi.Redisx_cache_delete(h, key))
			k.leaveDirect()
			return err
		}
		return k.callStatus(ctx, func(tag uintptr) error { return capi.Redisx_cache_delete_async(h, key, tag) })
	})
}

// GetOrLoad returns the value of key; when nobody has it, load runs once
// across every process (the other callers wait up to the cache's wait for
// its value, woken when it lands) and its result is cached for the cache's
// TTL. A load error matching ErrNotFound caches "not found" and GetOrLoad
// returns ErrNotFound; any other error caches nothing, lets a waiter take
// over at once, and is returned unless a stale value within the
// stale-if-error window is there to serve. Under stale-while-revalidate
// (or XFetch's early refresh) the caller chosen to refresh runs load and
// returns the new value; if that fails it returns the old one.
//
// opts override the cache's TTL, wait and windows for this call
// (LoadTTL, LoadWait, LoadStaleWhileRevalidate, LoadStaleIfError).
func (c *Cache[T]) GetOrLoad(ctx context.Context, key string, load func(context.Context) (T, error), opts ...LoadOption) (T, error) {
	ictx, done := c.client.core.start(ctx, &Operation{Primitive: "cache", Operation: "fetch", Name: c.name})
	if done == nil {
		return c.getOrLoad(ctx, key, load, opts, nil)
	}
	res := &OpResult{}
	v, err := c.getOrLoad(ictx, key, load, opts, res)
	res.Err = err
	done(res)
	return v, err
}

func (c *Cache[T]) getOrLoad(ctx context.Context, key string, load func(context.Context) (T, error), opts []LoadOption, res *OpResult) (T, error) {
	var zero T
	if load == nil {
		return zero, invalid("GetOrLoad: load is nil")
	}
	lc := loadConfig{ttl: c.ttl, wait: c.wait, swr: c.swr, sie: c.sie}
	for _, o := range opts {
		o(&lc)
	}
	if lc.bad != "" {
		return zero, invalid("GetOrLoad: %s must not be negative", lc.bad)
	}
	a, err := c.fetch(ctx, key, false, lc.wait, lc.swr, lc.sie, lc.tags...)
	if err != nil {
		return zero, err
	}
	if res != nil {
		res.CacheOutcome = a.outcome
	}
	if a.state == int(capi.REDISX_CACHE_NEGATIVE) {
		return zero, ErrNotFound
	}
	var fallback T
	hasFallback := false
	if a.value != nil {
		if fallback, err = c.decode(a.value); err == nil {
			hasFallback = true
		} else if a.lease == 0 {
			return zero, err
		}
	}
	if a.lease == 0 {
		return fallback, nil
	}
	defer capi.Redisx_cache_entry_free(a.lease) // abandons the lease unless filled
	v, lerr := load(ctx)
	if errors.Is(lerr, ErrNotFound) {
		_ = c.finish(ctx, func(tag uintptr) error { return capi.Redisx_cache_fill_negative_async(a.lease, tag) },
			func() error { return capi.Redisx_cache_fill_negative(a.lease) })
		return zero, ErrNotFound
	}
	if lerr != nil {
		_ = c.finish(ctx, func(tag uintptr) error { return capi.Redisx_cache_abandon_async(a.lease, tag) },
			func() error { return capi.Redisx_cache_abandon(a.lease) })
		if hasFallback {
			return fallback, nil
		}
		return zero, lerr
	}
	b, err := c.encode(v)
	if err != nil {
		return zero, err
	}
	err = c.finish(ctx, func(tag uintptr) error { return capi.Redisx_cache_fill_async(a.lease, b, lc.ttl, tag) },
		func() error { return capi.Redisx_cache_fill(a.lease, b, lc.ttl) })
	if err != nil && !errors.Is(err, ErrLockNotOwned) {
		return zero, err // e.g. a value above the maximum size: nothing stored
	}
	return v, nil // NOT_OWNER: the lease passed or a set/delete ended the load; the value is still ours
}

// LoadOption overrides a cache default for one GetOrLoad.
type LoadOption func(*loadConfig)

type loadConfig struct {
	ttl, wait, swr, sie int64 // ms
	bad                 string
	tags                []string
}

// LoadTags makes the loaded value carry tags (any bytes, 1..1024 each, at
// most 64), for InvalidateTags: the tags' versions are read before load
// runs, so an invalidation while it runs makes the value stale on arrival.
func LoadTags(tags ...string) LoadOption {
	return func(lc *loadConfig) { lc.tags = append(lc.tags, tags...) }
}

func loadMs(d time.Duration, what string, dst *int64, lc *loadConfig) {
	if d < 0 {
		lc.bad = what
		return
	}
	*dst = millis(d)
}

// LoadTTL sets how long this load's value stays fresh.
func LoadTTL(d time.Duration) LoadOption {
	return func(lc *loadConfig) { loadMs(d, "ttl", &lc.ttl, lc) }
}

// LoadWait sets how long this call waits for another caller's load.
func LoadWait(d time.Duration) LoadOption {
	return func(lc *loadConfig) { loadMs(d, "wait", &lc.wait, lc) }
}

// LoadStaleWhileRevalidate sets this call's stale-while-revalidate window.
func LoadStaleWhileRevalidate(d time.Duration) LoadOption {
	return func(lc *loadConfig) { loadMs(d, "stale-while-revalidate window", &lc.swr, lc) }
}

// LoadStaleIfError sets this call's stale-if-error window.
func LoadStaleIfError(d time.Duration) LoadOption {
	return func(lc *loadConfig) { loadMs(d, "stale-if-error window", &lc.sie, lc) }
}

// finish runs a fill, fill_negative or abandon (blocking or through the
// queue, as every call here).
func (c *Cache[T]) finish(ctx context.Context, async func(tag uintptr) error, blocking func() error) error {
	k := c.client.core
	if k.tryDirect(ctx) {
		err := errorOf(blocking())
		k.leaveDirect()
		return err
	}
	return k.callStatus(ctx, async)
}

// CacheCounters are a cache's counters and gauges (docs/CACHE.md,
// "Observability").
type CacheCounters struct {
	L1Hits, L1Misses, L2Hits, L2Misses    uint64
	Loads, LoadErrors, WaitersWoken       uint64 // WaitersWoken: stampedes avoided
	StaleServed, EarlyRefreshes, FailOpen uint64
	L1Evictions, L1Entries, L1Bytes       uint64 // L1Entries and L1Bytes are gauges
	Invalidations                         uint64 // received under tracking (WithTracking)
}

// Counters returns the cache's counters.
func (c *Cache[T]) Counters() CacheCounters {
	var n [14]uint64
	_ = c.h.use(func(h capi.Cache) error {
		for i := range n {
			n[i] = capi.Redisx_cache_counter_of(h, enumAs(capi.REDISX_CACHE_L1_HITS, i))
		}
		return nil
	})
	return CacheCounters{n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12], n[13]}
}
