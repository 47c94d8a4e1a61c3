/*
 * adm_json: samsa-admin's JSON output. A small writer that builds one JSON document in memory
 * (so tests can compare the text) and a generic printer that walks any protobuf-c message
 * through its ProtobufCMessageDescriptor, which is how `zk get` shows every znode payload.
 *
 * The text is one line in the spacing DESIGN.md section 7 shows, which programs and people
 * both read easily:
 *
 *   {"id": 1, "epoch": 7, "endpoint": "127.0.0.1:9190"}
 *   [{"id": 1, "endpoints": ["PLAINTEXT://127.0.0.1:9092"], "rack": null}]
 *
 * The writer keeps a sticky error: after the first failure (out of memory, nesting deeper
 * than ADM_JSON_MAX_DEPTH) every call does nothing and adm_json_error() reports it once.
 * Callers build the whole document and check at the end.
 */
#ifndef ADM_JSON_H
#define ADM_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm_err.h"

#define ADM_JSON_MAX_DEPTH 32

/* A document being written; lives on the caller's stack (adm_json_init / adm_json_deinit). */
typedef struct adm_json {
    char *buf; /* the text so far, NUL-terminated once anything was written */
    size_t len;
    size_t cap;
    int depth;                          /* open objects and arrays */
    bool first[ADM_JSON_MAX_DEPTH + 1]; /* no value yet at this depth: no ", " before the next */
    bool after_key;                     /* a key was written: its value follows without ", " */
    sm_err_t err;                       /* sticky */
} adm_json_t;

void adm_json_init(adm_json_t *j);

/* Releases the text. Accepts NULL. */
void adm_json_deinit(adm_json_t *j);

/* SM_OK, SM_ERR_NOMEM, or SM_ERR_INVALID (nesting too deep, unbalanced end). */
sm_err_t adm_json_error(const adm_json_t *j);

/* The text written so far ("" when nothing); borrowed from j. */
const char *adm_json_text(const adm_json_t *j);

/* Writes the text and a newline to f. Returns SM_OK, the writer's sticky error, or SM_ERR_IO. */
sm_err_t adm_json_write(const adm_json_t *j, FILE *f);

void adm_json_object_begin(adm_json_t *j);
void adm_json_object_end(adm_json_t *j);
void adm_json_array_begin(adm_json_t *j);
void adm_json_array_end(adm_json_t *j);

/* The key of the next member of the enclosing object. */
void adm_json_key(adm_json_t *j, const char *key);

/* Values. adm_json_string(j, NULL) writes null. Strings are escaped as RFC 8259 requires;
 * bytes that are not valid UTF-8 become U+FFFD. */
void adm_json_string(adm_json_t *j, const char *s);
void adm_json_string_n(adm_json_t *j, const char *s, size_t n);
void adm_json_int(adm_json_t *j, int64_t v);
void adm_json_uint(adm_json_t *j, uint64_t v);
void adm_json_double(adm_json_t *j, double v); /* NaN and infinities become null */
void adm_json_bool(adm_json_t *j, bool v);
void adm_json_null(adm_json_t *j);

/* [v0, v1, ...] */
void adm_json_int32_array(adm_json_t *j, const int32_t *v, size_t n);

/*
 * Writes msg as a JSON object, one member per field in field-number order:
 *   - a present optional field by its value; an absent one by its declared default if it has
 *     one (proto2 reads it that way), else not at all; repeated fields always, as arrays;
 *   - enums by value name ("RECOVERED"), unknown enum numbers as numbers;
 *   - bytes of 16 in a field whose name ends in "_id" as a Kafka UUID ("AAAAAAAAAAAAAAAAAAAAAA"),
 *     other bytes as standard base64;
 *   - oneof members only when chosen; nested messages as objects.
 * msg NULL writes null.
 */
void adm_json_message(adm_json_t *j, const ProtobufCMessage *msg);

/* True when s[0..n) is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). */
bool adm_json_is_utf8(const char *s, size_t n);

/* Writes the standard base64 (RFC 4648, padded) of data[0..n) as a JSON string. */
void adm_json_base64(adm_json_t *j, const uint8_t *data, size_t n);

#endif
