/*
 * bench_kafka: a producer/consumer benchmark on librdkafka against any Kafka-protocol broker
 * (run by bench/kafka.sh against a Samsa cluster).
 *
 *   bench_kafka produce --bootstrap B --topic T [--records N] [--size S] [--acks A]
 *                       [--partitions P] [--compression C] [--linger-ms L] [--rate R]
 *       N records (default 1,000,000) of S bytes (default 100) spread round-robin over P
 *       partitions (default 1), acks A (default 1). Latency is per record, from the
 *       rd_kafka_producev call to its delivery report (so it includes batching: linger.ms, and
 *       queueing: without --rate the producer runs flat out and the latency is mostly time
 *       spent in librdkafka's queue). --rate R paces the sends at R records/s.
 *   bench_kafka consume --bootstrap B --topic T [--records N] [--partitions P]
 *       the legacy consumer on partitions 0..P-1 from the beginning, until N records came
 *       back (bounded: 10 minutes without progress for 30 s is a failure).
 *   bench_kafka e2e --bootstrap B --topic T [--rate R] [--records N] [--size S] [--acks A]
 *                   [--partitions P] [--linger-ms L] [--warmup-secs W]
 *       end-to-end latency: a consumer thread reads partitions 0..P-1 (an empty topic, from the
 *       beginning) while the main thread produces N records paced at R records/s (without
 *       --rate: flat out, as fast as librdkafka's queue takes them), each value
 *       carrying its send time (S >= 16 bytes). Latency is per record, from the
 *       rd_kafka_producev call to the moment the consumer thread holds it (so, with acks=all,
 *       it includes replication up to the high watermark). Warm-up records (10 per partition,
 *       not measured) go first, so connections and metadata are in place when the clock starts;
 *       with --warmup-secs W, W seconds at the paced rate follow, not measured either, so the
 *       clock starts in the steady state rather than with the ramp from idle.
 *       Bounded: the consumer gives up 30 s after the last record was sent. With BENCH_TIMELINE
 *       set in the environment, one stderr line per second of sending gives that second's
 *       records and their largest latency (a tail of a few stalls, or spread out?). With
 *       BENCH_SLOW=MS, one stderr line per record whose latency reached MS milliseconds: its
 *       index, partition, send time (CLOCK_MONOTONIC seconds, as perf -k CLOCK_MONOTONIC and
 *       /proc/uptime read) and produce latency (is a stall in the acks, or after them?).
 *
 * Prints one line of figures:
 *   produce records=N size=S acks=A partitions=P secs=T records/s=R MB/s=M p50_ms=..
 *           p99_ms=.. p99.9_ms=.. failed=F
 *   consume records=N bytes=B secs=T records/s=R MB/s=M
 *   e2e records=N size=S acks=A partitions=P rate=R secs=T received=K records/s=X p50_ms=..
 *       p99_ms=.. p99.9_ms=.. max_ms=.. failed=F
 *       (secs: sending time; records/s: records over the time until the consumer held the
 *       last one -- the rate the whole produce-replicate-consume path sustained)
 * MB is 10^6 bytes of record values. Exit 0 when every record was delivered / consumed.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_STALL_MS 30000

struct bench_opts {
    const char *mode;
    const char *bootstrap;
    const char *topic;
    long records;
    size_t size;
    const char *acks;
    int32_t partitions;
    const char *compression;
    const char *linger;
    long rate;
    long warmup_secs;        /* e2e: seconds sent at --rate before the measurement starts */
    const char *fetch_bytes; /* consumer: fetch.message.max.bytes (per partition) */
};

struct bench_prod {
    int64_t *sent_us; /* per record: when it was handed to librdkafka */
    uint32_t *lat_us; /* per delivered record */
    long delivered;
    long failed;
    /* Per record index: its produce latency (e2e with BENCH_SLOW only; NULL otherwise). */
    uint32_t *by_index_us;
};

static int64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU time (user + system) this process has used so far, in microseconds: the client's own
 * share of a machine it shares with the cluster. */
static int64_t bench_cpu_us(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static void bench_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct bench_prod *bp = opaque;
    long i = (long)(intptr_t)m->_private;
    int64_t d;

    (void)rk;
    if (i < 0)
        return; /* a warm-up record of bench_e2e */
    if (m->err) {
        if (bp->failed++ < 3)
            fprintf(stderr, "bench_kafka: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    d = bench_now_us() - bp->sent_us[i];
    bp->lat_us[bp->delivered++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    if (bp->by_index_us != NULL)
        bp->by_index_us[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static double bench_pct_ms(const uint32_t *v, long n, double pct)
{
    long k;

    if (n <= 0)
        return 0.0;
    k = (long)(pct / 100.0 * (double)(n - 1));
    return (double)v[k] / 1000.0;
}

static rd_kafka_t *bench_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char **kv)
{
    char err[256];
    rd_kafka_t *rk;

    for (; kv[0] != NULL; kv += 2) {
        if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_kafka: %s=%s: %s\n", kv[0], kv[1], err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (rk == NULL)
        fprintf(stderr, "bench_kafka: %s\n", err);
    return rk;
}

static int bench_produce(const struct bench_opts *o)
{
    struct bench_prod bp = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        o->bootstrap,
                        "acks",
                        o->acks,
                        "compression.codec",
                        o->compression,
                        "linger.ms",
                        o->linger,
                        "batch.num.messages",
                        "10000",
                        "queue.buffering.max.messages",
                        "1000000",
                        "queue.buffering.max.kbytes",
                        "1048576",
                        "message.timeout.ms",
                        "120000",
                        NULL};
    rd_kafka_t *rk = NULL;
    char *val = malloc(o->size + 1);
    int64_t t0, t1;
    double secs;
    long i;
    int rc = 2;

    bp.sent_us = malloc((size_t)o->records * sizeof(*bp.sent_us) + 1);
    bp.lat_us = malloc((size_t)o->records * sizeof(*bp.lat_us) + 1);
    if (val == NULL || bp.sent_us == NULL || bp.lat_us == NULL) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    memset(val, 'x', o->size);
    memset(bp.sent_us, 0, (size_t)o->records * sizeof(*bp.sent_us)); /* as in e2e: touched now */
    memset(bp.lat_us, 0, (size_t)o->records * sizeof(*bp.lat_us));
    rd_kafka_conf_set_opaque(conf, &bp);
    rd_kafka_conf_set_dr_msg_cb(conf, bench_dr_cb);
    rk = bench_client(RD_KAFKA_PRODUCER, conf, kv);
    if (rk == NULL)
        goto out;
    t0 = bench_now_us();
    for (i = 0; i < o->records; i++) {
        rd_kafka_resp_err_t e;

        while (o->rate > 0 && (bench_now_us() - t0) * o->rate < (int64_t)i * 1000000)
            rd_kafka_poll(rk, 0);
        memcpy(val, &i, o->size < sizeof(i) ? o->size : sizeof(i));
        bp.sent_us[i] = bench_now_us();
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
                                      RD_KAFKA_V_PARTITION((int32_t)(i % o->partitions)),
                                      RD_KAFKA_V_VALUE(val, o->size),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (e) {
            fprintf(stderr, "bench_kafka: produce: %s\n", rd_kafka_err2str(e));
            goto out;
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 180000);
    t1 = bench_now_us();
    secs = (double)(t1 - t0) / 1e6;
    qsort(bp.lat_us, (size_t)bp.delivered, sizeof(*bp.lat_us), bench_cmp_u32);
    printf("produce records=%ld size=%zu acks=%s partitions=%" PRId32 " compression=%s secs=%.2f "
           "records/s=%.0f MB/s=%.1f p50_ms=%.2f p99_ms=%.2f p99.9_ms=%.2f failed=%ld\n",
           bp.delivered, o->size, o->acks, o->partitions, o->compression, secs,
           (double)bp.delivered / secs, (double)bp.delivered * (double)o->size / 1e6 / secs,
           bench_pct_ms(bp.lat_us, bp.delivered, 50), bench_pct_ms(bp.lat_us, bp.delivered, 99),
           bench_pct_ms(bp.lat_us, bp.delivered, 99.9), bp.failed);
    rc = (bp.delivered == o->records && bp.failed == 0) ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    free(val);
    free(bp.sent_us);
    free(bp.lat_us);
    return rc;
}

static int bench_consume(const struct bench_opts *o)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        o->bootstrap,
                        "enable.partition.eof",
                        "false",
                        "fetch.message.max.bytes",
                        o->fetch_bytes,
                        "queued.min.messages",
                        "1000000",
                        NULL};
    rd_kafka_t *rk = bench_client(RD_KAFKA_CONSUMER, conf, kv);
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_message_t *batch[1024];
    long got = 0;
    int64_t bytes = 0, t0 = 0, last, now;
    double secs;
    int32_t p;
    int rc = 2;

    if (rk == NULL)
        return 2;
    rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    q = rd_kafka_queue_new(rk);
    last = bench_now_us();
    for (p = 0; p < o->partitions; p++)
        if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q) == -1)
            goto out;
    while (got < o->records) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, 1024), k;

        now = bench_now_us();
        for (k = 0; k < n; k++) {
            if (batch[k]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (got == 0)
                    t0 = now; /* throughput runs from the first record: connecting is not */
                got++;
                bytes += (int64_t)batch[k]->len;
                last = now;
            }
            rd_kafka_message_destroy(batch[k]);
        }
        if (now - last > (int64_t)BENCH_STALL_MS * 1000) {
            fprintf(stderr, "bench_kafka: no progress for %d s at %ld records\n",
                    BENCH_STALL_MS / 1000, got);
            break;
        }
    }
    secs = (double)(last - t0) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    printf("consume records=%ld bytes=%" PRId64 " secs=%.2f records/s=%.0f MB/s=%.1f\n", got, bytes,
           secs, (double)got / secs, (double)bytes / 1e6 / secs);
    rc = got >= o->records ? 0 : 1;
    for (p = 0; p < o->partitions; p++)
        rd_kafka_consume_stop(rkt, p);
out:
    if (q != NULL)
        rd_kafka_queue_destroy(q);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- end-to-end latency ---------------------------------------------------------------- */

struct bench_e2e {
    const struct bench_opts *o;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *q;
    uint32_t *lat_us;     /* per received record index, UINT32_MAX until received */
    atomic_long received; /* records the consumer thread holds */
    atomic_long sent;     /* records handed to the producer */
    atomic_llong done_us; /* when the last record was sent; 0 while producing */
    atomic_int ready;     /* the consumer thread has started every partition */
    atomic_long warm;     /* warm-up records (index -1) the consumer received */
    atomic_llong last_us; /* when the consumer received the last measured record */
    int err;
};

/* Consumer callback: one record; its latency is taken when the consumer thread holds it. */
static void bench_e2e_on_record(rd_kafka_message_t *m, void *opaque)
{
    struct bench_e2e *e = opaque;
    int64_t now = bench_now_us(), idx, at, d;

    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->len < 16)
        return;
    memcpy(&idx, m->payload, sizeof(idx));
    memcpy(&at, (const char *)m->payload + 8, sizeof(at));
    if (idx == -1)
        atomic_fetch_add(&e->warm, 1);
    if (idx < 0 || idx >= e->o->records || e->lat_us[idx] != UINT32_MAX)
        return;
    d = now - at;
    e->lat_us[idx] = d < 0 ? 0 : d > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)d;
    if (atomic_fetch_add(&e->received, 1) + 1 == e->o->records)
        atomic_store(&e->last_us, now);
}

/*
 * The consumer thread. rd_kafka_consume_callback_queue hands over what is there and returns
 * (rd_kafka_consume_batch_queue would wait until its batch is full, adding that wait to the
 * latency).
 */
static void *bench_e2e_consumer(void *arg)
{
    struct bench_e2e *e = arg;
    int64_t done;

    atomic_store(&e->ready, 1);
    for (;;) {
        rd_kafka_consume_callback_queue(e->q, 100, bench_e2e_on_record, e);
        if (atomic_load(&e->received) >= e->o->records)
            break;
        done = atomic_load(&e->done_us);
        if (done > 0 && bench_now_us() - done > (int64_t)BENCH_STALL_MS * 1000) {
            fprintf(stderr, "bench_kafka: e2e: %ld of %ld records came back\n",
                    atomic_load(&e->received), e->o->records);
            break;
        }
    }
    return NULL;
}

static rd_kafka_t *bench_e2e_start_consumer(struct bench_e2e *e)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        e->o->bootstrap,
                        "enable.partition.eof",
                        "false",
                        "fetch.wait.max.ms",
                        "100",
                        "fetch.error.backoff.ms",
                        "10",
                        "socket.nagle.disable",
                        "true",
                        NULL};
    rd_kafka_t *rk = bench_client(RD_KAFKA_CONSUMER, conf, kv);
    rd_kafka_topic_t *rkt;
    int32_t p;

    if (rk == NULL)
        return NULL;
    rkt = rd_kafka_topic_new(rk, e->o->topic, NULL);
    e->q = rd_kafka_queue_new(rk);
    for (p = 0; p < e->o->partitions; p++)
        if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, e->q) == -1) {
            fprintf(stderr, "bench_kafka: e2e: consume_start %" PRId32 ": %s\n", p,
                    rd_kafka_err2str(rd_kafka_last_error()));
            e->err = 1;
        }
    rd_kafka_topic_destroy(rkt);
    return rk;
}

static void bench_e2e_stop_consumer(struct bench_e2e *e)
{
    rd_kafka_topic_t *rkt;
    int32_t p;

    if (e->consumer == NULL)
        return;
    rkt = rd_kafka_topic_new(e->consumer, e->o->topic, NULL);
    for (p = 0; p < e->o->partitions; p++)
        rd_kafka_consume_stop(rkt, p);
    rd_kafka_topic_destroy(rkt);
    if (e->q != NULL)
        rd_kafka_queue_destroy(e->q);
    rd_kafka_destroy(e->consumer);
}

/*
 * Sends 10 records of index -1 to every partition and waits (bounded: 30 s) until the consumer
 * thread received them all: connections, metadata and the first fetches are then behind us, and
 * the measurement does not start with their cost. Returns 0, or -1 when they did not come back.
 */
static int bench_e2e_warm_up(struct bench_e2e *e, rd_kafka_t *rk, char *val)
{
    int64_t idx = -1, deadline = bench_now_us() + 30000000;
    long want = 10L * e->o->partitions, k;

    memset(val, 0, 16);
    memcpy(val, &idx, sizeof(idx));
    for (k = 0; k < want; k++)
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(e->o->topic),
                              RD_KAFKA_V_PARTITION((int32_t)(k % e->o->partitions)),
                              RD_KAFKA_V_VALUE(val, e->o->size),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE((void *)(intptr_t)-1), RD_KAFKA_V_END) != 0)
            return -1;
    while (atomic_load(&e->warm) < want && bench_now_us() < deadline)
        rd_kafka_poll(rk, 10);
    if (atomic_load(&e->warm) < want) {
        fprintf(stderr, "bench_kafka: e2e: warm-up records did not come back within 30 s\n");
        return -1;
    }
    return 0;
}

/* BENCH_SLOW=MS: one stderr line per record of at least MS ms end to end (see the top). */
static void bench_e2e_slow(const struct bench_e2e *e, const struct bench_prod *bp, long ms)
{
    for (long i = 0; i < e->o->records; i++) {
        if (e->lat_us[i] == UINT32_MAX || e->lat_us[i] < (uint64_t)ms * 1000)
            continue;
        fprintf(stderr, "slow: record %ld partition %ld sent %.3f e2e_ms %.1f produce_ms %.1f\n", i,
                i % e->o->partitions, (double)bp->sent_us[i] / 1e6, (double)e->lat_us[i] / 1e3,
                (double)bp->by_index_us[i] / 1e3);
    }
}

/* BENCH_TIMELINE set: one stderr line per second of sending -- records sent in it and their
 * largest end-to-end latency -- to see whether a tail is spread out or a few stalls. */
static void bench_e2e_timeline(const struct bench_e2e *e, const int64_t *sent_us, int64_t t0)
{
    long i = 0;

    for (long sec = 0; i < e->o->records; sec++) {
        uint32_t worst = 0;
        long k = 0;

        for (; i < e->o->records && sent_us[i] - t0 < (sec + 1) * 1000000; i++, k++)
            if (e->lat_us[i] != UINT32_MAX && e->lat_us[i] > worst)
                worst = e->lat_us[i];
        fprintf(stderr, "timeline: second %ld: %ld records, max %.2f ms\n", sec, k,
                (double)worst / 1000.0);
    }
}

static int bench_e2e(const struct bench_opts *o)
{
    struct bench_e2e e = {.o = o};
    struct bench_prod bp = {0};
    rd_kafka_conf_t *conf = NULL;
    const char *kv[] = {"bootstrap.servers",
                        o->bootstrap,
                        "acks",
                        o->acks,
                        "linger.ms",
                        o->linger,
                        "message.timeout.ms",
                        "60000",
                        "socket.nagle.disable",
                        "true",
                        NULL};
    rd_kafka_t *rk = NULL;
    char *val = malloc(o->size + 1);
    pthread_t th;
    int started = 0, rc = 2;
    long i, n = 0, warm_n = o->rate * o->warmup_secs;
    int64_t t0, t1, t2, t3, cpu0, cpu1;
    long slow_ms = getenv("BENCH_SLOW") != NULL ? atol(getenv("BENCH_SLOW")) : 0;

    e.lat_us = malloc((size_t)o->records * sizeof(*e.lat_us) + 1);
    bp.sent_us = malloc((size_t)o->records * sizeof(*bp.sent_us) + 1);
    bp.lat_us = malloc((size_t)o->records * sizeof(*bp.lat_us) + 1);
    if (slow_ms > 0)
        bp.by_index_us = calloc((size_t)o->records + 1, sizeof(*bp.by_index_us));
    if (val == NULL || e.lat_us == NULL || bp.sent_us == NULL || bp.lat_us == NULL ||
        (slow_ms > 0 && bp.by_index_us == NULL) || o->size < 16 || o->rate < 0) {
        fprintf(stderr, "bench_kafka: e2e needs --size >= 16 and --rate >= 0\n");
        goto out;
    }
    memset(val, 'x', o->size);
    /* Touch every page of the arrays now, not during the run: a first touch is a page fault,
     * which on a VM whose host reclaims guest memory costs tens of microseconds. */
    memset(e.lat_us, 0xff, (size_t)o->records * sizeof(*e.lat_us));
    memset(bp.sent_us, 0, (size_t)o->records * sizeof(*bp.sent_us));
    memset(bp.lat_us, 0, (size_t)o->records * sizeof(*bp.lat_us));
    e.consumer = bench_e2e_start_consumer(&e);
    if (e.consumer == NULL || e.err)
        goto out;
    if (pthread_create(&th, NULL, bench_e2e_consumer, &e) != 0)
        goto out;
    started = 1;
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, &bp);
    rd_kafka_conf_set_dr_msg_cb(conf, bench_dr_cb);
    rk = bench_client(RD_KAFKA_PRODUCER, conf, kv);
    if (rk == NULL)
        goto out;
    /* Let the consumer connect and issue its first fetches before the clock starts. */
    while (!atomic_load(&e.ready))
        rd_kafka_poll(rk, 10);
    if (bench_e2e_warm_up(&e, rk, val) != 0)
        goto out;
    /* Negative i: the warm-up at the measured rate (index -1: neither timed nor counted), so
     * the measurement starts in the steady state, not with the ramp from idle. */
    t0 = bench_now_us();
    cpu0 = bench_cpu_us();
    for (i = -warm_n; i < o->records; i++) {
        rd_kafka_resp_err_t err;
        int64_t now, idx = i < 0 ? -1 : (int64_t)i, k = i < 0 ? i + warm_n : i;

        if (i == 0) {
            t0 = bench_now_us(); /* the clock and the pacing restart with the first timed one */
            cpu0 = bench_cpu_us();
        }
        /* Pace in steps of 1 ms (poll blocks): a busy loop would take a core from the brokers. */
        while (o->rate > 0 && (bench_now_us() - t0) * o->rate < k * 1000000)
            rd_kafka_poll(rk, 1);
        now = bench_now_us();
        memcpy(val, &idx, sizeof(idx));
        memcpy(val + 8, &now, sizeof(now));
        if (i >= 0)
            bp.sent_us[i] = now;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
                                        RD_KAFKA_V_PARTITION((int32_t)(k % o->partitions)),
                                        RD_KAFKA_V_VALUE(val, o->size),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_OPAQUE((void *)(intptr_t)idx),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (err) {
            fprintf(stderr, "bench_kafka: produce: %s\n", rd_kafka_err2str(err));
            break;
        }
        if (i >= 0)
            atomic_fetch_add(&e.sent, 1);
        rd_kafka_poll(rk, 0);
    }
    t1 = bench_now_us();
    atomic_store(&e.done_us, t1);
    rd_kafka_flush(rk, 120000);
    pthread_join(th, NULL);
    started = 0;
    cpu1 = bench_cpu_us();
    t3 = bench_now_us();
    if (getenv("BENCH_TIMELINE") != NULL)
        bench_e2e_timeline(&e, bp.sent_us, t0);
    if (slow_ms > 0)
        bench_e2e_slow(&e, &bp, slow_ms);
    for (i = 0; i < o->records; i++)
        if (e.lat_us[i] != UINT32_MAX)
            e.lat_us[n++] = e.lat_us[i];
    qsort(e.lat_us, (size_t)n, sizeof(*e.lat_us), bench_cmp_u32);
    qsort(bp.lat_us, (size_t)bp.delivered, sizeof(*bp.lat_us), bench_cmp_u32);
    t2 = atomic_load(&e.last_us);
    printf("e2e records=%ld size=%zu acks=%s partitions=%" PRId32
           " rate=%ld secs=%.2f received=%ld records/s=%.0f "
           "p50_ms=%.2f p99_ms=%.2f p99.9_ms=%.2f max_ms=%.2f produce_p99_ms=%.2f failed=%ld "
           "client_cpu=%.0f%%\n",
           o->records, o->size, o->acks, o->partitions, o->rate, (double)(t1 - t0) / 1e6,
           atomic_load(&e.received), t2 > t0 ? (double)o->records * 1e6 / (double)(t2 - t0) : 0.0,
           bench_pct_ms(e.lat_us, n, 50), bench_pct_ms(e.lat_us, n, 99),
           bench_pct_ms(e.lat_us, n, 99.9), n > 0 ? (double)e.lat_us[n - 1] / 1000.0 : 0.0,
           bench_pct_ms(bp.lat_us, bp.delivered, 99), bp.failed,
           t3 > t0 ? 100.0 * (double)(cpu1 - cpu0) / (double)(t3 - t0) : 0.0);
    rc = (atomic_load(&e.received) == o->records && bp.failed == 0) ? 0 : 1;
out:
    if (started) {
        atomic_store(&e.done_us, 1); /* long past: the consumer thread gives up */
        pthread_join(th, NULL);
    }
    if (rk != NULL)
        rd_kafka_destroy(rk);
    bench_e2e_stop_consumer(&e);
    free(val);
    free(e.lat_us);
    free(bp.sent_us);
    free(bp.lat_us);
    free(bp.by_index_us);
    return rc;
}

static int bench_usage(void)
{
    fprintf(stderr, "usage: bench_kafka produce|consume|e2e --bootstrap B --topic T [--records N] "
                    "[--size S] [--acks A] [--partitions P] [--compression C] [--linger-ms L] "
                    "[--rate R] [--fetch-bytes F] [--warmup-secs W]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {.records = 1000000,
                           .size = 100,
                           .acks = "1",
                           .partitions = 1,
                           .compression = "none",
                           .linger = "5",
                           .fetch_bytes = "1048576"};
    int i;

    if (argc < 2)
        return bench_usage();
    o.mode = argv[1];
    for (i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (strcmp(k, "--bootstrap") == 0)
            o.bootstrap = v;
        else if (strcmp(k, "--topic") == 0)
            o.topic = v;
        else if (strcmp(k, "--records") == 0)
            o.records = atol(v);
        else if (strcmp(k, "--size") == 0)
            o.size = (size_t)atol(v);
        else if (strcmp(k, "--acks") == 0)
            o.acks = v;
        else if (strcmp(k, "--partitions") == 0)
            o.partitions = (int32_t)atoi(v);
        else if (strcmp(k, "--compression") == 0)
            o.compression = v;
        else if (strcmp(k, "--linger-ms") == 0)
            o.linger = v;
        else if (strcmp(k, "--rate") == 0)
            o.rate = atol(v);
        else if (strcmp(k, "--fetch-bytes") == 0)
            o.fetch_bytes = v;
        else if (strcmp(k, "--warmup-secs") == 0)
            o.warmup_secs = atol(v);
        else
            return bench_usage();
    }
    if (i != argc || o.bootstrap == NULL || o.topic == NULL || o.records <= 0 ||
        o.partitions <= 0 || o.warmup_secs < 0)
        return bench_usage();
    if (strcmp(o.mode, "produce") == 0)
        return bench_produce(&o);
    if (strcmp(o.mode, "consume") == 0)
        return bench_consume(&o);
    if (strcmp(o.mode, "e2e") == 0)
        return bench_e2e(&o);
    return bench_usage();
}
