/* Bad input for the stream entry points (the coverage table of
 * test_badinput.c lists them): NULL handles and out-parameters, NULL/empty/
 * over-long names, empty or NULL fields, out-of-range options, timeouts and
 * enums, settling twice, asynchronous publishing with nowhere to complete,
 * calls after the client closed. Each rejection is checked for its exact
 * status and its own redisx_last_error() detail. */
#include <stdint.h>
#include <stdio.h>

#include "badinput.h"

static const char *names1[] = {"k"}, *values1[] = {"v"};

Test(badinput_stream, release_functions_and_accessors_accept_null)
{
    redisx_stream_batch_free(NULL);
    redisx_consumer_options_free(NULL);
    redisx_consumer_free(NULL);
    redisx_delivery_free(NULL);
    cr_assert_eq(redisx_stream_batch_size(NULL), 0);
    cr_assert_null(redisx_stream_batch_id(NULL, 0));
    cr_assert_eq(redisx_delivery_count(NULL), 0);
    cr_assert_null(redisx_delivery_message(NULL, 0));
    cr_assert_null(redisx_message_id(NULL));
    cr_assert_eq(redisx_message_delivery_count(NULL), 0);
    cr_assert_eq(redisx_message_field_count(NULL), 0);
    size_t len = 7;
    cr_assert_null(redisx_message_field_name(NULL, 0, &len));
    cr_assert_eq(len, 0);
    len = 7;
    cr_assert_null(redisx_message_field_value(NULL, 0, &len));
    cr_assert_eq(len, 0);
    cr_assert_null(redisx_message_get(NULL, "k", NULL));
    cr_assert_eq(redisx_consumer_in_flight(NULL), 0);
    len = 7;
    cr_assert_null(redisx_message_payload(NULL, &len));
    cr_assert_eq(len, 0);
    cr_assert_null(redisx_message_codec(NULL));
    cr_assert_eq(redisx_message_header_count(NULL), 0);
    cr_assert_null(redisx_message_header_name(NULL, 0));
    len = 7;
    cr_assert_null(redisx_message_header_value(NULL, 0, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(redisx_message_field_reserved(NULL, 0), 0);
    cr_assert_null(redisx_message_stream(NULL));
}

Test(badinput_stream, payload_form_refuses_reserved_names_and_misuse)
{
    redisx_stream_batch *b = NULL;
    char *longname = filled(REDISX_STREAM_HEADER_NAME_MAX + 1, 'h');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_message(NULL), "message to NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(NULL, "k", 1, "v", 1), "field to NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_payload(NULL, "p", 1, NULL), "payload to NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(NULL, "h", "v", 1), "header to NULL");
    EXPECT_OK(redisx_stream_batch_new(&b), "batch");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(b, "k", 1, "v", 1), "field before a message");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_payload(b, "p", 1, NULL), "payload before a message");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(b, "h", "v", 1), "header before a message");
    EXPECT_OK(redisx_stream_batch_add_message(b), "message");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(b, NULL, 1, "v", 1), "NULL field name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(b, "k", 0, "v", 1), "empty field name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(b, "k", 1, NULL, 1), "NULL field value");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_field(b, "rx-payload", 10, "v", 1), "reserved field");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_payload(b, NULL, 1, NULL), "NULL payload");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_payload(b, "p", 1, longname), "long codec");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(b, NULL, "v", 1), "NULL header name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(b, "", "v", 1), "empty header name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(b, longname, "v", 1), "long header name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_header(b, "h", NULL, 1), "NULL header value");
    EXPECT_OK(redisx_stream_batch_add_field(b, "k", 1, NULL, 0), "empty value");
    EXPECT_OK(redisx_stream_batch_add_payload(b, NULL, 0, ""), "empty payload, no codec");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add_payload(b, "p", 1, "json"), "second payload");
    EXPECT_OK(redisx_stream_batch_add_header(b, "h", NULL, 0), "empty header value");
    cr_assert_eq(redisx_stream_batch_size(b), 1);
    redisx_stream_batch_free(b);
    free(longname);
}

Test(badinput_stream, publish_refuses_bad_streams_fields_and_trims)
{
    redisx_client *c = rt_client();
    char *longname = filled(REDISX_STREAM_NAME_MAX + 1, 's');
    const char *nullname[] = {NULL}, *emptyname[] = {""};
    size_t zero[] = {0};
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, NULL, "s", 1, names1, NULL, values1, NULL, 0, 0),
              "client NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, NULL, 1, names1, NULL, values1, NULL, 0, 0),
              "stream NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, longname, 1, names1, NULL, values1, NULL, 0, 0),
              "long stream");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 0, names1, NULL, values1, NULL, 0, 0),
              "no fields");
    EXPECT_ST(REDISX_ERR_INVALID,
              redisx_stream_publish(NULL, c, "s", REDISX_STREAM_FIELDS_MAX + 1, names1, NULL, values1, NULL, 0, 0),
              "too many fields");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 1, NULL, NULL, values1, NULL, 0, 0),
              "names NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 1, nullname, NULL, values1, NULL, 0, 0),
              "a name NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 1, emptyname, NULL, values1, NULL, 0, 0),
              "a name empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 1, names1, zero, values1, NULL, 0, 0),
              "a name of length 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish(NULL, c, "s", 1, names1, NULL, nullname, NULL, 0, 0),
              "a value NULL");
    EXPECT_ST(REDISX_ERR_INVALID,
              redisx_stream_publish(NULL, c, "s", 1, names1, NULL, values1, NULL, (redisx_stream_trim)3, 0),
              "unknown trim");
    EXPECT_ST(REDISX_ERR_INVALID,
              redisx_stream_publish(NULL, c, "s", 1, names1, NULL, values1, NULL, REDISX_STREAM_TRIM_MAXLEN, -1),
              "negative threshold");
    EXPECT_OK(redisx_stream_publish(NULL, c, "s", 1, names1, NULL, nullname, zero, 0, 0), "NULL value of length 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish_async(c, "s", 1, names1, NULL, values1, NULL, 0, 0, NULL, NULL),
              "async with no callback and no queue");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish_async(NULL, "s", 1, names1, NULL, values1, NULL, 0, 0, NULL, NULL),
              "async client NULL");

    redisx_stream_batch *b = SENTINEL(redisx_stream_batch);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_new(NULL), "batch out NULL");
    EXPECT_OK(redisx_stream_batch_new(&b), "batch");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish_batch(c, "s", b, 0, 0), "empty batch");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_publish_batch(c, "s", NULL, 0, 0), "batch NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add(NULL, 1, names1, NULL, values1, NULL), "add to NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_stream_batch_add(b, 1, nullname, NULL, values1, NULL), "add a NULL name");
    cr_assert_eq(redisx_stream_batch_size(b), 0, "a refused add adds nothing");
    redisx_stream_batch_free(b);
    free(longname);
    redisx_client_close(c);
}

Test(badinput_stream, groups_and_consumers_refuse_bad_names_and_options)
{
    redisx_client *c = rt_client();
    char *longgroup = filled(REDISX_STREAM_GROUP_MAX + 1, 'g');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_group_create(NULL, "s", "g", NULL), "client NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_group_create(c, "", "g", NULL), "stream empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_group_create(c, "s", longgroup, NULL), "long group");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_group_create(c, "s", "g", ""), "start id empty");
    EXPECT_ST(REDISX_ERR_SERVER, redisx_group_create(c, "s", "g", "not-an-id"), "start id refused by the server");

    redisx_consumer_options *o = SENTINEL(redisx_consumer_options);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_new(NULL), "options out NULL");
    EXPECT_OK(redisx_consumer_options_new(&o), "options");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_max_in_flight(NULL, 1), "options NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_max_in_flight(o, 0), "in flight 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_max_in_flight(o, REDISX_STREAM_BATCH_MAX + 1),
              "in flight too many");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_max_deliveries(o, 0), "max deliveries 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_max_deliveries(NULL, 1), "deliveries on NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_retry_backoff_ms(o, -1, 10), "backoff min < 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_retry_backoff_ms(o, 100, 10), "backoff max < min");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_retry_backoff_ms(NULL, 1, 10), "backoff on NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_reclaim(o, 0, 0), "min idle 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_reclaim(o, 1000, -1), "interval < 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_reclaim(NULL, 1000, 0), "reclaim on NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_block_ms(o, 5), "block too short");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_block_ms(o, 60001), "block too long");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_block_ms(NULL, 100), "block on NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_dead_letter_maxlen(o, -1), "dlq maxlen < 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_dead_letter_maxlen(NULL, 1), "dlq maxlen on NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_delete_idle_ms(o, -1), "idle < 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_options_set_delete_idle_ms(NULL, 1), "idle on NULL");

    redisx_consumer *cons = SENTINEL(redisx_consumer);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_new(NULL, c, "s", "g", "w", o), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_new(&cons, NULL, "s", "g", "w", o), "client NULL");
    cr_assert_null(cons);
    cons = SENTINEL(redisx_consumer);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_new(&cons, c, "s", NULL, "w", o), "group NULL");
    cr_assert_null(cons);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_new(&cons, c, "s", "g", longgroup, o), "long consumer");
    EXPECT_OK(redisx_consumer_new(&cons, c, "s", "g", "w", o), "consumer");
    redisx_consumer_options_free(o);

    redisx_delivery *d = SENTINEL(redisx_delivery);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_next(NULL, cons, 1, 0), "next out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_next(&d, NULL, 1, 0), "next consumer NULL");
    cr_assert_null(d);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_next(&d, cons, 0, 0), "max 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_next(&d, cons, 1, -1), "timeout < 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_stop(NULL, 0), "stop NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_consumer_stop(cons, -1), "stop deadline < 0");

    /* Settling: NULL, twice, bad delays. */
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_ack(NULL), "ack NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_retry(NULL, -1, NULL, NULL), "retry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_dead_letter(NULL, NULL), "dead letter NULL");
    EXPECT_OK(redisx_group_create(c, "s", "g", "0"), "group");
    EXPECT_OK(redisx_stream_publish(NULL, c, "s", 1, names1, NULL, values1, NULL, 0, 0), "publish");
    EXPECT_OK(redisx_consumer_next(&d, cons, 1, 1000), "next");
    redisx_message *m = redisx_delivery_message(d, 0);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_retry(m, -2, NULL, NULL), "delay < -1");
    EXPECT_OK(redisx_message_ack(m), "ack");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_ack(m), "ack twice");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_retry(m, 0, NULL, NULL), "retry after ack");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_message_dead_letter(m, NULL), "dead letter after ack");
    redisx_delivery_free(d);

    /* A closed client. */
    redisx_client_shutdown(c);
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_stream_publish(NULL, c, "s", 1, names1, NULL, values1, NULL, 0, 0),
              "publish on a closed client");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_group_create(c, "s", "g", NULL), "group on a closed client");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_consumer_next(&d, cons, 1, 0), "next on a closed client");
    redisx_consumer *late = SENTINEL(redisx_consumer);
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_consumer_new(&late, c, "s", "g", "w2", NULL), "new on a closed client");
    cr_assert_null(late);
    redisx_consumer_free(cons);
    free(longgroup);
    redisx_client_close(c);
}
