/*
 * adm_brokers: the `brokers` commands of samsa-admin, read from the ephemeral registrations
 * under /brokers/ids (BrokerRegistration payloads; the broker epoch is the znode's czxid).
 *
 *   brokers list    one snapshot (sm_zk_sync)
 *   brokers watch   a live stream: a child watch on /brokers/ids on an asynchronous sm_zk
 *                   session; every firing is diffed against the brokers seen so far and each
 *                   change printed as one line with its time, until SIGINT or SIGTERM
 */
#ifndef ADM_BROKERS_H
#define ADM_BROKERS_H

#include <stddef.h>
#include <stdint.h>

#include "controller/admin/adm_args.h"
#include "controller/admin/adm_json.h"
#include "controller/admin/adm_table.h"
#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_zk.h"

/* One registered broker. */
typedef struct adm_broker {
    int32_t id;
    int64_t epoch;                  /* czxid of its znode */
    Samsa__BrokerRegistration *reg; /* owned */
} adm_broker_t;

/* Live broker ids, ascending: *ids is malloc'd (free it; NULL when none). */
sm_err_t adm_brokers_ids(sm_zk_sync_t *zs, int32_t **ids, size_t *n, sm_errbuf_t *eb);

/* Every registered broker, ascending by id: *out is a malloc'd array (free with
 * adm_brokers_free). Brokers that vanish while being read are skipped. */
sm_err_t adm_brokers_load(sm_zk_sync_t *zs, adm_broker_t **out, size_t *n, sm_errbuf_t *eb);

void adm_brokers_free(adm_broker_t *b, size_t n);

/* One broker as DESIGN.md's JSON object, with extra keys after the documented ones:
 * {"id": 1, "endpoints": ["PLAINTEXT://127.0.0.1:9092"], "rack": null,
 *  "control_endpoint": "127.0.0.1:9093", "broker_epoch": 4294967321,
 *  "start_time_ms": 1714564800000, "up_since": "2024-05-01T12:00:00.000Z"} */
void adm_brokers_json(adm_json_t *j, const adm_broker_t *b);

/* The `brokers list` table: ID ENDPOINTS CONTROL RACK EPOCH UP_SINCE. */
sm_err_t adm_brokers_table_new(adm_table_t **out);
void adm_brokers_table_row(adm_table_t *t, const adm_broker_t *b);

/* "PLAINTEXT://127.0.0.1:9092,PLAINTEXT://..." of reg's Kafka endpoints ("-" for none). */
void adm_brokers_endpoints(const Samsa__BrokerRegistration *reg, char *buf, size_t len);

int adm_brokers_list(const adm_args_t *a);

/* --count N stops after N joins/departures (the brokers present at the start are printed
 * first as "present" and not counted). */
int adm_brokers_watch(const adm_args_t *a);

#endif
