/*
 * test_log_writer: br_log with a writer thread (br_log.h note 5) -- appends written on the
 * calling thread unless offloaded or behind the writer; offloaded appends unseen until
 * written, also across rolls; reads stop before the first unwritten append; truncation and a
 * clean close wait for the writer; retention removes written segments without waiting; a
 * failed write on the writer fails the log. (test_log covers everything else of br_log; the
 * two share log_fixture.h.)
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/br_flusher.h"
#include "log_fixture.h"

TestSuite(log, .init = log_fx_setup, .fini = log_fx_teardown, .timeout = 120);

typedef struct writer_fx {
    struct event_base *base;
    br_flusher_t *w;
    int written; /* on_written calls */
} writer_fx_t;

static void count_written(void *ctx)
{
    ((writer_fx_t *)ctx)->written++;
}

static br_log_config_t writer_cfg(writer_fx_t *wf, const br_fileops_t *ops)
{
    br_log_config_t cfg = test_cfg();

    memset(wf, 0, sizeof(*wf));
    wf->base = event_base_new();
    cr_assert_not_null(wf->base);
    cr_assert_eq(br_flusher_new(wf->base, ops, &wf->w, NULL), SM_OK);
    cfg.writer = wf->w;
    cfg.on_written = count_written;
    cfg.on_written_ctx = wf;
    return cfg;
}

/* A new log whose every append goes to the writer (br_log_set_offload). */
static br_log_t *open_offloaded(const br_fileops_t *ops, const br_log_config_t *cfg)
{
    br_log_t *log = open_log(ops, cfg, false, 0, 0, 0);

    br_log_set_offload(log, true);
    return log;
}

static void writer_fx_free(writer_fx_t *wf)
{
    br_flusher_free(wf->w);
    event_base_free(wf->base);
}

Test(log, appends_are_written_here_unless_offloaded_or_behind_the_writer)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    model_t m = {0};

    cr_assert_eq(append_batch(log, &m, 5, 100, 0, 0, NULL), SM_OK);
    cr_assert_eq(br_log_unwritten(log), 0, "not offloaded: written on the calling thread");
    cr_assert_eq(br_log_end_offset(log), 5, "and seen at once");
    br_log_set_offload(log, true);
    cr_assert_eq(append_batch(log, &m, 5, 100, 1, 0, NULL), SM_OK);
    cr_assert_eq(br_log_unwritten(log), 1, "offloaded: handed to the writer");
    cr_assert_eq(br_log_end_offset(log), 5);
    br_log_set_offload(log, false);
    cr_assert_eq(append_batch(log, &m, 5, 100, 2, 0, NULL), SM_OK);
    cr_assert_eq(br_log_unwritten(log), 2, "behind an unwritten append: the writer, in order");
    cr_assert_eq(br_log_end_offset(log), 5);
    br_log_drain(log);
    cr_assert_eq(wf.written, 2, "on_written for the writer's appends only");
    cr_assert_eq(br_log_end_offset(log), 15);
    cr_assert_eq(append_batch(log, &m, 5, 100, 3, 0, NULL), SM_OK);
    cr_assert_eq(br_log_unwritten(log), 0, "nothing left with the writer: here again");
    cr_assert_eq(br_log_end_offset(log), 20);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
    writer_fx_free(&wf);
}

Test(log, appends_with_a_writer_are_seen_only_once_written)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log = open_offloaded(br_fileops_posix(), &cfg);
    br_log_append_info_t info;
    br_log_slice_t s;
    model_t m = {0};

    for (int i = 0; i < 3; i++) {
        cr_assert_eq(append_batch(log, &m, 5, 100, i, 0, &info), SM_OK);
        cr_assert_eq(info.first_offset, 5 * i, "offsets are given at once");
    }
    /* Completions run only on the loop: nothing is visible before one runs. */
    cr_assert_eq(br_log_unwritten(log), 3);
    cr_assert_eq(br_log_end_offset(log), 0);
    cr_assert_eq(br_log_read(log, 0, 1 << 20, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.len, 0, "no byte of an unwritten append is handed out");
    cr_assert_eq(wf.written, 0);

    br_log_drain(log);
    cr_assert_eq(br_log_unwritten(log), 0);
    cr_assert_eq(wf.written, 3);
    cr_assert_eq(br_log_end_offset(log), 15);
    verify_log(log, &m, false);
    verify_lookups(log, &m);

    /* Many more, across rolls (4 KiB segments), with the loop driving the completions. */
    for (int i = 0; i < 60; i++)
        cr_assert_eq(append_batch(log, &m, 3, 200, i, 0, NULL), SM_OK);
    cr_assert_gt(br_log_segment_count(log), 2, "rolled while appends were unwritten");
    for (int guard = 0; guard < 1000 && br_log_unwritten(log) > 0; guard++)
        event_base_loop(wf.base, EVLOOP_ONCE);
    cr_assert_eq(br_log_unwritten(log), 0);
    cr_assert_eq(wf.written, 63);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
    writer_fx_free(&wf);
}

Test(log, a_readable_prefix_stops_before_the_first_unwritten_append)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log = open_offloaded(br_fileops_posix(), &cfg);
    br_log_slice_t s;
    model_t m = {0};

    cr_assert_eq(append_batch(log, &m, 4, 100, 0, 0, NULL), SM_OK);
    br_log_drain(log);
    cr_assert_eq(append_batch(log, &m, 4, 100, 1, 0, NULL), SM_OK);
    cr_assert_eq(br_log_end_offset(log), 4);
    cr_assert_eq(br_log_read(log, 0, 1 << 20, BR_LOG_NO_BOUND, &s), SM_OK);
    cr_assert_eq(s.len, m.b[0].len, "only the written batch");
    cr_assert_eq(s.next_offset, 4);
    cr_assert_eq(br_log_read(log, 5, 1, BR_LOG_NO_BOUND, &s), SM_ERR_RANGE,
                 "an unwritten offset is past the end readers see");
    br_log_drain(log);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
    writer_fx_free(&wf);
}

Test(log, truncation_and_a_clean_close_wait_for_the_writer)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log = open_offloaded(br_fileops_posix(), &cfg);
    model_t m = {0};

    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, &m, 2, 100, i, 0, NULL), SM_OK);
    cr_assert_eq(br_log_truncate_to(log, 11), SM_OK);
    cr_assert_eq(br_log_unwritten(log), 0, "truncation drained the writer");
    model_truncate(&m, 11);
    cr_assert_eq(br_log_end_offset(log), 10);
    verify_log(log, &m, false);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(append_batch(log, &m, 2, 100, i, 0, NULL), SM_OK);
    cr_assert_eq(br_log_close(log, true), SM_OK, "a clean close writes what is queued");
    writer_fx_free(&wf);

    /* Reopened without a writer, trusting the indexes: every append is there. */
    br_log_config_t plain = test_cfg();
    log = open_log(br_fileops_posix(), &plain, true, 30, 0, 0);
    cr_assert_eq(br_log_end_offset(log), 30);
    verify_log(log, &m, false);
    verify_lookups(log, &m);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
}

Test(log, a_failed_write_on_the_writer_fails_the_log)
{
    writer_fx_t wf;
    fx_faults_t f;
    br_log_config_t cfg;
    br_log_t *log;
    br_log_slice_t s;

    fx_faults_init(&f, 0, ENOSPC);
    cfg = writer_cfg(&wf, &f.ops);
    log = open_offloaded(&f.ops, &cfg);
    cr_assert_eq(append_batch(log, NULL, 2, 100, 0, 0, NULL), SM_OK);
    br_log_drain(log);
    f.fail_at = f.steps + 1; /* the writer's pwrite of the next append */
    cr_assert_eq(append_batch(log, NULL, 2, 100, 1, 0, NULL), SM_OK, "queued: not failed yet");
    br_log_drain(log);
    cr_assert(br_log_is_failed(log));
    cr_assert_eq(wf.written, 2, "the failure is reported too");
    cr_assert_eq(br_log_read(log, 0, 1 << 20, BR_LOG_NO_BOUND, &s), SM_ERR_NOSPC);
    cr_assert_eq(append_batch(log, NULL, 2, 100, 2, 0, NULL), SM_ERR_NOSPC);
    cr_assert_eq(br_log_close(log, true), SM_ERR_NOSPC);
    writer_fx_free(&wf);
}

Test(log, retention_removes_written_segments_without_waiting_for_the_writer)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log;
    model_t m = {0};
    size_t deleted = 0;

    cfg.retention_bytes = 4096;
    log = open_offloaded(br_fileops_posix(), &cfg);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(append_batch(log, &m, 3, 200, i, 0, NULL), SM_OK);
    br_log_drain(log);
    int64_t written = br_log_end_offset(log);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(append_batch(log, &m, 3, 200, i, 0, NULL), SM_OK);
    cr_assert_gt(br_log_unwritten(log), 0);
    /* An upper bound past the written end is held to it. */
    cr_assert_eq(br_log_delete_old_segments(log, 0, BR_LOG_NO_BOUND, &deleted), SM_OK);
    cr_assert_gt(deleted, 0);
    cr_assert_gt(br_log_unwritten(log), 0, "retention did not wait for the writer");
    cr_assert_leq(br_log_start_offset(log), written, "no unwritten segment was deleted");
    br_log_drain(log);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    model_free(&m);
    writer_fx_free(&wf);
}

static sm_err_t slow_work(void *arg, sm_errbuf_t *eb)
{
    (void)arg;
    (void)eb;
    usleep(100 * 1000);
    return SM_OK;
}

/* br_log_release_unused truncates a sealed segment to its own size on the writer. Were a
 * truncation of the log to run while that job waits, the job would then put the old size back
 * (zeros where the cut was) or cut what was appended since: so the truncation drains it first,
 * even with no append unwritten. */
Test(log, a_truncation_waits_for_a_give_back_of_reserved_blocks)
{
    writer_fx_t wf;
    br_log_config_t cfg = writer_cfg(&wf, br_fileops_posix());
    br_log_t *log = open_log(br_fileops_posix(), &cfg, false, 0, 0, 0);
    model_t m = {0};
    char p[700];
    struct stat st;
    int fd;

    /* Rolled early (as for segment.ms), so most of the segment is unused. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(append_batch(log, &m, 2, 100, i, 0, NULL), SM_OK);
    cr_assert_eq(br_log_roll(log, 0), SM_OK);
    cr_assert_eq(append_batch(log, &m, 2, 100, 3, 0, NULL), SM_OK);
    cr_assert_eq(br_log_segment_count(log), 2);
    cr_assert_eq(br_log_unwritten(log), 0);
    snprintf(p, sizeof(p), "%s/%020d.log", br_log_dir(log), 0);
    fd = open(p, O_RDWR);
    cr_assert_geq(fd, 0);
    (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536); /* a reservation, where it can be made */
    close(fd);
    cr_assert_eq(br_flusher_call(wf.w, slow_work, NULL, NULL), SM_OK);
    br_log_release_unused(log, 0);
    cr_assert_eq(br_log_truncate_to(log, 5), SM_OK);
    cr_assert_eq(br_flusher_pending(wf.w), 0, "the truncation drained the give-back first");
    model_truncate(&m, 5);
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, br_log_size_bytes(log), "the file is cut where the log is");
    verify_log(log, &m, false);
    cr_assert_eq(append_batch(log, &m, 2, 100, 50, 0, NULL), SM_OK);
    verify_log(log, &m, false);
    cr_assert_eq(br_log_close(log, true), SM_OK);
    writer_fx_free(&wf);
    model_free(&m);
}
