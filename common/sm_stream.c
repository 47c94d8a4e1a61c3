/*
 * sm_stream: a non-blocking TCP connection with input and output evbuffers (contract and
 * invariants in sm_stream.h).
 */
#include "sm_stream.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* One readv asks for this much; a wake-up reads until the socket is drained or
 * SM_STREAM_READ_ROUNDS reads were made (fairness between connections). */
#define SM_STREAM_READ_CHUNK  (64u * 1024u)
#define SM_STREAM_READ_ROUNDS 16

struct sm_stream {
    int fd;
    struct event *rev; /* EV_READ | EV_PERSIST */
    struct event *wev; /* EV_WRITE | EV_PERSIST */
    struct evbuffer *in, *out;
    sm_stream_cbs_t cbs;
    void *arg;
    size_t read_limit;
    bool reading;    /* the owner wants reading */
    bool rev_armed;  /* rev is added */
    bool wev_armed;  /* wev is added */
    bool connecting; /* sm_stream_connect, not yet connected */
    bool closed;     /* on_close ran or is running: inert */
    bool freed;      /* sm_stream_free ran inside a callback */
    int write_err;   /* a flush's failure, reported from the loop */
    int busy;        /* callbacks running */
};

static void sm_stream_arm(struct event *ev, bool *armed, bool want)
{
    if (want == *armed)
        return;
    if (want)
        (void)event_add(ev, NULL);
    else
        (void)event_del(ev);
    *armed = want;
}

static void sm_stream_update_read(sm_stream_t *s)
{
    bool want = s->reading && !s->connecting && !s->closed && !s->freed &&
                (s->read_limit == 0 || evbuffer_get_length(s->in) < s->read_limit);

    sm_stream_arm(s->rev, &s->rev_armed, want);
}

/* Releases the struct once no callback is running on it. */
static void sm_stream_release(sm_stream_t *s)
{
    if (s->freed && s->busy == 0)
        free(s);
}

/* Makes the stream inert and tells the owner (invariant 3). */
static void sm_stream_report_close(sm_stream_t *s, int err)
{
    if (s->closed || s->freed)
        return;
    s->closed = true;
    sm_stream_arm(s->rev, &s->rev_armed, false);
    sm_stream_arm(s->wev, &s->wev_armed, false);
    if (s->cbs.on_close != NULL)
        s->cbs.on_close(s, err, s->arg);
}

/*
 * Reads into the input until the socket is drained, the read limit is reached or
 * SM_STREAM_READ_ROUNDS reads were made. Returns the bytes read; *eof is set on the peer's EOF,
 * *err to an errno value on a failure.
 */
static size_t sm_stream_read_some(sm_stream_t *s, bool *eof, int *err)
{
    size_t got = 0;

    for (int round = 0; round < SM_STREAM_READ_ROUNDS; round++) {
        struct evbuffer_iovec v[2];
        struct iovec iov[2];
        size_t want = SM_STREAM_READ_CHUNK, left, len = evbuffer_get_length(s->in);
        int nv, i;
        ssize_t r;

        if (s->read_limit > 0) {
            if (len >= s->read_limit)
                break;
            if (s->read_limit - len < want)
                want = s->read_limit - len;
        }
        nv = evbuffer_reserve_space(s->in, (ev_ssize_t)want, v, 2);
        if (nv <= 0) {
            *err = ENOMEM;
            break;
        }
        left = want; /* the reservation may be larger than asked: read no more than want */
        for (i = 0; i < nv && left > 0; i++) {
            iov[i].iov_base = v[i].iov_base;
            iov[i].iov_len = v[i].iov_len < left ? v[i].iov_len : left;
            left -= iov[i].iov_len;
        }
        nv = i;
        do
            r = readv(s->fd, iov, nv);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                *err = errno;
            break;
        }
        if (r == 0) {
            *eof = true;
            break;
        }
        left = (size_t)r;
        for (i = 0; i < nv && left > 0; i++) {
            v[i].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
            left -= v[i].iov_len;
        }
        (void)evbuffer_commit_space(s->in, v, i);
        got += (size_t)r;
        if ((size_t)r < want)
            break; /* drained: another readv would only say EAGAIN */
    }
    return got;
}

static void sm_stream_on_readable(evutil_socket_t fd, short what, void *arg)
{
    sm_stream_t *s = arg;
    bool eof = false;
    int err = 0;
    size_t got;

    (void)fd;
    (void)what;
    if (s->closed)
        return;
    got = sm_stream_read_some(s, &eof, &err);
    s->busy++;
    if (got > 0 && s->cbs.on_read != NULL)
        s->cbs.on_read(s, s->arg);
    if (eof || err != 0)
        sm_stream_report_close(s, err);
    else if (!s->freed && !s->closed)
        sm_stream_update_read(s);
    s->busy--;
    sm_stream_release(s);
}

/* Writes the output until it is empty or the socket is full. Returns 0 or an errno value. */
static int sm_stream_write_some(sm_stream_t *s)
{
    while (evbuffer_get_length(s->out) > 0) {
        int n = evbuffer_write_atmost(s->out, s->fd, -1);

        if (n > 0)
            continue;
        if (n == 0)
            break; /* a sendfile chain the socket did not take */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        return errno;
    }
    return 0;
}

/* Ends a connect: the socket's pending error says how it went. */
static void sm_stream_finish_connect(sm_stream_t *s)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr == EINPROGRESS || soerr == EALREADY)
        return; /* not yet: stay armed */
    if (soerr != 0) {
        sm_stream_report_close(s, soerr);
        return;
    }
    s->connecting = false;
    sm_stream_arm(s->wev, &s->wev_armed, false);
    if (s->cbs.on_connected != NULL)
        s->cbs.on_connected(s, s->arg);
    if (s->freed || s->closed)
        return;
    sm_stream_update_read(s);
    sm_stream_flush(s);
}

static void sm_stream_on_writable(evutil_socket_t fd, short what, void *arg)
{
    sm_stream_t *s = arg;
    int err;

    (void)fd;
    (void)what;
    if (s->closed)
        return;
    s->busy++;
    if (s->connecting) {
        sm_stream_finish_connect(s);
        goto out;
    }
    err = s->write_err != 0 ? s->write_err : sm_stream_write_some(s);
    if (err != 0) {
        sm_stream_report_close(s, err);
        goto out;
    }
    if (evbuffer_get_length(s->out) == 0) {
        sm_stream_arm(s->wev, &s->wev_armed, false);
        if (s->cbs.on_drained != NULL)
            s->cbs.on_drained(s, s->arg);
    }
out:
    s->busy--;
    sm_stream_release(s);
}

static void sm_stream_set_nodelay(int fd)
{
    int one = 1;

    /* Best effort: small request/response frames must not wait for Nagle. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The stream around fd (owned from here), unarmed. NULL (fd closed) when out of memory. */
static sm_stream_t *sm_stream_make(struct event_base *base, int fd, const sm_stream_cbs_t *cbs,
                                   void *arg)
{
    sm_stream_t *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    s->cbs = *cbs;
    s->arg = arg;
    s->reading = true;
    s->in = evbuffer_new();
    s->out = evbuffer_new();
    s->rev = event_new(base, fd, EV_READ | EV_PERSIST, sm_stream_on_readable, s);
    s->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, sm_stream_on_writable, s);
    if (s->in == NULL || s->out == NULL || s->rev == NULL || s->wev == NULL) {
        sm_stream_free(s);
        return NULL;
    }
    /* Output file segments stay sendfile chains instead of being read into memory. */
    (void)evbuffer_set_flags(s->out, EVBUFFER_FLAG_DRAINS_TO_FD);
    (void)evutil_make_socket_nonblocking(fd);
    sm_stream_set_nodelay(fd);
    return s;
}

sm_err_t sm_stream_new(struct event_base *base, int fd, const sm_stream_cbs_t *cbs, void *arg,
                       sm_stream_t **out)
{
    sm_stream_t *s = sm_stream_make(base, fd, cbs, arg);

    *out = s;
    if (s == NULL)
        return SM_ERR_NOMEM;
    sm_stream_update_read(s);
    return SM_OK;
}

sm_err_t sm_stream_connect(struct event_base *base, const struct sockaddr *sa, size_t salen,
                           const sm_stream_cbs_t *cbs, void *arg, sm_stream_t **out)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sm_stream_t *s;

    *out = NULL;
    if (fd < 0)
        return SM_ERR_IO;
    if (connect(fd, sa, (socklen_t)salen) < 0 && errno != EINPROGRESS) {
        close(fd);
        return SM_ERR_IO;
    }
    s = sm_stream_make(base, fd, cbs, arg);
    if (s == NULL)
        return SM_ERR_NOMEM;
    /* Even a connect that completed at once is reported from the loop (invariant 3). */
    s->connecting = true;
    sm_stream_arm(s->wev, &s->wev_armed, true);
    *out = s;
    return SM_OK;
}

void sm_stream_free(sm_stream_t *s)
{
    if (s == NULL || s->freed)
        return;
    if (s->rev != NULL)
        event_free(s->rev);
    if (s->wev != NULL)
        event_free(s->wev);
    s->rev = s->wev = NULL;
    if (s->in != NULL)
        evbuffer_free(s->in);
    if (s->out != NULL)
        evbuffer_free(s->out);
    s->in = s->out = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->freed = true;
    s->closed = true;
    sm_stream_release(s);
}

struct evbuffer *sm_stream_input(sm_stream_t *s)
{
    return s->in;
}

struct evbuffer *sm_stream_output(sm_stream_t *s)
{
    return s->out;
}

void sm_stream_set_read_limit(sm_stream_t *s, size_t limit)
{
    s->read_limit = limit;
    sm_stream_update_read(s);
}

void sm_stream_read_enable(sm_stream_t *s, bool on)
{
    s->reading = on;
    sm_stream_update_read(s);
}

void sm_stream_flush(sm_stream_t *s)
{
    int err;

    if (s->closed || s->connecting || s->write_err != 0)
        return;
    err = sm_stream_write_some(s);
    if (err != 0) {
        /* Reported from the loop, not from inside the owner's call (invariant 3). */
        s->write_err = err;
        sm_stream_arm(s->wev, &s->wev_armed, true);
        event_active(s->wev, EV_WRITE, 1);
        return;
    }
    sm_stream_arm(s->wev, &s->wev_armed, evbuffer_get_length(s->out) > 0);
}

int sm_stream_append(struct evbuffer *b, const void *p, size_t n)
{
    struct evbuffer *tmp = evbuffer_new();
    int rc = -1;

    if (tmp != NULL && evbuffer_add(tmp, p, n) == 0 && evbuffer_add_buffer(b, tmp) == 0)
        rc = 0;
    if (tmp != NULL)
        evbuffer_free(tmp);
    return rc;
}

bool sm_stream_connected(const sm_stream_t *s)
{
    return !s->connecting && !s->closed;
}
