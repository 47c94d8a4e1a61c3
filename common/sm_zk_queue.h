/*
 * sm_zk_queue: the one door from foreign threads into an event loop. Other threads (the
 * ZooKeeper C client's io and completion threads, for sm_zk) post nodes into a
 * mutex-protected FIFO and wake the loop through an eventfd; the loop thread then pops the
 * nodes in the order they were posted and does the real work. Nothing else crosses threads
 * (STYLE.md rule 9). Used by sm_zk; usable by any module with a helper thread.
 *
 *      any thread                          loop thread (libevent)
 *   sm_zk_queue_post(q, n) --> [n1 n2 ..] --eventfd--> on_wake(arg) --> sm_zk_queue_pop() ...
 *
 * Nodes are intrusive: embed sm_zk_qnode_t as the FIRST member of your message struct and
 * cast back after popping. The queue never allocates, frees or inspects nodes.
 */
#ifndef SM_ZK_QUEUE_H
#define SM_ZK_QUEUE_H

#include "sm_err.h"

struct event_base;

typedef struct sm_zk_qnode {
    struct sm_zk_qnode *next;
} sm_zk_qnode_t;

typedef struct sm_zk_queue sm_zk_queue_t;

/* Called on the loop thread after one or more posts. It should pop until NULL. It may free
 * the queue (sm_zk_queue_free) before returning: the queue touches nothing after the call. */
typedef void (*sm_zk_queue_wake_fn)(void *arg);

/* Creates a queue whose wake-ups run on base. Returns SM_ERR_NOMEM or SM_ERR_IO (eventfd or
 * event registration failed; eb says which). */
sm_err_t sm_zk_queue_new(struct event_base *base, sm_zk_queue_wake_fn on_wake, void *arg,
                         sm_zk_queue_t **out, sm_errbuf_t *eb);

/* Frees the queue and its event. Nodes still queued are NOT freed: the owner pops them first.
 * No thread may post during or after this call. Accepts NULL. */
void sm_zk_queue_free(sm_zk_queue_t *q);

/* Appends node (the caller keeps ownership of its memory until it is popped) and wakes the
 * loop. Never blocks for long, never fails.
 * @thread any */
void sm_zk_queue_post(sm_zk_queue_t *q, sm_zk_qnode_t *node);

/* Removes and returns the oldest node, or NULL when empty.
 * @thread any (normally the loop) */
sm_zk_qnode_t *sm_zk_queue_pop(sm_zk_queue_t *q);

#endif
