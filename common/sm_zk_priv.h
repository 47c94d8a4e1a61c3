/*
 * sm_zk_priv: helpers shared by sm_zk.c (the loop session) and sm_zk_sync.c (the blocking
 * handle). Not for other modules: include sm_zk.h instead.
 */
#ifndef SM_ZK_PRIV_H
#define SM_ZK_PRIV_H

/* We link libzookeeper_mt: THREADED exposes its synchronous API. */
#ifndef THREADED
#define THREADED 1
#endif
#include <zookeeper/zookeeper.h>

#include "sm_zk.h"

/* Copies ZooKeeper's Stat into ours. */
void sm_zk_stat_from(sm_zk_stat_t *dst, const struct Stat *src);

/* ZooKeeper create mode for SM_ZK_EPHEMERAL / SM_ZK_SEQUENTIAL flags. */
int sm_zk_create_mode(int flags);

/* Sets the C client's library-wide level to WARN (once per process); its lines then go
 * through sm_zk_client_log instead of stderr. */
void sm_zk_client_log_setup(void);

/* Log callback given to zookeeper_init2: one client line -> sm_log_warn.
 * @thread zk */
void sm_zk_client_log(const char *message);

/* qsort comparator for an array of char *. */
int sm_zk_strptr_cmp(const void *a, const void *b);

#endif
