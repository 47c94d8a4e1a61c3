/*
 * samsa-broker: the broker's entry point. It turns the command line and server.properties into
 * a validated configuration, sets up logging, and runs the event loop until SIGINT or SIGTERM.
 *
 *   main()
 *     sm_config_args_parse()    -c FILE [--override k=v]... [--help] [--version]   (exit 2)
 *     br_config_load()          file + overrides, validated                        (exit 2)
 *     sm_log_init("broker-<id>")
 *     br_main_raise_nofile()    RLIMIT_NOFILE soft limit up to the hard limit (logged)
 *     br_main_run()
 *       sm_daemon_init()        event_base + SIGINT/SIGTERM events
 *       br_server_new()         storage, control listener, ZooKeeper + registration (exit 1)
 *       sm_daemon_run()         ... until a signal asks the loop to exit          (exit 0)
 *                               ... or the server hits a fatal problem             (exit 1)
 *       br_server_free()        deregister, flush and close the logs cleanly
 *
 * The loop and its signal handling are sm_daemon's, shared with samsa-controller; the
 * broker's server context (br_server) sits on that loop. Fatal problems reach the person as one
 * line on stderr: "samsa-broker: <what>".
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "broker/br_config.h"
#include "broker/br_server.h"
#include "sm_config.h"
#include "sm_daemon.h"
#include "sm_err.h"
#include "sm_log.h"

#define BR_MAIN_PROG "samsa-broker"

static void br_main_usage(FILE *f)
{
    size_t n;
    const sm_config_key_t *keys = br_config_schema(&n);

    fprintf(f, "usage: " BR_MAIN_PROG " -c FILE [--override key=value]... [--help] [--version]\n"
               "\n"
               "Runs a Samsa broker configured by FILE, a Kafka server.properties file.\n"
               "Each --override key=value replaces the file's value for key.\n"
               "\n"
               "Keys (name, type, default, meaning):\n");
    sm_config_print_keys(keys, n, f);
}

/* Raises the open-files soft limit to the hard limit: every client connection is an fd, and
 * the broker must hold tens of thousands of idle ones. A failure is logged, not fatal. */
static void br_main_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        sm_log_warn("getrlimit(RLIMIT_NOFILE) failed; the open-files limit is unknown");
        return;
    }
    /* An unlimited hard limit still stops at fs.nr_open (1048576 by default) on Linux. */
    rlim_t want = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1048576 : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t old = rl.rlim_cur;

        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            sm_log_warn("could not raise the open-files limit from %" PRIuMAX " to %" PRIuMAX,
                        (uintmax_t)old, (uintmax_t)want);
            rl.rlim_cur = old;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        sm_log_info("open-files limit: unlimited");
    else
        sm_log_info("open-files limit: %" PRIuMAX, (uintmax_t)rl.rlim_cur);
}

/* Runs the broker until a signal; returns the process exit code. */
static int br_main_run(const sm_config_t *cfg)
{
    sm_daemon_t d;
    br_server_t *srv = NULL;
    sm_errbuf_t eb = {{0}};
    char fatal[SM_ERRBUF_LEN] = "";
    int rc = 1;

    if (sm_daemon_init(&d) != SM_OK)
        goto out;
    if (br_server_new(d.base, cfg, &srv, &eb) != SM_OK) {
        fprintf(stderr, BR_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    if (sm_daemon_run(&d) != SM_OK)
        goto out;
    if (br_server_fatal(srv) != NULL) {
        snprintf(fatal, sizeof(fatal), "%s", br_server_fatal(srv));
        goto out;
    }
    rc = 0;
out:
    if (srv != NULL && br_server_free(srv, true, &eb) != SM_OK) {
        sm_log_error("unclean shutdown: %s", eb.msg);
        rc = 1;
    }
    if (fatal[0] != '\0')
        fprintf(stderr, BR_MAIN_PROG ": %s\n", fatal);
    else if (rc == 0)
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
    size_t n_dirs;
    int rc = 2;

    /* A peer that closes its socket must not kill the broker. */
    signal(SIGPIPE, SIG_IGN);
    if (sm_config_args_parse(&args, argc, argv, &eb) != SM_OK) {
        fprintf(stderr, BR_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    if (args.help || args.version) {
        if (args.help)
            br_main_usage(stdout);
        else
            printf(BR_MAIN_PROG " %s\n", SM_VERSION);
        rc = 0;
        goto out;
    }
    if (br_config_load(args.config_path, args.overrides, args.n_overrides, &cfg, &eb) != SM_OK) {
        fprintf(stderr, BR_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    snprintf(name, sizeof(name), "broker-%d", (int)sm_config_get_int(cfg, "broker.id"));
    sm_log_init(name, br_config_log_level(cfg));
    br_config_listener(cfg, host, sizeof(host), &port);
    (void)sm_config_get_list(cfg, "log.dirs", &n_dirs);
    sm_log_info("config ok: %s (listener %s:%u, %zu log dir(s), zookeeper %s)", args.config_path,
                host, (unsigned)port, n_dirs, sm_config_get_str(cfg, "zookeeper.connect"));
    sm_daemon_log_config(cfg);
    br_main_raise_nofile();
    rc = br_main_run(cfg);
out:
    sm_config_free(cfg);
    sm_config_args_deinit(&args);
    return rc;
}
