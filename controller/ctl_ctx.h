/*
 * ctl_ctx: the controller's shared context, seen only by the modules that make up the
 * controller process (ctl_controller, ctl_active, ctl_topics, ctl_delete, ctl_alter, ctl_isr,
 * ctl_api). The building blocks they drive (model, mirror, election, zkw, channel, batch) are
 * opaque and know nothing of it. Everything runs on one event loop thread.
 *
 *                      +--------------- ctl_controller (lifecycle, ZooKeeper session) ----+
 *   ZooKeeper watches -|--> ctl_mirror --> ctl_model <-- reads -- ctl_api (RPC server)     |
 *                      |        | events                             | requests            |
 *                      |        v                                    v                     |
 *   /controller race  -|--> ctl_election --won/lost--> ctl_active <-- ctl_topics, ctl_delete,
 *                      |                                  |  writes     ctl_alter, ctl_isr |
 *                      |                          ctl_zkw (epoch CHECK)   ctl_batch        |
 *                      |                                                    | per broker   |
 *                      +----------------------------------------------- ctl_channel x N ---+
 */
#ifndef CTL_CTX_H
#define CTL_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_batch.h"
#include "controller/ctl_channel.h"
#include "controller/ctl_election.h"
#include "controller/ctl_mirror.h"
#include "controller/ctl_model.h"
#include "controller/ctl_strmap.h"
#include "controller/ctl_zkw.h"
#include "sm_rpc.h"
#include "sm_zk.h"

struct event;
struct event_base;

/* ctl_partition_t.flags, owned by the active controller. */
#define CTL_PF_BUSY   0x1u /* a state write is in flight */
#define CTL_PF_DIRTY  0x2u /* reconcile again once the write in flight is over */
#define CTL_PF_RESYNC 0x4u /* a write's outcome is unknown: reconcile once the mirror drains */

/* Kafka error codes used in responses (DESIGN.md section 3, ISSUE 4). */
enum {
    CTL_KERR_NONE = 0,
    CTL_KERR_UNKNOWN_TOPIC = 3,
    CTL_KERR_REQUEST_TIMED_OUT = 7,
    CTL_KERR_STALE_CONTROLLER_EPOCH = 11,
    CTL_KERR_INVALID_TOPIC = 17,
    CTL_KERR_UNSUPPORTED_VERSION = 35,
    CTL_KERR_INVALID_UPDATE_VERSION = 95,
    CTL_KERR_FENCED_LEADER_EPOCH = 74,
    CTL_KERR_NOT_LEADER = 6,
    CTL_KERR_TOPIC_EXISTS = 36,
    CTL_KERR_INVALID_PARTITIONS = 37,
    CTL_KERR_INVALID_REPLICATION_FACTOR = 38,
    CTL_KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    CTL_KERR_INVALID_CONFIG = 40,
    CTL_KERR_NOT_CONTROLLER = 41,
    CTL_KERR_INVALID_REQUEST = 42,
    CTL_KERR_STALE_BROKER_EPOCH = 77,
    CTL_KERR_INELIGIBLE_REPLICA = 107,
    CTL_KERR_UNKNOWN_SERVER_ERROR = -1,
};

/* The kind of a request sent to a broker, carried in the channel tag with the term. */
enum {
    CTL_TAG_LAI = 1,
    CTL_TAG_UM = 2,
    CTL_TAG_STOP = 3,
    CTL_TAG_STOP_DELETE = 4, /* StopReplica(delete) of a topic deletion; seq = deletion id */
};

typedef struct ctl_ctx {
    struct event_base *base;

    /* configuration */
    int32_t id;
    char host[256];
    uint16_t port;
    int session_timeout_ms;
    uint32_t socket_timeout_ms;
    bool unclean_default;
    int32_t default_partitions;
    int32_t default_rf;

    /* building blocks */
    sm_zk_t *zk;
    ctl_model_t *model;
    ctl_mirror_t *mirror;
    ctl_election_t *election;
    ctl_zkw_t *zkw;
    sm_rpc_server_t *server;
    ctl_batch_t *batch;     /* what the current event must tell brokers */
    ctl_batch_t *del_batch; /* StopReplica(delete) of one deletion, flushed at once */
    struct event *flush_ev; /* flushes `batch` at the end of the loop iteration */
    struct event *retry_ev; /* periodic work of the active controller (deletions) */

    /* session */
    bool roots_ready;
    size_t roots_pending;

    /* what is known of the cluster */
    char cluster_id[64];
    int32_t leader_id; /* the active controller, -1 if none known */
    int32_t leader_epoch;
    char leader_host[256];
    int32_t leader_port;

    /* the active term */
    bool active;
    bool failover_pending; /* won, waiting for the mirror to drain */
    int32_t epoch;
    uint32_t term;            /* grows on every win and every resignation */
    ctl_channel_t **channels; /* index: position in the model's broker array is unstable, so
                                 linear search by broker id */
    size_t n_channels, cap_channels;
    size_t n_resync; /* partitions flagged CTL_PF_RESYNC */
    int64_t won_at_ms;
    size_t failover_lai;  /* LeaderAndIsr of the failover still unanswered */
    bool failover_timing; /* counting failover_lai */
    size_t failover_partitions;
    int32_t *fo_ids; /* per broker: failover LeaderAndIsr it has not answered yet */
    uint32_t *fo_counts;
    size_t n_fo, cap_fo;

    /* topic deletions in progress: topic -> ctl_deletion_t * (ctl_delete.c) */
    ctl_strmap_t *deletions;
    uint32_t deletion_seq;
    struct ctl_delete_wait *delete_waits; /* DeleteTopics calls waiting for completion */
    struct ctl_create *create_waits;      /* CreateTopics calls waiting for leaders */
    uint64_t sink_seq;                    /* seq put into the tags of the current flush */
    int sink_kind_override;               /* 0, or CTL_TAG_STOP_DELETE while flushing one */
} ctl_ctx_t;

/* ---- ctl_controller.c --------------------------------------------------------------------- */

/* Milliseconds on the monotonic clock, and wall-clock milliseconds. */
int64_t ctl_now_ms(void);
int64_t ctl_wall_ms(void);

/* ---- ctl_active.c: the active controller -------------------------------------------------- */

/* This controller won the election: start the term (failover runs once the mirror drained). */
void ctl_active_begin(ctl_ctx_t *c, int32_t epoch, int32_t epoch_version);

/* Ends the term (logs "resigned: <reason>"): drops channels, disarms writes, answers waiting
 * requests with NOT_CONTROLLER. Does not touch the election. */
void ctl_active_end(ctl_ctx_t *c, const char *reason);

/* A mirror event while active (also called while standby: it returns at once). */
void ctl_active_on_mirror(ctl_ctx_t *c, const ctl_mirror_event_t *ev);

/* Brings one partition in line with the live brokers (elect / shrink ISR / create state). */
void ctl_active_reconcile(ctl_ctx_t *c, ctl_topic_t *t, ctl_partition_t *p);

/* A state write of this controller completed: updates the model (clears BUSY), logs the
 * election, queues LeaderAndIsr to the live replicas and UpdateMetadata to all; on failure
 * asks the mirror to re-read the node. Returns the partition when the write succeeded. */
ctl_partition_t *ctl_active_written(ctl_ctx_t *c, const char *topic, int32_t partition,
                                    sm_err_t err, const ctl_pstate_t *written);

/* The same for a leader's AlterIsr (an ISR-only change, the leader epoch kept): as Kafka's
 * controller, only UpdateMetadata goes out -- the leader learns the state from the AlterIsr
 * answer, and a LeaderAndIsr racing a later answer could roll the leader's ISR back. */
ctl_partition_t *ctl_active_written_isr(ctl_ctx_t *c, const char *topic, int32_t partition,
                                        sm_err_t err, const ctl_pstate_t *written);

/* Schedules a flush of c->batch at the end of the loop iteration. */
void ctl_active_schedule_flush(ctl_ctx_t *c);

/* Flushes a batch to the brokers' channels (tags carry the term and kind). */
void ctl_active_flush(ctl_ctx_t *c, ctl_batch_t *b);

/* The channel to broker id, or NULL. */
ctl_channel_t *ctl_active_channel(ctl_ctx_t *c, int32_t id);

/* ---- ctl_delete.c: topic deletion --------------------------------------------------------- */

/* Starts (or resumes) deleting topic: UpdateMetadata leader -2, StopReplica(delete) to live
 * replicas, then the znodes once every live replica answered. */
void ctl_delete_start(ctl_ctx_t *c, const char *topic);

/* Broker events for deletions in progress. */
void ctl_delete_on_broker_up(ctl_ctx_t *c, int32_t broker);
void ctl_delete_on_broker_down(ctl_ctx_t *c, int32_t broker);

/* A StopReplica(delete) of deletion seq was answered by broker. */
void ctl_delete_on_stop_answer(ctl_ctx_t *c, int32_t broker, uint32_t seq);

/* The topic node is gone (deletion finished, by us or a previous controller). */
void ctl_delete_on_topic_removed(ctl_ctx_t *c, const char *topic);

/* The marker vanished without the topic going (someone removed it by hand). */
void ctl_delete_on_marker_removed(ctl_ctx_t *c, const char *topic);

/* Periodic retry of failed teardowns. */
void ctl_delete_tick(ctl_ctx_t *c);

/* End of term: forgets deletions in progress, answers waiting calls with NOT_CONTROLLER. */
void ctl_delete_reset(ctl_ctx_t *c);

/* The DeleteTopicsRequest handler. */
void ctl_delete_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req);

/* ---- ctl_topics.c: CreateTopics / DescribeTopics ------------------------------------------ */

void ctl_topics_handle_create(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req);
void ctl_topics_handle_describe(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req);

/* Answers every CreateTopics call still waiting for leaders (at shutdown). */
void ctl_topics_reset(ctl_ctx_t *c);

/* ---- ctl_isr.c: AlterIsr ------------------------------------------------------------------ */

void ctl_isr_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req);

/* ---- ctl_alter.c: AlterTopicConfig -------------------------------------------------------- */

void ctl_alter_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req);

/* ---- ctl_api.c: the RPC server ------------------------------------------------------------ */

/* The sm_rpc handler (arg: the ctl_ctx_t). */
void ctl_api_handle(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req);

/* "not the active controller (controller 2 is, epoch 7)" into buf. */
const char *ctl_api_not_controller_msg(const ctl_ctx_t *c, char *buf, size_t len);

#endif
