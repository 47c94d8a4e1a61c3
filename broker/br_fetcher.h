/*
 * br_fetcher: the follower side of replication. For every partition this broker follows it
 * keeps one place in the fetcher connection to that partition's leader (one Kafka-protocol
 * connection per leader broker, as a Kafka client with replica_id = own id). A partition
 * first settles where its log may differ from the leader's (OffsetForLeaderEpoch, truncation by
 * the KIP-101/279 rules), then fetches: the records are appended with the leader's offsets and
 * epochs (br_log_append_as_follower), new epochs go into the leader-epoch cache, and the
 * follower's high watermark becomes min(leader's HW, own LEO). Loop thread only.
 *
 *   follow(t, p, leader, epoch) --> TRUNCATING --OffsetForLeaderEpoch--> truncate --> FETCHING
 *   FETCHING --Fetch--> append --written--> HW --> Fetch ...  (it tells the leader our LEO)
 *   OFFSET_OUT_OF_RANGE --> TRUNCATING (or restart at the leader's log start if below it)
 *   other partition errors --> that partition waits replica.fetch.backoff.ms
 *   connection lost / no answer within replica.socket.timeout.ms --> reconnect after backoff
 *
 * DESIGN NOTES
 *   Invariants
 *     1. A partition is in at most one connection: the one to its current leader.
 *     2. One request at a time per connection; its answer is applied only to partitions still
 *        followed in that connection with the leader epoch the request was built for.
 *     3. A partition fetches only after it has truncated for its current leader epoch, so the
 *        follower's log is a prefix of the leader's below its fetch offset.
 *     4. Logs are looked up by name at each use (a StopReplica may delete them meanwhile).
 *     5. The appends of an answer are written by writer threads (br_log.h note 5). The
 *        connection sends nothing more until none of its logs has an unwritten append
 *        (br_fetcher_written tells it): the next Fetch's offsets (our LEO, which the leader
 *        counts towards its HW) are then offsets we have in our files. Truncation drains.
 *   Truncation (KIP-279): ask the leader for the end of our latest epoch E; it answers (E',
 *   end). If we know E' too: truncate to min(end, our end of E'); done. If not: truncate to our
 *   end of the largest epoch below E' and ask again. An undefined answer: truncate to our HW.
 */
#ifndef BR_FETCHER_H
#define BR_FETCHER_H

#include <stddef.h>
#include <stdint.h>

#include "broker/br_logmgr.h"
#include "broker/br_metacache.h"
#include "sm_err.h"

struct event_base;

typedef struct br_fetcher br_fetcher_t;

typedef struct br_fetcher_config {
    struct event_base *base;
    int32_t broker_id;
    br_logmgr_t *logmgr;        /* borrowed */
    br_metacache_t *metacache;  /* borrowed: the leaders' Kafka endpoints */
    int32_t wait_max_ms;        /* replica.fetch.wait.max.ms */
    int32_t min_bytes;          /* replica.fetch.min.bytes */
    int32_t max_bytes;          /* replica.fetch.max.bytes, per partition */
    int32_t response_max_bytes; /* replica.fetch.response.max.bytes */
    int64_t backoff_ms;         /* replica.fetch.backoff.ms */
    int64_t socket_timeout_ms;  /* replica.socket.timeout.ms */
} br_fetcher_config_t;

/* An idle fetcher. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_fetcher_new(const br_fetcher_config_t *cfg, br_fetcher_t **out);

/* Closes every connection; accepts NULL. */
void br_fetcher_free(br_fetcher_t *f);

/* Follows (topic, partition) from `leader` in `leader_epoch`: moves it to that leader's
 * connection (made on demand) and starts with truncation. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_fetcher_follow(br_fetcher_t *f, const char *topic, int32_t partition, int32_t leader,
                           int32_t leader_epoch);

/* Appends to (topic, partition) were written (br_logmgr_written_fn): its connection, if it
 * waits for them, sends its next request once none of its logs has any left unwritten. */
void br_fetcher_written(br_fetcher_t *f, const char *topic, int32_t partition);

/* Stops following (topic, partition); nothing if it was not followed. */
void br_fetcher_unfollow(br_fetcher_t *f, const char *topic, int32_t partition);

/* Partitions followed now, and those of them fetching (truncation done). */
size_t br_fetcher_count(const br_fetcher_t *f);
size_t br_fetcher_fetching(const br_fetcher_t *f);

#endif
