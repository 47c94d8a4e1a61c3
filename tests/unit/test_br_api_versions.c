/*
 * Unit tests for the Kafka front end (br_kafka, br_kconn) and ApiVersions, over a socketpair:
 * byte layouts of ApiVersions v0/v3 and the v0-format error reply, connection closing on bad
 * frames, unknown APIs and idleness, and the in-order response queue (parked, dropped and
 * file-slice responses) through a test handler registered on key 0.
 */
#include "broker/br_kafka.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_api_info.h"
#include "broker/br_config.h"
#include "kclient_fixture.h"
#include "sm_log.h"

static struct event_base *base;
static sm_config_t *cfg;
static br_kafka_t *k;
static int cfd = -1;
static br_kreq_t *parked[128];
static int nparked, naborted;

/* ---- test handler on key 0 ------------------------------------------------------------------ */

static void park_abort(void *arg, br_kreq_t *req)
{
    (void)arg;
    for (int i = 0; i < nparked; i++)
        if (parked[i] == req)
            parked[i] = NULL;
    naborted++;
    br_kreq_drop(req);
}

/* Body byte 'R' = respond "R", 'P' = park, 'D' = drop, 'F' = "<" + file slice + ">". */
static void test_handler(void *arg, br_kreq_t *req)
{
    sm_reader_t *r = br_kreq_body(req);
    int8_t op = sm_reader_i8(r);

    (void)arg;
    if (sm_reader_err(r) != SM_OK) {
        br_kreq_fail(req, "test: empty body");
    } else if (op == 'R') {
        sm_writer_i8(br_kreq_writer(req), 'R');
        br_kreq_respond(req);
    } else if (op == 'P') {
        parked[nparked++] = req;
        br_kreq_set_abort(req, park_abort, NULL);
    } else if (op == 'D') {
        br_kreq_drop(req);
    } else if (op == 'F') {
        char path[] = "/tmp/test_br_kafka_XXXXXX";
        int fd = mkstemp(path);

        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, "0123456789", 10), 10);
        sm_writer_i8(br_kreq_writer(req), '<');
        cr_assert_eq(br_kreq_add_file(req, fd, 2, 5), SM_OK);
        close(fd);
        unlink(path); /* the dup()ed descriptor keeps the bytes */
        sm_writer_i8(br_kreq_writer(req), '>');
        cr_assert_eq(br_kreq_response_len(req), 7);
        br_kreq_respond(req);
    } else {
        br_kreq_fail(req, "test: unknown op");
    }
}

/* ---- harness -------------------------------------------------------------------------------- */

static void setup(void)
{
    static const char *const ov[] = {
        "broker.id=1", "log.dirs=/tmp/samsa-unused", "zookeeper.connect=127.0.0.1:2181",
        "socket.request.max.bytes=1024", "connections.max.idle.ms=300"};
    br_kafka_deps_t d = {0};
    sm_errbuf_t eb;
    int sv[2];

    sm_log_init("test", SM_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN); /* as samsa-broker does: a vanished peer is an error, not a kill */
    cr_assert_eq(br_config_load(NULL, ov, 5, &cfg, &eb), SM_OK, "%s", eb.msg);
    base = event_base_new();
    cr_assert_not_null(base);
    d.base = base;
    d.cfg = cfg;
    d.broker_id = 1;
    cr_assert_eq(br_kafka_new(&d, NULL, 0, &k, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_api_versions_register(k), SM_OK);
    cr_assert_eq(br_kafka_register(k, 0, 0, 8, BR_KAFKA_NOT_FLEXIBLE, test_handler, NULL), SM_OK);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    cr_assert_eq(br_kafka_add_connection(k, sv[0]), SM_OK);
    cfd = sv[1];
    nparked = naborted = 0;
}

static void teardown(void)
{
    br_kafka_free(k);
    event_base_free(base);
    sm_config_free(cfg);
    if (cfd >= 0)
        close(cfd);
    cfd = -1;
}

TestSuite(br_kafka, .init = setup, .fini = teardown);

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump(int ms)
{
    int64_t end = now_ms() + ms;

    while (now_ms() < end) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

static void send_raw(const void *p, size_t n)
{
    cr_assert_eq(write(cfd, p, n), (ssize_t)n);
}

/* Sends a request frame: header v1 (client id "t") for key/version, then body. */
static void send_req(int16_t key, int16_t ver, int32_t corr, const void *body, size_t n)
{
    uint8_t b[256];
    size_t len = 11 + n;

    cr_assert_leq(len + 4, sizeof(b));
    b[0] = 0, b[1] = 0, b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len;
    b[4] = (uint8_t)(key >> 8), b[5] = (uint8_t)key, b[6] = (uint8_t)(ver >> 8),
    b[7] = (uint8_t)ver;
    b[8] = (uint8_t)(corr >> 24), b[9] = (uint8_t)(corr >> 16), b[10] = (uint8_t)(corr >> 8);
    b[11] = (uint8_t)corr, b[12] = 0, b[13] = 1, b[14] = 't';
    if (n > 0)
        memcpy(b + 15, body, n);
    send_raw(b, len + 4);
}

/* Receives one frame (payload into buf, returns its length); -1 on EOF or reset; -2 when
 * nothing arrived within ms. */
static int recv_frame_within(uint8_t *buf, size_t cap, int ms)
{
    return kc_recv_into(base, cfd, ms, buf, cap);
}

static int recv_frame(uint8_t *buf, size_t cap)
{
    return recv_frame_within(buf, cap, 2000);
}

static void expect_closed(void)
{
    uint8_t buf[1024];

    cr_assert_eq(recv_frame(buf, sizeof(buf)), -1, "connection should be closed");
}

/* ---- ApiVersions ---------------------------------------------------------------------------- */

Test(br_kafka, answers_api_versions_v0_with_registered_apis)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x07,             /* corr */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* error, N */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x08, /* key 0: 0-8 */
                                   0x00, 0x12, 0x00, 0x00, 0x00, 0x03};
    uint8_t buf[256];

    send_req(18, 0, 7, NULL, 0);
    cr_assert_eq(recv_frame(buf, sizeof(buf)), (int)sizeof(want));
    cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(br_kafka, answers_api_versions_v1_with_throttle_time)
{
    uint8_t buf[256];

    send_req(18, 1, 8, NULL, 0);
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 22 + 4);
    cr_assert_eq(buf[22] | buf[23] | buf[24] | buf[25], 0);
}

Test(br_kafka, answers_librdkafka_v3_request_flexibly_with_header_v0)
{
    static const uint8_t req[] = {0x00, 0x00, 0x00, 0x24, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00,
                                  0x00, 0x01, 0x00, 0x07, 'r',  'd',  'k',  'a',  'f',  'k',
                                  'a',  0x00, 0x0b, 'l',  'i',  'b',  'r',  'd',  'k',  'a',
                                  'f',  'k',  'a',  0x06, '2',  '.',  '0',  '.',  '2',  0x00};
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x01,                   /* corr, no tag */
                                   0x00, 0x00, 0x03,                         /* error, N+1 */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, /* key 0 + tags */
                                   0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00, /* key 18 + tags */
                                   0x00, 0x00, 0x00, 0x00,                   /* throttle */
                                   0x00};                                    /* tags */
    uint8_t buf[256];

    send_raw(req, sizeof(req));
    cr_assert_eq(recv_frame(buf, sizeof(buf)), (int)sizeof(want));
    cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(br_kafka, answers_unsupported_api_versions_version_in_v0_format)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x09, 0x00, 0x23, 0x00, 0x00,
                                   0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03};
    /* v4 with a header we cannot even parse past the correlation id. */
    static const uint8_t req[] = {0x00, 0x00, 0x00, 0x09, 0x00, 0x12, 0x00,
                                  0x04, 0x00, 0x00, 0x00, 0x09, 0x7f};
    uint8_t buf[256];

    send_raw(req, sizeof(req));
    cr_assert_eq(recv_frame(buf, sizeof(buf)), (int)sizeof(want));
    cr_assert_arr_eq(buf, want, sizeof(want));
    send_req(18, 0, 10, NULL, 0); /* the connection stays usable */
    cr_assert_gt(recv_frame(buf, sizeof(buf)), 0);
}

Test(br_kafka, closes_on_malformed_api_versions_v3_body)
{
    static const uint8_t body[] = {0x05, 'a'};

    send_req(18, 3, 1, body, sizeof(body));
    expect_closed();
}

/* ---- connection rules ----------------------------------------------------------------------- */

Test(br_kafka, closes_on_unknown_api_key)
{
    send_req(42, 0, 1, NULL, 0);
    expect_closed();
}

Test(br_kafka, closes_on_version_outside_range)
{
    send_req(0, 9, 1, "R", 1);
    expect_closed();
}

Test(br_kafka, closes_on_frame_above_max_before_payload_arrives)
{
    static const uint8_t hdr[] = {0x00, 0x00, 0x04, 0x01}; /* 1025 > 1024 */

    send_raw(hdr, sizeof(hdr));
    expect_closed();
}

Test(br_kafka, accepts_frame_of_exactly_max_size)
{
    uint8_t req[4 + 1024] = {0x00, 0x00, 0x04, 0x00, 0x00, 0x12, 0x00,
                             0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00};
    uint8_t buf[256];

    send_raw(req, sizeof(req)); /* ApiVersions v0 ignores its body */
    cr_assert_gt(recv_frame(buf, sizeof(buf)), 0);
}

Test(br_kafka, closes_on_negative_frame_length)
{
    static const uint8_t hdr[] = {0xff, 0xff, 0xff, 0xfe};

    send_raw(hdr, sizeof(hdr));
    expect_closed();
}

Test(br_kafka, closes_on_empty_frame)
{
    static const uint8_t hdr[] = {0x00, 0x00, 0x00, 0x00};

    send_raw(hdr, sizeof(hdr));
    expect_closed();
}

Test(br_kafka, closes_on_truncated_request_header)
{
    static const uint8_t req[] = {0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
                                  0x01, 0x00, 0x00, 0x00, 0x01, 0x00};

    send_raw(req, sizeof(req));
    expect_closed();
}

Test(br_kafka, closes_on_client_id_longer_than_frame)
{
    static const uint8_t req[] = {0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
                                  0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00};

    send_raw(req, sizeof(req));
    expect_closed();
}

Test(br_kafka, closes_idle_connection_after_connections_max_idle_ms)
{
    uint8_t buf[64];

    cr_assert_eq(br_kafka_conn_count(k), 1);
    cr_assert_eq(recv_frame_within(buf, sizeof(buf), 100), -2); /* not yet */
    expect_closed();
    cr_assert_eq(br_kafka_conn_count(k), 0);
}

Test(br_kafka, survives_random_frames)
{
    uint8_t req[64], buf[1024];
    unsigned seed = 1;

    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(rand_r(&seed) % 40);

        req[0] = 0, req[1] = 0, req[2] = 0, req[3] = (uint8_t)n;
        for (size_t j = 0; j < n; j++)
            req[4 + j] = (uint8_t)rand_r(&seed);
        req[4] = 0;
        req[5] = (uint8_t)(rand_r(&seed) % 2 ? 18 : 0); /* ApiVersions or the test key */
        req[6] = 0;
        req[7] = (uint8_t)(rand_r(&seed) % 6);
        (void)write(cfd, req, n + 4);
        while (recv_frame_within(buf, sizeof(buf), 5) >= 0)
            ;
        pump(1);
        if (br_kafka_conn_count(k) == 0) {
            int sv[2];

            close(cfd);
            cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
            fcntl(sv[0], F_SETFL, O_NONBLOCK);
            fcntl(sv[1], F_SETFL, O_NONBLOCK);
            cr_assert_eq(br_kafka_add_connection(k, sv[0]), SM_OK);
            cfd = sv[1];
        }
    }
}

/* ---- the response queue --------------------------------------------------------------------- */

Test(br_kafka, sends_responses_in_request_order_when_first_is_parked)
{
    uint8_t buf[64];

    send_req(0, 3, 1, "P", 1);
    send_req(0, 3, 2, "R", 1);
    cr_assert_eq(recv_frame_within(buf, sizeof(buf), 100), -2); /* 2 waits behind 1 */
    cr_assert_eq(nparked, 1);
    sm_writer_i8(br_kreq_writer(parked[0]), 'p');
    br_kreq_respond(parked[0]);
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 5);
    cr_assert_eq(buf[3], 1);
    cr_assert_eq(buf[4], 'p');
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 5);
    cr_assert_eq(buf[3], 2);
    cr_assert_eq(buf[4], 'R');
}

Test(br_kafka, dropped_request_gets_no_response_and_blocks_nothing)
{
    uint8_t buf[64];

    send_req(0, 3, 1, "P", 1);
    send_req(0, 3, 2, "D", 1);
    send_req(0, 3, 3, "R", 1);
    cr_assert_eq(recv_frame_within(buf, sizeof(buf), 100), -2);
    br_kreq_drop(parked[0]); /* acks=0 completes with no answer */
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 5);
    cr_assert_eq(buf[3], 3);
}

Test(br_kafka, sends_file_slice_between_body_bytes)
{
    uint8_t buf[64];

    send_req(0, 3, 4, "F", 1);
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 4 + 7);
    cr_assert_arr_eq(buf + 4, "<23456>", 7);
}

Test(br_kafka, aborts_parked_request_when_client_goes_away)
{
    send_req(0, 3, 1, "P", 1);
    pump(50);
    cr_assert_eq(nparked, 1);
    close(cfd);
    cfd = -1;
    pump(50);
    cr_assert_eq(naborted, 1);
    cr_assert_eq(br_kafka_conn_count(k), 0);
}

Test(br_kafka, aborts_parked_request_when_front_end_is_freed)
{
    send_req(0, 3, 1, "P", 1);
    pump(50);
    cr_assert_eq(nparked, 1);
    br_kafka_free(k);
    k = NULL;
    cr_assert_eq(naborted, 1);
}

Test(br_kafka, fail_closes_the_connection)
{
    send_req(0, 3, 1, "X", 1);
    expect_closed();
}

Test(br_kafka, pauses_reading_at_64_in_flight_and_resumes_when_they_complete)
{
    uint8_t buf[64];

    for (int i = 0; i < 70; i++)
        send_req(0, 3, i, "P", 1);
    send_req(0, 3, 70, "R", 1);
    pump(100);
    cr_assert_eq(nparked, 64);
    for (int i = 0; i < 64; i++)
        br_kreq_drop(parked[i]);
    pump(100);
    cr_assert_eq(nparked, 70);
    for (int i = 64; i < 70; i++)
        br_kreq_drop(parked[i]);
    cr_assert_eq(recv_frame(buf, sizeof(buf)), 5);
    cr_assert_eq(buf[3], 70);
}

/* SO_SNDBUF / SO_RCVBUF of a connection that br_kafka `sizes` (NULL: the suite's, with the
 * defaults) accepted. */
static void socket_buffers(const char *const *sizes, int *snd, int *rcv)
{
    const char *ov[] = {"broker.id=1", "log.dirs=/tmp/samsa-unused",
                        "zookeeper.connect=127.0.0.1:2181", NULL, NULL};
    br_kafka_deps_t d = {.base = base, .broker_id = 1};
    sm_config_t *c = NULL;
    br_kafka_t *k2 = k;
    socklen_t len = sizeof(int);
    sm_errbuf_t eb;
    int sv[2];

    if (sizes != NULL) {
        ov[3] = sizes[0];
        ov[4] = sizes[1];
        cr_assert_eq(br_config_load(NULL, ov, 5, &c, &eb), SM_OK, "%s", eb.msg);
        d.cfg = c;
        cr_assert_eq(br_kafka_new(&d, NULL, 0, &k2, &eb), SM_OK, "%s", eb.msg);
    }
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(br_kafka_add_connection(k2, sv[0]), SM_OK);
    cr_assert_eq(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, snd, &len), 0);
    cr_assert_eq(getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, rcv, &len), 0);
    if (sizes != NULL) {
        br_kafka_free(k2);
        sm_config_free(c);
    }
    close(sv[1]);
}

Test(br_kafka, socket_buffer_sizes_are_applied_when_set_and_left_to_the_os_otherwise)
{
    static const char *const set[] = {"socket.send.buffer.bytes=65536",
                                      "socket.receive.buffer.bytes=32768"};
    int snd = 0, rcv = 0, os_snd = 0, os_rcv = 0, sv[2];
    socklen_t len = sizeof(int);

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &os_snd, &len), 0);
    cr_assert_eq(getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &os_rcv, &len), 0);
    close(sv[0]);
    close(sv[1]);
    socket_buffers(NULL, &snd, &rcv);
    cr_assert_eq(snd, os_snd, "default: the OS's size (%d), got %d", os_snd, snd);
    cr_assert_eq(rcv, os_rcv, "default: the OS's size (%d), got %d", os_rcv, rcv);
    socket_buffers(set, &snd, &rcv);
    /* Linux reports twice the size asked for (its bookkeeping overhead). */
    cr_assert_eq(snd, 2 * 65536, "socket.send.buffer.bytes=65536 gave %d", snd);
    cr_assert_eq(rcv, 2 * 32768, "socket.receive.buffer.bytes=32768 gave %d", rcv);
}
