/* Exported: the stream tools (idempotent consumers, the dead-letter stream,
 * group inspection). Argument checks here, behaviour in core/stream_tools.c
 * and core/stream.c. */
#include <stdlib.h>

#include "stream_impl.h"
#include "ffi.h"

#define TTL_MAX_MS 2592000000LL /* 30 days, as idempotency records */

static redisx_status check_stream(redisx_client *client, const char *stream)
{
    redisx_status st = redisx__ffi_client(client, 1);
    if (st == REDISX_OK)
        st = redisx__ffi_name(stream, REDISX_STREAM_NAME_MAX, "stream name");
    return st;
}

/* An explicit entry id: "<ms>-<seq>" or "<ms>" (digits only). */
static redisx_status check_id(const char *id, const char *what)
{
    redisx_status st = redisx__ffi_name(id, REDISX_STREAM_ID_SIZE - 1, what);
    if (st != REDISX_OK)
        return st;
    int dash = 0, digits = 0;
    for (const char *p = id; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (*p == '-' && !dash && digits > 0) {
            dash = 1;
            digits = 0;
        } else {
            return redisx__fail(REDISX_ERR_INVALID, "%s \"%s\" is not a stream entry id (<ms>-<seq>)", what, id);
        }
    }
    REDISX_FFI_REQUIRE(digits > 0, "%s \"%s\" is not a stream entry id (<ms>-<seq>)", what, id);
    return REDISX_OK;
}

redisx_status redisx_consumer_options_set_idempotent(redisx_consumer_options *opts, int64_t lease_ms, int64_t ttl_ms)
{
    REDISX_FFI_REQUIRE(opts != NULL, "options are NULL");
    REDISX_FFI_REQUIRE(lease_ms >= 1 && lease_ms <= TTL_MAX_MS, "idempotency lease must be in 1..%lld ms, got %lld",
                       (long long)TTL_MAX_MS, (long long)lease_ms);
    REDISX_FFI_REQUIRE(ttl_ms >= 1 && ttl_ms <= TTL_MAX_MS, "idempotency ttl must be in 1..%lld ms, got %lld",
                       (long long)TTL_MAX_MS, (long long)ttl_ms);
    opts->idem_lease_ms = lease_ms;
    opts->idem_ttl_ms = ttl_ms;
    return REDISX_OK;
}

int redisx_message_taken_over(const redisx_message *msg)
{
    return msg ? redisx__message_taken_over(msg) : 0;
}

/* ---- dead-letter tools ---- */

redisx_status redisx_dlq_list(redisx_dlq_entries **out, redisx_client *client, const char *stream, int newest_first,
                              const char *after_id, int count)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK && after_id)
        st = check_id(after_id, "after id");
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(newest_first == 0 || newest_first == 1, "newest_first must be 0 or 1, got %d", newest_first);
    REDISX_FFI_REQUIRE(count >= 1 && count <= REDISX_STREAM_BATCH_MAX, "count must be in 1..%d, got %d",
                       REDISX_STREAM_BATCH_MAX, count);
    return redisx__dlq_list(out, client, stream, newest_first, after_id, count);
}

void redisx_dlq_entries_free(redisx_dlq_entries *list)
{
    if (list)
        redisx__dlq_list_free(list);
}

size_t redisx_dlq_entries_count(const redisx_dlq_entries *list)
{
    return list ? redisx__dlq_list_count(list) : 0;
}

const redisx_dlq_entry *redisx_dlq_entries_entry(const redisx_dlq_entries *list, size_t i)
{
    return list ? redisx__dlq_list_entry(list, i) : NULL;
}

redisx_status redisx_dlq_inspect(redisx_dlq_entry **out, redisx_client *client, const char *stream,
                                 const char *dlq_id)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = check_id(dlq_id, "dead-letter id");
    if (st != REDISX_OK)
        return st;
    return redisx__dlq_inspect(out, client, stream, dlq_id);
}

void redisx_dlq_entry_free(redisx_dlq_entry *entry)
{
    if (entry)
        redisx__dlq_entry_free(entry);
}

const char *redisx_dlq_entry_id(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_id(entry) : NULL;
}
const char *redisx_dlq_entry_error(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_error(entry) : NULL;
}
const char *redisx_dlq_entry_original_id(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_original_id(entry) : NULL;
}
const char *redisx_dlq_entry_stream(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_stream(entry) : NULL;
}
const char *redisx_dlq_entry_group(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_group(entry) : NULL;
}
const char *redisx_dlq_entry_consumer(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_consumer(entry) : NULL;
}
int64_t redisx_dlq_entry_deliveries(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_deliveries(entry) : -1;
}
int redisx_dlq_entry_deleted(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_deleted(entry) : 0;
}
size_t redisx_dlq_entry_field_count(const redisx_dlq_entry *entry)
{
    return entry ? redisx__dlq_entry_fields(entry) : 0;
}

const char *redisx_dlq_entry_field_name(const redisx_dlq_entry *entry, size_t i, size_t *len)
{
    if (!entry) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__dlq_entry_field(entry, i, 0, len);
}

const char *redisx_dlq_entry_field_value(const redisx_dlq_entry *entry, size_t i, size_t *len)
{
    if (!entry) {
        if (len)
            *len = 0;
        return NULL;
    }
    return redisx__dlq_entry_field(entry, i, 1, len);
}

redisx_status redisx_dlq_requeue(char *new_id_out, redisx_client *client, const char *stream, const char *dlq_id)
{
    if (new_id_out)
        new_id_out[0] = '\0';
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = check_id(dlq_id, "dead-letter id");
    if (st != REDISX_OK)
        return st;
    return redisx__dlq_requeue(new_id_out, client, stream, dlq_id);
}

redisx_status redisx_dlq_purge(int64_t *removed, redisx_client *client, const char *stream, const char *up_to_id)
{
    if (removed)
        *removed = 0;
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK && up_to_id)
        st = check_id(up_to_id, "up-to id");
    if (st != REDISX_OK)
        return st;
    return redisx__dlq_purge(removed, client, stream, up_to_id);
}

/* ---- group inspection ---- */

redisx_status redisx_group_inspect(redisx_group_info **out, redisx_client *client, const char *stream,
                                   const char *group)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_stream(client, stream);
    if (st == REDISX_OK)
        st = redisx__ffi_name(group, REDISX_STREAM_GROUP_MAX, "group name");
    if (st != REDISX_OK)
        return st;
    return redisx__group_inspect(out, client, stream, group);
}

void redisx_group_info_free(redisx_group_info *info)
{
    if (info)
        redisx__group_info_free(info);
}
int64_t redisx_group_info_consumers(const redisx_group_info *info)
{
    return info ? redisx__group_info_consumers(info) : 0;
}
int64_t redisx_group_info_pending(const redisx_group_info *info)
{
    return info ? redisx__group_info_pending(info) : 0;
}
const char *redisx_group_info_last_delivered_id(const redisx_group_info *info)
{
    return info ? redisx__group_info_last_id(info) : NULL;
}
int64_t redisx_group_info_lag(const redisx_group_info *info)
{
    return info ? redisx__group_info_lag(info) : -1;
}
int64_t redisx_group_info_entries_read(const redisx_group_info *info)
{
    return info ? redisx__group_info_entries_read(info) : -1;
}
