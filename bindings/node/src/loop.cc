// redisx for Node.js — the hand-written Node-API part.
//
// SWIG wraps the C API synchronously. Asynchronous calls are made with a NULL
// callback, so the core's I/O thread completes them into the client's pollable
// queue (redisx/queue.h); this file gives JavaScript what SWIG cannot:
//
//   new Poller(fd, onReadable)  a libuv poll handle on the queue's fd. While
//       the fd is readable (items wait), libuv calls onReadable() on the JS
//       thread, between other I/O, and the JS layer pops a bounded batch.
//       It starts unref'd: the JS layer refs it only while operations are
//       pending, so an idle client never keeps the process alive.
//       .ref() .unref() .close()
//   shutdownClient(client) → Promise  redisx_client_shutdown() joins the I/O
//       thread and lets sent commands finish within their timeout: it runs
//       on libuv's thread pool, never on the JS thread. The handle stays
//       valid, so JavaScript may still call into it meanwhile (the core
//       answers ClientClosed).
//   freeClient(client)  redisx_client_close() on the JS thread, once
//       shutdownClient() has resolved and nothing can use the handle: the
//       work is over, so it only drops the reference (no join, no wait).
//   drainQueue(queue, nums, objs, max, replyError) → count  pops up to `max`
//       items and frees each one here. Numbers (item kind, tag, status,
//       which payload, rate-limit and lock-info fields, log level, state)
//       go into the Float64Array `nums`, drainLayout.stride slots per item;
//       everything else (error message, reply value, lock or record handle,
//       event object, log or state text) into objs[i], set only when there
//       is one. One native call per batch instead of five to twelve per
//       item: each crossing through a SWIG wrapper costs more than the C
//       work behind it. replyError(text) makes the ServerError of an error
//       reply (the error classes live in JavaScript).
//
// Nothing here talks to Redis or decides anything: it only moves control
// and values between threads and languages.
#include <memory>
#include <string>

#include <napi.h>
#include <uv.h>

#include <redisx/redisx.h>

// Defined in the SWIG-generated wrapper (swig/node.i).
redisx_client *redisxjs_unwrap_client(Napi::Value v);
redisx_queue *redisxjs_unwrap_queue(Napi::Value v);
Napi::Value redisxjs_wrap_lock(Napi::Env env, redisx_lock *lock);
Napi::Value redisxjs_wrap_idem(Napi::Env env, redisx_idem *record);
// Defined in the wrapper too (swig/cache.i).
redisx_cache *redisxjs_unwrap_cache(Napi::Value v);
Napi::Value redisxjs_wrap_cache_entry(Napi::Env env, redisx_cache_entry *entry);
void redisxjs_loop_init(Napi::Env env, Napi::Object exports);

namespace {

class Poller : public Napi::ObjectWrap<Poller> {
public:
    static Napi::Function Define(Napi::Env env)
    {
        return DefineClass(env, "Poller",
                           {InstanceMethod("ref", &Poller::RefLoop), InstanceMethod("unref", &Poller::UnrefLoop),
                            InstanceMethod("close", &Poller::Close)});
    }

    explicit Poller(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Poller>(info)
    {
        Napi::Env env = info.Env();
        if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsFunction())
            throw Napi::TypeError::New(env, "Poller(fd, onReadable)");
        int fd = info[0].As<Napi::Number>().Int32Value();
        callback_ = Napi::Persistent(info[1].As<Napi::Function>());
        context_ = new Napi::AsyncContext(env, "redisx.queue");
        uv_loop_t *loop = nullptr;
        if (napi_get_uv_event_loop(env, &loop) != napi_ok)
            throw Napi::Error::New(env, "no libuv loop");
        handle_ = new uv_poll_t;
        int rc = uv_poll_init(loop, handle_, fd);
        if (rc == 0)
            rc = uv_poll_start(handle_, UV_READABLE, OnReadable);
        if (rc != 0) {
            delete handle_;
            handle_ = nullptr;
            throw Napi::Error::New(env, std::string("uv_poll on the redisx queue: ") + uv_strerror(rc));
        }
        handle_->data = this;
        uv_unref(reinterpret_cast<uv_handle_t *>(handle_));
        // The JS object must outlive the handle: libuv calls back into it.
        Ref();
        napi_add_env_cleanup_hook(env, EnvCleanup, this);
    }

    ~Poller() override
    {
        delete context_;
    }

private:
    static void OnReadable(uv_poll_t *h, int status, int events)
    {
        (void)status;
        (void)events;
        Poller *self = static_cast<Poller *>(h->data);
        Napi::Env env = self->Env();
        Napi::HandleScope scope(env);
        // MakeCallback runs the microtasks (Promise reactions) when it returns.
        try {
            self->callback_.MakeCallback(self->Value(), {}, *self->context_);
        } catch (const Napi::Error &e) {
            napi_fatal_exception(env, e.Value());
        }
    }

    Napi::Value RefLoop(const Napi::CallbackInfo &info)
    {
        if (handle_)
            uv_ref(reinterpret_cast<uv_handle_t *>(handle_));
        return info.Env().Undefined();
    }

    Napi::Value UnrefLoop(const Napi::CallbackInfo &info)
    {
        if (handle_)
            uv_unref(reinterpret_cast<uv_handle_t *>(handle_));
        return info.Env().Undefined();
    }

    Napi::Value Close(const Napi::CallbackInfo &info)
    {
        Stop();
        napi_remove_env_cleanup_hook(info.Env(), EnvCleanup, this);
        return info.Env().Undefined();
    }

    void Stop()
    {
        if (!handle_)
            return;
        uv_poll_stop(handle_);
        uv_close(reinterpret_cast<uv_handle_t *>(handle_),
                 [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
        handle_ = nullptr;
        callback_.Reset();
        Unref();
    }

    // The environment goes away (worker thread ends) with the poller open.
    static void EnvCleanup(void *arg)
    {
        Poller *self = static_cast<Poller *>(arg);
        if (self->handle_) {
            uv_poll_stop(self->handle_);
            uv_close(reinterpret_cast<uv_handle_t *>(self->handle_),
                     [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
            self->handle_ = nullptr;
        }
    }

    uv_poll_t *handle_ = nullptr;
    Napi::FunctionReference callback_;
    Napi::AsyncContext *context_ = nullptr;
};

class ShutdownWorker : public Napi::AsyncWorker {
public:
    ShutdownWorker(Napi::Env env, redisx_client *client)
        : Napi::AsyncWorker(env, "redisx.shutdown"), client_(client), deferred_(Napi::Promise::Deferred::New(env))
    {
    }
    Napi::Promise Promise()
    {
        return deferred_.Promise();
    }

protected:
    void Execute() override
    {
        redisx_client_shutdown(client_);
    }
    void OnOK() override
    {
        deferred_.Resolve(Env().Undefined());
    }
    void OnError(const Napi::Error &e) override
    {
        deferred_.Reject(e.Value());
    }

private:
    redisx_client *client_;
    Napi::Promise::Deferred deferred_;
};

Napi::Value ShutdownClient(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_client *c = info.Length() == 1 ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c)
        throw Napi::TypeError::New(env, "shutdownClient(client): not a redisx_client");
    ShutdownWorker *w = new ShutdownWorker(env, c);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value FreeClient(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_client *c = info.Length() == 1 ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c)
        throw Napi::TypeError::New(env, "freeClient(client): not a redisx_client");
    redisx_client_close(c);
    return env.Undefined();
}

// ---- batch drain ---------------------------------------------------------------

// Slots of one item in `nums` (exported as drainLayout: lib/client.js reads
// the numbers from there, never copies them).
constexpr uint32_t STRIDE = 10;
enum Field : uint32_t { F_KIND = 0, F_TAG = 1, F_STATUS = 2, F_PAYLOAD = 3, F_V0 = 4 };
// What a completion carries. The _OBJ forms hold the fields in objs[i] as an
// array of numbers and BigInts, for the rare value beyond 2^53.
enum Payload : int {
    P_NONE = 0,
    P_MESSAGE = 1,         // status < 0: objs[i] = redisx_item_message()
    P_LOCK = 2,            // objs[i] = lock handle (the caller owns it)
    P_LOCK_INFO = 3,       // V0..V3 = locked, fencing token, ttl, last fencing token
    P_LOCK_INFO_OBJ = 4,
    P_REPLY = 5,           // objs[i] = the reply as a JavaScript value
    P_RATELIMIT = 6,       // V0..V5 = allowed, limit, remaining, reset, retry after, fail open
    P_RATELIMIT_OBJ = 7,
    P_IDEM = 8,            // objs[i] = record handle (the caller owns it)
    P_CACHE = 9,           // objs[i] = CacheAnswer() of a fetch or get
};

constexpr int64_t MAX_SAFE = 9007199254740991LL;

bool Safe(int64_t x)
{
    return x >= -MAX_SAFE && x <= MAX_SAFE;
}

Napi::Value FromInt64(Napi::Env env, int64_t x)
{
    if (Safe(x))
        return Napi::Number::New(env, (double)x);
    return Napi::BigInt::New(env, x);
}

Napi::Value StringOrNull(Napi::Env env, const char *s)
{
    return s ? Napi::String::New(env, s) : env.Null();
}

// The same values as lib/client.js made with the SWIG accessors before:
// bulk string → Buffer (a copy), status → string, integer → number (BigInt
// beyond 2^53), nil → null, array → Array, error → replyError(text).
Napi::Value ReplyValue(Napi::Env env, const redisx_reply *r, const Napi::Function &replyError)
{
    size_t len = 0;
    const char *p;
    switch (redisx_reply_type_of(r)) {
    case REDISX_REPLY_STRING:
        p = redisx_reply_string(r, &len);
        return p ? Napi::Buffer<char>::Copy(env, p, len).As<Napi::Value>() : env.Null();
    case REDISX_REPLY_STATUS:
        p = redisx_reply_string(r, &len);
        return Napi::String::New(env, p ? p : "", p ? len : 0);
    case REDISX_REPLY_INTEGER:
        return FromInt64(env, redisx_reply_integer(r));
    case REDISX_REPLY_NIL:
        return env.Null();
    case REDISX_REPLY_ARRAY: {
        size_t n = redisx_reply_elements(r);
        Napi::Array out = Napi::Array::New(env, n);
        for (size_t i = 0; i < n; i++)
            out.Set((uint32_t)i, ReplyValue(env, redisx_reply_element(r, i), replyError));
        return out;
    }
    case REDISX_REPLY_ERROR:
        p = redisx_reply_string(r, &len);
        return replyError.Call({Napi::String::New(env, p ? p : "", p ? len : 0)});
    default:
        return env.Undefined();
    }
}

Napi::Value EventObject(Napi::Env env, const redisx_event *ev)
{
    redisx_status status = redisx_event_status(ev);
    Napi::Object o = Napi::Object::New(env);
    o.Set("primitive", StringOrNull(env, redisx_event_primitive(ev)));
    o.Set("operation", StringOrNull(env, redisx_event_operation(ev)));
    o.Set("status", Napi::Number::New(env, (int)status));
    o.Set("code", StringOrNull(env, redisx_status_name(status)));
    o.Set("ok", Napi::Boolean::New(env, status == 0));
    o.Set("failOpen", Napi::Boolean::New(env, redisx_event_fail_open(ev) != 0));
    o.Set("durationNs", FromInt64(env, redisx_event_duration_ns(ev)));
    o.Set("roundTrips", Napi::Number::New(env, redisx_event_round_trips(ev)));
    o.Set("key", StringOrNull(env, redisx_event_key(ev)));
    o.Set("node", StringOrNull(env, redisx_event_node(ev)));
    return o;
}

// Numbers into v[0..n), or, when one is beyond 2^53, an array into objs[i]
// (returns false then).
bool PutInt64s(Napi::Env env, double *v, const int64_t *x, int n, Napi::Array &objs, uint32_t i)
{
    bool safe = true;
    for (int k = 0; k < n; k++)
        safe = safe && Safe(x[k]);
    if (safe) {
        for (int k = 0; k < n; k++)
            v[k] = (double)x[k];
        return true;
    }
    Napi::Array a = Napi::Array::New(env, n);
    for (int k = 0; k < n; k++)
        a.Set((uint32_t)k, FromInt64(env, x[k]));
    objs.Set(i, a);
    return false;
}

// A cache entry as JavaScript sees it (swig/cache.i): [state, value Buffer or
// null, stale, failOpen, layer, ttlMs, version, lease, outcome] (outcome:
// redisx_cache_entry_outcome). The entry is freed
// here unless it holds the key's lease: then lease is its handle, which the
// JS layer fills or abandons, then frees.
Napi::Value CacheAnswer(Napi::Env env, redisx_cache_entry *e)
{
    Napi::Array a = Napi::Array::New(env, 9);
    int state = (int)redisx_cache_entry_state(e);
    size_t n = 0;
    const void *v = redisx_cache_entry_value(e, &n);
    a.Set((uint32_t)0, Napi::Number::New(env, state));
    if (v && state != REDISX_CACHE_NEGATIVE && state != REDISX_CACHE_MISS)
        a.Set((uint32_t)1, Napi::Buffer<char>::Copy(env, (const char *)v, n));
    else
        a.Set((uint32_t)1, env.Null());
    a.Set((uint32_t)2, Napi::Boolean::New(env, redisx_cache_entry_is_stale(e) != 0));
    a.Set((uint32_t)3, Napi::Boolean::New(env, redisx_cache_entry_is_fail_open(e) != 0));
    a.Set((uint32_t)4, Napi::Number::New(env, (int)redisx_cache_entry_layer(e)));
    a.Set((uint32_t)5, FromInt64(env, redisx_cache_entry_ttl_ms(e)));
    a.Set((uint32_t)6, Napi::Number::New(env, (double)redisx_cache_entry_version(e)));
    a.Set((uint32_t)8, Napi::String::New(env, redisx_cache_entry_outcome(e)));
    if (redisx_cache_entry_should_refresh(e)) {
        a.Set((uint32_t)7, redisxjs_wrap_cache_entry(env, e));
    } else {
        a.Set((uint32_t)7, env.Null());
        redisx_cache_entry_free(e);
    }
    return a;
}

// cachePeek(cache, key) → CacheAnswer or null: the L1 alone, on the JS thread
// (redisx_cache_peek never blocks and sends nothing). The key was checked in
// JavaScript (lib/cache.js: a string without NUL or lone surrogates).
Napi::Value CachePeek(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_cache *cache = info.Length() == 2 ? redisxjs_unwrap_cache(info[0]) : nullptr;
    if (!cache || !info[1].IsString())
        throw Napi::TypeError::New(env, "cachePeek(cache, key)");
    std::string key = info[1].As<Napi::String>().Utf8Value();
    redisx_cache_entry *e = nullptr;
    redisx_status st = redisx_cache_peek(&e, cache, key.c_str());
    if (st < 0) {
        // the shape of swig/node.i's errors, which lib/errors.js translates
        std::string detail = redisx_last_error();
        const char *name = redisx_status_name(st);
        Napi::Error err = Napi::Error::New(env, detail);
        err.Set("status", Napi::Number::New(env, (int)st));
        err.Set("code", Napi::String::New(env, name ? name : "ERR_UNKNOWN"));
        err.Set("detail", Napi::String::New(env, detail));
        throw err;
    }
    return e ? CacheAnswer(env, e) : env.Null();
}

// cacheGetL1(cache, key, known, out) → Buffer (a fresh L1 HIT), true (a
// fresh L1 HIT whose version is `known`: the caller's memoised decode is
// current, nothing copied), false (a cached "not found") or null (no fresh
// L1 copy: ask the core asynchronously). The hit's version goes to the
// Float64Array out[0]. The hot path of cache.get(): one crossing, at most
// one Buffer, no answer array.
Napi::Value CacheGetL1(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_cache *cache = info.Length() == 4 ? redisxjs_unwrap_cache(info[0]) : nullptr;
    if (!cache || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsTypedArray() ||
        info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
        throw Napi::TypeError::New(env, "cacheGetL1(cache, key, known, Float64Array)");
    std::string key = info[1].As<Napi::String>().Utf8Value();
    redisx_cache_entry *e = nullptr;
    if (redisx_cache_peek(&e, cache, key.c_str()) < 0 || !e)
        return env.Null(); // errors are reported by the asynchronous get that follows
    Napi::Value out;
    if (redisx_cache_entry_state(e) == REDISX_CACHE_HIT) {
        double version = (double)redisx_cache_entry_version(e);
        info[3].As<Napi::Float64Array>()[0] = version;
        if (version != 0 && version == info[2].As<Napi::Number>().DoubleValue()) {
            out = Napi::Boolean::New(env, true);
        } else {
            size_t n = 0;
            const void *v = redisx_cache_entry_value(e, &n);
            out = Napi::Buffer<char>::Copy(env, (const char *)v, n);
        }
    } else {
        out = Napi::Boolean::New(env, false);
    }
    redisx_cache_entry_free(e);
    return out;
}

struct ItemFree {
    void operator()(redisx_item *item) const
    {
        redisx_item_free(item);
    }
};

void DecodeCompletion(Napi::Env env, redisx_item *item, double *v, Napi::Array &objs, uint32_t i,
                      const Napi::Function &replyError)
{
    redisx_status status = redisx_item_status(item);
    v[F_STATUS] = (double)(int)status;
    if (status < 0) {
        v[F_PAYLOAD] = P_MESSAGE;
        objs.Set(i, Napi::String::New(env, redisx_item_message(item)));
        return;
    }
    // At most one of these is set, by the kind of call that completed.
    if (redisx_lock *lock = redisx_item_take_lock(item)) {
        v[F_PAYLOAD] = P_LOCK;
        objs.Set(i, redisxjs_wrap_lock(env, lock));
    } else if (redisx_ratelimit_result *rl = redisx_item_take_ratelimit_result(item)) {
        std::unique_ptr<redisx_ratelimit_result, void (*)(redisx_ratelimit_result *)> own(
            rl, redisx_ratelimit_result_free);
        int64_t x[6] = {redisx_ratelimit_result_allowed(rl),        redisx_ratelimit_result_limit(rl),
                        redisx_ratelimit_result_remaining(rl),      redisx_ratelimit_result_reset_ms(rl),
                        redisx_ratelimit_result_retry_after_ms(rl), redisx_ratelimit_result_fail_open(rl)};
        v[F_PAYLOAD] = PutInt64s(env, v + F_V0, x, 6, objs, i) ? P_RATELIMIT : P_RATELIMIT_OBJ;
    } else if (redisx_reply *reply = redisx_item_take_reply(item)) {
        std::unique_ptr<redisx_reply, void (*)(redisx_reply *)> own(reply, redisx_reply_free);
        v[F_PAYLOAD] = P_REPLY;
        objs.Set(i, ReplyValue(env, reply, replyError));
    } else if (const redisx_lock_info *info = redisx_item_lock_info(item)) {
        int64_t x[4] = {redisx_lock_info_locked(info), redisx_lock_info_fencing_token(info),
                        redisx_lock_info_ttl_ms(info), redisx_lock_info_last_fencing_token(info)};
        v[F_PAYLOAD] = PutInt64s(env, v + F_V0, x, 4, objs, i) ? P_LOCK_INFO : P_LOCK_INFO_OBJ;
    } else if (redisx_idem *rec = redisx_item_take_idem(item)) {
        v[F_PAYLOAD] = P_IDEM;
        objs.Set(i, redisxjs_wrap_idem(env, rec));
    } else if (redisx_cache_entry *ce = redisx_item_take_cache_entry(item)) {
        v[F_PAYLOAD] = P_CACHE;
        objs.Set(i, CacheAnswer(env, ce));
    } else {
        v[F_PAYLOAD] = P_NONE;
    }
}

Napi::Value DrainQueue(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_queue *q = info.Length() == 5 ? redisxjs_unwrap_queue(info[0]) : nullptr;
    if (!q || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        !info[2].IsArray() || !info[3].IsNumber() || !info[4].IsFunction())
        throw Napi::TypeError::New(env, "drainQueue(queue, Float64Array, Array, max, replyError)");
    Napi::Float64Array nums = info[1].As<Napi::Float64Array>();
    Napi::Array objs = info[2].As<Napi::Array>();
    Napi::Function replyError = info[4].As<Napi::Function>();
    double want = info[3].As<Napi::Number>().DoubleValue();
    uint32_t cap = (uint32_t)(nums.ElementLength() / STRIDE);
    uint32_t max = want >= cap ? cap : want > 0 ? (uint32_t)want : 0;
    double *base = nums.Data();
    uint32_t n = 0;
    while (n < max) {
        redisx_item *raw = nullptr;
        redisx_status st = redisx_queue_pop(&raw, q, 0);
        if (st == REDISX_ERR_EMPTY)
            break;
        if (st < 0) {
            // As the SWIG wrapper of redisx_queue_pop reports it; items
            // already decoded in this batch are lost only if this happens,
            // which needs a queue that is not a queue.
            Napi::Error err = Napi::Error::New(env, redisx_last_error());
            err.Set("status", Napi::Number::New(env, (int)st));
            throw err;
        }
        std::unique_ptr<redisx_item, ItemFree> item(raw);
        double *v = base + (size_t)n * STRIDE;
        redisx_item_kind kind = redisx_item_kind_of(raw);
        v[F_KIND] = (double)kind;
        v[F_TAG] = (double)(uintptr_t)redisx_item_user(raw);
        v[F_STATUS] = 0;
        v[F_PAYLOAD] = P_NONE;
        switch (kind) {
        case REDISX_ITEM_COMPLETION:
            DecodeCompletion(env, raw, v, objs, n, replyError);
            break;
        case REDISX_ITEM_EVENT:
            objs.Set(n, EventObject(env, redisx_item_event(raw)));
            break;
        case REDISX_ITEM_LOG:
            v[F_V0] = (double)redisx_item_log_level(raw);
            objs.Set(n, Napi::String::New(env, redisx_item_message(raw)));
            break;
        case REDISX_ITEM_STATE:
            v[F_V0] = (double)redisx_item_state(raw);
            v[F_V0 + 1] = (double)redisx_item_connection(raw);
            {
                Napi::Array pair = Napi::Array::New(env, 2); // [detail, node]
                pair.Set(0u, Napi::String::New(env, redisx_item_message(raw)));
                const char *node = redisx_item_node(raw);
                pair.Set(1u, node ? Napi::Value(Napi::String::New(env, node)) : env.Null());
                objs.Set(n, pair);
            }
            break;
        default: // REDISX_ITEM_LOCK_LOST: the tag says which lock
            break;
        }
        n++;
    }
    return Napi::Number::New(env, n);
}

Napi::Object DrainLayout(Napi::Env env)
{
    Napi::Object o = Napi::Object::New(env);
    o.Set("stride", STRIDE);
    o.Set("kind", (uint32_t)F_KIND);
    o.Set("tag", (uint32_t)F_TAG);
    o.Set("status", (uint32_t)F_STATUS);
    o.Set("payload", (uint32_t)F_PAYLOAD);
    o.Set("v0", (uint32_t)F_V0);
    o.Set("NONE", (int)P_NONE);
    o.Set("MESSAGE", (int)P_MESSAGE);
    o.Set("LOCK", (int)P_LOCK);
    o.Set("LOCK_INFO", (int)P_LOCK_INFO);
    o.Set("LOCK_INFO_OBJ", (int)P_LOCK_INFO_OBJ);
    o.Set("REPLY", (int)P_REPLY);
    o.Set("RATELIMIT", (int)P_RATELIMIT);
    o.Set("RATELIMIT_OBJ", (int)P_RATELIMIT_OBJ);
    o.Set("IDEM", (int)P_IDEM);
    o.Set("CACHE", (int)P_CACHE);
    o.Freeze();
    return o;
}

} // namespace

void redisxjs_loop_init(Napi::Env env, Napi::Object exports)
{
    exports.Set("Poller", Poller::Define(env));
    exports.Set("drainQueue", Napi::Function::New(env, DrainQueue, "drainQueue"));
    exports.Set("drainLayout", DrainLayout(env));
    exports.Set("shutdownClient", Napi::Function::New(env, ShutdownClient, "shutdownClient"));
    exports.Set("freeClient", Napi::Function::New(env, FreeClient, "freeClient"));
    exports.Set("cachePeek", Napi::Function::New(env, CachePeek, "cachePeek"));
    exports.Set("cacheGetL1", Napi::Function::New(env, CacheGetL1, "cacheGetL1"));
}
