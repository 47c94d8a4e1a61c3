/*
 * test_index: the offset and time indexes -- lookups at every boundary (exact entry, between
 * entries, before the first, after the last, empty), ordering rules, truncation, persistence,
 * torn entries, the sanity check, and the bulk writes (every 256 entries, flush, trim, close;
 * a failed write keeps what was not written pending).
 */
#include "broker/br_index.h"

#include <criterion/criterion.h>

#include "storage_fixture.h"

static char dir[256];

static void setup(void)
{
    fx_mkdtemp(dir, sizeof(dir), "test_index");
}

static void teardown(void)
{
    fx_rmtree(dir);
}

TestSuite(index, .init = setup, .fini = teardown);

static br_index_t *open_index(br_index_kind_t kind, int64_t base, size_t max_bytes, bool load)
{
    char path[512];
    br_index_t *idx = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, kind == BR_INDEX_OFFSET ? "x.index" : "x.timeindex");
    cr_assert_eq(br_index_open(br_fileops_posix(), path, kind, base, max_bytes, load, &idx), SM_OK);
    return idx;
}

Test(index, an_empty_index_finds_nothing)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 100, 1024, false);
    br_index_entry_t e;

    cr_assert_not(br_index_lookup(idx, 100, &e));
    cr_assert_not(br_index_lookup(idx, INT64_MAX, &e));
    cr_assert_not(br_index_lookup_value(idx, 1000, &e));
    cr_assert_not(br_index_last(idx, &e));
    cr_assert_eq(br_index_sanity_check(idx, 0), SM_OK);
    br_index_close(idx);
}

Test(index, offset_lookup_finds_the_greatest_entry_at_or_below_the_target)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 1000, 1024, false);
    br_index_entry_t e;

    /* entries (1000 + 10k, 100k) for k = 1..20 */
    for (int k = 1; k <= 20; k++)
        cr_assert_eq(br_index_append(idx, 1000 + 10 * k, 100 * k), SM_OK);
    cr_assert_not(br_index_lookup(idx, 1009, &e)); /* before the first entry */
    for (int k = 1; k <= 20; k++) {
        cr_assert(br_index_lookup(idx, 1000 + 10 * k, &e)); /* exact */
        cr_assert_eq(e.key, 1000 + 10 * k);
        cr_assert_eq(e.value, 100 * k);
        cr_assert(br_index_lookup(idx, 1000 + 10 * k + 9, &e)); /* between */
        cr_assert_eq(e.key, 1000 + 10 * k);
    }
    cr_assert(br_index_lookup(idx, INT64_MAX, &e)); /* after the last */
    cr_assert_eq(e.key, 1200);
    cr_assert(br_index_lookup_value(idx, 250, &e));
    cr_assert_eq(e.value, 200);
    cr_assert(br_index_lookup_value(idx, 300, &e));
    cr_assert_eq(e.value, 300);
    cr_assert_not(br_index_lookup_value(idx, 99, &e));
    br_index_close(idx);
}

Test(index, offset_entries_must_increase_and_fit_int32)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 50, 1024, false);

    cr_assert_eq(br_index_append(idx, 60, 100), SM_OK);
    cr_assert_eq(br_index_append(idx, 60, 200), SM_ERR_INVALID);
    cr_assert_eq(br_index_append(idx, 70, 100), SM_ERR_INVALID);
    cr_assert_eq(br_index_append(idx, 50 + (int64_t)INT32_MAX + 1, 300), SM_ERR_RANGE);
    cr_assert_eq(br_index_append(idx, 80, (int64_t)INT32_MAX + 1), SM_ERR_RANGE);
    cr_assert_eq(br_index_count(idx), 1);
    br_index_close(idx);
}

Test(index, time_index_keeps_only_increasing_timestamps)
{
    br_index_t *idx = open_index(BR_INDEX_TIME, 0, 1024, false);
    br_index_entry_t e;

    cr_assert_eq(br_index_append(idx, 100, 5), SM_OK);
    cr_assert_eq(br_index_append(idx, 100, 9), SM_OK); /* skipped */
    cr_assert_eq(br_index_append(idx, 90, 12), SM_OK); /* skipped */
    cr_assert_eq(br_index_append(idx, 150, 20), SM_OK);
    cr_assert_eq(br_index_append(idx, 160, 10), SM_ERR_INVALID); /* offset went back */
    cr_assert_eq(br_index_count(idx), 2);
    cr_assert(br_index_lookup(idx, 149, &e));
    cr_assert_eq(e.key, 100);
    cr_assert_eq(e.value, 5);
    cr_assert_not(br_index_lookup(idx, 99, &e));
    br_index_close(idx);
}

Test(index, reports_full_at_its_size_limit_but_accepts_more)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 0, 24, false);

    for (int k = 1; k <= 3; k++) {
        cr_assert_not(br_index_is_full(idx));
        cr_assert_eq(br_index_append(idx, k, k), SM_OK);
    }
    cr_assert(br_index_is_full(idx));
    cr_assert_eq(br_index_append(idx, 4, 4), SM_OK);
    br_index_close(idx);
}

Test(index, refuses_a_size_limit_below_one_entry)
{
    br_index_t *idx = NULL;
    char path[512];

    snprintf(path, sizeof(path), "%s/y.timeindex", dir);
    cr_assert_eq(br_index_open(br_fileops_posix(), path, BR_INDEX_TIME, 0, 11, false, &idx),
                 SM_ERR_INVALID);
    cr_assert_null(idx);
}

Test(index, truncation_drops_entries_at_or_above_the_offset)
{
    br_index_t *oi = open_index(BR_INDEX_OFFSET, 0, 1024, false);
    br_index_t *ti = open_index(BR_INDEX_TIME, 0, 1024, false);
    br_index_entry_t e;
    char path[512];

    for (int k = 1; k <= 10; k++) {
        cr_assert_eq(br_index_append(oi, 10 * k, 100 * k), SM_OK);
        cr_assert_eq(br_index_append(ti, 1000 + k, 10 * k), SM_OK);
    }
    cr_assert_eq(br_index_truncate_to(oi, 55), SM_OK);
    cr_assert_eq(br_index_truncate_to(ti, 50), SM_OK);
    cr_assert_eq(br_index_count(oi), 5);
    cr_assert_eq(br_index_count(ti), 4);
    cr_assert(br_index_last(oi, &e));
    cr_assert_eq(e.key, 50);
    snprintf(path, sizeof(path), "%s/x.index", dir);
    cr_assert_eq(fx_file_size(path), 5 * 8);
    snprintf(path, sizeof(path), "%s/x.timeindex", dir);
    cr_assert_eq(fx_file_size(path), 4 * 12);
    cr_assert_eq(br_index_reset(oi), SM_OK);
    cr_assert_eq(br_index_count(oi), 0);
    br_index_close(oi);
    br_index_close(ti);
}

Test(index, entries_survive_a_reopen_and_a_torn_entry_is_ignored)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 7, 1024, false);
    char path[512];
    int fd;

    for (int k = 1; k <= 5; k++)
        cr_assert_eq(br_index_append(idx, 7 + k, 64 * k), SM_OK);
    br_index_close(idx);
    snprintf(path, sizeof(path), "%s/x.index", dir);
    fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_eq(write(fd, "abc", 3), 3); /* half an entry, as after a crash */
    close(fd);
    idx = open_index(BR_INDEX_OFFSET, 7, 1024, true);
    cr_assert_eq(br_index_count(idx), 5);
    for (size_t i = 0; i < 5; i++) {
        br_index_entry_t e = br_index_at(idx, i);

        cr_assert_eq(e.key, 8 + (int64_t)i);
        cr_assert_eq(e.value, 64 * (int64_t)(i + 1));
    }
    cr_assert_eq(br_index_sanity_check(idx, 10000), SM_OK);
    cr_assert_eq(br_index_append(idx, 13, 384), SM_OK); /* overwrites the torn bytes */
    cr_assert_eq(br_index_trim(idx), SM_OK);
    cr_assert_eq(fx_file_size(path), 6 * 8);
    br_index_close(idx);
    idx = open_index(BR_INDEX_OFFSET, 7, 1024, false); /* without load: emptied */
    cr_assert_eq(br_index_count(idx), 0);
    cr_assert_eq(fx_file_size(path), 0);
    br_index_close(idx);
}

Test(index, sanity_check_refuses_disorder_and_positions_past_the_log)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 0, 1024, false);
    char path[512];
    uint8_t entries[16];
    int fd;

    cr_assert_eq(br_index_append(idx, 10, 500), SM_OK);
    cr_assert_eq(br_index_sanity_check(idx, 501), SM_OK);
    cr_assert_eq(br_index_sanity_check(idx, 500), SM_ERR_CORRUPT);
    br_index_close(idx);

    snprintf(path, sizeof(path), "%s/x.index", dir);
    fx_put_be(entries, 10, 4);
    fx_put_be(entries + 4, 500, 4);
    fx_put_be(entries + 8, 5, 4); /* offset goes back */
    fx_put_be(entries + 12, 600, 4);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, entries, 16), 16);
    close(fd);
    idx = open_index(BR_INDEX_OFFSET, 0, 1024, true);
    cr_assert_eq(br_index_count(idx), 2);
    cr_assert_eq(br_index_sanity_check(idx, 10000), SM_ERR_CORRUPT);
    br_index_close(idx);
}

/* ---- bulk writes -------------------------------------------------------------------------- */

static br_index_t *open_faulty(fx_faults_t *f, br_index_kind_t kind, int64_t base, bool load)
{
    char path[512];
    br_index_t *idx = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, kind == BR_INDEX_OFFSET ? "x.index" : "x.timeindex");
    cr_assert_eq(br_index_open(&f->ops, path, kind, base, 1 << 20, load, &idx), SM_OK);
    return idx;
}

static int64_t index_file_size(br_index_kind_t kind)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, kind == BR_INDEX_OFFSET ? "x.index" : "x.timeindex");
    return fx_file_size(path);
}

Test(index, appends_are_written_in_bulk_every_256_entries)
{
    fx_faults_t f;
    br_index_t *idx;
    int before;

    fx_faults_init(&f, 0, EIO);
    idx = open_faulty(&f, BR_INDEX_TIME, 1000, false);
    before = f.steps;
    for (int k = 0; k < 255; k++)
        cr_assert_eq(br_index_append(idx, 10 * k, 1000 + k), SM_OK);
    cr_assert_eq(f.steps, before, "no write for the first 255 entries");
    cr_assert_eq(index_file_size(BR_INDEX_TIME), 0);
    cr_assert_eq(br_index_append(idx, 2550, 1255), SM_OK);
    cr_assert_eq(f.steps, before + 1, "one pwrite for 256 entries");
    cr_assert_eq(index_file_size(BR_INDEX_TIME), 256 * 12);
    for (int k = 256; k < 300; k++)
        cr_assert_eq(br_index_append(idx, 10 * k, 1000 + k), SM_OK);
    cr_assert_eq(f.steps, before + 1);
    cr_assert_eq(br_index_count(idx), 300);
    cr_assert_eq(br_index_flush(idx), SM_OK);
    cr_assert_eq(f.steps, before + 2);
    cr_assert_eq(index_file_size(BR_INDEX_TIME), 300 * 12);
    cr_assert_eq(br_index_flush(idx), SM_OK);
    cr_assert_eq(f.steps, before + 2, "nothing pending, nothing written");
    br_index_close(idx);
    cr_assert_eq(f.steps, before + 2);

    idx = open_faulty(&f, BR_INDEX_TIME, 1000, true);
    cr_assert_eq(br_index_count(idx), 300);
    for (size_t i = 0; i < 300; i++) {
        br_index_entry_t e = br_index_at(idx, i);

        cr_assert_eq(e.key, 10 * (int64_t)i);
        cr_assert_eq(e.value, 1000 + (int64_t)i);
    }
    br_index_close(idx);
}

Test(index, close_writes_the_pending_entries)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 0, 1 << 20, false);

    for (int k = 1; k <= 300; k++)
        cr_assert_eq(br_index_append(idx, k, 16 * k), SM_OK);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 256 * 8);
    br_index_close(idx);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 300 * 8);
    idx = open_index(BR_INDEX_OFFSET, 0, 1 << 20, true);
    cr_assert_eq(br_index_count(idx), 300);
    cr_assert_eq(br_index_sanity_check(idx, 16 * 301), SM_OK);
    br_index_close(idx);
}

Test(index, a_failed_bulk_write_drops_the_new_entry_and_keeps_the_rest_pending)
{
    fx_faults_t f;
    br_index_t *idx;
    br_index_entry_t e;

    fx_faults_init(&f, 0, ENOSPC);
    f.short_write = true; /* half of the 256 entries reach the file, then the write fails */
    idx = open_faulty(&f, BR_INDEX_OFFSET, 0, false);
    for (int k = 1; k < 256; k++)
        cr_assert_eq(br_index_append(idx, k, 10 * k), SM_OK);
    f.fail_at = f.steps + 1;
    cr_assert_eq(br_index_append(idx, 256, 2560), SM_ERR_NOSPC);
    cr_assert(f.fired);
    cr_assert_eq(br_index_count(idx), 255);
    cr_assert(br_index_last(idx, &e));
    cr_assert_eq(e.key, 255);
    /* The disk is back: the pending entries are written whole, from the first unwritten one. */
    cr_assert_eq(br_index_append(idx, 256, 2560), SM_OK);
    cr_assert_eq(br_index_trim(idx), SM_OK);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 256 * 8);
    br_index_close(idx);
    idx = open_faulty(&f, BR_INDEX_OFFSET, 0, true);
    cr_assert_eq(br_index_count(idx), 256);
    for (size_t i = 0; i < 256; i++)
        cr_assert_eq(br_index_at(idx, i).value, 10 * (int64_t)(i + 1));
    br_index_close(idx);
}

Test(index, a_failed_flush_keeps_the_entries_pending)
{
    fx_faults_t f;
    br_index_t *idx;

    fx_faults_init(&f, 0, EIO);
    idx = open_faulty(&f, BR_INDEX_OFFSET, 0, false);
    for (int k = 1; k <= 10; k++)
        cr_assert_eq(br_index_append(idx, k, 10 * k), SM_OK);
    f.fail_at = f.steps + 1;
    cr_assert_eq(br_index_flush(idx), SM_ERR_IO);
    cr_assert_eq(br_index_count(idx), 10);
    cr_assert_eq(br_index_flush(idx), SM_OK);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 10 * 8);
    f.fail_at = f.steps + 1;
    cr_assert_eq(br_index_append(idx, 11, 110), SM_OK);
    cr_assert_eq(br_index_trim(idx), SM_ERR_IO, "trim writes the pending entry first");
    br_index_close(idx); /* writes it, best effort */
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 11 * 8);
}

Test(index, truncation_cuts_written_and_pending_entries_alike)
{
    br_index_t *idx = open_index(BR_INDEX_OFFSET, 0, 1 << 20, false);
    br_index_entry_t e;

    for (int k = 1; k <= 300; k++) /* 256 written, 44 pending */
        cr_assert_eq(br_index_append(idx, 10 * k, 100 * k), SM_OK);
    cr_assert_eq(br_index_truncate_to(idx, 2801), SM_OK); /* keeps 280: among the pending */
    cr_assert_eq(br_index_count(idx), 280);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 280 * 8);
    cr_assert_eq(br_index_truncate_to(idx, 1001), SM_OK); /* keeps 100: among the written */
    cr_assert_eq(br_index_count(idx), 100);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 100 * 8);
    for (int k = 101; k <= 400; k++) /* written again from entry 100 on */
        cr_assert_eq(br_index_append(idx, 10 * k, 100 * k), SM_OK);
    cr_assert_eq(index_file_size(BR_INDEX_OFFSET), 356 * 8);
    br_index_close(idx);
    idx = open_index(BR_INDEX_OFFSET, 0, 1 << 20, true);
    cr_assert_eq(br_index_count(idx), 400);
    cr_assert_eq(br_index_sanity_check(idx, 100 * 401), SM_OK);
    cr_assert(br_index_lookup(idx, 1005, &e));
    cr_assert_eq(e.value, 10000);
    br_index_close(idx);
}
