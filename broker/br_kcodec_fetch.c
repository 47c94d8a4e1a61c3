/*
 * br_kcodec_fetch: FetchRequest decoder and streaming FetchResponse encoder, versions 4-11.
 * See br_kcodec_fetch.h for the byte layout and the contract.
 */
#include "broker/br_kcodec_fetch.h"

#include <stdlib.h>
#include <string.h>

#define BR_KCODEC_FETCH_TOPIC_MIN 6 /* name length + partition count */

/* Fewest wire bytes of one request partition at version v. */
static size_t br_kcodec_fetch_part_min(int16_t v)
{
    size_t n = 4 + 8 + 4;
    if (v >= 5)
        n += 8;
    if (v >= 9)
        n += 4;
    return n;
}

static sm_err_t br_kcodec_fetch_decode_topic(sm_reader_t *r, int16_t v, br_kcodec_fetch_topic_t *t)
{
    t->name = sm_reader_str(r);
    int32_t n = sm_reader_array_len(r, br_kcodec_fetch_part_min(v));
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n == 0)
        return SM_OK;
    t->parts = calloc((size_t)n, sizeof(*t->parts));
    if (t->parts == NULL)
        return SM_ERR_NOMEM;
    t->n_parts = n;
    for (int32_t i = 0; i < n; i++) {
        br_kcodec_fetch_part_t *p = &t->parts[i];
        p->partition = sm_reader_i32(r);
        p->current_leader_epoch = v >= 9 ? sm_reader_i32(r) : -1;
        p->fetch_offset = sm_reader_i64(r);
        p->log_start_offset = v >= 5 ? sm_reader_i64(r) : -1;
        p->partition_max_bytes = sm_reader_i32(r);
    }
    return sm_reader_err(r);
}

/* Forgotten topics (v7+): only incremental sessions use them; read and dropped. */
static void br_kcodec_fetch_skip_forgotten(sm_reader_t *r)
{
    int32_t n = sm_reader_array_len(r, BR_KCODEC_FETCH_TOPIC_MIN);
    for (int32_t i = 0; i < n && sm_reader_err(r) == SM_OK; i++) {
        (void)sm_reader_str(r);
        int32_t np = sm_reader_array_len(r, 4);
        sm_reader_skip(r, (size_t)np * 4);
    }
}

sm_err_t br_kcodec_fetch_decode(sm_reader_t *r, int16_t version, br_kcodec_fetch_req_t *req)
{
    sm_err_t err = SM_OK;

    memset(req, 0, sizeof(*req));
    req->version = version;
    req->session_epoch = -1;
    req->rack_id = sm_str_of("");
    if (version < BR_KCODEC_FETCH_MIN_VERSION || version > BR_KCODEC_FETCH_MAX_VERSION) {
        err = SM_ERR_VERSION;
        goto out;
    }
    req->replica_id = sm_reader_i32(r);
    req->max_wait_ms = sm_reader_i32(r);
    req->min_bytes = sm_reader_i32(r);
    req->max_bytes = sm_reader_i32(r);
    req->isolation_level = sm_reader_i8(r);
    if (version >= 7) {
        req->session_id = sm_reader_i32(r);
        req->session_epoch = sm_reader_i32(r);
    }
    int32_t n = sm_reader_array_len(r, BR_KCODEC_FETCH_TOPIC_MIN);
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
        if ((err = br_kcodec_fetch_decode_topic(r, version, &req->topics[i])) != SM_OK)
            goto out;
    }
    if (version >= 7)
        br_kcodec_fetch_skip_forgotten(r);
    if (version >= 11)
        req->rack_id = sm_reader_str(r);
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_fetch_req_deinit(req);
        req->version = version;
    }
    return err;
}

void br_kcodec_fetch_req_deinit(br_kcodec_fetch_req_t *req)
{
    if (req == NULL)
        return;
    for (int32_t i = 0; i < req->n_topics; i++)
        free(req->topics[i].parts);
    free(req->topics);
    memset(req, 0, sizeof(*req));
    req->session_epoch = -1;
    req->rack_id = sm_str_of("");
}

void br_kcodec_fetch_write_header(sm_writer_t *w, int16_t version, int32_t throttle_ms,
                                  sm_kerr_t error, int32_t session_id, int32_t n_topics)
{
    sm_writer_i32(w, throttle_ms);
    if (version >= 7) {
        sm_writer_i16(w, error);
        sm_writer_i32(w, session_id);
    }
    sm_writer_array_len(w, n_topics);
}

void br_kcodec_fetch_write_topic(sm_writer_t *w, int16_t version, sm_str_t name, int32_t n_parts)
{
    (void)version;
    sm_writer_str(w, name);
    sm_writer_array_len(w, n_parts);
}

void br_kcodec_fetch_write_partition(sm_writer_t *w, int16_t version,
                                     const br_kcodec_fetch_presp_t *p, int32_t records_len)
{
    sm_writer_i32(w, p->partition);
    sm_writer_i16(w, p->error);
    sm_writer_i64(w, p->high_watermark);
    sm_writer_i64(w, p->last_stable_offset);
    if (version >= 5)
        sm_writer_i64(w, p->log_start_offset);
    sm_writer_array_len(w, 0); /* aborted transactions: empty, not null */
    if (version >= 11)
        sm_writer_i32(w, -1); /* preferred read replica */
    sm_writer_i32(w, records_len);
}

size_t br_kcodec_fetch_partition_size(int16_t version)
{
    size_t n = 4 + 2 + 8 + 8 + 4 + 4;
    if (version >= 5)
        n += 8;
    if (version >= 11)
        n += 4;
    return n;
}
