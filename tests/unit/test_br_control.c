/*
 * Unit tests for br_control: the control handlers driven directly with constructed protobuf
 * requests, against a real br_logmgr in a scratch directory (no flusher: deletions happen at
 * once) and a real br_metacache. Covers fencing (controller epoch, broker epoch, leader
 * epoch), LeaderAndIsr creating logs, partition.metadata and leader epochs, UpdateMetadata
 * cleaning stale logs after a full update, StopReplica, Ping, and that every reply packs.
 */
#include "broker/br_control.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "broker/br_epoch.h"
#include "sm_log.h"
#include "storage_fixture.h"

#define ME      1
#define EPOCH   0x100 /* our broker epoch (czxid) */
#define MAXP    8
#define TOPIC_A 0xa1
#define TOPIC_B 0xb2

static char dir[256];
static br_logmgr_t *lm;
static br_metacache_t *mc;
static br_control_t *ctl;
static br_control_reply_t R;
static bool have_reply;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void open_all(void)
{
    const char *dirs[1] = {dir};
    br_logmgr_config_t cfg = {.dirs = dirs, .ndirs = 1, .broker_id = ME, .cluster_id = "ctest"};
    br_control_config_t cc = {.broker_id = ME};
    sm_errbuf_t eb = {{0}};

    br_log_config_defaults(&cfg.log);
    cfg.log.segment_bytes = 64 * 1024;
    cr_assert_eq(br_logmgr_open(&cfg, now_ms(), &lm, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    cc.logmgr = lm;
    cc.metacache = mc;
    cr_assert_eq(br_control_new(&cc, &ctl, &eb), SM_OK, "%s", eb.msg);
    br_control_set_broker_epoch(ctl, EPOCH);
}

static void close_all(void)
{
    if (have_reply)
        br_control_reply_deinit(&R);
    have_reply = false;
    br_control_free(ctl);
    br_metacache_free(mc);
    br_logmgr_close(lm, true, now_ms(), NULL);
    ctl = NULL;
    mc = NULL;
    lm = NULL;
}

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
    fx_mkdtemp(dir, sizeof(dir), "br_control");
    open_all();
}

static void teardown(void)
{
    close_all();
    fx_rmtree(dir);
}

TestSuite(br_control, .init = setup, .fini = teardown);

/* ---- request builders (storage in statics; one request at a time) --------------------------- */

static Samsa__Envelope env;
static uint8_t topic_id[16];

static Samsa__LeaderAndIsrRequest lai;
static Samsa__LeaderAndIsrTopicState lai_ts, *lai_tsp[1];
static Samsa__LeaderAndIsrPartitionState lai_ps[MAXP], *lai_psp[MAXP];
static int32_t lai_replicas[MAXP][3];

static Samsa__UpdateMetadataRequest um;
static Samsa__UpdateMetadataTopicState um_ts, *um_tsp[1];
static Samsa__UpdateMetadataPartitionState um_ps, *um_psp[1];
static int32_t um_replicas[1] = {ME};

static Samsa__StopReplicaRequest sr;
static Samsa__StopReplicaTopicState sr_ts, *sr_tsp[1];
static Samsa__StopReplicaPartitionState sr_ps, *sr_psp[1];

static void env_init(int32_t ce, int64_t be)
{
    samsa__envelope__init(&env);
    env.has_controller_epoch = true;
    env.controller_epoch = ce;
    env.has_broker_epoch = true;
    env.broker_epoch = be;
    env.has_sender_id = true;
    env.sender_id = 9;
}

static void set_topic_id(uint8_t b)
{
    memset(topic_id, b, sizeof(topic_id));
}

/* LeaderAndIsr for `topic` (id byte idb) with no partition yet. */
static void lai_begin(int32_t ce, int64_t be, const char *topic, uint8_t idb)
{
    env_init(ce, be);
    samsa__leader_and_isr_request__init(&lai);
    samsa__leader_and_isr_topic_state__init(&lai_ts);
    set_topic_id(idb);
    lai_ts.topic = (char *)topic;
    lai_ts.has_topic_id = idb != 0;
    lai_ts.topic_id.data = topic_id;
    lai_ts.topic_id.len = sizeof(topic_id);
    lai_ts.partitions = lai_psp;
    lai_tsp[0] = &lai_ts;
    lai.n_topic_states = 1;
    lai.topic_states = lai_tsp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST;
    env.leader_and_isr_request = &lai;
}

/* Adds a partition with replicas {r0, r1} led by leader at leader_epoch. */
static void lai_part(int32_t p, int32_t leader, int32_t epoch, int32_t r0, int32_t r1)
{
    size_t i = lai_ts.n_partitions++;
    Samsa__LeaderAndIsrPartitionState *ps = &lai_ps[i];

    samsa__leader_and_isr_partition_state__init(ps);
    ps->has_partition = true;
    ps->partition = p;
    ps->has_leader = true;
    ps->leader = leader;
    ps->has_leader_epoch = true;
    ps->leader_epoch = epoch;
    lai_replicas[i][0] = r0;
    lai_replicas[i][1] = r1;
    ps->n_replicas = 2;
    ps->replicas = lai_replicas[i];
    ps->n_isr = 2;
    ps->isr = lai_replicas[i];
    lai_psp[i] = ps;
}

/* UpdateMetadata naming one topic (NULL: none) with one partition led by ME. */
static void um_build(int32_t ce, int64_t be, bool full, const char *topic, uint8_t idb)
{
    env_init(ce, be);
    samsa__update_metadata_request__init(&um);
    um.has_full = true;
    um.full = full;
    if (topic != NULL) {
        samsa__update_metadata_topic_state__init(&um_ts);
        samsa__update_metadata_partition_state__init(&um_ps);
        set_topic_id(idb);
        um_ts.topic = (char *)topic;
        um_ts.has_topic_id = idb != 0;
        um_ts.topic_id.data = topic_id;
        um_ts.topic_id.len = sizeof(topic_id);
        um_ps.has_partition = true;
        um_ps.partition = 0;
        um_ps.has_leader = true;
        um_ps.leader = ME;
        um_ps.n_replicas = 1;
        um_ps.replicas = um_replicas;
        um_psp[0] = &um_ps;
        um_ts.n_partitions = 1;
        um_ts.partitions = um_psp;
        um_tsp[0] = &um_ts;
        um.n_topic_states = 1;
        um.topic_states = um_tsp;
    }
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_REQUEST;
    env.update_metadata_request = &um;
}

static void sr_build(int32_t ce, int64_t be, const char *topic, int32_t p, int32_t epoch, bool del)
{
    env_init(ce, be);
    samsa__stop_replica_request__init(&sr);
    samsa__stop_replica_topic_state__init(&sr_ts);
    samsa__stop_replica_partition_state__init(&sr_ps);
    sr_ps.has_partition = true;
    sr_ps.partition = p;
    sr_ps.has_leader_epoch = true;
    sr_ps.leader_epoch = epoch;
    sr_ps.has_delete_partition = true;
    sr_ps.delete_partition = del;
    sr_psp[0] = &sr_ps;
    sr_ts.topic = (char *)topic;
    sr_ts.n_partitions = 1;
    sr_ts.partitions = sr_psp;
    sr_tsp[0] = &sr_ts;
    sr.n_topic_states = 1;
    sr.topic_states = sr_tsp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_REQUEST;
    env.stop_replica_request = &sr;
}

/* Handles env into R (releasing the previous reply) and checks that R packs and unpacks. */
static void handle(void)
{
    Samsa__Envelope *back;
    uint8_t *buf;
    size_t n;

    if (have_reply)
        br_control_reply_deinit(&R);
    br_control_handle(ctl, &env, now_ms(), &R);
    have_reply = true;
    n = samsa__envelope__get_packed_size(&R.env);
    buf = malloc(n > 0 ? n : 1);
    cr_assert_not_null(buf);
    samsa__envelope__pack(&R.env, buf);
    back = samsa__envelope__unpack(NULL, n, buf);
    free(buf);
    cr_assert_not_null(back, "the reply packs into a valid Envelope");
    samsa__envelope__free_unpacked(back, NULL);
}

static int32_t lai_code(void)
{
    cr_assert_eq(R.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE);
    return R.env.leader_and_isr_response->error_code;
}

static int32_t lai_part_code(size_t i)
{
    cr_assert_eq(lai_code(), 0);
    cr_assert_gt(R.env.leader_and_isr_response->n_partition_errors, i);
    return R.env.leader_and_isr_response->partition_errors[i]->error_code;
}

static bool part_dir_exists(const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void read_file(const char *rel, char *buf, size_t cap)
{
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s exists", path);
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Makes A-0 exist as the leader at epoch 2 (controller epoch 1). */
static void make_a0(void)
{
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 2, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(br_control, ping_is_answered_with_the_broker_id_without_fencing)
{
    Samsa__PingRequest ping = SAMSA__PING_REQUEST__INIT;

    br_control_set_broker_epoch(ctl, -1);
    env_init(-1, -1);
    ping.has_seq = true;
    ping.seq = 42;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_PING_REQUEST;
    env.ping_request = &ping;
    handle();
    cr_assert_eq(R.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_PING_RESPONSE);
    cr_assert_eq(R.env.ping_response->seq, 42);
    cr_assert_eq(R.env.ping_response->server_id, ME);
    cr_assert_eq(R.env.ping_response->error_code, 0);
}

Test(br_control, leader_and_isr_creates_the_log_and_partition_metadata)
{
    char text[256];
    br_partition_t *p;
    br_epoch_t *ec;

    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 3, ME, 2);
    lai_part(1, 2, 5, 2, ME);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert_eq(lai_part_code(1), 0);
    cr_assert_str_eq(R.env.leader_and_isr_response->partition_errors[1]->topic, "A");
    cr_assert_eq(R.env.leader_and_isr_response->partition_errors[1]->partition, 1);
    cr_assert(part_dir_exists("A-0"));
    cr_assert(part_dir_exists("A-1"));
    cr_assert_not_null(br_logmgr_get(lm, "A", 0));
    read_file("A-0/partition.metadata", text, sizeof(text));
    cr_assert_str_eq(text, "version: 0\ntopic_id: oaGhoaGhoaGhoaGhoaGhoQ\n");

    p = br_partition_get(br_control_partitions(ctl), "A", 0);
    cr_assert_not_null(p);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_LEADER);
    cr_assert_eq(br_partition_leader_epoch(p), 3);
    cr_assert_eq(br_partition_topic_id(p)->b[0], TOPIC_A);
    p = br_partition_get(br_control_partitions(ctl), "A", 1);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_FOLLOWER);
    cr_assert_eq(br_partition_leader(p), 2);

    ec = br_logmgr_epochs(lm, "A", 0);
    cr_assert_not_null(ec);
    cr_assert_eq(br_epoch_latest(ec), 3, "a new leader records its epoch start");
    cr_assert_eq(br_epoch_latest_start(ec), 0);
    cr_assert_eq(br_epoch_count(br_logmgr_epochs(lm, "A", 1)), 0, "a follower records none");
    cr_assert_eq(br_control_controller_epoch(ctl), 1);
}

Test(br_control, leader_and_isr_with_a_stale_controller_epoch_is_refused)
{
    make_a0();
    lai_begin(3, EPOCH, "B", TOPIC_B);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), 0);
    lai_begin(2, EPOCH, "C", TOPIC_B);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_CONTROLLER_EPOCH);
    cr_assert_not_null(R.env.leader_and_isr_response->error_message);
    cr_assert_eq(R.env.leader_and_isr_response->n_partition_errors, 0);
    cr_assert_not(part_dir_exists("C-0"), "nothing applied");
    cr_assert_eq(br_control_controller_epoch(ctl), 3);
}

Test(br_control, requests_for_another_broker_epoch_are_refused)
{
    lai_begin(1, EPOCH - 1, "A", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_BROKER_EPOCH);
    lai_begin(1, EPOCH + 1, "A", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_BROKER_EPOCH, "a newer epoch is refused too");
    cr_assert_not(part_dir_exists("A-0"));
    cr_assert_eq(br_control_controller_epoch(ctl), -1, "a refused request raises nothing");

    um_build(1, EPOCH - 1, true, NULL, 0);
    handle();
    cr_assert_eq(R.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_UPDATE_METADATA_RESPONSE);
    cr_assert_eq(R.env.update_metadata_response->error_code, BR_CONTROL_E_STALE_BROKER_EPOCH);
    sr_build(1, 5, "A", 0, -1, true);
    handle();
    cr_assert_eq(R.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE);
    cr_assert_eq(R.env.stop_replica_response->error_code, BR_CONTROL_E_STALE_BROKER_EPOCH);
}

Test(br_control, everything_is_refused_while_unregistered)
{
    br_control_set_broker_epoch(ctl, -1);
    lai_begin(1, -1, "A", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_BROKER_EPOCH);
    cr_assert_not(part_dir_exists("A-0"));
}

Test(br_control, older_leader_epoch_is_fenced_per_partition_and_equal_reapplies)
{
    make_a0();
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 1, ME, 2);
    lai_part(1, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), BR_CONTROL_E_FENCED_LEADER_EPOCH);
    cr_assert_not_null(R.env.leader_and_isr_response->partition_errors[0]->error_message);
    cr_assert_eq(lai_part_code(1), 0, "the other partition is applied");
    cr_assert_eq(br_partition_leader_epoch(br_partition_get(br_control_partitions(ctl), "A", 0)),
                 2);

    /* Same epoch, new replica set: applied again; the epoch cache keeps its start. */
    lai_begin(2, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 2, ME, 3);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert_eq(br_epoch_count(br_logmgr_epochs(lm, "A", 0)), 1);
}

Test(br_control, partition_not_replicated_here_is_refused)
{
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, 2, 0, 2, 3);
    handle();
    cr_assert_eq(lai_part_code(0), BR_CONTROL_E_UNKNOWN_TOPIC_OR_PARTITION);
    cr_assert_not(part_dir_exists("A-0"));
}

Test(br_control, leader_and_isr_with_another_topic_id_is_refused)
{
    make_a0();
    lai_begin(1, EPOCH, "A", TOPIC_B);
    lai_part(0, ME, 4, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), BR_CONTROL_E_INCONSISTENT_TOPIC_ID);
}

Test(br_control, full_update_metadata_deletes_logs_of_unknown_topics)
{
    make_a0();
    lai_begin(1, EPOCH, "B", TOPIC_B);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert(part_dir_exists("B-0"));

    um_build(1, EPOCH, true, "A", TOPIC_A);
    handle();
    cr_assert_eq(R.env.update_metadata_response->error_code, 0);
    cr_assert(part_dir_exists("A-0"), "a known topic stays");
    cr_assert_not(part_dir_exists("B-0"), "an unknown topic goes");
    cr_assert_null(br_logmgr_get(lm, "B", 0));
    cr_assert_null(br_partition_get(br_control_partitions(ctl), "B", 0));
    cr_assert_not_null(br_metacache_topic(mc, "A"));
}

Test(br_control, full_update_metadata_deletes_a_log_whose_topic_id_differs)
{
    make_a0();
    um_build(1, EPOCH, true, "A", TOPIC_B);
    handle();
    cr_assert_eq(R.env.update_metadata_response->error_code, 0);
    cr_assert_not(part_dir_exists("A-0"));
    /* The topic of that name (new id) can now be hosted again. */
    lai_begin(1, EPOCH, "A", TOPIC_B);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert(part_dir_exists("A-0"));
}

Test(br_control, partial_update_metadata_deletes_nothing)
{
    make_a0();
    um_build(1, EPOCH, false, "Z", TOPIC_B);
    handle();
    cr_assert_eq(R.env.update_metadata_response->error_code, 0);
    cr_assert(part_dir_exists("A-0"));
    cr_assert_not_null(br_metacache_topic(mc, "Z"));
}

Test(br_control, full_update_after_restart_uses_the_topic_id_on_disk)
{
    make_a0();
    close_all();
    open_all();
    cr_assert_eq(br_partition_topic_id(br_partition_get(br_control_partitions(ctl), "A", 0))->b[0],
                 TOPIC_A, "partition.metadata is loaded at start");
    cr_assert_eq(br_partition_role(br_partition_get(br_control_partitions(ctl), "A", 0)),
                 BR_PARTITION_NONE);
    um_build(1, EPOCH, true, "A", TOPIC_B);
    handle();
    cr_assert_not(part_dir_exists("A-0"), "deleted while the topic was recreated");
}

Test(br_control, stop_replica_with_delete_removes_the_directory)
{
    make_a0();
    sr_build(1, EPOCH, "A", 0, 2, true);
    handle();
    cr_assert_eq(R.env.stop_replica_response->error_code, 0);
    cr_assert_eq(R.env.stop_replica_response->n_partition_errors, 1);
    cr_assert_eq(R.env.stop_replica_response->partition_errors[0]->error_code, 0);
    cr_assert_not(part_dir_exists("A-0"));
    cr_assert_null(br_logmgr_get(lm, "A", 0));
    cr_assert_null(br_partition_get(br_control_partitions(ctl), "A", 0));

    sr_build(1, EPOCH, "A", 0, -2, true);
    handle();
    cr_assert_eq(R.env.stop_replica_response->partition_errors[0]->error_code, 0,
                 "deleting what is gone is fine");
}

Test(br_control, stop_replica_without_delete_keeps_the_log)
{
    make_a0();
    sr_build(1, EPOCH, "A", 0, 2, false);
    handle();
    cr_assert_eq(R.env.stop_replica_response->partition_errors[0]->error_code, 0);
    cr_assert(part_dir_exists("A-0"));
    cr_assert_eq(br_partition_role(br_partition_get(br_control_partitions(ctl), "A", 0)),
                 BR_PARTITION_NONE);
}

Test(br_control, stop_replica_with_an_older_leader_epoch_is_fenced)
{
    make_a0();
    sr_build(1, EPOCH, "A", 0, 1, true);
    handle();
    cr_assert_eq(R.env.stop_replica_response->partition_errors[0]->error_code,
                 BR_CONTROL_E_FENCED_LEADER_EPOCH);
    cr_assert(part_dir_exists("A-0"));
    sr_build(1, EPOCH, "A", 0, -2, true);
    handle();
    cr_assert_eq(R.env.stop_replica_response->partition_errors[0]->error_code, 0,
                 "-2 (topic being deleted) skips the epoch check");
    cr_assert_not(part_dir_exists("A-0"));
}

Test(br_control, unknown_request_gets_an_error_response)
{
    Samsa__DescribeClusterRequest dc = SAMSA__DESCRIBE_CLUSTER_REQUEST__INIT;

    env_init(1, EPOCH);
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_DESCRIBE_CLUSTER_REQUEST;
    env.describe_cluster_request = &dc;
    handle();
    cr_assert_eq(R.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE);
    cr_assert_eq(R.env.error_response->error_code, BR_CONTROL_E_UNSUPPORTED_VERSION);
}

Test(br_control, malformed_topic_state_is_refused_per_partition)
{
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_ts.topic_id.len = 3;
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), BR_CONTROL_E_INVALID_REQUEST);
    lai_begin(1, EPOCH, "bad/name", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), BR_CONTROL_E_INVALID_TOPIC);
}

Test(br_control, new_leader_epoch_starts_at_the_log_end)
{
    make_a0();
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, 2, 3, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert_eq(br_partition_role(br_partition_get(br_control_partitions(ctl), "A", 0)),
                 BR_PARTITION_FOLLOWER);
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 4, ME, 2);
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert_eq(br_epoch_latest(br_logmgr_epochs(lm, "A", 0)), 4);
    cr_assert_eq(br_epoch_count(br_logmgr_epochs(lm, "A", 0)), 1,
                 "epochs without writes replace each other at the same start offset");
}

Test(br_control, same_epoch_with_an_older_partition_epoch_keeps_the_newer_isr)
{
    br_partition_t *p;
    size_t n;
    const int32_t isr1[] = {ME};

    make_a0();
    p = br_partition_get(br_control_partitions(ctl), "A", 0);
    /* An AlterIsr answer moved the ISR to {ME} at partition epoch 7 ... */
    cr_assert_eq(br_partition_set_isr(p, isr1, 1, 7), SM_OK);
    /* ... and a LeaderAndIsr of the same leader epoch but partition epoch 5 arrives late. */
    lai_begin(2, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, br_partition_leader_epoch(p), ME, 2);
    lai_ps[0].has_partition_epoch = true;
    lai_ps[0].partition_epoch = 5;
    handle();
    cr_assert_eq(lai_part_code(0), 0);
    cr_assert_eq(br_partition_partition_epoch(p), 7);
    cr_assert_eq(br_partition_isr(p, &n)[0], ME);
    cr_assert_eq(n, 1, "the ISR was not rolled back to {ME, 2}");
}

Test(br_control, unregistered_broker_takes_a_newer_epoch_as_its_registration_in_flight)
{
    br_control_set_broker_epoch(ctl, -1); /* session lost after EPOCH */
    lai_begin(1, EPOCH, "A", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_BROKER_EPOCH, "the lost epoch stays refused");

    /* The controller saw our new registration before ZooKeeper answered us. */
    lai_begin(1, EPOCH + 5, "A", TOPIC_A);
    lai_part(0, ME, 0, ME, 2);
    handle();
    cr_assert_eq(lai_code(), 0);
    cr_assert_eq(br_control_broker_epoch(ctl), EPOCH + 5);
    cr_assert(part_dir_exists("A-0"));
    br_control_set_broker_epoch(ctl, EPOCH + 5); /* ZooKeeper's answer agrees */
    lai_begin(2, EPOCH + 4, "A", TOPIC_A);
    lai_part(0, ME, 1, ME, 2);
    handle();
    cr_assert_eq(lai_code(), BR_CONTROL_E_STALE_BROKER_EPOCH);
}
