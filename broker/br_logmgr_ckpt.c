/*
 * br_logmgr_ckpt: the offset checkpoints of each log directory (recovery points, high
 * watermarks, log starts): built on the loop, written on the flusher thread or here, skipped
 * when unchanged, fsynced only where a power cut would matter (docs/storage.md, Checkpoints).
 */
#include "broker/br_logmgr.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/br_checkpoint.h"
#include "broker/br_flusher.h"
#include "broker/br_logmgr_priv.h"
#include "sm_log.h"

/* ---- checkpoints --------------------------------------------------------------------------- */

const char *const br_logmgr_ckpt_names[3] = {BR_CHECKPOINT_RECOVERY, BR_CHECKPOINT_REPLICATION,
                                             BR_CHECKPOINT_LOG_START};

/* The three maps of directory i as they are now (cp[k] created here; freed by the caller,
 * also on error). */
static sm_err_t br_logmgr_checkpoint_build(br_logmgr_t *m, size_t i, br_checkpoint_t *cp[3],
                                           sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;

    for (int k = 0; k < 3; k++) {
        cp[k] = br_checkpoint_new();
        if (cp[k] == NULL)
            return sm_errbuf_set(eb, SM_ERR_NOMEM, "checkpoint: out of memory");
    }
    for (size_t k = 0; k < m->nparts && err == SM_OK; k++) {
        br_logmgr_part_t *part = m->parts[k];

        if (part->dir != i)
            continue;
        br_logmgr_part_refresh(part);
        err = br_checkpoint_put(cp[0], part->topic, part->partition, part->recovery_point);
        if (err == SM_OK)
            err = br_checkpoint_put(cp[1], part->topic, part->partition, part->hw);
        if (err == SM_OK)
            err = br_checkpoint_put(cp[2], part->topic, part->partition, part->log_start);
        if (err != SM_OK)
            err = sm_errbuf_set(eb, err, "checkpoint %s-%d: %s", part->topic, (int)part->partition,
                                sm_err_str(err));
    }
    return err;
}

/* Writes the maps named by `which` into dir_path, fsynced for those also in `durable`.
 * @thread loop or flusher: touches only its arguments. */
static sm_err_t br_logmgr_checkpoint_write(const br_fileops_t *ops, const char *dir_path,
                                           unsigned which, unsigned durable,
                                           br_checkpoint_t *const cp[3], sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    sm_err_t err = SM_OK;

    for (int k = 0; k < 3 && err == SM_OK; k++) {
        if ((which & (1u << k)) == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir_path, br_logmgr_ckpt_names[k]);
        if ((durable & (1u << k)) != 0)
            err = br_checkpoint_write(ops, path, cp[k], eb);
        else
            err = br_checkpoint_write_unsynced(ops, path, cp[k], eb);
    }
    return err;
}

/* Whether cp holds an offset above 0 (one that a missing entry, read as 0, would lose). */
static bool br_logmgr_ckpt_any_positive(const br_checkpoint_t *cp)
{
    for (size_t i = 0; i < br_checkpoint_count(cp); i++) {
        const char *topic;
        int32_t p;
        int64_t v;

        br_checkpoint_at(cp, i, &topic, &p, &v);
        if (v > 0)
            return true;
    }
    return false;
}

/* Which of the periodic writes must be fsynced (docs/storage.md, Checkpoints): only a log-start
 * map holding a log start above 0 -- after a power cut an older, empty or torn file would show
 * records that retention or DeleteRecords removed; every log start at 0 is what a missing
 * file means anyway. (Fsyncing only the writes that move a log start would not do: the next
 * unsynced replacement could still lose the moved one.) A stale or unreadable recovery-point or
 * high-watermark file is safe: recovery then rescans more, the high watermark starts lower
 * (never above the log end for a leader) and the ISR's next fetches move it again; truncation
 * goes by leader epochs. Without those fsyncs a write costs no device cache flush, which on a
 * shared or slow disk stalls every writer of the disk. */
static unsigned br_logmgr_ckpt_durable(unsigned which, br_checkpoint_t *const cp[3])
{
    if ((which & BR_LOGMGR_CKPT_LOG_START) != 0 && br_logmgr_ckpt_any_positive(cp[2]))
        return BR_LOGMGR_CKPT_LOG_START;
    return 0;
}

/* After a write of the maps named by `which` into dir i: written, they become what the dir
 * holds (taken from cp); failed, what it holds is unknown. */
static void br_logmgr_ckpt_remember(br_logmgr_dir_t *d, unsigned which, br_checkpoint_t *cp[3],
                                    bool written)
{
    for (int k = 0; k < 3; k++) {
        if ((which & (1u << k)) == 0)
            continue;
        br_checkpoint_free(d->written[k]);
        d->written[k] = written ? cp[k] : NULL;
        if (written)
            cp[k] = NULL;
    }
}

sm_err_t br_logmgr_checkpoint_dir(br_logmgr_t *m, size_t i, unsigned which, sm_errbuf_t *eb)
{
    br_checkpoint_t *cp[3] = {NULL, NULL, NULL};
    sm_err_t err = br_logmgr_checkpoint_build(m, i, cp, eb);

    if (err == SM_OK) {
        err =
            br_logmgr_checkpoint_write(m->ops, m->dirs[i].path, which, BR_LOGMGR_CKPT_ALL, cp, eb);
        br_logmgr_ckpt_remember(&m->dirs[i], which, cp, err == SM_OK);
    }
    for (int k = 0; k < 3; k++)
        br_checkpoint_free(cp[k]);
    return err;
}

/* A checkpoint write handed to the flusher thread: the maps were built on the loop. */
typedef struct br_logmgr_ckpt_job {
    br_logmgr_t *m; /* for the completion only */
    size_t dir;
    unsigned which;
    unsigned durable; /* of which: the files to fsync (br_logmgr_ckpt_durable) */
    const br_fileops_t *ops;
    char *dir_path;
    br_checkpoint_t *cp[3];
} br_logmgr_ckpt_job_t;

static void br_logmgr_ckpt_job_free(br_logmgr_ckpt_job_t *j)
{
    for (int k = 0; k < 3; k++)
        br_checkpoint_free(j->cp[k]);
    free(j->dir_path);
    free(j);
}

/* @thread flusher */
static sm_err_t br_logmgr_ckpt_work(void *arg, sm_errbuf_t *eb)
{
    br_logmgr_ckpt_job_t *j = arg;

    return br_logmgr_checkpoint_write(j->ops, j->dir_path, j->which, j->durable, j->cp, eb);
}

static sm_err_t br_logmgr_ckpt_start(br_logmgr_t *m, size_t i, unsigned which);

static void br_logmgr_ckpt_done(void *arg, sm_err_t err, const char *msg)
{
    br_logmgr_ckpt_job_t *j = arg;
    br_logmgr_t *m = j->m;
    br_logmgr_dir_t *d = &m->dirs[j->dir];
    size_t dir = j->dir;
    unsigned due = d->ckpt_due;

    d->ckpt_busy = false;
    d->ckpt_due = 0;
    br_logmgr_ckpt_remember(d, j->which, j->cp, err == SM_OK);
    if (err != SM_OK && d->online) {
        sm_log_error("checkpoint: %s", msg);
        if (err != SM_ERR_NOMEM)
            br_logmgr_fail_dir(m, dir, msg);
    }
    br_logmgr_ckpt_job_free(j);
    /* Ticks that came while it was queued: their files now (not while closing: the close
     * writes everything itself once the flusher is drained). */
    if (due != 0 && d->online && !m->closing && br_logmgr_ckpt_start(m, dir, due) != SM_OK)
        sm_log_error("checkpoint: out of memory");
}

/* Queues the write of the maps named by `which` in dir i on the flusher (those unchanged
 * since written are left out; nothing left: nothing queued). */
static sm_err_t br_logmgr_ckpt_start(br_logmgr_t *m, size_t i, unsigned which)
{
    br_logmgr_ckpt_job_t *j = calloc(1, sizeof(*j));
    sm_errbuf_t eb;
    sm_err_t err;

    if (j == NULL || (j->dir_path = strdup(m->dirs[i].path)) == NULL) {
        free(j);
        return SM_ERR_NOMEM;
    }
    j->m = m;
    j->dir = i;
    j->which = which;
    j->ops = m->ops;
    err = br_logmgr_checkpoint_build(m, i, j->cp, &eb);
    for (int k = 0; k < 3 && err == SM_OK; k++)
        if (m->dirs[i].written[k] != NULL && br_checkpoint_equal(m->dirs[i].written[k], j->cp[k]))
            j->which &= ~(1u << k); /* unchanged since written: no write, no fsync */
    if (err == SM_OK && j->which == 0) {
        br_logmgr_ckpt_job_free(j);
        return SM_OK;
    }
    if (err == SM_OK)
        j->durable = br_logmgr_ckpt_durable(j->which, j->cp);
    if (err == SM_OK)
        err = br_flusher_call(m->flusher, br_logmgr_ckpt_work, br_logmgr_ckpt_done, j);
    if (err != SM_OK) {
        br_logmgr_ckpt_job_free(j);
        return err;
    }
    m->dirs[i].ckpt_busy = true;
    return SM_OK;
}

sm_err_t br_logmgr_checkpoint_async(br_logmgr_t *m, unsigned which)
{
    sm_errbuf_t eb;
    sm_err_t first = SM_OK;

    if (m->flusher == NULL) {
        sm_err_t err = br_logmgr_checkpoint(m, which, &eb);
        if (err != SM_OK)
            sm_log_error("checkpoint: %s", eb.msg);
        return err;
    }
    for (size_t i = 0; i < m->ndirs; i++) {
        sm_err_t err;

        if (!m->dirs[i].online)
            continue;
        if (m->dirs[i].ckpt_busy) {
            m->dirs[i].ckpt_due |= which; /* written once the one queued completes */
            continue;
        }
        err = br_logmgr_ckpt_start(m, i, which);
        if (err != SM_OK && first == SM_OK)
            first = err;
    }
    return first;
}

sm_err_t br_logmgr_checkpoint(br_logmgr_t *m, unsigned which, sm_errbuf_t *eb)
{
    sm_err_t first = SM_OK;
    sm_errbuf_t deb;

    for (size_t i = 0; i < m->ndirs; i++) {
        sm_err_t err;

        if (!m->dirs[i].online)
            continue;
        err = br_logmgr_checkpoint_dir(m, i, which, &deb);
        if (err == SM_OK)
            continue;
        if (first == SM_OK)
            first = sm_errbuf_set(eb, err, "%s", deb.msg);
        if (err != SM_ERR_NOMEM)
            br_logmgr_fail_dir(m, i, deb.msg);
    }
    return first;
}
