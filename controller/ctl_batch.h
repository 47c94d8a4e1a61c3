/*
 * ctl_batch: collects what the active controller must tell brokers while it handles one
 * event (Kafka's ControllerBrokerRequestBatch) and turns it into packed request Envelopes:
 * per broker one LeaderAndIsr, then one UpdateMetadata, then one StopReplica, in that order.
 * Partition details (leader, epochs, ISR, replicas, zkVersion) are read from the model when
 * the batch is flushed, so the newest state goes out; a topic marked for deletion goes out
 * in UpdateMetadata with leader -2. Brokers that are not live at flush time are skipped.
 */
#ifndef CTL_BATCH_H
#define CTL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_model.h"
#include "samsa.pb-c.h"
#include "sm_err.h"

typedef struct ctl_batch ctl_batch_t;

/* Receives one packed request for broker_id (bytes valid during the call). n_partitions: how
 * many partitions it carries (for messages and counters). */
typedef void (*ctl_batch_sink_fn)(void *arg, int32_t broker_id, Samsa__RpcType type,
                                  const uint8_t *env, size_t len, size_t n_partitions);

/* Creates an empty batch reading model (borrowed). Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_batch_new(const ctl_model_t *model, ctl_batch_t **out);
void ctl_batch_free(ctl_batch_t *b);

/* Drops everything collected. */
void ctl_batch_clear(ctl_batch_t *b);

/* True when nothing is collected. */
bool ctl_batch_empty(const ctl_batch_t *b);

/* LeaderAndIsr for topic-partition to broker (is_new: the partition was just created). */
sm_err_t ctl_batch_leader_and_isr(ctl_batch_t *b, int32_t broker, const char *topic,
                                  int32_t partition, bool is_new);

/* The partition's state goes to every live broker in the next UpdateMetadata. */
sm_err_t ctl_batch_update_metadata(ctl_batch_t *b, const char *topic, int32_t partition);

/* Every live broker gets an UpdateMetadata (with the live broker list) even if no partition
 * changed: after a broker joined, left or changed its endpoints. */
void ctl_batch_update_brokers(ctl_batch_t *b);

/* broker gets a full UpdateMetadata: every topic and partition (full = true). */
sm_err_t ctl_batch_update_metadata_full(ctl_batch_t *b, int32_t broker);

/* StopReplica for topic-partition to broker; delete: also delete the log (epoch -2). */
sm_err_t ctl_batch_stop_replica(ctl_batch_t *b, int32_t broker, const char *topic,
                                int32_t partition, bool delete_log);

/* Builds and hands every request to sink (per broker: LeaderAndIsr, UpdateMetadata,
 * StopReplica; brokers in id order), with envelope fields controller_epoch = epoch,
 * sender_id = controller_id, broker_epoch = the receiver's epoch in the model. Clears the
 * batch. Returns SM_OK or SM_ERR_NOMEM (the batch is cleared anyway; what was built has
 * been handed over). */
sm_err_t ctl_batch_flush(ctl_batch_t *b, int32_t controller_id, int32_t epoch,
                         ctl_batch_sink_fn sink, void *arg);

#endif
