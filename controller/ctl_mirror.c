/*
 * ctl_mirror: the model kept current from ZooKeeper watches (see ctl_mirror.h for the
 * contract and DESIGN NOTES). Every read goes through ctl_mirror_read(), which consults the
 * watch registry (path -> armed watch kinds) so that each path carries at most one watch of
 * each kind; results are dispatched by read kind to small handlers that update the model and
 * tell the owner.
 *
 *   start: children(/brokers/ids)  -> get each broker
 *          children(/brokers/topics) -> get each topic -> get its config and every state node
 *          children(/admin/delete_topics)
 *   watch fired on P  -> read P again (with a watch, per the registry)
 */
#include "controller/ctl_mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/ctl_assign.h"
#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"
#include "controller/ctl_strmap.h"
#include "sm_log.h"

enum { CTL_MIRROR_W_DATA = 1, CTL_MIRROR_W_CHILD = 2 };

typedef enum ctl_mirror_read_kind {
    CTL_MR_BROKER_LIST = 1,
    CTL_MR_BROKER,
    CTL_MR_TOPIC_LIST,
    CTL_MR_TOPIC,
    CTL_MR_STATE,
    CTL_MR_STATE_EXISTS,
    CTL_MR_CONFIG,
    CTL_MR_CONFIG_EXISTS,
    CTL_MR_DELETION_LIST,
} ctl_mirror_read_kind_t;

typedef struct ctl_mirror_req {
    ctl_mirror_t *m;
    ctl_mirror_read_kind_t kind;
    bool watched; /* this read asked for the watch (registry bit is ours to clear) */
    uint64_t gen; /* session generation it was sent in */
} ctl_mirror_req_t;

typedef struct ctl_mirror_retry {
    ctl_mirror_read_kind_t kind;
    char *path;
} ctl_mirror_retry_t;

struct ctl_mirror {
    sm_zk_t *zk;
    ctl_model_t *model;
    ctl_mirror_cb cb;
    void *arg;
    ctl_strmap_t *watches; /* path -> (void *)(uintptr_t)bits */
    ctl_mirror_retry_t *retries;
    size_t n_retries, cap_retries;
    size_t pending;
    uint64_t gen;
    bool started, synced;
    int64_t load_started_ms;
};

static void ctl_mirror_read(ctl_mirror_t *m, ctl_mirror_read_kind_t kind, const char *path);

static int64_t ctl_mirror_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ctl_mirror_emit(ctl_mirror_t *m, ctl_mirror_kind_t kind, int32_t broker,
                            int64_t old_epoch, const char *topic, int32_t partition)
{
    ctl_mirror_event_t ev = {kind, broker, old_epoch, topic, partition};

    if (m->cb != NULL)
        m->cb(m->arg, &ev);
}

/* ---- watch registry ----------------------------------------------------------------------- */

static unsigned ctl_mirror_armed(const ctl_mirror_t *m, const char *path)
{
    return (unsigned)(uintptr_t)ctl_strmap_get(m->watches, path);
}

static void ctl_mirror_arm(ctl_mirror_t *m, const char *path, unsigned bit, bool on)
{
    unsigned bits = ctl_mirror_armed(m, path);

    bits = on ? bits | bit : bits & ~bit;
    if (bits == 0)
        ctl_strmap_remove(m->watches, path);
    else if (ctl_strmap_put(m->watches, path, (void *)(uintptr_t)bits, NULL) != SM_OK)
        sm_log_warn("out of memory tracking the watch on %s", path);
}

static unsigned ctl_mirror_kind_bit(ctl_mirror_read_kind_t kind)
{
    switch (kind) {
    case CTL_MR_BROKER_LIST:
    case CTL_MR_TOPIC_LIST:
    case CTL_MR_DELETION_LIST:
        return CTL_MIRROR_W_CHILD;
    default:
        return CTL_MIRROR_W_DATA;
    }
}

/* ---- retries after a disconnection -------------------------------------------------------- */

static void ctl_mirror_retry_add(ctl_mirror_t *m, ctl_mirror_read_kind_t kind, const char *path)
{
    char *copy;

    if (m->n_retries == m->cap_retries) {
        size_t cap = m->cap_retries ? m->cap_retries * 2 : 16;
        ctl_mirror_retry_t *r = realloc(m->retries, cap * sizeof(*r));

        if (r == NULL)
            goto nomem;
        m->retries = r;
        m->cap_retries = cap;
    }
    copy = strdup(path);
    if (copy == NULL)
        goto nomem;
    m->retries[m->n_retries++] = (ctl_mirror_retry_t){kind, copy};
    return;
nomem:
    sm_log_error("out of memory: read of %s lost until the next session", path);
}

static void ctl_mirror_retry_clear(ctl_mirror_t *m)
{
    for (size_t i = 0; i < m->n_retries; i++)
        free(m->retries[i].path);
    m->n_retries = 0;
}

/* ---- handlers ----------------------------------------------------------------------------- */

static void ctl_mirror_broker_gone(ctl_mirror_t *m, int32_t id)
{
    const ctl_broker_t *b = ctl_model_broker(m->model, id);
    int64_t epoch;

    if (b == NULL)
        return;
    epoch = b->epoch;
    ctl_model_broker_remove(m->model, id);
    ctl_mirror_emit(m, CTL_MIRROR_BROKER_DOWN, id, epoch, NULL, -1);
}

static bool ctl_mirror_name_listed(const sm_zk_result_t *res, const char *name)
{
    for (size_t i = 0; i < res->n_children; i++) {
        if (strcmp(res->children[i], name) == 0)
            return true;
    }
    return false;
}

static void ctl_mirror_on_broker_list(ctl_mirror_t *m, const sm_zk_result_t *res)
{
    char path[CTL_PATH_MAX], name[16];
    const ctl_broker_t *all;
    size_t n, i = 0;
    int32_t id;

    for (size_t c = 0; c < res->n_children; c++) {
        if (ctl_path_parse_int(res->children[c], &id))
            ctl_mirror_read(m, CTL_MR_BROKER, ctl_path_broker(path, sizeof(path), id));
    }
    all = ctl_model_brokers(m->model, &n);
    while (i < n) {
        snprintf(name, sizeof(name), "%d", (int)all[i].id);
        if (ctl_mirror_name_listed(res, name)) {
            i++;
            continue;
        }
        ctl_mirror_broker_gone(m, all[i].id);
        all = ctl_model_brokers(m->model, &n);
    }
}

static void ctl_mirror_on_broker(ctl_mirror_t *m, const sm_zk_result_t *res, int32_t id)
{
    ctl_broker_t b;
    ctl_model_change_t ch;
    const ctl_broker_t *old = ctl_model_broker(m->model, id);

    if (res->err == SM_ERR_NOT_FOUND) {
        ctl_mirror_broker_gone(m, id);
        return;
    }
    /* A new incarnation (new czxid) is a death then a start: the owner must see the old one
     * leave while the id is not live. */
    if (old != NULL && old->epoch != res->stat->czxid)
        ctl_mirror_broker_gone(m, id);
    if (ctl_codec_broker_decode(res->data, res->len, id, res->stat->czxid, &b) != SM_OK) {
        sm_log_warn("ignoring broker %d: its registration does not decode", (int)id);
        return;
    }
    if (ctl_model_broker_put(m->model, &b, &ch) != SM_OK) {
        sm_log_error("out of memory storing broker %d", (int)id);
        return;
    }
    if (ch == CTL_MODEL_NEW || ch == CTL_MODEL_BOUNCED)
        ctl_mirror_emit(m, CTL_MIRROR_BROKER_UP, id, -1, NULL, -1);
    else if (ch == CTL_MODEL_UPDATED)
        ctl_mirror_emit(m, CTL_MIRROR_BROKER_UPDATED, id, -1, NULL, -1);
}

static void ctl_mirror_topic_gone(ctl_mirror_t *m, const char *name)
{
    char copy[CTL_PATH_MAX];

    if (ctl_model_topic(m->model, name) == NULL)
        return;
    snprintf(copy, sizeof(copy), "%s", name);
    ctl_model_topic_remove(m->model, copy);
    ctl_model_config_remove(m->model, copy);
    ctl_mirror_emit(m, CTL_MIRROR_TOPIC_REMOVED, -1, -1, copy, -1);
}

static void ctl_mirror_on_topic_list(ctl_mirror_t *m, const sm_zk_result_t *res)
{
    char path[CTL_PATH_MAX];
    const char **gone = NULL;
    size_t n_gone = 0, pos = 0;
    ctl_topic_t *t;

    for (size_t c = 0; c < res->n_children; c++) {
        if (ctl_model_topic(m->model, res->children[c]) == NULL)
            ctl_mirror_read(m, CTL_MR_TOPIC, ctl_path_topic(path, sizeof(path), res->children[c]));
    }
    gone = calloc(ctl_model_topic_count(m->model) + 1, sizeof(*gone));
    if (gone == NULL) {
        sm_log_error("out of memory comparing topic lists");
        return;
    }
    while ((t = ctl_model_topic_next(m->model, &pos)) != NULL) {
        if (!ctl_mirror_name_listed(res, t->name))
            gone[n_gone++] = t->name;
    }
    /* Each name lives in its own record, which only its own removal frees. */
    for (size_t i = 0; i < n_gone; i++)
        ctl_mirror_topic_gone(m, gone[i]);
    free(gone);
}

/* Reads the config and the state of every partition from `from` on. */
static void ctl_mirror_read_topic_parts(ctl_mirror_t *m, const ctl_topic_t *t, size_t from,
                                        bool config)
{
    char path[CTL_PATH_MAX];

    if (config)
        ctl_mirror_read(m, CTL_MR_CONFIG, ctl_path_config(path, sizeof(path), t->name));
    for (size_t i = from; i < t->n_parts; i++) {
        if (!t->parts[i].has_state)
            ctl_mirror_read(m, CTL_MR_STATE,
                            ctl_path_state(path, sizeof(path), t->name, (int32_t)i));
    }
}

static void ctl_mirror_on_topic(ctl_mirror_t *m, const sm_zk_result_t *res, const char *name)
{
    ctl_codec_topic_t dec;
    ctl_model_change_t ch;
    ctl_topic_t *t;
    sm_err_t err;

    if (res->err == SM_ERR_NOT_FOUND) {
        ctl_mirror_topic_gone(m, name);
        return;
    }
    if (ctl_codec_topic_decode(res->data, res->len, &dec) != SM_OK) {
        sm_log_warn("ignoring topic %s: its node does not decode", name);
        return;
    }
    err = ctl_model_topic_put(m->model, name, &dec.id, dec.parts, dec.n_parts, &ch, &t);
    ctl_codec_topic_deinit(&dec);
    if (err != SM_OK) {
        sm_log_error("cannot store topic %s: %s", name, sm_err_str(err));
        return;
    }
    if (ch == CTL_MODEL_NEW || ch == CTL_MODEL_BOUNCED) {
        ctl_mirror_read_topic_parts(m, t, 0, true);
        ctl_mirror_emit(m, CTL_MIRROR_TOPIC_ADDED, -1, -1, name, -1);
    } else if (ch == CTL_MODEL_UPDATED) {
        ctl_mirror_read_topic_parts(m, t, 0, false);
        ctl_mirror_emit(m, CTL_MIRROR_TOPIC_CHANGED, -1, -1, name, -1);
    }
}

static bool ctl_mirror_state_same(const ctl_partition_t *p, const ctl_pstate_t *st)
{
    return p->has_state && p->leader == st->leader && p->leader_epoch == st->leader_epoch &&
           p->controller_epoch == st->controller_epoch && p->recovery == st->recovery &&
           p->zk_version == st->zk_version && p->n_isr == st->n_isr &&
           (st->n_isr == 0 || memcmp(p->isr, st->isr, st->n_isr * sizeof(*st->isr)) == 0);
}

static void ctl_mirror_on_state(ctl_mirror_t *m, const sm_zk_result_t *res, const char *path)
{
    char topic[CTL_PATH_MAX];
    int32_t idx, isr[CTL_MAX_REPLICAS];
    ctl_partition_t *p;
    ctl_pstate_t st;

    if (!ctl_path_parse_state(path, topic, sizeof(topic), &idx))
        return;
    p = ctl_model_partition(m->model, topic, idx);
    if (p == NULL)
        return; /* the topic went away meanwhile */
    if (res->err == SM_ERR_NOT_FOUND) {
        bool had = p->has_state;

        ctl_model_state_clear(p);
        ctl_mirror_read(m, CTL_MR_STATE_EXISTS, path);
        if (had)
            ctl_mirror_emit(m, CTL_MIRROR_STATE, -1, -1, topic, idx);
        return;
    }
    if (ctl_codec_state_decode(res->data, res->len, res->stat->version, &st, isr) != SM_OK) {
        sm_log_warn("ignoring %s: it does not decode", path);
        return;
    }
    if (ctl_mirror_state_same(p, &st))
        return;
    if (ctl_model_state_set(p, &st) != SM_OK) {
        sm_log_error("out of memory storing %s", path);
        return;
    }
    ctl_mirror_emit(m, CTL_MIRROR_STATE, -1, -1, topic, idx);
}

static void ctl_mirror_on_config(ctl_mirror_t *m, const sm_zk_result_t *res, const char *name)
{
    ctl_codec_config_t dec;
    char path[CTL_PATH_MAX];
    const char *const *k, *const *v;

    if (res->err == SM_ERR_NOT_FOUND) {
        bool had = ctl_model_config_list(m->model, name, &k, &v) > 0;

        ctl_model_config_remove(m->model, name);
        if (ctl_model_topic(m->model, name) != NULL)
            ctl_mirror_read(m, CTL_MR_CONFIG_EXISTS, ctl_path_config(path, sizeof(path), name));
        if (had)
            ctl_mirror_emit(m, CTL_MIRROR_CONFIG, -1, -1, name, -1);
        return;
    }
    if (ctl_codec_config_decode(res->data, res->len, &dec) != SM_OK) {
        sm_log_warn("ignoring the config of topic %s: it does not decode", name);
        return;
    }
    if (ctl_model_config_put(m->model, name, dec.keys, dec.values, dec.n) != SM_OK)
        sm_log_error("out of memory storing the config of topic %s", name);
    else
        ctl_mirror_emit(m, CTL_MIRROR_CONFIG, -1, -1, name, -1);
    ctl_codec_config_deinit(&dec);
}

static void ctl_mirror_on_deletion_list(ctl_mirror_t *m, const sm_zk_result_t *res)
{
    const char **gone;
    const char *name;
    size_t pos = 0, n_gone = 0;

    for (size_t c = 0; c < res->n_children; c++) {
        if (ctl_model_deletion_has(m->model, res->children[c]))
            continue;
        if (ctl_model_deletion_add(m->model, res->children[c]) != SM_OK) {
            sm_log_error("out of memory recording the deletion of %s", res->children[c]);
            continue;
        }
        ctl_mirror_emit(m, CTL_MIRROR_DELETION_ADDED, -1, -1, res->children[c], -1);
    }
    gone = calloc(ctl_model_deletion_count(m->model) + 1, sizeof(*gone));
    if (gone == NULL)
        return;
    /* The marker names are keys of the model's set: copy them before removing. */
    while ((name = ctl_model_deletion_next(m->model, &pos)) != NULL) {
        if (!ctl_mirror_name_listed(res, name) && (gone[n_gone] = strdup(name)) != NULL)
            n_gone++;
    }
    for (size_t i = 0; i < n_gone; i++) {
        ctl_model_deletion_remove(m->model, gone[i]);
        ctl_mirror_emit(m, CTL_MIRROR_DELETION_REMOVED, -1, -1, gone[i], -1);
        free((char *)gone[i]);
    }
    free(gone);
}

/* A root is missing (someone removed it): create it again, then list it. */
static void ctl_mirror_root_done(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_mirror_req_t *req = arg;
    ctl_mirror_t *m = req->m;

    (void)zk;
    m->pending--;
    if (res->err == SM_OK && req->gen == m->gen)
        ctl_mirror_read(m, req->kind, res->path);
    free(req);
}

static void ctl_mirror_recreate_root(ctl_mirror_t *m, ctl_mirror_read_kind_t kind, const char *path)
{
    ctl_mirror_req_t *req = calloc(1, sizeof(*req));

    if (req == NULL)
        return;
    *req = (ctl_mirror_req_t){m, kind, false, m->gen};
    if (sm_zk_ensure_path(m->zk, path, ctl_mirror_root_done, req) != SM_OK) {
        free(req);
        return;
    }
    m->pending++;
}

/* Routes one successful (or NOT_FOUND) result to its handler. */
static void ctl_mirror_dispatch(ctl_mirror_t *m, ctl_mirror_read_kind_t kind,
                                const sm_zk_result_t *res)
{
    char name[CTL_PATH_MAX];
    int32_t id;
    bool listing = ctl_mirror_kind_bit(kind) == CTL_MIRROR_W_CHILD;

    if (listing && res->err == SM_ERR_NOT_FOUND) {
        ctl_mirror_recreate_root(m, kind, res->path);
        return;
    }
    switch (kind) {
    case CTL_MR_BROKER_LIST:
        ctl_mirror_on_broker_list(m, res);
        break;
    case CTL_MR_BROKER:
        if (ctl_path_child_of(res->path, CTL_PATH_BROKERS, name, sizeof(name)) &&
            ctl_path_parse_int(name, &id))
            ctl_mirror_on_broker(m, res, id);
        break;
    case CTL_MR_TOPIC_LIST:
        ctl_mirror_on_topic_list(m, res);
        break;
    case CTL_MR_TOPIC:
        if (ctl_path_child_of(res->path, CTL_PATH_TOPICS, name, sizeof(name)))
            ctl_mirror_on_topic(m, res, name);
        break;
    case CTL_MR_STATE:
        ctl_mirror_on_state(m, res, res->path);
        break;
    case CTL_MR_STATE_EXISTS:
        if (res->err == SM_OK)
            ctl_mirror_read(m, CTL_MR_STATE, res->path);
        break;
    case CTL_MR_CONFIG:
        if (ctl_path_child_of(res->path, CTL_PATH_CONFIGS, name, sizeof(name)))
            ctl_mirror_on_config(m, res, name);
        break;
    case CTL_MR_CONFIG_EXISTS:
        if (res->err == SM_OK)
            ctl_mirror_read(m, CTL_MR_CONFIG, res->path);
        break;
    case CTL_MR_DELETION_LIST:
        ctl_mirror_on_deletion_list(m, res);
        break;
    }
}

static void ctl_mirror_drained(ctl_mirror_t *m)
{
    size_t n_brokers;

    if (m->started && !m->synced) {
        m->synced = true;
        ctl_model_brokers(m->model, &n_brokers);
        sm_log_info("cluster state loaded: %zu brokers, %zu topics, %zu partitions in %lld ms",
                    n_brokers, ctl_model_topic_count(m->model), ctl_model_partition_count(m->model),
                    (long long)(ctl_mirror_now_ms() - m->load_started_ms));
    }
    ctl_mirror_emit(m, CTL_MIRROR_IDLE, -1, -1, NULL, -1);
}

static void ctl_mirror_done(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_mirror_req_t *req = arg;
    ctl_mirror_t *m = req->m;
    bool registered =
        res->err == SM_OK || (req->kind == CTL_MR_STATE_EXISTS || req->kind == CTL_MR_CONFIG_EXISTS
                                  ? res->err == SM_ERR_NOT_FOUND
                                  : false);

    (void)zk;
    m->pending--;
    if (req->gen != m->gen)
        goto out; /* a read of an expired session */
    if (req->watched && !registered)
        ctl_mirror_arm(m, res->path, ctl_mirror_kind_bit(req->kind), false);
    if (res->err == SM_ERR_AGAIN)
        ctl_mirror_retry_add(m, req->kind, res->path);
    else if (res->err == SM_OK || res->err == SM_ERR_NOT_FOUND)
        ctl_mirror_dispatch(m, req->kind, res);
    else if (res->err != SM_ERR_CLOSED)
        sm_log_warn("zookeeper read of %s failed: %s", res->path, sm_zk_zerr_str(res->zerr));
    if (m->pending == 0)
        ctl_mirror_drained(m);
out:
    free(req);
}

/* A watch fired: the registry forgets it, and the path is read again. */
static void ctl_mirror_on_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    ctl_mirror_t *m = arg;
    char name[CTL_PATH_MAX];
    int32_t id, p;
    bool deleted = ev == SM_ZK_WATCH_DELETED;

    (void)zk;
    ctl_mirror_arm(m, path, ev == SM_ZK_WATCH_CHILD ? CTL_MIRROR_W_CHILD : CTL_MIRROR_W_DATA,
                   false);
    if (strcmp(path, CTL_PATH_BROKERS) == 0) {
        ctl_mirror_read(m, CTL_MR_BROKER_LIST, path);
    } else if (strcmp(path, CTL_PATH_TOPICS) == 0) {
        ctl_mirror_read(m, CTL_MR_TOPIC_LIST, path);
    } else if (strcmp(path, CTL_PATH_DELETIONS) == 0) {
        ctl_mirror_read(m, CTL_MR_DELETION_LIST, path);
    } else if (ctl_path_child_of(path, CTL_PATH_BROKERS, name, sizeof(name)) &&
               ctl_path_parse_int(name, &id)) {
        if (deleted)
            ctl_mirror_broker_gone(m, id);
        /* A broker may have re-registered at once: the list says. */
        ctl_mirror_read(m, deleted ? CTL_MR_BROKER_LIST : CTL_MR_BROKER,
                        deleted ? CTL_PATH_BROKERS : path);
    } else if (ctl_path_child_of(path, CTL_PATH_TOPICS, name, sizeof(name))) {
        if (deleted)
            ctl_mirror_topic_gone(m, name);
        ctl_mirror_read(m, deleted ? CTL_MR_TOPIC_LIST : CTL_MR_TOPIC,
                        deleted ? CTL_PATH_TOPICS : path);
    } else if (ctl_path_child_of(path, CTL_PATH_CONFIGS, name, sizeof(name))) {
        ctl_mirror_read(m, CTL_MR_CONFIG, path);
    } else if (ctl_path_parse_state(path, name, sizeof(name), &p)) {
        ctl_mirror_read(m, CTL_MR_STATE, path);
    }
}

static void ctl_mirror_read(ctl_mirror_t *m, ctl_mirror_read_kind_t kind, const char *path)
{
    unsigned bit = ctl_mirror_kind_bit(kind);
    bool watch = (ctl_mirror_armed(m, path) & bit) == 0;
    sm_zk_watch_cb wcb = watch ? ctl_mirror_on_watch : NULL;
    ctl_mirror_req_t *req = calloc(1, sizeof(*req));
    sm_err_t err = SM_ERR_NOMEM;

    if (req == NULL)
        goto out;
    *req = (ctl_mirror_req_t){m, kind, watch, m->gen};
    if (bit == CTL_MIRROR_W_CHILD)
        err = sm_zk_children(m->zk, path, wcb, m, ctl_mirror_done, req);
    else if (kind == CTL_MR_STATE_EXISTS || kind == CTL_MR_CONFIG_EXISTS)
        err = sm_zk_exists(m->zk, path, wcb, m, ctl_mirror_done, req);
    else
        err = sm_zk_get(m->zk, path, wcb, m, ctl_mirror_done, req);
out:
    if (err != SM_OK) {
        if (err != SM_ERR_CLOSED)
            sm_log_error("cannot read %s: %s", path, sm_err_str(err));
        free(req);
        return;
    }
    if (watch)
        ctl_mirror_arm(m, path, bit, true);
    m->pending++;
}

/* ---- public ------------------------------------------------------------------------------- */

sm_err_t ctl_mirror_new(sm_zk_t *zk, ctl_model_t *model, ctl_mirror_cb cb, void *arg,
                        ctl_mirror_t **out)
{
    ctl_mirror_t *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (m == NULL || ctl_strmap_new(&m->watches) != SM_OK) {
        free(m);
        return SM_ERR_NOMEM;
    }
    m->zk = zk;
    m->model = model;
    m->cb = cb;
    m->arg = arg;
    m->gen = 1;
    *out = m;
    return SM_OK;
}

void ctl_mirror_free(ctl_mirror_t *m)
{
    if (m == NULL)
        return;
    ctl_mirror_retry_clear(m);
    free(m->retries);
    ctl_strmap_free(m->watches);
    free(m);
}

void ctl_mirror_start(ctl_mirror_t *m)
{
    ctl_mirror_reset(m);
    ctl_model_clear(m->model);
    m->started = true;
    m->synced = false;
    m->load_started_ms = ctl_mirror_now_ms();
    ctl_mirror_read(m, CTL_MR_BROKER_LIST, CTL_PATH_BROKERS);
    ctl_mirror_read(m, CTL_MR_TOPIC_LIST, CTL_PATH_TOPICS);
    ctl_mirror_read(m, CTL_MR_DELETION_LIST, CTL_PATH_DELETIONS);
}

void ctl_mirror_resume(ctl_mirror_t *m)
{
    ctl_mirror_retry_t *list = m->retries;
    size_t n = m->n_retries;

    if (n == 0)
        return;
    sm_log_info("zookeeper reconnected: re-reading %zu nodes", n);
    m->retries = NULL;
    m->n_retries = m->cap_retries = 0;
    for (size_t i = 0; i < n; i++) {
        ctl_mirror_read(m, list[i].kind, list[i].path);
        free(list[i].path);
    }
    free(list);
}

void ctl_mirror_reset(ctl_mirror_t *m)
{
    m->gen++;
    ctl_mirror_retry_clear(m);
    ctl_strmap_clear(m->watches);
    m->started = false;
    m->synced = false;
}

void ctl_mirror_refresh_state(ctl_mirror_t *m, const char *topic, int32_t partition)
{
    char path[CTL_PATH_MAX];

    ctl_mirror_read(m, CTL_MR_STATE, ctl_path_state(path, sizeof(path), topic, partition));
}

size_t ctl_mirror_pending(const ctl_mirror_t *m)
{
    return m->pending;
}

bool ctl_mirror_synced(const ctl_mirror_t *m)
{
    return m->synced;
}
