/*
 * br_api_produce: the Produce API (key 0, v0-8). Decodes the request (br_kcodec_produce),
 * checks every partition and validates its records first -- one v2 record batch per
 * partition, within message.max.bytes -- then appends the partitions that passed to their
 * logs with the partition's leader epoch, wakes the Fetches parked on them, and answers per
 * partition. A partition that fails any check gets its error and nothing of it is written; the
 * others are appended all the same (Kafka's behaviour). v0-2 (message format 0/1) are answered
 * 43 per partition; acks outside {-1, 0, 1} 21; acks=0 gets no response at all.
 *
 *   request --decode--> for each partition: leader? log? validate_set (1 batch)
 *           --> for each valid partition: br_log_append --> HW --> wake purgatory
 *           --> encode response (or drop it for acks=0)
 */
#include "broker/br_api_data.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_batch.h"
#include "broker/br_kcodec_produce.h"
#include "sm_log.h"

/* One partition's validated records, between the two passes. */
typedef struct br_api_produce_work {
    br_log_t *log;
    int32_t leader_epoch;
    br_batch_set_t set;
} br_api_produce_work_t;

/* First pass: leadership, log and records of one partition. On success w->set holds the
 * batch; otherwise p->error is set and w->log is NULL. */
static void br_api_produce_check(const br_api_data_t *d, const char *topic,
                                 br_kcodec_produce_part_t *p, br_api_produce_work_t *w)
{
    br_batch_limits_t lim = {0};
    br_batch_verdict_t v = {0};
    br_log_t *log = NULL;

    p->error = br_api_data_leader_log(d, topic, p->index, -1, &log, &w->leader_epoch);
    if (p->error != SM_KERR_NONE)
        return;
    if (p->records.ptr == NULL || p->records.len <= 0) {
        p->error = SM_KERR_CORRUPT_MESSAGE;
        return;
    }
    lim.max_batch_bytes = d->message_max_bytes > 0 ? (size_t)d->message_max_bytes : 0;
    sm_err_t err = br_batch_validate_set(p->records.ptr, (size_t)p->records.len, &lim, &w->set, &v);
    if (err != SM_OK) {
        p->error = v.kafka_error != SM_KERR_NONE ? v.kafka_error : br_batch_kafka_error(err);
        sm_log_debug("produce %s-%d refused: %s (%s)", topic, (int)p->index, v.reason,
                     sm_kerr_name(p->error));
        return;
    }
    if (w->set.count != 1) {
        p->error = SM_KERR_INVALID_RECORD; /* clients send exactly one batch per partition */
        return;
    }
    w->log = log;
}

/* Second pass: append one validated partition and wake its parked fetches. */
static void br_api_produce_append(br_api_data_t *d, const char *topic, br_kcodec_produce_part_t *p,
                                  br_api_produce_work_t *w, int64_t now_ms)
{
    br_log_append_info_t info;

    /* The records view points into the request frame, a private heap copy owned by req
     * (br_kafka.h), so the log may stamp offsets and epochs into it in place. */
    uint8_t *buf = (uint8_t *)(uintptr_t)p->records.ptr;
    sm_err_t err = br_log_append(w->log, buf, &w->set, w->leader_epoch, now_ms, &info);
    if (err != SM_OK) {
        p->error =
            err == SM_ERR_TOO_LARGE ? SM_KERR_RECORD_LIST_TOO_LARGE : br_batch_kafka_error(err);
        sm_log_warn("produce %s-%d: append failed: %s", topic, (int)p->index, sm_err_str(err));
        return;
    }
    p->base_offset = info.first_offset;
    p->log_append_time = info.log_append_time;
    p->log_start_offset = info.log_start_offset;
    /* acks=-1: until replication (issue 6) the ISR is the leader alone, so the append is
     * committed now. Issue 6 plugs in here: park the response until the HW passes the append. */
    int64_t hw = br_api_data_high_watermark(d, topic, p->index, w->log);
    (void)br_logmgr_set_high_watermark(d->deps->logmgr, topic, p->index, hw);
    br_purgatory_wake(d->purgatory, topic, p->index);
}

static int64_t br_api_produce_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Both passes over every partition of req. */
static sm_err_t br_api_produce_run(br_api_data_t *d, br_kcodec_produce_req_t *req)
{
    size_t n = 0, i = 0;
    char topic[BR_API_DATA_TOPIC_MAX + 1];

    for (int32_t t = 0; t < req->n_topics; t++)
        n += (size_t)req->topics[t].n_parts;
    br_api_produce_work_t *work = n > 0 ? calloc(n, sizeof(*work)) : NULL;
    if (n > 0 && work == NULL)
        return SM_ERR_NOMEM;
    for (int32_t t = 0; t < req->n_topics; t++) {
        br_kcodec_produce_topic_t *tp = &req->topics[t];
        bool named = br_api_data_topic_cstr(tp->name, topic);
        for (int32_t j = 0; j < tp->n_parts; j++, i++) {
            br_batch_set_init(&work[i].set);
            if (named)
                br_api_produce_check(d, topic, &tp->parts[j], &work[i]);
            else
                tp->parts[j].error = SM_KERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    int64_t now_ms = br_api_produce_now_ms();
    i = 0;
    for (int32_t t = 0; t < req->n_topics; t++) {
        br_kcodec_produce_topic_t *tp = &req->topics[t];
        bool named = br_api_data_topic_cstr(tp->name, topic);
        for (int32_t j = 0; j < tp->n_parts; j++, i++) {
            if (named && work[i].log != NULL)
                br_api_produce_append(d, topic, &tp->parts[j], &work[i], now_ms);
            br_batch_set_deinit(&work[i].set);
        }
    }
    free(work);
    return SM_OK;
}

void br_api_produce_handle(void *arg, br_kreq_t *req)
{
    br_api_data_t *d = arg;
    br_kcodec_produce_req_t pr;
    sm_err_t err = br_kcodec_produce_decode(br_kreq_body(req), br_kreq_api_version(req), &pr);

    if (err != SM_OK) {
        br_kreq_fail(req, "malformed ProduceRequest");
        goto out;
    }
    if (pr.version < 3) {
        br_kcodec_produce_fail_all(&pr, SM_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    } else if (pr.acks != -1 && pr.acks != 0 && pr.acks != 1) {
        br_kcodec_produce_fail_all(&pr, SM_KERR_INVALID_REQUIRED_ACKS);
    } else if (br_api_produce_run(d, &pr) != SM_OK) {
        br_kreq_fail(req, "out of memory");
        goto out;
    }
    if (pr.acks == 0) {
        br_kreq_drop(req);
        goto out;
    }
    br_kcodec_produce_encode_response(br_kreq_writer(req), &pr, 0);
    br_kreq_respond(req);
out:
    br_kcodec_produce_req_deinit(&pr);
}
