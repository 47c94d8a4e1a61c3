/*
 * ctl_codec: the controller's znode payloads (proto/samsa.proto section 2) to and from the
 * model's types: broker registrations, topic assignments, partition states, topic configs,
 * the controller registration and epoch, the cluster id and deletion markers. Decoders
 * check what the model relies on (contiguous partitions, bounded replica lists) and reject
 * the rest with SM_ERR_CORRUPT; encoders return malloc'd bytes the caller frees.
 */
#ifndef CTL_CODEC_H
#define CTL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "controller/ctl_assign.h"
#include "controller/ctl_model.h"
#include "sm_err.h"
#include "sm_uuid.h"

/* Decodes /brokers/ids/<id> into *out (owned by the caller: ctl_broker_deinit). id comes from
 * the path, epoch from the node's czxid. SM_ERR_CORRUPT (undecodable, or the payload names
 * another id), SM_ERR_NOMEM. */
sm_err_t ctl_codec_broker_decode(const void *data, size_t len, int32_t id, int64_t epoch,
                                 ctl_broker_t *out);

/* Encodes a registration (for tests and tools that stand in for a broker). */
sm_err_t ctl_codec_broker_encode(const ctl_broker_t *b, uint8_t **out, size_t *len);

/* A decoded /brokers/topics/<t>: parts[i] is partition i; the arrays point into the
 * decoded message, so they live until ctl_codec_topic_deinit. */
typedef struct ctl_codec_topic {
    sm_uuid_t id; /* zero when the node has none */
    ctl_assignment_t *parts;
    size_t n_parts;
    void *msg;
} ctl_codec_topic_t;

/* SM_ERR_CORRUPT (undecodable, a topic id that is not 16 bytes, partitions that are not
 * exactly 0..n-1, a replica list above CTL_MAX_REPLICAS), SM_ERR_NOMEM. */
sm_err_t ctl_codec_topic_decode(const void *data, size_t len, ctl_codec_topic_t *out);
void ctl_codec_topic_deinit(ctl_codec_topic_t *t);

/* Encodes a topic node: id and the replica lists of partitions 0..n-1. */
sm_err_t ctl_codec_topic_encode(const sm_uuid_t *id, const ctl_assignment_t *parts, size_t n,
                                uint8_t **out, size_t *len);

/* Decodes a state node into *out; the ISR is copied into isr_buf (CTL_MAX_REPLICAS entries)
 * and out->isr points there. zk_version is the node's version. SM_ERR_CORRUPT. */
sm_err_t ctl_codec_state_decode(const void *data, size_t len, int32_t zk_version, ctl_pstate_t *out,
                                int32_t *isr_buf);

/* Encodes a state node (zk_version is not part of the payload). */
sm_err_t ctl_codec_state_encode(const ctl_pstate_t *st, uint8_t **out, size_t *len);

/* A decoded /config/topics/<t>; keys and values point into msg. */
typedef struct ctl_codec_config {
    const char **keys;
    const char **values;
    size_t n;
    void *msg;
} ctl_codec_config_t;

sm_err_t ctl_codec_config_decode(const void *data, size_t len, ctl_codec_config_t *out);
void ctl_codec_config_deinit(ctl_codec_config_t *c);
sm_err_t ctl_codec_config_encode(const char *const *keys, const char *const *values, size_t n,
                                 uint8_t **out, size_t *len);

/* /controller. host/port: the controller's RPC endpoint. */
sm_err_t ctl_codec_controller_encode(int32_t id, const char *host, int32_t port, int32_t epoch,
                                     int64_t timestamp_ms, uint8_t **out, size_t *len);
/* host (may be NULL) receives the endpoint host, truncated to host_len. */
sm_err_t ctl_codec_controller_decode(const void *data, size_t len, int32_t *id, int32_t *epoch,
                                     char *host, size_t host_len, int32_t *port);

/* /controller_epoch. */
sm_err_t ctl_codec_epoch_encode(int32_t epoch, uint8_t **out, size_t *len);
sm_err_t ctl_codec_epoch_decode(const void *data, size_t len, int32_t *epoch);

/* /cluster/id. */
sm_err_t ctl_codec_cluster_id_encode(const char *id, uint8_t **out, size_t *len);
/* id receives the text (truncated to id_len). */
sm_err_t ctl_codec_cluster_id_decode(const void *data, size_t len, char *id, size_t id_len);

/* /admin/delete_topics/<t>. */
sm_err_t ctl_codec_marker_encode(int64_t requested_ms, uint8_t **out, size_t *len);

#endif
