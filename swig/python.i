/* redisx — Python typemaps and helpers (swig -python -threads).
 *
 * Included by swig/redisx.i before the public headers are parsed, so every
 * typemap and feature below applies to the C API.
 *
 * What this file decides:
 * - redisx_status: a negative status raises the exception class registered
 *   for that code by pyx_set_error_classes() (the Python package builds the
 *   table at import time from redisx_status_name()); the detail comes from
 *   redisx_last_error(), read in the same wrapper, on the same thread, right
 *   after the call. Success returns None (or the out-parameter).
 * - Out-parameters (`T **out`) are return values.
 * - `void *user` is an integer tag; redisx_item_user() gives it back.
 * - Strings in: str (UTF-8) or bytes; an embedded NUL or another type raises
 *   InvalidArgument instead of silently truncating. Integers in: out of range
 *   or of the wrong type raises InvalidArgument (not a TypeError from SWIG).
 * - Binary values (idempotency fingerprint, response, metadata) in: bytes,
 *   any contiguous buffer, str (UTF-8) or None; out (redisx_idem_response,
 *   redisx_idem_metadata): bytes.
 * - Raw commands take a sequence of bytes/str/int/float/buffer arguments and
 *   return bytes/int/None/str (status)/list; an error reply raises ServerError
 *   (nested error replies become ServerError instances inside the list).
 * - C callbacks are never exposed: asynchronous forms complete into the queue
 *   (the callback argument disappears and is NULL). Python callables receive
 *   events and lost-lock notifications through the pyx_* trampolines below,
 *   which take the GIL with PyGILState_Ensure.
 * - GIL: -threads would release it around every call; that is wrong for
 *   helpers that touch Python objects and wasteful for accessors, so every
 *   declaration is `nothread` except the blocking C calls listed below.
 *
 * The pyx_* helpers exist for the idiomatic package (locks, raw commands,
 * rate limits, idempotency records): they hold the client and its queue in
 * a small context (pyx_ctx). close() shuts the client down
 * (redisx_client_shutdown: the handle stays valid, later calls answer
 * ERR_CLOSED), and the handle is freed only with the context, when the
 * Python Client object is finalized, so a call racing close() on another
 * thread meets a closed client, never freed memory. One-shot blocking calls
 * are the core's blocking functions with the GIL released; waits (acquire,
 * begin with wait > 0) stay interruptible by Ctrl-C and cancel the operation
 * in the core (see "blocking calls"). The asyncio layer cancels an operation
 * whose future is cancelled with pyx_ctx_cancel(). */

%{
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
%}

/* ---- limited API (abi3) -------------------------------------------------------
 *
 * The package is built either against the full API of one CPython version or
 * against the limited API (Py_LIMITED_API=0x03090000: one abi3 module for
 * 3.9 and later). The helpers below are the only places that differ. Under
 * the limited API of 3.9 a str's UTF-8 form and a buffer's bytes are copies
 * kept alive in a list (`keep`) until the call returns; with the full API
 * they are borrowed as before. */

%{
#include <dlfcn.h>

#if defined(Py_LIMITED_API) && Py_LIMITED_API + 0 < 0x030A0000
#define PYX_COPY_UTF8 1
#endif
#if defined(Py_LIMITED_API) && Py_LIMITED_API + 0 < 0x030B0000
#define PYX_NO_BUFFER 1
#endif

#ifdef Py_LIMITED_API
#define PYX_BYTES_DATA(o) PyBytes_AsString(o)
#define PYX_BYTES_SIZE(o) PyBytes_Size(o)
/* PySequence_Fast gives a list or a tuple */
#define PYX_SEQ_SIZE(q) (PyList_Check(q) ? PyList_Size(q) : PyTuple_Size(q))
#define PYX_SEQ_ITEM(q, i) (PyList_Check(q) ? PyList_GetItem(q, i) : PyTuple_GetItem(q, i))
#else
#define PYX_BYTES_DATA(o) PyBytes_AS_STRING(o)
#define PYX_BYTES_SIZE(o) PyBytes_GET_SIZE(o)
#define PYX_SEQ_SIZE(q) PySequence_Fast_GET_SIZE(q)
#define PYX_SEQ_ITEM(q, i) PySequence_Fast_GET_ITEM(q, i)
#endif

/* Appends a new reference to the list *keep (created on first use); the
 * reference is stolen, also on failure. */
static int pyx_keep(PyObject **keep, PyObject *o)
{
    if (!*keep && !(*keep = PyList_New(0))) {
        Py_DECREF(o);
        return -1;
    }
    int rc = PyList_Append(*keep, o);
    Py_DECREF(o);
    return rc;
}

/* The UTF-8 form of a str; NULL with an exception set when it has none. */
static const char *pyx_utf8(PyObject *s, Py_ssize_t *len, PyObject **keep)
{
#ifdef PYX_COPY_UTF8
    PyObject *b = PyUnicode_AsUTF8String(s);
    if (!b)
        return NULL;
    const char *p = PyBytes_AsString(b);
    *len = PyBytes_Size(b);
    return pyx_keep(keep, b) < 0 ? NULL : p;
#else
    (void)keep;
    return PyUnicode_AsUTF8AndSize(s, len);
#endif
}

/* Whether o exports a buffer (bytes, bytearray, memoryview, array, ...). */
static int pyx_is_buffer(PyObject *o)
{
#ifdef PYX_NO_BUFFER
    if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o))
        return 1;
    PyObject *m = PyMemoryView_FromObject(o);
    if (!m) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(m);
    return 1;
#else
    return PyObject_CheckBuffer(o);
#endif
}

/* The name of o's type, for messages. */
static void pyx_type_name(PyObject *o, char *buf, size_t size)
{
#ifdef Py_LIMITED_API
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(o), "__name__");
    PyObject *keep = NULL;
    Py_ssize_t n = 0;
    const char *p = name && PyUnicode_Check(name) ? pyx_utf8(name, &n, &keep) : NULL;
    snprintf(buf, size, "%s", p ? p : "?");
    if (!p)
        PyErr_Clear();
    Py_XDECREF(keep);
    Py_XDECREF(name);
#else
    snprintf(buf, size, "%s", Py_TYPE(o)->tp_name);
#endif
}

/* Whether the interpreter is shutting down (callbacks from the I/O thread
 * then must not take the GIL). Py_IsFinalizing is public from 3.13 on,
 * _Py_IsFinalizing before; an abi3 module finds whichever the running
 * interpreter has. */
static int pyx_finalizing(void)
{
#ifndef Py_LIMITED_API
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
#else
    static int (*volatile fn)(void) = NULL;
    int (*f)(void) = fn;
    if (!f) {
        f = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsFinalizing");
        if (!f)
            f = (int (*)(void))dlsym(RTLD_DEFAULT, "_Py_IsFinalizing");
        if (!f)
            return 0;
        fn = f;
    }
    return f();
#endif
}
%}

/* ---- GIL policy ----------------------------------------------------------- */

%feature("nothread");
%feature("nothread", "0") redisx_client_open;
%feature("nothread", "0") redisx_client_open_url;
%feature("nothread", "0") redisx_client_close;
%feature("nothread", "0") redisx_command;
%feature("nothread", "0") redisx_lock_acquire;
%feature("nothread", "0") redisx_lock_try_acquire;
%feature("nothread", "0") redisx_lock_release;
%feature("nothread", "0") redisx_lock_extend;
%feature("nothread", "0") redisx_lock_inspect;
%feature("nothread", "0") redisx_queue_pop;
%feature("nothread", "0") redisx_limiter_check;
%feature("nothread", "0") redisx_limiter_peek;
%feature("nothread", "0") redisx_limiter_reset;
%feature("nothread", "0") redisx_idem_begin;
%feature("nothread", "0") redisx_idem_complete;
%feature("nothread", "0") redisx_idem_fail;

/* ---- errors ---------------------------------------------------------------- */

%{
static PyObject *pyx_error_table = NULL; /* dict: int code -> exception class */
static PyObject *pyx_error_base = NULL;  /* RedisxError */

/* Decodes C text for Python without ever failing on bytes that are not
 * UTF-8 (lock names are arbitrary bytes). */
static PyObject *pyx_text(const char *s)
{
    if (!s) {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* Builds the exception instance for a status (new reference). */
static PyObject *pyx_make_error(int status, const char *detail)
{
    PyObject *cls = NULL;
    if (pyx_error_table) {
        PyObject *key = PyLong_FromLong(status);
        if (!key)
            return NULL;
        cls = PyDict_GetItemWithError(pyx_error_table, key); /* borrowed */
        Py_DECREF(key);
        if (!cls && PyErr_Occurred())
            return NULL;
    }
    if (!cls)
        cls = pyx_error_base ? pyx_error_base : PyExc_RuntimeError;
    const char *name = redisx_status_name(status);
    PyObject *pdetail = pyx_text(detail && detail[0] ? detail : redisx_strerror(status));
    if (!pdetail)
        return NULL;
    PyObject *exc = PyObject_CallFunction(cls, "isN", status, name ? name : "UNKNOWN", pdetail);
    return exc;
}

/* Raises the exception of `status`; always returns NULL for `return`. */
static PyObject *pyx_raise(int status, const char *detail)
{
    PyObject *exc = pyx_make_error(status, detail);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* Raises from inside a typemap (after the call) with the thread's detail. */
static void pyx_raise_status(int status)
{
    (void)pyx_raise(status, redisx_last_error());
}

/* InvalidArgument for argument conversion problems found in Python. */
static void pyx_raise_invalid(const char *fmt, const char *what)
{
    char buf[256];
    PyObject *pending = NULL;
    if (PyErr_Occurred()) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        pending = v ? PyObject_Str(v) : NULL;
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
        PyErr_Clear();
    }
    PyObject *keep = NULL;
    if (pending && PyUnicode_Check(pending)) {
        Py_ssize_t len = 0;
        const char *p = pyx_utf8(pending, &len, &keep);
        snprintf(buf, sizeof buf, fmt, what);
        size_t n = strlen(buf);
        if (p && n + 3 < sizeof buf)
            snprintf(buf + n, sizeof buf - n, " (%s)", p);
        if (!p)
            PyErr_Clear();
    } else {
        snprintf(buf, sizeof buf, fmt, what);
    }
    Py_XDECREF(keep);
    Py_XDECREF(pending);
    (void)pyx_raise(REDISX_ERR_INVALID, buf);
}
%}

%inline %{
/** Registers the exception classes: `table` maps status codes (int) to
 *  classes, `base` is the base class used for unknown codes. Called once by
 *  the package at import. */
PyObject *pyx_set_error_classes(PyObject *table, PyObject *base)
{
    if (!PyDict_Check(table) || !PyType_Check(base)) {
        PyErr_SetString(PyExc_TypeError, "pyx_set_error_classes(dict, type)");
        return NULL;
    }
    Py_INCREF(table);
    Py_INCREF(base);
    PyObject *old_table = pyx_error_table, *old_base = pyx_error_base;
    pyx_error_table = table;
    pyx_error_base = base;
    Py_XDECREF(old_table);
    Py_XDECREF(old_base);
    Py_RETURN_NONE;
}
%}

%typemap(out) redisx_status {
    if ((int)$1 < 0) {
        pyx_raise_status((int)$1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}
/* These report a status as data; they must not raise. */
%typemap(out) redisx_status redisx_item_status, redisx_status redisx_event_status
    "$result = PyLong_FromLong((long)$1);"

/* ---- arguments ------------------------------------------------------------- */

/* Text in: str (UTF-8) or bytes, no NUL inside; None is NULL (the C checks
 * turn NULL into InvalidArgument where it is not allowed). */
%typemap(in) const char * (PyObject *keep = NULL) {
    if ($input == Py_None) {
        $1 = NULL;
    } else {
        Py_ssize_t len_ = 0;
        const char *p_ = NULL;
        if (PyUnicode_Check($input)) {
            p_ = pyx_utf8($input, &len_, &keep);
            if (!p_) {
                pyx_raise_invalid("argument '%s' is not encodable as UTF-8", "$1_name");
                SWIG_fail;
            }
        } else if (PyBytes_Check($input)) {
            p_ = PYX_BYTES_DATA($input);
            len_ = PYX_BYTES_SIZE($input);
        } else {
            pyx_raise_invalid("argument '%s' must be str or bytes", "$1_name");
            SWIG_fail;
        }
        if (memchr(p_, '\0', (size_t)len_)) {
            pyx_raise_invalid("argument '%s' contains a NUL character", "$1_name");
            SWIG_fail;
        }
        $1 = ($1_ltype)p_;
    }
}
%typemap(freearg) const char * "Py_XDECREF(keep$argnum);"
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) const char *
    "$1 = ($input == Py_None || PyUnicode_Check($input) || PyBytes_Check($input));"

%define PYX_INT_IN(TYPE, CTYPE, PYCONV, LO, HI)
%typemap(in) TYPE {
    if (PyBool_Check($input) || !PyLong_Check($input)) {
        pyx_raise_invalid("argument '%s' must be an int", "$1_name");
        SWIG_fail;
    }
    CTYPE v_ = PYCONV($input);
    if ((v_ == (CTYPE)-1 && PyErr_Occurred()) || v_ < (CTYPE)(LO) || v_ > (CTYPE)(HI)) {
        pyx_raise_invalid("argument '%s' is out of range", "$1_name");
        SWIG_fail;
    }
    $1 = (TYPE)v_;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_INTEGER) TYPE "$1 = PyLong_Check($input) && !PyBool_Check($input);"
%enddef

PYX_INT_IN(int64_t, long long, PyLong_AsLongLong, INT64_MIN, INT64_MAX)
PYX_INT_IN(int, long long, PyLong_AsLongLong, INT_MIN, INT_MAX)
PYX_INT_IN(unsigned, long long, PyLong_AsLongLong, 0, UINT_MAX)
PYX_INT_IN(unsigned int, long long, PyLong_AsLongLong, 0, UINT_MAX)
PYX_INT_IN(size_t, long long, PyLong_AsLongLong, 0, LLONG_MAX)

%typemap(in) double {
    if (PyBool_Check($input) || !(PyFloat_Check($input) || PyLong_Check($input))) {
        pyx_raise_invalid("argument '%s' must be a number", "$1_name");
        SWIG_fail;
    }
    $1 = PyFloat_AsDouble($input);
    if ($1 == -1.0 && PyErr_Occurred()) {
        pyx_raise_invalid("argument '%s' is out of range", "$1_name");
        SWIG_fail;
    }
}

/* `void *user` is an integer tag (0 allowed). */
%typemap(in) void *user {
    if (PyBool_Check($input) || !PyLong_Check($input)) {
        pyx_raise_invalid("argument '%s' (a tag) must be an int", "user");
        SWIG_fail;
    }
    $1 = PyLong_AsVoidPtr($input);
    if (PyErr_Occurred()) {
        pyx_raise_invalid("argument '%s' (a tag) is out of range", "user");
        SWIG_fail;
    }
}
%typemap(out) void *redisx_item_user "$result = PyLong_FromVoidPtr($1);"

/* C callbacks are not expressible from Python: the asynchronous forms lose
 * their callback argument and complete into the client's queue. */
%typemap(in, numinputs=0) redisx_status_cb cb "$1 = NULL;"
%typemap(in, numinputs=0) redisx_lock_cb cb "$1 = NULL;"
%typemap(in, numinputs=0) redisx_lock_info_cb cb "$1 = NULL;"
%typemap(in, numinputs=0) redisx_reply_cb cb "$1 = NULL;"
%typemap(in, numinputs=0) redisx_lock_lost_cb on_lost "$1 = NULL;"
%typemap(in, numinputs=0) redisx_ratelimit_cb cb "$1 = NULL;"
%typemap(in, numinputs=0) redisx_idem_cb cb "$1 = NULL;"
/* Registered through pyx_options_set_event_callable(); logs and states are
 * not wired to Python yet. */
%ignore redisx_options_set_event_cb;
%ignore redisx_options_set_log_cb;
%ignore redisx_options_set_state_cb;
/* Replaced by pyx_reply_value() (binary-safe, recursive). */
%ignore redisx_reply_string;

/* ---- out-parameters -------------------------------------------------------- */

%define PYX_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) "$1 = &tmp;"
%typemap(argout) TYPE **out {
    Py_XDECREF($result);
    $result = SWIG_NewPointerObj((void *)tmp$argnum, $descriptor(TYPE *), 0);
}
%enddef

PYX_OUT_HANDLE(redisx_client)
PYX_OUT_HANDLE(redisx_options)
PYX_OUT_HANDLE(redisx_queue)
PYX_OUT_HANDLE(redisx_item)
PYX_OUT_HANDLE(redisx_lock)
PYX_OUT_HANDLE(redisx_stats)
PYX_OUT_HANDLE(redisx_metrics)
PYX_OUT_HANDLE(redisx_limiter)
PYX_OUT_HANDLE(redisx_ratelimit_result)
PYX_OUT_HANDLE(redisx_idem)

/* ---- binary values (idempotency) ---------------------------------------------
 *
 * In: bytes, bytearray, memoryview or any C-contiguous buffer, str (UTF-8),
 * or None (no bytes). A buffer stays exported (so a bytearray cannot be
 * resized) until the call returns; the core copies what it keeps. */

%{
/* A binary argument: borrowed from bytes, str (its UTF-8) or an exported
 * buffer (full API), or a copy that `keep` holds (limited API of 3.9). */
typedef struct {
    PyObject *keep;
#ifndef PYX_NO_BUFFER
    int has_view;
    Py_buffer view;
#endif
} pyx_view;
#define PYX_VIEW_INIT {0}

static int pyx_bytes_in(PyObject *o, void **p, size_t *n, pyx_view *v)
{
    if (o == Py_None) {
        *p = NULL;
        *n = 0;
        return 0;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t len = 0;
        const char *s = pyx_utf8(o, &len, &v->keep);
        if (!s)
            return -1;
        *p = (void *)s;
        *n = (size_t)len;
        return 0;
    }
    if (PyBytes_Check(o)) {
        *p = PYX_BYTES_DATA(o);
        *n = (size_t)PYX_BYTES_SIZE(o);
        return 0;
    }
#ifdef PYX_NO_BUFFER
    if (pyx_is_buffer(o)) {
        PyObject *b = PyBytes_FromObject(o);
        if (!b || pyx_keep(&v->keep, b) < 0)
            return -1;
        *p = PYX_BYTES_DATA(b);
        *n = (size_t)PYX_BYTES_SIZE(b);
        return 0;
    }
#else
    if (PyObject_CheckBuffer(o) && PyObject_GetBuffer(o, &v->view, PyBUF_SIMPLE) == 0) {
        v->has_view = 1;
        *p = v->view.buf;
        *n = (size_t)v->view.len;
        return 0;
    }
#endif
    return -1;
}

static void pyx_view_release(pyx_view *v)
{
#ifndef PYX_NO_BUFFER
    if (v->has_view)
        PyBuffer_Release(&v->view);
    v->has_view = 0;
#endif
    Py_CLEAR(v->keep);
}
%}

%define PYX_BYTES_IN(PTR, LEN)
%typemap(in) (const void *PTR, size_t LEN) (pyx_view view = PYX_VIEW_INIT) {
    void *p_ = NULL;
    size_t n_ = 0;
    if (pyx_bytes_in($input, &p_, &n_, &view) < 0) {
        pyx_raise_invalid(PyUnicode_Check($input) ? "argument '%s' is not encodable as UTF-8"
                                                  : "argument '%s' must be bytes, a contiguous buffer, str or None",
                          "$1_name");
        SWIG_fail;
    }
    $1 = p_;
    $2 = n_;
}
%typemap(freearg) (const void *PTR, size_t LEN) "pyx_view_release(&view$argnum);"
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) (const void *PTR, size_t LEN)
    "$1 = ($input == Py_None || PyUnicode_Check($input) || pyx_is_buffer($input));"
%enddef

PYX_BYTES_IN(fingerprint, fingerprint_len)
PYX_BYTES_IN(response, response_len)
PYX_BYTES_IN(metadata, metadata_len)

/* Out: redisx_idem_response() / redisx_idem_metadata() return bytes (the
 * only functions with a `size_t *len` out-parameter that are wrapped;
 * redisx_reply_string is replaced by pyx_reply_value). */
%typemap(in, numinputs=0) size_t *len (size_t n = 0) "$1 = &n;"
%typemap(out) const char *redisx_idem_response, const char *redisx_idem_metadata "$result = SWIG_Py_Void();"
%typemap(argout) size_t *len {
    Py_XDECREF($result);
    $result = PyBytes_FromStringAndSize(result ? result : "", (Py_ssize_t)*$1);
    if (!$result)
        SWIG_fail;
}

/* Lock info: a tuple (locked, fencing_token, ttl_ms, last_fencing_token); the
 * C object is freed here. */
%typemap(in, numinputs=0) redisx_lock_info **out (redisx_lock_info *tmp = NULL) "$1 = &tmp;"
%typemap(argout) redisx_lock_info **out {
    PyObject *t_ = Py_BuildValue("(NLLL)", PyBool_FromLong(redisx_lock_info_locked(tmp$argnum)),
                                 (long long)redisx_lock_info_fencing_token(tmp$argnum),
                                 (long long)redisx_lock_info_ttl_ms(tmp$argnum),
                                 (long long)redisx_lock_info_last_fencing_token(tmp$argnum));
    redisx_lock_info_free(tmp$argnum);
    tmp$argnum = NULL;
    if (!t_)
        SWIG_fail;
    Py_XDECREF($result);
    $result = t_;
}

/* ---- the HTTP rules (redisx/http.h) -------------------------------------------
 *
 * Answers come back as a tuple (status, [(name, value), ...], body): names
 * and values str decoded as Latin-1 (each byte one character, as WSGI and
 * ASGI carry header bytes), body bytes; None when there is no answer (a NEW
 * record). The C object is freed here, so the accessors are not wrapped.
 * Bytes written into a caller's buffer (fingerprint, record key, metadata)
 * come back as bytes. */
%{
static PyObject *pyx_http_tuple(const redisx_http_response *r)
{
    if (!r)
        Py_RETURN_NONE;
    size_t n = redisx_http_response_header_count(r);
    PyObject *headers = PyList_New((Py_ssize_t)n);
    if (!headers)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = redisx_http_response_header_name(r, i);
        const char *value = redisx_http_response_header_value(r, i);
        PyObject *pair = Py_BuildValue("(NN)", PyUnicode_DecodeLatin1(name, (Py_ssize_t)strlen(name), NULL),
                                       PyUnicode_DecodeLatin1(value, (Py_ssize_t)strlen(value), NULL));
        if (!pair) {
            Py_DECREF(headers);
            return NULL;
        }
        PyList_SetItem(headers, (Py_ssize_t)i, pair);
    }
    size_t bl = 0;
    const char *body = redisx_http_response_body(r, &bl);
    return Py_BuildValue("(iNy#)", redisx_http_response_status(r), headers, body, (Py_ssize_t)bl);
}
%}
%typemap(in, numinputs=0) redisx_http_response **out (redisx_http_response *tmp = NULL) "$1 = &tmp;"
%typemap(argout) redisx_http_response **out {
    PyObject *t_ = pyx_http_tuple(tmp$argnum);
    redisx_http_response_free(tmp$argnum);
    tmp$argnum = NULL;
    if (!t_)
        SWIG_fail;
    Py_XDECREF($result);
    $result = t_;
}
%typemap(freearg) redisx_http_response **out "redisx_http_response_free(tmp$argnum);"
%typemap(in, numinputs=0) (void *out, size_t out_cap, size_t *out_len)
    (char buf[REDISX_HTTP_OUT_MAX], size_t n = 0) "$1 = buf; $2 = sizeof buf; $3 = &n;"
%typemap(argout) (void *out, size_t out_cap, size_t *out_len) {
    Py_XDECREF($result);
    $result = PyBytes_FromStringAndSize(buf$argnum, (Py_ssize_t)n$argnum);
    if (!$result)
        SWIG_fail;
}
PYX_BYTES_IN(target, target_len)
PYX_BYTES_IN(body, body_len)
PYX_BYTES_IN(value, value_len)
PYX_BYTES_IN(content_type, content_type_len)
%ignore redisx_http_response_free;
%ignore redisx_http_response_status;
%ignore redisx_http_response_header_count;
%ignore redisx_http_response_header_name;
%ignore redisx_http_response_header_value;
%ignore redisx_http_response_body;

/* ---- raw commands: arguments and replies ------------------------------------- */

%{
/* One command argument as bytes. Temporaries created for ints, floats and
 * buffers are appended to *keep so they outlive the call. */
static int pyx_arg(PyObject *o, const char **p, size_t *n, PyObject **keep)
{
    PyObject *tmp = NULL;
    if (PyBytes_Check(o)) {
        *p = PYX_BYTES_DATA(o);
        *n = (size_t)PYX_BYTES_SIZE(o);
        return 0;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t len;
        const char *s = pyx_utf8(o, &len, keep);
        if (!s) {
            pyx_raise_invalid("command argument is not encodable as %s", "UTF-8");
            return -1;
        }
        *p = s;
        *n = (size_t)len;
        return 0;
    }
    if (PyBool_Check(o)) {
        pyx_raise_invalid("command argument of type %s is ambiguous: pass b'1'/b'0' or an int", "bool");
        return -1;
    }
    if (PyLong_Check(o) || PyFloat_Check(o)) {
        PyObject *s = PyFloat_Check(o) ? PyObject_Repr(o) : PyObject_Str(o);
        if (s) {
            tmp = PyUnicode_AsUTF8String(s);
            Py_DECREF(s);
        }
    } else if (pyx_is_buffer(o)) {
        tmp = PyBytes_FromObject(o);
    } else {
        char type[128];
        pyx_type_name(o, type, sizeof type);
        pyx_raise_invalid("command argument of type %s is not supported (bytes, str, int, float)", type);
        return -1;
    }
    if (!tmp)
        return -1;
    if (pyx_keep(keep, tmp) < 0) /* the list holds it */
        return -1;
    *p = PYX_BYTES_DATA(tmp);
    *n = (size_t)PYX_BYTES_SIZE(tmp);
    return 0;
}

/* Converts a reply (borrowed) into Python values. Error replies become
 * ServerError instances (the caller decides whether to raise). */
static PyObject *pyx_reply_value(const redisx_reply *r)
{
    size_t len = 0;
    const char *s;
    switch (r ? redisx_reply_type_of(r) : REDISX_REPLY_NIL) {
    case REDISX_REPLY_STRING:
        s = redisx_reply_string(r, &len);
        return PyBytes_FromStringAndSize(s ? s : "", (Py_ssize_t)len);
    case REDISX_REPLY_STATUS:
        s = redisx_reply_string(r, &len);
        return PyUnicode_DecodeUTF8(s ? s : "", (Py_ssize_t)len, "surrogateescape");
    case REDISX_REPLY_INTEGER:
        return PyLong_FromLongLong((long long)redisx_reply_integer(r));
    case REDISX_REPLY_ERROR:
        s = redisx_reply_string(r, &len);
        return pyx_make_error(REDISX_ERR_SERVER, s ? s : "");
    case REDISX_REPLY_ARRAY: {
        size_t k = redisx_reply_elements(r);
        PyObject *list = PyList_New((Py_ssize_t)k);
        if (!list)
            return NULL;
        for (size_t i = 0; i < k; i++) {
            PyObject *v = pyx_reply_value(redisx_reply_element(r, i));
            if (!v) {
                Py_DECREF(list);
                return NULL;
            }
#ifdef Py_LIMITED_API
            PyList_SetItem(list, (Py_ssize_t)i, v);
#else
            PyList_SET_ITEM(list, (Py_ssize_t)i, v);
#endif
        }
        return list;
    }
    case REDISX_REPLY_NIL:
    default:
        Py_RETURN_NONE;
    }
}

/* The top-level value of a reply: an error reply raises ServerError. */
static PyObject *pyx_reply_result(const redisx_reply *r)
{
    PyObject *v = pyx_reply_value(r);
    if (v && r && redisx_reply_type_of(r) == REDISX_REPLY_ERROR) {
        PyErr_SetObject((PyObject *)Py_TYPE(v), v);
        Py_DECREF(v);
        return NULL;
    }
    return v;
}
%}

%typemap(in) (int argc, const char *const *argv, const size_t *argvlen) (PyObject *seq = NULL, PyObject *keep = NULL) {
    seq = PySequence_Check($input) && !PyUnicode_Check($input) && !PyBytes_Check($input)
              ? PySequence_Fast($input, "command")
              : NULL;
    if (!seq) {
        pyx_raise_invalid("a command is a %s of arguments", "sequence");
        SWIG_fail;
    }
    Py_ssize_t n_ = PYX_SEQ_SIZE(seq);
    if (n_ < 1 || n_ > 1048576) {
        pyx_raise_invalid("a command has 1..1048576 arguments%s", "");
        SWIG_fail;
    }
    $1 = (int)n_;
    $2 = ($2_ltype)calloc((size_t)n_, sizeof(char *));
    $3 = ($3_ltype)calloc((size_t)n_, sizeof(size_t));
    if (!$2 || !$3) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    for (Py_ssize_t i_ = 0; i_ < n_; i_++) {
        if (pyx_arg(PYX_SEQ_ITEM(seq, i_), (const char **)&$2[i_], (size_t *)&$3[i_], &keep) < 0)
            SWIG_fail;
    }
}
%typemap(freearg) (int argc, const char *const *argv, const size_t *argvlen) {
    free((void *)$2);
    free((void *)$3);
    Py_XDECREF(seq$argnum);
    Py_XDECREF(keep$argnum);
}

%typemap(in, numinputs=0) redisx_reply **out (redisx_reply *tmp = NULL) "$1 = &tmp;"
%typemap(argout) redisx_reply **out {
    PyObject *v_ = pyx_reply_result(tmp$argnum);
    redisx_reply_free(tmp$argnum);
    tmp$argnum = NULL;
    if (!v_)
        SWIG_fail;
    Py_XDECREF($result);
    $result = v_;
}

%inline %{
/** A reply as Python values (borrowed reply; error replies become
 *  ServerError instances). */
PyObject *pyx_reply_to_py(const redisx_reply *reply)
{
    return pyx_reply_value(reply);
}
%}

/* ---- the package's client context -------------------------------------------
 *
 * pyx_ctx owns the client and its queue for the Python Client object. The
 * Python objects it points to (event dispatcher, lost-lock table) are
 * borrowed: the Client object keeps them in attributes, where the garbage
 * collector sees them, and closes the client (joining the I/O thread, after
 * which no trampoline runs) before it frees the context. */

%{
typedef struct pyx_ctx {
    redisx_client *client; /* NULL until open; shut down by close, freed with the context */
    redisx_queue *queue;   /* completions of the asynchronous forms */
    PyObject *on_event;    /* borrowed: called (primitive, operation, status, fail_open, ns, rtt, key) */
    PyObject *lost;        /* borrowed dict: int(lock address) -> callable() */
    int closed;
    int owned;             /* closed from its own I/O thread: refs taken, never freed */
} pyx_ctx;

/* The context whose trampoline runs on this thread (blocking calls from it
 * would wait for the very thread they run on). */
static _Thread_local pyx_ctx *pyx_tls_ctx = NULL;


static void pyx_event_trampoline(redisx_client *client, const redisx_event *ev, void *user)
{
    (void)client;
    pyx_ctx *ctx = user;
    if (!ctx || !ctx->on_event || pyx_finalizing())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    pyx_ctx *prev = pyx_tls_ctx;
    pyx_tls_ctx = ctx;
    PyObject *on_event = ctx->on_event;
    Py_INCREF(on_event);
    PyObject *r = PyObject_CallFunction(on_event, "NNiNLiNN", pyx_text(redisx_event_primitive(ev)),
                                        pyx_text(redisx_event_operation(ev)), (int)redisx_event_status(ev),
                                        PyBool_FromLong(redisx_event_fail_open(ev)),
                                        (long long)redisx_event_duration_ns(ev), redisx_event_round_trips(ev),
                                        pyx_text(redisx_event_key(ev)), pyx_text(redisx_event_node(ev)));
    if (!r)
        PyErr_WriteUnraisable(on_event);
    Py_XDECREF(r);
    Py_DECREF(on_event);
    pyx_tls_ctx = prev;
    PyGILState_Release(g);
}

static void pyx_lost_trampoline(redisx_client *client, const redisx_lock *lock, void *user)
{
    (void)client;
    pyx_ctx *ctx = user;
    if (!ctx || !ctx->lost || pyx_finalizing())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    pyx_ctx *prev = pyx_tls_ctx;
    pyx_tls_ctx = ctx;
    PyObject *key = PyLong_FromVoidPtr((void *)lock);
    PyObject *fn = key ? PyDict_GetItemWithError(ctx->lost, key) : NULL;
    if (fn) {
        Py_INCREF(fn);
        if (PyDict_DelItem(ctx->lost, key) < 0)
            PyErr_WriteUnraisable(ctx->lost);
        PyObject *r = PyObject_CallObject(fn, NULL);
        if (!r)
            PyErr_WriteUnraisable(fn);
        Py_XDECREF(r);
        Py_DECREF(fn);
    } else if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(ctx->lost);
    }
    Py_XDECREF(key);
    pyx_tls_ctx = prev;
    PyGILState_Release(g);
}

static PyObject *pyx_closed_error(void)
{
    return pyx_raise(REDISX_ERR_CLOSED, "client is closed");
}

static PyObject *pyx_wouldblock_error(void)
{
    return pyx_raise(REDISX_ERR_WOULDBLOCK, "blocking redisx call from a callback of the same client");
}

static void pyx_noop_status_cb(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    (void)st;
    (void)user;
}

/* A lock that completed before its caller's redisx_cancel() took effect
 * (the one window the core cannot close: the completion was already on its
 * way), or one whose loop is gone: nobody will receive it, so release the
 * lease at once rather than letting it block others until it expires, then
 * drop the handle. A lock taken by an attempt still in flight at the cancel
 * is the core's to release. Safe on any thread. */
static void pyx_discard_lock(redisx_lock *lk)
{
    if (!lk)
        return;
    (void)redisx_lock_release_async(lk, pyx_noop_status_cb, NULL);
    redisx_lock_free(lk);
}

/* The same for an idempotency record: a NEW record is failed at once, so
 * that a retry runs the work instead of waiting for the lease to pass; then
 * the handle goes. */
static void pyx_discard_idem(redisx_idem *rec)
{
    if (!rec)
        return;
    if (redisx_idem_state_of(rec) == REDISX_IDEM_NEW && !redisx_idem_is_fail_open(rec))
        (void)redisx_idem_fail_async(rec, pyx_noop_status_cb, NULL);
    redisx_idem_free(rec);
}

/* ---- blocking calls ---------------------------------------------------------
 *
 * A one-shot call (a command, one lock attempt, release, extend, inspect, a
 * rate-limit check, a begin without wait, complete, fail) calls the C
 * blocking function with the GIL released: on an idle connection the core
 * does the round trip on this thread (no hand-off). Its duration is bounded
 * by the command timeout, so Ctrl-C is seen when it returns.
 *
 * A wait (acquire or begin with wait > 0) can last for seconds and must stay
 * interruptible (Ctrl-C), which a C blocking call is not: it is submitted
 * asynchronously with a pyx_wait as its user value and waited on with the
 * GIL released, looking for signals every 100 ms. On a signal the operation
 * is cancelled with redisx_cancel(client, w): the core stops waiting and
 * releases (fails) whatever an attempt in flight still takes; the completion
 * (CANCELLED, or a result that beat the cancel) frees `w`. */

#define PYX_DETAIL 512

/* Copies the thread's error detail (call with or without the GIL, right
 * after the failed call, before any other redisx call on this thread). */
static void pyx_copy_detail(char *buf)
{
    snprintf(buf, PYX_DETAIL, "%s", redisx_last_error());
}

enum { PYX_WAIT_LOCK, PYX_WAIT_IDEM, PYX_WAIT_CACHE /* swig/cache.i */ };

typedef struct pyx_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kind;
    int done;
    int abandoned; /* the waiting thread left (Ctrl-C): the completion frees */
    redisx_status status;
    void *result;
    char detail[PYX_DETAIL];
} pyx_wait;

static pyx_wait *pyx_wait_new(int kind)
{
    pyx_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->kind = kind;
    return w;
}

static void pyx_wait_free(pyx_wait *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static void pyx_wait_drop_result(pyx_wait *w)
{
    if (w->kind == PYX_WAIT_LOCK)
        pyx_discard_lock(w->result);
    else if (w->kind == PYX_WAIT_CACHE)
        redisx_cache_entry_free(w->result); /* abandons a lease it holds */
    else
        pyx_discard_idem(w->result);
    w->result = NULL;
}

/* Runs on the I/O thread (or inline on a closed client). */
static void pyx_wait_finish(pyx_wait *w, redisx_status st, void *result)
{
    pthread_mutex_lock(&w->mu);
    w->status = st;
    w->result = result;
    if (st != REDISX_OK)
        pyx_copy_detail(w->detail);
    if (w->abandoned) {
        pthread_mutex_unlock(&w->mu);
        pyx_wait_drop_result(w); /* beat the cancel; CANCELLED carries nothing */
        pyx_wait_free(w);
        return;
    }
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void pyx_wait_lock_cb(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    pyx_wait_finish(user, st, lk);
}

static void pyx_wait_idem_cb(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    pyx_wait_finish(user, st, rec);
}

/* How long an interrupted wait waits for its cancelled completion. */
#define PYX_CANCEL_WAIT_S 5

/* Waits for the completion with the GIL released, looking for signals every
 * 100 ms. Returns 0 with w->done set, or -1 with a Python exception set:
 * then the operation has been cancelled and has completed (or, if the I/O
 * thread did not complete it within PYX_CANCEL_WAIT_S, its completion frees
 * `w`). Called with the GIL. */
static int pyx_wait_for(redisx_client *client, pyx_wait *w)
{
    int interrupted = 0;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += 100 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT && !w->done) {
            pthread_mutex_unlock(&w->mu);
            Py_BLOCK_THREADS
            interrupted = PyErr_CheckSignals() < 0;
            Py_UNBLOCK_THREADS
            pthread_mutex_lock(&w->mu);
            if (interrupted) {
                if (!w->done) {
                    /* Cancel, then wait for the cancelled completion, so
                     * that nothing of this operation still runs when the
                     * KeyboardInterrupt reaches the caller (a retry woken by
                     * a release in between would otherwise still take the
                     * lock, and the core release it again). The cancel
                     * never completes inline, so w->mu may be held here. */
                    (void)redisx_cancel(client, w);
                    struct timespec cdl;
                    clock_gettime(CLOCK_MONOTONIC, &cdl);
                    cdl.tv_sec += PYX_CANCEL_WAIT_S;
                    while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, &cdl) != ETIMEDOUT) {
                    }
                    if (!w->done) {
                        /* The I/O thread did not answer in time: leave, and
                         * let the completion free w whenever it comes. */
                        w->abandoned = 1;
                        pthread_mutex_unlock(&w->mu);
                        w = NULL;
                    }
                }
                break;
            }
        }
    }
    if (w)
        pthread_mutex_unlock(&w->mu);
    Py_END_ALLOW_THREADS
    if (interrupted) {
        if (w) { /* completed meanwhile: still honour the interrupt */
            pyx_wait_drop_result(w);
            pyx_wait_free(w);
        }
        return -1;
    }
    return 0;
}

/* Common prologue of the context's calls: the client must be usable and a
 * blocking call must not come from one of its own callbacks. */
static int pyx_ctx_check(pyx_ctx *ctx, int blocking)
{
    if (!ctx) {
        pyx_raise(REDISX_ERR_INVALID, "client context is NULL");
        return -1;
    }
    if (ctx->closed || !ctx->client) {
        pyx_closed_error();
        return -1;
    }
    if (blocking && pyx_tls_ctx == ctx) {
        pyx_wouldblock_error();
        return -1;
    }
    return 0;
}

static PyObject *pyx_lock_obj(redisx_lock *lk)
{
    return SWIG_NewPointerObj((void *)lk, SWIGTYPE_p_redisx_lock, 0);
}

/* A rate-limit result as the tuple (allowed, limit, remaining, reset_ms,
 * retry_after_ms, fail_open); the result stays the caller's. */
static PyObject *pyx_ratelimit_tuple(const redisx_ratelimit_result *r)
{
    return Py_BuildValue("(NLLLLN)", PyBool_FromLong(redisx_ratelimit_result_allowed(r)),
                         (long long)redisx_ratelimit_result_limit(r),
                         (long long)redisx_ratelimit_result_remaining(r),
                         (long long)redisx_ratelimit_result_reset_ms(r),
                         (long long)redisx_ratelimit_result_retry_after_ms(r),
                         PyBool_FromLong(redisx_ratelimit_result_fail_open(r)));
}

static PyObject *pyx_idem_obj(redisx_idem *rec)
{
    return SWIG_NewPointerObj((void *)rec, SWIGTYPE_p_redisx_idem, 0);
}

%}

%exception pyx_ctx_new {
    $action
    if (!result)
        SWIG_fail;
}

%inline %{
typedef struct pyx_ctx pyx_ctx;

/** New context; `on_event` (callable or None) and `lost` (a dict) are
 *  borrowed and must outlive the client (the Client object holds them). */
pyx_ctx *pyx_ctx_new(PyObject *on_event, PyObject *lost)
{
    if (!PyDict_Check(lost)) {
        PyErr_SetString(PyExc_TypeError, "lost must be a dict");
        return NULL;
    }
    pyx_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        PyErr_NoMemory();
        return NULL;
    }
    ctx->on_event = on_event == Py_None ? NULL : on_event;
    ctx->lost = lost;
    redisx_status st = redisx_queue_new(&ctx->queue);
    if (st != REDISX_OK) {
        free(ctx);
        return pyx_raise(st, redisx_last_error()), NULL;
    }
    return ctx;
}

/** Opens the client with `opts` (the queue and the event trampoline are
 *  attached here; `opts` stays the caller's). `what` is the REDISX_QUEUE_*
 *  mask of notifications the queue also receives (logs, states), which
 *  pyx_ctx_drain() returns with tag None. */
PyObject *pyx_ctx_open(pyx_ctx *ctx, redisx_options *opts, unsigned what)
{
    if (!ctx || !opts)
        return pyx_raise(REDISX_ERR_INVALID, "context or options is NULL");
    if (ctx->client || ctx->closed)
        return pyx_raise(REDISX_ERR_INVALID, "context already used");
    redisx_status st = redisx_options_set_queue(opts, ctx->queue, what & (REDISX_QUEUE_LOGS | REDISX_QUEUE_STATES));
    if (st == REDISX_OK && ctx->on_event)
        st = redisx_options_set_event_cb(opts, pyx_event_trampoline, ctx);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    redisx_client *c = NULL;
    char detail[512] = "";
    Py_BEGIN_ALLOW_THREADS
    st = redisx_client_open(&c, opts);
    if (st != REDISX_OK)
        snprintf(detail, sizeof detail, "%s", redisx_last_error());
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    ctx->client = c;
    Py_RETURN_NONE;
}

/** Shuts the client down (idempotent): every operation completes, later
 *  calls answer ERR_CLOSED; the handle stays valid until pyx_ctx_free(). From
 *  a trampoline of this client the I/O thread finishes the job, and the
 *  context, which that thread still uses, becomes immortal: `finalizing`
 *  says the Client object is going away, in which case that is allowed
 *  (the handle is then closed at once); otherwise it is WouldBlock. */
PyObject *pyx_ctx_close(pyx_ctx *ctx, int finalizing)
{
    if (!ctx)
        Py_RETURN_NONE;
    if (!ctx->client) {
        ctx->closed = 1;
        Py_RETURN_NONE;
    }
    if (pyx_tls_ctx == ctx) {
        if (!finalizing)
            return pyx_wouldblock_error();
        Py_XINCREF(ctx->on_event);
        Py_XINCREF(ctx->lost);
        ctx->owned = 1;
        ctx->closed = 1;
        redisx_client_close(ctx->client); /* returns at once on the I/O thread */
        ctx->client = NULL;
        Py_RETURN_NONE;
    }
    if (ctx->closed)
        Py_RETURN_NONE;
    ctx->closed = 1;
    redisx_client *c = ctx->client;
    Py_BEGIN_ALLOW_THREADS
    redisx_client_shutdown(c);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/** Frees a shut-down context: the client handle (nothing can use it any
 *  more: the Client object is going away) and the queue. Returns 0 when the
 *  context must live on (closed from its own I/O thread), 1 when freed. */
int pyx_ctx_free(pyx_ctx *ctx)
{
    if (!ctx)
        return 1;
    if (ctx->owned || (ctx->client && !ctx->closed))
        return 0;
    redisx_client *c = ctx->client;
    ctx->client = NULL;
    if (c) {
        Py_BEGIN_ALLOW_THREADS
        redisx_client_close(c);
        Py_END_ALLOW_THREADS
    }
    redisx_queue_free(ctx->queue);
    free(ctx);
    return 1;
}

/** Cancels the asynchronous operation tagged `user` (its future was
 *  cancelled): it completes with CANCELLED into the queue, or normally if
 *  it completed before the cancel took effect. A closed client: nothing to
 *  do (its close completes everything). */
void pyx_ctx_cancel(pyx_ctx *ctx, void *user)
{
    if (ctx && ctx->client && !ctx->closed)
        (void)redisx_cancel(ctx->client, user);
}

int pyx_ctx_closed(pyx_ctx *ctx)
{
    return !ctx || ctx->closed || !ctx->client;
}

/** File descriptor that is readable while completions wait in the queue. */
int pyx_ctx_fd(pyx_ctx *ctx)
{
    return ctx ? redisx_queue_fd(ctx->queue) : -1;
}

const char *pyx_ctx_prefix(pyx_ctx *ctx)
{
    return ctx && ctx->client && !ctx->closed ? redisx_client_prefix(ctx->client) : NULL;
}

/** (name, token, fencing_token, ttl_ms, fail_open) of a lock handle. */
PyObject *pyx_lock_props(const redisx_lock *lk)
{
    if (!lk)
        return pyx_raise(REDISX_ERR_INVALID, "lock handle is NULL");
    return Py_BuildValue("(NNLLN)", pyx_text(redisx_lock_name(lk)), pyx_text(redisx_lock_token(lk)),
                         (long long)redisx_lock_fencing_token(lk), (long long)redisx_lock_ttl_ms(lk),
                         PyBool_FromLong(redisx_lock_is_fail_open(lk)));
}

/** Blocking acquire (wait_ms = 0: one attempt, on the core's blocking
 *  call; wait_ms > 0: a cancellable wait, see "blocking calls"); returns the
 *  lock handle. */
PyObject *pyx_acquire(pyx_ctx *ctx, const char *name, int64_t ttl_ms, int64_t wait_ms)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_client *c = ctx->client;
    redisx_status st;
    if (wait_ms <= 0) { /* < 0 is refused by the core */
        redisx_lock *lk = NULL;
        char detail[PYX_DETAIL];
        Py_BEGIN_ALLOW_THREADS
        st = redisx_lock_acquire(&lk, c, name, ttl_ms, wait_ms);
        if (st != REDISX_OK)
            pyx_copy_detail(detail);
        Py_END_ALLOW_THREADS
        if (st != REDISX_OK)
            return pyx_raise(st, detail);
        PyObject *res = pyx_lock_obj(lk);
        if (!res)
            pyx_discard_lock(lk);
        return res;
    }
    pyx_wait *w = pyx_wait_new(PYX_WAIT_LOCK);
    if (!w)
        return PyErr_NoMemory();
    st = redisx_lock_acquire_async(c, name, ttl_ms, wait_ms, pyx_wait_lock_cb, w);
    if (st != REDISX_OK) {
        pyx_wait_free(w);
        return pyx_raise(st, redisx_last_error());
    }
    if (pyx_wait_for(c, w) < 0)
        return NULL;
    PyObject *res;
    if (w->status != REDISX_OK) {
        res = pyx_raise(w->status, w->detail);
    } else {
        res = pyx_lock_obj(w->result);
        if (!res)
            pyx_discard_lock(w->result);
    }
    pyx_wait_free(w);
    return res;
}

/** Blocking inspect: (locked, fencing_token, ttl_ms, last_fencing_token). */
PyObject *pyx_inspect(pyx_ctx *ctx, const char *name)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_client *c = ctx->client;
    redisx_lock_info *info = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_lock_inspect(&info, c, name);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    PyObject *res = Py_BuildValue("(NLLL)", PyBool_FromLong(redisx_lock_info_locked(info)),
                                  (long long)redisx_lock_info_fencing_token(info),
                                  (long long)redisx_lock_info_ttl_ms(info),
                                  (long long)redisx_lock_info_last_fencing_token(info));
    redisx_lock_info_free(info);
    return res;
}

/** Blocking raw command; returns the reply as Python values. */
PyObject *pyx_command(pyx_ctx *ctx, int argc, const char *const *argv, const size_t *argvlen)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_client *c = ctx->client;
    redisx_reply *r = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_command(&r, c, argc, argv, argvlen);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    PyObject *res = pyx_reply_result(r);
    redisx_reply_free(r);
    return res;
}

/* Asynchronous forms: complete into the context's queue, tagged `user`. */

PyObject *pyx_acquire_async(pyx_ctx *ctx, const char *name, int64_t ttl_ms, int64_t wait_ms, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = redisx_lock_acquire_async(ctx->client, name, ttl_ms, wait_ms, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

PyObject *pyx_inspect_async(pyx_ctx *ctx, const char *name, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = redisx_lock_inspect_async(ctx->client, name, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

PyObject *pyx_command_async(pyx_ctx *ctx, int argc, const char *const *argv, const size_t *argvlen, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = redisx_command_async(ctx->client, argc, argv, argvlen, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

/** Sets the least severe log level the queue receives (no C callback). */
PyObject *pyx_options_set_log_level(redisx_options *opts, int level)
{
    redisx_status st = redisx_options_set_log_cb(opts, NULL, (redisx_log_level)level, NULL);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

/** Pops up to `max` items without waiting: a list of (tag, ok, value). A
 *  notification has tag None and ok False: value is ("log", level, message) or
 *  ("state", connection, state, detail). For
 *  a failed completion `value` is the exception instance; otherwise it is
 *  the lock handle (acquire), the info tuple (inspect), the reply value
 *  (command; an error reply counts as failed), the result tuple (rate-limit
 *  check and peek), the record handle (idempotency begin) or None. */
PyObject *pyx_ctx_drain(pyx_ctx *ctx, int max)
{
    if (!ctx)
        return PyList_New(0);
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    for (int i = 0; i < max; i++) {
        redisx_item *it = NULL;
        if (redisx_queue_pop(&it, ctx->queue, 0) != REDISX_OK)
            break;
        redisx_item_kind kind = redisx_item_kind_of(it);
        if (kind == REDISX_ITEM_LOG || kind == REDISX_ITEM_STATE) {
            PyObject *t = kind == REDISX_ITEM_LOG
                              ? Py_BuildValue("(OO(siN))", Py_None, Py_False, "log", (int)redisx_item_log_level(it),
                                              pyx_text(redisx_item_message(it)))
                              : Py_BuildValue("(OO(siiNN))", Py_None, Py_False, "state", redisx_item_connection(it),
                                              (int)redisx_item_state(it), pyx_text(redisx_item_message(it)),
                                              pyx_text(redisx_item_node(it)));
            redisx_item_free(it);
            int rc = t ? PyList_Append(out, t) : -1;
            Py_XDECREF(t);
            if (rc < 0) {
                Py_DECREF(out);
                return NULL;
            }
            continue;
        }
        if (kind != REDISX_ITEM_COMPLETION) {
            redisx_item_free(it);
            continue;
        }
        PyObject *tag = PyLong_FromVoidPtr(redisx_item_user(it));
        redisx_status st = redisx_item_status(it);
        int ok = st == REDISX_OK;
        PyObject *val = NULL;
        redisx_lock *lk = redisx_item_take_lock(it);
        redisx_reply *rep = redisx_item_take_reply(it);
        const redisx_lock_info *info = redisx_item_lock_info(it);
        redisx_ratelimit_result *rl = redisx_item_take_ratelimit_result(it);
        redisx_idem *rec = redisx_item_take_idem(it);
        redisx_cache_entry *ce = redisx_item_take_cache_entry(it);
        if (!ok) { /* a failed completion carries no handle */
            val = pyx_make_error(st, redisx_item_message(it));
        } else if (ce) { /* pyx_cache_take() (swig/cache.i) reads and frees it */
            val = SWIG_NewPointerObj((void *)ce, SWIGTYPE_p_redisx_cache_entry, 0);
            if (!val)
                redisx_cache_entry_free(ce);
        } else if (rl) {
            val = pyx_ratelimit_tuple(rl);
        } else if (rec) {
            val = pyx_idem_obj(rec);
            if (!val)
                pyx_discard_idem(rec);
        } else if (lk) {
            val = pyx_lock_obj(lk);
            if (!val)
                pyx_discard_lock(lk);
        } else if (info) {
            val = Py_BuildValue("(NLLL)", PyBool_FromLong(redisx_lock_info_locked(info)),
                                (long long)redisx_lock_info_fencing_token(info),
                                (long long)redisx_lock_info_ttl_ms(info),
                                (long long)redisx_lock_info_last_fencing_token(info));
        } else if (rep) {
            val = pyx_reply_value(rep);
            if (val && redisx_reply_type_of(rep) == REDISX_REPLY_ERROR)
                ok = 0;
        } else {
            val = Py_None;
            Py_INCREF(val);
        }
        redisx_reply_free(rep);
        redisx_ratelimit_result_free(rl);
        redisx_item_free(it);
        PyObject *t = (tag && val) ? Py_BuildValue("(NNN)", tag, PyBool_FromLong(ok), val) : NULL;
        if (!t) {
            if (!(tag && val)) {
                Py_XDECREF(tag);
                Py_XDECREF(val);
            }
            Py_DECREF(out);
            return NULL;
        }
        int rc = PyList_Append(out, t);
        Py_DECREF(t);
        if (rc < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/** Drops every item waiting in the context's queue (locks in them are
 *  released and freed); for a client object going away. */
void pyx_ctx_discard_all(pyx_ctx *ctx)
{
    redisx_item *it = NULL;
    while (ctx && redisx_queue_pop(&it, ctx->queue, 0) == REDISX_OK) {
        pyx_discard_lock(redisx_item_take_lock(it));
        pyx_discard_idem(redisx_item_take_idem(it));
        redisx_cache_entry_free(redisx_item_take_cache_entry(it));
        redisx_item_free(it);
    }
}

/** 1 when called from a trampoline (event, lost lock) of this context. */
int pyx_ctx_in_callback(pyx_ctx *ctx)
{
    return ctx && pyx_tls_ctx == ctx;
}

/** Releases the lease of a handle nobody will use and frees the handle. */
void pyx_lock_discard(redisx_lock *lk)
{
    pyx_discard_lock(lk);
}

/** For a completion nobody receives: a lock handle is released and freed, an
 *  idempotency record failed (when NEW) and freed; anything else is left
 *  alone. Returns 1 when `obj` was such a handle. */
int pyx_discard(PyObject *obj)
{
    void *p = NULL;
    if (SWIG_IsOK(SWIG_ConvertPtr(obj, &p, SWIGTYPE_p_redisx_lock, 0)) && p) {
        pyx_discard_lock(p);
        return 1;
    }
    if (SWIG_IsOK(SWIG_ConvertPtr(obj, &p, SWIGTYPE_p_redisx_idem, 0)) && p) {
        pyx_discard_idem(p);
        return 1;
    }
    if (SWIG_IsOK(SWIG_ConvertPtr(obj, &p, SWIGTYPE_p_redisx_cache_entry, 0)) && p) {
        redisx_cache_entry_free(p); /* abandons a lease it holds */
        return 1;
    }
    PyErr_Clear();
    return 0;
}

/** Starts automatic renewal; `fn()` is called once, on the I/O thread, if
 *  the lock is lost. */
PyObject *pyx_lock_keep_alive(pyx_ctx *ctx, redisx_lock *lk, PyObject *fn)
{
    if (!ctx || !lk)
        return pyx_raise(REDISX_ERR_INVALID, "context or lock handle is NULL");
    PyObject *key = PyLong_FromVoidPtr(lk);
    if (!key)
        return NULL;
    if (fn != Py_None && PyDict_SetItem(ctx->lost, key, fn) < 0) {
        Py_DECREF(key);
        return NULL;
    }
    redisx_status st = redisx_lock_start_renewal(lk, fn != Py_None ? pyx_lost_trampoline : NULL, ctx);
    if (st != REDISX_OK) {
        const char *detail = redisx_last_error();
        char copy[512];
        snprintf(copy, sizeof copy, "%s", detail);
        if (fn != Py_None && PyDict_DelItem(ctx->lost, key) < 0)
            PyErr_Clear();
        Py_DECREF(key);
        return pyx_raise(st, copy);
    }
    Py_DECREF(key);
    Py_RETURN_NONE;
}

/** Forgets the lost-lock callable of a handle and frees the handle (the
 *  lease is not released). `ctx` may be NULL once the client is gone. */
void pyx_lock_free(pyx_ctx *ctx, redisx_lock *lk)
{
    if (!lk)
        return;
    if (ctx && ctx->lost && PyDict_Size(ctx->lost) > 0) {
        PyObject *key = PyLong_FromVoidPtr(lk);
        if (key && PyDict_DelItem(ctx->lost, key) < 0)
            PyErr_Clear();
        Py_XDECREF(key);
    }
    redisx_lock_free(lk);
}

/** Snapshot of the client's stats (free with redisx_stats_free()). */
PyObject *pyx_stats(pyx_ctx *ctx)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_stats *s = NULL;
    redisx_status st = redisx_client_stats(&s, ctx->client);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    return SWIG_NewPointerObj((void *)s, SWIGTYPE_p_redisx_stats, 0);
}

/** The client's metric families now (free with redisx_metrics_free()). */
PyObject *pyx_metrics(pyx_ctx *ctx)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_metrics *m = NULL;
    redisx_status st = redisx_metrics_collect(&m, ctx->client);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    return SWIG_NewPointerObj((void *)m, SWIGTYPE_p_redisx_metrics, 0);
}

/* ---- rate limits ------------------------------------------------------------ */

/** New limiter bound to the context's client (free with
 *  redisx_limiter_free()); `fail_policy` < 0 keeps the client's policy. */
PyObject *pyx_limiter_new(pyx_ctx *ctx, const char *name, int algorithm, int64_t limit, int64_t period_ms,
                          int64_t burst, int fail_policy)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_limiter *l = NULL;
    redisx_status st = redisx_limiter_new(&l, ctx->client, name, (redisx_ratelimit_algorithm)algorithm, limit,
                                          period_ms, burst);
    if (st == REDISX_OK && fail_policy >= 0)
        st = redisx_limiter_set_fail_policy(l, (redisx_fail_policy)fail_policy);
    if (st != REDISX_OK) {
        PyObject *res = pyx_raise(st, redisx_last_error());
        redisx_limiter_free(l);
        return res;
    }
    return SWIG_NewPointerObj((void *)l, SWIGTYPE_p_redisx_limiter, 0);
}

/** Blocking check (peek = 1: a peek, `cost` ignored): the result tuple
 *  (allowed, limit, remaining, reset_ms, retry_after_ms, fail_open). */
PyObject *pyx_ratelimit(pyx_ctx *ctx, redisx_limiter *limiter, const char *key, int64_t cost, int peek)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_ratelimit_result *r = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = peek ? redisx_limiter_peek(&r, limiter, key) : redisx_limiter_check(&r, limiter, key, cost);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    PyObject *res = pyx_ratelimit_tuple(r);
    redisx_ratelimit_result_free(r);
    return res;
}

PyObject *pyx_ratelimit_async(pyx_ctx *ctx, redisx_limiter *limiter, const char *key, int64_t cost, int peek,
                              void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = peek ? redisx_limiter_peek_async(limiter, key, NULL, user)
                            : redisx_limiter_check_async(limiter, key, cost, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

/** Blocking reset of `key`'s budget. */
PyObject *pyx_ratelimit_reset(pyx_ctx *ctx, redisx_limiter *limiter, const char *key)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_limiter_reset(limiter, key);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    Py_RETURN_NONE;
}

PyObject *pyx_ratelimit_reset_async(pyx_ctx *ctx, redisx_limiter *limiter, const char *key, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = redisx_limiter_reset_async(limiter, key, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

/** (allowed, limit, remaining, reset_ms, retry_after_ms, fail_open) of a
 *  result handle from the raw API (the handle stays the caller's). */
PyObject *pyx_ratelimit_result_props(const redisx_ratelimit_result *result)
{
    if (!result)
        return pyx_raise(REDISX_ERR_INVALID, "rate-limit result is NULL");
    return pyx_ratelimit_tuple(result);
}

/* ---- idempotency ------------------------------------------------------------ */

/** Blocking begin; returns the record handle. Without a wait it is the
 *  core's blocking call; with wait_ms > 0 (an IN_PROGRESS record is waited
 *  on) a cancellable wait, see "blocking calls": Ctrl-C cancels it, and a
 *  NEW record an attempt in flight still creates is failed by the core. */
PyObject *pyx_idem_begin(pyx_ctx *ctx, const char *key, const void *fingerprint, size_t fingerprint_len,
                         int64_t in_progress_ttl_ms, int64_t wait_ms)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_client *c = ctx->client;
    redisx_status st;
    if (wait_ms <= 0) {
        redisx_idem *rec = NULL;
        char detail[PYX_DETAIL];
        Py_BEGIN_ALLOW_THREADS
        st = redisx_idem_begin(&rec, c, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms);
        if (st != REDISX_OK)
            pyx_copy_detail(detail);
        Py_END_ALLOW_THREADS
        if (st != REDISX_OK)
            return pyx_raise(st, detail);
        PyObject *res = pyx_idem_obj(rec);
        if (!res)
            pyx_discard_idem(rec);
        return res;
    }
    pyx_wait *w = pyx_wait_new(PYX_WAIT_IDEM);
    if (!w)
        return PyErr_NoMemory();
    st = redisx_idem_begin_async(c, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms,
                                 pyx_wait_idem_cb, w);
    if (st != REDISX_OK) {
        pyx_wait_free(w);
        return pyx_raise(st, redisx_last_error());
    }
    if (pyx_wait_for(c, w) < 0)
        return NULL;
    PyObject *res;
    if (w->status != REDISX_OK) {
        res = pyx_raise(w->status, w->detail);
    } else {
        res = pyx_idem_obj(w->result);
        if (!res)
            pyx_discard_idem(w->result);
    }
    pyx_wait_free(w);
    return res;
}

PyObject *pyx_idem_begin_async(pyx_ctx *ctx, const char *key, const void *fingerprint, size_t fingerprint_len,
                               int64_t in_progress_ttl_ms, int64_t wait_ms, void *user)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    redisx_status st = redisx_idem_begin_async(ctx->client, key, fingerprint, fingerprint_len, in_progress_ttl_ms,
                                               wait_ms, NULL, user);
    if (st != REDISX_OK)
        return pyx_raise(st, redisx_last_error());
    Py_RETURN_NONE;
}

/** (state, key, response, metadata, remaining_ms, taken_over, fail_open) of
 *  a record; response and metadata are bytes. */
PyObject *pyx_idem_props(const redisx_idem *rec)
{
    if (!rec)
        return pyx_raise(REDISX_ERR_INVALID, "idempotency record is NULL");
    size_t rlen = 0, mlen = 0;
    const char *resp = redisx_idem_response(rec, &rlen);
    const char *meta = redisx_idem_metadata(rec, &mlen);
    return Py_BuildValue("(iNy#y#LNN)", (int)redisx_idem_state_of(rec), pyx_text(redisx_idem_key(rec)),
                         resp ? resp : "", (Py_ssize_t)rlen, meta ? meta : "", (Py_ssize_t)mlen,
                         (long long)redisx_idem_remaining_ms(rec), PyBool_FromLong(redisx_idem_taken_over(rec)),
                         PyBool_FromLong(redisx_idem_is_fail_open(rec)));
}

/** Blocking complete / fail, on the core's blocking calls (GIL released,
 *  WouldBlock from this client's own callbacks). */
PyObject *pyx_idem_complete(pyx_ctx *ctx, redisx_idem *rec, const void *response, size_t response_len,
                            const void *metadata, size_t metadata_len, int64_t ttl_ms)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_idem_complete(rec, response, response_len, metadata, metadata_len, ttl_ms);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    Py_RETURN_NONE;
}

PyObject *pyx_idem_fail(pyx_ctx *ctx, redisx_idem *rec)
{
    if (pyx_ctx_check(ctx, 1) < 0)
        return NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_idem_fail(rec);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    Py_RETURN_NONE;
}

/** Version of the headers this module was compiled against. */
int pyx_header_version(void)
{
    return REDISX_VERSION_NUMBER;
}
%}
