/* bench/floor.c: the same lock cycle over bare synchronous hiredis. */
#ifndef REDISX_BENCH_FLOOR_H
#define REDISX_BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_floor bench_floor;

/* NULL with the reason in `why` when the URL is not a plain
 * redis://host:port[/db] or unix://path, or the server cannot be used. */
bench_floor *bench_floor_open(const char *url, const char *prefix, char *why, size_t why_len);
void bench_floor_close(bench_floor *fl);

/* One acquire + release of `name` (keys under the floor's own prefix);
 * returns its duration in ns measured with `now`. Exits on any failure. */
uint64_t bench_floor_lock_cycle(bench_floor *fl, const char *name, int ttl_ms, uint64_t (*now)(void));
/* One SET key xxx; its duration in ns. */
uint64_t bench_floor_set(bench_floor *fl, const char *key, uint64_t (*now)(void));
/* calls and usec of `command` in INFO commandstats (0, 0 if absent). */
int bench_floor_commandstat(bench_floor *fl, const char *command, uint64_t *calls, uint64_t *usec);
/* Deletes the floor's keys of `name`. */
void bench_floor_cleanup(bench_floor *fl, const char *name);

#endif
