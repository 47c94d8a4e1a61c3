/*
 * br_kheader: the Kafka request and response headers (RequestHeader.json, ResponseHeader.json).
 *
 *   request header v1 (non-flexible APIs)      request header v2 (flexible versions)
 *   +---------------+                          +---------------+
 *   | api_key int16 |                          | api_key int16 |
 *   | version int16 |                          | version int16 |
 *   | corr_id int32 |                          | corr_id int32 |
 *   | client_id     |  int16 len, -1 = null    | client_id     |  int16 len (NOT compact)
 *   +---------------+                          | tags          |  uvarint count + fields
 *                                              +---------------+
 *   response header v0: corr_id int32          response header v1: corr_id int32, tags (0x00)
 *
 * Header v0 (no client id) is only used by ControlledShutdown v0, which Samsa does not serve.
 * ApiVersions responses always use header v0 (KIP-511), even for the flexible v3.
 */
#ifndef BR_KHEADER_H
#define BR_KHEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_buf.h"

typedef struct br_kheader {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    sm_str_t client_id; /* view into the request; null view when the client sent null */
    bool flexible;      /* header v2 */
} br_kheader_t;

/* Largest response header plus the 4-byte frame size. */
#define BR_KHEADER_RESPONSE_MAX 9

/* Reads api_key, api_version and correlation_id (the part common to all header versions).
 * Errors are left in r (SM_ERR_TRUNCATED). */
void br_kheader_read_fixed(sm_reader_t *r, br_kheader_t *h);

/* Reads the rest of a v1 (flexible false) or v2 (flexible true) header: client_id, then the
 * tag section for v2. Sets h->flexible. Errors are left in r. */
void br_kheader_read_rest(sm_reader_t *r, br_kheader_t *h, bool flexible);

/* Writes the frame size and the response header for a body of body_len bytes into out:
 * size int32 (header + body), correlation id, and one empty tag byte when tags is true (a
 * flexible version of any API but ApiVersions). Returns the bytes written (8 or 9), or 0 when
 * the total would exceed INT32_MAX. */
size_t br_kheader_response(uint8_t out[BR_KHEADER_RESPONSE_MAX], int32_t correlation_id, bool tags,
                           size_t body_len);

#endif
