/*
 * test_br_kcodec_fetchc: the follower's side of Fetch v4-11. Requests: bytes checked against
 * layouts written by hand from the schema (v4, v11), and a round trip of every version through
 * the server's own decoder (br_kcodec_fetch_decode). Responses: decoded from bodies built with
 * the server's streaming encoder (br_kcodec_fetch_write_*) plus record bytes, and from bodies
 * written field by field with what only Kafka sends (aborted transactions, null records, a
 * preferred read replica); refusal of every truncation, trailing bytes, absurd counts and
 * unknown versions, without a crash or a leak.
 */
#include "broker/br_kcodec_fetchc.h"

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

static br_kcodec_fetch_part_t parts_a[2] = {
    {.partition = 0,
     .current_leader_epoch = 6,
     .fetch_offset = 100,
     .log_start_offset = 10,
     .partition_max_bytes = 1048576},
    {.partition = 4,
     .current_leader_epoch = 6,
     .fetch_offset = 0,
     .log_start_offset = 0,
     .partition_max_bytes = 65536},
};
static br_kcodec_fetch_part_t parts_b[1] = {
    {.partition = 1,
     .current_leader_epoch = 2,
     .fetch_offset = 7,
     .log_start_offset = -1,
     .partition_max_bytes = 1},
};

/* A follower's request: replica 2, topics "a" (partitions 0, 4) and "bb" (1). The session
 * fields hold garbage the encoder must not send. */
static br_kcodec_fetch_req_t follower_req(int16_t v, br_kcodec_fetch_topic_t t[2])
{
    t[0] = (br_kcodec_fetch_topic_t){.name = sm_str_of("a"), .parts = parts_a, .n_parts = 2};
    t[1] = (br_kcodec_fetch_topic_t){.name = sm_str_of("bb"), .parts = parts_b, .n_parts = 1};
    return (br_kcodec_fetch_req_t){.version = v,
                                   .replica_id = 2,
                                   .max_wait_ms = 500,
                                   .min_bytes = 1,
                                   .max_bytes = 10485760,
                                   .isolation_level = 0,
                                   .session_id = 77,
                                   .session_epoch = 3,
                                   .topics = t,
                                   .n_topics = 2};
}

static sm_err_t decode_resp(const uint8_t *p, size_t n, int16_t v, br_kcodec_fetchc_resp_t *resp)
{
    sm_reader_t r;
    sm_reader_init(&r, p, n);
    return br_kcodec_fetchc_decode_response(&r, v, resp);
}

/* ---- requests ---------------------------------------------------------------------------------
 */

Test(kcodec_fetchc, encodes_v4_and_v11_requests_byte_for_byte)
{
    static const uint8_t v4[] = {
        0x00, 0x00, 0x00, 0x02,                         /* replica_id 2 */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait_ms 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x00, 0x01, 0x00, 0x00,                         /* max_bytes 65536 */
        0x00,                                           /* isolation_level 0 */
        0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
        0x00, 0x01, 'a',                                /* topic "a" */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x03,                         /* partition 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, /* fetch_offset 258 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes 1048576 */
    };
    static const uint8_t v11[] = {
        0x00, 0x00, 0x00, 0x02,                         /* replica_id 2 */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait_ms 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x00, 0x01, 0x00, 0x00,                         /* max_bytes 65536 */
        0x00,                                           /* isolation_level 0 */
        0x00, 0x00, 0x00, 0x00,                         /* session_id 0 */
        0xff, 0xff, 0xff, 0xff,                         /* session_epoch -1 */
        0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
        0x00, 0x01, 'a',                                /* topic "a" */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x03,                         /* partition 3 */
        0x00, 0x00, 0x00, 0x09,                         /* current_leader_epoch 9 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, /* fetch_offset 258 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* log_start_offset 5 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes 1048576 */
        0x00, 0x00, 0x00, 0x00,                         /* forgotten_topics_data: 0 */
        0x00, 0x00,                                     /* rack_id "" */
    };
    br_kcodec_fetch_part_t p = {.partition = 3,
                                .current_leader_epoch = 9,
                                .fetch_offset = 258,
                                .log_start_offset = 5,
                                .partition_max_bytes = 1048576};
    br_kcodec_fetch_topic_t t = {.name = sm_str_of("a"), .parts = &p, .n_parts = 1};
    br_kcodec_fetch_req_t req = {.version = 4,
                                 .replica_id = 2,
                                 .max_wait_ms = 500,
                                 .min_bytes = 1,
                                 .max_bytes = 65536,
                                 .session_epoch = 8,
                                 .topics = &t,
                                 .n_topics = 1}; /* rack_id {NULL, 0}: sent as "" */
    sm_writer_t w;

    sm_writer_init(&w, 0);
    br_kcodec_fetchc_encode_request(&w, &req);
    assert_bytes(&w, v4, sizeof(v4), "v4");
    sm_writer_reset(&w);
    req.version = 11;
    br_kcodec_fetchc_encode_request(&w, &req);
    assert_bytes(&w, v11, sizeof(v11), "v11");
    sm_writer_deinit(&w);
}

Test(kcodec_fetchc, requests_of_every_version_round_trip_through_the_server_decoder)
{
    for (int16_t v = 4; v <= 11; v++) {
        br_kcodec_fetch_topic_t t[2];
        br_kcodec_fetch_req_t req = follower_req(v, t), got;
        sm_writer_t w;
        sm_reader_t r;

        req.rack_id = sm_str_of("rack1");
        sm_writer_init(&w, 0);
        br_kcodec_fetchc_encode_request(&w, &req);
        cr_assert_eq(sm_writer_err(&w), SM_OK);
        sm_reader_init(&r, sm_writer_data(&w), sm_writer_len(&w));
        cr_assert_eq(br_kcodec_fetch_decode(&r, v, &got), SM_OK, "v%d", v);
        cr_assert_eq(got.replica_id, 2);
        cr_assert_eq(got.max_wait_ms, 500);
        cr_assert_eq(got.min_bytes, 1);
        cr_assert_eq(got.max_bytes, 10485760);
        cr_assert_eq(got.isolation_level, 0);
        cr_assert_eq(got.session_id, 0, "never a session");
        cr_assert_eq(got.session_epoch, -1, "always a full fetch");
        cr_assert(sm_str_eq(got.rack_id, v >= 11 ? "rack1" : ""));
        cr_assert_eq(got.n_topics, 2);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(got.topics[i].name.len, t[i].name.len);
            cr_assert_eq(memcmp(got.topics[i].name.ptr, t[i].name.ptr, (size_t)t[i].name.len), 0);
            cr_assert_eq(got.topics[i].n_parts, t[i].n_parts);
            for (int32_t j = 0; j < t[i].n_parts; j++) {
                const br_kcodec_fetch_part_t *a = &got.topics[i].parts[j], *b = &t[i].parts[j];
                cr_assert_eq(a->partition, b->partition);
                cr_assert_eq(a->fetch_offset, b->fetch_offset);
                cr_assert_eq(a->partition_max_bytes, b->partition_max_bytes);
                cr_assert_eq(a->current_leader_epoch, v >= 9 ? b->current_leader_epoch : -1);
                cr_assert_eq(a->log_start_offset, v >= 5 ? b->log_start_offset : -1);
            }
        }
        br_kcodec_fetch_req_deinit(&got);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_fetchc, request_encoder_refuses_versions_outside_4_to_11)
{
    br_kcodec_fetch_topic_t t[2];
    br_kcodec_fetch_req_t req = follower_req(3, t);
    sm_writer_t w;

    sm_writer_init(&w, 0);
    br_kcodec_fetchc_encode_request(&w, &req);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_VERSION);
    sm_writer_reset(&w);
    req.version = 12;
    br_kcodec_fetchc_encode_request(&w, &req);
    cr_assert_eq(sm_writer_err(&w), SM_ERR_VERSION);
    sm_writer_deinit(&w);
}

/* ---- responses from the server's encoder ------------------------------------------------------
 */

static const uint8_t recs1[] = "first-batch-bytes";
static const uint8_t recs2[] = "second";

/* Topic "a": partition 0 with recs1, partition 4 an error with no records; topic "bb":
 * partition 1 with recs2. */
static void server_response(sm_writer_t *w, int16_t v)
{
    br_kcodec_fetch_presp_t p0 = {.partition = 0,
                                  .error = 0,
                                  .high_watermark = 120,
                                  .last_stable_offset = 120,
                                  .log_start_offset = 10};
    br_kcodec_fetch_presp_t p4 = {.partition = 4,
                                  .error = SM_KERR_FENCED_LEADER_EPOCH,
                                  .high_watermark = -1,
                                  .last_stable_offset = -1,
                                  .log_start_offset = -1};
    br_kcodec_fetch_presp_t p1 = {.partition = 1,
                                  .error = 0,
                                  .high_watermark = 9,
                                  .last_stable_offset = 9,
                                  .log_start_offset = 0};

    sm_writer_init(w, 0);
    br_kcodec_fetch_write_header(w, v, 5, 0, 0, 2);
    br_kcodec_fetch_write_topic(w, v, sm_str_of("a"), 2);
    br_kcodec_fetch_write_partition(w, v, &p0, (int32_t)sizeof(recs1));
    sm_writer_raw(w, recs1, sizeof(recs1));
    br_kcodec_fetch_write_partition(w, v, &p4, 0);
    br_kcodec_fetch_write_topic(w, v, sm_str_of("bb"), 1);
    br_kcodec_fetch_write_partition(w, v, &p1, (int32_t)sizeof(recs2));
    sm_writer_raw(w, recs2, sizeof(recs2));
    cr_assert_eq(sm_writer_err(w), SM_OK);
}

Test(kcodec_fetchc, decodes_server_responses_of_every_version)
{
    for (int16_t v = 4; v <= 11; v++) {
        sm_writer_t w;
        br_kcodec_fetchc_resp_t resp;

        server_response(&w, v);
        cr_assert_eq(decode_resp(sm_writer_data(&w), sm_writer_len(&w), v, &resp), SM_OK, "v%d", v);
        cr_assert_eq(resp.version, v);
        cr_assert_eq(resp.throttle_ms, 5);
        cr_assert_eq(resp.error, 0);
        cr_assert_eq(resp.session_id, 0);
        cr_assert_eq(resp.n_topics, 2);
        cr_assert(sm_str_eq(resp.topics[0].name, "a"));
        cr_assert(sm_str_eq(resp.topics[1].name, "bb"));
        cr_assert_eq(resp.topics[0].n_parts, 2);
        cr_assert_eq(resp.topics[1].n_parts, 1);

        const br_kcodec_fetchc_part_t *p = &resp.topics[0].parts[0];
        cr_assert_eq(p->h.partition, 0);
        cr_assert_eq(p->h.error, 0);
        cr_assert_eq(p->h.high_watermark, 120);
        cr_assert_eq(p->h.last_stable_offset, 120);
        cr_assert_eq(p->h.log_start_offset, v >= 5 ? 10 : -1);
        cr_assert_eq(p->preferred_read_replica, -1);
        cr_assert_eq(p->records.len, (int32_t)sizeof(recs1));
        cr_assert_eq(memcmp(p->records.ptr, recs1, sizeof(recs1)), 0);
        cr_assert(p->records.ptr >= sm_writer_data(&w) &&
                      p->records.ptr < sm_writer_data(&w) + sm_writer_len(&w),
                  "records are a view into the frame");

        p = &resp.topics[0].parts[1];
        cr_assert_eq(p->h.partition, 4);
        cr_assert_eq(p->h.error, SM_KERR_FENCED_LEADER_EPOCH);
        cr_assert_eq(p->records.len, 0);
        cr_assert_not_null(p->records.ptr, "empty records, not null");

        p = &resp.topics[1].parts[0];
        cr_assert_eq(p->h.partition, 1);
        cr_assert_eq(p->h.high_watermark, 9);
        cr_assert_eq(p->records.len, (int32_t)sizeof(recs2));
        cr_assert_eq(memcmp(p->records.ptr, recs2, sizeof(recs2)), 0);

        br_kcodec_fetchc_resp_deinit(&resp);
        sm_writer_deinit(&w);
    }
}

Test(kcodec_fetchc, refuses_every_truncation_and_trailing_bytes_of_every_version)
{
    for (int16_t v = 4; v <= 11; v++) {
        sm_writer_t w;
        br_kcodec_fetchc_resp_t resp;

        server_response(&w, v);
        for (size_t len = 0; len < sm_writer_len(&w); len++) {
            cr_assert_neq(decode_resp(sm_writer_data(&w), len, v, &resp), SM_OK, "v%d %zu", v, len);
            cr_assert_eq(resp.n_topics, 0);
            cr_assert_null(resp.topics);
            br_kcodec_fetchc_resp_deinit(&resp);
        }
        sm_writer_i8(&w, 0);
        cr_assert_eq(decode_resp(sm_writer_data(&w), sm_writer_len(&w), v, &resp), SM_ERR_CORRUPT);
        sm_writer_deinit(&w);
    }
}

/* ---- what only Kafka sends --------------------------------------------------------------------
 */

Test(kcodec_fetchc, reads_and_drops_aborted_transactions_and_maps_null_records)
{
    static const uint8_t v11[] = {
        0x00, 0x00, 0x00, 0x00, /* throttle_time_ms 0 */
        0x00, 0x00,             /* error_code 0 */
        0x00, 0x00, 0x00, 0x2a, /* session_id 42 */
        0x00, 0x00, 0x00, 0x01, /* responses: 1 */
        0x00, 0x01, 'x',        /* topic "x" */
        0x00, 0x00, 0x00, 0x02, /* partitions: 2 */
        /* partition 7: two aborted transactions, preferred replica 3, records "ab" */
        0x00, 0x00, 0x00, 0x07,                         /* partition_index 7 */
        0x00, 0x00,                                     /* error_code 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* high_watermark 100 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, /* last_stable_offset 80 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset 0 */
        0x00, 0x00, 0x00, 0x02,                         /* aborted_transactions: 2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /*   producer_id 1000 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51, /*   first_offset 81 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe9, /*   producer_id 1001 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, /*   first_offset 82 */
        0x00, 0x00, 0x00, 0x03,                         /* preferred_read_replica 3 */
        0x00, 0x00, 0x00, 0x02, 'a', 'b',               /* records "ab" */
        /* partition 8: null aborted transactions, null records */
        0x00, 0x00, 0x00, 0x08,                         /* partition_index 8 */
        0x00, 0x01,                                     /* error_code 1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* high_watermark -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* last_stable_offset -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset -1 */
        0xff, 0xff, 0xff, 0xff,                         /* aborted_transactions: null */
        0xff, 0xff, 0xff, 0xff,                         /* preferred_read_replica -1 */
        0xff, 0xff, 0xff, 0xff,                         /* records: null */
    };
    br_kcodec_fetchc_resp_t resp;

    cr_assert_eq(decode_resp(v11, sizeof(v11), 11, &resp), SM_OK);
    cr_assert_eq(resp.session_id, 42);
    cr_assert_eq(resp.n_topics, 1);
    cr_assert_eq(resp.topics[0].n_parts, 2);
    const br_kcodec_fetchc_part_t *p = &resp.topics[0].parts[0];
    cr_assert_eq(p->h.partition, 7);
    cr_assert_eq(p->h.high_watermark, 100);
    cr_assert_eq(p->h.last_stable_offset, 80);
    cr_assert_eq(p->preferred_read_replica, 3);
    cr_assert_eq(p->records.len, 2);
    cr_assert_eq(memcmp(p->records.ptr, "ab", 2), 0);
    p = &resp.topics[0].parts[1];
    cr_assert_eq(p->h.partition, 8);
    cr_assert_eq(p->h.error, 1);
    cr_assert_eq(p->preferred_read_replica, -1);
    cr_assert_null(p->records.ptr, "null records: ptr NULL");
    cr_assert_eq(p->records.len, 0, "null records: len 0");
    br_kcodec_fetchc_resp_deinit(&resp);

    for (size_t len = 0; len < sizeof(v11); len++) {
        cr_assert_neq(decode_resp(v11, len, 11, &resp), SM_OK, "len %zu", len);
        br_kcodec_fetchc_resp_deinit(&resp);
    }
}

Test(kcodec_fetchc, refuses_absurd_counts_and_bad_versions)
{
    /* v4: throttle, topics count 0x7fffffff */
    static const uint8_t topics[] = {0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x', 0, 0, 0, 0};
    /* v4: one topic "x" with 0x01000000 partitions */
    static const uint8_t parts[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'x', 0x01, 0, 0, 0, 0, 0};
    /* v4: one partition whose aborted-transaction count is 0x10000000 */
    static const uint8_t aborted[] = {
        0,    0, 0, 0, 0, 0, 0, 1, 0, 1, 'x', 0, 0, 0, 1,    /* header, "x", 1 partition */
        0,    0, 0, 0, 0, 0,                                 /* partition, error */
        0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   0, 0, 0, 0, 0, /* hw, lso */
        0x10, 0, 0, 0, 0, 0, 0, 0};                          /* aborted count, records len */
    /* v4: records length beyond the frame */
    static const uint8_t records[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'x', 0,    0,    0,    1,
                                      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   0,    0,    0,    0,
                                      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   0x7f, 0xff, 0xff, 0xff};
    br_kcodec_fetchc_resp_t resp;

    cr_assert_eq(sizeof(aborted), 11 + 4 + 4 + 2 + 8 + 8 + 4 + 4);
    cr_assert_eq(decode_resp(topics, sizeof(topics), 4, &resp), SM_ERR_TRUNCATED);
    cr_assert_eq(decode_resp(parts, sizeof(parts), 4, &resp), SM_ERR_TRUNCATED);
    cr_assert_eq(decode_resp(aborted, sizeof(aborted), 4, &resp), SM_ERR_TRUNCATED);
    cr_assert_eq(resp.n_topics, 0);
    cr_assert_eq(decode_resp(records, sizeof(records), 4, &resp), SM_ERR_TRUNCATED);
    cr_assert_eq(decode_resp(topics, sizeof(topics), 3, &resp), SM_ERR_VERSION);
    cr_assert_eq(decode_resp(topics, sizeof(topics), 12, &resp), SM_ERR_VERSION);
}
