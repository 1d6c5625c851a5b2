/* Interop worker, C side (built by run.sh against the installed library with
 * pkg-config). Same command lines and output as worker.py, worker.js and
 * go/main.go for the rate-limit and idempotency modes:
 *
 *   rl-sequence URL PREFIX ALGORITHM      the canonical sequence (docs/KEYS.md)
 *   rl-share URL PREFIX ALGORITHM N CONC  N checks on key "shared", CONC threads;
 *                                         prints "ALLOWED <count>"
 *   idem-dup URL PREFIX KEY M             M concurrent duplicate requests;
 *                                         prints M lines "RESP <response>"
 *   idem-hold URL PREFIX KEY LEASE_MS     begins, prints "STARTED <STATE>", hangs
 *   idem-begin URL PREFIX KEY LEASE_MS WAIT_MS
 *                                         prints "<STATE> <taken_over>"
 *   http-fingerprint URL PREFIX METHOD TARGET BODY
 *                                         the hex fingerprint of that request
 *   http-dump URL PREFIX LANG             the HTTP answers of the situations
 *                                         worker.py's http_dump goes through,
 *                                         built by the core's redisx_http_*
 *                                         (the reference run.sh compares the
 *                                         middlewares of the others with) */
#include <redisx/redisx.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const alg_names[] = {"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"};
static const char *const state_names[] = {"NEW", "IN_PROGRESS", "COMPLETED", "MISMATCH"};

static redisx_client *client;

static void die(const char *what, redisx_status st)
{
    fprintf(stderr, "worker.c: %s: %s: %s\n", what, redisx_strerror(st), redisx_last_error());
    exit(1);
}

static void ok(redisx_status st, const char *what)
{
    if (st != REDISX_OK)
        die(what, st);
}

/* "InvalidArgument" etc.: the class names every binding uses. */
static const char *error_class(redisx_status st)
{
    switch (st) {
    case REDISX_ERR_INVALID:
        return "InvalidArgument";
    case REDISX_ERR_TIMEOUT:
        return "Timeout";
    case REDISX_ERR_CONNECTION:
        return "ConnectionError";
    default:
        return redisx_status_name(st);
    }
}

static redisx_limiter *limiter(const char *name, const char *alg, int64_t limit, int64_t period_ms)
{
    for (int a = 0; a < 5; a++) {
        if (strcmp(alg, alg_names[a]) == 0) {
            redisx_limiter *lim = NULL;
            ok(redisx_limiter_new(&lim, client, name, (redisx_ratelimit_algorithm)a, limit, period_ms, 0), "limiter");
            return lim;
        }
    }
    fprintf(stderr, "worker.c: unknown algorithm %s\n", alg);
    exit(2);
}

static void print_check(redisx_limiter *lim, const char *op, int64_t cost)
{
    redisx_ratelimit_result *r = NULL;
    redisx_status st =
        strcmp(op, "peek") == 0 ? redisx_limiter_peek(&r, lim, "k") : redisx_limiter_check(&r, lim, "k", cost);
    if (st != REDISX_OK) {
        printf("%s %lld %s\n", op, (long long)cost, error_class(st));
        return;
    }
    int64_t retry = redisx_ratelimit_result_retry_after_ms(r);
    printf("%s %lld %d %lld %lld %s\n", op, (long long)cost, redisx_ratelimit_result_allowed(r),
           (long long)redisx_ratelimit_result_limit(r), (long long)redisx_ratelimit_result_remaining(r),
           retry == -1 ? "-" : retry > 0 ? "+" : "?");
    redisx_ratelimit_result_free(r);
}

static void rl_sequence(const char *alg)
{
    char name[64];
    snprintf(name, sizeof name, "seq-%s", alg);
    redisx_limiter *lim = limiter(name, alg, 5, 3600000);
    ok(redisx_limiter_reset(lim, "k"), "reset");
    printf("reset\n");
    for (int i = 0; i < 7; i++)
        print_check(lim, "check", 1);
    print_check(lim, "peek", 1);
    ok(redisx_limiter_reset(lim, "k"), "reset");
    printf("reset\n");
    print_check(lim, "peek", 1);
    const int64_t costs[] = {3, 3, 2, 6};
    for (int i = 0; i < 4; i++)
        print_check(lim, "check", costs[i]);
    redisx_limiter_free(lim);
}

typedef struct share_job {
    redisx_limiter *lim;
    int n;
    int allowed;
} share_job;

static void *share(void *arg)
{
    share_job *job = arg;
    for (int i = 0; i < job->n; i++) {
        redisx_ratelimit_result *r = NULL;
        ok(redisx_limiter_check(&r, job->lim, "shared", 1), "check");
        job->allowed += redisx_ratelimit_result_allowed(r);
        redisx_ratelimit_result_free(r);
    }
    return NULL;
}

static void rl_share(const char *alg, int n, int conc)
{
    char name[64];
    snprintf(name, sizeof name, "share-%s", alg);
    redisx_limiter *lim = limiter(name, alg, 30, 3600000);
    pthread_t th[64];
    share_job jobs[64];
    if (conc < 1 || conc > 64)
        conc = 1;
    for (int i = 0; i < conc; i++) {
        jobs[i] = (share_job){lim, n / conc + (i < n % conc), 0};
        pthread_create(&th[i], NULL, share, &jobs[i]);
    }
    int allowed = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
        allowed += jobs[i].allowed;
    }
    printf("ALLOWED %d\n", allowed);
    redisx_limiter_free(lim);
}

typedef struct dup_job {
    const char *key, *prefix;
    char response[128];
} dup_job;

static void *duplicate(void *arg)
{
    dup_job *job = arg;
    redisx_idem *rec = NULL;
    ok(redisx_idem_begin(&rec, client, job->key, "same-request", 12, 10000, 20000), "begin");
    if (redisx_idem_state_of(rec) == REDISX_IDEM_NEW) {
        char counter[256];
        snprintf(counter, sizeof counter, "%s:executions", job->prefix);
        const char *incr[] = {"INCR", counter};
        redisx_reply *r = NULL;
        ok(redisx_command(&r, client, 2, incr, NULL), "INCR");
        redisx_reply_free(r);
        struct timespec ts = {0, 300000000};
        nanosleep(&ts, NULL);
        snprintf(job->response, sizeof job->response, "c-%d", (int)getpid());
        ok(redisx_idem_complete(rec, job->response, strlen(job->response), "m", 1, 60000), "complete");
    } else if (redisx_idem_state_of(rec) == REDISX_IDEM_COMPLETED) {
        size_t n = 0;
        const char *resp = redisx_idem_response(rec, &n);
        snprintf(job->response, sizeof job->response, "%.*s", (int)n, resp);
    } else {
        fprintf(stderr, "worker.c: begin answered %s\n", state_names[redisx_idem_state_of(rec)]);
        exit(1);
    }
    redisx_idem_free(rec);
    return NULL;
}

static void idem_dup(const char *prefix, const char *key, int m)
{
    pthread_t *th = calloc((size_t)m, sizeof *th);
    dup_job *jobs = calloc((size_t)m, sizeof *jobs);
    for (int i = 0; i < m; i++) {
        jobs[i].key = key;
        jobs[i].prefix = prefix;
        pthread_create(&th[i], NULL, duplicate, &jobs[i]);
    }
    for (int i = 0; i < m; i++) {
        pthread_join(th[i], NULL);
        printf("RESP %s\n", jobs[i].response);
    }
    free(th);
    free(jobs);
}

/* ---- http-dump: the canonical lines of worker.py's http_dump ---------------- */

static const char *const dump_headers[] = {"content-type", "idempotent-replayed", "retry-after",
                                           "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dump_hex(const void *p, size_t n)
{
    const unsigned char *b = p;
    if (!n)
        fputs("-", stdout);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

/* `extra` is the handler's own Content-Type (NULL: none) for answers that
 * are headers only (an allowed rate-limit check); `status` overrides a 0. */
static void dump_answer(const char *name, redisx_http_response *r, int status, const char *extra, const char *body)
{
    char *lines[16];
    size_t n = 0;
    if (extra) {
        lines[n] = malloc(strlen(extra) + 16);
        sprintf(lines[n++], "content-type=%s", extra);
    }
    for (size_t i = 0; i < redisx_http_response_header_count(r) && n < 16; i++) {
        char k[64];
        const char *name_i = redisx_http_response_header_name(r, i), *v = redisx_http_response_header_value(r, i);
        size_t j = 0;
        for (; name_i[j] && j < sizeof k - 1; j++)
            k[j] = (char)(name_i[j] >= 'A' && name_i[j] <= 'Z' ? name_i[j] - 'A' + 'a' : name_i[j]);
        k[j] = '\0';
        int keep = 0;
        for (size_t d = 0; d < sizeof dump_headers / sizeof *dump_headers; d++)
            keep |= strcmp(k, dump_headers[d]) == 0;
        if (!keep)
            continue;
        if (!strcmp(k, "retry-after") || !strcmp(k, "x-ratelimit-reset")) {
            long s = atol(v);
            if (s > 3600 || (!strcmp(k, "retry-after") && s < 1)) {
                fprintf(stderr, "worker.c: %s: %s out of range: %s\n", name, k, v);
                exit(1);
            }
            v = "N";
        }
        lines[n] = malloc(strlen(k) + strlen(v) + 2);
        sprintf(lines[n++], "%s=%s", k, v);
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    printf("%s %d ", name, redisx_http_response_status(r) ? redisx_http_response_status(r) : status);
    for (size_t i = 0; i < n; i++) {
        printf("%s%s", i ? "|" : "", lines[i]);
        free(lines[i]);
    }
    if (!n)
        fputs("-", stdout);
    putchar(' ');
    size_t bl = 0;
    const char *b = body ? body : redisx_http_response_body(r, &bl);
    dump_hex(b, body ? strlen(body) : bl);
    putchar('\n');
    redisx_http_response_free(r);
}

static redisx_idem *dump_begin(const char *key, const unsigned char *fp, int64_t lease_ms)
{
    redisx_idem *rec = NULL;
    ok(redisx_idem_begin(&rec, client, key, fp, REDISX_HTTP_FINGERPRINT_LEN, lease_ms, 0), "begin");
    return rec;
}

static void dump_idem_answer(const char *name, redisx_idem *rec)
{
    redisx_http_response *r = NULL;
    size_t ml = 0, rl = 0;
    const char *meta = redisx_idem_metadata(rec, &ml), *resp = redisx_idem_response(rec, &rl);
    ok(redisx_http_idem_answer(&r, redisx_idem_state_of(rec), redisx_idem_remaining_ms(rec), meta, ml, resp, rl),
       "answer");
    dump_answer(name, r, 0, NULL, NULL);
    redisx_idem_free(rec);
}

static void http_dump(const char *lang)
{
    static const char body[] = "{\"amount\":\"10 \xe2\x82\xac\"}", other[] = "another body";
    static const char type[] = "application/json; charset=utf-8", target[] = "/orders?id=7";
    char ns[64], key[REDISX_HTTP_OUT_MAX], meta[REDISX_HTTP_METADATA_MAX], big[1101];
    unsigned char fp[REDISX_HTTP_FINGERPRINT_LEN], fp_other[REDISX_HTTP_FINGERPRINT_LEN];
    size_t n, kl, ml;
    redisx_http_response *r = NULL;
    snprintf(ns, sizeof ns, "dump-%s", lang);
    ok(redisx_http_fingerprint(fp, sizeof fp, &n, "POST", target, strlen(target), body, strlen(body)), "fp");
    ok(redisx_http_fingerprint(fp_other, sizeof fp_other, &n, "POST", target, strlen(target), other, strlen(other)),
       "fp");

    ok(redisx_http_key_required(&r), "required");
    dump_answer("required", r, 0, NULL, NULL);
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    if (redisx_http_record_key(key, sizeof key, &kl, ns, big, strlen(big)) != REDISX_ERR_INVALID) {
        fprintf(stderr, "worker.c: a 1100-byte key was accepted\n");
        exit(1);
    }
    ok(redisx_http_key_invalid(&r), "invalid");
    dump_answer("invalid", r, 0, NULL, NULL);

    ok(redisx_http_record_key(key, sizeof key - 1, &kl, ns, "k1", 2), "key");
    key[kl] = '\0';
    redisx_idem *rec = dump_begin(key, fp, 30000);
    if (redisx_idem_state_of(rec) != REDISX_IDEM_NEW) {
        fprintf(stderr, "worker.c: k1 is not NEW\n");
        exit(1);
    }
    ok(redisx_http_metadata(meta, sizeof meta, &ml, 201, type, strlen(type)), "metadata");
    ok(redisx_idem_complete(rec, "{\"id\":7}", 8, meta, ml, 86400000), "complete");
    redisx_idem_free(rec);
    printf("first 201 content-type=%s ", type);
    dump_hex("{\"id\":7}", 8);
    putchar('\n');
    dump_idem_answer("replay", dump_begin(key, fp, 30000));
    dump_idem_answer("mismatch", dump_begin(key, fp_other, 30000));
    char key2[128];
    snprintf(key2, sizeof key2, "%s:k2", ns);
    redisx_idem_free(dump_begin(key2, fp, 600000));
    dump_idem_answer("in-progress", dump_begin(key2, fp, 30000));
    rec = dump_begin(key, fp, 30000);
    printf("metadata %s ", state_names[redisx_idem_state_of(rec)]);
    const char *m = redisx_idem_metadata(rec, &ml);
    dump_hex(m, ml);
    putchar('\n');
    redisx_idem_free(rec);

    redisx_limiter *lim = NULL;
    ok(redisx_limiter_new(&lim, client, ns, REDISX_RATELIMIT_FIXED_WINDOW, 1, 3600000, 0), "limiter");
    for (int i = 0; i < 2; i++) {
        redisx_ratelimit_result *res = NULL;
        ok(redisx_limiter_check(&res, lim, "10.0.0.1", 1), "check");
        ok(redisx_http_ratelimit_answer(&r, redisx_ratelimit_result_allowed(res), redisx_ratelimit_result_limit(res),
                                        redisx_ratelimit_result_remaining(res), redisx_ratelimit_result_reset_ms(res),
                                        redisx_ratelimit_result_retry_after_ms(res)),
           "ratelimit answer");
        if (redisx_http_response_status(r) == 0)
            dump_answer("rl-allowed", r, 200, "text/plain", "ok");
        else
            dump_answer("rl-denied", r, 0, NULL, NULL);
        redisx_ratelimit_result_free(res);
    }
    redisx_limiter_free(lim);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: worker MODE URL PREFIX ...\n");
        return 2;
    }
    const char *mode = argv[1], *prefix = argv[3];
    redisx_options *o = NULL;
    ok(redisx_options_new(&o), "options");
    ok(redisx_options_set_url(o, argv[2]), "url");
    ok(redisx_options_set_prefix(o, prefix), "prefix");
    ok(redisx_options_set_command_timeout_ms(o, 10000), "timeout");
    ok(redisx_client_open(&client, o), "open");
    redisx_options_free(o);
    if (strcmp(mode, "rl-sequence") == 0 && argc == 5) {
        rl_sequence(argv[4]);
    } else if (strcmp(mode, "rl-share") == 0 && argc == 7) {
        rl_share(argv[4], atoi(argv[5]), atoi(argv[6]));
    } else if (strcmp(mode, "idem-dup") == 0 && argc == 6) {
        idem_dup(prefix, argv[4], atoi(argv[5]));
    } else if (strcmp(mode, "idem-hold") == 0 && argc == 6) {
        redisx_idem *rec = NULL;
        ok(redisx_idem_begin(&rec, client, argv[4], "crash", 5, atoll(argv[5]), 0), "begin");
        printf("STARTED %s\n", state_names[redisx_idem_state_of(rec)]);
        fflush(stdout);
        for (;;)
            pause();
    } else if (strcmp(mode, "idem-begin") == 0 && argc == 7) {
        redisx_idem *rec = NULL;
        ok(redisx_idem_begin(&rec, client, argv[4], "crash", 5, atoll(argv[5]), atoll(argv[6])), "begin");
        redisx_idem_state s = redisx_idem_state_of(rec);
        printf("%s %d\n", state_names[s], redisx_idem_taken_over(rec));
        if (s == REDISX_IDEM_NEW)
            ok(redisx_idem_complete(rec, "done-c", 6, "", 0, 60000), "complete");
        redisx_idem_free(rec);
    } else if (strcmp(mode, "http-fingerprint") == 0 && argc == 7) {
        unsigned char fp[REDISX_HTTP_FINGERPRINT_LEN];
        size_t n = 0;
        ok(redisx_http_fingerprint(fp, sizeof fp, &n, argv[4], argv[5], strlen(argv[5]), argv[6], strlen(argv[6])),
           "fingerprint");
        for (size_t i = 0; i < n; i++)
            printf("%02x", fp[i]);
        putchar('\n');
    } else if (strcmp(mode, "http-dump") == 0 && argc == 5) {
        http_dump(argv[4]);
    } else {
        fprintf(stderr, "worker.c: unknown mode or arguments: %s\n", mode);
        return 2;
    }
    fflush(stdout);
    redisx_client_close(client);
    return 0;
}
