/* redisx core — the circuit breaker's state machine (see breaker.h). */
#include "breaker.h"

int redisx__breaker_failure(redisx__breaker *b, const redisx__breaker_cfg *cfg, uint64_t now)
{
    if (cfg->threshold <= 0)
        return 0;
    switch (b->state) {
    case REDISX__BREAKER_OPEN:
        return 0; /* what fails while open changes nothing: the probe decides */
    case REDISX__BREAKER_HALF_OPEN:
        break; /* the probe (or anything else) failed: open again */
    case REDISX__BREAKER_CLOSED:
        if (b->failures == 0 || now - b->first_ns > cfg->window_ns) {
            b->failures = 0;
            b->first_ns = now;
        }
        if (++b->failures < cfg->threshold)
            return 0;
        break;
    }
    b->state = REDISX__BREAKER_OPEN;
    b->failures = 0;
    b->open_until = now + cfg->open_ns;
    return 1;
}

int redisx__breaker_success(redisx__breaker *b)
{
    b->failures = 0;
    if (b->state == REDISX__BREAKER_CLOSED)
        return 0;
    b->state = REDISX__BREAKER_CLOSED;
    return 1;
}

int redisx__breaker_admit(redisx__breaker *b, const redisx__breaker_cfg *cfg, uint64_t now)
{
    if (cfg->threshold <= 0 || b->state == REDISX__BREAKER_CLOSED)
        return 1;
    if (now < b->open_until)
        return 0;
    b->state = REDISX__BREAKER_HALF_OPEN;
    b->open_until = now + cfg->open_ns;
    return 1;
}
