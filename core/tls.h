/* redisx core — TLS under a connection's socket (tls.c, the only file that
 * includes OpenSSL). Private: the public headers stay free of OpenSSL types.
 *
 * The socket stays the connection's own (non-blocking, polled by conn.c);
 * OpenSSL only frames and encrypts. Every call here is non-blocking and
 * reports what it waits for as a poll event (POLLIN or POLLOUT) in *want,
 * with errno = EAGAIN. Without REDISX_WITH_TLS these are stubs that fail:
 * a client never gets that far, as rediss:// and redisx_options_set_tls()
 * are refused first. */
#ifndef REDISX_CORE_TLS_H
#define REDISX_CORE_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "internal.h"

typedef struct redisx__tls_ctx redisx__tls_ctx;
typedef struct redisx__tls redisx__tls;

/* The client's TLS context from its options: protocol floor (TLS 1.2), CA
 * file/dir (else the system's store), client certificate and key, and
 * whether certificates are verified. REDISX_ERR_INVALID naming the file and
 * OpenSSL's reason when something cannot be loaded. */
redisx_status redisx__tls_ctx_new(redisx__tls_ctx **out, const redisx_options *o);
void redisx__tls_ctx_free(redisx__tls_ctx *ctx);

/* A TLS session over the connected socket fd, for `host` (the URL's host or
 * the server-name option): SNI unless it is an IP literal, and the name the
 * certificate must carry unless hostname verification is off. NULL with
 * detail on failure. */
redisx__tls *redisx__tls_new(redisx__tls_ctx *ctx, int fd, const char *host, char *detail, size_t dlen);
/* Frees it; sends close_notify first if the session is sound (one
 * non-blocking attempt: a dead peer never makes it wait). NULL: no-op. */
void redisx__tls_free(redisx__tls *t);

/* Drives the handshake: 1 when done, 0 when it waits for *want, -1 with
 * detail (verification failures name their reason). */
int redisx__tls_handshake(redisx__tls *t, short *want, char *detail, size_t dlen);
/* Like recv(): > 0 bytes, 0 when the server closed, -1 with errno EAGAIN
 * (and *want) or with detail. */
ssize_t redisx__tls_recv(redisx__tls *t, void *buf, size_t n, short *want, char *detail, size_t dlen);
/* Like send(): > 0 bytes written (possibly fewer than n), -1 with errno
 * EAGAIN (and *want) or with detail. After EAGAIN the next call must pass
 * the same bytes again, at least as many (the buffer may have moved). */
ssize_t redisx__tls_send(redisx__tls *t, const void *buf, size_t n, short *want, char *detail, size_t dlen);
/* Decrypted or received bytes held inside OpenSSL that poll() cannot see. */
int redisx__tls_pending(const redisx__tls *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for the logs. */
const char *redisx__tls_describe(const redisx__tls *t, char *buf, size_t n);

#endif
