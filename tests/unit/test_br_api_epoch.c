/*
 * test_br_api_epoch: the OffsetForLeaderEpoch handler end to end on one broker context (a real
 * log manager in a temp dir; t-0 led here at epoch 5 with epochs 2 at offset 0 and 5 at offset
 * 3 in its cache and log end 5; t-1 led by broker 2), through the Kafka front end over a
 * socketpair, with requests written by br_kcodec_epoch_req_encode and answers read by
 * br_kcodec_epoch_resp_decode, every version 0-4 (v4 with the flexible headers): end offsets of
 * the latest, an older, an in-between and unknown epochs, leader-epoch fencing, not-leader and
 * unknown partitions, and a malformed body closing the connection.
 */
#include "broker/br_api_data.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_batch.h"
#include "broker/br_control.h"
#include "broker/br_epoch.h"
#include "broker/br_kcodec_epoch.h"
#include "broker/br_partition.h"
#include "sm_log.h"
#include "kclient_fixture.h"
#include "storage_fixture.h"

static struct event_base *base;
static char dir[256];
static br_logmgr_t *lm;
static br_metacache_t *mc;
static br_control_t *ctl;
static br_kafka_t *k;
static br_api_data_t *d;

/* Appends n records stamped with leader epoch `epoch` to log (as a leader append). */
static void append(br_log_t *log, int32_t n, int32_t epoch)
{
    size_t len;
    uint8_t *b = fx_simple_batch(n, 4, 1000, &len);
    br_batch_limits_t lim = {.max_batch_bytes = 1 << 20};
    br_batch_set_t set;
    br_batch_verdict_t v;

    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, &lim, &set, &v), SM_OK);
    cr_assert_eq(br_log_append(log, b, &set, epoch, 0, NULL), SM_OK);
    br_batch_set_deinit(&set);
    free(b);
}

static void setup(void)
{
    sm_errbuf_t eb = {{0}};
    const char *dirs[1];
    br_logmgr_config_t lc = {0};
    br_partition_t *p;
    br_log_t *log;
    int32_t one = 1, two = 2;

    sm_log_init("test", SM_LOG_ERROR);
    base = event_base_new();
    fx_mkdtemp(dir, sizeof(dir), "test_br_api_epoch");
    dirs[0] = dir;
    lc.dirs = dirs;
    lc.ndirs = 1;
    lc.broker_id = 1;
    br_log_config_defaults(&lc.log);
    cr_assert_eq(br_logmgr_open(&lc, 0, &lm, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_logmgr_create(lm, "t", 0, 0, &log, &eb), SM_OK, "%s", eb.msg);
    append(log, 3, 2); /* offsets 0-2 in epoch 2 */
    append(log, 2, 5); /* offsets 3-4 in epoch 5 */
    br_epoch_t *ep = br_logmgr_epochs(lm, "t", 0);
    cr_assert_not_null(ep);
    cr_assert_eq(br_epoch_count(ep), 2, "the log's appends fill the epoch cache");
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    br_control_config_t cc = {.broker_id = 1, .logmgr = lm, .metacache = mc};
    cr_assert_eq(br_control_new(&cc, &ctl, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_partition_add(br_control_partitions(ctl), "t", 0, &p), SM_OK);
    br_partition_state_t st = {
        .leader = 1, .leader_epoch = 5, .isr = &one, .n_isr = 1, .replicas = &one, .n_replicas = 1};
    cr_assert_eq(br_partition_apply(p, 1, &st), SM_OK);
    cr_assert_eq(br_partition_add(br_control_partitions(ctl), "t", 1, &p), SM_OK);
    st.leader = 2;
    st.replicas = st.isr = &two;
    cr_assert_eq(br_partition_apply(p, 1, &st), SM_OK);
    br_kafka_deps_t deps = {
        .base = base, .broker_id = 1, .metacache = mc, .logmgr = lm, .control = ctl};
    cr_assert_eq(br_kafka_new(&deps, NULL, 0, &k, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_api_data_new(k, &d), SM_OK);
    cr_assert_eq(br_api_data_register(d), SM_OK);
}

static void teardown(void)
{
    sm_errbuf_t eb = {{0}};
    br_kafka_free(k);
    br_api_data_free(d);
    br_control_free(ctl);
    br_metacache_free(mc);
    br_logmgr_close(lm, false, 0, &eb);
    fx_rmtree(dir);
    event_base_free(base);
}

TestSuite(api_epoch, .init = setup, .fini = teardown);

/* ---- client side ------------------------------------------------------------------------------
 */

static int client(void)
{
    return kc_attach(k);
}

/* Sends body (raw bytes) as an OffsetForLeaderEpoch request of version ver (header v2 at v4). */
static void send_raw(int fd, int16_t ver, int32_t corr, const uint8_t *body, size_t n)
{
    kc_send(fd, BR_KCODEC_EPOCH_API_KEY, ver, corr, ver >= BR_KCODEC_EPOCH_FLEXIBLE_FROM, body, n);
}

static uint8_t *recv_resp(int fd, int ms, size_t *len, bool *closed)
{
    return kc_recv(base, fd, ms, len, closed);
}

/* Asks req (its version) and decodes the answer into resp; returns the frame (the views in
 * resp point into it; caller frees it after resp_deinit). */
static uint8_t *ask(int fd, const br_kcodec_epoch_req_t *req, br_kcodec_epoch_resp_t *resp)
{
    static int32_t corr = 100;
    sm_writer_t w;
    size_t n;
    bool closed;

    sm_writer_init(&w, 0);
    br_kcodec_epoch_req_encode(&w, req);
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    send_raw(fd, req->version, ++corr, sm_writer_data(&w), sm_writer_len(&w));
    sm_writer_deinit(&w);
    uint8_t *frame = recv_resp(fd, 2000, &n, &closed);
    cr_assert_not_null(frame, "no OffsetForLeaderEpoch response (v%d)", req->version);
    sm_reader_t r;
    sm_reader_init(&r, frame, n);
    cr_assert_eq(sm_reader_i32(&r), corr);
    if (req->version >= BR_KCODEC_EPOCH_FLEXIBLE_FROM)
        sm_reader_skip_tags(&r);
    cr_assert_eq(br_kcodec_epoch_resp_decode(&r, req->version, resp), SM_OK, "v%d", req->version);
    return frame;
}

typedef struct answer {
    sm_kerr_t error;
    int32_t epoch;
    int64_t end;
} answer_t;

/* One partition of topic "t" (or `topic`), asked at version v. */
static answer_t ask_one(int fd, int16_t v, const char *topic, int32_t partition, int32_t current,
                        int32_t epoch)
{
    br_kcodec_epoch_part_t p = {
        .partition = partition, .current_leader_epoch = current, .leader_epoch = epoch};
    br_kcodec_epoch_topic_t t = {.name = sm_str_of(topic), .parts = &p, .n_parts = 1};
    br_kcodec_epoch_req_t req = {.version = v, .replica_id = 2, .topics = &t, .n_topics = 1};
    br_kcodec_epoch_resp_t resp;
    uint8_t *frame = ask(fd, &req, &resp);

    cr_assert_eq(resp.n_topics, 1);
    cr_assert_eq(resp.topics[0].name.len, t.name.len);
    cr_assert_eq(resp.topics[0].n_parts, 1);
    cr_assert_eq(resp.topics[0].parts[0].partition, partition);
    answer_t a = {resp.topics[0].parts[0].error, resp.topics[0].parts[0].leader_epoch,
                  resp.topics[0].parts[0].end_offset};
    br_kcodec_epoch_resp_deinit(&resp);
    free(frame);
    return a;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

Test(api_epoch, is_registered_for_versions_0_to_4)
{
    int16_t min, max;
    cr_assert(br_kafka_api_range(k, BR_KCODEC_EPOCH_API_KEY, &min, &max));
    cr_assert_eq(min, 0);
    cr_assert_eq(max, 4);
}

Test(api_epoch, answers_end_offsets_of_latest_older_and_unknown_epochs_at_every_version)
{
    int fd = client();

    for (int16_t v = 0; v <= 4; v++) {
        int32_t want_epoch_latest = v >= 1 ? 5 : -1, want_epoch_old = v >= 1 ? 2 : -1;
        answer_t a = ask_one(fd, v, "t", 0, 5, 5);
        cr_assert_eq(a.error, 0, "v%d", v);
        cr_assert_eq(a.epoch, want_epoch_latest, "v%d latest epoch", v);
        cr_assert_eq(a.end, 5, "v%d latest epoch ends at the log end", v);
        a = ask_one(fd, v, "t", 0, 5, 2);
        cr_assert_eq(a.error, 0);
        cr_assert_eq(a.epoch, want_epoch_old, "v%d", v);
        cr_assert_eq(a.end, 3, "v%d epoch 2 ends where epoch 5 starts", v);
        a = ask_one(fd, v, "t", 0, -1, 4); /* between 2 and 5: epoch 2's end */
        cr_assert_eq(a.error, 0);
        cr_assert_eq(a.epoch, want_epoch_old, "v%d", v);
        cr_assert_eq(a.end, 3, "v%d", v);
        a = ask_one(fd, v, "t", 0, -1, 6); /* above the latest */
        cr_assert_eq(a.error, 0);
        cr_assert_eq(a.epoch, -1);
        cr_assert_eq(a.end, -1, "v%d", v);
        a = ask_one(fd, v, "t", 0, -1, 1); /* below the first */
        cr_assert_eq(a.error, 0);
        cr_assert_eq(a.end, -1, "v%d", v);
    }
    close(fd);
}

Test(api_epoch, fences_older_and_refuses_newer_current_leader_epochs_from_v2)
{
    int fd = client();

    for (int16_t v = 2; v <= 4; v++) {
        answer_t a = ask_one(fd, v, "t", 0, 4, 5);
        cr_assert_eq(a.error, SM_KERR_FENCED_LEADER_EPOCH, "v%d", v);
        cr_assert_eq(a.end, -1);
        cr_assert_eq(a.epoch, -1);
        a = ask_one(fd, v, "t", 0, 6, 5);
        cr_assert_eq(a.error, SM_KERR_UNKNOWN_LEADER_EPOCH, "v%d", v);
        cr_assert_eq(a.end, -1);
    }
    /* v0 and v1 carry no current leader epoch: nothing to fence. */
    cr_assert_eq(ask_one(fd, 1, "t", 0, 4, 5).error, 0);
    cr_assert_eq(ask_one(fd, 0, "t", 0, 4, 5).end, 5);
    close(fd);
}

Test(api_epoch, answers_not_leader_and_unknown_partitions_per_partition)
{
    int fd = client();

    for (int16_t v = 0; v <= 4; v++) {
        answer_t a = ask_one(fd, v, "t", 1, -1, 5);
        cr_assert_eq(a.error, SM_KERR_NOT_LEADER_OR_FOLLOWER, "v%d", v);
        cr_assert_eq(a.end, -1);
        cr_assert_eq(ask_one(fd, v, "t", 9, -1, 5).error, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        cr_assert_eq(ask_one(fd, v, "nope", 0, -1, 5).error, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        cr_assert_eq(ask_one(fd, v, "", 0, -1, 5).error, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }
    close(fd);
}

Test(api_epoch, answers_every_partition_of_a_mixed_request_in_order)
{
    int fd = client();
    br_kcodec_epoch_part_t parts[3] = {
        {.partition = 1, .current_leader_epoch = -1, .leader_epoch = 5},
        {.partition = 0, .current_leader_epoch = 5, .leader_epoch = 2},
        {.partition = 0, .current_leader_epoch = 3, .leader_epoch = 5},
    };
    br_kcodec_epoch_topic_t t[2] = {{.name = sm_str_of("t"), .parts = parts, .n_parts = 3},
                                    {.name = sm_str_of("empty"), .parts = NULL, .n_parts = 0}};
    br_kcodec_epoch_req_t req = {.version = 4, .replica_id = -1, .topics = t, .n_topics = 2};
    br_kcodec_epoch_resp_t resp;
    uint8_t *frame = ask(fd, &req, &resp);

    cr_assert_eq(resp.n_topics, 2);
    cr_assert(sm_str_eq(resp.topics[0].name, "t"));
    cr_assert(sm_str_eq(resp.topics[1].name, "empty"));
    cr_assert_eq(resp.topics[1].n_parts, 0);
    cr_assert_eq(resp.topics[0].n_parts, 3);
    cr_assert_eq(resp.topics[0].parts[0].error, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(resp.topics[0].parts[1].error, 0);
    cr_assert_eq(resp.topics[0].parts[1].leader_epoch, 2);
    cr_assert_eq(resp.topics[0].parts[1].end_offset, 3);
    cr_assert_eq(resp.topics[0].parts[2].error, SM_KERR_FENCED_LEADER_EPOCH);
    cr_assert_eq(resp.throttle_ms, 0);
    br_kcodec_epoch_resp_deinit(&resp);
    free(frame);
    close(fd);
}

Test(api_epoch, closes_the_connection_on_a_malformed_body)
{
    int fd = client();
    static const uint8_t body[] = {0x00, 0x00, 0x00, 0x05, 0x00}; /* 5 topics, then nothing */
    size_t n;
    bool closed;

    send_raw(fd, 3, 1, body, 3);
    uint8_t *frame = recv_resp(fd, 2000, &n, &closed);
    cr_assert_null(frame);
    cr_assert(closed, "a malformed request closes the connection");
    close(fd);
    fd = client();
    send_raw(fd, 1, 2, body, sizeof(body));
    frame = recv_resp(fd, 2000, &n, &closed);
    cr_assert_null(frame);
    cr_assert(closed);
    close(fd);
}
