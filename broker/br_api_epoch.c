/*
 * br_api_epoch: the OffsetForLeaderEpoch API (key 23, v0-4, v4 flexible), leader only --
 * "where does epoch E end in your log?", asked by a follower before it fetches from a new
 * leader (KIP-101/279) so that it truncates exactly where it diverged, and by consumers. Per
 * partition: the same leadership and current-leader-epoch checks as Fetch and ListOffsets
 * (br_api_data_leader_log: not led here NOT_LEADER_OR_FOLLOWER, older epoch
 * FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH), then the leader-epoch cache's answer
 * (br_epoch_end_offset_for) against the log end offset; any error answers epoch -1 and end
 * offset -1. Followers (replica_id >= 0) and consumers (-1, -2) get the same answer.
 */
#include "broker/br_api_data.h"

#include <stdlib.h>

#include "broker/br_epoch.h"
#include "broker/br_kcodec_epoch.h"

static void br_api_epoch_one(const br_api_data_t *d, int16_t version, const char *topic,
                             const br_kcodec_epoch_part_t *p, br_kcodec_epoch_presult_t *out)
{
    br_log_t *log = NULL;
    int32_t cur = version >= 2 ? p->current_leader_epoch : -1;

    out->partition = p->partition;
    out->leader_epoch = BR_EPOCH_UNDEFINED;
    out->end_offset = BR_EPOCH_UNDEFINED_OFFSET;
    if (topic == NULL) {
        out->error = SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    out->error = br_api_data_leader_log(d, topic, p->partition, cur, &log, NULL);
    if (out->error != SM_KERR_NONE)
        return;
    br_epoch_t *epochs = br_logmgr_epochs(d->deps->logmgr, topic, p->partition);
    if (epochs == NULL) {
        out->error = SM_KERR_KAFKA_STORAGE_ERROR;
        return;
    }
    br_epoch_end_offset_for(epochs, p->leader_epoch, br_log_end_offset(log), &out->leader_epoch,
                            &out->end_offset);
}

/* Allocates resp's arrays shaped like er's. Returns SM_OK or SM_ERR_NOMEM (resp then holds
 * what was allocated, for br_kcodec_epoch_resp_deinit). */
static sm_err_t br_api_epoch_alloc(const br_kcodec_epoch_req_t *er, br_kcodec_epoch_resp_t *resp)
{
    resp->version = er->version;
    if (er->n_topics == 0)
        return SM_OK;
    resp->topics = calloc((size_t)er->n_topics, sizeof(*resp->topics));
    if (resp->topics == NULL)
        return SM_ERR_NOMEM;
    resp->n_topics = er->n_topics;
    for (int32_t t = 0; t < er->n_topics; t++) {
        resp->topics[t].name = er->topics[t].name;
        if (er->topics[t].n_parts == 0)
            continue;
        resp->topics[t].parts =
            calloc((size_t)er->topics[t].n_parts, sizeof(*resp->topics[t].parts));
        if (resp->topics[t].parts == NULL)
            return SM_ERR_NOMEM;
        resp->topics[t].n_parts = er->topics[t].n_parts;
    }
    return SM_OK;
}

void br_api_epoch_handle(void *arg, br_kreq_t *req)
{
    br_api_data_t *d = arg;
    br_kcodec_epoch_req_t er;
    br_kcodec_epoch_resp_t resp = {0};
    char topic[BR_API_DATA_TOPIC_MAX + 1];

    sm_err_t err = br_kcodec_epoch_req_decode(br_kreq_body(req), br_kreq_api_version(req), &er);
    if (err != SM_OK) {
        br_kreq_fail(req, err == SM_ERR_NOMEM ? "out of memory"
                                              : "malformed OffsetForLeaderEpochRequest");
        goto out;
    }
    if (br_api_epoch_alloc(&er, &resp) != SM_OK) {
        br_kreq_fail(req, "out of memory");
        goto out;
    }
    for (int32_t t = 0; t < er.n_topics; t++) {
        const br_kcodec_epoch_topic_t *tp = &er.topics[t];
        bool named = br_api_data_topic_cstr(tp->name, topic);
        for (int32_t j = 0; j < tp->n_parts; j++)
            br_api_epoch_one(d, er.version, named ? topic : NULL, &tp->parts[j],
                             &resp.topics[t].parts[j]);
    }
    br_kcodec_epoch_resp_encode(br_kreq_writer(req), &resp);
    br_kreq_respond(req);
out:
    br_kcodec_epoch_resp_deinit(&resp);
    br_kcodec_epoch_req_deinit(&er);
}
