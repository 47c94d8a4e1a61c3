/*
 * ctl_assign: Kafka's replica assignment for new topics (AdminUtils.assignReplicasToBrokers,
 * ZooKeeper era). The first replica of each partition goes round robin over the brokers from
 * a start index; the followers follow at a shift that grows by one every time the round robin
 * wraps, so two partitions led by the same broker rarely share followers. When every broker
 * has a rack the broker list is first rearranged to alternate racks and followers are steered
 * to racks that hold no replica yet (rack-aware); if only some brokers have racks the racks
 * are ignored (Kafka's "safe" mode, used by topic auto-creation). Pure: no state, no I/O.
 */
#ifndef CTL_ASSIGN_H
#define CTL_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

/* The most replicas a partition may have (also bounds every replica list read from
 * ZooKeeper), so that per-partition scratch arrays can live on the stack. */
#define CTL_MAX_REPLICAS 256

/* A live broker as the assignment sees it. rack: NULL or "" when the broker has none. */
typedef struct ctl_assign_broker {
    int32_t id;
    const char *rack;
} ctl_assign_broker_t;

/*
 * Assigns n_partitions partitions (numbered from start_partition, which only shifts the
 * round robin as Kafka's startPartitionId does) with rf replicas each over brokers[0..n)
 * (any order, ids unique). fixed_start < 0 draws the start index and the first follower
 * shift at random; fixed_start >= 0 uses it for both (Kafka's fixedStartIndex), for
 * deterministic tests and for adding partitions. out receives n_partitions * rf broker ids,
 * row by row: out[p * rf + r] is replica r of partition start_partition + p.
 * Returns SM_OK or SM_ERR_INVALID with one line in eb ("number of partitions must be larger
 * than 0", "replication factor 4 larger than available brokers 3", ...), or SM_ERR_NOMEM.
 */
sm_err_t ctl_assign_replicas(const ctl_assign_broker_t *brokers, size_t n_brokers,
                             int32_t n_partitions, int32_t rf, int32_t fixed_start,
                             int32_t start_partition, int32_t *out, sm_errbuf_t *eb);

/*
 * Kafka's rack-alternated broker order: racks sorted by name, brokers of each rack sorted by
 * id, then one broker from each rack in turn ("r1: 0,1,2  r2: 3,4,5" -> 0,3,1,4,2,5). Every
 * broker must have a rack. out receives n ids. Returns SM_OK or SM_ERR_NOMEM.
 */
sm_err_t ctl_assign_rack_alternated(const ctl_assign_broker_t *brokers, size_t n, int32_t *out);

#endif
