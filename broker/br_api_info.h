/*
 * br_api_info: codecs of the APIs that need no log access (ApiVersions, Metadata), exposed so
 * unit tests can check byte layouts without sockets. The handlers live in br_api_versions.c and
 * br_api_metadata.c and register through br_kafka.h.
 */
#ifndef BR_API_INFO_H
#define BR_API_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/br_kafka.h"
#include "broker/br_metacache.h"
#include "sm_buf.h"
#include "sm_kerr.h"

/* Writes the ApiVersions response body for version (the v0 error layout when version is not
 * in the registered range) listing k's registered APIs. */
void br_api_versions_encode(const br_kafka_t *k, int16_t version, sm_writer_t *w);

/* A decoded MetadataRequest (v0-8). */
typedef struct br_api_metadata_req {
    int32_t n_topics;       /* -1: all topics */
    sm_str_t *topics;       /* owned array of views into the request; NULL when n_topics <= 0 */
    bool allow_auto_create; /* v4+ field; true below v4 */
} br_api_metadata_req_t;

/* Decodes a MetadataRequest body of the given version: v0 empty list = all, v1+ null = all and
 * empty = none. Returns SM_OK, the reader's error (SM_ERR_TRUNCATED, SM_ERR_CORRUPT, ...) or
 * SM_ERR_NOMEM; on error nothing needs freeing. */
sm_err_t br_api_metadata_decode(sm_reader_t *r, int16_t version, br_api_metadata_req_t *out);

/* Frees what decode allocated; accepts a zeroed struct. */
void br_api_metadata_req_deinit(br_api_metadata_req_t *req);

/* This broker, listed in every answer even before the controller's first UpdateMetadata. */
typedef struct br_api_metadata_self {
    int32_t broker_id;
    const char *host;
    int32_t port;
    const char *rack;       /* NULL: none */
    const char *cluster_id; /* NULL: unknown */
} br_api_metadata_self_t;

/* True when name is a legal Kafka topic name: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
bool br_api_topic_name_valid(sm_str_t name);

/* Writes the MetadataResponse body (v0-8) from the cache. Requested topics unknown to the cache
 * get unknown_err (UNKNOWN_TOPIC_OR_PARTITION, or LEADER_NOT_AVAILABLE while being
 * auto-created); illegal names get INVALID_TOPIC_EXCEPTION. controller_id is self's id. */
void br_api_metadata_encode(const br_metacache_t *mc, const br_api_metadata_self_t *self,
                            int16_t version, const br_api_metadata_req_t *req,
                            sm_kerr_t unknown_err, sm_writer_t *w);

#endif
