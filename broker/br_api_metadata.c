/*
 * br_api_metadata: the Metadata API (key 3, v0-8, never flexible here), answered from the
 * broker's metadata cache. Unknown topics are auto-created (forwarded to the controller) when
 * auto.create.topics.enable is set and the request allows it (v4+ flag, always below v4); they
 * are answered LEADER_NOT_AVAILABLE meanwhile, so the client asks again.
 *
 *   MetadataResponse (int16 strings, int32 arrays)
 *   throttle_time_ms int32                                   v3+
 *   brokers [node_id int32, host string, port int32, rack nullable string (v1+)]
 *   cluster_id nullable string                                v2+
 *   controller_id int32                                       v1+
 *   topics [error_code int16, name string, is_internal bool (v1+),
 *           partitions [error_code int16, partition int32, leader int32,
 *                       leader_epoch int32 (v7+), replicas [int32], isr [int32],
 *                       offline_replicas [int32] (v5+)],
 *           topic_authorized_operations int32 (v8+)]
 *   cluster_authorized_operations int32                       v8
 */
#include "broker/br_kafka.h"

#include <stdlib.h>
#include <string.h>

#include "broker/br_api_info.h"
#include "broker/br_ctlclient.h"
#include "sm_log.h"

#define BR_API_METADATA_MAX         8
#define BR_API_METADATA_AUTH_OPS_NA INT32_MIN /* "not requested" */
#define BR_API_METADATA_CREATE_MS   30000
#define BR_API_METADATA_CREATE_MAX  1000 /* topics auto-created per request, at most */

bool br_api_topic_name_valid(sm_str_t name)
{
    int32_t i;

    if (name.len <= 0 || name.len > 249)
        return false;
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return false;
    for (i = 0; i < name.len; i++) {
        char ch = name.ptr[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

sm_err_t br_api_metadata_decode(sm_reader_t *r, int16_t version, br_api_metadata_req_t *out)
{
    int32_t n, i;
    sm_err_t err;

    memset(out, 0, sizeof(*out));
    out->allow_auto_create = true;
    n = version >= 1 ? sm_reader_nullable_array_len(r, 2) : sm_reader_array_len(r, 2);
    if (version == 0 && n == 0)
        n = -1;
    if (n > 0 && (out->topics = calloc((size_t)n, sizeof(*out->topics))) == NULL)
        return SM_ERR_NOMEM;
    out->n_topics = n;
    for (i = 0; i < n; i++)
        out->topics[i] = sm_reader_str(r);
    if (version >= 4)
        out->allow_auto_create = sm_reader_bool(r);
    if (version >= 8) {
        (void)sm_reader_bool(r); /* include_cluster_authorized_operations */
        (void)sm_reader_bool(r); /* include_topic_authorized_operations */
    }
    err = sm_reader_err(r);
    if (err != SM_OK)
        br_api_metadata_req_deinit(out);
    return err;
}

void br_api_metadata_req_deinit(br_api_metadata_req_t *req)
{
    free(req->topics);
    req->topics = NULL;
    req->n_topics = 0;
}

/* The endpoint clients should use: the first that is not the control listener. */
static const br_metacache_endpoint_t *br_api_metadata_endpoint(const br_metacache_broker_t *b)
{
    size_t i;

    for (i = 0; i < b->n_endpoints; i++)
        if (b->endpoints[i].host != NULL &&
            (b->endpoints[i].listener == NULL || strcmp(b->endpoints[i].listener, "CONTROL") != 0))
            return &b->endpoints[i];
    return NULL;
}

static void br_api_metadata_broker(sm_writer_t *w, int16_t version, int32_t id, const char *host,
                                   int32_t port, const char *rack)
{
    sm_writer_i32(w, id);
    sm_writer_str(w, sm_str_of(host));
    sm_writer_i32(w, port);
    if (version >= 1)
        sm_writer_nullable_str(w, sm_str_of(rack));
}

static void br_api_metadata_brokers(sm_writer_t *w, const br_metacache_t *mc,
                                    const br_api_metadata_self_t *self, int16_t version)
{
    size_t i, nb = br_metacache_broker_count(mc);
    int32_t n = 0;
    size_t pos = sm_writer_reserve(w, 4);
    bool self_listed = false;

    for (i = 0; i < nb; i++) {
        const br_metacache_broker_t *b = br_metacache_broker_at(mc, i);
        const br_metacache_endpoint_t *ep = br_api_metadata_endpoint(b);

        if (ep == NULL)
            continue;
        if (b->id == self->broker_id)
            self_listed = true;
        br_api_metadata_broker(w, version, b->id, ep->host, ep->port, b->rack);
        n++;
    }
    if (!self_listed) {
        /* Clients need the controller id (us) among the brokers. */
        br_api_metadata_broker(w, version, self->broker_id, self->host, self->port, self->rack);
        n++;
    }
    sm_writer_patch_i32(w, pos, n);
}

static void br_api_metadata_ids(sm_writer_t *w, const int32_t *ids, size_t n)
{
    size_t i;

    sm_writer_array_len(w, (int32_t)n);
    for (i = 0; i < n; i++)
        sm_writer_i32(w, ids[i]);
}

static void br_api_metadata_topic(sm_writer_t *w, const br_metacache_t *mc,
                                  const br_metacache_topic_t *t, int16_t version)
{
    size_t i;

    sm_writer_i16(w, SM_KERR_NONE);
    sm_writer_str(w, sm_str_of(t->name));
    if (version >= 1)
        sm_writer_bool(w, t->name[0] == '_' && strcmp(t->name, "__consumer_offsets") == 0);
    sm_writer_array_len(w, (int32_t)t->n_partitions);
    for (i = 0; i < t->n_partitions; i++) {
        const br_metacache_partition_t *p = &t->partitions[i];
        bool leader_live = p->leader >= 0 && br_metacache_broker(mc, p->leader) != NULL;

        /* A leader the cache does not list as live cannot be reached: tell the client to wait
         * (Kafka's MetadataCache does the same). An empty broker list (cache not fed yet)
         * trusts the partition state. */
        if (br_metacache_broker_count(mc) == 0)
            leader_live = p->leader >= 0;
        sm_writer_i16(w, leader_live ? SM_KERR_NONE : SM_KERR_LEADER_NOT_AVAILABLE);
        sm_writer_i32(w, p->partition);
        sm_writer_i32(w, leader_live ? p->leader : -1);
        if (version >= 7)
            sm_writer_i32(w, p->leader_epoch);
        br_api_metadata_ids(w, p->replicas, p->n_replicas);
        br_api_metadata_ids(w, p->isr, p->n_isr);
        if (version >= 5)
            br_api_metadata_ids(w, p->offline_replicas, p->n_offline_replicas);
    }
    if (version >= 8)
        sm_writer_i32(w, BR_API_METADATA_AUTH_OPS_NA);
}

static void br_api_metadata_missing(sm_writer_t *w, sm_str_t name, sm_kerr_t err, int16_t version)
{
    sm_writer_i16(w, err);
    sm_writer_str(w, name);
    if (version >= 1)
        sm_writer_bool(w, false);
    sm_writer_array_len(w, 0);
    if (version >= 8)
        sm_writer_i32(w, BR_API_METADATA_AUTH_OPS_NA);
}

static void br_api_metadata_topics(sm_writer_t *w, const br_metacache_t *mc, int16_t version,
                                   const br_api_metadata_req_t *req, sm_kerr_t unknown_err)
{
    char name[256];
    int32_t i;

    if (req->n_topics < 0) {
        size_t j, nt = br_metacache_topic_count(mc);

        sm_writer_array_len(w, (int32_t)nt);
        for (j = 0; j < nt; j++)
            br_api_metadata_topic(w, mc, br_metacache_topic_at(mc, j), version);
        return;
    }
    sm_writer_array_len(w, req->n_topics);
    for (i = 0; i < req->n_topics; i++) {
        sm_str_t t = req->topics[i];
        const br_metacache_topic_t *mt = NULL;

        if (!br_api_topic_name_valid(t)) {
            br_api_metadata_missing(w, t, SM_KERR_INVALID_TOPIC_EXCEPTION, version);
            continue;
        }
        memcpy(name, t.ptr, (size_t)t.len);
        name[t.len] = '\0';
        mt = br_metacache_topic(mc, name);
        if (mt != NULL)
            br_api_metadata_topic(w, mc, mt, version);
        else
            br_api_metadata_missing(w, t, unknown_err, version);
    }
}

void br_api_metadata_encode(const br_metacache_t *mc, const br_api_metadata_self_t *self,
                            int16_t version, const br_api_metadata_req_t *req,
                            sm_kerr_t unknown_err, sm_writer_t *w)
{
    if (version >= 3)
        sm_writer_i32(w, 0); /* throttle_time_ms */
    br_api_metadata_brokers(w, mc, self, version);
    if (version >= 2)
        sm_writer_nullable_str(w, sm_str_of(self->cluster_id));
    if (version >= 1)
        sm_writer_i32(w, self->broker_id); /* we forward admin requests to the controller */
    br_api_metadata_topics(w, mc, version, req, unknown_err);
    if (version >= 8)
        sm_writer_i32(w, BR_API_METADATA_AUTH_OPS_NA);
}

/* ---- auto-creation --------------------------------------------------------------------------- */

static void br_api_metadata_created(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    (void)arg;
    if (err != SM_OK)
        sm_log_warn("topic auto-creation: controller did not answer: %s", sm_err_str(err));
    else if (resp->create_topics_response != NULL && resp->create_topics_response->n_topics > 0 &&
             resp->create_topics_response->topics[0]->error_code != SM_KERR_NONE &&
             resp->create_topics_response->topics[0]->error_code != SM_KERR_TOPIC_ALREADY_EXISTS)
        sm_log_warn("topic auto-creation of %s failed: %s",
                    resp->create_topics_response->topics[0]->name,
                    sm_kerr_name((sm_kerr_t)resp->create_topics_response->topics[0]->error_code));
}

/* Asks the controller to create the valid, unknown topics of req with the broker defaults.
 * Fire and forget: the client polls Metadata until leaders appear. */
static void br_api_metadata_autocreate(br_kafka_t *k, const br_api_metadata_req_t *req)
{
    const br_kafka_deps_t *d = br_kafka_deps(k);
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__CreateTopicsRequest ct = SAMSA__CREATE_TOPICS_REQUEST__INIT;
    Samsa__CreatableTopic *topics = NULL, **tp = NULL;
    char *names = NULL;
    size_t n = 0, max, live = br_metacache_broker_count(d->metacache);
    int32_t i, rf = sm_config_get_int(d->cfg, "default.replication.factor");

    if (live > 0 && (size_t)rf > live)
        rf = (int32_t)live;
    /* Bounded: a request naming millions of topics must not make us allocate for each. */
    max = req->n_topics < BR_API_METADATA_CREATE_MAX ? (size_t)req->n_topics
                                                     : BR_API_METADATA_CREATE_MAX;
    topics = calloc(max, sizeof(*topics));
    tp = calloc(max, sizeof(*tp));
    names = calloc(max, 250);
    if (topics == NULL || tp == NULL || names == NULL)
        goto out;
    for (i = 0; i < req->n_topics && n < max; i++) {
        sm_str_t t = req->topics[i];
        char *name = names + n * 250;

        if (!br_api_topic_name_valid(t))
            continue;
        memcpy(name, t.ptr, (size_t)t.len);
        if (br_metacache_topic(d->metacache, name) != NULL)
            continue;
        samsa__creatable_topic__init(&topics[n]);
        topics[n].name = name;
        topics[n].has_num_partitions = 1;
        topics[n].num_partitions = sm_config_get_int(d->cfg, "num.partitions");
        topics[n].has_replication_factor = 1;
        topics[n].replication_factor = rf;
        tp[n] = &topics[n];
        n++;
    }
    if (n == 0)
        goto out;
    ct.n_topics = n;
    ct.topics = tp;
    env.has_type = 1;
    env.type = SAMSA__RPC_TYPE__CREATE_TOPICS;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST;
    env.create_topics_request = &ct;
    if (br_ctlclient_call(d->ctlclient, &env, BR_API_METADATA_CREATE_MS, br_api_metadata_created,
                          NULL) != SM_OK)
        sm_log_warn("topic auto-creation: no active controller to ask");
    else
        sm_log_info("auto-creating %zu topic(s), first %s", n, topics[0].name);
out:
    free(names);
    free(tp);
    free(topics);
}

static void br_api_metadata_handle(void *arg, br_kreq_t *req)
{
    br_kafka_t *k = br_kreq_kafka(req);
    const br_kafka_deps_t *d = br_kafka_deps(k);
    int16_t version = br_kreq_api_version(req);
    br_api_metadata_req_t mreq;
    br_api_metadata_self_t self = {0};
    sm_kerr_t unknown_err = SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;

    (void)arg;
    if (br_api_metadata_decode(br_kreq_body(req), version, &mreq) != SM_OK) {
        br_kreq_fail(req, "malformed Metadata request");
        return;
    }
    self.broker_id = d->broker_id;
    self.host = d->advertised_host != NULL ? d->advertised_host : "127.0.0.1";
    self.port = d->advertised_port;
    if (d->cfg != NULL) {
        self.rack = sm_config_get_str(d->cfg, "broker.rack");
        if (self.rack != NULL && self.rack[0] == '\0')
            self.rack = NULL;
    }
    self.cluster_id = d->logmgr != NULL ? br_logmgr_cluster_id(d->logmgr) : NULL;
    if (self.cluster_id != NULL && self.cluster_id[0] == '\0')
        self.cluster_id = NULL;
    if (mreq.n_topics > 0 && mreq.allow_auto_create && d->cfg != NULL &&
        sm_config_get_bool(d->cfg, "auto.create.topics.enable") && d->ctlclient != NULL) {
        br_api_metadata_autocreate(k, &mreq);
        unknown_err = SM_KERR_LEADER_NOT_AVAILABLE;
    }
    br_api_metadata_encode(d->metacache, &self, version, &mreq, unknown_err, br_kreq_writer(req));
    br_api_metadata_req_deinit(&mreq);
    br_kreq_respond(req);
}

sm_err_t br_api_metadata_register(br_kafka_t *k)
{
    return br_kafka_register(k, BR_KAFKA_METADATA, 0, BR_API_METADATA_MAX, BR_KAFKA_NOT_FLEXIBLE,
                             br_api_metadata_handle, NULL);
}
