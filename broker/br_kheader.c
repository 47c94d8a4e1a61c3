/*
 * br_kheader: request header parsing and response header encoding. See br_kheader.h.
 */
#include "broker/br_kheader.h"

void br_kheader_read_fixed(sm_reader_t *r, br_kheader_t *h)
{
    h->api_key = sm_reader_i16(r);
    h->api_version = sm_reader_i16(r);
    h->correlation_id = sm_reader_i32(r);
    h->client_id = SM_STR_NULL;
    h->flexible = false;
}

void br_kheader_read_rest(sm_reader_t *r, br_kheader_t *h, bool flexible)
{
    /* Even header v2 keeps the int16-length client id, for ApiVersions compatibility. */
    h->client_id = sm_reader_nullable_str(r);
    h->flexible = flexible;
    if (flexible)
        sm_reader_skip_tags(r);
}

size_t br_kheader_response(uint8_t out[BR_KHEADER_RESPONSE_MAX], int32_t correlation_id, bool tags,
                           size_t body_len)
{
    size_t hdr = tags ? 5 : 4;
    uint32_t total, corr = (uint32_t)correlation_id;

    if (body_len > (size_t)INT32_MAX - hdr)
        return 0;
    total = (uint32_t)(body_len + hdr);
    out[0] = (uint8_t)(total >> 24);
    out[1] = (uint8_t)(total >> 16);
    out[2] = (uint8_t)(total >> 8);
    out[3] = (uint8_t)total;
    out[4] = (uint8_t)(corr >> 24);
    out[5] = (uint8_t)(corr >> 16);
    out[6] = (uint8_t)(corr >> 8);
    out[7] = (uint8_t)corr;
    if (tags)
        out[8] = 0;
    return 4 + hdr;
}
