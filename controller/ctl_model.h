/*
 * ctl_model: the controller's picture of the cluster, as ZooKeeper holds it: live brokers
 * (id, broker epoch = registration czxid, endpoints, rack), topics (id, replica assignment,
 * per-partition leader/ISR state with the state znode's version), topic config overrides and
 * the set of topics marked for deletion. Every controller, active or standby, keeps one
 * current from ZooKeeper watches (ctl_mirror); the active controller also updates it right
 * after its own writes succeed. The model makes no decision and does no I/O.
 *
 * Broker, topic and partition records are plain structs owned by the model: callers read
 * them and must not change them, except the `flags` fields, which belong to the owner (the
 * active controller marks writes in flight there). Pointers stay valid until the record is
 * replaced or removed.
 *
 * DESIGN NOTES
 *
 * Invariants
 *  1. Brokers are kept sorted by id; at most one record per id. A record's epoch is the czxid
 *     of the registration it was read from.
 *  2. A topic's partitions are numbered 0..n-1 and parts[i].index == i.
 *  3. has_state is true exactly when the partition's state znode was last seen to exist;
 *     then zk_version is that node's data version and isr its ISR.
 *  4. Topic configs and deletion markers are keyed by topic name and exist independently of
 *     the topic record (a marker may name a topic that is already gone).
 *
 * Partition states (Kafka's PartitionStateMachine, as the model shows them)
 *
 *     NonExistent --topic put--> New (no state node) --state set--> Online (leader live)
 *                                                                   Offline (leader dead/-1)
 *     any --topic removed--> NonExistent
 *
 *   Online and Offline differ only by whether the leader is a live broker, so the model
 *   stores the state node and derives them (ctl_model_partition_online). The transitions
 *   are made by the controller (ctl_active) through ctl_elect, then stored here with
 *   ctl_model_state_set once ZooKeeper accepted the write.
 *
 * Broker changes (ctl_model_broker_put)
 *
 *     absent --put--> NEW;  same id, same epoch --put--> UPDATED (data) or SAME;
 *     same id, other epoch --put--> BOUNCED (a new incarnation: treat as death + start)
 */
#ifndef CTL_MODEL_H
#define CTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"
#include "sm_uuid.h"

typedef struct ctl_model ctl_model_t;

/* A listener endpoint (strings owned by the record). host NULL: absent. */
typedef struct ctl_endpoint {
    char *listener;
    char *host;
    int32_t port;
} ctl_endpoint_t;

typedef struct ctl_broker {
    int32_t id;
    int64_t epoch; /* czxid of /brokers/ids/<id> */
    ctl_endpoint_t *endpoints;
    size_t n_endpoints;
    ctl_endpoint_t control; /* control RPC endpoint; host NULL when absent */
    char *rack;             /* NULL when the broker has none */
    int64_t start_time_ms;
} ctl_broker_t;

/* A partition's state znode, as read or as about to be written. */
typedef struct ctl_pstate {
    int32_t leader; /* -1: none */
    int32_t leader_epoch;
    int32_t controller_epoch;
    int32_t recovery; /* LeaderRecoveryState: 0 RECOVERED, 1 RECOVERING */
    const int32_t *isr;
    size_t n_isr;
    int32_t zk_version;
} ctl_pstate_t;

typedef struct ctl_partition {
    int32_t index;
    int32_t *replicas; /* preference order */
    size_t n_replicas;
    int32_t *adding; /* KIP-455 reassignment; usually empty */
    size_t n_adding;
    int32_t *removing;
    size_t n_removing;
    bool has_state; /* invariant 3 */
    int32_t leader;
    int32_t leader_epoch;
    int32_t controller_epoch;
    int32_t recovery;
    int32_t *isr;
    size_t n_isr;
    int32_t zk_version;
    uint32_t flags; /* the owner's */
} ctl_partition_t;

typedef struct ctl_topic {
    char *name;
    sm_uuid_t id;
    ctl_partition_t *parts;
    size_t n_parts;
    uint32_t flags; /* the owner's */
} ctl_topic_t;

/* One replica list given to ctl_model_topic_put. */
typedef struct ctl_assignment {
    const int32_t *replicas;
    size_t n_replicas;
    const int32_t *adding;
    size_t n_adding;
    const int32_t *removing;
    size_t n_removing;
} ctl_assignment_t;

typedef enum ctl_model_change {
    CTL_MODEL_SAME = 0,
    CTL_MODEL_NEW,     /* a broker or topic that was not there */
    CTL_MODEL_UPDATED, /* same identity (epoch / topic id), other data */
    CTL_MODEL_BOUNCED, /* same id, other identity: broker epoch or topic id changed */
} ctl_model_change_t;

/* Creates an empty model. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_model_new(ctl_model_t **out);

/* Frees everything. Accepts NULL. */
void ctl_model_free(ctl_model_t *m);

/* Forgets everything (before a full reload after a ZooKeeper session expiry). */
void ctl_model_clear(ctl_model_t *m);

/* ---- brokers ------------------------------------------------------------------------------ */

/* Stores b, taking ownership of its strings and arrays (b is zeroed, even on error). *change
 * says how the record differs from the one it replaces. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_model_broker_put(ctl_model_t *m, ctl_broker_t *b, ctl_model_change_t *change);

/* Removes broker id; returns true when it was there. */
bool ctl_model_broker_remove(ctl_model_t *m, int32_t id);

/* The broker's record or NULL. */
const ctl_broker_t *ctl_model_broker(const ctl_model_t *m, int32_t id);

/* True when broker id is registered. */
bool ctl_model_broker_live(const ctl_model_t *m, int32_t id);

/* The live brokers sorted by id (*n of them); valid until the next broker change. */
const ctl_broker_t *ctl_model_brokers(const ctl_model_t *m, size_t *n);

/* Frees a broker record's contents and zeroes it. */
void ctl_broker_deinit(ctl_broker_t *b);

/* ---- topics ------------------------------------------------------------------------------- */

/*
 * Stores topic name with id and the replica lists of partitions 0..n_parts-1 (copied). If the
 * topic exists with the same id, partitions keep their states (their replica lists are
 * replaced; new partitions have none) and *change is SAME or UPDATED; with another id the
 * old record is replaced (BOUNCED); else NEW. *out (may be NULL) receives the record.
 * Returns SM_OK, SM_ERR_INVALID (a replica list longer than CTL_MAX_REPLICAS) or
 * SM_ERR_NOMEM (the model is unchanged).
 */
sm_err_t ctl_model_topic_put(ctl_model_t *m, const char *name, const sm_uuid_t *id,
                             const ctl_assignment_t *parts, size_t n_parts,
                             ctl_model_change_t *change, ctl_topic_t **out);

/* The topic or NULL. */
ctl_topic_t *ctl_model_topic(const ctl_model_t *m, const char *name);

/* The partition or NULL. */
ctl_partition_t *ctl_model_partition(const ctl_model_t *m, const char *topic, int32_t p);

/* Removes the topic record (not its config or deletion marker); true when it was there. */
bool ctl_model_topic_remove(ctl_model_t *m, const char *name);

/* Iterates topics in no particular order: *pos = 0 first; NULL at the end. The model must
 * not gain or lose topics meanwhile. */
ctl_topic_t *ctl_model_topic_next(const ctl_model_t *m, size_t *pos);

/* Numbers of topics and of partitions over all topics. */
size_t ctl_model_topic_count(const ctl_model_t *m);
size_t ctl_model_partition_count(const ctl_model_t *m);

/* Sets a partition's state (isr copied). Returns SM_OK or SM_ERR_NOMEM (unchanged);
 * SM_ERR_INVALID when st->n_isr is above CTL_MAX_REPLICAS. */
sm_err_t ctl_model_state_set(ctl_partition_t *p, const ctl_pstate_t *st);

/* Forgets a partition's state (its node is gone or was never created). */
void ctl_model_state_clear(ctl_partition_t *p);

/* True when the partition has a state whose leader is a live broker. */
bool ctl_model_partition_online(const ctl_model_t *m, const ctl_partition_t *p);

/* ---- topic configs ------------------------------------------------------------------------ */

/* Replaces topic name's config overrides with keys/values[0..n) (copied). SM_ERR_NOMEM. */
sm_err_t ctl_model_config_put(ctl_model_t *m, const char *name, const char *const *keys,
                              const char *const *values, size_t n);

/* Drops topic name's overrides. */
void ctl_model_config_remove(ctl_model_t *m, const char *name);

/* The value of one override, or NULL. */
const char *ctl_model_config_value(const ctl_model_t *m, const char *name, const char *key);

/* All overrides of topic name: *keys and *values point at n borrowed strings (n = 0 when
 * there are none). Valid until the next config change of that topic. */
size_t ctl_model_config_list(const ctl_model_t *m, const char *name, const char *const **keys,
                             const char *const **values);

/* Whether unclean leader election is allowed for topic name: its override if it has a valid
 * one, else broker_default. */
bool ctl_model_unclean(const ctl_model_t *m, const char *name, bool broker_default);

/* ---- deletion markers --------------------------------------------------------------------- */

/* Records /admin/delete_topics/<name>; SM_OK (also when already there) or SM_ERR_NOMEM. */
sm_err_t ctl_model_deletion_add(ctl_model_t *m, const char *name);
/* Forgets the marker; true when it was there. */
bool ctl_model_deletion_remove(ctl_model_t *m, const char *name);
bool ctl_model_deletion_has(const ctl_model_t *m, const char *name);
/* Iterates marker names: *pos = 0 first; NULL at the end. No changes meanwhile. */
const char *ctl_model_deletion_next(const ctl_model_t *m, size_t *pos);
size_t ctl_model_deletion_count(const ctl_model_t *m);

#endif
