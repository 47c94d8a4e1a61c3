/*
 * adm_out: shared output helpers of samsa-admin (see adm_out.h).
 */
#include "controller/admin/adm_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int adm_out_fail(const char *fmt, ...)
{
    va_list ap;

    fputs(ADM_OUT_PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

void adm_out_time(int64_t ms, char *buf, size_t len)
{
    time_t secs;
    struct tm tm;
    char day[40];

    if (ms <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    secs = (time_t)(ms / 1000);
    if (gmtime_r(&secs, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "%lld", (long long)ms);
        return;
    }
    snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

int64_t adm_out_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void adm_out_hostport(const Samsa__Endpoint *e, char *buf, size_t len)
{
    const char *host;

    if (e == NULL) {
        snprintf(buf, len, "-");
        return;
    }
    host = e->host != NULL ? e->host : "";
    if (strchr(host, ':') != NULL)
        snprintf(buf, len, "[%s]:%d", host, (int)e->port);
    else
        snprintf(buf, len, "%s:%d", host, (int)e->port);
}

void adm_out_endpoint(const Samsa__Endpoint *e, char *buf, size_t len)
{
    char hp[300];

    if (e == NULL || e->listener == NULL || e->listener[0] == '\0') {
        adm_out_hostport(e, buf, len);
        return;
    }
    adm_out_hostport(e, hp, sizeof(hp));
    snprintf(buf, len, "%s://%s", e->listener, hp);
}

void adm_out_ids(const int32_t *v, size_t n, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int r = snprintf(buf + used, len - used, "%s%d", i ? "," : "", (int)v[i]);

        if (r < 0 || (size_t)r >= len - used) {
            if (len >= 4)
                memcpy(buf + len - 4, "...", 4);
            return;
        }
        used += (size_t)r;
    }
}

const char *adm_out_kafka_error(int32_t code)
{
    static const struct {
        int32_t code;
        const char *name;
    } names[] = {
        {0, "NONE"},
        {3, "UNKNOWN_TOPIC_OR_PARTITION"},
        {7, "REQUEST_TIMED_OUT"},
        {10, "MESSAGE_TOO_LARGE"},
        {11, "STALE_CONTROLLER_EPOCH"},
        {17, "INVALID_TOPIC_EXCEPTION"},
        {35, "UNSUPPORTED_VERSION"},
        {36, "TOPIC_ALREADY_EXISTS"},
        {37, "INVALID_PARTITIONS"},
        {38, "INVALID_REPLICATION_FACTOR"},
        {39, "INVALID_REPLICA_ASSIGNMENT"},
        {40, "INVALID_CONFIG"},
        {41, "NOT_CONTROLLER"},
        {42, "INVALID_REQUEST"},
        {73, "TOPIC_DELETION_DISABLED"},
        {74, "FENCED_LEADER_EPOCH"},
        {77, "STALE_BROKER_EPOCH"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == code)
            return names[i].name;
    }
    return "UNKNOWN_SERVER_ERROR";
}
