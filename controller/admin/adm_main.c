/*
 * samsa-admin: the operator's tool. main() parses and checks the command line (adm_args), then
 * dispatches to one function per command through adm_main_cmds, indexed by adm_cmd_t:
 *
 *   argv ──adm_args_parse──> adm_args_t ──adm_main_cmds[cmd]──> int fn(const adm_args_t *)
 *          (exit 2 on a usage error)                            (returns the exit code)
 *
 * Command functions live in one file per family (adm_topics.c, adm_brokers.c, ...) and return
 * 0 on success or 1 on a runtime failure after printing one line "samsa-admin: ..." to stderr.
 * A command without a function yet reports that it is not implemented.
 */
#include <signal.h>
#include <stdio.h>

#include "controller/admin/adm_args.h"
#include "controller/admin/adm_brokers.h"
#include "controller/admin/adm_controller.h"
#include "controller/admin/adm_topics.h"
#include "controller/admin/adm_zk.h"
#include "sm_config.h"
#include "sm_err.h"
#include "sm_log.h"

#define ADM_MAIN_PROG "samsa-admin"

typedef int (*adm_main_fn)(const adm_args_t *args);

/* Filled in as the command families arrive. */
static const adm_main_fn adm_main_cmds[ADM_CMD__COUNT] = {
    [ADM_CMD_NONE] = NULL,
    [ADM_CMD_TOPICS_CREATE] = adm_topics_create,
    [ADM_CMD_TOPICS_LIST] = adm_topics_list,
    [ADM_CMD_TOPICS_DESCRIBE] = adm_topics_describe,
    [ADM_CMD_TOPICS_DELETE] = adm_topics_delete,
    [ADM_CMD_TOPICS_ALTER] = adm_topics_alter,
    [ADM_CMD_BROKERS_LIST] = adm_brokers_list,
    [ADM_CMD_BROKERS_WATCH] = adm_brokers_watch,
    [ADM_CMD_CONTROLLER] = adm_controller_show,
    [ADM_CMD_ZK_GET] = adm_zk_get,
};

static int adm_main_not_implemented(const adm_args_t *args)
{
    fprintf(stderr, ADM_MAIN_PROG ": '%s' is not implemented yet\n", adm_args_cmd_name(args->cmd));
    return 1;
}

int main(int argc, char **argv)
{
    adm_args_t args;
    sm_errbuf_t eb = {{0}};
    adm_main_fn fn;
    int rc = 2;

    signal(SIGPIPE, SIG_IGN);
    /* Library messages stay quiet: the tool prints its own one-line errors. */
    sm_log_init(ADM_MAIN_PROG, SM_LOG_ERROR);
    if (adm_args_parse(&args, argc, argv, &eb) != SM_OK) {
        fprintf(stderr, ADM_MAIN_PROG ": %s\n", eb.msg);
        goto out;
    }
    if (args.help || args.version) {
        if (args.help)
            adm_args_usage(stdout, args.cmd);
        else
            printf(ADM_MAIN_PROG " %s\n", SM_VERSION);
        rc = 0;
        goto out;
    }
    fn = adm_main_cmds[args.cmd];
    rc = fn != NULL ? fn(&args) : adm_main_not_implemented(&args);
out:
    adm_args_deinit(&args);
    return rc;
}
