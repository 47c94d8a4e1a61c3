/*
 * br_kcodec_epoch: the OffsetForLeaderEpoch API's wire codec (key 23, versions 0-4, v4
 * flexible), both sides: the leader decodes requests and encodes responses
 * (br_api_epoch.c), a follower's fetcher encodes requests and decodes responses. Bodies only
 * (no request or response header). No I/O, no state.
 *
 *   OffsetForLeaderEpochRequest               OffsetForLeaderEpochResponse
 *     replica_id          int32 (v3+)           throttle_time_ms    int32 (v2+)
 *     topics [                                  topics [
 *       topic             str                     topic             str
 *       partitions [                              partitions [
 *         partition       int32                     error_code      int16
 *         cur_leader_ep   int32 (v2+)               partition       int32
 *         leader_epoch    int32                     leader_epoch    int32 (v1+)
 *         <tags> (v4)                               end_offset      int64
 *       ]                                           <tags> (v4)
 *       <tags> (v4)                               ]
 *     ]                                           <tags> (v4)
 *     <tags> (v4)                               ]
 *                                               <tags> (v4)
 *
 * v4 writes every array as a compact array (uvarint N+1) and every string as a compact string
 * (uvarint N+1), and ends each struct with a tagged-field section (written empty; unknown tags
 * read and skipped). Note the response partition starts with the error code, not the index.
 */
#ifndef BR_KCODEC_EPOCH_H
#define BR_KCODEC_EPOCH_H

#include <stdint.h>

#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

#define BR_KCODEC_EPOCH_API_KEY       23
#define BR_KCODEC_EPOCH_MIN_VERSION   0
#define BR_KCODEC_EPOCH_MAX_VERSION   4
#define BR_KCODEC_EPOCH_FLEXIBLE_FROM 4
#define BR_KCODEC_EPOCH_DEBUG_REPLICA (-2) /* replica_id below v3 (Kafka's default) */

typedef struct br_kcodec_epoch_part {
    int32_t partition;
    int32_t current_leader_epoch; /* -1 below v2 */
    int32_t leader_epoch;         /* the epoch whose end offset is asked */
} br_kcodec_epoch_part_t;

typedef struct br_kcodec_epoch_topic {
    sm_str_t name;
    br_kcodec_epoch_part_t *parts; /* owned when decoded */
    int32_t n_parts;
} br_kcodec_epoch_topic_t;

/* A request. Decoded: caller's storage, views into the reader's buffer, arrays owned (release
 * with br_kcodec_epoch_req_deinit). To encode: filled by the caller, nothing owned. */
typedef struct br_kcodec_epoch_req {
    int16_t version;
    int32_t replica_id; /* v3+; BR_KCODEC_EPOCH_DEBUG_REPLICA below */
    br_kcodec_epoch_topic_t *topics;
    int32_t n_topics;
} br_kcodec_epoch_req_t;

typedef struct br_kcodec_epoch_presult {
    int32_t partition;
    sm_kerr_t error;
    int32_t leader_epoch; /* v1+; -1 below */
    int64_t end_offset;
} br_kcodec_epoch_presult_t;

typedef struct br_kcodec_epoch_tresult {
    sm_str_t name;
    br_kcodec_epoch_presult_t *parts; /* owned when decoded */
    int32_t n_parts;
} br_kcodec_epoch_tresult_t;

/* A response; same ownership rules as the request. */
typedef struct br_kcodec_epoch_resp {
    int16_t version;
    int32_t throttle_ms; /* v2+; 0 below */
    br_kcodec_epoch_tresult_t *topics;
    int32_t n_topics;
} br_kcodec_epoch_resp_t;

/* Decodes an OffsetForLeaderEpochRequest body of `version` from r (exactly the body). Returns
 * SM_OK, SM_ERR_VERSION (outside 0-4), SM_ERR_NOMEM, or the reader's error for malformed input
 * (a count whose elements cannot fit in the bytes left: SM_ERR_TRUNCATED before any
 * allocation; bytes left over: SM_ERR_CORRUPT); on error req is left empty (deinit still
 * allowed). */
sm_err_t br_kcodec_epoch_req_decode(sm_reader_t *r, int16_t version, br_kcodec_epoch_req_t *req);

/* Appends the request body for req->version to w. Writer errors are sticky; a version outside
 * 0-4 records SM_ERR_VERSION. */
void br_kcodec_epoch_req_encode(sm_writer_t *w, const br_kcodec_epoch_req_t *req);

/* Frees what the decoder allocated and empties req. Accepts NULL. Only for decoded requests. */
void br_kcodec_epoch_req_deinit(br_kcodec_epoch_req_t *req);

/* Decodes an OffsetForLeaderEpochResponse body; same contract as br_kcodec_epoch_req_decode. */
sm_err_t br_kcodec_epoch_resp_decode(sm_reader_t *r, int16_t version, br_kcodec_epoch_resp_t *resp);

/* Appends the response body for resp->version to w. Writer errors are sticky; a version
 * outside 0-4 records SM_ERR_VERSION. */
void br_kcodec_epoch_resp_encode(sm_writer_t *w, const br_kcodec_epoch_resp_t *resp);

/* Frees what the decoder allocated and empties resp. Accepts NULL. Only for decoded responses
 * (or ones whose arrays the caller malloc'd: each topic's parts, then topics, are freed). */
void br_kcodec_epoch_resp_deinit(br_kcodec_epoch_resp_t *resp);

#endif
