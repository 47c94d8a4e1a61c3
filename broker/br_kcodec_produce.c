/*
 * br_kcodec_produce: ProduceRequest decoder and ProduceResponse encoder, versions 0-8. See
 * br_kcodec_produce.h for the byte layout and the contract.
 */
#include "broker/br_kcodec_produce.h"

#include <stdlib.h>
#include <string.h>

/* Fewest wire bytes of a topic (name length + partition count) and of a partition (index +
 * records length): the reader refuses counts whose elements cannot fit. */
#define BR_KCODEC_PRODUCE_TOPIC_MIN 6
#define BR_KCODEC_PRODUCE_PART_MIN  8

static void br_kcodec_produce_part_reset(br_kcodec_produce_part_t *p)
{
    p->error = SM_KERR_NONE;
    p->base_offset = -1;
    p->log_append_time = -1;
    p->log_start_offset = -1;
}

static sm_err_t br_kcodec_produce_decode_topic(sm_reader_t *r, br_kcodec_produce_topic_t *t)
{
    t->name = sm_reader_str(r);
    int32_t n = sm_reader_array_len(r, BR_KCODEC_PRODUCE_PART_MIN);
    if (sm_reader_err(r) != SM_OK)
        return sm_reader_err(r);
    if (n == 0)
        return SM_OK;
    t->parts = calloc((size_t)n, sizeof(*t->parts));
    if (t->parts == NULL)
        return SM_ERR_NOMEM;
    t->n_parts = n;
    for (int32_t i = 0; i < n; i++) {
        br_kcodec_produce_part_t *p = &t->parts[i];
        p->index = sm_reader_i32(r);
        p->records = sm_reader_nullable_bytes(r);
        br_kcodec_produce_part_reset(p);
    }
    return sm_reader_err(r);
}

sm_err_t br_kcodec_produce_decode(sm_reader_t *r, int16_t version, br_kcodec_produce_req_t *req)
{
    sm_err_t err = SM_OK;

    memset(req, 0, sizeof(*req));
    req->version = version;
    req->transactional_id = SM_STR_NULL;
    if (version < BR_KCODEC_PRODUCE_MIN_VERSION || version > BR_KCODEC_PRODUCE_MAX_VERSION) {
        err = SM_ERR_VERSION;
        goto out;
    }
    if (version >= 3)
        req->transactional_id = sm_reader_nullable_str(r);
    req->acks = sm_reader_i16(r);
    req->timeout_ms = sm_reader_i32(r);
    int32_t n = sm_reader_array_len(r, BR_KCODEC_PRODUCE_TOPIC_MIN);
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
        if ((err = br_kcodec_produce_decode_topic(r, &req->topics[i])) != SM_OK)
            goto out;
    }
    err = sm_reader_expect_end(r);
out:
    if (err != SM_OK) {
        br_kcodec_produce_req_deinit(req);
        req->version = version;
    }
    return err;
}

void br_kcodec_produce_req_deinit(br_kcodec_produce_req_t *req)
{
    if (req == NULL)
        return;
    for (int32_t i = 0; i < req->n_topics; i++)
        free(req->topics[i].parts);
    free(req->topics);
    memset(req, 0, sizeof(*req));
    req->transactional_id = SM_STR_NULL;
}

void br_kcodec_produce_fail_all(br_kcodec_produce_req_t *req, sm_kerr_t error)
{
    for (int32_t i = 0; i < req->n_topics; i++) {
        for (int32_t j = 0; j < req->topics[i].n_parts; j++) {
            br_kcodec_produce_part_t *p = &req->topics[i].parts[j];
            br_kcodec_produce_part_reset(p);
            p->error = error;
        }
    }
}

void br_kcodec_produce_encode_response(sm_writer_t *w, const br_kcodec_produce_req_t *req,
                                       int32_t throttle_ms)
{
    int16_t v = req->version;

    sm_writer_array_len(w, req->n_topics);
    for (int32_t i = 0; i < req->n_topics; i++) {
        const br_kcodec_produce_topic_t *t = &req->topics[i];
        sm_writer_str(w, t->name);
        sm_writer_array_len(w, t->n_parts);
        for (int32_t j = 0; j < t->n_parts; j++) {
            const br_kcodec_produce_part_t *p = &t->parts[j];
            sm_writer_i32(w, p->index);
            sm_writer_i16(w, p->error);
            sm_writer_i64(w, p->base_offset);
            if (v >= 2)
                sm_writer_i64(w, p->log_append_time);
            if (v >= 5)
                sm_writer_i64(w, p->log_start_offset);
            if (v >= 8) {
                sm_writer_array_len(w, 0);              /* record_errors */
                sm_writer_nullable_str(w, SM_STR_NULL); /* error_message */
            }
        }
    }
    if (v >= 1)
        sm_writer_i32(w, throttle_ms);
}
