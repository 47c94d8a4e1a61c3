/*
 * ctl_strmap: string-keyed open-addressing hash map (see ctl_strmap.h). Slots hold a key copy
 * and a value; the table doubles when it is 3/4 full. Deletion shifts later entries of the
 * same probe run back, so there are no tombstones.
 */
#include "controller/ctl_strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CTL_STRMAP_MIN_CAP 16

typedef struct ctl_strmap_slot {
    char *key; /* NULL: empty */
    void *value;
    uint64_t hash;
} ctl_strmap_slot_t;

struct ctl_strmap {
    ctl_strmap_slot_t *slots;
    size_t cap; /* a power of two */
    size_t count;
};

/* FNV-1a, 64 bits. */
static uint64_t ctl_strmap_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

sm_err_t ctl_strmap_new(ctl_strmap_t **out)
{
    ctl_strmap_t *map = calloc(1, sizeof(*map));

    *out = NULL;
    if (map == NULL)
        return SM_ERR_NOMEM;
    map->slots = calloc(CTL_STRMAP_MIN_CAP, sizeof(*map->slots));
    if (map->slots == NULL) {
        free(map);
        return SM_ERR_NOMEM;
    }
    map->cap = CTL_STRMAP_MIN_CAP;
    *out = map;
    return SM_OK;
}

void ctl_strmap_free(ctl_strmap_t *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < map->cap; i++)
        free(map->slots[i].key);
    free(map->slots);
    free(map);
}

void ctl_strmap_clear(ctl_strmap_t *map)
{
    for (size_t i = 0; i < map->cap; i++) {
        free(map->slots[i].key);
        map->slots[i].key = NULL;
    }
    map->count = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t ctl_strmap_find(const ctl_strmap_t *map, const char *key, uint64_t h)
{
    size_t mask = map->cap - 1, i = (size_t)h & mask;

    while (map->slots[i].key != NULL &&
           (map->slots[i].hash != h || strcmp(map->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

static sm_err_t ctl_strmap_grow(ctl_strmap_t *map)
{
    size_t cap = map->cap * 2, mask = cap - 1;
    ctl_strmap_slot_t *slots = calloc(cap, sizeof(*slots));

    if (slots == NULL)
        return SM_ERR_NOMEM;
    for (size_t i = 0; i < map->cap; i++) {
        size_t j;

        if (map->slots[i].key == NULL)
            continue;
        j = (size_t)map->slots[i].hash & mask;
        while (slots[j].key != NULL)
            j = (j + 1) & mask;
        slots[j] = map->slots[i];
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return SM_OK;
}

void *ctl_strmap_get(const ctl_strmap_t *map, const char *key)
{
    size_t i = ctl_strmap_find(map, key, ctl_strmap_hash(key));

    return map->slots[i].key != NULL ? map->slots[i].value : NULL;
}

sm_err_t ctl_strmap_put(ctl_strmap_t *map, const char *key, void *value, void **old)
{
    uint64_t h = ctl_strmap_hash(key);
    size_t i;
    char *copy;

    if (old != NULL)
        *old = NULL;
    if ((map->count + 1) * 4 > map->cap * 3 && ctl_strmap_grow(map) != SM_OK)
        return SM_ERR_NOMEM;
    i = ctl_strmap_find(map, key, h);
    if (map->slots[i].key != NULL) {
        if (old != NULL)
            *old = map->slots[i].value;
        map->slots[i].value = value;
        return SM_OK;
    }
    copy = strdup(key);
    if (copy == NULL)
        return SM_ERR_NOMEM;
    map->slots[i] = (ctl_strmap_slot_t){.key = copy, .value = value, .hash = h};
    map->count++;
    return SM_OK;
}

/* Empties slot i and moves later entries of its probe run back into the hole. */
static void ctl_strmap_delete_slot(ctl_strmap_t *map, size_t i)
{
    size_t mask = map->cap - 1, j = i;

    free(map->slots[i].key);
    map->slots[i].key = NULL;
    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (map->slots[j].key == NULL)
            break;
        home = (size_t)map->slots[j].hash & mask;
        /* Entry j may move to the hole i only if its home is not in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            map->slots[i] = map->slots[j];
            map->slots[j].key = NULL;
            i = j;
        }
    }
    map->count--;
}

void *ctl_strmap_remove(ctl_strmap_t *map, const char *key)
{
    size_t i = ctl_strmap_find(map, key, ctl_strmap_hash(key));
    void *value;

    if (map->slots[i].key == NULL)
        return NULL;
    value = map->slots[i].value;
    ctl_strmap_delete_slot(map, i);
    return value;
}

size_t ctl_strmap_count(const ctl_strmap_t *map)
{
    return map->count;
}

void *ctl_strmap_next(const ctl_strmap_t *map, size_t *pos, const char **key)
{
    while (*pos < map->cap) {
        const ctl_strmap_slot_t *s = &map->slots[(*pos)++];

        if (s->key != NULL) {
            if (key != NULL)
                *key = s->key;
            return s->value;
        }
    }
    return NULL;
}
