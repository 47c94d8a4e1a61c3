/*
 * ctl_controller: one samsa-controller instance: its ZooKeeper session, the warm cluster
 * model, the election, the RPC listener and -- while it is the active controller -- the
 * control of the brokers. ctl_main owns one; tests and benches may run several in one
 * process (nothing is global).
 */
#ifndef CTL_CONTROLLER_H
#define CTL_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "sm_config.h"
#include "sm_err.h"

struct event_base;

typedef struct ctl_ctx ctl_controller_t;

/*
 * Starts a controller on base from a validated configuration (controller.id, listeners,
 * zookeeper.connect, ...; cfg is read now and not kept): listens on its RPC endpoint at once,
 * then connects to ZooKeeper, loads the cluster state and races for /controller.
 * Returns SM_OK, SM_ERR_IO (the endpoint cannot be bound: eb names it), SM_ERR_INVALID,
 * SM_ERR_NOMEM.
 */
sm_err_t ctl_controller_new(struct event_base *base, const sm_config_t *cfg, ctl_controller_t **out,
                            sm_errbuf_t *eb);

/* Stops: closes the ZooKeeper session first (so /controller vanishes at once if it was
 * ours), then the listener and the broker links. Accepts NULL. */
void ctl_controller_free(ctl_controller_t *c);

/* True while this controller is the active one. */
bool ctl_controller_active(const ctl_controller_t *c);

/* The controller epoch it won (meaningful while active). */
int32_t ctl_controller_epoch(const ctl_controller_t *c);

/* The RPC port it listens on (useful with port 0). */
uint16_t ctl_controller_port(const ctl_controller_t *c);

#endif
