/*
 * ctl_election: the /controller race (see ctl_election.h for the states and transitions).
 * One operation at a time (invariant 1): check() looks at /controller with an exists watch,
 * race() reads /controller_epoch and sends the multi, confirm() settles a race whose answer
 * was lost with the connection.
 */
#include "controller/ctl_election.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"
#include "sm_log.h"

typedef enum ctl_election_state {
    CTL_EL_IDLE = 0,
    CTL_EL_WATCHING,
    CTL_EL_RACING,
    CTL_EL_ACTIVE,
} ctl_election_state_t;

struct ctl_election {
    sm_zk_t *zk;
    int32_t id;
    char *host;
    int32_t port;
    ctl_election_cbs_t cbs;
    ctl_election_state_t state;
    uint64_t gen;
    bool busy;        /* invariant 1 */
    bool recheck;     /* a watch fired while busy */
    bool watch_armed; /* an exists watch on /controller is set or being set */
    int32_t epoch;    /* ACTIVE: the epoch won; RACING: the epoch raced for */
    int32_t epoch_version;
    int32_t known_id, known_epoch; /* last active controller seen, for messages */
};

typedef struct ctl_election_req {
    ctl_election_t *e;
    uint64_t gen;
    bool watched; /* exists: this request asked for the watch */
} ctl_election_req_t;

static void ctl_election_check(ctl_election_t *e);
static void ctl_election_race(ctl_election_t *e);

static int64_t ctl_election_wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A request context for the current generation; NULL when out of memory. */
static ctl_election_req_t *ctl_election_req(ctl_election_t *e)
{
    ctl_election_req_t *r = malloc(sizeof(*r));

    if (r != NULL) {
        r->e = e;
        r->gen = e->gen;
        r->watched = false;
    } else {
        sm_log_error("election: out of memory");
    }
    return r;
}

/* Takes a completed request: returns the election if the result is current, else NULL. */
static ctl_election_t *ctl_election_take(ctl_election_req_t *r)
{
    ctl_election_t *e = r->e;
    bool current = r->gen == e->gen;

    free(r);
    if (!current)
        return NULL;
    e->busy = false;
    return e;
}

/* Runs a deferred check once the operation that was in flight is over. */
static void ctl_election_settle(ctl_election_t *e)
{
    if (e->recheck && !e->busy) {
        e->recheck = false;
        ctl_election_check(e);
    }
}

static void ctl_election_learn(ctl_election_t *e, int32_t id, int32_t epoch, const char *host,
                               int32_t port)
{
    if (id != e->known_id || epoch != e->known_epoch) {
        if (id >= 0 && id != e->id)
            sm_log_info("controller %d is active (epoch %d)", (int)id, (int)epoch);
        else if (id < 0)
            sm_log_info("no active controller");
        e->known_id = id;
        e->known_epoch = epoch;
    }
    if (e->cbs.leader != NULL)
        e->cbs.leader(e->cbs.arg, id, epoch, host, port);
}

static void ctl_election_win(ctl_election_t *e, int32_t epoch_version)
{
    e->state = CTL_EL_ACTIVE;
    e->epoch_version = epoch_version;
    ctl_election_learn(e, e->id, e->epoch, e->host, e->port);
    if (e->cbs.won != NULL)
        e->cbs.won(e->cbs.arg, e->epoch, epoch_version);
    /* Arm the watch on our own node: its deletion or change means we lost. */
    ctl_election_check(e);
}

static void ctl_election_lose(ctl_election_t *e, const char *reason)
{
    e->state = CTL_EL_WATCHING;
    if (e->cbs.lost != NULL)
        e->cbs.lost(e->cbs.arg, reason);
}

/* ---- confirm: the race's answer was lost; is /controller ours? ----------------------------- */

static void ctl_election_on_confirm_epoch(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);
    int32_t epoch = -1;

    (void)zk;
    if (e == NULL)
        return;
    if (res->err == SM_OK && ctl_codec_epoch_decode(res->data, res->len, &epoch) == SM_OK &&
        epoch == e->epoch) {
        ctl_election_win(e, res->stat->version);
        return;
    }
    e->state = CTL_EL_WATCHING;
    ctl_election_check(e);
}

/* ---- check: who holds /controller? --------------------------------------------------------- */

static void ctl_election_on_controller(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);
    int32_t id = -1, epoch = 0, port = 0;
    char host[256] = "";
    bool ours;

    (void)zk;
    if (e == NULL)
        return;
    if (res->err == SM_ERR_NOT_FOUND) {
        ctl_election_check(e); /* it vanished between exists and get */
        goto out;
    }
    if (res->err != SM_OK || ctl_codec_controller_decode(res->data, res->len, &id, &epoch, host,
                                                         sizeof(host), &port) != SM_OK)
        goto out;
    ours =
        id == e->id && epoch == e->epoch && res->stat->ephemeral_owner == sm_zk_session_id(e->zk);
    if (e->state == CTL_EL_RACING && ours) {
        ctl_election_req_t *r = ctl_election_req(e);

        if (r != NULL && sm_zk_get(e->zk, CTL_PATH_CONTROLLER_EPOCH, NULL, NULL,
                                   ctl_election_on_confirm_epoch, r) == SM_OK) {
            e->busy = true;
            return;
        }
        free(r);
    }
    if (e->state == CTL_EL_RACING)
        e->state = CTL_EL_WATCHING;
    ctl_election_learn(e, id, epoch, host, port);
    if (e->state == CTL_EL_ACTIVE && !ours)
        ctl_election_lose(e, "the controller znode names another controller");
out:
    ctl_election_settle(e);
}

static void ctl_election_on_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    ctl_election_t *e = arg;

    (void)zk;
    (void)ev;
    (void)path;
    e->watch_armed = false;
    if (e->state == CTL_EL_IDLE)
        return;
    if (e->busy)
        e->recheck = true;
    else
        ctl_election_check(e);
}

static void ctl_election_on_exists(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_req_t *r = arg;
    bool watched = r->watched;
    ctl_election_t *e = ctl_election_take(r);

    (void)zk;
    if (e == NULL)
        return;
    if (watched && res->err != SM_OK && res->err != SM_ERR_NOT_FOUND)
        e->watch_armed = false;
    if (res->err == SM_OK) {
        ctl_election_req_t *g = ctl_election_req(e);

        if (g != NULL && sm_zk_get(e->zk, CTL_PATH_CONTROLLER, NULL, NULL,
                                   ctl_election_on_controller, g) == SM_OK) {
            e->busy = true;
            return;
        }
        free(g);
    } else if (res->err == SM_ERR_NOT_FOUND) {
        ctl_election_learn(e, -1, 0, NULL, 0);
        if (e->state == CTL_EL_ACTIVE)
            ctl_election_lose(e, "the controller znode was deleted");
        ctl_election_race(e);
        return;
    }
    /* SM_ERR_AGAIN: the next SM_ZK_EV_CONNECTED calls start() again. */
    ctl_election_settle(e);
}

static void ctl_election_check(ctl_election_t *e)
{
    ctl_election_req_t *r;
    bool watch = !e->watch_armed;

    if (e->busy) {
        e->recheck = true;
        return;
    }
    r = ctl_election_req(e);
    if (r == NULL)
        return;
    r->watched = watch;
    if (sm_zk_exists(e->zk, CTL_PATH_CONTROLLER, watch ? ctl_election_on_watch : NULL, e,
                     ctl_election_on_exists, r) != SM_OK) {
        free(r);
        return;
    }
    e->busy = true;
    if (watch)
        e->watch_armed = true;
}

/* ---- race ----------------------------------------------------------------------------------- */

static void ctl_election_on_multi(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);

    (void)zk;
    if (e == NULL)
        return;
    if (res->err == SM_OK && res->n_ops == 2 && res->ops[1].stat != NULL) {
        ctl_election_win(e, res->ops[1].stat->version);
        return;
    }
    if (res->err == SM_ERR_AGAIN) {
        /* Outcome unknown: stay RACING; check() on reconnection settles it. */
        sm_log_warn("election: connection lost during the race; checking on reconnection");
        return;
    }
    if (res->err != SM_ERR_EXISTS && res->err != SM_ERR_VERSION && res->err != SM_ERR_CLOSED)
        sm_log_warn("election: race failed: %s", sm_zk_zerr_str(res->zerr));
    e->state = CTL_EL_WATCHING;
    ctl_election_check(e);
}

static void ctl_election_send_multi(ctl_election_t *e, int32_t epoch, int32_t version)
{
    uint8_t *reg = NULL, *ep = NULL;
    size_t reg_len = 0, ep_len = 0;
    ctl_election_req_t *r = NULL;
    sm_zk_op_t ops[2];

    e->epoch = epoch + 1;
    if (ctl_codec_controller_encode(e->id, e->host, e->port, e->epoch, ctl_election_wall_ms(), &reg,
                                    &reg_len) != SM_OK ||
        ctl_codec_epoch_encode(e->epoch, &ep, &ep_len) != SM_OK ||
        (r = ctl_election_req(e)) == NULL)
        goto fail;
    ops[0] = (sm_zk_op_t){.type = SM_ZK_OP_CREATE,
                          .path = CTL_PATH_CONTROLLER,
                          .data = reg,
                          .len = reg_len,
                          .flags = SM_ZK_EPHEMERAL};
    ops[1] = (sm_zk_op_t){.type = SM_ZK_OP_SET,
                          .path = CTL_PATH_CONTROLLER_EPOCH,
                          .data = ep,
                          .len = ep_len,
                          .version = version};
    if (sm_zk_multi(e->zk, ops, 2, ctl_election_on_multi, r) != SM_OK)
        goto fail;
    e->busy = true;
    r = NULL;
    goto out;
fail:
    sm_log_error("election: cannot send the race");
    e->state = CTL_EL_WATCHING;
out:
    free(r);
    free(reg);
    free(ep);
}

static void ctl_election_on_epoch(sm_zk_t *zk, const sm_zk_result_t *res, void *arg);

static void ctl_election_on_epoch_created(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);
    ctl_election_req_t *r;

    (void)zk;
    if (e == NULL)
        return;
    if (res->err != SM_OK && res->err != SM_ERR_EXISTS) {
        e->state = CTL_EL_WATCHING;
        return;
    }
    r = ctl_election_req(e);
    if (r != NULL &&
        sm_zk_get(e->zk, CTL_PATH_CONTROLLER_EPOCH, NULL, NULL, ctl_election_on_epoch, r) == SM_OK)
        e->busy = true;
    else
        free(r);
}

static void ctl_election_on_epoch(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);
    ctl_election_req_t *r;
    uint8_t *data = NULL;
    size_t len = 0;
    int32_t epoch = 0;

    (void)zk;
    if (e == NULL)
        return;
    if (res->err == SM_OK) {
        if (ctl_codec_epoch_decode(res->data, res->len, &epoch) != SM_OK)
            sm_log_warn("election: %s does not decode; racing from epoch 0",
                        CTL_PATH_CONTROLLER_EPOCH);
        ctl_election_send_multi(e, epoch, res->stat->version);
        return;
    }
    if (res->err != SM_ERR_NOT_FOUND || ctl_codec_epoch_encode(0, &data, &len) != SM_OK ||
        (r = ctl_election_req(e)) == NULL) {
        e->state = CTL_EL_WATCHING;
        free(data);
        return;
    }
    if (sm_zk_create(e->zk, CTL_PATH_CONTROLLER_EPOCH, data, len, 0, ctl_election_on_epoch_created,
                     r) == SM_OK)
        e->busy = true;
    else
        free(r);
    free(data);
}

static void ctl_election_race(ctl_election_t *e)
{
    ctl_election_req_t *r = ctl_election_req(e);

    e->state = CTL_EL_RACING;
    if (r == NULL || sm_zk_get(e->zk, CTL_PATH_CONTROLLER_EPOCH, NULL, NULL, ctl_election_on_epoch,
                               r) != SM_OK) {
        free(r);
        e->state = CTL_EL_WATCHING;
        return;
    }
    e->busy = true;
}

/* ---- resign -----------------------------------------------------------------------------------
 */

static void ctl_election_on_deleted(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);

    (void)zk;
    (void)res;
    if (e != NULL)
        ctl_election_check(e);
}

static void ctl_election_on_own_node(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_election_t *e = ctl_election_take(arg);
    ctl_election_req_t *r;

    (void)zk;
    if (e == NULL)
        return;
    if (res->err == SM_OK && res->stat->ephemeral_owner == sm_zk_session_id(e->zk) &&
        (r = ctl_election_req(e)) != NULL) {
        if (sm_zk_delete(e->zk, CTL_PATH_CONTROLLER, res->stat->version, ctl_election_on_deleted,
                         r) == SM_OK) {
            e->busy = true;
            return;
        }
        free(r);
    }
    ctl_election_check(e);
}

void ctl_election_resign(ctl_election_t *e)
{
    ctl_election_req_t *r;

    if (e->state != CTL_EL_ACTIVE)
        return;
    e->state = CTL_EL_WATCHING;
    e->gen++;
    e->busy = false;
    e->recheck = false;
    r = ctl_election_req(e);
    if (r != NULL &&
        sm_zk_get(e->zk, CTL_PATH_CONTROLLER, NULL, NULL, ctl_election_on_own_node, r) == SM_OK) {
        e->busy = true;
        return;
    }
    free(r);
    ctl_election_check(e);
}

/* ---- public -----------------------------------------------------------------------------------
 */

sm_err_t ctl_election_new(sm_zk_t *zk, int32_t id, const char *host, int32_t port,
                          const ctl_election_cbs_t *cbs, ctl_election_t **out)
{
    ctl_election_t *e = calloc(1, sizeof(*e));

    *out = NULL;
    if (e == NULL || (e->host = strdup(host != NULL ? host : "")) == NULL) {
        free(e);
        return SM_ERR_NOMEM;
    }
    e->zk = zk;
    e->id = id;
    e->port = port;
    e->cbs = *cbs;
    e->gen = 1;
    e->known_id = -2;
    *out = e;
    return SM_OK;
}

void ctl_election_free(ctl_election_t *e)
{
    if (e == NULL)
        return;
    free(e->host);
    free(e);
}

void ctl_election_start(ctl_election_t *e)
{
    if (e->state == CTL_EL_IDLE)
        e->state = CTL_EL_WATCHING;
    ctl_election_check(e);
}

void ctl_election_reset(ctl_election_t *e)
{
    e->state = CTL_EL_IDLE;
    e->gen++;
    e->busy = false;
    e->recheck = false;
    e->watch_armed = false;
}

bool ctl_election_active(const ctl_election_t *e)
{
    return e->state == CTL_EL_ACTIVE;
}

int32_t ctl_election_epoch(const ctl_election_t *e)
{
    return e->epoch;
}

int32_t ctl_election_epoch_version(const ctl_election_t *e)
{
    return e->epoch_version;
}
