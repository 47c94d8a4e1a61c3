/*
 * br_api_coord: the FindCoordinator API (key 10, versions 0-3, v3 flexible). There is no group
 * or transaction coordinator yet, so every well-formed request is answered
 * COORDINATOR_NOT_AVAILABLE with no node (-1, "", -1) -- the answer Kafka gives while its
 * internal topic does not exist -- and a client keeps asking. The API is served at all because
 * librdkafka turns lz4 compression on only when the broker advertises FindCoordinator v0.
 * Versions 4+ (batched coordinator_keys) are not registered, so they are not advertised.
 *
 *   FindCoordinatorRequest                 FindCoordinatorResponse
 *     key       string                       throttle_time_ms int32           (v1+)
 *     key_type  int8  (v1+; 0 group,         error_code       int16
 *                      1 transaction)        error_message    nullable string (v1+)
 *     tags            (v3)                   node_id          int32
 *                                            host             string
 *                                            port             int32
 *                                            tags                             (v3)
 *
 * Strings are int16-length below v3 and compact (uvarint length + 1) in v3.
 */
#ifndef BR_API_COORD_H
#define BR_API_COORD_H

#include <stdint.h>

#include "broker/br_kafka.h"
#include "sm_buf.h"
#include "sm_err.h"
#include "sm_kerr.h"

/* API key: BR_KAFKA_FIND_COORDINATOR (br_kafka.h) */
#define BR_API_COORD_MIN_VERSION 0
#define BR_API_COORD_MAX_VERSION 3
#define BR_API_COORD_FLEX        3 /* first flexible version */

#define BR_API_COORD_GROUP       0 /* key_type */
#define BR_API_COORD_TRANSACTION 1

/* A decoded FindCoordinatorRequest. */
typedef struct br_api_coord_req {
    sm_str_t key;    /* view into the request body */
    int8_t key_type; /* BR_API_COORD_GROUP below v1 */
} br_api_coord_req_t;

/* What a FindCoordinatorResponse carries (v0-3). */
typedef struct br_api_coord_resp {
    sm_kerr_t error;
    const char *error_message; /* NULL: null; not sent below v1 */
    int32_t node_id;           /* -1: no node */
    const char *host;          /* "" with no node; NULL is written as "" */
    int32_t port;              /* -1 with no node */
} br_api_coord_resp_t;

/* Decodes a FindCoordinatorRequest body of version (0-3) from r, which must hold exactly the
 * body. Returns SM_OK, SM_ERR_VERSION (outside 0-3), or the reader's error for malformed input
 * (SM_ERR_TRUNCATED, SM_ERR_CORRUPT for a null key or bytes left over, ...). Allocates nothing. */
sm_err_t br_api_coord_decode(sm_reader_t *r, int16_t version, br_api_coord_req_t *out);

/* The answer to req while no coordinator exists: COORDINATOR_NOT_AVAILABLE for the group and
 * transaction key types, INVALID_REQUEST for any other, each with no node and a message. */
void br_api_coord_answer(const br_api_coord_req_t *req, br_api_coord_resp_t *out);

/* Appends the FindCoordinatorResponse body of version (0-3) to w (throttle time 0). Writer
 * errors are sticky. */
void br_api_coord_encode(sm_writer_t *w, int16_t version, const br_api_coord_resp_t *resp);

/* Registers FindCoordinator versions 0-3 (flexible from 3) on k. Returns br_kafka_register's
 * result (SM_OK or SM_ERR_INVALID). */
sm_err_t br_api_coord_register(br_kafka_t *k);

#endif
