/*
 * ctl_rpc: sends one control-RPC request to a samsa-controller and prints the answer, for
 * integration scripts and people debugging a cluster (samsa-admin is the operator's tool;
 * this one shows the raw protocol).
 *
 *   ctl_rpc HOST:PORT ping
 *   ctl_rpc HOST:PORT create TOPIC PARTITIONS RF [key=value]...
 *   ctl_rpc HOST:PORT delete TOPIC [TIMEOUT_MS]
 *   ctl_rpc HOST:PORT describe [TOPIC]...
 *   ctl_rpc HOST:PORT cluster
 *   ctl_rpc HOST:PORT isr TOPIC PARTITION BROKER BROKER_EPOCH LEADER_EPOCH PARTITION_EPOCH ISR
 *       (AlterIsr as partition leader BROKER would send it; ISR is comma-separated)
 *
 * Output: one line per item, "ok ..." or "error CODE MESSAGE". Exit 0 when every item
 * succeeded, 1 on an error answer or no answer within 10 s, 2 on bad usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sm_log.h"
#include "sm_rpc.h"
#include "sm_uuid.h"

typedef struct ctl_rpc_run {
    struct event_base *base;
    int rc;
} ctl_rpc_run_t;

static void ctl_rpc_usage(void)
{
    fprintf(stderr, "usage: ctl_rpc HOST:PORT ping | create TOPIC P RF [k=v]... | "
                    "delete TOPIC [TIMEOUT_MS] | describe [TOPIC]... | cluster | "
                    "isr TOPIC P BROKER BROKER_EPOCH LEADER_EPOCH PARTITION_EPOCH ISR\n");
}

static void ctl_rpc_print_ids(const char *label, const int32_t *v, size_t n)
{
    printf(" %s=[", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int)v[i]);
    printf("]");
}

static int ctl_rpc_print_describe(const Samsa__DescribeTopicsResponse *r)
{
    int rc = r->error_code != 0;
    char id[SM_UUID_STR_SIZE];

    if (r->error_code != 0)
        printf("error %d %s\n", (int)r->error_code, r->error_message ? r->error_message : "");
    for (size_t i = 0; i < r->n_topics; i++) {
        const Samsa__DescribedTopic *t = r->topics[i];
        sm_uuid_t u = SM_UUID_ZERO;

        if (t->error_code != 0) {
            printf("error %d %s %s\n", (int)t->error_code, t->name,
                   t->error_message ? t->error_message : "");
            rc = 1;
            continue;
        }
        if (t->topic_id.len == 16)
            memcpy(u.b, t->topic_id.data, 16);
        sm_uuid_format(&u, id);
        printf("ok topic=%s id=%s partitions=%zu deleting=%d\n", t->name, id, t->n_partitions,
               (int)t->marked_for_deletion);
        for (size_t p = 0; p < t->n_partitions; p++) {
            const Samsa__DescribedPartition *d = t->partitions[p];

            printf("ok   %s-%d leader=%d epoch=%d", t->name, (int)d->partition, (int)d->leader,
                   (int)d->leader_epoch);
            ctl_rpc_print_ids("replicas", d->replicas, d->n_replicas);
            ctl_rpc_print_ids("isr", d->isr, d->n_isr);
            ctl_rpc_print_ids("offline", d->offline_replicas, d->n_offline_replicas);
            printf("\n");
        }
    }
    return rc;
}

static int ctl_rpc_print(const Samsa__Envelope *resp)
{
    int rc = 0;

    switch (resp->payload_case) {
    case SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE:
        printf("ok pong from %d\n", (int)resp->ping_response->server_id);
        return 0;
    case SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE: {
        const Samsa__CreateTopicsResponse *r = resp->create_topics_response;

        rc = r->error_code != 0;
        if (r->error_code != 0)
            printf("error %d %s\n", (int)r->error_code, r->error_message ? r->error_message : "");
        for (size_t i = 0; i < r->n_topics; i++) {
            const Samsa__CreatableTopicResult *t = r->topics[i];

            if (t->error_code != 0)
                rc = 1;
            printf("%s %d %s %s\n", t->error_code ? "error" : "ok", (int)t->error_code, t->name,
                   t->error_message ? t->error_message : "");
        }
        return rc;
    }
    case SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_RESPONSE: {
        const Samsa__DeleteTopicsResponse *r = resp->delete_topics_response;

        rc = r->error_code != 0;
        if (r->error_code != 0)
            printf("error %d %s\n", (int)r->error_code, r->error_message ? r->error_message : "");
        for (size_t i = 0; i < r->n_topics; i++) {
            const Samsa__DeletableTopicResult *t = r->topics[i];

            if (t->error_code != 0)
                rc = 1;
            printf("%s %d %s %s\n", t->error_code ? "error" : "ok", (int)t->error_code, t->name,
                   t->error_message ? t->error_message : "");
        }
        return rc;
    }
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_RESPONSE:
        return ctl_rpc_print_describe(resp->describe_topics_response);
    case SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_RESPONSE: {
        const Samsa__DescribeClusterResponse *r = resp->describe_cluster_response;

        if (r->error_code != 0) {
            printf("error %d %s\n", (int)r->error_code, r->error_message ? r->error_message : "");
            return 1;
        }
        printf("ok cluster=%s controller=%d epoch=%d brokers=%zu\n",
               r->cluster_id ? r->cluster_id : "-", (int)r->controller_id, (int)r->controller_epoch,
               r->n_brokers);
        for (size_t i = 0; i < r->n_brokers; i++)
            printf("ok   broker %d epoch %lld\n", (int)r->brokers[i]->broker_id,
                   (long long)r->brokers[i]->broker_epoch);
        return 0;
    }
    case SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE: {
        const Samsa__AlterIsrResponse *r = resp->alter_isr_response;

        rc = r->error_code != 0;
        if (r->error_code != 0)
            printf("error %d %s\n", (int)r->error_code, r->error_message ? r->error_message : "");
        for (size_t t = 0; t < r->n_topics; t++) {
            for (size_t i = 0; i < r->topics[t]->n_partitions; i++) {
                const Samsa__AlterIsrPartitionResult *p = r->topics[t]->partitions[i];

                rc |= p->error_code != 0;
                printf("%s %d %s-%d leader=%d epoch=%d partition_epoch=%d",
                       p->error_code ? "error" : "ok", (int)p->error_code, r->topics[t]->topic,
                       (int)p->partition, (int)p->leader, (int)p->leader_epoch,
                       (int)p->partition_epoch);
                ctl_rpc_print_ids("isr", p->isr, p->n_isr);
                printf(" %s\n", p->error_message ? p->error_message : "");
            }
        }
        return rc;
    }
    case SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE:
        printf("error %d %s\n", (int)resp->error_response->error_code,
               resp->error_response->error_message ? resp->error_response->error_message : "");
        return 1;
    default:
        printf("error -1 unexpected answer %s\n", sm_rpc_payload_name(resp));
        return 1;
    }
}

static void ctl_rpc_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    ctl_rpc_run_t *run = arg;

    if (err != SM_OK) {
        printf("error -1 no answer: %s\n", sm_err_str(err));
        run->rc = 1;
    } else {
        run->rc = ctl_rpc_print(resp);
    }
    event_base_loopbreak(run->base);
}

/* Fills env for argv[2..]; returns 0, or 2 on bad usage. Allocations go to the arrays given. */
static int ctl_rpc_build(int argc, char **argv, Samsa__Envelope *env, void **keep)
{
    const char *cmd = argv[2];

    if (strcmp(cmd, "ping") == 0) {
        Samsa__PingRequest *p = keep[0] = calloc(1, sizeof(*p));

        samsa__ping_request__init(p);
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
        env->ping_request = p;
    } else if (strcmp(cmd, "create") == 0 && argc >= 6) {
        Samsa__CreateTopicsRequest *r = keep[0] = calloc(1, sizeof(*r));
        Samsa__CreatableTopic *t = keep[1] = calloc(1, sizeof(*t));
        Samsa__CreatableTopic **tp = keep[2] = calloc(1, sizeof(*tp));
        Samsa__ConfigEntry *ce = keep[3] = calloc((size_t)argc, sizeof(*ce));
        Samsa__ConfigEntry **cp = keep[4] = calloc((size_t)argc, sizeof(*cp));

        samsa__create_topics_request__init(r);
        samsa__creatable_topic__init(t);
        t->name = argv[3];
        t->has_num_partitions = t->has_replication_factor = 1;
        t->num_partitions = atoi(argv[4]);
        t->replication_factor = atoi(argv[5]);
        for (int i = 6; i < argc; i++) {
            char *eq = strchr(argv[i], '=');

            if (eq == NULL)
                return 2;
            *eq = '\0';
            samsa__config_entry__init(&ce[t->n_configs]);
            ce[t->n_configs].name = argv[i];
            ce[t->n_configs].value = eq + 1;
            cp[t->n_configs] = &ce[t->n_configs];
            t->n_configs++;
        }
        t->configs = cp;
        tp[0] = t;
        r->n_topics = 1;
        r->topics = tp;
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_REQUEST;
        env->create_topics_request = r;
    } else if (strcmp(cmd, "delete") == 0 && argc >= 4) {
        Samsa__DeleteTopicsRequest *r = keep[0] = calloc(1, sizeof(*r));

        samsa__delete_topics_request__init(r);
        r->n_topic_names = 1;
        r->topic_names = &argv[3];
        r->has_timeout_ms = argc >= 5;
        r->timeout_ms = argc >= 5 ? atoi(argv[4]) : 0;
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_DELETE_TOPICS_REQUEST;
        env->delete_topics_request = r;
    } else if (strcmp(cmd, "describe") == 0) {
        Samsa__DescribeTopicsRequest *r = keep[0] = calloc(1, sizeof(*r));

        samsa__describe_topics_request__init(r);
        r->n_topic_names = (size_t)(argc - 3);
        r->topic_names = &argv[3];
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_TOPICS_REQUEST;
        env->describe_topics_request = r;
    } else if (strcmp(cmd, "isr") == 0 && argc == 10) {
        Samsa__AlterIsrRequest *r = keep[0] = calloc(1, sizeof(*r));
        Samsa__AlterIsrTopic *t = keep[1] = calloc(1, sizeof(*t) + sizeof(t));
        Samsa__AlterIsrPartition *p = keep[2] = calloc(1, sizeof(*p) + sizeof(p));
        int32_t *isr = keep[3] = calloc(64, sizeof(*isr));
        char *tok, *save = NULL;

        samsa__alter_isr_request__init(r);
        samsa__alter_isr_topic__init(t);
        samsa__alter_isr_partition__init(p);
        p->has_partition = p->has_leader_epoch = p->has_partition_epoch = 1;
        p->partition = atoi(argv[4]);
        p->leader_epoch = atoi(argv[7]);
        p->partition_epoch = atoi(argv[8]);
        for (tok = strtok_r(argv[9], ",", &save); tok != NULL && p->n_new_isr < 64;
             tok = strtok_r(NULL, ",", &save))
            isr[p->n_new_isr++] = atoi(tok);
        p->new_isr = isr;
        *(Samsa__AlterIsrPartition **)(p + 1) = p;
        t->topic = argv[3];
        t->n_partitions = 1;
        t->partitions = (Samsa__AlterIsrPartition **)(p + 1);
        *(Samsa__AlterIsrTopic **)(t + 1) = t;
        r->has_broker_id = 1;
        r->broker_id = atoi(argv[5]);
        r->n_topics = 1;
        r->topics = (Samsa__AlterIsrTopic **)(t + 1);
        env->has_sender_id = env->has_broker_epoch = 1;
        env->sender_id = r->broker_id;
        env->broker_epoch = atoll(argv[6]);
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST;
        env->alter_isr_request = r;
    } else if (strcmp(cmd, "cluster") == 0) {
        Samsa__DescribeClusterRequest *r = keep[0] = calloc(1, sizeof(*r));

        samsa__describe_cluster_request__init(r);
        env->payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_REQUEST;
        env->describe_cluster_request = r;
    } else {
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    ctl_rpc_run_t run = {.rc = 1};
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    sm_rpc_client_t *client = NULL;
    void *keep[5] = {NULL};
    char host[256];
    char *colon;
    long port;

    signal(SIGPIPE, SIG_IGN);
    sm_log_init("ctl_rpc", SM_LOG_WARN);
    if (argc < 3 || (colon = strrchr(argv[1], ':')) == NULL ||
        (size_t)(colon - argv[1]) >= sizeof(host) || (port = atol(colon + 1)) <= 0 ||
        port > 65535 || ctl_rpc_build(argc, argv, &env, keep) != 0) {
        ctl_rpc_usage();
        run.rc = 2;
        goto out;
    }
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = '\0';
    run.base = event_base_new();
    if (run.base == NULL ||
        sm_rpc_client_new(run.base, host, (uint16_t)port, NULL, &client) != SM_OK ||
        sm_rpc_client_call(client, &env, 10000, ctl_rpc_done, &run) != SM_OK) {
        printf("error -1 cannot send\n");
        goto out;
    }
    event_base_dispatch(run.base);
out:
    sm_rpc_client_free(client);
    if (run.base != NULL)
        event_base_free(run.base);
    for (size_t i = 0; i < 5; i++)
        free(keep[i]);
    return run.rc;
}
