/*
 * rpc_peer: a test program for the control RPC (common/sm_rpc) between real processes, used by
 * tests/integration/0003_rpc.sh.
 *
 *   rpc_peer serve PORT
 *       Listens on 127.0.0.1:PORT and answers every PingRequest with a PingResponse echoing
 *       seq and data. Prints "listening on 127.0.0.1:PORT". Runs until SIGTERM or SIGINT.
 *   rpc_peer call HOST:PORT N [--window W] [--timeout-ms T] [--deadline-ms D]
 *       Sends N pings, at most W (default 64) outstanding, and checks that each answer echoes
 *       its request. Prints the throughput; exits 0 only if all N succeeded.
 *   rpc_peer reconnect HOST:PORT N [--timeout-ms T] [--deadline-ms D]
 *       Calls one ping after another, riding out failures. Prints "calling" after the first
 *       100 successes, "disconnected" when the connection drops, "reconnected after X ms"
 *       when it comes back; exits 0 once N calls have succeeded after a reconnection.
 *
 * Exit codes: 0 success, 1 runtime failure (or deadline passed), 2 usage error.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "sm_log.h"
#include "sm_rpc.h"

#define PEER_DATA_LEN 16

typedef struct peer {
    struct event_base *base;
    sm_rpc_client_t *client;
    const char *mode;
    long n; /* calls to make (call) or to make after reconnecting (reconnect) */
    long window;
    uint32_t timeout_ms;
    long sent, ok, failed;
    long next_expected; /* call mode: the seq the next answer must carry */
    bool bad;           /* call mode: an answer did not match */
    bool stopping;      /* the run is over: completions only count */
    /* reconnect mode */
    bool said_calling, was_down, reconnected;
    long ok_after;
    int64_t down_at_ms;
    int rc;
} peer_t;

static int64_t peer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void peer_usage(void)
{
    fprintf(stderr, "usage: rpc_peer serve PORT\n"
                    "       rpc_peer call HOST:PORT N [--window W] [--timeout-ms T] "
                    "[--deadline-ms D]\n"
                    "       rpc_peer reconnect HOST:PORT N [--timeout-ms T] [--deadline-ms D]\n");
}

static bool peer_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return false;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Splits "host:port" (the last colon separates the port) into host[len] and *port. */
static bool peer_parse_hostport(const char *s, char *host, size_t len, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    long p;

    if (colon == NULL || (size_t)(colon - s) >= len || colon == s)
        return false;
    if (!peer_parse_long(colon + 1, 1, 65535, &p))
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)p;
    return true;
}

static void peer_fill(uint8_t *data, int64_t seq)
{
    for (int i = 0; i < PEER_DATA_LEN; i++)
        data[i] = (uint8_t)(seq * 31 + i);
}

/* ---- serve ------------------------------------------------------------------------------- */

static void peer_serve_handler(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    Samsa__Envelope resp = SAMSA__ENVELOPE__INIT;
    Samsa__PingResponse pong = SAMSA__PING_RESPONSE__INIT;

    (void)arg;
    if (req->payload_case != SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST) {
        sm_rpc_call_reply_error(call, 35, "rpc_peer answers only ping_request");
        return;
    }
    pong.has_seq = 1;
    pong.seq = req->ping_request->seq;
    pong.has_data = req->ping_request->has_data;
    pong.data = req->ping_request->data;
    resp.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE;
    resp.ping_response = &pong;
    sm_rpc_call_reply(call, &resp);
}

static void peer_stop_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

static int peer_serve(struct event_base *base, int argc, char **argv)
{
    sm_rpc_server_t *srv = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    sm_errbuf_t eb = {{0}};
    long port;
    int rc = 1;

    if (argc != 3 || !peer_parse_long(argv[2], 1, 65535, &port)) {
        peer_usage();
        return 2;
    }
    if (sm_rpc_server_new(base, "127.0.0.1", (uint16_t)port, NULL, peer_serve_handler, NULL, &srv,
                          &eb) != SM_OK) {
        fprintf(stderr, "rpc_peer: %s\n", eb.msg);
        goto out;
    }
    sigterm = evsignal_new(base, SIGTERM, peer_stop_cb, base);
    sigint = evsignal_new(base, SIGINT, peer_stop_cb, base);
    if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0) {
        fprintf(stderr, "rpc_peer: cannot install signal handlers\n");
        goto out;
    }
    printf("listening on 127.0.0.1:%u\n", (unsigned)sm_rpc_server_port(srv));
    event_base_dispatch(base);
    rc = 0;
out:
    if (sigterm != NULL)
        event_free(sigterm);
    if (sigint != NULL)
        event_free(sigint);
    sm_rpc_server_free(srv);
    return rc;
}

/* ---- call -------------------------------------------------------------------------------- */

static void peer_call_done(void *arg, sm_err_t err, const Samsa__Envelope *resp);

static sm_err_t peer_send(peer_t *p)
{
    Samsa__Envelope req = SAMSA__ENVELOPE__INIT;
    Samsa__PingRequest ping = SAMSA__PING_REQUEST__INIT;
    uint8_t data[PEER_DATA_LEN];
    sm_err_t err;

    peer_fill(data, p->sent);
    ping.has_seq = 1;
    ping.seq = p->sent;
    ping.has_data = 1;
    ping.data.len = sizeof(data);
    ping.data.data = data;
    req.has_type = 1;
    req.type = SAMSA__RPC_TYPE__PING;
    req.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    req.ping_request = &ping;
    err = sm_rpc_client_call(p->client, &req, p->timeout_ms, peer_call_done, p);
    if (err == SM_OK)
        p->sent++;
    return err;
}

/* True when resp is the PingResponse to ping number seq. */
static bool peer_matches(const Samsa__Envelope *resp, int64_t seq)
{
    uint8_t want[PEER_DATA_LEN];
    const Samsa__PingResponse *pong;

    if (resp->payload_case != SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE)
        return false;
    pong = resp->ping_response;
    peer_fill(want, seq);
    return pong->has_seq && pong->seq == seq && pong->error_code == 0 &&
           pong->data.len == sizeof(want) && memcmp(pong->data.data, want, sizeof(want)) == 0;
}

static void peer_call_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    peer_t *p = arg;
    int64_t seq = p->next_expected++;

    if (p->stopping)
        return;
    if (err != SM_OK) {
        p->failed++;
        fprintf(stderr, "rpc_peer: call %lld failed: %s\n", (long long)seq, sm_err_str(err));
    } else if (!peer_matches(resp, seq)) {
        p->failed++;
        p->bad = true;
        fprintf(stderr, "rpc_peer: answer to call %lld does not match it\n", (long long)seq);
    } else {
        p->ok++;
    }
    if (p->ok + p->failed == p->n) {
        event_base_loopbreak(p->base);
        return;
    }
    while (p->sent < p->n && p->sent - (p->ok + p->failed) < p->window) {
        if (peer_send(p) != SM_OK) {
            p->failed += p->n - p->sent;
            event_base_loopbreak(p->base);
            return;
        }
    }
}

/* ---- reconnect --------------------------------------------------------------------------- */

static void peer_loop_done(void *arg, sm_err_t err, const Samsa__Envelope *resp);

static void peer_loop_send(peer_t *p)
{
    Samsa__Envelope req = SAMSA__ENVELOPE__INIT;
    Samsa__PingRequest ping = SAMSA__PING_REQUEST__INIT;

    ping.has_seq = 1;
    ping.seq = p->sent;
    req.has_type = 1;
    req.type = SAMSA__RPC_TYPE__PING;
    req.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    req.ping_request = &ping;
    if (sm_rpc_client_call(p->client, &req, p->timeout_ms, peer_loop_done, p) != SM_OK) {
        fprintf(stderr, "rpc_peer: cannot issue a call\n");
        event_base_loopbreak(p->base);
        return;
    }
    p->sent++;
}

static void peer_loop_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    peer_t *p = arg;

    if (p->stopping)
        return;
    if (err != SM_OK) {
        p->failed++;
    } else if (resp->payload_case != SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE ||
               resp->ping_response->seq != p->sent - 1) {
        /* One call at a time: the answer must be to the latest one. */
        p->failed++;
    } else {
        p->ok++;
        if (p->reconnected)
            p->ok_after++;
    }
    if (p->ok >= 100 && !p->said_calling) {
        p->said_calling = true;
        printf("calling\n");
    }
    if (p->reconnected && p->ok_after >= p->n) {
        printf("done: %ld calls ok after reconnecting; %ld ok, %ld failed in all\n", p->ok_after,
               p->ok, p->failed);
        p->rc = 0;
        event_base_loopbreak(p->base);
        return;
    }
    peer_loop_send(p);
}

static void peer_on_state(void *arg, sm_rpc_client_t *c, bool connected)
{
    peer_t *p = arg;

    (void)c;
    if (!connected) {
        if (!p->was_down) {
            p->was_down = true;
            p->down_at_ms = peer_now_ms();
            printf("disconnected\n");
        }
        return;
    }
    printf("connected\n");
    if (p->was_down && !p->reconnected) {
        p->reconnected = true;
        printf("reconnected after %lld ms\n", (long long)(peer_now_ms() - p->down_at_ms));
    }
}

/* ---- main -------------------------------------------------------------------------------- */

static void peer_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    peer_t *p = arg;

    (void)fd;
    (void)what;
    fprintf(stderr, "rpc_peer: deadline passed (%ld ok, %ld failed)\n", p->ok, p->failed);
    event_base_loopbreak(p->base);
}

static int peer_client(struct event_base *base, int argc, char **argv)
{
    peer_t p = {0};
    sm_rpc_client_opts_t opts = {0};
    struct event *deadline = NULL;
    struct timeval tv;
    char host[256];
    uint16_t port;
    long timeout_ms = 5000, deadline_ms = 60000;
    int64_t t0;

    p.base = base;
    p.mode = argv[1];
    p.window = 64;
    p.rc = 1;
    if (argc < 4 || !peer_parse_hostport(argv[2], host, sizeof(host), &port) ||
        !peer_parse_long(argv[3], 1, 100000000, &p.n))
        goto usage;
    for (int i = 4; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool good = false;
        if (strcmp(argv[i], "--window") == 0)
            good = peer_parse_long(v, 1, 100000, &p.window);
        else if (strcmp(argv[i], "--timeout-ms") == 0)
            good = peer_parse_long(v, 1, 3600000, &timeout_ms);
        else if (strcmp(argv[i], "--deadline-ms") == 0)
            good = peer_parse_long(v, 1, 3600000, &deadline_ms);
        if (!good)
            goto usage;
    }
    p.timeout_ms = (uint32_t)timeout_ms;
    if (strcmp(p.mode, "reconnect") == 0) {
        opts.on_state = peer_on_state;
        opts.state_arg = &p;
        p.timeout_ms = timeout_ms == 5000 ? 1000 : (uint32_t)timeout_ms;
    }
    if (sm_rpc_client_new(base, host, port, &opts, &p.client) != SM_OK) {
        fprintf(stderr, "rpc_peer: cannot create a client for %s\n", argv[2]);
        return 1;
    }
    tv.tv_sec = deadline_ms / 1000;
    tv.tv_usec = (deadline_ms % 1000) * 1000;
    deadline = evtimer_new(base, peer_deadline_cb, &p);
    evtimer_add(deadline, &tv);
    t0 = peer_now_ms();
    if (strcmp(p.mode, "reconnect") == 0) {
        peer_loop_send(&p);
        event_base_dispatch(base);
    } else {
        while (p.sent < p.n && p.sent < p.window)
            if (peer_send(&p) != SM_OK)
                break;
        event_base_dispatch(base);
        if (p.ok == p.n && !p.bad) {
            int64_t ms = peer_now_ms() - t0;
            printf("ok: %ld calls in %lld ms, %.0f calls/s (window %ld)\n", p.ok, (long long)ms,
                   ms > 0 ? (double)p.ok * 1000.0 / (double)ms : (double)p.ok, p.window);
            p.rc = 0;
        } else {
            printf("failed: %ld ok, %ld failed of %ld\n", p.ok, p.failed, p.n);
        }
    }
    /* Freeing fails what is still pending; those completions must not start anything. */
    p.stopping = true;
    sm_rpc_client_free(p.client);
    event_free(deadline);
    return p.rc;
usage:
    peer_usage();
    return 2;
}

int main(int argc, char **argv)
{
    struct event_base *base;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    sm_log_init("rpc_peer", SM_LOG_INFO);
    if (argc < 2) {
        peer_usage();
        return 2;
    }
    base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "rpc_peer: cannot create an event base\n");
        return 1;
    }
    if (strcmp(argv[1], "serve") == 0) {
        rc = peer_serve(base, argc, argv);
    } else if (strcmp(argv[1], "call") == 0 || strcmp(argv[1], "reconnect") == 0) {
        rc = peer_client(base, argc, argv);
    } else {
        peer_usage();
        rc = 2;
    }
    event_base_free(base);
    return rc;
}
