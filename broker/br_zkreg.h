/*
 * br_zkreg: the broker's membership in ZooKeeper (DESIGN.md section 2, kafka-zk-design.md
 * section 7). Once per process it reads /cluster/id (waiting with a watch until the first
 * controller creates it) and hands it to the owner to check against meta.properties; then it
 * registers the ephemeral /brokers/ids/<id> with a BrokerRegistration payload and reports the
 * broker epoch, the node's czxid. After a session expiry it registers again (a new czxid): a
 * node left by our own expired session is deleted first (KAFKA-7165); a node owned by another
 * live session means another broker has our id, which is fatal.
 *
 * It runs on the loop thread of the sm_zk session it is given, and learns about the session
 * through br_zkreg_on_session, which the owner calls from its sm_zk session callback.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. At most one ZooKeeper operation of the registration is in flight (`busy`); every
 *        completion either starts the next step or leaves the machine waiting for a session
 *        event or a watch.
 *     2. registered is true only between a create (or an ownership check) that proved the node
 *        belongs to the current session and the next EXPIRED event.
 *     3. A node is deleted only when its ephemeralOwner is a session this process used for an
 *        earlier create and that session is no longer the current one.
 *   State diagram
 *       WAIT_SESSION --connected--> CLUSTER_GET --no node--> CLUSTER_WAIT --created--> CLUSTER_GET
 *       CLUSTER_GET --ok, owner accepts--> ENSURE --ok--> CREATE --ok--> REGISTERED
 *       CREATE --exists--> OWNER_GET --ours--> REGISTERED
 *                                    --stale ours--> DELETE --ok--> CREATE
 *                                    --foreign--> FAILED (on_fatal)
 *       any --connection lost (op AGAIN/CLOSED)--> retry the step on the next CONNECTED
 *       REGISTERED --expired--> WAIT_SESSION (on_lost) --connected--> ENSURE (cluster id known)
 */
#ifndef BR_ZKREG_H
#define BR_ZKREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_config.h"
#include "sm_err.h"
#include "sm_zk.h"

#define BR_ZKREG_CLUSTER_ID_PATH "/cluster/id"
#define BR_ZKREG_IDS_PATH        "/brokers/ids"
#define BR_ZKREG_SOFTWARE        "samsa " SM_VERSION
#define BR_ZKREG_OLD_SESSIONS    8 /* earlier sessions remembered for invariant 3 */

typedef struct br_zkreg br_zkreg_t;

typedef struct br_zkreg_callbacks {
    /* /cluster/id holds cluster_id: return SM_OK to go on, or an error with one line in eb
     * (e.g. meta.properties names another cluster), which becomes on_fatal. Called once. */
    sm_err_t (*on_cluster_id)(void *arg, const char *cluster_id, sm_errbuf_t *eb);
    /* Registered with this broker epoch (czxid). */
    void (*on_registered)(void *arg, int64_t broker_epoch);
    /* The registration is gone (the session expired); a new one follows when possible. */
    void (*on_lost)(void *arg);
    /* Registration cannot go on: msg is one line for a person. Nothing more is attempted. */
    void (*on_fatal)(void *arg, sm_err_t err, const char *msg);
    void *arg;
} br_zkreg_callbacks_t;

/* Who owns an existing /brokers/ids/<id> node, from its ephemeralOwner. */
typedef enum br_zkreg_owner {
    BR_ZKREG_OWNER_US = 0,    /* the current session: we are registered */
    BR_ZKREG_OWNER_STALE = 1, /* an earlier session of this process: delete and create again */
    BR_ZKREG_OWNER_OTHER = 2, /* somebody else: another broker has our id */
} br_zkreg_owner_t;

/* Pure: classifies `owner` given the current session and old[0..n_old), the earlier sessions
 * this process created the node in. */
br_zkreg_owner_t br_zkreg_classify(int64_t owner, int64_t session, const int64_t *old,
                                   size_t n_old);

/* Builds the packed BrokerRegistration of a broker configured by cfg (a validated broker
 * configuration): broker.id, the advertised Kafka listener, the control endpoint with
 * control_port (the port actually bound), broker.rack, start_time_ms and the software
 * version. An empty or wildcard host is replaced by this machine's host name. *out is
 * malloc'd (free it). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_zkreg_payload(const sm_config_t *cfg, uint16_t control_port, int64_t start_time_ms,
                          uint8_t **out, size_t *len);

/* Starts the machine on zk (borrowed; the session may not be connected yet). payload/len: the
 * packed registration (copied). cb is copied. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_zkreg_new(sm_zk_t *zk, int32_t broker_id, const uint8_t *payload, size_t len,
                      const br_zkreg_callbacks_t *cb, br_zkreg_t **out);

/* Frees the machine; accepts NULL. Free the sm_zk session FIRST (sm_zk_free completes the
 * pending operations, whose callbacks still reach this object). */
void br_zkreg_free(br_zkreg_t *r);

/* To be called from the owner's sm_zk session callback with every event. */
void br_zkreg_on_session(br_zkreg_t *r, sm_zk_event_t ev);

bool br_zkreg_registered(const br_zkreg_t *r);
/* The current broker epoch (czxid), -1 while not registered. */
int64_t br_zkreg_epoch(const br_zkreg_t *r);
/* The cluster id read from /cluster/id, or NULL before. */
const char *br_zkreg_cluster_id(const br_zkreg_t *r);

#endif
