/*
 * rdk_client: a test program on librdkafka for tests/integration/0023_librdkafka.sh (and
 * 0025_not_leader.sh). It produces a deterministic set of records and reads them back with
 * the legacy (simple) consumer, by partition and offset, checking every byte.
 *
 *   rdk_client produce BOOTSTRAP TOPIC PARTITIONS COUNT SIZE [ACKS] [COMPRESSION]
 *       record i (0 <= i < COUNT) goes to partition i % PARTITIONS with key "k<i>", a value of
 *       SIZE bytes (rdk_fill) and a header seq=<i>; acks (default all = -1). Every delivery
 *       report is checked: it must succeed, land in partition i % PARTITIONS at offset
 *       i / PARTITIONS (the topic starts empty). Prints "delivered=N failed=F misplaced=M".
 *   rdk_client consume BOOTSTRAP TOPIC PARTITIONS COUNT SIZE [START]
 *       rd_kafka_consume_start on every partition at offset START (default 0, beginning),
 *       reads until each partition has given every record from START on (bounded: 30 s),
 *       checks offset, key, value and header of each, prints "consumed=N bad=B".
 *
 * Environment: RDK_RATE=N produces at most N records/s (a stream that spans a leadership
 * change); RDK_ANY_OFFSET=1 skips the partition/offset check of delivery reports (retries after
 * a leadership change may have duplicated records); RDK_LINGER=MS sets linger.ms (default 10);
 * RDK_DEBUG=ctx,... sets librdkafka's debug.
 *
 * Exit codes: 0 all checks passed, 1 a check failed or a timeout, 2 usage or setup error.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RDK_WAIT_MS 30000

struct rdk_stats {
    int32_t partitions;
    int any_offset;
    long delivered;
    long failed;
    long misplaced;
};

static int64_t rdk_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of record i: SIZE bytes that depend on i and on the position. */
static void rdk_fill(char *buf, size_t size, long i)
{
    uint32_t x = (uint32_t)i * 2654435761u + 12345u;
    size_t k;

    for (k = 0; k < size; k++) {
        x = x * 1103515245u + 12345u;
        buf[k] = (char)(x >> 24);
    }
}

static void rdk_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct rdk_stats *st = opaque;
    long i = (long)(intptr_t)m->_private;

    (void)rk;
    if (m->err) {
        if (st->failed < 5)
            fprintf(stderr, "rdk_client: record %ld: delivery failed: %s\n", i,
                    rd_kafka_err2str(m->err));
        st->failed++;
        return;
    }
    st->delivered++;
    if (st->any_offset)
        return;
    if (m->partition != (int32_t)(i % st->partitions) || m->offset != i / st->partitions) {
        if (st->misplaced < 5)
            fprintf(stderr, "rdk_client: record %ld landed at %" PRId32 "/%" PRId64 "\n", i,
                    m->partition, m->offset);
        st->misplaced++;
    }
}

static rd_kafka_conf_t *rdk_conf(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdk_client: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static int rdk_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdk_client: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

static int rdk_produce(const char *bootstrap, const char *topic, int32_t np, long count,
                       size_t size, const char *acks, const char *codec)
{
    struct rdk_stats st = {.partitions = np};
    rd_kafka_conf_t *conf = rdk_conf(bootstrap);
    rd_kafka_t *rk = NULL;
    char *val = malloc(size + 1);
    char err[256], key[32], seq[32];
    int64_t deadline, t0;
    long i, rate;
    int rc = 2;

    if (conf == NULL || val == NULL)
        goto out;
    st.any_offset = getenv("RDK_ANY_OFFSET") != NULL;
    if (getenv("RDK_DEBUG") != NULL && rdk_set(conf, "debug", getenv("RDK_DEBUG")))
        goto out;
    if (rdk_set(conf, "acks", acks) || rdk_set(conf, "compression.codec", codec) ||
        rdk_set(conf, "linger.ms", getenv("RDK_LINGER") != NULL ? getenv("RDK_LINGER") : "10") ||
        rdk_set(conf, "message.timeout.ms", "30000") ||
        rdk_set(conf, "max.in.flight.requests.per.connection", "1"))
        goto out;
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_conf_set_dr_msg_cb(conf, rdk_dr_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "rdk_client: %s\n", err);
        goto out;
    }
    conf = NULL;
    rate = getenv("RDK_RATE") != NULL ? atol(getenv("RDK_RATE")) : 0;
    t0 = rdk_now_ms();
    for (i = 0; i < count; i++) {
        rd_kafka_resp_err_t e;

        while (rate > 0 && (rdk_now_ms() - t0) * rate < (int64_t)i * 1000)
            rd_kafka_poll(rk, 5);

        rdk_fill(val, size, i);
        snprintf(key, sizeof(key), "k%ld", i);
        snprintf(seq, sizeof(seq), "%ld", i);
        do {
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_PARTITION((int32_t)(i % np)),
                                  RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, size),
                                  RD_KAFKA_V_HEADER("seq", seq, (ssize_t)strlen(seq)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (e) {
            fprintf(stderr, "rdk_client: produce %ld: %s\n", i, rd_kafka_err2str(e));
            rc = 1;
            goto out;
        }
        rd_kafka_poll(rk, 0);
    }
    deadline = rdk_now_ms() + RDK_WAIT_MS;
    while (rd_kafka_outq_len(rk) > 0 && rdk_now_ms() < deadline)
        rd_kafka_poll(rk, 50);
    printf("delivered=%ld failed=%ld misplaced=%ld\n", st.delivered, st.failed, st.misplaced);
    rc = (st.delivered == count && st.failed == 0 && st.misplaced == 0) ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    free(val);
    return rc;
}

/* Checks one consumed record against what rdk_produce sent; returns 0 when it matches. */
static int rdk_check(const rd_kafka_message_t *m, int32_t np, size_t size, char *want)
{
    long i = (long)m->offset * np + m->partition;
    char key[32], seq[32];
    rd_kafka_headers_t *hdrs = NULL;
    const void *hv = NULL;
    size_t hlen = 0;

    snprintf(key, sizeof(key), "k%ld", i);
    snprintf(seq, sizeof(seq), "%ld", i);
    rdk_fill(want, size, i);
    if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) != 0)
        return -1;
    if (m->len != size || (size > 0 && memcmp(m->payload, want, size) != 0))
        return -1;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, "seq", &hv, &hlen) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hlen != strlen(seq) || memcmp(hv, seq, hlen) != 0)
        return -1;
    return 0;
}

static int rdk_consume(const char *bootstrap, const char *topic, int32_t np, long count,
                       size_t size, int64_t start)
{
    rd_kafka_conf_t *conf = rdk_conf(bootstrap);
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_queue_t *q = NULL;
    int64_t *next = calloc((size_t)np, sizeof(*next));
    int64_t *end = calloc((size_t)np, sizeof(*end));
    char *want = malloc(size + 1);
    char err[256];
    long consumed = 0, bad = 0, expected = 0;
    int64_t deadline;
    int32_t p;
    int started = 0, rc = 2;

    if (conf == NULL || next == NULL || end == NULL || want == NULL)
        goto out;
    if (rdk_set(conf, "enable.partition.eof", "false") || rdk_set(conf, "fetch.wait.max.ms", "200"))
        goto out;
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "rdk_client: %s\n", err);
        goto out;
    }
    conf = NULL;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    q = rd_kafka_queue_new(rk);
    for (p = 0; p < np; p++) {
        /* Partition p holds the records i = p, p + np, ...: (count - p + np - 1) / np. */
        end[p] = (count - p + np - 1) / np;
        next[p] = start < end[p] ? start : end[p];
        expected += (long)(end[p] - next[p]);
        if (rd_kafka_consume_start_queue(rkt, p, start, q) == -1) {
            fprintf(stderr, "rdk_client: consume_start %" PRId32 ": %s\n", p,
                    rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        started = 1;
    }
    deadline = rdk_now_ms() + RDK_WAIT_MS;
    while (consumed + bad < expected && rdk_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 200);

        if (m == NULL)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "rdk_client: consume: %s\n", rd_kafka_message_errstr(m));
        } else if (m->partition < 0 || m->partition >= np || m->offset != next[m->partition] ||
                   rdk_check(m, np, size, want) != 0) {
            if (bad < 5)
                fprintf(stderr, "rdk_client: bad record at %" PRId32 "/%" PRId64 "\n", m->partition,
                        m->offset);
            bad++;
            if (m->partition >= 0 && m->partition < np)
                next[m->partition] = m->offset + 1;
        } else {
            consumed++;
            next[m->partition]++;
        }
        rd_kafka_message_destroy(m);
    }
    printf("consumed=%ld bad=%ld expected=%ld\n", consumed, bad, expected);
    rc = (consumed == expected && bad == 0) ? 0 : 1;
out:
    if (started)
        for (p = 0; p < np; p++)
            rd_kafka_consume_stop(rkt, p);
    if (q != NULL)
        rd_kafka_queue_destroy(q);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    free(next);
    free(end);
    free(want);
    return rc;
}

static void rdk_usage(void)
{
    fprintf(stderr, "usage: rdk_client produce BOOTSTRAP TOPIC PARTITIONS COUNT SIZE [ACKS] "
                    "[COMPRESSION]\n"
                    "       rdk_client consume BOOTSTRAP TOPIC PARTITIONS COUNT SIZE [START]\n");
}

int main(int argc, char **argv)
{
    int32_t np;
    long count;
    size_t size;

    if (argc < 7) {
        rdk_usage();
        return 2;
    }
    np = (int32_t)atoi(argv[4]);
    count = atol(argv[5]);
    size = (size_t)atol(argv[6]);
    if (np <= 0 || count < 0) {
        rdk_usage();
        return 2;
    }
    if (strcmp(argv[1], "produce") == 0)
        return rdk_produce(argv[2], argv[3], np, count, size, argc > 7 ? argv[7] : "all",
                           argc > 8 ? argv[8] : "none");
    if (strcmp(argv[1], "consume") == 0)
        return rdk_consume(argv[2], argv[3], np, count, size, argc > 7 ? atoll(argv[7]) : 0);
    rdk_usage();
    return 2;
}
