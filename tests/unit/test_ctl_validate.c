/*
 * test_ctl_validate: topic name rules (Kafka's Topic.validate), topic config overrides with
 * their types and bounds, and explicit replica assignments.
 */
#include "controller/ctl_validate.h"

#include <criterion/criterion.h>
#include <string.h>

Test(ctl_validate, accepts_kafka_topic_names)
{
    static const char *good[] = {"orders", "a", "A-b_c.d", "__consumer_offsets", "...", "0"};
    sm_errbuf_t eb = {{0}};
    char longest[CTL_TOPIC_NAME_MAX + 1];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_expect_eq(ctl_validate_topic_name(good[i], &eb), SM_OK, "%s: %s", good[i], eb.msg);
    memset(longest, 'x', CTL_TOPIC_NAME_MAX);
    longest[CTL_TOPIC_NAME_MAX] = '\0';
    cr_expect_eq(ctl_validate_topic_name(longest, &eb), SM_OK);
}

Test(ctl_validate, rejects_empty_dot_long_and_odd_character_names)
{
    static const char *bad[] = {"", ".", "..", "a b", "a/b", "t\xc3\xa9", "a:b", "a*"};
    sm_errbuf_t eb = {{0}};
    char too_long[CTL_TOPIC_NAME_MAX + 2];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eb.msg[0] = '\0';
        cr_expect_eq(ctl_validate_topic_name(bad[i], &eb), SM_ERR_INVALID, "%s", bad[i]);
        cr_expect_neq(eb.msg[0], '\0', "no message for %s", bad[i]);
    }
    cr_expect_eq(ctl_validate_topic_name(NULL, &eb), SM_ERR_INVALID);
    memset(too_long, 'x', CTL_TOPIC_NAME_MAX + 1);
    too_long[CTL_TOPIC_NAME_MAX + 1] = '\0';
    cr_expect_eq(ctl_validate_topic_name(too_long, &eb), SM_ERR_INVALID);
    cr_expect(strstr(eb.msg, "249") != NULL, "%s", eb.msg);
}

Test(ctl_validate, accepts_typed_topic_overrides)
{
    static const char *good[][2] = {
        {"cleanup.policy", "delete"},
        {"cleanup.policy", "compact,delete"},
        {"cleanup.policy", "compact, delete"},
        {"retention.ms", "-1"},
        {"retention.ms", "86400000"},
        {"retention.bytes", "-1"},
        {"segment.bytes", "1048576"},
        {"segment.ms", "1"},
        {"min.insync.replicas", "2"},
        {"unclean.leader.election.enable", "TRUE"},
        {"unclean.leader.election.enable", "false"},
        {"message.timestamp.type", "LogAppendTime"},
        {"max.message.bytes", "0"},
        {"flush.messages", "1"},
        {"flush.ms", "0"},
        {"index.interval.bytes", "4096"},
    };
    sm_errbuf_t eb = {{0}};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_expect_eq(ctl_validate_topic_config(good[i][0], good[i][1], &eb), SM_OK, "%s=%s: %s",
                     good[i][0], good[i][1], eb.msg);
}

Test(ctl_validate, rejects_unknown_keys_and_badly_typed_values)
{
    static const char *bad[][2] = {
        {"retention.hours", "1"},        /* a broker key, not a topic one */
        {"log.retention.ms", "1"},       /* likewise */
        {"retention.ms", "abc"},         /* not an integer */
        {"retention.ms", "-2"},          /* below -1 */
        {"segment.bytes", "13"},         /* below Kafka's minimum */
        {"segment.bytes", "4294967296"}, /* above int */
        {"segment.ms", "0"},             /* at least 1 */
        {"min.insync.replicas", "0"},    /* at least 1 */
        {"unclean.leader.election.enable", "yes"},
        {"message.timestamp.type", "Now"},
        {"cleanup.policy", ""},
        {"cleanup.policy", "delete,,compact"},
        {"cleanup.policy", "purge"},
        {"flush.messages", "0"},
        {"", "1"},
    };
    sm_errbuf_t eb = {{0}};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eb.msg[0] = '\0';
        cr_expect_eq(ctl_validate_topic_config(bad[i][0], bad[i][1], &eb), SM_ERR_INVALID,
                     "%s=%s accepted", bad[i][0], bad[i][1]);
        cr_expect_neq(eb.msg[0], '\0');
    }
    cr_expect_eq(ctl_validate_topic_config("retention.ms", NULL, &eb), SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_topic_config("retention.hours", "1", &eb), SM_ERR_INVALID);
    cr_expect_str_eq(eb.msg, "unknown topic config 'retention.hours'");
}

static bool known_1_to_3(void *arg, int32_t id)
{
    (void)arg;
    return id >= 1 && id <= 3;
}

Test(ctl_validate, accepts_a_complete_assignment_in_any_order)
{
    static const int32_t r0[] = {1, 2}, r1[] = {2, 3}, r2[] = {3, 1};
    const int32_t parts[] = {2, 0, 1};
    const int32_t *rows[] = {r2, r0, r1};
    const size_t ns[] = {2, 2, 2};
    sm_errbuf_t eb = {{0}};

    cr_expect_eq(ctl_validate_assignment(parts, rows, ns, 3, known_1_to_3, NULL, &eb), SM_OK, "%s",
                 eb.msg);
}

Test(ctl_validate, rejects_gaps_duplicates_uneven_rf_and_unknown_brokers)
{
    static const int32_t ok[] = {1, 2}, dup[] = {1, 1}, one[] = {1}, unknown[] = {1, 7};
    sm_errbuf_t eb = {{0}};
    const size_t two[] = {2, 2}, uneven[] = {2, 1}, zero[] = {0, 2};

    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 2}, (const int32_t *[]){ok, ok}, two,
                                         2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 0}, (const int32_t *[]){ok, ok}, two,
                                         2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 1}, (const int32_t *[]){ok, dup}, two,
                                         2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_str_eq(eb.msg, "partition 1 lists broker 1 twice");
    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 1}, (const int32_t *[]){ok, one},
                                         uneven, 2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 1}, (const int32_t *[]){ok, ok}, zero,
                                         2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_assignment((const int32_t[]){0, 1}, (const int32_t *[]){ok, unknown},
                                         two, 2, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
    cr_expect_str_eq(eb.msg, "partition 1 names unknown broker 7");
    cr_expect_eq(ctl_validate_assignment(NULL, NULL, NULL, 0, known_1_to_3, NULL, &eb),
                 SM_ERR_INVALID);
}

Test(ctl_validate, parses_booleans_like_kafka)
{
    bool b = false;

    cr_expect_eq(ctl_validate_parse_bool("True", &b), SM_OK);
    cr_expect(b);
    cr_expect_eq(ctl_validate_parse_bool("FALSE", &b), SM_OK);
    cr_expect_not(b);
    cr_expect_eq(ctl_validate_parse_bool("1", &b), SM_ERR_INVALID);
    cr_expect_eq(ctl_validate_parse_bool(NULL, &b), SM_ERR_INVALID);
}
