/* The TLS layer's own socket I/O (core/tls.c), without a server: what a
 * write to a dead peer does. Static library, private headers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tls.h"

static redisx__tls_ctx *insecure_ctx(void)
{
    redisx_options o;
    cr_assert_eq(redisx__options_init(&o), REDISX_OK);
    o.tls_insecure = 1;
    redisx__tls_ctx *ctx = NULL;
    cr_assert_eq(redisx__tls_ctx_new(&ctx, &o), REDISX_OK, "%s", redisx_last_error());
    redisx__options_clear(&o);
    return ctx;
}

/* The ClientHello goes to a socket whose peer is gone: EPIPE, which raises
 * SIGPIPE (default action: the process ends) unless the write says
 * MSG_NOSIGNAL, as our BIO does. */
Test(tls_io, a_write_to_a_closed_peer_fails_without_sigpipe)
{
    if (!redisx__tls_available())
        cr_skip_test("this build has no TLS");
    signal(SIGPIPE, SIG_DFL);
    redisx__tls_ctx *ctx = insecure_ctx();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    close(sv[1]);
    char detail[512] = "";
    redisx__tls *t = redisx__tls_new(ctx, sv[0], "localhost", detail, sizeof detail);
    cr_assert_not_null(t, "%s", detail);
    short want = 0;
    cr_assert_eq(redisx__tls_handshake(t, &want, detail, sizeof detail), -1);
    cr_assert(strstr(detail, strerror(EPIPE)) != NULL, "%s", detail);
    redisx__tls_free(t); /* no close_notify after a fatal error */
    close(sv[0]);
    redisx__tls_ctx_free(ctx);
}

/* A peer that answers the ClientHello with something that is not TLS. */
Test(tls_io, a_peer_speaking_resp_fails_the_handshake_with_a_hint)
{
    if (!redisx__tls_available())
        cr_skip_test("this build has no TLS");
    redisx__tls_ctx *ctx = insecure_ctx();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    char detail[512] = "";
    redisx__tls *t = redisx__tls_new(ctx, sv[0], "127.0.0.1", detail, sizeof detail);
    cr_assert_not_null(t, "%s", detail);
    short want = 0;
    cr_assert_eq(redisx__tls_handshake(t, &want, detail, sizeof detail), 0, "%s", detail);
    cr_assert_eq(want, POLLIN);
    const char junk[] = "-ERR unknown command\r\n";
    cr_assert_eq(write(sv[1], junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    cr_assert_eq(redisx__tls_handshake(t, &want, detail, sizeof detail), -1);
    cr_assert(strstr(detail, "speaking TLS") != NULL, "%s", detail);
    redisx__tls_free(t);
    close(sv[0]);
    close(sv[1]);
    redisx__tls_ctx_free(ctx);
}
