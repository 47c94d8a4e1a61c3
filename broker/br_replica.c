/*
 * br_replica: leader-side follower tracking, the high watermark, ISR proposals, and the hand-off
 * of followed partitions to the fetcher. See br_replica.h for the contract and design notes.
 */
#include "broker/br_replica.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/br_ctlclient.h"
#include "broker/br_epoch.h"
#include "broker/br_fetcher.h"
#include "broker/br_topicconf.h"
#include "sm_log.h"

#define BR_REPLICA_ALTER_TIMEOUT_MS 10000u
#define BR_REPLICA_TICK_MIN_MS      100

/* One follower of a led partition, as its fetches show it. */
typedef struct br_replica_follower {
    int32_t id;
    int64_t leo;               /* its log end offset; -1 until it fetches in this epoch */
    int64_t last_caught_up_ms; /* the last time it had everything the leader had */
    int64_t last_fetch_leo;    /* the leader's LEO at its previous fetch */
    int64_t last_fetch_ms;     /* when that fetch came */
} br_replica_follower_t;

/* The per-partition state hung off br_partition (br_partition_set_ext). */
typedef struct br_replica_part {
    br_partition_role_t role; /* as last applied */
    int32_t leader;
    int32_t leader_epoch;
    int64_t hw; /* leader: the high watermark (invariant 1) */
    br_replica_follower_t *followers;
    size_t n_followers;
    bool alter_pending;  /* invariant 3 */
    int32_t pending_add; /* the follower an in-flight expansion adds, -1 none */
} br_replica_part_t;

/* What an AlterIsr completion needs to find its partition again. */
typedef struct br_replica_alter {
    struct br_replica_alter *next; /* in rm->alters while in flight */
    br_replica_t *rm;              /* NULL once rm is freed: the completion only frees */
    char *topic;
    int32_t partition;
    int32_t leader_epoch;
    int32_t *isr;
    size_t n_isr;
} br_replica_alter_t;

struct br_replica {
    br_replica_config_t cfg;
    br_fetcher_t *fetcher;
    struct event *tick;
    br_replica_alter_t *alters; /* AlterIsr calls in flight */
    int64_t tick_ms;            /* the shrink check's period */
    int64_t last_tick_ms;       /* when it last ran */
    uint64_t alter_sent, alter_accepted;
};

static int64_t br_replica_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void br_replica_part_free(void *arg)
{
    br_replica_part_t *rp = arg;

    if (rp == NULL)
        return;
    free(rp->followers);
    free(rp);
}

static br_partition_t *br_replica_partition(const br_replica_t *rm, const char *topic,
                                            int32_t partition)
{
    return br_partition_get(br_control_partitions(rm->cfg.control), topic, partition);
}

static br_replica_part_t *br_replica_led(const br_replica_t *rm, const char *topic,
                                         int32_t partition, br_partition_t **pp)
{
    br_partition_t *p = br_replica_partition(rm, topic, partition);
    br_replica_part_t *rp = p != NULL ? br_partition_ext(p) : NULL;

    if (pp != NULL)
        *pp = p;
    if (rp == NULL || rp->role != BR_PARTITION_LEADER ||
        br_partition_role(p) != BR_PARTITION_LEADER)
        return NULL;
    return rp;
}

static int32_t br_replica_min_isr(const br_replica_t *rm, const char *topic)
{
    if (rm->cfg.topicconf != NULL)
        return br_topicconf_min_isr(rm->cfg.topicconf, topic);
    return rm->cfg.min_isr;
}

/* ---- high watermark ------------------------------------------------------------------------ */

/* Moves the HW of led partition p as far as its maximal ISR allows (invariants 1, 2); wakes
 * the partition's waiters when it moved. */
static void br_replica_update_hw(br_replica_t *rm, br_partition_t *p, br_replica_part_t *rp)
{
    const char *topic = br_partition_topic(p);
    int32_t part = br_partition_index(p);
    br_log_t *log = br_logmgr_get(rm->cfg.logmgr, topic, part);
    size_t n_isr;
    const int32_t *isr = br_partition_isr(p, &n_isr);

    if (log == NULL)
        return;
    if ((int64_t)n_isr < br_replica_min_isr(rm, topic))
        return; /* invariant 2 */
    int64_t hw = br_log_end_offset(log);
    for (size_t i = 0; i < rp->n_followers; i++) {
        const br_replica_follower_t *f = &rp->followers[i];
        bool counted = br_partition_in_isr(p, f->id) || f->id == rp->pending_add;

        if (!counted)
            continue;
        if (f->leo < 0)
            return; /* not heard from in this epoch: holds the HW */
        if (f->leo < hw)
            hw = f->leo;
    }
    (void)isr;
    if (hw <= rp->hw)
        return;
    rp->hw = hw;
    (void)br_logmgr_set_high_watermark(rm->cfg.logmgr, topic, part, hw);
    if (rm->cfg.purgatory != NULL)
        br_purgatory_wake(rm->cfg.purgatory, topic, part);
}

int64_t br_replica_high_watermark(const br_replica_t *rm, const char *topic, int32_t partition,
                                  br_log_t *log)
{
    br_replica_part_t *rp = br_replica_led(rm, topic, partition, NULL);
    int64_t leo = br_log_end_offset(log);
    int64_t hw;

    if (rp != NULL)
        return rp->hw < leo ? rp->hw : leo;
    if (leo < 0)
        return 0;
    /* A follower's stored HW may outrun its log (a checkpoint that outlived its records). */
    hw = br_logmgr_high_watermark(rm->cfg.logmgr, topic, partition);
    return hw < leo ? hw : leo;
}

void br_replica_after_append(br_replica_t *rm, const char *topic, int32_t partition)
{
    br_partition_t *p;
    br_replica_part_t *rp = br_replica_led(rm, topic, partition, &p);

    if (rp != NULL)
        br_replica_update_hw(rm, p, rp);
    else if (rm->fetcher != NULL)
        br_fetcher_written(rm->fetcher, topic, partition); /* a follower's appends */
}

/* ---- ISR proposals ------------------------------------------------------------------------- */

static void br_replica_alter_free(br_replica_alter_t *a)
{
    if (a == NULL)
        return;
    free(a->topic);
    free(a->isr);
    free(a);
}

static void br_replica_on_alter(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    br_replica_alter_t *a = arg;
    br_replica_t *rm = a->rm;
    br_partition_t *p;
    br_replica_part_t *rp;
    const Samsa__AlterIsrResponse *r = NULL;
    const Samsa__AlterIsrPartitionResult *pr = NULL;

    if (rm == NULL)
        goto out; /* the layer is gone (broker stopping) */
    for (br_replica_alter_t **pp = &rm->alters; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    p = br_replica_partition(rm, a->topic, a->partition);
    rp = p != NULL ? br_partition_ext(p) : NULL;

    if (rp == NULL || rp->leader_epoch != a->leader_epoch || rp->role != BR_PARTITION_LEADER)
        goto out; /* invariant 3: the epoch moved on; LeaderAndIsr told us the truth */
    rp->alter_pending = false;
    rp->pending_add = -1;
    if (err == SM_OK && resp->payload_case == SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_RESPONSE)
        r = resp->alter_isr_response;
    if (r != NULL && r->error_code == 0 && r->n_topics == 1 && r->topics[0]->n_partitions == 1)
        pr = r->topics[0]->partitions[0];
    if (pr == NULL || pr->error_code != 0) {
        sm_log_warn("%s-%d: AlterIsr refused or failed: %s (%d: %s)", a->topic, (int)a->partition,
                    err != SM_OK ? sm_err_str(err) : "answered",
                    pr != NULL ? (int)pr->error_code : (r != NULL ? (int)r->error_code : -1),
                    pr != NULL && pr->error_message != NULL
                        ? pr->error_message
                        : (r != NULL && r->error_message != NULL ? r->error_message : ""));
        goto out; /* the tick proposes again if still needed */
    }
    if (pr->leader_epoch != a->leader_epoch ||
        br_partition_set_isr(p, pr->isr, pr->n_isr, pr->partition_epoch) != SM_OK)
        goto out;
    rm->alter_accepted++;
    sm_log_info("%s-%d: ISR now has %zu of its replicas (partition epoch %d)", a->topic,
                (int)a->partition, pr->n_isr, (int)pr->partition_epoch);
    br_replica_update_hw(rm, p, rp);
    if (rm->cfg.purgatory != NULL) /* acks=all may now fail fast (ISR below the minimum) */
        br_purgatory_wake(rm->cfg.purgatory, a->topic, a->partition);
out:
    br_replica_alter_free(a);
}

/* Proposes isr[0..n) for led partition p; pending_add is the member being added, or -1. */
static void br_replica_propose(br_replica_t *rm, br_partition_t *p, br_replica_part_t *rp,
                               const int32_t *isr, size_t n, int32_t pending_add)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__AlterIsrRequest req = SAMSA__ALTER_ISR_REQUEST__INIT;
    Samsa__AlterIsrTopic topic = SAMSA__ALTER_ISR_TOPIC__INIT;
    Samsa__AlterIsrPartition part = SAMSA__ALTER_ISR_PARTITION__INIT;
    Samsa__AlterIsrTopic *tp = &topic;
    Samsa__AlterIsrPartition *pp = &part;
    br_replica_alter_t *a = calloc(1, sizeof(*a));

    if ((rm->cfg.ctlclient == NULL && rm->cfg.send == NULL) || a == NULL)
        goto fail;
    a->rm = rm;
    a->partition = br_partition_index(p);
    a->leader_epoch = br_partition_leader_epoch(p);
    a->topic = strdup(br_partition_topic(p));
    a->isr = malloc((n + 1) * sizeof(*a->isr));
    if (a->topic == NULL || a->isr == NULL)
        goto fail;
    memcpy(a->isr, isr, n * sizeof(*isr));
    a->n_isr = n;
    part.has_partition = part.has_leader_epoch = part.has_partition_epoch = 1;
    part.partition = a->partition;
    part.leader_epoch = a->leader_epoch;
    part.partition_epoch = br_partition_partition_epoch(p);
    part.new_isr = a->isr;
    part.n_new_isr = n;
    topic.topic = a->topic;
    topic.partitions = &pp;
    topic.n_partitions = 1;
    req.has_broker_id = 1;
    req.broker_id = rm->cfg.broker_id;
    req.topics = &tp;
    req.n_topics = 1;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ALTER_ISR_REQUEST;
    env.alter_isr_request = &req;
    env.has_broker_epoch = env.has_controller_epoch = 1;
    env.broker_epoch = br_control_broker_epoch(rm->cfg.control);
    env.controller_epoch = br_control_controller_epoch(rm->cfg.control);
    rp->alter_pending = true;
    rp->pending_add = pending_add;
    a->next = rm->alters;
    rm->alters = a;
    sm_err_t err = rm->cfg.send != NULL
                       ? rm->cfg.send(rm->cfg.send_arg, &env, BR_REPLICA_ALTER_TIMEOUT_MS,
                                      br_replica_on_alter, a)
                       : br_ctlclient_call(rm->cfg.ctlclient, &env, BR_REPLICA_ALTER_TIMEOUT_MS,
                                           br_replica_on_alter, a);
    if (err != SM_OK) {
        rm->alters = a->next; /* not called back: undo */
        rp->alter_pending = false;
        rp->pending_add = -1;
        goto fail;
    }
    rm->alter_sent++;
    char list[128];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && off < sizeof(list); i++) {
        int w = snprintf(list + off, sizeof(list) - off, "%s%d", i > 0 ? "," : "", (int)isr[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    sm_log_info("%s-%d: proposing ISR [%s] (%s)", br_partition_topic(p), (int)br_partition_index(p),
                list, pending_add >= 0 ? "a follower caught up" : "followers fell behind");
    return;
fail:
    br_replica_alter_free(a);
}

static br_replica_follower_t *br_replica_follower(br_replica_part_t *rp, int32_t id)
{
    for (size_t i = 0; i < rp->n_followers; i++)
        if (rp->followers[i].id == id)
            return &rp->followers[i];
    return NULL;
}

/* Expansion (kafka-zk-design section 4): f is out of the ISR and has reached both the HW and
 * the start of the current leader epoch. */
static void br_replica_maybe_expand(br_replica_t *rm, br_partition_t *p, br_replica_part_t *rp,
                                    const br_replica_follower_t *f)
{
    br_epoch_t *cache;
    size_t n;
    const int32_t *isr;
    int32_t *next;

    if (rp->alter_pending || br_partition_in_isr(p, f->id) || f->leo < rp->hw)
        return;
    cache = br_logmgr_epochs(rm->cfg.logmgr, br_partition_topic(p), br_partition_index(p));
    if (cache == NULL || f->leo < br_epoch_latest_start(cache))
        return;
    isr = br_partition_isr(p, &n);
    next = malloc((n + 1) * sizeof(*next));
    if (next == NULL)
        return;
    memcpy(next, isr, n * sizeof(*isr));
    next[n] = f->id;
    br_replica_propose(rm, p, rp, next, n + 1, f->id);
    free(next);
}

/* Shrink: ISR members that have not caught up for lag_max_ms leave (never the leader). */
static void br_replica_maybe_shrink(br_replica_t *rm, br_partition_t *p, br_replica_part_t *rp,
                                    int64_t now_ms)
{
    size_t n, k = 0;
    const int32_t *isr = br_partition_isr(p, &n);
    int32_t *next;

    if (rp->alter_pending || n <= 1)
        return;
    next = malloc(n * sizeof(*next));
    if (next == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const br_replica_follower_t *f = br_replica_follower(rp, isr[i]);

        if (f != NULL && now_ms - f->last_caught_up_ms > rm->cfg.lag_max_ms) {
            sm_log_warn("%s-%d: follower %d has not caught up for %lld ms: leaving the ISR",
                        br_partition_topic(p), (int)br_partition_index(p), (int)f->id,
                        (long long)(now_ms - f->last_caught_up_ms));
            continue;
        }
        next[k++] = isr[i];
    }
    if (k < n)
        br_replica_propose(rm, p, rp, next, k, -1);
    free(next);
}

static void br_replica_on_tick(evutil_socket_t fd, short what, void *arg)
{
    br_replica_t *rm = arg;
    br_partition_set_t *set = br_control_partitions(rm->cfg.control);
    int64_t now = br_replica_now_ms();

    /* Far later than scheduled: this process was not running (SIGSTOP, a stall), so no
     * follower could fetch from it. Blaming them would empty every ISR at once; they get a
     * fresh replica.lag.time.max.ms instead. */
    int64_t gap = rm->last_tick_ms > 0 ? now - rm->last_tick_ms : 0;
    bool stalled = gap > 2 * rm->tick_ms + 1000;

    (void)fd;
    (void)what;
    rm->last_tick_ms = now;
    if (stalled)
        sm_log_warn("the broker did not run for %lld ms: followers get a new %lld ms to catch up",
                    (long long)gap, (long long)rm->cfg.lag_max_ms);
    for (size_t i = 0; i < br_partition_count(set); i++) {
        br_partition_t *p = br_partition_at(set, i);
        br_replica_part_t *rp = br_partition_ext(p);

        if (rp == NULL || br_partition_role(p) != BR_PARTITION_LEADER)
            continue;
        if (stalled) {
            for (size_t j = 0; j < rp->n_followers; j++)
                if (rp->followers[j].last_caught_up_ms < now)
                    rp->followers[j].last_caught_up_ms = now;
            continue;
        }
        br_replica_maybe_shrink(rm, p, rp, now);
    }
}

/* ---- follower fetches ---------------------------------------------------------------------- */

sm_kerr_t br_replica_follower_fetch(br_replica_t *rm, const char *topic, int32_t partition,
                                    int32_t replica_id, int32_t leader_epoch, int64_t fetch_offset,
                                    int64_t now_ms)
{
    br_partition_t *p;
    br_replica_part_t *rp = br_replica_led(rm, topic, partition, &p);
    br_replica_follower_t *f;
    br_log_t *log;

    if (rp == NULL)
        return SM_KERR_NOT_LEADER_OR_FOLLOWER;
    /* Only a follower that truncated against THIS leader epoch has a log that is a prefix of
     * ours: a fetch naming another epoch says nothing about our records (it is fenced). */
    if (leader_epoch != br_partition_leader_epoch(p))
        return leader_epoch < br_partition_leader_epoch(p) ? SM_KERR_FENCED_LEADER_EPOCH
                                                           : SM_KERR_UNKNOWN_LEADER_EPOCH;
    f = br_replica_follower(rp, replica_id);
    log = br_logmgr_get(rm->cfg.logmgr, topic, partition);
    if (f == NULL)
        return SM_KERR_NOT_LEADER_OR_FOLLOWER;
    if (log == NULL)
        return SM_KERR_KAFKA_STORAGE_ERROR;
    int64_t leo = br_log_end_offset(log);
    if (fetch_offset > leo)
        return SM_KERR_NONE; /* the fetch answers OFFSET_OUT_OF_RANGE: the follower truncates */
    /* Kafka's Replica.updateFetchState: caught up now if it has everything; else caught up
     * as of its previous fetch if it has what the leader had then. */
    if (fetch_offset >= leo) {
        if (now_ms > f->last_caught_up_ms)
            f->last_caught_up_ms = now_ms;
    } else if (f->last_fetch_leo >= 0 && fetch_offset >= f->last_fetch_leo &&
               f->last_fetch_ms > f->last_caught_up_ms) {
        f->last_caught_up_ms = f->last_fetch_ms;
    }
    f->last_fetch_leo = leo;
    f->last_fetch_ms = now_ms;
    f->leo = fetch_offset;
    br_replica_update_hw(rm, p, rp);
    br_replica_maybe_expand(rm, p, rp, f);
    return SM_KERR_NONE;
}

/* ---- acks=all ------------------------------------------------------------------------------ */

sm_kerr_t br_replica_check_min_isr(const br_replica_t *rm, const char *topic, int32_t partition)
{
    br_partition_t *p = br_replica_partition(rm, topic, partition);
    size_t n = 0;

    if (p == NULL)
        return SM_KERR_NOT_LEADER_OR_FOLLOWER;
    (void)br_partition_isr(p, &n);
    return (int64_t)n < br_replica_min_isr(rm, topic) ? SM_KERR_NOT_ENOUGH_REPLICAS : SM_KERR_NONE;
}

void br_replica_acks_status(const br_replica_t *rm, const char *topic, int32_t partition,
                            int32_t epoch, int64_t end_offset, bool *done, sm_kerr_t *err)
{
    br_partition_t *p;
    br_replica_part_t *rp = br_replica_led(rm, topic, partition, &p);
    size_t n = 0;

    *done = true;
    *err = SM_KERR_NONE;
    /* A later epoch of this same leader still counts: the controller bumps the epoch when it
     * removes a dead follower from the ISR, without touching the leader's log. Had we been a
     * follower in between (and truncated), the waiter was answered at that change. */
    if (rp == NULL || br_partition_leader_epoch(p) < epoch) {
        *err = SM_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    if (rp->hw >= end_offset)
        return;
    (void)br_partition_isr(p, &n);
    if ((int64_t)n < br_replica_min_isr(rm, topic)) {
        *err = SM_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
        return;
    }
    *done = false;
}

/* ---- role changes -------------------------------------------------------------------------- */

/* The follower states for p's replica set: those of replicas already tracked are kept (kept
 * leadership, where the log did not change), new ones start with their position unknown and
 * counted as caught up now (they get replica.lag.time.max.ms to show up). */
static sm_err_t br_replica_sync_followers(br_replica_t *rm, br_partition_t *p,
                                          br_replica_part_t *rp)
{
    size_t n;
    const int32_t *replicas = br_partition_replicas(p, &n);
    br_replica_follower_t *fs = calloc(n + 1, sizeof(*fs));
    int64_t now = br_replica_now_ms();
    size_t k = 0;

    if (fs == NULL)
        return SM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const br_replica_follower_t *old = br_replica_follower(rp, replicas[i]);

        if (replicas[i] == rm->cfg.broker_id)
            continue;
        fs[k++] = old != NULL ? *old
                              : (br_replica_follower_t){.id = replicas[i],
                                                        .leo = -1,
                                                        .last_caught_up_ms = now,
                                                        .last_fetch_leo = -1,
                                                        .last_fetch_ms = 0};
    }
    free(rp->followers);
    rp->followers = fs;
    rp->n_followers = k;
    return SM_OK;
}

/* A new leadership: every follower starts afresh (positions of an earlier epoch say nothing),
 * no proposal is in flight, and the HW starts from the recorded one, at most the log end. */
static sm_err_t br_replica_become_leader(br_replica_t *rm, br_partition_t *p, br_replica_part_t *rp)
{
    const char *topic = br_partition_topic(p);
    int32_t part = br_partition_index(p);
    br_log_t *log = br_logmgr_get(rm->cfg.logmgr, topic, part);
    int64_t hw = br_logmgr_high_watermark(rm->cfg.logmgr, topic, part);

    rp->n_followers = 0; /* nothing to keep */
    rp->alter_pending = false;
    rp->pending_add = -1;
    if (log != NULL && hw > br_log_end_offset(log))
        hw = br_log_end_offset(log);
    rp->hw = hw < 0 ? 0 : hw;
    return br_replica_sync_followers(rm, p, rp);
}

/* br_topicconf's listener: topic's config was read, changed or removed; its local logs take
 * the settings it overrides (and the broker's for the rest). */
static void br_replica_on_topic_config(void *arg, const char *topic)
{
    br_replica_t *rm = arg;
    size_t n;

    if (rm->cfg.logmgr == NULL)
        return;
    n = br_logmgr_reconfigure(rm->cfg.logmgr, topic, -1, br_topicconf_overlay, rm->cfg.topicconf);
    sm_log_info("topic %s: config read, applied to %zu log(s)", topic, n);
}

void br_replica_on_partition(void *arg, br_partition_t *p, br_control_part_event_t ev)
{
    br_replica_t *rm = arg;
    br_replica_part_t *rp = br_partition_ext(p);
    const char *topic = br_partition_topic(p);
    int32_t part = br_partition_index(p);
    br_partition_role_t role = br_partition_role(p);

    if (ev == BR_CONTROL_PART_REMOVING) {
        if (rp != NULL)
            rp->role = BR_PARTITION_NONE; /* gone for the waiters woken below */
        br_fetcher_unfollow(rm->fetcher, topic, part);
        if (rm->cfg.purgatory != NULL)
            br_purgatory_wake(rm->cfg.purgatory, topic, part);
        return;
    }
    if (rp == NULL) {
        rp = calloc(1, sizeof(*rp));
        if (rp == NULL) {
            sm_log_error("%s-%d: out of memory for replica state", topic, (int)part);
            return;
        }
        rp->role = BR_PARTITION_NONE;
        rp->leader = -1;
        rp->leader_epoch = -1;
        rp->pending_add = -1;
        br_partition_set_ext(p, rp, br_replica_part_free);
    }
    if (rm->cfg.topicconf != NULL && role != BR_PARTITION_NONE) {
        br_topicconf_track(rm->cfg.topicconf, topic);
        /* A log created after its topic's config was read takes that config now; one created
         * before it, when the read completes (br_replica_on_topic_config). */
        if (rm->cfg.logmgr != NULL)
            br_logmgr_reconfigure(rm->cfg.logmgr, topic, part, br_topicconf_overlay,
                                  rm->cfg.topicconf);
    }
    bool moved = rp->role != role || rp->leader_epoch != br_partition_leader_epoch(p) ||
                 rp->leader != br_partition_leader(p);
    /* Still the leader, only a later epoch (the controller changed the ISR): the followers'
     * positions stay true, as the log did not change. */
    bool kept = role == BR_PARTITION_LEADER && rp->role == BR_PARTITION_LEADER;
    rp->role = role;
    rp->leader = br_partition_leader(p);
    rp->leader_epoch = br_partition_leader_epoch(p);
    if (role == BR_PARTITION_LEADER) {
        br_fetcher_unfollow(rm->fetcher, topic, part);
        if (moved && kept) {
            rp->alter_pending = false; /* its answer, for the older epoch, will be ignored */
            rp->pending_add = -1;
        }
        if (kept && br_replica_sync_followers(rm, p, rp) != SM_OK)
            sm_log_error("%s-%d: out of memory for follower states", topic, (int)part);
        if (moved && !kept && br_replica_become_leader(rm, p, rp) != SM_OK)
            sm_log_error("%s-%d: out of memory for follower states", topic, (int)part);
        br_replica_update_hw(rm, p, rp);
    } else if (role == BR_PARTITION_FOLLOWER && rp->leader >= 0) {
        if (moved &&
            br_fetcher_follow(rm->fetcher, topic, part, rp->leader, rp->leader_epoch) != SM_OK)
            sm_log_error("%s-%d: out of memory starting to follow %d", topic, (int)part,
                         (int)rp->leader);
    } else {
        br_fetcher_unfollow(rm->fetcher, topic, part);
    }
    if (moved && rm->cfg.purgatory != NULL)
        br_purgatory_wake(rm->cfg.purgatory, topic, part); /* invariant 4 */
}

/* ---- life ---------------------------------------------------------------------------------- */

sm_err_t br_replica_new(const br_replica_config_t *cfg, br_replica_t **out)
{
    br_replica_t *rm = calloc(1, sizeof(*rm));
    br_fetcher_config_t fc;
    int64_t tick_ms;
    struct timeval tv;
    sm_err_t err = SM_ERR_NOMEM;

    *out = NULL;
    if (rm == NULL)
        return SM_ERR_NOMEM;
    rm->cfg = *cfg;
    fc = (br_fetcher_config_t){
        .base = cfg->base,
        .broker_id = cfg->broker_id,
        .logmgr = cfg->logmgr,
        .metacache = cfg->metacache,
        .wait_max_ms = cfg->fetch_wait_max_ms,
        .min_bytes = cfg->fetch_min_bytes,
        .max_bytes = cfg->fetch_max_bytes,
        .response_max_bytes = cfg->fetch_response_max_bytes,
        .backoff_ms = cfg->fetch_backoff_ms,
        .socket_timeout_ms = cfg->socket_timeout_ms,
    };
    err = br_fetcher_new(&fc, &rm->fetcher);
    if (err != SM_OK)
        goto fail;
    err = SM_ERR_NOMEM;
    tick_ms = cfg->lag_max_ms / 2;
    if (tick_ms < BR_REPLICA_TICK_MIN_MS)
        tick_ms = BR_REPLICA_TICK_MIN_MS;
    rm->tick_ms = tick_ms;
    tv = (struct timeval){.tv_sec = (time_t)(tick_ms / 1000),
                          .tv_usec = (suseconds_t)(tick_ms % 1000) * 1000};
    rm->tick = event_new(cfg->base, -1, EV_PERSIST, br_replica_on_tick, rm);
    if (rm->tick == NULL || event_add(rm->tick, &tv) < 0)
        goto fail;
    br_control_set_listener(cfg->control, br_replica_on_partition, rm);
    br_topicconf_set_listener(cfg->topicconf, br_replica_on_topic_config, rm);
    br_partition_set_t *set = br_control_partitions(cfg->control);
    for (size_t i = 0; i < br_partition_count(set); i++)
        br_replica_on_partition(rm, br_partition_at(set, i), BR_CONTROL_PART_CHANGED);
    *out = rm;
    return SM_OK;
fail:
    br_replica_free(rm);
    return err;
}

void br_replica_free(br_replica_t *rm)
{
    if (rm == NULL)
        return;
    if (rm->cfg.control != NULL)
        br_control_set_listener(rm->cfg.control, NULL, NULL);
    br_topicconf_set_listener(rm->cfg.topicconf, NULL, NULL);
    for (br_replica_alter_t *a = rm->alters; a != NULL; a = a->next)
        a->rm = NULL; /* their completions come when the control client goes */
    if (rm->tick != NULL)
        event_free(rm->tick);
    br_fetcher_free(rm->fetcher);
    free(rm);
}

uint64_t br_replica_alter_sent(const br_replica_t *rm)
{
    return rm->alter_sent;
}

uint64_t br_replica_alter_accepted(const br_replica_t *rm)
{
    return rm->alter_accepted;
}
