/*
 * br_index: offset and time indexes of a segment, kept in memory and written to their files
 * in bulk. See br_index.h for the format, the contract and the design notes.
 */
#include "broker/br_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sm_buf.h"
#include "sm_log.h"

/* Entries encoded per pwrite (a 3 KiB stack buffer of time entries), and how many wait in
 * memory before an append writes them: at the default log.index.interval.bytes that is one
 * write per index per MiB or more of appended batches, where there was one per 4 KiB. */
#define BR_INDEX_WRITE_ENTRIES 256

struct br_index {
    const br_fileops_t *ops;
    char *path;
    int fd;
    br_index_kind_t kind;
    int64_t base;
    size_t entry_size;
    size_t max_entries;
    br_index_entry_t *entries;
    size_t count;
    size_t cap;
    size_t written; /* entries [0, written) are in the file; [written, count) are pending */
};

static sm_err_t br_index_errno(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? SM_ERR_NOSPC : SM_ERR_IO;
}

static sm_err_t br_index_write_all(br_index_t *idx, const uint8_t *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = idx->ops->pwrite(idx->ops->ctx, idx->fd, buf, len, off);

        if (n <= 0) {
            int e = n < 0 ? errno : EIO;

            sm_log_error("%s: write failed: %s", idx->path, strerror(e));
            return br_index_errno(e);
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return SM_OK;
}

static sm_err_t br_index_ftruncate(br_index_t *idx, size_t len)
{
    if (idx->ops->ftruncate(idx->ops->ctx, idx->fd, (off_t)len) != 0) {
        int e = errno;

        sm_log_error("%s: truncate failed: %s", idx->path, strerror(e));
        return br_index_errno(e);
    }
    return SM_OK;
}

static sm_err_t br_index_reserve(br_index_t *idx, size_t n)
{
    br_index_entry_t *ne;
    size_t ncap;

    if (n <= idx->cap)
        return SM_OK;
    ncap = idx->cap == 0 ? 16 : idx->cap;
    while (ncap < n)
        ncap *= 2;
    ne = realloc(idx->entries, ncap * sizeof(*ne));
    if (ne == NULL)
        return SM_ERR_NOMEM;
    idx->entries = ne;
    idx->cap = ncap;
    return SM_OK;
}

static void br_index_put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* Encodes entry e (key, value) as it is stored in the file at p. */
static void br_index_encode(const br_index_t *idx, const br_index_entry_t *e, uint8_t *p)
{
    if (idx->kind == BR_INDEX_OFFSET) {
        br_index_put_be(p, (uint64_t)(e->key - idx->base), 4);
        br_index_put_be(p + 4, (uint64_t)e->value, 4);
    } else {
        br_index_put_be(p, (uint64_t)e->key, 8);
        br_index_put_be(p + 8, (uint64_t)(e->value - idx->base), 4);
    }
}

/* Writes the pending entries [written, upto) to the file, BR_INDEX_WRITE_ENTRIES a pwrite. On
 * failure `written` stops at the last whole chunk; bytes beyond it in the file mean nothing
 * (the next write starts there again). */
static sm_err_t br_index_write_upto(br_index_t *idx, size_t upto)
{
    uint8_t buf[BR_INDEX_WRITE_ENTRIES * BR_INDEX_TIME_ENTRY_SIZE];

    while (idx->written < upto) {
        size_t n = upto - idx->written;
        sm_err_t err;

        if (n > BR_INDEX_WRITE_ENTRIES)
            n = BR_INDEX_WRITE_ENTRIES;
        for (size_t i = 0; i < n; i++)
            br_index_encode(idx, &idx->entries[idx->written + i], buf + i * idx->entry_size);
        err = br_index_write_all(idx, buf, n * idx->entry_size,
                                 (off_t)(idx->written * idx->entry_size));
        if (err != SM_OK)
            return err;
        idx->written += n;
    }
    return SM_OK;
}

sm_err_t br_index_flush(br_index_t *idx)
{
    return br_index_write_upto(idx, idx->count);
}

/* Decodes n whole entries from buf. Relative offsets are read as unsigned so that a corrupt
 * file gives out-of-range entries that the sanity check refuses, never UB. */
static void br_index_decode(br_index_t *idx, const uint8_t *buf, size_t n)
{
    sm_reader_t r;

    sm_reader_init(&r, buf, n * idx->entry_size);
    for (size_t i = 0; i < n; i++) {
        br_index_entry_t *e = &idx->entries[i];

        if (idx->kind == BR_INDEX_OFFSET) {
            e->key = idx->base + (int64_t)sm_reader_u32(&r);
            e->value = (int64_t)sm_reader_u32(&r);
        } else {
            e->key = sm_reader_i64(&r);
            e->value = idx->base + (int64_t)sm_reader_u32(&r);
        }
    }
    idx->count = n;
    idx->written = n;
}

static sm_err_t br_index_load(br_index_t *idx)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t size;
    size_t done = 0;
    sm_err_t err = SM_OK;

    if (fstat(idx->fd, &st) != 0) {
        err = br_index_errno(errno);
        goto out;
    }
    size = (size_t)st.st_size;
    if (size > (size_t)INT32_MAX)
        size = (size_t)INT32_MAX; /* a sane index is far smaller; the check will refuse it */
    size -= size % idx->entry_size;
    if (size == 0)
        goto out;
    buf = malloc(size);
    err = buf == NULL ? SM_ERR_NOMEM : br_index_reserve(idx, size / idx->entry_size);
    while (err == SM_OK && done < size) {
        ssize_t n = idx->ops->pread(idx->ops->ctx, idx->fd, buf + done, size - done, (off_t)done);

        if (n < 0) {
            int e = errno;

            sm_log_error("%s: read failed: %s", idx->path, strerror(e));
            err = br_index_errno(e);
        } else if (n == 0) {
            size = done - done % idx->entry_size; /* the file shrank under us */
        } else {
            done += (size_t)n;
        }
    }
    if (err == SM_OK)
        br_index_decode(idx, buf, size / idx->entry_size);
out:
    free(buf);
    return err;
}

sm_err_t br_index_open(const br_fileops_t *ops, const char *path, br_index_kind_t kind,
                       int64_t base, size_t max_bytes, bool load, br_index_t **out)
{
    br_index_t *idx = NULL;
    sm_err_t err = SM_OK;
    int flags = O_RDWR | O_CREAT | (load ? 0 : O_TRUNC);

    *out = NULL;
    idx = calloc(1, sizeof(*idx));
    if (idx == NULL)
        return SM_ERR_NOMEM;
    idx->ops = ops;
    idx->fd = -1;
    idx->kind = kind;
    idx->base = base;
    idx->entry_size =
        kind == BR_INDEX_OFFSET ? BR_INDEX_OFFSET_ENTRY_SIZE : BR_INDEX_TIME_ENTRY_SIZE;
    idx->max_entries = max_bytes / idx->entry_size;
    idx->path = strdup(path);
    if (idx->path == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    if (idx->max_entries == 0) {
        err = SM_ERR_INVALID;
        goto out;
    }
    idx->fd = ops->open(ops->ctx, path, flags, 0644);
    if (idx->fd < 0) {
        int e = errno;

        sm_log_error("%s: open failed: %s", path, strerror(e));
        err = br_index_errno(e);
        goto out;
    }
    if (load)
        err = br_index_load(idx);
out:
    if (err != SM_OK) {
        br_index_close(idx);
        idx = NULL;
    }
    *out = idx;
    return err;
}

void br_index_close(br_index_t *idx)
{
    if (idx == NULL)
        return;
    if (idx->fd >= 0) {
        /* Best effort: a failure is logged by the write, and the caller that needed these
         * entries on disk has called br_index_flush or br_index_trim already and seen it. */
        (void)br_index_flush(idx);
        idx->ops->close(idx->ops->ctx, idx->fd);
    }
    free(idx->entries);
    free(idx->path);
    free(idx);
}

sm_err_t br_index_append(br_index_t *idx, int64_t key, int64_t value)
{
    const br_index_entry_t *last = idx->count > 0 ? &idx->entries[idx->count - 1] : NULL;
    sm_err_t err;

    if (idx->kind == BR_INDEX_OFFSET) {
        if (last != NULL && (key <= last->key || value <= last->value))
            return SM_ERR_INVALID;
        if (key < idx->base || key - idx->base > INT32_MAX || value < 0 || value > INT32_MAX)
            return SM_ERR_RANGE;
    } else {
        if (last != NULL && key <= last->key)
            return SM_OK;
        if (value < idx->base || (last != NULL && value < last->value))
            return SM_ERR_INVALID;
        if (value - idx->base > INT32_MAX)
            return SM_ERR_RANGE;
    }
    err = br_index_reserve(idx, idx->count + 1);
    if (err != SM_OK)
        return err;
    idx->entries[idx->count++] = (br_index_entry_t){.key = key, .value = value};
    if (idx->count - idx->written >= BR_INDEX_WRITE_ENTRIES) {
        err = br_index_flush(idx);
        if (err != SM_OK)
            idx->count--; /* not kept: the caller fails the log, as for a failed .log write */
    }
    return err;
}

bool br_index_lookup(const br_index_t *idx, int64_t target, br_index_entry_t *e)
{
    size_t lo = 0;
    size_t hi = idx->count;

    /* Find the first entry with key > target; the answer is the one before it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (idx->entries[mid].key <= target)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *e = idx->entries[lo - 1];
    return true;
}

bool br_index_lookup_value(const br_index_t *idx, int64_t limit, br_index_entry_t *e)
{
    size_t lo = 0;
    size_t hi = idx->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (idx->entries[mid].value <= limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *e = idx->entries[lo - 1];
    return true;
}

sm_err_t br_index_truncate_to(br_index_t *idx, int64_t offset)
{
    size_t n = idx->count;
    sm_err_t err;

    while (n > 0) {
        const br_index_entry_t *e = &idx->entries[n - 1];
        int64_t off = idx->kind == BR_INDEX_OFFSET ? e->key : e->value;

        if (off < offset)
            break;
        n--;
    }
    idx->count = n;
    if (idx->written > n)
        idx->written = n;
    /* The file ends up exactly the kept entries: those still pending are written first. */
    err = br_index_flush(idx);
    return err == SM_OK ? br_index_ftruncate(idx, n * idx->entry_size) : err;
}

sm_err_t br_index_reset(br_index_t *idx)
{
    idx->count = 0;
    idx->written = 0;
    return br_index_ftruncate(idx, 0);
}

sm_err_t br_index_trim(br_index_t *idx)
{
    sm_err_t err = br_index_flush(idx);

    return err == SM_OK ? br_index_ftruncate(idx, idx->count * idx->entry_size) : err;
}

sm_err_t br_index_sanity_check(const br_index_t *idx, uint64_t log_size)
{
    for (size_t i = 0; i < idx->count; i++) {
        const br_index_entry_t *e = &idx->entries[i];
        const br_index_entry_t *p = i > 0 ? &idx->entries[i - 1] : NULL;

        if (idx->kind == BR_INDEX_OFFSET) {
            if (e->key - idx->base > INT32_MAX || (uint64_t)e->value >= log_size ||
                (p != NULL && (e->key <= p->key || e->value <= p->value)))
                return SM_ERR_CORRUPT;
        } else {
            if (e->value - idx->base > INT32_MAX || e->key < -1 ||
                (p != NULL && (e->key <= p->key || e->value < p->value)))
                return SM_ERR_CORRUPT;
        }
    }
    return SM_OK;
}

size_t br_index_count(const br_index_t *idx)
{
    return idx->count;
}

bool br_index_is_full(const br_index_t *idx)
{
    return idx->count >= idx->max_entries;
}

bool br_index_last(const br_index_t *idx, br_index_entry_t *e)
{
    if (idx->count == 0)
        return false;
    *e = idx->entries[idx->count - 1];
    return true;
}

br_index_entry_t br_index_at(const br_index_t *idx, size_t i)
{
    return idx->entries[i];
}

int br_index_fd(const br_index_t *idx)
{
    return idx->fd;
}

const char *br_index_path(const br_index_t *idx)
{
    return idx->path;
}
