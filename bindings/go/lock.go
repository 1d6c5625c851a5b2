package redisx

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Lock is a held distributed lock: a token-owned lease with a fencing token.
// Release it when done; a Lock dropped without Release is freed by the
// garbage collector and its lease simply expires. A Lock under KeepAlive is
// held by its client until Release, loss or Client.Close, whether or not the
// caller still refers to it (the rule of every redisx binding).
//
// Locks share keys and semantics with every redisx binding that uses the
// same prefix: a lock taken here excludes Python and Node holders too.
type Lock struct {
	client   *Client // keeps the client reachable while the lock is
	h        *lockHandle
	name     string
	token    string
	fencing  int64
	failOpen bool
}

// lockHandle owns the C handle; the cleanup of a Lock frees it.
type lockHandle struct {
	k       *core
	h       capi.Lock
	lostTag atomic.Uintptr
}

// free runs once the Lock is unreachable, which a Lock under KeepAlive is
// not while its renewal runs (core.renewing holds it).
func (lh *lockHandle) free() { capi.Redisx_lock_free(lh.h) }

func (c *Client) newLock(name string, h capi.Lock) *Lock {
	lk := &Lock{
		client:   c,
		h:        &lockHandle{k: c.core, h: h},
		name:     name,
		token:    capi.Redisx_lock_token(h),
		fencing:  capi.Redisx_lock_fencing_token(h),
		failOpen: capi.Redisx_lock_is_fail_open(h) != 0,
	}
	runtime.AddCleanup(lk, (*lockHandle).free, lk.h)
	return lk
}

// LockOption configures Client.Lock.
type LockOption func(*lockConfig)

type lockConfig struct {
	wait time.Duration
	err  error
}

// defaultWait is how long Lock waits for a held lock without WithWait: 10
// seconds, the same default in every redisx binding (see the README).
const defaultWait = 10 * time.Second

// WithWait sets how long Lock waits for a held lock (default 10s, the same
// in every binding); when it runs out Lock returns ErrLockHeld. A ctx
// deadline that comes first still ends the wait. WithWait(0) is TryLock; a
// negative d makes Lock return ErrInvalidArgument.
func WithWait(d time.Duration) LockOption {
	return func(c *lockConfig) {
		if d < 0 {
			c.err = invalid("lock wait must not be negative, got %v", d)
			return
		}
		c.wait = d
	}
}

// Lock acquires lock name with a lease of ttl, waiting while another owner
// holds it for up to 10 seconds (WithWait changes it; the same default in
// every binding), then ErrLockHeld. A ctx deadline that comes first ends the
// wait with context.DeadlineExceeded; cancelling ctx returns ctx.Err()
// promptly; a lock the library obtains after that is released, never
// leaked. A nil ctx is ErrInvalidArgument.
func (c *Client) Lock(ctx context.Context, name string, ttl time.Duration, opts ...LockOption) (*Lock, error) {
	cfg := lockConfig{wait: defaultWait}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	return c.acquire(ctx, name, ttl, cfg.wait)
}

// TryLock makes one attempt: ErrLockHeld when someone else holds the lock.
func (c *Client) TryLock(ctx context.Context, name string, ttl time.Duration) (*Lock, error) {
	return c.acquire(ctx, name, ttl, 0)
}

func (c *Client) acquireLock(ctx context.Context, name string, ttl time.Duration, limit time.Duration) (*Lock, error) {
	if ctx == nil {
		return nil, nilContext()
	}
	if err := noNUL(name, "lock name"); err != nil {
		return nil, err
	}
	k := c.core
	ttlMs := millis(ttl)
	// The whole wait is the library's: a done ctx cancels it (see call).
	waitMs := min(millis(limit), int64(capi.REDISX_LOCK_TTL_MAX_MS))
	if k.tryDirect(ctx) {
		h, err := capi.Redisx_lock_acquire(k.h, name, ttlMs, waitMs).Get()
		k.leaveDirect()
		if err != nil {
			return nil, errorOf(err)
		}
		return c.newLock(name, h), nil
	}
	it, err := k.call(ctx, func(tag uintptr) error {
		return capi.Redisx_lock_acquire_async(k.h, name, ttlMs, waitMs, tag)
	})
	if err != nil {
		return nil, err
	}
	if err := status(it); err != nil {
		capi.Redisx_item_free(it)
		return nil, err
	}
	h := capi.Redisx_item_take_lock(it)
	capi.Redisx_item_free(it)
	return c.newLock(name, h), nil
}

// Name returns the lock's name.
func (lk *Lock) Name() string { return lk.name }

// Token returns the owner token ("<fencing>:<32 hex>"; "" for a fail-open
// lock).
func (lk *Lock) Token() string { return lk.token }

// FencingToken returns the fencing token: > 0 and strictly increasing per
// lock name across all holders in every language (0 for a fail-open lock).
// Hand it to the resource you protect and have it reject older tokens: a
// lease can expire while its holder still runs.
func (lk *Lock) FencingToken() int64 { return lk.fencing }

// FailOpen reports whether the lock was granted by the fail-open policy
// without Redis: such a lock excludes nobody.
func (lk *Lock) FailOpen() bool { return lk.failOpen }

// Lost reports whether automatic renewal (KeepAlive) found the lock lost.
func (lk *Lock) Lost() bool {
	lost := capi.Redisx_lock_is_lost(lk.h.h) != 0
	runtime.KeepAlive(lk)
	return lost
}

// Release gives the lock up if this handle still owns it; ErrLockNotOwned
// when its lease expired or someone else holds it now. It stops automatic
// renewal either way.
func (lk *Lock) release(ctx context.Context) error {
	k := lk.h.k
	h := lk.h.h
	if tag := lk.h.lostTag.Swap(0); tag != 0 {
		k.pendMu.Lock()
		delete(k.renewing, tag)
		k.pendMu.Unlock()
	}
	var err error
	if k.tryDirect(ctx) {
		err = errorOf(capi.Redisx_lock_release(h))
		k.leaveDirect()
	} else {
		err = k.callStatus(ctx, func(tag uintptr) error { return capi.Redisx_lock_release_async(h, tag) })
	}
	runtime.KeepAlive(lk)
	return err
}

// Extend sets the remaining lease to ttl (and the lease automatic renewal
// keeps) if this handle still owns the lock; ErrLockNotOwned otherwise.
func (lk *Lock) extend(ctx context.Context, ttl time.Duration) error {
	k := lk.h.k
	h := lk.h.h
	ms := millis(ttl)
	var err error
	if k.tryDirect(ctx) {
		err = errorOf(capi.Redisx_lock_extend(h, ms))
		k.leaveDirect()
	} else {
		err = k.callStatus(ctx, func(tag uintptr) error { return capi.Redisx_lock_extend_async(h, ms, tag) })
	}
	runtime.KeepAlive(lk)
	return err
}

// KeepAlive starts automatic renewal: every ttl/3 the library extends the
// lease to its full ttl, until Release, Client.Close, or the lock is lost.
// The client holds the Lock meanwhile: dropping every reference to it does
// not stop renewal (as in every redisx binding; a lock nobody releases is
// held until Close). If a renewal finds the lock gone (expired, deleted,
// taken) or renewals fail until the lease must have run out, onLost (may be
// nil) runs once on a goroutine of its own and renewal stops. A second
// KeepAlive returns ErrInvalidArgument.
func (lk *Lock) KeepAlive(onLost func()) error {
	k := lk.h.k
	k.pendMu.Lock()
	tag := k.nextTag
	k.nextTag++
	k.renewing[tag] = renewal{lock: lk, onLost: onLost}
	k.pendMu.Unlock()
	err := errorOf(capi.Redisx_lock_start_renewal(lk.h.h, tag))
	runtime.KeepAlive(lk)
	if err != nil {
		k.pendMu.Lock()
		delete(k.renewing, tag)
		k.pendMu.Unlock()
		return err
	}
	lk.h.lostTag.Store(tag)
	return nil
}

// LockInfo tells who holds a lock right now.
type LockInfo struct {
	Locked           bool
	FencingToken     int64         // of the current holder (0 when free)
	TTL              time.Duration // remaining lease of the current holder (0 when free)
	LastFencingToken int64         // newest token the server still remembers for the name (docs/KEYS.md); 0 if none
}

// LockInfo inspects lock name without taking it.
func (c *Client) LockInfo(ctx context.Context, name string) (LockInfo, error) {
	if ctx == nil {
		return LockInfo{}, nilContext()
	}
	if err := noNUL(name, "lock name"); err != nil {
		return LockInfo{}, err
	}
	k := c.core
	if k.tryDirect(ctx) {
		info, err := capi.Redisx_lock_inspect(k.h, name).Get()
		k.leaveDirect()
		if err != nil {
			return LockInfo{}, errorOf(err)
		}
		defer capi.Redisx_lock_info_free(info)
		return lockInfoOf(info), nil
	}
	it, err := k.call(ctx, func(tag uintptr) error { return capi.Redisx_lock_inspect_async(k.h, name, tag) })
	if err != nil {
		return LockInfo{}, err
	}
	defer capi.Redisx_item_free(it)
	if err := status(it); err != nil {
		return LockInfo{}, err
	}
	return lockInfoOf(capi.Redisx_item_lock_info(it)), nil
}

func lockInfoOf(info capi.LockInfo) LockInfo {
	return LockInfo{
		Locked:           capi.Redisx_lock_info_locked(info) != 0,
		FencingToken:     capi.Redisx_lock_info_fencing_token(info),
		TTL:              time.Duration(capi.Redisx_lock_info_ttl_ms(info)) * time.Millisecond,
		LastFencingToken: capi.Redisx_lock_info_last_fencing_token(info),
	}
}
