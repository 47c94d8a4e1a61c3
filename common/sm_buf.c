/*
 * sm_buf: Kafka wire primitives -- the sticky-error reader and the growable writer. See
 * sm_buf.h for the encodings and the error rules.
 *
 * Reader invariants: pos <= len always; while err == SM_OK, ptr[pos .. len) are the unread
 * bytes; once err != SM_OK, nothing moves pos again. A read that fails puts pos back where
 * it started (composite reads such as a string or a tag section included), so pos always
 * sits on a value boundary.
 *
 * Writer invariants: len <= cap, len <= limit; buf is NULL exactly when cap == 0; once err
 * != SM_OK nothing is written or patched until sm_writer_reset().
 */
#include "sm_buf.h"

#include <stdlib.h>
#include <string.h>

/* Where empty views point, so that an empty string is never NULL (NULL means null). */
static const uint8_t sm_buf_empty[1];

/* ---- views ------------------------------------------------------------------------------ */

sm_str_t sm_str_of(const char *s)
{
    sm_str_t v = SM_STR_NULL;
    size_t n;

    if (s == NULL)
        return v;
    n = strlen(s);
    v.ptr = s;
    v.len = n > (size_t)INT32_MAX ? INT32_MAX : (int32_t)n;
    return v;
}

sm_bytes_t sm_bytes_of(const void *p, size_t n)
{
    sm_bytes_t v;

    /* NULL with n > 0 stays NULL so that a writer refuses it. */
    v.ptr = p != NULL ? p : (n == 0 ? sm_buf_empty : NULL);
    v.len = n > (size_t)INT32_MAX ? INT32_MAX : (int32_t)n;
    return v;
}

bool sm_str_eq(sm_str_t s, const char *c)
{
    if (s.len < 0 || c == NULL)
        return false;
    if (strlen(c) != (size_t)s.len)
        return false;
    return s.len == 0 || memcmp(s.ptr, c, (size_t)s.len) == 0;
}

sm_err_t sm_str_dup(sm_str_t s, char **out)
{
    char *p;

    *out = NULL;
    if (s.len < 0)
        return SM_OK;
    p = malloc((size_t)s.len + 1);
    if (p == NULL)
        return SM_ERR_NOMEM;
    if (s.len > 0)
        memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
    *out = p;
    return SM_OK;
}

/* ---- reader: plumbing ------------------------------------------------------------------- */

void sm_reader_init(sm_reader_t *r, const void *buf, size_t len)
{
    r->ptr = buf;
    r->len = len;
    r->pos = 0;
    r->err = SM_OK;
    if (buf == NULL && len != 0) {
        r->len = 0;
        r->err = SM_ERR_INVALID;
    }
}

sm_err_t sm_reader_err(const sm_reader_t *r)
{
    return r->err;
}

void sm_reader_fail(sm_reader_t *r, sm_err_t err)
{
    if (r->err == SM_OK)
        r->err = err;
}

/* Records err and puts pos back to start, the beginning of the value being read. */
static void sm_reader_fail_at(sm_reader_t *r, size_t start, sm_err_t err)
{
    if (r->err == SM_OK)
        r->err = err;
    r->pos = start;
}

size_t sm_reader_remaining(const sm_reader_t *r)
{
    return r->err != SM_OK ? 0 : r->len - r->pos;
}

size_t sm_reader_pos(const sm_reader_t *r)
{
    return r->pos;
}

sm_err_t sm_reader_expect_end(sm_reader_t *r)
{
    if (r->err == SM_OK && r->pos != r->len)
        r->err = SM_ERR_CORRUPT;
    return r->err;
}

/* The one place that moves pos forward: returns the next n bytes, or NULL with
 * SM_ERR_TRUNCATED recorded. Never NULL on success, even when ptr is NULL and n == 0. */
static const uint8_t *sm_reader_need(sm_reader_t *r, size_t n)
{
    const uint8_t *p;

    if (r->err != SM_OK)
        return NULL;
    if (n > r->len - r->pos) {
        r->err = SM_ERR_TRUNCATED;
        return NULL;
    }
    p = r->ptr != NULL ? r->ptr + r->pos : sm_buf_empty;
    r->pos += n;
    return p;
}

void sm_reader_skip(sm_reader_t *r, size_t n)
{
    (void)sm_reader_need(r, n);
}

const uint8_t *sm_reader_take(sm_reader_t *r, size_t n)
{
    return sm_reader_need(r, n);
}

sm_reader_t sm_reader_sub(sm_reader_t *r, size_t n)
{
    sm_reader_t sub;
    const uint8_t *p = sm_reader_need(r, n);

    sm_reader_init(&sub, p, p != NULL ? n : 0);
    if (p == NULL)
        sub.err = r->err;
    return sub;
}

/* ---- reader: fixed width ---------------------------------------------------------------- */

static uint64_t sm_reader_be(sm_reader_t *r, size_t n)
{
    const uint8_t *p = sm_reader_need(r, n);
    uint64_t v = 0;

    if (p == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int8_t sm_reader_i8(sm_reader_t *r)
{
    return (int8_t)(uint8_t)sm_reader_be(r, 1);
}

int16_t sm_reader_i16(sm_reader_t *r)
{
    return (int16_t)(uint16_t)sm_reader_be(r, 2);
}

int32_t sm_reader_i32(sm_reader_t *r)
{
    return (int32_t)(uint32_t)sm_reader_be(r, 4);
}

int64_t sm_reader_i64(sm_reader_t *r)
{
    return (int64_t)sm_reader_be(r, 8);
}

uint16_t sm_reader_u16(sm_reader_t *r)
{
    return (uint16_t)sm_reader_be(r, 2);
}

uint32_t sm_reader_u32(sm_reader_t *r)
{
    return (uint32_t)sm_reader_be(r, 4);
}

bool sm_reader_bool(sm_reader_t *r)
{
    return sm_reader_be(r, 1) != 0;
}

double sm_reader_f64(sm_reader_t *r)
{
    uint64_t bits = sm_reader_be(r, 8);
    double d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

sm_uuid_t sm_reader_uuid(sm_reader_t *r)
{
    sm_uuid_t u = SM_UUID_ZERO;
    const uint8_t *p = sm_reader_need(r, sizeof(u.b));

    if (p != NULL)
        memcpy(u.b, p, sizeof(u.b));
    return u;
}

/* ---- reader: varints -------------------------------------------------------------------- */

/* LEB128 of at most max_bytes holding a value of `bits` bits (32 or 64). The last allowed
 * byte may not set the continuation bit nor any bit at or above `bits`. */
static uint64_t sm_reader_leb128(sm_reader_t *r, unsigned max_bytes, unsigned bits)
{
    uint64_t v = 0;
    size_t avail;

    if (r->err != SM_OK)
        return 0;
    avail = r->len - r->pos;
    for (unsigned i = 0; i < max_bytes; i++) {
        unsigned shift = 7 * i;
        uint8_t b;

        if (i == avail) {
            r->err = SM_ERR_TRUNCATED;
            return 0;
        }
        b = r->ptr[r->pos + i];
        if (i == max_bytes - 1 && ((b & 0x80) != 0 || (b >> (bits - shift)) != 0)) {
            r->err = SM_ERR_CORRUPT;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            r->pos += i + 1;
            return v;
        }
    }
    r->err = SM_ERR_CORRUPT; /* not reached: the last byte returns or fails above */
    return 0;
}

uint32_t sm_reader_uvarint(sm_reader_t *r)
{
    return (uint32_t)sm_reader_leb128(r, 5, 32);
}

uint64_t sm_reader_uvarlong(sm_reader_t *r)
{
    return sm_reader_leb128(r, 10, 64);
}

int32_t sm_reader_varint(sm_reader_t *r)
{
    uint32_t z = sm_reader_uvarint(r);

    return (int32_t)((z >> 1) ^ (0u - (z & 1u)));
}

int64_t sm_reader_varlong(sm_reader_t *r)
{
    uint64_t z = sm_reader_uvarlong(r);

    return (int64_t)((z >> 1) ^ (0u - (z & 1u)));
}

/* ---- reader: strings, bytes, arrays ----------------------------------------------------- */

/* Body of a string or bytes value whose length n was read starting at start (n == -1 is
 * null). Returns the length and sets *out; on error returns 0 with *out = sm_buf_empty. */
static int32_t sm_reader_blob(sm_reader_t *r, size_t start, int64_t n, bool nullable, int64_t max,
                              const uint8_t **out)
{
    sm_err_t err = SM_OK;

    *out = sm_buf_empty;
    if (r->err != SM_OK) {
        r->pos = start;
        return 0;
    }
    if (n == -1 && nullable) {
        *out = NULL;
        return -1;
    }
    if (n < 0)
        err = SM_ERR_CORRUPT;
    else if (n > max)
        err = SM_ERR_TOO_LARGE;
    else if ((uint64_t)n > r->len - r->pos)
        err = SM_ERR_TRUNCATED;
    if (err != SM_OK) {
        sm_reader_fail_at(r, start, err);
        return 0;
    }
    *out = sm_reader_need(r, (size_t)n);
    return (int32_t)n;
}

static sm_str_t sm_reader_str_body(sm_reader_t *r, size_t start, int64_t n, bool nullable)
{
    const uint8_t *p;
    sm_str_t s;

    s.len = sm_reader_blob(r, start, n, nullable, INT16_MAX, &p);
    s.ptr = (const char *)p;
    return s;
}

static sm_bytes_t sm_reader_bytes_body(sm_reader_t *r, size_t start, int64_t n, bool nullable)
{
    sm_bytes_t b;

    b.len = sm_reader_blob(r, start, n, nullable, INT32_MAX, &b.ptr);
    return b;
}

/* A compact length: uvarint N+1, with 0 (null) mapped to -1. */
static int64_t sm_reader_compact_len(sm_reader_t *r)
{
    return (int64_t)sm_reader_uvarint(r) - 1;
}

sm_str_t sm_reader_str(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_str_body(r, start, sm_reader_i16(r), false);
}

sm_str_t sm_reader_nullable_str(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_str_body(r, start, sm_reader_i16(r), true);
}

sm_str_t sm_reader_compact_str(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_str_body(r, start, sm_reader_compact_len(r), false);
}

sm_str_t sm_reader_compact_nullable_str(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_str_body(r, start, sm_reader_compact_len(r), true);
}

sm_bytes_t sm_reader_bytes(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_bytes_body(r, start, sm_reader_i32(r), false);
}

sm_bytes_t sm_reader_nullable_bytes(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_bytes_body(r, start, sm_reader_i32(r), true);
}

sm_bytes_t sm_reader_compact_bytes(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_bytes_body(r, start, sm_reader_compact_len(r), false);
}

sm_bytes_t sm_reader_compact_nullable_bytes(sm_reader_t *r)
{
    size_t start = r->pos;
    return sm_reader_bytes_body(r, start, sm_reader_compact_len(r), true);
}

/* Checks an array count n read from start against the bytes remaining. */
static int32_t sm_reader_count(sm_reader_t *r, size_t start, int64_t n, bool nullable,
                               size_t min_elem_size)
{
    sm_err_t err = SM_OK;
    size_t min = min_elem_size > 0 ? min_elem_size : 1;

    if (r->err != SM_OK) {
        r->pos = start;
        return 0;
    }
    if (n == -1 && nullable)
        return -1;
    if (n < 0)
        err = SM_ERR_CORRUPT;
    else if (n > INT32_MAX)
        err = SM_ERR_TOO_LARGE;
    else if ((uint64_t)n > (r->len - r->pos) / min)
        err = SM_ERR_TRUNCATED;
    if (err != SM_OK) {
        sm_reader_fail_at(r, start, err);
        return 0;
    }
    return (int32_t)n;
}

int32_t sm_reader_array_len(sm_reader_t *r, size_t min_elem_size)
{
    size_t start = r->pos;
    return sm_reader_count(r, start, sm_reader_i32(r), false, min_elem_size);
}

int32_t sm_reader_nullable_array_len(sm_reader_t *r, size_t min_elem_size)
{
    size_t start = r->pos;
    return sm_reader_count(r, start, sm_reader_i32(r), true, min_elem_size);
}

int32_t sm_reader_compact_array_len(sm_reader_t *r, size_t min_elem_size)
{
    size_t start = r->pos;
    return sm_reader_count(r, start, sm_reader_compact_len(r), false, min_elem_size);
}

int32_t sm_reader_compact_nullable_array_len(sm_reader_t *r, size_t min_elem_size)
{
    size_t start = r->pos;
    return sm_reader_count(r, start, sm_reader_compact_len(r), true, min_elem_size);
}

/* ---- reader: tagged fields -------------------------------------------------------------- */

void sm_reader_tags(sm_reader_t *r, sm_reader_tag_fn fn, void *ctx)
{
    size_t start = r->pos;
    uint32_t count;

    if (r->err != SM_OK)
        return;
    count = sm_reader_uvarint(r);
    /* Each field takes at least two bytes (tag, size), so a count that cannot fit is refused
     * before any field is looked at. */
    if (r->err == SM_OK && count > (r->len - r->pos) / 2)
        r->err = SM_ERR_TRUNCATED;
    for (uint32_t i = 0; i < count && r->err == SM_OK; i++) {
        uint32_t tag = sm_reader_uvarint(r);
        uint32_t size = sm_reader_uvarint(r);
        sm_reader_t field = sm_reader_sub(r, size);
        sm_err_t err;

        if (r->err != SM_OK || fn == NULL)
            continue;
        err = fn(ctx, tag, &field);
        if (err == SM_OK)
            err = field.err;
        sm_reader_fail(r, err);
    }
    if (r->err != SM_OK)
        r->pos = start;
}

void sm_reader_skip_tags(sm_reader_t *r)
{
    sm_reader_tags(r, NULL, NULL);
}

/* ---- writer: plumbing ------------------------------------------------------------------- */

void sm_writer_init(sm_writer_t *w, size_t hint)
{
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->limit = SM_WRITER_DEFAULT_LIMIT;
    w->hint = hint > 0 ? hint : 256;
    w->err = SM_OK;
}

void sm_writer_deinit(sm_writer_t *w)
{
    if (w == NULL)
        return;
    free(w->buf);
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
}

void sm_writer_reset(sm_writer_t *w)
{
    w->len = 0;
    w->err = SM_OK;
}

void sm_writer_set_limit(sm_writer_t *w, size_t limit)
{
    if (limit < w->len) {
        sm_writer_fail(w, SM_ERR_TOO_LARGE);
        return;
    }
    w->limit = limit;
}

sm_err_t sm_writer_err(const sm_writer_t *w)
{
    return w->err;
}

void sm_writer_fail(sm_writer_t *w, sm_err_t err)
{
    if (w->err == SM_OK)
        w->err = err;
}

size_t sm_writer_len(const sm_writer_t *w)
{
    return w->len;
}

const uint8_t *sm_writer_data(const sm_writer_t *w)
{
    return w->buf;
}

sm_err_t sm_writer_detach(sm_writer_t *w, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (w->err != SM_OK)
        return w->err;
    if (w->buf == NULL) {
        /* Callers get a pointer they can free even for zero bytes. */
        w->buf = malloc(1);
        if (w->buf == NULL)
            return SM_ERR_NOMEM;
        w->cap = 1;
    }
    *out = w->buf;
    *out_len = w->len;
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    return SM_OK;
}

/* Makes room for n more bytes (n > 0) and returns where they go; len grows by n. NULL with
 * the error recorded when the limit or memory runs out. */
static uint8_t *sm_writer_grow(sm_writer_t *w, size_t n)
{
    size_t need;
    uint8_t *p;

    if (w->err != SM_OK)
        return NULL;
    if (n > w->limit - w->len) {
        w->err = SM_ERR_TOO_LARGE;
        return NULL;
    }
    need = w->len + n;
    if (need > w->cap) {
        size_t cap = w->cap > 0 ? w->cap : w->hint;

        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > w->limit)
            cap = w->limit; /* still >= need, checked above */
        p = realloc(w->buf, cap);
        if (p == NULL) {
            w->err = SM_ERR_NOMEM;
            return NULL;
        }
        w->buf = p;
        w->cap = cap;
    }
    p = w->buf + w->len;
    w->len = need;
    return p;
}

size_t sm_writer_reserve(sm_writer_t *w, size_t n)
{
    size_t pos = w->len;
    uint8_t *p;

    if (n == 0)
        return pos;
    p = sm_writer_grow(w, n);
    if (p != NULL)
        memset(p, 0, n);
    return pos;
}

/* Returns where n already-written bytes at pos are, or NULL (SM_ERR_RANGE if out of range). */
static uint8_t *sm_writer_at(sm_writer_t *w, size_t pos, size_t n)
{
    if (w->err != SM_OK)
        return NULL;
    if (pos > w->len || n > w->len - pos) {
        w->err = SM_ERR_RANGE;
        return NULL;
    }
    return w->buf + pos;
}

static void sm_buf_put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

static void sm_writer_patch_be(sm_writer_t *w, size_t pos, uint64_t v, size_t n)
{
    uint8_t *p = sm_writer_at(w, pos, n);

    if (p != NULL)
        sm_buf_put_be(p, v, n);
}

void sm_writer_patch_i8(sm_writer_t *w, size_t pos, int8_t v)
{
    sm_writer_patch_be(w, pos, (uint8_t)v, 1);
}

void sm_writer_patch_i16(sm_writer_t *w, size_t pos, int16_t v)
{
    sm_writer_patch_be(w, pos, (uint16_t)v, 2);
}

void sm_writer_patch_i32(sm_writer_t *w, size_t pos, int32_t v)
{
    sm_writer_patch_be(w, pos, (uint32_t)v, 4);
}

void sm_writer_patch_u32(sm_writer_t *w, size_t pos, uint32_t v)
{
    sm_writer_patch_be(w, pos, v, 4);
}

void sm_writer_patch_i64(sm_writer_t *w, size_t pos, int64_t v)
{
    sm_writer_patch_be(w, pos, (uint64_t)v, 8);
}

/* ---- writer: primitives ----------------------------------------------------------------- */

void sm_writer_raw(sm_writer_t *w, const void *p, size_t n)
{
    uint8_t *dst;

    if (n == 0)
        return;
    if (p == NULL) {
        sm_writer_fail(w, SM_ERR_INVALID);
        return;
    }
    dst = sm_writer_grow(w, n);
    if (dst != NULL)
        memcpy(dst, p, n);
}

static void sm_writer_be(sm_writer_t *w, uint64_t v, size_t n)
{
    uint8_t *p = sm_writer_grow(w, n);

    if (p != NULL)
        sm_buf_put_be(p, v, n);
}

void sm_writer_i8(sm_writer_t *w, int8_t v)
{
    sm_writer_be(w, (uint8_t)v, 1);
}

void sm_writer_i16(sm_writer_t *w, int16_t v)
{
    sm_writer_be(w, (uint16_t)v, 2);
}

void sm_writer_i32(sm_writer_t *w, int32_t v)
{
    sm_writer_be(w, (uint32_t)v, 4);
}

void sm_writer_i64(sm_writer_t *w, int64_t v)
{
    sm_writer_be(w, (uint64_t)v, 8);
}

void sm_writer_u16(sm_writer_t *w, uint16_t v)
{
    sm_writer_be(w, v, 2);
}

void sm_writer_u32(sm_writer_t *w, uint32_t v)
{
    sm_writer_be(w, v, 4);
}

void sm_writer_bool(sm_writer_t *w, bool v)
{
    sm_writer_be(w, v ? 1 : 0, 1);
}

void sm_writer_f64(sm_writer_t *w, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    sm_writer_be(w, bits, 8);
}

void sm_writer_uuid(sm_writer_t *w, sm_uuid_t v)
{
    sm_writer_raw(w, v.b, sizeof(v.b));
}

void sm_writer_uvarlong(sm_writer_t *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sm_writer_raw(w, tmp, n);
}

void sm_writer_uvarint(sm_writer_t *w, uint32_t v)
{
    sm_writer_uvarlong(w, v);
}

static uint32_t sm_buf_zigzag32(int32_t v)
{
    uint32_t u = (uint32_t)v;
    return (u << 1) ^ (0u - (u >> 31));
}

static uint64_t sm_buf_zigzag64(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (u << 1) ^ (0u - (u >> 63));
}

void sm_writer_varint(sm_writer_t *w, int32_t v)
{
    sm_writer_uvarint(w, sm_buf_zigzag32(v));
}

void sm_writer_varlong(sm_writer_t *w, int64_t v)
{
    sm_writer_uvarlong(w, sm_buf_zigzag64(v));
}

size_t sm_uvarlong_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t sm_uvarint_size(uint32_t v)
{
    return sm_uvarlong_size(v);
}

size_t sm_varint_size(int32_t v)
{
    return sm_uvarlong_size(sm_buf_zigzag32(v));
}

size_t sm_varlong_size(int64_t v)
{
    return sm_uvarlong_size(sm_buf_zigzag64(v));
}

/* ---- writer: strings, bytes, arrays, tags ----------------------------------------------- */

/* Checks a string or bytes value before anything is written. Returns true to go on and
 * write it (len >= 0), false when it was null (nothing written yet) or refused. */
static bool sm_writer_blob_ok(sm_writer_t *w, const void *ptr, int32_t len, bool nullable,
                              int32_t max, bool *is_null)
{
    *is_null = false;
    if (w->err != SM_OK)
        return false;
    if (len == -1 && nullable) {
        *is_null = true;
        return false;
    }
    if (len < 0 || (len > 0 && ptr == NULL)) {
        w->err = SM_ERR_INVALID;
        return false;
    }
    if (len > max) {
        w->err = SM_ERR_TOO_LARGE;
        return false;
    }
    return true;
}

/* Writes a value with an int16 (classic string), int32 (classic bytes) or uvarint N+1
 * (compact, width 0) length. */
static void sm_writer_blob(sm_writer_t *w, const void *ptr, int32_t len, bool nullable, int32_t max,
                           int width)
{
    bool is_null;

    if (!sm_writer_blob_ok(w, ptr, len, nullable, max, &is_null)) {
        if (!is_null)
            return;
        if (width == 2)
            sm_writer_i16(w, -1);
        else if (width == 4)
            sm_writer_i32(w, -1);
        else
            sm_writer_uvarint(w, 0);
        return;
    }
    if (width == 2)
        sm_writer_i16(w, (int16_t)len);
    else if (width == 4)
        sm_writer_i32(w, len);
    else
        sm_writer_uvarint(w, (uint32_t)len + 1u);
    sm_writer_raw(w, ptr, (size_t)len);
}

void sm_writer_str(sm_writer_t *w, sm_str_t s)
{
    sm_writer_blob(w, s.ptr, s.len, false, INT16_MAX, 2);
}

void sm_writer_nullable_str(sm_writer_t *w, sm_str_t s)
{
    sm_writer_blob(w, s.ptr, s.len, true, INT16_MAX, 2);
}

void sm_writer_compact_str(sm_writer_t *w, sm_str_t s)
{
    sm_writer_blob(w, s.ptr, s.len, false, INT16_MAX, 0);
}

void sm_writer_compact_nullable_str(sm_writer_t *w, sm_str_t s)
{
    sm_writer_blob(w, s.ptr, s.len, true, INT16_MAX, 0);
}

void sm_writer_bytes(sm_writer_t *w, sm_bytes_t b)
{
    sm_writer_blob(w, b.ptr, b.len, false, INT32_MAX, 4);
}

void sm_writer_nullable_bytes(sm_writer_t *w, sm_bytes_t b)
{
    sm_writer_blob(w, b.ptr, b.len, true, INT32_MAX, 4);
}

void sm_writer_compact_bytes(sm_writer_t *w, sm_bytes_t b)
{
    sm_writer_blob(w, b.ptr, b.len, false, INT32_MAX, 0);
}

void sm_writer_compact_nullable_bytes(sm_writer_t *w, sm_bytes_t b)
{
    sm_writer_blob(w, b.ptr, b.len, true, INT32_MAX, 0);
}

static bool sm_writer_count_ok(sm_writer_t *w, int32_t n, bool nullable)
{
    if (n < -1 || (n == -1 && !nullable)) {
        sm_writer_fail(w, SM_ERR_INVALID);
        return false;
    }
    return true;
}

void sm_writer_array_len(sm_writer_t *w, int32_t n)
{
    if (sm_writer_count_ok(w, n, false))
        sm_writer_i32(w, n);
}

void sm_writer_nullable_array_len(sm_writer_t *w, int32_t n)
{
    if (sm_writer_count_ok(w, n, true))
        sm_writer_i32(w, n);
}

void sm_writer_compact_array_len(sm_writer_t *w, int32_t n)
{
    if (sm_writer_count_ok(w, n, false))
        sm_writer_uvarint(w, (uint32_t)n + 1u);
}

void sm_writer_compact_nullable_array_len(sm_writer_t *w, int32_t n)
{
    if (sm_writer_count_ok(w, n, true))
        sm_writer_uvarint(w, (uint32_t)((int64_t)n + 1));
}

void sm_writer_empty_tags(sm_writer_t *w)
{
    sm_writer_uvarint(w, 0);
}

void sm_writer_tag(sm_writer_t *w, uint32_t tag, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        sm_writer_fail(w, SM_ERR_TOO_LARGE);
        return;
    }
    if (n > 0 && p == NULL) {
        sm_writer_fail(w, SM_ERR_INVALID);
        return;
    }
    sm_writer_uvarint(w, tag);
    sm_writer_uvarint(w, (uint32_t)n);
    sm_writer_raw(w, p, n);
}
