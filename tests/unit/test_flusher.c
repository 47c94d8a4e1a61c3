/*
 * test_flusher: the storage helper thread: fsync jobs, directory removal, generic calls,
 * completions delivered to the loop thread in order, and clean shutdown with queued jobs.
 */
#include "broker/br_flusher.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
    snprintf(dir, sizeof(dir), "/tmp/test_flusher.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(flusher, .init = setup, .fini = teardown);

/* ---- counting fileops: fsyncs are counted, one may fail ------------------------------------- */

typedef struct counting {
    atomic_int fsyncs;
    atomic_int fail_fsync_fd; /* fsync of this fd number fails with EIO; -1 none */
    const br_fileops_t *real;
} counting_t;

static int c_open(void *ctx, const char *p, int flags, mode_t mode)
{
    return ((counting_t *)ctx)->real->open(NULL, p, flags, mode);
}

static int c_close(void *ctx, int fd)
{
    return ((counting_t *)ctx)->real->close(NULL, fd);
}

static ssize_t c_pwrite(void *ctx, int fd, const void *b, size_t n, off_t o)
{
    return ((counting_t *)ctx)->real->pwrite(NULL, fd, b, n, o);
}

static ssize_t c_pread(void *ctx, int fd, void *b, size_t n, off_t o)
{
    return ((counting_t *)ctx)->real->pread(NULL, fd, b, n, o);
}

static int c_fsync(void *ctx, int fd)
{
    counting_t *c = ctx;
    struct stat a;
    struct stat b;

    atomic_fetch_add(&c->fsyncs, 1);
    /* The flusher fsyncs a dup; compare the file, not the descriptor number. */
    if (atomic_load(&c->fail_fsync_fd) >= 0 && fstat(fd, &a) == 0 &&
        fstat(atomic_load(&c->fail_fsync_fd), &b) == 0 && a.st_ino == b.st_ino) {
        errno = EIO;
        return -1;
    }
    return c->real->fsync(NULL, fd);
}

static int c_ftruncate(void *ctx, int fd, off_t n)
{
    return ((counting_t *)ctx)->real->ftruncate(NULL, fd, n);
}

static int c_rename(void *ctx, const char *a, const char *b)
{
    return ((counting_t *)ctx)->real->rename(NULL, a, b);
}

static int c_unlink(void *ctx, const char *p)
{
    return ((counting_t *)ctx)->real->unlink(NULL, p);
}

static int c_mkdir(void *ctx, const char *p, mode_t m)
{
    return ((counting_t *)ctx)->real->mkdir(NULL, p, m);
}

static br_fileops_t counting_ops(counting_t *c)
{
    br_fileops_t ops = {c,       c_open,      c_close,  c_pwrite, c_pread,
                        c_fsync, c_ftruncate, c_rename, c_unlink, c_mkdir};

    c->real = br_fileops_posix();
    atomic_store(&c->fail_fsync_fd, -1);
    return ops;
}

/* ---- completion recorder --------------------------------------------------------------------- */

#define MAX_DONE 256

typedef struct recorder {
    pthread_t loop_thread;
    int order[MAX_DONE];
    sm_err_t errs[MAX_DONE];
    char msgs[4][128];
    int n;
    int off_loop; /* completions that ran on another thread */
} recorder_t;

typedef struct ticket {
    recorder_t *rec;
    int id;
} ticket_t;

static void on_done(void *arg, sm_err_t err, const char *msg)
{
    ticket_t *t = arg;
    recorder_t *r = t->rec;

    if (!pthread_equal(pthread_self(), r->loop_thread))
        r->off_loop++;
    if (r->n < 4)
        snprintf(r->msgs[r->n], sizeof(r->msgs[0]), "%s", msg);
    r->order[r->n] = t->id;
    r->errs[r->n] = err;
    r->n++;
}

/* Runs the loop until `want` completions arrived, at most ~5 s. */
static void loop_until(struct event_base *base, recorder_t *r, int want)
{
    for (int i = 0; i < 5000 && r->n < want; i++) {
        struct timeval tv = {0, 1000};

        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    cr_assert_eq(r->n, want, "got %d completions, want %d", r->n, want);
}

static int make_file(const char *name)
{
    char p[400];
    int fd;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "hello", 5), 5);
    return fd;
}

/* A job that waits until the test opens the gate, so that later jobs queue up behind it. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int open;
    int ran_on_loop;
    pthread_t loop_thread;
} gate_t;

/* The work and the completion share one argument: the ticket comes first, so on_done reads
 * it as a ticket_t. */
typedef struct gate_job {
    ticket_t t;
    gate_t *g;
} gate_job_t;

static sm_err_t gate_work(void *arg, sm_errbuf_t *eb)
{
    gate_t *g = ((gate_job_t *)arg)->g;

    (void)eb;
    if (pthread_equal(pthread_self(), g->loop_thread))
        g->ran_on_loop = 1;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return SM_OK;
}

static void gate_open(gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
}

static sm_err_t slow_work(void *arg, sm_errbuf_t *eb)
{
    struct timespec ts = {0, 2000000};

    (void)arg;
    (void)eb;
    nanosleep(&ts, NULL);
    return SM_OK;
}

static sm_err_t failing_work(void *arg, sm_errbuf_t *eb)
{
    (void)arg;
    return sm_errbuf_set(eb, SM_ERR_IO, "disk on fire");
}

Test(flusher, runs_fsync_jobs_and_posts_completions_to_loop_in_order)
{
    struct event_base *base = event_base_new();
    counting_t cnt;
    br_fileops_t ops = counting_ops(&cnt);
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t[20];
    gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, pthread_self()};
    gate_job_t gt = {{&rec, -1}, &g};
    int fds[2];

    atomic_store(&cnt.fsyncs, 0);
    cr_assert_eq(br_flusher_new(base, &ops, &f, NULL), SM_OK);
    fds[0] = make_file("a.log");
    fds[1] = make_file("a.index");
    cr_assert_eq(br_flusher_call(f, gate_work, on_done, &gt), SM_OK);
    for (int i = 0; i < 20; i++) {
        t[i].rec = &rec;
        t[i].id = i;
        cr_assert_eq(br_flusher_fsync(f, fds, 2, on_done, &t[i]), SM_OK);
    }
    /* The caller may close its descriptors at once: the jobs hold their own. */
    close(fds[0]);
    close(fds[1]);
    cr_assert_eq(br_flusher_pending(f), 21);
    gate_open(&g);
    loop_until(base, &rec, 21);
    cr_assert_eq(rec.order[0], -1);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(rec.order[i + 1], i, "completion %d was job %d", i + 1, rec.order[i + 1]);
        cr_assert_eq(rec.errs[i + 1], SM_OK);
    }
    cr_assert_eq(rec.off_loop, 0, "completions must run on the loop thread");
    cr_assert_eq(g.ran_on_loop, 0, "work must run on the flusher thread");
    cr_assert_eq(atomic_load(&cnt.fsyncs), 40);
    cr_assert_eq(br_flusher_pending(f), 0);
    br_flusher_free(f);
    event_base_free(base);
}

Test(flusher, fsync_failure_reaches_the_completion)
{
    struct event_base *base = event_base_new();
    counting_t cnt;
    br_fileops_t ops = counting_ops(&cnt);
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t = {&rec, 1};
    int fds[2];

    cr_assert_eq(br_flusher_new(base, &ops, &f, NULL), SM_OK);
    fds[0] = make_file("ok.log");
    fds[1] = make_file("bad.log");
    atomic_store(&cnt.fail_fsync_fd, fds[1]);
    cr_assert_eq(br_flusher_fsync(f, fds, 2, on_done, &t), SM_OK);
    loop_until(base, &rec, 1);
    cr_assert_eq(rec.errs[0], SM_ERR_IO);
    cr_assert_not_null(strstr(rec.msgs[0], "fsync"), "%s", rec.msgs[0]);
    close(fds[0]);
    close(fds[1]);
    br_flusher_free(f);
    event_base_free(base);
}

Test(flusher, call_job_reports_its_error)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t = {&rec, 7};

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    cr_assert_eq(br_flusher_call(f, failing_work, on_done, &t), SM_OK);
    loop_until(base, &rec, 1);
    cr_assert_eq(rec.errs[0], SM_ERR_IO);
    cr_assert_str_eq(rec.msgs[0], "disk on fire");
    br_flusher_free(f);
    event_base_free(base);
}

Test(flusher, removes_directory_tree_off_the_loop)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t = {&rec, 3};
    char p[400];
    struct stat st;

    snprintf(p, sizeof(p), "%s/orders-0.abc-delete", dir);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/orders-0.abc-delete/sub", dir);
    cr_assert_eq(mkdir(p, 0755), 0);
    close(make_file("orders-0.abc-delete/00000000000000000000.log"));
    close(make_file("orders-0.abc-delete/sub/x"));
    snprintf(p, sizeof(p), "%s/orders-0.abc-delete", dir);
    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    cr_assert_eq(br_flusher_remove_dir(f, p, on_done, &t), SM_OK);
    loop_until(base, &rec, 1);
    cr_assert_eq(rec.errs[0], SM_OK, "%s", rec.msgs[0]);
    cr_assert_neq(stat(p, &st), 0);
    /* Removing what is already gone is fine. */
    cr_assert_eq(br_flusher_remove_tree(br_fileops_posix(), p, NULL), SM_OK);
    br_flusher_free(f);
    event_base_free(base);
}

Test(flusher, clean_shutdown_runs_queued_jobs_and_their_completions_in_order)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t[30];

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    for (int i = 0; i < 30; i++) {
        t[i].rec = &rec;
        t[i].id = i;
        cr_assert_eq(br_flusher_call(f, slow_work, on_done, &t[i]), SM_OK);
    }
    /* No loop iteration: free must finish the queue and run every completion itself. */
    br_flusher_free(f);
    cr_assert_eq(rec.n, 30);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(rec.order[i], i);
    cr_assert_eq(rec.off_loop, 0);
    event_base_free(base);
}

Test(flusher, drain_waits_for_every_job)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL;
    recorder_t rec = {.loop_thread = pthread_self()};
    ticket_t t[10];

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    for (int i = 0; i < 10; i++) {
        t[i].rec = &rec;
        t[i].id = i;
        cr_assert_eq(br_flusher_call(f, slow_work, on_done, &t[i]), SM_OK);
    }
    br_flusher_drain(f);
    cr_assert_eq(rec.n, 10);
    cr_assert_eq(br_flusher_pending(f), 0);
    br_flusher_free(f);
    event_base_free(base);
}

Test(flusher, rejects_empty_fsync_and_bad_descriptor)
{
    struct event_base *base = event_base_new();
    br_flusher_t *f = NULL;
    int bad = 987654;

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &f, NULL), SM_OK);
    cr_assert_eq(br_flusher_fsync(f, &bad, 0, NULL, NULL), SM_ERR_INVALID);
    cr_assert_eq(br_flusher_fsync(f, &bad, 1, NULL, NULL), SM_ERR_IO);
    cr_assert_eq(br_flusher_pending(f), 0);
    br_flusher_free(f);
    event_base_free(base);
}
