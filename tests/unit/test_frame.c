/*
 * Unit tests for sm_frame: 4-byte big-endian length framing on raw bytes and evbuffers.
 * Edge cases: partial headers, exact boundaries, declared lengths above the limit (refused
 * from the header alone), zero and negative lengths, headers split across evbuffer chains.
 */
#include "sm_frame.h"

#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <string.h>

/* The evbuffer of the evbuffer tests: made and freed by the fixture, so a failing assertion
 * leaks nothing. */
static struct evbuffer *b;

static void setup(void)
{
    b = evbuffer_new();
    cr_assert_not_null(b);
}

static void teardown(void)
{
    evbuffer_free(b);
    b = NULL;
}

TestSuite(frame_evbuffer, .init = setup, .fini = teardown);

static void put(uint8_t *buf, uint32_t n)
{
    sm_frame_put_header(buf, n);
}

Test(frame, header_round_trips_big_endian)
{
    uint8_t h[4];

    sm_frame_put_header(h, 0x01020304u);
    cr_assert_eq(h[0], 1);
    cr_assert_eq(h[1], 2);
    cr_assert_eq(h[2], 3);
    cr_assert_eq(h[3], 4);
    cr_assert_eq(sm_frame_get_header(h), 0x01020304u);
}

Test(frame, needs_more_while_header_is_partial)
{
    uint8_t buf[4];
    uint32_t len = 99;
    size_t need = 99;

    put(buf, 10);
    for (size_t avail = 0; avail < 4; avail++) {
        cr_assert_eq(sm_frame_peek(buf, avail, 100, &len, &need), SM_ERR_AGAIN, "avail %zu", avail);
        cr_assert_eq(len, 0);
        cr_assert_eq(need, 4);
    }
}

Test(frame, accepts_null_buffer_when_nothing_is_available)
{
    uint32_t len;

    cr_assert_eq(sm_frame_peek(NULL, 0, 100, &len, NULL), SM_ERR_AGAIN);
}

Test(frame, reports_total_need_once_header_is_known)
{
    uint8_t buf[14] = {0};
    uint32_t len;
    size_t need;

    put(buf, 10);
    for (size_t avail = 4; avail < 14; avail++) {
        cr_assert_eq(sm_frame_peek(buf, avail, 100, &len, &need), SM_ERR_AGAIN);
        cr_assert_eq(len, 10);
        cr_assert_eq(need, 14);
    }
}

Test(frame, frame_is_ready_at_exact_boundary)
{
    uint8_t buf[14] = {0};
    uint32_t len;
    size_t need;

    put(buf, 10);
    memcpy(buf + 4, "0123456789", 10);
    cr_assert_eq(sm_frame_peek(buf, 14, 100, &len, &need), SM_OK);
    cr_assert_eq(len, 10);
    cr_assert_eq(need, 14);
}

Test(frame, frame_is_ready_with_next_frame_bytes_behind_it)
{
    uint8_t buf[20] = {0};
    uint32_t len;

    put(buf, 2);
    put(buf + 6, 1000);
    cr_assert_eq(sm_frame_peek(buf, sizeof(buf), 100, &len, NULL), SM_OK);
    cr_assert_eq(len, 2);
    /* The second frame is judged on its own: too large for the same limit. */
    cr_assert_eq(sm_frame_peek(buf + 6, sizeof(buf) - 6, 100, &len, NULL), SM_ERR_TOO_LARGE);
}

Test(frame, zero_length_frame_is_ready_with_the_header_alone)
{
    uint8_t buf[4];
    uint32_t len = 99;
    size_t need = 99;

    put(buf, 0);
    cr_assert_eq(sm_frame_peek(buf, 4, 100, &len, &need), SM_OK);
    cr_assert_eq(len, 0);
    cr_assert_eq(need, 4);
    /* Even a limit of zero admits an empty frame. */
    cr_assert_eq(sm_frame_peek(buf, 4, 0, &len, NULL), SM_OK);
}

Test(frame, refuses_length_above_max_from_the_header_alone)
{
    uint8_t buf[4];
    uint32_t len;
    size_t need = 12345;

    put(buf, 0x7fffffffu); /* a peer declaring 2 GiB */
    cr_assert_eq(sm_frame_peek(buf, 4, 1024 * 1024, &len, &need), SM_ERR_TOO_LARGE);
    cr_assert_eq(len, 0x7fffffffu);
    cr_assert_eq(need, 12345, "need is left alone on error");
}

Test(frame, length_equal_to_max_is_accepted_and_one_above_is_not)
{
    uint8_t buf[4 + 65];
    uint32_t len;

    memset(buf, 'x', sizeof(buf));
    put(buf, 64);
    cr_assert_eq(sm_frame_peek(buf, 68, 64, &len, NULL), SM_OK);
    put(buf, 65);
    cr_assert_eq(sm_frame_peek(buf, 69, 64, &len, NULL), SM_ERR_TOO_LARGE);
}

Test(frame, negative_length_is_corrupt_whatever_the_limit)
{
    uint8_t buf[4];
    uint32_t len;

    put(buf, 0x80000000u);
    cr_assert_eq(sm_frame_peek(buf, 4, UINT32_MAX, &len, NULL), SM_ERR_CORRUPT);
    put(buf, 0xffffffffu);
    cr_assert_eq(sm_frame_peek(buf, 4, UINT32_MAX, &len, NULL), SM_ERR_CORRUPT);
    cr_assert_eq(sm_frame_peek(buf, 4, 10, &len, NULL), SM_ERR_CORRUPT);
}

Test(frame_evbuffer, evbuffer_peek_does_not_drain)
{
    uint8_t buf[7];
    uint32_t len;
    size_t need;

    put(buf, 3);
    memcpy(buf + 4, "abc", 3);
    evbuffer_add(b, buf, 5);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 100, &len, &need), SM_ERR_AGAIN);
    cr_assert_eq(need, 7);
    evbuffer_add(b, buf + 5, 2);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 100, &len, &need), SM_OK);
    cr_assert_eq(len, 3);
    cr_assert_eq(evbuffer_get_length(b), 7);
}

Test(frame_evbuffer, evbuffer_peek_reads_a_header_split_across_chains)
{
    static const uint8_t part1[2] = {0x00, 0x00};
    static const uint8_t part2[2] = {0x01, 0x00}; /* 256 */
    uint32_t len;
    size_t need;

    evbuffer_add_reference(b, part1, 1, NULL, NULL);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 1000, &len, &need), SM_ERR_AGAIN);
    cr_assert_eq(need, 4);
    evbuffer_add_reference(b, part1 + 1, 1, NULL, NULL);
    evbuffer_add_reference(b, part2, 2, NULL, NULL);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 1000, &len, &need), SM_ERR_AGAIN);
    cr_assert_eq(len, 256);
    cr_assert_eq(need, 260);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 255, &len, &need), SM_ERR_TOO_LARGE);
}

Test(frame_evbuffer, evbuffer_peek_refuses_oversized_frame_after_four_bytes)
{
    uint8_t hdr[4];
    uint32_t len;

    put(hdr, 0x7ffffff0u);
    evbuffer_add(b, hdr, 4);
    cr_assert_eq(sm_frame_peek_evbuffer(b, SM_FRAME_MAX_PAYLOAD, &len, NULL), SM_ERR_AGAIN);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 64 * 1024 * 1024, &len, NULL), SM_ERR_TOO_LARGE);
}

Test(frame_evbuffer, add_evbuffer_writes_header_then_payload)
{
    uint8_t out[9];
    uint32_t len;

    cr_assert_eq(sm_frame_add_evbuffer(b, "hello", 5), SM_OK);
    cr_assert_eq(evbuffer_get_length(b), 9);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 5, &len, NULL), SM_OK);
    cr_assert_eq(len, 5);
    evbuffer_remove(b, out, sizeof(out));
    cr_assert_eq(sm_frame_get_header(out), 5);
    cr_assert_arr_eq(out + 4, "hello", 5);
}

Test(frame_evbuffer, add_evbuffer_accepts_an_empty_payload)
{
    uint32_t len = 9;

    cr_assert_eq(sm_frame_add_evbuffer(b, NULL, 0), SM_OK);
    cr_assert_eq(evbuffer_get_length(b), 4);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 0, &len, NULL), SM_OK);
    cr_assert_eq(len, 0);
}

Test(frame_evbuffer, add_evbuffer_refuses_payload_above_int32_and_appends_nothing)
{

    /* The payload pointer is never read when the length is refused. */
    cr_assert_eq(sm_frame_add_evbuffer(b, NULL, (size_t)SM_FRAME_MAX_PAYLOAD + 1),
                 SM_ERR_TOO_LARGE);
    cr_assert_eq(evbuffer_get_length(b), 0);
}

Test(frame_evbuffer, consecutive_frames_are_parsed_one_after_another)
{
    uint32_t len;

    sm_frame_add_evbuffer(b, "a", 1);
    sm_frame_add_evbuffer(b, NULL, 0);
    sm_frame_add_evbuffer(b, "bcd", 3);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 10, &len, NULL), SM_OK);
    cr_assert_eq(len, 1);
    evbuffer_drain(b, 4 + len);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 10, &len, NULL), SM_OK);
    cr_assert_eq(len, 0);
    evbuffer_drain(b, 4 + len);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 10, &len, NULL), SM_OK);
    cr_assert_eq(len, 3);
    evbuffer_drain(b, 4 + len);
    cr_assert_eq(sm_frame_peek_evbuffer(b, 10, &len, NULL), SM_ERR_AGAIN);
}
