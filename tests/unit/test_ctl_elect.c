/*
 * test_ctl_elect: leader election strategies and ISR rules (Kafka's offline election, clean
 * unless unclean.leader.election.enable; ISR shrink never to empty; epoch bumps).
 */
#include "controller/ctl_elect.h"

#include <criterion/criterion.h>
#include <string.h>

/* Live brokers: a bit mask of ids 0..31. */
static bool live_mask(void *arg, int32_t id)
{
    uint32_t mask = *(const uint32_t *)arg;

    return id >= 0 && id < 32 && (mask & (1u << id)) != 0;
}

#define LIVE(...) live_bits((const int32_t[]){__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / 4)

static uint32_t live_bits(const int32_t *ids, size_t n)
{
    uint32_t m = 0;

    for (size_t i = 0; i < n; i++)
        m |= 1u << ids[i];
    return m;
}

static ctl_elect_state_t state(int32_t leader, int32_t epoch, const int32_t *isr, size_t n)
{
    ctl_elect_state_t s = {.leader = leader, .leader_epoch = epoch, .n_isr = n};

    memcpy(s.isr, isr, n * sizeof(*isr));
    return s;
}

static void expect_isr(const ctl_elect_state_t *s, const int32_t *want, size_t n)
{
    cr_assert_eq(s->n_isr, n, "isr has %zu members, want %zu", s->n_isr, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(s->isr[i], want[i], "isr[%zu] = %d, want %d", i, s->isr[i], want[i]);
}

Test(ctl_elect, new_partition_leads_with_first_live_replica_and_live_isr)
{
    const int32_t replicas[] = {3, 1, 2};
    uint32_t live = LIVE(1, 2);
    ctl_elect_state_t s;

    cr_assert(ctl_elect_initial(replicas, 3, live_mask, &live, &s));
    cr_expect_eq(s.leader, 1);
    cr_expect_eq(s.leader_epoch, 0);
    expect_isr(&s, (const int32_t[]){1, 2}, 2);
    live = 0;
    cr_expect_not(ctl_elect_initial(replicas, 3, live_mask, &live, &s));
}

Test(ctl_elect, offline_picks_first_assigned_replica_that_is_live_and_in_isr)
{
    const int32_t replicas[] = {1, 2, 3};
    const int32_t isr[] = {3, 2};
    uint32_t live = LIVE(1, 2, 3);
    bool unclean = true;

    /* 1 is live but not in the ISR: 2 comes first in assignment order among ISR members. */
    cr_expect_eq(ctl_elect_offline(replicas, 3, isr, 2, false, live_mask, &live, &unclean), 2);
    cr_expect_not(unclean);
    live = LIVE(1, 3);
    cr_expect_eq(ctl_elect_offline(replicas, 3, isr, 2, false, live_mask, &live, NULL), 3);
}

Test(ctl_elect, offline_is_clean_unless_unclean_is_enabled)
{
    const int32_t replicas[] = {1, 2, 3};
    const int32_t isr[] = {3};
    uint32_t live = LIVE(1, 2);
    bool unclean = false;

    cr_expect_eq(ctl_elect_offline(replicas, 3, isr, 1, false, live_mask, &live, &unclean), -1);
    cr_expect_not(unclean);
    cr_expect_eq(ctl_elect_offline(replicas, 3, isr, 1, true, live_mask, &live, &unclean), 1);
    cr_expect(unclean);
}

Test(ctl_elect, isr_shrink_drops_dead_members_but_never_empties)
{
    const int32_t isr[] = {1, 2, 3};
    int32_t out[3];
    uint32_t live = LIVE(3, 1);

    cr_assert_eq(ctl_elect_shrink_isr(isr, 3, 1, live_mask, &live, out), 2);
    cr_expect(out[0] == 1 && out[1] == 3);
    live = 0;
    /* Nobody live: the leader stays if it was a member, else the first member. */
    cr_assert_eq(ctl_elect_shrink_isr(isr, 3, 2, live_mask, &live, out), 1);
    cr_expect_eq(out[0], 2);
    cr_assert_eq(ctl_elect_shrink_isr(isr, 3, -1, live_mask, &live, out), 1);
    cr_expect_eq(out[0], 1);
    cr_expect_eq(ctl_elect_shrink_isr(isr, 0, -1, live_mask, &live, out), 0);
}

Test(ctl_elect, dead_leader_moves_to_next_isr_replica_with_epoch_bumped)
{
    const int32_t replicas[] = {1, 2, 3};
    ctl_elect_state_t cur = state(1, 4, (const int32_t[]){1, 2, 3}, 3), next;
    uint32_t live = LIVE(2, 3);

    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, 2);
    cr_expect_eq(next.leader_epoch, 5);
    expect_isr(&next, (const int32_t[]){2, 3}, 2);
}

Test(ctl_elect, follower_death_shrinks_isr_and_bumps_epoch_keeping_the_leader)
{
    const int32_t replicas[] = {1, 2, 3};
    ctl_elect_state_t cur = state(1, 0, (const int32_t[]){1, 2, 3}, 3), next;
    uint32_t live = LIVE(1, 2);

    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, 1);
    cr_expect_eq(next.leader_epoch, 1);
    expect_isr(&next, (const int32_t[]){1, 2}, 2);
}

Test(ctl_elect, nothing_changes_when_leader_and_isr_are_live)
{
    const int32_t replicas[] = {1, 2, 3};
    ctl_elect_state_t cur = state(2, 7, (const int32_t[]){2, 1}, 2), next;
    uint32_t live = LIVE(1, 2, 3);

    cr_expect_not(ctl_elect_reconcile(&cur, replicas, 3, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, 2);
    cr_expect_eq(next.leader_epoch, 7);
    expect_isr(&next, (const int32_t[]){2, 1}, 2);
}

Test(ctl_elect, last_isr_member_death_leaves_no_leader_and_keeps_it_in_isr)
{
    const int32_t replicas[] = {1, 2};
    ctl_elect_state_t cur = state(1, 3, (const int32_t[]){1}, 1), next, again;
    uint32_t live = LIVE(2);

    /* 2 is live but out of sync: a clean election finds nobody. */
    cr_assert(ctl_elect_reconcile(&cur, replicas, 2, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, -1);
    cr_expect_eq(next.leader_epoch, 4);
    expect_isr(&next, (const int32_t[]){1}, 1);
    /* Running again changes nothing: no epoch churn. */
    cr_expect_not(ctl_elect_reconcile(&next, replicas, 2, false, live_mask, &live, &again, NULL));
    /* When 1 returns it leads again, cleanly. */
    live = LIVE(1, 2);
    cr_assert(ctl_elect_reconcile(&next, replicas, 2, false, live_mask, &live, &again, NULL));
    cr_expect_eq(again.leader, 1);
    cr_expect_eq(again.leader_epoch, 5);
    expect_isr(&again, (const int32_t[]){1}, 1);
}

Test(ctl_elect, unclean_election_takes_first_live_replica_with_isr_of_one)
{
    const int32_t replicas[] = {1, 2, 3};
    ctl_elect_state_t cur = state(1, 3, (const int32_t[]){1}, 1), next;
    uint32_t live = LIVE(3, 2);
    bool unclean = false;

    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, true, live_mask, &live, &next, &unclean));
    cr_expect(unclean);
    cr_expect_eq(next.leader, 2);
    cr_expect_eq(next.leader_epoch, 4);
    expect_isr(&next, (const int32_t[]){2}, 1);
}

Test(ctl_elect, isr_shrink_with_all_members_dead_keeps_the_old_leader)
{
    const int32_t replicas[] = {1, 2, 3};
    ctl_elect_state_t cur = state(2, 0, (const int32_t[]){1, 2}, 2), next;
    uint32_t live = LIVE(3);

    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, -1);
    expect_isr(&next, (const int32_t[]){2}, 1);
}

Test(ctl_elect, clean_election_skips_a_live_replica_outside_the_isr)
{
    const int32_t replicas[] = {3, 1, 2};
    ctl_elect_state_t cur = state(1, 2, (const int32_t[]){1, 2}, 2), next;
    uint32_t live = LIVE(2, 3);
    bool unclean = true;

    /* 3 comes first in assignment order and is live, but it is not in sync. */
    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, false, live_mask, &live, &next, &unclean));
    cr_expect_not(unclean);
    cr_expect_eq(next.leader, 2);
    cr_expect_eq(next.leader_epoch, 3);
    expect_isr(&next, (const int32_t[]){2}, 1);
}

Test(ctl_elect, unclean_is_not_used_while_an_isr_member_is_live)
{
    const int32_t replicas[] = {3, 1, 2};
    ctl_elect_state_t cur = state(1, 2, (const int32_t[]){1, 2}, 2), next;
    uint32_t live = LIVE(2, 3);
    bool unclean = true;

    cr_assert(ctl_elect_reconcile(&cur, replicas, 3, true, live_mask, &live, &next, &unclean));
    cr_expect_not(unclean);
    cr_expect_eq(next.leader, 2);
}

/* What a controller that took over during a broker failure finds in its model: the leader and
 * one follower died together. One reconcile both elects and drops the dead follower. */
Test(ctl_elect, failover_with_dead_leader_and_dead_follower_elects_and_shrinks_at_once)
{
    const int32_t replicas[] = {1, 2, 3, 4};
    ctl_elect_state_t cur = state(1, 6, (const int32_t[]){1, 2, 3, 4}, 4), next, again;
    uint32_t live = LIVE(3, 4);

    cr_assert(ctl_elect_reconcile(&cur, replicas, 4, false, live_mask, &live, &next, NULL));
    cr_expect_eq(next.leader, 3);
    cr_expect_eq(next.leader_epoch, 7);
    expect_isr(&next, (const int32_t[]){3, 4}, 2);
    cr_expect_not(ctl_elect_reconcile(&next, replicas, 4, false, live_mask, &live, &again, NULL));
}

Test(ctl_elect, isr_proposal_of_live_replicas_with_the_leader_is_accepted)
{
    const int32_t replicas[] = {1, 2, 3};
    uint32_t live = LIVE(1, 2, 3);

    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 2, (const int32_t[]){2, 3}, 2, live_mask, &live),
                 CTL_ELECT_ISR_OK);
    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 2, (const int32_t[]){2}, 1, live_mask, &live),
                 CTL_ELECT_ISR_OK);
    cr_expect_eq(
        ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){3, 2, 1}, 3, live_mask, &live),
        CTL_ELECT_ISR_OK);
}

Test(ctl_elect, isr_proposal_that_is_not_a_set_of_replicas_with_the_leader_is_invalid)
{
    const int32_t replicas[] = {1, 2, 3};
    uint32_t live = LIVE(1, 2, 3, 4);

    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 1, NULL, 0, live_mask, &live),
                 CTL_ELECT_ISR_INVALID);
    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){2, 3}, 2, live_mask, &live),
                 CTL_ELECT_ISR_INVALID);
    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){1, 4}, 2, live_mask, &live),
                 CTL_ELECT_ISR_INVALID);
    cr_expect_eq(
        ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){1, 2, 1}, 3, live_mask, &live),
        CTL_ELECT_ISR_INVALID);
}

Test(ctl_elect, isr_proposal_with_a_dead_broker_is_ineligible)
{
    const int32_t replicas[] = {1, 2, 3};
    uint32_t live = LIVE(1, 2);

    cr_expect_eq(
        ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){1, 2, 3}, 3, live_mask, &live),
        CTL_ELECT_ISR_INELIGIBLE);
    /* A structural error is reported before liveness. */
    cr_expect_eq(ctl_elect_check_isr(replicas, 3, 1, (const int32_t[]){3, 3}, 2, live_mask, &live),
                 CTL_ELECT_ISR_INVALID);
}
