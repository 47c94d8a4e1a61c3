/*
 * br_logmgr: the log manager -- every partition log of the broker across its `log.dirs`.
 *
 * At start it takes each directory (creating it if needed): locks `.lock` for the process
 * lifetime, checks or writes `meta.properties`, reads the three offset checkpoints, looks for
 * the `.clean_shutdown` marker, removes leftover `*-delete` directories, and opens every
 * `<topic>-<partition>` directory as a br_log (trusting it after a clean shutdown, recovering
 * it from its checkpointed recovery point otherwise) together with its leader-epoch cache
 * (br_epoch, fed by the log's on_batch hook). Afterwards it creates logs in the directory
 * holding the fewest, deletes them (rename to `<topic>-<partition>.<id>-delete`, removal off
 * the hot path on the flusher thread), schedules flushes on the flusher thread, writes the
 * checkpoints, runs retention, and at a clean shutdown flushes and closes everything, writes
 * the checkpoints and leaves the marker. It sits between the partition/replica layer (which
 * owns high watermarks and leadership and tells the manager the HW) and br_log. Loop thread.
 *
 *   log.dirs entry/
 *       .lock  meta.properties  .clean_shutdown (only while stopped cleanly)
 *       recovery-point-offset-checkpoint  replication-offset-checkpoint
 *       log-start-offset-checkpoint
 *       <topic>-<partition>/         br_log + leader-epoch-checkpoint
 *       <topic>-<partition>.<32 hex>-delete/   being removed
 *
 * DESIGN NOTES
 *   Invariants
 *     1. A (topic, partition) is in at most one directory; a second copy found at start is a
 *        fatal error.
 *     2. Every online directory is locked by this process (flock LOCK_EX on .lock), so no
 *        other broker can use it at the same time.
 *     3. The marker exists only between a clean shutdown and the next start: it is removed
 *        (and the removal made durable) once the directory's logs are loaded, so a crash
 *        after that start is recovered.
 *     4. A directory fails (goes offline) on an I/O error in its own files (checkpoints,
 *        marker, listing); its logs are closed and forgotten, the other directories keep
 *        working. A log that fails to open or later hits an I/O error fails alone: it stays
 *        known (its checkpointed offsets are kept and rewritten) but br_logmgr_get returns it
 *        only while br_log says it is healthy.
 *   Partition states: loading -> online --delete--> renamed (-delete, closed) --flusher-->
 *   removed; online --I/O error--> failed (log closed, offsets kept).
 */
#ifndef BR_LOGMGR_H
#define BR_LOGMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_epoch.h"
#include "broker/br_fileops.h"
#include "broker/br_flusher.h"
#include "broker/br_log.h"
#include "sm_err.h"

#define BR_LOGMGR_META           "meta.properties"
#define BR_LOGMGR_LOCK           ".lock"
#define BR_LOGMGR_CLEAN_MARKER   ".clean_shutdown"
#define BR_LOGMGR_DELETE_SUFFIX  "-delete"
#define BR_LOGMGR_CLUSTER_ID_MAX 64

typedef struct br_logmgr br_logmgr_t;

/* Lets the broker give a topic its own log settings (topic-level overrides). `cfg` holds the
 * manager's defaults on entry. Its on_batch hook is kept and called after the manager's. */
typedef void (*br_logmgr_config_fn)(void *arg, const char *topic, int32_t partition,
                                    br_log_config_t *cfg);

/* For retention: the offset below which whole segments may go (normally the high
 * watermark). Return -1 to skip the partition. */
typedef int64_t (*br_logmgr_bound_fn)(void *arg, const char *topic, int32_t partition,
                                      br_log_t *log);

typedef struct br_logmgr_config {
    const char *const *dirs; /* log.dirs, at least one */
    size_t ndirs;
    int32_t broker_id;            /* >= 0 */
    const char *cluster_id;       /* NULL or "" when not known yet (set later) */
    const br_fileops_t *ops;      /* NULL: br_fileops_posix() */
    br_flusher_t *flusher;        /* NULL: flushes and removals run synchronously on the loop */
    br_log_config_t log;          /* defaults for every log (br_log_config_defaults) */
    br_flusher_t *const *writers; /* threads that write the logs' appends (br_log.h note 5):
                                   * each partition opened takes the next one in turn; none:
                                   * log.writer, for every log (NULL: written on the loop) */
    size_t nwriters;
    bool preallocate; /* log.preallocate: br_logmgr_writeback reserves each written active
                       * segment's blocks (fallocate, size kept), gives back a sealed one's rest */
    br_logmgr_config_fn configure; /* may be NULL */
    void *configure_arg;
} br_logmgr_config_t;

/* Called on the loop when appends of (topic, partition) handed to the writer thread were
 * written (or failed): its br_log_end_offset may have moved. */
typedef void (*br_logmgr_written_fn)(void *arg, const char *topic, int32_t partition);

/* Which checkpoints br_logmgr_checkpoint writes. */
#define BR_LOGMGR_CKPT_RECOVERY    0x1u
#define BR_LOGMGR_CKPT_REPLICATION 0x2u
#define BR_LOGMGR_CKPT_LOG_START   0x4u
#define BR_LOGMGR_CKPT_ALL         0x7u

/* Takes every directory and loads every log in it (see the file comment). Errors that a person
 * must fix stop the start with one line in eb: a directory locked by another process
 * ("log dir D is in use by another broker (.lock is held)"), a meta.properties whose broker.id
 * or cluster.id differs from ours or between directories (naming the dir and both values), a
 * malformed meta.properties, a partition present in two directories: SM_ERR_CONFIG / _STATE
 * / _CORRUPT. An I/O error confined to one directory takes only that directory offline
 * (logged); if no directory is left, SM_ERR_IO. Returns SM_OK with *out owned by the caller. */
sm_err_t br_logmgr_open(const br_logmgr_config_t *cfg, int64_t now_ms, br_logmgr_t **out,
                        sm_errbuf_t *eb);

/* Stops the manager and frees it (NULL: SM_OK). Waits for the flusher's outstanding jobs
 * first. With `clean`: flushes and closes every log cleanly, writes the three checkpoints and,
 * in each directory where all of that succeeded, the clean-shutdown marker; returns the first
 * error (eb names it). Without: closes the logs as they are (what a crash leaves, for tests
 * and fatal paths). The directory locks are released last. */
sm_err_t br_logmgr_close(br_logmgr_t *m, bool clean, int64_t now_ms, sm_errbuf_t *eb);

/* Sets who hears of written appends (br_logmgr_written_fn); NULL: nobody. */
void br_logmgr_set_on_written(br_logmgr_t *m, br_logmgr_written_fn fn, void *arg);

/* The healthy log of (topic, partition), or NULL if there is none, it failed, or its
 * directory is offline. Owned by the manager. */
br_log_t *br_logmgr_get(const br_logmgr_t *m, const char *topic, int32_t partition);

/* Overlays topic's config overrides onto cfg (which holds the manager's log defaults). */
typedef void (*br_logmgr_overlay_fn)(void *arg, const char *topic, br_log_config_t *cfg);

/* Derives again the overridable settings (br_log_reconfigure) of topic's healthy logs -- the
 * one of `partition`, or all of them when partition is -1 -- from the manager's log defaults
 * with fn's overlay. A log whose derived settings are invalid keeps its own (one warning).
 * Returns the number of logs the settings were applied to. Loop thread. */
size_t br_logmgr_reconfigure(br_logmgr_t *m, const char *topic, int32_t partition,
                             br_logmgr_overlay_fn fn, void *arg);

/* The leader-epoch cache of (topic, partition), or NULL as for br_logmgr_get. */
br_epoch_t *br_logmgr_epochs(const br_logmgr_t *m, const char *topic, int32_t partition);

/* Returns the log of (topic, partition), creating it (with its directory, in the online
 * directory holding the fewest partitions; ties go to the first listed) if it does not
 * exist. Returns SM_OK; SM_ERR_INVALID for a bad topic name or partition; SM_ERR_STATE if the
 * partition is known but failed; SM_ERR_IO / SM_ERR_NOSPC (no online directory, or creating
 * it failed: the partition is not kept); with a line in eb. */
sm_err_t br_logmgr_create(br_logmgr_t *m, const char *topic, int32_t partition, int64_t now_ms,
                          br_log_t **out, sm_errbuf_t *eb);

/* Deletes the log of (topic, partition): closes it, renames its directory to
 * `<topic>-<partition>.<32 hex>-delete` (Kafka's form; the topic is shortened so the name fits
 * 255 bytes), makes the rename durable, and queues the removal on the flusher (or removes it
 * now without one). Returns SM_OK, SM_ERR_NOT_FOUND, or SM_ERR_IO with a line in eb (the
 * partition is forgotten all the same: its directory is then left for the next start). */
sm_err_t br_logmgr_delete(br_logmgr_t *m, const char *topic, int32_t partition, sm_errbuf_t *eb);

/* The high watermark recorded for (topic, partition): the value loaded from
 * replication-offset-checkpoint (0 if none) until the replica layer sets another. -1 if the
 * partition is unknown. */
int64_t br_logmgr_high_watermark(const br_logmgr_t *m, const char *topic, int32_t partition);

/* Records the high watermark written by the next replication-offset-checkpoint. Returns SM_OK,
 * SM_ERR_NOT_FOUND or SM_ERR_INVALID (negative). */
sm_err_t br_logmgr_set_high_watermark(br_logmgr_t *m, const char *topic, int32_t partition,
                                      int64_t hw);

/* Writes the checkpoints named by `which` (BR_LOGMGR_CKPT_*) in every online directory, with
 * one line per partition of that directory (failed partitions keep their last values). A
 * directory whose write fails goes offline (invariant 4). Returns SM_OK or the first error,
 * with a line in eb. */
sm_err_t br_logmgr_checkpoint(br_logmgr_t *m, unsigned which, sm_errbuf_t *eb);

/* The same, with the files written on the flusher thread (the maps are taken on the loop
 * now), so that a slow disk does not stall the loop. At most one write per directory is
 * queued at a time (a tick finding one queued is written once it completes); a file whose map
 * is what was last written there is not written again; only a log-start map holding a log
 * start above 0 is fsynced (docs/storage.md, Checkpoints; br_logmgr_checkpoint fsyncs every
 * file). A write that fails takes its directory offline from the completion. Without a
 * flusher it is br_logmgr_checkpoint. Returns SM_OK or SM_ERR_NOMEM. The periodic checkpoints
 * use this; br_logmgr_close drains the flusher before its own synchronous ones. */
sm_err_t br_logmgr_checkpoint_async(br_logmgr_t *m, unsigned which);

/* Starts a flush of every log whose flush is due (br_log_flush_due), or of every log with
 * unflushed data when `force`, unless one is already running for it. With a flusher the
 * fsyncs run there and the recovery points move when the completions run on the loop;
 * without one, synchronously. A log whose flush fails is failed by br_log. Returns SM_OK or
 * SM_ERR_NOMEM; *started (may be NULL) = flushes started. */
sm_err_t br_logmgr_flush(br_logmgr_t *m, int64_t now_ms, bool force, size_t *started);

/* Starts the disk write of what was appended to each healthy log's active segment, once at
 * least min_bytes (> 0) accumulated since the last start and that start completed, as jobs on
 * the flusher thread (sync_file_range SYNC_FILE_RANGE_WRITE: the write is queued, nobody waits
 * for it, nothing becomes durable -- that is br_logmgr_flush). Keeps the page cache's dirty
 * bytes small so the kernel never writes back seconds of appends at once (log.writeback.bytes).
 * With cfg.preallocate, a segment's first job also reserves its blocks up to its log's
 * segment.bytes (fallocate FALLOC_FL_KEEP_SIZE: the file's size is unchanged), so neither this
 * writeback nor the appends allocate blocks after it (docs/storage.md, Preallocation); once
 * the segment is sealed, the next call gives back what it did not use, if that is worth it
 * (br_log_release_unused, on the log's writer thread). Both are advisory: a file system that
 * cannot do them costs only the smoothing (logged at debug).
 * Until its job completes, a log is offloaded (br_log_set_offload: its appends go to its
 * writer thread, if it has one). Without a flusher it does nothing. Returns SM_OK or SM_ERR_NOMEM;
 * *started (may be NULL) = jobs queued. */
sm_err_t br_logmgr_writeback(br_logmgr_t *m, uint64_t min_bytes, size_t *started);

/* Retention over every healthy log: br_log_delete_old_segments with the upper bound from
 * `bound` (NULL: the recorded high watermark), then the epoch cache is truncated to the new
 * log start. *deleted (may be NULL) = segments removed in all. Errors of single logs are
 * logged and leave them failed; returns SM_OK. */
sm_err_t br_logmgr_retention(br_logmgr_t *m, int64_t now_ms, br_logmgr_bound_fn bound, void *arg,
                             size_t *deleted);

/* The cluster id learnt from ZooKeeper: written into every directory's meta.properties that has
 * none; a directory that has another one is SM_ERR_CONFIG naming the dir and both values. */
sm_err_t br_logmgr_set_cluster_id(br_logmgr_t *m, const char *cluster_id, sm_errbuf_t *eb);

/* The cluster id given or found in meta.properties, or NULL while unknown. */
const char *br_logmgr_cluster_id(const br_logmgr_t *m);

/* Takes directory i offline after an I/O error seen by a caller (logs `why`): its logs are
 * closed and forgotten; the lock is kept until close. */
void br_logmgr_fail_dir(br_logmgr_t *m, size_t i, const char *why);

/* Partitions known (healthy or failed) and the i-th (i < count), sorted by topic then
 * partition; pointers valid until the next create/delete. */
size_t br_logmgr_count(const br_logmgr_t *m);
void br_logmgr_at(const br_logmgr_t *m, size_t i, const char **topic, int32_t *partition);

/* Directories: their number, path, whether online, whether they were found cleanly shut
 * down at start, and the partitions they hold. */
size_t br_logmgr_dir_count(const br_logmgr_t *m);
const char *br_logmgr_dir_path(const br_logmgr_t *m, size_t i);
bool br_logmgr_dir_online(const br_logmgr_t *m, size_t i);
bool br_logmgr_dir_was_clean(const br_logmgr_t *m, size_t i);
size_t br_logmgr_dir_partitions(const br_logmgr_t *m, size_t i);

/* Splits a partition directory name "<topic>-<partition>" at its last '-': the topic must be
 * a legal Kafka name (1..249 of [a-zA-Z0-9._-]) and the partition a decimal int32 without
 * sign. Names of deleted ("...-delete"), future or stray directories do not parse. Returns
 * SM_OK or SM_ERR_INVALID. */
sm_err_t br_logmgr_parse_dir_name(const char *name, char *topic, size_t topic_cap,
                                  int32_t *partition);

#endif
