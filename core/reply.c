/* Our reply type (hiredis' never leaves conn.c). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void redisx__reply_free(redisx_reply *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->cap; i++) /* a partial array has fewer */
        redisx__reply_free(r->element[i]);
    free(r->element);
    if (r->str != (char *)(r + 1)) /* strings are allocated with the reply */
        free(r->str);
    free(r);
}

bool redisx__reply_is_error(const redisx_reply *r, const char *prefix)
{
    if (!r || r->type != REDISX_REPLY_ERROR)
        return false;
    size_t n = strlen(prefix);
    return r->len >= n && memcmp(r->str, prefix, n) == 0;
}

/* Integer element i of an array reply, or `fallback`. */
int64_t redisx__reply_int_at(const redisx_reply *r, size_t i, int64_t fallback)
{
    if (!r || r->type != REDISX_REPLY_ARRAY || i >= r->elements || r->element[i]->type != REDISX_REPLY_INTEGER)
        return fallback;
    return r->element[i]->integer;
}

bool redisx__connection_failure(redisx_status st)
{
    return st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_AUTH;
}

redisx_status redisx__unexpected_reply(const redisx_reply *r, const char *script)
{
    if (r && r->type == REDISX_REPLY_ERROR)
        return redisx__fail(REDISX_ERR_SERVER, "%s: %s", script, r->str);
    return redisx__fail(REDISX_ERR_PROTOCOL, "%s: unexpected reply type %d", script, r ? (int)r->type : -1);
}
