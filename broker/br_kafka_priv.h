/*
 * br_kafka_priv: the structures shared by br_kafka.c (front end, listener, dispatch table, idle
 * sweep) and br_kconn.c (connections and requests). Not for handlers: they use br_kafka.h.
 */
#ifndef BR_KAFKA_PRIV_H
#define BR_KAFKA_PRIV_H

#include <sys/queue.h>

#include "broker/br_kafka.h"
#include "broker/br_kheader.h"
#include "sm_stream.h"

struct evbuffer;
struct evconnlistener;
struct event;

typedef struct br_kconn br_kconn_t;

typedef struct br_kafka_api {
    br_kafka_handler_fn fn; /* NULL: not registered */
    void *arg;
    int16_t min_version, max_version, flexible_from;
} br_kafka_api_t;

struct br_kafka {
    br_kafka_deps_t deps;
    struct evconnlistener *listener;
    struct event *sweep_ev;
    uint16_t port;
    uint32_t max_frame; /* socket.request.max.bytes */
    int64_t idle_ms;    /* connections.max.idle.ms; <= 0: never */
    int sndbuf, rcvbuf; /* socket.send/receive.buffer.bytes; <= 0: the OS default */
    bool freeing;       /* br_kafka_free in progress */
    TAILQ_HEAD(br_kconn_list, br_kconn) conns; /* open and closed-with-pending connections */
    size_t nconns;                             /* open ones */
    br_kafka_api_t apis[BR_KAFKA_MAX_API_KEY + 1];
};

typedef enum br_kreq_state {
    BR_KREQ_PENDING = 0, /* with its handler */
    BR_KREQ_DONE = 1,    /* response ready, waiting for earlier ones */
} br_kreq_state_t;

struct br_kreq {
    br_kconn_t *conn;
    TAILQ_ENTRY(br_kreq) link;
    br_kreq_state_t state;
    br_kheader_t hdr;
    bool resp_tags; /* response header v1 */
    uint8_t *frame; /* owned: the request bytes (header + body) */
    sm_reader_t body;
    sm_writer_t w;
    struct evbuffer *out; /* body bytes flushed before file slices; NULL until the first slice */
    br_kreq_abort_fn abort_fn;
    void *abort_arg;
};

struct br_kconn {
    br_kafka_t *k;
    sm_stream_t *st; /* NULL once closed */
    TAILQ_ENTRY(br_kconn) link;
    TAILQ_HEAD(br_kreq_list, br_kreq) queue; /* in request order */
    size_t nqueue;
    int64_t last_active_ms;
    int busy;         /* > 0 while a function up the stack uses the connection */
    bool read_paused; /* too many requests in flight or too much output queued */
    bool processing;  /* in br_kconn_process: responses are flushed once at its end */
    char peer[64];
};

/* Monotonic milliseconds (coarse). */
int64_t br_kafka_now_ms(void);

/* br_kconn.c: takes fd (accepted) into a new connection. Closes fd on failure. */
void br_kconn_accept(br_kafka_t *k, int fd, const struct sockaddr *sa);

/* br_kconn.c: closes c (logs why at debug level when why is not NULL); parked requests get
 * their abort callback. c may be freed before this returns unless it is busy. */
void br_kconn_close(br_kconn_t *c, const char *why);

/* br_kconn.c: frees a closed connection's remaining requests without calling anyone (front end
 * teardown, after abort callbacks ran) and the connection itself. */
void br_kconn_destroy(br_kconn_t *c);

/* br_kconn.c: true when c is open, has nothing in flight and has written everything. */
bool br_kconn_idle(const br_kconn_t *c);

#endif
