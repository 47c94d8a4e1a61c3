/*
 * br_fetcher: follower fetch connections, truncation and follower appends. See br_fetcher.h
 * for the contract and the design notes.
 */
#include "broker/br_fetcher.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "broker/br_batch.h"
#include "broker/br_epoch.h"
#include "broker/br_kcodec_epoch.h"
#include "broker/br_kcodec_fetchc.h"
#include "broker/br_log.h"
#include "sm_buf.h"
#include "sm_kerr.h"
#include "sm_log.h"
#include "sm_stream.h"

#define BR_FETCHER_API_FETCH         1
#define BR_FETCHER_API_EPOCH         23
#define BR_FETCHER_FETCH_VERSION     11
#define BR_FETCHER_EPOCH_VERSION     3
#define BR_FETCHER_FRAME_SLACK       (64u * 1024 * 1024) /* first batches may exceed the budget */
#define BR_FETCHER_MAX_ROUNDS        16  /* truncation questions per epoch before giving up to HW */
#define BR_FETCHER_WRITES_RECHECK_MS 100 /* invariant 5: look again without a notification */

typedef enum br_fetcher_state {
    BR_FETCHER_TRUNCATING,
    BR_FETCHER_FETCHING,
} br_fetcher_state_t;

typedef enum br_fetcher_kind {
    BR_FETCHER_REQ_NONE,
    BR_FETCHER_REQ_EPOCH,
    BR_FETCHER_REQ_FETCH,
} br_fetcher_kind_t;

typedef struct br_fetcher_part {
    char *topic;
    int32_t partition;
    int32_t leader_epoch;
    br_fetcher_state_t state;
    int64_t retry_at_ms; /* after an error: waits until then */
    int rounds;          /* truncation questions asked in this epoch */
    int64_t leader_hw;   /* the leader's HW in its last answer; -1: none */
} br_fetcher_part_t;

/* What an in-flight request was built for (invariant 2). */
typedef struct br_fetcher_sent {
    const br_fetcher_part_t *part; /* still in this connection, or NULL once taken out of it */
    int32_t leader_epoch;
    int32_t asked_epoch; /* OffsetForLeaderEpoch: the epoch asked about */
    bool answered;       /* Fetch: the response named it */
} br_fetcher_sent_t;

typedef struct br_fetcher_conn {
    br_fetcher_t *f;
    int32_t leader;
    br_fetcher_part_t **parts; /* sorted by (topic, partition) */
    size_t n, cap;
    sm_stream_t *st; /* NULL while not connected or connecting */
    bool connected;
    br_fetcher_kind_t kind; /* in flight */
    int32_t corr;
    br_fetcher_sent_t *sent;
    size_t n_sent;
    struct event *timer;     /* request timeout while in flight; else retries and reconnects */
    int64_t reconnect_at_ms; /* no connection attempt before */
    bool awaiting_writes;    /* invariant 5: no request until our logs have nothing unwritten */
} br_fetcher_conn_t;

struct br_fetcher {
    br_fetcher_config_t cfg;
    br_fetcher_conn_t **conns;
    size_t n_conns;
    char client_id[48];
};

static int64_t br_fetcher_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void br_fetcher_kick(br_fetcher_conn_t *c);

/* ---- partitions ---------------------------------------------------------------------------- */

static void br_fetcher_part_free(br_fetcher_part_t *p)
{
    if (p == NULL)
        return;
    free(p->topic);
    free(p);
}

static int br_fetcher_cmp(const br_fetcher_part_t *p, const char *topic, int32_t partition)
{
    int c = strcmp(p->topic, topic);

    if (c != 0)
        return c;
    return (p->partition > partition) - (p->partition < partition);
}

/* Index of (topic, partition) in c, or where it would go; *found tells which. */
static size_t br_fetcher_find(const br_fetcher_conn_t *c, const char *topic, int32_t partition,
                              bool *found)
{
    size_t lo = 0, hi = c->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = br_fetcher_cmp(c->parts[mid], topic, partition);

        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool br_fetcher_holds(const br_fetcher_conn_t *c, const br_fetcher_part_t *p)
{
    bool found;
    size_t at = br_fetcher_find(c, p->topic, p->partition, &found);

    return found && c->parts[at] == p;
}

/* ---- connection ---------------------------------------------------------------------------- */

static void br_fetcher_drop_inflight(br_fetcher_conn_t *c)
{
    free(c->sent);
    c->sent = NULL;
    c->n_sent = 0;
    c->kind = BR_FETCHER_REQ_NONE;
}

static void br_fetcher_arm(br_fetcher_conn_t *c, int64_t ms)
{
    struct timeval tv;

    if (ms < 0)
        ms = 0;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    evtimer_add(c->timer, &tv);
}

/* Closes the connection; the next attempt waits replica.fetch.backoff.ms. */
static void br_fetcher_reset(br_fetcher_conn_t *c, const char *why)
{
    if (c->st != NULL) {
        if (why != NULL)
            sm_log_warn("fetcher for leader %d: %s; reconnecting in %" PRId64 " ms", (int)c->leader,
                        why, c->f->cfg.backoff_ms);
        sm_stream_free(c->st);
        c->st = NULL;
    }
    c->connected = false;
    br_fetcher_drop_inflight(c);
    c->reconnect_at_ms = br_fetcher_now_ms() + c->f->cfg.backoff_ms;
    br_fetcher_arm(c, c->f->cfg.backoff_ms);
}

static void br_fetcher_on_response(br_fetcher_conn_t *c, const uint8_t *buf, size_t len);

static void br_fetcher_on_read(sm_stream_t *st, void *arg)
{
    br_fetcher_conn_t *c = arg;
    struct evbuffer *in = sm_stream_input(st);
    size_t max = (size_t)c->f->cfg.response_max_bytes + BR_FETCHER_FRAME_SLACK;

    while (c->st == st && evbuffer_get_length(in) >= 4) {
        uint8_t hdr[4];
        uint32_t size;
        uint8_t *buf;

        evbuffer_copyout(in, hdr, 4);
        size = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        if (size < 4 || size > max) {
            br_fetcher_reset(c, "bad response frame size");
            return;
        }
        if (evbuffer_get_length(in) < 4 + (size_t)size)
            return;
        buf = malloc(size);
        if (buf == NULL) {
            br_fetcher_reset(c, "out of memory");
            return;
        }
        evbuffer_drain(in, 4);
        evbuffer_remove(in, buf, size);
        br_fetcher_on_response(c, buf, size);
        free(buf);
    }
}

static void br_fetcher_on_connected(sm_stream_t *st, void *arg)
{
    br_fetcher_conn_t *c = arg;

    if (st != c->st)
        return;
    c->connected = true;
    sm_log_info("fetcher connected to leader %d", (int)c->leader);
    br_fetcher_kick(c);
}

static void br_fetcher_on_close(sm_stream_t *st, int err, void *arg)
{
    br_fetcher_conn_t *c = arg;
    char why[128];

    if (st != c->st)
        return;
    if (err == 0)
        snprintf(why, sizeof(why), "connection closed by the leader");
    else
        snprintf(why, sizeof(why), "connection failed: %s", strerror(err));
    br_fetcher_reset(c, why);
}

static const sm_stream_cbs_t br_fetcher_cbs = {
    .on_read = br_fetcher_on_read,
    .on_connected = br_fetcher_on_connected,
    .on_close = br_fetcher_on_close,
};

/* Starts a connection to the leader's first Kafka endpoint from the metadata cache. */
static void br_fetcher_connect(br_fetcher_conn_t *c)
{
    const br_metacache_broker_t *b = br_metacache_broker(c->f->cfg.metacache, c->leader);
    struct evutil_addrinfo hints, *ai = NULL;
    char port[16];

    if (b == NULL || b->n_endpoints == 0 || b->endpoints[0].host == NULL) {
        c->reconnect_at_ms = br_fetcher_now_ms() + c->f->cfg.backoff_ms;
        br_fetcher_arm(c, c->f->cfg.backoff_ms); /* metadata not here yet */
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", (int)b->endpoints[0].port);
    if (evutil_getaddrinfo(b->endpoints[0].host, port, &hints, &ai) != 0 || ai == NULL) {
        sm_log_warn("fetcher: cannot resolve leader %d at %s:%s", (int)c->leader,
                    b->endpoints[0].host, port);
        br_fetcher_reset(c, NULL);
        return;
    }
    if (sm_stream_connect(c->f->cfg.base, ai->ai_addr, ai->ai_addrlen, &br_fetcher_cbs, c,
                          &c->st) != SM_OK) {
        int saved = errno;

        sm_log_warn("fetcher: cannot connect to leader %d at %s:%s: %s", (int)c->leader,
                    b->endpoints[0].host, port, strerror(saved));
        br_fetcher_reset(c, NULL);
    }
    evutil_freeaddrinfo(ai);
}

/* Frames and sends a request whose body the encoder already wrote after the header slot. */
static bool br_fetcher_send(br_fetcher_conn_t *c, sm_writer_t *w, int64_t timeout_ms)
{
    if (sm_writer_err(w) != SM_OK) {
        sm_log_error("fetcher for leader %d: cannot encode a request: %s", (int)c->leader,
                     sm_err_str(sm_writer_err(w)));
        return false;
    }
    sm_writer_patch_i32(w, 0, (int32_t)(sm_writer_len(w) - 4));
    if (evbuffer_add(sm_stream_output(c->st), sm_writer_data(w), sm_writer_len(w)) < 0) {
        br_fetcher_reset(c, "cannot queue a request");
        return false;
    }
    sm_stream_flush(c->st);
    br_fetcher_arm(c, timeout_ms);
    return true;
}

static void br_fetcher_header(br_fetcher_conn_t *c, sm_writer_t *w, int16_t key, int16_t version)
{
    (void)sm_writer_reserve(w, 4);
    sm_writer_i16(w, key);
    sm_writer_i16(w, version);
    sm_writer_i32(w, ++c->corr);
    sm_writer_nullable_str(w, sm_str_of(c->f->client_id));
}

/* ---- truncation ---------------------------------------------------------------------------- */

/* Truncates the follower's log of p to `offset`, its epoch cache and HW with it. */
static void br_fetcher_truncate(br_fetcher_t *f, br_fetcher_part_t *p, int64_t offset)
{
    br_log_t *log = br_logmgr_get(f->cfg.logmgr, p->topic, p->partition);
    br_epoch_t *cache = br_logmgr_epochs(f->cfg.logmgr, p->topic, p->partition);
    sm_errbuf_t eb;

    if (log == NULL || cache == NULL)
        return;
    int64_t before = br_log_end_offset(log);
    if (offset < before) {
        if (br_log_truncate_to(log, offset) != SM_OK)
            return;
        sm_log_info("%s-%d: truncated from %" PRId64 " to %" PRId64
                    " to match the leader's log (leader epoch %d)",
                    p->topic, (int)p->partition, before, br_log_end_offset(log),
                    (int)p->leader_epoch);
    }
    int64_t leo = br_log_end_offset(log);
    if (br_epoch_truncate_from_end(cache, leo, &eb) != SM_OK)
        sm_log_error("%s", eb.msg);
    if (br_logmgr_high_watermark(f->cfg.logmgr, p->topic, p->partition) > leo)
        (void)br_logmgr_set_high_watermark(f->cfg.logmgr, p->topic, p->partition, leo);
}

/* Applies one OffsetForLeaderEpoch answer (the rule in br_fetcher.h). */
static void br_fetcher_on_epoch_result(br_fetcher_conn_t *c, br_fetcher_part_t *p, int32_t asked,
                                       const br_kcodec_epoch_presult_t *r)
{
    br_fetcher_t *f = c->f;
    br_log_t *log = br_logmgr_get(f->cfg.logmgr, p->topic, p->partition);
    br_epoch_t *cache = br_logmgr_epochs(f->cfg.logmgr, p->topic, p->partition);
    int32_t own_epoch;
    int64_t own_end;

    if (log == NULL || cache == NULL) {
        p->retry_at_ms = br_fetcher_now_ms() + f->cfg.backoff_ms;
        return;
    }
    if (r->error != SM_KERR_NONE) {
        sm_log_debug("%s-%d: OffsetForLeaderEpoch answered %s", p->topic, (int)p->partition,
                     sm_kerr_name(r->error));
        p->retry_at_ms = br_fetcher_now_ms() + f->cfg.backoff_ms;
        return;
    }
    br_log_drain(log); /* compare with every append we made, as leader too (br_log.h note 5) */
    int64_t leo = br_log_end_offset(log);
    p->rounds++;
    if (r->leader_epoch < 0 || r->end_offset < 0 || p->rounds > BR_FETCHER_MAX_ROUNDS) {
        /* The leader knows no epoch at or below ours: only our HW is known to match. */
        br_fetcher_truncate(f, p, br_logmgr_high_watermark(f->cfg.logmgr, p->topic, p->partition));
        p->state = BR_FETCHER_FETCHING;
        return;
    }
    br_epoch_end_offset_for(cache, r->leader_epoch, leo, &own_epoch, &own_end);
    if (own_epoch == r->leader_epoch) {
        int64_t to = r->end_offset < own_end ? r->end_offset : own_end;
        br_fetcher_truncate(f, p, to < leo ? to : leo);
        p->state = BR_FETCHER_FETCHING;
        sm_log_info("%s-%d: following leader epoch %d from offset %" PRId64, p->topic,
                    (int)p->partition, (int)p->leader_epoch, br_log_end_offset(log));
        return;
    }
    /* We do not have the leader's epoch: drop what we wrote after our largest epoch below it
     * and ask again about the epoch we then end with (KIP-279). */
    if (own_epoch < 0 || own_end < 0)
        own_end = br_logmgr_high_watermark(f->cfg.logmgr, p->topic, p->partition);
    br_fetcher_truncate(f, p, own_end < leo ? own_end : leo);
    if (br_epoch_latest(cache) >= asked || br_epoch_latest(cache) < 0)
        p->state = BR_FETCHER_FETCHING; /* nothing left to ask about */
}

static void br_fetcher_on_epoch(br_fetcher_conn_t *c, sm_reader_t *r)
{
    br_kcodec_epoch_resp_t resp;

    if (br_kcodec_epoch_resp_decode(r, BR_FETCHER_EPOCH_VERSION, &resp) != SM_OK) {
        br_fetcher_reset(c, "malformed OffsetForLeaderEpoch response");
        return;
    }
    for (size_t i = 0; i < c->n_sent; i++) {
        const br_fetcher_sent_t *s = &c->sent[i];
        br_fetcher_part_t *p = (br_fetcher_part_t *)(uintptr_t)s->part;

        if (p == NULL || !br_fetcher_holds(c, p) || p->leader_epoch != s->leader_epoch ||
            p->state != BR_FETCHER_TRUNCATING)
            continue;
        const br_kcodec_epoch_presult_t *found = NULL;
        for (int32_t t = 0; t < resp.n_topics && found == NULL; t++) {
            const br_kcodec_epoch_tresult_t *tr = &resp.topics[t];
            if (tr->name.len != (int32_t)strlen(p->topic) ||
                memcmp(tr->name.ptr, p->topic, (size_t)tr->name.len) != 0)
                continue;
            for (int32_t j = 0; j < tr->n_parts; j++)
                if (tr->parts[j].partition == p->partition)
                    found = &tr->parts[j];
        }
        if (found == NULL)
            p->retry_at_ms = br_fetcher_now_ms() + c->f->cfg.backoff_ms;
        else
            br_fetcher_on_epoch_result(c, p, s->asked_epoch, found);
    }
    br_kcodec_epoch_resp_deinit(&resp);
}

/* Sends OffsetForLeaderEpoch for every truncating partition that is due; false if none. A
 * partition with an empty epoch cache has nothing to compare and starts fetching at once. */
static bool br_fetcher_send_epochs(br_fetcher_conn_t *c, int64_t now)
{
    br_fetcher_t *f = c->f;
    br_kcodec_epoch_topic_t *topics = calloc(c->n + 1, sizeof(*topics));
    br_kcodec_epoch_part_t *parts = calloc(c->n + 1, sizeof(*parts));
    br_kcodec_epoch_req_t req = {.version = BR_FETCHER_EPOCH_VERSION,
                                 .replica_id = f->cfg.broker_id};
    sm_writer_t w;
    size_t n = 0;
    bool sent = false;

    c->sent = calloc(c->n + 1, sizeof(*c->sent));
    if (topics == NULL || parts == NULL || c->sent == NULL)
        goto out;
    for (size_t i = 0; i < c->n; i++) {
        br_fetcher_part_t *p = c->parts[i];
        br_epoch_t *cache;

        if (p->state != BR_FETCHER_TRUNCATING || p->retry_at_ms > now)
            continue;
        cache = br_logmgr_epochs(f->cfg.logmgr, p->topic, p->partition);
        if (cache == NULL) {
            p->retry_at_ms = now + f->cfg.backoff_ms;
            continue;
        }
        if (br_epoch_latest(cache) < 0) {
            /* No epochs to compare (an empty log, or a lost leader-epoch-checkpoint): only
             * the HW is known to match the leader (Kafka truncates to it). */
            br_fetcher_truncate(f, p,
                                br_logmgr_high_watermark(f->cfg.logmgr, p->topic, p->partition));
            p->state = BR_FETCHER_FETCHING;
            continue;
        }
        if (req.n_topics == 0 || strcmp(topics[req.n_topics - 1].name.ptr, p->topic) != 0) {
            topics[req.n_topics].name = sm_str_of(p->topic);
            topics[req.n_topics].parts = &parts[n];
            req.n_topics++;
        }
        parts[n] = (br_kcodec_epoch_part_t){.partition = p->partition,
                                            .current_leader_epoch = p->leader_epoch,
                                            .leader_epoch = br_epoch_latest(cache)};
        topics[req.n_topics - 1].n_parts++;
        c->sent[c->n_sent++] =
            (br_fetcher_sent_t){p, p->leader_epoch, parts[n].leader_epoch, false};
        n++;
    }
    if (n == 0)
        goto out;
    req.topics = topics;
    sm_writer_init(&w, 256 + 32 * n);
    br_fetcher_header(c, &w, BR_FETCHER_API_EPOCH, BR_FETCHER_EPOCH_VERSION);
    br_kcodec_epoch_req_encode(&w, &req);
    c->kind = BR_FETCHER_REQ_EPOCH;
    sent = br_fetcher_send(c, &w, f->cfg.socket_timeout_ms);
    sm_writer_deinit(&w);
out:
    free(topics);
    free(parts);
    if (!sent)
        br_fetcher_drop_inflight(c);
    return sent;
}

/* ---- fetching ------------------------------------------------------------------------------ */

/* The follower's HW: the leader's last one, but never past what our log has written. */
static void br_fetcher_take_hw(br_fetcher_t *f, const br_fetcher_part_t *p, br_log_t *log)
{
    int64_t leo = br_log_end_offset(log);
    int64_t hw = p->leader_hw < leo ? p->leader_hw : leo;

    if (hw >= 0 && hw != br_logmgr_high_watermark(f->cfg.logmgr, p->topic, p->partition))
        (void)br_logmgr_set_high_watermark(f->cfg.logmgr, p->topic, p->partition, hw);
}

/* Appends one partition's fetched records and takes its HW from the answer. */
static void br_fetcher_append(br_fetcher_t *f, br_fetcher_part_t *p,
                              const br_kcodec_fetchc_part_t *fp, int64_t now)
{
    br_log_t *log = br_logmgr_get(f->cfg.logmgr, p->topic, p->partition);
    br_epoch_t *cache = br_logmgr_epochs(f->cfg.logmgr, p->topic, p->partition);
    br_batch_limits_t lim = {.skip_record_walk = true, .allow_partial_tail = true};
    br_batch_verdict_t v;
    br_batch_set_t set;
    sm_err_t err = SM_OK;

    if (log == NULL || cache == NULL) {
        p->retry_at_ms = now + f->cfg.backoff_ms;
        return;
    }
    br_batch_set_init(&set);
    if (fp->records.len > 0) {
        err = br_batch_validate_set(fp->records.ptr, (size_t)fp->records.len, &lim, &set, &v);
        if (err != SM_OK) {
            sm_log_error("%s-%d: the leader sent a bad batch (%s); retrying", p->topic,
                         (int)p->partition, v.reason);
            p->retry_at_ms = now + f->cfg.backoff_ms;
            goto out;
        }
    }
    if (set.count > 0) {
        int64_t leo = br_log_end_offset(log);
        size_t skip = 0, pos = 0;

        /* Batches wholly below our end (never expected: we fetch at our end) are skipped. */
        while (skip < set.count &&
               set.batches[skip].hdr.base_offset + set.batches[skip].hdr.last_offset_delta < leo) {
            pos += set.batches[skip].size;
            skip++;
        }
        if (skip < set.count) {
            br_batch_set_t tail = set;
            tail.batches = set.batches + skip;
            tail.count = set.count - skip;
            tail.bytes = set.bytes - pos;
            for (size_t i = 0; i < tail.count; i++)
                tail.batches[i].pos -= pos; /* extents are relative to the bytes appended */
            /* New leader epochs go into the cache through the log manager's batch hook. */
            err = br_log_append_as_follower(log, fp->records.ptr + pos, &tail, now, NULL);
            if (err == SM_ERR_RANGE) {
                p->state = BR_FETCHER_TRUNCATING; /* does not continue our log */
                p->rounds = 0;
                goto out;
            }
            if (err != SM_OK) {
                sm_log_error("%s-%d: follower append failed: %s", p->topic, (int)p->partition,
                             sm_err_str(err));
                p->retry_at_ms = now + f->cfg.backoff_ms;
                goto out;
            }
        }
    }
    p->leader_hw = fp->h.high_watermark;
    br_fetcher_take_hw(f, p, log);
out:
    br_batch_set_deinit(&set);
}

static void br_fetcher_on_fetch_part(br_fetcher_conn_t *c, br_fetcher_part_t *p,
                                     const br_kcodec_fetchc_part_t *fp, int64_t now)
{
    br_fetcher_t *f = c->f;

    switch (fp->h.error) {
    case SM_KERR_NONE:
        br_fetcher_append(f, p, fp, now);
        return;
    case SM_KERR_OFFSET_OUT_OF_RANGE: {
        br_log_t *log = br_logmgr_get(f->cfg.logmgr, p->topic, p->partition);
        br_epoch_t *cache = br_logmgr_epochs(f->cfg.logmgr, p->topic, p->partition);
        sm_errbuf_t eb;

        if (log != NULL && cache != NULL && fp->h.log_start_offset > br_log_end_offset(log)) {
            /* Retention moved the leader's start past our end: start over there. */
            if (br_log_truncate_fully_and_start_at(log, fp->h.log_start_offset) == SM_OK &&
                br_epoch_clear(cache, &eb) == SM_OK) {
                (void)br_logmgr_set_high_watermark(f->cfg.logmgr, p->topic, p->partition,
                                                   fp->h.log_start_offset);
                sm_log_info("%s-%d: restarted empty at the leader's log start %" PRId64, p->topic,
                            (int)p->partition, fp->h.log_start_offset);
                return;
            }
            p->retry_at_ms = now + f->cfg.backoff_ms;
            return;
        }
        p->state = BR_FETCHER_TRUNCATING; /* ahead of the leader: find where we diverge */
        p->rounds = 0;
        return;
    }
    default:
        sm_log_debug("%s-%d: fetch from leader %d answered %s", p->topic, (int)p->partition,
                     (int)c->leader, sm_kerr_name(fp->h.error));
        p->retry_at_ms = now + f->cfg.backoff_ms;
        return;
    }
}

static void br_fetcher_on_fetch(br_fetcher_conn_t *c, sm_reader_t *r)
{
    br_kcodec_fetchc_resp_t resp;
    int64_t now = br_fetcher_now_ms();

    if (br_kcodec_fetchc_decode_response(r, BR_FETCHER_FETCH_VERSION, &resp) != SM_OK) {
        br_fetcher_reset(c, "malformed Fetch response");
        return;
    }
    if (resp.error != SM_KERR_NONE)
        sm_log_warn("fetcher for leader %d: Fetch answered %s", (int)c->leader,
                    sm_kerr_name(resp.error));
    for (int32_t t = 0; t < resp.n_topics; t++) {
        const br_kcodec_fetchc_topic_t *tp = &resp.topics[t];
        char topic[256];

        if (tp->name.len <= 0 || tp->name.len >= (int32_t)sizeof(topic))
            continue;
        memcpy(topic, tp->name.ptr, (size_t)tp->name.len);
        topic[tp->name.len] = '\0';
        for (int32_t j = 0; j < tp->n_parts; j++) {
            bool found;
            size_t at = br_fetcher_find(c, topic, tp->parts[j].h.partition, &found);
            br_fetcher_part_t *p = found ? c->parts[at] : NULL;
            br_fetcher_sent_t *sent = NULL;

            for (size_t i = 0; p != NULL && i < c->n_sent && sent == NULL; i++)
                if (c->sent[i].part == p && c->sent[i].leader_epoch == p->leader_epoch)
                    sent = &c->sent[i];
            if (p == NULL || sent == NULL || sent->answered || p->state != BR_FETCHER_FETCHING)
                continue; /* invariant 2 */
            sent->answered = true;
            br_fetcher_on_fetch_part(c, p, &tp->parts[j], now);
        }
    }
    /* A partition the answer left out (or a top-level error) waits before it is asked again:
     * a leader that keeps doing so must not get a request storm. */
    for (size_t i = 0; i < c->n_sent; i++) {
        br_fetcher_part_t *p = (br_fetcher_part_t *)(uintptr_t)c->sent[i].part;

        if (p != NULL && !c->sent[i].answered)
            p->retry_at_ms = now + c->f->cfg.backoff_ms;
    }
    br_kcodec_fetchc_resp_deinit(&resp);
}

/* Sends one Fetch for every fetching partition that is due; false if none. */
static bool br_fetcher_send_fetch(br_fetcher_conn_t *c, int64_t now)
{
    br_fetcher_t *f = c->f;
    br_kcodec_fetch_topic_t *topics = calloc(c->n + 1, sizeof(*topics));
    br_kcodec_fetch_part_t *parts = calloc(c->n + 1, sizeof(*parts));
    br_kcodec_fetch_req_t req = {
        .version = BR_FETCHER_FETCH_VERSION,
        .replica_id = f->cfg.broker_id,
        .max_wait_ms = f->cfg.wait_max_ms,
        .min_bytes = f->cfg.min_bytes,
        .max_bytes = f->cfg.response_max_bytes,
        .isolation_level = 0,
        .session_id = 0,
        .session_epoch = -1,
    };
    sm_writer_t w;
    size_t n = 0;
    bool sent = false;

    c->sent = calloc(c->n + 1, sizeof(*c->sent));
    if (topics == NULL || parts == NULL || c->sent == NULL)
        goto out;
    for (size_t i = 0; i < c->n; i++) {
        br_fetcher_part_t *p = c->parts[i];
        br_log_t *log;

        if (p->state != BR_FETCHER_FETCHING || p->retry_at_ms > now)
            continue;
        log = br_logmgr_get(f->cfg.logmgr, p->topic, p->partition);
        if (log == NULL) {
            p->retry_at_ms = now + f->cfg.backoff_ms;
            continue;
        }
        if (req.n_topics == 0 || strcmp(topics[req.n_topics - 1].name.ptr, p->topic) != 0) {
            topics[req.n_topics].name = sm_str_of(p->topic);
            topics[req.n_topics].parts = &parts[n];
            req.n_topics++;
        }
        parts[n] = (br_kcodec_fetch_part_t){.partition = p->partition,
                                            .current_leader_epoch = p->leader_epoch,
                                            .fetch_offset = br_log_end_offset(log),
                                            .log_start_offset = br_log_start_offset(log),
                                            .partition_max_bytes = f->cfg.max_bytes};
        topics[req.n_topics - 1].n_parts++;
        c->sent[c->n_sent++] = (br_fetcher_sent_t){p, p->leader_epoch, -1, false};
        n++;
    }
    if (n == 0)
        goto out;
    req.topics = topics;
    sm_writer_init(&w, 256 + 40 * n);
    br_fetcher_header(c, &w, BR_FETCHER_API_FETCH, BR_FETCHER_FETCH_VERSION);
    br_kcodec_fetchc_encode_request(&w, &req);
    c->kind = BR_FETCHER_REQ_FETCH;
    sent = br_fetcher_send(c, &w, f->cfg.socket_timeout_ms + f->cfg.wait_max_ms);
    sm_writer_deinit(&w);
out:
    free(topics);
    free(parts);
    if (!sent)
        br_fetcher_drop_inflight(c);
    return sent;
}

/* True while a log of c's partitions still has appends with the writer (invariant 5). */
static bool br_fetcher_unwritten(const br_fetcher_conn_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        br_log_t *log = br_logmgr_get(c->f->cfg.logmgr, c->parts[i]->topic, c->parts[i]->partition);

        if (log != NULL && br_log_unwritten(log) > 0)
            return true;
    }
    return false;
}

/* The appends of the last answer are all written: the followers' HWs may follow the
 * leader's, and the next request may go. */
static void br_fetcher_writes_done(br_fetcher_conn_t *c)
{
    c->awaiting_writes = false;
    for (size_t i = 0; i < c->n; i++) {
        br_fetcher_part_t *p = c->parts[i];
        br_log_t *log = br_logmgr_get(c->f->cfg.logmgr, p->topic, p->partition);

        if (log != NULL && p->state == BR_FETCHER_FETCHING && p->leader_hw >= 0)
            br_fetcher_take_hw(c->f, p, log);
    }
}

static void br_fetcher_on_response(br_fetcher_conn_t *c, const uint8_t *buf, size_t len)
{
    sm_reader_t r;
    int32_t corr;

    sm_reader_init(&r, buf, len);
    corr = sm_reader_i32(&r);
    if (sm_reader_err(&r) != SM_OK || c->kind == BR_FETCHER_REQ_NONE || corr != c->corr) {
        br_fetcher_reset(c, "unexpected response");
        return;
    }
    evtimer_del(c->timer);
    if (c->kind == BR_FETCHER_REQ_EPOCH)
        br_fetcher_on_epoch(c, &r);
    else
        br_fetcher_on_fetch(c, &r);
    if (c->st == NULL)
        return; /* reset while handling */
    br_fetcher_drop_inflight(c);
    if (br_fetcher_unwritten(c)) {
        /* br_fetcher_written kicks when they are; the timer re-checks in case it never comes
         * (the log was closed meanwhile). */
        c->awaiting_writes = true;
        br_fetcher_arm(c, BR_FETCHER_WRITES_RECHECK_MS);
        return;
    }
    br_fetcher_kick(c);
}

/* ---- scheduling ---------------------------------------------------------------------------- */

/* Does what is due on c: connect, ask about epochs, fetch, or wait for the next retry. */
static void br_fetcher_kick(br_fetcher_conn_t *c)
{
    int64_t now = br_fetcher_now_ms(), next = INT64_MAX;

    if (c->kind != BR_FETCHER_REQ_NONE)
        return;
    if (c->awaiting_writes) {
        if (br_fetcher_unwritten(c))
            return;
        br_fetcher_writes_done(c);
    }
    if (c->n == 0) {
        if (c->st != NULL) {
            sm_stream_free(c->st);
            c->st = NULL;
            c->connected = false;
        }
        evtimer_del(c->timer);
        return;
    }
    if (c->st == NULL) {
        if (now >= c->reconnect_at_ms)
            br_fetcher_connect(c);
        else
            br_fetcher_arm(c, c->reconnect_at_ms - now);
        return;
    }
    if (!c->connected)
        return;
    if (br_fetcher_send_epochs(c, now) || c->st == NULL)
        return;
    if (br_fetcher_send_fetch(c, now) || c->st == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (c->parts[i]->retry_at_ms > now && c->parts[i]->retry_at_ms < next)
            next = c->parts[i]->retry_at_ms;
    if (next != INT64_MAX)
        br_fetcher_arm(c, next - now);
}

static void br_fetcher_on_timer(evutil_socket_t fd, short what, void *arg)
{
    br_fetcher_conn_t *c = arg;

    (void)fd;
    (void)what;
    if (c->kind != BR_FETCHER_REQ_NONE) {
        br_fetcher_reset(c, "no answer within replica.socket.timeout.ms");
        return;
    }
    br_fetcher_kick(c);
}

/* ---- life ---------------------------------------------------------------------------------- */

static br_fetcher_conn_t *br_fetcher_conn(br_fetcher_t *f, int32_t leader, bool create)
{
    br_fetcher_conn_t *c, **nc;

    for (size_t i = 0; i < f->n_conns; i++)
        if (f->conns[i]->leader == leader)
            return f->conns[i];
    if (!create)
        return NULL;
    nc = realloc(f->conns, (f->n_conns + 1) * sizeof(*nc));
    if (nc == NULL)
        return NULL;
    f->conns = nc;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->f = f;
    c->leader = leader;
    c->timer = evtimer_new(f->cfg.base, br_fetcher_on_timer, c);
    if (c->timer == NULL) {
        free(c);
        return NULL;
    }
    f->conns[f->n_conns++] = c;
    return c;
}

static void br_fetcher_conn_free(br_fetcher_conn_t *c)
{
    if (c->st != NULL)
        sm_stream_free(c->st);
    event_free(c->timer);
    for (size_t i = 0; i < c->n; i++)
        br_fetcher_part_free(c->parts[i]);
    free(c->parts);
    free(c->sent);
    free(c);
}

sm_err_t br_fetcher_new(const br_fetcher_config_t *cfg, br_fetcher_t **out)
{
    br_fetcher_t *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (f == NULL)
        return SM_ERR_NOMEM;
    f->cfg = *cfg;
    if (f->cfg.backoff_ms <= 0)
        f->cfg.backoff_ms = 1000;
    if (f->cfg.socket_timeout_ms <= 0)
        f->cfg.socket_timeout_ms = 30000;
    if (f->cfg.max_bytes <= 0)
        f->cfg.max_bytes = 1048576;
    if (f->cfg.response_max_bytes <= 0)
        f->cfg.response_max_bytes = 10485760;
    snprintf(f->client_id, sizeof(f->client_id), "samsa-replica-%d", (int)cfg->broker_id);
    *out = f;
    return SM_OK;
}

void br_fetcher_free(br_fetcher_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_conns; i++)
        br_fetcher_conn_free(f->conns[i]);
    free(f->conns);
    free(f);
}

/* Removes (topic, partition) from c if there; returns it (not freed) or NULL. */
static br_fetcher_part_t *br_fetcher_take(br_fetcher_conn_t *c, const char *topic,
                                          int32_t partition)
{
    bool found;
    size_t at = br_fetcher_find(c, topic, partition, &found);
    br_fetcher_part_t *p;

    if (!found)
        return NULL;
    p = c->parts[at];
    memmove(&c->parts[at], &c->parts[at + 1], (c->n - at - 1) * sizeof(*c->parts));
    c->n--;
    /* An in-flight request may still name p: forget it there (invariant 2). */
    for (size_t i = 0; i < c->n_sent; i++)
        if (c->sent[i].part == p)
            c->sent[i].part = NULL;
    return p;
}

void br_fetcher_unfollow(br_fetcher_t *f, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < f->n_conns; i++) {
        br_fetcher_part_t *p = br_fetcher_take(f->conns[i], topic, partition);

        if (p != NULL) {
            br_fetcher_part_free(p);
            br_fetcher_kick(f->conns[i]);
        }
    }
}

sm_err_t br_fetcher_follow(br_fetcher_t *f, const char *topic, int32_t partition, int32_t leader,
                           int32_t leader_epoch)
{
    br_fetcher_conn_t *c;
    br_fetcher_part_t *p;
    bool found;
    size_t at;

    br_fetcher_unfollow(f, topic, partition);
    c = br_fetcher_conn(f, leader, true);
    p = calloc(1, sizeof(*p));
    if (c == NULL || p == NULL || (p->topic = strdup(topic)) == NULL) {
        free(p);
        return SM_ERR_NOMEM;
    }
    p->partition = partition;
    p->leader_epoch = leader_epoch;
    p->state = BR_FETCHER_TRUNCATING;
    p->leader_hw = -1;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        br_fetcher_part_t **np = realloc(c->parts, ncap * sizeof(*np));

        if (np == NULL) {
            br_fetcher_part_free(p);
            return SM_ERR_NOMEM;
        }
        c->parts = np;
        c->cap = ncap;
    }
    at = br_fetcher_find(c, topic, partition, &found);
    memmove(&c->parts[at + 1], &c->parts[at], (c->n - at) * sizeof(*c->parts));
    c->parts[at] = p;
    c->n++;
    br_fetcher_kick(c);
    return SM_OK;
}

void br_fetcher_written(br_fetcher_t *f, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < f->n_conns; i++) {
        br_fetcher_conn_t *c = f->conns[i];
        bool found;

        (void)br_fetcher_find(c, topic, partition, &found);
        if (found) {
            if (c->awaiting_writes)
                br_fetcher_kick(c);
            return;
        }
    }
}

size_t br_fetcher_count(const br_fetcher_t *f)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_conns; i++)
        n += f->conns[i]->n;
    return n;
}

size_t br_fetcher_fetching(const br_fetcher_t *f)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_conns; i++)
        for (size_t j = 0; j < f->conns[i]->n; j++)
            n += f->conns[i]->parts[j]->state == BR_FETCHER_FETCHING;
    return n;
}
