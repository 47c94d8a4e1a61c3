/*
 * Unit tests for br_zkreg's pure parts: who owns an existing registration node, and the
 * BrokerRegistration payload built from a broker configuration. The ZooKeeper state machine
 * itself runs against a real server in tests/integration/0010_broker_registration.sh.
 */
#include "broker/br_zkreg.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "broker/br_config.h"
#include "samsa.pb-c.h"
#include "sm_log.h"

static sm_config_t *cfg;
static Samsa__BrokerRegistration *reg;
static uint8_t *payload;

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
}

static void teardown(void)
{
    if (reg != NULL)
        samsa__broker_registration__free_unpacked(reg, NULL);
    free(payload);
    sm_config_free(cfg);
    reg = NULL;
    payload = NULL;
    cfg = NULL;
}

TestSuite(br_zkreg, .init = setup, .fini = teardown);

static void build(const char *const *extra, size_t n_extra, uint16_t control_port)
{
    const char *ov[16] = {"broker.id=4", "zookeeper.connect=127.0.0.1:2181/samsa",
                          "log.dirs=/tmp/none", "listeners=PLAINTEXT://127.0.0.1:9092",
                          "control.listener=127.0.0.1:9191"};
    size_t n = 5, len = 0;
    sm_errbuf_t eb = {{0}};

    for (size_t i = 0; i < n_extra; i++)
        ov[n++] = extra[i];
    cr_assert_eq(br_config_load(NULL, ov, n, &cfg, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_zkreg_payload(cfg, control_port, 12345, &payload, &len), SM_OK);
    reg = samsa__broker_registration__unpack(NULL, len, payload);
    cr_assert_not_null(reg);
}

Test(br_zkreg, classify_tells_ours_stale_and_foreign_owners)
{
    int64_t old[2] = {0x11, 0x22};

    cr_assert_eq(br_zkreg_classify(0x33, 0x33, old, 2), BR_ZKREG_OWNER_US);
    cr_assert_eq(br_zkreg_classify(0x22, 0x33, old, 2), BR_ZKREG_OWNER_STALE);
    cr_assert_eq(br_zkreg_classify(0x11, 0x33, old, 2), BR_ZKREG_OWNER_STALE);
    cr_assert_eq(br_zkreg_classify(0x44, 0x33, old, 2), BR_ZKREG_OWNER_OTHER);
    cr_assert_eq(br_zkreg_classify(0x44, 0x33, NULL, 0), BR_ZKREG_OWNER_OTHER);
    cr_assert_eq(br_zkreg_classify(0, 0, NULL, 0), BR_ZKREG_OWNER_OTHER,
                 "a persistent node is never ours");
}

Test(br_zkreg, payload_carries_id_endpoints_rack_time_and_version)
{
    const char *extra[] = {"broker.rack=r2"};

    build(extra, 1, 0);
    cr_assert_eq(reg->broker_id, 4);
    cr_assert_eq(reg->n_endpoints, 1);
    cr_assert_str_eq(reg->endpoints[0]->listener, "PLAINTEXT");
    cr_assert_str_eq(reg->endpoints[0]->host, "127.0.0.1");
    cr_assert_eq(reg->endpoints[0]->port, 9092);
    cr_assert_not_null(reg->control_endpoint);
    cr_assert_str_eq(reg->control_endpoint->listener, "CONTROL");
    cr_assert_eq(reg->control_endpoint->port, 9191);
    cr_assert_str_eq(reg->rack, "r2");
    cr_assert_eq(reg->start_time_ms, 12345);
    cr_assert_str_eq(reg->software_version, BR_ZKREG_SOFTWARE);
}

Test(br_zkreg, payload_prefers_advertised_listener_and_bound_control_port)
{
    const char *extra[] = {"advertised.listeners=PLAINTEXT://kafka.example:19092",
                           "control.listener=127.0.0.1:0"};

    build(extra, 2, 40001);
    cr_assert_str_eq(reg->endpoints[0]->host, "kafka.example");
    cr_assert_eq(reg->endpoints[0]->port, 19092);
    cr_assert_eq(reg->control_endpoint->port, 40001);
    cr_assert_null(reg->rack, "no broker.rack: no rack");
}

Test(br_zkreg, payload_replaces_a_wildcard_host_by_the_host_name)
{
    const char *extra[] = {"listeners=PLAINTEXT://0.0.0.0:9092"};

    build(extra, 1, 0);
    cr_assert_str_neq(reg->endpoints[0]->host, "0.0.0.0");
    cr_assert_str_neq(reg->endpoints[0]->host, "");
}
