/*
 * test_log: a partition log end to end -- append/read round trips across segments, rolling
 * (size, time, index space), retention (time, bytes, the upper bound), log start offset,
 * truncation, follower appends, LogAppendTime, flushing and the recovery point, clean and
 * unclean reopen, a crash property test (cut the files anywhere: recovery keeps exactly the
 * longest valid prefix), EIO / ENOSPC / short writes injected at every write step, and the
 * buffered index entries written by a flush before its fsync. Appends written by a writer
 * thread: test_log_writer.c; the two share log_fixture.h.
 */
#include "broker/br_log.h"

#include <criterion/criterion.h>
#include <dirent.h>

#include "sm_log.h"
#include "compress_fixture.h"
#include "log_fixture.h"
#include "storage_fixture.h"

TestSuite(log, .init = log_fx_setup, .fini = log_fx_teardown, .timeout = 120);

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- append and read ---------------------------------------------------------------------- */

Test(log, opens_a_new_directory_with_one_empty_segment)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    char path[1024];

    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(br_log_end_offset(log), 0);
    cr_assert_eq(br_log_start_offset(log), 0);
    cr_assert_eq(br_log_size_bytes(log), 0);
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    cr_assert_eq(fx_file_size(path), 0);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, refuses_a_bad_config)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = NULL;
    sm_errbuf_t eb = {{0}};

    cfg.index_max_bytes = 8;
    cr_assert_eq(br_log_open(br_fileops_posix(), dir, &cfg, true, 0, 0, 0, &log, &eb),
                 SM_ERR_CONFIG);
    cr_assert_null(log);
    cr_assert_neq(eb.msg[0], 0);
}

Test(log, appends_assign_offsets_and_read_back_across_segments)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    model_t m = {0};

    for (int i = 0; i < 300; i++) {
        br_log_append_info_t info;
        int32_t n = 1 + (int32_t)(rnd() % 7);

        cr_assert_eq(append_batch(log, &m, n, (size_t)(rnd() % 500), 1000 + i, 5, &info), SM_OK);
        cr_assert_eq(info.first_offset, m.b[m.n - 1].base);
        cr_assert_eq(info.last_offset - info.first_offset + 1, n);
        cr_assert_eq(info.records, n);
        cr_assert_eq(info.log_append_time, -1);
        cr_assert_eq(br_log_end_offset(log), info.last_offset + 1);
        if (i > 0)
            cr_assert_eq(info.first_offset, m.b[m.n - 2].last + 1);
    }
    cr_assert_gt(br_log_segment_count(log), 10);
    for (size_t i = 0; i < br_log_segment_count(log); i++) {
        char path[1024];

        snprintf(path, sizeof(path), "%s/%020lld.log", dir, (long long)br_log_segment_base(log, i));
        cr_assert_leq(fx_file_size(path), cfg.segment_bytes);
    }
    cr_assert_eq(m.b[0].bytes[BR_BATCH_OFF_LEADER_EPOCH + 3], 7);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, reads_outside_the_log_are_out_of_range)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 50, 0);
    br_log_slice_t s;

    cr_assert_eq(br_log_end_offset(log), 50);
    cr_assert_eq(br_log_read(log, 50, 100, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.len, 0);
    cr_assert_eq(br_log_read(log, 49, 100, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE);
    cr_assert_eq(br_log_read(log, 51, 100, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_RANGE), BR_BATCH_KERR_OFFSET_OUT_OF_RANGE);
    cr_assert_eq(append_batch(log, NULL, 3, 10, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_read(log, 52, 100, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.first_offset, 50);
    cr_assert_eq(br_log_read(log, 53, 100, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.len, 0);
    cr_assert_eq(br_log_read(log, 54, 100, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, reads_stop_below_the_high_watermark)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    model_t m = {0};
    br_log_slice_t s;

    for (int i = 0; i < 40; i++)
        cr_assert_eq(append_batch(log, &m, 2, 100, i, 0, NULL), SM_OK);
    for (size_t k = 0; k < m.n; k += 3) {
        int64_t hw = m.b[k].base;
        int64_t off = 0;
        int64_t seen = 0;

        /* Everything readable below hw, across segments, and nothing at or above it. */
        for (int guard = 0; guard < 100; guard++) {
            cr_assert_eq(br_log_read(log, off, 1 << 20, hw, &s), SM_OK);
            if (s.len == 0)
                break;
            seen = s.next_offset;
            off = s.next_offset;
        }
        cr_assert_eq(seen == 0 ? 0 : seen, hw, "hw %lld", (long long)hw);
        cr_assert_eq(br_log_read(log, hw, 1 << 20, hw, &s), SM_OK);
        cr_assert_eq(s.len, 0);
    }
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, a_request_with_one_bad_batch_writes_nothing)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    sm_writer_t w;
    br_batch_set_t set;
    br_batch_verdict_t v;
    fx_batch_opts_t o = {.records = 2, .value_len = 30, .base_ts = 5};
    size_t first;
    uint8_t *data;

    cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, NULL), SM_OK);
    sm_writer_init(&w, 0);
    first = fx_batch_write(&w, &o);
    fx_batch_write(&w, &o);
    fx_batch_write(&w, &o);
    data = (uint8_t *)sm_writer_data(&w);
    data[first + BR_BATCH_OFF_MAGIC] = 1;
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(data, sm_writer_len(&w), NULL, &set, &v),
                 SM_ERR_UNSUPPORTED);
    cr_assert_eq(v.kafka_error, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    cr_assert_eq(v.batch_index, 1);
    /* The handler answers with v.kafka_error and appends nothing. */
    cr_assert_eq(br_log_end_offset(log), 1);
    data[first + BR_BATCH_OFF_MAGIC] = 2;
    cr_assert_eq(br_batch_validate_set(data, sm_writer_len(&w), NULL, &set, &v), SM_OK);
    cr_assert_eq(br_log_append(log, data, &set, 1, 0, NULL), SM_OK);
    cr_assert_eq(br_log_end_offset(log), 7);
    cr_assert_eq(set.batches[2].hdr.base_offset, 5);
    br_batch_set_deinit(&set);
    sm_writer_deinit(&w);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, log_append_time_stamps_broker_time_and_a_fresh_crc)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;
    br_log_append_info_t info;
    br_log_slice_t s;
    br_batch_header_t h;
    uint8_t *data;
    size_t len;
    uint8_t *orig = fx_simple_batch(3, 20, 1000, &len);
    br_batch_header_t oh;

    cfg.log_append_time = true;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    cr_assert_eq(br_batch_header_parse(orig, len, &oh), SM_OK);
    cr_assert_eq(append_batch(log, NULL, 3, 20, 1000, 777777, &info), SM_OK);
    cr_assert_eq(info.log_append_time, 777777);
    cr_assert_eq(br_log_read(log, 0, 1 << 20, BR_LOG_NO_BOUND, &s), SM_OK);
    data = fx_pread_all(s.fd, s.pos, s.len);
    cr_assert_eq(br_batch_validate(data, s.len, NULL, &h, NULL), SM_OK);
    cr_assert(h.attributes & BR_BATCH_ATTR_LOG_APPEND_TIME);
    cr_assert_eq(h.max_timestamp, 777777);
    cr_assert_eq(h.base_timestamp, 1000);
    cr_assert_neq(h.crc, oh.crc);
    cr_assert_arr_eq(data + BR_BATCH_HEADER_SIZE, orig + BR_BATCH_HEADER_SIZE,
                     len - BR_BATCH_HEADER_SIZE, "records are never re-encoded");
    free(data);
    free(orig);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, follower_appends_keep_the_leaders_offsets_and_epochs)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    model_t m = {0};
    int64_t next = 0;

    for (int i = 0; i < 30; i++) {
        size_t len;
        uint8_t *b = fx_simple_batch(3, 80, i, &len);
        br_batch_set_t set;
        br_log_append_info_t info;

        br_batch_stamp(b, next, 11 + i / 10);
        br_batch_set_init(&set);
        cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
        cr_assert_eq(br_log_append_as_follower(log, b, &set, 0, &info), SM_OK);
        cr_assert_eq(info.first_offset, next);
        model_push(&m, b, len, next, next + 2);
        next += 3;
        if (i == 15) {
            /* Going back is refused; the follower must truncate first. */
            br_batch_stamp(b, next - 1, 0);
            cr_assert_eq(br_log_append_as_follower(log, b, &set, 0, NULL), SM_ERR_RANGE);
            cr_assert_eq(br_log_is_failed(log), false);
        }
        br_batch_set_deinit(&set);
        free(b);
    }
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

/* ---- rolling ------------------------------------------------------------------------------ */

Test(log, rolls_when_the_next_append_would_pass_segment_bytes)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;
    size_t len;
    uint8_t *b = fx_simple_batch(1, 400, 0, &len);

    free(b);
    cfg.segment_bytes = (int64_t)(3 * len + 10);
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 400, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_not(br_log_flush_due(log, 0));
    cr_assert_eq(append_batch(log, NULL, 1, 400, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 2);
    cr_assert_eq(br_log_segment_base(log, 1), 3);
    cr_assert(br_log_flush_due(log, 0), "a roll asks for a flush");
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, refuses_a_request_larger_than_a_segment)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;

    cfg.segment_bytes = 200;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    cr_assert_eq(append_batch(log, NULL, 1, 300, 0, 0, NULL), SM_ERR_TOO_LARGE);
    cr_assert_not(br_log_is_failed(log));
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, rolls_by_age_from_the_first_batch_timestamp)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;

    cfg.segment_ms = 1000;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    cr_assert_eq(append_batch(log, NULL, 1, 10, 5000, 0, NULL), SM_OK);
    cr_assert_eq(append_batch(log, NULL, 1, 10, 5900, 0, NULL), SM_OK);
    cr_assert_eq(append_batch(log, NULL, 1, 10, 6000, 999999, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 1, "timestamps decide, not the clock");
    cr_assert_eq(append_batch(log, NULL, 1, 10, 6001, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 2);
    cr_assert_eq(br_log_segment_base(log, 1), 3);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, rolls_by_age_from_creation_when_batches_carry_no_timestamp)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;

    cfg.segment_ms = 1000;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 100);
    cr_assert_eq(append_batch(log, NULL, 1, 10, -1, 500, NULL), SM_OK);
    cr_assert_eq(append_batch(log, NULL, 1, 10, -1, 1100, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(append_batch(log, NULL, 1, 10, -1, 1101, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 2);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, rolls_when_an_index_is_full)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;

    cfg.index_interval_bytes = 0; /* an entry before every batch but the first */
    cfg.index_max_bytes = 24;     /* 3 offset entries, 2 time entries */
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 10, i, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(append_batch(log, NULL, 1, 10, 3, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 2, "the time index filled after 2 entries");
    cr_assert_eq(br_log_segment_base(log, 1), 3);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

/* ---- retention ---------------------------------------------------------------------------- */

/* A log of 10 segments; segment i holds batches with timestamps 1000 * i. */
static br_log_t *aged_log(br_log_config_t *cfg, model_t *m)
{
    br_log_t *log;

    cfg->segment_ms = BR_LOG_NO_LIMIT;
    log = open_log(br_fileops_posix(), cfg, false, 0, 0, 0);
    for (int s = 0; s < 10; s++) {
        for (int i = 0; i < 4; i++)
            cr_assert_eq(append_batch(log, m, 2, 100, 1000 * s + i, 0, NULL), SM_OK);
        if (s < 9)
            cr_assert_eq(br_log_roll(log, 0), SM_OK);
    }
    cr_assert_eq(br_log_segment_count(log), 10);
    return log;
}

Test(log, a_reconfigured_segment_size_and_retention_apply_from_the_next_append_and_pass)
{
    br_log_config_t cfg = test_cfg(), topic;
    model_t m = {0};
    br_log_t *log;
    size_t deleted = 99;
    sm_errbuf_t eb = {{0}};

    log = aged_log(&cfg, &m); /* 10 segments, ages 0..9 s, retention at the default 7 days */
    cr_assert_eq(br_log_delete_old_segments(log, 10000, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_assert_eq(deleted, 0);

    topic = cfg;
    topic.retention_ms = 5000;
    topic.segment_bytes = 200; /* smaller than the active segment already is */
    topic.max_message_bytes = 1000;
    topic.index_max_bytes = 1; /* not a topic setting: ignored, not refused */
    cr_assert_eq(br_log_reconfigure(log, &topic, &eb), SM_OK, "%s", eb.msg);
    cr_expect_eq(br_log_segment_max_bytes(log), 200);
    cr_expect_eq(br_log_max_message_bytes(log), 1000);
    cr_assert_eq(br_log_delete_old_segments(log, 10000, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_expect_eq(deleted, 5, "segments older than the topic's 5 s");
    cr_assert_eq(append_batch(log, &m, 1, 100, 10000, 0, NULL), SM_OK);
    cr_expect_eq(br_log_segment_count(log), 6, "the next append rolled at the new size");

    /* An invalid value is refused and changes nothing. */
    topic.segment_bytes = 10;
    topic.retention_ms = 1;
    cr_expect_eq(br_log_reconfigure(log, &topic, &eb), SM_ERR_CONFIG);
    cr_expect_neq(strstr(eb.msg, "segment.bytes"), NULL, "%s", eb.msg);
    cr_expect_eq(br_log_segment_max_bytes(log), 200);
    cr_assert_eq(br_log_delete_old_segments(log, 10000, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_expect_eq(deleted, 0, "retention is still 5 s");
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, retention_by_time_deletes_old_segments_below_the_upper_bound_only)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log;
    size_t deleted = 99;
    br_log_slice_t s;

    cfg.retention_ms = 5000;
    log = aged_log(&cfg, &m);
    /* now 10000: segments 0..4 (max ts <= 4003) are older than 5000 ms. */
    cr_assert_eq(br_log_delete_old_segments(log, 10000, 16, &deleted), SM_OK);
    cr_assert_eq(deleted, 2, "only segments wholly below offset 16");
    cr_assert_eq(br_log_start_offset(log), 16);
    cr_assert_eq(br_log_delete_old_segments(log, 10000, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_assert_eq(deleted, 3);
    cr_assert_eq(br_log_segment_count(log), 5);
    cr_assert_eq(br_log_start_offset(log), 40);
    cr_assert_eq(br_log_read(log, 39, 100, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_delete_old_segments(log, 10000, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, retention_by_bytes_keeps_at_least_the_limit)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log;
    size_t deleted;
    uint64_t seg = 0;

    log = aged_log(&cfg, &m);
    seg = br_log_size_bytes(log) / 10;
    br_log_close(log, true);
    cfg.retention_bytes = (int64_t)(seg * 3 + seg / 2);
    log = open_log(br_fileops_posix(), &cfg, true, 0, 0, 0);
    cr_assert_eq(br_log_delete_old_segments(log, 0, 16, &deleted), SM_OK);
    cr_assert_eq(deleted, 2, "only segments wholly below the upper bound");
    cr_assert_eq(br_log_delete_old_segments(log, 0, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_assert_eq(deleted, 4);
    cr_assert_eq(br_log_segment_count(log), 4);
    cr_assert_geq(br_log_size_bytes(log), (uint64_t)cfg.retention_bytes);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, retention_of_everything_rolls_a_fresh_active_segment_first)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log;
    size_t deleted;
    br_log_append_info_t info;

    cfg.retention_ms = 1;
    log = aged_log(&cfg, &m);
    cr_assert_eq(br_log_delete_old_segments(log, 1000000, 79, &deleted), SM_OK);
    cr_assert_eq(deleted, 9, "the active segment ends above the bound: kept");
    cr_assert_eq(br_log_delete_old_segments(log, 1000000, 80, &deleted), SM_OK);
    cr_assert_eq(deleted, 1);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(br_log_start_offset(log), 80);
    cr_assert_eq(br_log_end_offset(log), 80);
    cr_assert_eq(br_log_size_bytes(log), 0);
    cr_assert_eq(br_log_delete_old_segments(log, 1000000, 80, &deleted), SM_OK);
    cr_assert_eq(deleted, 0, "an empty active segment stays");
    cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, &info), SM_OK);
    cr_assert_eq(info.first_offset, 80);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, moving_the_log_start_deletes_segments_wholly_below_it)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log = aged_log(&cfg, &m);
    br_log_slice_t s;

    cr_assert_eq(br_log_set_log_start_offset(log, 81), SM_ERR_RANGE);
    cr_assert_eq(br_log_set_log_start_offset(log, 19), SM_OK);
    cr_assert_eq(br_log_start_offset(log), 19);
    cr_assert_eq(br_log_segment_count(log), 8);
    cr_assert_eq(br_log_read(log, 18, 100, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE);
    cr_assert_eq(br_log_read(log, 19, 100, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.first_offset, 18, "the batch holding the start offset is returned whole");
    cr_assert_eq(br_log_set_log_start_offset(log, 10), SM_OK);
    cr_assert_eq(br_log_start_offset(log), 19, "never moves back");
    verify_log(log, &m, false);
    br_log_close(log, true);
    log = open_log(br_fileops_posix(), &cfg, true, 0, 19, 0);
    cr_assert_eq(br_log_start_offset(log), 19, "from the caller's checkpoint");
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

/* ---- truncation --------------------------------------------------------------------------- */

Test(log, truncation_removes_the_tail_across_segments)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log = aged_log(&cfg, &m);
    br_log_append_info_t info;

    cr_assert_eq(br_log_flush(log, 0), SM_OK);
    cr_assert_eq(br_log_recovery_point(log), 80);
    cr_assert_eq(br_log_truncate_to(log, 100), SM_OK);
    cr_assert_eq(br_log_end_offset(log), 80);
    cr_assert_eq(br_log_truncate_to(log, 45), SM_OK); /* inside batch 44..45 */
    cr_assert_eq(br_log_end_offset(log), 44);
    cr_assert_eq(br_log_segment_count(log), 6);
    cr_assert_eq(br_log_recovery_point(log), 44);
    model_truncate(&m, 45);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_truncate_to(log, 40), SM_OK); /* a segment base: it stays, empty */
    cr_assert_eq(br_log_end_offset(log), 40);
    cr_assert_eq(br_log_segment_count(log), 5);
    model_truncate(&m, 40);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(append_batch(log, &m, 2, 100, 0, 0, &info), SM_OK);
    verify_log(log, &m, false);
    br_log_close(log, true);
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, truncation_below_the_log_start_restarts_the_log)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log = aged_log(&cfg, &m);
    br_log_append_info_t info;

    cr_assert_eq(br_log_set_log_start_offset(log, 30), SM_OK);
    cr_assert_eq(br_log_truncate_to(log, 20), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(br_log_start_offset(log), 20);
    cr_assert_eq(br_log_end_offset(log), 20);
    cr_assert_eq(br_log_size_bytes(log), 0);
    cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, &info), SM_OK);
    cr_assert_eq(info.first_offset, 20);
    cr_assert_eq(br_log_truncate_fully_and_start_at(log, 0), SM_OK);
    cr_assert_eq(br_log_end_offset(log), 0);
    cr_assert_eq(br_log_segment_base(log, 0), 0);
    cr_assert_eq(br_log_truncate_fully_and_start_at(log, 1000), SM_OK);
    br_log_close(log, true);
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    cr_assert_eq(br_log_segment_count(log), 1);
    cr_assert_eq(br_log_start_offset(log), 1000);
    cr_assert_eq(br_log_end_offset(log), 1000);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

/* ---- hooks and lookups -------------------------------------------------------------------- */

typedef struct seen {
    int64_t base[512];
    int32_t epoch[512];
    size_t n;
    sm_err_t answer;
} seen_t;

static sm_err_t record_batch(void *ctx, const br_batch_header_t *h)
{
    seen_t *s = ctx;

    if (s->answer != SM_OK)
        return s->answer;
    s->base[s->n] = h->base_offset;
    s->epoch[s->n] = h->leader_epoch;
    s->n++;
    return SM_OK;
}

Test(log, on_batch_sees_appends_and_recovered_batches)
{
    br_log_config_t cfg = test_cfg();
    seen_t seen = {0};
    br_log_t *log;

    cfg.on_batch = record_batch;
    cfg.on_batch_ctx = &seen;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(append_batch(log, NULL, 2, 100, i, 0, NULL), SM_OK);
    cr_assert_eq(seen.n, 50);
    cr_assert_eq(seen.base[49], 98);
    cr_assert_eq(seen.epoch[49], 7);
    seen.answer = SM_ERR_FENCED;
    cr_assert_eq(append_batch(log, NULL, 2, 100, 0, 0, NULL), SM_ERR_FENCED);
    cr_assert_eq(br_log_end_offset(log), 100, "nothing written");
    cr_assert_not(br_log_is_failed(log));
    seen.answer = SM_OK;
    br_log_close(log, false);
    /* Unclean, recovery point 60: only the segments from the one holding 60 are rescanned. */
    seen.n = 0;
    log = open_log(br_fileops_posix(), &cfg, false, 60, 0, 0);
    cr_assert_gt(seen.n, 0);
    cr_assert_lt(seen.n, 50);
    cr_assert_eq(seen.base[seen.n - 1], 98);
    cr_assert_leq(seen.base[0], 60);
    cr_assert_eq(br_log_recovery_point(log), 60);
    br_log_close(log, true);
    seen.n = 0;
    log = open_log(br_fileops_posix(), &cfg, true, 0, 0, 0);
    cr_assert_eq(seen.n, 0, "a clean open trusts the segments");
    cr_assert_eq(br_log_recovery_point(log), 100);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, iterates_batch_headers_and_finds_offsets_by_time)
{
    br_log_config_t cfg = test_cfg();
    seen_t seen = {0};
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    int64_t off;
    int64_t ts;

    for (int i = 0; i < 60; i++)
        cr_assert_eq(append_batch(log, NULL, 2, 150, 10 * i, 0, NULL), SM_OK);
    cr_assert_gt(br_log_segment_count(log), 2);
    cr_assert_eq(br_log_for_each_batch(log, 35, record_batch, &seen), SM_OK);
    cr_assert_eq(seen.n, 43);
    cr_assert_eq(seen.base[0], 34);
    seen.answer = SM_ERR_NOT_FOUND;
    cr_assert_eq(br_log_for_each_batch(log, 0, record_batch, &seen), SM_ERR_NOT_FOUND);
    for (int i = 0; i < 59; i++) {
        cr_assert_eq(br_log_offset_for_time(log, 10 * i, &off, &ts), SM_OK);
        cr_assert_eq(off, 2 * i);
        cr_assert_eq(ts, 10 * i);
        cr_assert_eq(br_log_offset_for_time(log, 10 * i + 2, &off, &ts), SM_OK);
        cr_assert_eq(off, 2 * (i + 1), "ts %d", 10 * i + 2);
        cr_assert_eq(ts, 10 * (i + 1));
    }
    cr_assert_eq(br_log_offset_for_time(log, 591, &off, &ts), SM_OK);
    cr_assert_eq(off, 119); /* the batch's second record, not its base offset 118 */
    cr_assert_eq(ts, 591);
    cr_assert_eq(br_log_offset_for_time(log, 592, &off, &ts), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

/* Appends the batch o describes; returns br_log_append's result. */
static sm_err_t append_opts(br_log_t *log, const fx_batch_opts_t *o)
{
    size_t len;
    uint8_t *b = fx_batch_new(o, &len);
    br_batch_set_t set;
    br_log_append_info_t info;
    sm_err_t err;

    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
    err = br_log_append(log, b, &set, 7, 0, &info);
    br_batch_set_deinit(&set);
    free(b);
    return err;
}

/* Three uncompressed batches of 5 records: offsets 0-4 at ts 100-104, 5-9 at 200-204,
 * 10-14 at 300-304 (the fixture's records are 1 ms apart). */
static br_log_t *open_three_batches(void)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);

    for (int i = 1; i <= 3; i++)
        cr_assert_eq(append_batch(log, NULL, 5, 20, 100 * i, 0, NULL), SM_OK);
    return log;
}

Test(log, finds_the_first_record_at_or_after_a_time_inside_a_batch)
{
    br_log_t *log = open_three_batches();
    int64_t off = -1;
    int64_t ts = -1;

    cr_assert_eq(br_log_offset_for_time(log, 203, &off, &ts), SM_OK);
    cr_assert_eq(off, 8);
    cr_assert_eq(ts, 203);
    cr_assert_eq(br_log_offset_for_time(log, 150, &off, &ts), SM_OK); /* between batches */
    cr_assert_eq(off, 5);
    cr_assert_eq(ts, 200);
    cr_assert_eq(br_log_offset_for_time(log, 304, &off, &ts), SM_OK); /* the last record */
    cr_assert_eq(off, 14);
    cr_assert_eq(ts, 304);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, finds_a_record_whose_timestamp_equals_the_target)
{
    br_log_t *log = open_three_batches();
    int64_t off = -1;
    int64_t ts = -1;

    for (int64_t k = 0; k < 5; k++) {
        cr_assert_eq(br_log_offset_for_time(log, 300 + k, &off, &ts), SM_OK);
        cr_assert_eq(off, 10 + k);
        cr_assert_eq(ts, 300 + k);
    }
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, answers_the_first_record_for_a_time_before_all_and_none_after_all)
{
    br_log_t *log = open_three_batches();
    int64_t off = -1;
    int64_t ts = -1;

    cr_assert_eq(br_log_offset_for_time(log, -5, &off, &ts), SM_OK);
    cr_assert_eq(off, 0);
    cr_assert_eq(ts, 100);
    cr_assert_eq(br_log_offset_for_time(log, 305, &off, &ts), SM_ERR_NOT_FOUND);
    cr_assert_eq(ts, -1);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, time_search_skips_records_below_the_log_start)
{
    br_log_t *log = open_three_batches();
    int64_t off = -1;
    int64_t ts = -1;

    cr_assert_eq(br_log_set_log_start_offset(log, 7), SM_OK);
    cr_assert_eq(br_log_offset_for_time(log, 201, &off, &ts), SM_OK);
    cr_assert_eq(off, 7);
    cr_assert_eq(ts, 202);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, log_append_time_batches_give_every_record_the_max_timestamp)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    fx_batch_opts_t o = {.records = 5, .value_len = 20, .fill = 'v'};
    int64_t off = -1;
    int64_t ts = -1;

    o.attributes = BR_BATCH_ATTR_LOG_APPEND_TIME;
    o.base_ts = 1000; /* maxTimestamp 1004: every record's timestamp */
    cr_assert_eq(append_opts(log, &o), SM_OK);
    o.base_ts = 2000;
    cr_assert_eq(append_opts(log, &o), SM_OK);
    cr_assert_eq(br_log_offset_for_time(log, 1003, &off, &ts), SM_OK);
    cr_assert_eq(off, 0);
    cr_assert_eq(ts, 1004);
    cr_assert_eq(br_log_offset_for_time(log, 1005, &off, &ts), SM_OK);
    cr_assert_eq(off, 5);
    cr_assert_eq(ts, 2004);
    cr_assert_eq(br_log_offset_for_time(log, 2005, &off, &ts), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, a_compressed_batch_that_does_not_decompress_answers_its_base_offset)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    fx_batch_opts_t o = {.records = 5, .value_len = 20, .fill = 'v', .attributes = 1};
    int64_t off = -1;
    int64_t ts = 0;

    /* The fixture's "compressed" records are opaque bytes, not a gzip stream. */
    o.base_ts = 100;
    cr_assert_eq(append_opts(log, &o), SM_OK);
    o.base_ts = 200;
    cr_assert_eq(append_opts(log, &o), SM_OK);
    cr_assert_eq(br_log_offset_for_time(log, 203, &off, &ts), SM_OK);
    cr_assert_eq(off, 5);
    cr_assert_eq(ts, -1);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

/* Appends a batch of 5 records (timestamps base_ts .. base_ts + 4) whose records section is
 * compressed with codec: the header's codec bits, length and CRC (attributes .. end) match. */
static void append_compressed(br_log_t *log, int codec, int64_t base_ts)
{
    fx_batch_opts_t o = {.records = 5, .value_len = 20, .base_ts = base_ts, .fill = 'v'};
    size_t plen, zlen;
    uint8_t *plain = fx_batch_new(&o, &plen);
    uint8_t *z =
        compress_of(codec, plain + BR_BATCH_HEADER_SIZE, plen - BR_BATCH_HEADER_SIZE, &zlen);
    size_t len = BR_BATCH_HEADER_SIZE + zlen;
    uint8_t *b = malloc(len);
    br_batch_set_t set;
    br_log_append_info_t info;

    memcpy(b, plain, BR_BATCH_HEADER_SIZE);
    memcpy(b + BR_BATCH_HEADER_SIZE, z, zlen);
    fx_put_be(b + BR_BATCH_OFF_LENGTH, len - BR_BATCH_LOG_OVERHEAD, 4);
    fx_put_be(b + BR_BATCH_OFF_ATTRIBUTES, (uint64_t)codec, 2);
    fx_fix_crc(b, len);
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
    cr_assert_eq(br_log_append(log, b, &set, 7, 0, &info), SM_OK);
    br_batch_set_deinit(&set);
    free(b);
    free(z);
    free(plain);
}

Test(log, finds_the_record_inside_a_compressed_batch_for_every_codec)
{
    for (int codec = 1; codec <= 4; codec++) {
        br_log_config_t cfg = test_cfg();
        br_log_t *log;
        int64_t off = -1;
        int64_t ts = -1;

        fx_rmtree(dir);
        log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
        append_compressed(log, codec, 100); /* offsets 0-4 */
        append_compressed(log, codec, 200); /* offsets 5-9 */
        cr_assert_eq(br_log_offset_for_time(log, 203, &off, &ts), SM_OK, "codec %d", codec);
        cr_assert_eq(off, 8, "codec %d: the 4th record, not the batch's base offset 5", codec);
        cr_assert_eq(ts, 203);
        cr_assert_eq(br_log_offset_for_time(log, 150, &off, &ts), SM_OK);
        cr_assert_eq(off, 5, "codec %d", codec);
        cr_assert_eq(ts, 200);
        cr_assert_eq(br_log_set_log_start_offset(log, 2), SM_OK);
        cr_assert_eq(br_log_offset_for_time(log, 100, &off, &ts), SM_OK);
        cr_assert_eq(off, 2, "codec %d: not below the log start", codec);
        cr_assert_eq(ts, 102);
        cr_assert_eq(br_log_close(log, true), SM_OK);
    }
}

/* ---- reopen ------------------------------------------------------------------------------- */

Test(log, a_clean_reopen_keeps_everything_and_trusts_the_indexes)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);

    for (int i = 0; i < 120; i++)
        cr_assert_eq(append_batch(log, &m, 1 + i % 4, (size_t)(i * 13 % 300), i, 0, NULL), SM_OK);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    log = open_log(br_fileops_posix(), &cfg, true, 0, 0, 0);
    cr_assert_eq(br_log_recovery_point(log), br_log_end_offset(log));
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(append_batch(log, &m, 2, 50, 0, 0, NULL), SM_OK);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, removes_index_files_without_a_segment)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    char path[1024];
    FILE *f;

    br_log_close(log, true);
    snprintf(path, sizeof(path), "%s/00000000000000000777.index", dir);
    f = fopen(path, "w");
    fclose(f);
    log = open_log(br_fileops_posix(), &cfg, true, 0, 0, 0);
    cr_assert_eq(fx_file_size(path), -1);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

/* Copies every file of src into dst (created). */
static void copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *de;

    cr_assert_not_null(d);
    mkdir(dst, 0755);
    while ((de = readdir(d)) != NULL) {
        char from[1024];
        char to[1024];
        int64_t size;
        int in;
        int out;
        uint8_t *buf;

        if (de->d_name[0] == '.')
            continue;
        snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst, de->d_name);
        size = fx_file_size(from);
        in = open(from, O_RDONLY);
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        buf = size > 0 ? fx_pread_all(in, 0, (size_t)size) : NULL;
        if (size > 0)
            cr_assert_eq(write(out, buf, (size_t)size), size);
        free(buf);
        close(in);
        close(out);
    }
    closedir(d);
}

Test(log, crash_recovery_keeps_exactly_the_longest_valid_prefix)
{
    br_log_config_t cfg = test_cfg();
    model_t m = {0};
    char master[600];
    int64_t seg_base[64];
    size_t nseg;
    size_t batch_seg[128];
    uint64_t batch_end[128]; /* end position of each batch inside its segment */
    br_log_t *log;

    cfg.segment_bytes = 2048;
    cfg.index_interval_bytes = 128;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    for (int i = 0; i < 80; i++)
        cr_assert_eq(
            append_batch(log, &m, 1 + (int32_t)(rnd() % 5), (size_t)(rnd() % 200), i, 0, NULL),
            SM_OK);
    nseg = br_log_segment_count(log);
    cr_assert_gt(nseg, 5);
    for (size_t i = 0; i < nseg; i++)
        seg_base[i] = br_log_segment_base(log, i);
    for (size_t k = 0, s = 0; k < m.n; k++) {
        while (s + 1 < nseg && seg_base[s + 1] <= m.b[k].base)
            s++;
        batch_seg[k] = s;
        batch_end[k] = (k > 0 && batch_seg[k - 1] == s ? batch_end[k - 1] : 0) + m.b[k].len;
    }
    br_log_close(log, false);
    snprintf(master, sizeof(master), "%s/master", root);
    cr_assert_eq(rename(dir, master), 0);

    for (int trial = 0; trial < 150; trial++) {
        size_t k = (size_t)(rnd() % nseg);
        char path[1024];
        int64_t size;
        int64_t cut;
        size_t garbage = rnd() % 2 ? 1 + (size_t)(rnd() % 300) : 0;
        model_t want = {0};
        int64_t want_end;
        int64_t rp;
        br_log_append_info_t info;

        fx_rmtree(dir);
        copy_dir(master, dir);
        snprintf(path, sizeof(path), "%s/%020lld.log", dir, (long long)seg_base[k]);
        size = fx_file_size(path);
        cut = (int64_t)(rnd() % (uint64_t)(size + 1));
        if (trial % 10 == 0)
            cut = size; /* whole segment, maybe garbage after it */
        cr_assert_eq(truncate(path, cut), 0);
        if (garbage > 0) {
            int fd = open(path, O_WRONLY | O_APPEND);
            uint8_t junk[300];

            for (size_t j = 0; j < garbage; j++)
                junk[j] = (uint8_t)rnd();
            cr_assert_eq(write(fd, junk, garbage), (ssize_t)garbage);
            close(fd);
        }
        for (size_t j = 0; j < m.n; j++) {
            bool keep = batch_seg[j] < k || (batch_seg[j] == k && batch_end[j] <= (uint64_t)cut) ||
                        (cut == size && garbage == 0);

            if (!keep)
                break;
            model_push(&want, m.b[j].bytes, m.b[j].len, m.b[j].base, m.b[j].last);
        }
        want_end = want.n < m.n ? m.b[want.n].base : model_end(&m, 0);
        rp = (int64_t)(rnd() % (uint64_t)(want_end + 1));
        log = open_log(br_fileops_posix(), &cfg, false, rp, 0, 0);
        cr_assert_eq(br_log_end_offset(log), want_end, "trial %d: segment %zu cut %lld+%zu", trial,
                     k, (long long)cut, garbage);
        verify_log(log, &want, false);
        verify_lookups(log, &want);
        cr_assert_eq(append_batch(log, NULL, 2, 10, 0, 0, &info), SM_OK);
        cr_assert_eq(info.first_offset, want_end);
        cr_assert_eq(br_log_close(log, true), SM_OK);
        log = open_log(br_fileops_posix(), &cfg, true, 0, 0, 0);
        cr_assert_eq(br_log_end_offset(log), want_end + 2);
        cr_assert_eq(br_log_close(log, true), SM_OK);
        model_free(&want);
    }
    model_free(&m);
}

/* ---- flushing ----------------------------------------------------------------------------- */

Test(log, does_not_fsync_on_append_by_default)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;

    fx_faults_init(&f, 0, EIO);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, NULL), SM_OK);
    cr_assert_eq(f.fsyncs, 0);
    cr_assert_eq(br_log_recovery_point(log), 0);
    cr_assert_not(br_log_flush_due(log, 1000000));
    cr_assert_eq(br_log_flush(log, 0), SM_OK);
    cr_assert_gt(f.fsyncs, 0);
    cr_assert_eq(br_log_recovery_point(log), 10);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, flush_messages_1_fsyncs_before_the_append_returns)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;

    cfg.flush_interval_messages = 1;
    fx_faults_init(&f, 0, EIO);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    for (int i = 0; i < 10; i++) {
        int before = f.fsyncs;

        cr_assert_eq(append_batch(log, NULL, 2, 10, 0, 0, NULL), SM_OK);
        cr_assert_gt(f.fsyncs, before);
        cr_assert_eq(br_log_recovery_point(log), br_log_end_offset(log));
    }
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, flush_interval_ms_makes_a_flush_due)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log;

    cfg.flush_interval_ms = 500;
    log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 1000);
    cr_assert_not(br_log_flush_due(log, 5000), "nothing to flush");
    cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 1100, NULL), SM_OK);
    cr_assert_not(br_log_flush_due(log, 1499));
    cr_assert(br_log_flush_due(log, 1500));
    cr_assert_eq(br_log_flush(log, 1500), SM_OK);
    cr_assert_not(br_log_flush_due(log, 1600));
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, a_split_flush_advances_the_recovery_point_to_its_target)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    br_log_flush_job_t *job = NULL;

    for (int i = 0; i < 40; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 200, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    cr_assert_not_null(job);
    cr_assert_eq(br_log_flush_job_target(job), 40);
    /* 3 files for each of the segments, and the directory. */
    cr_assert_eq(br_log_flush_job_fd_count(job), 3 * br_log_segment_count(log) + 1);
    for (size_t i = 0; i < br_log_flush_job_fd_count(job); i++)
        cr_assert_geq(br_log_flush_job_fd(job, i), 0);
    cr_assert_eq(append_batch(log, NULL, 1, 200, 0, 0, NULL), SM_OK); /* meanwhile */
    cr_assert_eq(br_log_flush_job_run(job), SM_OK);
    cr_assert_eq(br_log_flush_done(log, job), SM_OK);
    cr_assert_eq(br_log_recovery_point(log), 40);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    cr_assert_eq(br_log_flush_job_fd_count(job), 3, "only the active segment is unflushed");
    br_log_flush_job_run(job);
    cr_assert_eq(br_log_flush_done(log, job), SM_OK);
    cr_assert_eq(br_log_recovery_point(log), 41);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    cr_assert_null(job, "nothing left to flush");
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, a_flush_that_raced_a_truncation_does_not_move_the_recovery_point)
{
    br_log_config_t cfg = test_cfg();
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    br_log_flush_job_t *job = NULL;

    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 20, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    cr_assert_eq(br_log_truncate_to(log, 5), SM_OK);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 20, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_flush_job_run(job), SM_OK);
    cr_assert_eq(br_log_flush_done(log, job), SM_OK);
    cr_assert_eq(br_log_recovery_point(log), 0);
    br_log_flush_job_free(NULL);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    br_log_flush_job_free(job); /* abandoned: changes nothing */
    cr_assert_eq(br_log_recovery_point(log), 0);
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

Test(log, a_flush_writes_the_buffered_index_entries_before_its_fsync)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;
    char ipath[1024];
    int64_t flushed_size;
    int steps;

    cfg.segment_bytes = 1 << 20;
    fx_faults_init(&f, 0, EIO);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    snprintf(ipath, sizeof(ipath), "%s/00000000000000000000.index", dir);
    steps = f.steps;
    for (int i = 0; i < 40; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 300, i, 0, NULL), SM_OK);
    cr_assert_eq(f.steps, steps + 40, "one .log write an append, index entries wait");
    cr_assert_eq(fx_file_size(ipath), 0);
    cr_assert_eq(br_log_flush(log, 0), SM_OK);
    flushed_size = fx_file_size(ipath);
    cr_assert_eq(flushed_size, 39 * 8, "every batch but the first has an offset entry");
    /* A clean close adds only the final time entry: the offset index was complete. */
    cr_assert_eq(br_log_close(log, true), SM_OK);
    cr_assert_eq(fx_file_size(ipath), flushed_size);
}

Test(log, a_failed_index_write_at_flush_fails_the_log)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;

    cfg.segment_bytes = 1 << 20;
    fx_faults_init(&f, 0, ENOSPC);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, NULL, 1, 300, i, 0, NULL), SM_OK);
    f.fail_at = f.steps + 1; /* the first step of the flush: the .index write */
    cr_assert_eq(br_log_flush(log, 0), SM_ERR_NOSPC);
    cr_assert_eq(f.fsyncs, 0, "nothing fsynced past a failed index write");
    cr_assert(br_log_is_failed(log));
    cr_assert_eq(br_log_recovery_point(log), 0);
    cr_assert_eq(br_log_close(log, true), SM_ERR_NOSPC);
}

Test(log, a_failed_fsync_fails_the_log)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;
    br_log_flush_job_t *job = NULL;

    fx_faults_init(&f, 0, EIO);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    cr_assert_eq(append_batch(log, NULL, 1, 20, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    f.fail_at = f.steps + 2;
    cr_assert_eq(br_log_flush_job_run(job), SM_ERR_IO);
    cr_assert_not(br_log_is_failed(log), "the flusher thread touches no log state");
    cr_assert_eq(br_log_flush_done(log, job), SM_ERR_IO);
    cr_assert(br_log_is_failed(log));
    cr_assert_eq(br_log_recovery_point(log), 0);
    cr_assert_eq(br_log_close(log, true), SM_ERR_IO);
}

/* ---- disk errors -------------------------------------------------------------------------- */

Test(log, a_failed_log_does_not_affect_another)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *bad;
    br_log_t *good;
    char other[600];
    br_log_t *tmp = NULL;
    sm_errbuf_t eb;
    br_log_slice_t s;

    fx_faults_init(&f, 0, ENOSPC);
    f.sticky = true;
    bad = open_log(&f.ops, &cfg, false, 0, 0, 0);
    snprintf(other, sizeof(other), "%s/orders-1", root);
    cr_assert_eq(br_log_open(br_fileops_posix(), other, &cfg, false, 0, 0, 0, &tmp, &eb), SM_OK);
    good = tmp;
    f.fail_at = f.steps + 1;
    cr_assert_eq(append_batch(bad, NULL, 1, 20, 0, 0, NULL), SM_ERR_NOSPC);
    cr_assert(br_log_is_failed(bad));
    cr_assert_eq(br_log_error(bad), SM_ERR_NOSPC);
    cr_assert_eq(br_batch_kafka_error(br_log_error(bad)), BR_BATCH_KERR_KAFKA_STORAGE_ERROR);
    cr_assert_eq(br_log_read(bad, 0, 100, BR_LOG_NO_BOUND, &s), SM_ERR_NOSPC);
    cr_assert_eq(br_log_truncate_to(bad, 0), SM_ERR_NOSPC);
    cr_assert_eq(br_log_delete_old_segments(bad, 0, 0, NULL), SM_ERR_NOSPC);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(good, NULL, 1, 20, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_close(bad, true), SM_ERR_NOSPC);
    cr_assert_eq(br_log_close(good, true), SM_OK);
}

Test(log, a_short_write_is_cut_back_and_never_acknowledged)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;
    char path[1024];
    int64_t before;

    fx_faults_init(&f, 0, EIO);
    f.short_write = true;
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    cr_assert_eq(append_batch(log, NULL, 3, 100, 0, 0, NULL), SM_OK);
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    before = fx_file_size(path);
    f.fail_at = f.steps + 1; /* the next pwrite writes half, the retry fails */
    cr_assert_eq(append_batch(log, NULL, 3, 100, 0, 0, NULL), SM_ERR_IO);
    cr_assert(f.fired);
    cr_assert_eq(fx_file_size(path), before, "the half-written batch was cut away");
    cr_assert_eq(br_log_end_offset(log), 3);
    cr_assert_eq(br_log_close(log, true), SM_ERR_IO);
}

Test(log, a_flush_out_of_file_descriptors_is_retried_later)
{
    br_log_config_t cfg = test_cfg();
    fx_faults_t f;
    br_log_t *log;
    br_log_flush_job_t *job = NULL;

    fx_faults_init(&f, 0, EMFILE);
    log = open_log(&f.ops, &cfg, false, 0, 0, 0);
    cr_assert_eq(append_batch(log, NULL, 1, 100, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_roll(log, 0), SM_OK);
    cr_assert(br_log_flush_due(log, 0));
    f.fail_at = f.steps + 1;
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_ERR_AGAIN);
    cr_assert_null(job);
    cr_assert_not(br_log_is_failed(log));
    cr_assert(br_log_flush_due(log, 0), "still due");
    cr_assert_eq(br_log_flush_begin(log, 0, &job), SM_OK);
    cr_assert_eq(br_log_flush_job_run(job), SM_OK);
    cr_assert_eq(br_log_flush_done(log, job), SM_OK);
    cr_assert_eq(br_log_recovery_point(log), 1);
    cr_assert_not(br_log_flush_due(log, 0));
    cr_assert_eq(br_log_close(log, true), SM_OK);
}

typedef enum op_kind { OP_APPEND, OP_FLUSH, OP_TRUNCATE, OP_RETENTION, OP_ROLL } op_kind_t;

/* A fixed sequence of operations that exercises every write path: appends with rolls, a
 * flush, a truncation, retention and a forced roll. Returns the first error (and which
 * operation gave it) or SM_OK. */
static sm_err_t run_ops(br_log_t *log, model_t *m, op_kind_t *failed_op)
{
    static const op_kind_t ops[] = {OP_APPEND,    OP_APPEND, OP_APPEND,   OP_APPEND, OP_FLUSH,
                                    OP_APPEND,    OP_APPEND, OP_TRUNCATE, OP_APPEND, OP_APPEND,
                                    OP_RETENTION, OP_APPEND, OP_ROLL,     OP_APPEND, OP_FLUSH};
    sm_err_t err = SM_OK;

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && err == SM_OK; i++) {
        *failed_op = ops[i];
        switch (ops[i]) {
        case OP_APPEND:
            err =
                append_batch(log, m, 1 + (int32_t)(i % 3), 150 + 40 * (i % 4), (int64_t)i, 0, NULL);
            break;
        case OP_FLUSH:
            err = br_log_flush(log, 0);
            break;
        case OP_TRUNCATE: {
            int64_t to = m->b[m->n - 2].base + 1;

            model_truncate(m, to); /* asked for: the data may or may not be gone on error */
            err = br_log_truncate_to(log, to);
            break;
        }
        case OP_RETENTION:
            err = br_log_delete_old_segments(log, 0, br_log_end_offset(log), NULL);
            break;
        case OP_ROLL:
            err = br_log_roll(log, 0);
            break;
        }
    }
    return err;
}

static void inject_at_every_step(int errnum, bool sticky, bool short_write)
{
    br_log_config_t cfg = test_cfg();
    sm_err_t want = errnum == ENOSPC ? SM_ERR_NOSPC : SM_ERR_IO;
    int step;

    cfg.segment_bytes = 1200;
    cfg.index_interval_bytes = 100;
    cfg.retention_bytes = 2500;
    for (step = 1; step < 5000; step++) {
        fx_faults_t f;
        model_t m = {0};
        br_log_t *log;
        op_kind_t op = OP_APPEND;
        sm_err_t err;
        int64_t lso;
        br_log_slice_t s;

        fx_rmtree(dir);
        fx_faults_init(&f, 0, errnum);
        f.sticky = sticky;
        f.short_write = short_write;
        log = open_log(&f.ops, &cfg, false, 0, 0, 0);
        for (int i = 0; i < 6; i++)
            cr_assert_eq(append_batch(log, &m, 2, 200, i, 0, NULL), SM_OK);
        f.fail_at = f.steps + step;
        err = run_ops(log, &m, &op);
        lso = br_log_start_offset(log);
        if (!f.fired) {
            /* Past the operations: the fault may hit the clean close (seal and flush). */
            cr_assert_eq(err, SM_OK);
            err = br_log_close(log, true);
            if (!f.fired) {
                cr_assert_eq(err, SM_OK);
                model_free(&m);
                break;
            }
            cr_assert_eq(err, want, "close, step %d: %d", step, err);
        } else {
            cr_assert_eq(err, want, "step %d op %d: %d", step, op, err);
            cr_assert(br_log_is_failed(log), "step %d", step);
            cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, NULL), want);
            cr_assert_eq(br_log_read(log, lso, 100, BR_LOG_NO_BOUND, &s), want);
            cr_assert_neq(br_log_close(log, true), SM_OK);
        }

        /* Everything acknowledged is still there after an unclean reopen. */
        log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
        if (op != OP_RETENTION)
            cr_assert_leq(br_log_start_offset(log), lso, "step %d", step);
        verify_log(log, &m, true);
        cr_assert_eq(append_batch(log, NULL, 1, 10, 0, 0, NULL), SM_OK);
        cr_assert_eq(br_log_close(log, true), SM_OK);
        model_free(&m);
    }
    cr_assert_gt(step, 40, "the scenario has many write steps");
    cr_assert_lt(step, 5000);
}

Test(log, survives_eio_at_every_write_step)
{
    inject_at_every_step(EIO, false, false);
}

Test(log, survives_a_full_disk_at_every_write_step)
{
    inject_at_every_step(ENOSPC, true, false);
}

Test(log, survives_short_writes_at_every_write_step)
{
    inject_at_every_step(ENOSPC, false, true);
}

Test(log, survives_a_dead_disk_at_every_write_step)
{
    inject_at_every_step(EIO, true, true);
}
