/*
 * br_batch: record batch header parsing, validation without decompression, and the in-place
 * header rewrites of an append. See br_batch.h for the layout and the contract.
 */
#include "broker/br_batch.h"

#include <stdlib.h>
#include <string.h>

#include "sm_buf.h"
#include "sm_crc32c.h"

/* Smallest encoded record: length, attributes, timestampDelta, offsetDelta, keyLength,
 * valueLength and headersCount at one byte each. */
#define BR_BATCH_MIN_RECORD 7

size_t br_batch_size(const br_batch_header_t *h)
{
    return (size_t)h->length + BR_BATCH_LOG_OVERHEAD;
}

int64_t br_batch_last_offset(const br_batch_header_t *h)
{
    return h->base_offset + h->last_offset_delta;
}

void br_batch_set_init(br_batch_set_t *set)
{
    memset(set, 0, sizeof(*set));
}

void br_batch_set_deinit(br_batch_set_t *set)
{
    if (set == NULL)
        return;
    free(set->batches);
    memset(set, 0, sizeof(*set));
}

static sm_err_t br_batch_set_push(br_batch_set_t *set, const br_batch_extent_t *e)
{
    if (set->count == set->cap) {
        size_t ncap = set->cap == 0 ? 4 : set->cap * 2;
        br_batch_extent_t *nb = realloc(set->batches, ncap * sizeof(*nb));

        if (nb == NULL)
            return SM_ERR_NOMEM;
        set->batches = nb;
        set->cap = ncap;
    }
    set->batches[set->count++] = *e;
    set->bytes += e->size;
    set->records += (int64_t)e->hdr.last_offset_delta + 1;
    return SM_OK;
}

int br_batch_peek_magic(const uint8_t *buf, size_t len)
{
    if (len <= BR_BATCH_OFF_MAGIC)
        return -1;
    return (int)(int8_t)buf[BR_BATCH_OFF_MAGIC];
}

sm_err_t br_batch_header_parse(const uint8_t *buf, size_t len, br_batch_header_t *h)
{
    sm_reader_t r;

    if (len < BR_BATCH_HEADER_SIZE)
        return SM_ERR_TRUNCATED;
    sm_reader_init(&r, buf, BR_BATCH_HEADER_SIZE);
    h->base_offset = sm_reader_i64(&r);
    h->length = sm_reader_i32(&r);
    h->leader_epoch = sm_reader_i32(&r);
    h->magic = sm_reader_i8(&r);
    h->crc = sm_reader_u32(&r);
    h->attributes = sm_reader_i16(&r);
    h->last_offset_delta = sm_reader_i32(&r);
    h->base_timestamp = sm_reader_i64(&r);
    h->max_timestamp = sm_reader_i64(&r);
    h->producer_id = sm_reader_i64(&r);
    h->producer_epoch = sm_reader_i16(&r);
    h->base_sequence = sm_reader_i32(&r);
    h->records_count = sm_reader_i32(&r);
    return sm_reader_err(&r);
}

static sm_err_t br_batch_refuse(br_batch_verdict_t *v, sm_err_t err, int16_t kafka_error,
                                const char *reason)
{
    if (v != NULL) {
        v->kafka_error = kafka_error;
        v->reason = reason;
    }
    return err;
}

static void br_batch_verdict_clear(br_batch_verdict_t *v)
{
    if (v != NULL) {
        v->kafka_error = BR_BATCH_KERR_NONE;
        v->batch_index = 0;
        v->byte_pos = 0;
        v->reason = "";
    }
}

static sm_err_t br_batch_check_timestamps(const br_batch_header_t *h, br_batch_verdict_t *v)
{
    bool create_time = (h->attributes & BR_BATCH_ATTR_LOG_APPEND_TIME) == 0;

    if (h->base_timestamp < BR_BATCH_NO_TIMESTAMP || h->max_timestamp < BR_BATCH_NO_TIMESTAMP)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_TIMESTAMP,
                               "negative timestamp");
    /* The first record's timestamp is the base and maxTimestamp covers it, so a producer's
     * batch always has max >= base. LogAppendTime batches carry the broker's clock instead. */
    if (create_time && h->base_timestamp != BR_BATCH_NO_TIMESTAMP &&
        h->max_timestamp < h->base_timestamp)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_TIMESTAMP,
                               "maxTimestamp below baseTimestamp");
    return SM_OK;
}

sm_err_t br_batch_check_header(const br_batch_header_t *h, br_batch_verdict_t *v)
{
    int codec = h->attributes & BR_BATCH_ATTR_COMPRESSION_MASK;

    if (h->magic == 0 || h->magic == 1)
        return br_batch_refuse(v, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
                               "message format v0/v1 is not supported");
    if (h->magic != BR_BATCH_MAGIC)
        return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                               "unknown magic byte");
    if (h->length < BR_BATCH_MIN_LENGTH)
        return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                               "batch length below the header size");
    if (h->records_count < 1)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                               "batch has no records");
    if (h->last_offset_delta < 0 || (int64_t)h->last_offset_delta + 1 != h->records_count)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                               "records count does not match lastOffsetDelta");
    if (codec > BR_BATCH_COMPRESSION_MAX)
        return br_batch_refuse(v, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_COMPRESSION_TYPE,
                               "unknown compression codec");
    if (h->base_offset < 0)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                               "negative base offset");
    return br_batch_check_timestamps(h, v);
}

/* One LEB128 value at *pp, which must end by `end`: at most max_bytes bytes (5 for a varint,
 * 10 for a varlong), the last of which may carry neither the continuation bit nor bits at or
 * above `bits` -- sm_reader_leb128's rules, so the verdicts are the reader's. Returns false on
 * a value that runs past end or is too long; on success stores it and moves *pp past it. */
static inline bool br_batch_leb128(const uint8_t **pp, const uint8_t *end, unsigned max_bytes,
                                   unsigned bits, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;

    /* One or two bytes: nearly every record length, timestamp delta and offset delta. Both
     * are below max_bytes, so the last-byte rule cannot apply. */
    if (end - p >= 2) {
        if (p[0] < 0x80) {
            *out = p[0];
            *pp = p + 1;
            return true;
        }
        if (p[1] < 0x80) {
            *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
            *pp = p + 2;
            return true;
        }
    }
    for (unsigned i = 0; i < max_bytes; i++) {
        unsigned shift = 7 * i;
        uint8_t b;

        if (p == end)
            return false;
        b = *p++;
        if (i == max_bytes - 1 && ((b & 0x80) != 0 || (b >> (bits - shift)) != 0))
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            *pp = p;
            return true;
        }
    }
    return false;
}

/* Walks the records of an uncompressed batch: each record's length must fit, its offset delta
 * must be its index, and the records must fill the batch exactly.
 *
 * This is the one decoder that reads wire bytes without sm_reader (STYLE.md rule 6): it runs
 * for every record of every produced batch (150 a 16 KiB batch of 100-byte records), and the
 * reader's out-of-line calls made it cost as much as the CRC. It decodes the same fields with
 * the same limits as the reader would (br_batch_leb128), every read bounded by the record or
 * the batch end, and gives the same verdicts; test_batch checks it against a reader-based
 * reference on mutated batches. */
static sm_err_t br_batch_walk_records(const uint8_t *buf, size_t len, const br_batch_header_t *h,
                                      br_batch_verdict_t *v)
{
    const uint8_t *p = buf + BR_BATCH_HEADER_SIZE;
    const uint8_t *end = buf + len;
    size_t body = len - BR_BATCH_HEADER_SIZE;

    if ((size_t)h->records_count > body / BR_BATCH_MIN_RECORD)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                               "records count larger than the records region allows");
    for (int32_t i = 0; i < h->records_count; i++) {
        const uint8_t *rec;
        const uint8_t *rec_end;
        uint64_t z;

        /* The length, zig-zag encoded: an odd z is a negative length, an even one z / 2. The
         * next record's position hangs on this decode, so it is kept short. */
        if (!br_batch_leb128(&p, end, 5, 32, &z) || (z & 1) != 0 ||
            (z >> 1) < BR_BATCH_MIN_RECORD - 1 || (z >> 1) > (uint64_t)(end - p))
            return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                                   "record length runs past the batch");
        rec_end = p + (z >> 1);
        rec = p + 1; /* attributes: the length is >= 6, so present */
        /* timestampDelta (varlong), then offsetDelta (varint, zig-zag: i is 2 * i) */
        if (!br_batch_leb128(&rec, rec_end, 10, 64, &z) ||
            !br_batch_leb128(&rec, rec_end, 5, 32, &z) || z != 2 * (uint64_t)i)
            return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                                   "record offset deltas are not 0..count-1");
        p = rec_end;
    }
    if (p != end)
        return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD,
                               "bytes left after the last record");
    return SM_OK;
}

static sm_err_t br_batch_check_limits(const br_batch_header_t *h, size_t len,
                                      const br_batch_limits_t *lim, br_batch_verdict_t *v)
{
    bool create_time = (h->attributes & BR_BATCH_ATTR_LOG_APPEND_TIME) == 0;
    int64_t d = lim->timestamp_diff_max_ms;

    if (lim->max_batch_bytes != 0 && len > lim->max_batch_bytes)
        return br_batch_refuse(v, SM_ERR_TOO_LARGE, BR_BATCH_KERR_MESSAGE_TOO_LARGE,
                               "batch larger than max.message.bytes");
    if (d > 0 && create_time) {
        int64_t ts[2] = {h->base_timestamp, h->max_timestamp};

        for (int i = 0; i < 2; i++) {
            /* Written as two comparisons so that no subtraction can overflow. */
            if (ts[i] != BR_BATCH_NO_TIMESTAMP &&
                ((lim->now_ms > ts[i] && lim->now_ms - ts[i] > d) ||
                 (ts[i] > lim->now_ms && ts[i] - lim->now_ms > d)))
                return br_batch_refuse(v, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_TIMESTAMP,
                                       "timestamp out of the allowed range");
        }
    }
    return SM_OK;
}

sm_err_t br_batch_validate(const uint8_t *buf, size_t len, const br_batch_limits_t *lim,
                           br_batch_header_t *h, br_batch_verdict_t *v)
{
    static const br_batch_limits_t no_limits;
    br_batch_header_t hdr;
    sm_err_t err;
    int magic = br_batch_peek_magic(buf, len);

    br_batch_verdict_clear(v);
    if (lim == NULL)
        lim = &no_limits;
    if (magic == 0 || magic == 1)
        return br_batch_refuse(v, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
                               "message format v0/v1 is not supported");
    if (br_batch_header_parse(buf, len, &hdr) != SM_OK)
        return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                               "batch shorter than its header");
    /* As Kafka: the frame and the CRC first (damage is CORRUPT_MESSAGE), then the meaning. */
    if (hdr.magic == BR_BATCH_MAGIC && hdr.length >= BR_BATCH_MIN_LENGTH) {
        if (br_batch_size(&hdr) != len)
            return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                                   "batch length does not match the bytes");
        if (br_batch_compute_crc(buf, len) != hdr.crc)
            return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                                   "CRC mismatch");
    }
    err = br_batch_check_header(&hdr, v);
    if (err == SM_OK)
        err = br_batch_check_limits(&hdr, len, lim, v);
    if (err != SM_OK)
        return err;
    if (!lim->skip_record_walk && (hdr.attributes & BR_BATCH_ATTR_COMPRESSION_MASK) == 0) {
        err = br_batch_walk_records(buf, len, &hdr, v);
        if (err != SM_OK)
            return err;
    }
    if (h != NULL)
        *h = hdr;
    return SM_OK;
}

/* Size of the batch starting at buf (len bytes available), from its length field, with the
 * checks needed before slicing it out of the blob. Returns SM_OK, SM_ERR_TRUNCATED (the blob
 * ends inside the batch) or a refusal. */
static sm_err_t br_batch_next_size(const uint8_t *buf, size_t len, br_batch_verdict_t *v,
                                   size_t *size)
{
    sm_reader_t r;
    int32_t length;
    int magic = br_batch_peek_magic(buf, len);

    if (len < BR_BATCH_LOG_OVERHEAD)
        return SM_ERR_TRUNCATED;
    sm_reader_init(&r, buf, len);
    sm_reader_skip(&r, BR_BATCH_OFF_LENGTH);
    length = sm_reader_i32(&r);
    if (magic == 0 || magic == 1)
        return br_batch_refuse(v, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
                               "message format v0/v1 is not supported");
    if (length < BR_BATCH_MIN_LENGTH)
        return br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                               "batch length below the header size");
    *size = (size_t)length + BR_BATCH_LOG_OVERHEAD;
    return *size > len ? SM_ERR_TRUNCATED : SM_OK;
}

sm_err_t br_batch_validate_set(const uint8_t *buf, size_t len, const br_batch_limits_t *lim,
                               br_batch_set_t *set, br_batch_verdict_t *v)
{
    static const br_batch_limits_t no_limits;
    size_t pos = 0;
    sm_err_t err = SM_OK;

    br_batch_verdict_clear(v);
    if (lim == NULL)
        lim = &no_limits;
    set->count = 0;
    set->bytes = 0;
    set->records = 0;
    while (pos < len) {
        br_batch_extent_t e = {.pos = pos};

        err = br_batch_next_size(buf + pos, len - pos, v, &e.size);
        if (err == SM_ERR_TRUNCATED && lim->allow_partial_tail) {
            err = SM_OK;
            break;
        }
        if (err == SM_ERR_TRUNCATED)
            err = br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE,
                                  "records end inside a batch");
        if (err == SM_OK)
            err = br_batch_validate(buf + pos, e.size, lim, &e.hdr, v);
        if (err == SM_OK)
            err = br_batch_set_push(set, &e);
        if (err != SM_OK) {
            if (v != NULL) {
                v->batch_index = set->count;
                v->byte_pos = pos;
                if (err == SM_ERR_NOMEM)
                    br_batch_refuse(v, err, BR_BATCH_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
            }
            goto out;
        }
        pos += e.size;
    }
    if (set->count == 0 && !lim->allow_partial_tail)
        err = br_batch_refuse(v, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE, "no record batch");
out:
    return err;
}

static void br_batch_put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

void br_batch_stamp(uint8_t *buf, int64_t base_offset, int32_t leader_epoch)
{
    br_batch_put_be(buf + BR_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset, 8);
    br_batch_put_be(buf + BR_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch, 4);
}

uint32_t br_batch_compute_crc(const uint8_t *buf, size_t len)
{
    if (len < BR_BATCH_CRC_START)
        return 0;
    return sm_crc32c(0, buf + BR_BATCH_CRC_START, len - BR_BATCH_CRC_START);
}

void br_batch_set_log_append_time(uint8_t *buf, size_t len, int64_t now_ms)
{
    uint16_t attrs =
        (uint16_t)((buf[BR_BATCH_OFF_ATTRIBUTES] << 8) | buf[BR_BATCH_OFF_ATTRIBUTES + 1]);

    attrs = (uint16_t)(attrs | BR_BATCH_ATTR_LOG_APPEND_TIME);
    br_batch_put_be(buf + BR_BATCH_OFF_ATTRIBUTES, attrs, 2);
    br_batch_put_be(buf + BR_BATCH_OFF_MAX_TS, (uint64_t)now_ms, 8);
    br_batch_put_be(buf + BR_BATCH_OFF_CRC, br_batch_compute_crc(buf, len), 4);
}

int16_t br_batch_kafka_error(sm_err_t err)
{
    switch (err) {
    case SM_OK:
        return BR_BATCH_KERR_NONE;
    case SM_ERR_IO:
    case SM_ERR_NOSPC:
    case SM_ERR_STATE:
        return BR_BATCH_KERR_KAFKA_STORAGE_ERROR;
    case SM_ERR_RANGE:
        return BR_BATCH_KERR_OFFSET_OUT_OF_RANGE;
    case SM_ERR_CORRUPT:
    case SM_ERR_TRUNCATED:
        return BR_BATCH_KERR_CORRUPT_MESSAGE;
    case SM_ERR_INVALID:
        return BR_BATCH_KERR_INVALID_RECORD;
    case SM_ERR_UNSUPPORTED:
        return BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case SM_ERR_TOO_LARGE:
        return BR_BATCH_KERR_MESSAGE_TOO_LARGE;
    default:
        return BR_BATCH_KERR_UNKNOWN_SERVER_ERROR;
    }
}
