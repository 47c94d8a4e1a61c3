/*
 * test_crc32c: CRC-32C against published vectors (the "123456789" check value and the RFC 3720
 * appendix B.4 iSCSI vectors), against a bit-at-a-time reference, and both hardware paths
 * (SSE4.2 streams, AVX-512 folding) against the table for chaining, unaligned starts, every
 * length up to 4096, lengths around each path's block thresholds, and long random buffers.
 */
#include "sm_crc32c.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* The definition, one bit at a time: the reference the table and the instruction must match. */
static uint32_t crc_bitwise(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;

    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) != 0 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return ~c;
}

/* Deterministic xorshift64 so that failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void rng_fill(uint64_t *s, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng_next(s);
}

/* RFC 3720 B.4: iSCSI Read (from initiator) 10-byte command PDU; CRC bytes 56 3a 96 d9. */
static const uint8_t iscsi_read_pdu[48] = {
    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void check_vectors(crc_fn f)
{
    uint8_t buf[32];

    cr_assert_eq(f(0, "123456789", 9), 0xe3069283u);

    memset(buf, 0x00, sizeof(buf));
    cr_assert_eq(f(0, buf, sizeof(buf)), 0x8a9136aau);
    memset(buf, 0xff, sizeof(buf));
    cr_assert_eq(f(0, buf, sizeof(buf)), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    cr_assert_eq(f(0, buf, sizeof(buf)), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    cr_assert_eq(f(0, buf, sizeof(buf)), 0x113fdb5cu);

    cr_assert_eq(f(0, iscsi_read_pdu, sizeof(iscsi_read_pdu)), 0xd9963a56u);
}

static void skip_without_hw(void)
{
    if (!sm_crc32c_have_hw())
        cr_skip_test("CPU has no SSE4.2 with PCLMULQDQ");
}

static void skip_without_hw512(void)
{
    if (!sm_crc32c_have_hw512())
        cr_skip_test("CPU has no AVX-512 VPCLMULQDQ");
}

Test(crc32c, reference_matches_published_vectors)
{
    check_vectors(crc_bitwise);
}

Test(crc32c, table_path_matches_published_vectors)
{
    check_vectors(sm_crc32c_sw);
}

Test(crc32c, hardware_path_matches_published_vectors)
{
    skip_without_hw();
    check_vectors(sm_crc32c_hw);
}

Test(crc32c, avx512_path_matches_published_vectors)
{
    static uint8_t zeros[4096];
    static uint8_t ones[4096];

    skip_without_hw512();
    check_vectors(sm_crc32c_hw512);
    /* The vectors above are shorter than the fold; these are long enough for it. */
    memset(ones, 0xff, sizeof(ones));
    cr_assert_eq(sm_crc32c_hw512(0, zeros, sizeof(zeros)), crc_bitwise(0, zeros, sizeof(zeros)));
    cr_assert_eq(sm_crc32c_hw512(0, ones, sizeof(ones)), crc_bitwise(0, ones, sizeof(ones)));
    cr_assert_eq(sm_crc32c_hw512(0, iscsi_read_pdu, sizeof(iscsi_read_pdu)), 0xd9963a56u);
}

Test(crc32c, dispatcher_matches_published_vectors)
{
    check_vectors(sm_crc32c);
}

Test(crc32c, empty_input_returns_the_crc_unchanged)
{
    cr_assert_eq(sm_crc32c_sw(0, NULL, 0), 0u);
    cr_assert_eq(sm_crc32c_sw(0xe3069283u, "", 0), 0xe3069283u);
    cr_assert_eq(sm_crc32c(0x12345678u, "", 0), 0x12345678u);
    if (sm_crc32c_have_hw())
        cr_assert_eq(sm_crc32c_hw(0xdeadbeefu, NULL, 0), 0xdeadbeefu);
    if (sm_crc32c_have_hw512())
        cr_assert_eq(sm_crc32c_hw512(0xdeadbeefu, NULL, 0), 0xdeadbeefu);
}

Test(crc32c, table_path_matches_bitwise_reference_on_random_buffers)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint8_t buf[600];

    for (size_t len = 0; len < sizeof(buf); len += 7) {
        uint32_t start = (uint32_t)rng_next(&seed);

        rng_fill(&seed, buf, len);
        cr_assert_eq(sm_crc32c_sw(start, buf, len), crc_bitwise(start, buf, len), "len %zu", len);
    }
}

static void check_chaining(crc_fn f)
{
    uint64_t seed = 42;
    uint8_t buf[100];
    uint32_t whole;

    rng_fill(&seed, buf, sizeof(buf));
    whole = f(0, buf, sizeof(buf));
    for (size_t cut = 0; cut <= sizeof(buf); cut++) {
        uint32_t head = f(0, buf, cut);
        cr_assert_eq(f(head, buf + cut, sizeof(buf) - cut), whole, "cut %zu", cut);
    }
    /* One byte at a time. */
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof(buf); i++)
        c = f(c, buf + i, 1);
    cr_assert_eq(c, whole);
}

Test(crc32c, chaining_equals_one_pass_on_table_path)
{
    check_chaining(sm_crc32c_sw);
}

Test(crc32c, chaining_equals_one_pass_on_hardware_path)
{
    skip_without_hw();
    check_chaining(sm_crc32c_hw);
}

Test(crc32c, chaining_equals_one_pass_on_avx512_path)
{
    skip_without_hw512();
    check_chaining(sm_crc32c_hw512);
}

Test(crc32c, unaligned_starts_give_the_same_crc_on_both_paths)
{
    uint64_t seed = 7;
    uint64_t storage[80]; /* 640 bytes, 8-aligned */
    uint8_t *base = (uint8_t *)storage;
    uint8_t ref[64 + 16];

    rng_fill(&seed, ref, sizeof(ref));
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len <= 64; len++) {
            uint32_t want = crc_bitwise(0, ref, len);

            memcpy(base + off, ref, len);
            cr_assert_eq(sm_crc32c_sw(0, base + off, len), want, "off %zu len %zu", off, len);
            if (sm_crc32c_have_hw())
                cr_assert_eq(sm_crc32c_hw(0, base + off, len), want, "off %zu len %zu", off, len);
            if (sm_crc32c_have_hw512())
                cr_assert_eq(sm_crc32c_hw512(0, base + off, len), want, "off %zu len %zu", off,
                             len);
        }
    }
}

static void check_every_length_up_to_4096(crc_fn f)
{
    uint64_t seed = 0x1234;
    static uint8_t buf[4096 + 8];

    rng_fill(&seed, buf, sizeof(buf));
    for (size_t len = 0; len <= 4096; len++) {
        size_t off = len % 8;
        uint32_t start = (uint32_t)rng_next(&seed);

        cr_assert_eq(f(start, buf + off, len), sm_crc32c_sw(start, buf + off, len), "len %zu", len);
    }
}

Test(crc32c, hardware_equals_table_for_every_length_up_to_4096)
{
    skip_without_hw();
    check_every_length_up_to_4096(sm_crc32c_hw);
}

Test(crc32c, avx512_equals_table_for_every_length_up_to_4096)
{
    skip_without_hw512();
    check_every_length_up_to_4096(sm_crc32c_hw512);
}

/* The hardware path runs three streams over blocks of 4096, 1024, 256 and 64 bytes (3 blocks
 * at a time, largest tier first) and folds them with constants: every way a length can split
 * across the tiers, a byte either side of each threshold, and each start alignment. */
Test(crc32c, hardware_equals_table_around_the_stream_block_thresholds)
{
    static const size_t tiers[] = {64, 256, 1024, 4096};
    static uint8_t buf[4 * 3 * 4096 + 3 * (1024 + 256 + 64) + 64];
    uint64_t seed = 0xfeed;
    size_t checked = 0;

    skip_without_hw();
    rng_fill(&seed, buf, sizeof(buf));
    for (size_t t = 0; t < 4; t++) {
        for (size_t groups = 1; groups <= 4; groups++) {
            for (size_t below = 0; below <= t; below++) {
                /* groups of this tier, plus one group of each smaller tier from `below` up. */
                size_t base = groups * 3 * tiers[t];

                for (size_t u = below; u < t; u++)
                    base += 3 * tiers[u];
                for (size_t d = 0; d <= 18; d++) {
                    size_t len = base + d - 9;
                    size_t off = (d + groups) % 8;
                    uint32_t start = (uint32_t)rng_next(&seed);

                    cr_assert_leq(off + len, sizeof(buf));
                    cr_assert_eq(sm_crc32c_hw(start, buf + off, len),
                                 sm_crc32c_sw(start, buf + off, len), "len %zu off %zu", len, off);
                    checked++;
                }
            }
        }
    }
    cr_assert_gt(checked, 300);
}

/* The AVX-512 path folds 256 bytes a step, then 64 at a time, and leaves len % 64 to the
 * streams: lengths either side of 256 * n + 64 * m for every m, and each alignment. */
Test(crc32c, avx512_equals_table_around_the_fold_thresholds)
{
    static uint8_t buf[8 * 256 + 3 * 64 + 64 + 16];
    uint64_t seed = 0xf01d;

    skip_without_hw512();
    rng_fill(&seed, buf, sizeof(buf));
    for (size_t n = 1; n <= 8; n++) {
        for (size_t m = 0; m <= 3; m++) {
            for (size_t d = 0; d <= 70; d++) {
                size_t len = 256 * n + 64 * m + d - 4;
                size_t off = (n + m + d) % 16;
                uint32_t start = (uint32_t)rng_next(&seed);

                cr_assert_leq(off + len, sizeof(buf));
                cr_assert_eq(sm_crc32c_hw512(start, buf + off, len),
                             sm_crc32c_sw(start, buf + off, len), "len %zu off %zu", len, off);
            }
        }
    }
}

static void check_long_random_buffers(crc_fn f)
{
    uint64_t seed = 0xc0ffee;
    size_t cap = 300 * 1024;
    uint8_t *buf = malloc(cap);
    bool same = true;
    size_t bad_len = 0;

    cr_assert_not_null(buf);
    rng_fill(&seed, buf, cap);
    for (int i = 0; i < 60 && same; i++) {
        size_t off = (size_t)(rng_next(&seed) % 64);
        size_t len = (size_t)(rng_next(&seed) % (cap - 64));
        uint32_t start = (uint32_t)rng_next(&seed);

        same = f(start, buf + off, len) == sm_crc32c_sw(start, buf + off, len);
        bad_len = len;
    }
    free(buf); /* before asserting: a failing test must not leak */
    cr_assert(same, "len %zu", bad_len);
}

Test(crc32c, hardware_equals_table_on_long_random_buffers)
{
    skip_without_hw();
    check_long_random_buffers(sm_crc32c_hw);
}

Test(crc32c, avx512_equals_table_on_long_random_buffers)
{
    skip_without_hw512();
    check_long_random_buffers(sm_crc32c_hw512);
}

static void check_bitwise_past_the_largest_block(crc_fn f)
{
    uint64_t seed = 31337;
    static uint8_t buf[2 * 3 * 4096 + 3 * 1024 + 3 * 256 + 3 * 64 + 77];

    rng_fill(&seed, buf, sizeof(buf));
    cr_assert_eq(f(0, buf, sizeof(buf)), crc_bitwise(0, buf, sizeof(buf)));
    cr_assert_eq(f(0x12345678u, buf + 3, sizeof(buf) - 3),
                 crc_bitwise(0x12345678u, buf + 3, sizeof(buf) - 3));
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(f(0, buf, sizeof(buf)), crc_bitwise(0, buf, sizeof(buf)));
    memset(buf, 0xff, sizeof(buf));
    cr_assert_eq(f(0, buf, sizeof(buf)), crc_bitwise(0, buf, sizeof(buf)));
}

Test(crc32c, hardware_matches_bitwise_reference_past_the_largest_block)
{
    skip_without_hw();
    check_bitwise_past_the_largest_block(sm_crc32c_hw);
}

Test(crc32c, avx512_matches_bitwise_reference_on_long_buffers)
{
    skip_without_hw512();
    check_bitwise_past_the_largest_block(sm_crc32c_hw512);
}

static void check_chaining_across_blocks(crc_fn f)
{
    uint64_t seed = 4242;
    static uint8_t buf[3 * 4096 + 3 * 1024 + 500];
    uint32_t whole;

    rng_fill(&seed, buf, sizeof(buf));
    whole = f(0, buf, sizeof(buf));
    cr_assert_eq(whole, sm_crc32c_sw(0, buf, sizeof(buf)));
    for (size_t cut = 0; cut <= sizeof(buf); cut += 1 + cut / 16) {
        uint32_t head = f(0, buf, cut);

        cr_assert_eq(f(head, buf + cut, sizeof(buf) - cut), whole, "cut %zu", cut);
    }
}

Test(crc32c, chaining_across_the_stream_blocks_equals_one_pass_on_hardware_path)
{
    skip_without_hw();
    check_chaining_across_blocks(sm_crc32c_hw);
}

Test(crc32c, chaining_across_the_folds_equals_one_pass_on_avx512_path)
{
    skip_without_hw512();
    check_chaining_across_blocks(sm_crc32c_hw512);
}

Test(crc32c, dispatcher_agrees_with_every_path)
{
    uint64_t seed = 99;
    uint8_t buf[1000];

    rng_fill(&seed, buf, sizeof(buf));
    cr_assert_eq(sm_crc32c(0, buf, sizeof(buf)), sm_crc32c_sw(0, buf, sizeof(buf)));
    if (sm_crc32c_have_hw())
        cr_assert_eq(sm_crc32c(0, buf, sizeof(buf)), sm_crc32c_hw(0, buf, sizeof(buf)));
    if (sm_crc32c_have_hw512())
        cr_assert_eq(sm_crc32c(0, buf, sizeof(buf)), sm_crc32c_hw512(0, buf, sizeof(buf)));
}
