/*
 * adm_rpc: one admin request to the active controller, following it across fail-overs (see
 * adm_rpc.h for the picture).
 *
 * DESIGN NOTES
 *   States of one call (adm_rpc_t.state):
 *
 *     SENDING ──answer──────────────────────────────> DONE
 *        │  ──NOT_CONTROLLER / connection lost──> WAITING
 *        │  ──tick: /controller gone or changed──> WAITING   (adm_rpc_abandon)
 *     WAITING ──tick: a /controller node exists──> SENDING   (adm_rpc_send)
 *     any ──tick: deadline passed──> DONE with SM_ERR_TIMEOUT
 *
 *   Invariants:
 *   1. At most one sm_rpc client exists, and only in SENDING.
 *   2. Freeing the client completes its call with SM_ERR_CLOSED from inside sm_rpc_client_free;
 *      `abandoning` makes adm_rpc_done ignore that completion.
 *   3. `uncertain` becomes true only when a request may have reached a controller: the client
 *      had connected before its call was lost.
 *   4. The loop exits exactly when the state becomes DONE.
 */
#include "controller/admin/adm_rpc.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/admin/adm_out.h"
#include "sm_rpc.h"

#define ADM_RPC_NOT_CONTROLLER 41

enum adm_rpc_state { ADM_RPC_SENDING = 1, ADM_RPC_WAITING, ADM_RPC_DONE };

typedef struct adm_rpc {
    const adm_args_t *a;
    sm_zk_sync_t *zs;
    Samsa__Envelope *req;
    adm_rpc_result_t *res;
    sm_errbuf_t *eb;
    struct event_base *base;
    struct event *tick;
    sm_rpc_client_t *client;
    enum adm_rpc_state state;
    sm_err_t err;
    int64_t deadline;        /* monotonic ms */
    int64_t ctl_czxid;       /* /controller node we are talking to */
    bool connected;          /* the current client has connected at least once */
    bool abandoning;         /* freeing the client on purpose */
    bool saw_not_controller; /* for the timeout message */
} adm_rpc_t;

static int64_t adm_rpc_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void adm_rpc_result_deinit(adm_rpc_result_t *res)
{
    if (res == NULL)
        return;
    if (res->resp != NULL)
        samsa__envelope__free_unpacked(res->resp, NULL);
    memset(res, 0, sizeof(*res));
}

int32_t adm_rpc_error_code(const Samsa__Envelope *resp, const char **message)
{
    const ProtobufCFieldDescriptor *pf, *ef, *mf;
    const ProtobufCMessage *payload;
    int32_t code = 0;

    if (message != NULL)
        *message = NULL;
    if (resp == NULL || resp->payload_case == SAMSA__ENVELOPE__PAYLOAD__NOT_SET)
        return 0;
    pf = protobuf_c_message_descriptor_get_field(&samsa__envelope__descriptor,
                                                 (unsigned)resp->payload_case);
    if (pf == NULL || pf->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    memcpy(&payload, (const char *)resp + pf->offset, sizeof(payload));
    if (payload == NULL)
        return 0;
    /* Every response carries error_code and error_message as fields 1 and 2. */
    ef = protobuf_c_message_descriptor_get_field_by_name(payload->descriptor, "error_code");
    mf = protobuf_c_message_descriptor_get_field_by_name(payload->descriptor, "error_message");
    if (ef != NULL && ef->type == PROTOBUF_C_TYPE_INT32)
        memcpy(&code, (const char *)payload + ef->offset, sizeof(code));
    if (mf != NULL && mf->type == PROTOBUF_C_TYPE_STRING && message != NULL)
        memcpy(message, (const char *)payload + mf->offset, sizeof(*message));
    return code;
}

static void adm_rpc_finish(adm_rpc_t *r, sm_err_t err)
{
    r->state = ADM_RPC_DONE;
    r->err = err;
    event_base_loopbreak(r->base);
}

/* Drops the client (its call completes, ignored, with SM_ERR_CLOSED) and waits for a
 * controller. */
static void adm_rpc_abandon(adm_rpc_t *r)
{
    sm_rpc_client_t *c = r->client;

    if (r->connected && r->state == ADM_RPC_SENDING)
        r->res->uncertain = true;
    r->client = NULL;
    r->abandoning = true;
    sm_rpc_client_free(c);
    r->abandoning = false;
    r->connected = false;
    if (r->state != ADM_RPC_DONE)
        r->state = ADM_RPC_WAITING;
}

/* The deadline passed: ends the call with the message that fits what was seen. */
static void adm_rpc_timed_out(adm_rpc_t *r)
{
    long long ms = (long long)r->a->timeout_ms;
    bool sending = r->state == ADM_RPC_SENDING;
    sm_err_t err;

    if (r->client != NULL)
        adm_rpc_abandon(r);
    if (r->saw_not_controller)
        err = sm_errbuf_set(r->eb, SM_ERR_TIMEOUT,
                            "no active controller answered within %lld ms (controller %d at %s "
                            "says it is not the controller)",
                            ms, (int)r->res->controller_id, r->res->endpoint);
    else if (sending)
        err = sm_errbuf_set(r->eb, SM_ERR_TIMEOUT,
                            "controller %d at %s did not answer within %lld ms",
                            (int)r->res->controller_id, r->res->endpoint, ms);
    else
        err = sm_errbuf_set(r->eb, SM_ERR_TIMEOUT,
                            "no active controller answered within %lld ms (last tried controller "
                            "%d at %s)",
                            ms, (int)r->res->controller_id, r->res->endpoint);
    adm_rpc_finish(r, err);
}

static void adm_rpc_on_state(void *arg, sm_rpc_client_t *client, bool connected)
{
    adm_rpc_t *r = arg;

    (void)client;
    if (connected)
        r->connected = true;
}

/* Keeps the answer: the response is valid only during the callback, so it is copied by a
 * pack and unpack round trip. */
static sm_err_t adm_rpc_keep(adm_rpc_t *r, const Samsa__Envelope *resp)
{
    size_t n = samsa__envelope__get_packed_size(resp);
    uint8_t *buf = malloc(n ? n : 1);

    if (buf == NULL)
        return sm_errbuf_set(r->eb, SM_ERR_NOMEM, "out of memory");
    samsa__envelope__pack(resp, buf);
    r->res->resp = samsa__envelope__unpack(NULL, n, buf);
    free(buf);
    if (r->res->resp == NULL)
        return sm_errbuf_set(r->eb, SM_ERR_NOMEM, "out of memory");
    return SM_OK;
}

static void adm_rpc_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    adm_rpc_t *r = arg;

    if (r->abandoning || r->state != ADM_RPC_SENDING)
        return;
    if (err == SM_ERR_TIMEOUT) {
        adm_rpc_timed_out(r);
        return;
    }
    if (err != SM_OK) {
        /* The connection dropped with the request on it: find the controller again. The
         * client may be freed from its own callback. */
        adm_rpc_abandon(r);
        return;
    }
    if (adm_rpc_error_code(resp, NULL) == ADM_RPC_NOT_CONTROLLER) {
        r->saw_not_controller = true;
        r->connected = false; /* it refused: nothing was applied */
        adm_rpc_abandon(r);
        return;
    }
    adm_rpc_finish(r, adm_rpc_keep(r, resp));
}

/* Reads /controller: SM_OK with its registration's endpoint and czxid, SM_ERR_NOT_FOUND, or
 * another error (transient ZooKeeper trouble or a payload that does not decode). */
static sm_err_t adm_rpc_lookup(adm_rpc_t *r, int32_t *id, char *host, size_t host_len,
                               uint16_t *port, int64_t *czxid, sm_errbuf_t *eb)
{
    void *data = NULL;
    size_t len = 0;
    sm_zk_stat_t st;
    Samsa__ControllerRegistration *reg = NULL;
    sm_err_t err = sm_zk_sync_get(r->zs, "/controller", &data, &len, &st, eb);

    if (err != SM_OK)
        goto out;
    reg = samsa__controller_registration__unpack(NULL, len, data);
    if (reg == NULL || reg->endpoint == NULL || reg->endpoint->host == NULL ||
        reg->endpoint->port <= 0 || reg->endpoint->port > 65535) {
        err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "/controller holds no usable endpoint");
        goto out;
    }
    *id = reg->controller_id;
    snprintf(host, host_len, "%s", reg->endpoint->host);
    *port = (uint16_t)reg->endpoint->port;
    *czxid = st.czxid;
out:
    if (reg != NULL)
        samsa__controller_registration__free_unpacked(reg, NULL);
    free(data);
    return err;
}

static int64_t adm_rpc_remaining(const adm_rpc_t *r)
{
    int64_t left = r->deadline - adm_rpc_mono_ms();

    return left > 0 ? left : 1;
}

/* Connects to the controller just read and sends the request. */
static sm_err_t adm_rpc_send(adm_rpc_t *r, int32_t id, const char *host, uint16_t port,
                             int64_t czxid)
{
    sm_rpc_client_opts_t opts = {
        .backoff_min_ms = 50,
        .backoff_max_ms = 500,
        .connect_timeout_ms = 2000,
        .on_state = adm_rpc_on_state,
        .state_arg = r,
    };
    sm_err_t err;

    r->res->controller_id = id;
    if (strchr(host, ':') != NULL)
        snprintf(r->res->endpoint, sizeof(r->res->endpoint), "[%s]:%u", host, (unsigned)port);
    else
        snprintf(r->res->endpoint, sizeof(r->res->endpoint), "%s:%u", host, (unsigned)port);
    r->ctl_czxid = czxid;
    r->connected = false;
    err = sm_rpc_client_new(r->base, host, port, &opts, &r->client);
    if (err != SM_OK)
        return sm_errbuf_set(r->eb, err, "cannot reach controller %d at %s: %s", (int)id,
                             r->res->endpoint, sm_err_str(err));
    r->state = ADM_RPC_SENDING;
    r->res->attempts++;
    err = sm_rpc_client_call(r->client, r->req, (uint32_t)adm_rpc_remaining(r), adm_rpc_done, r);
    if (err != SM_OK) {
        adm_rpc_abandon(r);
        return sm_errbuf_set(r->eb, err, "cannot send to controller %d at %s: %s", (int)id,
                             r->res->endpoint, sm_err_str(err));
    }
    return SM_OK;
}

static void adm_rpc_on_tick(evutil_socket_t fd, short what, void *arg)
{
    adm_rpc_t *r = arg;
    char host[256];
    uint16_t port = 0;
    int32_t id = -1;
    int64_t czxid = 0;
    sm_err_t err;

    (void)fd;
    (void)what;
    if (r->state == ADM_RPC_DONE)
        return;
    if (adm_rpc_mono_ms() >= r->deadline) {
        adm_rpc_timed_out(r);
        return;
    }
    err = adm_rpc_lookup(r, &id, host, sizeof(host), &port, &czxid, NULL);
    if (r->state == ADM_RPC_SENDING) {
        if (err == SM_ERR_NOT_FOUND || (err == SM_OK && czxid != r->ctl_czxid))
            adm_rpc_abandon(r);
        return;
    }
    if (err == SM_OK && adm_rpc_send(r, id, host, port, czxid) != SM_OK)
        adm_rpc_finish(r, SM_ERR_IO);
}

sm_err_t adm_rpc_call(const adm_args_t *a, sm_zk_sync_t *zs, Samsa__Envelope *req,
                      adm_rpc_result_t *res, sm_errbuf_t *eb)
{
    adm_rpc_t r = {.a = a, .zs = zs, .req = req, .res = res, .eb = eb};
    struct timeval tv = {.tv_sec = 0, .tv_usec = ADM_RPC_POLL_MS * 1000};
    char host[256];
    uint16_t port = 0;
    int32_t id = -1;
    int64_t czxid = 0;
    sm_err_t err;

    memset(res, 0, sizeof(*res));
    res->controller_id = -1;
    r.deadline = adm_rpc_mono_ms() + a->timeout_ms;
    err = adm_rpc_lookup(&r, &id, host, sizeof(host), &port, &czxid, eb);
    if (err == SM_ERR_NOT_FOUND) {
        err = sm_errbuf_set(eb, SM_ERR_NOT_FOUND, "no active controller");
        goto out;
    }
    if (err != SM_OK)
        goto out;
    r.base = event_base_new();
    r.tick = r.base != NULL ? event_new(r.base, -1, EV_PERSIST, adm_rpc_on_tick, &r) : NULL;
    if (r.tick == NULL || event_add(r.tick, &tv) != 0) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "cannot set up an event loop");
        goto out;
    }
    err = adm_rpc_send(&r, id, host, port, czxid);
    if (err != SM_OK)
        goto out;
    while (r.state != ADM_RPC_DONE) {
        if (event_base_dispatch(r.base) < 0) {
            err = sm_errbuf_set(eb, SM_ERR_IO, "event loop failed");
            goto out;
        }
    }
    err = r.err;
out:
    if (r.client != NULL) {
        r.state = ADM_RPC_DONE;
        adm_rpc_abandon(&r);
    }
    if (r.tick != NULL)
        event_free(r.tick);
    if (r.base != NULL)
        event_base_free(r.base);
    return err;
}
