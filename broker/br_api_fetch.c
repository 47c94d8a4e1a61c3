/*
 * br_api_fetch: the Fetch API (key 1, v4-11) for consumers and followers. Decodes the request
 * (br_kcodec_fetch), reads each partition's records as a file slice of its log up to the high
 * watermark (br_log_read) -- up to the log end for a follower (replica_id >= 0), whose fetch
 * offsets first go to the replica layer -- and answers with the slices sent by sendfile. When less
 * than min_bytes is available (and no partition has an error), the request parks in the purgatory:
 * an append to one of its partitions re-reads it and answers once enough is there, and its
 * timer answers with whatever is there after max_wait_ms. Sessions (v7+) are not kept: every
 * answer is a full one with session_id 0.
 *
 *   handle --decode--> collect (per partition: leader? epoch? offset in range? read slice)
 *          --enough / error / max_wait 0--> send
 *          --else--> park (wait lists of its partitions + timer)
 *   purgatory wake --> collect --enough--> send      timer --> collect --> send
 *   connection closed --> abort: cancel the waiter, drop the request
 *
 * Error partitions carry empty records (length 0, never null: librdkafka trap #1). Bytes: the
 * request's max_bytes caps the whole answer and partition_max_bytes each partition, except
 * that the first batch found is sent whole even if larger (so a consumer always progresses).
 */
#include "broker/br_api_data.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_batch.h"
#include "broker/br_kcodec_fetch.h"
#include "broker/br_replica.h"
#include "sm_log.h"

typedef struct br_api_fetch_res {
    br_kcodec_fetch_presp_t presp;
    br_log_slice_t slice;
} br_api_fetch_res_t;

typedef struct br_api_fetch_op {
    br_api_data_t *d;
    br_kreq_t *req;
    br_kcodec_fetch_req_t fr;
    char (*names)[BR_API_DATA_TOPIC_MAX + 1]; /* per topic; "" when the name is illegal */
    br_api_fetch_res_t *res;                  /* per partition, in request order */
    size_t n_res;
    br_purgatory_waiter_t *waiter; /* while parked */
} br_api_fetch_op_t;

static int64_t br_api_fetch_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void br_api_fetch_op_free(br_api_fetch_op_t *op)
{
    if (op == NULL)
        return;
    br_kcodec_fetch_req_deinit(&op->fr);
    free(op->names);
    free(op->res);
    free(op);
}

/* One partition: its state, and a slice of at most `limit` bytes (0: none). */
static bool br_api_fetch_one(br_api_fetch_op_t *op, const char *topic,
                             const br_kcodec_fetch_part_t *fp, size_t limit,
                             br_api_fetch_res_t *res)
{
    br_log_t *log = NULL;
    br_kcodec_fetch_presp_t *p = &res->presp;

    *p = (br_kcodec_fetch_presp_t){fp->partition, SM_KERR_NONE, -1, -1, -1};
    memset(&res->slice, 0, sizeof(res->slice));
    res->slice.fd = -1;
    if (topic[0] == '\0') {
        p->error = SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return false;
    }
    int32_t cur = op->fr.version >= 9 ? fp->current_leader_epoch : -1;
    p->error = br_api_data_leader_log(op->d, topic, fp->partition, cur, &log, NULL);
    if (p->error != SM_KERR_NONE)
        return false;
    int64_t hw = br_api_data_high_watermark(op->d, topic, fp->partition, log);
    p->high_watermark = hw;
    p->last_stable_offset = hw; /* no transactions: LSO = HW */
    p->log_start_offset = br_log_start_offset(log);
    if (fp->fetch_offset < p->log_start_offset || fp->fetch_offset > br_log_end_offset(log)) {
        p->error = SM_KERR_OFFSET_OUT_OF_RANGE;
        return false;
    }
    /* Consumers read below the HW; followers up to the log end (that is how the HW moves). */
    int64_t bound = op->fr.replica_id >= 0 ? br_log_end_offset(log) : hw;
    if (limit == 0 || fp->fetch_offset >= bound)
        return true;
    sm_err_t err = br_log_read(log, fp->fetch_offset, limit,
                               op->fr.replica_id >= 0 ? BR_LOG_NO_BOUND : hw, &res->slice);
    if (err != SM_OK) {
        p->error = br_batch_kafka_error(err);
        memset(&res->slice, 0, sizeof(res->slice));
        res->slice.fd = -1;
        return false;
    }
    return true;
}

/* Reads every partition; returns the bytes found and sets *error when a partition failed. */
static size_t br_api_fetch_collect(br_api_fetch_op_t *op, bool *error)
{
    size_t total = 0, i = 0;
    int64_t remaining = op->fr.max_bytes;

    *error = false;
    for (int32_t t = 0; t < op->fr.n_topics; t++) {
        const br_kcodec_fetch_topic_t *tp = &op->fr.topics[t];
        for (int32_t j = 0; j < tp->n_parts; j++, i++) {
            const br_kcodec_fetch_part_t *fp = &tp->parts[j];
            int64_t limit =
                fp->partition_max_bytes < remaining ? fp->partition_max_bytes : remaining;
            if (limit <= 0 && total == 0 && fp->partition_max_bytes > 0)
                limit = 1; /* nothing yet: the first batch goes whole */
            if (!br_api_fetch_one(op, op->names[t], fp, limit > 0 ? (size_t)limit : 0, &op->res[i]))
                *error = true;
            total += op->res[i].slice.len;
            remaining -= (int64_t)op->res[i].slice.len;
        }
    }
    return total;
}

/* Writes the answer from op->res and completes the request. */
static void br_api_fetch_send(br_api_fetch_op_t *op)
{
    br_kreq_t *req = op->req;
    sm_writer_t *w = br_kreq_writer(req);
    int16_t v = op->fr.version;
    size_t i = 0;

    br_kcodec_fetch_write_header(w, v, 0, SM_KERR_NONE, 0, op->fr.n_topics);
    for (int32_t t = 0; t < op->fr.n_topics; t++) {
        const br_kcodec_fetch_topic_t *tp = &op->fr.topics[t];
        br_kcodec_fetch_write_topic(w, v, tp->name, tp->n_parts);
        for (int32_t j = 0; j < tp->n_parts; j++, i++) {
            const br_api_fetch_res_t *r = &op->res[i];
            br_kcodec_fetch_write_partition(w, v, &r->presp, (int32_t)r->slice.len);
            if (r->slice.len == 0)
                continue;
            sm_err_t err =
                br_kreq_add_file(req, r->slice.fd, (int64_t)r->slice.pos, (int64_t)r->slice.len);
            if (err != SM_OK) {
                br_kreq_fail(req, "cannot attach log slice to FetchResponse");
                return;
            }
        }
    }
    br_kreq_respond(req);
}

static bool br_api_fetch_on_wake(void *arg, bool timed_out)
{
    br_api_fetch_op_t *op = arg;
    bool error;
    size_t total = br_api_fetch_collect(op, &error);

    if (!timed_out && !error && total < (size_t)op->fr.min_bytes)
        return false;
    op->waiter = NULL;
    br_kreq_set_abort(op->req, NULL, NULL);
    br_api_fetch_send(op);
    br_api_fetch_op_free(op);
    return true;
}

static void br_api_fetch_on_abort(void *arg, br_kreq_t *req)
{
    br_api_fetch_op_t *op = arg;

    br_purgatory_cancel(op->d->purgatory, op->waiter);
    br_api_fetch_op_free(op);
    br_kreq_drop(req);
}

/* Parks op on every partition it reads. Returns SM_OK or SM_ERR_NOMEM. */
static sm_err_t br_api_fetch_park(br_api_fetch_op_t *op)
{
    br_purgatory_key_t *keys = calloc(op->n_res, sizeof(*keys));
    size_t n = 0;
    sm_err_t err = SM_ERR_NOMEM;

    if (keys == NULL)
        goto out;
    for (int32_t t = 0; t < op->fr.n_topics; t++) {
        for (int32_t j = 0; j < op->fr.topics[t].n_parts; j++)
            keys[n++] = (br_purgatory_key_t){op->names[t], op->fr.topics[t].parts[j].partition};
    }
    err = br_purgatory_park(op->d->purgatory, keys, n, op->fr.max_wait_ms, br_api_fetch_on_wake, op,
                            &op->waiter);
    if (err == SM_OK)
        br_kreq_set_abort(op->req, br_api_fetch_on_abort, op);
out:
    free(keys);
    return err;
}

/* A follower's fetch (replica_id >= 0): its fetch offsets are its log end offsets, which
 * move the leader's HW and ISR (br_replica). Recorded once, when the request arrives, not at
 * each wake-up. A replica id that is not one of the partition's replicas is only logged. */
static void br_api_fetch_follower(br_api_fetch_op_t *op)
{
    int64_t now = br_api_fetch_now_ms();

    if (op->d->replica == NULL)
        return;
    for (int32_t t = 0; t < op->fr.n_topics; t++) {
        if (op->names[t][0] == '\0')
            continue;
        for (int32_t j = 0; j < op->fr.topics[t].n_parts; j++) {
            const br_kcodec_fetch_part_t *fp = &op->fr.topics[t].parts[j];
            int32_t epoch = op->fr.version >= 9 ? fp->current_leader_epoch : -1;
            sm_kerr_t e =
                br_replica_follower_fetch(op->d->replica, op->names[t], fp->partition,
                                          op->fr.replica_id, epoch, fp->fetch_offset, now);
            if (e != SM_KERR_NONE)
                sm_log_debug("fetch %s-%d from replica %d: %s", op->names[t], (int)fp->partition,
                             (int)op->fr.replica_id, sm_kerr_name(e));
        }
    }
}

static sm_err_t br_api_fetch_op_new(br_api_data_t *d, br_kreq_t *req, br_api_fetch_op_t **out)
{
    br_api_fetch_op_t *op = calloc(1, sizeof(*op));
    sm_err_t err = SM_ERR_NOMEM;

    *out = NULL;
    if (op == NULL)
        goto out;
    op->d = d;
    op->req = req;
    err = br_kcodec_fetch_decode(br_kreq_body(req), br_kreq_api_version(req), &op->fr);
    if (err != SM_OK)
        goto out;
    err = SM_ERR_NOMEM;
    for (int32_t t = 0; t < op->fr.n_topics; t++)
        op->n_res += (size_t)op->fr.topics[t].n_parts;
    op->names = calloc((size_t)op->fr.n_topics + 1, sizeof(*op->names));
    op->res = calloc(op->n_res + 1, sizeof(*op->res));
    if (op->names == NULL || op->res == NULL)
        goto out;
    for (int32_t t = 0; t < op->fr.n_topics; t++) {
        if (!br_api_data_topic_cstr(op->fr.topics[t].name, op->names[t]))
            op->names[t][0] = '\0';
    }
    *out = op;
    op = NULL;
    err = SM_OK;
out:
    br_api_fetch_op_free(op);
    return err;
}

void br_api_fetch_handle(void *arg, br_kreq_t *req)
{
    br_api_data_t *d = arg;
    br_api_fetch_op_t *op = NULL;
    bool error;

    sm_err_t err = br_api_fetch_op_new(d, req, &op);
    if (err != SM_OK) {
        br_kreq_fail(req, err == SM_ERR_NOMEM ? "out of memory" : "malformed FetchRequest");
        return;
    }
    if (op->fr.replica_id >= 0)
        br_api_fetch_follower(op);
    size_t total = br_api_fetch_collect(op, &error);
    if (error || op->n_res == 0 || op->fr.max_wait_ms <= 0 ||
        total >= (size_t)(op->fr.min_bytes > 0 ? op->fr.min_bytes : 0) ||
        br_api_fetch_park(op) != SM_OK) {
        br_api_fetch_send(op);
        br_api_fetch_op_free(op);
    }
}
