/*
 * br_config: the keys samsa-broker reads from Kafka's server.properties, with Kafka's names and
 * defaults, and the few values derived from several keys (retention, roll time).
 *
 * Code that needs a setting reads it from the validated sm_config_t with the sm_config_get_*
 * getters, by Kafka's key name: sm_config_get_int(cfg, "num.partitions").
 */
#ifndef BR_CONFIG_H
#define BR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sm_config.h"
#include "sm_err.h"
#include "sm_log.h"

/* The broker's key table (static; *n receives its length). */
const sm_config_key_t *br_config_schema(size_t *n);

/* Builds the broker configuration: reads path (NULL: no file), applies overrides[0..n) in order,
 * validates, then checks the rules that span keys. On success *out is owned by the caller
 * (sm_config_free). Errors are one line in eb: SM_ERR_IO (file unreadable), SM_ERR_CONFIG,
 * SM_ERR_NOMEM. */
sm_err_t br_config_load(const char *path, const char *const *overrides, size_t n_overrides,
                        sm_config_t **out, sm_errbuf_t *eb);

/* Endpoints split into host (without brackets; "" means any address) and port:
 * br_config_listener: the one entry of `listeners`;
 * br_config_advertised: `advertised.listeners` when set, else `listeners` (the caller replaces
 *   an empty host or port 0 by the bound address);
 * br_config_control: `control.listener`. */
void br_config_listener(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port);
void br_config_advertised(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port);
void br_config_control(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port);

/* Kafka's precedence: log.retention.ms, else log.retention.minutes, else log.retention.hours.
 * -1 (or any negative) means unlimited. */
int64_t br_config_retention_ms(const sm_config_t *cfg);

/* log.roll.ms, else log.roll.hours. */
int64_t br_config_roll_ms(const sm_config_t *cfg);

/* log.level as a logger level. */
sm_log_level_t br_config_log_level(const sm_config_t *cfg);

#endif
