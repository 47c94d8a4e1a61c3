/*
 * br_api_data: the context and per-partition checks shared by the Produce, Fetch and
 * ListOffsets handlers. See br_api_data.h.
 */
#include "broker/br_api_data.h"

#include <stdlib.h>
#include <string.h>

#include "broker/br_control.h"
#include "broker/br_kcodec_epoch.h"
#include "broker/br_kcodec_fetch.h"
#include "broker/br_kcodec_listoffsets.h"
#include "broker/br_kcodec_produce.h"
#include "broker/br_partition.h"
#include "broker/br_replica.h"
#include "sm_config.h"

#define BR_API_DATA_MESSAGE_MAX_DEFAULT 1048588 /* Kafka's message.max.bytes */

sm_err_t br_api_data_new(br_kafka_t *k, br_api_data_t **out)
{
    br_api_data_t *d = calloc(1, sizeof(*d));

    *out = NULL;
    if (d == NULL)
        return SM_ERR_NOMEM;
    d->k = k;
    d->deps = br_kafka_deps(k);
    d->message_max_bytes = BR_API_DATA_MESSAGE_MAX_DEFAULT;
    if (d->deps->cfg != NULL && sm_config_has(d->deps->cfg, "message.max.bytes"))
        d->message_max_bytes = sm_config_get_int(d->deps->cfg, "message.max.bytes");
    if (br_purgatory_new(d->deps->base, &d->purgatory) != SM_OK) {
        free(d);
        return SM_ERR_NOMEM;
    }
    *out = d;
    return SM_OK;
}

void br_api_data_free(br_api_data_t *d)
{
    if (d == NULL)
        return;
    br_purgatory_free(d->purgatory);
    free(d);
}

sm_err_t br_api_data_register(br_api_data_t *d)
{
    sm_err_t err;

    err = br_kafka_register(d->k, BR_KAFKA_PRODUCE, BR_KCODEC_PRODUCE_MIN_VERSION,
                            BR_KCODEC_PRODUCE_MAX_VERSION, BR_KAFKA_NOT_FLEXIBLE,
                            br_api_produce_handle, d);
    if (err == SM_OK)
        err = br_kafka_register(d->k, BR_KAFKA_FETCH, BR_KCODEC_FETCH_MIN_VERSION,
                                BR_KCODEC_FETCH_MAX_VERSION, BR_KAFKA_NOT_FLEXIBLE,
                                br_api_fetch_handle, d);
    if (err == SM_OK)
        err = br_kafka_register(d->k, BR_KAFKA_LIST_OFFSETS, BR_KCODEC_LISTOFFSETS_MIN_VERSION,
                                BR_KCODEC_LISTOFFSETS_MAX_VERSION, BR_KAFKA_NOT_FLEXIBLE,
                                br_api_list_offsets_handle, d);
    if (err == SM_OK)
        err = br_kafka_register(d->k, BR_KCODEC_EPOCH_API_KEY, BR_KCODEC_EPOCH_MIN_VERSION,
                                BR_KCODEC_EPOCH_MAX_VERSION, BR_KCODEC_EPOCH_FLEXIBLE_FROM,
                                br_api_epoch_handle, d);
    return err;
}

bool br_api_data_topic_cstr(sm_str_t name, char *buf)
{
    if (name.ptr == NULL || name.len <= 0 || name.len > BR_API_DATA_TOPIC_MAX)
        return false;
    if (memchr(name.ptr, '\0', (size_t)name.len) != NULL)
        return false;
    memcpy(buf, name.ptr, (size_t)name.len);
    buf[name.len] = '\0';
    return true;
}

sm_kerr_t br_api_data_leader_log(const br_api_data_t *d, const char *topic, int32_t partition,
                                 int32_t current_epoch, br_log_t **log, int32_t *leader_epoch)
{
    br_partition_t *p = NULL;

    *log = NULL;
    if (leader_epoch != NULL)
        *leader_epoch = -1;
    if (d->deps->control != NULL)
        p = br_partition_get(br_control_partitions(d->deps->control), topic, partition);
    if (p == NULL || br_partition_role(p) != BR_PARTITION_LEADER) {
        bool known =
            p != NULL || (d->deps->metacache != NULL &&
                          br_metacache_partition(d->deps->metacache, topic, partition) != NULL);
        return known ? SM_KERR_NOT_LEADER_OR_FOLLOWER : SM_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int32_t epoch = br_partition_leader_epoch(p);
    if (leader_epoch != NULL)
        *leader_epoch = epoch;
    if (current_epoch >= 0 && current_epoch < epoch)
        return SM_KERR_FENCED_LEADER_EPOCH;
    if (current_epoch >= 0 && current_epoch > epoch)
        return SM_KERR_UNKNOWN_LEADER_EPOCH;
    *log = br_logmgr_get(d->deps->logmgr, topic, partition);
    return *log != NULL ? SM_KERR_NONE : SM_KERR_KAFKA_STORAGE_ERROR;
}

int64_t br_api_data_high_watermark(const br_api_data_t *d, const char *topic, int32_t partition,
                                   br_log_t *log)
{
    if (d->replica != NULL)
        return br_replica_high_watermark(d->replica, topic, partition, log);
    return br_log_end_offset(log);
}

void br_api_data_on_written(br_api_data_t *d, const char *topic, int32_t partition)
{
    if (d->replica != NULL) {
        br_replica_after_append(d->replica, topic, partition); /* an ISR of one moves the HW */
    } else {
        br_log_t *log = br_logmgr_get(d->deps->logmgr, topic, partition);

        if (log != NULL)
            (void)br_logmgr_set_high_watermark(d->deps->logmgr, topic, partition,
                                               br_log_end_offset(log));
    }
    br_purgatory_wake(d->purgatory, topic, partition);
}

void br_api_data_set_replica(br_api_data_t *d, struct br_replica *replica)
{
    d->replica = replica;
}
