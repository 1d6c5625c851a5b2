package redisx

import (
	"strconv"
	"sync"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Event describes one finished operation (see WithEventHandler).
type Event struct {
	Primitive  string        // "client", "lock", "ratelimit", "idempotency"
	Operation  string        // "command", "acquire", "release", "extend", "renew", "inspect", "check", "peek", "reset", "begin", "complete", "fail"
	Status     string        // the outcome's status name: "OK", "ERR_LOCKED", ...
	Err        error         // the outcome as an *Error; nil on success
	FailOpen   bool          // Redis was unreachable and the fail-open policy turned that into success
	Duration   time.Duration // from the call to its completion
	RoundTrips int           // commands written to Redis for it
	Key        string        // the key name, with WithEventKeys; "" otherwise
	Node       string        // "host:port" the last command went to (a cluster's master); "" when none was sent
}

// LogLevel is the severity of a LogEntry; the numbers are the C library's
// (redisx_log_level) and never change.
type LogLevel int

const (
	LogDebug LogLevel = 0
	LogInfo  LogLevel = 1
	LogWarn  LogLevel = 2 // the default least severe level passed on
	LogError LogLevel = 3
)

var logLevelNames = [...]string{"debug", "info", "warn", "error"}

// String returns the name every binding uses: "debug", "info", "warn",
// "error".
func (l LogLevel) String() string {
	if l >= 0 && int(l) < len(logLevelNames) {
		return logLevelNames[l]
	}
	return "LogLevel(" + strconv.Itoa(int(l)) + ")"
}

// LogEntry is one log line of the library (see WithLogHandler).
type LogEntry struct {
	Level   LogLevel
	Message string
}

// ConnState is a connection's state in a StateChange; the numbers are the
// C library's (redisx_conn_state) and never change.
type ConnState int

const (
	StateConnected    ConnState = 0
	StateDisconnected ConnState = 1
	StateReconnecting ConnState = 2
)

var connStateNames = [...]string{"connected", "disconnected", "reconnecting"}

// String returns the name every binding uses: "connected", "disconnected",
// "reconnecting".
func (s ConnState) String() string {
	if s >= 0 && int(s) < len(connStateNames) {
		return connStateNames[s]
	}
	return "ConnState(" + strconv.Itoa(int(s)) + ")"
}

// StateChange is a state change of one of the client's connections (see
// WithStateHandler).
type StateChange struct {
	Connection int       // index of the connection in the client's pool
	State      ConnState // connected, disconnected, reconnecting
	Detail     string    // why (the connect error, ...); may be ""
	Node       string    // "host:port" of the node the connection serves, for every state; "" before it is known
}

func eventOf(e capi.Event) Event {
	code := capi.Redisx_event_status(e)
	ev := Event{
		Primitive:  capi.Redisx_event_primitive(e),
		Operation:  capi.Redisx_event_operation(e),
		Status:     statusNames[code],
		FailOpen:   capi.Redisx_event_fail_open(e) != 0,
		Duration:   time.Duration(capi.Redisx_event_duration_ns(e)),
		RoundTrips: capi.Redisx_event_round_trips(e),
		Key:        capi.Redisx_event_key(e),
		Node:       capi.Redisx_event_node(e),
	}
	if code != 0 {
		ev.Err = newError(code, "")
	}
	return ev
}

// eventPump runs handler calls (events, log lines, state changes) on its own
// goroutine, in the order the queue delivered them, without ever blocking
// the dispatcher (the buffer grows instead).
type eventPump struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    []func()
	closed bool
	done   chan struct{}
}

func newEventPump() *eventPump {
	p := &eventPump{done: make(chan struct{})}
	p.cond.L = &p.mu
	go p.run()
	return p
}

func (p *eventPump) push(call func()) {
	p.mu.Lock()
	p.buf = append(p.buf, call)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *eventPump) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		for len(p.buf) == 0 && !p.closed {
			p.cond.Wait()
		}
		batch := p.buf
		p.buf = nil
		closed := p.closed
		p.mu.Unlock()
		for _, call := range batch {
			call()
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}

// close lets the handler see every event pushed so far, then stops it.
func (p *eventPump) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Signal()
	<-p.done
}
