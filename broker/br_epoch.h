/*
 * br_epoch: the leader-epoch cache of one partition (Kafka's LeaderEpochFileCache, KIP-101).
 *
 * It maps each leader epoch the log has seen to the first offset written in that epoch, and
 * answers OffsetForLeaderEpoch: "where does epoch E end in your log?", which lets a follower
 * truncate exactly to the point where it diverged from the leader instead of to its high
 * watermark. The cache lives in memory and in `<partition dir>/leader-epoch-checkpoint`
 * (Kafka's format: version 0, a count, then `epoch startOffset` lines), rewritten atomically
 * through br_checkpoint after every change. One cache per partition log; loop thread only.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. Entries are sorted; both epochs and start offsets strictly increase.
 *     2. Epochs and start offsets are >= 0.
 *     3. After every successful change the file holds exactly the entries in memory. When a
 *        write fails the change stays in memory (the running broker keeps using it) and the
 *        error is returned: the caller treats it as a failed log dir, as Kafka does.
 *     4. Every write is fsynced (file and directory) before the change returns, except that of
 *        truncate_from_start. That one may be lost to a power cut, leaving the file as of the
 *        last fsynced write, and that is still right: the only changes since are moves of the
 *        log start, which only drop or clamp entries below the new start, and a broker opening
 *        the log applies truncate_from_start at the log's start again (br_logmgr). So retention
 *        deleting segments of many partitions costs no device cache flush on the loop thread
 *        (Kafka, KAFKA-15046, stopped fsyncing here for the same reason). An assign, whose loss
 *        would leave batches below the recovery point without their epoch, and a
 *        truncate_from_end, which later appends of the same epoch would not rewrite, stay synced.
 *   Transitions
 *     assign(e, o)          e > latest and o > latest start: append (e, o)
 *                           e > latest and o == latest start: replace the latest (its epoch
 *                           wrote nothing); e == latest: keep the first start offset;
 *                           e < latest: refused (SM_ERR_FENCED); o < latest start with a newer
 *                           e: refused (SM_ERR_RANGE)
 *     truncate_from_end(o)  drop entries with start >= o (the log was truncated to o)
 *     truncate_from_start(o) drop entries with start <= o, then put the last dropped one back
 *                           with start o (the log start moved to o)
 *     clear()               drop everything (log deleted or fully truncated)
 */
#ifndef BR_EPOCH_H
#define BR_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#include "broker/br_fileops.h"
#include "sm_err.h"

#define BR_EPOCH_CHECKPOINT       "leader-epoch-checkpoint"
#define BR_EPOCH_UNDEFINED        (-1)
#define BR_EPOCH_UNDEFINED_OFFSET (-1)

typedef struct br_epoch br_epoch_t;

/* Opens the cache of the partition directory `dir` (copied), loading `leader-epoch-checkpoint`
 * if it exists; a missing file is an empty cache. `ops` must outlive the cache. Returns SM_OK,
 * SM_ERR_NOMEM, SM_ERR_IO, or SM_ERR_CORRUPT (malformed file, or entries that are not
 * strictly increasing) with "PATH:LINE: problem" in eb. */
sm_err_t br_epoch_open(const br_fileops_t *ops, const char *dir, br_epoch_t **out, sm_errbuf_t *eb);
void br_epoch_free(br_epoch_t *c);

/* Records that `epoch` starts at `start_offset` (see the transition table). Returns SM_OK (also
 * when nothing changed), SM_ERR_INVALID for negative arguments, SM_ERR_FENCED for an epoch
 * older than the latest, SM_ERR_RANGE for a start offset below the latest one, or the write
 * error of the checkpoint file. */
sm_err_t br_epoch_assign(br_epoch_t *c, int32_t epoch, int64_t start_offset, sm_errbuf_t *eb);

/* OffsetForLeaderEpoch as in Kafka 2.0 (KIP-101/279): for the latest epoch, (it,
 * log_end_offset); for an epoch between the first and the latest, (the largest known epoch
 * <= requested, the start offset of the next higher known epoch); for BR_EPOCH_UNDEFINED, an
 * epoch below the first, above the latest, or an empty cache, (BR_EPOCH_UNDEFINED,
 * BR_EPOCH_UNDEFINED_OFFSET). (Kafka 2.1+ answers an epoch below the first with (requested,
 * first start offset); we keep the 2.0 answer, on which the follower truncates to its HW.) */
void br_epoch_end_offset_for(const br_epoch_t *c, int32_t requested, int64_t log_end_offset,
                             int32_t *epoch, int64_t *end_offset);

/* The log was truncated to `offset` (the new log end): drops entries with start >= offset.
 * Returns SM_OK, SM_ERR_INVALID for a negative offset, or the write error. */
sm_err_t br_epoch_truncate_from_end(br_epoch_t *c, int64_t offset, sm_errbuf_t *eb);

/* The log start moved to `offset`: drops entries wholly below it and clamps the start of the
 * first remaining epoch to `offset`. Returns SM_OK, SM_ERR_INVALID, or the write error. */
sm_err_t br_epoch_truncate_from_start(br_epoch_t *c, int64_t offset, sm_errbuf_t *eb);

/* Drops every entry. Returns SM_OK or the write error. */
sm_err_t br_epoch_clear(br_epoch_t *c, sm_errbuf_t *eb);

/* The latest epoch and its start offset, or BR_EPOCH_UNDEFINED / BR_EPOCH_UNDEFINED_OFFSET
 * when empty. */
int32_t br_epoch_latest(const br_epoch_t *c);
int64_t br_epoch_latest_start(const br_epoch_t *c);

/* The epoch in which `offset` was written (the entry with the greatest start <= offset), or
 * BR_EPOCH_UNDEFINED if offset is below the first entry or the cache is empty. */
int32_t br_epoch_epoch_for(const br_epoch_t *c, int64_t offset);

/* Number of entries and the i-th (i < count), oldest first. */
size_t br_epoch_count(const br_epoch_t *c);
void br_epoch_at(const br_epoch_t *c, size_t i, int32_t *epoch, int64_t *start_offset);

#endif
