/* redisx core — the circuit breaker's state machine (docs/RESILIENCE.md).
 * Pure logic, no locking: conn.c keeps one per standalone client and one per
 * cluster node, and touches it under the loop lock only. */
#ifndef REDISX_CORE_BREAKER_H
#define REDISX_CORE_BREAKER_H

#include <stdint.h>

typedef enum redisx__breaker_state {
    REDISX__BREAKER_CLOSED = 0, /* calls go through; failures are counted */
    REDISX__BREAKER_OPEN = 1, /* calls fail at once until open_until */
    REDISX__BREAKER_HALF_OPEN = 2 /* one probe call is out; the others fail at once */
} redisx__breaker_state;

typedef struct redisx__breaker_cfg {
    int threshold; /* failures within window_ns that open it; 0: no breaker */
    uint64_t window_ns;
    uint64_t open_ns; /* how long it stays open before a probe */
} redisx__breaker_cfg;

typedef struct redisx__breaker {
    redisx__breaker_state state;
    int failures; /* since first_ns, with no success in between */
    uint64_t first_ns;
    /* OPEN: when a probe may go out. HALF_OPEN: when another probe may go
     * out (the first one's outcome never came: e.g. it was cancelled). */
    uint64_t open_until;
} redisx__breaker;

/* A failure (a connection lost or not made, a command timed out). Returns 1
 * when it opened the breaker (from CLOSED after `threshold` failures within
 * the window, or from HALF_OPEN at once), else 0. */
int redisx__breaker_failure(redisx__breaker *b, const redisx__breaker_cfg *cfg, uint64_t now);
/* A success (any reply from the server, a handshake completed). Returns 1
 * when it closed an open or half-open breaker. */
int redisx__breaker_success(redisx__breaker *b);
/* Whether a call may go out now: always when CLOSED (or without a breaker);
 * when OPEN only once open_until has passed, as the probe (HALF_OPEN). */
int redisx__breaker_admit(redisx__breaker *b, const redisx__breaker_cfg *cfg, uint64_t now);

#endif
