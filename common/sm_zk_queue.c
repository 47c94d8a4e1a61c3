/*
 * sm_zk_queue: mutex-protected intrusive FIFO plus an eventfd that wakes a libevent loop.
 * See sm_zk_queue.h.
 */
#include "sm_zk_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

struct sm_zk_queue {
    pthread_mutex_t mu;
    sm_zk_qnode_t *head; /* guarded by mu */
    sm_zk_qnode_t *tail; /* guarded by mu */
    int efd;
    struct event *ev;
    sm_zk_queue_wake_fn on_wake;
    void *arg;
};

static void sm_zk_queue_on_event(evutil_socket_t fd, short what, void *arg)
{
    sm_zk_queue_t *q = arg;
    uint64_t n;

    (void)what;
    /* Reset the counter before draining: a post racing with the drain re-arms the event, so
     * no node can be left behind without a wake-up. */
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    /* Last statement: on_wake may free q. */
    q->on_wake(q->arg);
}

sm_err_t sm_zk_queue_new(struct event_base *base, sm_zk_queue_wake_fn on_wake, void *arg,
                         sm_zk_queue_t **out, sm_errbuf_t *eb)
{
    sm_zk_queue_t *q = NULL;
    sm_err_t err = SM_OK;
    int saved;

    *out = NULL;
    q = calloc(1, sizeof(*q));
    if (q == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "zk queue: out of memory");
        goto out;
    }
    q->efd = -1;
    q->on_wake = on_wake;
    q->arg = arg;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        q = NULL;
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "zk queue: mutex init failed");
        goto out;
    }
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        saved = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "zk queue: eventfd: %s", strerror(saved));
        goto out;
    }
    q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, sm_zk_queue_on_event, q);
    if (q->ev == NULL || event_add(q->ev, NULL) != 0) {
        err = sm_errbuf_set(eb, SM_ERR_IO, "zk queue: cannot register eventfd with the loop");
        goto out;
    }
    *out = q;
    q = NULL;
out:
    sm_zk_queue_free(q);
    return err;
}

void sm_zk_queue_free(sm_zk_queue_t *q)
{
    if (q == NULL)
        return;
    if (q->ev != NULL)
        event_free(q->ev);
    if (q->efd >= 0)
        close(q->efd);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* @thread any */
void sm_zk_queue_post(sm_zk_queue_t *q, sm_zk_qnode_t *node)
{
    uint64_t one = 1;

    node->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail != NULL)
        q->tail->next = node;
    else
        q->head = node;
    q->tail = node;
    pthread_mutex_unlock(&q->mu);
    /* The counter cannot realistically overflow; EAGAIN would still leave it non-zero, which
     * is all the wake-up needs. */
    if (write(q->efd, &one, sizeof(one)) < 0)
        return;
}

/* @thread any */
sm_zk_qnode_t *sm_zk_queue_pop(sm_zk_queue_t *q)
{
    sm_zk_qnode_t *n;

    pthread_mutex_lock(&q->mu);
    n = q->head;
    if (n != NULL) {
        q->head = n->next;
        if (q->head == NULL)
            q->tail = NULL;
        n->next = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}
