/* Redis Streams against a real redis-server: publishing (binary fields,
 * batches, trimming), consumer groups, the in-flight limit, retries by
 * delivery count and the atomic dead-letter move, reclaiming a dead
 * consumer's messages while a slow live one keeps its own, no ghost
 * pending entries after XDEL, the ways a blocked read ends, a killed
 * consumer process under load, and the graceful stop. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const char *skey(redisx_client *c, const char *stream, char *buf, size_t n)
{
    snprintf(buf, n, "%s:stream:{%s}", redisx_client_prefix(c), stream);
    return buf;
}

static long long pending_count(redisx_client *c, const char *stream, const char *group)
{
    char k[256];
    const char *argv[] = {"XPENDING", skey(c, stream, k, sizeof k), group};
    redisx_reply *r = rt_cmd(c, 3, argv);
    long long n = redisx_reply_integer(redisx_reply_element(r, 0));
    redisx_reply_free(r);
    return n;
}

static void publish1(redisx_client *c, const char *stream, const char *name, const char *value, char *id)
{
    const char *names[] = {name}, *values[] = {value};
    cr_assert_eq(redisx_stream_publish(id, c, stream, 1, names, NULL, values, NULL, REDISX_STREAM_TRIM_NONE, 0),
                 REDISX_OK, "%s", redisx_last_error());
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int id_less(const char *a, const char *b)
{
    unsigned long long ams, aseq, bms, bseq;
    sscanf(a, "%llu-%llu", &ams, &aseq);
    sscanf(b, "%llu-%llu", &bms, &bseq);
    return ams < bms || (ams == bms && aseq < bseq);
}

static redisx_client *client_with_prefix(const char *prefix)
{
    redisx_options *o;
    redisx_client *c = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_url(o), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static redisx_consumer_options *opts_fast(int64_t min_idle_ms)
{
    redisx_consumer_options *o;
    cr_assert_eq(redisx_consumer_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_reclaim(o, min_idle_ms, 50), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_retry_backoff_ms(o, 50, 200), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_block_ms(o, 200), REDISX_OK);
    return o;
}

static redisx_consumer *consumer(redisx_client *c, const char *stream, const char *group, const char *name,
                                 const redisx_consumer_options *o)
{
    redisx_consumer *cons = NULL;
    cr_assert_eq(redisx_consumer_new(&cons, c, stream, group, name, o), REDISX_OK, "%s", redisx_last_error());
    return cons;
}

static redisx_delivery *next_ok(redisx_consumer *cons, int max, int64_t timeout_ms)
{
    redisx_delivery *d = NULL;
    redisx_status st = redisx_consumer_next(&d, cons, max, timeout_ms);
    cr_assert_eq(st, REDISX_OK, "next: %s %s", redisx_status_name(st), redisx_last_error());
    cr_assert(redisx_delivery_count(d) > 0);
    return d;
}

Test(stream, publish_returns_ids_in_order_and_keeps_binary_fields)
{
    redisx_client *c = rt_client();
    const char name[] = {'b', 0, 'n'}, value[] = {'\0', '\xff', 'v', '\0'};
    const char *names[] = {name, "plain"}, *values[] = {value, "text"};
    size_t nl[] = {sizeof name, 5}, vl[] = {sizeof value, 4};
    char id[REDISX_STREAM_ID_SIZE];
    cr_assert_eq(redisx_stream_publish(id, c, "bin", 2, names, nl, values, vl, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK,
                 "%s", redisx_last_error());
    cr_assert(strchr(id, '-') != NULL, "an entry id: %s", id);

    redisx_stream_batch *b;
    cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
    for (int i = 0; i < 5; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        const char *bn[] = {"n"}, *bv[] = {v};
        cr_assert_eq(redisx_stream_batch_add(b, 1, bn, NULL, bv, NULL), REDISX_OK);
    }
    cr_assert_eq(redisx_stream_publish_batch(c, "bin", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK, "%s",
                 redisx_last_error());
    cr_assert_eq(redisx_stream_batch_size(b), 5);
    const char *prev = id;
    for (size_t i = 0; i < 5; i++) {
        const char *bid = redisx_stream_batch_id(b, i);
        cr_assert_not_null(bid);
        cr_assert(id_less(prev, bid), "ids in order: %s then %s", prev, bid);
        prev = bid;
    }
    cr_assert_null(redisx_stream_batch_id(b, 5));

    /* A consumer reads the binary fields back byte for byte. */
    cr_assert_eq(redisx_group_create(c, "bin", "g", "0"), REDISX_OK, "%s", redisx_last_error());
    redisx_consumer *cons = consumer(c, "bin", "g", "c1", NULL);
    redisx_delivery *d = next_ok(cons, 10, 1000);
    cr_assert_eq(redisx_delivery_count(d), 6);
    redisx_message *m = redisx_delivery_message(d, 0);
    cr_assert_str_eq(redisx_message_id(m), id);
    cr_assert_eq(redisx_message_field_count(m), 2);
    size_t len;
    const char *got = redisx_message_field_name(m, 0, &len);
    cr_assert(len == sizeof name && memcmp(got, name, len) == 0);
    got = redisx_message_field_value(m, 0, &len);
    cr_assert(len == sizeof value && memcmp(got, value, len) == 0);
    got = redisx_message_get(m, "plain", &len);
    cr_assert(len == 4 && memcmp(got, "text", 4) == 0);
    cr_assert_null(redisx_message_field_name(m, 2, NULL));
    for (size_t i = 0; i < redisx_delivery_count(d); i++)
        cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, i)), REDISX_OK);
    redisx_delivery_free(d);
    redisx_stream_batch_free(b);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

static long long xlen(redisx_client *c, const char *stream)
{
    char k[256];
    const char *argv[] = {"XLEN", skey(c, stream, k, sizeof k)};
    redisx_reply *r = rt_cmd(c, 2, argv);
    long long n = redisx_reply_integer(r);
    redisx_reply_free(r);
    return n;
}

Test(stream, publish_trims_by_length_and_by_age)
{
    redisx_client *c = rt_client();
    redisx_stream_batch *b;
    cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
    for (int i = 0; i < 300; i++) {
        const char *n[] = {"i"}, *v[] = {"x"};
        cr_assert_eq(redisx_stream_batch_add(b, 1, n, NULL, v, NULL), REDISX_OK);
    }
    cr_assert_eq(redisx_stream_publish_batch(c, "len", b, REDISX_STREAM_TRIM_MAXLEN, 10), REDISX_OK, "%s",
                 redisx_last_error());
    cr_assert(xlen(c, "len") < 300, "MAXLEN ~ 10 trimmed whole nodes: %lld left", xlen(c, "len"));
    /* One message at a time (a plain XADD): the same trim, ids in order. */
    char prev[REDISX_STREAM_ID_SIZE] = "";
    for (int i = 0; i < 300; i++) {
        const char *n1[] = {"i"}, *v1[] = {"x"};
        char id[REDISX_STREAM_ID_SIZE];
        cr_assert_eq(redisx_stream_publish(id, c, "len1", 1, n1, NULL, v1, NULL, REDISX_STREAM_TRIM_MAXLEN, 10),
                     REDISX_OK, "%s", redisx_last_error());
        cr_assert(strchr(id, '-') && strcmp(id, prev) != 0, "an entry id: %s", id);
        snprintf(prev, sizeof prev, "%s", id);
    }
    cr_assert(xlen(c, "len1") < 300, "MAXLEN ~ 10 on single publishes: %lld left", xlen(c, "len1"));
    /* The server's refusal reaches the caller on both paths. */
    char k[256];
    const char *set[] = {"SET", skey(c, "notastream", k, sizeof k), "x"};
    redisx_reply_free(rt_cmd(c, 3, set));
    const char *n1[] = {"i"}, *v1[] = {"x"};
    cr_assert_eq(redisx_stream_publish(NULL, c, "notastream", 1, n1, NULL, v1, NULL, REDISX_STREAM_TRIM_NONE, 0),
                 REDISX_ERR_SERVER);
    cr_assert(strstr(redisx_last_error(), "WRONGTYPE"), "%s", redisx_last_error());
    cr_assert_eq(redisx_stream_publish_batch(c, "notastream", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_ERR_SERVER);
    cr_assert(strstr(redisx_last_error(), "WRONGTYPE"), "%s", redisx_last_error());

    cr_assert_eq(redisx_stream_publish_batch(c, "age", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
    rt_sleep_ms(50);
    publish1(c, "age", "k", "v", NULL);
    cr_assert_eq(xlen(c, "age"), 301);
    const char *n[] = {"k"}, *v[] = {"v"};
    cr_assert_eq(redisx_stream_publish(NULL, c, "age", 1, n, NULL, v, NULL, REDISX_STREAM_TRIM_MAXAGE, 20), REDISX_OK,
                 "%s", redisx_last_error());
    cr_assert(xlen(c, "age") < 302, "entries older than 20 ms dropped by node: %lld left", xlen(c, "age"));
    redisx_stream_batch_free(b);
    redisx_client_close(c);
}

Test(stream, bad_arguments_are_refused_with_a_message)
{
    redisx_client *c = rt_client();
    const char *n[] = {"k"}, *v[] = {"v"};
    cr_assert_eq(redisx_stream_publish(NULL, c, "", 1, n, NULL, v, NULL, REDISX_STREAM_TRIM_NONE, 0),
                 REDISX_ERR_INVALID);
    cr_assert_eq(redisx_stream_publish(NULL, c, "s", 0, n, NULL, v, NULL, REDISX_STREAM_TRIM_NONE, 0),
                 REDISX_ERR_INVALID);
    cr_assert_eq(redisx_stream_publish(NULL, c, "s", 1, n, NULL, v, NULL, (redisx_stream_trim)7, 0),
                 REDISX_ERR_INVALID);
    cr_assert(strlen(redisx_last_error()) > 0);
    cr_assert_eq(redisx_group_create(c, "s", NULL, NULL), REDISX_ERR_INVALID);
    redisx_consumer *cons = NULL;
    cr_assert_eq(redisx_consumer_new(&cons, c, "s", "g", "", NULL), REDISX_ERR_INVALID);
    cr_assert_null(cons);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, NULL, 1, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_message_ack(NULL), REDISX_ERR_INVALID);
    redisx_consumer_options *o;
    cr_assert_eq(redisx_consumer_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_max_in_flight(o, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_consumer_options_set_retry_backoff_ms(o, 100, 50), REDISX_ERR_INVALID);
    redisx_consumer_options_free(o);
    redisx_client_close(c);
}

Test(stream, group_create_is_idempotent_and_a_consumer_reads_and_acks)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "orders", "billing", NULL), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_group_create(c, "orders", "billing", NULL), REDISX_OK, "BUSYGROUP is fine: %s",
                 redisx_last_error());
    redisx_consumer *cons = consumer(c, "orders", "billing", "w1", NULL);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, cons, 10, 0), REDISX_ERR_EMPTY);
    cr_assert_null(d);
    char id[REDISX_STREAM_ID_SIZE];
    publish1(c, "orders", "order", "42", id);
    d = next_ok(cons, 10, 2000);
    cr_assert_eq(redisx_delivery_count(d), 1);
    redisx_message *m = redisx_delivery_message(d, 0);
    cr_assert_str_eq(redisx_message_id(m), id);
    cr_assert_eq(redisx_message_delivery_count(m), 1);
    cr_assert_eq(redisx_consumer_in_flight(cons), 1);
    cr_assert_eq(pending_count(c, "orders", "billing"), 1);
    cr_assert_eq(redisx_message_ack(m), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_message_ack(m), REDISX_ERR_INVALID, "settled once only");
    cr_assert_eq(redisx_consumer_in_flight(cons), 0);
    cr_assert_eq(pending_count(c, "orders", "billing"), 0);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, next_reads_nothing_while_the_in_flight_limit_is_reached)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "lim", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(30000);
    cr_assert_eq(redisx_consumer_options_set_max_in_flight(o, 3), REDISX_OK);
    redisx_consumer *cons = consumer(c, "lim", "g", "w", o);
    redisx_consumer_options_free(o);
    for (int i = 0; i < 10; i++)
        publish1(c, "lim", "i", "x", NULL);
    redisx_delivery *d = next_ok(cons, 10, 1000);
    cr_assert_eq(redisx_delivery_count(d), 3);
    redisx_delivery *more = NULL;
    cr_assert_eq(redisx_consumer_next(&more, cons, 10, 200), REDISX_ERR_EMPTY);
    cr_assert_eq(pending_count(c, "lim", "g"), 3, "nothing read past the limit");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    more = next_ok(cons, 10, 1000);
    cr_assert_eq(redisx_delivery_count(more), 1, "one slot free, one message");
    redisx_delivery_free(more); /* unsettled: left pending, no longer in flight */
    cr_assert_eq(redisx_consumer_in_flight(cons), 2);
    redisx_delivery_free(d);
    cr_assert_eq(redisx_consumer_in_flight(cons), 0);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, a_failing_message_is_redelivered_by_delivery_count_then_dead_lettered_atomically)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "pay", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(30000);
    cr_assert_eq(redisx_consumer_options_set_max_deliveries(o, 3), REDISX_OK);
    redisx_consumer *cons = consumer(c, "pay", "g", "w", o);
    redisx_consumer_options_free(o);
    char id[REDISX_STREAM_ID_SIZE];
    publish1(c, "pay", "amount", "10", id);
    uint64_t failed_at = 0;
    for (int64_t n = 1; n <= 3; n++) {
        redisx_delivery *d = next_ok(cons, 1, 3000);
        redisx_message *m = redisx_delivery_message(d, 0);
        cr_assert_str_eq(redisx_message_id(m), id, "the same entry, not re-added");
        cr_assert_eq(redisx_message_delivery_count(m), n, "delivery count from the pending entry");
        if (n > 1)
            cr_assert(now_ms() - failed_at >= 20, "redelivered after a backoff");
        failed_at = now_ms();
        int moved = -1;
        cr_assert_eq(redisx_message_retry(m, -1, "card declined", &moved), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(moved, n == 3, "dead-lettered after max deliveries only");
        cr_assert_eq(pending_count(c, "pay", "g"), n < 3, "pending while it waits for its retry");
        redisx_delivery_free(d);
    }
    cr_assert_eq(pending_count(c, "pay", "g"), 0, "nothing pending: the DLQ move acked it");
    char k[256];
    snprintf(k, sizeof k, "%s:stream:{pay}:dlq", redisx_client_prefix(c));
    const char *argv[] = {"XRANGE", k, "-", "+"};
    redisx_reply *r = rt_cmd(c, 4, argv);
    cr_assert_eq(redisx_reply_elements(r), 1);
    const redisx_reply *f = redisx_reply_element(redisx_reply_element(r, 0), 1);
    const char *want[][2] = {{"rx-dlq-stream", "pay"},         {"rx-dlq-id", id},           {"rx-dlq-group", "g"},
                             {"rx-dlq-consumer", "w"},         {"rx-dlq-deliveries", "3"}, {"rx-dlq-error", "card declined"},
                             {"amount", "10"}};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (size_t i = 0; i + 1 < redisx_reply_elements(f); i += 2)
            if (strcmp(redisx_reply_string(redisx_reply_element(f, i), NULL), want[w][0]) == 0) {
                cr_assert_str_eq(redisx_reply_string(redisx_reply_element(f, i + 1), NULL), want[w][1], "%s",
                                 want[w][0]);
                found = 1;
            }
        cr_assert(found, "DLQ entry has %s", want[w][0]);
    }
    redisx_reply_free(r);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, dead_letter_at_once_and_not_twice)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "dl", "g", NULL), REDISX_OK);
    redisx_consumer *cons = consumer(c, "dl", "g", "w", NULL);
    publish1(c, "dl", "k", "v", NULL);
    redisx_delivery *d = next_ok(cons, 1, 2000);
    redisx_message *m = redisx_delivery_message(d, 0);
    cr_assert_eq(redisx_message_dead_letter(m, "poison"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_message_dead_letter(m, "poison"), REDISX_ERR_INVALID);
    cr_assert_eq(pending_count(c, "dl", "g"), 0);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, a_dead_consumers_messages_are_reclaimed_but_a_slow_live_one_keeps_its_own)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "rc", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(400);
    for (int i = 0; i < 3; i++)
        publish1(c, "rc", "i", "x", NULL);

    /* A dies holding 2 messages: its client goes away without acking. */
    redisx_client *ca = client_with_prefix(redisx_client_prefix(c));
    redisx_consumer *a = consumer(ca, "rc", "g", "a", o);
    redisx_delivery *da = next_ok(a, 2, 2000);
    cr_assert_eq(redisx_delivery_count(da), 2);
    char lost[2][REDISX_STREAM_ID_SIZE];
    for (int i = 0; i < 2; i++)
        snprintf(lost[i], sizeof lost[i], "%s", redisx_message_id(redisx_delivery_message(da, (size_t)i)));
    redisx_delivery_free(da);
    redisx_consumer_free(a);
    redisx_client_close(ca);

    /* S is alive and slow: it holds its message for 3 x min idle. */
    redisx_consumer *s = consumer(c, "rc", "g", "slow", o);
    redisx_delivery *ds = next_ok(s, 1, 2000);
    const char *slow_id = redisx_message_id(redisx_delivery_message(ds, 0));

    redisx_consumer *b = consumer(c, "rc", "g", "b", o);
    uint64_t t0 = now_ms();
    size_t got = 0;
    while (now_ms() - t0 < 1200) {
        redisx_delivery *db = NULL;
        redisx_status st = redisx_consumer_next(&db, b, 10, 300);
        if (st == REDISX_ERR_EMPTY)
            continue;
        cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
        for (size_t i = 0; i < redisx_delivery_count(db); i++) {
            redisx_message *m = redisx_delivery_message(db, i);
            cr_assert_str_neq(redisx_message_id(m), slow_id, "the slow live consumer's message is not stolen");
            cr_assert(strcmp(redisx_message_id(m), lost[0]) == 0 || strcmp(redisx_message_id(m), lost[1]) == 0);
            cr_assert_eq(redisx_message_delivery_count(m), 2);
            cr_assert_eq(redisx_message_ack(m), REDISX_OK);
            got++;
        }
        redisx_delivery_free(db);
    }
    cr_assert_eq(got, 2, "both of the dead consumer's messages reclaimed");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(ds, 0)), REDISX_OK, "still S's to ack: %s",
                 redisx_last_error());
    cr_assert_eq(pending_count(c, "rc", "g"), 0);
    redisx_delivery_free(ds);
    redisx_consumer_free(s);
    redisx_consumer_free(b);
    redisx_consumer_options_free(o);
    redisx_client_close(c);
}

Test(stream, a_deleted_pending_entry_is_acked_away_by_the_reclaim)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "gh", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(200);
    char id1[REDISX_STREAM_ID_SIZE], id2[REDISX_STREAM_ID_SIZE];
    publish1(c, "gh", "i", "1", id1);
    publish1(c, "gh", "i", "2", id2);
    redisx_consumer *a = consumer(c, "gh", "g", "a", o);
    redisx_delivery *d = next_ok(a, 2, 2000);
    cr_assert_eq(redisx_delivery_count(d), 2);
    redisx_delivery_free(d);
    redisx_consumer_free(a);
    char k[256];
    const char *argv[] = {"XDEL", skey(c, "gh", k, sizeof k), id1};
    redisx_reply_free(rt_cmd(c, 3, argv));
    cr_assert_eq(pending_count(c, "gh", "g"), 2, "the deleted entry is still pending");
    rt_sleep_ms(300);
    redisx_consumer *b = consumer(c, "gh", "g", "b", o);
    d = next_ok(b, 10, 2000);
    cr_assert_eq(redisx_delivery_count(d), 1);
    cr_assert_str_eq(redisx_message_id(redisx_delivery_message(d, 0)), id2);
    cr_assert_eq(pending_count(c, "gh", "g"), 1, "no ghost: only the live entry is pending");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    cr_assert_eq(pending_count(c, "gh", "g"), 0);
    redisx_delivery_free(d);
    redisx_consumer_free(b);
    redisx_consumer_options_free(o);
    redisx_client_close(c);
}

typedef struct blocked {
    redisx_consumer *cons;
    redisx_status st;
    char detail[512];
    uint64_t ended;
} blocked;

static void *blocked_next(void *p)
{
    blocked *b = p;
    redisx_delivery *d = NULL;
    b->st = redisx_consumer_next(&d, b->cons, 1, 10000);
    snprintf(b->detail, sizeof b->detail, "%s", redisx_last_error());
    b->ended = now_ms();
    redisx_delivery_free(d);
    return NULL;
}

Test(stream, a_deleted_stream_or_group_ends_a_read_with_a_clear_status)
{
    redisx_client *c = rt_client();
    redisx_consumer *cons = consumer(c, "nog", "nogroup", "w", NULL);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, cons, 1, 100), REDISX_ERR_SERVER);
    cr_assert(strstr(redisx_last_error(), "NOGROUP") != NULL, "%s", redisx_last_error());
    redisx_consumer_free(cons);

    cr_assert_eq(redisx_group_create(c, "del", "g", NULL), REDISX_OK);
    redisx_consumer_options *o;
    cr_assert_eq(redisx_consumer_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_block_ms(o, 5000), REDISX_OK);
    blocked b = {consumer(c, "del", "g", "w", o), 0, "", 0};
    redisx_consumer_options_free(o);
    pthread_t t;
    pthread_create(&t, NULL, blocked_next, &b);
    rt_sleep_ms(300);
    char k[256];
    const char *argv[] = {"DEL", skey(c, "del", k, sizeof k)};
    uint64_t t0 = now_ms();
    redisx_reply_free(rt_cmd(c, 2, argv));
    pthread_join(t, NULL);
    cr_assert_eq(b.st, REDISX_ERR_SERVER, "%s: %s", redisx_status_name(b.st), b.detail);
    cr_assert(strstr(b.detail, "UNBLOCKED") || strstr(b.detail, "NOGROUP"), "%s", b.detail);
    cr_assert(b.ended - t0 < 2000, "ended at once, not at the BLOCK");
    redisx_consumer_free(b.cons);
    redisx_client_close(c);
}

Test(stream, stop_ends_a_blocked_read_promptly)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "stop", "g", NULL), REDISX_OK);
    redisx_consumer_options *o;
    cr_assert_eq(redisx_consumer_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_consumer_options_set_block_ms(o, 8000), REDISX_OK);
    blocked b = {consumer(c, "stop", "g", "w", o), 0, "", 0};
    redisx_consumer_options_free(o);
    pthread_t t;
    pthread_create(&t, NULL, blocked_next, &b);
    rt_sleep_ms(300);
    uint64_t t0 = now_ms();
    cr_assert_eq(redisx_consumer_stop(b.cons, 1000), REDISX_OK, "%s", redisx_last_error());
    pthread_join(t, NULL);
    cr_assert(now_ms() - t0 < 3000, "stop took %llu ms", (unsigned long long)(now_ms() - t0));
    cr_assert_eq(b.st, REDISX_ERR_CLOSED, "%s: %s", redisx_status_name(b.st), b.detail);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, b.cons, 1, 0), REDISX_ERR_CLOSED);
    redisx_consumer_free(b.cons);
    redisx_client_close(c);
}

typedef struct worker {
    redisx_delivery *d;
    int acked, dup;
} worker;

static void *work(void *p)
{
    worker *w = p;
    for (size_t i = 0; i < redisx_delivery_count(w->d); i++) {
        rt_sleep_ms(5);
        redisx_message *m = redisx_delivery_message(w->d, i);
        if (redisx_message_ack(m) == REDISX_OK)
            w->acked++;
        if (redisx_message_ack(m) == REDISX_OK)
            w->dup++;
    }
    return NULL;
}

Test(stream, graceful_stop_lets_in_flight_messages_finish_and_loses_nothing)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "gs", "g", NULL), REDISX_OK);
    redisx_stream_batch *b;
    cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
    for (int i = 0; i < 100; i++) {
        const char *n[] = {"i"}, *v[] = {"x"};
        cr_assert_eq(redisx_stream_batch_add(b, 1, n, NULL, v, NULL), REDISX_OK);
    }
    cr_assert_eq(redisx_stream_publish_batch(c, "gs", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
    redisx_stream_batch_free(b);
    redisx_consumer_options *o = opts_fast(30000);
    cr_assert_eq(redisx_consumer_options_set_max_in_flight(o, 20), REDISX_OK);
    redisx_consumer *cons = consumer(c, "gs", "g", "w", o);
    redisx_consumer_options_free(o);
    redisx_delivery *d = next_ok(cons, 20, 1000);
    worker w = {d, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, work, &w);
    cr_assert_eq(redisx_consumer_stop(cons, 10000), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_consumer_in_flight(cons), 0);
    pthread_join(t, NULL);
    cr_assert_eq((size_t)w.acked, redisx_delivery_count(d), "every in-flight message finished and was acked");
    cr_assert_eq(w.dup, 0, "nothing acked twice");
    cr_assert_eq(pending_count(c, "gs", "g"), 0);
    redisx_delivery *more = NULL;
    cr_assert_eq(redisx_consumer_next(&more, cons, 1, 0), REDISX_ERR_CLOSED);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);

    /* The rest was never read: a new consumer gets all of it. */
    cons = consumer(c, "gs", "g", "w2", NULL);
    size_t total = 0;
    while (total < 80) {
        redisx_delivery *dd = next_ok(cons, 100, 2000);
        for (size_t i = 0; i < redisx_delivery_count(dd); i++)
            cr_assert_eq(redisx_message_ack(redisx_delivery_message(dd, i)), REDISX_OK);
        total += redisx_delivery_count(dd);
        redisx_delivery_free(dd);
    }
    cr_assert_eq(total, 80);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

/* ---- a consumer process killed under load ---- */

static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

#define KILL_IN_FLIGHT 20

/* A consumer process: handles (SADD seen, INCR handled) then acks, until
 * the test sets the done key. Exits 0, or 1 on an unexpected status. */
static int consumer_process(const char *prefix, const char *name)
{
    redisx_options *opt;
    redisx_client *c;
    if (redisx_options_new(&opt) != REDISX_OK || rt_options_url(opt) != REDISX_OK ||
        redisx_options_set_prefix(opt, prefix) != REDISX_OK || redisx_client_open(&c, opt) != REDISX_OK)
        return 1;
    redisx_options_free(opt);
    redisx_consumer_options *o;
    redisx_consumer_options_new(&o);
    redisx_consumer_options_set_max_in_flight(o, KILL_IN_FLIGHT);
    redisx_consumer_options_set_reclaim(o, 1000, 100);
    redisx_consumer_options_set_block_ms(o, 200);
    redisx_consumer *cons;
    if (redisx_group_create(c, "load", "g", "0") != REDISX_OK ||
        redisx_consumer_new(&cons, c, "load", "g", name, o) != REDISX_OK)
        return 1;
    redisx_consumer_options_free(o);
    char seen[256], handled[256], done[256];
    snprintf(seen, sizeof seen, "%s:seen", prefix);
    snprintf(handled, sizeof handled, "%s:handled", prefix);
    snprintf(done, sizeof done, "%s:done", prefix);
    int rc = 0;
    uint64_t t0 = now_ms();
    for (;;) {
        if (now_ms() - t0 > 280000) { /* the test gave up: do not linger */
            rc = 1;
            break;
        }
        redisx_delivery *d = NULL;
        redisx_status st = redisx_consumer_next(&d, cons, KILL_IN_FLIGHT, 300);
        if (st == REDISX_ERR_EMPTY) {
            const char *argv[] = {"EXISTS", done};
            redisx_reply *r = NULL;
            if (redisx_command(&r, c, 2, argv, NULL) == REDISX_OK && redisx_reply_integer(r) == 1) {
                redisx_reply_free(r);
                break;
            }
            redisx_reply_free(r);
            continue;
        }
        if (st != REDISX_OK) {
            fprintf(stderr, "consumer %s: %s %s\n", name, redisx_status_name(st), redisx_last_error());
            rc = 1;
            break;
        }
        size_t n = redisx_delivery_count(d);
        const char **argv = calloc(n + 2, sizeof *argv);
        argv[0] = "SADD";
        argv[1] = seen;
        for (size_t i = 0; i < n; i++)
            argv[2 + i] = redisx_message_id(redisx_delivery_message(d, i));
        redisx_reply *r = NULL;
        redisx_command(&r, c, (int)n + 2, argv, NULL);
        redisx_reply_free(r);
        free(argv);
        char nb[24];
        snprintf(nb, sizeof nb, "%zu", n);
        const char *incr[] = {"INCRBY", handled, nb};
        redisx_command(&r, c, 3, incr, NULL);
        redisx_reply_free(r);
        for (size_t i = 0; i < n; i++)
            if (redisx_message_ack(redisx_delivery_message(d, i)) != REDISX_OK)
                rc = 1;
        redisx_delivery_free(d);
    }
    redisx_consumer_free(cons);
    redisx_client_close(c);
    return rc;
}

/* Forks a consumer process; with go_fd >= 0 it waits for a byte there
 * first. Forked before this process opens a client: a child forked while
 * another thread holds an allocator lock could deadlock, and under
 * valgrind it would inherit that thread's memory as a leak. */
static int go_w = -1; /* the test's end of the replacement's start pipe */

static pid_t spawn(const char *prefix, const char *name, int go_fd)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        char b;
        close(go_w); /* so a failed test's replacement sees EOF and ends */
        if (go_fd >= 0 && read(go_fd, &b, 1) != 1)
            _exit(2);
        _exit(consumer_process(prefix, name));
    }
    return pid;
}

static long long get_int(redisx_client *c, const char *cmd, const char *key)
{
    const char *argv[] = {cmd, key};
    redisx_reply *r = rt_cmd(c, 2, argv);
    long long n = redisx_reply_type_of(r) == REDISX_REPLY_STRING ? atoll(redisx_reply_string(r, NULL))
                                                                 : redisx_reply_integer(r);
    redisx_reply_free(r);
    return n;
}

/* The only test here with a .timeout: BoxFort loses queued deadlines when
 * tests have different ones (a 48-byte leak in the runner under ASan, see
 * test_badinput.c). */
Test(stream, a_killed_consumer_process_loses_nothing_and_duplicates_stay_bounded, .timeout = 300)
{
    char prefix[96];
    rt_unique("kill", prefix, sizeof prefix);
    int go[2];
    cr_assert_eq(pipe(go), 0);
    go_w = go[1];
    pid_t p[4];
    p[0] = spawn(prefix, "c0", -1);
    p[1] = spawn(prefix, "c1", -1);
    p[2] = spawn(prefix, "c2", -1);
    p[3] = spawn(prefix, "c3", go[0]); /* the replacement, started after the kill */
    close(go[0]);

    redisx_client *c = client_with_prefix(prefix);
    int total = under_valgrind() ? 1000 : 10000;
    cr_assert_eq(redisx_group_create(c, "load", "g", "0"), REDISX_OK);
    redisx_stream_batch *b;
    cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
    for (int i = 0; i < total; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        const char *n[] = {"i"}, *vv[] = {v};
        cr_assert_eq(redisx_stream_batch_add(b, 1, n, NULL, vv, NULL), REDISX_OK);
        if (redisx_stream_batch_size(b) == 1000 || i == total - 1) {
            cr_assert_eq(redisx_stream_publish_batch(c, "load", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
            redisx_stream_batch_free(b);
            cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
        }
    }
    redisx_stream_batch_free(b);
    char seen[256], handled[256], done[256];
    snprintf(seen, sizeof seen, "%s:seen", prefix);
    snprintf(handled, sizeof handled, "%s:handled", prefix);
    snprintf(done, sizeof done, "%s:done", prefix);

    uint64_t t0 = now_ms();
    while (get_int(c, "GET", handled) < total / 5 && now_ms() - t0 < 120000)
        rt_sleep_ms(10);
    kill(p[1], SIGKILL);
    int status;
    waitpid(p[1], &status, 0);
    cr_assert_eq(write(go[1], "g", 1), 1);
    close(go[1]);
    while ((get_int(c, "SCARD", seen) < total || pending_count(c, "load", "g") > 0) && now_ms() - t0 < 240000)
        rt_sleep_ms(50);
    const char *argv[] = {"SET", done, "1"};
    redisx_reply_free(rt_cmd(c, 3, argv));
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        cr_assert_eq(waitpid(p[i], &status, 0), p[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer process %d failed", i);
    }
    long long s = get_int(c, "SCARD", seen), h = get_int(c, "GET", handled);
    cr_assert_eq(s, total, "0 lost: every id handled");
    cr_assert_eq(pending_count(c, "load", "g"), 0, "every id acked");
    cr_assert(h - total <= KILL_IN_FLIGHT, "duplicates (%lld) bounded by the in-flight limit", h - total);
    redisx_client_close(c);
}

Test(stream, a_message_its_consumers_keep_dying_on_goes_to_the_dead_letter_stream)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "poison", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(200);
    cr_assert_eq(redisx_consumer_options_set_max_deliveries(o, 2), REDISX_OK);
    redisx_consumer *cons = consumer(c, "poison", "g", "w", o);
    redisx_consumer_options_free(o);
    publish1(c, "poison", "k", "boom", NULL);
    /* Each "crash" leaves the message pending unsettled (the delivery is
     * dropped); the reclaim hands it out again with a higher count. */
    for (int64_t n = 1; n <= 2; n++) {
        redisx_delivery *d = next_ok(cons, 1, 3000);
        cr_assert_eq(redisx_message_delivery_count(redisx_delivery_message(d, 0)), n);
        redisx_delivery_free(d);
    }
    rt_sleep_ms(300);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, cons, 1, 500), REDISX_ERR_EMPTY, "not handed out a third time");
    cr_assert_eq(pending_count(c, "poison", "g"), 0);
    char k[256];
    snprintf(k, sizeof k, "%s:stream:{poison}:dlq", redisx_client_prefix(c));
    const char *argv[] = {"XRANGE", k, "-", "+"};
    redisx_reply *r = rt_cmd(c, 4, argv);
    cr_assert_eq(redisx_reply_elements(r), 1, "moved to the DLQ on reclaim");
    redisx_reply_free(r);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, idle_consumers_without_pending_entries_are_deleted_and_holders_never)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "idle", "g", NULL), REDISX_OK);
    publish1(c, "idle", "k", "v", NULL);
    char k[256];
    skey(c, "idle", k, sizeof k);
    const char *mk[] = {"XGROUP", "CREATECONSUMER", k, "g", "old"};
    redisx_reply_free(rt_cmd(c, 5, mk));
    const char *rd[] = {"XREADGROUP", "GROUP", "g", "holder", "COUNT", "1", "STREAMS", k, ">"};
    redisx_reply_free(rt_cmd(c, 9, rd));
    rt_sleep_ms(300);
    redisx_consumer_options *o = opts_fast(60000);
    cr_assert_eq(redisx_consumer_options_set_delete_idle_ms(o, 200), REDISX_OK);
    redisx_consumer *cons = consumer(c, "idle", "g", "w", o);
    redisx_consumer_options_free(o);
    redisx_delivery *d = NULL;
    cr_assert_eq(redisx_consumer_next(&d, cons, 1, 100), REDISX_ERR_EMPTY);
    const char *info[] = {"XINFO", "CONSUMERS", k, "g"};
    redisx_reply *r = rt_cmd(c, 4, info);
    int old = 0, holder = 0;
    for (size_t i = 0; i < redisx_reply_elements(r); i++) {
        const redisx_reply *e = redisx_reply_element(r, i);
        const char *name = redisx_reply_string(redisx_reply_element(e, 1), NULL);
        old += strcmp(name, "old") == 0;
        holder += strcmp(name, "holder") == 0;
    }
    redisx_reply_free(r);
    cr_assert_eq(old, 0, "the idle empty consumer was deleted");
    cr_assert_eq(holder, 1, "a consumer holding a pending entry is never deleted");
    cr_assert_eq(pending_count(c, "idle", "g"), 1);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, a_lost_connection_is_reported_and_the_consumer_recovers)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = rt_client_on(&s, NULL);
    cr_assert_eq(redisx_group_create(c, "lost", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(30000);
    redisx_consumer *cons = consumer(c, "lost", "g", "w", o);
    redisx_consumer_options_free(o);
    publish1(c, "lost", "k", "1", NULL);
    redisx_delivery *d = next_ok(cons, 1, 3000);
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    redisx_delivery_free(d);

    rt_server_kill(&s);
    redisx_status st = redisx_consumer_next(&d, cons, 1, 500);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "%s: %s", redisx_status_name(st),
              redisx_last_error());
    cr_assert_eq(rt_server_restart(&s), 0);

    /* The restarted server lost everything: recreate, publish, read. */
    uint64_t t0 = now_ms();
    st = REDISX_ERR_CONNECTION;
    while (st != REDISX_OK && now_ms() - t0 < 30000) {
        if (redisx_group_create(c, "lost", "g", NULL) != REDISX_OK) {
            rt_sleep_ms(50);
            continue;
        }
        const char *n[] = {"k"}, *v[] = {"2"};
        if (redisx_stream_publish(NULL, c, "lost", 1, n, NULL, v, NULL, REDISX_STREAM_TRIM_NONE, 0) != REDISX_OK)
            continue;
        st = redisx_consumer_next(&d, cons, 1, 2000);
    }
    cr_assert_eq(st, REDISX_OK, "%s: %s", redisx_status_name(st), redisx_last_error());
    cr_assert_str_eq(redisx_message_get(redisx_delivery_message(d, 0), "k", NULL), "2");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(stream, a_consumer_outliving_its_client_fails_cleanly)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "gone", "g", NULL), REDISX_OK);
    publish1(c, "gone", "k", "v", NULL);
    redisx_consumer *cons = consumer(c, "gone", "g", "w", NULL);
    redisx_delivery *d = next_ok(cons, 1, 2000);
    redisx_client_shutdown(c);
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_ERR_CLOSED);
    redisx_delivery *more = NULL;
    cr_assert_eq(redisx_consumer_next(&more, cons, 1, 100), REDISX_ERR_CLOSED);
    redisx_consumer_free(cons);
    redisx_delivery_free(d); /* after the consumer: it holds a reference */
    redisx_client_close(c);
}

typedef struct pub_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    redisx_status st;
    char id[REDISX_STREAM_ID_SIZE];
} pub_wait;

static void published(redisx_client *c, redisx_status st, const char *id, void *user)
{
    (void)c;
    pub_wait *w = user;
    pthread_mutex_lock(&w->mu);
    w->st = st;
    snprintf(w->id, sizeof w->id, "%s", id ? id : "");
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

Test(stream, publish_async_completes_with_the_id_by_callback_or_queue)
{
    redisx_queue *q;
    cr_assert_eq(redisx_queue_new(&q), REDISX_OK);
    redisx_options *o;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_queue(o, q, 0), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    const char *n[] = {"k"}, *v[] = {"v"};
    pub_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ""};
    cr_assert_eq(redisx_stream_publish_async(c, "as", 1, n, NULL, v, NULL, REDISX_STREAM_TRIM_NONE, 0, published, &w),
                 REDISX_OK, "%s", redisx_last_error());
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    cr_assert_eq(w.st, REDISX_OK);
    cr_assert(strchr(w.id, '-') != NULL, "id %s", w.id);

    int tag = 7;
    cr_assert_eq(redisx_stream_publish_async(c, "as", 1, n, NULL, v, NULL, REDISX_STREAM_TRIM_MAXLEN, 100, NULL, &tag),
                 REDISX_OK);
    redisx_item *it = NULL;
    cr_assert_eq(redisx_queue_pop(&it, q, 5000), REDISX_OK);
    cr_assert_eq(redisx_item_kind_of(it), REDISX_ITEM_COMPLETION);
    cr_assert_eq(redisx_item_user(it), &tag);
    cr_assert_eq(redisx_item_status(it), REDISX_OK);
    redisx_reply *r = redisx_item_take_reply(it);
    cr_assert(id_less(w.id, redisx_reply_string(r, NULL)), "the second id after the first");
    redisx_reply_free(r);
    redisx_item_free(it);
    cr_assert_eq(xlen(c, "as"), 2);
    redisx_client_close(c);
    redisx_queue_free(q);
}

Test(stream, a_retry_waiting_longer_than_min_idle_is_not_stolen)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "rw", "g", NULL), REDISX_OK);
    redisx_consumer_options *o = opts_fast(300);
    redisx_consumer *a = consumer(c, "rw", "g", "a", o);
    redisx_consumer *b = consumer(c, "rw", "g", "b", o);
    redisx_consumer_options_free(o);
    char id[REDISX_STREAM_ID_SIZE];
    publish1(c, "rw", "k", "v", id);
    redisx_delivery *d = next_ok(a, 1, 2000);
    cr_assert_eq(redisx_message_retry(redisx_delivery_message(d, 0), 1200, "later", NULL), REDISX_OK);
    redisx_delivery_free(d);
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < 900) {
        redisx_delivery *db = NULL;
        cr_assert_eq(redisx_consumer_next(&db, b, 1, 100), REDISX_ERR_EMPTY, "the waiting retry stays A's");
    }
    d = next_ok(a, 1, 3000);
    cr_assert_str_eq(redisx_message_id(redisx_delivery_message(d, 0)), id);
    cr_assert_eq(redisx_message_delivery_count(redisx_delivery_message(d, 0)), 2);
    cr_assert(now_ms() - t0 >= 1000, "after the delay asked for");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    redisx_delivery_free(d);
    redisx_consumer_free(a);
    redisx_consumer_free(b);
    redisx_client_close(c);
}

Test(stream, stop_past_its_deadline_leaves_the_unsettled_pending_and_acks_still_work)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "late", "g", NULL), REDISX_OK);
    for (int i = 0; i < 5; i++)
        publish1(c, "late", "k", "v", NULL);
    redisx_consumer *cons = consumer(c, "late", "g", "w", NULL);
    redisx_delivery *d = next_ok(cons, 5, 2000);
    cr_assert_eq(redisx_delivery_count(d), 5);
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 0)), REDISX_OK);
    cr_assert_eq(redisx_consumer_stop(cons, 100), REDISX_ERR_TIMEOUT);
    cr_assert(strstr(redisx_last_error(), "4 messages") != NULL, "%s", redisx_last_error());
    cr_assert_eq(pending_count(c, "late", "g"), 4, "left pending, not lost");
    cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, 1)), REDISX_OK, "a late finisher still acks");
    cr_assert_eq(pending_count(c, "late", "g"), 3);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}

Test(stream, payload_form_with_codec_and_headers_round_trips)
{
    redisx_client *c = rt_client();
    cr_assert_eq(redisx_group_create(c, "pay", "g", "0"), REDISX_OK, "%s", redisx_last_error());
    redisx_stream_batch *b;
    cr_assert_eq(redisx_stream_batch_new(&b), REDISX_OK);
    const char payload[] = {'{', '\0', '}'};
    cr_assert_eq(redisx_stream_batch_add_message(b), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_payload(b, payload, sizeof payload, "json"), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_payload(b, "x", 1, NULL), REDISX_ERR_INVALID, "one payload per message");
    cr_assert_eq(redisx_stream_batch_add_header(b, "traceparent", "00-ab", 5), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_header(b, "type", "order", 5), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_field(b, "plain", 5, "v", 1), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_field(b, "rx-x", 4, "v", 1), REDISX_ERR_INVALID, "reserved name");
    cr_assert_eq(redisx_stream_batch_add_header(b, "", "v", 1), REDISX_ERR_INVALID);
    /* a second message: plain fields only */
    cr_assert_eq(redisx_stream_batch_add_message(b), REDISX_OK);
    cr_assert_eq(redisx_stream_batch_add_field(b, "k", 1, "", 0), REDISX_OK);
    cr_assert_eq(redisx_stream_publish_batch(c, "pay", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK, "%s",
                 redisx_last_error());
    /* an empty message is refused at publish */
    cr_assert_eq(redisx_stream_batch_add_message(b), REDISX_OK);
    cr_assert_eq(redisx_stream_publish_batch(c, "pay", b, REDISX_STREAM_TRIM_NONE, 0), REDISX_ERR_INVALID);
    redisx_stream_batch_free(b);
    cr_assert_eq(redisx_stream_batch_add_field(NULL, "k", 1, "", 0), REDISX_ERR_INVALID);

    redisx_consumer *cons = consumer(c, "pay", "g", "c1", NULL);
    redisx_delivery *d = next_ok(cons, 10, 5000);
    cr_assert_eq(redisx_delivery_count(d), 2);
    redisx_message *m = redisx_delivery_message(d, 0);
    size_t len = 0;
    const char *p = redisx_message_payload(m, &len);
    cr_assert(p && len == sizeof payload && memcmp(p, payload, len) == 0);
    cr_assert_str_eq(redisx_message_codec(m), "json");
    cr_assert_str_eq(redisx_message_stream(m), "pay");
    cr_assert_eq(redisx_message_header_count(m), 2);
    cr_assert_str_eq(redisx_message_header_name(m, 0), "traceparent");
    cr_assert_str_eq(redisx_message_header_value(m, 0, &len), "00-ab");
    cr_assert_eq(len, 5);
    cr_assert_str_eq(redisx_message_header_name(m, 1), "type");
    cr_assert_null(redisx_message_header_name(m, 2));
    size_t plain = 0;
    for (size_t i = 0; i < redisx_message_field_count(m); i++)
        plain += !redisx_message_field_reserved(m, i);
    cr_assert_eq(plain, 1);
    cr_assert_eq(redisx_message_field_count(m), 5);
    redisx_message *m2 = redisx_delivery_message(d, 1);
    cr_assert_null(redisx_message_payload(m2, &len));
    cr_assert_null(redisx_message_codec(m2));
    cr_assert_eq(redisx_message_header_count(m2), 0);
    cr_assert_eq(redisx_message_field_reserved(m2, 0), 0);
    cr_assert_eq(redisx_message_ack(m), REDISX_OK);
    cr_assert_eq(redisx_message_ack(m2), REDISX_OK);
    redisx_delivery_free(d);
    redisx_consumer_free(cons);
    redisx_client_close(c);
}
