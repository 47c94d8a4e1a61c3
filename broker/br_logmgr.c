/*
 * br_logmgr: log directories, their locks, meta.properties and markers, and the table of
 * partition logs (the offset checkpoints are in br_logmgr_ckpt.c). See br_logmgr.h for the
 * contract and the design notes.
 */
#include "broker/br_logmgr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "broker/br_checkpoint.h"
#include "broker/br_logmgr_priv.h"
#include "sm_log.h"

typedef struct br_logmgr_flush_ctx {
    br_logmgr_part_t *part;
    br_log_flush_job_t *job;
} br_logmgr_flush_ctx_t;

/* ---- names --------------------------------------------------------------------------------- */

static bool br_logmgr_topic_ok(const char *topic, size_t n)
{
    if (n == 0 || n > BR_CHECKPOINT_TOPIC_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

sm_err_t br_logmgr_parse_dir_name(const char *name, char *topic, size_t topic_cap,
                                  int32_t *partition)
{
    const char *dash = strrchr(name, '-');
    int64_t p;
    size_t n;

    if (dash == NULL)
        return SM_ERR_INVALID;
    n = (size_t)(dash - name);
    if (!br_logmgr_topic_ok(name, n) || n >= topic_cap)
        return SM_ERR_INVALID;
    /* Digits only, no sign, no leading zero: one name per partition. */
    if (dash[1] == '0' && dash[2] != '\0')
        return SM_ERR_INVALID;
    if (br_checkpoint_parse_int(dash + 1, 0, INT32_MAX, &p) != SM_OK || dash[1] == '-')
        return SM_ERR_INVALID;
    memcpy(topic, name, n);
    topic[n] = '\0';
    *partition = (int32_t)p;
    return SM_OK;
}

static bool br_logmgr_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- the partition table ------------------------------------------------------------------- */

static int br_logmgr_cmp(const char *ta, int32_t pa, const char *tb, int32_t pb)
{
    int c = strcmp(ta, tb);

    if (c != 0)
        return c;
    return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/* Index of (topic, partition) if found (*found), else where it would be inserted. */
static size_t br_logmgr_find(const br_logmgr_t *m, const char *topic, int32_t partition,
                             bool *found)
{
    size_t lo = 0;
    size_t hi = m->nparts;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = br_logmgr_cmp(m->parts[mid]->topic, m->parts[mid]->partition, topic, partition);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static br_logmgr_part_t *br_logmgr_lookup(const br_logmgr_t *m, const char *topic,
                                          int32_t partition)
{
    bool found;
    size_t i = br_logmgr_find(m, topic, partition, &found);

    return found ? m->parts[i] : NULL;
}

static sm_err_t br_logmgr_insert(br_logmgr_t *m, size_t at, br_logmgr_part_t *part)
{
    if (m->nparts == m->cap) {
        size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
        br_logmgr_part_t **n = realloc(m->parts, ncap * sizeof(*n));

        if (n == NULL)
            return SM_ERR_NOMEM;
        m->parts = n;
        m->cap = ncap;
    }
    memmove(m->parts + at + 1, m->parts + at, (m->nparts - at) * sizeof(*m->parts));
    m->parts[at] = part;
    m->nparts++;
    m->dirs[part->dir].nparts++;
    return SM_OK;
}

static void br_logmgr_part_free(br_logmgr_part_t *part)
{
    if (part == NULL)
        return;
    br_log_close(part->log, false);
    br_epoch_free(part->epochs);
    free(part->topic);
    free(part->path);
    free(part);
}

/* Takes the part out of the table and frees it, or leaves it to its flush completion. */
static void br_logmgr_remove_at(br_logmgr_t *m, size_t i)
{
    br_logmgr_part_t *part = m->parts[i];

    memmove(m->parts + i, m->parts + i + 1, (m->nparts - i - 1) * sizeof(*m->parts));
    m->nparts--;
    m->dirs[part->dir].nparts--;
    br_log_close(part->log, false);
    part->log = NULL;
    br_epoch_free(part->epochs);
    part->epochs = NULL;
    if (part->flushing || part->wb_busy)
        part->detached = true;
    else
        br_logmgr_part_free(part);
}

/* Copies the live offsets of a healthy log into the part (what the checkpoints write). */
void br_logmgr_part_refresh(br_logmgr_part_t *part)
{
    if (part->log == NULL || br_log_is_failed(part->log))
        return;
    part->recovery_point = br_log_recovery_point(part->log);
    part->log_start = br_log_start_offset(part->log);
}

/* Epochs newer than the cache's latest start at this batch (Kafka assigns only newer epochs
 * while recovering, and the follower path has truncated first). */
static sm_err_t br_logmgr_note_epoch(void *ctx, const br_batch_header_t *h)
{
    br_logmgr_part_t *part = ctx;
    sm_errbuf_t eb;
    sm_err_t err;

    if (part->epochs == NULL || h->leader_epoch < 0 ||
        h->leader_epoch <= br_epoch_latest(part->epochs))
        return SM_OK;
    err = br_epoch_assign(part->epochs, h->leader_epoch, h->base_offset, &eb);
    if (err != SM_OK)
        sm_log_error("%s", eb.msg);
    return err;
}

/* The log's on_batch hook: the epoch cache, then the broker's own hook if it gave one. */
static sm_err_t br_logmgr_on_batch(void *ctx, const br_batch_header_t *h)
{
    br_logmgr_part_t *part = ctx;
    sm_err_t err = br_logmgr_note_epoch(ctx, h);

    if (err == SM_OK && part->user_on_batch != NULL)
        err = part->user_on_batch(part->user_ctx, h);
    return err;
}

static br_logmgr_part_t *br_logmgr_part_new(br_logmgr_t *m, const char *topic, int32_t partition,
                                            size_t dir)
{
    br_logmgr_part_t *part = calloc(1, sizeof(*part));
    size_t n;

    if (part == NULL)
        return NULL;
    part->m = m;
    part->partition = partition;
    part->dir = dir;
    part->topic = strdup(topic);
    n = strlen(m->dirs[dir].path) + strlen(topic) + 16;
    part->path = malloc(n);
    if (part->topic == NULL || part->path == NULL) {
        br_logmgr_part_free(part);
        return NULL;
    }
    snprintf(part->path, n, "%s/%s-%d", m->dirs[dir].path, topic, (int)partition);
    return part;
}

/* A log's appends were written by the writer thread: tell the broker (br_logmgr.h). */
static void br_logmgr_on_written(void *ctx)
{
    br_logmgr_part_t *part = ctx;
    br_logmgr_t *m = part->m;

    if (m->on_written != NULL)
        m->on_written(m->on_written_arg, part->topic, part->partition);
}

void br_logmgr_set_on_written(br_logmgr_t *m, br_logmgr_written_fn fn, void *arg)
{
    m->on_written = fn;
    m->on_written_arg = arg;
}

/* Opens the epoch cache and the log of a part. A cache file that cannot be parsed is rebuilt
 * from the log's batches rather than failing the partition. */
static sm_err_t br_logmgr_part_open(br_logmgr_t *m, br_logmgr_part_t *part, bool clean,
                                    int64_t now_ms, sm_errbuf_t *eb)
{
    br_log_config_t cfg = m->log_cfg;
    bool rebuild = false;
    sm_err_t err;

    if (m->configure != NULL)
        m->configure(m->configure_arg, part->topic, part->partition, &cfg);
    part->user_on_batch = cfg.on_batch;
    part->user_ctx = cfg.on_batch_ctx;
    cfg.on_batch = br_logmgr_on_batch;
    cfg.on_batch_ctx = part;
    cfg.on_written = br_logmgr_on_written;
    cfg.on_written_ctx = part;
    if (m->nwriters > 0)
        cfg.writer = m->writers[m->next_writer++ % m->nwriters];

    err = br_epoch_open(m->ops, part->path, &part->epochs, eb);
    if (err == SM_ERR_CORRUPT || err == SM_ERR_UNSUPPORTED) {
        char p[PATH_MAX];

        sm_log_warn("%s; rebuilding the leader-epoch cache from the log", eb->msg);
        snprintf(p, sizeof(p), "%s/%s", part->path, BR_EPOCH_CHECKPOINT);
        m->ops->unlink(m->ops->ctx, p);
        err = br_epoch_open(m->ops, part->path, &part->epochs, eb);
        rebuild = true;
    }
    if (err != SM_OK)
        return err;
    err = br_log_open(m->ops, part->path, &cfg, clean, part->recovery_point, part->log_start,
                      now_ms, &part->log, eb);
    if (err != SM_OK)
        return err;
    if (rebuild) {
        /* Start over: a recovery may already have noted epochs from its later batches. */
        err = br_epoch_clear(part->epochs, eb);
        if (err == SM_OK)
            err = br_log_for_each_batch(part->log, 0, br_logmgr_note_epoch, part);
        if (err != SM_OK)
            return sm_errbuf_set(eb, err, "%s: cannot rebuild the leader-epoch cache", part->path);
    }
    err = br_epoch_truncate_from_end(part->epochs, br_log_end_offset(part->log), eb);
    if (err == SM_OK)
        err = br_epoch_truncate_from_start(part->epochs, br_log_start_offset(part->log), eb);
    br_logmgr_part_refresh(part);
    return err;
}

/* ---- meta.properties and the lock -------------------------------------------------------- */

typedef struct br_logmgr_meta {
    int32_t broker_id;
    char cluster_id[BR_LOGMGR_CLUSTER_ID_MAX + 1]; /* "" if absent */
} br_logmgr_meta_t;

static void br_logmgr_trim(char **s, char **end)
{
    while (*s < *end && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
}

/* Parses Java properties as Kafka writes them: comments (#, !), blank lines, key=value. */
static sm_err_t br_logmgr_meta_parse(char *text, const char *path, br_logmgr_meta_t *meta,
                                     sm_errbuf_t *eb)
{
    bool has_version = false;
    bool has_broker = false;
    size_t lineno = 0;
    char *line = text;

    memset(meta, 0, sizeof(*meta));
    while (*line != '\0') {
        char *nl = strchr(line, '\n');
        char *end = nl != NULL ? nl : line + strlen(line);
        char *next = nl != NULL ? nl + 1 : end;
        char *eq;
        char *k = line;
        char *kend;
        char *v;
        int64_t num;

        lineno++;
        br_logmgr_trim(&k, &end);
        if (k == end || *k == '#' || *k == '!') {
            line = next;
            continue;
        }
        *end = '\0';
        eq = strchr(k, '=');
        if (eq == NULL)
            return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: expected key=value", path, lineno);
        kend = eq;
        v = eq + 1;
        br_logmgr_trim(&k, &kend);
        br_logmgr_trim(&v, &end);
        *kend = '\0';
        *end = '\0';
        if (strcmp(k, "version") == 0) {
            if (br_checkpoint_parse_int(v, 0, INT32_MAX, &num) != SM_OK || num != 0)
                return sm_errbuf_set(eb, SM_ERR_UNSUPPORTED,
                                     "%s:%zu: unsupported meta.properties version '%.20s'", path,
                                     lineno, v);
            has_version = true;
        } else if (strcmp(k, "broker.id") == 0) {
            if (br_checkpoint_parse_int(v, 0, INT32_MAX, &num) != SM_OK)
                return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: bad broker.id '%.20s'", path,
                                     lineno, v);
            meta->broker_id = (int32_t)num;
            has_broker = true;
        } else if (strcmp(k, "cluster.id") == 0) {
            if (strlen(v) > BR_LOGMGR_CLUSTER_ID_MAX)
                return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s:%zu: cluster.id too long", path,
                                     lineno);
            snprintf(meta->cluster_id, sizeof(meta->cluster_id), "%s", v);
        }
        line = next;
    }
    if (!has_version || !has_broker)
        return sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s: missing %s", path,
                             has_version ? "broker.id" : "version");
    return SM_OK;
}

static sm_err_t br_logmgr_meta_write(br_logmgr_t *m, size_t i, const char *cluster_id,
                                     sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    char text[256];
    int n;

    snprintf(path, sizeof(path), "%s/%s", m->dirs[i].path, BR_LOGMGR_META);
    n = snprintf(text, sizeof(text), "#\n#Written by samsa-broker\nversion=0\nbroker.id=%d\n",
                 (int)m->broker_id);
    if (cluster_id[0] != '\0')
        n += snprintf(text + n, sizeof(text) - (size_t)n, "cluster.id=%s\n", cluster_id);
    m->dirs[i].has_cluster_id = cluster_id[0] != '\0';
    return br_checkpoint_write_file(m->ops, path, text, (size_t)n, eb);
}

/* Checks meta.properties of dir i against our ids (writing it if missing), learning the
 * cluster id when we have none. Returns SM_OK, a fatal SM_ERR_CONFIG / _CORRUPT /
 * _UNSUPPORTED, or SM_ERR_IO (the directory goes offline). */
static sm_err_t br_logmgr_meta_check(br_logmgr_t *m, size_t i, sm_errbuf_t *eb)
{
    const char *dir = m->dirs[i].path;
    char path[PATH_MAX];
    br_logmgr_meta_t meta;
    char *text = NULL;
    size_t len;
    sm_err_t err;

    snprintf(path, sizeof(path), "%s/%s", dir, BR_LOGMGR_META);
    err = br_checkpoint_read_file(m->ops, path, &text, &len, eb);
    if (err == SM_ERR_NOT_FOUND) {
        err = br_logmgr_meta_write(m, i, m->cluster_id, eb);
        goto out;
    }
    if (err != SM_OK)
        goto out;
    err = br_logmgr_meta_parse(text, path, &meta, eb);
    if (err != SM_OK)
        goto out;
    if (meta.broker_id != m->broker_id) {
        err = sm_errbuf_set(eb, SM_ERR_CONFIG,
                            "log dir %s: meta.properties has broker.id=%d but this broker is "
                            "broker.id=%d",
                            dir, (int)meta.broker_id, (int)m->broker_id);
        goto out;
    }
    if (meta.cluster_id[0] != '\0' && m->cluster_id[0] != '\0' &&
        strcmp(meta.cluster_id, m->cluster_id) != 0) {
        err = sm_errbuf_set(eb, SM_ERR_CONFIG,
                            "log dir %s: meta.properties has cluster.id=%s but the cluster is "
                            "cluster.id=%s",
                            dir, meta.cluster_id, m->cluster_id);
        goto out;
    }
    m->dirs[i].has_cluster_id = meta.cluster_id[0] != '\0';
    if (meta.cluster_id[0] != '\0')
        snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", meta.cluster_id);
    else if (m->cluster_id[0] != '\0')
        err = br_logmgr_meta_write(m, i, m->cluster_id, eb);
out:
    free(text);
    return err;
}

static sm_err_t br_logmgr_lock(br_logmgr_t *m, size_t i, sm_errbuf_t *eb)
{
    br_logmgr_dir_t *d = &m->dirs[i];
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", d->path, BR_LOGMGR_LOCK);
    d->lock_fd = m->ops->open(m->ops->ctx, path, O_RDWR | O_CREAT, 0644);
    if (d->lock_fd < 0)
        return sm_errbuf_set(eb, SM_ERR_IO, "log dir %s: cannot open %s: %s", d->path,
                             BR_LOGMGR_LOCK, strerror(errno));
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;

        m->ops->close(m->ops->ctx, d->lock_fd);
        d->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return sm_errbuf_set(eb, SM_ERR_STATE,
                                 "log dir %s is in use by another broker (%s is held)", d->path,
                                 BR_LOGMGR_LOCK);
        return sm_errbuf_set(eb, SM_ERR_IO, "log dir %s: flock %s: %s", d->path, BR_LOGMGR_LOCK,
                             strerror(e));
    }
    return SM_OK;
}

static sm_err_t br_logmgr_fsync_dir(const br_fileops_t *ops, const char *dir, sm_errbuf_t *eb)
{
    int fd = ops->open(ops->ctx, dir, O_RDONLY | O_DIRECTORY, 0);
    sm_err_t err = SM_OK;

    if (fd < 0)
        return sm_errbuf_set(eb, SM_ERR_IO, "open %s: %s", dir, strerror(errno));
    if (ops->fsync(ops->ctx, fd) < 0)
        err = sm_errbuf_set(eb, SM_ERR_IO, "fsync %s: %s", dir, strerror(errno));
    ops->close(ops->ctx, fd);
    return err;
}

/* ---- directories --------------------------------------------------------------------------- */

void br_logmgr_fail_dir(br_logmgr_t *m, size_t i, const char *why)
{
    size_t k = 0;

    if (i >= m->ndirs || !m->dirs[i].online)
        return;
    sm_log_error("log dir %s is offline: %s", m->dirs[i].path, why);
    m->dirs[i].online = false;
    while (k < m->nparts) {
        if (m->parts[k]->dir == i)
            br_logmgr_remove_at(m, k);
        else
            k++;
    }
}

static void br_logmgr_removed(void *arg, sm_err_t err, const char *msg)
{
    (void)arg;
    if (err != SM_OK)
        sm_log_error("removing a deleted log: %s", msg);
}

/* Removes a renamed-for-deletion directory, on the flusher when there is one. */
static void br_logmgr_remove_later(br_logmgr_t *m, const char *path)
{
    sm_errbuf_t eb;

    if (m->flusher != NULL &&
        br_flusher_remove_dir(m->flusher, path, br_logmgr_removed, NULL) == SM_OK)
        return;
    if (br_flusher_remove_tree(m->ops, path, &eb) != SM_OK)
        sm_log_error("removing a deleted log: %s", eb.msg);
}

/* Reads one offset checkpoint of a directory; a missing file is empty, a malformed one is
 * ignored with a warning (the logs then recover from 0 / start at their first segment). */
static br_checkpoint_t *br_logmgr_read_ckpt(br_logmgr_t *m, size_t i, const char *name,
                                            sm_err_t *io_err, sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    br_checkpoint_t *cp = NULL;
    sm_err_t err;

    snprintf(path, sizeof(path), "%s/%s", m->dirs[i].path, name);
    err = br_checkpoint_read(m->ops, path, &cp, eb);
    if (err == SM_ERR_IO || err == SM_ERR_NOMEM)
        *io_err = err;
    else if (err != SM_OK && err != SM_ERR_NOT_FOUND)
        sm_log_warn("%s; ignoring it", eb->msg);
    return cp != NULL ? cp : br_checkpoint_new();
}

static int64_t br_logmgr_ckpt_value(const br_checkpoint_t *cp, const char *topic, int32_t p)
{
    int64_t v = 0;

    if (cp == NULL || br_checkpoint_get(cp, topic, p, &v) != SM_OK)
        return 0;
    return v;
}

/* Opens one partition directory found at start. Fatal errors (duplicate, no memory) are
 * returned; a log that fails to open is kept as a failed partition. */
static sm_err_t br_logmgr_load_part(br_logmgr_t *m, size_t i, const char *topic, int32_t p,
                                    br_checkpoint_t *const ckpts[3], int64_t now_ms,
                                    sm_errbuf_t *eb)
{
    br_logmgr_part_t *part;
    sm_errbuf_t peb;
    size_t at;
    bool found;
    sm_err_t err;

    at = br_logmgr_find(m, topic, p, &found);
    if (found)
        return sm_errbuf_set(eb, SM_ERR_STATE, "partition %s-%d is in two log dirs: %s and %s",
                             topic, (int)p, m->dirs[m->parts[at]->dir].path, m->dirs[i].path);
    part = br_logmgr_part_new(m, topic, p, i);
    if (part == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory loading %s-%d", topic, (int)p);
    part->recovery_point = br_logmgr_ckpt_value(ckpts[0], topic, p);
    part->hw = br_logmgr_ckpt_value(ckpts[1], topic, p);
    part->log_start = br_logmgr_ckpt_value(ckpts[2], topic, p);
    err = br_logmgr_part_open(m, part, m->dirs[i].was_clean, now_ms, &peb);
    if (err == SM_ERR_NOMEM) {
        br_logmgr_part_free(part);
        return sm_errbuf_set(eb, err, "%s", peb.msg);
    }
    if (err != SM_OK) {
        sm_log_error("partition %s-%d failed to load: %s", topic, (int)p, peb.msg);
        br_log_close(part->log, false);
        part->log = NULL;
    }
    if (br_logmgr_insert(m, at, part) != SM_OK) {
        br_logmgr_part_free(part);
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory loading %s-%d", topic, (int)p);
    }
    return SM_OK;
}

/* Opens every partition directory of directory i and schedules the removal of deleted ones. */
static sm_err_t br_logmgr_scan_dir(br_logmgr_t *m, size_t i, br_checkpoint_t *const ckpts[3],
                                   int64_t now_ms, sm_errbuf_t *eb)
{
    const char *dir = m->dirs[i].path;
    char topic[BR_CHECKPOINT_TOPIC_MAX + 1];
    char path[PATH_MAX];
    struct dirent *de;
    sm_err_t err = SM_OK;
    DIR *dh = opendir(dir);

    if (dh == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "log dir %s: %s", dir, strerror(errno));
    while (err == SM_OK && (de = readdir(dh)) != NULL) {
        struct stat st;
        int32_t p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (br_logmgr_has_suffix(de->d_name, BR_LOGMGR_DELETE_SUFFIX))
            br_logmgr_remove_later(m, path);
        else if (br_logmgr_parse_dir_name(de->d_name, topic, sizeof(topic), &p) == SM_OK)
            err = br_logmgr_load_part(m, i, topic, p, ckpts, now_ms, eb);
        else
            sm_log_warn("log dir %s: ignoring %s (not a partition directory)", dir, de->d_name);
    }
    closedir(dh);
    return err;
}

/* Loads every partition of online directory i. Returns SM_OK, a fatal error, or SM_ERR_IO
 * (the directory then goes offline). */
static sm_err_t br_logmgr_load_dir(br_logmgr_t *m, size_t i, int64_t now_ms, sm_errbuf_t *eb)
{
    br_logmgr_dir_t *d = &m->dirs[i];
    br_checkpoint_t *ckpts[3] = {NULL, NULL, NULL};
    char marker[PATH_MAX];
    sm_err_t err = SM_OK;
    int fd;

    snprintf(marker, sizeof(marker), "%s/%s", d->path, BR_LOGMGR_CLEAN_MARKER);
    fd = m->ops->open(m->ops->ctx, marker, O_RDONLY, 0);
    if (fd >= 0) {
        d->was_clean = true;
        m->ops->close(m->ops->ctx, fd);
    } else if (errno != ENOENT) {
        err = sm_errbuf_set(eb, SM_ERR_IO, "%s: %s", marker, strerror(errno));
        goto out;
    }
    for (int k = 0; k < 3; k++) {
        ckpts[k] = br_logmgr_read_ckpt(m, i, br_logmgr_ckpt_names[k], &err, eb);
        if (err != SM_OK || ckpts[k] == NULL) {
            err = err != SM_OK ? err : SM_ERR_NOMEM;
            goto out;
        }
    }
    err = br_logmgr_scan_dir(m, i, ckpts, now_ms, eb);
    /* Invariant 3: from now on a crash must be recovered. */
    if (err == SM_OK && d->was_clean) {
        if (m->ops->unlink(m->ops->ctx, marker) < 0 && errno != ENOENT) {
            err = sm_errbuf_set(eb, SM_ERR_IO, "%s: cannot remove: %s", marker, strerror(errno));
            goto out;
        }
        err = br_logmgr_fsync_dir(m->ops, d->path, eb);
    }
out:
    for (int k = 0; k < 3; k++)
        br_checkpoint_free(ckpts[k]);
    return err;
}

/* mkdir -p: creates path and its missing parents. Returns 0 or -1 with errno. */
static int br_logmgr_mkdirs(const br_fileops_t *ops, const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (ops->mkdir(ops->ctx, buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (ops->mkdir(ops->ctx, buf, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Creates, locks and checks directory i. Fatal errors are returned; an I/O error takes the
 * directory offline and returns SM_OK. */
static sm_err_t br_logmgr_take_dir(br_logmgr_t *m, size_t i, sm_errbuf_t *eb)
{
    br_logmgr_dir_t *d = &m->dirs[i];
    sm_errbuf_t deb;
    sm_err_t err;

    if (br_logmgr_mkdirs(m->ops, d->path) < 0) {
        sm_log_error("log dir %s is offline: cannot create it: %s", d->path, strerror(errno));
        return SM_OK;
    }
    err = br_logmgr_lock(m, i, &deb);
    if (err == SM_OK)
        err = br_logmgr_meta_check(m, i, &deb);
    if (err == SM_ERR_IO || err == SM_ERR_NOSPC) {
        sm_log_error("log dir %s is offline: %s", d->path, deb.msg);
        return SM_OK;
    }
    if (err != SM_OK)
        return sm_errbuf_set(eb, err, "%s", deb.msg);
    d->online = true;
    return SM_OK;
}

/* Allocates the manager and copies the configuration. */
static sm_err_t br_logmgr_new(const br_logmgr_config_t *cfg, br_logmgr_t **out, sm_errbuf_t *eb)
{
    br_logmgr_t *m = calloc(1, sizeof(*m));

    *out = m;
    if (m == NULL || (m->dirs = calloc(cfg->ndirs, sizeof(*m->dirs))) == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "log manager: out of memory");
    m->ops = cfg->ops != NULL ? cfg->ops : br_fileops_posix();
    m->flusher = cfg->flusher;
    m->writers = cfg->writers;
    m->nwriters = cfg->nwriters;
    m->preallocate = cfg->preallocate;
    m->log_cfg = cfg->log;
    m->configure = cfg->configure;
    m->configure_arg = cfg->configure_arg;
    m->broker_id = cfg->broker_id;
    if (cfg->cluster_id != NULL)
        snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", cfg->cluster_id);
    m->ndirs = cfg->ndirs;
    for (size_t i = 0; i < cfg->ndirs; i++)
        m->dirs[i].lock_fd = -1;
    for (size_t i = 0; i < cfg->ndirs; i++) {
        m->dirs[i].path = strdup(cfg->dirs[i]);
        if (m->dirs[i].path == NULL)
            return sm_errbuf_set(eb, SM_ERR_NOMEM, "log manager: out of memory");
    }
    return SM_OK;
}

sm_err_t br_logmgr_open(const br_logmgr_config_t *cfg, int64_t now_ms, br_logmgr_t **out,
                        sm_errbuf_t *eb)
{
    br_logmgr_t *m = NULL;
    sm_errbuf_t deb;
    size_t online = 0;
    sm_err_t err = SM_OK;

    *out = NULL;
    if (cfg->ndirs == 0 || cfg->broker_id < 0 ||
        (cfg->cluster_id != NULL && strlen(cfg->cluster_id) > BR_LOGMGR_CLUSTER_ID_MAX))
        return sm_errbuf_set(eb, SM_ERR_CONFIG,
                             "log manager: need log.dirs, a broker.id >= 0 "
                             "and a cluster id of at most 64 characters");
    err = br_logmgr_new(cfg, &m, eb);
    for (size_t i = 0; err == SM_OK && i < m->ndirs; i++)
        err = br_logmgr_take_dir(m, i, eb);
    /* A cluster id learnt from a later directory goes into the earlier ones that lack it. */
    if (err == SM_OK && m->cluster_id[0] != '\0')
        err = br_logmgr_set_cluster_id(m, m->cluster_id, eb);
    for (size_t i = 0; err == SM_OK && i < m->ndirs; i++) {
        if (!m->dirs[i].online)
            continue;
        err = br_logmgr_load_dir(m, i, now_ms, &deb);
        if (err == SM_ERR_IO || err == SM_ERR_NOSPC) {
            br_logmgr_fail_dir(m, i, deb.msg);
            err = SM_OK;
        } else if (err != SM_OK) {
            err = sm_errbuf_set(eb, err, "%s", deb.msg);
        }
        online += m->dirs[i].online ? 1 : 0;
    }
    if (err == SM_OK && online == 0)
        err = sm_errbuf_set(eb, SM_ERR_IO, "no usable log dir (all %zu are offline)", m->ndirs);
    if (err != SM_OK) {
        br_logmgr_close(m, false, now_ms, NULL);
        m = NULL;
    }
    *out = m;
    return err;
}

/* ---- close ----------------------------------------------------------------------------------- */

/* Clean shutdown of one directory: close its logs cleanly, checkpoint, leave the marker. */
static sm_err_t br_logmgr_close_dir_clean(br_logmgr_t *m, size_t i, sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    sm_err_t first = SM_OK;
    sm_err_t err;

    for (size_t k = 0; k < m->nparts; k++) {
        br_logmgr_part_t *part = m->parts[k];
        int64_t end;

        if (part->dir != i)
            continue;
        if (part->log == NULL) {
            if (first == SM_OK)
                first = sm_errbuf_set(eb, SM_ERR_STATE, "partition %s-%d is failed", part->topic,
                                      (int)part->partition);
            continue;
        }
        br_log_drain(part->log);
        br_logmgr_part_refresh(part);
        end = br_log_end_offset(part->log);
        err = br_log_close(part->log, true);
        part->log = NULL;
        if (err == SM_OK)
            part->recovery_point = end; /* a clean close flushed everything */
        else if (first == SM_OK)
            first = sm_errbuf_set(eb, err, "closing %s: %s", part->path, sm_err_str(err));
    }
    err = br_logmgr_checkpoint_dir(m, i, BR_LOGMGR_CKPT_ALL, eb);
    if (err != SM_OK)
        return err;
    if (first != SM_OK)
        return first;
    snprintf(path, sizeof(path), "%s/%s", m->dirs[i].path, BR_LOGMGR_CLEAN_MARKER);
    return br_checkpoint_write_file(m->ops, path, "", 0, eb);
}

sm_err_t br_logmgr_close(br_logmgr_t *m, bool clean, int64_t now_ms, sm_errbuf_t *eb)
{
    sm_err_t first = SM_OK;
    sm_errbuf_t deb;

    (void)now_ms;
    if (m == NULL)
        return SM_OK;
    /* Every flush completion must run while its part still exists, and start nothing. */
    m->closing = true;
    if (m->flusher != NULL)
        br_flusher_drain(m->flusher);
    for (size_t i = 0; clean && i < m->ndirs; i++) {
        sm_err_t err;

        if (!m->dirs[i].online)
            continue;
        err = br_logmgr_close_dir_clean(m, i, &deb);
        if (err != SM_OK) {
            sm_log_error("log dir %s: no clean shutdown: %s", m->dirs[i].path, deb.msg);
            if (first == SM_OK)
                first = sm_errbuf_set(eb, err, "%s", deb.msg);
        }
    }
    for (size_t k = 0; k < m->nparts; k++)
        br_logmgr_part_free(m->parts[k]);
    free(m->parts);
    for (size_t i = 0; m->dirs != NULL && i < m->ndirs; i++) {
        if (m->dirs[i].lock_fd >= 0)
            m->ops->close(m->ops->ctx, m->dirs[i].lock_fd);
        free(m->dirs[i].path);
        for (int k = 0; k < 3; k++)
            br_checkpoint_free(m->dirs[i].written[k]);
    }
    free(m->dirs);
    free(m);
    return first;
}

/* ---- partitions ---------------------------------------------------------------------------- */

static bool br_logmgr_healthy(const br_logmgr_part_t *part)
{
    return part != NULL && part->log != NULL && !br_log_is_failed(part->log);
}

br_log_t *br_logmgr_get(const br_logmgr_t *m, const char *topic, int32_t partition)
{
    br_logmgr_part_t *part = br_logmgr_lookup(m, topic, partition);

    return br_logmgr_healthy(part) ? part->log : NULL;
}

size_t br_logmgr_reconfigure(br_logmgr_t *m, const char *topic, int32_t partition,
                             br_logmgr_overlay_fn fn, void *arg)
{
    size_t n = 0;
    bool found;

    /* parts is sorted by (topic, partition): start at the first entry that can match (this
     * runs for every partition a LeaderAndIsr names, so no scan of the whole list). */
    for (size_t i = br_logmgr_find(m, topic, partition >= 0 ? partition : INT32_MIN, &found);
         i < m->nparts && strcmp(m->parts[i]->topic, topic) == 0; i++) {
        br_logmgr_part_t *part = m->parts[i];
        br_log_config_t cfg = m->log_cfg;
        sm_errbuf_t eb = {0};

        if (partition >= 0 && part->partition != partition)
            break;
        if (!br_logmgr_healthy(part))
            continue;
        if (fn != NULL)
            fn(arg, topic, &cfg);
        if (br_log_reconfigure(part->log, &cfg, &eb) == SM_OK)
            n++;
        else
            sm_log_warn("%s-%d: the topic's config is not applied: %s", topic, (int)part->partition,
                        eb.msg);
    }
    return n;
}

br_epoch_t *br_logmgr_epochs(const br_logmgr_t *m, const char *topic, int32_t partition)
{
    br_logmgr_part_t *part = br_logmgr_lookup(m, topic, partition);

    return br_logmgr_healthy(part) ? part->epochs : NULL;
}

sm_err_t br_logmgr_create(br_logmgr_t *m, const char *topic, int32_t partition, int64_t now_ms,
                          br_log_t **out, sm_errbuf_t *eb)
{
    br_logmgr_part_t *part;
    size_t best = SIZE_MAX;
    size_t at;
    bool found;
    sm_err_t err;

    *out = NULL;
    if (!br_logmgr_topic_ok(topic, strlen(topic)) || partition < 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "bad topic partition '%.255s'-%d", topic,
                             (int)partition);
    at = br_logmgr_find(m, topic, partition, &found);
    if (found) {
        part = m->parts[at];
        if (!br_logmgr_healthy(part))
            return sm_errbuf_set(eb, SM_ERR_STATE, "partition %s-%d is failed (%s)", topic,
                                 (int)partition, part->path);
        *out = part->log;
        return SM_OK;
    }
    for (size_t i = 0; i < m->ndirs; i++)
        if (m->dirs[i].online && (best == SIZE_MAX || m->dirs[i].nparts < m->dirs[best].nparts))
            best = i;
    if (best == SIZE_MAX)
        return sm_errbuf_set(eb, SM_ERR_IO, "cannot create %s-%d: no log dir is online", topic,
                             (int)partition);
    part = br_logmgr_part_new(m, topic, partition, best);
    if (part == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory creating %s-%d", topic,
                             (int)partition);
    err = br_logmgr_part_open(m, part, false, now_ms, eb);
    /* The new directory entry must survive a crash like the data below it. */
    if (err == SM_OK)
        err = br_logmgr_fsync_dir(m->ops, m->dirs[best].path, eb);
    if (err == SM_OK)
        err = br_logmgr_insert(m, at, part);
    if (err != SM_OK) {
        br_logmgr_part_free(part);
        return err;
    }
    *out = part->log;
    return SM_OK;
}

/* The directory name for a deleted log: Kafka's `<topic>-<partition>.<uuid hex>-delete`, with
 * the topic shortened so the whole fits in 255 bytes. */
static sm_err_t br_logmgr_delete_name(const br_logmgr_part_t *part, char *buf, size_t cap)
{
    unsigned char rnd[16];
    char suffix[64];
    size_t n = 0;
    size_t topic_len;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return SM_ERR_IO;
    n += (size_t)snprintf(suffix, sizeof(suffix), "-%d.", (int)part->partition);
    for (size_t i = 0; i < sizeof(rnd); i++)
        n += (size_t)snprintf(suffix + n, sizeof(suffix) - n, "%02x", rnd[i]);
    snprintf(suffix + n, sizeof(suffix) - n, "%s", BR_LOGMGR_DELETE_SUFFIX);
    topic_len = strlen(part->topic);
    if (topic_len > 255 - strlen(suffix))
        topic_len = 255 - strlen(suffix);
    if ((size_t)snprintf(buf, cap, "%s/%.*s%s", part->m->dirs[part->dir].path, (int)topic_len,
                         part->topic, suffix) >= cap)
        return SM_ERR_INVALID;
    return SM_OK;
}

sm_err_t br_logmgr_delete(br_logmgr_t *m, const char *topic, int32_t partition, sm_errbuf_t *eb)
{
    char to[PATH_MAX];
    br_logmgr_part_t *part;
    char *from;
    size_t at;
    bool found;
    sm_err_t err;

    at = br_logmgr_find(m, topic, partition, &found);
    if (!found)
        return sm_errbuf_set(eb, SM_ERR_NOT_FOUND, "no log for %s-%d", topic, (int)partition);
    part = m->parts[at];
    from = strdup(part->path);
    if (from == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory deleting %s", part->path);
    err = br_logmgr_delete_name(part, to, sizeof(to));
    br_logmgr_remove_at(m, at); /* closes the log: nothing may write into it any more */
    part = NULL;
    if (err != SM_OK) {
        err = sm_errbuf_set(eb, err, "%s: cannot name the deleted directory", from);
        goto out;
    }
    if (m->ops->rename(m->ops->ctx, from, to) < 0) {
        err = sm_errbuf_set(eb, SM_ERR_IO, "rename %s to %s: %s", from, to, strerror(errno));
        goto out;
    }
    *strrchr(from, '/') = '\0';
    err = br_logmgr_fsync_dir(m->ops, from, eb);
    br_logmgr_remove_later(m, to);
out:
    free(from);
    return err;
}

int64_t br_logmgr_high_watermark(const br_logmgr_t *m, const char *topic, int32_t partition)
{
    br_logmgr_part_t *part = br_logmgr_lookup(m, topic, partition);

    return part != NULL ? part->hw : -1;
}

sm_err_t br_logmgr_set_high_watermark(br_logmgr_t *m, const char *topic, int32_t partition,
                                      int64_t hw)
{
    br_logmgr_part_t *part = br_logmgr_lookup(m, topic, partition);

    if (part == NULL)
        return SM_ERR_NOT_FOUND;
    if (hw < 0)
        return SM_ERR_INVALID;
    part->hw = hw;
    return SM_OK;
}

/* ---- flushing and retention ------------------------------------------------------------------ */

/* @thread flusher */
static sm_err_t br_logmgr_flush_work(void *arg, sm_errbuf_t *eb)
{
    br_logmgr_flush_ctx_t *fc = arg;
    sm_err_t err = br_log_flush_job_run(fc->job);

    if (err != SM_OK)
        sm_errbuf_set(eb, err, "fsync: %s", sm_err_str(err));
    return err;
}

static void br_logmgr_flush_done(void *arg, sm_err_t err, const char *msg)
{
    br_logmgr_flush_ctx_t *fc = arg;
    br_logmgr_part_t *part = fc->part;

    (void)err;
    (void)msg;
    part->flushing = false;
    if (part->detached) {
        br_log_flush_job_free(fc->job);
        if (!part->wb_busy)
            br_logmgr_part_free(part);
    } else if (part->log == NULL) {
        br_log_flush_job_free(fc->job);
    } else if (br_log_flush_done(part->log, fc->job) != SM_OK) {
        sm_log_error("flushing %s failed: %s", part->path, msg);
    }
    free(fc);
}

sm_err_t br_logmgr_flush(br_logmgr_t *m, int64_t now_ms, bool force, size_t *started)
{
    sm_err_t first = SM_OK;
    size_t n = 0;

    for (size_t k = 0; k < m->nparts; k++) {
        br_logmgr_part_t *part = m->parts[k];
        br_logmgr_flush_ctx_t *fc;
        br_log_flush_job_t *job = NULL;
        sm_err_t err;

        if (!br_logmgr_healthy(part) || part->flushing ||
            !(force || br_log_flush_due(part->log, now_ms)))
            continue;
        if (m->flusher == NULL) {
            if (br_log_flush(part->log, now_ms) == SM_OK)
                n++;
            continue;
        }
        err = br_log_flush_begin(part->log, now_ms, &job);
        if (err != SM_OK || job == NULL) {
            if (err == SM_ERR_NOMEM && first == SM_OK)
                first = err;
            continue;
        }
        fc = malloc(sizeof(*fc));
        if (fc != NULL) {
            fc->part = part;
            fc->job = job;
        }
        if (fc == NULL ||
            br_flusher_call(m->flusher, br_logmgr_flush_work, br_logmgr_flush_done, fc) != SM_OK) {
            free(fc);
            br_log_flush_job_free(job);
            first = SM_ERR_NOMEM;
            continue;
        }
        part->flushing = true;
        n++;
    }
    if (started != NULL)
        *started = n;
    return first;
}

#define BR_LOGMGR_WB_PAGE ((uint64_t)4096)

/* A writeback start handed to the flusher: its own descriptor and the byte range; with
 * log.preallocate, the reservation to make first (reserve > 0: bytes from the file's start). */
typedef struct br_logmgr_wb_job {
    br_logmgr_part_t *part;
    int fd;
    uint64_t from, len;
    uint64_t reserve;
} br_logmgr_wb_job_t;

/* @thread flusher. Whether the file system of fd keeps, after reserving `bytes` more, at least
 * that much again and a tenth of its size free: a reservation must never be what fills a
 * disk and fails real appends with ENOSPC. */
static bool br_logmgr_room_to_reserve(int fd, uint64_t bytes)
{
    struct statvfs sv;
    uint64_t avail, total;

    if (fstatvfs(fd, &sv) < 0)
        return false;
    avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    total = (uint64_t)sv.f_blocks * sv.f_frsize;
    return avail >= 2 * bytes && avail - 2 * bytes >= total / 10;
}

/* @thread flusher. Advisory: a failure costs only the smoothing, so it is logged, not raised.
 * The reservation comes first: the write started after it then allocates nothing. It holds the
 * file's inode lock while the file system allocates (which can wait for disk reads), so the
 * appends that meet it wait on the writer thread, not on the loop -- once per segment. */
static sm_err_t br_logmgr_wb_work(void *arg, sm_errbuf_t *eb)
{
    br_logmgr_wb_job_t *j = arg;

    (void)eb;
    if (j->reserve > 0 && br_logmgr_room_to_reserve(j->fd, j->reserve) &&
        fallocate(j->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)j->reserve) < 0)
        sm_log_debug("fallocate (reserve): %s", strerror(errno));
    if (sync_file_range(j->fd, (off64_t)j->from, (off64_t)j->len, SYNC_FILE_RANGE_WRITE) < 0)
        sm_log_debug("sync_file_range: %s", strerror(errno));
    return SM_OK;
}

static void br_logmgr_wb_done(void *arg, sm_err_t err, const char *msg)
{
    br_logmgr_wb_job_t *j = arg;
    br_logmgr_part_t *part = j->part;

    (void)err;
    (void)msg;
    close(j->fd);
    free(j);
    part->wb_busy = false;
    if (part->detached) {
        if (!part->flushing)
            br_logmgr_part_free(part);
    } else if (part->log != NULL) {
        br_log_set_offload(part->log, false);
    }
}

/* With log.preallocate: the reservation of the active segment `base`, made with its first
 * writeback start (a partition that never writes log.writeback.bytes into a segment reserves
 * nothing; again after a truncation, which frees the reserved blocks past the cut). Returns
 * the bytes to reserve. */
static uint64_t br_logmgr_wb_reserve(br_logmgr_part_t *part, int64_t base)
{
    if (!part->m->preallocate || part->reserved)
        return 0;
    part->reserved = true;
    part->reserved_base = base;
    return (uint64_t)br_log_segment_max_bytes(part->log);
}

sm_err_t br_logmgr_writeback(br_logmgr_t *m, uint64_t min_bytes, size_t *started)
{
    sm_err_t first = SM_OK;
    size_t n = 0;

    for (size_t k = 0; m->flusher != NULL && k < m->nparts; k++) {
        br_logmgr_part_t *part = m->parts[k];
        br_logmgr_wb_job_t *j;
        int64_t base = 0;
        uint64_t size = 0;
        int fd;

        if (!br_logmgr_healthy(part) || part->wb_busy ||
            (fd = br_log_active_file(part->log, &base, &size)) < 0)
            continue;
        if (base != part->wb_base || size < part->wb_size) {
            if (base == part->wb_base && part->reserved_base == base)
                part->reserved = false; /* truncated: the reservation past the cut is gone */
            part->wb_base = base;       /* a new segment, or this one was truncated */
            part->wb_size = 0;
        }
        if (part->reserved && part->reserved_base != base) {
            /* Sealed since: give back what it did not use, on its writer thread. */
            br_log_release_unused(part->log, part->reserved_base);
            part->reserved = false;
        }
        /* Whole pages only, one short of the end: the page the next append writes into is
         * left alone, so the append never waits for its writeback. */
        size = size > BR_LOGMGR_WB_PAGE ? (size & ~(BR_LOGMGR_WB_PAGE - 1)) - BR_LOGMGR_WB_PAGE : 0;
        if (size <= part->wb_size || size - part->wb_size < min_bytes)
            continue;
        j = malloc(sizeof(*j));
        if (j == NULL || (j->fd = dup(fd)) < 0) {
            free(j);
            first = SM_ERR_NOMEM;
            continue;
        }
        j->part = part;
        j->from = part->wb_size;
        j->len = size - part->wb_size;
        j->reserve = br_logmgr_wb_reserve(part, base);
        if (br_flusher_call(m->flusher, br_logmgr_wb_work, br_logmgr_wb_done, j) != SM_OK) {
            if (j->reserve > 0)
                part->reserved = false;
            close(j->fd);
            free(j);
            first = SM_ERR_NOMEM;
            continue;
        }
        /* Writeback takes the inode's block map while it allocates: until it is done, the
         * partition's appends go to its writer thread rather than risk the loop (br_log.h
         * note 5). */
        part->wb_busy = true;
        br_log_set_offload(part->log, true);
        part->wb_size = size;
        n++;
    }
    if (started != NULL)
        *started = n;
    return first;
}

sm_err_t br_logmgr_retention(br_logmgr_t *m, int64_t now_ms, br_logmgr_bound_fn bound, void *arg,
                             size_t *deleted)
{
    size_t total = 0;

    for (size_t k = 0; k < m->nparts; k++) {
        br_logmgr_part_t *part = m->parts[k];
        sm_errbuf_t eb;
        size_t n = 0;
        int64_t upper;

        if (!br_logmgr_healthy(part))
            continue;
        upper = bound != NULL ? bound(arg, part->topic, part->partition, part->log) : part->hw;
        if (upper < 0)
            continue;
        if (br_log_delete_old_segments(part->log, now_ms, upper, &n) != SM_OK)
            continue; /* br_log has failed the log and said why */
        total += n;
        if (n > 0 && br_epoch_truncate_from_start(part->epochs, br_log_start_offset(part->log),
                                                  &eb) != SM_OK)
            sm_log_error("%s", eb.msg);
    }
    if (deleted != NULL)
        *deleted = total;
    return SM_OK;
}

/* ---- cluster id and accessors -------------------------------------------------------------- */

sm_err_t br_logmgr_set_cluster_id(br_logmgr_t *m, const char *cluster_id, sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    sm_errbuf_t deb;

    if (cluster_id == NULL || cluster_id[0] == '\0' ||
        strlen(cluster_id) > BR_LOGMGR_CLUSTER_ID_MAX || strchr(cluster_id, '\n') != NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "bad cluster id");
    if (m->cluster_id[0] != '\0' && strcmp(m->cluster_id, cluster_id) != 0) {
        for (size_t i = 0; i < m->ndirs; i++)
            if (m->dirs[i].online && m->dirs[i].has_cluster_id)
                return sm_errbuf_set(eb, SM_ERR_CONFIG,
                                     "log dir %s: meta.properties has cluster.id=%s but the "
                                     "cluster is cluster.id=%s",
                                     m->dirs[i].path, m->cluster_id, cluster_id);
    }
    if (cluster_id != m->cluster_id)
        snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", cluster_id);
    for (size_t i = 0; i < m->ndirs; i++) {
        if (!m->dirs[i].online || m->dirs[i].has_cluster_id)
            continue;
        if (br_logmgr_meta_write(m, i, cluster_id, &deb) != SM_OK) {
            snprintf(path, sizeof(path), "cannot write %s: %s", BR_LOGMGR_META, deb.msg);
            br_logmgr_fail_dir(m, i, path);
        }
    }
    return SM_OK;
}

const char *br_logmgr_cluster_id(const br_logmgr_t *m)
{
    return m->cluster_id[0] != '\0' ? m->cluster_id : NULL;
}

size_t br_logmgr_count(const br_logmgr_t *m)
{
    return m->nparts;
}

void br_logmgr_at(const br_logmgr_t *m, size_t i, const char **topic, int32_t *partition)
{
    *topic = m->parts[i]->topic;
    *partition = m->parts[i]->partition;
}

size_t br_logmgr_dir_count(const br_logmgr_t *m)
{
    return m->ndirs;
}

const char *br_logmgr_dir_path(const br_logmgr_t *m, size_t i)
{
    return m->dirs[i].path;
}

bool br_logmgr_dir_online(const br_logmgr_t *m, size_t i)
{
    return m->dirs[i].online;
}

bool br_logmgr_dir_was_clean(const br_logmgr_t *m, size_t i)
{
    return m->dirs[i].was_clean;
}

size_t br_logmgr_dir_partitions(const br_logmgr_t *m, size_t i)
{
    return m->dirs[i].nparts;
}
