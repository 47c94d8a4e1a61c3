/*
 * br_index: the sparse indexes of one log segment -- the offset index (`.index`) and the time
 * index (`.timeindex`). The offset index maps an offset to the file position of a batch so
 * that a read need not scan the segment from its start; the time index maps a timestamp to
 * the offset of the batch that first reached it (ListOffsets by time, retention). br_segment
 * owns two of these; nothing else uses them.
 *
 * On disk (big-endian, no header, no checksum: indexes are rebuilt when in doubt):
 *
 *   .index       | relOffset int32 | position int32 |          8 bytes an entry
 *   .timeindex   | timestamp int64 | relOffset int32 |        12 bytes an entry
 *
 * relOffset = offset - segment base offset. The entries live in memory (a sorted array
 * searched by bisection); an append only adds to it, and the entries not yet in the file are
 * written in bulk -- one pwrite of up to 256 entries -- when 256 are pending, and by
 * br_index_flush, br_index_trim, br_index_truncate_to and br_index_close. Kafka keeps its
 * indexes in mmapped files that the kernel writes back when it likes; the same reasoning holds
 * here: an index is derived data, rebuilt from the .log by recovery whenever the shutdown was
 * not clean, so entries that a crash loses cost a rebuild, never data. Whoever fsyncs the
 * file (the log's flush, design note 3 of br_log.h) calls br_index_flush first. The file grows
 * with its entries (no preallocation), so a clean close leaves it exactly its entries long
 * and a torn last entry after a crash is simply ignored.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. Offset index: offsets strictly increase, positions strictly increase, every offset
 *        >= base and offset - base <= INT32_MAX, every position <= INT32_MAX.
 *     2. Time index: timestamps strictly increase (each entry is the largest timestamp seen
 *        so far), offsets never decrease, every offset >= base.
 *     3. The first written * entry_size bytes of the file equal the first `written` entries
 *        in memory (written <= count; the rest are pending), unless a write failed (then the
 *        caller fails the whole log). What the file holds past that is meaningless and is
 *        overwritten by the next write or cut by trim / truncate_to.
 *   "Full" (count >= max_bytes / entry_size) is advice for rolling: appends beyond it are
 *   accepted, so that a segment about to roll can still record its final time entry.
 */
#ifndef BR_INDEX_H
#define BR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_fileops.h"
#include "sm_err.h"

#define BR_INDEX_OFFSET_ENTRY_SIZE 8
#define BR_INDEX_TIME_ENTRY_SIZE   12

typedef enum br_index_kind {
    BR_INDEX_OFFSET = 0, /* key = absolute offset, value = file position */
    BR_INDEX_TIME = 1,   /* key = timestamp, value = absolute offset */
} br_index_kind_t;

typedef struct br_index_entry {
    int64_t key;
    int64_t value;
} br_index_entry_t;

typedef struct br_index br_index_t;

/* Opens (creating it if needed) the index file at `path` (copied) for the segment whose base
 * offset is `base`. With `load`, existing entries are read (a torn last entry is ignored);
 * without, the file is truncated to empty. `max_bytes` is log.index.size.max.bytes. `ops` must
 * outlive the index. Returns SM_OK, SM_ERR_INVALID (max_bytes too small for one entry),
 * SM_ERR_NOMEM, SM_ERR_IO or SM_ERR_NOSPC. Nothing is checked about loaded entries: see
 * br_index_sanity_check. */
sm_err_t br_index_open(const br_fileops_t *ops, const char *path, br_index_kind_t kind,
                       int64_t base, size_t max_bytes, bool load, br_index_t **out);

/* Writes the pending entries (best effort: a failure is only logged), closes the file and
 * frees the index. Accepts NULL. */
void br_index_close(br_index_t *idx);

/* Appends an entry. Offset index: (offset, position), both greater than the last entry's
 * (else SM_ERR_INVALID) and within int32 of the base / of zero (else SM_ERR_RANGE). Time
 * index: (timestamp, offset); an entry whose timestamp is not greater than the last one is
 * skipped (SM_OK: the index keeps the largest timestamp so far), an offset below the last one
 * or the base is SM_ERR_INVALID. The entry is kept in memory; when it makes 256 pending,
 * they are written, and SM_ERR_IO / SM_ERR_NOSPC means that write failed (the entry is then
 * not kept in memory). SM_ERR_NOMEM if the array cannot grow. */
sm_err_t br_index_append(br_index_t *idx, int64_t key, int64_t value);

/* Writes the pending entries to the file (no fsync). Returns SM_OK, SM_ERR_IO or
 * SM_ERR_NOSPC; the entries that could not be written stay pending. */
sm_err_t br_index_flush(br_index_t *idx);

/* The entry with the greatest key <= target. Returns false (e untouched) if there is none. */
bool br_index_lookup(const br_index_t *idx, int64_t target, br_index_entry_t *e);

/* The entry with the greatest value <= limit (values ascend), e.g. the last indexed batch
 * that starts at or before a file position. Returns false if there is none. */
bool br_index_lookup_value(const br_index_t *idx, int64_t limit, br_index_entry_t *e);

/* Drops every entry about an offset >= `offset` (the key of the offset index, the value of
 * the time index), writes the pending entries that remain and shortens the file to exactly
 * the entries kept. Returns SM_OK, SM_ERR_IO or SM_ERR_NOSPC. */
sm_err_t br_index_truncate_to(br_index_t *idx, int64_t offset);

/* Drops every entry and empties the file (before a rebuild). */
sm_err_t br_index_reset(br_index_t *idx);

/* Writes the pending entries and shortens the file to exactly its entries (at a seal, or
 * after a load that found a torn entry). Returns SM_OK, SM_ERR_IO or SM_ERR_NOSPC. */
sm_err_t br_index_trim(br_index_t *idx);

/* Checks the loaded entries against the invariants, with `log_size` the size of the segment's
 * .log (offset index positions must lie below it). Returns SM_OK or SM_ERR_CORRUPT (rebuild
 * the index). */
sm_err_t br_index_sanity_check(const br_index_t *idx, uint64_t log_size);

/* Number of entries; whether the index has reached its size limit; the last entry (false if
 * empty); the i-th entry (i < count). */
size_t br_index_count(const br_index_t *idx);
bool br_index_is_full(const br_index_t *idx);
bool br_index_last(const br_index_t *idx, br_index_entry_t *e);
br_index_entry_t br_index_at(const br_index_t *idx, size_t i);

/* The file descriptor (owned by the index; br_index_flush before an fsync of it) and the
 * path. */
int br_index_fd(const br_index_t *idx);
const char *br_index_path(const br_index_t *idx);

#endif
