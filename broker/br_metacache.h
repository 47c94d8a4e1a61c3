/*
 * br_metacache: the broker's copy of the cluster metadata, fed by the controller's
 * UpdateMetadata requests (DESIGN.md section 3) and read by whatever answers clients: the Kafka
 * Metadata API, FindCoordinator, the follower fetchers. It holds the live brokers (id, Kafka
 * endpoints, control endpoint, rack), the controller id, and every topic the controller told
 * us about (name, topic id, and per partition leader, leader epoch, ISR, replicas, offline
 * replicas). It never talks to ZooKeeper; it is exactly what the controller last said.
 * Loop thread only.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. Brokers are sorted by id, topics by name, a topic's partitions by index; no duplicates.
 *     2. A topic in the cache has at least one partition; a partition whose leader is -2
 *        (Kafka's "topic being deleted" sentinel) is never stored (Kafka's MetadataCache drops
 *        it too, so clients stop seeing a topic as soon as its deletion starts).
 *     3. Everything is owned by the cache (deep copies of the request).
 *   Transitions (br_metacache_update)
 *     full = true     the topic table becomes exactly the request's topics; brokers replaced
 *     full = false    per topic in the request: a different non-zero topic id replaces the
 *                     topic (it was deleted and created again); each listed partition is
 *                     inserted or replaced, or removed when its leader is -2; a topic left
 *                     without partitions is removed. Topics not named are untouched. The
 *                     live-broker list is replaced when the request lists any broker (the
 *                     controller sends all live brokers with every UpdateMetadata, as Kafka's).
 */
#ifndef BR_METACACHE_H
#define BR_METACACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_uuid.h"

#define BR_METACACHE_NO_LEADER       (-1)
#define BR_METACACHE_LEADER_DELETING (-2)

/* Read-only views handed out by the getters: valid until the next br_metacache_update or
 * br_metacache_free. */
typedef struct br_metacache_endpoint {
    char *listener; /* "PLAINTEXT", "CONTROL"; NULL when absent */
    char *host;     /* NULL when absent */
    int32_t port;
} br_metacache_endpoint_t;

typedef struct br_metacache_broker {
    int32_t id;
    br_metacache_endpoint_t *endpoints; /* Kafka listeners, in the controller's order */
    size_t n_endpoints;
    br_metacache_endpoint_t control; /* host NULL when the controller did not send it */
    char *rack;                      /* NULL when the broker has none */
} br_metacache_broker_t;

typedef struct br_metacache_partition {
    int32_t partition;
    int32_t leader; /* BR_METACACHE_NO_LEADER when offline */
    int32_t leader_epoch;
    int32_t partition_epoch;  /* zkVersion of the state znode */
    int32_t controller_epoch; /* of the controller that made the decision */
    int32_t *replicas;
    size_t n_replicas;
    int32_t *isr;
    size_t n_isr;
    int32_t *offline_replicas;
    size_t n_offline_replicas;
} br_metacache_partition_t;

typedef struct br_metacache_topic {
    char *name;
    sm_uuid_t id;                         /* SM_UUID_ZERO when the controller sent none */
    br_metacache_partition_t *partitions; /* sorted by partition */
    size_t n_partitions;
} br_metacache_topic_t;

typedef struct br_metacache br_metacache_t;

/* An empty cache (no brokers, no topics, controller id -1). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_metacache_new(br_metacache_t **out);

/* Frees the cache; accepts NULL. */
void br_metacache_free(br_metacache_t *mc);

/* Applies one UpdateMetadata request (see the transitions above). The request is checked
 * first and a bad one changes nothing: SM_ERR_INVALID with a line in eb for a topic state
 * without a name, a topic id that is not 16 bytes, a negative partition index or broker id.
 * SM_ERR_NOMEM may leave part of a partial update applied (each topic is replaced whole). */
sm_err_t br_metacache_update(br_metacache_t *mc, const Samsa__UpdateMetadataRequest *req,
                             sm_errbuf_t *eb);

/* True once any UpdateMetadata has been applied (the cache is then worth answering from). */
bool br_metacache_ready(const br_metacache_t *mc);

/* The controller id of the last update, -1 before any. */
int32_t br_metacache_controller_id(const br_metacache_t *mc);

/* Live brokers: their number, the i-th (i < count, sorted by id), or the one with `id`
 * (NULL when it is not live). */
size_t br_metacache_broker_count(const br_metacache_t *mc);
const br_metacache_broker_t *br_metacache_broker_at(const br_metacache_t *mc, size_t i);
const br_metacache_broker_t *br_metacache_broker(const br_metacache_t *mc, int32_t id);

/* Topics: their number, the i-th (i < count, sorted by name), the one named `name`, or the
 * one whose id is `id` (NULL when unknown). */
size_t br_metacache_topic_count(const br_metacache_t *mc);
const br_metacache_topic_t *br_metacache_topic_at(const br_metacache_t *mc, size_t i);
const br_metacache_topic_t *br_metacache_topic(const br_metacache_t *mc, const char *name);
const br_metacache_topic_t *br_metacache_topic_by_id(const br_metacache_t *mc, const sm_uuid_t *id);

/* One partition of a topic, or NULL when the topic or the partition is unknown. */
const br_metacache_partition_t *br_metacache_partition(const br_metacache_t *mc, const char *topic,
                                                       int32_t partition);
const br_metacache_partition_t *br_metacache_topic_partition(const br_metacache_topic_t *t,
                                                             int32_t partition);

/* Partitions over all topics. */
size_t br_metacache_partition_count(const br_metacache_t *mc);

#endif
