/*
 * br_partition: per-partition replica state in a sorted array, and the partition.metadata
 * file. See br_partition.h for the contract and the design notes.
 */
#include "broker/br_partition.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/br_checkpoint.h"

struct br_partition {
    char *topic;
    int32_t partition;
    sm_uuid_t topic_id;
    br_partition_role_t role;
    int32_t leader;
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t controller_epoch;
    int32_t *isr;
    size_t n_isr;
    int32_t *replicas;
    size_t n_replicas;
    void *ext;                /* the replica layer's state (br_replica) */
    void (*ext_free)(void *); /* frees ext when the partition goes */
};

struct br_partition_set {
    br_partition_t **parts; /* sorted by (topic, partition) */
    size_t n;
    size_t cap;
};

static void br_partition_free(br_partition_t *p)
{
    if (p == NULL)
        return;
    if (p->ext_free != NULL)
        p->ext_free(p->ext);
    free(p->topic);
    free(p->isr);
    free(p->replicas);
    free(p);
}

sm_err_t br_partition_set_new(br_partition_set_t **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? SM_OK : SM_ERR_NOMEM;
}

void br_partition_set_free(br_partition_set_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        br_partition_free(s->parts[i]);
    free(s->parts);
    free(s);
}

static int br_partition_cmp(const br_partition_t *p, const char *topic, int32_t partition)
{
    int c = strcmp(p->topic, topic);

    if (c != 0)
        return c;
    return (p->partition > partition) - (p->partition < partition);
}

static size_t br_partition_find(const br_partition_set_t *s, const char *topic, int32_t partition,
                                bool *found)
{
    size_t lo = 0, hi = s->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = br_partition_cmp(s->parts[mid], topic, partition);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

br_partition_t *br_partition_get(const br_partition_set_t *s, const char *topic, int32_t partition)
{
    bool found;
    size_t at = br_partition_find(s, topic, partition, &found);

    return found ? s->parts[at] : NULL;
}

sm_err_t br_partition_add(br_partition_set_t *s, const char *topic, int32_t partition,
                          br_partition_t **out)
{
    br_partition_t *p;
    bool found;
    size_t at;

    *out = NULL;
    if (topic == NULL || topic[0] == '\0' || partition < 0)
        return SM_ERR_INVALID;
    at = br_partition_find(s, topic, partition, &found);
    if (found) {
        *out = s->parts[at];
        return SM_OK;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        br_partition_t **np = realloc(s->parts, ncap * sizeof(*np));

        if (np == NULL)
            return SM_ERR_NOMEM;
        s->parts = np;
        s->cap = ncap;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->topic = strdup(topic)) == NULL) {
        free(p);
        return SM_ERR_NOMEM;
    }
    p->partition = partition;
    p->leader = -1;
    p->leader_epoch = BR_PARTITION_NO_EPOCH;
    p->partition_epoch = -1;
    p->controller_epoch = -1;
    memmove(&s->parts[at + 1], &s->parts[at], (s->n - at) * sizeof(*s->parts));
    s->parts[at] = p;
    s->n++;
    *out = p;
    return SM_OK;
}

void br_partition_remove(br_partition_set_t *s, const char *topic, int32_t partition)
{
    bool found;
    size_t at = br_partition_find(s, topic, partition, &found);

    if (!found)
        return;
    br_partition_free(s->parts[at]);
    memmove(&s->parts[at], &s->parts[at + 1], (s->n - at - 1) * sizeof(*s->parts));
    s->n--;
}

size_t br_partition_count(const br_partition_set_t *s)
{
    return s->n;
}

br_partition_t *br_partition_at(const br_partition_set_t *s, size_t i)
{
    return i < s->n ? s->parts[i] : NULL;
}

static int32_t *br_partition_ints(const int32_t *v, size_t n, bool *ok)
{
    int32_t *d;

    if (n == 0)
        return NULL;
    d = malloc(n * sizeof(*d));
    if (d == NULL)
        *ok = false;
    else
        memcpy(d, v, n * sizeof(*d));
    return d;
}

sm_err_t br_partition_apply(br_partition_t *p, int32_t own_id, const br_partition_state_t *st)
{
    bool ok = true;
    int32_t *isr = br_partition_ints(st->isr, st->n_isr, &ok);
    int32_t *replicas = br_partition_ints(st->replicas, st->n_replicas, &ok);

    if (!ok) {
        free(isr);
        free(replicas);
        return SM_ERR_NOMEM;
    }
    free(p->isr);
    free(p->replicas);
    p->isr = isr;
    p->n_isr = st->n_isr;
    p->replicas = replicas;
    p->n_replicas = st->n_replicas;
    p->role = st->leader == own_id ? BR_PARTITION_LEADER : BR_PARTITION_FOLLOWER;
    p->leader = st->leader;
    p->leader_epoch = st->leader_epoch;
    p->partition_epoch = st->partition_epoch;
    p->controller_epoch = st->controller_epoch;
    return SM_OK;
}

sm_err_t br_partition_set_isr(br_partition_t *p, const int32_t *isr, size_t n,
                              int32_t partition_epoch)
{
    bool ok = true;
    int32_t *copy = br_partition_ints(isr, n, &ok);

    if (!ok)
        return SM_ERR_NOMEM;
    free(p->isr);
    p->isr = copy;
    p->n_isr = n;
    p->partition_epoch = partition_epoch;
    return SM_OK;
}

void br_partition_set_ext(br_partition_t *p, void *ext, void (*ext_free)(void *))
{
    p->ext = ext;
    p->ext_free = ext_free;
}

void *br_partition_ext(const br_partition_t *p)
{
    return p->ext;
}

bool br_partition_in_isr(const br_partition_t *p, int32_t id)
{
    for (size_t i = 0; i < p->n_isr; i++)
        if (p->isr[i] == id)
            return true;
    return false;
}

void br_partition_stop(br_partition_t *p)
{
    p->role = BR_PARTITION_NONE;
}

void br_partition_set_topic_id(br_partition_t *p, const sm_uuid_t *id)
{
    p->topic_id = *id;
}

const char *br_partition_topic(const br_partition_t *p)
{
    return p->topic;
}

int32_t br_partition_index(const br_partition_t *p)
{
    return p->partition;
}

br_partition_role_t br_partition_role(const br_partition_t *p)
{
    return p->role;
}

const char *br_partition_role_str(br_partition_role_t role)
{
    switch (role) {
    case BR_PARTITION_LEADER:
        return "leader";
    case BR_PARTITION_FOLLOWER:
        return "follower";
    case BR_PARTITION_NONE:
        break;
    }
    return "none";
}

int32_t br_partition_leader(const br_partition_t *p)
{
    return p->leader;
}

int32_t br_partition_leader_epoch(const br_partition_t *p)
{
    return p->leader_epoch;
}

int32_t br_partition_partition_epoch(const br_partition_t *p)
{
    return p->partition_epoch;
}

const sm_uuid_t *br_partition_topic_id(const br_partition_t *p)
{
    return &p->topic_id;
}

const int32_t *br_partition_replicas(const br_partition_t *p, size_t *n)
{
    *n = p->n_replicas;
    return p->replicas;
}

const int32_t *br_partition_isr(const br_partition_t *p, size_t *n)
{
    *n = p->n_isr;
    return p->isr;
}

/* ---- partition.metadata ------------------------------------------------------------------- */

static sm_err_t br_partition_metadata_path(const char *dir, char *path, size_t cap, sm_errbuf_t *eb)
{
    if ((size_t)snprintf(path, cap, "%s/%s", dir, BR_PARTITION_METADATA) >= cap)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "%s: path too long", dir);
    return SM_OK;
}

sm_err_t br_partition_metadata_write(const br_fileops_t *ops, const char *dir, const sm_uuid_t *id,
                                     sm_errbuf_t *eb)
{
    char path[PATH_MAX], text[64], idtext[SM_UUID_STR_SIZE];
    sm_err_t err;
    int n;

    err = br_partition_metadata_path(dir, path, sizeof(path), eb);
    if (err != SM_OK)
        return err;
    sm_uuid_format(id, idtext);
    n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", idtext);
    return br_checkpoint_write_file(ops, path, text, (size_t)n, eb);
}

/* Splits "key: value" (blanks around both trimmed) in place. Returns false if no ':'. */
static bool br_partition_kv(char *line, char **key, char **value)
{
    char *colon = strchr(line, ':');
    char *end;

    if (colon == NULL)
        return false;
    *colon = '\0';
    *key = line;
    *value = colon + 1;
    while (**key == ' ' || **key == '\t')
        (*key)++;
    while (**value == ' ' || **value == '\t')
        (*value)++;
    for (end = *key + strlen(*key); end > *key && (end[-1] == ' ' || end[-1] == '\t');)
        *--end = '\0';
    for (end = *value + strlen(*value);
         end > *value && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r');)
        *--end = '\0';
    return true;
}

sm_err_t br_partition_metadata_read(const br_fileops_t *ops, const char *dir, sm_uuid_t *id,
                                    sm_errbuf_t *eb)
{
    char path[PATH_MAX];
    char *text = NULL, *line, *save = NULL, *key, *value;
    bool have_version = false, have_id = false;
    size_t len;
    sm_err_t err;

    err = br_partition_metadata_path(dir, path, sizeof(path), eb);
    if (err == SM_OK)
        err = br_checkpoint_read_file(ops, path, &text, &len, eb);
    if (err != SM_OK)
        goto out;
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (!br_partition_kv(line, &key, &value)) {
            err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s: malformed line '%.40s'", path, line);
            goto out;
        }
        if (strcmp(key, "version") == 0) {
            if (strcmp(value, "0") != 0) {
                err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s: unsupported version '%.20s'", path,
                                    value);
                goto out;
            }
            have_version = true;
        } else if (strcmp(key, "topic_id") == 0) {
            if (sm_uuid_parse(value, strlen(value), id) != SM_OK) {
                err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s: bad topic_id '%.40s'", path, value);
                goto out;
            }
            have_id = true;
        }
    }
    if (!have_version || !have_id)
        err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s: missing %s", path,
                            have_version ? "topic_id" : "version");
out:
    free(text);
    return err;
}
