/*
 * sm_stream: a non-blocking TCP connection on a libevent loop with an input and an output
 * evbuffer -- what a bufferevent does, at fewer system calls per request. Used for the Kafka
 * data path (the broker's client connections and its replica fetchers), where the cost is per
 * request, not per byte.
 *
 *   peer --readv (64 KiB at a time, until the socket is drained)--> input  --on_read-->  owner
 *   owner --sm_stream_flush: writev / sendfile now, the rest when writable--> peer
 *
 * Why not a bufferevent: libevent 2.1 reads at most 4 KiB per read (one FIONREAD ioctl and one
 * readv each, and a new loop iteration after every 4 KiB), and queues every write for the next
 * loop iteration (two epoll_ctl per response). Here a wake-up reads everything the socket holds,
 * and a flush writes at once; the write event is armed only while the socket is full.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. The read event is armed iff reading is enabled, the stream is connected and open, and
 *        the input holds less than the read limit (0: no limit). sm_stream_read_enable
 *        re-evaluates it; so does every read wake-up after on_read returns.
 *     2. The write event is armed iff the stream is connecting, or output remains that the
 *        socket did not take, or a flush failed (the failure is reported from the loop).
 *     3. Callbacks run only from the loop, never from inside an sm_stream_* call. on_close runs
 *        at most once; after it no other callback runs.
 *     4. The owner may call sm_stream_free inside any callback: the struct lives until the
 *        callback returns, and nothing of it is touched afterwards but the free.
 *   Output chains added with evbuffer_add_file stay file segments: they leave by sendfile.
 */
#ifndef SM_STREAM_H
#define SM_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "sm_err.h"

struct event_base;
struct evbuffer;
struct sockaddr;

typedef struct sm_stream sm_stream_t;

typedef struct sm_stream_cbs {
    /* New bytes are in the input (sm_stream_input). Also runs before on_close when the
     * peer's last bytes arrive with its EOF. */
    void (*on_read)(sm_stream_t *s, void *arg);
    /* The output emptied after it had waited for the socket (not after a flush that wrote
     * everything at once). May be NULL. */
    void (*on_drained)(sm_stream_t *s, void *arg);
    /* An sm_stream_connect stream is connected. May be NULL. */
    void (*on_connected)(sm_stream_t *s, void *arg);
    /* The connection ended: err 0 for the peer's EOF, else an errno value (a failed connect,
     * read or write). The stream is then inert; the owner frees it. */
    void (*on_close)(sm_stream_t *s, int err, void *arg);
} sm_stream_cbs_t;

/* Takes a connected socket (made non-blocking here, TCP_NODELAY set) with reading enabled.
 * On failure (SM_ERR_NOMEM) fd is closed. */
sm_err_t sm_stream_new(struct event_base *base, int fd, const sm_stream_cbs_t *cbs, void *arg,
                       sm_stream_t **out);

/* Starts a non-blocking connection to sa; on_connected or on_close follows from the loop.
 * SM_ERR_IO when no socket could be made or connect failed at once (errno-level detail in the
 * log is the caller's); SM_ERR_NOMEM. */
sm_err_t sm_stream_connect(struct event_base *base, const struct sockaddr *sa, size_t salen,
                           const sm_stream_cbs_t *cbs, void *arg, sm_stream_t **out);

/* Closes the socket, drops both buffers (file segments close their descriptors) and frees the
 * stream, or marks it to be freed when the running callback returns. Accepts NULL. */
void sm_stream_free(sm_stream_t *s);

struct evbuffer *sm_stream_input(sm_stream_t *s);
struct evbuffer *sm_stream_output(sm_stream_t *s);

/* Stops reading while the input holds limit bytes or more (0: never). Takes effect at once. */
void sm_stream_set_read_limit(sm_stream_t *s, size_t limit);

/* Enables or disables reading (invariant 1). Also the call to make after draining the input
 * outside on_read, so a stream stopped by its read limit reads again. */
void sm_stream_read_enable(sm_stream_t *s, bool on);

/* Writes what the socket takes now; the rest leaves when it is writable (then on_drained). A
 * write error closes the stream from the loop (on_close). Nothing happens while connecting:
 * the output leaves once connected. */
void sm_stream_flush(sm_stream_t *s);

/* Appends n bytes to b (any evbuffer) in a chain of their own size; use it instead of
 * evbuffer_add on a buffer that may end in a file segment. evbuffer_add sizes a new chain after
 * the last one, and a sendfile chain's size is where it ends in its file: after a slice near
 * the end of a 1 GiB log segment it would allocate 1 GiB for a 20-byte tail. Returns 0, or -1
 * when out of memory. */
int sm_stream_append(struct evbuffer *b, const void *p, size_t n);

/* True once connected (always for sm_stream_new) and until closed. */
bool sm_stream_connected(const sm_stream_t *s);

#endif
