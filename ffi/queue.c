/* Exported: the pollable queue and its items. */
#include <stdlib.h>

#include "ffi.h"

redisx_status redisx_queue_new(redisx_queue **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    return redisx__queue_create(out);
}

void redisx_queue_free(redisx_queue *queue)
{
    redisx__queue_unref(queue);
}

int redisx_queue_fd(const redisx_queue *queue)
{
    return queue ? redisx__queue_fd(queue) : -1;
}

redisx_status redisx_queue_pop(redisx_item **out, redisx_queue *queue, int timeout_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    REDISX_FFI_REQUIRE(queue != NULL, "queue is NULL");
    REDISX_FFI_REQUIRE(timeout_ms >= -1, "timeout_ms must be -1, 0 or positive, got %d", timeout_ms);
    return redisx__queue_pop(out, queue, timeout_ms);
}

void redisx_queue_shutdown(redisx_queue *queue)
{
    if (queue)
        redisx__queue_shutdown(queue);
}

size_t redisx_queue_size(const redisx_queue *queue)
{
    return queue ? redisx__queue_size((redisx_queue *)queue) : 0;
}

void redisx_item_free(redisx_item *item)
{
    if (!item)
        return;
    free(item->message);
    free(item->event_key);
    free(item->event_stream);
    free(item->event_group);
    free(item->event_node);
    redisx__lock_unref(item->lock);
    redisx__reply_free(item->reply);
    free(item->rl_result);
    if (item->idem)
        redisx__idem_free(item->idem);
    redisx__cache_entry_free(item->cache_entry);
    free(item);
}

redisx_item_kind redisx_item_kind_of(const redisx_item *item)
{
    return item ? item->kind : REDISX_ITEM_COMPLETION;
}

void *redisx_item_user(const redisx_item *item)
{
    return item ? item->user : NULL;
}

redisx_status redisx_item_status(const redisx_item *item)
{
    return item ? item->status : REDISX_ERR_INVALID;
}

const char *redisx_item_message(const redisx_item *item)
{
    return item && item->message ? item->message : "";
}

redisx_log_level redisx_item_log_level(const redisx_item *item)
{
    return item ? item->level : REDISX_LOG_ERROR;
}

redisx_conn_state redisx_item_state(const redisx_item *item)
{
    return item ? item->state : REDISX_STATE_DISCONNECTED;
}

int redisx_item_connection(const redisx_item *item)
{
    return item ? item->connection : -1;
}

const char *redisx_item_node(const redisx_item *item)
{
    return item && item->kind == REDISX_ITEM_STATE ? item->event_node : NULL;
}

const redisx_event *redisx_item_event(const redisx_item *item)
{
    return item && item->kind == REDISX_ITEM_EVENT ? &item->event : NULL;
}

redisx_lock *redisx_item_take_lock(redisx_item *item)
{
    if (!item || item->kind != REDISX_ITEM_COMPLETION)
        return NULL;
    redisx_lock *lk = item->lock;
    item->lock = NULL;
    return lk;
}

const redisx_lock *redisx_item_lock(const redisx_item *item)
{
    return item && item->kind == REDISX_ITEM_LOCK_LOST ? item->lock : NULL;
}

const redisx_lock_info *redisx_item_lock_info(const redisx_item *item)
{
    return item && item->has_info ? &item->info : NULL;
}

redisx_reply *redisx_item_take_reply(redisx_item *item)
{
    if (!item)
        return NULL;
    redisx_reply *r = item->reply;
    item->reply = NULL;
    return r;
}

redisx_ratelimit_result *redisx_item_take_ratelimit_result(redisx_item *item)
{
    if (!item)
        return NULL;
    redisx_ratelimit_result *r = item->rl_result;
    item->rl_result = NULL;
    return r;
}

redisx_idem *redisx_item_take_idem(redisx_item *item)
{
    if (!item)
        return NULL;
    redisx_idem *rec = item->idem;
    item->idem = NULL;
    return rec;
}

redisx_cache_entry *redisx_item_take_cache_entry(redisx_item *item)
{
    if (!item)
        return NULL;
    redisx_cache_entry *e = item->cache_entry;
    item->cache_entry = NULL;
    return e;
}
