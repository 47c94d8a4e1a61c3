/*
 * sm_zk_util: the pure helpers of the ZooKeeper session module, shared by sm_zk.c (the loop
 * session) and sm_zk_sync.c (the blocking handle): error mapping, path and connect-string
 * checks, Stat conversion, and the rate-limited route from the C client's log to sm_log.
 * Declared in sm_zk.h (public) and sm_zk_priv.h (module-internal).
 */
#include "sm_zk_priv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_log.h"

sm_err_t sm_zk_err_map(int zerr)
{
    if (zerr == ZOK)
        return SM_OK;
    if (zerr == ZNONODE)
        return SM_ERR_NOT_FOUND;
    if (zerr == ZNODEEXISTS)
        return SM_ERR_EXISTS;
    if (zerr == ZBADVERSION)
        return SM_ERR_VERSION;
    if (zerr == ZCONNECTIONLOSS || zerr == ZOPERATIONTIMEOUT)
        return SM_ERR_AGAIN;
    if (zerr == ZSESSIONEXPIRED || zerr == ZCLOSING || zerr == ZINVALIDSTATE ||
        zerr == ZSESSIONMOVED)
        return SM_ERR_CLOSED;
    return SM_ERR_ZK;
}

const char *sm_zk_zerr_str(int zerr)
{
    return zerror(zerr);
}

const char *sm_zk_event_str(sm_zk_event_t ev)
{
    switch (ev) {
    case SM_ZK_EV_CONNECTED:
        return "connected";
    case SM_ZK_EV_DISCONNECTED:
        return "disconnected";
    case SM_ZK_EV_EXPIRED:
        return "expired";
    case SM_ZK_EV_CONNECT_TIMEOUT:
        return "connect timeout";
    }
    return "unknown";
}

int sm_zk_path_valid(const char *path)
{
    const char *p, *seg;
    size_t n;

    if (path == NULL || path[0] != '/')
        return 0;
    if (path[1] == '\0')
        return 1;
    seg = path + 1;
    for (p = seg;; p++) {
        if (*p == '/' || *p == '\0') {
            n = (size_t)(p - seg);
            if (n == 0)
                return 0; /* "//" or trailing '/' */
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            seg = p + 1;
        } else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
}

sm_err_t sm_zk_parse_connect(const char *connect, char **hosts, char **chroot, sm_errbuf_t *eb)
{
    const char *slash;
    size_t hlen;
    sm_err_t err = SM_OK;

    *hosts = NULL;
    *chroot = NULL;
    if (connect == NULL || connect[0] == '\0')
        return sm_errbuf_set(eb, SM_ERR_INVALID, "empty ZooKeeper connect string");
    slash = strchr(connect, '/');
    hlen = slash != NULL ? (size_t)(slash - connect) : strlen(connect);
    if (hlen == 0 || connect[0] == ',' || connect[hlen - 1] == ',')
        return sm_errbuf_set(eb, SM_ERR_INVALID, "ZooKeeper connect string '%s' has no hosts",
                             connect);
    if (slash != NULL && strcmp(slash, "/") != 0 && !sm_zk_path_valid(slash))
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "ZooKeeper connect string '%s': invalid chroot '%s'", connect, slash);
    *hosts = strndup(connect, hlen);
    *chroot = strdup(slash != NULL && strcmp(slash, "/") != 0 ? slash : "");
    if (*hosts == NULL || *chroot == NULL) {
        free(*hosts);
        free(*chroot);
        *hosts = NULL;
        *chroot = NULL;
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    }
    return err;
}

void sm_zk_stat_from(sm_zk_stat_t *dst, const struct Stat *src)
{
    dst->czxid = src->czxid;
    dst->mzxid = src->mzxid;
    dst->pzxid = src->pzxid;
    dst->ctime_ms = src->ctime;
    dst->mtime_ms = src->mtime;
    dst->ephemeral_owner = src->ephemeralOwner;
    dst->version = src->version;
    dst->cversion = src->cversion;
    dst->data_length = src->dataLength;
    dst->num_children = src->numChildren;
}

int sm_zk_create_mode(int flags)
{
    int eph = (flags & SM_ZK_EPHEMERAL) != 0, seq = (flags & SM_ZK_SEQUENTIAL) != 0;

    if (eph)
        return seq ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_EPHEMERAL;
    return seq ? ZOO_PERSISTENT_SEQUENTIAL : ZOO_PERSISTENT;
}

int sm_zk_strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static pthread_once_t sm_zk_log_once = PTHREAD_ONCE_INIT;

static void sm_zk_client_log_init(void)
{
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
}

void sm_zk_client_log_setup(void)
{
    pthread_once(&sm_zk_log_once, sm_zk_client_log_init);
}

/* The client repeats itself (two lines per reconnect attempt, ~150 a second while ZooKeeper
 * is down): pass at most SM_ZK_LOG_BURST lines per SM_ZK_LOG_WINDOW_S seconds and count the
 * rest. Its log callback carries no context pointer, so this limiter is process-wide state,
 * part of logging (the one global STYLE.md allows). */
#define SM_ZK_LOG_BURST    10
#define SM_ZK_LOG_WINDOW_S 10

static pthread_mutex_t sm_zk_log_mu = PTHREAD_MUTEX_INITIALIZER;
static time_t sm_zk_log_window;
static int sm_zk_log_count;
static long sm_zk_log_dropped;

/* @thread zk */
void sm_zk_client_log(const char *message)
{
    const char *tag = strstr(message, "ZOO_");
    struct timespec now;
    long dropped = 0;
    int pass;
    size_t n;

    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&sm_zk_log_mu);
    if (now.tv_sec - sm_zk_log_window >= SM_ZK_LOG_WINDOW_S) {
        sm_zk_log_window = now.tv_sec;
        sm_zk_log_count = 0;
        dropped = sm_zk_log_dropped;
        sm_zk_log_dropped = 0;
    }
    pass = sm_zk_log_count < SM_ZK_LOG_BURST;
    if (pass)
        sm_zk_log_count++;
    else
        sm_zk_log_dropped++;
    pthread_mutex_unlock(&sm_zk_log_mu);
    if (dropped > 0)
        sm_log_warn("zookeeper client: %ld similar messages suppressed", dropped);
    if (!pass)
        return;
    /* Drop the client's own timestamp and thread prefix: sm_log adds ours. */
    if (tag != NULL)
        message = tag;
    n = strlen(message);
    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r' || message[n - 1] == ' '))
        n--;
    sm_log_warn("zookeeper client: %.*s", (int)(n > 900 ? 900 : n), message);
}
