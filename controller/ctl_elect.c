/*
 * ctl_elect: leader election strategies and the never-empty ISR shrink (see ctl_elect.h for
 * the rules). Everything here is a pure function of its arguments.
 */
#include "controller/ctl_elect.h"

#include <string.h>

bool ctl_elect_contains(const int32_t *ids, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id)
            return true;
    }
    return false;
}

int32_t ctl_elect_offline(const int32_t *replicas, size_t n_replicas, const int32_t *isr,
                          size_t n_isr, bool unclean, ctl_elect_live_fn live, void *arg,
                          bool *was_unclean)
{
    int32_t leader = -1;

    if (was_unclean != NULL)
        *was_unclean = false;
    for (size_t i = 0; i < n_replicas && leader < 0; i++) {
        if (live(arg, replicas[i]) && ctl_elect_contains(isr, n_isr, replicas[i]))
            leader = replicas[i];
    }
    for (size_t i = 0; i < n_replicas && leader < 0 && unclean; i++) {
        if (live(arg, replicas[i])) {
            leader = replicas[i];
            if (was_unclean != NULL)
                *was_unclean = true;
        }
    }
    return leader;
}

size_t ctl_elect_shrink_isr(const int32_t *isr, size_t n_isr, int32_t leader,
                            ctl_elect_live_fn live, void *arg, int32_t *out)
{
    int32_t keep;
    size_t n = 0;

    if (n_isr == 0)
        return 0;
    keep = ctl_elect_contains(isr, n_isr, leader) ? leader : isr[0];
    for (size_t i = 0; i < n_isr; i++) {
        if (live(arg, isr[i]))
            out[n++] = isr[i];
    }
    if (n == 0)
        out[n++] = keep;
    return n;
}

bool ctl_elect_initial(const int32_t *replicas, size_t n_replicas, ctl_elect_live_fn live,
                       void *arg, ctl_elect_state_t *out)
{
    ctl_elect_state_t st = {.leader = -1, .leader_epoch = 0, .n_isr = 0};

    for (size_t i = 0; i < n_replicas && i < CTL_MAX_REPLICAS; i++) {
        if (live(arg, replicas[i]))
            st.isr[st.n_isr++] = replicas[i];
    }
    if (st.n_isr == 0)
        return false;
    st.leader = st.isr[0];
    *out = st;
    return true;
}

static bool ctl_elect_same(const ctl_elect_state_t *a, const ctl_elect_state_t *b)
{
    return a->leader == b->leader && a->n_isr == b->n_isr &&
           memcmp(a->isr, b->isr, a->n_isr * sizeof(a->isr[0])) == 0;
}

bool ctl_elect_reconcile(const ctl_elect_state_t *cur, const int32_t *replicas, size_t n_replicas,
                         bool unclean, ctl_elect_live_fn live, void *arg, ctl_elect_state_t *next,
                         bool *was_unclean)
{
    bool changed, took_unclean = false;
    size_t n_isr = cur->n_isr < CTL_MAX_REPLICAS ? cur->n_isr : CTL_MAX_REPLICAS;

    next->leader = cur->leader;
    next->leader_epoch = cur->leader_epoch;
    next->n_isr = ctl_elect_shrink_isr(cur->isr, n_isr, cur->leader, live, arg, next->isr);
    if (cur->leader < 0 || !live(arg, cur->leader)) {
        next->leader = ctl_elect_offline(replicas, n_replicas, next->isr, next->n_isr, unclean,
                                         live, arg, &took_unclean);
        if (took_unclean) {
            next->isr[0] = next->leader;
            next->n_isr = 1;
        }
    }
    changed = !ctl_elect_same(cur, next);
    if (changed)
        next->leader_epoch = cur->leader_epoch + 1;
    if (was_unclean != NULL)
        *was_unclean = took_unclean;
    return changed;
}

ctl_elect_isr_verdict_t ctl_elect_check_isr(const int32_t *replicas, size_t n_replicas,
                                            int32_t leader, const int32_t *isr, size_t n_isr,
                                            ctl_elect_live_fn live, void *arg)
{
    if (n_isr == 0 || n_isr > CTL_MAX_REPLICAS || !ctl_elect_contains(isr, n_isr, leader))
        return CTL_ELECT_ISR_INVALID;
    for (size_t i = 0; i < n_isr; i++) {
        if (!ctl_elect_contains(replicas, n_replicas, isr[i]) || ctl_elect_contains(isr, i, isr[i]))
            return CTL_ELECT_ISR_INVALID;
    }
    for (size_t i = 0; i < n_isr; i++) {
        if (!live(arg, isr[i]))
            return CTL_ELECT_ISR_INELIGIBLE;
    }
    return CTL_ELECT_ISR_OK;
}
