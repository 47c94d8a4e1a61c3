/*
 * test_ctl_batch: the requests the controller builds from its model: per broker the order
 * LeaderAndIsr, UpdateMetadata, StopReplica; envelope fencing fields; partition details taken
 * from the model at flush time; leader -2 for topics being deleted; full updates listing
 * every topic; dead brokers skipped.
 */
#include "controller/ctl_batch.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SENT 32

typedef struct sent {
    int32_t broker;
    Samsa__RpcType type;
    size_t n_parts;
    Samsa__Envelope *env;
} sent_t;

typedef struct sink {
    sent_t s[MAX_SENT];
    size_t n;
} sink_t;

static void collect(void *arg, int32_t broker, Samsa__RpcType type, const uint8_t *env, size_t len,
                    size_t n_parts)
{
    sink_t *k = arg;

    cr_assert_lt(k->n, MAX_SENT);
    k->s[k->n] = (sent_t){broker, type, n_parts, samsa__envelope__unpack(NULL, len, env)};
    cr_assert_not_null(k->s[k->n].env);
    k->n++;
}

static void sink_free(sink_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        samsa__envelope__free_unpacked(k->s[i].env, NULL);
    k->n = 0;
}

static void add_broker(ctl_model_t *m, int32_t id, int64_t epoch)
{
    ctl_broker_t b = {.id = id, .epoch = epoch};
    ctl_model_change_t ch;

    b.endpoints = calloc(1, sizeof(*b.endpoints));
    b.n_endpoints = 1;
    b.endpoints[0].listener = strdup("PLAINTEXT");
    b.endpoints[0].host = strdup("127.0.0.1");
    b.endpoints[0].port = 9000 + id;
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
}

/* Topic t: partition 0 on [1,2] led by 1, partition 1 on [2,3] led by 2 (ISR [2]). */
static ctl_topic_t *add_topic(ctl_model_t *m, const char *name)
{
    static const int32_t r0[] = {1, 2}, r1[] = {2, 3}, isr0[] = {1, 2}, isr1[] = {2};
    ctl_assignment_t a[] = {{r0, 2, NULL, 0, NULL, 0}, {r1, 2, NULL, 0, NULL, 0}};
    ctl_pstate_t s0 = {.leader = 1,
                       .leader_epoch = 3,
                       .controller_epoch = 5,
                       .isr = isr0,
                       .n_isr = 2,
                       .zk_version = 7};
    ctl_pstate_t s1 = {.leader = 2,
                       .leader_epoch = 1,
                       .controller_epoch = 5,
                       .isr = isr1,
                       .n_isr = 1,
                       .zk_version = 2};
    sm_uuid_t id = SM_UUID_ZERO;
    ctl_model_change_t ch;
    ctl_topic_t *t;

    id.b[0] = (uint8_t)name[0];
    cr_assert_eq(ctl_model_topic_put(m, name, &id, a, 2, &ch, &t), SM_OK);
    cr_assert_eq(ctl_model_state_set(&t->parts[0], &s0), SM_OK);
    cr_assert_eq(ctl_model_state_set(&t->parts[1], &s1), SM_OK);
    return t;
}

Test(ctl_batch, sends_leader_and_isr_then_update_then_stop_with_fencing_fields)
{
    ctl_model_t *m;
    ctl_batch_t *b;
    sink_t k = {0};

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    add_broker(m, 1, 101);
    add_broker(m, 2, 102);
    add_topic(m, "t");
    cr_assert_eq(ctl_batch_new(m, &b), SM_OK);
    cr_assert_eq(ctl_batch_stop_replica(b, 1, "t", 1, false), SM_OK);
    cr_assert_eq(ctl_batch_update_metadata(b, "t", 0), SM_OK);
    cr_assert_eq(ctl_batch_leader_and_isr(b, 1, "t", 0, true), SM_OK);
    cr_assert_eq(ctl_batch_flush(b, 9, 4, collect, &k), SM_OK);
    cr_assert(ctl_batch_empty(b));

    cr_assert_eq(k.n, 4);
    cr_expect(k.s[0].broker == 1 && k.s[0].type == SAMSA__RPC_TYPE__LEADER_AND_ISR);
    cr_expect(k.s[1].broker == 1 && k.s[1].type == SAMSA__RPC_TYPE__UPDATE_METADATA);
    cr_expect(k.s[2].broker == 1 && k.s[2].type == SAMSA__RPC_TYPE__STOP_REPLICA);
    cr_expect(k.s[3].broker == 2 && k.s[3].type == SAMSA__RPC_TYPE__UPDATE_METADATA);
    for (size_t i = 0; i < k.n; i++) {
        cr_expect_eq(k.s[i].env->controller_epoch, 4);
        cr_expect_eq(k.s[i].env->sender_id, 9);
        cr_expect_eq(k.s[i].env->broker_epoch, 100 + k.s[i].broker);
    }
    {
        const Samsa__LeaderAndIsrRequest *lai = k.s[0].env->leader_and_isr_request;
        const Samsa__LeaderAndIsrPartitionState *ps;

        cr_assert_not_null(lai);
        cr_assert_eq(lai->n_topic_states, 1);
        cr_expect_str_eq(lai->topic_states[0]->topic, "t");
        cr_expect_eq(lai->topic_states[0]->topic_id.len, 16);
        cr_assert_eq(lai->topic_states[0]->n_partitions, 1);
        ps = lai->topic_states[0]->partitions[0];
        cr_expect(ps->partition == 0 && ps->leader == 1 && ps->leader_epoch == 3);
        cr_expect(ps->partition_epoch == 7 && ps->controller_epoch == 5 && ps->is_new);
        cr_expect(ps->n_isr == 2 && ps->n_replicas == 2);
        cr_assert_eq(lai->n_live_leaders, 1);
        cr_expect_eq(lai->live_leaders[0]->broker_id, 1);
        cr_expect_eq(lai->live_leaders[0]->endpoints[0]->port, 9001);
    }
    {
        const Samsa__UpdateMetadataRequest *um = k.s[1].env->update_metadata_request;

        cr_assert_not_null(um);
        cr_expect_not(um->full);
        cr_expect_eq(um->n_live_brokers, 2);
        cr_assert_eq(um->n_topic_states, 1);
        cr_assert_eq(um->topic_states[0]->n_partitions, 1);
        cr_expect_eq(um->topic_states[0]->partitions[0]->leader, 1);
    }
    {
        const Samsa__StopReplicaRequest *sr = k.s[2].env->stop_replica_request;

        cr_assert_not_null(sr);
        cr_assert_eq(sr->n_topic_states, 1);
        cr_assert_eq(sr->topic_states[0]->n_partitions, 1);
        cr_expect_eq(sr->topic_states[0]->partitions[0]->leader_epoch, 1);
        cr_expect_not(sr->topic_states[0]->partitions[0]->delete_partition);
    }
    sink_free(&k);
    ctl_batch_free(b);
    ctl_model_free(m);
}

Test(ctl_batch, full_update_lists_every_topic_and_marks_deletions_and_offline_replicas)
{
    ctl_model_t *m;
    ctl_batch_t *b;
    sink_t k = {0};
    const Samsa__UpdateMetadataRequest *um;
    size_t parts = 0;

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    add_broker(m, 1, 11);
    add_broker(m, 2, 12);
    add_topic(m, "a");
    add_topic(m, "b");
    cr_assert_eq(ctl_model_deletion_add(m, "b"), SM_OK);
    cr_assert_eq(ctl_batch_new(m, &b), SM_OK);
    cr_assert_eq(ctl_batch_update_metadata_full(b, 2), SM_OK);
    cr_assert_eq(ctl_batch_flush(b, 1, 1, collect, &k), SM_OK);
    cr_assert_eq(k.n, 1);
    um = k.s[0].env->update_metadata_request;
    cr_assert_not_null(um);
    cr_expect(um->full);
    cr_assert_eq(um->n_topic_states, 2);
    for (size_t i = 0; i < um->n_topic_states; i++) {
        const Samsa__UpdateMetadataTopicState *ts = um->topic_states[i];

        for (size_t j = 0; j < ts->n_partitions; j++) {
            const Samsa__UpdateMetadataPartitionState *ps = ts->partitions[j];

            parts++;
            if (strcmp(ts->topic, "b") == 0)
                cr_expect_eq(ps->leader, -2);
            else
                cr_expect_neq(ps->leader, -2);
            /* Broker 3 is not live: partition 1 lists it offline. */
            if (ps->partition == 1)
                cr_expect(ps->n_offline_replicas == 1 && ps->offline_replicas[0] == 3);
            else
                cr_expect_eq(ps->n_offline_replicas, 0);
        }
    }
    cr_expect_eq(parts, 4);
    sink_free(&k);
    ctl_batch_free(b);
    ctl_model_free(m);
}

Test(ctl_batch, skips_dead_brokers_dedupes_partitions_and_deletes_with_epoch_minus_2)
{
    ctl_model_t *m;
    ctl_batch_t *b;
    sink_t k = {0};
    const Samsa__StopReplicaPartitionState *ps;

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    add_broker(m, 1, 11);
    add_topic(m, "t");
    cr_assert_eq(ctl_batch_new(m, &b), SM_OK);
    cr_assert_eq(ctl_batch_leader_and_isr(b, 3, "t", 1, false), SM_OK); /* 3 is dead */
    cr_assert_eq(ctl_batch_leader_and_isr(b, 1, "t", 1, false), SM_OK);
    cr_assert_eq(ctl_batch_leader_and_isr(b, 1, "t", 1, true), SM_OK);
    cr_assert_eq(ctl_batch_leader_and_isr(b, 1, "t", 0, false), SM_OK);
    cr_assert_eq(ctl_batch_stop_replica(b, 1, "gone", 4, true), SM_OK);
    cr_assert_eq(ctl_batch_flush(b, 1, 2, collect, &k), SM_OK);
    cr_assert_eq(k.n, 2);
    cr_expect_eq(k.s[0].type, SAMSA__RPC_TYPE__LEADER_AND_ISR);
    cr_expect_eq(k.s[0].n_parts, 2);
    cr_assert_eq(k.s[0].env->leader_and_isr_request->topic_states[0]->n_partitions, 2);
    cr_expect_eq(k.s[0].env->leader_and_isr_request->topic_states[0]->partitions[0]->partition, 0);
    cr_expect(k.s[0].env->leader_and_isr_request->topic_states[0]->partitions[1]->is_new);
    cr_expect_eq(k.s[1].type, SAMSA__RPC_TYPE__STOP_REPLICA);
    ps = k.s[1].env->stop_replica_request->topic_states[0]->partitions[0];
    cr_expect_str_eq(k.s[1].env->stop_replica_request->topic_states[0]->topic, "gone");
    cr_expect(ps->partition == 4 && ps->leader_epoch == -2 && ps->delete_partition);
    sink_free(&k);
    ctl_batch_free(b);
    ctl_model_free(m);
}

Test(ctl_batch, broker_change_alone_sends_live_brokers_to_everyone)
{
    ctl_model_t *m;
    ctl_batch_t *b;
    sink_t k = {0};

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    add_broker(m, 1, 11);
    add_broker(m, 2, 12);
    cr_assert_eq(ctl_batch_new(m, &b), SM_OK);
    ctl_batch_update_brokers(b);
    cr_assert_eq(ctl_batch_flush(b, 1, 2, collect, &k), SM_OK);
    cr_assert_eq(k.n, 2);
    cr_expect_eq(k.s[0].env->update_metadata_request->n_live_brokers, 2);
    cr_expect_eq(k.s[1].env->update_metadata_request->n_topic_states, 0);
    sink_free(&k);
    ctl_batch_free(b);
    ctl_model_free(m);
}
