/*
 * ctl_assign: Kafka's replica assignment (see ctl_assign.h). Both variants walk an array of
 * broker ids: sorted ids without racks, the rack-alternated order with racks. For partition p
 * (counted from start_partition) the leader is arr[(p + start) % n]; follower j sits at
 *
 *     (first + 1 + (shift + j) % (n - 1)) % n
 *
 * where shift starts at the random (or fixed) value and grows by one each time p wraps
 * around n. The rack-aware variant multiplies the shift by the number of racks and skips a
 * candidate while its rack (or the broker itself) already holds a replica and some rack (or
 * broker) does not.
 */
#include "controller/ctl_assign.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* A uniformly drawn index below n (n > 0). */
static int32_t ctl_assign_random_below(size_t n)
{
    uint32_t r;

    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint32_t)time(NULL) ^ (uint32_t)clock();
    return (int32_t)(r % (uint32_t)n);
}

/* Kafka's replicaIndex(): where follower j of a partition led from `first` sits. */
static size_t ctl_assign_follower(size_t first, int64_t shift, int64_t j, size_t n)
{
    int64_t step = 1 + (shift + j) % (int64_t)(n - 1);

    return (first + (size_t)step) % n;
}

static int ctl_assign_cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

/* Orders brokers by (rack, id). */
static int ctl_assign_cmp_rack(const void *a, const void *b)
{
    const ctl_assign_broker_t *x = a, *y = b;
    int c = strcmp(x->rack, y->rack);

    if (c != 0)
        return c;
    return (x->id > y->id) - (x->id < y->id);
}

static bool ctl_assign_has_rack(const ctl_assign_broker_t *b)
{
    return b->rack != NULL && b->rack[0] != '\0';
}

sm_err_t ctl_assign_rack_alternated(const ctl_assign_broker_t *brokers, size_t n, int32_t *out)
{
    ctl_assign_broker_t *sorted = NULL;
    size_t *start = NULL, *next = NULL, n_racks = 0, filled = 0, r = 0;
    sm_err_t err = SM_ERR_NOMEM;

    if (n == 0)
        return SM_OK;
    sorted = malloc(n * sizeof(*sorted));
    start = malloc((n + 1) * sizeof(*start));
    next = malloc(n * sizeof(*next));
    if (sorted == NULL || start == NULL || next == NULL)
        goto out;
    memcpy(sorted, brokers, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), ctl_assign_cmp_rack);
    /* start[k]: index of rack k's first broker in sorted; next[k]: its next unused one. */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(sorted[i].rack, sorted[i - 1].rack) != 0) {
            start[n_racks] = i;
            next[n_racks] = i;
            n_racks++;
        }
    }
    start[n_racks] = n;
    while (filled < n) {
        if (next[r] < start[r + 1])
            out[filled++] = sorted[next[r]++].id;
        r = (r + 1) % n_racks;
    }
    err = SM_OK;
out:
    free(sorted);
    free(start);
    free(next);
    return err;
}

static void ctl_assign_unaware(const int32_t *arr, size_t n, int32_t n_partitions, int32_t rf,
                               int32_t start_index, int64_t shift, int32_t start_partition,
                               int32_t *out)
{
    int64_t pid = start_partition;

    for (int32_t p = 0; p < n_partitions; p++, pid++) {
        size_t first = (size_t)((pid + start_index) % (int64_t)n);
        int32_t *row = out + (size_t)p * (size_t)rf;

        if (pid > 0 && pid % (int64_t)n == 0)
            shift++;
        row[0] = arr[first];
        for (int32_t j = 0; j < rf - 1; j++)
            row[j + 1] = arr[ctl_assign_follower(first, shift, j, n)];
    }
}

/* The rack of broker id (every broker in brokers has one). */
static const char *ctl_assign_rack_of(const ctl_assign_broker_t *brokers, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (brokers[i].id == id)
            return brokers[i].rack;
    }
    return "";
}

static bool ctl_assign_row_has_rack(const ctl_assign_broker_t *brokers, size_t n,
                                    const int32_t *row, int32_t filled, const char *rack)
{
    for (int32_t i = 0; i < filled; i++) {
        if (strcmp(ctl_assign_rack_of(brokers, n, row[i]), rack) == 0)
            return true;
    }
    return false;
}

static size_t ctl_assign_row_racks(const ctl_assign_broker_t *brokers, size_t n, const int32_t *row,
                                   int32_t filled)
{
    size_t distinct = 0;

    for (int32_t i = 0; i < filled; i++) {
        if (!ctl_assign_row_has_rack(brokers, n, row, i, ctl_assign_rack_of(brokers, n, row[i])))
            distinct++;
    }
    return distinct;
}

static bool ctl_assign_row_has(const int32_t *row, int32_t filled, int32_t id)
{
    for (int32_t i = 0; i < filled; i++) {
        if (row[i] == id)
            return true;
    }
    return false;
}

/* Picks the followers of one partition, rack-aware (Kafka's skip rules). */
static void ctl_assign_aware_row(const ctl_assign_broker_t *brokers, const int32_t *arr, size_t n,
                                 size_t n_racks, size_t first, int64_t shift, int32_t rf,
                                 int32_t *row)
{
    int64_t k = 0;

    row[0] = arr[first];
    for (int32_t filled = 1; filled < rf; k++) {
        int32_t cand = arr[ctl_assign_follower(first, shift * (int64_t)n_racks, k, n)];
        const char *rack = ctl_assign_rack_of(brokers, n, cand);
        bool rack_ok = !ctl_assign_row_has_rack(brokers, n, row, filled, rack) ||
                       ctl_assign_row_racks(brokers, n, row, filled) == n_racks;
        bool broker_ok = !ctl_assign_row_has(row, filled, cand) || (size_t)filled == n;

        if (rack_ok && broker_ok)
            row[filled++] = cand;
    }
}

static size_t ctl_assign_count_racks(const ctl_assign_broker_t *brokers, size_t n)
{
    size_t distinct = 0;

    for (size_t i = 0; i < n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(brokers[i].rack, brokers[j].rack) == 0;
        if (!seen)
            distinct++;
    }
    return distinct;
}

static sm_err_t ctl_assign_check(size_t n_brokers, int32_t n_partitions, int32_t rf,
                                 sm_errbuf_t *eb)
{
    if (n_partitions <= 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "number of partitions must be larger than 0");
    if (rf <= 0)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "replication factor must be larger than 0");
    if ((size_t)rf > n_brokers)
        return sm_errbuf_set(eb, SM_ERR_INVALID,
                             "replication factor %d larger than available brokers %zu", (int)rf,
                             n_brokers);
    if (rf > CTL_MAX_REPLICAS)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "replication factor %d above the limit %d",
                             (int)rf, CTL_MAX_REPLICAS);
    return SM_OK;
}

sm_err_t ctl_assign_replicas(const ctl_assign_broker_t *brokers, size_t n_brokers,
                             int32_t n_partitions, int32_t rf, int32_t fixed_start,
                             int32_t start_partition, int32_t *out, sm_errbuf_t *eb)
{
    int32_t *arr = NULL;
    bool aware = n_brokers > 0;
    int32_t start_index, pid0 = start_partition < 0 ? 0 : start_partition;
    int64_t shift;
    size_t n_racks;
    sm_err_t err = ctl_assign_check(n_brokers, n_partitions, rf, eb);

    if (err != SM_OK)
        goto out;
    arr = malloc(n_brokers * sizeof(*arr));
    if (arr == NULL) {
        err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_brokers; i++)
        aware = aware && ctl_assign_has_rack(&brokers[i]);
    start_index = fixed_start >= 0 ? fixed_start : ctl_assign_random_below(n_brokers);
    shift = fixed_start >= 0 ? fixed_start : ctl_assign_random_below(n_brokers);
    if (!aware) {
        for (size_t i = 0; i < n_brokers; i++)
            arr[i] = brokers[i].id;
        qsort(arr, n_brokers, sizeof(*arr), ctl_assign_cmp_id);
        ctl_assign_unaware(arr, n_brokers, n_partitions, rf, start_index, shift, pid0, out);
        goto out;
    }
    err = ctl_assign_rack_alternated(brokers, n_brokers, arr);
    if (err != SM_OK) {
        sm_errbuf_set(eb, err, "out of memory");
        goto out;
    }
    n_racks = ctl_assign_count_racks(brokers, n_brokers);
    for (int64_t pid = pid0; pid < (int64_t)pid0 + n_partitions; pid++) {
        size_t first = (size_t)((pid + start_index) % (int64_t)n_brokers);

        if (pid > 0 && pid % (int64_t)n_brokers == 0)
            shift++;
        ctl_assign_aware_row(brokers, arr, n_brokers, n_racks, first, shift, rf,
                             out + (size_t)(pid - pid0) * (size_t)rf);
    }
out:
    free(arr);
    return err;
}
