/*
 * Unit tests for br_topicconf: TopicConfig blobs applied through br_topicconf_apply_blob (the
 * parser the ZooKeeper read uses), the default fallback, tracking and untracking, and -- with
 * a session to an unreachable server -- reads that complete with SM_ERR_AGAIN on the loop,
 * including an untrack while a read is in flight. Reads of a real /config/topics node are
 * covered by the integration tests 0032_min_isr and 0028_topic_config.
 */
#include "broker/br_topicconf.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samsa.pb-c.h"
#include "sm_log.h"

static br_topicconf_t *tc;
static uint8_t *blob;

static void setup(void)
{
    sm_log_init("test_br_topicconf", SM_LOG_ERROR);
}

static void teardown(void)
{
    br_topicconf_free(tc);
    free(blob);
    tc = NULL;
    blob = NULL;
}

TestSuite(br_topicconf, .init = setup, .fini = teardown);

/* Packs n name/value pairs as a TopicConfig into blob; returns its length. */
static size_t pack(const char *const *names, const char *const *values, size_t n)
{
    Samsa__TopicConfig cfg = SAMSA__TOPIC_CONFIG__INIT;
    Samsa__ConfigEntry ents[8];
    Samsa__ConfigEntry *ptrs[8];
    size_t len;

    cr_assert_leq(n, 8);
    for (size_t i = 0; i < n; i++) {
        samsa__config_entry__init(&ents[i]);
        ents[i].name = (char *)names[i];
        ents[i].value = (char *)values[i];
        ptrs[i] = &ents[i];
    }
    cfg.n_configs = n;
    cfg.configs = ptrs;
    len = samsa__topic_config__get_packed_size(&cfg);
    free(blob);
    blob = malloc(len > 0 ? len : 1);
    cr_assert_not_null(blob);
    cr_assert_eq(samsa__topic_config__pack(&cfg, blob), len);
    return len;
}

static size_t pack_min_isr(const char *value)
{
    const char *names[2] = {"retention.ms", "min.insync.replicas"};
    const char *values[2] = {"1000", value};

    return pack(names, values, 2);
}

Test(br_topicconf, untracked_topic_gets_the_broker_default)
{
    cr_assert_eq(br_topicconf_new(NULL, 2, &tc), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 2);
    cr_expect_eq(br_topicconf_count(tc), 0);
}

Test(br_topicconf, default_below_one_counts_as_one)
{
    cr_assert_eq(br_topicconf_new(NULL, 0, &tc), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1);
}

Test(br_topicconf, topic_override_replaces_the_default)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "orders", blob, pack_min_isr("2")), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "orders"), 2);
    cr_expect_eq(br_topicconf_min_isr(tc, "other"), 1);
    cr_expect_eq(br_topicconf_count(tc), 1);
}

Test(br_topicconf, config_without_the_key_means_the_default)
{
    const char *names[1] = {"cleanup.policy"};
    const char *values[1] = {"delete"};

    cr_assert_eq(br_topicconf_new(NULL, 3, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("2")), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 1)), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 3);
}

Test(br_topicconf, empty_blob_means_no_overrides)
{
    cr_assert_eq(br_topicconf_new(NULL, 2, &tc), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "t", NULL, 0), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 2);
}

Test(br_topicconf, altered_value_replaces_the_previous_one)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("3")), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("1")), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1);
    cr_expect_eq(br_topicconf_count(tc), 1);
}

Test(br_topicconf, last_occurrence_of_the_key_wins)
{
    const char *names[2] = {"min.insync.replicas", "min.insync.replicas"};
    const char *values[2] = {"2", "3"};

    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 2)), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 3);
}

Test(br_topicconf, rejects_values_that_are_not_positive_integers)
{
    const char *bad[] = {"0", "-1", "two", "2x", "", " 2", "2147483648", "99999999999999999999"};

    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("3")), SM_OK);
        cr_expect_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr(bad[i])), SM_ERR_INVALID,
                     "value '%s'", bad[i]);
        cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1, "value '%s'", bad[i]);
    }
}

Test(br_topicconf, accepts_the_largest_int32)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("2147483647")), SM_OK);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 2147483647);
}

Test(br_topicconf, value_missing_from_the_entry_keeps_the_default)
{
    const char *names[1] = {"min.insync.replicas"};
    const char *values[1] = {NULL};

    cr_assert_eq(br_topicconf_new(NULL, 2, &tc), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 1)), SM_ERR_INVALID);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 2);
}

Test(br_topicconf, malformed_blob_keeps_the_default)
{
    /* Field 1, length-delimited, claiming 100 bytes where 2 remain. */
    const uint8_t junk[] = {0x0a, 0x64, 0x01, 0x02};

    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("2")), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "t", junk, sizeof(junk)), SM_ERR_CORRUPT);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1);
}

Test(br_topicconf, rejects_topic_names_that_are_not_node_names)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "a/b", blob, pack_min_isr("2")), SM_ERR_INVALID);
    cr_expect_eq(br_topicconf_apply_blob(tc, "..", blob, pack_min_isr("2")), SM_ERR_INVALID);
    cr_expect_eq(br_topicconf_apply_blob(tc, "", blob, pack_min_isr("2")), SM_ERR_INVALID);
    br_topicconf_track(tc, "x/y");
    br_topicconf_track(tc, NULL);
    cr_expect_eq(br_topicconf_count(tc), 0);
}

Test(br_topicconf, untrack_forgets_the_value)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("2")), SM_OK);
    br_topicconf_untrack(tc, "t");
    br_topicconf_untrack(tc, "t");
    br_topicconf_untrack(tc, "never");
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1);
    cr_expect_eq(br_topicconf_count(tc), 0);
}

Test(br_topicconf, track_is_idempotent_and_keeps_a_known_value)
{
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    br_topicconf_track(tc, "t");
    br_topicconf_track(tc, "t");
    cr_expect_eq(br_topicconf_count(tc), 1);
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 1);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack_min_isr("2")), SM_OK);
    br_topicconf_track(tc, "t");
    cr_expect_eq(br_topicconf_min_isr(tc, "t"), 2);
    cr_expect_eq(br_topicconf_count(tc), 1);
}

Test(br_topicconf, many_topics_survive_table_growth)
{
    char name[32];

    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "topic-%d", i);
        cr_assert_eq(br_topicconf_apply_blob(tc, name, blob, pack_min_isr(i % 2 ? "2" : "3")),
                     SM_OK);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(name, sizeof(name), "topic-%d", i);
        br_topicconf_untrack(tc, name);
    }
    cr_expect_eq(br_topicconf_count(tc), 250);
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "topic-%d", i);
        cr_expect_eq(br_topicconf_min_isr(tc, name), i % 2 ? 2 : 1, "%s", name);
    }
}

Test(br_topicconf, null_reader_answers_one)
{
    cr_expect_eq(br_topicconf_min_isr(NULL, "t"), 1);
    br_topicconf_track(NULL, "t");
    br_topicconf_untrack(NULL, "t");
    br_topicconf_on_session(NULL, SM_ZK_EV_CONNECTED);
    br_topicconf_free(NULL);
}

/* ---- log settings -------------------------------------------------------------------------- */

Test(br_topicconf, log_overrides_replace_only_the_settings_the_topic_sets)
{
    const char *names[8] = {
        "segment.bytes",        "segment.ms",     "retention.ms",      "retention.bytes",
        "index.interval.bytes", "flush.messages", "max.message.bytes", "message.timestamp.type"};
    const char *values[8] = {"1048576", "3600000", "60000", "-5",
                             "100",     "10",      "2000",  "LogAppendTime"};
    br_log_config_t cfg, def;

    br_log_config_defaults(&def);
    cfg = def;
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 8)), SM_OK);
    br_topicconf_overlay(tc, "t", &cfg);
    cr_expect_eq(cfg.segment_bytes, 1048576);
    cr_expect_eq(cfg.segment_ms, 3600000);
    cr_expect_eq(cfg.retention_ms, 60000);
    cr_expect_eq(cfg.retention_bytes, -1, "any negative retention.bytes means unlimited");
    cr_expect_eq(cfg.index_interval_bytes, 100);
    cr_expect_eq(cfg.flush_interval_messages, 10);
    cr_expect_eq(cfg.max_message_bytes, 2000);
    cr_expect(cfg.log_append_time);
    cr_expect_eq(cfg.flush_interval_ms, def.flush_interval_ms, "flush.ms was not set");
    cr_expect_eq(cfg.index_max_bytes, def.index_max_bytes);

    /* Another topic, and this one with its config gone, keep the broker's settings. */
    cfg = def;
    br_topicconf_overlay(tc, "other", &cfg);
    cr_expect_eq(memcmp(&cfg, &def, sizeof(cfg)), 0);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 0)), SM_OK);
    br_topicconf_overlay(tc, "t", &cfg);
    cr_expect_eq(memcmp(&cfg, &def, sizeof(cfg)), 0);
}

Test(br_topicconf, invalid_log_values_keep_the_broker_setting_and_valid_ones_apply)
{
    const char *names[6] = {"segment.bytes",          "retention.ms", "max.message.bytes",
                            "message.timestamp.type", "segment.ms",   "retention.bytes"};
    const char *values[6] = {"12MB", "-2", "-1", "Both", " 5", "4096"};
    br_log_config_t cfg, def;

    br_log_config_defaults(&def);
    cfg = def;
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_expect_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 6)), SM_ERR_INVALID);
    br_topicconf_overlay(tc, "t", &cfg);
    cr_expect_eq(cfg.segment_bytes, def.segment_bytes);
    cr_expect_eq(cfg.retention_ms, def.retention_ms);
    cr_expect_eq(cfg.max_message_bytes, 0);
    cr_expect(!cfg.log_append_time);
    cr_expect_eq(cfg.segment_ms, def.segment_ms, "a leading blank is not a number");
    cr_expect_eq(cfg.retention_bytes, 4096);
}

Test(br_topicconf, the_smallest_segment_bytes_becomes_the_smallest_a_log_takes)
{
    const char *names[2] = {"segment.bytes", "message.timestamp.type"};
    const char *values[2] = {"14", "CreateTime"};
    br_log_config_t cfg;

    br_log_config_defaults(&cfg);
    cfg.log_append_time = true; /* a broker set to LogAppendTime */
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 2)), SM_OK);
    br_topicconf_overlay(tc, "t", &cfg);
    cr_expect_eq(cfg.segment_bytes, 61, "Kafka's minimum, 14, is below a batch header");
    cr_expect(!cfg.log_append_time, "the topic's CreateTime wins over the broker's setting");
}

Test(br_topicconf, untrack_forgets_the_log_overrides)
{
    const char *names[1] = {"retention.ms"};
    const char *values[1] = {"1000"};
    br_log_config_t cfg;

    br_log_config_defaults(&cfg);
    cr_assert_eq(br_topicconf_new(NULL, 1, &tc), SM_OK);
    cr_assert_eq(br_topicconf_apply_blob(tc, "t", blob, pack(names, values, 1)), SM_OK);
    br_topicconf_untrack(tc, "t");
    br_topicconf_overlay(tc, "t", &cfg);
    cr_expect_eq(cfg.retention_ms, 7LL * 24 * 3600 * 1000);
    br_topicconf_overlay(NULL, "t", &cfg); /* a broker without a reader: nothing changes */
    cr_expect_eq(cfg.retention_ms, 7LL * 24 * 3600 * 1000);
}

/* ---- with a session that never connects ------------------------------------------------------ */

static int heard;

static void on_config(void *arg, const char *topic)
{
    (void)arg;
    (void)topic;
    heard++;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void run_loop(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *deadline = evtimer_new(base, on_deadline, base);

    evtimer_add(deadline, &tv);
    event_base_dispatch(base);
    event_free(deadline);
}

static sm_zk_t *new_unreachable(struct event_base *base)
{
    sm_zk_config_t cfg = {.connect = "127.0.0.1:1", .session_timeout_ms = 4000};
    sm_zk_t *zk = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(sm_zk_new(base, &cfg, &zk, &eb), SM_OK, "%s", eb.msg);
    return zk;
}

Test(br_topicconf, failed_reads_leave_the_default_and_keep_tracking)
{
    struct event_base *base = event_base_new();
    sm_zk_t *zk = new_unreachable(base);

    cr_assert_eq(br_topicconf_new(zk, 2, &tc), SM_OK);
    heard = 0;
    br_topicconf_set_listener(tc, on_config, NULL);
    br_topicconf_track(tc, "a");
    br_topicconf_track(tc, "b");
    br_topicconf_on_session(tc, SM_ZK_EV_CONNECTED); /* re-reads are coalesced */
    run_loop(base, 300);
    cr_expect_eq(br_topicconf_count(tc), 2);
    cr_expect_eq(br_topicconf_min_isr(tc, "a"), 2);
    br_topicconf_on_session(tc, SM_ZK_EV_CONNECTED);
    run_loop(base, 300);
    cr_expect_eq(br_topicconf_count(tc), 2);
    cr_expect_eq(heard, 0, "a read that failed tells the listener nothing");
    sm_zk_free(zk);
    event_base_free(base);
}

Test(br_topicconf, untrack_during_a_read_drops_the_entry_when_it_completes)
{
    struct event_base *base = event_base_new();
    sm_zk_t *zk = new_unreachable(base);

    cr_assert_eq(br_topicconf_new(zk, 1, &tc), SM_OK);
    br_topicconf_track(tc, "a");
    br_topicconf_untrack(tc, "a");
    cr_expect_eq(br_topicconf_count(tc), 0);
    cr_expect_eq(br_topicconf_min_isr(tc, "a"), 1);
    br_topicconf_track(tc, "b");
    br_topicconf_untrack(tc, "b");
    br_topicconf_track(tc, "b"); /* back while its first read is in flight */
    run_loop(base, 300);
    cr_expect_eq(br_topicconf_count(tc), 1);
    cr_expect_eq(br_topicconf_min_isr(tc, "b"), 1);
    /* Pending reads complete inside sm_zk_free; tc must still be alive then. */
    br_topicconf_track(tc, "c");
    br_topicconf_untrack(tc, "c");
    sm_zk_free(zk);
    event_base_free(base);
}
