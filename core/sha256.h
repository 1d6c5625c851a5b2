/* SHA-256 (FIPS 180-4) for the HTTP request fingerprint (core/http.c): the
 * core's own, so that fingerprints need no crypto library in builds without
 * TLS. Not for secrets: no constant-time care, no zeroisation. */
#ifndef REDISX_SHA256_H
#define REDISX_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define REDISX__SHA256_LEN 32

typedef struct redisx__sha256 {
    uint32_t h[8];
    uint64_t bytes; /* message length so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} redisx__sha256;

void redisx__sha256_init(redisx__sha256 *s);
void redisx__sha256_update(redisx__sha256 *s, const void *p, size_t n);
void redisx__sha256_final(redisx__sha256 *s, uint8_t out[REDISX__SHA256_LEN]);

#endif
