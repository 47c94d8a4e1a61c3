/*
 * br_topicconf: per-topic config overrides read from /config/topics/<topic>. See
 * br_topicconf.h. Entries live in a chained hash table keyed by topic name; every ZooKeeper
 * callback gets the module as its argument and finds the entry again from the node's path
 * (invariant 3), so br_topicconf_untrack may drop an entry whatever is in flight.
 */
#include "broker/br_topicconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/br_batch.h"
#include "broker/br_checkpoint.h"
#include "samsa.pb-c.h"
#include "sm_log.h"

#define BR_TOPICCONF_PREFIX      "/config/topics/"
#define BR_TOPICCONF_PATH_MAX    512
#define BR_TOPICCONF_MIN_BUCKETS 16

/* The log settings a topic can override, with the range the controller accepts for each
 * (ctl_validate.c). message.timestamp.type is parsed to 0 (CreateTime) or 1 (LogAppendTime). */
enum {
    BR_TC_SEGMENT_BYTES,
    BR_TC_SEGMENT_MS,
    BR_TC_RETENTION_MS,
    BR_TC_RETENTION_BYTES,
    BR_TC_INDEX_INTERVAL_BYTES,
    BR_TC_FLUSH_MESSAGES,
    BR_TC_FLUSH_MS,
    BR_TC_MAX_MESSAGE_BYTES,
    BR_TC_TIMESTAMP_TYPE,
    BR_TOPICCONF_NLOG
};

static const struct {
    const char *name;
    int64_t min, max;
} br_topicconf_log_keys[BR_TOPICCONF_NLOG] = {
    [BR_TC_SEGMENT_BYTES] = {"segment.bytes", 14, INT32_MAX},
    [BR_TC_SEGMENT_MS] = {"segment.ms", 1, INT64_MAX},
    [BR_TC_RETENTION_MS] = {"retention.ms", -1, INT64_MAX},
    [BR_TC_RETENTION_BYTES] = {"retention.bytes", INT64_MIN, INT64_MAX},
    [BR_TC_INDEX_INTERVAL_BYTES] = {"index.interval.bytes", 0, INT32_MAX},
    [BR_TC_FLUSH_MESSAGES] = {"flush.messages", 1, INT64_MAX},
    [BR_TC_FLUSH_MS] = {"flush.ms", 0, INT64_MAX},
    [BR_TC_MAX_MESSAGE_BYTES] = {"max.message.bytes", 0, INT32_MAX},
    [BR_TC_TIMESTAMP_TYPE] = {"message.timestamp.type", 0, 1},
};

typedef struct br_topicconf_entry {
    struct br_topicconf_entry *next;
    char *topic;
    int32_t min_isr; /* the override, valid when has_min_isr */
    bool has_min_isr;
    unsigned log_set;                 /* bit k: log_v[k] holds br_topicconf_log_keys[k] */
    int64_t log_v[BR_TOPICCONF_NLOG]; /* the log overrides, as parsed */
    bool tracked; /* false: untracked while a read was in flight (invariant 3) */
    bool reading; /* a get or exists is in flight */
    bool stale;   /* a re-read was asked for while reading */
} br_topicconf_entry_t;

struct br_topicconf {
    sm_zk_t *zk;
    br_topicconf_fn listener; /* may be NULL */
    void *listener_arg;
    int32_t default_min_isr;
    br_topicconf_entry_t **buckets;
    size_t n_buckets; /* a power of two */
    size_t n_entries; /* tracked or lingering */
    size_t n_tracked;
};

static void br_topicconf_read(br_topicconf_t *tc, br_topicconf_entry_t *e);

/* ---- table --------------------------------------------------------------------------------- */

/* FNV-1a. */
static size_t br_topicconf_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static br_topicconf_entry_t **br_topicconf_slot(const br_topicconf_t *tc, const char *topic)
{
    br_topicconf_entry_t **pe = &tc->buckets[br_topicconf_hash(topic) & (tc->n_buckets - 1)];

    while (*pe != NULL && strcmp((*pe)->topic, topic) != 0)
        pe = &(*pe)->next;
    return pe;
}

static br_topicconf_entry_t *br_topicconf_find(const br_topicconf_t *tc, const char *topic)
{
    return *br_topicconf_slot(tc, topic);
}

/* Doubles the table when it is full; a failed allocation keeps the old one (longer chains). */
static void br_topicconf_grow(br_topicconf_t *tc)
{
    size_t n = tc->n_buckets * 2;
    br_topicconf_entry_t **nb;

    if (tc->n_entries < tc->n_buckets || n > SIZE_MAX / sizeof(*nb))
        return;
    nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return;
    for (size_t i = 0; i < tc->n_buckets; i++) {
        br_topicconf_entry_t *e = tc->buckets[i], *next;

        for (; e != NULL; e = next) {
            size_t b = br_topicconf_hash(e->topic) & (n - 1);

            next = e->next;
            e->next = nb[b];
            nb[b] = e;
        }
    }
    free(tc->buckets);
    tc->buckets = nb;
    tc->n_buckets = n;
}

static void br_topicconf_entry_free(br_topicconf_entry_t *e)
{
    if (e == NULL)
        return;
    free(e->topic);
    free(e);
}

/* Unlinks and frees the entry of topic, if any. */
static void br_topicconf_drop(br_topicconf_t *tc, const char *topic)
{
    br_topicconf_entry_t **pe = br_topicconf_slot(tc, topic);
    br_topicconf_entry_t *e = *pe;

    if (e == NULL)
        return;
    *pe = e->next;
    tc->n_entries--;
    if (e->tracked)
        tc->n_tracked--;
    br_topicconf_entry_free(e);
}

/* The tracked entry of topic, made if needed (without starting a read). NULL when out of
 * memory. */
static br_topicconf_entry_t *br_topicconf_get_entry(br_topicconf_t *tc, const char *topic)
{
    br_topicconf_entry_t *e = br_topicconf_find(tc, topic);

    if (e == NULL) {
        br_topicconf_grow(tc);
        e = calloc(1, sizeof(*e));
        if (e == NULL || (e->topic = strdup(topic)) == NULL) {
            free(e);
            return NULL;
        }
        br_topicconf_entry_t **head = &tc->buckets[br_topicconf_hash(topic) & (tc->n_buckets - 1)];
        e->next = *head;
        *head = e;
        tc->n_entries++;
    }
    if (!e->tracked) {
        e->tracked = true;
        tc->n_tracked++;
    }
    return e;
}

/* ---- parsing ------------------------------------------------------------------------------- */

/* Parses a min.insync.replicas value: a decimal integer in [1, INT32_MAX]. */
static bool br_topicconf_parse_min_isr(const char *s, int32_t *out)
{
    int64_t v;

    if (br_checkpoint_parse_int(s, 1, INT32_MAX, &v) != SM_OK)
        return false;
    *out = (int32_t)v;
    return true;
}

/* Parses the value of log key k into e (a warning and the default when it is not valid). */
static sm_err_t br_topicconf_parse_log_key(br_topicconf_entry_t *e, int k, const char *value)
{
    int64_t v;
    bool ok;

    if (k == BR_TC_TIMESTAMP_TYPE) {
        ok = strcmp(value, "CreateTime") == 0 || strcmp(value, "LogAppendTime") == 0;
        v = strcmp(value, "LogAppendTime") == 0;
    } else {
        ok = br_checkpoint_parse_int(value, br_topicconf_log_keys[k].min,
                                     br_topicconf_log_keys[k].max, &v) == SM_OK;
    }
    if (!ok) {
        sm_log_warn("topic %s: %s '%.40s' is not valid; the broker's setting applies", e->topic,
                    br_topicconf_log_keys[k].name, value);
        return SM_ERR_INVALID;
    }
    e->log_v[k] = v;
    e->log_set |= 1u << k;
    return SM_OK;
}

/* Sets e's override from a TopicConfig blob; see br_topicconf_apply_blob. */
static sm_err_t br_topicconf_apply(br_topicconf_entry_t *e, const uint8_t *data, size_t len)
{
    static const uint8_t empty[1];
    Samsa__TopicConfig *cfg = samsa__topic_config__unpack(NULL, len, data != NULL ? data : empty);
    sm_err_t err = SM_OK;
    const char *value = NULL;                           /* of min.insync.replicas */
    const char *log_values[BR_TOPICCONF_NLOG] = {NULL}; /* of the log keys */

    e->has_min_isr = false;
    e->log_set = 0;
    if (cfg == NULL) {
        sm_log_warn("topic %s: cannot decode %s%s; the broker's settings apply", e->topic,
                    BR_TOPICCONF_PREFIX, e->topic);
        return SM_ERR_CORRUPT;
    }
    for (size_t i = 0; i < cfg->n_configs; i++) {
        const Samsa__ConfigEntry *ce = cfg->configs[i];
        const char *v = ce->value != NULL ? ce->value : "";

        /* The last occurrence wins, as a later SET would. */
        if (ce->name == NULL)
            continue;
        if (strcmp(ce->name, "min.insync.replicas") == 0)
            value = v;
        for (int k = 0; k < BR_TOPICCONF_NLOG; k++)
            if (strcmp(ce->name, br_topicconf_log_keys[k].name) == 0)
                log_values[k] = v;
    }
    for (int k = 0; k < BR_TOPICCONF_NLOG; k++)
        if (log_values[k] != NULL && br_topicconf_parse_log_key(e, k, log_values[k]) != SM_OK)
            err = SM_ERR_INVALID;
    if (value != NULL) {
        if (br_topicconf_parse_min_isr(value, &e->min_isr)) {
            e->has_min_isr = true;
        } else {
            sm_log_warn("topic %s: min.insync.replicas '%.40s' is not a positive integer; the "
                        "default applies",
                        e->topic, value);
            err = SM_ERR_INVALID;
        }
    }
    samsa__topic_config__free_unpacked(cfg, NULL);
    return err;
}

/* ---- ZooKeeper reads ----------------------------------------------------------------------- */

/* The topic a config path names, or NULL when path is not /config/topics/<topic>. */
static const char *br_topicconf_topic_of(const char *path)
{
    size_t n = strlen(BR_TOPICCONF_PREFIX);

    if (path == NULL || strncmp(path, BR_TOPICCONF_PREFIX, n) != 0 || path[n] == '\0')
        return NULL;
    return path + n;
}

/* The entry a completion or watch for path belongs to, or NULL. */
static br_topicconf_entry_t *br_topicconf_entry_of(br_topicconf_t *tc, const char *path)
{
    const char *topic = br_topicconf_topic_of(path);

    return topic != NULL ? br_topicconf_find(tc, topic) : NULL;
}

/* A read of e completed: drops an entry untracked meanwhile, or issues the re-read asked for
 * while it was in flight. Returns e, or NULL when it was dropped. */
static br_topicconf_entry_t *br_topicconf_read_done(br_topicconf_t *tc, br_topicconf_entry_t *e)
{
    e->reading = false;
    if (!e->tracked) {
        br_topicconf_drop(tc, e->topic);
        return NULL;
    }
    return e;
}

static void br_topicconf_on_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    br_topicconf_t *tc = arg;
    br_topicconf_entry_t *e = br_topicconf_entry_of(tc, path);

    (void)zk;
    if (e == NULL || !e->tracked)
        return;
    if (ev == SM_ZK_WATCH_DELETED && e->has_min_isr) {
        sm_log_info("topic %s: config removed; min.insync.replicas is the default %d", e->topic,
                    (int)tc->default_min_isr);
        e->has_min_isr = false;
    }
    br_topicconf_read(tc, e);
}

static void br_topicconf_on_exists(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_topicconf_t *tc = arg;
    br_topicconf_entry_t *e = br_topicconf_entry_of(tc, res->path);

    (void)zk;
    if (e == NULL || !e->reading || (e = br_topicconf_read_done(tc, e)) == NULL)
        return;
    /* Created between our get and exists: the watch did not fire for it, so read again. */
    if (res->err == SM_OK || e->stale) {
        e->stale = false;
        br_topicconf_read(tc, e);
    }
}

static void br_topicconf_on_get(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_topicconf_t *tc = arg;
    br_topicconf_entry_t *e = br_topicconf_entry_of(tc, res->path);
    int32_t before;

    if (e == NULL || !e->reading || (e = br_topicconf_read_done(tc, e)) == NULL)
        return;
    before = br_topicconf_min_isr(tc, e->topic);
    if (res->err == SM_OK) {
        (void)br_topicconf_apply(e, res->data, res->len);
    } else if (res->err == SM_ERR_NOT_FOUND) {
        e->has_min_isr = false;
        e->log_set = 0;
        /* Watch for its creation (an alter of a topic that had no config node). */
        if (!e->stale && sm_zk_exists(zk, res->path, br_topicconf_on_watch, tc,
                                      br_topicconf_on_exists, tc) == SM_OK)
            e->reading = true;
    }
    /* Other errors (connection loss, close): the session callback asks again. */
    if (br_topicconf_min_isr(tc, e->topic) != before)
        sm_log_info("topic %s: min.insync.replicas is now %d", e->topic,
                    (int)br_topicconf_min_isr(tc, e->topic));
    /* The listener may not untrack: e stays valid for the lines below. */
    if ((res->err == SM_OK || res->err == SM_ERR_NOT_FOUND) && tc->listener != NULL)
        tc->listener(tc->listener_arg, e->topic);
    if (e->stale && !e->reading) {
        e->stale = false;
        br_topicconf_read(tc, e);
    }
}

static void br_topicconf_read(br_topicconf_t *tc, br_topicconf_entry_t *e)
{
    char path[BR_TOPICCONF_PATH_MAX];

    if (tc->zk == NULL)
        return;
    if (e->reading) {
        e->stale = true;
        return;
    }
    snprintf(path, sizeof(path), "%s%s", BR_TOPICCONF_PREFIX, e->topic);
    if (sm_zk_get(tc->zk, path, br_topicconf_on_watch, tc, br_topicconf_on_get, tc) == SM_OK)
        e->reading = true;
}

/* ---- public -------------------------------------------------------------------------------- */

sm_err_t br_topicconf_new(sm_zk_t *zk, int32_t default_min_isr, br_topicconf_t **out)
{
    br_topicconf_t *tc = calloc(1, sizeof(*tc));

    *out = NULL;
    if (tc == NULL)
        return SM_ERR_NOMEM;
    tc->buckets = calloc(BR_TOPICCONF_MIN_BUCKETS, sizeof(*tc->buckets));
    if (tc->buckets == NULL) {
        free(tc);
        return SM_ERR_NOMEM;
    }
    tc->n_buckets = BR_TOPICCONF_MIN_BUCKETS;
    tc->zk = zk;
    tc->default_min_isr = default_min_isr < 1 ? 1 : default_min_isr;
    *out = tc;
    return SM_OK;
}

void br_topicconf_free(br_topicconf_t *tc)
{
    if (tc == NULL)
        return;
    for (size_t i = 0; i < tc->n_buckets; i++) {
        br_topicconf_entry_t *e = tc->buckets[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            br_topicconf_entry_free(e);
        }
    }
    free(tc->buckets);
    free(tc);
}

/* True when /config/topics/<topic> is a valid znode path. */
static bool br_topicconf_topic_ok(const char *topic)
{
    char path[BR_TOPICCONF_PATH_MAX];
    int n;

    if (topic == NULL || topic[0] == '\0' || strchr(topic, '/') != NULL)
        return false;
    n = snprintf(path, sizeof(path), "%s%s", BR_TOPICCONF_PREFIX, topic);
    return n > 0 && (size_t)n < sizeof(path) && sm_zk_path_valid(path);
}

void br_topicconf_track(br_topicconf_t *tc, const char *topic)
{
    br_topicconf_entry_t *e;
    bool lingering;

    if (tc == NULL)
        return;
    e = br_topicconf_find(tc, topic != NULL ? topic : "");
    if (e != NULL && e->tracked)
        return;
    if (!br_topicconf_topic_ok(topic)) {
        sm_log_warn("topic '%.60s': not a valid config node name; min.insync.replicas is the "
                    "default",
                    topic != NULL ? topic : "");
        return;
    }
    lingering = e != NULL; /* untracked while its read is in flight: redo that read */
    e = br_topicconf_get_entry(tc, topic);
    if (e == NULL) {
        sm_log_warn("topic %s: out of memory tracking its config; min.insync.replicas is the "
                    "default",
                    topic);
        return;
    }
    if (lingering)
        e->stale = true;
    else
        br_topicconf_read(tc, e);
}

void br_topicconf_untrack(br_topicconf_t *tc, const char *topic)
{
    br_topicconf_entry_t *e;

    if (tc == NULL || topic == NULL || (e = br_topicconf_find(tc, topic)) == NULL || !e->tracked)
        return;
    if (!e->reading) {
        br_topicconf_drop(tc, topic);
        return;
    }
    e->tracked = false;
    e->stale = false;
    e->has_min_isr = false;
    e->log_set = 0;
    tc->n_tracked--;
}

int32_t br_topicconf_min_isr(const br_topicconf_t *tc, const char *topic)
{
    const br_topicconf_entry_t *e;

    if (tc == NULL)
        return 1;
    e = topic != NULL ? br_topicconf_find(tc, topic) : NULL;
    if (e != NULL && e->tracked && e->has_min_isr)
        return e->min_isr;
    return tc->default_min_isr;
}

void br_topicconf_overlay(void *arg, const char *topic, br_log_config_t *cfg)
{
    const br_topicconf_t *tc = arg;
    const br_topicconf_entry_t *e;
    const int64_t *v;

    if (tc == NULL || topic == NULL || (e = br_topicconf_find(tc, topic)) == NULL || !e->tracked)
        return;
    v = e->log_v;
    if (e->log_set & (1u << BR_TC_SEGMENT_BYTES))
        cfg->segment_bytes = v[BR_TC_SEGMENT_BYTES] < BR_BATCH_HEADER_SIZE
                                 ? BR_BATCH_HEADER_SIZE /* no batch fits either way */
                                 : v[BR_TC_SEGMENT_BYTES];
    if (e->log_set & (1u << BR_TC_SEGMENT_MS))
        cfg->segment_ms = v[BR_TC_SEGMENT_MS];
    if (e->log_set & (1u << BR_TC_RETENTION_MS))
        cfg->retention_ms = v[BR_TC_RETENTION_MS];
    if (e->log_set & (1u << BR_TC_RETENTION_BYTES))
        cfg->retention_bytes = v[BR_TC_RETENTION_BYTES] < 0 ? -1 : v[BR_TC_RETENTION_BYTES];
    if (e->log_set & (1u << BR_TC_INDEX_INTERVAL_BYTES))
        cfg->index_interval_bytes = v[BR_TC_INDEX_INTERVAL_BYTES];
    if (e->log_set & (1u << BR_TC_FLUSH_MESSAGES))
        cfg->flush_interval_messages = v[BR_TC_FLUSH_MESSAGES];
    if (e->log_set & (1u << BR_TC_FLUSH_MS))
        cfg->flush_interval_ms = v[BR_TC_FLUSH_MS];
    if (e->log_set & (1u << BR_TC_MAX_MESSAGE_BYTES))
        cfg->max_message_bytes = v[BR_TC_MAX_MESSAGE_BYTES];
    if (e->log_set & (1u << BR_TC_TIMESTAMP_TYPE))
        cfg->log_append_time = v[BR_TC_TIMESTAMP_TYPE] == 1;
}

void br_topicconf_set_listener(br_topicconf_t *tc, br_topicconf_fn fn, void *arg)
{
    if (tc == NULL)
        return;
    tc->listener = fn;
    tc->listener_arg = arg;
}

void br_topicconf_on_session(br_topicconf_t *tc, sm_zk_event_t ev)
{
    if (tc == NULL || ev != SM_ZK_EV_CONNECTED)
        return;
    for (size_t i = 0; i < tc->n_buckets; i++)
        for (br_topicconf_entry_t *e = tc->buckets[i]; e != NULL; e = e->next)
            if (e->tracked)
                br_topicconf_read(tc, e);
}

size_t br_topicconf_count(const br_topicconf_t *tc)
{
    return tc != NULL ? tc->n_tracked : 0;
}

sm_err_t br_topicconf_apply_blob(br_topicconf_t *tc, const char *topic, const uint8_t *data,
                                 size_t len)
{
    br_topicconf_entry_t *e;

    if (tc == NULL || topic == NULL || topic[0] == '\0')
        return SM_ERR_INVALID;
    e = br_topicconf_find(tc, topic);
    if (e == NULL || !e->tracked) {
        if (!br_topicconf_topic_ok(topic))
            return SM_ERR_INVALID;
        e = br_topicconf_get_entry(tc, topic);
        if (e == NULL)
            return SM_ERR_NOMEM;
    }
    return br_topicconf_apply(e, data, len);
}
