/*
 * ctl_zkw: every ZooKeeper write of the active controller. Each one is a multi whose first op
 * CHECKs /controller_epoch at the version this controller won (KAFKA-6082), so a deposed
 * controller's writes fail as a whole; when that check fails the owner hears it once through
 * `fenced` and must resign. Partition state writes, which come in thousands at failover or
 * when a broker dies, are batched: requests made during one loop iteration go out together
 * in multis of up to CTL_ZKW_BATCH partitions, and a batch that fails because of one
 * partition is sent again without it.
 *
 * DESIGN NOTES
 *
 * Invariants
 *  1. Every multi sent starts with CHECK(/controller_epoch, epoch_version).
 *  2. Every accepted request completes exactly once, never from inside the call that made
 *     it: with SM_ERR_STATE when its term (ctl_zkw_arm .. ctl_zkw_disarm) ended first. So a
 *     callback's arg must outlive the writer's requests (the controller) or be a context the
 *     callback frees.
 *  3. A failed batch is re-sent only after removing the op that failed: a state create whose
 *     parent exists drops that parent op, one whose partition directory is missing gains it,
 *     an item whose own op fails is completed with that error. Each retry removes or adds an
 *     op that cannot fail the same way again, so a batch converges.
 *  4. SM_ERR_AGAIN (connection lost) completes every item of the batch with SM_ERR_AGAIN: the
 *     outcome is unknown and the caller must re-read before retrying.
 */
#ifndef CTL_ZKW_H
#define CTL_ZKW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_model.h"
#include "sm_err.h"
#include "sm_zk.h"

struct event_base;

#define CTL_ZKW_BATCH 250

/* Expected version for ctl_zkw_state: create the node (and missing partition dirs). */
#define CTL_ZKW_CREATE (-2)

typedef struct ctl_zkw ctl_zkw_t;

/* The epoch check failed: another controller has been elected. */
typedef void (*ctl_zkw_fenced_fn)(void *arg);

/* Completion of ctl_zkw_multi: err is SM_OK, SM_ERR_FENCED, SM_ERR_AGAIN, SM_ERR_CLOSED,
 * SM_ERR_STATE (the term ended) or the failing op's error; res->ops[0] is the epoch check and
 * res->ops[i + 1] the caller's op i (res may have no ops on SM_ERR_AGAIN / SM_ERR_CLOSED). */
typedef void (*ctl_zkw_multi_fn)(void *arg, sm_err_t err, const sm_zk_result_t *res);

/* Completion of ctl_zkw_state: err is SM_OK (written->zk_version is the node's new version),
 * SM_ERR_VERSION (the node moved on), SM_ERR_EXISTS (create: it exists), SM_ERR_NOT_FOUND
 * (set: no node; create: no topic node), SM_ERR_FENCED, SM_ERR_AGAIN, SM_ERR_CLOSED, ... */
typedef void (*ctl_zkw_state_fn)(void *arg, const char *topic, int32_t partition, sm_err_t err,
                                 const ctl_pstate_t *written);

/* Completion of ctl_zkw_delete_tree: SM_OK once every root and all below it are gone;
 * SM_ERR_STATE when the term ended first. */
typedef void (*ctl_zkw_done_fn)(void *arg, sm_err_t err);

/* Creates a writer on zk (borrowed; free the writer after zk). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_zkw_new(struct event_base *base, sm_zk_t *zk, ctl_zkw_fenced_fn fenced, void *arg,
                     ctl_zkw_t **out);

/* Frees the writer; queued state writes are dropped without callbacks. Free zk first (its
 * pending multis complete then, with SM_ERR_CLOSED). Accepts NULL. */
void ctl_zkw_free(ctl_zkw_t *w);

/* Starts a term: writes from now on CHECK /controller_epoch at epoch_version. */
void ctl_zkw_arm(ctl_zkw_t *w, int32_t epoch_version);

/* Ends the term: pending requests complete later with SM_ERR_STATE; new ones are refused
 * with SM_ERR_STATE until the next arm. */
void ctl_zkw_disarm(ctl_zkw_t *w);

/* Sends [CHECK epoch] + ops[0..n) (n + 1 <= SM_ZK_MULTI_MAX; everything is copied). cb runs
 * once unless disarmed. Returns SM_OK, SM_ERR_STATE (not armed), SM_ERR_INVALID, SM_ERR_NOMEM. */
sm_err_t ctl_zkw_multi(ctl_zkw_t *w, const sm_zk_op_t *ops, size_t n, ctl_zkw_multi_fn cb,
                       void *arg);

/* Queues a write of a partition's state node: a conditional set at expected_version, or a
 * create (CTL_ZKW_CREATE) that also creates the partition's directories if missing. st is
 * copied (its zk_version is ignored). cb runs once unless disarmed. Returns SM_OK,
 * SM_ERR_STATE (not armed) or SM_ERR_NOMEM. */
sm_err_t ctl_zkw_state(ctl_zkw_t *w, const char *topic, int32_t partition, const ctl_pstate_t *st,
                       int32_t expected_version, ctl_zkw_state_fn cb, void *arg);

/* Sends queued state writes now instead of at the end of the loop iteration (errors may
 * call back from inside this call). */
void ctl_zkw_flush(ctl_zkw_t *w);

/* Deletes roots[0..n) and everything below them (missing roots are skipped): lists the trees,
 * then deletes deepest first in epoch-checked multis; the roots go together in the last one.
 * Retries a few times when the trees change meanwhile. Returns SM_OK, SM_ERR_STATE,
 * SM_ERR_NOMEM. */
sm_err_t ctl_zkw_delete_tree(ctl_zkw_t *w, const char *const *roots, size_t n, ctl_zkw_done_fn cb,
                             void *arg);

/* Requests sent or queued and not completed. */
size_t ctl_zkw_pending(const ctl_zkw_t *w);

/* For ctl_zkw_tree.c: the session, and the current term (changes on arm and disarm). */
sm_zk_t *ctl_zkw_zk(const ctl_zkw_t *w);
uint64_t ctl_zkw_term(const ctl_zkw_t *w);

#endif
