/*
 * sm_frame: 4-byte big-endian length framing over raw bytes and libevent evbuffers. See
 * sm_frame.h for the frame layout and the length rules. Nothing here allocates except the
 * evbuffer chains that sm_frame_add_evbuffer appends to.
 */
#include "sm_frame.h"

#include <event2/buffer.h>

void sm_frame_put_header(uint8_t hdr[SM_FRAME_HEADER_SIZE], uint32_t len)
{
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}

uint32_t sm_frame_get_header(const uint8_t hdr[SM_FRAME_HEADER_SIZE])
{
    return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
           (uint32_t)hdr[3];
}

/* The judgement shared by both peek forms, once the header (if complete) has been read. */
static sm_err_t sm_frame_judge(const uint8_t *hdr, size_t avail, uint32_t max_payload,
                               uint32_t *payload_len, size_t *need)
{
    uint32_t n;
    size_t total;

    *payload_len = 0;
    if (avail < SM_FRAME_HEADER_SIZE) {
        if (need != NULL)
            *need = SM_FRAME_HEADER_SIZE;
        return SM_ERR_AGAIN;
    }
    n = sm_frame_get_header(hdr);
    *payload_len = n;
    if (n > SM_FRAME_MAX_PAYLOAD)
        return SM_ERR_CORRUPT;
    if (n > max_payload)
        return SM_ERR_TOO_LARGE;
    /* n <= INT32_MAX, so this cannot overflow a size_t of 32 bits or more. */
    total = (size_t)n + SM_FRAME_HEADER_SIZE;
    if (need != NULL)
        *need = total;
    if (avail < total)
        return SM_ERR_AGAIN;
    return SM_OK;
}

sm_err_t sm_frame_peek(const uint8_t *buf, size_t avail, uint32_t max_payload,
                       uint32_t *payload_len, size_t *need)
{
    return sm_frame_judge(buf, avail, max_payload, payload_len, need);
}

sm_err_t sm_frame_peek_evbuffer(struct evbuffer *in, uint32_t max_payload, uint32_t *payload_len,
                                size_t *need)
{
    uint8_t hdr[SM_FRAME_HEADER_SIZE];
    size_t avail = evbuffer_get_length(in);

    if (avail >= SM_FRAME_HEADER_SIZE &&
        evbuffer_copyout(in, hdr, SM_FRAME_HEADER_SIZE) != (ev_ssize_t)SM_FRAME_HEADER_SIZE)
        return SM_ERR_IO;
    return sm_frame_judge(hdr, avail, max_payload, payload_len, need);
}

sm_err_t sm_frame_add_evbuffer(struct evbuffer *out, const void *payload, size_t len)
{
    uint8_t hdr[SM_FRAME_HEADER_SIZE];
    struct evbuffer_iovec vec[2];

    if (len > SM_FRAME_MAX_PAYLOAD)
        return SM_ERR_TOO_LARGE;
    sm_frame_put_header(hdr, (uint32_t)len);
    vec[0].iov_base = hdr;
    vec[0].iov_len = sizeof(hdr);
    vec[1].iov_base = (void *)(uintptr_t)payload;
    vec[1].iov_len = len;
    /* evbuffer_add_iovec reserves room for both pieces first, so a failure appends nothing. */
    if (evbuffer_add_iovec(out, vec, len > 0 ? 2 : 1) != sizeof(hdr) + len)
        return SM_ERR_NOMEM;
    return SM_OK;
}
