/*
 * adm_controller: the `controller` command of samsa-admin: who the active controller is, read
 * from the ephemeral /controller znode (ControllerRegistration: id, RPC endpoint, the epoch it
 * won and when).
 */
#ifndef ADM_CONTROLLER_H
#define ADM_CONTROLLER_H

#include <stdint.h>

#include "controller/admin/adm_args.h"
#include "controller/admin/adm_json.h"
#include "samsa.pb-c.h"

/* DESIGN.md's object, with the election time after the documented keys:
 * {"id": 1, "epoch": 7, "endpoint": "127.0.0.1:9190", "since_ms": 1714564800000,
 *  "since": "2024-05-01T12:00:00.000Z"}
 * since_ms is the registration's timestamp_ms, or ctime_ms (the znode's creation) when the
 * payload has none. */
void adm_controller_json(adm_json_t *j, const Samsa__ControllerRegistration *reg, int64_t ctime_ms);

/* `controller`: prints the active controller; "no active controller" (exit 1) when none. */
int adm_controller_show(const adm_args_t *a);

#endif
