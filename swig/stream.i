/* redisx — Redis Streams (redisx/stream.h) for every language.
 *
 * Included by swig/redisx.i after the language's own file (python.i,
 * node.i, go.i), so their typemaps apply; what streams add lives here, per
 * language, and touches nothing else.
 *
 * The array forms (redisx_stream_publish, _publish_async, _batch_add) are
 * not wrapped: bindings build messages one field at a time with
 * redisx_stream_batch_add_message/_field/_payload/_header (the core decides
 * which fields are payload, codec and headers; docs/KEYS.md contract v4) and
 * publish a batch (one message or many) in one round trip.
 *
 * - Python: the blocking calls run with the GIL released; pyx_stream_messages()
 *   reads a whole delivery into tuples in one call (bindings/python/src/redisx/_stream.py).
 * - Go: handles are uintptr types, []byte in and out (bindings/go/stream.go).
 * - Node: nothing is wrapped by SWIG: every stream call blocks, so
 *   bindings/node/src/stream.cc runs them on the libuv thread pool
 *   (Promise-returning functions, registered from the %init below). */

%nodefaultctor redisx_stream_batch;
%nodefaultdtor redisx_stream_batch;
%nodefaultctor redisx_consumer_options;
%nodefaultdtor redisx_consumer_options;
%nodefaultctor redisx_consumer;
%nodefaultdtor redisx_consumer;
%nodefaultctor redisx_delivery;
%nodefaultdtor redisx_delivery;
%nodefaultctor redisx_message;
%nodefaultdtor redisx_message;

%ignore redisx_stream_publish;
%ignore redisx_stream_publish_async;
%ignore redisx_stream_batch_add;
/* Read through helpers of each language (Python's pyx_dlq_* and
 * pyx_group_inspect below, Go's in go.i): the DLQ tools and group
 * inspection. */
%rename("$ignore", regextarget=1) "^redisx_dlq_";
%rename("$ignore", regextarget=1) "^redisx_group_info_";
%ignore redisx_group_inspect;

#if defined(SWIGPYTHON)

%feature("nothread", "0") redisx_stream_publish_batch;
%feature("nothread", "0") redisx_group_create;
%feature("nothread", "0") redisx_consumer_new;
%feature("nothread", "0") redisx_consumer_next;
%feature("nothread", "0") redisx_consumer_stop;
%feature("nothread", "0") redisx_consumer_free;
%feature("nothread", "0") redisx_delivery_free;
%feature("nothread", "0") redisx_message_ack;
%feature("nothread", "0") redisx_message_retry;
%feature("nothread", "0") redisx_message_dead_letter;

PYX_OUT_HANDLE(redisx_stream_batch)
PYX_OUT_HANDLE(redisx_consumer_options)
PYX_OUT_HANDLE(redisx_consumer)
PYX_OUT_HANDLE(redisx_delivery)
PYX_BYTES_IN(name, name_len)
PYX_BYTES_IN(payload, payload_len)

/* retry: True when the message went to the dead-letter stream instead. */
%typemap(in, numinputs=0) int *moved (int tmp = 0) "$1 = &tmp;"
%typemap(argout) int *moved {
    Py_XDECREF($result);
    $result = PyBool_FromLong(*$1);
}

/* Read through pyx_stream_messages(); the accessors are not wrapped. */
%ignore redisx_delivery_count;
%ignore redisx_delivery_message;
%ignore redisx_message_id;
%ignore redisx_message_delivery_count;
%ignore redisx_message_field_count;
%ignore redisx_message_field_name;
%ignore redisx_message_field_value;
%ignore redisx_message_get;
%ignore redisx_message_payload;
%ignore redisx_message_codec;
%ignore redisx_message_header_count;
%ignore redisx_message_header_name;
%ignore redisx_message_header_value;
%ignore redisx_message_field_reserved;
%ignore redisx_message_stream;

%{
/** One dead-letter entry as a tuple (see pyx_dlq_list); NULL with an
 *  exception set on out-of-memory. */
static PyObject *pyx_dlq_tuple(const redisx_dlq_entry *e)
{
    size_t nf = redisx_dlq_entry_field_count(e);
    PyObject *fields = PyList_New((Py_ssize_t)nf);
    for (size_t k = 0; fields && k < nf; k++) {
        size_t ln = 0, lv = 0;
        const char *fn = redisx_dlq_entry_field_name(e, k, &ln);
        const char *fv = redisx_dlq_entry_field_value(e, k, &lv);
        PyObject *pair = Py_BuildValue("(y#y#)", fn, (Py_ssize_t)ln, fv, (Py_ssize_t)lv);
        if (!pair) {
            Py_CLEAR(fields);
            break;
        }
        PyList_SetItem(fields, (Py_ssize_t)k, pair);
    }
    return fields ? Py_BuildValue("(NNNNNLNNN)", pyx_text(redisx_dlq_entry_id(e)),
                                  pyx_text(redisx_dlq_entry_original_id(e)), pyx_text(redisx_dlq_entry_stream(e)),
                                  pyx_text(redisx_dlq_entry_group(e)), pyx_text(redisx_dlq_entry_consumer(e)),
                                  (long long)redisx_dlq_entry_deliveries(e), pyx_text(redisx_dlq_entry_error(e)),
                                  PyBool_FromLong(redisx_dlq_entry_deleted(e)), fields)
                  : NULL;
}

%}

%inline %{
/** redisx_dlq_inspect: one entry's tuple, the GIL released during the read. */
PyObject *pyx_dlq_inspect(redisx_client *client, const char *stream, const char *dlq_id)
{
    redisx_dlq_entry *e = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_dlq_inspect(&e, client, stream, dlq_id);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    PyObject *t = pyx_dlq_tuple(e);
    redisx_dlq_entry_free(e);
    return t;
}

/** redisx_group_inspect: (consumers, pending, lag or None, entries read or
 *  None, last delivered id). */
PyObject *pyx_group_inspect(redisx_client *client, const char *stream, const char *group)
{
    redisx_group_info *g = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_group_inspect(&g, client, stream, group);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    int64_t lag = redisx_group_info_lag(g), read = redisx_group_info_entries_read(g);
    PyObject *t = Py_BuildValue("(LLNNN)", (long long)redisx_group_info_consumers(g),
                                (long long)redisx_group_info_pending(g),
                                lag < 0 ? (Py_INCREF(Py_None), Py_None) : PyLong_FromLongLong((long long)lag),
                                read < 0 ? (Py_INCREF(Py_None), Py_None) : PyLong_FromLongLong((long long)read),
                                pyx_text(redisx_group_info_last_delivered_id(g)));
    redisx_group_info_free(g);
    return t;
}

/** Dead-letter entries of `stream` (redisx_dlq_list) as tuples (dlq id,
 *  original id, stream, group, consumer, deliveries, error, deleted,
 *  fields [(bytes, bytes)]), the GIL released during the read. */
PyObject *pyx_dlq_list(redisx_client *client, const char *stream, int newest_first, const char *after_id, int count)
{
    redisx_dlq_entries *list = NULL;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_dlq_list(&list, client, stream, newest_first, after_id, count);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    size_t n = redisx_dlq_entries_count(list);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out && i < n; i++) {
        PyObject *t = pyx_dlq_tuple(redisx_dlq_entries_entry(list, i));
        if (!t) {
            Py_CLEAR(out);
            break;
        }
        PyList_SetItem(out, (Py_ssize_t)i, t);
    }
    redisx_dlq_entries_free(list);
    return out;
}

/** redisx_dlq_requeue: the new entry's id. */
PyObject *pyx_dlq_requeue(redisx_client *client, const char *stream, const char *dlq_id)
{
    char id[REDISX_STREAM_ID_SIZE] = "";
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_dlq_requeue(id, client, stream, dlq_id);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    return pyx_text(id);
}

/** redisx_dlq_purge: how many entries went. */
PyObject *pyx_dlq_purge(redisx_client *client, const char *stream, const char *up_to_id)
{
    int64_t removed = 0;
    redisx_status st;
    char detail[PYX_DETAIL];
    Py_BEGIN_ALLOW_THREADS
    st = redisx_dlq_purge(&removed, client, stream, up_to_id);
    if (st != REDISX_OK)
        pyx_copy_detail(detail);
    Py_END_ALLOW_THREADS
    if (st != REDISX_OK)
        return pyx_raise(st, detail);
    return PyLong_FromLongLong((long long)removed);
}

/** The context's client handle (for redisx_consumer_new and the stream
 *  calls); raises ClientClosed when it is closed. */
PyObject *pyx_ctx_client(pyx_ctx *ctx)
{
    if (pyx_ctx_check(ctx, 0) < 0)
        return NULL;
    return SWIG_NewPointerObj((void *)ctx->client, SWIGTYPE_p_redisx_client, 0);
}

/** The messages of a delivery as a list of tuples (message handle, id,
 *  delivery count, stream, plain fields [(bytes, bytes)], payload (bytes or
 *  None), codec (str or None), headers [(str, bytes)], taken over). */
PyObject *pyx_stream_messages(redisx_delivery *d)
{
    size_t n = redisx_delivery_count(d);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        redisx_message *m = redisx_delivery_message(d, i);
        size_t nf = redisx_message_field_count(m), nh = redisx_message_header_count(m), plain = 0;
        for (size_t k = 0; k < nf; k++)
            plain += !redisx_message_field_reserved(m, k);
        PyObject *fields = PyList_New((Py_ssize_t)plain), *headers = PyList_New((Py_ssize_t)nh);
        if (!fields || !headers)
            goto fail;
        for (size_t k = 0, j = 0; k < nf; k++) {
            if (redisx_message_field_reserved(m, k))
                continue;
            size_t ln = 0, lv = 0;
            const char *fn = redisx_message_field_name(m, k, &ln);
            const char *fv = redisx_message_field_value(m, k, &lv);
            PyObject *pair = Py_BuildValue("(y#y#)", fn, (Py_ssize_t)ln, fv, (Py_ssize_t)lv);
            if (!pair)
                goto fail;
            PyList_SetItem(fields, (Py_ssize_t)j++, pair);
        }
        for (size_t k = 0; k < nh; k++) {
            size_t lv = 0;
            const char *hv = redisx_message_header_value(m, k, &lv);
            PyObject *pair = Py_BuildValue("(Ny#)", pyx_text(redisx_message_header_name(m, k)), hv, (Py_ssize_t)lv);
            if (!pair)
                goto fail;
            PyList_SetItem(headers, (Py_ssize_t)k, pair);
        }
        size_t lp = 0;
        const char *p = redisx_message_payload(m, &lp);
        PyObject *payload = p ? PyBytes_FromStringAndSize(p, (Py_ssize_t)lp) : (Py_INCREF(Py_None), Py_None);
        const char *codec = redisx_message_codec(m);
        PyObject *t = Py_BuildValue("(NNLNNNNNN)", SWIG_NewPointerObj((void *)m, SWIGTYPE_p_redisx_message, 0),
                                    pyx_text(redisx_message_id(m)), (long long)redisx_message_delivery_count(m),
                                    pyx_text(redisx_message_stream(m)), fields, payload, pyx_text(codec), headers,
                                    PyBool_FromLong(redisx_message_taken_over(m)));
        if (!t)
            goto fail_list;
        PyList_SetItem(list, (Py_ssize_t)i, t);
        continue;
    fail:
        Py_XDECREF(fields);
        Py_XDECREF(headers);
    fail_list:
        Py_DECREF(list);
        return NULL;
    }
    return list;
}
%}

#elif defined(SWIGGO)

%redisx_go_handle(redisx_stream_batch, StreamBatch)
%redisx_go_handle(redisx_consumer_options, ConsumerOptions)
%redisx_go_handle(redisx_consumer, Consumer)
%redisx_go_handle(redisx_delivery, Delivery)
%redisx_go_handle(redisx_message, Message)
%redisx_go_out(redisx_stream_batch_new, StreamBatch)
%redisx_go_out(redisx_consumer_options_new, ConsumerOptions)
%redisx_go_out(redisx_consumer_new, Consumer)
%redisx_go_out(redisx_consumer_next, Delivery)
%redisx_go_bytes(name, name_len)
%redisx_go_bytes(payload, payload_len)

/* Dead-letter tools: entries are handles; redisxgo_* wrap the calls whose
 * optional strings Go cannot pass as NULL ("" means none) and whose
 * results are written into the caller's memory. */
%redisx_go_handle(redisx_dlq_entries, DlqEntries)
%redisx_go_handle(redisx_dlq_entry, DlqEntry)
%redisx_go_out(redisxgo_dlq_list, DlqEntries)
%redisx_go_out(redisxgo_dlq_inspect, DlqEntry)
%redisx_go_handle(redisx_group_info, GroupInfo)
%redisx_go_out(redisxgo_group_inspect, GroupInfo)
%redisx_go_len(redisxgo_dlq_requeue)
%typemap(in, numinputs=0) int64_t *removed (int64_t tmp = 0) "$1 = &tmp;"
%typemap(gotype) redisx_status redisxgo_dlq_purge "Out[int]"
%typemap(out) redisx_status redisxgo_dlq_purge "$result = redisx_go_status($1, (const void *)(uintptr_t)*arg1);"
%typemap(goout) redisx_status redisxgo_dlq_purge %{
	{
		v, err := swigStatus($1)
		$result = Out[int]{Value: int(v), Err: err}
	}
%}
%rename("%s") redisx_dlq_entries_free;
%rename("%s") redisx_dlq_entries_count;
%rename("%s") redisx_dlq_entries_entry;
%rename("%s") redisx_dlq_entry_id;
%rename("%s") redisx_dlq_entry_error;
%rename("%s") redisx_dlq_entry_original_id;
%rename("%s") redisx_dlq_entry_stream;
%rename("%s") redisx_dlq_entry_group;
%rename("%s") redisx_dlq_entry_consumer;
%rename("%s") redisx_dlq_entry_deliveries;
%rename("%s") redisx_dlq_entry_deleted;
%rename("%s") redisx_dlq_entry_field_count;
%rename("%s") redisx_dlq_entry_field_name;
%rename("%s") redisx_dlq_entry_field_value;
%rename("%s") redisx_dlq_entry_free;
%rename("%s") redisx_group_info_free;
%rename("%s") redisx_group_info_consumers;
%rename("%s") redisx_group_info_pending;
%rename("%s") redisx_group_info_lag;
%rename("%s") redisx_group_info_entries_read;
%rename("%s") redisx_group_info_last_delivered_id;

%inline %{
redisx_status redisxgo_dlq_list(redisx_dlq_entries **out, redisx_client *client, const char *stream, int newest_first,
                                const char *after_id, int count)
{
    return redisx_dlq_list(out, client, stream, newest_first, after_id && *after_id ? after_id : NULL, count);
}
redisx_status redisxgo_dlq_requeue(void *out, size_t out_cap, size_t *out_len, redisx_client *client,
                                   const char *stream, const char *dlq_id)
{
    char id[REDISX_STREAM_ID_SIZE] = "";
    redisx_status st = redisx_dlq_requeue(id, client, stream, dlq_id);
    size_t n = strlen(id);
    if (st == REDISX_OK && n <= out_cap) {
        memcpy(out, id, n);
        *out_len = n;
    }
    return st;
}
redisx_status redisxgo_dlq_purge(int64_t *removed, redisx_client *client, const char *stream, const char *up_to_id)
{
    return redisx_dlq_purge(removed, client, stream, up_to_id && *up_to_id ? up_to_id : NULL);
}
redisx_status redisxgo_dlq_inspect(redisx_dlq_entry **out, redisx_client *client, const char *stream,
                                   const char *dlq_id)
{
    return redisx_dlq_inspect(out, client, stream, dlq_id);
}
redisx_status redisxgo_group_inspect(redisx_group_info **out, redisx_client *client, const char *stream,
                                     const char *group)
{
    return redisx_group_inspect(out, client, stream, group);
}
%}

/* retry returns Out[int]: 1 when the message went to the dead-letter stream. */
%typemap(in, numinputs=0) int *moved (int tmp = 0) "$1 = &tmp;"
%typemap(gotype) redisx_status redisx_message_retry "Out[int]"
%typemap(out) redisx_status redisx_message_retry "$result = redisx_go_status($1, (const void *)(uintptr_t)*arg4);"
%typemap(goout) redisx_status redisx_message_retry %{
	{
		v, err := swigStatus($1)
		$result = Out[int]{Value: int(v), Err: err}
	}
%}

/* Binary field names and values: a []byte copy; nil when absent (NULL). */
%define %redisx_go_message_bytes(FUNC, LENARG)
%typemap(gotype) const char *FUNC "[]byte"
%typemap(imtype) const char *FUNC "[]byte"
%typemap(out) const char *FUNC %{
	$result.array = (void *)$1;
	$result.len = $1 ? (intgo)*LENARG : 0;
	$result.cap = $result.len;
%}
%typemap(goout) const char *FUNC %{
	if $1 != nil {
		$result = bytes.Clone($1)
		if $result == nil {
			$result = []byte{}
		}
	}
%}
%enddef
%redisx_go_message_bytes(redisx_message_field_name, arg3)
%redisx_go_message_bytes(redisx_message_field_value, arg3)
%redisx_go_message_bytes(redisx_message_get, arg3)
%redisx_go_message_bytes(redisx_message_payload, arg2)
%redisx_go_message_bytes(redisx_message_header_value, arg3)
%redisx_go_message_bytes(redisx_dlq_entry_field_name, arg3)
%redisx_go_message_bytes(redisx_dlq_entry_field_value, arg3)

#elif defined(SWIGJAVASCRIPT)

%{
void redisxjs_stream_init(Napi::Env env, Napi::Object exports);
%}
%init %{
    redisxjs_stream_init(env, exports);
%}

#endif

#if !defined(SWIGJAVASCRIPT)
%include <redisx/stream.h>
#endif
