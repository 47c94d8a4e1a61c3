/*
 * br_kcodec_listoffsets: the ListOffsets API's wire codec (key 2, versions 0-5, none flexible)
 * -- a pure decoder of ListOffsetsRequest into a struct of views and an encoder of
 * ListOffsetsResponse from the same struct, whose partitions carry the handler's results. No
 * I/O, no state.
 *
 *   ListOffsetsRequest                      ListOffsetsResponse
 *     replica_id        int32                 throttle_time_ms    int32 (v2+)
 *     isolation_level   int8 (v2+)            topics [
 *     topics [                                  name              str
 *       name            str                     partitions [
 *       partitions [                              partition_index int32
 *         partition_index int32                   error_code      int16
 *         cur_leader_ep int32 (v4+)               old_style_offsets [int64] (v0 only)
 *         timestamp     int64                     timestamp       int64 (v1+)
 *         max_num_offsets int32 (v0 only)         offset          int64 (v1+)
 *       ] ]                                       leader_epoch    int32 (v4+)
 *                                               ] ]
 *  v0 answers with an array holding the one offset found ([] when there is none or on error).
 */
#ifndef BR_KCODEC_LISTOFFSETS_H
#define BR_KCODEC_LISTOFFSETS_H

#include <stdint.h>

#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

#define BR_KCODEC_LISTOFFSETS_MIN_VERSION 0
#define BR_KCODEC_LISTOFFSETS_MAX_VERSION 5

#define BR_KCODEC_LISTOFFSETS_LATEST   (-1) /* timestamp: the high watermark */
#define BR_KCODEC_LISTOFFSETS_EARLIEST (-2) /* timestamp: the log start offset */

typedef struct br_kcodec_listoffsets_part {
    int32_t partition;
    int32_t current_leader_epoch; /* -1 below v4 */
    int64_t timestamp;
    int32_t max_num_offsets; /* 1 above v0 */
    /* results, initialised by the decoder to error NONE, -1 */
    sm_kerr_t error;
    int64_t result_timestamp;
    int64_t result_offset;
    int32_t result_leader_epoch;
} br_kcodec_listoffsets_part_t;

typedef struct br_kcodec_listoffsets_topic {
    sm_str_t name;
    br_kcodec_listoffsets_part_t *parts; /* owned */
    int32_t n_parts;
} br_kcodec_listoffsets_topic_t;

typedef struct br_kcodec_listoffsets_req {
    int16_t version;
    int32_t replica_id;
    int8_t isolation_level;
    br_kcodec_listoffsets_topic_t *topics; /* owned */
    int32_t n_topics;
} br_kcodec_listoffsets_req_t;

/* Decodes a ListOffsetsRequest body of `version` from r (exactly the body). Returns SM_OK,
 * SM_ERR_VERSION (outside 0-5), SM_ERR_NOMEM, or the reader's error for malformed input (bytes
 * left over: SM_ERR_CORRUPT); on error req is left empty (deinit still allowed). */
sm_err_t br_kcodec_listoffsets_decode(sm_reader_t *r, int16_t version,
                                      br_kcodec_listoffsets_req_t *req);

/* Frees what the decoder allocated and empties req. Accepts NULL. */
void br_kcodec_listoffsets_req_deinit(br_kcodec_listoffsets_req_t *req);

/* Appends the ListOffsetsResponse body for req (its version and topics, with their results)
 * to w. Writer errors are sticky. */
void br_kcodec_listoffsets_encode_response(sm_writer_t *w, const br_kcodec_listoffsets_req_t *req,
                                           int32_t throttle_ms);

#endif
