/*
 * br_api_produce: the Produce API (key 0, v0-8). Decodes the request (br_kcodec_produce),
 * checks every partition and validates its records first -- one v2 record batch per
 * partition, within message.max.bytes -- then appends the partitions that passed to their
 * logs with the partition's leader epoch, wakes the Fetches parked on them, and answers per
 * partition. A partition that fails any check gets its error and nothing of it is written; the
 * others are appended all the same (Kafka's behaviour). v0-2 (message format 0/1) are answered
 * 43 per partition; acks outside {-1, 0, 1} 21; acks=0 gets no response at all.
 *
 * Appends are written by the writer thread (br_log.h note 5): acks=1 parks the request in
 * the purgatory too, until the leader's log end passes each appended partition -- then NONE,
 * or NOT_LEADER_OR_FOLLOWER / KAFKA_STORAGE_ERROR if leadership moved or the write failed,
 * or REQUEST_TIMED_OUT after timeout_ms. Without a writer the append is written at once and
 * nothing parks.
 *
 * acks=all (-1): a partition whose ISR is below min.insync.replicas is refused before the
 * append (NOT_ENOUGH_REPLICAS); the others are appended and the request parks in the
 * purgatory until the high watermark covers every appended partition (the replica layer wakes
 * it when the HW moves or leadership changes). Then each partition is answered NONE, or, if it
 * cannot be covered, NOT_LEADER_OR_FOLLOWER (leadership moved), NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * (the ISR fell below the minimum) or, after timeout_ms, REQUEST_TIMED_OUT -- with offset -1,
 * as Kafka: the client must not count such a record as acknowledged.
 *
 *   request --decode--> for each partition: leader? log? validate_set (1 batch)? min ISR?
 *           --> for each valid partition: br_log_append (written, or queued for a writer thread)
 *           --> written (br_api_data_on_written) --> HW (br_replica) --> wake purgatory
 *           --> acks=1 not yet written / acks=all not yet covered: park --wake/timer--> settle
 *           --> encode response (or drop it for acks=0)
 */
#include "broker/br_api_data.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_batch.h"
#include "broker/br_kcodec_produce.h"
#include "broker/br_replica.h"
#include "sm_log.h"

/* One partition's validated records, between the two passes. */
typedef struct br_api_produce_work {
    br_log_t *log;
    int32_t leader_epoch;
    br_batch_set_t set;
} br_api_produce_work_t;

/* One appended partition of an acks=1 or acks=all request, until it is written (acks=1) or
 * the HW covers it (acks=all). */
typedef struct br_api_produce_wait {
    char topic[BR_API_DATA_TOPIC_MAX + 1];
    br_kcodec_produce_part_t *part; /* its answer, in op->pr */
    int32_t leader_epoch;
    int64_t end_offset; /* exclusive */
    bool pending;
} br_api_produce_wait_t;

/* An acks=1 or acks=all request parked in the purgatory until its partitions are written or
 * replicated. */
typedef struct br_api_produce_op {
    br_api_data_t *d;
    br_kreq_t *req;
    br_kcodec_produce_req_t pr;
    br_api_produce_wait_t *waits;
    size_t n_waits;
    br_purgatory_waiter_t *waiter;
} br_api_produce_op_t;

/* First pass: leadership, log and records of one partition. On success w->set holds the
 * batch; otherwise p->error is set and w->log is NULL. */
static void br_api_produce_check(const br_api_data_t *d, const char *topic, int16_t acks,
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
    /* The topic's max.message.bytes, else the broker's message.max.bytes. */
    int64_t max_bytes = br_log_max_message_bytes(log);
    if (max_bytes <= 0)
        max_bytes = d->message_max_bytes;
    lim.max_batch_bytes = max_bytes > 0 ? (size_t)max_bytes : 0;
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
    if (acks == -1 && d->replica != NULL &&
        (p->error = br_replica_check_min_isr(d->replica, topic, p->index)) != SM_KERR_NONE)
        return; /* the ISR is below min.insync.replicas: nothing is written */
    w->log = log;
}

/* Second pass: append one validated partition and wake its parked fetches. */
static bool br_api_produce_append(br_api_data_t *d, const char *topic, br_kcodec_produce_part_t *p,
                                  br_api_produce_work_t *w, int64_t now_ms, int64_t *end_offset)
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
        return false;
    }
    p->base_offset = info.first_offset;
    p->log_append_time = info.log_append_time;
    p->log_start_offset = info.log_start_offset;
    *end_offset = info.last_offset + 1;
    /* Written already (no writer thread)? Else the log manager reports it when it is. */
    if (br_log_end_offset(w->log) >= *end_offset)
        br_api_data_on_written(d, topic, p->index);
    return true;
}

static int64_t br_api_produce_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Both passes over every partition of op->pr; for acks=all, op->waits gets the appended
 * partitions. */
static sm_err_t br_api_produce_run(br_api_produce_op_t *op)
{
    br_api_data_t *d = op->d;
    br_kcodec_produce_req_t *req = &op->pr;
    size_t n = 0, i = 0;
    char topic[BR_API_DATA_TOPIC_MAX + 1];

    for (int32_t t = 0; t < req->n_topics; t++)
        n += (size_t)req->topics[t].n_parts;
    br_api_produce_work_t *work = n > 0 ? calloc(n, sizeof(*work)) : NULL;
    if (n > 0 && work == NULL)
        return SM_ERR_NOMEM;
    if (req->acks != 0 && n > 0 && (op->waits = calloc(n, sizeof(*op->waits))) == NULL) {
        free(work);
        return SM_ERR_NOMEM;
    }
    for (int32_t t = 0; t < req->n_topics; t++) {
        br_kcodec_produce_topic_t *tp = &req->topics[t];
        bool named = br_api_data_topic_cstr(tp->name, topic);
        for (int32_t j = 0; j < tp->n_parts; j++, i++) {
            br_batch_set_init(&work[i].set);
            if (named)
                br_api_produce_check(d, topic, req->acks, &tp->parts[j], &work[i]);
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
            int64_t end = -1;
            if (named && work[i].log != NULL &&
                br_api_produce_append(d, topic, &tp->parts[j], &work[i], now_ms, &end) &&
                op->waits != NULL) {
                br_api_produce_wait_t *wt = &op->waits[op->n_waits++];
                memcpy(wt->topic, topic, sizeof(topic));
                wt->part = &tp->parts[j];
                wt->leader_epoch = work[i].leader_epoch;
                wt->end_offset = end;
                wt->pending = true;
            }
            br_batch_set_deinit(&work[i].set);
        }
    }
    free(work);
    return SM_OK;
}

static void br_api_produce_op_free(br_api_produce_op_t *op)
{
    if (op == NULL)
        return;
    br_kcodec_produce_req_deinit(&op->pr);
    free(op->waits);
    free(op);
}

/* Whether the append of wt is in the leader's file yet (the writer thread may still hold
 * it): done with NONE when it is; done with an error when it never will be here (leadership
 * moved: NOT_LEADER_OR_FOLLOWER; the log failed: KAFKA_STORAGE_ERROR); else not done. */
static void br_api_produce_written_status(const br_api_data_t *d, const br_api_produce_wait_t *wt,
                                          bool *done, sm_kerr_t *err)
{
    br_log_t *log = NULL;
    int32_t epoch = -1;

    *done = true;
    *err = br_api_data_leader_log(d, wt->topic, wt->part->index, -1, &log, &epoch);
    if (*err == SM_KERR_NONE && epoch < wt->leader_epoch)
        *err = SM_KERR_NOT_LEADER_OR_FOLLOWER;
    if (*err == SM_KERR_NONE && br_log_end_offset(log) < wt->end_offset)
        *done = false;
}

/* Settles every pending partition that can be: replicated (NONE), leadership lost, or the
 * ISR fell short. With timed_out, what is still pending gets REQUEST_TIMED_OUT. Returns true
 * when nothing is pending. */
static bool br_api_produce_settle(br_api_produce_op_t *op, bool timed_out)
{
    bool all = true;

    for (size_t i = 0; i < op->n_waits; i++) {
        br_api_produce_wait_t *wt = &op->waits[i];
        bool done = true;
        sm_kerr_t err = SM_KERR_NONE;

        if (!wt->pending)
            continue;
        br_api_produce_written_status(op->d, wt, &done, &err);
        if (done && err == SM_KERR_NONE && op->pr.acks == -1 && op->d->replica != NULL)
            br_replica_acks_status(op->d->replica, wt->topic, wt->part->index, wt->leader_epoch,
                                   wt->end_offset, &done, &err);
        if (!done && timed_out) {
            done = true;
            err = SM_KERR_REQUEST_TIMED_OUT;
        }
        if (!done) {
            all = false;
            continue;
        }
        wt->pending = false;
        if (err != SM_KERR_NONE) {
            /* Written on the leader but not known to be replicated: the client must not take
             * it as acknowledged (Kafka answers the same codes, with offsets kept). */
            wt->part->error = err;
            wt->part->base_offset = -1;
            wt->part->log_append_time = -1;
        }
    }
    return all;
}

static void br_api_produce_respond(br_api_produce_op_t *op)
{
    br_kcodec_produce_encode_response(br_kreq_writer(op->req), &op->pr, 0);
    br_kreq_respond(op->req);
}

static bool br_api_produce_on_wake(void *arg, bool timed_out)
{
    br_api_produce_op_t *op = arg;

    if (!br_api_produce_settle(op, timed_out))
        return false;
    op->waiter = NULL;
    br_kreq_set_abort(op->req, NULL, NULL);
    br_api_produce_respond(op);
    br_api_produce_op_free(op);
    return true;
}

static void br_api_produce_on_abort(void *arg, br_kreq_t *req)
{
    br_api_produce_op_t *op = arg;

    br_purgatory_cancel(op->d->purgatory, op->waiter);
    br_api_produce_op_free(op);
    br_kreq_drop(req);
}

/* Parks op until its partitions are written (acks=1) or replicated, or pr.timeout_ms passes. */
static sm_err_t br_api_produce_park(br_api_produce_op_t *op)
{
    br_purgatory_key_t *keys = calloc(op->n_waits + 1, sizeof(*keys));
    size_t n = 0;
    sm_err_t err = SM_ERR_NOMEM;

    if (keys == NULL)
        return err;
    for (size_t i = 0; i < op->n_waits; i++)
        if (op->waits[i].pending)
            keys[n++] = (br_purgatory_key_t){op->waits[i].topic, op->waits[i].part->index};
    err = br_purgatory_park(op->d->purgatory, keys, n, op->pr.timeout_ms, br_api_produce_on_wake,
                            op, &op->waiter);
    if (err == SM_OK)
        br_kreq_set_abort(op->req, br_api_produce_on_abort, op);
    free(keys);
    return err;
}

void br_api_produce_handle(void *arg, br_kreq_t *req)
{
    br_api_data_t *d = arg;
    br_api_produce_op_t *op = calloc(1, sizeof(*op));

    if (op == NULL) {
        br_kreq_fail(req, "out of memory");
        return;
    }
    op->d = d;
    op->req = req;
    if (br_kcodec_produce_decode(br_kreq_body(req), br_kreq_api_version(req), &op->pr) != SM_OK) {
        br_kreq_fail(req, "malformed ProduceRequest");
        goto out;
    }
    if (op->pr.version < 3) {
        br_kcodec_produce_fail_all(&op->pr, SM_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    } else if (op->pr.acks != -1 && op->pr.acks != 0 && op->pr.acks != 1) {
        br_kcodec_produce_fail_all(&op->pr, SM_KERR_INVALID_REQUIRED_ACKS);
    } else if (br_api_produce_run(op) != SM_OK) {
        br_kreq_fail(req, "out of memory");
        goto out;
    }
    if (op->pr.acks == 0) {
        br_kreq_drop(req);
        goto out;
    }
    if (op->n_waits > 0 && !br_api_produce_settle(op, op->pr.timeout_ms <= 0)) {
        if (br_api_produce_park(op) == SM_OK)
            return; /* answered from br_api_produce_on_wake */
        (void)br_api_produce_settle(op, true);
    }
    br_api_produce_respond(op);
out:
    br_api_produce_op_free(op);
}
