/*
 * br_topicconf: the broker's view of the topic-level configuration overrides that matter to
 * it, read from ZooKeeper as ZooKeeper-era Kafka brokers do. Today that is min.insync.replicas:
 * the controller writes each topic's overrides to /config/topics/<topic> (a TopicConfig, at
 * creation and on AlterTopicConfig), and this module keeps, per TRACKED topic, the value found
 * there, falling back to the broker's own min.insync.replicas. Each tracked topic has a data
 * watch on its config node, so an altered config is re-read; a missing node is watched for its
 * creation. Loop thread only (the asynchronous API of sm_zk).
 *
 * DESIGN NOTES
 *   Invariants
 *     1. br_topicconf_min_isr answers the topic's override only while it is tracked and its
 *        config node was last read holding a valid min.insync.replicas; otherwise the default.
 *     2. At most one read (get, or exists when the node is missing) is in flight per topic; a
 *        re-read asked for meanwhile is remembered (stale) and issued when it completes.
 *     3. ZooKeeper callbacks carry the module, never a topic entry: the topic is found again
 *        from the path, so untracking never leaves a callback with a dangling pointer. An entry
 *        untracked while its read is in flight lingers, untracked, until the read completes.
 *   States per topic
 *     untracked --track--> reading --get ok--> known(value | default)
 *                                  --no node--> missing (exists watch) --created--> reading
 *     known --data watch (changed / deleted)--> reading;  any --session CONNECTED--> reading
 *     any --untrack--> untracked (dropped at once, or when its read completes)
 */
#ifndef BR_TOPICCONF_H
#define BR_TOPICCONF_H

#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"
#include "sm_zk.h"

typedef struct br_topicconf br_topicconf_t;

/* Creates the reader. zk is borrowed and must be freed BEFORE this module (sm_zk_free runs
 * every pending callback, whose argument is tc); NULL gives a reader that never reads
 * ZooKeeper (unit tests: only defaults and br_topicconf_apply_blob). default_min_isr is the
 * broker's min.insync.replicas (values below 1 count as 1). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_topicconf_new(sm_zk_t *zk, int32_t default_min_isr, br_topicconf_t **out);

/* Frees the reader and every entry. Accepts NULL. */
void br_topicconf_free(br_topicconf_t *tc);

/* Starts tracking topic (copied): reads /config/topics/<topic> with a data watch. Idempotent
 * and cheap when already tracked (no new read). Out of memory or an invalid name: one warning,
 * the topic stays at the default. */
void br_topicconf_track(br_topicconf_t *tc, const char *topic);

/* Stops tracking topic and forgets its value; later watches for it are ignored. No-op if the
 * topic is not tracked. */
void br_topicconf_untrack(br_topicconf_t *tc, const char *topic);

/* The topic's min.insync.replicas: its override once read, else the default. */
int32_t br_topicconf_min_isr(const br_topicconf_t *tc, const char *topic);

/* To be called from the broker's ZooKeeper session callback: on SM_ZK_EV_CONNECTED every
 * tracked topic is read again (the watches of an expired session are gone). */
void br_topicconf_on_session(br_topicconf_t *tc, sm_zk_event_t ev);

/* Number of tracked topics (for logs and tests). */
size_t br_topicconf_count(const br_topicconf_t *tc);

/* Applies a TopicConfig blob (data/len, as stored in /config/topics/<topic>) to topic, tracking
 * it first if needed (without a ZooKeeper read when zk is NULL). This is the parser the read
 * completion uses; tests call it directly. A blob that does not decode, or a
 * min.insync.replicas that is not an integer in [1, 2^31-1], leaves the topic at the default
 * (one warning) and returns SM_ERR_CORRUPT or SM_ERR_INVALID; SM_ERR_NOMEM when the topic
 * cannot be tracked; else SM_OK (an absent key also means the default). */
sm_err_t br_topicconf_apply_blob(br_topicconf_t *tc, const char *topic, const uint8_t *data,
                                 size_t len);

#endif
