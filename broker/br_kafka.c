/*
 * br_kafka: the Kafka front end -- listener, dispatch table and the idle-connection sweep.
 * Connections and requests live in br_kconn.c; the contract is in br_kafka.h.
 *
 * DESIGN NOTES
 *   Invariants
 *     1. Every connection, open or closed with requests still pending, is on k->conns; nconns
 *        counts the open ones.
 *     2. There is one timer for all connections (the sweep), never one per connection, so
 *        10,000 idle connections cost an sm_stream each and nothing else.
 *     3. A connection is idle when it has no request in flight and nothing left to write; the
 *        sweep closes those idle longer than connections.max.idle.ms.
 */
#include "broker/br_kafka.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "broker/br_kafka_priv.h"
#include "sm_log.h"

#define BR_KAFKA_SWEEP_MIN_MS 100
#define BR_KAFKA_SWEEP_MAX_MS 10000

int64_t br_kafka_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void br_kafka_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                               int salen, void *arg)
{
    (void)l;
    (void)salen;
    br_kconn_accept(arg, fd, sa);
}

static void br_kafka_on_accept_error(struct evconnlistener *l, void *arg)
{
    int saved = errno;

    (void)l;
    (void)arg;
    /* EMFILE and friends: keep listening; the connection waits in the backlog. */
    sm_log_warn("kafka listener: accept failed: %s", strerror(saved));
}

static void br_kafka_on_sweep(evutil_socket_t fd, short what, void *arg)
{
    br_kafka_t *k = arg;
    int64_t now = br_kafka_now_ms();
    br_kconn_t *c, *next;

    (void)fd;
    (void)what;
    for (c = TAILQ_FIRST(&k->conns); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link);
        if (br_kconn_idle(c) && now - c->last_active_ms > k->idle_ms) {
            sm_log_debug("kafka: closing %s idle for %lld ms", c->peer,
                         (long long)(now - c->last_active_ms));
            br_kconn_close(c, NULL);
        }
    }
}

static sm_err_t br_kafka_listen(br_kafka_t *k, const char *host, uint16_t port, sm_errbuf_t *eb)
{
    struct evutil_addrinfo hints = {0}, *ai = NULL;
    char portstr[8];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int rc, saved;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = evutil_getaddrinfo(host[0] != '\0' ? host : NULL, portstr, &hints, &ai);
    if (rc != 0 || ai == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "kafka listener: cannot resolve %s: %s", host,
                             evutil_gai_strerror(rc));
    k->listener =
        evconnlistener_new_bind(k->deps.base, br_kafka_on_accept, k,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, ai->ai_addr, (int)ai->ai_addrlen);
    saved = errno;
    evutil_freeaddrinfo(ai);
    if (k->listener == NULL)
        return sm_errbuf_set(eb, SM_ERR_IO, "kafka listener: cannot bind %s:%u: %s",
                             host[0] != '\0' ? host : "*", (unsigned)port, strerror(saved));
    evconnlistener_set_error_cb(k->listener, br_kafka_on_accept_error);
    if (getsockname(evconnlistener_get_fd(k->listener), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            k->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            k->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return SM_OK;
}

static sm_err_t br_kafka_start_sweep(br_kafka_t *k)
{
    int64_t period = k->idle_ms / 4;
    struct timeval tv;

    if (k->idle_ms <= 0 || k->deps.base == NULL)
        return SM_OK;
    if (period < BR_KAFKA_SWEEP_MIN_MS)
        period = BR_KAFKA_SWEEP_MIN_MS;
    if (period > BR_KAFKA_SWEEP_MAX_MS)
        period = BR_KAFKA_SWEEP_MAX_MS;
    tv.tv_sec = (time_t)(period / 1000);
    tv.tv_usec = (suseconds_t)(period % 1000) * 1000;
    k->sweep_ev = event_new(k->deps.base, -1, EV_PERSIST, br_kafka_on_sweep, k);
    if (k->sweep_ev == NULL || event_add(k->sweep_ev, &tv) < 0)
        return SM_ERR_NOMEM;
    return SM_OK;
}

sm_err_t br_kafka_new(const br_kafka_deps_t *deps, const char *listen_host, uint16_t listen_port,
                      br_kafka_t **out, sm_errbuf_t *eb)
{
    br_kafka_t *k = calloc(1, sizeof(*k));
    int64_t max;
    sm_err_t err = SM_OK;

    *out = NULL;
    if (k == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    k->deps = *deps;
    TAILQ_INIT(&k->conns);
    max = deps->cfg != NULL ? sm_config_get_i64(deps->cfg, "socket.request.max.bytes") : 0;
    k->max_frame = max > 0 && max <= INT32_MAX ? (uint32_t)max : 104857600u;
    k->idle_ms =
        deps->cfg != NULL ? sm_config_get_i64(deps->cfg, "connections.max.idle.ms") : 600000;
    k->sndbuf = deps->cfg != NULL ? sm_config_get_int(deps->cfg, "socket.send.buffer.bytes") : -1;
    k->rcvbuf =
        deps->cfg != NULL ? sm_config_get_int(deps->cfg, "socket.receive.buffer.bytes") : -1;
    if (listen_host != NULL)
        err = br_kafka_listen(k, listen_host, listen_port, eb);
    if (err == SM_OK && br_kafka_start_sweep(k) != SM_OK)
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    if (err != SM_OK) {
        br_kafka_free(k);
        return err;
    }
    *out = k;
    return SM_OK;
}

void br_kafka_free(br_kafka_t *k)
{
    br_kconn_t *c, *next;

    if (k == NULL)
        return;
    k->freeing = true;
    if (k->listener != NULL)
        evconnlistener_free(k->listener);
    if (k->sweep_ev != NULL)
        event_free(k->sweep_ev);
    for (c = TAILQ_FIRST(&k->conns); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link);
        c->busy++; /* keep it while its abort callbacks run */
        br_kconn_close(c, NULL);
        c->busy--;
    }
    while ((c = TAILQ_FIRST(&k->conns)) != NULL)
        br_kconn_destroy(c);
    free(k);
}

void br_kafka_set_advertised_port(br_kafka_t *k, uint16_t port)
{
    k->deps.advertised_port = port;
}

uint16_t br_kafka_port(const br_kafka_t *k)
{
    return k->port;
}

sm_err_t br_kafka_register(br_kafka_t *k, int16_t api_key, int16_t min_version, int16_t max_version,
                           int16_t flexible_from, br_kafka_handler_fn fn, void *arg)
{
    br_kafka_api_t *a;

    if (api_key < 0 || api_key > BR_KAFKA_MAX_API_KEY || min_version < 0 ||
        min_version > max_version || fn == NULL)
        return SM_ERR_INVALID;
    a = &k->apis[api_key];
    a->fn = fn;
    a->arg = arg;
    a->min_version = min_version;
    a->max_version = max_version;
    a->flexible_from = flexible_from;
    return SM_OK;
}

bool br_kafka_api_range(const br_kafka_t *k, int16_t api_key, int16_t *min, int16_t *max)
{
    if (api_key < 0 || api_key > BR_KAFKA_MAX_API_KEY || k->apis[api_key].fn == NULL)
        return false;
    *min = k->apis[api_key].min_version;
    *max = k->apis[api_key].max_version;
    return true;
}

void br_kafka_foreach_api(const br_kafka_t *k,
                          void (*fn)(void *arg, int16_t key, int16_t min, int16_t max), void *arg)
{
    int16_t key;

    for (key = 0; key <= BR_KAFKA_MAX_API_KEY; key++)
        if (k->apis[key].fn != NULL)
            fn(arg, key, k->apis[key].min_version, k->apis[key].max_version);
}

const br_kafka_deps_t *br_kafka_deps(const br_kafka_t *k)
{
    return &k->deps;
}

size_t br_kafka_conn_count(const br_kafka_t *k)
{
    return k->nconns;
}

sm_err_t br_kafka_add_connection(br_kafka_t *k, int fd)
{
    struct sockaddr_storage ss = {0};

    if (k->deps.base == NULL || fd < 0)
        return SM_ERR_INVALID;
    ss.ss_family = AF_UNIX;
    br_kconn_accept(k, fd, (struct sockaddr *)&ss);
    return SM_OK;
}
