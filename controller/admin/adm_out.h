/*
 * adm_out: small formatting helpers every samsa-admin command shares: the one-line error on
 * stderr, times, endpoints, broker id lists and Kafka error names.
 */
#ifndef ADM_OUT_H
#define ADM_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "samsa.pb-c.h"

#define ADM_OUT_PROG "samsa-admin"

/* Prints "samsa-admin: <message>" and a newline to stderr; returns 1 (the runtime-failure exit
 * code) so a command can `return adm_out_fail(...)`. */
int adm_out_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats a wall-clock time in ms since the epoch as UTC ISO 8601 with milliseconds
 * ("2024-05-01T12:00:00.123Z") into buf; "-" when ms <= 0. */
void adm_out_time(int64_t ms, char *buf, size_t len);

/* Now, in ms since the epoch (wall clock). */
int64_t adm_out_now_ms(void);

/* "LISTENER://host:port" (host in brackets when it holds ':'), or "host:port" without a
 * listener name; "-" for NULL. */
void adm_out_endpoint(const Samsa__Endpoint *e, char *buf, size_t len);

/* "host:port" of e, ignoring the listener name. */
void adm_out_hostport(const Samsa__Endpoint *e, char *buf, size_t len);

/* "1,2,3"; "" when n is 0. Truncated with "..." if buf is too small. */
void adm_out_ids(const int32_t *v, size_t n, char *buf, size_t len);

/* Kafka's name of an error code ("TOPIC_ALREADY_EXISTS"); "UNKNOWN_SERVER_ERROR" for a code
 * this tool does not know. Static strings. */
const char *adm_out_kafka_error(int32_t code);

#endif
