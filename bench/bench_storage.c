/*
 * bench_storage: throughput of Samsa's storage append and read paths against plain
 * write(2)/pread(2) of the same bytes on the same filesystem, measured in one run.
 *
 * One valid magic-2 record batch (16 KiB of 100-byte records by default, CRC-32C computed once)
 * is built with sm_writer. Each round creates a log through br_logmgr and a plain file in the
 * same directory and then takes both sides through the same steps, interleaved so that
 * whatever else the machine is doing hits both alike:
 *
 *   append  for every batch, in alternating order: Samsa copies the template into a receive
 *           buffer (as a Produce request's bytes would arrive), br_batch_validate_set (CRC,
 *           header and record checks) and br_log_append (offset stamping, segment write,
 *           index entries); plain copies the same template and write(2)s it. Each side's
 *           time is the sum of its own operations; the two clock readings around the
 *           validation (~30 ns each) count against Samsa.
 *   fsync   br_log_flush and fsync(2), reported apart (not in the MB/s).
 *   read    br_log_read slices of --read-bytes (1 MiB, Kafka's max.partition.fetch.bytes),
 *           each consumed with pread into a buffer (or sendfile to /dev/null with --sendfile);
 *           plain reads the same byte ranges of its file the same way, so both sides make the
 *           same number of calls of the same sizes and differ only by br_log_read's lookups.
 *
 * Both sides read files they have just written: without root the page cache cannot be
 * dropped, so both reads are served from memory; the program measures and prints how much of
 * each file is resident (mincore) so the figure says what it measured. Run by hand
 * (bench/storage.sh), never by `make test`.
 *
 *   usage: bench_storage --dir DIR [--bytes N[K|M|G]] [--batch-bytes N] [--record-bytes N]
 *                        [--read-bytes N[K|M]] [--rounds N] [--sendfile] [--no-record-walk]
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

typedef struct bench_opts {
    const char *dir;
    uint64_t bytes;
    size_t batch_bytes;
    size_t record_bytes;
    size_t read_bytes;
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

/* One round's two sides: the log (and its manager) and the plain file. */
typedef struct bench_sides {
    char dir[PATH_MAX];
    char path[PATH_MAX];
    br_logmgr_t *mgr;
    br_log_t *log;
    int fd;
    br_batch_set_t set;
} bench_sides_t;

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

/* ---- the two sides ------------------------------------------------------------------------ */

static void bench_sides_open(const bench_t *b, bench_sides_t *sd)
{
    const char *dirs[1];
    br_logmgr_config_t cfg;
    sm_errbuf_t eb;

    memset(sd, 0, sizeof(*sd));
    snprintf(sd->dir, sizeof(sd->dir), "%s/samsa", b->o.dir);
    snprintf(sd->path, sizeof(sd->path), "%s/plain.dat", b->o.dir);
    dirs[0] = sd->dir;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dirs = dirs;
    cfg.ndirs = 1;
    cfg.broker_id = 0;
    br_log_config_defaults(&cfg.log);
    if (br_logmgr_open(&cfg, bench_wall_ms(), &sd->mgr, &eb) != SM_OK)
        bench_die("log manager", eb.msg);
    if (br_logmgr_create(sd->mgr, "bench", 0, bench_wall_ms(), &sd->log, &eb) != SM_OK)
        bench_die("create log", eb.msg);
    sd->fd = open(sd->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (sd->fd < 0)
        bench_die(sd->path, strerror(errno));
    br_batch_set_init(&sd->set);
}

static void bench_sides_close(bench_sides_t *sd)
{
    sm_errbuf_t eb;

    /* Unclean close: nothing left to measure, and the files are removed right after. */
    br_logmgr_close(sd->mgr, false, bench_wall_ms(), NULL);
    if (br_flusher_remove_tree(br_fileops_posix(), sd->dir, &eb) != SM_OK)
        bench_die("cleanup", eb.msg);
    close(sd->fd);
    unlink(sd->path);
    br_batch_set_deinit(&sd->set);
}

/* Samsa's append path for one batch: copy in, br_batch_validate_set, br_log_append. */
static void bench_samsa_append_one(const bench_t *b, bench_sides_t *sd, bench_round_t *r)
{
    br_batch_limits_t lim = {.skip_record_walk = b->o.no_record_walk};
    br_batch_verdict_t v;
    double t0 = bench_now();
    double a;
    double z;

    memcpy(b->rx, b->tmpl, b->len);
    a = bench_now();
    if (br_batch_validate_set(b->rx, b->len, &lim, &sd->set, &v) != SM_OK)
        bench_die("validate", v.reason);
    z = bench_now();
    if (br_log_append(sd->log, b->rx, &sd->set, 0, 0, NULL) != SM_OK)
        bench_die("append", "br_log_append failed");
    r->samsa_validate_s += z - a;
    r->samsa_append_s += bench_now() - t0;
}

static void bench_plain_write_one(const bench_t *b, bench_sides_t *sd, bench_round_t *r)
{
    double t0 = bench_now();

    memcpy(b->rx, b->tmpl, b->len);
    if (write(sd->fd, b->rx, b->len) != (ssize_t)b->len)
        bench_die("write", strerror(errno));
    r->plain_write_s += bench_now() - t0;
}

static void bench_append(const bench_t *b, bench_sides_t *sd, bench_round_t *r)
{
    for (uint64_t i = 0; i < b->nbatches; i++) {
        if (i % 2 == 0) {
            bench_samsa_append_one(b, sd, r);
            bench_plain_write_one(b, sd, r);
        } else {
            bench_plain_write_one(b, sd, r);
            bench_samsa_append_one(b, sd, r);
        }
    }
}

static void bench_fsync(bench_sides_t *sd, bench_round_t *r, bool samsa_first)
{
    for (int k = 0; k < 2; k++) {
        double t0 = bench_now();

        if ((k == 0) == samsa_first) {
            if (br_log_flush(sd->log, bench_wall_ms()) != SM_OK)
                bench_die("flush", "br_log_flush failed");
            r->samsa_fsync_s = bench_now() - t0;
        } else {
            if (fsync(sd->fd) < 0)
                bench_die("fsync", strerror(errno));
            r->plain_fsync_s = bench_now() - t0;
        }
    }
}

/* Reads len bytes at pos of fd the benchmark's way: pread into the buffer, or sendfile to
 * /dev/null. */
static void bench_consume(const bench_t *b, int fd, uint64_t pos, size_t len)
{
    off_t off = (off_t)pos;
    size_t left = len;

    if (!b->o.use_sendfile) {
        if (len > b->rcap)
            bench_die("read", "slice larger than the read buffer");
        if (pread(fd, b->rbuf, len, off) != (ssize_t)len)
            bench_die("pread", strerror(errno));
        return;
    }
    while (left > 0) {
        ssize_t n = sendfile(b->devnull, fd, &off, left);

        if (n <= 0)
            bench_die("sendfile", strerror(errno));
        left -= (size_t)n;
    }
}

/* The lengths of the slices br_log_read returns from offset 0 to the log end (untimed: it
 * lets the plain side read the same ranges in the same order). Returns the count. */
static size_t bench_slices(const bench_t *b, bench_sides_t *sd, size_t **lens)
{
    size_t n = 0;
    size_t cap = 0;
    int64_t offset = 0;

    *lens = NULL;
    for (;;) {
        br_log_slice_t s;

        if (br_log_read(sd->log, offset, b->o.read_bytes, BR_LOG_NO_BOUND, &s) != SM_OK)
            bench_die("read", "br_log_read failed");
        if (s.len == 0)
            break;
        if (n == cap) {
            cap = cap == 0 ? 1024 : 2 * cap;
            *lens = realloc(*lens, cap * sizeof(**lens));
            if (*lens == NULL)
                bench_die("read", "out of memory");
        }
        (*lens)[n++] = s.len;
        offset = s.next_offset;
    }
    return n;
}

/* Both read paths, slice by slice in alternating order: br_log_read plus the read of the
 * slice, against the read of the same byte range of the plain file (which holds the same
 * batches back to back). */
static void bench_read(const bench_t *b, bench_sides_t *sd, bench_round_t *r)
{
    size_t *lens;
    size_t n = bench_slices(b, sd, &lens);
    uint64_t got = 0;
    int64_t offset = 0;

    for (size_t i = 0; i <= n; i++) {
        for (int k = 0; k < 2; k++) {
            double t0 = bench_now();
            br_log_slice_t s;

            if ((k == 0) == (i % 2 == 0)) {
                if (br_log_read(sd->log, offset, b->o.read_bytes, BR_LOG_NO_BOUND, &s) != SM_OK)
                    bench_die("read", "br_log_read failed");
                if (s.len > 0)
                    bench_consume(b, s.fd, s.pos, s.len);
                r->samsa_read_s += bench_now() - t0;
                if (s.len != (i < n ? lens[i] : 0))
                    bench_die("read", "slices changed between two passes");
                offset = s.next_offset;
            } else if (i < n) {
                bench_consume(b, sd->fd, got, lens[i]);
                r->plain_read_s += bench_now() - t0;
            }
        }
        if (i < n)
            got += lens[i];
    }
    free(lens);
    if (got != (uint64_t)b->len * b->nbatches || offset != br_log_end_offset(sd->log))
        bench_die("read", "did not read back every byte appended");
}

/* One round: append, fsync, residency, read. */
static void bench_round(const bench_t *b, bench_round_t *r, int k)
{
    bench_sides_t sd;
    uint64_t resident = 0;
    uint64_t total = 0;

    bench_sides_open(b, &sd);
    bench_append(b, &sd, r);
    bench_fsync(&sd, r, k % 2 == 0);
    r->samsa_resident = bench_log_residency(sd.log);
    bench_residency(sd.path, &resident, &total);
    r->plain_resident = total == 0 ? 0.0 : (double)resident / (double)total;
    bench_read(b, &sd, r);
    bench_sides_close(&sd);
}

/* Untimed: the first gigabyte written in a run pays for page allocation. */
static void bench_warm_up(const bench_t *b)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/warm-up.dat", b->o.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        bench_die(path, strerror(errno));
    for (uint64_t i = 0; i < b->nbatches; i++) {
        if (write(fd, b->tmpl, b->len) != (ssize_t)b->len)
            bench_die("write", strerror(errno));
    }
    close(fd);
    unlink(path);
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
                    "[--record-bytes N] [--read-bytes N[K|M]] [--rounds N] [--sendfile] "
                    "[--no-record-walk]\n");
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
        else if (strcmp(argv[i], "--read-bytes") == 0 && i + 1 < argc)
            o->read_bytes = (size_t)bench_parse_size(argv[++i]);
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
        o->record_bytes + 80 > o->batch_bytes || o->bytes == 0 || o->read_bytes < o->batch_bytes ||
        o->read_bytes > (256u << 20))
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
    bench_t b = {.o = {NULL, 1ull << 30, 16384, 100, 1u << 20, 5, false, false}};
    bench_round_t rs[64];

    bench_parse_args(argc, argv, &b.o);
    sm_log_init("bench", SM_LOG_WARN);
    b.tmpl = bench_build_batch(&b.o, &b.len, &b.nrecords);
    b.nbatches = (b.o.bytes + b.len - 1) / b.len;
    b.rcap = b.o.read_bytes + b.len;
    b.rx = malloc(b.len);
    b.rbuf = malloc(b.rcap);
    b.devnull = open("/dev/null", O_WRONLY);
    if (b.rx == NULL || b.rbuf == NULL || b.devnull < 0)
        bench_die("setup", "out of memory or no /dev/null");

    printf("storage: %" PRIu64 " batches of %zu bytes (%d records of %zu-byte values) = %.1f MiB "
           "in %s, %d round(s), reads of %zu KiB via %s, CRC32C %s\n",
           b.nbatches, b.len, b.nrecords, b.o.record_bytes,
           (double)(b.nbatches * b.len) / 1048576.0, b.o.dir, b.o.rounds, b.o.read_bytes >> 10,
           b.o.use_sendfile ? "sendfile to /dev/null" : "pread into a buffer",
           sm_crc32c_have_hw512() ? "AVX-512 VPCLMULQDQ"
           : sm_crc32c_have_hw()  ? "SSE4.2 crc32 streams"
                                  : "software tables");
    bench_warm_up(&b);
    for (int k = 0; k < b.o.rounds; k++) {
        bench_round_t *r = &rs[k];

        memset(r, 0, sizeof(*r));
        r->bytes = b.nbatches * b.len;
        bench_round(&b, r, k);
        r->crc_only_s = bench_crc_only(b.tmpl, b.len, b.nbatches);
        printf("  round %d: append %.0f MB/s vs write %.0f MB/s (%.2fx); read %.0f MB/s vs %.0f "
               "MB/s (%.2fx); validation %.1f%%; resident before read: samsa %.0f%%, plain "
               "%.0f%%\n",
               k + 1, g_samsa_append(r), g_plain_write(r), g_append_ratio(r), g_samsa_read(r),
               g_plain_read(r), g_read_ratio(r), g_validate_share(r) * 100, r->samsa_resident * 100,
               r->plain_resident * 100);
    }
    bench_report(&b, rs);
    close(b.devnull);
    free(b.tmpl);
    free(b.rx);
    free(b.rbuf);
    return 0;
}
