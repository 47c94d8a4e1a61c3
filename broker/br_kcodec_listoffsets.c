/*
 * br_kcodec_listoffsets: ListOffsetsRequest decoder and ListOffsetsResponse encoder, versions
 * 0-5. See br_kcodec_listoffsets.h for the byte layout and the contract.
 */
#include "broker/br_kcodec_listoffsets.h"

#include <stdlib.h>
#include <string.h>

#define BR_KCODEC_LISTOFFSETS_TOPIC_MIN 6 /* name length + partition count */

/* Fewest wire bytes of one request partition at version v. */
static size_t br_kcodec_listoffsets_part_min(int16_t v)
{
    size_t n = 4 + 8;
    if (v == 0)
        n += 4;
    if (v >= 4)
        n += 4;
    return n;
}

static sm_err_t br_kcodec_listoffsets_decode_topic(sm_reader_t *r, int16_t v,
                                                   br_kcodec_listoffsets_topic_t *t)
{
    t->name = sm_reader_str(r);
    int32_t n = sm_reader_array_len(r, br_kcodec_listoffsets_part_min(v));
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n == 0)
        return SM_OK;
    t->parts = calloc((size_t)n, sizeof(*t->parts));
    if (t->parts == NULL)
        return SM_ERR_NOMEM;
    t->n_parts = n;
    for (int32_t i = 0; i < n; i++) {
        br_kcodec_listoffsets_part_t *p = &t->parts[i];
        p->partition = sm_reader_i32(r);
        p->current_leader_epoch = v >= 4 ? sm_reader_i32(r) : -1;
        p->timestamp = sm_reader_i64(r);
        p->max_num_offsets = v == 0 ? sm_reader_i32(r) : 1;
        p->error = SM_KERR_NONE;
        p->result_timestamp = -1;
        p->result_offset = -1;
        p->result_leader_epoch = -1;
    }
    return sm_reader_err(r);
}

sm_err_t br_kcodec_listoffsets_decode(sm_reader_t *r, int16_t version,
                                      br_kcodec_listoffsets_req_t *req)
{
    sm_err_t err = SM_OK;

    memset(req, 0, sizeof(*req));
    req->version = version;
    if (version < BR_KCODEC_LISTOFFSETS_MIN_VERSION ||
        version > BR_KCODEC_LISTOFFSETS_MAX_VERSION) {
        err = SM_ERR_VERSION;
        goto out;
    }
    req->replica_id = sm_reader_i32(r);
    if (version >= 2)
        req->isolation_level = sm_reader_i8(r);
    int32_t n = sm_reader_array_len(r, BR_KCODEC_LISTOFFSETS_TOPIC_MIN);
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
        if ((err = br_kcodec_listoffsets_decode_topic(r, version, &req->topics[i])) != SM_OK)
            goto out;
    }
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_listoffsets_req_deinit(req);
        req->version = version;
    }
    return err;
}

void br_kcodec_listoffsets_req_deinit(br_kcodec_listoffsets_req_t *req)
{
    if (req == NULL)
        return;
    for (int32_t i = 0; i < req->n_topics; i++)
        free(req->topics[i].parts);
    free(req->topics);
    memset(req, 0, sizeof(*req));
}

void br_kcodec_listoffsets_encode_response(sm_writer_t *w, const br_kcodec_listoffsets_req_t *req,
                                           int32_t throttle_ms)
{
    int16_t v = req->version;

    if (v >= 2)
        sm_writer_i32(w, throttle_ms);
    sm_writer_array_len(w, req->n_topics);
    for (int32_t i = 0; i < req->n_topics; i++) {
        const br_kcodec_listoffsets_topic_t *t = &req->topics[i];
        sm_writer_str(w, t->name);
        sm_writer_array_len(w, t->n_parts);
        for (int32_t j = 0; j < t->n_parts; j++) {
            const br_kcodec_listoffsets_part_t *p = &t->parts[j];
            sm_writer_i32(w, p->partition);
            sm_writer_i16(w, p->error);
            if (v == 0) {
                bool one =
                    p->error == SM_KERR_NONE && p->result_offset >= 0 && p->max_num_offsets > 0;
                sm_writer_array_len(w, one ? 1 : 0);
                if (one)
                    sm_writer_i64(w, p->result_offset);
                continue;
            }
            sm_writer_i64(w, p->result_timestamp);
            sm_writer_i64(w, p->result_offset);
            if (v >= 4)
                sm_writer_i32(w, p->result_leader_epoch);
        }
    }
}
