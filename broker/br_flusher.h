/*
 * br_flusher: the storage helper thread that keeps slow disk work off the event loop.
 *
 * fsync of segment files and the removal of deleted partition directories can take tens of
 * milliseconds, so the loop hands them to one helper thread (DESIGN.md section 6) as jobs on a
 * FIFO queue. When a job finishes, its completion is posted back to the loop through a second
 * queue and an eventfd watched by a libevent event; completions run on the loop thread, in the
 * order the jobs were submitted. The thread touches nothing but the job it runs: every field of
 * the broker stays owned by the loop (STYLE.md rule 9).
 *
 *      loop thread                          flusher thread
 *      br_flusher_fsync() --+
 *      br_flusher_call()  --+--> jobs (mutex+cond) --> run job  @thread flusher
 *      br_flusher_remove_dir()                           |
 *      done(arg, err, msg) <-- eventfd + event <-- done queue (mutex)
 *
 * DESIGN NOTES
 *   Invariants
 *     1. Jobs run one at a time, in submission order; completions run in the same order.
 *     2. A completion runs exactly once, on the thread that runs the event base (or in
 *        br_flusher_drain / br_flusher_free, which the loop thread calls).
 *     3. An fsync job owns duplicates of the descriptors it was given, so the caller may close
 *        its own copies (a segment deleted by retention) before the job runs.
 *   States: running --br_flusher_free--> stopping (queue drained, thread joined, remaining
 *   completions run) --> freed.
 */
#ifndef BR_FLUSHER_H
#define BR_FLUSHER_H

#include <stddef.h>

#include "broker/br_fileops.h"
#include "sm_err.h"

struct event_base;

typedef struct br_flusher br_flusher_t;

/* A completion, run on the loop thread. `err` is SM_OK or the job's error; `msg` is a one-line
 * description of the failure ("" on success), valid only during the call. */
typedef void (*br_flusher_done_fn)(void *arg, sm_err_t err, const char *msg);

/* A unit of work for br_flusher_call. @thread flusher: it must touch only what `arg` gives it
 * and nothing the loop may change meanwhile. Writes a line into eb on failure. */
typedef sm_err_t (*br_flusher_work_fn)(void *arg, sm_errbuf_t *eb);

/* Starts the thread. Completions will be delivered by an event on `base`, which must outlive
 * the flusher; `ops` (its fsync, close and unlink are called from the flusher thread, so it
 * must be thread-safe) too. Returns SM_OK, SM_ERR_NOMEM, or SM_ERR_IO (eventfd or thread
 * creation failed) with a line in eb. */
sm_err_t br_flusher_new(struct event_base *base, const br_fileops_t *ops, br_flusher_t **out,
                        sm_errbuf_t *eb);

/* Clean shutdown: lets the thread finish every queued job, joins it, then runs the pending
 * completions on the calling (loop) thread in order, and frees everything. NULL is a no-op. */
void br_flusher_free(br_flusher_t *f);

/* Queues an fsync of each of the `nfds` descriptors (duplicated now; the caller keeps its own).
 * `done` (may be NULL) gets the first failure. Returns SM_OK, SM_ERR_NOMEM, SM_ERR_IO (dup
 * failed), or SM_ERR_INVALID for nfds == 0. */
sm_err_t br_flusher_fsync(br_flusher_t *f, const int *fds, size_t nfds, br_flusher_done_fn done,
                          void *arg);

/* Queues the recursive removal of directory `path` (copied) with br_flusher_remove_tree.
 * Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t br_flusher_remove_dir(br_flusher_t *f, const char *path, br_flusher_done_fn done,
                               void *arg);

/* Queues `work(arg)` to run on the flusher thread, then `done(arg, its result)` on the loop.
 * This is how a log's own flush (br_log_flush_begin/..._done) runs off the loop. Returns SM_OK
 * or SM_ERR_NOMEM. */
sm_err_t br_flusher_call(br_flusher_t *f, br_flusher_work_fn work, br_flusher_done_fn done,
                         void *arg);

/* Blocks until every job queued so far has run, then runs their completions (loop thread only;
 * used at shutdown and in tests). */
void br_flusher_drain(br_flusher_t *f);

/* Jobs submitted whose completion has not run yet. */
size_t br_flusher_pending(const br_flusher_t *f);

/* Removes `path` and everything below it (files through ops->unlink, directories with
 * rmdir(2), as br_fileops has no rmdir). A missing path is SM_OK. Returns SM_ERR_IO with a line
 * naming the entry that could not be removed. Any thread. */
sm_err_t br_flusher_remove_tree(const br_fileops_t *ops, const char *path, sm_errbuf_t *eb);

#endif
