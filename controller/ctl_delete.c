/*
 * ctl_delete: topic deletion (kafka-zk-design.md section 6, with the KIP-516 fix of failure
 * mode 8 in section 10). The DeleteTopics request writes /admin/delete_topics/<t> under the
 * epoch check and is answered (after the deletion finished, if it asked to wait); the marker
 * -- seen by the mirror, or found at failover -- drives the flow, so a controller that dies
 * half-way is succeeded by one that finishes it.
 *
 * DESIGN NOTES
 *
 * A deletion, per topic
 *
 *     marker seen --start--> STOPPING: UpdateMetadata (leader -2) to every live broker,
 *                   |                  StopReplica(delete, epoch -2) to every LIVE replica;
 *                   |                  awaiting = those brokers
 *                   |   answer from b, or b leaves: awaiting -= b
 *                   v
 *                awaiting empty --> TEARDOWN: multi-deletes /brokers/topics/<t> (recursively),
 *                   |                          /config/topics/<t> and the marker, the last three
 *                   |                          in one multi (ctl_zkw_delete_tree)
 *                   v
 *                topic node gone (mirror) --> done: DeleteTopics calls waiting for it answer
 *
 * Invariants
 *  1. Dead brokers are never waited for: a broker that is down (or leaves) is dropped from
 *     awaiting; when it comes back its full UpdateMetadata no longer lists the topic (or lists
 *     it with leader -2), and the broker deletes logs of topics it does not know or whose
 *     topic id differs.
 *  2. A broker that returns while the deletion is still STOPPING gets StopReplica(delete)
 *     too and is awaited.
 *  3. A failed teardown is retried every second by ctl_delete_tick.
 */
#include "controller/ctl_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/ctl_codec.h"
#include "controller/ctl_elect.h"
#include "controller/ctl_paths.h"
#include "sm_log.h"

typedef struct ctl_deletion {
    char *topic;
    uint32_t seq;
    int32_t *awaiting;
    size_t n_awaiting, cap_awaiting;
    bool tearing_down;
    bool failed; /* teardown failed: retried by the tick */
} ctl_deletion_t;

/* A DeleteTopics call: per topic its result, and whether it still waits for completion. */
typedef struct ctl_delete_wait {
    ctl_ctx_t *c;
    sm_rpc_call_t *call;
    size_t n;
    char **names;
    int32_t *codes;
    char **msgs;
    bool *waiting;
    bool wait_done; /* the caller asked to wait for the deletions to finish */
    size_t writes;  /* marker writes in flight */
    bool answered;
    struct event *timer;
    struct ctl_delete_wait *next;
} ctl_delete_wait_t;

typedef struct ctl_delete_write {
    ctl_delete_wait_t *w;
    size_t index;
} ctl_delete_write_t;

typedef struct ctl_delete_teardown {
    ctl_ctx_t *c;
    uint32_t seq;
} ctl_delete_teardown_t;

/* ---- deletions --------------------------------------------------------------------------------
 */

static void ctl_delete_free(ctl_deletion_t *d)
{
    if (d == NULL)
        return;
    free(d->topic);
    free(d->awaiting);
    free(d);
}

static ctl_deletion_t *ctl_delete_by_seq(ctl_ctx_t *c, uint32_t seq)
{
    size_t pos = 0;
    ctl_deletion_t *d;

    while ((d = ctl_strmap_next(c->deletions, &pos, NULL)) != NULL) {
        if (d->seq == seq)
            return d;
    }
    return NULL;
}

static void ctl_delete_await(ctl_deletion_t *d, int32_t broker)
{
    if (ctl_elect_contains(d->awaiting, d->n_awaiting, broker))
        return;
    if (d->n_awaiting == d->cap_awaiting) {
        size_t cap = d->cap_awaiting ? d->cap_awaiting * 2 : 8;
        int32_t *a = realloc(d->awaiting, cap * sizeof(*a));

        if (a == NULL)
            return; /* not waiting for it: the broker cleans up on its next full update */
        d->awaiting = a;
        d->cap_awaiting = cap;
    }
    d->awaiting[d->n_awaiting++] = broker;
}

static bool ctl_delete_unawait(ctl_deletion_t *d, int32_t broker)
{
    for (size_t i = 0; i < d->n_awaiting; i++) {
        if (d->awaiting[i] == broker) {
            d->awaiting[i] = d->awaiting[--d->n_awaiting];
            return true;
        }
    }
    return false;
}

static void ctl_delete_on_teardown(void *arg, sm_err_t err)
{
    ctl_delete_teardown_t *td = arg;
    ctl_ctx_t *c = td->c;
    ctl_deletion_t *d = err == SM_ERR_STATE ? NULL : ctl_delete_by_seq(c, td->seq);

    free(td);
    if (err == SM_OK || d == NULL)
        return; /* done: the mirror reports the topic gone */
    sm_log_warn("cannot remove the znodes of topic %s (%s); retrying", d->topic, sm_err_str(err));
    d->tearing_down = false;
    d->failed = err != SM_ERR_FENCED;
}

static void ctl_delete_teardown(ctl_ctx_t *c, ctl_deletion_t *d)
{
    char topic[CTL_PATH_MAX], config[CTL_PATH_MAX], marker[CTL_PATH_MAX];
    const char *roots[3];
    ctl_delete_teardown_t *td = malloc(sizeof(*td));

    roots[0] = ctl_path_topic(topic, sizeof(topic), d->topic);
    roots[1] = ctl_path_config(config, sizeof(config), d->topic);
    roots[2] = ctl_path_deletion(marker, sizeof(marker), d->topic);
    d->failed = true;
    if (td == NULL)
        return;
    *td = (ctl_delete_teardown_t){c, d->seq};
    if (ctl_zkw_delete_tree(c->zkw, roots, 3, ctl_delete_on_teardown, td) != SM_OK) {
        free(td);
        return;
    }
    sm_log_info("every live replica of %s stopped; removing its znodes", d->topic);
    d->failed = false;
    d->tearing_down = true;
}

static void ctl_delete_maybe_teardown(ctl_ctx_t *c, ctl_deletion_t *d)
{
    if (d->n_awaiting == 0 && !d->tearing_down && !d->failed)
        ctl_delete_teardown(c, d);
}

/* Sends StopReplica(delete) for every replica of t on broker (or on every live broker when
 * broker is -1), and awaits the brokers it was sent to. */
static void ctl_delete_stop(ctl_ctx_t *c, ctl_deletion_t *d, const ctl_topic_t *t, int32_t broker)
{
    for (size_t i = 0; i < t->n_parts; i++) {
        const ctl_partition_t *p = &t->parts[i];

        for (size_t r = 0; r < p->n_replicas; r++) {
            int32_t b = p->replicas[r];

            if ((broker >= 0 && b != broker) || !ctl_model_broker_live(c->model, b) ||
                ctl_active_channel(c, b) == NULL)
                continue;
            if (ctl_batch_stop_replica(c->del_batch, b, t->name, p->index, true) == SM_OK)
                ctl_delete_await(d, b);
        }
    }
    c->sink_kind_override = CTL_TAG_STOP_DELETE;
    c->sink_seq = d->seq;
    ctl_active_flush(c, c->del_batch);
    c->sink_kind_override = 0;
    c->sink_seq = 0;
}

/* The marker names a topic that no longer exists: remove the marker. */
static void ctl_delete_drop_marker(ctl_ctx_t *c, const char *topic)
{
    char path[CTL_PATH_MAX];
    sm_zk_op_t op = {.type = SM_ZK_OP_DELETE,
                     .path = ctl_path_deletion(path, sizeof(path), topic),
                     .version = -1};

    sm_log_info("topic %s is already gone; removing its deletion marker", topic);
    if (ctl_zkw_multi(c->zkw, &op, 1, NULL, NULL) != SM_OK)
        sm_log_warn("cannot remove the deletion marker of %s", topic);
}

void ctl_delete_start(ctl_ctx_t *c, const char *topic)
{
    const ctl_topic_t *t = ctl_model_topic(c->model, topic);
    ctl_deletion_t *d;

    if (!c->active || c->failover_pending || ctl_strmap_get(c->deletions, topic) != NULL)
        return;
    if (t == NULL) {
        ctl_delete_drop_marker(c, topic);
        return;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->topic = strdup(topic)) == NULL ||
        ctl_strmap_put(c->deletions, topic, d, NULL) != SM_OK) {
        sm_log_error("out of memory starting the deletion of %s", topic);
        ctl_delete_free(d);
        return;
    }
    d->seq = ++c->deletion_seq & 0xffffffu;
    sm_log_info("deleting topic %s (%zu partitions)", topic, t->n_parts);
    for (size_t i = 0; i < t->n_parts; i++)
        ctl_batch_update_metadata(c->del_batch, t->name, (int32_t)i);
    ctl_delete_stop(c, d, t, -1);
    ctl_delete_maybe_teardown(c, d);
}

void ctl_delete_on_stop_answer(ctl_ctx_t *c, int32_t broker, uint32_t seq)
{
    ctl_deletion_t *d = ctl_delete_by_seq(c, seq);

    if (d != NULL && ctl_delete_unawait(d, broker))
        ctl_delete_maybe_teardown(c, d);
}

void ctl_delete_on_broker_down(ctl_ctx_t *c, int32_t broker)
{
    size_t pos = 0;
    ctl_deletion_t *d;

    while ((d = ctl_strmap_next(c->deletions, &pos, NULL)) != NULL) {
        if (ctl_delete_unawait(d, broker)) {
            sm_log_info("deletion of %s no longer waits for broker %d (it left)", d->topic,
                        (int)broker);
            ctl_delete_maybe_teardown(c, d);
        }
    }
}

void ctl_delete_on_broker_up(ctl_ctx_t *c, int32_t broker)
{
    size_t pos = 0;
    ctl_deletion_t *d;

    while ((d = ctl_strmap_next(c->deletions, &pos, NULL)) != NULL) {
        const ctl_topic_t *t = ctl_model_topic(c->model, d->topic);

        if (t != NULL && !d->tearing_down)
            ctl_delete_stop(c, d, t, broker);
    }
}

void ctl_delete_tick(ctl_ctx_t *c)
{
    size_t pos = 0;
    ctl_deletion_t *d;

    while ((d = ctl_strmap_next(c->deletions, &pos, NULL)) != NULL) {
        if (d->failed && d->n_awaiting == 0) {
            d->failed = false;
            ctl_delete_teardown(c, d);
        }
    }
}

/* ---- DeleteTopics calls -----------------------------------------------------------------------
 */

static void ctl_delete_wait_free(ctl_delete_wait_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->names[i]);
        free(w->msgs[i]);
    }
    free(w->names);
    free(w->msgs);
    free(w->codes);
    free(w->waiting);
    if (w->timer != NULL)
        event_free(w->timer);
    free(w);
}

static void ctl_delete_unlink(ctl_ctx_t *c, ctl_delete_wait_t *w)
{
    ctl_delete_wait_t **pp = &c->delete_waits;

    while (*pp != NULL && *pp != w)
        pp = &(*pp)->next;
    if (*pp == w)
        *pp = w->next;
}

static void ctl_delete_set(ctl_delete_wait_t *w, size_t i, int32_t code, const char *msg)
{
    w->codes[i] = code;
    free(w->msgs[i]);
    w->msgs[i] = msg != NULL ? strdup(msg) : NULL;
}

/* Sends the response (once) and frees the wait when nothing refers to it any more. */
static void ctl_delete_answer(ctl_delete_wait_t *w)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__DeleteTopicsResponse resp = SAMSA__DELETE_TOPICS_RESPONSE__INIT;
    Samsa__DeletableTopicResult *rs = calloc(w->n + 1, sizeof(*rs));
    Samsa__DeletableTopicResult **rp = calloc(w->n + 1, sizeof(*rp));

    if (!w->answered) {
        for (size_t i = 0; rs != NULL && rp != NULL && i < w->n; i++) {
            samsa__deletable_topic_result__init(&rs[i]);
            rs[i].name = w->names[i];
            rs[i].has_error_code = 1;
            rs[i].error_code = w->codes[i];
            rs[i].error_message = w->msgs[i];
            rp[i] = &rs[i];
        }
        resp.n_topics = rs != NULL && rp != NULL ? w->n : 0;
        resp.topics = rp;
        resp.has_error_code = 1;
        resp.error_code = rs != NULL && rp != NULL ? 0 : CTL_KERR_UNKNOWN_SERVER_ERROR;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_RESPONSE;
        env.delete_topics_response = &resp;
        sm_rpc_call_reply(w->call, &env);
        w->answered = true;
        evtimer_del(w->timer);
        ctl_delete_unlink(w->c, w);
    }
    free(rs);
    free(rp);
    if (w->writes == 0)
        ctl_delete_wait_free(w);
}

static bool ctl_delete_still_waiting(const ctl_delete_wait_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->waiting[i])
            return true;
    }
    return false;
}

static void ctl_delete_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    ctl_delete_wait_t *w = arg;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < w->n; i++) {
        if (w->waiting[i]) {
            w->waiting[i] = false;
            ctl_delete_set(w, i, CTL_KERR_REQUEST_TIMED_OUT,
                           "the topic is marked for deletion but not gone yet");
        }
    }
    ctl_delete_answer(w);
}

/* Every marker write is done: answer now, or once the topics are gone. */
static void ctl_delete_writes_done(ctl_delete_wait_t *w)
{
    if (w->answered) {
        ctl_delete_answer(w); /* frees it */
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (w->waiting[i] && (!w->wait_done || ctl_model_topic(w->c->model, w->names[i]) == NULL))
            w->waiting[i] = false;
    }
    if (!ctl_delete_still_waiting(w))
        ctl_delete_answer(w);
}

static void ctl_delete_on_marker(void *arg, sm_err_t err, const sm_zk_result_t *res)
{
    ctl_delete_write_t *dw = arg;
    ctl_delete_wait_t *w = dw->w;
    size_t i = dw->index;
    char msg[160];

    (void)res;
    free(dw);
    w->writes--;
    if (err == SM_OK || err == SM_ERR_EXISTS) {
        sm_log_info("topic %s marked for deletion", w->names[i]);
    } else {
        w->waiting[i] = false;
        if (err == SM_ERR_FENCED || err == SM_ERR_STATE) {
            ctl_delete_set(w, i, CTL_KERR_NOT_CONTROLLER, "not the active controller any more");
        } else {
            snprintf(msg, sizeof(msg), "cannot mark the topic for deletion: %s", sm_err_str(err));
            ctl_delete_set(w, i,
                           err == SM_ERR_AGAIN ? CTL_KERR_REQUEST_TIMED_OUT
                                               : CTL_KERR_UNKNOWN_SERVER_ERROR,
                           msg);
        }
    }
    if (w->writes == 0)
        ctl_delete_writes_done(w);
}

static sm_err_t ctl_delete_write_marker(ctl_ctx_t *c, ctl_delete_wait_t *w, size_t i)
{
    char path[CTL_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    ctl_delete_write_t *dw = malloc(sizeof(*dw));
    sm_zk_op_t op;
    sm_err_t err = SM_ERR_NOMEM;

    if (dw == NULL || ctl_codec_marker_encode(ctl_wall_ms(), &data, &len) != SM_OK)
        goto out;
    *dw = (ctl_delete_write_t){w, i};
    op = (sm_zk_op_t){.type = SM_ZK_OP_CREATE,
                      .path = ctl_path_deletion(path, sizeof(path), w->names[i]),
                      .data = data,
                      .len = len};
    err = ctl_zkw_multi(c->zkw, &op, 1, ctl_delete_on_marker, dw);
    if (err == SM_OK) {
        dw = NULL;
        w->writes++;
    }
out:
    free(dw);
    free(data);
    return err;
}

static ctl_delete_wait_t *ctl_delete_wait_new(ctl_ctx_t *c, sm_rpc_call_t *call, size_t n)
{
    ctl_delete_wait_t *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->c = c;
    w->call = call;
    w->names = calloc(n + 1, sizeof(*w->names));
    w->msgs = calloc(n + 1, sizeof(*w->msgs));
    w->codes = calloc(n + 1, sizeof(*w->codes));
    w->waiting = calloc(n + 1, sizeof(*w->waiting));
    w->timer = evtimer_new(c->base, ctl_delete_on_timeout, w);
    if (w->names == NULL || w->msgs == NULL || w->codes == NULL || w->waiting == NULL ||
        w->timer == NULL) {
        ctl_delete_wait_free(w);
        return NULL;
    }
    return w;
}

/* Fills result i for one requested name; starts its marker write when needed. */
static void ctl_delete_one(ctl_ctx_t *c, ctl_delete_wait_t *w, size_t i)
{
    const char *name = w->names[i];
    char msg[320];

    if (ctl_model_topic(c->model, name) == NULL) {
        snprintf(msg, sizeof(msg), "topic '%.250s' does not exist", name);
        ctl_delete_set(w, i, CTL_KERR_UNKNOWN_TOPIC, msg);
        return;
    }
    w->waiting[i] = true;
    if (ctl_model_deletion_has(c->model, name))
        return; /* already marked: just wait for it */
    if (ctl_delete_write_marker(c, w, i) != SM_OK) {
        w->waiting[i] = false;
        ctl_delete_set(w, i, CTL_KERR_UNKNOWN_SERVER_ERROR, "cannot write the deletion marker");
    }
}

void ctl_delete_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    const Samsa__DeleteTopicsRequest *dr = req->delete_topics_request;
    ctl_delete_wait_t *w = ctl_delete_wait_new(c, call, dr->n_topic_names);
    int32_t timeout_ms = dr->has_timeout_ms ? dr->timeout_ms : 0;

    if (w == NULL) {
        sm_rpc_call_reply_error(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        return;
    }
    w->wait_done = timeout_ms > 0;
    for (; w->n < dr->n_topic_names; w->n++) {
        w->names[w->n] = strdup(dr->topic_names[w->n] != NULL ? dr->topic_names[w->n] : "");
        if (w->names[w->n] == NULL)
            break;
    }
    w->next = c->delete_waits;
    c->delete_waits = w;
    if (w->wait_done) {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

        evtimer_add(w->timer, &tv);
    }
    w->writes++; /* holds the wait while the loop below starts writes */
    for (size_t i = 0; i < w->n; i++)
        ctl_delete_one(c, w, i);
    if (--w->writes == 0)
        ctl_delete_writes_done(w);
}

/* ---- topic gone, marker gone, end of term ------------------------------------------------------
 */

void ctl_delete_on_topic_removed(ctl_ctx_t *c, const char *topic)
{
    ctl_deletion_t *d = ctl_strmap_remove(c->deletions, topic);
    ctl_delete_wait_t *w, *next;

    if (d != NULL)
        sm_log_info("deleted topic %s", topic);
    ctl_delete_free(d);
    for (w = c->delete_waits; w != NULL; w = next) {
        bool hit = false;

        next = w->next;
        for (size_t i = 0; i < w->n; i++) {
            if (w->waiting[i] && strcmp(w->names[i], topic) == 0) {
                w->waiting[i] = false;
                hit = true;
            }
        }
        if (hit && w->writes == 0 && !ctl_delete_still_waiting(w))
            ctl_delete_answer(w);
    }
    if (d == NULL && c->active && ctl_model_deletion_has(c->model, topic))
        ctl_delete_drop_marker(c, topic);
}

void ctl_delete_on_marker_removed(ctl_ctx_t *c, const char *topic)
{
    ctl_deletion_t *d = ctl_strmap_get(c->deletions, topic);

    if (d == NULL || d->tearing_down)
        return;
    sm_log_warn("deletion of %s abandoned: its marker was removed", topic);
    ctl_strmap_remove(c->deletions, topic);
    ctl_delete_free(d);
}

void ctl_delete_reset(ctl_ctx_t *c)
{
    size_t pos = 0;
    ctl_deletion_t *d;
    ctl_delete_wait_t *w;

    while ((d = ctl_strmap_next(c->deletions, &pos, NULL)) != NULL)
        ctl_delete_free(d);
    ctl_strmap_clear(c->deletions);
    while ((w = c->delete_waits) != NULL) {
        for (size_t i = 0; i < w->n; i++) {
            if (w->waiting[i]) {
                w->waiting[i] = false;
                ctl_delete_set(w, i, CTL_KERR_NOT_CONTROLLER,
                               "the controller moved; the deletion continues under the next one");
            }
        }
        ctl_delete_answer(w); /* unlinks it */
    }
}
