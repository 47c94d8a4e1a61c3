/*
 * ctl_isr: AlterIsrRequest (KIP-497): a partition leader proposes a new ISR (a follower
 * caught up, or one fell behind) and the controller, the only writer of partition state,
 * checks and writes it. A proposal is refused when the sender's broker epoch is stale
 * (STALE_BROKER_EPOCH, 77, for the whole request), or per partition when the sender is not the
 * leader (NOT_LEADER_OR_FOLLOWER, 6), its leader epoch is not the current one
 * (FENCED_LEADER_EPOCH, 74, when older; NOT_CONTROLLER, 41, when it or the partition epoch is
 * newer than this controller knows), its partition epoch (the state znode version) is older
 * or a controller write is in flight (INVALID_UPDATE_VERSION, 95), the ISR is not a
 * non-empty set of replicas containing the leader (INVALID_REQUEST, 42), or one of its members
 * is not a live broker (INELIGIBLE_REPLICA, 107). An accepted change keeps the leader and
 * its epoch, is written under the epoch check, and the answer carries the state now in
 * ZooKeeper (with the new partition epoch); every broker gets UpdateMetadata, and -- as in
 * Kafka -- no LeaderAndIsr (ctl_active_written_isr). A proposal equal to the current ISR is
 * answered with the current state whatever its partition epoch (a retry after a lost answer);
 * any other proposal from an older partition epoch gets INVALID_UPDATE_VERSION and a
 * LeaderAndIsr with the current state, so the leader cannot stay stuck on a stale epoch.
 */
#include "controller/ctl_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "controller/ctl_elect.h"

typedef struct ctl_isr_item {
    size_t topic; /* index into the request's topics */
    int32_t partition;
    int32_t code;
    const char *msg; /* static text */
    int32_t leader, leader_epoch, partition_epoch;
    int32_t *isr;
    size_t n_isr;
} ctl_isr_item_t;

typedef struct ctl_isr_req {
    ctl_ctx_t *c;
    sm_rpc_call_t *call;
    const Samsa__AlterIsrRequest *r; /* owned by the call until it is answered */
    ctl_isr_item_t *items;
    size_t n;
    size_t writes;
} ctl_isr_req_t;

typedef struct ctl_isr_write {
    ctl_isr_req_t *q;
    size_t index;
} ctl_isr_write_t;

static void ctl_isr_free(ctl_isr_req_t *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->items[i].isr);
    free(q->items);
    free(q);
}

static void ctl_isr_reply_status(sm_rpc_call_t *call, int32_t code, const char *msg)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterIsrResponse resp = SAMSA__ALTER_ISR_RESPONSE__INIT;

    resp.has_error_code = 1;
    resp.error_code = code;
    resp.error_message = (char *)msg;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE;
    env.alter_isr_response = &resp;
    sm_rpc_call_reply(call, &env);
}

static void ctl_isr_fill(Samsa__AlterIsrPartitionResult *pr, const ctl_isr_item_t *it)
{
    samsa__alter_isr_partition_result__init(pr);
    pr->has_partition = 1;
    pr->partition = it->partition;
    pr->has_error_code = 1;
    pr->error_code = it->code;
    pr->error_message = (char *)it->msg;
    if (it->code != 0)
        return;
    pr->has_leader = pr->has_leader_epoch = pr->has_partition_epoch = 1;
    pr->leader = it->leader;
    pr->leader_epoch = it->leader_epoch;
    pr->partition_epoch = it->partition_epoch;
    pr->n_isr = it->n_isr;
    pr->isr = it->isr;
}

/* Answers with every item, grouped by the request's topics, and frees the request. */
static void ctl_isr_answer(ctl_isr_req_t *q)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterIsrResponse resp = SAMSA__ALTER_ISR_RESPONSE__INIT;
    size_t nt = q->r->n_topics;
    Samsa__AlterIsrTopicResult *tr = calloc(nt + 1, sizeof(*tr));
    Samsa__AlterIsrTopicResult **tp = calloc(nt + 1, sizeof(*tp));
    Samsa__AlterIsrPartitionResult *pr = calloc(q->n + 1, sizeof(*pr));
    Samsa__AlterIsrPartitionResult **pp = calloc(q->n + 1, sizeof(*pp));

    if (tr == NULL || tp == NULL || pr == NULL || pp == NULL) {
        ctl_isr_reply_status(q->call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    for (size_t t = 0, k = 0; t < nt; t++) {
        samsa__alter_isr_topic_result__init(&tr[t]);
        tr[t].topic = q->r->topics[t]->topic;
        tr[t].partitions = pp + k;
        for (size_t i = 0; i < q->n; i++) {
            if (q->items[i].topic != t)
                continue;
            ctl_isr_fill(&pr[k], &q->items[i]);
            pp[k] = &pr[k];
            k++;
            tr[t].n_partitions++;
        }
        tp[t] = &tr[t];
    }
    resp.has_error_code = 1;
    resp.n_topics = nt;
    resp.topics = tp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE;
    env.alter_isr_response = &resp;
    sm_rpc_call_reply(q->call, &env);
out:
    free(tr);
    free(tp);
    free(pr);
    free(pp);
    ctl_isr_free(q);
}

static void ctl_isr_set_state(ctl_isr_item_t *it, const ctl_partition_t *p)
{
    it->leader = p->leader;
    it->leader_epoch = p->leader_epoch;
    it->partition_epoch = p->zk_version;
    it->isr = malloc((p->n_isr + 1) * sizeof(*it->isr));
    if (it->isr == NULL) {
        it->code = CTL_KERR_UNKNOWN_SERVER_ERROR;
        it->msg = "out of memory";
        return;
    }
    for (size_t i = 0; i < p->n_isr; i++)
        it->isr[i] = p->isr[i];
    it->n_isr = p->n_isr;
}

static void ctl_isr_on_written(void *arg, const char *topic, int32_t partition, sm_err_t err,
                               const ctl_pstate_t *written)
{
    ctl_isr_write_t *w = arg;
    ctl_isr_req_t *q = w->q;
    ctl_isr_item_t *it = &q->items[w->index];
    ctl_partition_t *p = ctl_active_written_isr(q->c, topic, partition, err, written);

    free(w);
    if (p != NULL) {
        ctl_isr_set_state(it, p);
    } else if (err == SM_ERR_VERSION) {
        it->code = CTL_KERR_INVALID_UPDATE_VERSION;
        it->msg = "the partition changed meanwhile";
    } else if (err == SM_OK || err == SM_ERR_FENCED || err == SM_ERR_STATE) {
        it->code = CTL_KERR_NOT_CONTROLLER;
        it->msg = "not the active controller any more";
    } else {
        it->code = err == SM_ERR_AGAIN ? CTL_KERR_REQUEST_TIMED_OUT : CTL_KERR_UNKNOWN_SERVER_ERROR;
        it->msg = "cannot write the partition state";
    }
    if (--q->writes == 0)
        ctl_isr_answer(q);
}

static bool ctl_isr_live(void *arg, int32_t id)
{
    return ctl_model_broker_live(arg, id);
}

/* Checks the ISR proposal ap for p (ctl_elect_check_isr): INVALID_REQUEST when it is not a set
 * of replicas containing the leader, INELIGIBLE_REPLICA when a member is not a live broker (as
 * KafkaController.tryProcessAlterPartition answers). Returns the code and sets *msg. */
static int32_t ctl_isr_check(const ctl_ctx_t *c, const ctl_partition_t *p,
                             const Samsa__AlterIsrPartition *ap, const char **msg)
{
    switch (ctl_elect_check_isr(p->replicas, p->n_replicas, p->leader, ap->new_isr, ap->n_new_isr,
                                ctl_isr_live, c->model)) {
    case CTL_ELECT_ISR_OK:
        *msg = NULL;
        return CTL_KERR_NONE;
    case CTL_ELECT_ISR_INELIGIBLE:
        *msg = "a member of the new ISR is not a live broker";
        return CTL_KERR_INELIGIBLE_REPLICA;
    default:
        *msg = "the new ISR is not a set of replicas containing the leader";
        return CTL_KERR_INVALID_REQUEST;
    }
}

/* Starts the write of proposal ap (checked) for p. */
static void ctl_isr_write(ctl_isr_req_t *q, ctl_partition_t *p, const char *topic,
                          const Samsa__AlterIsrPartition *ap, ctl_isr_item_t *it)
{
    ctl_ctx_t *c = q->c;
    ctl_isr_write_t *w = malloc(sizeof(*w));
    ctl_pstate_t st = {.leader = p->leader,
                       .leader_epoch = p->leader_epoch,
                       .controller_epoch = c->epoch,
                       .recovery = p->recovery,
                       .isr = ap->new_isr,
                       .n_isr = ap->n_new_isr};

    if (w == NULL) {
        it->code = CTL_KERR_UNKNOWN_SERVER_ERROR, it->msg = "out of memory";
        return;
    }
    *w = (ctl_isr_write_t){q, (size_t)(it - q->items)};
    if (ctl_zkw_state(c->zkw, topic, p->index, &st, p->zk_version, ctl_isr_on_written, w) !=
        SM_OK) {
        free(w);
        it->code = CTL_KERR_UNKNOWN_SERVER_ERROR, it->msg = "cannot write the state";
        return;
    }
    p->flags |= CTL_PF_BUSY;
    q->writes++;
}

/* Checks one proposal; starts its write when it changes something. The order of the checks
 * is KafkaController.tryProcessAlterPartition's. */
static void ctl_isr_one(ctl_isr_req_t *q, int32_t sender, const char *topic,
                        const Samsa__AlterIsrPartition *ap, ctl_isr_item_t *it)
{
    ctl_ctx_t *c = q->c;
    ctl_partition_t *p = ctl_model_partition(c->model, topic, ap->partition);

    it->partition = ap->partition;
    if (p == NULL || !p->has_state || ctl_model_deletion_has(c->model, topic)) {
        it->code = CTL_KERR_UNKNOWN_TOPIC, it->msg = "unknown partition";
    } else if (p->leader != sender) {
        it->code = CTL_KERR_NOT_LEADER, it->msg = "the sender does not lead this partition";
    } else if (ap->leader_epoch < p->leader_epoch) {
        it->code = CTL_KERR_FENCED_LEADER_EPOCH, it->msg = "stale leader epoch";
    } else if (ap->leader_epoch > p->leader_epoch || ap->partition_epoch > p->zk_version) {
        /* Epochs this controller has not seen: a newer controller wrote them. */
        it->code = CTL_KERR_NOT_CONTROLLER, it->msg = "the controller's view is behind";
    } else if ((p->flags & CTL_PF_BUSY) != 0) {
        it->code = CTL_KERR_INVALID_UPDATE_VERSION, it->msg = "a controller write is in flight";
    } else if (p->n_isr == ap->n_new_isr &&
               memcmp(p->isr, ap->new_isr, ap->n_new_isr * sizeof(*ap->new_isr)) == 0) {
        /* Already applied (a retry after a lost answer): the current state, whatever the
         * partition epoch the leader had. */
        ctl_isr_set_state(it, p);
    } else if (ap->partition_epoch != p->zk_version) {
        it->code = CTL_KERR_INVALID_UPDATE_VERSION, it->msg = "stale partition epoch";
        /* The leader missed a change (an answer lost after the write): without a LeaderAndIsr
         * it would propose from the stale epoch forever (Kafka's stuck ISR, section 10). */
        if (ctl_batch_leader_and_isr(c->batch, sender, topic, p->index, false) == SM_OK)
            ctl_active_schedule_flush(c);
    } else if ((it->code = ctl_isr_check(c, p, ap, &it->msg)) == CTL_KERR_NONE) {
        ctl_isr_write(q, p, topic, ap, it);
    }
}

static size_t ctl_isr_count(const Samsa__AlterIsrRequest *r)
{
    size_t n = 0;

    for (size_t t = 0; t < r->n_topics; t++)
        n += r->topics[t]->n_partitions;
    return n;
}

void ctl_isr_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    const Samsa__AlterIsrRequest *r = req->alter_isr_request;
    int32_t sender = r->has_broker_id ? r->broker_id : req->sender_id;
    const ctl_broker_t *b = ctl_model_broker(c->model, sender);
    ctl_isr_req_t *q;

    if (b == NULL || req->broker_epoch != b->epoch) {
        ctl_isr_reply_status(call, CTL_KERR_STALE_BROKER_EPOCH,
                             "the sender is not the registered incarnation of its broker");
        return;
    }
    q = calloc(1, sizeof(*q));
    if (q == NULL || (q->items = calloc(ctl_isr_count(r) + 1, sizeof(*q->items))) == NULL) {
        free(q);
        ctl_isr_reply_status(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        return;
    }
    *q = (ctl_isr_req_t){.c = c, .call = call, .r = r, .items = q->items, .writes = 1};
    for (size_t t = 0; t < r->n_topics; t++) {
        for (size_t i = 0; i < r->topics[t]->n_partitions; i++) {
            q->items[q->n].topic = t;
            ctl_isr_one(q, sender, r->topics[t]->topic ? r->topics[t]->topic : "",
                        r->topics[t]->partitions[i], &q->items[q->n]);
            q->n++;
        }
    }
    if (--q->writes == 0)
        ctl_isr_answer(q);
}
