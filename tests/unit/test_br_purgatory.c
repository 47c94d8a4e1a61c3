/*
 * test_br_purgatory: parked waiters are woken only by appends to partitions they watch, keep
 * waiting when their callback says so, time out once through their timer, can be cancelled
 * (also from inside another waiter's callback), and leave no wait list or memory behind.
 */
#include "broker/br_purgatory.h"

#include <criterion/criterion.h>
#include <event2/event.h>

typedef struct probe {
    int wakes;
    int timeouts;
    bool complete_on_wake;
    br_purgatory_t *p;
    br_purgatory_waiter_t *victim; /* cancelled from the callback when set */
} probe_t;

static bool probe_fn(void *arg, bool timed_out)
{
    probe_t *pr = arg;
    if (timed_out)
        pr->timeouts++;
    else
        pr->wakes++;
    if (pr->victim != NULL) {
        br_purgatory_cancel(pr->p, pr->victim);
        pr->victim = NULL;
    }
    return pr->complete_on_wake;
}

static const br_purgatory_key_t keys_t01[] = {{"t", 0}, {"t", 1}, {"t", 0}};

Test(purgatory, wakes_only_waiters_of_the_appended_partition)
{
    struct event_base *base = event_base_new();
    br_purgatory_t *p;
    probe_t a = {.complete_on_wake = true}, b = {.complete_on_wake = true};
    const br_purgatory_key_t kb[] = {{"u", 0}};

    cr_assert_eq(br_purgatory_new(base, &p), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys_t01, 3, 10000, probe_fn, &a, NULL), SM_OK);
    cr_assert_eq(br_purgatory_park(p, kb, 1, 10000, probe_fn, &b, NULL), SM_OK);
    cr_assert_eq(br_purgatory_count(p), 2);
    cr_assert_eq(br_purgatory_list_count(p), 3, "duplicate keys are watched once");
    cr_assert_eq(br_purgatory_wake(p, "t", 2), 0);
    cr_assert_eq(br_purgatory_wake(p, "t", 1), 1);
    cr_assert_eq(a.wakes, 1);
    cr_assert_eq(b.wakes, 0);
    cr_assert_eq(br_purgatory_count(p), 1);
    cr_assert_eq(br_purgatory_list_count(p), 1);
    cr_assert_eq(br_purgatory_wake(p, "t", 0), 0, "a completed waiter is not woken again");
    br_purgatory_free(p);
    event_base_free(base);
}

Test(purgatory, keeps_waiting_when_the_callback_says_so_then_times_out_once)
{
    struct event_base *base = event_base_new();
    br_purgatory_t *p;
    probe_t a = {.complete_on_wake = false};

    cr_assert_eq(br_purgatory_new(base, &p), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys_t01, 2, 20, probe_fn, &a, NULL), SM_OK);
    cr_assert_eq(br_purgatory_wake(p, "t", 0), 0);
    cr_assert_eq(br_purgatory_wake(p, "t", 1), 0);
    cr_assert_eq(a.wakes, 2);
    cr_assert_eq(br_purgatory_count(p), 1);
    event_base_dispatch(base); /* runs until the timer has fired and nothing is pending */
    cr_assert_eq(a.timeouts, 1);
    cr_assert_eq(br_purgatory_count(p), 0);
    cr_assert_eq(br_purgatory_list_count(p), 0);
    br_purgatory_free(p);
    event_base_free(base);
}

Test(purgatory, cancel_drops_without_callback_even_from_another_callback)
{
    struct event_base *base = event_base_new();
    br_purgatory_t *p;
    probe_t a = {.complete_on_wake = true}, b = {.complete_on_wake = true};
    br_purgatory_waiter_t *wa, *wb;

    cr_assert_eq(br_purgatory_new(base, &p), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys_t01, 1, 10000, probe_fn, &a, &wa), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys_t01, 1, 10000, probe_fn, &b, &wb), SM_OK);
    /* Whichever runs first cancels the other: exactly one callback runs. */
    a.p = b.p = p;
    a.victim = wb;
    b.victim = wa;
    cr_assert_eq(br_purgatory_wake(p, "t", 0), 1);
    cr_assert_eq(a.wakes + b.wakes, 1);
    cr_assert_eq(br_purgatory_count(p), 0);
    cr_assert_eq(br_purgatory_list_count(p), 0);
    event_base_dispatch(base); /* no timer left: returns at once */
    cr_assert_eq(a.timeouts + b.timeouts, 0);
    br_purgatory_free(p);
    event_base_free(base);
}

Test(purgatory, free_drops_parked_waiters_and_many_lists)
{
    struct event_base *base = event_base_new();
    br_purgatory_t *p;
    probe_t a = {0};
    char names[300][8];
    br_purgatory_key_t keys[300];

    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof(names[i]), "t%d", i);
        keys[i] = (br_purgatory_key_t){names[i], i};
    }
    cr_assert_eq(br_purgatory_new(base, &p), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys, 300, 10000, probe_fn, &a, NULL), SM_OK);
    cr_assert_eq(br_purgatory_park(p, keys, 300, 10000, probe_fn, &a, NULL), SM_OK);
    cr_assert_eq(br_purgatory_list_count(p), 300);
    cr_assert_eq(br_purgatory_wake(p, "t299", 299), 0);
    cr_assert_eq(a.wakes, 2);
    br_purgatory_free(p);
    cr_assert_eq(a.timeouts, 0);
    event_base_free(base);
}

/* A completing callback that, by answering its request, runs the next request of the
 * connection -- a Produce whose append wakes the same partition (the acks=all crash). */
typedef struct nested {
    br_purgatory_t *p;
    int calls;
    int depth, max_depth;
} nested_t;

static bool nested_fn(void *arg, bool timed_out)
{
    nested_t *n = arg;

    n->calls++;
    n->depth++;
    if (n->depth > n->max_depth)
        n->max_depth = n->depth;
    if (!timed_out || n->calls == 1)
        (void)br_purgatory_wake(n->p, "t", 0);
    n->depth--;
    return true;
}

Test(purgatory, a_running_callback_is_not_entered_again_by_a_nested_wake)
{
    struct event_base *base = event_base_new();
    nested_t n = {0}, m = {0};
    const br_purgatory_key_t k[] = {{"t", 0}};

    cr_assert_eq(br_purgatory_new(base, &n.p), SM_OK);
    m.p = n.p;
    cr_assert_eq(br_purgatory_park(n.p, k, 1, 10000, nested_fn, &n, NULL), SM_OK);
    cr_assert_eq(br_purgatory_wake(n.p, "t", 0), 1);
    cr_assert_eq(n.calls, 1, "called %d times", n.calls);
    cr_assert_eq(n.max_depth, 1);
    cr_assert_eq(br_purgatory_count(n.p), 0);

    /* The same from the timer. */
    cr_assert_eq(br_purgatory_park(n.p, k, 1, 0, nested_fn, &m, NULL), SM_OK);
    cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    cr_assert_eq(m.calls, 1, "called %d times", m.calls);
    cr_assert_eq(br_purgatory_count(n.p), 0);
    br_purgatory_free(n.p);
    event_base_free(base);
}
