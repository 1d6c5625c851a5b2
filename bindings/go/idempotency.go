package redisx

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// IdemState is what BeginIdempotent found; the numbers are the C library's
// (redisx_idem_state) and never change.
type IdemState int

const (
	// IdemNew: the caller owns the record; it runs the work, then Completes
	// or Fails the record.
	IdemNew IdemState = 0
	// IdemInProgress: another caller is running the work.
	IdemInProgress IdemState = 1
	// IdemCompleted: the work ran; Response and Metadata are its stored
	// outcome.
	IdemCompleted IdemState = 2
	// IdemMismatch: the key was used with another fingerprint (another
	// request body).
	IdemMismatch IdemState = 3
)

var idemStateNames = [...]string{"NEW", "IN_PROGRESS", "COMPLETED", "MISMATCH"}

// String returns the name every redisx binding uses: "NEW", "IN_PROGRESS",
// "COMPLETED" or "MISMATCH".
func (s IdemState) String() string {
	if s >= 0 && int(s) < len(idemStateNames) {
		return idemStateNames[s]
	}
	return "IdemState(" + strconv.Itoa(int(s)) + ")"
}

// IdemRecord is the answer of BeginIdempotent: the state of the key's record
// and, for IdemNew, the right to Complete or Fail it. A record dropped
// without either is freed by the garbage collector; its lease then simply
// passes and the next BeginIdempotent takes it over.
//
// Idempotency narrows duplicates, it does not make work exactly-once: a lease
// that runs out while the first worker still runs lets a second one start.
// Keep a database constraint behind it.
type IdemRecord struct {
	client    *Client // keeps the client reachable while the record is
	h         *idemHandle
	key       string
	state     IdemState
	response  []byte
	metadata  []byte
	remaining time.Duration
	takenOver bool
	failOpen  bool
}

// idemHandle owns the C handle; the cleanup of an IdemRecord frees it.
type idemHandle struct{ h capi.Idem }

func (ih *idemHandle) free() { capi.Redisx_idem_free(ih.h) }

// BeginIdempotent looks up or creates the record of key (1..1024 bytes)
// for the request identified by fingerprint (0..65536 bytes; e.g. a hash of
// the request, see IdempotencyFingerprint):
//
//   - IdemNew: no record existed (or the previous worker's lease passed:
//     TakenOver); the record is now leased to the caller for lease, who runs
//     the work and then calls Complete or Fail;
//   - IdemInProgress: another caller runs it (Remaining is its lease left);
//   - IdemCompleted: Response and Metadata hold the stored outcome;
//   - IdemMismatch: the key was used with another fingerprint.
//
// With wait > 0 (negative: ErrInvalidArgument) an in-progress record is waited on until it completes
// (IdemCompleted), fails or its lease passes (IdemNew), or wait has passed
// (IdemInProgress). A ctx deadline that comes first ends the wait with
// context.DeadlineExceeded; cancelling ctx returns ctx.Err() at once (the
// library stops the wait), and a record the library makes NEW after that is
// failed by the library, never left leased to nobody. Redis errors follow the idempotency fail policy
// (default FailClosed: ErrConnection, ErrTimeout, ...).
func (c *Client) BeginIdempotent(ctx context.Context, key string, fingerprint []byte, lease, wait time.Duration) (*IdemRecord, error) {
	ictx, done := c.core.start(ctx, &Operation{Primitive: "idempotency", Operation: "begin"})
	r, err := c.beginIdempotent(ictx, key, fingerprint, lease, wait)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return r, err
}

func (c *Client) beginIdempotent(ctx context.Context, key string, fingerprint []byte, lease, wait time.Duration) (*IdemRecord, error) {
	if ctx == nil {
		return nil, nilContext()
	}
	if err := noNUL(key, "idempotency key"); err != nil {
		return nil, err
	}
	if wait < 0 {
		return nil, invalid("idempotency wait must not be negative, got %v", wait)
	}
	k := c.core
	leaseMs := millis(lease)
	// The whole wait is the library's: a done ctx cancels it (see call).
	waitMs := min(millis(wait), int64(capi.REDISX_IDEM_TTL_MAX_MS))
	if k.tryDirect(ctx) {
		h, err := capi.Redisx_idem_begin(k.h, key, fingerprint, leaseMs, waitMs).Get()
		k.leaveDirect()
		if err != nil {
			return nil, errorOf(err)
		}
		return c.newIdemRecord(h), nil
	}
	it, err := k.call(ctx, func(tag uintptr) error {
		return capi.Redisx_idem_begin_async(k.h, key, fingerprint, leaseMs, waitMs, tag)
	})
	if err != nil {
		return nil, err
	}
	if err := status(it); err != nil {
		capi.Redisx_item_free(it)
		return nil, err
	}
	h := capi.Redisx_item_take_idem(it)
	capi.Redisx_item_free(it)
	return c.newIdemRecord(h), nil
}

func (c *Client) newIdemRecord(h capi.Idem) *IdemRecord {
	r := &IdemRecord{
		client:    c,
		h:         &idemHandle{h: h},
		key:       capi.Redisx_idem_key(h),
		state:     IdemState(capi.Redisx_idem_state_of(h)),
		remaining: time.Duration(capi.Redisx_idem_remaining_ms(h)) * time.Millisecond,
		takenOver: capi.Redisx_idem_taken_over(h) != 0,
		failOpen:  capi.Redisx_idem_is_fail_open(h) != 0,
	}
	if r.state == IdemCompleted {
		r.response = capi.Redisx_idem_response(h)
		r.metadata = capi.Redisx_idem_metadata(h)
	}
	runtime.AddCleanup(r, (*idemHandle).free, r.h)
	return r
}

// Key returns the record's key.
func (r *IdemRecord) Key() string { return r.key }

// State returns what BeginIdempotent found.
func (r *IdemRecord) State() IdemState { return r.state }

// Response returns the stored response of an IdemCompleted record (nil
// otherwise). The slice is the record's: do not modify it.
func (r *IdemRecord) Response() []byte { return r.response }

// Metadata returns the stored metadata of an IdemCompleted record (nil
// otherwise). The slice is the record's: do not modify it.
func (r *IdemRecord) Metadata() []byte { return r.metadata }

// Remaining is how long the record will still live: the lease left for
// IdemInProgress (a Retry-After hint), the TTL left for IdemCompleted and
// IdemMismatch, the lease granted for IdemNew.
func (r *IdemRecord) Remaining() time.Duration { return r.remaining }

// TakenOver reports an IdemNew record that took over a stale in-progress
// one: an earlier attempt may have done part of the work.
func (r *IdemRecord) TakenOver() bool { return r.takenOver }

// FailOpen reports an IdemNew record granted by the fail-open policy without
// Redis: nothing protects against duplicates; Complete and Fail do nothing.
func (r *IdemRecord) FailOpen() bool { return r.failOpen }

// Complete stores the outcome of the work of an IdemNew record: response and
// metadata (binary, any bytes, e.g. a body and a status line) are replayed
// to duplicates for ttl, and waiting BeginIdempotent calls wake up.
// ErrLockNotOwned when the record was taken over or is gone;
// ErrInvalidArgument for a record that is not IdemNew.
func (r *IdemRecord) Complete(ctx context.Context, response, metadata []byte, ttl time.Duration) error {
	ictx, done := r.client.core.start(ctx, &Operation{Primitive: "idempotency", Operation: "complete"})
	err := r.complete(ictx, response, metadata, ttl)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (r *IdemRecord) complete(ctx context.Context, response, metadata []byte, ttl time.Duration) error {
	k := r.client.core
	h := r.h.h
	ttlMs := millis(ttl)
	var err error
	if k.tryDirect(ctx) {
		err = errorOf(capi.Redisx_idem_complete(h, response, metadata, ttlMs))
		k.leaveDirect()
	} else {
		err = k.callStatus(ctx, func(tag uintptr) error {
			return capi.Redisx_idem_complete_async(h, response, metadata, ttlMs, tag)
		})
	}
	runtime.KeepAlive(r)
	return err
}

// Fail deletes the in-progress record of an IdemNew record, so that a retry
// runs the work again, and wakes waiting BeginIdempotent calls.
// ErrLockNotOwned when the record was taken over or is gone.
func (r *IdemRecord) Fail(ctx context.Context) error {
	ictx, done := r.client.core.start(ctx, &Operation{Primitive: "idempotency", Operation: "fail"})
	err := r.fail(ictx)
	if done != nil {
		done(&OpResult{Err: err})
	}
	return err
}

func (r *IdemRecord) fail(ctx context.Context) error {
	k := r.client.core
	h := r.h.h
	var err error
	if k.tryDirect(ctx) {
		err = errorOf(capi.Redisx_idem_fail(h))
		k.leaveDirect()
	} else {
		err = k.callStatus(ctx, func(tag uintptr) error { return capi.Redisx_idem_fail_async(h, tag) })
	}
	runtime.KeepAlive(r)
	return err
}
