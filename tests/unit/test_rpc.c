/*
 * Unit tests for sm_rpc: a server and clients in one process, on one event_base, over
 * loopback on an ephemeral port. Covers round trips, response order under out-of-order
 * answers, deadlines, bad frames, correlation-id checks, size limits, re-entrant callbacks
 * (free and new calls from inside callbacks), and reconnection after the server comes back.
 *
 * Everything a test creates lives in the fixture F and is released by teardown(), so a failing
 * assertion leaks nothing.
 */
#include "sm_rpc.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sm_frame.h"
#include "sm_log.h"

#define MAXN 256

enum { MODE_ECHO, MODE_HOLD };

typedef struct fixture {
    struct event_base *base;
    sm_rpc_server_t *srv;
    sm_rpc_client_t *cli;
    sm_rpc_client_t *cli2;
    uint16_t port;
    /* server side */
    int mode;
    int nreq;
    sm_rpc_call_t *held[MAXN];
    int nheld;
    Samsa__Envelope__PayloadCase last_case;
    int64_t last_corr;
    /* client side */
    int ndone;
    sm_err_t errs[MAXN];
    int64_t seqs[MAXN];
    intptr_t args[MAXN];
    int32_t kerr[MAXN];
    int64_t corr[MAXN];
    Samsa__RpcType types[MAXN];
    int connects, disconnects;
    /* behaviours of the done callback */
    bool free_in_done;     /* free F.cli from the first completion */
    int chain_left;        /* issue one more call per completion while > 0 */
    sm_err_t call_in_done; /* result of a call attempted from a completion */
    bool try_call_in_done;
    /* raw peers */
    int rawfd;
    struct evconnlistener *fake;
    struct bufferevent *fake_bev;
} fixture_t;

static fixture_t F;

/* ---- loop helpers ------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *v >= target or ms pass; returns whether the target was reached. */
static bool run_until(const int *v, int target, int ms)
{
    struct timeval tick = {0, 5000};
    struct event *ev = event_new(F.base, -1, EV_PERSIST, tick_cb, NULL);
    int64_t deadline = now_ms() + ms;

    event_add(ev, &tick);
    while (*v < target && now_ms() < deadline)
        event_base_loop(F.base, EVLOOP_ONCE);
    event_free(ev);
    return *v >= target;
}

static void run_for(int ms)
{
    int never = 0;

    (void)run_until(&never, 1, ms);
}

static bool run_until_connections(size_t n, int ms)
{
    int64_t deadline = now_ms() + ms;

    while (sm_rpc_server_connections(F.srv) != n && now_ms() < deadline)
        run_for(5);
    return sm_rpc_server_connections(F.srv) == n;
}

/* ---- server side ------------------------------------------------------------------------- */

static sm_err_t echo(sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    Samsa__Envelope resp = SAMSA__ENVELOPE__INIT;
    Samsa__PingResponse pong = SAMSA__PING_RESPONSE__INIT;

    if (req->payload_case != SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST)
        return sm_rpc_call_reply_error(call, 35, "only ping here");
    pong.has_seq = 1;
    pong.seq = req->ping_request->seq;
    pong.has_data = req->ping_request->has_data;
    pong.data = req->ping_request->data;
    resp.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE;
    resp.ping_response = &pong;
    return sm_rpc_call_reply(call, &resp);
}

static void handler(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    (void)arg;
    F.nreq++;
    F.last_case = req->payload_case;
    F.last_corr = req->correlation_id;
    cr_assert_eq(sm_rpc_call_request(call), req);
    cr_assert_eq(strncmp(sm_rpc_call_peer(call), "127.0.0.1:", 10), 0, "peer %s",
                 sm_rpc_call_peer(call));
    if (F.mode == MODE_HOLD && F.nheld < MAXN) {
        F.held[F.nheld++] = call;
        return;
    }
    echo(call, req);
}

static void start_server(uint16_t port, const sm_rpc_server_opts_t *opts)
{
    sm_errbuf_t eb = {{0}};
    sm_err_t err = sm_rpc_server_new(F.base, "127.0.0.1", port, opts, handler, NULL, &F.srv, &eb);

    cr_assert_eq(err, SM_OK, "server: %s", eb.msg);
    F.port = sm_rpc_server_port(F.srv);
    cr_assert_neq(F.port, 0);
}

/* Answers held call i with an echo; returns what the reply returned. */
static sm_err_t answer(int i)
{
    sm_rpc_call_t *call = F.held[i];

    F.held[i] = NULL;
    return echo(call, sm_rpc_call_request(call));
}

/* ---- client side ------------------------------------------------------------------------- */

static void on_state(void *arg, sm_rpc_client_t *c, bool connected)
{
    (void)arg;
    (void)c;
    if (connected)
        F.connects++;
    else
        F.disconnects++;
}

static void start_client(const sm_rpc_client_opts_t *opts, sm_rpc_client_t **out)
{
    sm_rpc_client_opts_t o = {0};

    if (opts != NULL)
        o = *opts;
    o.on_state = on_state;
    if (o.backoff_max_ms == 0)
        o.backoff_max_ms = 200;
    cr_assert_eq(sm_rpc_client_new(F.base, "127.0.0.1", F.port, &o, out), SM_OK);
}

static sm_err_t ping(sm_rpc_client_t *c, int64_t seq, uint32_t timeout_ms, sm_rpc_done_fn done,
                     intptr_t arg);

static void done_cb(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    int i = F.ndone++;

    cr_assert_lt(i, MAXN);
    F.errs[i] = err;
    F.args[i] = (intptr_t)arg;
    F.seqs[i] = -1;
    F.kerr[i] = 0;
    if (err == SM_OK) {
        cr_assert_not_null(resp);
        F.corr[i] = resp->correlation_id;
        F.types[i] = resp->type;
        if (resp->payload_case == SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE)
            F.seqs[i] = resp->ping_response->seq;
        else if (resp->payload_case == SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE)
            F.kerr[i] = resp->error_response->error_code;
    } else {
        cr_assert_null(resp);
    }
    if (F.try_call_in_done)
        F.call_in_done = ping(F.cli, 999, 0, done_cb, 999);
    if (F.free_in_done) {
        F.free_in_done = false;
        sm_rpc_client_free(F.cli);
        F.cli = NULL;
    }
    if (F.chain_left > 0 && F.cli != NULL) {
        F.chain_left--;
        cr_assert_eq(ping(F.cli, (int64_t)i + 1, 1000, done_cb, 0), SM_OK);
    }
}

static sm_err_t ping(sm_rpc_client_t *c, int64_t seq, uint32_t timeout_ms, sm_rpc_done_fn done,
                     intptr_t arg)
{
    Samsa__Envelope req = SAMSA__ENVELOPE__INIT;
    Samsa__PingRequest pr = SAMSA__PING_REQUEST__INIT;

    pr.has_seq = 1;
    pr.seq = seq;
    req.has_type = 1;
    req.type = SAMSA__RPC_TYPE__PING;
    req.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    req.ping_request = &pr;
    return sm_rpc_client_call(c, &req, timeout_ms, done, (void *)arg);
}

/* ---- fixture ----------------------------------------------------------------------------- */

static void setup(void)
{
    memset(&F, 0, sizeof(F));
    F.rawfd = -1;
    signal(SIGPIPE, SIG_IGN);
    sm_log_init("test_rpc", SM_LOG_ERROR);
    F.base = event_base_new();
    cr_assert_not_null(F.base);
}

static void teardown(void)
{
    sm_rpc_client_free(F.cli);
    sm_rpc_client_free(F.cli2);
    for (int i = 0; i < F.nheld; i++) {
        if (F.held[i] != NULL)
            answer(i);
    }
    sm_rpc_server_free(F.srv);
    if (F.fake_bev != NULL)
        bufferevent_free(F.fake_bev);
    if (F.fake != NULL)
        evconnlistener_free(F.fake);
    if (F.rawfd >= 0)
        close(F.rawfd);
    event_base_free(F.base);
}

TestSuite(rpc, .init = setup, .fini = teardown, .timeout = 30);

/* ---- round trips and order --------------------------------------------------------------- */

Test(rpc, round_trip_echoes_a_ping_with_correlation_id_and_type)
{
    start_server(0, NULL);
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 7, 2000, done_cb, 42), SM_OK);
    cr_assert_eq(sm_rpc_client_pending(F.cli), 1);
    cr_assert_eq(F.ndone, 0, "never completes from inside the call");
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_OK);
    cr_assert_eq(F.seqs[0], 7);
    cr_assert_eq(F.args[0], 42);
    cr_assert_eq(F.corr[0], F.last_corr);
    cr_assert_eq(F.types[0], SAMSA__RPC_TYPE__PING, "the response inherits the request type");
    cr_assert_eq(F.last_case, SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST);
    cr_assert_eq(sm_rpc_client_pending(F.cli), 0);
    cr_assert(sm_rpc_client_connected(F.cli));
    cr_assert_eq(F.connects, 1);
}

Test(rpc, calls_made_before_the_connection_is_up_are_sent_once_connected)
{
    start_server(0, NULL);
    start_client(NULL, &F.cli);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(ping(F.cli, i, 2000, done_cb, i), SM_OK);
    cr_assert(run_until(&F.ndone, 10, 2000));
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(F.errs[i], SM_OK);
        cr_assert_eq(F.seqs[i], i);
    }
}

Test(rpc, answers_leave_in_request_order_when_handler_answers_out_of_order)
{
    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ping(F.cli, i, 5000, done_cb, i), SM_OK);
    cr_assert(run_until(&F.nheld, 5, 2000));
    for (int i = 4; i >= 1; i--)
        cr_assert_eq(answer(i), SM_OK);
    run_for(50);
    cr_assert_eq(F.ndone, 0, "nothing may overtake the unanswered first request");
    cr_assert_eq(answer(0), SM_OK);
    cr_assert(run_until(&F.ndone, 5, 2000));
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(F.errs[i], SM_OK);
        cr_assert_eq(F.seqs[i], i);
    }
}

Test(rpc, many_pipelined_calls_complete_in_order)
{
    start_server(0, NULL);
    start_client(NULL, &F.cli);
    for (int i = 0; i < MAXN; i++)
        cr_assert_eq(ping(F.cli, i, 5000, done_cb, i), SM_OK);
    cr_assert(run_until(&F.ndone, MAXN, 5000));
    for (int i = 0; i < MAXN; i++)
        cr_assert_eq(F.seqs[i], i);
}

Test(rpc, two_clients_share_one_server)
{
    start_server(0, NULL);
    start_client(NULL, &F.cli);
    start_client(NULL, &F.cli2);
    cr_assert_eq(ping(F.cli, 1, 2000, done_cb, 1), SM_OK);
    cr_assert_eq(ping(F.cli2, 2, 2000, done_cb, 2), SM_OK);
    cr_assert(run_until(&F.ndone, 2, 2000));
    cr_assert_eq(F.errs[0], SM_OK);
    cr_assert_eq(F.errs[1], SM_OK);
    cr_assert_eq(F.seqs[0] + F.seqs[1], 3);
    cr_assert_eq(sm_rpc_server_connections(F.srv), 2);
}

/* ---- deadlines --------------------------------------------------------------------------- */

Test(rpc, call_times_out_and_its_late_answer_is_dropped)
{
    int64_t t0;

    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    t0 = now_ms();
    cr_assert_eq(ping(F.cli, 1, 100, done_cb, 1), SM_OK);
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_ERR_TIMEOUT);
    cr_assert_geq(now_ms() - t0, 90);
    cr_assert_eq(sm_rpc_client_pending(F.cli), 0);
    /* The late answer lines up with the timed-out call and is dropped; the next call works. */
    cr_assert_eq(answer(0), SM_OK);
    F.mode = MODE_ECHO;
    cr_assert_eq(ping(F.cli, 2, 2000, done_cb, 2), SM_OK);
    cr_assert(run_until(&F.ndone, 2, 2000));
    cr_assert_eq(F.errs[1], SM_OK);
    cr_assert_eq(F.seqs[1], 2);
    cr_assert_eq(F.disconnects, 0, "a timeout does not drop the connection");
}

Test(rpc, queued_call_times_out_while_the_peer_is_down)
{
    start_server(0, NULL);
    sm_rpc_server_free(F.srv); /* keep the port, lose the listener */
    F.srv = NULL;
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 150, done_cb, 1), SM_OK);
    cr_assert_eq(ping(F.cli, 2, 0, done_cb, 2), SM_OK);
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_ERR_TIMEOUT);
    run_for(100);
    cr_assert_eq(F.ndone, 1, "a call without deadline keeps waiting");
    cr_assert_eq(sm_rpc_client_pending(F.cli), 1);
    cr_assert_not(sm_rpc_client_connected(F.cli));
}

/* ---- bad peers --------------------------------------------------------------------------- */

static void raw_connect(void)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(F.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    F.rawfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(F.rawfd, 0);
    cr_assert_eq(connect(F.rawfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert(run_until_connections(1, 2000));
}

static bool raw_sees_eof(void)
{
    char c;

    for (int i = 0; i < 200; i++) {
        ssize_t n = recv(F.rawfd, &c, 1, MSG_DONTWAIT);
        if (n == 0)
            return true;
        run_for(5);
    }
    return false;
}

Test(rpc, undecodable_frame_closes_the_connection)
{
    /* Field 31 with wire type 7, which does not exist. */
    static const uint8_t bad[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};

    start_server(0, NULL);
    raw_connect();
    cr_assert_eq(write(F.rawfd, bad, sizeof(bad)), (ssize_t)sizeof(bad));
    cr_assert(run_until_connections(0, 2000));
    cr_assert(raw_sees_eof());
    cr_assert_eq(F.nreq, 0);
}

Test(rpc, oversized_frame_is_refused_from_its_header)
{
    sm_rpc_server_opts_t opts = {.max_frame = 1024};
    uint8_t hdr[4];

    start_server(0, &opts);
    raw_connect();
    sm_frame_put_header(hdr, 0x7fffffffu); /* 2 GiB declared, nothing else sent */
    cr_assert_eq(write(F.rawfd, hdr, 4), 4);
    cr_assert(run_until_connections(0, 2000));
    cr_assert(raw_sees_eof());
}

Test(rpc, empty_frame_reaches_the_handler_as_an_empty_envelope)
{
    static const uint8_t empty[] = {0, 0, 0, 0};
    uint8_t buf[64];
    struct evbuffer *in = evbuffer_new();
    Samsa__Envelope *resp = NULL;
    ssize_t n = 0;

    start_server(0, NULL);
    raw_connect();
    cr_assert_eq(write(F.rawfd, empty, sizeof(empty)), 4);
    cr_assert(run_until(&F.nreq, 1, 2000));
    cr_assert_eq(F.last_case, SAMSA__ENVELOPE__PAYLOAD__NOT_SET);
    for (int i = 0; i < 200 && n <= 0; i++) {
        n = recv(F.rawfd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0)
            run_for(5);
    }
    cr_assert_gt(n, 0);
    evbuffer_add(in, buf, (size_t)n);
    cr_assert_eq(sm_rpc_frame_take(in, 1024, &resp), SM_OK);
    cr_assert_eq(resp->payload_case, SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE);
    cr_assert_eq(resp->error_response->error_code, 35);
    samsa__envelope__free_unpacked(resp, NULL);
    evbuffer_free(in);
}

/* A fake server that answers every request with the wrong correlation id. */
static void fake_read_cb(struct bufferevent *bev, void *arg)
{
    Samsa__Envelope *req = NULL;

    (void)arg;
    while (sm_rpc_frame_take(bufferevent_get_input(bev), 1 << 20, &req) == SM_OK) {
        req->correlation_id += 1000;
        sm_rpc_frame_pack(bufferevent_get_output(bev), req, 1 << 20);
        samsa__envelope__free_unpacked(req, NULL);
    }
}

static void fake_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int len, void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    (void)arg;
    if (F.fake_bev != NULL)
        bufferevent_free(F.fake_bev);
    F.fake_bev = bufferevent_socket_new(F.base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(F.fake_bev, fake_read_cb, NULL, NULL, NULL);
    bufferevent_enable(F.fake_bev, EV_READ | EV_WRITE);
}

Test(rpc, mismatched_correlation_id_closes_the_connection)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    F.fake = evconnlistener_new_bind(F.base, fake_accept_cb, NULL,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                     (struct sockaddr *)&sin, sizeof(sin));
    cr_assert_not_null(F.fake);
    getsockname(evconnlistener_get_fd(F.fake), (struct sockaddr *)&sin, &len);
    F.port = ntohs(sin.sin_port);
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 2000, done_cb, 1), SM_OK);
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_ERR_CLOSED);
    cr_assert_eq(F.disconnects, 1);
}

/* ---- size limits ------------------------------------------------------------------------- */

Test(rpc, request_above_max_frame_is_refused_at_the_call)
{
    sm_rpc_client_opts_t opts = {.max_frame = 64};
    Samsa__Envelope req = SAMSA__ENVELOPE__INIT;
    Samsa__PingRequest pr = SAMSA__PING_REQUEST__INIT;
    uint8_t data[100] = {0};

    start_server(0, NULL);
    start_client(&opts, &F.cli);
    pr.has_data = 1;
    pr.data.len = sizeof(data);
    pr.data.data = data;
    req.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    req.ping_request = &pr;
    cr_assert_eq(sm_rpc_client_call(F.cli, &req, 1000, done_cb, NULL), SM_ERR_TOO_LARGE);
    cr_assert_eq(sm_rpc_client_pending(F.cli), 0);
    run_for(50);
    cr_assert_eq(F.ndone, 0, "a refused call never calls back");
}

Test(rpc, answer_above_max_frame_becomes_a_message_too_large_error)
{
    sm_rpc_server_opts_t opts = {.max_frame = 256};
    Samsa__Envelope resp = SAMSA__ENVELOPE__INIT;
    Samsa__PingResponse pong = SAMSA__PING_RESPONSE__INIT;
    uint8_t data[1000] = {0};

    start_server(0, &opts);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 2000, done_cb, 1), SM_OK);
    cr_assert(run_until(&F.nheld, 1, 2000));
    pong.has_data = 1;
    pong.data.len = sizeof(data);
    pong.data.data = data;
    resp.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE;
    resp.ping_response = &pong;
    cr_assert_eq(sm_rpc_call_reply(F.held[0], &resp), SM_ERR_TOO_LARGE);
    F.held[0] = NULL;
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_OK);
    cr_assert_eq(F.kerr[0], 10);
}

/* ---- closing and re-entrancy ------------------------------------------------------------- */

Test(rpc, client_free_fails_every_pending_call_exactly_once)
{
    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ping(F.cli, i, 5000, done_cb, i), SM_OK);
    cr_assert(run_until(&F.nheld, 3, 2000));
    cr_assert_eq(ping(F.cli, 3, 0, done_cb, 3), SM_OK);
    sm_rpc_client_free(F.cli);
    F.cli = NULL;
    cr_assert_eq(F.ndone, 4, "all completed before free returned");
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(F.errs[i], SM_ERR_CLOSED);
        cr_assert_eq(F.args[i], i, "oldest first");
    }
    run_for(100);
    cr_assert_eq(F.ndone, 4, "no callback after free");
    /* The server notices; answers to its orphaned calls are dropped. */
    cr_assert(run_until_connections(0, 2000));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(answer(i), SM_ERR_CLOSED);
}

Test(rpc, calls_from_closed_callbacks_are_refused)
{
    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 5000, done_cb, 1), SM_OK);
    cr_assert(run_until(&F.nheld, 1, 2000));
    F.try_call_in_done = true;
    sm_rpc_client_free(F.cli);
    F.cli = NULL;
    cr_assert_eq(F.ndone, 1);
    cr_assert_eq(F.call_in_done, SM_ERR_CLOSED);
}

Test(rpc, completion_callback_may_free_the_client)
{
    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(ping(F.cli, i, 5000, done_cb, i), SM_OK);
    cr_assert(run_until(&F.nheld, 4, 2000));
    /* Answer all four so their responses arrive in one read; the first callback frees. */
    for (int i = 3; i >= 0; i--)
        cr_assert_eq(answer(i), SM_OK);
    F.free_in_done = true;
    cr_assert(run_until(&F.ndone, 4, 2000));
    cr_assert_eq(F.errs[0], SM_OK);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(F.errs[i], SM_ERR_CLOSED);
    run_for(50);
    cr_assert_eq(F.ndone, 4);
}

Test(rpc, completion_callback_may_issue_new_calls)
{
    start_server(0, NULL);
    start_client(NULL, &F.cli);
    F.chain_left = 99;
    cr_assert_eq(ping(F.cli, 0, 1000, done_cb, 0), SM_OK);
    cr_assert(run_until(&F.ndone, 100, 5000));
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(F.errs[i], SM_OK);
        cr_assert_eq(F.seqs[i], i);
    }
}

Test(rpc, in_flight_calls_fail_with_closed_when_the_server_goes_away)
{
    start_server(0, NULL);
    F.mode = MODE_HOLD;
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 5000, done_cb, 1), SM_OK);
    cr_assert_eq(ping(F.cli, 2, 5000, done_cb, 2), SM_OK);
    cr_assert(run_until(&F.nheld, 2, 2000));
    sm_rpc_server_free(F.srv);
    F.srv = NULL;
    cr_assert(run_until(&F.ndone, 2, 2000));
    cr_assert_eq(F.errs[0], SM_ERR_CLOSED);
    cr_assert_eq(F.errs[1], SM_ERR_CLOSED);
    cr_assert_eq(F.disconnects, 1);
    /* The calls outlive their server; answering releases them. */
    cr_assert_eq(answer(0), SM_ERR_CLOSED);
    cr_assert_eq(answer(1), SM_ERR_CLOSED);
}

Test(rpc, reconnects_after_the_server_is_freed_and_recreated)
{
    uint16_t port;

    start_server(0, NULL);
    port = F.port;
    start_client(NULL, &F.cli);
    cr_assert_eq(ping(F.cli, 1, 2000, done_cb, 1), SM_OK);
    cr_assert(run_until(&F.ndone, 1, 2000));
    cr_assert_eq(F.errs[0], SM_OK);

    sm_rpc_server_free(F.srv);
    F.srv = NULL;
    cr_assert(run_until(&F.disconnects, 1, 2000));
    cr_assert_not(sm_rpc_client_connected(F.cli));
    /* Made while disconnected: waits for the next connection. */
    cr_assert_eq(ping(F.cli, 2, 5000, done_cb, 2), SM_OK);
    run_for(300); /* a few failed attempts with backoff */
    cr_assert_eq(F.ndone, 1);

    start_server(port, NULL);
    cr_assert(run_until(&F.ndone, 2, 3000));
    cr_assert_eq(F.errs[1], SM_OK);
    cr_assert_eq(F.seqs[1], 2);
    cr_assert_eq(F.connects, 2);
    cr_assert(sm_rpc_client_connected(F.cli));
}

Test(rpc, server_port_in_use_is_reported)
{
    sm_rpc_server_t *second = NULL;
    sm_errbuf_t eb = {{0}};

    start_server(0, NULL);
    cr_assert_eq(sm_rpc_server_new(F.base, "127.0.0.1", F.port, NULL, handler, NULL, &second, &eb),
                 SM_ERR_IO);
    cr_assert_null(second);
    cr_assert_not_null(strstr(eb.msg, "bind"), "message: %s", eb.msg);
}

Test(rpc, payload_name_names_the_oneof_field)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterIsrRequest air = SAMSA__ALTER_ISR_REQUEST__INIT;

    cr_assert_str_eq(sm_rpc_payload_name(&env), "none");
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST;
    env.alter_isr_request = &air;
    cr_assert_str_eq(sm_rpc_payload_name(&env), "alter_isr_request");
}
