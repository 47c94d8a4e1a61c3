/*
 * test_segment: one segment -- append and offset translation at every offset, zero-copy read
 * slices (byte limits, the first batch whole, the upper-bound offset), trusted and recovering
 * opens, index rebuilds, truncation and lookup by time, and the header kept from the last
 * read (one header read a sequential slice; forgotten when the .log is cut), and appends
 * reserved for another thread to write, unread until reported written.
 */
#include "broker/br_segment.h"

#include <criterion/criterion.h>

#include "storage_fixture.h"

static char dir[256];
static const br_segment_config_t cfg = {.index_interval_bytes = 200, .index_max_bytes = 4096};

static void setup(void)
{
    fx_mkdtemp(dir, sizeof(dir), "test_segment");
}

static void teardown(void)
{
    fx_rmtree(dir);
}

TestSuite(segment, .init = setup, .fini = teardown);

/* What the test appended, to check reads against. */
typedef struct model {
    int64_t base[256];
    int64_t last[256];
    uint64_t pos[256];
    size_t size[256];
    int64_t max_ts[256];
    size_t n;
    int64_t next;
    uint64_t end;
} model_t;

static void seg_append(br_segment_t *seg, model_t *m, int32_t records, size_t vlen, int64_t ts)
{
    size_t len;
    uint8_t *b = fx_simple_batch(records, vlen, ts, &len);
    br_batch_set_t set;

    br_batch_stamp(b, m->next, 3);
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
    cr_assert_eq(br_segment_append(seg, b, &set, 0), SM_OK);
    m->base[m->n] = m->next;
    m->last[m->n] = m->next + records - 1;
    m->pos[m->n] = m->end;
    m->size[m->n] = len;
    m->max_ts[m->n] = ts < 0 ? -1 : ts + records - 1;
    m->n++;
    m->next += records;
    m->end += len;
    br_batch_set_deinit(&set);
    free(b);
}

static br_segment_t *make_segment(int64_t base, model_t *m)
{
    br_segment_t *seg = NULL;

    memset(m, 0, sizeof(*m));
    m->next = base;
    cr_assert_eq(br_segment_create(br_fileops_posix(), dir, base, &cfg, 0, &seg), SM_OK);
    return seg;
}

/* Fills a segment with 60 batches of 1..4 records and varied sizes. */
static br_segment_t *filled_segment(int64_t base, model_t *m)
{
    br_segment_t *seg = make_segment(base, m);

    for (int i = 0; i < 60; i++)
        seg_append(seg, m, 1 + i % 4, (size_t)(i * 7 % 90), 1000 + 10 * i);
    return seg;
}

static size_t model_find(const model_t *m, int64_t offset)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->last[i] >= offset)
            return i;
    }
    return m->n;
}

static void check_translations(br_segment_t *seg, const model_t *m)
{
    for (int64_t o = m->base[0]; o < m->next; o++) {
        size_t i = model_find(m, o);
        uint64_t pos;
        br_batch_header_t h;

        cr_assert_eq(br_segment_translate(seg, o, &pos, &h), SM_OK, "offset %lld", (long long)o);
        cr_assert_eq(pos, m->pos[i], "offset %lld", (long long)o);
        cr_assert_eq(h.base_offset, m->base[i]);
    }
}

static void check_slice_bytes(br_segment_t *seg, const br_segment_slice_t *s)
{
    uint8_t *got = fx_pread_all(s->fd, s->pos, s->len);
    uint8_t *want = fx_pread_all(br_segment_fd(seg), s->pos, s->len);

    cr_assert_eq(s->fd, br_segment_fd(seg));
    cr_assert_arr_eq(got, want, s->len);
    free(got);
    free(want);
}

Test(segment, translates_every_offset_to_the_batch_holding_it)
{
    model_t m;
    br_segment_t *seg = filled_segment(500, &m);
    const br_index_t *oi = br_segment_offset_index(seg);
    uint64_t pos;
    br_batch_header_t h;

    cr_assert_eq(br_segment_next_offset(seg), m.next);
    cr_assert_eq(br_segment_size(seg), m.end);
    cr_assert_gt(br_index_count(oi), 5);
    for (size_t k = 0; k < br_index_count(oi); k++) {
        br_index_entry_t e = br_index_at(oi, k);
        size_t i = model_find(&m, e.key);

        cr_assert_eq(m.base[i], e.key, "index entries name batch base offsets");
        cr_assert_eq(m.pos[i], (uint64_t)e.value);
    }
    check_translations(seg, &m);
    cr_assert_eq(br_segment_translate(seg, m.next, &pos, &h), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_segment_translate(seg, 0, &pos, &h), SM_OK); /* below base: first batch */
    cr_assert_eq(pos, 0);
    br_segment_close(seg);
}

Test(segment, an_empty_segment_has_nothing_to_read)
{
    model_t m;
    br_segment_t *seg = make_segment(10, &m);
    br_segment_slice_t s;
    uint64_t pos;
    br_batch_header_t h;

    cr_assert(br_segment_is_empty(seg));
    cr_assert_eq(br_segment_next_offset(seg), 10);
    cr_assert_eq(br_segment_translate(seg, 10, &pos, &h), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_segment_read(seg, 10, 100, INT64_MAX, &s), SM_ERR_NOT_FOUND);
    br_segment_close(seg);
}

Test(segment, reads_whole_batches_up_to_max_bytes_with_the_first_one_always_whole)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    br_segment_slice_t s;

    for (size_t i = 0; i < m.n; i += 7) {
        int64_t off = m.base[i] + (m.last[i] - m.base[i]) / 2;

        /* Everything to the end. */
        cr_assert_eq(br_segment_read(seg, off, SIZE_MAX, INT64_MAX, &s), SM_OK);
        cr_assert_eq(s.pos, m.pos[i]);
        cr_assert_eq(s.len, m.end - m.pos[i]);
        cr_assert_eq(s.first_offset, m.base[i]);
        cr_assert_eq(s.next_offset, m.next);
        check_slice_bytes(seg, &s);
        /* One byte allowed: the first batch whole anyway. */
        cr_assert_eq(br_segment_read(seg, off, 1, INT64_MAX, &s), SM_OK);
        cr_assert_eq(s.len, m.size[i]);
        cr_assert_eq(s.next_offset, i + 1 < m.n ? m.base[i + 1] : m.next);
        /* Exactly k batches, and one byte less gives k - 1. */
        for (size_t k = 2; i + k <= m.n && k < 12; k += 3) {
            size_t bytes = (size_t)(m.pos[i + k - 1] + m.size[i + k - 1] - m.pos[i]);

            cr_assert_eq(br_segment_read(seg, off, bytes, INT64_MAX, &s), SM_OK);
            cr_assert_eq(s.len, bytes, "i %zu k %zu", i, k);
            cr_assert_eq(br_segment_read(seg, off, bytes - 1, INT64_MAX, &s), SM_OK);
            cr_assert_eq(s.len, m.pos[i + k - 1] - m.pos[i], "i %zu k %zu", i, k);
            cr_assert_eq(s.next_offset, m.base[i + k - 1]);
        }
    }
    br_segment_close(seg);
}

Test(segment, reads_only_batches_entirely_below_the_upper_bound)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    br_segment_slice_t s;

    for (size_t j = 1; j < m.n; j += 5) {
        /* Bound at a batch boundary and inside a batch: both stop before batch j. */
        int64_t bounds[2] = {m.base[j], m.last[j]};

        for (int b = 0; b < 2; b++) {
            cr_assert_eq(br_segment_read(seg, 0, SIZE_MAX, bounds[b], &s), SM_OK);
            cr_assert_eq(s.pos, 0);
            cr_assert_eq(s.len, m.pos[j], "bound %lld", (long long)bounds[b]);
            cr_assert_eq(s.next_offset, m.base[j]);
        }
        /* Reading the batch that reaches the bound gives nothing. */
        cr_assert_eq(br_segment_read(seg, m.base[j], SIZE_MAX, m.last[j], &s), SM_OK);
        cr_assert_eq(s.len, 0);
        cr_assert_eq(s.fd, -1);
    }
    br_segment_close(seg);
}

Test(segment, reopens_trusting_its_indexes)
{
    model_t m;
    br_segment_t *seg = filled_segment(77, &m);
    size_t entries = br_index_count(br_segment_offset_index(seg));
    bool cut = true;

    cr_assert_eq(br_segment_seal(seg), SM_OK);
    br_segment_close(seg);
    cr_assert_eq(
        br_segment_open(br_fileops_posix(), dir, 77, &cfg, 0, false, NULL, NULL, &seg, &cut),
        SM_OK);
    cr_assert_not(cut);
    cr_assert_eq(br_segment_next_offset(seg), m.next);
    cr_assert_eq(br_segment_size(seg), m.end);
    cr_assert_eq(br_segment_max_timestamp(seg), m.max_ts[m.n - 1]);
    cr_assert_eq(br_index_count(br_segment_offset_index(seg)), entries);
    check_translations(seg, &m);
    seg_append(seg, &m, 2, 10, 5000);
    check_translations(seg, &m);
    br_segment_close(seg);
}

static int count_batches_cb_n;

static sm_err_t count_batches_cb(void *ctx, const br_batch_header_t *h)
{
    (void)ctx;
    (void)h;
    count_batches_cb_n++;
    return SM_OK;
}

Test(segment, rebuilds_an_index_that_fails_the_sanity_check)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    size_t entries = br_index_count(br_segment_offset_index(seg));
    char path[512];
    int fd;

    br_segment_close(seg);
    cr_assert_eq(br_segment_path(path, sizeof(path), dir, 0, ".index"), SM_OK);
    fd = open(path, O_WRONLY);
    cr_assert_eq(pwrite(fd, "\xff\xff\xff\xff\x00\x00\x00\x01", 8, 8), 8);
    close(fd);
    count_batches_cb_n = 0;
    cr_assert_eq(br_segment_open(br_fileops_posix(), dir, 0, &cfg, 0, false, count_batches_cb, NULL,
                                 &seg, NULL),
                 SM_OK);
    cr_assert_eq(count_batches_cb_n, (int)m.n);
    cr_assert_eq(br_index_count(br_segment_offset_index(seg)), entries);
    check_translations(seg, &m);
    br_segment_close(seg);
}

Test(segment, recovery_cuts_a_torn_last_batch)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    char path[512];
    bool cut = false;

    br_segment_close(seg);
    cr_assert_eq(br_segment_path(path, sizeof(path), dir, 0, ".log"), SM_OK);
    cr_assert_eq(truncate(path, (off_t)(m.end - 5)), 0);
    cr_assert_eq(br_segment_open(br_fileops_posix(), dir, 0, &cfg, 0, true, NULL, NULL, &seg, &cut),
                 SM_OK);
    cr_assert(cut);
    cr_assert_eq(br_segment_next_offset(seg), m.base[m.n - 1]);
    cr_assert_eq(br_segment_size(seg), m.pos[m.n - 1]);
    cr_assert_eq(fx_file_size(path), (int64_t)m.pos[m.n - 1]);
    m.n--;
    m.next = m.base[m.n];
    check_translations(seg, &m);
    br_segment_close(seg);
}

Test(segment, trusted_open_of_a_torn_tail_falls_back_to_recovery)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    char path[512];
    bool cut = false;

    br_segment_close(seg);
    cr_assert_eq(br_segment_path(path, sizeof(path), dir, 0, ".log"), SM_OK);
    cr_assert_eq(truncate(path, (off_t)(m.end - 1)), 0);
    cr_assert_eq(
        br_segment_open(br_fileops_posix(), dir, 0, &cfg, 0, false, NULL, NULL, &seg, &cut), SM_OK);
    cr_assert(cut);
    cr_assert_eq(br_segment_next_offset(seg), m.base[m.n - 1]);
    br_segment_close(seg);
}

Test(segment, truncation_removes_the_batch_holding_the_offset_and_all_after)
{
    model_t m;
    br_segment_t *seg = filled_segment(0, &m);
    size_t cut_at = 31;
    br_index_entry_t e;

    cr_assert_lt(m.base[cut_at], m.last[cut_at]);
    cr_assert_eq(br_segment_truncate_to(seg, m.base[cut_at] + 1), SM_OK); /* mid-batch */
    cr_assert_eq(br_segment_next_offset(seg), m.base[cut_at]);
    cr_assert_eq(br_segment_size(seg), m.pos[cut_at]);
    if (br_index_last(br_segment_offset_index(seg), &e))
        cr_assert_lt(e.key, m.base[cut_at]);
    if (br_index_last(br_segment_time_index(seg), &e))
        cr_assert_lt(e.value, m.base[cut_at]);
    cr_assert_eq(br_segment_max_timestamp(seg), m.max_ts[cut_at - 1]);
    m.n = cut_at;
    m.next = m.base[cut_at];
    m.end = m.pos[cut_at];
    check_translations(seg, &m);
    cr_assert_eq(br_segment_truncate_to(seg, m.next + 100), SM_OK); /* past the end: nothing */
    cr_assert_eq(br_segment_next_offset(seg), m.next);
    for (int i = 0; i < 10; i++)
        seg_append(seg, &m, 3, 40, 100);
    check_translations(seg, &m);
    cr_assert_eq(br_segment_truncate_to(seg, 0), SM_OK);
    cr_assert(br_segment_is_empty(seg));
    cr_assert_eq(br_segment_next_offset(seg), 0);
    br_segment_close(seg);
}

Test(segment, finds_the_first_batch_reaching_a_timestamp)
{
    model_t m;
    br_segment_t *seg = make_segment(0, &m);
    int64_t ts[] = {100, 300, 200, 500, 400, 900, 600, 1000};
    int64_t off;

    for (int r = 0; r < 4; r++) {
        for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
            seg_append(seg, &m, 1, 60, ts[i] + 10000 * r);
    }
    for (int64_t t = 0; t <= 41000; t += 50) {
        size_t want = m.n;
        sm_err_t err = br_segment_find_by_time(seg, t, &off);

        for (size_t i = 0; i < m.n; i++) {
            if (m.max_ts[i] >= t) {
                want = i;
                break;
            }
        }
        if (want == m.n) {
            cr_assert_eq(err, SM_ERR_NOT_FOUND, "ts %lld", (long long)t);
        } else {
            cr_assert_eq(err, SM_OK, "ts %lld", (long long)t);
            cr_assert_eq(off, m.base[want], "ts %lld: %lld", (long long)t, (long long)off);
        }
    }
    br_segment_close(seg);
}

Test(segment, refuses_appends_that_would_not_fit_its_indexes)
{
    model_t m;
    br_segment_t *seg = make_segment(0, &m);
    size_t len;
    uint8_t *b = fx_simple_batch(1, 1, 0, &len);
    br_batch_set_t set;

    br_batch_stamp(b, (int64_t)INT32_MAX + 1, 0);
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
    cr_assert_eq(br_segment_append(seg, b, &set, 0), SM_ERR_RANGE);
    cr_assert(br_segment_is_empty(seg));
    br_batch_set_deinit(&set);
    free(b);
    br_segment_close(seg);
}

Test(segment, delete_removes_its_three_files)
{
    model_t m;
    br_segment_t *seg = filled_segment(42, &m);
    const char *suffixes[] = {".log", ".index", ".timeindex"};
    char path[512];

    cr_assert_eq(br_segment_delete(seg), SM_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(br_segment_path(path, sizeof(path), dir, 42, suffixes[i]), SM_OK);
        cr_assert_eq(fx_file_size(path), -1, "%s", path);
    }
}

/* ---- header reads of sequential slices ---------------------------------------------------- */

static int counted_preads;

static ssize_t counting_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
    (void)ctx;
    counted_preads++;
    return pread(fd, buf, len, off);
}

Test(segment, sequential_slices_read_one_header_each)
{
    br_fileops_t ops = *br_fileops_posix();
    br_segment_t *seg = NULL;
    model_t m;
    int64_t off = 0;
    int slices = 0;

    ops.pread = counting_pread;
    memset(&m, 0, sizeof(m));
    cr_assert_eq(br_segment_create(&ops, dir, 0, &cfg, 0, &seg), SM_OK);
    for (int i = 0; i < 60; i++)
        seg_append(seg, &m, 2, 300, 1000 + i); /* every batch indexed: > 200 bytes apart */
    counted_preads = 0;
    for (int guard = 0; guard < 100; guard++) {
        br_segment_slice_t s;

        cr_assert_eq(br_segment_read(seg, off, 1000, INT64_MAX, &s), SM_OK);
        slices++;
        off = s.next_offset;
        if (off == m.next)
            break;
    }
    cr_assert_gt(slices, 10);
    /* The first slice reads its start and its end; each later one only its end. */
    cr_assert_leq(counted_preads, slices + 1, "%d header reads for %d slices", counted_preads,
                  slices);
    br_segment_close(seg);
}

/* Reads from `offset` must find the batch appended there last, whatever header was read
 * there before the bytes were cut. */
static void expect_batch_at(br_segment_t *seg, int64_t offset, uint64_t pos, size_t len)
{
    br_segment_slice_t s;

    cr_assert_eq(br_segment_read(seg, offset, 1, INT64_MAX, &s), SM_OK);
    cr_assert_eq(s.pos, pos);
    cr_assert_eq(s.len, len, "the new batch, not the one cut away");
}

Test(segment, a_truncation_forgets_the_header_read_last)
{
    model_t m;
    br_segment_t *seg = make_segment(0, &m);

    for (int i = 0; i < 20; i++)
        seg_append(seg, &m, 2, 300, 1000 + i);
    /* Cutting everything reads the first header last (to find the cut) and none after. */
    cr_assert_eq(br_segment_truncate_to(seg, 0), SM_OK);
    cr_assert(br_segment_is_empty(seg));
    memset(&m, 0, sizeof(m));
    seg_append(seg, &m, 5, 40, 2000);
    seg_append(seg, &m, 1, 10, 2001);
    expect_batch_at(seg, 0, 0, m.size[0]);
    check_translations(seg, &m);
    br_segment_close(seg);
}

Test(segment, a_recovery_cut_forgets_the_header_read_last)
{
    model_t m;
    br_segment_t *seg = make_segment(0, &m);
    char path[512];
    bool cut = false;
    uint64_t keep;

    for (int i = 0; i < 5; i++)
        seg_append(seg, &m, 2, 300, 1000 + i);
    br_segment_close(seg);
    /* The last batch keeps its header but loses its tail: recovery reads that header, then
     * cuts the batch away. */
    cr_assert_eq(br_segment_path(path, sizeof(path), dir, 0, ".log"), SM_OK);
    cr_assert_eq(truncate(path, (off_t)(m.end - 10)), 0);
    cr_assert_eq(br_segment_open(br_fileops_posix(), dir, 0, &cfg, 0, true, NULL, NULL, &seg, &cut),
                 SM_OK);
    cr_assert(cut);
    keep = m.pos[4];
    m.n = 4;
    m.next = m.base[4];
    m.end = keep;
    seg_append(seg, &m, 7, 20, 2000);
    expect_batch_at(seg, m.base[4], keep, m.size[4]);
    check_translations(seg, &m);
    br_segment_close(seg);
}

/* Reserves one batch of `records` (stamped at m->next) without writing it; returns its bytes
 * (the caller writes them at *pos and frees them). */
static uint8_t *seg_reserve(br_segment_t *seg, model_t *m, int32_t records, uint64_t *pos,
                            size_t *len)
{
    uint8_t *b = fx_simple_batch(records, 50, 10, len);
    br_batch_set_t set;

    br_batch_stamp(b, m->next, 3);
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, *len, NULL, &set, NULL), SM_OK);
    cr_assert_eq(br_segment_reserve(seg, &set, 0, pos), SM_OK);
    cr_assert_eq(*pos, m->end);
    m->next += records;
    m->end += *len;
    br_batch_set_deinit(&set);
    return b;
}

Test(segment, reserved_appends_are_read_only_once_reported_written)
{
    model_t m;
    br_segment_t *seg = make_segment(100, &m);
    br_segment_slice_t s;
    uint64_t pos1, pos2;
    size_t len1, len2;
    uint8_t *b1, *b2;

    seg_append(seg, &m, 2, 40, 5);              /* written: offsets 100-101 */
    b1 = seg_reserve(seg, &m, 3, &pos1, &len1); /* 102-104 */
    b2 = seg_reserve(seg, &m, 4, &pos2, &len2); /* 105-108 */
    cr_assert_eq(br_segment_next_offset(seg), 109, "appends go on after the reserved ones");
    cr_assert_eq(br_segment_size(seg), m.end);
    cr_assert_eq(br_segment_written_size(seg), pos1);
    cr_assert_eq(br_segment_read(seg, 100, 1 << 20, INT64_MAX, &s), SM_OK);
    cr_assert_eq(s.len, pos1, "only the written batch");
    cr_assert_eq(s.next_offset, 102);
    cr_assert_eq(br_segment_read(seg, 103, 1 << 20, INT64_MAX, &s), SM_ERR_NOT_FOUND);

    /* Write both, report the first: it alone becomes readable. */
    cr_assert_eq(pwrite(br_segment_fd(seg), b1, len1, (off_t)pos1), (ssize_t)len1);
    cr_assert_eq(pwrite(br_segment_fd(seg), b2, len2, (off_t)pos2), (ssize_t)len2);
    br_segment_written(seg, pos1 + len1, 105);
    cr_assert_eq(br_segment_read(seg, 100, 1 << 20, INT64_MAX, &s), SM_OK);
    cr_assert_eq(s.len, pos1 + len1);
    cr_assert_eq(s.next_offset, 105);
    br_segment_written(seg, pos1, 102); /* out of order: ignored */
    cr_assert_eq(br_segment_written_size(seg), pos1 + len1);
    br_segment_written(seg, pos2 + len2, 109);
    cr_assert_eq(br_segment_written_size(seg), m.end);
    cr_assert_eq(br_segment_read(seg, 106, 1 << 20, INT64_MAX, &s), SM_OK);
    cr_assert_eq(s.first_offset, 105);
    cr_assert_eq(s.len, len2);
    free(b1);
    free(b2);
    br_segment_close(seg);
}
