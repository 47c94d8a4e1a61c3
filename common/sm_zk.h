/*
 * sm_zk: a ZooKeeper session for a libevent program, on the multithreaded ZooKeeper C client
 * (libzookeeper-mt). It owns one zhandle at a time, reports the session's life to its owner
 * (connected, disconnected, expired), opens a new session by itself after an expiry, and
 * runs typed asynchronous operations (create, get, set, delete, exists, children, multi)
 * whose completions and one-shot watches are delivered as callbacks ON THE LOOP THREAD. The
 * client's own threads never touch the owner's state: they copy results into a queue
 * (sm_zk_queue) that the loop drains. Brokers and controllers use it for registration,
 * election and metadata; a separate blocking API (sm_zk_sync_*) serves the admin tool and
 * start-up checks.
 *
 * Every sm_zk_* function except the sm_zk_sync_* family must be called on the loop thread
 * that owns the event_base given to sm_zk_new.
 *
 * Connect strings are ZooKeeper's: "host:port[,host:port...][/chroot]". With a chroot, every
 * path the owner uses is relative to it, and the chroot node is created (with its parents)
 * if missing before the first CONNECTED is reported.
 */
#ifndef SM_ZK_H
#define SM_ZK_H

#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

struct event_base;

typedef struct sm_zk sm_zk_t;

/* ---- session ------------------------------------------------------------------------------ */

typedef enum sm_zk_event {
    /* A session is established (first time, after a reconnect of the same session, or a new
     * session after SM_ZK_EV_EXPIRED). Ephemerals and watches of an expired session are gone:
     * re-register them here. */
    SM_ZK_EV_CONNECTED = 1,
    /* The connection was lost; the client is reconnecting and the session may still be alive
     * (until its timeout). Operations fail with SM_ERR_AGAIN meanwhile. */
    SM_ZK_EV_DISCONNECTED = 2,
    /* The server expired the session: its ephemerals and watches are gone. sm_zk has already
     * opened a new session; SM_ZK_EV_CONNECTED follows once it is established. */
    SM_ZK_EV_EXPIRED = 3,
    /* No session was established within connect_timeout_ms of sm_zk_new (reported once).
     * sm_zk keeps trying; an owner that cannot start without ZooKeeper frees and exits. */
    SM_ZK_EV_CONNECT_TIMEOUT = 4,
} sm_zk_event_t;

typedef void (*sm_zk_session_cb)(sm_zk_t *zk, sm_zk_event_t ev, void *arg);

typedef struct sm_zk_config {
    const char *connect;         /* "h:p,h:p/chroot"; copied */
    int session_timeout_ms;      /* requested; the server clamps it (our zk.sh: 1000..30000) */
    int connect_timeout_ms;      /* for SM_ZK_EV_CONNECT_TIMEOUT; 0 = never report */
    sm_zk_session_cb session_cb; /* may be NULL */
    void *arg;
} sm_zk_config_t;

/* Starts connecting (never blocks) and returns the session object in *out. Events come later
 * through cfg->session_cb, never from inside this call. Errors: SM_ERR_INVALID (bad connect
 * string or timeout), SM_ERR_NOMEM, SM_ERR_IO, SM_ERR_ZK (the client refused the host list);
 * eb names the problem. */
sm_err_t sm_zk_new(struct event_base *base, const sm_zk_config_t *cfg, sm_zk_t **out,
                   sm_errbuf_t *eb);

/* Closes the session (its ephemerals vanish at once) and frees everything. It blocks while
 * the server acknowledges the close: milliseconds normally, at most ~4.5 s (the C client's
 * bounds) if the server is connected but unresponsive. Before it returns, the callback of every
 * operation still pending runs once on this thread: with its real result if ZooKeeper had
 * already answered, else with SM_ERR_CLOSED. Pending watches are dropped silently and the
 * session callback is not called. No callback runs after sm_zk_free returns. Safe to call
 * from inside any sm_zk callback; calls on zk made from callbacks run during the free return
 * SM_ERR_CLOSED. Accepts NULL. */
void sm_zk_free(sm_zk_t *zk);

/* True between SM_ZK_EV_CONNECTED and the next DISCONNECTED or EXPIRED. */
int sm_zk_connected(const sm_zk_t *zk);

/* The current session's id (0 before the first CONNECTED) and negotiated timeout in ms (0
 * likewise). Both change after an expiry. */
int64_t sm_zk_session_id(const sm_zk_t *zk);
int sm_zk_session_timeout_ms(const sm_zk_t *zk);

/* The connect string given to sm_zk_new, for messages. */
const char *sm_zk_connect_string(const sm_zk_t *zk);

/* Lower-case name of an event ("connected"). */
const char *sm_zk_event_str(sm_zk_event_t ev);

/* ---- results ------------------------------------------------------------------------------ */

/* A znode's metadata (ZooKeeper's Stat). czxid is the creating transaction id (Kafka's
 * broker epoch); version is the data version that conditional set/delete/check compare. */
typedef struct sm_zk_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t pzxid;
    int64_t ctime_ms;
    int64_t mtime_ms;
    int64_t ephemeral_owner; /* session id of the owner, 0 for persistent nodes */
    int32_t version;
    int32_t cversion;
    int32_t data_length;
    int32_t num_children;
} sm_zk_stat_t;

/* Per-operation result of a multi. On failure of the transaction, the op that failed carries
 * its own error and the others SM_ERR_ZK with zerr ZRUNTIMEINCONSISTENCY ("not applied"). */
typedef struct sm_zk_op_result {
    sm_err_t err;
    int zerr;
    const char *created;      /* CREATE: the node's actual path; NULL otherwise or on error */
    const sm_zk_stat_t *stat; /* SET: the node's new stat; NULL otherwise or on error */
} sm_zk_op_result_t;

/* What an operation's callback receives. Pointers are valid during the callback only. */
typedef struct sm_zk_result {
    sm_err_t err;                /* SM_OK or the mapped error (sm_zk_err_map) */
    int zerr;                    /* the raw ZooKeeper code (ZOK, ZNONODE, ...), for messages */
    const char *path;            /* the path the call named (NULL for multi) */
    const char *created;         /* create: the node's actual path (with a sequential suffix) */
    const void *data;            /* get: the node's data (NULL if none); */
    size_t len;                  /* get: its length */
    const sm_zk_stat_t *stat;    /* get, set, exists, create: the node's stat; NULL on error */
    const char *const *children; /* children: names (not paths), sorted bytewise */
    size_t n_children;
    const sm_zk_op_result_t *ops; /* multi: one result per op, in order */
    size_t n_ops;
} sm_zk_result_t;

/* Completion callback: runs exactly once on the loop thread, never from inside the call that
 * started the operation. */
typedef void (*sm_zk_cb)(sm_zk_t *zk, const sm_zk_result_t *res, void *arg);

typedef enum sm_zk_watch_event {
    SM_ZK_WATCH_CREATED = 1,
    SM_ZK_WATCH_DELETED = 2,
    SM_ZK_WATCH_CHANGED = 3, /* data changed */
    SM_ZK_WATCH_CHILD = 4,   /* children changed */
} sm_zk_watch_event_t;

/* Watch callback: one-shot, as ZooKeeper's; runs on the loop thread. Watches set in a session
 * that expires are dropped without a call (re-register on SM_ZK_EV_EXPIRED/CONNECTED); watches
 * survive disconnections within a session. */
typedef void (*sm_zk_watch_cb)(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg);

/* ---- asynchronous operations --------------------------------------------------------------
 * Each returns SM_OK when the callback will run, or an error when it will not:
 * SM_ERR_INVALID (bad path or arguments), SM_ERR_NOMEM, SM_ERR_CLOSED (zk is being freed).
 * An operation started while not connected completes (on the loop, later) with SM_ERR_AGAIN.
 * Errors in results: SM_ERR_NOT_FOUND (ZNONODE), SM_ERR_EXISTS (ZNODEEXISTS),
 * SM_ERR_VERSION (ZBADVERSION), SM_ERR_AGAIN (connection lost: the outcome of a write is
 * UNKNOWN, read before retrying), SM_ERR_CLOSED (session expired or handle closed),
 * SM_ERR_ZK (anything else; see zerr). version -1 means "any version". */

enum {
    SM_ZK_EPHEMERAL = 1,  /* the node dies with the session */
    SM_ZK_SEQUENTIAL = 2, /* the server appends a 10-digit counter to the name */
    SM_ZK_PARENTS = 4,    /* create missing ancestors (persistent, empty) first */
};

/* Creates path with data (copied; NULL/0 for none). flags: SM_ZK_EPHEMERAL, SM_ZK_SEQUENTIAL,
 * SM_ZK_PARENTS. Result: created, stat. */
sm_err_t sm_zk_create(sm_zk_t *zk, const char *path, const void *data, size_t len, int flags,
                      sm_zk_cb cb, void *arg);

/* Makes sure path and all its ancestors exist (persistent, empty when created): "mkdir -p".
 * An existing node is success (res->err SM_OK). */
sm_err_t sm_zk_ensure_path(sm_zk_t *zk, const char *path, sm_zk_cb cb, void *arg);

/* Reads data and stat. If wcb is not NULL and the node exists, a data watch is set (fires
 * CHANGED or DELETED). */
sm_err_t sm_zk_get(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                   void *arg);

/* Replaces data if the node's version equals version (-1: any). Result: the new stat. */
sm_err_t sm_zk_set(sm_zk_t *zk, const char *path, const void *data, size_t len, int32_t version,
                   sm_zk_cb cb, void *arg);

/* Deletes the node if its version equals version (-1: any). A node with children fails with
 * SM_ERR_ZK (ZNOTEMPTY). */
sm_err_t sm_zk_delete(sm_zk_t *zk, const char *path, int32_t version, sm_zk_cb cb, void *arg);

/* Reports SM_OK with stat, or SM_ERR_NOT_FOUND. If wcb is not NULL the watch is set in both
 * cases (fires CREATED, CHANGED or DELETED). */
sm_err_t sm_zk_exists(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                      void *arg);

/* Lists child names (sorted) and the parent's stat. If wcb is not NULL and the node exists, a
 * child watch is set (fires CHILD, or DELETED for the parent). */
sm_err_t sm_zk_children(sm_zk_t *zk, const char *path, sm_zk_watch_cb wcb, void *warg, sm_zk_cb cb,
                        void *arg);

typedef enum sm_zk_op_type {
    SM_ZK_OP_CREATE = 1, /* path, data/len, flags (EPHEMERAL, SEQUENTIAL; not PARENTS) */
    SM_ZK_OP_DELETE = 2, /* path, version */
    SM_ZK_OP_SET = 3,    /* path, data/len, version */
    SM_ZK_OP_CHECK = 4,  /* path, version: fails the transaction unless the version matches */
} sm_zk_op_type_t;

typedef struct sm_zk_op {
    sm_zk_op_type_t type;
    const char *path;
    const void *data;
    size_t len;
    int flags;
    int32_t version;
} sm_zk_op_t;

/* Runs n (1..SM_ZK_MULTI_MAX) ops as one transaction: all apply or none. ops and everything
 * they point to are copied. Result: err is SM_OK or the first failing op's error; ops[]
 * holds each op's outcome. */
#define SM_ZK_MULTI_MAX 1024
sm_err_t sm_zk_multi(sm_zk_t *zk, const sm_zk_op_t *ops, size_t n, sm_zk_cb cb, void *arg);

/* ---- helpers (pure, any thread) ----------------------------------------------------------- */

/* Maps a ZooKeeper code: ZOK -> SM_OK, ZNONODE -> SM_ERR_NOT_FOUND, ZNODEEXISTS ->
 * SM_ERR_EXISTS, ZBADVERSION -> SM_ERR_VERSION, ZCONNECTIONLOSS/ZOPERATIONTIMEOUT ->
 * SM_ERR_AGAIN, ZSESSIONEXPIRED/ZCLOSING/ZINVALIDSTATE/ZSESSIONMOVED -> SM_ERR_CLOSED,
 * everything else -> SM_ERR_ZK. */
sm_err_t sm_zk_err_map(int zerr);

/* ZooKeeper's text for a raw code ("no node"). */
const char *sm_zk_zerr_str(int zerr);

/* Splits a connect string into the host list and the chroot. *hosts and *chroot are
 * malloc'd (free them); *chroot is "" when there is none (or it is "/"). Errors:
 * SM_ERR_INVALID (empty host list, invalid chroot path), SM_ERR_NOMEM. */
sm_err_t sm_zk_parse_connect(const char *connect, char **hosts, char **chroot, sm_errbuf_t *eb);

/* True if path is a valid absolute znode path: starts with '/', no empty, "." or ".."
 * component, no trailing '/' (except the root "/"), no NUL or control characters. */
int sm_zk_path_valid(const char *path);

/* ---- synchronous API ----------------------------------------------------------------------
 * A separate handle for tools and start-up checks: every call blocks the calling thread until
 * ZooKeeper answers. It never touches an event loop and must not be mixed with an sm_zk_t.
 * After a session expiry every call fails with SM_ERR_CLOSED: close and reopen. eb (may be
 * NULL) gets one line such as "zookeeper get /brokers/ids/1: no node". */

typedef struct sm_zk_sync sm_zk_sync_t;

/* Connects (creating the chroot first if the connect string has one) and waits until the
 * session is established. Errors: SM_ERR_TIMEOUT ("ZooKeeper 127.0.0.1:2181 unreachable
 * within 5000 ms"), SM_ERR_INVALID, SM_ERR_NOMEM, SM_ERR_ZK, SM_ERR_CLOSED. */
sm_err_t sm_zk_sync_open(const char *connect, int session_timeout_ms, int connect_timeout_ms,
                         sm_zk_sync_t **out, sm_errbuf_t *eb);

/* Closes the session (ephemerals vanish) and frees. Accepts NULL. */
void sm_zk_sync_close(sm_zk_sync_t *zs);

int64_t sm_zk_sync_session_id(const sm_zk_sync_t *zs);

/* Like sm_zk_create; the created path is copied into created (if not NULL; truncated to
 * created_cap) and the stat into *stat (if not NULL). */
sm_err_t sm_zk_sync_create(sm_zk_sync_t *zs, const char *path, const void *data, size_t len,
                           int flags, char *created, size_t created_cap, sm_zk_stat_t *stat,
                           sm_errbuf_t *eb);

sm_err_t sm_zk_sync_ensure_path(sm_zk_sync_t *zs, const char *path, sm_errbuf_t *eb);

/* Reads the node: *data is malloc'd (free it; NULL when the node has no data) and *len its
 * length. stat may be NULL. */
sm_err_t sm_zk_sync_get(sm_zk_sync_t *zs, const char *path, void **data, size_t *len,
                        sm_zk_stat_t *stat, sm_errbuf_t *eb);

sm_err_t sm_zk_sync_set(sm_zk_sync_t *zs, const char *path, const void *data, size_t len,
                        int32_t version, sm_zk_stat_t *stat, sm_errbuf_t *eb);

sm_err_t sm_zk_sync_delete(sm_zk_sync_t *zs, const char *path, int32_t version, sm_errbuf_t *eb);

/* SM_OK (stat filled if not NULL) or SM_ERR_NOT_FOUND. */
sm_err_t sm_zk_sync_exists(sm_zk_sync_t *zs, const char *path, sm_zk_stat_t *stat, sm_errbuf_t *eb);

/* Child names, sorted: *names is a malloc'd array of *n malloc'd strings; free with
 * sm_zk_strings_free. */
sm_err_t sm_zk_sync_children(sm_zk_sync_t *zs, const char *path, char ***names, size_t *n,
                             sm_errbuf_t *eb);

void sm_zk_strings_free(char **names, size_t n);

#endif
