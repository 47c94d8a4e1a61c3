/*
 * adm_json: the JSON writer and the generic protobuf-c printer of samsa-admin (see adm_json.h).
 * The writer appends to one growing buffer; separators are decided by two bits of state, the
 * "first value at this depth" flag per nesting level and "a key was just written". The protobuf
 * printer reads field values straight out of the message struct with the offsets the
 * descriptor gives, the way protobuf-c's own packer does.
 */
#include "controller/admin/adm_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sm_uuid.h"

void adm_json_init(adm_json_t *j)
{
    memset(j, 0, sizeof(*j));
    j->first[0] = true;
}

void adm_json_deinit(adm_json_t *j)
{
    if (j == NULL)
        return;
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

sm_err_t adm_json_error(const adm_json_t *j)
{
    if (j->err == SM_OK && j->depth != 0)
        return SM_ERR_INVALID;
    return j->err;
}

const char *adm_json_text(const adm_json_t *j)
{
    return j->buf != NULL ? j->buf : "";
}

sm_err_t adm_json_write(const adm_json_t *j, FILE *f)
{
    sm_err_t err = adm_json_error(j);

    if (err != SM_OK)
        return err;
    if (fwrite(adm_json_text(j), 1, j->len, f) != j->len || fputc('\n', f) == EOF)
        return SM_ERR_IO;
    return SM_OK;
}

/* ---- raw output ---------------------------------------------------------------------------- */

static void adm_json_put(adm_json_t *j, const char *s, size_t n)
{
    char *nb;
    size_t cap;

    if (j->err != SM_OK)
        return;
    if (n >= j->cap - j->len || j->buf == NULL) {
        cap = j->cap ? j->cap : 256;
        while (n >= cap - j->len) {
            if (cap > SIZE_MAX / 2) {
                j->err = SM_ERR_NOMEM;
                return;
            }
            cap *= 2;
        }
        nb = realloc(j->buf, cap);
        if (nb == NULL) {
            j->err = SM_ERR_NOMEM;
            return;
        }
        j->buf = nb;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void adm_json_puts(adm_json_t *j, const char *s)
{
    adm_json_put(j, s, strlen(s));
}

static void adm_json_printf(adm_json_t *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void adm_json_printf(adm_json_t *j, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        if (j->err == SM_OK)
            j->err = SM_ERR_INVALID;
        return;
    }
    adm_json_put(j, tmp, (size_t)n);
}

/* Writes the separator a new value needs at the current depth. */
static void adm_json_sep(adm_json_t *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        adm_json_puts(j, ", ");
    j->first[j->depth] = false;
}

/* ---- structure ----------------------------------------------------------------------------- */

static void adm_json_open(adm_json_t *j, const char *brace)
{
    if (j->err != SM_OK)
        return;
    if (j->depth >= ADM_JSON_MAX_DEPTH) {
        j->err = SM_ERR_INVALID;
        return;
    }
    adm_json_sep(j);
    adm_json_puts(j, brace);
    j->depth++;
    j->first[j->depth] = true;
}

static void adm_json_close(adm_json_t *j, const char *brace)
{
    if (j->err != SM_OK)
        return;
    if (j->depth == 0 || j->after_key) {
        j->err = SM_ERR_INVALID;
        return;
    }
    j->depth--;
    adm_json_puts(j, brace);
}

void adm_json_object_begin(adm_json_t *j)
{
    adm_json_open(j, "{");
}

void adm_json_object_end(adm_json_t *j)
{
    adm_json_close(j, "}");
}

void adm_json_array_begin(adm_json_t *j)
{
    adm_json_open(j, "[");
}

void adm_json_array_end(adm_json_t *j)
{
    adm_json_close(j, "]");
}

/* ---- strings ------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when it is not valid (overlong
 * forms, surrogates and code points above U+10FFFF are invalid). */
static size_t adm_json_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool adm_json_is_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t len = adm_json_utf8_len(u + i, n - i);

        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static void adm_json_escaped(adm_json_t *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;

    adm_json_puts(j, "\"");
    while (i < n) {
        unsigned char c = s[i];
        const char *esc = NULL;
        size_t u;

        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            break;
        }
        u = esc == NULL && c >= 0x20 ? adm_json_utf8_len(s + i, n - i) : 0;
        if (u > 0) {
            run += u;
            i += u;
            continue;
        }
        adm_json_put(j, (const char *)s + i - run, run);
        run = 0;
        if (esc != NULL)
            adm_json_puts(j, esc);
        else if (c < 0x20)
            adm_json_printf(j, "\\u%04x", (unsigned)c);
        else
            adm_json_puts(j, "\\ufffd");
        i++;
    }
    adm_json_put(j, (const char *)s + i - run, run);
    adm_json_puts(j, "\"");
}

void adm_json_key(adm_json_t *j, const char *key)
{
    if (j->err != SM_OK)
        return;
    if (j->depth == 0 || j->after_key) {
        j->err = SM_ERR_INVALID;
        return;
    }
    adm_json_sep(j);
    adm_json_escaped(j, key, strlen(key));
    adm_json_puts(j, ": ");
    j->after_key = true;
}

void adm_json_string_n(adm_json_t *j, const char *s, size_t n)
{
    if (j->err != SM_OK)
        return;
    adm_json_sep(j);
    adm_json_escaped(j, s, n);
}

void adm_json_string(adm_json_t *j, const char *s)
{
    if (s == NULL)
        adm_json_null(j);
    else
        adm_json_string_n(j, s, strlen(s));
}

/* ---- scalars ------------------------------------------------------------------------------- */

void adm_json_int(adm_json_t *j, int64_t v)
{
    if (j->err != SM_OK)
        return;
    adm_json_sep(j);
    adm_json_printf(j, "%" PRId64, v);
}

void adm_json_uint(adm_json_t *j, uint64_t v)
{
    if (j->err != SM_OK)
        return;
    adm_json_sep(j);
    adm_json_printf(j, "%" PRIu64, v);
}

void adm_json_double(adm_json_t *j, double v)
{
    if (j->err != SM_OK)
        return;
    if (!isfinite(v)) {
        adm_json_null(j);
        return;
    }
    adm_json_sep(j);
    adm_json_printf(j, "%.17g", v);
}

void adm_json_bool(adm_json_t *j, bool v)
{
    if (j->err != SM_OK)
        return;
    adm_json_sep(j);
    adm_json_puts(j, v ? "true" : "false");
}

void adm_json_null(adm_json_t *j)
{
    if (j->err != SM_OK)
        return;
    adm_json_sep(j);
    adm_json_puts(j, "null");
}

void adm_json_int32_array(adm_json_t *j, const int32_t *v, size_t n)
{
    adm_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        adm_json_int(j, v[i]);
    adm_json_array_end(j);
}

void adm_json_base64(adm_json_t *j, const uint8_t *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out;
    size_t o = 0;

    if (j->err != SM_OK)
        return;
    if (n > (SIZE_MAX - 4) / 4 * 3) {
        j->err = SM_ERR_NOMEM;
        return;
    }
    out = malloc((n + 2) / 3 * 4 + 1);
    if (out == NULL) {
        j->err = SM_ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;

        if (i + 1 < n)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    adm_json_string_n(j, out, o);
    free(out);
}

/* ---- protobuf-c messages ------------------------------------------------------------------- */

static bool adm_json_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static size_t adm_json_pb_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

/* Writes a numeric or boolean value of field f stored at p; false when f is another type. */
static bool adm_json_pb_number(adm_json_t *j, const ProtobufCFieldDescriptor *f, const void *p)
{
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float fl;
    double d;
    protobuf_c_boolean b;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        memcpy(&i32, p, sizeof(i32));
        adm_json_int(j, i32);
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        memcpy(&u32, p, sizeof(u32));
        adm_json_uint(j, u32);
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        memcpy(&i64, p, sizeof(i64));
        adm_json_int(j, i64);
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        memcpy(&u64, p, sizeof(u64));
        adm_json_uint(j, u64);
        return true;
    case PROTOBUF_C_TYPE_FLOAT:
        memcpy(&fl, p, sizeof(fl));
        adm_json_double(j, fl);
        return true;
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(&d, p, sizeof(d));
        adm_json_double(j, d);
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        memcpy(&b, p, sizeof(b));
        adm_json_bool(j, b != 0);
        return true;
    default:
        return false;
    }
}

/* Writes one value of field f stored at p. */
static void adm_json_pb_value(adm_json_t *j, const ProtobufCFieldDescriptor *f, const void *p)
{
    const ProtobufCEnumValue *ev;
    const ProtobufCBinaryData *bd;
    const void *ptr;
    int32_t i32;

    if (adm_json_pb_number(j, f, p))
        return;
    switch (f->type) {
    case PROTOBUF_C_TYPE_ENUM:
        memcpy(&i32, p, sizeof(i32));
        ev = protobuf_c_enum_descriptor_get_value(f->descriptor, i32);
        if (ev != NULL)
            adm_json_string(j, ev->name);
        else
            adm_json_int(j, i32);
        break;
    case PROTOBUF_C_TYPE_STRING:
        memcpy(&ptr, p, sizeof(ptr));
        adm_json_string(j, ptr);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        bd = p;
        if (bd->len == 16 && adm_json_ends_with(f->name, "_id")) {
            sm_uuid_t u;
            char text[SM_UUID_STR_SIZE];

            memcpy(u.b, bd->data, 16);
            sm_uuid_format(&u, text);
            adm_json_string(j, text);
        } else {
            adm_json_base64(j, bd->data, bd->len);
        }
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        memcpy(&ptr, p, sizeof(ptr));
        adm_json_message(j, ptr);
        break;
    default:
        adm_json_null(j);
        break;
    }
}

/* Whether optional field f is present in m; *use_default is set when it is absent but has a
 * declared default that proto2 readers see. */
static bool adm_json_pb_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                bool *use_default)
{
    const char *base = (const char *)m;
    const void *ptr;
    protobuf_c_boolean has;
    uint32_t which;

    *use_default = false;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        memcpy(&which, base + f->quantifier_offset, sizeof(which));
        return which == f->id;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        memcpy(&ptr, base + f->offset, sizeof(ptr));
        /* protobuf-c points an absent string with a default at the default itself. */
        if (ptr != NULL && f->default_value != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
            ptr == f->default_value)
            *use_default = true;
        return ptr != NULL && !*use_default;
    }
    if (f->label == PROTOBUF_C_LABEL_NONE || f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    memcpy(&has, base + f->quantifier_offset, sizeof(has));
    if (!has && f->default_value != NULL)
        *use_default = true;
    return has != 0;
}

void adm_json_message(adm_json_t *j, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d;

    if (msg == NULL) {
        adm_json_null(j);
        return;
    }
    d = msg->descriptor;
    adm_json_object_begin(j);
    for (unsigned i = 0; i < d->n_fields && j->err == SM_OK; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        bool use_default;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n, sz = adm_json_pb_size(f->type);
            const char *arr;

            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            memcpy(&arr, base + f->offset, sizeof(arr));
            adm_json_key(j, f->name);
            adm_json_array_begin(j);
            for (size_t k = 0; k < n && arr != NULL; k++)
                adm_json_pb_value(j, f, arr + k * sz);
            adm_json_array_end(j);
            continue;
        }
        if (adm_json_pb_present(msg, f, &use_default)) {
            adm_json_key(j, f->name);
            adm_json_pb_value(j, f, base + f->offset);
        } else if (use_default) {
            adm_json_key(j, f->name);
            if (f->type == PROTOBUF_C_TYPE_STRING)
                adm_json_string(j, f->default_value);
            else
                adm_json_pb_value(j, f, f->default_value);
        }
    }
    adm_json_object_end(j);
}
