/*
 * br_api_data: the data-plane context shared by the Produce, Fetch, ListOffsets and
 * OffsetForLeaderEpoch handlers (br_api_produce.c, br_api_fetch.c, br_api_list_offsets.c,
 * br_api_epoch.c): the broker's parts they read (borrowed from the front end's deps),
 * message.max.bytes, the purgatory where long-poll Fetches and acks=all Produces wait, and the
 * replica layer (br_replica: high watermarks, follower fetches). Each written append
 * (br_api_data_on_written) wakes the purgatory, the replica layer does when a high watermark
 * moves. Loop thread only.
 *
 *   br_server:  k = br_kafka_new(...); br_api_data_new(k, &d); br_api_data_register(d);
 *               ... br_kafka_free(k) (aborts parked fetches); br_api_data_free(d)
 *
 * The per-partition checks every handler makes (known? leader here? healthy log?) live here
 * too, so that the APIs answer the same codes for the same state.
 */
#ifndef BR_API_DATA_H
#define BR_API_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/br_kafka.h"
#include "broker/br_log.h"
#include "broker/br_purgatory.h"
#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

#define BR_API_DATA_TOPIC_MAX 255 /* buffer for a topic name (Kafka allows 249) */

struct br_replica;

typedef struct br_api_data {
    br_kafka_t *k;               /* borrowed */
    const br_kafka_deps_t *deps; /* borrowed from k */
    br_purgatory_t *purgatory;   /* owned */
    int32_t message_max_bytes;   /* message.max.bytes */
    struct br_replica *replica;  /* borrowed; NULL: no replication (the leader's LEO is the HW) */
} br_api_data_t;

/* Creates the context for front end k (its deps must hold base, logmgr, control, metacache).
 * Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_api_data_new(br_kafka_t *k, br_api_data_t **out);

/* Frees the context; call after br_kafka_free (which aborts the parked fetches that reference
 * the purgatory). Accepts NULL. */
void br_api_data_free(br_api_data_t *d);

/* Registers Produce 0-8, Fetch 4-11, ListOffsets 0-5 and OffsetForLeaderEpoch 0-4 on d->k
 * with d as their argument.
 * Returns SM_OK or br_kafka_register's error. */
sm_err_t br_api_data_register(br_api_data_t *d);

/* Handlers (arg = the br_api_data_t), exposed for registration and tests. */
void br_api_produce_handle(void *arg, br_kreq_t *req);
void br_api_fetch_handle(void *arg, br_kreq_t *req);
void br_api_list_offsets_handle(void *arg, br_kreq_t *req);
void br_api_epoch_handle(void *arg, br_kreq_t *req); /* OffsetForLeaderEpoch 0-4 */

/* Copies the topic view into buf (BR_API_DATA_TOPIC_MAX + 1 bytes) as a C string. False for a
 * null, empty or too long name, or one holding a NUL. */
bool br_api_data_topic_cstr(sm_str_t name, char *buf);

/* The state of (topic, partition) for a leader-only API: SM_KERR_NONE with *log set when this
 * broker leads it and its log is healthy; else UNKNOWN_TOPIC_OR_PARTITION (not known here nor
 * in the metadata), NOT_LEADER_OR_FOLLOWER (known but led elsewhere, or not hosted),
 * KAFKA_STORAGE_ERROR (leader here, log failed or missing). With current_epoch >= 0 (v9+
 * Fetch, v4+ ListOffsets): FENCED_LEADER_EPOCH when older than ours, UNKNOWN_LEADER_EPOCH when
 * newer. *leader_epoch (may be NULL) = our leader epoch. */
sm_kerr_t br_api_data_leader_log(const br_api_data_t *d, const char *topic, int32_t partition,
                                 int32_t current_epoch, br_log_t **log, int32_t *leader_epoch);

/* Hands the replica layer to the handlers (br_server, once both exist): acks=all, the high
 * watermark and follower fetches go through it. */
void br_api_data_set_replica(br_api_data_t *d, struct br_replica *replica);

/* The high watermark of a leader's log: the replica layer's, or without one the log end. */
int64_t br_api_data_high_watermark(const br_api_data_t *d, const char *topic, int32_t partition,
                                   br_log_t *log);

/* The log end of (topic, partition) moved (an append was written): moves the high watermark
 * (an ISR of one; without a replica layer, the log end) and wakes what waits on the
 * partition -- followers' and consumers' long polls, acks=1 and acks=all produces. br_server
 * calls it from the log manager's br_logmgr_written_fn; produce calls it for appends written
 * at once. */
void br_api_data_on_written(br_api_data_t *d, const char *topic, int32_t partition);

#endif
