/*
 * br_control: fencing and applying the controller's requests. See br_control.h for the
 * contract and the design notes.
 */
#include "broker/br_control.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_epoch.h"
#include "broker/br_log.h"
#include "sm_log.h"

#define BR_CONTROL_EPOCH_DURING_DELETE (-2)
#define BR_CONTROL_NO_EPOCH            (-1)

struct br_control {
    int32_t broker_id;
    br_logmgr_t *logmgr;
    br_metacache_t *metacache;
    const br_fileops_t *ops;
    br_partition_set_t *parts;
    int64_t broker_epoch;       /* registration czxid; -1 while not registered */
    int64_t max_epoch;          /* the highest broker epoch this process has had */
    int32_t controller_epoch;   /* highest accepted; -1 before any */
    br_control_part_fn on_part; /* the replica layer, told of every partition change */
    void *on_part_arg;
};

/* A partition to delete after a full UpdateMetadata (names copied: the log manager's pointers
 * do not survive a delete). */
typedef struct br_control_stale {
    char *topic;
    int32_t partition;
    const char *why;
} br_control_stale_t;

/* ---- life ---------------------------------------------------------------------------------- */

/* Tells the replica layer about p (see br_control_set_listener). */
static void br_control_notify(br_control_t *c, br_partition_t *p, br_control_part_event_t ev)
{
    if (c->on_part != NULL && p != NULL)
        c->on_part(c->on_part_arg, p, ev);
}

/* Removes (topic, partition) after telling the replica layer. */
static void br_control_remove(br_control_t *c, const char *topic, int32_t partition)
{
    br_control_notify(c, br_partition_get(c->parts, topic, partition), BR_CONTROL_PART_REMOVING);
    br_partition_remove(c->parts, topic, partition);
}

void br_control_set_listener(br_control_t *c, br_control_part_fn fn, void *arg)
{
    c->on_part = fn;
    c->on_part_arg = arg;
}

/* Loads the topic id recorded next to every log the manager opened. */
static sm_err_t br_control_load(br_control_t *c, sm_errbuf_t *eb)
{
    size_t n = br_logmgr_count(c->logmgr);

    for (size_t i = 0; i < n; i++) {
        const char *topic;
        int32_t partition;
        br_partition_t *p;
        br_log_t *log;
        sm_uuid_t id;
        sm_errbuf_t reb;
        sm_err_t err;

        br_logmgr_at(c->logmgr, i, &topic, &partition);
        err = br_partition_add(c->parts, topic, partition, &p);
        if (err != SM_OK)
            return sm_errbuf_set(eb, err, "cannot track partition %s-%d: %s", topic, (int)partition,
                                 sm_err_str(err));
        log = br_logmgr_get(c->logmgr, topic, partition);
        if (log == NULL)
            continue; /* failed: its directory is unknown to us */
        err = br_partition_metadata_read(c->ops, br_log_dir(log), &id, &reb);
        if (err == SM_OK)
            br_partition_set_topic_id(p, &id);
        else if (err != SM_ERR_NOT_FOUND)
            sm_log_warn("%s (topic id of %s-%d unknown)", reb.msg, topic, (int)partition);
    }
    return SM_OK;
}

sm_err_t br_control_new(const br_control_config_t *cfg, br_control_t **out, sm_errbuf_t *eb)
{
    br_control_t *c = NULL;
    sm_err_t err;

    *out = NULL;
    if (cfg->logmgr == NULL || cfg->metacache == NULL)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "br_control: no log manager or metadata cache");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "br_control: out of memory");
    c->broker_id = cfg->broker_id;
    c->logmgr = cfg->logmgr;
    c->metacache = cfg->metacache;
    c->ops = cfg->ops != NULL ? cfg->ops : br_fileops_posix();
    c->broker_epoch = -1;
    c->max_epoch = -1;
    c->controller_epoch = -1;
    err = br_partition_set_new(&c->parts);
    if (err != SM_OK) {
        sm_errbuf_set(eb, err, "br_control: out of memory");
        goto out;
    }
    err = br_control_load(c, eb);
out:
    if (err != SM_OK) {
        br_control_free(c);
        return err;
    }
    *out = c;
    return SM_OK;
}

void br_control_free(br_control_t *c)
{
    if (c == NULL)
        return;
    br_partition_set_free(c->parts);
    free(c);
}

void br_control_set_broker_epoch(br_control_t *c, int64_t epoch)
{
    c->broker_epoch = epoch;
    if (epoch > c->max_epoch)
        c->max_epoch = epoch;
}

int64_t br_control_broker_epoch(const br_control_t *c)
{
    return c->broker_epoch;
}

int32_t br_control_controller_epoch(const br_control_t *c)
{
    return c->controller_epoch;
}

br_partition_set_t *br_control_partitions(const br_control_t *c)
{
    return c->parts;
}

/* ---- replies ------------------------------------------------------------------------------- */

void br_control_reply_deinit(br_control_reply_t *r)
{
    for (size_t i = 0; i < r->n_results; i++)
        free(r->results[i].error_message);
    free(r->results);
    free(r->result_ptrs);
    r->results = NULL;
    r->result_ptrs = NULL;
    r->n_results = 0;
}

/* Room for n per-partition results. Returns false when out of memory. */
static bool br_control_results(br_control_reply_t *r, size_t n)
{
    if (n == 0)
        return true;
    r->results = calloc(n, sizeof(*r->results));
    r->result_ptrs = calloc(n, sizeof(*r->result_ptrs));
    if (r->results == NULL || r->result_ptrs == NULL)
        return false;
    return true;
}

/* Appends one result; topic is borrowed from the request. The message is formatted only for
 * errors. */
static void br_control_result(br_control_reply_t *r, const char *topic, int32_t partition,
                              int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void br_control_result(br_control_reply_t *r, const char *topic, int32_t partition,
                              int32_t code, const char *fmt, ...)
{
    Samsa__PartitionResult *pr = &r->results[r->n_results];
    char buf[SM_ERRBUF_LEN];
    va_list ap;

    samsa__partition_result__init(pr);
    pr->topic = (char *)(uintptr_t)topic;
    pr->has_partition = true;
    pr->partition = partition;
    pr->has_error_code = true;
    pr->error_code = code;
    if (code != BR_CONTROL_E_NONE && fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        pr->error_message = strdup(buf); /* NULL when out of memory: the code still goes */
    }
    r->result_ptrs[r->n_results++] = pr;
}

/* Points reply->env at the typed response `case_` whose error fields are (code, message). */
static void br_control_reply_typed(br_control_reply_t *r, Samsa__Envelope__PayloadCase case_,
                                   int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void br_control_reply_typed(br_control_reply_t *r, Samsa__Envelope__PayloadCase case_,
                                   int32_t code, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;

    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
        msg = r->message;
    }
    r->env.payload_case = case_;
    switch (case_) {
    case SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE:
        samsa__leader_and_isr_response__init(&r->u.leader_and_isr);
        r->u.leader_and_isr.has_error_code = true;
        r->u.leader_and_isr.error_code = code;
        r->u.leader_and_isr.error_message = msg;
        r->u.leader_and_isr.n_partition_errors = r->n_results;
        r->u.leader_and_isr.partition_errors = r->result_ptrs;
        r->env.leader_and_isr_response = &r->u.leader_and_isr;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE:
        samsa__update_metadata_response__init(&r->u.update_metadata);
        r->u.update_metadata.has_error_code = true;
        r->u.update_metadata.error_code = code;
        r->u.update_metadata.error_message = msg;
        r->env.update_metadata_response = &r->u.update_metadata;
        break;
    case SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE:
        samsa__stop_replica_response__init(&r->u.stop_replica);
        r->u.stop_replica.has_error_code = true;
        r->u.stop_replica.error_code = code;
        r->u.stop_replica.error_message = msg;
        r->u.stop_replica.n_partition_errors = r->n_results;
        r->u.stop_replica.partition_errors = r->result_ptrs;
        r->env.stop_replica_response = &r->u.stop_replica;
        break;
    default:
        samsa__error_response__init(&r->u.error);
        r->u.error.has_error_code = true;
        r->u.error.error_code = code;
        r->u.error.error_message = msg;
        r->env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE;
        r->env.error_response = &r->u.error;
        break;
    }
}

/* ---- LeaderAndIsr -------------------------------------------------------------------------- */

static bool br_control_has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static int32_t br_control_storage_code(sm_err_t err)
{
    switch (err) {
    case SM_ERR_NOMEM:
        return BR_CONTROL_E_UNKNOWN_SERVER;
    case SM_ERR_INVALID:
        return BR_CONTROL_E_INVALID_TOPIC;
    case SM_ERR_FENCED:
        return BR_CONTROL_E_FENCED_LEADER_EPOCH;
    default:
        return BR_CONTROL_E_KAFKA_STORAGE_ERROR;
    }
}

/* Becoming (or staying) leader: the new epoch starts at the log end (Kafka's makeLeader). */
static sm_err_t br_control_assign_epoch(br_control_t *c, const char *topic, int32_t partition,
                                        int32_t epoch, br_log_t *log, sm_errbuf_t *eb)
{
    br_epoch_t *cache = br_logmgr_epochs(c->logmgr, topic, partition);

    if (cache == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "%s-%d: no leader-epoch cache (log failed)", topic,
                             (int)partition);
    if (epoch < 0)
        return SM_OK;
    br_log_drain(log); /* the epoch starts after every append, written or not yet */
    return br_epoch_assign(cache, epoch, br_log_end_offset(log), eb);
}

/* Applies one partition of a LeaderAndIsr; appends its result to r. */
static void br_control_lai_partition(br_control_t *c, const char *topic, const sm_uuid_t *id,
                                     const Samsa__LeaderAndIsrPartitionState *ps, int64_t now_ms,
                                     br_control_reply_t *r, size_t *n_leader)
{
    int32_t part = ps->partition;
    br_partition_state_t st = {
        .leader = ps->has_leader ? ps->leader : -1,
        .leader_epoch = ps->leader_epoch,
        .partition_epoch = ps->partition_epoch,
        .controller_epoch = ps->controller_epoch,
        .isr = ps->isr,
        .n_isr = ps->n_isr,
        .replicas = ps->replicas,
        .n_replicas = ps->n_replicas,
    };
    br_partition_t *p = br_partition_get(c->parts, topic, part);
    char have[SM_UUID_STR_SIZE], want[SM_UUID_STR_SIZE];
    br_log_t *log = NULL;
    sm_errbuf_t eb;
    sm_err_t err;

    if (!br_control_has(ps->replicas, ps->n_replicas, c->broker_id)) {
        br_control_result(r, topic, part, BR_CONTROL_E_UNKNOWN_TOPIC_OR_PARTITION,
                          "broker %d is not a replica of %s-%d", (int)c->broker_id, topic,
                          (int)part);
        return;
    }
    if (p != NULL && ps->leader_epoch < br_partition_leader_epoch(p)) {
        br_control_result(r, topic, part, BR_CONTROL_E_FENCED_LEADER_EPOCH,
                          "leader epoch %d is older than the current %d", (int)ps->leader_epoch,
                          (int)br_partition_leader_epoch(p));
        return;
    }
    if (p != NULL && ps->leader_epoch == br_partition_leader_epoch(p) &&
        ps->partition_epoch < br_partition_partition_epoch(p)) {
        /* Same epoch, older partition state: an ISR change we already have (an AlterIsr
         * answer) overtook it. Applying it would roll the ISR back. */
        sm_log_info("LeaderAndIsr %s-%d: partition epoch %d is older than ours (%d); kept ours",
                    topic, (int)part, (int)ps->partition_epoch,
                    (int)br_partition_partition_epoch(p));
        br_control_result(r, topic, part, BR_CONTROL_E_NONE, NULL);
        return;
    }
    if (p != NULL && !sm_uuid_is_zero(id) && !sm_uuid_is_zero(br_partition_topic_id(p)) &&
        !sm_uuid_eq(id, br_partition_topic_id(p))) {
        sm_uuid_format(br_partition_topic_id(p), have);
        sm_uuid_format(id, want);
        br_control_result(r, topic, part, BR_CONTROL_E_INCONSISTENT_TOPIC_ID,
                          "the local log of %s-%d has topic id %s, not %s", topic, (int)part, have,
                          want);
        return;
    }
    err = br_logmgr_create(c->logmgr, topic, part, now_ms, &log, &eb);
    if (err == SM_OK && p == NULL && (err = br_partition_add(c->parts, topic, part, &p)) != SM_OK)
        snprintf(eb.msg, sizeof(eb.msg), "%s-%d: %s", topic, (int)part, sm_err_str(err));
    if (err == SM_OK && !sm_uuid_is_zero(id) && !sm_uuid_eq(id, br_partition_topic_id(p))) {
        err = br_partition_metadata_write(c->ops, br_log_dir(log), id, &eb);
        if (err == SM_OK)
            br_partition_set_topic_id(p, id);
    }
    if (err == SM_OK && st.leader == c->broker_id)
        err = br_control_assign_epoch(c, topic, part, st.leader_epoch, log, &eb);
    if (err == SM_OK && (err = br_partition_apply(p, c->broker_id, &st)) != SM_OK)
        snprintf(eb.msg, sizeof(eb.msg), "%s-%d: %s", topic, (int)part, sm_err_str(err));
    if (err != SM_OK) {
        sm_log_warn("LeaderAndIsr %s-%d: %s", topic, (int)part, eb.msg);
        br_control_result(r, topic, part, br_control_storage_code(err), "%s", eb.msg);
        return;
    }
    br_control_notify(c, p, BR_CONTROL_PART_CHANGED);
    if (st.leader == c->broker_id)
        (*n_leader)++;
    sm_log_debug("%s-%d: %s, leader %d, leader epoch %d", topic, (int)part,
                 br_partition_role_str(br_partition_role(p)), (int)st.leader, (int)st.leader_epoch);
    br_control_result(r, topic, part, BR_CONTROL_E_NONE, NULL);
}

static void br_control_leader_and_isr(br_control_t *c, const Samsa__LeaderAndIsrRequest *req,
                                      int64_t now_ms, br_control_reply_t *r)
{
    size_t n = 0, n_leader = 0, n_err = 0;

    for (size_t i = 0; i < req->n_topic_states; i++)
        n += req->topic_states[i]->n_partitions;
    if (!br_control_results(r, n)) {
        br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE,
                               BR_CONTROL_E_UNKNOWN_SERVER, "out of memory");
        return;
    }
    for (size_t i = 0; i < req->n_topic_states; i++) {
        const Samsa__LeaderAndIsrTopicState *ts = req->topic_states[i];
        sm_uuid_t id = SM_UUID_ZERO;
        bool bad_id = ts->has_topic_id && ts->topic_id.len != sizeof(id.b);

        if (ts->has_topic_id && !bad_id)
            memcpy(id.b, ts->topic_id.data, sizeof(id.b));
        for (size_t j = 0; j < ts->n_partitions; j++) {
            const Samsa__LeaderAndIsrPartitionState *ps = ts->partitions[j];

            if (ts->topic == NULL || bad_id || ps->partition < 0)
                br_control_result(r, ts->topic, ps->partition, BR_CONTROL_E_INVALID_REQUEST,
                                  "malformed topic state (name, topic id or partition)");
            else
                br_control_lai_partition(c, ts->topic, &id, ps, now_ms, r, &n_leader);
        }
    }
    for (size_t i = 0; i < r->n_results; i++)
        n_err += r->results[i].error_code != BR_CONTROL_E_NONE;
    sm_log_info("LeaderAndIsr (controller epoch %d): %zu partition(s), %zu leader, %zu "
                "follower, %zu refused",
                (int)c->controller_epoch, n, n_leader, n - n_leader - n_err, n_err);
    br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE, BR_CONTROL_E_NONE,
                           NULL);
}

/* ---- UpdateMetadata ------------------------------------------------------------------------ */

/* Why the local log of (topic, partition) must go after a full update, or NULL to keep it. */
static const char *br_control_stale_reason(const br_control_t *c, const char *topic,
                                           int32_t partition)
{
    const br_metacache_topic_t *t = br_metacache_topic(c->metacache, topic);
    const br_partition_t *p;

    if (t == NULL)
        return "its topic is unknown to the controller";
    p = br_partition_get(c->parts, topic, partition);
    if (p != NULL && !sm_uuid_is_zero(&t->id) && !sm_uuid_is_zero(br_partition_topic_id(p)) &&
        !sm_uuid_eq(&t->id, br_partition_topic_id(p)))
        return "its topic id differs from the cluster's (the topic was deleted)";
    return NULL;
}

/* Deletes the local logs the controller no longer knows (invariant 5). */
static void br_control_delete_stale(br_control_t *c)
{
    size_t n = br_logmgr_count(c->logmgr), n_stale = 0;
    br_control_stale_t *stale = calloc(n > 0 ? n : 1, sizeof(*stale));

    if (stale == NULL) {
        sm_log_error("out of memory looking for stale logs");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *topic, *why;
        int32_t partition;

        br_logmgr_at(c->logmgr, i, &topic, &partition);
        why = br_control_stale_reason(c, topic, partition);
        if (why == NULL)
            continue;
        stale[n_stale].topic = strdup(topic);
        if (stale[n_stale].topic == NULL)
            continue;
        stale[n_stale].partition = partition;
        stale[n_stale++].why = why;
    }
    for (size_t i = 0; i < n_stale; i++) {
        sm_errbuf_t eb;
        sm_err_t err;

        sm_log_info("deleting the log of %s-%d: %s", stale[i].topic, (int)stale[i].partition,
                    stale[i].why);
        err = br_logmgr_delete(c->logmgr, stale[i].topic, stale[i].partition, &eb);
        if (err != SM_OK && err != SM_ERR_NOT_FOUND)
            sm_log_error("%s", eb.msg);
        br_control_remove(c, stale[i].topic, stale[i].partition);
        free(stale[i].topic);
    }
    free(stale);
}

static void br_control_update_metadata(br_control_t *c, const Samsa__UpdateMetadataRequest *req,
                                       br_control_reply_t *r)
{
    bool full = req->has_full && req->full;
    sm_errbuf_t eb;
    sm_err_t err;

    err = br_metacache_update(c->metacache, req, &eb);
    if (err != SM_OK) {
        sm_log_warn("UpdateMetadata refused: %s", eb.msg);
        br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE,
                               err == SM_ERR_INVALID ? BR_CONTROL_E_INVALID_REQUEST
                                                     : BR_CONTROL_E_UNKNOWN_SERVER,
                               "%s", eb.msg);
        return;
    }
    sm_log_info("UpdateMetadata (controller epoch %d%s): %zu live broker(s), %zu topic(s), %zu "
                "partition(s)",
                (int)c->controller_epoch, full ? ", full" : "",
                br_metacache_broker_count(c->metacache), br_metacache_topic_count(c->metacache),
                br_metacache_partition_count(c->metacache));
    if (full)
        br_control_delete_stale(c);
    br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE, BR_CONTROL_E_NONE,
                           NULL);
}

/* ---- StopReplica --------------------------------------------------------------------------- */

static void br_control_stop_partition(br_control_t *c, const char *topic,
                                      const Samsa__StopReplicaPartitionState *ps,
                                      br_control_reply_t *r)
{
    int32_t part = ps->partition;
    int32_t epoch = ps->has_leader_epoch ? ps->leader_epoch : BR_CONTROL_NO_EPOCH;
    br_partition_t *p = br_partition_get(c->parts, topic, part);
    bool del = ps->has_delete_partition && ps->delete_partition;
    sm_errbuf_t eb;
    sm_err_t err;

    if (p != NULL && epoch != BR_CONTROL_NO_EPOCH && epoch != BR_CONTROL_EPOCH_DURING_DELETE &&
        epoch < br_partition_leader_epoch(p)) {
        br_control_result(r, topic, part, BR_CONTROL_E_FENCED_LEADER_EPOCH,
                          "leader epoch %d is older than the current %d", (int)epoch,
                          (int)br_partition_leader_epoch(p));
        return;
    }
    if (!del) {
        if (p != NULL) {
            br_partition_stop(p);
            br_control_notify(c, p, BR_CONTROL_PART_CHANGED);
        }
        sm_log_info("stopped %s-%d", topic, (int)part);
        br_control_result(r, topic, part, BR_CONTROL_E_NONE, NULL);
        return;
    }
    br_control_remove(c, topic, part);
    err = br_logmgr_delete(c->logmgr, topic, part, &eb);
    if (err != SM_OK && err != SM_ERR_NOT_FOUND) {
        sm_log_error("StopReplica %s-%d: %s", topic, (int)part, eb.msg);
        br_control_result(r, topic, part, BR_CONTROL_E_KAFKA_STORAGE_ERROR, "%s", eb.msg);
        return;
    }
    sm_log_info("stopped %s-%d and deleted its log%s", topic, (int)part,
                err == SM_ERR_NOT_FOUND ? " (there was none)" : "");
    br_control_result(r, topic, part, BR_CONTROL_E_NONE, NULL);
}

static void br_control_stop_replica(br_control_t *c, const Samsa__StopReplicaRequest *req,
                                    br_control_reply_t *r)
{
    size_t n = 0;

    for (size_t i = 0; i < req->n_topic_states; i++)
        n += req->topic_states[i]->n_partitions;
    if (!br_control_results(r, n)) {
        br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE,
                               BR_CONTROL_E_UNKNOWN_SERVER, "out of memory");
        return;
    }
    for (size_t i = 0; i < req->n_topic_states; i++) {
        const Samsa__StopReplicaTopicState *ts = req->topic_states[i];

        for (size_t j = 0; j < ts->n_partitions; j++) {
            if (ts->topic == NULL || ts->partitions[j]->partition < 0)
                br_control_result(r, ts->topic, ts->partitions[j]->partition,
                                  BR_CONTROL_E_INVALID_REQUEST, "malformed topic state");
            else
                br_control_stop_partition(c, ts->topic, ts->partitions[j], r);
        }
    }
    br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE, BR_CONTROL_E_NONE,
                           NULL);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static void br_control_ping(br_control_t *c, const Samsa__PingRequest *req, br_control_reply_t *r)
{
    Samsa__PingResponse *pr = &r->u.ping;

    samsa__ping_response__init(pr);
    pr->has_error_code = true;
    pr->error_code = BR_CONTROL_E_NONE;
    pr->has_seq = req->has_seq;
    pr->seq = req->seq;
    pr->has_data = req->has_data;
    pr->data = req->data;
    pr->has_server_id = true;
    pr->server_id = c->broker_id;
    r->env.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE;
    r->env.ping_response = pr;
}

/* Invariants 1 and 2: returns false (and fills the reply) when the request is fenced. */
static bool br_control_admit(br_control_t *c, const Samsa__Envelope *req,
                             Samsa__Envelope__PayloadCase resp_case, br_control_reply_t *r)
{
    int64_t be = req->has_broker_epoch ? req->broker_epoch : -1;
    int32_t ce = req->has_controller_epoch ? req->controller_epoch : -1;
    const char *what = sm_rpc_payload_name(req);

    if (c->broker_epoch < 0 && be > c->max_epoch) {
        /* Our registration is being written and the controller saw it before ZooKeeper's
         * answer reached us: an epoch newer than any this process had can only be that
         * registration (invariant 2). Refusing would leave the broker without metadata, as
         * the controller does not resend. */
        sm_log_info("broker epoch 0x%" PRIx64
                    " learnt from controller %d before ZooKeeper's answer",
                    (uint64_t)be, (int)req->sender_id);
        br_control_set_broker_epoch(c, be);
    }
    if (c->broker_epoch < 0 || be != c->broker_epoch) {
        sm_log_warn("refused %s from controller %d: broker epoch 0x%" PRIx64 " is not ours "
                    "(0x%" PRIx64 ")",
                    what, (int)req->sender_id, (uint64_t)be, (uint64_t)c->broker_epoch);
        br_control_reply_typed(r, resp_case, BR_CONTROL_E_STALE_BROKER_EPOCH,
                               "broker epoch %" PRId64
                               " is not the broker's current epoch %" PRId64,
                               be, c->broker_epoch);
        return false;
    }
    if (ce < c->controller_epoch) {
        sm_log_warn("refused %s from controller %d: controller epoch %d is older than %d", what,
                    (int)req->sender_id, (int)ce, (int)c->controller_epoch);
        br_control_reply_typed(r, resp_case, BR_CONTROL_E_STALE_CONTROLLER_EPOCH,
                               "controller epoch %d is older than the latest seen %d", (int)ce,
                               (int)c->controller_epoch);
        return false;
    }
    if (ce > c->controller_epoch && c->controller_epoch >= 0)
        sm_log_info("controller epoch %d (was %d), controller %d", (int)ce,
                    (int)c->controller_epoch, (int)req->sender_id);
    c->controller_epoch = ce;
    return true;
}

void br_control_handle(br_control_t *c, const Samsa__Envelope *req, int64_t now_ms,
                       br_control_reply_t *r)
{
    memset(r, 0, sizeof(*r));
    samsa__envelope__init(&r->env);
    r->env.has_type = req->has_type;
    r->env.type = req->type;
    r->env.has_sender_id = true;
    r->env.sender_id = c->broker_id;
    r->env.has_broker_epoch = true;
    r->env.broker_epoch = c->broker_epoch;
    switch (req->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST:
        br_control_ping(c, req->ping_request, r);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST:
        if (br_control_admit(c, req, SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE, r))
            br_control_leader_and_isr(c, req->leader_and_isr_request, now_ms, r);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_REQUEST:
        if (br_control_admit(c, req, SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE, r))
            br_control_update_metadata(c, req->update_metadata_request, r);
        break;
    case SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_REQUEST:
        if (br_control_admit(c, req, SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE, r))
            br_control_stop_replica(c, req->stop_replica_request, r);
        break;
    default:
        br_control_reply_typed(r, SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE,
                               BR_CONTROL_E_UNSUPPORTED_VERSION,
                               "a broker does not serve %s requests", sm_rpc_payload_name(req));
        break;
    }
    r->env.controller_epoch = c->controller_epoch;
    r->env.has_controller_epoch = true;
}

static int64_t br_control_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void br_control_rpc_handler(void *arg, sm_rpc_call_t *call, const Samsa__Envelope *req)
{
    br_control_t *c = arg;
    br_control_reply_t r;
    sm_err_t err;

    br_control_handle(c, req, br_control_wall_ms(), &r);
    err = sm_rpc_call_reply(call, &r.env);
    if (err != SM_OK && err != SM_ERR_CLOSED)
        sm_log_warn("cannot answer %s: %s", sm_rpc_payload_name(req), sm_err_str(err));
    br_control_reply_deinit(&r);
}
