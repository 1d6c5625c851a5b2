/* Against a cluster-enabled node (one node serving every slot): every key
 * one script touches hashes to one slot, whatever the prefix and the name
 * (docs/KEYS.md, "Layout"). A script whose keys span slots fails there with
 * CROSSSLOT, and CLUSTER KEYSLOT of every key it left behind must agree. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static redisx_reply *cmd(redisx_client *c, int argc, const char **argv, const size_t *lens)
{
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, argc, argv, lens);
    cr_assert_eq(st, REDISX_OK, "%s: %s", argv[0], redisx_last_error());
    cr_assert_neq(redisx_reply_type_of(r), REDISX_REPLY_ERROR, "%s: %s", argv[0], redisx_reply_string(r, NULL));
    return r;
}

/* Asserts that the keys in the database all hash to one slot and that there
 * are `want` of them. */
static void assert_keys_share_a_slot(redisx_client *c, size_t want, const char *what)
{
    const char *keys[] = {"KEYS", "*"};
    redisx_reply *r = cmd(c, 2, keys, NULL);
    size_t n = redisx_reply_elements(r);
    cr_assert_eq(n, want, "%s: %zu keys, expected %zu", what, n, want);
    int64_t slot = -1;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *k = redisx_reply_string(redisx_reply_element(r, i), &len);
        const char *argv[] = {"CLUSTER", "KEYSLOT", k};
        size_t lens[] = {7, 7, len};
        redisx_reply *s = cmd(c, 3, argv, lens);
        if (slot < 0)
            slot = redisx_reply_integer(s);
        cr_assert_eq(redisx_reply_integer(s), slot, "%s: key %.*s is on another slot", what, (int)len, k);
        redisx_reply_free(s);
    }
    redisx_reply_free(r);
}

static void flush(redisx_client *c)
{
    const char *argv[] = {"FLUSHALL"};
    redisx_reply_free(cmd(c, 1, argv, NULL));
}

static void exercise(redisx_client *c, const char *name)
{
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&lk, c, name, 60000), REDISX_OK, "lock: %s", redisx_last_error());
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, name), REDISX_OK, "inspect: %s", redisx_last_error());
    cr_assert_eq(redisx_lock_info_fencing_token(info), redisx_lock_fencing_token(lk));
    redisx_lock_info_free(info);
    assert_keys_share_a_slot(c, 2, "lock lease and fence");
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(lk);
    flush(c);

    for (int alg = REDISX_RATELIMIT_FIXED_WINDOW; alg <= REDISX_RATELIMIT_GCRA; alg++) {
        redisx_limiter *lim = NULL;
        cr_assert_eq(redisx_limiter_new(&lim, c, "api", (redisx_ratelimit_algorithm)alg, 5, 60000, 0), REDISX_OK);
        redisx_ratelimit_result *res = NULL;
        cr_assert_eq(redisx_limiter_check(&res, lim, name, 2), REDISX_OK, "algorithm %d: %s", alg,
                     redisx_last_error());
        cr_assert(redisx_ratelimit_result_allowed(res));
        redisx_ratelimit_result_free(res);
        assert_keys_share_a_slot(c, alg == REDISX_RATELIMIT_SLIDING_LOG ? 2 : 1, "rate limit keys");
        flush(c);
        redisx_limiter_free(lim);
    }

    redisx_idem *rec = NULL;
    cr_assert_eq(redisx_idem_begin(&rec, c, name, "fp", 2, 60000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_complete(rec, "r", 1, "m", 1, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    assert_keys_share_a_slot(c, 1, "idempotency record");
    flush(c);
}

Test(cluster, every_key_of_one_script_shares_a_slot_for_adversarial_names, .timeout = 600)
{
    rt_server s;
    cr_assert_eq(rt_server_start_cluster(&s), 0, "cannot start a cluster-enabled redis-server");
    const char *names[] = {"}bob", "{}", "{", "}", "~", "~7d626f62", "{{}}", "}}}", "a}b", "a{b}c", "{a}",
                           "ordinary", "\xff", "{\x01}", "~~"};
    const char *prefixes[] = {"redisx", "~", "p:q", "a*b"};
    char big[1025];
    memset(big, '}', 1024);
    big[1024] = '\0';
    char all[256];
    for (int b = 1; b < 256; b++)
        all[b - 1] = (char)b;
    all[255] = '\0';
    for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++) {
        redisx_client *c = rt_client_on(&s, prefixes[p]);
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            exercise(c, names[i]);
        exercise(c, big);
        exercise(c, all);
        char one[2] = {0};
        for (int b = 1; b < 256; b++) {
            one[0] = (char)b;
            exercise(c, one);
        }
        redisx_client_close(c);
    }
    rt_server_stop(&s);
}

Test(cluster, a_prefix_with_a_brace_is_refused)
{
    const char *bad[] = {"{}", "a{}b", "{app}", "x}", "{"};
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(redisx_options_set_prefix(o, bad[i]), REDISX_ERR_INVALID, "%s", bad[i]);
        cr_assert(strstr(redisx_last_error(), "'{' or '}'"), "%s", redisx_last_error());
    }
    redisx_options_free(o);
}
