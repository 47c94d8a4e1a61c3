/*
 * sm_daemon: the event loop of a long-running Samsa process (broker, controller).
 *
 * Creates the libevent base, stops the loop on SIGINT or SIGTERM (logging which), and logs the
 * effective configuration at debug level. The process's own server is created on d->base
 * between sm_daemon_init and sm_daemon_run. Loop thread only.
 */
#ifndef SM_DAEMON_H
#define SM_DAEMON_H

#include <event2/event.h>

#include "sm_config.h"
#include "sm_err.h"

typedef struct sm_daemon {
    struct event_base *base;
    struct event *sigint;
    struct event *sigterm;
    int stop_signal; /* the signal that ended the loop, 0 while running */
} sm_daemon_t;

/* Creates the base and the signal events. On failure logs one line, releases what it made and
 * returns SM_ERR_NOMEM or SM_ERR_IO. */
sm_err_t sm_daemon_init(sm_daemon_t *d);

/* Runs the loop until a signal (or until someone calls event_base_loopexit on d->base).
 * Returns SM_OK, or SM_ERR_IO when libevent fails. */
sm_err_t sm_daemon_run(sm_daemon_t *d);

/* Frees the signal events and the base; accepts a zeroed or half-initialised d. */
void sm_daemon_deinit(sm_daemon_t *d);

/* At debug level, logs every effective key=value of cfg, one per line. */
void sm_daemon_log_config(const sm_config_t *cfg);

#endif
