/*
 * ctl_controller: a controller's lifecycle (see ctl_controller.h) and its ZooKeeper session.
 * It wires the building blocks together: session events drive the mirror and the election;
 * the election's verdicts start and end the active term (ctl_active); mirror events go to the
 * active controller; the RPC server goes to ctl_api.
 *
 * Session handling
 *   CONNECTED (new session)  ensure the persistent roots, then start the mirror (full load)
 *                            and the election
 *   CONNECTED (same session) resume interrupted mirror reads, re-check the election
 *   DISCONNECTED             nothing: writes fail with SM_ERR_AGAIN and are retried
 *   EXPIRED                  resign ("zookeeper session expired"), reset mirror and election
 */
#include "controller/ctl_controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "controller/ctl_config.h"
#include "controller/ctl_ctx.h"
#include "controller/ctl_paths.h"
#include "sm_log.h"

static const char *const ctl_controller_roots[] = {
    CTL_PATH_BROKERS, CTL_PATH_TOPICS, CTL_PATH_CONFIGS, CTL_PATH_DELETIONS, "/cluster",
};

int64_t ctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ctl_wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- election callbacks ------------------------------------------------------------------- */

static void ctl_controller_on_won(void *arg, int32_t epoch, int32_t epoch_version)
{
    ctl_active_begin(arg, epoch, epoch_version);
}

static void ctl_controller_on_lost(void *arg, const char *reason)
{
    ctl_ctx_t *c = arg;

    if (c->active)
        ctl_active_end(c, reason);
}

static void ctl_controller_on_leader(void *arg, int32_t id, int32_t epoch, const char *host,
                                     int32_t port)
{
    ctl_ctx_t *c = arg;

    c->leader_id = id;
    c->leader_epoch = epoch;
    snprintf(c->leader_host, sizeof(c->leader_host), "%s", host != NULL ? host : "");
    c->leader_port = port;
}

/* A write failed the epoch check: another controller was elected. */
static void ctl_controller_on_fenced(void *arg)
{
    ctl_ctx_t *c = arg;

    if (!c->active)
        return;
    ctl_active_end(c, "a write failed the controller epoch check (another controller won)");
    ctl_election_resign(c->election);
}

static void ctl_controller_on_mirror(void *arg, const ctl_mirror_event_t *ev)
{
    ctl_active_on_mirror(arg, ev);
}

/* ---- session ------------------------------------------------------------------------------ */

static void ctl_controller_on_root(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_ctx_t *c = arg;

    (void)zk;
    if (res->err != SM_OK && res->err != SM_ERR_CLOSED)
        sm_log_warn("cannot create %s: %s", res->path, sm_zk_zerr_str(res->zerr));
    if (--c->roots_pending > 0 || res->err == SM_ERR_CLOSED)
        return;
    if (!sm_zk_connected(c->zk))
        return; /* the next CONNECTED starts over */
    c->roots_ready = true;
    ctl_mirror_start(c->mirror);
    ctl_election_start(c->election);
}

static void ctl_controller_ensure_roots(ctl_ctx_t *c)
{
    size_t n = sizeof(ctl_controller_roots) / sizeof(ctl_controller_roots[0]);

    if (c->roots_pending > 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (sm_zk_ensure_path(c->zk, ctl_controller_roots[i], ctl_controller_on_root, c) == SM_OK)
            c->roots_pending++;
    }
}

static void ctl_controller_on_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    ctl_ctx_t *c = arg;

    (void)zk;
    switch (ev) {
    case SM_ZK_EV_CONNECTED:
        if (!c->roots_ready) {
            ctl_controller_ensure_roots(c);
        } else {
            ctl_mirror_resume(c->mirror);
            ctl_election_start(c->election);
        }
        break;
    case SM_ZK_EV_EXPIRED:
        if (c->active)
            ctl_active_end(c, "zookeeper session expired");
        ctl_election_reset(c->election);
        ctl_mirror_reset(c->mirror);
        c->roots_ready = false;
        c->leader_id = -1;
        break;
    case SM_ZK_EV_CONNECT_TIMEOUT:
        sm_log_error("ZooKeeper %s unreachable; still trying", sm_zk_connect_string(c->zk));
        break;
    case SM_ZK_EV_DISCONNECTED:
    default:
        break;
    }
}

/* ---- lifetime ----------------------------------------------------------------------------- */

static void ctl_controller_on_flush(evutil_socket_t fd, short what, void *arg)
{
    ctl_ctx_t *c = arg;

    (void)fd;
    (void)what;
    if (c->active)
        ctl_active_flush(c, c->batch);
    else
        ctl_batch_clear(c->batch);
}

static void ctl_controller_on_tick(evutil_socket_t fd, short what, void *arg)
{
    ctl_ctx_t *c = arg;

    (void)fd;
    (void)what;
    if (c->active)
        ctl_delete_tick(c);
}

static void ctl_controller_read_config(ctl_ctx_t *c, const sm_config_t *cfg)
{
    c->id = sm_config_get_int(cfg, "controller.id");
    ctl_config_endpoint(cfg, c->host, sizeof(c->host), &c->port);
    c->session_timeout_ms = sm_config_get_int(cfg, "zookeeper.session.timeout.ms");
    c->socket_timeout_ms = (uint32_t)sm_config_get_int(cfg, "controller.socket.timeout.ms");
    c->unclean_default = sm_config_get_bool(cfg, "unclean.leader.election.enable");
    c->default_partitions = sm_config_get_int(cfg, "num.partitions");
    c->default_rf = sm_config_get_int(cfg, "default.replication.factor");
    c->leader_id = -1;
}

static sm_err_t ctl_controller_build(ctl_ctx_t *c, const sm_config_t *cfg, sm_errbuf_t *eb)
{
    static const struct timeval tick = {1, 0};
    ctl_election_cbs_t ecbs = {ctl_controller_on_won, ctl_controller_on_lost,
                               ctl_controller_on_leader, c};
    sm_zk_config_t zcfg = {0};
    int connect_ms = sm_config_has(cfg, "zookeeper.connection.timeout.ms")
                         ? sm_config_get_int(cfg, "zookeeper.connection.timeout.ms")
                         : c->session_timeout_ms;
    sm_err_t err;

    if (ctl_model_new(&c->model) != SM_OK || ctl_batch_new(c->model, &c->batch) != SM_OK ||
        ctl_batch_new(c->model, &c->del_batch) != SM_OK || ctl_strmap_new(&c->deletions) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    c->flush_ev = evtimer_new(c->base, ctl_controller_on_flush, c);
    c->retry_ev = event_new(c->base, -1, EV_PERSIST, ctl_controller_on_tick, c);
    if (c->flush_ev == NULL || c->retry_ev == NULL || event_add(c->retry_ev, &tick) != 0)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    err = sm_rpc_server_new(c->base, c->host, c->port, NULL, ctl_api_handle, c, &c->server, eb);
    if (err != SM_OK)
        return err;
    c->port = sm_rpc_server_port(c->server);
    zcfg.connect = sm_config_get_str(cfg, "zookeeper.connect");
    zcfg.session_timeout_ms = c->session_timeout_ms;
    zcfg.connect_timeout_ms = connect_ms;
    zcfg.session_cb = ctl_controller_on_session;
    zcfg.arg = c;
    err = sm_zk_new(c->base, &zcfg, &c->zk, eb);
    if (err != SM_OK)
        return err;
    if (ctl_mirror_new(c->zk, c->model, ctl_controller_on_mirror, c, &c->mirror) != SM_OK ||
        ctl_election_new(c->zk, c->id, c->host, c->port, &ecbs, &c->election) != SM_OK ||
        ctl_zkw_new(c->base, c->zk, ctl_controller_on_fenced, c, &c->zkw) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    return SM_OK;
}

sm_err_t ctl_controller_new(struct event_base *base, const sm_config_t *cfg, ctl_controller_t **out,
                            sm_errbuf_t *eb)
{
    ctl_ctx_t *c = calloc(1, sizeof(*c));
    sm_err_t err;

    *out = NULL;
    if (c == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    c->base = base;
    ctl_controller_read_config(c, cfg);
    err = ctl_controller_build(c, cfg, eb);
    if (err != SM_OK) {
        ctl_controller_free(c);
        return err;
    }
    sm_log_info("controller %d listening on %s:%u", (int)c->id, c->host, (unsigned)c->port);
    *out = c;
    return SM_OK;
}

void ctl_controller_free(ctl_controller_t *c)
{
    if (c == NULL)
        return;
    if (c->active)
        ctl_active_end(c, "shutting down");
    /* Closing the session first removes /controller at once and runs every pending ZooKeeper
     * callback while the modules they point at still exist. */
    sm_zk_free(c->zk);
    c->zk = NULL;
    ctl_delete_reset(c);
    ctl_topics_reset(c);
    for (size_t i = 0; i < c->n_channels; i++)
        ctl_channel_free(c->channels[i]);
    free(c->channels);
    free(c->fo_ids);
    free(c->fo_counts);
    sm_rpc_server_free(c->server);
    ctl_zkw_free(c->zkw);
    ctl_election_free(c->election);
    ctl_mirror_free(c->mirror);
    ctl_batch_free(c->batch);
    ctl_batch_free(c->del_batch);
    ctl_strmap_free(c->deletions);
    if (c->flush_ev != NULL)
        event_free(c->flush_ev);
    if (c->retry_ev != NULL)
        event_free(c->retry_ev);
    ctl_model_free(c->model);
    free(c);
}

bool ctl_controller_active(const ctl_controller_t *c)
{
    return c->active;
}

int32_t ctl_controller_epoch(const ctl_controller_t *c)
{
    return c->epoch;
}

uint16_t ctl_controller_port(const ctl_controller_t *c)
{
    return c->port;
}
