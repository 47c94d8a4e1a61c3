/*
 * test_epoch: the leader-epoch cache: assignment rules, OffsetForLeaderEpoch lookups,
 * truncation at both ends, and persistence through leader-epoch-checkpoint.
 */
#include "broker/br_epoch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_epoch.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(epoch, .init = setup, .fini = teardown);

static br_epoch_t *open_cache(void)
{
    br_epoch_t *c = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_epoch_open(br_fileops_posix(), dir, &c, &eb), SM_OK, "%s", eb.msg);
    cr_assert_not_null(c);
    return c;
}

static void expect_end(br_epoch_t *c, int32_t req, int64_t leo, int32_t want_epoch,
                       int64_t want_off)
{
    int32_t e;
    int64_t o;

    br_epoch_end_offset_for(c, req, leo, &e, &o);
    cr_assert_eq(e, want_epoch, "epoch for %d: %d, want %d", req, e, want_epoch);
    cr_assert_eq(o, want_off, "offset for %d: %lld, want %lld", req, (long long)o,
                 (long long)want_off);
}

static void expect_entries(br_epoch_t *c, size_t n, const int32_t *epochs, const int64_t *starts)
{
    cr_assert_eq(br_epoch_count(c), n, "count %zu, want %zu", br_epoch_count(c), n);
    for (size_t i = 0; i < n; i++) {
        int32_t e;
        int64_t s;

        br_epoch_at(c, i, &e, &s);
        cr_assert_eq(e, epochs[i], "entry %zu epoch %d", i, e);
        cr_assert_eq(s, starts[i], "entry %zu start %lld", i, (long long)s);
    }
}

static char *slurp(const char *name)
{
    char p[400];
    FILE *fp;
    char *buf = calloc(1, 4096);

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    fp = fopen(p, "r");
    cr_assert_not_null(fp);
    cr_assert_geq(fread(buf, 1, 4095, fp), 0);
    fclose(fp);
    return buf;
}

static void put_file(const char *content)
{
    char p[400];
    FILE *fp;

    snprintf(p, sizeof(p), "%s/%s", dir, BR_EPOCH_CHECKPOINT);
    fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fputs(content, fp);
    fclose(fp);
}

/* Epochs 2@10, 4@30, 7@55: a typical history with gaps. */
static br_epoch_t *three_epochs(void)
{
    br_epoch_t *c = open_cache();

    cr_assert_eq(br_epoch_assign(c, 2, 10, NULL), SM_OK);
    cr_assert_eq(br_epoch_assign(c, 4, 30, NULL), SM_OK);
    cr_assert_eq(br_epoch_assign(c, 7, 55, NULL), SM_OK);
    return c;
}

Test(epoch, empty_cache_answers_undefined)
{
    br_epoch_t *c = open_cache();

    cr_assert_eq(br_epoch_latest(c), BR_EPOCH_UNDEFINED);
    cr_assert_eq(br_epoch_latest_start(c), BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, 0, 100, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, 5, 100, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    cr_assert_eq(br_epoch_epoch_for(c, 0), BR_EPOCH_UNDEFINED);
    br_epoch_free(c);
}

Test(epoch, latest_epoch_ends_at_log_end_offset)
{
    br_epoch_t *c = three_epochs();

    cr_assert_eq(br_epoch_latest(c), 7);
    cr_assert_eq(br_epoch_latest_start(c), 55);
    expect_end(c, 7, 80, 7, 80);
    br_epoch_free(c);
}

Test(epoch, known_epoch_ends_where_next_starts)
{
    br_epoch_t *c = three_epochs();

    expect_end(c, 2, 80, 2, 30);
    expect_end(c, 4, 80, 4, 55);
    br_epoch_free(c);
}

Test(epoch, epoch_between_known_ones_answers_largest_lower_epoch)
{
    br_epoch_t *c = three_epochs();

    expect_end(c, 3, 80, 2, 30);
    expect_end(c, 5, 80, 4, 55);
    expect_end(c, 6, 80, 4, 55);
    br_epoch_free(c);
}

Test(epoch, epoch_below_first_or_above_latest_is_undefined)
{
    br_epoch_t *c = three_epochs();

    expect_end(c, 1, 80, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, 0, 80, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, 8, 80, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, BR_EPOCH_UNDEFINED, 80, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    br_epoch_free(c);
}

Test(epoch, epoch_for_offset_finds_the_writing_epoch)
{
    br_epoch_t *c = three_epochs();

    cr_assert_eq(br_epoch_epoch_for(c, 9), BR_EPOCH_UNDEFINED);
    cr_assert_eq(br_epoch_epoch_for(c, 10), 2);
    cr_assert_eq(br_epoch_epoch_for(c, 29), 2);
    cr_assert_eq(br_epoch_epoch_for(c, 30), 4);
    cr_assert_eq(br_epoch_epoch_for(c, 1000), 7);
    br_epoch_free(c);
}

Test(epoch, same_epoch_keeps_first_start_offset)
{
    br_epoch_t *c = three_epochs();
    static const int32_t e[] = {2, 4, 7};
    static const int64_t s[] = {10, 30, 55};

    cr_assert_eq(br_epoch_assign(c, 7, 60, NULL), SM_OK);
    cr_assert_eq(br_epoch_assign(c, 7, 55, NULL), SM_OK);
    expect_entries(c, 3, e, s);
    br_epoch_free(c);
}

Test(epoch, refuses_older_epoch_and_backward_offset)
{
    br_epoch_t *c = three_epochs();
    static const int32_t e[] = {2, 4, 7};
    static const int64_t s[] = {10, 30, 55};
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_epoch_assign(c, 5, 100, &eb), SM_ERR_FENCED);
    cr_assert_not_null(strstr(eb.msg, "older than the latest 7"), "%s", eb.msg);
    cr_assert_eq(br_epoch_assign(c, 8, 50, &eb), SM_ERR_RANGE);
    cr_assert_eq(br_epoch_assign(c, 7, 40, &eb), SM_ERR_RANGE);
    cr_assert_eq(br_epoch_assign(c, -1, 100, &eb), SM_ERR_INVALID);
    cr_assert_eq(br_epoch_assign(c, 9, -1, &eb), SM_ERR_INVALID);
    expect_entries(c, 3, e, s);
    br_epoch_free(c);
}

Test(epoch, newer_epoch_at_same_offset_replaces_empty_epoch)
{
    br_epoch_t *c = three_epochs();
    static const int32_t e[] = {2, 4, 9};
    static const int64_t s[] = {10, 30, 55};

    cr_assert_eq(br_epoch_assign(c, 9, 55, NULL), SM_OK);
    expect_entries(c, 3, e, s);
    br_epoch_free(c);
}

Test(epoch, truncate_from_end_drops_epochs_at_or_past_offset)
{
    br_epoch_t *c = three_epochs();
    static const int32_t e[] = {2, 4};
    static const int64_t s[] = {10, 30};

    cr_assert_eq(br_epoch_truncate_from_end(c, 56, NULL), SM_OK);
    cr_assert_eq(br_epoch_count(c), 3);
    cr_assert_eq(br_epoch_truncate_from_end(c, 55, NULL), SM_OK);
    expect_entries(c, 2, e, s);
    expect_end(c, 4, 55, 4, 55);
    cr_assert_eq(br_epoch_truncate_from_end(c, 0, NULL), SM_OK);
    cr_assert_eq(br_epoch_count(c), 0);
    cr_assert_eq(br_epoch_truncate_from_end(c, -1, NULL), SM_ERR_INVALID);
    br_epoch_free(c);
}

Test(epoch, truncate_from_start_clamps_first_epoch)
{
    br_epoch_t *c = three_epochs();
    static const int32_t e1[] = {2, 4, 7};
    static const int64_t s1[] = {10, 30, 55};
    static const int32_t e2[] = {4, 7};
    static const int64_t s2[] = {40, 55};
    static const int32_t e3[] = {7};
    static const int64_t s3[] = {90};

    cr_assert_eq(br_epoch_truncate_from_start(c, 5, NULL), SM_OK);
    expect_entries(c, 3, e1, s1);
    cr_assert_eq(br_epoch_truncate_from_start(c, 10, NULL), SM_OK);
    expect_entries(c, 3, e1, s1);
    cr_assert_eq(br_epoch_truncate_from_start(c, 40, NULL), SM_OK);
    expect_entries(c, 2, e2, s2);
    expect_end(c, 2, 100, BR_EPOCH_UNDEFINED, BR_EPOCH_UNDEFINED_OFFSET);
    expect_end(c, 4, 100, 4, 55);
    cr_assert_eq(br_epoch_truncate_from_start(c, 90, NULL), SM_OK);
    expect_entries(c, 1, e3, s3);
    br_epoch_free(c);
}

Test(epoch, every_change_is_persisted_and_reloads)
{
    br_epoch_t *c = three_epochs();
    br_epoch_t *back;
    static const int32_t e[] = {4, 7, 8};
    static const int64_t s[] = {35, 55, 70};
    char *text;

    text = slurp(BR_EPOCH_CHECKPOINT);
    cr_assert_str_eq(text, "0\n3\n2 10\n4 30\n7 55\n");
    free(text);
    cr_assert_eq(br_epoch_assign(c, 8, 70, NULL), SM_OK);
    cr_assert_eq(br_epoch_truncate_from_start(c, 35, NULL), SM_OK);
    back = open_cache();
    expect_entries(back, 3, e, s);
    br_epoch_free(back);
    cr_assert_eq(br_epoch_truncate_from_end(c, 60, NULL), SM_OK);
    back = open_cache();
    expect_entries(back, 2, e, s);
    br_epoch_free(back);
    cr_assert_eq(br_epoch_clear(c, NULL), SM_OK);
    back = open_cache();
    cr_assert_eq(br_epoch_count(back), 0);
    br_epoch_free(back);
    br_epoch_free(c);
}

Test(epoch, rejects_malformed_checkpoint)
{
    static const char *const bad[] = {
        "1\n0\n",                /* version */
        "0\n2\n1 0\n",           /* count mismatch */
        "0\n1\n1 0 5\n",         /* three fields */
        "0\n1\n-1 0\n",          /* negative epoch */
        "0\n1\n1 -5\n",          /* negative offset */
        "0\n2\n3 10\n2 20\n",    /* epochs going backwards */
        "0\n2\n2 10\n3 10\n",    /* offsets not increasing */
        "0\n1\n3 ten\n",         /* junk */
        "0\n1\n2147483648 10\n", /* epoch beyond int32 */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        br_epoch_t *c = NULL;
        sm_errbuf_t eb = {{0}};
        sm_err_t err;

        put_file(bad[i]);
        err = br_epoch_open(br_fileops_posix(), dir, &c, &eb);
        cr_assert(err == SM_ERR_CORRUPT || err == SM_ERR_UNSUPPORTED, "case %zu gave %d", i, err);
        cr_assert_null(c);
        cr_assert_not_null(strstr(eb.msg, BR_EPOCH_CHECKPOINT), "case %zu: %s", i, eb.msg);
    }
}

Test(epoch, failed_write_keeps_memory_and_reports_error)
{
    br_epoch_t *c = open_cache();
    char sub[400];
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_epoch_assign(c, 1, 0, NULL), SM_OK);
    /* Make the directory unwritable by replacing the .tmp path with a directory. */
    snprintf(sub, sizeof(sub), "%s/%s.tmp", dir, BR_EPOCH_CHECKPOINT);
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert_eq(br_epoch_assign(c, 2, 5, &eb), SM_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, ".tmp"), "%s", eb.msg);
    cr_assert_eq(br_epoch_latest(c), 2);
    cr_assert_eq(rmdir(sub), 0);
    cr_assert_eq(br_epoch_assign(c, 3, 9, NULL), SM_OK);
    br_epoch_free(c);
    c = open_cache();
    cr_assert_eq(br_epoch_count(c), 3);
    br_epoch_free(c);
}

/* The posix file operations, with each fsync counted in fsyncs. */
static int fsyncs;

static int counting_fsync(void *ctx, int fd)
{
    (void)ctx;
    fsyncs++;
    return br_fileops_posix()->fsync(NULL, fd);
}

Test(epoch, only_moves_of_the_log_start_skip_the_fsyncs)
{
    br_fileops_t ops = *br_fileops_posix();
    br_epoch_t *c = NULL;
    sm_errbuf_t eb = {{0}};

    ops.fsync = counting_fsync;
    cr_assert_eq(br_epoch_open(&ops, dir, &c, &eb), SM_OK, "%s", eb.msg);
    fsyncs = 0;
    cr_assert_eq(br_epoch_assign(c, 2, 10, NULL), SM_OK);
    cr_assert_eq(fsyncs, 2, "an assign fsyncs the file and its directory");
    cr_assert_eq(br_epoch_assign(c, 4, 30, NULL), SM_OK);
    cr_assert_eq(br_epoch_assign(c, 7, 55, NULL), SM_OK);
    fsyncs = 0;
    cr_assert_eq(br_epoch_truncate_from_start(c, 35, NULL), SM_OK);
    cr_assert_eq(fsyncs, 0, "a move of the log start writes without an fsync");
    cr_assert_eq(br_epoch_truncate_from_end(c, 60, NULL), SM_OK);
    cr_assert_eq(fsyncs, 0, "nothing at or past 60 to drop: no write at all");
    cr_assert_eq(br_epoch_truncate_from_end(c, 50, NULL), SM_OK);
    cr_assert_eq(fsyncs, 2, "a truncation at the end fsyncs");
    fsyncs = 0;
    cr_assert_eq(br_epoch_clear(c, NULL), SM_OK);
    cr_assert_eq(fsyncs, 2, "clearing fsyncs");
    br_epoch_free(c);
}

Test(epoch, a_lost_move_of_the_log_start_is_redone_on_open)
{
    br_epoch_t *c = three_epochs();
    br_epoch_t *back;
    static const int32_t e[] = {4, 7};
    static const int64_t s[] = {40, 55};
    char *before = slurp(BR_EPOCH_CHECKPOINT);
    char *after;

    cr_assert_eq(br_epoch_truncate_from_start(c, 40, NULL), SM_OK);
    after = slurp(BR_EPOCH_CHECKPOINT);
    cr_assert_str_eq(after, "0\n2\n4 40\n7 55\n", "the file is written, only not fsynced");
    /* A power cut loses the unsynced write: the file is as the last fsynced one left it. */
    put_file(before);
    back = open_cache();
    cr_assert_eq(br_epoch_truncate_from_start(back, 40, NULL), SM_OK); /* as br_logmgr opens */
    expect_entries(back, 2, e, s);
    expect_entries(c, 2, e, s);
    br_epoch_free(back);
    br_epoch_free(c);
    free(before);
    free(after);
}
