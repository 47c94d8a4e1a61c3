/*
 * sm_err: names for internal error codes and the one-line error buffer.
 */
#include "sm_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *sm_err_str(sm_err_t err)
{
    switch (err) {
    case SM_OK:
        return "success";
    case SM_ERR_NOMEM:
        return "out of memory";
    case SM_ERR_IO:
        return "input/output error";
    case SM_ERR_CORRUPT:
        return "corrupt data";
    case SM_ERR_INVALID:
        return "invalid argument";
    case SM_ERR_TRUNCATED:
        return "truncated input";
    case SM_ERR_TOO_LARGE:
        return "too large";
    case SM_ERR_NOT_FOUND:
        return "not found";
    case SM_ERR_EXISTS:
        return "already exists";
    case SM_ERR_TIMEOUT:
        return "timed out";
    case SM_ERR_CLOSED:
        return "closed";
    case SM_ERR_VERSION:
        return "version mismatch";
    case SM_ERR_NOSPC:
        return "no space left on device";
    case SM_ERR_ZK:
        return "zookeeper error";
    case SM_ERR_CONFIG:
        return "configuration error";
    case SM_ERR_RANGE:
        return "out of range";
    case SM_ERR_STATE:
        return "wrong state";
    case SM_ERR_FENCED:
        return "fenced by a newer epoch";
    case SM_ERR_AGAIN:
        return "try again";
    case SM_ERR_UNSUPPORTED:
        return "unsupported";
    default:
        return "unknown error";
    }
}

sm_err_t sm_errbuf_set(sm_errbuf_t *eb, sm_err_t err, const char *fmt, ...)
{
    va_list ap;

    if (eb == NULL)
        return err;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
    va_end(ap);
    return err;
}
