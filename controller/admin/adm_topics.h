/*
 * adm_topics: the `topics` commands of samsa-admin. Mutations (create, delete, alter) go to
 * the active controller over the control RPC (adm_rpc); reads (list, describe) come straight
 * from ZooKeeper, so they keep working while controllers change:
 *
 *   /brokers/topics/<t>                          TopicAssignment (topic id, replicas)
 *   /brokers/topics/<t>/partitions/<p>/state     PartitionState (leader, epoch, ISR)
 *   /config/topics/<t>                           TopicConfig
 *   /admin/delete_topics/<t>                     marked for deletion
 *
 * The loaded form (adm_topic_t) and its renderers are public so unit tests can check the
 * JSON and the table without a ZooKeeper.
 */
#ifndef ADM_TOPICS_H
#define ADM_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/admin/adm_args.h"
#include "controller/admin/adm_json.h"
#include "controller/admin/adm_table.h"
#include "samsa.pb-c.h"
#include "sm_err.h"
#include "sm_zk.h"

/* One topic as ZooKeeper holds it. */
typedef struct adm_topic {
    char *name;                     /* owned */
    Samsa__TopicAssignment *assign; /* owned; partitions sorted by index */
    /* states[i] belongs to assign->partitions[i]; NULL while the controller has not written
     * the state node yet. The array and each state are owned. */
    Samsa__PartitionState **states;
    Samsa__TopicConfig *config; /* owned; NULL when the topic has no overrides node */
    bool marked_for_deletion;
} adm_topic_t;

/* Which partitions a describe shows. */
typedef struct adm_topics_filter {
    bool under_replicated; /* only partitions whose ISR is smaller than their replica set */
    bool unavailable;      /* only partitions without a live leader */
    const int32_t *live;   /* live broker ids for `unavailable` (NULL: only leader -1 counts) */
    size_t n_live;
} adm_topics_filter_t;

/* Loads topic name. Errors: SM_ERR_NOT_FOUND (no such topic; eb says "unknown topic 'T'"),
 * SM_ERR_CORRUPT (a payload does not decode), ZooKeeper errors. t is always initialised:
 * call adm_topics_deinit. */
sm_err_t adm_topics_load(sm_zk_sync_t *zs, const char *name, adm_topic_t *t, sm_errbuf_t *eb);

void adm_topics_deinit(adm_topic_t *t);

/* Sorts t->assign->partitions (and states along) by partition index. */
void adm_topics_sort(adm_topic_t *t);

/* True when partition i passes f. */
bool adm_topics_partition_shown(const adm_topic_t *t, size_t i, const adm_topics_filter_t *f);

/* True when f restricts anything (under_replicated or unavailable) and no partition of t passes
 * it: a describe of every topic leaves such a topic out, so a healthy cluster lists nothing. */
bool adm_topics_filtered_out(const adm_topic_t *t, const adm_topics_filter_t *f);

/* Writes DESIGN.md's describe object:
 *   {"topic": "T", "topic_id": "...", "partitions": [{"partition": 0, "leader": 1,
 *    "leader_epoch": 0, "replicas": [1, 2, 3], "isr": [1, 2, 3]}]}
 * leader -1 and leader_epoch -1 (isr []) for a partition whose state node is missing;
 * topic_id null when the assignment has none. f may be NULL (every partition). */
void adm_topics_json(adm_json_t *j, const adm_topic_t *t, const adm_topics_filter_t *f);

/* The summary line of a topic for people:
 * "Topic: T  TopicId: X  PartitionCount: 3  ReplicationFactor: 3  Configs: k=v,k=v"
 * (plus "  MarkedForDeletion: true" when it is). Returns a malloc'd string or NULL. */
char *adm_topics_summary(const adm_topic_t *t);

/* Adds the partition rows of t to a table with the columns of adm_topics_table_new. */
void adm_topics_table_rows(adm_table_t *tab, const adm_topic_t *t, const adm_topics_filter_t *f);

/* A table with columns PARTITION LEADER LEADER_EPOCH REPLICAS ISR. */
sm_err_t adm_topics_table_new(adm_table_t **out);

/* The command functions; each returns the process exit code (0, or 1 after one line on
 * stderr). */
int adm_topics_create(const adm_args_t *a);
int adm_topics_delete(const adm_args_t *a);
int adm_topics_alter(const adm_args_t *a);
int adm_topics_list(const adm_args_t *a);
int adm_topics_describe(const adm_args_t *a);

#endif
