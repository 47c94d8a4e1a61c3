/*
 * ctl_validate: the rules a topic must meet before the controller writes it: Kafka's topic
 * name rules, the config keys a topic may override with their typed values, and explicit
 * replica assignments. Pure functions; each failure writes one line for a person into eb,
 * which the request handlers send back as the error_message.
 */
#ifndef CTL_VALIDATE_H
#define CTL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

/* Kafka's limit on topic name length. */
#define CTL_TOPIC_NAME_MAX 249

/* Checks a topic name: 1..249 characters from [a-zA-Z0-9._-], not "." or "..". Returns
 * SM_OK or SM_ERR_INVALID ("topic name \"a b\" is illegal: it contains a character other
 * than ASCII alphanumerics, '.', '_' and '-"). name may be NULL (invalid). */
sm_err_t ctl_validate_topic_name(const char *name, sm_errbuf_t *eb);

/* Checks one topic config override: the key must be one a topic may override
 * (cleanup.policy, retention.ms, retention.bytes, segment.bytes, segment.ms,
 * min.insync.replicas, unclean.leader.election.enable, message.timestamp.type,
 * max.message.bytes, flush.messages, flush.ms, index.interval.bytes) and the value must parse
 * as its type within Kafka's bounds. Returns SM_OK or SM_ERR_INVALID ("unknown topic config
 * 'x'", "invalid value 'abc' for retention.ms: 'abc' is not an integer"). */
sm_err_t ctl_validate_topic_config(const char *key, const char *value, sm_errbuf_t *eb);

/* Parses a boolean config value the way Kafka does ("true"/"false", any case). Returns
 * SM_OK or SM_ERR_INVALID. */
sm_err_t ctl_validate_parse_bool(const char *value, bool *out);

/*
 * Checks an explicit assignment: n_partitions rows, row p holding the replicas of partition
 * partitions[p] (pointer replicas[p], count n_replicas[p]). Partitions must be exactly
 * 0..n-1 (any order), every row non-empty, of the same length, at most CTL_MAX_REPLICAS,
 * without duplicates, and naming only brokers for which known(arg, id) is true. Returns
 * SM_OK or SM_ERR_INVALID ("partition 2 names unknown broker 7").
 */
typedef bool (*ctl_validate_known_fn)(void *arg, int32_t broker_id);
sm_err_t ctl_validate_assignment(const int32_t *partitions, const int32_t *const *replicas,
                                 const size_t *n_replicas, size_t n_partitions,
                                 ctl_validate_known_fn known, void *arg, sm_errbuf_t *eb);

#endif
