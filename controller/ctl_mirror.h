/*
 * ctl_mirror: keeps a ctl_model_t current from ZooKeeper, on every controller (active or
 * standby): /brokers/ids (children + each registration), /brokers/topics (children + each
 * topic node + each partition state node), /config/topics/<t> of known topics, and
 * /admin/delete_topics (children). Reads run on the sm_zk loop with one-shot watches that are
 * re-armed on every change, so a standby that wins the election already holds the cluster
 * state and needs no bulk read (Kafka's failover reads every state node).
 *
 * The owner hears about each change after the model holds it, through one callback, and may
 * call any ctl_mirror_* function from inside it.
 *
 * DESIGN NOTES
 *
 * Invariants
 *  1. At most one watch of each kind (data, child) is armed per path: a read asks ZooKeeper
 *     for a watch only when the mirror's registry says none is armed or being armed. So a
 *     watch fires once per change and never multiplies, however often a path is re-read.
 *  2. Responses on one session arrive in request order, so the newest response for a node is
 *     its newest state: results are applied as they come, without version arithmetic.
 *  3. A read that failed because the connection dropped is queued and sent again on the next
 *     SM_ZK_EV_CONNECTED of the same session; after an expiry every watch is gone, so the
 *     owner calls ctl_mirror_reset() and ctl_mirror_start() does a full reload.
 *  4. pending counts reads sent and not yet answered; CTL_MIRROR_IDLE is reported each time
 *     it drops to zero. Once the first full load has drained, the model is complete.
 *
 * States
 *
 *     new --start--> LOADING --pending 0--> SYNCED --reset (expiry)--> STOPPED --start--> LOADING
 *
 *   SYNCED keeps following watches; LOADING differs only in that the load is not complete.
 */
#ifndef CTL_MIRROR_H
#define CTL_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_model.h"
#include "sm_err.h"
#include "sm_zk.h"

typedef struct ctl_mirror ctl_mirror_t;

typedef enum ctl_mirror_kind {
    CTL_MIRROR_BROKER_UP = 1,  /* a broker registered (new, or a new incarnation) */
    CTL_MIRROR_BROKER_DOWN,    /* a broker's registration disappeared (or was replaced) */
    CTL_MIRROR_BROKER_UPDATED, /* same incarnation, new endpoints or rack */
    CTL_MIRROR_TOPIC_ADDED,    /* a topic node appeared (or was recreated with a new id) */
    CTL_MIRROR_TOPIC_CHANGED,  /* its assignment changed */
    CTL_MIRROR_TOPIC_REMOVED,  /* its node is gone */
    CTL_MIRROR_STATE,          /* a partition's state node changed, appeared or vanished */
    CTL_MIRROR_CONFIG,         /* a topic's config overrides changed */
    CTL_MIRROR_DELETION_ADDED, /* /admin/delete_topics/<t> appeared */
    CTL_MIRROR_DELETION_REMOVED,
    CTL_MIRROR_IDLE, /* every read sent has been answered */
} ctl_mirror_kind_t;

typedef struct ctl_mirror_event {
    ctl_mirror_kind_t kind;
    int32_t broker_id; /* BROKER_* */
    int64_t old_epoch; /* BROKER_DOWN: the epoch of the incarnation that left */
    const char *topic; /* TOPIC_*, STATE, CONFIG, DELETION_* */
    int32_t partition; /* STATE */
} ctl_mirror_event_t;

typedef void (*ctl_mirror_cb)(void *arg, const ctl_mirror_event_t *ev);

/* Creates a mirror that fills model (borrowed) through zk (borrowed; free zk first, so that
 * pending reads complete while the mirror still exists). Nothing is read before
 * ctl_mirror_start. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_mirror_new(sm_zk_t *zk, ctl_model_t *model, ctl_mirror_cb cb, void *arg,
                        ctl_mirror_t **out);

/* Frees the mirror (not the model). Accepts NULL. */
void ctl_mirror_free(ctl_mirror_t *m);

/* Starts a full load (first session, or after ctl_mirror_reset): clears the model and reads
 * everything, arming watches. Call on SM_ZK_EV_CONNECTED once the roots exist. */
void ctl_mirror_start(ctl_mirror_t *m);

/* On SM_ZK_EV_CONNECTED of the same session (after a disconnection): re-sends the reads that
 * the disconnection interrupted. */
void ctl_mirror_resume(ctl_mirror_t *m);

/* On SM_ZK_EV_EXPIRED: forgets armed watches and queued reads; the model is kept (stale)
 * until the next ctl_mirror_start. */
void ctl_mirror_reset(ctl_mirror_t *m);

/* Reads a partition's state node again (no second watch: invariant 1). The result arrives as
 * a CTL_MIRROR_STATE event if it differs from the model. */
void ctl_mirror_refresh_state(ctl_mirror_t *m, const char *topic, int32_t partition);

/* Reads sent and not answered yet. */
size_t ctl_mirror_pending(const ctl_mirror_t *m);

/* True once the first full load since the last start has drained. */
bool ctl_mirror_synced(const ctl_mirror_t *m);

#endif
