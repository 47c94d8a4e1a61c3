/*
 * adm_controller: `controller` (see adm_controller.h).
 */
#include "controller/admin/adm_controller.h"

#include <stdio.h>

#include "controller/admin/adm_out.h"
#include "controller/admin/adm_table.h"
#include "controller/admin/adm_zk.h"

static int64_t adm_controller_since(const Samsa__ControllerRegistration *reg, int64_t ctime_ms)
{
    return reg->has_timestamp_ms && reg->timestamp_ms > 0 ? reg->timestamp_ms : ctime_ms;
}

void adm_controller_json(adm_json_t *j, const Samsa__ControllerRegistration *reg, int64_t ctime_ms)
{
    char buf[320];
    int64_t since = adm_controller_since(reg, ctime_ms);

    adm_json_object_begin(j);
    adm_json_key(j, "id");
    adm_json_int(j, reg->has_controller_id ? reg->controller_id : -1);
    adm_json_key(j, "epoch");
    adm_json_int(j, reg->has_epoch ? reg->epoch : -1);
    adm_json_key(j, "endpoint");
    if (reg->endpoint != NULL) {
        adm_out_hostport(reg->endpoint, buf, sizeof(buf));
        adm_json_string(j, buf);
    } else {
        adm_json_null(j);
    }
    adm_json_key(j, "since_ms");
    adm_json_int(j, since);
    adm_json_key(j, "since");
    adm_out_time(since, buf, sizeof(buf));
    adm_json_string(j, since > 0 ? buf : NULL);
    adm_json_object_end(j);
}

static sm_err_t adm_controller_table(const Samsa__ControllerRegistration *reg, int64_t ctime_ms)
{
    static const char *const cols[] = {"ID", "EPOCH", "ENDPOINT", "SINCE"};
    adm_table_t *t = NULL;
    char buf[320];
    sm_err_t err = adm_table_new(4, cols, &t);

    if (err != SM_OK)
        return err;
    adm_table_row(t);
    adm_table_cellf(t, "%d", reg->has_controller_id ? (int)reg->controller_id : -1);
    adm_table_cellf(t, "%d", reg->has_epoch ? (int)reg->epoch : -1);
    adm_out_hostport(reg->endpoint, buf, sizeof(buf));
    adm_table_cell(t, buf);
    adm_out_time(adm_controller_since(reg, ctime_ms), buf, sizeof(buf));
    adm_table_cell(t, buf);
    err = adm_table_print(t, stdout);
    adm_table_free(t);
    return err;
}

int adm_controller_show(const adm_args_t *a)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    ProtobufCMessage *m = NULL;
    sm_zk_stat_t st = {0};
    adm_json_t j;
    int rc = 1;
    sm_err_t err;

    adm_json_init(&j);
    if (adm_zk_open(a, &zs, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    err = adm_zk_read(zs, "/controller", &samsa__controller_registration__descriptor, &m, &st, &eb);
    if (err == SM_ERR_NOT_FOUND) {
        adm_out_fail("no active controller");
        goto out;
    }
    if (err != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    if (a->json) {
        adm_controller_json(&j, (Samsa__ControllerRegistration *)m, st.ctime_ms);
        err = adm_json_write(&j, stdout);
    } else {
        err = adm_controller_table((Samsa__ControllerRegistration *)m, st.ctime_ms);
    }
    if (err != SM_OK) {
        adm_out_fail("controller: %s", sm_err_str(err));
        goto out;
    }
    rc = 0;
out:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    adm_json_deinit(&j);
    sm_zk_sync_close(zs);
    return rc;
}
