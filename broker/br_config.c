/*
 * br_config: samsa-broker's key schema (Kafka's server.properties names and defaults) and the
 * checks that span several keys. Keys that Kafka's stock server.properties sets but Samsa does
 * not use (thread counts, transaction log) are accepted so that file loads unchanged.
 */
#include "broker/br_config.h"

#include <stdio.h>
#include <string.h>

#define BR_CONFIG_I32(lo) .min = (lo), .max = INT32_MAX
#define BR_CONFIG_I64(lo) .min = (lo), .max = INT64_MAX

static const char *const br_config_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const br_config_ts_types[] = {"CreateTime", "LogAppendTime", NULL};

/* clang-format off */
static const sm_config_key_t br_config_keys[] = {
    /* identity and endpoints */
    {.name = "broker.id", .type = SM_CONFIG_INT32, .flags = SM_CONFIG_REQUIRED, BR_CONFIG_I32(0),
     .doc = "this broker's id, unique in the cluster"},
    {.name = "broker.rack", .type = SM_CONFIG_STRING, .doc = "rack of this broker (optional)"},
    {.name = "listeners", .type = SM_CONFIG_LIST, .def = "PLAINTEXT://127.0.0.1:9092",
     .check = sm_config_check_listener, .doc = "Kafka protocol endpoint, PLAINTEXT://host:port"},
    {.name = "advertised.listeners", .type = SM_CONFIG_LIST, .check = sm_config_check_listener,
     .doc = "endpoint given to clients (default: listeners)"},
    {.name = "control.listener", .type = SM_CONFIG_STRING, .def = "127.0.0.1:9191",
     .check = sm_config_check_hostport, .doc = "control RPC endpoint (host:port) for the controller"},
    /* ZooKeeper */
    {.name = "zookeeper.connect", .type = SM_CONFIG_STRING, .flags = SM_CONFIG_REQUIRED,
     .check = sm_config_check_zk_connect, .doc = "host:port[,host:port]...[/chroot]"},
    {.name = "zookeeper.session.timeout.ms", .type = SM_CONFIG_INT32, .def = "18000",
     BR_CONFIG_I32(1), .doc = "ZooKeeper session timeout"},
    {.name = "zookeeper.connection.timeout.ms", .type = SM_CONFIG_INT32, BR_CONFIG_I32(1),
     .doc = "wait for a ZooKeeper connection (default: session timeout)"},
    /* topics */
    {.name = "num.partitions", .type = SM_CONFIG_INT32, .def = "1", BR_CONFIG_I32(1),
     .doc = "partitions of an auto-created topic"},
    {.name = "default.replication.factor", .type = SM_CONFIG_INT32, .def = "1", BR_CONFIG_I32(1),
     .doc = "replication factor of an auto-created topic"},
    {.name = "min.insync.replicas", .type = SM_CONFIG_INT32, .def = "1", BR_CONFIG_I32(1),
     .doc = "ISR size an acks=all produce needs"},
    {.name = "auto.create.topics.enable", .type = SM_CONFIG_BOOL, .def = "true",
     .doc = "create unknown topics on metadata requests"},
    {.name = "delete.topic.enable", .type = SM_CONFIG_BOOL, .def = "true",
     .doc = "allow topic deletion"},
    {.name = "unclean.leader.election.enable", .type = SM_CONFIG_BOOL, .def = "false",
     .doc = "elect an out-of-sync replica when no ISR member is alive"},
    /* the log */
    {.name = "log.dirs", .type = SM_CONFIG_LIST, .flags = SM_CONFIG_REQUIRED,
     .doc = "comma-separated data folders"},
    {.name = "log.dir", .type = SM_CONFIG_LIST, .alias_of = "log.dirs"},
    {.name = "log.segment.bytes", .type = SM_CONFIG_INT32, .def = "1073741824", BR_CONFIG_I32(14),
     .doc = "roll a segment at this size"},
    {.name = "log.roll.ms", .type = SM_CONFIG_INT64, BR_CONFIG_I64(1),
     .doc = "roll a segment at this age (overrides log.roll.hours)"},
    {.name = "log.roll.hours", .type = SM_CONFIG_INT32, .def = "168", BR_CONFIG_I32(1),
     .doc = "roll a segment at this age"},
    {.name = "log.retention.ms", .type = SM_CONFIG_INT64,
     .doc = "delete segments older than this; -1 keeps forever"},
    {.name = "log.retention.minutes", .type = SM_CONFIG_INT32,
     .doc = "as log.retention.ms, in minutes"},
    {.name = "log.retention.hours", .type = SM_CONFIG_INT32, .def = "168",
     .doc = "as log.retention.ms, in hours"},
    {.name = "log.retention.bytes", .type = SM_CONFIG_INT64, .def = "-1",
     .doc = "per-partition size limit; -1 for none"},
    {.name = "log.retention.check.interval.ms", .type = SM_CONFIG_INT64, .def = "300000",
     BR_CONFIG_I64(1), .doc = "how often retention runs"},
    {.name = "log.index.interval.bytes", .type = SM_CONFIG_INT32, .def = "4096", BR_CONFIG_I32(0),
     .doc = "bytes between offset index entries"},
    {.name = "log.index.size.max.bytes", .type = SM_CONFIG_INT32, .def = "10485760",
     BR_CONFIG_I32(4), .doc = "maximum size of an index file"},
    {.name = "log.flush.interval.messages", .type = SM_CONFIG_INT64,
     .def = "9223372036854775807", BR_CONFIG_I64(1), .doc = "fsync after this many messages"},
    {.name = "log.flush.interval.ms", .type = SM_CONFIG_INT64, BR_CONFIG_I64(0),
     .doc = "fsync after this long (default: never by time)"},
    {.name = "log.writeback.bytes", .type = SM_CONFIG_INT64, .def = "1048576", BR_CONFIG_I64(0),
     .doc = "start writing a partition's appends to disk every this many bytes (0: the kernel's "
            "own writeback)"},
    {.name = "log.preallocate", .type = SM_CONFIG_BOOL, .def = "false",
     .doc = "reserve a segment's blocks (up to segment.bytes, size kept) with its first "
            "writeback, so appends do not wait for block allocation between rolls; needs "
            "log.writeback.bytes > 0"},
    {.name = "log.flush.offset.checkpoint.interval.ms", .type = SM_CONFIG_INT32, .def = "60000",
     BR_CONFIG_I32(0), .doc = "how often the recovery point is written"},
    {.name = "message.timestamp.type", .type = SM_CONFIG_ENUM, .def = "CreateTime",
     .choices = br_config_ts_types, .doc = "CreateTime or LogAppendTime"},
    {.name = "log.message.timestamp.type", .type = SM_CONFIG_ENUM, .choices = br_config_ts_types,
     .alias_of = "message.timestamp.type"},
    {.name = "message.max.bytes", .type = SM_CONFIG_INT32, .def = "1048588", BR_CONFIG_I32(0),
     .doc = "largest record batch accepted"},
    /* network */
    {.name = "socket.request.max.bytes", .type = SM_CONFIG_INT32, .def = "104857600",
     BR_CONFIG_I32(1), .doc = "largest request accepted"},
    {.name = "socket.send.buffer.bytes", .type = SM_CONFIG_INT32, .def = "-1", BR_CONFIG_I32(-1),
     .doc = "SO_SNDBUF of client connections; -1 (or 0) for the OS default, which autotunes"},
    {.name = "socket.receive.buffer.bytes", .type = SM_CONFIG_INT32, .def = "-1",
     BR_CONFIG_I32(-1),
     .doc = "SO_RCVBUF of client connections; -1 (or 0) for the OS default, which autotunes"},
    {.name = "connections.max.idle.ms", .type = SM_CONFIG_INT64, .def = "600000",
     .doc = "close connections idle this long"},
    /* replication */
    {.name = "replica.lag.time.max.ms", .type = SM_CONFIG_INT64, .def = "30000", BR_CONFIG_I64(1),
     .doc = "drop a follower from the ISR after this long behind"},
    {.name = "replica.fetch.max.bytes", .type = SM_CONFIG_INT32, .def = "1048576",
     BR_CONFIG_I32(0), .doc = "bytes per partition in a follower fetch"},
    {.name = "replica.fetch.response.max.bytes", .type = SM_CONFIG_INT32, .def = "10485760",
     BR_CONFIG_I32(0), .doc = "bytes per follower fetch response"},
    {.name = "replica.fetch.wait.max.ms", .type = SM_CONFIG_INT32, .def = "500", BR_CONFIG_I32(0),
     .doc = "long-poll time of a follower fetch"},
    {.name = "replica.fetch.min.bytes", .type = SM_CONFIG_INT32, .def = "1", BR_CONFIG_I32(1),
     .doc = "bytes a follower fetch waits for"},
    {.name = "replica.socket.timeout.ms", .type = SM_CONFIG_INT32, .def = "30000",
     BR_CONFIG_I32(1), .doc = "follower fetch request timeout"},
    {.name = "replica.fetch.backoff.ms", .type = SM_CONFIG_INT32, .def = "1000", BR_CONFIG_I32(1),
     .doc = "a follower waits this long after a fetch error"},
    {.name = "replica.high.watermark.checkpoint.interval.ms", .type = SM_CONFIG_INT64,
     .def = "5000", BR_CONFIG_I64(1), .doc = "how often high watermarks are written"},
    {.name = "num.replica.fetchers", .type = SM_CONFIG_INT32, .def = "1", BR_CONFIG_I32(1),
     .doc = "fetcher connections per source broker"},
    {.name = "controlled.shutdown.enable", .type = SM_CONFIG_BOOL, .def = "true",
     .doc = "move leadership away before stopping"},
    /* groups and offsets */
    {.name = "offsets.topic.num.partitions", .type = SM_CONFIG_INT32, .def = "50",
     BR_CONFIG_I32(1), .doc = "partitions of __consumer_offsets"},
    {.name = "offsets.topic.replication.factor", .type = SM_CONFIG_INT32, .def = "3",
     .min = 1, .max = 32767, .doc = "replication factor of __consumer_offsets"},
    {.name = "offsets.topic.segment.bytes", .type = SM_CONFIG_INT32, .def = "104857600",
     BR_CONFIG_I32(1), .doc = "segment size of __consumer_offsets"},
    {.name = "offsets.retention.minutes", .type = SM_CONFIG_INT32, .def = "10080",
     BR_CONFIG_I32(1), .doc = "keep committed offsets of empty groups this long"},
    {.name = "offsets.retention.check.interval.ms", .type = SM_CONFIG_INT64, .def = "600000",
     BR_CONFIG_I64(1), .doc = "how often expired offsets are removed"},
    {.name = "offsets.commit.timeout.ms", .type = SM_CONFIG_INT32, .def = "5000",
     BR_CONFIG_I32(1), .doc = "wait for an offset commit to replicate"},
    {.name = "group.initial.rebalance.delay.ms", .type = SM_CONFIG_INT32, .def = "3000",
     BR_CONFIG_I32(0), .doc = "wait for more members before the first rebalance"},
    {.name = "group.min.session.timeout.ms", .type = SM_CONFIG_INT32, .def = "6000",
     BR_CONFIG_I32(0), .doc = "smallest consumer session timeout allowed"},
    {.name = "group.max.session.timeout.ms", .type = SM_CONFIG_INT32, .def = "1800000",
     BR_CONFIG_I32(0), .doc = "largest consumer session timeout allowed"},
    {.name = "num.io.threads", .type = SM_CONFIG_INT32, .def = "8", .min = 1, .max = 64,
     .doc = "threads writing the partitions' appends; each partition uses one"},
    /* Samsa's own */
    {.name = "log.level", .type = SM_CONFIG_ENUM, .def = "info", .choices = br_config_levels,
     .doc = "messages shown: debug, info, warn or error"},
    /* accepted for compatibility with Kafka's stock server.properties; unused */
    {.name = "num.network.threads", .type = SM_CONFIG_INT32, .def = "3", BR_CONFIG_I32(1),
     .doc = "(unused: one event loop)"},

    {.name = "num.recovery.threads.per.data.dir", .type = SM_CONFIG_INT32, .def = "1",
     BR_CONFIG_I32(1), .doc = "(unused)"},
    {.name = "transaction.state.log.replication.factor", .type = SM_CONFIG_INT32, .def = "3",
     BR_CONFIG_I32(1), .doc = "(unused: no transactions)"},
    {.name = "transaction.state.log.min.isr", .type = SM_CONFIG_INT32, .def = "2",
     BR_CONFIG_I32(1), .doc = "(unused: no transactions)"},
};
/* clang-format on */

const sm_config_key_t *br_config_schema(size_t *n)
{
    *n = sizeof(br_config_keys) / sizeof(br_config_keys[0]);
    return br_config_keys;
}

/* The rules that a per-key check cannot see. */
static sm_err_t br_config_check(const sm_config_t *cfg, sm_errbuf_t *eb)
{
    char where[256], host[256];
    const char *const *l;
    uint16_t port, cport;
    size_t n;

    (void)sm_config_get_list(cfg, "listeners", &n);
    if (n != 1)
        return sm_errbuf_set(eb, SM_ERR_CONFIG,
                             "%sbad value for listeners: exactly one PLAINTEXT listener is "
                             "supported",
                             sm_config_origin(cfg, "listeners", where, sizeof(where)));
    l = sm_config_get_list(cfg, "advertised.listeners", &n);
    if (n > 1)
        return sm_errbuf_set(eb, SM_ERR_CONFIG,
                             "%sbad value for advertised.listeners: at most one listener",
                             sm_config_origin(cfg, "advertised.listeners", where, sizeof(where)));
    if (n == 1) {
        br_config_advertised(cfg, host, sizeof(host), &port);
        if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || port == 0)
            return sm_errbuf_set(
                eb, SM_ERR_CONFIG,
                "%sbad value for advertised.listeners: '%s' needs a host clients can reach and a "
                "port",
                sm_config_origin(cfg, "advertised.listeners", where, sizeof(where)), l[0]);
    }
    br_config_listener(cfg, host, sizeof(host), &port);
    br_config_control(cfg, host, sizeof(host), &cport);
    if (port != 0 && port == cport)
        return sm_errbuf_set(
            eb, SM_ERR_CONFIG, "%sbad value for control.listener: port %u is also in listeners",
            sm_config_origin(cfg, "control.listener", where, sizeof(where)), (unsigned)cport);
    if (sm_config_get_int(cfg, "group.min.session.timeout.ms") >
        sm_config_get_int(cfg, "group.max.session.timeout.ms"))
        return sm_errbuf_set(
            eb, SM_ERR_CONFIG,
            "%sbad value for group.min.session.timeout.ms: greater than "
            "group.max.session.timeout.ms",
            sm_config_origin(cfg, "group.min.session.timeout.ms", where, sizeof(where)));
    return SM_OK;
}

sm_err_t br_config_load(const char *path, const char *const *overrides, size_t n_overrides,
                        sm_config_t **out, sm_errbuf_t *eb)
{
    size_t n_keys;
    const sm_config_key_t *keys = br_config_schema(&n_keys);

    return sm_config_load_all(keys, n_keys, path, overrides, n_overrides, br_config_check, out, eb);
}

/* Splits an endpoint that validation already accepted ("PLAINTEXT://h:p" or "h:p"). */
static void br_config_split(const char *value, char *host, size_t host_len, uint16_t *port)
{
    const char *sep = strstr(value, "://");
    char why[160];

    if (sm_config_parse_hostport(sep ? sep + 3 : value, host, host_len, port, why, sizeof(why)) <
        0) {
        if (host_len > 0)
            host[0] = '\0';
        *port = 0;
    }
}

void br_config_listener(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port)
{
    size_t n;
    const char *const *l = sm_config_get_list(cfg, "listeners", &n);

    br_config_split(n > 0 ? l[0] : "", host, host_len, port);
}

void br_config_advertised(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port)
{
    size_t n;
    const char *const *l = sm_config_get_list(cfg, "advertised.listeners", &n);

    if (n == 0)
        l = sm_config_get_list(cfg, "listeners", &n);
    br_config_split(n > 0 ? l[0] : "", host, host_len, port);
}

void br_config_control(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port)
{
    br_config_split(sm_config_get_str(cfg, "control.listener"), host, host_len, port);
}

/* value * unit, or -1 when negative or beyond int64 (Kafka: negative means unlimited). */
static int64_t br_config_scale(int64_t value, int64_t unit)
{
    if (value < 0)
        return -1;
    if (value > INT64_MAX / unit)
        return INT64_MAX;
    return value * unit;
}

int64_t br_config_retention_ms(const sm_config_t *cfg)
{
    if (sm_config_has(cfg, "log.retention.ms")) {
        int64_t ms = sm_config_get_i64(cfg, "log.retention.ms");

        return ms < 0 ? -1 : ms;
    }
    if (sm_config_has(cfg, "log.retention.minutes"))
        return br_config_scale(sm_config_get_i64(cfg, "log.retention.minutes"), 60000);
    return br_config_scale(sm_config_get_i64(cfg, "log.retention.hours"), 3600000);
}

int64_t br_config_roll_ms(const sm_config_t *cfg)
{
    if (sm_config_has(cfg, "log.roll.ms"))
        return sm_config_get_i64(cfg, "log.roll.ms");
    return br_config_scale(sm_config_get_i64(cfg, "log.roll.hours"), 3600000);
}

sm_log_level_t br_config_log_level(const sm_config_t *cfg)
{
    /* The choices are listed in sm_log_level_t order. */
    return (sm_log_level_t)sm_config_get_enum(cfg, "log.level");
}
