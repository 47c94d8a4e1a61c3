/*
 * br_api_admin: the Kafka CreateTopics (key 19, v0-4) and DeleteTopics (key 20, v0-3) APIs.
 * Clients send them to the broker named as controller in Metadata (this broker); it forwards
 * them to the active controller over the control RPC (br_ctlclient) and answers with the
 * controller's per-topic error codes and messages. No answer within the client's timeout plus a
 * margin, or no active controller: REQUEST_TIMED_OUT for every topic.
 *
 *   CreateTopicsRequest v0-4                 CreateTopicsResponse v0-4
 *   topics [name string,                     throttle_time_ms int32      (v2+)
 *           num_partitions int32,            topics [name string, error_code int16,
 *           replication_factor int16,                error_message nullable string (v1+)]
 *           assignments [partition int32, broker_ids [int32]],
 *           configs [name string, value nullable string]]
 *   timeout_ms int32, validate_only bool (v1+)
 *
 *   DeleteTopicsRequest v0-3                 DeleteTopicsResponse v0-3
 *   topic_names [string], timeout_ms int32   throttle_time_ms int32 (v1+)
 *                                            responses [name string, error_code int16]
 */
#include "broker/br_kafka.h"

#include <stdlib.h>
#include <string.h>

#include "broker/br_ctlclient.h"
#include "sm_log.h"

#define BR_API_ADMIN_MARGIN_MS 5000

/* One forwarded request, alive until the controller answers (or the call fails). req is NULL
 * once the client's connection has gone (abort). */
typedef struct br_api_admin_call {
    br_kreq_t *req;
    int16_t api_key;
    int16_t version;
    size_t n;
    char **names; /* the request's topic names, in order */
} br_api_admin_call_t;

static void br_api_admin_call_free(br_api_admin_call_t *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c);
}

/* Writes the response for c: per topic, the controller's result for that name, else err. */
static void br_api_admin_answer(br_api_admin_call_t *c, const Samsa__Envelope *resp, sm_kerr_t err,
                                const char *msg)
{
    sm_writer_t *w = br_kreq_writer(c->req);
    const Samsa__CreateTopicsResponse *cr = resp != NULL ? resp->create_topics_response : NULL;
    const Samsa__DeleteTopicsResponse *dr = resp != NULL ? resp->delete_topics_response : NULL;
    size_t i, j;

    if (resp != NULL && resp->error_response != NULL) {
        err = (sm_kerr_t)resp->error_response->error_code;
        msg = resp->error_response->error_message;
    } else if (resp != NULL && cr == NULL && dr == NULL) {
        err = SM_KERR_UNKNOWN_SERVER_ERROR;
        msg = "unexpected answer from the controller";
    }
    if ((c->api_key == BR_KAFKA_CREATE_TOPICS && c->version >= 2) ||
        (c->api_key == BR_KAFKA_DELETE_TOPICS && c->version >= 1))
        sm_writer_i32(w, 0); /* throttle_time_ms */
    sm_writer_array_len(w, (int32_t)c->n);
    for (i = 0; i < c->n; i++) {
        sm_kerr_t e = err;
        const char *m = msg;

        if (cr != NULL) {
            for (j = 0; j < cr->n_topics; j++)
                if (cr->topics[j]->name != NULL && strcmp(cr->topics[j]->name, c->names[i]) == 0) {
                    e = (sm_kerr_t)cr->topics[j]->error_code;
                    m = cr->topics[j]->error_message;
                    break;
                }
        } else if (dr != NULL) {
            for (j = 0; j < dr->n_topics; j++)
                if (dr->topics[j]->name != NULL && strcmp(dr->topics[j]->name, c->names[i]) == 0) {
                    e = (sm_kerr_t)dr->topics[j]->error_code;
                    break;
                }
        }
        sm_writer_str(w, sm_str_of(c->names[i]));
        sm_writer_i16(w, e);
        if (c->api_key == BR_KAFKA_CREATE_TOPICS && c->version >= 1)
            sm_writer_nullable_str(w, sm_str_of(e != SM_KERR_NONE ? m : NULL));
    }
    br_kreq_respond(c->req);
    c->req = NULL;
}

static void br_api_admin_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    br_api_admin_call_t *c = arg;

    if (c->req != NULL) {
        if (err != SM_OK)
            br_api_admin_answer(c, NULL, SM_KERR_REQUEST_TIMED_OUT,
                                err == SM_ERR_TIMEOUT ? "the controller did not answer in time"
                                                      : "connection to the controller lost");
        else
            br_api_admin_answer(c, resp, SM_KERR_REQUEST_TIMED_OUT,
                                "the controller did not report this topic");
    }
    br_api_admin_call_free(c);
}

static void br_api_admin_abort(void *arg, br_kreq_t *req)
{
    br_api_admin_call_t *c = arg;

    c->req = NULL; /* the RPC completion frees c */
    br_kreq_drop(req);
}

/* Sends env for c, or answers at once when no controller is known. Takes c. */
static void br_api_admin_forward(br_api_admin_call_t *c, Samsa__Envelope *env, int32_t timeout_ms)
{
    br_kafka_t *k = br_kreq_kafka(c->req);
    uint32_t deadline = (uint32_t)(timeout_ms > 0 ? timeout_ms : 0) + BR_API_ADMIN_MARGIN_MS;
    sm_err_t err;

    err = br_ctlclient_call(br_kafka_deps(k)->ctlclient, env, deadline, br_api_admin_done, c);
    if (err != SM_OK) {
        br_api_admin_answer(c, NULL, SM_KERR_REQUEST_TIMED_OUT,
                            err == SM_ERR_AGAIN ? "no active controller"
                                                : "cannot reach the controller");
        br_api_admin_call_free(c);
        return;
    }
    br_kreq_set_abort(c->req, br_api_admin_abort, c);
}

static br_api_admin_call_t *br_api_admin_call_new(br_kreq_t *req, int32_t n)
{
    br_api_admin_call_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->req = req;
    c->api_key = br_kreq_api_key(req);
    c->version = br_kreq_api_version(req);
    if (n > 0 && (c->names = calloc((size_t)n, sizeof(char *))) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

/* ---- CreateTopics ---------------------------------------------------------------------------- */

/* The protobuf request being built; everything in it is owned by this struct. */
typedef struct br_api_admin_create {
    Samsa__CreateTopicsRequest ct;
    Samsa__CreatableTopic *topics;
    Samsa__CreatableTopic **tp;
} br_api_admin_create_t;

static void br_api_admin_create_deinit(br_api_admin_create_t *b)
{
    size_t i, j;

    for (i = 0; b->topics != NULL && i < b->ct.n_topics; i++) {
        Samsa__CreatableTopic *t = &b->topics[i];

        for (j = 0; j < t->n_assignments; j++) {
            free(t->assignments[j]->replicas);
            free(t->assignments[j]);
        }
        free(t->assignments);
        for (j = 0; j < t->n_configs; j++) {
            free(t->configs[j]->name);
            free(t->configs[j]->value);
            free(t->configs[j]);
        }
        free(t->configs);
    }
    free(b->topics);
    free(b->tp);
}

/* Reads one topic's assignments and configs into t. -1 partitions or replication factor
 * without an assignment (v4+, KIP-464) take this broker's num.partitions and
 * default.replication.factor, as for auto-created topics. Returns SM_ERR_NOMEM or SM_OK (reader
 * errors stay in r). */
static sm_err_t br_api_admin_read_topic(sm_reader_t *r, const sm_config_t *cfg,
                                        Samsa__CreatableTopic *t)
{
    int32_t na, nc, i, j;

    t->has_num_partitions = 1;
    t->num_partitions = sm_reader_i32(r);
    t->has_replication_factor = 1;
    t->replication_factor = sm_reader_i16(r);
    na = sm_reader_array_len(r, 8);
    if (na > 0 && (t->assignments = calloc((size_t)na, sizeof(*t->assignments))) == NULL)
        return SM_ERR_NOMEM;
    for (i = 0; i < na; i++) {
        Samsa__PartitionAssignment *a = calloc(1, sizeof(*a));
        int32_t nb;

        if (a == NULL)
            return SM_ERR_NOMEM;
        samsa__partition_assignment__init(a);
        t->assignments[t->n_assignments++] = a;
        a->has_partition = 1;
        a->partition = sm_reader_i32(r);
        nb = sm_reader_array_len(r, 4);
        if (nb > 0 && (a->replicas = calloc((size_t)nb, sizeof(int32_t))) == NULL)
            return SM_ERR_NOMEM;
        for (j = 0; j < nb; j++)
            a->replicas[a->n_replicas++] = sm_reader_i32(r);
    }
    if (na == 0 && cfg != NULL && t->num_partitions == -1)
        t->num_partitions = sm_config_get_int(cfg, "num.partitions");
    if (na == 0 && cfg != NULL && t->replication_factor == -1)
        t->replication_factor = sm_config_get_int(cfg, "default.replication.factor");
    nc = sm_reader_array_len(r, 4);
    if (nc > 0 && (t->configs = calloc((size_t)nc, sizeof(*t->configs))) == NULL)
        return SM_ERR_NOMEM;
    for (i = 0; i < nc; i++) {
        Samsa__ConfigEntry *e = calloc(1, sizeof(*e));

        if (e == NULL)
            return SM_ERR_NOMEM;
        samsa__config_entry__init(e);
        t->configs[t->n_configs++] = e;
        if (sm_str_dup(sm_reader_str(r), &e->name) != SM_OK ||
            sm_str_dup(sm_reader_nullable_str(r), &e->value) != SM_OK)
            return SM_ERR_NOMEM;
    }
    return SM_OK;
}

static void br_api_admin_create(void *arg, br_kreq_t *req)
{
    sm_reader_t *r = br_kreq_body(req);
    br_api_admin_create_t b = {0};
    br_api_admin_call_t *c = NULL;
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    sm_err_t err = SM_OK;
    int32_t n, i;

    (void)arg;
    samsa__create_topics_request__init(&b.ct);
    n = sm_reader_array_len(r, 14);
    c = br_api_admin_call_new(req, n);
    if (c == NULL || (n > 0 && ((b.topics = calloc((size_t)n, sizeof(*b.topics))) == NULL ||
                                (b.tp = calloc((size_t)n, sizeof(*b.tp))) == NULL)))
        err = SM_ERR_NOMEM;
    for (i = 0; err == SM_OK && i < n; i++) {
        Samsa__CreatableTopic *t = &b.topics[i];

        samsa__creatable_topic__init(t);
        b.tp[i] = t;
        b.ct.n_topics++;
        err = sm_str_dup(sm_reader_str(r), &c->names[i]);
        if (err == SM_OK) {
            c->n++;
            t->name = c->names[i];
            err = br_api_admin_read_topic(r, br_kafka_deps(br_kreq_kafka(req))->cfg, t);
        }
    }
    b.ct.topics = b.tp;
    b.ct.has_timeout_ms = 1;
    b.ct.timeout_ms = sm_reader_i32(r);
    if (br_kreq_api_version(req) >= 1) {
        b.ct.has_validate_only = 1;
        b.ct.validate_only = sm_reader_bool(r);
    }
    if (err == SM_OK && sm_reader_err(r) != SM_OK) {
        br_kreq_fail(req, "malformed CreateTopics request");
    } else if (err != SM_OK) {
        br_kreq_fail(req, "out of memory");
    } else {
        env.has_type = 1;
        env.type = SAMSA__RPC_TYPE__CREATE_TOPICS;
        env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST;
        env.create_topics_request = &b.ct;
        br_api_admin_forward(c, &env, b.ct.timeout_ms);
        c = NULL;
    }
    br_api_admin_create_deinit(&b);
    br_api_admin_call_free(c);
}

/* ---- DeleteTopics ---------------------------------------------------------------------------- */

static void br_api_admin_delete(void *arg, br_kreq_t *req)
{
    sm_reader_t *r = br_kreq_body(req);
    Samsa__DeleteTopicsRequest dt = SAMSA__DELETE_TOPICS_REQUEST__INIT;
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    br_api_admin_call_t *c;
    sm_err_t err = SM_OK;
    int32_t n, i;

    (void)arg;
    n = sm_reader_array_len(r, 2);
    c = br_api_admin_call_new(req, n);
    if (c == NULL)
        err = SM_ERR_NOMEM;
    for (i = 0; err == SM_OK && i < n; i++) {
        err = sm_str_dup(sm_reader_str(r), &c->names[i]);
        if (err == SM_OK)
            c->n++;
    }
    dt.has_timeout_ms = 1;
    dt.timeout_ms = sm_reader_i32(r);
    if (err != SM_OK || sm_reader_err(r) != SM_OK) {
        br_kreq_fail(req, err != SM_OK ? "out of memory" : "malformed DeleteTopics request");
        br_api_admin_call_free(c);
        return;
    }
    dt.n_topic_names = c->n;
    dt.topic_names = c->names;
    env.has_type = 1;
    env.type = SAMSA__RPC_TYPE__DELETE_TOPICS;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_REQUEST;
    env.delete_topics_request = &dt;
    br_api_admin_forward(c, &env, dt.timeout_ms);
}

sm_err_t br_api_admin_register(br_kafka_t *k)
{
    sm_err_t err;

    err = br_kafka_register(k, BR_KAFKA_CREATE_TOPICS, 0, 4, BR_KAFKA_NOT_FLEXIBLE,
                            br_api_admin_create, NULL);
    if (err == SM_OK)
        err = br_kafka_register(k, BR_KAFKA_DELETE_TOPICS, 0, 3, BR_KAFKA_NOT_FLEXIBLE,
                                br_api_admin_delete, NULL);
    return err;
}
