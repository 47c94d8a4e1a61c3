/*
 * adm_args: the command line of samsa-admin, parsed and checked into one adm_args_t.
 *
 *   samsa-admin --zookeeper HOST:PORT[/chroot] [--json] [--timeout-ms N] COMMAND [ARG] [OPTIONS]
 *
 * Global options may come before or after the command words. Every command's options are
 * checked here (types, ranges, required and exclusive options, topic names), so a command
 * function receives arguments it can trust. Nothing here talks to the network.
 */
#ifndef ADM_ARGS_H
#define ADM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm_err.h"

typedef enum adm_cmd {
    ADM_CMD_NONE = 0,
    ADM_CMD_TOPICS_CREATE,
    ADM_CMD_TOPICS_LIST,
    ADM_CMD_TOPICS_DESCRIBE,
    ADM_CMD_TOPICS_DELETE,
    ADM_CMD_TOPICS_ALTER,
    ADM_CMD_BROKERS_LIST,
    ADM_CMD_BROKERS_WATCH,
    ADM_CMD_CONTROLLER,
    ADM_CMD_GROUPS_LIST,
    ADM_CMD_GROUPS_DESCRIBE,
    ADM_CMD_GROUPS_RESET_OFFSETS,
    ADM_CMD_REASSIGN_GENERATE,
    ADM_CMD_REASSIGN_EXECUTE,
    ADM_CMD_REASSIGN_STATUS,
    ADM_CMD_REASSIGN_VERIFY,
    ADM_CMD_REASSIGN_CANCEL,
    ADM_CMD_ELECT_LEADERS,
    ADM_CMD_HEALTH,
    ADM_CMD_ZK_GET,
    ADM_CMD__COUNT
} adm_cmd_t;

typedef enum adm_reset {
    ADM_RESET_NONE = 0,
    ADM_RESET_TO_EARLIEST,
    ADM_RESET_TO_LATEST,
    ADM_RESET_TO_OFFSET, /* reset_value is the offset */
    ADM_RESET_SHIFT_BY,  /* reset_value is the (signed) shift */
} adm_reset_t;

typedef enum adm_election {
    ADM_ELECTION_PREFERRED = 0,
    ADM_ELECTION_UNCLEAN,
} adm_election_t;

#define ADM_ARGS_DEFAULT_TIMEOUT_MS 30000

/* Strings point into argv; arrays are owned and released by adm_args_deinit(). */
typedef struct adm_args {
    /* global */
    const char *zookeeper; /* --zookeeper, checked as host:port[,host:port]...[/chroot] */
    bool json;             /* --json */
    int64_t timeout_ms;    /* --timeout-ms, >= 1 */
    bool help;    /* --help: print adm_args_usage(cmd) and exit 0; nothing else is checked */
    bool version; /* --version: print the version and exit 0; nothing else is checked */
    adm_cmd_t cmd;

    /* The command's argument: the topic (topics create|describe|delete|alter, also given as
     * --topic), the group (groups describe|reset-offsets, also --group) or the znode path (zk
     * get). NULL when absent (only topics describe makes it optional). */
    const char *name;

    /* topics create|alter */
    int32_t partitions;         /* --partitions, -1 unset */
    int32_t replication_factor; /* --replication-factor, -1 unset */
    /* --replica-assignment "1:2,2:3": assignment_partitions rows of assignment_rf broker ids,
     * row-major in assignment; NULL unset. */
    int32_t *assignment;
    int32_t assignment_partitions;
    int32_t assignment_rf;
    const char **configs; /* --config key=value (checked to have a key and '=') */
    size_t n_configs;
    const char **delete_configs; /* --delete-config key (topics alter) */
    size_t n_delete_configs;
    bool if_not_exists; /* topics create */
    bool if_exists;     /* topics delete|alter */

    /* topics list|describe */
    bool exclude_internal; /* --exclude-internal */
    bool under_replicated; /* --under-replicated(-partitions) */
    bool unavailable;      /* --unavailable(-partitions) */

    /* brokers watch */
    int64_t interval_ms; /* --interval-ms, default 1000 */
    int64_t count;       /* --count: stop after this many refreshes, 0 (default) = never */

    /* groups reset-offsets */
    const char *topic; /* --topic T (also elect-leaders) */
    bool all_topics;   /* --all-topics */
    adm_reset_t reset; /* exactly one of --to-earliest --to-latest --to-offset N --shift-by N */
    int64_t reset_value;
    bool execute; /* --execute (the default is a dry run, also --dry-run) */

    /* reassign */
    const char **topics; /* generate: --topics a,b (checked names) */
    size_t n_topics;
    int32_t *brokers; /* generate: --brokers 1,2,3 (distinct ids >= 0) */
    size_t n_brokers;
    const char *plan; /* execute|verify (required), cancel (optional): --plan FILE */

    /* elect-leaders */
    adm_election_t election;   /* --type preferred|unclean */
    bool all_topic_partitions; /* --all-topic-partitions, or --topic T [--partition P] */
    int32_t partition;         /* --partition, -1 unset */
} adm_args_t;

/* Parses argv[1..argc-1] into a (the caller calls adm_args_deinit(a) afterwards, also on error).
 * Returns SM_OK (a->help may be set), SM_ERR_INVALID with one line in eb naming the problem
 * ("unknown command 'x' (see --help)", "missing --zookeeper HOST:PORT[/chroot]",
 * "topics create: --partitions: 'x' is not an integer"), or SM_ERR_NOMEM. */
sm_err_t adm_args_parse(adm_args_t *a, int argc, char *const *argv, sm_errbuf_t *eb);

void adm_args_deinit(adm_args_t *a);

/* "topics create", "controller"...; "" for ADM_CMD_NONE. */
const char *adm_args_cmd_name(adm_cmd_t cmd);

/* Prints usage: the whole tool for ADM_CMD_NONE, else the one command. */
void adm_args_usage(FILE *f, adm_cmd_t cmd);

/* Kafka's topic name rule: 1..249 of [a-zA-Z0-9._-], not "." or "..". Returns 0 or -1 with
 * the reason in why. */
int adm_args_check_topic(const char *name, char *why, size_t why_len);

#endif
