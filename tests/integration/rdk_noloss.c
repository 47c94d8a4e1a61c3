/*
 * rdk_noloss: the librdkafka program of the replication tests (0030..0035, mainly
 * 0035_no_acked_loss.sh): an acks=all producer that records every acknowledgement, a consumer
 * that checks every acknowledged record is where its acknowledgement said, and a watermark probe.
 *
 *   rdk_noloss produce BOOTSTRAP TOPIC PARTITIONS SECS ACKFILE
 *       for SECS seconds sends records with key "<n>" and value "seq=<n>" (n = 0, 1, ... global)
 *       to partition n % PARTITIONS at NOLOSS_RATE records/s (default 2000); acks=all, retries
 *       allowed, enable.idempotence=false (Samsa has no InitProducerId), one request in flight
 *       per connection (so a retry cannot reorder a partition). Then waits (bounded) for the
 *       outstanding delivery reports. ACKFILE gets one line "p offset seq" per delivery report
 *       without error. Prints "sent=S acked=A failed=F" and the first few failure reasons.
 *   rdk_noloss verify BOOTSTRAP TOPIC PARTITIONS ACKFILE
 *       reads every partition from the beginning to its high watermark (legacy consumer,
 *       bounded: 60 s without progress) and checks, for every line of ACKFILE, that the record
 *       at that partition and offset has value "seq=<seq>"; and that per partition the acked
 *       sequence numbers appear in increasing offset order (unacked records -- retries,
 *       duplicates -- may appear anywhere). Prints the first differences and
 *       "acked=A consumed=C duplicates=D missing=M wrong=W disorder=O".
 *   rdk_noloss hw BOOTSTRAP TOPIC PARTITIONS
 *       prints "p low high" for every partition (ListOffsets through librdkafka).
 *
 * Exit codes: 0 all checks passed, 1 a check failed or a bound passed, 2 usage or setup error.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RDKN_FLUSH_MS 60000
#define RDKN_STALL_MS 60000
#define RDKN_SHOW     5

/* One acknowledged or consumed record. */
struct rdkn_rec {
    int32_t p;
    int64_t off;
    int64_t seq; /* -1: a value that is not "seq=<n>" */
};

struct rdkn_vec {
    struct rdkn_rec *v;
    size_t n;
    size_t cap;
};

struct rdkn_prod {
    FILE *ackf;
    long acked;
    long failed;
};

static int64_t rdkn_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rdkn_push(struct rdkn_vec *a, int32_t p, int64_t off, int64_t seq)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        struct rdkn_rec *v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n].p = p;
    a->v[a->n].off = off;
    a->v[a->n].seq = seq;
    a->n++;
    return 0;
}

static int rdkn_cmp(const void *a, const void *b)
{
    const struct rdkn_rec *x = a, *y = b;

    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int64_t rdkn_parse_seq(const void *val, size_t len)
{
    char buf[32];
    char *end = NULL;
    long long n;

    if (val == NULL || len < 5 || len >= sizeof(buf) || memcmp(val, "seq=", 4) != 0)
        return -1;
    memcpy(buf, val, len);
    buf[len] = '\0';
    n = strtoll(buf + 4, &end, 10);
    return (end == buf + len && n >= 0) ? (int64_t)n : -1;
}

static int rdkn_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdk_noloss: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

static rd_kafka_t *rdkn_client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));

    if (rk == NULL) {
        fprintf(stderr, "rdk_noloss: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static void rdkn_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct rdkn_prod *pr = opaque;
    long n = (long)(intptr_t)m->_private;

    (void)rk;
    if (m->err) {
        if (pr->failed++ < RDKN_SHOW)
            fprintf(stderr, "rdk_noloss: seq=%ld not acknowledged: %s\n", n,
                    rd_kafka_err2str(m->err));
        return;
    }
    pr->acked++;
    fprintf(pr->ackf, "%" PRId32 " %" PRId64 " %ld\n", m->partition, m->offset, n);
}

static int rdkn_produce(const char *bootstrap, const char *topic, int32_t np, long secs,
                        const char *ackfile)
{
    struct rdkn_prod pr = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = NULL;
    long rate = getenv("NOLOSS_RATE") != NULL ? atol(getenv("NOLOSS_RATE")) : 2000;
    int64_t t0, deadline;
    long n;
    int rc = 2;

    pr.ackf = fopen(ackfile, "w");
    if (pr.ackf == NULL) {
        fprintf(stderr, "rdk_noloss: cannot write %s\n", ackfile);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    if (rate <= 0)
        rate = 2000;
    if (rdkn_set(conf, "bootstrap.servers", bootstrap) || rdkn_set(conf, "acks", "all") ||
        rdkn_set(conf, "enable.idempotence", "false") ||
        rdkn_set(conf, "max.in.flight.requests.per.connection", "1") ||
        rdkn_set(conf, "message.send.max.retries", "1000000") ||
        rdkn_set(conf, "retry.backoff.ms", "100") || rdkn_set(conf, "linger.ms", "5") ||
        rdkn_set(conf, "message.timeout.ms", "45000") ||
        rdkn_set(conf, "request.timeout.ms", "10000") ||
        rdkn_set(conf, "topic.metadata.refresh.interval.ms", "2000")) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    if (getenv("RDK_DEBUG") != NULL && rdkn_set(conf, "debug", getenv("RDK_DEBUG"))) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_opaque(conf, &pr);
    rd_kafka_conf_set_dr_msg_cb(conf, rdkn_dr_cb);
    rk = rdkn_client(RD_KAFKA_PRODUCER, conf);
    if (rk == NULL)
        goto out;
    t0 = rdkn_now_ms();
    for (n = 0; rdkn_now_ms() - t0 < secs * 1000; n++) {
        char key[32], val[40];
        rd_kafka_resp_err_t e;

        while ((rdkn_now_ms() - t0) * rate < (int64_t)n * 1000 && rdkn_now_ms() - t0 < secs * 1000)
            rd_kafka_poll(rk, 1);
        snprintf(key, sizeof(key), "%ld", n);
        snprintf(val, sizeof(val), "seq=%ld", n);
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(n % np)),
                    RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, strlen(val)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)n), RD_KAFKA_V_END)) ==
                   RD_KAFKA_RESP_ERR__QUEUE_FULL &&
               rdkn_now_ms() - t0 < secs * 1000 + RDKN_FLUSH_MS)
            rd_kafka_poll(rk, 10);
        if (e) {
            fprintf(stderr, "rdk_noloss: produce seq=%ld: %s\n", n, rd_kafka_err2str(e));
            rc = 1;
            goto out;
        }
        rd_kafka_poll(rk, 0);
    }
    deadline = rdkn_now_ms() + RDKN_FLUSH_MS;
    while (rd_kafka_outq_len(rk) > 0 && rdkn_now_ms() < deadline)
        rd_kafka_poll(rk, 50);
    printf("sent=%ld acked=%ld failed=%ld unreported=%d\n", n, pr.acked, pr.failed,
           rd_kafka_outq_len(rk));
    rc = rd_kafka_outq_len(rk) == 0 && pr.acked > 0 ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (fclose(pr.ackf) != 0)
        rc = rc ? rc : 1;
    return rc;
}

static int rdkn_read_acks(const char *path, struct rdkn_vec *acks)
{
    FILE *f = fopen(path, "r");
    long long off, seq;
    int p, rc = 0;

    if (f == NULL) {
        fprintf(stderr, "rdk_noloss: cannot read %s\n", path);
        return -1;
    }
    while (fscanf(f, "%d %lld %lld", &p, &off, &seq) == 3) {
        if (rdkn_push(acks, (int32_t)p, (int64_t)off, (int64_t)seq) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Queries the watermarks of every partition; returns 0 or -1. */
static int rdkn_watermarks(rd_kafka_t *rk, const char *topic, int32_t np, int64_t *lo, int64_t *hi)
{
    int32_t p;
    int attempt;

    for (p = 0; p < np; p++) {
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

        for (attempt = 0; attempt < 10; attempt++) {
            e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo[p], &hi[p], 5000);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
        }
        if (e) {
            fprintf(stderr, "rdk_noloss: watermarks of %s-%" PRId32 ": %s\n", topic, p,
                    rd_kafka_err2str(e));
            return -1;
        }
    }
    return 0;
}

/* Reads partitions 0..np-1 from the beginning up to hi[p]; appends to out. Returns 0 or -1. */
static int rdkn_consume(rd_kafka_t *rk, const char *topic, int32_t np, const int64_t *hi,
                        struct rdkn_vec *out)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int64_t *next = calloc((size_t)np, sizeof(*next));
    int64_t last;
    int32_t p, started = 0;
    int rc = -1, done;

    if (rkt == NULL || q == NULL || next == NULL)
        goto out;
    for (p = 0; p < np; p++, started++)
        if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q) == -1) {
            fprintf(stderr, "rdk_noloss: consume_start %" PRId32 ": %s\n", p,
                    rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
    last = rdkn_now_ms();
    for (;;) {
        rd_kafka_message_t *m;

        done = 1;
        for (p = 0; p < np; p++)
            if (next[p] < hi[p])
                done = 0;
        if (done)
            break;
        if (rdkn_now_ms() - last > RDKN_STALL_MS) {
            for (p = 0; p < np; p++)
                if (next[p] < hi[p])
                    fprintf(stderr,
                            "rdk_noloss: partition %" PRId32 " stalled at %" PRId64 " of %" PRId64
                            "\n",
                            p, next[p], hi[p]);
            goto out;
        }
        m = rd_kafka_consume_queue(q, 200);
        if (m == NULL)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "rdk_noloss: consume: %s\n", rd_kafka_message_errstr(m));
        } else if (m->partition >= 0 && m->partition < np && m->offset < hi[m->partition]) {
            if (rdkn_push(out, m->partition, m->offset, rdkn_parse_seq(m->payload, m->len)) != 0) {
                rd_kafka_message_destroy(m);
                goto out;
            }
            next[m->partition] = m->offset + 1;
            last = rdkn_now_ms();
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
out:
    for (p = 0; p < started; p++)
        rd_kafka_consume_stop(rkt, p);
    if (q != NULL)
        rd_kafka_queue_destroy(q);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    free(next);
    return rc;
}

static int rdkn_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The checks of `verify`; acks and got are sorted by (p, off). Returns the number of problems. */
static long rdkn_check(struct rdkn_vec *acks, struct rdkn_vec *got, int32_t np)
{
    int64_t *seen = malloc((got->n + 1) * sizeof(*seen));
    int64_t *lastseq = malloc((size_t)np * sizeof(*lastseq));
    long missing = 0, wrong = 0, disorder = 0, dups = 0;
    size_t i, j = 0, nseen = 0;
    int32_t p;

    if (seen == NULL || lastseq == NULL) {
        free(seen);
        free(lastseq);
        return 1;
    }
    for (i = 0; i < acks->n; i++) {
        const struct rdkn_rec *a = &acks->v[i];

        while (j < got->n && rdkn_cmp(&got->v[j], &(struct rdkn_rec){a->p, a->off, -2}) < 0)
            j++;
        if (j >= got->n || got->v[j].p != a->p || got->v[j].off != a->off) {
            if (missing++ < RDKN_SHOW)
                fprintf(stderr,
                        "rdk_noloss: acked seq=%" PRId64 " at %" PRId32 "/%" PRId64
                        " is missing (no record at that offset)\n",
                        a->seq, a->p, a->off);
        } else if (got->v[j].seq != a->seq) {
            if (wrong++ < RDKN_SHOW)
                fprintf(stderr,
                        "rdk_noloss: acked seq=%" PRId64 " at %" PRId32 "/%" PRId64
                        " but that offset holds seq=%" PRId64 "\n",
                        a->seq, a->p, a->off, got->v[j].seq);
        }
    }
    /* Order: acks sorted by (partition, offset) must carry increasing sequence numbers. */
    for (p = 0; p < np; p++)
        lastseq[p] = -1;
    for (i = 0; i < acks->n; i++) {
        const struct rdkn_rec *a = &acks->v[i];

        if (a->p < 0 || a->p >= np)
            continue;
        if (a->seq <= lastseq[a->p] && disorder++ < RDKN_SHOW)
            fprintf(stderr,
                    "rdk_noloss: partition %" PRId32 ": acked seq=%" PRId64 " at offset %" PRId64
                    " comes after acked seq=%" PRId64 "\n",
                    a->p, a->seq, a->off, lastseq[a->p]);
        if (a->seq > lastseq[a->p])
            lastseq[a->p] = a->seq;
    }
    for (i = 0; i < got->n; i++)
        if (got->v[i].seq >= 0)
            seen[nseen++] = got->v[i].seq;
    qsort(seen, nseen, sizeof(*seen), rdkn_cmp_i64);
    for (i = 1; i < nseen; i++)
        if (seen[i] == seen[i - 1])
            dups++;
    printf("acked=%zu consumed=%zu duplicates=%ld missing=%ld wrong=%ld disorder=%ld\n", acks->n,
           got->n, dups, missing, wrong, disorder);
    free(seen);
    free(lastseq);
    return missing + wrong + disorder;
}

static int rdkn_verify(const char *bootstrap, const char *topic, int32_t np, const char *ackfile)
{
    struct rdkn_vec acks = {0}, got = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = NULL;
    int64_t *lo = calloc((size_t)np, sizeof(*lo));
    int64_t *hi = calloc((size_t)np, sizeof(*hi));
    int rc = 2;

    if (lo == NULL || hi == NULL || rdkn_read_acks(ackfile, &acks) != 0) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    if (rdkn_set(conf, "bootstrap.servers", bootstrap) ||
        rdkn_set(conf, "enable.partition.eof", "false") ||
        rdkn_set(conf, "fetch.wait.max.ms", "100")) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rk = rdkn_client(RD_KAFKA_CONSUMER, conf);
    if (rk == NULL)
        goto out;
    rc = 1;
    if (rdkn_watermarks(rk, topic, np, lo, hi) != 0 || rdkn_consume(rk, topic, np, hi, &got) != 0)
        goto out;
    qsort(acks.v, acks.n, sizeof(*acks.v), rdkn_cmp);
    qsort(got.v, got.n, sizeof(*got.v), rdkn_cmp);
    rc = rdkn_check(&acks, &got, np) == 0 ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    free(acks.v);
    free(got.v);
    free(lo);
    free(hi);
    return rc;
}

static int rdkn_hw(const char *bootstrap, const char *topic, int32_t np)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = NULL;
    int64_t *lo = calloc((size_t)np, sizeof(*lo));
    int64_t *hi = calloc((size_t)np, sizeof(*hi));
    int32_t p;
    int rc = 2;

    if (lo == NULL || hi == NULL || rdkn_set(conf, "bootstrap.servers", bootstrap)) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rk = rdkn_client(RD_KAFKA_CONSUMER, conf);
    if (rk == NULL)
        goto out;
    rc = 1;
    if (rdkn_watermarks(rk, topic, np, lo, hi) != 0)
        goto out;
    for (p = 0; p < np; p++)
        printf("%" PRId32 " %" PRId64 " %" PRId64 "\n", p, lo[p], hi[p]);
    rc = 0;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    free(lo);
    free(hi);
    return rc;
}

static int rdkn_usage(void)
{
    fprintf(stderr, "usage: rdk_noloss produce BOOTSTRAP TOPIC PARTITIONS SECS ACKFILE\n"
                    "       rdk_noloss verify BOOTSTRAP TOPIC PARTITIONS ACKFILE\n"
                    "       rdk_noloss hw BOOTSTRAP TOPIC PARTITIONS\n");
    return 2;
}

int main(int argc, char **argv)
{
    int32_t np;

    if (argc < 5)
        return rdkn_usage();
    np = (int32_t)atoi(argv[4]);
    if (np <= 0 || np > 10000)
        return rdkn_usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "produce") == 0 && argc == 7 && atol(argv[5]) > 0)
        return rdkn_produce(argv[2], argv[3], np, atol(argv[5]), argv[6]);
    if (strcmp(argv[1], "verify") == 0 && argc == 6)
        return rdkn_verify(argv[2], argv[3], np, argv[5]);
    if (strcmp(argv[1], "hw") == 0 && argc == 5)
        return rdkn_hw(argv[2], argv[3], np);
    return rdkn_usage();
}
