/*
 * br_server: assembles and runs one broker. See br_server.h for the contract, the start and
 * stop order and the design notes.
 */
#include "broker/br_server.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_api_coord.h"
#include "broker/br_api_data.h"
#include "broker/br_config.h"
#include "broker/br_ctlclient.h"
#include "broker/br_flusher.h"
#include "broker/br_kafka.h"
#include "broker/br_replica.h"
#include "broker/br_topicconf.h"
#include "broker/br_zkreg.h"
#include "sm_log.h"
#include "sm_rpc.h"
#include "sm_zk.h"

#define BR_SERVER_FLUSH_TICK_MS     1000 /* how often flush policies are looked at */
#define BR_SERVER_WRITEBACK_TICK_MS 100  /* how often log.writeback.bytes is looked at */

struct br_server {
    struct event_base *base;
    const sm_config_t *cfg;
    int32_t broker_id;
    int64_t start_ms;
    br_flusher_t *flusher;
    br_flusher_t **writers; /* num.io.threads threads writing the logs' appends (br_log.h) */
    size_t nwriters;
    br_logmgr_t *logmgr;
    br_metacache_t *metacache;
    br_control_t *control;
    sm_rpc_server_t *rpc;
    sm_zk_t *zk;
    br_zkreg_t *reg;
    br_ctlclient_t *ctl;
    br_kafka_t *kafka;
    br_api_data_t *data;
    br_topicconf_t *topicconf;
    br_replica_t *replica;
    char adv_host[256];
    struct event *flush_ev, *wb_ev, *ckpt_ev, *hw_ev, *retention_ev;
    int zk_connect_ms; /* effective zookeeper.connection.timeout.ms */
    bool ever_registered;
    bool failed;
    char fatal[SM_ERRBUF_LEN];
};

static int64_t br_server_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records the first fatal problem and asks the loop to exit. Not logged here: the program
 * prints it as its one error line once the loop has stopped. */
static void br_server_fail(br_server_t *s, const char *msg)
{
    if (s->failed)
        return;
    s->failed = true;
    snprintf(s->fatal, sizeof(s->fatal), "%s", msg);
    event_base_loopexit(s->base, NULL);
}

/* ---- storage ------------------------------------------------------------------------------- */

static void br_server_log_config(const sm_config_t *cfg, br_log_config_t *lc)
{
    br_log_config_defaults(lc);
    lc->segment_bytes = sm_config_get_int(cfg, "log.segment.bytes");
    lc->segment_ms = br_config_roll_ms(cfg);
    lc->index_interval_bytes = sm_config_get_int(cfg, "log.index.interval.bytes");
    lc->index_max_bytes = sm_config_get_int(cfg, "log.index.size.max.bytes");
    lc->retention_ms = br_config_retention_ms(cfg);
    lc->retention_bytes = sm_config_get_i64(cfg, "log.retention.bytes");
    lc->flush_interval_messages = sm_config_get_i64(cfg, "log.flush.interval.messages");
    lc->flush_interval_ms = sm_config_has(cfg, "log.flush.interval.ms")
                                ? sm_config_get_i64(cfg, "log.flush.interval.ms")
                                : BR_LOG_NO_LIMIT;
    lc->log_append_time = sm_config_get_enum(cfg, "message.timestamp.type") == 1;
}

static sm_err_t br_server_open_storage(br_server_t *s, sm_errbuf_t *eb)
{
    br_logmgr_config_t mc = {0};
    size_t ndirs;
    sm_err_t err;

    err = br_flusher_new(s->base, br_fileops_posix(), &s->flusher, eb);
    if (err != SM_OK)
        return err;
    /* Several writers: a write blocked on one file's block map then holds up only the
     * partitions that share its thread (docs/storage.md, The writer threads). */
    size_t nwriters = (size_t)sm_config_get_int(s->cfg, "num.io.threads");
    s->writers = calloc(nwriters, sizeof(*s->writers));
    if (s->writers == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (; s->nwriters < nwriters; s->nwriters++) {
        err = br_flusher_new(s->base, br_fileops_posix(), &s->writers[s->nwriters], eb);
        if (err != SM_OK)
            return err;
    }
    mc.dirs = sm_config_get_list(s->cfg, "log.dirs", &ndirs);
    mc.ndirs = ndirs;
    mc.broker_id = s->broker_id;
    mc.cluster_id = NULL; /* from meta.properties now, checked against /cluster/id later */
    mc.flusher = s->flusher;
    br_server_log_config(s->cfg, &mc.log);
    mc.writers = s->writers;
    mc.nwriters = s->nwriters;
    mc.preallocate = sm_config_get_bool(s->cfg, "log.preallocate");
    err = br_logmgr_open(&mc, br_server_wall_ms(), &s->logmgr, eb);
    if (err != SM_OK)
        return err;
    sm_log_info("storage open: %zu partition log(s) in %zu dir(s)", br_logmgr_count(s->logmgr),
                ndirs);
    return SM_OK;
}

static void br_server_on_flush(evutil_socket_t fd, short what, void *arg)
{
    br_server_t *s = arg;

    (void)fd;
    (void)what;
    (void)br_logmgr_flush(s->logmgr, br_server_wall_ms(), false, NULL);
}

/* Starts the disk write of recent appends every log.writeback.bytes, off the loop: left to
 * the kernel, the page cache gathers gigabytes and writes them back in bursts 30 s later, which
 * stalled the loops for hundreds of milliseconds (docs/storage.md, Writeback). */
static void br_server_on_writeback(evutil_socket_t fd, short what, void *arg)
{
    br_server_t *s = arg;

    (void)fd;
    (void)what;
    (void)br_logmgr_writeback(s->logmgr, (uint64_t)sm_config_get_i64(s->cfg, "log.writeback.bytes"),
                              NULL);
}

static void br_server_checkpoint(br_server_t *s, unsigned which)
{
    /* Written on the flusher thread: an fsync on the loop stalled every client for hundreds
     * of milliseconds under write load (the end-to-end benchmark's p99). */
    if (br_logmgr_checkpoint_async(s->logmgr, which) != SM_OK)
        sm_log_error("checkpoint: out of memory");
}

static void br_server_on_ckpt(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    br_server_checkpoint(arg, BR_LOGMGR_CKPT_RECOVERY | BR_LOGMGR_CKPT_LOG_START);
}

static void br_server_on_hw(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    br_server_checkpoint(arg, BR_LOGMGR_CKPT_REPLICATION);
}

static void br_server_on_retention(evutil_socket_t fd, short what, void *arg)
{
    br_server_t *s = arg;
    size_t deleted = 0;

    (void)fd;
    (void)what;
    (void)br_logmgr_retention(s->logmgr, br_server_wall_ms(), NULL, NULL, &deleted);
    if (deleted > 0)
        sm_log_info("retention deleted %zu segment(s)", deleted);
}

/* A persistent timer every ms milliseconds (0 or less: none). */
static sm_err_t br_server_timer(br_server_t *s, int64_t ms, event_callback_fn fn,
                                struct event **out)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

    *out = NULL;
    if (ms <= 0)
        return SM_OK;
    *out = event_new(s->base, -1, EV_PERSIST, fn, s);
    if (*out == NULL || event_add(*out, &tv) < 0)
        return SM_ERR_NOMEM;
    return SM_OK;
}

static sm_err_t br_server_start_timers(br_server_t *s, sm_errbuf_t *eb)
{
    sm_err_t err;

    err = br_server_timer(s, BR_SERVER_FLUSH_TICK_MS, br_server_on_flush, &s->flush_ev);
    if (err == SM_OK && sm_config_get_i64(s->cfg, "log.writeback.bytes") > 0)
        err = br_server_timer(s, BR_SERVER_WRITEBACK_TICK_MS, br_server_on_writeback, &s->wb_ev);
    if (err == SM_OK)
        err =
            br_server_timer(s, sm_config_get_i64(s->cfg, "log.flush.offset.checkpoint.interval.ms"),
                            br_server_on_ckpt, &s->ckpt_ev);
    if (err == SM_OK)
        err = br_server_timer(
            s, sm_config_get_i64(s->cfg, "replica.high.watermark.checkpoint.interval.ms"),
            br_server_on_hw, &s->hw_ev);
    if (err == SM_OK)
        err = br_server_timer(s, sm_config_get_i64(s->cfg, "log.retention.check.interval.ms"),
                              br_server_on_retention, &s->retention_ev);
    if (err != SM_OK)
        sm_errbuf_set(eb, err, "cannot start the storage timers");
    return err;
}

/* ---- control RPC --------------------------------------------------------------------------- */

static sm_err_t br_server_start_control(br_server_t *s, sm_errbuf_t *eb)
{
    br_control_config_t cc = {.broker_id = s->broker_id, .logmgr = s->logmgr};
    char host[256];
    uint16_t port;
    sm_err_t err;

    err = br_metacache_new(&s->metacache);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "out of memory");
    cc.metacache = s->metacache;
    err = br_control_new(&cc, &s->control, eb);
    if (err != SM_OK)
        return err;
    br_config_control(s->cfg, host, sizeof(host), &port);
    err = sm_rpc_server_new(s->base, host[0] != '\0' ? host : "0.0.0.0", port, NULL,
                            br_control_rpc_handler, s->control, &s->rpc, eb);
    if (err != SM_OK)
        return err;
    sm_log_info("control RPC listening on %s:%u", host[0] != '\0' ? host : "0.0.0.0",
                (unsigned)sm_rpc_server_port(s->rpc));
    return SM_OK;
}

/* ---- ZooKeeper and registration ------------------------------------------------------------ */

static sm_err_t br_server_on_cluster_id(void *arg, const char *cluster_id, sm_errbuf_t *eb)
{
    br_server_t *s = arg;

    return br_logmgr_set_cluster_id(s->logmgr, cluster_id, eb);
}

static void br_server_on_registered(void *arg, int64_t epoch)
{
    br_server_t *s = arg;

    s->ever_registered = true;
    br_control_set_broker_epoch(s->control, epoch);
}

static void br_server_on_lost(void *arg)
{
    br_server_t *s = arg;

    br_control_set_broker_epoch(s->control, -1);
}

static void br_server_on_fatal(void *arg, sm_err_t err, const char *msg)
{
    (void)err;
    br_server_fail(arg, msg);
}

static void br_server_on_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    br_server_t *s = arg;
    char msg[SM_ERRBUF_LEN];

    if (ev == SM_ZK_EV_CONNECT_TIMEOUT && !s->ever_registered) {
        snprintf(msg, sizeof(msg), "ZooKeeper %s unreachable within %d ms",
                 sm_zk_connect_string(zk), s->zk_connect_ms);
        br_server_fail(s, msg);
        return;
    }
    if (s->reg != NULL)
        br_zkreg_on_session(s->reg, ev);
    br_ctlclient_on_session(s->ctl, ev);
    if (s->topicconf != NULL)
        br_topicconf_on_session(s->topicconf, ev);
}

static sm_err_t br_server_start_zk(br_server_t *s, sm_errbuf_t *eb)
{
    br_zkreg_callbacks_t cb = {
        .on_cluster_id = br_server_on_cluster_id,
        .on_registered = br_server_on_registered,
        .on_lost = br_server_on_lost,
        .on_fatal = br_server_on_fatal,
        .arg = s,
    };
    sm_zk_config_t zc = {
        .connect = sm_config_get_str(s->cfg, "zookeeper.connect"),
        .session_timeout_ms = sm_config_get_int(s->cfg, "zookeeper.session.timeout.ms"),
        .session_cb = br_server_on_session,
        .arg = s,
    };
    uint8_t *payload = NULL;
    size_t len = 0;
    sm_err_t err;

    zc.connect_timeout_ms = sm_config_has(s->cfg, "zookeeper.connection.timeout.ms")
                                ? sm_config_get_int(s->cfg, "zookeeper.connection.timeout.ms")
                                : zc.session_timeout_ms;
    s->zk_connect_ms = zc.connect_timeout_ms;
    err = br_zkreg_payload(s->cfg, sm_rpc_server_port(s->rpc), s->start_ms, &payload, &len);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "out of memory");
    err = sm_zk_new(s->base, &zc, &s->zk, eb);
    if (err == SM_OK) {
        err = br_zkreg_new(s->zk, s->broker_id, payload, len, &cb, &s->reg);
        if (err == SM_OK)
            err = br_ctlclient_new(s->base, s->zk, s->broker_id, &s->ctl);
        if (err != SM_OK)
            sm_errbuf_set(eb, err, "out of memory");
    }
    free(payload);
    return err;
}

/* ---- Kafka API ----------------------------------------------------------------------------- */

/* Appends a writer thread wrote: high watermark, parked produces and fetches, followers. */
static void br_server_on_written(void *arg, const char *topic, int32_t partition)
{
    br_server_t *s = arg;

    if (s->data != NULL)
        br_api_data_on_written(s->data, topic, partition);
}

static sm_err_t br_server_start_kafka(br_server_t *s, sm_errbuf_t *eb)
{
    br_kafka_deps_t d = {
        .base = s->base,
        .cfg = s->cfg,
        .broker_id = s->broker_id,
        .metacache = s->metacache,
        .logmgr = s->logmgr,
        .control = s->control,
        .ctlclient = s->ctl,
    };
    char host[256];
    uint16_t port, adv_port;
    sm_err_t err;

    br_config_listener(s->cfg, host, sizeof(host), &port);
    br_config_advertised(s->cfg, s->adv_host, sizeof(s->adv_host), &adv_port);
    if (s->adv_host[0] == '\0')
        snprintf(s->adv_host, sizeof(s->adv_host), "%s", host[0] != '\0' ? host : "127.0.0.1");
    d.advertised_host = s->adv_host;
    d.advertised_port = adv_port;
    err = br_kafka_new(&d, host, port, &s->kafka, eb);
    if (err != SM_OK)
        return err;
    if (adv_port == 0) {
        /* Port 0 asked for: advertise the one we got. */
        adv_port = br_kafka_port(s->kafka);
        br_kafka_set_advertised_port(s->kafka, adv_port);
    }
    err = br_api_versions_register(s->kafka);
    if (err == SM_OK)
        err = br_api_metadata_register(s->kafka);
    if (err == SM_OK)
        err = br_api_admin_register(s->kafka);
    if (err == SM_OK)
        err = br_api_coord_register(s->kafka);
    if (err == SM_OK)
        err = br_api_data_new(s->kafka, &s->data);
    if (err == SM_OK)
        err = br_api_data_register(s->data);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "cannot register the Kafka APIs");
    br_logmgr_set_on_written(s->logmgr, br_server_on_written, s);
    sm_log_info("Kafka listener on %s:%u (advertised %s:%u)", host[0] != '\0' ? host : "0.0.0.0",
                (unsigned)br_kafka_port(s->kafka), s->adv_host, (unsigned)adv_port);
    return SM_OK;
}

/* ---- replication --------------------------------------------------------------------------- */

static sm_err_t br_server_start_replica(br_server_t *s, sm_errbuf_t *eb)
{
    br_replica_config_t rc = {
        .base = s->base,
        .broker_id = s->broker_id,
        .logmgr = s->logmgr,
        .control = s->control,
        .metacache = s->metacache,
        .ctlclient = s->ctl,
        .purgatory = s->data->purgatory,
        .lag_max_ms = sm_config_get_i64(s->cfg, "replica.lag.time.max.ms"),
        .min_isr = sm_config_get_int(s->cfg, "min.insync.replicas"),
        .fetch_wait_max_ms = sm_config_get_int(s->cfg, "replica.fetch.wait.max.ms"),
        .fetch_min_bytes = sm_config_get_int(s->cfg, "replica.fetch.min.bytes"),
        .fetch_max_bytes = sm_config_get_int(s->cfg, "replica.fetch.max.bytes"),
        .fetch_response_max_bytes = sm_config_get_int(s->cfg, "replica.fetch.response.max.bytes"),
        .fetch_backoff_ms = sm_config_get_int(s->cfg, "replica.fetch.backoff.ms"),
        .socket_timeout_ms = sm_config_get_int(s->cfg, "replica.socket.timeout.ms"),
    };
    sm_err_t err = br_topicconf_new(s->zk, rc.min_isr, &s->topicconf);

    rc.topicconf = s->topicconf;
    if (err == SM_OK)
        err = br_replica_new(&rc, &s->replica);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "cannot start replication: %s", sm_err_str(err));
    br_api_data_set_replica(s->data, s->replica);
    return SM_OK;
}

/* ---- life ---------------------------------------------------------------------------------- */

sm_err_t br_server_new(struct event_base *base, const sm_config_t *cfg, br_server_t **out,
                       sm_errbuf_t *eb)
{
    br_server_t *s = calloc(1, sizeof(*s));
    sm_err_t err;

    *out = NULL;
    if (s == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    s->base = base;
    s->cfg = cfg;
    s->broker_id = sm_config_get_int(cfg, "broker.id");
    s->start_ms = br_server_wall_ms();
    err = br_server_open_storage(s, eb);
    if (err == SM_OK)
        err = br_server_start_timers(s, eb);
    if (err == SM_OK)
        err = br_server_start_control(s, eb);
    if (err == SM_OK)
        err = br_server_start_zk(s, eb);
    if (err == SM_OK)
        err = br_server_start_kafka(s, eb);
    if (err == SM_OK)
        err = br_server_start_replica(s, eb);
    if (err != SM_OK) {
        br_server_free(s, false, NULL);
        return err;
    }
    *out = s;
    return SM_OK;
}

static void br_server_event_free(struct event *ev)
{
    if (ev != NULL)
        event_free(ev);
}

sm_err_t br_server_free(br_server_t *s, bool clean, sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;
    bool registered;

    if (s == NULL)
        return SM_OK;
    /* Appends still with the writer complete while everything they wake still exists. */
    for (size_t i = 0; i < s->nwriters; i++)
        br_flusher_drain(s->writers[i]);
    if (s->logmgr != NULL)
        br_logmgr_set_on_written(s->logmgr, NULL, NULL);
    /* Replication first (fetchers closed; AlterIsr completions that come later only free
     * themselves), then clients: parked requests are dropped, forwarded ones released. */
    if (s->data != NULL)
        br_api_data_set_replica(s->data, NULL);
    br_replica_free(s->replica);
    br_kafka_free(s->kafka);
    br_api_data_free(s->data); /* after the parked fetches were aborted */
    sm_rpc_server_free(s->rpc);
    registered = s->reg != NULL && br_zkreg_registered(s->reg);
    /* Closing the session removes the ephemeral registration at once. */
    sm_zk_free(s->zk);
    br_zkreg_free(s->reg);
    /* After the session: every ZooKeeper callback naming them has run. */
    br_ctlclient_free(s->ctl);
    br_topicconf_free(s->topicconf);
    if (registered)
        sm_log_info("deregistered broker %d", (int)s->broker_id);
    br_server_event_free(s->flush_ev);
    br_server_event_free(s->wb_ev);
    br_server_event_free(s->ckpt_ev);
    br_server_event_free(s->hw_ev);
    br_server_event_free(s->retention_ev);
    if (s->logmgr != NULL) {
        err = br_logmgr_close(s->logmgr, clean, br_server_wall_ms(), eb);
        if (err == SM_OK && clean)
            sm_log_info("logs flushed and closed cleanly");
    }
    br_flusher_free(s->flusher);
    for (size_t i = 0; i < s->nwriters; i++)
        br_flusher_free(s->writers[i]); /* after the logs: their close drained them */
    free(s->writers);
    br_control_free(s->control);
    br_metacache_free(s->metacache);
    free(s);
    return err;
}

const char *br_server_fatal(const br_server_t *s)
{
    return s->failed ? s->fatal : NULL;
}

int64_t br_server_broker_epoch(const br_server_t *s)
{
    return br_control_broker_epoch(s->control);
}

uint16_t br_server_kafka_port(const br_server_t *s)
{
    return s->kafka != NULL ? br_kafka_port(s->kafka) : 0;
}

uint16_t br_server_control_port(const br_server_t *s)
{
    return sm_rpc_server_port(s->rpc);
}

br_logmgr_t *br_server_logmgr(const br_server_t *s)
{
    return s->logmgr;
}

br_metacache_t *br_server_metacache(const br_server_t *s)
{
    return s->metacache;
}

br_control_t *br_server_control(const br_server_t *s)
{
    return s->control;
}
