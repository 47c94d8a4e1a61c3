/*
 * ctl_config: samsa-controller's key schema. The controller's own keys (controller.id, its RPC
 * endpoint in `listeners`) sit next to the cluster-wide policies it enforces, which keep
 * Kafka's broker key names and defaults (unclean.leader.election.enable, auto leader
 * rebalancing).
 */
#include "controller/ctl_config.h"

#include <stdio.h>
#include <string.h>

#define CTL_CONFIG_I32(lo) .min = (lo), .max = INT32_MAX

static const char *const ctl_config_levels[] = {"debug", "info", "warn", "error", NULL};

/* "host:port" or "PLAINTEXT://host:port". */
static int ctl_config_check_listener(const char *value, char *why, size_t why_len)
{
    if (strstr(value, "://") != NULL)
        return sm_config_check_listener(value, why, why_len);
    return sm_config_check_hostport(value, why, why_len);
}

/* clang-format off */
static const sm_config_key_t ctl_config_keys[] = {
    {.name = "controller.id", .type = SM_CONFIG_INT32, .flags = SM_CONFIG_REQUIRED,
     CTL_CONFIG_I32(0), .doc = "this controller's id, unique among controllers"},
    {.name = "listeners", .type = SM_CONFIG_STRING, .def = "127.0.0.1:9190",
     .check = ctl_config_check_listener, .doc = "RPC endpoint, host:port or PLAINTEXT://host:port"},
    {.name = "zookeeper.connect", .type = SM_CONFIG_STRING, .flags = SM_CONFIG_REQUIRED,
     .check = sm_config_check_zk_connect, .doc = "host:port[,host:port]...[/chroot]"},
    {.name = "zookeeper.session.timeout.ms", .type = SM_CONFIG_INT32, .def = "18000",
     CTL_CONFIG_I32(1), .doc = "ZooKeeper session timeout"},
    {.name = "zookeeper.connection.timeout.ms", .type = SM_CONFIG_INT32, CTL_CONFIG_I32(1),
     .doc = "wait for a ZooKeeper connection (default: session timeout)"},
    {.name = "controller.socket.timeout.ms", .type = SM_CONFIG_INT32, .def = "30000",
     CTL_CONFIG_I32(1), .doc = "timeout of a request to a broker"},
    {.name = "unclean.leader.election.enable", .type = SM_CONFIG_BOOL, .def = "false",
     .doc = "elect an out-of-sync replica when no ISR member is alive"},
    {.name = "num.partitions", .type = SM_CONFIG_INT32, .def = "1", CTL_CONFIG_I32(1),
     .doc = "partitions of a topic created without a count (auto-creation)"},
    {.name = "default.replication.factor", .type = SM_CONFIG_INT32, .def = "1",
     CTL_CONFIG_I32(1), .doc = "replication factor of a topic created without one"},
    {.name = "auto.leader.rebalance.enable", .type = SM_CONFIG_BOOL, .def = "true",
     .doc = "move leadership back to preferred replicas"},
    {.name = "leader.imbalance.check.interval.seconds", .type = SM_CONFIG_INT64, .def = "300",
     .min = 1, .max = INT64_MAX, .doc = "how often leadership balance is checked"},
    {.name = "leader.imbalance.per.broker.percentage", .type = SM_CONFIG_INT32, .def = "10",
     .min = 0, .max = 100, .doc = "imbalance that triggers a preferred election"},
    {.name = "log.level", .type = SM_CONFIG_ENUM, .def = "info", .choices = ctl_config_levels,
     .doc = "messages shown: debug, info, warn or error"},
};
/* clang-format on */

const sm_config_key_t *ctl_config_schema(size_t *n)
{
    *n = sizeof(ctl_config_keys) / sizeof(ctl_config_keys[0]);
    return ctl_config_keys;
}

sm_err_t ctl_config_load(const char *path, const char *const *overrides, size_t n_overrides,
                         sm_config_t **out, sm_errbuf_t *eb)
{
    size_t n_keys;
    const sm_config_key_t *keys = ctl_config_schema(&n_keys);

    return sm_config_load_all(keys, n_keys, path, overrides, n_overrides, NULL, out, eb);
}

void ctl_config_endpoint(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port)
{
    const char *l = sm_config_get_str(cfg, "listeners");
    const char *sep = strstr(l, "://");
    char why[160];

    /* Validation already accepted the value, so parsing cannot fail here. */
    if (sm_config_parse_hostport(sep ? sep + 3 : l, host, host_len, port, why, sizeof(why)) < 0) {
        if (host_len > 0)
            host[0] = '\0';
        *port = 0;
    }
}

sm_log_level_t ctl_config_log_level(const sm_config_t *cfg)
{
    /* The choices are listed in sm_log_level_t order. */
    return (sm_log_level_t)sm_config_get_enum(cfg, "log.level");
}
