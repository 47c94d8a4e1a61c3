/*
 * test_br_decompress: every codec round-trips data compressed here with the codec's own
 * library (gzip members, raw and xerial-framed snappy, lz4 frames with and without a content
 * size, zstd frames with and without one); garbage and truncated input is corrupt; output past
 * max_out is refused (exactly max_out is not); sizes claimed by the input are not believed; an
 * unknown codec is unsupported.
 */
#include "broker/br_decompress.h"

#include <criterion/criterion.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "compress_fixture.h"

TestSuite(br_decompress, .timeout = 60);

#define DATA_LEN 100000

/* Compressible but not trivial: text with a pseudo-random byte in every 8. */
static uint8_t *sample(size_t len)
{
    uint8_t *p = malloc(len);
    uint32_t x = 12345;

    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = i % 8 == 7 ? (uint8_t)(x >> 24) : (uint8_t)("record-"[i % 7]);
    }
    return p;
}

/* ---- compressors (the libraries' own) ------------------------------------------------------ */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The snappy-java (xerial) stream: header, then `blocks` raw snappy blocks of the input. */
static uint8_t *xerial_of(const uint8_t *in, size_t len, int blocks, size_t *out_len)
{
    static const uint8_t magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    size_t cap = 16 + (size_t)blocks * 4 + snappy_max_compressed_length(len) * (size_t)blocks;
    uint8_t *out = malloc(cap);
    size_t pos = 16;
    size_t step = (len + (size_t)blocks - 1) / (size_t)blocks;

    memcpy(out, magic, 8);
    put_be32(out + 8, 1);  /* version */
    put_be32(out + 12, 1); /* compatible version */
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        size_t clen = cap - pos - 4;

        cr_assert_eq(snappy_compress((const char *)in + off, n, (char *)out + pos + 4, &clen),
                     SNAPPY_OK);
        put_be32(out + pos, (uint32_t)clen);
        pos += 4 + clen;
    }
    *out_len = pos;
    return out;
}

static uint8_t *lz4_of(const uint8_t *in, size_t len, bool content_size, size_t *out_len)
{
    LZ4F_preferences_t prefs;
    size_t cap;
    uint8_t *out;

    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.contentSize = content_size ? len : 0;
    cap = LZ4F_compressFrameBound(len, &prefs);
    out = malloc(cap);
    *out_len = LZ4F_compressFrame(out, cap, in, len, &prefs);
    cr_assert(!LZ4F_isError(*out_len));
    return out;
}

/* A zstd frame; without content_size it is streamed, as zstd-jni writes it. */
static uint8_t *zstd_of(const uint8_t *in, size_t len, bool content_size, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *out = malloc(cap);

    if (content_size) {
        *out_len = ZSTD_compress(out, cap, in, len, 3);
        cr_assert(!ZSTD_isError(*out_len));
    } else {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_inBuffer ib = {in, len, 0};
        ZSTD_outBuffer ob = {out, cap, 0};

        size_t left;

        /* A first call that is not ZSTD_e_end leaves the content size out of the header. */
        cr_assert(!ZSTD_isError(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue)));
        do {
            left = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
            cr_assert(!ZSTD_isError(left));
        } while (left != 0);
        ZSTD_freeCCtx(cc);
        *out_len = ob.pos;
    }
    return out;
}

/* Compresses with codec in the format a librdkafka producer uses. */
static uint8_t *compress_with(int codec, const uint8_t *in, size_t len, size_t *out_len)
{
    switch (codec) {
    case BR_DECOMPRESS_GZIP:
        return gzip_of(in, len, out_len);
    case BR_DECOMPRESS_SNAPPY:
        return snappy_of(in, len, out_len);
    case BR_DECOMPRESS_LZ4:
        return lz4_of(in, len, false, out_len);
    default:
        return zstd_of(in, len, false, out_len);
    }
}

/* Asserts that z (zlen bytes) decompresses with codec to exactly the len bytes at want. */
static void expect_round_trip(int codec, const uint8_t *z, size_t zlen, const uint8_t *want,
                              size_t len)
{
    uint8_t *out = NULL;
    size_t out_len = 0;

    cr_assert_eq(br_decompress(codec, z, zlen, 64u << 20, &out, &out_len), SM_OK, "codec %d",
                 codec);
    cr_assert_not_null(out);
    cr_assert_eq(out_len, len, "codec %d: %zu bytes, want %zu", codec, out_len, len);
    cr_assert(memcmp(out, want, len) == 0, "codec %d: the bytes differ", codec);
    free(out);
}

/* ---- round trips --------------------------------------------------------------------------- */

Test(br_decompress, round_trips_every_codec)
{
    uint8_t *data = sample(DATA_LEN);

    for (int codec = 1; codec <= 4; codec++) {
        size_t zlen;
        uint8_t *z = compress_with(codec, data, DATA_LEN, &zlen);

        cr_assert_lt(zlen, DATA_LEN, "codec %d compresses", codec);
        expect_round_trip(codec, z, zlen, data, DATA_LEN);
        free(z);
    }
    free(data);
}

Test(br_decompress, joins_concatenated_gzip_members_and_ignores_trailing_bytes)
{
    uint8_t *data = sample(DATA_LEN);
    size_t alen, blen;
    uint8_t *a = gzip_of(data, DATA_LEN / 2, &alen);
    uint8_t *b = gzip_of(data + DATA_LEN / 2, DATA_LEN - DATA_LEN / 2, &blen);
    uint8_t *both = malloc(alen + blen + 3);

    memcpy(both, a, alen);
    memcpy(both + alen, b, blen);
    memcpy(both + alen + blen, "\0\0\0", 3);
    expect_round_trip(BR_DECOMPRESS_GZIP, both, alen + blen, data, DATA_LEN);
    expect_round_trip(BR_DECOMPRESS_GZIP, both, alen + blen + 3, data, DATA_LEN);
    free(a);
    free(b);
    free(both);
    free(data);
}

Test(br_decompress, reads_the_xerial_framing_of_the_java_client)
{
    uint8_t *data = sample(DATA_LEN);

    for (int blocks = 1; blocks <= 3; blocks++) {
        size_t zlen;
        uint8_t *z = xerial_of(data, DATA_LEN, blocks, &zlen);

        expect_round_trip(BR_DECOMPRESS_SNAPPY, z, zlen, data, DATA_LEN);
        free(z);
    }
    free(data);
}

Test(br_decompress, reads_lz4_and_zstd_frames_with_or_without_a_content_size)
{
    uint8_t *data = sample(DATA_LEN);

    for (int with = 0; with <= 1; with++) {
        size_t zlen;
        uint8_t *z = lz4_of(data, DATA_LEN, with != 0, &zlen);

        expect_round_trip(BR_DECOMPRESS_LZ4, z, zlen, data, DATA_LEN);
        free(z);
        z = zstd_of(data, DATA_LEN, with != 0, &zlen);
        cr_assert_eq(ZSTD_getFrameContentSize(z, zlen),
                     with ? (unsigned long long)DATA_LEN : ZSTD_CONTENTSIZE_UNKNOWN);
        expect_round_trip(BR_DECOMPRESS_ZSTD, z, zlen, data, DATA_LEN);
        free(z);
    }
    free(data);
}

Test(br_decompress, gives_a_buffer_for_an_empty_output)
{
    for (int codec = 1; codec <= 4; codec++) {
        size_t zlen;
        uint8_t *z = compress_with(codec, (const uint8_t *)"", 0, &zlen);
        uint8_t *out = NULL;
        size_t out_len = 1;

        cr_assert_eq(br_decompress(codec, z, zlen, 100, &out, &out_len), SM_OK, "codec %d", codec);
        cr_assert_not_null(out);
        cr_assert_eq(out_len, 0);
        free(out);
        free(z);
    }
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void expect_error(int codec, const uint8_t *z, size_t zlen, size_t max_out, sm_err_t want)
{
    uint8_t *out = (uint8_t *)"sentinel";
    size_t out_len = 99;

    cr_assert_eq(br_decompress(codec, z, zlen, max_out, &out, &out_len), want,
                 "codec %d, %zu bytes: want %s", codec, zlen, sm_err_str(want));
    cr_assert_null(out);
    cr_assert_eq(out_len, 0);
}

Test(br_decompress, garbage_and_truncated_input_is_corrupt)
{
    uint8_t *data = sample(DATA_LEN);
    uint8_t junk[256];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    for (int codec = 1; codec <= 4; codec++) {
        size_t zlen;
        uint8_t *z = compress_with(codec, data, DATA_LEN, &zlen);

        expect_error(codec, junk, sizeof(junk), 1u << 20, SM_ERR_CORRUPT);
        expect_error(codec, junk, 0, 1u << 20, SM_ERR_CORRUPT);
        expect_error(codec, z, zlen / 2, 1u << 20, SM_ERR_CORRUPT);
        expect_error(codec, z, zlen - 1, 1u << 20, SM_ERR_CORRUPT);
        free(z);
    }
    free(data);
}

Test(br_decompress, flipped_bytes_inside_a_stream_are_corrupt)
{
    uint8_t *data = sample(DATA_LEN);
    size_t zlen;

    /* gzip's CRC-32 catches a flipped byte anywhere; the other formats' checksums are
     * optional, so their streams are cut instead (above). */
    uint8_t *z = gzip_of(data, DATA_LEN, &zlen);
    z[zlen / 2] ^= 0x55;
    expect_error(BR_DECOMPRESS_GZIP, z, zlen, 1u << 20, SM_ERR_CORRUPT);
    free(z);
    z = gzip_of(data, DATA_LEN, &zlen);
    z[zlen - 6] ^= 0x01; /* the trailer's CRC-32 */
    expect_error(BR_DECOMPRESS_GZIP, z, zlen, 1u << 20, SM_ERR_CORRUPT);
    free(z);
    free(data);
}

Test(br_decompress, does_not_believe_a_length_claimed_by_the_input)
{
    /* Raw snappy whose preamble claims 1 GiB, followed by a 3-byte literal. */
    const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x04, 0x08, 'a', 'b', 'c'};
    uint8_t x[32];
    size_t zlen;
    uint8_t *z = xerial_of((const uint8_t *)"abcdefgh", 8, 1, &zlen);

    expect_error(BR_DECOMPRESS_SNAPPY, huge, sizeof(huge), SIZE_MAX, SM_ERR_CORRUPT);
    /* A xerial block whose length runs past the input, and a negative one. */
    cr_assert_leq(zlen, sizeof(x));
    memcpy(x, z, zlen);
    put_be32(x + 16, 1000);
    expect_error(BR_DECOMPRESS_SNAPPY, x, zlen, 1u << 20, SM_ERR_CORRUPT);
    put_be32(x + 16, 0x80000000u);
    expect_error(BR_DECOMPRESS_SNAPPY, x, zlen, 1u << 20, SM_ERR_CORRUPT);
    free(z);
}

Test(br_decompress, refuses_output_past_max_out_and_accepts_exactly_max_out)
{
    uint8_t *data = sample(DATA_LEN);

    for (int codec = 1; codec <= 4; codec++) {
        size_t zlen, xlen;
        uint8_t *z = compress_with(codec, data, DATA_LEN, &zlen);
        uint8_t *out = NULL;
        size_t out_len = 0;

        expect_error(codec, z, zlen, DATA_LEN - 1, SM_ERR_TOO_LARGE);
        expect_error(codec, z, zlen, 1000, SM_ERR_TOO_LARGE);
        cr_assert_eq(br_decompress(codec, z, zlen, DATA_LEN, &out, &out_len), SM_OK, "codec %d",
                     codec);
        cr_assert_eq(out_len, DATA_LEN);
        free(out);
        free(z);
        if (codec == BR_DECOMPRESS_SNAPPY) {
            z = xerial_of(data, DATA_LEN, 3, &xlen); /* the bound spans blocks */
            expect_error(codec, z, xlen, DATA_LEN - 1, SM_ERR_TOO_LARGE);
            free(z);
        }
    }
    free(data);
}

Test(br_decompress, refuses_an_unknown_codec)
{
    const uint8_t in[] = {1, 2, 3};
    const int codecs[] = {0, 5, 6, 7, -1};

    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        expect_error(codecs[i], in, sizeof(in), 100, SM_ERR_UNSUPPORTED);
}
