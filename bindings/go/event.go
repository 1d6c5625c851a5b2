package redisx

import (
	"sync"
	"time"

	"redisx/internal/capi"
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
	}
	if code != 0 {
		ev.Err = newError(code, "")
	}
	return ev
}

// eventPump hands events to the handler on its own goroutine, in order,
// without ever blocking the dispatcher (the buffer grows instead).
type eventPump struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    []Event
	closed bool
	done   chan struct{}
}

func newEventPump(handler func(Event)) *eventPump {
	p := &eventPump{done: make(chan struct{})}
	p.cond.L = &p.mu
	go p.run(handler)
	return p
}

func (p *eventPump) push(e Event) {
	p.mu.Lock()
	p.buf = append(p.buf, e)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *eventPump) run(handler func(Event)) {
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
		for _, e := range batch {
			handler(e)
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
