/*
 * bench_storage: throughput of Samsa's storage append and read paths against plain
 * write(2)/read(2) of the same bytes on the same filesystem, measured in one run.
 *
 * One valid magic-2 record batch (16 KiB of 100-byte records by default, CRC-32C computed once)
 * is built with sm_writer; each append copies it into a receive buffer (as a Produce request's
 * bytes would be) and takes it through the broker's append path: br_batch_validate_set (CRC,
 * header and record checks) then br_log_append (offset stamping, segment write, index entries)
 * on a log created by br_logmgr. The baseline copies the same buffer and write(2)s it to a
 * plain file. Reads go through br_log_read slices (pread into a buffer, or sendfile to
 * /dev/null with --sendfile) against read(2) (or sendfile) of the plain file. Both sides read
 * the file they have just written: without root the page cache cannot be dropped, so both
 * reads are served from memory; the program measures and prints how much of each file is
 * resident (mincore) so the figure says what it measured. fsync time after the writes is
 * reported separately. Run by hand (bench/storage.sh), never by `make test`.
 *
 *   usage: bench_storage --dir DIR [--bytes N[K|M|G]] [--batch-bytes N] [--record-bytes N]
 *                        [--rounds N] [--sendfile] [--no-record-walk]
 *
 * --no-record-walk validates the batch header and CRC only (br_batch_limits_t
 * skip_record_walk), to show what walking the records costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_batch.h"
#include "broker/br_flusher.h"
#include "broker/br_log.h"
#include "broker/br_logmgr.h"
#include "sm_buf.h"
#include "sm_crc32c.h"
#include "sm_log.h"

#define BENCH_READ_CHUNK (1u << 20)

typedef struct bench_opts {
    const char *dir;
    uint64_t bytes;
    size_t batch_bytes;
    size_t record_bytes;
    int rounds;
    bool use_sendfile;
    bool no_record_walk;
} bench_opts_t;

typedef struct bench_round {
    double samsa_append_s;
    double samsa_validate_s;
    double samsa_fsync_s;
    double samsa_read_s;
    double plain_write_s;
    double plain_fsync_s;
    double plain_read_s;
    double crc_only_s;
    double samsa_resident;
    double plain_resident;
    uint64_t bytes;
} bench_round_t;

/* What every phase shares: the options, the template batch and the buffers. */
typedef struct bench {
    bench_opts_t o;
    uint8_t *tmpl; /* the template batch */
    size_t len;
    int nrecords;
    uint64_t nbatches;
    uint8_t *rx;   /* receive buffer the template is copied into */
    uint8_t *rbuf; /* read buffer */
    size_t rcap;
    int devnull;
} bench_t;

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t bench_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bench_die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_storage: %s: %s\n", what, detail);
    exit(1);
}

/* ---- the template batch ------------------------------------------------------------------- */

/* Builds one batch of as many `record_bytes`-value records as fit in batch_bytes. */
static uint8_t *bench_build_batch(const bench_opts_t *o, size_t *len, int *nrecords)
{
    sm_writer_t w;
    sm_writer_t rec;
    uint8_t *value = malloc(o->record_bytes);
    uint8_t *out = NULL;
    size_t crc_pos;
    int64_t ts = bench_wall_ms();
    int n = 0;

    if (value == NULL)
        bench_die("batch", "out of memory");
    memset(value, 'x', o->record_bytes);
    sm_writer_init(&w, o->batch_bytes);
    sm_writer_init(&rec, o->record_bytes + 32);
    sm_writer_i64(&w, 0);  /* baseOffset: stamped by the append */
    sm_writer_i32(&w, 0);  /* batchLength: patched below */
    sm_writer_i32(&w, -1); /* partitionLeaderEpoch: stamped */
    sm_writer_i8(&w, BR_BATCH_MAGIC);
    crc_pos = sm_writer_reserve(&w, 4);
    sm_writer_i16(&w, 0);  /* attributes: no compression, CreateTime */
    sm_writer_i32(&w, 0);  /* lastOffsetDelta: patched */
    sm_writer_i64(&w, ts); /* baseTimestamp */
    sm_writer_i64(&w, ts); /* maxTimestamp */
    sm_writer_i64(&w, -1); /* producerId */
    sm_writer_i16(&w, -1); /* producerEpoch */
    sm_writer_i32(&w, -1); /* baseSequence */
    sm_writer_i32(&w, 0);  /* recordsCount: patched */
    for (;;) {
        sm_writer_reset(&rec);
        sm_writer_i8(&rec, 0);      /* attributes */
        sm_writer_varlong(&rec, 0); /* timestampDelta */
        sm_writer_varint(&rec, n);  /* offsetDelta */
        sm_writer_varint(&rec, -1); /* key: null */
        sm_writer_varint(&rec, (int32_t)o->record_bytes);
        sm_writer_raw(&rec, value, o->record_bytes);
        sm_writer_varint(&rec, 0); /* headers */
        if (n > 0 && sm_writer_len(&w) + sm_writer_len(&rec) + 5 > o->batch_bytes)
            break;
        sm_writer_varint(&w, (int32_t)sm_writer_len(&rec));
        sm_writer_raw(&w, sm_writer_data(&rec), sm_writer_len(&rec));
        n++;
    }
    sm_writer_patch_i32(&w, BR_BATCH_OFF_LENGTH,
                        (int32_t)(sm_writer_len(&w) - BR_BATCH_LOG_OVERHEAD));
    sm_writer_patch_i32(&w, BR_BATCH_OFF_LAST_DELTA, n - 1);
    sm_writer_patch_i32(&w, BR_BATCH_OFF_RECORDS_COUNT, n);
    sm_writer_patch_u32(&w, crc_pos, br_batch_compute_crc(sm_writer_data(&w), sm_writer_len(&w)));
    if (sm_writer_err(&w) != SM_OK || sm_writer_detach(&w, &out, len) != SM_OK)
        bench_die("batch", "cannot build the template batch");
    sm_writer_deinit(&w);
    sm_writer_deinit(&rec);
    free(value);
    *nrecords = n;
    return out;
}

/* ---- page-cache residency ----------------------------------------------------------------- */

/* Adds the resident and total pages of the file at path. */
static void bench_residency(const char *path, uint64_t *resident, uint64_t *total)
{
    long page = sysconf(_SC_PAGESIZE);
    struct stat st;
    unsigned char *vec;
    size_t pages;
    void *map;
    int fd = open(path, O_RDONLY);

    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    pages = (size_t)((st.st_size + page - 1) / page);
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    vec = malloc(pages);
    if (map != MAP_FAILED && vec != NULL && mincore(map, (size_t)st.st_size, vec) == 0) {
        for (size_t i = 0; i < pages; i++)
            *resident += vec[i] & 1;
        *total += pages;
    }
    free(vec);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    close(fd);
}

static double bench_log_residency(br_log_t *log)
{
    uint64_t resident = 0;
    uint64_t total = 0;
    char path[PATH_MAX];

    for (size_t i = 0; i < br_log_segment_count(log); i++) {
        snprintf(path, sizeof(path), "%s/%020" PRId64 ".log", br_log_dir(log),
                 br_log_segment_base(log, i));
        bench_residency(path, &resident, &total);
    }
    return total == 0 ? 0.0 : (double)resident / (double)total;
}

/* ---- Samsa -------------------------------------------------------------------------------- */

/* The append path: copy in, br_batch_validate_set, br_log_append; then a flush. */
static void bench_samsa_append(const bench_t *b, br_log_t *log, bench_round_t *r)
{
    br_batch_limits_t lim = {.skip_record_walk = b->o.no_record_walk};
    br_batch_verdict_t v;
    br_batch_set_t set;
    double t0;

    br_batch_set_init(&set);
    r->samsa_validate_s = 0;
    t0 = bench_now();
    for (uint64_t i = 0; i < b->nbatches; i++) {
        double a;

        memcpy(b->rx, b->tmpl, b->len);
        a = bench_now();
        if (br_batch_validate_set(b->rx, b->len, &lim, &set, &v) != SM_OK)
            bench_die("validate", v.reason);
        r->samsa_validate_s += bench_now() - a;
        if (br_log_append(log, b->rx, &set, 0, 0, NULL) != SM_OK)
            bench_die("append", "br_log_append failed");
    }
    r->samsa_append_s = bench_now() - t0;
    br_batch_set_deinit(&set);
    t0 = bench_now();
    if (br_log_flush(log, bench_wall_ms()) != SM_OK)
        bench_die("flush", "br_log_flush failed");
    r->samsa_fsync_s = bench_now() - t0;
}

/* Hands one slice to the reader: pread into the buffer, or sendfile to /dev/null. */
static void bench_consume_slice(const bench_t *b, const br_log_slice_t *s)
{
    off_t pos = (off_t)s->pos;
    size_t left = s->len;

    if (!b->o.use_sendfile) {
        if (s->len > b->rcap)
            bench_die("read", "slice larger than the read buffer");
        if (pread(s->fd, b->rbuf, s->len, pos) != (ssize_t)s->len)
            bench_die("pread", strerror(errno));
        return;
    }
    while (left > 0) {
        ssize_t n = sendfile(b->devnull, s->fd, &pos, left);

        if (n <= 0)
            bench_die("sendfile", strerror(errno));
        left -= (size_t)n;
    }
}

/* The read path: br_log_read slices from offset 0 to the log end. */
static void bench_samsa_read(const bench_t *b, br_log_t *log, bench_round_t *r)
{
    uint64_t got = 0;
    int64_t offset = 0;
    double t0 = bench_now();

    for (;;) {
        br_log_slice_t s;

        if (br_log_read(log, offset, BENCH_READ_CHUNK, BR_LOG_NO_BOUND, &s) != SM_OK)
            bench_die("read", "br_log_read failed");
        if (s.len == 0)
            break;
        bench_consume_slice(b, &s);
        got += s.len;
        offset = s.next_offset;
    }
    r->samsa_read_s = bench_now() - t0;
    if (got != (uint64_t)b->len * b->nbatches || offset != br_log_end_offset(log))
        bench_die("read", "did not read back every byte appended");
}

static void bench_samsa(const bench_t *b, bench_round_t *r)
{
    char dir[PATH_MAX];
    const char *dirs[1];
    br_logmgr_config_t cfg;
    br_logmgr_t *m = NULL;
    br_log_t *log = NULL;
    sm_errbuf_t eb;

    snprintf(dir, sizeof(dir), "%s/samsa", b->o.dir);
    dirs[0] = dir;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dirs = dirs;
    cfg.ndirs = 1;
    cfg.broker_id = 0;
    br_log_config_defaults(&cfg.log);
    if (br_logmgr_open(&cfg, bench_wall_ms(), &m, &eb) != SM_OK)
        bench_die("log manager", eb.msg);
    if (br_logmgr_create(m, "bench", 0, bench_wall_ms(), &log, &eb) != SM_OK)
        bench_die("create log", eb.msg);
    bench_samsa_append(b, log, r);
    r->samsa_resident = bench_log_residency(log);
    bench_samsa_read(b, log, r);
    /* Unclean close: nothing left to measure, and the files are removed right after. */
    br_logmgr_close(m, false, bench_wall_ms(), NULL);
    if (br_flusher_remove_tree(br_fileops_posix(), dir, &eb) != SM_OK)
        bench_die("cleanup", eb.msg);
}

/* ---- baseline ----------------------------------------------------------------------------- */

static void bench_plain(const bench_t *b, bench_round_t *r)
{
    char path[PATH_MAX];
    uint64_t resident = 0;
    uint64_t total = 0;
    uint64_t got = 0;
    double t0;
    int fd;

    snprintf(path, sizeof(path), "%s/plain.dat", b->o.dir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        bench_die(path, strerror(errno));
    t0 = bench_now();
    for (uint64_t i = 0; i < b->nbatches; i++) {
        memcpy(b->rx, b->tmpl, b->len);
        if (write(fd, b->rx, b->len) != (ssize_t)b->len)
            bench_die("write", strerror(errno));
    }
    r->plain_write_s = bench_now() - t0;
    t0 = bench_now();
    if (fsync(fd) < 0)
        bench_die("fsync", strerror(errno));
    r->plain_fsync_s = bench_now() - t0;
    bench_residency(path, &resident, &total);
    r->plain_resident = total == 0 ? 0.0 : (double)resident / (double)total;

    t0 = bench_now();
    for (off_t pos = 0;;) {
        ssize_t n;

        if (b->o.use_sendfile) {
            n = sendfile(b->devnull, fd, &pos, BENCH_READ_CHUNK); /* moves pos itself */
        } else {
            n = pread(fd, b->rbuf, BENCH_READ_CHUNK, pos);
            pos += n > 0 ? n : 0;
        }
        if (n < 0)
            bench_die("read", strerror(errno));
        if (n == 0)
            break;
        got += (uint64_t)n;
    }
    r->plain_read_s = bench_now() - t0;
    close(fd);
    unlink(path);
    if (got != (uint64_t)b->len * b->nbatches)
        bench_die("read", "plain file came back short");
}

/* CRC-32C alone over the same bytes, for the share of append time it explains. */
static double bench_crc_only(const uint8_t *tmpl, size_t len, uint64_t nbatches)
{
    volatile uint32_t sink = 0;
    double t0 = bench_now();

    for (uint64_t i = 0; i < nbatches; i++)
        sink ^= sm_crc32c(0, tmpl + BR_BATCH_CRC_START, len - BR_BATCH_CRC_START);
    (void)sink;
    return bench_now() - t0;
}

/* ---- main --------------------------------------------------------------------------------- */

static uint64_t bench_parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (end == s)
        bench_die("bad size", s);
    if (*end == 'K' || *end == 'k')
        v <<= 10;
    else if (*end == 'M' || *end == 'm')
        v <<= 20;
    else if (*end == 'G' || *end == 'g')
        v <<= 30;
    return (uint64_t)v;
}

static void bench_usage(void)
{
    fprintf(stderr, "usage: bench_storage --dir DIR [--bytes N[K|M|G]] [--batch-bytes N] "
                    "[--record-bytes N] [--rounds N] [--sendfile] [--no-record-walk]\n");
    exit(2);
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y ? 1 : 0;
}

/* Median of `n` values taken with `get` from the rounds. */
static double bench_median(const bench_round_t *rs, int n, double (*get)(const bench_round_t *))
{
    double v[64];

    for (int i = 0; i < n; i++)
        v[i] = get(&rs[i]);
    qsort(v, (size_t)n, sizeof(double), bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double g_samsa_append(const bench_round_t *r)
{
    return (double)r->bytes / r->samsa_append_s / 1e6;
}
static double g_plain_write(const bench_round_t *r)
{
    return (double)r->bytes / r->plain_write_s / 1e6;
}
static double g_samsa_read(const bench_round_t *r)
{
    return (double)r->bytes / r->samsa_read_s / 1e6;
}
static double g_plain_read(const bench_round_t *r)
{
    return (double)r->bytes / r->plain_read_s / 1e6;
}
static double g_append_ratio(const bench_round_t *r)
{
    return g_samsa_append(r) / g_plain_write(r);
}
static double g_read_ratio(const bench_round_t *r)
{
    return g_samsa_read(r) / g_plain_read(r);
}
static double g_validate_share(const bench_round_t *r)
{
    return r->samsa_validate_s / r->samsa_append_s;
}
static double g_crc_share(const bench_round_t *r)
{
    return r->crc_only_s / r->samsa_append_s;
}
/* br_log_append alone (append time minus validation) against the plain write. */
static double g_log_append_ratio(const bench_round_t *r)
{
    return r->plain_write_s / (r->samsa_append_s - r->samsa_validate_s);
}
static double g_samsa_fsync(const bench_round_t *r)
{
    return r->samsa_fsync_s;
}
static double g_plain_fsync(const bench_round_t *r)
{
    return r->plain_fsync_s;
}

static void bench_parse_args(int argc, char **argv, bench_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            o->dir = argv[++i];
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            o->bytes = bench_parse_size(argv[++i]);
        else if (strcmp(argv[i], "--batch-bytes") == 0 && i + 1 < argc)
            o->batch_bytes = (size_t)bench_parse_size(argv[++i]);
        else if (strcmp(argv[i], "--record-bytes") == 0 && i + 1 < argc)
            o->record_bytes = (size_t)bench_parse_size(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            o->rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--sendfile") == 0)
            o->use_sendfile = true;
        else if (strcmp(argv[i], "--no-record-walk") == 0)
            o->no_record_walk = true;
        else
            bench_usage();
    }
    if (o->dir == NULL || o->rounds < 1 || o->rounds > 64 || o->batch_bytes < 128 ||
        o->batch_bytes > (64u << 20) || o->record_bytes == 0 ||
        o->record_bytes + 80 > o->batch_bytes || o->bytes == 0)
        bench_usage();
}

static void bench_report(const bench_t *b, const bench_round_t *rs)
{
    int n = b->o.rounds;

    printf("median of %d round(s) (MB = 10^6 bytes):\n", n);
    printf("  append: samsa %8.1f MB/s   plain write %8.1f MB/s   ratio %.2f\n",
           bench_median(rs, n, g_samsa_append), bench_median(rs, n, g_plain_write),
           bench_median(rs, n, g_append_ratio));
    printf("  read:   samsa %8.1f MB/s   plain read  %8.1f MB/s   ratio %.2f  (%s)\n",
           bench_median(rs, n, g_samsa_read), bench_median(rs, n, g_plain_read),
           bench_median(rs, n, g_read_ratio),
           rs[0].samsa_resident > 0.99 && rs[0].plain_resident > 0.99
               ? "both from the page cache"
               : "partly from disk: see the resident figures");
    printf("  validation share of append time: %.1f%% (br_batch_validate_set%s; CRC32C alone "
           "%.1f%%)\n",
           bench_median(rs, n, g_validate_share) * 100,
           b->o.no_record_walk ? " without the record walk" : "",
           bench_median(rs, n, g_crc_share) * 100);
    printf("  br_log_append alone (append minus validation) vs plain write: ratio %.2f\n",
           bench_median(rs, n, g_log_append_ratio));
    printf("  fsync after the writes: samsa %.3f s, plain %.3f s (not in the MB/s above)\n",
           bench_median(rs, n, g_samsa_fsync), bench_median(rs, n, g_plain_fsync));
}

int main(int argc, char **argv)
{
    bench_t b = {.o = {NULL, 1ull << 30, 16384, 100, 5, false, false}};
    bench_round_t rs[64];

    bench_parse_args(argc, argv, &b.o);
    sm_log_init("bench", SM_LOG_WARN);
    b.tmpl = bench_build_batch(&b.o, &b.len, &b.nrecords);
    b.nbatches = (b.o.bytes + b.len - 1) / b.len;
    b.rcap = BENCH_READ_CHUNK + b.len;
    b.rx = malloc(b.len);
    b.rbuf = malloc(b.rcap);
    b.devnull = open("/dev/null", O_WRONLY);
    if (b.rx == NULL || b.rbuf == NULL || b.devnull < 0)
        bench_die("setup", "out of memory or no /dev/null");

    printf("storage: %" PRIu64 " batches of %zu bytes (%d records of %zu-byte values) = %.1f MiB "
           "in %s, %d round(s), reads via %s, CRC32C %s\n",
           b.nbatches, b.len, b.nrecords, b.o.record_bytes,
           (double)(b.nbatches * b.len) / 1048576.0, b.o.dir, b.o.rounds,
           b.o.use_sendfile ? "sendfile to /dev/null" : "pread into a 1 MiB buffer",
           sm_crc32c_have_hw() ? "hardware (SSE4.2)" : "software");
    /* Warm-up, not counted: the first gigabyte written in a run pays for page allocation. */
    bench_plain(&b, &rs[0]);
    for (int k = 0; k < b.o.rounds; k++) {
        bench_round_t *r = &rs[k];

        memset(r, 0, sizeof(*r));
        r->bytes = b.nbatches * b.len;
        /* Alternate the order so neither side always runs on a warmer or dirtier cache. */
        if (k % 2 == 0) {
            bench_samsa(&b, r);
            bench_plain(&b, r);
        } else {
            bench_plain(&b, r);
            bench_samsa(&b, r);
        }
        r->crc_only_s = bench_crc_only(b.tmpl, b.len, b.nbatches);
        printf("  round %d: append %.0f MB/s vs write %.0f MB/s (%.2fx); read %.0f MB/s vs %.0f "
               "MB/s (%.2fx); resident before read: samsa %.0f%%, plain %.0f%%\n",
               k + 1, g_samsa_append(r), g_plain_write(r), g_append_ratio(r), g_samsa_read(r),
               g_plain_read(r), g_read_ratio(r), r->samsa_resident * 100, r->plain_resident * 100);
    }
    bench_report(&b, rs);
    close(b.devnull);
    free(b.tmpl);
    free(b.rx);
    free(b.rbuf);
    return 0;
}
