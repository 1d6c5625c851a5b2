/* redisx — one SWIG interface over the public C headers for every language.
 *
 * What is common lives here; each language adds its typemaps (binary-safe
 * values, integer tags for `void *user`, status codes to exceptions/errors,
 * callbacks) in swig/<language>.i, included below. Generated code is build
 * output and never committed, except Go's (bindings/go/generate.sh, checked
 * for staleness by bindings/go/check-generated.sh): a Go module is built
 * from its committed files, without SWIG. */
%module redisx

%{
#include <redisx/redisx.h>
%}

%include <stdint.i>

/* Opaque handles: SWIG must never try to construct or destroy them itself;
 * the idiomatic layer of each binding owns them and calls the _free/_close
 * function exactly once. */
%nodefaultctor redisx_client;
%nodefaultdtor redisx_client;
%nodefaultctor redisx_options;
%nodefaultdtor redisx_options;
%nodefaultctor redisx_queue;
%nodefaultdtor redisx_queue;
%nodefaultctor redisx_item;
%nodefaultdtor redisx_item;
%nodefaultctor redisx_lock;
%nodefaultdtor redisx_lock;
%nodefaultctor redisx_lock_info;
%nodefaultdtor redisx_lock_info;
%nodefaultctor redisx_reply;
%nodefaultdtor redisx_reply;
%nodefaultctor redisx_event;
%nodefaultdtor redisx_event;
%nodefaultctor redisx_stats;
%nodefaultdtor redisx_stats;
%nodefaultctor redisx_limiter;
%nodefaultdtor redisx_limiter;
%nodefaultctor redisx_ratelimit_result;
%nodefaultdtor redisx_ratelimit_result;
%nodefaultctor redisx_idem;
%nodefaultdtor redisx_idem;
%nodefaultctor redisx_http_response;
%nodefaultdtor redisx_http_response;
/* Out-parameters of two kinds at once; the bindings read metadata through
 * redisx_http_idem_answer() instead. */
%ignore redisx_http_metadata_parse;

#if defined(SWIGPYTHON)
%include "python.i"
#elif defined(SWIGJAVASCRIPT)
%include "node.i"
#elif defined(SWIGGO)
%include "go.i"
#endif

%include <redisx/common.h>
%include <redisx/version.h>
%include <redisx/errors.h>
%include <redisx/observe.h>
%include <redisx/options.h>
%include <redisx/queue.h>
%include <redisx/client.h>
%include <redisx/lock.h>
%include <redisx/ratelimit.h>
%include <redisx/idempotency.h>
%include <redisx/http.h>
%include <redisx/metrics.h>
/* The cache: its typemaps, helpers and header (swig/cache.i). */
%include "cache.i"
%include "stream.i"
