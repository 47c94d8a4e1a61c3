/*
 * ctl_codec: znode payloads <-> model types (see ctl_codec.h). Each encoder fills a protobuf-c
 * message on the stack and packs it into a malloc'd buffer; each decoder unpacks, checks and
 * copies what the model keeps.
 */
#include "controller/ctl_codec.h"

#include <stdlib.h>
#include <string.h>

#include "controller/ctl_assign.h"
#include "samsa.pb-c.h"

/* Packs any message into a new buffer. */
static sm_err_t ctl_codec_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);

    *out = malloc(n > 0 ? n : 1);
    *len = 0;
    if (*out == NULL)
        return SM_ERR_NOMEM;
    *len = protobuf_c_message_pack(msg, *out);
    return SM_OK;
}

static char *ctl_codec_strdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* ---- brokers ------------------------------------------------------------------------------ */

static sm_err_t ctl_codec_endpoint_copy(const Samsa__Endpoint *src, ctl_endpoint_t *dst)
{
    dst->port = src->has_port ? src->port : 0;
    dst->listener = ctl_codec_strdup(src->listener);
    dst->host = ctl_codec_strdup(src->host);
    if ((src->listener != NULL && dst->listener == NULL) || (src->host != NULL && !dst->host))
        return SM_ERR_NOMEM;
    return SM_OK;
}

static sm_err_t ctl_codec_broker_fill(const Samsa__BrokerRegistration *reg, ctl_broker_t *b)
{
    sm_err_t err = SM_OK;

    b->endpoints = calloc(reg->n_endpoints > 0 ? reg->n_endpoints : 1, sizeof(*b->endpoints));
    if (b->endpoints == NULL)
        return SM_ERR_NOMEM;
    for (; b->n_endpoints < reg->n_endpoints && err == SM_OK; b->n_endpoints++)
        err =
            ctl_codec_endpoint_copy(reg->endpoints[b->n_endpoints], &b->endpoints[b->n_endpoints]);
    if (err == SM_OK && reg->control_endpoint != NULL)
        err = ctl_codec_endpoint_copy(reg->control_endpoint, &b->control);
    if (err == SM_OK && reg->rack != NULL && reg->rack[0] != '\0') {
        b->rack = strdup(reg->rack);
        if (b->rack == NULL)
            err = SM_ERR_NOMEM;
    }
    b->start_time_ms = reg->has_start_time_ms ? reg->start_time_ms : 0;
    return err;
}

sm_err_t ctl_codec_broker_decode(const void *data, size_t len, int32_t id, int64_t epoch,
                                 ctl_broker_t *out)
{
    Samsa__BrokerRegistration *reg;
    sm_err_t err = SM_ERR_CORRUPT;

    memset(out, 0, sizeof(*out));
    out->id = id;
    out->epoch = epoch;
    reg = samsa__broker_registration__unpack(NULL, len, data);
    if (reg == NULL)
        goto out;
    if (reg->has_broker_id && reg->broker_id != id)
        goto out;
    err = ctl_codec_broker_fill(reg, out);
out:
    if (err != SM_OK)
        ctl_broker_deinit(out);
    if (reg != NULL)
        samsa__broker_registration__free_unpacked(reg, NULL);
    return err;
}

sm_err_t ctl_codec_broker_encode(const ctl_broker_t *b, uint8_t **out, size_t *len)
{
    Samsa__BrokerRegistration reg = SAMSA__BROKER_REGISTRATION__INIT;
    Samsa__Endpoint ctl = SAMSA__ENDPOINT__INIT;
    Samsa__Endpoint *eps = calloc(b->n_endpoints + 1, sizeof(*eps));
    Samsa__Endpoint **ptrs = calloc(b->n_endpoints + 1, sizeof(*ptrs));
    sm_err_t err = SM_ERR_NOMEM;

    if (eps == NULL || ptrs == NULL)
        goto out;
    for (size_t i = 0; i < b->n_endpoints; i++) {
        samsa__endpoint__init(&eps[i]);
        eps[i].listener = b->endpoints[i].listener;
        eps[i].host = b->endpoints[i].host;
        eps[i].has_port = 1;
        eps[i].port = b->endpoints[i].port;
        ptrs[i] = &eps[i];
    }
    reg.has_broker_id = 1;
    reg.broker_id = b->id;
    reg.n_endpoints = b->n_endpoints;
    reg.endpoints = ptrs;
    if (b->control.host != NULL) {
        ctl.listener = b->control.listener;
        ctl.host = b->control.host;
        ctl.has_port = 1;
        ctl.port = b->control.port;
        reg.control_endpoint = &ctl;
    }
    reg.rack = b->rack;
    reg.has_start_time_ms = 1;
    reg.start_time_ms = b->start_time_ms;
    err = ctl_codec_pack(&reg.base, out, len);
out:
    free(eps);
    free(ptrs);
    return err;
}

/* ---- topics ------------------------------------------------------------------------------- */

static int ctl_codec_cmp_partition(const void *a, const void *b)
{
    const Samsa__PartitionAssignment *x = *(Samsa__PartitionAssignment *const *)a;
    const Samsa__PartitionAssignment *y = *(Samsa__PartitionAssignment *const *)b;

    return (x->partition > y->partition) - (x->partition < y->partition);
}

static bool ctl_codec_assignment_ok(const Samsa__PartitionAssignment *pa, size_t index)
{
    return pa->has_partition && pa->partition == (int32_t)index &&
           pa->n_replicas <= CTL_MAX_REPLICAS && pa->n_adding_replicas <= CTL_MAX_REPLICAS &&
           pa->n_removing_replicas <= CTL_MAX_REPLICAS;
}

sm_err_t ctl_codec_topic_decode(const void *data, size_t len, ctl_codec_topic_t *out)
{
    Samsa__TopicAssignment *ta;
    sm_err_t err = SM_ERR_CORRUPT;

    memset(out, 0, sizeof(*out));
    ta = samsa__topic_assignment__unpack(NULL, len, data);
    out->msg = ta;
    if (ta == NULL || (ta->has_topic_id && ta->topic_id.len != 16 && ta->topic_id.len != 0))
        goto out;
    if (ta->has_topic_id && ta->topic_id.len == 16)
        memcpy(out->id.b, ta->topic_id.data, 16);
    qsort(ta->partitions, ta->n_partitions, sizeof(*ta->partitions), ctl_codec_cmp_partition);
    out->parts = calloc(ta->n_partitions > 0 ? ta->n_partitions : 1, sizeof(*out->parts));
    if (out->parts == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < ta->n_partitions; i++) {
        const Samsa__PartitionAssignment *pa = ta->partitions[i];

        if (!ctl_codec_assignment_ok(pa, i))
            goto out;
        out->parts[i] = (ctl_assignment_t){pa->replicas,          pa->n_replicas,
                                           pa->adding_replicas,   pa->n_adding_replicas,
                                           pa->removing_replicas, pa->n_removing_replicas};
    }
    out->n_parts = ta->n_partitions;
    err = SM_OK;
out:
    if (err != SM_OK)
        ctl_codec_topic_deinit(out);
    return err;
}

void ctl_codec_topic_deinit(ctl_codec_topic_t *t)
{
    if (t->msg != NULL)
        samsa__topic_assignment__free_unpacked(t->msg, NULL);
    free(t->parts);
    memset(t, 0, sizeof(*t));
}

sm_err_t ctl_codec_topic_encode(const sm_uuid_t *id, const ctl_assignment_t *parts, size_t n,
                                uint8_t **out, size_t *len)
{
    Samsa__TopicAssignment ta = SAMSA__TOPIC_ASSIGNMENT__INIT;
    Samsa__PartitionAssignment *pas = calloc(n > 0 ? n : 1, sizeof(*pas));
    Samsa__PartitionAssignment **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
    sm_err_t err = SM_ERR_NOMEM;

    if (pas == NULL || ptrs == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        samsa__partition_assignment__init(&pas[i]);
        pas[i].has_partition = 1;
        pas[i].partition = (int32_t)i;
        pas[i].n_replicas = parts[i].n_replicas;
        pas[i].replicas = (int32_t *)parts[i].replicas;
        pas[i].n_adding_replicas = parts[i].n_adding;
        pas[i].adding_replicas = (int32_t *)parts[i].adding;
        pas[i].n_removing_replicas = parts[i].n_removing;
        pas[i].removing_replicas = (int32_t *)parts[i].removing;
        ptrs[i] = &pas[i];
    }
    ta.has_topic_id = 1;
    ta.topic_id.len = 16;
    ta.topic_id.data = (uint8_t *)id->b;
    ta.n_partitions = n;
    ta.partitions = ptrs;
    err = ctl_codec_pack(&ta.base, out, len);
out:
    free(pas);
    free(ptrs);
    return err;
}

/* ---- partition state ---------------------------------------------------------------------- */

sm_err_t ctl_codec_state_decode(const void *data, size_t len, int32_t zk_version, ctl_pstate_t *out,
                                int32_t *isr_buf)
{
    Samsa__PartitionState *ps = samsa__partition_state__unpack(NULL, len, data);
    sm_err_t err = SM_ERR_CORRUPT;

    if (ps == NULL || ps->n_isr > CTL_MAX_REPLICAS)
        goto out;
    if (ps->n_isr > 0)
        memcpy(isr_buf, ps->isr, ps->n_isr * sizeof(*isr_buf));
    *out = (ctl_pstate_t){
        .leader = ps->leader,
        .leader_epoch = ps->leader_epoch,
        .controller_epoch = ps->controller_epoch,
        .recovery = (int32_t)ps->leader_recovery_state,
        .isr = isr_buf,
        .n_isr = ps->n_isr,
        .zk_version = zk_version,
    };
    err = SM_OK;
out:
    if (ps != NULL)
        samsa__partition_state__free_unpacked(ps, NULL);
    return err;
}

sm_err_t ctl_codec_state_encode(const ctl_pstate_t *st, uint8_t **out, size_t *len)
{
    Samsa__PartitionState ps = SAMSA__PARTITION_STATE__INIT;

    ps.has_leader = 1;
    ps.leader = st->leader;
    ps.has_leader_epoch = 1;
    ps.leader_epoch = st->leader_epoch;
    ps.n_isr = st->n_isr;
    ps.isr = (int32_t *)st->isr;
    ps.has_controller_epoch = 1;
    ps.controller_epoch = st->controller_epoch;
    if (st->recovery != 0) {
        ps.has_leader_recovery_state = 1;
        ps.leader_recovery_state = SAMSA__LEADER_RECOVERY_STATE__RECOVERING;
    }
    return ctl_codec_pack(&ps.base, out, len);
}

/* ---- topic configs ------------------------------------------------------------------------ */

sm_err_t ctl_codec_config_decode(const void *data, size_t len, ctl_codec_config_t *out)
{
    Samsa__TopicConfig *tc = samsa__topic_config__unpack(NULL, len, data);
    sm_err_t err = SM_ERR_CORRUPT;

    memset(out, 0, sizeof(*out));
    out->msg = tc;
    if (tc == NULL)
        goto out;
    err = SM_ERR_NOMEM;
    out->keys = calloc(tc->n_configs + 1, sizeof(*out->keys));
    out->values = calloc(tc->n_configs + 1, sizeof(*out->values));
    if (out->keys == NULL || out->values == NULL)
        goto out;
    for (size_t i = 0; i < tc->n_configs; i++) {
        if (tc->configs[i]->name == NULL)
            continue;
        out->keys[out->n] = tc->configs[i]->name;
        out->values[out->n] = tc->configs[i]->value != NULL ? tc->configs[i]->value : "";
        out->n++;
    }
    err = SM_OK;
out:
    if (err != SM_OK)
        ctl_codec_config_deinit(out);
    return err;
}

void ctl_codec_config_deinit(ctl_codec_config_t *c)
{
    if (c->msg != NULL)
        samsa__topic_config__free_unpacked(c->msg, NULL);
    free(c->keys);
    free(c->values);
    memset(c, 0, sizeof(*c));
}

sm_err_t ctl_codec_config_encode(const char *const *keys, const char *const *values, size_t n,
                                 uint8_t **out, size_t *len)
{
    Samsa__TopicConfig tc = SAMSA__TOPIC_CONFIG__INIT;
    Samsa__ConfigEntry *ents = calloc(n > 0 ? n : 1, sizeof(*ents));
    Samsa__ConfigEntry **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
    sm_err_t err = SM_ERR_NOMEM;

    if (ents == NULL || ptrs == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        samsa__config_entry__init(&ents[i]);
        ents[i].name = (char *)keys[i];
        ents[i].value = (char *)values[i];
        ptrs[i] = &ents[i];
    }
    tc.n_configs = n;
    tc.configs = ptrs;
    err = ctl_codec_pack(&tc.base, out, len);
out:
    free(ents);
    free(ptrs);
    return err;
}

/* ---- controller, epoch, cluster id, marker ------------------------------------------------ */

sm_err_t ctl_codec_controller_encode(int32_t id, const char *host, int32_t port, int32_t epoch,
                                     int64_t timestamp_ms, uint8_t **out, size_t *len)
{
    Samsa__ControllerRegistration cr = SAMSA__CONTROLLER_REGISTRATION__INIT;
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT;

    ep.listener = "CONTROL";
    ep.host = (char *)host;
    ep.has_port = 1;
    ep.port = port;
    cr.has_controller_id = 1;
    cr.controller_id = id;
    cr.endpoint = &ep;
    cr.has_epoch = 1;
    cr.epoch = epoch;
    cr.has_timestamp_ms = 1;
    cr.timestamp_ms = timestamp_ms;
    return ctl_codec_pack(&cr.base, out, len);
}

sm_err_t ctl_codec_controller_decode(const void *data, size_t len, int32_t *id, int32_t *epoch,
                                     char *host, size_t host_len, int32_t *port)
{
    Samsa__ControllerRegistration *cr = samsa__controller_registration__unpack(NULL, len, data);

    if (cr == NULL)
        return SM_ERR_CORRUPT;
    *id = cr->has_controller_id ? cr->controller_id : -1;
    *epoch = cr->has_epoch ? cr->epoch : 0;
    if (host != NULL && host_len > 0) {
        const char *h = cr->endpoint != NULL && cr->endpoint->host ? cr->endpoint->host : "";

        strncpy(host, h, host_len - 1);
        host[host_len - 1] = '\0';
    }
    if (port != NULL)
        *port = cr->endpoint != NULL && cr->endpoint->has_port ? cr->endpoint->port : 0;
    samsa__controller_registration__free_unpacked(cr, NULL);
    return SM_OK;
}

sm_err_t ctl_codec_epoch_encode(int32_t epoch, uint8_t **out, size_t *len)
{
    Samsa__ControllerEpoch ce = SAMSA__CONTROLLER_EPOCH__INIT;

    ce.has_epoch = 1;
    ce.epoch = epoch;
    return ctl_codec_pack(&ce.base, out, len);
}

sm_err_t ctl_codec_epoch_decode(const void *data, size_t len, int32_t *epoch)
{
    Samsa__ControllerEpoch *ce = samsa__controller_epoch__unpack(NULL, len, data);

    if (ce == NULL)
        return SM_ERR_CORRUPT;
    *epoch = ce->has_epoch ? ce->epoch : 0;
    samsa__controller_epoch__free_unpacked(ce, NULL);
    return SM_OK;
}

sm_err_t ctl_codec_cluster_id_encode(const char *id, uint8_t **out, size_t *len)
{
    Samsa__ClusterId ci = SAMSA__CLUSTER_ID__INIT;

    ci.id = (char *)id;
    return ctl_codec_pack(&ci.base, out, len);
}

sm_err_t ctl_codec_cluster_id_decode(const void *data, size_t len, char *id, size_t id_len)
{
    Samsa__ClusterId *ci = samsa__cluster_id__unpack(NULL, len, data);

    if (ci == NULL || ci->id == NULL || id_len == 0) {
        if (ci != NULL)
            samsa__cluster_id__free_unpacked(ci, NULL);
        return SM_ERR_CORRUPT;
    }
    strncpy(id, ci->id, id_len - 1);
    id[id_len - 1] = '\0';
    samsa__cluster_id__free_unpacked(ci, NULL);
    return SM_OK;
}

sm_err_t ctl_codec_marker_encode(int64_t requested_ms, uint8_t **out, size_t *len)
{
    Samsa__DeleteTopicMarker mk = SAMSA__DELETE_TOPIC_MARKER__INIT;

    mk.has_requested_ms = 1;
    mk.requested_ms = requested_ms;
    return ctl_codec_pack(&mk.base, out, len);
}
