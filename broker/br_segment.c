/*
 * br_segment: a segment's .log file and its two indexes: append, lookup, zero-copy reads,
 * truncation, and open with trust or recovery. See br_segment.h for the contract and the
 * design notes.
 */
#include "broker/br_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sm_crc32c.h"
#include "sm_log.h"

#define BR_SEGMENT_CRC_CHUNK (64u * 1024u) /* bytes read at a time to check a CRC */

struct br_segment {
    const br_fileops_t *ops;
    br_segment_config_t cfg;
    char *log_path;
    int fd;
    br_index_t *oidx;
    br_index_t *tidx;
    int64_t base;
    int64_t next_offset;
    uint64_t size;
    uint64_t bytes_since_index;
    int64_t max_ts;
    int64_t offset_of_max_ts;
    int64_t first_batch_ts; /* maxTimestamp of the first batch; -1 if unknown or none */
    int64_t created_ms;
    int64_t modified_ms;
    /* The last batch header read and checked, at hdr_pos (UINT64_MAX: none). A consumer's
     * next read starts where its last slice ended, at the header br_segment_read read to
     * find that end: one pread a slice instead of two. Any truncation of the .log drops it;
     * appends never change bytes already written. */
    uint64_t hdr_pos;
    br_batch_header_t hdr;
    /* Reserved appends (br_segment_reserve) not yet written by the log's writer thread: size
     * and next_offset count them, readers see only vis_size / vis_next (design note 6). */
    bool unwritten;
    uint64_t vis_size;
    int64_t vis_next;
};

/* The bytes and the end offset readers may see (design note 6). */
static uint64_t br_segment_rd_size(const br_segment_t *seg)
{
    return seg->unwritten ? seg->vis_size : seg->size;
}

static int64_t br_segment_rd_next(const br_segment_t *seg)
{
    return seg->unwritten ? seg->vis_next : seg->next_offset;
}

static sm_err_t br_segment_errno(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? SM_ERR_NOSPC : SM_ERR_IO;
}

sm_err_t br_segment_path(char *buf, size_t cap, const char *dir, int64_t base, const char *suffix)
{
    int n;

    if (base < 0)
        return SM_ERR_INVALID;
    n = snprintf(buf, cap, "%s/%020" PRId64 "%s", dir, base, suffix);
    return (n < 0 || (size_t)n >= cap) ? SM_ERR_INVALID : SM_OK;
}

/* Reads exactly len bytes at pos. SM_ERR_TRUNCATED if the file ends first. */
static sm_err_t br_segment_pread(br_segment_t *seg, void *buf, size_t len, uint64_t pos)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = seg->ops->pread(seg->ops->ctx, seg->fd, p, len, (off_t)pos);

        if (n < 0) {
            int e = errno;

            sm_log_error("%s: read failed: %s", seg->log_path, strerror(e));
            return br_segment_errno(e);
        }
        if (n == 0)
            return SM_ERR_TRUNCATED;
        p += n;
        len -= (size_t)n;
        pos += (uint64_t)n;
    }
    return SM_OK;
}

static sm_err_t br_segment_pwrite(br_segment_t *seg, const uint8_t *buf, size_t len, uint64_t pos)
{
    while (len > 0) {
        ssize_t n = seg->ops->pwrite(seg->ops->ctx, seg->fd, buf, len, (off_t)pos);

        if (n <= 0) {
            int e = n < 0 ? errno : EIO;

            sm_log_error("%s: write failed: %s", seg->log_path, strerror(e));
            return br_segment_errno(e);
        }
        buf += n;
        len -= (size_t)n;
        pos += (uint64_t)n;
    }
    return SM_OK;
}

static sm_err_t br_segment_ftruncate(br_segment_t *seg, uint64_t len)
{
    seg->hdr_pos = UINT64_MAX;
    if (seg->ops->ftruncate(seg->ops->ctx, seg->fd, (off_t)len) != 0) {
        int e = errno;

        sm_log_error("%s: truncate to %" PRIu64 " failed: %s", seg->log_path, len, strerror(e));
        return br_segment_errno(e);
    }
    return SM_OK;
}

static sm_err_t br_segment_file_size(br_segment_t *seg, uint64_t *size, int64_t *mtime_ms)
{
    struct stat st;

    if (fstat(seg->fd, &st) != 0) {
        sm_log_error("%s: stat failed: %s", seg->log_path, strerror(errno));
        return SM_ERR_IO;
    }
    *size = (uint64_t)st.st_size;
    if (mtime_ms != NULL)
        *mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return SM_OK;
}

/* Reads and checks the header of the batch at pos, which must end by `end`. Returns SM_OK,
 * SM_ERR_TRUNCATED (the header or the batch runs past end), SM_ERR_CORRUPT (a header that
 * cannot be a valid batch) or the read error. */
static sm_err_t br_segment_read_header(br_segment_t *seg, uint64_t pos, uint64_t end,
                                       br_batch_header_t *h)
{
    uint8_t buf[BR_BATCH_HEADER_SIZE];
    sm_err_t err;

    if (pos > end || end - pos < BR_BATCH_HEADER_SIZE)
        return SM_ERR_TRUNCATED;
    if (pos == seg->hdr_pos) {
        *h = seg->hdr;
        return br_batch_size(h) > end - pos ? SM_ERR_TRUNCATED : SM_OK;
    }
    err = br_segment_pread(seg, buf, sizeof(buf), pos);
    if (err == SM_OK)
        err = br_batch_header_parse(buf, sizeof(buf), h);
    if (err == SM_OK && br_batch_check_header(h, NULL) != SM_OK)
        err = SM_ERR_CORRUPT;
    if (err == SM_OK) {
        seg->hdr_pos = pos;
        seg->hdr = *h;
    }
    if (err == SM_OK && br_batch_size(h) > end - pos)
        err = SM_ERR_TRUNCATED;
    return err;
}

/* Computes the CRC of the batch at pos from the file, in chunks. Returns SM_OK if it matches,
 * SM_ERR_CORRUPT if not, or the read error. */
static sm_err_t br_segment_check_crc(br_segment_t *seg, uint64_t pos, const br_batch_header_t *h,
                                     uint8_t *chunk)
{
    uint64_t at = pos + BR_BATCH_CRC_START;
    uint64_t end = pos + br_batch_size(h);
    uint32_t crc = 0;

    while (at < end) {
        size_t n = end - at > BR_SEGMENT_CRC_CHUNK ? BR_SEGMENT_CRC_CHUNK : (size_t)(end - at);
        sm_err_t err = br_segment_pread(seg, chunk, n, at);

        if (err != SM_OK)
            return err == SM_ERR_TRUNCATED ? SM_ERR_CORRUPT : err;
        crc = sm_crc32c(crc, chunk, n);
        at += n;
    }
    return crc == h->crc ? SM_OK : SM_ERR_CORRUPT;
}

/* Accounts for the batch h starting at pos: maximum timestamp, first-batch timestamp, and the
 * index entries of design notes 2 and 3. */
static sm_err_t br_segment_index_batch(br_segment_t *seg, uint64_t pos, const br_batch_header_t *h)
{
    sm_err_t err = SM_OK;

    if (pos == 0)
        seg->first_batch_ts = h->max_timestamp;
    if (h->max_timestamp > seg->max_ts) {
        seg->max_ts = h->max_timestamp;
        seg->offset_of_max_ts = h->base_offset;
    }
    if (pos > 0 && seg->bytes_since_index >= seg->cfg.index_interval_bytes) {
        if (!br_index_is_full(seg->oidx))
            err = br_index_append(seg->oidx, h->base_offset, (int64_t)pos);
        if (err == SM_OK && seg->max_ts >= 0 && !br_index_is_full(seg->tidx))
            err = br_index_append(seg->tidx, seg->max_ts, seg->offset_of_max_ts);
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += br_batch_size(h);
    return err;
}

static void br_segment_reset_state(br_segment_t *seg)
{
    seg->hdr_pos = UINT64_MAX;
    seg->unwritten = false;
    seg->next_offset = seg->base;
    seg->size = 0;
    seg->bytes_since_index = 0;
    seg->max_ts = BR_BATCH_NO_TIMESTAMP;
    seg->offset_of_max_ts = seg->base;
    seg->first_batch_ts = BR_BATCH_NO_TIMESTAMP;
}

/* Rescans the whole .log: every batch's header, offsets and CRC; rebuilds both indexes; cuts
 * the file at the first invalid byte. */
static sm_err_t br_segment_recover(br_segment_t *seg, br_segment_batch_fn fn, void *ctx,
                                   bool *truncated)
{
    uint8_t *chunk = malloc(BR_SEGMENT_CRC_CHUNK);
    uint64_t file_size = 0;
    uint64_t pos = 0;
    sm_err_t err;

    *truncated = false;
    if (chunk == NULL)
        return SM_ERR_NOMEM;
    br_segment_reset_state(seg);
    err = br_index_reset(seg->oidx);
    if (err == SM_OK)
        err = br_index_reset(seg->tidx);
    if (err == SM_OK)
        err = br_segment_file_size(seg, &file_size, NULL);
    while (err == SM_OK && pos < file_size) {
        br_batch_header_t h;
        sm_err_t verr = br_segment_read_header(seg, pos, file_size, &h);

        if (verr == SM_OK &&
            (h.base_offset < seg->next_offset || br_batch_last_offset(&h) - seg->base > INT32_MAX ||
             br_batch_size(&h) > BR_SEGMENT_MAX_POSITION - pos))
            verr = SM_ERR_CORRUPT;
        if (verr == SM_OK)
            verr = br_segment_check_crc(seg, pos, &h, chunk);
        if (verr == SM_ERR_TRUNCATED || verr == SM_ERR_CORRUPT)
            break;
        err = verr;
        if (err == SM_OK)
            err = br_segment_index_batch(seg, pos, &h);
        if (err == SM_OK && fn != NULL)
            err = fn(ctx, &h);
        if (err == SM_OK) {
            seg->next_offset = br_batch_last_offset(&h) + 1;
            pos += br_batch_size(&h);
            seg->size = pos;
        }
    }
    if (err == SM_OK && pos < file_size) {
        sm_log_warn("%s: recovery cut %" PRIu64 " invalid bytes at position %" PRIu64,
                    seg->log_path, file_size - pos, pos);
        err = br_segment_ftruncate(seg, pos);
        *truncated = true;
    }
    free(chunk);
    return err;
}

/* Scans batch headers from pos (where the batch `expect_base` starts, if >= 0) to end,
 * advancing next_offset and the maximum timestamp. *bad is set if the headers do not hold
 * up (the caller then recovers the segment). */
static sm_err_t br_segment_scan_tail(br_segment_t *seg, uint64_t pos, uint64_t end,
                                     int64_t expect_base, bool *bad)
{
    *bad = false;
    while (pos < end) {
        br_batch_header_t h;
        sm_err_t err = br_segment_read_header(seg, pos, end, &h);

        if (err == SM_ERR_TRUNCATED || err == SM_ERR_CORRUPT ||
            (err == SM_OK && (h.base_offset < seg->next_offset ||
                              (expect_base >= 0 && h.base_offset != expect_base) ||
                              br_batch_last_offset(&h) - seg->base > INT32_MAX))) {
            *bad = true;
            return SM_OK;
        }
        if (err != SM_OK)
            return err;
        expect_base = -1;
        if (h.max_timestamp > seg->max_ts) {
            seg->max_ts = h.max_timestamp;
            seg->offset_of_max_ts = h.base_offset;
        }
        seg->next_offset = br_batch_last_offset(&h) + 1;
        pos += br_batch_size(&h);
    }
    return SM_OK;
}

/* Restores next_offset, the maximum timestamp and the index bookkeeping for a .log of `size`
 * bytes whose indexes are loaded (trusted open, or after truncation). */
static sm_err_t br_segment_restore_state(br_segment_t *seg, uint64_t size, bool *bad)
{
    br_index_entry_t oe;
    br_index_entry_t te;
    uint64_t from = 0;
    int64_t expect = -1;
    sm_err_t err;

    br_segment_reset_state(seg);
    seg->size = size;
    if (br_index_last(seg->oidx, &oe)) {
        from = (uint64_t)oe.value;
        expect = oe.key;
    }
    if (br_index_last(seg->tidx, &te)) {
        seg->max_ts = te.key;
        seg->offset_of_max_ts = te.value;
    }
    err = br_segment_scan_tail(seg, from, size, expect, bad);
    seg->bytes_since_index = size - from;
    if (err == SM_OK && size > 0 && seg->offset_of_max_ts >= seg->next_offset)
        *bad = true; /* a time entry about a batch that is not there */
    if (err == SM_OK && !*bad && size > 0) {
        br_batch_header_t h;

        err = br_segment_read_header(seg, 0, size, &h);
        if (err == SM_ERR_TRUNCATED || err == SM_ERR_CORRUPT) {
            *bad = true;
            err = SM_OK;
        } else if (err == SM_OK) {
            seg->first_batch_ts = h.max_timestamp;
        }
    }
    return err;
}

static sm_err_t br_segment_trust(br_segment_t *seg, bool *bad)
{
    uint64_t size = 0;
    sm_err_t err = br_segment_file_size(seg, &size, &seg->modified_ms);

    *bad = false;
    if (err != SM_OK)
        return err;
    if (size > BR_SEGMENT_MAX_POSITION || br_index_sanity_check(seg->oidx, size) != SM_OK ||
        br_index_sanity_check(seg->tidx, size) != SM_OK) {
        *bad = true;
        return SM_OK;
    }
    return br_segment_restore_state(seg, size, bad);
}

static sm_err_t br_segment_new(const br_fileops_t *ops, const char *dir, int64_t base,
                               const br_segment_config_t *cfg, int64_t now_ms, bool load,
                               br_segment_t **out)
{
    char path[PATH_MAX];
    br_segment_t *seg;
    sm_err_t err;

    *out = NULL;
    seg = calloc(1, sizeof(*seg));
    if (seg == NULL)
        return SM_ERR_NOMEM;
    seg->ops = ops;
    seg->cfg = *cfg;
    seg->fd = -1;
    seg->base = base;
    seg->created_ms = now_ms;
    seg->modified_ms = now_ms;
    br_segment_reset_state(seg);
    err = br_segment_path(path, sizeof(path), dir, base, BR_SEGMENT_LOG_SUFFIX);
    if (err == SM_OK && (seg->log_path = strdup(path)) == NULL)
        err = SM_ERR_NOMEM;
    if (err == SM_OK) {
        seg->fd = ops->open(ops->ctx, path, O_RDWR | (load ? 0 : O_CREAT | O_TRUNC), 0644);
        if (seg->fd < 0) {
            int e = errno;

            sm_log_error("%s: open failed: %s", path, strerror(e));
            err = br_segment_errno(e);
        }
    }
    if (err == SM_OK)
        err = br_segment_path(path, sizeof(path), dir, base, BR_SEGMENT_INDEX_SUFFIX);
    if (err == SM_OK)
        err =
            br_index_open(ops, path, BR_INDEX_OFFSET, base, cfg->index_max_bytes, load, &seg->oidx);
    if (err == SM_OK)
        err = br_segment_path(path, sizeof(path), dir, base, BR_SEGMENT_TIME_SUFFIX);
    if (err == SM_OK)
        err = br_index_open(ops, path, BR_INDEX_TIME, base, cfg->index_max_bytes, load, &seg->tidx);
    if (err != SM_OK) {
        br_segment_close(seg);
        seg = NULL;
    }
    *out = seg;
    return err;
}

sm_err_t br_segment_create(const br_fileops_t *ops, const char *dir, int64_t base,
                           const br_segment_config_t *cfg, int64_t now_ms, br_segment_t **out)
{
    return br_segment_new(ops, dir, base, cfg, now_ms, false, out);
}

sm_err_t br_segment_open(const br_fileops_t *ops, const char *dir, int64_t base,
                         const br_segment_config_t *cfg, int64_t now_ms, bool recover,
                         br_segment_batch_fn fn, void *ctx, br_segment_t **out, bool *truncated)
{
    br_segment_t *seg = NULL;
    bool cut = false;
    bool bad = recover;
    sm_err_t err = br_segment_new(ops, dir, base, cfg, now_ms, true, &seg);

    if (err == SM_OK && !recover)
        err = br_segment_trust(seg, &bad);
    if (err == SM_OK && bad) {
        if (!recover)
            sm_log_warn("%s: indexes or tail inconsistent, rebuilding", seg->log_path);
        err = br_segment_recover(seg, fn, ctx, &cut);
    }
    if (err != SM_OK) {
        br_segment_close(seg);
        seg = NULL;
    }
    if (truncated != NULL)
        *truncated = cut;
    *out = seg;
    return err;
}

void br_segment_close(br_segment_t *seg)
{
    if (seg == NULL)
        return;
    br_index_close(seg->oidx);
    br_index_close(seg->tidx);
    if (seg->fd >= 0)
        seg->ops->close(seg->ops->ctx, seg->fd);
    free(seg->log_path);
    free(seg);
}

static sm_err_t br_segment_unlink(br_segment_t *seg, const char *path)
{
    if (seg->ops->unlink(seg->ops->ctx, path) != 0 && errno != ENOENT) {
        int e = errno;

        sm_log_error("%s: unlink failed: %s", path, strerror(e));
        return br_segment_errno(e);
    }
    return SM_OK;
}

sm_err_t br_segment_delete(br_segment_t *seg)
{
    sm_err_t err;

    if (seg == NULL)
        return SM_OK;
    err = br_segment_unlink(seg, seg->log_path);
    if (err == SM_OK && seg->oidx != NULL)
        err = br_segment_unlink(seg, br_index_path(seg->oidx));
    if (err == SM_OK && seg->tidx != NULL)
        err = br_segment_unlink(seg, br_index_path(seg->tidx));
    br_segment_close(seg);
    return err;
}

/* SM_ERR_RANGE unless the batches of set fit after the appended ones (br_segment_append). */
static sm_err_t br_segment_check_fit(const br_segment_t *seg, const br_batch_set_t *set)
{
    const br_batch_header_t *last = &set->batches[set->count - 1].hdr;

    if (set->batches[0].hdr.base_offset < seg->next_offset ||
        br_batch_last_offset(last) - seg->base > INT32_MAX ||
        set->bytes > BR_SEGMENT_MAX_POSITION - seg->size)
        return SM_ERR_RANGE;
    return SM_OK;
}

/* Counts the batches of set, which start at `start`, as appended: index entries, size, end. */
static sm_err_t br_segment_account(br_segment_t *seg, uint64_t start, const br_batch_set_t *set,
                                   int64_t now_ms)
{
    sm_err_t err = SM_OK;

    for (size_t i = 0; i < set->count && err == SM_OK; i++)
        err = br_segment_index_batch(seg, start + set->batches[i].pos, &set->batches[i].hdr);
    seg->size = start + set->bytes;
    seg->next_offset = br_batch_last_offset(&set->batches[set->count - 1].hdr) + 1;
    seg->modified_ms = now_ms;
    return err;
}

sm_err_t br_segment_append(br_segment_t *seg, const uint8_t *buf, const br_batch_set_t *set,
                           int64_t now_ms)
{
    uint64_t start = seg->size;
    sm_err_t err;

    if (set->count == 0)
        return SM_OK;
    err = br_segment_check_fit(seg, set);
    if (err != SM_OK)
        return err;
    err = br_segment_pwrite(seg, buf, set->bytes, start);
    if (err != SM_OK) {
        /* Leave no partial batch behind; if even that fails, recovery will cut it. */
        (void)br_segment_ftruncate(seg, start);
        return err;
    }
    return br_segment_account(seg, start, set, now_ms);
}

sm_err_t br_segment_reserve(br_segment_t *seg, const br_batch_set_t *set, int64_t now_ms,
                            uint64_t *pos)
{
    sm_err_t err;

    *pos = seg->size;
    if (set->count == 0)
        return SM_OK;
    err = br_segment_check_fit(seg, set);
    if (err != SM_OK)
        return err;
    if (!seg->unwritten) {
        seg->vis_size = seg->size;
        seg->vis_next = seg->next_offset;
        seg->unwritten = true;
    }
    return br_segment_account(seg, *pos, set, now_ms);
}

void br_segment_written(br_segment_t *seg, uint64_t end, int64_t next_offset)
{
    if (!seg->unwritten || end <= seg->vis_size)
        return;
    seg->vis_size = end;
    seg->vis_next = next_offset;
    if (end >= seg->size)
        seg->unwritten = false;
}

sm_err_t br_segment_translate(br_segment_t *seg, int64_t offset, uint64_t *pos,
                              br_batch_header_t *h)
{
    br_index_entry_t e;
    uint64_t at = 0;

    if (offset >= br_segment_rd_next(seg))
        return SM_ERR_NOT_FOUND;
    if (br_index_lookup(seg->oidx, offset, &e))
        at = (uint64_t)e.value;
    while (at < br_segment_rd_size(seg)) {
        sm_err_t err = br_segment_read_header(seg, at, br_segment_rd_size(seg), h);

        if (err != SM_OK)
            return err == SM_ERR_TRUNCATED ? SM_ERR_CORRUPT : err;
        if (br_batch_last_offset(h) >= offset) {
            *pos = at;
            return SM_OK;
        }
        at += br_batch_size(h);
    }
    return SM_ERR_NOT_FOUND;
}

/* The base offset of the batch at pos, or next_offset if pos is the end of the segment. */
static sm_err_t br_segment_offset_at(br_segment_t *seg, uint64_t pos, int64_t *offset)
{
    br_batch_header_t h;
    sm_err_t err;

    if (pos >= br_segment_rd_size(seg)) {
        *offset = br_segment_rd_next(seg);
        return SM_OK;
    }
    err = br_segment_read_header(seg, pos, br_segment_rd_size(seg), &h);
    if (err == SM_OK)
        *offset = h.base_offset;
    return err == SM_ERR_TRUNCATED ? SM_ERR_CORRUPT : err;
}

/* The last batch boundary in [first_end, limit] (batches scanned from the closest indexed
 * batch at or before limit), or first_end when even that is past limit, and the base offset
 * of the batch that starts there (next_offset at the segment end). That batch's header is
 * read by the scan when it stops before limit, so only an exact fit costs another read. */
static sm_err_t br_segment_boundary_before(br_segment_t *seg, uint64_t first_end, uint64_t limit,
                                           uint64_t *boundary, int64_t *offset)
{
    br_index_entry_t e;
    uint64_t at = first_end;

    if (br_index_lookup_value(seg->oidx, (int64_t)limit, &e) && (uint64_t)e.value > at)
        at = (uint64_t)e.value;
    while (at < limit) {
        br_batch_header_t h;
        sm_err_t err = br_segment_read_header(seg, at, br_segment_rd_size(seg), &h);

        if (err != SM_OK)
            return err == SM_ERR_TRUNCATED ? SM_ERR_CORRUPT : err;
        if (br_batch_size(&h) > limit - at) {
            *boundary = at;
            *offset = h.base_offset;
            return SM_OK;
        }
        at += br_batch_size(&h);
    }
    *boundary = at;
    return br_segment_offset_at(seg, at, offset);
}

sm_err_t br_segment_read(br_segment_t *seg, int64_t offset, size_t max_bytes, int64_t max_offset,
                         br_segment_slice_t *s)
{
    br_batch_header_t h;
    uint64_t start = 0;
    uint64_t end = br_segment_rd_size(seg);
    int64_t end_offset = br_segment_rd_next(seg);
    sm_err_t err;

    *s = (br_segment_slice_t){.fd = -1, .first_offset = -1, .next_offset = offset};
    err = br_segment_translate(seg, offset, &start, &h);
    if (err != SM_OK)
        return err;
    s->next_offset = h.base_offset;
    if (br_batch_last_offset(&h) >= max_offset)
        return SM_OK;
    if (max_offset < br_segment_rd_next(seg)) {
        br_batch_header_t bh;

        /* Stop before the first batch that reaches the bound. */
        err = br_segment_translate(seg, max_offset, &end, &bh);
        if (err != SM_OK)
            return err;
        end_offset = bh.base_offset;
    }
    if (end - start > max_bytes) {
        uint64_t first_end = start + br_batch_size(&h);
        uint64_t limit = start + max_bytes > first_end ? start + max_bytes : first_end;

        err = br_segment_boundary_before(seg, first_end, limit, &end, &end_offset);
        if (err != SM_OK)
            return err;
    }
    s->fd = seg->fd;
    s->pos = start;
    s->len = (size_t)(end - start);
    s->first_offset = h.base_offset;
    s->next_offset = end_offset;
    return SM_OK;
}

sm_err_t br_segment_find_by_time(br_segment_t *seg, int64_t ts, int64_t *offset)
{
    br_index_entry_t e;
    uint64_t at = 0;
    int64_t from = seg->base;

    if (seg->max_ts < ts || br_segment_rd_size(seg) == 0)
        return SM_ERR_NOT_FOUND;
    if (br_index_lookup(seg->tidx, ts, &e))
        from = e.value;
    if (br_index_lookup(seg->oidx, from, &e))
        at = (uint64_t)e.value;
    while (at < br_segment_rd_size(seg)) {
        br_batch_header_t h;
        sm_err_t err = br_segment_read_header(seg, at, br_segment_rd_size(seg), &h);

        if (err != SM_OK)
            return err == SM_ERR_TRUNCATED ? SM_ERR_CORRUPT : err;
        if (h.max_timestamp >= ts) {
            *offset = h.base_offset;
            return SM_OK;
        }
        at += br_batch_size(&h);
    }
    return SM_ERR_NOT_FOUND;
}

sm_err_t br_segment_scan(br_segment_t *seg, int64_t offset, br_segment_batch_fn fn, void *ctx)
{
    br_batch_header_t h;
    uint64_t at = 0;
    sm_err_t err = br_segment_translate(seg, offset, &at, &h);

    if (err == SM_ERR_NOT_FOUND)
        return SM_OK;
    while (err == SM_OK) {
        err = fn(ctx, &h);
        at += br_batch_size(&h);
        if (err != SM_OK || at >= br_segment_rd_size(seg))
            break;
        err = br_segment_read_header(seg, at, br_segment_rd_size(seg), &h);
        if (err == SM_ERR_TRUNCATED)
            err = SM_ERR_CORRUPT;
    }
    return err;
}

sm_err_t br_segment_truncate_to(br_segment_t *seg, int64_t offset)
{
    br_batch_header_t h;
    uint64_t pos = 0;
    bool bad = false;
    sm_err_t err = br_segment_translate(seg, offset, &pos, &h);

    if (err == SM_ERR_NOT_FOUND)
        return SM_OK;
    if (err == SM_OK)
        err = br_segment_ftruncate(seg, pos);
    if (err == SM_OK)
        err = br_index_truncate_to(seg->oidx, h.base_offset);
    if (err == SM_OK)
        err = br_index_truncate_to(seg->tidx, h.base_offset);
    if (err == SM_OK)
        err = br_segment_restore_state(seg, pos, &bad);
    if (err == SM_OK && bad)
        err = SM_ERR_CORRUPT; /* the part we kept was readable a moment ago */
    return err;
}

sm_err_t br_segment_seal(br_segment_t *seg)
{
    sm_err_t err = SM_OK;

    if (seg->max_ts >= 0)
        err = br_index_append(seg->tidx, seg->max_ts, seg->offset_of_max_ts);
    if (err == SM_OK)
        err = br_index_trim(seg->oidx);
    if (err == SM_OK)
        err = br_index_trim(seg->tidx);
    return err;
}

sm_err_t br_segment_flush_indexes(br_segment_t *seg)
{
    sm_err_t err = br_index_flush(seg->oidx);

    return err == SM_OK ? br_index_flush(seg->tidx) : err;
}

int64_t br_segment_base(const br_segment_t *seg)
{
    return seg->base;
}

int64_t br_segment_next_offset(const br_segment_t *seg)
{
    return seg->next_offset;
}

uint64_t br_segment_size(const br_segment_t *seg)
{
    return seg->size;
}

uint64_t br_segment_written_size(const br_segment_t *seg)
{
    return br_segment_rd_size(seg);
}

bool br_segment_is_empty(const br_segment_t *seg)
{
    return seg->size == 0;
}

bool br_segment_index_full(const br_segment_t *seg)
{
    return br_index_is_full(seg->oidx) || br_index_is_full(seg->tidx);
}

int64_t br_segment_max_timestamp(const br_segment_t *seg)
{
    return seg->max_ts;
}

int64_t br_segment_retention_timestamp(const br_segment_t *seg)
{
    return seg->max_ts >= 0 ? seg->max_ts : seg->modified_ms;
}

int64_t br_segment_roll_age_ms(const br_segment_t *seg, int64_t incoming_max_ts, int64_t now_ms)
{
    if (seg->first_batch_ts >= 0 && incoming_max_ts >= 0)
        return incoming_max_ts - seg->first_batch_ts;
    return now_ms - seg->created_ms;
}

int br_segment_fd(const br_segment_t *seg)
{
    return seg->fd;
}

const char *br_segment_log_path(const br_segment_t *seg)
{
    return seg->log_path;
}

const br_index_t *br_segment_offset_index(const br_segment_t *seg)
{
    return seg->oidx;
}

const br_index_t *br_segment_time_index(const br_segment_t *seg)
{
    return seg->tidx;
}
