/*
 * Unit tests for FindCoordinator (br_api_coord): the request decoder on its own (versions 0-3,
 * malformed bodies), and the handler end to end through the Kafka front end over a socketpair
 * -- whole response frames checked byte for byte for v0, v1 and v3 (flexible: header v2 in,
 * header tag section out), ApiVersions advertising exactly 0-3, and the connection closed on a
 * malformed body or a version we do not serve.
 */
#include "broker/br_api_coord.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_config.h"
#include "kclient_fixture.h"
#include "sm_log.h"

/* ---- the decoder ---------------------------------------------------------------------------- */

static sm_err_t decode(int16_t version, const void *body, size_t n, br_api_coord_req_t *out)
{
    sm_reader_t r;

    sm_reader_init(&r, body, n);
    return br_api_coord_decode(&r, version, out);
}

Test(br_api_coord_decode, reads_v0_key_as_group)
{
    static const uint8_t body[] = {0x00, 0x02, 'g', '1'};
    br_api_coord_req_t req;

    cr_assert_eq(decode(0, body, sizeof(body), &req), SM_OK);
    cr_assert(sm_str_eq(req.key, "g1"));
    cr_assert_eq(req.key_type, BR_API_COORD_GROUP);
}

Test(br_api_coord_decode, reads_v2_key_type)
{
    static const uint8_t body[] = {0x00, 0x01, 't', 0x01};
    br_api_coord_req_t req;

    cr_assert_eq(decode(2, body, sizeof(body), &req), SM_OK);
    cr_assert(sm_str_eq(req.key, "t"));
    cr_assert_eq(req.key_type, BR_API_COORD_TRANSACTION);
}

Test(br_api_coord_decode, reads_v3_compact_key_and_skips_tags)
{
    static const uint8_t body[] = {0x03, 'g', '1', 0x00, 0x01, 0x05, 0x02, 'x', 'y'};
    br_api_coord_req_t req;

    cr_assert_eq(decode(3, body, sizeof(body), &req), SM_OK);
    cr_assert(sm_str_eq(req.key, "g1"));
    cr_assert_eq(req.key_type, BR_API_COORD_GROUP);
}

Test(br_api_coord_decode, accepts_empty_key)
{
    static const uint8_t body[] = {0x00, 0x00, 0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(1, body, sizeof(body), &req), SM_OK);
    cr_assert_eq(req.key.len, 0);
}

Test(br_api_coord_decode, rejects_null_key)
{
    static const uint8_t v1[] = {0xff, 0xff, 0x00};
    static const uint8_t v3[] = {0x00, 0x00, 0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(1, v1, sizeof(v1), &req), SM_ERR_CORRUPT);
    cr_assert_eq(decode(3, v3, sizeof(v3), &req), SM_ERR_CORRUPT);
}

Test(br_api_coord_decode, rejects_key_longer_than_body)
{
    static const uint8_t v0[] = {0x00, 0x05, 'a', 'b'};
    static const uint8_t v3[] = {0x06, 'a', 'b', 0x00, 0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(0, v0, sizeof(v0), &req), SM_ERR_TRUNCATED);
    cr_assert_eq(decode(3, v3, sizeof(v3), &req), SM_ERR_TRUNCATED);
}

Test(br_api_coord_decode, rejects_missing_key_type_from_v1)
{
    static const uint8_t body[] = {0x00, 0x01, 'g'};
    br_api_coord_req_t req;

    cr_assert_eq(decode(0, body, sizeof(body), &req), SM_OK);
    cr_assert_eq(decode(1, body, sizeof(body), &req), SM_ERR_TRUNCATED);
}

Test(br_api_coord_decode, rejects_missing_tag_section_in_v3)
{
    static const uint8_t body[] = {0x02, 'g', 0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(3, body, sizeof(body), &req), SM_ERR_TRUNCATED);
}

Test(br_api_coord_decode, rejects_tag_running_past_the_end)
{
    static const uint8_t body[] = {0x02, 'g', 0x00, 0x01, 0x00, 0x09, 'x'};
    br_api_coord_req_t req;

    cr_assert_eq(decode(3, body, sizeof(body), &req), SM_ERR_TRUNCATED);
}

Test(br_api_coord_decode, rejects_bytes_left_over)
{
    static const uint8_t body[] = {0x00, 0x01, 'g', 0x00, 0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(1, body, sizeof(body), &req), SM_ERR_CORRUPT);
}

Test(br_api_coord_decode, rejects_versions_outside_0_to_3)
{
    static const uint8_t body[] = {0x00};
    br_api_coord_req_t req;

    cr_assert_eq(decode(4, body, sizeof(body), &req), SM_ERR_VERSION);
    cr_assert_eq(decode(-1, body, sizeof(body), &req), SM_ERR_VERSION);
}

/* ---- the encoder ---------------------------------------------------------------------------- */

Test(br_api_coord_encode, writes_a_found_coordinator_in_v2)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x00, /* throttle */
                                   0x00, 0x00,             /* error */
                                   0xff, 0xff,             /* null message */
                                   0x00, 0x00, 0x00, 0x07, /* node */
                                   0x00, 0x02, 'h',  '7',  /* host */
                                   0x00, 0x00, 0x23, 0x84};
    br_api_coord_resp_t resp = {SM_KERR_NONE, NULL, 7, "h7", 9092};
    sm_writer_t w;

    sm_writer_init(&w, 0);
    br_api_coord_encode(&w, 2, &resp);
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    cr_assert_eq(sm_writer_len(&w), sizeof(want));
    cr_assert_arr_eq(sm_writer_data(&w), want, sizeof(want));
    sm_writer_deinit(&w);
}

Test(br_api_coord_encode, writes_null_message_compact_in_v3)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* null */
                                   0x00, 0x00, 0x00, 0x07, 0x03, 'h',  '7',
                                   0x00, 0x00, 0x23, 0x84, 0x00};
    br_api_coord_resp_t resp = {SM_KERR_NONE, NULL, 7, "h7", 9092};
    sm_writer_t w;

    sm_writer_init(&w, 0);
    br_api_coord_encode(&w, 3, &resp);
    cr_assert_eq(sm_writer_len(&w), sizeof(want));
    cr_assert_arr_eq(sm_writer_data(&w), want, sizeof(want));
    sm_writer_deinit(&w);
}

Test(br_api_coord_answer, answers_unknown_key_type_with_invalid_request)
{
    br_api_coord_req_t req = {{"g", 1}, 2};
    br_api_coord_resp_t resp;

    br_api_coord_answer(&req, &resp);
    cr_assert_eq(resp.error, SM_KERR_INVALID_REQUEST);
    cr_assert_eq(resp.node_id, -1);
    cr_assert_eq(resp.port, -1);
    cr_assert_str_eq(resp.host, "");
}

/* ---- the handler, through the front end ----------------------------------------------------- */

static struct event_base *base;
static sm_config_t *cfg;
static br_kafka_t *k;
static int cfd = -1;

static void setup(void)
{
    static const char *const ov[] = {"broker.id=1", "log.dirs=/tmp/samsa-unused",
                                     "zookeeper.connect=127.0.0.1:2181",
                                     "socket.request.max.bytes=1024"};
    br_kafka_deps_t d = {0};
    sm_errbuf_t eb;
    int sv[2];

    sm_log_init("test", SM_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);
    cr_assert_eq(br_config_load(NULL, ov, 4, &cfg, &eb), SM_OK, "%s", eb.msg);
    base = event_base_new();
    cr_assert_not_null(base);
    d.base = base;
    d.cfg = cfg;
    d.broker_id = 1;
    cr_assert_eq(br_kafka_new(&d, NULL, 0, &k, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_api_versions_register(k), SM_OK);
    cr_assert_eq(br_api_coord_register(k), SM_OK);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    cr_assert_eq(br_kafka_add_connection(k, sv[0]), SM_OK);
    cfd = sv[1];
}

static void teardown(void)
{
    br_kafka_free(k);
    k = NULL;
    event_base_free(base);
    sm_config_free(cfg);
    if (cfd >= 0)
        close(cfd);
    cfd = -1;
}

TestSuite(br_api_coord, .init = setup, .fini = teardown);

/* Sends a request frame: key/version/correlation id, client id "t" (int16 string), an empty
 * tag section when flexible (header v2), then body. */
static void send_req(int16_t key, int16_t ver, int32_t corr, bool flexible, const void *body,
                     size_t n)
{
    uint8_t b[256];
    size_t len = (flexible ? 12u : 11u) + n, pos = 15;

    cr_assert_leq(len + 4, sizeof(b));
    b[0] = 0, b[1] = 0, b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len;
    b[4] = (uint8_t)(key >> 8), b[5] = (uint8_t)key, b[6] = (uint8_t)(ver >> 8);
    b[7] = (uint8_t)ver;
    b[8] = (uint8_t)(corr >> 24), b[9] = (uint8_t)(corr >> 16), b[10] = (uint8_t)(corr >> 8);
    b[11] = (uint8_t)corr, b[12] = 0, b[13] = 1, b[14] = 't';
    if (flexible)
        b[pos++] = 0;
    if (n > 0)
        memcpy(b + pos, body, n);
    cr_assert_eq(write(cfd, b, len + 4), (ssize_t)(len + 4));
}

/* Receives one frame (payload into buf, returns its length) within 2 s; -1 on EOF or reset,
 * -2 on timeout. */
static int recv_frame(uint8_t *buf, size_t cap)
{
    return kc_recv_into(base, cfd, 2000, buf, cap);
}

static void expect_frame(const uint8_t *want, size_t n)
{
    uint8_t buf[512];

    cr_assert_eq(recv_frame(buf, sizeof(buf)), (int)n);
    cr_assert_arr_eq(buf, want, n);
}

static void expect_closed(void)
{
    uint8_t buf[512];

    cr_assert_eq(recv_frame(buf, sizeof(buf)), -1, "connection should be closed");
}

#define NOT_IMPL_GROUP "the group coordinator is not implemented yet"
#define NOT_IMPL_TXN   "the transaction coordinator is not implemented yet"

Test(br_api_coord, answers_v0_coordinator_not_available_with_no_node)
{
    static const uint8_t body[] = {0x00, 0x02, 'g', '1'};
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x05,  /* correlation id */
                                   0x00, 0x0f,              /* COORDINATOR_NOT_AVAILABLE */
                                   0xff, 0xff, 0xff, 0xff,  /* node_id -1 */
                                   0x00, 0x00,              /* host "" */
                                   0xff, 0xff, 0xff, 0xff}; /* port -1 */

    send_req(10, 0, 5, false, body, sizeof(body));
    expect_frame(want, sizeof(want));
}

Test(br_api_coord, answers_v1_with_throttle_and_message)
{
    static const uint8_t body[] = {0x00, 0x02, 'g', '1', 0x00};
    uint8_t want[4 + 4 + 2 + 2 + sizeof(NOT_IMPL_GROUP) - 1 + 4 + 2 + 4] = {
        0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0f, 0x00, (uint8_t)(sizeof(NOT_IMPL_GROUP) - 1)};
    size_t p = 12;

    memcpy(want + p, NOT_IMPL_GROUP, sizeof(NOT_IMPL_GROUP) - 1);
    p += sizeof(NOT_IMPL_GROUP) - 1;
    memcpy(want + p, "\xff\xff\xff\xff\x00\x00\xff\xff\xff\xff", 10);
    send_req(10, 1, 6, false, body, sizeof(body));
    expect_frame(want, sizeof(want));
}

Test(br_api_coord, answers_v3_flexibly_with_header_tags)
{
    static const uint8_t body[] = {0x03, 'g', '1', 0x00, 0x00}; /* key, key_type, tags */
    uint8_t want[4 + 1 + 4 + 2 + 1 + sizeof(NOT_IMPL_GROUP) - 1 + 4 + 1 + 4 + 1] = {
        0x00,
        0x00,
        0x00,
        0x07, /* correlation id */
        0x00, /* response header tags */
        0x00,
        0x00,
        0x00,
        0x00, /* throttle_time_ms */
        0x00,
        0x0f,                                       /* COORDINATOR_NOT_AVAILABLE */
        (uint8_t)(sizeof(NOT_IMPL_GROUP) - 1 + 1)}; /* compact message length + 1 */
    size_t p = 12;

    memcpy(want + p, NOT_IMPL_GROUP, sizeof(NOT_IMPL_GROUP) - 1);
    p += sizeof(NOT_IMPL_GROUP) - 1;
    /* node_id -1, host "" (compact: 0x01), port -1, body tags */
    memcpy(want + p, "\xff\xff\xff\xff\x01\xff\xff\xff\xff\x00", 10);
    send_req(10, 3, 7, true, body, sizeof(body));
    expect_frame(want, sizeof(want));
}

Test(br_api_coord, answers_transaction_key_type_not_available_too)
{
    static const uint8_t body[] = {0x02, 't', 0x01, 0x00};
    uint8_t buf[512];
    int n;

    send_req(10, 3, 8, true, body, sizeof(body));
    n = recv_frame(buf, sizeof(buf));
    cr_assert_eq(n, 5 + 4 + 2 + 1 + (int)sizeof(NOT_IMPL_TXN) - 1 + 10);
    cr_assert_eq(buf[9], 0x00);
    cr_assert_eq(buf[10], 0x0f);
    cr_assert_arr_eq(buf + 12, NOT_IMPL_TXN, sizeof(NOT_IMPL_TXN) - 1);
}

Test(br_api_coord, answers_unknown_key_type_invalid_request)
{
    static const uint8_t body[] = {0x00, 0x01, 'x', 0x07};
    uint8_t buf[512];

    send_req(10, 2, 9, false, body, sizeof(body));
    cr_assert_gt(recv_frame(buf, sizeof(buf)), 10);
    cr_assert_eq(buf[8], 0x00);
    cr_assert_eq(buf[9], 42);
}

Test(br_api_coord, is_advertised_as_versions_0_to_3)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x02,             /* corr */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* error, N */
                                   0x00, 0x0a, 0x00, 0x00, 0x00, 0x03, /* key 10: 0-3 */
                                   0x00, 0x12, 0x00, 0x00, 0x00, 0x03};

    send_req(18, 0, 2, false, NULL, 0);
    expect_frame(want, sizeof(want));
}

Test(br_api_coord, closes_on_truncated_v0_key)
{
    static const uint8_t body[] = {0x00, 0x09, 'g'};

    send_req(10, 0, 1, false, body, sizeof(body));
    expect_closed();
}

Test(br_api_coord, closes_on_null_v3_key)
{
    static const uint8_t body[] = {0x00, 0x00, 0x00};

    send_req(10, 3, 1, true, body, sizeof(body));
    expect_closed();
}

Test(br_api_coord, closes_on_v3_body_without_tag_section)
{
    static const uint8_t body[] = {0x02, 'g', 0x00};

    send_req(10, 3, 1, true, body, sizeof(body));
    expect_closed();
}

Test(br_api_coord, closes_on_v4_batched_request)
{
    static const uint8_t body[] = {0x00, 0x02, 0x02, 'g', 0x00};

    send_req(10, 4, 1, true, body, sizeof(body));
    expect_closed();
}
