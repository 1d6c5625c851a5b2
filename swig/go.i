/* redisx — Go typemaps, included by redisx.i when SWIG runs with -go.
 *
 * Run as `swig -go -cgo -intgosize 64 -module capi` by bindings/go/generate.sh,
 * whose output (internal/capi/capi.go, capi_wrap.c) is committed beside the
 * core's C sources, so that building the module needs no SWIG; the cgo flags
 * live in internal/capi/cgo.go. The generated package is internal: the idiomatic package redisx (bindings/go)
 * is the only user, so these typemaps aim at a small, allocation-light,
 * thread-correct surface rather than at hand-use:
 *
 *   - opaque handles are plain uintptr-based Go types (capi.Lock, capi.Item,
 *     ...): 0 is NULL, no interface dispatch;
 *   - every redisx_status return becomes a Go error (*capi.Status carrying the
 *     code and the detail of redisx_last_error(), read inside the same C
 *     wrapper call: a goroutine may change OS threads between two cgo calls,
 *     so reading it in a second call could see another goroutine's detail);
 *   - an out-parameter `T **out` disappears from the Go signature and comes
 *     back as the result: the function returns capi.Out[T], whose Get()
 *     gives (T, error);
 *   - binary-safe arguments: the (argc, argv, argvlen) triple is one Go
 *     [][]byte, each (const void *p, size_t len) value of idempotency records
 *     (fingerprint, response, metadata) one []byte; redisx_reply_string(),
 *     redisx_idem_response() and redisx_idem_metadata() return a []byte copy
 *     (NUL bytes kept);
 *   - `void *user` is a uintptr tag that comes back from redisx_item_user();
 *   - C callbacks are always NULL: completions, events and lost locks reach Go
 *     through the queue (redisx/queue.h) that one goroutine drains, so no C
 *     thread ever calls into Go and no goroutine waits inside C for a reply.
 *
 * Strings the library returns are borrowed (static, or owned by a handle the
 * caller still holds) and copied into Go memory right after the call, so no
 * malloc/free round trip is needed — except redisx_last_error(), whose
 * thread-local buffer is copied inside the C wrapper. */

%go_import("bytes", "encoding/binary", "strconv", "strings")

/* ---- C helpers used by the typemaps ------------------------------------- */

%{
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The status of a call and, on success, the value of its out-parameter, as
 * one two-word result (SWIG maps a Go string to a C {p, n} pair):
 *   n == 0  success; p is the out-parameter's value (or NULL)
 *   n  > 0  failure; p is a malloc'd "<code>:<detail>" of n bytes, which the
 *           Go side copies and frees
 *   n  < 0  failure with code n whose detail could not be copied (no memory) */
static _gostring_ redisx_go_status(redisx_status st, const void *value)
{
    _gostring_ r;
    if (st == REDISX_OK) {
        r.p = (char *)value;
        r.n = 0;
        return r;
    }
    const char *detail = redisx_last_error();
    char head[24];
    int k = snprintf(head, sizeof head, "%d:", (int)st);
    size_t dl = strlen(detail);
    r.p = malloc((size_t)k + dl);
    if (!r.p) {
        r.n = st < 0 ? (intgo)st : (intgo)-1;
        return r;
    }
    memcpy(r.p, head, (size_t)k);
    memcpy(r.p + k, detail, dl);
    r.n = (intgo)((size_t)k + dl);
    return r;
}

/* Unpacks the [][]byte the Go side flattened (see the goin typemap below):
 * u64 count, count x u64 length, then the bytes back to back. Returns 0 on
 * success; on failure argc is set to 0 so that the library reports
 * REDISX_ERR_INVALID itself. */
static int redisx_go_argv(_goslice_ in, int *argc, const char ***argv, size_t **argvlen)
{
    const char *p = (const char *)in.array;
    uint64_t n = 0;
    *argc = 0;
    *argv = NULL;
    *argvlen = NULL;
    if (in.len < 8)
        return -1;
    memcpy(&n, p, 8);
    if (n == 0 || n > 1048576 || (uint64_t)in.len < 8 + 8 * n)
        return -1;
    const char **v = malloc(n * sizeof *v);
    size_t *l = malloc(n * sizeof *l);
    if (!v || !l) {
        free(v);
        free(l);
        return -1;
    }
    const char *data = p + 8 + 8 * n;
    const char *end = p + in.len;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        memcpy(&len, p + 8 + 8 * i, 8);
        if (len > (uint64_t)(end - data)) {
            free(v);
            free(l);
            return -1;
        }
        v[i] = data;
        l[i] = (size_t)len;
        data += len;
    }
    *argc = (int)n;
    *argv = v;
    *argvlen = l;
    return 0;
}
%}

/* ---- Go helpers used by the typemaps ------------------------------------ */

%insert(go_wrapper) %{

// Status is a redisx_status other than REDISX_OK together with the detail
// that redisx_last_error() gave inside the failing call.
type Status struct {
	Code   int
	Detail string
}

func (s *Status) Error() string {
	if s.Detail == "" {
		return Redisx_strerror(s.Code)
	}
	return s.Detail
}

// Out is the result of a function with an out-parameter.
type Out[T any] struct {
	Value T
	Err   error
}

// Get returns the out-parameter's value and the call's error.
func (o Out[T]) Get() (T, error) { return o.Value, o.Err }

// swigTakeString copies a string the C side malloc'd into Go memory and
// frees it. (SWIG's own swigCopyString turns a uintptr back into a pointer,
// which go vet rightly flags; this one never does.)
func swigTakeString(s string) string {
	if len(s) == 0 {
		return ""
	}
	r := strings.Clone(s)
	Swig_free(uintptr(unsafe.Pointer(unsafe.StringData(s))))
	return r
}

// swigStatus decodes what redisx_go_status() returned.
func swigStatus(r string) (uintptr, error) {
	raw := *(*struct {
		p uintptr
		n int
	})(unsafe.Pointer(&r))
	if raw.n == 0 {
		return raw.p, nil
	}
	if raw.n < 0 {
		return 0, &Status{Code: raw.n}
	}
	s := swigTakeString(r)
	code, detail, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(code)
	if err != nil {
		n = int(REDISX_ERR_PROTOCOL)
	}
	return 0, &Status{Code: n, Detail: detail}
}

// swigFlatten packs a [][]byte into the layout redisx_go_argv() reads.
func swigFlatten(args [][]byte) []byte {
	size := 8 + 8*len(args)
	for _, a := range args {
		size += len(a)
	}
	buf := make([]byte, 8+8*len(args), size)
	binary.NativeEndian.PutUint64(buf, uint64(len(args)))
	for i, a := range args {
		binary.NativeEndian.PutUint64(buf[8+8*i:], uint64(len(a)))
		buf = append(buf, a...)
	}
	return buf
}
%}

/* ---- opaque handles: uintptr-based Go types ----------------------------- */

%define %redisx_go_handle(CTYPE, GONAME)
%insert(go_wrapper) %{
// GONAME is a CTYPE * handle (0 is NULL).
type GONAME uintptr
%}
%typemap(gotype) CTYPE *, const CTYPE * "GONAME"
%typemap(imtype) CTYPE *, const CTYPE * "uintptr"
%typemap(goin) CTYPE *, const CTYPE * "$result = uintptr($input)"
%typemap(in) CTYPE *, const CTYPE * "$1 = ($1_ltype)$input;"
%typemap(out) CTYPE *, const CTYPE * "$result = ($1_ltype)$1;"
%typemap(goout) CTYPE *, const CTYPE * "$result = GONAME($1)"
/* An out-parameter is no Go argument: the wrapper passes a local. */
%typemap(in, numinputs=0) CTYPE **out (CTYPE *tmp = NULL) "$1 = &tmp;"
%enddef

%redisx_go_handle(redisx_client, Client)
%redisx_go_handle(redisx_options, Options)
%redisx_go_handle(redisx_queue, Queue)
%redisx_go_handle(redisx_item, Item)
%redisx_go_handle(redisx_lock, Lock)
%redisx_go_handle(redisx_lock_info, LockInfo)
%redisx_go_handle(redisx_reply, Reply)
%redisx_go_handle(redisx_event, Event)
%redisx_go_handle(redisx_stats, Stats)
%redisx_go_handle(redisx_metrics, Metrics)
%redisx_go_handle(redisx_limiter, Limiter)
%redisx_go_handle(redisx_ratelimit_result, RatelimitResult)
%redisx_go_handle(redisx_idem, Idem)

/* ---- status codes -> Go errors ------------------------------------------ */

%typemap(gotype) redisx_status "error"
%typemap(imtype) redisx_status "string"
%typemap(out) redisx_status "$result = redisx_go_status($1, NULL);"
%typemap(goout) redisx_status %{
	_, $result = swigStatus($1)
%}

/* Functions with an out-parameter return Out[T] (value and error). */
%define %redisx_go_out(FUNC, GOTYPE)
%typemap(gotype) redisx_status FUNC "Out[GOTYPE]"
%typemap(out) redisx_status FUNC "$result = redisx_go_status($1, (const void *)*arg1);"
%typemap(goout) redisx_status FUNC %{
	{
		v, err := swigStatus($1)
		$result = Out[GOTYPE]{Value: GOTYPE(v), Err: err}
	}
%}
%enddef

%redisx_go_out(redisx_options_new, Options)
%redisx_go_out(redisx_client_open, Client)
%redisx_go_out(redisx_client_open_url, Client)
%redisx_go_out(redisx_queue_new, Queue)
%redisx_go_out(redisx_queue_pop, Item)
%redisx_go_out(redisx_command, Reply)
%redisx_go_out(redisx_lock_acquire, Lock)
%redisx_go_out(redisx_lock_try_acquire, Lock)
%redisx_go_out(redisx_lock_inspect, LockInfo)
%redisx_go_out(redisx_client_stats, Stats)
%redisx_go_out(redisx_metrics_collect, Metrics)
%redisx_go_out(redisx_limiter_new, Limiter)
%redisx_go_out(redisx_limiter_check, RatelimitResult)
%redisx_go_out(redisx_limiter_peek, RatelimitResult)
%redisx_go_out(redisx_idem_begin, Idem)

/* Where a status is data (what a completion or an event reports), it stays
 * the plain code. */
%typemap(gotype) redisx_status redisx_item_status, redisx_status redisx_event_status "int"
%typemap(imtype) redisx_status redisx_item_status, redisx_status redisx_event_status "int"
%typemap(out) redisx_status redisx_item_status, redisx_status redisx_event_status "$result = (intgo)$1;"
%typemap(goout) redisx_status redisx_item_status, redisx_status redisx_event_status ""

/* ---- strings -------------------------------------------------------------- */

/* Returned strings are borrowed from static storage or from a handle the
 * caller holds: hand Go the pointer and copy on the Go side. NULL gives "". */
%typemap(out) const char * %{
	$result.p = (char *)$1;
	$result.n = $1 ? (intgo)strlen($1) : 0;
%}
%typemap(goout) const char * "$result = strings.Clone($1)"

/* redisx_last_error() is a thread-local buffer: copy it inside the call. */
%typemap(out, fragment="AllocateString") const char *redisx_last_error
%{ $result = Swig_AllocateString($1, strlen($1)); %}
%typemap(goout) const char *redisx_last_error "$result = swigTakeString($1)"

/* Binary-safe reply bytes: a []byte copy, nil when the reply has no string. */
%typemap(in, numinputs=0) size_t *len (size_t tmp = 0) "$1 = &tmp;"
%typemap(gotype) const char *redisx_reply_string "[]byte"
%typemap(imtype) const char *redisx_reply_string "[]byte"
%typemap(out) const char *redisx_reply_string %{
	$result.array = (void *)$1;
	$result.len = (intgo)*arg2;
	$result.cap = (intgo)*arg2;
%}
%typemap(goout) const char *redisx_reply_string "$result = bytes.Clone($1)"

/* The stored response and metadata of an idempotency record: the same, a
 * []byte copy of bytes the record owns (the library returns "" with length
 * 0 when there are none, which gives an empty, non-nil slice). */
%typemap(gotype) const char *redisx_idem_response, const char *redisx_idem_metadata "[]byte"
%typemap(imtype) const char *redisx_idem_response, const char *redisx_idem_metadata "[]byte"
%typemap(out) const char *redisx_idem_response, const char *redisx_idem_metadata %{
	$result.array = (void *)$1;
	$result.len = (intgo)*arg2;
	$result.cap = (intgo)*arg2;
%}
%typemap(goout) const char *redisx_idem_response, const char *redisx_idem_metadata "$result = bytes.Clone($1)"

/* ---- binary-safe values: (const void *p, size_t len) <- []byte ----------- */

/* A Go []byte goes to C as-is (it holds no Go pointers, so cgo allows it):
 * the library reads or copies it before returning, asynchronous forms
 * included. An empty or nil slice is passed as "" with length 0, which the
 * library reads as an empty value (or no fingerprint). */
%define %redisx_go_bytes(PTR, LEN)
%typemap(gotype) (const void *PTR, size_t LEN) "[]byte"
%typemap(imtype) (const void *PTR, size_t LEN) "[]byte"
%typemap(in) (const void *PTR, size_t LEN) %{
	$1 = ($1_ltype)($input.len > 0 ? $input.array : (void *)"");
	$2 = (size_t)$input.len;
%}
%enddef

%redisx_go_bytes(fingerprint, fingerprint_len)
%redisx_go_bytes(response, response_len)
%redisx_go_bytes(metadata, metadata_len)

/* ---- the HTTP rules (redisx/http.h) --------------------------------------- */

/* Answers are handles (capi.HttpResponse) read through the accessors; the
 * body is a []byte copy as above. A fingerprint, record key or metadata is
 * written into a []byte the Go side allocates (REDISX_HTTP_OUT_MAX bytes
 * serve them all): those functions return Out[int], the length written. */
%redisx_go_handle(redisx_http_response, HttpResponse)
%redisx_go_out(redisx_http_key_required, HttpResponse)
%redisx_go_out(redisx_http_key_invalid, HttpResponse)
%redisx_go_out(redisx_http_idem_answer, HttpResponse)
%redisx_go_out(redisx_http_ratelimit_answer, HttpResponse)
%typemap(gotype) const char *redisx_http_response_body "[]byte"
%typemap(imtype) const char *redisx_http_response_body "[]byte"
%typemap(out) const char *redisx_http_response_body %{
	$result.array = (void *)$1;
	$result.len = (intgo)*arg2;
	$result.cap = (intgo)*arg2;
%}
%typemap(goout) const char *redisx_http_response_body "$result = bytes.Clone($1)"
%redisx_go_bytes(target, target_len)
%redisx_go_bytes(body, body_len)
%redisx_go_bytes(value, value_len)
%redisx_go_bytes(content_type, content_type_len)
%typemap(gotype) (void *out, size_t out_cap) "[]byte"
%typemap(imtype) (void *out, size_t out_cap) "[]byte"
%typemap(in) (void *out, size_t out_cap) %{
	$1 = $input.len > 0 ? $input.array : NULL;
	$2 = (size_t)$input.len;
%}
%typemap(in, numinputs=0) size_t *out_len (size_t tmp = 0) "$1 = &tmp;"
%define %redisx_go_len(FUNC)
%typemap(gotype) redisx_status FUNC "Out[int]"
%typemap(out) redisx_status FUNC "$result = redisx_go_status($1, (const void *)(uintptr_t)*arg3);"
%typemap(goout) redisx_status FUNC %{
	{
		v, err := swigStatus($1)
		$result = Out[int]{Value: int(v), Err: err}
	}
%}
%enddef
%redisx_go_len(redisx_http_fingerprint)
%redisx_go_len(redisx_http_record_key)
%redisx_go_len(redisx_http_metadata)

/* ---- optional strings ----------------------------------------------------- */

/* redisx_options_set_tls_client_cert's key_file: an empty Go string is NULL
 * (the key is in the certificate's file, as the header says), since a Go
 * string cannot be nil. Every other string argument keeps SWIG's mapping (""
 * stays "", which the setters refuse with their own message). The default
 * freearg (free) still applies, and free(NULL) is a no-op. */
%typemap(in) const char *key_file (char *temp = NULL) %{
	if ($input.n > 0) {
		temp = (char *)malloc($input.n + 1);
		memcpy(temp, $input.p, $input.n);
		temp[$input.n] = '\0';
	}
	$1 = ($1_ltype)temp;
%}

/* ---- binary-safe command arguments ---------------------------------------- */

/* One [][]byte; the goin typemap flattens it (cgo forbids passing Go memory
 * that holds Go pointers), the in typemap rebuilds argv/argvlen pointing into
 * that buffer for the duration of the call (the library copies the command
 * before returning). */
%typemap(gotype) (int argc, const char *const *argv, const size_t *argvlen) "[][]byte"
%typemap(imtype) (int argc, const char *const *argv, const size_t *argvlen) "[]byte"
%typemap(goin) (int argc, const char *const *argv, const size_t *argvlen) "$result = swigFlatten($input)"
%typemap(in) (int argc, const char *const *argv, const size_t *argvlen) (const char **v = NULL, size_t *l = NULL) %{
	(void)redisx_go_argv($input, &$1, &v, &l);
	$2 = ($2_ltype)v;
	$3 = l;
%}
%typemap(freearg) (int argc, const char *const *argv, const size_t *argvlen) %{
	free((void *)v$argnum);
	free(l$argnum);
%}

/* ---- tags and callbacks --------------------------------------------------- */

/* `void *user` is an integer tag chosen by the Go side. */
%typemap(gotype) void *user "uintptr"
%typemap(imtype) void *user "uintptr"
%typemap(in) void *user "$1 = (void *)$input;"
%typemap(gotype) void *redisx_item_user "uintptr"
%typemap(imtype) void *redisx_item_user "uintptr"
%typemap(out) void *redisx_item_user "$result = $1;"

/* No C callback ever calls into Go: completions go to the client's queue. */
%typemap(in, numinputs=0) redisx_status_cb cb, redisx_reply_cb cb, redisx_lock_cb cb, redisx_lock_info_cb cb,
    redisx_lock_lost_cb on_lost, redisx_ratelimit_cb cb, redisx_idem_cb cb, redisx_log_cb cb "$1 = NULL;"
%ignore redisx_options_set_event_cb;
%ignore redisx_options_set_state_cb;
/* redisx_options_set_log_cb stays, as Redisx_options_set_log_cb(opts, level,
 * tag): with the callback fixed to NULL it only sets the least severe level,
 * which also filters the log lines sent to the queue (REDISX_QUEUE_LOGS). */
