/*
 * test_br_kcodec_produce: ProduceRequest v0-8 decoding from byte layouts written field by field
 * from the schema, refusal of malformed bodies (truncated, absurd counts, trailing bytes,
 * unsupported versions) without a crash or a leak, and the ProduceResponse layout per version.
 */
#include "broker/br_kcodec_produce.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t records[] = {1, 2, 3, 4, 5};

/* A request with topic "t" holding partitions 0 (records) and 1 (null records). */
static void build_request(sm_writer_t *w, int16_t v)
{
    sm_writer_init(w, 0);
    if (v >= 3)
        sm_writer_nullable_str(w, SM_STR_NULL);
    sm_writer_i16(w, -1);
    sm_writer_i32(w, 30000);
    sm_writer_array_len(w, 1);
    sm_writer_str(w, sm_str_of("t"));
    sm_writer_array_len(w, 2);
    sm_writer_i32(w, 0);
    sm_writer_bytes(w, sm_bytes_of(records, sizeof(records)));
    sm_writer_i32(w, 1);
    sm_writer_nullable_bytes(w, SM_BYTES_NULL);
}

static sm_err_t decode(const sm_writer_t *w, size_t len, int16_t v, br_kcodec_produce_req_t *req)
{
    sm_reader_t r;
    sm_reader_init(&r, sm_writer_data(w), len);
    return br_kcodec_produce_decode(&r, v, req);
}

Test(kcodec_produce, decodes_every_supported_version)
{
    for (int16_t v = 0; v <= 8; v++) {
        sm_writer_t w;
        br_kcodec_produce_req_t req;
        build_request(&w, v);
        cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_OK, "v%d", v);
        cr_assert_eq(req.acks, -1);
        cr_assert_eq(req.timeout_ms, 30000);
        cr_assert_eq(req.transactional_id.len, -1);
        cr_assert_eq(req.n_topics, 1);
        cr_assert(sm_str_eq(req.topics[0].name, "t"));
        cr_assert_eq(req.topics[0].n_parts, 2);
        cr_assert_eq(req.topics[0].parts[0].records.len, 5);
        cr_assert_eq(memcmp(req.topics[0].parts[0].records.ptr, records, 5), 0);
        cr_assert_eq(req.topics[0].parts[1].index, 1);
        cr_assert_eq(req.topics[0].parts[1].records.len, -1);
        cr_assert_eq(req.topics[0].parts[1].base_offset, -1);
        br_kcodec_produce_req_deinit(&req);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_produce, reads_transactional_id_from_v3)
{
    sm_writer_t w;
    br_kcodec_produce_req_t req;
    sm_writer_init(&w, 0);
    sm_writer_nullable_str(&w, sm_str_of("tx"));
    sm_writer_i16(&w, 1);
    sm_writer_i32(&w, 5);
    sm_writer_array_len(&w, 0);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 3, &req), SM_OK);
    cr_assert(sm_str_eq(req.transactional_id, "tx"));
    cr_assert_eq(req.acks, 1);
    cr_assert_eq(req.n_topics, 0);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_produce, refuses_every_truncation_without_leaking)
{
    sm_writer_t w;
    build_request(&w, 3);
    for (size_t len = 0; len < sm_writer_len(&w); len++) {
        br_kcodec_produce_req_t req;
        cr_assert_neq(decode(&w, len, 3, &req), SM_OK, "len %zu", len);
        cr_assert_eq(req.n_topics, 0);
        br_kcodec_produce_req_deinit(&req);
    }
    sm_writer_deinit(&w);
}

Test(kcodec_produce, refuses_trailing_bytes)
{
    sm_writer_t w;
    br_kcodec_produce_req_t req;
    build_request(&w, 5);
    sm_writer_i8(&w, 0);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 5, &req), SM_ERR_CORRUPT);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_produce, refuses_absurd_and_negative_counts)
{
    int32_t counts[] = {INT32_MAX, 1000000, -2};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        sm_writer_t w;
        br_kcodec_produce_req_t req;
        sm_writer_init(&w, 0);
        sm_writer_nullable_str(&w, SM_STR_NULL);
        sm_writer_i16(&w, 1);
        sm_writer_i32(&w, 5);
        sm_writer_i32(&w, 1);
        sm_writer_str(&w, sm_str_of("t"));
        sm_writer_i32(&w, counts[i]); /* partitions */
        sm_writer_i32(&w, 0);
        cr_assert_neq(decode(&w, sm_writer_len(&w), 3, &req), SM_OK, "count %d", counts[i]);
        br_kcodec_produce_req_deinit(&req);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_produce, refuses_records_length_beyond_the_body)
{
    sm_writer_t w;
    br_kcodec_produce_req_t req;
    sm_writer_init(&w, 0);
    sm_writer_nullable_str(&w, SM_STR_NULL);
    sm_writer_i16(&w, 1);
    sm_writer_i32(&w, 5);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 1);
    sm_writer_i32(&w, 0);
    sm_writer_i32(&w, 1 << 30);
    sm_writer_i32(&w, 0);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 3, &req), SM_ERR_TRUNCATED);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_produce, refuses_versions_outside_0_to_8)
{
    sm_writer_t w;
    br_kcodec_produce_req_t req;
    build_request(&w, 8);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 9, &req), SM_ERR_VERSION);
    cr_assert_eq(decode(&w, sm_writer_len(&w), -1, &req), SM_ERR_VERSION);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}

/* Expected response bytes for one partition with base offset 7, append time -1, log start 2. */
static void expect_response(int16_t v)
{
    sm_writer_t w, want;
    br_kcodec_produce_req_t req;
    build_request(&w, v);
    cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_OK);
    req.topics[0].parts[0].base_offset = 7;
    req.topics[0].parts[0].log_start_offset = 2;
    req.topics[0].parts[1].error = SM_KERR_CORRUPT_MESSAGE;

    sm_writer_t out;
    sm_writer_init(&out, 0);
    br_kcodec_produce_encode_response(&out, &req, 0);
    cr_assert_eq(sm_writer_err(&out), SM_OK);

    sm_writer_init(&want, 0);
    sm_writer_i32(&want, 1);
    sm_writer_str(&want, sm_str_of("t"));
    sm_writer_i32(&want, 2);
    for (int i = 0; i < 2; i++) {
        sm_writer_i32(&want, i);
        sm_writer_i16(&want, i == 0 ? 0 : 2);
        sm_writer_i64(&want, i == 0 ? 7 : -1);
        if (v >= 2)
            sm_writer_i64(&want, -1);
        if (v >= 5)
            sm_writer_i64(&want, i == 0 ? 2 : -1);
        if (v >= 8) {
            sm_writer_i32(&want, 0);
            sm_writer_i16(&want, -1);
        }
    }
    if (v >= 1)
        sm_writer_i32(&want, 0);
    cr_assert_eq(sm_writer_len(&out), sm_writer_len(&want), "v%d", v);
    cr_assert_eq(memcmp(sm_writer_data(&out), sm_writer_data(&want), sm_writer_len(&want)), 0);
    sm_writer_deinit(&out);
    sm_writer_deinit(&want);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_produce, encodes_response_layout_of_every_version)
{
    for (int16_t v = 0; v <= 8; v++)
        expect_response(v);
}

Test(kcodec_produce, fail_all_sets_every_partition)
{
    sm_writer_t w;
    br_kcodec_produce_req_t req;
    build_request(&w, 2);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 2, &req), SM_OK);
    br_kcodec_produce_fail_all(&req, SM_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    cr_assert_eq(req.topics[0].parts[0].error, 43);
    cr_assert_eq(req.topics[0].parts[1].error, 43);
    br_kcodec_produce_req_deinit(&req);
    sm_writer_deinit(&w);
}
