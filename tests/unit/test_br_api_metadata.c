/*
 * Unit tests for the Metadata API codec (br_api_metadata): request decoding per version (null
 * vs empty topic lists, the v4 auto-creation flag, truncated and absurd input) and response
 * byte layouts (MetadataResponse.json) from a metadata cache filled by an UpdateMetadata.
 */
#include "broker/br_api_info.h"

#include <criterion/criterion.h>
#include <string.h>

#include "sm_log.h"

static br_metacache_t *mc;
static sm_writer_t w;

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    sm_writer_init(&w, 0);
}

static void teardown(void)
{
    br_metacache_free(mc);
    sm_writer_deinit(&w);
}

TestSuite(br_api_metadata, .init = setup, .fini = teardown);

static sm_err_t decode(const uint8_t *b, size_t n, int16_t v, br_api_metadata_req_t *out)
{
    sm_reader_t r;

    sm_reader_init(&r, b, n);
    return br_api_metadata_decode(&r, v, out);
}

/* ---- decoding ------------------------------------------------------------------------------- */

Test(br_api_metadata, v0_empty_list_means_all_topics)
{
    static const uint8_t b[] = {0x00, 0x00, 0x00, 0x00};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(b, sizeof(b), 0, &req), SM_OK);
    cr_assert_eq(req.n_topics, -1);
    cr_assert(req.allow_auto_create);
    br_api_metadata_req_deinit(&req);
}

Test(br_api_metadata, v0_refuses_null_list)
{
    static const uint8_t b[] = {0xff, 0xff, 0xff, 0xff};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(b, sizeof(b), 0, &req), SM_ERR_CORRUPT);
}

Test(br_api_metadata, v1_null_list_means_all_and_empty_means_none)
{
    static const uint8_t null_list[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t empty[] = {0x00, 0x00, 0x00, 0x00};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(null_list, sizeof(null_list), 1, &req), SM_OK);
    cr_assert_eq(req.n_topics, -1);
    br_api_metadata_req_deinit(&req);
    cr_assert_eq(decode(empty, sizeof(empty), 1, &req), SM_OK);
    cr_assert_eq(req.n_topics, 0);
    br_api_metadata_req_deinit(&req);
}

Test(br_api_metadata, v4_reads_auto_creation_flag_and_v8_its_two_flags)
{
    static const uint8_t v4[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'a', 0x00};
    static const uint8_t v8[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'a', 0x01, 0x00, 0x00};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(v4, sizeof(v4), 4, &req), SM_OK);
    cr_assert_eq(req.n_topics, 1);
    cr_assert(sm_str_eq(req.topics[0], "a"));
    cr_assert_not(req.allow_auto_create);
    br_api_metadata_req_deinit(&req);
    cr_assert_eq(decode(v8, sizeof(v8), 8, &req), SM_OK);
    cr_assert(req.allow_auto_create);
    br_api_metadata_req_deinit(&req);
    cr_assert_eq(decode(v8, sizeof(v8) - 1, 8, &req), SM_ERR_TRUNCATED);
}

Test(br_api_metadata, refuses_absurd_topic_count_without_allocating)
{
    static const uint8_t b[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'a'};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(b, sizeof(b), 1, &req), SM_ERR_TRUNCATED);
    cr_assert_null(req.topics);
}

Test(br_api_metadata, refuses_negative_count_and_truncated_name)
{
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    static const uint8_t trunc[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 'a'};
    br_api_metadata_req_t req;

    cr_assert_eq(decode(neg, sizeof(neg), 1, &req), SM_ERR_CORRUPT);
    cr_assert_eq(decode(trunc, sizeof(trunc), 1, &req), SM_ERR_TRUNCATED);
    cr_assert_null(req.topics);
}

Test(br_api_metadata, judges_topic_names_as_kafka_does)
{
    cr_assert(br_api_topic_name_valid(sm_str_of("orders.v2_x-y")));
    cr_assert_not(br_api_topic_name_valid(sm_str_of("")));
    cr_assert_not(br_api_topic_name_valid(sm_str_of(".")));
    cr_assert_not(br_api_topic_name_valid(sm_str_of("..")));
    cr_assert_not(br_api_topic_name_valid(sm_str_of("a/b")));
    cr_assert_not(br_api_topic_name_valid(SM_STR_NULL));
}

/* ---- encoding ------------------------------------------------------------------------------- */

/* Cache: broker 1 (rack "r1") at h1:9091, topic "t" partition 0 leader 1 epoch 4, replicas
 * [1], isr [1], no offline replicas. */
static void fill_cache(void)
{
    Samsa__UpdateMetadataRequest req = SAMSA__UPDATE_METADATA_REQUEST__INIT;
    Samsa__LiveBroker lb = SAMSA__LIVE_BROKER__INIT, *lbp = &lb;
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT, *epp = &ep;
    Samsa__UpdateMetadataTopicState ts = SAMSA__UPDATE_METADATA_TOPIC_STATE__INIT, *tsp = &ts;
    Samsa__UpdateMetadataPartitionState ps = SAMSA__UPDATE_METADATA_PARTITION_STATE__INIT;
    Samsa__UpdateMetadataPartitionState *psp = &ps;
    int32_t one = 1;
    sm_errbuf_t eb;

    ep.listener = "PLAINTEXT";
    ep.host = "h1";
    ep.has_port = 1;
    ep.port = 9091;
    lb.has_broker_id = 1;
    lb.broker_id = 1;
    lb.n_endpoints = 1;
    lb.endpoints = &epp;
    lb.rack = "r1";
    ps.has_partition = 1;
    ps.partition = 0;
    ps.has_leader = 1;
    ps.leader = 1;
    ps.has_leader_epoch = 1;
    ps.leader_epoch = 4;
    ps.n_replicas = 1;
    ps.replicas = &one;
    ps.n_isr = 1;
    ps.isr = &one;
    ts.topic = "t";
    ts.n_partitions = 1;
    ts.partitions = &psp;
    req.has_full = 1;
    req.full = 1;
    req.has_controller_id = 1;
    req.controller_id = 9;
    req.n_live_brokers = 1;
    req.live_brokers = &lbp;
    req.n_topic_states = 1;
    req.topic_states = &tsp;
    cr_assert_eq(br_metacache_update(mc, &req, &eb), SM_OK, "%s", eb.msg);
}

static const br_api_metadata_self_t self = {
    .broker_id = 1, .host = "h1", .port = 9091, .rack = "r1", .cluster_id = "cid"};
static const br_api_metadata_req_t all = {.n_topics = -1, .allow_auto_create = true};

static void expect_bytes(const uint8_t *want, size_t n)
{
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    cr_assert_eq(sm_writer_len(&w), n, "len %zu, want %zu", sm_writer_len(&w), n);
    cr_assert_arr_eq(sm_writer_data(&w), want, n);
}

Test(br_api_metadata, encodes_v0_layout)
{
    static const uint8_t want[] = {
        0, 0, 0, 1,                                     /* brokers */
        0, 0, 0, 1, 0,   2, 'h', '1', 0, 0, 0x23, 0x83, /* 1, "h1", 9091 */
        0, 0, 0, 1,                                     /* topics */
        0, 0, 0, 1, 't',                                /* error, "t" */
        0, 0, 0, 1,                                     /* partitions */
        0, 0, 0, 0, 0,   0, 0,   0,   0, 1,             /* error, index, leader */
        0, 0, 0, 1, 0,   0, 0,   1,                     /* replicas */
        0, 0, 0, 1, 0,   0, 0,   1,                     /* isr */
    };

    fill_cache();
    br_api_metadata_encode(mc, &self, 0, &all, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION, &w);
    expect_bytes(want, sizeof(want));
}

Test(br_api_metadata, encodes_v1_with_rack_controller_and_is_internal)
{
    static const uint8_t want[] = {
        0, 0, 0, 1, 0, 0, 0, 1, 0,   2, 'h', '1', 0, 0, 0x23, 0x83, 0, 2, 'r', '1', /* broker */
        0, 0, 0, 1,                                                                 /* controller */
        0, 0, 0, 1, 0, 0, 0, 1, 't', 0,                          /* topics, error, name, internal */
        0, 0, 0, 1, 0, 0, 0, 0, 0,   0, 0,   0,   0, 1,          /* partition */
        0, 0, 0, 1, 0, 0, 0, 1, 0,   0, 0,   1,   0, 0, 0,    1, /* replicas, isr */
    };

    fill_cache();
    br_api_metadata_encode(mc, &self, 1, &all, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION, &w);
    expect_bytes(want, sizeof(want));
}

Test(br_api_metadata, encodes_v8_with_throttle_cluster_epoch_offline_and_auth_ops)
{
    static const uint8_t want[] = {
        0,    0, 0,   0, /* throttle */
        0,    0, 0,   1,   0,   0, 0, 1, 0,   2, 'h', '1', 0, 0, 0x23, 0x83,
        0,    2, 'r', '1',                                       /* broker */
        0,    3, 'c', 'i', 'd',                                  /* cluster */
        0,    0, 0,   1,                                         /* controller */
        0,    0, 0,   1,   0,   0, 0, 1, 't', 0,                 /* topics, error, name, internal */
        0,    0, 0,   1,   0,   0, 0, 0, 0,   0, 0,   0,   0, 1, /* partition, leader */
        0,    0, 0,   4,                                         /* leader epoch */
        0,    0, 0,   1,   0,   0, 0, 1, 0,   0, 0,   1,   0, 0, 0,    1, /* replicas, isr */
        0,    0, 0,   0,                                                  /* offline replicas */
        0x80, 0, 0,   0,                                                  /* topic authorized ops */
        0x80, 0, 0,   0, /* cluster authorized ops */
    };

    fill_cache();
    br_api_metadata_encode(mc, &self, 8, &all, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION, &w);
    expect_bytes(want, sizeof(want));
}

Test(br_api_metadata, empty_request_lists_no_topics_but_all_brokers)
{
    static const uint8_t want[] = {
        0,    0,    0, 1, 0,   0,   0, 1, 0, 2, 'h', '1', 0, 0,
        0x23, 0x83, 0, 2, 'r', '1', 0, 0, 0, 1, 0,   0,   0, 0, /* no topics */
    };
    const br_api_metadata_req_t none = {.n_topics = 0};

    fill_cache();
    br_api_metadata_encode(mc, &self, 1, &none, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION, &w);
    expect_bytes(want, sizeof(want));
}

Test(br_api_metadata, lists_self_before_first_update_and_answers_unknown_topics)
{
    static const uint8_t want[] = {
        0,    0,    0, 1, 0,   0,   0,   1, 0, 2, 'h', '1', 0, 0,
        0x23, 0x83, 0, 2, 'r', '1', 0,   0, 0, 1, 0,   0,   0, 2, /* two topics */
        0,    5,    0, 1, 'x', 0,   0,   0, 0, 0,                 /* LEADER_NOT_AVAILABLE, "x" */
        0,    17,   0, 3, 'a', '/', 'b', 0, 0, 0, 0,   0,         /* INVALID_TOPIC_EXCEPTION */
    };
    sm_str_t names[2] = {sm_str_of("x"), sm_str_of("a/b")};
    const br_api_metadata_req_t req = {.n_topics = 2, .topics = names};

    br_api_metadata_encode(mc, &self, 1, &req, SM_KERR_LEADER_NOT_AVAILABLE, &w);
    expect_bytes(want, sizeof(want));
}
