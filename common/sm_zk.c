/*
 * sm_zk: ZooKeeper session for a libevent loop on the multithreaded C client. Owns the
 * current zhandle (plus, at start-up with a chroot, a short-lived handle without it), the
 * queue that carries the client's callbacks to the loop, outstanding requests and watch
 * records. Public contract in sm_zk.h; the blocking API lives in sm_zk_sync.c, the pure
 * helpers in sm_zk_util.c and the cross-thread queue in sm_zk_queue.c.
 *
 * DESIGN NOTES
 *
 * Threads. The C client runs an io and a completion thread per zhandle. Everything they call
 * here (functions marked @thread zk) only copies what it got into a message and posts it on
 * zk->q; the loop pops messages in order and runs the owner's callbacks.
 *
 *   client threads: sm_zk_on_session / sm_zk_on_watch / sm_zk_on_<result> --post--> zk->q
 *   loop:  eventfd --> sm_zk_on_wake --> sm_zk_req_done | sm_zk_session_msg | sm_zk_watch_msg
 *                                         --> owner's sm_zk_cb / sm_zk_watch_cb / session cb
 *
 * Invariants
 *  1. The client calls every completion exactly once, also when its handle is closed (with
 *     ZCLOSING, from inside zookeeper_close, which first joins the client's threads). So once
 *     zookeeper_close returns, every request of that handle sits in zk->q.
 *  2. A request is touched by a client thread only between the zoo_a* call and the post of its
 *     completion; the loop touches it only before that call and after the pop.
 *  3. Each zhandle has its own sm_zk_conn whose zk and gen never change; session messages
 *     carry gen, and those of a closed handle are ignored.
 *  4. A watch record lives until (a) its request completes without registering it, or (b) its
 *     fire message is popped, or (c) its handle is closed while it is neither pending nor
 *     fired. `fired` is written by a client thread before it posts the fire message and read
 *     by the loop only after that pop or after zookeeper_close joined the threads.
 *  5. No owner callback runs inside the call that starts an operation, and none after
 *     sm_zk_free returns. The struct is released only when no dispatch is on the stack
 *     (depth == 0), so sm_zk_free may be called from any callback.
 *
 * States (zk->state)
 *
 *      sm_zk_new --chroot--> BOOT --chroot ensured--> CONNECTING --connected--> CONNECTED
 *          |                                             ^   ^                  |     ^
 *          +--no chroot----------------------------------+   |     connection lost  reconnected
 *                                                            |                  v     |
 *                             expired: close, open new handle +------------- DISCONNECTED
 *      any --sm_zk_free--> CLOSED
 *
 * Transitions
 *   BOOT          boot handle CONNECTED       submit ensure(chroot)         sm_zk_boot_session
 *   BOOT          ensure(chroot) done         close boot, open main         sm_zk_boot_done
 *   CONNECTING    CONNECTED                   -> CONNECTED, emit CONNECTED  sm_zk_main_session
 *   CONNECTED     CONNECTING (conn lost)      -> DISCONNECTED, emit         sm_zk_main_session
 *   DISCONNECTED  CONNECTED                   -> CONNECTED, emit            sm_zk_main_session
 *   any but BOOT  EXPIRED / AUTH_FAILED       close, open new; -> CONNECTING, emit EXPIRED
 *                                                                           sm_zk_main_expired
 *   any           sm_zk_free                  -> CLOSED                     sm_zk_free
 */
#include "sm_zk.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sm_log.h"
#include "sm_zk_priv.h"
#include "sm_zk_queue.h"

#define SM_ZK_RETRY_MS 1000

typedef enum sm_zk_state {
    SM_ZK_ST_BOOT = 1,
    SM_ZK_ST_CONNECTING,
    SM_ZK_ST_CONNECTED,
    SM_ZK_ST_DISCONNECTED,
    SM_ZK_ST_CLOSED,
} sm_zk_state_t;

enum { SM_ZK_MSG_REQ = 1, SM_ZK_MSG_SESSION, SM_ZK_MSG_WATCH };

typedef struct sm_zk_msg {
    sm_zk_qnode_t node; /* first: the queue links messages through it */
    int kind;
} sm_zk_msg_t;

/* One zhandle. zk and gen are read by the client's threads and never change (invariant 3). */
typedef struct sm_zk_conn {
    sm_zk_t *zk;
    uint64_t gen;
    int boot;
    zhandle_t *zh; /* loop */
} sm_zk_conn_t;

typedef struct sm_zk_sess_msg {
    sm_zk_msg_t m;
    uint64_t gen;
    int state;
    int64_t session_id;
    int timeout_ms;
} sm_zk_sess_msg_t;

typedef struct sm_zk_watch sm_zk_watch_t;
struct sm_zk_watch {
    sm_zk_t *zk;
    uint64_t gen; /* handle it was set on; 0 if none */
    sm_zk_watch_cb cb;
    void *arg;
    int pending;                /* loop: its request has not completed yet */
    int delivered;              /* loop: fired while pending; the request's completion frees it */
    int fired;                  /* client thread, before posting the fire (invariant 4) */
    sm_zk_watch_t *prev, *next; /* loop: zk->watches */
};

typedef struct sm_zk_watch_msg {
    sm_zk_msg_t m;
    sm_zk_watch_t *w;
    int type;
    char path[];
} sm_zk_watch_msg_t;

enum {
    SM_ZK_REQ_CREATE = 1,
    SM_ZK_REQ_ENSURE,
    SM_ZK_REQ_GET,
    SM_ZK_REQ_SET,
    SM_ZK_REQ_DELETE,
    SM_ZK_REQ_EXISTS,
    SM_ZK_REQ_CHILDREN,
    SM_ZK_REQ_MULTI,
};

typedef struct sm_zk_req {
    sm_zk_msg_t m;
    sm_zk_t *zk;
    uint64_t gen; /* handle it was last sent on; 0 if never sent */
    int op;
    int flags;
    int32_t version;
    int parents; /* creating ancestors (SM_ZK_PARENTS, ensure) */
    int retried; /* ancestors done, the node itself was sent again */
    size_t step; /* while parents: length of the ancestor being created */
    char *path;
    char *anc; /* while parents: the ancestor path */
    char *data;
    size_t len;
    sm_zk_cb cb;
    void *arg;
    sm_zk_watch_t *w;
    /* multi: copies of the ops and the client's per-op storage */
    size_t n_ops;
    zoo_op_t *zops;
    zoo_op_result_t *zres;
    struct Stat *zstats;
    char **zstrs; /* per op: path copy, data copy, created-path buffer (3 per op) */
    /* results: written by a client thread, read by the loop after the pop (invariant 2) */
    int zrc;
    int oom;
    char *r_created;
    char *r_data;
    size_t r_len;
    struct Stat r_stat;
    int r_has_stat;
    char **r_children;
    size_t r_n;
} sm_zk_req_t;

struct sm_zk {
    struct event_base *base;
    sm_zk_queue_t *q;
    struct event *retry_ev;
    struct event *connect_ev;
    char *connect; /* as given */
    char *hosts;   /* without chroot */
    char *chroot;  /* "" if none */
    char *main_connect;
    int session_timeout_ms;
    int connect_timeout_ms;
    sm_zk_session_cb session_cb;
    void *arg;

    sm_zk_state_t state;
    sm_zk_conn_t *main;
    sm_zk_conn_t *boot;
    uint64_t gen_next;
    int boot_connected;
    int boot_busy;
    int ever_connected;
    int64_t session_id;
    int negotiated_ms;

    sm_zk_watch_t *watches;
    size_t outstanding; /* requests started and not yet finished */
    int depth;          /* dispatches on the stack (invariant 5) */
    int freeing;
};

static void sm_zk_req_send(sm_zk_t *zk, sm_zk_conn_t *c, sm_zk_req_t *r);
static void sm_zk_boot_submit(sm_zk_t *zk);
static void sm_zk_schedule_retry(sm_zk_t *zk);

/* ---- client callbacks (@thread zk): copy, post, nothing else ------------------------------ */

/* @thread zk */
static void sm_zk_post_req(sm_zk_req_t *r, int rc)
{
    r->zrc = rc;
    sm_zk_queue_post(r->zk->q, &r->m.node);
}

/* @thread zk */
static void sm_zk_keep_stat(sm_zk_req_t *r, const struct Stat *stat)
{
    if (stat != NULL) {
        r->r_stat = *stat;
        r->r_has_stat = 1;
    }
}

/* @thread zk */
static void sm_zk_on_created(int rc, const char *path, const struct Stat *stat, const void *data)
{
    sm_zk_req_t *r = (sm_zk_req_t *)data;

    if (rc == ZOK && path != NULL) {
        r->r_created = strdup(path);
        r->oom |= r->r_created == NULL;
    }
    if (rc == ZOK)
        sm_zk_keep_stat(r, stat);
    sm_zk_post_req(r, rc);
}

/* @thread zk */
static void sm_zk_on_data(int rc, const char *value, int value_len, const struct Stat *stat,
                          const void *data)
{
    sm_zk_req_t *r = (sm_zk_req_t *)data;

    if (rc == ZOK && value != NULL && value_len > 0) {
        r->r_data = malloc((size_t)value_len);
        if (r->r_data != NULL) {
            memcpy(r->r_data, value, (size_t)value_len);
            r->r_len = (size_t)value_len;
        } else {
            r->oom = 1;
        }
    }
    if (rc == ZOK)
        sm_zk_keep_stat(r, stat);
    sm_zk_post_req(r, rc);
}

/* @thread zk */
static void sm_zk_on_stat(int rc, const struct Stat *stat, const void *data)
{
    sm_zk_req_t *r = (sm_zk_req_t *)data;

    if (rc == ZOK)
        sm_zk_keep_stat(r, stat);
    sm_zk_post_req(r, rc);
}

/* @thread zk */
static void sm_zk_on_void(int rc, const void *data)
{
    sm_zk_post_req((sm_zk_req_t *)data, rc);
}

/* @thread zk */
static void sm_zk_on_strings(int rc, const struct String_vector *strings, const struct Stat *stat,
                             const void *data)
{
    sm_zk_req_t *r = (sm_zk_req_t *)data;
    size_t i, n;

    if (rc == ZOK && strings != NULL && strings->count > 0) {
        n = (size_t)strings->count;
        r->r_children = calloc(n, sizeof(char *));
        for (i = 0; r->r_children != NULL && i < n; i++) {
            r->r_children[i] = strdup(strings->data[i]);
            if (r->r_children[i] == NULL)
                break;
        }
        if (r->r_children == NULL || i < n) {
            r->oom = 1;
            n = r->r_children == NULL ? 0 : i;
        } else {
            qsort(r->r_children, n, sizeof(char *), sm_zk_strptr_cmp);
        }
        r->r_n = n;
    }
    if (rc == ZOK)
        sm_zk_keep_stat(r, stat);
    sm_zk_post_req(r, rc);
}

/* A watch fired. Session and "not watching" notices are ignored: the session is reported
 * through the handle's own watcher, and the record stays armed.
 * @thread zk */
static void sm_zk_on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    sm_zk_watch_t *w = ctx;
    sm_zk_watch_msg_t *wm;
    size_t n;

    (void)zh;
    (void)state;
    if (type == ZOO_SESSION_EVENT || type == ZOO_NOTWATCHING_EVENT)
        return;
    n = path != NULL ? strlen(path) : 0;
    wm = calloc(1, sizeof(*wm) + n + 1);
    if (wm == NULL) {
        sm_log_error("zookeeper: out of memory; watch event on %s lost", path ? path : "?");
        return;
    }
    wm->m.kind = SM_ZK_MSG_WATCH;
    wm->w = w;
    wm->type = type;
    if (n > 0)
        memcpy(wm->path, path, n);
    w->fired = 1;
    sm_zk_queue_post(w->zk->q, &wm->m.node);
}

/* The handle's global watcher: session state changes.
 * @thread zk */
static void sm_zk_on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    sm_zk_conn_t *c = ctx;
    sm_zk_sess_msg_t *sm;
    const clientid_t *id;

    (void)path;
    if (type != ZOO_SESSION_EVENT)
        return;
    sm = calloc(1, sizeof(*sm));
    if (sm == NULL) {
        sm_log_error("zookeeper: out of memory; session event %d lost", state);
        return;
    }
    sm->m.kind = SM_ZK_MSG_SESSION;
    sm->gen = c->gen;
    sm->state = state;
    if (state == ZOO_CONNECTED_STATE) {
        id = zoo_client_id(zh);
        sm->session_id = id != NULL ? id->client_id : 0;
        sm->timeout_ms = zoo_recv_timeout(zh);
    }
    sm_zk_queue_post(c->zk->q, &sm->m.node);
}

/* ---- handles ------------------------------------------------------------------------------ */

static void sm_zk_watch_unlink_free(sm_zk_t *zk, sm_zk_watch_t *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        zk->watches = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    free(w);
}

static int sm_zk_gen_live(const sm_zk_t *zk, uint64_t gen)
{
    return !zk->freeing && zk->main != NULL && zk->main->gen == gen;
}

static sm_err_t sm_zk_conn_open(sm_zk_t *zk, int boot, sm_errbuf_t *eb)
{
    sm_zk_conn_t *c;
    const char *hosts = boot ? zk->hosts : zk->main_connect;
    int saved;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    c->zk = zk;
    c->gen = ++zk->gen_next;
    c->boot = boot;
    sm_zk_client_log_setup();
    c->zh = zookeeper_init2(hosts, sm_zk_on_session, zk->session_timeout_ms, NULL, c,
                            ZOO_NO_LOG_CLIENTENV, sm_zk_client_log);
    if (c->zh == NULL) {
        saved = errno;
        free(c);
        return sm_errbuf_set(eb, SM_ERR_ZK, "ZooKeeper client refused '%s': %s", hosts,
                             strerror(saved));
    }
    if (boot) {
        zk->boot = c;
        zk->boot_connected = 0;
        zk->boot_busy = 0;
    } else {
        zk->main = c;
    }
    return SM_OK;
}

/* Closes a handle (blocking briefly when connected), then frees the watch records of its
 * generation that nothing in the queue refers to (invariant 4c). */
static void sm_zk_conn_close(sm_zk_t *zk, sm_zk_conn_t *c)
{
    sm_zk_watch_t *w, *next;
    uint64_t gen;

    if (c == NULL)
        return;
    gen = c->gen;
    if (c == zk->main)
        zk->main = NULL;
    if (c == zk->boot)
        zk->boot = NULL;
    zookeeper_close(c->zh);
    free(c);
    for (w = zk->watches; w != NULL; w = next) {
        next = w->next;
        if (w->gen == gen && !w->pending && !w->fired)
            sm_zk_watch_unlink_free(zk, w);
    }
}

/* Calls the owner's session callback. Must be the last thing a handler does with zk
 * state in hand: the owner may free zk inside (the struct itself survives, invariant 5). */
static void sm_zk_emit(sm_zk_t *zk, sm_zk_event_t ev)
{
    if (zk->freeing || zk->session_cb == NULL)
        return;
    zk->session_cb(zk, ev, zk->arg);
}

static void sm_zk_open_main_or_retry(sm_zk_t *zk)
{
    sm_errbuf_t eb;

    if (sm_zk_conn_open(zk, 0, &eb) != SM_OK) {
        sm_log_warn("zookeeper %s: %s; retrying in %d ms", zk->connect, eb.msg, SM_ZK_RETRY_MS);
        sm_zk_schedule_retry(zk);
    }
}

/* ---- requests ----------------------------------------------------------------------------- */

static void sm_zk_req_free(sm_zk_req_t *r)
{
    size_t i;

    if (r == NULL)
        return;
    free(r->path);
    free(r->anc);
    free(r->data);
    free(r->r_created);
    free(r->r_data);
    for (i = 0; i < r->r_n; i++)
        free(r->r_children[i]);
    free(r->r_children);
    if (r->zstrs != NULL) {
        for (i = 0; i < 3 * r->n_ops; i++)
            free(r->zstrs[i]);
    }
    free(r->zstrs);
    free(r->zops);
    free(r->zres);
    free(r->zstats);
    free(r);
}

static sm_err_t sm_zk_req_new(sm_zk_t *zk, int op, const char *path, const void *data, size_t len,
                              sm_zk_cb cb, void *arg, sm_zk_req_t **out)
{
    sm_zk_req_t *r;

    *out = NULL;
    if (zk == NULL)
        return SM_ERR_INVALID;
    if (zk->freeing)
        return SM_ERR_CLOSED;
    if (op != SM_ZK_REQ_MULTI && !sm_zk_path_valid(path))
        return SM_ERR_INVALID;
    if ((data == NULL && len > 0) || len > (size_t)INT_MAX)
        return SM_ERR_INVALID;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return SM_ERR_NOMEM;
    r->m.kind = SM_ZK_MSG_REQ;
    r->zk = zk;
    r->op = op;
    r->cb = cb;
    r->arg = arg;
    r->version = -1;
    if (path != NULL && (r->path = strdup(path)) == NULL)
        goto nomem;
    if (len > 0) {
        r->data = malloc(len);
        if (r->data == NULL)
            goto nomem;
        memcpy(r->data, data, len);
        r->len = len;
    }
    *out = r;
    return SM_OK;
nomem:
    sm_zk_req_free(r);
    return SM_ERR_NOMEM;
}

/* Attaches a watch record to a get/exists/children request. */
static sm_err_t sm_zk_req_watch(sm_zk_t *zk, sm_zk_req_t *r, sm_zk_watch_cb wcb, void *warg)
{
    sm_zk_watch_t *w;

    if (wcb == NULL)
        return SM_OK;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return SM_ERR_NOMEM;
    w->zk = zk;
    w->cb = wcb;
    w->arg = warg;
    w->pending = 1;
    w->next = zk->watches;
    if (zk->watches != NULL)
        zk->watches->prev = w;
    zk->watches = w;
    r->w = w;
    return SM_OK;
}

/* Starts a request on the main handle, or completes it later with "not connected". */
static void sm_zk_req_start(sm_zk_t *zk, sm_zk_req_t *r)
{
    zk->outstanding++;
    if (zk->state != SM_ZK_ST_CONNECTED || zk->main == NULL) {
        r->gen = 0;
        r->zrc = ZCONNECTIONLOSS;
        sm_zk_queue_post(zk->q, &r->m.node);
        return;
    }
    sm_zk_req_send(zk, zk->main, r);
}

static void sm_zk_req_send(sm_zk_t *zk, sm_zk_conn_t *c, sm_zk_req_t *r)
{
    const char *path = r->parents ? r->anc : r->path;
    const char *data = r->parents ? NULL : r->data;
    int len = r->parents || r->data == NULL ? -1 : (int)r->len;
    int mode = r->parents ? ZOO_PERSISTENT : sm_zk_create_mode(r->flags);
    int rc = ZOK;

    r->gen = c->gen;
    r->zrc = ZOK;
    free(r->r_created);
    r->r_created = NULL;
    r->r_has_stat = 0;
    if (r->w != NULL)
        r->w->gen = c->gen;
    switch (r->op) {
    case SM_ZK_REQ_CREATE:
    case SM_ZK_REQ_ENSURE:
        rc = zoo_acreate2(c->zh, path, data, len, &ZOO_OPEN_ACL_UNSAFE, mode, sm_zk_on_created, r);
        break;
    case SM_ZK_REQ_GET:
        rc = r->w != NULL ? zoo_awget(c->zh, path, sm_zk_on_watch, r->w, sm_zk_on_data, r)
                          : zoo_aget(c->zh, path, 0, sm_zk_on_data, r);
        break;
    case SM_ZK_REQ_SET:
        rc = zoo_aset(c->zh, path, data, len, r->version, sm_zk_on_stat, r);
        break;
    case SM_ZK_REQ_DELETE:
        rc = zoo_adelete(c->zh, path, r->version, sm_zk_on_void, r);
        break;
    case SM_ZK_REQ_EXISTS:
        rc = r->w != NULL ? zoo_awexists(c->zh, path, sm_zk_on_watch, r->w, sm_zk_on_stat, r)
                          : zoo_aexists(c->zh, path, 0, sm_zk_on_stat, r);
        break;
    case SM_ZK_REQ_CHILDREN:
        rc = r->w != NULL
                 ? zoo_awget_children2(c->zh, path, sm_zk_on_watch, r->w, sm_zk_on_strings, r)
                 : zoo_aget_children2(c->zh, path, 0, sm_zk_on_strings, r);
        break;
    case SM_ZK_REQ_MULTI:
        for (size_t i = 0; i < r->n_ops; i++)
            r->zres[i].err = 1; /* "no answer": see sm_zk_req_done */
        rc = zoo_amulti(c->zh, (int)r->n_ops, r->zops, r->zres, sm_zk_on_void, r);
        break;
    default:
        rc = ZBADARGUMENTS;
        break;
    }
    /* The client refused the call and will not run the completion: deliver it ourselves,
     * through the queue so the owner is never called back from inside its own call. */
    if (rc != ZOK) {
        r->zrc = rc;
        sm_zk_queue_post(zk->q, &r->m.node);
    }
}

/* Moves a parents chain to its next step. Returns 1 if the request was sent again. */
static int sm_zk_req_parents_step(sm_zk_t *zk, sm_zk_req_t *r)
{
    sm_zk_conn_t *c = NULL;
    const char *next;

    if (zk->main != NULL && zk->main->gen == r->gen)
        c = zk->main;
    else if (zk->boot != NULL && zk->boot->gen == r->gen)
        c = zk->boot;
    if (c == NULL || zk->freeing)
        return 0;
    if (!r->parents) {
        /* The node's parent is missing: start with the top-level ancestor. */
        if (r->retried || r->zrc != ZNONODE)
            return 0;
        r->anc = strdup(r->path);
        if (r->anc == NULL)
            return 0;
        r->parents = 1;
        r->step = 0;
    } else if (r->zrc != ZOK && r->zrc != ZNODEEXISTS) {
        return 0;
    }
    next = strchr(r->path + r->step + 1, '/');
    if (next == NULL) {
        r->parents = 0;
        r->retried = 1;
    } else {
        r->step = (size_t)(next - r->path);
        memcpy(r->anc, r->path, r->step);
        r->anc[r->step] = '\0';
    }
    sm_zk_req_send(zk, c, r);
    return 1;
}

/* Settles the watch record of a finished request (invariant 4a). */
static void sm_zk_req_settle_watch(sm_zk_t *zk, sm_zk_req_t *r)
{
    sm_zk_watch_t *w = r->w;
    int registered;

    if (w == NULL)
        return;
    r->w = NULL;
    w->pending = 0;
    if (r->op == SM_ZK_REQ_EXISTS)
        registered = r->zrc == ZOK || r->zrc == ZNONODE;
    else
        registered = r->zrc == ZOK;
    if (r->gen == 0)
        registered = 0;
    if (w->delivered || !registered)
        sm_zk_watch_unlink_free(zk, w);
    else if (!sm_zk_gen_live(zk, w->gen) && !w->fired)
        sm_zk_watch_unlink_free(zk, w); /* handle closed: it can no longer fire */
}

/* A request's completion was popped: chain, or build the result and call the owner. */
static void sm_zk_req_done(sm_zk_t *zk, sm_zk_req_t *r)
{
    sm_zk_result_t res;
    sm_zk_stat_t st;
    sm_zk_op_result_t *ops = NULL;
    sm_zk_stat_t *op_stats = NULL;
    sm_zk_cb cb = r->cb;
    void *arg = r->arg;
    size_t i;

    if ((r->op == SM_ZK_REQ_CREATE && (r->flags & SM_ZK_PARENTS)) || r->op == SM_ZK_REQ_ENSURE) {
        if (sm_zk_req_parents_step(zk, r))
            return;
    }
    sm_zk_req_settle_watch(zk, r);
    zk->outstanding--;

    memset(&res, 0, sizeof(res));
    res.zerr = r->zrc; /* if an ancestor failed, its error, reported with the node's path */
    if (r->op == SM_ZK_REQ_ENSURE && r->zrc == ZNODEEXISTS)
        res.zerr = ZOK;
    res.err = r->oom ? SM_ERR_NOMEM : sm_zk_err_map(res.zerr);
    res.path = r->path;
    if (res.err == SM_OK) {
        res.created = r->r_created;
        res.data = r->r_data;
        res.len = r->r_len;
        res.children = (const char *const *)r->r_children;
        res.n_children = r->r_n;
        if (r->r_has_stat) {
            sm_zk_stat_from(&st, &r->r_stat);
            res.stat = &st;
        }
    }
    if (r->op == SM_ZK_REQ_MULTI) {
        ops = calloc(r->n_ops, sizeof(*ops));
        op_stats = calloc(r->n_ops, sizeof(*op_stats));
        if (ops == NULL || op_stats == NULL) {
            res.err = SM_ERR_NOMEM;
        } else {
            for (i = 0; i < r->n_ops; i++) {
                ops[i].zerr = r->zres[i].err == 1 ? r->zrc : r->zres[i].err;
                /* In a failed transaction the server reports ops before the failing one as
                 * ZOK: they were rolled back, so say "not applied". */
                if (r->zrc != ZOK && ops[i].zerr == ZOK)
                    ops[i].zerr = ZRUNTIMEINCONSISTENCY;
                ops[i].err = sm_zk_err_map(ops[i].zerr);
                if (ops[i].err == SM_OK && r->zops[i].type == ZOO_CREATE_OP)
                    ops[i].created = r->zstrs[3 * i + 2];
                if (ops[i].err == SM_OK && r->zops[i].type == ZOO_SETDATA_OP) {
                    sm_zk_stat_from(&op_stats[i], &r->zstats[i]);
                    ops[i].stat = &op_stats[i];
                }
            }
            res.ops = ops;
            res.n_ops = r->n_ops;
        }
    }
    if (cb != NULL)
        cb(zk, &res, arg); /* last use of zk (invariant 5) */
    free(ops);
    free(op_stats);
    sm_zk_req_free(r);
}

/* ---- session ------------------------------------------------------------------------------ */

static void sm_zk_boot_done(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    uint64_t gen = (uint64_t)(uintptr_t)arg;
    sm_errbuf_t eb;

    if (zk->freeing || zk->boot == NULL || zk->boot->gen != gen)
        return; /* stale: a newer boot handle runs its own ensure */
    zk->boot_busy = 0;
    if (res->err == SM_OK) {
        sm_zk_conn_close(zk, zk->boot);
        zk->state = SM_ZK_ST_CONNECTING;
        if (sm_zk_conn_open(zk, 0, &eb) != SM_OK) {
            sm_log_warn("zookeeper %s: %s; retrying", zk->connect, eb.msg);
            sm_zk_schedule_retry(zk);
        }
    } else if (res->err == SM_ERR_AGAIN || res->err == SM_ERR_CLOSED) {
        if (zk->boot_connected) /* else the next CONNECTED starts over */
            sm_zk_boot_submit(zk);
    } else {
        sm_log_error("zookeeper %s: cannot create chroot %s: %s; retrying in %d ms", zk->hosts,
                     zk->chroot, sm_zk_zerr_str(res->zerr), SM_ZK_RETRY_MS);
        sm_zk_schedule_retry(zk);
    }
}

static void sm_zk_boot_submit(sm_zk_t *zk)
{
    sm_zk_req_t *r;

    if (zk->boot == NULL || zk->boot_busy)
        return;
    if (sm_zk_req_new(zk, SM_ZK_REQ_ENSURE, zk->chroot, NULL, 0, sm_zk_boot_done,
                      (void *)(uintptr_t)zk->boot->gen, &r) != SM_OK) {
        sm_zk_schedule_retry(zk);
        return;
    }
    zk->boot_busy = 1;
    zk->outstanding++;
    sm_zk_req_send(zk, zk->boot, r);
}

static int sm_zk_state_lost(int state)
{
    return state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE;
}

static void sm_zk_boot_session(sm_zk_t *zk, const sm_zk_sess_msg_t *sm)
{
    sm_errbuf_t eb;

    if (sm->state == ZOO_CONNECTED_STATE) {
        zk->boot_connected = 1;
        sm_zk_boot_submit(zk);
    } else if (sm_zk_state_lost(sm->state)) {
        sm_zk_conn_close(zk, zk->boot);
        if (sm_zk_conn_open(zk, 1, &eb) != SM_OK) {
            sm_log_warn("zookeeper %s: %s; retrying", zk->hosts, eb.msg);
            sm_zk_schedule_retry(zk);
        }
    } else {
        zk->boot_connected = 0;
    }
}

static void sm_zk_main_expired(sm_zk_t *zk, int state)
{
    int had_session = zk->session_id != 0;

    sm_log_warn("zookeeper %s: session 0x%llx %s; opening a new one", zk->connect,
                (unsigned long long)zk->session_id,
                state == ZOO_AUTH_FAILED_STATE ? "failed authentication" : "expired");
    sm_zk_conn_close(zk, zk->main);
    zk->session_id = 0;
    zk->negotiated_ms = 0;
    zk->state = SM_ZK_ST_CONNECTING;
    sm_zk_open_main_or_retry(zk);
    if (had_session)
        sm_zk_emit(zk, SM_ZK_EV_EXPIRED);
}

static void sm_zk_main_session(sm_zk_t *zk, const sm_zk_sess_msg_t *sm)
{
    if (sm->state == ZOO_CONNECTED_STATE) {
        zk->session_id = sm->session_id;
        zk->negotiated_ms = sm->timeout_ms;
        if (zk->state == SM_ZK_ST_CONNECTED)
            return;
        zk->state = SM_ZK_ST_CONNECTED;
        zk->ever_connected = 1;
        sm_log_info("zookeeper %s: session 0x%llx established (timeout %d ms)", zk->connect,
                    (unsigned long long)zk->session_id, zk->negotiated_ms);
        sm_zk_emit(zk, SM_ZK_EV_CONNECTED);
    } else if (sm_zk_state_lost(sm->state)) {
        sm_zk_main_expired(zk, sm->state);
    } else if (zk->state == SM_ZK_ST_CONNECTED) {
        zk->state = SM_ZK_ST_DISCONNECTED;
        sm_log_warn("zookeeper %s: disconnected from session 0x%llx; reconnecting", zk->connect,
                    (unsigned long long)zk->session_id);
        sm_zk_emit(zk, SM_ZK_EV_DISCONNECTED);
    }
}

static void sm_zk_session_msg(sm_zk_t *zk, sm_zk_sess_msg_t *sm)
{
    sm_zk_sess_msg_t copy = *sm;

    free(sm);
    if (zk->freeing)
        return;
    if (zk->boot != NULL && zk->boot->gen == copy.gen)
        sm_zk_boot_session(zk, &copy);
    else if (zk->main != NULL && zk->main->gen == copy.gen)
        sm_zk_main_session(zk, &copy);
}

static void sm_zk_watch_msg(sm_zk_t *zk, sm_zk_watch_msg_t *wm)
{
    sm_zk_watch_t *w = wm->w;
    sm_zk_watch_cb cb = w->cb;
    void *arg = w->arg;
    int live = sm_zk_gen_live(zk, w->gen);
    sm_zk_watch_event_t ev;

    if (wm->type == ZOO_CREATED_EVENT)
        ev = SM_ZK_WATCH_CREATED;
    else if (wm->type == ZOO_DELETED_EVENT)
        ev = SM_ZK_WATCH_DELETED;
    else if (wm->type == ZOO_CHANGED_EVENT)
        ev = SM_ZK_WATCH_CHANGED;
    else
        ev = SM_ZK_WATCH_CHILD;
    if (w->pending)
        w->delivered = 1; /* its request's completion frees it */
    else
        sm_zk_watch_unlink_free(zk, w);
    if (live && cb != NULL)
        cb(zk, ev, wm->path, arg); /* last use of zk (invariant 5) */
    free(wm);
}

static void sm_zk_dispatch(sm_zk_t *zk, sm_zk_msg_t *m)
{
    switch (m->kind) {
    case SM_ZK_MSG_REQ:
        sm_zk_req_done(zk, (sm_zk_req_t *)m);
        break;
    case SM_ZK_MSG_SESSION:
        sm_zk_session_msg(zk, (sm_zk_sess_msg_t *)m);
        break;
    case SM_ZK_MSG_WATCH:
        sm_zk_watch_msg(zk, (sm_zk_watch_msg_t *)m);
        break;
    default:
        free(m);
        break;
    }
}

static void sm_zk_destroy(sm_zk_t *zk)
{
    sm_zk_watch_t *w, *next;

    for (w = zk->watches; w != NULL; w = next) {
        next = w->next;
        free(w);
    }
    sm_zk_queue_free(zk->q);
    if (zk->retry_ev != NULL)
        event_free(zk->retry_ev);
    if (zk->connect_ev != NULL)
        event_free(zk->connect_ev);
    free(zk->connect);
    free(zk->hosts);
    free(zk->chroot);
    free(zk->main_connect);
    free(zk);
}

static void sm_zk_leave(sm_zk_t *zk)
{
    zk->depth--;
    if (zk->freeing && zk->depth == 0)
        sm_zk_destroy(zk);
}

static void sm_zk_on_wake(void *arg)
{
    sm_zk_t *zk = arg;
    sm_zk_qnode_t *n;

    zk->depth++;
    while (!zk->freeing && (n = sm_zk_queue_pop(zk->q)) != NULL)
        sm_zk_dispatch(zk, (sm_zk_msg_t *)n);
    sm_zk_leave(zk);
}

static void sm_zk_schedule_retry(sm_zk_t *zk)
{
    struct timeval tv = {SM_ZK_RETRY_MS / 1000, (SM_ZK_RETRY_MS % 1000) * 1000};

    if (!zk->freeing)
        evtimer_add(zk->retry_ev, &tv);
}

static void sm_zk_on_retry(evutil_socket_t fd, short what, void *arg)
{
    sm_zk_t *zk = arg;
    sm_errbuf_t eb;

    (void)fd;
    (void)what;
    if (zk->freeing)
        return;
    if (zk->state == SM_ZK_ST_BOOT) {
        if (zk->boot == NULL) {
            if (sm_zk_conn_open(zk, 1, &eb) != SM_OK) {
                sm_log_warn("zookeeper %s: %s; retrying", zk->hosts, eb.msg);
                sm_zk_schedule_retry(zk);
            }
        } else if (zk->boot_connected) {
            sm_zk_boot_submit(zk);
        }
    } else if (zk->main == NULL) {
        sm_zk_open_main_or_retry(zk);
    }
}

static void sm_zk_on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    sm_zk_t *zk = arg;

    (void)fd;
    (void)what;
    if (zk->ever_connected || zk->freeing)
        return;
    sm_log_warn("ZooKeeper %s unreachable within %d ms", zk->connect, zk->connect_timeout_ms);
    zk->depth++;
    sm_zk_emit(zk, SM_ZK_EV_CONNECT_TIMEOUT);
    sm_zk_leave(zk);
}

/* ---- public: lifetime --------------------------------------------------------------------- */

sm_err_t sm_zk_new(struct event_base *base, const sm_zk_config_t *cfg, sm_zk_t **out,
                   sm_errbuf_t *eb)
{
    sm_zk_t *zk = NULL;
    sm_err_t err = SM_OK;
    size_t n;

    *out = NULL;
    if (base == NULL || cfg == NULL || cfg->session_timeout_ms <= 0 ||
        cfg->connect_timeout_ms < 0) {
        err = sm_errbuf_set(eb, SM_ERR_INVALID, "zookeeper: bad session settings");
        goto out;
    }
    zk = calloc(1, sizeof(*zk));
    if (zk == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    zk->base = base;
    zk->session_timeout_ms = cfg->session_timeout_ms;
    zk->connect_timeout_ms = cfg->connect_timeout_ms;
    zk->session_cb = cfg->session_cb;
    zk->arg = cfg->arg;
    err = sm_zk_parse_connect(cfg->connect, &zk->hosts, &zk->chroot, eb);
    if (err != SM_OK)
        goto out;
    n = strlen(zk->hosts) + strlen(zk->chroot) + 1;
    zk->connect = strdup(cfg->connect);
    zk->main_connect = malloc(n);
    if (zk->connect == NULL || zk->main_connect == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(zk->main_connect, n, "%s%s", zk->hosts, zk->chroot);
    err = sm_zk_queue_new(base, sm_zk_on_wake, zk, &zk->q, eb);
    if (err != SM_OK)
        goto out;
    zk->retry_ev = evtimer_new(base, sm_zk_on_retry, zk);
    zk->connect_ev = evtimer_new(base, sm_zk_on_connect_timeout, zk);
    if (zk->retry_ev == NULL || zk->connect_ev == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (cfg->connect_timeout_ms > 0) {
        struct timeval tv = {cfg->connect_timeout_ms / 1000,
                             (cfg->connect_timeout_ms % 1000) * 1000};
        evtimer_add(zk->connect_ev, &tv);
    }
    zk->state = zk->chroot[0] != '\0' ? SM_ZK_ST_BOOT : SM_ZK_ST_CONNECTING;
    err = sm_zk_conn_open(zk, zk->state == SM_ZK_ST_BOOT, eb);
    if (err != SM_OK)
        goto out;
    *out = zk;
    zk = NULL;
out:
    if (zk != NULL)
        sm_zk_destroy(zk);
    return err;
}

void sm_zk_free(sm_zk_t *zk)
{
    sm_zk_qnode_t *n;

    if (zk == NULL || zk->freeing)
        return;
    zk->depth++;
    /* Close first (joins the client's threads): afterwards the queue holds every pending
     * completion (invariant 1) and nothing else posts. */
    sm_zk_conn_close(zk, zk->boot);
    sm_zk_conn_close(zk, zk->main);
    zk->freeing = 1;
    zk->state = SM_ZK_ST_CLOSED;
    evtimer_del(zk->retry_ev);
    evtimer_del(zk->connect_ev);
    while ((n = sm_zk_queue_pop(zk->q)) != NULL)
        sm_zk_dispatch(zk, (sm_zk_msg_t *)n);
    if (zk->outstanding != 0)
        sm_log_error("zookeeper: %zu operations unaccounted for at close", zk->outstanding);
    sm_zk_leave(zk);
}

/* ---- public: accessors -------------------------------------------------------------------- */

int sm_zk_connected(const sm_zk_t *zk)
{
    return zk != NULL && zk->state == SM_ZK_ST_CONNECTED;
}

int64_t sm_zk_session_id(const sm_zk_t *zk)
{
    return zk != NULL ? zk->session_id : 0;
}

int sm_zk_session_timeout_ms(const sm_zk_t *zk)
{
    return zk != NULL ? zk->negotiated_ms : 0;
}

const char *sm_zk_connect_string(const sm_zk_t *zk)
{
    return zk != NULL ? zk->connect : "";
}

/* ---- public: operations ------------------------------------------------------------------- */

sm_err_t sm_zk_create(sm_zk_t *zk, const char *path, const void *data, size_t len, int flags,
                      sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r;
    sm_err_t err;

    if (flags & ~(SM_ZK_EPHEMERAL | SM_ZK_SEQUENTIAL | SM_ZK_PARENTS))
        return SM_ERR_INVALID;
    err = sm_zk_req_new(zk, SM_ZK_REQ_CREATE, path, data, len, cb, arg, &r);
    if (err != SM_OK)
        return err;
    r->flags = flags;
    sm_zk_req_start(zk, r);
    return SM_OK;
}

sm_err_t sm_zk_ensure_path(sm_zk_t *zk, const char *path, sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r;
    sm_err_t err;

    err = sm_zk_req_new(zk, SM_ZK_REQ_ENSURE, path, NULL, 0, cb, arg, &r);
    if (err != SM_OK)
        return err;
    sm_zk_req_start(zk, r);
    return SM_OK;
}

static sm_err_t sm_zk_read_op(sm_zk_t *zk, int op, const char *path, sm_zk_watch_cb wcb, void *warg,
                              sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r;
    sm_err_t err;

    err = sm_zk_req_new(zk, op, path, NULL, 0, cb, arg, &r);
    if (err != SM_OK)
        return err;
    err = sm_zk_req_watch(zk, r, wcb, warg);
    if (err != SM_OK) {
        sm_zk_req_free(r);
        return err;
    }
    sm_zk_req_start(zk, r);
    return SM_OK;
}

sm_err_t sm_zk_get(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                   void *arg)
{
    return sm_zk_read_op(zk, SM_ZK_REQ_GET, path, wcb, warg, cb, arg);
}

sm_err_t sm_zk_exists(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                      void *arg)
{
    return sm_zk_read_op(zk, SM_ZK_REQ_EXISTS, path, wcb, warg, cb, arg);
}

sm_err_t sm_zk_children(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                        void *arg)
{
    return sm_zk_read_op(zk, SM_ZK_REQ_CHILDREN, path, wcb, warg, cb, arg);
}

sm_err_t sm_zk_set(sm_zk_t *zk, const char *path, const void *data, size_t len, int32_t version,
                   sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r;
    sm_err_t err;

    if (version < -1)
        return SM_ERR_INVALID;
    err = sm_zk_req_new(zk, SM_ZK_REQ_SET, path, data, len, cb, arg, &r);
    if (err != SM_OK)
        return err;
    r->version = version;
    sm_zk_req_start(zk, r);
    return SM_OK;
}

sm_err_t sm_zk_delete(sm_zk_t *zk, const char *path, int32_t version, sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r;
    sm_err_t err;

    if (version < -1)
        return SM_ERR_INVALID;
    err = sm_zk_req_new(zk, SM_ZK_REQ_DELETE, path, NULL, 0, cb, arg, &r);
    if (err != SM_OK)
        return err;
    r->version = version;
    sm_zk_req_start(zk, r);
    return SM_OK;
}

static int sm_zk_op_valid(const sm_zk_op_t *op)
{
    if (!sm_zk_path_valid(op->path))
        return 0;
    if ((op->data == NULL && op->len > 0) || op->len > (size_t)INT_MAX)
        return 0;
    switch (op->type) {
    case SM_ZK_OP_CREATE:
        return (op->flags & ~(SM_ZK_EPHEMERAL | SM_ZK_SEQUENTIAL)) == 0;
    case SM_ZK_OP_DELETE:
    case SM_ZK_OP_SET:
        return op->version >= -1;
    case SM_ZK_OP_CHECK:
        return op->version >= 0;
    }
    return 0;
}

/* Copies op i into the request's own storage and initialises the client's zoo_op_t. */
static sm_err_t sm_zk_multi_copy_op(sm_zk_req_t *r, size_t i, const sm_zk_op_t *op)
{
    char **s = &r->zstrs[3 * i];
    size_t cap = strlen(op->path) + 16; /* room for a 10-digit sequence suffix */

    s[0] = strdup(op->path);
    if (s[0] == NULL)
        return SM_ERR_NOMEM;
    if (op->len > 0) {
        s[1] = malloc(op->len);
        if (s[1] == NULL)
            return SM_ERR_NOMEM;
        memcpy(s[1], op->data, op->len);
    }
    switch (op->type) {
    case SM_ZK_OP_CREATE:
        s[2] = calloc(1, cap);
        if (s[2] == NULL)
            return SM_ERR_NOMEM;
        zoo_create_op_init(&r->zops[i], s[0], s[1], op->len > 0 ? (int)op->len : -1,
                           &ZOO_OPEN_ACL_UNSAFE, sm_zk_create_mode(op->flags), s[2], (int)cap);
        break;
    case SM_ZK_OP_DELETE:
        zoo_delete_op_init(&r->zops[i], s[0], op->version);
        break;
    case SM_ZK_OP_SET:
        zoo_set_op_init(&r->zops[i], s[0], s[1], op->len > 0 ? (int)op->len : -1, op->version,
                        &r->zstats[i]);
        break;
    case SM_ZK_OP_CHECK:
        zoo_check_op_init(&r->zops[i], s[0], op->version);
        break;
    }
    return SM_OK;
}

sm_err_t sm_zk_multi(sm_zk_t *zk, const sm_zk_op_t *ops, size_t n, sm_zk_cb cb, void *arg)
{
    sm_zk_req_t *r = NULL;
    sm_err_t err;
    size_t i;

    if (ops == NULL || n == 0 || n > SM_ZK_MULTI_MAX)
        return SM_ERR_INVALID;
    for (i = 0; i < n; i++) {
        if (!sm_zk_op_valid(&ops[i]))
            return SM_ERR_INVALID;
    }
    err = sm_zk_req_new(zk, SM_ZK_REQ_MULTI, NULL, NULL, 0, cb, arg, &r);
    if (err != SM_OK)
        return err;
    r->n_ops = n;
    r->zops = calloc(n, sizeof(*r->zops));
    r->zres = calloc(n, sizeof(*r->zres));
    r->zstats = calloc(n, sizeof(*r->zstats));
    r->zstrs = calloc(3 * n, sizeof(char *));
    if (r->zops == NULL || r->zres == NULL || r->zstats == NULL || r->zstrs == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n && err == SM_OK; i++)
        err = sm_zk_multi_copy_op(r, i, &ops[i]);
    if (err != SM_OK)
        goto out;
    sm_zk_req_start(zk, r);
    r = NULL;
out:
    sm_zk_req_free(r);
    return err;
}
