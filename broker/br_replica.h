/*
 * br_replica: the broker's replication layer (DESIGN.md section 4, kafka-zk-design.md section
 * 4). For the partitions this broker LEADS it tracks every follower's log end offset (from the
 * fetch offsets of their Fetch requests) and last caught-up time, moves the high watermark,
 * and proposes ISR changes to the controller (AlterIsr over the control RPC): a follower that
 * has not caught up for replica.lag.time.max.ms leaves, one that reaches the high watermark
 * and the start of the current leader epoch comes back. For the partitions it FOLLOWS it hands
 * them to the fetcher (br_fetcher), which truncates and fetches from their leaders.
 *
 *   br_control --LeaderAndIsr/StopReplica--> br_replica_on_partition --> leader state | fetcher
 *   Fetch(replica_id >= 0) --> br_replica_follower_fetch --> follower LEO --> HW --> wake
 *   Produce (leader append) --> br_replica_after_append --> HW (ISR of one) --> wake
 *   timer (lag / 2) --> shrink proposals;  follower fetch --> expand proposals
 *   AlterIsr answer --> br_partition_set_isr --> HW may move --> wake
 *
 * DESIGN NOTES
 *   Invariants
 *     1. The HW of a led partition only grows while this broker leads it in one leader epoch,
 *        never exceeds the leader's log end, and = min(LEO over the *maximal* ISR: the ISR
 *        plus a member whose addition is in flight), including the leader's own LEO. A
 *        follower whose LEO is not known yet in this epoch (no fetch since the election)
 *        holds the HW back.
 *     2. Better than ZooKeeper-era Kafka: the HW does not move while the committed ISR has
 *        fewer than min.insync.replicas members (KIP-966), so records acknowledged with
 *        acks=1 under a short ISR become visible only once enough replicas hold them.
 *     3. At most one AlterIsr is in flight per partition; its answer is ignored if the
 *        leader epoch changed meanwhile. Only the controller's answer changes the ISR.
 *     4. Parked waiters (acks=all produces, long-poll fetches) on a partition are woken
 *        whenever its HW moves or its role or leader epoch changes.
 *   Follower side: see br_fetcher.h. A follower's HW = min(leader's HW, own LEO).
 */
#ifndef BR_REPLICA_H
#define BR_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/br_control.h"
#include "broker/br_log.h"
#include "broker/br_logmgr.h"
#include "broker/br_metacache.h"
#include "broker/br_partition.h"
#include "broker/br_purgatory.h"
#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_kerr.h"
#include "sm_rpc.h"

struct event_base;
struct br_ctlclient;
struct br_topicconf;

typedef struct br_replica br_replica_t;

/* How AlterIsr goes to the controller: br_ctlclient_call's contract. NULL in the config means
 * br_ctlclient_call on cfg.ctlclient; unit tests put a stand-in here to see the proposals. */
typedef sm_err_t (*br_replica_send_fn)(void *arg, Samsa__Envelope *req, uint32_t timeout_ms,
                                       sm_rpc_done_fn done, void *done_arg);

typedef struct br_replica_config {
    struct event_base *base;
    int32_t broker_id;
    br_logmgr_t *logmgr;            /* borrowed, as the rest */
    br_control_t *control;          /* partition states; the listener is set here */
    br_metacache_t *metacache;      /* leader endpoints for the fetcher */
    struct br_ctlclient *ctlclient; /* AlterIsr to the active controller */
    br_replica_send_fn send;        /* NULL: br_ctlclient_call(ctlclient, ...) */
    void *send_arg;
    br_purgatory_t *purgatory;        /* woken on HW and role changes */
    struct br_topicconf *topicconf;   /* per-topic min.insync.replicas; NULL: min_isr only */
    int64_t lag_max_ms;               /* replica.lag.time.max.ms */
    int32_t min_isr;                  /* broker default min.insync.replicas */
    int32_t fetch_wait_max_ms;        /* replica.fetch.wait.max.ms */
    int32_t fetch_min_bytes;          /* replica.fetch.min.bytes */
    int32_t fetch_max_bytes;          /* replica.fetch.max.bytes (per partition) */
    int32_t fetch_response_max_bytes; /* replica.fetch.response.max.bytes */
    int64_t fetch_backoff_ms;         /* replica.fetch.backoff.ms */
    int64_t socket_timeout_ms;        /* replica.socket.timeout.ms */
} br_replica_config_t;

/* Creates the layer, registers as br_control's listener and takes over every partition the
 * control state already holds. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_replica_new(const br_replica_config_t *cfg, br_replica_t **out);

/* Stops the fetchers and timers and unhooks from br_control; accepts NULL. */
void br_replica_free(br_replica_t *rm);

/* br_control listener: a partition changed role, leader, epoch or ISR, or is going. */
void br_replica_on_partition(void *arg, br_partition_t *p, br_control_part_event_t ev);

/* The high watermark that consumers may read up to: the leader's HW for a led partition, else
 * the one learned from the leader; never above the log end. */
int64_t br_replica_high_watermark(const br_replica_t *rm, const char *topic, int32_t partition,
                                  br_log_t *log);

/* A follower's Fetch of a led partition at fetch_offset (its LEO), naming leader_epoch (its
 * current_leader_epoch): records its position and caught-up time, may move the HW and propose
 * an ISR expansion. Recorded only when leader_epoch is ours (else FENCED_LEADER_EPOCH or
 * UNKNOWN_LEADER_EPOCH, nothing recorded: that log was not truncated against this epoch).
 * NOT_LEADER_OR_FOLLOWER when not led here or replica_id is not one of its replicas. */
sm_kerr_t br_replica_follower_fetch(br_replica_t *rm, const char *topic, int32_t partition,
                                    int32_t replica_id, int32_t leader_epoch, int64_t fetch_offset,
                                    int64_t now_ms);

/* Appends to (topic, partition) were written: as its leader, the HW may move (an ISR of
 * one); as a follower, the fetcher may send its next request (br_fetcher_written). */
void br_replica_after_append(br_replica_t *rm, const char *topic, int32_t partition);

/* acks=all admission: NOT_ENOUGH_REPLICAS when the ISR is below the topic's
 * min.insync.replicas, else NONE. */
sm_kerr_t br_replica_check_min_isr(const br_replica_t *rm, const char *topic, int32_t partition);

/* acks=all completion for an append that ended at end_offset (exclusive) in leader epoch
 * `epoch`: *done false while it must wait; else *err = NONE (the HW covers it),
 * NOT_LEADER_OR_FOLLOWER (this broker no longer leads; a later epoch of the same leadership,
 * as after a controller-made ISR change, still counts), or NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * (the ISR fell below min.insync.replicas, so the HW cannot cover it). Waiters are woken at
 * every role change, so one that spanned a spell as follower has been answered already. */
void br_replica_acks_status(const br_replica_t *rm, const char *topic, int32_t partition,
                            int32_t epoch, int64_t end_offset, bool *done, sm_kerr_t *err);

/* Counters for logs and tests: AlterIsr proposals sent and accepted. */
uint64_t br_replica_alter_sent(const br_replica_t *rm);
uint64_t br_replica_alter_accepted(const br_replica_t *rm);

#endif
