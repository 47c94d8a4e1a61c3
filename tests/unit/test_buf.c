/*
 * test_buf: the wire reader and writer. Round trips of every primitive at its boundary
 * values and exact encodings; then hostile input: truncation at every byte, negative and
 * oversized lengths, absurd counts, overlong varints, tagged fields that lie about their size;
 * the sticky error; and the writer's limit, patching, detaching and allocation failure.
 */
#include "sm_buf.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Lets the allocation-failure test ask for an impossible size and get NULL back instead of
 * an ASan report (ASan still prints one "WARNING: ... failed to allocate" line, which is
 * expected). Flags in ASAN_OPTIONS still override these. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* One writer per test, released by the fixture even when an assertion fails. */
static sm_writer_t w;

static void writer_setup(void)
{
    sm_writer_init(&w, 0);
}

static void writer_teardown(void)
{
    sm_writer_deinit(&w);
}

TestSuite(buf, .init = writer_setup, .fini = writer_teardown);

static sm_reader_t reader_of_writer(void)
{
    sm_reader_t r;

    cr_assert_eq(sm_writer_err(&w), SM_OK);
    sm_reader_init(&r, sm_writer_data(&w), sm_writer_len(&w));
    return r;
}

static void assert_written(const uint8_t *want, size_t n)
{
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    cr_assert_eq(sm_writer_len(&w), n, "wrote %zu bytes, expected %zu", sm_writer_len(&w), n);
    cr_assert(memcmp(sm_writer_data(&w), want, n) == 0);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- round trips ------------------------------------------------------------------------ */

Test(buf, fixed_width_values_round_trip_at_their_limits)
{
    sm_reader_t r;

    sm_writer_i8(&w, INT8_MIN);
    sm_writer_i8(&w, INT8_MAX);
    sm_writer_i8(&w, -1);
    sm_writer_i16(&w, INT16_MIN);
    sm_writer_i16(&w, INT16_MAX);
    sm_writer_i32(&w, INT32_MIN);
    sm_writer_i32(&w, INT32_MAX);
    sm_writer_i32(&w, -1);
    sm_writer_i64(&w, INT64_MIN);
    sm_writer_i64(&w, INT64_MAX);
    sm_writer_u16(&w, UINT16_MAX);
    sm_writer_u32(&w, UINT32_MAX);
    sm_writer_bool(&w, true);
    sm_writer_bool(&w, false);
    sm_writer_f64(&w, -0.0);
    sm_writer_f64(&w, INFINITY);
    sm_writer_f64(&w, 3.5);
    sm_writer_f64(&w, NAN);

    r = reader_of_writer();
    cr_assert_eq(sm_reader_i8(&r), INT8_MIN);
    cr_assert_eq(sm_reader_i8(&r), INT8_MAX);
    cr_assert_eq(sm_reader_i8(&r), -1);
    cr_assert_eq(sm_reader_i16(&r), INT16_MIN);
    cr_assert_eq(sm_reader_i16(&r), INT16_MAX);
    cr_assert_eq(sm_reader_i32(&r), INT32_MIN);
    cr_assert_eq(sm_reader_i32(&r), INT32_MAX);
    cr_assert_eq(sm_reader_i32(&r), -1);
    cr_assert_eq(sm_reader_i64(&r), INT64_MIN);
    cr_assert_eq(sm_reader_i64(&r), INT64_MAX);
    cr_assert_eq(sm_reader_u16(&r), UINT16_MAX);
    cr_assert_eq(sm_reader_u32(&r), UINT32_MAX);
    cr_assert_eq(sm_reader_bool(&r), true);
    cr_assert_eq(sm_reader_bool(&r), false);
    double z = sm_reader_f64(&r);
    cr_assert(z == 0.0 && signbit(z));
    cr_assert(isinf(sm_reader_f64(&r)));
    cr_assert(sm_reader_f64(&r) == 3.5);
    cr_assert(isnan(sm_reader_f64(&r)));
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, integers_are_big_endian)
{
    sm_writer_i16(&w, 0x0102);
    sm_writer_i32(&w, 0x03040506);
    sm_writer_i64(&w, 0x0708090a0b0c0d0e);
    sm_writer_f64(&w, 1.0);
    assert_written(BYTES(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                         0x0d, 0x0e, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0));
}

Test(buf, bool_reads_any_nonzero_byte_as_true)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x00, 0x01, 0x02, 0xff));
    cr_assert_eq(sm_reader_bool(&r), false);
    cr_assert_eq(sm_reader_bool(&r), true);
    cr_assert_eq(sm_reader_bool(&r), true);
    cr_assert_eq(sm_reader_bool(&r), true);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
}

Test(buf, uuid_round_trips_as_16_raw_bytes)
{
    sm_uuid_t u, back;
    sm_reader_t r;

    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(0xf0 + i);
    sm_writer_uuid(&w, u);
    cr_assert_eq(sm_writer_len(&w), 16);
    cr_assert_eq(sm_writer_data(&w)[0], 0xf0);
    r = reader_of_writer();
    back = sm_reader_uuid(&r);
    cr_assert(sm_uuid_eq(&u, &back));
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

struct uvarint_case {
    uint32_t v;
    uint8_t enc[5];
    size_t n;
};

Test(buf, uvarint_encodes_at_the_7_bit_edges)
{
    static const struct uvarint_case cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {0x7f, {0x7f}, 1},
        {0x80, {0x80, 0x01}, 2},
        {0xff, {0xff, 0x01}, 2},
        {0x3fff, {0xff, 0x7f}, 2},
        {0x4000, {0x80, 0x80, 0x01}, 3},
        {0x1fffff, {0xff, 0xff, 0x7f}, 3},
        {0x200000, {0x80, 0x80, 0x80, 0x01}, 4},
        {0x0fffffff, {0xff, 0xff, 0xff, 0x7f}, 4},
        {0x10000000, {0x80, 0x80, 0x80, 0x80, 0x01}, 5},
        {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sm_reader_t r;

        sm_writer_reset(&w);
        sm_writer_uvarint(&w, cases[i].v);
        assert_written(cases[i].enc, cases[i].n);
        cr_assert_eq(sm_uvarint_size(cases[i].v), cases[i].n);
        r = reader_of_writer();
        cr_assert_eq(sm_reader_uvarint(&r), cases[i].v);
        cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    }
}

Test(buf, uvarlong_round_trips_up_to_10_bytes)
{
    static const uint64_t vals[] = {0,          0x7f,       0x80,       UINT32_MAX,
                                    1ull << 35, 1ull << 56, 1ull << 63, UINT64_MAX};

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        sm_reader_t r;

        sm_writer_reset(&w);
        sm_writer_uvarlong(&w, vals[i]);
        cr_assert_eq(sm_writer_len(&w), sm_uvarlong_size(vals[i]));
        r = reader_of_writer();
        cr_assert_eq(sm_reader_uvarlong(&r), vals[i]);
        cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    }
    sm_writer_reset(&w);
    sm_writer_uvarlong(&w, UINT64_MAX);
    assert_written(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
}

Test(buf, zigzag_varint_maps_small_magnitudes_to_short_encodings)
{
    static const struct {
        int32_t v;
        uint8_t enc[5];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
        {INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sm_reader_t r;

        sm_writer_reset(&w);
        sm_writer_varint(&w, cases[i].v);
        assert_written(cases[i].enc, cases[i].n);
        cr_assert_eq(sm_varint_size(cases[i].v), cases[i].n);
        r = reader_of_writer();
        cr_assert_eq(sm_reader_varint(&r), cases[i].v);
        cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    }
}

Test(buf, zigzag_varlong_round_trips_extremes)
{
    static const int64_t vals[] = {0, -1, 1, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX, -64, 64};

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        sm_reader_t r;

        sm_writer_reset(&w);
        sm_writer_varlong(&w, vals[i]);
        cr_assert_eq(sm_writer_len(&w), sm_varlong_size(vals[i]));
        r = reader_of_writer();
        cr_assert_eq(sm_reader_varlong(&r), vals[i]);
        cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    }
    sm_writer_reset(&w);
    sm_writer_varlong(&w, INT64_MIN);
    assert_written(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
}

Test(buf, varint_reader_accepts_non_minimal_encodings)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x80, 0x00, 0xff, 0x80, 0x80, 0x80, 0x00));
    cr_assert_eq(sm_reader_uvarint(&r), 0);
    cr_assert_eq(sm_reader_uvarint(&r), 0x7f);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, strings_distinguish_null_from_empty_in_every_form)
{
    sm_str_t s;
    sm_reader_t r;

    sm_writer_nullable_str(&w, SM_STR_NULL);
    sm_writer_nullable_str(&w, sm_str_of(""));
    sm_writer_str(&w, sm_str_of("kafka"));
    sm_writer_compact_nullable_str(&w, SM_STR_NULL);
    sm_writer_compact_nullable_str(&w, sm_str_of(""));
    sm_writer_compact_str(&w, sm_str_of("samsa"));
    sm_writer_str(&w, sm_str_of(""));
    sm_writer_compact_str(&w, sm_str_of(""));
    assert_written(BYTES(0xff, 0xff, 0x00, 0x00, 0x00, 0x05, 'k', 'a', 'f', 'k', 'a', 0x00, 0x01,
                         0x06, 's', 'a', 'm', 's', 'a', 0x00, 0x00, 0x01));

    r = reader_of_writer();
    s = sm_reader_nullable_str(&r);
    cr_assert(s.len == -1 && s.ptr == NULL);
    s = sm_reader_nullable_str(&r);
    cr_assert(s.len == 0 && s.ptr != NULL);
    cr_assert(sm_str_eq(sm_reader_str(&r), "kafka"));
    s = sm_reader_compact_nullable_str(&r);
    cr_assert(s.len == -1 && s.ptr == NULL);
    s = sm_reader_compact_nullable_str(&r);
    cr_assert(s.len == 0 && s.ptr != NULL);
    cr_assert(sm_str_eq(sm_reader_compact_str(&r), "samsa"));
    cr_assert(sm_str_eq(sm_reader_str(&r), ""));
    cr_assert(sm_str_eq(sm_reader_compact_str(&r), ""));
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, strings_of_exactly_int16_max_bytes_round_trip)
{
    char *big = malloc(INT16_MAX + 1);
    sm_reader_t r;
    sm_str_t s;

    cr_assert_not_null(big);
    memset(big, 'x', INT16_MAX);
    big[INT16_MAX] = '\0';
    sm_writer_str(&w, sm_str_of(big));
    sm_writer_compact_str(&w, sm_str_of(big));
    r = reader_of_writer();
    s = sm_reader_str(&r);
    cr_expect_eq(s.len, INT16_MAX);
    s = sm_reader_compact_str(&r);
    cr_expect_eq(s.len, INT16_MAX);
    cr_expect_eq(sm_reader_expect_end(&r), SM_OK);
    free(big);
}

Test(buf, bytes_distinguish_null_from_empty_in_every_form)
{
    static const uint8_t payload[3] = {1, 2, 3};
    sm_bytes_t b;
    sm_reader_t r;

    sm_writer_nullable_bytes(&w, SM_BYTES_NULL);
    sm_writer_bytes(&w, sm_bytes_of(NULL, 0));
    sm_writer_bytes(&w, sm_bytes_of(payload, 3));
    sm_writer_compact_nullable_bytes(&w, SM_BYTES_NULL);
    sm_writer_compact_bytes(&w, sm_bytes_of(payload, 0));
    sm_writer_compact_nullable_bytes(&w, sm_bytes_of(payload, 3));
    assert_written(
        BYTES(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0x00, 0x01, 0x04, 1, 2, 3));

    r = reader_of_writer();
    b = sm_reader_nullable_bytes(&r);
    cr_assert(b.len == -1 && b.ptr == NULL);
    b = sm_reader_bytes(&r);
    cr_assert(b.len == 0 && b.ptr != NULL);
    b = sm_reader_nullable_bytes(&r);
    cr_assert(b.len == 3 && memcmp(b.ptr, payload, 3) == 0);
    b = sm_reader_compact_nullable_bytes(&r);
    cr_assert(b.len == -1 && b.ptr == NULL);
    b = sm_reader_compact_bytes(&r);
    cr_assert(b.len == 0 && b.ptr != NULL);
    b = sm_reader_compact_bytes(&r);
    cr_assert(b.len == 3 && memcmp(b.ptr, payload, 3) == 0);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, array_lengths_round_trip_in_every_form)
{
    sm_reader_t r;

    sm_writer_array_len(&w, 0);
    sm_writer_nullable_array_len(&w, -1);
    sm_writer_compact_array_len(&w, 0);
    sm_writer_compact_nullable_array_len(&w, -1);
    sm_writer_compact_array_len(&w, 2);
    sm_writer_i8(&w, 7);
    sm_writer_i8(&w, 8);
    assert_written(BYTES(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x03, 7, 8));

    r = reader_of_writer();
    cr_assert_eq(sm_reader_array_len(&r, 4), 0);
    cr_assert_eq(sm_reader_nullable_array_len(&r, 4), -1);
    cr_assert_eq(sm_reader_compact_array_len(&r, 4), 0);
    cr_assert_eq(sm_reader_compact_nullable_array_len(&r, 4), -1);
    cr_assert_eq(sm_reader_compact_array_len(&r, 1), 2);
    cr_assert_eq(sm_reader_i8(&r), 7);
    cr_assert_eq(sm_reader_i8(&r), 8);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

/* ---- tagged fields ---------------------------------------------------------------------- */

struct tag_seen {
    uint32_t tags[8];
    int32_t values[8];
    int n;
    uint32_t fail_on;  /* return SM_ERR_INVALID for this tag (UINT32_MAX = never) */
    uint32_t overread; /* read an int64 from this tag's 4 bytes (UINT32_MAX = never) */
};

static sm_err_t tag_record(void *ctx, uint32_t tag, sm_reader_t *field)
{
    struct tag_seen *seen = ctx;

    if (tag == seen->fail_on)
        return SM_ERR_INVALID;
    if (tag == seen->overread) {
        (void)sm_reader_i64(field);
        return SM_OK;
    }
    if (tag == 1 && seen->n < 8) { /* the only tag this "decoder" knows */
        seen->tags[seen->n] = tag;
        seen->values[seen->n++] = sm_reader_i32(field);
    } else if (seen->n < 8) {
        seen->tags[seen->n] = tag;
        seen->values[seen->n++] = -1;
    }
    return SM_OK;
}

static void write_three_tags(void)
{
    static const uint8_t four[4] = {0, 0, 0, 42};
    static const uint8_t junk[5] = {9, 9, 9, 9, 9};

    sm_writer_uvarint(&w, 3);
    sm_writer_tag(&w, 0, NULL, 0);
    sm_writer_tag(&w, 1, four, sizeof(four));
    sm_writer_tag(&w, 300, junk, sizeof(junk));
    sm_writer_i16(&w, 0x7777); /* what follows the section */
}

Test(buf, empty_tag_section_is_one_zero_byte)
{
    sm_reader_t r;

    sm_writer_empty_tags(&w);
    assert_written(BYTES(0x00));
    r = reader_of_writer();
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, tagged_fields_are_skipped_when_unknown)
{
    sm_reader_t r;

    write_three_tags();
    r = reader_of_writer();
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_i16(&r), 0x7777);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, tag_callback_sees_every_field_in_order)
{
    struct tag_seen seen = {.fail_on = UINT32_MAX, .overread = UINT32_MAX};
    sm_reader_t r;

    write_three_tags();
    r = reader_of_writer();
    sm_reader_tags(&r, tag_record, &seen);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(seen.n, 3);
    cr_assert_eq(seen.tags[0], 0);
    cr_assert_eq(seen.tags[1], 1);
    cr_assert_eq(seen.values[1], 42);
    cr_assert_eq(seen.tags[2], 300);
    cr_assert_eq(sm_reader_i16(&r), 0x7777);
}

Test(buf, tag_callback_error_becomes_the_reader_error)
{
    struct tag_seen seen = {.fail_on = 1, .overread = UINT32_MAX};
    sm_reader_t r;

    write_three_tags();
    r = reader_of_writer();
    sm_reader_tags(&r, tag_record, &seen);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_INVALID);
    cr_assert_eq(sm_reader_pos(&r), 0);
    cr_assert_eq(seen.n, 1); /* stopped at the failing tag */
}

Test(buf, reading_past_a_tag_field_fails_the_section)
{
    struct tag_seen seen = {.fail_on = UINT32_MAX, .overread = 1};
    sm_reader_t r;

    write_three_tags();
    r = reader_of_writer();
    sm_reader_tags(&r, tag_record, &seen);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);
}

Test(buf, rejects_tag_whose_size_exceeds_remaining_bytes)
{
    sm_reader_t r;

    /* one field, tag 5, size 100, but 3 bytes follow */
    sm_reader_init(&r, BYTES(0x01, 0x05, 0x64, 1, 2, 3));
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    /* size is a maximal uvarint */
    sm_reader_init(&r, BYTES(0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f, 1));
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, rejects_tag_count_that_cannot_fit)
{
    sm_reader_t r;

    /* 2^32 - 1 tags in 4 bytes */
    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0));
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    /* 3 tags, 2 empty ones present */
    sm_reader_init(&r, BYTES(0x03, 0x00, 0x00, 0x01, 0x00));
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, rejects_overlong_varint_inside_tag_section)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00));
    sm_reader_skip_tags(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

/* ---- hostile input ---------------------------------------------------------------------- */

Test(buf, rejects_varint_longer_than_5_bytes)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    cr_assert_eq(sm_reader_uvarint(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
    cr_assert_eq(sm_reader_pos(&r), 0);

    sm_reader_init(&r, BYTES(0x81, 0x80, 0x80, 0x80, 0x80, 0x00));
    cr_assert_eq(sm_reader_varint(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(buf, rejects_varint_whose_fifth_byte_overflows_32_bits)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff, 0x10));
    cr_assert_eq(sm_reader_uvarint(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(buf, rejects_varlong_longer_than_10_bytes)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    cr_assert_eq(sm_reader_uvarlong(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02));
    cr_assert_eq(sm_reader_varlong(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(buf, varint_cut_short_is_truncated_not_corrupt)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x80, 0x80));
    cr_assert_eq(sm_reader_uvarint(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    sm_reader_init(&r, NULL, 0);
    cr_assert_eq(sm_reader_varlong(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, rejects_negative_lengths_other_than_null)
{
    sm_reader_t r;
    sm_str_t s;
    sm_bytes_t b;

    sm_reader_init(&r, BYTES(0xff, 0xfe, 'a', 'b'));
    s = sm_reader_nullable_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
    cr_assert(s.len == 0 && s.ptr != NULL);
    cr_assert_eq(sm_reader_pos(&r), 0);

    sm_reader_init(&r, BYTES(0x80, 0x00, 'a', 'b'));
    (void)sm_reader_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xfe, 1));
    b = sm_reader_nullable_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
    cr_assert(b.len == 0 && b.ptr != NULL);

    sm_reader_init(&r, BYTES(0x80, 0x00, 0x00, 0x00, 1));
    (void)sm_reader_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xfe));
    cr_assert_eq(sm_reader_nullable_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0x80, 0x00, 0x00, 0x00));
    cr_assert_eq(sm_reader_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(buf, rejects_null_where_not_nullable)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0xff, 0xff));
    (void)sm_reader_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0x00));
    (void)sm_reader_compact_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff));
    (void)sm_reader_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0x00));
    (void)sm_reader_compact_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff));
    cr_assert_eq(sm_reader_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);

    sm_reader_init(&r, BYTES(0x00));
    cr_assert_eq(sm_reader_compact_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(buf, rejects_lengths_beyond_remaining_bytes)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(0x7f, 0xff, 'a', 'b', 'c'));
    (void)sm_reader_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    sm_reader_init(&r, BYTES(0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6));
    (void)sm_reader_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);

    sm_reader_init(&r, BYTES(0x05, 'a', 'b', 'c'));
    (void)sm_reader_compact_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);

    /* One byte short. */
    sm_reader_init(&r, BYTES(0x00, 0x00, 0x00, 0x04, 1, 2, 3));
    (void)sm_reader_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, rejects_oversized_compact_lengths)
{
    sm_reader_t r;

    /* compact string of 40000 bytes: beyond Kafka's 32767 limit, whatever follows */
    sm_reader_init(&r, BYTES(0xc1, 0xb8, 0x02, 'a'));
    (void)sm_reader_compact_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TOO_LARGE);

    /* compact bytes of 2^32 - 2 bytes: not an int32 */
    sm_reader_init(&r, BYTES(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2));
    (void)sm_reader_compact_nullable_bytes(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TOO_LARGE);
    cr_assert_eq(sm_reader_pos(&r), 0);
}

Test(buf, refuses_absurd_array_counts_at_once)
{
    sm_reader_t r;

    /* INT32_MAX elements with 10 bytes left */
    sm_reader_init(&r, BYTES(0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(sm_reader_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    /* compact count 2^31: past int32 */
    sm_reader_init(&r, BYTES(0x81, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(sm_reader_compact_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TOO_LARGE);

    /* compact count 2^31 - 1 */
    sm_reader_init(&r, BYTES(0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(sm_reader_compact_nullable_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, array_count_is_checked_against_minimum_element_size)
{
    sm_reader_t r;
    static const uint8_t three_int32s_but_11_bytes[] = {0, 0, 0, 3, 0, 0, 0, 1,
                                                        0, 0, 0, 2, 0, 0, 0};

    sm_reader_init(&r, three_int32s_but_11_bytes, sizeof(three_int32s_but_11_bytes));
    cr_assert_eq(sm_reader_array_len(&r, 4), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);

    sm_reader_init(&r, BYTES(0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3));
    cr_assert_eq(sm_reader_array_len(&r, 4), 3);
    cr_assert_eq(sm_reader_err(&r), SM_OK);

    /* min size 0 counts as 1 */
    sm_reader_init(&r, BYTES(0x04, 0, 0));
    cr_assert_eq(sm_reader_compact_array_len(&r, 0), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);

    /* a huge min size does not overflow */
    sm_reader_init(&r, BYTES(0, 0, 0, 1, 0));
    cr_assert_eq(sm_reader_array_len(&r, SIZE_MAX), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, error_is_sticky_reads_return_zero_and_do_not_move)
{
    sm_reader_t r;
    sm_str_t s;
    sm_bytes_t b;
    sm_uuid_t u;
    sm_reader_t sub;

    sm_reader_init(&r, BYTES(0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                             0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13));
    cr_assert_eq(sm_reader_i16(&r), 0x0001);
    /* force an error: a string of 0x0203 bytes */
    s = sm_reader_str(&r);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert(s.len == 0 && s.ptr != NULL);
    cr_assert_eq(sm_reader_pos(&r), 2);
    cr_assert_eq(sm_reader_remaining(&r), 0);

    /* 18 bytes remain, but nothing can be read any more */
    cr_assert_eq(sm_reader_i8(&r), 0);
    cr_assert_eq(sm_reader_i16(&r), 0);
    cr_assert_eq(sm_reader_i32(&r), 0);
    cr_assert_eq(sm_reader_i64(&r), 0);
    cr_assert_eq(sm_reader_u16(&r), 0);
    cr_assert_eq(sm_reader_u32(&r), 0);
    cr_assert_eq(sm_reader_bool(&r), false);
    cr_assert(sm_reader_f64(&r) == 0.0);
    cr_assert_eq(sm_reader_uvarint(&r), 0);
    cr_assert_eq(sm_reader_uvarlong(&r), 0);
    cr_assert_eq(sm_reader_varint(&r), 0);
    cr_assert_eq(sm_reader_varlong(&r), 0);
    u = sm_reader_uuid(&r);
    cr_assert(sm_uuid_is_zero(&u));
    s = sm_reader_nullable_str(&r);
    cr_assert(s.len == 0 && s.ptr != NULL);
    s = sm_reader_compact_nullable_str(&r);
    cr_assert(s.len == 0 && s.ptr != NULL);
    b = sm_reader_nullable_bytes(&r);
    cr_assert(b.len == 0 && b.ptr != NULL);
    b = sm_reader_compact_bytes(&r);
    cr_assert(b.len == 0 && b.ptr != NULL);
    cr_assert_eq(sm_reader_nullable_array_len(&r, 1), 0);
    cr_assert_eq(sm_reader_compact_nullable_array_len(&r, 1), 0);
    cr_assert_null(sm_reader_take(&r, 0));
    sm_reader_skip(&r, 1);
    sm_reader_skip_tags(&r);
    sub = sm_reader_sub(&r, 1);
    cr_assert_eq(sm_reader_err(&sub), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_remaining(&sub), 0);

    /* the first error stays; later failures do not replace it */
    sm_reader_fail(&r, SM_ERR_INVALID);
    cr_assert_eq(sm_reader_expect_end(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 2);
}

/* Every primitive, in a fixed order, written then read back in the same order. */
static void write_everything(void)
{
    static const uint8_t blob[5] = {1, 2, 3, 4, 5};
    sm_uuid_t u;

    memset(u.b, 0xab, sizeof(u.b));
    sm_writer_i8(&w, -2);
    sm_writer_i16(&w, -300);
    sm_writer_i32(&w, INT32_MIN);
    sm_writer_i64(&w, -5);
    sm_writer_u16(&w, 65000);
    sm_writer_u32(&w, 4000000000u);
    sm_writer_bool(&w, true);
    sm_writer_f64(&w, 0.25);
    sm_writer_uuid(&w, u);
    sm_writer_uvarint(&w, 0x80);
    sm_writer_uvarlong(&w, 1ull << 40);
    sm_writer_varint(&w, -1);
    sm_writer_varlong(&w, INT64_MIN);
    sm_writer_str(&w, sm_str_of("abc"));
    sm_writer_nullable_str(&w, SM_STR_NULL);
    sm_writer_compact_str(&w, sm_str_of("de"));
    sm_writer_compact_nullable_str(&w, sm_str_of(""));
    sm_writer_bytes(&w, sm_bytes_of(blob, 5));
    sm_writer_nullable_bytes(&w, sm_bytes_of(blob, 1));
    sm_writer_compact_bytes(&w, sm_bytes_of(blob, 2));
    sm_writer_compact_nullable_bytes(&w, SM_BYTES_NULL);
    sm_writer_array_len(&w, 2);
    sm_writer_i32(&w, 10);
    sm_writer_i32(&w, 11);
    sm_writer_compact_nullable_array_len(&w, 1);
    sm_writer_compact_str(&w, sm_str_of("x"));
    sm_writer_uvarint(&w, 1);
    sm_writer_tag(&w, 7, blob, 3);
    sm_writer_empty_tags(&w);
}

/* Returns 1 when every value read back equals what write_everything wrote. */
static int read_everything(sm_reader_t *r)
{
    int ok = 1;
    sm_uuid_t u;
    sm_str_t s;
    sm_bytes_t b;

    ok &= sm_reader_i8(r) == -2;
    ok &= sm_reader_i16(r) == -300;
    ok &= sm_reader_i32(r) == INT32_MIN;
    ok &= sm_reader_i64(r) == -5;
    ok &= sm_reader_u16(r) == 65000;
    ok &= sm_reader_u32(r) == 4000000000u;
    ok &= sm_reader_bool(r) == true;
    ok &= sm_reader_f64(r) == 0.25;
    u = sm_reader_uuid(r);
    ok &= u.b[0] == 0xab && u.b[15] == 0xab;
    ok &= sm_reader_uvarint(r) == 0x80;
    ok &= sm_reader_uvarlong(r) == 1ull << 40;
    ok &= sm_reader_varint(r) == -1;
    ok &= sm_reader_varlong(r) == INT64_MIN;
    ok &= sm_str_eq(sm_reader_str(r), "abc");
    s = sm_reader_nullable_str(r);
    ok &= s.len == -1;
    ok &= sm_str_eq(sm_reader_compact_str(r), "de");
    ok &= sm_str_eq(sm_reader_compact_nullable_str(r), "");
    b = sm_reader_bytes(r);
    ok &= b.len == 5 && b.ptr[4] == 5;
    b = sm_reader_nullable_bytes(r);
    ok &= b.len == 1 && b.ptr[0] == 1;
    b = sm_reader_compact_bytes(r);
    ok &= b.len == 2 && b.ptr[1] == 2;
    b = sm_reader_compact_nullable_bytes(r);
    ok &= b.len == -1;
    int32_t n = sm_reader_array_len(r, 4);
    ok &= n == 2;
    for (int32_t i = 0; i < n; i++)
        ok &= sm_reader_i32(r) == 10 + i;
    n = sm_reader_compact_nullable_array_len(r, 1);
    ok &= n == 1;
    for (int32_t i = 0; i < n; i++)
        ok &= sm_str_eq(sm_reader_compact_str(r), "x");
    sm_reader_skip_tags(r);
    sm_reader_skip_tags(r);
    return ok;
}

Test(buf, every_primitive_round_trips_in_one_message)
{
    sm_reader_t r;

    write_everything();
    r = reader_of_writer();
    cr_assert(read_everything(&r));
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
}

Test(buf, truncation_at_every_byte_position_is_reported)
{
    size_t len;

    write_everything();
    len = sm_writer_len(&w);
    for (size_t cut = 0; cut < len; cut++) {
        /* An exact-size heap copy, so that ASan sees any read past the cut. */
        uint8_t *copy = malloc(cut > 0 ? cut : 1);
        sm_reader_t r;
        sm_err_t err;
        size_t pos;

        cr_assert_not_null(copy);
        memcpy(copy, sm_writer_data(&w), cut);
        sm_reader_init(&r, copy, cut);
        (void)read_everything(&r);
        err = sm_reader_err(&r);
        pos = sm_reader_pos(&r);
        free(copy);
        cr_assert_eq(err, SM_ERR_TRUNCATED, "cut at %zu of %zu: %s", cut, len, sm_err_str(err));
        cr_assert_leq(pos, cut);
    }
}

Test(buf, skip_take_and_remaining_track_position)
{
    sm_reader_t r;
    const uint8_t *p;

    sm_reader_init(&r, BYTES(1, 2, 3, 4, 5, 6));
    cr_assert_eq(sm_reader_remaining(&r), 6);
    sm_reader_skip(&r, 2);
    cr_assert_eq(sm_reader_pos(&r), 2);
    p = sm_reader_take(&r, 3);
    cr_assert(p != NULL && p[0] == 3 && p[2] == 5);
    cr_assert_eq(sm_reader_remaining(&r), 1);
    cr_assert_not_null(sm_reader_take(&r, 0));
    cr_assert_eq(sm_reader_expect_end(&r), SM_ERR_CORRUPT); /* one byte left over */

    sm_reader_init(&r, BYTES(1, 2));
    sm_reader_skip(&r, 3);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_pos(&r), 0);

    sm_reader_init(&r, BYTES(1, 2));
    sm_reader_skip(&r, SIZE_MAX);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(buf, empty_reader_over_null_buffer_is_usable)
{
    sm_reader_t r;

    sm_reader_init(&r, NULL, 0);
    cr_assert_eq(sm_reader_remaining(&r), 0);
    cr_assert_not_null(sm_reader_take(&r, 0));
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    cr_assert_eq(sm_reader_i8(&r), 0);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);

    sm_reader_init(&r, NULL, 5);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_INVALID);
    cr_assert_eq(sm_reader_remaining(&r), 0);
}

Test(buf, sub_reader_covers_exactly_n_bytes_and_fails_alone)
{
    sm_reader_t r, sub;

    sm_reader_init(&r, BYTES(0, 0, 0, 2, 0xaa, 0xbb, 0xcc));
    sm_reader_skip(&r, 4);
    sub = sm_reader_sub(&r, 2);
    cr_assert_eq(sm_reader_remaining(&sub), 2);
    cr_assert_eq(sm_reader_pos(&r), 6);
    cr_assert_eq(sm_reader_i32(&sub), 0); /* runs past the sub-reader's end */
    cr_assert_eq(sm_reader_err(&sub), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(sm_reader_i8(&r), (int8_t)0xcc);

    sm_reader_init(&r, BYTES(1, 2));
    sub = sm_reader_sub(&r, 3);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_err(&sub), SM_ERR_TRUNCATED);
    cr_assert_eq(sm_reader_i8(&sub), 0);
}

Test(buf, reader_fail_records_only_the_first_error)
{
    sm_reader_t r;

    sm_reader_init(&r, BYTES(1, 2, 3));
    sm_reader_fail(&r, SM_OK);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    sm_reader_fail(&r, SM_ERR_UNSUPPORTED);
    sm_reader_fail(&r, SM_ERR_CORRUPT);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_UNSUPPORTED);
    cr_assert_eq(sm_reader_i8(&r), 0);
}

/* ---- writer ----------------------------------------------------------------------------- */

Test(buf, reserve_and_patch_back_fill_a_length_and_crc)
{
    size_t size_pos, crc_pos;
    sm_reader_t r;

    size_pos = sm_writer_reserve(&w, 4);
    crc_pos = sm_writer_reserve(&w, 4);
    sm_writer_str(&w, sm_str_of("hi"));
    sm_writer_patch_i32(&w, size_pos, (int32_t)(sm_writer_len(&w) - size_pos - 4));
    sm_writer_patch_u32(&w, crc_pos, 0xdeadbeefu);
    assert_written(BYTES(0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 0, 2, 'h', 'i'));

    sm_writer_patch_i8(&w, 10, 'H');
    sm_writer_patch_i16(&w, 8, 0x0001);
    sm_writer_patch_i64(&w, 0, -1);
    r = reader_of_writer();
    cr_assert_eq(sm_reader_i64(&r), -1);
    cr_assert_eq(sm_reader_i16(&r), 1);
    cr_assert_eq(sm_reader_i8(&r), 'H');
}

Test(buf, patch_outside_written_bytes_is_a_range_error)
{
    sm_writer_i32(&w, 0);
    sm_writer_patch_i32(&w, 1, 5);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_RANGE);

    sm_writer_reset(&w);
    sm_writer_i32(&w, 0);
    sm_writer_patch_i64(&w, SIZE_MAX - 2, 5); /* pos + 8 would wrap */
    cr_assert_eq(sm_writer_err(&w), SM_ERR_RANGE);
    cr_assert_eq(sm_writer_data(&w)[0], 0);
}

Test(buf, writer_refuses_writes_past_its_limit_and_stays_failed)
{
    uint8_t *out = (uint8_t *)&w; /* any non-NULL value, to see detach clear it */
    size_t out_len = 99;

    sm_writer_set_limit(&w, 10);
    sm_writer_i64(&w, 1);
    sm_writer_i16(&w, 2);
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    sm_writer_i8(&w, 3);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
    cr_assert_eq(sm_writer_len(&w), 10);

    /* sticky: nothing more is written or patched */
    sm_writer_set_limit(&w, 100);
    sm_writer_i8(&w, 4);
    sm_writer_patch_i8(&w, 0, 9);
    cr_assert_eq(sm_writer_len(&w), 10);
    cr_assert_eq(sm_writer_data(&w)[0], 0);
    cr_assert_eq(sm_writer_detach(&w, &out, &out_len), SM_ERR_TOO_LARGE);
    cr_assert_null(out);
    cr_assert_eq(out_len, 0);

    /* reset clears the error and keeps the limit */
    sm_writer_reset(&w);
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    sm_writer_i8(&w, 5);
    assert_written(BYTES(5));
}

Test(buf, size_arithmetic_cannot_overflow)
{
    sm_writer_i8(&w, 1);
    sm_writer_set_limit(&w, SIZE_MAX);
    (void)sm_writer_reserve(&w, SIZE_MAX); /* 1 + SIZE_MAX would wrap to 0 */
    cr_assert_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
    cr_assert_eq(sm_writer_len(&w), 1);

    sm_writer_reset(&w);
    sm_writer_set_limit(&w, SM_WRITER_DEFAULT_LIMIT);
    (void)sm_writer_reserve(&w, (size_t)INT32_MAX + 1);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
}

Test(buf, set_limit_below_length_fails_the_writer)
{
    sm_writer_i32(&w, 1);
    sm_writer_set_limit(&w, 3);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
}

Test(buf, records_nomem_when_allocation_fails)
{
    sm_writer_i8(&w, 1);
    sm_writer_set_limit(&w, SIZE_MAX);
    (void)sm_writer_reserve(&w, SIZE_MAX / 2);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_NOMEM);
    cr_assert_eq(sm_writer_len(&w), 1);
    cr_assert_eq(sm_writer_data(&w)[0], 1); /* the old buffer is intact and still owned */
    sm_writer_i8(&w, 2);
    cr_assert_eq(sm_writer_len(&w), 1);
}

Test(buf, writer_grows_from_a_tiny_hint)
{
    sm_writer_t small;
    sm_reader_t r;
    int ok = 1;

    sm_writer_init(&small, 1);
    for (int32_t i = 0; i < 20000; i++)
        sm_writer_i32(&small, i);
    cr_expect_eq(sm_writer_err(&small), SM_OK);
    cr_expect_eq(sm_writer_len(&small), 80000);
    sm_reader_init(&r, sm_writer_data(&small), sm_writer_len(&small));
    for (int32_t i = 0; i < 20000; i++)
        ok &= sm_reader_i32(&r) == i;
    sm_writer_deinit(&small);
    cr_assert(ok);
}

Test(buf, detach_hands_over_the_bytes_and_empties_the_writer)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    sm_err_t err;

    sm_writer_str(&w, sm_str_of("abc"));
    err = sm_writer_detach(&w, &out, &out_len);
    cr_assert_eq(err, SM_OK);
    cr_assert_eq(out_len, 5);
    cr_expect(memcmp(out,
                     "\x00\x03"
                     "abc",
                     5) == 0);
    free(out);
    cr_assert_eq(sm_writer_len(&w), 0);
    cr_assert_null(sm_writer_data(&w));

    /* empty writer: a freeable non-NULL pointer */
    err = sm_writer_detach(&w, &out, &out_len);
    cr_assert_eq(err, SM_OK);
    cr_assert_not_null(out);
    cr_assert_eq(out_len, 0);
    free(out);

    /* and the writer still works */
    sm_writer_i8(&w, 1);
    assert_written(BYTES(1));
}

Test(buf, deinit_accepts_null_and_may_be_repeated)
{
    sm_writer_deinit(NULL);
    sm_writer_i8(&w, 1);
    sm_writer_deinit(&w);
    sm_writer_deinit(&w);
    cr_assert_null(sm_writer_data(&w));
}

Test(buf, writer_refuses_null_for_non_nullable_fields)
{
    sm_writer_str(&w, SM_STR_NULL);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);
    cr_assert_eq(sm_writer_len(&w), 0);

    sm_writer_reset(&w);
    sm_writer_compact_bytes(&w, SM_BYTES_NULL);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);

    sm_writer_reset(&w);
    sm_writer_array_len(&w, -1);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);

    sm_writer_reset(&w);
    sm_writer_compact_nullable_array_len(&w, -2);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);

    sm_writer_reset(&w);
    sm_writer_nullable_str(&w, (sm_str_t){"x", -2});
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);

    sm_writer_reset(&w);
    sm_writer_bytes(&w, sm_bytes_of(NULL, 3));
    cr_assert_eq(sm_writer_err(&w), SM_ERR_INVALID);
    cr_assert_eq(sm_writer_len(&w), 0);
}

Test(buf, writer_refuses_strings_longer_than_int16_max)
{
    char *big = malloc(INT16_MAX + 2);

    cr_assert_not_null(big);
    memset(big, 'y', INT16_MAX + 1);
    big[INT16_MAX + 1] = '\0';
    sm_writer_str(&w, sm_str_of(big));
    cr_expect_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
    sm_writer_reset(&w);
    sm_writer_compact_nullable_str(&w, sm_str_of(big));
    cr_expect_eq(sm_writer_err(&w), SM_ERR_TOO_LARGE);
    cr_expect_eq(sm_writer_len(&w), 0);
    free(big);
}

Test(buf, writer_fail_records_only_the_first_error)
{
    sm_writer_fail(&w, SM_OK);
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    sm_writer_fail(&w, SM_ERR_STATE);
    sm_writer_fail(&w, SM_ERR_NOMEM);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_STATE);
}

/* ---- views ------------------------------------------------------------------------------ */

Test(buf, str_helpers_handle_null_and_empty)
{
    char *dup = (char *)"sentinel";
    sm_str_t s = sm_str_of(NULL);

    cr_assert(s.len == -1 && s.ptr == NULL);
    cr_assert(!sm_str_eq(s, ""));
    cr_assert(sm_str_eq(sm_str_of(""), ""));
    cr_assert(!sm_str_eq(sm_str_of("ab"), "abc"));
    cr_assert(!sm_str_eq(sm_str_of("ab"), NULL));

    cr_assert_eq(sm_str_dup(s, &dup), SM_OK);
    cr_assert_null(dup);
    cr_assert_eq(sm_str_dup((sm_str_t){"hello world", 5}, &dup), SM_OK);
    cr_expect_str_eq(dup, "hello");
    free(dup);
    cr_assert_eq(sm_str_dup(sm_str_of(""), &dup), SM_OK);
    cr_expect_str_eq(dup, "");
    free(dup);
}
