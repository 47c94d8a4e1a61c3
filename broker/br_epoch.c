/*
 * br_epoch: the leader-epoch cache and its checkpoint file. See br_epoch.h for the contract and
 * the design notes.
 */
#include "broker/br_epoch.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/br_checkpoint.h"

typedef struct br_epoch_entry {
    int32_t epoch;
    int64_t start;
} br_epoch_entry_t;

struct br_epoch {
    const br_fileops_t *ops;
    char path[PATH_MAX]; /* <dir>/leader-epoch-checkpoint */
    br_epoch_entry_t *entries;
    size_t count;
    size_t cap;
};

static sm_err_t br_epoch_reserve(br_epoch_t *c, size_t n)
{
    br_epoch_entry_t *e;
    size_t ncap;

    if (n <= c->cap)
        return SM_OK;
    ncap = c->cap == 0 ? 8 : c->cap;
    while (ncap < n)
        ncap *= 2;
    e = realloc(c->entries, ncap * sizeof(*e));
    if (e == NULL)
        return SM_ERR_NOMEM;
    c->entries = e;
    c->cap = ncap;
    return SM_OK;
}

/* Rewrites the checkpoint file from memory (invariant 3); fsynced unless durable is false
 * (invariant 4). */
static sm_err_t br_epoch_persist(br_epoch_t *c, bool durable, sm_errbuf_t *eb)
{
    size_t cap = 32 + c->count * 40; /* "int32 int64\n" is at most 11 + 1 + 20 + 1 bytes */
    char *buf = malloc(cap);
    size_t len = 0;
    sm_err_t err;

    if (buf == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", c->path);
    len += (size_t)snprintf(buf + len, cap - len, "0\n%zu\n", c->count);
    for (size_t i = 0; i < c->count; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%d %lld\n", (int)c->entries[i].epoch,
                                (long long)c->entries[i].start);
    err = durable ? br_checkpoint_write_file(c->ops, c->path, buf, len, eb)
                  : br_checkpoint_write_file_unsynced(c->ops, c->path, buf, len, eb);
    free(buf);
    return err;
}

static sm_err_t br_epoch_load_line(void *arg, const char *path, size_t lineno, char **fields,
                                   sm_errbuf_t *eb)
{
    br_epoch_t *c = arg;
    int64_t epoch;
    int64_t start;

    if (br_checkpoint_parse_int(fields[0], 0, INT32_MAX, &epoch) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad epoch '%.30s'", path, lineno,
                             fields[0]);
    if (br_checkpoint_parse_int(fields[1], 0, INT64_MAX, &start) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad start offset '%.30s'", path, lineno,
                             fields[1]);
    if (c->count > 0 &&
        (epoch <= c->entries[c->count - 1].epoch || start <= c->entries[c->count - 1].start))
        return sm_errbuf_set(
            eb, SM_ERR_CORRUPT, "%s:%zu: entry %lld %lld does not follow %d %lld in order", path,
            lineno, (long long)epoch, (long long)start, (int)c->entries[c->count - 1].epoch,
            (long long)c->entries[c->count - 1].start);
    if (br_epoch_reserve(c, c->count + 1) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", path);
    c->entries[c->count].epoch = (int32_t)epoch;
    c->entries[c->count].start = start;
    c->count++;
    return SM_OK;
}

sm_err_t br_epoch_open(const br_fileops_t *ops, const char *dir, br_epoch_t **out, sm_errbuf_t *eb)
{
    br_epoch_t *c = calloc(1, sizeof(*c));
    sm_err_t err = SM_OK;

    *out = NULL;
    if (c == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", dir);
        goto out;
    }
    c->ops = ops;
    if (snprintf(c->path, sizeof(c->path), "%s/%s", dir, BR_EPOCH_CHECKPOINT) >=
        (int)sizeof(c->path)) {
        err = sm_errbuf_set(eb, SM_ERR_INVALID, "partition dir path too long: %s", dir);
        goto out;
    }
    err = br_checkpoint_read_lines(ops, c->path, 2, br_epoch_load_line, c, eb);
    if (err == SM_ERR_NOT_FOUND) {
        err = SM_OK;
        if (eb != NULL)
            eb->msg[0] = '\0';
    }
    if (err != SM_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    br_epoch_free(c);
    return err;
}

void br_epoch_free(br_epoch_t *c)
{
    if (c == NULL)
        return;
    free(c->entries);
    free(c);
}

sm_err_t br_epoch_assign(br_epoch_t *c, int32_t epoch, int64_t start_offset, sm_errbuf_t *eb)
{
    br_epoch_entry_t *last;

    if (epoch < 0 || start_offset < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: cannot assign epoch %d at offset %lld",
                             c->path, (int)epoch, (long long)start_offset);
    if (c->count == 0)
        goto append;
    last = &c->entries[c->count - 1];
    if (epoch < last->epoch)
        return sm_errbuf_set(eb, SM_ERR_FENCED, "%s: epoch %d is older than the latest %d", c->path,
                             (int)epoch, (int)last->epoch);
    if (start_offset < last->start)
        return sm_errbuf_set(eb, SM_ERR_RANGE,
                             "%s: epoch %d at offset %lld is below the latest start %lld", c->path,
                             (int)epoch, (long long)start_offset, (long long)last->start);
    if (epoch == last->epoch)
        return SM_OK;
    if (start_offset == last->start) {
        /* The latest epoch wrote nothing: the newer one takes its place (Kafka does too). */
        last->epoch = epoch;
        return br_epoch_persist(c, true, eb);
    }
append:
    if (br_epoch_reserve(c, c->count + 1) != SM_OK)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "%s: out of memory", c->path);
    c->entries[c->count].epoch = epoch;
    c->entries[c->count].start = start_offset;
    c->count++;
    return br_epoch_persist(c, true, eb);
}

void br_epoch_end_offset_for(const br_epoch_t *c, int32_t requested, int64_t log_end_offset,
                             int32_t *epoch, int64_t *end_offset)
{
    size_t lo = 0;
    size_t hi;

    *epoch = BR_EPOCH_UNDEFINED;
    *end_offset = BR_EPOCH_UNDEFINED_OFFSET;
    if (requested < 0 || c->count == 0)
        return;
    if (requested == c->entries[c->count - 1].epoch) {
        *epoch = requested;
        *end_offset = log_end_offset;
        return;
    }
    if (requested > c->entries[c->count - 1].epoch || requested < c->entries[0].epoch)
        return;
    /* entries[0].epoch <= requested < entries[count-1].epoch: find the last entry with
     * epoch <= requested; it is never the latest, so entries[i + 1] exists. */
    hi = c->count - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->entries[mid].epoch <= requested)
            lo = mid;
        else
            hi = mid;
    }
    *epoch = c->entries[lo].epoch;
    *end_offset = c->entries[lo + 1].start;
}

sm_err_t br_epoch_truncate_from_end(br_epoch_t *c, int64_t offset, sm_errbuf_t *eb)
{
    size_t n = c->count;

    if (offset < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: cannot truncate to offset %lld", c->path,
                             (long long)offset);
    while (n > 0 && c->entries[n - 1].start >= offset)
        n--;
    if (n == c->count)
        return SM_OK;
    c->count = n;
    return br_epoch_persist(c, true, eb);
}

sm_err_t br_epoch_truncate_from_start(br_epoch_t *c, int64_t offset, sm_errbuf_t *eb)
{
    size_t drop = 0;

    if (offset < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: cannot move log start to %lld", c->path,
                             (long long)offset);
    while (drop < c->count && c->entries[drop].start <= offset)
        drop++;
    if (drop == 0)
        return SM_OK;
    if (drop == 1 && c->entries[0].start == offset)
        return SM_OK; /* the first epoch already starts exactly there */
    /* Keep the last dropped epoch, clamped: offsets from `offset` on still belong to it. */
    c->entries[drop - 1].start = offset;
    memmove(c->entries, c->entries + (drop - 1), (c->count - (drop - 1)) * sizeof(*c->entries));
    c->count -= drop - 1;
    return br_epoch_persist(c, false, eb); /* invariant 4 */
}

sm_err_t br_epoch_clear(br_epoch_t *c, sm_errbuf_t *eb)
{
    c->count = 0;
    return br_epoch_persist(c, true, eb);
}

int32_t br_epoch_latest(const br_epoch_t *c)
{
    return c->count == 0 ? BR_EPOCH_UNDEFINED : c->entries[c->count - 1].epoch;
}

int64_t br_epoch_latest_start(const br_epoch_t *c)
{
    return c->count == 0 ? BR_EPOCH_UNDEFINED_OFFSET : c->entries[c->count - 1].start;
}

int32_t br_epoch_epoch_for(const br_epoch_t *c, int64_t offset)
{
    int32_t epoch = BR_EPOCH_UNDEFINED;

    for (size_t i = 0; i < c->count && c->entries[i].start <= offset; i++)
        epoch = c->entries[i].epoch;
    return epoch;
}

size_t br_epoch_count(const br_epoch_t *c)
{
    return c->count;
}

void br_epoch_at(const br_epoch_t *c, size_t i, int32_t *epoch, int64_t *start_offset)
{
    *epoch = c->entries[i].epoch;
    *start_offset = c->entries[i].start;
}
