/*
 * log_digest: prints a digest of one partition replica's log, read straight from its segment
 * files, so integration tests (0030..0035) can compare the replicas of a partition without
 * asking any broker. It opens every file read-only and links nothing that could write.
 *
 *   log_digest DIR BOUND
 *       DIR is a partition directory (cluster DIR/broker-N/data/<topic>-<p>); BOUND an offset
 *       (the high watermark) or "all". The *.log segments are walked in base-offset order
 *       (their names are the 20-digit base offset), each one batch header after the other:
 *
 *         0  baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32
 *         16 magic int8       | 17 crc uint32       | 21 attributes int16
 *         23 lastOffsetDelta int32 | ... (61 bytes in all; big-endian; size = 12 + batchLength)
 *
 *       and prints one line "base_offset last_offset leader_epoch crc" for every batch whose
 *       last offset is below BOUND. A header that does not fit in the file, a batchLength below
 *       the v2 minimum (49) or a magic other than 2 ends the segment (a torn or preallocated
 *       tail). Two replicas that agree up to BOUND print the same lines.
 *
 * stderr gets one summary line: "log_digest: DIR: B batches printed, S segments, end E" where
 * E is one past the last offset seen in any batch (the log end offset as far as the files say).
 * Exit codes: 0 success, 1 an I/O error, 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LDG_HEADER           61
#define LDG_MIN_BATCH_LENGTH 49
#define LDG_MAX_SEGMENTS     100000

struct ldg_seg {
    int64_t base;
    char name[64];
};

struct ldg_state {
    int64_t bound;
    int64_t end;
    long printed;
};

static uint64_t ldg_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static int ldg_cmp(const void *a, const void *b)
{
    const struct ldg_seg *x = a, *y = b;

    return x->base < y->base ? -1 : x->base > y->base;
}

/* Reads exactly len bytes at off; returns 1 when they are there, 0 at end of file, -1 on error. */
static int ldg_pread(int fd, unsigned char *buf, size_t len, int64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + (int64_t)got));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 0;
        got += (size_t)n;
    }
    return 1;
}

/* Walks one segment file; returns 0, or -1 on an I/O error (reported). */
static int ldg_segment(const char *path, struct ldg_state *st)
{
    unsigned char h[LDG_HEADER];
    struct stat sb;
    int64_t pos = 0, size;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd < 0) {
        fprintf(stderr, "log_digest: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        fprintf(stderr, "log_digest: stat %s: %s\n", path, strerror(errno));
        goto out;
    }
    size = (int64_t)sb.st_size;
    while (pos + LDG_HEADER <= size) {
        int64_t base, last, blen;
        int32_t epoch;
        uint32_t crc;
        int r = ldg_pread(fd, h, sizeof(h), pos);

        if (r < 0) {
            fprintf(stderr, "log_digest: read %s at %" PRId64 ": %s\n", path, pos, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        base = (int64_t)ldg_be(h, 8);
        blen = (int64_t)(int32_t)ldg_be(h + 8, 4);
        epoch = (int32_t)ldg_be(h + 12, 4);
        crc = (uint32_t)ldg_be(h + 17, 4);
        last = base + (int64_t)(int32_t)ldg_be(h + 23, 4);
        if (blen < LDG_MIN_BATCH_LENGTH || h[16] != 2 || pos + 12 + blen > size)
            break;
        if (last + 1 > st->end)
            st->end = last + 1;
        if (st->bound < 0 || last < st->bound) {
            printf("%" PRId64 " %" PRId64 " %" PRId32 " %08" PRIx32 "\n", base, last, epoch, crc);
            st->printed++;
        }
        pos += 12 + blen;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Collects DIR's *.log files with a numeric base name; returns the count or -1. */
static long ldg_list(const char *dir, struct ldg_seg **out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct ldg_seg *segs = NULL;
    long n = 0, cap = 0;

    *out = NULL;
    if (d == NULL) {
        fprintf(stderr, "log_digest: opendir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < LDG_MAX_SEGMENTS) {
        size_t len = strlen(e->d_name);
        char *end = NULL;
        long long base;

        if (len < 5 || len >= sizeof(segs->name) || strcmp(e->d_name + len - 4, ".log") != 0)
            continue;
        errno = 0;
        base = strtoll(e->d_name, &end, 10);
        if (errno != 0 || end != e->d_name + len - 4 || base < 0)
            continue;
        if (n == cap) {
            struct ldg_seg *g;

            cap = cap ? cap * 2 : 16;
            g = realloc(segs, (size_t)cap * sizeof(*segs));
            if (g == NULL) {
                fprintf(stderr, "log_digest: out of memory\n");
                free(segs);
                closedir(d);
                return -1;
            }
            segs = g;
        }
        segs[n].base = (int64_t)base;
        memcpy(segs[n].name, e->d_name, len + 1);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(segs, (size_t)n, sizeof(*segs), ldg_cmp);
    *out = segs;
    return n;
}

int main(int argc, char **argv)
{
    struct ldg_state st = {.bound = -1};
    struct ldg_seg *segs = NULL;
    char path[4096];
    char *end = NULL;
    long n, i;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: log_digest PARTITION_DIR BOUND|all\n");
        return 2;
    }
    if (strcmp(argv[2], "all") != 0) {
        errno = 0;
        st.bound = (int64_t)strtoll(argv[2], &end, 10);
        if (errno != 0 || end == argv[2] || *end != '\0' || st.bound < 0) {
            fprintf(stderr, "log_digest: bad BOUND '%s' (an offset >= 0 or all)\n", argv[2]);
            return 2;
        }
    }
    n = ldg_list(argv[1], &segs);
    if (n < 0)
        goto out;
    for (i = 0; i < n; i++) {
        int k = snprintf(path, sizeof(path), "%s/%s", argv[1], segs[i].name);

        if (k < 0 || (size_t)k >= sizeof(path)) {
            fprintf(stderr, "log_digest: path too long in %s\n", argv[1]);
            goto out;
        }
        if (ldg_segment(path, &st) != 0)
            goto out;
    }
    fprintf(stderr, "log_digest: %s: %ld batches printed, %ld segments, end %" PRId64 "\n", argv[1],
            st.printed, n, st.end);
    rc = 0;
out:
    free(segs);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
