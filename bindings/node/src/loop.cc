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
//
// Nothing here talks to Redis or decides anything: it only moves control
// between threads.
#include <napi.h>
#include <uv.h>

#include <redisx/redisx.h>

// Defined in the SWIG-generated wrapper (swig/node.i).
redisx_client *redisxjs_unwrap_client(Napi::Value v);
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

} // namespace

void redisxjs_loop_init(Napi::Env env, Napi::Object exports)
{
    exports.Set("Poller", Poller::Define(env));
    exports.Set("shutdownClient", Napi::Function::New(env, ShutdownClient, "shutdownClient"));
    exports.Set("freeClient", Napi::Function::New(env, FreeClient, "freeClient"));
}
