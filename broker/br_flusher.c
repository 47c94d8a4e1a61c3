/*
 * br_flusher: the storage helper thread, its job queue and the completion queue back to the
 * loop. See br_flusher.h for the picture and the design notes.
 */
#include "broker/br_flusher.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_log.h"

typedef enum br_flusher_kind {
    BR_FLUSHER_FSYNC,
    BR_FLUSHER_RMDIR,
    BR_FLUSHER_CALL,
} br_flusher_kind_t;

typedef struct br_flusher_job {
    struct br_flusher_job *next;
    br_flusher_kind_t kind;
    int *fds; /* FSYNC: owned duplicates */
    size_t nfds;
    char *path; /* RMDIR */
    br_flusher_work_fn work;
    br_flusher_done_fn done;
    void *arg;
    sm_err_t err;
    sm_errbuf_t eb;
} br_flusher_job_t;

typedef struct br_flusher_queue {
    br_flusher_job_t *head;
    br_flusher_job_t *tail;
} br_flusher_queue_t;

struct br_flusher {
    const br_fileops_t *ops;
    struct event *ev;
    int efd;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;  /* guards jobs, done, busy, stopping */
    pthread_cond_t wake; /* jobs queued or stopping */
    pthread_cond_t idle; /* a job finished */
    br_flusher_queue_t jobs;
    br_flusher_queue_t done;
    int busy;
    int stopping;
    size_t submitted; /* loop thread only */
    size_t completed; /* loop thread only */
};

static void br_flusher_queue_push(br_flusher_queue_t *q, br_flusher_job_t *j)
{
    j->next = NULL;
    if (q->tail != NULL)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static br_flusher_job_t *br_flusher_queue_pop(br_flusher_queue_t *q)
{
    br_flusher_job_t *j = q->head;

    if (j != NULL) {
        q->head = j->next;
        if (q->head == NULL)
            q->tail = NULL;
        j->next = NULL;
    }
    return j;
}

static void br_flusher_job_free(const br_fileops_t *ops, br_flusher_job_t *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->nfds; i++)
        if (j->fds[i] >= 0)
            ops->close(ops->ctx, j->fds[i]);
    free(j->fds);
    free(j->path);
    free(j);
}

/* ---- flusher thread ------------------------------------------------------------------------ */

/* @thread flusher */
static sm_err_t br_flusher_run_fsync(br_flusher_t *f, br_flusher_job_t *j)
{
    sm_err_t err = SM_OK;

    for (size_t i = 0; i < j->nfds; i++) {
        if (f->ops->fsync(f->ops->ctx, j->fds[i]) < 0 && err == SM_OK) {
            int e = errno;

            err = sm_errbuf_set(&j->eb, e == ENOSPC || e == EDQUOT ? SM_ERR_NOSPC : SM_ERR_IO,
                                "fsync: %s", strerror(e));
        }
        /* Close now: the file may be deleted meanwhile; the dup would keep its blocks. */
        f->ops->close(f->ops->ctx, j->fds[i]);
        j->fds[i] = -1;
    }
    return err;
}

/* @thread flusher */
static void br_flusher_run(br_flusher_t *f, br_flusher_job_t *j)
{
    j->eb.msg[0] = '\0';
    switch (j->kind) {
    case BR_FLUSHER_FSYNC:
        j->err = br_flusher_run_fsync(f, j);
        break;
    case BR_FLUSHER_RMDIR:
        j->err = br_flusher_remove_tree(f->ops, j->path, &j->eb);
        break;
    case BR_FLUSHER_CALL:
        j->err = j->work(j->arg, &j->eb);
        break;
    }
}

/* @thread flusher */
static void *br_flusher_main(void *arg)
{
    br_flusher_t *f = arg;
    br_flusher_job_t *j;
    uint64_t one = 1;

    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->jobs.head == NULL && !f->stopping)
            pthread_cond_wait(&f->wake, &f->mu);
        j = br_flusher_queue_pop(&f->jobs);
        if (j == NULL)
            break; /* stopping and drained */
        f->busy = 1;
        pthread_mutex_unlock(&f->mu);

        br_flusher_run(f, j);

        pthread_mutex_lock(&f->mu);
        br_flusher_queue_push(&f->done, j);
        f->busy = 0;
        pthread_cond_broadcast(&f->idle);
        /* Wakes the loop; a full counter (impossible in practice) still leaves it readable. */
        if (write(f->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            sm_log_error("flusher: eventfd write: %s", strerror(errno));
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- loop thread --------------------------------------------------------------------------- */

static void br_flusher_run_completions(br_flusher_t *f)
{
    br_flusher_queue_t ready;
    br_flusher_job_t *j;

    pthread_mutex_lock(&f->mu);
    ready = f->done;
    f->done.head = NULL;
    f->done.tail = NULL;
    pthread_mutex_unlock(&f->mu);
    while ((j = br_flusher_queue_pop(&ready)) != NULL) {
        f->completed++;
        if (j->done != NULL)
            j->done(j->arg, j->err, j->eb.msg);
        else if (j->err != SM_OK)
            sm_log_error("flusher: %s", j->eb.msg);
        br_flusher_job_free(f->ops, j);
    }
}

static void br_flusher_on_event(evutil_socket_t fd, short what, void *arg)
{
    br_flusher_t *f = arg;
    uint64_t n;

    (void)what;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        sm_log_error("flusher: eventfd read: %s", strerror(errno));
    br_flusher_run_completions(f);
}

sm_err_t br_flusher_new(struct event_base *base, const br_fileops_t *ops, br_flusher_t **out,
                        sm_errbuf_t *eb)
{
    br_flusher_t *f = calloc(1, sizeof(*f));
    sm_err_t err = SM_OK;
    int r;

    *out = NULL;
    if (f == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "flusher: out of memory");
    f->ops = ops;
    f->efd = -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->wake, NULL);
    pthread_cond_init(&f->idle, NULL);
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->efd < 0) {
        err = sm_errbuf_set(eb, SM_ERR_IO, "flusher: eventfd: %s", strerror(errno));
        goto out;
    }
    f->ev = event_new(base, f->efd, EV_READ | EV_PERSIST, br_flusher_on_event, f);
    if (f->ev == NULL || event_add(f->ev, NULL) < 0) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "flusher: cannot add event");
        goto out;
    }
    r = pthread_create(&f->thread, NULL, br_flusher_main, f);
    if (r != 0) {
        err = sm_errbuf_set(eb, SM_ERR_IO, "flusher: pthread_create: %s", strerror(r));
        goto out;
    }
    f->started = 1;
    *out = f;
    f = NULL;
out:
    br_flusher_free(f);
    return err;
}

void br_flusher_free(br_flusher_t *f)
{
    if (f == NULL)
        return;
    if (f->started) {
        pthread_mutex_lock(&f->mu);
        f->stopping = 1;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
    }
    br_flusher_run_completions(f);
    if (f->ev != NULL)
        event_free(f->ev);
    if (f->efd >= 0)
        close(f->efd);
    pthread_cond_destroy(&f->idle);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void br_flusher_submit(br_flusher_t *f, br_flusher_job_t *j)
{
    f->submitted++;
    pthread_mutex_lock(&f->mu);
    br_flusher_queue_push(&f->jobs, j);
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->mu);
}

sm_err_t br_flusher_fsync(br_flusher_t *f, const int *fds, size_t nfds, br_flusher_done_fn done,
                          void *arg)
{
    br_flusher_job_t *j;

    if (nfds == 0)
        return SM_ERR_INVALID;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return SM_ERR_NOMEM;
    j->fds = malloc(nfds * sizeof(int));
    if (j->fds == NULL) {
        free(j);
        return SM_ERR_NOMEM;
    }
    for (size_t i = 0; i < nfds; i++) {
        j->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
        if (j->fds[i] < 0) {
            sm_log_error("flusher: dup fd %d: %s", fds[i], strerror(errno));
            br_flusher_job_free(f->ops, j);
            return SM_ERR_IO;
        }
        j->nfds = i + 1;
    }
    j->kind = BR_FLUSHER_FSYNC;
    j->done = done;
    j->arg = arg;
    br_flusher_submit(f, j);
    return SM_OK;
}

sm_err_t br_flusher_remove_dir(br_flusher_t *f, const char *path, br_flusher_done_fn done,
                               void *arg)
{
    br_flusher_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return SM_ERR_NOMEM;
    j->path = strdup(path);
    if (j->path == NULL) {
        free(j);
        return SM_ERR_NOMEM;
    }
    j->kind = BR_FLUSHER_RMDIR;
    j->done = done;
    j->arg = arg;
    br_flusher_submit(f, j);
    return SM_OK;
}

sm_err_t br_flusher_call(br_flusher_t *f, br_flusher_work_fn work, br_flusher_done_fn done,
                         void *arg)
{
    br_flusher_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return SM_ERR_NOMEM;
    j->kind = BR_FLUSHER_CALL;
    j->work = work;
    j->done = done;
    j->arg = arg;
    br_flusher_submit(f, j);
    return SM_OK;
}

void br_flusher_drain(br_flusher_t *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->jobs.head != NULL || f->busy)
        pthread_cond_wait(&f->idle, &f->mu);
    pthread_mutex_unlock(&f->mu);
    br_flusher_run_completions(f);
}

size_t br_flusher_pending(const br_flusher_t *f)
{
    return f->submitted - f->completed;
}

/* ---- recursive removal (any thread) -------------------------------------------------------- */

static sm_err_t br_flusher_rm(const br_fileops_t *ops, char *path, size_t len, sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;
    struct dirent *de;
    struct stat st;
    DIR *d = NULL;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return SM_OK;
        return sm_errbuf_set(eb, SM_ERR_IO, "stat %s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (ops->unlink(ops->ctx, path) < 0 && errno != ENOENT)
            return sm_errbuf_set(eb, SM_ERR_IO, "unlink %s: %s", path, strerror(errno));
        return SM_OK;
    }
    d = opendir(path);
    if (d == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "opendir %s: %s", path, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (len + 1 + n >= PATH_MAX) {
            err = sm_errbuf_set(eb, SM_ERR_IO, "path too long below %s", path);
            goto out;
        }
        path[len] = '/';
        memcpy(path + len + 1, de->d_name, n + 1);
        err = br_flusher_rm(ops, path, len + 1 + n, eb);
        path[len] = '\0';
        if (err != SM_OK)
            goto out;
    }
    closedir(d);
    d = NULL;
    if (rmdir(path) < 0 && errno != ENOENT)
        err = sm_errbuf_set(eb, SM_ERR_IO, "rmdir %s: %s", path, strerror(errno));
out:
    if (d != NULL)
        closedir(d);
    return err;
}

sm_err_t br_flusher_remove_tree(const br_fileops_t *ops, const char *path, sm_errbuf_t *eb)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return sm_errbuf_set(eb, SM_ERR_INVALID, "bad path to remove: '%.100s'", path);
    memcpy(buf, path, n + 1);
    return br_flusher_rm(ops, buf, n, eb);
}
