/*
 * ctl_paths: the znode paths the controller reads and writes (DESIGN.md section 2, relative
 * to the chroot), built and parsed in one place. Topic names are at most 249 characters, so
 * every path fits in CTL_PATH_MAX bytes.
 */
#ifndef CTL_PATHS_H
#define CTL_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_PATH_MAX 512

#define CTL_PATH_CLUSTER_ID       "/cluster/id"
#define CTL_PATH_CONTROLLER       "/controller"
#define CTL_PATH_CONTROLLER_EPOCH "/controller_epoch"
#define CTL_PATH_BROKERS          "/brokers/ids"
#define CTL_PATH_TOPICS           "/brokers/topics"
#define CTL_PATH_CONFIGS          "/config/topics"
#define CTL_PATH_DELETIONS        "/admin/delete_topics"

/* Each writes the path into buf[len] and returns buf. */
char *ctl_path_broker(char *buf, size_t len, int32_t id);
char *ctl_path_topic(char *buf, size_t len, const char *topic);
char *ctl_path_partitions(char *buf, size_t len, const char *topic);
char *ctl_path_partition(char *buf, size_t len, const char *topic, int32_t p);
char *ctl_path_state(char *buf, size_t len, const char *topic, int32_t p);
char *ctl_path_config(char *buf, size_t len, const char *topic);
char *ctl_path_deletion(char *buf, size_t len, const char *topic);

/* If path is PREFIX/<name> with exactly one component after PREFIX, copies name into
 * name_buf[len] and returns true. */
bool ctl_path_child_of(const char *path, const char *prefix, char *name_buf, size_t len);

/* Parses "/brokers/topics/<t>/partitions/<p>/state". */
bool ctl_path_parse_state(const char *path, char *topic_buf, size_t len, int32_t *p);

/* Parses a decimal id (a broker id or partition index): digits only, below 2^31. */
bool ctl_path_parse_int(const char *s, int32_t *out);

#endif
