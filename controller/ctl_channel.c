/*
 * ctl_channel: one broker's request queue and its sm_rpc client (see ctl_channel.h).
 *
 *   send() --> queue --head--> sm_rpc_client_call --answer--> done(), pop, next
 *                                  |
 *                                  +--timeout / connection closed--> wait backoff, call again
 *
 * Only the head is ever in flight, so a broker sees LeaderAndIsr, UpdateMetadata and
 * StopReplica in the order the controller queued them. A free requested from inside the
 * owner's callback is deferred until that callback returns.
 */
#include "controller/ctl_channel.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sm_log.h"
#include "sm_rpc.h"

typedef struct ctl_channel_req {
    uint8_t *data;
    size_t len;
    uint64_t tag;
    struct ctl_channel_req *next;
} ctl_channel_req_t;

struct ctl_channel {
    sm_rpc_client_t *client;
    struct event *retry_ev;
    int32_t broker;
    ctl_channel_opts_t opts;
    ctl_channel_done_fn done;
    void *arg;
    ctl_channel_req_t *head, *tail;
    size_t n;
    bool in_flight;
    bool freeing; /* inside ctl_channel_free: ignore completions */
    bool in_cb;   /* inside the owner's callback */
    bool dead;    /* freed from inside the owner's callback */
    bool warned;  /* a failure of the head was logged */
    uint32_t backoff_ms;
};

static void ctl_channel_kick(ctl_channel_t *ch);

static void ctl_channel_destroy(ctl_channel_t *ch)
{
    ctl_channel_req_t *r, *next;

    ch->freeing = true;
    sm_rpc_client_free(ch->client);
    for (r = ch->head; r != NULL; r = next) {
        next = r->next;
        free(r->data);
        free(r);
    }
    if (ch->retry_ev != NULL)
        event_free(ch->retry_ev);
    free(ch);
}

static void ctl_channel_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ctl_channel_kick(arg);
}

static void ctl_channel_pop(ctl_channel_t *ch)
{
    ctl_channel_req_t *r = ch->head;

    ch->head = r->next;
    if (ch->head == NULL)
        ch->tail = NULL;
    ch->n--;
    free(r->data);
    free(r);
}

static void ctl_channel_retry_later(ctl_channel_t *ch, sm_err_t err)
{
    struct timeval tv = {ch->backoff_ms / 1000, (ch->backoff_ms % 1000) * 1000};

    if (!ch->warned) {
        sm_log_warn("broker %d: %s request not answered (%s); retrying", (int)ch->broker,
                    ch->head != NULL ? "control" : "?", sm_err_str(err));
        ch->warned = true;
    }
    evtimer_add(ch->retry_ev, &tv);
    ch->backoff_ms =
        ch->backoff_ms * 2 > ch->opts.backoff_max_ms ? ch->opts.backoff_max_ms : ch->backoff_ms * 2;
}

static void ctl_channel_on_done(void *arg, sm_err_t err, const Samsa__Envelope *resp)
{
    ctl_channel_t *ch = arg;
    uint64_t tag;

    if (ch->freeing)
        return;
    ch->in_flight = false;
    if (err != SM_OK) {
        ctl_channel_retry_later(ch, err);
        return;
    }
    if (ch->warned)
        sm_log_info("broker %d answers again", (int)ch->broker);
    ch->warned = false;
    ch->backoff_ms = ch->opts.backoff_min_ms;
    tag = ch->head->tag;
    ctl_channel_pop(ch);
    ch->in_cb = true;
    if (ch->done != NULL)
        ch->done(ch->arg, ch->broker, tag, resp);
    ch->in_cb = false;
    if (ch->dead)
        ctl_channel_destroy(ch);
    else
        ctl_channel_kick(ch);
}

/* Sends the head if nothing is in flight and no retry is waiting. */
static void ctl_channel_kick(ctl_channel_t *ch)
{
    Samsa__Envelope *env;
    sm_err_t err;

    if (ch->in_flight || ch->head == NULL || evtimer_pending(ch->retry_ev, NULL))
        return;
    env = samsa__envelope__unpack(NULL, ch->head->len, ch->head->data);
    if (env == NULL) {
        sm_log_error("broker %d: dropping a request that does not decode", (int)ch->broker);
        ctl_channel_pop(ch);
        ctl_channel_kick(ch);
        return;
    }
    err = sm_rpc_client_call(ch->client, env, ch->opts.timeout_ms, ctl_channel_on_done, ch);
    samsa__envelope__free_unpacked(env, NULL);
    if (err == SM_OK)
        ch->in_flight = true;
    else
        ctl_channel_retry_later(ch, err);
}

sm_err_t ctl_channel_new(struct event_base *base, int32_t broker_id, const char *host,
                         uint16_t port, const ctl_channel_opts_t *opts, ctl_channel_done_fn done,
                         void *arg, ctl_channel_t **out)
{
    ctl_channel_t *ch;
    sm_rpc_client_opts_t copts = {0};
    sm_err_t err;

    *out = NULL;
    if (host == NULL || host[0] == '\0' || port == 0)
        return SM_ERR_INVALID;
    ch = calloc(1, sizeof(*ch));
    if (ch == NULL)
        return SM_ERR_NOMEM;
    ch->broker = broker_id;
    ch->done = done;
    ch->arg = arg;
    if (opts != NULL)
        ch->opts = *opts;
    ch->opts.timeout_ms = ch->opts.timeout_ms ? ch->opts.timeout_ms : 30000;
    ch->opts.backoff_min_ms = ch->opts.backoff_min_ms ? ch->opts.backoff_min_ms : 100;
    ch->opts.backoff_max_ms = ch->opts.backoff_max_ms ? ch->opts.backoff_max_ms : 500;
    ch->backoff_ms = ch->opts.backoff_min_ms;
    copts.backoff_min_ms = ch->opts.backoff_min_ms;
    copts.backoff_max_ms = ch->opts.backoff_max_ms;
    ch->retry_ev = evtimer_new(base, ctl_channel_on_retry, ch);
    err = ch->retry_ev != NULL ? sm_rpc_client_new(base, host, port, &copts, &ch->client)
                               : SM_ERR_NOMEM;
    if (err != SM_OK) {
        ctl_channel_destroy(ch);
        return err;
    }
    *out = ch;
    return SM_OK;
}

void ctl_channel_free(ctl_channel_t *ch)
{
    if (ch == NULL)
        return;
    if (ch->in_cb) {
        ch->dead = true;
        return;
    }
    ctl_channel_destroy(ch);
}

sm_err_t ctl_channel_send(ctl_channel_t *ch, const uint8_t *env, size_t len, uint64_t tag)
{
    ctl_channel_req_t *r = calloc(1, sizeof(*r));

    if (r == NULL || (r->data = malloc(len > 0 ? len : 1)) == NULL) {
        free(r);
        return SM_ERR_NOMEM;
    }
    memcpy(r->data, env, len);
    r->len = len;
    r->tag = tag;
    if (ch->tail != NULL)
        ch->tail->next = r;
    else
        ch->head = r;
    ch->tail = r;
    ch->n++;
    ctl_channel_kick(ch);
    return SM_OK;
}

size_t ctl_channel_pending(const ctl_channel_t *ch)
{
    return ch->n;
}

int32_t ctl_channel_broker(const ctl_channel_t *ch)
{
    return ch->broker;
}
