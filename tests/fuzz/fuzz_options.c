/* The options builder: every public redisx_options_set_* with fuzzed strings
 * and integers, in an order the input chooses, on one or two handles (or
 * NULL), then the deep copy a client makes at open, then free. After every
 * call the handle must hold only values its setters accept, and a refused
 * call must leave it unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t byte(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t u64(input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | byte(in);
    return v;
}

/* Small values hit the range edges, large ones the rest. */
static int64_t i64(input *in)
{
    uint8_t kind = byte(in);
    switch (kind % 4) {
    case 0:
        return (int8_t)byte(in);
    case 1:
        return 3600000 + (int8_t)byte(in);
    case 2:
        return (int64_t)(int8_t)byte(in) * 1000;
    default:
        return (int64_t)u64(in);
    }
}

/* A string of up to 255 bytes (or, one time in 16, a 4090..4100-byte one),
 * or NULL. Fresh allocation, so ASan sees reads past its end. */
static char *str(input *in)
{
    uint8_t len = byte(in);
    if (len == 0xFF)
        return NULL;
    size_t n = len;
    if (len >= 0xF0)
        n = 4090 + (len - 0xF0);
    char *s = malloc(n + 1);
    CHECK(s);
    for (size_t i = 0; i < n; i++)
        s[i] = len >= 0xF0 ? (char)('a' + i % 26) : (char)byte(in);
    s[n] = '\0';
    return s;
}

static void on_event(redisx_client *c, const redisx_event *e, void *u)
{
    (void)c, (void)e, (void)u;
}
static void on_log(redisx_client *c, redisx_log_level l, const char *m, void *u)
{
    (void)c, (void)l, (void)m, (void)u;
}
static void on_state(redisx_client *c, int conn, redisx_conn_state s, const char *d, void *u)
{
    (void)c, (void)conn, (void)s, (void)d, (void)u;
}

static void check_sane(const redisx_options *o)
{
    CHECK(o->ep.host);
    CHECK(o->connect_timeout_ms >= 1 && o->connect_timeout_ms <= 3600000);
    CHECK(o->command_timeout_ms >= 1 && o->command_timeout_ms <= 3600000);
    CHECK(o->prefix && o->prefix[0] && strlen(o->prefix) <= 128);
    CHECK(o->connections >= 1 && o->connections <= 64);
    CHECK(o->backoff_min_ms >= 1 && o->backoff_min_ms <= o->backoff_max_ms && o->backoff_max_ms <= 3600000);
    for (int i = 0; i < 4; i++)
        CHECK(o->fail_policy[i] == REDISX_FAIL_OPEN || o->fail_policy[i] == REDISX_FAIL_CLOSED);
    CHECK(o->log_level >= REDISX_LOG_DEBUG && o->log_level <= REDISX_LOG_ERROR);
    CHECK((o->queue_what & ~0xFu) == 0);
    CHECK(o->queue || o->queue_what == 0);
    CHECK(!o->auth_user || strlen(o->auth_user) <= 4096);
    CHECK(!o->auth_password || strlen(o->auth_password) <= 4096);
}

/* What a refused call must not touch (pointers compared: no reallocation). */
typedef struct snap {
    redisx__endpoint ep;
    char *auth_user, *auth_password, *prefix;
    int64_t ct, cmt, bmin, bmax;
    int connections, log_level;
    redisx_fail_policy fp[4];
    redisx_queue *queue;
    unsigned what;
} snap;

static snap take(const redisx_options *o)
{
    snap s = {o->ep, o->auth_user, o->auth_password, o->prefix, o->connect_timeout_ms, o->command_timeout_ms,
              o->backoff_min_ms, o->backoff_max_ms, o->connections, (int)o->log_level,
              {o->fail_policy[0], o->fail_policy[1], o->fail_policy[2], o->fail_policy[3]}, o->queue,
              o->queue_what};
    return s;
}

static void check_unchanged(const snap *s, const redisx_options *o)
{
    snap t = take(o);
    CHECK(s->ep.is_unix == t.ep.is_unix && s->ep.host == t.ep.host && s->ep.port == t.ep.port &&
          s->ep.db == t.ep.db && s->ep.user == t.ep.user && s->ep.password == t.ep.password);
    CHECK(s->auth_user == t.auth_user && s->auth_password == t.auth_password && s->prefix == t.prefix);
    CHECK(s->ct == t.ct && s->cmt == t.cmt && s->bmin == t.bmin && s->bmax == t.bmax);
    CHECK(s->connections == t.connections && s->log_level == t.log_level);
    for (int i = 0; i < 4; i++)
        CHECK(s->fp[i] == t.fp[i]);
    CHECK(s->queue == t.queue && s->what == t.what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    redisx_options *h[2] = {NULL, NULL};
    /* One queue for the whole run (an eventfd per input would dominate). */
    static redisx_queue *q;
    if (!q)
        CHECK(redisx_queue_new(&q) == REDISX_OK);
    CHECK(redisx_options_new(&h[0]) == REDISX_OK);
    CHECK(redisx_options_new(&h[1]) == REDISX_OK);

    for (int steps = 0; in.n && steps < 64; steps++) {
        uint8_t op = byte(&in);
        /* One call in 16 gets a NULL handle. */
        redisx_options *o = (op & 0xF0) == 0xF0 ? NULL : h[op >> 7 & 1];
        snap before = {0};
        if (o)
            before = take(o);
        redisx_status st = REDISX_OK;
        char *a = NULL, *b = NULL;
        switch (op % 15) {
        case 0:
            a = str(&in);
            st = redisx_options_set_url(o, a);
            break;
        case 1:
            a = str(&in);
            b = str(&in);
            st = redisx_options_set_auth(o, a, b);
            break;
        case 2:
            st = redisx_options_set_connect_timeout_ms(o, i64(&in));
            break;
        case 3:
            st = redisx_options_set_command_timeout_ms(o, i64(&in));
            break;
        case 4:
            a = str(&in);
            st = redisx_options_set_prefix(o, a);
            break;
        case 5:
            st = redisx_options_set_connections(o, (int)i64(&in));
            break;
        case 6: {
            int64_t lo = i64(&in);
            st = redisx_options_set_reconnect_backoff_ms(o, lo, i64(&in));
            break;
        }
        case 7: {
            int prim = (int)i64(&in);
            st = redisx_options_set_fail_policy(o, (redisx_primitive)prim, (redisx_fail_policy)i64(&in));
            break;
        }
        case 8:
            st = redisx_options_set_event_cb(o, byte(&in) & 1 ? on_event : NULL, &in);
            break;
        case 9:
            st = redisx_options_set_event_keys(o, (int)i64(&in));
            break;
        case 10: {
            redisx_log_cb cb = byte(&in) & 1 ? on_log : NULL;
            st = redisx_options_set_log_cb(o, cb, (redisx_log_level)i64(&in), &in);
            break;
        }
        case 11:
            st = redisx_options_set_state_cb(o, byte(&in) & 1 ? on_state : NULL, &in);
            break;
        case 12: {
            redisx_queue *which = byte(&in) & 1 ? q : NULL;
            st = redisx_options_set_queue(o, which, (unsigned)i64(&in));
            break;
        }
        case 13: /* a client's copy at open, replacing the other handle's state */
            if (o) {
                redisx_options *other = h[!(op >> 7 & 1)];
                redisx__options_clear(other);
                CHECK(redisx__options_copy(other, o) == REDISX_OK);
                check_sane(other);
            }
            break;
        default: /* start over with a fresh handle */
            if (o) {
                int i = op >> 7 & 1;
                redisx_options_free(h[i]);
                CHECK(redisx_options_new(&h[i]) == REDISX_OK);
                o = NULL;
            }
            break;
        }
        free(a);
        free(b);
        if (!o && op % 15 <= 12)
            CHECK(st == REDISX_ERR_INVALID);
        if (st != REDISX_OK) {
            CHECK(st == REDISX_ERR_INVALID || st == REDISX_ERR_URL || st == REDISX_ERR_NOMEM);
            CHECK(redisx_last_error()[0] != '\0');
        }
        if (!o)
            continue;
        check_sane(o);
        if (st != REDISX_OK)
            check_unchanged(&before, o);
    }
    redisx_options_free(h[0]);
    redisx_options_free(h[1]);
    return 0;
}
