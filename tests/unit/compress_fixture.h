/*
 * compress_fixture: the four Kafka codecs' compressors, as a producer uses them (gzip stream,
 * raw snappy, lz4 frame, zstd frame), for the unit suites that need compressed bytes
 * (test_br_decompress, test_log). The libraries' own code: the tests never compress by hand.
 * Each returns a malloc'd buffer (freed by the caller) and asserts success.
 */
#ifndef COMPRESS_FIXTURE_H
#define COMPRESS_FIXTURE_H

#include <criterion/criterion.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static inline uint8_t *gzip_of(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream zs;
    size_t cap = len + len / 100 + 1024;
    uint8_t *out = malloc(cap);

    memset(&zs, 0, sizeof(zs));
    cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static inline uint8_t *snappy_of(const uint8_t *in, size_t len, size_t *out_len)
{
    size_t cap = snappy_max_compressed_length(len);
    uint8_t *out = malloc(cap);

    *out_len = cap;
    cr_assert_eq(snappy_compress((const char *)in, len, (char *)out, out_len), SNAPPY_OK);
    return out;
}

/* `in` compressed with Kafka codec 1-4 with the libraries' defaults. */
static inline uint8_t *compress_of(int codec, const uint8_t *in, size_t len, size_t *out_len)
{
    size_t cap = LZ4F_compressFrameBound(len, NULL) + ZSTD_compressBound(len);
    uint8_t *out;

    if (codec == 1)
        return gzip_of(in, len, out_len);
    if (codec == 2)
        return snappy_of(in, len, out_len);
    out = malloc(cap);
    *out_len = codec == 3 ? LZ4F_compressFrame(out, cap, in, len, NULL)
                          : ZSTD_compress(out, cap, in, len, 3);
    cr_assert(codec == 3 ? !LZ4F_isError(*out_len) : !ZSTD_isError(*out_len));
    return out;
}

#endif
