/*
 * test_zk: what sm_zk and sm_zk_queue do without a ZooKeeper server: connect-string and path
 * parsing, error mapping, the cross-thread queue, and clean failure (no hang, no leak) when
 * the server is unreachable. Server behaviour is covered by tests/integration/0001_zk.sh.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zookeeper/zookeeper.h>

#include "sm_log.h"
#include "sm_zk.h"
#include "sm_zk_queue.h"

/* Port 1 on loopback: nobody listens, connections are refused at once. */
#define UNREACHABLE "127.0.0.1:1"

static void quiet(void)
{
    sm_log_init("test_zk", SM_LOG_ERROR);
}

TestSuite(zk, .init = quiet);

/* ---- connect strings and paths ------------------------------------------------------------ */

static void expect_parse(const char *connect, const char *hosts, const char *chroot)
{
    char *h = NULL, *c = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(sm_zk_parse_connect(connect, &h, &c, &eb), SM_OK, "%s: %s", connect, eb.msg);
    cr_expect_str_eq(h, hosts);
    cr_expect_str_eq(c, chroot);
    free(h);
    free(c);
}

static void expect_parse_fails(const char *connect)
{
    char *h = (char *)1, *c = (char *)1;
    sm_errbuf_t eb = {{0}};

    cr_expect_eq(sm_zk_parse_connect(connect, &h, &c, &eb), SM_ERR_INVALID, "%s", connect);
    cr_expect_null(h);
    cr_expect_null(c);
    cr_expect_neq(eb.msg[0], '\0', "no message for %s", connect);
}

Test(zk, splits_hosts_from_chroot)
{
    expect_parse("127.0.0.1:2181", "127.0.0.1:2181", "");
    expect_parse("127.0.0.1:2181,127.0.0.1:2182/samsa", "127.0.0.1:2181,127.0.0.1:2182", "/samsa");
    expect_parse("zk1:2181/samsa/prod", "zk1:2181", "/samsa/prod");
    expect_parse("zk1:2181/", "zk1:2181", "");
}

Test(zk, rejects_connect_strings_without_hosts_or_with_bad_chroot)
{
    expect_parse_fails("");
    expect_parse_fails("/samsa");
    expect_parse_fails(",zk1:2181");
    expect_parse_fails("zk1:2181,");
    expect_parse_fails("zk1:2181/samsa/");
    expect_parse_fails("zk1:2181//samsa");
    expect_parse_fails("zk1:2181/a/../b");
    expect_parse_fails(NULL);
}

Test(zk, validates_znode_paths)
{
    cr_expect(sm_zk_path_valid("/"));
    cr_expect(sm_zk_path_valid("/brokers/ids/1"));
    cr_expect(sm_zk_path_valid("/a.b/..c/x-"));
    cr_expect_not(sm_zk_path_valid(NULL));
    cr_expect_not(sm_zk_path_valid(""));
    cr_expect_not(sm_zk_path_valid("brokers"));
    cr_expect_not(sm_zk_path_valid("/brokers/"));
    cr_expect_not(sm_zk_path_valid("//brokers"));
    cr_expect_not(sm_zk_path_valid("/a/./b"));
    cr_expect_not(sm_zk_path_valid("/a/.."));
    cr_expect_not(sm_zk_path_valid("/a\nb"));
}

Test(zk, maps_zookeeper_errors_to_sm_errors)
{
    cr_expect_eq(sm_zk_err_map(ZOK), SM_OK);
    cr_expect_eq(sm_zk_err_map(ZNONODE), SM_ERR_NOT_FOUND);
    cr_expect_eq(sm_zk_err_map(ZNODEEXISTS), SM_ERR_EXISTS);
    cr_expect_eq(sm_zk_err_map(ZBADVERSION), SM_ERR_VERSION);
    cr_expect_eq(sm_zk_err_map(ZCONNECTIONLOSS), SM_ERR_AGAIN);
    cr_expect_eq(sm_zk_err_map(ZOPERATIONTIMEOUT), SM_ERR_AGAIN);
    cr_expect_eq(sm_zk_err_map(ZSESSIONEXPIRED), SM_ERR_CLOSED);
    cr_expect_eq(sm_zk_err_map(ZCLOSING), SM_ERR_CLOSED);
    cr_expect_eq(sm_zk_err_map(ZINVALIDSTATE), SM_ERR_CLOSED);
    cr_expect_eq(sm_zk_err_map(ZNOTEMPTY), SM_ERR_ZK);
    cr_expect_eq(sm_zk_err_map(ZNOAUTH), SM_ERR_ZK);
    cr_expect_eq(sm_zk_err_map(ZMARSHALLINGERROR), SM_ERR_ZK);
    cr_expect_str_eq(sm_zk_zerr_str(ZNONODE), "no node");
}

/* ---- the cross-thread queue --------------------------------------------------------------- */

#define QN 5000

typedef struct item {
    sm_zk_qnode_t node;
    int seq;
} item_t;

typedef struct qctx {
    struct event_base *base;
    sm_zk_queue_t *q;
    pthread_t loop_thread;
    int next;
    int out_of_order;
    int off_loop;
    int wakes;
} qctx_t;

static void q_on_wake(void *arg)
{
    qctx_t *c = arg;
    sm_zk_qnode_t *n;

    c->wakes++;
    if (!pthread_equal(pthread_self(), c->loop_thread))
        c->off_loop++;
    while ((n = sm_zk_queue_pop(c->q)) != NULL) {
        item_t *it = (item_t *)n;
        if (it->seq != c->next)
            c->out_of_order++;
        c->next++;
        free(it);
    }
    if (c->next == QN)
        event_base_loopbreak(c->base);
}

static void *q_poster(void *arg)
{
    qctx_t *c = arg;

    for (int i = 0; i < QN; i++) {
        item_t *it = calloc(1, sizeof(*it));
        it->seq = i;
        sm_zk_queue_post(c->q, &it->node);
        if (i % 500 == 0)
            usleep(1000);
    }
    return NULL;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Runs base until something breaks the loop or ms pass. */
static void run_loop(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *deadline = evtimer_new(base, on_deadline, base);

    evtimer_add(deadline, &tv);
    event_base_dispatch(base);
    event_free(deadline);
}

Test(zk, queue_delivers_posts_from_another_thread_on_the_loop_in_order)
{
    qctx_t c = {0};
    pthread_t t;
    sm_errbuf_t eb = {{0}};

    c.base = event_base_new();
    c.loop_thread = pthread_self();
    cr_assert_eq(sm_zk_queue_new(c.base, q_on_wake, &c, &c.q, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(pthread_create(&t, NULL, q_poster, &c), 0);
    run_loop(c.base, 10000);
    pthread_join(t, NULL);
    cr_expect_eq(c.next, QN, "drained %d of %d", c.next, QN);
    cr_expect_eq(c.out_of_order, 0);
    cr_expect_eq(c.off_loop, 0);
    cr_expect_gt(c.wakes, 0);
    cr_expect_null(sm_zk_queue_pop(c.q));
    sm_zk_queue_free(c.q);
    event_base_free(c.base);
}

Test(zk, queue_pop_on_empty_returns_null)
{
    struct event_base *base = event_base_new();
    sm_zk_queue_t *q = NULL;
    item_t a = {.seq = 1}, b = {.seq = 2};

    cr_assert_eq(sm_zk_queue_new(base, q_on_wake, NULL, &q, NULL), SM_OK);
    cr_expect_null(sm_zk_queue_pop(q));
    sm_zk_queue_post(q, &a.node);
    sm_zk_queue_post(q, &b.node);
    cr_expect_eq(sm_zk_queue_pop(q), &a.node);
    cr_expect_eq(sm_zk_queue_pop(q), &b.node);
    cr_expect_null(sm_zk_queue_pop(q));
    sm_zk_queue_free(q);
    event_base_free(base);
}

/* ---- unreachable server ------------------------------------------------------------------- */

Test(zk, sync_open_reports_unreachable_server_within_the_timeout)
{
    sm_zk_sync_t *zs = (sm_zk_sync_t *)1;
    sm_errbuf_t eb = {{0}};
    struct timespec t0, t1;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(sm_zk_sync_open(UNREACHABLE, 4000, 500, &zs, &eb), SM_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect_null(zs);
    cr_expect_str_eq(eb.msg, "ZooKeeper 127.0.0.1:1 unreachable within 500 ms");
    cr_expect_geq(ms, 450, "gave up after %ld ms", ms);
    cr_expect_lt(ms, 4000, "took %ld ms", ms);
}

Test(zk, sync_open_with_chroot_reports_unreachable_server)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(sm_zk_sync_open(UNREACHABLE "/samsa", 4000, 300, &zs, &eb), SM_ERR_TIMEOUT);
    cr_expect_null(zs);
    cr_expect(strstr(eb.msg, "unreachable within 300 ms") != NULL, "%s", eb.msg);
}

Test(zk, sync_open_rejects_bad_arguments)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};

    cr_expect_eq(sm_zk_sync_open("/nohosts", 4000, 300, &zs, &eb), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_sync_open(UNREACHABLE, 0, 300, &zs, &eb), SM_ERR_INVALID);
    cr_expect_null(zs);
}

typedef struct sess {
    struct event_base *base;
    int events[8];
    int n_events;
    int op_calls;
    int op_err;
    int in_call; /* set while an sm_zk call runs: callbacks must not see it */
    int inline_calls;
    int free_in_cb;
} sess_t;

static void on_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    sess_t *s = arg;

    (void)zk;
    if (s->n_events < 8)
        s->events[s->n_events++] = (int)ev;
    if (ev == SM_ZK_EV_CONNECT_TIMEOUT)
        event_base_loopbreak(s->base);
}

static void on_op(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    sess_t *s = arg;

    (void)zk;
    s->op_calls++;
    s->op_err = res->err;
    if (s->in_call)
        s->inline_calls++;
    if (s->free_in_cb)
        sm_zk_free(zk);
}

static sm_zk_t *new_unreachable(sess_t *s, const char *connect, int connect_timeout_ms)
{
    sm_zk_config_t cfg = {
        .connect = connect,
        .session_timeout_ms = 4000,
        .connect_timeout_ms = connect_timeout_ms,
        .session_cb = on_session,
        .arg = s,
    };
    sm_zk_t *zk = NULL;
    sm_errbuf_t eb = {{0}};

    s->base = event_base_new();
    cr_assert_eq(sm_zk_new(s->base, &cfg, &zk, &eb), SM_OK, "%s", eb.msg);
    return zk;
}

Test(zk, session_reports_connect_timeout_and_frees_cleanly)
{
    sess_t s = {0};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE, 300);

    cr_expect_not(sm_zk_connected(zk));
    cr_expect_eq(sm_zk_session_id(zk), 0);
    run_loop(s.base, 5000);
    cr_expect_eq(s.n_events, 1);
    cr_expect_eq(s.events[0], SM_ZK_EV_CONNECT_TIMEOUT);
    cr_expect_str_eq(sm_zk_connect_string(zk), UNREACHABLE);
    sm_zk_free(zk);
    event_base_free(s.base);
}

Test(zk, session_with_chroot_reports_connect_timeout_and_frees_cleanly)
{
    sess_t s = {0};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE "/samsa/x", 300);

    run_loop(s.base, 5000);
    cr_expect_eq(s.n_events, 1);
    cr_expect_eq(s.events[0], SM_ZK_EV_CONNECT_TIMEOUT);
    sm_zk_free(zk);
    event_base_free(s.base);
}

Test(zk, operation_while_disconnected_completes_later_on_the_loop_with_again)
{
    sess_t s = {0};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE, 0);

    s.in_call = 1;
    cr_assert_eq(sm_zk_get(zk, "/brokers/ids/1", NULL, NULL, on_op, &s), SM_OK);
    s.in_call = 0;
    cr_expect_eq(s.op_calls, 0);
    run_loop(s.base, 300);
    cr_expect_eq(s.op_calls, 1);
    cr_expect_eq(s.op_err, SM_ERR_AGAIN);
    cr_expect_eq(s.inline_calls, 0);
    cr_expect_eq(s.n_events, 0);
    sm_zk_free(zk);
    event_base_free(s.base);
}

Test(zk, free_runs_pending_callbacks_once_and_none_after)
{
    sess_t s = {0};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE, 0);
    sm_zk_op_t ops[2] = {
        {.type = SM_ZK_OP_CREATE, .path = "/a", .data = "x", .len = 1},
        {.type = SM_ZK_OP_CHECK, .path = "/b", .version = 3},
    };

    cr_assert_eq(sm_zk_exists(zk, "/a", NULL, NULL, on_op, &s), SM_OK);
    cr_assert_eq(sm_zk_multi(zk, ops, 2, on_op, &s), SM_OK);
    cr_assert_eq(sm_zk_create(zk, "/a/b", "v", 1, SM_ZK_PARENTS, on_op, &s), SM_OK);
    sm_zk_free(zk);
    cr_expect_eq(s.op_calls, 3);
    cr_expect_neq(s.op_err, SM_OK);
    run_loop(s.base, 100);
    cr_expect_eq(s.op_calls, 3);
    event_base_free(s.base);
}

Test(zk, free_from_inside_a_callback_is_safe)
{
    sess_t s = {.free_in_cb = 1};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE, 0);

    cr_assert_eq(sm_zk_get(zk, "/x", NULL, NULL, on_op, &s), SM_OK);
    cr_assert_eq(sm_zk_get(zk, "/y", NULL, NULL, on_op, &s), SM_OK);
    run_loop(s.base, 300);
    /* The first callback freed zk; the second ran inside that free. */
    cr_expect_eq(s.op_calls, 2);
    event_base_free(s.base);
}

Test(zk, rejects_invalid_operations_without_calling_back)
{
    sess_t s = {0};
    sm_zk_t *zk = new_unreachable(&s, UNREACHABLE, 0);
    sm_zk_op_t bad_check = {.type = SM_ZK_OP_CHECK, .path = "/a", .version = -1};

    cr_expect_eq(sm_zk_get(zk, "no-slash", NULL, NULL, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_create(zk, "/a/", NULL, 0, 0, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_create(zk, "/a", NULL, 0, 64, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_set(zk, "/a", NULL, 3, -1, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_delete(zk, "/a", -2, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_multi(zk, &bad_check, 1, on_op, &s), SM_ERR_INVALID);
    cr_expect_eq(sm_zk_multi(zk, &bad_check, 0, on_op, &s), SM_ERR_INVALID);
    run_loop(s.base, 100);
    cr_expect_eq(s.op_calls, 0);
    sm_zk_free(zk);
    event_base_free(s.base);
}

Test(zk, new_rejects_bad_connect_string)
{
    struct event_base *base = event_base_new();
    sm_zk_config_t cfg = {.connect = "zk1:2181/bad/", .session_timeout_ms = 4000};
    sm_zk_t *zk = (sm_zk_t *)1;
    sm_errbuf_t eb = {{0}};

    cr_expect_eq(sm_zk_new(base, &cfg, &zk, &eb), SM_ERR_INVALID);
    cr_expect_null(zk);
    cr_expect(strstr(eb.msg, "invalid chroot") != NULL, "%s", eb.msg);
    event_base_free(base);
}
