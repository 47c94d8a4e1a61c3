/*
 * br_zkreg: /cluster/id check and /brokers/ids/<id> registration as a small state machine on
 * sm_zk's asynchronous API. See br_zkreg.h for the contract and the design notes.
 */
#include "broker/br_zkreg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/br_config.h"
#include "samsa.pb-c.h"
#include "sm_log.h"

typedef enum br_zkreg_state {
    BR_ZKREG_WAIT_SESSION = 0,
    BR_ZKREG_CLUSTER_GET,
    BR_ZKREG_CLUSTER_WAIT,
    BR_ZKREG_ENSURE,
    BR_ZKREG_CREATE,
    BR_ZKREG_OWNER_GET,
    BR_ZKREG_DELETE,
    BR_ZKREG_REGISTERED,
    BR_ZKREG_FAILED,
} br_zkreg_state_t;

struct br_zkreg {
    sm_zk_t *zk;
    br_zkreg_callbacks_t cb;
    int32_t broker_id;
    char path[64]; /* /brokers/ids/<id> */
    uint8_t *payload;
    size_t len;
    br_zkreg_state_t state;
    bool busy;                          /* an operation is in flight (invariant 1) */
    bool waiting_logged;                /* "waiting for /cluster/id" was said */
    char *cluster_id;                   /* NULL until read */
    int64_t epoch;                      /* czxid while registered, else -1 */
    int64_t session;                    /* the session we are registered in (0: none) */
    int64_t create_session;             /* the session of the last create we sent (0: none) */
    int64_t old[BR_ZKREG_OLD_SESSIONS]; /* earlier sessions we created the node in (ring) */
    size_t n_old;                       /* entries written so far (the ring wraps) */
    int32_t stale_version;              /* version of the stale node to delete */
    int64_t stale_owner;
};

static void br_zkreg_step(br_zkreg_t *r);

br_zkreg_owner_t br_zkreg_classify(int64_t owner, int64_t session, const int64_t *old, size_t n_old)
{
    if (owner == 0)
        return BR_ZKREG_OWNER_OTHER;
    if (owner == session)
        return BR_ZKREG_OWNER_US;
    for (size_t i = 0; i < n_old; i++)
        if (owner == old[i])
            return BR_ZKREG_OWNER_STALE;
    return BR_ZKREG_OWNER_OTHER;
}

/* ---- payload ------------------------------------------------------------------------------- */

/* Replaces an empty or wildcard host by the machine's name (Kafka advertises the canonical
 * host name in that case). */
static void br_zkreg_host(char *host, size_t cap)
{
    if (host[0] != '\0' && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        return;
    if (gethostname(host, cap) != 0 || host[0] == '\0')
        snprintf(host, cap, "localhost");
    host[cap - 1] = '\0';
}

sm_err_t br_zkreg_payload(const sm_config_t *cfg, uint16_t control_port, int64_t start_time_ms,
                          uint8_t **out, size_t *len)
{
    Samsa__BrokerRegistration reg = SAMSA__BROKER_REGISTRATION__INIT;
    Samsa__Endpoint kafka = SAMSA__ENDPOINT__INIT, control = SAMSA__ENDPOINT__INIT;
    Samsa__Endpoint *eps[1] = {&kafka};
    char khost[256], chost[256], listener[] = "PLAINTEXT", ctl[] = "CONTROL",
                                 version[] = BR_ZKREG_SOFTWARE;
    uint16_t kport, cport;
    size_t n;

    br_config_advertised(cfg, khost, sizeof(khost), &kport);
    br_config_control(cfg, chost, sizeof(chost), &cport);
    br_zkreg_host(khost, sizeof(khost));
    br_zkreg_host(chost, sizeof(chost));
    kafka.listener = listener;
    kafka.host = khost;
    kafka.has_port = true;
    kafka.port = kport;
    control.listener = ctl;
    control.host = chost;
    control.has_port = true;
    control.port = control_port != 0 ? control_port : cport;
    reg.has_broker_id = true;
    reg.broker_id = sm_config_get_int(cfg, "broker.id");
    reg.n_endpoints = 1;
    reg.endpoints = eps;
    reg.control_endpoint = &control;
    reg.rack = (char *)(uintptr_t)sm_config_get_str(cfg, "broker.rack");
    if (reg.rack != NULL && reg.rack[0] == '\0')
        reg.rack = NULL;
    reg.has_start_time_ms = true;
    reg.start_time_ms = start_time_ms;
    reg.software_version = version;
    n = samsa__broker_registration__get_packed_size(&reg);
    *out = malloc(n > 0 ? n : 1);
    if (*out == NULL)
        return SM_ERR_NOMEM;
    *len = samsa__broker_registration__pack(&reg, *out);
    return SM_OK;
}

/* ---- life ---------------------------------------------------------------------------------- */

sm_err_t br_zkreg_new(sm_zk_t *zk, int32_t broker_id, const uint8_t *payload, size_t len,
                      const br_zkreg_callbacks_t *cb, br_zkreg_t **out)
{
    br_zkreg_t *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL || (r->payload = malloc(len > 0 ? len : 1)) == NULL) {
        free(r);
        return SM_ERR_NOMEM;
    }
    memcpy(r->payload, payload, len);
    r->len = len;
    r->zk = zk;
    r->cb = *cb;
    r->broker_id = broker_id;
    r->epoch = -1;
    snprintf(r->path, sizeof(r->path), BR_ZKREG_IDS_PATH "/%d", (int)broker_id);
    *out = r;
    if (sm_zk_connected(zk))
        br_zkreg_step(r);
    return SM_OK;
}

void br_zkreg_free(br_zkreg_t *r)
{
    if (r == NULL)
        return;
    free(r->payload);
    free(r->cluster_id);
    free(r);
}

bool br_zkreg_registered(const br_zkreg_t *r)
{
    return r->state == BR_ZKREG_REGISTERED;
}

int64_t br_zkreg_epoch(const br_zkreg_t *r)
{
    return r->epoch;
}

const char *br_zkreg_cluster_id(const br_zkreg_t *r)
{
    return r->cluster_id;
}

static void br_zkreg_fail(br_zkreg_t *r, sm_err_t err, const char *msg)
{
    r->state = BR_ZKREG_FAILED;
    if (r->cb.on_fatal != NULL)
        r->cb.on_fatal(r->cb.arg, err, msg);
}

/* An operation could not be started (SM_ERR_CLOSED while the session is being freed, or
 * out of memory): only the second is worth a word. */
static void br_zkreg_not_started(br_zkreg_t *r, sm_err_t err, const char *what)
{
    char msg[160];

    r->busy = false;
    if (err == SM_ERR_CLOSED)
        return;
    snprintf(msg, sizeof(msg), "cannot %s: %s", what, sm_err_str(err));
    br_zkreg_fail(r, err, msg);
}

/* A completion failed because the connection or the session went: wait for CONNECTED unless
 * it is already back. Returns true when it handled err. */
static bool br_zkreg_transient(br_zkreg_t *r, const sm_zk_result_t *res)
{
    if (res->err != SM_ERR_AGAIN && res->err != SM_ERR_CLOSED)
        return false;
    if (sm_zk_connected(r->zk))
        br_zkreg_step(r);
    return true;
}

/* ---- /cluster/id --------------------------------------------------------------------------- */

static void br_zkreg_cluster_got(sm_zk_t *zk, const sm_zk_result_t *res, void *arg);

static void br_zkreg_cluster_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    br_zkreg_t *r = arg;

    (void)zk;
    (void)ev;
    (void)path;
    if (r->state == BR_ZKREG_CLUSTER_WAIT && !r->busy) {
        r->state = BR_ZKREG_CLUSTER_GET;
        br_zkreg_step(r);
    }
}

static void br_zkreg_cluster_exists(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_CLUSTER_WAIT || br_zkreg_transient(r, res))
        return;
    if (res->err == SM_OK) { /* created meanwhile */
        r->state = BR_ZKREG_CLUSTER_GET;
        br_zkreg_step(r);
    }
    /* SM_ERR_NOT_FOUND: the watch is set; br_zkreg_cluster_watch goes on. */
}

static void br_zkreg_cluster_got(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;
    Samsa__ClusterId *cid = NULL;
    sm_errbuf_t eb = {{0}};
    sm_err_t err;

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_CLUSTER_GET || br_zkreg_transient(r, res))
        return;
    if (res->err == SM_ERR_NOT_FOUND) {
        if (!r->waiting_logged)
            sm_log_info("waiting for " BR_ZKREG_CLUSTER_ID_PATH
                        " (created by the first active controller)");
        r->waiting_logged = true;
        r->state = BR_ZKREG_CLUSTER_WAIT;
        r->busy = true;
        err = sm_zk_exists(r->zk, BR_ZKREG_CLUSTER_ID_PATH, br_zkreg_cluster_watch, r,
                           br_zkreg_cluster_exists, r);
        if (err != SM_OK)
            br_zkreg_not_started(r, err, "watch " BR_ZKREG_CLUSTER_ID_PATH);
        return;
    }
    if (res->err != SM_OK) {
        snprintf(eb.msg, sizeof(eb.msg), "zookeeper get " BR_ZKREG_CLUSTER_ID_PATH ": %s",
                 sm_zk_zerr_str(res->zerr));
        br_zkreg_fail(r, res->err, eb.msg);
        return;
    }
    cid = samsa__cluster_id__unpack(NULL, res->len, res->data);
    if (cid == NULL || cid->id == NULL || cid->id[0] == '\0') {
        br_zkreg_fail(r, SM_ERR_CORRUPT,
                      BR_ZKREG_CLUSTER_ID_PATH " does not hold a ClusterId payload");
        goto out;
    }
    r->cluster_id = strdup(cid->id);
    if (r->cluster_id == NULL) {
        br_zkreg_fail(r, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    sm_log_info("cluster id %s", r->cluster_id);
    err = r->cb.on_cluster_id != NULL ? r->cb.on_cluster_id(r->cb.arg, r->cluster_id, &eb) : SM_OK;
    if (err != SM_OK) {
        br_zkreg_fail(r, err, eb.msg);
        goto out;
    }
    r->state = BR_ZKREG_ENSURE;
    br_zkreg_step(r);
out:
    if (cid != NULL)
        samsa__cluster_id__free_unpacked(cid, NULL);
}

/* ---- /brokers/ids/<id> --------------------------------------------------------------------- */

static void br_zkreg_registered_as(br_zkreg_t *r, int64_t czxid)
{
    r->state = BR_ZKREG_REGISTERED;
    r->epoch = czxid;
    r->session = sm_zk_session_id(r->zk);
    sm_log_info("registered as broker %d epoch 0x%" PRIx64 " (session 0x%" PRIx64 ")",
                (int)r->broker_id, (uint64_t)czxid, (uint64_t)r->session);
    if (r->cb.on_registered != NULL)
        r->cb.on_registered(r->cb.arg, czxid);
}

static void br_zkreg_deleted(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_DELETE || br_zkreg_transient(r, res))
        return;
    /* Gone (by us or by ZooKeeper's own expiry) or changed under us: look again by creating. */
    if (res->err != SM_OK && res->err != SM_ERR_NOT_FOUND && res->err != SM_ERR_VERSION)
        sm_log_warn("zookeeper delete %s: %s", r->path, sm_zk_zerr_str(res->zerr));
    r->state = BR_ZKREG_CREATE;
    br_zkreg_step(r);
}

static void br_zkreg_owner_got(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;
    char msg[200];
    int64_t owner;

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_OWNER_GET || br_zkreg_transient(r, res))
        return;
    if (res->err == SM_ERR_NOT_FOUND) { /* vanished meanwhile: create again */
        r->state = BR_ZKREG_CREATE;
        br_zkreg_step(r);
        return;
    }
    if (res->err != SM_OK || res->stat == NULL) {
        snprintf(msg, sizeof(msg), "zookeeper get %s: %s", r->path, sm_zk_zerr_str(res->zerr));
        br_zkreg_fail(r, res->err != SM_OK ? res->err : SM_ERR_ZK, msg);
        return;
    }
    owner = res->stat->ephemeral_owner;
    switch (
        br_zkreg_classify(owner, sm_zk_session_id(r->zk), r->old,
                          r->n_old < BR_ZKREG_OLD_SESSIONS ? r->n_old : BR_ZKREG_OLD_SESSIONS)) {
    case BR_ZKREG_OWNER_US:
        br_zkreg_registered_as(r, res->stat->czxid);
        break;
    case BR_ZKREG_OWNER_STALE:
        sm_log_info("deleting %s left by our expired session 0x%" PRIx64, r->path, (uint64_t)owner);
        r->stale_owner = owner;
        r->stale_version = res->stat->version;
        r->state = BR_ZKREG_DELETE;
        br_zkreg_step(r);
        break;
    case BR_ZKREG_OWNER_OTHER:
        snprintf(msg, sizeof(msg),
                 "broker.id %d is already registered by a live broker (session 0x%" PRIx64 ")",
                 (int)r->broker_id, (uint64_t)owner);
        br_zkreg_fail(r, SM_ERR_EXISTS, msg);
        break;
    }
}

static void br_zkreg_created(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;
    char msg[200];

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_CREATE || br_zkreg_transient(r, res))
        return;
    if (res->err == SM_OK && res->stat != NULL) {
        br_zkreg_registered_as(r, res->stat->czxid);
    } else if (res->err == SM_OK || res->err == SM_ERR_EXISTS) {
        r->state = BR_ZKREG_OWNER_GET; /* whose is it? (also: no stat came back) */
        br_zkreg_step(r);
    } else if (res->err == SM_ERR_NOT_FOUND) {
        r->state = BR_ZKREG_ENSURE; /* someone removed /brokers/ids */
        br_zkreg_step(r);
    } else {
        snprintf(msg, sizeof(msg), "zookeeper create %s: %s", r->path, sm_zk_zerr_str(res->zerr));
        br_zkreg_fail(r, res->err, msg);
    }
}

static void br_zkreg_ensured(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    br_zkreg_t *r = arg;
    char msg[200];

    (void)zk;
    r->busy = false;
    if (r->state != BR_ZKREG_ENSURE || br_zkreg_transient(r, res))
        return;
    if (res->err != SM_OK) {
        snprintf(msg, sizeof(msg), "zookeeper create " BR_ZKREG_IDS_PATH ": %s",
                 sm_zk_zerr_str(res->zerr));
        br_zkreg_fail(r, res->err, msg);
        return;
    }
    r->state = BR_ZKREG_CREATE;
    br_zkreg_step(r);
}

/* Starts the operation of the current state, if none is in flight and the session is up. */
static void br_zkreg_step(br_zkreg_t *r)
{
    sm_err_t err = SM_OK;

    if (r->busy || !sm_zk_connected(r->zk))
        return;
    if (r->state == BR_ZKREG_WAIT_SESSION)
        r->state = r->cluster_id == NULL ? BR_ZKREG_CLUSTER_GET : BR_ZKREG_ENSURE;
    r->busy = true;
    switch (r->state) {
    case BR_ZKREG_CLUSTER_GET:
        err = sm_zk_get(r->zk, BR_ZKREG_CLUSTER_ID_PATH, NULL, NULL, br_zkreg_cluster_got, r);
        break;
    case BR_ZKREG_CLUSTER_WAIT:
        err = sm_zk_exists(r->zk, BR_ZKREG_CLUSTER_ID_PATH, br_zkreg_cluster_watch, r,
                           br_zkreg_cluster_exists, r);
        break;
    case BR_ZKREG_ENSURE:
        err = sm_zk_ensure_path(r->zk, BR_ZKREG_IDS_PATH, br_zkreg_ensured, r);
        break;
    case BR_ZKREG_CREATE:
        if (r->create_session != 0 && r->create_session != sm_zk_session_id(r->zk))
            r->old[r->n_old++ % BR_ZKREG_OLD_SESSIONS] = r->create_session;
        r->create_session = sm_zk_session_id(r->zk);
        err =
            sm_zk_create(r->zk, r->path, r->payload, r->len, SM_ZK_EPHEMERAL, br_zkreg_created, r);
        break;
    case BR_ZKREG_OWNER_GET:
        err = sm_zk_get(r->zk, r->path, NULL, NULL, br_zkreg_owner_got, r);
        break;
    case BR_ZKREG_DELETE:
        err = sm_zk_delete(r->zk, r->path, r->stale_version, br_zkreg_deleted, r);
        break;
    case BR_ZKREG_WAIT_SESSION:
    case BR_ZKREG_REGISTERED:
    case BR_ZKREG_FAILED:
        r->busy = false;
        return;
    }
    if (err != SM_OK)
        br_zkreg_not_started(r, err, "talk to ZooKeeper");
}

void br_zkreg_on_session(br_zkreg_t *r, sm_zk_event_t ev)
{
    if (r->state == BR_ZKREG_FAILED)
        return;
    switch (ev) {
    case SM_ZK_EV_CONNECTED:
        if (r->state == BR_ZKREG_REGISTERED && r->session != sm_zk_session_id(r->zk)) {
            /* A new session without an EXPIRED first: treat as one. */
            br_zkreg_on_session(r, SM_ZK_EV_EXPIRED);
        }
        br_zkreg_step(r);
        break;
    case SM_ZK_EV_EXPIRED:
        if (r->state == BR_ZKREG_REGISTERED) {
            sm_log_warn("registration of broker %d (epoch 0x%" PRIx64 ") lost with session "
                        "0x%" PRIx64 "; registering again",
                        (int)r->broker_id, (uint64_t)r->epoch, (uint64_t)r->session);
            r->state = BR_ZKREG_WAIT_SESSION;
            r->epoch = -1;
            r->session = 0;
            if (r->cb.on_lost != NULL)
                r->cb.on_lost(r->cb.arg);
        }
        /* Otherwise the operation in flight fails and is retried at the next CONNECTED, and
         * CLUSTER_WAIT sets its watch (which died with the session) again then. */
        break;
    case SM_ZK_EV_DISCONNECTED:
    case SM_ZK_EV_CONNECT_TIMEOUT:
        break;
    }
}
