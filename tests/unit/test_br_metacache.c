/*
 * Unit tests for br_metacache: UpdateMetadata requests built in memory (full and partial),
 * then the lookups the Kafka Metadata API will use. Each test builds its requests with the
 * um_* helpers below, whose storage lives in the fixture, so nothing leaks on failure.
 */
#include "broker/br_metacache.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sm_log.h"

#define MAXT 8
#define MAXP 8
#define MAXB 8

/* A request under construction: fixed-size storage for topics, partitions and brokers. */
typedef struct um {
    Samsa__UpdateMetadataRequest req;
    Samsa__UpdateMetadataTopicState ts[MAXT];
    Samsa__UpdateMetadataTopicState *tsp[MAXT];
    Samsa__UpdateMetadataPartitionState ps[MAXT][MAXP];
    Samsa__UpdateMetadataPartitionState *psp[MAXT][MAXP];
    int32_t replicas[MAXT][MAXP][3];
    uint8_t ids[MAXT][16];
    Samsa__LiveBroker lb[MAXB];
    Samsa__LiveBroker *lbp[MAXB];
    Samsa__Endpoint ep[MAXB];
    Samsa__Endpoint *epp[MAXB];
    Samsa__Endpoint ctl[MAXB];
    char hosts[MAXB][32];
} um_t;

static um_t U;
static br_metacache_t *mc;
static sm_errbuf_t eb;

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
    memset(&U, 0, sizeof(U));
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
}

static void teardown(void)
{
    br_metacache_free(mc);
    mc = NULL;
}

TestSuite(br_metacache, .init = setup, .fini = teardown);

static void um_reset(bool full)
{
    memset(&U, 0, sizeof(U));
    samsa__update_metadata_request__init(&U.req);
    U.req.has_full = true;
    U.req.full = full;
    U.req.has_controller_id = true;
    U.req.controller_id = 7;
    U.req.topic_states = U.tsp;
    U.req.live_brokers = U.lbp;
}

static void um_broker(int32_t id, const char *rack)
{
    size_t i = U.req.n_live_brokers++;

    samsa__live_broker__init(&U.lb[i]);
    samsa__endpoint__init(&U.ep[i]);
    samsa__endpoint__init(&U.ctl[i]);
    snprintf(U.hosts[i], sizeof(U.hosts[i]), "host%d", (int)id);
    U.ep[i].listener = "PLAINTEXT";
    U.ep[i].host = U.hosts[i];
    U.ep[i].has_port = true;
    U.ep[i].port = 9090 + id;
    U.ctl[i].listener = "CONTROL";
    U.ctl[i].host = U.hosts[i];
    U.ctl[i].has_port = true;
    U.ctl[i].port = 9190 + id;
    U.epp[i] = &U.ep[i];
    U.lb[i].has_broker_id = true;
    U.lb[i].broker_id = id;
    U.lb[i].n_endpoints = 1;
    U.lb[i].endpoints = &U.epp[i];
    U.lb[i].control_endpoint = &U.ctl[i];
    U.lb[i].rack = (char *)rack;
    U.lbp[i] = &U.lb[i];
}

/* Adds a topic with id byte `idb` (0: no id) and returns its index. */
static size_t um_topic(const char *name, uint8_t idb)
{
    size_t t = U.req.n_topic_states++;

    samsa__update_metadata_topic_state__init(&U.ts[t]);
    U.ts[t].topic = (char *)name;
    if (idb != 0) {
        memset(U.ids[t], idb, 16);
        U.ts[t].has_topic_id = true;
        U.ts[t].topic_id.data = U.ids[t];
        U.ts[t].topic_id.len = 16;
    }
    U.ts[t].partitions = U.psp[t];
    U.tsp[t] = &U.ts[t];
    return t;
}

static void um_part(size_t t, int32_t p, int32_t leader, int32_t epoch)
{
    size_t i = U.ts[t].n_partitions++;
    Samsa__UpdateMetadataPartitionState *ps = &U.ps[t][i];

    samsa__update_metadata_partition_state__init(ps);
    ps->has_partition = true;
    ps->partition = p;
    ps->has_leader = true;
    ps->leader = leader;
    ps->has_leader_epoch = true;
    ps->leader_epoch = epoch;
    U.replicas[t][i][0] = leader < 0 ? 1 : leader;
    U.replicas[t][i][1] = 2;
    U.replicas[t][i][2] = 3;
    ps->n_replicas = 3;
    ps->replicas = U.replicas[t][i];
    ps->n_isr = 2;
    ps->isr = U.replicas[t][i];
    ps->n_offline_replicas = 1;
    ps->offline_replicas = &U.replicas[t][i][2];
    U.psp[t][i] = ps;
}

static void um_apply(void)
{
    cr_assert_eq(br_metacache_update(mc, &U.req, &eb), SM_OK, "%s", eb.msg);
}

Test(br_metacache, starts_empty_and_not_ready)
{
    cr_assert_not(br_metacache_ready(mc));
    cr_assert_eq(br_metacache_controller_id(mc), -1);
    cr_assert_eq(br_metacache_broker_count(mc), 0);
    cr_assert_eq(br_metacache_topic_count(mc), 0);
    cr_assert_null(br_metacache_topic(mc, "x"));
    cr_assert_null(br_metacache_partition(mc, "x", 0));
    cr_assert_null(br_metacache_broker(mc, 1));
}

Test(br_metacache, full_update_stores_brokers_topics_and_partitions)
{
    const br_metacache_broker_t *b;
    const br_metacache_topic_t *t;
    const br_metacache_partition_t *p;
    size_t o;

    um_reset(true);
    um_broker(3, NULL);
    um_broker(1, "r1");
    um_broker(2, "r2");
    o = um_topic("orders", 0xab);
    um_part(o, 1, 2, 4);
    um_part(o, 0, 1, 3);
    um_part(um_topic("audit", 0xcd), 0, 3, 0);
    um_apply();

    cr_assert(br_metacache_ready(mc));
    cr_assert_eq(br_metacache_controller_id(mc), 7);
    cr_assert_eq(br_metacache_broker_count(mc), 3);
    cr_assert_eq(br_metacache_broker_at(mc, 0)->id, 1, "brokers are sorted by id");
    cr_assert_eq(br_metacache_broker_at(mc, 2)->id, 3);
    b = br_metacache_broker(mc, 2);
    cr_assert_not_null(b);
    cr_assert_str_eq(b->rack, "r2");
    cr_assert_eq(b->n_endpoints, 1);
    cr_assert_str_eq(b->endpoints[0].listener, "PLAINTEXT");
    cr_assert_str_eq(b->endpoints[0].host, "host2");
    cr_assert_eq(b->endpoints[0].port, 9092);
    cr_assert_eq(b->control.port, 9192);
    cr_assert_null(br_metacache_broker(mc, 3)->rack);

    cr_assert_eq(br_metacache_topic_count(mc), 2);
    cr_assert_str_eq(br_metacache_topic_at(mc, 0)->name, "audit", "topics are sorted by name");
    t = br_metacache_topic(mc, "orders");
    cr_assert_not_null(t);
    cr_assert_eq(t->id.b[0], 0xab);
    cr_assert_eq(t->n_partitions, 2);
    cr_assert_eq(t->partitions[0].partition, 0, "partitions are sorted");
    p = br_metacache_partition(mc, "orders", 1);
    cr_assert_not_null(p);
    cr_assert_eq(p->leader, 2);
    cr_assert_eq(p->leader_epoch, 4);
    cr_assert_eq(p->n_replicas, 3);
    cr_assert_eq(p->replicas[1], 2);
    cr_assert_eq(p->n_isr, 2);
    cr_assert_eq(p->n_offline_replicas, 1);
    cr_assert_eq(p->offline_replicas[0], 3);
    cr_assert_null(br_metacache_partition(mc, "orders", 2));
    cr_assert_eq(br_metacache_partition_count(mc), 3);
    cr_assert_eq(br_metacache_topic_by_id(mc, &t->id), t);
}

Test(br_metacache, full_update_drops_topics_it_does_not_list)
{
    um_reset(true);
    um_broker(1, NULL);
    um_part(um_topic("a", 1), 0, 1, 0);
    um_part(um_topic("b", 2), 0, 1, 0);
    um_apply();
    um_reset(true);
    um_broker(1, NULL);
    um_part(um_topic("b", 2), 0, 1, 1);
    um_apply();
    cr_assert_null(br_metacache_topic(mc, "a"));
    cr_assert_eq(br_metacache_partition(mc, "b", 0)->leader_epoch, 1);
    cr_assert_eq(br_metacache_topic_count(mc), 1);
}

Test(br_metacache, partial_update_merges_partitions_and_keeps_other_topics)
{
    size_t t;

    um_reset(true);
    um_broker(1, NULL);
    t = um_topic("a", 1);
    um_part(t, 0, 1, 0);
    um_part(t, 1, 1, 0);
    um_part(um_topic("b", 2), 0, 1, 0);
    um_apply();

    um_reset(false);
    t = um_topic("a", 1);
    um_part(t, 1, 2, 5);
    um_part(t, 2, 3, 0);
    um_apply();
    cr_assert_eq(br_metacache_topic(mc, "a")->n_partitions, 3);
    cr_assert_eq(br_metacache_partition(mc, "a", 0)->leader, 1, "untouched partition kept");
    cr_assert_eq(br_metacache_partition(mc, "a", 1)->leader, 2);
    cr_assert_eq(br_metacache_partition(mc, "a", 1)->leader_epoch, 5);
    cr_assert_eq(br_metacache_partition(mc, "a", 2)->leader, 3);
    cr_assert_not_null(br_metacache_topic(mc, "b"), "topic not named is kept");
    cr_assert_eq(br_metacache_broker_count(mc), 1, "no live brokers listed: brokers kept");
}

Test(br_metacache, partition_with_leader_minus_two_is_removed_and_empty_topic_goes)
{
    size_t t;

    um_reset(true);
    um_broker(1, NULL);
    t = um_topic("doomed", 9);
    um_part(t, 0, 1, 0);
    um_part(t, 1, 1, 0);
    um_apply();

    um_reset(false);
    um_part(um_topic("doomed", 9), 0, BR_METACACHE_LEADER_DELETING, 0);
    um_apply();
    cr_assert_null(br_metacache_partition(mc, "doomed", 0));
    cr_assert_not_null(br_metacache_partition(mc, "doomed", 1));

    um_reset(false);
    um_part(um_topic("doomed", 9), 1, BR_METACACHE_LEADER_DELETING, 0);
    um_apply();
    cr_assert_null(br_metacache_topic(mc, "doomed"));
    cr_assert_eq(br_metacache_topic_count(mc), 0);
    cr_assert_eq(br_metacache_partition_count(mc), 0);
}

Test(br_metacache, full_update_never_stores_a_topic_being_deleted)
{
    um_reset(true);
    um_broker(1, NULL);
    um_part(um_topic("gone", 3), 0, BR_METACACHE_LEADER_DELETING, 0);
    um_apply();
    cr_assert_null(br_metacache_topic(mc, "gone"));
}

Test(br_metacache, new_topic_id_replaces_the_topic_of_the_same_name)
{
    size_t t;

    um_reset(true);
    um_broker(1, NULL);
    t = um_topic("t", 1);
    um_part(t, 0, 1, 3);
    um_part(t, 1, 1, 3);
    um_apply();

    um_reset(false);
    um_part(um_topic("t", 2), 0, 2, 0);
    um_apply();
    cr_assert_eq(br_metacache_topic(mc, "t")->id.b[0], 2);
    cr_assert_eq(br_metacache_topic(mc, "t")->n_partitions, 1, "old partitions dropped");
    cr_assert_eq(br_metacache_partition(mc, "t", 0)->leader_epoch, 0);
}

Test(br_metacache, partial_update_with_brokers_replaces_the_live_brokers)
{
    um_reset(true);
    um_broker(1, NULL);
    um_broker(2, NULL);
    um_apply();
    um_reset(false);
    um_broker(2, NULL);
    um_broker(4, NULL);
    um_apply();
    cr_assert_eq(br_metacache_broker_count(mc), 2);
    cr_assert_null(br_metacache_broker(mc, 1));
    cr_assert_not_null(br_metacache_broker(mc, 4));
}

Test(br_metacache, duplicate_broker_ids_keep_the_last)
{
    um_reset(true);
    um_broker(5, "first");
    um_broker(5, "second");
    um_apply();
    cr_assert_eq(br_metacache_broker_count(mc), 1);
    cr_assert_str_eq(br_metacache_broker(mc, 5)->rack, "second");
}

Test(br_metacache, malformed_request_changes_nothing)
{
    size_t t;

    um_reset(true);
    um_broker(1, NULL);
    um_part(um_topic("keep", 1), 0, 1, 0);
    um_apply();

    um_reset(true);
    um_broker(2, NULL);
    t = um_topic("x", 1);
    um_part(t, 0, 1, 0);
    U.ts[t].topic_id.len = 15;
    cr_assert_eq(br_metacache_update(mc, &U.req, &eb), SM_ERR_INVALID);
    cr_assert(strstr(eb.msg, "topic id") != NULL, "%s", eb.msg);

    um_reset(true);
    um_part(um_topic(NULL, 1), 0, 1, 0);
    cr_assert_eq(br_metacache_update(mc, &U.req, &eb), SM_ERR_INVALID);

    um_reset(true);
    um_part(um_topic("y", 1), -1, 1, 0);
    cr_assert_eq(br_metacache_update(mc, &U.req, &eb), SM_ERR_INVALID);

    cr_assert_not_null(br_metacache_topic(mc, "keep"));
    cr_assert_null(br_metacache_topic(mc, "x"));
    cr_assert_not_null(br_metacache_broker(mc, 1));
    cr_assert_null(br_metacache_broker(mc, 2));
}

Test(br_metacache, topic_without_id_keeps_the_known_id)
{
    um_reset(true);
    um_broker(1, NULL);
    um_part(um_topic("t", 7), 0, 1, 0);
    um_apply();
    um_reset(false);
    um_part(um_topic("t", 0), 0, 1, 1);
    um_apply();
    cr_assert_eq(br_metacache_topic(mc, "t")->id.b[0], 7);
    cr_assert_eq(br_metacache_partition(mc, "t", 0)->leader_epoch, 1);
}

Test(br_metacache, sparse_partition_indexes_are_found)
{
    size_t t;

    um_reset(true);
    um_broker(1, NULL);
    t = um_topic("s", 1);
    um_part(t, 7, 1, 0);
    um_part(t, 3, 1, 0);
    um_part(t, 5, 1, 0);
    um_apply();
    cr_assert_not_null(br_metacache_partition(mc, "s", 3));
    cr_assert_not_null(br_metacache_partition(mc, "s", 5));
    cr_assert_not_null(br_metacache_partition(mc, "s", 7));
    cr_assert_null(br_metacache_partition(mc, "s", 0));
    cr_assert_null(br_metacache_partition(mc, "s", 4));
    cr_assert_eq(br_metacache_topic(mc, "s")->partitions[0].partition, 3);
}

Test(br_metacache, many_topics_stay_sorted_and_found)
{
    char names[MAXT][8];
    const char *order = "hcafgbed";

    um_reset(true);
    um_broker(1, NULL);
    for (int i = 0; i < MAXT; i++) {
        snprintf(names[i], sizeof(names[i]), "%c", order[i]);
        um_part(um_topic(names[i], (uint8_t)(i + 1)), 0, 1, 0);
    }
    um_apply();
    cr_assert_eq(br_metacache_topic_count(mc), MAXT);
    for (size_t i = 1; i < MAXT; i++)
        cr_assert_lt(
            strcmp(br_metacache_topic_at(mc, i - 1)->name, br_metacache_topic_at(mc, i)->name), 0);
    for (int i = 0; i < MAXT; i++)
        cr_assert_not_null(br_metacache_topic(mc, names[i]));
    cr_assert_null(br_metacache_topic_at(mc, MAXT));
}
