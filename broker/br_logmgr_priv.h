/*
 * br_logmgr_priv.h: the log manager's state, shared by br_logmgr.c (directories, the table of
 * partition logs, flushing, writeback) and br_logmgr_ckpt.c (the offset checkpoints). Not
 * for other modules: they use br_logmgr.h.
 */
#ifndef BR_LOGMGR_PRIV_H
#define BR_LOGMGR_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/br_checkpoint.h"
#include "broker/br_logmgr.h"

typedef struct br_logmgr_dir {
    char *path;
    int lock_fd;
    bool online;
    bool was_clean;
    bool has_cluster_id; /* meta.properties holds a cluster.id */
    bool ckpt_busy;      /* a checkpoint write is queued on the flusher */
    unsigned ckpt_due;   /* BR_LOGMGR_CKPT_* asked for meanwhile: queued when it completes */
    size_t nparts;
    /* The checkpoint maps last written here, by br_logmgr_ckpt_names index (NULL: unknown):
     * the periodic writes skip a file whose map has not changed since. */
    br_checkpoint_t *written[3];
} br_logmgr_dir_t;

typedef struct br_logmgr_part {
    br_logmgr_t *m;
    char *topic;
    int32_t partition;
    size_t dir;
    char *path;
    br_log_t *log; /* NULL once failed to open, or closed */
    br_epoch_t *epochs;
    br_log_batch_fn user_on_batch;
    void *user_ctx;
    int64_t hw; /* last known values, written to the checkpoints */
    int64_t recovery_point;
    int64_t log_start;
    int64_t wb_base;  /* br_logmgr_writeback started the write of segment wb_base ... */
    uint64_t wb_size; /* ... up to this many bytes */
    bool flushing;    /* a flush job is out on the flusher */
    bool wb_busy;     /* a writeback start is out on the flusher (the log is offloaded) */
    bool reserved;    /* segment reserved_base had its blocks reserved (m->preallocate) */
    int64_t reserved_base;
    bool detached; /* no longer in the table: freed when those jobs complete */
} br_logmgr_part_t;

struct br_logmgr {
    const br_fileops_t *ops;
    br_flusher_t *flusher;
    br_logmgr_written_fn on_written;
    void *on_written_arg;
    br_flusher_t *const *writers; /* partitions take them in turn; none: log_cfg.writer */
    size_t nwriters;
    size_t next_writer;
    bool preallocate; /* cfg.preallocate */
    bool closing;     /* br_logmgr_close began: completions start no new job */
    br_log_config_t log_cfg;
    br_logmgr_config_fn configure;
    void *configure_arg;
    int32_t broker_id;
    char cluster_id[BR_LOGMGR_CLUSTER_ID_MAX + 1]; /* "" while unknown */
    br_logmgr_dir_t *dirs;
    size_t ndirs;
    br_logmgr_part_t **parts; /* sorted by (topic, partition) */
    size_t nparts;
    size_t cap;
};

/* The checkpoint files, indexed as cp[3] and written[3]: recovery points, high watermarks,
 * log starts. */
extern const char *const br_logmgr_ckpt_names[3];

/* Copies the live offsets of a healthy log into the part (what the checkpoints write). */
void br_logmgr_part_refresh(br_logmgr_part_t *part);

/* Writes the checkpoints named by `which` (BR_LOGMGR_CKPT_*) of directory i now, every file
 * fsynced, and remembers them as written. Returns SM_OK or the error, with a line in eb. */
sm_err_t br_logmgr_checkpoint_dir(br_logmgr_t *m, size_t i, unsigned which, sm_errbuf_t *eb);

#endif
