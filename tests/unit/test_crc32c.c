/*
 * test_crc32c: CRC-32C against published vectors (the "123456789" check value and the RFC 3720
 * appendix B.4 iSCSI vectors), against a bit-at-a-time reference, and hardware against table
 * for chaining, unaligned starts and every length up to 4096.
 */
#include "sm_crc32c.h"

#include <criterion/criterion.h>
#include <stdint.h>
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
        cr_skip_test("CPU has no SSE4.2");
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
        }
    }
}

Test(crc32c, hardware_equals_table_for_every_length_up_to_4096)
{
    uint64_t seed = 0x1234;
    static uint8_t buf[4096 + 8];

    skip_without_hw();
    rng_fill(&seed, buf, sizeof(buf));
    for (size_t len = 0; len <= 4096; len++) {
        size_t off = len % 8;
        uint32_t start = (uint32_t)rng_next(&seed);

        cr_assert_eq(sm_crc32c_hw(start, buf + off, len), sm_crc32c_sw(start, buf + off, len),
                     "len %zu", len);
    }
}

Test(crc32c, dispatcher_agrees_with_both_paths)
{
    uint64_t seed = 99;
    uint8_t buf[1000];

    rng_fill(&seed, buf, sizeof(buf));
    cr_assert_eq(sm_crc32c(0, buf, sizeof(buf)), sm_crc32c_sw(0, buf, sizeof(buf)));
    if (sm_crc32c_have_hw())
        cr_assert_eq(sm_crc32c(0, buf, sizeof(buf)), sm_crc32c_hw(0, buf, sizeof(buf)));
}
