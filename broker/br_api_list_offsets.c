/*
 * br_api_list_offsets: the ListOffsets API (key 2, v0-5), leader only. Per partition: -1
 * (latest) answers the high watermark, -2 (earliest) the log start offset, any other
 * timestamp the offset and timestamp of the first record whose timestamp is >= it
 * (br_log_offset_for_time, which decompresses a compressed batch to find it; a batch it cannot
 * read answers its base offset and timestamp -1), or -1 when there is none. v0 answers an offsets
 * array holding that one offset; v4+ adds the leader epoch of the offset found (from the
 * leader-epoch cache) and checks the client's current leader epoch (older: 74, newer: 75).
 */
#include "broker/br_api_data.h"

#include "broker/br_batch.h"
#include "broker/br_epoch.h"
#include "broker/br_kcodec_listoffsets.h"

static void br_api_list_offsets_one(const br_api_data_t *d, int16_t version, const char *topic,
                                    br_kcodec_listoffsets_part_t *p)
{
    br_log_t *log = NULL;
    int32_t epoch = -1;
    int32_t cur = version >= 4 ? p->current_leader_epoch : -1;

    p->error = br_api_data_leader_log(d, topic, p->partition, cur, &log, &epoch);
    if (p->error != SM_KERR_NONE)
        return;
    int64_t hw = br_api_data_high_watermark(d, topic, p->partition, log);
    if (p->timestamp == BR_KCODEC_LISTOFFSETS_LATEST) {
        p->result_offset = hw;
    } else if (p->timestamp == BR_KCODEC_LISTOFFSETS_EARLIEST) {
        p->result_offset = br_log_start_offset(log);
    } else {
        int64_t off = -1;
        int64_t ts = -1;
        sm_err_t err = br_log_offset_for_time(log, p->timestamp, &off, &ts);
        if (err == SM_OK && off < hw) {
            p->result_offset = off;
            p->result_timestamp = ts;
        } else if (err != SM_OK && err != SM_ERR_NOT_FOUND) {
            p->error = br_batch_kafka_error(err);
            return;
        }
    }
    if (p->result_offset < 0)
        return;
    br_epoch_t *epochs = br_logmgr_epochs(d->deps->logmgr, topic, p->partition);
    if (p->result_offset == hw || epochs == NULL)
        p->result_leader_epoch = epoch;
    else
        p->result_leader_epoch = br_epoch_epoch_for(epochs, p->result_offset);
}

void br_api_list_offsets_handle(void *arg, br_kreq_t *req)
{
    br_api_data_t *d = arg;
    br_kcodec_listoffsets_req_t lr;
    char topic[BR_API_DATA_TOPIC_MAX + 1];

    sm_err_t err = br_kcodec_listoffsets_decode(br_kreq_body(req), br_kreq_api_version(req), &lr);
    if (err != SM_OK) {
        br_kreq_fail(req, "malformed ListOffsetsRequest");
        goto out;
    }
    for (int32_t t = 0; t < lr.n_topics; t++) {
        br_kcodec_listoffsets_topic_t *tp = &lr.topics[t];
        bool named = br_api_data_topic_cstr(tp->name, topic);
        for (int32_t j = 0; j < tp->n_parts; j++) {
            if (named)
                br_api_list_offsets_one(d, lr.version, topic, &tp->parts[j]);
            else
                tp->parts[j].error = SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    br_kcodec_listoffsets_encode_response(br_kreq_writer(req), &lr, 0);
    br_kreq_respond(req);
out:
    br_kcodec_listoffsets_req_deinit(&lr);
}
