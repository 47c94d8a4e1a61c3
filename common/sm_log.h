/*
 * sm_log: diagnostics ("messages") for people, on stderr, one line each:
 *
 *   2026-11-24T05:30:00.123Z INFO  broker-1: registered /brokers/ids/1
 *
 * The logger is the one piece of global state Samsa allows (STYLE.md rule 8). It is safe to
 * call from any thread: each line is written with one write(2).
 */
#ifndef SM_LOG_H
#define SM_LOG_H

typedef enum sm_log_level {
    SM_LOG_DEBUG = 0,
    SM_LOG_INFO = 1,
    SM_LOG_WARN = 2,
    SM_LOG_ERROR = 3,
    SM_LOG_OFF = 4,
} sm_log_level_t;

/* Sets the name printed on every line (copied, at most 31 bytes) and the lowest level shown. */
void sm_log_init(const char *name, sm_log_level_t level);
void sm_log_set_level(sm_log_level_t level);
sm_log_level_t sm_log_get_level(void);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int sm_log_level_parse(const char *s, sm_log_level_t *out);

void sm_log_write(sm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sm_log_debug(...) sm_log_write(SM_LOG_DEBUG, __VA_ARGS__)
#define sm_log_info(...)  sm_log_write(SM_LOG_INFO, __VA_ARGS__)
#define sm_log_warn(...)  sm_log_write(SM_LOG_WARN, __VA_ARGS__)
#define sm_log_error(...) sm_log_write(SM_LOG_ERROR, __VA_ARGS__)

#endif
