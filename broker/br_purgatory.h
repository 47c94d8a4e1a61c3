/*
 * br_purgatory: requests parked until data arrives -- the long-poll Fetch waits here when less
 * than min_bytes is available. Each parked request (a waiter) watches a set of partitions and
 * has one timer (max_wait_ms). An append to a partition wakes the waiters watching it: their
 * callback re-checks the request and either completes it (the waiter goes) or keeps waiting.
 * The timer fires the callback once with timed_out = true and the waiter goes. Nothing polls.
 * Loop thread only; it knows nothing of Kafka messages.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. A live waiter is linked once into the wait list of each partition it watches (its
 *        keys are de-duplicated) and has one pending timer.
 *     2. A wait list exists only while it holds at least one waiter.
 *     3. A waiter's callback is never called after it is done (completed, timed out or
 *        cancelled), nor while it is already running (a completing callback may answer its
 *        request, which runs the connection's next request, whose append wakes the same
 *        partition); the memory stays valid until every wake-up walking it has finished.
 *   States
 *     parked --wake, fn returns true--> done (freed)
 *     parked --wake, fn returns false--> parked
 *     parked --timer: fn(timed_out)--> done;  parked --cancel--> done (fn not called)
 */
#ifndef BR_PURGATORY_H
#define BR_PURGATORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

struct event_base;

typedef struct br_purgatory br_purgatory_t;
typedef struct br_purgatory_waiter br_purgatory_waiter_t;

/* One partition a waiter watches (topic borrowed for the call; copied). */
typedef struct br_purgatory_key {
    const char *topic;
    int32_t partition;
} br_purgatory_key_t;

/* Called when a watched partition got data (timed_out false: return true to complete the
 * waiter, false to keep waiting) or when the timer fired (timed_out true: the waiter is done
 * whatever is returned). The callback must not free the purgatory; it may park, wake or
 * cancel other waiters. */
typedef bool (*br_purgatory_fn)(void *arg, bool timed_out);

/* An empty purgatory whose timers run on base. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_purgatory_new(struct event_base *base, br_purgatory_t **out);

/* Frees the purgatory. Waiters still parked are dropped without their callback being
 * called (cancel them first if their owners must know). Accepts NULL. */
void br_purgatory_free(br_purgatory_t *p);

/* Parks a waiter watching keys[0..n) for at most timeout_ms (< 0 taken as 0), calling fn(arg,
 * ...) as described above. *out (may be NULL) identifies it for br_purgatory_cancel and stays
 * valid until it is done. Returns SM_OK or SM_ERR_NOMEM (nothing parked). */
sm_err_t br_purgatory_park(br_purgatory_t *p, const br_purgatory_key_t *keys, size_t n,
                           int32_t timeout_ms, br_purgatory_fn fn, void *arg,
                           br_purgatory_waiter_t **out);

/* Removes a parked waiter without calling its callback (its connection closed). */
void br_purgatory_cancel(br_purgatory_t *p, br_purgatory_waiter_t *w);

/* Wakes every waiter watching (topic, partition); returns how many were completed. */
size_t br_purgatory_wake(br_purgatory_t *p, const char *topic, int32_t partition);

/* Waiters parked now, and wait lists (partitions watched) now. */
size_t br_purgatory_count(const br_purgatory_t *p);
size_t br_purgatory_list_count(const br_purgatory_t *p);

#endif
