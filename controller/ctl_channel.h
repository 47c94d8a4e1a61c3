/*
 * ctl_channel: the active controller's link to one live broker's control endpoint (Kafka's
 * ControllerChannelManager, one RequestSendThread per broker). It owns an sm_rpc client and a
 * FIFO of requests; it sends them one at a time, in order, and retries the head (with a
 * 100..500 ms backoff) until the broker answers. Whoever owns the channel frees it when the
 * broker's registration disappears; queued requests then go nowhere.
 *
 * Requests are handed over as packed Envelopes (their header -- type, controller epoch, the
 * receiver's broker epoch, sender id -- already set), so a retry sends the same bytes.
 */
#ifndef CTL_CHANNEL_H
#define CTL_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "samsa.pb-c.h"
#include "sm_err.h"

struct event_base;

typedef struct ctl_channel ctl_channel_t;

/* A request was answered: resp is the broker's answer (valid during the call). Not called for
 * requests still queued when the channel is freed. May free the channel. */
typedef void (*ctl_channel_done_fn)(void *arg, int32_t broker_id, uint64_t tag,
                                    const Samsa__Envelope *resp);

typedef struct ctl_channel_opts {
    uint32_t timeout_ms;     /* per attempt; 0 = 30000 */
    uint32_t backoff_min_ms; /* first retry delay; 0 = 100 */
    uint32_t backoff_max_ms; /* cap of the doubling delay; 0 = 500 */
} ctl_channel_opts_t;

/* Creates a channel to broker_id at host:port and starts connecting. opts may be NULL.
 * Returns SM_OK, SM_ERR_INVALID (no host or port 0) or SM_ERR_NOMEM. */
sm_err_t ctl_channel_new(struct event_base *base, int32_t broker_id, const char *host,
                         uint16_t port, const ctl_channel_opts_t *opts, ctl_channel_done_fn done,
                         void *arg, ctl_channel_t **out);

/* Drops queued requests (no callbacks), closes the connection, frees. Accepts NULL. Safe from
 * inside the channel's own done callback. */
void ctl_channel_free(ctl_channel_t *ch);

/* Queues env (packed bytes, copied) behind earlier requests. tag comes back in done.
 * Returns SM_OK or SM_ERR_NOMEM. */
sm_err_t ctl_channel_send(ctl_channel_t *ch, const uint8_t *env, size_t len, uint64_t tag);

/* Requests queued or in flight. */
size_t ctl_channel_pending(const ctl_channel_t *ch);

/* The broker this channel talks to. */
int32_t ctl_channel_broker(const ctl_channel_t *ch);

#endif
