/*
 * test_ctl_codec: the controller's znode payloads round-trip, and decoders refuse what the
 * model cannot hold (gaps in partition numbers, oversized replica lists, a registration that
 * names another broker, garbage); znode paths are built and parsed consistently.
 */
#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "samsa.pb-c.h"

Test(ctl_codec, broker_registration_round_trips_with_the_epoch_from_the_node)
{
    ctl_endpoint_t eps[2] = {{"PLAINTEXT", "10.0.0.1", 9092}, {"EXTERNAL", "h", 9093}};
    ctl_broker_t in = {.id = 4,
                       .endpoints = eps,
                       .n_endpoints = 2,
                       .control = {"CONTROL", "10.0.0.1", 9190},
                       .rack = "r1",
                       .start_time_ms = 1234};
    ctl_broker_t out;
    uint8_t *data;
    size_t len;

    cr_assert_eq(ctl_codec_broker_encode(&in, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_broker_decode(data, len, 4, 77, &out), SM_OK);
    cr_expect_eq(out.id, 4);
    cr_expect_eq(out.epoch, 77);
    cr_assert_eq(out.n_endpoints, 2);
    cr_expect_str_eq(out.endpoints[1].listener, "EXTERNAL");
    cr_expect_eq(out.endpoints[1].port, 9093);
    cr_expect_str_eq(out.control.host, "10.0.0.1");
    cr_expect_eq(out.control.port, 9190);
    cr_expect_str_eq(out.rack, "r1");
    cr_expect_eq(out.start_time_ms, 1234);
    ctl_broker_deinit(&out);
    cr_expect_eq(ctl_codec_broker_decode(data, len, 5, 77, &out), SM_ERR_CORRUPT,
                 "a registration under another id's path");
    free(data);
    cr_expect_eq(ctl_codec_broker_decode("\xff\xff\xff", 3, 1, 1, &out), SM_ERR_CORRUPT);
}

Test(ctl_codec, topic_assignment_round_trips_in_partition_order)
{
    static const int32_t r0[] = {1, 2}, r1[] = {2, 3}, add[] = {4};
    ctl_assignment_t parts[] = {{r0, 2, NULL, 0, NULL, 0}, {r1, 2, add, 1, NULL, 0}};
    sm_uuid_t id = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    ctl_codec_topic_t t;
    uint8_t *data;
    size_t len;

    cr_assert_eq(ctl_codec_topic_encode(&id, parts, 2, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_topic_decode(data, len, &t), SM_OK);
    free(data);
    cr_expect(sm_uuid_eq(&t.id, &id));
    cr_assert_eq(t.n_parts, 2);
    cr_expect(t.parts[1].n_replicas == 2 && t.parts[1].replicas[1] == 3);
    cr_expect(t.parts[1].n_adding == 1 && t.parts[1].adding[0] == 4);
    ctl_codec_topic_deinit(&t);
}

static size_t pack_topic(Samsa__TopicAssignment *ta, uint8_t *buf)
{
    return samsa__topic_assignment__pack(ta, buf);
}

Test(ctl_codec, topic_decoder_sorts_partitions_and_refuses_gaps_and_huge_lists)
{
    Samsa__TopicAssignment ta = SAMSA__TOPIC_ASSIGNMENT__INIT;
    Samsa__PartitionAssignment pa[2] = {SAMSA__PARTITION_ASSIGNMENT__INIT,
                                        SAMSA__PARTITION_ASSIGNMENT__INIT};
    Samsa__PartitionAssignment *pp[2] = {&pa[0], &pa[1]};
    int32_t reps[CTL_MAX_REPLICAS + 1] = {0};
    uint8_t buf[4096];
    ctl_codec_topic_t t;
    size_t len;

    pa[0].has_partition = pa[1].has_partition = 1;
    pa[0].partition = 1;
    pa[1].partition = 0;
    pa[0].n_replicas = pa[1].n_replicas = 1;
    pa[0].replicas = pa[1].replicas = reps;
    ta.n_partitions = 2;
    ta.partitions = pp;
    len = pack_topic(&ta, buf);
    cr_assert_eq(ctl_codec_topic_decode(buf, len, &t), SM_OK);
    cr_expect(sm_uuid_is_zero(&t.id), "no id: the zero UUID");
    ctl_codec_topic_deinit(&t);

    pa[0].partition = 2; /* 0 and 2: a gap */
    len = pack_topic(&ta, buf);
    cr_expect_eq(ctl_codec_topic_decode(buf, len, &t), SM_ERR_CORRUPT);
    pa[0].partition = 1;
    pa[0].n_replicas = CTL_MAX_REPLICAS + 1;
    len = pack_topic(&ta, buf);
    cr_expect_eq(ctl_codec_topic_decode(buf, len, &t), SM_ERR_CORRUPT);
}

Test(ctl_codec, partition_state_round_trips_with_the_node_version)
{
    static const int32_t isr[] = {3, 1};
    ctl_pstate_t in = {.leader = 3,
                       .leader_epoch = 9,
                       .controller_epoch = 4,
                       .recovery = 1,
                       .isr = isr,
                       .n_isr = 2},
                 out;
    int32_t buf[CTL_MAX_REPLICAS];
    uint8_t *data;
    size_t len;

    cr_assert_eq(ctl_codec_state_encode(&in, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_state_decode(data, len, 12, &out, buf), SM_OK);
    free(data);
    cr_expect(out.leader == 3 && out.leader_epoch == 9 && out.controller_epoch == 4);
    cr_expect(out.recovery == 1 && out.zk_version == 12);
    cr_expect(out.n_isr == 2 && out.isr == buf && buf[0] == 3 && buf[1] == 1);
}

Test(ctl_codec, empty_state_means_no_leader)
{
    ctl_pstate_t out;
    int32_t buf[CTL_MAX_REPLICAS];

    cr_assert_eq(ctl_codec_state_decode("", 0, 0, &out, buf), SM_OK);
    cr_expect_eq(out.leader, -1);
    cr_expect_eq(out.n_isr, 0);
}

Test(ctl_codec, configs_controller_epoch_cluster_id_round_trip)
{
    const char *keys[] = {"retention.ms", "cleanup.policy"}, *vals[] = {"10", "compact"};
    ctl_codec_config_t cfg;
    uint8_t *data;
    size_t len;
    int32_t id, epoch, port;
    char host[64], cid[64];

    cr_assert_eq(ctl_codec_config_encode(keys, vals, 2, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_config_decode(data, len, &cfg), SM_OK);
    free(data);
    cr_assert_eq(cfg.n, 2);
    cr_expect_str_eq(cfg.keys[1], "cleanup.policy");
    cr_expect_str_eq(cfg.values[1], "compact");
    ctl_codec_config_deinit(&cfg);

    cr_assert_eq(ctl_codec_controller_encode(2, "127.0.0.1", 9190, 7, 1, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_controller_decode(data, len, &id, &epoch, host, sizeof(host), &port),
                 SM_OK);
    free(data);
    cr_expect(id == 2 && epoch == 7 && port == 9190);
    cr_expect_str_eq(host, "127.0.0.1");

    cr_assert_eq(ctl_codec_epoch_encode(41, &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_epoch_decode(data, len, &epoch), SM_OK);
    free(data);
    cr_expect_eq(epoch, 41);

    cr_assert_eq(ctl_codec_cluster_id_encode("abcDEF", &data, &len), SM_OK);
    cr_assert_eq(ctl_codec_cluster_id_decode(data, len, cid, sizeof(cid)), SM_OK);
    free(data);
    cr_expect_str_eq(cid, "abcDEF");
    cr_expect_eq(ctl_codec_cluster_id_decode("", 0, cid, sizeof(cid)), SM_ERR_CORRUPT);
}

Test(ctl_paths, builds_and_parses_znode_paths)
{
    char buf[CTL_PATH_MAX], topic[CTL_PATH_MAX];
    int32_t p = -1;

    cr_expect_str_eq(ctl_path_state(buf, sizeof(buf), "orders", 12),
                     "/brokers/topics/orders/partitions/12/state");
    cr_assert(ctl_path_parse_state(buf, topic, sizeof(topic), &p));
    cr_expect_str_eq(topic, "orders");
    cr_expect_eq(p, 12);
    cr_assert(ctl_path_parse_state("/brokers/topics/partitions/partitions/0/state", topic,
                                   sizeof(topic), &p));
    cr_expect_str_eq(topic, "partitions");
    cr_expect_not(
        ctl_path_parse_state("/brokers/topics/t/partitions/x/state", topic, sizeof(topic), &p));
    cr_expect_not(ctl_path_parse_state("/brokers/topics/t/partitions/1", topic, sizeof(topic), &p));
    cr_expect_str_eq(ctl_path_broker(buf, sizeof(buf), 3), "/brokers/ids/3");
    cr_expect_str_eq(ctl_path_deletion(buf, sizeof(buf), "t"), "/admin/delete_topics/t");
    cr_assert(ctl_path_child_of("/brokers/ids/3", CTL_PATH_BROKERS, topic, sizeof(topic)));
    cr_expect_str_eq(topic, "3");
    cr_expect_not(ctl_path_child_of("/brokers/ids/3/x", CTL_PATH_BROKERS, topic, sizeof(topic)));
    cr_expect_not(ctl_path_child_of("/brokers/idsx", CTL_PATH_BROKERS, topic, sizeof(topic)));
    cr_expect(ctl_path_parse_int("2147483647", &p) && p == 2147483647);
    cr_expect_not(ctl_path_parse_int("2147483648", &p));
    cr_expect_not(ctl_path_parse_int("-1", &p));
    cr_expect_not(ctl_path_parse_int("", &p));
}
