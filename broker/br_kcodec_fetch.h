/*
 * br_kcodec_fetch: the Fetch API's wire codec (key 1, versions 4-11, none flexible) -- a pure
 * decoder of FetchRequest into a struct of views, and a streaming encoder of FetchResponse
 * that writes everything of a partition up to and including the records length, so that the
 * handler can then append the records themselves as a file slice (sendfile) rather than
 * copying them. No I/O, no state.
 *
 *   FetchRequest                            FetchResponse
 *     replica_id        int32                 throttle_time_ms    int32
 *     max_wait_ms       int32                 error_code          int16 (v7+)
 *     min_bytes         int32                 session_id          int32 (v7+)
 *     max_bytes         int32                 responses [
 *     isolation_level   int8                    topic             str
 *     session_id        int32 (v7+)             partitions [
 *     session_epoch     int32 (v7+)               partition_index int32
 *     topics [                                    error_code      int16
 *       topic           str                       high_watermark  int64
 *       partitions [                              last_stable_off int64
 *         partition     int32                     log_start_off   int64 (v5+)
 *         cur_leader_ep int32 (v9+)               aborted_txns    [] nullable (empty here)
 *         fetch_offset  int64                     preferred_read  int32 (v11+, -1)
 *         log_start_off int64 (v5+)               records         int32 len, then len bytes
 *         part_max_bytes int32                  ] ]
 *     ] ]
 *     forgotten_topics [ topic str, partitions [int32] ] (v7+)
 *     rack_id           str (v11+)
 */
#ifndef BR_KCODEC_FETCH_H
#define BR_KCODEC_FETCH_H

#include <stdint.h>

#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

#define BR_KCODEC_FETCH_MIN_VERSION 4
#define BR_KCODEC_FETCH_MAX_VERSION 11

typedef struct br_kcodec_fetch_part {
    int32_t partition;
    int32_t current_leader_epoch; /* -1 below v9 */
    int64_t fetch_offset;
    int64_t log_start_offset; /* -1 below v5 */
    int32_t partition_max_bytes;
} br_kcodec_fetch_part_t;

typedef struct br_kcodec_fetch_topic {
    sm_str_t name;
    br_kcodec_fetch_part_t *parts; /* owned */
    int32_t n_parts;
} br_kcodec_fetch_topic_t;

/* A decoded request. Caller's storage; release with br_kcodec_fetch_req_deinit. The forgotten
 * topics (sessions, v7+) are read and dropped: Samsa answers every fetch as a full one. */
typedef struct br_kcodec_fetch_req {
    int16_t version;
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;
    int8_t isolation_level;
    int32_t session_id;              /* 0 below v7 */
    int32_t session_epoch;           /* -1 below v7 */
    br_kcodec_fetch_topic_t *topics; /* owned */
    int32_t n_topics;
    sm_str_t rack_id; /* empty below v11 */
} br_kcodec_fetch_req_t;

/* One partition's answer, minus its records. */
typedef struct br_kcodec_fetch_presp {
    int32_t partition;
    sm_kerr_t error;
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
} br_kcodec_fetch_presp_t;

/* Decodes a FetchRequest body of `version` from r (exactly the body). Returns SM_OK,
 * SM_ERR_VERSION (outside 4-11), SM_ERR_NOMEM, or the reader's error for malformed input
 * (bytes left over: SM_ERR_CORRUPT); on error req is left empty (deinit still allowed). */
sm_err_t br_kcodec_fetch_decode(sm_reader_t *r, int16_t version, br_kcodec_fetch_req_t *req);

/* Frees what the decoder allocated and empties req. Accepts NULL. */
void br_kcodec_fetch_req_deinit(br_kcodec_fetch_req_t *req);

/* Response, in order: header once, then per topic the topic, then per partition the
 * partition followed by exactly records_len bytes that the caller appends itself (0 for an
 * error partition: empty records, never null). Writer errors are sticky. */
void br_kcodec_fetch_write_header(sm_writer_t *w, int16_t version, int32_t throttle_ms,
                                  sm_kerr_t error, int32_t session_id, int32_t n_topics);
void br_kcodec_fetch_write_topic(sm_writer_t *w, int16_t version, sm_str_t name, int32_t n_parts);
void br_kcodec_fetch_write_partition(sm_writer_t *w, int16_t version,
                                     const br_kcodec_fetch_presp_t *p, int32_t records_len);

/* Bytes br_kcodec_fetch_write_partition writes for `version` (records excluded). */
size_t br_kcodec_fetch_partition_size(int16_t version);

#endif
