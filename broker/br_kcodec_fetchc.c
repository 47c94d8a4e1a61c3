/*
 * br_kcodec_fetchc: FetchRequest encoder and FetchResponse decoder for a follower, versions
 * 4-11. See br_kcodec_fetchc.h for the contract and br_kcodec_fetch.h for the byte layout.
 */
#include "broker/br_kcodec_fetchc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BR_KCODEC_FETCHC_TOPIC_MIN   6  /* name length + partition count */
#define BR_KCODEC_FETCHC_ABORTED_MIN 16 /* producer_id int64 + first_offset int64 */

static bool br_kcodec_fetchc_version_ok(int16_t v)
{
    return v >= BR_KCODEC_FETCH_MIN_VERSION && v <= BR_KCODEC_FETCH_MAX_VERSION;
}

/* ---- request ----------------------------------------------------------------------------------
 */

void br_kcodec_fetchc_encode_request(sm_writer_t *w, const br_kcodec_fetch_req_t *req)
{
    int16_t v = req->version;

    if (!br_kcodec_fetchc_version_ok(v)) {
        sm_writer_fail(w, SM_ERR_VERSION);
        return;
    }
    sm_writer_i32(w, req->replica_id);
    sm_writer_i32(w, req->max_wait_ms);
    sm_writer_i32(w, req->min_bytes);
    sm_writer_i32(w, req->max_bytes);
    sm_writer_i8(w, req->isolation_level);
    if (v >= 7) {
        sm_writer_i32(w, 0);  /* session_id: no session */
        sm_writer_i32(w, -1); /* session_epoch: full fetch */
    }
    sm_writer_array_len(w, req->n_topics);
    for (int32_t i = 0; i < req->n_topics; i++) {
        const br_kcodec_fetch_topic_t *t = &req->topics[i];
        sm_writer_str(w, t->name);
        sm_writer_array_len(w, t->n_parts);
        for (int32_t j = 0; j < t->n_parts; j++) {
            const br_kcodec_fetch_part_t *p = &t->parts[j];
            sm_writer_i32(w, p->partition);
            if (v >= 9)
                sm_writer_i32(w, p->current_leader_epoch);
            sm_writer_i64(w, p->fetch_offset);
            if (v >= 5)
                sm_writer_i64(w, p->log_start_offset);
            sm_writer_i32(w, p->partition_max_bytes);
        }
    }
    if (v >= 7)
        sm_writer_array_len(w, 0); /* forgotten topics */
    if (v >= 11)
        sm_writer_str(w, req->rack_id.ptr != NULL ? req->rack_id : sm_str_of(""));
}

/* ---- response ---------------------------------------------------------------------------------
 */

/* Fewest wire bytes of one response partition at version v (records empty). */
static size_t br_kcodec_fetchc_part_min(int16_t v)
{
    size_t n = 4 + 2 + 8 + 8 + 4 + 4;
    if (v >= 5)
        n += 8;
    if (v >= 11)
        n += 4;
    return n;
}

static void br_kcodec_fetchc_decode_part(sm_reader_t *r, int16_t v, br_kcodec_fetchc_part_t *p)
{
    p->h.partition = sm_reader_i32(r);
    p->h.error = sm_reader_i16(r);
    p->h.high_watermark = sm_reader_i64(r);
    p->h.last_stable_offset = sm_reader_i64(r);
    p->h.log_start_offset = v >= 5 ? sm_reader_i64(r) : -1;
    int32_t n_aborted = sm_reader_nullable_array_len(r, BR_KCODEC_FETCHC_ABORTED_MIN);
    if (n_aborted > 0)
        sm_reader_skip(r, (size_t)n_aborted * BR_KCODEC_FETCHC_ABORTED_MIN);
    p->preferred_read_replica = v >= 11 ? sm_reader_i32(r) : -1;
    p->records = sm_reader_nullable_bytes(r);
    if (p->records.len < 0)
        p->records = (sm_bytes_t){NULL, 0};
}

static sm_err_t br_kcodec_fetchc_decode_topic(sm_reader_t *r, int16_t v,
                                              br_kcodec_fetchc_topic_t *t)
{
    t->name = sm_reader_str(r);
    int32_t n = sm_reader_array_len(r, br_kcodec_fetchc_part_min(v));
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n > 0) {
        t->parts = calloc((size_t)n, sizeof(*t->parts));
        if (t->parts == NULL)
            return SM_ERR_NOMEM;
        t->n_parts = n;
    }
    for (int32_t i = 0; i < n && sm_reader_err(r) == SM_OK; i++)
        br_kcodec_fetchc_decode_part(r, v, &t->parts[i]);
    return sm_reader_err(r);
}

sm_err_t br_kcodec_fetchc_decode_response(sm_reader_t *r, int16_t version,
                                          br_kcodec_fetchc_resp_t *resp)
{
    sm_err_t err = SM_OK;

    memset(resp, 0, sizeof(*resp));
    resp->version = version;
    if (!br_kcodec_fetchc_version_ok(version)) {
        err = SM_ERR_VERSION;
        goto out;
    }
    resp->throttle_ms = sm_reader_i32(r);
    if (version >= 7) {
        resp->error = sm_reader_i16(r);
        resp->session_id = sm_reader_i32(r);
    }
    int32_t n = sm_reader_array_len(r, BR_KCODEC_FETCHC_TOPIC_MIN);
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
        if ((err = br_kcodec_fetchc_decode_topic(r, version, &resp->topics[i])) != SM_OK)
            goto out;
    }
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_fetchc_resp_deinit(resp);
        resp->version = version;
    }
    return err;
}

void br_kcodec_fetchc_resp_deinit(br_kcodec_fetchc_resp_t *resp)
{
    if (resp == NULL)
        return;
    for (int32_t i = 0; i < resp->n_topics; i++)
        free(resp->topics[i].parts);
    free(resp->topics);
    memset(resp, 0, sizeof(*resp));
}
