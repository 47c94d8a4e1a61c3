/*
 * test_checkpoint: atomic checkpoint files (crash at every step through a fault-injecting
 * br_fileops) and the strict reader of Kafka's offset checkpoint format.
 */
#include "broker/br_checkpoint.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fault-injecting fileops ------------------------------------------------------------ */

/* Call number `fail_at` (1-based, counting every op) fails with `fail_errno`; with `crash`
 * every later call fails too, as if the process had died there (so no cleanup happens).
 * `short_at` makes that pwrite call write only half of its bytes. */
typedef struct fault {
    int calls;
    int fail_at;
    int fail_errno;
    int crash;
    int short_at;
    int crashed;
    const br_fileops_t *real;
} fault_t;

static int fault_hit(fault_t *f)
{
    f->calls++;
    if (f->crashed || (f->fail_at > 0 && f->calls == f->fail_at)) {
        if (f->crash)
            f->crashed = 1;
        errno = f->fail_errno;
        return 1;
    }
    return 0;
}

static int fault_open(void *ctx, const char *path, int flags, mode_t mode)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->open(NULL, path, flags, mode);
}

static int fault_close(void *ctx, int fd)
{
    fault_t *f = ctx;

    if (fault_hit(f)) {
        f->real->close(NULL, fd); /* never leak the descriptor in a test */
        return -1;
    }
    return f->real->close(NULL, fd);
}

static ssize_t fault_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    fault_t *f = ctx;

    if (fault_hit(f))
        return -1;
    if (f->short_at == f->calls && len > 1)
        len /= 2;
    return f->real->pwrite(NULL, fd, buf, len, off);
}

static ssize_t fault_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->pread(NULL, fd, buf, len, off);
}

static int fault_fsync(void *ctx, int fd)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->fsync(NULL, fd);
}

static int fault_ftruncate(void *ctx, int fd, off_t len)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->ftruncate(NULL, fd, len);
}

static int fault_rename(void *ctx, const char *from, const char *to)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->rename(NULL, from, to);
}

static int fault_unlink(void *ctx, const char *path)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->unlink(NULL, path);
}

static int fault_mkdir(void *ctx, const char *path, mode_t mode)
{
    fault_t *f = ctx;

    return fault_hit(f) ? -1 : f->real->mkdir(NULL, path, mode);
}

static br_fileops_t fault_ops(fault_t *f)
{
    br_fileops_t ops = {
        .ctx = f,
        .open = fault_open,
        .close = fault_close,
        .pwrite = fault_pwrite,
        .pread = fault_pread,
        .fsync = fault_fsync,
        .ftruncate = fault_ftruncate,
        .rename = fault_rename,
        .unlink = fault_unlink,
        .mkdir = fault_mkdir,
    };

    f->real = br_fileops_posix();
    return ops;
}

/* ---- fixture ---------------------------------------------------------------------------- */

static char dir[256];
static char path[300];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_checkpoint.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, BR_CHECKPOINT_RECOVERY);
}

static void teardown(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

static void put_file(const char *p, const char *content)
{
    FILE *fp = fopen(p, "w");

    cr_assert_not_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static int file_exists(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0;
}

/* Reads `content` as a checkpoint and returns the error; the message goes to eb. */
static sm_err_t read_text(const char *content, sm_errbuf_t *eb)
{
    br_checkpoint_t *cp = NULL;
    sm_err_t err;

    put_file(path, content);
    err = br_checkpoint_read(br_fileops_posix(), path, &cp, eb);
    if (err == SM_OK)
        cr_assert_not_null(cp);
    else
        cr_assert_null(cp);
    br_checkpoint_free(cp);
    return err;
}

static void expect_corrupt(const char *content, const char *where)
{
    sm_errbuf_t eb = {{0}};
    sm_err_t err = read_text(content, &eb);

    cr_assert_eq(err, SM_ERR_CORRUPT, "content %s gave %d (%s)", content, err, eb.msg);
    cr_assert_not_null(strstr(eb.msg, path), "message names the file: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, where), "message names %s: %s", where, eb.msg);
}

/* ---- round trips -------------------------------------------------------------------------- */

Test(checkpoint, round_trip_keeps_entries_in_insertion_order)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    br_checkpoint_t *back = NULL;
    sm_errbuf_t eb = {{0}};
    char tmp[320];
    const char *topic;
    int32_t part;
    int64_t off;

    cr_assert_eq(br_checkpoint_put(cp, "orders", 0, 1234), SM_OK);
    cr_assert_eq(br_checkpoint_put(cp, "my.topic-with-dashes", 7, 0), SM_OK);
    cr_assert_eq(br_checkpoint_put(cp, "orders", 1, 9223372036854775807LL), SM_OK);
    cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &back, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_count(back), 3);
    br_checkpoint_at(back, 1, &topic, &part, &off);
    cr_assert_str_eq(topic, "my.topic-with-dashes");
    cr_assert_eq(part, 7);
    cr_assert_eq(off, 0);
    cr_assert_eq(br_checkpoint_get(back, "orders", 1, &off), SM_OK);
    cr_assert_eq(off, 9223372036854775807LL);
    cr_assert_eq(br_checkpoint_get(back, "orders", 2, &off), SM_ERR_NOT_FOUND);
    snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX);
    cr_assert_not(file_exists(tmp));
    br_checkpoint_free(cp);
    br_checkpoint_free(back);
}

Test(checkpoint, writes_kafka_text_format)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    char buf[128] = {0};
    FILE *fp;

    br_checkpoint_put(cp, "a", 0, 5);
    br_checkpoint_put(cp, "b", 3, 42);
    cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, cp, NULL), SM_OK);
    fp = fopen(path, "r");
    cr_assert_not_null(fp);
    cr_assert_gt(fread(buf, 1, sizeof(buf) - 1, fp), 0);
    fclose(fp);
    cr_assert_str_eq(buf, "0\n2\na 0 5\nb 3 42\n");
    br_checkpoint_free(cp);
}

Test(checkpoint, empty_map_round_trips)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    br_checkpoint_t *back = NULL;

    cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, cp, NULL), SM_OK);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &back, NULL), SM_OK);
    cr_assert_eq(br_checkpoint_count(back), 0);
    br_checkpoint_free(cp);
    br_checkpoint_free(back);
}

Test(checkpoint, ten_thousand_partitions_round_trip)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    br_checkpoint_t *back = NULL;
    char topic[32];
    int64_t off;

    for (int i = 0; i < 10000; i++) {
        snprintf(topic, sizeof(topic), "t%d", i % 97);
        cr_assert_eq(br_checkpoint_put(cp, topic, i, (int64_t)i * 3), SM_OK);
    }
    cr_assert_eq(br_checkpoint_count(cp), 10000);
    cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, cp, NULL), SM_OK);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &back, NULL), SM_OK);
    cr_assert_eq(br_checkpoint_count(back), 10000);
    for (int i = 0; i < 10000; i += 7) {
        snprintf(topic, sizeof(topic), "t%d", i % 97);
        cr_assert_eq(br_checkpoint_get(back, topic, i, &off), SM_OK);
        cr_assert_eq(off, (int64_t)i * 3);
    }
    br_checkpoint_free(cp);
    br_checkpoint_free(back);
}

Test(checkpoint, put_replaces_offset_and_rejects_bad_entries)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    char longname[300];
    int64_t off;

    cr_assert_eq(br_checkpoint_put(cp, "t", 0, 1), SM_OK);
    cr_assert_eq(br_checkpoint_put(cp, "t", 0, 2), SM_OK);
    cr_assert_eq(br_checkpoint_count(cp), 1);
    cr_assert_eq(br_checkpoint_get(cp, "t", 0, &off), SM_OK);
    cr_assert_eq(off, 2);
    cr_assert_eq(br_checkpoint_put(cp, "", 0, 1), SM_ERR_INVALID);
    cr_assert_eq(br_checkpoint_put(cp, "has space", 0, 1), SM_ERR_INVALID);
    cr_assert_eq(br_checkpoint_put(cp, "t", -1, 1), SM_ERR_INVALID);
    cr_assert_eq(br_checkpoint_put(cp, "t", 1, -1), SM_ERR_INVALID);
    memset(longname, 'x', 250);
    longname[250] = '\0';
    cr_assert_eq(br_checkpoint_put(cp, longname, 0, 1), SM_ERR_INVALID);
    longname[249] = '\0';
    cr_assert_eq(br_checkpoint_put(cp, longname, 0, 1), SM_OK);
    br_checkpoint_free(cp);
}

Test(checkpoint, missing_file_is_not_found)
{
    br_checkpoint_t *cp = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &cp, &eb), SM_ERR_NOT_FOUND);
    cr_assert_null(cp);
}

Test(checkpoint, accepts_missing_final_newline)
{
    cr_assert_eq(read_text("0\n1\nt 0 5", NULL), SM_OK);
}

/* ---- malformed files ----------------------------------------------------------------------- */

Test(checkpoint, rejects_empty_file)
{
    expect_corrupt("", ":1:");
}

Test(checkpoint, rejects_bad_version)
{
    sm_errbuf_t eb = {{0}};

    expect_corrupt("zero\n0\n", ":1:");
    expect_corrupt("\n0\n", ":1:");
    expect_corrupt(" 0\n0\n", ":1:");
    cr_assert_eq(read_text("1\n0\n", &eb), SM_ERR_UNSUPPORTED);
    cr_assert_not_null(strstr(eb.msg, ":1: unsupported version 1"), "%s", eb.msg);
}

Test(checkpoint, rejects_bad_count_line)
{
    expect_corrupt("0\n", ":2:");
    expect_corrupt("0\n-1\n", ":2:");
    expect_corrupt("0\nmany\n", ":2:");
    expect_corrupt("0\n99999999999\n", ":2:");
}

Test(checkpoint, rejects_fewer_entries_than_count)
{
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(read_text("0\n3\na 0 1\nb 0 2\n", &eb), SM_ERR_CORRUPT);
    cr_assert_not_null(strstr(eb.msg, ":5: expected 3 entries, found 2"), "%s", eb.msg);
}

Test(checkpoint, rejects_more_entries_than_count)
{
    expect_corrupt("0\n1\na 0 1\nb 0 2\n", ":4:");
    expect_corrupt("0\n1\na 0 1\n\n", ":4:");
}

Test(checkpoint, rejects_junk_in_entries)
{
    expect_corrupt("0\n1\na 0 12x\n", ":3:");
    expect_corrupt("0\n1\na  0 1\n", ":3:");
    expect_corrupt("0\n1\na 0 1 \n", ":3:");
    expect_corrupt("0\n1\na\t0 1\n", ":3:");
    expect_corrupt("0\n1\na 0\n", ":3:");
    expect_corrupt("0\n1\na 0 1 2\n", ":3:");
    expect_corrupt("0\n1\nbad/topic 0 1\n", ":3:");
    expect_corrupt("0\n1\na 0 +1\n", ":3:");
    expect_corrupt("0\n2\na 0 1\na 0 2\n", ":4: duplicate");
    expect_corrupt("0\n1\na 0 99999999999999999999\n", ":3:");
}

Test(checkpoint, rejects_nul_byte)
{
    FILE *fp = fopen(path, "w");
    br_checkpoint_t *cp = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_not_null(fp);
    fwrite("0\n1\na 0\0 1\n", 1, 11, fp);
    fclose(fp);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &cp, &eb), SM_ERR_CORRUPT);
    cr_assert_not_null(strstr(eb.msg, ":3:"), "%s", eb.msg);
}

Test(checkpoint, rejects_negative_partition_and_offset)
{
    expect_corrupt("0\n1\na -1 5\n", ":3: bad partition");
    expect_corrupt("0\n1\na 0 -5\n", ":3: bad offset");
}

Test(checkpoint, rejects_long_line)
{
    char *text = malloc(2048);
    char *p = text;

    p += sprintf(p, "0\n1\n");
    memset(p, 'a', 1000);
    p += 1000;
    sprintf(p, " 0 1\n");
    expect_corrupt(text, ":3: line too long");
    free(text);
}

Test(checkpoint, parse_int_checks_range_and_syntax)
{
    int64_t v;

    cr_assert_eq(br_checkpoint_parse_int("9223372036854775807", 0, INT64_MAX, &v), SM_OK);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(br_checkpoint_parse_int("-9223372036854775808", INT64_MIN, 0, &v), SM_OK);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(br_checkpoint_parse_int("9223372036854775808", 0, INT64_MAX, &v), SM_ERR_RANGE);
    cr_assert_eq(br_checkpoint_parse_int("-", 0, 10, &v), SM_ERR_CORRUPT);
    cr_assert_eq(br_checkpoint_parse_int("", 0, 10, &v), SM_ERR_CORRUPT);
    cr_assert_eq(br_checkpoint_parse_int("11", 0, 10, &v), SM_ERR_RANGE);
    cr_assert_eq(br_checkpoint_parse_int("1 ", 0, 10, &v), SM_ERR_CORRUPT);
}

Test(checkpoint, read_error_is_io)
{
    fault_t f = {.fail_at = 2, .fail_errno = EIO};
    br_fileops_t ops = fault_ops(&f);
    br_checkpoint_t *cp = NULL;
    sm_errbuf_t eb = {{0}};

    put_file(path, "0\n0\n");
    cr_assert_eq(br_checkpoint_read(&ops, path, &cp, &eb), SM_ERR_IO);
    cr_assert_null(cp);
    cr_assert_not_null(strstr(eb.msg, path), "%s", eb.msg);
}

/* ---- crash safety -------------------------------------------------------------------------- */

static void expect_content(int64_t want)
{
    br_checkpoint_t *cp = NULL;
    sm_errbuf_t eb = {{0}};
    int64_t off = -1;

    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), path, &cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_count(cp), 1);
    cr_assert_eq(br_checkpoint_get(cp, "orders", 0, &off), SM_OK);
    cr_assert_eq(off, want);
    br_checkpoint_free(cp);
}

static void crash_at_every_step(int crash)
{
    br_checkpoint_t *old = br_checkpoint_new();
    br_checkpoint_t *neu = br_checkpoint_new();
    char tmp[320];
    int steps = 0;

    snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX);
    br_checkpoint_put(old, "orders", 0, 100);
    br_checkpoint_put(neu, "orders", 0, 200);
    /* Count the calls of a successful write: open, pwrite, fsync, close, rename, open dir,
     * fsync dir, close dir. */
    {
        fault_t f = {0};
        br_fileops_t ops = fault_ops(&f);

        cr_assert_eq(br_checkpoint_write(&ops, path, old, NULL), SM_OK);
        steps = f.calls;
        cr_assert_eq(steps, 8);
    }
    for (int at = 1; at <= steps; at++) {
        fault_t f = {.fail_at = at, .fail_errno = EIO, .crash = crash};
        br_fileops_t ops = fault_ops(&f);
        sm_errbuf_t eb = {{0}};

        cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, old, NULL), SM_OK);
        cr_assert_neq(br_checkpoint_write(&ops, path, neu, &eb), SM_OK, "step %d", at);
        cr_assert_neq(eb.msg[0], '\0');
        /* Up to and including the rename (step 5) the old file is what readers see; after
         * it the new one is, complete. Never anything in between. */
        expect_content(at <= 5 ? 100 : 200);
        if (!crash)
            cr_assert_not(file_exists(tmp), "step %d left %s", at, tmp);
        /* The next ordinary write succeeds over whatever the crash left. */
        cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, neu, NULL), SM_OK);
        expect_content(200);
        cr_assert_not(file_exists(tmp));
    }
    br_checkpoint_free(old);
    br_checkpoint_free(neu);
}

Test(checkpoint, failure_at_every_step_keeps_old_or_new_content_whole)
{
    crash_at_every_step(0);
}

Test(checkpoint, crash_at_every_step_keeps_old_or_new_content_whole)
{
    crash_at_every_step(1);
}

Test(checkpoint, an_unsynced_write_replaces_the_file_without_an_fsync)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    fault_t f = {0};
    br_fileops_t ops = fault_ops(&f);
    char tmp[320];

    snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX);
    put_file(path, "0\n1\norders 0 100\n");
    br_checkpoint_put(cp, "orders", 0, 400);
    cr_assert_eq(br_checkpoint_write_unsynced(&ops, path, cp, NULL), SM_OK);
    cr_assert_eq(f.calls, 4, "open, pwrite, close, rename: no fsync of the file or directory");
    expect_content(400);
    cr_assert_not(file_exists(tmp));
    br_checkpoint_free(cp);
}

Test(checkpoint, an_unsynced_file_write_replaces_the_file_without_an_fsync)
{
    static const char text[] = "0\n1\norders 0 500\n";
    fault_t f = {0};
    br_fileops_t ops = fault_ops(&f);
    char tmp[320];

    snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX);
    put_file(path, "0\n1\norders 0 100\n");
    cr_assert_eq(br_checkpoint_write_file_unsynced(&ops, path, text, sizeof(text) - 1, NULL),
                 SM_OK);
    cr_assert_eq(f.calls, 4, "open, pwrite, close, rename: no fsync of the file or directory");
    expect_content(500);
    cr_assert_not(file_exists(tmp));
}

Test(checkpoint, equal_maps_have_the_same_entries_in_any_order)
{
    br_checkpoint_t *a = br_checkpoint_new(), *b = br_checkpoint_new();

    br_checkpoint_put(a, "orders", 0, 1);
    br_checkpoint_put(a, "orders", 1, 2);
    br_checkpoint_put(b, "orders", 1, 2);
    cr_assert_not(br_checkpoint_equal(a, b), "one entry short");
    br_checkpoint_put(b, "orders", 0, 1);
    cr_assert(br_checkpoint_equal(a, b));
    cr_assert(br_checkpoint_equal(b, a));
    br_checkpoint_put(b, "orders", 0, 3);
    cr_assert_not(br_checkpoint_equal(a, b), "a value differs");
    br_checkpoint_free(a);
    br_checkpoint_free(b);
}

Test(checkpoint, stale_tmp_is_ignored_and_replaced)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    char tmp[320];

    snprintf(tmp, sizeof(tmp), "%s%s", path, BR_CHECKPOINT_TMP_SUFFIX);
    put_file(path, "0\n1\norders 0 100\n");
    put_file(tmp, "0\n1\norders 0 99999 and then the crash hit\ngarbage garbage garbage\n");
    expect_content(100);
    br_checkpoint_put(cp, "orders", 0, 300);
    cr_assert_eq(br_checkpoint_write(br_fileops_posix(), path, cp, NULL), SM_OK);
    expect_content(300);
    cr_assert_not(file_exists(tmp));
    br_checkpoint_free(cp);
}

Test(checkpoint, short_writes_are_completed)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    fault_t f = {.short_at = 2};
    br_fileops_t ops = fault_ops(&f);

    br_checkpoint_put(cp, "orders", 0, 12345678);
    cr_assert_eq(br_checkpoint_write(&ops, path, cp, NULL), SM_OK);
    expect_content(12345678);
    br_checkpoint_free(cp);
}

Test(checkpoint, enospc_is_reported_as_nospc)
{
    br_checkpoint_t *cp = br_checkpoint_new();
    fault_t f = {.fail_at = 2, .fail_errno = ENOSPC};
    br_fileops_t ops = fault_ops(&f);
    sm_errbuf_t eb = {{0}};

    br_checkpoint_put(cp, "orders", 0, 1);
    cr_assert_eq(br_checkpoint_write(&ops, path, cp, &eb), SM_ERR_NOSPC);
    cr_assert_not_null(strstr(eb.msg, ".tmp"), "%s", eb.msg);
    br_checkpoint_free(cp);
}

Test(checkpoint, random_mutations_never_crash_the_reader)
{
    static const char good[] = "0\n3\norders 0 1234\nmy.topic-x 12 0\nz 2147483647 99\n";
    char text[sizeof(good) + 8];
    unsigned seed = 12345;
    int ok = 0;

    for (int round = 0; round < 3000; round++) {
        br_checkpoint_t *cp = NULL;
        sm_errbuf_t eb = {{0}};
        size_t len = sizeof(good) - 1;
        FILE *fp;
        sm_err_t err;

        memcpy(text, good, len);
        for (int k = 0; k < 1 + round % 4 && len > 0; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;

            seed = seed * 1103515245u + 12345u;
            switch ((seed >> 8) % 3) {
            case 0: /* flip a byte */
                text[at] = (char)(seed >> 16);
                break;
            case 1: /* cut the file */
                len = at;
                break;
            default: /* turn a character into a digit, space or newline */
                text[at] = "0 \n-9"[(seed >> 16) % 5];
                break;
            }
        }
        fp = fopen(path, "w");
        cr_assert_not_null(fp);
        cr_assert_eq(fwrite(text, 1, len, fp), len);
        fclose(fp);
        err = br_checkpoint_read(br_fileops_posix(), path, &cp, &eb);
        if (err == SM_OK) {
            ok++;
            br_checkpoint_free(cp);
        } else {
            cr_assert(err == SM_ERR_CORRUPT || err == SM_ERR_UNSUPPORTED, "round %d: %d", round,
                      err);
            cr_assert_not_null(strstr(eb.msg, path), "round %d: %s", round, eb.msg);
        }
    }
    cr_assert_lt(ok, 3000);
}
