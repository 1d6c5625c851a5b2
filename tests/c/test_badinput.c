/* Bad input, every public entry point: NULL handles and out-parameters,
 * NULL/empty/over-long names, out-of-range TTLs, timeouts and enums, argc 0
 * and NULL argv entries, malformed URLs, asynchronous calls with nowhere to
 * complete, blocking calls from the I/O thread, calls on a closed client.
 *
 * Every rejected call is checked three ways: the exact status, a non-empty
 * redisx_last_error() written by that call (EXPECT_ST poisons the detail with
 * a recognisable earlier error first, so a stale message is caught), and
 * out-parameters reset to NULL (they are pre-set to a sentinel). Accessors
 * given NULL return the empty value the ffi/ layer documents, `_free(NULL)` is a
 * no-op, binary values (NUL bytes, empty, 1 MiB) are accepted.
 *
 * exported_functions_are_all_in_the_coverage_table compares the `covered`
 * table below with ffi/redisx.map: a function added to the ABI fails this
 * suite until it is listed there (list it once it has its bad-input cases).
 *
 * Criterion runs tests in parallel processes: every test that touches Redis
 * uses rt_client(), whose key prefix is unique, so lock and key names below
 * need not be. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "badinput.h"

static void count_status_cb(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    (void)st;
    atomic_fetch_add((atomic_int *)user, 1);
}

static void count_reply_cb(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    (void)st;
    redisx_reply_free(r);
    atomic_fetch_add((atomic_int *)user, 1);
}

static void count_lock_cb(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    (void)st;
    redisx_lock_free(lk);
    atomic_fetch_add((atomic_int *)user, 1);
}

static void count_info_cb(redisx_client *c, redisx_status st, const redisx_lock_info *info, void *user)
{
    (void)c;
    (void)st;
    (void)info;
    atomic_fetch_add((atomic_int *)user, 1);
}

static redisx_lock_info *inspect_ok(redisx_client *c, const char *name)
{
    redisx_lock_info *info = NULL;
    EXPECT_OK(redisx_lock_inspect(&info, c, name), name);
    cr_assert_not_null(info);
    return info;
}

static int is_locked(redisx_client *c, const char *name)
{
    redisx_lock_info *info = inspect_ok(c, name);
    int locked = redisx_lock_info_locked(info);
    redisx_lock_info_free(info);
    return locked;
}

/* ---- the coverage table ------------------------------------------------- */

#define FN(f) {#f, (void (*)(void))f}
static const struct {
    const char *name;
    void (*fn)(void);
} covered[] = {
    FN(redisx_version), FN(redisx_version_string), FN(redisx_strerror), FN(redisx_status_name),
    FN(redisx_last_error), FN(redisx_options_new), FN(redisx_options_free), FN(redisx_options_set_url),
    FN(redisx_options_set_auth), FN(redisx_options_set_connect_timeout_ms), FN(redisx_options_set_command_timeout_ms),
    FN(redisx_options_set_prefix), FN(redisx_options_set_connections), FN(redisx_options_set_reconnect_backoff_ms),
    FN(redisx_options_set_circuit_breaker), FN(redisx_options_set_busy_poll_us),
    FN(redisx_options_set_cache_tracking_bcast),
    FN(redisx_options_set_fail_policy), FN(redisx_options_set_event_cb), FN(redisx_options_set_event_keys),
    FN(redisx_options_set_log_cb), FN(redisx_options_set_state_cb), FN(redisx_options_set_queue),
    FN(redisx_options_set_tls), FN(redisx_options_set_tls_ca_file), FN(redisx_options_set_tls_ca_dir),
    FN(redisx_options_set_tls_client_cert), FN(redisx_options_set_tls_server_name),
    FN(redisx_options_set_tls_verify_hostname), FN(redisx_options_set_tls_insecure_skip_verify),
    FN(redisx_options_set_cluster_seeds),
    FN(redisx_options_set_sentinels),
    FN(redisx_options_set_sentinel_auth),
    FN(redisx_client_open), FN(redisx_client_open_url), FN(redisx_client_close), FN(redisx_client_prefix),
    FN(redisx_client_stats), FN(redisx_command), FN(redisx_command_async), FN(redisx_reply_free),
    FN(redisx_reply_type_of), FN(redisx_reply_integer), FN(redisx_reply_string), FN(redisx_reply_elements),
    FN(redisx_reply_element), FN(redisx_event_primitive), FN(redisx_event_operation), FN(redisx_event_status),
    FN(redisx_event_fail_open), FN(redisx_event_duration_ns), FN(redisx_event_round_trips), FN(redisx_event_key),
    FN(redisx_stats_free), FN(redisx_stats_series), FN(redisx_stats_primitive), FN(redisx_stats_operation),
    FN(redisx_stats_counter), FN(redisx_stats_client), FN(redisx_stats_buckets), FN(redisx_stats_bucket_upper_ns),
    FN(redisx_stats_bucket_count), FN(redisx_stats_quantile_ns), FN(redisx_stats_sum_ns),
    FN(redisx_metrics_collect), FN(redisx_metrics_free), FN(redisx_metrics_families), FN(redisx_metrics_name),
    FN(redisx_metrics_help), FN(redisx_metrics_type), FN(redisx_metrics_label_count), FN(redisx_metrics_label_name),
    FN(redisx_metrics_samples), FN(redisx_metrics_label_value), FN(redisx_metrics_value), FN(redisx_metrics_count),
    FN(redisx_metrics_bucket_count), FN(redisx_metrics_bucket_bound), FN(redisx_metrics_cumulative), FN(redisx_queue_new), FN(redisx_queue_free),
    FN(redisx_queue_fd), FN(redisx_queue_pop), FN(redisx_queue_shutdown), FN(redisx_queue_size),
    FN(redisx_item_free), FN(redisx_item_kind_of), FN(redisx_item_user), FN(redisx_item_status),
    FN(redisx_item_message), FN(redisx_item_log_level), FN(redisx_item_state), FN(redisx_item_connection),
    FN(redisx_item_event), FN(redisx_item_take_lock), FN(redisx_item_lock), FN(redisx_item_lock_info),
    FN(redisx_item_take_reply), FN(redisx_lock_acquire), FN(redisx_lock_try_acquire), FN(redisx_lock_acquire_async),
    FN(redisx_lock_release), FN(redisx_lock_release_async), FN(redisx_lock_extend), FN(redisx_lock_extend_async),
    FN(redisx_lock_start_renewal), FN(redisx_lock_free), FN(redisx_lock_name), FN(redisx_lock_token),
    FN(redisx_lock_fencing_token), FN(redisx_lock_ttl_ms), FN(redisx_lock_is_fail_open), FN(redisx_lock_is_lost),
    FN(redisx_lock_inspect), FN(redisx_lock_inspect_async), FN(redisx_lock_info_free), FN(redisx_lock_info_locked),
    FN(redisx_lock_info_fencing_token), FN(redisx_lock_info_ttl_ms), FN(redisx_lock_info_last_fencing_token),
    /* 0.3 */
    FN(redisx_client_shutdown),
    FN(redisx_cancel),
    /* 0.2: their cases are in test_badinput_primitives.c */
    FN(redisx_limiter_new),
    FN(redisx_limiter_free),
    FN(redisx_limiter_set_fail_policy),
    FN(redisx_limiter_capacity),
    FN(redisx_limiter_check),
    FN(redisx_limiter_check_async),
    FN(redisx_limiter_peek),
    FN(redisx_limiter_peek_async),
    FN(redisx_limiter_reset),
    FN(redisx_limiter_reset_async),
    FN(redisx_ratelimit_result_free),
    FN(redisx_ratelimit_result_allowed),
    FN(redisx_ratelimit_result_limit),
    FN(redisx_ratelimit_result_remaining),
    FN(redisx_ratelimit_result_reset_ms),
    FN(redisx_ratelimit_result_retry_after_ms),
    FN(redisx_ratelimit_result_fail_open),
    FN(redisx_idem_begin),
    FN(redisx_idem_begin_async),
    FN(redisx_idem_complete),
    FN(redisx_idem_complete_async),
    FN(redisx_idem_fail),
    FN(redisx_idem_fail_async),
    FN(redisx_idem_free),
    FN(redisx_idem_state_of),
    FN(redisx_idem_key),
    FN(redisx_idem_response),
    FN(redisx_idem_metadata),
    FN(redisx_idem_remaining_ms),
    FN(redisx_idem_taken_over),
    FN(redisx_idem_is_fail_open),
    FN(redisx_item_take_ratelimit_result),
    FN(redisx_item_take_idem),
    /* 0.5: streams, their cases in test_badinput_stream.c */
    FN(redisx_consumer_free),
    FN(redisx_consumer_in_flight),
    FN(redisx_consumer_new),
    FN(redisx_consumer_next),
    FN(redisx_consumer_options_free),
    FN(redisx_consumer_options_new),
    FN(redisx_consumer_options_set_block_ms),
    FN(redisx_consumer_options_set_dead_letter_maxlen),
    FN(redisx_consumer_options_set_delete_idle_ms),
    FN(redisx_consumer_options_set_max_deliveries),
    FN(redisx_consumer_options_set_max_in_flight),
    FN(redisx_consumer_options_set_reclaim),
    FN(redisx_consumer_options_set_retry_backoff_ms),
    FN(redisx_consumer_stop),
    FN(redisx_delivery_count),
    FN(redisx_delivery_free),
    FN(redisx_delivery_message),
    FN(redisx_group_create),
    FN(redisx_message_ack),
    FN(redisx_message_dead_letter),
    FN(redisx_message_delivery_count),
    FN(redisx_message_field_count),
    FN(redisx_message_field_name),
    FN(redisx_message_field_value),
    FN(redisx_message_get),
    FN(redisx_message_id),
    FN(redisx_message_retry),
    FN(redisx_stream_batch_add),
    FN(redisx_stream_batch_free),
    FN(redisx_stream_batch_id),
    FN(redisx_stream_batch_new),
    FN(redisx_stream_batch_size),
    FN(redisx_stream_publish),
    FN(redisx_stream_publish_async),
    FN(redisx_stream_publish_batch),
    /* 0.5: the cache (test_badinput_cache.c) */
    FN(redisx_cache_abandon),
    FN(redisx_cache_abandon_async),
    FN(redisx_cache_counter_of),
    FN(redisx_cache_delete),
    FN(redisx_cache_delete_async),
    FN(redisx_cache_entry_free),
    FN(redisx_cache_entry_is_fail_open),
    FN(redisx_cache_entry_is_stale),
    FN(redisx_cache_entry_key),
    FN(redisx_cache_entry_layer),
    FN(redisx_cache_entry_outcome),
    FN(redisx_cache_entry_should_refresh),
    FN(redisx_cache_entry_state),
    FN(redisx_cache_entry_ttl_ms),
    FN(redisx_cache_entry_value),
    FN(redisx_cache_fetch),
    FN(redisx_cache_fetch_async),
    FN(redisx_cache_fill),
    FN(redisx_cache_fill_async),
    FN(redisx_cache_fill_negative),
    FN(redisx_cache_fill_negative_async),
    FN(redisx_cache_free),
    FN(redisx_cache_get),
    FN(redisx_cache_get_async),
    FN(redisx_cache_new),
    FN(redisx_cache_set),
    FN(redisx_cache_set_async),
    FN(redisx_cache_set_fail_policy),
    FN(redisx_cache_set_l1), FN(redisx_cache_set_tracking), FN(redisx_cache_peek), FN(redisx_cache_entry_version),
    /* 0.6: tags (test_badinput_cache.c) */
    FN(redisx_tags_new), FN(redisx_tags_add), FN(redisx_tags_count), FN(redisx_tags_free),
    FN(redisx_cache_fetch_tagged), FN(redisx_cache_fetch_tagged_async), FN(redisx_cache_set_tagged),
    FN(redisx_cache_set_tagged_async), FN(redisx_cache_invalidate_tags), FN(redisx_cache_invalidate_tags_async),
    FN(redisx_cache_set_lease_ms),
    FN(redisx_cache_set_max_value_bytes),
    FN(redisx_cache_set_negative_ttl_ms),
    FN(redisx_cache_set_stale_ms),
    FN(redisx_cache_set_ttl_jitter),
    FN(redisx_cache_set_xfetch_beta),
    FN(redisx_item_take_cache_entry),
    FN(redisx_event_outcome),
    FN(redisx_stats_cache),
    /* 0.5: their cases (NULL, out of range, malformed, binary) are in test_http.c */
    FN(redisx_http_fingerprint),
    FN(redisx_http_record_key),
    FN(redisx_http_metadata),
    FN(redisx_http_metadata_parse),
    FN(redisx_http_status_is_stored),
    FN(redisx_http_key_required),
    FN(redisx_http_key_invalid),
    FN(redisx_http_idem_answer),
    FN(redisx_http_ratelimit_answer),
    FN(redisx_http_response_free),
    FN(redisx_http_response_status),
    FN(redisx_http_response_header_count),
    FN(redisx_http_response_header_name),
    FN(redisx_http_response_header_value),
    FN(redisx_http_response_body),
    /* 0.6: stream payloads and headers (test_badinput_stream.c) */
    FN(redisx_message_codec),
    FN(redisx_message_field_reserved),
    FN(redisx_message_header_count),
    FN(redisx_message_header_name),
    FN(redisx_message_header_value),
    FN(redisx_message_payload),
    FN(redisx_message_stream),
    FN(redisx_stream_batch_add_field),
    FN(redisx_stream_batch_add_header),
    FN(redisx_stream_batch_add_message),
    FN(redisx_stream_batch_add_payload),
    /* 0.6: stream tools, their cases in test_stream_tools.c (bad_arguments_are_refused_with_a_message) */
    FN(redisx_consumer_options_set_idempotent),
    FN(redisx_dlq_entries_count),
    FN(redisx_dlq_entries_entry),
    FN(redisx_dlq_entries_free),
    FN(redisx_dlq_entry_consumer),
    FN(redisx_dlq_entry_deleted),
    FN(redisx_dlq_entry_deliveries),
    FN(redisx_dlq_entry_error),
    FN(redisx_dlq_entry_field_count),
    FN(redisx_dlq_entry_field_name),
    FN(redisx_dlq_entry_field_value),
    FN(redisx_dlq_entry_free),
    FN(redisx_dlq_entry_group),
    FN(redisx_dlq_entry_id),
    FN(redisx_dlq_entry_original_id),
    FN(redisx_dlq_entry_stream),
    FN(redisx_dlq_inspect),
    FN(redisx_dlq_list),
    FN(redisx_dlq_purge),
    FN(redisx_dlq_requeue),
    FN(redisx_event_group), FN(redisx_event_node),
    FN(redisx_event_stream),
    FN(redisx_group_info_consumers),
    FN(redisx_group_info_entries_read),
    FN(redisx_group_info_free),
    FN(redisx_group_info_lag),
    FN(redisx_group_info_last_delivered_id),
    FN(redisx_group_info_pending),
    FN(redisx_group_inspect),
    FN(redisx_message_taken_over),
    FN(redisx_stats_stream),
    /* 0.6: the node of a state change, the OpenTelemetry names */
    FN(redisx_state_node),
    FN(redisx_item_node),
    FN(redisx_metrics_otel_name),
    FN(redisx_metrics_unit),
    FN(redisx_client_server_address),
    FN(redisx_client_server_port),
    FN(redisx_client_database),
};
#undef FN

Test(badinput, exported_functions_are_all_in_the_coverage_table)
{
    const char *self = __FILE__;
    const char *tail = strstr(self, "tests/c/test_badinput.c");
    if (!tail)
        cr_skip_test("source path unknown (%s): cannot find ffi/redisx.map", self);
    char path[2048];
    snprintf(path, sizeof path, "%.*sffi/redisx.map", (int)(tail - self), self);
    FILE *fp = fopen(path, "r");
    if (!fp)
        cr_skip_test("cannot open %s", path);
    size_t ncovered = sizeof covered / sizeof *covered;
    char line[512];
    size_t nmapped = 0;
    while (fgets(line, sizeof line, fp)) {
        char sym[128];
        if (sscanf(line, " %127[A-Za-z0-9_]", sym) != 1 || strncmp(sym, "redisx_", 7) != 0 || !strchr(line, ';'))
            continue;
        nmapped++;
        size_t i = 0;
        while (i < ncovered && strcmp(covered[i].name, sym) != 0)
            i++;
        cr_expect(i < ncovered, "%s is exported but has no bad-input case in this suite", sym);
    }
    fclose(fp);
    cr_assert_eq(nmapped, ncovered, "ffi/redisx.map exports %zu functions, the table names %zu", nmapped, ncovered);
    for (size_t i = 0; i < ncovered; i++)
        cr_assert_not_null(covered[i].fn, "%s", covered[i].name);
}

/* ---- errors and version --------------------------------------------------- */

Test(badinput, every_status_code_has_its_name_and_message)
{
    static const struct {
        int code;
        const char *name;
        const char *msg;
    } table[] = {
#define ROW(name, code, msg) {code, #name, msg},
        REDISX_STATUS_MAP(ROW)
#undef ROW
    };
    size_t n = sizeof table / sizeof *table;
    cr_assert_eq(n, (size_t)(1 - REDISX_STATUS_MIN_), "codes 0..REDISX_STATUS_MIN_ without gaps");
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(redisx_strerror(table[i].code), table[i].msg, "code %d", table[i].code);
        const char *name = redisx_status_name(table[i].code);
        cr_assert_not_null(name, "code %d", table[i].code);
        cr_assert_str_eq(name, table[i].name, "code %d", table[i].code);
        cr_assert_str_neq(redisx_strerror(table[i].code), "unknown status", "code %d", table[i].code);
    }
}

Test(badinput, unknown_status_codes_give_unknown_status_and_no_name)
{
    const int unknown[] = {1, 2, 13, 100, REDISX_STATUS_MIN_ - 1, -100, -1000, INT_MAX, INT_MIN, INT_MIN + 1};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        cr_assert_not_null(redisx_strerror(unknown[i]), "code %d", unknown[i]);
        cr_assert_str_eq(redisx_strerror(unknown[i]), "unknown status", "code %d", unknown[i]);
        cr_assert_null(redisx_status_name(unknown[i]), "code %d", unknown[i]);
    }
}

typedef struct fresh_thread_probe {
    int was_null;
    char before[64];
    redisx_status st;
    char after[256];
} fresh_thread_probe;

static void *last_error_in_a_fresh_thread(void *arg)
{
    fresh_thread_probe *p = arg;
    const char *m = redisx_last_error();
    p->was_null = m == NULL;
    snprintf(p->before, sizeof p->before, "%s", m ? m : "");
    redisx_options *o = NULL;
    p->st = redisx_options_set_prefix(o, "x"); /* NULL handle */
    m = redisx_last_error();
    snprintf(p->after, sizeof p->after, "%s", m ? m : "(null)");
    return NULL;
}

Test(badinput, last_error_is_empty_not_null_before_any_error_and_set_after_one)
{
    fresh_thread_probe p = {0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, last_error_in_a_fresh_thread, &p), 0);
    pthread_join(th, NULL);
    cr_assert_eq(p.was_null, 0, "redisx_last_error() is never NULL");
    cr_assert_str_eq(p.before, "", "no error yet on a new thread");
    cr_assert_eq(p.st, REDISX_ERR_INVALID);
    cr_assert_str_neq(p.after, "");
}

Test(badinput, version_functions_need_no_input_and_agree_with_the_headers)
{
    cr_assert_eq(redisx_version(), REDISX_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", REDISX_VERSION_MAJOR, REDISX_VERSION_MINOR, REDISX_VERSION_PATCH);
    cr_assert_not_null(redisx_version_string());
    cr_assert_str_eq(redisx_version_string(), want);
}

/* ---- release functions ------------------------------------------------------ */

Test(badinput, every_release_function_accepts_null)
{
    redisx_options_free(NULL);
    redisx_client_close(NULL);
    redisx_client_shutdown(NULL);
    redisx_reply_free(NULL);
    redisx_stats_free(NULL);
    redisx_queue_free(NULL);
    redisx_queue_shutdown(NULL);
    redisx_item_free(NULL);
    redisx_lock_free(NULL);
    redisx_lock_info_free(NULL);
    cr_assert(1, "nothing crashed");
}

/* ---- options ----------------------------------------------------------------- */

Test(badinput, options_new_rejects_null_out)
{
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_new(NULL), "out NULL");
}

static void dummy_event(redisx_client *c, const redisx_event *e, void *u)
{
    (void)c;
    (void)e;
    (void)u;
}
static void dummy_log(redisx_client *c, redisx_log_level l, const char *m, void *u)
{
    (void)c;
    (void)l;
    (void)m;
    (void)u;
}
static void dummy_state(redisx_client *c, int conn, redisx_conn_state s, const char *d, void *u)
{
    (void)c;
    (void)conn;
    (void)s;
    (void)d;
    (void)u;
}

Test(badinput, every_options_setter_rejects_a_null_handle)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_url(NULL, "redis://127.0.0.1"), "set_url");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_auth(NULL, "u", "p"), "set_auth");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_auth(NULL, NULL, NULL), "set_auth clear");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_connect_timeout_ms(NULL, 1000), "set_connect_timeout_ms");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_command_timeout_ms(NULL, 1000), "set_command_timeout_ms");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(NULL, "p"), "set_prefix");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_connections(NULL, 1), "set_connections");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_reconnect_backoff_ms(NULL, 10, 20), "set_reconnect_backoff_ms");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_circuit_breaker(NULL, 5, 1000, 1000), "set_circuit_breaker");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_busy_poll_us(NULL, 10), "set_busy_poll_us");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_cache_tracking_bcast(NULL, 1), "set_cache_tracking_bcast");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_fail_policy(NULL, REDISX_PRIMITIVE_LOCK, REDISX_FAIL_OPEN),
              "set_fail_policy");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_event_cb(NULL, dummy_event, NULL), "set_event_cb");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_event_keys(NULL, 1), "set_event_keys");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_log_cb(NULL, dummy_log, REDISX_LOG_WARN, NULL), "set_log_cb");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_state_cb(NULL, dummy_state, NULL), "set_state_cb");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_queue(NULL, q, REDISX_QUEUE_EVENTS), "set_queue");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls(NULL, 1), "set_tls");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_ca_file(NULL, "ca.crt"), "set_tls_ca_file");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_ca_dir(NULL, "/etc/ssl/certs"), "set_tls_ca_dir");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_client_cert(NULL, "c.crt", "c.key"), "set_tls_client_cert");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_server_name(NULL, "h"), "set_tls_server_name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_verify_hostname(NULL, 1), "set_tls_verify_hostname");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_tls_insecure_skip_verify(NULL, 1),
              "set_tls_insecure_skip_verify");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_cluster_seeds(NULL, "h:1"), "set_cluster_seeds");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_sentinels(NULL, "m", "h:1"), "set_sentinels");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_sentinel_auth(NULL, NULL, "pw"), "set_sentinel_auth");
    redisx_queue_free(q); /* the refused set_queue took no reference: this frees it */
}

Test(badinput, sentinel_setters_refuse_bad_arguments)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "", "h:1"), "empty master name");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", NULL), "no sentinels");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", ""), "empty sentinel list");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", "h:0"), "port 0");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", "h:1,h:1"), "a sentinel twice");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "a b", "h:1"), "a space in the name");
    char *longest = filled(5000, 'a');
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", longest), "5000-byte list");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, longest, "h:1"), "5000-byte name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_sentinel_auth(o, longest, "pw"), "5000-byte user");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_sentinel_auth(o, "u", longest), "5000-byte password");
    free(longest);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_sentinel_auth(o, "u", NULL), "a user without a password");
    EXPECT_OK(redisx_options_set_sentinel_auth(o, NULL, NULL), "no sentinel auth");
    EXPECT_OK(redisx_options_set_url(o, "redis+cluster://a:1,b:2"), "cluster URL");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", "h:1"), "sentinels on a cluster");
    EXPECT_OK(redisx_options_set_url(o, "unix:///tmp/x.sock"), "unix URL");
    EXPECT_ST(REDISX_ERR_URL, redisx_options_set_sentinels(o, "m", "h:1"), "sentinels on a unix socket");
    redisx_options_free(o);
}

/* Malformed URLs, shared by set_url and client_open_url. */
typedef struct url_case {
    const char *label;
    const char *url;
} url_case;

static size_t bad_urls(url_case *out, size_t max, char **owned)
{
    static const url_case fixed[] = {
        {"empty", ""},
        {"http scheme", "http://x"},
        {"no scheme", "127.0.0.1:6379"},
        {"TLS with a query string", "rediss://h?ssl_cert_reqs=none"},
        {"TLS port 0", "rediss://h:0"},
        {"TLS db not a number", "rediss://h/x"},
        {"TLS scheme with one slash", "rediss:/h"},
        {"TLS scheme misspelt", "redisss://h"},
        {"port 0", "redis://h:0"},
        {"port 65536", "redis://h:65536"},
        {"port 99999", "redis://h:99999"},
        {"port with letters", "redis://h:12ab"},
        {"negative port", "redis://h:-1"},
        {"empty port", "redis://h:"},
        {"20-digit port", "redis://h:99999999999999999999"},
        {"db not a number", "redis://h/notanumber"},
        {"negative db", "redis://h/-1"},
        {"db too large", "redis://h/1000001"},
        {"db with junk", "redis://h:6379/0/x"},
        {"query string", "redis://h?db=1"},
        {"fragment", "redis://h#x"},
        {"unterminated IPv6", "redis://[::1"},
        {"empty IPv6", "redis://[]:6379"},
        {"junk after IPv6", "redis://[::1]x"},
        {"IPv6 port 0", "redis://[::1]:0"},
        {"bad escape in user", "redis://%zz:pw@h"},
        {"bad escape in password", "redis://u:%zz@h"},
        {"bad escape in lone password", "redis://%zz@h"},
        {"half a hex escape", "redis://u:%4g@h"},
        {"truncated escape", "redis://u:%4@h"},
        {"bare percent", "redis://u:pw%@h"},
        {"escaped NUL", "redis://u:%00@h"},
        {"relative unix path", "unix://relative"},
        {"relative unix path with dir", "unix://tmp/redis.sock"},
        {"empty unix path", "unix://"},
        {"unix db not a number", "unix:///tmp/x.sock?db=abc"},
        {"unix empty db", "unix:///tmp/x.sock?db="},
        {"unix unknown query", "unix:///tmp/x.sock?foo=1"},
        {"unix bad escape", "unix:///tmp/%zz.sock"},
        {"cluster without seeds", "redis+cluster://"},
        {"cluster empty seed", "redis+cluster://a:1,,b:2"},
        {"cluster trailing comma", "redis+cluster://a:1,"},
        {"cluster leading comma", "redis+cluster://,a:1"},
        {"cluster seed without host", "redis+cluster://a:1,:2"},
        {"cluster port 0", "redis+cluster://a:1,b:0"},
        {"cluster port with letters", "redis+cluster://a:1,b:7x"},
        {"cluster unterminated IPv6", "redis+cluster://a:1,[::1"},
        {"cluster db 1", "redis+cluster://a:1,b:2/1"},
        {"cluster mixed schemes", "redis+cluster://a:1,redis://b:2"},
        {"cluster query string", "redis+cluster://a:1?x=1"},
        {"several hosts without cluster", "redis://a:1,b:2"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed && n < max; i++)
        out[n++] = fixed[i];
    /* 5000 bytes, 4097 bytes (one over the limit), unix path of 108 bytes. */
    owned[0] = filled(5000, 'a');
    memcpy(owned[0], "redis://", 8);
    owned[1] = filled(4097, 'a');
    memcpy(owned[1], "redis://", 8);
    owned[2] = filled(7 + 108, 'a');
    memcpy(owned[2], "unix:///", 8);
    if (n + 3 <= max) {
        out[n++] = (url_case){"5000-byte URL", owned[0]};
        out[n++] = (url_case){"4097-byte URL", owned[1]};
        out[n++] = (url_case){"108-byte unix path", owned[2]};
    }
    return n;
}

Test(badinput, set_url_rejects_malformed_urls)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    url_case cases[64];
    char *owned[3];
    size_t n = bad_urls(cases, 64, owned);
    for (size_t i = 0; i < n; i++)
        EXPECT_ST(REDISX_ERR_URL, redisx_options_set_url(o, cases[i].url), cases[i].label);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_url(o, NULL), "NULL url");
    for (int i = 0; i < 3; i++)
        free(owned[i]);
    redisx_options_free(o);
}

Test(badinput, set_url_accepts_the_boundary_values)
{
    char *longest = filled(4096, 'a'); /* exactly the limit */
    memcpy(longest, "redis://", 8);
    char *unix107 = filled(7 + 107, 'a');
    memcpy(unix107, "unix:///", 8);
    const url_case good[] = {
        {"port 1", "redis://h:1"},
        {"port 65535", "redis://h:65535"},
        {"db 1000000", "redis://h/1000000"},
        {"trailing slash", "redis://h:6379/"},
        {"IPv6 with port and db", "redis://[::1]:6379/15"},
        {"escaped credentials", "redis://u%41:p%2F@h"},
        {"unix with db", "unix:///tmp/x.sock?db=0"},
        {"cluster seeds", "redis+cluster://u:p@a:7000,[::1]:7001,b"},
        {"cluster db 0", "redis+cluster://a:7000/0"},
        {"4096-byte URL", longest},
        {"107-byte unix path", unix107},
    };
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        EXPECT_OK(redisx_options_set_url(o, good[i].url), good[i].label);
    redisx_options_free(o);
    free(longest);
    free(unix107);
}

static void expect_ping(redisx_client *c)
{
    const char *ping[] = {"PING"};
    redisx_reply *r = rt_cmd(c, 1, ping);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS);
    cr_assert_str_eq(redisx_reply_string(r, NULL), "PONG");
    redisx_reply_free(r);
}

Test(badinput, rejected_url_keeps_the_previous_address)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(rt_options_url(o), "test server");
    url_case cases[64];
    char *owned[3];
    size_t n = bad_urls(cases, 64, owned);
    for (size_t i = 0; i < n; i++)
        EXPECT_ST(REDISX_ERR_URL, redisx_options_set_url(o, cases[i].url), cases[i].label);
    for (int i = 0; i < 3; i++)
        free(owned[i]);
    char prefix[96];
    EXPECT_OK(redisx_options_set_prefix(o, rt_unique("keepurl", prefix, sizeof prefix)), "prefix");
    redisx_client *c = NULL;
    EXPECT_OK(redisx_client_open(&c, o), "open");
    redisx_options_free(o);
    expect_ping(c); /* still talks to the test server */
    redisx_client_close(c);
}

Test(badinput, set_auth_rejects_over_long_user_and_password)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    char *big = filled(4097, 'u'), *max = filled(4096, 'u');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_auth(o, big, "pw"), "user 4097 bytes");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_auth(o, "user", big), "password 4097 bytes");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_auth(o, NULL, big), "password only, 4097 bytes");
    EXPECT_OK(redisx_options_set_auth(o, max, max), "4096 bytes each");
    EXPECT_OK(redisx_options_set_auth(o, NULL, NULL), "clear");
    free(big);
    free(max);
    redisx_options_free(o);
}

Test(badinput, timeouts_reject_zero_negative_and_too_large_values)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int64_t bad[] = {0, -1, -1000, INT64_MIN, 3600001, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[48];
        snprintf(label, sizeof label, "%lld ms", (long long)bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_connect_timeout_ms(o, bad[i]), label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_command_timeout_ms(o, bad[i]), label);
    }
    EXPECT_OK(redisx_options_set_connect_timeout_ms(o, 1), "1 ms");
    EXPECT_OK(redisx_options_set_connect_timeout_ms(o, 3600000), "3600000 ms");
    EXPECT_OK(redisx_options_set_command_timeout_ms(o, 1), "1 ms");
    EXPECT_OK(redisx_options_set_command_timeout_ms(o, 3600000), "3600000 ms");
    redisx_options_free(o);
}

Test(badinput, reconnect_backoff_rejects_bad_ranges)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const struct {
        int64_t min, max;
    } bad[] = {{0, 10}, {-1, 10}, {10, 0}, {10, -1}, {20, 10}, {1, 3600001}, {3600001, 3600001},
               {INT64_MIN, INT64_MAX}, {INT64_MAX, INT64_MAX}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[80];
        snprintf(label, sizeof label, "min %lld max %lld", (long long)bad[i].min, (long long)bad[i].max);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_reconnect_backoff_ms(o, bad[i].min, bad[i].max), label);
    }
    EXPECT_OK(redisx_options_set_reconnect_backoff_ms(o, 1, 1), "1..1");
    EXPECT_OK(redisx_options_set_reconnect_backoff_ms(o, 1, 3600000), "1..3600000");
    redisx_options_free(o);
}

Test(badinput, circuit_breaker_rejects_bad_ranges)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const struct {
        int failures;
        int64_t window, open;
    } bad[] = {{-1, 10, 10}, {INT32_MIN, 10, 10}, {1000001, 10, 10}, {5, 0, 10}, {5, -1, 10}, {5, 10, 0},
               {5, 3600001, 10}, {5, 10, INT64_MAX}, {5, INT64_MIN, 10}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[96];
        snprintf(label, sizeof label, "failures %d window %lld open %lld", bad[i].failures, (long long)bad[i].window,
                 (long long)bad[i].open);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_circuit_breaker(o, bad[i].failures, bad[i].window, bad[i].open),
                  label);
    }
    EXPECT_OK(redisx_options_set_circuit_breaker(o, 0, 1, 1), "off");
    EXPECT_OK(redisx_options_set_circuit_breaker(o, 1000000, 3600000, 3600000), "upper bounds");
    redisx_options_free(o);
}

Test(badinput, busy_poll_is_bounded)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int64_t bad[] = {-1, 100001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[64];
        snprintf(label, sizeof label, "busy poll %lld us", (long long)bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_busy_poll_us(o, bad[i]), label);
    }
    EXPECT_OK(redisx_options_set_busy_poll_us(o, 0), "off");
    EXPECT_OK(redisx_options_set_busy_poll_us(o, 100000), "upper bound");
    redisx_options_free(o);
}

Test(badinput, cache_tracking_bcast_is_a_flag)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int bad[] = {-1, 2, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_cache_tracking_bcast(o, bad[i]), "a flag");
    EXPECT_OK(redisx_options_set_cache_tracking_bcast(o, 1), "on");
    EXPECT_OK(redisx_options_set_cache_tracking_bcast(o, 0), "off");
    redisx_options_free(o);
}

Test(badinput, set_prefix_rejects_null_empty_and_over_long_prefixes)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    char *p129 = filled(129, 'p'), *p5000 = filled(5000, 'p'), *p128 = filled(128, 'p');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, NULL), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, ""), "empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, p129), "129 bytes");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, p5000), "5000 bytes");
    EXPECT_OK(redisx_options_set_prefix(o, p128), "128 bytes");
    EXPECT_OK(redisx_options_set_prefix(o, "x"), "1 byte");
    free(p129);
    free(p5000);
    free(p128);
    redisx_options_free(o);
}

Test(badinput, rejected_prefix_keeps_the_previous_one)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(rt_options_url(o), "url");
    char keep[96];
    rt_unique("keep", keep, sizeof keep);
    EXPECT_OK(redisx_options_set_prefix(o, keep), "prefix");
    char *p129 = filled(129, 'p');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, ""), "empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, p129), "129 bytes");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_prefix(o, NULL), "NULL");
    free(p129);
    redisx_client *c = NULL;
    EXPECT_OK(redisx_client_open(&c, o), "open");
    redisx_options_free(o);
    cr_assert_str_eq(redisx_client_prefix(c), keep);
    redisx_client_close(c);
}

Test(badinput, set_connections_rejects_out_of_range_counts)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int bad[] = {0, -1, 65, 1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "%d", bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_connections(o, bad[i]), label);
    }
    EXPECT_OK(redisx_options_set_connections(o, 1), "1");
    EXPECT_OK(redisx_options_set_connections(o, 64), "64");
    redisx_options_free(o);
}

Test(badinput, set_fail_policy_rejects_bad_enum_values)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int bad_primitive[] = {REDISX_PRIMITIVE_CLIENT, 5, -1, 99, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_primitive / sizeof *bad_primitive; i++) {
        char label[32];
        snprintf(label, sizeof label, "primitive %d", bad_primitive[i]);
        EXPECT_ST(REDISX_ERR_INVALID,
                  redisx_options_set_fail_policy(o, (redisx_primitive)bad_primitive[i], REDISX_FAIL_OPEN), label);
    }
    const int bad_policy[] = {2, -1, 99, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_policy / sizeof *bad_policy; i++) {
        char label[32];
        snprintf(label, sizeof label, "policy %d", bad_policy[i]);
        EXPECT_ST(REDISX_ERR_INVALID,
                  redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_LOCK, (redisx_fail_policy)bad_policy[i]), label);
    }
    EXPECT_OK(redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_LOCK, REDISX_FAIL_OPEN), "open");
    EXPECT_OK(redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_LOCK, REDISX_FAIL_CLOSED), "closed");
    EXPECT_OK(redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_RATELIMIT, REDISX_FAIL_CLOSED), "rate limit");
    EXPECT_OK(redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_IDEMPOTENCY, REDISX_FAIL_OPEN), "idempotency");
    EXPECT_OK(redisx_options_set_fail_policy(o, REDISX_PRIMITIVE_CACHE, REDISX_FAIL_CLOSED), "cache");
    redisx_options_free(o);
}

Test(badinput, set_log_cb_rejects_unknown_levels)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    const int bad[] = {-1, 4, 100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "level %d", bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_log_cb(o, dummy_log, (redisx_log_level)bad[i], NULL), label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_log_cb(o, NULL, (redisx_log_level)bad[i], NULL), label);
    }
    EXPECT_OK(redisx_options_set_log_cb(o, dummy_log, REDISX_LOG_DEBUG, NULL), "debug");
    EXPECT_OK(redisx_options_set_log_cb(o, dummy_log, REDISX_LOG_ERROR, NULL), "error");
    redisx_options_free(o);
}

Test(badinput, set_queue_rejects_unknown_flags_without_keeping_a_reference)
{
    redisx_options *o = NULL;
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_queue_new(&q), "queue");
    const unsigned bad[] = {0x10u, 0x20u, 0x1Fu, 0x80000000u, UINT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "flags 0x%x", bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_queue(o, q, bad[i]), label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_options_set_queue(o, NULL, bad[i]), label);
    }
    redisx_options_free(o);
    redisx_queue_free(q); /* last reference: a leaked one shows under ASan/valgrind */
}

Test(badinput, null_callbacks_and_any_flag_value_are_accepted_as_clearing)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_event_cb(o, NULL, (void *)0x1), "event cb NULL");
    EXPECT_OK(redisx_options_set_state_cb(o, NULL, (void *)0x1), "state cb NULL");
    EXPECT_OK(redisx_options_set_log_cb(o, NULL, REDISX_LOG_WARN, (void *)0x1), "log cb NULL");
    EXPECT_OK(redisx_options_set_queue(o, NULL, REDISX_QUEUE_EVENTS | REDISX_QUEUE_LOCK_LOST), "queue NULL");
    EXPECT_OK(redisx_options_set_event_keys(o, -7), "any non-zero enables");
    EXPECT_OK(redisx_options_set_event_keys(o, 0), "zero disables");
    redisx_options_free(o);
}

/* ---- client ------------------------------------------------------------------- */

Test(badinput, client_open_rejects_null_out)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open(NULL, o), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open(NULL, NULL), "out NULL, opts NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open_url(NULL, rt_url()), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open_url(NULL, NULL), "out NULL, url NULL");
    redisx_options_free(o);
}

Test(badinput, client_open_url_rejects_null_url)
{
    redisx_client *c = SENTINEL(redisx_client);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open_url(&c, NULL), "url NULL");
    cr_assert_null(c);
}

Test(badinput, client_open_url_rejects_malformed_urls)
{
    url_case cases[64];
    char *owned[3];
    size_t n = bad_urls(cases, 64, owned);
    for (size_t i = 0; i < n; i++) {
        redisx_client *c = SENTINEL(redisx_client);
        EXPECT_ST(REDISX_ERR_URL, redisx_client_open_url(&c, cases[i].url), cases[i].label);
        cr_assert_null(c, "[%s] out reset to NULL", cases[i].label);
    }
    for (int i = 0; i < 3; i++)
        free(owned[i]);
}

Test(badinput, client_open_with_null_options_uses_the_defaults)
{
    redisx_client *c = SENTINEL(redisx_client);
    EXPECT_OK(redisx_client_open(&c, NULL), "defaults"); /* connects in the background */
    cr_assert_not_null(c);
    cr_assert_neq(c, SENTINEL(redisx_client));
    cr_assert_str_eq(redisx_client_prefix(c), "redisx");
    redisx_client_close(c);
}

Test(badinput, client_open_rejects_a_user_without_password_and_drops_its_references)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(rt_options_url(o), "url");
    EXPECT_OK(redisx_options_set_queue(o, q, REDISX_QUEUE_EVENTS | REDISX_QUEUE_STATES), "queue");
    EXPECT_OK(redisx_options_set_auth(o, "someone", NULL), "user without password");
    redisx_client *c = SENTINEL(redisx_client);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_open(&c, o), "user without password");
    cr_assert_null(c);
    redisx_options_free(o);
    cr_assert_eq(redisx_queue_size(q), 0);
    redisx_queue_free(q); /* the failed open must not keep a reference */
}

Test(badinput, client_prefix_of_null_is_null)
{
    cr_assert_null(redisx_client_prefix(NULL));
}

Test(badinput, client_stats_rejects_null_out_and_null_client)
{
    redisx_client *c = rt_client();
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_stats(NULL, c), "out NULL");
    redisx_stats *s = SENTINEL(redisx_stats);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_client_stats(&s, NULL), "client NULL");
    cr_assert_null(s);
    redisx_client_close(c);
}

/* ---- raw commands ------------------------------------------------------------- */

Test(badinput, command_rejects_null_out)
{
    redisx_client *c = rt_client();
    const char *ping[] = {"PING"};
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command(NULL, c, 1, ping, NULL), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command(NULL, NULL, 0, NULL, NULL), "everything NULL");
    redisx_client_close(c);
}

Test(badinput, command_rejects_a_null_client)
{
    const char *ping[] = {"PING"};
    redisx_reply *r = SENTINEL(redisx_reply);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command(&r, NULL, 1, ping, NULL), "client NULL");
    cr_assert_null(r);
    atomic_int calls = 0;
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command_async(NULL, 1, ping, NULL, count_reply_cb, &calls), "client NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command_async(NULL, 1, ping, NULL, NULL, NULL), "client NULL, cb NULL");
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, command_rejects_argc_out_of_range)
{
    redisx_client *c = rt_client();
    const char *argv[] = {"PING", "a", "b"};
    const int bad[] = {0, -1, INT_MIN, 1048577, INT_MAX};
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "argc %d", bad[i]);
        redisx_reply *r = SENTINEL(redisx_reply);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_command(&r, c, bad[i], argv, NULL), label);
        cr_assert_null(r, "[%s]", label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_command_async(c, bad[i], argv, NULL, count_reply_cb, &calls), label);
    }
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0, "a refused call never runs its callback");
}

Test(badinput, command_rejects_null_argv_and_null_entries)
{
    redisx_client *c = rt_client();
    const char *first_null[] = {NULL, "k"};
    const char *middle_null[] = {"SET", NULL, "v"};
    const char *last_null[] = {"SET", "k", NULL};
    const size_t lens[] = {3, 1, 1};
    const struct {
        const char *label;
        int argc;
        const char *const *argv;
        const size_t *lens;
    } cases[] = {
        {"argv NULL", 1, NULL, NULL},
        {"argv NULL with lengths", 3, NULL, lens},
        {"argv[0] NULL", 2, first_null, NULL},
        {"argv[1] NULL", 3, middle_null, NULL},
        {"argv[2] NULL", 3, last_null, NULL},
        {"argv[1] NULL with lengths", 3, middle_null, lens},
        {"argv[2] NULL with lengths", 3, last_null, lens},
    };
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        redisx_reply *r = SENTINEL(redisx_reply);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_command(&r, c, cases[i].argc, cases[i].argv, cases[i].lens),
                  cases[i].label);
        cr_assert_null(r, "[%s]", cases[i].label);
        EXPECT_ST(REDISX_ERR_INVALID,
                  redisx_command_async(c, cases[i].argc, cases[i].argv, cases[i].lens, count_reply_cb, &calls),
                  cases[i].label);
    }
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0, "a refused call never runs its callback");
}

Test(badinput, command_accepts_the_maximum_argc, .timeout = 120)
{
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_command_timeout_ms(o, 60000), "slow under valgrind");
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    int argc = 1048576;
    const char **argv = malloc((size_t)argc * sizeof *argv);
    cr_assert_not_null(argv);
    char key[64];
    rt_unique("maxargc", key, sizeof key);
    argv[0] = "DEL";
    for (int i = 1; i < argc; i++)
        argv[i] = key;
    redisx_reply *r = NULL;
    EXPECT_OK(redisx_command(&r, c, argc, argv, NULL), "argc 1048576");
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_INTEGER, "%s", redisx_reply_string(r, NULL));
    cr_assert_eq(redisx_reply_integer(r), 0);
    redisx_reply_free(r);
    free(argv);
    redisx_client_close(c);
}

Test(badinput, rejected_calls_are_not_counted_as_operations)
{
    redisx_client *c = rt_client();
    const char *argv[] = {"PING"};
    redisx_reply *r = NULL;
    redisx_lock *lk = NULL;
    redisx_lock_info *info = NULL;
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command(&r, c, 0, argv, NULL), "argc 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command_async(c, 1, argv, NULL, NULL, NULL), "no cb, no queue");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, "", 1000, 0), "empty name");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, "n", 0, 0), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect(&info, c, NULL), "name NULL");
    redisx_stats *s = NULL;
    EXPECT_OK(redisx_client_stats(&s, c), "stats");
    for (int i = 0; i < redisx_stats_series(s); i++)
        cr_assert_eq(redisx_stats_counter(s, i, REDISX_COUNTER_CALLS), 0, "%s.%s counted a refused call",
                     redisx_stats_primitive(s, i), redisx_stats_operation(s, i));
    cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_IN_FLIGHT), 0);
    redisx_stats_free(s);
    redisx_client_close(c);
}

/* ---- replies -------------------------------------------------------------------- */

Test(badinput, reply_accessors_of_null_return_empty_values)
{
    cr_assert_eq(redisx_reply_type_of(NULL), REDISX_REPLY_NIL);
    cr_assert_eq(redisx_reply_integer(NULL), 0);
    size_t len = 99;
    cr_assert_null(redisx_reply_string(NULL, &len));
    cr_assert_eq(len, 0, "len is reset");
    cr_assert_null(redisx_reply_string(NULL, NULL));
    cr_assert_eq(redisx_reply_elements(NULL), 0);
    cr_assert_null(redisx_reply_element(NULL, 0));
    cr_assert_null(redisx_reply_element(NULL, SIZE_MAX));
}

Test(badinput, reply_accessors_of_another_type_return_empty_values)
{
    redisx_client *c = rt_client();
    char key[64], list[64], missing[64];
    rt_unique("n", key, sizeof key);
    rt_unique("l", list, sizeof list);
    rt_unique("none", missing, sizeof missing);
    const char *incr[] = {"INCR", key};
    const char *push[] = {"RPUSH", list, "a", "b"};
    const char *range[] = {"LRANGE", list, "0", "-1"};
    const char *get[] = {"GET", key};
    const char *get_missing[] = {"GET", missing};

    redisx_reply *r = rt_cmd(c, 2, incr); /* INTEGER */
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_INTEGER);
    size_t len = 99;
    cr_assert_null(redisx_reply_string(r, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(redisx_reply_elements(r), 0);
    cr_assert_null(redisx_reply_element(r, 0));
    redisx_reply_free(r);

    r = rt_cmd(c, 2, get); /* STRING "1" */
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STRING);
    cr_assert_eq(redisx_reply_integer(r), 0, "a string is not an integer reply");
    cr_assert_eq(redisx_reply_elements(r), 0);
    cr_assert_null(redisx_reply_element(r, 0));
    redisx_reply_free(r);

    redisx_reply_free(rt_cmd(c, 4, push));
    r = rt_cmd(c, 4, range); /* ARRAY of 2 */
    cr_assert_eq(redisx_reply_elements(r), 2);
    cr_assert_eq(redisx_reply_integer(r), 0);
    len = 99;
    cr_assert_null(redisx_reply_string(r, &len));
    cr_assert_eq(len, 0);
    cr_assert_null(redisx_reply_element(r, 2));
    cr_assert_null(redisx_reply_element(r, SIZE_MAX));
    redisx_reply_free(r);

    r = rt_cmd(c, 2, get_missing); /* NIL */
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_NIL);
    len = 99;
    cr_assert_null(redisx_reply_string(r, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(redisx_reply_integer(r), 0);
    cr_assert_eq(redisx_reply_elements(r), 0);
    redisx_reply_free(r);
    redisx_client_close(c);
}

/* ---- binary values ----------------------------------------------------------------- */

static void set_get_roundtrip(redisx_client *c, const char *key, size_t keylen, const char *val, size_t n)
{
    const char *set[] = {"SET", key, val};
    const size_t setl[] = {3, keylen, n};
    redisx_reply *r = NULL;
    EXPECT_OK(redisx_command(&r, c, 3, set, setl), "SET");
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    const char *get[] = {"GET", key};
    const size_t getl[] = {3, keylen};
    EXPECT_OK(redisx_command(&r, c, 2, get, getl), "GET");
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STRING);
    size_t len = 12345;
    const char *got = redisx_reply_string(r, &len);
    cr_assert_not_null(got);
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(got, val, n), 0, "bytes differ");
    cr_assert_eq(got[n], '\0', "NUL-terminated for convenience");
    redisx_reply_free(r);
}

Test(badinput, value_with_embedded_nul_bytes_is_accepted)
{
    redisx_client *c = rt_client();
    char key[64];
    rt_unique("nul", key, sizeof key);
    static const char val[] = "\0a\0\0b\0";
    set_get_roundtrip(c, key, strlen(key), val, sizeof val); /* 7 bytes, 5 of them NUL */
    redisx_client_close(c);
}

Test(badinput, one_mib_binary_value_is_accepted)
{
    redisx_client *c = rt_client();
    char key[64];
    rt_unique("mib", key, sizeof key);
    size_t n = 1u << 20;
    char *val = malloc(n);
    cr_assert_not_null(val);
    for (size_t i = 0; i < n; i++)
        val[i] = (char)(i % 251 == 0 ? 0 : i * 31); /* every byte value, many NULs */
    set_get_roundtrip(c, key, strlen(key), val, n);
    free(val);
    redisx_client_close(c);
}

Test(badinput, keys_with_embedded_nul_bytes_are_distinct)
{
    redisx_client *c = rt_client();
    char base[64];
    rt_unique("k", base, sizeof base);
    size_t b = strlen(base);
    char k1[80], k2[80];
    memcpy(k1, base, b);
    memcpy(k2, base, b);
    memcpy(k1 + b, "\0one", 4);
    memcpy(k2 + b, "\0two", 4);
    set_get_roundtrip(c, k1, b + 4, "first", 5);
    set_get_roundtrip(c, k2, b + 4, "second", 6);
    const char *get[] = {"GET", k1};
    const size_t getl[] = {3, b + 4};
    redisx_reply *r = NULL;
    EXPECT_OK(redisx_command(&r, c, 2, get, getl), "GET k1");
    cr_assert_str_eq(redisx_reply_string(r, NULL), "first", "not overwritten by the other key");
    redisx_reply_free(r);
    const char *get_prefix[] = {"GET", base}; /* the bytes before the NUL */
    r = rt_cmd(c, 2, get_prefix);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_NIL, "key not truncated at the NUL");
    redisx_reply_free(r);
    redisx_client_close(c);
}

Test(badinput, empty_value_is_accepted)
{
    redisx_client *c = rt_client();
    char key[64];
    rt_unique("empty", key, sizeof key);
    set_get_roundtrip(c, key, strlen(key), "", 0); /* explicit length 0 */
    const char *set[] = {"SET", key, ""};        /* NUL-terminated "" */
    redisx_reply_free(rt_cmd(c, 3, set));
    const char *strlen_cmd[] = {"STRLEN", key};
    redisx_reply *r = rt_cmd(c, 2, strlen_cmd);
    cr_assert_eq(redisx_reply_integer(r), 0);
    redisx_reply_free(r);
    const char *exists[] = {"EXISTS", key};
    r = rt_cmd(c, 2, exists);
    cr_assert_eq(redisx_reply_integer(r), 1, "an empty value is still a value");
    redisx_reply_free(r);
    redisx_client_close(c);
}

Test(badinput, empty_command_name_is_a_server_error_reply)
{
    redisx_client *c = rt_client();
    const char *argv[] = {""};
    redisx_reply *r = NULL;
    EXPECT_OK(redisx_command(&r, c, 1, argv, NULL), "empty name");
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_ERROR);
    size_t len = 0;
    cr_assert_not_null(redisx_reply_string(r, &len));
    cr_assert_gt(len, 0);
    redisx_reply_free(r);
    redisx_client_close(c);
}

/* ---- events and stats ------------------------------------------------------------- */

Test(badinput, event_accessors_of_null_return_empty_values)
{
    cr_assert_not_null(redisx_event_primitive(NULL));
    cr_assert_str_eq(redisx_event_primitive(NULL), "");
    cr_assert_not_null(redisx_event_operation(NULL));
    cr_assert_str_eq(redisx_event_operation(NULL), "");
    cr_assert_eq(redisx_event_status(NULL), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_event_fail_open(NULL), 0);
    cr_assert_eq(redisx_event_duration_ns(NULL), 0);
    cr_assert_eq(redisx_event_round_trips(NULL), 0);
    cr_assert_null(redisx_event_key(NULL));
}

Test(badinput, stats_accessors_of_null_return_empty_values)
{
    cr_assert_eq(redisx_stats_series(NULL), 0);
    cr_assert_null(redisx_stats_primitive(NULL, 0));
    cr_assert_null(redisx_stats_operation(NULL, 0));
    cr_assert_eq(redisx_stats_counter(NULL, 0, REDISX_COUNTER_CALLS), 0);
    cr_assert_eq(redisx_stats_client(NULL, REDISX_CLIENT_CONNECTS), 0);
    cr_assert_eq(redisx_stats_buckets(NULL), 0);
    cr_assert_eq(redisx_stats_bucket_upper_ns(NULL, 0), 0);
    cr_assert_eq(redisx_stats_bucket_count(NULL, 0, 0), 0);
    cr_assert_eq(redisx_stats_quantile_ns(NULL, 0, 0.5), 0);
    cr_assert_eq(redisx_stats_sum_ns(NULL, 0), 0);
}

Test(badinput, metrics_of_null_and_out_of_range_return_empty_values)
{
    redisx_metrics *m = (redisx_metrics *)1;
    EXPECT_ST(REDISX_ERR_INVALID, redisx_metrics_collect(NULL, rt_client()), "collect into NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_metrics_collect(&m, NULL), "collect of NULL");
    cr_assert_null(m, "a failed collect leaves *out NULL");
    redisx_metrics_free(NULL);
    cr_assert_eq(redisx_metrics_families(NULL), 0);
    cr_assert_null(redisx_metrics_name(NULL, 0));
    cr_assert_null(redisx_metrics_help(NULL, 0));
    cr_assert_null(redisx_metrics_otel_name(NULL, 0));
    cr_assert_null(redisx_client_server_address(NULL));
    cr_assert_eq(redisx_client_server_port(NULL), -1);
    cr_assert_eq(redisx_client_database(NULL), -1);
    cr_assert_null(redisx_metrics_unit(NULL, -1));
    cr_assert_eq(redisx_metrics_label_count(NULL, 0), 0);
    cr_assert_null(redisx_metrics_label_name(NULL, 0, 0));
    cr_assert_eq(redisx_metrics_samples(NULL, 0), 0);
    cr_assert_null(redisx_metrics_label_value(NULL, 0, 0, 0));
    cr_assert_eq(redisx_metrics_value(NULL, 0, 0), 0.0);
    cr_assert_eq(redisx_metrics_count(NULL, 0, 0), 0);
    cr_assert_eq(redisx_metrics_cumulative(NULL, 0, 0, 0), 0);
    EXPECT_OK(redisx_metrics_collect(&m, rt_client()), "collect");
    int n = redisx_metrics_families(m);
    cr_assert_gt(n, 0);
    const int bad[] = {-1, n, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_null(redisx_metrics_name(m, bad[i]));
        cr_assert_null(redisx_metrics_otel_name(m, bad[i]));
        cr_assert_null(redisx_metrics_unit(m, bad[i]));
        cr_assert_eq(redisx_metrics_samples(m, bad[i]), 0);
        cr_assert_null(redisx_metrics_label_value(m, bad[i], 0, 0));
        cr_assert_null(redisx_metrics_label_value(m, 0, bad[i], 0));
        cr_assert_null(redisx_metrics_label_value(m, 0, 0, bad[i]));
        cr_assert_null(redisx_metrics_label_name(m, 0, bad[i]));
        cr_assert_eq(redisx_metrics_cumulative(m, 0, 0, bad[i]), 0);
        cr_assert_eq(redisx_metrics_bucket_bound(m, bad[i]), 0.0);
    }
    redisx_metrics_free(m);
}

Test(badinput, stats_accessors_return_empty_values_out_of_range)
{
    redisx_client *c = rt_client();
    expect_ping(c); /* something in the command series */
    redisx_stats *s = NULL;
    EXPECT_OK(redisx_client_stats(&s, c), "stats");
    int series = redisx_stats_series(s), buckets = redisx_stats_buckets(s);
    cr_assert_gt(series, 0);
    cr_assert_gt(buckets, 1);
    int cmd = rt_series(s, "client", "command");
    cr_assert_eq(redisx_stats_counter(s, cmd, REDISX_COUNTER_CALLS), 1, "the in-range control");

    const int bad_series[] = {-1, series, series + 1, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_series / sizeof *bad_series; i++) {
        int k = bad_series[i];
        cr_assert_null(redisx_stats_primitive(s, k), "series %d", k);
        cr_assert_null(redisx_stats_operation(s, k), "series %d", k);
        cr_assert_eq(redisx_stats_counter(s, k, REDISX_COUNTER_CALLS), 0, "series %d", k);
        cr_assert_eq(redisx_stats_bucket_count(s, k, 0), 0, "series %d", k);
        cr_assert_eq(redisx_stats_quantile_ns(s, k, 0.5), 0, "series %d", k);
    }
    const int bad_counter[] = {-1, 7, 100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_counter / sizeof *bad_counter; i++)
        cr_assert_eq(redisx_stats_counter(s, cmd, (redisx_counter)bad_counter[i]), 0, "counter %d", bad_counter[i]);
    const int bad_client[] = {-1, 6, 100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_client / sizeof *bad_client; i++)
        cr_assert_eq(redisx_stats_client(s, (redisx_client_counter)bad_client[i]), 0, "client counter %d",
                     bad_client[i]);
    const int bad_bucket[] = {-1, buckets, buckets + 1, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad_bucket / sizeof *bad_bucket; i++) {
        cr_assert_eq(redisx_stats_bucket_upper_ns(s, bad_bucket[i]), 0, "bucket %d", bad_bucket[i]);
        cr_assert_eq(redisx_stats_bucket_count(s, cmd, bad_bucket[i]), 0, "bucket %d", bad_bucket[i]);
    }
    cr_assert_eq(redisx_stats_bucket_upper_ns(s, buckets - 1), INT64_MAX, "the last bucket is open-ended");
    const double bad_q[] = {-0.01, 1.01, -INFINITY, INFINITY, NAN, 1e300};
    for (size_t i = 0; i < sizeof bad_q / sizeof *bad_q; i++)
        cr_assert_eq(redisx_stats_quantile_ns(s, cmd, bad_q[i]), 0, "q = %g", bad_q[i]);
    cr_assert_gt(redisx_stats_quantile_ns(s, cmd, 0.0), 0, "q = 0 is in range");
    cr_assert_gt(redisx_stats_quantile_ns(s, cmd, 1.0), 0, "q = 1 is in range");
    redisx_stats_free(s);
    redisx_client_close(c);
}

/* ---- queue and items ------------------------------------------------------------------ */

Test(badinput, queue_new_rejects_null_out)
{
    EXPECT_ST(REDISX_ERR_INVALID, redisx_queue_new(NULL), "out NULL");
}

Test(badinput, queue_accessors_of_null_return_empty_values)
{
    cr_assert_eq(redisx_queue_fd(NULL), -1);
    cr_assert_eq(redisx_queue_size(NULL), 0);
}

Test(badinput, queue_pop_rejects_null_out_null_queue_and_bad_timeouts)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_queue_pop(NULL, q, 0), "out NULL");
    redisx_item *it = SENTINEL(redisx_item);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_queue_pop(&it, NULL, 0), "queue NULL");
    cr_assert_null(it);
    const int bad[] = {-2, -1000, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "timeout %d", bad[i]);
        it = SENTINEL(redisx_item);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_queue_pop(&it, q, bad[i]), label);
        cr_assert_null(it, "[%s]", label);
    }
    redisx_queue_free(q);
}

Test(badinput, queue_pop_on_an_empty_queue_returns_empty_with_its_own_message)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    const int timeouts[] = {0, 1, 20};
    enum { N = sizeof timeouts / sizeof *timeouts };
    redisx_status st[N];
    int reset[N];
    char msg[N][256];
    for (int i = 0; i < N; i++) {
        redisx_item *it = SENTINEL(redisx_item);
        poison_last_error();
        st[i] = redisx_queue_pop(&it, q, timeouts[i]);
        reset[i] = it == NULL;
        snprintf(msg[i], sizeof msg[i], "%s", redisx_last_error());
    }
    redisx_queue_free(q); /* before asserting: a failure must not also leak */
    for (int i = 0; i < N; i++) {
        char label[32];
        snprintf(label, sizeof label, "timeout %d", timeouts[i]);
        cr_assert(reset[i], "[%s] out reset to NULL", label);
        expect_status_msg(__LINE__, "redisx_queue_pop(&it, empty queue, timeout)", label, REDISX_ERR_EMPTY, st[i],
                          msg[i]);
    }
}

Test(badinput, queue_pop_after_shutdown_returns_closed)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    redisx_queue_shutdown(q);
    redisx_queue_shutdown(q); /* twice is harmless */
    const int timeouts[] = {0, 10, -1};
    for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++) {
        char label[32];
        snprintf(label, sizeof label, "timeout %d", timeouts[i]);
        redisx_item *it = SENTINEL(redisx_item);
        EXPECT_ST(REDISX_ERR_CLOSED, redisx_queue_pop(&it, q, timeouts[i]), label);
        cr_assert_null(it, "[%s]", label);
    }
    redisx_queue_free(q);
}

Test(badinput, item_accessors_of_null_return_empty_values)
{
    cr_assert_eq(redisx_item_kind_of(NULL), REDISX_ITEM_COMPLETION);
    cr_assert_null(redisx_item_user(NULL));
    cr_assert_eq(redisx_item_status(NULL), REDISX_ERR_INVALID);
    cr_assert_not_null(redisx_item_message(NULL), "never NULL");
    cr_assert_str_eq(redisx_item_message(NULL), "");
    cr_assert_eq(redisx_item_log_level(NULL), REDISX_LOG_ERROR);
    cr_assert_eq(redisx_item_state(NULL), REDISX_STATE_DISCONNECTED);
    cr_assert_eq(redisx_item_connection(NULL), -1);
    cr_assert_null(redisx_item_node(NULL));
    cr_assert_null(redisx_state_node(), "outside a state callback");
    cr_assert_null(redisx_item_event(NULL));
    cr_assert_null(redisx_item_take_lock(NULL));
    cr_assert_null(redisx_item_lock(NULL));
    cr_assert_null(redisx_item_lock_info(NULL));
    cr_assert_null(redisx_item_take_reply(NULL));
}

Test(badinput, item_accessors_of_another_kind_return_null)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_queue(o, q, 0), "queue");
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    const char *ping[] = {"PING"};
    EXPECT_OK(redisx_command_async(c, 1, ping, NULL, NULL, (void *)0x42), "into the queue");
    redisx_item *it = NULL;
    EXPECT_OK(redisx_queue_pop(&it, q, 10000), "completion");
    cr_assert_eq(redisx_item_kind_of(it), REDISX_ITEM_COMPLETION);
    cr_assert_eq(redisx_item_user(it), (void *)0x42);
    cr_assert_eq(redisx_item_status(it), REDISX_OK);
    cr_assert_str_eq(redisx_item_message(it), "");
    cr_assert_null(redisx_item_event(it), "not an event item");
    cr_assert_null(redisx_item_lock(it), "not a lock-lost item");
    cr_assert_null(redisx_item_lock_info(it), "not an inspect completion");
    cr_assert_null(redisx_item_take_lock(it), "not an acquire completion");
    redisx_reply *r = redisx_item_take_reply(it);
    cr_assert_not_null(r);
    cr_assert_null(redisx_item_take_reply(it), "moved out once");
    redisx_reply_free(r);
    redisx_item_free(it);
    redisx_client_close(c);
    redisx_queue_free(q);
}

/* ---- locks: names, TTLs, waits --------------------------------------------------------- */

Test(badinput, lock_calls_reject_null_out)
{
    redisx_client *c = rt_client();
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(NULL, c, "n", 1000, 0), "acquire");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_try_acquire(NULL, c, "n", 1000), "try_acquire");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect(NULL, c, "n"), "inspect");
    cr_assert_eq(is_locked(c, "n"), 0, "nothing was acquired");
    redisx_client_close(c);
}

Test(badinput, lock_calls_reject_a_null_client)
{
    atomic_int calls = 0;
    redisx_lock *lk = SENTINEL(redisx_lock);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, NULL, "n", 1000, 0), "acquire");
    cr_assert_null(lk);
    lk = SENTINEL(redisx_lock);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_try_acquire(&lk, NULL, "n", 1000), "try_acquire");
    cr_assert_null(lk);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(NULL, "n", 1000, 0, count_lock_cb, &calls), "async");
    redisx_lock_info *info = SENTINEL(redisx_lock_info);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect(&info, NULL, "n"), "inspect");
    cr_assert_null(info);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect_async(NULL, "n", count_info_cb, &calls), "inspect_async");
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, lock_calls_reject_null_empty_and_over_long_names)
{
    redisx_client *c = rt_client();
    char *n1025 = filled(REDISX_LOCK_NAME_MAX + 1, 'n'), *n5000 = filled(5000, 'n');
    const struct {
        const char *label;
        const char *name;
    } bad[] = {{"NULL", NULL}, {"empty", ""}, {"1025 bytes", n1025}, {"5000 bytes", n5000}};
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *label = bad[i].label;
        redisx_lock *lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, bad[i].name, 1000, 0), label);
        cr_assert_null(lk, "[%s]", label);
        lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, bad[i].name, 1000, 500), label);
        cr_assert_null(lk, "[%s]", label);
        lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_try_acquire(&lk, c, bad[i].name, 1000), label);
        cr_assert_null(lk, "[%s]", label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(c, bad[i].name, 1000, 0, count_lock_cb, &calls),
                  label);
        redisx_lock_info *info = SENTINEL(redisx_lock_info);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect(&info, c, bad[i].name), label);
        cr_assert_null(info, "[%s]", label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect_async(c, bad[i].name, count_info_cb, &calls), label);
    }
    /* Nothing was written under the truncated name either. */
    n1025[REDISX_LOCK_NAME_MAX] = '\0';
    cr_assert_eq(is_locked(c, n1025), 0);
    free(n1025);
    free(n5000);
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0, "a refused call never runs its callback");
}

Test(badinput, lock_name_of_exactly_the_maximum_length_is_accepted)
{
    redisx_client *c = rt_client();
    char *name = filled(REDISX_LOCK_NAME_MAX, 'm');
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, name, 5000, 0), "1024 bytes");
    cr_assert_str_eq(redisx_lock_name(lk), name);
    redisx_lock_info *info = inspect_ok(c, name);
    cr_assert_eq(redisx_lock_info_locked(info), 1);
    cr_assert_eq(redisx_lock_info_fencing_token(info), redisx_lock_fencing_token(lk));
    redisx_lock_info_free(info);
    EXPECT_OK(redisx_lock_release(lk), "release");
    redisx_lock_free(lk);
    free(name);
    redisx_client_close(c);
}

typedef struct key_probe {
    atomic_int events;
    atomic_size_t longest_key;
} key_probe;

static void measure_event_key(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    key_probe *k = user;
    const char *key = redisx_event_key(ev);
    if (key && strlen(key) > atomic_load(&k->longest_key))
        atomic_store(&k->longest_key, strlen(key));
    atomic_fetch_add(&k->events, 1);
}

Test(badinput, longest_prefix_and_longest_lock_name_work_together)
{
    key_probe k = {0};
    char *prefix = filled(128, 'p'), *name = filled(REDISX_LOCK_NAME_MAX, '{');
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(rt_options_url(o), "url");
    EXPECT_OK(redisx_options_set_event_keys(o, 1), "keys in events");
    EXPECT_OK(redisx_options_set_event_cb(o, measure_event_key, &k), "event cb");
    char unique[64];
    rt_unique("", unique, sizeof unique);
    memcpy(prefix + 128 - strlen(unique), unique, strlen(unique)); /* unique, still 128 bytes */
    EXPECT_OK(redisx_options_set_prefix(o, prefix), "128-byte prefix");
    redisx_client *c = NULL;
    EXPECT_OK(redisx_client_open(&c, o), "open");
    redisx_options_free(o);
    cr_assert_str_eq(redisx_client_prefix(c), prefix);

    redisx_lock *lk = NULL, *other = SENTINEL(redisx_lock);
    EXPECT_OK(redisx_lock_acquire(&lk, c, name, 5000, 0), "1024-byte name of '{'");
    EXPECT_ST(REDISX_ERR_LOCKED, redisx_lock_try_acquire(&other, c, name, 5000), "held");
    cr_assert_null(other);
    EXPECT_OK(redisx_lock_extend(lk, 6000), "extend");
    cr_assert_eq(is_locked(c, name), 1);
    EXPECT_OK(redisx_lock_release(lk), "release");
    cr_assert_str_eq(redisx_lock_name(lk), name);
    redisx_lock_free(lk);
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&k.events), 5);
    cr_assert_eq(atomic_load(&k.longest_key), REDISX_LOCK_NAME_MAX, "events carry the whole name");
    free(prefix);
    free(name);
}

Test(badinput, lock_acquire_rejects_out_of_range_ttls)
{
    redisx_client *c = rt_client();
    const int64_t bad[] = {0, -1, -86400000, INT64_MIN, REDISX_LOCK_TTL_MAX_MS + 1LL, INT64_MAX};
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[48];
        snprintf(label, sizeof label, "ttl %lld", (long long)bad[i]);
        redisx_lock *lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, "ttl", bad[i], 0), label);
        cr_assert_null(lk, "[%s]", label);
        lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_try_acquire(&lk, c, "ttl", bad[i]), label);
        cr_assert_null(lk, "[%s]", label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(c, "ttl", bad[i], 0, count_lock_cb, &calls), label);
    }
    cr_assert_eq(is_locked(c, "ttl"), 0, "nothing was acquired");
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, lock_acquire_rejects_out_of_range_waits)
{
    redisx_client *c = rt_client();
    const int64_t bad[] = {-1, -1000, INT64_MIN, REDISX_LOCK_TTL_MAX_MS + 1LL, INT64_MAX};
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[48];
        snprintf(label, sizeof label, "wait %lld", (long long)bad[i]);
        redisx_lock *lk = SENTINEL(redisx_lock);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire(&lk, c, "wait", 1000, bad[i]), label);
        cr_assert_null(lk, "[%s]", label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(c, "wait", 1000, bad[i], count_lock_cb, &calls),
                  label);
    }
    cr_assert_eq(is_locked(c, "wait"), 0, "nothing was acquired");
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, lock_acquire_accepts_the_boundary_ttls_and_waits)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "max", REDISX_LOCK_TTL_MAX_MS, REDISX_LOCK_TTL_MAX_MS), "max ttl, max wait");
    cr_assert_eq(redisx_lock_ttl_ms(lk), REDISX_LOCK_TTL_MAX_MS);
    EXPECT_OK(redisx_lock_extend(lk, 1), "extend to 1 ms");
    cr_assert_eq(redisx_lock_ttl_ms(lk), 1);
    redisx_lock_free(lk); /* expires by itself in 1 ms */
    lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "min", 1, 0), "1 ms ttl");
    cr_assert_eq(redisx_lock_ttl_ms(lk), 1);
    redisx_lock_free(lk);
    redisx_client_close(c);
}

/* ---- locks: handles ---------------------------------------------------------------- */

Test(badinput, lock_handle_calls_reject_a_null_lock)
{
    atomic_int calls = 0;
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_release(NULL), "release");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_release_async(NULL, count_status_cb, &calls), "release_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_release_async(NULL, NULL, NULL), "release_async, cb NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_extend(NULL, 1000), "extend");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_extend_async(NULL, 1000, count_status_cb, &calls), "extend_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_start_renewal(NULL, NULL, NULL), "start_renewal");
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, lock_accessors_of_null_return_empty_values)
{
    cr_assert_null(redisx_lock_name(NULL));
    cr_assert_null(redisx_lock_token(NULL));
    cr_assert_eq(redisx_lock_fencing_token(NULL), 0);
    cr_assert_eq(redisx_lock_ttl_ms(NULL), 0);
    cr_assert_eq(redisx_lock_is_fail_open(NULL), 0);
    cr_assert_eq(redisx_lock_is_lost(NULL), 0);
}

Test(badinput, lock_info_accessors_of_null_return_zero)
{
    cr_assert_eq(redisx_lock_info_locked(NULL), 0);
    cr_assert_eq(redisx_lock_info_fencing_token(NULL), 0);
    cr_assert_eq(redisx_lock_info_ttl_ms(NULL), 0);
    cr_assert_eq(redisx_lock_info_last_fencing_token(NULL), 0);
}

Test(badinput, lock_extend_rejects_out_of_range_ttls_and_keeps_the_lease_length)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "ext", 10000, 0), "acquire");
    const int64_t bad[] = {0, -1, INT64_MIN, REDISX_LOCK_TTL_MAX_MS + 1LL, INT64_MAX};
    atomic_int calls = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[48];
        snprintf(label, sizeof label, "ttl %lld", (long long)bad[i]);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_extend(lk, bad[i]), label);
        EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_extend_async(lk, bad[i], count_status_cb, &calls), label);
        cr_assert_eq(redisx_lock_ttl_ms(lk), 10000, "[%s] a refused extend leaves the lease length", label);
    }
    redisx_lock_info *info = inspect_ok(c, "ext");
    cr_assert_eq(redisx_lock_info_locked(info), 1);
    cr_assert_gt(redisx_lock_info_ttl_ms(info), 5000, "the lease was not shortened");
    redisx_lock_info_free(info);
    EXPECT_OK(redisx_lock_release(lk), "release");
    redisx_lock_free(lk);
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(badinput, lock_start_renewal_twice_is_invalid)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "renew2", 10000, 0), "acquire");
    EXPECT_OK(redisx_lock_start_renewal(lk, NULL, NULL), "first");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_start_renewal(lk, NULL, NULL), "second");
    EXPECT_OK(redisx_lock_release(lk), "release");
    redisx_lock_free(lk);
    redisx_client_close(c);
}

Test(badinput, lock_start_renewal_after_release_is_not_owner)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "renew-rel", 10000, 0), "acquire");
    EXPECT_OK(redisx_lock_release(lk), "release");
    EXPECT_ST(REDISX_ERR_NOT_OWNER, redisx_lock_start_renewal(lk, NULL, NULL), "after release");
    EXPECT_ST(REDISX_ERR_NOT_OWNER, redisx_lock_release(lk), "released twice");
    EXPECT_ST(REDISX_ERR_NOT_OWNER, redisx_lock_extend(lk, 1000), "extend after release");
    redisx_lock_free(lk);
    redisx_client_close(c);
}

/* ---- asynchronous calls with nowhere to complete ------------------------------------- */

Test(badinput, async_calls_with_null_callback_and_no_queue_are_invalid_and_have_no_effect)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "held", 10000, 0), "acquire");
    const char *ping[] = {"PING"};
    EXPECT_ST(REDISX_ERR_INVALID, redisx_command_async(c, 1, ping, NULL, NULL, NULL), "command_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(c, "free", 1000, 0, NULL, NULL), "acquire_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_acquire_async(c, "free", 1000, 1000, NULL, NULL), "acquire_async wait");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_inspect_async(c, "free", NULL, NULL), "inspect_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_release_async(lk, NULL, NULL), "release_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_lock_extend_async(lk, 20000, NULL, NULL), "extend_async");

    cr_assert_eq(is_locked(c, "free"), 0, "the refused acquire did not take the lock");
    cr_assert_eq(redisx_lock_ttl_ms(lk), 10000, "the refused extend did not change the lease length");
    EXPECT_OK(redisx_lock_start_renewal(lk, NULL, NULL), "the refused release did not mark the handle released");
    EXPECT_OK(redisx_lock_release(lk), "still the owner");
    redisx_lock_free(lk);
    cr_assert_eq(rt_counter(c, "client", "command", REDISX_COUNTER_CALLS), 0);
    cr_assert_eq(rt_counter(c, "lock", "acquire", REDISX_COUNTER_CALLS), 1);
    cr_assert_eq(rt_counter(c, "lock", "extend", REDISX_COUNTER_CALLS), 0);
    redisx_client_close(c);
}

/* ---- calls on a closed client ------------------------------------------------------------ */

Test(badinput, lock_calls_after_the_client_is_closed_return_closed)
{
    redisx_client *c = rt_client();
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s", redisx_client_prefix(c));
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "orphan", 10000, 0), "acquire");
    int64_t fence = redisx_lock_fencing_token(lk);
    char token[80];
    snprintf(token, sizeof token, "%s", redisx_lock_token(lk));
    redisx_client_close(c);

    atomic_int calls = 0;
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_release(lk), "release");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_release_async(lk, count_status_cb, &calls), "release_async");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_extend(lk, 5000), "extend");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_extend_async(lk, 5000, count_status_cb, &calls), "extend_async");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_start_renewal(lk, NULL, NULL), "start_renewal");
    cr_assert_eq(atomic_load(&calls), 0, "a refused call never runs its callback");

    /* The handle's own data stays readable until it is freed. */
    cr_assert_str_eq(redisx_lock_name(lk), "orphan");
    cr_assert_str_eq(redisx_lock_token(lk), token);
    cr_assert_eq(redisx_lock_fencing_token(lk), fence);
    cr_assert_eq(redisx_lock_ttl_ms(lk), 10000, "the refused extend left the lease length");
    cr_assert_eq(redisx_lock_is_fail_open(lk), 0);
    cr_assert_eq(redisx_lock_is_lost(lk), 0);
    redisx_lock_free(lk);

    /* CLOSED means nothing was sent: the lease is still in Redis. */
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(rt_options_url(o), "url");
    EXPECT_OK(redisx_options_set_prefix(o, prefix), "same prefix");
    redisx_client *c2 = NULL;
    EXPECT_OK(redisx_client_open(&c2, o), "second client");
    redisx_options_free(o);
    redisx_lock_info *info = inspect_ok(c2, "orphan");
    cr_assert_eq(redisx_lock_info_locked(info), 1);
    cr_assert_eq(redisx_lock_info_fencing_token(info), fence);
    redisx_lock_info_free(info);
    redisx_client_close(c2);
}

Test(badinput, renewing_lock_outlives_its_closed_client)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    EXPECT_OK(redisx_lock_acquire(&lk, c, "renewing", 300, 0), "acquire");
    EXPECT_OK(redisx_lock_start_renewal(lk, NULL, NULL), "renewal");
    rt_sleep_ms(150); /* at least one renewal has run */
    redisx_client_close(c);
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_release(lk), "release");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_extend(lk, 1000), "extend");
    cr_assert_eq(redisx_lock_is_lost(lk), 0, "close is not a loss");
    redisx_lock_free(lk); /* the last reference to the client: no leak, no use after free */
}

/* ---- blocking calls from the I/O thread ------------------------------------------------- *
 * Every test in this file that sets .timeout uses the same value: BoxFort
 * (Criterion's sandbox) loses the queued deadlines of running tests when a test
 * started later has an earlier deadline, which LeakSanitizer then reports as a
 * 48-byte leak in the runner process and the suite exits 134 under ASan. */

typedef struct probe_rec {
    const char *what;
    redisx_status st;
    int out_reset;
    char msg[256];
} probe_rec;

typedef struct probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    atomic_int armed, fired;
    redisx_lock *lk; /* held by the test thread; release/extend tried on it */
    redisx_status outer;
    redisx_status nested_submit, nested_status;
    int n;
    probe_rec r[8];
} probe;

#define PROBE_INIT {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .nested_status = 1}

static void probe_record(probe *p, const char *what, redisx_status st, int out_reset)
{
    if (p->n >= (int)(sizeof p->r / sizeof *p->r))
        return;
    probe_rec *r = &p->r[p->n++];
    const char *m = redisx_last_error();
    r->what = what;
    r->st = st;
    r->out_reset = out_reset;
    snprintf(r->msg, sizeof r->msg, "%s", m ? m : "(null)");
}

static void probe_done(probe *p)
{
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int probe_wait(probe *p, int ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (!p->done && rc == 0)
        rc = pthread_cond_timedwait(&p->cv, &p->mu, &dl);
    int done = p->done;
    pthread_mutex_unlock(&p->mu);
    return done;
}

/* Runs on the I/O thread: every blocking form must refuse at once. */
static void try_blocking_calls(redisx_client *c, probe *p)
{
    const char *ping[] = {"PING"};
    redisx_reply *r = SENTINEL(redisx_reply);
    poison_last_error();
    redisx_status st = redisx_command(&r, c, 1, ping, NULL);
    probe_record(p, "redisx_command", st, r == NULL);
    if (r && r != SENTINEL(redisx_reply))
        redisx_reply_free(r);

    redisx_lock *lk = SENTINEL(redisx_lock);
    poison_last_error();
    st = redisx_lock_acquire(&lk, c, "wb", 1000, 0);
    probe_record(p, "redisx_lock_acquire", st, lk == NULL);
    if (lk && lk != SENTINEL(redisx_lock))
        redisx_lock_free(lk);

    lk = SENTINEL(redisx_lock);
    poison_last_error();
    st = redisx_lock_try_acquire(&lk, c, "wb", 1000);
    probe_record(p, "redisx_lock_try_acquire", st, lk == NULL);
    if (lk && lk != SENTINEL(redisx_lock))
        redisx_lock_free(lk);

    redisx_lock_info *info = SENTINEL(redisx_lock_info);
    poison_last_error();
    st = redisx_lock_inspect(&info, c, "wb");
    probe_record(p, "redisx_lock_inspect", st, info == NULL);
    if (info && info != SENTINEL(redisx_lock_info))
        redisx_lock_info_free(info);

    if (p->lk) {
        poison_last_error();
        probe_record(p, "redisx_lock_release", redisx_lock_release(p->lk), 1);
        poison_last_error();
        probe_record(p, "redisx_lock_extend", redisx_lock_extend(p->lk, 5000), 1);
    }
}

static void check_probe_status(probe *p, int want_calls, redisx_status want)
{
    cr_assert_eq(p->n, want_calls, "calls tried from the callback");
    for (int i = 0; i < p->n; i++) {
        const probe_rec *r = &p->r[i];
        cr_expect_eq(r->st, want, "%s from a callback: got %s (%d), want %s: %s", r->what, name_of(r->st),
                     (int)r->st, name_of(want), r->msg);
        cr_expect(r->out_reset, "%s from a callback: out-parameter not reset to NULL", r->what);
        cr_expect(r->msg[0] != '\0', "%s from a callback: empty redisx_last_error()", r->what);
        cr_expect(!is_poison(r->msg), "%s from a callback: stale redisx_last_error(): %s", r->what, r->msg);
    }
}

static void check_probe(probe *p, int want_calls)
{
    check_probe_status(p, want_calls, REDISX_ERR_WOULDBLOCK);
}

static void nested_done(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    probe *p = user;
    redisx_reply_free(r);
    p->nested_status = st;
    probe_done(p);
}

static void blocking_in_completion(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    probe *p = user;
    redisx_reply_free(r);
    p->outer = st;
    try_blocking_calls(c, p);
    /* The asynchronous form is the way to chain work from a callback. */
    const char *ping[] = {"PING"};
    p->nested_submit = redisx_command_async(c, 1, ping, NULL, nested_done, p);
    if (p->nested_submit != REDISX_OK)
        probe_done(p);
}

Test(badinput, blocking_calls_from_a_completion_callback_return_wouldblock, .timeout = 120)
{
    redisx_client *c = rt_client();
    probe p = PROBE_INIT;
    EXPECT_OK(redisx_lock_acquire(&p.lk, c, "held", 10000, 0), "acquire");
    const char *ping[] = {"PING"};
    EXPECT_OK(redisx_command_async(c, 1, ping, NULL, blocking_in_completion, &p), "async");
    if (!probe_wait(&p, 20000))
        cr_assert_fail("the callback did not finish within 20 s: a blocking call blocked the I/O thread");
    cr_assert_eq(p.outer, REDISX_OK);
    check_probe(&p, 6);
    cr_assert_eq(p.nested_submit, REDISX_OK, "async calls are allowed from a callback");
    cr_assert_eq(p.nested_status, REDISX_OK);
    /* The refused calls changed nothing. */
    cr_assert_eq(is_locked(c, "wb"), 0, "the refused acquire took nothing");
    cr_assert_eq(redisx_lock_ttl_ms(p.lk), 10000, "the refused extend left the lease length");
    EXPECT_OK(redisx_lock_release(p.lk), "the refused release left the lock held");
    redisx_lock_free(p.lk);
    redisx_client_close(c);
}

static void blocking_in_event(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)ev;
    probe *p = user;
    if (!atomic_load(&p->armed) || atomic_exchange(&p->fired, 1))
        return;
    try_blocking_calls(c, p);
    probe_done(p);
}

Test(badinput, blocking_calls_from_an_event_callback_return_wouldblock, .timeout = 120)
{
    probe p = PROBE_INIT;
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_event_cb(o, blocking_in_event, &p), "event cb");
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    EXPECT_OK(redisx_lock_acquire(&p.lk, c, "held", 10000, 0), "acquire");
    atomic_store(&p.armed, 1);
    const char *ping[] = {"PING"};
    redisx_reply *r = NULL;
    EXPECT_OK(redisx_command(&r, c, 1, ping, NULL), "the operation whose event runs the probe");
    redisx_reply_free(r);
    if (!probe_wait(&p, 20000))
        cr_assert_fail("the event callback did not finish within 20 s");
    check_probe(&p, 6);
    EXPECT_OK(redisx_lock_release(p.lk), "release");
    redisx_lock_free(p.lk);
    redisx_client_close(c);
}

static void blocking_in_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)conn;
    (void)detail;
    probe *p = user;
    if (st != REDISX_STATE_CONNECTED || atomic_exchange(&p->fired, 1))
        return;
    try_blocking_calls(c, p);
    probe_done(p);
}

Test(badinput, blocking_calls_from_a_state_callback_return_wouldblock, .timeout = 120)
{
    probe p = PROBE_INIT;
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_state_cb(o, blocking_in_state, &p), "state cb");
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    if (!probe_wait(&p, 20000))
        cr_assert_fail("the state callback did not finish within 20 s");
    check_probe(&p, 4);
    redisx_client_close(c);
}

/* Closing from a callback returns at once; the client stays valid until the
 * callback returns, and everything asked of it meanwhile is refused. */
static void close_in_completion(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    probe *p = user;
    redisx_reply_free(r);
    p->outer = st;
    redisx_client_close(c);
    atomic_int calls = 0; /* no callback may run: checked below, before returning */
    const char *ping[] = {"PING"};
    redisx_reply *rr = SENTINEL(redisx_reply);
    poison_last_error();
    redisx_status s = redisx_command(&rr, c, 1, ping, NULL);
    probe_record(p, "redisx_command", s, rr == NULL);
    poison_last_error();
    s = redisx_command_async(c, 1, ping, NULL, count_reply_cb, &calls);
    probe_record(p, "redisx_command_async", s, 1);
    redisx_lock *lk = SENTINEL(redisx_lock);
    poison_last_error();
    s = redisx_lock_acquire(&lk, c, "after-close", 1000, 0);
    probe_record(p, "redisx_lock_acquire", s, lk == NULL);
    poison_last_error();
    s = redisx_lock_acquire_async(c, "after-close", 1000, 0, count_lock_cb, &calls);
    probe_record(p, "redisx_lock_acquire_async", s, 1);
    poison_last_error();
    s = redisx_lock_inspect_async(c, "after-close", count_info_cb, &calls);
    probe_record(p, "redisx_lock_inspect_async", s, 1);
    poison_last_error();
    s = redisx_lock_release_async(p->lk, count_status_cb, &calls);
    probe_record(p, "redisx_lock_release_async", s, 1);
    poison_last_error();
    s = redisx_lock_extend(p->lk, 5000);
    probe_record(p, "redisx_lock_extend", s, 1);
    p->nested_status = atomic_load(&calls) == 0 ? REDISX_OK : REDISX_ERR_INVALID;
    probe_done(p);
}

Test(badinput, client_calls_after_close_from_a_callback_return_closed, .timeout = 120)
{
    redisx_client *c = rt_client();
    probe p = PROBE_INIT;
    EXPECT_OK(redisx_lock_acquire(&p.lk, c, "held", 10000, 0), "acquire");
    const char *ping[] = {"PING"};
    EXPECT_OK(redisx_command_async(c, 1, ping, NULL, close_in_completion, &p), "async");
    if (!probe_wait(&p, 20000))
        cr_assert_fail("the callback did not finish within 20 s: close from a callback blocked");
    cr_assert_eq(p.outer, REDISX_OK);
    check_probe_status(&p, 7, REDISX_ERR_CLOSED);
    cr_assert_eq(p.nested_status, REDISX_OK, "a refused call ran its callback");
    /* The I/O thread finishes the close by itself; the handle outlives it. */
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_release(p.lk), "release after close");
    cr_assert_eq(redisx_lock_ttl_ms(p.lk), 10000);
    redisx_lock_free(p.lk);
    rt_sleep_ms(100); /* let the detached I/O thread exit before the worker does */
}

/* ---- the detail a completion carries --------------------------------------------------- */

/* An event callback whose own redisx calls fail must not change the detail the
 * completion that follows it carries. */
static void failing_calls_in_event(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    (void)ev;
    (void)user;
    poison_last_error();
}

typedef struct completion_rec {
    atomic_int done;
    redisx_status st;
    char msg[256];
} completion_rec;

static void record_completion_detail(completion_rec *rec, redisx_status st)
{
    const char *m = redisx_last_error();
    rec->st = st;
    snprintf(rec->msg, sizeof rec->msg, "%s", m ? m : "(null)");
    atomic_store(&rec->done, 1);
}

static void record_lock_completion(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    redisx_lock_free(lk);
    record_completion_detail(user, st);
}

static void record_reply_completion(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    redisx_reply_free(r);
    record_completion_detail(user, st);
}

static int wait_done(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms && !atomic_load(flag); i++)
        rt_sleep_ms(1);
    return atomic_load(flag);
}

Test(badinput, completion_detail_survives_an_event_callback_whose_calls_fail, .timeout = 120)
{
    redisx_queue *q = NULL;
    EXPECT_OK(redisx_queue_new(&q), "queue");
    redisx_options *o = NULL;
    EXPECT_OK(redisx_options_new(&o), "options");
    EXPECT_OK(redisx_options_set_event_cb(o, failing_calls_in_event, NULL), "event cb");
    EXPECT_OK(redisx_options_set_queue(o, q, 0), "queue");
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    redisx_lock *holder = NULL;
    EXPECT_OK(redisx_lock_acquire(&holder, c, "held", 10000, 0), "holder");

    /* Blocking form: the detail comes back to the calling thread. */
    redisx_lock *lk = SENTINEL(redisx_lock);
    EXPECT_ST(REDISX_ERR_LOCKED, redisx_lock_acquire(&lk, c, "held", 1000, 0), "blocking");
    cr_assert_null(lk);

    /* Callback form: the detail is the thread's last error inside the callback. */
    completion_rec locked = {0}, ok = {0};
    EXPECT_OK(redisx_lock_acquire_async(c, "held", 1000, 0, record_lock_completion, &locked), "async");
    cr_assert(wait_done(&locked.done, 20000), "no completion within 20 s");
    cr_assert_eq(locked.st, REDISX_ERR_LOCKED, "got %s: %s", name_of(locked.st), locked.msg);
    cr_assert_str_neq(locked.msg, "", "empty detail in the completion callback");
    cr_assert(!is_poison(locked.msg), "the event callback's error leaked into the completion: %s", locked.msg);
    const char *ping[] = {"PING"};
    EXPECT_OK(redisx_command_async(c, 1, ping, NULL, record_reply_completion, &ok), "async ping");
    cr_assert(wait_done(&ok.done, 20000), "no completion within 20 s");
    cr_assert_eq(ok.st, REDISX_OK);
    cr_assert_str_eq(ok.msg, "", "a successful completion carries no detail");

    /* Queue form: the detail is the item's message. */
    EXPECT_OK(redisx_lock_acquire_async(c, "held", 1000, 0, NULL, (void *)0x7), "queued");
    redisx_item *it = NULL;
    EXPECT_OK(redisx_queue_pop(&it, q, 20000), "pop");
    cr_assert_eq(redisx_item_status(it), REDISX_ERR_LOCKED);
    cr_assert_null(redisx_item_take_lock(it));
    cr_assert_str_neq(redisx_item_message(it), "", "empty detail in the queue item");
    cr_assert(!is_poison(redisx_item_message(it)), "the event callback's error leaked into the item: %s",
              redisx_item_message(it));
    redisx_item_free(it);

    EXPECT_OK(redisx_lock_release(holder), "release");
    redisx_lock_free(holder);
    redisx_client_close(c);
    redisx_queue_free(q);
}

/* ---- 0.3: shutdown and cancel ------------------------------------------------ */

Test(badinput, cancel_of_a_null_client_is_invalid_and_of_an_unknown_user_is_a_no_op)
{
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cancel(NULL, NULL), "NULL client");
    redisx_client *c = rt_client();
    int nobody;
    cr_assert_eq(redisx_cancel(c, &nobody), REDISX_OK, "unknown user");
    cr_assert_eq(redisx_cancel(c, NULL), REDISX_OK, "NULL user");
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping));
    redisx_client_close(c);
}

Test(badinput, a_shut_down_client_answers_closed_until_it_is_closed)
{
    redisx_client *c = rt_client();
    redisx_client_shutdown(c);
    redisx_client_shutdown(c); /* idempotent */
    const char *ping[] = {"PING"};
    redisx_reply *r = NULL;
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_command(&r, c, 1, ping, NULL), "command");
    cr_assert_null(r);
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cancel(c, NULL), "cancel");
    redisx_lock *lk = NULL;
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_lock_try_acquire(&lk, c, "x", 1000), "try_acquire");
    cr_assert_null(lk);
    cr_assert_not_null(redisx_client_prefix(c), "the handle is still valid");
    redisx_client_close(c);
}
