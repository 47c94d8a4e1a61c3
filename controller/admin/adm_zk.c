/*
 * adm_zk: ZooKeeper reads for samsa-admin (see adm_zk.h). Paths are matched component by
 * component against the layout of DESIGN.md section 2; "*" stands for one name (a broker id,
 * a topic, a partition).
 */
#include "controller/admin/adm_zk.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_out.h"
#include "samsa.pb-c.h"

sm_err_t adm_zk_open(const adm_args_t *a, sm_zk_sync_t **out, sm_errbuf_t *eb)
{
    int connect_ms = a->timeout_ms > INT_MAX ? INT_MAX : (int)a->timeout_ms;

    return sm_zk_sync_open(a->zookeeper, ADM_ZK_SESSION_MS, connect_ms, out, eb);
}

sm_err_t adm_zk_read(sm_zk_sync_t *zs, const char *path, const ProtobufCMessageDescriptor *desc,
                     ProtobufCMessage **out, sm_zk_stat_t *stat, sm_errbuf_t *eb)
{
    void *data = NULL;
    size_t len = 0;
    sm_err_t err;

    *out = NULL;
    err = sm_zk_sync_get(zs, path, &data, &len, stat, eb);
    if (err != SM_OK)
        goto out;
    *out = protobuf_c_message_unpack(desc, NULL, len, data);
    if (*out == NULL)
        err = sm_errbuf_set(eb, SM_ERR_CORRUPT, "%s holds %zu bytes that are not a %s", path, len,
                            desc->short_name);
out:
    free(data);
    return err;
}

/* True when path matches pattern, where a "*" component matches any one component. */
static bool adm_zk_match(const char *path, const char *pattern)
{
    while (*path != '\0' && *pattern != '\0') {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");

            if (n == 0)
                return false;
            path += n;
            pattern++;
            continue;
        }
        if (*path != *pattern)
            return false;
        path++;
        pattern++;
    }
    return *path == '\0' && *pattern == '\0';
}

const ProtobufCMessageDescriptor *adm_zk_payload_type(const char *path)
{
    static const struct {
        const char *pattern;
        const ProtobufCMessageDescriptor *desc;
    } map[] = {
        {"/cluster/id", &samsa__cluster_id__descriptor},
        {"/controller", &samsa__controller_registration__descriptor},
        {"/controller_epoch", &samsa__controller_epoch__descriptor},
        {"/brokers/ids/*", &samsa__broker_registration__descriptor},
        {"/brokers/topics/*", &samsa__topic_assignment__descriptor},
        {"/brokers/topics/*/partitions/*/state", &samsa__partition_state__descriptor},
        {"/config/topics/*", &samsa__topic_config__descriptor},
        {"/admin/delete_topics/*", &samsa__delete_topic_marker__descriptor},
        {"/admin/reassign_partitions", &samsa__reassignment_plan__descriptor},
        {"/admin/preferred_replica_election", &samsa__preferred_replica_election__descriptor},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (adm_zk_match(path, map[i].pattern))
            return map[i].desc;
    }
    return NULL;
}

/* Text worth showing as a string: UTF-8 without NUL, DEL or control characters other than
 * tab, CR and newline. */
static bool adm_zk_printable(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') || s[i] == 0x7f)
            return false;
    }
    return adm_json_is_utf8((const char *)s, len);
}

static void adm_zk_hex(adm_json_t *j, const unsigned char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(len * 2 + 1);

    if (hex == NULL) {
        adm_json_null(j);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[s[i] >> 4];
        hex[2 * i + 1] = digits[s[i] & 15];
    }
    adm_json_object_begin(j);
    adm_json_key(j, "hex");
    adm_json_string_n(j, hex, len * 2);
    adm_json_object_end(j);
    free(hex);
}

void adm_zk_payload_json(adm_json_t *j, const char *path, const void *data, size_t len)
{
    const ProtobufCMessageDescriptor *desc = adm_zk_payload_type(path);
    ProtobufCMessage *m;

    if ((len == 0 || data == NULL) && desc == NULL) {
        adm_json_null(j);
        return;
    }
    if (desc != NULL) {
        m = protobuf_c_message_unpack(desc, NULL, len, data);
        if (m != NULL) {
            adm_json_message(j, m);
            protobuf_c_message_free_unpacked(m, NULL);
            return;
        }
    }
    if (adm_zk_printable(data, len))
        adm_json_string_n(j, data, len);
    else
        adm_zk_hex(j, data, len);
}

int adm_zk_get(const adm_args_t *a)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    void *data = NULL;
    size_t len = 0;
    adm_json_t j;
    int rc = 1;
    sm_err_t err;

    adm_json_init(&j);
    if (adm_zk_open(a, &zs, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    err = sm_zk_sync_get(zs, a->name, &data, &len, NULL, &eb);
    if (err == SM_ERR_NOT_FOUND) {
        adm_out_fail("no znode %s", a->name);
        goto out;
    }
    if (err != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    adm_zk_payload_json(&j, a->name, data, len);
    err = adm_json_write(&j, stdout);
    if (err != SM_OK) {
        adm_out_fail("zk get %s: %s", a->name, sm_err_str(err));
        goto out;
    }
    rc = 0;
out:
    free(data);
    adm_json_deinit(&j);
    sm_zk_sync_close(zs);
    return rc;
}
