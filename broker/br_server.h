/*
 * br_server: one running broker -- the context every broker module hangs off (STYLE.md rule
 * 8: no globals, so a test can run two in one process). It owns the storage (flusher and log
 * manager over log.dirs), the metadata cache, the control-RPC handlers and their listener on
 * control.listener, the ZooKeeper session and the registration, and the periodic storage
 * chores (flushes, checkpoints, retention), the Kafka front end (br_kafka on `listeners`) and the
 * forwarding client to the active controller (br_ctlclient).
 *
 *   br_server_new:  flusher -> log manager (log.dirs, broker.id) -> metadata cache ->
 *                   control handlers + RPC listener -> ZooKeeper session -> registration
 *                   (/cluster/id check against meta.properties, then /brokers/ids/<id>) ->
 *                   controller client (/controller watch) -> Kafka listener + APIs
 *   br_server_free: Kafka listener and connections closed -> RPC listener closed ->
 *                   ZooKeeper session closed (the registration vanishes at once) ->
 *                   controller client -> logs flushed, checkpointed, clean-shutdown marker
 *
 * A problem the broker cannot live with after start (another broker holds our id, the
 * cluster id differs from meta.properties, ZooKeeper unreachable at start) is fatal: the
 * server keeps its one-line message (br_server_fatal) and asks the loop to exit.
 *
 * DESIGN NOTES
 *   States: starting (no session) -> waiting for /cluster/id -> registered (epoch = czxid)
 *           registered --session expired--> unregistered (control requests refused with
 *           STALE_BROKER_EPOCH) --new session--> registered (new epoch)
 *           any --fatal--> failed (loop exit requested; br_server_free still cleans up)
 *   Invariant: the control handlers' broker epoch is the registration's czxid while
 *   registered and -1 otherwise.
 */
#ifndef BR_SERVER_H
#define BR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/br_control.h"
#include "broker/br_logmgr.h"
#include "broker/br_metacache.h"
#include "sm_config.h"
#include "sm_err.h"

struct event_base;

typedef struct br_server br_server_t;

/* Starts a broker on base from cfg (a validated broker configuration, borrowed: it must
 * outlive the server). Storage is opened and the control listener bound before this returns;
 * ZooKeeper and registration proceed on the loop. Errors, with one line in eb: those of
 * br_logmgr_open (a log dir in use, meta.properties of another broker, ...), SM_ERR_IO (the
 * control listener cannot bind), SM_ERR_INVALID (zookeeper.connect), SM_ERR_NOMEM. */
sm_err_t br_server_new(struct event_base *base, const sm_config_t *cfg, br_server_t **out,
                       sm_errbuf_t *eb);

/* Stops the broker (see the file comment) and frees it. With `clean`, logs are flushed and
 * the clean-shutdown marker written; returns the first storage error (line in eb). Accepts
 * NULL. */
sm_err_t br_server_free(br_server_t *s, bool clean, sm_errbuf_t *eb);

/* NULL while the broker can run; after a fatal problem, its one-line message. */
const char *br_server_fatal(const br_server_t *s);

/* The current broker epoch (registration czxid), -1 while not registered. */
int64_t br_server_broker_epoch(const br_server_t *s);

/* The port the Kafka listener (`listeners`) is bound to. */
uint16_t br_server_kafka_port(const br_server_t *s);

/* The port the control RPC listens on. */
uint16_t br_server_control_port(const br_server_t *s);

/* The parts, for the modules that come next (Kafka API, replication). Owned by the server. */
br_logmgr_t *br_server_logmgr(const br_server_t *s);
br_metacache_t *br_server_metacache(const br_server_t *s);
br_control_t *br_server_control(const br_server_t *s);

#endif
