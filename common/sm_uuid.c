/*
 * sm_uuid: random v4 UUIDs and Kafka's base64url text form. See sm_uuid.h.
 */
#include "sm_uuid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static const char sm_uuid_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of one base64url character, or -1. */
static int sm_uuid_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

static int sm_uuid_fill_random(uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

sm_err_t sm_uuid_random(sm_uuid_t *out)
{
    static const sm_uuid_t metadata_topic_id = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    sm_uuid_t u;

    /* A v4 UUID can be neither zero nor (0, 1), but a leading '-' happens once in 64 draws
     * (first byte 0xf8..0xfb); Kafka draws again, and so do we. Bounded all the same. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (sm_uuid_fill_random(u.b, sizeof(u.b)) != 0)
            return SM_ERR_IO;
        u.b[6] = (uint8_t)((u.b[6] & 0x0f) | 0x40); /* version 4 */
        u.b[8] = (uint8_t)((u.b[8] & 0x3f) | 0x80); /* IETF variant */
        if (sm_uuid_is_zero(&u) || sm_uuid_eq(&u, &metadata_topic_id) || (u.b[0] >> 2) == 62)
            continue;
        *out = u;
        return SM_OK;
    }
    return SM_ERR_IO;
}

void sm_uuid_format(const sm_uuid_t *u, char out[SM_UUID_STR_SIZE])
{
    size_t o = 0;
    size_t i;

    /* Five groups of 3 bytes -> 20 characters, then the last byte -> 2 characters. */
    for (i = 0; i + 3 <= sizeof(u->b); i += 3) {
        uint32_t v = (uint32_t)u->b[i] << 16 | (uint32_t)u->b[i + 1] << 8 | u->b[i + 2];
        out[o++] = sm_uuid_alphabet[(v >> 18) & 63];
        out[o++] = sm_uuid_alphabet[(v >> 12) & 63];
        out[o++] = sm_uuid_alphabet[(v >> 6) & 63];
        out[o++] = sm_uuid_alphabet[v & 63];
    }
    out[o++] = sm_uuid_alphabet[u->b[15] >> 2];
    out[o++] = sm_uuid_alphabet[(u->b[15] & 3) << 4];
    out[o] = '\0';
}

sm_err_t sm_uuid_parse(const char *s, size_t len, sm_uuid_t *out)
{
    sm_uuid_t u;
    int vals[SM_UUID_STR_LEN];
    size_t o = 0;

    if (s == NULL)
        return SM_ERR_INVALID;
    if (len == SM_UUID_STR_LEN + 2 && s[22] == '=' && s[23] == '=')
        len = SM_UUID_STR_LEN;
    if (len != SM_UUID_STR_LEN)
        return SM_ERR_INVALID;
    for (size_t i = 0; i < SM_UUID_STR_LEN; i++) {
        vals[i] = sm_uuid_b64_value(s[i]);
        if (vals[i] < 0)
            return SM_ERR_INVALID;
    }
    /* The last character carries 2 bits; its low 4 bits must be zero. */
    if ((vals[21] & 15) != 0)
        return SM_ERR_INVALID;
    for (size_t i = 0; i < 20; i += 4) {
        uint32_t v = (uint32_t)vals[i] << 18 | (uint32_t)vals[i + 1] << 12 |
                     (uint32_t)vals[i + 2] << 6 | (uint32_t)vals[i + 3];
        u.b[o++] = (uint8_t)(v >> 16);
        u.b[o++] = (uint8_t)(v >> 8);
        u.b[o++] = (uint8_t)v;
    }
    u.b[15] = (uint8_t)((uint32_t)vals[20] << 2 | (uint32_t)vals[21] >> 4);
    *out = u;
    return SM_OK;
}

bool sm_uuid_is_zero(const sm_uuid_t *u)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < sizeof(u->b); i++)
        acc |= u->b[i];
    return acc == 0;
}

bool sm_uuid_eq(const sm_uuid_t *a, const sm_uuid_t *b)
{
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}
