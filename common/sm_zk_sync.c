/*
 * sm_zk_sync: the blocking ZooKeeper handle of sm_zk.h, for samsa-admin and start-up checks.
 * It wraps the C client's synchronous calls; the only state shared with the client's threads
 * is the session state, which the handle's watcher writes under a mutex and the opening
 * thread waits for on a condition variable (with a deadline, so an unreachable ensemble is a
 * clear SM_ERR_TIMEOUT instead of a hang).
 */
#include "sm_zk.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_zk_priv.h"

#define SM_ZK_SYNC_GET_INITIAL (64 * 1024)

struct sm_zk_sync {
    zhandle_t *zh;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;          /* guarded by mu: last session state reported by the client */
    int64_t session_id; /* guarded by mu */
};

/* @thread zk */
static void sm_zk_sync_on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    sm_zk_sync_t *zs = ctx;
    const clientid_t *id;

    (void)path;
    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&zs->mu);
    zs->state = state;
    if (state == ZOO_CONNECTED_STATE) {
        id = zoo_client_id(zh);
        zs->session_id = id != NULL ? id->client_id : 0;
    }
    pthread_cond_broadcast(&zs->cv);
    pthread_mutex_unlock(&zs->mu);
}

static int64_t sm_zk_sync_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sm_zk_sync_close(sm_zk_sync_t *zs)
{
    if (zs == NULL)
        return;
    /* Joins the client's threads: the watcher cannot run after this. */
    if (zs->zh != NULL)
        zookeeper_close(zs->zh);
    pthread_cond_destroy(&zs->cv);
    pthread_mutex_destroy(&zs->mu);
    free(zs);
}

/* Opens one handle on hosts (which may carry a chroot) and waits until deadline_ms. */
static sm_err_t sm_zk_sync_connect(const char *hosts, int session_timeout_ms, int64_t deadline_ms,
                                   int connect_timeout_ms, sm_zk_sync_t **out, sm_errbuf_t *eb)
{
    sm_zk_sync_t *zs;
    pthread_condattr_t ca;
    struct timespec ts;
    sm_err_t err = SM_OK;
    int64_t t;
    int state, saved;

    *out = NULL;
    zs = calloc(1, sizeof(*zs));
    if (zs == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&zs->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&zs->cv, &ca);
    pthread_condattr_destroy(&ca);
    sm_zk_client_log_setup();
    zs->zh = zookeeper_init2(hosts, sm_zk_sync_on_session, session_timeout_ms, NULL, zs,
                             ZOO_NO_LOG_CLIENTENV, sm_zk_client_log);
    if (zs->zh == NULL) {
        saved = errno;
        err = sm_errbuf_set(eb, SM_ERR_ZK, "ZooKeeper client refused '%s': %s", hosts,
                            strerror(saved));
        goto out;
    }
    pthread_mutex_lock(&zs->mu);
    for (;;) {
        state = zs->state;
        t = sm_zk_sync_now_ms();
        if (state == ZOO_CONNECTED_STATE || state == ZOO_EXPIRED_SESSION_STATE ||
            state == ZOO_AUTH_FAILED_STATE || t >= deadline_ms)
            break;
        ts.tv_sec = (time_t)(deadline_ms / 1000);
        ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
        pthread_cond_timedwait(&zs->cv, &zs->mu, &ts);
    }
    pthread_mutex_unlock(&zs->mu);
    if (state == ZOO_CONNECTED_STATE) {
        *out = zs;
        zs = NULL;
    } else if (state == ZOO_AUTH_FAILED_STATE) {
        err = sm_errbuf_set(eb, SM_ERR_ZK, "ZooKeeper %s: authentication failed", hosts);
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        err = sm_errbuf_set(eb, SM_ERR_CLOSED, "ZooKeeper %s: session expired while connecting",
                            hosts);
    } else {
        err = sm_errbuf_set(eb, SM_ERR_TIMEOUT, "ZooKeeper %s unreachable within %d ms", hosts,
                            connect_timeout_ms);
    }
out:
    sm_zk_sync_close(zs);
    return err;
}

sm_err_t sm_zk_sync_open(const char *connect, int session_timeout_ms, int connect_timeout_ms,
                         sm_zk_sync_t **out, sm_errbuf_t *eb)
{
    char *hosts = NULL, *chroot = NULL;
    sm_zk_sync_t *boot = NULL;
    int64_t deadline;
    sm_err_t err;

    *out = NULL;
    if (session_timeout_ms <= 0 || connect_timeout_ms <= 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "zookeeper: bad timeouts");
    err = sm_zk_parse_connect(connect, &hosts, &chroot, eb);
    if (err != SM_OK)
        goto out;
    deadline = sm_zk_sync_now_ms() + connect_timeout_ms;
    if (chroot[0] != '\0') {
        /* The chroot must exist before a handle can use it: create it from a plain handle. */
        err =
            sm_zk_sync_connect(hosts, session_timeout_ms, deadline, connect_timeout_ms, &boot, eb);
        if (err == SM_OK)
            err = sm_zk_sync_ensure_path(boot, chroot, eb);
        sm_zk_sync_close(boot);
        if (err != SM_OK)
            goto out;
    }
    err = sm_zk_sync_connect(connect, session_timeout_ms, deadline, connect_timeout_ms, out, eb);
out:
    free(hosts);
    free(chroot);
    return err;
}

int64_t sm_zk_sync_session_id(const sm_zk_sync_t *zs)
{
    int64_t id;

    if (zs == NULL)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&zs->mu);
    id = zs->session_id;
    pthread_mutex_unlock((pthread_mutex_t *)&zs->mu);
    return id;
}

static sm_err_t sm_zk_sync_fail(sm_errbuf_t *eb, const char *what, const char *path, int rc)
{
    return sm_errbuf_set(eb, sm_zk_err_map(rc), "zookeeper %s %s: %s", what, path, zerror(rc));
}

static sm_err_t sm_zk_sync_check(sm_zk_sync_t *zs, const char *what, const char *path,
                                 const void *data, size_t len, sm_errbuf_t *eb)
{
    if (zs == NULL || !sm_zk_path_valid(path))
        return sm_errbuf_set(eb, SM_ERR_INVALID, "zookeeper %s: invalid path '%s'", what,
                             path != NULL ? path : "(null)");
    if ((data == NULL && len > 0) || len > (size_t)INT_MAX)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "zookeeper %s %s: bad data", what, path);
    return SM_OK;
}

sm_err_t sm_zk_sync_ensure_path(sm_zk_sync_t *zs, const char *path, sm_errbuf_t *eb)
{
    char *p;
    size_t i, n;
    sm_err_t err;
    int rc = ZOK;

    err = sm_zk_sync_check(zs, "ensure", path, NULL, 0, eb);
    if (err != SM_OK)
        return err;
    if (strcmp(path, "/") == 0)
        return SM_OK;
    p = strdup(path);
    if (p == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    n = strlen(p);
    /* Top-down: each prefix ending before a '/' (and finally the whole path). */
    for (i = 1; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        p[i] = '\0';
        rc = zoo_create(zs->zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
        if (i < n)
            p[i] = '/';
        if (rc != ZOK && rc != ZNODEEXISTS)
            break;
        rc = ZOK;
    }
    if (rc != ZOK)
        err = sm_zk_sync_fail(eb, "create", p, rc);
    free(p);
    return err;
}

static sm_err_t sm_zk_sync_ensure_parent(sm_zk_sync_t *zs, const char *path, sm_errbuf_t *eb)
{
    const char *last = strrchr(path, '/');
    char *parent;
    sm_err_t err;

    if (last == path)
        return SM_OK;
    parent = strndup(path, (size_t)(last - path));
    if (parent == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    err = sm_zk_sync_ensure_path(zs, parent, eb);
    free(parent);
    return err;
}

sm_err_t sm_zk_sync_create(sm_zk_sync_t *zs, const char *path, const void *data, size_t len,
                           int flags, char *created, size_t created_cap, sm_zk_stat_t *stat,
                           sm_errbuf_t *eb)
{
    struct Stat st;
    int cap = created != NULL ? (int)(created_cap > INT_MAX ? INT_MAX : created_cap) : 0;
    int rc;
    sm_err_t err;

    err = sm_zk_sync_check(zs, "create", path, data, len, eb);
    if (err != SM_OK)
        return err;
    if (flags & ~(SM_ZK_EPHEMERAL | SM_ZK_SEQUENTIAL | SM_ZK_PARENTS))
        return sm_errbuf_set(eb, SM_ERR_INVALID, "zookeeper create %s: bad flags", path);
    for (int attempt = 0;; attempt++) {
        rc = zoo_create2(zs->zh, path, data, len > 0 ? (int)len : -1, &ZOO_OPEN_ACL_UNSAFE,
                         sm_zk_create_mode(flags), cap > 0 ? created : NULL, cap, &st);
        if (rc != ZNONODE || !(flags & SM_ZK_PARENTS) || attempt > 0)
            break;
        err = sm_zk_sync_ensure_parent(zs, path, eb);
        if (err != SM_OK)
            return err;
    }
    if (rc != ZOK)
        return sm_zk_sync_fail(eb, "create", path, rc);
    if (stat != NULL)
        sm_zk_stat_from(stat, &st);
    return SM_OK;
}

sm_err_t sm_zk_sync_get(sm_zk_sync_t *zs, const char *path, void **data, size_t *len,
                        sm_zk_stat_t *stat, sm_errbuf_t *eb)
{
    struct Stat st;
    char *buf = NULL, *nb;
    int cap = SM_ZK_SYNC_GET_INITIAL, blen, rc = ZOK;
    sm_err_t err;

    *data = NULL;
    *len = 0;
    err = sm_zk_sync_check(zs, "get", path, NULL, 0, eb);
    if (err != SM_OK)
        return err;
    /* The node may grow between attempts; three rounds is plenty for a 1 MB znode limit. */
    for (int attempt = 0; attempt < 3; attempt++) {
        nb = realloc(buf, (size_t)cap);
        if (nb == NULL) {
            free(buf);
            return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        }
        buf = nb;
        blen = cap;
        rc = zoo_get(zs->zh, path, 0, buf, &blen, &st);
        if (rc != ZOK || st.dataLength <= cap)
            break;
        cap = st.dataLength;
    }
    if (rc != ZOK || st.dataLength > cap) {
        free(buf);
        if (rc == ZOK)
            return sm_errbuf_set(eb, SM_ERR_AGAIN, "zookeeper get %s: node keeps growing", path);
        return sm_zk_sync_fail(eb, "get", path, rc);
    }
    if (blen > 0) {
        *data = buf;
        *len = (size_t)blen;
    } else {
        free(buf);
    }
    if (stat != NULL)
        sm_zk_stat_from(stat, &st);
    return SM_OK;
}

sm_err_t sm_zk_sync_set(sm_zk_sync_t *zs, const char *path, const void *data, size_t len,
                        int32_t version, sm_zk_stat_t *stat, sm_errbuf_t *eb)
{
    struct Stat st;
    int rc;
    sm_err_t err;

    err = sm_zk_sync_check(zs, "set", path, data, len, eb);
    if (err != SM_OK)
        return err;
    rc = zoo_set2(zs->zh, path, data, len > 0 ? (int)len : -1, version, &st);
    if (rc != ZOK)
        return sm_zk_sync_fail(eb, "set", path, rc);
    if (stat != NULL)
        sm_zk_stat_from(stat, &st);
    return SM_OK;
}

sm_err_t sm_zk_sync_delete(sm_zk_sync_t *zs, const char *path, int32_t version, sm_errbuf_t *eb)
{
    int rc;
    sm_err_t err;

    err = sm_zk_sync_check(zs, "delete", path, NULL, 0, eb);
    if (err != SM_OK)
        return err;
    rc = zoo_delete(zs->zh, path, version);
    return rc == ZOK ? SM_OK : sm_zk_sync_fail(eb, "delete", path, rc);
}

sm_err_t sm_zk_sync_exists(sm_zk_sync_t *zs, const char *path, sm_zk_stat_t *stat, sm_errbuf_t *eb)
{
    struct Stat st;
    int rc;
    sm_err_t err;

    err = sm_zk_sync_check(zs, "exists", path, NULL, 0, eb);
    if (err != SM_OK)
        return err;
    rc = zoo_exists(zs->zh, path, 0, &st);
    if (rc != ZOK)
        return sm_zk_sync_fail(eb, "exists", path, rc);
    if (stat != NULL)
        sm_zk_stat_from(stat, &st);
    return SM_OK;
}

void sm_zk_strings_free(char **names, size_t n)
{
    size_t i;

    if (names == NULL)
        return;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

sm_err_t sm_zk_sync_children(sm_zk_sync_t *zs, const char *path, char ***names, size_t *n,
                             sm_errbuf_t *eb)
{
    struct String_vector sv = {0, NULL};
    char **out = NULL;
    size_t i = 0, count;
    int rc;
    sm_err_t err;

    *names = NULL;
    *n = 0;
    err = sm_zk_sync_check(zs, "children", path, NULL, 0, eb);
    if (err != SM_OK)
        return err;
    rc = zoo_get_children(zs->zh, path, 0, &sv);
    if (rc != ZOK)
        return sm_zk_sync_fail(eb, "children", path, rc);
    count = sv.count > 0 ? (size_t)sv.count : 0;
    if (count > 0) {
        out = calloc(count, sizeof(char *));
        for (i = 0; out != NULL && i < count; i++) {
            out[i] = strdup(sv.data[i]);
            if (out[i] == NULL)
                break;
        }
    }
    deallocate_String_vector(&sv);
    if (count > 0 && (out == NULL || i < count)) {
        sm_zk_strings_free(out, i);
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    }
    if (count > 0)
        qsort(out, count, sizeof(char *), sm_zk_strptr_cmp);
    *names = out;
    *n = count;
    return SM_OK;
}
