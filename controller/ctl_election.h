/*
 * ctl_election: the controller election over ZooKeeper (kafka-zk-design.md section 2). Every
 * controller watches /controller; when it is absent each one races with ONE multi: create the
 * ephemeral /controller {id, endpoint, epoch+1} and set /controller_epoch = epoch+1
 * conditionally on the version it read. The winner's fencing token is the new version of
 * /controller_epoch: every later write of the active controller starts with a CHECK of it
 * (ctl_zkw), so a deposed controller cannot write.
 *
 * DESIGN NOTES
 *
 * States
 *
 *     IDLE --start (session up)--> WATCHING --/controller absent--> RACING --won--> ACTIVE
 *                                      ^  ^                            |              |
 *                                      |  +----lost (EXISTS/VERSION)---+              |
 *                                      +--------------- resign (owner) ---------------+
 *     any --reset (session expired)--> IDLE
 *
 * Transitions
 *   WATCHING  exists(/controller, watch): absent           read epoch, -> RACING
 *   WATCHING  watch fires (deleted)                         exists again
 *   RACING    multi ok                                      -> ACTIVE, on_won(epoch, zkv)
 *   RACING    NODEEXISTS / BADVERSION                       -> WATCHING (exists + watch)
 *   RACING    connection lost (outcome unknown)             read /controller: ours -> ACTIVE
 *   ACTIVE    watch: /controller deleted or changed         on_lost("...") -> WATCHING
 *   ACTIVE    resign() by the owner (deposed, error)        delete our /controller if this
 *                                                           session owns it -> WATCHING
 *   any       reset() (session expired)                     -> IDLE; start() on the next session
 *
 * Invariants
 *  1. At most one operation of the election is in flight; a watch that fires while one is
 *     in flight only sets `recheck`, handled when it completes.
 *  2. `generation` grows on reset and resign; results from an older generation are dropped.
 *  3. epoch/epoch_version are meaningful only in ACTIVE.
 */
#ifndef CTL_ELECTION_H
#define CTL_ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "sm_err.h"
#include "sm_zk.h"

typedef struct ctl_election ctl_election_t;

typedef struct ctl_election_cbs {
    /* This controller won: epoch is its controller epoch, epoch_version the zkVersion of
     * /controller_epoch that every later write must CHECK. */
    void (*won)(void *arg, int32_t epoch, int32_t epoch_version);
    /* While ACTIVE, /controller was deleted or names someone else: stop acting at once. */
    void (*lost)(void *arg, const char *reason);
    /* Who the active controller is, whenever that is learnt (id -1: none). For messages and
     * DescribeCluster. */
    void (*leader)(void *arg, int32_t id, int32_t epoch, const char *host, int32_t port);
    void *arg;
} ctl_election_cbs_t;

/* Creates an election for controller id whose RPC endpoint is host:port (copied). zk is
 * borrowed (free it first). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_election_new(sm_zk_t *zk, int32_t id, const char *host, int32_t port,
                          const ctl_election_cbs_t *cbs, ctl_election_t **out);

void ctl_election_free(ctl_election_t *e);

/* Starts watching / racing (call on SM_ZK_EV_CONNECTED; a no-op unless IDLE). */
void ctl_election_start(ctl_election_t *e);

/* Back to IDLE without callbacks (call on SM_ZK_EV_EXPIRED: the ephemeral is gone). */
void ctl_election_reset(ctl_election_t *e);

/* The owner steps down (deposed by a failed epoch check, or a fatal error): leaves ACTIVE,
 * deletes /controller if this session still owns it, and watches again. No callback. */
void ctl_election_resign(ctl_election_t *e);

bool ctl_election_active(const ctl_election_t *e);

/* The epoch and the /controller_epoch version won (valid while active). */
int32_t ctl_election_epoch(const ctl_election_t *e);
int32_t ctl_election_epoch_version(const ctl_election_t *e);

#endif
