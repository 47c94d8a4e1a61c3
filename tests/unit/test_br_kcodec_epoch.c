/*
 * test_br_kcodec_epoch: OffsetForLeaderEpoch v0-4 request and response codecs, both directions:
 * encodings checked byte for byte against layouts written by hand from the schema (v0, v3 and
 * the flexible v4), round trips of every version, unknown tagged fields skipped, and refusal of
 * truncated bodies at every length, trailing bytes, absurd counts and unknown versions.
 */
#include "broker/br_kcodec_epoch.h"

#include <criterion/criterion.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------------------------
 */

static void assert_bytes(const sm_writer_t *w, const uint8_t *want, size_t n, const char *what)
{
    cr_assert_eq(sm_writer_err(w), SM_OK, "%s", what);
    cr_assert_eq(sm_writer_len(w), n, "%s: %zu bytes, want %zu", what, sm_writer_len(w), n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(sm_writer_data(w)[i], want[i], "%s: byte %zu is %02x, want %02x", what, i,
                     sm_writer_data(w)[i], want[i]);
}

/* One topic "t", one partition 2, current leader epoch 5, leader epoch 4. */
static br_kcodec_epoch_part_t one_part = {
    .partition = 2, .current_leader_epoch = 5, .leader_epoch = 4};

static br_kcodec_epoch_req_t one_req(int16_t v, br_kcodec_epoch_topic_t *t)
{
    t->name = sm_str_of("t");
    t->parts = &one_part;
    t->n_parts = 1;
    return (br_kcodec_epoch_req_t){.version = v, .replica_id = 1, .topics = t, .n_topics = 1};
}

/* Two topics: "alpha" with three partitions and "b" with none. */
static br_kcodec_epoch_part_t three_parts[3] = {
    {.partition = 0, .current_leader_epoch = 7, .leader_epoch = 7},
    {.partition = 5, .current_leader_epoch = 7, .leader_epoch = 3},
    {.partition = 9, .current_leader_epoch = -1, .leader_epoch = 0},
};

static br_kcodec_epoch_req_t big_req(int16_t v, br_kcodec_epoch_topic_t t[2])
{
    t[0] =
        (br_kcodec_epoch_topic_t){.name = sm_str_of("alpha"), .parts = three_parts, .n_parts = 3};
    t[1] = (br_kcodec_epoch_topic_t){.name = sm_str_of("b"), .parts = NULL, .n_parts = 0};
    return (br_kcodec_epoch_req_t){.version = v, .replica_id = 3, .topics = t, .n_topics = 2};
}

static br_kcodec_epoch_presult_t three_results[3] = {
    {.partition = 0, .error = 0, .leader_epoch = 7, .end_offset = 1000},
    {.partition = 5, .error = 0, .leader_epoch = 2, .end_offset = 17},
    {.partition = 9, .error = 74, .leader_epoch = -1, .end_offset = -1},
};

static br_kcodec_epoch_resp_t big_resp(int16_t v, br_kcodec_epoch_tresult_t t[2])
{
    t[0] = (br_kcodec_epoch_tresult_t){
        .name = sm_str_of("alpha"), .parts = three_results, .n_parts = 3};
    t[1] = (br_kcodec_epoch_tresult_t){.name = sm_str_of("b"), .parts = NULL, .n_parts = 0};
    return (br_kcodec_epoch_resp_t){
        .version = v, .throttle_ms = v >= 2 ? 12 : 0, .topics = t, .n_topics = 2};
}

static sm_err_t decode_req(const uint8_t *p, size_t n, int16_t v, br_kcodec_epoch_req_t *req)
{
    sm_reader_t r;
    sm_reader_init(&r, p, n);
    return br_kcodec_epoch_req_decode(&r, v, req);
}

static sm_err_t decode_resp(const uint8_t *p, size_t n, int16_t v, br_kcodec_epoch_resp_t *resp)
{
    sm_reader_t r;
    sm_reader_init(&r, p, n);
    return br_kcodec_epoch_resp_decode(&r, v, resp);
}

/* ---- byte-exact encodings ---------------------------------------------------------------------
 */

Test(kcodec_epoch, encodes_requests_byte_for_byte_at_v0_v3_and_v4)
{
    static const uint8_t v0[] = {
        0x00, 0x00, 0x00, 0x01, /* topics: 1 */
        0x00, 0x01, 't',        /* topic "t" */
        0x00, 0x00, 0x00, 0x01, /* partitions: 1 */
        0x00, 0x00, 0x00, 0x02, /* partition 2 */
        0x00, 0x00, 0x00, 0x04, /* leader_epoch 4 */
    };
    static const uint8_t v3[] = {
        0x00, 0x00, 0x00, 0x01, /* replica_id 1 */
        0x00, 0x00, 0x00, 0x01, /* topics: 1 */
        0x00, 0x01, 't',        /* topic "t" */
        0x00, 0x00, 0x00, 0x01, /* partitions: 1 */
        0x00, 0x00, 0x00, 0x02, /* partition 2 */
        0x00, 0x00, 0x00, 0x05, /* current_leader_epoch 5 */
        0x00, 0x00, 0x00, 0x04, /* leader_epoch 4 */
    };
    static const uint8_t v4[] = {
        0x00, 0x00, 0x00, 0x01, /* replica_id 1 */
        0x02,                   /* topics: compact 1 */
        0x02, 't',              /* topic: compact "t" */
        0x02,                   /* partitions: compact 1 */
        0x00, 0x00, 0x00, 0x02, /* partition 2 */
        0x00, 0x00, 0x00, 0x05, /* current_leader_epoch 5 */
        0x00, 0x00, 0x00, 0x04, /* leader_epoch 4 */
        0x00,                   /* partition tags */
        0x00,                   /* topic tags */
        0x00,                   /* request tags */
    };
    const struct {
        int16_t v;
        const uint8_t *b;
        size_t n;
    } cases[] = {{0, v0, sizeof(v0)}, {3, v3, sizeof(v3)}, {4, v4, sizeof(v4)}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        br_kcodec_epoch_topic_t t;
        br_kcodec_epoch_req_t req = one_req(cases[i].v, &t);
        sm_writer_t w;
        sm_writer_init(&w, 0);
        br_kcodec_epoch_req_encode(&w, &req);
        assert_bytes(&w, cases[i].b, cases[i].n, "request");
        sm_writer_deinit(&w);

        br_kcodec_epoch_req_t got;
        cr_assert_eq(decode_req(cases[i].b, cases[i].n, cases[i].v, &got), SM_OK);
        cr_assert_eq(got.replica_id, cases[i].v >= 3 ? 1 : BR_KCODEC_EPOCH_DEBUG_REPLICA);
        cr_assert_eq(got.n_topics, 1);
        cr_assert(sm_str_eq(got.topics[0].name, "t"));
        cr_assert_eq(got.topics[0].n_parts, 1);
        cr_assert_eq(got.topics[0].parts[0].partition, 2);
        cr_assert_eq(got.topics[0].parts[0].current_leader_epoch, cases[i].v >= 2 ? 5 : -1);
        cr_assert_eq(got.topics[0].parts[0].leader_epoch, 4);
        br_kcodec_epoch_req_deinit(&got);
    }
}

Test(kcodec_epoch, encodes_responses_byte_for_byte_at_v0_and_v4)
{
    static const uint8_t v0[] = {
        0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
        0x00, 0x01, 't',                                /* topic "t" */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00,                                     /* error_code 0 */
        0x00, 0x00, 0x00, 0x02,                         /* partition 2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* end_offset 256 */
    };
    static const uint8_t v4[] = {
        0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms 0 */
        0x02,                                           /* topics: compact 1 */
        0x02, 't',                                      /* topic: compact "t" */
        0x02,                                           /* partitions: compact 1 */
        0x00, 0x00,                                     /* error_code 0 */
        0x00, 0x00, 0x00, 0x02,                         /* partition 2 */
        0x00, 0x00, 0x00, 0x03,                         /* leader_epoch 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* end_offset 256 */
        0x00,                                           /* partition tags */
        0x00,                                           /* topic tags */
        0x00,                                           /* response tags */
    };
    br_kcodec_epoch_presult_t pr = {.partition = 2, .leader_epoch = 3, .end_offset = 256};
    br_kcodec_epoch_tresult_t t = {.name = sm_str_of("t"), .parts = &pr, .n_parts = 1};
    br_kcodec_epoch_resp_t resp = {.version = 0, .topics = &t, .n_topics = 1};
    sm_writer_t w;

    sm_writer_init(&w, 0);
    br_kcodec_epoch_resp_encode(&w, &resp);
    assert_bytes(&w, v0, sizeof(v0), "v0 response");
    sm_writer_reset(&w);
    resp.version = 4;
    br_kcodec_epoch_resp_encode(&w, &resp);
    assert_bytes(&w, v4, sizeof(v4), "v4 response");
    sm_writer_deinit(&w);

    br_kcodec_epoch_resp_t got;
    cr_assert_eq(decode_resp(v0, sizeof(v0), 0, &got), SM_OK);
    cr_assert_eq(got.topics[0].parts[0].leader_epoch, -1, "no leader_epoch below v1");
    cr_assert_eq(got.topics[0].parts[0].end_offset, 256);
    br_kcodec_epoch_resp_deinit(&got);
    cr_assert_eq(decode_resp(v4, sizeof(v4), 4, &got), SM_OK);
    cr_assert_eq(got.topics[0].parts[0].partition, 2);
    cr_assert_eq(got.topics[0].parts[0].leader_epoch, 3);
    cr_assert_eq(got.topics[0].parts[0].end_offset, 256);
    br_kcodec_epoch_resp_deinit(&got);
}

/* ---- round trips ------------------------------------------------------------------------------
 */

Test(kcodec_epoch, round_trips_requests_of_every_version)
{
    for (int16_t v = 0; v <= 4; v++) {
        br_kcodec_epoch_topic_t t[2];
        br_kcodec_epoch_req_t req = big_req(v, t), got;
        sm_writer_t w;
        sm_writer_init(&w, 0);
        br_kcodec_epoch_req_encode(&w, &req);
        cr_assert_eq(sm_writer_err(&w), SM_OK);
        cr_assert_eq(decode_req(sm_writer_data(&w), sm_writer_len(&w), v, &got), SM_OK, "v%d", v);
        cr_assert_eq(got.version, v);
        cr_assert_eq(got.replica_id, v >= 3 ? 3 : BR_KCODEC_EPOCH_DEBUG_REPLICA);
        cr_assert_eq(got.n_topics, 2);
        cr_assert(sm_str_eq(got.topics[0].name, "alpha"));
        cr_assert(sm_str_eq(got.topics[1].name, "b"));
        cr_assert_eq(got.topics[1].n_parts, 0);
        cr_assert_eq(got.topics[0].n_parts, 3);
        for (int i = 0; i < 3; i++) {
            const br_kcodec_epoch_part_t *p = &got.topics[0].parts[i];
            cr_assert_eq(p->partition, three_parts[i].partition);
            cr_assert_eq(p->leader_epoch, three_parts[i].leader_epoch);
            cr_assert_eq(p->current_leader_epoch,
                         v >= 2 ? three_parts[i].current_leader_epoch : -1);
        }
        br_kcodec_epoch_req_deinit(&got);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_epoch, round_trips_responses_of_every_version)
{
    for (int16_t v = 0; v <= 4; v++) {
        br_kcodec_epoch_tresult_t t[2];
        br_kcodec_epoch_resp_t resp = big_resp(v, t), got;
        sm_writer_t w;
        sm_writer_init(&w, 0);
        br_kcodec_epoch_resp_encode(&w, &resp);
        cr_assert_eq(sm_writer_err(&w), SM_OK);
        cr_assert_eq(decode_resp(sm_writer_data(&w), sm_writer_len(&w), v, &got), SM_OK, "v%d", v);
        cr_assert_eq(got.version, v);
        cr_assert_eq(got.throttle_ms, v >= 2 ? 12 : 0);
        cr_assert_eq(got.n_topics, 2);
        cr_assert(sm_str_eq(got.topics[0].name, "alpha"));
        cr_assert(sm_str_eq(got.topics[1].name, "b"));
        cr_assert_eq(got.topics[1].n_parts, 0);
        cr_assert_eq(got.topics[0].n_parts, 3);
        for (int i = 0; i < 3; i++) {
            const br_kcodec_epoch_presult_t *p = &got.topics[0].parts[i];
            cr_assert_eq(p->partition, three_results[i].partition);
            cr_assert_eq(p->error, three_results[i].error);
            cr_assert_eq(p->end_offset, three_results[i].end_offset);
            cr_assert_eq(p->leader_epoch, v >= 1 ? three_results[i].leader_epoch : -1);
        }
        br_kcodec_epoch_resp_deinit(&got);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_epoch, v4_skips_unknown_tagged_fields_everywhere)
{
    static const uint8_t req[] = {
        0xff, 0xff, 0xff, 0xff,             /* replica_id -1 (consumer) */
        0x02, 0x02, 't',  0x02,             /* topics 1, "t", partitions 1 */
        0x00, 0x00, 0x00, 0x00,             /* partition 0 */
        0xff, 0xff, 0xff, 0xff,             /* current_leader_epoch -1 */
        0x00, 0x00, 0x00, 0x09,             /* leader_epoch 9 */
        0x01, 0x05, 0x02, 0xaa, 0xbb,       /* partition tags: tag 5, 2 bytes */
        0x02, 0x00, 0x00, 0x07, 0x01, 0xcc, /* topic tags: tag 0 empty, tag 7 1 byte */
        0x01, 0x63, 0x00,                   /* request tags: tag 99 empty */
    };
    br_kcodec_epoch_req_t got;

    cr_assert_eq(decode_req(req, sizeof(req), 4, &got), SM_OK);
    cr_assert_eq(got.replica_id, -1);
    cr_assert_eq(got.topics[0].parts[0].leader_epoch, 9);
    br_kcodec_epoch_req_deinit(&got);
}

/* ---- malformed input --------------------------------------------------------------------------
 */

Test(kcodec_epoch, refuses_every_truncation_and_trailing_bytes_of_every_version)
{
    for (int16_t v = 0; v <= 4; v++) {
        br_kcodec_epoch_topic_t t[2];
        br_kcodec_epoch_tresult_t tr[2];
        br_kcodec_epoch_req_t req = big_req(v, t), got;
        br_kcodec_epoch_resp_t resp = big_resp(v, tr), rgot;
        sm_writer_t wq, wr;
        sm_writer_init(&wq, 0);
        sm_writer_init(&wr, 0);
        br_kcodec_epoch_req_encode(&wq, &req);
        br_kcodec_epoch_resp_encode(&wr, &resp);
        for (size_t len = 0; len < sm_writer_len(&wq); len++) {
            cr_assert_neq(decode_req(sm_writer_data(&wq), len, v, &got), SM_OK, "v%d %zu", v, len);
            cr_assert_eq(got.n_topics, 0);
            cr_assert_null(got.topics);
            br_kcodec_epoch_req_deinit(&got);
        }
        for (size_t len = 0; len < sm_writer_len(&wr); len++) {
            cr_assert_neq(decode_resp(sm_writer_data(&wr), len, v, &rgot), SM_OK, "v%d %zu", v,
                          len);
            cr_assert_eq(rgot.n_topics, 0);
            br_kcodec_epoch_resp_deinit(&rgot);
        }
        sm_writer_i8(&wq, 0);
        sm_writer_i8(&wr, 0);
        cr_assert_eq(decode_req(sm_writer_data(&wq), sm_writer_len(&wq), v, &got), SM_ERR_CORRUPT);
        cr_assert_eq(decode_resp(sm_writer_data(&wr), sm_writer_len(&wr), v, &rgot),
                     SM_ERR_CORRUPT);
        sm_writer_deinit(&wq);
        sm_writer_deinit(&wr);
    }
}

Test(kcodec_epoch, refuses_versions_outside_0_to_4_both_ways)
{
    br_kcodec_epoch_topic_t t;
    br_kcodec_epoch_req_t req = one_req(5, &t), got;
    br_kcodec_epoch_resp_t resp = {.version = -1}, rgot;
    static const uint8_t body[] = {0, 0, 0, 0};
    sm_writer_t w;

    cr_assert_eq(decode_req(body, sizeof(body), 5, &got), SM_ERR_VERSION);
    cr_assert_eq(decode_req(body, sizeof(body), -1, &got), SM_ERR_VERSION);
    cr_assert_eq(decode_resp(body, sizeof(body), 5, &rgot), SM_ERR_VERSION);
    sm_writer_init(&w, 0);
    br_kcodec_epoch_req_encode(&w, &req);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_VERSION);
    sm_writer_reset(&w);
    br_kcodec_epoch_resp_encode(&w, &resp);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_VERSION);
    sm_writer_deinit(&w);
}

Test(kcodec_epoch, refuses_absurd_counts_before_allocating)
{
    static const uint8_t topics_v0[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 't'};
    static const uint8_t parts_v3[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
                                       0x01, 't',  0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    /* compact count 0x7fffffff (uvarint 0xff 0xff 0xff 0xff 0x07) */
    static const uint8_t topics_v4[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    static const uint8_t negative_v1[] = {0xff, 0xff, 0xff, 0xfe, 0x00};
    static const uint8_t null_v4[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    static const uint8_t resp_parts_v2[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                                            0x01, 't',  0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    br_kcodec_epoch_req_t got;
    br_kcodec_epoch_resp_t rgot;

    cr_assert_eq(decode_req(topics_v0, sizeof(topics_v0), 0, &got), SM_ERR_TRUNCATED);
    cr_assert_eq(decode_req(parts_v3, sizeof(parts_v3), 3, &got), SM_ERR_TRUNCATED);
    cr_assert_eq(got.n_topics, 0);
    cr_assert_neq(decode_req(topics_v4, sizeof(topics_v4), 4, &got), SM_OK);
    cr_assert_eq(decode_req(negative_v1, sizeof(negative_v1), 1, &got), SM_ERR_CORRUPT);
    cr_assert_eq(decode_req(null_v4, sizeof(null_v4), 4, &got), SM_ERR_CORRUPT, "null topics");
    cr_assert_eq(decode_resp(resp_parts_v2, sizeof(resp_parts_v2), 2, &rgot), SM_ERR_TRUNCATED);
    cr_assert_eq(decode_resp(topics_v0, sizeof(topics_v0), 0, &rgot), SM_ERR_TRUNCATED);
}
