package main

// The cache next to go-redis/cache v9 (on go-redis v9, its local cache the
// TinyLFU it ships), in one run against one server:
//
//   - L1 hit: Cache.Get of one key that this process holds, a 100-byte
//     []byte value, one goroutine, on both sides (go-redis/cache: its
//     TinyLFU's Get plus the copy its unmarshal makes; redisx: the core's
//     L1 peek plus the copy out of C).
//   - get-or-load: G goroutines each doing `per` calls of redisx GetOrLoad /
//     go-redis/cache Once over KEYS keys drawn Zipf(s, 1), a loader that
//     returns a 100-byte value at once, TTL 1 h, each round on fresh keys
//     (both start cold and load every key they meet the first time). Both
//     with a local cache of the same number of entries and TTL ("l1") and
//     both without one ("l2"). Per call, on a local miss: redisx runs one
//     EVALSHA of cache_fetch.lua (a hit, or a lease for one loader across
//     every process) and, after a load, one of cache_fill.lua; go-redis/cache
//     does a GET and, after a load, a SET, and single-flights loads only
//     within the process (its singleflight.Group), never across processes.

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"

	gocache "github.com/go-redis/cache/v9"
	goredis "github.com/redis/go-redis/v9"

	"github.com/redisx/redisx/bindings/go"
)

type getOrLoader interface {
	getOrLoad(ctx context.Context, key string) error
}

type redisxGoL struct{ c *redisx.Cache[[]byte] }

func (g redisxGoL) getOrLoad(ctx context.Context, key string) error {
	_, err := g.c.GetOrLoad(ctx, key, func(context.Context) ([]byte, error) { return make([]byte, 100), nil })
	return err
}

type goCacheGoL struct{ c *gocache.Cache }

func (g goCacheGoL) getOrLoad(ctx context.Context, key string) error {
	var v []byte
	return g.c.Once(&gocache.Item{Ctx: ctx, Key: key, Value: &v, TTL: time.Hour,
		Do: func(*gocache.Item) (interface{}, error) { return make([]byte, 100), nil }})
}

// zipfRun: g goroutines, per calls each, keys "<ns>:<zipf draw>"; calls/s.
func zipfRun(ctx context.Context, l getOrLoader, ns string, g, per int, keys uint64, s float64, seed int64) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, g)
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			z := rand.NewZipf(rand.New(rand.NewSource(seed+int64(i))), s, 1, keys-1)
			for j := 0; j < per; j++ {
				if err := l.getOrLoad(ctx, ns+":"+fmt.Sprint(z.Uint64())); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	dt := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(g*per) / dt.Seconds(), nil
}

func benchCachePeers(ctx context.Context, rx *redisx.Client, gr *goredis.Client, rounds, g, per, keys, l1Entries int, s float64) {
	// L1 hit, one key.
	rxL1, err := redisx.NewCache[[]byte](rx, "bench-peer-l1", redisx.WithCodec[[]byte](redisx.BytesCodec{}),
		redisx.WithL1(int64(l1Entries), 64<<20, time.Minute))
	if err != nil {
		fail("NewCache: %v", err)
	}
	gcL1 := gocache.New(&gocache.Options{Redis: gr, LocalCache: gocache.NewTinyLFU(l1Entries, time.Minute), StatsEnabled: true})
	if err := rxL1.Set(ctx, "k", make([]byte, 100), time.Hour); err != nil {
		fail("Set: %v", err)
	}
	if err := gcL1.Set(&gocache.Item{Ctx: ctx, Key: "bench-go-peer-l1:k", Value: make([]byte, 100), TTL: time.Hour}); err != nil {
		fail("go-redis/cache Set: %v", err)
	}
	const n = 200000
	getRx := func() error { _, err := rxL1.Get(ctx, "k"); return err }
	getGc := func() error { var v []byte; return gcL1.Get(ctx, "bench-go-peer-l1:k", &v) }
	perGet := func(get func() error) float64 {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			if err := get(); err != nil {
				fail("Get: %v", err)
			}
		}
		return float64(time.Since(t0).Nanoseconds()) / n
	}
	perGet(getRx) // warm-up
	perGet(getGc)
	var nsRx, nsGc []float64
	for r := 0; r < rounds; r++ {
		nsRx = append(nsRx, perGet(getRx))
		nsGc = append(nsGc, perGet(getGc))
	}
	fmt.Printf("go_cache_l1_hit_redisx_ns=%.0f\n", median(nsRx))
	fmt.Printf("go_cache_l1_hit_gocache_tinylfu_ns=%.0f\n", median(nsGc))
	fmt.Printf("go_cache_l1_hit_ratio=%.3f\n", median(nsGc)/median(nsRx)) // hits/s redisx ÷ peer

	// Get-or-load, Zipf, with and without a local cache.
	fmt.Printf("go_cache_gol_goroutines=%d\ngo_cache_gol_per_goroutine=%d\ngo_cache_gol_keys=%d\ngo_cache_gol_zipf_s=%.2f\ngo_cache_gol_l1_entries=%d\n",
		g, per, keys, s, l1Entries)
	for _, mode := range []string{"l1", "l2"} {
		var rxOpts []redisx.CacheOption
		var local gocache.LocalCache
		if mode == "l1" {
			rxOpts = []redisx.CacheOption{redisx.WithL1(int64(l1Entries), 64<<20, time.Minute)}
			local = gocache.NewTinyLFU(l1Entries, time.Minute)
		} else {
			rxOpts = []redisx.CacheOption{redisx.WithL1(0, 0, 0)}
		}
		rxOpts = append(rxOpts, redisx.WithCodec[[]byte](redisx.BytesCodec{}), redisx.WithCacheTTL(time.Hour))
		var rRx, rGc []float64
		for r := 0; r <= rounds; r++ { // round 0: warm-up, not counted
			// A new cache (and local cache) per round: both start cold.
			c, err := redisx.NewCache[[]byte](rx, fmt.Sprintf("bench-gol-%s-%d", mode, r), rxOpts...)
			if err != nil {
				fail("NewCache: %v", err)
			}
			v, err := zipfRun(ctx, redisxGoL{c}, "k", g, per, uint64(keys), s, int64(r)*1000)
			if err != nil {
				fail("redisx get-or-load: %v", err)
			}
			if mode == "l1" {
				local = gocache.NewTinyLFU(l1Entries, time.Minute)
			}
			gc := gocache.New(&gocache.Options{Redis: gr, LocalCache: local, StatsEnabled: true})
			w, err := zipfRun(ctx, goCacheGoL{gc}, fmt.Sprintf("bench-go-gol-%s-%d", mode, r), g, per, uint64(keys), s, int64(r)*1000)
			if err != nil {
				fail("go-redis/cache Once: %v", err)
			}
			if r > 0 {
				rRx = append(rRx, v)
				rGc = append(rGc, w)
				if r == rounds {
					cn := c.Counters()
					fmt.Printf("go_cache_gol_%s_redisx_counters=l1_hits:%d,l2_hits:%d,loads:%d\n", mode, cn.L1Hits, cn.L2Hits, cn.Loads)
					if st := gc.Stats(); st != nil { // Redis GETs only: local hits are not counted
						fmt.Printf("go_cache_gol_%s_gocache_redis_stats=hits:%d,misses:%d\n", mode, st.Hits, st.Misses)
					}
				}
			}
		}
		fmt.Printf("go_cache_gol_%s_redisx_per_s=%.0f\n", mode, median(rRx))
		fmt.Printf("go_cache_gol_%s_gocache_per_s=%.0f\n", mode, median(rGc))
		fmt.Printf("go_cache_gol_%s_ratio=%.3f\n", mode, median(rRx)/median(rGc))
	}
}
