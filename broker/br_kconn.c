/*
 * br_kconn: one Kafka client connection and its requests -- framing, header parsing, dispatch,
 * and the in-order response queue. Part of the br_kafka module (contract in br_kafka.h,
 * structures in br_kafka_priv.h).
 *
 * DESIGN NOTES
 *   Request life:  read frame --> PENDING (with the handler) --respond--> DONE --> written
 *                                          \--drop / abort--> freed (no response)
 *                                          \--fail--> connection closed
 *   Invariants
 *     1. c->queue holds the connection's requests in arrival order; a request leaves the queue
 *        only from the head (written when DONE) or when it is dropped (anywhere).
 *     2. Responses are written only from the head, so they leave in request order.
 *     3. A frame whose declared size is above socket.request.max.bytes (or negative) closes the
 *        connection as soon as its 4 header bytes are seen: nothing more is buffered for it.
 *     4. Reading pauses while BR_KCONN_MAX_INFLIGHT requests are queued or more than
 *        BR_KCONN_MAX_OUTPUT bytes wait to be written, and resumes when the output drains.
 *     5. A closed connection (bev NULL) stays allocated while requests are PENDING (their
 *        handlers hold pointers) or while a caller up the stack is busy with it; the last
 *        completion frees it.
 */
#include "broker/br_kafka.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/br_kafka_priv.h"
#include "sm_frame.h"
#include "sm_log.h"
#include "sm_rpc.h"
#include "sm_stream.h"

#define BR_KCONN_MAX_INFLIGHT 64
#define BR_KCONN_MAX_OUTPUT   (16u * 1024 * 1024)

/* Frees c when it is closed, unused up the stack and has nothing pending. */
static void br_kconn_maybe_free(br_kconn_t *c)
{
    if (c->st != NULL || c->busy > 0 || c->nqueue > 0)
        return;
    TAILQ_REMOVE(&c->k->conns, c, link);
    free(c);
}

static void br_kreq_free(br_kreq_t *r)
{
    sm_writer_deinit(&r->w);
    if (r->out != NULL)
        evbuffer_free(r->out);
    free(r->frame);
    free(r);
}

/* Removes r from its queue and frees it. */
static void br_kreq_unlink(br_kreq_t *r)
{
    br_kconn_t *c = r->conn;

    TAILQ_REMOVE(&c->queue, r, link);
    c->nqueue--;
    br_kreq_free(r);
}

/* Writes one DONE request's response into the output buffer. */
static sm_err_t br_kreq_write(br_kconn_t *c, br_kreq_t *r)
{
    struct evbuffer *o = sm_stream_output(c->st);
    uint8_t hdr[BR_KHEADER_RESPONSE_MAX];
    size_t body = sm_writer_len(&r->w) + (r->out != NULL ? evbuffer_get_length(r->out) : 0);
    size_t n = br_kheader_response(hdr, r->hdr.correlation_id, r->resp_tags, body);

    if (n == 0)
        return SM_ERR_TOO_LARGE;
    if (sm_stream_append(o, hdr, n) < 0)
        return SM_ERR_NOMEM;
    /* File slices move from r->out to the output as references: still no copy. */
    if (r->out != NULL && evbuffer_add_buffer(o, r->out) < 0)
        return SM_ERR_NOMEM;
    if (sm_writer_len(&r->w) > 0 &&
        sm_stream_append(o, sm_writer_data(&r->w), sm_writer_len(&r->w)) < 0)
        return SM_ERR_NOMEM;
    return SM_OK;
}

/* Writes every DONE request at the head of the queue. May close c (not free: caller is busy). */
static void br_kconn_flush(br_kconn_t *c)
{
    br_kreq_t *r;

    while (c->st != NULL && (r = TAILQ_FIRST(&c->queue)) != NULL && r->state == BR_KREQ_DONE) {
        sm_err_t err = br_kreq_write(c, r);

        br_kreq_unlink(r);
        if (err != SM_OK) {
            sm_log_warn("kafka: %s: cannot write a response: %s", c->peer, sm_err_str(err));
            br_kconn_close(c, NULL);
        }
    }
    if (c->st != NULL && !c->processing)
        sm_stream_flush(c->st);
}

static bool br_kconn_should_pause(const br_kconn_t *c)
{
    return c->nqueue >= BR_KCONN_MAX_INFLIGHT ||
           evbuffer_get_length(sm_stream_output(c->st)) > BR_KCONN_MAX_OUTPUT;
}

void br_kconn_close(br_kconn_t *c, const char *why)
{
    br_kreq_t *r, *next;

    if (c->st == NULL)
        return;
    if (why != NULL)
        sm_log_info("kafka: closing %s: %s", c->peer, why);
    sm_stream_free(c->st);
    c->st = NULL;
    c->k->nconns--;
    c->busy++;
    for (r = TAILQ_FIRST(&c->queue); r != NULL; r = next) {
        next = TAILQ_NEXT(r, link);
        if (r->state == BR_KREQ_DONE)
            br_kreq_unlink(r);
    }
    /* Abort callbacks may drop any request, so restart from the head each time. */
    for (;;) {
        for (r = TAILQ_FIRST(&c->queue); r != NULL && r->abort_fn == NULL;)
            r = TAILQ_NEXT(r, link);
        if (r == NULL)
            break;
        {
            br_kreq_abort_fn fn = r->abort_fn;

            r->abort_fn = NULL;
            fn(r->abort_arg, r);
        }
    }
    c->busy--;
    br_kconn_maybe_free(c);
}

void br_kconn_destroy(br_kconn_t *c)
{
    br_kreq_t *r;

    if (c->st != NULL)
        br_kconn_close(c, NULL);
    while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
        sm_log_warn("kafka: %s: request (api %d, corr %d) still pending at shutdown", c->peer,
                    (int)r->hdr.api_key, (int)r->hdr.correlation_id);
        br_kreq_unlink(r);
    }
    TAILQ_REMOVE(&c->k->conns, c, link);
    free(c);
}

bool br_kconn_idle(const br_kconn_t *c)
{
    return c->st != NULL && c->nqueue == 0 && evbuffer_get_length(sm_stream_output(c->st)) == 0;
}

/* ---- reading and dispatch -------------------------------------------------------------------- */

/* Decodes the header of r's frame and hands r to its handler, or closes the connection. */
static void br_kconn_dispatch(br_kconn_t *c, br_kreq_t *r)
{
    br_kafka_t *k = c->k;
    const br_kafka_api_t *api = NULL;
    int16_t key, ver;
    bool supported;

    br_kheader_read_fixed(&r->body, &r->hdr);
    key = r->hdr.api_key;
    ver = r->hdr.api_version;
    if (sm_reader_err(&r->body) != SM_OK) {
        br_kreq_fail(r, "truncated request header");
        return;
    }
    if (key >= 0 && key <= BR_KAFKA_MAX_API_KEY && k->apis[key].fn != NULL)
        api = &k->apis[key];
    supported = api != NULL && ver >= api->min_version && ver <= api->max_version;
    if (!supported && !(api != NULL && key == BR_KAFKA_API_VERSIONS)) {
        char why[96];

        snprintf(why, sizeof(why), "unsupported api key %d version %d", (int)key, (int)ver);
        br_kreq_fail(r, why);
        return;
    }
    br_kheader_read_rest(&r->body, &r->hdr, ver >= api->flexible_from);
    if (sm_reader_err(&r->body) != SM_OK) {
        if (!supported) {
            /* An ApiVersions version we do not know: its header may be anything past the
             * correlation id; the handler answers from the fixed part alone. */
            sm_reader_init(&r->body, NULL, 0);
        } else {
            br_kreq_fail(r, "malformed request header");
            return;
        }
    }
    r->resp_tags = r->hdr.flexible && key != BR_KAFKA_API_VERSIONS;
    api->fn(api->arg, r);
}

/* Takes one frame from the input into a new request. SM_ERR_AGAIN: incomplete. */
static sm_err_t br_kconn_take(br_kconn_t *c, struct evbuffer *in, br_kreq_t **out)
{
    uint32_t len = 0;
    br_kreq_t *r;
    sm_err_t err;

    *out = NULL;
    err = sm_frame_peek_evbuffer(in, c->k->max_frame, &len, NULL);
    if (err != SM_OK)
        return err;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return SM_ERR_NOMEM;
    r->frame = malloc(len > 0 ? len : 1);
    if (r->frame == NULL) {
        free(r);
        return SM_ERR_NOMEM;
    }
    evbuffer_drain(in, SM_FRAME_HEADER_SIZE);
    if (len > 0)
        evbuffer_remove(in, r->frame, len);
    r->conn = c;
    sm_reader_init(&r->body, r->frame, len);
    sm_writer_init(&r->w, 0);
    TAILQ_INSERT_TAIL(&c->queue, r, link);
    c->nqueue++;
    *out = r;
    return SM_OK;
}

/* Parses and dispatches every whole frame in the input (pausing per invariant 4). */
static void br_kconn_process(br_kconn_t *c)
{
    br_kreq_t *r;
    sm_err_t err;
    bool was_processing = c->processing;

    c->busy++;
    c->processing = true;
    while (c->st != NULL) {
        if (br_kconn_should_pause(c)) {
            if (!c->read_paused) {
                c->read_paused = true;
                sm_stream_read_enable(c->st, false);
            }
            break;
        }
        err = br_kconn_take(c, sm_stream_input(c->st), &r);
        if (err == SM_ERR_AGAIN)
            break;
        if (err == SM_ERR_TOO_LARGE || err == SM_ERR_CORRUPT) {
            br_kconn_close(c, err == SM_ERR_TOO_LARGE
                                  ? "request size above socket.request.max.bytes"
                                  : "negative request size");
            break;
        }
        if (err != SM_OK) {
            br_kconn_close(c, sm_err_str(err));
            break;
        }
        br_kconn_dispatch(c, r);
    }
    c->processing = was_processing;
    if (c->st != NULL && !c->processing) {
        /* One write for the answers of every frame of this read, and reading on again (the
         * read limit may have stopped it while the input was full). */
        sm_stream_flush(c->st);
        sm_stream_read_enable(c->st, !c->read_paused);
    }
    c->busy--;
    br_kconn_maybe_free(c);
}

/* Resumes reading after a pause once the queue has drained (a completion that wrote nothing,
 * e.g. a drop, gets no write callback). Only from the top of the stack (own = the holds the
 * caller itself has on c): a completion inside br_kconn_process leaves it to that loop, which
 * checks the pause on every frame. */
static void br_kconn_maybe_resume(br_kconn_t *c, int own)
{
    if (c->st == NULL || !c->read_paused || c->busy > own || br_kconn_should_pause(c))
        return;
    c->read_paused = false;
    br_kconn_process(c);
}

static void br_kconn_on_read(sm_stream_t *st, void *arg)
{
    br_kconn_t *c = arg;

    (void)st;
    c->last_active_ms = br_kafka_now_ms();
    br_kconn_process(c);
}

static void br_kconn_on_drained(sm_stream_t *st, void *arg)
{
    br_kconn_t *c = arg;

    (void)st;
    c->last_active_ms = br_kafka_now_ms();
    br_kconn_maybe_resume(c, 0);
}

static void br_kconn_on_close(sm_stream_t *st, int err, void *arg)
{
    (void)st;
    (void)err;
    br_kconn_close(arg, NULL);
}

static const sm_stream_cbs_t br_kconn_cbs = {
    .on_read = br_kconn_on_read,
    .on_drained = br_kconn_on_drained,
    .on_close = br_kconn_on_close,
};

void br_kconn_accept(br_kafka_t *k, int fd, const struct sockaddr *sa)
{
    br_kconn_t *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        close(fd);
        return;
    }
    c->k = k;
    TAILQ_INIT(&c->queue);
    c->last_active_ms = br_kafka_now_ms();
    sm_rpc_format_addr(sa, c->peer, sizeof(c->peer));
    /* Explicit sizes only: the OS default autotunes, which a fixed size turns off. */
    if (k->sndbuf > 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &k->sndbuf, sizeof(k->sndbuf));
    if (k->rcvbuf > 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &k->rcvbuf, sizeof(k->rcvbuf));
    /* sm_stream_new closes fd when it fails. */
    if (sm_stream_new(k->deps.base, fd, &br_kconn_cbs, c, &c->st) != SM_OK) {
        free(c);
        return;
    }
    TAILQ_INSERT_TAIL(&k->conns, c, link);
    k->nconns++;
    /* Reading stops once a whole maximum-size frame is buffered; the peek refuses larger. */
    sm_stream_set_read_limit(c->st, (size_t)k->max_frame + SM_FRAME_HEADER_SIZE);
}

/* ---- requests -------------------------------------------------------------------------------- */

br_kafka_t *br_kreq_kafka(const br_kreq_t *req)
{
    return req->conn->k;
}

int16_t br_kreq_api_key(const br_kreq_t *req)
{
    return req->hdr.api_key;
}

int16_t br_kreq_api_version(const br_kreq_t *req)
{
    return req->hdr.api_version;
}

int32_t br_kreq_correlation_id(const br_kreq_t *req)
{
    return req->hdr.correlation_id;
}

bool br_kreq_flexible(const br_kreq_t *req)
{
    return req->hdr.flexible;
}

sm_str_t br_kreq_client_id(const br_kreq_t *req)
{
    return req->hdr.client_id;
}

const char *br_kreq_peer(const br_kreq_t *req)
{
    return req->conn->peer;
}

sm_reader_t *br_kreq_body(br_kreq_t *req)
{
    return &req->body;
}

sm_writer_t *br_kreq_writer(br_kreq_t *req)
{
    return &req->w;
}

sm_err_t br_kreq_add_file(br_kreq_t *req, int fd, int64_t pos, int64_t len)
{
    int dfd;

    if (sm_writer_err(&req->w) != SM_OK)
        return sm_writer_err(&req->w);
    if (pos < 0 || len < 0)
        return SM_ERR_INVALID;
    if (len == 0)
        return SM_OK;
    if (req->out == NULL) {
        if ((req->out = evbuffer_new()) == NULL)
            return SM_ERR_NOMEM;
        /* This buffer ends up on the socket (evbuffer_add_buffer keeps its chains): with the
         * flag, libevent keeps file segments as sendfile chains instead of mapping or reading
         * them into memory, so log bytes never pass through user space. */
        (void)evbuffer_set_flags(req->out, EVBUFFER_FLAG_DRAINS_TO_FD);
    }
    if (sm_writer_len(&req->w) > 0) {
        if (sm_stream_append(req->out, sm_writer_data(&req->w), sm_writer_len(&req->w)) < 0)
            return SM_ERR_NOMEM;
        sm_writer_reset(&req->w);
    }
    dfd = dup(fd);
    if (dfd < 0) {
        int saved = errno;

        sm_log_error("kafka: %s: dup of a log fd failed: %s", req->conn->peer, strerror(saved));
        return SM_ERR_IO;
    }
    /* evbuffer_add_file owns dfd from here, closing it on failure too. */
    if (evbuffer_add_file(req->out, dfd, (ev_off_t)pos, (ev_off_t)len) < 0)
        return SM_ERR_NOMEM;
    return SM_OK;
}

size_t br_kreq_response_len(const br_kreq_t *req)
{
    return sm_writer_len(&req->w) + (req->out != NULL ? evbuffer_get_length(req->out) : 0);
}

void br_kreq_set_abort(br_kreq_t *req, br_kreq_abort_fn fn, void *arg)
{
    req->abort_fn = fn;
    req->abort_arg = arg;
}

bool br_kreq_conn_open(const br_kreq_t *req)
{
    return req->conn->st != NULL;
}

void br_kreq_respond(br_kreq_t *req)
{
    br_kconn_t *c = req->conn;

    if (sm_writer_err(&req->w) != SM_OK) {
        char why[96];

        snprintf(why, sizeof(why), "cannot encode the response: %s",
                 sm_err_str(sm_writer_err(&req->w)));
        br_kreq_fail(req, why);
        return;
    }
    req->state = BR_KREQ_DONE;
    req->abort_fn = NULL;
    c->busy++;
    if (c->st == NULL)
        br_kreq_unlink(req);
    else
        br_kconn_flush(c);
    br_kconn_maybe_resume(c, 1);
    c->busy--;
    br_kconn_maybe_free(c);
}

void br_kreq_drop(br_kreq_t *req)
{
    br_kconn_t *c = req->conn;

    c->busy++;
    br_kreq_unlink(req);
    if (c->st != NULL)
        br_kconn_flush(c);
    br_kconn_maybe_resume(c, 1);
    c->busy--;
    br_kconn_maybe_free(c);
}

void br_kreq_fail(br_kreq_t *req, const char *why)
{
    br_kconn_t *c = req->conn;

    if (c->st != NULL)
        sm_log_warn("kafka: closing %s: api key %d version %d (corr %d): %s", c->peer,
                    (int)req->hdr.api_key, (int)req->hdr.api_version, (int)req->hdr.correlation_id,
                    why);
    c->busy++;
    br_kreq_unlink(req);
    br_kconn_close(c, NULL);
    c->busy--;
    br_kconn_maybe_free(c);
}
