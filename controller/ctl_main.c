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
 *       sm_daemon_init()        event_base + SIGINT/SIGTERM events
 *       ctl_controller_new()    RPC listener, ZooKeeper session, election          (exit 1)
 *       sm_daemon_run()         ... until a signal asks the loop to exit          (exit 0)
 *       ctl_controller_free()   session closed first: /controller vanishes at once
 *
 * The loop and its signal handling are sm_daemon's, shared with samsa-broker; the
 * controller's context sits on that loop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl_config.h"
#include "controller/ctl_controller.h"
#include "sm_config.h"
#include "sm_daemon.h"
#include "sm_err.h"
#include "sm_log.h"

#define CTL_MAIN_PROG "samsa-controller"

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

/* Runs the controller until a signal; returns the process exit code. */
static int ctl_main_run(const sm_config_t *cfg)
{
    sm_daemon_t d;
    ctl_controller_t *ctl = NULL;
    sm_errbuf_t eb = {{0}};
    int rc = 1;

    if (sm_daemon_init(&d) != SM_OK)
        goto out;
    if (ctl_controller_new(d.base, cfg, &ctl, &eb) != SM_OK) {
        sm_log_error("%s", eb.msg);
        goto out;
    }
    if (sm_daemon_run(&d) != SM_OK)
        goto out;
    rc = 0;
out:
    ctl_controller_free(ctl);
    if (rc == 0)
        sm_log_info("stopped");
    sm_daemon_deinit(&d);
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
    sm_daemon_log_config(cfg);
    rc = ctl_main_run(cfg);
out:
    sm_config_free(cfg);
    sm_config_args_deinit(&args);
    return rc;
}
