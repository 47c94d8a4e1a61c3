/*
 * Unit tests for br_kheader: request headers v1 and v2 (RequestHeader.json) read from literal
 * bytes, and response headers v0 and v1 with their frame size.
 */
#include "broker/br_kheader.h"

#include <criterion/criterion.h>
#include <string.h>

Test(br_kheader, reads_v1_header_with_client_id)
{
    static const uint8_t b[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
                                0x2a, 0x00, 0x03, 'k',  'c',  't',  0xAA};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, false);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(h.api_key, 3);
    cr_assert_eq(h.api_version, 1);
    cr_assert_eq(h.correlation_id, 42);
    cr_assert(sm_str_eq(h.client_id, "kct"));
    cr_assert_not(h.flexible);
    cr_assert_eq(sm_reader_remaining(&r), 1); /* the body is left alone */
}

Test(br_kheader, reads_null_client_id)
{
    static const uint8_t b[] = {0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, false);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(h.correlation_id, -1);
    cr_assert_eq(h.client_id.len, -1);
    cr_assert_null(h.client_id.ptr);
}

Test(br_kheader, reads_librdkafka_apiversions_v3_header_and_skips_tags)
{
    /* Captured from librdkafka 2.0.2 (client-compat.md section 1). */
    static const uint8_t b[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00,
                                0x07, 'r',  'd',  'k',  'a',  'f',  'k',  'a',  0x00,
                                0x0b, 'l',  'i',  'b',  'r',  'd',  'k',  'a',  'f',
                                'k',  'a',  0x06, '2',  '.',  '0',  '.',  '2',  0x00};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, true);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(h.api_key, 18);
    cr_assert_eq(h.api_version, 3);
    cr_assert(sm_str_eq(h.client_id, "rdkafka"));
    cr_assert(h.flexible);
    cr_assert_eq(sm_reader_pos(&r), 18); /* body starts at the compact software name */
    cr_assert(sm_str_eq(sm_reader_compact_str(&r), "librdkafka"));
}

Test(br_kheader, skips_non_empty_tag_section_in_v2_header)
{
    static const uint8_t b[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x05, 0x00,
                                0x00, 0x02, 0x00, 0x01, 0x7f, 0x05, 0x00, 0xBB};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, true);
    cr_assert_eq(sm_reader_err(&r), SM_OK);
    cr_assert_eq(h.client_id.len, 0);
    cr_assert_eq(sm_reader_i8(&r), (int8_t)0xBB);
}

Test(br_kheader, reports_truncated_fixed_part)
{
    static const uint8_t b[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(br_kheader, reports_client_id_longer_than_frame)
{
    static const uint8_t b[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 'a'};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, false);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_TRUNCATED);
}

Test(br_kheader, reports_negative_client_id_length_as_corrupt)
{
    static const uint8_t b[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xfe};
    sm_reader_t r;
    br_kheader_t h;

    sm_reader_init(&r, b, sizeof(b));
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, false);
    cr_assert_eq(sm_reader_err(&r), SM_ERR_CORRUPT);
}

Test(br_kheader, writes_response_header_v0_with_frame_size)
{
    uint8_t out[BR_KHEADER_RESPONSE_MAX];
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x00};

    cr_assert_eq(br_kheader_response(out, 256, false, 10), 8);
    cr_assert_arr_eq(out, want, sizeof(want));
}

Test(br_kheader, writes_response_header_v1_with_empty_tags)
{
    uint8_t out[BR_KHEADER_RESPONSE_MAX];
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0xfe, 0x00};

    cr_assert_eq(br_kheader_response(out, -2, true, 0), 9);
    cr_assert_arr_eq(out, want, sizeof(want));
}

Test(br_kheader, refuses_response_size_beyond_int32)
{
    uint8_t out[BR_KHEADER_RESPONSE_MAX];

    cr_assert_eq(br_kheader_response(out, 1, false, (size_t)INT32_MAX - 3), 0);
    cr_assert_eq(br_kheader_response(out, 1, false, (size_t)INT32_MAX - 4), 8);
}
