/*
 * br_purgatory: parked requests, a hash table of per-partition wait lists and a libevent timer
 * per waiter. See br_purgatory.h for the contract and the design notes.
 *
 *   table[hash(topic, partition)] -> wait list -> watch <-> watch <-> ...
 *                                                  |          |
 *                                               waiter A   waiter B  (each: n watches, 1 timer)
 */
#include "broker/br_purgatory.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "sm_log.h"

#define BR_PURGATORY_BUCKETS_MIN 64
#define BR_PURGATORY_SNAPSHOT    32 /* waiters woken without a heap snapshot */

typedef struct br_purgatory_list br_purgatory_list_t;

typedef struct br_purgatory_watch {
    struct br_purgatory_watch *prev, *next; /* in list */
    br_purgatory_list_t *list;
    br_purgatory_waiter_t *waiter;
} br_purgatory_watch_t;

struct br_purgatory_list {
    br_purgatory_list_t *hnext; /* hash chain */
    uint64_t hash;
    int32_t partition;
    char *topic; /* owned */
    br_purgatory_watch_t *head;
};

struct br_purgatory_waiter {
    br_purgatory_t *p;
    struct event *timer; /* owned */
    br_purgatory_fn fn;
    void *arg;
    br_purgatory_watch_t *watches; /* owned, n_watches */
    size_t n_watches;
    br_purgatory_waiter_t *prev, *next; /* every live waiter */
    int refs;                           /* wake-ups walking this waiter */
    bool done;
    bool running; /* its callback is on the stack: nested wake-ups skip it */
};

struct br_purgatory {
    struct event_base *base;
    br_purgatory_list_t **buckets;
    size_t n_buckets; /* power of two */
    size_t n_lists;
    br_purgatory_waiter_t *waiters;
    size_t n_waiters;
};

static uint64_t br_purgatory_hash(const char *topic, int32_t partition)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *s = (const unsigned char *)topic; *s != '\0'; s++)
        h = (h ^ *s) * 1099511628211ULL;
    uint32_t u = (uint32_t)partition;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((u >> (8 * i)) & 0xffu)) * 1099511628211ULL;
    return h;
}

static br_purgatory_list_t *br_purgatory_find(const br_purgatory_t *p, const char *topic,
                                              int32_t partition, uint64_t h)
{
    br_purgatory_list_t *l = p->buckets[h & (p->n_buckets - 1)];
    for (; l != NULL; l = l->hnext) {
        if (l->hash == h && l->partition == partition && strcmp(l->topic, topic) == 0)
            return l;
    }
    return NULL;
}

/* Doubles the table when it holds twice as many lists as buckets; a failed allocation just
 * leaves the chains longer. */
static void br_purgatory_grow(br_purgatory_t *p)
{
    if (p->n_lists < p->n_buckets * 2)
        return;
    size_t n = p->n_buckets * 2;
    br_purgatory_list_t **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < p->n_buckets; i++) {
        br_purgatory_list_t *l = p->buckets[i];
        while (l != NULL) {
            br_purgatory_list_t *next = l->hnext;
            l->hnext = b[l->hash & (n - 1)];
            b[l->hash & (n - 1)] = l;
            l = next;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->n_buckets = n;
}

static br_purgatory_list_t *br_purgatory_list_get(br_purgatory_t *p, const char *topic,
                                                  int32_t partition)
{
    uint64_t h = br_purgatory_hash(topic, partition);
    br_purgatory_list_t *l = br_purgatory_find(p, topic, partition, h);
    if (l != NULL)
        return l;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->topic = strdup(topic);
    if (l->topic == NULL) {
        free(l);
        return NULL;
    }
    l->hash = h;
    l->partition = partition;
    l->hnext = p->buckets[h & (p->n_buckets - 1)];
    p->buckets[h & (p->n_buckets - 1)] = l;
    p->n_lists++;
    br_purgatory_grow(p);
    return l;
}

static void br_purgatory_list_drop(br_purgatory_t *p, br_purgatory_list_t *l)
{
    br_purgatory_list_t **pp = &p->buckets[l->hash & (p->n_buckets - 1)];
    while (*pp != l)
        pp = &(*pp)->hnext;
    *pp = l->hnext;
    p->n_lists--;
    free(l->topic);
    free(l);
}

static void br_purgatory_unwatch(br_purgatory_t *p, br_purgatory_watch_t *w)
{
    br_purgatory_list_t *l = w->list;
    if (l == NULL)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->list = NULL;
    w->prev = w->next = NULL;
    if (l->head == NULL)
        br_purgatory_list_drop(p, l);
}

static void br_purgatory_waiter_release(br_purgatory_waiter_t *w)
{
    if (w->refs > 0 || !w->done)
        return;
    if (w->timer != NULL)
        event_free(w->timer);
    free(w->watches);
    free(w);
}

/* Takes w out of every list and the timer; frees it unless a wake-up still walks it. */
static void br_purgatory_finish(br_purgatory_t *p, br_purgatory_waiter_t *w)
{
    if (w->done)
        return;
    w->done = true;
    for (size_t i = 0; i < w->n_watches; i++)
        br_purgatory_unwatch(p, &w->watches[i]);
    if (w->timer != NULL)
        evtimer_del(w->timer);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        p->waiters = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    p->n_waiters--;
    br_purgatory_waiter_release(w);
}

static void br_purgatory_on_timer(evutil_socket_t fd, short what, void *arg)
{
    br_purgatory_waiter_t *w = arg;
    br_purgatory_t *p = w->p;

    (void)fd;
    (void)what;
    w->refs++;
    w->running = true;
    (void)w->fn(w->arg, true);
    w->running = false;
    br_purgatory_finish(p, w);
    w->refs--;
    br_purgatory_waiter_release(w);
}

sm_err_t br_purgatory_new(struct event_base *base, br_purgatory_t **out)
{
    br_purgatory_t *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return SM_ERR_NOMEM;
    p->buckets = calloc(BR_PURGATORY_BUCKETS_MIN, sizeof(*p->buckets));
    if (p->buckets == NULL) {
        free(p);
        return SM_ERR_NOMEM;
    }
    p->n_buckets = BR_PURGATORY_BUCKETS_MIN;
    p->base = base;
    *out = p;
    return SM_OK;
}

void br_purgatory_free(br_purgatory_t *p)
{
    if (p == NULL)
        return;
    while (p->waiters != NULL)
        br_purgatory_finish(p, p->waiters);
    free(p->buckets);
    free(p);
}

static bool br_purgatory_key_seen(const br_purgatory_key_t *keys, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (keys[j].partition == keys[i].partition && strcmp(keys[j].topic, keys[i].topic) == 0)
            return true;
    }
    return false;
}

sm_err_t br_purgatory_park(br_purgatory_t *p, const br_purgatory_key_t *keys, size_t n,
                           int32_t timeout_ms, br_purgatory_fn fn, void *arg,
                           br_purgatory_waiter_t **out)
{
    sm_err_t err = SM_ERR_NOMEM;
    br_purgatory_waiter_t *w = calloc(1, sizeof(*w));

    if (out != NULL)
        *out = NULL;
    if (w == NULL)
        goto out;
    w->p = p;
    w->fn = fn;
    w->arg = arg;
    w->watches = n > 0 ? calloc(n, sizeof(*w->watches)) : NULL;
    w->timer = evtimer_new(p->base, br_purgatory_on_timer, w);
    if ((n > 0 && w->watches == NULL) || w->timer == NULL)
        goto out;
    /* Linked as live first, so that finish() can undo a partial park. */
    w->next = p->waiters;
    if (p->waiters != NULL)
        p->waiters->prev = w;
    p->waiters = w;
    p->n_waiters++;
    for (size_t i = 0; i < n; i++) {
        if (br_purgatory_key_seen(keys, i))
            continue;
        br_purgatory_list_t *l = br_purgatory_list_get(p, keys[i].topic, keys[i].partition);
        if (l == NULL) {
            br_purgatory_finish(p, w);
            w = NULL;
            goto out;
        }
        br_purgatory_watch_t *wt = &w->watches[w->n_watches++];
        wt->waiter = w;
        wt->list = l;
        wt->next = l->head;
        if (l->head != NULL)
            l->head->prev = wt;
        l->head = wt;
    }
    int32_t ms = timeout_ms < 0 ? 0 : timeout_ms;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (evtimer_add(w->timer, &tv) != 0) {
        br_purgatory_finish(p, w);
        w = NULL;
        goto out;
    }
    if (out != NULL)
        *out = w;
    w = NULL;
    err = SM_OK;
out:
    if (w != NULL) {
        if (w->timer != NULL)
            event_free(w->timer);
        free(w->watches);
        free(w);
    }
    return err;
}

void br_purgatory_cancel(br_purgatory_t *p, br_purgatory_waiter_t *w)
{
    if (w != NULL)
        br_purgatory_finish(p, w);
}

size_t br_purgatory_wake(br_purgatory_t *p, const char *topic, int32_t partition)
{
    br_purgatory_waiter_t *stack[BR_PURGATORY_SNAPSHOT];
    br_purgatory_waiter_t **snap = stack;
    size_t n = 0, done = 0;
    br_purgatory_list_t *l =
        br_purgatory_find(p, topic, partition, br_purgatory_hash(topic, partition));

    if (l == NULL)
        return 0;
    for (br_purgatory_watch_t *wt = l->head; wt != NULL; wt = wt->next)
        n++;
    if (n > BR_PURGATORY_SNAPSHOT) {
        snap = malloc(n * sizeof(*snap));
        if (snap == NULL) {
            sm_log_warn("purgatory: no memory to wake %zu waiters of %s-%d; waking %d", n, topic,
                        (int)partition, BR_PURGATORY_SNAPSHOT);
            snap = stack;
            n = BR_PURGATORY_SNAPSHOT;
        }
    }
    /* A snapshot, because callbacks may finish waiters and drop this very list. */
    size_t i = 0;
    for (br_purgatory_watch_t *wt = l->head; wt != NULL && i < n; wt = wt->next) {
        snap[i++] = wt->waiter;
        wt->waiter->refs++;
    }
    for (i = 0; i < n; i++) {
        br_purgatory_waiter_t *w = snap[i];
        /* A callback that completes its request may, by answering it, run the connection's
         * next request (a Produce whose append wakes this very partition): the waiter whose
         * callback is running must not be entered again. */
        if (!w->done && !w->running) {
            w->running = true;
            bool complete = w->fn(w->arg, false);
            w->running = false;
            if (complete && !w->done) {
                br_purgatory_finish(p, w);
                done++;
            }
        }
        w->refs--;
        br_purgatory_waiter_release(w);
    }
    if (snap != stack)
        free(snap);
    return done;
}

size_t br_purgatory_count(const br_purgatory_t *p)
{
    return p->n_waiters;
}

size_t br_purgatory_list_count(const br_purgatory_t *p)
{
    return p->n_lists;
}
