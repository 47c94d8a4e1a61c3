/*
 * samsa-controller: the controller's entry point. It turns the command line and its properties
 * file into a validated configuration, sets up logging, and runs the event loop until SIGINT or
 * SIGTERM.
 *
 *   main()
 *     sm_config_args_parse()    -c FILE [--override k=v]... [--help] [--version]   (exit 2)
 *     ctl_config_load()         file + overrides, validated                        (exit 2)
 *     sm_log_init("controller-<id>")
 *     ctl_main_run()
 *       event_base + SIGINT/SIGTERM events
 *       ctl_controller_new()    RPC listener, ZooKeeper session, election          (exit 1)
 *       event_base_dispatch()   ... until a signal asks the loop to exit          (exit 0)
 *       ctl_controller_free()   session closed first: /controller vanishes at once
 *
 * Everything the process owns hangs off one ctl_main_t so that nothing is global; the
 * controller's context plugs in next to the loop.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl_config.h"
#include "controller/ctl_controller.h"
#include "sm_config.h"
#include "sm_err.h"
#include "sm_log.h"

#define CTL_MAIN_PROG "samsa-controller"

typedef struct ctl_main {
    const sm_config_t *cfg; /* borrowed from main() */
    struct event_base *base;
    ctl_controller_t *ctl;
    struct event *sigint;
    struct event *sigterm;
    int stop_signal; /* the signal that ended the loop, 0 while running */
} ctl_main_t;

static void ctl_main_usage(FILE *f)
{
    size_t n;
    const sm_config_key_t *keys = ctl_config_schema(&n);

    fprintf(f, "usage: " CTL_MAIN_PROG " -c FILE [--override key=value]... [--help] [--version]\n"
               "\n"
               "Runs a Samsa controller configured by FILE, a properties file.\n"
               "Each --override key=value replaces the file's value for key.\n"
               "\n"
               "Keys (name, type, default, meaning):\n");
    sm_config_print_keys(keys, n, f);
}

static void ctl_main_on_signal(evutil_socket_t sig, short what, void *arg)
{
    ctl_main_t *m = arg;

    (void)what;
    if (m->stop_signal == 0)
        sm_log_info("%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    m->stop_signal = (int)sig;
    event_base_loopexit(m->base, NULL);
}

/* At debug level, logs every effective key=value, one per line. */
static void ctl_main_log_config(const sm_config_t *cfg)
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

/* Runs the controller until a signal; returns the process exit code. */
static int ctl_main_run(const sm_config_t *cfg)
{
    ctl_main_t m = {.cfg = cfg};
    sm_errbuf_t eb = {{0}};
    int rc = 1;

    m.base = event_base_new();
    if (m.base == NULL) {
        sm_log_error("cannot create the event loop");
        goto out;
    }
    m.sigint = evsignal_new(m.base, SIGINT, ctl_main_on_signal, &m);
    m.sigterm = evsignal_new(m.base, SIGTERM, ctl_main_on_signal, &m);
    if (m.sigint == NULL || m.sigterm == NULL || evsignal_add(m.sigint, NULL) < 0 ||
        evsignal_add(m.sigterm, NULL) < 0) {
        sm_log_error("cannot install signal handlers");
        goto out;
    }
    if (ctl_controller_new(m.base, cfg, &m.ctl, &eb) != SM_OK) {
        sm_log_error("%s", eb.msg);
        goto out;
    }
    if (event_base_dispatch(m.base) < 0) {
        sm_log_error("event loop failed");
        goto out;
    }
    rc = 0;
out:
    ctl_controller_free(m.ctl);
    if (rc == 0)
        sm_log_info("stopped");
    if (m.sigint != NULL)
        event_free(m.sigint);
    if (m.sigterm != NULL)
        event_free(m.sigterm);
    if (m.base != NULL)
        event_base_free(m.base);
    return rc;
}

int main(int argc, char **argv)
{
    sm_config_args_t args;
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb = {{0}};
    char name[32], host[256];
    uint16_t port;
    int rc = 2;

    /* A peer that closes its socket must not kill the controller. */
    signal(SIGPIPE, SIG_IGN);
    if (sm_config_args_parse(&args, argc, argv, &eb) != SM_OK) {
        fprintf(stderr, CTL_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    if (args.help || args.version) {
        if (args.help)
            ctl_main_usage(stdout);
        else
            printf(CTL_MAIN_PROG " %s\n", SM_VERSION);
        rc = 0;
        goto out;
    }
    if (ctl_config_load(args.config_path, args.overrides, args.n_overrides, &cfg, &eb) != SM_OK) {
        fprintf(stderr, CTL_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    snprintf(name, sizeof(name), "controller-%d", (int)sm_config_get_int(cfg, "controller.id"));
    sm_log_init(name, ctl_config_log_level(cfg));
    ctl_config_endpoint(cfg, host, sizeof(host), &port);
    sm_log_info("config ok: %s (endpoint %s:%u, zookeeper %s)", args.config_path, host,
                (unsigned)port, sm_config_get_str(cfg, "zookeeper.connect"));
    ctl_main_log_config(cfg);
    rc = ctl_main_run(cfg);
out:
    sm_config_free(cfg);
    sm_config_args_deinit(&args);
    return rc;
}
