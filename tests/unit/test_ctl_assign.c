/*
 * test_ctl_assign: Kafka's replica assignment. The expected layouts are the ones Kafka's own
 * documentation and tests give for AdminUtils.assignReplicasToBrokers with a fixed start
 * index, plus the properties the random start must keep (balanced leaders, distinct
 * replicas, one replica per rack when RF equals the number of racks).
 */
#include "controller/ctl_assign.h"

#include <criterion/criterion.h>
#include <string.h>

static void expect_rows(const int32_t *got, const int32_t *want, int32_t n_parts, int32_t rf)
{
    for (int32_t p = 0; p < n_parts; p++) {
        for (int32_t r = 0; r < rf; r++)
            cr_expect_eq(got[p * rf + r], want[p * rf + r], "partition %d replica %d: %d, want %d",
                         p, r, got[p * rf + r], want[p * rf + r]);
    }
}

Test(ctl_assign, round_robin_with_shifted_followers_as_kafka)
{
    ctl_assign_broker_t b[] = {{4, NULL}, {2, NULL}, {0, NULL}, {3, NULL}, {1, NULL}};
    int32_t out[30];
    /* Kafka AdminTest.testReplicaAssignment: brokers 0..4, 10 partitions, RF 3, start 0. */
    static const int32_t want[30] = {0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 0, 4, 0, 1,
                                     0, 2, 3, 1, 3, 4, 2, 4, 0, 3, 0, 1, 4, 1, 2};
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(b, 5, 10, 3, 0, 0, out, &eb), SM_OK, "%s", eb.msg);
    expect_rows(out, want, 10, 3);
}

Test(ctl_assign, start_partition_continues_the_round_robin)
{
    ctl_assign_broker_t b[] = {{0, NULL}, {1, NULL}, {2, NULL}, {3, NULL}, {4, NULL}};
    int32_t all[30], tail[15];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(b, 5, 10, 3, 0, 0, all, &eb), SM_OK);
    cr_assert_eq(ctl_assign_replicas(b, 5, 5, 3, 0, 5, tail, &eb), SM_OK);
    expect_rows(tail, all + 15, 5, 3);
}

Test(ctl_assign, rack_alternated_list_takes_one_broker_per_rack_in_turn)
{
    ctl_assign_broker_t b[] = {{0, "rack1"}, {1, "rack1"}, {2, "rack1"}, {3, "rack2"}, {4, "rack2"},
                               {5, "rack2"}, {6, "rack3"}, {7, "rack3"}, {8, "rack3"}};
    ctl_assign_broker_t uneven[] = {{0, "rack1"}, {1, "rack3"}, {2, "rack3"},
                                    {3, "rack2"}, {4, "rack2"}, {5, "rack1"}};
    static const int32_t want[9] = {0, 3, 6, 1, 4, 7, 2, 5, 8};
    static const int32_t want_uneven[6] = {0, 3, 1, 5, 4, 2};
    int32_t out[9];

    cr_assert_eq(ctl_assign_rack_alternated(b, 9, out), SM_OK);
    expect_rows(out, want, 1, 9);
    cr_assert_eq(ctl_assign_rack_alternated(uneven, 6, out), SM_OK);
    expect_rows(out, want_uneven, 1, 6);
}

Test(ctl_assign, rack_aware_layout_matches_kafkas_documented_example)
{
    /* AdminUtils' comment: alternated list 0,3,1,5,4,2; 7 partitions, RF 3. */
    ctl_assign_broker_t b[] = {{0, "rack1"}, {1, "rack3"}, {2, "rack3"},
                               {3, "rack2"}, {4, "rack2"}, {5, "rack1"}};
    static const int32_t want[21] = {0, 3, 1, 3, 1, 5, 1, 5, 4, 5, 4, 2, 4, 2, 0, 2, 0, 3, 0, 4, 2};
    int32_t out[21];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(b, 6, 7, 3, 0, 0, out, &eb), SM_OK, "%s", eb.msg);
    expect_rows(out, want, 7, 3);
}

static const char *rack_of(const ctl_assign_broker_t *b, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i].id == id)
            return b[i].rack;
    }
    return NULL;
}

Test(ctl_assign, rack_aware_puts_every_replica_in_another_rack_when_rf_equals_racks)
{
    ctl_assign_broker_t b[] = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}, {6, "c"}};
    int32_t out[3 * 60];
    sm_errbuf_t eb = {{0}};

    for (int start = 0; start < 6; start++) {
        cr_assert_eq(ctl_assign_replicas(b, 6, 60, 3, start, 0, out, &eb), SM_OK);
        for (int p = 0; p < 60; p++) {
            const char *r0 = rack_of(b, 6, out[p * 3]), *r1 = rack_of(b, 6, out[p * 3 + 1]),
                       *r2 = rack_of(b, 6, out[p * 3 + 2]);

            cr_expect(strcmp(r0, r1) != 0 && strcmp(r0, r2) != 0 && strcmp(r1, r2) != 0,
                      "start %d partition %d: racks %s %s %s", start, p, r0, r1, r2);
        }
    }
}

Test(ctl_assign, ignores_racks_unless_every_broker_has_one)
{
    ctl_assign_broker_t mixed[] = {{0, "r1"}, {1, NULL}, {2, "r2"}, {3, ""}, {4, "r1"}};
    ctl_assign_broker_t plain[] = {{0, NULL}, {1, NULL}, {2, NULL}, {3, NULL}, {4, NULL}};
    int32_t a[30], b[30];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(mixed, 5, 10, 3, 1, 0, a, &eb), SM_OK);
    cr_assert_eq(ctl_assign_replicas(plain, 5, 10, 3, 1, 0, b, &eb), SM_OK);
    expect_rows(a, b, 10, 3);
}

Test(ctl_assign, random_start_keeps_replicas_distinct_and_leaders_balanced)
{
    ctl_assign_broker_t b[] = {{10, NULL}, {11, NULL}, {12, NULL}};
    int32_t out[3 * 30];
    int leaders[3] = {0};
    sm_errbuf_t eb = {{0}};

    for (int round = 0; round < 20; round++) {
        memset(leaders, 0, sizeof(leaders));
        cr_assert_eq(ctl_assign_replicas(b, 3, 30, 3, -1, 0, out, &eb), SM_OK);
        for (int p = 0; p < 30; p++) {
            int32_t *row = &out[p * 3];

            cr_assert(row[0] != row[1] && row[0] != row[2] && row[1] != row[2]);
            cr_assert(row[0] >= 10 && row[0] <= 12);
            leaders[row[0] - 10]++;
        }
        cr_expect(leaders[0] == 10 && leaders[1] == 10 && leaders[2] == 10);
    }
}

Test(ctl_assign, refuses_rf_above_brokers_and_non_positive_counts)
{
    ctl_assign_broker_t b[] = {{1, NULL}, {2, NULL}, {3, NULL}};
    int32_t out[16];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(b, 3, 1, 4, -1, 0, out, &eb), SM_ERR_INVALID);
    cr_expect_str_eq(eb.msg, "replication factor 4 larger than available brokers 3");
    cr_expect_eq(ctl_assign_replicas(b, 3, 0, 1, -1, 0, out, &eb), SM_ERR_INVALID);
    cr_expect_eq(ctl_assign_replicas(b, 3, 1, 0, -1, 0, out, &eb), SM_ERR_INVALID);
    cr_expect_eq(ctl_assign_replicas(b, 0, 1, 1, -1, 0, out, &eb), SM_ERR_INVALID);
}

Test(ctl_assign, single_broker_gets_every_partition)
{
    ctl_assign_broker_t b[] = {{7, NULL}};
    int32_t out[4];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(ctl_assign_replicas(b, 1, 4, 1, -1, 0, out, &eb), SM_OK);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(out[i], 7);
}
