/* Shared by the bad-input suites: checks that a rejected call returns the
 * exact status AND writes its own detail to redisx_last_error(). */
#ifndef REDISX_TEST_BADINPUT_H
#define REDISX_TEST_BADINPUT_H

#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------- */

/* Out-parameters are set to this before a call that must reset them. */
static char sentinel_obj;
#define SENTINEL(T) ((T *)(void *)&sentinel_obj)

static inline const char *name_of(int st)
{
    const char *n = redisx_status_name(st);
    return n ? n : "<not a status>";
}

/* Leaves a recognisable detail in redisx_last_error() ("... got -424242"), so
 * that a later call that fails without writing its own detail is caught. */
#define POISON_VALUE -424242
#define POISON_TEXT "got -424242"

static inline void poison_last_error(void)
{
    redisx_options *o = NULL;
    if (redisx_options_new(&o) == REDISX_OK) {
        (void)redisx_options_set_connections(o, POISON_VALUE);
        redisx_options_free(o);
    }
}

static inline int is_poison(const char *msg)
{
    return msg && strstr(msg, POISON_TEXT) != NULL;
}

static inline void expect_status_msg(int line, const char *call, const char *label, redisx_status want, redisx_status got,
                              const char *msg)
{
    cr_assert_eq(got, want, "line %d [%s] %s: got %s (%d), want %s (%d); last error \"%s\"", line, label, call,
                 name_of(got), (int)got, name_of(want), (int)want, msg ? msg : "(null)");
    cr_assert_not_null(msg, "line %d [%s] %s: redisx_last_error() is NULL", line, label, call);
    cr_assert(msg[0] != '\0', "line %d [%s] %s: returned %s with an empty redisx_last_error()", line, label, call,
              name_of(got));
    cr_assert(!is_poison(msg),
              "line %d [%s] %s: returned %s but redisx_last_error() still describes an earlier error: \"%s\"", line,
              label, call, name_of(got), msg);
}

static inline void expect_status(int line, const char *call, const char *label, redisx_status want, redisx_status got)
{
    expect_status_msg(line, call, label, want, got, redisx_last_error());
}

/* The call must fail with `want` and describe it in redisx_last_error(). */
#define EXPECT_ST(want, call, label)                                \
    do {                                                            \
        poison_last_error();                                        \
        redisx_status got_ = (call);                                \
        expect_status(__LINE__, #call, (label), (want), got_);      \
    } while (0)

#define EXPECT_OK(call, label)                                                                                  \
    do {                                                                                                        \
        redisx_status got_ = (call);                                                                            \
        cr_assert_eq(got_, REDISX_OK, "line %d [%s] %s: got %s (%d): %s", __LINE__, (label), #call,             \
                     name_of(got_), (int)got_, redisx_last_error());                                           \
    } while (0)

static inline char *filled(size_t n, char ch)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

#endif
