/*
 * ctl_alter: AlterTopicConfigRequest (incremental, like Kafka's IncrementalAlterConfigs for
 * topics). The new override set is the topic's current one (from the model) with each
 * CONFIG_SET / CONFIG_DELETE applied; every key and value is validated like at creation, and
 * the whole set is written to /config/topics/<t> in one epoch-checked multi (created if the
 * node is missing). The mirror sees the change and, if unclean.leader.election.enable was
 * turned on, the active controller reconciles the topic's offline partitions.
 */
#include "controller/ctl_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl_codec.h"
#include "controller/ctl_paths.h"
#include "controller/ctl_validate.h"
#include "sm_log.h"

typedef struct ctl_alter {
    sm_rpc_call_t *call;
    char *topic;
    uint8_t *data;
    size_t len;
    bool created; /* second attempt: the node was missing */
    ctl_ctx_t *c;
} ctl_alter_t;

static void ctl_alter_reply(sm_rpc_call_t *call, int32_t code, const char *msg)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterTopicConfigResponse resp = SAMSA__ALTER_TOPIC_CONFIG_RESPONSE__INIT;

    resp.has_error_code = 1;
    resp.error_code = code;
    resp.error_message = (char *)msg;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_TOPIC_CONFIG_RESPONSE;
    env.alter_topic_config_response = &resp;
    sm_rpc_call_reply(call, &env);
}

static void ctl_alter_free(ctl_alter_t *a)
{
    free(a->topic);
    free(a->data);
    free(a);
}

static sm_err_t ctl_alter_send(ctl_alter_t *a);

static void ctl_alter_on_written(void *arg, sm_err_t err, const sm_zk_result_t *res)
{
    ctl_alter_t *a = arg;
    char msg[160];

    (void)res;
    if (err == SM_ERR_NOT_FOUND && !a->created) {
        a->created = true;
        if (ctl_alter_send(a) == SM_OK)
            return;
    }
    if (err == SM_OK) {
        sm_log_info("updated the config of topic %s", a->topic);
        ctl_alter_reply(a->call, CTL_KERR_NONE, NULL);
    } else if (err == SM_ERR_FENCED || err == SM_ERR_STATE) {
        ctl_alter_reply(a->call, CTL_KERR_NOT_CONTROLLER, "not the active controller any more");
    } else {
        snprintf(msg, sizeof(msg), "cannot write the config: %s", sm_err_str(err));
        ctl_alter_reply(
            a->call,
            err == SM_ERR_AGAIN ? CTL_KERR_REQUEST_TIMED_OUT : CTL_KERR_UNKNOWN_SERVER_ERROR, msg);
    }
    ctl_alter_free(a);
}

static sm_err_t ctl_alter_send(ctl_alter_t *a)
{
    char path[CTL_PATH_MAX];
    sm_zk_op_t op = {.type = a->created ? SM_ZK_OP_CREATE : SM_ZK_OP_SET,
                     .path = ctl_path_config(path, sizeof(path), a->topic),
                     .data = a->data,
                     .len = a->len,
                     .version = -1};

    return ctl_zkw_multi(a->c->zkw, &op, 1, ctl_alter_on_written, a);
}

/* Index of key in keys[0..n), or n. */
static size_t ctl_alter_find(const char **keys, size_t n, const char *key)
{
    size_t i = 0;

    while (i < n && strcmp(keys[i], key) != 0)
        i++;
    return i;
}

/* Applies the request's operations to the current overrides (keys/values hold room for
 * n + the request's count). Returns false with the error in eb. */
static bool ctl_alter_apply(const Samsa__AlterTopicConfigRequest *r, const char **keys,
                            const char **values, size_t *n, sm_errbuf_t *eb)
{
    for (size_t i = 0; i < r->n_configs; i++) {
        const Samsa__AlterableConfig *ac = r->configs[i];
        bool del = ac->has_op && ac->op == SAMSA__CONFIG_OP__CONFIG_DELETE;
        size_t at = ctl_alter_find(keys, *n, ac->name != NULL ? ac->name : "");

        if (ctl_validate_topic_config(ac->name, del ? "1" : ac->value, eb) != SM_OK &&
            (!del || strncmp(eb->msg, "unknown", 7) == 0))
            return false;
        if (del && at < *n) {
            keys[at] = keys[*n - 1];
            values[at] = values[*n - 1];
            (*n)--;
        } else if (!del) {
            keys[at] = ac->name;
            values[at] = ac->value;
            if (at == *n)
                (*n)++;
        }
    }
    return true;
}

void ctl_alter_handle(ctl_ctx_t *c, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    const Samsa__AlterTopicConfigRequest *r = req->alter_topic_config_request;
    const char *topic = r->topic != NULL ? r->topic : "";
    const char *const *cur_k, *const *cur_v;
    size_t n = ctl_model_config_list(c->model, topic, &cur_k, &cur_v);
    const char **keys = calloc(n + r->n_configs + 1, sizeof(*keys));
    const char **values = calloc(n + r->n_configs + 1, sizeof(*values));
    ctl_alter_t *a = NULL;
    sm_errbuf_t eb = {{0}};

    if (keys == NULL || values == NULL || (a = calloc(1, sizeof(*a))) == NULL) {
        ctl_alter_reply(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    if (ctl_model_topic(c->model, topic) == NULL || ctl_model_deletion_has(c->model, topic)) {
        snprintf(eb.msg, sizeof(eb.msg), "topic '%.200s' does not exist", topic);
        ctl_alter_reply(call, CTL_KERR_UNKNOWN_TOPIC, eb.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = cur_k[i];
        values[i] = cur_v[i];
    }
    if (!ctl_alter_apply(r, keys, values, &n, &eb)) {
        ctl_alter_reply(call, CTL_KERR_INVALID_CONFIG, eb.msg);
        goto out;
    }
    if (r->has_validate_only && r->validate_only) {
        ctl_alter_reply(call, CTL_KERR_NONE, NULL);
        goto out;
    }
    *a = (ctl_alter_t){.call = call, .topic = strdup(topic), .c = c};
    if (a->topic == NULL || ctl_codec_config_encode(keys, values, n, &a->data, &a->len) != SM_OK ||
        ctl_alter_send(a) != SM_OK) {
        ctl_alter_reply(call, CTL_KERR_UNKNOWN_SERVER_ERROR, "cannot write the config");
        goto out;
    }
    a = NULL;
out:
    if (a != NULL)
        ctl_alter_free(a);
    free(keys);
    free(values);
}
