/*
 * ctl_validate: topic names, topic config overrides and explicit assignments (see
 * ctl_validate.h). The config table keeps Kafka's types and lower bounds (LogConfig): a
 * value is a long, an int, a boolean, one of a few words, or a list of words.
 */
#include "controller/ctl_validate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controller/ctl_assign.h"
#include "sm_config.h"

typedef enum ctl_validate_type {
    CTL_VT_LONG,
    CTL_VT_INT,
    CTL_VT_BOOL,
    CTL_VT_WORD, /* one of choices */
    CTL_VT_LIST, /* comma-separated, each one of choices, at least one */
} ctl_validate_type_t;

typedef struct ctl_validate_key {
    const char *name;
    ctl_validate_type_t type;
    int64_t min;
    const char *const *choices;
} ctl_validate_key_t;

static const char *const ctl_validate_policies[] = {"delete", "compact", NULL};
static const char *const ctl_validate_ts_types[] = {"CreateTime", "LogAppendTime", NULL};

static const ctl_validate_key_t ctl_validate_keys[] = {
    {"cleanup.policy", CTL_VT_LIST, 0, ctl_validate_policies},
    {"retention.ms", CTL_VT_LONG, -1, NULL},
    {"retention.bytes", CTL_VT_LONG, INT64_MIN, NULL},
    {"segment.bytes", CTL_VT_INT, 14, NULL},
    {"segment.ms", CTL_VT_LONG, 1, NULL},
    {"min.insync.replicas", CTL_VT_INT, 1, NULL},
    {"unclean.leader.election.enable", CTL_VT_BOOL, 0, NULL},
    {"message.timestamp.type", CTL_VT_WORD, 0, ctl_validate_ts_types},
    {"max.message.bytes", CTL_VT_INT, 0, NULL},
    {"flush.messages", CTL_VT_LONG, 1, NULL},
    {"flush.ms", CTL_VT_LONG, 0, NULL},
    {"index.interval.bytes", CTL_VT_INT, 0, NULL},
};

static bool ctl_validate_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

sm_err_t ctl_validate_topic_name(const char *name, sm_errbuf_t *eb)
{
    size_t len = name != NULL ? strlen(name) : 0;

    if (len == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "topic name is illegal: it is empty");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "topic name cannot be \".\" or \"..\"");
    if (len > CTL_TOPIC_NAME_MAX)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "topic name is illegal: it is longer than %d characters (%zu)",
                             CTL_TOPIC_NAME_MAX, len);
    for (size_t i = 0; i < len; i++) {
        if (!ctl_validate_name_char(name[i]))
            return sm_errbuf_set(eb, SM_ERR_INVALID,
                                 "topic name \"%.64s\" is illegal: it contains a character "
                                 "other than ASCII alphanumerics, '.', '_' and '-'",
                                 name);
    }
    return SM_OK;
}

sm_err_t ctl_validate_parse_bool(const char *value, bool *out)
{
    if (value != NULL && strcasecmp(value, "true") == 0) {
        *out = true;
        return SM_OK;
    }
    if (value != NULL && strcasecmp(value, "false") == 0) {
        *out = false;
        return SM_OK;
    }
    return SM_ERR_INVALID;
}

static bool ctl_validate_is_choice(const char *const *choices, const char *s, size_t len)
{
    for (size_t i = 0; choices[i] != NULL; i++) {
        if (strlen(choices[i]) == len && strncasecmp(choices[i], s, len) == 0)
            return true;
    }
    return false;
}

/* A comma-separated list of choices, blanks around items allowed, at least one item. */
static bool ctl_validate_list(const char *const *choices, const char *value)
{
    const char *p = value;
    size_t items = 0;

    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (!ctl_validate_is_choice(choices, p, len))
            return false;
        items++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return items > 0;
}

static sm_err_t ctl_validate_value(const ctl_validate_key_t *k, const char *value, sm_errbuf_t *eb)
{
    char why[160];
    int64_t v;
    bool b;
    int64_t max = k->type == CTL_VT_INT ? INT32_MAX : INT64_MAX;

    switch (k->type) {
    case CTL_VT_LONG:
    case CTL_VT_INT:
        if (sm_config_parse_i64(value, k->min, max, &v, why, sizeof(why)) < 0)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "invalid value for %s: %s", k->name, why);
        return SM_OK;
    case CTL_VT_BOOL:
        if (ctl_validate_parse_bool(value, &b) != SM_OK)
            return sm_errbuf_set(eb, SM_ERR_INVALID,
                                 "invalid value for %s: '%.64s' is not true or false", k->name,
                                 value);
        return SM_OK;
    case CTL_VT_WORD:
        if (!ctl_validate_is_choice(k->choices, value, strlen(value)))
            return sm_errbuf_set(eb, SM_ERR_INVALID, "invalid value for %s: '%.64s'", k->name,
                                 value);
        return SM_OK;
    case CTL_VT_LIST:
    default:
        if (!ctl_validate_list(k->choices, value))
            return sm_errbuf_set(eb, SM_ERR_INVALID, "invalid value for %s: '%.64s'", k->name,
                                 value);
        return SM_OK;
    }
}

sm_err_t ctl_validate_topic_config(const char *key, const char *value, sm_errbuf_t *eb)
{
    size_t n = sizeof(ctl_validate_keys) / sizeof(ctl_validate_keys[0]);

    if (key == NULL || key[0] == '\0')
        return sm_errbuf_set(eb, SM_ERR_INVALID, "topic config with an empty name");
    if (value == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "topic config %.64s has no value", key);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ctl_validate_keys[i].name, key) == 0)
            return ctl_validate_value(&ctl_validate_keys[i], value, eb);
    }
    return sm_errbuf_set(eb, SM_ERR_INVALID, "unknown topic config '%.64s'", key);
}

/* Rows must be distinct partitions covering 0..n-1: counting each index once suffices. */
static sm_err_t ctl_validate_partition_ids(const int32_t *partitions, size_t n, sm_errbuf_t *eb)
{
    unsigned char *seen = calloc(n > 0 ? n : 1, 1);
    sm_err_t err = SM_OK;

    if (seen == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && err == SM_OK; i++) {
        int32_t p = partitions[i];

        if (p < 0 || (size_t)p >= n)
            err = sm_errbuf_set(eb, SM_ERR_INVALID,
                                "partitions must be numbered 0..%zu; found partition %d", n - 1,
                                (int)p);
        else if (seen[p])
            err = sm_errbuf_set(eb, SM_ERR_INVALID, "partition %d is assigned twice", (int)p);
        else
            seen[p] = 1;
    }
    free(seen);
    return err;
}

static sm_err_t ctl_validate_row(int32_t p, const int32_t *r, size_t n, size_t want,
                                 ctl_validate_known_fn known, void *arg, sm_errbuf_t *eb)
{
    if (n == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "partition %d has no replicas", (int)p);
    if (n > CTL_MAX_REPLICAS)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "partition %d has more than %d replicas", (int)p,
                             CTL_MAX_REPLICAS);
    if (n != want)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "partition %d has %zu replicas, expected %zu (every partition "
                             "needs the same replication factor)",
                             (int)p, n, want);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (r[i] == r[j])
                return sm_errbuf_set(eb, SM_ERR_INVALID, "partition %d lists broker %d twice",
                                     (int)p, (int)r[i]);
        }
        if (known != NULL && !known(arg, r[i]))
            return sm_errbuf_set(eb, SM_ERR_INVALID, "partition %d names unknown broker %d", (int)p,
                                 (int)r[i]);
    }
    return SM_OK;
}

sm_err_t ctl_validate_assignment(const int32_t *partitions, const int32_t *const *replicas,
                                 const size_t *n_replicas, size_t n_partitions,
                                 ctl_validate_known_fn known, void *arg, sm_errbuf_t *eb)
{
    sm_err_t err;

    if (n_partitions == 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "the assignment lists no partitions");
    err = ctl_validate_partition_ids(partitions, n_partitions, eb);
    for (size_t i = 0; i < n_partitions && err == SM_OK; i++)
        err = ctl_validate_row(partitions[i], replicas[i], n_replicas[i], n_replicas[0], known, arg,
                               eb);
    return err;
}
