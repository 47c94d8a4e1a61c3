/*
 * br_kafka: the broker's Kafka protocol front end -- the listener on `listeners`, the
 * connections (br_kconn.c), the request header (br_kheader.c) and the dispatch table by API key
 * and version. Request handlers (br_api_*.c) register here and never touch sockets: they get a
 * br_kreq_t holding the decoded header and a reader over the body, write the response body with
 * an sm_writer (plus, for Fetch, file slices sent with sendfile), and complete the request now
 * or later. Everything runs on the loop thread.
 *
 *   socket --> br_kconn (frame <= socket.request.max.bytes, else close before buffering)
 *          --> br_kheader (api key, version, correlation id, client id, tags if flexible)
 *          --> table[api_key]: version in [min, max]? else close (ApiVersions excepted)
 *          --> handler(arg, req) ... br_kreq_respond(req)  (now, or later from a timer)
 *          --> the connection's queue: responses leave in REQUEST order
 *
 * Handler contract:
 *   - The handler owns req until it calls exactly one of br_kreq_respond, br_kreq_drop or
 *     br_kreq_fail; it may do so inside the handler or later (a parked Fetch, a forwarded
 *     CreateTopics). After that call req is invalid.
 *   - The body reader and the client id view point into the request frame, which lives as long
 *     as req does.
 *   - The response header (correlation id, plus an empty tag section when the version is
 *     flexible and the API is not ApiVersions) and the 4-byte size are added by the framework:
 *     the handler writes only the body, into br_kreq_writer(req).
 *   - A request still open when its handler returns (parked) MUST have an abort callback
 *     (br_kreq_set_abort): when the connection closes or the front end is freed, the framework
 *     calls it and the callback must release the handler's own references (timers, wait lists)
 *     and call br_kreq_drop(req) before it returns. br_kreq_respond/drop/fail clear it.
 *   - A request for a key not registered, or a version outside the registered range, closes
 *     the connection with one log line and reaches no handler -- except ApiVersions, whose
 *     handler also gets unsupported versions (with an empty body) to send the v0 error reply.
 *   - Up to 64 requests per connection are in flight; reading pauses beyond that (and while
 *     more than 16 MiB of responses wait to be written) and resumes as they complete.
 *
 * Registration: each API family has a function `sm_err_t br_api_<name>_register(...)` (the
 * info APIs at the bottom of this header, the data APIs in br_api_data.h) calling
 * br_kafka_register for its keys; br_server calls them all after br_kafka_new. The versions
 * registered are exactly those advertised in ApiVersions.
 */
#ifndef BR_KAFKA_H
#define BR_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_control.h"
#include "broker/br_logmgr.h"
#include "broker/br_metacache.h"
#include "sm_buf.h"
#include "sm_config.h"
#include "sm_err.h"
#include "sm_kerr.h"

struct event_base;

/* Kafka API keys the broker knows. */
enum {
    BR_KAFKA_PRODUCE = 0,
    BR_KAFKA_FETCH = 1,
    BR_KAFKA_LIST_OFFSETS = 2,
    BR_KAFKA_METADATA = 3,
    BR_KAFKA_FIND_COORDINATOR = 10,
    BR_KAFKA_API_VERSIONS = 18,
    BR_KAFKA_CREATE_TOPICS = 19,
    BR_KAFKA_DELETE_TOPICS = 20,
    BR_KAFKA_OFFSET_FOR_LEADER_EPOCH = 23,
    BR_KAFKA_MAX_API_KEY = 67, /* table size - 1 */
};

#define BR_KAFKA_NOT_FLEXIBLE INT16_MAX /* flexible_from for an API never flexible here */

typedef struct br_kafka br_kafka_t;
typedef struct br_kreq br_kreq_t;

/* What the Kafka front end needs from the broker (all borrowed; they outlive br_kafka_t).
 * ctlclient is the forwarding client to the active controller (br_ctlclient.h); may be NULL in
 * tests. */
typedef struct br_kafka_deps {
    struct event_base *base;
    const sm_config_t *cfg;
    int32_t broker_id;
    br_metacache_t *metacache;
    br_logmgr_t *logmgr;
    br_control_t *control;
    struct br_ctlclient *ctlclient;
    const char *advertised_host; /* for Metadata when the metacache does not list us yet */
    uint16_t advertised_port;
} br_kafka_deps_t;

/* A request handler (see the contract above). arg is the one given to br_kafka_register. */
typedef void (*br_kafka_handler_fn)(void *arg, br_kreq_t *req);

/* Called when a parked request's connection closes or the front end is freed. Must release the
 * handler's references to req and call br_kreq_drop(req) before returning. */
typedef void (*br_kreq_abort_fn)(void *arg, br_kreq_t *req);

/* ---- the front end --------------------------------------------------------------------------- */

/* Creates the front end: the dispatch table (empty) and, when listen_host is not NULL, a
 * listener on listen_host:listen_port (port 0 = any; "" = all addresses). Reads
 * socket.request.max.bytes and connections.max.idle.ms from deps->cfg. deps is copied.
 * Errors (line in eb): SM_ERR_IO (cannot bind), SM_ERR_NOMEM. */
sm_err_t br_kafka_new(const br_kafka_deps_t *deps, const char *listen_host, uint16_t listen_port,
                      br_kafka_t **out, sm_errbuf_t *eb);

/* Closes the listener and every connection (parked requests get their abort callback) and frees
 * the front end. Accepts NULL. */
void br_kafka_free(br_kafka_t *k);

/* Replaces the advertised port (when the listener asked for port 0). */
void br_kafka_set_advertised_port(br_kafka_t *k, uint16_t port);

/* The bound port (after port 0 was asked for), 0 without a listener. */
uint16_t br_kafka_port(const br_kafka_t *k);

/* Registers the handler for api_key, versions [min_version, max_version]; versions >=
 * flexible_from use header v2 and flexible encodings (BR_KAFKA_NOT_FLEXIBLE: never). arg is
 * passed to fn. Registering a key twice replaces it. SM_ERR_INVALID for a key beyond
 * BR_KAFKA_MAX_API_KEY or min > max. */
sm_err_t br_kafka_register(br_kafka_t *k, int16_t api_key, int16_t min_version, int16_t max_version,
                           int16_t flexible_from, br_kafka_handler_fn fn, void *arg);

/* The registered range of api_key: true (with *min and *max set) if registered. */
bool br_kafka_api_range(const br_kafka_t *k, int16_t api_key, int16_t *min, int16_t *max);

/* Calls fn for each registered API in key order (for ApiVersions). */
void br_kafka_foreach_api(const br_kafka_t *k,
                          void (*fn)(void *arg, int16_t key, int16_t min, int16_t max), void *arg);

/* The dependencies given to br_kafka_new (borrowed). */
const br_kafka_deps_t *br_kafka_deps(const br_kafka_t *k);

/* Serves the connected socket fd (taken over: closed with the connection) as if accepted by
 * the listener, e.g. one end of a socketpair in a test. SM_ERR_INVALID without a base. */
sm_err_t br_kafka_add_connection(br_kafka_t *k, int fd);

/* Open connections (for tests and messages). */
size_t br_kafka_conn_count(const br_kafka_t *k);

/* ---- one request ----------------------------------------------------------------------------- */

br_kafka_t *br_kreq_kafka(const br_kreq_t *req);
int16_t br_kreq_api_key(const br_kreq_t *req);
int16_t br_kreq_api_version(const br_kreq_t *req);
int32_t br_kreq_correlation_id(const br_kreq_t *req);
/* True when this version of the API uses flexible encodings (compact strings, tags). */
bool br_kreq_flexible(const br_kreq_t *req);
/* The client id (null view when the client sent null). Valid as long as req. */
sm_str_t br_kreq_client_id(const br_kreq_t *req);
/* "host:port" of the peer, for messages. */
const char *br_kreq_peer(const br_kreq_t *req);

/* A reader over the request body (after the header and its tags), owned by req. A handler
 * reads the whole body and, on a reader error, calls br_kreq_fail (Kafka closes the
 * connection on a request it cannot parse). */
sm_reader_t *br_kreq_body(br_kreq_t *req);

/* The writer for the response body, owned by req. */
sm_writer_t *br_kreq_writer(br_kreq_t *req);

/* Appends len bytes of fd at pos to the response, after whatever was written to the writer so
 * far: the bytes are sent with sendfile and never copied. fd is borrowed (dup()ed inside), so
 * the caller may close it and the segment may be deleted meanwhile. Write the Kafka length
 * prefix (int32 / compact) yourself before the slice. Returns SM_OK, SM_ERR_IO (dup failed,
 * errno logged) or SM_ERR_NOMEM, or the writer's sticky error. */
sm_err_t br_kreq_add_file(br_kreq_t *req, int fd, int64_t pos, int64_t len);

/* Bytes of response body so far (writer plus file slices). */
size_t br_kreq_response_len(const br_kreq_t *req);

/* Marks req parked: fn(arg, req) is called if the connection closes or the front end is
 * freed before the handler completes it (see br_kreq_abort_fn). fn NULL clears it. */
void br_kreq_set_abort(br_kreq_t *req, br_kreq_abort_fn fn, void *arg);

/* True while req's connection is open (a parked handler may give up early otherwise). */
bool br_kreq_conn_open(const br_kreq_t *req);

/* Completes req with the response written so far; it leaves once every earlier request on the
 * connection has been answered. A writer error closes the connection instead (logged). req is
 * invalid afterwards. */
void br_kreq_respond(br_kreq_t *req);

/* Completes req with NO response (acks=0 Produce; abort callbacks). Its slot in the queue is
 * released; later responses are not held up. req is invalid afterwards. */
void br_kreq_drop(br_kreq_t *req);

/* Completes req by closing its connection (a malformed request); why is logged with the peer,
 * api key and version in one line. req is invalid afterwards. */
void br_kreq_fail(br_kreq_t *req, const char *why);

/* ---- API families (each in broker/br_api_<name>.c) ------------------------------------------- */

sm_err_t br_api_versions_register(br_kafka_t *k); /* ApiVersions 0-3 */
sm_err_t br_api_metadata_register(br_kafka_t *k); /* Metadata 0-8 */
sm_err_t br_api_admin_register(br_kafka_t *k);    /* CreateTopics 0-4, DeleteTopics 0-3 */
/* Produce 0-8, Fetch 4-11 and ListOffsets 0-5 register through br_api_data.h
 * (br_api_data_new + br_api_data_register), as they share a context (purgatory). */

#endif
