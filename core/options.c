/* Options: defaults, deep copy, release. Setters with their argument checks
 * are the exported entry points in ffi/options.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

redisx_status redisx__options_init(redisx_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 2000;
    o->command_timeout_ms = 1000;
    o->connections = 1;
    o->backoff_min_ms = 50;
    o->backoff_max_ms = 2000;
    o->breaker_window_ms = 10000; /* used once redisx_options_set_circuit_breaker turns it on */
    o->breaker_open_ms = 1000;
    o->log_level = REDISX_LOG_WARN;
    o->tls_verify_hostname = 1;
    o->fail_policy[REDISX_PRIMITIVE_CLIENT] = REDISX_FAIL_CLOSED;
    o->fail_policy[REDISX_PRIMITIVE_LOCK] = REDISX_FAIL_CLOSED;
    o->fail_policy[REDISX_PRIMITIVE_RATELIMIT] = REDISX_FAIL_OPEN; /* availability over enforcement */
    o->fail_policy[REDISX_PRIMITIVE_IDEMPOTENCY] = REDISX_FAIL_CLOSED;
    o->fail_policy[REDISX_PRIMITIVE_CACHE] = REDISX_FAIL_OPEN; /* a cache miss is a slow answer, not a wrong one */
    o->prefix = redisx__strdup("redisx");
    o->ep.host = redisx__strdup("127.0.0.1");
    o->ep.port = 6379;
    if (!o->prefix || !o->ep.host) {
        redisx__options_clear(o);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    return REDISX_OK;
}

void redisx__options_clear(redisx_options *o)
{
    redisx__endpoint_clear(&o->ep);
    free(o->auth_user);
    free(o->auth_password);
    free(o->prefix);
    free(o->tls_ca_file);
    free(o->tls_ca_dir);
    free(o->tls_cert_file);
    free(o->tls_key_file);
    free(o->tls_server_name);
    free(o->sentinel_user);
    free(o->sentinel_password);
    if (o->queue)
        redisx__queue_unref(o->queue);
    memset(o, 0, sizeof *o);
}

redisx_status redisx__options_copy(redisx_options *dst, const redisx_options *src)
{
    redisx_options o = *src;
    o.ep = (redisx__endpoint){0};
    o.auth_user = redisx__strdup(src->auth_user);
    o.auth_password = redisx__strdup(src->auth_password);
    o.prefix = redisx__strdup(src->prefix);
    o.tls_ca_file = redisx__strdup(src->tls_ca_file);
    o.tls_ca_dir = redisx__strdup(src->tls_ca_dir);
    o.tls_cert_file = redisx__strdup(src->tls_cert_file);
    o.tls_key_file = redisx__strdup(src->tls_key_file);
    o.tls_server_name = redisx__strdup(src->tls_server_name);
    o.sentinel_user = redisx__strdup(src->sentinel_user);
    o.sentinel_password = redisx__strdup(src->sentinel_password);
    o.queue = NULL;
    if (redisx__endpoint_copy(&o.ep, &src->ep) != REDISX_OK || (src->auth_user && !o.auth_user) ||
        (src->auth_password && !o.auth_password) || !o.prefix || (src->tls_ca_file && !o.tls_ca_file) ||
        (src->tls_ca_dir && !o.tls_ca_dir) || (src->tls_cert_file && !o.tls_cert_file) ||
        (src->tls_key_file && !o.tls_key_file) || (src->tls_server_name && !o.tls_server_name) ||
        (src->sentinel_user && !o.sentinel_user) || (src->sentinel_password && !o.sentinel_password)) {
        redisx__options_clear(&o);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    if (src->queue) {
        redisx__queue_ref(src->queue);
        o.queue = src->queue;
    }
    *dst = o;
    return REDISX_OK;
}
