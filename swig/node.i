/* redisx — Node-API (swig -javascript -napi, SWIG >= 4.2) typemaps.
 *
 * Included by swig/redisx.i before the public headers. What the generated
 * module looks like from JavaScript (bindings/node/lib builds the idiomatic
 * layer on it):
 *
 *   - A call returning redisx_status returns undefined (or its out-parameter)
 *     and throws an Error carrying .status (number), .code ("ERR_TIMEOUT") and
 *     .detail (redisx_last_error(), read inside the same native call) when the
 *     status is negative. The few calls whose status is data
 *     (redisx_item_status, redisx_event_status) return it as a number.
 *   - Out-parameters (`T **out`) become the return value; a NULL handle is
 *     null.
 *   - `void *user` is an integer tag (a safe integer >= 0); redisx_item_user()
 *     gives it back.
 *   - C callbacks are not taken from JavaScript: every callback parameter is
 *     fixed to NULL, so asynchronous calls complete into the client's queue,
 *     which the hand-written part (bindings/node/src/loop.cc) watches with a
 *     libuv poll handle. Callback registrations are not wrapped, except
 *     redisx_options_set_log_cb(opts, level, tag), which then only sets the
 *     log level (it filters the queue's log lines too).
 *   - (argc, argv, argvlen) is one JavaScript array of Buffers and strings;
 *     redisx_reply_string() returns a Buffer (binary-safe) or null.
 *   - Binary inputs (const void *fingerprint/response/metadata, size_t *_len)
 *     are one Buffer, Uint8Array or string (UTF-8); null passes NULL with
 *     length 0. redisx_idem_response() and redisx_idem_metadata() return a
 *     Buffer (a copy).
 *   - Strings in must be strings without NUL characters (a NUL would silently
 *     cut a lock name) and without lone surrogates (Node-API would turn them
 *     into U+FFFD, making distinct strings one key); null passes NULL. The
 *     same holds for strings in argv and in binary inputs. Integers in must be integral numbers
 *     or BigInts in range. int64 results are numbers while they are safe
 *     integers and BigInts beyond.
 *   - Blocking forms (redisx_command, redisx_lock_acquire,
 *     redisx_limiter_check, redisx_idem_begin, ...) are not wrapped: they
 *     would block the event loop. redisx_client_shutdown() and
 *     redisx_client_close() are wrapped by the hand-written part, which
 *     runs the shutdown off the JS thread. redisx_cancel(client, tag)
 *     takes the integer tag of the operation to cancel.
 */

%{
#include <string.h>
#include <string>
#include <vector>

/* Throws the redisx error `status` with `detail` as a JavaScript Error with
 * .status, .code and .detail; the idiomatic layer swaps in the matching
 * subclass (lib/errors.js). */
static void redisxjs_throw(Napi::Env env, int status, const char *detail)
{
    const char *name = redisx_status_name(status);
    if (!detail || !*detail)
        detail = redisx_strerror(status);
    Napi::Error err = Napi::Error::New(env, detail);
    err.Set("status", Napi::Number::New(env, status));
    err.Set("code", Napi::String::New(env, name ? name : "ERR_UNKNOWN"));
    err.Set("detail", Napi::String::New(env, detail));
    throw err;
}

/* Argument `param` of `fn` is unusable: REDISX_ERR_INVALID, as the core
 * reports its own argument checks. */
static void redisxjs_invalid(Napi::Env env, const char *fn, const char *param, const char *what)
{
    std::string msg = std::string(fn) + ": " + param + " " + what;
    redisxjs_throw(env, REDISX_ERR_INVALID, msg.c_str());
}

/* An integral number or BigInt within [lo, hi]. */
static int64_t redisxjs_int(Napi::Env env, Napi::Value v, int64_t lo, int64_t hi, const char *fn, const char *param)
{
    int64_t x = 0;
    if (v.IsNumber()) {
        double d = v.As<Napi::Number>().DoubleValue();
        if (!(d == d) || d != (double)(int64_t)d || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            redisxjs_invalid(env, fn, param, "must be an integer");
        x = (int64_t)d;
    } else if (v.IsBigInt()) {
        bool lossless = false;
        x = v.As<Napi::BigInt>().Int64Value(&lossless);
        if (!lossless)
            redisxjs_invalid(env, fn, param, "is out of range");
    } else {
        redisxjs_invalid(env, fn, param, "must be an integer");
    }
    if (x < lo || x > hi)
        redisxjs_invalid(env, fn, param, "is out of range");
    return x;
}

/* The UTF-8 bytes of a JavaScript string, refusing strings that have none:
 * Node-API turns a lone surrogate ('\uD800') into U+FFFD, so distinct
 * strings would become one Redis key (one lock, one budget). Python refuses
 * them too (str has no UTF-8 encoding then); binary names are Buffers. Only
 * non-ASCII strings pay for the UTF-16 scan. */
static std::string redisxjs_utf8(Napi::Env env, Napi::Value v, const char *fn, const char *param)
{
    Napi::String js = v.As<Napi::String>();
    std::string s = js.Utf8Value();
    bool ascii = true;
    for (unsigned char c : s) {
        if (c >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii)
        return s;
    std::u16string u = js.Utf16Value();
    for (size_t i = 0; i < u.size(); i++) {
        char16_t c = u[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < u.size() && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            i++; /* a surrogate pair: one code point */
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            redisxjs_invalid(env, fn, param, "must be well-formed Unicode (it holds a lone surrogate, which has no UTF-8 form)");
        }
    }
    return s;
}

static Napi::Value redisxjs_from_int64(Napi::Env env, int64_t x)
{
    if (x >= -9007199254740991LL && x <= 9007199254740991LL)
        return Napi::Number::New(env, (double)x);
    return Napi::BigInt::New(env, x);
}

static Napi::Value redisxjs_from_uint64(Napi::Env env, uint64_t x)
{
    if (x <= 9007199254740991ULL)
        return Napi::Number::New(env, (double)x);
    return Napi::BigInt::New(env, x);
}
%}

/* ---- not wrapped ---------------------------------------------------------- */

/* Blocking forms: they would hold the event loop for a round trip or more. */
%ignore redisx_command;
%ignore redisx_lock_acquire;
%ignore redisx_lock_try_acquire;
%ignore redisx_lock_release;
%ignore redisx_lock_extend;
%ignore redisx_lock_inspect;
%ignore redisx_limiter_check;
%ignore redisx_limiter_peek;
%ignore redisx_limiter_reset;
%ignore redisx_idem_begin;
%ignore redisx_idem_complete;
%ignore redisx_idem_fail;
/* Join the I/O thread: the hand-written part runs redisx_client_shutdown on
 * libuv's pool and redisx_client_close (then only a release) afterwards. */
%ignore redisx_client_shutdown;
%ignore redisx_client_close;
/* Callback registrations: notifications reach JavaScript through the queue
 * (redisx_options_set_queue with REDISX_QUEUE_*), never a C function pointer.
 * redisx_options_set_log_cb stays, as redisx_options_set_log_cb(opts, level,
 * tag): with the callback fixed to NULL it sets the level that also filters
 * the log lines sent to the queue. */
%ignore redisx_options_set_event_cb;
%ignore redisx_options_set_state_cb;

/* ---- status codes → exceptions --------------------------------------------- */

%typemap(out) redisx_status {
    if ((int)$1 < 0)
        redisxjs_throw(env, (int)$1, redisx_last_error());
    $result = env.Undefined();
}

/* Calls whose status is data, not the outcome of the call. */
%typemap(out) redisx_status redisx_item_status, redisx_status redisx_event_status {
    $result = Napi::Number::New(env, (int)$1);
}

/* redisx_queue_pop(queue, timeout_ms): the item, or null when the queue is
 * empty (draining to empty is the normal end of a poll, not an error). */
%typemap(out) redisx_status redisx_queue_pop {
    if ((int)$1 < 0 && (int)$1 != REDISX_ERR_EMPTY)
        redisxjs_throw(env, (int)$1, redisx_last_error());
    $result = env.Null();
}

/* ---- out-parameters → return values --------------------------------------- */

%define REDISX_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *temp = NULL) {
    $1 = &temp;
}
%typemap(argout) TYPE **out {
    $result = *$1 ? SWIG_NewPointerObj((void *)*$1, $descriptor(TYPE *), 0) : env.Null();
}
%enddef

REDISX_OUT_HANDLE(redisx_client)
REDISX_OUT_HANDLE(redisx_options)
REDISX_OUT_HANDLE(redisx_queue)
REDISX_OUT_HANDLE(redisx_item)
REDISX_OUT_HANDLE(redisx_stats)
REDISX_OUT_HANDLE(redisx_metrics)
REDISX_OUT_HANDLE(redisx_limiter)
REDISX_OUT_HANDLE(redisx_ratelimit_result)
REDISX_OUT_HANDLE(redisx_idem)

/* ---- integer tags for `void *user` ---------------------------------------- */

%typemap(in) void *user {
    $1 = (void *)(uintptr_t)redisxjs_int(env, $input, 0, 9007199254740991LL, "$symname", "$1_name");
}
%typemap(out) void *redisx_item_user {
    $result = Napi::Number::New(env, (double)(uintptr_t)$1);
}

/* ---- callbacks: always NULL (completion goes to the queue) ----------------- */

%typemap(in, numinputs=0) redisx_status_cb cb, redisx_reply_cb cb, redisx_lock_cb cb, redisx_lock_info_cb cb,
    redisx_lock_lost_cb on_lost, redisx_log_cb cb, redisx_ratelimit_cb cb, redisx_idem_cb cb {
    $1 = NULL;
}

/* ---- integers --------------------------------------------------------------- */

%typemap(in) int64_t {
    $1 = (int64_t)redisxjs_int(env, $input, INT64_MIN, INT64_MAX, "$symname", "$1_name");
}
%typemap(in) int {
    $1 = (int)redisxjs_int(env, $input, INT32_MIN, INT32_MAX, "$symname", "$1_name");
}
%typemap(in) unsigned {
    $1 = (unsigned)redisxjs_int(env, $input, 0, UINT32_MAX, "$symname", "$1_name");
}
%typemap(out) int64_t {
    $result = redisxjs_from_int64(env, $1);
}
%typemap(out) uint64_t {
    $result = redisxjs_from_uint64(env, $1);
}

/* ---- strings ---------------------------------------------------------------- */

%typemap(in) const char * (std::string temp) {
    if ($input.IsNull() || $input.IsUndefined()) {
        $1 = NULL;
    } else if ($input.IsString()) {
        temp = redisxjs_utf8(env, $input, "$symname", "$1_name");
        if (strlen(temp.c_str()) != temp.size())
            redisxjs_invalid(env, "$symname", "$1_name", "must not contain NUL characters");
        $1 = (char *)temp.c_str();
    } else {
        redisxjs_invalid(env, "$symname", "$1_name", "must be a string");
    }
}
%typemap(freearg) const char * "";

/* SWIG's own conversion would call strlen(NULL): NULL is null here. */
%typemap(out) const char * {
    $result = $1 ? Napi::String::New(env, $1) : env.Null();
}

/* ---- binary-safe values ------------------------------------------------------ */

/* (argc, argv, argvlen) ← one array of Buffers (used in place for the call:
 * the core copies the command when it is submitted) and strings (UTF-8). */
%typemap(in) (int argc, const char *const *argv, const size_t *argvlen)
    (std::vector<const char *> ptrs, std::vector<size_t> lens, std::vector<std::string> strs) {
    if (!$input.IsArray())
        redisxjs_invalid(env, "$symname", "argv", "must be an array of Buffers and strings");
    Napi::Array arr = $input.As<Napi::Array>();
    uint32_t n = arr.Length();
    if (n == 0 || n > 1048576)
        redisxjs_invalid(env, "$symname", "argv", "must hold 1..1048576 arguments");
    ptrs.resize(n);
    lens.resize(n);
    strs.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
        Napi::Value v = arr.Get(i);
        if (v.IsBuffer()) {
            Napi::Buffer<char> b = v.As<Napi::Buffer<char>>();
            ptrs[i] = b.Length() ? b.Data() : "";
            lens[i] = b.Length();
        } else if (v.IsString()) {
            strs.push_back(redisxjs_utf8(env, v, "$symname", "argv"));
            ptrs[i] = strs.back().data();
            lens[i] = strs.back().size();
        } else {
            redisxjs_invalid(env, "$symname", "argv", "holds a value that is neither a Buffer nor a string");
        }
    }
    $1 = (int)n;
    $2 = ($2_ltype)ptrs.data();
    $3 = ($3_ltype)lens.data();
}

/* (const void *p, size_t len) ← one Buffer or Uint8Array (used in place for
 * the call: the core copies what it sends before an _async call returns), a
 * string (UTF-8) or null (NULL, 0). */
%typemap(in) (const void *fingerprint, size_t fingerprint_len) (std::string temp) {
    if ($input.IsNull() || $input.IsUndefined()) {
        $1 = NULL;
        $2 = 0;
    } else if ($input.IsBuffer()) {
        Napi::Buffer<char> b = $input.As<Napi::Buffer<char>>();
        $1 = ($1_ltype)(b.Length() ? b.Data() : "");
        $2 = b.Length();
    } else if ($input.IsString()) {
        temp = redisxjs_utf8(env, $input, "$symname", "$1_name");
        $1 = ($1_ltype)temp.data();
        $2 = temp.size();
    } else {
        redisxjs_invalid(env, "$symname", "$1_name", "must be a Buffer, a Uint8Array, a string or null");
    }
}
%apply (const void *fingerprint, size_t fingerprint_len) {
    (const void *response, size_t response_len),
    (const void *metadata, size_t metadata_len)
};

/* redisx_reply_string(reply), redisx_idem_response(record) and
 * redisx_idem_metadata(record) → Buffer (a copy; may hold NULs) or null. */
%typemap(in, numinputs=0) size_t *len (size_t temp = 0) {
    $1 = &temp;
}
%typemap(out) const char *redisx_reply_string "";
%typemap(out) const char *redisx_idem_response "";
%typemap(out) const char *redisx_idem_metadata "";
%typemap(argout) size_t *len {
    $result = result ? Napi::Buffer<char>::Copy(env, result, *$1).As<Napi::Value>() : env.Null();
}

/* ---- the HTTP rules (redisx/http.h) ------------------------------------------
 *
 * Answers come back as { status, headers: [[name, value], ...], body: Buffer }
 * (null when there is none: a NEW record), the C object freed here; header
 * values are Latin-1 strings (one character per byte, as node:http sends
 * them), so the bytes on the wire are the core's. Bytes written into a
 * caller's buffer (fingerprint, record key, metadata) come back as a Buffer. */
%{
static Napi::Value redisxjs_http_answer(Napi::Env env, const redisx_http_response *r)
{
    if (!r)
        return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", Napi::Number::New(env, redisx_http_response_status(r)));
    size_t n = redisx_http_response_header_count(r);
    Napi::Array headers = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
        const char *value = redisx_http_response_header_value(r, i);
        napi_value v = nullptr;
        napi_create_string_latin1(env, value, strlen(value), &v);
        Napi::Array pair = Napi::Array::New(env, 2);
        pair.Set((uint32_t)0, Napi::String::New(env, redisx_http_response_header_name(r, i)));
        pair.Set((uint32_t)1, Napi::Value(env, v));
        headers.Set((uint32_t)i, pair);
    }
    o.Set("headers", headers);
    size_t bl = 0;
    const char *body = redisx_http_response_body(r, &bl);
    o.Set("body", Napi::Buffer<char>::Copy(env, body, bl));
    return o;
}
%}
%typemap(in, numinputs=0) redisx_http_response **out (redisx_http_response *temp = NULL) {
    $1 = &temp;
}
%typemap(argout) redisx_http_response **out {
    $result = redisxjs_http_answer(env, *$1);
    redisx_http_response_free(*$1);
    *$1 = NULL;
}
%typemap(in, numinputs=0) (void *out, size_t out_cap, size_t *out_len)
    (std::vector<char> buf, size_t n = 0) {
    buf.resize(REDISX_HTTP_OUT_MAX);
    $1 = buf.data();
    $2 = buf.size();
    $3 = &n;
}
%typemap(argout) (void *out, size_t out_cap, size_t *out_len) {
    $result = Napi::Buffer<char>::Copy(env, buf$argnum.data(), n$argnum);
}
%apply (const void *fingerprint, size_t fingerprint_len) {
    (const void *target, size_t target_len),
    (const void *body, size_t body_len),
    (const void *value, size_t value_len),
    (const void *content_type, size_t content_type_len)
};
%ignore redisx_http_response_free;
%ignore redisx_http_response_status;
%ignore redisx_http_response_header_count;
%ignore redisx_http_response_header_name;
%ignore redisx_http_response_header_value;
%ignore redisx_http_response_body;

/* ---- the hand-written asynchronous part -------------------------------------- */

/* bindings/node/src/loop.cc registers a libuv poll handle on a queue's fd,
 * drains the queue in batches and closes clients off the JS thread; it finds
 * the C pointer of a wrapped handle and wraps the handles it takes out of
 * items through these functions, so it needs nothing else from the SWIG
 * runtime. */
%wrapper %{
redisx_client *redisxjs_unwrap_client(Napi::Value v)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(v, &p, SWIGTYPE_p_redisx_client, 0)))
        return NULL;
    return (redisx_client *)p;
}
redisx_queue *redisxjs_unwrap_queue(Napi::Value v)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(v, &p, SWIGTYPE_p_redisx_queue, 0)))
        return NULL;
    return (redisx_queue *)p;
}
/* The batch drain hands JavaScript lock and record handles taken out of
 * items as the same wrapped pointers the SWIG functions return. */
Napi::Value redisxjs_wrap_lock(Napi::Env env, redisx_lock *lock)
{
    return SWIG_NewPointerObj((void *)lock, SWIGTYPE_p_redisx_lock, 0);
}
Napi::Value redisxjs_wrap_idem(Napi::Env env, redisx_idem *record)
{
    return SWIG_NewPointerObj((void *)record, SWIGTYPE_p_redisx_idem, 0);
}
void redisxjs_loop_init(Napi::Env env, Napi::Object exports);
%}

%init %{
    redisxjs_loop_init(env, exports);
%}
