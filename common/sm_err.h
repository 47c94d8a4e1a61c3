/*
 * sm_err: Samsa's internal error type and one-line error messages.
 *
 * Internal functions return sm_err_t: 0 is success, a negative value names what went wrong.
 * Kafka error codes are a different type (int16 on the wire) and are produced only at the
 * request-handler boundary. Where a person will read a failure (config, start-up, admin),
 * the callee also writes one line naming the problem into a caller-supplied sm_errbuf_t.
 */
#ifndef SM_ERR_H
#define SM_ERR_H

#include <stddef.h>

typedef int sm_err_t;

enum {
    SM_OK = 0,
    SM_ERR_NOMEM = -1,        /* allocation failed */
    SM_ERR_IO = -2,           /* read/write/fsync failed (errno saved by the caller) */
    SM_ERR_CORRUPT = -3,      /* bytes fail a checksum or a structural check */
    SM_ERR_INVALID = -4,      /* a caller or a peer passed something not allowed */
    SM_ERR_TRUNCATED = -5,    /* fewer bytes than the encoding needs */
    SM_ERR_TOO_LARGE = -6,    /* a length or count beyond a configured or sane limit */
    SM_ERR_NOT_FOUND = -7,    /* no such node, file, key or entry */
    SM_ERR_EXISTS = -8,       /* already there */
    SM_ERR_TIMEOUT = -9,      /* no answer within the deadline */
    SM_ERR_CLOSED = -10,      /* the peer or the object is closed */
    SM_ERR_VERSION = -11,     /* a conditional update saw another version */
    SM_ERR_NOSPC = -12,       /* the disk is full */
    SM_ERR_ZK = -13,          /* ZooKeeper reported an error not covered above */
    SM_ERR_CONFIG = -14,      /* bad configuration */
    SM_ERR_RANGE = -15,       /* an offset or index outside the valid range */
    SM_ERR_STATE = -16,       /* the object is in a state that forbids the call */
    SM_ERR_FENCED = -17,      /* a newer epoch exists; the caller has been superseded */
    SM_ERR_AGAIN = -18,       /* try again later (not connected yet, busy) */
    SM_ERR_UNSUPPORTED = -19, /* a version or feature we do not implement */
};

/* Returns a static, lower-case name for err ("corrupt data"); never NULL. */
const char *sm_err_str(sm_err_t err);

/* One line for a person: what failed and why. Always NUL-terminated. */
#define SM_ERRBUF_LEN 256
typedef struct sm_errbuf {
    char msg[SM_ERRBUF_LEN];
} sm_errbuf_t;

/* Writes a formatted line into eb (if eb is not NULL) and returns err, so callers can write
 * `return sm_errbuf_set(eb, SM_ERR_CONFIG, "bad value for %s", key);`. */
sm_err_t sm_errbuf_set(sm_errbuf_t *eb, sm_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
