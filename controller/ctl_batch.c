/*
 * ctl_batch: per-broker request collection and the protobuf building (see ctl_batch.h).
 *
 *   collected:  dest[broker] = {lai: topic -> partitions (+is_new),
 *                               stop: topic -> partitions (+delete), full_um}
 *               um: topic -> partitions (for every live broker), um_brokers
 *   flush:      live brokers (sorted) x {LeaderAndIsr, UpdateMetadata, StopReplica}
 *
 * Messages are built in an arena (every struct and array of one flush in a few blocks, freed
 * at once) and point straight into the model's arrays; each is packed into a buffer and
 * handed to the sink before the next is built.
 */
#include "controller/ctl_batch.h"

#include <stdlib.h>
#include <string.h>

#include "controller/ctl_strmap.h"
#include "sm_log.h"

/* ---- arena -------------------------------------------------------------------------------- */

#define CTL_BATCH_BLOCK (64u * 1024u)

typedef struct ctl_arena_block {
    struct ctl_arena_block *next;
    size_t used, cap;
    max_align_t data[];
} ctl_arena_block_t;

typedef struct ctl_arena {
    ctl_arena_block_t *head;
    bool failed;
} ctl_arena_t;

/* Zeroed memory for n objects of size sz, or NULL (and a->failed) when out of memory. */
static void *ctl_arena_alloc(ctl_arena_t *a, size_t n, size_t sz)
{
    size_t need, align = sizeof(max_align_t);
    ctl_arena_block_t *b = a->head;
    void *p;

    if (n == 0)
        n = 1;
    if (sz != 0 && n > SIZE_MAX / sz / 2) {
        a->failed = true;
        return NULL;
    }
    need = (n * sz + align - 1) / align * align;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > CTL_BATCH_BLOCK ? need : CTL_BATCH_BLOCK;

        b = malloc(sizeof(*b) + cap);
        if (b == NULL) {
            a->failed = true;
            return NULL;
        }
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, need);
    return p;
}

static void ctl_arena_free(ctl_arena_t *a)
{
    while (a->head != NULL) {
        ctl_arena_block_t *next = a->head->next;

        free(a->head);
        a->head = next;
    }
    a->failed = false;
}

/* ---- collected partitions ----------------------------------------------------------------- */

typedef struct ctl_batch_plist {
    int32_t *p;
    uint8_t *flag;
    size_t n, cap;
} ctl_batch_plist_t;

typedef struct ctl_batch_dest {
    int32_t broker;
    ctl_strmap_t *lai;  /* topic -> plist (flag: is_new) */
    ctl_strmap_t *stop; /* topic -> plist (flag: delete) */
    bool full_um;
} ctl_batch_dest_t;

struct ctl_batch {
    const ctl_model_t *model;
    ctl_batch_dest_t *dests;
    size_t n_dests, cap_dests;
    ctl_strmap_t *um; /* topic -> plist */
    bool um_brokers;
};

static void ctl_batch_plists_free(ctl_strmap_t *map)
{
    size_t pos = 0;
    ctl_batch_plist_t *l;

    if (map == NULL)
        return;
    while ((l = ctl_strmap_next(map, &pos, NULL)) != NULL) {
        free(l->p);
        free(l->flag);
        free(l);
    }
    ctl_strmap_clear(map);
}

static sm_err_t ctl_batch_add(ctl_strmap_t *map, const char *topic, int32_t partition, uint8_t flag)
{
    ctl_batch_plist_t *l = ctl_strmap_get(map, topic);

    if (l == NULL) {
        l = calloc(1, sizeof(*l));
        if (l == NULL || ctl_strmap_put(map, topic, l, NULL) != SM_OK) {
            free(l);
            return SM_ERR_NOMEM;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        int32_t *p = realloc(l->p, cap * sizeof(*p));
        uint8_t *f;

        if (p == NULL)
            return SM_ERR_NOMEM;
        l->p = p;
        f = realloc(l->flag, cap);
        if (f == NULL)
            return SM_ERR_NOMEM;
        l->flag = f;
        l->cap = cap;
    }
    l->p[l->n] = partition;
    l->flag[l->n] = flag;
    l->n++;
    return SM_OK;
}

/* Sorts a list by partition and merges duplicates (flags are OR-ed). */
static void ctl_batch_plist_normalize(ctl_batch_plist_t *l)
{
    size_t out = 0;

    /* Insertion sort: lists are short or already ordered (partitions come in order). */
    for (size_t i = 1; i < l->n; i++) {
        int32_t p = l->p[i];
        uint8_t f = l->flag[i];
        size_t j = i;

        while (j > 0 && l->p[j - 1] > p) {
            l->p[j] = l->p[j - 1];
            l->flag[j] = l->flag[j - 1];
            j--;
        }
        l->p[j] = p;
        l->flag[j] = f;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (out > 0 && l->p[out - 1] == l->p[i]) {
            l->flag[out - 1] |= l->flag[i];
            continue;
        }
        l->p[out] = l->p[i];
        l->flag[out] = l->flag[i];
        out++;
    }
    l->n = out;
}

static ctl_batch_dest_t *ctl_batch_dest(ctl_batch_t *b, int32_t broker)
{
    ctl_batch_dest_t *d;

    for (size_t i = 0; i < b->n_dests; i++) {
        if (b->dests[i].broker == broker)
            return &b->dests[i];
    }
    if (b->n_dests == b->cap_dests) {
        size_t cap = b->cap_dests ? b->cap_dests * 2 : 8;
        ctl_batch_dest_t *nd = realloc(b->dests, cap * sizeof(*nd));

        if (nd == NULL)
            return NULL;
        b->dests = nd;
        b->cap_dests = cap;
    }
    d = &b->dests[b->n_dests];
    memset(d, 0, sizeof(*d));
    d->broker = broker;
    if (ctl_strmap_new(&d->lai) != SM_OK || ctl_strmap_new(&d->stop) != SM_OK) {
        ctl_strmap_free(d->lai);
        return NULL;
    }
    b->n_dests++;
    return d;
}

/* ---- public: collecting ------------------------------------------------------------------- */

sm_err_t ctl_batch_new(const ctl_model_t *model, ctl_batch_t **out)
{
    ctl_batch_t *b = calloc(1, sizeof(*b));

    *out = NULL;
    if (b == NULL || ctl_strmap_new(&b->um) != SM_OK) {
        free(b);
        return SM_ERR_NOMEM;
    }
    b->model = model;
    *out = b;
    return SM_OK;
}

void ctl_batch_clear(ctl_batch_t *b)
{
    for (size_t i = 0; i < b->n_dests; i++) {
        ctl_batch_plists_free(b->dests[i].lai);
        ctl_batch_plists_free(b->dests[i].stop);
        ctl_strmap_free(b->dests[i].lai);
        ctl_strmap_free(b->dests[i].stop);
    }
    b->n_dests = 0;
    ctl_batch_plists_free(b->um);
    b->um_brokers = false;
}

void ctl_batch_free(ctl_batch_t *b)
{
    if (b == NULL)
        return;
    ctl_batch_clear(b);
    free(b->dests);
    ctl_strmap_free(b->um);
    free(b);
}

bool ctl_batch_empty(const ctl_batch_t *b)
{
    return b->n_dests == 0 && ctl_strmap_count(b->um) == 0 && !b->um_brokers;
}

sm_err_t ctl_batch_leader_and_isr(ctl_batch_t *b, int32_t broker, const char *topic,
                                  int32_t partition, bool is_new)
{
    ctl_batch_dest_t *d = ctl_batch_dest(b, broker);

    return d != NULL ? ctl_batch_add(d->lai, topic, partition, is_new) : SM_ERR_NOMEM;
}

sm_err_t ctl_batch_update_metadata(ctl_batch_t *b, const char *topic, int32_t partition)
{
    return ctl_batch_add(b->um, topic, partition, 0);
}

void ctl_batch_update_brokers(ctl_batch_t *b)
{
    b->um_brokers = true;
}

sm_err_t ctl_batch_update_metadata_full(ctl_batch_t *b, int32_t broker)
{
    ctl_batch_dest_t *d = ctl_batch_dest(b, broker);

    if (d == NULL)
        return SM_ERR_NOMEM;
    d->full_um = true;
    return SM_OK;
}

sm_err_t ctl_batch_stop_replica(ctl_batch_t *b, int32_t broker, const char *topic,
                                int32_t partition, bool delete_log)
{
    ctl_batch_dest_t *d = ctl_batch_dest(b, broker);

    return d != NULL ? ctl_batch_add(d->stop, topic, partition, delete_log) : SM_ERR_NOMEM;
}

/* ---- building ----------------------------------------------------------------------------- */

typedef struct ctl_batch_run {
    ctl_batch_t *b;
    ctl_arena_t arena;
    int32_t controller_id, epoch;
    ctl_batch_sink_fn sink;
    void *arg;
    const ctl_broker_t *brokers; /* the model's live brokers, sorted */
    size_t n_brokers;
    Samsa__LiveBroker *live; /* live[i] describes brokers[i] */
    Samsa__LiveBroker **live_ptrs;
    bool *leader_used; /* per live broker: named as a leader in the LeaderAndIsr being built */
    sm_err_t err;
} ctl_batch_run_t;

static void ctl_batch_endpoint(Samsa__Endpoint *e, const ctl_endpoint_t *src)
{
    samsa__endpoint__init(e);
    e->listener = src->listener;
    e->host = src->host;
    e->has_port = 1;
    e->port = src->port;
}

static sm_err_t ctl_batch_build_live(ctl_batch_run_t *r)
{
    r->brokers = ctl_model_brokers(r->b->model, &r->n_brokers);
    r->live = ctl_arena_alloc(&r->arena, r->n_brokers, sizeof(*r->live));
    r->live_ptrs = ctl_arena_alloc(&r->arena, r->n_brokers, sizeof(*r->live_ptrs));
    r->leader_used = ctl_arena_alloc(&r->arena, r->n_brokers, sizeof(*r->leader_used));
    for (size_t i = 0; !r->arena.failed && i < r->n_brokers; i++) {
        const ctl_broker_t *br = &r->brokers[i];
        Samsa__LiveBroker *lb = &r->live[i];
        Samsa__Endpoint *eps = ctl_arena_alloc(&r->arena, br->n_endpoints, sizeof(*eps));
        Samsa__Endpoint **ptrs = ctl_arena_alloc(&r->arena, br->n_endpoints, sizeof(*ptrs));
        Samsa__Endpoint *ctl = ctl_arena_alloc(&r->arena, 1, sizeof(*ctl));

        if (r->arena.failed)
            break;
        samsa__live_broker__init(lb);
        lb->has_broker_id = 1;
        lb->broker_id = br->id;
        for (size_t e = 0; e < br->n_endpoints; e++) {
            ctl_batch_endpoint(&eps[e], &br->endpoints[e]);
            ptrs[e] = &eps[e];
        }
        lb->n_endpoints = br->n_endpoints;
        lb->endpoints = ptrs;
        lb->rack = br->rack;
        if (br->control.host != NULL) {
            ctl_batch_endpoint(ctl, &br->control);
            lb->control_endpoint = ctl;
        }
        r->live_ptrs[i] = lb;
    }
    return r->arena.failed ? SM_ERR_NOMEM : SM_OK;
}

static ssize_t ctl_batch_live_index(const ctl_batch_run_t *r, int32_t id)
{
    for (size_t i = 0; i < r->n_brokers; i++) {
        if (r->brokers[i].id == id)
            return (ssize_t)i;
    }
    return -1;
}

/* Packs env for broker (header filled here) and hands it to the sink. */
static void ctl_batch_emit(ctl_batch_run_t *r, const ctl_broker_t *broker, Samsa__Envelope *env,
                           Samsa__RpcType type, size_t n_partitions)
{
    uint8_t *buf;
    size_t len;

    env->has_type = 1;
    env->type = type;
    env->has_controller_epoch = 1;
    env->controller_epoch = r->epoch;
    env->has_broker_epoch = 1;
    env->broker_epoch = broker->epoch;
    env->has_sender_id = 1;
    env->sender_id = r->controller_id;
    len = samsa__envelope__get_packed_size(env);
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        r->err = SM_ERR_NOMEM;
        return;
    }
    samsa__envelope__pack(env, buf);
    r->sink(r->arg, broker->id, type, buf, len, n_partitions);
    free(buf);
}

static void ctl_batch_fill_lai(Samsa__LeaderAndIsrPartitionState *ps, const ctl_partition_t *p,
                               bool is_new)
{
    samsa__leader_and_isr_partition_state__init(ps);
    ps->has_partition = 1;
    ps->partition = p->index;
    ps->has_controller_epoch = 1;
    ps->controller_epoch = p->controller_epoch;
    ps->has_leader = 1;
    ps->leader = p->leader;
    ps->has_leader_epoch = 1;
    ps->leader_epoch = p->leader_epoch;
    ps->n_isr = p->n_isr;
    ps->isr = p->isr;
    ps->has_partition_epoch = 1;
    ps->partition_epoch = p->zk_version;
    ps->n_replicas = p->n_replicas;
    ps->replicas = p->replicas;
    ps->n_adding_replicas = p->n_adding;
    ps->adding_replicas = p->adding;
    ps->n_removing_replicas = p->n_removing;
    ps->removing_replicas = p->removing;
    ps->has_is_new = 1;
    ps->is_new = is_new;
    if (p->recovery != 0) {
        ps->has_leader_recovery_state = 1;
        ps->leader_recovery_state = SAMSA__LEADER_RECOVERY_STATE__RECOVERING;
    }
}

/* One topic's part of a LeaderAndIsr; returns how many partitions it holds. */
static size_t ctl_batch_lai_topic(ctl_batch_run_t *r, const ctl_topic_t *t, ctl_batch_plist_t *l,
                                  Samsa__LeaderAndIsrTopicState *ts)
{
    Samsa__LeaderAndIsrPartitionState *ps = ctl_arena_alloc(&r->arena, l->n, sizeof(*ps));
    Samsa__LeaderAndIsrPartitionState **psp = ctl_arena_alloc(&r->arena, l->n, sizeof(*psp));
    size_t k = 0;

    if (r->arena.failed)
        return 0;
    ctl_batch_plist_normalize(l);
    for (size_t i = 0; i < l->n; i++) {
        const ctl_partition_t *p;
        ssize_t li;

        if (l->p[i] < 0 || (size_t)l->p[i] >= t->n_parts || !t->parts[l->p[i]].has_state)
            continue;
        p = &t->parts[l->p[i]];
        ctl_batch_fill_lai(&ps[k], p, l->flag[i] != 0);
        psp[k] = &ps[k];
        k++;
        li = p->leader >= 0 ? ctl_batch_live_index(r, p->leader) : -1;
        if (li >= 0)
            r->leader_used[li] = true;
    }
    samsa__leader_and_isr_topic_state__init(ts);
    ts->topic = t->name;
    ts->has_topic_id = 1;
    ts->topic_id.len = 16;
    ts->topic_id.data = (uint8_t *)t->id.b;
    ts->n_partitions = k;
    ts->partitions = psp;
    return k;
}

static void ctl_batch_send_lai(ctl_batch_run_t *r, const ctl_broker_t *broker, ctl_strmap_t *lai)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__LeaderAndIsrRequest req = SAMSA__LEADER_AND_ISR_REQUEST__INIT;
    size_t n_topics = ctl_strmap_count(lai), pos = 0, total = 0, nt = 0;
    Samsa__LeaderAndIsrTopicState *ts = ctl_arena_alloc(&r->arena, n_topics, sizeof(*ts));
    Samsa__LeaderAndIsrTopicState **tsp = ctl_arena_alloc(&r->arena, n_topics, sizeof(*tsp));
    ctl_batch_plist_t *l;
    const char *name;

    if (r->arena.failed)
        return;
    memset(r->leader_used, 0, r->n_brokers * sizeof(*r->leader_used));
    while ((l = ctl_strmap_next(lai, &pos, &name)) != NULL) {
        const ctl_topic_t *t = ctl_model_topic(r->b->model, name);
        size_t k;

        if (t == NULL || ctl_model_deletion_has(r->b->model, name))
            continue;
        k = ctl_batch_lai_topic(r, t, l, &ts[nt]);
        if (k > 0) {
            tsp[nt] = &ts[nt];
            nt++;
            total += k;
        }
    }
    if (total == 0 || r->arena.failed)
        return;
    req.has_controller_id = 1;
    req.controller_id = r->controller_id;
    req.n_topic_states = nt;
    req.topic_states = tsp;
    req.live_leaders = ctl_arena_alloc(&r->arena, r->n_brokers, sizeof(*req.live_leaders));
    for (size_t i = 0; req.live_leaders != NULL && i < r->n_brokers; i++) {
        if (r->leader_used[i])
            req.live_leaders[req.n_live_leaders++] = r->live_ptrs[i];
    }
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST;
    env.leader_and_isr_request = &req;
    ctl_batch_emit(r, broker, &env, SAMSA__RPC_TYPE__LEADER_AND_ISR, total);
}

static void ctl_batch_fill_um(ctl_batch_run_t *r, Samsa__UpdateMetadataPartitionState *ps,
                              const ctl_partition_t *p, bool deleting)
{
    int32_t *offline = ctl_arena_alloc(&r->arena, p->n_replicas, sizeof(*offline));

    samsa__update_metadata_partition_state__init(ps);
    ps->has_partition = 1;
    ps->partition = p->index;
    ps->has_controller_epoch = 1;
    ps->controller_epoch = p->controller_epoch;
    ps->has_leader = 1;
    ps->leader = deleting ? -2 : (p->has_state ? p->leader : -1);
    ps->has_leader_epoch = 1;
    ps->leader_epoch = p->leader_epoch;
    ps->n_isr = p->n_isr;
    ps->isr = p->isr;
    ps->has_partition_epoch = 1;
    ps->partition_epoch = p->zk_version;
    ps->n_replicas = p->n_replicas;
    ps->replicas = p->replicas;
    for (size_t i = 0; offline != NULL && i < p->n_replicas; i++) {
        if (!ctl_model_broker_live(r->b->model, p->replicas[i]))
            offline[ps->n_offline_replicas++] = p->replicas[i];
    }
    ps->offline_replicas = offline;
}

/* One topic's part of an UpdateMetadata: partitions in l, or all when l is NULL. */
static size_t ctl_batch_um_topic(ctl_batch_run_t *r, const ctl_topic_t *t, ctl_batch_plist_t *l,
                                 Samsa__UpdateMetadataTopicState *ts)
{
    size_t n = l != NULL ? l->n : t->n_parts, k = 0;
    Samsa__UpdateMetadataPartitionState *ps = ctl_arena_alloc(&r->arena, n, sizeof(*ps));
    Samsa__UpdateMetadataPartitionState **psp = ctl_arena_alloc(&r->arena, n, sizeof(*psp));
    bool deleting = ctl_model_deletion_has(r->b->model, t->name);

    if (r->arena.failed)
        return 0;
    if (l != NULL)
        ctl_batch_plist_normalize(l);
    n = l != NULL ? l->n : t->n_parts;
    for (size_t i = 0; i < n; i++) {
        int32_t idx = l != NULL ? l->p[i] : (int32_t)i;

        if (idx < 0 || (size_t)idx >= t->n_parts)
            continue;
        ctl_batch_fill_um(r, &ps[k], &t->parts[idx], deleting);
        psp[k] = &ps[k];
        k++;
    }
    samsa__update_metadata_topic_state__init(ts);
    ts->topic = t->name;
    ts->has_topic_id = 1;
    ts->topic_id.len = 16;
    ts->topic_id.data = (uint8_t *)t->id.b;
    ts->n_partitions = k;
    ts->partitions = psp;
    return k;
}

/* Builds an UpdateMetadata body: the topics of `partial`, or every topic when it is NULL. */
static size_t ctl_batch_build_um(ctl_batch_run_t *r, ctl_strmap_t *partial,
                                 Samsa__UpdateMetadataRequest *req)
{
    size_t n_topics =
        partial != NULL ? ctl_strmap_count(partial) : ctl_model_topic_count(r->b->model);
    Samsa__UpdateMetadataTopicState *ts = ctl_arena_alloc(&r->arena, n_topics, sizeof(*ts));
    Samsa__UpdateMetadataTopicState **tsp = ctl_arena_alloc(&r->arena, n_topics, sizeof(*tsp));
    size_t pos = 0, nt = 0, total = 0;

    samsa__update_metadata_request__init(req);
    for (;;) {
        ctl_batch_plist_t *l = NULL;
        const ctl_topic_t *t;
        const char *name = NULL;

        if (r->arena.failed)
            break;
        if (partial != NULL) {
            l = ctl_strmap_next(partial, &pos, &name);
            if (l == NULL)
                break;
            t = ctl_model_topic(r->b->model, name);
            if (t == NULL)
                continue;
        } else if ((t = ctl_model_topic_next(r->b->model, &pos)) == NULL) {
            break;
        }
        total += ctl_batch_um_topic(r, t, l, &ts[nt]);
        tsp[nt] = &ts[nt];
        nt++;
    }
    req->has_controller_id = 1;
    req->controller_id = r->controller_id;
    req->n_live_brokers = r->n_brokers;
    req->live_brokers = r->live_ptrs;
    req->n_topic_states = nt;
    req->topic_states = tsp;
    req->has_full = 1;
    req->full = partial == NULL;
    return total;
}

static void ctl_batch_send_um(ctl_batch_run_t *r, const ctl_broker_t *broker,
                              Samsa__UpdateMetadataRequest *req, size_t n_parts)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;

    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_REQUEST;
    env.update_metadata_request = req;
    ctl_batch_emit(r, broker, &env, SAMSA__RPC_TYPE__UPDATE_METADATA, n_parts);
}

static void ctl_batch_send_stop(ctl_batch_run_t *r, const ctl_broker_t *broker, ctl_strmap_t *stop)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__StopReplicaRequest req = SAMSA__STOP_REPLICA_REQUEST__INIT;
    size_t n_topics = ctl_strmap_count(stop), pos = 0, total = 0;
    Samsa__StopReplicaTopicState *ts = ctl_arena_alloc(&r->arena, n_topics, sizeof(*ts));
    Samsa__StopReplicaTopicState **tsp = ctl_arena_alloc(&r->arena, n_topics, sizeof(*tsp));
    ctl_batch_plist_t *l;
    const char *name;

    while (!r->arena.failed && (l = ctl_strmap_next(stop, &pos, &name)) != NULL) {
        const ctl_topic_t *t = ctl_model_topic(r->b->model, name);
        Samsa__StopReplicaPartitionState *ps;
        Samsa__StopReplicaTopicState *cur = &ts[req.n_topic_states];

        ctl_batch_plist_normalize(l);
        samsa__stop_replica_topic_state__init(cur);
        ps = ctl_arena_alloc(&r->arena, l->n, sizeof(*ps));
        cur->partitions = ctl_arena_alloc(&r->arena, l->n, sizeof(*cur->partitions));
        if (r->arena.failed)
            break;
        cur->topic = (char *)name;
        for (size_t i = 0; i < l->n; i++) {
            bool known = t != NULL && l->p[i] >= 0 && (size_t)l->p[i] < t->n_parts &&
                         t->parts[l->p[i]].has_state;

            samsa__stop_replica_partition_state__init(&ps[i]);
            ps[i].has_partition = 1;
            ps[i].partition = l->p[i];
            ps[i].has_leader_epoch = 1;
            ps[i].leader_epoch = l->flag[i] ? -2 : (known ? t->parts[l->p[i]].leader_epoch : -1);
            ps[i].has_delete_partition = 1;
            ps[i].delete_partition = l->flag[i] != 0;
            cur->partitions[cur->n_partitions++] = &ps[i];
        }
        total += l->n;
        tsp[req.n_topic_states++] = cur;
    }
    if (r->arena.failed || total == 0)
        return;
    req.has_controller_id = 1;
    req.controller_id = r->controller_id;
    req.topic_states = tsp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_REQUEST;
    env.stop_replica_request = &req;
    ctl_batch_emit(r, broker, &env, SAMSA__RPC_TYPE__STOP_REPLICA, total);
}

static ctl_batch_dest_t *ctl_batch_find(ctl_batch_t *b, int32_t broker)
{
    for (size_t i = 0; i < b->n_dests; i++) {
        if (b->dests[i].broker == broker)
            return &b->dests[i];
    }
    return NULL;
}

sm_err_t ctl_batch_flush(ctl_batch_t *b, int32_t controller_id, int32_t epoch,
                         ctl_batch_sink_fn sink, void *arg)
{
    ctl_batch_run_t r = {
        .b = b, .controller_id = controller_id, .epoch = epoch, .sink = sink, .arg = arg};
    Samsa__UpdateMetadataRequest partial, full;
    size_t n_partial = 0, n_full = 0;
    bool want_partial = ctl_strmap_count(b->um) > 0 || b->um_brokers, want_full = false;

    if (ctl_batch_build_live(&r) != SM_OK)
        goto out;
    for (size_t i = 0; i < b->n_dests; i++)
        want_full = want_full || b->dests[i].full_um;
    if (want_partial)
        n_partial = ctl_batch_build_um(&r, b->um, &partial);
    if (want_full)
        n_full = ctl_batch_build_um(&r, NULL, &full);
    for (size_t i = 0; i < r.n_brokers && !r.arena.failed && r.err == SM_OK; i++) {
        const ctl_broker_t *br = &r.brokers[i];
        ctl_batch_dest_t *d = ctl_batch_find(b, br->id);

        if (d != NULL && ctl_strmap_count(d->lai) > 0)
            ctl_batch_send_lai(&r, br, d->lai);
        if (d != NULL && d->full_um)
            ctl_batch_send_um(&r, br, &full, n_full);
        else if (want_partial)
            ctl_batch_send_um(&r, br, &partial, n_partial);
        if (d != NULL && ctl_strmap_count(d->stop) > 0)
            ctl_batch_send_stop(&r, br, d->stop);
    }
out:
    if (r.arena.failed)
        r.err = SM_ERR_NOMEM;
    if (r.err != SM_OK)
        sm_log_error("out of memory building broker requests; some were not sent");
    ctl_arena_free(&r.arena);
    ctl_batch_clear(b);
    return r.err;
}
