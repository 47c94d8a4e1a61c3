/*
 * sm_frame: 4-byte big-endian length framing, shared by the control RPC (sm_rpc) and the
 * Kafka data-plane listener. A frame is
 *
 *   +------+------+------+------+------------------------------+
 *   |  N (int32, big-endian)    |  N payload bytes              |
 *   +------+------+------+------+------------------------------+
 *
 * The helpers only look at bytes; they never allocate. sm_frame_peek judges a frame from its
 * header alone, so a peer that declares a length above the caller's limit is refused as soon as
 * 4 bytes have arrived, before anything else is buffered or allocated.
 *
 * Length rules (the same for the raw-byte and the evbuffer forms):
 *   - N is an int32: a header with the top bit set (a negative length) is SM_ERR_CORRUPT;
 *   - N > max_payload is SM_ERR_TOO_LARGE (checked before waiting for the payload);
 *   - N == 0 is a valid, empty frame: framing carries any byte string. Whether an empty
 *     payload means anything is the caller's decision (an empty protobuf Envelope decodes;
 *     a Kafka request with no header does not).
 */
#ifndef SM_FRAME_H
#define SM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

struct evbuffer;

/* Bytes in a frame header. */
#define SM_FRAME_HEADER_SIZE 4
/* The largest length a header can declare (int32). */
#define SM_FRAME_MAX_PAYLOAD ((uint32_t)INT32_MAX)

/*
 * Judges the frame at the start of buf[0..avail). Reads at most 4 bytes of header.
 *
 * Returns:
 *   SM_OK             a whole frame is present: header plus *payload_len bytes, payload at
 *                     buf + SM_FRAME_HEADER_SIZE; the frame occupies 4 + *payload_len bytes.
 *   SM_ERR_AGAIN      more bytes are needed. *need (if not NULL) is the total number of bytes
 *                     (header included) that must be available: 4 while the header is
 *                     incomplete, 4 + N once it is known. *payload_len is N, or 0 while the
 *                     header is incomplete.
 *   SM_ERR_TOO_LARGE  the header declares N > max_payload (*payload_len = N).
 *   SM_ERR_CORRUPT    the header declares a negative length.
 * buf may be NULL when avail is 0. payload_len must not be NULL; need may be NULL.
 */
sm_err_t sm_frame_peek(const uint8_t *buf, size_t avail, uint32_t max_payload,
                       uint32_t *payload_len, size_t *need);

/*
 * The same judgement on the bytes at the front of an evbuffer. Copies out the 4 header bytes
 * only; neither drains nor pulls up `in`. Same returns and out-params as sm_frame_peek.
 */
sm_err_t sm_frame_peek_evbuffer(struct evbuffer *in, uint32_t max_payload, uint32_t *payload_len,
                                size_t *need);

/* Writes the 4-byte big-endian header for a payload of len bytes into hdr (caller's storage).
 * len must be <= SM_FRAME_MAX_PAYLOAD. */
void sm_frame_put_header(uint8_t hdr[SM_FRAME_HEADER_SIZE], uint32_t len);

/* Reads the declared length from a 4-byte header, as the unsigned 32-bit value on the wire
 * (callers wanting the int32 meaning use sm_frame_peek). */
uint32_t sm_frame_get_header(const uint8_t hdr[SM_FRAME_HEADER_SIZE]);

/*
 * Appends one frame (header, then len bytes copied from payload) to out. payload may be NULL
 * when len is 0. On failure nothing is appended.
 * Returns SM_OK, SM_ERR_TOO_LARGE (len > SM_FRAME_MAX_PAYLOAD) or SM_ERR_NOMEM.
 */
sm_err_t sm_frame_add_evbuffer(struct evbuffer *out, const void *payload, size_t len);

#endif
