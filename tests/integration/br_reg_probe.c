/*
 * br_reg_probe: a test program for broker registration (tests/integration/0010_broker_
 * registration.sh). It plays the parts of the cluster the broker talks to that are not
 * written yet in this test: the controller writing /cluster/id, a reader of /brokers/ids/<id>,
 * and a controller sending one LeaderAndIsr over the control RPC.
 *
 *   br_reg_probe set-cluster-id ZK ID      create /cluster/id = ClusterId{ID} (parents too)
 *   br_reg_probe get ZK BROKER_ID          print the registration of BROKER_ID as one line:
 *       id=2 endpoint=PLAINTEXT://h:p control=h:p rack=r1 start_time_ms=.. version=..
 *       czxid=0x.. owner=0x..                            (exit 3 when there is no node)
 *   br_reg_probe lai ZK BROKER_ID TOPIC CEPOCH [BEPOCH]
 *       read the broker's control endpoint and epoch from ZooKeeper, send it a LeaderAndIsr
 *       making it the leader of TOPIC-0 (topic id fixed, leader epoch 0) with controller
 *       epoch CEPOCH and broker epoch BEPOCH (default: the czxid read), print
 *       "error_code=E partition_error=P"
 *
 * ZK is a connect string, optionally with a chroot. Exit codes: 0 done, 1 failure, 2 usage or
 * connection error, 3 no node. Every wait is bounded.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samsa.pb-c.h"
#include "sm_log.h"
#include "sm_rpc.h"
#include "sm_zk.h"

#define PROBE_ZK_MS  10000
#define PROBE_RPC_MS 10000

static int probe_open(const char *connect, sm_zk_sync_t **zs)
{
    sm_errbuf_t eb = {{0}};

    if (sm_zk_sync_open(connect, 10000, PROBE_ZK_MS, zs, &eb) != SM_OK) {
        fprintf(stderr, "br_reg_probe: %s\n", eb.msg);
        return 2;
    }
    return 0;
}

static int probe_set_cluster_id(const char *connect, const char *id)
{
    Samsa__ClusterId cid = SAMSA__CLUSTER_ID__INIT;
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    uint8_t buf[256];
    size_t len;
    int rc = probe_open(connect, &zs);

    if (rc != 0)
        return rc;
    cid.id = (char *)(uintptr_t)id;
    len = samsa__cluster_id__pack(&cid, buf);
    if (sm_zk_sync_create(zs, "/cluster/id", buf, len, SM_ZK_PARENTS, NULL, 0, NULL, &eb) !=
        SM_OK) {
        fprintf(stderr, "br_reg_probe: %s\n", eb.msg);
        rc = 1;
    }
    sm_zk_sync_close(zs);
    return rc;
}

/* Reads /brokers/ids/<id>: *reg (free with samsa__broker_registration__free_unpacked). */
static int probe_read(sm_zk_sync_t *zs, const char *id, Samsa__BrokerRegistration **reg,
                      sm_zk_stat_t *st)
{
    char path[128];
    sm_errbuf_t eb = {{0}};
    void *data = NULL;
    size_t len = 0;
    sm_err_t err;

    snprintf(path, sizeof(path), "/brokers/ids/%s", id);
    err = sm_zk_sync_get(zs, path, &data, &len, st, &eb);
    if (err != SM_OK) {
        fprintf(stderr, "br_reg_probe: %s\n", eb.msg);
        return err == SM_ERR_NOT_FOUND ? 3 : 1;
    }
    *reg = samsa__broker_registration__unpack(NULL, len, data);
    free(data);
    if (*reg == NULL) {
        fprintf(stderr, "br_reg_probe: %s does not hold a BrokerRegistration\n", path);
        return 1;
    }
    return 0;
}

static int probe_get(const char *connect, const char *id)
{
    Samsa__BrokerRegistration *reg = NULL;
    sm_zk_sync_t *zs = NULL;
    sm_zk_stat_t st;
    int rc = probe_open(connect, &zs);

    if (rc == 0)
        rc = probe_read(zs, id, &reg, &st);
    if (rc == 0) {
        printf("id=%d", (int)reg->broker_id);
        for (size_t i = 0; i < reg->n_endpoints; i++)
            printf(" endpoint=%s://%s:%d", reg->endpoints[i]->listener, reg->endpoints[i]->host,
                   (int)reg->endpoints[i]->port);
        if (reg->control_endpoint != NULL)
            printf(" control=%s:%d", reg->control_endpoint->host, (int)reg->control_endpoint->port);
        printf(" rack=%s start_time_ms=%" PRId64 " version=%s czxid=0x%" PRIx64 " owner=0x%" PRIx64
               "\n",
               reg->rack != NULL ? reg->rack : "null", reg->start_time_ms,
               reg->software_version != NULL ? reg->software_version : "null", (uint64_t)st.czxid,
               (uint64_t)st.ephemeral_owner);
    }
    if (reg != NULL)
        samsa__broker_registration__free_unpacked(reg, NULL);
    sm_zk_sync_close(zs);
    return rc;
}

/* ---- lai ----------------------------------------------------------------------------------- */

typedef struct probe_call {
    struct event_base *base;
    int done;
    int rc;
} probe_call_t;

static void probe_lai_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    probe_call_t *pc = arg;
    const Samsa__LeaderAndIsrResponse *r;

    pc->done = 1;
    event_base_loopbreak(pc->base);
    if (err != SM_OK || resp->payload_case != SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE) {
        fprintf(stderr, "br_reg_probe: no LeaderAndIsr response (%s, %s)\n", sm_err_str(err),
                resp != NULL ? sm_rpc_payload_name(resp) : "none");
        pc->rc = 1;
        return;
    }
    r = resp->leader_and_isr_response;
    printf("error_code=%d partition_error=%d\n", (int)r->error_code,
           r->n_partition_errors > 0 ? (int)r->partition_errors[0]->error_code : -999);
    pc->rc = 0;
}

static int probe_lai(const char *connect, const char *id, const char *topic, int32_t cepoch,
                     const char *bepoch)
{
    Samsa__BrokerRegistration *reg = NULL;
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__LeaderAndIsrRequest req = SAMSA__LEADER_AND_ISR_REQUEST__INIT;
    Samsa__LeaderAndIsrTopicState ts = SAMSA__LEADER_AND_ISR_TOPIC_STATE__INIT;
    Samsa__LeaderAndIsrPartitionState ps = SAMSA__LEADER_AND_ISR_PARTITION_STATE__INIT;
    Samsa__LeaderAndIsrTopicState *tss[1] = {&ts};
    Samsa__LeaderAndIsrPartitionState *pss[1] = {&ps};
    uint8_t topic_id[16] = {0x5a, 0x4d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    struct timeval tv = {.tv_sec = PROBE_RPC_MS / 1000 + 1};
    probe_call_t pc = {.rc = 1};
    sm_rpc_client_t *cli = NULL;
    sm_zk_sync_t *zs = NULL;
    sm_zk_stat_t st;
    int32_t me;
    int rc = probe_open(connect, &zs);

    if (rc == 0)
        rc = probe_read(zs, id, &reg, &st);
    sm_zk_sync_close(zs);
    if (rc != 0)
        goto out;
    rc = 1;
    me = reg->broker_id;
    ps.has_partition = 1;
    ps.has_controller_epoch = 1;
    ps.controller_epoch = cepoch;
    ps.has_leader = 1;
    ps.leader = me;
    ps.has_leader_epoch = 1;
    ps.n_isr = 1;
    ps.isr = &me;
    ps.n_replicas = 1;
    ps.replicas = &me;
    ts.topic = (char *)(uintptr_t)topic;
    ts.has_topic_id = 1;
    ts.topic_id.data = topic_id;
    ts.topic_id.len = sizeof(topic_id);
    ts.n_partitions = 1;
    ts.partitions = pss;
    req.has_controller_id = 1;
    req.controller_id = 100;
    req.n_topic_states = 1;
    req.topic_states = tss;
    env.has_type = 1;
    env.type = SAMSA__RPC_TYPE__LEADER_AND_ISR;
    env.has_controller_epoch = 1;
    env.controller_epoch = cepoch;
    env.has_broker_epoch = 1;
    env.broker_epoch = bepoch != NULL ? strtoll(bepoch, NULL, 0) : st.czxid;
    env.has_sender_id = 1;
    env.sender_id = 100;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST;
    env.leader_and_isr_request = &req;
    pc.base = event_base_new();
    if (pc.base == NULL || reg->control_endpoint == NULL ||
        sm_rpc_client_new(pc.base, reg->control_endpoint->host,
                          (uint16_t)reg->control_endpoint->port, NULL, &cli) != SM_OK ||
        sm_rpc_client_call(cli, &env, PROBE_RPC_MS, probe_lai_done, &pc) != SM_OK) {
        fprintf(stderr, "br_reg_probe: cannot call the broker's control endpoint\n");
        goto out;
    }
    event_base_loopexit(pc.base, &tv);
    event_base_dispatch(pc.base);
    rc = pc.done ? pc.rc : 1;
out:
    sm_rpc_client_free(cli);
    if (pc.base != NULL)
        event_base_free(pc.base);
    if (reg != NULL)
        samsa__broker_registration__free_unpacked(reg, NULL);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    sm_log_init("br_reg_probe", SM_LOG_WARN);
    if (argc == 4 && strcmp(argv[1], "set-cluster-id") == 0)
        return probe_set_cluster_id(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "get") == 0)
        return probe_get(argv[2], argv[3]);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "lai") == 0)
        return probe_lai(argv[2], argv[3], argv[4], (int32_t)atoi(argv[5]),
                         argc == 7 ? argv[6] : NULL);
    fprintf(stderr, "usage: br_reg_probe set-cluster-id ZK ID | get ZK BROKER_ID | "
                    "lai ZK BROKER_ID TOPIC CEPOCH [BEPOCH]\n");
    return 2;
}
