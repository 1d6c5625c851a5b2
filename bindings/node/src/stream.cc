// Redis Streams for Node (redisx/stream.h). Every stream call of the core
// blocks (a round trip, or a blocked XREADGROUP), so none is wrapped by SWIG:
// each runs here on the libuv thread pool (Napi::AsyncWorker) and settles a
// Promise. lib/stream.js builds the idiomatic layer on these functions:
//
//   streamPublish(client, stream, messages, trim, threshold) -> Promise<ids>
//       messages: [{payload?: Buffer, codec?: string, headers: [[name, Buffer]],
//                   fields: [[Buffer, Buffer]]}], built into one batch here
//                   (argument errors throw at once)
//   groupCreate(client, stream, group, start) -> Promise<void>
//   consumerNew(client, stream, group, name, opts) -> Promise<consumer>
//   consumerNext(consumer, max, timeoutMs) -> Promise<[message] | null>  (null: nothing in time)
//   messageAck(h) / messageDeadLetter(h, reason) -> Promise<void>
//   messageRetry(h, delayMs, reason) -> Promise<moved: boolean>
//   consumerStop(consumer, deadlineMs) -> Promise<boolean all settled>
//   consumerFree(consumer) -> Promise<void>
//   consumerInFlight(consumer) -> number
//   deadLetters(client, stream, newestFirst, after | null, count) -> Promise<[entry]>
//   requeueDeadLetter(client, stream, dlqId) -> Promise<new id>
//   purgeDeadLetters(client, stream, upTo | null) -> Promise<removed>
//   inspectDeadLetter(client, stream, dlqId) -> Promise<entry>
//   groupInfo(client, stream, group) -> Promise<{consumers, pending, lag, entriesRead, lastDeliveredId}>
//
// A message is {h, id, deliveryCount, stream, fields: [[Buffer, Buffer]],
// payload: Buffer | null, codec: string | null, headers: [[string, Buffer]]};
// its delivery is freed once every message of it is settled or collected.
// Failures reject with an Error carrying .status and .detail (lib/errors.js
// translates them into the matching class).
#include <napi.h>

#include <atomic>
#include <string>
#include <vector>

#include <redisx/redisx.h>

redisx_client *redisxjs_unwrap_client(Napi::Value v);

namespace {

Napi::Error StatusError(Napi::Env env, int status, const std::string &detail)
{
    const char *text = detail.empty() ? redisx_strerror(status) : detail.c_str();
    Napi::Error err = Napi::Error::New(env, text);
    const char *name = redisx_status_name(status);
    err.Set("status", Napi::Number::New(env, status));
    err.Set("code", Napi::String::New(env, name ? name : "ERR_UNKNOWN"));
    err.Set("detail", Napi::String::New(env, text));
    return err;
}

[[noreturn]] void Throw(Napi::Env env, int status, const std::string &detail)
{
    throw StatusError(env, status, detail);
}

[[noreturn]] void Invalid(Napi::Env env, const std::string &detail)
{
    Throw(env, REDISX_ERR_INVALID, detail);
}

void Check(Napi::Env env, redisx_status st)
{
    if (st != REDISX_OK)
        Throw(env, st, redisx_last_error());
}

std::string Str(Napi::Env env, Napi::Value v, const char *what)
{
    if (!v.IsString())
        Invalid(env, std::string(what) + " must be a string");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos)
        Invalid(env, std::string(what) + " contains a NUL character");
    return s;
}

int64_t Int(Napi::Env env, Napi::Value v, const char *what)
{
    if (!v.IsNumber())
        Invalid(env, std::string(what) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d == d) || d != (double)(int64_t)d || d < -9.2e18 || d > 9.2e18)
        Invalid(env, std::string(what) + " must be an integer");
    return (int64_t)d;
}

// A Buffer/Uint8Array's bytes, or a string's UTF-8.
std::string Bytes(Napi::Env env, Napi::Value v, const char *what)
{
    if (v.IsBuffer()) {
        auto b = v.As<Napi::Buffer<char>>();
        return std::string(b.Data(), b.Length());
    }
    if (v.IsTypedArray()) {
        auto a = v.As<Napi::TypedArray>();
        if (a.TypedArrayType() == napi_uint8_array) {
            auto u = v.As<Napi::Uint8Array>();
            return std::string((const char *)u.Data(), u.ByteLength());
        }
    }
    if (v.IsString())
        return v.As<Napi::String>().Utf8Value();
    Invalid(env, std::string(what) + " must be a Buffer, Uint8Array or string");
}

// ---- handles -------------------------------------------------------------------

struct ConsumerRef {
    redisx_consumer *c = nullptr;
    std::atomic<int> busy{0}; // workers using c (free waits for none)
    bool freeing = false;
};

struct DeliveryRef {
    redisx_delivery *d;
    std::atomic<size_t> left;
};

struct MessageRef {
    redisx_message *m;
    DeliveryRef *d;
    std::atomic<bool> settled{false};
    std::atomic<bool> busy{false};
};

void DeliveryDone(DeliveryRef *d)
{
    if (d->left.fetch_sub(1) == 1) {
        redisx_delivery_free(d->d);
        delete d;
    }
}

void FinalizeMessage(Napi::Env, MessageRef *m)
{
    if (!m->settled.exchange(true))
        DeliveryDone(m->d); // dropped unsettled: pending, redelivered after min idle
    delete m;
}

void FinalizeConsumer(Napi::Env, ConsumerRef *c)
{
    if (c->c)
        redisx_consumer_free(c->c);
    delete c;
}

ConsumerRef *UnwrapConsumer(Napi::Env env, Napi::Value v)
{
    if (!v.IsExternal())
        Invalid(env, "not a stream consumer");
    ConsumerRef *c = v.As<Napi::External<ConsumerRef>>().Data();
    if (!c->c || c->freeing)
        Throw(env, REDISX_ERR_CLOSED, "consumer is closed");
    return c;
}

MessageRef *UnwrapMessage(Napi::Env env, Napi::Value v)
{
    if (!v.IsExternal())
        Invalid(env, "not a stream message");
    return v.As<Napi::External<MessageRef>>().Data();
}

// ---- workers -------------------------------------------------------------------

// Runs `run` on the thread pool; resolves with `ok(env)` or rejects with the
// status and the detail read on the worker thread.
class Worker : public Napi::AsyncWorker {
public:
    explicit Worker(Napi::Env env, const char *name)
        : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env))
    {
    }
    Napi::Promise Start()
    {
        Napi::Promise p = deferred_.Promise();
        Queue();
        return p;
    }

protected:
    virtual redisx_status Run() = 0;
    virtual Napi::Value Result(Napi::Env env)
    {
        return env.Undefined();
    }
    virtual void Finally()
    {
    }
    void Execute() override
    {
        st_ = Run();
        if (st_ != REDISX_OK)
            detail_ = redisx_last_error();
    }
    void OnOK() override
    {
        Napi::Env env = Env();
        Napi::HandleScope scope(env);
        Finally();
        if (st_ != REDISX_OK && !(st_ == REDISX_ERR_EMPTY && emptyIsData_) &&
            !(st_ == REDISX_ERR_TIMEOUT && timeoutIsData_)) {
            deferred_.Reject(StatusError(env, st_, detail_).Value());
            return;
        }
        try {
            deferred_.Resolve(Result(env));
        } catch (const Napi::Error &e) {
            deferred_.Reject(e.Value());
        }
    }
    void OnError(const Napi::Error &e) override
    {
        Finally();
        deferred_.Reject(e.Value());
    }

    redisx_status st_ = REDISX_OK;
    std::string detail_;
    bool timeoutIsData_ = false; // consumerStop: false, not a rejection
    bool emptyIsData_ = false;   // consumerNext: null, not a rejection
    Napi::Promise::Deferred deferred_;
};

class PublishWorker : public Worker {
public:
    PublishWorker(Napi::Env env, Napi::Value client, redisx_client *c, std::string stream, redisx_stream_batch *b,
                  int trim, int64_t threshold)
        : Worker(env, "redisx.streamPublish"), client_(Napi::Persistent(client)), c_(c), stream_(std::move(stream)),
          b_(b), trim_(trim), threshold_(threshold)
    {
    }
    ~PublishWorker() override
    {
        redisx_stream_batch_free(b_);
    }

protected:
    redisx_status Run() override
    {
        return redisx_stream_publish_batch(c_, stream_.c_str(), b_, (redisx_stream_trim)trim_, threshold_);
    }
    Napi::Value Result(Napi::Env env) override
    {
        size_t n = redisx_stream_batch_size(b_);
        Napi::Array ids = Napi::Array::New(env, n);
        for (size_t i = 0; i < n; i++)
            ids.Set((uint32_t)i, Napi::String::New(env, redisx_stream_batch_id(b_, i)));
        return ids;
    }

private:
    Napi::Reference<Napi::Value> client_; // keeps the JS client (and so the handle) alive
    redisx_client *c_;
    std::string stream_;
    redisx_stream_batch *b_;
    int trim_;
    int64_t threshold_;
};

Napi::Value StreamPublish(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_client *c = info.Length() == 5 ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c)
        Invalid(env, "streamPublish(client, stream, messages, trim, threshold)");
    std::string stream = Str(env, info[1], "stream name");
    if (!info[2].IsArray())
        Invalid(env, "messages must be an array");
    Napi::Array msgs = info[2].As<Napi::Array>();
    int64_t trim = Int(env, info[3], "trim"), threshold = Int(env, info[4], "trim threshold");
    redisx_stream_batch *b = nullptr;
    Check(env, redisx_stream_batch_new(&b));
    try {
        for (uint32_t i = 0; i < msgs.Length(); i++) {
            Napi::Value mv = msgs.Get(i);
            if (!mv.IsObject())
                Invalid(env, "a message must be an object");
            Napi::Object m = mv.As<Napi::Object>();
            Check(env, redisx_stream_batch_add_message(b));
            Napi::Value payload = m.Get("payload");
            if (!payload.IsUndefined() && !payload.IsNull()) {
                std::string p = Bytes(env, payload, "payload");
                Napi::Value codec = m.Get("codec");
                std::string k = codec.IsUndefined() || codec.IsNull() ? "" : Str(env, codec, "codec name");
                Check(env, redisx_stream_batch_add_payload(b, p.data(), p.size(), k.empty() ? nullptr : k.c_str()));
            }
            for (const char *part : {"headers", "fields"}) {
                Napi::Value list = m.Get(part);
                if (list.IsUndefined() || list.IsNull())
                    continue;
                if (!list.IsArray())
                    Invalid(env, std::string(part) + " must be an array of [name, value] pairs");
                Napi::Array a = list.As<Napi::Array>();
                for (uint32_t j = 0; j < a.Length(); j++) {
                    Napi::Value pair = a.Get(j);
                    if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2)
                        Invalid(env, std::string(part) + " must be an array of [name, value] pairs");
                    Napi::Array pa = pair.As<Napi::Array>();
                    std::string value = Bytes(env, pa.Get(1u), "a value");
                    if (part[0] == 'h') {
                        std::string name = Str(env, pa.Get(0u), "header name");
                        Check(env, redisx_stream_batch_add_header(b, name.c_str(), value.data(), value.size()));
                    } else {
                        std::string name = Bytes(env, pa.Get(0u), "field name");
                        Check(env, redisx_stream_batch_add_field(b, name.data(), name.size(), value.data(),
                                                                 value.size()));
                    }
                }
            }
        }
    } catch (...) {
        redisx_stream_batch_free(b);
        throw;
    }
    auto *w = new PublishWorker(env, info[0], c, stream, b, (int)trim, threshold);
    return w->Start();
}

class GroupWorker : public Worker {
public:
    GroupWorker(Napi::Env env, Napi::Value client, redisx_client *c, std::string s, std::string g, std::string start)
        : Worker(env, "redisx.groupCreate"), client_(Napi::Persistent(client)), c_(c), s_(std::move(s)),
          g_(std::move(g)), start_(std::move(start))
    {
    }

protected:
    redisx_status Run() override
    {
        return redisx_group_create(c_, s_.c_str(), g_.c_str(), start_.c_str());
    }

private:
    Napi::Reference<Napi::Value> client_;
    redisx_client *c_;
    std::string s_, g_, start_;
};

Napi::Value GroupCreate(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_client *c = info.Length() == 4 ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c)
        Invalid(env, "groupCreate(client, stream, group, start)");
    auto *w = new GroupWorker(env, info[0], c, Str(env, info[1], "stream name"), Str(env, info[2], "group name"),
                              Str(env, info[3], "start id"));
    return w->Start();
}

class ConsumerNewWorker : public Worker {
public:
    ConsumerNewWorker(Napi::Env env, Napi::Value client, redisx_client *c, std::string s, std::string g,
                      std::string n, redisx_consumer_options *o)
        : Worker(env, "redisx.consumerNew"), client_(Napi::Persistent(client)), c_(c), s_(std::move(s)),
          g_(std::move(g)), n_(std::move(n)), o_(o)
    {
    }
    ~ConsumerNewWorker() override
    {
        redisx_consumer_options_free(o_);
        if (cons_)
            redisx_consumer_free(cons_);
    }

protected:
    redisx_status Run() override
    {
        return redisx_consumer_new(&cons_, c_, s_.c_str(), g_.c_str(), n_.c_str(), o_);
    }
    Napi::Value Result(Napi::Env env) override
    {
        auto *ref = new ConsumerRef();
        ref->c = cons_;
        cons_ = nullptr;
        return Napi::External<ConsumerRef>::New(env, ref, FinalizeConsumer);
    }

private:
    Napi::Reference<Napi::Value> client_;
    redisx_client *c_;
    std::string s_, g_, n_;
    redisx_consumer_options *o_;
    redisx_consumer *cons_ = nullptr;
};

Napi::Value ConsumerNew(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    redisx_client *c = info.Length() == 5 ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c || !info[4].IsObject())
        Invalid(env, "consumerNew(client, stream, group, name, options)");
    std::string s = Str(env, info[1], "stream name"), g = Str(env, info[2], "group name"),
                n = Str(env, info[3], "consumer name");
    Napi::Object o = info[4].As<Napi::Object>();
    redisx_consumer_options *opts = nullptr;
    Check(env, redisx_consumer_options_new(&opts));
    try {
        auto has = [&](const char *k) { return !o.Get(k).IsUndefined() && !o.Get(k).IsNull(); };
        auto num = [&](const char *k) { return Int(env, o.Get(k), k); };
        if (has("maxInFlight"))
            Check(env, redisx_consumer_options_set_max_in_flight(opts, (int)num("maxInFlight")));
        if (has("maxDeliveries"))
            Check(env, redisx_consumer_options_set_max_deliveries(opts, (int)num("maxDeliveries")));
        if (has("backoffMin") || has("backoffMax"))
            Check(env, redisx_consumer_options_set_retry_backoff_ms(opts, has("backoffMin") ? num("backoffMin") : 100,
                                                                    has("backoffMax") ? num("backoffMax") : 30000));
        if (has("minIdle") || has("reclaimInterval"))
            Check(env, redisx_consumer_options_set_reclaim(opts, has("minIdle") ? num("minIdle") : 30000,
                                                           has("reclaimInterval") ? num("reclaimInterval") : 0));
        if (has("block"))
            Check(env, redisx_consumer_options_set_block_ms(opts, num("block")));
        if (has("deleteIdle"))
            Check(env, redisx_consumer_options_set_delete_idle_ms(opts, num("deleteIdle")));
        if (has("deadLetterMaxLen"))
            Check(env, redisx_consumer_options_set_dead_letter_maxlen(opts, num("deadLetterMaxLen")));
        if (has("idempotentLease") || has("idempotentTtl"))
            Check(env, redisx_consumer_options_set_idempotent(opts, has("idempotentLease") ? num("idempotentLease") : 30000,
                                                              has("idempotentTtl") ? num("idempotentTtl") : 86400000));
    } catch (...) {
        redisx_consumer_options_free(opts);
        throw;
    }
    auto *w = new ConsumerNewWorker(env, info[0], c, s, g, n, opts);
    return w->Start();
}

// Holds the consumer's External while a worker uses it (never freed under it).
class ConsumerWorker : public Worker {
public:
    ConsumerWorker(Napi::Env env, const char *name, Napi::Value cons, ConsumerRef *ref)
        : Worker(env, name), keep_(Napi::Persistent(cons)), ref_(ref)
    {
        ref_->busy++;
    }

protected:
    void Finally() override
    {
        ref_->busy--;
    }
    Napi::Reference<Napi::Value> keep_;
    ConsumerRef *ref_;
};

class NextWorker : public ConsumerWorker {
public:
    NextWorker(Napi::Env env, Napi::Value cons, ConsumerRef *ref, int max, int64_t timeout)
        : ConsumerWorker(env, "redisx.consumerNext", cons, ref), max_(max), timeout_(timeout)
    {
        emptyIsData_ = true;
    }
    ~NextWorker() override
    {
        if (d_)
            redisx_delivery_free(d_);
    }

protected:
    redisx_status Run() override
    {
        return redisx_consumer_next(&d_, ref_->c, max_, timeout_);
    }
    Napi::Value Result(Napi::Env env) override
    {
        if (!d_)
            return env.Null();
        size_t n = redisx_delivery_count(d_);
        if (n == 0) {
            redisx_delivery_free(d_);
            d_ = nullptr;
            return env.Null();
        }
        auto *dref = new DeliveryRef{d_, {n}};
        d_ = nullptr;
        Napi::Array out = Napi::Array::New(env, n);
        for (size_t i = 0; i < n; i++) {
            redisx_message *m = redisx_delivery_message(dref->d, i);
            auto *mref = new MessageRef();
            mref->m = m;
            mref->d = dref;
            Napi::Object o = Napi::Object::New(env);
            o.Set("h", Napi::External<MessageRef>::New(env, mref, FinalizeMessage));
            o.Set("id", Napi::String::New(env, redisx_message_id(m)));
            o.Set("deliveryCount", Napi::Number::New(env, (double)redisx_message_delivery_count(m)));
            o.Set("takenOver", Napi::Boolean::New(env, redisx_message_taken_over(m) != 0));
            o.Set("stream", Napi::String::New(env, redisx_message_stream(m)));
            size_t nf = redisx_message_field_count(m);
            Napi::Array fields = Napi::Array::New(env);
            for (size_t k = 0, j = 0; k < nf; k++) {
                if (redisx_message_field_reserved(m, k))
                    continue;
                size_t ln = 0, lv = 0;
                const char *fn = redisx_message_field_name(m, k, &ln);
                const char *fv = redisx_message_field_value(m, k, &lv);
                Napi::Array pair = Napi::Array::New(env, 2);
                pair.Set(0u, Napi::Buffer<char>::Copy(env, fn, ln));
                pair.Set(1u, Napi::Buffer<char>::Copy(env, fv, lv));
                fields.Set((uint32_t)j++, pair);
            }
            o.Set("fields", fields);
            size_t nh = redisx_message_header_count(m);
            Napi::Array headers = Napi::Array::New(env, nh);
            for (size_t k = 0; k < nh; k++) {
                size_t lv = 0;
                const char *hv = redisx_message_header_value(m, k, &lv);
                Napi::Array pair = Napi::Array::New(env, 2);
                pair.Set(0u, Napi::String::New(env, redisx_message_header_name(m, k)));
                pair.Set(1u, Napi::Buffer<char>::Copy(env, hv, lv));
                headers.Set((uint32_t)k, pair);
            }
            o.Set("headers", headers);
            size_t lp = 0;
            const char *p = redisx_message_payload(m, &lp);
            o.Set("payload", p ? (Napi::Value)Napi::Buffer<char>::Copy(env, p, lp) : env.Null());
            const char *codec = redisx_message_codec(m);
            o.Set("codec", codec ? (Napi::Value)Napi::String::New(env, codec) : env.Null());
            out.Set((uint32_t)i, o);
        }
        return out;
    }

private:
    int max_;
    int64_t timeout_;
    redisx_delivery *d_ = nullptr;
};

Napi::Value ConsumerNext(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 3)
        Invalid(env, "consumerNext(consumer, max, timeoutMs)");
    ConsumerRef *ref = UnwrapConsumer(env, info[0]);
    auto *w = new NextWorker(env, info[0], ref, (int)Int(env, info[1], "max"), Int(env, info[2], "timeout"));
    return w->Start();
}

class StopWorker : public ConsumerWorker {
public:
    StopWorker(Napi::Env env, Napi::Value cons, ConsumerRef *ref, int64_t deadline, bool free)
        : ConsumerWorker(env, free ? "redisx.consumerFree" : "redisx.consumerStop", cons, ref), deadline_(deadline),
          free_(free)
    {
        timeoutIsData_ = true;
    }

protected:
    redisx_status Run() override
    {
        if (free_) {
            // Wait for the other workers using the handle (a next() ends at
            // once: the stop unblocks it), then free it.
            redisx_status st = redisx_consumer_stop(ref_->c, 0);
            while (ref_->busy.load() > 1)
                uv_sleep_ms();
            redisx_consumer_free(ref_->c);
            ref_->c = nullptr;
            (void)st;
            return REDISX_OK;
        }
        return redisx_consumer_stop(ref_->c, deadline_);
    }
    Napi::Value Result(Napi::Env env) override
    {
        return Napi::Boolean::New(env, st_ == REDISX_OK);
    }

private:
    static void uv_sleep_ms()
    {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    int64_t deadline_;
    bool free_;
};

Napi::Value ConsumerStop(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 2)
        Invalid(env, "consumerStop(consumer, deadlineMs)");
    ConsumerRef *ref = UnwrapConsumer(env, info[0]);
    auto *w = new StopWorker(env, info[0], ref, Int(env, info[1], "deadline"), false);
    return w->Start();
}

Napi::Value ConsumerFree(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsExternal())
        Invalid(env, "consumerFree(consumer)");
    ConsumerRef *ref = info[0].As<Napi::External<ConsumerRef>>().Data();
    if (!ref->c || ref->freeing) {
        auto d = Napi::Promise::Deferred::New(env);
        d.Resolve(env.Undefined());
        return d.Promise();
    }
    ref->freeing = true;
    auto *w = new StopWorker(env, info[0], ref, 0, true);
    return w->Start();
}

Napi::Value ConsumerInFlight(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsExternal())
        Invalid(env, "consumerInFlight(consumer)");
    ConsumerRef *ref = info[0].As<Napi::External<ConsumerRef>>().Data();
    return Napi::Number::New(env, ref->c && !ref->freeing ? redisx_consumer_in_flight(ref->c) : 0);
}

enum SettleKind { ACK, RETRY, DEAD };

class SettleWorker : public Worker {
public:
    SettleWorker(Napi::Env env, Napi::Value h, MessageRef *m, SettleKind kind, int64_t delay, std::string reason)
        : Worker(env, "redisx.messageSettle"), keep_(Napi::Persistent(h)), m_(m), kind_(kind), delay_(delay),
          reason_(std::move(reason))
    {
    }

protected:
    redisx_status Run() override
    {
        switch (kind_) {
        case ACK:
            return redisx_message_ack(m_->m);
        case RETRY:
            return redisx_message_retry(m_->m, delay_, reason_.c_str(), &moved_);
        default:
            return redisx_message_dead_letter(m_->m, reason_.c_str());
        }
    }
    void Finally() override
    {
        m_->busy = false;
        // Settled unless the core refused the arguments (then it may be
        // settled again); any other outcome leaves it with Redis.
        if (st_ != REDISX_ERR_INVALID && !m_->settled.exchange(true))
            DeliveryDone(m_->d);
    }
    Napi::Value Result(Napi::Env env) override
    {
        return kind_ == RETRY ? (Napi::Value)Napi::Boolean::New(env, moved_ != 0) : env.Undefined();
    }

private:
    Napi::Reference<Napi::Value> keep_;
    MessageRef *m_;
    SettleKind kind_;
    int64_t delay_;
    std::string reason_;
    int moved_ = 0;
};

Napi::Value Settle(const Napi::CallbackInfo &info, SettleKind kind)
{
    Napi::Env env = info.Env();
    if (info.Length() < 1)
        Invalid(env, "message handle missing");
    MessageRef *m = UnwrapMessage(env, info[0]);
    int64_t delay = kind == RETRY ? Int(env, info[1], "delay") : 0;
    std::string reason = kind == RETRY ? Str(env, info[2], "reason") : kind == DEAD ? Str(env, info[1], "reason") : "";
    if (m->settled.load() || m->busy.exchange(true))
        Invalid(env, std::string("message ") + redisx_message_id(m->m) + " is settled already");
    auto *w = new SettleWorker(env, info[0], m, kind, delay, reason);
    return w->Start();
}

Napi::Value MessageAck(const Napi::CallbackInfo &info)
{
    return Settle(info, ACK);
}
Napi::Value MessageRetry(const Napi::CallbackInfo &info)
{
    return Settle(info, RETRY);
}
Napi::Value MessageDeadLetter(const Napi::CallbackInfo &info)
{
    return Settle(info, DEAD);
}

// ---- dead-letter tools ------------------------------------------------------------

Napi::Object DlqEntryObject(Napi::Env env, const redisx_dlq_entry *e)
{
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Napi::String::New(env, redisx_dlq_entry_id(e)));
    o.Set("originalId", Napi::String::New(env, redisx_dlq_entry_original_id(e)));
    o.Set("stream", Napi::String::New(env, redisx_dlq_entry_stream(e)));
    o.Set("group", Napi::String::New(env, redisx_dlq_entry_group(e)));
    o.Set("consumer", Napi::String::New(env, redisx_dlq_entry_consumer(e)));
    o.Set("deliveries", Napi::Number::New(env, (double)redisx_dlq_entry_deliveries(e)));
    o.Set("error", Napi::String::New(env, redisx_dlq_entry_error(e)));
    o.Set("deleted", Napi::Boolean::New(env, redisx_dlq_entry_deleted(e) != 0));
    size_t nf = redisx_dlq_entry_field_count(e);
    Napi::Array fields = Napi::Array::New(env, nf);
    for (size_t k = 0; k < nf; k++) {
        size_t ln = 0, lv = 0;
        const char *fn = redisx_dlq_entry_field_name(e, k, &ln);
        const char *fv = redisx_dlq_entry_field_value(e, k, &lv);
        Napi::Array pair = Napi::Array::New(env, 2);
        pair.Set(0u, Napi::Buffer<char>::Copy(env, fn, ln));
        pair.Set(1u, Napi::Buffer<char>::Copy(env, fv, lv));
        fields.Set((uint32_t)k, pair);
    }
    o.Set("fields", fields);
    return o;
}

class DlqWorker : public Worker {
public:
    enum Kind { LIST, REQUEUE, PURGE, INSPECT, GROUP };
    DlqWorker(Napi::Env env, Napi::Value client, redisx_client *c, Kind kind, std::string stream, std::string arg,
              bool hasArg, int newest, int count)
        : Worker(env, "redisx.dlq"), client_(Napi::Persistent(client)), c_(c), kind_(kind), stream_(std::move(stream)),
          arg_(std::move(arg)), hasArg_(hasArg), newest_(newest), count_(count)
    {
    }
    ~DlqWorker() override
    {
        redisx_dlq_entries_free(list_);
        redisx_dlq_entry_free(entry_);
        redisx_group_info_free(group_);
    }

protected:
    redisx_status Run() override
    {
        const char *a = hasArg_ ? arg_.c_str() : nullptr;
        switch (kind_) {
        case LIST:
            return redisx_dlq_list(&list_, c_, stream_.c_str(), newest_, a, count_);
        case REQUEUE:
            return redisx_dlq_requeue(id_, c_, stream_.c_str(), a);
        case INSPECT:
            return redisx_dlq_inspect(&entry_, c_, stream_.c_str(), a);
        case GROUP:
            return redisx_group_inspect(&group_, c_, stream_.c_str(), a);
        default:
            return redisx_dlq_purge(&removed_, c_, stream_.c_str(), a);
        }
    }
    Napi::Value Result(Napi::Env env) override
    {
        if (kind_ == REQUEUE)
            return Napi::String::New(env, id_);
        if (kind_ == PURGE)
            return Napi::Number::New(env, (double)removed_);
        if (kind_ == INSPECT)
            return DlqEntryObject(env, entry_);
        if (kind_ == GROUP) {
            Napi::Object o = Napi::Object::New(env);
            o.Set("consumers", Napi::Number::New(env, (double)redisx_group_info_consumers(group_)));
            o.Set("pending", Napi::Number::New(env, (double)redisx_group_info_pending(group_)));
            int64_t lag = redisx_group_info_lag(group_), read = redisx_group_info_entries_read(group_);
            o.Set("lag", lag < 0 ? env.Null() : (Napi::Value)Napi::Number::New(env, (double)lag));
            o.Set("entriesRead", read < 0 ? env.Null() : (Napi::Value)Napi::Number::New(env, (double)read));
            o.Set("lastDeliveredId", Napi::String::New(env, redisx_group_info_last_delivered_id(group_)));
            return o;
        }
        size_t n = redisx_dlq_entries_count(list_);
        Napi::Array out = Napi::Array::New(env, n);
        for (size_t i = 0; i < n; i++) {
            const redisx_dlq_entry *e = redisx_dlq_entries_entry(list_, i);
            Napi::Object o = DlqEntryObject(env, e);
            out.Set((uint32_t)i, o);
        }
        return out;
    }

private:
    Napi::Reference<Napi::Value> client_;
    redisx_client *c_;
    Kind kind_;
    std::string stream_, arg_;
    bool hasArg_;
    int newest_, count_;
    redisx_dlq_entries *list_ = nullptr;
    redisx_dlq_entry *entry_ = nullptr;
    redisx_group_info *group_ = nullptr;
    char id_[REDISX_STREAM_ID_SIZE] = "";
    int64_t removed_ = 0;
};

// deadLetters(client, stream, newestFirst, after | null, count),
// requeueDeadLetter(client, stream, dlqId), purgeDeadLetters(client, stream, upTo | null)
Napi::Value Dlq(const Napi::CallbackInfo &info, DlqWorker::Kind kind)
{
    Napi::Env env = info.Env();
    size_t want = kind == DlqWorker::LIST ? 5 : 3;
    redisx_client *c = info.Length() == want ? redisxjs_unwrap_client(info[0]) : nullptr;
    if (!c)
        Invalid(env, "dead-letter tool: bad arguments");
    std::string stream = Str(env, info[1], "stream name");
    Napi::Value argv = kind == DlqWorker::LIST ? info[3] : info[2];
    bool hasArg = !argv.IsNull() && !argv.IsUndefined();
    std::string arg = hasArg ? Str(env, argv, kind == DlqWorker::GROUP ? "group name" : "entry id") : "";
    if ((kind == DlqWorker::INSPECT || kind == DlqWorker::GROUP) && !hasArg)
        Invalid(env, kind == DlqWorker::GROUP ? "groupInfo: a group name is needed" : "deadLetter: an entry id is needed");
    int newest = kind == DlqWorker::LIST ? (info[2].ToBoolean().Value() ? 1 : 0) : 0;
    int count = kind == DlqWorker::LIST ? (int)Int(env, info[4], "count") : 0;
    auto *w = new DlqWorker(env, info[0], c, kind, stream, arg, hasArg, newest, count);
    return w->Start();
}

Napi::Value DeadLetters(const Napi::CallbackInfo &info)
{
    return Dlq(info, DlqWorker::LIST);
}
Napi::Value RequeueDeadLetter(const Napi::CallbackInfo &info)
{
    return Dlq(info, DlqWorker::REQUEUE);
}
Napi::Value PurgeDeadLetters(const Napi::CallbackInfo &info)
{
    return Dlq(info, DlqWorker::PURGE);
}
Napi::Value InspectDeadLetter(const Napi::CallbackInfo &info)
{
    return Dlq(info, DlqWorker::INSPECT);
}
Napi::Value GroupInfo(const Napi::CallbackInfo &info)
{
    return Dlq(info, DlqWorker::GROUP);
}

} // namespace

void redisxjs_stream_init(Napi::Env env, Napi::Object exports)
{
    exports.Set("streamPublish", Napi::Function::New(env, StreamPublish, "streamPublish"));
    exports.Set("groupCreate", Napi::Function::New(env, GroupCreate, "groupCreate"));
    exports.Set("consumerNew", Napi::Function::New(env, ConsumerNew, "consumerNew"));
    exports.Set("consumerNext", Napi::Function::New(env, ConsumerNext, "consumerNext"));
    exports.Set("consumerStop", Napi::Function::New(env, ConsumerStop, "consumerStop"));
    exports.Set("consumerFree", Napi::Function::New(env, ConsumerFree, "consumerFree"));
    exports.Set("inspectDeadLetter", Napi::Function::New(env, InspectDeadLetter, "inspectDeadLetter"));
    exports.Set("groupInfo", Napi::Function::New(env, GroupInfo, "groupInfo"));
    exports.Set("consumerInFlight", Napi::Function::New(env, ConsumerInFlight, "consumerInFlight"));
    exports.Set("messageAck", Napi::Function::New(env, MessageAck, "messageAck"));
    exports.Set("messageRetry", Napi::Function::New(env, MessageRetry, "messageRetry"));
    exports.Set("messageDeadLetter", Napi::Function::New(env, MessageDeadLetter, "messageDeadLetter"));
    exports.Set("deadLetters", Napi::Function::New(env, DeadLetters, "deadLetters"));
    exports.Set("requeueDeadLetter", Napi::Function::New(env, RequeueDeadLetter, "requeueDeadLetter"));
    exports.Set("purgeDeadLetters", Napi::Function::New(env, PurgeDeadLetters, "purgeDeadLetters"));
}
