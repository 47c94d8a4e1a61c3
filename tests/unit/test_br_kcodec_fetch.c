/*
 * test_br_kcodec_fetch: FetchRequest v4-11 decoding from byte layouts written field by field
 * from the schema, refusal of malformed bodies without a crash or a leak, and the streaming
 * FetchResponse layout per version (empty, never null, records for error partitions).
 */
#include "broker/br_kcodec_fetch.h"

#include <criterion/criterion.h>
#include <string.h>

/* Topic "t", partitions 0 and 3; forgotten topic "f" [1, 2] (v7+); rack "r" (v11). */
static void build_request(sm_writer_t *w, int16_t v)
{
    sm_writer_init(w, 0);
    sm_writer_i32(w, -1);
    sm_writer_i32(w, 500);
    sm_writer_i32(w, 1);
    sm_writer_i32(w, 52428800);
    sm_writer_i8(w, 1);
    if (v >= 7) {
        sm_writer_i32(w, 0);
        sm_writer_i32(w, -1);
    }
    sm_writer_array_len(w, 1);
    sm_writer_str(w, sm_str_of("t"));
    sm_writer_array_len(w, 2);
    for (int32_t p = 0; p < 2; p++) {
        sm_writer_i32(w, p * 3);
        if (v >= 9)
            sm_writer_i32(w, 4);
        sm_writer_i64(w, 100 + p);
        if (v >= 5)
            sm_writer_i64(w, -1);
        sm_writer_i32(w, 1048576);
    }
    if (v >= 7) {
        sm_writer_array_len(w, 1);
        sm_writer_str(w, sm_str_of("f"));
        sm_writer_array_len(w, 2);
        sm_writer_i32(w, 1);
        sm_writer_i32(w, 2);
    }
    if (v >= 11)
        sm_writer_str(w, sm_str_of("r"));
}

static sm_err_t decode(const sm_writer_t *w, size_t len, int16_t v, br_kcodec_fetch_req_t *req)
{
    sm_reader_t r;
    sm_reader_init(&r, sm_writer_data(w), len);
    return br_kcodec_fetch_decode(&r, v, req);
}

Test(kcodec_fetch, decodes_every_supported_version)
{
    for (int16_t v = 4; v <= 11; v++) {
        sm_writer_t w;
        br_kcodec_fetch_req_t req;
        build_request(&w, v);
        cr_assert_eq(decode(&w, sm_writer_len(&w), v, &req), SM_OK, "v%d", v);
        cr_assert_eq(req.replica_id, -1);
        cr_assert_eq(req.max_wait_ms, 500);
        cr_assert_eq(req.min_bytes, 1);
        cr_assert_eq(req.max_bytes, 52428800);
        cr_assert_eq(req.isolation_level, 1);
        cr_assert_eq(req.session_epoch, -1);
        cr_assert_eq(req.n_topics, 1);
        cr_assert(sm_str_eq(req.topics[0].name, "t"));
        cr_assert_eq(req.topics[0].n_parts, 2);
        cr_assert_eq(req.topics[0].parts[1].partition, 3);
        cr_assert_eq(req.topics[0].parts[1].fetch_offset, 101);
        cr_assert_eq(req.topics[0].parts[1].partition_max_bytes, 1048576);
        cr_assert_eq(req.topics[0].parts[1].current_leader_epoch, v >= 9 ? 4 : -1);
        cr_assert(sm_str_eq(req.rack_id, v >= 11 ? "r" : ""));
        br_kcodec_fetch_req_deinit(&req);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_fetch, refuses_every_truncation_without_leaking)
{
    for (int16_t v = 4; v <= 11; v += 7) {
        sm_writer_t w;
        build_request(&w, v);
        for (size_t len = 0; len < sm_writer_len(&w); len++) {
            br_kcodec_fetch_req_t req;
            cr_assert_neq(decode(&w, len, v, &req), SM_OK, "v%d len %zu", v, len);
            cr_assert_eq(req.n_topics, 0);
            br_kcodec_fetch_req_deinit(&req);
        }
        sm_writer_deinit(&w);
    }
}

Test(kcodec_fetch, refuses_absurd_counts_and_trailing_bytes)
{
    sm_writer_t w;
    br_kcodec_fetch_req_t req;
    sm_writer_init(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_i32(&w, 500);
    sm_writer_i32(&w, 1);
    sm_writer_i32(&w, 1);
    sm_writer_i8(&w, 0);
    sm_writer_i32(&w, INT32_MAX); /* topics */
    cr_assert_eq(decode(&w, sm_writer_len(&w), 4, &req), SM_ERR_TRUNCATED);
    br_kcodec_fetch_req_deinit(&req);
    sm_writer_deinit(&w);

    build_request(&w, 6);
    sm_writer_i8(&w, 9);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 6, &req), SM_ERR_CORRUPT);
    br_kcodec_fetch_req_deinit(&req);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 3, &req), SM_ERR_VERSION);
    cr_assert_eq(decode(&w, sm_writer_len(&w), 12, &req), SM_ERR_VERSION);
    sm_writer_deinit(&w);
}

Test(kcodec_fetch, refuses_negative_forgotten_partition_count)
{
    sm_writer_t w;
    br_kcodec_fetch_req_t req;
    sm_writer_init(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_i32(&w, 500);
    sm_writer_i32(&w, 1);
    sm_writer_i32(&w, 1);
    sm_writer_i8(&w, 0);
    sm_writer_i32(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_array_len(&w, 0);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("f"));
    sm_writer_i32(&w, -5);
    cr_assert_neq(decode(&w, sm_writer_len(&w), 7, &req), SM_OK);
    br_kcodec_fetch_req_deinit(&req);
    sm_writer_deinit(&w);
}

Test(kcodec_fetch, encodes_response_layout_of_every_version)
{
    for (int16_t v = 4; v <= 11; v++) {
        sm_writer_t out, want;
        br_kcodec_fetch_presp_t p = {.partition = 0,
                                     .error = SM_KERR_OFFSET_OUT_OF_RANGE,
                                     .high_watermark = 10,
                                     .last_stable_offset = 10,
                                     .log_start_offset = 3};
        sm_writer_init(&out, 0);
        br_kcodec_fetch_write_header(&out, v, 0, SM_KERR_NONE, 0, 1);
        br_kcodec_fetch_write_topic(&out, v, sm_str_of("t"), 1);
        size_t before = sm_writer_len(&out);
        br_kcodec_fetch_write_partition(&out, v, &p, 0);
        cr_assert_eq(sm_writer_len(&out) - before, br_kcodec_fetch_partition_size(v));

        sm_writer_init(&want, 0);
        sm_writer_i32(&want, 0);
        if (v >= 7) {
            sm_writer_i16(&want, 0);
            sm_writer_i32(&want, 0);
        }
        sm_writer_i32(&want, 1);
        sm_writer_str(&want, sm_str_of("t"));
        sm_writer_i32(&want, 1);
        sm_writer_i32(&want, 0);
        sm_writer_i16(&want, 1);
        sm_writer_i64(&want, 10);
        sm_writer_i64(&want, 10);
        if (v >= 5)
            sm_writer_i64(&want, 3);
        sm_writer_i32(&want, 0); /* aborted: empty, not null */
        if (v >= 11)
            sm_writer_i32(&want, -1);
        sm_writer_i32(&want, 0); /* records: empty, not null */
        cr_assert_eq(sm_writer_len(&out), sm_writer_len(&want), "v%d", v);
        cr_assert_eq(memcmp(sm_writer_data(&out), sm_writer_data(&want), sm_writer_len(&want)), 0,
                     "v%d", v);
        sm_writer_deinit(&out);
        sm_writer_deinit(&want);
    }
}
