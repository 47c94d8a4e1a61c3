/*
 * fuzz_reader: libFuzzer target for the wire reader (common/sm_buf.c).
 *
 * The input is split in two: the first byte says how many of the following bytes are a
 * "program" (one reader call per byte), and everything after the program is the buffer the
 * reader runs over, copied to an exact-size heap block so ASan sees any read past its end.
 * After each call the target checks the reader's contract and aborts if it is broken:
 * pos never passes len, a failed reader never moves, every view lies inside the buffer,
 * a returned array count fits the bytes remaining, and a value read successfully encodes
 * back (through the writer) to the bytes it was read from, or to bytes that read back to
 * the same value where Kafka allows more than one encoding (varints, bool).
 *
 * Not built by the Makefile. Build and run by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *       -D_GNU_SOURCE -I. -Icommon tests/fuzz/fuzz_reader.c common/sm_buf.c common/sm_uuid.c \
 *       -o build/fuzz_reader
 *   mkdir -p build/fuzz-corpus && build/fuzz_reader -max_total_time=60 build/fuzz-corpus
 */
#include "sm_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_reader: %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_state {
    const uint8_t *buf;
    size_t len;
    sm_writer_t w;
};

static void fuzz_view_inside(const struct fuzz_state *st, const void *p, int32_t len)
{
    const uint8_t *q = p;

    if (len == -1) {
        FUZZ_CHECK(p == NULL);
        return;
    }
    FUZZ_CHECK(len >= 0 && p != NULL);
    if (len == 0)
        return;
    FUZZ_CHECK(q >= st->buf && (size_t)len <= st->len &&
               q - st->buf <= (ptrdiff_t)(st->len - (size_t)len));
}

/* The bytes the last call consumed must equal what the writer produced. */
static void fuzz_same_bytes(struct fuzz_state *st, size_t from, size_t to)
{
    FUZZ_CHECK(sm_writer_err(&st->w) == SM_OK);
    FUZZ_CHECK(sm_writer_len(&st->w) == to - from);
    FUZZ_CHECK(to == from || memcmp(sm_writer_data(&st->w), st->buf + from, to - from) == 0);
}

static sm_err_t fuzz_tag_cb(void *ctx, uint32_t tag, sm_reader_t *field)
{
    (void)ctx;
    /* Read a little of some fields, to exercise errors inside a field. */
    if (tag % 3 == 0)
        (void)sm_reader_i32(field);
    return tag == 0x7fffffff ? SM_ERR_INVALID : SM_OK;
}

/* Runs one reader call chosen by op and checks what it returned. */
static void fuzz_one(struct fuzz_state *st, sm_reader_t *r, uint8_t op)
{
    size_t before = sm_reader_pos(r);
    sm_reader_t back;
    bool ok;

    sm_writer_reset(&st->w);
    switch (op % 26) {
    case 0: {
        int8_t v = sm_reader_i8(r);
        sm_writer_i8(&st->w, v);
        break;
    }
    case 1: {
        int16_t v = sm_reader_i16(r);
        sm_writer_i16(&st->w, v);
        break;
    }
    case 2: {
        int32_t v = sm_reader_i32(r);
        sm_writer_i32(&st->w, v);
        break;
    }
    case 3: {
        int64_t v = sm_reader_i64(r);
        sm_writer_i64(&st->w, v);
        break;
    }
    case 4: {
        uint16_t v = sm_reader_u16(r);
        sm_writer_u16(&st->w, v);
        break;
    }
    case 5: {
        uint32_t v = sm_reader_u32(r);
        sm_writer_u32(&st->w, v);
        break;
    }
    case 6: {
        double v = sm_reader_f64(r);
        sm_writer_f64(&st->w, v);
        break;
    }
    case 7: {
        sm_uuid_t v = sm_reader_uuid(r);
        sm_writer_uuid(&st->w, v);
        break;
    }
    case 8: {
        bool v = sm_reader_bool(r);
        sm_writer_bool(&st->w, v);
        sm_reader_init(&back, sm_writer_data(&st->w), sm_writer_len(&st->w));
        FUZZ_CHECK(sm_reader_bool(&back) == v);
        return;
    }
    case 9: {
        uint32_t v = sm_reader_uvarint(r);
        sm_writer_uvarint(&st->w, v);
        sm_reader_init(&back, sm_writer_data(&st->w), sm_writer_len(&st->w));
        FUZZ_CHECK(sm_reader_uvarint(&back) == v && sm_reader_expect_end(&back) == SM_OK);
        FUZZ_CHECK(sm_reader_pos(r) - before <= 5);
        return;
    }
    case 10: {
        uint64_t v = sm_reader_uvarlong(r);
        sm_writer_uvarlong(&st->w, v);
        sm_reader_init(&back, sm_writer_data(&st->w), sm_writer_len(&st->w));
        FUZZ_CHECK(sm_reader_uvarlong(&back) == v && sm_reader_expect_end(&back) == SM_OK);
        FUZZ_CHECK(sm_reader_pos(r) - before <= 10);
        return;
    }
    case 11: {
        int32_t v = sm_reader_varint(r);
        sm_writer_varint(&st->w, v);
        sm_reader_init(&back, sm_writer_data(&st->w), sm_writer_len(&st->w));
        FUZZ_CHECK(sm_reader_varint(&back) == v);
        return;
    }
    case 12: {
        int64_t v = sm_reader_varlong(r);
        sm_writer_varlong(&st->w, v);
        sm_reader_init(&back, sm_writer_data(&st->w), sm_writer_len(&st->w));
        FUZZ_CHECK(sm_reader_varlong(&back) == v);
        return;
    }
    case 13: {
        sm_str_t s = sm_reader_str(r);
        fuzz_view_inside(st, s.ptr, s.len);
        FUZZ_CHECK(s.len >= 0);
        sm_writer_str(&st->w, s);
        break;
    }
    case 14: {
        sm_str_t s = sm_reader_nullable_str(r);
        fuzz_view_inside(st, s.ptr, s.len);
        sm_writer_nullable_str(&st->w, s);
        break;
    }
    case 15: {
        sm_str_t s = sm_reader_compact_str(r);
        fuzz_view_inside(st, s.ptr, s.len);
        FUZZ_CHECK(s.len >= 0 && s.len <= INT16_MAX);
        sm_writer_compact_str(&st->w, s);
        if (sm_reader_err(r) == SM_OK && sm_reader_pos(r) - before != sm_writer_len(&st->w))
            return; /* a non-minimal length prefix: same value, other bytes */
        break;
    }
    case 16: {
        sm_str_t s = sm_reader_compact_nullable_str(r);
        fuzz_view_inside(st, s.ptr, s.len);
        sm_writer_compact_nullable_str(&st->w, s);
        if (sm_reader_err(r) == SM_OK && sm_reader_pos(r) - before != sm_writer_len(&st->w))
            return;
        break;
    }
    case 17: {
        sm_bytes_t b = sm_reader_bytes(r);
        fuzz_view_inside(st, b.ptr, b.len);
        sm_writer_bytes(&st->w, b);
        break;
    }
    case 18: {
        sm_bytes_t b = sm_reader_nullable_bytes(r);
        fuzz_view_inside(st, b.ptr, b.len);
        sm_writer_nullable_bytes(&st->w, b);
        break;
    }
    case 19: {
        sm_bytes_t b = sm_reader_compact_nullable_bytes(r);
        fuzz_view_inside(st, b.ptr, b.len);
        sm_writer_compact_nullable_bytes(&st->w, b);
        if (sm_reader_err(r) == SM_OK && sm_reader_pos(r) - before != sm_writer_len(&st->w))
            return;
        break;
    }
    case 20:
    case 21: {
        size_t min = (size_t)(op / 26) % 9;
        int32_t n = op % 26 == 20 ? sm_reader_nullable_array_len(r, min)
                                  : sm_reader_compact_nullable_array_len(r, min);
        FUZZ_CHECK(n >= -1);
        if (n > 0)
            FUZZ_CHECK((size_t)n <= sm_reader_remaining(r) / (min > 0 ? min : 1));
        return;
    }
    case 22:
        sm_reader_tags(r, fuzz_tag_cb, NULL);
        return;
    case 23:
        sm_reader_skip(r, op / 26);
        return;
    case 24: {
        sm_reader_t sub = sm_reader_sub(r, op / 26);
        FUZZ_CHECK(sm_reader_remaining(&sub) <= op / 26);
        (void)sm_reader_i16(&sub);
        return;
    }
    default: {
        const uint8_t *p = sm_reader_take(r, op / 26);
        if (p != NULL)
            fuzz_view_inside(st, p, op / 26);
        return;
    }
    }
    ok = sm_reader_err(r) == SM_OK;
    if (ok)
        fuzz_same_bytes(st, before, sm_reader_pos(r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state st;
    size_t prog_len;
    uint8_t *copy;
    sm_reader_t r;

    if (size == 0)
        return 0;
    prog_len = data[0];
    if (prog_len > size - 1)
        prog_len = size - 1;
    st.len = size - 1 - prog_len;
    copy = malloc(st.len > 0 ? st.len : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1 + prog_len, st.len);
    st.buf = copy;
    sm_writer_init(&st.w, 0);
    sm_reader_init(&r, copy, st.len);

    for (size_t i = 0; i < prog_len; i++) {
        size_t before = sm_reader_pos(&r);
        sm_err_t err_before = sm_reader_err(&r);

        fuzz_one(&st, &r, data[1 + i]);
        FUZZ_CHECK(sm_reader_pos(&r) <= st.len);
        if (err_before != SM_OK) {
            /* sticky: the error stays and nothing moves */
            FUZZ_CHECK(sm_reader_err(&r) == err_before);
            FUZZ_CHECK(sm_reader_pos(&r) == before);
        } else if (sm_reader_err(&r) != SM_OK) {
            /* a failing read leaves pos where it started */
            FUZZ_CHECK(sm_reader_pos(&r) == before);
            FUZZ_CHECK(sm_reader_remaining(&r) == 0);
        }
    }

    sm_writer_deinit(&st.w);
    free(copy);
    return 0;
}
