/*
 * ctl_topics: the CreateTopics and DescribeTopics requests of the active controller (from
 * samsa-admin, and forwarded by brokers for the Kafka CreateTopics API and topic
 * auto-creation).
 *
 * Create, per topic: validate (name, counts, configs, explicit assignment), assign replicas
 * (Kafka's round robin / rack-aware, over the live brokers), draw a topic id, then ONE
 * epoch-checked multi: create /config/topics/<t>, /brokers/topics/<t> and its partitions
 * directory. The answer goes out once ZooKeeper accepted it (intent before acknowledgement:
 * a controller that dies now is succeeded by one that finishes) -- or, when the request gives
 * a timeout_ms, once every new partition has its state node (leader elected) or the timeout
 * passed. The partition state nodes, LeaderAndIsr(is_new) and UpdateMetadata follow from the
 * mirror's TOPIC_ADDED event (ctl_active reconciles the new partitions).
 */
#include "controller/ctl_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/ctl_assign.h"
#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"
#include "controller/ctl_validate.h"
#include "sm_log.h"
#include "sm_uuid.h"

#define CTL_TOPICS_MAX_PARTITIONS 50000

typedef struct ctl_create_item {
    char *name;
    int32_t code;
    char *msg;
    sm_uuid_t id;
    int32_t partitions, rf;
    uint8_t *topic_data, *config_data;
    size_t topic_len, config_len;
    bool config_exists; /* a leftover config node: overwrite it */
} ctl_create_item_t;

typedef struct ctl_create {
    ctl_ctx_t *c;
    sm_rpc_call_t *call;
    ctl_create_item_t *items;
    size_t n;
    size_t writes;
    int64_t deadline_ms; /* wait for leaders until then (0: answer at once) */
    struct event *poll;
    struct ctl_create *next; /* c->create_waits */
} ctl_create_t;

typedef struct ctl_create_write {
    ctl_create_t *cr;
    size_t index;
} ctl_create_write_t;

static void ctl_create_set(ctl_create_item_t *it, int32_t code, const char *msg)
{
    it->code = code;
    free(it->msg);
    it->msg = msg != NULL ? strdup(msg) : NULL;
}

static void ctl_create_free(ctl_create_t *cr)
{
    for (size_t i = 0; i < cr->n; i++) {
        free(cr->items[i].name);
        free(cr->items[i].msg);
        free(cr->items[i].topic_data);
        free(cr->items[i].config_data);
    }
    free(cr->items);
    if (cr->poll != NULL)
        event_free(cr->poll);
    free(cr);
}

static void ctl_create_answer(ctl_create_t *cr)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__CreateTopicsResponse resp = SAMSA__CREATE_TOPICS_RESPONSE__INIT;
    Samsa__CreatableTopicResult *rs = calloc(cr->n + 1, sizeof(*rs));
    Samsa__CreatableTopicResult **rp = calloc(cr->n + 1, sizeof(*rp));

    for (size_t i = 0; rs != NULL && rp != NULL && i < cr->n; i++) {
        ctl_create_item_t *it = &cr->items[i];

        samsa__creatable_topic_result__init(&rs[i]);
        rs[i].name = it->name;
        rs[i].has_error_code = 1;
        rs[i].error_code = it->code;
        rs[i].error_message = it->msg;
        if (it->code == 0) {
            rs[i].has_topic_id = 1;
            rs[i].topic_id.len = 16;
            rs[i].topic_id.data = it->id.b;
            rs[i].has_num_partitions = 1;
            rs[i].num_partitions = it->partitions;
            rs[i].has_replication_factor = 1;
            rs[i].replication_factor = it->rf;
        }
        rp[i] = &rs[i];
    }
    resp.has_error_code = 1;
    resp.error_code = rs != NULL && rp != NULL ? 0 : CTL_KERR_UNKNOWN_SERVER_ERROR;
    resp.n_topics = rs != NULL && rp != NULL ? cr->n : 0;
    resp.topics = rp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE;
    env.create_topics_response = &resp;
    sm_rpc_call_reply(cr->call, &env);
    free(rs);
    free(rp);
    ctl_create_free(cr);
}

/* ---- validation and assignment ----------------------------------------------------------------
 */

static bool ctl_topics_live(void *arg, int32_t id)
{
    return ctl_model_broker_live(arg, id);
}

static bool ctl_topics_configs_ok(const Samsa__CreatableTopic *ct, ctl_create_item_t *it)
{
    sm_errbuf_t eb = {{0}};

    for (size_t i = 0; i < ct->n_configs; i++) {
        if (ctl_validate_topic_config(ct->configs[i]->name, ct->configs[i]->value, &eb) != SM_OK) {
            ctl_create_set(it, CTL_KERR_INVALID_CONFIG, eb.msg);
            return false;
        }
    }
    return true;
}

/* Encodes the explicit assignment of ct into it->topic_data. */
static bool ctl_topics_explicit(ctl_ctx_t *c, const Samsa__CreatableTopic *ct,
                                ctl_create_item_t *it)
{
    size_t n = ct->n_assignments;
    int32_t *ids = calloc(n + 1, sizeof(*ids));
    const int32_t **rows = calloc(n + 1, sizeof(*rows));
    size_t *lens = calloc(n + 1, sizeof(*lens));
    ctl_assignment_t *parts = calloc(n + 1, sizeof(*parts));
    sm_errbuf_t eb = {{0}};
    bool ok = false;

    if (ids == NULL || rows == NULL || lens == NULL || parts == NULL) {
        ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = ct->assignments[i]->partition;
        rows[i] = ct->assignments[i]->replicas;
        lens[i] = ct->assignments[i]->n_replicas;
    }
    if (ctl_validate_assignment(ids, rows, lens, n, ctl_topics_live, c->model, &eb) != SM_OK) {
        ctl_create_set(it, CTL_KERR_INVALID_REPLICA_ASSIGNMENT, eb.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        parts[ids[i]] = (ctl_assignment_t){rows[i], lens[i], NULL, 0, NULL, 0};
    it->partitions = (int32_t)n;
    it->rf = (int32_t)lens[0];
    ok = ctl_codec_topic_encode(&it->id, parts, n, &it->topic_data, &it->topic_len) == SM_OK;
    if (!ok)
        ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
out:
    free(ids);
    free(rows);
    free(lens);
    free(parts);
    return ok;
}

/* Assigns it->partitions x it->rf over the live brokers into it->topic_data. */
static bool ctl_topics_assign(ctl_ctx_t *c, ctl_create_item_t *it)
{
    size_t n_brokers, np = (size_t)it->partitions;
    const ctl_broker_t *brokers = ctl_model_brokers(c->model, &n_brokers);
    ctl_assign_broker_t *ab = calloc(n_brokers + 1, sizeof(*ab));
    int32_t *out = calloc(np * (size_t)it->rf + 1, sizeof(*out));
    ctl_assignment_t *parts = calloc(np + 1, sizeof(*parts));
    sm_errbuf_t eb = {{0}};
    sm_err_t err = SM_ERR_NOMEM;
    bool ok = false;

    if (ab != NULL && out != NULL && parts != NULL) {
        for (size_t i = 0; i < n_brokers; i++)
            ab[i] = (ctl_assign_broker_t){brokers[i].id, brokers[i].rack};
        err = ctl_assign_replicas(ab, n_brokers, it->partitions, it->rf, -1, 0, out, &eb);
    }
    if (err == SM_ERR_INVALID) {
        ctl_create_set(it, CTL_KERR_INVALID_REPLICATION_FACTOR, eb.msg);
    } else if (err == SM_OK) {
        for (size_t p = 0; p < np; p++)
            parts[p] =
                (ctl_assignment_t){out + p * (size_t)it->rf, (size_t)it->rf, NULL, 0, NULL, 0};
        ok = ctl_codec_topic_encode(&it->id, parts, np, &it->topic_data, &it->topic_len) == SM_OK;
    }
    if (!ok && it->code == 0)
        ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
    free(ab);
    free(out);
    free(parts);
    return ok;
}

static bool ctl_topics_counts(ctl_ctx_t *c, const Samsa__CreatableTopic *ct, ctl_create_item_t *it)
{
    char msg[160];

    it->partitions = ct->has_num_partitions && ct->num_partitions != -1 ? ct->num_partitions
                                                                        : c->default_partitions;
    it->rf = ct->has_replication_factor && ct->replication_factor != -1 ? ct->replication_factor
                                                                        : c->default_rf;
    if (it->partitions < 1 || it->partitions > CTL_TOPICS_MAX_PARTITIONS) {
        snprintf(msg, sizeof(msg), "number of partitions must be between 1 and %d (got %d)",
                 CTL_TOPICS_MAX_PARTITIONS, (int)it->partitions);
        ctl_create_set(it, CTL_KERR_INVALID_PARTITIONS, msg);
        return false;
    }
    if (it->rf < 1) {
        ctl_create_set(it, CTL_KERR_INVALID_REPLICATION_FACTOR,
                       "replication factor must be larger than 0");
        return false;
    }
    return true;
}

static bool ctl_topics_named_before(const ctl_create_t *cr, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (strcmp(cr->items[j].name, cr->items[i].name) == 0)
            return true;
    }
    return false;
}

/* Validates one topic and prepares its payloads; false with the item's error set. */
static bool ctl_topics_prepare(ctl_ctx_t *c, ctl_create_t *cr, size_t i,
                               const Samsa__CreatableTopic *ct)
{
    ctl_create_item_t *it = &cr->items[i];
    const char **keys = NULL, **values = NULL;
    sm_errbuf_t eb = {{0}};
    char msg[320];
    bool ok = false;

    if (ctl_validate_topic_name(ct->name, &eb) != SM_OK) {
        ctl_create_set(it, CTL_KERR_INVALID_TOPIC, eb.msg);
    } else if (ctl_topics_named_before(cr, i)) {
        ctl_create_set(it, CTL_KERR_INVALID_REQUEST, "topic named twice in the request");
    } else if (ctl_model_deletion_has(c->model, it->name)) {
        snprintf(msg, sizeof(msg), "topic '%s' is marked for deletion", it->name);
        ctl_create_set(it, CTL_KERR_TOPIC_EXISTS, msg);
    } else if (ctl_model_topic(c->model, it->name) != NULL) {
        snprintf(msg, sizeof(msg), "topic '%s' already exists", it->name);
        ctl_create_set(it, CTL_KERR_TOPIC_EXISTS, msg);
    } else if (ctl_topics_configs_ok(ct, it) && sm_uuid_random(&it->id) == SM_OK) {
        ok = ct->n_assignments > 0 ? ctl_topics_explicit(c, ct, it)
                                   : ctl_topics_counts(c, ct, it) && ctl_topics_assign(c, it);
    }
    if (!ok)
        return false;
    keys = calloc(ct->n_configs + 1, sizeof(*keys));
    values = calloc(ct->n_configs + 1, sizeof(*values));
    for (size_t k = 0; keys != NULL && values != NULL && k < ct->n_configs; k++) {
        keys[k] = ct->configs[k]->name;
        values[k] = ct->configs[k]->value;
    }
    ok = keys != NULL && values != NULL &&
         ctl_codec_config_encode(keys, values, ct->n_configs, &it->config_data, &it->config_len) ==
             SM_OK;
    if (!ok)
        ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
    free(keys);
    free(values);
    return ok;
}

/* ---- waiting for leaders ----------------------------------------------------------------------
 */

#define CTL_TOPICS_POLL_MS 10

static bool ctl_topics_led(const ctl_ctx_t *c, const ctl_create_item_t *it)
{
    const ctl_topic_t *t = ctl_model_topic(c->model, it->name);

    if (t == NULL || !sm_uuid_eq(&t->id, &it->id))
        return false;
    for (size_t i = 0; i < t->n_parts; i++) {
        if (!t->parts[i].has_state)
            return false;
    }
    return true;
}

static void ctl_topics_unlink(ctl_create_t *cr)
{
    ctl_create_t **pp = &cr->c->create_waits;

    while (*pp != NULL && *pp != cr)
        pp = &(*pp)->next;
    if (*pp == cr)
        *pp = cr->next;
}

static void ctl_topics_on_poll(evutil_socket_t fd, short what, void *arg)
{
    static const struct timeval again = {0, CTL_TOPICS_POLL_MS * 1000};
    ctl_create_t *cr = arg;
    bool ready = true;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < cr->n && ready; i++)
        ready = cr->items[i].code != 0 || ctl_topics_led(cr->c, &cr->items[i]);
    if (!ready && ctl_now_ms() < cr->deadline_ms) {
        evtimer_add(cr->poll, &again);
        return;
    }
    ctl_topics_unlink(cr);
    ctl_create_answer(cr);
}

/* Every write is done: answer now, or once the new partitions have their state nodes. */
static void ctl_topics_finish(ctl_create_t *cr)
{
    bool any = false;

    for (size_t i = 0; i < cr->n; i++)
        any = any || cr->items[i].code == 0;
    if (!any || cr->deadline_ms == 0 ||
        (cr->poll = evtimer_new(cr->c->base, ctl_topics_on_poll, cr)) == NULL) {
        ctl_create_answer(cr);
        return;
    }
    cr->next = cr->c->create_waits;
    cr->c->create_waits = cr;
    ctl_topics_on_poll(-1, 0, cr);
}

void ctl_topics_reset(ctl_ctx_t *c)
{
    while (c->create_waits != NULL) {
        ctl_create_t *cr = c->create_waits;

        c->create_waits = cr->next;
        ctl_create_answer(cr);
    }
}

/* ---- the ZooKeeper write ----------------------------------------------------------------------
 */

static sm_err_t ctl_topics_write(ctl_create_t *cr, size_t i);

static void ctl_topics_on_written(void *arg, sm_err_t err, const sm_zk_result_t *res)
{
    ctl_create_write_t *cw = arg;
    ctl_create_t *cr = cw->cr;
    ctl_create_item_t *it = &cr->items[cw->index];
    char msg[320];

    free(cw);
    cr->writes--;
    if (err == SM_OK) {
        sm_log_info("created topic %s (%d partitions, replication factor %d)", it->name,
                    (int)it->partitions, (int)it->rf);
    } else if (err == SM_ERR_EXISTS && res->n_ops > 1 && res->ops[1].err == SM_ERR_EXISTS &&
               !it->config_exists) {
        /* A config node left over from an interrupted deletion: overwrite it. */
        it->config_exists = true;
        if (ctl_topics_write(cr, (size_t)(it - cr->items)) == SM_OK)
            return;
        ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "cannot write the topic");
    } else if (err == SM_ERR_EXISTS) {
        snprintf(msg, sizeof(msg), "topic '%s' already exists", it->name);
        ctl_create_set(it, CTL_KERR_TOPIC_EXISTS, msg);
    } else if (err == SM_ERR_FENCED || err == SM_ERR_STATE) {
        ctl_create_set(it, CTL_KERR_NOT_CONTROLLER, "not the active controller any more");
    } else {
        snprintf(msg, sizeof(msg), "cannot write the topic to ZooKeeper: %s%s", sm_err_str(err),
                 err == SM_ERR_AGAIN ? " (it may or may not exist now)" : "");
        ctl_create_set(
            it, err == SM_ERR_AGAIN ? CTL_KERR_REQUEST_TIMED_OUT : CTL_KERR_UNKNOWN_SERVER_ERROR,
            msg);
    }
    if (cr->writes == 0)
        ctl_topics_finish(cr);
}

static sm_err_t ctl_topics_write(ctl_create_t *cr, size_t i)
{
    ctl_create_item_t *it = &cr->items[i];
    char config[CTL_PATH_MAX], topic[CTL_PATH_MAX], parts[CTL_PATH_MAX];
    ctl_create_write_t *cw = malloc(sizeof(*cw));
    sm_zk_op_t ops[3];
    sm_err_t err;

    if (cw == NULL)
        return SM_ERR_NOMEM;
    *cw = (ctl_create_write_t){cr, i};
    ops[0] = (sm_zk_op_t){.type = it->config_exists ? SM_ZK_OP_SET : SM_ZK_OP_CREATE,
                          .path = ctl_path_config(config, sizeof(config), it->name),
                          .data = it->config_data,
                          .len = it->config_len,
                          .version = -1};
    ops[1] = (sm_zk_op_t){.type = SM_ZK_OP_CREATE,
                          .path = ctl_path_topic(topic, sizeof(topic), it->name),
                          .data = it->topic_data,
                          .len = it->topic_len};
    ops[2] = (sm_zk_op_t){.type = SM_ZK_OP_CREATE,
                          .path = ctl_path_partitions(parts, sizeof(parts), it->name)};
    err = ctl_zkw_multi(cr->c->zkw, ops, 3, ctl_topics_on_written, cw);
    if (err == SM_OK)
        cr->writes++;
    else
        free(cw);
    return err;
}

void ctl_topics_handle_create(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    const Samsa__CreateTopicsRequest *ctr = req->create_topics_request;
    ctl_create_t *cr = calloc(1, sizeof(*cr));
    bool validate_only = ctr->has_validate_only && ctr->validate_only;

    if (cr == NULL || (cr->items = calloc(ctr->n_topics + 1, sizeof(*cr->items))) == NULL) {
        free(cr);
        sm_rpc_call_reply_error(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        return;
    }
    cr->c = c;
    cr->call = call;
    cr->writes = 1; /* held while the loop starts writes */
    if (ctr->has_timeout_ms && ctr->timeout_ms > 0 && !validate_only)
        cr->deadline_ms = ctl_now_ms() + ctr->timeout_ms;
    for (; cr->n < ctr->n_topics; cr->n++) {
        const Samsa__CreatableTopic *ct = ctr->topics[cr->n];
        ctl_create_item_t *it = &cr->items[cr->n];

        it->name = strdup(ct->name != NULL ? ct->name : "");
        if (it->name == NULL) {
            ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
            continue;
        }
        if (!ctl_topics_prepare(c, cr, cr->n, ct) || validate_only)
            continue;
        if (ctl_topics_write(cr, cr->n) != SM_OK)
            ctl_create_set(it, CTL_KERR_UNKNOWN_SERVER_ERROR, "cannot write the topic");
    }
    if (--cr->writes == 0)
        ctl_topics_finish(cr);
}

/* ---- DescribeTopics ---------------------------------------------------------------------------
 */

static int ctl_topics_cmp_name(const void *a, const void *b)
{
    return strcmp((*(const ctl_topic_t *const *)a)->name, (*(const ctl_topic_t *const *)b)->name);
}

/* The partitions of t as DescribedPartitions (arrays in *mem, freed by the caller). */
static Samsa__DescribedPartition **ctl_topics_describe_parts(const ctl_ctx_t *c,
                                                             const ctl_topic_t *t, void **mem)
{
    size_t n = t->n_parts, off_total = 0;
    Samsa__DescribedPartition *dp;
    Samsa__DescribedPartition **pp;
    int32_t *offline;
    char *block;

    for (size_t i = 0; i < n; i++)
        off_total += t->parts[i].n_replicas;
    block = calloc(1, n * (sizeof(*dp) + sizeof(*pp)) + (off_total + 1) * sizeof(*offline));
    *mem = block;
    if (block == NULL)
        return NULL;
    dp = (Samsa__DescribedPartition *)block;
    pp = (Samsa__DescribedPartition **)(dp + n);
    offline = (int32_t *)(pp + n);
    for (size_t i = 0; i < n; i++) {
        const ctl_partition_t *p = &t->parts[i];

        samsa__described_partition__init(&dp[i]);
        dp[i].has_partition = 1;
        dp[i].partition = p->index;
        dp[i].has_leader = 1;
        dp[i].leader = p->has_state ? p->leader : -1;
        dp[i].has_leader_epoch = 1;
        dp[i].leader_epoch = p->leader_epoch;
        dp[i].n_replicas = p->n_replicas;
        dp[i].replicas = p->replicas;
        dp[i].n_isr = p->n_isr;
        dp[i].isr = p->isr;
        dp[i].n_adding_replicas = p->n_adding;
        dp[i].adding_replicas = p->adding;
        dp[i].n_removing_replicas = p->n_removing;
        dp[i].removing_replicas = p->removing;
        dp[i].offline_replicas = offline;
        for (size_t r = 0; r < p->n_replicas; r++) {
            if (!ctl_model_broker_live(c->model, p->replicas[r]))
                offline[dp[i].n_offline_replicas++] = p->replicas[r];
        }
        offline += dp[i].n_offline_replicas;
        if (p->recovery != 0) {
            dp[i].has_leader_recovery_state = 1;
            dp[i].leader_recovery_state = SAMSA__LEADER_RECOVERY_STATE__RECOVERING;
        }
        pp[i] = &dp[i];
    }
    return pp;
}

static void ctl_topics_describe_one(const ctl_ctx_t *c, const ctl_topic_t *t, bool configs,
                                    Samsa__DescribedTopic *dt, Samsa__ConfigEntry **cfg_mem,
                                    void **mem)
{
    const char *const *keys, *const *values;
    size_t n_cfg = configs ? ctl_model_config_list(c->model, t->name, &keys, &values) : 0;

    dt->name = t->name;
    dt->has_error_code = 1;
    dt->has_topic_id = 1;
    dt->topic_id.len = 16;
    dt->topic_id.data = (uint8_t *)t->id.b;
    dt->partitions = ctl_topics_describe_parts(c, t, mem);
    dt->n_partitions = dt->partitions != NULL ? t->n_parts : 0;
    dt->has_marked_for_deletion = 1;
    dt->marked_for_deletion = ctl_model_deletion_has(c->model, t->name);
    *cfg_mem = n_cfg > 0 ? calloc(n_cfg, sizeof(**cfg_mem) + sizeof(Samsa__ConfigEntry *)) : NULL;
    if (*cfg_mem == NULL)
        return;
    dt->configs = (Samsa__ConfigEntry **)(*cfg_mem + n_cfg);
    for (size_t k = 0; k < n_cfg; k++) {
        samsa__config_entry__init(&(*cfg_mem)[k]);
        (*cfg_mem)[k].name = (char *)keys[k];
        (*cfg_mem)[k].value = (char *)values[k];
        dt->configs[k] = &(*cfg_mem)[k];
    }
    dt->n_configs = n_cfg;
}

/* The topics to describe: the named ones (NULL where unknown) or all, sorted. */
static const ctl_topic_t **ctl_topics_pick(const ctl_ctx_t *c,
                                           const Samsa__DescribeTopicsRequest *r, size_t *n)
{
    size_t pos = 0, k = 0;
    const ctl_topic_t **list;
    ctl_topic_t *t;

    *n = r->n_topic_names > 0 ? r->n_topic_names : ctl_model_topic_count(c->model);
    list = calloc(*n + 1, sizeof(*list));
    if (list == NULL)
        return NULL;
    if (r->n_topic_names > 0) {
        for (size_t i = 0; i < r->n_topic_names; i++)
            list[i] = ctl_model_topic(c->model, r->topic_names[i] ? r->topic_names[i] : "");
        return list;
    }
    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL && k < *n)
        list[k++] = t;
    *n = k;
    qsort(list, k, sizeof(*list), ctl_topics_cmp_name);
    return list;
}

void ctl_topics_handle_describe(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    const Samsa__DescribeTopicsRequest *r = req->describe_topics_request;
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__DescribeTopicsResponse resp = SAMSA__DESCRIBE_TOPICS_RESPONSE__INIT;
    bool configs = r->has_include_configs && r->include_configs;
    size_t n = 0;
    const ctl_topic_t **list = ctl_topics_pick(c, r, &n);
    Samsa__DescribedTopic *dt = calloc(n + 1, sizeof(*dt));
    Samsa__DescribedTopic **dp = calloc(n + 1, sizeof(*dp));
    Samsa__ConfigEntry **cfg_mem = calloc(n + 1, sizeof(*cfg_mem));
    void **mem = calloc(n + 1, sizeof(*mem));

    if (list == NULL || dt == NULL || dp == NULL || cfg_mem == NULL || mem == NULL) {
        sm_rpc_call_reply_error(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        n = 0;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        samsa__described_topic__init(&dt[i]);
        if (list[i] != NULL) {
            ctl_topics_describe_one(c, list[i], configs, &dt[i], &cfg_mem[i], &mem[i]);
        } else {
            dt[i].name = r->topic_names[i];
            dt[i].has_error_code = 1;
            dt[i].error_code = CTL_KERR_UNKNOWN_TOPIC;
            dt[i].error_message = "unknown topic";
        }
        dp[i] = &dt[i];
    }
    resp.has_error_code = 1;
    resp.n_topics = n;
    resp.topics = dp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_RESPONSE;
    env.describe_topics_response = &resp;
    sm_rpc_call_reply(call, &env);
out:
    for (size_t i = 0; i < n; i++) {
        free(cfg_mem[i]);
        free(mem[i]);
    }
    free(list);
    free(dt);
    free(dp);
    free(cfg_mem);
    free(mem);
}
