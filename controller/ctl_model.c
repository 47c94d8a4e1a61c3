/*
 * ctl_model: the cluster model (see ctl_model.h for the contract and the state diagrams).
 * Brokers live in an array sorted by id (a cluster has few); topics, config overrides and
 * deletion markers in string maps. Partition arrays are allocated per topic; replica lists
 * and ISRs per partition.
 */
#include "controller/ctl_model.h"

#include <stdlib.h>
#include <string.h>

#include "controller/ctl_assign.h"
#include "controller/ctl_strmap.h"
#include "controller/ctl_validate.h"

typedef struct ctl_model_config {
    size_t n;
    char **keys;
    char **values;
} ctl_model_config_t;

struct ctl_model {
    ctl_broker_t *brokers; /* sorted by id */
    size_t n_brokers, cap_brokers;
    ctl_strmap_t *topics;    /* name -> ctl_topic_t * */
    ctl_strmap_t *configs;   /* name -> ctl_model_config_t * */
    ctl_strmap_t *deletions; /* name -> the model itself (a set) */
    size_t n_partitions;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static sm_err_t ctl_model_dup_ids(const int32_t *src, size_t n, int32_t **dst)
{
    *dst = NULL;
    if (n == 0)
        return SM_OK;
    *dst = malloc(n * sizeof(**dst));
    if (*dst == NULL)
        return SM_ERR_NOMEM;
    memcpy(*dst, src, n * sizeof(**dst));
    return SM_OK;
}

static bool ctl_model_same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static void ctl_model_endpoint_deinit(ctl_endpoint_t *e)
{
    free(e->listener);
    free(e->host);
    e->listener = NULL;
    e->host = NULL;
}

static bool ctl_model_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool ctl_model_endpoint_eq(const ctl_endpoint_t *a, const ctl_endpoint_t *b)
{
    return a->port == b->port && ctl_model_str_eq(a->listener, b->listener) &&
           ctl_model_str_eq(a->host, b->host);
}

/* ---- lifetime ----------------------------------------------------------------------------- */

sm_err_t ctl_model_new(ctl_model_t **out)
{
    ctl_model_t *m = calloc(1, sizeof(*m));
    sm_err_t err = SM_ERR_NOMEM;

    *out = NULL;
    if (m == NULL)
        goto out;
    if (ctl_strmap_new(&m->topics) != SM_OK || ctl_strmap_new(&m->configs) != SM_OK ||
        ctl_strmap_new(&m->deletions) != SM_OK)
        goto out;
    *out = m;
    m = NULL;
    err = SM_OK;
out:
    ctl_model_free(m);
    return err;
}

static void ctl_model_partition_deinit(ctl_partition_t *p)
{
    free(p->replicas);
    free(p->adding);
    free(p->removing);
    free(p->isr);
    memset(p, 0, sizeof(*p));
}

static void ctl_model_topic_free(ctl_topic_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_parts; i++)
        ctl_model_partition_deinit(&t->parts[i]);
    free(t->parts);
    free(t->name);
    free(t);
}

static void ctl_model_config_free(ctl_model_config_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->keys[i]);
        free(c->values[i]);
    }
    free(c->keys);
    free(c->values);
    free(c);
}

void ctl_model_clear(ctl_model_t *m)
{
    size_t pos = 0;
    void *v;

    for (size_t i = 0; i < m->n_brokers; i++)
        ctl_broker_deinit(&m->brokers[i]);
    m->n_brokers = 0;
    while ((v = ctl_strmap_next(m->topics, &pos, NULL)) != NULL)
        ctl_model_topic_free(v);
    pos = 0;
    while ((v = ctl_strmap_next(m->configs, &pos, NULL)) != NULL)
        ctl_model_config_free(v);
    ctl_strmap_clear(m->topics);
    ctl_strmap_clear(m->configs);
    ctl_strmap_clear(m->deletions);
    m->n_partitions = 0;
}

void ctl_model_free(ctl_model_t *m)
{
    if (m == NULL)
        return;
    if (m->topics != NULL && m->configs != NULL && m->deletions != NULL)
        ctl_model_clear(m);
    ctl_strmap_free(m->topics);
    ctl_strmap_free(m->configs);
    ctl_strmap_free(m->deletions);
    free(m->brokers);
    free(m);
}

/* ---- brokers ------------------------------------------------------------------------------ */

void ctl_broker_deinit(ctl_broker_t *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_endpoints; i++)
        ctl_model_endpoint_deinit(&b->endpoints[i]);
    free(b->endpoints);
    ctl_model_endpoint_deinit(&b->control);
    free(b->rack);
    memset(b, 0, sizeof(*b));
}

/* Index of broker id, or where it would be inserted (*found false). */
static size_t ctl_model_broker_pos(const ctl_model_t *m, int32_t id, bool *found)
{
    size_t lo = 0, hi = m->n_brokers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->brokers[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->n_brokers && m->brokers[lo].id == id;
    return lo;
}

static bool ctl_model_broker_same(const ctl_broker_t *a, const ctl_broker_t *b)
{
    if (a->n_endpoints != b->n_endpoints || a->start_time_ms != b->start_time_ms ||
        !ctl_model_str_eq(a->rack, b->rack) || !ctl_model_endpoint_eq(&a->control, &b->control))
        return false;
    for (size_t i = 0; i < a->n_endpoints; i++) {
        if (!ctl_model_endpoint_eq(&a->endpoints[i], &b->endpoints[i]))
            return false;
    }
    return true;
}

sm_err_t ctl_model_broker_put(ctl_model_t *m, ctl_broker_t *b, ctl_model_change_t *change)
{
    bool found;
    size_t i = ctl_model_broker_pos(m, b->id, &found);
    sm_err_t err = SM_OK;

    *change = CTL_MODEL_SAME;
    if (found) {
        ctl_broker_t *cur = &m->brokers[i];

        if (cur->epoch != b->epoch)
            *change = CTL_MODEL_BOUNCED;
        else if (!ctl_model_broker_same(cur, b))
            *change = CTL_MODEL_UPDATED;
        ctl_broker_deinit(cur);
        *cur = *b;
        memset(b, 0, sizeof(*b));
        goto out;
    }
    if (m->n_brokers == m->cap_brokers) {
        size_t cap = m->cap_brokers ? m->cap_brokers * 2 : 8;
        ctl_broker_t *nb = realloc(m->brokers, cap * sizeof(*nb));

        if (nb == NULL) {
            ctl_broker_deinit(b);
            err = SM_ERR_NOMEM;
            goto out;
        }
        m->brokers = nb;
        m->cap_brokers = cap;
    }
    memmove(&m->brokers[i + 1], &m->brokers[i], (m->n_brokers - i) * sizeof(*m->brokers));
    m->brokers[i] = *b;
    memset(b, 0, sizeof(*b));
    m->n_brokers++;
    *change = CTL_MODEL_NEW;
out:
    return err;
}

bool ctl_model_broker_remove(ctl_model_t *m, int32_t id)
{
    bool found;
    size_t i = ctl_model_broker_pos(m, id, &found);

    if (!found)
        return false;
    ctl_broker_deinit(&m->brokers[i]);
    memmove(&m->brokers[i], &m->brokers[i + 1], (m->n_brokers - i - 1) * sizeof(*m->brokers));
    m->n_brokers--;
    return true;
}

const ctl_broker_t *ctl_model_broker(const ctl_model_t *m, int32_t id)
{
    bool found;
    size_t i = ctl_model_broker_pos(m, id, &found);

    return found ? &m->brokers[i] : NULL;
}

bool ctl_model_broker_live(const ctl_model_t *m, int32_t id)
{
    return ctl_model_broker(m, id) != NULL;
}

const ctl_broker_t *ctl_model_brokers(const ctl_model_t *m, size_t *n)
{
    *n = m->n_brokers;
    return m->brokers;
}

/* ---- topics ------------------------------------------------------------------------------- */

static sm_err_t ctl_model_assign_copy(ctl_partition_t *p, const ctl_assignment_t *a)
{
    if (a->n_replicas > CTL_MAX_REPLICAS || a->n_adding > CTL_MAX_REPLICAS ||
        a->n_removing > CTL_MAX_REPLICAS)
        return SM_ERR_INVALID;
    if (ctl_model_dup_ids(a->replicas, a->n_replicas, &p->replicas) != SM_OK ||
        ctl_model_dup_ids(a->adding, a->n_adding, &p->adding) != SM_OK ||
        ctl_model_dup_ids(a->removing, a->n_removing, &p->removing) != SM_OK)
        return SM_ERR_NOMEM;
    p->n_replicas = a->n_replicas;
    p->n_adding = a->n_adding;
    p->n_removing = a->n_removing;
    return SM_OK;
}

static bool ctl_model_assign_same(const ctl_partition_t *p, const ctl_assignment_t *a)
{
    return ctl_model_same_ids(p->replicas, p->n_replicas, a->replicas, a->n_replicas) &&
           ctl_model_same_ids(p->adding, p->n_adding, a->adding, a->n_adding) &&
           ctl_model_same_ids(p->removing, p->n_removing, a->removing, a->n_removing);
}

/* Builds a new partition array for parts, taking the states of old[0..n_old) when given. */
static sm_err_t ctl_model_build_parts(const ctl_assignment_t *parts, size_t n, ctl_partition_t *old,
                                      size_t n_old, ctl_partition_t **out)
{
    ctl_partition_t *np = calloc(n > 0 ? n : 1, sizeof(*np));
    sm_err_t err = np != NULL ? SM_OK : SM_ERR_NOMEM;

    for (size_t i = 0; i < n && err == SM_OK; i++) {
        np[i].index = (int32_t)i;
        np[i].leader = -1;
        err = ctl_model_assign_copy(&np[i], &parts[i]);
    }
    if (err != SM_OK) {
        for (size_t i = 0; np != NULL && i < n; i++)
            ctl_model_partition_deinit(&np[i]);
        free(np);
        np = NULL;
    }
    /* Only now, when nothing can fail, move the old states over. */
    for (size_t i = 0; err == SM_OK && i < n && i < n_old; i++) {
        ctl_partition_t *o = &old[i];

        np[i].has_state = o->has_state;
        np[i].leader = o->leader;
        np[i].leader_epoch = o->leader_epoch;
        np[i].controller_epoch = o->controller_epoch;
        np[i].recovery = o->recovery;
        np[i].isr = o->isr;
        np[i].n_isr = o->n_isr;
        np[i].zk_version = o->zk_version;
        np[i].flags = o->flags;
        o->isr = NULL;
        o->n_isr = 0;
    }
    *out = np;
    return err;
}

static bool ctl_model_parts_same(const ctl_topic_t *t, const ctl_assignment_t *parts, size_t n)
{
    if (t->n_parts != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!ctl_model_assign_same(&t->parts[i], &parts[i]))
            return false;
    }
    return true;
}

/* Replaces an existing topic's partitions in place, keeping states (same topic id). */
static sm_err_t ctl_model_topic_update(ctl_model_t *m, ctl_topic_t *t,
                                       const ctl_assignment_t *parts, size_t n,
                                       ctl_model_change_t *change)
{
    ctl_partition_t *np;
    sm_err_t err;

    if (ctl_model_parts_same(t, parts, n)) {
        *change = CTL_MODEL_SAME;
        return SM_OK;
    }
    err = ctl_model_build_parts(parts, n, t->parts, t->n_parts, &np);
    if (err != SM_OK)
        return err;
    for (size_t i = 0; i < t->n_parts; i++)
        ctl_model_partition_deinit(&t->parts[i]);
    free(t->parts);
    m->n_partitions = m->n_partitions - t->n_parts + n;
    t->parts = np;
    t->n_parts = n;
    *change = CTL_MODEL_UPDATED;
    return SM_OK;
}

sm_err_t ctl_model_topic_put(ctl_model_t *m, const char *name, const sm_uuid_t *id,
                             const ctl_assignment_t *parts, size_t n_parts,
                             ctl_model_change_t *change, ctl_topic_t **out)
{
    ctl_topic_t *t = ctl_strmap_get(m->topics, name), *nt = NULL;
    void *old = NULL;
    sm_err_t err;

    if (t != NULL && sm_uuid_eq(&t->id, id)) {
        err = ctl_model_topic_update(m, t, parts, n_parts, change);
        goto out;
    }
    err = SM_ERR_NOMEM;
    nt = calloc(1, sizeof(*nt));
    if (nt == NULL || (nt->name = strdup(name)) == NULL)
        goto out;
    nt->id = *id;
    err = ctl_model_build_parts(parts, n_parts, NULL, 0, &nt->parts);
    if (err != SM_OK)
        goto out;
    nt->n_parts = n_parts;
    err = ctl_strmap_put(m->topics, name, nt, &old);
    if (err != SM_OK)
        goto out;
    *change = old != NULL ? CTL_MODEL_BOUNCED : CTL_MODEL_NEW;
    if (old != NULL)
        m->n_partitions -= ((ctl_topic_t *)old)->n_parts;
    ctl_model_topic_free(old);
    m->n_partitions += n_parts;
    t = nt;
    nt = NULL;
out:
    ctl_model_topic_free(nt);
    if (out != NULL)
        *out = err == SM_OK ? t : NULL;
    return err;
}

ctl_topic_t *ctl_model_topic(const ctl_model_t *m, const char *name)
{
    return ctl_strmap_get(m->topics, name);
}

ctl_partition_t *ctl_model_partition(const ctl_model_t *m, const char *topic, int32_t p)
{
    ctl_topic_t *t = ctl_strmap_get(m->topics, topic);

    if (t == NULL || p < 0 || (size_t)p >= t->n_parts)
        return NULL;
    return &t->parts[p];
}

bool ctl_model_topic_remove(ctl_model_t *m, const char *name)
{
    ctl_topic_t *t = ctl_strmap_remove(m->topics, name);

    if (t == NULL)
        return false;
    m->n_partitions -= t->n_parts;
    ctl_model_topic_free(t);
    return true;
}

ctl_topic_t *ctl_model_topic_next(const ctl_model_t *m, size_t *pos)
{
    return ctl_strmap_next(m->topics, pos, NULL);
}

size_t ctl_model_topic_count(const ctl_model_t *m)
{
    return ctl_strmap_count(m->topics);
}

size_t ctl_model_partition_count(const ctl_model_t *m)
{
    return m->n_partitions;
}

sm_err_t ctl_model_state_set(ctl_partition_t *p, const ctl_pstate_t *st)
{
    int32_t *isr = NULL;

    if (st->n_isr > CTL_MAX_REPLICAS)
        return SM_ERR_INVALID;
    if (ctl_model_same_ids(p->isr, p->n_isr, st->isr, st->n_isr)) {
        isr = p->isr;
    } else {
        if (ctl_model_dup_ids(st->isr, st->n_isr, &isr) != SM_OK)
            return SM_ERR_NOMEM;
        free(p->isr);
    }
    p->isr = isr;
    p->n_isr = st->n_isr;
    p->has_state = true;
    p->leader = st->leader;
    p->leader_epoch = st->leader_epoch;
    p->controller_epoch = st->controller_epoch;
    p->recovery = st->recovery;
    p->zk_version = st->zk_version;
    return SM_OK;
}

void ctl_model_state_clear(ctl_partition_t *p)
{
    free(p->isr);
    p->isr = NULL;
    p->n_isr = 0;
    p->has_state = false;
    p->leader = -1;
    p->leader_epoch = 0;
    p->controller_epoch = 0;
    p->recovery = 0;
    p->zk_version = 0;
}

bool ctl_model_partition_online(const ctl_model_t *m, const ctl_partition_t *p)
{
    return p->has_state && p->leader >= 0 && ctl_model_broker_live(m, p->leader);
}

/* ---- configs ------------------------------------------------------------------------------ */

sm_err_t ctl_model_config_put(ctl_model_t *m, const char *name, const char *const *keys,
                              const char *const *values, size_t n)
{
    ctl_model_config_t *c = calloc(1, sizeof(*c));
    void *old = NULL;
    sm_err_t err = SM_ERR_NOMEM;

    if (c == NULL)
        goto out;
    c->keys = calloc(n > 0 ? n : 1, sizeof(*c->keys));
    c->values = calloc(n > 0 ? n : 1, sizeof(*c->values));
    if (c->keys == NULL || c->values == NULL)
        goto out;
    for (; c->n < n; c->n++) {
        c->keys[c->n] = strdup(keys[c->n] != NULL ? keys[c->n] : "");
        c->values[c->n] = strdup(values[c->n] != NULL ? values[c->n] : "");
        if (c->keys[c->n] == NULL || c->values[c->n] == NULL) {
            c->n++;
            goto out;
        }
    }
    err = ctl_strmap_put(m->configs, name, c, &old);
    if (err == SM_OK) {
        ctl_model_config_free(old);
        c = NULL;
    }
out:
    ctl_model_config_free(c);
    return err;
}

void ctl_model_config_remove(ctl_model_t *m, const char *name)
{
    ctl_model_config_free(ctl_strmap_remove(m->configs, name));
}

const char *ctl_model_config_value(const ctl_model_t *m, const char *name, const char *key)
{
    const ctl_model_config_t *c = ctl_strmap_get(m->configs, name);

    for (size_t i = 0; c != NULL && i < c->n; i++) {
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    }
    return NULL;
}

size_t ctl_model_config_list(const ctl_model_t *m, const char *name, const char *const **keys,
                             const char *const **values)
{
    const ctl_model_config_t *c = ctl_strmap_get(m->configs, name);

    *keys = c != NULL ? (const char *const *)c->keys : NULL;
    *values = c != NULL ? (const char *const *)c->values : NULL;
    return c != NULL ? c->n : 0;
}

bool ctl_model_unclean(const ctl_model_t *m, const char *name, bool broker_default)
{
    const char *v = ctl_model_config_value(m, name, "unclean.leader.election.enable");
    bool b;

    if (v != NULL && ctl_validate_parse_bool(v, &b) == SM_OK)
        return b;
    return broker_default;
}

/* ---- deletion markers --------------------------------------------------------------------- */

sm_err_t ctl_model_deletion_add(ctl_model_t *m, const char *name)
{
    return ctl_strmap_put(m->deletions, name, m, NULL);
}

bool ctl_model_deletion_remove(ctl_model_t *m, const char *name)
{
    return ctl_strmap_remove(m->deletions, name) != NULL;
}

bool ctl_model_deletion_has(const ctl_model_t *m, const char *name)
{
    return ctl_strmap_get(m->deletions, name) != NULL;
}

const char *ctl_model_deletion_next(const ctl_model_t *m, size_t *pos)
{
    const char *key = NULL;

    if (ctl_strmap_next(m->deletions, pos, &key) == NULL)
        return NULL;
    return key;
}

size_t ctl_model_deletion_count(const ctl_model_t *m)
{
    return ctl_strmap_count(m->deletions);
}
