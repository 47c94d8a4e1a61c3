/*
 * ctl_active: what the active controller does (kafka-zk-design.md sections 2, 3 and 7): the
 * failover after winning, broker arrivals and departures, and the per-partition
 * reconciliation that elects leaders and shrinks ISRs through ctl_elect, writes the result
 * under the epoch check (ctl_zkw) and tells the brokers (ctl_batch -> ctl_channel).
 *
 * DESIGN NOTES
 *
 * Reconciliation is level-triggered: whatever happened (a broker left or came back, a state
 * node changed, a topic appeared, a config changed), the controller re-runs
 * ctl_active_reconcile on the partitions concerned, which compares the partition's state
 * with the live brokers and writes only when ctl_elect says something must change. Running
 * it twice is harmless, so events may be coarse.
 *
 * Partition write states (ctl_partition_t.flags)
 *
 *     idle --reconcile decides a change--> BUSY --written--> idle (model updated, brokers told)
 *      ^                                    |  \--event meanwhile--> BUSY|DIRTY --written-->
 *      |                                    |                          reconcile again
 *      |                                    +--version conflict / outcome unknown-->
 *      +--------- mirror drained (IDLE) ------------ RESYNC (re-read requested)
 *
 * Invariants
 *  1. At most one state write per partition is in flight (BUSY), so a write's expected
 *     version is always the one the model holds.
 *  2. The model changes only from ZooKeeper: the mirror's reads, or this controller's own
 *     successful writes (applied in the write's callback).
 *  3. Broker requests of a term carry the term in their tag; answers of another term are
 *     ignored.
 *
 * Failover (after winning, once the mirror has drained; no bulk read: the model is warm)
 *   1. a channel to every live broker, a full UpdateMetadata to each, sent at once
 *   2. LeaderAndIsr for every partition with a state to its live replicas
 *   3. reconcile every partition: elect where the leader is dead, shrink ISRs of dead
 *      replicas, create missing state nodes (a creation the previous controller left)
 *   4. resume topic deletions
 *   The log line "failover complete" gives the time from winning to the last LeaderAndIsr
 *   acknowledged.
 */
#include "controller/ctl_ctx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/ctl_codec.h"
#include "controller/ctl_elect.h"
#include "controller/ctl_paths.h"
#include "sm_log.h"
#include "sm_uuid.h"

static bool ctl_active_live(void *arg, int32_t id)
{
    return ctl_model_broker_live(arg, id);
}

void ctl_active_schedule_flush(ctl_ctx_t *c)
{
    static const struct timeval now = {0, 0};

    if (!evtimer_pending(c->flush_ev, NULL))
        evtimer_add(c->flush_ev, &now);
}

/* ---- failover acknowledgement accounting -------------------------------------------------- */

static uint32_t *ctl_active_fo_slot(ctl_ctx_t *c, int32_t broker, bool create)
{
    for (size_t i = 0; i < c->n_fo; i++) {
        if (c->fo_ids[i] == broker)
            return &c->fo_counts[i];
    }
    if (!create)
        return NULL;
    if (c->n_fo == c->cap_fo) {
        size_t cap = c->cap_fo ? c->cap_fo * 2 : 8;
        int32_t *ids = realloc(c->fo_ids, cap * sizeof(*ids));
        uint32_t *counts;

        if (ids == NULL)
            return NULL;
        c->fo_ids = ids;
        counts = realloc(c->fo_counts, cap * sizeof(*counts));
        if (counts == NULL)
            return NULL;
        c->fo_counts = counts;
        c->cap_fo = cap;
    }
    c->fo_ids[c->n_fo] = broker;
    c->fo_counts[c->n_fo] = 0;
    return &c->fo_counts[c->n_fo++];
}

static void ctl_active_fo_check(ctl_ctx_t *c)
{
    if (!c->failover_timing || c->failover_lai > 0)
        return;
    c->failover_timing = false;
    sm_log_info("failover complete: LeaderAndIsr for %zu partitions acknowledged by every live "
                "broker %lld ms after winning epoch %d",
                c->failover_partitions, (long long)(ctl_now_ms() - c->won_at_ms), (int)c->epoch);
}

/* A broker that left will never answer: stop waiting for its failover requests. */
static void ctl_active_fo_forget(ctl_ctx_t *c, int32_t broker)
{
    uint32_t *slot = ctl_active_fo_slot(c, broker, false);

    if (slot == NULL || !c->failover_timing)
        return;
    c->failover_lai -= *slot;
    *slot = 0;
    ctl_active_fo_check(c);
}

/* ---- channels ------------------------------------------------------------------------------- */

ctl_channel_t *ctl_active_channel(ctl_ctx_t *c, int32_t id)
{
    for (size_t i = 0; i < c->n_channels; i++) {
        if (ctl_channel_broker(c->channels[i]) == id)
            return c->channels[i];
    }
    return NULL;
}

static void ctl_active_close_channel(ctl_ctx_t *c, int32_t id)
{
    for (size_t i = 0; i < c->n_channels; i++) {
        if (ctl_channel_broker(c->channels[i]) == id) {
            ctl_channel_free(c->channels[i]);
            c->channels[i] = c->channels[--c->n_channels];
            return;
        }
    }
}

static void ctl_active_close_channels(ctl_ctx_t *c)
{
    for (size_t i = 0; i < c->n_channels; i++)
        ctl_channel_free(c->channels[i]);
    c->n_channels = 0;
}

static void ctl_active_on_answer(void *arg, int32_t broker, uint64_t tag,
                                 const Samsa__Envelope *resp);

/* (Re)opens the channel to broker b's control endpoint. */
static void ctl_active_open_channel(ctl_ctx_t *c, const ctl_broker_t *b)
{
    ctl_channel_opts_t opts = {.timeout_ms = c->socket_timeout_ms};
    ctl_channel_t *ch = NULL;

    ctl_active_close_channel(c, b->id);
    if (b->control.host == NULL || b->control.port <= 0 || b->control.port > 65535) {
        sm_log_warn("broker %d registered no control endpoint; it cannot be told anything",
                    (int)b->id);
        return;
    }
    if (c->n_channels == c->cap_channels) {
        size_t cap = c->cap_channels ? c->cap_channels * 2 : 8;
        ctl_channel_t **n = realloc(c->channels, cap * sizeof(*n));

        if (n == NULL)
            goto fail;
        c->channels = n;
        c->cap_channels = cap;
    }
    if (ctl_channel_new(c->base, b->id, b->control.host, (uint16_t)b->control.port, &opts,
                        ctl_active_on_answer, c, &ch) != SM_OK)
        goto fail;
    c->channels[c->n_channels++] = ch;
    return;
fail:
    sm_log_error("cannot open a channel to broker %d at %s:%d", (int)b->id, b->control.host,
                 (int)b->control.port);
}

/* ---- sending and answers -------------------------------------------------------------------- */

static const char *ctl_active_type_name(Samsa__RpcType type)
{
    switch (type) {
    case SAMSA__RPC_TYPE__LEADER_AND_ISR:
        return "LeaderAndIsr";
    case SAMSA__RPC_TYPE__UPDATE_METADATA:
        return "UpdateMetadata";
    case SAMSA__RPC_TYPE__STOP_REPLICA:
        return "StopReplica";
    default:
        return "request";
    }
}

static void ctl_active_sink(void *arg, int32_t broker, Samsa__RpcType type, const uint8_t *env,
                            size_t len, size_t n_partitions)
{
    ctl_ctx_t *c = arg;
    ctl_channel_t *ch = ctl_active_channel(c, broker);
    int kind = type == SAMSA__RPC_TYPE__LEADER_AND_ISR    ? CTL_TAG_LAI
               : type == SAMSA__RPC_TYPE__UPDATE_METADATA ? CTL_TAG_UM
                                                          : CTL_TAG_STOP;
    uint64_t tag;
    uint32_t *slot;

    if (ch == NULL)
        return;
    if (c->sink_kind_override != 0 && type == SAMSA__RPC_TYPE__STOP_REPLICA)
        kind = c->sink_kind_override;
    tag = ((uint64_t)c->term << 32) | ((uint64_t)kind << 24) | (c->sink_seq & 0xffffffu);
    if (ctl_channel_send(ch, env, len, tag) != SM_OK) {
        sm_log_error("out of memory queueing a request for broker %d", (int)broker);
        return;
    }
    sm_log_debug("sent %s (%zu partitions) to broker %d", ctl_active_type_name(type), n_partitions,
                 (int)broker);
    if (kind == CTL_TAG_LAI && c->failover_timing &&
        (slot = ctl_active_fo_slot(c, broker, true)) != NULL) {
        (*slot)++;
        c->failover_lai++;
    }
}

void ctl_active_flush(ctl_ctx_t *c, ctl_batch_t *b)
{
    if (ctl_batch_empty(b))
        return;
    ctl_batch_flush(b, c->id, c->epoch, ctl_active_sink, c);
}

/* The error a response reports at top level (0 when none), and its message. */
static int32_t ctl_active_resp_error(const Samsa__Envelope *resp, const char **msg)
{
    *msg = NULL;
    switch (resp->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE:
        *msg = resp->error_response->error_message;
        return resp->error_response->error_code;
    case SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE:
        *msg = resp->leader_and_isr_response->error_message;
        return resp->leader_and_isr_response->error_code;
    case SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE:
        *msg = resp->update_metadata_response->error_message;
        return resp->update_metadata_response->error_code;
    case SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE:
        *msg = resp->stop_replica_response->error_message;
        return resp->stop_replica_response->error_code;
    default:
        return 0;
    }
}

static void ctl_active_on_answer(void *arg, int32_t broker, uint64_t tag,
                                 const Samsa__Envelope *resp)
{
    ctl_ctx_t *c = arg;
    uint32_t term = (uint32_t)(tag >> 32), seq = (uint32_t)(tag & 0xffffffu);
    int kind = (int)((tag >> 24) & 0xffu);
    const char *msg;
    int32_t code = ctl_active_resp_error(resp, &msg);
    uint32_t *slot;

    if (!c->active || term != c->term)
        return;
    if (code != 0)
        sm_log_warn("broker %d answered %s with error %d%s%s", (int)broker,
                    sm_rpc_payload_name(resp), (int)code, msg ? ": " : "", msg ? msg : "");
    if (kind == CTL_TAG_LAI && c->failover_timing &&
        (slot = ctl_active_fo_slot(c, broker, false)) != NULL && *slot > 0) {
        (*slot)--;
        c->failover_lai--;
        ctl_active_fo_check(c);
    }
    if (kind == CTL_TAG_STOP_DELETE)
        ctl_delete_on_stop_answer(c, broker, seq);
}

/* ---- reconciliation ------------------------------------------------------------------------- */

/* Queues LeaderAndIsr to p's live replicas (unless !lai) and UpdateMetadata to every broker. */
static void ctl_active_tell(ctl_ctx_t *c, const ctl_topic_t *t, const ctl_partition_t *p,
                            bool is_new, bool lai)
{
    for (size_t i = 0; lai && i < p->n_replicas; i++) {
        if (ctl_model_broker_live(c->model, p->replicas[i]) &&
            ctl_batch_leader_and_isr(c->batch, p->replicas[i], t->name, p->index, is_new) != SM_OK)
            sm_log_error("out of memory queueing LeaderAndIsr for %s-%d", t->name, (int)p->index);
    }
    if (ctl_batch_update_metadata(c->batch, t->name, p->index) != SM_OK)
        sm_log_error("out of memory queueing UpdateMetadata for %s-%d", t->name, (int)p->index);
    ctl_active_schedule_flush(c);
}

static void ctl_active_mark_resync(ctl_ctx_t *c, ctl_partition_t *p, const char *topic)
{
    if ((p->flags & CTL_PF_RESYNC) == 0) {
        p->flags |= CTL_PF_RESYNC;
        c->n_resync++;
    }
    ctl_mirror_refresh_state(c->mirror, topic, p->index);
}

static void ctl_active_log_write(const char *topic, const ctl_partition_t *p, bool had_state,
                                 int32_t old_leader, const ctl_pstate_t *st)
{
    char isr[128] = "";
    size_t off = 0;

    for (size_t i = 0; i < st->n_isr && off < sizeof(isr) - 12; i++)
        off +=
            (size_t)snprintf(isr + off, sizeof(isr) - off, "%s%d", i ? "," : "", (int)st->isr[i]);
    if (!had_state || old_leader != st->leader) {
        if (st->leader >= 0)
            sm_log_info("elected leader %d for %s-%d epoch %d (isr [%s])", (int)st->leader, topic,
                        (int)p->index, (int)st->leader_epoch, isr);
        else
            sm_log_warn("no leader for %s-%d epoch %d: no live in-sync replica (isr [%s])", topic,
                        (int)p->index, (int)st->leader_epoch, isr);
    } else {
        sm_log_info("isr of %s-%d is now [%s] (leader %d epoch %d)", topic, (int)p->index, isr,
                    (int)st->leader, (int)st->leader_epoch);
    }
}

static ctl_partition_t *ctl_active_written_as(ctl_ctx_t *c, const char *topic, int32_t partition,
                                              sm_err_t err, const ctl_pstate_t *written, bool lai)
{
    ctl_topic_t *t = ctl_model_topic(c->model, topic);
    ctl_partition_t *p = ctl_model_partition(c->model, topic, partition);
    bool had_state;
    int32_t old_leader;

    if (err == SM_ERR_STATE || t == NULL || p == NULL)
        return NULL; /* an old term, or the topic is gone */
    p->flags &= ~CTL_PF_BUSY;
    had_state = p->has_state;
    old_leader = p->leader;
    if (err == SM_OK && ctl_model_state_set(p, written) == SM_OK) {
        ctl_active_log_write(topic, p, had_state, old_leader, written);
        ctl_active_tell(c, t, p, !had_state, lai || !had_state || old_leader != p->leader);
    } else if (err != SM_ERR_FENCED) {
        sm_log_info("state of %s-%d not written (%s); re-reading it", topic, (int)partition,
                    sm_err_str(err));
        ctl_active_mark_resync(c, p, topic);
    }
    if ((p->flags & CTL_PF_DIRTY) != 0 && (p->flags & CTL_PF_RESYNC) == 0) {
        p->flags &= ~CTL_PF_DIRTY;
        ctl_active_reconcile(c, t, p);
    }
    return err == SM_OK ? p : NULL;
}

ctl_partition_t *ctl_active_written(ctl_ctx_t *c, const char *topic, int32_t partition,
                                    sm_err_t err, const ctl_pstate_t *written)
{
    return ctl_active_written_as(c, topic, partition, err, written, true);
}

ctl_partition_t *ctl_active_written_isr(ctl_ctx_t *c, const char *topic, int32_t partition,
                                        sm_err_t err, const ctl_pstate_t *written)
{
    return ctl_active_written_as(c, topic, partition, err, written, false);
}

static void ctl_active_on_written(void *arg, const char *topic, int32_t partition, sm_err_t err,
                                  const ctl_pstate_t *written)
{
    ctl_active_written(arg, topic, partition, err, written);
}

static bool ctl_active_decide(ctl_ctx_t *c, const ctl_topic_t *t, const ctl_partition_t *p,
                              ctl_elect_state_t *next)
{
    ctl_elect_state_t cur = {.leader = p->leader, .leader_epoch = p->leader_epoch};
    bool unclean = ctl_model_unclean(c->model, t->name, c->unclean_default), took = false;

    if (!p->has_state)
        return ctl_elect_initial(p->replicas, p->n_replicas, ctl_active_live, c->model, next);
    cur.n_isr = p->n_isr < CTL_MAX_REPLICAS ? p->n_isr : CTL_MAX_REPLICAS;
    if (cur.n_isr > 0)
        memcpy(cur.isr, p->isr, cur.n_isr * sizeof(*cur.isr));
    if (!ctl_elect_reconcile(&cur, p->replicas, p->n_replicas, unclean, ctl_active_live, c->model,
                             next, &took))
        return false;
    if (took)
        sm_log_warn("unclean election for %s-%d: broker %d was not in sync; data may be lost",
                    t->name, (int)p->index, (int)next->leader);
    return true;
}

void ctl_active_reconcile(ctl_ctx_t *c, ctl_topic_t *t, ctl_partition_t *p)
{
    ctl_elect_state_t next;
    ctl_pstate_t st;
    sm_err_t err;

    if (!c->active || c->failover_pending || (p->flags & CTL_PF_RESYNC) != 0 ||
        ctl_model_deletion_has(c->model, t->name))
        return;
    if ((p->flags & CTL_PF_BUSY) != 0) {
        p->flags |= CTL_PF_DIRTY;
        return;
    }
    if (!ctl_active_decide(c, t, p, &next))
        return;
    st = (ctl_pstate_t){.leader = next.leader,
                        .leader_epoch = next.leader_epoch,
                        .controller_epoch = c->epoch,
                        .isr = next.isr,
                        .n_isr = next.n_isr};
    err = ctl_zkw_state(c->zkw, t->name, p->index, &st,
                        p->has_state ? p->zk_version : CTL_ZKW_CREATE, ctl_active_on_written, c);
    if (err == SM_OK)
        p->flags |= CTL_PF_BUSY;
    else
        sm_log_error("cannot write the state of %s-%d: %s", t->name, (int)p->index,
                     sm_err_str(err));
}

static void ctl_active_reconcile_topic(ctl_ctx_t *c, ctl_topic_t *t)
{
    for (size_t i = 0; i < t->n_parts; i++)
        ctl_active_reconcile(c, t, &t->parts[i]);
}

static void ctl_active_reconcile_all(ctl_ctx_t *c)
{
    size_t pos = 0;
    ctl_topic_t *t;

    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL)
        ctl_active_reconcile_topic(c, t);
}

/* The mirror drained after some writes' outcomes were unknown: reconcile those now. */
static void ctl_active_resync(ctl_ctx_t *c)
{
    size_t pos = 0;
    ctl_topic_t *t;

    if (c->n_resync == 0)
        return;
    c->n_resync = 0;
    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL) {
        for (size_t i = 0; i < t->n_parts; i++) {
            ctl_partition_t *p = &t->parts[i];

            if ((p->flags & CTL_PF_RESYNC) == 0)
                continue;
            p->flags &= ~(CTL_PF_RESYNC | CTL_PF_DIRTY);
            ctl_active_reconcile(c, t, p);
        }
    }
}

/* ---- brokers ----------------------------------------------------------------------------------
 */

static bool ctl_active_involves(const ctl_partition_t *p, int32_t broker)
{
    return p->leader == broker || ctl_elect_contains(p->replicas, p->n_replicas, broker) ||
           ctl_elect_contains(p->isr, p->n_isr, broker);
}

/* A new broker or a new incarnation: full metadata first, then its replicas' states. */
static void ctl_active_broker_up(ctl_ctx_t *c, int32_t id)
{
    const ctl_broker_t *b = ctl_model_broker(c->model, id);
    size_t pos = 0;
    ctl_topic_t *t;

    if (b == NULL)
        return;
    sm_log_info("broker %d registered (broker epoch %" PRId64 ")", (int)id, b->epoch);
    ctl_active_open_channel(c, b);
    ctl_batch_update_brokers(c->batch);
    if (ctl_batch_update_metadata_full(c->batch, id) != SM_OK)
        sm_log_error("out of memory queueing UpdateMetadata for broker %d", (int)id);
    ctl_active_flush(c, c->batch);
    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL) {
        if (ctl_model_deletion_has(c->model, t->name))
            continue;
        for (size_t i = 0; i < t->n_parts; i++) {
            ctl_partition_t *p = &t->parts[i];

            if (!ctl_elect_contains(p->replicas, p->n_replicas, id))
                continue;
            if (p->has_state)
                ctl_batch_leader_and_isr(c->batch, id, t->name, p->index, false);
            ctl_active_reconcile(c, t, p);
        }
    }
    ctl_delete_on_broker_up(c, id);
    ctl_active_schedule_flush(c);
}

static void ctl_active_broker_down(ctl_ctx_t *c, int32_t id, int64_t epoch)
{
    size_t pos = 0;
    ctl_topic_t *t;

    sm_log_info("broker %d left (broker epoch %" PRId64 ")", (int)id, epoch);
    ctl_active_close_channel(c, id);
    ctl_active_fo_forget(c, id);
    ctl_batch_update_brokers(c->batch);
    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL) {
        for (size_t i = 0; i < t->n_parts; i++) {
            if (ctl_active_involves(&t->parts[i], id))
                ctl_active_reconcile(c, t, &t->parts[i]);
        }
    }
    ctl_delete_on_broker_down(c, id);
    ctl_active_schedule_flush(c);
}

static void ctl_active_broker_updated(ctl_ctx_t *c, int32_t id)
{
    const ctl_broker_t *b = ctl_model_broker(c->model, id);

    if (b == NULL)
        return;
    sm_log_info("broker %d changed its registration", (int)id);
    ctl_active_open_channel(c, b);
    ctl_batch_update_brokers(c->batch);
    ctl_active_schedule_flush(c);
}

/* ---- failover ---------------------------------------------------------------------------------
 */

static void ctl_active_failover(ctl_ctx_t *c)
{
    const ctl_broker_t *brokers;
    size_t n_brokers, pos = 0, n_lai = 0;
    const char *name;
    ctl_topic_t *t;
    int64_t t0 = ctl_now_ms();

    brokers = ctl_model_brokers(c->model, &n_brokers);
    for (size_t i = 0; i < n_brokers; i++) {
        ctl_active_open_channel(c, &brokers[i]);
        ctl_batch_update_metadata_full(c->batch, brokers[i].id);
    }
    ctl_active_flush(c, c->batch);
    while ((t = ctl_model_topic_next(c->model, &pos)) != NULL) {
        bool deleting = ctl_model_deletion_has(c->model, t->name);

        for (size_t i = 0; i < t->n_parts; i++) {
            ctl_partition_t *p = &t->parts[i];

            p->flags = 0;
            if (deleting || !p->has_state)
                continue;
            for (size_t r = 0; r < p->n_replicas; r++) {
                if (ctl_model_broker_live(c->model, p->replicas[r]))
                    ctl_batch_leader_and_isr(c->batch, p->replicas[r], t->name, p->index, false);
            }
            n_lai++;
        }
    }
    c->failover_partitions = n_lai;
    c->failover_lai = 0;
    c->n_fo = 0;
    c->failover_timing = true;
    ctl_active_flush(c, c->batch);
    ctl_active_reconcile_all(c);
    pos = 0;
    while ((name = ctl_model_deletion_next(c->model, &pos)) != NULL)
        ctl_delete_start(c, name);
    sm_log_info("failover: %zu brokers, %zu topics, %zu partitions from the warm model; "
                "requests queued in %lld ms (%lld ms after winning)",
                n_brokers, ctl_model_topic_count(c->model), ctl_model_partition_count(c->model),
                (long long)(ctl_now_ms() - t0), (long long)(ctl_now_ms() - c->won_at_ms));
    ctl_active_fo_check(c);
}

static void ctl_active_maybe_failover(ctl_ctx_t *c)
{
    if (!c->active || !c->failover_pending || !ctl_mirror_synced(c->mirror) ||
        ctl_mirror_pending(c->mirror) > 0)
        return;
    c->failover_pending = false;
    ctl_active_failover(c);
}

/* ---- cluster id -------------------------------------------------------------------------------
 */

static void ctl_active_on_cluster_id_read(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_ctx_t *c = arg;

    (void)zk;
    if (res->err == SM_OK)
        ctl_codec_cluster_id_decode(res->data, res->len, c->cluster_id, sizeof(c->cluster_id));
}

static void ctl_active_on_cluster_id(void *arg, sm_err_t err, const sm_zk_result_t *res)
{
    ctl_ctx_t *c = arg;
    (void)res;

    if (err == SM_OK) {
        sm_log_info("created cluster id %s", c->cluster_id);
        return;
    }
    c->cluster_id[0] = '\0';
    if (err == SM_ERR_EXISTS && c->zk != NULL)
        sm_zk_get(c->zk, CTL_PATH_CLUSTER_ID, NULL, NULL, ctl_active_on_cluster_id_read, c);
}

/* The first active controller creates /cluster/id; later ones read it. */
static void ctl_active_cluster_id(ctl_ctx_t *c)
{
    sm_uuid_t id;
    uint8_t *data = NULL;
    size_t len = 0;
    sm_zk_op_t op;

    if (c->cluster_id[0] != '\0')
        return;
    if (sm_uuid_random(&id) != SM_OK) {
        sm_log_error("no randomness for a cluster id");
        return;
    }
    sm_uuid_format(&id, c->cluster_id);
    if (ctl_codec_cluster_id_encode(c->cluster_id, &data, &len) != SM_OK)
        goto out;
    op = (sm_zk_op_t){
        .type = SM_ZK_OP_CREATE, .path = CTL_PATH_CLUSTER_ID, .data = data, .len = len};
    if (ctl_zkw_multi(c->zkw, &op, 1, ctl_active_on_cluster_id, c) != SM_OK)
        c->cluster_id[0] = '\0';
out:
    free(data);
}

/* ---- term -------------------------------------------------------------------------------------
 */

void ctl_active_begin(ctl_ctx_t *c, int32_t epoch, int32_t epoch_version)
{
    sm_log_info("became active controller epoch %d", (int)epoch);
    c->active = true;
    c->epoch = epoch;
    c->term++;
    c->won_at_ms = ctl_now_ms();
    c->failover_pending = true;
    c->n_resync = 0;
    ctl_zkw_arm(c->zkw, epoch_version);
    ctl_active_cluster_id(c);
    if (!ctl_mirror_synced(c->mirror) || ctl_mirror_pending(c->mirror) > 0)
        sm_log_info("waiting for %zu ZooKeeper reads before taking over",
                    ctl_mirror_pending(c->mirror));
    ctl_active_maybe_failover(c);
}

void ctl_active_end(ctl_ctx_t *c, const char *reason)
{
    if (!c->active)
        return;
    sm_log_warn("resigned: %s (epoch %d)", reason, (int)c->epoch);
    c->active = false;
    c->failover_pending = false;
    c->failover_timing = false;
    c->term++;
    c->n_resync = 0;
    ctl_zkw_disarm(c->zkw);
    ctl_active_close_channels(c);
    ctl_batch_clear(c->batch);
    ctl_batch_clear(c->del_batch);
    ctl_delete_reset(c);
}

void ctl_active_on_mirror(ctl_ctx_t *c, const ctl_mirror_event_t *ev)
{
    ctl_topic_t *t = ev->topic != NULL ? ctl_model_topic(c->model, ev->topic) : NULL;
    ctl_partition_t *p;

    if (!c->active)
        return;
    if (ev->kind == CTL_MIRROR_IDLE) {
        ctl_active_maybe_failover(c);
        ctl_active_resync(c);
        return;
    }
    if (c->failover_pending)
        return; /* the failover looks at everything once the mirror drains */
    switch (ev->kind) {
    case CTL_MIRROR_BROKER_UP:
        ctl_active_broker_up(c, ev->broker_id);
        break;
    case CTL_MIRROR_BROKER_DOWN:
        ctl_active_broker_down(c, ev->broker_id, ev->old_epoch);
        break;
    case CTL_MIRROR_BROKER_UPDATED:
        ctl_active_broker_updated(c, ev->broker_id);
        break;
    case CTL_MIRROR_TOPIC_ADDED:
        if (t != NULL)
            sm_log_info("topic %s (%zu partitions) appeared", t->name, t->n_parts);
        /* fall through */
    case CTL_MIRROR_TOPIC_CHANGED:
    case CTL_MIRROR_CONFIG:
        if (t != NULL)
            ctl_active_reconcile_topic(c, t);
        break;
    case CTL_MIRROR_TOPIC_REMOVED:
        ctl_delete_on_topic_removed(c, ev->topic);
        break;
    case CTL_MIRROR_STATE:
        p = ctl_model_partition(c->model, ev->topic, ev->partition);
        if (t != NULL && p != NULL)
            ctl_active_reconcile(c, t, p);
        break;
    case CTL_MIRROR_DELETION_ADDED:
        ctl_delete_start(c, ev->topic);
        break;
    case CTL_MIRROR_DELETION_REMOVED:
        ctl_delete_on_marker_removed(c, ev->topic);
        break;
    default:
        break;
    }
}
