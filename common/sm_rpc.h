/*
 * sm_rpc: Samsa's control RPC. Length-framed (sm_frame) protobuf-c Envelopes (proto/samsa.proto)
 * over TCP, on libevent bufferevents. The controller serves brokers and the admin tool with
 * it; brokers serve the controller; each side holds one client per peer.
 *
 *   client                                       server
 *   sm_rpc_client_call(req) --frame(req, id)-->  handler(call, req)   (on the loop thread)
 *   done(err, resp)         <--frame(resp, id)-- sm_rpc_call_reply(call, resp)  (now or later)
 *
 * Everything runs on the caller's event_base, on its thread; nothing here starts a thread or
 * blocks, except that host names are resolved with getaddrinfo (by sm_rpc_server_new, and by
 * the client before each connection attempt): use IP literals or names that resolve locally.
 * The process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)), or a peer that vanishes while
 * an answer is being written kills it.
 *
 * Guarantees:
 *   - Responses on a connection leave the server in request order, even when the handler
 *     answers out of order. The client matches each response to its oldest outstanding
 *     request and checks the correlation id; a mismatch closes the connection.
 *   - Every accepted client call completes exactly once through its callback: with the
 *     response, SM_ERR_TIMEOUT, or SM_ERR_CLOSED. Never from inside sm_rpc_client_call, never
 *     after sm_rpc_client_free has returned.
 *   - In-flight calls are NOT retried when the connection drops (the request may have been
 *     applied): they fail with SM_ERR_CLOSED and the caller decides. Calls made while
 *     disconnected wait for the next connection or their deadline.
 *   - A peer that sends a frame above the size limit or one that does not decode is
 *     disconnected with one log line naming it.
 *
 * Default limits: frames up to SM_RPC_DEFAULT_MAX_FRAME bytes; reconnect backoff 50 ms
 * doubling to 2 s (reset once connected); connect attempts time out after 5 s.
 */
#ifndef SM_RPC_H
#define SM_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "samsa.pb-c.h"
#include "sm_err.h"

struct bufferevent;
struct event_base;
struct evbuffer;
struct sockaddr;

#define SM_RPC_DEFAULT_MAX_FRAME (64u * 1024u * 1024u)

/* ---- server ------------------------------------------------------------------------------ */

typedef struct sm_rpc_server sm_rpc_server_t;
/* One request being served. Owned by the handler from the moment it is handed over until it
 * is answered with sm_rpc_call_reply / sm_rpc_call_reply_error, which every call needs exactly
 * once -- even after its connection or the whole server is gone. */
typedef struct sm_rpc_call sm_rpc_call_t;

/*
 * Called on the loop thread for each request, in arrival order per connection.
 * req: the decoded request, owned by the call; valid until the call is answered. The handler
 * may answer before returning or keep `call` and answer later. It must not free the server.
 */
typedef void (*sm_rpc_handler_fn)(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req);

typedef struct sm_rpc_server_opts {
    uint32_t max_frame; /* largest frame accepted or sent, bytes; 0 = SM_RPC_DEFAULT_MAX_FRAME */
    int backlog;        /* listen(2) backlog; 0 = 128 */
} sm_rpc_server_opts_t;

/*
 * Listens on host:port (port 0 picks a free one, see sm_rpc_server_port) with SO_REUSEADDR
 * and starts accepting on base. host: IP literal or name, borrowed. opts may be NULL for
 * defaults (borrowed). handler/arg: borrowed until sm_rpc_server_free.
 * On success *out owns a new server. Returns SM_OK, SM_ERR_INVALID (bad host/port),
 * SM_ERR_IO (bind/listen failed; eb names the address and errno) or SM_ERR_NOMEM.
 */
sm_err_t sm_rpc_server_new(struct event_base *base, const char *host, uint16_t port,
                           const sm_rpc_server_opts_t *opts, sm_rpc_handler_fn handler, void *arg,
                           sm_rpc_server_t **out, sm_errbuf_t *eb);

/* The port the server listens on (useful after asking for port 0). */
uint16_t sm_rpc_server_port(const sm_rpc_server_t *srv);

/* Number of open connections. */
size_t sm_rpc_server_connections(const sm_rpc_server_t *srv);

/*
 * Stops listening and closes every connection. Calls that are still unanswered stay valid:
 * their owner must still answer them (the answer is dropped, see sm_rpc_call_reply). Answers
 * already queued behind an unanswered one are discarded. Accepts NULL. Must not be called
 * from inside the handler.
 */
void sm_rpc_server_free(sm_rpc_server_t *srv);

/* The request of an unanswered call (the same pointer the handler got). */
const Samsa__Envelope *sm_rpc_call_request(const sm_rpc_call_t *call);

/* "host:port" of the peer that sent the call, or "(closed)" once its connection is gone.
 * Valid until the call is answered. */
const char *sm_rpc_call_peer(const sm_rpc_call_t *call);

/*
 * Answers call with resp and releases the call (and its request): call is invalid afterwards,
 * whatever the return value. resp is borrowed: it is packed before this returns, so it may
 * live on the stack and may point into the request (which is freed only after packing),
 * e.g. to echo its bytes. The RPC layer sets resp->correlation_id to the request's and, when resp
 * has no type, copies the request's type (so resp is modified).
 * The answer goes out as soon as every earlier request on the connection has been answered.
 * Returns SM_OK; SM_ERR_CLOSED when the connection is gone (the answer is dropped);
 * SM_ERR_TOO_LARGE when resp packs above max_frame (the peer gets an ErrorResponse with
 * MESSAGE_TOO_LARGE instead); SM_ERR_NOMEM (the connection is closed).
 */
sm_err_t sm_rpc_call_reply(sm_rpc_call_t *call, Samsa__Envelope *resp);

/* Answers call with an ErrorResponse {error_code (a Kafka error code), message}. message may
 * be NULL; borrowed. Same contract and returns as sm_rpc_call_reply. */
sm_err_t sm_rpc_call_reply_error(sm_rpc_call_t *call, int32_t error_code, const char *message);

/* ---- client ------------------------------------------------------------------------------ */

typedef struct sm_rpc_client sm_rpc_client_t;

/*
 * Completion of one call, on the loop thread. err is SM_OK with resp the response, or
 * SM_ERR_TIMEOUT / SM_ERR_CLOSED with resp NULL. resp is owned by the client and valid only
 * during the callback. The callback may issue new calls and may free the client.
 */
typedef void (*sm_rpc_done_fn)(void *arg, sm_err_t err, const Samsa__Envelope *resp);

/* Connection state changes: connected true once a connection is up, false when it drops
 * (not called for failed attempts that never connected, nor from sm_rpc_client_free). May
 * issue calls and may free the client. */
typedef void (*sm_rpc_state_fn)(void *arg, sm_rpc_client_t *client, bool connected);

typedef struct sm_rpc_client_opts {
    uint32_t max_frame;          /* largest frame sent or accepted; 0 = SM_RPC_DEFAULT_MAX_FRAME */
    uint32_t backoff_min_ms;     /* first reconnect delay; 0 = 50 */
    uint32_t backoff_max_ms;     /* cap of the doubling delay; 0 = 2000 */
    uint32_t connect_timeout_ms; /* one connection attempt; 0 = 5000 */
    sm_rpc_state_fn on_state;    /* may be NULL */
    void *state_arg;
} sm_rpc_client_opts_t;

/*
 * Creates a client for host:port on base and starts connecting at once. host is copied; opts
 * may be NULL (borrowed). On success *out owns the client.
 * Returns SM_OK, SM_ERR_INVALID (empty host or port 0) or SM_ERR_NOMEM.
 */
sm_err_t sm_rpc_client_new(struct event_base *base, const char *host, uint16_t port,
                           const sm_rpc_client_opts_t *opts, sm_rpc_client_t **out);

/*
 * Sends req (borrowed; packed before this returns, so it may live on the stack). The client
 * sets req->correlation_id (so req is modified). timeout_ms: deadline from now, 0 = none
 * (the call then ends only with a response or SM_ERR_CLOSED). done/arg: called exactly once
 * if this returns SM_OK, never if it does not.
 * A call made while disconnected waits until connected or until its deadline. A call whose
 * deadline passes after it was sent completes with SM_ERR_TIMEOUT at once; its late response
 * is recognised and dropped.
 * Returns SM_OK; SM_ERR_TOO_LARGE (req packs above max_frame); SM_ERR_CLOSED (the client is
 * being freed); SM_ERR_INVALID (done is NULL); SM_ERR_NOMEM.
 */
sm_err_t sm_rpc_client_call(sm_rpc_client_t *client, Samsa__Envelope *req, uint32_t timeout_ms,
                            sm_rpc_done_fn done, void *arg);

/* True while a connection is up. */
bool sm_rpc_client_connected(const sm_rpc_client_t *client);

/* Calls accepted and not yet completed (queued plus in flight). */
size_t sm_rpc_client_pending(const sm_rpc_client_t *client);

/*
 * Closes the connection, completes every pending call with SM_ERR_CLOSED (each exactly once,
 * before this returns) and releases the client. Safe from inside any of the client's own
 * callbacks; calls made from the SM_ERR_CLOSED callbacks are refused with SM_ERR_CLOSED.
 * Accepts NULL.
 */
void sm_rpc_client_free(sm_rpc_client_t *client);

/* ---- helpers (used by both halves; also handy for tests and other listeners) ------------- */

/*
 * Appends env to out as one frame (header + packed Envelope), packing straight into out's
 * free space. On failure out may hold a partial frame: pass a scratch evbuffer.
 * Returns SM_OK, SM_ERR_TOO_LARGE (packs above max_frame) or SM_ERR_NOMEM.
 */
sm_err_t sm_rpc_frame_pack(struct evbuffer *out, const Samsa__Envelope *env, uint32_t max_frame);

/*
 * Takes one frame from the front of in and decodes it. On SM_OK *out owns a new Envelope
 * (free with samsa__envelope__free_unpacked(*out, NULL)).
 * Returns SM_OK; SM_ERR_AGAIN (incomplete frame, nothing drained); SM_ERR_TOO_LARGE or
 * SM_ERR_CORRUPT (bad header, nothing drained: the stream is unusable); SM_ERR_CORRUPT after
 * draining the frame when its payload does not decode; SM_ERR_NOMEM.
 */
sm_err_t sm_rpc_frame_take(struct evbuffer *in, uint32_t max_frame, Samsa__Envelope **out);

/* The name of env's payload field ("ping_request"), or "none"; never NULL. For messages. */
const char *sm_rpc_payload_name(const Samsa__Envelope *env);

/* Formats an IPv4/IPv6 socket address as "host:port" / "[host]:port" into buf[len]. */
void sm_rpc_format_addr(const struct sockaddr *sa, char *buf, size_t len);

/* Sets TCP_NODELAY on a connected bufferevent's socket (best effort). */
void sm_rpc_set_nodelay(struct bufferevent *bev);

#endif
