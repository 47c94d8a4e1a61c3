/*
 * rdk_acks: a librdkafka producer for tests/integration/0032_min_isr.sh (and the other
 * replication tests) that shows the error a produce gets, instead of retrying it away.
 *
 *   rdk_acks BOOTSTRAP TOPIC PARTITION COUNT ACKS [PREFIX]
 *       sends COUNT records (key "<PREFIX><i>", value "<PREFIX><i>"; PREFIX default "r") to
 *       PARTITION with acks=ACKS (all, 1, 0), no retries (message.send.max.retries=0, no
 *       idempotence) and a 15 s message timeout, then prints one line per record
 *
 *         rec=<i> err=<ERRNAME> partition=<p> offset=<o>      (ERRNAME NO_ERROR on success)
 *
 *       and a summary line "delivered=D failed=F errors=<NAME>:<n>,..." where NAME is librdkafka's
 *       rd_kafka_err2name (NOT_ENOUGH_REPLICAS for Kafka error 19, NOT_ENOUGH_REPLICAS_AFTER_APPEND
 *       for 20, REQUEST_TIMED_OUT for 7, _MSG_TIMED_OUT for a local timeout).
 *
 * Exit codes: 0 the run completed (whatever the delivery results: the script judges them),
 * 1 a record got no delivery report within the bound, 2 usage or setup error.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RDKA_WAIT_MS   40000
#define RDKA_MAX_KINDS 16

struct rdka_stats {
    long delivered;
    long failed;
    int nkinds;
    rd_kafka_resp_err_t kinds[RDKA_MAX_KINDS];
    long counts[RDKA_MAX_KINDS];
};

static int64_t rdka_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rdka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct rdka_stats *st = opaque;
    long i = (long)(intptr_t)m->_private;
    int k;

    (void)rk;
    printf("rec=%ld err=%s partition=%" PRId32 " offset=%" PRId64 "\n", i,
           rd_kafka_err2name(m->err), m->partition, m->offset);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        st->delivered++;
        return;
    }
    st->failed++;
    for (k = 0; k < st->nkinds; k++)
        if (st->kinds[k] == m->err)
            break;
    if (k == st->nkinds && k < RDKA_MAX_KINDS) {
        st->kinds[k] = m->err;
        st->nkinds++;
    }
    if (k < RDKA_MAX_KINDS)
        st->counts[k]++;
}

static int rdka_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdk_acks: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct rdka_stats st = {0};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    const char *prefix = argc > 6 ? argv[6] : "r";
    char err[256], buf[64];
    int32_t partition;
    int64_t deadline;
    long count, i;
    int k, rc = 2;

    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: rdk_acks BOOTSTRAP TOPIC PARTITION COUNT ACKS [PREFIX]\n");
        return 2;
    }
    partition = (int32_t)atoi(argv[3]);
    count = atol(argv[4]);
    if (partition < 0 || count <= 0) {
        fprintf(stderr, "rdk_acks: PARTITION must be >= 0 and COUNT > 0\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    conf = rd_kafka_conf_new();
    if (rdka_set(conf, "bootstrap.servers", argv[1]) || rdka_set(conf, "acks", argv[5]) ||
        rdka_set(conf, "message.send.max.retries", "0") ||
        rdka_set(conf, "enable.idempotence", "false") ||
        rdka_set(conf, "message.timeout.ms", "15000") ||
        rdka_set(conf, "request.timeout.ms", "10000") || rdka_set(conf, "linger.ms", "0"))
        goto out;
    if (getenv("RDK_DEBUG") != NULL && rdka_set(conf, "debug", getenv("RDK_DEBUG")))
        goto out;
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_conf_set_dr_msg_cb(conf, rdka_dr_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "rdk_acks: %s\n", err);
        goto out;
    }
    conf = NULL;
    for (i = 0; i < count; i++) {
        rd_kafka_resp_err_t e;

        snprintf(buf, sizeof(buf), "%s%ld", prefix, i);
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(buf, strlen(buf)), RD_KAFKA_V_VALUE(buf, strlen(buf)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "rdk_acks: produce %ld: %s\n", i, rd_kafka_err2str(e));
            goto out;
        }
        rd_kafka_poll(rk, 0);
    }
    deadline = rdka_now_ms() + RDKA_WAIT_MS;
    while (rd_kafka_outq_len(rk) > 0 && rdka_now_ms() < deadline)
        rd_kafka_poll(rk, 50);
    rd_kafka_poll(rk, 0);
    printf("delivered=%ld failed=%ld errors=", st.delivered, st.failed);
    for (k = 0; k < st.nkinds; k++)
        printf("%s%s:%ld", k ? "," : "", rd_kafka_err2name(st.kinds[k]), st.counts[k]);
    printf("\n");
    rc = st.delivered + st.failed == count ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    return rc;
}
