/*
 * br_ctlclient: the forwarding client to the active controller. See br_ctlclient.h.
 * br_server frees the ZooKeeper session BEFORE this client, so every ZooKeeper callback with cc
 * as argument has run (or been dropped, for watches) by the time cc is freed.
 */
#include "broker/br_ctlclient.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_log.h"

#define BR_CTLCLIENT_PATH "/controller"

struct br_ctlclient {
    struct event_base *base;
    sm_zk_t *zk;
    int32_t broker_id;
    int32_t controller_id;
    char host[256];
    uint16_t port;
    sm_rpc_client_t *rpc;
    bool reading; /* a get/exists is outstanding */
    bool stale;   /* a re-read was asked for while reading */
};

static void br_ctlclient_read(br_ctlclient_t *cc);

static void br_ctlclient_forget(br_ctlclient_t *cc)
{
    sm_rpc_client_t *rpc = cc->rpc;

    cc->rpc = NULL;
    cc->controller_id = -1;
    cc->host[0] = '\0';
    cc->port = 0;
    sm_rpc_client_free(rpc);
}

static void br_ctlclient_set(br_ctlclient_t *cc, int32_t id, const char *host, uint16_t port)
{
    if (cc->rpc != NULL && cc->controller_id == id && cc->port == port &&
        strcmp(cc->host, host) == 0)
        return;
    br_ctlclient_forget(cc);
    snprintf(cc->host, sizeof(cc->host), "%s", host);
    cc->port = port;
    cc->controller_id = id;
    if (sm_rpc_client_new(cc->base, host, port, NULL, &cc->rpc) != SM_OK) {
        sm_log_warn("controller client: cannot connect to %s:%u", host, (unsigned)port);
        br_ctlclient_forget(cc);
        return;
    }
    sm_log_info("active controller is %d at %s:%u", (int)id, host, (unsigned)port);
}

static void br_ctlclient_on_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    (void)zk;
    (void)ev;
    (void)path;
    br_ctlclient_read(arg);
}

static void br_ctlclient_on_data(br_ctlclient_t *cc, const sm_zk_result_t *res)
{
    Samsa__ControllerRegistration *reg;
    const Samsa__Endpoint *ep;

    reg = samsa__controller_registration__unpack(NULL, res->len, res->data);
    if (reg == NULL) {
        sm_log_warn("controller client: cannot decode %s", BR_CTLCLIENT_PATH);
        br_ctlclient_forget(cc);
        return;
    }
    ep = reg->endpoint;
    if (ep == NULL || ep->port <= 0 || ep->port > 65535)
        br_ctlclient_forget(cc);
    else
        br_ctlclient_set(cc, reg->controller_id,
                         ep->host != NULL && ep->host[0] != '\0' ? ep->host : "127.0.0.1",
                         (uint16_t)ep->port);
    samsa__controller_registration__free_unpacked(reg, NULL);
}

static void br_ctlclient_on_exists(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_ctlclient_t *cc = arg;

    (void)zk;
    cc->reading = false;
    /* Created between our get and exists: the watch did not fire for it, so read again. */
    if (res->err == SM_OK || cc->stale) {
        cc->stale = false;
        br_ctlclient_read(cc);
    }
}

static void br_ctlclient_on_get(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_ctlclient_t *cc = arg;

    cc->reading = false;
    if (res->err == SM_OK) {
        br_ctlclient_on_data(cc, res);
    } else if (res->err == SM_ERR_NOT_FOUND) {
        if (cc->rpc != NULL)
            sm_log_info("no active controller");
        br_ctlclient_forget(cc);
        /* Watch for its creation. */
        if (sm_zk_exists(zk, BR_CTLCLIENT_PATH, br_ctlclient_on_watch, cc, br_ctlclient_on_exists,
                         cc) == SM_OK)
            cc->reading = true;
        return;
    }
    /* Other errors (connection loss, close): the session callback asks again. */
    if (cc->stale) {
        cc->stale = false;
        br_ctlclient_read(cc);
    }
}

static void br_ctlclient_read(br_ctlclient_t *cc)
{
    if (cc->reading) {
        cc->stale = true;
        return;
    }
    if (sm_zk_get(cc->zk, BR_CTLCLIENT_PATH, br_ctlclient_on_watch, cc, br_ctlclient_on_get, cc) ==
        SM_OK)
        cc->reading = true;
}

sm_err_t br_ctlclient_new(struct event_base *base, sm_zk_t *zk, int32_t broker_id,
                          br_ctlclient_t **out)
{
    br_ctlclient_t *cc = calloc(1, sizeof(*cc));

    *out = NULL;
    if (cc == NULL)
        return SM_ERR_NOMEM;
    cc->base = base;
    cc->zk = zk;
    cc->broker_id = broker_id;
    cc->controller_id = -1;
    *out = cc;
    return SM_OK;
}

void br_ctlclient_free(br_ctlclient_t *cc)
{
    if (cc == NULL)
        return;
    br_ctlclient_forget(cc);
    free(cc);
}

void br_ctlclient_on_session(br_ctlclient_t *cc, sm_zk_event_t ev)
{
    if (cc != NULL && ev == SM_ZK_EV_CONNECTED)
        br_ctlclient_read(cc);
}

int32_t br_ctlclient_controller_id(const br_ctlclient_t *cc)
{
    return cc != NULL && cc->rpc != NULL ? cc->controller_id : -1;
}

sm_err_t br_ctlclient_call(br_ctlclient_t *cc, Samsa__Envelope *req, uint32_t timeout_ms,
                           sm_rpc_done_fn done, void *arg)
{
    if (cc == NULL || cc->rpc == NULL)
        return SM_ERR_AGAIN;
    req->has_sender_id = 1;
    req->sender_id = cc->broker_id;
    return sm_rpc_client_call(cc->rpc, req, timeout_ms, done, arg);
}
