/*
 * br_metacache: the cluster metadata the controller pushed with UpdateMetadata, as sorted
 * arrays searched by bisection. See br_metacache.h for the contract and the design notes.
 */
#include "broker/br_metacache.h"

#include <stdlib.h>
#include <string.h>

struct br_metacache {
    br_metacache_broker_t *brokers; /* sorted by id */
    size_t n_brokers;
    br_metacache_topic_t **topics; /* sorted by name */
    size_t n_topics;
    size_t cap_topics;
    size_t n_partitions; /* over all topics */
    int32_t controller_id;
    bool ready;
};

/* ---- freeing ------------------------------------------------------------------------------ */

static void br_metacache_endpoint_deinit(br_metacache_endpoint_t *e)
{
    free(e->listener);
    free(e->host);
    memset(e, 0, sizeof(*e));
}

static void br_metacache_broker_deinit(br_metacache_broker_t *b)
{
    for (size_t i = 0; i < b->n_endpoints; i++)
        br_metacache_endpoint_deinit(&b->endpoints[i]);
    free(b->endpoints);
    br_metacache_endpoint_deinit(&b->control);
    free(b->rack);
    memset(b, 0, sizeof(*b));
}

static void br_metacache_brokers_free(br_metacache_broker_t *brokers, size_t n)
{
    for (size_t i = 0; i < n; i++)
        br_metacache_broker_deinit(&brokers[i]);
    free(brokers);
}

static void br_metacache_partition_deinit(br_metacache_partition_t *p)
{
    free(p->replicas);
    free(p->isr);
    free(p->offline_replicas);
    memset(p, 0, sizeof(*p));
}

static void br_metacache_topic_free(br_metacache_topic_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_partitions; i++)
        br_metacache_partition_deinit(&t->partitions[i]);
    free(t->partitions);
    free(t->name);
    free(t);
}

static void br_metacache_topics_free(br_metacache_topic_t **topics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        br_metacache_topic_free(topics[i]);
    free(topics);
}

sm_err_t br_metacache_new(br_metacache_t **out)
{
    br_metacache_t *mc = calloc(1, sizeof(*mc));

    *out = mc;
    if (mc == NULL)
        return SM_ERR_NOMEM;
    mc->controller_id = -1;
    return SM_OK;
}

void br_metacache_free(br_metacache_t *mc)
{
    if (mc == NULL)
        return;
    br_metacache_brokers_free(mc->brokers, mc->n_brokers);
    br_metacache_topics_free(mc->topics, mc->n_topics);
    free(mc);
}

/* ---- copying from the request ------------------------------------------------------------- */

/* strdup that keeps NULL; *ok goes false when memory runs out. */
static char *br_metacache_strdup(const char *s, bool *ok)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

static int32_t *br_metacache_ints(const int32_t *v, size_t n, bool *ok)
{
    int32_t *d;

    if (n == 0)
        return NULL;
    d = malloc(n * sizeof(*d));
    if (d == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(d, v, n * sizeof(*d));
    return d;
}

static void br_metacache_endpoint_copy(br_metacache_endpoint_t *d, const Samsa__Endpoint *s,
                                       bool *ok)
{
    if (s == NULL)
        return;
    d->listener = br_metacache_strdup(s->listener, ok);
    d->host = br_metacache_strdup(s->host, ok);
    d->port = s->port;
}

static int br_metacache_broker_cmp(const void *a, const void *b)
{
    int32_t x = ((const br_metacache_broker_t *)a)->id;
    int32_t y = ((const br_metacache_broker_t *)b)->id;

    return (x > y) - (x < y);
}

/* Builds the sorted broker table of req (a later duplicate id replaces an earlier one). */
static sm_err_t br_metacache_brokers_copy(const Samsa__UpdateMetadataRequest *req,
                                          br_metacache_broker_t **out, size_t *n_out)
{
    br_metacache_broker_t *bs = NULL;
    size_t n = 0;
    bool ok = true;

    *out = NULL;
    *n_out = 0;
    if (req->n_live_brokers == 0)
        return SM_OK;
    bs = calloc(req->n_live_brokers, sizeof(*bs));
    if (bs == NULL)
        return SM_ERR_NOMEM;
    for (size_t i = 0; i < req->n_live_brokers && ok; i++) {
        const Samsa__LiveBroker *lb = req->live_brokers[i];
        br_metacache_broker_t *b = &bs[n++];

        b->id = lb->broker_id;
        b->rack = br_metacache_strdup(lb->rack, &ok);
        br_metacache_endpoint_copy(&b->control, lb->control_endpoint, &ok);
        if (lb->n_endpoints > 0) {
            b->endpoints = calloc(lb->n_endpoints, sizeof(*b->endpoints));
            if (b->endpoints == NULL) {
                ok = false;
                break;
            }
            b->n_endpoints = lb->n_endpoints;
            for (size_t j = 0; j < lb->n_endpoints; j++)
                br_metacache_endpoint_copy(&b->endpoints[j], lb->endpoints[j], &ok);
        }
    }
    if (!ok) {
        br_metacache_brokers_free(bs, n);
        return SM_ERR_NOMEM;
    }
    qsort(bs, n, sizeof(*bs), br_metacache_broker_cmp);
    /* Keep the last of equal ids: shift the survivors down. */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && bs[w - 1].id == bs[i].id) {
            br_metacache_broker_deinit(&bs[w - 1]);
            bs[w - 1] = bs[i];
        } else {
            bs[w++] = bs[i];
        }
    }
    *out = bs;
    *n_out = w;
    return SM_OK;
}

static sm_err_t br_metacache_partition_copy(br_metacache_partition_t *d,
                                            const Samsa__UpdateMetadataPartitionState *s)
{
    bool ok = true;

    memset(d, 0, sizeof(*d));
    d->partition = s->partition;
    d->leader = s->has_leader ? s->leader : BR_METACACHE_NO_LEADER;
    d->leader_epoch = s->leader_epoch;
    d->partition_epoch = s->partition_epoch;
    d->controller_epoch = s->controller_epoch;
    d->replicas = br_metacache_ints(s->replicas, s->n_replicas, &ok);
    d->n_replicas = s->n_replicas;
    d->isr = br_metacache_ints(s->isr, s->n_isr, &ok);
    d->n_isr = s->n_isr;
    d->offline_replicas = br_metacache_ints(s->offline_replicas, s->n_offline_replicas, &ok);
    d->n_offline_replicas = s->n_offline_replicas;
    if (!ok) {
        br_metacache_partition_deinit(d);
        return SM_ERR_NOMEM;
    }
    return SM_OK;
}

/* ---- lookups -------------------------------------------------------------------------------- */

/* Index of the topic named name, or where it would go (*found false). */
static size_t br_metacache_topic_find(br_metacache_topic_t *const *topics, size_t n,
                                      const char *name, bool *found)
{
    size_t lo = 0, hi = n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(topics[mid]->name, name);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t br_metacache_part_find(const br_metacache_topic_t *t, int32_t partition, bool *found)
{
    size_t lo = 0, hi = t->n_partitions;

    *found = false;
    /* Partitions are nearly always 0..n-1: try the direct slot first. */
    if (partition >= 0 && (size_t)partition < t->n_partitions &&
        t->partitions[partition].partition == partition) {
        *found = true;
        return (size_t)partition;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t p = t->partitions[mid].partition;

        if (p == partition) {
            *found = true;
            return mid;
        }
        if (p < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- applying topic states ---------------------------------------------------------------- */

static sm_err_t br_metacache_topic_insert(br_metacache_topic_t ***topics, size_t *n, size_t *cap,
                                          size_t at, br_metacache_topic_t *t)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        br_metacache_topic_t **nt = realloc(*topics, ncap * sizeof(*nt));

        if (nt == NULL)
            return SM_ERR_NOMEM;
        *topics = nt;
        *cap = ncap;
    }
    memmove(&(*topics)[at + 1], &(*topics)[at], (*n - at) * sizeof(**topics));
    (*topics)[at] = t;
    (*n)++;
    return SM_OK;
}

/* Sets, replaces or (leader -2) removes one partition of t. */
static sm_err_t br_metacache_topic_put(br_metacache_topic_t *t, size_t *cap,
                                       const Samsa__UpdateMetadataPartitionState *ps)
{
    br_metacache_partition_t p;
    bool found;
    size_t at = br_metacache_part_find(t, ps->partition, &found);
    sm_err_t err;

    if (ps->has_leader && ps->leader == BR_METACACHE_LEADER_DELETING) {
        if (found) {
            br_metacache_partition_deinit(&t->partitions[at]);
            memmove(&t->partitions[at], &t->partitions[at + 1],
                    (t->n_partitions - at - 1) * sizeof(p));
            t->n_partitions--;
        }
        return SM_OK;
    }
    err = br_metacache_partition_copy(&p, ps);
    if (err != SM_OK)
        return err;
    if (found) {
        br_metacache_partition_deinit(&t->partitions[at]);
        t->partitions[at] = p;
        return SM_OK;
    }
    if (t->n_partitions == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        br_metacache_partition_t *np = realloc(t->partitions, ncap * sizeof(*np));

        if (np == NULL) {
            br_metacache_partition_deinit(&p);
            return SM_ERR_NOMEM;
        }
        t->partitions = np;
        *cap = ncap;
    }
    memmove(&t->partitions[at + 1], &t->partitions[at], (t->n_partitions - at) * sizeof(p));
    t->partitions[at] = p;
    t->n_partitions++;
    return SM_OK;
}

static void br_metacache_topic_id(const Samsa__UpdateMetadataTopicState *ts, sm_uuid_t *id)
{
    *id = SM_UUID_ZERO;
    if (ts->has_topic_id && ts->topic_id.len == sizeof(id->b))
        memcpy(id->b, ts->topic_id.data, sizeof(id->b));
}

/* Builds the new version of one topic: a copy of `old` (NULL: none; also dropped when the id
 * changed) with ts's partitions applied. *out is NULL when no partition is left. */
static sm_err_t br_metacache_topic_build(const br_metacache_topic_t *old,
                                         const Samsa__UpdateMetadataTopicState *ts,
                                         br_metacache_topic_t **out)
{
    br_metacache_topic_t *t;
    size_t cap = 0;
    sm_uuid_t id;
    sm_err_t err = SM_ERR_NOMEM;

    *out = NULL;
    br_metacache_topic_id(ts, &id);
    if (old != NULL && !sm_uuid_is_zero(&id) && !sm_uuid_is_zero(&old->id) &&
        !sm_uuid_eq(&id, &old->id))
        old = NULL; /* deleted and created again under the same name */
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->name = strdup(ts->topic)) == NULL)
        goto out;
    t->id = sm_uuid_is_zero(&id) && old != NULL ? old->id : id;
    if (old != NULL && old->n_partitions > 0) {
        t->partitions = calloc(old->n_partitions, sizeof(*t->partitions));
        if (t->partitions == NULL)
            goto out;
        cap = old->n_partitions;
        for (size_t i = 0; i < old->n_partitions; i++) {
            const br_metacache_partition_t *o = &old->partitions[i];
            br_metacache_partition_t *d = &t->partitions[i];
            bool ok = true;

            *d = *o;
            d->replicas = br_metacache_ints(o->replicas, o->n_replicas, &ok);
            d->isr = br_metacache_ints(o->isr, o->n_isr, &ok);
            d->offline_replicas =
                br_metacache_ints(o->offline_replicas, o->n_offline_replicas, &ok);
            t->n_partitions++;
            if (!ok)
                goto out;
        }
    }
    for (size_t i = 0; i < ts->n_partitions; i++)
        if ((err = br_metacache_topic_put(t, &cap, ts->partitions[i])) != SM_OK)
            goto out;
    err = SM_OK;
    if (t->n_partitions > 0) {
        *out = t;
        t = NULL;
    }
out:
    br_metacache_topic_free(t);
    return err;
}

/* Applies one topic state to the table (topics, n, cap). */
static sm_err_t br_metacache_apply_topic(br_metacache_topic_t ***topics, size_t *n, size_t *cap,
                                         const Samsa__UpdateMetadataTopicState *ts)
{
    bool found;
    size_t at = br_metacache_topic_find(*topics, *n, ts->topic, &found);
    br_metacache_topic_t *t;
    sm_err_t err;

    err = br_metacache_topic_build(found ? (*topics)[at] : NULL, ts, &t);
    if (err != SM_OK)
        return err;
    if (found) {
        br_metacache_topic_free((*topics)[at]);
        if (t != NULL) {
            (*topics)[at] = t;
        } else {
            memmove(&(*topics)[at], &(*topics)[at + 1], (*n - at - 1) * sizeof(**topics));
            (*n)--;
        }
        return SM_OK;
    }
    if (t == NULL)
        return SM_OK;
    err = br_metacache_topic_insert(topics, n, cap, at, t);
    if (err != SM_OK)
        br_metacache_topic_free(t);
    return err;
}

static sm_err_t br_metacache_check(const Samsa__UpdateMetadataRequest *req, sm_errbuf_t *eb)
{
    for (size_t i = 0; i < req->n_live_brokers; i++)
        if (req->live_brokers[i]->broker_id < 0)
            return sm_errbuf_set(eb, SM_ERR_INVALID, "UpdateMetadata: live broker with id %d",
                                 (int)req->live_brokers[i]->broker_id);
    for (size_t i = 0; i < req->n_topic_states; i++) {
        const Samsa__UpdateMetadataTopicState *ts = req->topic_states[i];

        if (ts->topic == NULL || ts->topic[0] == '\0')
            return sm_errbuf_set(eb, SM_ERR_INVALID, "UpdateMetadata: topic state %zu has no name",
                                 i);
        if (ts->has_topic_id && ts->topic_id.len != 16)
            return sm_errbuf_set(eb, SM_ERR_INVALID,
                                 "UpdateMetadata: topic %.255s: topic id of %zu bytes", ts->topic,
                                 ts->topic_id.len);
        for (size_t j = 0; j < ts->n_partitions; j++)
            if (ts->partitions[j]->partition < 0)
                return sm_errbuf_set(eb, SM_ERR_INVALID,
                                     "UpdateMetadata: topic %.255s: partition %d", ts->topic,
                                     (int)ts->partitions[j]->partition);
    }
    return SM_OK;
}

static size_t br_metacache_count_partitions(br_metacache_topic_t *const *topics, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += topics[i]->n_partitions;
    return total;
}

sm_err_t br_metacache_update(br_metacache_t *mc, const Samsa__UpdateMetadataRequest *req,
                             sm_errbuf_t *eb)
{
    br_metacache_broker_t *brokers = NULL;
    br_metacache_topic_t **topics = NULL;
    size_t n_brokers = 0, n_topics = 0, cap = 0;
    bool full = req->has_full && req->full;
    sm_err_t err;

    err = br_metacache_check(req, eb);
    if (err != SM_OK)
        return err;
    err = br_metacache_brokers_copy(req, &brokers, &n_brokers);
    if (err != SM_OK)
        goto out;
    if (full) {
        /* Build the new table aside and swap it in: a failure leaves the old one whole. */
        for (size_t i = 0; i < req->n_topic_states && err == SM_OK; i++)
            err = br_metacache_apply_topic(&topics, &n_topics, &cap, req->topic_states[i]);
        if (err != SM_OK)
            goto out;
        br_metacache_topics_free(mc->topics, mc->n_topics);
        mc->topics = topics;
        mc->n_topics = n_topics;
        mc->cap_topics = cap;
        topics = NULL;
        n_topics = 0;
    } else {
        for (size_t i = 0; i < req->n_topic_states && err == SM_OK; i++)
            err = br_metacache_apply_topic(&mc->topics, &mc->n_topics, &mc->cap_topics,
                                           req->topic_states[i]);
    }
    mc->n_partitions = br_metacache_count_partitions(mc->topics, mc->n_topics);
    if (err != SM_OK)
        goto out;
    if (full || req->n_live_brokers > 0) {
        br_metacache_brokers_free(mc->brokers, mc->n_brokers);
        mc->brokers = brokers;
        mc->n_brokers = n_brokers;
        brokers = NULL;
        n_brokers = 0;
    }
    if (req->has_controller_id)
        mc->controller_id = req->controller_id;
    mc->ready = true;
out:
    if (err == SM_ERR_NOMEM)
        sm_errbuf_set(eb, err, "UpdateMetadata: out of memory");
    br_metacache_brokers_free(brokers, n_brokers);
    br_metacache_topics_free(topics, n_topics);
    return err;
}

/* ---- getters ------------------------------------------------------------------------------ */

bool br_metacache_ready(const br_metacache_t *mc)
{
    return mc->ready;
}

int32_t br_metacache_controller_id(const br_metacache_t *mc)
{
    return mc->controller_id;
}

size_t br_metacache_broker_count(const br_metacache_t *mc)
{
    return mc->n_brokers;
}

const br_metacache_broker_t *br_metacache_broker_at(const br_metacache_t *mc, size_t i)
{
    return i < mc->n_brokers ? &mc->brokers[i] : NULL;
}

const br_metacache_broker_t *br_metacache_broker(const br_metacache_t *mc, int32_t id)
{
    br_metacache_broker_t key = {.id = id};

    if (mc->n_brokers == 0)
        return NULL;
    return bsearch(&key, mc->brokers, mc->n_brokers, sizeof(key), br_metacache_broker_cmp);
}

size_t br_metacache_topic_count(const br_metacache_t *mc)
{
    return mc->n_topics;
}

const br_metacache_topic_t *br_metacache_topic_at(const br_metacache_t *mc, size_t i)
{
    return i < mc->n_topics ? mc->topics[i] : NULL;
}

const br_metacache_topic_t *br_metacache_topic(const br_metacache_t *mc, const char *name)
{
    bool found;
    size_t at = br_metacache_topic_find(mc->topics, mc->n_topics, name, &found);

    return found ? mc->topics[at] : NULL;
}

const br_metacache_topic_t *br_metacache_topic_by_id(const br_metacache_t *mc, const sm_uuid_t *id)
{
    if (sm_uuid_is_zero(id))
        return NULL;
    for (size_t i = 0; i < mc->n_topics; i++)
        if (sm_uuid_eq(&mc->topics[i]->id, id))
            return mc->topics[i];
    return NULL;
}

const br_metacache_partition_t *br_metacache_topic_partition(const br_metacache_topic_t *t,
                                                             int32_t partition)
{
    bool found;
    size_t at;

    if (t == NULL)
        return NULL;
    at = br_metacache_part_find(t, partition, &found);
    return found ? &t->partitions[at] : NULL;
}

const br_metacache_partition_t *br_metacache_partition(const br_metacache_t *mc, const char *topic,
                                                       int32_t partition)
{
    return br_metacache_topic_partition(br_metacache_topic(mc, topic), partition);
}

size_t br_metacache_partition_count(const br_metacache_t *mc)
{
    return mc->n_partitions;
}
