/*
 * ts_produce: a test program on librdkafka for tests/integration/0027_listoffsets_compressed.sh.
 * It produces records with timestamps it chooses into one partition, in one compressed batch,
 * which kcat cannot do (its records take the time they are read from stdin, and it reads stdin
 * in bursts).
 *
 *   ts_produce BOOTSTRAP TOPIC PARTITION CODEC COUNT BASE_TS STEP_MS
 *       record i (0 <= i < COUNT) has key "k<i>", a compressible 300-byte value and the
 *       CreateTime BASE_TS + i * STEP_MS. compression.codec=CODEC, linger.ms 2000, so all are
 *       queued before the first batch leaves. Every delivery report must succeed. Prints
 *       "delivered=N failed=F".
 *
 * Exit codes: 0 every record delivered, 1 a delivery failed or a timeout, 2 usage or setup error.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TSP_WAIT_MS    30000
#define TSP_VALUE_SIZE 300

typedef struct tsp_stats {
    long delivered;
    long failed;
} tsp_stats_t;

static void tsp_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    tsp_stats_t *st = opaque;

    (void)rk;
    if (m->err) {
        fprintf(stderr, "ts_produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
        st->failed++;
    } else {
        st->delivered++;
    }
}

static int tsp_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "ts_produce: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

static int64_t tsp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    tsp_stats_t st = {0, 0};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    char err[256], key[32], val[TSP_VALUE_SIZE];
    int rc = 2;

    if (argc != 8) {
        fprintf(stderr, "usage: ts_produce BOOTSTRAP TOPIC PARTITION CODEC COUNT BASE_TS "
                        "STEP_MS\n");
        return 2;
    }
    int32_t partition = (int32_t)atol(argv[3]);
    long count = atol(argv[5]);
    long long base_ts = atoll(argv[6]);
    long long step = atoll(argv[7]);

    conf = rd_kafka_conf_new();
    if (tsp_set(conf, "bootstrap.servers", argv[1]) ||
        tsp_set(conf, "compression.codec", argv[4]) || tsp_set(conf, "linger.ms", "2000") ||
        tsp_set(conf, "acks", "all") || tsp_set(conf, "message.timeout.ms", "20000"))
        goto out;
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_conf_set_dr_msg_cb(conf, tsp_dr_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "ts_produce: %s\n", err);
        goto out;
    }
    conf = NULL;
    for (long i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k%ld", i);
        memset(val, 'a' + (int)(i % 26), sizeof(val));
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, sizeof(val)),
                              RD_KAFKA_V_TIMESTAMP(base_ts + i * step),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "ts_produce: produce %ld: %s\n", i, rd_kafka_err2str(e));
            rc = 1;
            goto out;
        }
    }
    int64_t deadline = tsp_now_ms() + TSP_WAIT_MS;
    while (rd_kafka_outq_len(rk) > 0 && tsp_now_ms() < deadline)
        rd_kafka_poll(rk, 50);
    printf("delivered=%ld failed=%ld\n", st.delivered, st.failed);
    rc = st.delivered == count && st.failed == 0 ? 0 : 1;
out:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    return rc;
}
