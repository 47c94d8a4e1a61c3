/*
 * bench_hiccup: how long the machine itself stopped running us, measured beside a benchmark.
 *
 * One thread per online core, pinned to it and (where allowed) SCHED_FIFO, sleeps PERIOD_US
 * (default 1000) at a time until absolute deadlines and records every wake-up that came
 * THRESHOLD_MS (default 5) or more late. A real-time thread preempts every normal thread at
 * once, so on a core that is running at all it wakes within microseconds whatever the
 * benchmark is doing: a late wake-up means the core itself did not run (a virtual CPU the host
 * did not schedule), or ran something above it (interrupts, stop-machine). Where no core ran at
 * the same moment, the whole machine was stopped, and nothing the benchmark measured in that
 * window says anything about the program under test. Without real-time priority (not root),
 * the gaps include waiting for a core behind normal threads, and the output says so.
 *
 * It runs until SIGINT or SIGTERM or for --secs, then prints one line per gap and a summary:
 *
 *   gap cpu=N start=MONO_S ms=M          (CLOCK_MONOTONIC seconds, as bench_kafka's BENCH_SLOW)
 *   hiccup: cpus=2 rt=yes period_us=1000 threshold_ms=5 secs=S gaps=G max_ms=M
 *           all_cpus_ms=A all_cpus_max_ms=X
 *
 * all_cpus_ms is the time during which every core was in a gap at once (the machine stopped);
 * all_cpus_max_ms the longest such stretch. Run by bench/replication.sh beside phase (d).
 *
 *   usage: bench_hiccup [--secs N] [--period-us N] [--threshold-ms N]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HICCUP_MAX_GAPS 4096 /* per core; a run that stalls more often than this is lost anyway */

typedef struct hiccup_gap {
    int64_t start_ns; /* the deadline the thread missed */
    int64_t end_ns;   /* when it woke */
} hiccup_gap_t;

typedef struct hiccup_core {
    pthread_t thread;
    int cpu;
    bool rt;
    size_t n_gaps;
    size_t dropped; /* gaps past HICCUP_MAX_GAPS, counted only */
    hiccup_gap_t gaps[HICCUP_MAX_GAPS];
} hiccup_core_t;

static atomic_bool hiccup_stop;
static int64_t hiccup_period_ns = 1000000;
static int64_t hiccup_threshold_ns = 5000000;

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *hiccup_run(void *arg)
{
    hiccup_core_t *core = arg;
    cpu_set_t set;
    struct sched_param sp = {.sched_priority = 1};
    int64_t next;

    CPU_ZERO(&set);
    CPU_SET((size_t)core->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    core->rt = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;

    next = mono_ns();
    while (!atomic_load_explicit(&hiccup_stop, memory_order_relaxed)) {
        struct timespec ts;
        int64_t now;

        next += hiccup_period_ns;
        ts.tv_sec = next / 1000000000;
        ts.tv_nsec = next % 1000000000;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        now = mono_ns();
        if (now - next >= hiccup_threshold_ns) {
            if (core->n_gaps < HICCUP_MAX_GAPS)
                core->gaps[core->n_gaps++] = (hiccup_gap_t){.start_ns = next, .end_ns = now};
            else
                core->dropped++;
        }
        /* After a gap, start the deadlines again from now rather than sleeping 0 to catch up. */
        if (now - next > hiccup_period_ns)
            next = now;
    }
    return NULL;
}

/*
 * The time during which every core was in one of its gaps at once: sweep the gaps' start and
 * end points in time order, counting how many cores are in a gap. Returns the total and sets
 * *longest to the longest single stretch.
 */
typedef struct hiccup_edge {
    int64_t t;
    int delta; /* +1 a gap starts, -1 one ends */
} hiccup_edge_t;

static int edge_cmp(const void *a, const void *b)
{
    const hiccup_edge_t *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->delta - y->delta; /* an end before a start at the same instant */
}

static int64_t all_cores_stalled(hiccup_core_t *cores, int n, int64_t *longest)
{
    size_t n_edges = 0, k = 0;
    hiccup_edge_t *edges;
    int64_t total = 0, since = 0;
    int in = 0;

    *longest = 0;
    for (int i = 0; i < n; i++)
        n_edges += 2 * cores[i].n_gaps;
    if (n_edges == 0)
        return 0;
    edges = calloc(n_edges, sizeof(*edges));
    if (edges == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        for (size_t g = 0; g < cores[i].n_gaps; g++) {
            edges[k++] = (hiccup_edge_t){cores[i].gaps[g].start_ns, +1};
            edges[k++] = (hiccup_edge_t){cores[i].gaps[g].end_ns, -1};
        }
    qsort(edges, n_edges, sizeof(*edges), edge_cmp);
    for (k = 0; k < n_edges; k++) {
        if (edges[k].delta > 0 && ++in == n)
            since = edges[k].t;
        else if (edges[k].delta < 0 && in-- == n) {
            total += edges[k].t - since;
            if (edges[k].t - since > *longest)
                *longest = edges[k].t - since;
        }
    }
    free(edges);
    return total;
}

static int parse_arg(const char *name, const char *value, long min, long max, long *out)
{
    char *end;

    if (value == NULL) {
        fprintf(stderr, "bench_hiccup: %s needs a value\n", name);
        return -1;
    }
    errno = 0;
    *out = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || end == value || *out < min || *out > max) {
        fprintf(stderr, "bench_hiccup: %s must be a whole number from %ld to %ld, not '%s'\n", name,
                min, max, value);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long secs = 0, v;
    int n_cpus, started = 0;
    hiccup_core_t *cores;
    sigset_t sigs;
    struct timespec limit;
    int64_t t0, t1, all, all_max, max = 0;
    size_t gaps = 0, dropped = 0;
    bool rt = true;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--secs") == 0) {
            if (parse_arg(argv[i], argv[i + 1], 1, 86400, &secs) != 0)
                return 2;
        } else if (strcmp(argv[i], "--period-us") == 0) {
            if (parse_arg(argv[i], argv[i + 1], 100, 1000000, &v) != 0)
                return 2;
            hiccup_period_ns = v * 1000;
        } else if (strcmp(argv[i], "--threshold-ms") == 0) {
            if (parse_arg(argv[i], argv[i + 1], 1, 60000, &v) != 0)
                return 2;
            hiccup_threshold_ns = v * 1000000;
        } else {
            fprintf(stderr,
                    "bench_hiccup: unknown argument '%s' (usage: bench_hiccup [--secs N] "
                    "[--period-us N] [--threshold-ms N])\n",
                    argv[i]);
            return 2;
        }
        i++;
    }

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    n_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n_cpus < 1)
        n_cpus = 1;
    cores = calloc((size_t)n_cpus, sizeof(*cores));
    if (cores == NULL) {
        fprintf(stderr, "bench_hiccup: out of memory for %d cores\n", n_cpus);
        return 1;
    }
    t0 = mono_ns();
    for (int i = 0; i < n_cpus; i++) {
        cores[i].cpu = i;
        if (pthread_create(&cores[i].thread, NULL, hiccup_run, &cores[i]) != 0) {
            fprintf(stderr, "bench_hiccup: cannot start the thread of core %d\n", i);
            break;
        }
        started++;
    }

    limit = (struct timespec){.tv_sec = secs > 0 ? secs : 86400};
    while (sigtimedwait(&sigs, NULL, &limit) < 0 && errno == EINTR)
        ;
    atomic_store(&hiccup_stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(cores[i].thread, NULL);
    t1 = mono_ns();

    for (int i = 0; i < started; i++) {
        rt = rt && cores[i].rt;
        gaps += cores[i].n_gaps;
        dropped += cores[i].dropped;
        for (size_t g = 0; g < cores[i].n_gaps; g++) {
            const hiccup_gap_t *gap = &cores[i].gaps[g];

            printf("gap cpu=%d start=%.6f ms=%.1f\n", cores[i].cpu, (double)gap->start_ns / 1e9,
                   (double)(gap->end_ns - gap->start_ns) / 1e6);
            if (gap->end_ns - gap->start_ns > max)
                max = gap->end_ns - gap->start_ns;
        }
    }
    all = started == n_cpus ? all_cores_stalled(cores, started, &all_max) : -1;
    printf("hiccup: cpus=%d rt=%s period_us=%" PRId64 " threshold_ms=%" PRId64
           " secs=%.1f gaps=%zu max_ms=%.1f all_cpus_ms=%.1f all_cpus_max_ms=%.1f%s\n",
           started, rt ? "yes" : "no", hiccup_period_ns / 1000, hiccup_threshold_ns / 1000000,
           (double)(t1 - t0) / 1e9, gaps + dropped, (double)max / 1e6,
           all < 0 ? -1.0 : (double)all / 1e6, all < 0 ? -1.0 : (double)all_max / 1e6,
           rt ? "" : " (not real-time: gaps include waiting behind other threads)");
    free(cores);
    return started == n_cpus ? 0 : 1;
}
