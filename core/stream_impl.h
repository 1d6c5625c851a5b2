/* Streams (core/stream.c) behind the exported wrappers in ffi/stream.c:
 * arguments are checked there, behaviour lives here. */
#ifndef REDISX_CORE_STREAM_IMPL_H
#define REDISX_CORE_STREAM_IMPL_H

#include "internal.h"

extern const redisx__script redisx__script_stream_publish;
extern const redisx__script redisx__script_stream_dead_letter;
extern const redisx__script redisx__script_stream_claim;
extern const redisx__script redisx__script_stream_extend;
extern const redisx__script redisx__script_stream_delete_idle;
extern const redisx__script redisx__script_stream_dlq_requeue;
extern const redisx__script redisx__script_stream_dlq_purge;

struct redisx_consumer_options {
    int max_in_flight;
    int max_deliveries;
    int64_t backoff_min_ms, backoff_max_ms;
    int64_t min_idle_ms, reclaim_interval_ms; /* interval 0: min idle / 2 */
    int64_t block_ms;
    int64_t dlq_maxlen;
    int64_t delete_idle_ms;
    int64_t idem_lease_ms, idem_ttl_ms; /* 0: not idempotent */
};
void redisx__consumer_options_init(redisx_consumer_options *o);

redisx_status redisx__stream_batch_new(redisx_stream_batch **out);
void redisx__stream_batch_free(redisx_stream_batch *b);
redisx_status redisx__stream_batch_add(redisx_stream_batch *b, size_t nfields, const char *const *names,
                                       const size_t *name_lens, const char *const *values,
                                       const size_t *value_lens);
size_t redisx__stream_batch_size(const redisx_stream_batch *b);
/* Adds a message without fields; redisx__stream_batch_append fills the last one
 * (its name is prefix + name). */
redisx_status redisx__stream_batch_open(redisx_stream_batch *b);
redisx_status redisx__stream_batch_append(redisx_stream_batch *b, const char *prefix, const void *name, size_t ln,
                                          const void *value, size_t lv);
size_t redisx__stream_batch_fields(const redisx_stream_batch *b, size_t i);
/* Whether the last message has a field named `name`. */
int redisx__stream_batch_has(const redisx_stream_batch *b, const char *name);
const char *redisx__stream_batch_id(const redisx_stream_batch *b, size_t i);
redisx_status redisx__stream_publish_batch(redisx_client *c, const char *stream, redisx_stream_batch *b,
                                           redisx_stream_trim trim, int64_t threshold);
/* `one` holds the message (copied into the command before returning). */
redisx_status redisx__stream_publish_async(redisx_client *c, const char *stream, const redisx_stream_batch *one,
                                           redisx_stream_trim trim, int64_t threshold, redisx_stream_publish_cb cb,
                                           void *user);
redisx_status redisx__group_create(redisx_client *c, const char *stream, const char *group, const char *start);

redisx_status redisx__consumer_new(redisx_consumer **out, redisx_client *c, const char *stream, const char *group,
                                   const char *name, const redisx_consumer_options *o);
redisx_status redisx__consumer_next(redisx_delivery **out, redisx_consumer *cons, int max, int64_t timeout_ms);
redisx_status redisx__consumer_stop(redisx_consumer *cons, int64_t deadline_ms);
void redisx__consumer_free(redisx_consumer *cons);
int redisx__consumer_in_flight(const redisx_consumer *cons);
redisx_client *redisx__consumer_client(const redisx_consumer *cons);

void redisx__delivery_free(redisx_delivery *d);
size_t redisx__delivery_count(const redisx_delivery *d);
redisx_message *redisx__delivery_message(redisx_delivery *d, size_t i);

const char *redisx__message_id(const redisx_message *m);
int64_t redisx__message_deliveries(const redisx_message *m);
size_t redisx__message_fields(const redisx_message *m);
const char *redisx__message_name(const redisx_message *m, size_t i, size_t *len);
const char *redisx__message_value(const redisx_message *m, size_t i, size_t *len);
const char *redisx__message_get(const redisx_message *m, const char *name, size_t *len);
redisx_client *redisx__message_client(const redisx_message *m);
const char *redisx__message_stream(const redisx_message *m);
/* The i-th rx-h-* field: its field index in *field; 0 when out of range. */
int redisx__message_header_at(const redisx_message *m, size_t i, size_t *field);
size_t redisx__message_header_count(const redisx_message *m);
/* Whether field i's name starts with "rx-". */
int redisx__message_reserved(const redisx_message *m, size_t i);
redisx_status redisx__message_ack(redisx_message *m);
redisx_status redisx__message_retry(redisx_message *m, int64_t delay_ms, const char *error, int *moved);
redisx_status redisx__message_dead_letter(redisx_message *m, const char *error);
int redisx__message_taken_over(const redisx_message *m);

/* ---- stream tools (core/stream_tools.c) ---- */

/* Emits the event of a stream operation (finished on the I/O thread, a
 * task): t0 is when it started; stream/group/key are copied. */
void redisx__stream_event(redisx_client *c, redisx__op op, const char *stream, const char *group,
                          redisx_status st, uint64_t t0, int round_trips, const char *outcome, const char *key);
/* XINFO GROUPS for the group's gauges (pending, lag, consumers) in the
 * metrics, without an event; the thread's last error is left as it was. */
void redisx__group_observe(redisx_client *c, const char *stream, const char *group);
/* Adds n to a stream counter of the client's stats and of the per-name
 * series of the stream (with its group, or none). */
void redisx__stream_count(redisx_client *c, const char *stream, const char *group, redisx_stream_counter which,
                          int64_t n);

redisx_status redisx__dlq_list(redisx_dlq_entries **out, redisx_client *c, const char *stream, int newest_first,
                               const char *after_id, int count);
void redisx__dlq_list_free(redisx_dlq_entries *l);
size_t redisx__dlq_list_count(const redisx_dlq_entries *l);
const redisx_dlq_entry *redisx__dlq_list_entry(const redisx_dlq_entries *l, size_t i);
redisx_status redisx__dlq_inspect(redisx_dlq_entry **out, redisx_client *c, const char *stream, const char *id);
void redisx__dlq_entry_free(redisx_dlq_entry *e);
const char *redisx__dlq_entry_id(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_error(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_original_id(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_stream(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_group(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_consumer(const redisx_dlq_entry *e);
int64_t redisx__dlq_entry_deliveries(const redisx_dlq_entry *e);
int redisx__dlq_entry_deleted(const redisx_dlq_entry *e);
size_t redisx__dlq_entry_fields(const redisx_dlq_entry *e);
const char *redisx__dlq_entry_field(const redisx_dlq_entry *e, size_t i, int value, size_t *len);
redisx_status redisx__dlq_requeue(char *new_id, redisx_client *c, const char *stream, const char *id);
redisx_status redisx__dlq_purge(int64_t *removed, redisx_client *c, const char *stream, const char *up_to);

redisx_status redisx__group_inspect(redisx_group_info **out, redisx_client *c, const char *stream, const char *group);
void redisx__group_info_free(redisx_group_info *info);
int64_t redisx__group_info_consumers(const redisx_group_info *i);
int64_t redisx__group_info_pending(const redisx_group_info *i);
const char *redisx__group_info_last_id(const redisx_group_info *i);
int64_t redisx__group_info_lag(const redisx_group_info *i);
int64_t redisx__group_info_entries_read(const redisx_group_info *i);

#endif
