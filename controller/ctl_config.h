/*
 * ctl_config: the keys samsa-controller reads from its properties file (controller.id,
 * zookeeper.connect, listeners, ...), in the same format and with the same loader as the
 * broker's. Code reads settings from the validated sm_config_t with the sm_config_get_* getters.
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sm_config.h"
#include "sm_err.h"
#include "sm_log.h"

/* The controller's key table (static; *n receives its length). */
const sm_config_key_t *ctl_config_schema(size_t *n);

/* Builds the controller configuration: reads path (NULL: no file), applies overrides[0..n) in
 * order, validates. On success *out is owned by the caller (sm_config_free). Errors are one
 * line in eb: SM_ERR_IO (file unreadable), SM_ERR_CONFIG, SM_ERR_NOMEM. */
sm_err_t ctl_config_load(const char *path, const char *const *overrides, size_t n_overrides,
                         sm_config_t **out, sm_errbuf_t *eb);

/* The RPC endpoint from `listeners` ("host:port" or "PLAINTEXT://host:port") split into host
 * (without brackets; "" means any address) and port. */
void ctl_config_endpoint(const sm_config_t *cfg, char *host, size_t host_len, uint16_t *port);

/* log.level as a logger level. */
sm_log_level_t ctl_config_log_level(const sm_config_t *cfg);

#endif
