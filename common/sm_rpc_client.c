/*
 * sm_rpc (client half): one connection to one peer, calls with deadlines, responses matched
 * in order, reconnection with exponential backoff. The server half and the shared frame
 * helpers are in sm_rpc.c; the contract of both is sm_rpc.h.
 *
 * DESIGN NOTES (client)
 *
 * Connection states:
 *
 *            new()                 connected
 *   (start) -------> CONNECTING ---------------> CONNECTED
 *                      ^   |  fail / timeout        |  EOF, error, bad frame,
 *           backoff    |   v                        |  unexpected correlation id
 *           timer      BACKOFF <--------------------+  (in-flight calls fail: SM_ERR_CLOSED)
 *
 *   any state --sm_rpc_client_free--> closing (every pending call fails with SM_ERR_CLOSED)
 *
 * Transitions: sm_rpc_client_connect (BACKOFF -> CONNECTING), sm_rpc_client_event_cb
 * (CONNECTING -> CONNECTED or BACKOFF), sm_rpc_client_disconnect (CONNECTED -> BACKOFF).
 * The backoff starts at backoff_min_ms, doubles after each failed attempt up to
 * backoff_max_ms, and is reset by a successful connection.
 *
 * Invariants:
 *   1. `queued` holds accepted calls not yet written, in call order; `inflight` holds written
 *      calls in write order, which is correlation-id order and the order responses come back.
 *   2. `queued` is empty while CONNECTED: connecting flushes it, and new calls go straight out.
 *   3. A call completes at most once: sm_rpc_client_complete clears `done` before calling it.
 *      A call that timed out after being written stays in `inflight` as a tombstone
 *      (done == NULL) so its late response still lines up, and is then dropped silently.
 *   4. npending counts calls whose callback has not run yet (tombstones excluded).
 *   5. Re-entrancy: every entry from libevent and sm_rpc_client_free hold `depth` while they
 *      run and re-check `closing` after each user callback. The memory goes only when
 *      closing and depth drops to 0, so a callback may free the client at any point.
 */
#include "sm_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "sm_log.h"

typedef enum sm_rpc_client_state {
    SM_RPC_CLIENT_BACKOFF,
    SM_RPC_CLIENT_CONNECTING,
    SM_RPC_CLIENT_CONNECTED,
} sm_rpc_client_state_t;

typedef struct sm_rpc_pending sm_rpc_pending_t;

typedef struct sm_rpc_list {
    sm_rpc_pending_t *head, *tail;
} sm_rpc_list_t;

struct sm_rpc_pending {
    sm_rpc_client_t *client;
    sm_rpc_list_t *list; /* the list holding it, NULL when unlinked */
    sm_rpc_pending_t *prev, *next;
    int64_t id;
    struct evbuffer *frame; /* the packed request until written */
    struct event *timer;    /* deadline, NULL when none or completed */
    sm_rpc_done_fn done;    /* NULL once completed (invariant 3) */
    void *arg;
};

struct sm_rpc_client {
    struct event_base *base;
    char *host;
    uint16_t port;
    char peer[128]; /* "host:port" for messages */
    uint32_t max_frame;
    uint32_t backoff_min_ms, backoff_max_ms, backoff_ms;
    uint32_t connect_timeout_ms;
    sm_rpc_state_fn on_state;
    void *state_arg;
    sm_rpc_client_state_t state;
    struct bufferevent *bev; /* non-NULL while CONNECTING or CONNECTED */
    struct event *reconnect;
    unsigned attempt;     /* picks among the resolved addresses */
    bool quiet;           /* connect failures already reported since the last connection */
    sm_rpc_list_t queued; /* invariant 1 */
    sm_rpc_list_t inflight;
    int64_t next_id;
    size_t npending; /* invariant 4 */
    unsigned depth;  /* invariant 5 */
    bool closing;
};

/* ---- lists and calls --------------------------------------------------------------------- */

static void sm_rpc_list_push(sm_rpc_list_t *l, sm_rpc_pending_t *p)
{
    p->list = l;
    p->next = NULL;
    p->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
}

static void sm_rpc_list_unlink(sm_rpc_pending_t *p)
{
    sm_rpc_list_t *l = p->list;

    if (l == NULL)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->list = NULL;
    p->prev = p->next = NULL;
}

static void sm_rpc_pending_free(sm_rpc_pending_t *p)
{
    if (p == NULL)
        return;
    sm_rpc_list_unlink(p);
    if (p->timer != NULL)
        event_free(p->timer);
    if (p->frame != NULL)
        evbuffer_free(p->frame);
    free(p);
}

/* Runs p's callback once (invariant 3). The caller holds depth and re-checks `closing`. */
static void sm_rpc_client_complete(sm_rpc_client_t *c, sm_rpc_pending_t *p, sm_err_t err,
                                   const Samsa__Envelope *resp)
{
    sm_rpc_done_fn done = p->done;

    if (done == NULL)
        return;
    p->done = NULL;
    if (p->timer != NULL) {
        event_free(p->timer);
        p->timer = NULL;
    }
    c->npending--;
    done(p->arg, err, resp);
}

/* Completes and frees every call of l with err, oldest first. Only sm_rpc_client_free uses
 * it: `closing` is set, so callbacks cannot add calls and l only shrinks. */
static void sm_rpc_client_fail_list(sm_rpc_client_t *c, sm_rpc_list_t *l, sm_err_t err)
{
    while (l->head != NULL) {
        sm_rpc_pending_t *p = l->head;
        sm_rpc_list_unlink(p);
        sm_rpc_client_complete(c, p, err, NULL);
        sm_rpc_pending_free(p);
    }
}

static void sm_rpc_client_enter(sm_rpc_client_t *c)
{
    c->depth++;
}

/* Drops one level of depth; releases the memory once closing and no frame is left. */
static void sm_rpc_client_leave(sm_rpc_client_t *c)
{
    c->depth--;
    if (c->depth > 0 || !c->closing)
        return;
    if (c->reconnect != NULL)
        event_free(c->reconnect);
    free(c->host);
    free(c);
}

/* ---- connection -------------------------------------------------------------------------- */

static void sm_rpc_client_connect(sm_rpc_client_t *c);

static void sm_rpc_client_schedule(sm_rpc_client_t *c)
{
    struct timeval tv;

    c->state = SM_RPC_CLIENT_BACKOFF;
    tv.tv_sec = (time_t)(c->backoff_ms / 1000);
    tv.tv_usec = (suseconds_t)(c->backoff_ms % 1000) * 1000;
    evtimer_add(c->reconnect, &tv);
    c->backoff_ms = c->backoff_ms > c->backoff_max_ms / 2 ? c->backoff_max_ms : c->backoff_ms * 2;
}

static void sm_rpc_client_connect_failed(sm_rpc_client_t *c, const char *why)
{
    if (c->bev != NULL) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (c->quiet) {
        sm_log_debug("rpc client: connect to %s failed: %s", c->peer, why);
    } else {
        sm_log_info("rpc client: connect to %s failed: %s (retrying with backoff)", c->peer, why);
        c->quiet = true;
    }
    sm_rpc_client_schedule(c);
}

/* CONNECTED -> BACKOFF: fails the in-flight calls; queued ones wait for the next connection. */
static void sm_rpc_client_disconnect(sm_rpc_client_t *c, const char *why)
{
    sm_log_info("rpc client: connection to %s lost: %s", c->peer, why);
    bufferevent_free(c->bev);
    c->bev = NULL;
    c->quiet = false;
    sm_rpc_client_schedule(c);
    while (!c->closing && c->inflight.head != NULL) {
        sm_rpc_pending_t *p = c->inflight.head;
        sm_rpc_list_unlink(p);
        sm_rpc_client_complete(c, p, SM_ERR_CLOSED, NULL);
        sm_rpc_pending_free(p);
    }
    if (!c->closing && c->on_state != NULL)
        c->on_state(c->state_arg, c, false);
}

/* Moves p's frame to the connection and p to `inflight`. */
static sm_err_t sm_rpc_client_send(sm_rpc_client_t *c, sm_rpc_pending_t *p)
{
    if (evbuffer_add_buffer(bufferevent_get_output(c->bev), p->frame) != 0)
        return SM_ERR_NOMEM;
    evbuffer_free(p->frame);
    p->frame = NULL;
    sm_rpc_list_unlink(p);
    sm_rpc_list_push(&c->inflight, p);
    return SM_OK;
}

static void sm_rpc_client_read_cb(struct bufferevent *bev, void *ctx)
{
    sm_rpc_client_t *c = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);

    sm_rpc_client_enter(c);
    while (!c->closing && c->state == SM_RPC_CLIENT_CONNECTED) {
        Samsa__Envelope *resp = NULL;
        sm_rpc_pending_t *p = c->inflight.head;
        sm_err_t err = sm_rpc_frame_take(in, c->max_frame, &resp);

        if (err == SM_ERR_AGAIN)
            break;
        if (err != SM_OK) {
            sm_log_warn("rpc client: bad frame from %s (%s)", c->peer, sm_err_str(err));
            sm_rpc_client_disconnect(c, "bad frame");
            break;
        }
        if (p == NULL || !resp->has_correlation_id || resp->correlation_id != p->id) {
            sm_log_warn("rpc client: %s answered correlation id %lld, expected %lld", c->peer,
                        (long long)resp->correlation_id, p != NULL ? (long long)p->id : -1LL);
            samsa__envelope__free_unpacked(resp, NULL);
            sm_rpc_client_disconnect(c, "unexpected correlation id");
            break;
        }
        sm_rpc_list_unlink(p);
        sm_rpc_client_complete(c, p, SM_OK, resp);
        samsa__envelope__free_unpacked(resp, NULL);
        sm_rpc_pending_free(p);
    }
    sm_rpc_client_leave(c);
}

/* TCP lets a connect to a loopback port nobody listens on, inside the ephemeral range, pick
 * that very port as its source and connect to itself. Such a "connection" would sit on the
 * port the real server needs, so it counts as a failed attempt. */
static bool sm_rpc_client_self_connected(struct bufferevent *bev)
{
    struct sockaddr_storage local, remote;
    socklen_t llen = sizeof(local), rlen = sizeof(remote);
    evutil_socket_t fd = bufferevent_getfd(bev);

    if (fd < 0 || getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
        getpeername(fd, (struct sockaddr *)&remote, &rlen) != 0)
        return false;
    return llen == rlen && memcmp(&local, &remote, llen) == 0;
}

static void sm_rpc_client_event_cb(struct bufferevent *bev, short what, void *ctx)
{
    sm_rpc_client_t *c = ctx;

    sm_rpc_client_enter(c);
    if (c->state == SM_RPC_CLIENT_CONNECTING) {
        if ((what & BEV_EVENT_CONNECTED) && sm_rpc_client_self_connected(bev)) {
            sm_rpc_client_connect_failed(c, "connected to itself (nobody listens)");
        } else if (what & BEV_EVENT_CONNECTED) {
            c->state = SM_RPC_CLIENT_CONNECTED;
            c->backoff_ms = c->backoff_min_ms;
            c->quiet = false;
            bufferevent_set_timeouts(bev, NULL, NULL);
            sm_rpc_set_nodelay(bev);
            bufferevent_enable(bev, EV_READ | EV_WRITE);
            sm_log_debug("rpc client: connected to %s", c->peer);
            while (c->queued.head != NULL && c->state == SM_RPC_CLIENT_CONNECTED) {
                if (sm_rpc_client_send(c, c->queued.head) != SM_OK)
                    sm_rpc_client_disconnect(c, "out of memory");
            }
            if (!c->closing && c->state == SM_RPC_CLIENT_CONNECTED && c->on_state != NULL)
                c->on_state(c->state_arg, c, true);
        } else {
            int e = EVUTIL_SOCKET_ERROR();
            sm_rpc_client_connect_failed(
                c, (what & BEV_EVENT_TIMEOUT) ? "timed out" : evutil_socket_error_to_string(e));
        }
    } else if (c->state == SM_RPC_CLIENT_CONNECTED) {
        if (what & BEV_EVENT_EOF) {
            sm_rpc_client_disconnect(c, "peer closed the connection");
        } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
            int e = EVUTIL_SOCKET_ERROR();
            sm_rpc_client_disconnect(c, evutil_socket_error_to_string(e));
        }
    }
    sm_rpc_client_leave(c);
}

/* BACKOFF -> CONNECTING (or back to BACKOFF when the attempt cannot even start). */
static void sm_rpc_client_connect(sm_rpc_client_t *c)
{
    struct evutil_addrinfo hints, *ai = NULL, *pick;
    struct timeval tv;
    char portstr[8];
    unsigned n = 0;
    int r;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)c->port);
    r = evutil_getaddrinfo(c->host, portstr, &hints, &ai);
    if (r != 0 || ai == NULL) {
        sm_rpc_client_connect_failed(c, evutil_gai_strerror(r));
        goto out;
    }
    /* Successive attempts walk the resolved addresses (e.g. ::1, then 127.0.0.1). */
    for (pick = ai; pick != NULL; pick = pick->ai_next)
        n++;
    pick = ai;
    for (unsigned i = c->attempt++ % n; i > 0; i--)
        pick = pick->ai_next;
    c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        sm_rpc_client_connect_failed(c, "out of memory");
        goto out;
    }
    bufferevent_setcb(c->bev, sm_rpc_client_read_cb, NULL, sm_rpc_client_event_cb, c);
    tv.tv_sec = (time_t)(c->connect_timeout_ms / 1000);
    tv.tv_usec = (suseconds_t)(c->connect_timeout_ms % 1000) * 1000;
    bufferevent_set_timeouts(c->bev, NULL, &tv);
    c->state = SM_RPC_CLIENT_CONNECTING;
    /* libevent 2.1 reports a refused connect through the event callback, later, on the loop;
     * only a failure to start the attempt returns -1 here. */
    if (bufferevent_socket_connect(c->bev, pick->ai_addr, (int)pick->ai_addrlen) != 0) {
        int e = EVUTIL_SOCKET_ERROR();
        sm_rpc_client_connect_failed(c, evutil_socket_error_to_string(e));
    }
out:
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
}

static void sm_rpc_client_reconnect_cb(evutil_socket_t fd, short what, void *ctx)
{
    sm_rpc_client_t *c = ctx;

    (void)fd;
    (void)what;
    sm_rpc_client_enter(c);
    if (!c->closing && c->state == SM_RPC_CLIENT_BACKOFF)
        sm_rpc_client_connect(c);
    sm_rpc_client_leave(c);
}

static void sm_rpc_client_timeout_cb(evutil_socket_t fd, short what, void *ctx)
{
    sm_rpc_pending_t *p = ctx;
    sm_rpc_client_t *c = p->client;

    (void)fd;
    (void)what;
    sm_rpc_client_enter(c);
    if (p->list == &c->queued) {
        sm_rpc_list_unlink(p);
        sm_rpc_client_complete(c, p, SM_ERR_TIMEOUT, NULL);
        sm_rpc_pending_free(p);
    } else {
        /* Written already: keep it as a tombstone (invariant 3). p may be freed by the
         * callback (through sm_rpc_client_free), so it is not touched afterwards. */
        sm_rpc_client_complete(c, p, SM_ERR_TIMEOUT, NULL);
    }
    sm_rpc_client_leave(c);
}

/* ---- public ------------------------------------------------------------------------------ */

sm_err_t sm_rpc_client_new(struct event_base *base, const char *host, uint16_t port,
                           const sm_rpc_client_opts_t *opts, sm_rpc_client_t **out)
{
    sm_rpc_client_opts_t o = {0};
    sm_rpc_client_t *c = NULL;
    sm_err_t err = SM_OK;

    *out = NULL;
    if (base == NULL || host == NULL || host[0] == '\0' || port == 0)
        return SM_ERR_INVALID;
    if (opts != NULL)
        o = *opts;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SM_ERR_NOMEM;
    c->base = base;
    c->port = port;
    c->host = strdup(host);
    c->reconnect = evtimer_new(base, sm_rpc_client_reconnect_cb, c);
    if (c->host == NULL || c->reconnect == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    snprintf(c->peer, sizeof(c->peer), strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host,
             (unsigned)port);
    c->max_frame = o.max_frame > 0 ? o.max_frame : SM_RPC_DEFAULT_MAX_FRAME;
    c->backoff_min_ms = o.backoff_min_ms > 0 ? o.backoff_min_ms : 50;
    c->backoff_max_ms = o.backoff_max_ms > 0 ? o.backoff_max_ms : 2000;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms;
    c->backoff_ms = c->backoff_min_ms;
    c->connect_timeout_ms = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : 5000;
    c->on_state = o.on_state;
    c->state_arg = o.state_arg;
    c->next_id = 1;
    c->state = SM_RPC_CLIENT_BACKOFF;
    sm_rpc_client_connect(c);
    *out = c;
    c = NULL;
out:
    if (c != NULL) {
        if (c->reconnect != NULL)
            event_free(c->reconnect);
        free(c->host);
        free(c);
    }
    return err;
}

sm_err_t sm_rpc_client_call(sm_rpc_client_t *c, Samsa__Envelope *req, uint32_t timeout_ms,
                            sm_rpc_done_fn done, void *arg)
{
    sm_rpc_pending_t *p = NULL;
    sm_err_t err = SM_OK;

    if (c->closing)
        return SM_ERR_CLOSED;
    if (done == NULL || req == NULL)
        return SM_ERR_INVALID;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return SM_ERR_NOMEM;
    p->client = c;
    p->id = c->next_id++;
    req->has_correlation_id = 1;
    req->correlation_id = p->id;
    p->frame = evbuffer_new();
    if (p->frame == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    err = sm_rpc_frame_pack(p->frame, req, c->max_frame);
    if (err != SM_OK)
        goto out;
    if (timeout_ms > 0) {
        struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
        p->timer = evtimer_new(c->base, sm_rpc_client_timeout_cb, p);
        if (p->timer == NULL || evtimer_add(p->timer, &tv) != 0) {
            err = SM_ERR_NOMEM;
            goto out;
        }
    }
    if (c->state == SM_RPC_CLIENT_CONNECTED) {
        err = sm_rpc_client_send(c, p);
        if (err != SM_OK)
            goto out;
    } else {
        sm_rpc_list_push(&c->queued, p);
    }
    p->done = done;
    p->arg = arg;
    c->npending++;
    p = NULL;
out:
    sm_rpc_pending_free(p);
    return err;
}

bool sm_rpc_client_connected(const sm_rpc_client_t *c)
{
    return c->state == SM_RPC_CLIENT_CONNECTED && !c->closing;
}

size_t sm_rpc_client_pending(const sm_rpc_client_t *c)
{
    return c->npending;
}

void sm_rpc_client_free(sm_rpc_client_t *c)
{
    if (c == NULL || c->closing)
        return;
    c->closing = true;
    sm_rpc_client_enter(c);
    if (c->bev != NULL) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    evtimer_del(c->reconnect);
    sm_rpc_client_fail_list(c, &c->inflight, SM_ERR_CLOSED);
    sm_rpc_client_fail_list(c, &c->queued, SM_ERR_CLOSED);
    sm_rpc_client_leave(c);
}
