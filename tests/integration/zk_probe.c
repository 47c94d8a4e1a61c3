/*
 * zk_probe: a test program for the ZooKeeper session module (common/sm_zk) against a real
 * server, used by tests/integration/0001_zk.sh. Each subcommand runs one libevent loop with
 * one sm_zk session (the ls/exists/screate commands use the blocking sm_zk_sync API instead).
 *
 *   zk_probe hold ZK PATH [SESSION_MS]   create ephemeral PATH (parents too), print "held ...",
 *                                        run until SIGTERM, then close cleanly: "closed"
 *   zk_probe watch-gone ZK PATH SECS     watch PATH (which must exist); print "watching", then
 *                                        "gone" when it is deleted; exit 1 after SECS
 *   zk_probe cas ZK PATH                 conditional set: fresh version wins, stale one fails
 *   zk_probe multi ZK BASE               a multi whose check fails writes nothing; a good one
 *                                        applies every op
 *   zk_probe watches ZK BASE             data, child and exists watches fire once each
 *   zk_probe expire ZK PATH SECS         hold ephemeral PATH in a 2 s session, print "ready";
 *                                        after an expiry (the test SIGSTOPs us) expect EXPIRED
 *                                        then CONNECTED with a new session, recreate PATH
 *   zk_probe create ZK PATH [DATA]       async create with parents; prints "created PATH"
 *   zk_probe screate ZK PATH             the same with the blocking API
 *   zk_probe exists ZK PATH              blocking: exit 0 if PATH exists, 3 if not
 *   zk_probe ls ZK PATH                  blocking: child names, one a line
 *
 * ZK is a connect string, optionally with a chroot. Output lines starting with "#" explain;
 * the script decides ok / not ok from exit codes and the lines it waits for. Exit codes: 0
 * success, 1 check failed or deadline passed, 2 usage or connection error, 3 "no node".
 * Every wait is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <zookeeper/zookeeper.h>

#include "sm_log.h"
#include "sm_zk.h"

#define PROBE_CONNECT_MS 15000
#define PROBE_OP_MS      10000
#define PROBE_MAX_OPS    8

typedef struct probe {
    struct event_base *base;
    struct event *tick;
    struct event *sigterm;
    struct event *sigint;
    sm_zk_t *zk;
    int stop;
    /* session events */
    int connected, disconnected, expired;
    /* the last operation's result */
    int done;
    sm_err_t err;
    int zerr;
    int has_stat;
    sm_zk_stat_t stat;
    char created[512];
    char data[256];
    size_t len;
    size_t n_children;
    char first_child[256];
    size_t n_ops;
    sm_err_t op_err[PROBE_MAX_OPS];
    int op_zerr[PROBE_MAX_OPS];
    char op_created[PROBE_MAX_OPS][256];
    int32_t op_version[PROBE_MAX_OPS];
    /* the last watch */
    int fired;
    sm_zk_watch_event_t wev;
    char wpath[512];
} probe_t;

static int64_t probe_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void probe_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void probe_on_signal(evutil_socket_t fd, short what, void *arg)
{
    probe_t *p = arg;

    (void)fd;
    (void)what;
    p->stop = 1;
}

/* Runs the loop until *flag becomes non-zero (returns 1), or ms pass or SIGTERM/SIGINT
 * arrives (returns 0 unless flag is set). */
static int probe_wait(probe_t *p, const int *flag, int ms)
{
    int64_t deadline = probe_now_ms() + ms;

    while (*flag == 0 && !p->stop && probe_now_ms() < deadline)
        event_base_loop(p->base, EVLOOP_ONCE);
    return *flag != 0;
}

static void probe_on_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    probe_t *p = arg;

    printf("# session %s (id 0x%llx)\n", sm_zk_event_str(ev),
           (unsigned long long)sm_zk_session_id(zk));
    fflush(stdout);
    if (ev == SM_ZK_EV_CONNECTED)
        p->connected++;
    else if (ev == SM_ZK_EV_DISCONNECTED)
        p->disconnected++;
    else if (ev == SM_ZK_EV_EXPIRED)
        p->expired++;
}

static void probe_on_result(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    probe_t *p = arg;
    size_t i;

    (void)zk;
    p->done = 1;
    p->err = res->err;
    p->zerr = res->zerr;
    p->has_stat = res->stat != NULL;
    if (res->stat != NULL)
        p->stat = *res->stat;
    snprintf(p->created, sizeof(p->created), "%s", res->created ? res->created : "");
    p->len = res->len < sizeof(p->data) - 1 ? res->len : sizeof(p->data) - 1;
    if (p->len > 0)
        memcpy(p->data, res->data, p->len);
    p->data[p->len] = '\0';
    p->n_children = res->n_children;
    snprintf(p->first_child, sizeof(p->first_child), "%s",
             res->n_children > 0 ? res->children[0] : "");
    p->n_ops = res->n_ops < PROBE_MAX_OPS ? res->n_ops : PROBE_MAX_OPS;
    for (i = 0; i < p->n_ops; i++) {
        p->op_err[i] = res->ops[i].err;
        p->op_zerr[i] = res->ops[i].zerr;
        snprintf(p->op_created[i], sizeof(p->op_created[i]), "%s",
                 res->ops[i].created ? res->ops[i].created : "");
        p->op_version[i] = res->ops[i].stat ? res->ops[i].stat->version : -100;
    }
}

static void probe_on_watch(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    probe_t *p = arg;

    (void)zk;
    p->fired++;
    p->wev = ev;
    snprintf(p->wpath, sizeof(p->wpath), "%s", path);
}

/* Starts an operation (the caller passes the sm_zk call's return) and waits for its result.
 * Returns the result's error, or SM_ERR_TIMEOUT. */
static sm_err_t probe_await(probe_t *p, sm_err_t started)
{
    if (started != SM_OK)
        return started;
    if (!probe_wait(p, &p->done, PROBE_OP_MS))
        return SM_ERR_TIMEOUT;
    return p->err;
}

#define PROBE_RUN(p, call) (((p)->done = 0), probe_await((p), (call)))

static int probe_open(probe_t *p, const char *connect, int session_ms)
{
    sm_zk_config_t cfg = {
        .connect = connect,
        .session_timeout_ms = session_ms,
        .connect_timeout_ms = PROBE_CONNECT_MS,
        .session_cb = probe_on_session,
        .arg = p,
    };
    struct timeval tv = {0, 50000};
    sm_errbuf_t eb = {{0}};

    p->base = event_base_new();
    p->tick = event_new(p->base, -1, EV_PERSIST, probe_on_tick, p);
    p->sigterm = evsignal_new(p->base, SIGTERM, probe_on_signal, p);
    p->sigint = evsignal_new(p->base, SIGINT, probe_on_signal, p);
    if (p->base == NULL || p->tick == NULL || p->sigterm == NULL || p->sigint == NULL)
        return 0;
    event_add(p->tick, &tv);
    event_add(p->sigterm, NULL);
    event_add(p->sigint, NULL);
    if (sm_zk_new(p->base, &cfg, &p->zk, &eb) != SM_OK) {
        printf("# sm_zk_new: %s\n", eb.msg);
        return 0;
    }
    if (!probe_wait(p, &p->connected, PROBE_CONNECT_MS)) {
        printf("# ZooKeeper %s: no session within %d ms\n", connect, PROBE_CONNECT_MS);
        return 0;
    }
    return 1;
}

static void probe_close(probe_t *p)
{
    sm_zk_free(p->zk);
    p->zk = NULL;
    if (p->tick != NULL)
        event_free(p->tick);
    if (p->sigterm != NULL)
        event_free(p->sigterm);
    if (p->sigint != NULL)
        event_free(p->sigint);
    if (p->base != NULL)
        event_base_free(p->base);
}

static int probe_check(int cond, const char *what)
{
    printf("# %s %s\n", cond ? "yes:" : "NO: ", what);
    return cond;
}

/* ---- scenarios ---------------------------------------------------------------------------- */

static int probe_hold(probe_t *p, const char *path)
{
    sm_err_t err;

    err = PROBE_RUN(p, sm_zk_create(p->zk, path, "holder", 6, SM_ZK_EPHEMERAL | SM_ZK_PARENTS,
                                    probe_on_result, p));
    if (err != SM_OK) {
        printf("# create %s: %s (%s)\n", path, sm_err_str(err), sm_zk_zerr_str(p->zerr));
        return 1;
    }
    printf("held %s czxid=%lld session=0x%llx owner=0x%llx\n", p->created, (long long)p->stat.czxid,
           (unsigned long long)sm_zk_session_id(p->zk),
           (unsigned long long)p->stat.ephemeral_owner);
    fflush(stdout);
    probe_wait(p, &p->stop, 300000);
    sm_zk_free(p->zk);
    p->zk = NULL;
    printf("closed\n");
    return 0;
}

static int probe_watch_gone(probe_t *p, const char *path, int secs)
{
    int64_t deadline = probe_now_ms() + (int64_t)secs * 1000;
    sm_err_t err;

    for (;;) {
        p->fired = 0;
        err = PROBE_RUN(p, sm_zk_exists(p->zk, path, probe_on_watch, p, probe_on_result, p));
        if (err == SM_ERR_NOT_FOUND) {
            printf("gone %s (re-check)\n", path);
            return 0;
        }
        if (err != SM_OK) {
            printf("# exists %s: %s\n", path, sm_err_str(err));
            return err == SM_ERR_NOT_FOUND ? 3 : 1;
        }
        printf("watching %s owner=0x%llx\n", path, (unsigned long long)p->stat.ephemeral_owner);
        fflush(stdout);
        if (!probe_wait(p, &p->fired, (int)(deadline - probe_now_ms()))) {
            printf("timeout\n");
            return 1;
        }
        if (p->wev == SM_ZK_WATCH_DELETED) {
            printf("gone %s\n", p->wpath);
            return 0;
        }
    }
}

static int probe_cas(probe_t *p, const char *path)
{
    int ok = 1;
    int32_t v;
    sm_err_t err;

    err = PROBE_RUN(p, sm_zk_create(p->zk, path, "v0", 2, SM_ZK_PARENTS, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "create with parents");
    err = PROBE_RUN(p, sm_zk_get(p->zk, path, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_OK && strcmp(p->data, "v0") == 0 && p->has_stat, "get v0");
    v = p->stat.version;
    err = PROBE_RUN(p, sm_zk_set(p->zk, path, "v1", 2, v, probe_on_result, p));
    ok &= probe_check(err == SM_OK && p->stat.version == v + 1, "set with fresh version");
    err = PROBE_RUN(p, sm_zk_set(p->zk, path, "v2", 2, v, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_VERSION && p->zerr == ZBADVERSION,
                      "set with stale version fails with SM_ERR_VERSION");
    err = PROBE_RUN(p, sm_zk_get(p->zk, path, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_OK && strcmp(p->data, "v1") == 0, "data is still v1");
    err = PROBE_RUN(p, sm_zk_set(p->zk, path, "v3", 2, -1, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "set with version -1");
    err = PROBE_RUN(p, sm_zk_delete(p->zk, path, v, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_VERSION, "delete with stale version fails");
    err = PROBE_RUN(p, sm_zk_delete(p->zk, path, v + 2, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "delete with fresh version");
    err = PROBE_RUN(p, sm_zk_get(p->zk, path, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_NOT_FOUND, "get after delete: SM_ERR_NOT_FOUND");
    err = PROBE_RUN(p, sm_zk_create(p->zk, path, NULL, 0, 0, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "create again");
    err = PROBE_RUN(p, sm_zk_create(p->zk, path, NULL, 0, 0, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_EXISTS, "create twice: SM_ERR_EXISTS");
    return ok ? 0 : 1;
}

static int probe_multi(probe_t *p, const char *base)
{
    char child[256], seq[256];
    int ok = 1;
    int32_t v;
    sm_err_t err;

    snprintf(child, sizeof(child), "%s/a", base);
    snprintf(seq, sizeof(seq), "%s/s-", base);
    err = PROBE_RUN(p, sm_zk_ensure_path(p->zk, base, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "ensure_path base");
    err = PROBE_RUN(p, sm_zk_ensure_path(p->zk, base, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "ensure_path on an existing node is success");
    err = PROBE_RUN(p, sm_zk_get(p->zk, base, NULL, NULL, probe_on_result, p));
    v = p->stat.version;
    {
        sm_zk_op_t bad[3] = {
            {.type = SM_ZK_OP_CREATE, .path = child, .data = "x", .len = 1},
            {.type = SM_ZK_OP_SET, .path = base, .data = "y", .len = 1, .version = v},
            {.type = SM_ZK_OP_CHECK, .path = base, .version = v + 100},
        };
        err = PROBE_RUN(p, sm_zk_multi(p->zk, bad, 3, probe_on_result, p));
        ok &= probe_check(err == SM_ERR_VERSION, "multi with failing check: SM_ERR_VERSION");
        ok &= probe_check(p->n_ops == 3 && p->op_err[2] == SM_ERR_VERSION,
                          "the check op carries the version error");
        ok &= probe_check(p->op_err[0] != SM_OK && p->op_err[1] != SM_OK &&
                              p->op_created[0][0] == '\0',
                          "the other ops report not applied");
    }
    err = PROBE_RUN(p, sm_zk_exists(p->zk, child, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_NOT_FOUND, "the create in the failed multi did not happen");
    err = PROBE_RUN(p, sm_zk_get(p->zk, base, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_OK && p->stat.version == v && p->len == 0,
                      "the set in the failed multi did not happen");
    {
        sm_zk_op_t good[4] = {
            {.type = SM_ZK_OP_CREATE, .path = child, .data = "x", .len = 1},
            {.type = SM_ZK_OP_SET, .path = base, .data = "y", .len = 1, .version = v},
            {.type = SM_ZK_OP_CHECK, .path = base, .version = v + 1},
            {.type = SM_ZK_OP_CREATE, .path = seq, .flags = SM_ZK_SEQUENTIAL},
        };
        err = PROBE_RUN(p, sm_zk_multi(p->zk, good, 4, probe_on_result, p));
        ok &= probe_check(err == SM_OK, "good multi succeeds");
        ok &= probe_check(strcmp(p->op_created[0], child) == 0, "multi create reports its path");
        ok &= probe_check(p->op_version[1] == v + 1, "multi set reports the new version");
        ok &= probe_check(strncmp(p->op_created[3], seq, strlen(seq)) == 0 &&
                              strlen(p->op_created[3]) == strlen(seq) + 10,
                          "multi sequential create gets a 10-digit suffix");
    }
    err = PROBE_RUN(p, sm_zk_get(p->zk, child, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_OK && strcmp(p->data, "x") == 0, "multi create applied");
    err = PROBE_RUN(p, sm_zk_children(p->zk, base, NULL, NULL, probe_on_result, p));
    ok &= probe_check(err == SM_OK && p->n_children == 2 && strcmp(p->first_child, "a") == 0,
                      "children lists both, sorted");
    {
        sm_zk_op_t del[2] = {
            {.type = SM_ZK_OP_DELETE, .path = child, .version = 0},
            {.type = SM_ZK_OP_DELETE, .path = base, .version = -1},
        };
        err = PROBE_RUN(p, sm_zk_multi(p->zk, del, 2, probe_on_result, p));
        ok &= probe_check(err != SM_OK, "multi deleting a non-empty parent fails");
        err = PROBE_RUN(p, sm_zk_exists(p->zk, child, NULL, NULL, probe_on_result, p));
        ok &= probe_check(err == SM_OK, "and its first delete was rolled back");
    }
    return ok ? 0 : 1;
}

static int probe_watches(probe_t *p, const char *base)
{
    char node[256], kids[256], kid[256], later[256];
    int ok = 1;
    sm_err_t err;

    snprintf(node, sizeof(node), "%s/node", base);
    snprintf(kids, sizeof(kids), "%s/kids", base);
    snprintf(kid, sizeof(kid), "%s/kids/k1", base);
    snprintf(later, sizeof(later), "%s/later", base);
    err = PROBE_RUN(p, sm_zk_create(p->zk, node, "a", 1, SM_ZK_PARENTS, probe_on_result, p));
    err = PROBE_RUN(p, sm_zk_ensure_path(p->zk, kids, probe_on_result, p));

    p->fired = 0;
    err = PROBE_RUN(p, sm_zk_get(p->zk, node, probe_on_watch, p, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "get with watch");
    err = PROBE_RUN(p, sm_zk_set(p->zk, node, "b", 1, -1, probe_on_result, p));
    ok &= probe_check(probe_wait(p, &p->fired, PROBE_OP_MS) && p->wev == SM_ZK_WATCH_CHANGED &&
                          strcmp(p->wpath, node) == 0,
                      "data watch fires CHANGED with the path");
    err = PROBE_RUN(p, sm_zk_set(p->zk, node, "c", 1, -1, probe_on_result, p));
    probe_wait(p, &p->stop, 300);
    ok &= probe_check(p->fired == 1, "data watch fired once only");

    p->fired = 0;
    err = PROBE_RUN(p, sm_zk_children(p->zk, kids, probe_on_watch, p, probe_on_result, p));
    ok &= probe_check(err == SM_OK && p->n_children == 0, "children with watch (empty)");
    err = PROBE_RUN(p, sm_zk_create(p->zk, kid, NULL, 0, SM_ZK_EPHEMERAL, probe_on_result, p));
    ok &= probe_check(probe_wait(p, &p->fired, PROBE_OP_MS) && p->wev == SM_ZK_WATCH_CHILD,
                      "child watch fires CHILD");

    p->fired = 0;
    err = PROBE_RUN(p, sm_zk_exists(p->zk, later, probe_on_watch, p, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_NOT_FOUND, "exists on a missing node: SM_ERR_NOT_FOUND");
    err = PROBE_RUN(p, sm_zk_create(p->zk, later, NULL, 0, 0, probe_on_result, p));
    ok &= probe_check(probe_wait(p, &p->fired, PROBE_OP_MS) && p->wev == SM_ZK_WATCH_CREATED,
                      "exists watch on a missing node fires CREATED");

    p->fired = 0;
    err = PROBE_RUN(p, sm_zk_get(p->zk, "/no/such/node", probe_on_watch, p, probe_on_result, p));
    ok &= probe_check(err == SM_ERR_NOT_FOUND && p->zerr == ZNONODE,
                      "get on a missing node: SM_ERR_NOT_FOUND, raw ZNONODE");
    return ok ? 0 : 1;
}

static int probe_expire(probe_t *p, const char *path, int secs)
{
    char watched[512];
    int64_t old_session = sm_zk_session_id(p->zk);
    int want_connected = 2;
    int ok = 1;
    sm_err_t err;

    snprintf(watched, sizeof(watched), "%s.watched", path);
    err = PROBE_RUN(
        p, sm_zk_create(p->zk, path, NULL, 0, SM_ZK_EPHEMERAL | SM_ZK_PARENTS, probe_on_result, p));
    if (err != SM_OK) {
        printf("# create %s: %s\n", path, sm_err_str(err));
        return 1;
    }
    /* A watch of the old session: it must not be delivered after the expiry. */
    p->fired = 0;
    err = PROBE_RUN(p, sm_zk_exists(p->zk, watched, probe_on_watch, p, probe_on_result, p));
    printf("ready session=0x%llx timeout=%d\n", (unsigned long long)old_session,
           sm_zk_session_timeout_ms(p->zk));
    fflush(stdout);
    if (!probe_wait(p, &p->expired, secs * 1000)) {
        printf("# no expiry within %d s\n", secs);
        return 1;
    }
    printf("expired\n");
    fflush(stdout);
    ok &= probe_check(!sm_zk_connected(p->zk), "not connected right after EXPIRED");
    {
        int64_t deadline = probe_now_ms() + PROBE_CONNECT_MS;
        while (p->connected < want_connected && probe_now_ms() < deadline)
            event_base_loop(p->base, EVLOOP_ONCE);
    }
    if (!probe_check(p->connected >= want_connected, "CONNECTED follows EXPIRED"))
        return 1;
    printf("reconnected session=0x%llx\n", (unsigned long long)sm_zk_session_id(p->zk));
    ok &= probe_check(sm_zk_session_id(p->zk) != old_session && sm_zk_session_id(p->zk) != 0,
                      "the new session has a new id");
    err = PROBE_RUN(p, sm_zk_create(p->zk, path, NULL, 0, SM_ZK_EPHEMERAL, probe_on_result, p));
    ok &= probe_check(err == SM_OK, "ephemeral re-created in the new session");
    ok &=
        probe_check(p->stat.ephemeral_owner == sm_zk_session_id(p->zk), "owned by the new session");
    err = PROBE_RUN(p, sm_zk_create(p->zk, watched, NULL, 0, SM_ZK_EPHEMERAL, probe_on_result, p));
    probe_wait(p, &p->stop, 500);
    ok &= probe_check(p->fired == 0, "the old session's watch is not delivered");
    printf("recreated %s\n", path);
    return ok ? 0 : 1;
}

static int probe_create(probe_t *p, const char *path, const char *data)
{
    sm_err_t err;

    err = PROBE_RUN(p, sm_zk_create(p->zk, path, data, data ? strlen(data) : 0, SM_ZK_PARENTS,
                                    probe_on_result, p));
    if (err != SM_OK) {
        printf("# create %s: %s (%s)\n", path, sm_err_str(err), sm_zk_zerr_str(p->zerr));
        return 1;
    }
    printf("created %s\n", p->created);
    return 0;
}

/* ---- blocking commands -------------------------------------------------------------------- */

static int probe_sync(const char *cmd, const char *connect, const char *path)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    sm_zk_stat_t st;
    char created[512];
    char **names = NULL;
    size_t n = 0, i;
    sm_err_t err;
    int rc = 1;

    err = sm_zk_sync_open(connect, 4000, PROBE_CONNECT_MS, &zs, &eb);
    if (err != SM_OK) {
        printf("# %s\n", eb.msg);
        return 2;
    }
    if (strcmp(cmd, "exists") == 0) {
        err = sm_zk_sync_exists(zs, path, &st, &eb);
        if (err == SM_OK)
            printf("exists %s version=%d owner=0x%llx\n", path, st.version,
                   (unsigned long long)st.ephemeral_owner);
        rc = err == SM_OK ? 0 : err == SM_ERR_NOT_FOUND ? 3 : 1;
    } else if (strcmp(cmd, "ls") == 0) {
        err = sm_zk_sync_children(zs, path, &names, &n, &eb);
        for (i = 0; err == SM_OK && i < n; i++)
            printf("%s\n", names[i]);
        sm_zk_strings_free(names, n);
        rc = err == SM_OK ? 0 : err == SM_ERR_NOT_FOUND ? 3 : 1;
    } else if (strcmp(cmd, "screate") == 0) {
        err =
            sm_zk_sync_create(zs, path, "s", 1, SM_ZK_PARENTS, created, sizeof(created), &st, &eb);
        if (err == SM_OK) {
            void *data = NULL;
            size_t len = 0;
            err = sm_zk_sync_get(zs, path, &data, &len, NULL, &eb);
            if (err == SM_OK && (len != 1 || memcmp(data, "s", 1) != 0))
                err = SM_ERR_CORRUPT;
            free(data);
        }
        if (err == SM_OK)
            printf("created %s\n", created);
        rc = err == SM_OK ? 0 : 1;
    }
    if (err != SM_OK && eb.msg[0] != '\0')
        printf("# %s\n", eb.msg);
    sm_zk_sync_close(zs);
    return rc;
}

static void probe_usage(void)
{
    fprintf(stderr, "usage: zk_probe hold|watch-gone|cas|multi|watches|expire|create|screate|"
                    "exists|ls ZK PATH [ARG]\n");
}

int main(int argc, char **argv)
{
    probe_t p;
    const char *cmd, *connect, *path;
    int session_ms = 4000, rc = 2;

    memset(&p, 0, sizeof(p));
    setvbuf(stdout, NULL, _IOLBF, 0);
    sm_log_init("zk_probe", SM_LOG_INFO);
    if (argc < 4) {
        probe_usage();
        return 2;
    }
    cmd = argv[1];
    connect = argv[2];
    path = argv[3];
    if (strcmp(cmd, "exists") == 0 || strcmp(cmd, "ls") == 0 || strcmp(cmd, "screate") == 0)
        return probe_sync(cmd, connect, path);
    if (strcmp(cmd, "hold") == 0 && argc > 4)
        session_ms = atoi(argv[4]);
    if (strcmp(cmd, "expire") == 0)
        session_ms = 2000;
    if (!probe_open(&p, connect, session_ms)) {
        probe_close(&p);
        return 2;
    }
    if (strcmp(cmd, "hold") == 0)
        rc = probe_hold(&p, path);
    else if (strcmp(cmd, "watch-gone") == 0 && argc > 4)
        rc = probe_watch_gone(&p, path, atoi(argv[4]));
    else if (strcmp(cmd, "cas") == 0)
        rc = probe_cas(&p, path);
    else if (strcmp(cmd, "multi") == 0)
        rc = probe_multi(&p, path);
    else if (strcmp(cmd, "watches") == 0)
        rc = probe_watches(&p, path);
    else if (strcmp(cmd, "expire") == 0 && argc > 4)
        rc = probe_expire(&p, path, atoi(argv[4]));
    else if (strcmp(cmd, "create") == 0)
        rc = probe_create(&p, path, argc > 4 ? argv[4] : NULL);
    else
        probe_usage();
    probe_close(&p);
    return rc;
}
