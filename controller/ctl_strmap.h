/*
 * ctl_strmap: a string-keyed hash map (open addressing, linear probing, backward-shift
 * deletion) holding borrowed void * values. The map owns copies of its keys and nothing
 * else: whoever stores a value frees it. Used by the cluster model for topics, topic configs
 * and deletion markers; tens of thousands of entries at most.
 */
#ifndef CTL_STRMAP_H
#define CTL_STRMAP_H

#include <stddef.h>

#include "sm_err.h"

typedef struct ctl_strmap ctl_strmap_t;

/* Creates an empty map. Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_strmap_new(ctl_strmap_t **out);

/* Frees the map and its key copies (not the values). Accepts NULL. */
void ctl_strmap_free(ctl_strmap_t *map);

/* Removes every entry (the values are not freed: free them first). */
void ctl_strmap_clear(ctl_strmap_t *map);

/* The value stored under key, or NULL. */
void *ctl_strmap_get(const ctl_strmap_t *map, const char *key);

/* Stores value (not NULL) under key, replacing any previous value; *old (may be NULL)
 * receives the replaced value or NULL. Returns SM_OK or SM_ERR_NOMEM (map unchanged). */
sm_err_t ctl_strmap_put(ctl_strmap_t *map, const char *key, void *value, void **old);

/* Removes key; returns its value, or NULL when it was absent. */
void *ctl_strmap_remove(ctl_strmap_t *map, const char *key);

/* Number of entries. */
size_t ctl_strmap_count(const ctl_strmap_t *map);

/*
 * Iteration: start with *pos = 0; each call returns the next value (and its key in *key if
 * key is not NULL) or NULL at the end. The order is unspecified. The map must not change
 * during an iteration (collect keys first to remove entries).
 */
void *ctl_strmap_next(const ctl_strmap_t *map, size_t *pos, const char **key);

#endif
