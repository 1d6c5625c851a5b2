/* The pollable queue: a mutex-protected list plus an eventfd that is readable
 * exactly while the list is non-empty (written on the empty -> non-empty
 * transition, drained when the last item is popped, both under the mutex). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct redisx_queue {
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    redisx_item *head, *tail;
    size_t size;
    int fd;
    int shutdown;
};

redisx_status redisx__queue_create(redisx_queue **out)
{
    redisx_queue *q = calloc(1, sizeof *q);
    if (!q)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->fd < 0) {
        free(q);
        return redisx__fail(REDISX_ERR_NOMEM, "eventfd: %s", strerror(errno));
    }
    atomic_init(&q->refs, 1);
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = q;
    return REDISX_OK;
}

void redisx__queue_ref(redisx_queue *q)
{
    atomic_fetch_add(&q->refs, 1);
}

void redisx__queue_unref(redisx_queue *q)
{
    if (!q || atomic_fetch_sub(&q->refs, 1) != 1)
        return;
    redisx_item *it = q->head;
    while (it) {
        redisx_item *next = it->next;
        redisx_item_free(it);
        it = next;
    }
    close(q->fd);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

int redisx__queue_fd(const redisx_queue *q)
{
    return q->fd;
}

size_t redisx__queue_size(redisx_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->size;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void redisx__queue_push(redisx_queue *q, redisx_item *item)
{
    item->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    if (q->size++ == 0) {
        uint64_t one = 1;
        ssize_t w = write(q->fd, &one, sizeof one);
        (void)w; /* cannot overflow: drained whenever the list empties */
    }
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

redisx_status redisx__queue_pop(redisx_item **out, redisx_queue *q, int timeout_ms)
{
    struct timespec dl;
    if (timeout_ms > 0)
        deadline_in(&dl, timeout_ms);
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->shutdown && timeout_ms != 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->cv, &q->mu);
        } else if (pthread_cond_timedwait(&q->cv, &q->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    redisx_item *it = q->head;
    if (!it) {
        int shut = q->shutdown;
        pthread_mutex_unlock(&q->mu);
        if (shut)
            return redisx__fail(REDISX_ERR_CLOSED, "queue shut down");
        return redisx__fail(REDISX_ERR_EMPTY, "no item within %d ms", timeout_ms < 0 ? 0 : timeout_ms);
    }
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    if (--q->size == 0) {
        uint64_t v;
        ssize_t r = read(q->fd, &v, sizeof v);
        (void)r;
    }
    pthread_mutex_unlock(&q->mu);
    it->next = NULL;
    *out = it;
    return REDISX_OK;
}

void redisx__queue_shutdown(redisx_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = 1;
    pthread_cond_broadcast(&q->cv);
    /* Make pollers look: a readable fd with an empty queue means "shut". */
    if (q->size == 0) {
        uint64_t one = 1;
        ssize_t w = write(q->fd, &one, sizeof one);
        (void)w;
    }
    pthread_mutex_unlock(&q->mu);
}

redisx_item *redisx__item_new(redisx_item_kind kind, void *user, redisx_status st, const char *message)
{
    redisx_item *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->message = redisx__strdup(message ? message : "");
    if (!it->message) {
        free(it);
        return NULL;
    }
    it->kind = kind;
    it->user = user;
    it->status = st;
    return it;
}
