/*
 * bench_controller: controller take-over with many partitions (issue 4's benchmark).
 *
 *   bench_controller run --zk HOST:PORT --controller BIN [--dir DIR] [--base-port P]
 *                        [--topics 100] [--partitions 100] [--rf 3] [--brokers 3]
 *                        [--rounds 3] [--session-ms 2000]
 *   bench_controller brokers --zk HOST:PORT/CHROOT [--brokers 3] [--base-port P] [--first-id 1]
 *
 * `run` starts N stand-in brokers in this process (each registers /brokers/ids/<id> with a
 * control endpoint and answers LeaderAndIsr / UpdateMetadata / StopReplica, fencing stale
 * controller and broker epochs as real brokers do), two real samsa-controller processes, and
 * creates topics x partitions (RF rf) through the active controller. Each round SIGKILLs the
 * active controller and measures:
 *
 *   kill -> new controller won      /controller's ctime minus the kill time (mostly the
 *                                   ZooKeeper session timeout: the ephemeral must expire)
 *   won -> last LeaderAndIsr acked  from the new controller's "failover complete" line, and
 *                                   as the brokers saw it (last LeaderAndIsr of the new epoch
 *                                   received minus /controller's ctime)
 *   kill -> serving                 the sum: a new controller answers requests
 *
 * then restarts the killed controller as the next standby and reports how long its cold
 * load of the cluster state took (what a Kafka controller does after winning).
 * `brokers` only runs the stand-in brokers, for trying a controller by hand.
 *
 * The stand-in brokers run on their own thread and event loop; the main thread drives the
 * scenario with blocking ZooKeeper and RPC calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "controller/ctl_codec.h"
#include "sm_log.h"
#include "sm_rpc.h"
#include "sm_zk.h"

#define BENCH_MAX_BROKERS 16

typedef struct bench_broker {
    struct bench *b;
    int32_t id;
    uint16_t port;
    sm_zk_t *zk;
    sm_rpc_server_t *srv;
    _Atomic int64_t czxid;
    int32_t max_epoch;           /* loop thread only */
    _Atomic int32_t lai_epoch;   /* epoch of the LeaderAndIsr counted below */
    _Atomic int64_t lai_parts;   /* partitions in LeaderAndIsr of lai_epoch */
    _Atomic int64_t lai_last_ms; /* wall clock of the last one */
    _Atomic int64_t requests;
    _Atomic int64_t refused;
} bench_broker_t;

typedef struct bench {
    const char *zk;    /* host:port, no chroot */
    char connect[512]; /* with the chroot */
    char chroot[64];
    const char *ctl_bin;
    char dir[256];
    int base_port;
    int topics, partitions, rf, n_brokers, rounds, session_ms, first_id;
    struct event_base *base; /* brokers' loop */
    struct event *stop_ev;
    pthread_t thread;
    bench_broker_t brokers[BENCH_MAX_BROKERS];
    pid_t ctl_pid[2];
    _Atomic int stop;
} bench_t;

static int64_t bench_wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void bench_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- stand-in brokers (their own thread) --------------------------------------------------- */

static void bench_reply(sm_rpc_call_t *call, const Samsa__Envelope *req, int32_t code,
                        const char *msg)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__LeaderAndIsrResponse lai = SAMSA__LEADER_AND_ISR_RESPONSE__INIT;
    Samsa__UpdateMetadataResponse um = SAMSA__UPDATE_METADATA_RESPONSE__INIT;
    Samsa__StopReplicaResponse sr = SAMSA__STOP_REPLICA_RESPONSE__INIT;

    switch (req->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST:
        lai.has_error_code = 1, lai.error_code = code, lai.error_message = (char *)msg;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE;
        env.leader_and_isr_response = &lai;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_REQUEST:
        um.has_error_code = 1, um.error_code = code, um.error_message = (char *)msg;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE;
        env.update_metadata_response = &um;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_REQUEST:
        sr.has_error_code = 1, sr.error_code = code, sr.error_message = (char *)msg;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE;
        env.stop_replica_response = &sr;
        break;
    default:
        sm_rpc_call_reply_error(call, 35, "not a broker request");
        return;
    }
    sm_rpc_call_reply(call, &env);
}

static size_t bench_lai_parts(const Samsa__LeaderAndIsrRequest *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_topic_states; i++)
        n += r->topic_states[i]->n_partitions;
    return n;
}

static void bench_broker_handle(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    bench_broker_t *br = arg;
    int32_t epoch = req->controller_epoch;

    atomic_fetch_add(&br->requests, 1);
    if (epoch < br->max_epoch) {
        atomic_fetch_add(&br->refused, 1);
        bench_reply(call, req, 11, "stale controller epoch");
        return;
    }
    if (req->broker_epoch != atomic_load(&br->czxid)) {
        atomic_fetch_add(&br->refused, 1);
        bench_reply(call, req, 77, "stale broker epoch");
        return;
    }
    br->max_epoch = epoch;
    if (req->payload_case == SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST) {
        if (atomic_load(&br->lai_epoch) != epoch) {
            atomic_store(&br->lai_epoch, epoch);
            atomic_store(&br->lai_parts, 0);
        }
        atomic_fetch_add(&br->lai_parts, (int64_t)bench_lai_parts(req->leader_and_isr_request));
        atomic_store(&br->lai_last_ms, bench_wall_ms());
    }
    bench_reply(call, req, 0, NULL);
}

static void bench_broker_register(bench_broker_t *br);

static void bench_broker_on_created(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    bench_broker_t *br = arg;

    (void)zk;
    if (res->err == SM_OK) {
        atomic_store(&br->czxid, res->stat->czxid);
        sm_log_info("broker %d registered (czxid %" PRId64 ")", (int)br->id, res->stat->czxid);
    } else if (res->err == SM_ERR_EXISTS) {
        bench_sleep_ms(200); /* a registration of our expired session: wait it out */
        bench_broker_register(br);
    } else if (res->err != SM_ERR_CLOSED) {
        sm_log_error("broker %d cannot register: %s", (int)br->id, sm_zk_zerr_str(res->zerr));
    }
}

static void bench_broker_register(bench_broker_t *br)
{
    ctl_endpoint_t ep = {"PLAINTEXT", "127.0.0.1", 9092};
    ctl_broker_t reg = {.id = br->id,
                        .endpoints = &ep,
                        .n_endpoints = 1,
                        .control = {"CONTROL", "127.0.0.1", br->port},
                        .start_time_ms = bench_wall_ms()};
    char path[64];
    uint8_t *data = NULL;
    size_t len = 0;

    ep.port = 19092 + br->id;
    snprintf(path, sizeof(path), "/brokers/ids/%d", (int)br->id);
    if (ctl_codec_broker_encode(&reg, &data, &len) == SM_OK)
        sm_zk_create(br->zk, path, data, len, SM_ZK_EPHEMERAL | SM_ZK_PARENTS,
                     bench_broker_on_created, br);
    free(data);
}

static void bench_broker_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    (void)zk;
    if (ev == SM_ZK_EV_CONNECTED && atomic_load(&((bench_broker_t *)arg)->czxid) == 0)
        bench_broker_register(arg);
    else if (ev == SM_ZK_EV_EXPIRED)
        atomic_store(&((bench_broker_t *)arg)->czxid, 0);
}

static int bench_broker_start(bench_t *b, bench_broker_t *br, int32_t id)
{
    sm_zk_config_t zc = {.connect = b->connect,
                         .session_timeout_ms = 10000,
                         .session_cb = bench_broker_session,
                         .arg = br};
    sm_errbuf_t eb = {{0}};

    br->b = b;
    br->id = id;
    br->port = (uint16_t)(b->base_port + 40 + id);
    if (sm_rpc_server_new(b->base, "127.0.0.1", br->port, NULL, bench_broker_handle, br, &br->srv,
                          &eb) != SM_OK ||
        sm_zk_new(b->base, &zc, &br->zk, &eb) != SM_OK) {
        fprintf(stderr, "bench_controller: broker %d: %s\n", (int)id, eb.msg);
        return -1;
    }
    return 0;
}

static void bench_on_stop(evutil_socket_t fd, short what, void *arg)
{
    bench_t *b = arg;

    (void)fd;
    (void)what;
    if (atomic_load(&b->stop))
        event_base_loopbreak(b->base);
}

static void *bench_brokers_thread(void *arg)
{
    bench_t *b = arg;

    event_base_dispatch(b->base);
    for (int i = 0; i < b->n_brokers; i++) {
        sm_zk_free(b->brokers[i].zk);
        sm_rpc_server_free(b->brokers[i].srv);
    }
    return NULL;
}

static int bench_brokers_up(bench_t *b)
{
    static const struct timeval tick = {0, 50000};

    evthread_use_pthreads();
    b->base = event_base_new();
    b->stop_ev = event_new(b->base, -1, EV_PERSIST, bench_on_stop, b);
    if (b->base == NULL || b->stop_ev == NULL || event_add(b->stop_ev, &tick) != 0)
        return -1;
    for (int i = 0; i < b->n_brokers; i++) {
        if (bench_broker_start(b, &b->brokers[i], b->first_id + i) < 0)
            return -1;
    }
    return pthread_create(&b->thread, NULL, bench_brokers_thread, b) == 0 ? 0 : -1;
}

static void bench_brokers_down(bench_t *b)
{
    atomic_store(&b->stop, 1);
    pthread_join(b->thread, NULL);
    event_free(b->stop_ev);
    event_base_free(b->base);
}

static bool bench_brokers_registered(bench_t *b)
{
    for (int i = 0; i < b->n_brokers; i++) {
        if (atomic_load(&b->brokers[i].czxid) == 0)
            return false;
    }
    return true;
}

/* Partitions of LeaderAndIsr received for controller epoch `epoch`, over all brokers, and
 * the wall-clock time of the last one. */
static int64_t bench_lai_count(bench_t *b, int32_t epoch, int64_t *last_ms)
{
    int64_t n = 0;

    *last_ms = 0;
    for (int i = 0; i < b->n_brokers; i++) {
        bench_broker_t *br = &b->brokers[i];

        if (atomic_load(&br->lai_epoch) != epoch)
            continue;
        n += atomic_load(&br->lai_parts);
        if (atomic_load(&br->lai_last_ms) > *last_ms)
            *last_ms = atomic_load(&br->lai_last_ms);
    }
    return n;
}

/* ---- the scenario (main thread) ------------------------------------------------------------ */

/* One request to host:port, answered within timeout_ms; *out receives a copy of the answer
 * (free with samsa__envelope__free_unpacked) or NULL. */
typedef struct bench_call {
    struct event_base *base;
    Samsa__Envelope *resp;
} bench_call_t;

static void bench_call_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    bench_call_t *bc = arg;
    uint8_t *buf;
    size_t len;

    if (err == SM_OK) {
        len = samsa__envelope__get_packed_size(resp);
        buf = malloc(len + 1);
        if (buf != NULL) {
            samsa__envelope__pack(resp, buf);
            bc->resp = samsa__envelope__unpack(NULL, len, buf);
            free(buf);
        }
    }
    event_base_loopbreak(bc->base);
}

static Samsa__Envelope *bench_call(int port, Samsa__Envelope *req, uint32_t timeout_ms)
{
    bench_call_t bc = {event_base_new(), NULL};
    sm_rpc_client_t *cl = NULL;

    if (bc.base != NULL &&
        sm_rpc_client_new(bc.base, "127.0.0.1", (uint16_t)port, NULL, &cl) == SM_OK &&
        sm_rpc_client_call(cl, req, timeout_ms, bench_call_done, &bc) == SM_OK)
        event_base_dispatch(bc.base);
    sm_rpc_client_free(cl);
    if (bc.base != NULL)
        event_base_free(bc.base);
    return bc.resp;
}

static int bench_create_topics(bench_t *b, int ctl_port)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT, *resp;
    Samsa__CreateTopicsRequest req = SAMSA__CREATE_TOPICS_REQUEST__INIT;
    Samsa__CreatableTopic *ts = calloc((size_t)b->topics, sizeof(*ts));
    Samsa__CreatableTopic **tp = calloc((size_t)b->topics, sizeof(*tp));
    char(*names)[32] = calloc((size_t)b->topics, 32);
    int rc = -1;

    if (ts == NULL || tp == NULL || names == NULL)
        goto out;
    for (int i = 0; i < b->topics; i++) {
        samsa__creatable_topic__init(&ts[i]);
        snprintf(names[i], 32, "bench-%03d", i);
        ts[i].name = names[i];
        ts[i].has_num_partitions = ts[i].has_replication_factor = 1;
        ts[i].num_partitions = b->partitions;
        ts[i].replication_factor = b->rf;
        tp[i] = &ts[i];
    }
    req.n_topics = (size_t)b->topics;
    req.topics = tp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST;
    env.create_topics_request = &req;
    resp = bench_call(ctl_port, &env, 60000);
    if (resp != NULL && resp->payload_case == SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE) {
        rc = 0;
        for (size_t i = 0; i < resp->create_topics_response->n_topics; i++) {
            const Samsa__CreatableTopicResult *r = resp->create_topics_response->topics[i];

            if (r->error_code != 0 && r->error_code != 36) {
                fprintf(stderr, "create %s: %d %s\n", r->name, (int)r->error_code,
                        r->error_message ? r->error_message : "");
                rc = -1;
            }
        }
    }
    if (resp != NULL)
        samsa__envelope__free_unpacked(resp, NULL);
out:
    free(ts);
    free(tp);
    free(names);
    return rc;
}

static pid_t bench_spawn_controller(bench_t *b, int i)
{
    char cfg[512], log[512];
    FILE *f;
    pid_t pid;

    snprintf(cfg, sizeof(cfg), "%s/controller-%d.properties", b->dir, i + 1);
    snprintf(log, sizeof(log), "%s/controller-%d.log", b->dir, i + 1);
    f = fopen(cfg, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "controller.id=%d\nlisteners=127.0.0.1:%d\nzookeeper.connect=%s\n"
            "zookeeper.session.timeout.ms=%d\nlog.level=info\n",
            i + 1, b->base_port + 10 + i, b->connect, b->session_ms);
    fclose(f);
    pid = fork();
    if (pid == 0) {
        FILE *lf = freopen(log, "a", stderr);

        (void)lf;
        execl(b->ctl_bin, b->ctl_bin, "-c", cfg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The active controller as /controller says: id, epoch and the znode's ctime. */
static int bench_active(sm_zk_sync_t *zs, int32_t *id, int32_t *epoch, int64_t *ctime_ms)
{
    void *data = NULL;
    size_t len = 0;
    sm_zk_stat_t st;
    int rc = -1;

    if (sm_zk_sync_get(zs, "/controller", &data, &len, &st, NULL) == SM_OK &&
        ctl_codec_controller_decode(data, len, id, epoch, NULL, 0, NULL) == SM_OK) {
        *ctime_ms = st.ctime_ms;
        rc = 0;
    }
    free(data);
    return rc;
}

/* Finds in a controller's log the last "<prefix>... <N> ms<suffix>" and returns N, or -1. */
static long bench_log_ms(bench_t *b, int i, const char *prefix, const char *must, long skip)
{
    char path[512], *buf, *p, *hit = NULL;
    long ms = -1, size, n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/controller-%d.log", b->dir, i + 1);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
        for (p = strstr(buf, prefix); p != NULL; p = strstr(p + 1, prefix)) {
            char *eol = strchr(p, '\n');

            if (must != NULL &&
                (eol == NULL || memmem(p, (size_t)(eol - p) + 1, must, strlen(must)) == NULL))
                continue;
            if (n++ >= skip)
                hit = p;
        }
    }
    if (hit != NULL) {
        char *ms_at = strstr(hit, " ms");

        while (ms_at != NULL && ms_at > hit && ms_at[-1] >= '0' && ms_at[-1] <= '9')
            ms_at--;
        if (ms_at != NULL)
            ms = strtol(ms_at, NULL, 10);
    }
    free(buf);
    fclose(f);
    return ms;
}

static long bench_log_count(bench_t *b, int i, const char *prefix)
{
    char path[512], line[1024];
    long n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/controller-%d.log", b->dir, i + 1);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, prefix) != NULL;
    fclose(f);
    return n;
}

static int bench_wait_active(bench_t *b, sm_zk_sync_t *zs, int32_t min_epoch, int timeout_ms,
                             int32_t *id, int32_t *epoch, int64_t *ctime)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (bench_active(zs, id, epoch, ctime) == 0 && *epoch >= min_epoch)
            return 0;
        bench_sleep_ms(10);
    }
    (void)b;
    return -1;
}

static int bench_wait_lai(bench_t *b, int32_t epoch, int64_t want, int timeout_ms, int64_t *last_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (bench_lai_count(b, epoch, last_ms) >= want)
            return 0;
        bench_sleep_ms(10);
    }
    return -1;
}

typedef struct bench_result {
    long kill_to_won, won_to_ack_ctl, won_to_ack_brokers, kill_to_serving, cold_load;
} bench_result_t;

/* Restarts controller i and waits for its cold load of the cluster state; returns its ms. */
static long bench_restart(bench_t *b, int i)
{
    long before = bench_log_count(b, i, "cluster state loaded");

    b->ctl_pid[i] = bench_spawn_controller(b, i);
    for (int waited = 0; waited < 60000; waited += 20) {
        if (bench_log_count(b, i, "cluster state loaded") > before)
            return bench_log_ms(b, i, "cluster state loaded", NULL, before);
        bench_sleep_ms(20);
    }
    return -1;
}

static int bench_round(bench_t *b, sm_zk_sync_t *zs, bench_result_t *r)
{
    int32_t id, epoch, nid, nepoch;
    int64_t ctime, nctime, last = 0, t_kill, want;
    char must[64];
    int idx;

    if (bench_active(zs, &id, &epoch, &ctime) != 0 || id < 1 || id > 2)
        return -1;
    idx = id - 1;
    t_kill = bench_wall_ms();
    kill(b->ctl_pid[idx], SIGKILL);
    waitpid(b->ctl_pid[idx], NULL, 0);
    b->ctl_pid[idx] = -1;
    if (bench_wait_active(b, zs, epoch + 1, b->session_ms * 3 + 10000, &nid, &nepoch, &nctime) !=
        0) {
        fprintf(stderr, "no new controller after the kill\n");
        return -1;
    }
    want = (int64_t)b->topics * b->partitions * b->rf;
    if (bench_wait_lai(b, nepoch, want, 60000, &last) != 0)
        fprintf(stderr, "brokers got fewer LeaderAndIsr partitions than %" PRId64 "\n", want);
    snprintf(must, sizeof(must), "winning epoch %d\n", (int)nepoch);
    r->won_to_ack_ctl = -1;
    for (int waited = 0; waited < 10000 && r->won_to_ack_ctl < 0; waited += 20) {
        r->won_to_ack_ctl = bench_log_ms(b, nid - 1, "failover complete", must, 0);
        if (r->won_to_ack_ctl < 0)
            bench_sleep_ms(20);
    }
    r->kill_to_won = (long)(nctime - t_kill);
    r->won_to_ack_brokers = (long)(last - nctime);
    r->kill_to_serving = (long)(last - t_kill);
    r->cold_load = bench_restart(b, idx);
    return 0;
}

static int bench_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

static long bench_median(const bench_result_t *rs, int n, size_t field)
{
    long v[64];

    for (int i = 0; i < n && i < 64; i++)
        v[i] = *(const long *)((const char *)&rs[i] + field);
    qsort(v, (size_t)n, sizeof(long), bench_cmp_long);
    return v[n / 2];
}

static void bench_report(const bench_t *b, const bench_result_t *rs, int n)
{
    printf("bench_controller: %d topics x %d partitions (RF %d) = %d partitions on %d brokers, "
           "zookeeper.session.timeout.ms=%d\n",
           b->topics, b->partitions, b->rf, b->topics * b->partitions, b->n_brokers, b->session_ms);
    printf("%-6s %12s %16s %19s %16s %12s\n", "round", "kill->won", "won->acked(ctl)",
           "won->acked(broker)", "kill->serving", "cold load");
    for (int i = 0; i < n; i++)
        printf("%-6d %10ld ms %13ld ms %16ld ms %13ld ms %9ld ms\n", i + 1, rs[i].kill_to_won,
               rs[i].won_to_ack_ctl, rs[i].won_to_ack_brokers, rs[i].kill_to_serving,
               rs[i].cold_load);
    if (n > 0)
        printf("%-6s %10ld ms %13ld ms %16ld ms %13ld ms %9ld ms\n", "median",
               bench_median(rs, n, offsetof(bench_result_t, kill_to_won)),
               bench_median(rs, n, offsetof(bench_result_t, won_to_ack_ctl)),
               bench_median(rs, n, offsetof(bench_result_t, won_to_ack_brokers)),
               bench_median(rs, n, offsetof(bench_result_t, kill_to_serving)),
               bench_median(rs, n, offsetof(bench_result_t, cold_load)));
}

static int bench_setup(bench_t *b, sm_zk_sync_t **zs)
{
    sm_errbuf_t eb = {{0}};
    int32_t id, epoch;
    int64_t ctime, last, t0;

    if (mkdir(b->dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_controller: cannot create %s\n", b->dir);
        return -1;
    }
    if (sm_zk_sync_open(b->connect, 10000, 10000, zs, &eb) != SM_OK) {
        fprintf(stderr, "bench_controller: %s\n", eb.msg);
        return -1;
    }
    if (bench_brokers_up(b) != 0)
        return -1;
    for (int i = 0; i < 100 && !bench_brokers_registered(b); i++)
        bench_sleep_ms(100);
    b->ctl_pid[0] = bench_spawn_controller(b, 0);
    b->ctl_pid[1] = bench_spawn_controller(b, 1);
    if (bench_wait_active(b, *zs, 1, 20000, &id, &epoch, &ctime) != 0) {
        fprintf(stderr, "bench_controller: no controller became active\n");
        return -1;
    }
    bench_sleep_ms(500);
    t0 = bench_wall_ms();
    if (bench_create_topics(b, b->base_port + 10 + id - 1) != 0) {
        fprintf(stderr, "bench_controller: topic creation failed\n");
        return -1;
    }
    if (bench_wait_lai(b, epoch, (int64_t)b->topics * b->partitions * b->rf, 120000, &last)) {
        fprintf(stderr, "bench_controller: the partitions never all got leaders\n");
        return -1;
    }
    printf("created %d partitions; the brokers had every LeaderAndIsr %" PRId64
           " ms after the request\n",
           b->topics * b->partitions, last - t0);
    bench_sleep_ms(2000); /* let the standby's watches settle */
    return 0;
}

static void bench_teardown(bench_t *b, sm_zk_sync_t *zs)
{
    for (int i = 0; i < 2; i++) {
        if (b->ctl_pid[i] > 0) {
            kill(b->ctl_pid[i], SIGTERM);
            waitpid(b->ctl_pid[i], NULL, 0);
        }
    }
    if (b->base != NULL)
        bench_brokers_down(b);
    sm_zk_sync_close(zs);
}

static int bench_run(bench_t *b)
{
    bench_result_t rs[64];
    sm_zk_sync_t *zs = NULL;
    int n = 0, rc = 1;

    if (bench_setup(b, &zs) == 0) {
        for (; n < b->rounds && n < 64; n++) {
            if (bench_round(b, zs, &rs[n]) != 0)
                break;
            bench_sleep_ms(1000);
        }
        bench_report(b, rs, n);
        rc = n == b->rounds ? 0 : 1;
    }
    bench_teardown(b, zs);
    return rc;
}

static int bench_brokers_only(bench_t *b)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (bench_brokers_up(b) != 0)
        return 1;
    printf("brokers %d..%d: control ports %d..%d\n", b->first_id, b->first_id + b->n_brokers - 1,
           b->base_port + 40 + b->first_id, b->base_port + 39 + b->first_id + b->n_brokers);
    fflush(stdout);
    sigwait(&set, &sig);
    for (int i = 0; i < b->n_brokers; i++)
        printf("broker %d: %" PRId64 " requests, %" PRId64 " refused, %" PRId64
               " LeaderAndIsr partitions in epoch %d\n",
               (int)b->brokers[i].id, atomic_load(&b->brokers[i].requests),
               atomic_load(&b->brokers[i].refused), atomic_load(&b->brokers[i].lai_parts),
               (int)atomic_load(&b->brokers[i].lai_epoch));
    bench_brokers_down(b);
    return 0;
}

static int bench_parse(bench_t *b, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            return -1;
        i++;
        if (strcmp(k, "--zk") == 0)
            b->zk = v;
        else if (strcmp(k, "--controller") == 0)
            b->ctl_bin = v;
        else if (strcmp(k, "--dir") == 0)
            snprintf(b->dir, sizeof(b->dir), "%s", v);
        else if (strcmp(k, "--base-port") == 0)
            b->base_port = atoi(v);
        else if (strcmp(k, "--topics") == 0)
            b->topics = atoi(v);
        else if (strcmp(k, "--partitions") == 0)
            b->partitions = atoi(v);
        else if (strcmp(k, "--rf") == 0)
            b->rf = atoi(v);
        else if (strcmp(k, "--brokers") == 0)
            b->n_brokers = atoi(v);
        else if (strcmp(k, "--rounds") == 0)
            b->rounds = atoi(v);
        else if (strcmp(k, "--session-ms") == 0)
            b->session_ms = atoi(v);
        else if (strcmp(k, "--first-id") == 0)
            b->first_id = atoi(v);
        else
            return -1;
    }
    return b->zk != NULL && b->n_brokers >= 1 && b->n_brokers <= BENCH_MAX_BROKERS ? 0 : -1;
}

int main(int argc, char **argv)
{
    static bench_t b = {.base_port = 23000,
                        .topics = 100,
                        .partitions = 100,
                        .rf = 3,
                        .n_brokers = 3,
                        .rounds = 3,
                        .session_ms = 2000,
                        .first_id = 1};
    bool run = argc > 1 && strcmp(argv[1], "run") == 0;

    signal(SIGPIPE, SIG_IGN);
    sm_log_init("bench", SM_LOG_WARN);
    if (argc < 2 || (!run && strcmp(argv[1], "brokers") != 0) || bench_parse(&b, argc, argv) ||
        (run && b.ctl_bin == NULL)) {
        fprintf(stderr, "usage: bench_controller run --zk HOST:PORT --controller BIN [--dir DIR]"
                        " [--base-port P] [--topics N] [--partitions N] [--rf N] [--brokers N]"
                        " [--rounds N] [--session-ms MS]\n"
                        "       bench_controller brokers --zk HOST:PORT/CHROOT [--brokers N]"
                        " [--base-port P] [--first-id ID]\n");
        return 2;
    }
    if (!run) {
        snprintf(b.connect, sizeof(b.connect), "%s", b.zk);
        return bench_brokers_only(&b);
    }
    snprintf(b.chroot, sizeof(b.chroot), "/bench-%ld", (long)getpid());
    snprintf(b.connect, sizeof(b.connect), "%s%s", b.zk, b.chroot);
    if (b.dir[0] == '\0')
        snprintf(b.dir, sizeof(b.dir), "/tmp/bench_controller.%ld", (long)getpid());
    return bench_run(&b);
}
