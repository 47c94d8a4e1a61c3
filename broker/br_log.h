/*
 * br_log: the log of one partition -- an ordered list of segments (br_segment) in the
 * partition directory, of which the last is the active one that takes appends. It assigns
 * offsets on append, hands out zero-copy file slices for reads, rolls segments by size, age
 * and index space, deletes whole old segments for retention, truncates for followers, keeps
 * the recovery point (the offset below which everything is known to be on disk) and recovers
 * after a crash. It is owned by the event loop; only br_log_flush_job_run runs elsewhere (on
 * the flusher thread), and with a writer the pwrite of each append (on the writer thread).
 * Checkpoint files, the clean-shutdown marker, the leader-epoch cache and scheduling belong to the
 * log manager ("store"): this module takes what it needs as arguments and reports through callbacks
 * and getters.
 *
 *   Produce:  records blob --br_batch_validate_set--> set --br_log_append--> active segment
 *   Fetch:    br_log_read(offset, max_bytes, HW) --> {fd, pos, len} --> sendfile
 *   Flusher:  br_log_flush_begin (loop) -> br_log_flush_job_run (flusher) -> br_log_flush_done
 *
 * DESIGN NOTES
 *   Invariants
 *     1. There is always at least one segment; segments are sorted by base offset and their
 *        offset ranges do not overlap; only the last one takes appends.
 *     2. log_start_offset <= log_end_offset; log_start_offset >= the first segment's base.
 *        log_end_offset = the last segment's next_offset, once the writer is idle (note 5).
 *     3. recovery_point <= log_end_offset, and every offset below it has been fsynced (data
 *        and indexes of its segment, and the directory entry of that segment).
 *     4. Once failed (an I/O error: EIO, ENOSPC, ...), the log stays failed: every call that
 *        reads or changes it returns the saved error (SM_ERR_IO or SM_ERR_NOSPC, both mapping
 *        to KAFKA_STORAGE_ERROR) until it is closed. No append is reported as done unless all
 *        its bytes were written. Its index entries are written in bulk later (br_index.h: at
 *        the latest by the roll, flush or clean close that follows; they are rebuilt by
 *        recovery after an unclean stop), and a failure to write them fails the log then.
 *        Other logs are not affected.
 *   States
 *       open --(I/O error anywhere)--> failed --close--> (gone)
 *         \--close(clean)--> (gone; the caller may write the clean-shutdown marker if every
 *                                close returned SM_OK)
 *   Transitions (loop thread)
 *     append             validate offsets, maybe roll, stamp, write; LEO += records
 *     roll               seal the active segment, create one at the next offset
 *     delete_old_segments retention: drop whole segments from the front, move the log start
 *     set_log_start_offset DeleteRecords: move the log start, drop segments wholly below it
 *     truncate_to        follower: drop every offset >= target; the caller then truncates the
 *                        leader-epoch cache (br_epoch_truncate_from_end) to the new LEO
 *     truncate_fully_and_start_at  drop every segment, restart empty at an offset; the caller
 *                        clears the epoch cache
 *     flush_begin/done   advance the recovery point once a flusher has fsynced
 *     5. With cfg.writer (the broker's), an append is written by the writer thread while the
 *        log is offloaded (br_log_set_offload: the log manager sets it while a writeback of
 *        the file is out) or earlier appends are still with the writer; otherwise it is
 *        written here, as without a writer. A write that meets writeback holding the inode's
 *        block map can wait hundreds of milliseconds; on the writer it stalls that thread,
 *        not every client of the loop, and handing every append over would cost two thread
 *        wake-ups each. An offloaded append is checked, stamped and given its place on the
 *        loop, and its bytes (copied) go to the writer. Until the write completes
 *        (br_log_write_done, in order), br_log_end_offset and every read stop before it;
 *        further appends take the offsets after it, and go to the writer too. Whoever acknowledges
 * an append waits for br_log_end_offset to pass it (cfg.on_written says when). Operations that read
 * far back or cut the log (truncate, time search, batch walk, flush, close) drain the writer first;
 *        retention and the log start remove only wholly written segments, and a roll is an
 *        append's roll, so those need not. A failed write fails the log. More than
 *        BR_LOG_MAX_UNWRITTEN_BYTES unwritten makes the next append wait for the disk.
 *   The leader-epoch cache: on_batch (config) is called for every batch appended (leader or
 *   follower, before it is written -- Kafka's order) and for every batch read by a recovery
 *   at open; after br_log_open the caller truncates the cache to br_log_end_offset().
 */
#ifndef BR_LOG_H
#define BR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_batch.h"
#include "broker/br_fileops.h"
#include "broker/br_segment.h"
#include "sm_err.h"

#define BR_LOG_NO_BOUND INT64_MAX /* max_offset of br_log_read: no upper bound */
#define BR_LOG_NO_LIMIT INT64_MAX /* flush intervals: never */

typedef struct br_log br_log_t;
typedef struct br_log_flush_job br_log_flush_job_t;
typedef br_segment_slice_t br_log_slice_t;

/* Called for each batch appended or recovered (see the design notes). A non-OK return stops
 * the append before anything is written (and is returned by it), or fails br_log_open. */
typedef sm_err_t (*br_log_batch_fn)(void *ctx, const br_batch_header_t *h);

typedef struct br_log_config {
    int64_t segment_bytes;           /* log.segment.bytes (1 GiB); 62 .. INT32_MAX */
    int64_t segment_ms;              /* log.roll.ms (7 days); BR_LOG_NO_LIMIT = never */
    int64_t index_interval_bytes;    /* log.index.interval.bytes (4096); >= 0 */
    int64_t index_max_bytes;         /* log.index.size.max.bytes (10 MiB); >= 12 */
    int64_t retention_ms;            /* log.retention.ms (7 days); -1 = unlimited */
    int64_t retention_bytes;         /* log.retention.bytes; -1 = unlimited */
    int64_t flush_interval_messages; /* log.flush.interval.messages; BR_LOG_NO_LIMIT = never */
    int64_t flush_interval_ms;       /* log.flush.interval.ms; BR_LOG_NO_LIMIT = never */
    bool log_append_time;            /* message.timestamp.type=LogAppendTime */
    int64_t max_message_bytes;       /* a topic's max.message.bytes; 0 = message.max.bytes */
    br_log_batch_fn on_batch;        /* may be NULL */
    void *on_batch_ctx;
    struct br_flusher *writer;     /* NULL: appends are written before br_log_append returns */
    void (*on_written)(void *ctx); /* loop: appends handed to the writer were written (or
                                    * failed); may be NULL */
    void *on_written_ctx;
} br_log_config_t;

#define BR_LOG_MAX_UNWRITTEN_BYTES (64u * 1024 * 1024) /* design note 5 */

/* Kafka's defaults (flush intervals: never). */
void br_log_config_defaults(br_log_config_t *cfg);

/* What an append did. */
typedef struct br_log_append_info {
    int64_t first_offset;    /* base offset of the first batch */
    int64_t last_offset;     /* last offset of the last batch */
    int64_t log_append_time; /* broker time for LogAppendTime topics, else -1 */
    int64_t log_start_offset;
    int64_t records; /* offsets taken */
    size_t bytes;
} br_log_append_info_t;

/* Opens (creating the directory and a first segment if needed) the log in `dir` (copied).
 * `clean`: the log manager found the clean-shutdown marker -- indexes are trusted after a
 * sanity check. Otherwise every segment from the one holding `recovery_point` on is rescanned:
 * each batch's header, CRC and offsets are checked, the first invalid byte and everything
 * after it (later segments included) are removed, and the indexes rebuilt; a segment that
 * does not start exactly where the recovered one before it ends (a lost tail would leave a
 * hole) is removed with everything after it. `log_start_offset`
 * is the checkpointed start (0 if unknown); if it lies past the recovered end the log is
 * emptied and restarts there. Stray index files without a .log are removed. `ops` and `cfg`'s
 * callback context must outlive the log. Returns SM_OK, SM_ERR_CONFIG (bad cfg), SM_ERR_NOMEM,
 * SM_ERR_IO, SM_ERR_NOSPC or on_batch's error, with a line in eb. */
sm_err_t br_log_open(const br_fileops_t *ops, const char *dir, const br_log_config_t *cfg,
                     bool clean, int64_t recovery_point, int64_t log_start_offset, int64_t now_ms,
                     br_log_t **out, sm_errbuf_t *eb);

/* Closes the log and frees it (accepts NULL; returns SM_OK for NULL). With `clean`, first
 * seals the active segment (final time index entry, trimmed index files) and flushes
 * everything (fsync): SM_OK then means the caller may record a clean shutdown. A failed log,
 * or any error on the way, returns that error (the log is freed all the same). Flush jobs
 * still out must be freed (br_log_flush_job_free) before or after, never completed. */
sm_err_t br_log_close(br_log_t *log, bool clean);

/* Leader append. `buf` holds exactly the batches of `set` (from br_batch_validate_set on the
 * same bytes); both are rewritten in place: each batch gets its offset and `leader_epoch`
 * (and for LogAppendTime the broker's time and a new CRC), and set's headers are updated to
 * match. Rolls first if needed. With flush.messages reached, fsyncs before returning.
 * Returns SM_OK with info (may be NULL) filled; SM_ERR_INVALID for an empty set;
 * SM_ERR_TOO_LARGE if the set is larger than a segment may be (RECORD_LIST_TOO_LARGE);
 * on_batch's error (nothing written); or the sticky I/O error (SM_ERR_IO / SM_ERR_NOSPC). */
sm_err_t br_log_append(br_log_t *log, uint8_t *buf, br_batch_set_t *set, int32_t leader_epoch,
                       int64_t now_ms, br_log_append_info_t *info);

/* Follower append: the batches keep the leader's offsets and epochs and are written as they
 * are. Their offsets must start at or after the log end and increase (SM_ERR_RANGE if not:
 * the follower must truncate first). Same other errors as br_log_append. */
sm_err_t br_log_append_as_follower(br_log_t *log, const uint8_t *buf, const br_batch_set_t *set,
                                   int64_t now_ms, br_log_append_info_t *info);

/* Reads from `offset`: s covers whole batches of one segment, starting with the batch that
 * holds offset (its last offset >= offset, so it may begin before offset), up to max_bytes --
 * the first batch whole even if larger -- and only batches whose last offset < max_offset
 * (exclusive: pass the high watermark, or BR_LOG_NO_BOUND). An empty slice (len 0) at the log
 * end or at the bound. Returns SM_OK, SM_ERR_RANGE (offset below the log start or past the log
 * end: OFFSET_OUT_OF_RANGE), or the sticky I/O error. The slice's fd: see br_segment_slice_t. */
sm_err_t br_log_read(br_log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                     br_log_slice_t *s);

/* Largest batch br_log_offset_for_time reads into memory to walk its records, and largest
 * records section it decompresses from a compressed batch (bigger ones answer their base
 * offset). */
#define BR_LOG_TIME_SEARCH_MAX_BATCH (64u * 1024 * 1024)

/* ListOffsets by time, as Kafka's searchForTimestamp: finds the first batch at or after the
 * log start whose maxTimestamp >= ts, reads it (decompressing its records if it is compressed:
 * gzip, snappy, lz4 or zstd, br_decompress) and answers the offset and timestamp of its first
 * record at or after the log start whose timestamp is >= ts (CreateTime: baseTimestamp +
 * timestampDelta; LogAppendTime: every record has the batch's maxTimestamp). For a batch
 * larger than BR_LOG_TIME_SEARCH_MAX_BATCH, one that does not decompress within that bound
 * (corrupt, too large, unknown codec), or one whose records cannot be walked, *offset is the
 * batch's base offset (clamped to the log start) and *found_ts is -1, with a warning logged.
 * Returns SM_OK, SM_ERR_NOT_FOUND (no such batch: answer -1), SM_ERR_NOMEM, or the sticky I/O
 * error. */
sm_err_t br_log_offset_for_time(br_log_t *log, int64_t ts, int64_t *offset, int64_t *found_ts);

/* Calls fn for the header of every batch from the one holding `offset` (clamped to the log
 * start) to the log end, in order -- e.g. to rebuild the leader-epoch cache. Stops at fn's
 * first non-OK return and returns it; else SM_OK or the sticky I/O error. */
sm_err_t br_log_for_each_batch(br_log_t *log, int64_t offset, br_log_batch_fn fn, void *ctx);

/* Retention (cleanup.policy=delete): deletes whole segments from the oldest while each is
 * entirely below `upper_bound` (its last offset < upper_bound: pass the high watermark) and
 * is older than retention.ms (now_ms minus its largest timestamp), or the log stays at least
 * retention.bytes without it, or it lies wholly below the log start offset. If the active
 * segment itself qualifies (non-empty), a new empty segment is rolled first, so the log never
 * has none. Moves the log start offset to the new first segment's base. *deleted (may be
 * NULL) = segments removed. Returns SM_OK or the sticky I/O error. */
sm_err_t br_log_delete_old_segments(br_log_t *log, int64_t now_ms, int64_t upper_bound,
                                    size_t *deleted);

/* DeleteRecords: moves the log start offset up to `offset` (<= the log end, else
 * SM_ERR_RANGE; the caller ensures <= the high watermark) and deletes the non-active segments
 * wholly below it. A lower offset changes nothing. The caller also truncates the epoch cache
 * from the start (br_epoch_truncate_from_start). Returns SM_OK, SM_ERR_RANGE or the I/O error. */
sm_err_t br_log_set_log_start_offset(br_log_t *log, int64_t offset);

/* Removes every offset >= `offset` (a batch holding offset goes whole, so the new end may be
 * below offset; read br_log_end_offset() after). Nothing happens if offset >= the log end.
 * If offset is below the log start, behaves as br_log_truncate_fully_and_start_at(offset).
 * The recovery point is lowered to the new end. The caller truncates the epoch cache to the
 * new end. Returns SM_OK or the sticky I/O error. */
sm_err_t br_log_truncate_to(br_log_t *log, int64_t offset);

/* Deletes every segment and restarts the log empty at `offset` (>= 0): log start = log end =
 * recovery point = offset. The caller clears the epoch cache. Returns SM_OK, SM_ERR_INVALID or
 * the I/O error. */
sm_err_t br_log_truncate_fully_and_start_at(br_log_t *log, int64_t offset);

/* Forces a roll of a non-empty active segment (tests, admin). Returns SM_OK or the error. */
sm_err_t br_log_roll(br_log_t *log, int64_t now_ms);

/* ---- flushing ----------------------------------------------------------------------------- */

/* True when the flush policy wants a flush now: unflushed data older than flush.interval.ms,
 * or a segment rolled since the last flush (Kafka flushes rolled segments right away). */
bool br_log_flush_due(const br_log_t *log, int64_t now_ms);

/* Loop thread, never waits for the disk: prepares a flush of everything appended so far.
 * *job = NULL when there is nothing to flush. First writes the index entries still pending in
 * memory of every segment with unflushed data (page-cache writes, a few KiB). The job holds
 * its own file descriptors (opened through ops, read-only) for those segments, their
 * indexes, and the directory if segments were created or deleted since the last flush.
 * Returns SM_OK, SM_ERR_NOMEM, SM_ERR_AGAIN (out of file descriptors: try later), or the
 * sticky I/O error (a failed index write, or an open failing otherwise, fails the log). */
sm_err_t br_log_flush_begin(br_log_t *log, int64_t now_ms, br_log_flush_job_t **job);

/* @thread flusher (or any): fsyncs every file of the job through its ops. Touches no log
 * state. Returns SM_OK or the first error (also kept in the job for br_log_flush_done). */
sm_err_t br_log_flush_job_run(br_log_flush_job_t *job);

/* The offset the job makes durable (the log end when it began), and its files. */
int64_t br_log_flush_job_target(const br_log_flush_job_t *job);
size_t br_log_flush_job_fd_count(const br_log_flush_job_t *job);
int br_log_flush_job_fd(const br_log_flush_job_t *job, size_t i);

/* Loop thread: takes the job back and frees it. If it ran without error, the recovery point
 * moves up to its target (unless the log was truncated since it began); if it failed, the log
 * fails with that error, which is returned. */
sm_err_t br_log_flush_done(br_log_t *log, br_log_flush_job_t *job);

/* Frees a job without applying it (the log is being closed). Accepts NULL. */
void br_log_flush_job_free(br_log_flush_job_t *job);

/* Synchronous flush (begin, run, done on this thread): for flush.messages=1, shutdown and
 * tests. Returns SM_OK or the error (the log then fails). */
sm_err_t br_log_flush(br_log_t *log, int64_t now_ms);

/* Waits until every append of this log handed to the writer is written, and runs the
 * writer's completions (all logs'; design note 5). Nothing to do without a writer. */
void br_log_drain(br_log_t *log);

/* Appends handed to the writer and not completed yet. */
size_t br_log_unwritten(const br_log_t *log);

/* While on, appends go to cfg.writer (design note 5); off, they are written on the calling
 * thread once the writer has none of this log's. No effect without a writer. */
void br_log_set_offload(br_log_t *log, bool on);

/* ---- state -------------------------------------------------------------------------------- */

/* The log end offset readers see: appends still with the writer are not counted. */
int64_t br_log_end_offset(const br_log_t *log);
int64_t br_log_start_offset(const br_log_t *log);
int64_t br_log_recovery_point(const br_log_t *log);
uint64_t br_log_size_bytes(const br_log_t *log); /* sum of segment sizes */
/* The active segment's log file (borrowed: dup it to keep it), with its base offset and size
 * in bytes in *base and *size; -1 when the log has no segment. For br_logmgr_writeback. */
int br_log_active_file(const br_log_t *log, int64_t *base, uint64_t *size);
/* Gives back the blocks reserved past the end of the sealed segment based at `base` (see
 * br_logmgr_writeback, log.preallocate): truncates its file to its own size on the writer
 * thread, where no append can meet it, and counts the job as unwritten work: a truncation or
 * close of the log drains it first, so the segment cannot grow or shrink under it. Nothing
 * happens without a writer, for the active segment, for a base no segment starts at, or when
 * less than 4 MiB (or 1/16 of segment.bytes, if less) is unused -- as after a roll for size:
 * freeing blocks can wait for the disk (ext4 mounted with discard), and that would hold up
 * the appends the writer has for its partitions. Advisory: a failure is logged at debug. */
void br_log_release_unused(br_log_t *log, int64_t base);
/* log.segment.bytes of this log (its topic's segment.bytes when overridden). */
int64_t br_log_segment_max_bytes(const br_log_t *log);
/* The topic's max.message.bytes for this log, or 0 when the broker's message.max.bytes applies. */
int64_t br_log_max_message_bytes(const br_log_t *log);

/* Replaces the settings a topic's config can override with cfg's: segment_bytes, segment_ms,
 * index_interval_bytes, retention_ms, retention_bytes, the flush intervals, log_append_time
 * and max_message_bytes (the rest of cfg is ignored). They count from the next append, roll,
 * flush or retention pass, a new index_interval_bytes from the next segment. Checked as
 * br_log_open checks them: SM_ERR_CONFIG (eb says why) leaves the log as it was. Loop thread. */
sm_err_t br_log_reconfigure(br_log_t *log, const br_log_config_t *cfg, sm_errbuf_t *eb);
size_t br_log_segment_count(const br_log_t *log);
/* Base offset of the i-th segment (i < count), oldest first. */
int64_t br_log_segment_base(const br_log_t *log, size_t i);
const char *br_log_dir(const br_log_t *log);
bool br_log_is_failed(const br_log_t *log);
/* The sticky error, or SM_OK. */
sm_err_t br_log_error(const br_log_t *log);

#endif
