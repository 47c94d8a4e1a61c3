/*
 * test_br_kcodec_listoffsets: ListOffsetsRequest v0-5 decoding from byte layouts written field
 * by field from the schema, refusal of malformed bodies, and the response layout per version
 * (v0's offsets array, v1+ timestamp and offset, v4+ leader epoch).
 */
#include "broker/br_kcodec_listoffsets.h"

#include <criterion/criterion.h>
#include <string.h>

static void build_request(sm_writer_t *w, int16_t v)
{
    sm_writer_init(w, 0);
    sm_writer_i32(w, -1);
    if (v >= 2)
        sm_writer_i8(w, 1);
    sm_writer_array_len(w, 1);
    sm_writer_str(w, sm_str_of("t"));
    sm_writer_array_len(w, 1);
    sm_writer_i32(w, 2);
    if (v >= 4)
        sm_writer_i32(w, 7);
    sm_writer_i64(w, -2);
    if (v == 0)
        sm_writer_i32(w, 1);
}

static sm_err_t decode(const sm_writer_t *w, size_t len, int16_t v,
                       br_kcodec_listoffsets_req_t *req)
{
    sm_reader_t r;
    sm_reader_init(&r, sm_writer_data(w), len);
    return br_kcodec_listoffsets_decode(&r, v, req);
}

Test(kcodec_listoffsets, decodes_every_supported_version)
{
    for (int16_t v = 0; v <= 5; v++) {
        sm_writer_t w;
        br_kcodec_listoffsets_req_t req;
        build_request(&w, v);
        cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_OK, "v%d", v);
        cr_assert_eq(req.n_topics, 1);
        cr_assert(sm_str_eq(req.topics[0].name, "t"));
        cr_assert_eq(req.topics[0].n_parts, 1);
        cr_assert_eq(req.topics[0].parts[0].partition, 2);
        cr_assert_eq(req.topics[0].parts[0].timestamp, -2);
        cr_assert_eq(req.topics[0].parts[0].current_leader_epoch, v >= 4 ? 7 : -1);
        cr_assert_eq(req.isolation_level, v >= 2 ? 1 : 0);
        br_kcodec_listoffsets_req_deinit(&req);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_listoffsets, refuses_truncation_trailing_bytes_and_bad_versions)
{
    for (int16_t v = 0; v <= 5; v++) {
        sm_writer_t w;
        br_kcodec_listoffsets_req_t req;
        build_request(&w, v);
        for (size_t len = 0; len < sm_writer_len(&w); len++) {
            cr_assert_neq(decode(&w, len, v, &req), SM_OK, "v%d len %zu", v, len);
            br_kcodec_listoffsets_req_deinit(&req);
        }
        sm_writer_i8(&w, 0);
        cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_ERR_CORRUPT);
        sm_writer_deinit(&w);
    }
    sm_writer_t w;
    br_kcodec_listoffsets_req_t req;
    build_request(&w, 5);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 6, &req), SM_ERR_VERSION);
    sm_writer_deinit(&w);
}

Test(kcodec_listoffsets, refuses_absurd_partition_count)
{
    sm_writer_t w;
    br_kcodec_listoffsets_req_t req;
    sm_writer_init(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_i32(&w, 100000000);
    sm_writer_i64(&w, 0);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 1, &req), SM_ERR_TRUNCATED);
    br_kcodec_listoffsets_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_listoffsets, encodes_response_layout_of_every_version)
{
    for (int16_t v = 0; v <= 5; v++) {
        sm_writer_t w, out, want;
        br_kcodec_listoffsets_req_t req;
        build_request(&w, v);
        cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_OK);
        req.topics[0].parts[0].result_offset = 42;
        req.topics[0].parts[0].result_leader_epoch = 3;
        sm_writer_init(&out, 0);
        br_kcodec_listoffsets_encode_response(&out, &req, 0);

        sm_writer_init(&want, 0);
        if (v >= 2)
            sm_writer_i32(&want, 0);
        sm_writer_i32(&want, 1);
        sm_writer_str(&want, sm_str_of("t"));
        sm_writer_i32(&want, 1);
        sm_writer_i32(&want, 2);
        sm_writer_i16(&want, 0);
        if (v == 0) {
            sm_writer_i32(&want, 1);
            sm_writer_i64(&want, 42);
        } else {
            sm_writer_i64(&want, -1);
            sm_writer_i64(&want, 42);
            if (v >= 4)
                sm_writer_i32(&want, 3);
        }
        cr_assert_eq(sm_writer_len(&out), sm_writer_len(&want), "v%d", v);
        cr_assert_eq(memcmp(sm_writer_data(&out), sm_writer_data(&want), sm_writer_len(&want)), 0,
                     "v%d", v);
        sm_writer_deinit(&out);
        sm_writer_deinit(&want);
        br_kcodec_listoffsets_req_deinit(&req);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_listoffsets, v0_error_partition_has_no_offsets)
{
    sm_writer_t w, out;
    br_kcodec_listoffsets_req_t req;
    build_request(&w, 0);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 0, &req), SM_OK);
    req.topics[0].parts[0].error = SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    req.topics[0].parts[0].result_offset = 5;
    sm_writer_init(&out, 0);
    br_kcodec_listoffsets_encode_response(&out, &req, 0);
    /* count(4) "t"(3) count(4) partition(4) error(2) offsets count(4) */
    cr_assert_eq(sm_writer_len(&out), 21);
    const uint8_t *d = sm_writer_data(&out);
    cr_assert_eq(d[17] | d[18] | d[19] | d[20], 0);
    sm_writer_deinit(&out);
    br_kcodec_listoffsets_req_deinit(&req);
    sm_writer_deinit(&w);
}
