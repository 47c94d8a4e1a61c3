/*
 * Unit tests for br_fetcher, the follower side of replication, against a stand-in leader in
 * the test process: a listening socket on 127.0.0.1 whose connections read Kafka request
 * frames (OffsetForLeaderEpoch v3, Fetch v11) and answer them with the server-side encoders
 * from a real leader log (a second br_logmgr in its own scratch directory), so offsets, epochs
 * and batch boundaries are those a real leader would send. The follower has its own log
 * manager; a br_metacache names the stand-in's endpoint. Covers truncation (KIP-101 and the
 * KIP-279 second question), the empty follower, follower appends keeping the leader's offsets
 * and epochs, the follower HW, a restart at the leader's log start, backoff after a partition
 * error, the request fields, one connection per leader, unfollow, reconnection after a close
 * or a socket timeout, and a follower whose appends a writer thread writes (no Fetch while
 * one is unwritten). Every loop run is bounded.
 */
#include "broker/br_fetcher.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_epoch.h"
#include "broker/br_flusher.h"
#include "broker/br_kcodec_epoch.h"
#include "broker/br_kcodec_fetch.h"
#include "sm_log.h"
#include "storage_fixture.h"

#define ME        2
#define LEADER    1
#define MAXSEEN   4096
#define MAXLCONNS 8
#define EMPTY_MS  30 /* the stand-in's long poll: an empty fetch is answered after this */

static struct event_base *base;
static char fdir[256], ldir[256];
static br_logmgr_t *flm; /* the follower's (the fetcher's) logs */
static br_logmgr_t *llm; /* the stand-in leader's logs */
static br_metacache_t *mc;
static br_fetcher_t *fetcher;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the stand-in leader -------------------------------------------------------------------- */

/* One partition of one request, as the leader saw it. */
typedef struct seen {
    int16_t key;
    int16_t version;
    char client_id[64];
    char topic[32];
    int32_t partition;
    int32_t replica_id;
    int32_t current_leader_epoch;
    int32_t asked_epoch;  /* OffsetForLeaderEpoch */
    int64_t fetch_offset; /* Fetch */
    int32_t max_wait_ms;
    int64_t at_ms;
    int64_t follower_leo; /* the follower's log end and HW when the request arrived */
    int64_t follower_hw;
    size_t follower_unwritten; /* its appends still with a writer thread then */
    char follower_cache[64];   /* its epoch cache then, as cache_str writes it */
} seen_t;

typedef struct lconn {
    struct bufferevent *bev;
    struct event *delay; /* an empty fetch answer waiting EMPTY_MS */
    uint8_t *pending;
    size_t pending_len;
} lconn_t;

static evutil_socket_t lfd = -1;
static int lport;
static struct event *accept_ev;
static lconn_t *lconns[MAXLCONNS];
static size_t n_accepted, n_closed;
static seen_t seen[MAXSEEN];
static size_t n_seen;

/* Knobs of the leader's behaviour. */
static int64_t leader_hw;        /* the HW it answers */
static int fail_fetches;         /* answer the next N partition fetches with fail_code */
static sm_kerr_t fail_code;      /* ... this error */
static int32_t leader_epoch_now; /* -1: no current-epoch check; else fence older ones */
static bool answer_epochs_undef; /* OffsetForLeaderEpoch answers (-1, -1) */
static bool mute;                /* requests are read and never answered */

/* What went wrong inside a callback (the stand-in): callbacks never assert, so a failure
 * cannot jump over the code that frees what they hold; run_until checks it. */
static const char *cb_error;

static void cb_fail(const char *why)
{
    if (cb_error == NULL)
        cb_error = why;
}

static void lconn_free(lconn_t *lc)
{
    if (lc == NULL)
        return;
    if (lc->delay != NULL)
        event_free(lc->delay);
    if (lc->bev != NULL)
        bufferevent_free(lc->bev);
    free(lc->pending);
    free(lc);
}

static void lconn_drop(lconn_t *lc)
{
    for (size_t i = 0; i < MAXLCONNS; i++)
        if (lconns[i] == lc)
            lconns[i] = NULL;
    lconn_free(lc);
    n_closed++;
}

static void record(const seen_t *s)
{
    if (n_seen < MAXSEEN)
        seen[n_seen] = *s;
    n_seen++;
}

static size_t count_seen(int16_t key)
{
    size_t n = 0;

    for (size_t i = 0; i < n_seen && i < MAXSEEN; i++)
        n += seen[i].key == key;
    return n;
}

/* The i-th recorded request partition of API `key`, or NULL. */
static const seen_t *nth_seen(int16_t key, size_t i)
{
    for (size_t j = 0; j < n_seen && j < MAXSEEN; j++)
        if (seen[j].key == key && i-- == 0)
            return &seen[j];
    return NULL;
}

static void copy_str(char *dst, size_t cap, sm_str_t s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;

    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static void cache_str(br_logmgr_t *m, const char *topic, char *buf, size_t cap);

static void fill_follower_view(seen_t *s)
{
    br_log_t *log = br_logmgr_get(flm, s->topic, s->partition);

    s->at_ms = now_ms();
    s->follower_leo = log != NULL ? br_log_end_offset(log) : -1;
    s->follower_hw = br_logmgr_high_watermark(flm, s->topic, s->partition);
    s->follower_unwritten = log != NULL ? br_log_unwritten(log) : 0;
    if (br_logmgr_epochs(flm, s->topic, s->partition) != NULL && s->partition == 0)
        cache_str(flm, s->topic, s->follower_cache, sizeof(s->follower_cache));
}

/* Frames w (which starts with a 4-byte slot) and sends it now or after EMPTY_MS. */
static void lconn_send(lconn_t *lc, sm_writer_t *w, bool delay)
{
    struct timeval tv = {0, EMPTY_MS * 1000};

    if (sm_writer_err(w) != SM_OK) {
        cb_fail("the stand-in could not encode a response");
        return;
    }
    sm_writer_patch_i32(w, 0, (int32_t)(sm_writer_len(w) - 4));
    if (!delay) {
        bufferevent_write(lc->bev, sm_writer_data(w), sm_writer_len(w));
        return;
    }
    if (lc->pending != NULL) {
        cb_fail("a second request while one was in flight on the connection");
        return;
    }
    if (sm_writer_detach(w, &lc->pending, &lc->pending_len) != SM_OK) {
        cb_fail("out of memory in the stand-in");
        return;
    }
    evtimer_add(lc->delay, &tv);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    lconn_t *lc = arg;

    (void)fd;
    (void)what;
    bufferevent_write(lc->bev, lc->pending, lc->pending_len);
    free(lc->pending);
    lc->pending = NULL;
}

static void serve_epochs(lconn_t *lc, sm_reader_t *r, int16_t version, const seen_t *hdr,
                         sm_writer_t *w)
{
    br_kcodec_epoch_req_t req;
    br_kcodec_epoch_resp_t resp = {.version = version};

    if (br_kcodec_epoch_req_decode(r, version, &req) != SM_OK) {
        cb_fail("malformed OffsetForLeaderEpoch request");
        br_kcodec_epoch_req_deinit(&req);
        return;
    }
    resp.topics = calloc((size_t)req.n_topics + 1, sizeof(*resp.topics));
    if (resp.topics == NULL) {
        cb_fail("out of memory in the stand-in");
        br_kcodec_epoch_req_deinit(&req);
        return;
    }
    for (int32_t t = 0; t < req.n_topics; t++) {
        br_kcodec_epoch_tresult_t *tr = &resp.topics[t];

        tr->name = req.topics[t].name;
        tr->parts = calloc((size_t)req.topics[t].n_parts + 1, sizeof(*tr->parts));
        if (tr->parts == NULL) {
            cb_fail("out of memory in the stand-in");
            break;
        }
        resp.n_topics++;
        tr->n_parts = req.topics[t].n_parts;
        for (int32_t j = 0; j < tr->n_parts; j++) {
            const br_kcodec_epoch_part_t *pp = &req.topics[t].parts[j];
            seen_t s = *hdr;
            br_log_t *log;
            br_epoch_t *cache;

            copy_str(s.topic, sizeof(s.topic), req.topics[t].name);
            s.partition = pp->partition;
            s.replica_id = req.replica_id;
            s.current_leader_epoch = pp->current_leader_epoch;
            s.asked_epoch = pp->leader_epoch;
            fill_follower_view(&s);
            record(&s);
            log = br_logmgr_get(llm, s.topic, s.partition);
            cache = br_logmgr_epochs(llm, s.topic, s.partition);
            tr->parts[j].partition = pp->partition;
            if (log == NULL || cache == NULL) {
                tr->parts[j].error = SM_KERR_NOT_LEADER_OR_FOLLOWER;
                tr->parts[j].leader_epoch = -1;
                tr->parts[j].end_offset = -1;
            } else if (answer_epochs_undef) {
                tr->parts[j].leader_epoch = -1;
                tr->parts[j].end_offset = -1;
            } else {
                br_epoch_end_offset_for(cache, pp->leader_epoch, br_log_end_offset(log),
                                        &tr->parts[j].leader_epoch, &tr->parts[j].end_offset);
            }
        }
    }
    br_kcodec_epoch_resp_encode(w, &resp);
    if (cb_error == NULL)
        lconn_send(lc, w, false);
    for (int32_t t = 0; t < resp.n_topics; t++)
        free(resp.topics[t].parts);
    free(resp.topics);
    br_kcodec_epoch_req_deinit(&req);
}

/* One partition's answer: its header and records (malloc'd, may be NULL). */
typedef struct lpart {
    br_kcodec_fetch_presp_t h;
    uint8_t *records;
    size_t len;
} lpart_t;

static void fetch_one(const char *topic, const br_kcodec_fetch_part_t *fp, lpart_t *out)
{
    br_log_t *log = br_logmgr_get(llm, topic, fp->partition);
    br_log_slice_t s;

    memset(out, 0, sizeof(*out));
    out->h = (br_kcodec_fetch_presp_t){fp->partition, SM_KERR_NONE, -1, -1, -1};
    if (log == NULL) {
        out->h.error = SM_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    out->h.high_watermark = out->h.last_stable_offset = leader_hw;
    out->h.log_start_offset = br_log_start_offset(log);
    if (fail_fetches > 0) {
        fail_fetches--;
        out->h.error = fail_code;
        return;
    }
    if (leader_epoch_now >= 0 && fp->current_leader_epoch >= 0 &&
        fp->current_leader_epoch != leader_epoch_now) {
        out->h.error = fp->current_leader_epoch < leader_epoch_now ? SM_KERR_FENCED_LEADER_EPOCH
                                                                   : SM_KERR_UNKNOWN_LEADER_EPOCH;
        return;
    }
    if (fp->fetch_offset < br_log_start_offset(log) || fp->fetch_offset > br_log_end_offset(log)) {
        out->h.error = SM_KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    if (fp->fetch_offset == br_log_end_offset(log))
        return;
    if (br_log_read(log, fp->fetch_offset, (size_t)fp->partition_max_bytes, BR_LOG_NO_BOUND, &s) !=
        SM_OK) {
        cb_fail("the stand-in leader could not read its log");
        out->h.error = SM_KERR_KAFKA_STORAGE_ERROR;
        return;
    }
    if (s.len > 0) {
        out->records = fx_pread_all(s.fd, s.pos, s.len);
        out->len = s.len;
    }
}

static void serve_fetch(lconn_t *lc, sm_reader_t *r, int16_t version, const seen_t *hdr,
                        sm_writer_t *w)
{
    br_kcodec_fetch_req_t req;
    lpart_t *parts;
    size_t n = 0, total = 0, k = 0;
    bool error = false;

    if (br_kcodec_fetch_decode(r, version, &req) != SM_OK) {
        cb_fail("malformed Fetch request");
        br_kcodec_fetch_req_deinit(&req);
        return;
    }
    for (int32_t t = 0; t < req.n_topics; t++)
        n += (size_t)req.topics[t].n_parts;
    parts = calloc(n + 1, sizeof(*parts));
    if (parts == NULL) {
        cb_fail("out of memory in the stand-in");
        br_kcodec_fetch_req_deinit(&req);
        return;
    }
    for (int32_t t = 0; t < req.n_topics; t++) {
        char topic[32];

        copy_str(topic, sizeof(topic), req.topics[t].name);
        for (int32_t j = 0; j < req.topics[t].n_parts; j++) {
            const br_kcodec_fetch_part_t *fp = &req.topics[t].parts[j];
            seen_t s = *hdr;

            snprintf(s.topic, sizeof(s.topic), "%s", topic);
            s.partition = fp->partition;
            s.replica_id = req.replica_id;
            s.current_leader_epoch = fp->current_leader_epoch;
            s.fetch_offset = fp->fetch_offset;
            s.max_wait_ms = req.max_wait_ms;
            fill_follower_view(&s);
            record(&s);
            fetch_one(topic, fp, &parts[k]);
            total += parts[k].len;
            error = error || parts[k].h.error != SM_KERR_NONE;
            k++;
        }
    }
    br_kcodec_fetch_write_header(w, version, 0, SM_KERR_NONE, 0, req.n_topics);
    k = 0;
    for (int32_t t = 0; t < req.n_topics; t++) {
        br_kcodec_fetch_write_topic(w, version, req.topics[t].name, req.topics[t].n_parts);
        for (int32_t j = 0; j < req.topics[t].n_parts; j++, k++) {
            br_kcodec_fetch_write_partition(w, version, &parts[k].h, (int32_t)parts[k].len);
            if (parts[k].len > 0)
                sm_writer_raw(w, parts[k].records, parts[k].len);
        }
    }
    lconn_send(lc, w, total == 0 && !error);
    for (size_t i = 0; i < n; i++)
        free(parts[i].records);
    free(parts);
    br_kcodec_fetch_req_deinit(&req);
}

static void serve(lconn_t *lc, const uint8_t *buf, size_t len)
{
    sm_reader_t r;
    seen_t hdr;
    sm_writer_t w;
    int32_t corr;

    memset(&hdr, 0, sizeof(hdr));
    if (mute) {
        hdr.key = -1;
        hdr.at_ms = now_ms();
        record(&hdr);
        return;
    }
    sm_reader_init(&r, buf, len);
    hdr.key = sm_reader_i16(&r);
    hdr.version = sm_reader_i16(&r);
    corr = sm_reader_i32(&r);
    copy_str(hdr.client_id, sizeof(hdr.client_id), sm_reader_nullable_str(&r));
    if (sm_reader_err(&r) != SM_OK) {
        cb_fail("a request frame without a whole header");
        return;
    }
    sm_writer_init(&w, 256);
    (void)sm_writer_reserve(&w, 4);
    sm_writer_i32(&w, corr);
    if (hdr.key == BR_KCODEC_EPOCH_API_KEY)
        serve_epochs(lc, &r, hdr.version, &hdr, &w);
    else if (hdr.key == 1)
        serve_fetch(lc, &r, hdr.version, &hdr, &w);
    else
        cb_fail("a request of an API the fetcher should not use");
    sm_writer_deinit(&w);
}

static void on_lread(struct bufferevent *bev, void *arg)
{
    lconn_t *lc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    while (evbuffer_get_length(in) >= 4) {
        uint8_t h[4];
        uint32_t size;
        uint8_t *buf;

        evbuffer_copyout(in, h, 4);
        size = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (size >= 1u << 20) {
            cb_fail("a request frame of 1 MiB or more");
            evbuffer_drain(in, evbuffer_get_length(in));
            return;
        }
        if (evbuffer_get_length(in) < 4 + (size_t)size)
            return;
        buf = malloc(size + 1);
        if (buf == NULL) {
            cb_fail("out of memory in the stand-in");
            return;
        }
        evbuffer_drain(in, 4);
        evbuffer_remove(in, buf, size);
        serve(lc, buf, size);
        free(buf);
    }
}

static void on_levent(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        lconn_drop(arg);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    evutil_socket_t c = accept(fd, NULL, NULL);
    lconn_t *lc;
    size_t i;

    (void)what;
    (void)arg;
    if (c < 0)
        return;
    evutil_make_socket_nonblocking(c);
    for (i = 0; i < MAXLCONNS && lconns[i] != NULL; i++)
        ;
    lc = i < MAXLCONNS ? calloc(1, sizeof(*lc)) : NULL;
    if (lc == NULL) {
        cb_fail("too many connections to the stand-in leader");
        evutil_closesocket(c);
        return;
    }
    lc->bev = bufferevent_socket_new(base, c, BEV_OPT_CLOSE_ON_FREE);
    lc->delay = evtimer_new(base, on_delay, lc);
    if (lc->bev == NULL || lc->delay == NULL) {
        cb_fail("out of memory in the stand-in");
        if (lc->bev == NULL)
            evutil_closesocket(c);
        lconn_free(lc);
        return;
    }
    lconns[i] = lc;
    n_accepted++;
    bufferevent_setcb(lc->bev, on_lread, NULL, on_levent, lc);
    bufferevent_enable(lc->bev, EV_READ | EV_WRITE);
}

static void leader_listen(void)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    int one = 1;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(lfd, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(lfd, 8), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    lport = ntohs(sa.sin_port);
    evutil_make_socket_nonblocking(lfd);
    accept_ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
    cr_assert_not_null(accept_ev);
    event_add(accept_ev, NULL);
}

/* UpdateMetadata naming broker LEADER at the stand-in's endpoint. */
static void metadata_names_the_leader(void)
{
    Samsa__UpdateMetadataRequest um = SAMSA__UPDATE_METADATA_REQUEST__INIT;
    Samsa__LiveBroker lb = SAMSA__LIVE_BROKER__INIT;
    Samsa__LiveBroker *lbp = &lb;
    Samsa__Endpoint ep = SAMSA__ENDPOINT__INIT;
    Samsa__Endpoint *epp = &ep;
    sm_errbuf_t eb = {{0}};

    um.has_full = true;
    um.full = true;
    um.has_controller_id = true;
    um.controller_id = 7;
    ep.listener = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.has_port = true;
    ep.port = lport;
    lb.has_broker_id = true;
    lb.broker_id = LEADER;
    lb.n_endpoints = 1;
    lb.endpoints = &epp;
    um.n_live_brokers = 1;
    um.live_brokers = &lbp;
    cr_assert_eq(br_metacache_update(mc, &um, &eb), SM_OK, "%s", eb.msg);
}

/* ---- fixture -------------------------------------------------------------------------------- */

/* A log manager whose logs' appends are written by `writers` (n of them; 0: on the loop). */
static br_logmgr_t *open_lm_with(const char *dir, int32_t id, br_flusher_t *const *writers,
                                 size_t n)
{
    const char *dirs[1] = {dir};
    br_logmgr_config_t lc = {0};
    br_logmgr_t *m = NULL;
    sm_errbuf_t eb = {{0}};

    lc.writers = writers;
    lc.nwriters = n;
    lc.dirs = dirs;
    lc.ndirs = 1;
    lc.broker_id = id;
    lc.cluster_id = "ftest";
    br_log_config_defaults(&lc.log);
    lc.log.segment_bytes = 64 * 1024;
    cr_assert_eq(br_logmgr_open(&lc, now_ms(), &m, &eb), SM_OK, "%s", eb.msg);
    return m;
}

static br_logmgr_t *open_lm(const char *dir, int32_t id)
{
    return open_lm_with(dir, id, NULL, 0);
}

static void create_log(br_logmgr_t *m, const char *topic, int32_t partition)
{
    br_log_t *log;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_logmgr_create(m, topic, partition, now_ms(), &log, &eb), SM_OK, "%s", eb.msg);
}

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
    n_seen = n_accepted = n_closed = 0;
    leader_hw = 0;
    fail_fetches = 0;
    fail_code = SM_KERR_NONE;
    leader_epoch_now = -1;
    answer_epochs_undef = false;
    mute = false;
    cb_error = NULL;
    base = event_base_new();
    cr_assert_not_null(base);
    fx_mkdtemp(fdir, sizeof(fdir), "test_br_fetcher_f");
    fx_mkdtemp(ldir, sizeof(ldir), "test_br_fetcher_l");
    flm = open_lm(fdir, ME);
    llm = open_lm(ldir, LEADER);
    create_log(flm, "t", 0);
    create_log(llm, "t", 0);
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    leader_listen();
    metadata_names_the_leader();
}

static void teardown(void)
{
    br_fetcher_free(fetcher);
    fetcher = NULL;
    for (size_t i = 0; i < MAXLCONNS; i++) {
        lconn_free(lconns[i]);
        lconns[i] = NULL;
    }
    if (accept_ev != NULL)
        event_free(accept_ev);
    accept_ev = NULL;
    if (lfd >= 0)
        close(lfd);
    lfd = -1;
    br_metacache_free(mc);
    br_logmgr_close(flm, false, now_ms(), NULL);
    br_logmgr_close(llm, false, now_ms(), NULL);
    event_base_free(base);
    fx_rmtree(fdir);
    fx_rmtree(ldir);
    mc = NULL;
    flm = llm = NULL;
    base = NULL;
}

TestSuite(br_fetcher, .init = setup, .fini = teardown, .timeout = 30);

static void start(int64_t backoff_ms, int32_t max_bytes)
{
    br_fetcher_config_t cfg = {
        .base = base,
        .broker_id = ME,
        .logmgr = flm,
        .metacache = mc,
        .wait_max_ms = EMPTY_MS,
        .min_bytes = 1,
        .max_bytes = max_bytes,
        .response_max_bytes = 1 << 20,
        .backoff_ms = backoff_ms,
        .socket_timeout_ms = 3000,
    };

    cr_assert_eq(br_fetcher_new(&cfg, &fetcher), SM_OK);
}

/* Leader-style append of n records in `epoch` to (m, topic-0); returns the new log end. */
static int64_t append_to(br_logmgr_t *m, const char *topic, int32_t n, int32_t epoch)
{
    br_log_t *log = br_logmgr_get(m, topic, 0);
    br_batch_limits_t lim = {0};
    br_batch_set_t set;
    br_batch_verdict_t v;
    size_t len;
    uint8_t *buf;
    sm_err_t err;

    cr_assert_not_null(log);
    buf = fx_simple_batch(n, 16, 1700000000000, &len); /* same bytes on both sides */
    br_batch_set_init(&set);
    err = br_batch_validate_set(buf, len, &lim, &set, &v);
    if (err == SM_OK)
        err = br_log_append(log, buf, &set, epoch, now_ms(), NULL);
    br_batch_set_deinit(&set);
    free(buf);
    cr_assert_eq(err, SM_OK);
    return br_log_end_offset(log);
}

static int64_t flog_end(void)
{
    return br_log_end_offset(br_logmgr_get(flm, "t", 0));
}

static int64_t llog_end(void)
{
    return br_log_end_offset(br_logmgr_get(llm, "t", 0));
}

/* The epoch cache of m's t-0 as "e:start e:start ...". */
static void cache_str(br_logmgr_t *m, const char *topic, char *buf, size_t cap)
{
    br_epoch_t *c = br_logmgr_epochs(m, topic, 0);
    size_t at = 0;

    buf[0] = '\0';
    cr_assert_not_null(c);
    for (size_t i = 0; i < br_epoch_count(c) && at < cap; i++) {
        int32_t e;
        int64_t s;

        br_epoch_at(c, i, &e, &s);
        at += (size_t)snprintf(buf + at, cap - at, "%s%d:%lld", i ? " " : "", (int)e, (long long)s);
    }
}

/* Batch headers of a log, for comparing follower and leader. */
typedef struct batches {
    br_batch_header_t h[64];
    size_t n;
} batches_t;

static sm_err_t collect_batch(void *ctx, const br_batch_header_t *h)
{
    batches_t *b = ctx;

    if (b->n < 64)
        b->h[b->n] = *h;
    b->n++;
    return SM_OK;
}

/* The follower's t-0 holds exactly the leader's batches (offsets, epochs, CRCs). */
static void assert_logs_equal(const char *topic)
{
    static batches_t fb, lb;

    memset(&fb, 0, sizeof(fb));
    memset(&lb, 0, sizeof(lb));
    cr_assert_eq(br_log_for_each_batch(br_logmgr_get(flm, topic, 0), 0, collect_batch, &fb), SM_OK);
    cr_assert_eq(br_log_for_each_batch(br_logmgr_get(llm, topic, 0), 0, collect_batch, &lb), SM_OK);
    cr_assert_eq(fb.n, lb.n, "follower has %zu batches, leader %zu", fb.n, lb.n);
    for (size_t i = 0; i < fb.n && i < 64; i++) {
        cr_assert_eq(fb.h[i].base_offset, lb.h[i].base_offset, "batch %zu offset", i);
        cr_assert_eq(fb.h[i].last_offset_delta, lb.h[i].last_offset_delta, "batch %zu", i);
        cr_assert_eq(fb.h[i].leader_epoch, lb.h[i].leader_epoch, "batch %zu epoch", i);
        cr_assert_eq(fb.h[i].crc, lb.h[i].crc, "batch %zu crc", i);
    }
}

/* ---- bounded event loop --------------------------------------------------------------------- */

static bool (*until)(void);

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
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

/* Runs the loop until pred() holds (checked every 5 ms; NULL: never) or max_ms passed. */
static bool run_until(bool (*pred)(void), int64_t max_ms)
{
    struct timeval poll_tv = {0, 5 * 1000};
    struct timeval max_tv = {(time_t)(max_ms / 1000), (suseconds_t)(max_ms % 1000) * 1000};
    struct event *poll_ev = event_new(base, -1, EV_PERSIST, on_poll, NULL);
    struct event *deadline = evtimer_new(base, on_deadline, NULL);

    cr_assert_not_null(poll_ev);
    cr_assert_not_null(deadline);
    until = pred;
    event_add(poll_ev, &poll_tv);
    evtimer_add(deadline, &max_tv);
    event_base_dispatch(base);
    event_free(poll_ev);
    event_free(deadline);
    until = NULL;
    cr_assert_null(cb_error, "the stand-in leader: %s", cb_error);
    return pred != NULL && pred();
}

static bool caught_up(void)
{
    return flog_end() == llog_end() && count_seen(1) > 0;
}

static int64_t want_hw;

static bool hw_reached(void)
{
    return br_logmgr_high_watermark(flm, "t", 0) == want_hw;
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(br_fetcher, empty_follower_skips_offset_for_leader_epoch_and_fetches_from_zero)
{
    const seen_t *s;
    char cache[128];

    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 5, 3);
    leader_hw = 15;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 3), SM_OK);
    cr_assert_eq(br_fetcher_count(fetcher), 1);
    cr_assert(run_until(caught_up, 5000), "follower at %lld of %lld", (long long)flog_end(),
              (long long)llog_end());
    cr_assert_eq(count_seen(BR_KCODEC_EPOCH_API_KEY), 0, "nothing to compare: no question");
    s = nth_seen(1, 0);
    cr_assert_not_null(s);
    cr_assert_eq(s->version, 11);
    cr_assert_eq(s->fetch_offset, 0);
    cr_assert_eq(s->replica_id, ME, "replica_id is the follower's id");
    cr_assert_eq(s->current_leader_epoch, 3);
    cr_assert_eq(s->max_wait_ms, EMPTY_MS);
    cr_assert_str_eq(s->client_id, "samsa-replica-2");
    cr_assert_str_eq(s->topic, "t");
    cr_assert_eq(s->partition, 0);
    assert_logs_equal("t");
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "1:0 3:10", "the follower's epoch cache gained the leader's epochs");
    want_hw = 15;
    cr_assert(run_until(hw_reached, 2000));
    cr_assert_eq(br_fetcher_fetching(fetcher), 1);
    cr_assert_eq(n_accepted, 1);
}

Test(br_fetcher, follower_hw_is_the_min_of_the_leader_hw_and_its_own_end)
{
    const seen_t *s;

    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 5, 1);
    append_to(llm, "t", 5, 1);
    leader_hw = 18;
    start(100, 1); /* one batch per fetch */
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    s = nth_seen(1, 1);
    cr_assert_not_null(s);
    cr_assert_eq(s->fetch_offset, 10, "one batch per fetch");
    cr_assert_eq(s->follower_hw, 10, "HW 18 known, but the follower only has 10");
    s = nth_seen(1, 2);
    cr_assert_eq(s->fetch_offset, 15);
    cr_assert_eq(s->follower_hw, 15);
    want_hw = 18;
    cr_assert(run_until(hw_reached, 2000), "then the leader's HW: %lld",
              (long long)br_logmgr_high_watermark(flm, "t", 0));
    leader_hw = 20;
    want_hw = 20;
    cr_assert(run_until(hw_reached, 2000), "the next fetch brings the new HW");
    assert_logs_equal("t");
}

Test(br_fetcher, truncates_a_tail_in_an_epoch_the_leader_ended_earlier)
{
    const seen_t *s;
    char cache[128];

    /* Both had 0..9 in epoch 1; the follower also got 10..12 from the epoch-1 leader, which
     * the new leader (epoch 2) never had; the new leader wrote 10..14 in epoch 2. */
    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 5, 2);
    append_to(flm, "t", 10, 1);
    append_to(flm, "t", 3, 1);
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "1:0");
    leader_hw = 15;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 2), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    cr_assert_eq(count_seen(BR_KCODEC_EPOCH_API_KEY), 1);
    s = nth_seen(BR_KCODEC_EPOCH_API_KEY, 0);
    cr_assert_eq(s->version, 3);
    cr_assert_eq(s->asked_epoch, 1, "asks about its latest epoch");
    cr_assert_eq(s->current_leader_epoch, 2);
    cr_assert_eq(s->replica_id, ME);
    s = nth_seen(1, 0);
    cr_assert_eq(s->fetch_offset, 10, "truncated to the leader's end of epoch 1");
    cr_assert_eq(s->follower_leo, 10);
    assert_logs_equal("t");
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "1:0 2:10");
}

Test(br_fetcher, truncates_a_later_epoch_the_leader_never_had)
{
    const seen_t *s;
    char cache[128];

    /* Epoch-1 leader wrote 0..9 and 10..11; the follower got only 0..9, then led epoch 2
     * (10..14, never replicated). The new leader had 0..11 and leads epoch 3 from 12. */
    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 2, 1);
    append_to(llm, "t", 4, 3);
    append_to(flm, "t", 10, 1);
    append_to(flm, "t", 5, 2);
    leader_hw = 16;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 3), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    s = nth_seen(BR_KCODEC_EPOCH_API_KEY, 0);
    cr_assert_eq(s->asked_epoch, 2);
    s = nth_seen(1, 0);
    cr_assert_eq(s->fetch_offset, 10, "min(leader's end of epoch 1 = 12, own end of 1 = 10)");
    cr_assert_str_eq(s->follower_cache, "1:0", "epoch 2 left the cache with its records");
    assert_logs_equal("t");
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "1:0 3:12");
}

Test(br_fetcher, asks_again_when_the_leader_answers_an_epoch_it_does_not_have)
{
    const seen_t *s;
    char cache[128];

    /* The follower: epoch 1 (0..9), epoch 3 (10..14, its own unreplicated tail). The leader:
     * epoch 1 (0..9), epoch 2 (10..11), epoch 4 (12..15). Asked about 3, the leader answers
     * (2, 12); the follower has no epoch 2: it truncates to its end of epoch 1 (10) and asks
     * about epoch 1, answered (1, 10): done, fetch from 10 (KIP-279). */
    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 2, 2);
    append_to(llm, "t", 4, 4);
    append_to(flm, "t", 10, 1);
    append_to(flm, "t", 5, 3);
    leader_hw = 16;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 4), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    cr_assert_eq(count_seen(BR_KCODEC_EPOCH_API_KEY), 2);
    s = nth_seen(BR_KCODEC_EPOCH_API_KEY, 0);
    cr_assert_eq(s->asked_epoch, 3);
    cr_assert_eq(s->follower_leo, 15);
    s = nth_seen(BR_KCODEC_EPOCH_API_KEY, 1);
    cr_assert_eq(s->asked_epoch, 1, "asks again about its largest epoch below the answer");
    cr_assert_eq(s->follower_leo, 10, "after truncating to its end of epoch 1");
    cr_assert_str_eq(s->follower_cache, "1:0");
    s = nth_seen(1, 0);
    cr_assert_eq(s->fetch_offset, 10);
    assert_logs_equal("t");
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "1:0 2:10 4:12");
}

Test(br_fetcher, undefined_answer_truncates_to_the_high_watermark)
{
    const seen_t *s;

    append_to(llm, "t", 4, 1);
    append_to(flm, "t", 4, 1);
    append_to(flm, "t", 4, 1);
    cr_assert_eq(br_logmgr_set_high_watermark(flm, "t", 0, 4), SM_OK);
    answer_epochs_undef = true;
    leader_hw = 4;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 2), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    s = nth_seen(1, 0);
    cr_assert_eq(s->fetch_offset, 4);
    assert_logs_equal("t");
}

Test(br_fetcher, restarts_at_the_leader_log_start_when_it_is_past_the_follower_end)
{
    br_epoch_t *lc = br_logmgr_epochs(llm, "t", 0);
    br_log_t *flog;
    sm_errbuf_t eb;
    char cache[128];

    /* Retention moved the leader's start to 100; the follower has 0..4 (HW 5). */
    cr_assert_eq(br_log_truncate_fully_and_start_at(br_logmgr_get(llm, "t", 0), 100), SM_OK);
    cr_assert_eq(br_epoch_clear(lc, &eb), SM_OK);
    append_to(llm, "t", 5, 2);
    append_to(flm, "t", 5, 1);
    cr_assert_eq(br_logmgr_set_high_watermark(flm, "t", 0, 5), SM_OK);
    leader_hw = 105;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 2), SM_OK);
    cr_assert(run_until(caught_up, 5000), "follower at %lld", (long long)flog_end());
    flog = br_logmgr_get(flm, "t", 0);
    cr_assert_eq(br_log_start_offset(flog), 100);
    cr_assert_eq(br_log_end_offset(flog), 105);
    cache_str(flm, "t", cache, sizeof(cache));
    cr_assert_str_eq(cache, "2:100");
    want_hw = 105;
    cr_assert(run_until(hw_reached, 2000));
    assert_logs_equal("t");
}

static bool fetched_after_errors(void)
{
    return count_seen(1) >= 4;
}

Test(br_fetcher, partition_error_waits_the_backoff_then_retries)
{
    const seen_t *a, *b, *c;

    append_to(llm, "t", 3, 1);
    leader_hw = 3;
    fail_fetches = 2;
    fail_code = SM_KERR_NOT_LEADER_OR_FOLLOWER;
    start(200, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(fetched_after_errors, 5000));
    a = nth_seen(1, 0);
    b = nth_seen(1, 1);
    c = nth_seen(1, 2);
    cr_assert_geq(b->at_ms - a->at_ms, 190, "backoff after the first error: %lld ms",
                  (long long)(b->at_ms - a->at_ms));
    cr_assert_geq(c->at_ms - b->at_ms, 190, "and after the second");
    cr_assert_eq(c->fetch_offset, 0);
    cr_assert(run_until(caught_up, 3000));
    assert_logs_equal("t");
    cr_assert_eq(n_accepted, 1, "a partition error keeps the connection");
}

static bool fetched_once(void)
{
    return count_seen(1) >= 1;
}

Test(br_fetcher, fenced_fetch_backs_off_without_appending)
{
    append_to(llm, "t", 3, 5);
    leader_hw = 3;
    leader_epoch_now = 5;
    start(150, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 4), SM_OK);
    cr_assert(run_until(fetched_once, 3000));
    cr_assert(!run_until(NULL, 100));
    cr_assert_eq(flog_end(), 0, "nothing appended from a fencing answer");
    cr_assert_leq(count_seen(1), 2, "retries only after the backoff");
}

static size_t stop_count;

static bool quiet_after_unfollow(void)
{
    return n_closed > 0;
}

Test(br_fetcher, unfollow_stops_the_requests_and_closes_the_idle_connection)
{
    append_to(llm, "t", 3, 1);
    leader_hw = 3;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    br_fetcher_unfollow(fetcher, "t", 0);
    cr_assert_eq(br_fetcher_count(fetcher), 0);
    stop_count = count_seen(1);
    cr_assert(run_until(quiet_after_unfollow, 2000), "the connection closes");
    cr_assert_leq(count_seen(1), stop_count + 1, "at most the request already queued");
    stop_count = count_seen(1);
    cr_assert(!run_until(NULL, 200));
    cr_assert_eq(count_seen(1), stop_count, "no fetch after unfollow");
    cr_assert_eq(n_accepted, 1, "no new connection");
    append_to(llm, "t", 3, 1);
    cr_assert(!run_until(NULL, 100));
    cr_assert_eq(flog_end(), 3, "new leader data is not fetched");
}

static bool both_caught_up(void)
{
    return br_log_end_offset(br_logmgr_get(flm, "t", 0)) == llog_end() &&
           br_log_end_offset(br_logmgr_get(flm, "u", 0)) ==
               br_log_end_offset(br_logmgr_get(llm, "u", 0)) &&
           count_seen(1) > 0;
}

Test(br_fetcher, partitions_of_one_leader_share_one_connection)
{
    create_log(flm, "u", 0);
    create_log(llm, "u", 0);
    append_to(llm, "t", 4, 1);
    append_to(llm, "u", 6, 2);
    leader_hw = 4;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert_eq(br_fetcher_follow(fetcher, "u", 0, LEADER, 2), SM_OK);
    cr_assert_eq(br_fetcher_count(fetcher), 2);
    cr_assert(run_until(both_caught_up, 5000));
    cr_assert_eq(n_accepted, 1, "one connection per leader");
    assert_logs_equal("t");
    assert_logs_equal("u");
}

static bool refollowed(void)
{
    for (size_t i = 0; i < n_seen && i < MAXSEEN; i++)
        if (seen[i].key == 1 && seen[i].current_leader_epoch == 2)
            return flog_end() == llog_end();
    return false;
}

Test(br_fetcher, following_again_in_a_new_epoch_truncates_again)
{
    const seen_t *s;
    size_t before;

    append_to(llm, "t", 5, 1);
    leader_hw = 5;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    before = count_seen(BR_KCODEC_EPOCH_API_KEY);
    cr_assert_eq(before, 0);
    append_to(llm, "t", 3, 2);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 2), SM_OK);
    cr_assert_eq(br_fetcher_count(fetcher), 1);
    cr_assert(run_until(refollowed, 5000));
    cr_assert_eq(count_seen(BR_KCODEC_EPOCH_API_KEY), 1, "a new epoch: truncation first");
    s = nth_seen(BR_KCODEC_EPOCH_API_KEY, 0);
    cr_assert_eq(s->current_leader_epoch, 2);
    cr_assert_eq(s->asked_epoch, 1);
    assert_logs_equal("t");
}

Test(br_fetcher, missing_leader_endpoint_waits_and_connects_once_known)
{
    br_metacache_free(mc);
    cr_assert_eq(br_metacache_new(&mc), SM_OK);
    append_to(llm, "t", 2, 1);
    leader_hw = 2;
    start(50, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(!run_until(NULL, 150));
    cr_assert_eq(n_accepted, 0, "no endpoint for the leader yet");
    metadata_names_the_leader();
    cr_assert(run_until(caught_up, 5000));
    assert_logs_equal("t");
}

/* A log with records but no leader-epoch cache (its leader-epoch-checkpoint lost before a
 * clean restart: br_epoch_open takes a missing file as an empty cache and a clean start does
 * not rescan). Ahead of the leader it cannot ask OffsetForLeaderEpoch; Kafka truncates such a
 * log to its HW, and so does Samsa (before, it looped on OFFSET_OUT_OF_RANGE). */
Test(br_fetcher, log_without_epochs_ahead_of_the_leader_truncates_to_its_hw)
{
    sm_errbuf_t eb;

    append_to(llm, "t", 6, 1);
    append_to(llm, "t", 2, 1);
    append_to(flm, "t", 6, 1);
    append_to(flm, "t", 4, 1);
    cr_assert_eq(br_epoch_clear(br_logmgr_epochs(flm, "t", 0), &eb), SM_OK);
    cr_assert_eq(br_logmgr_set_high_watermark(flm, "t", 0, 6), SM_OK);
    leader_hw = 8;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 2), SM_OK);
    run_until(caught_up, 1000);
    cr_assert_lt(count_seen(1), 50,
                 "%zu fetches in 1 s: OFFSET_OUT_OF_RANGE answered by the "
                 "same fetch at once, without backoff",
                 count_seen(1));
    cr_assert_eq(flog_end(), 8, "truncated to its HW 6 and caught up (at %lld)",
                 (long long)flog_end());
    assert_logs_equal("t");
}

static void drop_leader_connections(void)
{
    for (size_t i = 0; i < MAXLCONNS; i++) {
        if (lconns[i] != NULL) {
            lconn_free(lconns[i]);
            lconns[i] = NULL;
        }
    }
}

Test(br_fetcher, reconnects_after_the_leader_closes_the_connection)
{
    append_to(llm, "t", 3, 1);
    leader_hw = 3;
    start(100, 1 << 20);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(caught_up, 5000));
    drop_leader_connections();
    append_to(llm, "t", 4, 1);
    cr_assert(run_until(caught_up, 5000), "at %lld of %lld", (long long)flog_end(),
              (long long)llog_end());
    cr_assert_eq(n_accepted, 2, "one new connection");
    cr_assert_eq(count_seen(BR_KCODEC_EPOCH_API_KEY), 0, "same epoch: no new truncation");
    assert_logs_equal("t");
}

static bool reconnected(void)
{
    return n_accepted >= 2;
}

Test(br_fetcher, reconnects_when_the_leader_does_not_answer_within_the_socket_timeout)
{
    br_fetcher_config_t cfg = {
        .base = base,
        .broker_id = ME,
        .logmgr = flm,
        .metacache = mc,
        .wait_max_ms = EMPTY_MS,
        .min_bytes = 1,
        .max_bytes = 1 << 20,
        .response_max_bytes = 1 << 20,
        .backoff_ms = 50,
        .socket_timeout_ms = 200,
    };
    int64_t t0 = now_ms();

    append_to(llm, "t", 3, 1);
    leader_hw = 3;
    mute = true;
    cr_assert_eq(br_fetcher_new(&cfg, &fetcher), SM_OK);
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(reconnected, 3000));
    cr_assert_geq(now_ms() - t0, 200, "not before the socket timeout");
    mute = false;
    cr_assert(run_until(caught_up, 5000));
    assert_logs_equal("t");
}

/* What br_server does with the log manager's notification, for the follower's logs. */
static void follower_written(void *arg, const char *topic, int32_t partition)
{
    (void)arg;
    if (fetcher != NULL)
        br_fetcher_written(fetcher, topic, partition);
}

Test(br_fetcher, with_a_writer_thread_the_next_fetch_waits_until_the_appends_are_written)
{
    br_flusher_t *w = NULL;
    size_t fetches = 0;

    cr_assert_eq(br_flusher_new(base, br_fileops_posix(), &w, NULL), SM_OK);
    cr_assert_eq(br_logmgr_close(flm, true, now_ms(), NULL), SM_OK);
    flm = open_lm_with(fdir, ME, &w, 1);
    cr_assert_not_null(br_logmgr_get(flm, "t", 0));
    br_log_set_offload(br_logmgr_get(flm, "t", 0), true); /* every append to the writer */
    br_logmgr_set_on_written(flm, follower_written, NULL);
    append_to(llm, "t", 10, 1);
    append_to(llm, "t", 5, 1);
    append_to(llm, "t", 5, 1);
    leader_hw = 20;
    start(100, 1); /* one batch per fetch: three appends, each before a fetch */
    cr_assert_eq(br_fetcher_follow(fetcher, "t", 0, LEADER, 1), SM_OK);
    cr_assert(run_until(caught_up, 5000), "follower at %lld of %lld", (long long)flog_end(),
              (long long)llog_end());
    for (const seen_t *s; (s = nth_seen(1, fetches)) != NULL; fetches++) {
        cr_assert_eq(s->follower_unwritten, 0, "fetch %zu sent with appends unwritten", fetches);
        cr_assert_eq(s->fetch_offset, s->follower_leo, "fetch %zu asks from the written end",
                     fetches);
    }
    cr_assert_geq(fetches, 3);
    cr_assert_eq(nth_seen(1, 1)->fetch_offset, 10);
    cr_assert_eq(nth_seen(1, 2)->fetch_offset, 15);
    assert_logs_equal("t");
    want_hw = 20;
    cr_assert(run_until(hw_reached, 2000), "the follower HW follows once written: %lld",
              (long long)br_logmgr_high_watermark(flm, "t", 0));
    /* The writer outlives the logs it writes: close them first. */
    br_fetcher_free(fetcher);
    fetcher = NULL;
    cr_assert_eq(br_logmgr_close(flm, true, now_ms(), NULL), SM_OK);
    flm = NULL;
    br_flusher_free(w);
}
