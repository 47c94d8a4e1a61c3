/*
 * br_kcodec_produce: the Produce API's wire codec (key 0, versions 0-8, none flexible) -- a
 * pure decoder of ProduceRequest into a struct of views and an encoder of ProduceResponse
 * from the same struct, whose partitions carry the handler's results. No I/O, no state; the
 * handler (br_api_produce) fills the results in between. Views borrow the request buffer.
 *
 *   ProduceRequest                          ProduceResponse
 *     transactional_id  nullable str (v3+)    responses [
 *     acks              int16                   name  str
 *     timeout_ms        int32                   partitions [
 *     topic_data [                                index             int32
 *       name            str                       error_code        int16
 *       partition_data [                          base_offset       int64
 *         index         int32                     log_append_time   int64 (v2+)
 *         records       nullable bytes            log_start_offset  int64 (v5+)
 *       ]                                         record_errors     [] (v8+, always empty)
 *     ]                                           error_message     nullable str (v8+, null)
 *                                               ] ]
 *                                             throttle_time_ms      int32 (v1+)
 */
#ifndef BR_KCODEC_PRODUCE_H
#define BR_KCODEC_PRODUCE_H

#include <stdint.h>

#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

#define BR_KCODEC_PRODUCE_MIN_VERSION 0
#define BR_KCODEC_PRODUCE_MAX_VERSION 8

/* One partition of the request (views) and, filled by the handler, its result. */
typedef struct br_kcodec_produce_part {
    int32_t index;
    sm_bytes_t records; /* null when len == -1 */
    /* results, initialised by the decoder to error NONE, offsets -1 */
    sm_kerr_t error;
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
} br_kcodec_produce_part_t;

typedef struct br_kcodec_produce_topic {
    sm_str_t name;
    br_kcodec_produce_part_t *parts; /* owned */
    int32_t n_parts;
} br_kcodec_produce_topic_t;

/* A decoded request. Caller's storage; release with br_kcodec_produce_req_deinit. */
typedef struct br_kcodec_produce_req {
    int16_t version;
    sm_str_t transactional_id; /* null below v3 */
    int16_t acks;
    int32_t timeout_ms;
    br_kcodec_produce_topic_t *topics; /* owned */
    int32_t n_topics;
} br_kcodec_produce_req_t;

/* Decodes a ProduceRequest body of `version` from r (which must hold exactly the body). On
 * success req holds views into r's buffer. Returns SM_OK, SM_ERR_VERSION (version outside
 * 0-8), SM_ERR_NOMEM, or the reader's error for malformed input (SM_ERR_TRUNCATED,
 * SM_ERR_CORRUPT, SM_ERR_TOO_LARGE; bytes left over are SM_ERR_CORRUPT); on error req is
 * left empty (deinit is still allowed). */
sm_err_t br_kcodec_produce_decode(sm_reader_t *r, int16_t version, br_kcodec_produce_req_t *req);

/* Frees what the decoder allocated and empties req. Accepts NULL. */
void br_kcodec_produce_req_deinit(br_kcodec_produce_req_t *req);

/* Sets every partition's result to `error` (offsets -1), e.g. 43 for v0-2 or 21 for bad acks. */
void br_kcodec_produce_fail_all(br_kcodec_produce_req_t *req, sm_kerr_t error);

/* Appends the ProduceResponse body for req (its version, its topics in order, their
 * results) to w. Errors are the writer's sticky error. */
void br_kcodec_produce_encode_response(sm_writer_t *w, const br_kcodec_produce_req_t *req,
                                       int32_t throttle_ms);

#endif
