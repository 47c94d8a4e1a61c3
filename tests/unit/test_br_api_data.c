/*
 * test_br_api_data: the Produce, Fetch and ListOffsets handlers end to end on one broker
 * context (a real log manager in a temp dir, partition t-0 led here at epoch 5), through the
 * Kafka front end over socketpairs: appends and their offsets, per-partition errors with
 * nothing written, acks=0 without a response, error partitions with empty (not null) records,
 * long-poll fetches woken by an append or answered by their timer, leader-epoch fencing,
 * ListOffsets earliest/latest/by time, and a parked fetch released when its client goes. The
 * api_data_writer suite has a writer thread write the appends: acks=1 is answered only once
 * the write is done, and a failed write answers KAFKA_STORAGE_ERROR.
 */
#include "broker/br_api_data.h"

#include "broker/br_flusher.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_control.h"
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

/* The writer suite: appends written by a writer thread whose pwrite waits at a gate the test
 * opens (or fails with gate_errno). The loop thread's own writes never wait. */
static br_flusher_t *writer;
static br_fileops_t gated_ops;
static pthread_t loop_thread;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;
static int gate_errno;

static ssize_t gated_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    (void)ctx;
    if (!pthread_equal(pthread_self(), loop_thread)) {
        pthread_mutex_lock(&gate_mu);
        while (gate_closed)
            pthread_cond_wait(&gate_cv, &gate_mu);
        int e = gate_errno;
        pthread_mutex_unlock(&gate_mu);
        if (e != 0) {
            errno = e;
            return -1;
        }
    }
    return br_fileops_posix()->pwrite(NULL, fd, buf, len, off);
}

static void gate_set(bool closed, int err)
{
    pthread_mutex_lock(&gate_mu);
    gate_closed = closed;
    gate_errno = err;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* What br_server does with the log manager's notification. */
static void on_written(void *arg, const char *topic, int32_t partition)
{
    (void)arg;
    br_api_data_on_written(d, topic, partition);
}

static void setup(void)
{
    sm_errbuf_t eb = {{0}};
    const char *dirs[1];
    br_logmgr_config_t lc = {0};
    br_partition_t *p;
    br_log_t *log;
    int32_t one = 1;

    sm_log_init("test", SM_LOG_ERROR);
    if (base == NULL)
        base = event_base_new(); /* setup_writer made it already */
    fx_mkdtemp(dir, sizeof(dir), "test_br_api_data");
    dirs[0] = dir;
    lc.dirs = dirs;
    lc.ndirs = 1;
    lc.broker_id = 1;
    br_log_config_defaults(&lc.log);
    if (writer != NULL) {
        lc.ops = &gated_ops;
        lc.writers = &writer;
        lc.nwriters = 1;
    }
    cr_assert_eq(br_logmgr_open(&lc, 0, &lm, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_logmgr_create(lm, "t", 0, 0, &log, &eb), SM_OK, "%s", eb.msg);
    if (writer != NULL)
        br_log_set_offload(log, true); /* every append to the gated writer */
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    br_control_config_t cc = {.broker_id = 1, .logmgr = lm, .metacache = mc};
    cr_assert_eq(br_control_new(&cc, &ctl, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_partition_add(br_control_partitions(ctl), "t", 0, &p), SM_OK);
    br_partition_state_t st = {
        .leader = 1, .leader_epoch = 5, .isr = &one, .n_isr = 1, .replicas = &one, .n_replicas = 1};
    cr_assert_eq(br_partition_apply(p, 1, &st), SM_OK);
    /* t-1: known here but led by broker 2. */
    int32_t two = 2;
    cr_assert_eq(br_partition_add(br_control_partitions(ctl), "t", 1, &p), SM_OK);
    st.leader = 2;
    st.replicas = st.isr = &two;
    cr_assert_eq(br_partition_apply(p, 1, &st), SM_OK);
    br_kafka_deps_t deps = {
        .base = base, .broker_id = 1, .metacache = mc, .logmgr = lm, .control = ctl};
    cr_assert_eq(br_kafka_new(&deps, NULL, 0, &k, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_api_data_new(k, &d), SM_OK);
    cr_assert_eq(br_api_data_register(d), SM_OK);
    if (writer != NULL)
        br_logmgr_set_on_written(lm, on_written, NULL);
}

static void setup_writer(void)
{
    base = event_base_new();
    loop_thread = pthread_self();
    gated_ops = *br_fileops_posix();
    gated_ops.pwrite = gated_pwrite;
    gate_set(false, 0);
    cr_assert_eq(br_flusher_new(base, &gated_ops, &writer, NULL), SM_OK);
    setup();
}

static void teardown(void)
{
    sm_errbuf_t eb = {{0}};
    gate_set(false, 0);
    br_logmgr_set_on_written(lm, NULL, NULL);
    br_kafka_free(k);
    br_api_data_free(d);
    br_control_free(ctl);
    br_metacache_free(mc);
    br_logmgr_close(lm, false, 0, &eb);
    br_flusher_free(writer); /* after the logs it writes */
    writer = NULL;
    fx_rmtree(dir);
    event_base_free(base);
    base = NULL;
}

TestSuite(api_data, .init = setup, .fini = teardown);
TestSuite(api_data_writer, .init = setup_writer, .fini = teardown);

/* ---- client side ---------------------------------------------------------------------------- */

static int client(void)
{
    return kc_attach(k);
}

static void send_req(int fd, int16_t key, int16_t ver, int32_t corr, sm_writer_t *body)
{
    kc_send(fd, key, ver, corr, false, sm_writer_data(body), sm_writer_len(body));
    sm_writer_deinit(body);
}

static uint8_t *recv_resp(int fd, int ms, size_t *len)
{
    return kc_recv(base, fd, ms, len, NULL);
}

static void pump(int ms)
{
    int64_t end = kc_mono_ms() + ms;
    while (kc_mono_ms() < end) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(2000);
    }
}

/* ---- requests ---------------------------------------------------------------------------------
 */

static sm_writer_t produce_body(int16_t ver, int16_t acks, int32_t partition, const uint8_t *rec,
                                size_t len)
{
    sm_writer_t w;
    sm_writer_init(&w, 0);
    if (ver >= 3)
        sm_writer_nullable_str(&w, SM_STR_NULL);
    sm_writer_i16(&w, acks);
    sm_writer_i32(&w, 1000);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 1);
    sm_writer_i32(&w, partition);
    sm_writer_bytes(&w, sm_bytes_of(rec, len));
    return w;
}

typedef struct presult {
    int16_t error;
    int64_t base_offset;
} presult_t;

/* The one-partition answer of topic t to a Produce sent with correlation id 7 (frees resp). */
static presult_t parse_produce(uint8_t *resp, size_t n, int32_t partition)
{
    presult_t r;
    cr_assert_not_null(resp, "no Produce response");
    sm_reader_t rd;
    sm_reader_init(&rd, resp, n);
    cr_assert_eq(sm_reader_i32(&rd), 7);
    cr_assert_eq(sm_reader_i32(&rd), 1);
    cr_assert(sm_str_eq(sm_reader_str(&rd), "t"));
    cr_assert_eq(sm_reader_i32(&rd), 1);
    cr_assert_eq(sm_reader_i32(&rd), partition);
    r.error = sm_reader_i16(&rd);
    r.base_offset = sm_reader_i64(&rd);
    cr_assert_eq(sm_reader_err(&rd), SM_OK);
    free(resp);
    return r;
}

static presult_t produce(int fd, int16_t ver, int16_t acks, int32_t partition, const uint8_t *rec,
                         size_t len)
{
    sm_writer_t w = produce_body(ver, acks, partition, rec, len);
    size_t n;
    send_req(fd, 0, ver, 7, &w);
    uint8_t *resp = recv_resp(fd, 2000, &n);
    return parse_produce(resp, n, partition);
}

static void send_fetch(int fd, int16_t ver, int32_t corr, int32_t max_wait, int32_t min_bytes,
                       int32_t partition, int64_t offset, int32_t cur_epoch)
{
    sm_writer_t w;
    sm_writer_init(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_i32(&w, max_wait);
    sm_writer_i32(&w, min_bytes);
    sm_writer_i32(&w, 1 << 20);
    sm_writer_i8(&w, 1);
    if (ver >= 7) {
        sm_writer_i32(&w, 0);
        sm_writer_i32(&w, -1);
    }
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 1);
    sm_writer_i32(&w, partition);
    if (ver >= 9)
        sm_writer_i32(&w, cur_epoch);
    sm_writer_i64(&w, offset);
    if (ver >= 5)
        sm_writer_i64(&w, -1);
    sm_writer_i32(&w, 1 << 20);
    if (ver >= 7)
        sm_writer_array_len(&w, 0);
    if (ver >= 11)
        sm_writer_str(&w, sm_str_of(""));
    send_req(fd, 1, ver, corr, &w);
}

typedef struct fresult {
    int16_t error;
    int64_t hw;
    int32_t records_len;
    uint8_t *records; /* owned by the frame: valid until free(frame) */
    uint8_t *frame;
} fresult_t;

static fresult_t recv_fetch(int fd, int16_t ver, int32_t corr, int ms)
{
    size_t n;
    fresult_t f = {0};
    f.frame = recv_resp(fd, ms, &n);
    cr_assert_not_null(f.frame, "no Fetch response");
    sm_reader_t r;
    sm_reader_init(&r, f.frame, n);
    cr_assert_eq(sm_reader_i32(&r), corr);
    sm_reader_i32(&r); /* throttle */
    if (ver >= 7) {
        cr_assert_eq(sm_reader_i16(&r), 0);
        cr_assert_eq(sm_reader_i32(&r), 0);
    }
    cr_assert_eq(sm_reader_i32(&r), 1);
    cr_assert(sm_str_eq(sm_reader_str(&r), "t"));
    cr_assert_eq(sm_reader_i32(&r), 1);
    sm_reader_i32(&r);
    f.error = sm_reader_i16(&r);
    f.hw = sm_reader_i64(&r);
    sm_reader_i64(&r); /* lso */
    if (ver >= 5)
        sm_reader_i64(&r);
    cr_assert_eq(sm_reader_i32(&r), 0, "aborted transactions: empty array");
    if (ver >= 11)
        cr_assert_eq(sm_reader_i32(&r), -1);
    f.records_len = sm_reader_i32(&r);
    f.records =
        (uint8_t *)(uintptr_t)sm_reader_take(&r, f.records_len > 0 ? (size_t)f.records_len : 0);
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    return f;
}

static int64_t list_offset(int fd, int16_t ver, int32_t partition, int64_t ts, int16_t *error)
{
    sm_writer_t w;
    size_t n;
    int64_t off = -1;
    sm_writer_init(&w, 0);
    sm_writer_i32(&w, -1);
    if (ver >= 2)
        sm_writer_i8(&w, 0);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 1);
    sm_writer_i32(&w, partition);
    if (ver >= 4)
        sm_writer_i32(&w, -1);
    sm_writer_i64(&w, ts);
    if (ver == 0)
        sm_writer_i32(&w, 1);
    send_req(fd, 2, ver, 9, &w);
    uint8_t *resp = recv_resp(fd, 2000, &n);
    cr_assert_not_null(resp);
    sm_reader_t r;
    sm_reader_init(&r, resp, n);
    cr_assert_eq(sm_reader_i32(&r), 9);
    if (ver >= 2)
        sm_reader_i32(&r);
    cr_assert_eq(sm_reader_i32(&r), 1);
    sm_reader_str(&r);
    cr_assert_eq(sm_reader_i32(&r), 1);
    sm_reader_i32(&r);
    *error = sm_reader_i16(&r);
    if (ver == 0) {
        if (sm_reader_i32(&r) == 1)
            off = sm_reader_i64(&r);
    } else {
        sm_reader_i64(&r);
        off = sm_reader_i64(&r);
        if (ver >= 4)
            sm_reader_i32(&r);
    }
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    free(resp);
    return off;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

Test(api_data, appends_and_fetches_back_with_offsets_and_epoch_stamped)
{
    int fd = client();
    size_t l1, l2;
    uint8_t *b1 = fx_simple_batch(3, 10, 1000, &l1);
    uint8_t *b2 = fx_simple_batch(2, 10, 2000, &l2);

    presult_t r = produce(fd, 3, 1, 0, b1, l1);
    cr_assert_eq(r.error, 0);
    cr_assert_eq(r.base_offset, 0);
    r = produce(fd, 8, -1, 0, b2, l2);
    cr_assert_eq(r.error, 0);
    cr_assert_eq(r.base_offset, 3);

    send_fetch(fd, 4, 11, 0, 0, 0, 0, -1);
    fresult_t f = recv_fetch(fd, 4, 11, 2000);
    cr_assert_eq(f.error, 0);
    cr_assert_eq(f.hw, 5);
    cr_assert_eq(f.records_len, (int32_t)(l1 + l2));
    br_batch_header_t h;
    cr_assert_eq(br_batch_header_parse(f.records + l1, l2, &h), SM_OK);
    cr_assert_eq(h.base_offset, 3);
    cr_assert_eq(h.leader_epoch, 5);
    free(f.frame);
    free(b1);
    free(b2);
    close(fd);
}

Test(api_data, old_versions_bad_acks_and_bad_partitions_write_nothing)
{
    int fd = client();
    size_t len;
    uint8_t *b = fx_simple_batch(1, 4, 1000, &len);
    int16_t err;

    cr_assert_eq(produce(fd, 2, 1, 0, b, len).error, SM_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    cr_assert_eq(produce(fd, 3, 2, 0, b, len).error, SM_KERR_INVALID_REQUIRED_ACKS);
    cr_assert_eq(produce(fd, 3, 1, 1, b, len).error, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(produce(fd, 3, 1, 9, b, len).error, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    b[len - 1] ^= 0xff; /* CRC mismatch */
    cr_assert_eq(produce(fd, 3, 1, 0, b, len).error, SM_KERR_CORRUPT_MESSAGE);
    cr_assert_eq(list_offset(fd, 1, 0, -1, &err), 0, "nothing was written");
    cr_assert_eq(err, 0);
    free(b);
    close(fd);
}

Test(api_data, acks_zero_gets_no_response_and_later_responses_still_flow)
{
    int fd = client();
    size_t len, n;
    uint8_t *b = fx_simple_batch(2, 4, 1000, &len);
    int16_t err;

    sm_writer_t w = produce_body(3, 0, 0, b, len);
    send_req(fd, 0, 3, 1, &w);
    cr_assert_null(recv_resp(fd, 150, &n), "acks=0 must not be answered");
    cr_assert_eq(list_offset(fd, 1, 0, -1, &err), 2);
    free(b);
    close(fd);
}

Test(api_data, error_partitions_carry_empty_not_null_records)
{
    int fd = client();

    send_fetch(fd, 4, 1, 0, 0, 9, 0, -1);
    fresult_t f = recv_fetch(fd, 4, 1, 2000);
    cr_assert_eq(f.error, SM_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    cr_assert_eq(f.records_len, 0);
    free(f.frame);
    send_fetch(fd, 11, 2, 0, 0, 0, 42, -1);
    f = recv_fetch(fd, 11, 2, 2000);
    cr_assert_eq(f.error, SM_KERR_OFFSET_OUT_OF_RANGE);
    cr_assert_eq(f.records_len, 0);
    free(f.frame);
    send_fetch(fd, 9, 3, 0, 0, 0, 0, 4);
    f = recv_fetch(fd, 9, 3, 2000);
    cr_assert_eq(f.error, SM_KERR_FENCED_LEADER_EPOCH);
    free(f.frame);
    send_fetch(fd, 10, 4, 0, 0, 0, 0, 6);
    f = recv_fetch(fd, 10, 4, 2000);
    cr_assert_eq(f.error, SM_KERR_UNKNOWN_LEADER_EPOCH);
    free(f.frame);
    send_fetch(fd, 9, 5, 0, 0, 0, 0, 5);
    f = recv_fetch(fd, 9, 5, 2000);
    cr_assert_eq(f.error, 0);
    cr_assert_eq(f.records_len, 0);
    free(f.frame);
    close(fd);
}

Test(api_data, long_poll_parks_until_an_append_wakes_it)
{
    int consumer = client(), producer = client();
    size_t len, n;
    uint8_t *b = fx_simple_batch(1, 4, 1000, &len);

    send_fetch(consumer, 4, 21, 10000, 1, 0, 0, -1);
    cr_assert_null(recv_resp(consumer, 150, &n), "nothing to read: the fetch must wait");
    cr_assert_eq(br_purgatory_count(d->purgatory), 1);
    int64_t t0 = kc_mono_ms();
    cr_assert_eq(produce(producer, 3, 1, 0, b, len).error, 0);
    fresult_t f = recv_fetch(consumer, 4, 21, 2000);
    cr_assert_lt(kc_mono_ms() - t0, 1000, "woken by the append, not by the timer");
    cr_assert_eq(f.error, 0);
    cr_assert_eq(f.records_len, (int32_t)len);
    cr_assert_eq(br_purgatory_count(d->purgatory), 0);
    free(f.frame);
    free(b);
    close(consumer);
    close(producer);
}

Test(api_data, long_poll_answers_empty_after_max_wait)
{
    int fd = client();
    int64_t t0 = kc_mono_ms();

    send_fetch(fd, 6, 31, 200, 1, 0, 0, -1);
    fresult_t f = recv_fetch(fd, 6, 31, 3000);
    cr_assert_geq(kc_mono_ms() - t0, 150);
    cr_assert_eq(f.error, 0);
    cr_assert_eq(f.records_len, 0);
    cr_assert_eq(br_purgatory_count(d->purgatory), 0);
    free(f.frame);
    close(fd);
}

Test(api_data, closing_the_connection_releases_a_parked_fetch)
{
    int fd = client();

    send_fetch(fd, 4, 41, 10000, 1, 0, 0, -1);
    pump(100);
    cr_assert_eq(br_purgatory_count(d->purgatory), 1);
    close(fd);
    pump(100);
    cr_assert_eq(br_purgatory_count(d->purgatory), 0);
}

Test(api_data, list_offsets_earliest_latest_and_by_time)
{
    int fd = client();
    size_t l1, l2;
    uint8_t *b1 = fx_simple_batch(3, 4, 1000, &l1);
    uint8_t *b2 = fx_simple_batch(2, 4, 5000, &l2);
    int16_t err;

    cr_assert_eq(produce(fd, 3, 1, 0, b1, l1).error, 0);
    cr_assert_eq(produce(fd, 3, 1, 0, b2, l2).error, 0);
    for (int16_t v = 0; v <= 5; v++) {
        cr_assert_eq(list_offset(fd, v, 0, -2, &err), 0, "v%d", v);
        cr_assert_eq(list_offset(fd, v, 0, -1, &err), 5, "v%d", v);
        cr_assert_eq(list_offset(fd, v, 0, 3000, &err), 3, "v%d", v);
        /* records carry timestamps 1000, 1001, 1002: Kafka answers the first record >= 1001 */
        cr_assert_eq(list_offset(fd, v, 0, 1001, &err), 1, "v%d", v);
        cr_assert_eq(list_offset(fd, v, 0, 99999, &err), -1, "v%d", v);
        cr_assert_eq(err, 0);
        list_offset(fd, v, 1, -1, &err);
        cr_assert_eq(err, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    }
    free(b1);
    free(b2);
    close(fd);
}

Test(api_data, refuses_oversized_batches_and_more_than_one_batch_per_partition)
{
    int fd = client();
    size_t l1, l2;
    uint8_t *b1 = fx_simple_batch(1, 4, 1000, &l1);
    uint8_t *big = fx_simple_batch(1, 300, 1000, &l2);
    uint8_t *two = malloc(2 * l1);
    int16_t err;

    memcpy(two, b1, l1);
    memcpy(two + l1, b1, l1);
    cr_assert_eq(produce(fd, 3, 1, 0, two, 2 * l1).error, SM_KERR_INVALID_RECORD);
    d->message_max_bytes = 200;
    cr_assert_eq(produce(fd, 3, 1, 0, big, l2).error, SM_KERR_MESSAGE_TOO_LARGE);
    cr_assert_eq(produce(fd, 3, 1, 0, b1, 0).error, SM_KERR_CORRUPT_MESSAGE, "empty records");
    cr_assert_eq(list_offset(fd, 1, 0, -1, &err), 0, "nothing was written");
    cr_assert_eq(produce(fd, 3, 1, 0, b1, l1).error, 0);
    cr_assert_eq(list_offset(fd, 1, 0, -1, &err), 1);
    free(b1);
    free(big);
    free(two);
    close(fd);
}

static void overlay_max_message(void *arg, const char *topic, br_log_config_t *cfg)
{
    (void)topic;
    cfg->max_message_bytes = *(const int64_t *)arg;
}

Test(api_data, a_topics_max_message_bytes_replaces_the_brokers_limit)
{
    int fd = client();
    size_t ls, lb;
    uint8_t *small = fx_simple_batch(1, 4, 1000, &ls);
    uint8_t *big = fx_simple_batch(1, 300, 1000, &lb);
    int64_t limit = 200;
    int16_t err;

    cr_assert_lt(ls, 200);
    cr_assert_gt(lb, 200);
    cr_assert_eq(br_logmgr_reconfigure(lm, "t", 0, overlay_max_message, &limit), 1);
    cr_expect_eq(produce(fd, 3, 1, 0, big, lb).error, SM_KERR_MESSAGE_TOO_LARGE,
                 "the topic's 200 bytes, under the broker's default");
    cr_expect_eq(produce(fd, 3, 1, 0, small, ls).error, 0);
    d->message_max_bytes = 200;
    limit = (int64_t)lb;
    cr_assert_eq(br_logmgr_reconfigure(lm, "t", 0, overlay_max_message, &limit), 1);
    cr_expect_eq(produce(fd, 3, 1, 0, big, lb).error, 0, "the topic's limit, over the broker's");
    cr_expect_eq(list_offset(fd, 1, 0, -1, &err), 2);
    free(small);
    free(big);
    close(fd);
}

Test(api_data, a_failing_partition_does_not_stop_the_others)
{
    int fd = client();
    size_t len, n;
    uint8_t *b = fx_simple_batch(2, 4, 1000, &len);
    sm_writer_t w;
    int16_t err;

    sm_writer_init(&w, 0);
    sm_writer_nullable_str(&w, SM_STR_NULL);
    sm_writer_i16(&w, 1);
    sm_writer_i32(&w, 1000);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 2);
    sm_writer_i32(&w, 1); /* led elsewhere */
    sm_writer_bytes(&w, sm_bytes_of(b, len));
    sm_writer_i32(&w, 0);
    sm_writer_bytes(&w, sm_bytes_of(b, len));
    send_req(fd, 0, 5, 3, &w);
    uint8_t *resp = recv_resp(fd, 2000, &n);
    cr_assert_not_null(resp);
    sm_reader_t r;
    sm_reader_init(&r, resp, n);
    cr_assert_eq(sm_reader_i32(&r), 3);
    cr_assert_eq(sm_reader_i32(&r), 1);
    sm_reader_str(&r);
    cr_assert_eq(sm_reader_i32(&r), 2);
    cr_assert_eq(sm_reader_i32(&r), 1);
    cr_assert_eq(sm_reader_i16(&r), SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(sm_reader_i64(&r), -1);
    cr_assert_eq(sm_reader_i64(&r), -1); /* log append time */
    cr_assert_eq(sm_reader_i64(&r), -1); /* log start (v5) */
    cr_assert_eq(sm_reader_i32(&r), 0);
    cr_assert_eq(sm_reader_i16(&r), 0);
    cr_assert_eq(sm_reader_i64(&r), 0);
    cr_assert_eq(sm_reader_i64(&r), -1);
    cr_assert_eq(sm_reader_i64(&r), 0);
    cr_assert_eq(sm_reader_i32(&r), 0); /* throttle */
    cr_assert_eq(sm_reader_expect_end(&r), SM_OK);
    free(resp);
    cr_assert_eq(list_offset(fd, 1, 0, -1, &err), 2);
    free(b);
    close(fd);
}

/* ---- appends written by a writer thread (br_log.h note 5) ---------------------------------- */

Test(api_data_writer, acks_one_is_answered_only_once_the_write_is_done)
{
    int fd = client();
    size_t len, n;
    uint8_t *b = fx_simple_batch(3, 10, 1000, &len);

    gate_set(true, 0); /* the writer thread's pwrite waits */
    sm_writer_t w = produce_body(8, 1, 0, b, len);
    send_req(fd, 0, 8, 7, &w);
    uint8_t *resp = recv_resp(fd, 300, &n);
    cr_assert_null(resp, "acks=1 answered before its write was done");
    cr_assert_eq(br_log_end_offset(br_logmgr_get(lm, "t", 0)), 0, "nothing visible yet");
    gate_set(false, 0);
    presult_t r = parse_produce(recv_resp(fd, 2000, &n), n, 0);
    cr_assert_eq(r.error, 0);
    cr_assert_eq(r.base_offset, 0);
    send_fetch(fd, 4, 11, 0, 0, 0, 0, -1);
    fresult_t f = recv_fetch(fd, 4, 11, 2000);
    cr_assert_eq(f.error, 0);
    cr_assert_eq(f.hw, 3, "the HW followed the write");
    cr_assert_eq(f.records_len, (int32_t)len);
    free(f.frame);
    free(b);
    close(fd);
}

Test(api_data_writer, a_failed_write_answers_kafka_storage_error)
{
    int fd = client();
    size_t len;
    uint8_t *b = fx_simple_batch(3, 10, 1000, &len);

    gate_set(false, EIO);
    presult_t r = produce(fd, 8, 1, 0, b, len);
    cr_assert_eq(r.error, SM_KERR_KAFKA_STORAGE_ERROR);
    cr_assert_eq(r.base_offset, -1, "no offset for a record that is not stored");
    r = produce(fd, 8, -1, 0, b, len);
    cr_assert_eq(r.error, SM_KERR_KAFKA_STORAGE_ERROR, "the partition stays failed");
    free(b);
    close(fd);
}
