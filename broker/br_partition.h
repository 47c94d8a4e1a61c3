/*
 * br_partition: the broker's replica state of each partition it hosts -- what the controller
 * last decided for it (role, leader, leader epoch, ISR, replicas, partition epoch) and its topic
 * id -- and the `partition.metadata` file that keeps the topic id next to the log (Kafka's
 * KIP-516 format). The control handlers (br_control) change it; the replica layer (br_replica)
 * hangs follower positions and the high watermark off it (br_partition_set_ext). The logs
 * themselves belong to br_logmgr. Loop thread only.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. A set holds at most one partition per (topic, index), sorted by topic then index.
 *     2. leader_epoch only grows while the partition stays in the set (br_control refuses an
 *        older one before calling br_partition_apply).
 *     3. role is LEADER iff leader == the broker's own id; FOLLOWER iff another broker leads
 *        (or none does) and the broker is in the replicas; NONE after StopReplica without
 *        delete, or for a log found on disk that no LeaderAndIsr has named yet.
 *   States
 *       (absent) --add--> NONE --apply--> LEADER / FOLLOWER --apply--> LEADER / FOLLOWER
 *       any --stop--> NONE;  any --remove (StopReplica delete, stale log)--> (absent)
 */
#ifndef BR_PARTITION_H
#define BR_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_fileops.h"
#include "sm_err.h"
#include "sm_uuid.h"

#define BR_PARTITION_METADATA "partition.metadata"
#define BR_PARTITION_NO_EPOCH (-1)

typedef enum br_partition_role {
    BR_PARTITION_NONE = 0,
    BR_PARTITION_LEADER = 1,
    BR_PARTITION_FOLLOWER = 2,
} br_partition_role_t;

/* What LeaderAndIsr says about one partition (arrays borrowed for the call). */
typedef struct br_partition_state {
    int32_t leader;
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t controller_epoch;
    const int32_t *isr;
    size_t n_isr;
    const int32_t *replicas;
    size_t n_replicas;
} br_partition_state_t;

typedef struct br_partition br_partition_t;
typedef struct br_partition_set br_partition_set_t;

/* An empty set. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_partition_set_new(br_partition_set_t **out);
/* Frees the set and every partition in it; accepts NULL. */
void br_partition_set_free(br_partition_set_t *s);

/* The partition (topic, index), or NULL. */
br_partition_t *br_partition_get(const br_partition_set_t *s, const char *topic, int32_t partition);

/* Returns the partition (topic, index), adding it (role NONE, epoch -1, zero topic id) when
 * absent. Returns SM_OK, SM_ERR_INVALID (empty topic, negative index) or SM_ERR_NOMEM. */
sm_err_t br_partition_add(br_partition_set_t *s, const char *topic, int32_t partition,
                          br_partition_t **out);

/* Removes and frees the partition if present. Pointers to it become invalid. */
void br_partition_remove(br_partition_set_t *s, const char *topic, int32_t partition);

/* Number of partitions, and the i-th (i < count) in (topic, index) order. */
size_t br_partition_count(const br_partition_set_t *s);
br_partition_t *br_partition_at(const br_partition_set_t *s, size_t i);

/* Records the controller's decision for this broker (own_id): role, leader, epochs, ISR and
 * replicas (copied). The caller has checked the leader epoch. Returns SM_OK or SM_ERR_NOMEM
 * (the partition is then unchanged). */
sm_err_t br_partition_apply(br_partition_t *p, int32_t own_id, const br_partition_state_t *st);

/* An ISR change the controller accepted (AlterIsr answer): the new ISR (copied) and partition
 * epoch; leader and leader epoch are unchanged. Returns SM_OK or SM_ERR_NOMEM (unchanged). */
sm_err_t br_partition_set_isr(br_partition_t *p, const int32_t *isr, size_t n,
                              int32_t partition_epoch);

/* The replica layer's per-partition state: an owned pointer freed with ext_free when the
 * partition is removed or the set freed (br_replica keeps follower positions here). */
void br_partition_set_ext(br_partition_t *p, void *ext, void (*ext_free)(void *));
void *br_partition_ext(const br_partition_t *p);

/* Whether broker id is in the ISR. */
bool br_partition_in_isr(const br_partition_t *p, int32_t id);

/* StopReplica without delete: role NONE (the epoch is kept for later fencing). */
void br_partition_stop(br_partition_t *p);

void br_partition_set_topic_id(br_partition_t *p, const sm_uuid_t *id);

const char *br_partition_topic(const br_partition_t *p);
int32_t br_partition_index(const br_partition_t *p);
br_partition_role_t br_partition_role(const br_partition_t *p);
/* "leader", "follower" or "none". */
const char *br_partition_role_str(br_partition_role_t role);
int32_t br_partition_leader(const br_partition_t *p);
int32_t br_partition_leader_epoch(const br_partition_t *p);
int32_t br_partition_partition_epoch(const br_partition_t *p);
const sm_uuid_t *br_partition_topic_id(const br_partition_t *p);
const int32_t *br_partition_replicas(const br_partition_t *p, size_t *n);
const int32_t *br_partition_isr(const br_partition_t *p, size_t *n);

/* ---- partition.metadata ------------------------------------------------------------------- */

/* Writes `<dir>/partition.metadata` = "version: 0\ntopic_id: <base64>\n" atomically
 * (br_checkpoint_write_file). Returns SM_OK or the I/O error with a line in eb. */
sm_err_t br_partition_metadata_write(const br_fileops_t *ops, const char *dir, const sm_uuid_t *id,
                                     sm_errbuf_t *eb);

/* Reads `<dir>/partition.metadata` into *id. Returns SM_OK, SM_ERR_NOT_FOUND (no file),
 * SM_ERR_CORRUPT ("PATH: ..." in eb: not Kafka's format or an unknown version) or SM_ERR_IO. */
sm_err_t br_partition_metadata_read(const br_fileops_t *ops, const char *dir, sm_uuid_t *id,
                                    sm_errbuf_t *eb);

#endif
