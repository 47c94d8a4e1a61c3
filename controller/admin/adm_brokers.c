/*
 * adm_brokers: `brokers list` and `brokers watch` (see adm_brokers.h).
 *
 * DESIGN NOTES (brokers watch)
 *   The watch keeps `known`: the brokers it has reported as present, each with the czxid of
 *   its registration. Every listing of /brokers/ids (at connection, and each time the child
 *   watch fires; the listing re-arms the watch) is diffed against it:
 *     - a known id missing from the listing          -> "left", dropped from known
 *     - a listed id: its node is read (async get) and
 *         unknown                                      -> "joined" ("present" for the first
 *                                                         listing), added to known
 *         known with another czxid (re-registered)     -> "rejoined", epoch updated
 *   A get that completes after a newer listing no longer holding its id is ignored (the
 *   departure was or will be reported from the listing). After a session expiry the next
 *   CONNECTED lists again, so changes during the gap still show as one diff.
 *   Every callback runs on the loop thread (sm_zk guarantees it), so no locking.
 */
#include "controller/admin/adm_brokers.h"

#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admin/adm_out.h"
#include "controller/admin/adm_zk.h"

#define ADM_BROKERS_PATH "/brokers/ids"

/* ---- snapshot ------------------------------------------------------------------------------ */

/* Parses a child name as a broker id; -1 when it is not one. */
static int32_t adm_brokers_parse_id(const char *s)
{
    char *end = NULL;
    long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > INT32_MAX)
        return -1;
    return (int32_t)v;
}

static int adm_brokers_cmp_id(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;

    return (a > b) - (a < b);
}

sm_err_t adm_brokers_ids(sm_zk_sync_t *zs, int32_t **ids, size_t *n, sm_errbuf_t *eb)
{
    char **names = NULL;
    size_t n_names = 0;
    sm_err_t err = sm_zk_sync_children(zs, ADM_BROKERS_PATH, &names, &n_names, eb);

    *ids = NULL;
    *n = 0;
    if (err == SM_ERR_NOT_FOUND)
        return SM_OK;
    if (err != SM_OK)
        return err;
    if (n_names > 0) {
        *ids = calloc(n_names, sizeof(**ids));
        if (*ids == NULL) {
            err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n_names; i++) {
        int32_t id = adm_brokers_parse_id(names[i]);

        if (id >= 0)
            (*ids)[(*n)++] = id;
    }
    if (*n > 1)
        qsort(*ids, *n, sizeof(**ids), adm_brokers_cmp_id);
out:
    sm_zk_strings_free(names, n_names);
    return err;
}

void adm_brokers_free(adm_broker_t *b, size_t n)
{
    for (size_t i = 0; b != NULL && i < n; i++) {
        if (b[i].reg != NULL)
            samsa__broker_registration__free_unpacked(b[i].reg, NULL);
    }
    free(b);
}

sm_err_t adm_brokers_load(sm_zk_sync_t *zs, adm_broker_t **out, size_t *n, sm_errbuf_t *eb)
{
    int32_t *ids = NULL;
    size_t n_ids = 0;
    adm_broker_t *b = NULL;
    sm_err_t err;

    *out = NULL;
    *n = 0;
    err = adm_brokers_ids(zs, &ids, &n_ids, eb);
    if (err != SM_OK || n_ids == 0)
        goto out;
    b = calloc(n_ids, sizeof(*b));
    if (b == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_ids; i++) {
        char path[64];
        ProtobufCMessage *m = NULL;
        sm_zk_stat_t st;

        snprintf(path, sizeof(path), ADM_BROKERS_PATH "/%d", (int)ids[i]);
        err = adm_zk_read(zs, path, &samsa__broker_registration__descriptor, &m, &st, eb);
        if (err == SM_ERR_NOT_FOUND)
            continue;
        if (err != SM_OK)
            goto out;
        b[*n].id = ids[i];
        b[*n].epoch = st.czxid;
        b[*n].reg = (Samsa__BrokerRegistration *)m;
        (*n)++;
    }
    *out = b;
    b = NULL;
    err = SM_OK;
out:
    adm_brokers_free(b, n_ids);
    free(ids);
    return err;
}

/* ---- rendering ----------------------------------------------------------------------------- */

void adm_brokers_endpoints(const Samsa__BrokerRegistration *reg, char *buf, size_t len)
{
    size_t used = 0;

    snprintf(buf, len, "-");
    for (size_t i = 0; reg != NULL && i < reg->n_endpoints && used < len; i++) {
        char ep[320];
        int r;

        adm_out_endpoint(reg->endpoints[i], ep, sizeof(ep));
        r = snprintf(buf + used, len - used, "%s%s", i ? "," : "", ep);
        if (r < 0)
            break;
        used += (size_t)r;
    }
}

void adm_brokers_json(adm_json_t *j, const adm_broker_t *b)
{
    const Samsa__BrokerRegistration *reg = b->reg;
    char ep[320];

    adm_json_object_begin(j);
    adm_json_key(j, "id");
    adm_json_int(j, b->id);
    adm_json_key(j, "endpoints");
    adm_json_array_begin(j);
    for (size_t i = 0; reg != NULL && i < reg->n_endpoints; i++) {
        adm_out_endpoint(reg->endpoints[i], ep, sizeof(ep));
        adm_json_string(j, ep);
    }
    adm_json_array_end(j);
    adm_json_key(j, "rack");
    adm_json_string(j, reg != NULL && reg->rack != NULL && reg->rack[0] ? reg->rack : NULL);
    adm_json_key(j, "control_endpoint");
    if (reg != NULL && reg->control_endpoint != NULL) {
        adm_out_hostport(reg->control_endpoint, ep, sizeof(ep));
        adm_json_string(j, ep);
    } else {
        adm_json_null(j);
    }
    adm_json_key(j, "broker_epoch");
    adm_json_int(j, b->epoch);
    adm_json_key(j, "start_time_ms");
    adm_json_int(j, reg != NULL && reg->has_start_time_ms ? reg->start_time_ms : 0);
    adm_json_key(j, "up_since");
    if (reg != NULL && reg->has_start_time_ms && reg->start_time_ms > 0) {
        adm_out_time(reg->start_time_ms, ep, sizeof(ep));
        adm_json_string(j, ep);
    } else {
        adm_json_null(j);
    }
    adm_json_object_end(j);
}

sm_err_t adm_brokers_table_new(adm_table_t **out)
{
    static const char *const cols[] = {"ID", "ENDPOINTS", "CONTROL", "RACK", "EPOCH", "UP_SINCE"};

    return adm_table_new(6, cols, out);
}

void adm_brokers_table_row(adm_table_t *t, const adm_broker_t *b)
{
    const Samsa__BrokerRegistration *reg = b->reg;
    char buf[1024];

    adm_table_row(t);
    adm_table_cellf(t, "%d", (int)b->id);
    adm_brokers_endpoints(reg, buf, sizeof(buf));
    adm_table_cell(t, buf);
    adm_out_hostport(reg != NULL ? reg->control_endpoint : NULL, buf, sizeof(buf));
    adm_table_cell(t, buf);
    adm_table_cell(t, reg != NULL && reg->rack != NULL && reg->rack[0] ? reg->rack : "-");
    adm_table_cellf(t, "%lld", (long long)b->epoch);
    adm_out_time(reg != NULL && reg->has_start_time_ms ? reg->start_time_ms : 0, buf, sizeof(buf));
    adm_table_cell(t, buf);
}

int adm_brokers_list(const adm_args_t *a)
{
    sm_zk_sync_t *zs = NULL;
    sm_errbuf_t eb = {{0}};
    adm_broker_t *b = NULL;
    adm_table_t *tab = NULL;
    size_t n = 0;
    adm_json_t j;
    int rc = 1;
    sm_err_t err;

    adm_json_init(&j);
    if (adm_zk_open(a, &zs, &eb) != SM_OK || adm_brokers_load(zs, &b, &n, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    if (a->json) {
        adm_json_array_begin(&j);
        for (size_t i = 0; i < n; i++)
            adm_brokers_json(&j, &b[i]);
        adm_json_array_end(&j);
        err = adm_json_write(&j, stdout);
    } else {
        err = adm_brokers_table_new(&tab);
        for (size_t i = 0; err == SM_OK && i < n; i++)
            adm_brokers_table_row(tab, &b[i]);
        if (err == SM_OK)
            err = adm_table_print(tab, stdout);
    }
    if (err != SM_OK) {
        adm_out_fail("brokers list: %s", sm_err_str(err));
        goto out;
    }
    rc = 0;
out:
    adm_table_free(tab);
    adm_brokers_free(b, n);
    adm_json_deinit(&j);
    sm_zk_sync_close(zs);
    return rc;
}

/* ---- watch --------------------------------------------------------------------------------- */

typedef struct adm_watch {
    const adm_args_t *a;
    struct event_base *base;
    sm_zk_t *zk;
    adm_broker_t *known; /* reported as present; reg owned */
    size_t n_known;
    size_t cap_known;
    int32_t *latest; /* ids of the newest listing */
    size_t n_latest;
    bool listed;    /* a listing has been processed: later joins are "joined" */
    int64_t events; /* joins, departures and re-registrations printed */
    int rc;
} adm_watch_t;

typedef struct adm_watch_get {
    adm_watch_t *w;
    int32_t id;
    bool initial;
} adm_watch_get_t;

static void adm_watch_list(adm_watch_t *w);

static void adm_watch_stop(adm_watch_t *w, int rc)
{
    w->rc = rc;
    event_base_loopbreak(w->base);
}

/* Prints one event line (people) or object (--json). */
static void adm_watch_emit(adm_watch_t *w, const char *event, const adm_broker_t *b)
{
    int64_t now = adm_out_now_ms();
    char when[48], eps[1024];
    adm_json_t j;

    adm_out_time(now, when, sizeof(when));
    if (w->a->json) {
        adm_json_init(&j);
        adm_json_object_begin(&j);
        adm_json_key(&j, "time");
        adm_json_string(&j, when);
        adm_json_key(&j, "time_ms");
        adm_json_int(&j, now);
        adm_json_key(&j, "event");
        adm_json_string(&j, event);
        adm_json_key(&j, "broker");
        adm_brokers_json(&j, b);
        adm_json_object_end(&j);
        adm_json_write(&j, stdout);
        adm_json_deinit(&j);
    } else {
        adm_brokers_endpoints(b->reg, eps, sizeof(eps));
        printf("%s  %-8s  broker %d  %s  epoch %lld\n", when, event, (int)b->id, eps,
               (long long)b->epoch);
    }
    fflush(stdout);
    if (strcmp(event, "present") == 0)
        return;
    w->events++;
    if (w->a->count > 0 && w->events >= w->a->count)
        adm_watch_stop(w, 0);
}

static adm_broker_t *adm_watch_find(adm_watch_t *w, int32_t id)
{
    for (size_t i = 0; i < w->n_known; i++) {
        if (w->known[i].id == id)
            return &w->known[i];
    }
    return NULL;
}

static bool adm_watch_in_latest(const adm_watch_t *w, int32_t id)
{
    for (size_t i = 0; i < w->n_latest; i++) {
        if (w->latest[i] == id)
            return true;
    }
    return false;
}

static void adm_watch_on_get(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    adm_watch_get_t *g = arg;
    adm_watch_t *w = g->w;
    Samsa__BrokerRegistration *reg = NULL;
    adm_broker_t *b, *nk;

    (void)zk;
    if (res->err != SM_OK || res->stat == NULL || !adm_watch_in_latest(w, g->id))
        goto out;
    reg = samsa__broker_registration__unpack(NULL, res->len, res->data);
    b = adm_watch_find(w, g->id);
    if (b != NULL) {
        if (b->epoch != res->stat->czxid) {
            if (b->reg != NULL)
                samsa__broker_registration__free_unpacked(b->reg, NULL);
            b->reg = reg;
            reg = NULL;
            b->epoch = res->stat->czxid;
            adm_watch_emit(w, "rejoined", b);
        }
        goto out;
    }
    if (w->n_known == w->cap_known) {
        size_t cap = w->cap_known ? w->cap_known * 2 : 8;

        nk = realloc(w->known, cap * sizeof(*nk));
        if (nk == NULL) {
            adm_out_fail("brokers watch: out of memory");
            adm_watch_stop(w, 1);
            goto out;
        }
        w->known = nk;
        w->cap_known = cap;
    }
    b = &w->known[w->n_known++];
    b->id = g->id;
    b->epoch = res->stat->czxid;
    b->reg = reg;
    reg = NULL;
    adm_watch_emit(w, g->initial ? "present" : "joined", b);
out:
    if (reg != NULL)
        samsa__broker_registration__free_unpacked(reg, NULL);
    free(g);
}

static void adm_watch_on_child(sm_zk_t *zk, sm_zk_watch_event_t ev, const char *path, void *arg)
{
    (void)zk;
    (void)ev;
    (void)path;
    adm_watch_list(arg);
}

/* Reports departures from a new listing and reads every listed node. */
static void adm_watch_on_list(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    adm_watch_t *w = arg;
    int32_t *ids;
    size_t n = 0;
    bool initial = !w->listed;

    if (res->err != SM_OK)
        return; /* disconnected or closing: the next CONNECTED lists again */
    ids = calloc(res->n_children + 1, sizeof(*ids));
    if (ids == NULL) {
        adm_out_fail("brokers watch: out of memory");
        adm_watch_stop(w, 1);
        return;
    }
    for (size_t i = 0; i < res->n_children; i++) {
        int32_t id = adm_brokers_parse_id(res->children[i]);

        if (id >= 0)
            ids[n++] = id;
    }
    free(w->latest);
    w->latest = ids;
    w->n_latest = n;
    w->listed = true;
    for (size_t i = 0; i < w->n_known;) {
        adm_broker_t gone = w->known[i];

        if (adm_watch_in_latest(w, gone.id)) {
            i++;
            continue;
        }
        w->known[i] = w->known[--w->n_known];
        adm_watch_emit(w, "left", &gone);
        if (gone.reg != NULL)
            samsa__broker_registration__free_unpacked(gone.reg, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        adm_watch_get_t *g = calloc(1, sizeof(*g));
        char p[64];

        if (g == NULL)
            continue;
        *g = (adm_watch_get_t){.w = w, .id = ids[i], .initial = initial};
        snprintf(p, sizeof(p), ADM_BROKERS_PATH "/%d", (int)ids[i]);
        if (sm_zk_get(zk, p, NULL, NULL, adm_watch_on_get, g) != SM_OK)
            free(g);
    }
}

static void adm_watch_list(adm_watch_t *w)
{
    sm_zk_children(w->zk, ADM_BROKERS_PATH, adm_watch_on_child, w, adm_watch_on_list, w);
}

static void adm_watch_on_ensured(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    (void)zk;
    if (res->err == SM_OK)
        adm_watch_list(arg);
}

static void adm_watch_on_session(sm_zk_t *zk, sm_zk_event_t ev, void *arg)
{
    adm_watch_t *w = arg;
    char *hosts = NULL, *chroot = NULL;

    if (ev == SM_ZK_EV_CONNECTED) {
        /* The parent may not exist before the first broker registers. */
        sm_zk_ensure_path(zk, ADM_BROKERS_PATH, adm_watch_on_ensured, w);
        return;
    }
    if (ev == SM_ZK_EV_CONNECT_TIMEOUT) {
        if (sm_zk_parse_connect(w->a->zookeeper, &hosts, &chroot, NULL) == SM_OK)
            adm_out_fail("ZooKeeper %s unreachable within %lld ms", hosts,
                         (long long)w->a->timeout_ms);
        else
            adm_out_fail("ZooKeeper %s unreachable", w->a->zookeeper);
        free(hosts);
        free(chroot);
        adm_watch_stop(w, 1);
    }
}

static void adm_watch_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    adm_watch_stop(arg, 0);
}

int adm_brokers_watch(const adm_args_t *a)
{
    adm_watch_t w = {.a = a, .rc = 1};
    sm_zk_config_t cfg = {
        .connect = a->zookeeper,
        .session_timeout_ms = ADM_ZK_SESSION_MS,
        .connect_timeout_ms = a->timeout_ms > INT_MAX ? INT_MAX : (int)a->timeout_ms,
        .session_cb = adm_watch_on_session,
        .arg = &w,
    };
    struct event *sigint = NULL, *sigterm = NULL;
    sm_errbuf_t eb = {{0}};

    w.base = event_base_new();
    if (w.base != NULL) {
        sigint = evsignal_new(w.base, SIGINT, adm_watch_on_signal, &w);
        sigterm = evsignal_new(w.base, SIGTERM, adm_watch_on_signal, &w);
    }
    if (sigint == NULL || sigterm == NULL || event_add(sigint, NULL) != 0 ||
        event_add(sigterm, NULL) != 0) {
        adm_out_fail("brokers watch: cannot set up an event loop");
        goto out;
    }
    if (sm_zk_new(w.base, &cfg, &w.zk, &eb) != SM_OK) {
        adm_out_fail("%s", eb.msg);
        goto out;
    }
    event_base_dispatch(w.base);
out:
    sm_zk_free(w.zk);
    adm_brokers_free(w.known, w.n_known);
    free(w.latest);
    if (sigint != NULL)
        event_free(sigint);
    if (sigterm != NULL)
        event_free(sigterm);
    if (w.base != NULL)
        event_base_free(w.base);
    return w.rc;
}
