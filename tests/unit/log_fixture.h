/*
 * log_fixture: what test_log and test_log_writer share -- a scratch partition directory per
 * test, a model of the batches a log acknowledged, and helpers that open a log, append
 * simple batches and check a log against the model byte for byte.
 */
#ifndef LOG_FIXTURE_H
#define LOG_FIXTURE_H

#include <criterion/criterion.h>

#include "broker/br_log.h"
#include "sm_log.h"
#include "storage_fixture.h"

static char root[256];
static char dir[512];

static inline void log_fx_setup(void)
{
    sm_log_init("test_log", SM_LOG_OFF);
    fx_mkdtemp(root, sizeof(root), "test_log");
    snprintf(dir, sizeof(dir), "%s/orders-0", root);
}

static inline void log_fx_teardown(void)
{
    fx_rmtree(root);
}

/* ---- model of what was acknowledged ------------------------------------------------------ */

typedef struct mbatch {
    int64_t base;
    int64_t last;
    uint8_t *bytes; /* as stored (stamped) */
    size_t len;
} mbatch_t;

typedef struct model {
    mbatch_t *b;
    size_t n;
    size_t cap;
} model_t;

static inline void model_push(model_t *m, const uint8_t *bytes, size_t len, int64_t base,
                              int64_t last)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->b = realloc(m->b, m->cap * sizeof(*m->b));
    }
    m->b[m->n].base = base;
    m->b[m->n].last = last;
    m->b[m->n].len = len;
    m->b[m->n].bytes = malloc(len);
    memcpy(m->b[m->n].bytes, bytes, len);
    m->n++;
}

/* Drops batches with last offset >= offset (what br_log_truncate_to removes). */
static inline void model_truncate(model_t *m, int64_t offset)
{
    while (m->n > 0 && m->b[m->n - 1].last >= offset)
        free(m->b[--m->n].bytes);
}

static inline void model_free(model_t *m)
{
    model_truncate(m, INT64_MIN);
    free(m->b);
    memset(m, 0, sizeof(*m));
}

static inline int64_t model_end(const model_t *m, int64_t empty)
{
    return m->n > 0 ? m->b[m->n - 1].last + 1 : empty;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static inline br_log_config_t test_cfg(void)
{
    br_log_config_t c;

    br_log_config_defaults(&c);
    c.segment_bytes = 4096;
    c.index_interval_bytes = 256;
    c.index_max_bytes = 4096;
    c.retention_ms = -1;
    c.retention_bytes = -1;
    return c;
}

static inline br_log_t *open_log(const br_fileops_t *ops, const br_log_config_t *cfg, bool clean,
                                 int64_t rp, int64_t lso, int64_t now)
{
    br_log_t *log = NULL;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_log_open(ops, dir, cfg, clean, rp, lso, now, &log, &eb), SM_OK, "%s", eb.msg);
    cr_assert_not_null(log);
    return log;
}

static inline sm_err_t append_batch(br_log_t *log, model_t *m, int32_t records, size_t vlen,
                                    int64_t ts, int64_t now, br_log_append_info_t *info)
{
    size_t len;
    uint8_t *b = fx_simple_batch(records, vlen, ts, &len);
    br_batch_set_t set;
    br_log_append_info_t local;
    sm_err_t err;

    if (info == NULL)
        info = &local;
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, len, NULL, &set, NULL), SM_OK);
    err = br_log_append(log, b, &set, 7, now, info);
    if (err == SM_OK && m != NULL)
        model_push(m, b, len, info->first_offset, info->last_offset);
    br_batch_set_deinit(&set);
    free(b);
    return err;
}

/* Reads the whole log from its start: the batches must be m's batches (those not below the
 * log start), byte for byte, in order; with allow_extra more may follow them. */
static inline void verify_log(br_log_t *log, const model_t *m, bool allow_extra)
{
    int64_t off = br_log_start_offset(log);
    size_t k = 0;
    int guard;

    while (k < m->n && m->b[k].last < off)
        k++;
    for (guard = 0; guard < 100000; guard++) {
        br_log_slice_t s;
        uint8_t *data;
        size_t p = 0;

        cr_assert_eq(br_log_read(log, off, 3000, BR_LOG_NO_BOUND, &s), SM_OK);
        if (s.len == 0)
            break;
        data = fx_pread_all(s.fd, s.pos, s.len);
        while (p < s.len) {
            br_batch_header_t h;
            size_t sz;

            cr_assert_eq(br_batch_header_parse(data + p, s.len - p, &h), SM_OK);
            sz = br_batch_size(&h);
            cr_assert_leq(p + sz, s.len);
            cr_assert_eq(br_batch_validate(data + p, sz, NULL, NULL, NULL), SM_OK);
            if (k < m->n) {
                cr_assert_eq(sz, m->b[k].len, "batch %zu", k);
                cr_assert_arr_eq(data + p, m->b[k].bytes, sz, "batch %zu differs", k);
                k++;
            } else {
                cr_assert(allow_extra, "unexpected batch at %lld", (long long)h.base_offset);
            }
            p += sz;
        }
        free(data);
        cr_assert_gt(s.next_offset, off);
        off = s.next_offset;
    }
    cr_assert_eq(k, m->n, "%zu of %zu batches found", k, m->n);
    cr_assert_eq(off, br_log_end_offset(log));
    if (!allow_extra)
        cr_assert_eq(br_log_end_offset(log), model_end(m, br_log_end_offset(log)));
}

/* Every offset of every batch is found in its batch. */
static inline void verify_lookups(br_log_t *log, const model_t *m)
{
    for (size_t k = 0; k < m->n; k++) {
        for (int64_t o = m->b[k].base; o <= m->b[k].last; o++) {
            br_log_slice_t s;

            if (o < br_log_start_offset(log))
                continue;
            cr_assert_eq(br_log_read(log, o, 1, BR_LOG_NO_BOUND, &s), SM_OK);
            cr_assert_eq(s.first_offset, m->b[k].base, "offset %lld", (long long)o);
            cr_assert_eq(s.len, m->b[k].len);
        }
    }
}

#endif
