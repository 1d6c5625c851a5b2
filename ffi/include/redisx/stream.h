/* redisx — Redis Streams: a producer with trimming and batches, consumer
 * groups with at-least-once delivery, retries by delivery count, a
 * dead-letter stream, reclaiming of dead consumers' messages and a graceful
 * stop. Keys and scripts: docs/KEYS.md ("Streams"); behaviour: docs/STREAMS.md.
 *
 * The consumer is pull-based: the caller (a C program, or a Python/Node/Go
 * binding running user handlers) asks redisx_consumer_next() for messages
 * and settles each one with redisx_message_ack(), redisx_message_retry() or
 * redisx_message_dead_letter(). A consumer reads with XREADGROUP BLOCK on a
 * connection of its own (never the client's multiplexed ones), and does its
 * housekeeping (redelivering retries, extending its claim on the messages it
 * holds, reclaiming those of dead consumers, removing idle consumers) inside
 * redisx_consumer_next(): no thread of its own, no callback.
 *
 * Every call here except redisx_stream_publish_async() is blocking
 * (REDISX_ERR_WOULDBLOCK from a callback of the same client). Stream names are 1..1024 bytes without NUL; group and
 * consumer names 1..256 bytes. Field names and values are binary-safe. */
#ifndef REDISX_STREAM_H
#define REDISX_STREAM_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/observe.h"

REDISX_BEGIN_DECLS

/** Room for a stream entry id with its NUL ("<ms>-<seq>"). */
#define REDISX_STREAM_ID_SIZE 48
/** Longest stream name, in bytes. */
#define REDISX_STREAM_NAME_MAX 1024
/** Longest group or consumer name, in bytes. */
#define REDISX_STREAM_GROUP_MAX 256
/** Most fields in one message. */
#define REDISX_STREAM_FIELDS_MAX 4096
/** Most messages in one batch or one next() call. */
#define REDISX_STREAM_BATCH_MAX 10000

/** How publishing trims the stream (always approximate, `~`: whole nodes). */
typedef enum redisx_stream_trim {
    REDISX_STREAM_TRIM_NONE = 0,
    /** Keep about `threshold` newest entries (XADD MAXLEN ~). */
    REDISX_STREAM_TRIM_MAXLEN = 1,
    /** Drop entries older than `threshold` ms by the server's clock
     *  (XADD MINID ~ <server time - threshold>). */
    REDISX_STREAM_TRIM_MAXAGE = 2
} redisx_stream_trim;

/* ---- producer --------------------------------------------------------- */

/** Appends one message of `nfields` name/value pairs to `stream` (the key
 *  {prefix}:stream:{<stream>}), trimming as asked, in one round trip.
 *  names[i]/values[i] are name_lens[i]/value_lens[i] bytes (a NULL lens
 *  array: NUL-terminated strings). `id_out` (NULL: not wanted) receives the
 *  new entry id, REDISX_STREAM_ID_SIZE bytes. Fields whose names start with
 *  "rx-" are reserved (docs/KEYS.md: headers, dead-letter metadata).
 *  REDISX_ERR_INVALID for bad arguments, connection errors as usual. */
REDISX_API redisx_status redisx_stream_publish(char *id_out, redisx_client *client, const char *stream,
                                               size_t nfields, const char *const *names, const size_t *name_lens,
                                               const char *const *values, const size_t *value_lens,
                                               redisx_stream_trim trim, int64_t threshold);

/** Completion of redisx_stream_publish_async(): `id` (NULL unless status
 *  is OK) is the new entry id, valid during the call. Runs on the client's
 *  I/O thread, as every completion (redisx/client.h). */
typedef void (*redisx_stream_publish_cb)(redisx_client *client, redisx_status status, const char *id, void *user);

/** redisx_stream_publish() without waiting: the message is copied before
 *  this returns; `cb` runs once with the outcome. A NULL `cb` sends a
 *  REDISX_ITEM_COMPLETION to the client's queue instead, whose reply
 *  (redisx_item_take_reply) is the id as a STRING. Not cancellable with
 *  redisx_cancel(). Usable from a callback of the same client. (0.5) */
REDISX_API redisx_status redisx_stream_publish_async(redisx_client *client, const char *stream, size_t nfields,
                                                     const char *const *names, const size_t *name_lens,
                                                     const char *const *values, const size_t *value_lens,
                                                     redisx_stream_trim trim, int64_t threshold,
                                                     redisx_stream_publish_cb cb, void *user);

/** A batch of messages to publish in one round trip (one script call, so
 *  the batch is added atomically and its ids are in order). */
typedef struct redisx_stream_batch redisx_stream_batch;

REDISX_API redisx_status redisx_stream_batch_new(redisx_stream_batch **out);
/** Frees the batch; NULL is a no-op. */
REDISX_API void redisx_stream_batch_free(redisx_stream_batch *batch);
/** Copies one message into the batch (arguments as redisx_stream_publish). */
REDISX_API redisx_status redisx_stream_batch_add(redisx_stream_batch *batch, size_t nfields,
                                                 const char *const *names, const size_t *name_lens,
                                                 const char *const *values, const size_t *value_lens);
/** Messages in the batch. */
REDISX_API size_t redisx_stream_batch_size(const redisx_stream_batch *batch);
/** The id message `i` got from the last successful publish of the batch
 *  (borrowed, lives until the batch is published again or freed); NULL
 *  before that or when out of range. */
REDISX_API const char *redisx_stream_batch_id(const redisx_stream_batch *batch, size_t i);
/** Publishes every message of the batch to `stream` in one round trip. */
REDISX_API redisx_status redisx_stream_publish_batch(redisx_client *client, const char *stream,
                                                     redisx_stream_batch *batch, redisx_stream_trim trim,
                                                     int64_t threshold);

/* ---- payloads and headers (0.6) ----------------------------------------
 *
 * The form every binding publishes and reads (contract v4, docs/KEYS.md):
 * a message is either plain fields (names not starting with "rx-") or a
 * payload form: the field rx-payload holds the payload bytes (encoded by the
 * binding's codec), rx-codec names the codec ("json", "bytes", or a custom
 * name; absent: none given), and each header is a field rx-h-<name>. A
 * message may carry headers and plain fields next to a payload. The
 * functions below build messages one field at a time (into a batch; a batch
 * of one is a single publish) and read those parts back, so no binding
 * knows the field names. */

/** Field holding the payload. */
#define REDISX_STREAM_PAYLOAD_FIELD "rx-payload"
/** Field naming the payload's codec. */
#define REDISX_STREAM_CODEC_FIELD "rx-codec"
/** Prefix of header fields. */
#define REDISX_STREAM_HEADER_PREFIX "rx-h-"
/** Longest header name (without the prefix) and codec name, in bytes. */
#define REDISX_STREAM_HEADER_NAME_MAX 256

/** Starts a new message at the end of the batch, without fields yet: the
 *  calls below add to it. Publishing a batch that holds a message without
 *  fields is REDISX_ERR_INVALID. (0.6) */
REDISX_API redisx_status redisx_stream_batch_add_message(redisx_stream_batch *batch);
/** Adds a plain field to the batch's last message. The name (1 byte or
 *  more) must not start with "rx-" (REDISX_ERR_INVALID: reserved). (0.6) */
REDISX_API redisx_status redisx_stream_batch_add_field(redisx_stream_batch *batch, const void *name,
                                                       size_t name_len, const void *value, size_t value_len);
/** Adds the payload to the batch's last message: rx-payload = the bytes
 *  (empty allowed) and, when `codec` is not NULL or "", rx-codec = codec
 *  (1..REDISX_STREAM_HEADER_NAME_MAX bytes). Once per message
 *  (REDISX_ERR_INVALID the second time). (0.6) */
REDISX_API redisx_status redisx_stream_batch_add_payload(redisx_stream_batch *batch, const void *payload,
                                                         size_t payload_len, const char *codec);
/** Adds header `name` (1..REDISX_STREAM_HEADER_NAME_MAX bytes, no NUL) =
 *  value (binary) to the batch's last message, as field rx-h-<name>. (0.6) */
REDISX_API redisx_status redisx_stream_batch_add_header(redisx_stream_batch *batch, const char *name,
                                                        const void *value, size_t value_len);

/* ---- consumer groups ---------------------------------------------------- */

/** Creates consumer group `group` on `stream` (creating the stream too:
 *  MKSTREAM), starting at `start_id` (NULL: "$", only new entries; "0":
 *  everything). An existing group is REDISX_OK (BUSYGROUP), untouched. */
REDISX_API redisx_status redisx_group_create(redisx_client *client, const char *stream, const char *group,
                                             const char *start_id);

/** Options of a consumer (a builder; defaults in brackets). */
typedef struct redisx_consumer_options redisx_consumer_options;
REDISX_API redisx_status redisx_consumer_options_new(redisx_consumer_options **out);
REDISX_API void redisx_consumer_options_free(redisx_consumer_options *opts);
/** Most messages handed out and not yet settled [64]: next() reads nothing
 *  while that many are unsettled (backpressure). 1..10000. */
REDISX_API redisx_status redisx_consumer_options_set_max_in_flight(redisx_consumer_options *opts, int n);
/** Deliveries after which a failed message goes to the dead-letter stream
 *  instead of being retried [5]. 1..1000000. */
REDISX_API redisx_status redisx_consumer_options_set_max_deliveries(redisx_consumer_options *opts, int n);
/** Retry backoff [100 ms doubling up to 30000 ms, with jitter]: delivery n
 *  waits about min * 2^(n-1), at most max, scaled by a random 50..100 %. */
REDISX_API redisx_status redisx_consumer_options_set_retry_backoff_ms(redisx_consumer_options *opts,
                                                                      int64_t min_ms, int64_t max_ms);
/** How long a message stays pending on a consumer that does not extend its
 *  claim before others may reclaim it [30000 ms], and how often next()
 *  looks for such messages [min idle / 2]. The consumer extends its claim
 *  on the messages it holds every min idle / 3, so a slow handler is not
 *  robbed as long as next() or a settle call runs in that time. */
REDISX_API redisx_status redisx_consumer_options_set_reclaim(redisx_consumer_options *opts, int64_t min_idle_ms,
                                                             int64_t interval_ms);
/** Longest wait of one XREADGROUP BLOCK [1000 ms]; next() with a longer
 *  timeout blocks several times, housekeeping in between. 10..60000. */
REDISX_API redisx_status redisx_consumer_options_set_block_ms(redisx_consumer_options *opts, int64_t block_ms);
/** Approximate MAXLEN of the dead-letter stream [0: untrimmed]. */
REDISX_API redisx_status redisx_consumer_options_set_dead_letter_maxlen(redisx_consumer_options *opts,
                                                                        int64_t maxlen);
/** Other consumers of the group idle for longer than this with nothing
 *  pending are deleted by the reclaim pass [0: never]. A consumer holding
 *  pending entries is never deleted. */
REDISX_API redisx_status redisx_consumer_options_set_delete_idle_ms(redisx_consumer_options *opts,
                                                                    int64_t idle_ms);

/** A consumer of one group on one stream, named `consumer` (unique within
 *  the group: two live consumers of one name would share pending entries).
 *  It opens a connection of its own for blocking reads (a client with the
 *  parent's options, one connection) and sends everything else over
 *  `client`, which must outlive it. The group must exist
 *  (redisx_group_create). `opts` NULL: defaults; it is copied. Use one
 *  consumer from one thread at a time for next(); settling messages may
 *  happen on any thread. */
typedef struct redisx_consumer redisx_consumer;
REDISX_API redisx_status redisx_consumer_new(redisx_consumer **out, redisx_client *client, const char *stream,
                                             const char *group, const char *consumer,
                                             const redisx_consumer_options *opts);

/** Messages handed out by one next() call. */
typedef struct redisx_delivery redisx_delivery;
/** One message, borrowed from its delivery. */
typedef struct redisx_message redisx_message;

/** Up to `max` messages for this consumer, waiting up to `timeout_ms`
 *  (0: do not block) for new ones: first retries that are due and messages
 *  reclaimed from dead consumers, then new entries (XREADGROUP ... >).
 *  Reads only while fewer than max-in-flight messages are unsettled: at
 *  the limit it waits (up to timeout_ms) for a settle instead of reading.
 *  With the idempotent option (0.6) a message whose record is completed
 *  (acked at once) or in progress elsewhere is not handed out.
 *  REDISX_OK with *out set; REDISX_ERR_EMPTY when nothing came in time;
 *  REDISX_ERR_CLOSED after redisx_consumer_stop/close; REDISX_ERR_SERVER
 *  with detail "NOGROUP ..." when the group or stream does not exist (or
 *  was deleted), or "UNBLOCKED ..." when the stream was deleted under a
 *  blocked read; REDISX_ERR_CONNECTION / REDISX_ERR_TIMEOUT when the
 *  reading connection failed (the next call reconnects). Nothing is lost
 *  on any error: undelivered entries stay in the stream, delivered ones
 *  pending. */
REDISX_API redisx_status redisx_consumer_next(redisx_delivery **out, redisx_consumer *consumer, int max,
                                              int64_t timeout_ms);
/** Frees a delivery and its messages. Messages still unsettled stay
 *  pending in Redis and stop counting against max-in-flight; the consumer
 *  stops extending its claim on them, so they are redelivered (to any
 *  consumer) after the min idle time. NULL is a no-op. */
REDISX_API void redisx_delivery_free(redisx_delivery *delivery);
REDISX_API size_t redisx_delivery_count(const redisx_delivery *delivery);
/** Message `i` (NULL when out of range), valid until the delivery is freed. */
REDISX_API redisx_message *redisx_delivery_message(redisx_delivery *delivery, size_t i);

/** The entry id (borrowed). */
REDISX_API const char *redisx_message_id(const redisx_message *msg);
/** How often the entry was delivered, this time included (1 the first
 *  time), as Redis counts it in the pending entry. */
REDISX_API int64_t redisx_message_delivery_count(const redisx_message *msg);
REDISX_API size_t redisx_message_field_count(const redisx_message *msg);
/** Name / value of field `i` (borrowed, NUL-terminated for convenience,
 *  may contain NULs); NULL when out of range. `len` may be NULL. */
REDISX_API const char *redisx_message_field_name(const redisx_message *msg, size_t i, size_t *len);
REDISX_API const char *redisx_message_field_value(const redisx_message *msg, size_t i, size_t *len);
/** Value of the first field named `name` (NUL-terminated), NULL if none. */
REDISX_API const char *redisx_message_get(const redisx_message *msg, const char *name, size_t *len);

/** The payload (rx-payload; borrowed, `len` may be NULL), NULL when the
 *  message has none (plain fields only). (0.6) */
REDISX_API const char *redisx_message_payload(const redisx_message *msg, size_t *len);
/** The codec name (rx-codec; borrowed), NULL when none was given. (0.6) */
REDISX_API const char *redisx_message_codec(const redisx_message *msg);
/** Headers (rx-h-* fields), in field order. (0.6) */
REDISX_API size_t redisx_message_header_count(const redisx_message *msg);
/** Name of header `i` without the rx-h- prefix (borrowed); NULL when out
 *  of range. (0.6) */
REDISX_API const char *redisx_message_header_name(const redisx_message *msg, size_t i);
/** Value of header `i` (borrowed, binary; `len` may be NULL); NULL when
 *  out of range. (0.6) */
REDISX_API const char *redisx_message_header_value(const redisx_message *msg, size_t i, size_t *len);
/** 1 when field `i` is reserved (its name starts with "rx-": payload,
 *  codec, headers, dead-letter metadata), 0 for a plain field or out of
 *  range: the bindings' "fields" are the plain ones. (0.6) */
REDISX_API int redisx_message_field_reserved(const redisx_message *msg, size_t i);
/** The stream name the message came from (the consumer's; borrowed). (0.6) */
REDISX_API const char *redisx_message_stream(const redisx_message *msg);

/** Acknowledges the message (XACK): done, never delivered again.
 *  REDISX_ERR_INVALID if it was settled already. */
REDISX_API redisx_status redisx_message_ack(redisx_message *msg);
/** The handler failed: the message is not re-added, it stays pending on
 *  this consumer and is redelivered by a later next() after `delay_ms`
 *  (-1: the jittered exponential backoff of the options). When it has been
 *  delivered max-deliveries times already, it goes to the dead-letter
 *  stream instead (as redisx_message_dead_letter with `error`); *moved
 *  (NULL: not wanted) says which. `error` (NULL: "") is kept for that. */
REDISX_API redisx_status redisx_message_retry(redisx_message *msg, int64_t delay_ms, const char *error,
                                              int *moved);
/** Moves the message to the dead-letter stream {prefix}:stream:{<tag>}:dlq
 *  and acknowledges it in one script (atomic): the DLQ entry carries the
 *  original fields and rx-dlq-* fields (docs/KEYS.md). REDISX_ERR_NOT_OWNER
 *  when another consumer has reclaimed the message meanwhile (left alone). */
REDISX_API redisx_status redisx_message_dead_letter(redisx_message *msg, const char *error);

/** Stops reading: next() returns REDISX_ERR_CLOSED from now on (a blocked
 *  read ends at once), then waits up to `deadline_ms` for the messages
 *  handed out to be settled (by other threads). Messages still unsettled
 *  then stay pending (redelivered after min idle). Closes the reading
 *  connection. Returns REDISX_OK when everything was settled in time,
 *  REDISX_ERR_TIMEOUT otherwise. Safe from any thread, idempotent. */
REDISX_API redisx_status redisx_consumer_stop(redisx_consumer *consumer, int64_t deadline_ms);
/** Hard close: stop without waiting (what is unsettled stays pending),
 *  then drops the handle. Deliveries not yet freed stay valid (they hold
 *  a reference); settling them still works while the parent client is
 *  open. NULL is a no-op. */
REDISX_API void redisx_consumer_free(redisx_consumer *consumer);

/** Messages handed out and not settled (for metrics and tests). */
REDISX_API int redisx_consumer_in_flight(const redisx_consumer *consumer);

/* ---- exactly-once in effect (0.6) ------------------------------------------ */

/** Wraps every message this consumer hands out in an idempotency record of
 *  redisx (redisx/idempotency.h), {prefix}:idem:{rx-stream:<n>:<stream>:<group>:<id>}
 *  (docs/KEYS.md, contract v4), so that a message redelivered after its
 *  handler completed is acknowledged without being handed out again, and a
 *  message whose handler runs elsewhere is not handed out twice. next()
 *  begins the record (lease `lease_ms`, 1..30 days: the longest handler
 *  time; past it a dead consumer's record is taken over); ack() completes
 *  it (kept `ttl_ms`, 1..30 days: how long a redelivery is recognised)
 *  and then acknowledges the entry; retry() and dead_letter() release it,
 *  so a redelivery runs the handler again. A record found COMPLETED is
 *  acked at once; one IN_PROGRESS (a live handler elsewhere) stays pending
 *  here and is looked at again when its lease passes, as a retry (its
 *  delivery count grows by one). [off] */
REDISX_API redisx_status redisx_consumer_options_set_idempotent(redisx_consumer_options *opts, int64_t lease_ms,
                                                                int64_t ttl_ms);
/** With the idempotent option: 1 when this message's record was taken over
 *  from a consumer that began it and never finished (an earlier attempt may
 *  have done part of the work); 0 otherwise. */
REDISX_API int redisx_message_taken_over(const redisx_message *msg);

/* ---- dead-letter tools (0.6) ----------------------------------------------- */

/** Entries of the dead-letter stream of `stream`, as read by
 *  redisx_dlq_list(); free with redisx_dlq_entries_free(). */
typedef struct redisx_dlq_entries redisx_dlq_entries;
/** One dead-letter entry with its rx-dlq-* fields parsed (docs/KEYS.md). */
typedef struct redisx_dlq_entry redisx_dlq_entry;

/** Up to `count` (1..REDISX_STREAM_BATCH_MAX) entries of the DLQ of
 *  `stream`, oldest first, or newest first when `newest_first` is 1.
 *  `after_id` (NULL: from the start, or the end when newest first) pages
 *  on: only entries after it in the order asked for (exclusive). An empty
 *  or missing DLQ is REDISX_OK with 0 entries. */
REDISX_API redisx_status redisx_dlq_list(redisx_dlq_entries **out, redisx_client *client, const char *stream,
                                         int newest_first, const char *after_id, int count);
/** Frees the list and its entries; NULL is a no-op. */
REDISX_API void redisx_dlq_entries_free(redisx_dlq_entries *list);
REDISX_API size_t redisx_dlq_entries_count(const redisx_dlq_entries *list);
/** Entry `i` (borrowed, valid until the list is freed); NULL out of range. */
REDISX_API const redisx_dlq_entry *redisx_dlq_entries_entry(const redisx_dlq_entries *list, size_t i);

/** The DLQ entry `dlq_id` of `stream`: REDISX_ERR_EMPTY when there is
 *  none. Free with redisx_dlq_entry_free(). */
REDISX_API redisx_status redisx_dlq_inspect(redisx_dlq_entry **out, redisx_client *client, const char *stream,
                                            const char *dlq_id);
/** Frees an entry of redisx_dlq_inspect(); NULL is a no-op. Never call it on
 *  an entry borrowed from a list. */
REDISX_API void redisx_dlq_entry_free(redisx_dlq_entry *entry);
/** The entry's id in the DLQ (borrowed). */
REDISX_API const char *redisx_dlq_entry_id(const redisx_dlq_entry *entry);
/** rx-dlq-error, rx-dlq-id (the original entry id), rx-dlq-stream,
 *  rx-dlq-group, rx-dlq-consumer: borrowed, "" when absent. */
REDISX_API const char *redisx_dlq_entry_error(const redisx_dlq_entry *entry);
REDISX_API const char *redisx_dlq_entry_original_id(const redisx_dlq_entry *entry);
REDISX_API const char *redisx_dlq_entry_stream(const redisx_dlq_entry *entry);
REDISX_API const char *redisx_dlq_entry_group(const redisx_dlq_entry *entry);
REDISX_API const char *redisx_dlq_entry_consumer(const redisx_dlq_entry *entry);
/** rx-dlq-deliveries (-1 when absent). */
REDISX_API int64_t redisx_dlq_entry_deliveries(const redisx_dlq_entry *entry);
/** 1 when the original entry had been deleted before its move (rx-dlq-deleted:
 *  no original fields, cannot be requeued). */
REDISX_API int redisx_dlq_entry_deleted(const redisx_dlq_entry *entry);
/** The original fields (every field not starting with "rx-dlq-"), in order;
 *  name/value borrowed, NUL-terminated, binary-safe; NULL out of range. */
REDISX_API size_t redisx_dlq_entry_field_count(const redisx_dlq_entry *entry);
REDISX_API const char *redisx_dlq_entry_field_name(const redisx_dlq_entry *entry, size_t i, size_t *len);
REDISX_API const char *redisx_dlq_entry_field_value(const redisx_dlq_entry *entry, size_t i, size_t *len);

/** Puts DLQ entry `dlq_id` back on `stream` (a new entry: rx-requeued-from
 *  = the original id, then the original fields) and deletes it from the
 *  DLQ, in one script. `new_id_out` (NULL: not wanted) receives the new id,
 *  REDISX_STREAM_ID_SIZE bytes. REDISX_ERR_EMPTY when there is no such
 *  entry; REDISX_ERR_INVALID when it holds no original fields
 *  (rx-dlq-deleted; left in the DLQ). */
REDISX_API redisx_status redisx_dlq_requeue(char *new_id_out, redisx_client *client, const char *stream,
                                            const char *dlq_id);
/** Deletes every DLQ entry of `stream` (`up_to_id` NULL) or those up to and
 *  including `up_to_id`, in one script; `*removed` (NULL: not wanted) says
 *  how many. */
REDISX_API redisx_status redisx_dlq_purge(int64_t *removed, redisx_client *client, const char *stream,
                                          const char *up_to_id);

/* ---- stream counters in the stats snapshot (0.6) ------------------------------ */

/** Messages counted by the client's streams (its consumers included), for
 *  redisx_stats_stream(); the numbers never change. The handler duration
 *  (from a message's hand-out to its settle) is the latency histogram of
 *  the series "stream"/"handle" (redisx_stats_bucket_count). */
typedef enum redisx_stream_counter {
    REDISX_STREAM_PUBLISHED = 0,     /* messages added by publish calls */
    REDISX_STREAM_DELIVERED = 1,     /* messages handed out by next() */
    REDISX_STREAM_ACKED = 2,         /* acknowledged: by ack(), and redeliveries of completed idempotent messages */
    REDISX_STREAM_RETRIED = 3,       /* retry() calls that left the message pending for a redelivery */
    REDISX_STREAM_DEAD_LETTERED = 4, /* moved to the dead-letter stream (retry, dead_letter, poison on reclaim) */
    REDISX_STREAM_CLAIMED = 5,       /* messages taken over from other consumers by the reclaim pass */
    REDISX_STREAM_COUNTER_COUNT = 6
} redisx_stream_counter;
/** A stream counter of a stats snapshot (redisx/observe.h); 0 out of range. */
REDISX_API uint64_t redisx_stats_stream(const redisx_stats *stats, redisx_stream_counter which);

/* ---- group inspection (0.6) ------------------------------------------------- */

/** What XINFO GROUPS says about one group; free with redisx_group_info_free(). */
typedef struct redisx_group_info redisx_group_info;
/** Reads the state of `group` on `stream`: REDISX_ERR_EMPTY when the stream
 *  has no such group, REDISX_ERR_SERVER (detail "ERR no such key") when the
 *  stream does not exist. */
REDISX_API redisx_status redisx_group_inspect(redisx_group_info **out, redisx_client *client, const char *stream,
                                              const char *group);
REDISX_API void redisx_group_info_free(redisx_group_info *info);
/** Consumers of the group. */
REDISX_API int64_t redisx_group_info_consumers(const redisx_group_info *info);
/** Entries delivered and not yet acknowledged (the pending entries list). */
REDISX_API int64_t redisx_group_info_pending(const redisx_group_info *info);
/** Id of the last entry delivered to the group (borrowed). */
REDISX_API const char *redisx_group_info_last_delivered_id(const redisx_group_info *info);
/** Entries in the stream not yet delivered to the group; -1 when Redis
 *  cannot tell (XINFO's lag is nil after deletions or a group created at an
 *  arbitrary id, Redis 7.0+). */
REDISX_API int64_t redisx_group_info_lag(const redisx_group_info *info);
/** Entries the group has read (entries-read); -1 when Redis cannot tell. */
REDISX_API int64_t redisx_group_info_entries_read(const redisx_group_info *info);

REDISX_END_DECLS

#endif
