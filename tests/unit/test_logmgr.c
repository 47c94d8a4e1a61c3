/*
 * test_logmgr: the log manager: meta.properties checks, the directory lock, placement, dir
 * name parsing, deletion, clean and unclean starts, checkpoints, the epoch cache hook,
 * flushing through the flusher, retention, and failed directories.
 */
#include "broker/br_logmgr.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "broker/br_checkpoint.h"
#include "sm_buf.h"

static char root[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/test_logmgr.XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
    nftw(root, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

TestSuite(logmgr, .init = setup, .fini = teardown);

static int64_t now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

static char dirbuf[4][300];
static const char *dirs[4];

static void make_dirs(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(dirbuf[i], sizeof(dirbuf[i]), "%s/d%zu", root, i);
        dirs[i] = dirbuf[i];
    }
}

static br_logmgr_config_t config(size_t ndirs, int32_t broker_id, const char *cluster_id)
{
    br_logmgr_config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    make_dirs(ndirs);
    cfg.dirs = dirs;
    cfg.ndirs = ndirs;
    cfg.broker_id = broker_id;
    cfg.cluster_id = cluster_id;
    br_log_config_defaults(&cfg.log);
    cfg.log.segment_bytes = 64 * 1024;
    return cfg;
}

static br_logmgr_t *open_ok(const br_logmgr_config_t *cfg)
{
    br_logmgr_t *m = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_logmgr_open(cfg, now_ms(), &m, &eb), SM_OK, "%s", eb.msg);
    cr_assert_not_null(m);
    return m;
}

static void close_ok(br_logmgr_t *m, bool clean)
{
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_logmgr_close(m, clean, now_ms(), &eb), SM_OK, "%s", eb.msg);
}

static br_log_t *create_ok(br_logmgr_t *m, const char *topic, int32_t p)
{
    br_log_t *log = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_logmgr_create(m, topic, p, now_ms(), &log, &eb), SM_OK, "%s", eb.msg);
    cr_assert_not_null(log);
    return log;
}

/* A manager on one dir with a flusher thread whose completions run on base. */
typedef struct with_flusher {
    struct event_base *base;
    br_flusher_t *f;
    br_logmgr_t *m;
} with_flusher_t;

static void flusher_open(with_flusher_t *w)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);

    w->base = event_base_new();
    w->f = NULL;
    cr_assert_eq(br_flusher_new(w->base, br_fileops_posix(), &w->f, NULL), SM_OK);
    cfg.flusher = w->f;
    w->m = open_ok(&cfg);
}

static void flusher_close(with_flusher_t *w)
{
    close_ok(w->m, true);
    br_flusher_free(w->f);
    event_base_free(w->base);
}

/* Whether dir/name exists. */
static bool exists(const char *dir, const char *name)
{
    char p[600];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void put_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    cr_assert_not_null(fp, "%s", path);
    fputs(text, fp);
    fclose(fp);
}

/* A valid magic-2 batch of n records with `vlen`-byte values (offsets from 0), built with the
 * writer like any other wire bytes. Returns its length; buf must hold it. */
static size_t build_batch(uint8_t *buf, int n, size_t vlen, int64_t ts)
{
    uint8_t value[256];
    sm_writer_t w;
    sm_writer_t rec;
    size_t crc_pos;
    size_t len;

    cr_assert_leq(vlen, sizeof(value));
    memset(value, 'v', vlen);
    sm_writer_init(&w, 4096);
    sm_writer_init(&rec, 512);
    sm_writer_i64(&w, 0);  /* baseOffset */
    sm_writer_i32(&w, 0);  /* batchLength, patched */
    sm_writer_i32(&w, -1); /* partitionLeaderEpoch */
    sm_writer_i8(&w, BR_BATCH_MAGIC);
    crc_pos = sm_writer_reserve(&w, 4);
    sm_writer_i16(&w, 0);
    sm_writer_i32(&w, n - 1); /* lastOffsetDelta */
    sm_writer_i64(&w, ts);
    sm_writer_i64(&w, ts);
    sm_writer_i64(&w, -1); /* producerId */
    sm_writer_i16(&w, -1);
    sm_writer_i32(&w, -1);
    sm_writer_i32(&w, n);
    for (int i = 0; i < n; i++) {
        sm_writer_reset(&rec);
        sm_writer_i8(&rec, 0);
        sm_writer_varlong(&rec, 0);
        sm_writer_varint(&rec, i);
        sm_writer_varint(&rec, -1);
        sm_writer_varint(&rec, (int32_t)vlen);
        sm_writer_raw(&rec, value, vlen);
        sm_writer_varint(&rec, 0);
        sm_writer_varint(&w, (int32_t)sm_writer_len(&rec));
        sm_writer_raw(&w, sm_writer_data(&rec), sm_writer_len(&rec));
    }
    sm_writer_patch_i32(&w, BR_BATCH_OFF_LENGTH,
                        (int32_t)(sm_writer_len(&w) - BR_BATCH_LOG_OVERHEAD));
    sm_writer_patch_u32(&w, crc_pos, br_batch_compute_crc(sm_writer_data(&w), sm_writer_len(&w)));
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    len = sm_writer_len(&w);
    memcpy(buf, sm_writer_data(&w), len);
    sm_writer_deinit(&w);
    sm_writer_deinit(&rec);
    return len;
}

/* Appends `count` batches of 10 records as leader in `epoch`. */
static void append_batches(br_log_t *log, int count, int32_t epoch, int64_t ts)
{
    uint8_t buf[4096];

    for (int i = 0; i < count; i++) {
        size_t len = build_batch(buf, 10, 50, ts);
        br_batch_limits_t lim = {0};
        br_batch_verdict_t v;
        br_batch_set_t set;

        br_batch_set_init(&set);
        cr_assert_eq(br_batch_validate_set(buf, len, &lim, &set, &v), SM_OK, "%s", v.reason);
        cr_assert_eq(br_log_append(log, buf, &set, epoch, now_ms(), NULL), SM_OK);
        br_batch_set_deinit(&set);
    }
}

/* ---- names ------------------------------------------------------------------------------------
 */

Test(logmgr, parses_partition_dir_names_at_the_last_dash)
{
    char topic[256];
    int32_t p = -1;

    cr_assert_eq(br_logmgr_parse_dir_name("orders-0", topic, sizeof(topic), &p), SM_OK);
    cr_assert_str_eq(topic, "orders");
    cr_assert_eq(p, 0);
    cr_assert_eq(br_logmgr_parse_dir_name("my-topic.v2-17", topic, sizeof(topic), &p), SM_OK);
    cr_assert_str_eq(topic, "my-topic.v2");
    cr_assert_eq(p, 17);
    cr_assert_eq(br_logmgr_parse_dir_name("a--3", topic, sizeof(topic), &p), SM_OK);
    cr_assert_str_eq(topic, "a-");
    cr_assert_eq(p, 3);
    cr_assert_eq(br_logmgr_parse_dir_name("__consumer_offsets-49", topic, sizeof(topic), &p),
                 SM_OK);
    cr_assert_eq(p, 49);
}

Test(logmgr, rejects_names_that_are_not_partition_dirs)
{
    static const char *const bad[] = {
        "orders",
        "orders-",
        "-0",
        "orders-x",
        "orders-+1",
        "orders-01",
        "orders-2147483648",
        "or ders-0",
        "orders-0.0123456789abcdef0123456789abcdef-delete",
        "orders-0.abc-future",
        "lost+found",
        "orders-0-stray",
    };
    char topic[256];
    int32_t p;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(br_logmgr_parse_dir_name(bad[i], topic, sizeof(topic), &p), SM_ERR_INVALID,
                     "%s parsed", bad[i]);
    /* A topic that does not fit the caller's buffer is refused, not cut. */
    cr_assert_eq(br_logmgr_parse_dir_name("abcdef-1", topic, 4, &p), SM_ERR_INVALID);
}

/* ---- meta.properties --------------------------------------------------------------------------
 */

Test(logmgr, first_start_writes_meta_properties_and_restart_accepts_it)
{
    br_logmgr_config_t cfg = config(2, 7, "clusterA");
    br_logmgr_t *m = open_ok(&cfg);
    char p[400];
    char *text = NULL;
    size_t len;

    close_ok(m, true);
    snprintf(p, sizeof(p), "%s/%s", dirs[1], BR_LOGMGR_META);
    cr_assert_eq(br_checkpoint_read_file(br_fileops_posix(), p, &text, &len, NULL), SM_OK);
    cr_assert_not_null(strstr(text, "version=0\n"), "%s", text);
    cr_assert_not_null(strstr(text, "broker.id=7\n"), "%s", text);
    cr_assert_not_null(strstr(text, "cluster.id=clusterA\n"), "%s", text);
    free(text);
    m = open_ok(&cfg);
    cr_assert_str_eq(br_logmgr_cluster_id(m), "clusterA");
    close_ok(m, false);
}

Test(logmgr, different_broker_id_is_one_line_error_naming_dir_and_both_ids)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    sm_errbuf_t eb = {{0}};

    close_ok(m, true);
    cfg.broker_id = 2;
    m = NULL;
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_CONFIG);
    cr_assert_null(m);
    cr_assert_not_null(strstr(eb.msg, dirs[0]), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "broker.id=1"), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "broker.id=2"), "%s", eb.msg);
    cr_assert_null(strchr(eb.msg, '\n'));
}

Test(logmgr, cluster_id_unknown_at_first_start_is_set_later_then_checked)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    sm_errbuf_t eb = {{0}};

    cr_assert_null(br_logmgr_cluster_id(m));
    cr_assert_eq(br_logmgr_set_cluster_id(m, "zkCluster", &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_logmgr_set_cluster_id(m, "other", &eb), SM_ERR_CONFIG);
    close_ok(m, true);
    /* Restarting without knowing it learns it from meta.properties. */
    m = open_ok(&cfg);
    cr_assert_str_eq(br_logmgr_cluster_id(m), "zkCluster");
    close_ok(m, true);
    cfg.cluster_id = "another";
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "cluster.id=zkCluster"), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "cluster.id=another"), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, dirs[0]), "%s", eb.msg);
}

Test(logmgr, dirs_disagreeing_on_cluster_id_are_refused)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = NULL;
    sm_errbuf_t eb = {{0}};
    char p[400];

    mkdir(dirs[0], 0755);
    mkdir(dirs[1], 0755);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_LOGMGR_META);
    put_file(p, "#c\nversion=0\nbroker.id=1\ncluster.id=one\n");
    snprintf(p, sizeof(p), "%s/%s", dirs[1], BR_LOGMGR_META);
    put_file(p, "version=0\nbroker.id=1\ncluster.id=two\n");
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, dirs[1]), "%s", eb.msg);
}

Test(logmgr, malformed_meta_properties_names_the_file)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = NULL;
    sm_errbuf_t eb = {{0}};
    char p[400];

    mkdir(dirs[0], 0755);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_LOGMGR_META);
    put_file(p, "version=0\nbroker.id=one\n");
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_CORRUPT);
    cr_assert_not_null(strstr(eb.msg, p), "%s", eb.msg);
    put_file(p, "version=1\nnode.id=1\n");
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_UNSUPPORTED);
}

/* ---- lock -------------------------------------------------------------------------------------
 */

Test(logmgr, lock_keeps_a_second_manager_out_of_the_dir)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    br_logmgr_t *m2 = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m2, &eb), SM_ERR_STATE);
    cr_assert_null(m2);
    cr_assert_not_null(strstr(eb.msg, "in use by another broker"), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, dirs[0]), "%s", eb.msg);
    close_ok(m, true);
    m2 = open_ok(&cfg);
    close_ok(m2, true);
}

/* ---- placement, loading, deletion -------------------------------------------------------------
 */

Test(logmgr, creates_each_log_in_the_dir_with_fewest_partitions)
{
    br_logmgr_config_t cfg = config(3, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    char topic[32];

    for (int i = 0; i < 6; i++) {
        snprintf(topic, sizeof(topic), "t%d", i);
        create_ok(m, topic, 0);
    }
    for (size_t d = 0; d < 3; d++)
        cr_assert_eq(br_logmgr_dir_partitions(m, d), 2);
    cr_assert(exists(dirs[0], "t0-0"));
    cr_assert(exists(dirs[1], "t1-0"));
    cr_assert(exists(dirs[2], "t2-0"));
    cr_assert_eq(br_logmgr_delete(m, "t4", 0, NULL), SM_OK);
    create_ok(m, "late", 0);
    cr_assert(exists(dirs[1], "late-0"));
    /* Creating an existing log returns it. */
    cr_assert_eq(create_ok(m, "late", 0), br_logmgr_get(m, "late", 0));
    cr_assert_eq(br_logmgr_count(m), 6);
    close_ok(m, true);
}

/* An overlay that sets retention.ms to *arg for the topic named "orders" only. */
static void overlay_orders(void *arg, const char *topic, br_log_config_t *cfg)
{
    if (strcmp(topic, "orders") == 0)
        cfg->retention_ms = *(const int64_t *)arg;
    cfg->max_message_bytes = 777; /* on every log it is asked about */
}

Test(logmgr, reconfigure_derives_a_topics_logs_from_the_defaults_and_leaves_other_topics)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    int64_t retention = 60000;

    create_ok(m, "orders", 0);
    create_ok(m, "orders", 1);
    create_ok(m, "other", 0);
    create_ok(m, "order", 3); /* sorts just before, and orders2 just after, the topic */
    create_ok(m, "orders2", 0);
    cr_expect_eq(br_logmgr_reconfigure(m, "orders", 1, overlay_orders, &retention), 1);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders", 1)), 777);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders", 0)), 0, "only partition 1");
    cr_expect_eq(br_logmgr_reconfigure(m, "orders", -1, overlay_orders, &retention), 2);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders", 0)), 777);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "other", 0)), 0);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "order", 3)), 0);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders2", 0)), 0);
    cr_expect_eq(br_logmgr_reconfigure(m, "orders", 2, overlay_orders, &retention), 0, "no such");
    /* Without an overlay every setting goes back to the manager's defaults. */
    cr_expect_eq(br_logmgr_reconfigure(m, "orders", -1, NULL, NULL), 2);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders", 0)), 0);
    /* An overlay that makes a log invalid leaves it as it was. */
    retention = -7;
    cr_expect_eq(br_logmgr_reconfigure(m, "orders", -1, overlay_orders, &retention), 0);
    cr_expect_eq(br_log_max_message_bytes(br_logmgr_get(m, "orders", 0)), 0);
    cr_expect_eq(br_logmgr_reconfigure(m, "missing", -1, overlay_orders, &retention), 0);
    close_ok(m, true);
}

Test(logmgr, loads_every_partition_dir_at_start)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    char p[400];
    const char *t;
    int32_t part;

    append_batches(create_ok(m, "my-topic.v2", 3), 2, 0, now_ms());
    create_ok(m, "a.b-c", 12);
    create_ok(m, "plain", 0);
    close_ok(m, true);
    snprintf(p, sizeof(p), "%s/not-a-partition-x", dirs[0]);
    mkdir(p, 0755);
    m = open_ok(&cfg);
    cr_assert_eq(br_logmgr_count(m), 3);
    br_logmgr_at(m, 0, &t, &part);
    cr_assert_str_eq(t, "a.b-c");
    cr_assert_eq(part, 12);
    cr_assert_not_null(br_logmgr_get(m, "my-topic.v2", 3));
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "my-topic.v2", 3)), 20);
    cr_assert_null(br_logmgr_get(m, "my-topic.v2", 4));
    close_ok(m, true);
}

Test(logmgr, deletion_renames_then_removes_without_flusher)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    sm_errbuf_t eb = {{0}};

    append_batches(create_ok(m, "gone", 0), 3, 0, now_ms());
    cr_assert_eq(br_logmgr_delete(m, "gone", 0, &eb), SM_OK, "%s", eb.msg);
    cr_assert_not(exists(dirs[0], "gone-0"));
    cr_assert_null(br_logmgr_get(m, "gone", 0));
    cr_assert_eq(br_logmgr_delete(m, "gone", 0, &eb), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_logmgr_dir_partitions(m, 0), 0);
    close_ok(m, true);
    /* Nothing named *-delete is left behind. */
    {
        char cmd[400];

        snprintf(cmd, sizeof(cmd), "ls %s | grep -q delete", dirs[0]);
        cr_assert_neq(system(cmd), 0);
    }
}

/* A flusher whose thread is held up, so the renamed directory can be seen before removal. */
typedef struct hold {
    int fds[2];
} hold_t;

static sm_err_t hold_work(void *arg, sm_errbuf_t *eb)
{
    hold_t *h = arg;
    char c;

    (void)eb;
    return read(h->fds[0], &c, 1) == 1 ? SM_OK : SM_ERR_IO;
}

Test(logmgr, deletion_renames_to_kafka_form_and_flusher_removes_it)
{
    with_flusher_t w;
    hold_t h;
    char cmd[600];

    cr_assert_eq(pipe(h.fds), 0);
    flusher_open(&w);
    append_batches(create_ok(w.m, "my.topic-x", 5), 2, 0, now_ms());
    cr_assert_eq(br_flusher_call(w.f, hold_work, NULL, &h), SM_OK);
    cr_assert_eq(br_logmgr_delete(w.m, "my.topic-x", 5, NULL), SM_OK);
    snprintf(cmd, sizeof(cmd), "ls %s | grep -Eq '^my\\.topic-x-5\\.[0-9a-f]{32}-delete$'",
             dirs[0]);
    cr_assert_eq(system(cmd), 0, "renamed directory not found");
    cr_assert_eq(write(h.fds[1], "x", 1), 1);
    br_flusher_drain(w.f);
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q delete", dirs[0]);
    cr_assert_neq(system(cmd), 0, "renamed directory not removed");
    flusher_close(&w);
    close(h.fds[0]);
    close(h.fds[1]);
}

Test(logmgr, delete_dirs_found_at_start_are_removed)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m;
    char p[400];

    mkdir(dirs[0], 0755);
    snprintf(p, sizeof(p), "%s/old-0.0123456789abcdef0123456789abcdef-delete", dirs[0]);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/old-0.0123456789abcdef0123456789abcdef-delete/x.log", dirs[0]);
    put_file(p, "junk");
    m = open_ok(&cfg);
    cr_assert_eq(br_logmgr_count(m), 0);
    cr_assert_not(exists(dirs[0], "old-0.0123456789abcdef0123456789abcdef-delete"));
    close_ok(m, true);
}

Test(logmgr, partition_in_two_dirs_is_refused)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    sm_errbuf_t eb = {{0}};
    char p[400];

    create_ok(m, "dup", 0); /* goes to d0 */
    close_ok(m, true);
    snprintf(p, sizeof(p), "%s/dup-0", dirs[1]);
    mkdir(p, 0755);
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_STATE);
    cr_assert_not_null(strstr(eb.msg, "dup-0"), "%s", eb.msg);
}

/* ---- clean and unclean starts ------------------------------------------------------------------
 */

static off_t file_size(const char *path)
{
    struct stat st;

    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return st.st_size;
}

Test(logmgr, clean_shutdown_leaves_marker_and_next_start_removes_it)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);

    append_batches(create_ok(m, "t", 0), 3, 0, now_ms());
    cr_assert_not(br_logmgr_dir_was_clean(m, 0));
    close_ok(m, true);
    cr_assert(exists(dirs[0], BR_LOGMGR_CLEAN_MARKER));
    cr_assert(exists(dirs[1], BR_LOGMGR_CLEAN_MARKER));
    m = open_ok(&cfg);
    cr_assert(br_logmgr_dir_was_clean(m, 0));
    cr_assert_not(exists(dirs[0], BR_LOGMGR_CLEAN_MARKER));
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "t", 0)), 30);
    /* A clean close flushed everything: the recovery point is the log end. */
    cr_assert_eq(br_log_recovery_point(br_logmgr_get(m, "t", 0)), 30);
    close_ok(m, false);
    cr_assert_not(exists(dirs[0], BR_LOGMGR_CLEAN_MARKER));
}

Test(logmgr, unclean_start_recovers_and_cuts_a_torn_tail)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    char seg[400];
    off_t good;
    FILE *fp;

    append_batches(create_ok(m, "t", 0), 5, 0, now_ms());
    snprintf(seg, sizeof(seg), "%s/t-0/00000000000000000000.log", dirs[0]);
    close_ok(m, false); /* a crash: no marker */
    good = file_size(seg);
    fp = fopen(seg, "a");
    cr_assert_not_null(fp);
    /* A batch header claiming 64 bytes, of which only a few made it. */
    cr_assert_eq(fwrite("\0\0\0\0\0\0\0\x32\0\0\0\x40torn batch", 1, 22, fp), 22);
    fclose(fp);
    cr_assert_gt(file_size(seg), good);
    m = open_ok(&cfg);
    cr_assert_not(br_logmgr_dir_was_clean(m, 0));
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "t", 0)), 50);
    cr_assert_eq(file_size(seg), good, "recovery did not cut the torn tail");
    close_ok(m, true);
}

/* ---- checkpoints --------------------------------------------------------------------------------
 */

Test(logmgr, checkpoints_are_written_and_reloaded)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    br_checkpoint_t *cp = NULL;
    br_log_t *log;
    sm_errbuf_t eb = {{0}};
    char p[400];
    int64_t v;

    log = create_ok(m, "orders", 2);
    append_batches(log, 4, 0, now_ms());
    cr_assert_eq(br_log_flush(log, now_ms()), SM_OK);
    append_batches(log, 1, 0, now_ms()); /* not flushed: recovery point stays at 40 */
    cr_assert_eq(br_log_set_log_start_offset(log, 15), SM_OK);
    cr_assert_eq(br_logmgr_set_high_watermark(m, "orders", 2, 33), SM_OK);
    cr_assert_eq(br_logmgr_set_high_watermark(m, "orders", 9, 1), SM_ERR_NOT_FOUND);
    cr_assert_eq(br_logmgr_checkpoint(m, BR_LOGMGR_CKPT_ALL, &eb), SM_OK, "%s", eb.msg);

    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_CHECKPOINT_REPLICATION);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), p, &cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_get(cp, "orders", 2, &v), SM_OK);
    cr_assert_eq(v, 33);
    br_checkpoint_free(cp);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_CHECKPOINT_RECOVERY);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), p, &cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_get(cp, "orders", 2, &v), SM_OK);
    cr_assert_eq(v, 40);
    br_checkpoint_free(cp);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_CHECKPOINT_LOG_START);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), p, &cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_get(cp, "orders", 2, &v), SM_OK);
    cr_assert_eq(v, 15);
    br_checkpoint_free(cp);

    close_ok(m, false);
    m = open_ok(&cfg);
    log = br_logmgr_get(m, "orders", 2);
    cr_assert_not_null(log);
    cr_assert_eq(br_logmgr_high_watermark(m, "orders", 2), 33);
    cr_assert_eq(br_log_start_offset(log), 15);
    cr_assert_eq(br_log_recovery_point(log), 40);
    cr_assert_eq(br_log_end_offset(log), 50);
    close_ok(m, true);
}

Test(logmgr, malformed_checkpoint_means_full_recovery_not_failure)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    char p[400];

    append_batches(create_ok(m, "t", 0), 2, 0, now_ms());
    close_ok(m, false);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_CHECKPOINT_RECOVERY);
    put_file(p, "0\n5\ngarbage\n");
    m = open_ok(&cfg);
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "t", 0)), 20);
    close_ok(m, true);
}

/* ---- epochs ------------------------------------------------------------------------------------
 */

Test(logmgr, appends_feed_the_leader_epoch_cache_which_persists)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    br_log_t *log = create_ok(m, "t", 0);
    br_epoch_t *ep;
    int32_t e;
    int64_t s;

    append_batches(log, 2, 3, now_ms());
    append_batches(log, 1, 5, now_ms());
    ep = br_logmgr_epochs(m, "t", 0);
    cr_assert_not_null(ep);
    cr_assert_eq(br_epoch_count(ep), 2);
    br_epoch_at(ep, 1, &e, &s);
    cr_assert_eq(e, 5);
    cr_assert_eq(s, 20);
    close_ok(m, false);
    m = open_ok(&cfg);
    ep = br_logmgr_epochs(m, "t", 0);
    cr_assert_eq(br_epoch_latest(ep), 5);
    cr_assert_eq(br_epoch_latest_start(ep), 20);
    close_ok(m, true);
}

Test(logmgr, epoch_cache_is_truncated_to_recovered_log_end)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    br_log_t *log = create_ok(m, "t", 0);
    char seg[400];

    append_batches(log, 2, 1, now_ms());
    append_batches(log, 2, 2, now_ms());
    close_ok(m, false);
    /* Lose the last two batches (epoch 2) as an unflushed crash could. */
    snprintf(seg, sizeof(seg), "%s/t-0/00000000000000000000.log", dirs[0]);
    cr_assert_eq(truncate(seg, file_size(seg) / 2), 0);
    m = open_ok(&cfg);
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "t", 0)), 20);
    cr_assert_eq(br_epoch_latest(br_logmgr_epochs(m, "t", 0)), 1);
    close_ok(m, true);
}

Test(logmgr, corrupt_epoch_file_is_rebuilt_from_the_log)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    char p[400];

    int32_t e;
    int64_t s;

    append_batches(create_ok(m, "t", 0), 1, 4, now_ms());
    cr_assert_eq(br_log_flush(br_logmgr_get(m, "t", 0), now_ms()), SM_OK);
    append_batches(br_logmgr_get(m, "t", 0), 1, 6, now_ms());
    cr_assert_eq(br_logmgr_checkpoint(m, BR_LOGMGR_CKPT_ALL, NULL), SM_OK);
    close_ok(m, false);
    /* The recovery rescans from offset 10 only (epoch 6); epoch 4 must come back too. */
    snprintf(p, sizeof(p), "%s/t-0/%s", dirs[0], BR_EPOCH_CHECKPOINT);
    put_file(p, "0\n1\nnonsense\n");
    m = open_ok(&cfg);
    cr_assert_eq(br_epoch_count(br_logmgr_epochs(m, "t", 0)), 2);
    br_epoch_at(br_logmgr_epochs(m, "t", 0), 0, &e, &s);
    cr_assert_eq(e, 4);
    cr_assert_eq(s, 0);
    cr_assert_eq(br_epoch_latest(br_logmgr_epochs(m, "t", 0)), 6);
    cr_assert_eq(br_epoch_latest_start(br_logmgr_epochs(m, "t", 0)), 10);
    close_ok(m, true);
}

/* ---- flushing and retention ----------------------------------------------------------------- */

Test(logmgr, flush_runs_on_the_flusher_and_moves_recovery_point)
{
    with_flusher_t w;
    br_log_t *log;
    size_t started = 0;

    flusher_open(&w);
    log = create_ok(w.m, "t", 0);
    append_batches(log, 3, 0, now_ms());
    cr_assert_eq(br_log_recovery_point(log), 0);
    cr_assert_eq(br_logmgr_flush(w.m, now_ms(), false, &started), SM_OK);
    cr_assert_eq(started, 0, "nothing is due with infinite flush intervals");
    cr_assert_eq(br_logmgr_flush(w.m, now_ms(), true, &started), SM_OK);
    cr_assert_eq(started, 1);
    /* A second request while one is out starts nothing. */
    cr_assert_eq(br_logmgr_flush(w.m, now_ms(), true, &started), SM_OK);
    cr_assert_eq(started, 0);
    for (int i = 0; i < 2000 && br_log_recovery_point(log) != 30; i++) {
        struct timeval tv = {0, 2000};

        event_base_loopexit(w.base, &tv);
        event_base_dispatch(w.base);
    }
    cr_assert_eq(br_log_recovery_point(log), 30);
    flusher_close(&w);
}

/* Appends batches until the log holds at least `bytes`. */
static void append_until(br_log_t *log, uint64_t bytes)
{
    while (br_log_size_bytes(log) < bytes)
        append_batches(log, 1, 0, now_ms());
}

Test(logmgr, writeback_starts_once_enough_whole_pages_were_appended)
{
    with_flusher_t w;
    br_log_t *log;
    size_t started = 99;

    flusher_open(&w);
    log = create_ok(w.m, "t", 0);
    append_until(log, 7000);
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 0, "under two pages: the page being appended to is left alone");
    append_until(log, 17000); /* pages 0-3 whole: 0-2 may start */
    cr_assert_eq(br_logmgr_writeback(w.m, 4 * 4096, &started), SM_OK);
    cr_assert_eq(started, 0, "three pages are below a four-page threshold");
    cr_assert_eq(br_logmgr_writeback(w.m, 3 * 4096, &started), SM_OK);
    cr_assert_eq(started, 1, "three pages reach a three-page threshold");
    br_flusher_drain(w.f); /* one start at a time per partition: let it complete */
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 0, "nothing appended since the last start");
    append_until(log, 21000);
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 1, "counted from the last start, not from zero");
    br_flusher_drain(w.f);
    cr_assert_eq(br_log_roll(log, now_ms()), SM_OK);
    append_until(log, br_log_size_bytes(log) + 9000);
    cr_assert_eq(br_logmgr_writeback(w.m, 4096, &started), SM_OK);
    cr_assert_eq(started, 1, "a new active segment is counted from its start");
    br_flusher_drain(w.f);
    cr_assert_eq(br_flusher_pending(w.f), 0);
    flusher_close(&w);
}

/* Appends are written on the loop unless a writeback start of their file is out on the
 * flusher: then they go to the partition's writer thread until it completes (br_log.h
 * note 5). Completions run only when drained here, so each state is held as long as needed. */
Test(logmgr, appends_go_to_the_writer_while_a_writeback_start_is_out)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL, *wr = NULL;
    br_logmgr_config_t cfg = config(1, 1, NULL);
    size_t started = 0;
    br_logmgr_t *m;
    br_log_t *log;

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &wr, NULL), SM_OK);
    cfg.flusher = f;
    cfg.writers = &wr;
    cfg.nwriters = 1;
    m = open_ok(&cfg);
    log = create_ok(m, "t", 0);
    append_until(log, 9000);
    cr_assert_eq(br_log_unwritten(log), 0, "no writeback out: written on the loop");
    cr_assert_eq(br_logmgr_writeback(m, 1, &started), SM_OK);
    cr_assert_eq(started, 1);
    append_batches(log, 1, 0, now_ms());
    cr_assert_eq(br_log_unwritten(log), 1, "with a writeback out, the writer writes it");
    append_until(log, 20000);
    cr_assert_eq(br_logmgr_writeback(m, 1, &started), SM_OK);
    cr_assert_eq(started, 0, "one writeback start at a time per partition");
    br_flusher_drain(wr);
    cr_assert_eq(br_log_unwritten(log), 0);
    append_batches(log, 1, 0, now_ms());
    cr_assert_eq(br_log_unwritten(log), 1, "still out: still the writer");
    br_flusher_drain(f);
    br_flusher_drain(wr);
    append_batches(log, 1, 0, now_ms());
    cr_assert_eq(br_log_unwritten(log), 0, "once it completed, on the loop again");
    cr_assert_eq(br_logmgr_writeback(m, 1, &started), SM_OK);
    cr_assert_eq(started, 1, "and the next start may go");

    /* A partition deleted while its writeback start is out lives until the start completes
     * (AddressSanitizer checks the completion's access). */
    cr_assert_eq(br_logmgr_delete(m, "t", 0, NULL), SM_OK);
    cr_assert_null(br_logmgr_get(m, "t", 0));
    br_flusher_drain(f);
    close_ok(m, true);
    br_flusher_free(wr);
    br_flusher_free(f);
    event_base_free(base);
}

Test(logmgr, writeback_without_a_flusher_does_nothing)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    size_t started = 99;

    append_batches(create_ok(m, "t", 0), 3, 0, now_ms());
    cr_assert_eq(br_logmgr_writeback(m, 1, &started), SM_OK);
    cr_assert_eq(started, 0);
    close_ok(m, true);
}

Test(logmgr, periodic_checkpoint_is_written_on_the_flusher)
{
    with_flusher_t w;
    br_checkpoint_t *cp = NULL;
    sm_errbuf_t eb = {{0}};
    char p[400];
    int64_t v;

    flusher_open(&w);
    (void)create_ok(w.m, "t", 0);
    cr_assert_eq(br_logmgr_set_high_watermark(w.m, "t", 0, 0), SM_OK);
    cr_assert_eq(br_logmgr_checkpoint_async(w.m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    /* Queued, not written yet: a second tick is skipped while it is out. */
    cr_assert_eq(br_logmgr_checkpoint_async(w.m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    br_flusher_drain(w.f);
    snprintf(p, sizeof(p), "%s/%s", dirs[0], BR_CHECKPOINT_REPLICATION);
    cr_assert_eq(br_checkpoint_read(br_fileops_posix(), p, &cp, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_checkpoint_get(cp, "t", 0, &v), SM_OK);
    cr_assert_eq(v, 0);
    br_checkpoint_free(cp);
    flusher_close(&w);
}

static int count_fsync(void *ctx, int fd)
{
    (*(int *)ctx)++;
    return fsync(fd);
}

/* The periodic (async) checkpoints write a file only when its map changed since it was last
 * written there, and fsync only a log-start map holding a log start above 0
 * (docs/storage.md, Checkpoints). */
Test(logmgr, periodic_checkpoints_skip_unchanged_maps_and_fsync_only_log_starts_above_zero)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    struct event_base *base = event_base_new();
    br_fileops_t ops = *br_fileops_posix();
    br_flusher_t *f = NULL;
    char hw_path[400], rp_path[400];
    br_logmgr_t *m;
    br_log_t *log;
    int fsyncs = 0, before;

    ops.ctx = &fsyncs;
    ops.fsync = count_fsync;
    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    cfg.ops = &ops;
    cfg.flusher = f;
    m = open_ok(&cfg);
    log = create_ok(m, "t", 0);
    snprintf(hw_path, sizeof(hw_path), "%s/%s", dirs[0], BR_CHECKPOINT_REPLICATION);
    snprintf(rp_path, sizeof(rp_path), "%s/%s", dirs[0], BR_CHECKPOINT_RECOVERY);

    cr_assert_eq(br_logmgr_set_high_watermark(m, "t", 0, 0), SM_OK);
    before = fsyncs;
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    br_flusher_drain(f);
    cr_assert(exists(dirs[0], BR_CHECKPOINT_REPLICATION));
    cr_assert_eq(fsyncs, before, "high watermarks are written without an fsync");
    cr_assert_eq(unlink(hw_path), 0);
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    br_flusher_drain(f);
    cr_assert_not(exists(dirs[0], BR_CHECKPOINT_REPLICATION), "unchanged: not written again");
    append_batches(log, 1, 0, now_ms());
    cr_assert_eq(br_logmgr_set_high_watermark(m, "t", 0, 10), SM_OK);
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    br_flusher_drain(f);
    cr_assert(exists(dirs[0], BR_CHECKPOINT_REPLICATION), "changed: written");

    /* Recovery points and log starts at 0: written, not fsynced; then skipped. */
    before = fsyncs;
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_RECOVERY | BR_LOGMGR_CKPT_LOG_START),
                 SM_OK);
    br_flusher_drain(f);
    cr_assert(exists(dirs[0], BR_CHECKPOINT_RECOVERY));
    cr_assert(exists(dirs[0], BR_CHECKPOINT_LOG_START));
    cr_assert_eq(fsyncs, before, "every log start at 0: no fsync");
    cr_assert_eq(unlink(rp_path), 0);
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_RECOVERY), SM_OK);
    br_flusher_drain(f);
    cr_assert_not(exists(dirs[0], BR_CHECKPOINT_RECOVERY), "unchanged: not written again");
    /* A log start moved forward (DeleteRecords): that write is fsynced. */
    cr_assert_eq(br_log_set_log_start_offset(log, 5), SM_OK);
    before = fsyncs;
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_RECOVERY | BR_LOGMGR_CKPT_LOG_START),
                 SM_OK);
    br_flusher_drain(f);
    cr_assert_gt(fsyncs, before, "a log start moved forward: fsynced");
    /* A new partition changes the map without moving a log start: with one above 0 in it,
     * that write is fsynced too, or a torn file after a power cut could lose the 5. */
    (void)create_ok(m, "u", 0);
    before = fsyncs; /* creating it fsyncs its directory */
    cr_assert_eq(br_logmgr_checkpoint_async(m, BR_LOGMGR_CKPT_LOG_START), SM_OK);
    br_flusher_drain(f);
    cr_assert_gt(fsyncs, before, "a map with a log start above 0: fsynced");
    close_ok(m, true);
    br_flusher_free(f);
    event_base_free(base);
}

/* A tick that finds the directory's checkpoint write still queued is not lost: its files are
 * written once that one completes. */
Test(logmgr, a_checkpoint_tick_meeting_a_queued_write_is_written_after_it)
{
    with_flusher_t w;
    hold_t h;

    cr_assert_eq(pipe(h.fds), 0);
    flusher_open(&w);
    (void)create_ok(w.m, "t", 0);
    cr_assert_not(exists(dirs[0], BR_CHECKPOINT_RECOVERY));
    cr_assert_eq(br_flusher_call(w.f, hold_work, NULL, &h), SM_OK);
    cr_assert_eq(br_logmgr_checkpoint_async(w.m, BR_LOGMGR_CKPT_REPLICATION), SM_OK);
    cr_assert_eq(br_logmgr_checkpoint_async(w.m, BR_LOGMGR_CKPT_RECOVERY), SM_OK);
    cr_assert_eq(write(h.fds[1], "x", 1), 1);
    br_flusher_drain(w.f); /* the queued write completes and queues the tick's */
    br_flusher_drain(w.f);
    cr_assert(exists(dirs[0], BR_CHECKPOINT_REPLICATION));
    cr_assert(exists(dirs[0], BR_CHECKPOINT_RECOVERY), "the second tick was written");
    flusher_close(&w);
    close(h.fds[0]);
    close(h.fds[1]);
}

Test(logmgr, delete_while_flush_is_out_is_safe)
{
    with_flusher_t w;
    hold_t h;

    cr_assert_eq(pipe(h.fds), 0);
    flusher_open(&w);
    append_batches(create_ok(w.m, "t", 0), 3, 0, now_ms());
    cr_assert_eq(br_flusher_call(w.f, hold_work, NULL, &h), SM_OK);
    cr_assert_eq(br_logmgr_flush(w.m, now_ms(), true, NULL), SM_OK);
    cr_assert_eq(br_logmgr_delete(w.m, "t", 0, NULL), SM_OK);
    cr_assert_eq(write(h.fds[1], "x", 1), 1);
    flusher_close(&w);
    close(h.fds[0]);
    close(h.fds[1]);
}

static int64_t bound_all(void *arg, const char *topic, int32_t partition, br_log_t *log)
{
    (void)arg;
    (void)topic;
    (void)partition;
    return br_log_end_offset(log);
}

Test(logmgr, retention_sweeps_every_log_up_to_the_callers_bound)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m;
    br_log_t *a;
    br_log_t *b;
    size_t deleted = 0;
    int64_t old = now_ms() - 3600 * 1000;

    cfg.log.segment_bytes = 1200; /* about two batches a segment */
    cfg.log.retention_ms = 60 * 1000;
    m = open_ok(&cfg);
    a = create_ok(m, "a", 0);
    b = create_ok(m, "b", 0);
    append_batches(a, 6, 1, old);
    append_batches(a, 1, 2, old);
    append_batches(b, 6, 1, old);
    cr_assert_gt(br_log_segment_count(a), 2);
    /* The HW bound: nothing at or past the HW goes. */
    cr_assert_eq(br_logmgr_set_high_watermark(m, "a", 0, 0), SM_OK);
    cr_assert_eq(br_logmgr_retention(m, now_ms(), NULL, NULL, &deleted), SM_OK);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(br_logmgr_retention(m, now_ms(), bound_all, NULL, &deleted), SM_OK);
    cr_assert_gt(deleted, 2);
    cr_assert_eq(br_log_start_offset(a), br_log_end_offset(a));
    cr_assert_eq(br_log_start_offset(b), br_log_end_offset(b));
    /* The epoch cache follows the log start. */
    cr_assert_eq(br_epoch_count(br_logmgr_epochs(m, "a", 0)), 1);
    close_ok(m, true);
}

/* ---- failures -----------------------------------------------------------------------------------
 */

Test(logmgr, unusable_dir_goes_offline_and_the_others_keep_working)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m;

    put_file(dirs[0], "i am a file, not a directory");
    m = open_ok(&cfg);
    cr_assert_not(br_logmgr_dir_online(m, 0));
    cr_assert(br_logmgr_dir_online(m, 1));
    create_ok(m, "t", 0);
    cr_assert(exists(dirs[1], "t-0"));
    close_ok(m, true);
}

Test(logmgr, no_usable_dir_is_an_error)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = NULL;
    sm_errbuf_t eb = {{0}};

    put_file(dirs[0], "file");
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &m, &eb), SM_ERR_IO);
    cr_assert_null(m);
}

Test(logmgr, failed_checkpoint_write_takes_only_that_dir_offline)
{
    br_logmgr_config_t cfg = config(2, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    sm_errbuf_t eb = {{0}};
    char p[400];

    create_ok(m, "a", 0); /* d0 */
    create_ok(m, "b", 0); /* d1 */
    snprintf(p, sizeof(p), "%s/%s.tmp", dirs[0], BR_CHECKPOINT_REPLICATION);
    cr_assert_eq(mkdir(p, 0755), 0);
    cr_assert_eq(br_logmgr_checkpoint(m, BR_LOGMGR_CKPT_ALL, &eb), SM_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, dirs[0]), "%s", eb.msg);
    cr_assert_not(br_logmgr_dir_online(m, 0));
    cr_assert_null(br_logmgr_get(m, "a", 0));
    cr_assert_not_null(br_logmgr_get(m, "b", 0));
    append_batches(br_logmgr_get(m, "b", 0), 1, 0, now_ms());
    cr_assert_eq(br_logmgr_checkpoint(m, BR_LOGMGR_CKPT_ALL, &eb), SM_OK, "%s", eb.msg);
    /* New logs go to the online dir. */
    create_ok(m, "c", 0);
    cr_assert(exists(dirs[1], "c-0"));
    close_ok(m, true);
    cr_assert_not(exists(dirs[0], BR_LOGMGR_CLEAN_MARKER));
    cr_assert(exists(dirs[1], BR_LOGMGR_CLEAN_MARKER));
}

Test(logmgr, rejects_bad_topic_names_on_create)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    br_logmgr_t *m = open_ok(&cfg);
    br_log_t *log = NULL;

    cr_assert_eq(br_logmgr_create(m, "bad/name", 0, now_ms(), &log, NULL), SM_ERR_INVALID);
    cr_assert_eq(br_logmgr_create(m, "", 0, now_ms(), &log, NULL), SM_ERR_INVALID);
    cr_assert_eq(br_logmgr_create(m, "ok", -1, now_ms(), &log, NULL), SM_ERR_INVALID);
    cr_assert_null(log);
    close_ok(m, true);
}

/* File operations that fail every open below paths containing `bad`, as a sick disk region
 * would; everything else goes to POSIX. */
typedef struct picky {
    const char *bad;
} picky_t;

static int picky_open(void *ctx, const char *path, int flags, mode_t mode)
{
    picky_t *p = ctx;

    if (strstr(path, p->bad) != NULL) {
        errno = EIO;
        return -1;
    }
    return br_fileops_posix()->open(NULL, path, flags, mode);
}

Test(logmgr, partition_that_fails_to_open_is_reported_and_the_rest_work)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);
    picky_t pk = {"/sick-0/"};
    br_fileops_t ops = *br_fileops_posix();
    br_logmgr_t *m = open_ok(&cfg);
    br_log_t *log = NULL;
    sm_errbuf_t eb = {{0}};

    append_batches(create_ok(m, "sick", 0), 2, 0, now_ms());
    append_batches(create_ok(m, "well", 0), 2, 0, now_ms());
    cr_assert_eq(br_log_flush(br_logmgr_get(m, "sick", 0), now_ms()), SM_OK);
    cr_assert_eq(br_logmgr_set_high_watermark(m, "sick", 0, 20), SM_OK);
    close_ok(m, true);

    ops.ctx = &pk;
    ops.open = picky_open;
    cfg.ops = &ops;
    m = open_ok(&cfg);
    cr_assert_eq(br_logmgr_count(m), 2);
    cr_assert_null(br_logmgr_get(m, "sick", 0));
    cr_assert_null(br_logmgr_epochs(m, "sick", 0));
    cr_assert_not_null(br_logmgr_get(m, "well", 0));
    cr_assert_eq(br_logmgr_create(m, "sick", 0, now_ms(), &log, &eb), SM_ERR_STATE);
    cr_assert_not_null(strstr(eb.msg, "sick-0"), "%s", eb.msg);
    append_batches(br_logmgr_get(m, "well", 0), 1, 0, now_ms());
    /* The failed partition keeps its offsets in the checkpoints. */
    cr_assert_eq(br_logmgr_checkpoint(m, BR_LOGMGR_CKPT_ALL, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_logmgr_high_watermark(m, "sick", 0), 20);
    /* A failed partition means no clean-shutdown marker. */
    cr_assert_neq(br_logmgr_close(m, true, now_ms(), &eb), SM_OK);
    cr_assert_not(exists(dirs[0], BR_LOGMGR_CLEAN_MARKER));
    cfg.ops = NULL;
    m = open_ok(&cfg);
    cr_assert_eq(br_logmgr_high_watermark(m, "sick", 0), 20);
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "sick", 0)), 20);
    cr_assert_eq(br_log_end_offset(br_logmgr_get(m, "well", 0)), 30);
    close_ok(m, true);
}

/* Whether the file system of `d` can reserve blocks past a file's end (fallocate with
 * FALLOC_FL_KEEP_SIZE) and has the room the broker asks for (64 KiB twice over and a tenth of
 * the disk free): where not, log.preallocate reserves nothing. */
static bool can_reserve(const char *d)
{
    char p[400];
    struct statvfs sv;
    int fd, r;

    cr_assert_eq(statvfs(d, &sv), 0);
    if ((uint64_t)sv.f_bavail * sv.f_frsize < 2 * 65536 + (uint64_t)sv.f_blocks * sv.f_frsize / 10)
        return false;

    snprintf(p, sizeof(p), "%s/probe", d);
    fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536);
    close(fd);
    unlink(p);
    return r == 0;
}

/* The size and allocated bytes of partition t-0's segment at `base`. */
static void seg_stat(int64_t base, off_t *size, off_t *allocated)
{
    char p[400];
    struct stat st;

    snprintf(p, sizeof(p), "%s/t-0/%020" PRId64 ".log", dirs[0], base);
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    *size = st.st_size;
    *allocated = (off_t)st.st_blocks * 512;
}

/* A log manager with a flusher and one writer thread, log.preallocate as given. */
typedef struct with_writer {
    struct event_base *base;
    br_flusher_t *f, *wr;
    br_logmgr_t *m;
} with_writer_t;

static void writer_open(with_writer_t *w, bool preallocate)
{
    br_logmgr_config_t cfg = config(1, 1, NULL);

    w->base = event_base_new();
    w->f = w->wr = NULL;
    cr_assert_eq(br_flusher_new(w->base, br_fileops_posix(), &w->f, NULL), SM_OK);
    cr_assert_eq(br_flusher_new(w->base, br_fileops_posix(), &w->wr, NULL), SM_OK);
    cfg.flusher = w->f;
    cfg.writers = &w->wr;
    cfg.nwriters = 1;
    cfg.preallocate = preallocate;
    w->m = open_ok(&cfg);
}

static void writer_close(with_writer_t *w)
{
    close_ok(w->m, true);
    br_flusher_free(w->wr);
    br_flusher_free(w->f);
    event_base_free(w->base);
}

static void reservation_run(bool preallocate)
{
    with_writer_t w;
    size_t started = 0;
    off_t size, allocated, sealed_size;
    int64_t second;
    bool reserves;
    br_log_t *log;

    writer_open(&w, preallocate);
    reserves = preallocate && can_reserve(dirs[0]);
    log = create_ok(w.m, "t", 0);
    append_until(log, 9000);
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 1);
    br_flusher_drain(w.f);
    br_flusher_drain(w.wr);
    seg_stat(0, &size, &allocated);
    cr_assert_eq((uint64_t)size, br_log_size_bytes(log), "the reservation keeps the file's size");
    if (reserves)
        cr_assert_geq(allocated, 64 * 1024, "segment.bytes reserved: %jd", (intmax_t)allocated);
    else
        cr_assert_lt(allocated, 64 * 1024, "nothing reserved: %jd", (intmax_t)allocated);

    cr_assert_eq(br_log_roll(log, now_ms()), SM_OK);
    second = br_log_end_offset(log);
    sealed_size = size;
    append_until(log, (uint64_t)sealed_size + 9000);
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 1);
    br_flusher_drain(w.f);
    br_flusher_drain(w.wr);
    seg_stat(0, &size, &allocated);
    cr_assert_eq(size, sealed_size, "the give-back keeps the sealed segment whole");
    cr_assert_lt(allocated, 64 * 1024, "the sealed segment's unused blocks were given back: %jd",
                 (intmax_t)allocated);
    seg_stat(second, &size, &allocated);
    if (reserves)
        cr_assert_geq(allocated, 64 * 1024, "the new segment reserved: %jd", (intmax_t)allocated);
    else
        cr_assert_lt(allocated, 64 * 1024, "nothing reserved: %jd", (intmax_t)allocated);
    /* Every record is still there, in both segments. */
    cr_assert_eq(br_log_start_offset(log), 0);
    cr_assert_eq(br_log_segment_count(log), 2);
    writer_close(&w);
}

/* log.preallocate: a segment's first writeback start reserves its blocks up to segment.bytes
 * (size kept), and once it is sealed, the next segment's start gives back what it did not use. */
Test(logmgr, preallocation_reserves_a_written_segment_and_gives_back_a_sealed_ones_rest)
{
    reservation_run(true);
}

Test(logmgr, without_preallocation_nothing_is_reserved)
{
    reservation_run(false);
}

/* A segment rolled for its size leaves less than a batch unused: its reservation stays, and
 * no give-back job holds the writer (br_log_release_unused). */
Test(logmgr, a_segment_rolled_for_its_size_keeps_its_reservation)
{
    with_writer_t w;
    size_t started = 0;
    off_t size, allocated;
    bool reserves;
    br_log_t *log;

    writer_open(&w, true);
    reserves = can_reserve(dirs[0]);
    log = create_ok(w.m, "t", 0);
    append_until(log, 9000);
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(started, 1);
    br_flusher_drain(w.f);
    while (br_log_segment_count(log) < 2)
        append_batches(log, 1, 0, now_ms());
    cr_assert_eq(br_logmgr_writeback(w.m, 1, &started), SM_OK);
    cr_assert_eq(br_flusher_pending(w.wr), 0, "no give-back job for a segment rolled for its size");
    br_flusher_drain(w.f);
    seg_stat(0, &size, &allocated);
    cr_assert_gt(size, 60 * 1024, "rolled for its size: %jd bytes", (intmax_t)size);
    if (reserves)
        cr_assert_geq(allocated, 64 * 1024, "its reservation stays: %jd", (intmax_t)allocated);
    writer_close(&w);
}
