/*
 * ctl_zkw_tree: recursive deletion under the epoch check (ctl_zkw_delete_tree, declared in
 * ctl_zkw.h). Phase 1 lists every root and, breadth first, everything below it; phase 2
 * deletes the descendants in reverse discovery order (a child is always discovered after its
 * parent, so it goes first), CTL_ZKW_TREE_CHUNK per multi, and the roots that exist together
 * in the last multi. If the trees change meanwhile (a node vanished: NONODE; one appeared:
 * NOTEMPTY) it lists again, at most CTL_ZKW_TREE_ATTEMPTS times.
 */
#include "controller/ctl_zkw.h"

#include <stdlib.h>
#include <string.h>

#include <zookeeper/zookeeper.h>

#include "controller/ctl_paths.h"
#include "sm_log.h"

#define CTL_ZKW_TREE_CHUNK    500
#define CTL_ZKW_TREE_ATTEMPTS 5

typedef struct ctl_zkw_tree {
    ctl_zkw_t *w;
    uint64_t term;
    ctl_zkw_done_fn cb;
    void *arg;
    char **roots;
    bool *root_exists;
    size_t n_roots;
    char **nodes; /* descendants, in discovery order */
    size_t n_nodes, cap_nodes;
    size_t listing; /* children calls in flight */
    size_t deleted; /* descendants deleted so far (from the end) */
    int attempts;
    bool final_sent; /* the multi with the roots is out */
    sm_err_t err;    /* first listing failure */
} ctl_zkw_tree_t;

typedef struct ctl_zkw_tree_list {
    ctl_zkw_tree_t *t;
    ssize_t root; /* index of the root listed, or -1 for a descendant */
} ctl_zkw_tree_list_t;

static bool ctl_zkw_tree_list_all(ctl_zkw_tree_t *t);

static void ctl_zkw_tree_reset_nodes(ctl_zkw_tree_t *t)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        free(t->nodes[i]);
    t->n_nodes = 0;
    t->deleted = 0;
    t->final_sent = false;
    for (size_t i = 0; i < t->n_roots; i++)
        t->root_exists[i] = false;
}

static void ctl_zkw_tree_free(ctl_zkw_tree_t *t)
{
    ctl_zkw_tree_reset_nodes(t);
    for (size_t i = 0; i < t->n_roots; i++)
        free(t->roots[i]);
    free(t->roots);
    free(t->root_exists);
    free(t->nodes);
    free(t);
}

static void ctl_zkw_tree_finish(ctl_zkw_tree_t *t, sm_err_t err)
{
    if (ctl_zkw_term(t->w) != t->term)
        err = SM_ERR_STATE;
    if (t->cb != NULL)
        t->cb(t->arg, err);
    ctl_zkw_tree_free(t);
}

static sm_err_t ctl_zkw_tree_add(ctl_zkw_tree_t *t, const char *parent, const char *child)
{
    size_t len = strlen(parent) + strlen(child) + 2;
    char *p;

    if (t->n_nodes == t->cap_nodes) {
        size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 64;
        char **n = realloc(t->nodes, cap * sizeof(*n));

        if (n == NULL)
            return SM_ERR_NOMEM;
        t->nodes = n;
        t->cap_nodes = cap;
    }
    p = malloc(len);
    if (p == NULL)
        return SM_ERR_NOMEM;
    snprintf(p, len, "%s/%s", parent, child);
    t->nodes[t->n_nodes++] = p;
    return SM_OK;
}

/* ---- phase 2: delete ------------------------------------------------------------------------ */

static void ctl_zkw_tree_delete_next(ctl_zkw_tree_t *t);

static void ctl_zkw_tree_on_delete(void *arg, sm_err_t err, const sm_zk_result_t *res)
{
    ctl_zkw_tree_t *t = arg;
    bool changed = false;

    for (size_t i = 0; err != SM_OK && i < res->n_ops; i++)
        changed = changed || res->ops[i].err == SM_ERR_NOT_FOUND || res->ops[i].zerr == ZNOTEMPTY;
    if (err == SM_OK && t->final_sent)
        ctl_zkw_tree_finish(t, SM_OK);
    else if (err == SM_OK)
        ctl_zkw_tree_delete_next(t);
    else if (changed && err != SM_ERR_FENCED && ++t->attempts < CTL_ZKW_TREE_ATTEMPTS) {
        if (!ctl_zkw_tree_list_all(t))
            ctl_zkw_tree_finish(t, t->err);
    } else
        ctl_zkw_tree_finish(t, err);
}

static void ctl_zkw_tree_delete_next(ctl_zkw_tree_t *t)
{
    size_t left = t->n_nodes - t->deleted, n = 0;
    bool last = left <= CTL_ZKW_TREE_CHUNK;
    size_t chunk = last ? left : CTL_ZKW_TREE_CHUNK;
    sm_zk_op_t *ops = calloc(chunk + t->n_roots + 1, sizeof(*ops));
    sm_err_t err = SM_ERR_NOMEM;

    if (ops == NULL)
        goto out;
    for (size_t i = 0; i < chunk; i++)
        ops[n++] = (sm_zk_op_t){.type = SM_ZK_OP_DELETE,
                                .path = t->nodes[t->n_nodes - t->deleted - 1 - i],
                                .version = -1};
    for (size_t i = 0; last && i < t->n_roots; i++) {
        if (t->root_exists[i])
            ops[n++] = (sm_zk_op_t){.type = SM_ZK_OP_DELETE, .path = t->roots[i], .version = -1};
    }
    if (n == 0) {
        free(ops);
        ctl_zkw_tree_finish(t, SM_OK);
        return;
    }
    t->deleted += chunk;
    t->final_sent = last;
    err = ctl_zkw_multi(t->w, ops, n, ctl_zkw_tree_on_delete, t);
out:
    free(ops);
    if (err != SM_OK)
        ctl_zkw_tree_finish(t, err);
}

/* ---- phase 1: list -------------------------------------------------------------------------- */

static void ctl_zkw_tree_list(ctl_zkw_tree_t *t, const char *path, ssize_t root);

static void ctl_zkw_tree_on_children(sm_zk_t *zk, const sm_zk_result_t *res, void *arg)
{
    ctl_zkw_tree_list_t *l = arg;
    ctl_zkw_tree_t *t = l->t;

    (void)zk;
    t->listing--;
    if (res->err == SM_OK) {
        if (l->root >= 0)
            t->root_exists[l->root] = true;
        for (size_t i = 0; i < res->n_children && t->err == SM_OK; i++) {
            t->err = ctl_zkw_tree_add(t, res->path, res->children[i]);
            if (t->err == SM_OK)
                ctl_zkw_tree_list(t, t->nodes[t->n_nodes - 1], -1);
        }
    } else if (res->err != SM_ERR_NOT_FOUND && t->err == SM_OK) {
        t->err = res->err;
    }
    free(l);
    if (t->listing > 0)
        return;
    if (ctl_zkw_term(t->w) != t->term)
        ctl_zkw_tree_finish(t, SM_ERR_STATE);
    else if (t->err != SM_OK)
        ctl_zkw_tree_finish(t, t->err);
    else
        ctl_zkw_tree_delete_next(t);
}

static void ctl_zkw_tree_list(ctl_zkw_tree_t *t, const char *path, ssize_t root)
{
    ctl_zkw_tree_list_t *l = malloc(sizeof(*l));

    if (l == NULL) {
        t->err = SM_ERR_NOMEM;
        return;
    }
    l->t = t;
    l->root = root;
    if (sm_zk_children(ctl_zkw_zk(t->w), path, NULL, NULL, ctl_zkw_tree_on_children, l) != SM_OK) {
        free(l);
        t->err = SM_ERR_CLOSED;
        return;
    }
    t->listing++;
}

/* Starts listing every root; false (t->err says why) when nothing could be sent. */
static bool ctl_zkw_tree_list_all(ctl_zkw_tree_t *t)
{
    ctl_zkw_tree_reset_nodes(t);
    t->err = SM_OK;
    for (size_t i = 0; i < t->n_roots; i++)
        ctl_zkw_tree_list(t, t->roots[i], (ssize_t)i);
    if (t->listing == 0 && t->err == SM_OK)
        t->err = SM_ERR_INVALID; /* no roots */
    return t->listing > 0;
}

sm_err_t ctl_zkw_delete_tree(ctl_zkw_t *w, const char *const *roots, size_t n, ctl_zkw_done_fn cb,
                             void *arg)
{
    ctl_zkw_tree_t *t;

    if (ctl_zkw_term(w) == 0)
        return SM_ERR_STATE;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SM_ERR_NOMEM;
    *t = (ctl_zkw_tree_t){.w = w, .term = ctl_zkw_term(w), .cb = cb, .arg = arg};
    t->roots = calloc(n + 1, sizeof(*t->roots));
    t->root_exists = calloc(n + 1, sizeof(*t->root_exists));
    if (t->roots == NULL || t->root_exists == NULL) {
        ctl_zkw_tree_free(t);
        return SM_ERR_NOMEM;
    }
    for (; t->n_roots < n; t->n_roots++) {
        t->roots[t->n_roots] = strdup(roots[t->n_roots]);
        if (t->roots[t->n_roots] == NULL) {
            ctl_zkw_tree_free(t);
            return SM_ERR_NOMEM;
        }
    }
    if (!ctl_zkw_tree_list_all(t)) {
        sm_err_t err = t->err;

        ctl_zkw_tree_free(t);
        return err;
    }
    return SM_OK;
}
