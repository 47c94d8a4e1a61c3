/*
 * br_kcodec_epoch: OffsetForLeaderEpoch request and response codecs, versions 0-4 (v4
 * flexible), both directions. See br_kcodec_epoch.h for the byte layout and the contract.
 */
#include "broker/br_kcodec_epoch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- flexible-aware primitives ----------------------------------------------------------------
 */

static bool br_kcodec_epoch_flexible(int16_t v)
{
    return v >= BR_KCODEC_EPOCH_FLEXIBLE_FROM;
}

static bool br_kcodec_epoch_version_ok(int16_t v)
{
    return v >= BR_KCODEC_EPOCH_MIN_VERSION && v <= BR_KCODEC_EPOCH_MAX_VERSION;
}

static int32_t br_kcodec_epoch_read_count(sm_reader_t *r, int16_t v, size_t min_elem)
{
    return br_kcodec_epoch_flexible(v) ? sm_reader_compact_array_len(r, min_elem)
                                       : sm_reader_array_len(r, min_elem);
}

static sm_str_t br_kcodec_epoch_read_str(sm_reader_t *r, int16_t v)
{
    return br_kcodec_epoch_flexible(v) ? sm_reader_compact_str(r) : sm_reader_str(r);
}

static void br_kcodec_epoch_read_tags(sm_reader_t *r, int16_t v)
{
    if (br_kcodec_epoch_flexible(v))
        sm_reader_skip_tags(r);
}

static void br_kcodec_epoch_write_count(sm_writer_t *w, int16_t v, int32_t n)
{
    if (br_kcodec_epoch_flexible(v))
        sm_writer_compact_array_len(w, n);
    else
        sm_writer_array_len(w, n);
}

static void br_kcodec_epoch_write_str(sm_writer_t *w, int16_t v, sm_str_t s)
{
    if (br_kcodec_epoch_flexible(v))
        sm_writer_compact_str(w, s);
    else
        sm_writer_str(w, s);
}

static void br_kcodec_epoch_write_tags(sm_writer_t *w, int16_t v)
{
    if (br_kcodec_epoch_flexible(v))
        sm_writer_empty_tags(w);
}

/* Fewest wire bytes of one topic (name length + partition count [+ tags]). */
static size_t br_kcodec_epoch_topic_min(int16_t v)
{
    return br_kcodec_epoch_flexible(v) ? 3 : 6;
}

/* Fewest wire bytes of one request partition at version v. */
static size_t br_kcodec_epoch_req_part_min(int16_t v)
{
    size_t n = 4 + 4;
    if (v >= 2)
        n += 4;
    if (br_kcodec_epoch_flexible(v))
        n += 1;
    return n;
}

/* Fewest wire bytes of one response partition at version v. */
static size_t br_kcodec_epoch_resp_part_min(int16_t v)
{
    size_t n = 2 + 4 + 8;
    if (v >= 1)
        n += 4;
    if (br_kcodec_epoch_flexible(v))
        n += 1;
    return n;
}

/* ---- request ----------------------------------------------------------------------------------
 */

static sm_err_t br_kcodec_epoch_req_decode_topic(sm_reader_t *r, int16_t v,
                                                 br_kcodec_epoch_topic_t *t)
{
    t->name = br_kcodec_epoch_read_str(r, v);
    int32_t n = br_kcodec_epoch_read_count(r, v, br_kcodec_epoch_req_part_min(v));
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n > 0) {
        t->parts = calloc((size_t)n, sizeof(*t->parts));
        if (t->parts == NULL)
            return SM_ERR_NOMEM;
        t->n_parts = n;
    }
    for (int32_t i = 0; i < n; i++) {
        br_kcodec_epoch_part_t *p = &t->parts[i];
        p->partition = sm_reader_i32(r);
        p->current_leader_epoch = v >= 2 ? sm_reader_i32(r) : -1;
        p->leader_epoch = sm_reader_i32(r);
        br_kcodec_epoch_read_tags(r, v);
    }
    br_kcodec_epoch_read_tags(r, v);
    return sm_reader_err(r);
}

sm_err_t br_kcodec_epoch_req_decode(sm_reader_t *r, int16_t version, br_kcodec_epoch_req_t *req)
{
    sm_err_t err = SM_OK;

    memset(req, 0, sizeof(*req));
    req->version = version;
    req->replica_id = BR_KCODEC_EPOCH_DEBUG_REPLICA;
    if (!br_kcodec_epoch_version_ok(version)) {
        err = SM_ERR_VERSION;
        goto out;
    }
    if (version >= 3)
        req->replica_id = sm_reader_i32(r);
    int32_t n = br_kcodec_epoch_read_count(r, version, br_kcodec_epoch_topic_min(version));
    if ((err = sm_reader_err(r)) != SM_OK)
        goto out;
    if (n > 0) {
        req->topics = calloc((size_t)n, sizeof(*req->topics));
        if (req->topics == NULL) {
            err = SM_ERR_NOMEM;
            goto out;
        }
        req->n_topics = n;
    }
    for (int32_t i = 0; i < n; i++) {
        if ((err = br_kcodec_epoch_req_decode_topic(r, version, &req->topics[i])) != SM_OK)
            goto out;
    }
    br_kcodec_epoch_read_tags(r, version);
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_epoch_req_deinit(req);
        req->version = version;
    }
    return err;
}

void br_kcodec_epoch_req_encode(sm_writer_t *w, const br_kcodec_epoch_req_t *req)
{
    int16_t v = req->version;

    if (!br_kcodec_epoch_version_ok(v)) {
        sm_writer_fail(w, SM_ERR_VERSION);
        return;
    }
    if (v >= 3)
        sm_writer_i32(w, req->replica_id);
    br_kcodec_epoch_write_count(w, v, req->n_topics);
    for (int32_t i = 0; i < req->n_topics; i++) {
        const br_kcodec_epoch_topic_t *t = &req->topics[i];
        br_kcodec_epoch_write_str(w, v, t->name);
        br_kcodec_epoch_write_count(w, v, t->n_parts);
        for (int32_t j = 0; j < t->n_parts; j++) {
            const br_kcodec_epoch_part_t *p = &t->parts[j];
            sm_writer_i32(w, p->partition);
            if (v >= 2)
                sm_writer_i32(w, p->current_leader_epoch);
            sm_writer_i32(w, p->leader_epoch);
            br_kcodec_epoch_write_tags(w, v);
        }
        br_kcodec_epoch_write_tags(w, v);
    }
    br_kcodec_epoch_write_tags(w, v);
}

void br_kcodec_epoch_req_deinit(br_kcodec_epoch_req_t *req)
{
    if (req == NULL)
        return;
    for (int32_t i = 0; i < req->n_topics; i++)
        free(req->topics[i].parts);
    free(req->topics);
    memset(req, 0, sizeof(*req));
    req->replica_id = BR_KCODEC_EPOCH_DEBUG_REPLICA;
}

/* ---- response ---------------------------------------------------------------------------------
 */

static sm_err_t br_kcodec_epoch_resp_decode_topic(sm_reader_t *r, int16_t v,
                                                  br_kcodec_epoch_tresult_t *t)
{
    t->name = br_kcodec_epoch_read_str(r, v);
    int32_t n = br_kcodec_epoch_read_count(r, v, br_kcodec_epoch_resp_part_min(v));
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n > 0) {
        t->parts = calloc((size_t)n, sizeof(*t->parts));
        if (t->parts == NULL)
            return SM_ERR_NOMEM;
        t->n_parts = n;
    }
    for (int32_t i = 0; i < n; i++) {
        br_kcodec_epoch_presult_t *p = &t->parts[i];
        p->error = sm_reader_i16(r);
        p->partition = sm_reader_i32(r);
        p->leader_epoch = v >= 1 ? sm_reader_i32(r) : -1;
        p->end_offset = sm_reader_i64(r);
        br_kcodec_epoch_read_tags(r, v);
    }
    br_kcodec_epoch_read_tags(r, v);
    return sm_reader_err(r);
}

sm_err_t br_kcodec_epoch_resp_decode(sm_reader_t *r, int16_t version, br_kcodec_epoch_resp_t *resp)
{
    sm_err_t err = SM_OK;

    memset(resp, 0, sizeof(*resp));
    resp->version = version;
    if (!br_kcodec_epoch_version_ok(version)) {
        err = SM_ERR_VERSION;
        goto out;
    }
    if (version >= 2)
        resp->throttle_ms = sm_reader_i32(r);
    int32_t n = br_kcodec_epoch_read_count(r, version, br_kcodec_epoch_topic_min(version));
    if ((err = sm_reader_err(r)) != SM_OK)
        goto out;
    if (n > 0) {
        resp->topics = calloc((size_t)n, sizeof(*resp->topics));
        if (resp->topics == NULL) {
            err = SM_ERR_NOMEM;
            goto out;
        }
        resp->n_topics = n;
    }
    for (int32_t i = 0; i < n; i++) {
        if ((err = br_kcodec_epoch_resp_decode_topic(r, version, &resp->topics[i])) != SM_OK)
            goto out;
    }
    br_kcodec_epoch_read_tags(r, version);
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_epoch_resp_deinit(resp);
        resp->version = version;
    }
    return err;
}

void br_kcodec_epoch_resp_encode(sm_writer_t *w, const br_kcodec_epoch_resp_t *resp)
{
    int16_t v = resp->version;

    if (!br_kcodec_epoch_version_ok(v)) {
        sm_writer_fail(w, SM_ERR_VERSION);
        return;
    }
    if (v >= 2)
        sm_writer_i32(w, resp->throttle_ms);
    br_kcodec_epoch_write_count(w, v, resp->n_topics);
    for (int32_t i = 0; i < resp->n_topics; i++) {
        const br_kcodec_epoch_tresult_t *t = &resp->topics[i];
        br_kcodec_epoch_write_str(w, v, t->name);
        br_kcodec_epoch_write_count(w, v, t->n_parts);
        for (int32_t j = 0; j < t->n_parts; j++) {
            const br_kcodec_epoch_presult_t *p = &t->parts[j];
            sm_writer_i16(w, p->error);
            sm_writer_i32(w, p->partition);
            if (v >= 1)
                sm_writer_i32(w, p->leader_epoch);
            sm_writer_i64(w, p->end_offset);
            br_kcodec_epoch_write_tags(w, v);
        }
        br_kcodec_epoch_write_tags(w, v);
    }
    br_kcodec_epoch_write_tags(w, v);
}

void br_kcodec_epoch_resp_deinit(br_kcodec_epoch_resp_t *resp)
{
    if (resp == NULL)
        return;
    for (int32_t i = 0; i < resp->n_topics; i++)
        free(resp->topics[i].parts);
    free(resp->topics);
    memset(resp, 0, sizeof(*resp));
}
