/*
 * Unit tests for br_replica, the leader side of replication: a real br_logmgr in a scratch
 * directory, a real br_control fed LeaderAndIsr envelopes (br_control_handle), a real
 * br_purgatory and event_base, and a stand-in for the control client (cfg.send) that records
 * every AlterIsr proposal and lets the test answer it. Covers the high watermark (waits for
 * every ISR follower of the epoch, min LEO, only forward, frozen below min.insync.replicas),
 * ISR shrink by the lag timer and expansion by follower fetches (maximal ISR, one proposal in
 * flight, answers of an older epoch ignored), acks=all admission and completion (woken
 * through the purgatory), follower fetches from unknown replicas, StopReplica, and a follower
 * Fetch v11 through the real Fetch handler (br_kafka + br_api_data over a socketpair).
 */
#include "broker/br_replica.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_api_data.h"
#include "broker/br_epoch.h"
#include "broker/br_kafka.h"
#include "sm_log.h"
#include "storage_fixture.h"

#define ME       1
#define BEPOCH   0x100 /* our broker epoch (czxid) */
#define MAXCALLS 16
#define MAXISR   8

static struct event_base *base;
static char dir[256];
static br_logmgr_t *lm;
static br_metacache_t *mc;
static br_control_t *ctl;
static br_purgatory_t *pg;
static br_replica_t *rm;
static br_kafka_t *kafka; /* only for the tests through the Fetch handler */
static br_api_data_t *api;
static int client_fd = -1;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the control client stand-in ------------------------------------------------------------ */

/* One AlterIsr proposal as the stand-in saw it. */
typedef struct call {
    char topic[64];
    int32_t partition;
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t broker_id;
    int64_t broker_epoch;
    int32_t isr[MAXISR];
    size_t n_isr;
    sm_rpc_done_fn done;
    void *arg;
    bool answered;
} call_t;

static call_t calls[MAXCALLS];
static size_t n_calls;

/* What went wrong inside a callback (the stand-in, the loop's poll): a callback never asserts,
 * so that a failure cannot jump over the code that frees what it holds; the test checks this. */
static const char *cb_error;

static sm_err_t stub_send(void *arg, Samsa__Envelope *req, uint32_t timeout_ms, sm_rpc_done_fn done,
                          void *done_arg)
{
    call_t *c;
    const Samsa__AlterIsrRequest *r;
    const Samsa__AlterIsrPartition *pp;

    (void)arg;
    (void)timeout_ms;
    if (n_calls >= MAXCALLS || req->payload_case != SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST ||
        req->alter_isr_request->n_topics != 1 ||
        req->alter_isr_request->topics[0]->n_partitions != 1 ||
        req->alter_isr_request->topics[0]->partitions[0]->n_new_isr > MAXISR) {
        cb_error = "not one AlterIsr proposal for one partition (or too many calls)";
        return SM_ERR_INVALID; /* br_replica_propose undoes it */
    }
    r = req->alter_isr_request;
    pp = r->topics[0]->partitions[0];
    c = &calls[n_calls++];
    memset(c, 0, sizeof(*c));
    snprintf(c->topic, sizeof(c->topic), "%s", r->topics[0]->topic);
    c->partition = pp->partition;
    c->leader_epoch = pp->leader_epoch;
    c->partition_epoch = pp->partition_epoch;
    c->broker_id = r->broker_id;
    c->broker_epoch = req->broker_epoch;
    memcpy(c->isr, pp->new_isr, pp->n_new_isr * sizeof(*c->isr));
    c->n_isr = pp->n_new_isr;
    c->done = done;
    c->arg = done_arg;
    return SM_OK;
}

/* Answers call i: top-level and partition error codes, and the state the controller stored. */
static void answer_full(size_t i, int32_t top_err, int32_t part_err, int32_t leader_epoch,
                        const int32_t *isr, size_t n, int32_t partition_epoch)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterIsrResponse r = SAMSA__ALTER_ISR_RESPONSE__INIT;
    Samsa__AlterIsrTopicResult tr = SAMSA__ALTER_ISR_TOPIC_RESULT__INIT;
    Samsa__AlterIsrPartitionResult pr = SAMSA__ALTER_ISR_PARTITION_RESULT__INIT;
    Samsa__AlterIsrTopicResult *trp = &tr;
    Samsa__AlterIsrPartitionResult *prp = &pr;
    call_t *c = &calls[i];

    cr_assert_null(cb_error, "%s", cb_error);
    cr_assert_lt(i, n_calls);
    cr_assert(!c->answered, "call %zu answered once", i);
    pr.has_partition = pr.has_error_code = pr.has_leader = pr.has_leader_epoch = 1;
    pr.has_partition_epoch = 1;
    pr.partition = c->partition;
    pr.error_code = part_err;
    pr.leader = ME;
    pr.leader_epoch = leader_epoch;
    pr.isr = (int32_t *)isr;
    pr.n_isr = n;
    pr.partition_epoch = partition_epoch;
    tr.topic = c->topic;
    tr.n_partitions = 1;
    tr.partitions = &prp;
    r.has_error_code = 1;
    r.error_code = top_err;
    if (top_err == 0) {
        r.n_topics = 1;
        r.topics = &trp;
    }
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE;
    env.alter_isr_response = &r;
    c->answered = true;
    c->done(c->arg, SM_OK, &env);
}

/* Accepts call i as proposed, with partition epoch + 1. */
static void answer_ok(size_t i)
{
    answer_full(i, 0, 0, calls[i].leader_epoch, calls[i].isr, calls[i].n_isr,
                calls[i].partition_epoch + 1);
}

static bool call_isr_is(size_t i, const int32_t *isr, size_t n)
{
    return calls[i].n_isr == n && memcmp(calls[i].isr, isr, n * sizeof(*isr)) == 0;
}

/* ---- fixture -------------------------------------------------------------------------------- */

static void setup(void)
{
    const char *dirs[1];
    br_logmgr_config_t lc = {0};
    br_control_config_t cc = {.broker_id = ME};
    sm_errbuf_t eb = {{0}};

    sm_log_init("test", SM_LOG_ERROR);
    n_calls = 0;
    memset(calls, 0, sizeof(calls));
    cb_error = NULL;
    base = event_base_new();
    cr_assert_not_null(base);
    fx_mkdtemp(dir, sizeof(dir), "test_br_replica");
    dirs[0] = dir;
    lc.dirs = dirs;
    lc.ndirs = 1;
    lc.broker_id = ME;
    lc.cluster_id = "rtest";
    br_log_config_defaults(&lc.log);
    lc.log.segment_bytes = 64 * 1024;
    cr_assert_eq(br_logmgr_open(&lc, now_ms(), &lm, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    cc.logmgr = lm;
    cc.metacache = mc;
    cr_assert_eq(br_control_new(&cc, &ctl, &eb), SM_OK, "%s", eb.msg);
    br_control_set_broker_epoch(ctl, BEPOCH);
    cr_assert_eq(br_purgatory_new(base, &pg), SM_OK);
}

static void teardown(void)
{
    if (client_fd >= 0)
        close(client_fd);
    client_fd = -1;
    br_kafka_free(kafka);
    br_api_data_free(api);
    kafka = NULL;
    api = NULL;
    br_replica_free(rm);
    rm = NULL;
    /* What the control client does when it goes: every call still out completes. */
    for (size_t i = 0; i < n_calls; i++) {
        if (!calls[i].answered) {
            calls[i].answered = true;
            calls[i].done(calls[i].arg, SM_ERR_CLOSED, NULL);
        }
    }
    br_control_free(ctl);
    br_purgatory_free(pg);
    br_metacache_free(mc);
    br_logmgr_close(lm, false, now_ms(), NULL);
    event_base_free(base);
    fx_rmtree(dir);
    ctl = NULL;
    pg = NULL;
    mc = NULL;
    lm = NULL;
    base = NULL;
}

TestSuite(br_replica, .init = setup, .fini = teardown, .timeout = 30);

/* Starts the replica layer with min.insync.replicas and replica.lag.time.max.ms. */
static void start(int32_t min_isr, int64_t lag_ms)
{
    br_replica_config_t cfg = {
        .base = base,
        .broker_id = ME,
        .logmgr = lm,
        .control = ctl,
        .metacache = mc,
        .send = stub_send,
        .purgatory = pg,
        .lag_max_ms = lag_ms,
        .min_isr = min_isr,
        .fetch_wait_max_ms = 100,
        .fetch_min_bytes = 1,
        .fetch_max_bytes = 1 << 20,
        .fetch_response_max_bytes = 1 << 20,
        .fetch_backoff_ms = 50,
        .socket_timeout_ms = 1000,
    };

    cr_assert_eq(br_replica_new(&cfg, &rm), SM_OK);
}

/* LeaderAndIsr (controller epoch 1) for t-0: leader, leader epoch, replicas, ISR. */
static void lai(int32_t leader, int32_t epoch, const int32_t *replicas, size_t n_r,
                const int32_t *isr, size_t n_i, int32_t partition_epoch)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__LeaderAndIsrRequest req = SAMSA__LEADER_AND_ISR_REQUEST__INIT;
    Samsa__LeaderAndIsrTopicState ts = SAMSA__LEADER_AND_ISR_TOPIC_STATE__INIT;
    Samsa__LeaderAndIsrPartitionState ps = SAMSA__LEADER_AND_ISR_PARTITION_STATE__INIT;
    Samsa__LeaderAndIsrTopicState *tsp = &ts;
    Samsa__LeaderAndIsrPartitionState *psp = &ps;
    br_control_reply_t reply;
    int32_t code;

    env.has_controller_epoch = env.has_broker_epoch = env.has_sender_id = 1;
    env.controller_epoch = 1;
    env.broker_epoch = BEPOCH;
    env.sender_id = 9;
    ps.has_partition = ps.has_leader = ps.has_leader_epoch = ps.has_partition_epoch = 1;
    ps.has_controller_epoch = 1;
    ps.partition = 0;
    ps.leader = leader;
    ps.leader_epoch = epoch;
    ps.partition_epoch = partition_epoch;
    ps.controller_epoch = 1;
    ps.replicas = (int32_t *)replicas;
    ps.n_replicas = n_r;
    ps.isr = (int32_t *)isr;
    ps.n_isr = n_i;
    ts.topic = "t";
    ts.n_partitions = 1;
    ts.partitions = &psp;
    req.n_topic_states = 1;
    req.topic_states = &tsp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_REQUEST;
    env.leader_and_isr_request = &req;
    memset(&reply, 0, sizeof(reply));
    br_control_handle(ctl, &env, now_ms(), &reply);
    cr_assert_eq(reply.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_LEADER_AND_ISR_RESPONSE);
    cr_assert_eq(reply.env.leader_and_isr_response->n_partition_errors, 1);
    code = reply.env.leader_and_isr_response->partition_errors[0]->error_code;
    br_control_reply_deinit(&reply);
    cr_assert_eq(code, 0, "LeaderAndIsr applied");
}

/* Leader append of n records to t-0 in leader epoch `epoch`; returns the new log end. */
/* Leader append of n records to t-0 in leader epoch `epoch` (no assertion: callbacks use it). */
static sm_err_t append_try(int32_t n, int32_t epoch)
{
    br_log_t *log = br_logmgr_get(lm, "t", 0);
    br_batch_limits_t lim = {0};
    br_batch_set_t set;
    br_batch_verdict_t v;
    br_log_append_info_t info;
    size_t len;
    uint8_t *buf;
    sm_err_t err;

    if (log == NULL)
        return SM_ERR_NOT_FOUND;
    buf = fx_simple_batch(n, 8, now_ms(), &len);
    br_batch_set_init(&set);
    err = br_batch_validate_set(buf, len, &lim, &set, &v);
    if (err == SM_OK)
        err = br_log_append(log, buf, &set, epoch, now_ms(), &info);
    br_batch_set_deinit(&set);
    free(buf);
    if (err == SM_OK)
        br_replica_after_append(rm, "t", 0);
    return err;
}

/* The same, asserted; returns the new log end. */
static int64_t append(int32_t n, int32_t epoch)
{
    cr_assert_eq(append_try(n, epoch), SM_OK);
    return br_log_end_offset(br_logmgr_get(lm, "t", 0));
}

static int64_t hw(void)
{
    return br_replica_high_watermark(rm, "t", 0, br_logmgr_get(lm, "t", 0));
}

static int64_t leo(void)
{
    return br_log_end_offset(br_logmgr_get(lm, "t", 0));
}

static br_partition_t *part(void)
{
    br_partition_t *p = br_partition_get(br_control_partitions(ctl), "t", 0);

    cr_assert_not_null(p);
    return p;
}

/* A follower's fetch of t-0 naming leader epoch `epoch`. */
static sm_kerr_t fetch_in(int32_t replica, int32_t epoch, int64_t offset)
{
    return br_replica_follower_fetch(rm, "t", 0, replica, epoch, offset, now_ms());
}

/* A follower's fetch of t-0 in the partition's current leader epoch (-1 if not known here). */
static sm_kerr_t fetch(int32_t replica, int64_t offset)
{
    br_partition_t *p = br_partition_get(br_control_partitions(ctl), "t", 0);

    return fetch_in(replica, p != NULL ? br_partition_leader_epoch(p) : -1, offset);
}

static bool isr_is(const int32_t *want, size_t n)
{
    size_t have;
    const int32_t *isr = br_partition_isr(part(), &have);

    return have == n && memcmp(isr, want, n * sizeof(*want)) == 0;
}

/* ---- bounded event loop --------------------------------------------------------------------- */

static bool (*until)(void);
static int32_t keep_fetching = -1; /* a follower that fetches at the log end every 20 ms */
static bool keep_appending;        /* ... and it is always one append behind */
static int64_t prev_leo;

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (keep_fetching >= 0 && keep_appending) {
        if (fetch(keep_fetching, prev_leo) != SM_KERR_NONE)
            cb_error = "the periodic follower fetch failed";
        prev_leo = leo();
        if (append_try(1, 1) != SM_OK)
            cb_error = "the periodic append failed";
    } else if (keep_fetching >= 0) {
        if (fetch(keep_fetching, leo()) != SM_KERR_NONE)
            cb_error = "the periodic follower fetch failed";
    }
    if (cb_error != NULL || (until != NULL && until()))
        event_base_loopbreak(base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

/* Runs the loop until pred() holds (checked every 20 ms) or max_ms passed; returns pred(). */
static bool run_until(bool (*pred)(void), int64_t max_ms)
{
    struct timeval poll_tv = {0, 20 * 1000};
    struct timeval max_tv = {(time_t)(max_ms / 1000), (suseconds_t)(max_ms % 1000) * 1000};
    struct event *poll_ev = event_new(base, -1, EV_PERSIST, on_poll, NULL);
    struct event *deadline = evtimer_new(base, on_deadline, NULL);
    bool ok;

    cr_assert_not_null(poll_ev);
    cr_assert_not_null(deadline);
    until = pred;
    event_add(poll_ev, &poll_tv);
    evtimer_add(deadline, &max_tv);
    event_base_dispatch(base);
    event_free(poll_ev);
    event_free(deadline);
    until = NULL;
    cr_assert_null(cb_error, "%s", cb_error);
    ok = pred == NULL || pred();
    return ok;
}

static bool have_call(void)
{
    return n_calls > 0;
}

/* ---- high watermark ------------------------------------------------------------------------- */

static const int32_t R123[] = {1, 2, 3};
static const int32_t R12[] = {1, 2};
static const int32_t R1[] = {1};
static const int32_t R13[] = {1, 3};

Test(br_replica, hw_stays_at_zero_until_every_isr_follower_fetched_then_is_the_min_leo)
{
    start(1, 30000);
    lai(ME, 1, R123, 3, R123, 3, 0);
    cr_assert_eq(append(10, 1), 10);
    cr_assert_eq(hw(), 0, "no follower has fetched in this epoch");
    cr_assert_eq(fetch(2, 5), SM_KERR_NONE);
    cr_assert_eq(hw(), 0, "follower 3 has not fetched yet: it holds the HW");
    cr_assert_eq(fetch(3, 7), SM_KERR_NONE);
    cr_assert_eq(hw(), 5, "min(leader 10, follower 2 at 5, follower 3 at 7)");
    cr_assert_eq(br_logmgr_high_watermark(lm, "t", 0), 5, "the log manager knows the HW");
    cr_assert_eq(fetch(2, 10), SM_KERR_NONE);
    cr_assert_eq(hw(), 7);
    cr_assert_eq(fetch(3, 10), SM_KERR_NONE);
    cr_assert_eq(hw(), 10);
    cr_assert_eq(append(4, 1), 14);
    cr_assert_eq(hw(), 10, "the leader's own append does not move it past the followers");
    cr_assert_eq(br_replica_alter_sent(rm), 0, "nothing to propose: all in the ISR");
}

Test(br_replica, hw_never_moves_backward_when_a_follower_fetches_an_older_offset)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    append(10, 1);
    cr_assert_eq(fetch(2, 8), SM_KERR_NONE);
    cr_assert_eq(hw(), 8);
    cr_assert_eq(fetch(2, 3), SM_KERR_NONE, "a follower that truncated, say");
    cr_assert_eq(hw(), 8, "the HW only grows");
    cr_assert_eq(br_logmgr_high_watermark(lm, "t", 0), 8);
    cr_assert_eq(fetch(2, 9), SM_KERR_NONE);
    cr_assert_eq(hw(), 9);
}

Test(br_replica, fetch_naming_another_leader_epoch_is_fenced_and_not_counted)
{
    start(1, 30000);
    lai(ME, 3, R12, 2, R12, 2, 0);
    append(10, 3);
    cr_assert_eq(fetch_in(2, 2, 10), SM_KERR_FENCED_LEADER_EPOCH);
    cr_assert_eq(hw(), 0, "a follower not truncated for epoch 3 does not count");
    cr_assert_eq(fetch_in(2, 4, 10), SM_KERR_UNKNOWN_LEADER_EPOCH);
    cr_assert_eq(hw(), 0);
    cr_assert_eq(fetch_in(2, 3, 10), SM_KERR_NONE);
    cr_assert_eq(hw(), 10);
}

Test(br_replica, fetch_past_the_leader_end_changes_nothing)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    append(10, 1);
    cr_assert_eq(fetch(2, 25), SM_KERR_NONE, "the fetch itself answers OFFSET_OUT_OF_RANGE");
    cr_assert_eq(hw(), 0, "an impossible position does not count");
}

Test(br_replica, isr_of_one_moves_the_hw_at_each_append)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R1, 1, 0);
    cr_assert_eq(append(3, 1), 3);
    cr_assert_eq(hw(), 3, "ISR {self}: the HW follows the leader");
}

Test(br_replica, hw_is_frozen_while_the_isr_is_below_min_insync_replicas)
{
    start(2, 30000);
    lai(ME, 1, R12, 2, R1, 1, 0);
    append(10, 1);
    cr_assert_eq(hw(), 0, "ISR {self} < min.insync.replicas 2");
    append(5, 1);
    cr_assert_eq(hw(), 0);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NOT_ENOUGH_REPLICAS);
    /* Follower 2 catches up: it is proposed back, and the maximal ISR counts it, but the
     * committed ISR is still short, so the HW stays. */
    cr_assert_eq(fetch(2, 15), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1);
    cr_assert(call_isr_is(0, R12, 2));
    cr_assert_eq(hw(), 0, "frozen until the controller accepts the ISR");
    answer_ok(0);
    cr_assert(isr_is(R12, 2));
    cr_assert_eq(hw(), 15, "ISR {1,2} >= 2: the HW moves to min LEO");
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NONE);
    cr_assert_eq(br_replica_alter_accepted(rm), 1);
}

/* ---- ISR shrink ----------------------------------------------------------------------------- */

static bool isr_shrunk(void)
{
    size_t n;

    (void)br_partition_isr(part(), &n);
    return n < 3;
}

Test(br_replica, lagging_follower_gets_a_shrink_proposal_and_the_answer_sets_the_isr)
{
    int64_t t0;

    start(1, 200);
    lai(ME, 1, R123, 3, R123, 3, 4);
    append(5, 1);
    t0 = now_ms();
    keep_fetching = 2; /* follower 2 stays caught up; 3 never fetches */
    cr_assert(run_until(have_call, 3000), "a shrink proposal within the bound");
    keep_fetching = -1;
    cr_assert_geq(now_ms() - t0, 200, "not before replica.lag.time.max.ms");
    cr_assert_eq(n_calls, 1);
    cr_assert_str_eq(calls[0].topic, "t");
    cr_assert_eq(calls[0].partition, 0);
    cr_assert_eq(calls[0].leader_epoch, 1);
    cr_assert_eq(calls[0].partition_epoch, 4);
    cr_assert_eq(calls[0].broker_id, ME);
    cr_assert_eq(calls[0].broker_epoch, BEPOCH);
    cr_assert(call_isr_is(0, R12, 2), "the ISR without follower 3");
    cr_assert(isr_is(R123, 3), "nothing changes before the controller answers");
    cr_assert_eq(hw(), 0, "follower 3 is still in the (maximal) ISR");
    answer_ok(0);
    cr_assert(isr_shrunk());
    cr_assert(isr_is(R12, 2));
    cr_assert_eq(br_partition_partition_epoch(part()), 5);
    cr_assert_eq(hw(), 5, "without follower 3 the HW is follower 2's LEO");
    cr_assert_eq(br_replica_alter_sent(rm), 1);
    cr_assert_eq(br_replica_alter_accepted(rm), 1);
}

Test(br_replica, caught_up_followers_are_not_shrunk)
{
    start(1, 400);
    lai(ME, 1, R12, 2, R12, 2, 0);
    append(5, 1);
    keep_fetching = 2;
    cr_assert(!run_until(have_call, 1000), "no proposal while follower 2 keeps up");
    keep_fetching = -1;
    cr_assert(isr_is(R12, 2));
}

Test(br_replica, follower_that_reaches_the_previous_fetch_end_is_caught_up)
{
    /* Under steady appends the follower never equals the leader's end at a fetch, but it
     * always has what the leader had at its previous fetch (Kafka's lastCaughtUpTime). */
    start(1, 400);
    lai(ME, 1, R12, 2, R12, 2, 0);
    prev_leo = append(1, 1);
    keep_fetching = 2;
    keep_appending = true;
    cr_assert(!run_until(have_call, 1000), "no shrink for a follower one append behind");
    keep_fetching = -1;
    keep_appending = false;
    cr_assert(isr_is(R12, 2));
    cr_assert_gt(hw(), 5);
    cr_assert_lt(hw(), leo());
}

Test(br_replica, refused_answer_clears_the_proposal_and_the_tick_proposes_again)
{
    start(1, 200);
    lai(ME, 1, R12, 2, R12, 2, 0);
    cr_assert(run_until(have_call, 3000));
    answer_full(0, 0, 74 /* FENCED_LEADER_EPOCH */, 1, NULL, 0, 0);
    cr_assert(isr_is(R12, 2), "a refused proposal changes nothing");
    cr_assert_eq(br_replica_alter_accepted(rm), 0);
    n_calls = 0;
    cr_assert(run_until(have_call, 3000), "the next tick proposes again");
    cr_assert(call_isr_is(0, R1, 1));
}

Test(br_replica, failed_call_clears_the_proposal)
{
    start(1, 200);
    lai(ME, 1, R12, 2, R12, 2, 0);
    cr_assert(run_until(have_call, 3000));
    calls[0].answered = true;
    calls[0].done(calls[0].arg, SM_ERR_TIMEOUT, NULL);
    n_calls = 0;
    cr_assert(run_until(have_call, 3000), "proposed again after a timeout");
}

/* ---- ISR expansion -------------------------------------------------------------------------- */

Test(br_replica, caught_up_follower_outside_the_isr_gets_an_expansion_that_counts_for_the_hw)
{
    start(1, 30000);
    lai(ME, 1, R123, 3, R12, 2, 0);
    append(10, 1);
    cr_assert_eq(fetch(2, 10), SM_KERR_NONE);
    cr_assert_eq(hw(), 10, "ISR {1,2}");
    cr_assert_eq(n_calls, 0);
    append(5, 1); /* leader at 15 */
    cr_assert_eq(fetch(3, 9), SM_KERR_NONE);
    cr_assert_eq(n_calls, 0, "follower 3 is below the HW");
    cr_assert_eq(fetch(3, 10), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1, "follower 3 reached the HW and the epoch start");
    cr_assert(call_isr_is(0, R123, 3));
    cr_assert_eq(fetch(2, 15), SM_KERR_NONE);
    cr_assert_eq(hw(), 10, "follower 3's addition is in flight: it holds the HW");
    cr_assert_eq(fetch(3, 12), SM_KERR_NONE);
    cr_assert_eq(hw(), 12);
    cr_assert_eq(n_calls, 1, "one proposal in flight");
    answer_ok(0);
    cr_assert(isr_is(R123, 3));
    cr_assert_eq(hw(), 12);
    cr_assert_eq(fetch(3, 15), SM_KERR_NONE);
    cr_assert_eq(hw(), 15);
    cr_assert_eq(n_calls, 1, "nothing more to propose");
}

Test(br_replica, only_one_proposal_is_in_flight_per_partition)
{
    static const int32_t want[] = {1, 2, 3};

    start(1, 30000);
    lai(ME, 1, R123, 3, R1, 1, 0);
    append(4, 1);
    cr_assert_eq(fetch(2, 4), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1);
    cr_assert(call_isr_is(0, R12, 2));
    cr_assert_eq(fetch(3, 4), SM_KERR_NONE);
    cr_assert_eq(fetch(3, 4), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1, "follower 3 waits for the first answer");
    answer_ok(0);
    cr_assert(isr_is(R12, 2));
    cr_assert_eq(fetch(3, 4), SM_KERR_NONE);
    cr_assert_eq(n_calls, 2);
    cr_assert(call_isr_is(1, want, 3), "proposed from the committed ISR {1,2}");
    cr_assert_eq(calls[1].partition_epoch, 1, "with the partition epoch of the answer");
    answer_ok(1);
    cr_assert(isr_is(want, 3));
}

Test(br_replica, follower_below_the_current_epoch_start_is_not_added)
{
    br_epoch_t *cache;

    start(1, 30000);
    lai(ME, 1, R123, 3, R13, 2, 0);
    append(10, 1);
    cr_assert_eq(fetch(3, 4), SM_KERR_NONE);
    cr_assert_eq(hw(), 4);
    /* Leadership moves away and comes back: epoch 3 starts at the log end, 10. */
    lai(3, 2, R123, 3, R13, 2, 1);
    lai(ME, 3, R123, 3, R13, 2, 2);
    cache = br_logmgr_epochs(lm, "t", 0);
    cr_assert_eq(br_epoch_latest(cache), 3);
    cr_assert_eq(br_epoch_latest_start(cache), 10);
    cr_assert_eq(hw(), 4, "the new leader starts from the checkpointed HW");
    cr_assert_eq(fetch(2, 6), SM_KERR_NONE);
    cr_assert_eq(n_calls, 0, "at the HW but below the start of epoch 3");
    cr_assert_eq(fetch(2, 10), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1);
    cr_assert_eq(calls[0].leader_epoch, 3);
}

Test(br_replica, answer_for_an_older_leader_epoch_is_ignored)
{
    static const int32_t want[] = {1, 3, 2}; /* the committed ISR, then the one added */

    start(1, 30000);
    lai(ME, 1, R123, 3, R1, 1, 0);
    append(4, 1);
    cr_assert_eq(fetch(2, 4), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1);
    cr_assert_eq(calls[0].leader_epoch, 1);
    /* The controller changes the ISR itself meanwhile (still led here, epoch 2). */
    lai(ME, 2, R123, 3, R13, 2, 1);
    answer_ok(0);
    cr_assert(isr_is(R13, 2), "the epoch-1 answer does not overwrite the epoch-2 ISR");
    cr_assert_eq(br_replica_alter_accepted(rm), 0);
    /* The epoch change cleared the pending proposal: follower 2 is proposed again. */
    cr_assert_eq(fetch(2, 4), SM_KERR_NONE);
    cr_assert_eq(n_calls, 2);
    cr_assert_eq(calls[1].leader_epoch, 2);
    cr_assert(call_isr_is(1, want, 3));
    answer_ok(1);
    cr_assert(isr_is(want, 3));
}

Test(br_replica, answer_naming_another_leader_epoch_is_not_applied)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R1, 1, 0);
    cr_assert_eq(fetch(2, 0), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1);
    answer_full(0, 0, 0, 7, R12, 2, 1);
    cr_assert(isr_is(R1, 1));
    cr_assert_eq(br_replica_alter_accepted(rm), 0);
}

/* ---- acks=all ------------------------------------------------------------------------------- */

static bool waiter_done;
static bool waiter_timed_out;
static sm_kerr_t waiter_err;
static int64_t waiter_end;

static bool on_waiter(void *arg, bool timed_out)
{
    bool done;
    sm_kerr_t err;

    (void)arg;
    if (timed_out) {
        waiter_timed_out = true;
        return true;
    }
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    if (done) {
        waiter_done = true;
        waiter_err = err;
    }
    return done;
}

Test(br_replica, check_min_isr_answers_not_enough_replicas_below_the_minimum)
{
    start(2, 30000);
    lai(ME, 1, R12, 2, R1, 1, 0);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NOT_ENOUGH_REPLICAS);
    lai(ME, 2, R12, 2, R12, 2, 1);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NONE);
    cr_assert_eq(br_replica_check_min_isr(rm, "nope", 0), SM_KERR_NOT_LEADER_OR_FOLLOWER);
}

Test(br_replica, acks_all_waits_then_completes_once_the_hw_covers_it)
{
    br_purgatory_key_t key = {"t", 0};
    bool done;
    sm_kerr_t err;

    start(2, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    waiter_end = append(5, 1);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(!done, "the HW does not cover offset 4 yet");
    waiter_done = waiter_timed_out = false;
    cr_assert_eq(br_purgatory_park(pg, &key, 1, 5000, on_waiter, NULL, NULL), SM_OK);
    cr_assert_eq(fetch(2, 3), SM_KERR_NONE);
    cr_assert(!waiter_done, "HW 3 < 5");
    cr_assert_eq(br_purgatory_count(pg), 1);
    cr_assert_eq(fetch(2, 5), SM_KERR_NONE);
    cr_assert(waiter_done, "the HW move woke the waiter");
    cr_assert_eq(waiter_err, SM_KERR_NONE);
    cr_assert_eq(br_purgatory_count(pg), 0);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NONE);
}

Test(br_replica, acks_all_is_not_leader_after_the_partition_became_a_follower)
{
    br_purgatory_key_t key = {"t", 0};
    bool done;
    sm_kerr_t err;

    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    waiter_end = append(5, 1);
    waiter_done = waiter_timed_out = false;
    cr_assert_eq(br_purgatory_park(pg, &key, 1, 5000, on_waiter, NULL, NULL), SM_OK);
    lai(2, 2, R12, 2, R12, 2, 1);
    cr_assert(waiter_done, "the role change woke the waiter");
    cr_assert_eq(waiter_err, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(fetch(2, 5), SM_KERR_NOT_LEADER_OR_FOLLOWER, "not led here any more");
}

Test(br_replica, a_follower_never_reports_a_high_watermark_above_its_log_end)
{
    int64_t end;

    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    end = append(5, 1);
    lai(2, 2, R12, 2, R12, 2, 1);
    /* A checkpoint that outlived the records it covered (power cut) holds more than the log. */
    cr_assert_eq(br_logmgr_set_high_watermark(lm, "t", 0, end + 10), SM_OK);
    cr_assert_eq(hw(), end, "capped at the log end");
    cr_assert_eq(br_logmgr_set_high_watermark(lm, "t", 0, end - 2), SM_OK);
    cr_assert_eq(hw(), end - 2, "below the log end it is the stored value");
}

Test(br_replica, acks_all_of_an_earlier_epoch_of_the_same_leadership_still_completes)
{
    bool done;
    sm_kerr_t err;

    start(1, 30000);
    lai(ME, 1, R123, 3, R123, 3, 0);
    waiter_end = append(5, 1);
    lai(ME, 2, R123, 3, R12, 2, 1); /* the controller dropped follower 3 */
    cr_assert_eq(fetch(2, 5), SM_KERR_NONE);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NONE);
    br_replica_acks_status(rm, "t", 0, 3, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NOT_LEADER_OR_FOLLOWER, "an epoch newer than ours is not ours");
}

Test(br_replica, acks_all_fails_after_append_when_the_isr_shrank_below_the_minimum)
{
    br_purgatory_key_t key = {"t", 0};
    bool done;
    sm_kerr_t err;

    start(2, 200);
    lai(ME, 1, R12, 2, R12, 2, 0);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NONE);
    waiter_end = append(5, 1);
    waiter_done = waiter_timed_out = false;
    cr_assert_eq(br_purgatory_park(pg, &key, 1, 10000, on_waiter, NULL, NULL), SM_OK);
    cr_assert(run_until(have_call, 3000), "follower 2 never fetches: shrink");
    cr_assert(call_isr_is(0, R1, 1));
    cr_assert(!waiter_done);
    answer_ok(0);
    cr_assert(isr_is(R1, 1));
    cr_assert(waiter_done, "the ISR change woke the waiter");
    cr_assert_eq(waiter_err, SM_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NOT_ENOUGH_REPLICAS);
}

/* ---- follower fetches from strangers -------------------------------------------------------- */

Test(br_replica, fetch_from_an_unknown_replica_is_not_leader_or_follower)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    cr_assert_eq(fetch(7, 0), SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(fetch(ME, 0), SM_KERR_NOT_LEADER_OR_FOLLOWER, "the leader is no follower");
    cr_assert_eq(br_replica_follower_fetch(rm, "nope", 0, 2, 1, 0, now_ms()),
                 SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(hw(), 0);
    cr_assert_eq(n_calls, 0);
}

Test(br_replica, takes_over_partitions_the_control_state_already_holds)
{
    /* LeaderAndIsr before the layer exists (no listener yet), then the layer starts. */
    lai(ME, 1, R12, 2, R12, 2, 0);
    start(1, 30000);
    append(3, 1);
    cr_assert_eq(hw(), 0);
    cr_assert_eq(fetch(2, 3), SM_KERR_NONE);
    cr_assert_eq(hw(), 3);
}

/* ---- through the Fetch handler ----------------------------------------------------------------
 */

/* Sends a Fetch v11 for t-0 as replica `replica` and returns the partition's error code. */
static int16_t follower_fetch_v11(int fd, int32_t replica, int32_t cur_epoch, int64_t offset)
{
    sm_writer_t w;
    uint8_t buf[4096];
    size_t have = 0;
    int64_t end = now_ms() + 2000;
    sm_reader_t r;
    int16_t err;

    sm_writer_init(&w, 0);
    size_t at = sm_writer_reserve(&w, 4);
    sm_writer_i16(&w, 1);
    sm_writer_i16(&w, 11);
    sm_writer_i32(&w, 5);
    sm_writer_nullable_str(&w, sm_str_of("test"));
    sm_writer_i32(&w, replica);
    sm_writer_i32(&w, 0); /* max_wait_ms: answer at once */
    sm_writer_i32(&w, 1);
    sm_writer_i32(&w, 1 << 20);
    sm_writer_i8(&w, 0);
    sm_writer_i32(&w, 0);
    sm_writer_i32(&w, -1);
    sm_writer_array_len(&w, 1);
    sm_writer_str(&w, sm_str_of("t"));
    sm_writer_array_len(&w, 1);
    sm_writer_i32(&w, 0);
    sm_writer_i32(&w, cur_epoch);
    sm_writer_i64(&w, offset);
    sm_writer_i64(&w, -1);
    sm_writer_i32(&w, 1 << 20);
    sm_writer_array_len(&w, 0);
    sm_writer_str(&w, sm_str_of(""));
    sm_writer_patch_i32(&w, at, (int32_t)(sm_writer_len(&w) - 4));
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    cr_assert_eq(write(fd, sm_writer_data(&w), sm_writer_len(&w)), (ssize_t)sm_writer_len(&w));
    sm_writer_deinit(&w);
    /* the response: size, corr, throttle, error, session, 1 topic "t", 1 partition, index,
     * error ... -- only as far as the partition's error code */
    while (have < 4 + 4 + 4 + 2 + 4 + 4 + 2 + 1 + 4 + 4 + 2 && now_ms() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};

        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        if (poll(&pfd, 1, 5) <= 0)
            continue;
        ssize_t n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
        if (n > 0)
            have += (size_t)n;
    }
    sm_reader_init(&r, buf, have);
    (void)sm_reader_i32(&r); /* size */
    cr_assert_eq(sm_reader_i32(&r), 5);
    (void)sm_reader_i32(&r);
    cr_assert_eq(sm_reader_i16(&r), 0);
    (void)sm_reader_i32(&r);
    cr_assert_eq(sm_reader_i32(&r), 1);
    cr_assert(sm_str_eq(sm_reader_str(&r), "t"));
    cr_assert_eq(sm_reader_i32(&r), 1);
    cr_assert_eq(sm_reader_i32(&r), 0);
    err = sm_reader_i16(&r);
    cr_assert_eq(sm_reader_err(&r), SM_OK, "a Fetch response came");
    return err;
}

/* Wires the Kafka front end and the data handlers to this replica layer; returns the client
 * end of a connection. */
static int fetch_handler_client(void)
{
    br_kafka_deps_t deps = {
        .base = base, .broker_id = ME, .metacache = mc, .logmgr = lm, .control = ctl};
    sm_errbuf_t eb = {{0}};
    int sv[2];

    cr_assert_eq(br_kafka_new(&deps, NULL, 0, &kafka, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(br_api_data_new(kafka, &api), SM_OK);
    cr_assert_eq(br_api_data_register(api), SM_OK);
    br_api_data_set_replica(api, rm);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    client_fd = sv[1];
    cr_assert_eq(br_kafka_add_connection(kafka, sv[0]), SM_OK);
    return client_fd;
}

Test(br_replica, follower_fetch_through_the_fetch_handler_moves_the_hw)
{
    int fd;

    start(1, 30000);
    lai(ME, 2, R12, 2, R12, 2, 0);
    append(10, 2);
    fd = fetch_handler_client();
    cr_assert_eq(follower_fetch_v11(fd, 2, 2, 10), SM_KERR_NONE);
    cr_assert_eq(hw(), 10);
    cr_assert_eq(follower_fetch_v11(fd, 7, 2, 10), SM_KERR_NONE, "only logged");
}

/* A Fetch answered FENCED_LEADER_EPOCH (a follower still in an older epoch, not yet truncated
 * for ours) must not move the HW: its log may differ from ours below its fetch offset. */
Test(br_replica, fenced_follower_fetch_does_not_move_the_hw)
{
    int fd;

    start(1, 30000);
    lai(ME, 2, R12, 2, R12, 2, 0);
    append(10, 2);
    fd = fetch_handler_client();
    cr_assert_eq(follower_fetch_v11(fd, 2, 1, 10), SM_KERR_FENCED_LEADER_EPOCH);
    cr_assert_eq(hw(), 0, "a fenced fetch does not count: HW %lld", (long long)hw());
}

/* A LeaderAndIsr that keeps this broker leader but changes the replica set (reassignment)
 * tracks the added replica, so its fetches count and it can join the ISR. */
Test(br_replica, replica_added_while_leading_is_tracked)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    lai(ME, 2, R123, 3, R12, 2, 1);
    cr_assert_eq(fetch(3, 0), SM_KERR_NONE, "replica 3 is one of the partition's replicas now");
}

/* StopReplica for t-0 (controller epoch 1) at leader epoch `epoch`, deleting the log or not. */
static void stop_replica(int32_t epoch, bool del)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__StopReplicaRequest req = SAMSA__STOP_REPLICA_REQUEST__INIT;
    Samsa__StopReplicaTopicState ts = SAMSA__STOP_REPLICA_TOPIC_STATE__INIT;
    Samsa__StopReplicaPartitionState ps = SAMSA__STOP_REPLICA_PARTITION_STATE__INIT;
    Samsa__StopReplicaTopicState *tsp = &ts;
    Samsa__StopReplicaPartitionState *psp = &ps;
    br_control_reply_t reply;
    int32_t code;

    env.has_controller_epoch = env.has_broker_epoch = 1;
    env.controller_epoch = 1;
    env.broker_epoch = BEPOCH;
    ps.has_partition = ps.has_leader_epoch = ps.has_delete_partition = 1;
    ps.partition = 0;
    ps.leader_epoch = epoch;
    ps.delete_partition = del;
    ts.topic = "t";
    ts.n_partitions = 1;
    ts.partitions = &psp;
    req.n_topic_states = 1;
    req.topic_states = &tsp;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_REQUEST;
    env.stop_replica_request = &req;
    memset(&reply, 0, sizeof(reply));
    br_control_handle(ctl, &env, now_ms(), &reply);
    cr_assert_eq(reply.env.payload_case, SAMSA__ENVELOPE__PAYLOAD_STOP_REPLICA_RESPONSE);
    code = reply.env.stop_replica_response->error_code;
    br_control_reply_deinit(&reply);
    cr_assert_eq(code, 0, "StopReplica applied");
}

Test(br_replica, late_answer_for_a_deleted_partition_is_ignored)
{
    start(1, 30000);
    lai(ME, 1, R12, 2, R1, 1, 0);
    append(2, 1);
    cr_assert_eq(fetch(2, 2), SM_KERR_NONE);
    cr_assert_eq(n_calls, 1, "an expansion in flight");
    stop_replica(1, true);
    cr_assert_null(br_partition_get(br_control_partitions(ctl), "t", 0));
    answer_ok(0); /* for a partition that is gone: ignored, freed */
    cr_assert_eq(br_replica_alter_accepted(rm), 0);
    cr_assert_eq(br_replica_check_min_isr(rm, "t", 0), SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(fetch(2, 2), SM_KERR_NOT_LEADER_OR_FOLLOWER);
}

/* Deleting a led partition answers its acks=all waiters NOT_LEADER_OR_FOLLOWER at once (the
 * wake-up runs before the partition is gone, so the layer must already say it is not led). */
Test(br_replica, deleting_a_led_partition_answers_its_acks_all_waiters)
{
    br_purgatory_key_t key = {"t", 0};

    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    waiter_end = append(2, 1); /* follower 2 has not fetched: waits */
    waiter_done = waiter_timed_out = false;
    cr_assert_eq(br_purgatory_park(pg, &key, 1, 5000, on_waiter, NULL, NULL), SM_OK);
    stop_replica(1, true);
    cr_assert(waiter_done, "the removal answered the waiter");
    cr_assert_eq(waiter_err, SM_KERR_NOT_LEADER_OR_FOLLOWER);
}

Test(br_replica, stopped_partition_is_no_longer_led)
{
    bool done;
    sm_kerr_t err;

    start(1, 30000);
    lai(ME, 1, R12, 2, R12, 2, 0);
    waiter_end = append(2, 1);
    stop_replica(1, false);
    br_replica_acks_status(rm, "t", 0, 1, waiter_end, &done, &err);
    cr_assert(done);
    cr_assert_eq(err, SM_KERR_NOT_LEADER_OR_FOLLOWER);
    cr_assert_eq(fetch(2, 2), SM_KERR_NOT_LEADER_OR_FOLLOWER);
}
