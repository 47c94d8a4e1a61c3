/*
 * br_kcodec_fetchc: the client side of the Fetch API's wire codec (key 1, versions 4-11, none
 * flexible), for a follower's fetcher: an encoder of FetchRequest from the same struct the
 * server's decoder fills (br_kcodec_fetch.h), and a decoder of FetchResponse into a struct of
 * views whose records point into the response frame. The byte layouts are those drawn in
 * br_kcodec_fetch.h; the response decoder also reads what Samsa never sends but Kafka may
 * (aborted transactions, a null records field, a preferred read replica). Bodies only. No I/O,
 * no state.
 *
 *   FetchResponse partition, as decoded here
 *     partition_index     int32
 *     error_code          int16
 *     high_watermark      int64
 *     last_stable_offset  int64
 *     log_start_offset    int64 (v5+)
 *     aborted_txns        int32 N (-1 = null), N x (producer_id int64, first_offset int64):
 *                         skipped
 *     preferred_read      int32 (v11+)
 *     records             int32 N (-1 = null), N bytes: a view
 */
#ifndef BR_KCODEC_FETCHC_H
#define BR_KCODEC_FETCHC_H

#include <stdint.h>

#include "broker/br_kcodec_fetch.h"
#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

/* One partition of a decoded response. h.log_start_offset is -1 below v5. */
typedef struct br_kcodec_fetchc_part {
    br_kcodec_fetch_presp_t h;
    int32_t preferred_read_replica; /* v11+; -1 below */
    sm_bytes_t records; /* view into the frame: len 0 for none; null -> ptr NULL, len 0 */
} br_kcodec_fetchc_part_t;

typedef struct br_kcodec_fetchc_topic {
    sm_str_t name;
    br_kcodec_fetchc_part_t *parts; /* owned */
    int32_t n_parts;
} br_kcodec_fetchc_topic_t;

/* A decoded response. Caller's storage; release with br_kcodec_fetchc_resp_deinit. */
typedef struct br_kcodec_fetchc_resp {
    int16_t version;
    int32_t throttle_ms;
    sm_kerr_t error;                  /* v7+; NONE below */
    int32_t session_id;               /* v7+; 0 below */
    br_kcodec_fetchc_topic_t *topics; /* owned */
    int32_t n_topics;
} br_kcodec_fetchc_resp_t;

/* Appends the FetchRequest body for req->version (4-11) to w: replica_id, max_wait_ms,
 * min_bytes, max_bytes, isolation_level and the topics from req (current_leader_epoch at v9+,
 * log_start_offset at v5+). The session fields are not taken from req: v7+ always writes
 * session_id 0, session_epoch -1 (a full fetch, no session) and no forgotten topics; v11 writes
 * req->rack_id, or "" when its ptr is NULL. Writer errors are sticky; a version outside 4-11
 * records SM_ERR_VERSION. */
void br_kcodec_fetchc_encode_request(sm_writer_t *w, const br_kcodec_fetch_req_t *req);

/* Decodes a FetchResponse body of `version` from r (exactly the body). Aborted transactions
 * (a nullable array) are read and dropped. Returns SM_OK, SM_ERR_VERSION (outside 4-11),
 * SM_ERR_NOMEM, or the reader's error for malformed input (a count whose elements cannot fit
 * in the bytes left: SM_ERR_TRUNCATED before any allocation; bytes left over:
 * SM_ERR_CORRUPT); on error resp is left empty (deinit still allowed). */
sm_err_t br_kcodec_fetchc_decode_response(sm_reader_t *r, int16_t version,
                                          br_kcodec_fetchc_resp_t *resp);

/* Frees what the decoder allocated and empties resp. Accepts NULL. */
void br_kcodec_fetchc_resp_deinit(br_kcodec_fetchc_resp_t *resp);

#endif
