/*
 * ctl_elect: the controller's leader election strategies and ISR rules, as pure functions of
 * a partition's replica list (assignment order = preference order), its current leader and
 * ISR, and which brokers are live (Kafka's PartitionLeaderElectionAlgorithms and the replica
 * state machine's "remove from ISR"). No state, no I/O: the controller feeds the model in and
 * writes what comes out.
 *
 * Rules
 *   new partition      leader = first live replica, ISR = live replicas in assignment order,
 *                      leader epoch 0; no live replica -> no state yet (stays New)
 *   offline (clean)    leader = first replica in assignment order that is live AND in the ISR
 *   offline (unclean)  only when allowed: if no ISR member is live, the first live replica,
 *                      with ISR = [leader]
 *   ISR shrink         dead members leave the ISR, never to empty: when no member is live the
 *                      ISR keeps one (the old leader if it was a member, else the first
 *                      member), so a clean election is possible when it returns
 *   epochs             every change of leader or ISR made by the controller bumps the leader
 *                      epoch by one
 */
#ifndef CTL_ELECT_H
#define CTL_ELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_assign.h"

/* Whether a broker is live (registered) right now. */
typedef bool (*ctl_elect_live_fn)(void *arg, int32_t broker_id);

/* Leader and ISR of one partition. leader -1: none. */
typedef struct ctl_elect_state {
    int32_t leader;
    int32_t leader_epoch;
    size_t n_isr;
    int32_t isr[CTL_MAX_REPLICAS];
} ctl_elect_state_t;

/* The first replica (assignment order) that is live and in isr; if there is none and
 * unclean is true, the first live replica (then *was_unclean is set). Returns the chosen
 * broker id or -1. was_unclean may be NULL. */
int32_t ctl_elect_offline(const int32_t *replicas, size_t n_replicas, const int32_t *isr,
                          size_t n_isr, bool unclean, ctl_elect_live_fn live, void *arg,
                          bool *was_unclean);

/* Writes into out (capacity n_isr) the members of isr that are live, in ISR order; when none
 * is, the single member kept by the never-empty rule (leader if it is a member, else isr[0]).
 * Returns the count written (0 only when n_isr is 0). out may equal isr. */
size_t ctl_elect_shrink_isr(const int32_t *isr, size_t n_isr, int32_t leader,
                            ctl_elect_live_fn live, void *arg, int32_t *out);

/* State for a partition that has none yet. Returns false (and leaves *out untouched) when no
 * replica is live. n_replicas is at most CTL_MAX_REPLICAS. */
bool ctl_elect_initial(const int32_t *replicas, size_t n_replicas, ctl_elect_live_fn live,
                       void *arg, ctl_elect_state_t *out);

/*
 * Brings an existing state in line with the live brokers: dead members leave the ISR (never
 * to empty); if the leader is dead or there is none, an offline election runs over the new
 * ISR (unclean only if allowed); if nobody can lead, leader = -1. A change of leader or ISR
 * bumps the leader epoch. Writes the result into *next and returns true when it differs from
 * *cur (false: nothing to write; *next then equals *cur). *was_unclean (may be NULL) tells
 * whether the leader came from outside the ISR.
 */
bool ctl_elect_reconcile(const ctl_elect_state_t *cur, const int32_t *replicas, size_t n_replicas,
                         bool unclean, ctl_elect_live_fn live, void *arg, ctl_elect_state_t *next,
                         bool *was_unclean);

/* Verdict on an ISR proposed by a partition leader (AlterIsr). */
typedef enum ctl_elect_isr_verdict {
    CTL_ELECT_ISR_OK = 0,
    CTL_ELECT_ISR_INVALID = 1,    /* empty, too long, a duplicate, a non-replica, or no leader */
    CTL_ELECT_ISR_INELIGIBLE = 2, /* well-formed, but a member is not a live broker */
} ctl_elect_isr_verdict_t;

/* Checks a proposed ISR against the partition's replicas and leader: a non-empty set of
 * distinct replicas (at most CTL_MAX_REPLICAS) that contains the leader, every member live
 * (Kafka's INVALID_REQUEST and INELIGIBLE_REPLICA). */
ctl_elect_isr_verdict_t ctl_elect_check_isr(const int32_t *replicas, size_t n_replicas,
                                            int32_t leader, const int32_t *isr, size_t n_isr,
                                            ctl_elect_live_fn live, void *arg);

/* True when id is one of ids[0..n). */
bool ctl_elect_contains(const int32_t *ids, size_t n, int32_t id);

#endif
