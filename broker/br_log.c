/*
 * br_log: a partition's list of segments -- open and recovery, append, read, roll, retention,
 * truncation, flushing and the sticky failed state. See br_log.h for the contract and the
 * design notes.
 */
#include "broker/br_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "broker/br_decompress.h"
#include "broker/br_flusher.h"
#include "sm_buf.h"
#include "sm_log.h"

struct br_log {
    const br_fileops_t *ops;
    char *dir;
    br_log_config_t cfg;
    br_segment_config_t scfg;
    br_segment_t **segs; /* sorted by base offset; never empty while healthy */
    size_t nsegs;
    size_t cap;
    int64_t log_start;
    int64_t recovery_point;
    uint64_t generation;     /* bumped by every truncation (flush jobs compare it) */
    uint64_t dir_generation; /* bumped by every segment created or deleted */
    uint64_t dir_flushed_generation;
    int64_t last_flush_ms;
    int64_t last_now_ms; /* latest clock reading passed in, for calls that take none */
    bool rolled_since_flush;
    sm_err_t failed; /* SM_OK, or the sticky SM_ERR_IO / SM_ERR_NOSPC */
    /* Appends handed to cfg.writer and not completed yet; while there are any, readers see
     * the log end as written_end (design note 5). */
    size_t unwritten;
    uint64_t unwritten_bytes;
    int64_t written_end;
    bool offload;     /* br_log_set_offload: appends go to the writer */
    size_t releasing; /* br_log_release_unused jobs out on cfg.writer (drained like appends) */
};

/* The least unused reservation worth giving back: 4 MiB, or 1/16 of segment.bytes if less. */
#define BR_LOG_RELEASE_MIN(max)                                                                    \
    ((max) / 16 < ((uint64_t)4 << 20) ? (max) / 16 : ((uint64_t)4 << 20))

/* A sealed segment's unused reservation to give back, on the writer thread. */
typedef struct br_log_release {
    br_log_t *log;
    int fd; /* its own descriptor */
    off_t size;
} br_log_release_t;

/* An append handed to the writer thread: the bytes, copied, and where they go. */
typedef struct br_log_write {
    br_log_t *log;
    br_segment_t *seg;
    const br_fileops_t *ops;
    int fd;
    uint64_t pos;
    size_t len;
    int64_t end_offset; /* the offset after its last batch */
    uint8_t data[];
} br_log_write_t;

typedef struct br_log_flush_file {
    int fd;
    bool owned; /* opened for the job (closed by it) rather than borrowed from a segment */
} br_log_flush_file_t;

struct br_log_flush_job {
    const br_fileops_t *ops;
    int64_t target;
    uint64_t generation;
    uint64_t dir_generation;
    bool has_dir;
    bool ran;
    sm_err_t result;
    br_log_flush_file_t *files;
    size_t nfiles;
    size_t cap;
};

void br_log_config_defaults(br_log_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->segment_bytes = 1024 * 1024 * 1024;
    cfg->segment_ms = 7LL * 24 * 3600 * 1000;
    cfg->index_interval_bytes = 4096;
    cfg->index_max_bytes = 10 * 1024 * 1024;
    cfg->retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->retention_bytes = -1;
    cfg->flush_interval_messages = BR_LOG_NO_LIMIT;
    cfg->flush_interval_ms = BR_LOG_NO_LIMIT;
}

/* ---- small helpers ------------------------------------------------------------------------ */

/* Enters the failed state (design note 4) and returns the sticky error. */
static sm_err_t br_log_fail(br_log_t *log, sm_err_t err, const char *what)
{
    if (log->failed == SM_OK) {
        log->failed = err == SM_ERR_NOSPC ? SM_ERR_NOSPC : SM_ERR_IO;
        sm_log_error("log %s: %s failed (%s); the log is offline until reopened", log->dir, what,
                     sm_err_str(err));
    }
    return log->failed;
}

static br_segment_t *br_log_active(const br_log_t *log)
{
    return log->segs[log->nsegs - 1];
}

/* The offset the next append takes: past every append, written or not. */
static int64_t br_log_next_offset(const br_log_t *log)
{
    return log->nsegs > 0 ? br_segment_next_offset(br_log_active(log)) : log->log_start;
}

static sm_err_t br_log_push_segment(br_log_t *log, br_segment_t *seg)
{
    if (log->nsegs == log->cap) {
        size_t ncap = log->cap == 0 ? 8 : log->cap * 2;
        br_segment_t **ns = realloc(log->segs, ncap * sizeof(*ns));

        if (ns == NULL)
            return SM_ERR_NOMEM;
        log->segs = ns;
        log->cap = ncap;
    }
    log->segs[log->nsegs++] = seg;
    return SM_OK;
}

/* Removes the i-th segment from the list and deletes its files. */
static sm_err_t br_log_delete_segment(br_log_t *log, size_t i)
{
    br_segment_t *seg = log->segs[i];

    memmove(&log->segs[i], &log->segs[i + 1], (log->nsegs - i - 1) * sizeof(*log->segs));
    log->nsegs--;
    log->dir_generation++;
    return br_segment_delete(seg);
}

/* Index of the last segment whose base <= offset (0 if none). */
static size_t br_log_find_segment(const br_log_t *log, int64_t offset)
{
    size_t lo = 0;
    size_t hi = log->nsegs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (br_segment_base(log->segs[mid]) <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

static sm_err_t br_log_unlink_files(br_log_t *log, int64_t base)
{
    static const char *const suffixes[] = {BR_SEGMENT_LOG_SUFFIX, BR_SEGMENT_INDEX_SUFFIX,
                                           BR_SEGMENT_TIME_SUFFIX};
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (br_segment_path(path, sizeof(path), log->dir, base, suffixes[i]) != SM_OK)
            return SM_ERR_INVALID;
        if (log->ops->unlink(log->ops->ctx, path) != 0 && errno != ENOENT) {
            int e = errno;

            sm_log_error("%s: unlink failed: %s", path, strerror(e));
            return e == ENOSPC ? SM_ERR_NOSPC : SM_ERR_IO;
        }
    }
    log->dir_generation++;
    return SM_OK;
}

/* ---- open ---------------------------------------------------------------------------------- */

static sm_err_t br_log_check_config(const br_log_config_t *c, sm_errbuf_t *eb)
{
    if (c->segment_bytes < BR_BATCH_HEADER_SIZE || c->segment_bytes > INT32_MAX)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "log.segment.bytes must be in 61..%d", INT32_MAX);
    if (c->segment_ms < 1)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "log.roll.ms must be positive");
    if (c->index_interval_bytes < 0 || c->index_interval_bytes > INT32_MAX)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "log.index.interval.bytes out of range");
    if (c->index_max_bytes < BR_INDEX_TIME_ENTRY_SIZE || c->index_max_bytes > INT32_MAX)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "log.index.size.max.bytes must be >= %d",
                             BR_INDEX_TIME_ENTRY_SIZE);
    if (c->retention_ms < -1 || c->retention_bytes < -1)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "retention settings must be >= -1");
    if (c->flush_interval_messages < 1 || c->flush_interval_ms < 0)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "flush intervals must be positive");
    if (c->max_message_bytes < 0 || c->max_message_bytes > INT32_MAX)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "max.message.bytes must be in 0..%d", INT32_MAX);
    return SM_OK;
}

/* Parses "<20 digits><suffix>"; returns the base offset or -1. */
static int64_t br_log_parse_name(const char *name, const char *suffix)
{
    size_t slen = strlen(suffix);
    int64_t v = 0;

    if (strlen(name) != BR_SEGMENT_NAME_DIGITS + slen ||
        strcmp(name + BR_SEGMENT_NAME_DIGITS, suffix) != 0)
        return -1;
    for (size_t i = 0; i < BR_SEGMENT_NAME_DIGITS; i++) {
        int d = name[i] - '0';

        if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

typedef struct br_log_listing {
    int64_t *logs;
    size_t nlogs;
    int64_t *indexes; /* bases of .index and .timeindex files */
    size_t nindexes;
} br_log_listing_t;

static sm_err_t br_log_listing_add(int64_t **arr, size_t *n, int64_t v)
{
    int64_t *na = realloc(*arr, (*n + 1) * sizeof(*na));

    if (na == NULL)
        return SM_ERR_NOMEM;
    na[(*n)++] = v;
    *arr = na;
    return SM_OK;
}

static int br_log_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Lists the segment files of the directory (opendir: listing is outside the fileops seam). */
static sm_err_t br_log_list(br_log_t *log, br_log_listing_t *l, sm_errbuf_t *eb)
{
    DIR *d = opendir(log->dir);
    struct dirent *de;
    sm_err_t err = SM_OK;

    if (d == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "%s: cannot list: %s", log->dir, strerror(errno));
    while (err == SM_OK && (de = readdir(d)) != NULL) {
        int64_t b;

        if ((b = br_log_parse_name(de->d_name, BR_SEGMENT_LOG_SUFFIX)) >= 0)
            err = br_log_listing_add(&l->logs, &l->nlogs, b);
        else if ((b = br_log_parse_name(de->d_name, BR_SEGMENT_INDEX_SUFFIX)) >= 0 ||
                 (b = br_log_parse_name(de->d_name, BR_SEGMENT_TIME_SUFFIX)) >= 0)
            err = br_log_listing_add(&l->indexes, &l->nindexes, b);
    }
    closedir(d);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "%s: out of memory listing segments", log->dir);
    if (l->nlogs > 0)
        qsort(l->logs, l->nlogs, sizeof(int64_t), br_log_cmp_i64);
    return SM_OK;
}

/* Removes index files whose .log is gone (a crash in the middle of a segment deletion). */
static sm_err_t br_log_remove_orphans(br_log_t *log, const br_log_listing_t *l)
{
    for (size_t i = 0; i < l->nindexes; i++) {
        if (bsearch(&l->indexes[i], l->logs, l->nlogs, sizeof(int64_t), br_log_cmp_i64) != NULL)
            continue;
        sm_log_info("%s: removing index files of missing segment %" PRId64, log->dir,
                    l->indexes[i]);
        sm_err_t err = br_log_unlink_files(log, l->indexes[i]);

        if (err != SM_OK)
            return err;
    }
    return SM_OK;
}

/* Opens the listed segments in order, recovering from the one holding the recovery point on
 * (unless clean); a recovery that cut bytes, or a segment overlapping its predecessor, drops
 * every later segment. */
static sm_err_t br_log_load_segments(br_log_t *log, const br_log_listing_t *l, bool clean,
                                     int64_t recovery_point, int64_t now_ms, sm_errbuf_t *eb)
{
    size_t from = 0;
    size_t i;
    sm_err_t err = SM_OK;

    for (i = 0; i < l->nlogs && l->logs[i] <= recovery_point; i++)
        from = i;
    for (i = 0; i < l->nlogs && err == SM_OK; i++) {
        bool recover = !clean && i >= from;
        bool cut = false;
        br_segment_t *seg = NULL;

        /* A later segment must not overlap its predecessor; after a recovered one it must
         * follow on exactly, else a lost tail would leave a hole in the offsets. */
        if (log->nsegs > 0 &&
            (l->logs[i] < br_segment_next_offset(br_log_active(log)) ||
             (recover && i > from && l->logs[i] != br_segment_next_offset(br_log_active(log))))) {
            sm_log_warn("%s: segment %" PRId64 " does not follow on from the one before it; "
                        "dropping it and the rest",
                        log->dir, l->logs[i]);
            break;
        }
        err = br_segment_open(log->ops, log->dir, l->logs[i], &log->scfg, now_ms, recover,
                              log->cfg.on_batch, log->cfg.on_batch_ctx, &seg, &cut);
        if (err == SM_OK)
            err = br_log_push_segment(log, seg);
        if (err != SM_OK) {
            br_segment_close(seg);
            return sm_errbuf_set(eb, err, "%s: cannot open segment %" PRId64 ": %s", log->dir,
                                 l->logs[i], sm_err_str(err));
        }
        if (cut) {
            i++;
            break;
        }
    }
    for (; i < l->nlogs && err == SM_OK; i++) {
        sm_log_warn("%s: dropping segment %" PRId64 " after recovery", log->dir, l->logs[i]);
        err = br_log_unlink_files(log, l->logs[i]);
        if (err != SM_OK)
            sm_errbuf_set(eb, err, "%s: cannot delete segment %" PRId64, log->dir, l->logs[i]);
    }
    return err;
}

/* An empty directory: the log starts with one empty segment at the checkpointed start. */
static sm_err_t br_log_first_segment(br_log_t *log, int64_t log_start_offset, int64_t now_ms,
                                     sm_errbuf_t *eb)
{
    br_segment_t *seg = NULL;
    int64_t base = log_start_offset > 0 ? log_start_offset : 0;
    sm_err_t err = br_segment_create(log->ops, log->dir, base, &log->scfg, now_ms, &seg);

    if (err == SM_OK && (err = br_log_push_segment(log, seg)) != SM_OK)
        br_segment_close(seg);
    log->dir_generation++;
    if (err != SM_OK)
        sm_errbuf_set(eb, err, "%s: cannot create the first segment", log->dir);
    return err;
}

sm_err_t br_log_open(const br_fileops_t *ops, const char *dir, const br_log_config_t *cfg,
                     bool clean, int64_t recovery_point, int64_t log_start_offset, int64_t now_ms,
                     br_log_t **out, sm_errbuf_t *eb)
{
    br_log_listing_t l = {0};
    br_log_t *log = NULL;
    sm_err_t err;

    *out = NULL;
    err = br_log_check_config(cfg, eb);
    if (err != SM_OK)
        goto out;
    log = calloc(1, sizeof(*log));
    if (log == NULL || (log->dir = strdup(dir)) == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", dir);
        goto out;
    }
    log->ops = ops;
    log->cfg = *cfg;
    log->scfg.index_interval_bytes = (size_t)cfg->index_interval_bytes;
    log->scfg.index_max_bytes = (size_t)cfg->index_max_bytes;
    log->last_flush_ms = now_ms;
    log->last_now_ms = now_ms;
    if (ops->mkdir(ops->ctx, dir, 0755) != 0 && errno != EEXIST) {
        int e = errno;

        err = sm_errbuf_set(eb, e == ENOSPC ? SM_ERR_NOSPC : SM_ERR_IO, "%s: cannot create: %s",
                            dir, strerror(e));
        goto out;
    }
    err = br_log_list(log, &l, eb);
    if (err == SM_OK)
        err = br_log_remove_orphans(log, &l);
    if (err == SM_OK)
        err = br_log_load_segments(log, &l, clean, recovery_point, now_ms, eb);
    if (err == SM_OK && log->nsegs == 0)
        err = br_log_first_segment(log, log_start_offset, now_ms, eb);
    if (err != SM_OK)
        goto out;
    log->log_start = br_segment_base(log->segs[0]);
    if (log_start_offset > log->log_start)
        log->log_start = log_start_offset;
    if (log->log_start > br_log_end_offset(log)) {
        sm_log_warn("%s: log start offset %" PRId64 " is past the log end %" PRId64
                    "; restarting the log there",
                    dir, log->log_start, br_log_end_offset(log));
        err = br_log_truncate_fully_and_start_at(log, log->log_start);
        if (err != SM_OK) {
            sm_errbuf_set(eb, err, "%s: cannot restart the log", dir);
            goto out;
        }
    }
    log->recovery_point = br_log_end_offset(log);
    if (!clean && recovery_point < log->recovery_point)
        log->recovery_point = recovery_point;
out:
    free(l.logs);
    free(l.indexes);
    if (err != SM_OK) {
        br_log_close(log, false);
        log = NULL;
    }
    *out = log;
    return err;
}

sm_err_t br_log_close(br_log_t *log, bool clean)
{
    sm_err_t err;

    if (log == NULL)
        return SM_OK;
    br_log_drain(log);
    err = log->failed;
    if (clean && err == SM_OK && log->nsegs > 0) {
        err = br_segment_seal(br_log_active(log));
        if (err == SM_OK)
            err = br_log_flush(log, log->last_flush_ms);
        else
            br_log_fail(log, err, "sealing the active segment");
    }
    for (size_t i = 0; i < log->nsegs; i++)
        br_segment_close(log->segs[i]);
    free(log->segs);
    free(log->dir);
    free(log);
    return err;
}

/* ---- append -------------------------------------------------------------------------------- */

/* Seals the active segment and starts a new one at `base` (>= the log end). An empty active
 * segment is replaced rather than kept. */
static sm_err_t br_log_roll_at(br_log_t *log, int64_t base, int64_t now_ms)
{
    br_segment_t *old = br_log_active(log);
    br_segment_t *seg = NULL;
    bool replace = br_segment_is_empty(old);
    sm_err_t err = SM_OK;

    if (replace && base == br_segment_base(old))
        return SM_OK;
    if (!replace)
        err = br_segment_seal(old);
    if (err == SM_OK)
        err = br_segment_create(log->ops, log->dir, base, &log->scfg, now_ms, &seg);
    if (err == SM_OK && (err = br_log_push_segment(log, seg)) != SM_OK)
        br_segment_close(seg);
    if (err == SM_OK) {
        log->dir_generation++;
        log->rolled_since_flush = true;
        sm_log_debug("%s: rolled to segment %" PRId64, log->dir, base);
    }
    if (err == SM_OK && replace)
        err = br_log_delete_segment(log, log->nsegs - 2);
    return err == SM_OK ? SM_OK : br_log_fail(log, err, "rolling a segment");
}

static sm_err_t br_log_maybe_roll(br_log_t *log, const br_batch_set_t *set, int64_t max_ts,
                                  int64_t first, int64_t last, int64_t now_ms)
{
    br_segment_t *seg = br_log_active(log);
    int64_t rel_last = last - br_segment_base(seg);
    uint64_t size = br_segment_size(seg);
    bool roll;

    if (br_segment_is_empty(seg)) {
        roll = rel_last > INT32_MAX;
    } else {
        roll = size > (uint64_t)log->cfg.segment_bytes - set->bytes ||
               set->bytes > BR_SEGMENT_MAX_POSITION - size || br_segment_index_full(seg) ||
               rel_last > INT32_MAX ||
               (log->cfg.segment_ms != BR_LOG_NO_LIMIT &&
                br_segment_roll_age_ms(seg, max_ts, now_ms) > log->cfg.segment_ms);
    }
    return roll ? br_log_roll_at(log, first, now_ms) : SM_OK;
}

/* @thread writer: writes the job's bytes; touches nothing but the job. */
static sm_err_t br_log_write_work(void *arg, sm_errbuf_t *eb)
{
    br_log_write_t *w = arg;
    size_t done = 0;

    while (done < w->len) {
        ssize_t n = w->ops->pwrite(w->ops->ctx, w->fd, w->data + done, w->len - done,
                                   (off_t)(w->pos + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;

            return sm_errbuf_set(eb, e == ENOSPC || e == EDQUOT ? SM_ERR_NOSPC : SM_ERR_IO,
                                 "write: %s", strerror(e));
        }
        done += (size_t)n;
    }
    return SM_OK;
}

/* Loop thread: the job's bytes are in the file (or failed): readers may see them. */
static void br_log_write_done(void *arg, sm_err_t err, const char *msg)
{
    br_log_write_t *w = arg;
    br_log_t *log = w->log;

    log->unwritten--;
    log->unwritten_bytes -= w->len;
    if (err != SM_OK) {
        sm_log_error("log %s: %s", log->dir, msg);
        (void)br_log_fail(log, err, "writing an append");
    } else if (log->failed == SM_OK) {
        br_segment_written(w->seg, w->pos + w->len, w->end_offset);
        if (w->end_offset > log->written_end)
            log->written_end = w->end_offset;
    }
    free(w);
    if (log->cfg.on_written != NULL)
        log->cfg.on_written(log->cfg.on_written_ctx);
}

/* Reserves the append in the active segment and hands its bytes to the writer thread. */
static sm_err_t br_log_submit(br_log_t *log, const uint8_t *buf, const br_batch_set_t *set,
                              int64_t now_ms)
{
    br_segment_t *seg = br_log_active(log);
    int64_t before = br_log_end_offset(log);
    br_log_write_t *w;
    sm_err_t err;

    if (log->unwritten_bytes > BR_LOG_MAX_UNWRITTEN_BYTES)
        br_log_drain(log); /* the disk is behind: wait for it here rather than queue more */
    w = malloc(sizeof(*w) + set->bytes);
    if (w == NULL)
        return SM_ERR_NOMEM;
    err = br_segment_reserve(seg, set, now_ms, &w->pos);
    if (err != SM_OK) {
        free(w);
        return err;
    }
    memcpy(w->data, buf, set->bytes);
    w->log = log;
    w->seg = seg;
    w->ops = log->ops;
    w->fd = br_segment_fd(seg);
    w->len = set->bytes;
    w->end_offset = br_segment_next_offset(seg);
    if (log->unwritten == 0)
        log->written_end = before;
    log->unwritten++;
    log->unwritten_bytes += w->len;
    if (br_flusher_call(log->cfg.writer, br_log_write_work, br_log_write_done, w) != SM_OK) {
        sm_errbuf_t eb;

        err = br_log_write_work(w, &eb); /* out of memory for the queue: write it here */
        br_log_write_done(w, err, eb.msg);
    }
    return log->failed;
}

void br_log_drain(br_log_t *log)
{
    if (log->unwritten == 0 && log->releasing == 0)
        return;
    br_flusher_drain(log->cfg.writer);
    if (log->unwritten > 0)
        sm_log_error("log %s: %zu append(s) still unwritten after a drain", log->dir,
                     log->unwritten);
}

size_t br_log_unwritten(const br_log_t *log)
{
    return log->unwritten;
}

void br_log_set_offload(br_log_t *log, bool on)
{
    log->offload = on;
}

/* The part of an append shared by leader and follower: roll, callback, write, flush. */
static sm_err_t br_log_append_common(br_log_t *log, const uint8_t *buf, const br_batch_set_t *set,
                                     int64_t max_ts, int64_t now_ms, br_log_append_info_t *info)
{
    int64_t first = set->batches[0].hdr.base_offset;
    int64_t last = br_batch_last_offset(&set->batches[set->count - 1].hdr);
    sm_err_t err;

    if (now_ms > log->last_now_ms)
        log->last_now_ms = now_ms;
    err = br_log_maybe_roll(log, set, max_ts, first, last, now_ms);

    for (size_t i = 0; err == SM_OK && log->cfg.on_batch != NULL && i < set->count; i++)
        err = log->cfg.on_batch(log->cfg.on_batch_ctx, &set->batches[i].hdr);
    if (err != SM_OK)
        return err;
    /* To the writer while offloaded, and after anything still there (in order: note 5). */
    if (log->cfg.writer != NULL && (log->offload || log->unwritten > 0))
        err = br_log_submit(log, buf, set, now_ms);
    else
        err = br_segment_append(br_log_active(log), buf, set, now_ms);
    if (err != SM_OK)
        return br_log_fail(log, err, "appending");
    if (info != NULL) {
        info->first_offset = first;
        info->last_offset = last;
        info->log_append_time = log->cfg.log_append_time ? now_ms : BR_BATCH_NO_TIMESTAMP;
        info->log_start_offset = log->log_start;
        info->records = set->records;
        info->bytes = set->bytes;
    }
    if (br_log_next_offset(log) - log->recovery_point >= log->cfg.flush_interval_messages)
        err = br_log_flush(log, now_ms); /* drains first */
    return err;
}

sm_err_t br_log_append(br_log_t *log, uint8_t *buf, br_batch_set_t *set, int32_t leader_epoch,
                       int64_t now_ms, br_log_append_info_t *info)
{
    int64_t offset;
    int64_t max_ts = BR_BATCH_NO_TIMESTAMP;

    if (log->failed != SM_OK)
        return log->failed;
    if (set->count == 0)
        return SM_ERR_INVALID;
    if (set->bytes > (uint64_t)log->cfg.segment_bytes)
        return SM_ERR_TOO_LARGE;
    offset = br_log_next_offset(log);
    for (size_t i = 0; i < set->count; i++) {
        br_batch_extent_t *e = &set->batches[i];
        uint8_t *b = buf + e->pos;

        br_batch_stamp(b, offset, leader_epoch);
        e->hdr.base_offset = offset;
        e->hdr.leader_epoch = leader_epoch;
        if (log->cfg.log_append_time) {
            br_batch_set_log_append_time(b, e->size, now_ms);
            (void)br_batch_header_parse(b, e->size, &e->hdr); /* attributes, maxTs, CRC */
        }
        offset = br_batch_last_offset(&e->hdr) + 1;
        if (e->hdr.max_timestamp > max_ts)
            max_ts = e->hdr.max_timestamp;
    }
    return br_log_append_common(log, buf, set, max_ts, now_ms, info);
}

sm_err_t br_log_append_as_follower(br_log_t *log, const uint8_t *buf, const br_batch_set_t *set,
                                   int64_t now_ms, br_log_append_info_t *info)
{
    int64_t next;
    int64_t max_ts = BR_BATCH_NO_TIMESTAMP;

    if (log->failed != SM_OK)
        return log->failed;
    if (set->count == 0)
        return SM_ERR_INVALID;
    if (set->bytes > (uint64_t)log->cfg.segment_bytes)
        return SM_ERR_TOO_LARGE;
    next = br_log_next_offset(log);
    for (size_t i = 0; i < set->count; i++) {
        const br_batch_header_t *h = &set->batches[i].hdr;

        if (h->base_offset < next)
            return SM_ERR_RANGE;
        next = br_batch_last_offset(h) + 1;
        if (h->max_timestamp > max_ts)
            max_ts = h->max_timestamp;
    }
    return br_log_append_common(log, buf, set, max_ts, now_ms, info);
}

sm_err_t br_log_roll(br_log_t *log, int64_t now_ms)
{
    if (log->failed != SM_OK)
        return log->failed;
    if (br_segment_is_empty(br_log_active(log)))
        return SM_OK;
    return br_log_roll_at(log, br_log_next_offset(log), now_ms); /* as an append's roll */
}

/* ---- read ---------------------------------------------------------------------------------- */

sm_err_t br_log_read(br_log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                     br_log_slice_t *s)
{
    *s = (br_log_slice_t){.fd = -1, .first_offset = -1, .next_offset = offset};
    if (log->failed != SM_OK)
        return log->failed;
    if (offset < log->log_start || offset > br_log_end_offset(log))
        return SM_ERR_RANGE;
    if (offset == br_log_end_offset(log) || offset >= max_offset)
        return SM_OK;
    for (size_t i = br_log_find_segment(log, offset); i < log->nsegs; i++) {
        sm_err_t err = br_segment_read(log->segs[i], offset, max_bytes, max_offset, s);

        if (err == SM_ERR_NOT_FOUND)
            continue;
        if (err != SM_OK)
            return br_log_fail(log, err, "reading");
        return SM_OK;
    }
    *s = (br_log_slice_t){.fd = -1, .first_offset = -1, .next_offset = br_log_end_offset(log)};
    return SM_OK;
}

/* Walks the records section r of the batch whose header is h (read from the batch, or
 * decompressed from it) for the first record at or after `from` whose timestamp is >= ts.
 * SM_OK with its offset and timestamp, SM_ERR_NOT_FOUND if none, SM_ERR_CORRUPT /
 * SM_ERR_TRUNCATED for a malformed record. */
static sm_err_t br_log_walk_records(sm_reader_t *r, const br_batch_header_t *h, int64_t ts,
                                    int64_t from, int64_t *offset, int64_t *found_ts)
{
    bool append_time = (h->attributes & BR_BATCH_ATTR_LOG_APPEND_TIME) != 0;

    for (int32_t i = 0; i < h->records_count; i++) {
        int32_t rlen = sm_reader_varint(r);
        if (sm_reader_err(r) != SM_OK || rlen < 0)
            return SM_ERR_CORRUPT;
        sm_reader_t rec = sm_reader_sub(r, (size_t)rlen);
        (void)sm_reader_i8(&rec); /* record attributes: unused */
        int64_t ts_delta = sm_reader_varlong(&rec);
        int32_t off_delta = sm_reader_varint(&rec);
        if (sm_reader_err(&rec) != SM_OK)
            return sm_reader_err(&rec);
        int64_t rts = append_time ? h->max_timestamp : h->base_timestamp + ts_delta;
        int64_t roff = h->base_offset + off_delta;
        if (roff >= from && rts >= ts) {
            *offset = roff;
            *found_ts = rts;
            return SM_OK;
        }
    }
    return SM_ERR_NOT_FOUND;
}

/* Refines the batch found by time (base offset *offset, in seg) to its first record with a
 * timestamp >= ts (design: see br_log_offset_for_time in br_log.h), decompressing the records
 * of a compressed batch first, as Kafka does. Keeps *offset and sets *found_ts to -1 when the
 * batch is larger than BR_LOG_TIME_SEARCH_MAX_BATCH, cannot be decompressed within that bound,
 * has malformed records (these three with a warning), or has no such record at or after the
 * log start. Returns SM_OK, SM_ERR_NOMEM or the read error. */
static sm_err_t br_log_refine_by_time(br_log_t *log, br_segment_t *seg, int64_t ts, int64_t *offset,
                                      int64_t *found_ts)
{
    br_segment_slice_t s;
    br_batch_header_t h;
    uint8_t *buf = NULL;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    sm_reader_t r;
    sm_err_t err;

    *found_ts = BR_BATCH_NO_TIMESTAMP;
    err = br_segment_read(seg, *offset, 1, BR_LOG_NO_BOUND, &s); /* the first batch, whole */
    if (err != SM_OK || s.len < BR_BATCH_HEADER_SIZE)
        goto out;
    if (s.len > BR_LOG_TIME_SEARCH_MAX_BATCH) {
        sm_log_warn("log %s: the batch at offset %" PRId64 " is %zu bytes, too large to search"
                    " by time; answering its base offset",
                    log->dir, *offset, s.len);
        goto out;
    }
    buf = malloc(s.len);
    if (buf == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    ssize_t n = log->ops->pread(log->ops->ctx, s.fd, buf, s.len, (off_t)s.pos);
    if (n < 0 || (size_t)n != s.len) {
        err = SM_ERR_IO;
        goto out;
    }
    err = br_batch_header_parse(buf, s.len, &h);
    if (err != SM_OK || br_batch_size(&h) != s.len || h.base_offset != s.first_offset)
        goto out;
    int codec = h.attributes & BR_BATCH_ATTR_COMPRESSION_MASK;
    if (codec == 0) {
        sm_reader_init(&r, buf + BR_BATCH_HEADER_SIZE, s.len - BR_BATCH_HEADER_SIZE);
    } else {
        sm_err_t derr =
            br_decompress(codec, buf + BR_BATCH_HEADER_SIZE, s.len - BR_BATCH_HEADER_SIZE,
                          BR_LOG_TIME_SEARCH_MAX_BATCH, &plain, &plain_len);
        if (derr == SM_ERR_NOMEM) {
            err = derr;
            goto out;
        }
        if (derr != SM_OK) {
            sm_log_warn("log %s: cannot decompress the batch at offset %" PRId64
                        " (codec %d) while searching by time (%s); answering its base offset",
                        log->dir, h.base_offset, codec, sm_err_str(derr));
            goto out;
        }
        sm_reader_init(&r, plain, plain_len);
    }
    int64_t roff = *offset;
    int64_t rts = BR_BATCH_NO_TIMESTAMP;
    sm_err_t werr = br_log_walk_records(&r, &h, ts, log->log_start, &roff, &rts);
    if (werr == SM_OK) {
        *offset = roff;
        *found_ts = rts;
    } else if (werr != SM_ERR_NOT_FOUND) {
        sm_log_warn("log %s: malformed record in the batch at offset %" PRId64
                    " while searching by time (%s); answering the batch's base offset",
                    log->dir, h.base_offset, sm_err_str(werr));
    }
out:
    free(plain);
    free(buf);
    if (err == SM_ERR_NOT_FOUND || err == SM_ERR_CORRUPT || err == SM_ERR_TRUNCATED)
        err = SM_OK; /* the batch's base offset stands */
    return err;
}

sm_err_t br_log_offset_for_time(br_log_t *log, int64_t ts, int64_t *offset, int64_t *found_ts)
{
    br_log_drain(log); /* reads or cuts the log: nothing may be unwritten (note 5) */
    *found_ts = BR_BATCH_NO_TIMESTAMP;
    if (log->failed != SM_OK)
        return log->failed;
    for (size_t i = br_log_find_segment(log, log->log_start); i < log->nsegs; i++) {
        sm_err_t err = br_segment_find_by_time(log->segs[i], ts, offset);

        if (err == SM_ERR_NOT_FOUND)
            continue;
        if (err == SM_OK)
            err = br_log_refine_by_time(log, log->segs[i], ts, offset, found_ts);
        if (err == SM_ERR_NOMEM)
            return err;
        if (err != SM_OK)
            return br_log_fail(log, err, "searching by time");
        if (*offset < log->log_start)
            *offset = log->log_start;
        return SM_OK;
    }
    return SM_ERR_NOT_FOUND;
}

typedef struct br_log_scan_ctx {
    br_log_batch_fn fn;
    void *ctx;
    sm_err_t fn_err;
} br_log_scan_ctx_t;

static sm_err_t br_log_scan_cb(void *arg, const br_batch_header_t *h)
{
    br_log_scan_ctx_t *sc = arg;

    sc->fn_err = sc->fn(sc->ctx, h);
    return sc->fn_err;
}

sm_err_t br_log_for_each_batch(br_log_t *log, int64_t offset, br_log_batch_fn fn, void *ctx)
{
    br_log_drain(log); /* reads or cuts the log: nothing may be unwritten (note 5) */
    br_log_scan_ctx_t sc = {.fn = fn, .ctx = ctx, .fn_err = SM_OK};

    if (log->failed != SM_OK)
        return log->failed;
    if (offset < log->log_start)
        offset = log->log_start;
    for (size_t i = br_log_find_segment(log, offset); i < log->nsegs; i++) {
        sm_err_t err = br_segment_scan(log->segs[i], offset, br_log_scan_cb, &sc);

        if (sc.fn_err != SM_OK)
            return sc.fn_err;
        if (err != SM_OK)
            return br_log_fail(log, err, "scanning");
    }
    return SM_OK;
}

/* ---- retention and truncation -------------------------------------------------------------- */

static bool br_log_segment_expired(const br_log_t *log, const br_segment_t *seg, uint64_t total,
                                   int64_t now_ms)
{
    int64_t rb = log->cfg.retention_bytes;
    int64_t rms = log->cfg.retention_ms;

    if (br_segment_next_offset(seg) <= log->log_start)
        return true;
    if (rms >= 0 && now_ms - br_segment_retention_timestamp(seg) > rms)
        return true;
    return rb >= 0 && total - br_segment_size(seg) >= (uint64_t)rb;
}

sm_err_t br_log_delete_old_segments(br_log_t *log, int64_t now_ms, int64_t upper_bound,
                                    size_t *deleted)
{
    uint64_t total = br_log_size_bytes(log);
    size_t n = 0;
    sm_err_t err = log->failed;

    /* Only segments wholly written (and their completions run) go: no need to drain. */
    if (upper_bound > br_log_end_offset(log))
        upper_bound = br_log_end_offset(log);
    while (err == SM_OK) {
        br_segment_t *seg = log->segs[0];
        bool active = log->nsegs == 1;
        uint64_t size = br_segment_size(seg);

        if (br_segment_next_offset(seg) > upper_bound || (active && br_segment_is_empty(seg)) ||
            !br_log_segment_expired(log, seg, total, now_ms))
            break;
        if (active)
            err = br_log_roll_at(log, br_log_next_offset(log), now_ms);
        if (err != SM_OK)
            break;
        sm_log_info("%s: retention deletes segment %" PRId64 " (%" PRIu64 " bytes)", log->dir,
                    br_segment_base(seg), size);
        err = br_log_delete_segment(log, 0);
        if (err != SM_OK) {
            err = br_log_fail(log, err, "deleting a segment");
            break;
        }
        total -= size;
        n++;
        if (br_segment_base(log->segs[0]) > log->log_start)
            log->log_start = br_segment_base(log->segs[0]);
    }
    if (deleted != NULL)
        *deleted = n;
    return err;
}

sm_err_t br_log_set_log_start_offset(br_log_t *log, int64_t offset)
{
    /* Below the written end (checked here), whole segments are written: no need to drain. */
    if (log->failed != SM_OK)
        return log->failed;
    if (offset > br_log_end_offset(log))
        return SM_ERR_RANGE;
    if (offset <= log->log_start)
        return SM_OK;
    log->log_start = offset;
    while (log->nsegs > 1 && br_segment_next_offset(log->segs[0]) <= offset) {
        sm_err_t err = br_log_delete_segment(log, 0);

        if (err != SM_OK)
            return br_log_fail(log, err, "deleting a segment");
    }
    return SM_OK;
}

sm_err_t br_log_truncate_to(br_log_t *log, int64_t offset)
{
    br_log_drain(log); /* reads or cuts the log: nothing may be unwritten (note 5) */
    sm_err_t err = SM_OK;

    if (log->failed != SM_OK)
        return log->failed;
    if (offset >= br_log_end_offset(log))
        return SM_OK;
    if (offset < log->log_start)
        return br_log_truncate_fully_and_start_at(log, offset);
    log->generation++;
    while (err == SM_OK && log->nsegs > 1 && br_segment_base(br_log_active(log)) >= offset)
        err = br_log_delete_segment(log, log->nsegs - 1);
    if (err == SM_OK)
        err = br_segment_truncate_to(br_log_active(log), offset);
    if (err != SM_OK)
        return br_log_fail(log, err, "truncating");
    if (log->recovery_point > br_log_end_offset(log))
        log->recovery_point = br_log_end_offset(log);
    sm_log_info("%s: truncated to %" PRId64 " (log end now %" PRId64 ")", log->dir, offset,
                br_log_end_offset(log));
    return SM_OK;
}

sm_err_t br_log_truncate_fully_and_start_at(br_log_t *log, int64_t offset)
{
    br_log_drain(log); /* reads or cuts the log: nothing may be unwritten (note 5) */
    br_segment_t *seg = NULL;
    sm_err_t err = SM_OK;

    if (log->failed != SM_OK)
        return log->failed;
    if (offset < 0)
        return SM_ERR_INVALID;
    log->generation++;
    /* Delete first: a segment with the new base may exist, and creating truncates its files. */
    while (err == SM_OK && log->nsegs > 0)
        err = br_log_delete_segment(log, log->nsegs - 1);
    if (err == SM_OK)
        err = br_segment_create(log->ops, log->dir, offset, &log->scfg, log->last_now_ms, &seg);
    if (err == SM_OK && (err = br_log_push_segment(log, seg)) != SM_OK)
        br_segment_close(seg);
    if (err != SM_OK)
        return br_log_fail(log, err, "restarting the log");
    log->dir_generation++;
    log->log_start = offset;
    log->recovery_point = offset;
    sm_log_info("%s: restarted empty at offset %" PRId64, log->dir, offset);
    return SM_OK;
}

/* ---- flushing ------------------------------------------------------------------------------ */

bool br_log_flush_due(const br_log_t *log, int64_t now_ms)
{
    int64_t ms = log->cfg.flush_interval_ms;

    if (log->failed != SM_OK || br_log_end_offset(log) <= log->recovery_point)
        return false;
    return log->rolled_since_flush || (ms != BR_LOG_NO_LIMIT && now_ms - log->last_flush_ms >= ms);
}

static sm_err_t br_log_job_add(br_log_flush_job_t *job, int fd, bool owned)
{
    if (job->nfiles == job->cap) {
        size_t ncap = job->cap == 0 ? 8 : job->cap * 2;
        br_log_flush_file_t *nf = realloc(job->files, ncap * sizeof(*nf));

        if (nf == NULL)
            return SM_ERR_NOMEM;
        job->files = nf;
        job->cap = ncap;
    }
    job->files[job->nfiles++] = (br_log_flush_file_t){.fd = fd, .owned = owned};
    return SM_OK;
}

/* Adds path (own fd, opened read-only) or fd (borrowed) to the job. */
static sm_err_t br_log_job_add_file(br_log_t *log, br_log_flush_job_t *job, const char *path,
                                    int fd, bool dir)
{
    sm_err_t err;

    if (path == NULL)
        return br_log_job_add(job, fd, false);
    fd = log->ops->open(log->ops->ctx, path, O_RDONLY | (dir ? O_DIRECTORY : 0), 0);
    if (fd < 0) {
        int e = errno;

        sm_log_error("%s: open for flush failed: %s", path, strerror(e));
        if (e == EMFILE || e == ENFILE || e == ENOMEM)
            return SM_ERR_AGAIN;
        return br_log_fail(log, e == ENOSPC ? SM_ERR_NOSPC : SM_ERR_IO, "opening for flush");
    }
    err = br_log_job_add(job, fd, true);
    if (err != SM_OK)
        log->ops->close(log->ops->ctx, fd);
    return err;
}

static sm_err_t br_log_flush_prepare(br_log_t *log, int64_t now_ms, bool borrow,
                                     br_log_flush_job_t **out)
{
    br_log_flush_job_t *job = NULL;
    bool dir_dirty = log->dir_generation != log->dir_flushed_generation;
    bool rolled = log->rolled_since_flush;
    sm_err_t err = SM_OK;

    *out = NULL;
    if (log->failed != SM_OK)
        return log->failed;
    log->rolled_since_flush = false;
    log->last_flush_ms = now_ms;
    if (br_log_end_offset(log) <= log->recovery_point && !dir_dirty)
        return SM_OK;
    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return SM_ERR_NOMEM;
    job->ops = log->ops;
    job->target = br_log_end_offset(log);
    job->generation = log->generation;
    job->dir_generation = log->dir_generation;
    for (size_t i = 0; i < log->nsegs && err == SM_OK; i++) {
        br_segment_t *seg = log->segs[i];
        const br_index_t *oi = br_segment_offset_index(seg);
        const br_index_t *ti = br_segment_time_index(seg);

        if (br_segment_next_offset(seg) <= log->recovery_point)
            continue;
        /* Index entries wait in memory (br_index.h); the fsync must find them in the file. */
        err = br_segment_flush_indexes(seg);
        if (err != SM_OK) {
            err = br_log_fail(log, err, "writing index entries");
            break;
        }
        err = br_log_job_add_file(log, job, borrow ? NULL : br_segment_log_path(seg),
                                  br_segment_fd(seg), false);
        if (err == SM_OK)
            err = br_log_job_add_file(log, job, borrow ? NULL : br_index_path(oi), br_index_fd(oi),
                                      false);
        if (err == SM_OK)
            err = br_log_job_add_file(log, job, borrow ? NULL : br_index_path(ti), br_index_fd(ti),
                                      false);
    }
    if (err == SM_OK && dir_dirty) {
        job->has_dir = true;
        err = br_log_job_add_file(log, job, log->dir, -1, true);
    }
    if (err != SM_OK) {
        br_log_flush_job_free(job);
        job = NULL;
        log->rolled_since_flush = rolled && err == SM_ERR_AGAIN; /* ask again later */
    }
    *out = job;
    return err;
}

sm_err_t br_log_flush_begin(br_log_t *log, int64_t now_ms, br_log_flush_job_t **job)
{
    return br_log_flush_prepare(log, now_ms, false, job);
}

sm_err_t br_log_flush_job_run(br_log_flush_job_t *job)
{
    job->ran = true;
    job->result = SM_OK;
    for (size_t i = 0; i < job->nfiles; i++) {
        if (job->ops->fsync(job->ops->ctx, job->files[i].fd) != 0) {
            int e = errno;

            sm_log_error("fsync failed: %s", strerror(e));
            job->result = (e == ENOSPC || e == EDQUOT) ? SM_ERR_NOSPC : SM_ERR_IO;
            break;
        }
    }
    return job->result;
}

int64_t br_log_flush_job_target(const br_log_flush_job_t *job)
{
    return job->target;
}

size_t br_log_flush_job_fd_count(const br_log_flush_job_t *job)
{
    return job->nfiles;
}

int br_log_flush_job_fd(const br_log_flush_job_t *job, size_t i)
{
    return job->files[i].fd;
}

sm_err_t br_log_flush_done(br_log_t *log, br_log_flush_job_t *job)
{
    sm_err_t err = job->ran ? job->result : SM_ERR_INVALID;

    if (err == SM_ERR_INVALID) {
        br_log_flush_job_free(job);
        return err;
    }
    if (err != SM_OK) {
        err = br_log_fail(log, err, "fsync");
    } else if (log->failed == SM_OK && job->generation == log->generation) {
        int64_t target = job->target;

        if (target > br_log_end_offset(log))
            target = br_log_end_offset(log);
        if (target > log->recovery_point)
            log->recovery_point = target;
        if (job->has_dir && job->dir_generation > log->dir_flushed_generation)
            log->dir_flushed_generation = job->dir_generation;
    }
    br_log_flush_job_free(job);
    return err;
}

void br_log_flush_job_free(br_log_flush_job_t *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->nfiles; i++) {
        if (job->files[i].owned)
            job->ops->close(job->ops->ctx, job->files[i].fd);
    }
    free(job->files);
    free(job);
}

sm_err_t br_log_flush(br_log_t *log, int64_t now_ms)
{
    br_log_drain(log); /* "everything appended" includes what the writer still holds */
    br_log_flush_job_t *job = NULL;
    sm_err_t err = br_log_flush_prepare(log, now_ms, true, &job);

    if (err != SM_OK || job == NULL)
        return err;
    (void)br_log_flush_job_run(job);
    return br_log_flush_done(log, job);
}

/* ---- state --------------------------------------------------------------------------------- */

int64_t br_log_end_offset(const br_log_t *log)
{
    return log->unwritten > 0 ? log->written_end : br_log_next_offset(log);
}

int64_t br_log_start_offset(const br_log_t *log)
{
    return log->log_start;
}

int64_t br_log_recovery_point(const br_log_t *log)
{
    return log->recovery_point;
}

uint64_t br_log_size_bytes(const br_log_t *log)
{
    uint64_t total = 0;

    for (size_t i = 0; i < log->nsegs; i++)
        total += br_segment_size(log->segs[i]);
    return total;
}

int br_log_active_file(const br_log_t *log, int64_t *base, uint64_t *size)
{
    if (log->nsegs == 0)
        return -1;
    *base = br_segment_base(br_log_active(log));
    *size = br_segment_written_size(br_log_active(log));
    return br_segment_fd(br_log_active(log));
}

/* @thread writer. Truncating a file to its own size frees its blocks past the end (those
 * fallocate reserved with FALLOC_FL_KEEP_SIZE); ext4 does not punch holes past the end. */
static sm_err_t br_log_release_work(void *arg, sm_errbuf_t *eb)
{
    br_log_release_t *r = arg;

    (void)eb;
    if (r->log->ops->ftruncate(r->log->ops->ctx, r->fd, r->size) < 0)
        sm_log_debug("%s: giving back a sealed segment's reserved blocks: %s", r->log->dir,
                     strerror(errno));
    return SM_OK;
}

static void br_log_release_done(void *arg, sm_err_t err, const char *msg)
{
    br_log_release_t *r = arg;

    (void)err;
    (void)msg;
    close(r->fd);
    r->log->releasing--;
    free(r);
}

void br_log_release_unused(br_log_t *log, int64_t base)
{
    br_log_release_t *r;
    size_t i = 0;

    while (i + 1 < log->nsegs && br_segment_base(log->segs[i]) != base)
        i++;
    if (log->cfg.writer == NULL || log->failed != SM_OK || i + 1 >= log->nsegs)
        return; /* no writer, failed, the active segment, or not there (deleted, cut away) */
    /* A segment rolled for its size leaves less than a batch unused: not worth a job that
     * holds the writer (freeing blocks waits for the disk where ext4 discards them). */
    uint64_t size = br_segment_written_size(log->segs[i]), max = (uint64_t)log->cfg.segment_bytes;
    if (size >= max || max - size < BR_LOG_RELEASE_MIN(max) || (r = malloc(sizeof(*r))) == NULL)
        return;
    r->log = log;
    r->size = (off_t)size;
    r->fd = dup(br_segment_fd(log->segs[i]));
    if (r->fd < 0 ||
        br_flusher_call(log->cfg.writer, br_log_release_work, br_log_release_done, r) != SM_OK) {
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return;
    }
    log->releasing++;
}

int64_t br_log_segment_max_bytes(const br_log_t *log)
{
    return log->cfg.segment_bytes;
}

int64_t br_log_max_message_bytes(const br_log_t *log)
{
    return log->cfg.max_message_bytes;
}

sm_err_t br_log_reconfigure(br_log_t *log, const br_log_config_t *cfg, sm_errbuf_t *eb)
{
    br_log_config_t c = log->cfg;
    sm_err_t err;

    c.segment_bytes = cfg->segment_bytes;
    c.segment_ms = cfg->segment_ms;
    c.index_interval_bytes = cfg->index_interval_bytes;
    c.retention_ms = cfg->retention_ms;
    c.retention_bytes = cfg->retention_bytes;
    c.flush_interval_messages = cfg->flush_interval_messages;
    c.flush_interval_ms = cfg->flush_interval_ms;
    c.log_append_time = cfg->log_append_time;
    c.max_message_bytes = cfg->max_message_bytes;
    err = br_log_check_config(&c, eb);
    if (err != SM_OK)
        return err;
    log->cfg = c;
    log->scfg.index_interval_bytes = (size_t)c.index_interval_bytes; /* for the next segment */
    return SM_OK;
}

size_t br_log_segment_count(const br_log_t *log)
{
    return log->nsegs;
}

int64_t br_log_segment_base(const br_log_t *log, size_t i)
{
    return br_segment_base(log->segs[i]);
}

const char *br_log_dir(const br_log_t *log)
{
    return log->dir;
}

bool br_log_is_failed(const br_log_t *log)
{
    return log->failed != SM_OK;
}

sm_err_t br_log_error(const br_log_t *log)
{
    return log->failed;
}
