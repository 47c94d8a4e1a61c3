/*
 * storage_fixture: shared helpers of the storage-engine suites (test_batch, test_index,
 * test_segment, test_log): scratch directories, a builder of valid magic-v2 record batches,
 * and a fault-injecting br_fileops that fails the Nth write step with EIO or ENOSPC (or
 * writes half and then fails). Header-only (static inline) because every tests/unit/test_*.c
 * is its own binary.
 */
#ifndef STORAGE_FIXTURE_H
#define STORAGE_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/br_batch.h"
#include "broker/br_fileops.h"
#include "sm_buf.h"
#include "sm_crc32c.h"

/* ---- scratch directories ----------------------------------------------------------------- */

static inline int fx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Makes a fresh directory (tmpfs when there is one: fsync is then cheap) into buf. */
static inline void fx_mkdtemp(char *buf, size_t cap, const char *name)
{
    struct stat st;
    const char *root = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";

    snprintf(buf, cap, "%s/%s.XXXXXX", root, name);
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static inline void fx_rmtree(const char *dir)
{
    nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int64_t fx_file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* ---- batch builder ------------------------------------------------------------------------ */

typedef struct fx_batch_opts {
    int32_t records;      /* >= 1 */
    size_t value_len;     /* bytes of each record's value */
    int64_t base_ts;      /* first record's timestamp; max = base + records - 1 */
    int16_t attributes;   /* compression bits etc. A codec != 0 writes opaque "compressed" bytes */
    int64_t base_offset;  /* usually 0 from producers */
    int32_t leader_epoch; /* usually 0 from producers */
    uint8_t fill;         /* value byte */
} fx_batch_opts_t;

static inline void fx_put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* Recomputes the CRC of a whole batch in place (after a test tampered with it). */
static inline void fx_fix_crc(uint8_t *b, size_t len)
{
    fx_put_be(b + BR_BATCH_OFF_CRC, sm_crc32c(0, b + BR_BATCH_CRC_START, len - BR_BATCH_CRC_START),
              4);
}

/* Appends one valid batch to w. Returns its size. */
static inline size_t fx_batch_write(sm_writer_t *w, const fx_batch_opts_t *o)
{
    size_t start = sm_writer_len(w);
    size_t len_pos;
    size_t end;
    uint8_t *value = malloc(o->value_len + 1);

    memset(value, o->fill, o->value_len + 1);
    sm_writer_i64(w, o->base_offset);
    len_pos = sm_writer_reserve(w, 4);
    sm_writer_i32(w, o->leader_epoch);
    sm_writer_i8(w, 2);
    sm_writer_u32(w, 0); /* crc, patched below */
    sm_writer_i16(w, o->attributes);
    sm_writer_i32(w, o->records - 1);
    sm_writer_i64(w, o->base_ts);
    sm_writer_i64(w, o->base_ts < 0 ? o->base_ts : o->base_ts + o->records - 1);
    sm_writer_i64(w, -1);
    sm_writer_i16(w, -1);
    sm_writer_i32(w, -1);
    sm_writer_i32(w, o->records);
    if ((o->attributes & BR_BATCH_ATTR_COMPRESSION_MASK) != 0) {
        /* Stand-in for a compressed stream: never decoded by the broker. */
        for (int32_t i = 0; i < o->records; i++)
            sm_writer_raw(w, value, o->value_len + 1);
    } else {
        for (int32_t i = 0; i < o->records; i++) {
            int32_t body =
                (int32_t)(1 + sm_varlong_size(o->base_ts < 0 ? 0 : i) + sm_varint_size(i) +
                          sm_varint_size(-1) + sm_varint_size((int32_t)o->value_len) +
                          o->value_len + sm_varint_size(0));

            sm_writer_varint(w, body);
            sm_writer_i8(w, 0);
            sm_writer_varlong(w, o->base_ts < 0 ? 0 : i);
            sm_writer_varint(w, i);
            sm_writer_varint(w, -1);
            sm_writer_varint(w, (int32_t)o->value_len);
            sm_writer_raw(w, value, o->value_len);
            sm_writer_varint(w, 0);
        }
    }
    free(value);
    end = sm_writer_len(w);
    sm_writer_patch_i32(w, len_pos, (int32_t)(end - start - BR_BATCH_LOG_OVERHEAD));
    sm_writer_patch_u32(w, start + BR_BATCH_OFF_CRC,
                        sm_crc32c(0, sm_writer_data(w) + start + BR_BATCH_CRC_START,
                                  end - start - BR_BATCH_CRC_START));
    return end - start;
}

/* A heap copy of one valid batch; *len gets its size. Free with free(). */
static inline uint8_t *fx_batch_new(const fx_batch_opts_t *o, size_t *len)
{
    sm_writer_t w;
    uint8_t *out = NULL;

    sm_writer_init(&w, 0);
    fx_batch_write(&w, o);
    if (sm_writer_detach(&w, &out, len) != SM_OK)
        abort();
    sm_writer_deinit(&w);
    return out;
}

/* A simple batch: n records of value_len bytes, timestamps from ts. */
static inline uint8_t *fx_simple_batch(int32_t n, size_t value_len, int64_t ts, size_t *len)
{
    fx_batch_opts_t o = {.records = n, .value_len = value_len, .base_ts = ts, .fill = 'v'};

    return fx_batch_new(&o, len);
}

/* Reads len bytes at pos of fd into a new buffer (abort on failure). */
static inline uint8_t *fx_pread_all(int fd, uint64_t pos, size_t len)
{
    uint8_t *buf = malloc(len + 1);
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(pos + done));

        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    return buf;
}

/* ---- fault-injecting fileops -------------------------------------------------------------- */

/* Counts "write steps" (open, pwrite, ftruncate, fsync, rename, unlink, mkdir) and fails the
 * one numbered fail_at (1-based; 0 = never) with errno `err`. With `sticky`, every later step
 * fails too (a dead disk). With `short_write`, a failing pwrite of more than one byte first
 * writes half and reports it, and the next pwrite fails. Reads and closes pass through.
 * Counters: steps seen, fsyncs done, whether the fault fired. */
typedef struct fx_faults {
    br_fileops_t ops; /* ops.ctx points at this struct */
    int fail_at;
    int err;
    bool sticky;
    bool short_write;
    int steps;
    int fsyncs;
    bool fired;
    bool fail_next_pwrite;
} fx_faults_t;

static inline bool fx_fault_hit(fx_faults_t *f)
{
    f->steps++;
    if ((f->fired && f->sticky) || (f->fail_at > 0 && f->steps == f->fail_at)) {
        f->fired = true;
        errno = f->err;
        return true;
    }
    return false;
}

static inline int fx_fault_open(void *ctx, const char *path, int flags, mode_t mode)
{
    return fx_fault_hit(ctx) ? -1 : br_fileops_posix()->open(NULL, path, flags, mode);
}

static inline int fx_fault_close(void *ctx, int fd)
{
    (void)ctx;
    return br_fileops_posix()->close(NULL, fd);
}

static inline ssize_t fx_fault_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    fx_faults_t *f = ctx;

    if (f->fail_next_pwrite) {
        f->fail_next_pwrite = false;
        errno = f->err;
        return -1;
    }
    if (fx_fault_hit(f)) {
        if (f->short_write && len > 1) {
            f->fail_next_pwrite = true;
            return br_fileops_posix()->pwrite(NULL, fd, buf, len / 2, off);
        }
        return -1;
    }
    return br_fileops_posix()->pwrite(NULL, fd, buf, len, off);
}

static inline ssize_t fx_fault_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
    (void)ctx;
    return br_fileops_posix()->pread(NULL, fd, buf, len, off);
}

static inline int fx_fault_fsync(void *ctx, int fd)
{
    fx_faults_t *f = ctx;

    if (fx_fault_hit(f))
        return -1;
    f->fsyncs++;
    return br_fileops_posix()->fsync(NULL, fd);
}

static inline int fx_fault_ftruncate(void *ctx, int fd, off_t len)
{
    return fx_fault_hit(ctx) ? -1 : br_fileops_posix()->ftruncate(NULL, fd, len);
}

static inline int fx_fault_rename(void *ctx, const char *from, const char *to)
{
    return fx_fault_hit(ctx) ? -1 : br_fileops_posix()->rename(NULL, from, to);
}

static inline int fx_fault_unlink(void *ctx, const char *path)
{
    return fx_fault_hit(ctx) ? -1 : br_fileops_posix()->unlink(NULL, path);
}

static inline int fx_fault_mkdir(void *ctx, const char *path, mode_t mode)
{
    return fx_fault_hit(ctx) ? -1 : br_fileops_posix()->mkdir(NULL, path, mode);
}

/* Sets f up to fail step fail_at (0 = never) with errno err. */
static inline void fx_faults_init(fx_faults_t *f, int fail_at, int err)
{
    memset(f, 0, sizeof(*f));
    f->fail_at = fail_at;
    f->err = err;
    f->ops = (br_fileops_t){
        .ctx = f,
        .open = fx_fault_open,
        .close = fx_fault_close,
        .pwrite = fx_fault_pwrite,
        .pread = fx_fault_pread,
        .fsync = fx_fault_fsync,
        .ftruncate = fx_fault_ftruncate,
        .rename = fx_fault_rename,
        .unlink = fx_fault_unlink,
        .mkdir = fx_fault_mkdir,
    };
}

#endif
