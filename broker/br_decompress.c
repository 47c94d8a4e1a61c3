/*
 * br_decompress: the four Kafka codecs over zlib, snappy, lz4frame and zstd, each writing into
 * one bounded, growing output buffer. See br_decompress.h for the formats and the contract.
 */
#include "broker/br_decompress.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "sm_buf.h"

#define BR_DECOMPRESS_MIN_CAP 4096

/* xerial / snappy-java framing: magic, then version and compatible version (i32 each). */
static const uint8_t br_decompress_xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define BR_DECOMPRESS_XERIAL_HEADER 16

/* The output: buf[0..len) produced, cap allocated. cap never exceeds limit = max + 1, so one
 * byte past the bound is room enough to learn that the output is too large. */
typedef struct br_decompress_out {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;
    size_t limit;
} br_decompress_out_t;

static void br_decompress_out_init(br_decompress_out_t *o, size_t max_out)
{
    *o =
        (br_decompress_out_t){.max = max_out, .limit = max_out == SIZE_MAX ? max_out : max_out + 1};
}

/* Makes at least `want` (>= 1) free bytes, growing by doubling up to the limit. SM_ERR_TOO_LARGE
 * when the limit leaves fewer than `want`, SM_ERR_NOMEM. */
static sm_err_t br_decompress_room(br_decompress_out_t *o, size_t want)
{
    if (o->cap - o->len >= want)
        return SM_OK;
    if (want > o->limit - o->len)
        return SM_ERR_TOO_LARGE;
    size_t cap = o->cap < BR_DECOMPRESS_MIN_CAP ? BR_DECOMPRESS_MIN_CAP : o->cap;
    while (cap - o->len < want && cap <= o->limit / 2)
        cap *= 2;
    if (cap > o->limit || cap - o->len < want)
        cap = o->limit;
    uint8_t *p = realloc(o->buf, cap);
    if (p == NULL)
        return SM_ERR_NOMEM;
    o->buf = p;
    o->cap = cap;
    return SM_OK;
}

/* Accounts n bytes written at buf + len; SM_ERR_TOO_LARGE once past the bound. */
static sm_err_t br_decompress_produced(br_decompress_out_t *o, size_t n)
{
    o->len += n;
    return o->len > o->max ? SM_ERR_TOO_LARGE : SM_OK;
}

/* ---- gzip ---------------------------------------------------------------------------------- */

static sm_err_t br_decompress_gzip(const uint8_t *in, size_t len, br_decompress_out_t *o)
{
    z_stream zs;
    size_t pos = 0;
    sm_err_t err = SM_OK;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* 32: a gzip (or zlib) header, detected */
        return SM_ERR_NOMEM;
    for (;;) {
        err = br_decompress_room(o, 1);
        if (err != SM_OK)
            goto out;
        size_t avail_in = len - pos < UINT_MAX ? len - pos : UINT_MAX;
        size_t avail_out = o->cap - o->len < UINT_MAX ? o->cap - o->len : UINT_MAX;
        zs.next_in = (Bytef *)(uintptr_t)(in + pos);
        zs.avail_in = (uInt)avail_in;
        zs.next_out = o->buf + o->len;
        zs.avail_out = (uInt)avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        pos += avail_in - zs.avail_in;
        err = br_decompress_produced(o, avail_out - zs.avail_out);
        if (err != SM_OK)
            goto out;
        if (rc == Z_STREAM_END) {
            /* Another gzip member follows (joined, as GZIPInputStream does); anything else
             * after the stream is ignored, as there. */
            if (len - pos < 2 || in[pos] != 0x1f || in[pos + 1] != 0x8b)
                break;
            if (inflateReset(&zs) != Z_OK) {
                err = SM_ERR_CORRUPT;
                goto out;
            }
            continue;
        }
        if (rc == Z_MEM_ERROR) {
            err = SM_ERR_NOMEM;
            goto out;
        }
        bool stalled = rc == Z_BUF_ERROR && zs.avail_out > 0; /* wants input: there is none */
        if ((rc != Z_OK && rc != Z_BUF_ERROR) || stalled || (pos == len && zs.avail_out > 0)) {
            err = SM_ERR_CORRUPT; /* bad data, or the stream ends early */
            goto out;
        }
    }
out:
    inflateEnd(&zs);
    return err;
}

/* ---- snappy -------------------------------------------------------------------------------- */

/* One raw snappy block, appended to o. Validated before anything is allocated, so the length
 * in its preamble is only believed once the block is known to produce exactly that many. */
static sm_err_t br_decompress_snappy_block(const uint8_t *in, size_t len, br_decompress_out_t *o)
{
    size_t n = 0;

    if (snappy_validate_compressed_buffer((const char *)in, len) != SNAPPY_OK ||
        snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return SM_ERR_CORRUPT;
    if (n > o->max - o->len)
        return SM_ERR_TOO_LARGE;
    sm_err_t err = br_decompress_room(o, n > 0 ? n : 1);
    if (err != SM_OK)
        return err;
    size_t got = n;
    if (snappy_uncompress((const char *)in, len, (char *)o->buf + o->len, &got) != SNAPPY_OK ||
        got != n)
        return SM_ERR_CORRUPT;
    return br_decompress_produced(o, got);
}

static sm_err_t br_decompress_snappy(const uint8_t *in, size_t len, br_decompress_out_t *o)
{
    sm_reader_t r;

    if (len < BR_DECOMPRESS_XERIAL_HEADER ||
        memcmp(in, br_decompress_xerial_magic, sizeof(br_decompress_xerial_magic)) != 0)
        return br_decompress_snappy_block(in, len, o);
    sm_reader_init(&r, in, len);
    sm_reader_skip(&r, BR_DECOMPRESS_XERIAL_HEADER); /* magic, version, compatible version */
    while (sm_reader_remaining(&r) > 0) {
        int32_t blen = sm_reader_i32(&r);
        if (sm_reader_err(&r) != SM_OK || blen < 0 || (size_t)blen > sm_reader_remaining(&r))
            return SM_ERR_CORRUPT;
        const uint8_t *block = sm_reader_take(&r, (size_t)blen);
        sm_err_t err = br_decompress_snappy_block(block, (size_t)blen, o);
        if (err != SM_OK)
            return err;
    }
    return br_decompress_room(o, 1); /* a buffer even when there were no blocks */
}

/* ---- lz4 ----------------------------------------------------------------------------------- */

static sm_err_t br_decompress_lz4(const uint8_t *in, size_t len, br_decompress_out_t *o)
{
    LZ4F_dctx *dctx = NULL;
    size_t pos = 0;
    sm_err_t err = SM_OK;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return SM_ERR_NOMEM;
    for (;;) {
        err = br_decompress_room(o, 1);
        if (err != SM_OK)
            goto out;
        size_t src = len - pos;
        size_t avail = o->cap - o->len;
        size_t dst = avail;
        size_t hint = LZ4F_decompress(dctx, o->buf + o->len, &dst, in + pos, &src, NULL);
        if (LZ4F_isError(hint)) {
            err = SM_ERR_CORRUPT;
            goto out;
        }
        pos += src;
        err = br_decompress_produced(o, dst);
        if (err != SM_OK)
            goto out;
        if (hint == 0 && pos == len)
            break; /* the last frame is complete */
        /* With room left over, the decoder has flushed all it holds: it needs input. */
        if ((pos == len && dst < avail) || (src == 0 && dst == 0)) {
            err = SM_ERR_CORRUPT; /* the input ends inside a frame, or no progress */
            goto out;
        }
    }
out:
    LZ4F_freeDecompressionContext(dctx);
    return err;
}

/* ---- zstd ---------------------------------------------------------------------------------- */

static sm_err_t br_decompress_zstd(const uint8_t *in, size_t len, br_decompress_out_t *o)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    ZSTD_inBuffer ib = {in, len, 0};
    sm_err_t err = SM_OK;

    /* The window is bounded by zstd's default limit (2^27 bytes), as in zstd-jni: streamed
     * frames of ordinary levels use 2^21-2^23, whatever their content size. */
    if (dctx == NULL)
        return SM_ERR_NOMEM;
    for (;;) {
        err = br_decompress_room(o, 1);
        if (err != SM_OK)
            goto out;
        ZSTD_outBuffer ob = {o->buf + o->len, o->cap - o->len, 0};
        size_t in_before = ib.pos;
        size_t rc = ZSTD_decompressStream(dctx, &ob, &ib);
        if (ZSTD_isError(rc)) {
            err = ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge
                      ? SM_ERR_TOO_LARGE
                  : ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation ? SM_ERR_NOMEM
                                                                          : SM_ERR_CORRUPT;
            goto out;
        }
        err = br_decompress_produced(o, ob.pos);
        if (err != SM_OK)
            goto out;
        if (rc == 0 && ib.pos == ib.size)
            break; /* the last frame is decoded and flushed */
        if (ib.pos == in_before && ob.pos < ob.size) {
            err = SM_ERR_CORRUPT; /* the input ends inside a frame, or no progress */
            goto out;
        }
    }
out:
    ZSTD_freeDCtx(dctx);
    return err;
}

/* ---- entry --------------------------------------------------------------------------------- */

sm_err_t br_decompress(int codec, const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
                       size_t *out_len)
{
    br_decompress_out_t o;
    sm_err_t err;

    *out = NULL;
    *out_len = 0;
    br_decompress_out_init(&o, max_out);
    switch (codec) {
    case BR_DECOMPRESS_GZIP:
        err = br_decompress_gzip(in, len, &o);
        break;
    case BR_DECOMPRESS_SNAPPY:
        err = br_decompress_snappy(in, len, &o);
        break;
    case BR_DECOMPRESS_LZ4:
        err = br_decompress_lz4(in, len, &o);
        break;
    case BR_DECOMPRESS_ZSTD:
        err = br_decompress_zstd(in, len, &o);
        break;
    default:
        err = SM_ERR_UNSUPPORTED;
        break;
    }
    if (err != SM_OK) {
        free(o.buf);
        return err;
    }
    *out = o.buf;
    *out_len = o.len;
    return SM_OK;
}
