/*
 * Unit tests for ctl_config: the controller's key schema and its RPC endpoint.
 */
#include "controller/ctl_config.h"

#include <criterion/criterion.h>
#include <string.h>

static sm_err_t load_with(const char *const *ov, size_t n, sm_config_t **cfg, sm_errbuf_t *eb)
{
    memset(eb, 0, sizeof(*eb));
    return ctl_config_load(NULL, ov, n, cfg, eb);
}

#define LOAD(cfg, eb, ...)                                                                         \
    load_with((const char *const[]){__VA_ARGS__},                                                  \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), (cfg), (eb))

Test(ctl_config, applies_defaults)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    char host[64];
    uint16_t port;

    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=2", "zookeeper.connect=h:2181/samsa"), SM_OK, "%s",
                 eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "controller.id"), 2);
    cr_assert_eq(sm_config_get_int(cfg, "zookeeper.session.timeout.ms"), 18000);
    cr_assert_not(sm_config_get_bool(cfg, "unclean.leader.election.enable"));
    cr_assert_eq(ctl_config_log_level(cfg), SM_LOG_INFO);
    ctl_config_endpoint(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(port, 9190);
    sm_config_free(cfg);
}

Test(ctl_config, accepts_both_listener_forms)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    char host[64];
    uint16_t port;

    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=1", "zookeeper.connect=h:1",
                      "listeners=PLAINTEXT://10.0.0.1:9500"),
                 SM_OK, "%s", eb.msg);
    ctl_config_endpoint(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "10.0.0.1");
    cr_assert_eq(port, 9500);
    sm_config_free(cfg);
    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=1", "zookeeper.connect=h:1", "listeners=h2:0"),
                 SM_OK, "%s", eb.msg);
    ctl_config_endpoint(cfg, host, sizeof(host), &port);
    cr_assert_str_eq(host, "h2");
    cr_assert_eq(port, 0);
    sm_config_free(cfg);
}

Test(ctl_config, rejects_bad_values_and_missing_keys)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(LOAD(&cfg, &eb, "zookeeper.connect=h:1"), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "missing required key controller.id");
    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=1"), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "missing required key zookeeper.connect");
    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=1", "zookeeper.connect=h:1", "listeners=SSL://h:1"),
                 SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override: bad value for listeners: 'SSL://h:1': protocol 'SSL' is "
                             "not supported (only PLAINTEXT)");
    cr_assert_eq(LOAD(&cfg, &eb, "controller.id=1", "zookeeper.connect=h:1", "broker.id=1"),
                 SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override: unknown key 'broker.id'");
    cr_assert_null(cfg);
}
