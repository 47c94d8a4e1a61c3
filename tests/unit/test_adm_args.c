/*
 * Unit tests for adm_args: samsa-admin's command line, every command family, its options and
 * the one-line messages for mistakes.
 */
#include "controller/admin/adm_args.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A command line split on spaces; argv points into buf, which lives as long as the test. */
typedef struct cmdline {
    char buf[512];
    char *argv[64];
    int argc;
} cmdline_t;

static sm_err_t parse(cmdline_t *cl, const char *line, adm_args_t *a, sm_errbuf_t *eb)
{
    char *save = NULL;

    snprintf(cl->buf, sizeof(cl->buf), "%s", line);
    cl->argv[0] = "samsa-admin";
    cl->argc = 1;
    for (char *t = strtok_r(cl->buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
        cl->argv[cl->argc++] = t;
    memset(eb, 0, sizeof(*eb));
    return adm_args_parse(a, cl->argc, cl->argv, eb);
}

static void expect_ok(const char *line, adm_cmd_t cmd)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;
    sm_err_t err = parse(&cl, line, &a, &eb);
    adm_cmd_t got = a.cmd;

    adm_args_deinit(&a);
    cr_assert_eq(err, SM_OK, "%s: %s", line, eb.msg);
    cr_assert_eq(got, cmd, "%s: parsed as %s", line, adm_args_cmd_name(got));
}

static void expect_error(const char *line, const char *msg)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;
    sm_err_t err = parse(&cl, line, &a, &eb);

    adm_args_deinit(&a);
    cr_assert_eq(err, SM_ERR_INVALID, "%s: expected an error", line);
    cr_assert_str_eq(eb.msg, msg, "%s", line);
}

#define ZK "--zookeeper 127.0.0.1:2181/samsa "

Test(adm_args, parses_global_options_anywhere)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl, "topics list --json --timeout-ms 500 --zookeeper=h:1,h:2/c", &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_eq(a.cmd, ADM_CMD_TOPICS_LIST);
    cr_assert(a.json);
    cr_assert_eq(a.timeout_ms, 500);
    cr_assert_str_eq(a.zookeeper, "h:1,h:2/c");
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "controller", &a, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(a.cmd, ADM_CMD_CONTROLLER);
    cr_assert_not(a.json);
    cr_assert_eq(a.timeout_ms, ADM_ARGS_DEFAULT_TIMEOUT_MS);
    adm_args_deinit(&a);
}

Test(adm_args, recognises_every_command)
{
    expect_ok(ZK "topics create t --partitions 3 --replication-factor 2", ADM_CMD_TOPICS_CREATE);
    expect_ok(ZK "topics list", ADM_CMD_TOPICS_LIST);
    expect_ok(ZK "topics describe", ADM_CMD_TOPICS_DESCRIBE);
    expect_ok(ZK "topics delete t", ADM_CMD_TOPICS_DELETE);
    expect_ok(ZK "topics alter t --partitions 4", ADM_CMD_TOPICS_ALTER);
    expect_ok(ZK "brokers list", ADM_CMD_BROKERS_LIST);
    expect_ok(ZK "brokers watch", ADM_CMD_BROKERS_WATCH);
    expect_ok(ZK "controller", ADM_CMD_CONTROLLER);
    expect_ok(ZK "groups list", ADM_CMD_GROUPS_LIST);
    expect_ok(ZK "groups describe g", ADM_CMD_GROUPS_DESCRIBE);
    expect_ok(ZK "groups reset-offsets g --all-topics --to-latest", ADM_CMD_GROUPS_RESET_OFFSETS);
    expect_ok(ZK "reassign generate --topics a --brokers 1", ADM_CMD_REASSIGN_GENERATE);
    expect_ok(ZK "reassign execute --plan p.json", ADM_CMD_REASSIGN_EXECUTE);
    expect_ok(ZK "reassign status", ADM_CMD_REASSIGN_STATUS);
    expect_ok(ZK "reassign verify --plan p.json", ADM_CMD_REASSIGN_VERIFY);
    expect_ok(ZK "reassign cancel", ADM_CMD_REASSIGN_CANCEL);
    expect_ok(ZK "elect-leaders --all-topic-partitions", ADM_CMD_ELECT_LEADERS);
    expect_ok(ZK "health", ADM_CMD_HEALTH);
    expect_ok(ZK "zk get /brokers/ids", ADM_CMD_ZK_GET);
    for (int c = ADM_CMD_NONE + 1; c < ADM_CMD__COUNT; c++)
        cr_assert_neq(strlen(adm_args_cmd_name((adm_cmd_t)c)), 0, "command %d has no name", c);
}

Test(adm_args, reports_unknown_and_missing_commands)
{
    expect_error(ZK "frobnicate", "unknown command 'frobnicate' (see --help)");
    expect_error(ZK "topics", "topics: missing subcommand (create, list, describe, delete, alter)");
    expect_error(ZK "topics make t",
                 "topics: unknown subcommand 'make' (expected create, list, describe, delete, "
                 "alter)");
    expect_error(ZK, "missing command (see --help)");
    expect_error(ZK "--bogus topics list", "unknown option '--bogus' (see --help)");
    expect_error(ZK "health now", "health: unexpected argument 'now'");
}

Test(adm_args, requires_a_valid_zookeeper)
{
    expect_error("topics list", "missing --zookeeper HOST:PORT[/chroot]");
    expect_error("topics list --zookeeper", "--zookeeper needs a value");
    expect_error("--zookeeper nohost topics list",
                 "--zookeeper: 'nohost' is not host:port[,host:port]...[/chroot]");
    expect_error(ZK "--timeout-ms 0 topics list", "--timeout-ms: 0 is less than the minimum 1");
}

Test(adm_args, help_skips_all_checks)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl, "--help", &a, &eb), SM_OK);
    cr_assert(a.help);
    cr_assert_eq(a.cmd, ADM_CMD_NONE);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, "topics create --help", &a, &eb), SM_OK);
    cr_assert(a.help);
    cr_assert_eq(a.cmd, ADM_CMD_TOPICS_CREATE);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, "--version", &a, &eb), SM_OK);
    cr_assert(a.version);
    adm_args_deinit(&a);
}

Test(adm_args, parses_topics_create)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl,
                       ZK "topics create orders --partitions=6 --replication-factor 3 "
                          "--config retention.ms=1000 --config cleanup.policy=delete "
                          "--if-not-exists",
                       &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.name, "orders");
    cr_assert_eq(a.partitions, 6);
    cr_assert_eq(a.replication_factor, 3);
    cr_assert_eq(a.n_configs, 2);
    cr_assert_str_eq(a.configs[1], "cleanup.policy=delete");
    cr_assert(a.if_not_exists);
    cr_assert_null(a.assignment);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "topics create --topic t --replica-assignment 1:2,2:3,3:1", &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.name, "t");
    cr_assert_eq(a.assignment_partitions, 3);
    cr_assert_eq(a.assignment_rf, 2);
    cr_assert_eq(a.assignment[4], 3);
    cr_assert_eq(a.assignment[5], 1);
    adm_args_deinit(&a);
}

Test(adm_args, rejects_bad_topics_create)
{
    expect_error(ZK "topics create", "topics create: missing TOPIC");
    expect_error(ZK "topics create t --replication-factor 1",
                 "topics create: missing --partitions N");
    expect_error(ZK "topics create t --partitions 1",
                 "topics create: missing --replication-factor R");
    expect_error(ZK "topics create t --partitions 0 --replication-factor 1",
                 "topics create: --partitions: 0 is less than the minimum 1");
    expect_error(ZK "topics create t --partitions 1x --replication-factor 1",
                 "topics create: --partitions: '1x' is not an integer");
    expect_error(ZK "topics create t --partitions 99999999999 --replication-factor 1",
                 "topics create: --partitions: 99999999999 is greater than the maximum "
                 "2147483647");
    expect_error(ZK "topics create t --partitions 1 --replication-factor",
                 "topics create: --replication-factor needs a value");
    expect_error(ZK "topics create t --partitions 1 --replication-factor 1 --config retention",
                 "topics create: --config retention: expected key=value");
    expect_error(ZK "topics create a/b --partitions 1 --replication-factor 1",
                 "topics create: topic name 'a/b' may only contain letters, digits, '.', '_', '-'");
    expect_error(ZK "topics create .. --partitions 1 --replication-factor 1",
                 "topics create: topic name '..' is not allowed");
    expect_error(ZK "topics create t u --partitions 1 --replication-factor 1",
                 "topics create: unexpected argument 'u'");
    expect_error(ZK "topics create t --topic u", "topics create: two topics given ('t', 'u')");
    expect_error(ZK "topics create t --under-replicated",
                 "topics create: unknown option '--under-replicated' (see topics create --help)");
    expect_error(ZK "topics create t --if-not-exists=yes",
                 "topics create: --if-not-exists takes no value");
    expect_error(ZK "topics create t --replica-assignment 1:2 --partitions 1",
                 "topics create: --replica-assignment excludes --partitions and "
                 "--replication-factor");
    expect_error(ZK "topics create t --replica-assignment 1:2,3",
                 "topics create: --replica-assignment: every partition needs 2 replicas");
    expect_error(ZK "topics create t --replica-assignment 1:1",
                 "topics create: --replica-assignment: partition 0 lists broker 1 twice");
    expect_error(ZK "topics create t --replica-assignment 1:,2",
                 "topics create: --replica-assignment: '1:,2' is not B:B,B:B... (broker ids)");
    expect_error(ZK "topics create t --replica-assignment 1:x",
                 "topics create: --replica-assignment: 'x' is not an integer");
}

Test(adm_args, parses_topics_describe_delete_alter)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(
        parse(&cl, ZK "topics describe --under-replicated-partitions --unavailable", &a, &eb),
        SM_OK, "%s", eb.msg);
    cr_assert_null(a.name);
    cr_assert(a.under_replicated);
    cr_assert(a.unavailable);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "topics describe orders --json", &a, &eb), SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.name, "orders");
    cr_assert(a.json);
    adm_args_deinit(&a);
    cr_assert_eq(
        parse(&cl, ZK "topics alter t --config a=1 --delete-config b --if-exists", &a, &eb), SM_OK,
        "%s", eb.msg);
    cr_assert_eq(a.n_configs, 1);
    cr_assert_eq(a.n_delete_configs, 1);
    cr_assert_str_eq(a.delete_configs[0], "b");
    cr_assert(a.if_exists);
    adm_args_deinit(&a);
    expect_error(ZK "topics delete", "topics delete: missing TOPIC");
    expect_error(ZK "topics alter t",
                 "topics alter: nothing to change (give --partitions, --config or "
                 "--delete-config)");
    expect_error(ZK "topics alter t --delete-config a=b",
                 "topics alter: --delete-config 'a=b': expected a key");
}

Test(adm_args, parses_brokers_watch)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl, ZK "brokers watch --interval-ms 250 --count 3", &a, &eb), SM_OK);
    cr_assert_eq(a.interval_ms, 250);
    cr_assert_eq(a.count, 3);
    adm_args_deinit(&a);
    expect_error(ZK "brokers watch --interval-ms 0",
                 "brokers watch: --interval-ms: 0 is less than the minimum 1");
    expect_error(ZK "brokers list --count 1",
                 "brokers list: unknown option '--count' (see brokers list --help)");
}

Test(adm_args, parses_groups_reset_offsets)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(
        parse(&cl, ZK "groups reset-offsets --group g --topic t --shift-by -5 --execute", &a, &eb),
        SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.name, "g");
    cr_assert_str_eq(a.topic, "t");
    cr_assert_eq(a.reset, ADM_RESET_SHIFT_BY);
    cr_assert_eq(a.reset_value, -5);
    cr_assert(a.execute);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "groups reset-offsets g --all-topics --to-offset 42", &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_eq(a.reset, ADM_RESET_TO_OFFSET);
    cr_assert_eq(a.reset_value, 42);
    cr_assert_not(a.execute);
    adm_args_deinit(&a);
    expect_error(ZK "groups reset-offsets g --all-topics",
                 "groups reset-offsets: missing one of --to-earliest, --to-latest, --to-offset "
                 "N, --shift-by N");
    expect_error(ZK "groups reset-offsets g --to-latest",
                 "groups reset-offsets: give exactly one of --topic T, --all-topics");
    expect_error(ZK "groups reset-offsets g --to-latest --to-earliest --all-topics",
                 "groups reset-offsets: give only one of --to-earliest, --to-latest, "
                 "--to-offset, --shift-by");
    expect_error(ZK "groups reset-offsets g --to-latest --all-topics --execute --dry-run",
                 "groups reset-offsets: --execute and --dry-run exclude each other");
    expect_error(ZK "groups reset-offsets g --to-offset -1 --all-topics",
                 "groups reset-offsets: --to-offset: -1 is less than the minimum 0");
    expect_error(ZK "groups describe", "groups describe: missing GROUP");
}

Test(adm_args, parses_reassign)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl, ZK "reassign generate --topics a,b.c --broker-list 3,1,2", &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_eq(a.n_topics, 2);
    cr_assert_str_eq(a.topics[1], "b.c");
    cr_assert_eq(a.n_brokers, 3);
    cr_assert_eq(a.brokers[0], 3);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "reassign execute --reassignment-json-file plan.json", &a, &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.plan, "plan.json");
    adm_args_deinit(&a);
    expect_error(ZK "reassign generate --brokers 1",
                 "reassign generate: missing --topics T[,T]...");
    expect_error(ZK "reassign generate --topics a",
                 "reassign generate: missing --brokers ID[,ID]...");
    expect_error(ZK "reassign generate --topics a,,b --brokers 1",
                 "reassign generate: topic name '' must have 1 to 249 characters");
    expect_error(ZK "reassign generate --topics a --brokers 1,1",
                 "reassign generate: --brokers: broker 1 is listed twice");
    expect_error(ZK "reassign generate --topics a --brokers 1,",
                 "reassign generate: --brokers: '1,' is not a list of broker ids");
    expect_error(ZK "reassign execute", "reassign execute: missing --plan FILE");
    expect_error(ZK "reassign verify", "reassign verify: missing --plan FILE");
    expect_error(ZK "reassign status x", "reassign status: unexpected argument 'x'");
}

Test(adm_args, parses_elect_leaders)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(
        parse(&cl, ZK "elect-leaders --election-type UNCLEAN --topic t --partition 2", &a, &eb),
        SM_OK, "%s", eb.msg);
    cr_assert_eq(a.election, ADM_ELECTION_UNCLEAN);
    cr_assert_str_eq(a.topic, "t");
    cr_assert_eq(a.partition, 2);
    adm_args_deinit(&a);
    cr_assert_eq(parse(&cl, ZK "elect-leaders --all-topic-partitions", &a, &eb), SM_OK);
    cr_assert_eq(a.election, ADM_ELECTION_PREFERRED);
    cr_assert_eq(a.partition, -1);
    adm_args_deinit(&a);
    expect_error(ZK "elect-leaders",
                 "elect-leaders: give exactly one of --all-topic-partitions, --topic T");
    expect_error(ZK "elect-leaders --all-topic-partitions --topic t",
                 "elect-leaders: give exactly one of --all-topic-partitions, --topic T");
    expect_error(ZK "elect-leaders --all-topic-partitions --partition 1",
                 "elect-leaders: --partition needs --topic");
    expect_error(ZK "elect-leaders --all-topic-partitions --type random",
                 "elect-leaders: --type: 'random' is not preferred or unclean");
}

Test(adm_args, parses_zk_get)
{
    cmdline_t cl;
    adm_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(parse(&cl, ZK "zk get /", &a, &eb), SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.name, "/");
    adm_args_deinit(&a);
    expect_error(ZK "zk get", "zk get: missing PATH");
    expect_error(ZK "zk get brokers", "zk get: 'brokers' is not an absolute znode path");
    expect_error(ZK "zk get /a/", "zk get: '/a/' is not an absolute znode path");
    expect_error(ZK "zk set /a", "zk: unknown subcommand 'set' (expected get)");
}

Test(adm_args, checks_topic_names_like_kafka)
{
    char why[300], long_name[260];

    memset(long_name, 'x', 249);
    long_name[249] = '\0';
    cr_assert_eq(adm_args_check_topic(long_name, why, sizeof(why)), 0);
    long_name[249] = 'x';
    long_name[250] = '\0';
    cr_assert_eq(adm_args_check_topic(long_name, why, sizeof(why)), -1);
    cr_assert_eq(adm_args_check_topic("__consumer_offsets", why, sizeof(why)), 0);
    cr_assert_eq(adm_args_check_topic("a-b.c_D9", why, sizeof(why)), 0);
    cr_assert_eq(adm_args_check_topic(".", why, sizeof(why)), -1);
    cr_assert_eq(adm_args_check_topic("", why, sizeof(why)), -1);
    cr_assert_eq(adm_args_check_topic("a b", why, sizeof(why)), -1);
}

Test(adm_args, prints_usage)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    adm_args_usage(f, ADM_CMD_NONE);
    adm_args_usage(f, ADM_CMD_ZK_GET);
    fclose(f);
    cr_assert_not_null(strstr(text, "reassign generate --topics"));
    cr_assert_not_null(strstr(text, "zk get PATH"));
    free(text);
}
