/*
 * adm_topics: `topics list` and `topics describe`, read from ZooKeeper, and the rendering of a
 * loaded topic as JSON or as a table (see adm_topics.h). The mutations live in
 * adm_topics_write.c.
 */
#include "controller/admin/adm_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_brokers.h"
#include "controller/admin/adm_out.h"
#include "controller/admin/adm_zk.h"
#include "sm_uuid.h"

#define ADM_TOPICS_PATH_MAX 600

/* ---- loading ------------------------------------------------------------------------------- */

void adm_topics_deinit(adm_topic_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; t->assign != NULL && t->states != NULL && i < t->assign->n_partitions; i++) {
        if (t->states[i] != NULL)
            samsa__partition_state__free_unpacked(t->states[i], NULL);
    }
    free(t->states);
    if (t->assign != NULL)
        samsa__topic_assignment__free_unpacked(t->assign, NULL);
    if (t->config != NULL)
        samsa__topic_config__free_unpacked(t->config, NULL);
    free(t->name);
    memset(t, 0, sizeof(*t));
}

void adm_topics_sort(adm_topic_t *t)
{
    size_t n = t->assign != NULL ? t->assign->n_partitions : 0;

    /* Insertion sort: partition counts are small and usually already in order. */
    for (size_t i = 1; i < n; i++) {
        Samsa__PartitionAssignment *pa = t->assign->partitions[i];
        Samsa__PartitionState *ps = t->states != NULL ? t->states[i] : NULL;
        size_t k = i;

        while (k > 0 && t->assign->partitions[k - 1]->partition > pa->partition) {
            t->assign->partitions[k] = t->assign->partitions[k - 1];
            if (t->states != NULL)
                t->states[k] = t->states[k - 1];
            k--;
        }
        t->assign->partitions[k] = pa;
        if (t->states != NULL)
            t->states[k] = ps;
    }
}

sm_err_t adm_topics_load(sm_zk_sync_t *zs, const char *name, adm_topic_t *t, sm_errbuf_t *eb)
{
    char path[ADM_TOPICS_PATH_MAX];
    ProtobufCMessage *m = NULL;
    sm_err_t err;

    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    if (t->name == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof(path), "/brokers/topics/%s", name);
    err = adm_zk_read(zs, path, &samsa__topic_assignment__descriptor, &m, NULL, eb);
    if (err == SM_ERR_NOT_FOUND)
        return sm_errbuf_set(eb, err, "unknown topic '%s'", name);
    if (err != SM_OK)
        return err;
    t->assign = (Samsa__TopicAssignment *)m;
    adm_topics_sort(t);
    t->states = calloc(t->assign->n_partitions + 1, sizeof(t->states[0]));
    if (t->states == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->assign->n_partitions; i++) {
        snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%d/state", name,
                 (int)t->assign->partitions[i]->partition);
        err = adm_zk_read(zs, path, &samsa__partition_state__descriptor, &m, NULL, eb);
        if (err == SM_ERR_NOT_FOUND)
            continue;
        if (err != SM_OK)
            return err;
        t->states[i] = (Samsa__PartitionState *)m;
    }
    snprintf(path, sizeof(path), "/config/topics/%s", name);
    err = adm_zk_read(zs, path, &samsa__topic_config__descriptor, &m, NULL, eb);
    if (err == SM_OK)
        t->config = (Samsa__TopicConfig *)m;
    else if (err != SM_ERR_NOT_FOUND)
        return err;
    snprintf(path, sizeof(path), "/admin/delete_topics/%s", name);
    err = sm_zk_sync_exists(zs, path, NULL, eb);
    if (err == SM_OK)
        t->marked_for_deletion = true;
    else if (err != SM_ERR_NOT_FOUND)
        return err;
    return SM_OK;
}

/* ---- rendering ----------------------------------------------------------------------------- */

static bool adm_topics_has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == x)
            return true;
    }
    return false;
}

bool adm_topics_partition_shown(const adm_topic_t *t, size_t i, const adm_topics_filter_t *f)
{
    const Samsa__PartitionAssignment *pa = t->assign->partitions[i];
    const Samsa__PartitionState *ps = t->states != NULL ? t->states[i] : NULL;
    int32_t leader = ps != NULL ? ps->leader : -1;
    size_t n_isr = ps != NULL ? ps->n_isr : 0;

    if (f == NULL)
        return true;
    if (f->under_replicated && n_isr >= pa->n_replicas)
        return false;
    if (f->unavailable && leader >= 0 &&
        (f->live == NULL || adm_topics_has(f->live, f->n_live, leader)))
        return false;
    return true;
}

bool adm_topics_filtered_out(const adm_topic_t *t, const adm_topics_filter_t *f)
{
    size_t n = t->assign != NULL ? t->assign->n_partitions : 0;

    if (f == NULL || (!f->under_replicated && !f->unavailable))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (adm_topics_partition_shown(t, i, f))
            return false;
    }
    return true;
}

static void adm_topics_id_text(const adm_topic_t *t, char out[SM_UUID_STR_SIZE])
{
    sm_uuid_t u;

    out[0] = '\0';
    if (t->assign == NULL || !t->assign->has_topic_id || t->assign->topic_id.len != 16)
        return;
    memcpy(u.b, t->assign->topic_id.data, 16);
    sm_uuid_format(&u, out);
}

void adm_topics_json(adm_json_t *j, const adm_topic_t *t, const adm_topics_filter_t *f)
{
    char id[SM_UUID_STR_SIZE];
    size_t n = t->assign != NULL ? t->assign->n_partitions : 0;

    adm_topics_id_text(t, id);
    adm_json_object_begin(j);
    adm_json_key(j, "topic");
    adm_json_string(j, t->name);
    adm_json_key(j, "topic_id");
    adm_json_string(j, id[0] ? id : NULL);
    adm_json_key(j, "partitions");
    adm_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const Samsa__PartitionAssignment *pa = t->assign->partitions[i];
        const Samsa__PartitionState *ps = t->states != NULL ? t->states[i] : NULL;

        if (!adm_topics_partition_shown(t, i, f))
            continue;
        adm_json_object_begin(j);
        adm_json_key(j, "partition");
        adm_json_int(j, pa->partition);
        adm_json_key(j, "leader");
        adm_json_int(j, ps != NULL ? ps->leader : -1);
        adm_json_key(j, "leader_epoch");
        adm_json_int(j, ps != NULL ? ps->leader_epoch : -1);
        adm_json_key(j, "replicas");
        adm_json_int32_array(j, pa->replicas, pa->n_replicas);
        adm_json_key(j, "isr");
        adm_json_int32_array(j, ps != NULL ? ps->isr : NULL, ps != NULL ? ps->n_isr : 0);
        adm_json_object_end(j);
    }
    adm_json_array_end(j);
    adm_json_object_end(j);
}

char *adm_topics_summary(const adm_topic_t *t)
{
    char id[SM_UUID_STR_SIZE];
    char *configs = NULL, *line = NULL;
    size_t n_cfg = t->config != NULL ? t->config->n_configs : 0, len = 1;
    size_t n = t->assign != NULL ? t->assign->n_partitions : 0;
    size_t rf = n > 0 ? t->assign->partitions[0]->n_replicas : 0;

    adm_topics_id_text(t, id);
    for (size_t i = 0; i < n_cfg; i++) {
        const Samsa__ConfigEntry *c = t->config->configs[i];

        len += strlen(c->name ? c->name : "") + strlen(c->value ? c->value : "") + 2;
    }
    configs = calloc(1, len);
    if (configs == NULL)
        return NULL;
    for (size_t i = 0; i < n_cfg; i++) {
        const Samsa__ConfigEntry *c = t->config->configs[i];

        if (i > 0)
            strcat(configs, ",");
        strcat(configs, c->name ? c->name : "");
        strcat(configs, "=");
        strcat(configs, c->value ? c->value : "");
    }
    if (asprintf(&line, "Topic: %s  TopicId: %s  PartitionCount: %zu  ReplicationFactor: %zu%s%s%s",
                 t->name, id[0] ? id : "-", n, rf, n_cfg ? "  Configs: " : "", configs,
                 t->marked_for_deletion ? "  MarkedForDeletion: true" : "") < 0)
        line = NULL;
    free(configs);
    return line;
}

sm_err_t adm_topics_table_new(adm_table_t **out)
{
    static const char *const cols[] = {"PARTITION", "LEADER", "LEADER_EPOCH", "REPLICAS", "ISR"};

    return adm_table_new(5, cols, out);
}

void adm_topics_table_rows(adm_table_t *tab, const adm_topic_t *t, const adm_topics_filter_t *f)
{
    size_t n = t->assign != NULL ? t->assign->n_partitions : 0;
    char ids[512];

    for (size_t i = 0; i < n; i++) {
        const Samsa__PartitionAssignment *pa = t->assign->partitions[i];
        const Samsa__PartitionState *ps = t->states != NULL ? t->states[i] : NULL;

        if (!adm_topics_partition_shown(t, i, f))
            continue;
        adm_table_row(tab);
        adm_table_cellf(tab, "%d", (int)pa->partition);
        if (ps == NULL || ps->leader < 0)
            adm_table_cell(tab, "none");
        else
            adm_table_cellf(tab, "%d", (int)ps->leader);
        if (ps == NULL)
            adm_table_cell(tab, "-");
        else
            adm_table_cellf(tab, "%d", (int)ps->leader_epoch);
        adm_out_ids(pa->replicas, pa->n_replicas, ids, sizeof(ids));
        adm_table_cell(tab, ids);
        adm_out_ids(ps != NULL ? ps->isr : NULL, ps != NULL ? ps->n_isr : 0, ids, sizeof(ids));
        adm_table_cell(tab, ids);
    }
}

/* ---- commands ------------------------------------------------------------------------------ */

static bool adm_topics_internal(const char *name)
{
    return strncmp(name, "__", 2) == 0;
}

int adm_topics_list(const adm_args_t *a)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    char **names = NULL, **del = NULL;
    size_t n = 0, n_del = 0;
    adm_json_t j;
    int rc = 1;
    sm_err_t err;

    adm_json_init(&j);
    if (adm_zk_open(a, &zs, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    err = sm_zk_sync_children(zs, "/brokers/topics", &names, &n, &eb);
    if (err != SM_OK && err != SM_ERR_NOT_FOUND) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    err = sm_zk_sync_children(zs, "/admin/delete_topics", &del, &n_del, &eb);
    if (err != SM_OK && err != SM_ERR_NOT_FOUND) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    adm_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        bool deleting = false;

        if (a->exclude_internal && adm_topics_internal(names[i]))
            continue;
        for (size_t k = 0; k < n_del && !deleting; k++)
            deleting = strcmp(del[k], names[i]) == 0;
        if (a->json)
            adm_json_string(&j, names[i]);
        else
            printf("%s%s\n", names[i], deleting ? " (marked for deletion)" : "");
    }
    adm_json_array_end(&j);
    if (a->json && adm_json_write(&j, stdout) != SM_OK) {
        adm_out_fail("topics list: cannot write the output");
        goto out;
    }
    rc = 0;
out:
    sm_zk_strings_free(names, n);
    sm_zk_strings_free(del, n_del);
    adm_json_deinit(&j);
    sm_zk_sync_close(zs);
    return rc;
}

/* Prints one loaded topic for people: the summary line, then its partition table. */
static sm_err_t adm_topics_print(const adm_topic_t *t, const adm_topics_filter_t *f)
{
    adm_table_t *tab = NULL;
    char *summary = adm_topics_summary(t);
    sm_err_t err = summary != NULL ? adm_topics_table_new(&tab) : SM_ERR_NOMEM;

    if (err == SM_OK) {
        adm_topics_table_rows(tab, t, f);
        printf("%s\n", summary);
        err = adm_table_print(tab, stdout);
    }
    adm_table_free(tab);
    free(summary);
    return err;
}

/* Describes the topics in names[0..n) (a single named one when one_topic). */
static int adm_topics_describe_names(const adm_args_t *a, sm_zk_sync_t *zs, char **names, size_t n,
                                     bool one_topic, const adm_topics_filter_t *f)
{
    sm_errbuf_t eb = {{0}};
    adm_json_t j;
    int rc = 1, shown = 0;
    sm_err_t err = SM_OK;

    adm_json_init(&j);
    if (!one_topic)
        adm_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        adm_topic_t t;

        if (!one_topic && a->exclude_internal && adm_topics_internal(names[i]))
            continue;
        err = adm_topics_load(zs, names[i], &t, &eb);
        if (err == SM_ERR_NOT_FOUND && !one_topic) {
            adm_topics_deinit(&t); /* deleted since the listing */
            continue;
        }
        if (err != SM_OK) {
            adm_topics_deinit(&t);
            adm_out_fail("%s", eb.msg);
            goto out;
        }
        if (!one_topic && adm_topics_filtered_out(&t, f)) {
            adm_topics_deinit(&t);
            continue;
        }
        if (a->json) {
            adm_topics_json(&j, &t, f);
        } else {
            if (shown++ > 0)
                printf("\n");
            err = adm_topics_print(&t, f);
        }
        adm_topics_deinit(&t);
        if (err != SM_OK) {
            adm_out_fail("topics describe: %s", sm_err_str(err));
            goto out;
        }
    }
    if (!one_topic)
        adm_json_array_end(&j);
    if (a->json && adm_json_write(&j, stdout) != SM_OK) {
        adm_out_fail("topics describe: cannot write the output");
        goto out;
    }
    rc = 0;
out:
    adm_json_deinit(&j);
    return rc;
}

int adm_topics_describe(const adm_args_t *a)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    char **names = NULL;
    char *one[1] = {(char *)a->name};
    size_t n = 0;
    int32_t *live = NULL;
    size_t n_live = 0;
    adm_topics_filter_t f = {.under_replicated = a->under_replicated,
                             .unavailable = a->unavailable};
    int rc = 1;
    sm_err_t err;

    if (adm_zk_open(a, &zs, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    if (a->unavailable) {
        if (adm_brokers_ids(zs, &live, &n_live, &eb) != SM_OK) {
            adm_out_fail("%s", eb.msg);
            goto out;
        }
        f.live = live;
        f.n_live = n_live;
    }
    if (a->name != NULL) {
        rc = adm_topics_describe_names(a, zs, one, 1, true, &f);
        goto out;
    }
    err = sm_zk_sync_children(zs, "/brokers/topics", &names, &n, &eb);
    if (err != SM_OK && err != SM_ERR_NOT_FOUND) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    rc = adm_topics_describe_names(a, zs, names, n, false, &f);
out:
    free(live);
    sm_zk_strings_free(names, n);
    sm_zk_sync_close(zs);
    return rc;
}
