/* Exported: Redis Streams. Argument checks here, behaviour in core/stream.c. */
#include <stdlib.h>
#include <string.h>

#include "stream_impl.h"
#include "ffi.h"

static redisx_status check_fields(size_t nfields, const char *const *names, const size_t *name_lens,
                                  const char *const *values, const size_t *value_lens)
{
    REDISX_FFI_REQUIRE(nfields >= 1 && nfields <= REDISX_STREAM_FIELDS_MAX, "a message needs 1..%d fields, got %zu",
                       REDISX_STREAM_FIELDS_MAX, nfields);
    REDISX_FFI_REQUIRE(names != NULL && values != NULL, "field names or values are NULL");
    for (size_t i = 0; i < nfields; i++) {
        REDISX_FFI_REQUIRE(names[i] != NULL, "field name %zu is NULL", i);
        REDISX_FFI_REQUIRE(values[i] != NULL || (value_lens && value_lens[i] == 0), "field value %zu is NULL", i);
        REDISX_FFI_REQUIRE(!name_lens || name_lens[i] > 0, "field name %zu is empty", i);
        REDISX_FFI_REQUIRE(name_lens || names[i][0] != '\0', "field name %zu is empty", i);
    }
    return REDISX_OK;
}

static redisx_status check_trim(redisx_stream_trim trim, int64_t threshold)
{
    REDISX_FFI_REQUIRE(trim == REDISX_STREAM_TRIM_NONE || trim == REDISX_STREAM_TRIM_MAXLEN ||
                           trim == REDISX_STREAM_TRIM_MAXAGE,
                       "unknown trim strategy %d", (int)trim);
    REDISX_FFI_REQUIRE(trim == REDISX_STREAM_TRIM_NONE || threshold >= 0, "trim threshold must be >= 0, got %lld",
                       (long long)threshold);
    return REDISX_OK;
}

static redisx_status check_stream(redisx_client *client, const char *stream)
{
    redisx_status st = redisx__ffi_client(client, 1);
    if (st == REDISX_OK)
        st = redisx__ffi_name(stream, REDISX_STREAM_NAME_MAX, "stream name");
    return st;
}

redisx_status redisx_stream_batch_new(redisx_stream_batch **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    return redisx__stream_batch_new(out);
}

void redisx_stream_batch_free(redisx_stream_batch *batch)
{
    if (batch)
        redisx__stream_batch_free(batch);
}

redisx_status redisx_stream_batch_add(redisx_stream_batch *batch, size_t nfields, const char *const *names,
                                      const size_t *name_lens, const char *const *values, const size_t *value_lens)
{
    REDISX_FFI_REQUIRE(batch != NULL, "batch is NULL");
    REDISX_FFI_REQUIRE(redisx__stream_batch_size(batch) < REDISX_STREAM_BATCH_MAX, "a batch holds at most %d messages",
                       REDISX_STREAM_BATCH_MAX);
    redisx_status st = check_fields(nfields, names, name_lens, values, value_lens);
    if (st != REDISX_OK)
        return st;
    return redisx__stream_batch_add(batch, nfields, names, name_lens, values, value_lens);
}

redisx_status redisx_stream_batch_add_message(redisx_stream_batch *batch)
{
    REDISX_FFI_REQUIRE(batch != NULL, "batch is NULL");
    REDISX_FFI_REQUIRE(redisx__stream_batch_size(batch) < REDISX_STREAM_BATCH_MAX, "a batch holds at most %d messages",
                       REDISX_STREAM_BATCH_MAX);
    return redisx__stream_batch_open(batch);
}

/* The batch's last message, which may take one more field. */
static redisx_status check_last(redisx_stream_batch *batch)
{
    REDISX_FFI_REQUIRE(batch != NULL, "batch is NULL");
    size_t n = redisx__stream_batch_size(batch);
    REDISX_FFI_REQUIRE(n > 0, "batch has no message: call redisx_stream_batch_add_message first");
    REDISX_FFI_REQUIRE(redisx__stream_batch_fields(batch, n - 1) < REDISX_STREAM_FIELDS_MAX,
                       "a message holds at most %d fields", REDISX_STREAM_FIELDS_MAX);
    return REDISX_OK;
}

redisx_status redisx_stream_batch_add_field(redisx_stream_batch *batch, const void *name, size_t name_len,
                                            const void *value, size_t value_len)
{
    redisx_status st = check_last(batch);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(name != NULL && name_len > 0, "field name is empty");
    REDISX_FFI_REQUIRE(value != NULL || value_len == 0, "field value is NULL");
    REDISX_FFI_REQUIRE(!(name_len >= 3 && memcmp(name, "rx-", 3) == 0),
                       "field names starting with \"rx-\" are reserved (payload, codec, headers)");
    return redisx__stream_batch_append(batch, NULL, name, name_len, value, value_len);
}

static int has_payload(const redisx_stream_batch *batch)
{
    /* The payload is always the field added by add_payload; look for it by
     * name among the last message's fields through the publish form. */
    return redisx__stream_batch_has(batch, REDISX_STREAM_PAYLOAD_FIELD);
}

redisx_status redisx_stream_batch_add_payload(redisx_stream_batch *batch, const void *payload, size_t payload_len,
                                              const char *codec)
{
    redisx_status st = check_last(batch);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(payload != NULL || payload_len == 0, "payload is NULL");
    REDISX_FFI_REQUIRE(!has_payload(batch), "the message has a payload already");
    size_t lc = codec ? strlen(codec) : 0;
    REDISX_FFI_REQUIRE(lc <= REDISX_STREAM_HEADER_NAME_MAX, "codec name is longer than %d bytes",
                       REDISX_STREAM_HEADER_NAME_MAX);
    const char *pf = REDISX_STREAM_PAYLOAD_FIELD, *cf = REDISX_STREAM_CODEC_FIELD;
    st = redisx__stream_batch_append(batch, NULL, pf, strlen(pf), payload ? payload : "", payload_len);
    if (st == REDISX_OK && lc)
        st = redisx__stream_batch_append(batch, NULL, cf, strlen(cf), codec, lc);
    return st;
}

redisx_status redisx_stream_batch_add_header(redisx_stream_batch *batch, const char *name, const void *value,
                                             size_t value_len)
{
    redisx_status st = check_last(batch);
    if (st == REDISX_OK)
        st = redisx__ffi_name(name, REDISX_STREAM_HEADER_NAME_MAX, "header name");
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(value != NULL || value_len == 0, "header value is NULL");
    return redisx__stream_batch_append(batch, REDISX_STREAM_HEADER_PREFIX, name, strlen(name), value ? value : "",
                                       value_len);
}

size_t redisx_stream_batch_size(const redisx_stream_batch *batch)
{
    return batch ? redisx__stream_batch_size(batch) : 0;
}

const char *redisx_stream_batch_id(const redisx_stream_batch *batch, size_t i)
{
    return batch ? redisx__stream_batch_id(batch, i) : NULL;
}

redisx_status redisx_stream_publish_batch(redisx_client *client, const char *stream, redisx_stream_batch *batch,
                                          redisx_stream_trim trim, int64_t threshold)
{
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = check_trim(trim, threshold);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(batch != NULL, "batch is NULL");
    REDISX_FFI_REQUIRE(redisx__stream_batch_size(batch) > 0, "batch is empty");
    for (size_t i = 0; i < redisx__stream_batch_size(batch); i++)
        REDISX_FFI_REQUIRE(redisx__stream_batch_fields(batch, i) > 0, "message %zu of the batch has no fields", i);
    return redisx__stream_publish_batch(client, stream, batch, trim, threshold);
}

redisx_status redisx_stream_publish(char *id_out, redisx_client *client, const char *stream, size_t nfields,
                                    const char *const *names, const size_t *name_lens, const char *const *values,
                                    const size_t *value_lens, redisx_stream_trim trim, int64_t threshold)
{
    if (id_out)
        id_out[0] = '\0';
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = check_trim(trim, threshold);
    if (st == REDISX_OK)
        st = check_fields(nfields, names, name_lens, values, value_lens);
    if (st != REDISX_OK)
        return st;
    redisx_stream_batch *b;
    st = redisx__stream_batch_new(&b);
    if (st == REDISX_OK)
        st = redisx__stream_batch_add(b, nfields, names, name_lens, values, value_lens);
    if (st == REDISX_OK)
        st = redisx__stream_publish_batch(client, stream, b, trim, threshold);
    if (st == REDISX_OK && id_out)
        redisx__copy_detail(id_out, REDISX_STREAM_ID_SIZE, redisx__stream_batch_id(b, 0));
    if (b)
        redisx__stream_batch_free(b);
    return st;
}

redisx_status redisx_stream_publish_async(redisx_client *client, const char *stream, size_t nfields,
                                          const char *const *names, const size_t *name_lens,
                                          const char *const *values, const size_t *value_lens,
                                          redisx_stream_trim trim, int64_t threshold, redisx_stream_publish_cb cb,
                                          void *user)
{
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = redisx__ffi_name(stream, REDISX_STREAM_NAME_MAX, "stream name");
    if (st == REDISX_OK)
        st = check_trim(trim, threshold);
    if (st == REDISX_OK)
        st = check_fields(nfields, names, name_lens, values, value_lens);
    if (st == REDISX_OK)
        st = redisx__check_async_target(client, cb != NULL);
    if (st != REDISX_OK)
        return st;
    redisx_stream_batch *b;
    st = redisx__stream_batch_new(&b);
    if (st == REDISX_OK)
        st = redisx__stream_batch_add(b, nfields, names, name_lens, values, value_lens);
    if (st == REDISX_OK)
        st = redisx__stream_publish_async(client, stream, b, trim, threshold, cb, user);
    if (b)
        redisx__stream_batch_free(b);
    return st;
}

redisx_status redisx_group_create(redisx_client *client, const char *stream, const char *group, const char *start_id)
{
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = redisx__ffi_name(group, REDISX_STREAM_GROUP_MAX, "group name");
    if (st == REDISX_OK && start_id)
        st = redisx__ffi_name(start_id, REDISX_STREAM_ID_SIZE - 1, "start id");
    if (st != REDISX_OK)
        return st;
    return redisx__group_create(client, stream, group, start_id);
}

/* ---- consumer options ---- */

redisx_status redisx_consumer_options_new(redisx_consumer_options **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    redisx__consumer_options_init(*out);
    return REDISX_OK;
}

void redisx_consumer_options_free(redisx_consumer_options *opts)
{
    free(opts);
}

#define REQUIRE_RANGE(v, lo, hi, what)                                                                        \
    REDISX_FFI_REQUIRE((v) >= (lo) && (v) <= (hi), "%s must be in %lld..%lld, got %lld", what, (long long)(lo), \
                       (long long)(hi), (long long)(v))

#define DAY_MS (24 * 3600 * 1000LL)

redisx_status redisx_consumer_options_set_max_in_flight(redisx_consumer_options *opts, int n)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(n, 1, REDISX_STREAM_BATCH_MAX, "max in flight");
    opts->max_in_flight = n;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_max_deliveries(redisx_consumer_options *opts, int n)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(n, 1, 1000000, "max deliveries");
    opts->max_deliveries = n;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_retry_backoff_ms(redisx_consumer_options *opts, int64_t min_ms,
                                                           int64_t max_ms)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(min_ms, 0, DAY_MS, "retry backoff min");
    REQUIRE_RANGE(max_ms, min_ms, DAY_MS, "retry backoff max");
    opts->backoff_min_ms = min_ms;
    opts->backoff_max_ms = max_ms;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_reclaim(redisx_consumer_options *opts, int64_t min_idle_ms,
                                                  int64_t interval_ms)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(min_idle_ms, 3, DAY_MS, "min idle");
    REQUIRE_RANGE(interval_ms, 0, DAY_MS, "reclaim interval");
    opts->min_idle_ms = min_idle_ms;
    opts->reclaim_interval_ms = interval_ms;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_block_ms(redisx_consumer_options *opts, int64_t block_ms)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(block_ms, 10, 60000, "block time");
    opts->block_ms = block_ms;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_dead_letter_maxlen(redisx_consumer_options *opts, int64_t maxlen)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(maxlen, 0, INT64_MAX / 2, "dead-letter maxlen");
    opts->dlq_maxlen = maxlen;
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_delete_idle_ms(redisx_consumer_options *opts, int64_t idle_ms)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REQUIRE_RANGE(idle_ms, 0, 365 * DAY_MS, "idle time");
    opts->delete_idle_ms = idle_ms;
    return REDISX_OK;
}

/* ---- consumer ---- */

redisx_status redisx_consumer_new(redisx_consumer **out, redisx_client *client, const char *stream,
                                  const char *group, const char *consumer, const redisx_consumer_options *opts)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = redisx__ffi_name(group, REDISX_STREAM_GROUP_MAX, "group name");
    if (st == REDISX_OK)
        st = redisx__ffi_name(consumer, REDISX_STREAM_GROUP_MAX, "consumer name");
    if (st != REDISX_OK)
        return st;
    redisx_consumer_options defaults;
    if (!opts) {
        redisx__consumer_options_init(&defaults);
        opts = &defaults;
    }
    return redisx__consumer_new(out, client, stream, group, consumer, opts);
}

redisx_status redisx_consumer_next(redisx_delivery **out, redisx_consumer *consumer, int max, int64_t timeout_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    REDISX_FFI_REQUIRE(consumer != NULL, "consumer is NULL");
    redisx_status st = redisx__ffi_client(redisx__consumer_client(consumer), 1);
    if (st != REDISX_OK)
        return st;
    REQUIRE_RANGE(max, 1, REDISX_STREAM_BATCH_MAX, "max messages");
    REQUIRE_RANGE(timeout_ms, 0, DAY_MS, "timeout");
    return redisx__consumer_next(out, consumer, max, timeout_ms);
}

void redisx_delivery_free(redisx_delivery *delivery)
{
    if (delivery)
        redisx__delivery_free(delivery);
}

size_t redisx_delivery_count(const redisx_delivery *delivery)
{
    return delivery ? redisx__delivery_count(delivery) : 0;
}

redisx_message *redisx_delivery_message(redisx_delivery *delivery, size_t i)
{
    return delivery ? redisx__delivery_message(delivery, i) : NULL;
}

const char *redisx_message_id(const redisx_message *msg)
{
    return msg ? redisx__message_id(msg) : NULL;
}

int64_t redisx_message_delivery_count(const redisx_message *msg)
{
    return msg ? redisx__message_deliveries(msg) : 0;
}

size_t redisx_message_field_count(const redisx_message *msg)
{
    return msg ? redisx__message_fields(msg) : 0;
}

const char *redisx_message_field_name(const redisx_message *msg, size_t i, size_t *len)
{
    if (!msg) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__message_name(msg, i, len);
}

const char *redisx_message_field_value(const redisx_message *msg, size_t i, size_t *len)
{
    if (!msg) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__message_value(msg, i, len);
}

const char *redisx_message_get(const redisx_message *msg, const char *name, size_t *len)
{
    if (!msg || !name) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__message_get(msg, name, len);
}

const char *redisx_message_payload(const redisx_message *msg, size_t *len)
{
    return redisx_message_get(msg, REDISX_STREAM_PAYLOAD_FIELD, len);
}

const char *redisx_message_codec(const redisx_message *msg)
{
    return redisx_message_get(msg, REDISX_STREAM_CODEC_FIELD, NULL);
}

size_t redisx_message_header_count(const redisx_message *msg)
{
    return msg ? redisx__message_header_count(msg) : 0;
}

const char *redisx_message_header_name(const redisx_message *msg, size_t i)
{
    size_t k;
    if (!msg || !redisx__message_header_at(msg, i, &k))
        return NULL;
    return redisx__message_name(msg, k, NULL) + strlen(REDISX_STREAM_HEADER_PREFIX);
}

const char *redisx_message_header_value(const redisx_message *msg, size_t i, size_t *len)
{
    size_t k;
    if (!msg || !redisx__message_header_at(msg, i, &k)) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__message_value(msg, k, len);
}

int redisx_message_field_reserved(const redisx_message *msg, size_t i)
{
    return msg ? redisx__message_reserved(msg, i) : 0;
}

const char *redisx_message_stream(const redisx_message *msg)
{
    return msg ? redisx__message_stream(msg) : NULL;
}

static redisx_status check_message(const redisx_message *msg)
{
    REDISX_FFI_REQUIRE(msg != NULL, "message is NULL");
    return redisx__ffi_client(redisx__message_client(msg), 1);
}

redisx_status redisx_message_ack(redisx_message *msg)
{
    redisx_status st = check_message(msg);
    return st != REDISX_OK ? st : redisx__message_ack(msg);
}

redisx_status redisx_message_retry(redisx_message *msg, int64_t delay_ms, const char *error, int *moved)
{
    if (moved)
        *moved = 0;
    redisx_status st = check_message(msg);
    if (st != REDISX_OK)
        return st;
    REQUIRE_RANGE(delay_ms, -1, DAY_MS, "retry delay");
    return redisx__message_retry(msg, delay_ms, error, moved);
}

redisx_status redisx_message_dead_letter(redisx_message *msg, const char *error)
{
    redisx_status st = check_message(msg);
    return st != REDISX_OK ? st : redisx__message_dead_letter(msg, error);
}

redisx_status redisx_consumer_stop(redisx_consumer *consumer, int64_t deadline_ms)
{
    REDISX_FFI_REQUIRE(consumer != NULL, "consumer is NULL");
    REQUIRE_RANGE(deadline_ms, 0, DAY_MS, "stop deadline");
    if (redisx__in_loop(redisx__consumer_client(consumer)))
        return redisx__fail(REDISX_ERR_WOULDBLOCK, "blocking redisx call from a callback of the same client");
    return redisx__consumer_stop(consumer, deadline_ms);
}

void redisx_consumer_free(redisx_consumer *consumer)
{
    if (consumer)
        redisx__consumer_free(consumer);
}

int redisx_consumer_in_flight(const redisx_consumer *consumer)
{
    return consumer ? redisx__consumer_in_flight(consumer) : 0;
}
