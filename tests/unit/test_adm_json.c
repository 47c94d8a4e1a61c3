/*
 * Unit tests for adm_json (samsa-admin's JSON writer and generic protobuf-c printer) and for
 * adm_zk's mapping of znode paths to payload messages.
 */
#include "controller/admin/adm_json.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_zk.h"
#include "samsa.pb-c.h"

/* Checks the document and releases it (before asserting, so a failure leaks nothing). */
static void expect_json(adm_json_t *j, const char *want)
{
    sm_err_t err = adm_json_error(j);
    char got[4096];

    snprintf(got, sizeof(got), "%s", adm_json_text(j));
    adm_json_deinit(j);
    cr_assert_eq(err, SM_OK, "writer error %d", err);
    cr_assert_str_eq(got, want);
}

Test(adm_json, writes_design_spacing_for_objects_and_arrays)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_array_begin(&j);
    adm_json_object_begin(&j);
    adm_json_key(&j, "id");
    adm_json_int(&j, 1);
    adm_json_key(&j, "endpoints");
    adm_json_array_begin(&j);
    adm_json_string(&j, "PLAINTEXT://127.0.0.1:9092");
    adm_json_array_end(&j);
    adm_json_key(&j, "rack");
    adm_json_null(&j);
    adm_json_object_end(&j);
    adm_json_array_end(&j);
    expect_json(&j,
                "[{\"id\": 1, \"endpoints\": [\"PLAINTEXT://127.0.0.1:9092\"], \"rack\": null}]");
}

Test(adm_json, writes_empty_containers_and_scalars)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_object_begin(&j);
    adm_json_key(&j, "a");
    adm_json_array_begin(&j);
    adm_json_array_end(&j);
    adm_json_key(&j, "b");
    adm_json_object_begin(&j);
    adm_json_object_end(&j);
    adm_json_key(&j, "t");
    adm_json_bool(&j, true);
    adm_json_key(&j, "f");
    adm_json_bool(&j, false);
    adm_json_key(&j, "min");
    adm_json_int(&j, INT64_MIN);
    adm_json_key(&j, "max");
    adm_json_uint(&j, UINT64_MAX);
    adm_json_key(&j, "half");
    adm_json_double(&j, 0.5);
    adm_json_object_end(&j);
    expect_json(&j, "{\"a\": [], \"b\": {}, \"t\": true, \"f\": false, "
                    "\"min\": -9223372036854775808, \"max\": 18446744073709551615, \"half\": 0.5}");
}

Test(adm_json, escapes_quotes_backslashes_and_control_characters)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_string(&j, "a\"b\\c\n\t\x01\x1f/");
    expect_json(&j, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\"");
}

Test(adm_json, keeps_valid_utf8_and_replaces_invalid_bytes)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_array_begin(&j);
    adm_json_string(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    adm_json_string(&j, "bad\xff|\xc3|\xed\xa0\x80|\xc0\xaf");
    adm_json_array_end(&j);
    expect_json(&j, "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", "
                    "\"bad\\ufffd|\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"]");
}

Test(adm_json, string_n_keeps_embedded_nul_escaped)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_string_n(&j, "a\0b", 3);
    expect_json(&j, "\"a\\u0000b\"");
}

Test(adm_json, writes_nan_as_null)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_array_begin(&j);
    adm_json_double(&j, 0.0 / 0.0);
    adm_json_array_end(&j);
    expect_json(&j, "[null]");
}

Test(adm_json, reports_unbalanced_documents)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_object_begin(&j);
    cr_assert_eq(adm_json_error(&j), SM_ERR_INVALID);
    adm_json_deinit(&j);

    adm_json_init(&j);
    adm_json_array_end(&j);
    cr_assert_eq(adm_json_error(&j), SM_ERR_INVALID);
    adm_json_deinit(&j);

    adm_json_init(&j);
    adm_json_key(&j, "outside");
    cr_assert_eq(adm_json_error(&j), SM_ERR_INVALID);
    adm_json_deinit(&j);
}

Test(adm_json, refuses_nesting_deeper_than_the_limit_and_stays_failed)
{
    adm_json_t j;

    adm_json_init(&j);
    for (int i = 0; i <= ADM_JSON_MAX_DEPTH; i++)
        adm_json_array_begin(&j);
    for (int i = 0; i <= ADM_JSON_MAX_DEPTH; i++)
        adm_json_array_end(&j);
    adm_json_int(&j, 1);
    cr_assert_eq(adm_json_error(&j), SM_ERR_INVALID);
    adm_json_deinit(&j);
}

Test(adm_json, grows_past_the_first_buffer)
{
    adm_json_t j;
    size_t n;
    char head[16] = "", tail[8] = "";
    sm_err_t err;

    adm_json_init(&j);
    adm_json_array_begin(&j);
    for (int i = 0; i < 5000; i++)
        adm_json_int(&j, i);
    adm_json_array_end(&j);
    err = adm_json_error(&j);
    n = strlen(adm_json_text(&j));
    if (n > 20000) {
        snprintf(head, sizeof(head), "%.10s", adm_json_text(&j));
        snprintf(tail, sizeof(tail), "%s", adm_json_text(&j) + n - 5);
    }
    adm_json_deinit(&j);
    cr_assert_eq(err, SM_OK);
    cr_assert(n > 20000);
    cr_assert_str_eq(head, "[0, 1, 2, ");
    cr_assert_str_eq(tail, "4999]");
}

Test(adm_json, encodes_base64_with_padding)
{
    static const uint8_t data[] = {'f', 'o', 'o', 'b', 'a', 'r'};
    adm_json_t j;

    adm_json_init(&j);
    adm_json_array_begin(&j);
    adm_json_base64(&j, data, 0);
    adm_json_base64(&j, data, 1);
    adm_json_base64(&j, data, 2);
    adm_json_base64(&j, data, 3);
    adm_json_base64(&j, data, 6);
    adm_json_array_end(&j);
    expect_json(&j, "[\"\", \"Zg==\", \"Zm8=\", \"Zm9v\", \"Zm9vYmFy\"]");
}

/* ---- protobuf-c messages ------------------------------------------------------------------- */

Test(adm_json, prints_a_controller_registration_with_nested_endpoint)
{
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT;
    Samsa__ControllerRegistration reg = SAMSA__CONTROLLER_REGISTRATION__INIT;
    adm_json_t j;

    ep.listener = "CONTROL";
    ep.host = "127.0.0.1";
    ep.has_port = 1;
    ep.port = 9190;
    reg.has_controller_id = 1;
    reg.controller_id = 1;
    reg.endpoint = &ep;
    reg.has_epoch = 1;
    reg.epoch = 7;
    adm_json_init(&j);
    adm_json_message(&j, &reg.base);
    expect_json(&j, "{\"controller_id\": 1, \"endpoint\": {\"listener\": \"CONTROL\", \"host\": "
                    "\"127.0.0.1\", \"port\": 9190}, \"epoch\": 7}");
}

Test(adm_json, prints_absent_fields_with_defaults_and_repeated_as_arrays)
{
    Samsa__PartitionState ps = SAMSA__PARTITION_STATE__INIT;
    adm_json_t j;

    /* leader is absent: proto2 readers see its default -1; the enum default prints by name. */
    adm_json_init(&j);
    adm_json_message(&j, &ps.base);
    expect_json(&j, "{\"leader\": -1, \"isr\": [], \"leader_recovery_state\": \"RECOVERED\"}");
}

Test(adm_json, prints_a_partition_state_round_tripped_through_the_wire)
{
    Samsa__PartitionState ps = SAMSA__PARTITION_STATE__INIT;
    int32_t isr[] = {1, 2, 3};
    uint8_t buf[64];
    size_t n;
    Samsa__PartitionState *back;
    adm_json_t j;

    ps.has_leader = 1;
    ps.leader = 2;
    ps.has_leader_epoch = 1;
    ps.leader_epoch = 4;
    ps.n_isr = 3;
    ps.isr = isr;
    ps.has_controller_epoch = 1;
    ps.controller_epoch = 9;
    ps.has_leader_recovery_state = 1;
    ps.leader_recovery_state = SAMSA__LEADER_RECOVERY_STATE__RECOVERING;
    n = samsa__partition_state__pack(&ps, buf);
    back = samsa__partition_state__unpack(NULL, n, buf);
    cr_assert_not_null(back);
    adm_json_init(&j);
    adm_json_message(&j, &back->base);
    samsa__partition_state__free_unpacked(back, NULL);
    expect_json(&j,
                "{\"leader\": 2, \"leader_epoch\": 4, \"isr\": [1, 2, 3], \"controller_epoch\": "
                "9, \"leader_recovery_state\": \"RECOVERING\"}");
}

Test(adm_json, prints_a_16_byte_id_as_a_kafka_uuid_and_other_bytes_as_base64)
{
    Samsa__TopicAssignment ta = SAMSA__TOPIC_ASSIGNMENT__INIT;
    Samsa__PingRequest ping = SAMSA__PING_REQUEST__INIT;
    uint8_t id[16] = {0};
    adm_json_t j;

    id[15] = 1;
    ta.has_topic_id = 1;
    ta.topic_id.len = 16;
    ta.topic_id.data = id;
    adm_json_init(&j);
    adm_json_message(&j, &ta.base);
    expect_json(&j, "{\"topic_id\": \"AAAAAAAAAAAAAAAAAAAAAQ\", \"partitions\": []}");

    ping.has_data = 1;
    ping.data.len = 16;
    ping.data.data = id;
    adm_json_init(&j);
    adm_json_message(&j, &ping.base);
    expect_json(&j, "{\"data\": \"AAAAAAAAAAAAAAAAAAAAAQ==\"}");
}

Test(adm_json, prints_only_the_chosen_oneof_member)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__PingRequest ping = SAMSA__PING_REQUEST__INIT;
    adm_json_t j;

    env.has_type = 1;
    env.type = SAMSA__RPC_TYPE__PING;
    ping.has_seq = 1;
    ping.seq = 5;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    env.ping_request = &ping;
    adm_json_init(&j);
    adm_json_message(&j, &env.base);
    expect_json(&j, "{\"type\": \"PING\", \"controller_epoch\": -1, \"broker_epoch\": -1, "
                    "\"sender_id\": -1, \"ping_request\": {\"seq\": 5}}");
}

Test(adm_json, prints_unknown_enum_numbers_as_numbers)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    adm_json_t j;

    env.has_type = 1;
    env.type = (Samsa__RpcType)999;
    adm_json_init(&j);
    adm_json_message(&j, &env.base);
    expect_json(&j, "{\"type\": 999, \"controller_epoch\": -1, \"broker_epoch\": -1, "
                    "\"sender_id\": -1}");
}

Test(adm_json, prints_null_for_a_missing_message)
{
    adm_json_t j;

    adm_json_init(&j);
    adm_json_message(&j, NULL);
    expect_json(&j, "null");
}

/* ---- znode payloads by path ---------------------------------------------------------------- */

Test(adm_zk, maps_every_design_path_to_its_message)
{
    cr_assert_eq(adm_zk_payload_type("/cluster/id"), &samsa__cluster_id__descriptor);
    cr_assert_eq(adm_zk_payload_type("/controller"), &samsa__controller_registration__descriptor);
    cr_assert_eq(adm_zk_payload_type("/controller_epoch"), &samsa__controller_epoch__descriptor);
    cr_assert_eq(adm_zk_payload_type("/brokers/ids/3"), &samsa__broker_registration__descriptor);
    cr_assert_eq(adm_zk_payload_type("/brokers/topics/orders"),
                 &samsa__topic_assignment__descriptor);
    cr_assert_eq(adm_zk_payload_type("/brokers/topics/orders/partitions/12/state"),
                 &samsa__partition_state__descriptor);
    cr_assert_eq(adm_zk_payload_type("/config/topics/orders"), &samsa__topic_config__descriptor);
    cr_assert_eq(adm_zk_payload_type("/admin/delete_topics/orders"),
                 &samsa__delete_topic_marker__descriptor);
    cr_assert_eq(adm_zk_payload_type("/admin/reassign_partitions"),
                 &samsa__reassignment_plan__descriptor);
    cr_assert_eq(adm_zk_payload_type("/admin/preferred_replica_election"),
                 &samsa__preferred_replica_election__descriptor);
}

Test(adm_zk, knows_no_message_for_parents_and_other_paths)
{
    cr_assert_null(adm_zk_payload_type("/"));
    cr_assert_null(adm_zk_payload_type("/brokers"));
    cr_assert_null(adm_zk_payload_type("/brokers/ids"));
    cr_assert_null(adm_zk_payload_type("/brokers/topics/orders/partitions"));
    cr_assert_null(adm_zk_payload_type("/brokers/topics/orders/partitions/0"));
    cr_assert_null(adm_zk_payload_type("/brokers/ids/3/extra"));
    cr_assert_null(adm_zk_payload_type("/controllers"));
    cr_assert_null(adm_zk_payload_type("/zookeeper/quota"));
}

Test(adm_zk, decodes_a_known_payload_and_falls_back_to_text_or_hex)
{
    Samsa__ControllerEpoch ce = SAMSA__CONTROLLER_EPOCH__INIT;
    uint8_t buf[16];
    size_t n;
    adm_json_t j;

    ce.has_epoch = 1;
    ce.epoch = 3;
    n = samsa__controller_epoch__pack(&ce, buf);
    adm_json_init(&j);
    adm_zk_payload_json(&j, "/controller_epoch", buf, n);
    expect_json(&j, "{\"epoch\": 3}");

    adm_json_init(&j);
    adm_zk_payload_json(&j, "/somewhere/else", "hello", 5);
    expect_json(&j, "\"hello\"");

    adm_json_init(&j);
    adm_zk_payload_json(&j, "/somewhere/else", "\x00\x01\xfe", 3);
    expect_json(&j, "{\"hex\": \"0001fe\"}");

    adm_json_init(&j);
    adm_zk_payload_json(&j, "/brokers", NULL, 0);
    expect_json(&j, "null");

    /* A known path whose bytes are not its message: shown raw rather than hidden. */
    adm_json_init(&j);
    adm_zk_payload_json(&j, "/controller_epoch", "\xff\xff", 2);
    expect_json(&j, "{\"hex\": \"ffff\"}");
}
