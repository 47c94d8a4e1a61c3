/*
 * adm_args: samsa-admin's command line. Two tables drive it: adm_args_opts (every option, its
 * spelling and whether it takes a value) and adm_args_cmds (every command, the options it
 * accepts, its argument and a check for the rules between options). The parser walks argv once:
 * global options anywhere, then the command words, then the command's options and argument;
 * the command's check runs last. See adm_args.h.
 */
#include "controller/admin/adm_args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sm_config.h"

#define ADM_PROG "samsa-admin"

enum adm_args_opt_id {
    ADM_OPT_PARTITIONS = 0,
    ADM_OPT_REPLICATION_FACTOR,
    ADM_OPT_REPLICA_ASSIGNMENT,
    ADM_OPT_CONFIG,
    ADM_OPT_DELETE_CONFIG,
    ADM_OPT_IF_NOT_EXISTS,
    ADM_OPT_IF_EXISTS,
    ADM_OPT_EXCLUDE_INTERNAL,
    ADM_OPT_UNDER_REPLICATED,
    ADM_OPT_UNAVAILABLE,
    ADM_OPT_TOPIC,
    ADM_OPT_GROUP,
    ADM_OPT_INTERVAL_MS,
    ADM_OPT_COUNT,
    ADM_OPT_ALL_TOPICS,
    ADM_OPT_TO_EARLIEST,
    ADM_OPT_TO_LATEST,
    ADM_OPT_TO_OFFSET,
    ADM_OPT_SHIFT_BY,
    ADM_OPT_EXECUTE,
    ADM_OPT_DRY_RUN,
    ADM_OPT_TOPICS,
    ADM_OPT_BROKERS,
    ADM_OPT_PLAN,
    ADM_OPT_TYPE,
    ADM_OPT_ALL_TOPIC_PARTITIONS,
    ADM_OPT_PARTITION,
};

#define ADM_O(id) (UINT64_C(1) << (ADM_OPT_##id))

static const struct adm_args_opt {
    const char *name;
    enum adm_args_opt_id id;
    bool has_value;
} adm_args_opts[] = {
    {"--partitions", ADM_OPT_PARTITIONS, true},
    {"--replication-factor", ADM_OPT_REPLICATION_FACTOR, true},
    {"--replica-assignment", ADM_OPT_REPLICA_ASSIGNMENT, true},
    {"--config", ADM_OPT_CONFIG, true},
    {"--delete-config", ADM_OPT_DELETE_CONFIG, true},
    {"--if-not-exists", ADM_OPT_IF_NOT_EXISTS, false},
    {"--if-exists", ADM_OPT_IF_EXISTS, false},
    {"--exclude-internal", ADM_OPT_EXCLUDE_INTERNAL, false},
    {"--under-replicated", ADM_OPT_UNDER_REPLICATED, false},
    {"--under-replicated-partitions", ADM_OPT_UNDER_REPLICATED, false},
    {"--unavailable", ADM_OPT_UNAVAILABLE, false},
    {"--unavailable-partitions", ADM_OPT_UNAVAILABLE, false},
    {"--topic", ADM_OPT_TOPIC, true},
    {"--group", ADM_OPT_GROUP, true},
    {"--interval-ms", ADM_OPT_INTERVAL_MS, true},
    {"--count", ADM_OPT_COUNT, true},
    {"--all-topics", ADM_OPT_ALL_TOPICS, false},
    {"--to-earliest", ADM_OPT_TO_EARLIEST, false},
    {"--to-latest", ADM_OPT_TO_LATEST, false},
    {"--to-offset", ADM_OPT_TO_OFFSET, true},
    {"--shift-by", ADM_OPT_SHIFT_BY, true},
    {"--execute", ADM_OPT_EXECUTE, false},
    {"--dry-run", ADM_OPT_DRY_RUN, false},
    {"--topics", ADM_OPT_TOPICS, true},
    {"--brokers", ADM_OPT_BROKERS, true},
    {"--broker-list", ADM_OPT_BROKERS, true},
    {"--plan", ADM_OPT_PLAN, true},
    {"--reassignment-json-file", ADM_OPT_PLAN, true},
    {"--type", ADM_OPT_TYPE, true},
    {"--election-type", ADM_OPT_TYPE, true},
    {"--all-topic-partitions", ADM_OPT_ALL_TOPIC_PARTITIONS, false},
    {"--partition", ADM_OPT_PARTITION, true},
};

#define ADM_N_OPTS (sizeof(adm_args_opts) / sizeof(adm_args_opts[0]))

/* The parse in progress: what a command check needs besides the arguments themselves. */
typedef struct adm_args_state {
    const char *cmd; /* "topics create", for messages */
    uint64_t seen;   /* ADM_O bits of the options given */
} adm_args_state_t;

typedef sm_err_t (*adm_args_check_fn)(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb);

enum adm_args_arg { ADM_ARG_NONE = 0, ADM_ARG_OPTIONAL, ADM_ARG_REQUIRED };

typedef struct adm_args_cmd {
    const char *family;
    const char *sub; /* NULL for a one-word command */
    const char *name;
    adm_cmd_t id;
    uint64_t opts;
    enum adm_args_arg arg;
    const char *arg_name; /* TOPIC, GROUP, PATH */
    adm_args_check_fn check;
    const char *usage; /* what follows the command words */
} adm_args_cmd_t;

/* ---- checks between options ---------------------------------------------------------------- */

int adm_args_check_topic(const char *name, char *why, size_t why_len)
{
    size_t n = strlen(name);

    if (n == 0 || n > 249) {
        snprintf(why, why_len, "topic name '%s' must have 1 to 249 characters", name);
        return -1;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        snprintf(why, why_len, "topic name '%s' is not allowed", name);
        return -1;
    }
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
        snprintf(why, why_len, "topic name '%s' may only contain letters, digits, '.', '_', '-'",
                 name);
        return -1;
    }
    return 0;
}

static sm_err_t adm_args_topic_name(const adm_args_state_t *st, const char *name, sm_errbuf_t *eb)
{
    char why[300];

    if (adm_args_check_topic(name, why, sizeof(why)) < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s", st->cmd, why);
    return SM_OK;
}

static sm_err_t adm_args_check_named_topic(adm_args_t *a, const adm_args_state_t *st,
                                           sm_errbuf_t *eb)
{
    return a->name != NULL ? adm_args_topic_name(st, a->name, eb) : SM_OK;
}

static sm_err_t adm_args_check_topics_create(adm_args_t *a, const adm_args_state_t *st,
                                             sm_errbuf_t *eb)
{
    if (a->assignment != NULL && (st->seen & (ADM_O(PARTITIONS) | ADM_O(REPLICATION_FACTOR))) != 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "%s: --replica-assignment excludes --partitions and "
                             "--replication-factor",
                             st->cmd);
    if (a->assignment == NULL && a->partitions < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing --partitions N", st->cmd);
    if (a->assignment == NULL && a->replication_factor < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing --replication-factor R", st->cmd);
    return adm_args_check_named_topic(a, st, eb);
}

static sm_err_t adm_args_check_topics_alter(adm_args_t *a, const adm_args_state_t *st,
                                            sm_errbuf_t *eb)
{
    if ((st->seen & (ADM_O(PARTITIONS) | ADM_O(CONFIG) | ADM_O(DELETE_CONFIG))) == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "%s: nothing to change (give --partitions, --config or "
                             "--delete-config)",
                             st->cmd);
    return adm_args_check_named_topic(a, st, eb);
}

static sm_err_t adm_args_check_reset(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb)
{
    uint64_t to = ADM_O(TO_EARLIEST) | ADM_O(TO_LATEST) | ADM_O(TO_OFFSET) | ADM_O(SHIFT_BY);
    uint64_t which = st->seen & (ADM_O(TOPIC) | ADM_O(ALL_TOPICS));

    if ((st->seen & to) == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "%s: missing one of --to-earliest, --to-latest, --to-offset N, "
                             "--shift-by N",
                             st->cmd);
    if (which == 0 || which == (ADM_O(TOPIC) | ADM_O(ALL_TOPICS)))
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: give exactly one of --topic T, --all-topics",
                             st->cmd);
    if ((st->seen & ADM_O(EXECUTE)) && (st->seen & ADM_O(DRY_RUN)))
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: --execute and --dry-run exclude each other",
                             st->cmd);
    (void)a;
    return SM_OK;
}

static sm_err_t adm_args_check_generate(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb)
{
    if (a->n_topics == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing --topics T[,T]...", st->cmd);
    if (a->n_brokers == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing --brokers ID[,ID]...", st->cmd);
    return SM_OK;
}

static sm_err_t adm_args_check_plan(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb)
{
    if (a->plan == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing --plan FILE", st->cmd);
    return SM_OK;
}

static sm_err_t adm_args_check_elect(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb)
{
    if (a->all_topic_partitions == (a->topic != NULL))
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "%s: give exactly one of --all-topic-partitions, --topic T", st->cmd);
    if (a->partition >= 0 && a->topic == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: --partition needs --topic", st->cmd);
    return SM_OK;
}

static sm_err_t adm_args_check_zk_path(adm_args_t *a, const adm_args_state_t *st, sm_errbuf_t *eb)
{
    size_t n = strlen(a->name);

    if (a->name[0] != '/' || (n > 1 && a->name[n - 1] == '/') || strstr(a->name, "//") != NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: '%s' is not an absolute znode path", st->cmd,
                             a->name);
    return SM_OK;
}

/* ---- the commands -------------------------------------------------------------------------- */

static const adm_args_cmd_t adm_args_cmds[] = {
    {"topics", "create", "topics create", ADM_CMD_TOPICS_CREATE,
     ADM_O(PARTITIONS) | ADM_O(REPLICATION_FACTOR) | ADM_O(REPLICA_ASSIGNMENT) | ADM_O(CONFIG) |
         ADM_O(IF_NOT_EXISTS) | ADM_O(TOPIC),
     ADM_ARG_REQUIRED, "TOPIC", adm_args_check_topics_create,
     "TOPIC (--partitions N --replication-factor R | --replica-assignment B:B,B:B...)\n"
     "        [--config key=value]... [--if-not-exists]"},
    {"topics", "list", "topics list", ADM_CMD_TOPICS_LIST, ADM_O(EXCLUDE_INTERNAL), ADM_ARG_NONE,
     NULL, NULL, "[--exclude-internal]"},
    {"topics", "describe", "topics describe", ADM_CMD_TOPICS_DESCRIBE,
     ADM_O(TOPIC) | ADM_O(UNDER_REPLICATED) | ADM_O(UNAVAILABLE) | ADM_O(EXCLUDE_INTERNAL),
     ADM_ARG_OPTIONAL, "TOPIC", adm_args_check_named_topic,
     "[TOPIC] [--under-replicated] [--unavailable] [--exclude-internal]"},
    {"topics", "delete", "topics delete", ADM_CMD_TOPICS_DELETE, ADM_O(TOPIC) | ADM_O(IF_EXISTS),
     ADM_ARG_REQUIRED, "TOPIC", adm_args_check_named_topic, "TOPIC [--if-exists]"},
    {"topics", "alter", "topics alter", ADM_CMD_TOPICS_ALTER,
     ADM_O(TOPIC) | ADM_O(PARTITIONS) | ADM_O(CONFIG) | ADM_O(DELETE_CONFIG) | ADM_O(IF_EXISTS),
     ADM_ARG_REQUIRED, "TOPIC", adm_args_check_topics_alter,
     "TOPIC [--partitions N] [--config key=value]... [--delete-config key]... [--if-exists]"},
    {"brokers", "list", "brokers list", ADM_CMD_BROKERS_LIST, 0, ADM_ARG_NONE, NULL, NULL, ""},
    {"brokers", "watch", "brokers watch", ADM_CMD_BROKERS_WATCH, ADM_O(INTERVAL_MS) | ADM_O(COUNT),
     ADM_ARG_NONE, NULL, NULL, "[--interval-ms N] [--count N]"},
    {"controller", NULL, "controller", ADM_CMD_CONTROLLER, 0, ADM_ARG_NONE, NULL, NULL, ""},
    {"groups", "list", "groups list", ADM_CMD_GROUPS_LIST, 0, ADM_ARG_NONE, NULL, NULL, ""},
    {"groups", "describe", "groups describe", ADM_CMD_GROUPS_DESCRIBE, ADM_O(GROUP),
     ADM_ARG_REQUIRED, "GROUP", NULL, "GROUP"},
    {"groups", "reset-offsets", "groups reset-offsets", ADM_CMD_GROUPS_RESET_OFFSETS,
     ADM_O(GROUP) | ADM_O(TOPIC) | ADM_O(ALL_TOPICS) | ADM_O(TO_EARLIEST) | ADM_O(TO_LATEST) |
         ADM_O(TO_OFFSET) | ADM_O(SHIFT_BY) | ADM_O(EXECUTE) | ADM_O(DRY_RUN),
     ADM_ARG_REQUIRED, "GROUP", adm_args_check_reset,
     "GROUP (--topic T | --all-topics)\n"
     "        (--to-earliest | --to-latest | --to-offset N | --shift-by N) [--execute | "
     "--dry-run]"},
    {"reassign", "generate", "reassign generate", ADM_CMD_REASSIGN_GENERATE,
     ADM_O(TOPICS) | ADM_O(BROKERS), ADM_ARG_NONE, NULL, adm_args_check_generate,
     "--topics T[,T]... --brokers ID[,ID]..."},
    {"reassign", "execute", "reassign execute", ADM_CMD_REASSIGN_EXECUTE, ADM_O(PLAN), ADM_ARG_NONE,
     NULL, adm_args_check_plan, "--plan FILE"},
    {"reassign", "status", "reassign status", ADM_CMD_REASSIGN_STATUS, 0, ADM_ARG_NONE, NULL, NULL,
     ""},
    {"reassign", "verify", "reassign verify", ADM_CMD_REASSIGN_VERIFY, ADM_O(PLAN), ADM_ARG_NONE,
     NULL, adm_args_check_plan, "--plan FILE"},
    {"reassign", "cancel", "reassign cancel", ADM_CMD_REASSIGN_CANCEL, ADM_O(PLAN), ADM_ARG_NONE,
     NULL, NULL, "[--plan FILE]"},
    {"elect-leaders", NULL, "elect-leaders", ADM_CMD_ELECT_LEADERS,
     ADM_O(TYPE) | ADM_O(ALL_TOPIC_PARTITIONS) | ADM_O(TOPIC) | ADM_O(PARTITION), ADM_ARG_NONE,
     NULL, adm_args_check_elect,
     "[--type preferred|unclean] (--all-topic-partitions | --topic T [--partition P])"},
    {"health", NULL, "health", ADM_CMD_HEALTH, 0, ADM_ARG_NONE, NULL, NULL, ""},
    {"zk", "get", "zk get", ADM_CMD_ZK_GET, 0, ADM_ARG_REQUIRED, "PATH", adm_args_check_zk_path,
     "PATH"},
};

#define ADM_N_CMDS (sizeof(adm_args_cmds) / sizeof(adm_args_cmds[0]))

static const adm_args_cmd_t *adm_args_cmd(adm_cmd_t id)
{
    for (size_t i = 0; i < ADM_N_CMDS; i++) {
        if (adm_args_cmds[i].id == id)
            return &adm_args_cmds[i];
    }
    return NULL;
}

const char *adm_args_cmd_name(adm_cmd_t cmd)
{
    const adm_args_cmd_t *c = adm_args_cmd(cmd);

    return c != NULL ? c->name : "";
}

void adm_args_usage(FILE *f, adm_cmd_t cmd)
{
    const adm_args_cmd_t *c = adm_args_cmd(cmd);

    if (c != NULL) {
        fprintf(f, "usage: " ADM_PROG " --zookeeper HOST:PORT[/chroot] [--json] %s %s\n", c->name,
                c->usage);
        return;
    }
    fprintf(f, "usage: " ADM_PROG " --zookeeper HOST:PORT[/chroot] [--json] [--timeout-ms N] "
               "COMMAND ...\n"
               "\n"
               "Operates a Samsa cluster through ZooKeeper and the active controller.\n"
               "Tables for people; --json for programs. Exit 0 on success, 1 on failure,\n"
               "2 on a usage error.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < ADM_N_CMDS; i++)
        fprintf(f, "  %s %s\n", adm_args_cmds[i].name, adm_args_cmds[i].usage);
}

/* ---- option values ------------------------------------------------------------------------- */

static sm_err_t adm_args_int(const adm_args_state_t *st, const char *opt, const char *val,
                             int64_t min, int64_t max, int64_t *out, sm_errbuf_t *eb)
{
    char why[160];

    if (sm_config_parse_i64(val, min, max, out, why, sizeof(why)) < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s%s%s: %s", st->cmd, st->cmd[0] ? ": " : "", opt,
                             why);
    return SM_OK;
}

static sm_err_t adm_args_i32(const adm_args_state_t *st, const char *opt, const char *val,
                             int64_t min, int64_t max, int32_t *out, sm_errbuf_t *eb)
{
    int64_t v;
    sm_err_t err = adm_args_int(st, opt, val, min, max, &v, eb);

    if (err == SM_OK)
        *out = (int32_t)v;
    return err;
}

/* Parses "1,2,3" into distinct broker ids. */
static sm_err_t adm_args_brokers(adm_args_t *a, const adm_args_state_t *st, const char *opt,
                                 const char *val, sm_errbuf_t *eb)
{
    size_t cap = 1;
    char *copy = strdup(val), *save = NULL, *tok;
    sm_err_t err = SM_OK;

    for (const char *c = val; *c; c++)
        cap += *c == ',';
    free(a->brokers);
    a->n_brokers = 0;
    a->brokers = calloc(cap, sizeof(a->brokers[0]));
    if (copy == NULL || a->brokers == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (val[0] == '\0' || val[0] == ',' || val[strlen(val) - 1] == ',' || strstr(val, ",,")) {
        err = sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s: '%s' is not a list of broker ids", st->cmd,
                            opt, val);
        goto out;
    }
    for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int32_t id;

        err = adm_args_i32(st, opt, tok, 0, INT32_MAX, &id, eb);
        if (err != SM_OK)
            goto out;
        for (size_t i = 0; i < a->n_brokers; i++) {
            if (a->brokers[i] == id) {
                err = sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s: broker %d is listed twice",
                                    st->cmd, opt, (int)id);
                goto out;
            }
        }
        a->brokers[a->n_brokers++] = id;
    }
out:
    free(copy);
    return err;
}

/* Parses "T1,T2" into checked topic names (each a copy owned by a). */
static sm_err_t adm_args_topics(adm_args_t *a, const adm_args_state_t *st, const char *val,
                                sm_errbuf_t *eb)
{
    size_t cap = 1;
    const char *p = val;
    sm_err_t err;

    for (const char *c = val; *c; c++)
        cap += *c == ',';
    for (size_t i = 0; i < a->n_topics; i++)
        free((char *)a->topics[i]);
    free(a->topics);
    a->n_topics = 0;
    a->topics = calloc(cap, sizeof(a->topics[0]));
    if (a->topics == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (;;) {
        const char *comma = strchr(p, ',');
        char *t = strndup(p, comma ? (size_t)(comma - p) : strlen(p));

        if (t == NULL)
            return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        a->topics[a->n_topics++] = t;
        err = adm_args_topic_name(st, t, eb);
        if (err != SM_OK)
            return err;
        if (comma == NULL)
            return SM_OK;
        p = comma + 1;
    }
}

/* Parses Kafka's replica assignment "1:2:3,2:3:1": partitions split by ',', replicas by ':'. */
static sm_err_t adm_args_assignment(adm_args_t *a, const adm_args_state_t *st, const char *val,
                                    sm_errbuf_t *eb)
{
    size_t cap = 1, n = 0;
    int32_t rows = 1, rf = 0, col = 0, row = 0;
    const char *p = val;
    sm_err_t err = SM_OK;

    for (const char *c = val; *c; c++) {
        cap += *c == ',' || *c == ':';
        rows += *c == ',';
    }
    free(a->assignment);
    a->assignment = calloc(cap, sizeof(a->assignment[0]));
    if (a->assignment == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (;;) {
        size_t len = strcspn(p, ",:");
        char tok[24];
        int32_t id;

        if (len == 0 || len >= sizeof(tok)) {
            err = sm_errbuf_set(eb, SM_ERR_INVALID,
                                "%s: --replica-assignment: '%s' is not B:B,B:B... (broker ids)",
                                st->cmd, val);
            break;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        err = adm_args_i32(st, "--replica-assignment", tok, 0, INT32_MAX, &id, eb);
        if (err != SM_OK)
            break;
        for (int32_t c = 0; c < col; c++) {
            if (a->assignment[n - 1 - (size_t)c] == id) {
                err = sm_errbuf_set(eb, SM_ERR_INVALID,
                                    "%s: --replica-assignment: partition %d lists broker %d twice",
                                    st->cmd, (int)row, (int)id);
                break;
            }
        }
        if (err != SM_OK)
            break;
        a->assignment[n++] = id;
        col++;
        if (p[len] != ':') {
            if (rf == 0)
                rf = col;
            if (col != rf) {
                err = sm_errbuf_set(eb, SM_ERR_INVALID,
                                    "%s: --replica-assignment: every partition needs %d replicas",
                                    st->cmd, (int)rf);
                break;
            }
            col = 0;
            row++;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (err != SM_OK) {
        free(a->assignment);
        a->assignment = NULL;
        return err;
    }
    a->assignment_partitions = rows;
    a->assignment_rf = rf;
    return SM_OK;
}

static sm_err_t adm_args_reset(adm_args_t *a, const adm_args_state_t *st, adm_reset_t how,
                               sm_errbuf_t *eb)
{
    if (a->reset != ADM_RESET_NONE && a->reset != how)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "%s: give only one of --to-earliest, --to-latest, --to-offset, "
                             "--shift-by",
                             st->cmd);
    a->reset = how;
    return SM_OK;
}

/* Stores one command option. */
static sm_err_t adm_args_apply(adm_args_t *a, const adm_args_state_t *st,
                               const struct adm_args_opt *o, const char *val, sm_errbuf_t *eb)
{
    bool topics_cmd = a->cmd >= ADM_CMD_TOPICS_CREATE && a->cmd <= ADM_CMD_TOPICS_ALTER;
    const char *eq;

    switch (o->id) {
    case ADM_OPT_PARTITIONS:
        return adm_args_i32(st, o->name, val, 1, INT32_MAX, &a->partitions, eb);
    case ADM_OPT_REPLICATION_FACTOR:
        return adm_args_i32(st, o->name, val, 1, INT16_MAX, &a->replication_factor, eb);
    case ADM_OPT_REPLICA_ASSIGNMENT:
        return adm_args_assignment(a, st, val, eb);
    case ADM_OPT_CONFIG:
        eq = strchr(val, '=');
        if (eq == NULL || eq == val)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: --config %s: expected key=value", st->cmd,
                                 val);
        a->configs[a->n_configs++] = val;
        return SM_OK;
    case ADM_OPT_DELETE_CONFIG:
        if (val[0] == '\0' || strchr(val, '=') != NULL)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: --delete-config '%s': expected a key",
                                 st->cmd, val);
        a->delete_configs[a->n_delete_configs++] = val;
        return SM_OK;
    case ADM_OPT_IF_NOT_EXISTS:
        a->if_not_exists = true;
        return SM_OK;
    case ADM_OPT_IF_EXISTS:
        a->if_exists = true;
        return SM_OK;
    case ADM_OPT_EXCLUDE_INTERNAL:
        a->exclude_internal = true;
        return SM_OK;
    case ADM_OPT_UNDER_REPLICATED:
        a->under_replicated = true;
        return SM_OK;
    case ADM_OPT_UNAVAILABLE:
        a->unavailable = true;
        return SM_OK;
    case ADM_OPT_TOPIC:
        if (topics_cmd) {
            if (a->name != NULL && strcmp(a->name, val) != 0)
                return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: two topics given ('%s', '%s')",
                                     st->cmd, a->name, val);
            a->name = val;
            return SM_OK;
        }
        a->topic = val;
        return adm_args_topic_name(st, val, eb);
    case ADM_OPT_GROUP:
        if (val[0] == '\0')
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: --group: empty group id", st->cmd);
        if (a->name != NULL && strcmp(a->name, val) != 0)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: two groups given ('%s', '%s')", st->cmd,
                                 a->name, val);
        a->name = val;
        return SM_OK;
    case ADM_OPT_INTERVAL_MS:
        return adm_args_int(st, o->name, val, 1, INT32_MAX, &a->interval_ms, eb);
    case ADM_OPT_COUNT:
        return adm_args_int(st, o->name, val, 0, INT64_MAX, &a->count, eb);
    case ADM_OPT_ALL_TOPICS:
        a->all_topics = true;
        return SM_OK;
    case ADM_OPT_TO_EARLIEST:
        return adm_args_reset(a, st, ADM_RESET_TO_EARLIEST, eb);
    case ADM_OPT_TO_LATEST:
        return adm_args_reset(a, st, ADM_RESET_TO_LATEST, eb);
    case ADM_OPT_TO_OFFSET:
        if (adm_args_reset(a, st, ADM_RESET_TO_OFFSET, eb) != SM_OK)
            return SM_ERR_INVALID;
        return adm_args_int(st, o->name, val, 0, INT64_MAX, &a->reset_value, eb);
    case ADM_OPT_SHIFT_BY:
        if (adm_args_reset(a, st, ADM_RESET_SHIFT_BY, eb) != SM_OK)
            return SM_ERR_INVALID;
        return adm_args_int(st, o->name, val, INT64_MIN, INT64_MAX, &a->reset_value, eb);
    case ADM_OPT_EXECUTE:
        a->execute = true;
        return SM_OK;
    case ADM_OPT_DRY_RUN:
        a->execute = false;
        return SM_OK;
    case ADM_OPT_TOPICS:
        return adm_args_topics(a, st, val, eb);
    case ADM_OPT_BROKERS:
        return adm_args_brokers(a, st, o->name, val, eb);
    case ADM_OPT_PLAN:
        if (val[0] == '\0')
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s: empty file name", st->cmd, o->name);
        a->plan = val;
        return SM_OK;
    case ADM_OPT_TYPE:
        if (strcasecmp(val, "preferred") == 0)
            a->election = ADM_ELECTION_PREFERRED;
        else if (strcasecmp(val, "unclean") == 0)
            a->election = ADM_ELECTION_UNCLEAN;
        else
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s: '%s' is not preferred or unclean",
                                 st->cmd, o->name, val);
        return SM_OK;
    case ADM_OPT_ALL_TOPIC_PARTITIONS:
        a->all_topic_partitions = true;
        return SM_OK;
    case ADM_OPT_PARTITION:
        return adm_args_i32(st, o->name, val, 0, INT32_MAX, &a->partition, eb);
    }
    return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: unhandled option %s", st->cmd, o->name);
}

/* ---- the walk over argv -------------------------------------------------------------------- */

/* Splits "--name=value" into the name length and value; *val stays NULL without '='. */
static size_t adm_args_split(const char *arg, const char **val)
{
    const char *eq = strchr(arg, '=');

    *val = eq ? eq + 1 : NULL;
    return eq ? (size_t)(eq - arg) : strlen(arg);
}

/* Reads the value of option argv[*i] (inline after '=' or the next word). */
static sm_err_t adm_args_value(int argc, char *const *argv, int *i, const char *inl,
                               const adm_args_state_t *st, const char *opt, const char **val,
                               sm_errbuf_t *eb)
{
    if (inl != NULL) {
        *val = inl;
        return SM_OK;
    }
    if (*i + 1 >= argc)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s%s%s needs a value", st->cmd,
                             st->cmd[0] ? ": " : "", opt);
    *val = argv[++*i];
    return SM_OK;
}

/* Handles a global option at argv[*i]. Returns 1 when it was one (err set on a bad value), 0
 * when it was not. */
static int adm_args_global(adm_args_t *a, int argc, char *const *argv, int *i, sm_err_t *err,
                           sm_errbuf_t *eb)
{
    const adm_args_state_t g = {.cmd = ""}; /* global options' messages name no command */
    const char *arg = argv[*i], *inl, *val = NULL;
    size_t n = adm_args_split(arg, &inl);

    *err = SM_OK;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        a->help = true;
        return 1;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        a->version = true;
        return 1;
    }
    if (strcmp(arg, "--json") == 0) {
        a->json = true;
        return 1;
    }
    if (n == strlen("--zookeeper") && strncmp(arg, "--zookeeper", n) == 0) {
        char why[200];

        *err = adm_args_value(argc, argv, i, inl, &g, "--zookeeper", &val, eb);
        if (*err == SM_OK && sm_config_check_zk_connect(val, why, sizeof(why)) < 0)
            *err = sm_errbuf_set(eb, SM_ERR_INVALID, "--zookeeper: %s", why);
        a->zookeeper = val;
        return 1;
    }
    if (n == strlen("--timeout-ms") && strncmp(arg, "--timeout-ms", n) == 0) {
        *err = adm_args_value(argc, argv, i, inl, &g, "--timeout-ms", &val, eb);
        if (*err == SM_OK)
            *err = adm_args_int(&g, "--timeout-ms", val, 1, INT32_MAX, &a->timeout_ms, eb);
        return 1;
    }
    return 0;
}

/* Writes "create, list, ..." : the subcommands of family. */
static void adm_args_subs(const char *family, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < ADM_N_CMDS && used < len; i++) {
        const adm_args_cmd_t *k = &adm_args_cmds[i];
        int r;

        if (strcmp(k->family, family) != 0 || k->sub == NULL)
            continue;
        r = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", k->sub);
        used += r > 0 ? (size_t)r : 0;
    }
}

/* Finds the command for family [sub] and sets *c. Returns SM_ERR_NOT_FOUND (no message) when
 * family needs a subcommand and sub is NULL, SM_ERR_INVALID for an unknown word. */
static sm_err_t adm_args_find_cmd(const char *family, const char *sub, const adm_args_cmd_t **c,
                                  sm_errbuf_t *eb)
{
    char subs[200];
    bool known = false;

    *c = NULL;
    for (size_t i = 0; i < ADM_N_CMDS; i++) {
        const adm_args_cmd_t *k = &adm_args_cmds[i];

        if (strcmp(k->family, family) != 0)
            continue;
        known = true;
        if (k->sub == NULL || (sub != NULL && strcmp(k->sub, sub) == 0)) {
            *c = k;
            return SM_OK;
        }
    }
    if (!known)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "unknown command '%s' (see --help)", family);
    if (sub == NULL)
        return SM_ERR_NOT_FOUND;
    adm_args_subs(family, subs, sizeof(subs));
    return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: unknown subcommand '%s' (expected %s)", family,
                         sub, subs);
}

static sm_err_t adm_args_alloc(adm_args_t *a, int argc, sm_errbuf_t *eb)
{
    size_t n = argc > 0 ? (size_t)argc : 1;

    memset(a, 0, sizeof(*a));
    a->timeout_ms = ADM_ARGS_DEFAULT_TIMEOUT_MS;
    a->partitions = -1;
    a->replication_factor = -1;
    a->partition = -1;
    a->interval_ms = 1000;
    a->configs = calloc(n, sizeof(a->configs[0]));
    a->delete_configs = calloc(n, sizeof(a->delete_configs[0]));
    if (a->configs == NULL || a->delete_configs == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    return SM_OK;
}

/* Handles a word after the command words: an option of the command or its argument. */
static sm_err_t adm_args_cmd_word(adm_args_t *a, const adm_args_cmd_t *c, adm_args_state_t *st,
                                  int argc, char *const *argv, int *i, sm_errbuf_t *eb)
{
    const char *arg = argv[*i], *inl, *val = NULL;
    size_t n;
    sm_err_t err;

    if (arg[0] != '-' || arg[1] == '\0') {
        if (c->arg == ADM_ARG_NONE || a->name != NULL)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: unexpected argument '%s'", st->cmd, arg);
        a->name = arg;
        return SM_OK;
    }
    n = adm_args_split(arg, &inl);
    for (size_t k = 0; k < ADM_N_OPTS; k++) {
        const struct adm_args_opt *o = &adm_args_opts[k];

        if (strlen(o->name) != n || strncmp(o->name, arg, n) != 0 ||
            !(c->opts & (UINT64_C(1) << o->id)))
            continue;
        if (!o->has_value && inl != NULL)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: %s takes no value", st->cmd, o->name);
        if (o->has_value) {
            err = adm_args_value(argc, argv, i, inl, st, o->name, &val, eb);
            if (err != SM_OK)
                return err;
        }
        st->seen |= UINT64_C(1) << o->id;
        return adm_args_apply(a, st, o, val, eb);
    }
    return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: unknown option '%.*s' (see %s --help)", st->cmd,
                         (int)n, arg, st->cmd);
}

sm_err_t adm_args_parse(adm_args_t *a, int argc, char *const *argv, sm_errbuf_t *eb)
{
    const adm_args_cmd_t *c = NULL;
    const char *family = NULL;
    adm_args_state_t st = {.cmd = ""};
    sm_err_t err = adm_args_alloc(a, argc, eb);

    for (int i = 1; err == SM_OK && i < argc && !a->help && !a->version; i++) {
        const char *arg = argv[i];

        if (adm_args_global(a, argc, argv, &i, &err, eb))
            continue;
        if (c != NULL) {
            err = adm_args_cmd_word(a, c, &st, argc, argv, &i, eb);
        } else if (arg[0] == '-') {
            err = sm_errbuf_set(eb, SM_ERR_INVALID, "unknown option '%s' (see --help)", arg);
        } else {
            err = adm_args_find_cmd(family ? family : arg, family ? arg : NULL, &c, eb);
            if (err == SM_ERR_NOT_FOUND) {
                family = arg;
                err = SM_OK;
            } else if (err == SM_OK) {
                a->cmd = c->id;
                st.cmd = c->name;
            }
        }
    }
    if (err != SM_OK || a->help || a->version)
        return err;
    if (c == NULL && family != NULL) {
        char subs[200];

        adm_args_subs(family, subs, sizeof(subs));
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing subcommand (%s)", family, subs);
    }
    if (c == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "missing command (see --help)");
    if (c->arg == ADM_ARG_REQUIRED && a->name == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: missing %s", st.cmd, c->arg_name);
    if (c->check != NULL && (err = c->check(a, &st, eb)) != SM_OK)
        return err;
    if (a->zookeeper == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "missing --zookeeper HOST:PORT[/chroot]");
    return SM_OK;
}

void adm_args_deinit(adm_args_t *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; a->topics != NULL && i < a->n_topics; i++)
        free((char *)a->topics[i]);
    free(a->topics);
    free(a->brokers);
    free(a->assignment);
    free(a->configs);
    free(a->delete_configs);
    memset(a, 0, sizeof(*a));
}
