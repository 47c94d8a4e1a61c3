/*
 * sm_daemon: event loop, signal handling and config logging shared by samsa-broker and
 * samsa-controller. See sm_daemon.h.
 */
#include "sm_daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sm_log.h"

static void sm_daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
    sm_daemon_t *d = arg;

    (void)what;
    if (d->stop_signal == 0)
        sm_log_info("%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    d->stop_signal = (int)sig;
    event_base_loopexit(d->base, NULL);
}

sm_err_t sm_daemon_init(sm_daemon_t *d)
{
    memset(d, 0, sizeof(*d));
    d->base = event_base_new();
    if (d->base == NULL) {
        sm_log_error("cannot create the event loop");
        return SM_ERR_NOMEM;
    }
    d->sigint = evsignal_new(d->base, SIGINT, sm_daemon_on_signal, d);
    d->sigterm = evsignal_new(d->base, SIGTERM, sm_daemon_on_signal, d);
    if (d->sigint == NULL || d->sigterm == NULL || evsignal_add(d->sigint, NULL) < 0 ||
        evsignal_add(d->sigterm, NULL) < 0) {
        sm_log_error("cannot install signal handlers");
        sm_daemon_deinit(d);
        return SM_ERR_IO;
    }
    return SM_OK;
}

sm_err_t sm_daemon_run(sm_daemon_t *d)
{
    if (event_base_dispatch(d->base) < 0) {
        sm_log_error("event loop failed");
        return SM_ERR_IO;
    }
    return SM_OK;
}

void sm_daemon_deinit(sm_daemon_t *d)
{
    if (d == NULL)
        return;
    if (d->sigint != NULL)
        event_free(d->sigint);
    if (d->sigterm != NULL)
        event_free(d->sigterm);
    if (d->base != NULL)
        event_base_free(d->base);
    d->sigint = NULL;
    d->sigterm = NULL;
    d->base = NULL;
}

void sm_daemon_log_config(const sm_config_t *cfg)
{
    char *dump, *line, *save = NULL;

    if (sm_log_get_level() > SM_LOG_DEBUG)
        return;
    dump = sm_config_dump(cfg);
    for (line = dump ? strtok_r(dump, "\n", &save) : NULL; line != NULL;
         line = strtok_r(NULL, "\n", &save))
        sm_log_debug("config: %s", line);
    free(dump);
}
