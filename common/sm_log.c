/*
 * sm_log: timestamped one-line messages on stderr. See sm_log.h.
 */
#include "sm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char sm_log_name[32] = "samsa";
static sm_log_level_t sm_log_level = SM_LOG_INFO;

void sm_log_init(const char *name, sm_log_level_t level)
{
    if (name != NULL)
        snprintf(sm_log_name, sizeof(sm_log_name), "%s", name);
    sm_log_level = level;
}

void sm_log_set_level(sm_log_level_t level)
{
    sm_log_level = level;
}

sm_log_level_t sm_log_get_level(void)
{
    return sm_log_level;
}

int sm_log_level_parse(const char *s, sm_log_level_t *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};

    for (int i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (sm_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void sm_log_write(sm_log_level_t level, const char *fmt, ...)
{
    static const char *const tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    char line[1024];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;
    va_list ap;

    if (level < sm_log_level || level > SM_LOG_ERROR)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ", ts.tv_nsec / 1000000L, tags[level],
                 sm_log_name);
    if (r > 0)
        n += (size_t)r;
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (r > 0)
        n += (size_t)r;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line so lines from several threads never interleave. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
