/*
 * br_checkpoint: atomic checkpoint files and the topic-partition-offset map. See br_checkpoint.h.
 */
#include "broker/br_checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BR_CHECKPOINT_READ_CHUNK 65536

/* ---- file layer --------------------------------------------------------------------------- */

static sm_err_t br_checkpoint_errno_err(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? SM_ERR_NOSPC : SM_ERR_IO;
}

/* The directory part of path ("." when there is none), into dir[cap]. */
static int br_checkpoint_dirname(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (slash == NULL)
        return snprintf(dir, cap, ".") < (int)cap ? 0 : -1;
    n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/file" lives in "/" */
    if (n >= cap)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

static sm_err_t br_checkpoint_fsync_dir(const br_fileops_t *ops, const char *dir, sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;
    int fd;
    int e;

    fd = ops->open(ops->ctx, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "open directory %s for fsync: %s", dir, strerror(e));
        goto out;
    }
    if (ops->fsync(ops->ctx, fd) < 0) {
        e = errno;
        err = sm_errbuf_set(eb, br_checkpoint_errno_err(e), "fsync directory %s: %s", dir,
                            strerror(e));
        goto out;
    }
out:
    if (fd >= 0 && ops->close(ops->ctx, fd) < 0 && err == SM_OK) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "close directory %s: %s", dir, strerror(e));
    }
    return err;
}

static sm_err_t br_checkpoint_write_all(const br_fileops_t *ops, int fd, const char *path,
                                        const void *data, size_t len, sm_errbuf_t *eb)
{
    const char *p = data;
    size_t off = 0;
    ssize_t n;
    int e;

    while (off < len) {
        n = ops->pwrite(ops->ctx, fd, p + off, len - off, (off_t)off);
        if (n < 0) {
            e = errno;
            return sm_errbuf_set(eb, br_checkpoint_errno_err(e), "write %s: %s", path, strerror(e));
        }
        if (n == 0)
            return sm_errbuf_set(eb, SM_ERR_IO, "write %s: no progress at byte %zu", path, off);
        off += (size_t)n;
    }
    return SM_OK;
}

/* br_checkpoint_write_file, with durable false: no fsync of the file or the directory. */
static sm_err_t br_checkpoint_replace_file(const br_fileops_t *ops, const char *path,
                                           const void *data, size_t len, bool durable,
                                           sm_errbuf_t *eb)
{
    char tmp[PATH_MAX];
    char dir[PATH_MAX];
    sm_err_t err = SM_OK;
    int tmp_exists = 0;
    int fd = -1;
    int e;

    if (snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX) >= (int)sizeof(tmp) ||
        br_checkpoint_dirname(path, dir, sizeof(dir)) < 0) {
        err = sm_errbuf_set(eb, SM_ERR_INVALID, "checkpoint path too long: %s", path);
        goto out;
    }
    /* O_TRUNC: a .tmp left by an earlier crash is simply overwritten. */
    fd = ops->open(ops->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        e = errno;
        err = sm_errbuf_set(eb, br_checkpoint_errno_err(e), "create %s: %s", tmp, strerror(e));
        goto out;
    }
    tmp_exists = 1;
    err = br_checkpoint_write_all(ops, fd, tmp, data, len, eb);
    if (err != SM_OK)
        goto out;
    if (durable && ops->fsync(ops->ctx, fd) < 0) {
        e = errno;
        err = sm_errbuf_set(eb, br_checkpoint_errno_err(e), "fsync %s: %s", tmp, strerror(e));
        goto out;
    }
    if (ops->close(ops->ctx, fd) < 0) {
        e = errno;
        fd = -1;
        err = sm_errbuf_set(eb, SM_ERR_IO, "close %s: %s", tmp, strerror(e));
        goto out;
    }
    fd = -1;
    if (ops->rename(ops->ctx, tmp, path) < 0) {
        e = errno;
        err = sm_errbuf_set(eb, SM_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(e));
        goto out;
    }
    tmp_exists = 0;
    /* Without this the rename itself may not survive a power cut. */
    if (durable)
        err = br_checkpoint_fsync_dir(ops, dir, eb);
out:
    if (fd >= 0)
        ops->close(ops->ctx, fd);
    if (tmp_exists)
        ops->unlink(ops->ctx, tmp);
    return err;
}

sm_err_t br_checkpoint_write_file(const br_fileops_t *ops, const char *path, const void *data,
                                  size_t len, sm_errbuf_t *eb)
{
    return br_checkpoint_replace_file(ops, path, data, len, true, eb);
}

sm_err_t br_checkpoint_write_file_unsynced(const br_fileops_t *ops, const char *path,
                                           const void *data, size_t len, sm_errbuf_t *eb)
{
    return br_checkpoint_replace_file(ops, path, data, len, false, eb);
}

sm_err_t br_checkpoint_read_file(const br_fileops_t *ops, const char *path, char **out,
                                 size_t *out_len, sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;
    char *buf = NULL;
    size_t cap = 0;
    size_t len = 0;
    ssize_t n;
    int fd;
    int e;

    *out = NULL;
    *out_len = 0;
    fd = ops->open(ops->ctx, path, O_RDONLY, 0);
    if (fd < 0) {
        e = errno;
        err = sm_errbuf_set(eb, e == ENOENT ? SM_ERR_NOT_FOUND : SM_ERR_IO, "open %s: %s", path,
                            strerror(e));
        goto out;
    }
    for (;;) {
        if (cap - len < BR_CHECKPOINT_READ_CHUNK + 1) {
            size_t ncap = cap == 0 ? BR_CHECKPOINT_READ_CHUNK * 2 : cap * 2;
            char *nbuf;

            if (len > BR_CHECKPOINT_FILE_MAX) {
                err = sm_errbuf_set(eb, SM_ERR_TOO_LARGE, "%s: larger than %u bytes", path,
                                    BR_CHECKPOINT_FILE_MAX);
                goto out;
            }
            nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                err = sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = ops->pread(ops->ctx, fd, buf + len, BR_CHECKPOINT_READ_CHUNK, (off_t)len);
        if (n < 0) {
            e = errno;
            err = sm_errbuf_set(eb, SM_ERR_IO, "read %s: %s", path, strerror(e));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > BR_CHECKPOINT_FILE_MAX) {
        err = sm_errbuf_set(eb, SM_ERR_TOO_LARGE, "%s: larger than %u bytes", path,
                            BR_CHECKPOINT_FILE_MAX);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    if (fd >= 0)
        ops->close(ops->ctx, fd);
    free(buf);
    return err;
}

sm_err_t br_checkpoint_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    const char *p = s;
    int neg = 0;
    uint64_t v = 0;
    uint64_t limit = (uint64_t)INT64_MAX;

    if (*p == '-') {
        neg = 1;
        limit = (uint64_t)INT64_MAX + 1u;
        p++;
    }
    if (*p == '\0')
        return SM_ERR_CORRUPT;
    for (; *p != '\0'; p++) {
        unsigned d;

        if (*p < '0' || *p > '9')
            return SM_ERR_CORRUPT;
        d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10)
            return SM_ERR_RANGE;
        v = v * 10 + d;
    }
    if (neg) {
        int64_t r = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;

        if (r < min || r > max)
            return SM_ERR_RANGE;
        *out = r;
        return SM_OK;
    }
    if ((int64_t)v < min || (int64_t)v > max)
        return SM_ERR_RANGE;
    *out = (int64_t)v;
    return SM_OK;
}

/* A cursor over the lines of a NUL-terminated buffer. */
typedef struct br_checkpoint_lines {
    const char *buf;
    size_t len;
    size_t pos;
    size_t lineno;
} br_checkpoint_lines_t;

/* Copies the next line (without '\n') into scratch. Returns 1 with a line, 0 at the end, or
 * SM_ERR_CORRUPT (with a message) for a line that is too long or holds a control byte. */
static int br_checkpoint_next_line(br_checkpoint_lines_t *lc, const char *path, char *scratch,
                                   sm_errbuf_t *eb)
{
    const char *start;
    const char *nl;
    size_t n;

    if (lc->pos >= lc->len)
        return 0;
    lc->lineno++;
    start = lc->buf + lc->pos;
    nl = memchr(start, '\n', lc->len - lc->pos);
    n = nl != NULL ? (size_t)(nl - start) : lc->len - lc->pos;
    lc->pos += n + (nl != NULL ? 1 : 0);
    if (n > BR_CHECKPOINT_LINE_MAX)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: line too long (%zu bytes, limit %d)",
                             path, lc->lineno, n, BR_CHECKPOINT_LINE_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];

        if (c < 0x20 || c > 0x7e)
            return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: unexpected byte 0x%02x", path,
                                 lc->lineno, c);
    }
    memcpy(scratch, start, n);
    scratch[n] = '\0';
    return 1;
}

/* Splits line in place on single spaces into exactly nfields fields. */
static int br_checkpoint_split(char *line, size_t nfields, char **fields)
{
    size_t nf = 0;
    char *p = line;

    for (;;) {
        char *sp = strchr(p, ' ');

        if (nf == nfields || sp == p || *p == '\0')
            return -1;
        fields[nf++] = p;
        if (sp == NULL)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    return nf == nfields ? 0 : -1;
}

/* Reads the version and count lines; *count receives the number of entries announced. */
static sm_err_t br_checkpoint_read_header(br_checkpoint_lines_t *lc, const char *path,
                                          char *scratch, int64_t *count, sm_errbuf_t *eb)
{
    int64_t version = -1;
    int r;

    r = br_checkpoint_next_line(lc, path, scratch, eb);
    if (r <= 0)
        return r < 0 ? r : sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:1: empty file", path);
    if (br_checkpoint_parse_int(scratch, INT32_MIN, INT32_MAX, &version) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:1: bad version line '%.40s'", path, scratch);
    if (version != 0)
        return sm_errbuf_set(eb, SM_ERR_UNSUPPORTED, "%s:1: unsupported version %lld", path,
                             (long long)version);
    r = br_checkpoint_next_line(lc, path, scratch, eb);
    if (r <= 0)
        return r < 0 ? r : sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:2: missing count line", path);
    if (br_checkpoint_parse_int(scratch, 0, INT32_MAX, count) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:2: bad count line '%.40s'", path, scratch);
    return SM_OK;
}

sm_err_t br_checkpoint_read_lines(const br_fileops_t *ops, const char *path, size_t nfields,
                                  br_checkpoint_line_fn fn, void *arg, sm_errbuf_t *eb)
{
    char scratch[BR_CHECKPOINT_LINE_MAX + 1];
    char *fields[BR_CHECKPOINT_FIELDS_MAX];
    br_checkpoint_lines_t lc = {0};
    char *buf = NULL;
    size_t len = 0;
    int64_t count = -1;
    int64_t seen = 0;
    sm_err_t err;
    int r;

    if (nfields == 0 || nfields > BR_CHECKPOINT_FIELDS_MAX)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: bad field count %zu", path, nfields);
    err = br_checkpoint_read_file(ops, path, &buf, &len, eb);
    if (err != SM_OK)
        goto out;
    lc.buf = buf;
    lc.len = len;
    err = br_checkpoint_read_header(&lc, path, scratch, &count, eb);
    if (err != SM_OK)
        goto out;
    while (seen < count) {
        r = br_checkpoint_next_line(&lc, path, scratch, eb);
        if (r <= 0) {
            err = r < 0 ? r
                        : sm_errbuf_set(eb, SM_ERR_CORRUPT,
                                        "%s:%zu: expected %lld entries, found %lld", path,
                                        lc.lineno + 1, (long long)count, (long long)seen);
            goto out;
        }
        if (br_checkpoint_split(scratch, nfields, fields) < 0) {
            err = sm_errbuf_set(eb, SM_ERR_CORRUPT,
                                "%s:%zu: malformed entry (want %zu space-separated fields)", path,
                                lc.lineno, nfields);
            goto out;
        }
        err = fn(arg, path, lc.lineno, fields, eb);
        if (err != SM_OK)
            goto out;
        seen++;
    }
    if (lc.pos < lc.len)
        err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: more entries than the count %lld", path,
                            lc.lineno + 1, (long long)count);
out:
    free(buf);
    return err;
}

/* ---- offset map ----------------------------------------------------------------------------
 * Entries in insertion order plus an open-addressing index (slot = entry index + 1, 0 empty)
 * so that put/get stay O(1) with tens of thousands of partitions. */

typedef struct br_checkpoint_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
} br_checkpoint_entry_t;

struct br_checkpoint {
    br_checkpoint_entry_t *entries;
    size_t count;
    size_t cap;
    size_t *slots;
    size_t nslots; /* power of two, > 2 * count */
};

static int br_checkpoint_topic_ok(const char *topic)
{
    size_t n = strlen(topic);

    if (n == 0 || n > BR_CHECKPOINT_TOPIC_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static size_t br_checkpoint_hash(const char *topic, int32_t partition)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *p = topic; *p != '\0'; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    h ^= (uint32_t)partition;
    h *= 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

br_checkpoint_t *br_checkpoint_new(void)
{
    return calloc(1, sizeof(br_checkpoint_t));
}

void br_checkpoint_free(br_checkpoint_t *cp)
{
    if (cp == NULL)
        return;
    for (size_t i = 0; i < cp->count; i++)
        free(cp->entries[i].topic);
    free(cp->entries);
    free(cp->slots);
    free(cp);
}

/* Returns the slot holding (topic, partition) or the empty slot where it would go. */
static size_t br_checkpoint_find_slot(const br_checkpoint_t *cp, const char *topic,
                                      int32_t partition)
{
    size_t mask = cp->nslots - 1;
    size_t i = br_checkpoint_hash(topic, partition) & mask;

    while (cp->slots[i] != 0) {
        const br_checkpoint_entry_t *e = &cp->entries[cp->slots[i] - 1];

        if (e->partition == partition && strcmp(e->topic, topic) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static sm_err_t br_checkpoint_grow_index(br_checkpoint_t *cp)
{
    size_t nslots = cp->nslots == 0 ? 64 : cp->nslots * 2;
    size_t *old = cp->slots;

    cp->slots = calloc(nslots, sizeof(size_t));
    if (cp->slots == NULL) {
        cp->slots = old;
        return SM_ERR_NOMEM;
    }
    cp->nslots = nslots;
    free(old);
    for (size_t k = 0; k < cp->count; k++) {
        size_t s = br_checkpoint_find_slot(cp, cp->entries[k].topic, cp->entries[k].partition);

        cp->slots[s] = k + 1;
    }
    return SM_OK;
}

/* Adds or replaces; *added tells which. */
static sm_err_t br_checkpoint_upsert(br_checkpoint_t *cp, const char *topic, int32_t partition,
                                     int64_t offset, int *added)
{
    br_checkpoint_entry_t *e;
    size_t s;

    *added = 0;
    if (!br_checkpoint_topic_ok(topic) || partition < 0 || offset < 0)
        return SM_ERR_INVALID;
    if ((cp->count + 1) * 2 >= cp->nslots && br_checkpoint_grow_index(cp) != SM_OK)
        return SM_ERR_NOMEM;
    s = br_checkpoint_find_slot(cp, topic, partition);
    if (cp->slots[s] != 0) {
        cp->entries[cp->slots[s] - 1].offset = offset;
        return SM_OK;
    }
    if (cp->count == cp->cap) {
        size_t ncap = cp->cap == 0 ? 16 : cp->cap * 2;
        br_checkpoint_entry_t *n = realloc(cp->entries, ncap * sizeof(*n));

        if (n == NULL)
            return SM_ERR_NOMEM;
        cp->entries = n;
        cp->cap = ncap;
    }
    e = &cp->entries[cp->count];
    e->topic = strdup(topic);
    if (e->topic == NULL)
        return SM_ERR_NOMEM;
    e->partition = partition;
    e->offset = offset;
    cp->count++;
    cp->slots[s] = cp->count;
    *added = 1;
    return SM_OK;
}

sm_err_t br_checkpoint_put(br_checkpoint_t *cp, const char *topic, int32_t partition,
                           int64_t offset)
{
    int added;

    return br_checkpoint_upsert(cp, topic, partition, offset, &added);
}

sm_err_t br_checkpoint_get(const br_checkpoint_t *cp, const char *topic, int32_t partition,
                           int64_t *offset)
{
    size_t s;

    if (cp->nslots == 0)
        return SM_ERR_NOT_FOUND;
    s = br_checkpoint_find_slot(cp, topic, partition);
    if (cp->slots[s] == 0)
        return SM_ERR_NOT_FOUND;
    *offset = cp->entries[cp->slots[s] - 1].offset;
    return SM_OK;
}

size_t br_checkpoint_count(const br_checkpoint_t *cp)
{
    return cp->count;
}

void br_checkpoint_at(const br_checkpoint_t *cp, size_t i, const char **topic, int32_t *partition,
                      int64_t *offset)
{
    const br_checkpoint_entry_t *e = &cp->entries[i];

    *topic = e->topic;
    *partition = e->partition;
    *offset = e->offset;
}

static sm_err_t br_checkpoint_write_map(const br_fileops_t *ops, const char *path,
                                        const br_checkpoint_t *cp, bool durable, sm_errbuf_t *eb)
{
    /* version + count + lines of at most topic(249) + 2 numbers (11 + 20) + 3 separators */
    size_t cap = 32 + cp->count * (BR_CHECKPOINT_TOPIC_MAX + 40);
    char *buf = malloc(cap);
    size_t len = 0;
    sm_err_t err;

    if (buf == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", path);
    len += (size_t)snprintf(buf + len, cap - len, "0\n%zu\n", cp->count);
    for (size_t i = 0; i < cp->count; i++) {
        const br_checkpoint_entry_t *e = &cp->entries[i];

        len += (size_t)snprintf(buf + len, cap - len, "%s %d %lld\n", e->topic, (int)e->partition,
                                (long long)e->offset);
    }
    err = br_checkpoint_replace_file(ops, path, buf, len, durable, eb);
    free(buf);
    return err;
}

sm_err_t br_checkpoint_write(const br_fileops_t *ops, const char *path, const br_checkpoint_t *cp,
                             sm_errbuf_t *eb)
{
    return br_checkpoint_write_map(ops, path, cp, true, eb);
}

sm_err_t br_checkpoint_write_unsynced(const br_fileops_t *ops, const char *path,
                                      const br_checkpoint_t *cp, sm_errbuf_t *eb)
{
    return br_checkpoint_write_map(ops, path, cp, false, eb);
}

bool br_checkpoint_equal(const br_checkpoint_t *a, const br_checkpoint_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const br_checkpoint_entry_t *e = &a->entries[i];
        int64_t v;

        if (br_checkpoint_get(b, e->topic, e->partition, &v) != SM_OK || v != e->offset)
            return false;
    }
    return true;
}

static sm_err_t br_checkpoint_read_line(void *arg, const char *path, size_t lineno, char **fields,
                                        sm_errbuf_t *eb)
{
    br_checkpoint_t *cp = arg;
    int64_t partition;
    int64_t offset;
    sm_err_t err;
    int added;

    if (!br_checkpoint_topic_ok(fields[0]))
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad topic name '%.60s'", path, lineno,
                             fields[0]);
    if (br_checkpoint_parse_int(fields[1], 0, INT32_MAX, &partition) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad partition '%.30s'", path, lineno,
                             fields[1]);
    if (br_checkpoint_parse_int(fields[2], 0, INT64_MAX, &offset) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad offset '%.30s'", path, lineno,
                             fields[2]);
    err = br_checkpoint_upsert(cp, fields[0], (int32_t)partition, offset, &added);
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "%s:%zu: %s", path, lineno, sm_err_str(err));
    if (!added)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: duplicate entry %s-%lld", path, lineno,
                             fields[0], (long long)partition);
    return SM_OK;
}

sm_err_t br_checkpoint_read(const br_fileops_t *ops, const char *path, br_checkpoint_t **out,
                            sm_errbuf_t *eb)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    sm_err_t err;

    *out = NULL;
    if (cp == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", path);
    err = br_checkpoint_read_lines(ops, path, 3, br_checkpoint_read_line, cp, eb);
    if (err != SM_OK) {
        br_checkpoint_free(cp);
        return err;
    }
    *out = cp;
    return SM_OK;
}
