/*
 * br_control: the broker's side of the control RPC (DESIGN.md section 3). It serves the
 * requests the active controller sends -- LeaderAndIsr, UpdateMetadata, StopReplica, and Ping
 * from anyone -- by fencing them (controller epoch, broker epoch), then applying them through
 * the log manager (create, open, delete logs; the leader-epoch cache), the per-partition
 * replica state (br_partition) and the metadata cache (br_metacache). Every request is answered
 * at once, on the loop thread, with one result per partition.
 *
 *   controller --sm_rpc--> br_control_rpc_handler --> br_control_handle --> reply
 *                                                        |  LeaderAndIsr: br_logmgr_create,
 *                                                        |    partition.metadata, br_epoch_assign
 *                                                        |  UpdateMetadata: br_metacache_update,
 *                                                        |    full => delete stale local logs
 *                                                        |  StopReplica: br_logmgr_delete
 *
 * DESIGN NOTES
 *   Invariants
 *     1. controller_epoch is the highest controller epoch of any request accepted so far; a
 *        LeaderAndIsr, UpdateMetadata or StopReplica with a lower one is refused whole with
 *        STALE_CONTROLLER_EPOCH (11) and changes nothing.
 *     2. Such a request is applied only when its broker_epoch equals the broker's current
 *        registration czxid (br_control_set_broker_epoch); otherwise it is refused whole with
 *        STALE_BROKER_EPOCH (77). While the broker is not registered (epoch -1), a request
 *        whose epoch is newer than every epoch this process has had is taken as our
 *        registration in flight (the controller saw the znode before ZooKeeper's answer
 *        reached us: czxids only grow, a duplicate broker id cannot register, and a restarted
 *        broker registers only once its old znode is gone) and that epoch becomes ours;
 *        older ones are refused. The check comes first, as in Kafka.
 *     3. Per partition, LeaderAndIsr applies only when its leader epoch is >= the partition's
 *        current one (FENCED_LEADER_EPOCH, 74, otherwise); StopReplica likewise unless its
 *        epoch is -1 (none) or -2 (topic being deleted).
 *     4. A partition log that LeaderAndIsr named with a topic id carries that id in
 *        `partition.metadata`; a LeaderAndIsr whose topic id differs from the one on disk is
 *        refused for that partition with INCONSISTENT_TOPIC_ID (103) (the full UpdateMetadata
 *        that precedes it for a returning broker deletes such a stale log first).
 *     5. After a full UpdateMetadata no local log remains whose topic the controller does not
 *        know, or whose recorded topic id differs from the cluster's.
 *   Responses: the typed response of the request (LeaderAndIsrResponse, ...) with the
 *   top-level error_code/error_message; per-partition results for LeaderAndIsr and
 *   StopReplica, in request order. An unknown payload gets an ErrorResponse with
 *   UNSUPPORTED_VERSION (35).
 */
#ifndef BR_CONTROL_H
#define BR_CONTROL_H

#include <stdint.h>

#include "broker/br_fileops.h"
#include "broker/br_logmgr.h"
#include "broker/br_metacache.h"
#include "broker/br_partition.h"
#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_rpc.h"

/* Kafka error codes the control handlers answer with. */
enum {
    BR_CONTROL_E_UNKNOWN_SERVER = -1,
    BR_CONTROL_E_NONE = 0,
    BR_CONTROL_E_UNKNOWN_TOPIC_OR_PARTITION = 3,
    BR_CONTROL_E_STALE_CONTROLLER_EPOCH = 11,
    BR_CONTROL_E_INVALID_TOPIC = 17,
    BR_CONTROL_E_UNSUPPORTED_VERSION = 35,
    BR_CONTROL_E_INVALID_REQUEST = 42,
    BR_CONTROL_E_KAFKA_STORAGE_ERROR = 56,
    BR_CONTROL_E_FENCED_LEADER_EPOCH = 74,
    BR_CONTROL_E_STALE_BROKER_EPOCH = 77,
    BR_CONTROL_E_INCONSISTENT_TOPIC_ID = 103,
};

typedef struct br_control br_control_t;

typedef struct br_control_config {
    int32_t broker_id;
    br_logmgr_t *logmgr;       /* borrowed; must outlive the handlers */
    br_metacache_t *metacache; /* borrowed */
    const br_fileops_t *ops;   /* partition.metadata I/O; NULL: br_fileops_posix() */
} br_control_config_t;

/* The answer to one request, built by br_control_handle. The caller holds it (usually on the
 * stack), sends or inspects `env`, then calls br_control_reply_deinit. */
typedef struct br_control_reply {
    Samsa__Envelope env; /* the response; its payload points into the fields below */
    union {
        Samsa__PingResponse ping;
        Samsa__LeaderAndIsrResponse leader_and_isr;
        Samsa__UpdateMetadataResponse update_metadata;
        Samsa__StopReplicaResponse stop_replica;
        Samsa__ErrorResponse error;
    } u;
    Samsa__PartitionResult *results; /* per-partition results (messages malloc'd) */
    Samsa__PartitionResult **result_ptrs;
    size_t n_results;
    char message[SM_ERRBUF_LEN]; /* the top-level error message */
} br_control_reply_t;

/* Creates the handlers' state. Every log the manager loaded becomes a partition in role NONE
 * with the topic id of its partition.metadata (zero when the file is missing or unreadable;
 * logged). Broker epoch -1 (not registered), controller epoch -1. Returns SM_OK, SM_ERR_INVALID
 * (no log manager or metadata cache) or SM_ERR_NOMEM, with a line in eb. */
sm_err_t br_control_new(const br_control_config_t *cfg, br_control_t **out, sm_errbuf_t *eb);

/* Frees the state (not the log manager nor the cache); accepts NULL. */
void br_control_free(br_control_t *c);

/* What the replica layer is told: a partition's state changed (LeaderAndIsr applied, or
 * StopReplica made it NONE), or it is about to be removed (deleted; pointers die after). */
typedef enum br_control_part_event {
    BR_CONTROL_PART_CHANGED,
    BR_CONTROL_PART_REMOVING,
} br_control_part_event_t;

typedef void (*br_control_part_fn)(void *arg, br_partition_t *p, br_control_part_event_t ev);

/* Sets the one listener called, on the loop thread, for every partition change above. */
void br_control_set_listener(br_control_t *c, br_control_part_fn fn, void *arg);

/* The broker's current registration czxid, set by the server when it registers, -1 while it
 * is not registered (after a session expiry): requests are then refused (invariant 2). */
void br_control_set_broker_epoch(br_control_t *c, int64_t epoch);
int64_t br_control_broker_epoch(const br_control_t *c);

/* The highest controller epoch accepted so far, -1 before any. */
int32_t br_control_controller_epoch(const br_control_t *c);

/* The per-partition replica state (owned by c). */
br_partition_set_t *br_control_partitions(const br_control_t *c);

/* Serves one request envelope (borrowed; the reply may point into it, so it must live until
 * the reply is sent) and fills *reply. now_ms: wall-clock time for new logs. Never fails: every
 * problem becomes an error code in the reply. */
void br_control_handle(br_control_t *c, const Samsa__Envelope *req, int64_t now_ms,
                       br_control_reply_t *reply);

/* Releases what br_control_handle allocated in reply; accepts a zeroed reply. */
void br_control_reply_deinit(br_control_reply_t *reply);

/* sm_rpc_handler_fn for sm_rpc_server_new, with arg = the br_control_t: handles the request
 * and answers the call at once. */
void br_control_rpc_handler(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req);

#endif
