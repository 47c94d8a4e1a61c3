/*
 * Unit tests for adm_table (samsa-admin's aligned text tables) and for the renderings built on
 * it and on adm_json: topics describe (JSON shape of DESIGN.md section 7, table, summary line,
 * partition filters), brokers list and controller, and the shared formatters of adm_out.
 */
#include "controller/admin/adm_table.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_brokers.h"
#include "controller/admin/adm_controller.h"
#include "controller/admin/adm_out.h"
#include "controller/admin/adm_topics.h"

/* Renders, releases the table and the text, then asserts (so a failure leaks nothing). */
static void expect_table(adm_table_t *t, const char *want)
{
    char *text = NULL, got[4096] = "";
    sm_err_t err = adm_table_render(t, &text);

    if (text != NULL)
        snprintf(got, sizeof(got), "%s", text);
    free(text);
    adm_table_free(t);
    cr_assert_eq(err, SM_OK, "render error %d", err);
    cr_assert_str_eq(got, want);
}

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

/* ---- adm_table ----------------------------------------------------------------------------- */

Test(adm_table, pads_columns_to_the_widest_cell_without_trailing_blanks)
{
    static const char *const cols[] = {"ID", "NAME", "X"};
    adm_table_t *t = NULL;

    cr_assert_eq(adm_table_new(3, cols, &t), SM_OK);
    adm_table_row(t);
    adm_table_cell(t, "1");
    adm_table_cell(t, "alpha");
    adm_table_cell(t, "");
    adm_table_row(t);
    adm_table_cellf(t, "%d", 100);
    adm_table_cell(t, "b");
    adm_table_cell(t, "yes");
    cr_assert_eq(adm_table_rows(t), 2);
    expect_table(t, "ID   NAME   X\n"
                    "1    alpha\n"
                    "100  b      yes\n");
}

Test(adm_table, renders_only_the_header_when_empty)
{
    static const char *const cols[] = {"PARTITION", "LEADER"};
    adm_table_t *t = NULL;

    cr_assert_eq(adm_table_new(2, cols, &t), SM_OK);
    cr_assert_eq(adm_table_rows(t), 0);
    expect_table(t, "PARTITION  LEADER\n");
}

Test(adm_table, leaves_missing_cells_empty)
{
    static const char *const cols[] = {"A", "B", "C"};
    adm_table_t *t = NULL;

    cr_assert_eq(adm_table_new(3, cols, &t), SM_OK);
    adm_table_row(t);
    adm_table_cell(t, "x");
    adm_table_row(t);
    adm_table_cell(t, "y");
    adm_table_cell(t, "long");
    expect_table(t, "A  B     C\n"
                    "x\n"
                    "y  long\n");
}

Test(adm_table, refuses_a_cell_beyond_the_last_column)
{
    static const char *const cols[] = {"A"};
    adm_table_t *t = NULL;
    char *out = NULL;
    sm_err_t err;

    cr_assert_eq(adm_table_new(1, cols, &t), SM_OK);
    adm_table_row(t);
    adm_table_cell(t, "1");
    adm_table_cell(t, "2");
    err = adm_table_render(t, &out);
    adm_table_free(t);
    cr_assert_eq(err, SM_ERR_INVALID);
    cr_assert_null(out);
}

Test(adm_table, grows_past_its_first_allocation)
{
    static const char *const cols[] = {"N"};
    adm_table_t *t = NULL;
    char *out = NULL, head[8] = "", tail[8] = "";
    sm_err_t err;

    cr_assert_eq(adm_table_new(1, cols, &t), SM_OK);
    for (int i = 0; i < 1000; i++) {
        adm_table_row(t);
        adm_table_cellf(t, "%d", i);
    }
    err = adm_table_render(t, &out);
    if (out != NULL && strlen(out) > 8) {
        snprintf(head, sizeof(head), "%.6s", out);
        snprintf(tail, sizeof(tail), "%s", out + strlen(out) - 4);
    }
    free(out);
    adm_table_free(t);
    cr_assert_eq(err, SM_OK);
    cr_assert_str_eq(head, "N\n0\n1\n");
    cr_assert_str_eq(tail, "999\n");
}

Test(adm_table, rejects_zero_columns)
{
    adm_table_t *t = NULL;

    cr_assert_eq(adm_table_new(0, NULL, &t), SM_ERR_INVALID);
    cr_assert_null(t);
}

/* ---- topics -------------------------------------------------------------------------------- */

/* A topic built in memory: 3 partitions (given out of order), replicas on brokers 1..3,
 * partition 2 without a state node, partition 1 under-replicated with leader 3. */
typedef struct fixture {
    int32_t r0[3], r1[3], r2[3];
    int32_t isr0[3], isr1[2];
    uint8_t id[16];
    Samsa__PartitionAssignment pa[3];
    Samsa__PartitionAssignment *pas[3];
    Samsa__TopicAssignment ta;
    Samsa__PartitionState ps0, ps1;
    Samsa__PartitionState *states[3];
    Samsa__ConfigEntry ce;
    Samsa__ConfigEntry *ces[1];
    Samsa__TopicConfig tc;
    adm_topic_t t;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    const int32_t r0[3] = {1, 2, 3}, r1[3] = {2, 3, 1}, r2[3] = {3, 1, 2};

    memset(f, 0, sizeof(*f));
    memcpy(f->r0, r0, sizeof(r0));
    memcpy(f->r1, r1, sizeof(r1));
    memcpy(f->r2, r2, sizeof(r2));
    f->isr0[0] = 1;
    f->isr0[1] = 2;
    f->isr0[2] = 3;
    f->isr1[0] = 3;
    f->isr1[1] = 1;
    for (int i = 0; i < 3; i++) {
        samsa__partition_assignment__init(&f->pa[i]);
        f->pa[i].has_partition = 1;
        f->pa[i].n_replicas = 3;
    }
    /* Stored out of order: 2, 0, 1. */
    f->pa[0].partition = 2;
    f->pa[0].replicas = f->r2;
    f->pa[1].partition = 0;
    f->pa[1].replicas = f->r0;
    f->pa[2].partition = 1;
    f->pa[2].replicas = f->r1;
    for (int i = 0; i < 3; i++)
        f->pas[i] = &f->pa[i];
    samsa__topic_assignment__init(&f->ta);
    f->id[0] = 0x11;
    f->id[15] = 0x22;
    f->ta.has_topic_id = 1;
    f->ta.topic_id.len = 16;
    f->ta.topic_id.data = f->id;
    f->ta.n_partitions = 3;
    f->ta.partitions = f->pas;
    samsa__partition_state__init(&f->ps0);
    f->ps0.has_leader = 1;
    f->ps0.leader = 1;
    f->ps0.has_leader_epoch = 1;
    f->ps0.leader_epoch = 0;
    f->ps0.n_isr = 3;
    f->ps0.isr = f->isr0;
    samsa__partition_state__init(&f->ps1);
    f->ps1.has_leader = 1;
    f->ps1.leader = 3;
    f->ps1.has_leader_epoch = 1;
    f->ps1.leader_epoch = 2;
    f->ps1.n_isr = 2;
    f->ps1.isr = f->isr1;
    /* states parallel to the stored (unsorted) order: 2 -> none, 0 -> ps0, 1 -> ps1 */
    f->states[0] = NULL;
    f->states[1] = &f->ps0;
    f->states[2] = &f->ps1;
    samsa__config_entry__init(&f->ce);
    f->ce.name = "retention.ms";
    f->ce.value = "1000";
    f->ces[0] = &f->ce;
    samsa__topic_config__init(&f->tc);
    f->tc.n_configs = 1;
    f->tc.configs = f->ces;
    f->t.name = "orders";
    f->t.assign = &f->ta;
    f->t.states = f->states;
    adm_topics_sort(&f->t);
}

Test(adm_topics, sorts_partitions_and_keeps_states_with_them)
{
    fixture_t f;

    fixture_init(&f);
    cr_assert_eq(f.t.assign->partitions[0]->partition, 0);
    cr_assert_eq(f.t.assign->partitions[1]->partition, 1);
    cr_assert_eq(f.t.assign->partitions[2]->partition, 2);
    cr_assert_eq(f.t.states[0], &f.ps0);
    cr_assert_eq(f.t.states[1], &f.ps1);
    cr_assert_null(f.t.states[2]);
}

Test(adm_topics, describe_json_has_the_design_shape_with_minus_one_for_no_leader)
{
    fixture_t f;
    adm_json_t j;

    fixture_init(&f);
    adm_json_init(&j);
    adm_topics_json(&j, &f.t, NULL);
    expect_json(&j, "{\"topic\": \"orders\", \"topic_id\": \"EQAAAAAAAAAAAAAAAAAAIg\", "
                    "\"partitions\": ["
                    "{\"partition\": 0, \"leader\": 1, \"leader_epoch\": 0, \"replicas\": [1, 2, "
                    "3], \"isr\": [1, 2, 3]}, "
                    "{\"partition\": 1, \"leader\": 3, \"leader_epoch\": 2, \"replicas\": [2, 3, "
                    "1], \"isr\": [3, 1]}, "
                    "{\"partition\": 2, \"leader\": -1, \"leader_epoch\": -1, \"replicas\": [3, 1, "
                    "2], \"isr\": []}]}");
}

Test(adm_topics, describe_json_gives_null_topic_id_when_absent)
{
    fixture_t f;
    adm_json_t j;

    fixture_init(&f);
    f.ta.has_topic_id = 0;
    f.ta.n_partitions = 0;
    adm_json_init(&j);
    adm_topics_json(&j, &f.t, NULL);
    expect_json(&j, "{\"topic\": \"orders\", \"topic_id\": null, \"partitions\": []}");
}

Test(adm_topics, under_replicated_filter_keeps_partitions_with_a_short_isr)
{
    fixture_t f;
    adm_topics_filter_t filt = {.under_replicated = true};
    adm_json_t j;

    fixture_init(&f);
    adm_json_init(&j);
    adm_topics_json(&j, &f.t, &filt);
    expect_json(&j, "{\"topic\": \"orders\", \"topic_id\": \"EQAAAAAAAAAAAAAAAAAAIg\", "
                    "\"partitions\": ["
                    "{\"partition\": 1, \"leader\": 3, \"leader_epoch\": 2, \"replicas\": [2, 3, "
                    "1], \"isr\": [3, 1]}, "
                    "{\"partition\": 2, \"leader\": -1, \"leader_epoch\": -1, \"replicas\": [3, 1, "
                    "2], \"isr\": []}]}");
}

Test(adm_topics, unavailable_filter_counts_dead_leaders_as_unavailable)
{
    fixture_t f;
    int32_t live[] = {1, 2};
    adm_topics_filter_t filt = {.unavailable = true, .live = live, .n_live = 2};

    fixture_init(&f);
    cr_assert_not(adm_topics_partition_shown(&f.t, 0, &filt)); /* leader 1 is live */
    cr_assert(adm_topics_partition_shown(&f.t, 1, &filt));     /* leader 3 is not */
    cr_assert(adm_topics_partition_shown(&f.t, 2, &filt));     /* no leader */
    filt.live = NULL;
    cr_assert_not(adm_topics_partition_shown(&f.t, 1, &filt)); /* liveness unknown */
}

Test(adm_topics, under_replicated_filter_skips_a_full_isr_in_any_order)
{
    fixture_t f;
    adm_topics_filter_t filt = {.under_replicated = true};

    fixture_init(&f);
    f.isr0[0] = 3;
    f.isr0[2] = 1; /* [3, 2, 1]: every replica, not in assignment order */
    cr_assert_not(adm_topics_partition_shown(&f.t, 0, &filt));
    cr_assert(adm_topics_partition_shown(&f.t, 1, &filt));
}

Test(adm_topics, topic_without_a_matching_partition_is_filtered_out)
{
    fixture_t f;
    int32_t live[] = {1, 2, 3};
    adm_topics_filter_t under = {.under_replicated = true};
    adm_topics_filter_t unavail = {.unavailable = true, .live = live, .n_live = 3};

    fixture_init(&f);
    cr_assert_not(adm_topics_filtered_out(&f.t, NULL));
    cr_assert_not(adm_topics_filtered_out(&f.t, &under));
    cr_assert_not(adm_topics_filtered_out(&f.t, &unavail)); /* partition 2 has no leader */
    f.ta.n_partitions = 2;                                  /* drop partition 2 */
    cr_assert(adm_topics_filtered_out(&f.t, &unavail));
    f.ps1.n_isr = 0;
    f.isr0[0] = 1;
    cr_assert_not(adm_topics_filtered_out(&f.t, &under));
    f.ta.n_partitions = 1; /* only partition 0, whose ISR is full */
    cr_assert(adm_topics_filtered_out(&f.t, &under));
    cr_assert_not(adm_topics_filtered_out(&f.t, &(adm_topics_filter_t){0}));
}

Test(adm_topics, describe_table_shows_none_for_a_missing_leader)
{
    fixture_t f;
    adm_table_t *t = NULL;

    fixture_init(&f);
    cr_assert_eq(adm_topics_table_new(&t), SM_OK);
    adm_topics_table_rows(t, &f.t, NULL);
    expect_table(t, "PARTITION  LEADER  LEADER_EPOCH  REPLICAS  ISR\n"
                    "0          1       0             1,2,3     1,2,3\n"
                    "1          3       2             2,3,1     3,1\n"
                    "2          none    -             3,1,2\n");
}

Test(adm_topics, summary_names_id_counts_configs_and_deletion)
{
    fixture_t f;
    char *s, plain[256] = "", full[256] = "";

    fixture_init(&f);
    s = adm_topics_summary(&f.t);
    snprintf(plain, sizeof(plain), "%s", s ? s : "(null)");
    free(s);
    f.t.config = &f.tc;
    f.t.marked_for_deletion = true;
    s = adm_topics_summary(&f.t);
    snprintf(full, sizeof(full), "%s", s ? s : "(null)");
    free(s);
    cr_assert_str_eq(plain, "Topic: orders  TopicId: EQAAAAAAAAAAAAAAAAAAIg  PartitionCount: 3  "
                            "ReplicationFactor: 3");
    cr_assert_str_eq(full,
                     "Topic: orders  TopicId: EQAAAAAAAAAAAAAAAAAAIg  PartitionCount: 3  "
                     "ReplicationFactor: 3  Configs: retention.ms=1000  MarkedForDeletion: true");
}

/* ---- brokers and controller ---------------------------------------------------------------- */

Test(adm_brokers, list_json_keeps_the_design_keys_first)
{
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT, ctl = SAMSA__ENDPOINT__INIT;
    Samsa__Endpoint *eps[1] = {&ep};
    Samsa__BrokerRegistration reg = SAMSA__BROKER_REGISTRATION__INIT;
    adm_broker_t b = {.id = 1, .epoch = 4294967321, .reg = &reg};
    adm_json_t j;

    ep.listener = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.has_port = 1;
    ep.port = 9092;
    ctl.listener = "CONTROL";
    ctl.host = "127.0.0.1";
    ctl.has_port = 1;
    ctl.port = 9093;
    reg.has_broker_id = 1;
    reg.broker_id = 1;
    reg.n_endpoints = 1;
    reg.endpoints = eps;
    reg.control_endpoint = &ctl;
    reg.has_start_time_ms = 1;
    reg.start_time_ms = 1714564800123;
    adm_json_init(&j);
    adm_json_array_begin(&j);
    adm_brokers_json(&j, &b);
    adm_json_array_end(&j);
    expect_json(&j, "[{\"id\": 1, \"endpoints\": [\"PLAINTEXT://127.0.0.1:9092\"], \"rack\": null, "
                    "\"control_endpoint\": \"127.0.0.1:9093\", \"broker_epoch\": 4294967321, "
                    "\"start_time_ms\": 1714564800123, \"up_since\": "
                    "\"2024-05-01T12:00:00.123Z\"}]");
}

Test(adm_brokers, list_table_shows_rack_and_up_since)
{
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT;
    Samsa__Endpoint *eps[1] = {&ep};
    Samsa__BrokerRegistration reg = SAMSA__BROKER_REGISTRATION__INIT;
    adm_broker_t b = {.id = 12, .epoch = 77, .reg = &reg};
    adm_table_t *t = NULL;

    ep.listener = "PLAINTEXT";
    ep.host = "::1";
    ep.has_port = 1;
    ep.port = 9092;
    reg.n_endpoints = 1;
    reg.endpoints = eps;
    reg.rack = "r1";
    cr_assert_eq(adm_brokers_table_new(&t), SM_OK);
    adm_brokers_table_row(t, &b);
    expect_table(t, "ID  ENDPOINTS               CONTROL  RACK  EPOCH  UP_SINCE\n"
                    "12  PLAINTEXT://[::1]:9092  -        r1    77     -\n");
}

Test(adm_controller, json_has_the_design_shape_and_falls_back_to_ctime)
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
    reg.has_epoch = 1;
    reg.epoch = 7;
    reg.endpoint = &ep;
    adm_json_init(&j);
    adm_controller_json(&j, &reg, 1714564800000);
    expect_json(&j, "{\"id\": 1, \"epoch\": 7, \"endpoint\": \"127.0.0.1:9190\", \"since_ms\": "
                    "1714564800000, \"since\": \"2024-05-01T12:00:00.000Z\"}");
}

/* ---- adm_out ------------------------------------------------------------------------------- */

Test(adm_out, formats_id_lists_and_truncates_long_ones)
{
    int32_t ids[] = {1, 22, 333};
    char buf[64], small[8];

    adm_out_ids(ids, 3, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1,22,333");
    adm_out_ids(ids, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
    adm_out_ids(ids, 3, small, sizeof(small));
    cr_assert_str_eq(small, "1,22...");
}

Test(adm_out, formats_times_and_endpoints)
{
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT;
    char buf[64];

    adm_out_time(0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "-");
    adm_out_time(1000, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1970-01-01T00:00:01.000Z");
    ep.host = "10.0.0.1";
    ep.has_port = 1;
    ep.port = 1;
    adm_out_endpoint(&ep, buf, sizeof(buf));
    cr_assert_str_eq(buf, "10.0.0.1:1");
    ep.listener = "SSL";
    adm_out_endpoint(&ep, buf, sizeof(buf));
    cr_assert_str_eq(buf, "SSL://10.0.0.1:1");
    adm_out_endpoint(NULL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "-");
}

Test(adm_out, names_kafka_error_codes)
{
    cr_assert_str_eq(adm_out_kafka_error(36), "TOPIC_ALREADY_EXISTS");
    cr_assert_str_eq(adm_out_kafka_error(38), "INVALID_REPLICATION_FACTOR");
    cr_assert_str_eq(adm_out_kafka_error(12345), "UNKNOWN_SERVER_ERROR");
}
