/*
 * sm_rpc (server half and shared helpers): accepts control-RPC connections, decodes request
 * Envelopes, hands them to one handler on the loop thread, and writes the answers back in
 * request order. The client half is sm_rpc_client.c; the contract of both is sm_rpc.h.
 *
 * DESIGN NOTES (server)
 *
 *   listener --accept--> conn --read cb: frame -> Envelope -> call --> handler
 *                         |                                              |
 *                         +-- calls FIFO (request order) <-- reply ------+
 *                                 |
 *                                 +-- head answered? move its frame to the output, pop, repeat
 *
 * Invariants:
 *   1. conn->head..tail holds, in request order, every call of the connection that has not
 *      yet been written: unanswered calls (frame == NULL) and answered ones waiting behind an
 *      unanswered call (frame != NULL, req already freed).
 *   2. Nothing is written for a call until every earlier call on the connection is written,
 *      so responses leave in request order whatever order the handler answers in.
 *   3. A call belongs to its connection while conn != NULL. When the connection closes,
 *      answered calls are freed with it and unanswered ones become orphans (conn == NULL)
 *      that belong to the handler alone; the reply frees them.
 *   4. A connection is never freed while its read callback is on the stack: code that wants
 *      it closed then sets close_reason and the read callback closes it on the way out.
 *
 * Call states (per call):
 *
 *   QUEUED (conn, no frame) --reply--> ANSWERED (conn, frame) --head flush--> freed
 *      |                         \------------------- if it is the head --> freed
 *      +--conn closes--> ORPHAN (no conn) --reply--> freed (answer dropped)
 */
#include "sm_rpc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "sm_frame.h"
#include "sm_log.h"

/* Kafka error codes the RPC layer itself produces. */
#define SM_RPC_KERR_UNKNOWN_SERVER_ERROR (-1)
#define SM_RPC_KERR_MESSAGE_TOO_LARGE    10

typedef struct sm_rpc_conn sm_rpc_conn_t;

struct sm_rpc_call {
    sm_rpc_conn_t *conn;    /* NULL once orphaned (invariant 3) */
    Samsa__Envelope *req;   /* owned; freed when answered */
    struct evbuffer *frame; /* the packed answer, NULL until answered */
    int64_t correlation_id;
    Samsa__RpcType type;
    sm_rpc_call_t *next;
};

struct sm_rpc_conn {
    sm_rpc_server_t *srv;
    struct bufferevent *bev;
    char peer[64];
    sm_rpc_call_t *head, *tail; /* invariant 1 */
    sm_rpc_conn_t *prev, *next;
    bool in_read;             /* the read callback is on the stack (invariant 4) */
    const char *close_reason; /* set: close when the read callback returns */
};

struct sm_rpc_server {
    struct event_base *base;
    struct evconnlistener *listener;
    sm_rpc_handler_fn handler;
    void *arg;
    uint32_t max_frame;
    uint16_t port;
    char addr[64];
    sm_rpc_conn_t *conns;
    size_t nconns;
};

/* ---- shared helpers ---------------------------------------------------------------------- */

sm_err_t sm_rpc_frame_pack(struct evbuffer *out, const Samsa__Envelope *env, uint32_t max_frame)
{
    uint8_t hdr[SM_FRAME_HEADER_SIZE];
    struct evbuffer_iovec vec;
    size_t n = samsa__envelope__get_packed_size(env);

    if (n > max_frame || n > SM_FRAME_MAX_PAYLOAD)
        return SM_ERR_TOO_LARGE;
    sm_frame_put_header(hdr, (uint32_t)n);
    if (evbuffer_expand(out, sizeof(hdr) + n) != 0 || evbuffer_add(out, hdr, sizeof(hdr)) != 0)
        return SM_ERR_NOMEM;
    if (n == 0)
        return SM_OK;
    /* Pack straight into the buffer's free space: no intermediate copy. */
    if (evbuffer_reserve_space(out, (ev_ssize_t)n, &vec, 1) != 1 || vec.iov_len < n)
        return SM_ERR_NOMEM;
    if (samsa__envelope__pack(env, vec.iov_base) != n)
        return SM_ERR_CORRUPT;
    vec.iov_len = n;
    if (evbuffer_commit_space(out, &vec, 1) != 0)
        return SM_ERR_NOMEM;
    return SM_OK;
}

sm_err_t sm_rpc_frame_take(struct evbuffer *in, uint32_t max_frame, Samsa__Envelope **out)
{
    uint32_t n;
    const uint8_t *p = NULL;
    sm_err_t err;

    *out = NULL;
    err = sm_frame_peek_evbuffer(in, max_frame, &n, NULL);
    if (err != SM_OK)
        return err;
    evbuffer_drain(in, SM_FRAME_HEADER_SIZE);
    if (n > 0) {
        p = evbuffer_pullup(in, (ev_ssize_t)n);
        if (p == NULL)
            return SM_ERR_NOMEM;
    }
    *out = samsa__envelope__unpack(NULL, n, p);
    evbuffer_drain(in, n);
    return *out != NULL ? SM_OK : SM_ERR_CORRUPT;
}

const char *sm_rpc_payload_name(const Samsa__Envelope *env)
{
    const ProtobufCFieldDescriptor *f;

    if (env == NULL || env->payload_case == SAMSA__ENVELOPE__PAYLOAD__NOT_SET)
        return "none";
    f = protobuf_c_message_descriptor_get_field(&samsa__envelope__descriptor,
                                                (unsigned)env->payload_case);
    return f != NULL ? f->name : "unknown";
}

void sm_rpc_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
        evutil_inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        port = ntohs(in4->sin_port);
        snprintf(buf, len, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(buf, len, "[%s]:%u", host, port);
    } else {
        snprintf(buf, len, "(family %d)", (int)sa->sa_family);
    }
}

void sm_rpc_set_nodelay(struct bufferevent *bev)
{
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(bev);

    /* Best effort: small request/response frames must not wait for Nagle. */
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- calls ------------------------------------------------------------------------------- */

static void sm_rpc_call_free(sm_rpc_call_t *call)
{
    if (call == NULL)
        return;
    if (call->req != NULL)
        samsa__envelope__free_unpacked(call->req, NULL);
    if (call->frame != NULL)
        evbuffer_free(call->frame);
    free(call);
}

const Samsa__Envelope *sm_rpc_call_request(const sm_rpc_call_t *call)
{
    return call->req;
}

const char *sm_rpc_call_peer(const sm_rpc_call_t *call)
{
    return call->conn != NULL ? call->conn->peer : "(closed)";
}

/* ---- connections ------------------------------------------------------------------------- */

/* Closes conn now (invariants 3 and 4: the caller is not inside conn's read callback). */
static void sm_rpc_conn_close(sm_rpc_conn_t *conn, const char *reason)
{
    sm_rpc_server_t *srv = conn->srv;
    sm_rpc_call_t *call = conn->head;

    sm_log_debug("rpc server %s: closing connection from %s: %s", srv->addr, conn->peer, reason);
    while (call != NULL) {
        sm_rpc_call_t *next = call->next;
        call->next = NULL;
        if (call->frame != NULL)
            sm_rpc_call_free(call);
        else
            call->conn = NULL; /* now the handler's alone */
        call = next;
    }
    bufferevent_free(conn->bev);
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    srv->nconns--;
    free(conn);
}

/* Closes conn now, or when its read callback returns if that is on the stack. */
static void sm_rpc_conn_close_soon(sm_rpc_conn_t *conn, const char *reason)
{
    if (conn->in_read) {
        if (conn->close_reason == NULL)
            conn->close_reason = reason;
        return;
    }
    sm_rpc_conn_close(conn, reason);
}

/* Removes call from conn's FIFO (a scan: only failure paths need it). */
static void sm_rpc_conn_unlink(sm_rpc_conn_t *conn, sm_rpc_call_t *call)
{
    sm_rpc_call_t *prev = NULL, *cur = conn->head;

    while (cur != NULL && cur != call) {
        prev = cur;
        cur = cur->next;
    }
    if (cur == NULL)
        return;
    if (prev != NULL)
        prev->next = call->next;
    else
        conn->head = call->next;
    if (conn->tail == call)
        conn->tail = prev;
    call->next = NULL;
    call->conn = NULL;
}

/* Writes every answered call at the head of the FIFO (invariant 2). */
static sm_err_t sm_rpc_conn_flush(sm_rpc_conn_t *conn)
{
    struct evbuffer *out = bufferevent_get_output(conn->bev);

    while (conn->head != NULL && conn->head->frame != NULL) {
        sm_rpc_call_t *call = conn->head;
        if (evbuffer_add_buffer(out, call->frame) != 0)
            return SM_ERR_NOMEM;
        conn->head = call->next;
        if (conn->head == NULL)
            conn->tail = NULL;
        sm_rpc_call_free(call);
    }
    return SM_OK;
}

static void sm_rpc_conn_read_cb(struct bufferevent *bev, void *ctx)
{
    sm_rpc_conn_t *conn = ctx;
    sm_rpc_server_t *srv = conn->srv;
    struct evbuffer *in = bufferevent_get_input(bev);

    conn->in_read = true;
    while (conn->close_reason == NULL) {
        Samsa__Envelope *req = NULL;
        sm_rpc_call_t *call;
        sm_err_t err = sm_rpc_frame_take(in, srv->max_frame, &req);

        if (err == SM_ERR_AGAIN)
            break;
        if (err != SM_OK) {
            sm_log_warn("rpc server %s: bad frame from %s (%s); closing the connection", srv->addr,
                        conn->peer, sm_err_str(err));
            conn->close_reason = "bad frame";
            break;
        }
        call = calloc(1, sizeof(*call));
        if (call == NULL) {
            samsa__envelope__free_unpacked(req, NULL);
            conn->close_reason = "out of memory";
            break;
        }
        call->conn = conn;
        call->req = req;
        call->correlation_id = req->correlation_id;
        call->type = req->has_type ? req->type : SAMSA__RPC_TYPE__RPC_TYPE_UNKNOWN;
        if (conn->tail != NULL)
            conn->tail->next = call;
        else
            conn->head = call;
        conn->tail = call;
        srv->handler(srv->arg, call, req);
    }
    conn->in_read = false;
    if (conn->close_reason != NULL)
        sm_rpc_conn_close(conn, conn->close_reason);
}

static void sm_rpc_conn_event_cb(struct bufferevent *bev, short what, void *ctx)
{
    sm_rpc_conn_t *conn = ctx;

    (void)bev;
    if (what & BEV_EVENT_EOF) {
        sm_rpc_conn_close(conn, "peer closed");
    } else if (what & BEV_EVENT_ERROR) {
        int e = EVUTIL_SOCKET_ERROR();
        sm_log_info("rpc server %s: connection from %s failed: %s", conn->srv->addr, conn->peer,
                    evutil_socket_error_to_string(e));
        sm_rpc_conn_close(conn, "socket error");
    }
}

static void sm_rpc_server_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
                                    struct sockaddr *sa, int socklen, void *ctx)
{
    sm_rpc_server_t *srv = ctx;
    sm_rpc_conn_t *conn = calloc(1, sizeof(*conn));

    (void)lev;
    (void)socklen;
    if (conn == NULL) {
        evutil_closesocket(fd);
        return;
    }
    conn->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (conn->bev == NULL) {
        evutil_closesocket(fd);
        free(conn);
        return;
    }
    conn->srv = srv;
    sm_rpc_format_addr(sa, conn->peer, sizeof(conn->peer));
    sm_rpc_set_nodelay(conn->bev);
    bufferevent_setcb(conn->bev, sm_rpc_conn_read_cb, NULL, sm_rpc_conn_event_cb, conn);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
    conn->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = conn;
    srv->conns = conn;
    srv->nconns++;
    sm_log_debug("rpc server %s: connection from %s", srv->addr, conn->peer);
}

static void sm_rpc_server_accept_error_cb(struct evconnlistener *lev, void *ctx)
{
    sm_rpc_server_t *srv = ctx;
    int e = EVUTIL_SOCKET_ERROR();

    /* EMFILE and friends: libevent keeps the listener; say so once per failure. */
    (void)lev;
    sm_log_warn("rpc server %s: accept failed: %s", srv->addr, evutil_socket_error_to_string(e));
}

/* ---- answering --------------------------------------------------------------------------- */

sm_err_t sm_rpc_call_reply(sm_rpc_call_t *call, Samsa__Envelope *resp)
{
    sm_rpc_conn_t *conn = call->conn;
    sm_err_t err = SM_OK;

    if (conn == NULL) {
        sm_rpc_call_free(call);
        return SM_ERR_CLOSED;
    }
    call->frame = evbuffer_new();
    if (call->frame == NULL) {
        err = SM_ERR_NOMEM;
        goto fail;
    }
    resp->has_correlation_id = 1;
    resp->correlation_id = call->correlation_id;
    if (!resp->has_type) {
        resp->has_type = 1;
        resp->type = call->type;
    }
    err = sm_rpc_frame_pack(call->frame, resp, conn->srv->max_frame);
    if (err == SM_ERR_TOO_LARGE) {
        /* Answer anyway, so the peer's call does not hang until its deadline. */
        Samsa__Envelope small = SAMSA__ENVELOPE__INIT;
        Samsa__ErrorResponse er = SAMSA__ERROR_RESPONSE__INIT;
        char msg[128];

        sm_log_warn("rpc server %s: %s answer to %s is too large to send", conn->srv->addr,
                    sm_rpc_payload_name(resp), conn->peer);
        snprintf(msg, sizeof(msg), "response of %zu bytes exceeds the %u-byte frame limit",
                 samsa__envelope__get_packed_size(resp), (unsigned)conn->srv->max_frame);
        er.has_error_code = 1;
        er.error_code = SM_RPC_KERR_MESSAGE_TOO_LARGE;
        er.error_message = msg;
        small.has_type = 1;
        small.type = call->type;
        small.has_correlation_id = 1;
        small.correlation_id = call->correlation_id;
        small.payload_case = SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE;
        small.error_response = &er;
        evbuffer_drain(call->frame, evbuffer_get_length(call->frame));
        if (sm_rpc_frame_pack(call->frame, &small, UINT32_MAX) != SM_OK) {
            err = SM_ERR_NOMEM;
            goto fail;
        }
    } else if (err != SM_OK) {
        goto fail;
    }
    samsa__envelope__free_unpacked(call->req, NULL);
    call->req = NULL;
    if (sm_rpc_conn_flush(conn) != SM_OK) {
        sm_rpc_conn_close_soon(conn, "out of memory");
        return SM_ERR_NOMEM;
    }
    return err;

fail:
    /* The connection cannot carry this answer, and the peer would wait forever behind it:
     * drop the call and close the connection (the peer's calls fail with SM_ERR_CLOSED). */
    sm_rpc_conn_unlink(conn, call);
    sm_rpc_call_free(call);
    sm_rpc_conn_close_soon(conn, "cannot send an answer");
    return err;
}

sm_err_t sm_rpc_call_reply_error(sm_rpc_call_t *call, int32_t error_code, const char *message)
{
    Samsa__Envelope resp = SAMSA__ENVELOPE__INIT;
    Samsa__ErrorResponse er = SAMSA__ERROR_RESPONSE__INIT;

    er.has_error_code = 1;
    er.error_code = error_code;
    er.error_message = (char *)(uintptr_t)message;
    resp.payload_case = SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE;
    resp.error_response = &er;
    return sm_rpc_call_reply(call, &resp);
}

/* ---- server ------------------------------------------------------------------------------ */

/* Creates, binds and listens on a socket for host:port; on success *fd_out is non-blocking. */
static sm_err_t sm_rpc_server_listen(const char *host, uint16_t port, int backlog,
                                     evutil_socket_t *fd_out, sm_errbuf_t *eb)
{
    struct evutil_addrinfo hints, *ai = NULL;
    char portstr[8];
    evutil_socket_t fd = -1;
    int one = 1, r, e;
    sm_err_t err = SM_OK;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_PASSIVE;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    r = evutil_getaddrinfo(host, portstr, &hints, &ai);
    if (r != 0 || ai == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_INVALID, "rpc listen %s:%u: cannot resolve: %s", host,
                            (unsigned)port, evutil_gai_strerror(r));
        goto out;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "rpc listen %s:%u: socket: %s", host, (unsigned)port,
                            strerror(e));
        goto out;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        evutil_make_socket_nonblocking(fd) != 0 || evutil_make_socket_closeonexec(fd) != 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "rpc listen %s:%u: socket options: %s", host,
                            (unsigned)port, strerror(e));
        goto out;
    }
    if (bind(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) != 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "rpc listen %s:%u: bind: %s", host, (unsigned)port,
                            strerror(e));
        goto out;
    }
    if (listen(fd, backlog) != 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "rpc listen %s:%u: listen: %s", host, (unsigned)port,
                            strerror(e));
        goto out;
    }
    *fd_out = fd;
    fd = -1;
out:
    if (fd >= 0)
        evutil_closesocket(fd);
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
    return err;
}

sm_err_t sm_rpc_server_new(struct event_base *base, const char *host, uint16_t port,
                           const sm_rpc_server_opts_t *opts, sm_rpc_handler_fn handler, void *arg,
                           sm_rpc_server_t **out, sm_errbuf_t *eb)
{
    sm_rpc_server_t *srv = NULL;
    evutil_socket_t fd = -1;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    sm_err_t err;

    *out = NULL;
    if (base == NULL || host == NULL || host[0] == '\0' || handler == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "rpc listen: missing host or handler");
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "rpc listen: out of memory");
    srv->base = base;
    srv->handler = handler;
    srv->arg = arg;
    srv->max_frame =
        opts != NULL && opts->max_frame > 0 ? opts->max_frame : SM_RPC_DEFAULT_MAX_FRAME;
    err = sm_rpc_server_listen(host, port, opts != NULL && opts->backlog > 0 ? opts->backlog : 128,
                               &fd, eb);
    if (err != SM_OK)
        goto out;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
        sm_rpc_format_addr((struct sockaddr *)&ss, srv->addr, sizeof(srv->addr));
    srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    srv->listener = evconnlistener_new(base, sm_rpc_server_accept_cb, srv,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (srv->listener == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "rpc listen %s:%u: cannot create the listener", host,
                            (unsigned)port);
        goto out;
    }
    fd = -1;
    evconnlistener_set_error_cb(srv->listener, sm_rpc_server_accept_error_cb);
    sm_log_debug("rpc server listening on %s", srv->addr);
    *out = srv;
    srv = NULL;
out:
    if (fd >= 0)
        evutil_closesocket(fd);
    sm_rpc_server_free(srv);
    return err;
}

uint16_t sm_rpc_server_port(const sm_rpc_server_t *srv)
{
    return srv->port;
}

size_t sm_rpc_server_connections(const sm_rpc_server_t *srv)
{
    return srv->nconns;
}

void sm_rpc_server_free(sm_rpc_server_t *srv)
{
    if (srv == NULL)
        return;
    if (srv->listener != NULL)
        evconnlistener_free(srv->listener);
    while (srv->conns != NULL)
        sm_rpc_conn_close(srv->conns, "server shutting down");
    free(srv);
}
