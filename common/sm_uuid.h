/*
 * sm_uuid: Kafka's 128-bit ids (topic ids, cluster ids, directory ids).
 *
 * A UUID is 16 bytes, big-endian on the wire (Kafka's `uuid` type: most significant long
 * first). People see it in Kafka's text form: base64url without padding, 22 characters, e.g.
 * "AAAAAAAAAAAAAAAAAAAAAA" for the zero UUID, which Kafka uses to mean "no id". Pure
 * functions, no state; the reader and writer in sm_buf.h carry UUIDs on the wire.
 */
#ifndef SM_UUID_H
#define SM_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

typedef struct sm_uuid {
    uint8_t b[16]; /* wire order: b[0] is the most significant byte */
} sm_uuid_t;

/* Length of the text form, and the size of a buffer that holds it with its NUL. */
#define SM_UUID_STR_LEN  22
#define SM_UUID_STR_SIZE 23

/* The zero UUID (Kafka's Uuid.ZERO_UUID). */
#define SM_UUID_ZERO ((sm_uuid_t){{0}})

/* Fills *out with a random version-4 UUID from getrandom(2). Like Kafka's Uuid.randomUuid(),
 * never returns the zero UUID, the metadata topic id (0, 1), or one whose text form starts
 * with '-' (which a command line would take for an option). Returns SM_OK, or SM_ERR_IO when
 * the kernel gives no randomness (errno is left as getrandom set it). */
sm_err_t sm_uuid_random(sm_uuid_t *out);

/* Writes the 22-character base64url text of u and a NUL into out (SM_UUID_STR_SIZE bytes). */
void sm_uuid_format(const sm_uuid_t *u, char out[SM_UUID_STR_SIZE]);

/* Parses the text form: exactly 22 base64url characters, or 24 ending in "==" (Java's
 * decoder accepts the padded form). len is the number of characters in s (no NUL needed).
 * Returns SM_OK and fills *out, or SM_ERR_INVALID for any other length, a character outside
 * the alphabet, or non-zero unused low bits in the last character (so every UUID has one
 * text form). *out is untouched on error. */
sm_err_t sm_uuid_parse(const char *s, size_t len, sm_uuid_t *out);

/* True when u is all zeros. */
bool sm_uuid_is_zero(const sm_uuid_t *u);

/* True when a and b hold the same 16 bytes. */
bool sm_uuid_eq(const sm_uuid_t *a, const sm_uuid_t *b);

#endif
