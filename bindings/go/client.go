package redisx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Client is a redisx client: a thread-safe, multiplexing connection pool to
// one Redis server, shared by any number of goroutines. Open it once per
// server and Close it when done.
//
// A call whose ctx can be cancelled is submitted to the C library's
// asynchronous API and completes into a queue that one goroutine per client
// drains (waiting in the network poller on the queue's file descriptor); the
// calling goroutine waits on a channel, so thousands of concurrent calls use
// a handful of OS threads, and ctx.Done() cancels the operation in the
// library at once. A call whose ctx can never be cancelled (ctx.Done() ==
// nil, e.g. context.Background()) runs the library's blocking form on its
// own thread while a connection slot is free (see tryDirect).
type Client struct {
	core *core
}

// core is the part of a Client that its dispatcher goroutine uses; the Client
// wrapper can become unreachable while core lives, which lets a forgotten
// Client be closed by a cleanup. The C handle h stays valid as long as core
// is reachable: Close only shuts the client down (redisx_client_shutdown;
// every later call on h returns REDISX_ERR_CLOSED), and core's own cleanup
// frees h and q once nothing can use them. So no call needs a guard against
// a concurrent Close; every function that passes h to C keeps core alive
// until the call returns (runtime.KeepAlive).
type core struct {
	h capi.Client
	q capi.Queue

	closed atomic.Bool // Close ran: Stats and Prefix answer without asking C

	// direct counts the goroutines inside a blocking C call (tryDirect);
	// at most maxDirect, one per connection.
	direct    atomic.Int32
	maxDirect int32

	pendMu  sync.Mutex
	nextTag uintptr
	pending map[uintptr]chan capi.Item // buffered (1): the dispatcher never blocks on one
	// renewing holds every Lock under KeepAlive by its tag, so that renewal
	// never depends on the caller keeping a reference (the rule of every
	// binding: renewal runs until Release, loss or Close).
	renewing map[uintptr]renewal

	events     *eventPump // runs onEvent, onLog and onState
	onEvent    func(Event)
	onLog      func(LogEntry)
	onState    func(StateChange)
	instr      atomic.Pointer[instrBox] // SetInstrumentation; nil: none
	server     ServerInfo               // from the URL, for instrumentation
	dispatched chan struct{}            // closed when the dispatcher has stopped
	lateMu     sync.Mutex               // serialises drainLate
	closeOnce  sync.Once
}

// renewal is one Lock under KeepAlive and its onLost (may be nil).
type renewal struct {
	lock   *Lock
	onLost func()
}

// Option configures Open.
type Option func(*config)

type config struct {
	set         []func(capi.Options) error
	connections int
	handler     func(Event)
	onLog       func(LogEntry)
	logLevel    LogLevel
	levelSet    bool
	slogger     *slog.Logger
	onState     func(StateChange)
}

func (c *config) add(f func(capi.Options) error) { c.set = append(c.set, f) }

// WithPrefix sets the prefix of every key redisx writes (default "redisx").
// Services that share locks must use the same prefix.
func WithPrefix(prefix string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(prefix, "prefix"); err != nil {
				return err
			}
			return capi.Redisx_options_set_prefix(o, prefix)
		})
	}
}

// WithCommandTimeout bounds each command from submission to reply (default
// 1s). A command not answered in time fails with ErrTimeout.
func WithCommandTimeout(d time.Duration) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_command_timeout_ms(o, millis(d)) })
	}
}

// WithConnectTimeout bounds establishing a connection (default 2s).
func WithConnectTimeout(d time.Duration) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_connect_timeout_ms(o, millis(d)) })
	}
}

// WithConnections sets how many connections the client multiplexes over
// (1..64, default 1: with pipelining one connection usually saturates a
// Redis server).
func WithConnections(n int) Option {
	return func(c *config) {
		c.connections = n
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_connections(o, n) })
	}
}

// WithAuth sets the ACL user and password, overriding the URL's.
func WithAuth(user, password string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(user, "user"); err != nil {
				return err
			}
			if err := noNUL(password, "password"); err != nil {
				return err
			}
			return capi.Redisx_options_set_auth(o, user, password)
		})
	}
}

// WithFailOpenLocks makes lock operations succeed when Redis cannot be
// reached: such a lock excludes nobody (Lock.FailOpen reports it, its
// fencing token is 0). The default is to fail with ErrConnection/ErrTimeout.
func WithFailOpenLocks() Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			return capi.Redisx_options_set_fail_policy(o, capi.REDISX_PRIMITIVE_LOCK, capi.REDISX_FAIL_OPEN)
		})
	}
}

// WithRateLimitFailPolicy sets what rate limiters of this client do when
// Redis cannot be reached: FailOpen (the default) allows the check and says
// so in RateLimitResult.FailOpen (a check that timed out may or may not have
// been counted by the server); FailClosed returns ErrConnection/ErrTimeout. A limiter can override it (WithLimiterFailPolicy).
func WithRateLimitFailPolicy(p FailPolicy) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			return capi.Redisx_options_set_fail_policy(o, capi.REDISX_PRIMITIVE_RATELIMIT, enumAs(capi.REDISX_FAIL_CLOSED, int(p)))
		})
	}
}

// WithIdempotencyFailPolicy sets what BeginIdempotent does when Redis cannot
// be reached: FailClosed (the default) returns ErrConnection/ErrTimeout;
// FailOpen answers IdemNew with IdemRecord.FailOpen set, and nothing then
// protects against duplicates.
func WithIdempotencyFailPolicy(p FailPolicy) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			return capi.Redisx_options_set_fail_policy(o, capi.REDISX_PRIMITIVE_IDEMPOTENCY, enumAs(capi.REDISX_FAIL_CLOSED, int(p)))
		})
	}
}

// WithEventHandler receives one Event per finished operation, in order, on a
// goroutine of its own (a slow handler delays later events, not operations).
// Close waits until the handler has seen every event: do not call Close from
// the handler.
func WithEventHandler(h func(Event)) Option {
	return func(c *config) { c.handler = h }
}

// WithLogHandler receives the library's log lines at LogWarn and above (see
// WithLogLevel), in order, on the goroutine that runs the event handler:
// the lines come through the client's queue, never a C callback. Close
// waits until the handler has seen every line: do not call Close from it.
func WithLogHandler(h func(LogEntry)) Option {
	return func(c *config) { c.onLog = h }
}

// WithLogger passes the library's log lines to a log/slog logger, at the
// levels it has enabled (unless WithLogLevel says otherwise), with the
// attribute "library"="redisx". With WithLogHandler too, both get them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.slogger = l }
}

// WithLogLevel sets the least severe level WithLogHandler receives (default
// LogWarn).
func WithLogLevel(l LogLevel) Option {
	return func(c *config) { c.logLevel, c.levelSet = l, true }
}

// WithStateHandler receives every state change of the client's connections
// (connected, disconnected, reconnecting), in order, on the goroutine that
// runs the event handler. Close waits until the handler has seen every
// change: do not call Close from it.
func WithStateHandler(h func(StateChange)) Option {
	return func(c *config) { c.onState = h }
}

// WithReconnectBackoff sets the delays between reconnection attempts: the
// first retry after a drop is immediate, then the delay doubles from min up
// to max, each drawn with jitter in [delay/2, delay]. 1ms <= min <= max <=
// 1h, else ErrInvalidArgument; the default is 50ms..2s (the library's).
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			return capi.Redisx_options_set_reconnect_backoff_ms(o, millis(min), millis(max))
		})
	}
}

// WithCircuitBreaker turns on the core's circuit breaker (off by default):
// after failures connection failures (a connection lost or not made, a
// command timed out) within window, calls fail at once with
// ErrConnection (fail-open primitives answer fail-open at once) instead of
// waiting for their timeout, until a reconnect or a probe after open
// succeeds (docs/RESILIENCE.md). One breaker per client, one per node of a
// cluster. failures 0 turns it off; 1..1000000 with window and open in
// 1ms..1h, else ErrInvalidArgument.
func WithCircuitBreaker(failures int, window, open time.Duration) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			return capi.Redisx_options_set_circuit_breaker(o, failures, millis(window), millis(open))
		})
	}
}

// WithBusyPoll turns on busy polling (off by default): a thread waiting
// for a reply — the goroutine's thread in a blocking call, the I/O thread
// while replies are due — spins on the socket for up to d before it
// sleeps (the core's redisx_options_set_busy_poll_us). Lower latency for
// CPU time; worth it where cores are idle. 0..100ms (rounded up to whole
// microseconds), else ErrInvalidArgument.
func WithBusyPoll(d time.Duration) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			us := int64(d / time.Microsecond)
			if d > 0 && d%time.Microsecond != 0 {
				us++
			}
			return capi.Redisx_options_set_busy_poll_us(o, us)
		})
	}
}

// WithCacheTrackingBcast runs the client tracking of this client's caches
// with WithTracking(true) in BCAST mode (off by default; the core's
// redisx_options_set_cache_tracking_bcast): the server tells of every
// write under "<prefix>:cache:", read or not, with no tracking table and
// nothing tracked per data connection (docs/CACHE.md).
func WithCacheTrackingBcast(on bool) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			v := 0
			if on {
				v = 1
			}
			return capi.Redisx_options_set_cache_tracking_bcast(o, v)
		})
	}
}

// WithClusterSeeds makes the client talk to a Redis Cluster through these
// seed nodes ("host:port" each, or "h1:p1,h2:p2"), as a redis+cluster://
// URL names them: the core reads the slot map from the first seed that
// answers and sends every command to the master of its keys' slot
// (docs/CLUSTER.md). The URL's user, password and TLS apply to every node.
// Malformed seeds give ErrInvalidURL.
func WithClusterSeeds(seeds ...string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			list := strings.Join(seeds, ",")
			if err := noNUL(list, "cluster seeds"); err != nil {
				return err
			}
			return capi.Redisx_options_set_cluster_seeds(o, list)
		})
	}
}

// WithSentinels makes the client find its master through Redis Sentinel, as
// a redis+sentinel://s1:26379,s2:26379/master URL says: the core asks these
// sentinels ("host:port" each, or "h1:p1,h2:p2"; port 26379 when left out)
// for master's address on every (re)connect and follows a failover
// (docs/SENTINEL.md). The URL's user, password and database are the
// master's. Malformed lists give ErrInvalidURL.
func WithSentinels(master string, sentinels ...string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			list := strings.Join(sentinels, ",")
			if err := noNUL(list, "sentinels"); err != nil {
				return err
			}
			if err := noNUL(master, "sentinel master name"); err != nil {
				return err
			}
			return capi.Redisx_options_set_sentinels(o, master, list)
		})
	}
}

// WithSentinelAuth sets the sentinels' own ACL user ("" for none) and
// password (default: no AUTH to the sentinels).
func WithSentinelAuth(user, password string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(user, "sentinel user"); err != nil {
				return err
			}
			if err := noNUL(password, "sentinel password"); err != nil {
				return err
			}
			return capi.Redisx_options_set_sentinel_auth(o, user, password)
		})
	}
}

// WithEventKeys puts the key name (the lock name, ...) into events; off by
// default because names can be personal data.
func WithEventKeys() Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_event_keys(o, 1) })
	}
}

// Open creates a client for the server at url:
// redis://[user[:password]@]host[:port][/db], the same over TLS as
// rediss://... (see WithTLSCAFile and the other WithTLS options),
// unix:///path.sock[?db=N], or a Redis Cluster's seed nodes as
// redis+cluster://host1:7000,host2:7001 (rediss+cluster:// over TLS; see
// WithClusterSeeds), or a master found through Redis Sentinel as
// redis+sentinel://s1:26379,s2:26379/mymaster[/db] (rediss+sentinel:// over
// TLS; see WithSentinels).
// It connects in the background: an unreachable server is not an error
// here, but operations fail until it is reachable. Malformed URLs give
// ErrInvalidURL, bad options ErrInvalidArgument.
func Open(url string, opts ...Option) (*Client, error) {
	cfg := config{logLevel: LogWarn, connections: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.slogger != nil {
		cfg.onLog, cfg.logLevel = toSlog(cfg.slogger, cfg.onLog, cfg.logLevel, cfg.levelSet)
	}
	if err := noNUL(url, "url"); err != nil {
		return nil, err
	}
	o, err := capi.Redisx_options_new().Get()
	if err != nil {
		return nil, errorOf(err)
	}
	defer capi.Redisx_options_free(o)
	if err := capi.Redisx_options_set_url(o, url); err != nil {
		return nil, errorOf(err)
	}
	for _, set := range cfg.set {
		if err := set(o); err != nil {
			return nil, errorOf(err)
		}
	}
	q, err := capi.Redisx_queue_new().Get()
	if err != nil {
		return nil, errorOf(err)
	}
	what := capi.REDISX_QUEUE_LOCK_LOST
	if cfg.handler != nil {
		what |= capi.REDISX_QUEUE_EVENTS
	}
	if cfg.onLog != nil {
		what |= capi.REDISX_QUEUE_LOGS
		// No C callback (NULL): this only sets the least severe level,
		// which filters the queue's log lines too.
		if err := capi.Redisx_options_set_log_cb(o, enumAs(capi.REDISX_LOG_WARN, int(cfg.logLevel)), 0); err != nil {
			capi.Redisx_queue_free(q)
			return nil, errorOf(err)
		}
	}
	if cfg.onState != nil {
		what |= capi.REDISX_QUEUE_STATES
	}
	if err := capi.Redisx_options_set_queue(o, q, what); err != nil {
		capi.Redisx_queue_free(q)
		return nil, errorOf(err)
	}
	h, err := capi.Redisx_client_open(o).Get()
	if err != nil {
		capi.Redisx_queue_free(q)
		return nil, errorOf(err)
	}
	k := &core{
		h:          h,
		q:          q,
		maxDirect:  int32(max(cfg.connections, 1)),
		nextTag:    1,
		pending:    map[uintptr]chan capi.Item{},
		renewing:   map[uintptr]renewal{},
		dispatched: make(chan struct{}),
		onEvent:    cfg.handler,
		onLog:      cfg.onLog,
		onState:    cfg.onState,
		server:     serverOf(h),
	}
	if cfg.handler != nil || cfg.onLog != nil || cfg.onState != nil {
		k.events = newEventPump()
	}
	go k.dispatch()
	// The handles are freed when core is unreachable: after Close (or the
	// Client's cleanup) stopped the dispatcher, and once no Client, Lock,
	// IdemRecord or call in progress refers to core any more.
	runtime.AddCleanup(k, func(hq [2]uintptr) {
		capi.Redisx_client_close(capi.Client(hq[0]))
		capi.Redisx_queue_free(capi.Queue(hq[1]))
	}, [2]uintptr{uintptr(h), uintptr(q)})
	c := &Client{core: k}
	// A Client dropped without Close would keep its I/O thread and
	// dispatcher forever: close it once it is unreachable (locks keep their
	// Client reachable).
	runtime.AddCleanup(c, func(k *core) { k.close() }, k)
	return c, nil
}

// Close stops lock waits and automatic renewals, lets commands already sent
// finish within their timeout, fails every other operation with ErrClosed,
// and releases the client's threads. Calls racing Close, and every later
// call, return ErrClosed (the C handle lives on until nothing refers to the
// client). Locks are not released (their leases expire); their methods
// return ErrClosed afterwards. Close is idempotent.
func (c *Client) Close() error {
	c.core.close()
	return nil
}

func (k *core) close() {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		// Completes every outstanding operation into the queue, then stops
		// the I/O thread; the handle stays valid for calls racing this one.
		capi.Redisx_client_shutdown(k.h)
		capi.Redisx_queue_shutdown(k.q)
		<-k.dispatched
		// Renewal has stopped: the locks it held may be collected now.
		k.pendMu.Lock()
		clear(k.renewing)
		k.pendMu.Unlock()
		if k.events != nil {
			k.events.close()
		}
	})
}

// Prefix returns the client's key prefix ("" once closed).
func (c *Client) Prefix() string {
	k := c.core
	if k.closed.Load() {
		return ""
	}
	p := capi.Redisx_client_prefix(k.h)
	runtime.KeepAlive(k)
	return p
}

// ---- completions ----------------------------------------------------------

// dispatch drains the queue and hands each completion to the goroutine
// waiting for it (by its tag). It waits in Go's network poller on the
// queue's file descriptor, so no OS thread sits blocked in C and the
// goroutines it wakes run at once on its P.
func (k *core) dispatch() {
	defer close(k.dispatched)
	rc, f := k.pollable()
	if rc == nil {
		k.dispatchBlocking()
		return
	}
	defer f.Close()
	_ = rc.Read(func(uintptr) bool {
		for {
			it, err := capi.Redisx_queue_pop(k.q, 0).Get()
			if err != nil {
				// ERR_EMPTY: wait for the fd; ERR_CLOSED: shut down and drained.
				return !isStatus(err, int(capi.REDISX_ERR_EMPTY))
			}
			k.handle(it)
		}
	})
}

// pollable wraps a duplicate of the queue's fd (the library owns the original
// and forbids closing it) for the network poller; nil if that fails.
func (k *core) pollable() (syscall.RawConn, *os.File) {
	fd, err := syscall.Dup(capi.Redisx_queue_fd(k.q))
	if err != nil {
		return nil, nil
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil
	}
	f := os.NewFile(uintptr(fd), "redisx-queue")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil
	}
	return rc, f
}

// dispatchBlocking is the fallback: one goroutine blocked in
// redisx_queue_pop (one OS thread).
func (k *core) dispatchBlocking() {
	for {
		it, err := capi.Redisx_queue_pop(k.q, -1).Get()
		if err != nil {
			if isStatus(err, int(capi.REDISX_ERR_EMPTY)) {
				continue
			}
			return
		}
		k.handle(it)
	}
}

func isStatus(err error, code int) bool {
	var st *capi.Status
	return errors.As(err, &st) && st.Code == code
}

func (k *core) handle(it capi.Item) {
	switch capi.Redisx_item_kind_of(it) {
	case capi.REDISX_ITEM_COMPLETION:
		k.complete(capi.Redisx_item_user(it), it)
	case capi.REDISX_ITEM_EVENT:
		if k.onEvent != nil {
			ev, h := eventOf(capi.Redisx_item_event(it)), k.onEvent
			k.events.push(func() { h(ev) })
		}
		capi.Redisx_item_free(it)
	case capi.REDISX_ITEM_LOG:
		if k.onLog != nil {
			e := LogEntry{Level: LogLevel(int(capi.Redisx_item_log_level(it))), Message: capi.Redisx_item_message(it)}
			h := k.onLog
			k.events.push(func() { h(e) })
		}
		capi.Redisx_item_free(it)
	case capi.REDISX_ITEM_STATE:
		if k.onState != nil {
			sc := StateChange{
				Connection: capi.Redisx_item_connection(it),
				State:      ConnState(int(capi.Redisx_item_state(it))),
				Detail:     capi.Redisx_item_message(it),
				Node:       capi.Redisx_item_node(it),
			}
			h := k.onState
			k.events.push(func() { h(sc) })
		}
		capi.Redisx_item_free(it)
	case capi.REDISX_ITEM_LOCK_LOST:
		tag := capi.Redisx_item_user(it)
		capi.Redisx_item_free(it)
		k.pendMu.Lock()
		r := k.renewing[tag]
		delete(k.renewing, tag)
		k.pendMu.Unlock()
		if r.onLost != nil {
			go r.onLost()
		}
	default:
		capi.Redisx_item_free(it)
	}
}

func (k *core) complete(tag uintptr, it capi.Item) {
	k.pendMu.Lock()
	ch := k.pending[tag]
	delete(k.pending, tag)
	k.pendMu.Unlock()
	if ch == nil { // nobody waits (cannot happen: every call waits for its completion)
		capi.Redisx_item_free(it)
		return
	}
	ch <- it
}

// drainLate hands out what reached the queue after the dispatcher stopped:
// an asynchronous call that passed the library's closed check just before
// Close completes with REDISX_ERR_CLOSED on its own thread, into the queue,
// before the call returns.
func (k *core) drainLate() {
	k.lateMu.Lock()
	defer k.lateMu.Unlock()
	for {
		it, err := capi.Redisx_queue_pop(k.q, 0).Get()
		if err != nil {
			return
		}
		k.handle(it)
	}
}

// wait waits for the completion on ch, draining the queue itself once the
// dispatcher has stopped (Close).
func (k *core) wait(ch chan capi.Item) capi.Item {
	select {
	case it := <-ch:
		return it
	case <-k.dispatched:
		// The item was queued before the call returned: either the
		// dispatcher delivered it, or this drain (or a concurrent one)
		// finds it.
		k.drainLate()
		return <-ch
	}
}

// call submits one asynchronous operation (submit gets the tag to pass as
// `user`) and waits for its completion item. When ctx is done first, the
// operation is cancelled in the library (redisx_cancel with its tag), which
// completes it promptly with REDISX_ERR_CANCELLED: call then returns an
// error that is ctx.Err() (errors.Is works) and ErrCancelled. A lock or NEW
// record its command took anyway is released or failed by the library. An
// operation that completed before the cancellation took effect returns its
// ordinary result. The caller owns and frees the item.
func (k *core) call(ctx context.Context, submit func(tag uintptr) error) (capi.Item, error) {
	if ctx == nil {
		return 0, nilContext()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ch := make(chan capi.Item, 1)
	k.pendMu.Lock()
	tag := k.nextTag
	k.nextTag++
	k.pending[tag] = ch
	k.pendMu.Unlock()

	if err := submit(tag); err != nil {
		k.pendMu.Lock()
		delete(k.pending, tag)
		k.pendMu.Unlock()
		runtime.KeepAlive(k)
		return 0, errorOf(err)
	}
	var it capi.Item
	select {
	case it = <-ch:
	case <-ctx.Done():
		// ERR_CLOSED here means Close completes the operation instead.
		_ = capi.Redisx_cancel(k.h, tag)
		it = k.wait(ch)
	case <-k.dispatched:
		it = k.wait(ch)
	}
	runtime.KeepAlive(k)
	if capi.Redisx_item_status(it) == codeCancelled {
		err := cancelled(ctx, capi.Redisx_item_message(it))
		capi.Redisx_item_free(it)
		return 0, err
	}
	return it, nil
}

// cancelled is the error of an operation cancelled because ctx is done:
// both ctx.Err() and an *Error of ErrCancelled.
func cancelled(ctx context.Context, detail string) error {
	cause := ctx.Err()
	if cause == nil { // cannot happen: only a done ctx cancels
		cause = context.Canceled
	}
	return fmt.Errorf("%w (%w)", cause, newError(codeCancelled, detail))
}

// tryDirect reports whether a call with ctx should use the library's
// blocking form on the calling goroutine's thread instead of the
// asynchronous form and the queue: only when ctx can never be cancelled
// (the library cannot cancel a blocking call) and fewer goroutines than the
// client has connections are in a blocking call already. The library then
// does the round trip on this thread when a connection is idle (no hand-off
// to its I/O thread, no queue, no channel), as go-redis does on a
// goroutine; the bound keeps many goroutines from pinning as many OS
// threads, so the rest go through the queue. A true result must be
// followed by leaveDirect.
func (k *core) tryDirect(ctx context.Context) bool {
	if ctx == nil || ctx.Done() != nil {
		return false
	}
	if k.direct.Add(1) > k.maxDirect {
		k.direct.Add(-1)
		return false
	}
	return true
}

func (k *core) leaveDirect() {
	k.direct.Add(-1)
	runtime.KeepAlive(k)
}

// callStatus runs an operation whose completion carries only a status.
func (k *core) callStatus(ctx context.Context, submit func(tag uintptr) error) error {
	it, err := k.call(ctx, submit)
	if err != nil {
		return err
	}
	err = status(it)
	capi.Redisx_item_free(it)
	return err
}

// status reads a completion's status: nil, or the *Error with its detail.
func status(it capi.Item) error {
	if st := capi.Redisx_item_status(it); st != 0 {
		return newError(st, capi.Redisx_item_message(it))
	}
	return nil
}

// ---- raw commands -----------------------------------------------------------

// Do runs one Redis command, e.g. Do(ctx, "SET", "k", []byte{0, 1}). Arguments
// may be string, []byte, any integer, float32/64 or bool; values are binary
// safe. The reply is nil (nil reply), []byte (bulk string), string (status
// reply such as "OK"), int64, or []any of those; an error reply is returned
// as an *Error wrapping ErrServer (inside an array it is an *Error element).
// Not for blocking commands (BLPOP, SUBSCRIBE, ...).
func (c *Client) do(ctx context.Context, args []any) (any, error) {
	argv := make([][]byte, len(args))
	for i, a := range args {
		b, err := argBytes(a)
		if err != nil {
			return nil, invalid("argument %d: %v", i, err)
		}
		argv[i] = b
	}
	k := c.core
	var r capi.Reply
	if k.tryDirect(ctx) {
		var err error
		r, err = capi.Redisx_command(k.h, argv).Get()
		k.leaveDirect()
		if err != nil {
			return nil, errorOf(err)
		}
	} else {
		it, err := k.call(ctx, func(tag uintptr) error { return capi.Redisx_command_async(k.h, argv, tag) })
		if err != nil {
			return nil, err
		}
		if err := status(it); err != nil {
			capi.Redisx_item_free(it)
			return nil, err
		}
		r = capi.Redisx_item_take_reply(it)
		capi.Redisx_item_free(it)
	}
	defer capi.Redisx_reply_free(r)
	v := replyValue(r)
	if e, ok := v.(*Error); ok {
		return nil, e
	}
	return v, nil
}

func argBytes(a any) ([]byte, error) {
	switch v := a.(type) {
	case []byte:
		if v == nil {
			return []byte{}, nil
		}
		return v, nil
	case string:
		return []byte(v), nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case uint:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(nil, v, 10), nil
	case float32:
		return strconv.AppendFloat(nil, float64(v), 'g', -1, 32), nil
	case float64:
		return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
	case bool:
		if v {
			return []byte("1"), nil
		}
		return []byte("0"), nil
	default:
		return nil, fmt.Errorf("unsupported type %T", a)
	}
}

func replyValue(r capi.Reply) any {
	switch capi.Redisx_reply_type_of(r) {
	case capi.REDISX_REPLY_STRING:
		return capi.Redisx_reply_string(r)
	case capi.REDISX_REPLY_STATUS:
		return string(capi.Redisx_reply_string(r))
	case capi.REDISX_REPLY_INTEGER:
		return capi.Redisx_reply_integer(r)
	case capi.REDISX_REPLY_ERROR:
		return newError(codeServer, string(capi.Redisx_reply_string(r)))
	case capi.REDISX_REPLY_ARRAY:
		n := capi.Redisx_reply_elements(r)
		out := make([]any, n)
		for i := range out {
			out[i] = replyValue(capi.Redisx_reply_element(r, int64(i)))
		}
		return out
	default:
		return nil
	}
}

// ---- stats ------------------------------------------------------------------

// Stats is a snapshot of a client's counters and latency histograms, taken
// without any per-operation callback (for Prometheus or OpenTelemetry
// exporters).
type Stats struct {
	Connects         uint64 // successful (re)connections
	Disconnects      uint64 // connections lost
	ConnectFailures  uint64 // failed connection attempts
	ScriptReloads    uint64 // NOSCRIPT answered by reloading a script
	InFlight         uint64 // operations not yet completed
	ConnectionsUp    uint64 // connections serving now
	CircuitOpens     uint64 // times a circuit breaker opened
	CircuitRejected  uint64 // calls a circuit breaker failed at once
	CircuitsOpen     uint64 // breakers open or half-open now (one per cluster node)
	Wakeups          uint64 // wake-up messages received (a release or completion waited for)
	ClusterMoved     uint64 // MOVED replies followed
	ClusterAsk       uint64 // ASK replies followed
	ClusterRetries   uint64 // TRYAGAIN, CLUSTERDOWN or LOADING retried
	ClusterRefreshes uint64 // slot map refreshes started
	Operations       []OperationStats
}

// OperationStats are the counters of one (primitive, operation) series.
type OperationStats struct {
	Primitive  string // "client", "lock", "ratelimit", "idempotency"
	Operation  string // "command", "acquire", ..., "check", "peek", "reset", "begin", "complete", "fail"
	Calls      uint64 // operations finished
	OK         uint64 // ... with success
	Rejected   uint64 // ... with a domain answer (ErrLockHeld, ErrLockNotOwned)
	Errors     uint64 // ... with any other error
	Timeouts   uint64 // ... of which ErrTimeout
	FailOpen   uint64 // ... turned into success by a fail-open policy
	RoundTrips uint64 // commands written to Redis
	Latency    []LatencyBucket
	P50        time.Duration // upper bound of the bucket holding the quantile
	P90        time.Duration
	P99        time.Duration
}

// LatencyBucket counts the operations whose duration fell in (previous
// bucket's bound, UpperBound]; the last bucket's bound is the largest
// Duration.
type LatencyBucket struct {
	UpperBound time.Duration
	Count      uint64
}

// MetricType is the kind of a MetricFamily.
type MetricType int

const (
	MetricCounter   MetricType = 0
	MetricGauge     MetricType = 1
	MetricHistogram MetricType = 2
)

// MetricFamily is one of the core's metric families (docs/METRICS.md): the
// names, labels and values every language exports. Counter names end in
// "_total"; durations are in seconds. OTelName and Unit are its
// OpenTelemetry instrument's name and UCUM unit (docs/OPENTELEMETRY.md),
// the core's own, as every package exports them.
type MetricFamily struct {
	Name, Help     string
	OTelName, Unit string
	Type           MetricType
	LabelNames     []string
	Samples        []MetricSample
}

// MetricSample is a family's sample: its label values (in LabelNames'
// order) and value; for a histogram Value is the sum, Count the number of
// observations and Cumulative the counts at Metrics.Bounds.
type MetricSample struct {
	LabelValues []string
	Value       float64
	Count       uint64
	Cumulative  []uint64
}

// Metrics is a collection of the core's metric families; Bounds are the
// histograms' finite bucket bounds in seconds (the OpenTelemetry advisory
// bounds of db.client.operation.duration).
type Metrics struct {
	Families []MetricFamily
	Bounds   []float64
}

// Metrics collects the client's metric families now (for exporters: see
// package redisxprom); a closed client gives the zero Metrics.
func (c *Client) Metrics() Metrics {
	k := c.core
	if k.closed.Load() {
		return Metrics{}
	}
	m, err := capi.Redisx_metrics_collect(k.h).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return Metrics{}
	}
	defer capi.Redisx_metrics_free(m)
	var out Metrics
	nb := capi.Redisx_metrics_bucket_count(m)
	for b := 0; b < nb; b++ {
		out.Bounds = append(out.Bounds, capi.Redisx_metrics_bucket_bound(m, b))
	}
	for f := 0; f < capi.Redisx_metrics_families(m); f++ {
		fam := MetricFamily{
			Name:     capi.Redisx_metrics_name(m, f),
			Help:     capi.Redisx_metrics_help(m, f),
			OTelName: capi.Redisx_metrics_otel_name(m, f),
			Unit:     capi.Redisx_metrics_unit(m, f),
			Type:     MetricType(capi.Redisx_metrics_type(m, f)),
		}
		nl := capi.Redisx_metrics_label_count(m, f)
		for l := 0; l < nl; l++ {
			fam.LabelNames = append(fam.LabelNames, capi.Redisx_metrics_label_name(m, f, l))
		}
		for s := 0; s < capi.Redisx_metrics_samples(m, f); s++ {
			smp := MetricSample{Value: capi.Redisx_metrics_value(m, f, s)}
			for l := 0; l < nl; l++ {
				smp.LabelValues = append(smp.LabelValues, capi.Redisx_metrics_label_value(m, f, s, l))
			}
			if fam.Type == MetricHistogram {
				smp.Count = capi.Redisx_metrics_count(m, f, s)
				for b := 0; b < nb; b++ {
					smp.Cumulative = append(smp.Cumulative, capi.Redisx_metrics_cumulative(m, f, s, b))
				}
			}
			fam.Samples = append(fam.Samples, smp)
		}
		out.Families = append(out.Families, fam)
	}
	return out
}

// Stats takes a snapshot; a closed client gives the zero Stats.
func (c *Client) Stats() Stats {
	k := c.core
	if k.closed.Load() {
		return Stats{}
	}
	s, err := capi.Redisx_client_stats(k.h).Get()
	runtime.KeepAlive(k)
	if err != nil {
		return Stats{}
	}
	defer capi.Redisx_stats_free(s)
	out := Stats{
		Connects:         capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CONNECTS),
		Disconnects:      capi.Redisx_stats_client(s, capi.REDISX_CLIENT_DISCONNECTS),
		ConnectFailures:  capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CONNECT_FAILURES),
		ScriptReloads:    capi.Redisx_stats_client(s, capi.REDISX_CLIENT_SCRIPT_RELOADS),
		InFlight:         capi.Redisx_stats_client(s, capi.REDISX_CLIENT_IN_FLIGHT),
		ConnectionsUp:    capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CONNECTIONS_UP),
		CircuitOpens:     capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CIRCUIT_OPENS),
		CircuitRejected:  capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CIRCUIT_REJECTED),
		CircuitsOpen:     capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CIRCUITS_OPEN),
		Wakeups:          capi.Redisx_stats_client(s, capi.REDISX_CLIENT_WAKEUPS),
		ClusterMoved:     capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CLUSTER_MOVED),
		ClusterAsk:       capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CLUSTER_ASK),
		ClusterRetries:   capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CLUSTER_RETRIES),
		ClusterRefreshes: capi.Redisx_stats_client(s, capi.REDISX_CLIENT_CLUSTER_REFRESHES),
	}
	buckets := capi.Redisx_stats_buckets(s)
	for i := 0; i < capi.Redisx_stats_series(s); i++ {
		op := OperationStats{
			Primitive:  capi.Redisx_stats_primitive(s, i),
			Operation:  capi.Redisx_stats_operation(s, i),
			Calls:      capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_CALLS),
			OK:         capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_OK),
			Rejected:   capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_REJECTED),
			Errors:     capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_ERRORS),
			Timeouts:   capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_TIMEOUTS),
			FailOpen:   capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_FAIL_OPEN),
			RoundTrips: capi.Redisx_stats_counter(s, i, capi.REDISX_COUNTER_ROUND_TRIPS),
			P50:        time.Duration(capi.Redisx_stats_quantile_ns(s, i, 0.5)),
			P90:        time.Duration(capi.Redisx_stats_quantile_ns(s, i, 0.9)),
			P99:        time.Duration(capi.Redisx_stats_quantile_ns(s, i, 0.99)),
			Latency:    make([]LatencyBucket, buckets),
		}
		for b := range op.Latency {
			op.Latency[b] = LatencyBucket{
				UpperBound: time.Duration(capi.Redisx_stats_bucket_upper_ns(s, b)),
				Count:      capi.Redisx_stats_bucket_count(s, i, b),
			}
		}
		out.Operations = append(out.Operations, op)
	}
	return out
}

// Operation returns the series of (primitive, operation), if any.
func (s Stats) Operation(primitive, operation string) (OperationStats, bool) {
	for _, op := range s.Operations {
		if op.Primitive == primitive && op.Operation == operation {
			return op, true
		}
	}
	return OperationStats{}, false
}

// ---- helpers ----------------------------------------------------------------

// millis converts a duration to whole milliseconds, rounding a positive
// duration up so that it never becomes 0; the library checks the range.
func millis(d time.Duration) int64 {
	if d <= 0 {
		return int64(d / time.Millisecond)
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// nilContext is the error of every call given a nil context.Context: like
// net/http's NewRequestWithContext, an error rather than a panic (pass
// context.Background() or context.TODO()).
func nilContext() error { return invalid("nil context.Context (use context.Background())") }

// noNUL refuses strings that C would silently cut at their first NUL byte.
func noNUL(s, what string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid("%s contains a NUL byte", what)
	}
	return nil
}

// enumAs converts v to the Go type SWIG gave the C enum of like: Debian's
// SWIG 4.1 maps C enums to int, later versions to named types
// (capi.Redisx_fail_policy, ...), so the binding never names them.
func enumAs[T ~int](like T, v int) T {
	_ = like
	return T(v)
}

var slogLevels = [...]slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

// toSlog makes the log handler that passes the library's lines to l (after
// also, when set), and the least severe level to ask the core for: the
// given one when set, else the least severe l has enabled.
func toSlog(l *slog.Logger, also func(LogEntry), level LogLevel, levelSet bool) (func(LogEntry), LogLevel) {
	if !levelSet {
		level = LogError
		for i, sl := range slogLevels {
			if l.Enabled(context.Background(), sl) {
				level = LogLevel(i)
				break
			}
		}
	}
	return func(e LogEntry) {
		if also != nil {
			also(e)
		}
		sl := slog.LevelError
		if e.Level >= 0 && int(e.Level) < len(slogLevels) {
			sl = slogLevels[e.Level]
		}
		l.Log(context.Background(), sl, e.Message, "library", "redisx")
	}, level
}
