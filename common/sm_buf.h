/*
 * sm_buf: the Kafka wire primitives -- a bounds-checked reader over borrowed bytes and a
 * growable writer -- through which every byte Samsa sends or receives passes (STYLE.md
 * rule 6). It sits at the bottom of common/: request decoders, response encoders, the record
 * batch validator and the on-disk formats all build on it; it knows nothing of messages.
 *
 * Reader: a stack-held view (ptr, len, pos, err) over bytes it does not own. The error is
 * STICKY: the first read that runs past the end or meets a malformed value records an error
 * and leaves pos where that read started; every later read returns zero or an empty view
 * and does not move. A decoder therefore reads a whole message without checking each call
 * and checks sm_reader_err() once at the end. Every length and count is checked against the
 * bytes remaining before it is returned, so a caller may allocate `count` elements without
 * trusting the peer. Strings and bytes come back as views into the buffer: they live as long
 * as the buffer does.
 *
 * Writer: a heap buffer that grows by doubling up to a limit (INT32_MAX by default, as every
 * Kafka size is an int32), with a sticky error for allocation failure, a limit overrun or an
 * invalid argument. Lengths and CRCs that are known only later are written by reserving a
 * slot (sm_writer_reserve) and patching it (sm_writer_patch_*).
 *
 * Encodings (all integers big-endian):
 *
 *   int8/16/32/64, uint16/32   1/2/4/8, 2/4 bytes, two's complement
 *   bool                       1 byte, 0 = false (any other value reads as true, as in Kafka)
 *   float64                    8 bytes, IEEE 754 binary64
 *   uuid                       16 bytes
 *   uvarint / uvarlong         LEB128: 7 bits a byte, low group first, high bit = more;
 *                              at most 5 / 10 bytes, and the last byte may not carry bits
 *                              beyond 32 / 64
 *   varint / varlong           zig-zag ((n << 1) ^ (n >> 31 or 63)), then as uvarint/uvarlong
 *   string                     int16 N, N bytes               nullable: N = -1 is null
 *   compact string             uvarint N+1, N bytes           nullable: 0 is null
 *   bytes                      int32 N, N bytes               nullable: N = -1 is null
 *   compact bytes              uvarint N+1, N bytes           nullable: 0 is null
 *   array                      int32 N, N elements            nullable: N = -1 is null
 *   compact array              uvarint N+1, N elements        nullable: 0 is null
 *   tagged fields              uvarint count, then count x (uvarint tag, uvarint size,
 *                              size bytes); no tags = one 0x00 byte
 *
 * Errors set by the reader: SM_ERR_TRUNCATED (fewer bytes remain than a value or a length
 * needs), SM_ERR_CORRUPT (an overlong varint, a negative length, null where null is not
 * allowed), SM_ERR_TOO_LARGE (a compact length beyond INT32_MAX, a string beyond INT16_MAX
 * bytes). Kafka limits strings to 32767 bytes in both forms, and so do reader and writer.
 *
 * A null string or bytes view has ptr == NULL and len == -1; an empty one has len == 0 and a
 * non-NULL ptr. Never print a view with "%.*s" without checking for null first: a negative
 * precision prints up to a NUL that may not be there.
 */
#ifndef SM_BUF_H
#define SM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"
#include "sm_uuid.h"

/* ---- views ------------------------------------------------------------------------------ */

/* A string borrowed from a buffer; not NUL-terminated. len == -1 means null. */
typedef struct sm_str {
    const char *ptr;
    int32_t len;
} sm_str_t;

/* Bytes borrowed from a buffer. len == -1 means null. */
typedef struct sm_bytes {
    const uint8_t *ptr;
    int32_t len;
} sm_bytes_t;

#define SM_STR_NULL   ((sm_str_t){NULL, -1})
#define SM_BYTES_NULL ((sm_bytes_t){NULL, -1})

/* A view of the NUL-terminated s (borrowed), or SM_STR_NULL when s is NULL. A string longer
 * than INT32_MAX gives len INT32_MAX, which every writer refuses. */
sm_str_t sm_str_of(const char *s);

/* A view of n bytes at p (borrowed). n beyond INT32_MAX gives len INT32_MAX; p NULL with n > 0
 * gives a view that every writer refuses (SM_ERR_INVALID). */
sm_bytes_t sm_bytes_of(const void *p, size_t n);

/* True when s is not null and holds exactly the characters of the NUL-terminated c. */
bool sm_str_eq(sm_str_t s, const char *c);

/* Copies s into a new NUL-terminated heap string that the caller frees with free(). A null s
 * gives *out = NULL. Returns SM_OK or SM_ERR_NOMEM (then *out = NULL). */
sm_err_t sm_str_dup(sm_str_t s, char **out);

/* ---- reader ----------------------------------------------------------------------------- */

/* Held on the stack by callers; treat the fields as read-only and use the functions. */
typedef struct sm_reader {
    const uint8_t *ptr; /* borrowed; not freed by the reader */
    size_t len;
    size_t pos;   /* next byte to read, 0 <= pos <= len */
    sm_err_t err; /* first error met; SM_OK until then */
} sm_reader_t;

/* Starts reading len bytes at buf (borrowed; buf may be NULL when len is 0). */
void sm_reader_init(sm_reader_t *r, const void *buf, size_t len);

/* The sticky error: SM_OK, SM_ERR_TRUNCATED, SM_ERR_CORRUPT, SM_ERR_TOO_LARGE, or whatever a
 * tag callback or sm_reader_fail() recorded. */
sm_err_t sm_reader_err(const sm_reader_t *r);

/* Records err (if no error is recorded yet and err != SM_OK), so that a decoder can fail a
 * value the reader cannot judge (a bad magic byte, an unknown enum) through the same path. */
void sm_reader_fail(sm_reader_t *r, sm_err_t err);

/* Bytes not yet read (0 once an error is recorded). */
size_t sm_reader_remaining(const sm_reader_t *r);

/* Offset of the next byte from the start of the buffer. */
size_t sm_reader_pos(const sm_reader_t *r);

/* Returns the sticky error if there is one, else SM_ERR_CORRUPT (recorded) when bytes are
 * left over, else SM_OK: for decoders whose message must fill its buffer exactly. */
sm_err_t sm_reader_expect_end(sm_reader_t *r);

/* Moves past n bytes; SM_ERR_TRUNCATED if fewer remain. */
void sm_reader_skip(sm_reader_t *r, size_t n);

/* Returns a pointer to the next n bytes (borrowed) and moves past them; NULL and
 * SM_ERR_TRUNCATED if fewer remain. n == 0 gives a non-NULL pointer. */
const uint8_t *sm_reader_take(sm_reader_t *r, size_t n);

/* Returns a reader over the next n bytes and moves r past them, e.g. for a size-prefixed
 * struct or a tagged field. If fewer remain, r records SM_ERR_TRUNCATED and the returned
 * reader is empty and carries the same error (as it does if r had already failed). The two
 * readers are independent afterwards: an error in the sub-reader does not reach r. */
sm_reader_t sm_reader_sub(sm_reader_t *r, size_t n);

/* Fixed-width values. On error: 0 / false. */
int8_t sm_reader_i8(sm_reader_t *r);
int16_t sm_reader_i16(sm_reader_t *r);
int32_t sm_reader_i32(sm_reader_t *r);
int64_t sm_reader_i64(sm_reader_t *r);
uint16_t sm_reader_u16(sm_reader_t *r);
uint32_t sm_reader_u32(sm_reader_t *r);
bool sm_reader_bool(sm_reader_t *r);
double sm_reader_f64(sm_reader_t *r);
sm_uuid_t sm_reader_uuid(sm_reader_t *r);

/* Variable-length integers. SM_ERR_CORRUPT for a 6th (varint) or 11th (varlong) byte or for
 * bits beyond the type's width in the last byte; SM_ERR_TRUNCATED if the input ends inside
 * the value. Non-minimal encodings (0x80 0x00) are accepted, as Kafka accepts them. */
uint32_t sm_reader_uvarint(sm_reader_t *r);
uint64_t sm_reader_uvarlong(sm_reader_t *r);
int32_t sm_reader_varint(sm_reader_t *r);  /* zig-zag */
int64_t sm_reader_varlong(sm_reader_t *r); /* zig-zag */

/* Strings (views). Non-nullable forms record SM_ERR_CORRUPT for null. Lengths other than -1
 * below zero are SM_ERR_CORRUPT; above INT16_MAX, SM_ERR_TOO_LARGE; beyond the remaining
 * bytes, SM_ERR_TRUNCATED. On error: an empty, non-null view. */
sm_str_t sm_reader_str(sm_reader_t *r);
sm_str_t sm_reader_nullable_str(sm_reader_t *r);
sm_str_t sm_reader_compact_str(sm_reader_t *r);
sm_str_t sm_reader_compact_nullable_str(sm_reader_t *r);

/* Bytes (views), also used for `records` fields. Same rules as strings, without the
 * INT16_MAX limit (compact lengths beyond INT32_MAX are SM_ERR_TOO_LARGE). */
sm_bytes_t sm_reader_bytes(sm_reader_t *r);
sm_bytes_t sm_reader_nullable_bytes(sm_reader_t *r);
sm_bytes_t sm_reader_compact_bytes(sm_reader_t *r);
sm_bytes_t sm_reader_compact_nullable_bytes(sm_reader_t *r);

/* Array counts. min_elem_size is the fewest bytes one element can take on the wire (e.g. 4
 * for an int32 array, 2 for a string array, 1 for flexible structs; 0 is taken as 1): a count
 * whose elements cannot fit in the bytes remaining is refused at once with SM_ERR_TRUNCATED,
 * so the count returned is safe to allocate for. Nullable forms return -1 for null; the
 * others record SM_ERR_CORRUPT for it. On error: 0. */
int32_t sm_reader_array_len(sm_reader_t *r, size_t min_elem_size);
int32_t sm_reader_nullable_array_len(sm_reader_t *r, size_t min_elem_size);
int32_t sm_reader_compact_array_len(sm_reader_t *r, size_t min_elem_size);
int32_t sm_reader_compact_nullable_array_len(sm_reader_t *r, size_t min_elem_size);

/* Called once per tagged field with a reader over exactly that field's bytes. Return SM_OK to
 * go on (whether or not the tag was known: unknown tags are simply not read); any other value
 * is recorded as r's error and stops the section. An error left in *field is recorded too. */
typedef sm_err_t (*sm_reader_tag_fn)(void *ctx, uint32_t tag, sm_reader_t *field);

/* Reads a tagged-field section, calling fn (if not NULL) for each field. A field whose size
 * runs past the end records SM_ERR_TRUNCATED. Tag order is not checked. */
void sm_reader_tags(sm_reader_t *r, sm_reader_tag_fn fn, void *ctx);

/* Reads a tagged-field section and skips every field (sm_reader_tags with no callback). */
void sm_reader_skip_tags(sm_reader_t *r);

/* ---- writer ----------------------------------------------------------------------------- */

#define SM_WRITER_DEFAULT_LIMIT ((size_t)INT32_MAX)

/* Held by callers (on the stack or in a struct); use the functions, not the fields. */
typedef struct sm_writer {
    uint8_t *buf; /* owned; NULL until the first write */
    size_t len;   /* bytes written */
    size_t cap;   /* bytes allocated */
    size_t limit; /* len never exceeds this */
    size_t hint;  /* first allocation size */
    sm_err_t err; /* first error met; SM_OK until then */
} sm_writer_t;

/* Starts an empty writer. hint is the first allocation (0 = 256 bytes); nothing is allocated
 * until the first write. The limit starts at SM_WRITER_DEFAULT_LIMIT. */
void sm_writer_init(sm_writer_t *w, size_t hint);

/* Frees the buffer (if not detached). Accepts NULL. The writer may be initialised again. */
void sm_writer_deinit(sm_writer_t *w);

/* Forgets what was written and any error; keeps the allocation and the limit. */
void sm_writer_reset(sm_writer_t *w);

/* Sets the largest number of bytes the writer will hold; a write that would pass it records
 * SM_ERR_TOO_LARGE. A limit below the current length records it at once. */
void sm_writer_set_limit(sm_writer_t *w, size_t limit);

/* The sticky error: SM_OK, SM_ERR_NOMEM, SM_ERR_TOO_LARGE (past the limit, a string beyond
 * INT16_MAX bytes, a tag beyond UINT32_MAX bytes), SM_ERR_INVALID (a null value for a
 * non-nullable field, a negative length or count), SM_ERR_RANGE (a patch outside what was
 * written), or what sm_writer_fail() recorded. */
sm_err_t sm_writer_err(const sm_writer_t *w);

/* Records err if no error is recorded yet and err != SM_OK. */
void sm_writer_fail(sm_writer_t *w, sm_err_t err);

/* Bytes written so far, and a pointer to them (borrowed; moves when the buffer grows, NULL
 * before the first write). */
size_t sm_writer_len(const sm_writer_t *w);
const uint8_t *sm_writer_data(const sm_writer_t *w);

/* Hands the bytes to the caller, who frees them with free(); the writer is left empty (as
 * after init, same hint and limit). Returns SM_OK with *out non-NULL (even for 0 bytes) and
 * *out_len, or the sticky error (or SM_ERR_NOMEM) with *out = NULL, *out_len = 0 and the
 * writer unchanged: the caller still deinits it. */
sm_err_t sm_writer_detach(sm_writer_t *w, uint8_t **out, size_t *out_len);

/* Appends n zero bytes and returns their offset, to be filled in by sm_writer_patch_*. On
 * error returns the current length (patches then do nothing, the error being recorded). */
size_t sm_writer_reserve(sm_writer_t *w, size_t n);

/* Overwrites bytes at offset pos (big-endian) that were already written. SM_ERR_RANGE if
 * they were not. Nothing happens once an error is recorded. */
void sm_writer_patch_i8(sm_writer_t *w, size_t pos, int8_t v);
void sm_writer_patch_i16(sm_writer_t *w, size_t pos, int16_t v);
void sm_writer_patch_i32(sm_writer_t *w, size_t pos, int32_t v);
void sm_writer_patch_u32(sm_writer_t *w, size_t pos, uint32_t v);
void sm_writer_patch_i64(sm_writer_t *w, size_t pos, int64_t v);

/* Appends n bytes from p (which may be NULL when n is 0). */
void sm_writer_raw(sm_writer_t *w, const void *p, size_t n);

void sm_writer_i8(sm_writer_t *w, int8_t v);
void sm_writer_i16(sm_writer_t *w, int16_t v);
void sm_writer_i32(sm_writer_t *w, int32_t v);
void sm_writer_i64(sm_writer_t *w, int64_t v);
void sm_writer_u16(sm_writer_t *w, uint16_t v);
void sm_writer_u32(sm_writer_t *w, uint32_t v);
void sm_writer_bool(sm_writer_t *w, bool v);
void sm_writer_f64(sm_writer_t *w, double v);
void sm_writer_uuid(sm_writer_t *w, sm_uuid_t v);

void sm_writer_uvarint(sm_writer_t *w, uint32_t v);
void sm_writer_uvarlong(sm_writer_t *w, uint64_t v);
void sm_writer_varint(sm_writer_t *w, int32_t v);  /* zig-zag */
void sm_writer_varlong(sm_writer_t *w, int64_t v); /* zig-zag */

/* Strings and bytes: a null view (len -1) is written as null by the nullable forms and
 * recorded as SM_ERR_INVALID by the others; any other negative len, or a NULL ptr with a
 * positive len, is SM_ERR_INVALID; a string longer than INT16_MAX is SM_ERR_TOO_LARGE. */
void sm_writer_str(sm_writer_t *w, sm_str_t s);
void sm_writer_nullable_str(sm_writer_t *w, sm_str_t s);
void sm_writer_compact_str(sm_writer_t *w, sm_str_t s);
void sm_writer_compact_nullable_str(sm_writer_t *w, sm_str_t s);
void sm_writer_bytes(sm_writer_t *w, sm_bytes_t b);
void sm_writer_nullable_bytes(sm_writer_t *w, sm_bytes_t b);
void sm_writer_compact_bytes(sm_writer_t *w, sm_bytes_t b);
void sm_writer_compact_nullable_bytes(sm_writer_t *w, sm_bytes_t b);

/* Array counts: n >= 0, or -1 for null in the nullable forms (else SM_ERR_INVALID). */
void sm_writer_array_len(sm_writer_t *w, int32_t n);
void sm_writer_nullable_array_len(sm_writer_t *w, int32_t n);
void sm_writer_compact_array_len(sm_writer_t *w, int32_t n);
void sm_writer_compact_nullable_array_len(sm_writer_t *w, int32_t n);

/* Tagged fields. An empty section is one 0x00 byte (sm_writer_empty_tags). To write fields,
 * write their count with sm_writer_uvarint, then each field, in ascending tag order, with
 * sm_writer_tag (which writes tag, size and the n bytes at p). */
void sm_writer_empty_tags(sm_writer_t *w);
void sm_writer_tag(sm_writer_t *w, uint32_t tag, const void *p, size_t n);

/* Encoded sizes, for lengths that must be written before the bytes they count. */
size_t sm_uvarint_size(uint32_t v);
size_t sm_uvarlong_size(uint64_t v);
size_t sm_varint_size(int32_t v);
size_t sm_varlong_size(int64_t v);

#endif
