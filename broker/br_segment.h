/*
 * br_segment: one segment of a partition log -- a `.log` file of record batches stored exactly
 * as appended, with its offset index and time index (br_index). Files are named by the
 * segment's base offset on 20 digits: 00000000000000001234.log / .index / .timeindex. The
 * segment appends whole validated batch sets, finds the batch holding an offset (index lookup
 * then a header scan with pread), hands out file slices for reads, truncates, and on open
 * either trusts its indexes (clean shutdown) or rescans and repairs itself (recovery). It
 * knows nothing of rolling, retention or flushing policy: br_log decides those.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. The .log holds `size` bytes of whole, valid batches, back to back, whose offsets
 *        strictly increase from >= base; `next_offset` is the last batch's last offset + 1
 *        (base when empty). Every batch's last offset - base fits in int32 and every batch
 *        starts below INT32_MAX, so index entries can hold them.
 *     2. An offset index entry (o, p) means "the batch whose base offset is o starts at p".
 *        An entry is added before a batch when index_interval_bytes or more were appended
 *        since the previous entry (never before the first batch: position 0 needs none).
 *     3. A time index entry (t, o) means "t is the largest maxTimestamp among the batches up
 *        to and including some point, and o is the base offset of the first batch that
 *        reached it". Added together with offset entries, and once more when the segment is
 *        sealed (rolled or closed cleanly), so that its last entry is the segment's largest
 *        timestamp.
 *     4. After a failed write the segment may break 1-3; br_log then fails the whole log and
 *        only closes it.
 *     5. Index entries live in memory first; br_index writes them in bulk (every 256, at
 *        seal, truncation and close, and when br_log's flush calls br_segment_flush_indexes
 *        before its fsync), so the index files may lag the .log until then. A trusted open
 *        sees only segments that a clean close or a flush (the recovery point) wrote whole;
 *        recovery rebuilds the others.
 *     6. Appends may be reserved now and written later by another thread (br_segment_reserve,
 *        then br_segment_written when the bytes are in the file, in order): size,
 *        next_offset and the indexes count them at once, so further appends and rolls go on,
 *        but every read (translate, read, find_by_time, scan) stops at what was written.
 *        Sealing touches only the indexes, so a roll need not wait; truncation and close
 *        expect nothing unwritten (br_log drains its writer first).
 *   Opening
 *     trust:   load both indexes, sanity-check them, scan the batch headers after the last
 *              offset entry to find next_offset; any inconsistency falls back to recover.
 *     recover: reset both indexes, read every batch, check its header, CRC and offsets,
 *              rebuild the indexes, and truncate the .log at the first invalid byte.
 */
#ifndef BR_SEGMENT_H
#define BR_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_batch.h"
#include "broker/br_fileops.h"
#include "broker/br_index.h"
#include "sm_err.h"

#define BR_SEGMENT_NAME_DIGITS  20
#define BR_SEGMENT_LOG_SUFFIX   ".log"
#define BR_SEGMENT_INDEX_SUFFIX ".index"
#define BR_SEGMENT_TIME_SUFFIX  ".timeindex"
#define BR_SEGMENT_MAX_POSITION ((uint64_t)INT32_MAX) /* a segment never grows past this */

typedef struct br_segment br_segment_t;

typedef struct br_segment_config {
    size_t index_interval_bytes; /* log.index.interval.bytes */
    size_t index_max_bytes;      /* log.index.size.max.bytes */
} br_segment_config_t;

/* A region of a segment's .log for a zero-copy read (sendfile). The fd belongs to the segment:
 * valid until the segment is deleted, truncated or closed -- a caller that sends later must
 * dup() it (libevent's evbuffer_add_file takes ownership of the fd it is given). */
typedef struct br_segment_slice {
    int fd;               /* -1 when len == 0 */
    uint64_t pos;         /* file position of the first byte */
    size_t len;           /* bytes: whole batches, back to back */
    int64_t first_offset; /* base offset of the first batch; -1 when empty */
    int64_t next_offset;  /* where a following read should start */
} br_segment_slice_t;

/* Called for each batch found while recovering (in offset order). A non-OK return stops the
 * recovery and is returned by br_segment_open. */
typedef sm_err_t (*br_segment_batch_fn)(void *ctx, const br_batch_header_t *h);

/* Writes "<dir>/<base on 20 digits><suffix>" into buf. Returns SM_OK or SM_ERR_INVALID if it
 * does not fit. */
sm_err_t br_segment_path(char *buf, size_t cap, const char *dir, int64_t base, const char *suffix);

/* Creates a new, empty segment at `base` in `dir` (existing files of that name are
 * truncated). `ops` must outlive the segment. Returns SM_OK, SM_ERR_NOMEM, SM_ERR_INVALID,
 * SM_ERR_IO or SM_ERR_NOSPC. */
sm_err_t br_segment_create(const br_fileops_t *ops, const char *dir, int64_t base,
                           const br_segment_config_t *cfg, int64_t now_ms, br_segment_t **out);

/* Opens the existing segment at `base` (its .log must exist). With `recover` false, trusts
 * the indexes (see the design notes; falls back to recovering when they do not hold up);
 * with `recover` true, rescans and repairs. `fn` (may be NULL) sees every batch a recovery
 * reads. *truncated (if not NULL) tells whether invalid bytes were cut from the .log -- the
 * log then drops every later segment. Returns SM_OK, SM_ERR_NOMEM, SM_ERR_INVALID,
 * SM_ERR_IO, SM_ERR_NOSPC or fn's error. */
sm_err_t br_segment_open(const br_fileops_t *ops, const char *dir, int64_t base,
                         const br_segment_config_t *cfg, int64_t now_ms, bool recover,
                         br_segment_batch_fn fn, void *ctx, br_segment_t **out, bool *truncated);

/* Closes the files and frees the segment. Accepts NULL. */
void br_segment_close(br_segment_t *seg);

/* Closes the segment and unlinks its three files (.log first; a missing file is fine). The
 * segment is freed whatever happens. Returns SM_OK or the first SM_ERR_IO. */
sm_err_t br_segment_delete(br_segment_t *seg);

/* Appends the `set->bytes` bytes at buf: the batches described by set (already stamped with
 * their final offsets), back to back, with base offsets >= next_offset. Writes the .log in one
 * pwrite (retrying short writes) and adds the index entries, which br_index writes in bulk
 * (see br_segment_flush_indexes). Returns SM_OK; SM_ERR_RANGE if
 * the batches would not fit the segment (position past BR_SEGMENT_MAX_POSITION or a relative
 * offset past int32: roll first) or go backwards; SM_ERR_IO / SM_ERR_NOSPC if a write failed
 * -- the .log is then cut back to its old size when possible and the segment must be
 * considered broken (design note 4). */
sm_err_t br_segment_append(br_segment_t *seg, const uint8_t *buf, const br_batch_set_t *set,
                           int64_t now_ms);

/* Reserves the place of the batches of set (stamped, as for br_segment_append) without
 * writing them: *pos = where their bytes go in the .log (br_segment_fd), which the caller
 * writes, then reports with br_segment_written. Same checks and errors as br_segment_append,
 * but never an I/O error. */
sm_err_t br_segment_reserve(br_segment_t *seg, const br_batch_set_t *set, int64_t now_ms,
                            uint64_t *pos);

/* The bytes of the .log up to `end` are written, and `next_offset` is the offset after the
 * last batch they hold: readers may see them. Calls must come in the order of the
 * reservations; a smaller end than already reported is ignored. */
void br_segment_written(br_segment_t *seg, uint64_t end, int64_t next_offset);

/* Finds the first batch whose last offset >= offset. Returns SM_OK with its position and
 * header, SM_ERR_NOT_FOUND if no batch in the segment reaches offset, or SM_ERR_IO /
 * SM_ERR_CORRUPT if the file cannot be read. */
sm_err_t br_segment_translate(br_segment_t *seg, int64_t offset, uint64_t *pos,
                              br_batch_header_t *h);

/* Fills s with the batches from the one holding `offset` (first batch whose last offset >=
 * offset) up to max_bytes bytes -- the first batch whole even if larger -- and only batches
 * whose last offset < max_offset (exclusive bound, e.g. the high watermark). An empty slice
 * (len 0) when the first such batch reaches max_offset. Returns SM_OK, SM_ERR_NOT_FOUND if
 * offset is past the segment's last batch, or SM_ERR_IO / SM_ERR_CORRUPT. */
sm_err_t br_segment_read(br_segment_t *seg, int64_t offset, size_t max_bytes, int64_t max_offset,
                         br_segment_slice_t *s);

/* The base offset of the first batch whose maxTimestamp >= ts. Returns SM_OK, SM_ERR_NOT_FOUND
 * if none, SM_ERR_IO or SM_ERR_CORRUPT. */
sm_err_t br_segment_find_by_time(br_segment_t *seg, int64_t ts, int64_t *offset);

/* Calls fn for every batch header from the batch holding `offset` to the end; stops at the
 * first non-OK return and returns it. SM_ERR_IO / SM_ERR_CORRUPT on read failure. */
sm_err_t br_segment_scan(br_segment_t *seg, int64_t offset, br_segment_batch_fn fn, void *ctx);

/* Removes every batch whose last offset >= offset (the batch holding offset goes whole) and
 * the index entries that pointed at them; next_offset becomes the last remaining batch's
 * last offset + 1 (base if none). Returns SM_OK, SM_ERR_IO or SM_ERR_NOSPC. */
sm_err_t br_segment_truncate_to(br_segment_t *seg, int64_t offset);

/* Before the segment stops being the active one, or at a clean close: records the final time
 * index entry, writes the pending index entries and trims both index files to their entries.
 * Returns SM_OK or the I/O error. */
sm_err_t br_segment_seal(br_segment_t *seg);

/* Writes the index entries still pending in memory to both index files (no fsync): the log's
 * flush calls it before it fsyncs them. Returns SM_OK or the I/O error (SM_ERR_IO /
 * SM_ERR_NOSPC). */
sm_err_t br_segment_flush_indexes(br_segment_t *seg);

/* Accessors. */
int64_t br_segment_base(const br_segment_t *seg);
int64_t br_segment_next_offset(const br_segment_t *seg);
uint64_t br_segment_size(const br_segment_t *seg);         /* appended, written or reserved */
uint64_t br_segment_written_size(const br_segment_t *seg); /* what readers see (note 6) */
bool br_segment_is_empty(const br_segment_t *seg);
bool br_segment_index_full(const br_segment_t *seg);
/* Largest maxTimestamp of its batches, or -1 if none carries one. */
int64_t br_segment_max_timestamp(const br_segment_t *seg);
/* For time retention: the largest timestamp, or the last append (or open) time if none. */
int64_t br_segment_retention_timestamp(const br_segment_t *seg);
/* For time rolling (Kafka's timeWaitedForRoll): incoming_max_ts minus the first batch's
 * maxTimestamp when that is known, else now_ms minus the segment's creation (or open) time. */
int64_t br_segment_roll_age_ms(const br_segment_t *seg, int64_t incoming_max_ts, int64_t now_ms);
int br_segment_fd(const br_segment_t *seg);
const char *br_segment_log_path(const br_segment_t *seg);
const br_index_t *br_segment_offset_index(const br_segment_t *seg);
const br_index_t *br_segment_time_index(const br_segment_t *seg);

#endif
