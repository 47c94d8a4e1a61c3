/*
 * ctl_api: the controller's RPC server handler (its `listeners` endpoint serves brokers and
 * samsa-admin alike). Ping is answered by any controller; everything else only by the active
 * one -- a standby (or a controller still taking over) answers NOT_CONTROLLER (41) naming the
 * active controller if it knows it. Requests forwarded by brokers use the same messages and
 * take the same path.
 *
 *   PingRequest            -> PingResponse (seq, data echoed; server_id = controller id)
 *   CreateTopicsRequest    -> ctl_topics_handle_create
 *   DeleteTopicsRequest    -> ctl_delete_handle
 *   DescribeTopicsRequest  -> ctl_topics_handle_describe
 *   DescribeClusterRequest -> from the model, here
 *   AlterTopicConfigRequest -> ctl_alter_handle
 *   AlterIsrRequest        -> ctl_isr_handle (from partition leaders)
 *   anything else          -> ErrorResponse UNSUPPORTED_VERSION (35)
 */
#include "controller/ctl_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_log.h"

const char *ctl_api_not_controller_msg(const ctl_ctx_t *c, char *buf, size_t len)
{
    if (c->active)
        snprintf(buf, len, "controller %d is taking over; retry shortly", (int)c->id);
    else if (c->leader_id >= 0)
        snprintf(buf, len, "not the active controller (controller %d at %s:%d is, epoch %d)",
                 (int)c->leader_id, c->leader_host, (int)c->leader_port, (int)c->leader_epoch);
    else
        snprintf(buf, len, "not the active controller (no active controller right now)");
    return buf;
}

/* Answers req with its own response type carrying only an error (per item too, where the
 * request names items). */
static void ctl_api_reply_status(sm_rpc_call_t *call, const Samsa__Envelope *req, int32_t code,
                                 const char *msg)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__CreateTopicsResponse ct = SAMSA__CREATE_TOPICS_RESPONSE__INIT;
    Samsa__DeleteTopicsResponse dt = SAMSA__DELETE_TOPICS_RESPONSE__INIT;
    Samsa__DescribeTopicsResponse dst = SAMSA__DESCRIBE_TOPICS_RESPONSE__INIT;
    Samsa__DescribeClusterResponse dc = SAMSA__DESCRIBE_CLUSTER_RESPONSE__INIT;
    Samsa__AlterTopicConfigResponse ac = SAMSA__ALTER_TOPIC_CONFIG_RESPONSE__INIT;
    Samsa__AlterIsrResponse ai = SAMSA__ALTER_ISR_RESPONSE__INIT;
    char *m = (char *)msg;

    switch (req->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST:
        ct.has_error_code = 1, ct.error_code = code, ct.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE;
        env.create_topics_response = &ct;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_REQUEST:
        dt.has_error_code = 1, dt.error_code = code, dt.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_RESPONSE;
        env.delete_topics_response = &dt;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_REQUEST:
        dst.has_error_code = 1, dst.error_code = code, dst.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_RESPONSE;
        env.describe_topics_response = &dst;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_REQUEST:
        dc.has_error_code = 1, dc.error_code = code, dc.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_RESPONSE;
        env.describe_cluster_response = &dc;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_REQUEST:
        ac.has_error_code = 1, ac.error_code = code, ac.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_RESPONSE;
        env.alter_topic_config_response = &ac;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST:
        ai.has_error_code = 1, ai.error_code = code, ai.error_message = m;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE;
        env.alter_isr_response = &ai;
        break;
    default:
        sm_rpc_call_reply_error(call, code, msg);
        return;
    }
    sm_rpc_call_reply(call, &env);
}

static void ctl_api_ping(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__PingResponse pong = SAMSA__PING_RESPONSE__INIT;

    pong.has_error_code = 1;
    pong.has_seq = req->ping_request->has_seq;
    pong.seq = req->ping_request->seq;
    pong.has_data = req->ping_request->has_data;
    pong.data = req->ping_request->data;
    pong.has_server_id = 1;
    pong.server_id = c->id;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE;
    env.ping_response = &pong;
    sm_rpc_call_reply(call, &env);
}

static void ctl_api_endpoint(Samsa__Endpoint *e, const ctl_endpoint_t *src)
{
    samsa__endpoint__init(e);
    e->listener = src->listener;
    e->host = src->host;
    e->has_port = 1;
    e->port = src->port;
}

/* Fills db from b; eps must hold b->n_endpoints + 1 endpoints and ptrs b->n_endpoints. */
static void ctl_api_broker(Samsa__DescribedBroker *db, const ctl_broker_t *b, Samsa__Endpoint *eps,
                           Samsa__Endpoint **ptrs)
{
    samsa__described_broker__init(db);
    db->has_broker_id = 1;
    db->broker_id = b->id;
    for (size_t e = 0; e < b->n_endpoints; e++) {
        ctl_api_endpoint(&eps[e], &b->endpoints[e]);
        ptrs[e] = &eps[e];
    }
    db->n_endpoints = b->n_endpoints;
    db->endpoints = ptrs;
    db->rack = b->rack;
    if (b->control.host != NULL) {
        ctl_api_endpoint(&eps[b->n_endpoints], &b->control);
        db->control_endpoint = &eps[b->n_endpoints];
    }
    db->has_broker_epoch = 1;
    db->broker_epoch = b->epoch;
}

static void ctl_api_describe_cluster(ctl_ctx_t *c, sm_rpc_call_t *call)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__DescribeClusterResponse resp = SAMSA__DESCRIBE_CLUSTER_RESPONSE__INIT;
    Samsa__Endpoint self = SAMSA__ENDPOINT__INIT;
    size_t n, n_eps = 0;
    const ctl_broker_t *brokers = ctl_model_brokers(c->model, &n);
    Samsa__DescribedBroker *db = calloc(n + 1, sizeof(*db));
    Samsa__DescribedBroker **dp = calloc(n + 1, sizeof(*dp));
    Samsa__Endpoint *eps;
    Samsa__Endpoint **ptrs;

    for (size_t i = 0; i < n; i++)
        n_eps += brokers[i].n_endpoints + 1;
    eps = calloc(n_eps + 1, sizeof(*eps));
    ptrs = calloc(n_eps + 1, sizeof(*ptrs));
    if (db == NULL || dp == NULL || eps == NULL || ptrs == NULL) {
        sm_rpc_call_reply_error(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    n_eps = 0;
    for (size_t i = 0; i < n; i++) {
        ctl_api_broker(&db[i], &brokers[i], eps + n_eps, ptrs + n_eps);
        n_eps += brokers[i].n_endpoints + 1;
        dp[i] = &db[i];
    }
    resp.has_error_code = 1;
    resp.cluster_id = c->cluster_id[0] != '\0' ? c->cluster_id : NULL;
    resp.has_controller_id = 1;
    resp.controller_id = c->id;
    resp.has_controller_epoch = 1;
    resp.controller_epoch = c->epoch;
    self.listener = "CONTROL";
    self.host = c->host;
    self.has_port = 1;
    self.port = c->port;
    resp.controller_endpoint = &self;
    resp.n_brokers = n;
    resp.brokers = dp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_RESPONSE;
    env.describe_cluster_response = &resp;
    sm_rpc_call_reply(call, &env);
out:
    free(db);
    free(dp);
    free(eps);
    free(ptrs);
}

void ctl_api_handle(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    ctl_ctx_t *c = arg;
    char msg[320];

    if (req->payload_case == SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST) {
        ctl_api_ping(c, call, req);
        return;
    }
    if (!c->active || c->failover_pending) {
        ctl_api_reply_status(call, req, CTL_KERR_NOT_CONTROLLER,
                             ctl_api_not_controller_msg(c, msg, sizeof(msg)));
        return;
    }
    switch (req->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST:
        ctl_topics_handle_create(c, call, req);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_REQUEST:
        ctl_delete_handle(c, call, req);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_REQUEST:
        ctl_topics_handle_describe(c, call, req);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_REQUEST:
        ctl_api_describe_cluster(c, call);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_REQUEST:
        ctl_alter_handle(c, call, req);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST:
        ctl_isr_handle(c, call, req);
        break;
    default:
        snprintf(msg, sizeof(msg), "%s is not supported by this controller",
                 sm_rpc_payload_name(req));
        sm_log_debug("%s from %s", msg, sm_rpc_call_peer(call));
        sm_rpc_call_reply_error(call, CTL_KERR_UNSUPPORTED_VERSION, msg);
        break;
    }
}
