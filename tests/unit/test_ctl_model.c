/*
 * test_ctl_model: the cluster model: brokers sorted and classified (new, same, updated,
 * bounced), topics replaced or updated with their partition states kept, configs and the
 * unclean override, deletion markers, and the string map underneath (growth, removal).
 */
#include "controller/ctl_model.h"
#include "controller/ctl_strmap.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ctl_broker_t broker(int32_t id, int64_t epoch, const char *host, int32_t port)
{
    ctl_broker_t b = {.id = id, .epoch = epoch};

    b.endpoints = calloc(1, sizeof(*b.endpoints));
    b.n_endpoints = 1;
    b.endpoints[0].listener = strdup("PLAINTEXT");
    b.endpoints[0].host = strdup(host);
    b.endpoints[0].port = port;
    b.control.listener = strdup("CONTROL");
    b.control.host = strdup(host);
    b.control.port = port + 1;
    return b;
}

Test(ctl_model, brokers_are_sorted_and_classified_by_epoch)
{
    ctl_model_t *m;
    ctl_broker_t b;
    ctl_model_change_t ch;
    const ctl_broker_t *all;
    size_t n;

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    b = broker(3, 100, "h3", 9000);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_NEW);
    cr_expect_null(b.endpoints, "ownership moved into the model");
    b = broker(1, 101, "h1", 9000);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    b = broker(2, 102, "h2", 9000);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    all = ctl_model_brokers(m, &n);
    cr_assert_eq(n, 3);
    cr_expect(all[0].id == 1 && all[1].id == 2 && all[2].id == 3);

    b = broker(2, 102, "h2", 9000);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_SAME);
    b = broker(2, 102, "h2", 9100);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_UPDATED);
    b = broker(2, 200, "h2", 9100);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_BOUNCED);
    cr_expect_eq(ctl_model_broker(m, 2)->epoch, 200);

    cr_expect(ctl_model_broker_remove(m, 1));
    cr_expect_not(ctl_model_broker_remove(m, 1));
    cr_expect_not(ctl_model_broker_live(m, 1));
    cr_expect(ctl_model_broker_live(m, 3));
    ctl_model_free(m);
}

static sm_uuid_t uuid(uint8_t x)
{
    sm_uuid_t u = SM_UUID_ZERO;

    u.b[15] = x;
    return u;
}

Test(ctl_model, topic_update_keeps_partition_states_and_replace_drops_them)
{
    ctl_model_t *m;
    ctl_topic_t *t;
    ctl_model_change_t ch;
    sm_uuid_t id1 = uuid(1), id2 = uuid(2);
    const int32_t r0[] = {1, 2}, r1[] = {2, 3}, r2[] = {3, 1}, isr[] = {2, 1};
    ctl_assignment_t two[] = {{r0, 2, NULL, 0, NULL, 0}, {r1, 2, NULL, 0, NULL, 0}};
    ctl_assignment_t three[] = {two[0], two[1], {r2, 2, NULL, 0, NULL, 0}};
    ctl_pstate_t st = {.leader = 2, .leader_epoch = 3, .isr = isr, .n_isr = 2, .zk_version = 5};

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    cr_assert_eq(ctl_model_topic_put(m, "t", &id1, two, 2, &ch, &t), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_NEW);
    cr_expect_eq(t->n_parts, 2);
    cr_expect_not(t->parts[0].has_state);
    cr_expect_eq(t->parts[0].leader, -1);
    cr_assert_eq(ctl_model_state_set(&t->parts[1], &st), SM_OK);
    cr_expect_eq(ctl_model_partition_count(m), 2);

    cr_assert_eq(ctl_model_topic_put(m, "t", &id1, two, 2, &ch, &t), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_SAME);
    cr_assert_eq(ctl_model_topic_put(m, "t", &id1, three, 3, &ch, &t), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_UPDATED);
    cr_expect_eq(ctl_model_partition_count(m), 3);
    cr_expect(t->parts[1].has_state);
    cr_expect_eq(t->parts[1].leader, 2);
    cr_expect_eq(t->parts[1].zk_version, 5);
    cr_expect(t->parts[1].n_isr == 2 && t->parts[1].isr[0] == 2);
    cr_expect_not(t->parts[2].has_state);
    cr_expect_eq(ctl_model_partition(m, "t", 2), &t->parts[2]);
    cr_expect_null(ctl_model_partition(m, "t", 3));

    cr_assert_eq(ctl_model_topic_put(m, "t", &id2, two, 2, &ch, &t), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_BOUNCED);
    cr_expect_not(t->parts[1].has_state);
    cr_expect_eq(ctl_model_partition_count(m), 2);
    cr_expect(ctl_model_topic_remove(m, "t"));
    cr_expect_null(ctl_model_topic(m, "t"));
    cr_expect_eq(ctl_model_partition_count(m), 0);
    ctl_model_free(m);
}

Test(ctl_model, online_means_state_with_a_live_leader)
{
    ctl_model_t *m;
    ctl_topic_t *t;
    ctl_model_change_t ch;
    ctl_broker_t b = broker(2, 1, "h", 1);
    sm_uuid_t id = uuid(9);
    const int32_t r[] = {1, 2}, isr[] = {2};
    ctl_assignment_t a[] = {{r, 2, NULL, 0, NULL, 0}};
    ctl_pstate_t st = {.leader = 2, .isr = isr, .n_isr = 1};

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    cr_assert_eq(ctl_model_topic_put(m, "x", &id, a, 1, &ch, &t), SM_OK);
    cr_expect_not(ctl_model_partition_online(m, &t->parts[0]));
    cr_assert_eq(ctl_model_state_set(&t->parts[0], &st), SM_OK);
    cr_expect_not(ctl_model_partition_online(m, &t->parts[0]));
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_expect(ctl_model_partition_online(m, &t->parts[0]));
    ctl_model_state_clear(&t->parts[0]);
    cr_expect_not(ctl_model_partition_online(m, &t->parts[0]));
    ctl_model_free(m);
}

Test(ctl_model, configs_drive_the_unclean_override)
{
    ctl_model_t *m;
    const char *keys[] = {"retention.ms", "unclean.leader.election.enable"};
    const char *vals[] = {"1000", "true"};
    const char *const *k, *const *v;

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    cr_expect_not(ctl_model_unclean(m, "t", false));
    cr_expect(ctl_model_unclean(m, "t", true));
    cr_assert_eq(ctl_model_config_put(m, "t", keys, vals, 2), SM_OK);
    cr_expect(ctl_model_unclean(m, "t", false));
    cr_expect_str_eq(ctl_model_config_value(m, "t", "retention.ms"), "1000");
    cr_assert_eq(ctl_model_config_list(m, "t", &k, &v), 2);
    cr_expect_str_eq(k[1], "unclean.leader.election.enable");
    vals[1] = "false";
    cr_assert_eq(ctl_model_config_put(m, "t", keys, vals, 2), SM_OK);
    cr_expect_not(ctl_model_unclean(m, "t", true));
    ctl_model_config_remove(m, "t");
    cr_expect_null(ctl_model_config_value(m, "t", "retention.ms"));
    cr_expect_eq(ctl_model_config_list(m, "t", &k, &v), 0);
    ctl_model_free(m);
}

Test(ctl_model, deletion_markers_form_a_set)
{
    ctl_model_t *m;
    size_t pos = 0, n = 0;

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    cr_assert_eq(ctl_model_deletion_add(m, "a"), SM_OK);
    cr_assert_eq(ctl_model_deletion_add(m, "a"), SM_OK);
    cr_assert_eq(ctl_model_deletion_add(m, "b"), SM_OK);
    cr_expect_eq(ctl_model_deletion_count(m), 2);
    while (ctl_model_deletion_next(m, &pos) != NULL)
        n++;
    cr_expect_eq(n, 2);
    cr_expect(ctl_model_deletion_has(m, "b"));
    cr_expect(ctl_model_deletion_remove(m, "b"));
    cr_expect_not(ctl_model_deletion_has(m, "b"));
    ctl_model_clear(m);
    cr_expect_eq(ctl_model_deletion_count(m), 0);
    ctl_model_free(m);
}

Test(ctl_model, clear_forgets_everything_and_the_model_stays_usable)
{
    ctl_model_t *m;
    ctl_broker_t b = broker(1, 1, "h", 1);
    ctl_model_change_t ch;
    sm_uuid_t id = uuid(3);
    const int32_t r[] = {1};
    ctl_assignment_t a[] = {{r, 1, NULL, 0, NULL, 0}};

    cr_assert_eq(ctl_model_new(&m), SM_OK);
    cr_assert_eq(ctl_model_broker_put(m, &b, &ch), SM_OK);
    cr_assert_eq(ctl_model_topic_put(m, "t", &id, a, 1, &ch, NULL), SM_OK);
    ctl_model_clear(m);
    cr_expect_eq(ctl_model_topic_count(m), 0);
    cr_expect_not(ctl_model_broker_live(m, 1));
    cr_assert_eq(ctl_model_topic_put(m, "t", &id, a, 1, &ch, NULL), SM_OK);
    cr_expect_eq(ch, CTL_MODEL_NEW);
    ctl_model_free(m);
}

Test(ctl_strmap, grows_and_removes_without_losing_entries)
{
    ctl_strmap_t *map;
    char key[32];
    int vals[5000];
    size_t pos = 0, seen = 0;

    cr_assert_eq(ctl_strmap_new(&map), SM_OK);
    for (int i = 0; i < 5000; i++) {
        vals[i] = i;
        snprintf(key, sizeof(key), "topic-%d", i);
        cr_assert_eq(ctl_strmap_put(map, key, &vals[i], NULL), SM_OK);
    }
    cr_expect_eq(ctl_strmap_count(map), 5000);
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof(key), "topic-%d", i);
        cr_assert_eq(ctl_strmap_remove(map, key), &vals[i]);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "topic-%d", i);
        if (i % 2 == 0)
            cr_assert_null(ctl_strmap_get(map, key), "%s still there", key);
        else
            cr_assert_eq(ctl_strmap_get(map, key), &vals[i], "%s lost", key);
    }
    while (ctl_strmap_next(map, &pos, NULL) != NULL)
        seen++;
    cr_expect_eq(seen, 2500);
    cr_expect_null(ctl_strmap_remove(map, "absent"));
    ctl_strmap_free(map);
}
