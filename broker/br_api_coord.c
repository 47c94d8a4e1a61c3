/*
 * br_api_coord: the FindCoordinator API (key 10, v0-3), answered "not available" until the
 * group coordinator exists. See br_api_coord.h for the byte layout and the contract.
 */
#include "broker/br_api_coord.h"

#include <string.h>

sm_err_t br_api_coord_decode(sm_reader_t *r, int16_t version, br_api_coord_req_t *out)
{
    bool flexible = version >= BR_API_COORD_FLEX;

    memset(out, 0, sizeof(*out));
    out->key_type = BR_API_COORD_GROUP;
    if (version < BR_API_COORD_MIN_VERSION || version > BR_API_COORD_MAX_VERSION)
        return SM_ERR_VERSION;
    out->key = flexible ? sm_reader_compact_str(r) : sm_reader_str(r);
    if (version >= 1)
        out->key_type = sm_reader_i8(r);
    if (flexible)
        sm_reader_skip_tags(r);
    return sm_reader_expect_end(r);
}

void br_api_coord_answer(const br_api_coord_req_t *req, br_api_coord_resp_t *out)
{
    out->node_id = -1;
    out->host = "";
    out->port = -1;
    if (req->key_type == BR_API_COORD_GROUP) {
        out->error = SM_KERR_COORDINATOR_NOT_AVAILABLE;
        out->error_message = "the group coordinator is not implemented yet";
    } else if (req->key_type == BR_API_COORD_TRANSACTION) {
        out->error = SM_KERR_COORDINATOR_NOT_AVAILABLE;
        out->error_message = "the transaction coordinator is not implemented yet";
    } else {
        /* Kafka's CoordinatorType.forId throws InvalidRequestException for these. */
        out->error = SM_KERR_INVALID_REQUEST;
        out->error_message = "unknown coordinator key type";
    }
}

void br_api_coord_encode(sm_writer_t *w, int16_t version, const br_api_coord_resp_t *resp)
{
    bool flexible = version >= BR_API_COORD_FLEX;
    sm_str_t host = sm_str_of(resp->host != NULL ? resp->host : "");

    if (version >= 1)
        sm_writer_i32(w, 0); /* throttle_time_ms */
    sm_writer_i16(w, resp->error);
    if (version >= 1) {
        if (flexible)
            sm_writer_compact_nullable_str(w, sm_str_of(resp->error_message));
        else
            sm_writer_nullable_str(w, sm_str_of(resp->error_message));
    }
    sm_writer_i32(w, resp->node_id);
    if (flexible)
        sm_writer_compact_str(w, host);
    else
        sm_writer_str(w, host);
    sm_writer_i32(w, resp->port);
    if (flexible)
        sm_writer_empty_tags(w);
}

static void br_api_coord_handle(void *arg, br_kreq_t *req)
{
    int16_t version = br_kreq_api_version(req);
    br_api_coord_req_t creq;
    br_api_coord_resp_t resp;

    (void)arg;
    if (br_api_coord_decode(br_kreq_body(req), version, &creq) != SM_OK) {
        br_kreq_fail(req, "malformed FindCoordinator request");
        return;
    }
    br_api_coord_answer(&creq, &resp);
    br_api_coord_encode(br_kreq_writer(req), version, &resp);
    br_kreq_respond(req);
}

sm_err_t br_api_coord_register(br_kafka_t *k)
{
    return br_kafka_register(k, BR_KAFKA_FIND_COORDINATOR, BR_API_COORD_MIN_VERSION,
                             BR_API_COORD_MAX_VERSION, BR_API_COORD_FLEX, br_api_coord_handle,
                             NULL);
}
