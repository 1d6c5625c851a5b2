/* Exported: the options builder, every setter checking its arguments. */
#include <stdlib.h>

#include "ffi.h"

#define OPTS_REQUIRED(o) REDISX_FFI_REQUIRE((o) != NULL, "options handle is NULL")

redisx_status redisx_options_new(redisx_options **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_options *o = malloc(sizeof *o);
    if (!o)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    redisx_status st = redisx__options_init(o);
    if (st != REDISX_OK) {
        free(o);
        return st;
    }
    *out = o;
    return REDISX_OK;
}

void redisx_options_free(redisx_options *opts)
{
    if (!opts)
        return;
    redisx__options_clear(opts);
    free(opts);
}

redisx_status redisx_options_set_url(redisx_options *opts, const char *url)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(url != NULL, "url is NULL");
    return redisx__parse_url(&opts->ep, url);
}

redisx_status redisx_options_set_cluster_seeds(redisx_options *opts, const char *seeds)
{
    OPTS_REQUIRED(opts);
    return redisx__parse_seeds(&opts->ep, seeds);
}

redisx_status redisx_options_set_sentinels(redisx_options *opts, const char *master_name, const char *sentinels)
{
    OPTS_REQUIRED(opts);
    return redisx__parse_sentinels(&opts->ep, master_name, sentinels);
}

redisx_status redisx_options_set_sentinel_auth(redisx_options *opts, const char *user, const char *password)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(!user || strlen(user) <= 4096, "user longer than 4096 bytes");
    REDISX_FFI_REQUIRE(!password || strlen(password) <= 4096, "password longer than 4096 bytes");
    if (user && !*user)
        user = NULL; /* "" is no user (bindings without NULL strings) */
    REDISX_FFI_REQUIRE(!user || (password && *password), "a sentinel ACL user needs a password");
    if (password && !*password)
        password = NULL; /* as in a URL: an empty password means no AUTH */
    char *u = redisx__strdup(user), *p = redisx__strdup(password);
    if ((user && !u) || (password && !p)) {
        free(u);
        free(p);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    free(opts->sentinel_user);
    free(opts->sentinel_password);
    opts->sentinel_user = u;
    opts->sentinel_password = p;
    return REDISX_OK;
}

redisx_status redisx_options_set_auth(redisx_options *opts, const char *user, const char *password)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(!user || strlen(user) <= 4096, "user longer than 4096 bytes");
    REDISX_FFI_REQUIRE(!password || strlen(password) <= 4096, "password longer than 4096 bytes");
    const char *orig_password = password;
    if (password && !*password)
        password = NULL, user = NULL; /* an empty password means no AUTH, as in a URL */
    char *u = redisx__strdup(user), *p = redisx__strdup(password);
    if ((user && !u) || (password && !p)) {
        free(u);
        free(p);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    free(opts->auth_user);
    free(opts->auth_password);
    opts->auth_user = u;
    opts->auth_password = p;
    opts->auth_set = user || password || (orig_password && !*orig_password);
    return REDISX_OK;
}

static redisx_status ms_in_range(int64_t ms, int64_t lo, const char *what)
{
    if (ms < lo || ms > 3600000)
        return redisx__fail(REDISX_ERR_INVALID, "%s must be in %lld..3600000 ms, got %lld", what, (long long)lo,
                            (long long)ms);
    return REDISX_OK;
}

redisx_status redisx_options_set_connect_timeout_ms(redisx_options *opts, int64_t ms)
{
    OPTS_REQUIRED(opts);
    redisx_status st = ms_in_range(ms, 1, "connect timeout");
    if (st == REDISX_OK)
        opts->connect_timeout_ms = ms;
    return st;
}

redisx_status redisx_options_set_command_timeout_ms(redisx_options *opts, int64_t ms)
{
    OPTS_REQUIRED(opts);
    redisx_status st = ms_in_range(ms, 1, "command timeout");
    if (st == REDISX_OK)
        opts->command_timeout_ms = ms;
    return st;
}

redisx_status redisx_options_set_prefix(redisx_options *opts, const char *prefix)
{
    OPTS_REQUIRED(opts);
    redisx_status st = redisx__ffi_name(prefix, 128, "prefix");
    if (st != REDISX_OK)
        return st;
    /* A brace would move or empty the hash tag of every key (docs/KEYS.md). */
    REDISX_FFI_REQUIRE(!strchr(prefix, '{') && !strchr(prefix, '}'), "prefix must not contain '{' or '}'");
    char *p = redisx__strdup(prefix);
    if (!p)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    free(opts->prefix);
    opts->prefix = p;
    return REDISX_OK;
}

redisx_status redisx_options_set_connections(redisx_options *opts, int n)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(n >= 1 && n <= 64, "connections must be in 1..64, got %d", n);
    opts->connections = n;
    return REDISX_OK;
}

redisx_status redisx_options_set_reconnect_backoff_ms(redisx_options *opts, int64_t min_ms, int64_t max_ms)
{
    OPTS_REQUIRED(opts);
    redisx_status st = ms_in_range(min_ms, 1, "minimum backoff");
    if (st == REDISX_OK)
        st = ms_in_range(max_ms, 1, "maximum backoff");
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(min_ms <= max_ms, "minimum backoff %lld ms exceeds maximum %lld ms", (long long)min_ms,
                       (long long)max_ms);
    opts->backoff_min_ms = min_ms;
    opts->backoff_max_ms = max_ms;
    return REDISX_OK;
}

redisx_status redisx_options_set_circuit_breaker(redisx_options *opts, int failures, int64_t window_ms,
                                                int64_t open_ms)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(failures >= 0 && failures <= 1000000, "circuit breaker failures must be in 0..1000000, got %d",
                       failures);
    redisx_status st = ms_in_range(window_ms, 1, "circuit breaker window");
    if (st == REDISX_OK)
        st = ms_in_range(open_ms, 1, "circuit breaker open time");
    if (st != REDISX_OK)
        return st;
    opts->breaker_failures = failures;
    opts->breaker_window_ms = window_ms;
    opts->breaker_open_ms = open_ms;
    return REDISX_OK;
}

redisx_status redisx_options_set_busy_poll_us(redisx_options *opts, int64_t us)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(us >= 0 && us <= 100000, "busy poll must be in 0..100000 us, got %lld", (long long)us);
    opts->busy_poll_us = us;
    return REDISX_OK;
}

redisx_status redisx_options_set_cache_tracking_bcast(redisx_options *opts, int on)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(on == 0 || on == 1, "cache tracking BCAST mode must be 0 or 1, got %d", on);
    opts->tracking_bcast = on;
    return REDISX_OK;
}

redisx_status redisx_options_set_fail_policy(redisx_options *opts, redisx_primitive primitive,
                                             redisx_fail_policy policy)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(primitive == REDISX_PRIMITIVE_LOCK || primitive == REDISX_PRIMITIVE_RATELIMIT ||
                           primitive == REDISX_PRIMITIVE_IDEMPOTENCY || primitive == REDISX_PRIMITIVE_CACHE,
                       "no fail policy for primitive %d", (int)primitive);
    REDISX_FFI_REQUIRE(policy == REDISX_FAIL_OPEN || policy == REDISX_FAIL_CLOSED, "unknown fail policy %d",
                       (int)policy);
    opts->fail_policy[primitive] = policy;
    return REDISX_OK;
}

redisx_status redisx_options_set_event_cb(redisx_options *opts, redisx_event_cb cb, void *user)
{
    OPTS_REQUIRED(opts);
    opts->event_cb = cb;
    opts->event_user = cb ? user : NULL;
    return REDISX_OK;
}

redisx_status redisx_options_set_event_keys(redisx_options *opts, int enabled)
{
    OPTS_REQUIRED(opts);
    opts->event_keys = enabled != 0;
    return REDISX_OK;
}

redisx_status redisx_options_set_log_cb(redisx_options *opts, redisx_log_cb cb, redisx_log_level min_level,
                                        void *user)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(min_level >= REDISX_LOG_DEBUG && min_level <= REDISX_LOG_ERROR, "unknown log level %d",
                       (int)min_level);
    opts->log_cb = cb;
    opts->log_user = user;
    opts->log_level = min_level;
    return REDISX_OK;
}

redisx_status redisx_options_set_state_cb(redisx_options *opts, redisx_state_cb cb, void *user)
{
    OPTS_REQUIRED(opts);
    opts->state_cb = cb;
    opts->state_user = cb ? user : NULL;
    return REDISX_OK;
}

redisx_status redisx_options_set_queue(redisx_options *opts, redisx_queue *queue, unsigned what)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE((what & ~0xFu) == 0, "unknown queue flags 0x%x", what);
    if (queue)
        redisx__queue_ref(queue);
    if (opts->queue)
        redisx__queue_unref(opts->queue);
    opts->queue = queue;
    opts->queue_what = queue ? what : 0;
    return REDISX_OK;
}

/* ---- TLS (0.4) ---- */

redisx_status redisx_options_set_tls(redisx_options *opts, int enabled)
{
    OPTS_REQUIRED(opts);
    if (enabled && !redisx__tls_available())
        return redisx__fail(REDISX_ERR_INVALID, "TLS is not supported by this build");
    opts->tls_set = 1;
    opts->tls_on = enabled != 0;
    return REDISX_OK;
}

/* Replaces *slot with a copy of value (NULL clears); a path of 1..4096
 * bytes. */
static redisx_status set_path(char **slot, const char *value, const char *what)
{
    REDISX_FFI_REQUIRE(!value || (*value && strlen(value) <= 4096), "%s must be 1..4096 bytes (NULL clears)", what);
    char *v = redisx__strdup(value);
    if (value && !v)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    free(*slot);
    *slot = v;
    return REDISX_OK;
}

redisx_status redisx_options_set_tls_ca_file(redisx_options *opts, const char *path)
{
    OPTS_REQUIRED(opts);
    return set_path(&opts->tls_ca_file, path, "TLS CA file");
}

redisx_status redisx_options_set_tls_ca_dir(redisx_options *opts, const char *path)
{
    OPTS_REQUIRED(opts);
    return set_path(&opts->tls_ca_dir, path, "TLS CA directory");
}

redisx_status redisx_options_set_tls_client_cert(redisx_options *opts, const char *cert_file, const char *key_file)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(cert_file || !key_file, "a TLS client key needs its certificate");
    char *cert = NULL, *key = NULL;
    redisx_status st = set_path(&cert, cert_file, "TLS client certificate file");
    if (st == REDISX_OK)
        st = set_path(&key, key_file, "TLS client key file");
    if (st != REDISX_OK) {
        free(cert);
        return st;
    }
    free(opts->tls_cert_file);
    free(opts->tls_key_file);
    opts->tls_cert_file = cert;
    opts->tls_key_file = key;
    return REDISX_OK;
}

redisx_status redisx_options_set_tls_server_name(redisx_options *opts, const char *name)
{
    OPTS_REQUIRED(opts);
    REDISX_FFI_REQUIRE(!name || strlen(name) <= 253, "TLS server name longer than 253 bytes");
    return set_path(&opts->tls_server_name, name, "TLS server name");
}

redisx_status redisx_options_set_tls_verify_hostname(redisx_options *opts, int enabled)
{
    OPTS_REQUIRED(opts);
    opts->tls_verify_hostname = enabled != 0;
    return REDISX_OK;
}

redisx_status redisx_options_set_tls_insecure_skip_verify(redisx_options *opts, int insecure)
{
    OPTS_REQUIRED(opts);
    opts->tls_insecure = insecure != 0;
    return REDISX_OK;
}
