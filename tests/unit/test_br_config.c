/*
 * Unit tests for br_config: the broker's key schema, Kafka's defaults, the checks that span
 * keys and the derived values (retention, roll time, endpoints).
 */
#include "broker/br_config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQ "broker.id=1", "log.dirs=/tmp/samsa-a", "zookeeper.connect=127.0.0.1:2181"

static sm_err_t load_with(const char *const *ov, size_t n, sm_config_t **cfg, sm_errbuf_t *eb)
{
    memset(eb, 0, sizeof(*eb));
    return br_config_load(NULL, ov, n, cfg, eb);
}

#define LOAD(cfg, eb, ...)                                                                         \
    load_with((const char *const[]){__VA_ARGS__},                                                  \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), (cfg), (eb))

/* cfg is passed by address: it is read after LOAD() has run. */
static void expect_error(sm_err_t err, sm_config_t **cfg, const sm_errbuf_t *eb, const char *msg)
{
    cr_assert_neq(err, SM_OK);
    cr_assert_null(*cfg);
    cr_assert_str_eq(eb->msg, msg);
}

Test(br_config, applies_kafka_defaults)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    size_t n;
    const char *const *l;

    cr_assert_eq(LOAD(&cfg, &eb, REQ), SM_OK, "%s", eb.msg);
    l = sm_config_get_list(cfg, "listeners", &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(l[0], "PLAINTEXT://127.0.0.1:9092");
    cr_assert_not(sm_config_has(cfg, "advertised.listeners"));
    cr_assert_eq(sm_config_get_int(cfg, "zookeeper.session.timeout.ms"), 18000);
    cr_assert_eq(sm_config_get_int(cfg, "num.partitions"), 1);
    cr_assert_eq(sm_config_get_int(cfg, "default.replication.factor"), 1);
    cr_assert_eq(sm_config_get_int(cfg, "min.insync.replicas"), 1);
    cr_assert(sm_config_get_bool(cfg, "auto.create.topics.enable"));
    cr_assert_eq(sm_config_get_int(cfg, "log.segment.bytes"), 1073741824);
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.bytes"), -1);
    cr_assert_eq(sm_config_get_i64(cfg, "log.flush.interval.messages"), INT64_MAX);
    cr_assert_not(sm_config_has(cfg, "log.flush.interval.ms"));
    cr_assert_eq(sm_config_get_i64(cfg, "replica.lag.time.max.ms"), 30000);
    cr_assert_eq(sm_config_get_int(cfg, "offsets.topic.num.partitions"), 50);
    cr_assert_eq(sm_config_get_int(cfg, "offsets.topic.replication.factor"), 3);
    cr_assert_not(sm_config_get_bool(cfg, "unclean.leader.election.enable"));
    cr_assert_eq(sm_config_get_int(cfg, "log.index.interval.bytes"), 4096);
    cr_assert_eq(sm_config_get_int(cfg, "log.index.size.max.bytes"), 10485760);
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.check.interval.ms"), 300000);
    cr_assert_eq(sm_config_get_enum(cfg, "message.timestamp.type"), 0);
    cr_assert_eq(sm_config_get_int(cfg, "message.max.bytes"), 1048588);
    cr_assert_eq(sm_config_get_int(cfg, "socket.request.max.bytes"), 104857600);
    cr_assert_eq(sm_config_get_i64(cfg, "connections.max.idle.ms"), 600000);
    cr_assert_eq(sm_config_get_int(cfg, "replica.fetch.max.bytes"), 1048576);
    cr_assert_eq(sm_config_get_int(cfg, "group.initial.rebalance.delay.ms"), 3000);
    cr_assert_eq(br_config_retention_ms(cfg), 168LL * 3600 * 1000);
    cr_assert_eq(br_config_roll_ms(cfg), 168LL * 3600 * 1000);
    cr_assert_eq(br_config_log_level(cfg), SM_LOG_INFO);
    sm_config_free(cfg);
}

Test(br_config, documents_every_key)
{
    size_t n;
    const sm_config_key_t *k = br_config_schema(&n);

    for (size_t i = 0; i < n; i++)
        cr_assert(k[i].alias_of != NULL || (k[i].doc != NULL && k[i].doc[0] != '\0'),
                  "key %s has no doc", k[i].name);
}

Test(br_config, reports_missing_required_keys)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    expect_error(LOAD(&cfg, &eb, "log.dirs=/a", "zookeeper.connect=h:1"), &cfg, &eb,
                 "missing required key broker.id");
    expect_error(LOAD(&cfg, &eb, "broker.id=1", "zookeeper.connect=h:1"), &cfg, &eb,
                 "missing required key log.dirs");
    expect_error(LOAD(&cfg, &eb, "broker.id=1", "log.dirs=/a"), &cfg, &eb,
                 "missing required key zookeeper.connect");
    expect_error(LOAD(&cfg, &eb, REQ, "broker.id=-1"), &cfg, &eb,
                 "--override: bad value for broker.id: -1 is less than the minimum 0");
}

Test(br_config, accepts_log_dir_for_log_dirs)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(LOAD(&cfg, &eb, "broker.id=1", "log.dir=/old", "zookeeper.connect=h:1"), SM_OK,
                 "%s", eb.msg);
    cr_assert_str_eq(sm_config_get_str(cfg, "log.dirs"), "/old");
    sm_config_free(cfg);
}

Test(br_config, checks_listeners)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    expect_error(LOAD(&cfg, &eb, REQ, "listeners=localhost:9092"), &cfg, &eb,
                 "--override: bad value for listeners: 'localhost:9092' is not "
                 "PLAINTEXT://host:port");
    expect_error(LOAD(&cfg, &eb, REQ, "listeners=PLAINTEXT://h:1,PLAINTEXT://h:2"), &cfg, &eb,
                 "--override: bad value for listeners: exactly one PLAINTEXT listener is "
                 "supported");
    expect_error(LOAD(&cfg, &eb, REQ, "advertised.listeners=PLAINTEXT://0.0.0.0:9092"), &cfg, &eb,
                 "--override: bad value for advertised.listeners: 'PLAINTEXT://0.0.0.0:9092' "
                 "needs a host clients can reach and a port");
    expect_error(LOAD(&cfg, &eb, REQ, "listeners=PLAINTEXT://:9300", "control.listener=h:9300"),
                 &cfg, &eb,
                 "--override: bad value for control.listener: port 9300 is also in "
                 "listeners");
    expect_error(LOAD(&cfg, &eb, REQ, "control.listener=h"), &cfg, &eb,
                 "--override: bad value for control.listener: 'h' is not host:port");
}

Test(br_config, splits_endpoints)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    char host[64];
    uint16_t port;

    cr_assert_eq(LOAD(&cfg, &eb, REQ, "listeners=PLAINTEXT://[::1]:0", "control.listener=:7000"),
                 SM_OK, "%s", eb.msg);
    br_config_listener(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 0);
    br_config_advertised(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "::1");
    br_config_control(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "");
    cr_assert_eq(port, 7000);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "advertised.listeners=PLAINTEXT://b1.example:19092"), SM_OK,
                 "%s", eb.msg);
    br_config_advertised(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "b1.example");
    cr_assert_eq(port, 19092);
    sm_config_free(cfg);
}

Test(br_config, derives_retention_with_kafka_precedence)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.retention.hours=1"), SM_OK);
    cr_assert_eq(br_config_retention_ms(cfg), 3600000);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.retention.hours=1", "log.retention.minutes=2"), SM_OK);
    cr_assert_eq(br_config_retention_ms(cfg), 120000);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.retention.minutes=2", "log.retention.ms=5"), SM_OK);
    cr_assert_eq(br_config_retention_ms(cfg), 5);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.retention.ms=-1"), SM_OK);
    cr_assert_eq(br_config_retention_ms(cfg), -1);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.retention.hours=-5"), SM_OK);
    cr_assert_eq(br_config_retention_ms(cfg), -1);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, REQ, "log.roll.hours=2", "log.roll.ms=99"), SM_OK);
    cr_assert_eq(br_config_roll_ms(cfg), 99);
    sm_config_free(cfg);
}

Test(br_config, accepts_timestamp_type_and_log_level)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(
        LOAD(&cfg, &eb, REQ, "log.message.timestamp.type=LogAppendTime", "log.level=debug"), SM_OK,
        "%s", eb.msg);
    cr_assert_eq(sm_config_get_enum(cfg, "message.timestamp.type"), 1);
    cr_assert_eq(br_config_log_level(cfg), SM_LOG_DEBUG);
    sm_config_free(cfg);
    expect_error(LOAD(&cfg, &eb, REQ, "message.timestamp.type=Now"), &cfg, &eb,
                 "--override: bad value for message.timestamp.type: 'Now' is not one of "
                 "CreateTime, LogAppendTime");
}

Test(br_config, rejects_segment_smaller_than_kafka_minimum)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    expect_error(LOAD(&cfg, &eb, REQ, "log.segment.bytes=13"), &cfg, &eb,
                 "--override: bad value for log.segment.bytes: 13 is less than the minimum 14");
}

/* The server.properties that ships with Kafka 2.x (comments dropped), with our paths. */
static const char kafka_stock[] = "broker.id=0\n"
                                  "num.network.threads=3\n"
                                  "num.io.threads=8\n"
                                  "socket.send.buffer.bytes=102400\n"
                                  "socket.receive.buffer.bytes=102400\n"
                                  "socket.request.max.bytes=104857600\n"
                                  "log.dirs=/tmp/kafka-logs\n"
                                  "num.partitions=1\n"
                                  "num.recovery.threads.per.data.dir=1\n"
                                  "offsets.topic.replication.factor=1\n"
                                  "transaction.state.log.replication.factor=1\n"
                                  "transaction.state.log.min.isr=1\n"
                                  "log.retention.hours=168\n"
                                  "log.segment.bytes=1073741824\n"
                                  "log.retention.check.interval.ms=300000\n"
                                  "zookeeper.connect=localhost:2181\n"
                                  "zookeeper.connection.timeout.ms=18000\n"
                                  "group.initial.rebalance.delay.ms=0\n";

Test(br_config, loads_kafka_stock_server_properties)
{
    char path[] = "/tmp/samsa-test-br-config-XXXXXX";
    int fd = mkstemp(path);
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    const char *const ov[] = {"broker.id=4"};

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, kafka_stock, sizeof(kafka_stock) - 1), (ssize_t)sizeof(kafka_stock) - 1);
    close(fd);
    cr_assert_eq(br_config_load(path, ov, 1, &cfg, &eb), SM_OK, "%s", eb.msg);
    unlink(path);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 4);
    cr_assert_eq(sm_config_get_int(cfg, "group.initial.rebalance.delay.ms"), 0);
    cr_assert_eq(sm_config_get_int(cfg, "offsets.topic.replication.factor"), 1);
    sm_config_free(cfg);
}

Test(br_config, reports_unreadable_file)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(br_config_load("/nonexistent/server.properties", NULL, 0, &cfg, &eb), SM_ERR_IO);
    cr_assert_null(cfg);
    cr_assert_str_eq(eb.msg, "cannot read /nonexistent/server.properties: No such file or "
                             "directory");
}
