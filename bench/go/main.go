// Command redisx-bench-go compares the redisx Go binding with the usual Go
// libraries, in one run against one server:
//
//   - locks: acquire+release cycles of redisx and go-redsync/redsync (on
//     go-redis v9), sequentially (one goroutine) and with many goroutines at
//     once, each on its own lock name. Both take the lock with one attempt
//     (redisx TryLock, redsync WithTries(1)) and release it, two round trips
//     per cycle.
//   - rate limiting: GCRA checks of redisx and go-redis/redis_rate/v10 (GCRA
//     on go-redis v9), sequentially and with 50 goroutines, each on its own
//     key, one round trip (one Lua script) per check in both. The limit is
//     high enough that every check is allowed, so both do the same work.
//   - the cache (cache_peers.go): L1 hits and get-or-load over Zipf keys next
//     to go-redis/cache v9 (TinyLFU local cache).
//   - streams (stream_peers.go): publish → handler → ack throughput and
//     delivery latency next to a go-redis XREADGROUP/XACK loop and Watermill.
//
// It prints name=value lines; the ratios are redisx over the peer (above 1:
// redisx did more per second). It reports figures, never judges them.
// Rounds alternate the libraries and the median round is reported, to
// spread the machine's noise evenly.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/go-redsync/redsync/v4"
	goredsync "github.com/go-redsync/redsync/v4/redis/goredis/v9"
	goredis "github.com/redis/go-redis/v9"

	"github.com/redisx/redisx/bindings/go"
)

type locker interface {
	cycle(ctx context.Context, name string) error
}

type redisxLocker struct {
	c   *redisx.Client
	ttl time.Duration
}

func (l redisxLocker) cycle(ctx context.Context, name string) error {
	lk, err := l.c.TryLock(ctx, name, l.ttl)
	if err != nil {
		return err
	}
	return lk.Release(ctx)
}

type redsyncLocker struct {
	rs  *redsync.Redsync
	ttl time.Duration
}

func (l redsyncLocker) cycle(ctx context.Context, name string) error {
	m := l.rs.NewMutex(name, redsync.WithExpiry(l.ttl), redsync.WithTries(1))
	if err := m.LockContext(ctx); err != nil {
		return err
	}
	ok, err := m.UnlockContext(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("unlock of %s reported not ok", name)
	}
	return err
}

// sequential runs n cycles on one goroutine; cycles per second.
func sequential(ctx context.Context, l locker, prefix string, n int) (float64, error) {
	name := prefix + ":seq"
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := l.cycle(ctx, name); err != nil {
			return 0, fmt.Errorf("cycle %d: %w", i, err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// concurrent runs g goroutines of per cycles each, every goroutine on its own
// lock name; cycles per second and the peak OS thread count seen meanwhile.
func concurrent(ctx context.Context, l locker, prefix string, g, per int) (float64, int, error) {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	stop := make(chan struct{})
	peak := make(chan int, 1)
	go func() {
		p := threads()
		for {
			select {
			case <-stop:
				peak <- p
				return
			case <-time.After(5 * time.Millisecond):
				p = max(p, threads())
			}
		}
	}()
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := prefix + ":c:" + strconv.Itoa(i)
			for j := 0; j < per; j++ {
				if err := l.cycle(ctx, name); err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("goroutine %d cycle %d: %w", i, j, err))
					return
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	p := <-peak
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, p, err
	}
	return float64(g*per) / elapsed.Seconds(), p, nil
}

func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "redisx-bench-go: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	url := flag.String("url", os.Getenv("REDISX_URL"), "redis:// URL of the server")
	which := flag.String("bench", "lock,rl,cache,cachepeers,stream", "comma-separated benchmarks to run: lock, rl, cache, cachepeers, stream")
	seqN := flag.Int("seq", 3000, "lock cycles per sequential round")
	goroutines := flag.Int("goroutines", 1000, "goroutines of the concurrent lock rounds")
	per := flag.Int("per", 10, "lock cycles per goroutine in a concurrent round")
	rlSeqN := flag.Int("rl-seq", 5000, "rate-limit checks per sequential round")
	rlGoroutines := flag.Int("rl-goroutines", 50, "goroutines of the concurrent rate-limit rounds")
	rlPer := flag.Int("rl-per", 200, "rate-limit checks per goroutine in a concurrent round")
	rounds := flag.Int("rounds", 3, "rounds per library and mode (median reported)")
	golG := flag.Int("gol-goroutines", 64, "goroutines of the get-or-load rounds")
	golPer := flag.Int("gol-per", 2000, "get-or-load calls per goroutine")
	golKeys := flag.Int("gol-keys", 100000, "keys of the get-or-load rounds (Zipf draws)")
	golL1 := flag.Int("gol-l1", 10000, "local cache entries of both sides")
	golS := flag.Float64("gol-zipf", 1.1, "Zipf exponent s (> 1) of the get-or-load keys")
	stN := flag.Int("stream-n", 20000, "messages per stream throughput round")
	stPub := flag.Int("stream-publishers", 16, "publishing goroutines of the stream rounds")
	stW := flag.Int("stream-workers", 16, "handlers at a time on each side")
	stLat := flag.Int("stream-latency-n", 1000, "messages of the stream latency run (one at a time)")
	flag.Parse()
	if *url == "" {
		fail("no server: pass -url or set REDISX_URL")
	}
	ctx := context.Background()

	rx, err := redisx.Open(*url)
	if err != nil {
		fail("redisx.Open: %v", err)
	}
	defer rx.Close()
	rxBusy, err := redisx.Open(*url, redisx.WithBusyPoll(200*time.Microsecond))
	if err != nil {
		fail("redisx.Open with busy polling: %v", err)
	}
	defer rxBusy.Close()
	opt, err := goredis.ParseURL(*url)
	if err != nil {
		fail("go-redis ParseURL: %v", err)
	}
	gr := goredis.NewClient(opt)
	defer gr.Close()
	if err := gr.Ping(ctx).Err(); err != nil {
		fail("go-redis PING: %v", err)
	}

	fmt.Printf("go_version=%s\n", runtime.Version())
	fmt.Printf("go_gomaxprocs=%d\n", runtime.GOMAXPROCS(0))
	fmt.Printf("go_rounds=%d\n", *rounds)
	fmt.Printf("go_redisx_connections=1\n")
	fmt.Printf("go_redis_pool_size=%d\n", gr.Options().PoolSize)
	for _, b := range strings.Split(*which, ",") {
		switch strings.TrimSpace(b) {
		case "lock":
			benchLocks(ctx, rx, rxBusy, gr, *rounds, *seqN, *goroutines, *per)
		case "rl":
			benchRateLimits(ctx, rx, gr, *rounds, *rlSeqN, *rlGoroutines, *rlPer)
		case "cache":
			benchCacheL1(ctx, rx, *rounds)
		case "cachepeers":
			benchCachePeers(ctx, rx, gr, *rounds, *golG, *golPer, *golKeys, *golL1, *golS)
		case "stream":
			benchStreamPeers(ctx, rx, gr, *rounds, *stN, *stPub, *stW, *stLat)
		default:
			fail("unknown benchmark %q (lock, rl, cache, cachepeers, stream)", b)
		}
	}
}

func benchLocks(ctx context.Context, rx, rxBusy *redisx.Client, gr *goredis.Client, rounds, seqN, goroutines, per int) {
	ttl := 10 * time.Second
	libs := []struct {
		name string
		l    locker
	}{
		{"redisx", redisxLocker{rx, ttl}},
		{"redsync", redsyncLocker{redsync.New(goredsync.NewPool(gr)), ttl}},
		{"redisx_busy_poll", redisxLocker{rxBusy, ttl}}, // WithBusyPoll(200us)
	}

	// Warm up both: connections, script caches, goroutine stacks.
	for _, lib := range libs {
		if _, err := sequential(ctx, lib.l, "bench-go:warm:"+lib.name, 200); err != nil {
			fail("%s warm-up: %v", lib.name, err)
		}
		if _, _, err := concurrent(ctx, lib.l, "bench-go:warm:"+lib.name, goroutines, 1); err != nil {
			fail("%s warm-up: %v", lib.name, err)
		}
	}

	seq := map[string][]float64{}
	conc := map[string][]float64{}
	peak := map[string]int{}
	for r := 0; r < rounds; r++ {
		for i := range libs {
			lib := libs[(i+r)%len(libs)] // alternate who goes first
			prefix := "bench-go:" + lib.name
			s, err := sequential(ctx, lib.l, prefix, seqN)
			if err != nil {
				fail("%s sequential: %v", lib.name, err)
			}
			seq[lib.name] = append(seq[lib.name], s)
			runtime.GC()
			c, p, err := concurrent(ctx, lib.l, prefix, goroutines, per)
			if err != nil {
				fail("%s concurrent: %v", lib.name, err)
			}
			conc[lib.name] = append(conc[lib.name], c)
			peak[lib.name] = max(peak[lib.name], p)
			runtime.GC()
		}
	}

	fmt.Printf("go_seq_cycles_per_round=%d\n", seqN)
	fmt.Printf("go_concurrent_goroutines=%d\n", goroutines)
	fmt.Printf("go_concurrent_cycles_per_round=%d\n", goroutines*per)
	for _, lib := range libs {
		fmt.Printf("go_%s_seq_cycles_per_s=%.0f\n", lib.name, median(seq[lib.name]))
		fmt.Printf("go_%s_concurrent_cycles_per_s=%.0f\n", lib.name, median(conc[lib.name]))
		fmt.Printf("go_%s_concurrent_peak_threads=%d\n", lib.name, peak[lib.name])
	}
	fmt.Printf("go_seq_ratio=%.3f\n", median(seq["redisx"])/median(seq["redsync"]))
	fmt.Printf("go_concurrent_ratio=%.3f\n", median(conc["redisx"])/median(conc["redsync"]))
	fmt.Printf("go_seq_busy_poll_ratio=%.3f\n", median(seq["redisx_busy_poll"])/median(seq["redsync"]))
	fmt.Printf("go_concurrent_busy_poll_ratio=%.3f\n", median(conc["redisx_busy_poll"])/median(conc["redsync"]))
}

// ---- rate limiting ------------------------------------------------------------

// rlRate is the limit of both limiters: far above what the benchmark can
// spend, so every check is allowed and both sides do the same work.
const rlRate = 1_000_000

type checker interface {
	// check makes one check of cost 1; whether it was allowed.
	check(ctx context.Context, key string) (bool, error)
}

type redisxChecker struct{ l *redisx.Limiter }

func (c redisxChecker) check(ctx context.Context, key string) (bool, error) {
	r, err := c.l.Check(ctx, key)
	return r.Allowed, err
}

type redisRateChecker struct {
	l     *redis_rate.Limiter
	limit redis_rate.Limit
}

func (c redisRateChecker) check(ctx context.Context, key string) (bool, error) {
	r, err := c.l.Allow(ctx, key, c.limit)
	if err != nil {
		return false, err
	}
	return r.Allowed > 0, nil
}

// checks runs g goroutines of per checks each, every goroutine on its own
// key; checks per second and how many were denied.
func checks(ctx context.Context, c checker, prefix string, g, per int) (float64, int64, error) {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	var denied atomic.Int64
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := prefix + ":" + strconv.Itoa(i)
			for j := 0; j < per; j++ {
				ok, err := c.check(ctx, key)
				if err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("goroutine %d check %d: %w", i, j, err))
					return
				}
				if !ok {
					denied.Add(1)
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, 0, err
	}
	return float64(g*per) / elapsed.Seconds(), denied.Load(), nil
}

func benchRateLimits(ctx context.Context, rx *redisx.Client, gr *goredis.Client, rounds, seqN, goroutines, per int) {
	rl, err := rx.NewLimiter("bench-go-rl", redisx.GCRA, rlRate, time.Second, redisx.WithBurst(rlRate),
		redisx.WithLimiterFailPolicy(redisx.FailClosed)) // an error must show, not pass as allowed
	if err != nil {
		fail("redisx NewLimiter: %v", err)
	}
	defer rl.Close()
	libs := []struct {
		name string
		c    checker
	}{
		{"redisx", redisxChecker{rl}},
		{"redis_rate", redisRateChecker{redis_rate.NewLimiter(gr), redis_rate.Limit{Rate: rlRate, Burst: rlRate, Period: time.Second}}},
	}
	for _, lib := range libs {
		if _, _, err := checks(ctx, lib.c, "bench-go-rl:warm:"+lib.name, goroutines, 20); err != nil {
			fail("%s warm-up: %v", lib.name, err)
		}
	}
	seq := map[string][]float64{}
	conc := map[string][]float64{}
	denied := map[string]int64{}
	for r := 0; r < rounds; r++ {
		for i := range libs {
			lib := libs[(i+r)%len(libs)]
			prefix := "bench-go-rl:" + lib.name
			s, d1, err := checks(ctx, lib.c, prefix+":seq", 1, seqN)
			if err != nil {
				fail("%s sequential checks: %v", lib.name, err)
			}
			seq[lib.name] = append(seq[lib.name], s)
			runtime.GC()
			c, d2, err := checks(ctx, lib.c, prefix+":conc", goroutines, per)
			if err != nil {
				fail("%s concurrent checks: %v", lib.name, err)
			}
			conc[lib.name] = append(conc[lib.name], c)
			denied[lib.name] += d1 + d2
			runtime.GC()
		}
	}
	fmt.Printf("go_rl_algorithm=gcra\n")
	fmt.Printf("go_rl_seq_checks_per_round=%d\n", seqN)
	fmt.Printf("go_rl_conc_goroutines=%d\n", goroutines)
	fmt.Printf("go_rl_conc_checks_per_round=%d\n", goroutines*per)
	for _, lib := range libs {
		fmt.Printf("go_rl_%s_seq_checks_per_s=%.0f\n", lib.name, median(seq[lib.name]))
		fmt.Printf("go_rl_%s_conc_checks_per_s=%.0f\n", lib.name, median(conc[lib.name]))
		fmt.Printf("go_rl_%s_denied=%d\n", lib.name, denied[lib.name])
	}
	fmt.Printf("go_rl_seq_ratio=%.3f\n", median(seq["redisx"])/median(seq["redis_rate"]))
	fmt.Printf("go_rl_conc_ratio=%.3f\n", median(conc["redisx"])/median(conc["redis_rate"]))
}

// ---- the cache ------------------------------------------------------------------

// benchCacheL1 prints ns per Cache.Get that hits this process's L1 (the
// core's peek, no blocking call, no queue), for a 100-byte []byte value and
// for a small struct through the JSON codec (decoded on every hit); the
// median of rounds of 200,000 gets.
func benchCacheL1(ctx context.Context, rx *redisx.Client, rounds int) {
	type small struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	raw, err := redisx.NewCache[[]byte](rx, "bench-l1-bytes", redisx.WithCodec[[]byte](redisx.BytesCodec{}),
		redisx.WithL1(10000, 64<<20, time.Minute))
	if err != nil {
		fail("NewCache: %v", err)
	}
	js, err := redisx.NewCache[small](rx, "bench-l1-json", redisx.WithL1(10000, 64<<20, time.Minute))
	if err != nil {
		fail("NewCache: %v", err)
	}
	if err := raw.Set(ctx, "k", make([]byte, 100), time.Hour); err != nil {
		fail("Set: %v", err)
	}
	if err := js.Set(ctx, "k", small{1, "x"}, time.Hour); err != nil {
		fail("Set: %v", err)
	}
	const n = 200000
	measure := func(get func() error) float64 {
		var ns []float64
		for r := 0; r < rounds; r++ {
			t0 := time.Now()
			for i := 0; i < n; i++ {
				if err := get(); err != nil {
					fail("Get: %v", err)
				}
			}
			ns = append(ns, float64(time.Since(t0).Nanoseconds())/n)
		}
		return median(ns)
	}
	getRaw := func() error { _, err := raw.Get(ctx, "k"); return err }
	getJSON := func() error { _, err := js.Get(ctx, "k"); return err }
	measure(getRaw) // warm-up
	fmt.Printf("go_cache_l1_hit_bytes_ns=%.0f\n", measure(getRaw))
	fmt.Printf("go_cache_l1_hit_json_ns=%.0f\n", measure(getJSON))
	c := raw.Counters()
	fmt.Printf("go_cache_l1_hits=%d\n", c.L1Hits)
}
