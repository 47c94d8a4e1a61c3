/*
 * br_checkpoint: crash-safe small state files of the storage engine, in Kafka's formats.
 *
 * Two layers. The file layer writes a whole file atomically (write `<path>.tmp`, fsync it,
 * rename it over `<path>`, fsync the directory: Redis' rewrite dance, Kafka's CheckpointFile)
 * and reads a checkpoint text strictly: a version line `0`, a count line, then exactly `count`
 * lines of space-separated fields; anything else is SM_ERR_CORRUPT with a one-line message
 * naming the file and the line. The offset layer, br_checkpoint_t, is the per-log-dir map
 * `topic partition offset` used by `recovery-point-offset-checkpoint`,
 * `replication-offset-checkpoint` (high watermarks) and `log-start-offset-checkpoint`.
 * The leader-epoch cache (br_epoch) reuses the file layer with two fields per line.
 *
 *   0                  <- version
 *   2                  <- count
 *   orders 0 1234      <- topic partition offset   (leader-epoch-checkpoint: epoch startOffset)
 *   orders 1 998
 *
 * All I/O goes through the caller's br_fileops_t. A crash (or an injected failure) at any
 * step before the rename leaves the old file intact; a stale `<path>.tmp` left by such a
 * crash is never read and is truncated by the next write. Runs on whichever thread calls it;
 * the functions share no state.
 */
#ifndef BR_CHECKPOINT_H
#define BR_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_fileops.h"
#include "sm_err.h"

#define BR_CHECKPOINT_RECOVERY    "recovery-point-offset-checkpoint"
#define BR_CHECKPOINT_REPLICATION "replication-offset-checkpoint"
#define BR_CHECKPOINT_LOG_START   "log-start-offset-checkpoint"
#define BR_CHECKPOINT_TMP_SUFFIX  ".tmp"
#define BR_CHECKPOINT_LINE_MAX    512         /* longest entry line accepted, bytes */
#define BR_CHECKPOINT_FILE_MAX    (64u << 20) /* largest checkpoint file read, bytes */
#define BR_CHECKPOINT_FIELDS_MAX  4
#define BR_CHECKPOINT_TOPIC_MAX   249 /* Kafka's limit on topic name length */

/* ---- file layer --------------------------------------------------------------------------- */

/* Replaces the file at `path` with `len` bytes of `data`, atomically: `<path>.tmp` is created
 * (or truncated), written, fsynced and closed, renamed over `path`, then the directory holding
 * `path` is fsynced. On failure the .tmp file is removed when possible. Returns SM_OK,
 * SM_ERR_IO or SM_ERR_NOSPC (with a line naming the step and the errno in eb), or
 * SM_ERR_INVALID if path is too long. A failure of the final directory fsync is reported
 * although the new content is already visible. */
sm_err_t br_checkpoint_write_file(const br_fileops_t *ops, const char *path, const void *data,
                                  size_t len, sm_errbuf_t *eb);

/* As br_checkpoint_write_file without either fsync: a crash of the process finds the old or the
 * new content, whole, but after a power cut the file may hold older content, or be empty or
 * torn. Only for files whose older content is still right (see br_epoch_truncate_from_start). */
sm_err_t br_checkpoint_write_file_unsynced(const br_fileops_t *ops, const char *path,
                                           const void *data, size_t len, sm_errbuf_t *eb);

/* Reads the whole file at `path` into a new NUL-terminated buffer (*out, freed by the caller
 * with free(); *len excludes the NUL). Returns SM_OK, SM_ERR_NOT_FOUND, SM_ERR_IO, SM_ERR_NOMEM
 * or SM_ERR_TOO_LARGE (beyond BR_CHECKPOINT_FILE_MAX), with a line in eb. */
sm_err_t br_checkpoint_read_file(const br_fileops_t *ops, const char *path, char **out, size_t *len,
                                 sm_errbuf_t *eb);

/* Called once per entry line with its `nfields` fields (NUL-terminated, in a scratch buffer
 * valid only during the call) and the 1-based line number. A non-OK return stops reading and
 * is returned by br_checkpoint_read_lines; the callback writes its own line into eb. */
typedef sm_err_t (*br_checkpoint_line_fn)(void *arg, const char *path, size_t lineno, char **fields,
                                          sm_errbuf_t *eb);

/* Reads the checkpoint at `path` strictly: version must be 0, the count a non-negative decimal
 * integer, then exactly `count` lines of exactly `nfields` (1..BR_CHECKPOINT_FIELDS_MAX)
 * fields separated by single spaces, each line ending in '\n' (the last may omit it), and
 * nothing after them. Returns SM_OK; SM_ERR_NOT_FOUND if the file does not exist;
 * SM_ERR_IO; SM_ERR_TOO_LARGE if the file exceeds BR_CHECKPOINT_FILE_MAX; SM_ERR_CORRUPT
 * with "PATH:LINE: problem" in eb; SM_ERR_UNSUPPORTED for a version other than 0; or
 * whatever `fn` returns. */
sm_err_t br_checkpoint_read_lines(const br_fileops_t *ops, const char *path, size_t nfields,
                                  br_checkpoint_line_fn fn, void *arg, sm_errbuf_t *eb);

/* Parses a plain decimal integer (optional leading '-', digits only, no spaces, no '+')
 * within [min, max]. Returns SM_OK, SM_ERR_CORRUPT (not a number) or SM_ERR_RANGE. */
sm_err_t br_checkpoint_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* ---- offset checkpoints: topic partition offset ------------------------------------------- */

typedef struct br_checkpoint br_checkpoint_t;

/* An empty map. Returns NULL when out of memory. Free with br_checkpoint_free (NULL ok). */
br_checkpoint_t *br_checkpoint_new(void);
void br_checkpoint_free(br_checkpoint_t *cp);

/* Sets the offset of (topic, partition), adding the entry or replacing its offset. The topic
 * is copied. Returns SM_OK, SM_ERR_NOMEM, or SM_ERR_INVALID for a topic that is not a legal
 * Kafka name (1..249 characters of [a-zA-Z0-9._-]), a negative partition or a negative
 * offset. */
sm_err_t br_checkpoint_put(br_checkpoint_t *cp, const char *topic, int32_t partition,
                           int64_t offset);

/* Finds the offset of (topic, partition). Returns SM_OK or SM_ERR_NOT_FOUND. */
sm_err_t br_checkpoint_get(const br_checkpoint_t *cp, const char *topic, int32_t partition,
                           int64_t *offset);

/* Number of entries, and the i-th in insertion order (i < count; pointers stay valid until
 * the next put or free). */
size_t br_checkpoint_count(const br_checkpoint_t *cp);
void br_checkpoint_at(const br_checkpoint_t *cp, size_t i, const char **topic, int32_t *partition,
                      int64_t *offset);

/* Writes the map atomically to `path` (see br_checkpoint_write_file). */
sm_err_t br_checkpoint_write(const br_fileops_t *ops, const char *path, const br_checkpoint_t *cp,
                             sm_errbuf_t *eb);

/* As br_checkpoint_write without either fsync: readers see the old or the new map, whole, and
 * a crash of the process keeps it, but after a power cut the file may hold an older map or be
 * empty or torn (a reader then finds it stale or SM_ERR_CORRUPT). Only for maps whose loss is
 * safe: no device cache flush, which on a shared or slow disk stalls every writer for a while. */
sm_err_t br_checkpoint_write_unsynced(const br_fileops_t *ops, const char *path,
                                      const br_checkpoint_t *cp, sm_errbuf_t *eb);

/* Whether a and b hold the same (topic, partition) -> offset entries, in any order. */
bool br_checkpoint_equal(const br_checkpoint_t *a, const br_checkpoint_t *b);

/* Reads `path` into a new map (*out, owned by the caller). Besides the errors of
 * br_checkpoint_read_lines, a bad topic name, a negative partition or offset, or a duplicate
 * (topic, partition) is SM_ERR_CORRUPT naming the line. On error *out is NULL. */
sm_err_t br_checkpoint_read(const br_fileops_t *ops, const char *path, br_checkpoint_t **out,
                            sm_errbuf_t *eb);

#endif
