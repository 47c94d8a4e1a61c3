/*
 * adm_topics_write: `topics create`, `topics delete` and `topics alter`, the topic mutations
 * samsa-admin sends to the active controller (adm_rpc), and the one-line messages for the
 * Kafka error codes the controller answers with (declared in adm_topics.h).
 *
 * A request that was lost in flight during a controller change may have been applied before
 * the retry (adm_rpc_result_t.uncertain). Then TOPIC_ALREADY_EXISTS on a create, or
 * UNKNOWN_TOPIC_OR_PARTITION on a delete, is checked against ZooKeeper: if the topic is in the
 * state the first attempt asked for, the command succeeds.
 */
#include "controller/admin/adm_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_brokers.h"
#include "controller/admin/adm_out.h"
#include "controller/admin/adm_rpc.h"
#include "controller/admin/adm_zk.h"
#include "sm_rpc.h"

#define ADM_TOPICS_ERR_UNKNOWN_TOPIC   3
#define ADM_TOPICS_ERR_TIMED_OUT       7
#define ADM_TOPICS_ERR_INVALID_TOPIC   17
#define ADM_TOPICS_ERR_EXISTS          36
#define ADM_TOPICS_ERR_PARTITIONS      37
#define ADM_TOPICS_ERR_RF              38
#define ADM_TOPICS_ERR_ASSIGNMENT      39
#define ADM_TOPICS_ERR_CONFIG          40
#define ADM_TOPICS_ERR_DELETE_DISABLED 73

/* How long the controller may wait for the work behind its answer (leaders elected, replicas
 * deleted): part of the tool's own deadline, so the answer still arrives in time. */
static int32_t adm_topics_server_wait(const adm_args_t *a)
{
    int64_t ms = a->timeout_ms / 2;

    return (int32_t)(ms > 10000 ? 10000 : ms);
}

/* Prints the one line for a Kafka error code answered about topic; returns 1. */
static int adm_topics_fail(const adm_args_t *a, sm_zk_sync_t *zs, int32_t code, const char *msg)
{
    const char *topic = a->name;
    int32_t *ids = NULL;
    size_t n = 0;

    switch (code) {
    case ADM_TOPICS_ERR_UNKNOWN_TOPIC:
        return adm_out_fail("unknown topic '%s'", topic);
    case ADM_TOPICS_ERR_EXISTS:
        return adm_out_fail("topic '%s' already exists", topic);
    case ADM_TOPICS_ERR_RF:
        if (a->replication_factor > 0 && adm_brokers_ids(zs, &ids, &n, NULL) == SM_OK) {
            free(ids);
            return adm_out_fail("replication factor %d larger than available brokers %zu",
                                (int)a->replication_factor, n);
        }
        return adm_out_fail("replication factor too high: %s", msg ? msg : "not enough brokers");
    case ADM_TOPICS_ERR_INVALID_TOPIC:
        return adm_out_fail("invalid topic '%s'%s%s", topic, msg ? ": " : "", msg ? msg : "");
    case ADM_TOPICS_ERR_CONFIG:
        return adm_out_fail("invalid config for topic '%s'%s%s", topic, msg ? ": " : "",
                            msg ? msg : "");
    case ADM_TOPICS_ERR_PARTITIONS:
        return adm_out_fail("invalid partition count for topic '%s'%s%s", topic, msg ? ": " : "",
                            msg ? msg : "");
    case ADM_TOPICS_ERR_ASSIGNMENT:
        return adm_out_fail("invalid replica assignment for topic '%s'%s%s", topic, msg ? ": " : "",
                            msg ? msg : "");
    case ADM_TOPICS_ERR_DELETE_DISABLED:
        return adm_out_fail("topic deletion is disabled%s%s", msg ? ": " : "", msg ? msg : "");
    default:
        return adm_out_fail("%s %s: %s (%d)%s%s", adm_args_cmd_name(a->cmd), topic,
                            adm_out_kafka_error(code), (int)code, msg ? ": " : "", msg ? msg : "");
    }
}

/* Opens ZooKeeper and sends req; on success *res holds the answer. Prints the failure. */
static int adm_topics_send(const adm_args_t *a, sm_zk_sync_t **zs, Samsa__Envelope *req,
                           adm_rpc_result_t *res)
{
    sm_errbuf_t eb = {{0}};

    memset(res, 0, sizeof(*res));
    if (adm_zk_open(a, zs, &eb) != SM_OK)
        return adm_out_fail("%s", eb.msg);
    if (adm_rpc_call(a, *zs, req, res, &eb) != SM_OK)
        return adm_out_fail("%s", eb.msg);
    return 0;
}

/* True when the topic exists in ZooKeeper with the partition count a asked for. */
static bool adm_topics_matches_request(const adm_args_t *a, sm_zk_sync_t *zs)
{
    adm_topic_t t;
    bool same = false;
    int32_t want = a->assignment != NULL ? a->assignment_partitions : a->partitions;

    if (adm_topics_load(zs, a->name, &t, NULL) == SM_OK)
        same = t.assign != NULL && (int32_t)t.assign->n_partitions == want;
    adm_topics_deinit(&t);
    return same;
}

/* Reads the answer: the top-level error code, or the first topic's when the top level is
 * fine, into *code and *msg. Returns false (after printing one line) when the controller
 * answered with another payload than want without an error. */
static bool adm_topics_answer(const adm_args_t *a, const adm_rpc_result_t *res,
                              Samsa__Envelope__PayloadCase want, int32_t *code, const char **msg)
{
    const Samsa__Envelope *r = res->resp;

    *code = adm_rpc_error_code(r, msg);
    if (*code != 0)
        return true;
    if (r->payload_case != want) {
        adm_out_fail("%s %s: unexpected answer %s from controller %d", adm_args_cmd_name(a->cmd),
                     a->name, sm_rpc_payload_name(r), (int)res->controller_id);
        return false;
    }
    if (want == SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE &&
        r->create_topics_response->n_topics > 0) {
        *code = r->create_topics_response->topics[0]->error_code;
        *msg = r->create_topics_response->topics[0]->error_message;
    } else if (want == SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_RESPONSE &&
               r->delete_topics_response->n_topics > 0) {
        *code = r->delete_topics_response->topics[0]->error_code;
        *msg = r->delete_topics_response->topics[0]->error_message;
    }
    return true;
}

/* ---- create -------------------------------------------------------------------------------- */

/* The CreateTopics request of `topics create`, with every part it points to. */
typedef struct adm_topics_create_req {
    Samsa__Envelope env;
    Samsa__CreateTopicsRequest req;
    Samsa__CreatableTopic ct;
    Samsa__CreatableTopic *cts[1];
    Samsa__PartitionAssignment *pa_store; /* --replica-assignment rows */
    Samsa__PartitionAssignment **pas;
    Samsa__ConfigEntry *cfg_store; /* --config entries; names point into keys */
    Samsa__ConfigEntry **cfgs;
    char **keys; /* copies of "key=value" split at '=' */
    size_t n_keys;
} adm_topics_create_req_t;

static void adm_topics_create_release(adm_topics_create_req_t *r)
{
    for (size_t i = 0; r->keys != NULL && i < r->n_keys; i++)
        free(r->keys[i]);
    free(r->keys);
    free(r->cfgs);
    free(r->cfg_store);
    free(r->pas);
    free(r->pa_store);
}

static sm_err_t adm_topics_create_build(const adm_args_t *a, adm_topics_create_req_t *r)
{
    size_t n_parts = a->assignment != NULL ? (size_t)a->assignment_partitions : 0;

    memset(r, 0, sizeof(*r));
    samsa__envelope__init(&r->env);
    samsa__create_topics_request__init(&r->req);
    samsa__creatable_topic__init(&r->ct);
    r->pa_store = calloc(n_parts + 1, sizeof(*r->pa_store));
    r->pas = calloc(n_parts + 1, sizeof(*r->pas));
    r->cfg_store = calloc(a->n_configs + 1, sizeof(*r->cfg_store));
    r->cfgs = calloc(a->n_configs + 1, sizeof(*r->cfgs));
    r->keys = calloc(a->n_configs + 1, sizeof(*r->keys));
    if (r->pa_store == NULL || r->pas == NULL || r->cfg_store == NULL || r->cfgs == NULL ||
        r->keys == NULL)
        return SM_ERR_NOMEM;
    for (size_t p = 0; p < n_parts; p++) {
        samsa__partition_assignment__init(&r->pa_store[p]);
        r->pa_store[p].has_partition = 1;
        r->pa_store[p].partition = (int32_t)p;
        r->pa_store[p].n_replicas = (size_t)a->assignment_rf;
        r->pa_store[p].replicas = &a->assignment[p * (size_t)a->assignment_rf];
        r->pas[p] = &r->pa_store[p];
    }
    for (size_t i = 0; i < a->n_configs; i++) {
        char *eq;

        r->keys[i] = strdup(a->configs[i]);
        if (r->keys[i] == NULL)
            return SM_ERR_NOMEM;
        r->n_keys++;
        eq = strchr(r->keys[i], '=');
        *eq = '\0';
        samsa__config_entry__init(&r->cfg_store[i]);
        r->cfg_store[i].name = r->keys[i];
        r->cfg_store[i].value = eq + 1;
        r->cfgs[i] = &r->cfg_store[i];
    }
    r->ct.name = (char *)a->name;
    if (a->assignment == NULL) {
        r->ct.has_num_partitions = 1;
        r->ct.num_partitions = a->partitions;
        r->ct.has_replication_factor = 1;
        r->ct.replication_factor = a->replication_factor;
    }
    r->ct.n_assignments = n_parts;
    r->ct.assignments = r->pas;
    r->ct.n_configs = a->n_configs;
    r->ct.configs = r->cfgs;
    r->cts[0] = &r->ct;
    r->req.n_topics = 1;
    r->req.topics = r->cts;
    r->req.has_timeout_ms = 1;
    r->req.timeout_ms = adm_topics_server_wait(a);
    r->env.has_type = 1;
    r->env.type = SAMSA__RPC_TYPE__CREATE_TOPICS;
    r->env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST;
    r->env.create_topics_request = &r->req;
    return SM_OK;
}

int adm_topics_create(const adm_args_t *a)
{
    adm_topics_create_req_t r;
    adm_rpc_result_t res = {0};
    sm_zk_sync_t *zs = NULL;
    const char *msg = NULL;
    int32_t code;
    int rc = 1;

    if (adm_topics_create_build(a, &r) != SM_OK) {
        adm_out_fail("out of memory");
        goto out;
    }
    if (adm_topics_send(a, &zs, &r.env, &res) != 0 ||
        !adm_topics_answer(a, &res, SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE, &code, &msg))
        goto out;
    if (code == ADM_TOPICS_ERR_EXISTS && res.uncertain && adm_topics_matches_request(a, zs)) {
        code = 0; /* our own first attempt created it before the controller changed */
    } else if (code == ADM_TOPICS_ERR_EXISTS && a->if_not_exists) {
        printf("Topic %s already exists.\n", a->name);
        rc = 0;
        goto out;
    }
    if (code != 0) {
        adm_topics_fail(a, zs, code, msg);
        goto out;
    }
    printf("Created topic %s.\n", a->name);
    rc = 0;
out:
    adm_topics_create_release(&r);
    adm_rpc_result_deinit(&res);
    sm_zk_sync_close(zs);
    return rc;
}

/* ---- delete -------------------------------------------------------------------------------- */

int adm_topics_delete(const adm_args_t *a)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__DeleteTopicsRequest req = SAMSA__DELETE_TOPICS_REQUEST__INIT;
    char *names[1] = {(char *)a->name};
    adm_rpc_result_t res = {0};
    sm_zk_sync_t *zs = NULL;
    const char *msg = NULL;
    char path[600];
    int32_t code;
    int rc = 1;

    req.n_topic_names = 1;
    req.topic_names = names;
    req.has_timeout_ms = 1;
    req.timeout_ms = adm_topics_server_wait(a);
    env.has_type = 1;
    env.type = SAMSA__RPC_TYPE__DELETE_TOPICS;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_REQUEST;
    env.delete_topics_request = &req;
    if (adm_topics_send(a, &zs, &env, &res) != 0 ||
        !adm_topics_answer(a, &res, SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_RESPONSE, &code, &msg))
        goto out;
    snprintf(path, sizeof(path), "/brokers/topics/%s", a->name);
    if (code == ADM_TOPICS_ERR_UNKNOWN_TOPIC && res.uncertain &&
        sm_zk_sync_exists(zs, path, NULL, NULL) == SM_ERR_NOT_FOUND)
        code = 0; /* our first attempt deleted it before the controller changed */
    if (code == ADM_TOPICS_ERR_UNKNOWN_TOPIC && a->if_exists) {
        printf("Topic %s does not exist.\n", a->name);
        rc = 0;
        goto out;
    }
    if (code == ADM_TOPICS_ERR_TIMED_OUT) {
        printf("Topic %s is marked for deletion; the deletion is still in progress.\n", a->name);
        rc = 0;
        goto out;
    }
    if (code != 0) {
        adm_topics_fail(a, zs, code, msg);
        goto out;
    }
    printf("Deleted topic %s.\n", a->name);
    rc = 0;
out:
    adm_rpc_result_deinit(&res);
    sm_zk_sync_close(zs);
    return rc;
}

/* ---- alter --------------------------------------------------------------------------------- */

/* The AlterTopicConfig request of `topics alter`: --config sets, then --delete-config deletes. */
typedef struct adm_topics_alter_req {
    Samsa__Envelope env;
    Samsa__AlterTopicConfigRequest req;
    Samsa__AlterableConfig *store;
    Samsa__AlterableConfig **ptrs;
    char **keys; /* copies of --config "key=value" split at '=' */
    size_t n_keys;
} adm_topics_alter_req_t;

static void adm_topics_alter_release(adm_topics_alter_req_t *r)
{
    for (size_t i = 0; r->keys != NULL && i < r->n_keys; i++)
        free(r->keys[i]);
    free(r->keys);
    free(r->ptrs);
    free(r->store);
}

static sm_err_t adm_topics_alter_build(const adm_args_t *a, adm_topics_alter_req_t *r)
{
    size_t n = a->n_configs + a->n_delete_configs;

    memset(r, 0, sizeof(*r));
    samsa__envelope__init(&r->env);
    samsa__alter_topic_config_request__init(&r->req);
    r->store = calloc(n + 1, sizeof(*r->store));
    r->ptrs = calloc(n + 1, sizeof(*r->ptrs));
    r->keys = calloc(a->n_configs + 1, sizeof(*r->keys));
    if (r->store == NULL || r->ptrs == NULL || r->keys == NULL)
        return SM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        Samsa__AlterableConfig *c = &r->store[i];
        char *eq;

        samsa__alterable_config__init(c);
        c->has_op = 1;
        r->ptrs[i] = c;
        if (i >= a->n_configs) {
            c->name = (char *)a->delete_configs[i - a->n_configs];
            c->op = SAMSA__CONFIG_OP__CONFIG_DELETE;
            continue;
        }
        r->keys[i] = strdup(a->configs[i]);
        if (r->keys[i] == NULL)
            return SM_ERR_NOMEM;
        r->n_keys++;
        eq = strchr(r->keys[i], '=');
        *eq = '\0';
        c->name = r->keys[i];
        c->value = eq + 1;
        c->op = SAMSA__CONFIG_OP__CONFIG_SET;
    }
    r->req.topic = (char *)a->name;
    r->req.n_configs = n;
    r->req.configs = r->ptrs;
    r->env.has_type = 1;
    r->env.type = SAMSA__RPC_TYPE__ALTER_TOPIC_CONFIG;
    r->env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_REQUEST;
    r->env.alter_topic_config_request = &r->req;
    return SM_OK;
}

int adm_topics_alter(const adm_args_t *a)
{
    adm_topics_alter_req_t r;
    adm_rpc_result_t res = {0};
    sm_zk_sync_t *zs = NULL;
    const char *msg = NULL;
    int32_t code;
    int rc = 1;

    memset(&r, 0, sizeof(r));
    if (a->partitions > 0) {
        adm_out_fail("topics alter: changing the partition count is not supported yet");
        goto out;
    }
    if (adm_topics_alter_build(a, &r) != SM_OK) {
        adm_out_fail("out of memory");
        goto out;
    }
    if (adm_topics_send(a, &zs, &r.env, &res) != 0 ||
        !adm_topics_answer(a, &res, SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_RESPONSE, &code,
                           &msg))
        goto out;
    if (code == ADM_TOPICS_ERR_UNKNOWN_TOPIC && a->if_exists) {
        printf("Topic %s does not exist.\n", a->name);
        rc = 0;
        goto out;
    }
    if (code != 0) {
        adm_topics_fail(a, zs, code, msg);
        goto out;
    }
    printf("Updated the config of topic %s.\n", a->name);
    rc = 0;
out:
    adm_topics_alter_release(&r);
    adm_rpc_result_deinit(&res);
    sm_zk_sync_close(zs);
    return rc;
}
