/*
 * ctl_zkw: the active controller's epoch-checked ZooKeeper writes (see ctl_zkw.h for the
 * contract and DESIGN NOTES). Three kinds of request share one send path that prepends the
 * CHECK op and one fencing rule:
 *
 *   ctl_zkw_multi        caller's ops, one multi
 *   ctl_zkw_state        queued -> batch (<= CTL_ZKW_BATCH items) -> multi, fix-and-resend
 *   ctl_zkw_delete_tree  list the trees -> delete deepest first (in ctl_zkw_tree.c)
 */
#include "controller/ctl_zkw.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zookeeper/zookeeper.h>

#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"
#include "sm_log.h"

struct ctl_zkw {
    sm_zk_t *zk;
    struct event *flush_ev;
    ctl_zkw_fenced_fn fenced;
    void *arg;
    bool armed;
    bool fenced_told; /* `fenced` already called in this term */
    int32_t epoch_version;
    uint64_t gen;
    struct ctl_zkw_item **queue; /* state writes waiting for the flush */
    size_t n_queue, cap_queue;
    size_t pending;
};

/* One queued state write. */
typedef struct ctl_zkw_item {
    char *topic;
    int32_t partition;
    ctl_pstate_t st; /* st.isr points at isr */
    int32_t *isr;
    int32_t expected; /* version, or CTL_ZKW_CREATE */
    bool with_dir;    /* create: also create .../partitions/<p> */
    bool with_parent; /* create: also create .../partitions */
    uint8_t *data;
    size_t len;
    ctl_zkw_state_fn cb;
    void *arg;
    sm_err_t result;
    bool done;
} ctl_zkw_item_t;

/* One batch of items in flight, and the op layout of its current attempt. */
typedef struct ctl_zkw_batch {
    ctl_zkw_t *w;
    uint64_t gen;
    ctl_zkw_item_t **items;
    size_t n;
    size_t *op_item; /* op index (after the CHECK) -> item index */
    int *op_role;    /* what the op does for its item */
} ctl_zkw_batch_t;

enum { CTL_ZKW_ROLE_PARENT = 1, CTL_ZKW_ROLE_DIR, CTL_ZKW_ROLE_STATE };

typedef struct ctl_zkw_req {
    ctl_zkw_t *w;
    uint64_t gen;
    ctl_zkw_multi_fn cb;
    void *arg;
} ctl_zkw_req_t;

/* ---- the send path ------------------------------------------------------------------------ */

/* Sends [CHECK] + ops as one multi. */
static sm_err_t ctl_zkw_send(ctl_zkw_t *w, const sm_zk_op_t *ops, size_t n, sm_zk_cb cb, void *arg)
{
    sm_zk_op_t *all;
    sm_err_t err;

    if (n + 1 > SM_ZK_MULTI_MAX)
        return SM_ERR_INVALID;
    all = malloc((n + 1) * sizeof(*all));
    if (all == NULL)
        return SM_ERR_NOMEM;
    all[0] = (sm_zk_op_t){
        .type = SM_ZK_OP_CHECK, .path = CTL_PATH_CONTROLLER_EPOCH, .version = w->epoch_version};
    memcpy(all + 1, ops, n * sizeof(*ops));
    err = sm_zk_multi(w->zk, all, n + 1, cb, arg);
    free(all);
    if (err == SM_OK)
        w->pending++;
    return err;
}

/* Maps a multi result to the caller's error, telling the owner once when fenced. */
static sm_err_t ctl_zkw_result(ctl_zkw_t *w, const sm_zk_result_t *res)
{
    sm_err_t err = res->err;

    if (err != SM_OK && err != SM_ERR_AGAIN && err != SM_ERR_CLOSED && res->n_ops > 0 &&
        (res->ops[0].err == SM_ERR_VERSION || res->ops[0].err == SM_ERR_NOT_FOUND))
        err = SM_ERR_FENCED;
    if (err == SM_ERR_FENCED && !w->fenced_told) {
        w->fenced_told = true;
        sm_log_warn("a write failed the controller epoch check: another controller is active");
        if (w->fenced != NULL)
            w->fenced(w->arg);
    }
    return err;
}

static void ctl_zkw_on_multi(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_zkw_req_t *r = arg;
    ctl_zkw_t *w = r->w;

    (void)zk;
    w->pending--;
    if (r->cb != NULL)
        r->cb(r->arg, r->gen == w->gen && w->armed ? ctl_zkw_result(w, res) : SM_ERR_STATE, res);
    free(r);
}

sm_err_t ctl_zkw_multi(ctl_zkw_t *w, const sm_zk_op_t *ops, size_t n, ctl_zkw_multi_fn cb,
                       void *arg)
{
    ctl_zkw_req_t *r;
    sm_err_t err;

    if (!w->armed)
        return SM_ERR_STATE;
    r = malloc(sizeof(*r));
    if (r == NULL)
        return SM_ERR_NOMEM;
    *r = (ctl_zkw_req_t){w, w->gen, cb, arg};
    err = ctl_zkw_send(w, ops, n, ctl_zkw_on_multi, r);
    if (err != SM_OK)
        free(r);
    return err;
}

/* ---- state writes ------------------------------------------------------------------------- */

static void ctl_zkw_item_free(ctl_zkw_item_t *it)
{
    if (it == NULL)
        return;
    free(it->topic);
    free(it->isr);
    free(it->data);
    free(it);
}

static void ctl_zkw_batch_free(ctl_zkw_batch_t *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        ctl_zkw_item_free(b->items[i]);
    free(b->items);
    free(b->op_item);
    free(b->op_role);
    free(b);
}

/* Runs the callbacks of finished items (only in the batch's own term). */
static void ctl_zkw_batch_finish(ctl_zkw_batch_t *b, const sm_zk_result_t *res)
{
    ctl_zkw_t *w = b->w;

    for (size_t k = 0; res != NULL && res->err == SM_OK && k + 1 < res->n_ops; k++) {
        ctl_zkw_item_t *it = b->items[b->op_item[k]];

        if (b->op_role[k] == CTL_ZKW_ROLE_STATE) {
            it->st.zk_version = res->ops[k + 1].stat != NULL ? res->ops[k + 1].stat->version : 0;
            it->result = SM_OK;
            it->done = true;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        ctl_zkw_item_t *it = b->items[i];
        bool current = b->gen == w->gen && w->armed;

        if (it->cb != NULL)
            it->cb(it->arg, it->topic, it->partition,
                   current && it->done ? it->result : SM_ERR_STATE, &it->st);
    }
    ctl_zkw_batch_free(b);
}

static void ctl_zkw_on_batch(sm_zk_t *zk, const sm_zk_result_t *res, void *arg);

/* Sends the batch's items that are not done yet. Completes the batch when none are left. */
static void ctl_zkw_batch_send(ctl_zkw_batch_t *b)
{
    char(*paths)[CTL_PATH_MAX] = malloc(3 * b->n * CTL_PATH_MAX);
    sm_zk_op_t *ops = malloc(3 * b->n * sizeof(*ops));
    size_t n_ops = 0;
    sm_err_t err = SM_ERR_NOMEM;

    for (size_t i = 0; i < b->n && paths != NULL && ops != NULL; i++) {
        ctl_zkw_item_t *it = b->items[i];

        if (it->done)
            continue;
        if (it->expected == CTL_ZKW_CREATE && it->with_parent) {
            b->op_item[n_ops] = i;
            b->op_role[n_ops] = CTL_ZKW_ROLE_PARENT;
            ops[n_ops] =
                (sm_zk_op_t){.type = SM_ZK_OP_CREATE,
                             .path = ctl_path_partitions(paths[n_ops], CTL_PATH_MAX, it->topic)};
            n_ops++;
        }
        if (it->expected == CTL_ZKW_CREATE && it->with_dir) {
            b->op_item[n_ops] = i;
            b->op_role[n_ops] = CTL_ZKW_ROLE_DIR;
            ops[n_ops] = (sm_zk_op_t){
                .type = SM_ZK_OP_CREATE,
                .path = ctl_path_partition(paths[n_ops], CTL_PATH_MAX, it->topic, it->partition)};
            n_ops++;
        }
        b->op_item[n_ops] = i;
        b->op_role[n_ops] = CTL_ZKW_ROLE_STATE;
        ops[n_ops] = (sm_zk_op_t){
            .type = it->expected == CTL_ZKW_CREATE ? SM_ZK_OP_CREATE : SM_ZK_OP_SET,
            .path = ctl_path_state(paths[n_ops], CTL_PATH_MAX, it->topic, it->partition),
            .data = it->data,
            .len = it->len,
            .version = it->expected == CTL_ZKW_CREATE ? 0 : it->expected};
        n_ops++;
    }
    if (paths != NULL && ops != NULL)
        err = n_ops > 0 ? ctl_zkw_send(b->w, ops, n_ops, ctl_zkw_on_batch, b) : SM_OK;
    free(paths);
    free(ops);
    if (n_ops == 0 && err == SM_OK) {
        ctl_zkw_batch_finish(b, NULL);
    } else if (err != SM_OK) {
        for (size_t i = 0; i < b->n; i++) {
            if (!b->items[i]->done) {
                b->items[i]->done = true;
                b->items[i]->result = err;
            }
        }
        ctl_zkw_batch_finish(b, NULL);
    }
}

/* Fixes the one op that failed (invariant 3); returns false when the batch cannot go on. */
static bool ctl_zkw_batch_fix(ctl_zkw_batch_t *b, const sm_zk_result_t *res)
{
    for (size_t k = 0; k + 1 < res->n_ops; k++) {
        const sm_zk_op_result_t *op = &res->ops[k + 1];
        ctl_zkw_item_t *it = b->items[b->op_item[k]];

        if (op->err == SM_OK || op->zerr == ZRUNTIMEINCONSISTENCY)
            continue;
        if (b->op_role[k] == CTL_ZKW_ROLE_PARENT && op->err == SM_ERR_EXISTS) {
            it->with_parent = false;
        } else if (b->op_role[k] == CTL_ZKW_ROLE_DIR && op->err == SM_ERR_EXISTS) {
            it->with_dir = false;
        } else if (b->op_role[k] == CTL_ZKW_ROLE_DIR && op->err == SM_ERR_NOT_FOUND) {
            it->with_parent = true;
        } else {
            it->done = true;
            it->result = op->err;
        }
        return true;
    }
    return false;
}

static void ctl_zkw_on_batch(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_zkw_batch_t *b = arg;
    ctl_zkw_t *w = b->w;
    sm_err_t err;

    (void)zk;
    w->pending--;
    if (b->gen != w->gen || !w->armed) {
        ctl_zkw_batch_finish(b, NULL); /* every item: SM_ERR_STATE */
        return;
    }
    err = ctl_zkw_result(w, res);
    if (err == SM_OK) {
        ctl_zkw_batch_finish(b, res);
        return;
    }
    if (err == SM_ERR_FENCED || err == SM_ERR_AGAIN || err == SM_ERR_CLOSED ||
        !ctl_zkw_batch_fix(b, res)) {
        for (size_t i = 0; i < b->n; i++) {
            if (!b->items[i]->done) {
                b->items[i]->done = true;
                b->items[i]->result = err;
            }
        }
        ctl_zkw_batch_finish(b, NULL);
        return;
    }
    ctl_zkw_batch_send(b);
}

/* Moves up to CTL_ZKW_BATCH queued items into a new batch and sends it. */
static void ctl_zkw_flush_some(ctl_zkw_t *w)
{
    size_t n = w->n_queue < CTL_ZKW_BATCH ? w->n_queue : CTL_ZKW_BATCH;
    ctl_zkw_batch_t *b = calloc(1, sizeof(*b));

    if (b != NULL) {
        b->items = malloc(n * sizeof(*b->items));
        b->op_item = malloc(3 * n * sizeof(*b->op_item));
        b->op_role = malloc(3 * n * sizeof(*b->op_role));
    }
    if (b == NULL || b->items == NULL || b->op_item == NULL || b->op_role == NULL) {
        sm_log_error("out of memory sending partition states; dropping %zu writes", n);
        for (size_t i = 0; i < n; i++)
            ctl_zkw_item_free(w->queue[i]);
        ctl_zkw_batch_free(b);
        b = NULL;
    } else {
        b->w = w;
        b->gen = w->gen;
        b->n = n;
        memcpy(b->items, w->queue, n * sizeof(*b->items));
    }
    memmove(w->queue, w->queue + n, (w->n_queue - n) * sizeof(*w->queue));
    w->n_queue -= n;
    if (b != NULL)
        ctl_zkw_batch_send(b);
}

void ctl_zkw_flush(ctl_zkw_t *w)
{
    while (w->n_queue > 0 && w->armed)
        ctl_zkw_flush_some(w);
    for (size_t i = 0; i < w->n_queue; i++) {
        ctl_zkw_item_t *it = w->queue[i];

        if (it->cb != NULL)
            it->cb(it->arg, it->topic, it->partition, SM_ERR_STATE, &it->st);
        ctl_zkw_item_free(it);
    }
    w->n_queue = 0;
}

static void ctl_zkw_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ctl_zkw_flush(arg);
}

static sm_err_t ctl_zkw_enqueue(ctl_zkw_t *w, ctl_zkw_item_t *it)
{
    static const struct timeval now = {0, 0};

    if (w->n_queue == w->cap_queue) {
        size_t cap = w->cap_queue ? w->cap_queue * 2 : 256;
        ctl_zkw_item_t **q = realloc(w->queue, cap * sizeof(*q));

        if (q == NULL)
            return SM_ERR_NOMEM;
        w->queue = q;
        w->cap_queue = cap;
    }
    w->queue[w->n_queue++] = it;
    /* Sent at the end of this loop iteration, never from inside the caller's call. */
    if (!evtimer_pending(w->flush_ev, NULL))
        evtimer_add(w->flush_ev, &now);
    return SM_OK;
}

sm_err_t ctl_zkw_state(ctl_zkw_t *w, const char *topic, int32_t partition, const ctl_pstate_t *st,
                       int32_t expected_version, ctl_zkw_state_fn cb, void *arg)
{
    ctl_zkw_item_t *it = NULL;
    sm_err_t err = SM_ERR_STATE;

    if (!w->armed)
        goto out;
    err = SM_ERR_NOMEM;
    it = calloc(1, sizeof(*it));
    if (it == NULL || (it->topic = strdup(topic)) == NULL)
        goto out;
    it->isr = malloc((st->n_isr > 0 ? st->n_isr : 1) * sizeof(*it->isr));
    if (it->isr == NULL)
        goto out;
    if (st->n_isr > 0)
        memcpy(it->isr, st->isr, st->n_isr * sizeof(*it->isr));
    it->st = *st;
    it->st.isr = it->isr;
    it->partition = partition;
    it->expected = expected_version;
    it->with_dir = expected_version == CTL_ZKW_CREATE;
    it->cb = cb;
    it->arg = arg;
    err = ctl_codec_state_encode(&it->st, &it->data, &it->len);
    if (err == SM_OK)
        err = ctl_zkw_enqueue(w, it);
out:
    if (err != SM_OK)
        ctl_zkw_item_free(it);
    return err;
}

/* ---- lifetime ----------------------------------------------------------------------------- */

sm_err_t ctl_zkw_new(struct event_base *base, sm_zk_t *zk, ctl_zkw_fenced_fn fenced, void *arg,
                     ctl_zkw_t **out)
{
    ctl_zkw_t *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (w == NULL)
        return SM_ERR_NOMEM;
    w->flush_ev = evtimer_new(base, ctl_zkw_on_flush, w);
    if (w->flush_ev == NULL) {
        free(w);
        return SM_ERR_NOMEM;
    }
    w->zk = zk;
    w->fenced = fenced;
    w->arg = arg;
    w->gen = 1;
    *out = w;
    return SM_OK;
}

static void ctl_zkw_drop_queue(ctl_zkw_t *w)
{
    for (size_t i = 0; i < w->n_queue; i++)
        ctl_zkw_item_free(w->queue[i]);
    w->n_queue = 0;
}

void ctl_zkw_free(ctl_zkw_t *w)
{
    if (w == NULL)
        return;
    ctl_zkw_drop_queue(w);
    free(w->queue);
    event_free(w->flush_ev);
    free(w);
}

void ctl_zkw_arm(ctl_zkw_t *w, int32_t epoch_version)
{
    w->gen++;
    w->armed = true;
    w->fenced_told = false;
    w->epoch_version = epoch_version;
}

void ctl_zkw_disarm(ctl_zkw_t *w)
{
    static const struct timeval now = {0, 0};

    w->gen++;
    w->armed = false;
    /* Queued writes complete with SM_ERR_STATE from the flush timer, not from in here. */
    if (w->n_queue > 0 && !evtimer_pending(w->flush_ev, NULL))
        evtimer_add(w->flush_ev, &now);
}

size_t ctl_zkw_pending(const ctl_zkw_t *w)
{
    return w->pending + w->n_queue;
}

sm_zk_t *ctl_zkw_zk(const ctl_zkw_t *w)
{
    return w->zk;
}

uint64_t ctl_zkw_term(const ctl_zkw_t *w)
{
    return w->armed ? w->gen : 0;
}
