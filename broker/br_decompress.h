/*
 * br_decompress: decompresses the records section of a compressed record batch (magic v2),
 * for the one path that must look inside it -- ListOffsets by timestamp (br_log). Produce and
 * Fetch never call it: they pass compressed batches through untouched. It supports Kafka's four
 * codecs, numbered as in the batch attributes (attributes & 7), in the formats the clients
 * write:
 *
 *   1 gzip    a gzip stream (zlib inflate; concatenated members are joined)
 *   2 snappy  raw snappy (librdkafka), or the xerial / snappy-java framing (the Java client):
 *               | 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 | version i32 | compatible i32 |
 *               | length i32 | raw snappy block | length i32 | raw snappy block | ...
 *             (big-endian lengths), told apart by the 8-byte magic
 *   3 lz4     LZ4 frames (lz4frame; concatenated frames are joined)
 *   4 zstd    zstd frames, content size known or not (streaming decoder)
 *
 * Nothing read from the input is trusted as a size: the output grows as the decoder produces
 * it and stops at a caller-given bound. It keeps no state and does no I/O.
 */
#ifndef BR_DECOMPRESS_H
#define BR_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

/* Codec numbers: the compression bits of a batch's attributes. */
#define BR_DECOMPRESS_GZIP   1
#define BR_DECOMPRESS_SNAPPY 2
#define BR_DECOMPRESS_LZ4    3
#define BR_DECOMPRESS_ZSTD   4

/* Decompresses the len bytes at `in` (a batch's bytes after its 61-byte header) with `codec`
 * into a new buffer: *out (malloc'd, the caller frees it; never NULL on success, even for an
 * empty output) and *out_len. At most max_out bytes are produced. Returns SM_OK,
 * SM_ERR_TOO_LARGE (the output would exceed max_out, or a zstd frame asks for a window past
 * zstd's default limit of 128 MiB), SM_ERR_CORRUPT (malformed or truncated input),
 * SM_ERR_UNSUPPORTED (codec not 1-4, including 0: nothing to decompress) or SM_ERR_NOMEM. On
 * error *out is NULL and *out_len 0. */
sm_err_t br_decompress(int codec, const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
                       size_t *out_len);

#endif
