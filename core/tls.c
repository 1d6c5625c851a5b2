/* TLS with OpenSSL under the connection layer's own sockets (see tls.h).
 *
 * hiredis 0.14 (Debian 12) has no TLS, and the core uses hiredis only for
 * RESP: the sockets, poll() and the write buffers are conn.c's. So TLS sits
 * between conn.c's buffers and the socket: conn.c calls redisx__tls_send /
 * _recv instead of send / recv when the client speaks TLS, on the I/O
 * thread and on a blocking caller's thread alike (never both at once: a
 * connection is either the loop's or borrowed). The socket is reached
 * through a BIO of our own that calls send(MSG_NOSIGNAL) and recv(), so a
 * peer that went away never raises SIGPIPE (OpenSSL's socket BIO uses
 * write()), exactly as the plain path. */
#include "tls.h"

#ifdef REDISX_WITH_TLS

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct redisx__tls_ctx {
    SSL_CTX *ctx;
    BIO_METHOD *bio; /* per client: no process-wide state of ours */
    int verify; /* certificates checked (not insecure_skip_verify) */
    int verify_hostname;
};

struct redisx__tls {
    SSL *ssl;
    int established; /* handshake done */
    int broken; /* a fatal error: no close_notify (OpenSSL forbids it) */
};

int redisx__tls_available(void)
{
    return 1;
}

/* ---- the socket BIO: send(MSG_NOSIGNAL) / recv on conn.c's fd ---- */

static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *buf, int len)
{
    ssize_t n;
    do
        n = send(bio_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    ssize_t n;
    do
        n = recv(bio_fd(b), buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* the socket has no buffer of ours */
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- errors ---- */

/* OpenSSL's first queued reason, with a hint for the usual mistakes; the
 * queue is emptied (it is per thread, and a stale entry would confuse the
 * next SSL_get_error on this thread). */
static void describe_error(SSL *ssl, const char *what, char *detail, size_t dlen)
{
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    char rbuf[64];
    if (e && !reason) {
        snprintf(rbuf, sizeof rbuf, "OpenSSL error 0x%lx", e);
        reason = rbuf;
    }
    if (!reason)
        reason = "unknown TLS error";
    const char *hint = "";
    long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    char vbuf[160] = "";
    if (e && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK) {
        snprintf(vbuf, sizeof vbuf, ": %s", X509_verify_cert_error_string(vr));
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            hint = " (the certificate names another host: see redisx_options_set_tls_server_name)";
        else
            hint = " (not signed by a trusted CA: see redisx_options_set_tls_ca_file)";
    } else if (e &&
               (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER || ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG)) {
        hint = " (is the server speaking TLS on that port? plain servers take redis://)";
    } else if (e && (ERR_GET_REASON(e) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
                     ERR_GET_REASON(e) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) {
        hint = " (the server may require a client certificate: see redisx_options_set_tls_client_cert)";
    }
    snprintf(detail, dlen, "TLS %s: %s%s%s", what, reason, vbuf, hint);
    ERR_clear_error();
}

/* OpenSSL's first queued reason alone, for set-up errors; empties the queue. */
static const char *last_reason(char *buf, size_t n)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(buf, n, "%s", r);
    else if (e)
        snprintf(buf, n, "OpenSSL error 0x%lx", e);
    else
        snprintf(buf, n, "%s", errno ? strerror(errno) : "unknown error");
    ERR_clear_error();
    return buf;
}

/* The outcome of an SSL_* call that returned ret <= 0. Returns -1 with
 * errno EAGAIN and *want, 0 for a closed connection, or -1 with detail. */
static int tls_outcome(redisx__tls *t, int ret, short *want, const char *what, char *detail, size_t dlen)
{
    int saved = errno;
    int err = SSL_get_error(t->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        ERR_clear_error();
        *want = POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        *want = POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        t->broken = 1; /* the peer sent close_notify: nothing more to say */
        return 0;
    case SSL_ERROR_SYSCALL:
        t->broken = 1;
        if (ERR_peek_error() == 0) {
            if (ret == 0 || saved == 0)
                return 0; /* EOF without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF) */
            snprintf(detail, dlen, "TLS %s: %s", what, strerror(saved));
            errno = saved ? saved : EIO;
            return -1;
        }
        describe_error(t->ssl, what, detail, dlen);
        errno = EPROTO;
        return -1;
    default:
        t->broken = 1;
        describe_error(t->ssl, what, detail, dlen);
        errno = EPROTO;
        return -1;
    }
}

/* ---- the context ---- */

/* A key file asking for a passphrase must fail, not prompt on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

redisx_status redisx__tls_ctx_new(redisx__tls_ctx **out, const redisx_options *o)
{
    *out = NULL;
    char detail[REDISX__DETAIL];
    redisx__tls_ctx *t = calloc(1, sizeof *t);
    if (!t)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    t->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "redisx socket");
    if (!t->ctx || !t->bio || !BIO_meth_set_write(t->bio, bio_write) || !BIO_meth_set_read(t->bio, bio_read) ||
        !BIO_meth_set_ctrl(t->bio, bio_ctrl) || !BIO_meth_set_create(t->bio, bio_create)) {
        redisx__fail(REDISX_ERR_NOMEM, "TLS set-up: %s", last_reason(detail, sizeof detail));
        redisx__tls_ctx_free(t);
        return REDISX_ERR_NOMEM;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    /* The write buffer may grow and move between a WANT_WRITE and its retry
     * (conn.c passes the same bytes again); partial writes let a large
     * buffer go out record by record. */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* RESP frames itself: a close without close_notify cannot truncate a
     * reply unnoticed, and servers often close that way. */
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF /* OpenSSL 3; 1.1.1 reports such an EOF as SSL_ERROR_SYSCALL, errno 0 */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
    t->verify = !o->tls_insecure;
    t->verify_hostname = o->tls_verify_hostname;
    redisx_status st = REDISX_ERR_INVALID;
    if (o->tls_ca_dir) {
        struct stat sb;
        if (stat(o->tls_ca_dir, &sb) != 0) {
            redisx__fail(st, "TLS CA directory %s: %s", o->tls_ca_dir, strerror(errno));
            goto fail;
        }
        if (!S_ISDIR(sb.st_mode)) {
            redisx__fail(st, "TLS CA directory %s: not a directory", o->tls_ca_dir);
            goto fail;
        }
    }
    if (o->tls_ca_file || o->tls_ca_dir) {
        if (SSL_CTX_load_verify_locations(t->ctx, o->tls_ca_file, o->tls_ca_dir) != 1) {
            redisx__fail(st, "cannot load the TLS CA %s %s: %s", o->tls_ca_file ? "file" : "directory",
                         o->tls_ca_file ? o->tls_ca_file : o->tls_ca_dir, last_reason(detail, sizeof detail));
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        redisx__fail(st, "cannot load the system's TLS CA store: %s", last_reason(detail, sizeof detail));
        goto fail;
    }
    if (o->tls_cert_file) {
        if (SSL_CTX_use_certificate_chain_file(t->ctx, o->tls_cert_file) != 1) {
            redisx__fail(st, "cannot load the TLS client certificate %s: %s", o->tls_cert_file,
                         last_reason(detail, sizeof detail));
            goto fail;
        }
        const char *key = o->tls_key_file ? o->tls_key_file : o->tls_cert_file;
        if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
            redisx__fail(st, "cannot load the TLS client key %s (PEM, without a passphrase): %s", key,
                         last_reason(detail, sizeof detail));
            goto fail;
        }
        if (SSL_CTX_check_private_key(t->ctx) != 1) {
            ERR_clear_error();
            redisx__fail(st, "TLS client key %s does not match the certificate %s", key, o->tls_cert_file);
            goto fail;
        }
    }
    SSL_CTX_set_verify(t->ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    *out = t;
    return REDISX_OK;
fail:
    ERR_clear_error();
    redisx__tls_ctx_free(t);
    return st;
}

void redisx__tls_ctx_free(redisx__tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    if (t->bio)
        BIO_meth_free(t->bio);
    free(t);
}

/* ---- one session ---- */

static int is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

redisx__tls *redisx__tls_new(redisx__tls_ctx *ctx, int fd, const char *host, char *detail, size_t dlen)
{
    redisx__tls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(detail, dlen, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    BIO *bio = NULL;
    int ip = is_ip_literal(host);
    t->ssl = SSL_new(ctx->ctx);
    if (!t->ssl || !(bio = BIO_new(ctx->bio)))
        goto fail;
    BIO_set_data(bio, (void *)(intptr_t)fd);
    SSL_set_bio(t->ssl, bio, bio); /* the session owns it now */
    /* SNI carries host names only (RFC 6066). */
    if (!ip && SSL_set_tlsext_host_name(t->ssl, host) != 1)
        goto fail;
    if (ctx->verify && ctx->verify_hostname) {
        if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1
               : SSL_set1_host(t->ssl, host) != 1)
            goto fail;
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    SSL_set_connect_state(t->ssl);
    return t;
fail:
    describe_error(NULL, "set-up", detail, dlen);
    if (t->ssl)
        SSL_free(t->ssl);
    free(t);
    return NULL;
}

void redisx__tls_free(redisx__tls *t)
{
    if (!t)
        return;
    if (t->established && !t->broken) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* one non-blocking close_notify; no wait for the peer's */
        ERR_clear_error();
    }
    SSL_free(t->ssl);
    free(t);
}

int redisx__tls_handshake(redisx__tls *t, short *want, char *detail, size_t dlen)
{
    ERR_clear_error();
    int ret = SSL_connect(t->ssl);
    if (ret == 1) {
        t->established = 1;
        return 1;
    }
    int r = tls_outcome(t, ret, want, "handshake", detail, dlen);
    if (r == 0) {
        snprintf(detail, dlen, "TLS handshake: the server closed the connection (is it speaking TLS on that port?)");
        return -1;
    }
    return errno == EAGAIN ? 0 : -1;
}

ssize_t redisx__tls_recv(redisx__tls *t, void *buf, size_t n, short *want, char *detail, size_t dlen)
{
    if (n > INT32_MAX)
        n = INT32_MAX;
    ERR_clear_error();
    int ret = SSL_read(t->ssl, buf, (int)n);
    if (ret > 0)
        return ret;
    return tls_outcome(t, ret, want, "read", detail, dlen);
}

ssize_t redisx__tls_send(redisx__tls *t, const void *buf, size_t n, short *want, char *detail, size_t dlen)
{
    if (n > INT32_MAX)
        n = INT32_MAX;
    ERR_clear_error();
    int ret = SSL_write(t->ssl, buf, (int)n);
    if (ret > 0)
        return ret;
    int r = tls_outcome(t, ret, want, "write", detail, dlen);
    if (r == 0) {
        snprintf(detail, dlen, "TLS write: the server closed the connection");
        errno = EPIPE;
    }
    return -1;
}

int redisx__tls_pending(const redisx__tls *t)
{
    return t && SSL_has_pending(t->ssl);
}

const char *redisx__tls_describe(const redisx__tls *t, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    return buf;
}

#else /* no REDISX_WITH_TLS: the same calls, refusing */

#include <errno.h>
#include <stdio.h>

int redisx__tls_available(void)
{
    return 0;
}

redisx_status redisx__tls_ctx_new(redisx__tls_ctx **out, const redisx_options *o)
{
    (void)o;
    *out = NULL;
    return redisx__fail(REDISX_ERR_INVALID, "TLS is not supported by this build");
}

void redisx__tls_ctx_free(redisx__tls_ctx *ctx)
{
    (void)ctx;
}

redisx__tls *redisx__tls_new(redisx__tls_ctx *ctx, int fd, const char *host, char *detail, size_t dlen)
{
    (void)ctx;
    (void)fd;
    (void)host;
    snprintf(detail, dlen, "TLS is not supported by this build");
    return NULL;
}

void redisx__tls_free(redisx__tls *t)
{
    (void)t;
}

int redisx__tls_handshake(redisx__tls *t, short *want, char *detail, size_t dlen)
{
    (void)t;
    (void)want;
    snprintf(detail, dlen, "TLS is not supported by this build");
    return -1;
}

ssize_t redisx__tls_recv(redisx__tls *t, void *buf, size_t n, short *want, char *detail, size_t dlen)
{
    (void)t;
    (void)buf;
    (void)n;
    (void)want;
    snprintf(detail, dlen, "TLS is not supported by this build");
    errno = EPROTO;
    return -1;
}

ssize_t redisx__tls_send(redisx__tls *t, const void *buf, size_t n, short *want, char *detail, size_t dlen)
{
    return redisx__tls_recv(t, (void *)buf, n, want, detail, dlen);
}

int redisx__tls_pending(const redisx__tls *t)
{
    (void)t;
    return 0;
}

const char *redisx__tls_describe(const redisx__tls *t, char *buf, size_t n)
{
    (void)t;
    snprintf(buf, n, "no TLS");
    return buf;
}

#endif
