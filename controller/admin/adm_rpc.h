/*
 * adm_rpc: how samsa-admin sends a mutation (create, delete, alter topics) to the active
 * controller. The controller's RPC endpoint comes from the ephemeral /controller znode; the
 * request goes over one sm_rpc client on a private libevent loop, and the call follows the
 * controller if it changes meanwhile:
 *
 *   read /controller ──none──> "no active controller" (SM_ERR_NOT_FOUND)
 *        │
 *        v
 *   send to its endpoint ──answer──> done (NOT_CONTROLLER answers count as "moved")
 *        │   every 200 ms re-read /controller: gone or another node (czxid) => moved
 *        v
 *   moved: drop the connection, wait for a /controller node, send again
 *
 * All of it is bounded by the tool's --timeout-ms. A request that was on the wire when its
 * connection or controller went away may have been applied: the result says so (uncertain),
 * so that the command can confirm in ZooKeeper (e.g. a create answered TOPIC_ALREADY_EXISTS
 * on the retry of its own first attempt).
 */
#ifndef ADM_RPC_H
#define ADM_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include "controller/admin/adm_args.h"
#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_zk.h"

/* How often the call re-reads /controller while it waits, ms. */
#define ADM_RPC_POLL_MS 200

typedef struct adm_rpc_result {
    Samsa__Envelope *resp; /* owned: adm_rpc_result_deinit frees it */
    int32_t controller_id; /* the controller that answered */
    char endpoint[288];    /* its host:port */
    bool uncertain;        /* an earlier attempt was lost in flight and may have been applied */
    int attempts;          /* requests sent (1 when the first controller answered) */
} adm_rpc_result_t;

/*
 * Sends req (borrowed; its correlation id is set by the RPC layer) to the active controller
 * found through zs and waits for the answer, within a->timeout_ms in all. On SM_OK res->resp
 * holds the response (whatever error code it carries, except NOT_CONTROLLER, which makes the
 * call look for the controller again). Errors, one line in eb: SM_ERR_NOT_FOUND ("no active
 * controller": /controller was absent at the start), SM_ERR_TIMEOUT (no answer, or no new
 * controller, in time), SM_ERR_CORRUPT (/controller unreadable), SM_ERR_NOMEM, SM_ERR_IO.
 * res is always initialised: call adm_rpc_result_deinit.
 */
sm_err_t adm_rpc_call(const adm_args_t *a, sm_zk_sync_t *zs, Samsa__Envelope *req,
                      adm_rpc_result_t *res, sm_errbuf_t *eb);

void adm_rpc_result_deinit(adm_rpc_result_t *res);

/* The top-level Kafka error code of a response: an ErrorResponse's, or the error_code field
 * of whatever response the envelope carries (0 when it has none). *message (if not NULL)
 * gets its error_message or NULL. */
int32_t adm_rpc_error_code(const Samsa__Envelope *resp, const char **message);

#endif
