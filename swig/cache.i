/* redisx — the two-tier cache (redisx/cache.h) in every language.
 *
 * Included by swig/redisx.i after the other public headers, so that the
 * typemaps and helpers of python.i, node.i and go.i are defined; the
 * cache's own typemaps are here, then redisx/cache.h is parsed.
 *
 * What every binding gets: the raw functions (handles, binary values in
 * and out, callbacks fixed to NULL so completions go to the queue) and,
 * per language, the few helpers its idiomatic layer uses. The get-or-load
 * protocol (fetch -> LOAD / HIT that should refresh -> fill, fill_negative
 * or abandon) is the core's; a binding runs the caller's loader between
 * the two phases because the loader is its code (a callable, an async
 * function, a func), which a C function pointer cannot hold. */

%nodefaultctor redisx_cache;
%nodefaultdtor redisx_cache;
%nodefaultctor redisx_cache_entry;
%nodefaultdtor redisx_cache_entry;

#if defined(SWIGPYTHON)

/* ---- Python ------------------------------------------------------------------
 *
 * The idiomatic layer (bindings/python/src/redisx/_cache.py) calls the
 * pyx_cache_* helpers: blocking ones release the GIL around the core's
 * blocking call (WouldBlock from this client's own callbacks); _async ones
 * complete into the client's queue, whose drain (python.i) hands a fetch's
 * entry over as a handle that pyx_cache_take() turns into the tuple below.
 *
 * An answer is the tuple (state, value, stale, fail_open, layer, ttl_ms,
 * version, lease, outcome): value is bytes or None, lease the entry handle
 * when the entry holds the key's lease (LOAD, or a HIT chosen to refresh),
 * to be passed to pyx_cache_fill / pyx_cache_abandon and freed; otherwise
 * None and the entry is already freed; outcome the core's identifier of the
 * answer (redisx_cache_entry_outcome). */

%typemap(in, numinputs=0) redisx_cache_cb cb "$1 = NULL;"
PYX_OUT_HANDLE(redisx_cache)
PYX_OUT_HANDLE(redisx_cache_entry)
PYX_BYTES_IN(value, len)
%typemap(out) const void *redisx_cache_entry_value "$result = SWIG_Py_Void();"

%feature("nothread", "0") redisx_cache_fetch;
%feature("nothread", "0") redisx_cache_get;
%feature("nothread", "0") redisx_cache_set;
%feature("nothread", "0") redisx_cache_delete;
%feature("nothread", "0") redisx_cache_fill;
%feature("nothread", "0") redisx_cache_fill_negative;
%feature("nothread", "0") redisx_cache_abandon;
%feature("nothread", "0") redisx_cache_fetch_tagged;
%feature("nothread", "0") redisx_cache_set_tagged;
%feature("nothread", "0") redisx_cache_invalidate_tags;
/* Tags reach the core through the pyx_cache_* helpers (a sequence of bytes). */
%ignore redisx_tags_add;

%{
/* The core's outcome identifier as a Python str, made once per identifier
 * (the core returns static strings; the GIL is held). */
static PyObject *pyx_outcome_str(const char *o)
{
    enum { N_OUTCOMES = 16 };
    static const char *names[N_OUTCOMES];
    static PyObject *strs[N_OUTCOMES];
    if (!o)
        Py_RETURN_NONE;
    int i = 0;
    for (; i < N_OUTCOMES && names[i]; i++) {
        if (names[i] == o) {
            Py_INCREF(strs[i]);
            return strs[i];
        }
    }
    PyObject *str = PyUnicode_InternFromString(o);
    if (str && i < N_OUTCOMES) {
        names[i] = o;
        strs[i] = str;
        Py_INCREF(str); /* the table's reference */
    }
    return str;
}

static PyObject *pyx_cache_tuple(redisx_cache_entry *e)
{
    size_t n = 0;
    const char *v = redisx_cache_entry_value(e, &n);
    int state = (int)redisx_cache_entry_state(e);
    PyObject *val = v && state != REDISX_CACHE_NEGATIVE && state != REDISX_CACHE_MISS
                        ? PyBytes_FromStringAndSize(v, (Py_ssize_t)n)
                        : (Py_INCREF(Py_None), Py_None);
    if (!val) {
        redisx_cache_entry_free(e);
        return NULL;
    }
    PyObject *outcome = pyx_outcome_str(redisx_cache_entry_outcome(e));
    if (!outcome) {
        Py_DECREF(val);
        redisx_cache_entry_free(e);
        return NULL;
    }
    PyObject *lease;
    if (redisx_cache_entry_should_refresh(e)) {
        lease = SWIG_NewPointerObj((void *)e, SWIGTYPE_p_redisx_cache_entry, 0);
        if (!lease) {
            Py_DECREF(val);
            Py_DECREF(outcome);
            redisx_cache_entry_free(e);
            return NULL;
        }
    } else {
        lease = Py_None;
        Py_INCREF(lease);
    }
    PyObject *t = Py_BuildValue("(iNNNiLKNN)", state, val, PyBool_FromLong(redisx_cache_entry_is_stale(e)),
                                PyBool_FromLong(redisx_cache_entry_is_fail_open(e)),
                                (int)redisx_cache_entry_layer(e), (long long)redisx_cache_entry_ttl_ms(e),
                                (unsigned long long)redisx_cache_entry_version(e), lease, outcome);
    if (lease == Py_None)
        redisx_cache_entry_free(e);
    else if (!t)
        redisx_cache_entry_free(e);
    return t;
}

static void pyx_wait_cache_cb(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    pyx_wait_finish(user, st, e);
}

static PyObject *pyx_cache_status(redisx_status st, const char *detail)
{
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    Py_RETURN_NONE;
}

/* Tags from Python: None (no tags) or a sequence of bytes (the idiomatic
 * layer encodes str as UTF-8). 0, or -1 with an exception set. */
static int pyx_tags_from(PyObject *seq, redisx_tags **out)
{
    /* The limited API (abi3): no PySequence_Fast macros. */
    *out = NULL;
    if (!seq || seq == Py_None)
        return 0;
    Py_ssize_t n = PySequence_Size(seq);
    if (n < 0)
        return -1;
    redisx_status st = redisx_tags_new(out);
    for (Py_ssize_t i = 0; st == REDISX_OK && i < n; i++) {
        PyObject *it = PySequence_GetItem(seq, i);
        char *p;
        Py_ssize_t len;
        if (!it || PyBytes_AsStringAndSize(it, &p, &len) < 0) {
            Py_XDECREF(it);
            redisx_tags_free(*out);
            *out = NULL;
            return -1;
        }
        st = redisx_tags_add(*out, p, (size_t)len);
        Py_DECREF(it);
    }
    if (st != REDISX_OK) {
        pyx_raise(st, redisx_last_error());
        redisx_tags_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
%}

%inline %{
/** A cache on the context's client with its settings applied (a negative
 *  number, or NaN for the doubles, keeps the core's default). */
PyObject *pyx_cache_new(pyx_ctx *ctx, const char *name, long long l1_entries, long long l1_bytes,
                        long long l1_ttl_ms, long long max_value_bytes, long long negative_ttl_ms,
                        long long lease_ms, long long stale_ms, double jitter, double beta, int fail_policy,
                        int tracking)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_cache *cache = NULL;
    redisx_status st = redisx_cache_new(&cache, ctx->client, name);
    if (st == REDISX_OK && (l1_entries >= 0 || l1_bytes >= 0 || l1_ttl_ms >= 0))
        st = redisx_cache_set_l1(cache, l1_entries >= 0 ? (size_t)l1_entries : 10000,
                                 l1_bytes >= 0 ? (size_t)l1_bytes : (size_t)64 << 20,
                                 l1_ttl_ms >= 0 ? (int64_t)l1_ttl_ms : 1000);
    if (st == REDISX_OK && max_value_bytes >= 0)
        st = redisx_cache_set_max_value_bytes(cache, (size_t)max_value_bytes);
    if (st == REDISX_OK && negative_ttl_ms >= 0)
        st = redisx_cache_set_negative_ttl_ms(cache, negative_ttl_ms);
    if (st == REDISX_OK && lease_ms >= 0)
        st = redisx_cache_set_lease_ms(cache, lease_ms);
    if (st == REDISX_OK && stale_ms >= 0)
        st = redisx_cache_set_stale_ms(cache, stale_ms);
    if (st == REDISX_OK && jitter == jitter)
        st = redisx_cache_set_ttl_jitter(cache, jitter);
    if (st == REDISX_OK && beta == beta)
        st = redisx_cache_set_xfetch_beta(cache, beta);
    if (st == REDISX_OK && fail_policy >= 0)
        st = redisx_cache_set_fail_policy(cache, (redisx_fail_policy)fail_policy);
    if (st == REDISX_OK && tracking >= 0)
        st = redisx_cache_set_tracking(cache, tracking);
    if (st != REDISX_OK) {
        PyObject *res = pyx_raise(st, redisx_last_error());
        redisx_cache_free(cache);
        return res;
    }
    return SWIG_NewPointerObj((void *)cache, SWIGTYPE_p_redisx_cache, 0);
}

/** Blocking fetch (get = 0) or get (get = 1): the answer tuple. An L1 hit
 *  is served on this thread without releasing the GIL (the core's peek),
 *  anything else with the GIL released. A fetch that may wait for another
 *  caller's load (wait_ms > 0) is a cancellable wait, as python.i's
 *  "blocking calls" describe: Ctrl-C cancels it in the core, and a lease an
 *  attempt in flight still takes is abandoned. */
PyObject *pyx_cache_fetch(pyx_ctx *ctx, redisx_cache *cache, const char *key, int64_t wait_ms, int64_t swr_ms,
                          int64_t sie_ms, int get, PyObject *tags)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_peek(&e, cache, key);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    if (e)
        return pyx_cache_tuple(e);
    redisx_tags *t = NULL;
    if (!get && pyx_tags_from(tags, &t) < 0)
        return NULL;
    if (!get && wait_ms > 0) {
        pyx_wait *w = pyx_wait_new(PYX_WAIT_CACHE);
        if (!w) {
            redisx_tags_free(t);
            return PyErr_NoMemory();
        }
        st = redisx_cache_fetch_tagged_async(cache, key, t, wait_ms, swr_ms, sie_ms, pyx_wait_cache_cb, w);
        redisx_tags_free(t);
        if (st != REDISX_OK) {
            pyx_wait_free(w);
            return pyx_raise(st, redisx_last_error());
        }
        if (pyx_wait_for(ctx->client, w) < 0)
            return NULL;
        PyObject *res = w->status != REDISX_OK ? pyx_raise(w->status, w->detail) : pyx_cache_tuple(w->result);
        pyx_wait_free(w);
        return res;
    }
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = get ? redisx_cache_get(&e, cache, key)
             : redisx_cache_fetch_tagged(&e, cache, key, t, wait_ms, swr_ms, sie_ms);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    redisx_tags_free(t);
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    return pyx_cache_tuple(e);
}

PyObject *pyx_cache_fetch_async(pyx_ctx *ctx, redisx_cache *cache, const char *key, int64_t wait_ms,
                                int64_t swr_ms, int64_t sie_ms, int get, PyObject *tags, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_tags *t = NULL;
    if (!get && pyx_tags_from(tags, &t) < 0)
        return NULL;
    redisx_status st = get ? redisx_cache_get_async(cache, key, NULL, user)
                           : redisx_cache_fetch_tagged_async(cache, key, t, wait_ms, swr_ms, sie_ms, NULL, user);
    redisx_tags_free(t);
    return pyx_cache_status(st, redisx_last_error());
}

/** The L1 alone (never blocks): the answer tuple, or None. */
PyObject *pyx_cache_peek(redisx_cache *cache, const char *key)
{
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_peek(&e, cache, key);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    if (!e)
        Py_RETURN_NONE;
    return pyx_cache_tuple(e);
}

/** The answer tuple of an entry handle from an asynchronous completion
 *  (which it frees unless it holds a lease). */
PyObject *pyx_cache_take(PyObject *obj)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(obj, &p, SWIGTYPE_p_redisx_cache_entry, 0)) || !p)
        return pyx_raise(REDISX_ERR_INVALID, "not a cache entry");
    return pyx_cache_tuple((redisx_cache_entry *)p);
}

/** Blocking fill (negative = 1: "not found"), abandon (abandon = 1), set
 *  and delete (value None), with the GIL released. */
PyObject *pyx_cache_fill(pyx_ctx *ctx, redisx_cache_entry *entry, const void *value, size_t len, int64_t ttl_ms,
                         int negative)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = negative ? redisx_cache_fill_negative(entry) : redisx_cache_fill(entry, value, len, ttl_ms);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    return pyx_cache_status(st, detail);
}

PyObject *pyx_cache_fill_async(pyx_ctx *ctx, redisx_cache_entry *entry, const void *value, size_t len,
                               int64_t ttl_ms, int negative, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = negative ? redisx_cache_fill_negative_async(entry, NULL, user)
                                : redisx_cache_fill_async(entry, value, len, ttl_ms, NULL, user);
    return pyx_cache_status(st, redisx_last_error());
}

PyObject *pyx_cache_abandon(pyx_ctx *ctx, redisx_cache_entry *entry)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_cache_abandon(entry);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    return pyx_cache_status(st, detail);
}

PyObject *pyx_cache_abandon_async(pyx_ctx *ctx, redisx_cache_entry *entry, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    return pyx_cache_status(redisx_cache_abandon_async(entry, NULL, user), redisx_last_error());
}

PyObject *pyx_cache_write(pyx_ctx *ctx, redisx_cache *cache, const char *key, const void *value, size_t len,
                          int64_t ttl_ms, int del, PyObject *tags)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_tags *t = NULL;
    if (!del && pyx_tags_from(tags, &t) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = del ? redisx_cache_delete(cache, key) : redisx_cache_set_tagged(cache, key, value, len, ttl_ms, t);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    redisx_tags_free(t);
    return pyx_cache_status(st, detail);
}

PyObject *pyx_cache_write_async(pyx_ctx *ctx, redisx_cache *cache, const char *key, const void *value, size_t len,
                                int64_t ttl_ms, int del, PyObject *tags, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_tags *t = NULL;
    if (!del && pyx_tags_from(tags, &t) < 0)
        return NULL;
    redisx_status st = del ? redisx_cache_delete_async(cache, key, NULL, user)
                           : redisx_cache_set_tagged_async(cache, key, value, len, ttl_ms, t, NULL, user);
    redisx_tags_free(t);
    return pyx_cache_status(st, redisx_last_error());
}

/** Blocking invalidation of tags (a sequence of bytes), the GIL released;
 *  and its asynchronous form into the queue. */
PyObject *pyx_cache_invalidate_tags(pyx_ctx *ctx, redisx_cache *cache, PyObject *tags)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_tags *t = NULL;
    if (pyx_tags_from(tags, &t) < 0)
        return NULL;
    if (!t && redisx_tags_new(&t) != REDISX_OK)
        return pyx_raise(REDISX_ERR_NOMEM, redisx_last_error());
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_cache_invalidate_tags(cache, t);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    redisx_tags_free(t);
    return pyx_cache_status(st, detail);
}

PyObject *pyx_cache_invalidate_tags_async(pyx_ctx *ctx, redisx_cache *cache, PyObject *tags, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_tags *t = NULL;
    if (pyx_tags_from(tags, &t) < 0)
        return NULL;
    if (!t && redisx_tags_new(&t) != REDISX_OK)
        return pyx_raise(REDISX_ERR_NOMEM, redisx_last_error());
    redisx_status st = redisx_cache_invalidate_tags_async(cache, t, NULL, user);
    redisx_tags_free(t);
    return pyx_cache_status(st, redisx_last_error());
}

/** The cache's counters, in the order of redisx_cache_counter. */
PyObject *pyx_cache_counters(const redisx_cache *cache)
{
    PyObject *t = PyTuple_New(REDISX_CACHE_COUNTER_COUNT);
    for (int i = 0; t && i < REDISX_CACHE_COUNTER_COUNT; i++)
        PyTuple_SetItem(t, i, PyLong_FromUnsignedLongLong(redisx_cache_counter_of(cache, (redisx_cache_counter)i)));
    return t;
}
%}

#elif defined(SWIGJAVASCRIPT)

/* ---- Node --------------------------------------------------------------------
 *
 * Only the asynchronous forms and the non-blocking ones are wrapped (no
 * blocking call on the event loop): new, the setters, *_async, peek through
 * bindings/node/src/loop.cc's cachePeek (which answers in the same shape as
 * a completion), counters, free. Values in are a Buffer, Uint8Array or string
 * (UTF-8). loop.cc turns an entry into
 * [state, value Buffer | null, stale, failOpen, layer, ttlMs, version, lease]
 * (lease: the entry handle when it holds the key's lease, else null and the
 * entry freed); it finds the C pointers through the functions below. */

%ignore redisx_cache_fetch;
%ignore redisx_cache_get;
%ignore redisx_cache_set;
%ignore redisx_cache_delete;
%ignore redisx_cache_fill;
%ignore redisx_cache_fill_negative;
%ignore redisx_cache_abandon;
%ignore redisx_cache_peek;
%ignore redisx_cache_entry_value;
%ignore redisx_cache_fetch_tagged;
%ignore redisx_cache_set_tagged;
%ignore redisx_cache_invalidate_tags;
REDISX_OUT_HANDLE(redisx_cache)
REDISX_OUT_HANDLE(redisx_tags)
%apply (const void *fingerprint, size_t fingerprint_len) { (const void *tag, size_t len) };
%typemap(in, numinputs=0) redisx_cache_cb cb "$1 = NULL;"
%apply (const void *fingerprint, size_t fingerprint_len) { (const void *value, size_t len) };

%wrapper %{
redisx_cache *redisxjs_unwrap_cache(Napi::Value v)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(v, &p, SWIGTYPE_p_redisx_cache, 0)))
        return NULL;
    return (redisx_cache *)p;
}
redisx_cache_entry *redisxjs_unwrap_cache_entry(Napi::Value v)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(v, &p, SWIGTYPE_p_redisx_cache_entry, 0)))
        return NULL;
    return (redisx_cache_entry *)p;
}
Napi::Value redisxjs_wrap_cache_entry(Napi::Env env, redisx_cache_entry *entry)
{
    return SWIG_NewPointerObj((void *)entry, SWIGTYPE_p_redisx_cache_entry, 0);
}
%}

#elif defined(SWIGGO)

/* ---- Go ----------------------------------------------------------------------
 *
 * Handles capi.Cache and capi.CacheEntry; new, fetch, get and peek return
 * Out[T]; values are []byte in and a []byte copy out
 * (Redisx_cache_entry_value); callbacks are NULL (completions reach the
 * queue, redisx_item_take_cache_entry). bindings/go/cache.go builds the
 * generic Cache[T] on them. */

%redisx_go_handle(redisx_cache, Cache)
%redisx_go_handle(redisx_cache_entry, CacheEntry)
%redisx_go_handle(redisx_tags, Tags)
%redisx_go_out(redisx_tags_new, Tags)
%redisx_go_out(redisx_cache_fetch_tagged, CacheEntry)
%redisx_go_bytes(tag, len)
%redisx_go_out(redisx_cache_new, Cache)
%redisx_go_out(redisx_cache_fetch, CacheEntry)
%redisx_go_out(redisx_cache_get, CacheEntry)
%redisx_go_out(redisx_cache_peek, CacheEntry)
%redisx_go_bytes(value, len)
%typemap(in, numinputs=0) redisx_cache_cb cb "$1 = NULL;"
%typemap(gotype) const void *redisx_cache_entry_value "[]byte"
%typemap(imtype) const void *redisx_cache_entry_value "[]byte"
%typemap(out) const void *redisx_cache_entry_value %{
	$result.array = (void *)$1;
	$result.len = $1 ? (intgo)*arg2 : 0;
	$result.cap = $result.len;
%}
%typemap(goout) const void *redisx_cache_entry_value "if $1 != nil { $result = bytes.Clone($1) }"

#endif /* language */

%include <redisx/cache.h>
