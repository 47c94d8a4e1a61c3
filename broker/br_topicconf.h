/*
 * br_topicconf: the broker's view of the topic-level configuration overrides that matter to
 * it, read from ZooKeeper as ZooKeeper-era Kafka brokers do: min.insync.replicas, and the log
 * settings segment.bytes, segment.ms, retention.ms, retention.bytes, index.interval.bytes,
 * flush.messages, flush.ms, max.message.bytes and message.timestamp.type. The controller
 * writes each topic's overrides to /config/topics/<topic> (a TopicConfig, at creation and on
 * AlterTopicConfig), and this module keeps, per TRACKED topic, the values found there; what a
 * topic does not set falls back to the broker's own settings (min.insync.replicas, log.*).
 * Each tracked topic has a data watch on its config node, so an altered config is re-read; a
 * missing node is watched for its creation. After every read the listener hears of the topic,
 * so its logs can take the new settings. Loop thread only (the asynchronous API of sm_zk).
 *
 * DESIGN NOTES
 *   Invariants
 *     1. br_topicconf_min_isr answers the topic's override, and br_topicconf_overlay applies
 *        a log setting, only while the topic is tracked and its config node was last read
 *        holding a valid value for that key; otherwise the broker's setting holds.
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

#include "broker/br_log.h"
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

/* Overwrites the fields of cfg that the tracked topic's config sets (Kafka's topic-level
 * names: segment.bytes -> segment_bytes, raised to the smallest a log takes (below a batch
 * header, as Kafka's minimum of 14 is, no batch fits either way); segment.ms;
 * retention.ms; retention.bytes, any negative meaning unlimited; index.interval.bytes;
 * flush.messages; flush.ms; max.message.bytes; message.timestamp.type) and leaves the others.
 * Matches br_logmgr_overlay_fn with tc as its argument. */
void br_topicconf_overlay(void *tc, const char *topic, br_log_config_t *cfg);

/* Called (loop thread) with a tracked topic whose config node was read, changed or removed. */
typedef void (*br_topicconf_fn)(void *arg, const char *topic);

/* Sets who hears of read configs; NULL: nobody. */
void br_topicconf_set_listener(br_topicconf_t *tc, br_topicconf_fn fn, void *arg);

/* To be called from the broker's ZooKeeper session callback: on SM_ZK_EV_CONNECTED every
 * tracked topic is read again (the watches of an expired session are gone). */
void br_topicconf_on_session(br_topicconf_t *tc, sm_zk_event_t ev);

/* Number of tracked topics (for logs and tests). */
size_t br_topicconf_count(const br_topicconf_t *tc);

/* Applies a TopicConfig blob (data/len, as stored in /config/topics/<topic>) to topic, tracking
 * it first if needed (without a ZooKeeper read when zk is NULL). This is the parser the read
 * completion uses; tests call it directly. A blob that does not decode leaves every key at the
 * default and returns SM_ERR_CORRUPT; a value out of the range the controller accepts for its
 * key (min.insync.replicas an integer in [1, 2^31-1], and so on) leaves that key at the default
 * (one warning each) and returns SM_ERR_INVALID; SM_ERR_NOMEM when the topic cannot be
 * tracked; else SM_OK (an absent key also means the default). Does not call the listener. */
sm_err_t br_topicconf_apply_blob(br_topicconf_t *tc, const char *topic, const uint8_t *data,
                                 size_t len);

#endif
