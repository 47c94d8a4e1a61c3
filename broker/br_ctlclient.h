/*
 * br_ctlclient: the broker's control-RPC client to the ACTIVE controller, used to forward the
 * Kafka CreateTopics/DeleteTopics APIs and topic auto-creation (clients see this broker as
 * their "controller", DESIGN.md section 4). The active controller's endpoint is read from the
 * /controller znode (a ControllerRegistration) with a ZooKeeper watch; when it changes, the
 * old connection is dropped (its pending calls complete with SM_ERR_CLOSED) and a new sm_rpc
 * client is made. Loop thread only.
 *
 * DESIGN NOTES
 *   States: unknown (no /controller, or not read yet) <--> known(id, host:port, client)
 *   Transitions: /controller read or its watch fired -> re-read; data changed endpoint ->
 *   new client; node gone -> unknown (client freed); ZooKeeper session CONNECTED -> re-read
 *   (watches of an expired session are gone).
 */
#ifndef BR_CTLCLIENT_H
#define BR_CTLCLIENT_H

#include <stdint.h>

#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_rpc.h"
#include "sm_zk.h"

struct event_base;

typedef struct br_ctlclient br_ctlclient_t;

/* Creates the client and starts reading /controller through zk (borrowed; must outlive it).
 * broker_id is sent as sender_id. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_ctlclient_new(struct event_base *base, sm_zk_t *zk, int32_t broker_id,
                          br_ctlclient_t **out);

/* Frees the client; pending calls complete with SM_ERR_CLOSED first. Accepts NULL. */
void br_ctlclient_free(br_ctlclient_t *cc);

/* To be called from the broker's ZooKeeper session callback: re-reads /controller when a
 * session is (re)established. */
void br_ctlclient_on_session(br_ctlclient_t *cc, sm_zk_event_t ev);

/* The active controller's id, -1 when unknown. */
int32_t br_ctlclient_controller_id(const br_ctlclient_t *cc);

/* Sends req (borrowed, packed before return; sender_id set here) to the active controller.
 * Same contract as sm_rpc_client_call. SM_ERR_AGAIN when no controller is known (done is
 * then not called). */
sm_err_t br_ctlclient_call(br_ctlclient_t *cc, Samsa__Envelope *req, uint32_t timeout_ms,
                           sm_rpc_done_fn done, void *arg);

#endif
