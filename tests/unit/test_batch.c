/*
 * test_batch: record batch header parsing, validation without decompression (each kind of bad
 * batch gets Kafka's error code), splitting a records blob into batches, the in-place
 * stamping of offsets, epochs and LogAppendTime, and the inline record walk against a
 * reader-based reference (edge-case varints, mutated batches).
 */
#include "broker/br_batch.h"

#include <criterion/criterion.h>

#include "storage_fixture.h"

static sm_err_t validate(const uint8_t *b, size_t len, br_batch_verdict_t *v)
{
    return br_batch_validate(b, len, NULL, NULL, v);
}

static void expect_refused(const uint8_t *b, size_t len, sm_err_t err, int16_t kerr)
{
    br_batch_verdict_t v;
    sm_err_t got = validate(b, len, &v);

    cr_assert_eq(got, err, "err %d (%s), want %d", got, v.reason, err);
    cr_assert_eq(v.kafka_error, kerr, "kafka error %d (%s), want %d", v.kafka_error, v.reason,
                 kerr);
}

Test(batch, accepts_and_parses_a_valid_uncompressed_batch)
{
    size_t len;
    uint8_t *b = fx_simple_batch(5, 10, 1000, &len);
    br_batch_header_t h;
    br_batch_verdict_t v;

    cr_assert_eq(br_batch_validate(b, len, NULL, &h, &v), SM_OK, "%s", v.reason);
    cr_assert_eq(v.kafka_error, 0);
    cr_assert_eq(h.magic, 2);
    cr_assert_eq(h.records_count, 5);
    cr_assert_eq(h.last_offset_delta, 4);
    cr_assert_eq(h.base_timestamp, 1000);
    cr_assert_eq(h.max_timestamp, 1004);
    cr_assert_eq(h.producer_id, -1);
    cr_assert_eq(br_batch_size(&h), len);
    cr_assert_eq(br_batch_last_offset(&h), 4);
    free(b);
}

Test(batch, accepts_a_compressed_batch_without_decoding_it)
{
    fx_batch_opts_t o = {.records = 3, .value_len = 20, .base_ts = 5, .attributes = 2};
    size_t len;
    uint8_t *b = fx_batch_new(&o, &len);

    cr_assert_eq(validate(b, len, NULL), SM_OK);
    free(b);
}

Test(batch, refuses_magic_0_and_1_as_unsupported_for_message_format)
{
    size_t len;
    uint8_t *b = fx_simple_batch(1, 4, 0, &len);

    for (int m = 0; m <= 1; m++) {
        b[BR_BATCH_OFF_MAGIC] = (uint8_t)m;
        expect_refused(b, len, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    }
    /* Even a message too short for a v2 header is recognised by its magic byte. */
    expect_refused(b, 20, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    b[BR_BATCH_OFF_MAGIC] = 7;
    expect_refused(b, len, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    free(b);
}

Test(batch, refuses_a_crc_mismatch_as_corrupt_message)
{
    size_t len;
    uint8_t *b = fx_simple_batch(2, 8, 0, &len);

    b[len - 3] ^= 0x40;
    expect_refused(b, len, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    free(b);
}

Test(batch, refuses_lengths_that_disagree_with_the_bytes)
{
    size_t len;
    uint8_t *b = fx_simple_batch(2, 8, 0, &len);
    uint8_t *longer = calloc(1, len + 4);

    expect_refused(b, len - 1, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    memcpy(longer, b, len);
    expect_refused(longer, len + 4, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    expect_refused(b, 40, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    fx_put_be(b + BR_BATCH_OFF_LENGTH, 48, 4); /* below the header */
    expect_refused(b, 60, SM_ERR_CORRUPT, BR_BATCH_KERR_CORRUPT_MESSAGE);
    free(longer);
    free(b);
}

Test(batch, refuses_counts_that_disagree_with_last_offset_delta)
{
    size_t len;
    uint8_t *b = fx_simple_batch(3, 8, 0, &len);
    fx_batch_opts_t o = {.records = 3, .value_len = 8, .attributes = 1};
    size_t clen;
    uint8_t *c = fx_batch_new(&o, &clen);

    fx_put_be(b + BR_BATCH_OFF_RECORDS_COUNT, 0, 4);
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD);
    fx_put_be(b + BR_BATCH_OFF_RECORDS_COUNT, 4, 4);
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD);
    /* Compressed batches are held to the same rule: count == lastOffsetDelta + 1. */
    fx_put_be(c + BR_BATCH_OFF_LAST_DELTA, 5, 4);
    fx_fix_crc(c, clen);
    expect_refused(c, clen, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD);
    free(c);
    free(b);
}

Test(batch, refuses_an_unknown_compression_codec)
{
    size_t len;
    uint8_t *b = fx_simple_batch(1, 8, 0, &len);

    fx_put_be(b + BR_BATCH_OFF_ATTRIBUTES, 5, 2);
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_UNSUPPORTED, BR_BATCH_KERR_UNSUPPORTED_COMPRESSION_TYPE);
    free(b);
}

Test(batch, refuses_records_whose_offset_deltas_are_not_0_to_n_minus_1)
{
    size_t len;
    uint8_t *b = fx_simple_batch(3, 4, -1, &len);
    /* Each record is 1 (length) + 10 bytes; its offsetDelta is the 4th byte of the record. */
    size_t rec1 = BR_BATCH_HEADER_SIZE + 11;

    cr_assert_eq(validate(b, len, NULL), SM_OK);
    cr_assert_eq(b[rec1 + 3], 2); /* zig-zag of 1 */
    b[rec1 + 3] = 4;              /* delta 2 */
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD);
    free(b);
}

Test(batch, refuses_a_record_length_running_past_the_batch)
{
    size_t len;
    uint8_t *b = fx_simple_batch(2, 4, -1, &len);

    b[BR_BATCH_HEADER_SIZE + 11] = 60; /* second record claims 30 bytes */
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_RECORD);
    free(b);
}

Test(batch, skips_the_record_walk_when_asked)
{
    size_t len;
    uint8_t *b = fx_simple_batch(2, 4, -1, &len);
    br_batch_limits_t lim = {.skip_record_walk = true};

    b[BR_BATCH_HEADER_SIZE + 11] = 60;
    fx_fix_crc(b, len);
    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, NULL), SM_OK);
    free(b);
}

Test(batch, refuses_bad_timestamps_with_invalid_timestamp)
{
    size_t len;
    uint8_t *b = fx_simple_batch(2, 4, 1000, &len);
    br_batch_limits_t lim = {.timestamp_diff_max_ms = 100, .now_ms = 1050};

    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, NULL), SM_OK);
    lim.now_ms = 2000;
    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, NULL), SM_ERR_INVALID);
    lim.now_ms = 0;
    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, NULL), SM_ERR_INVALID);

    fx_put_be(b + BR_BATCH_OFF_MAX_TS, 999, 8); /* max below base, CreateTime */
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_TIMESTAMP);
    fx_put_be(b + BR_BATCH_OFF_ATTRIBUTES, BR_BATCH_ATTR_LOG_APPEND_TIME, 2);
    fx_fix_crc(b, len);
    cr_assert_eq(validate(b, len, NULL), SM_OK); /* broker time may be behind the producer's */
    fx_put_be(b + BR_BATCH_OFF_MAX_TS, (uint64_t)-5, 8);
    fx_fix_crc(b, len);
    expect_refused(b, len, SM_ERR_INVALID, BR_BATCH_KERR_INVALID_TIMESTAMP);
    free(b);
}

Test(batch, accepts_batches_without_timestamps)
{
    size_t len;
    uint8_t *b = fx_simple_batch(3, 4, -1, &len);

    cr_assert_eq(validate(b, len, NULL), SM_OK);
    free(b);
}

Test(batch, refuses_a_batch_above_max_message_bytes)
{
    size_t len;
    uint8_t *b = fx_simple_batch(3, 100, 0, &len);
    br_batch_limits_t lim = {.max_batch_bytes = len};
    br_batch_verdict_t v;

    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, &v), SM_OK);
    lim.max_batch_bytes = len - 1;
    cr_assert_eq(br_batch_validate(b, len, &lim, NULL, &v), SM_ERR_TOO_LARGE);
    cr_assert_eq(v.kafka_error, BR_BATCH_KERR_MESSAGE_TOO_LARGE);
    free(b);
}

Test(batch, splits_a_blob_into_its_batches)
{
    sm_writer_t w;
    br_batch_set_t set;
    br_batch_verdict_t v;
    size_t sizes[3];

    sm_writer_init(&w, 0);
    for (int i = 0; i < 3; i++) {
        fx_batch_opts_t o = {.records = i + 1, .value_len = (size_t)(10 * i), .base_ts = 7};

        sizes[i] = fx_batch_write(&w, &o);
    }
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(sm_writer_data(&w), sm_writer_len(&w), NULL, &set, &v),
                 SM_OK, "%s", v.reason);
    cr_assert_eq(set.count, 3);
    cr_assert_eq(set.bytes, sm_writer_len(&w));
    cr_assert_eq(set.records, 6);
    cr_assert_eq(set.batches[0].pos, 0);
    cr_assert_eq(set.batches[1].pos, sizes[0]);
    cr_assert_eq(set.batches[2].pos, sizes[0] + sizes[1]);
    cr_assert_eq(set.batches[2].size, sizes[2]);
    cr_assert_eq(set.batches[2].hdr.records_count, 3);
    br_batch_set_deinit(&set);
    sm_writer_deinit(&w);
}

Test(batch, names_the_failing_batch_of_a_blob)
{
    sm_writer_t w;
    br_batch_set_t set;
    br_batch_verdict_t v;
    fx_batch_opts_t o = {.records = 2, .value_len = 5, .base_ts = 1};
    size_t first;
    uint8_t *data;

    sm_writer_init(&w, 0);
    first = fx_batch_write(&w, &o);
    fx_batch_write(&w, &o);
    fx_batch_write(&w, &o);
    data = (uint8_t *)sm_writer_data(&w);
    data[first + 30] ^= 1; /* second batch: break its CRC */
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(data, sm_writer_len(&w), NULL, &set, &v), SM_ERR_CORRUPT);
    cr_assert_eq(v.kafka_error, BR_BATCH_KERR_CORRUPT_MESSAGE);
    cr_assert_eq(v.batch_index, 1);
    cr_assert_eq(v.byte_pos, first);
    br_batch_set_deinit(&set);
    sm_writer_deinit(&w);
}

Test(batch, refuses_an_empty_blob_and_a_partial_last_batch)
{
    br_batch_set_t set;
    br_batch_verdict_t v;
    size_t len;
    uint8_t *b = fx_simple_batch(2, 10, 0, &len);
    uint8_t *two = malloc(2 * len);
    br_batch_limits_t lim = {.allow_partial_tail = true};

    memcpy(two, b, len);
    memcpy(two + len, b, len);
    br_batch_set_init(&set);
    cr_assert_eq(br_batch_validate_set(b, 0, NULL, &set, &v), SM_ERR_CORRUPT);
    cr_assert_eq(br_batch_validate_set(two, 2 * len - 1, NULL, &set, &v), SM_ERR_CORRUPT);
    cr_assert_eq(v.batch_index, 1);
    cr_assert_eq(br_batch_validate_set(two, len + 5, NULL, &set, &v), SM_ERR_CORRUPT);
    /* Fetched data may end in a partial batch: the whole ones are kept. */
    cr_assert_eq(br_batch_validate_set(two, 2 * len - 1, &lim, &set, &v), SM_OK);
    cr_assert_eq(set.count, 1);
    cr_assert_eq(set.bytes, len);
    cr_assert_eq(br_batch_validate_set(two, 5, &lim, &set, &v), SM_OK);
    cr_assert_eq(set.count, 0);
    br_batch_set_deinit(&set);
    free(two);
    free(b);
}

Test(batch, stamping_offset_and_epoch_keeps_the_crc_valid)
{
    size_t len;
    uint8_t *b = fx_simple_batch(4, 10, 50, &len);
    br_batch_header_t h;

    br_batch_stamp(b, 123456789012LL, 42);
    cr_assert_eq(br_batch_validate(b, len, NULL, &h, NULL), SM_OK);
    cr_assert_eq(h.base_offset, 123456789012LL);
    cr_assert_eq(h.leader_epoch, 42);
    cr_assert_eq(br_batch_last_offset(&h), 123456789015LL);
    free(b);
}

Test(batch, log_append_time_sets_the_bit_and_max_timestamp_and_recomputes_the_crc)
{
    size_t len;
    uint8_t *b = fx_simple_batch(4, 10, 50, &len);
    br_batch_header_t before;
    br_batch_header_t after;

    cr_assert_eq(br_batch_header_parse(b, len, &before), SM_OK);
    br_batch_set_log_append_time(b, len, 999999);
    cr_assert_eq(br_batch_validate(b, len, NULL, &after, NULL), SM_OK);
    cr_assert_neq(after.crc, before.crc);
    cr_assert_eq(after.crc, br_batch_compute_crc(b, len));
    cr_assert(after.attributes & BR_BATCH_ATTR_LOG_APPEND_TIME);
    cr_assert_eq(after.max_timestamp, 999999);
    cr_assert_eq(after.base_timestamp, 50);
    free(b);
}

Test(batch, maps_storage_errors_to_kafka_codes)
{
    cr_assert_eq(br_batch_kafka_error(SM_OK), 0);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_IO), 56);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_NOSPC), 56);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_RANGE), 1);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_CORRUPT), 2);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_INVALID), 87);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_UNSUPPORTED), 43);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_TOO_LARGE), 10);
    cr_assert_eq(br_batch_kafka_error(SM_ERR_TIMEOUT), -1);
}

/* ---- the record walk: edge cases and the reader-based reference --------------------------- */

/* The record walk as written with sm_reader before br_batch gained its inline decoder: the
 * reference whose verdicts the fast walk must give. Returns the reason ("" when valid). */
static const char *reference_walk(const uint8_t *buf, size_t len, int32_t count)
{
    sm_reader_t r;
    size_t body = len - BR_BATCH_HEADER_SIZE;

    if ((size_t)count > body / 7)
        return "records count larger than the records region allows";
    sm_reader_init(&r, buf + BR_BATCH_HEADER_SIZE, body);
    for (int32_t i = 0; i < count; i++) {
        int32_t rlen = sm_reader_varint(&r);
        sm_reader_t rec;

        if (sm_reader_err(&r) != SM_OK || rlen < 6 || (size_t)rlen > sm_reader_remaining(&r))
            return "record length runs past the batch";
        rec = sm_reader_sub(&r, (size_t)rlen);
        (void)sm_reader_i8(&rec);
        (void)sm_reader_varlong(&rec);
        if (sm_reader_varint(&rec) != i || sm_reader_err(&rec) != SM_OK)
            return "record offset deltas are not 0..count-1";
    }
    if (sm_reader_remaining(&r) != 0)
        return "bytes left after the last record";
    return "";
}

/* A batch (no timestamps, uncompressed) around the given records region, with a valid CRC. */
static uint8_t *batch_around(const uint8_t *records, size_t rlen, int32_t count, size_t *len)
{
    sm_writer_t w;
    uint8_t *out = NULL;

    sm_writer_init(&w, 0);
    sm_writer_i64(&w, 0);
    sm_writer_i32(&w, (int32_t)(BR_BATCH_HEADER_SIZE - BR_BATCH_LOG_OVERHEAD + rlen));
    sm_writer_i32(&w, 0);
    sm_writer_i8(&w, 2);
    sm_writer_u32(&w, 0);
    sm_writer_i16(&w, 0);
    sm_writer_i32(&w, count - 1);
    sm_writer_i64(&w, -1);
    sm_writer_i64(&w, -1);
    sm_writer_i64(&w, -1);
    sm_writer_i16(&w, -1);
    sm_writer_i32(&w, -1);
    sm_writer_i32(&w, count);
    sm_writer_raw(&w, records, rlen);
    cr_assert_eq(sm_writer_detach(&w, &out, len), SM_OK);
    sm_writer_deinit(&w);
    fx_fix_crc(out, *len);
    return out;
}

/* Validates a batch made of `records` and checks the verdict against the reference. */
static void expect_walk_verdict(const uint8_t *records, size_t rlen, int32_t count,
                                const char *want)
{
    size_t len;
    uint8_t *b = batch_around(records, rlen, count, &len);
    br_batch_verdict_t v;
    sm_err_t err = validate(b, len, &v);
    const char *ref = reference_walk(b, len, count);

    free(b); /* before any assertion: a failing test must not leak */
    cr_assert_str_eq(ref, want, "the reference disagrees");
    cr_assert_str_eq(v.reason, want);
    cr_assert_eq(err, want[0] == 0 ? SM_OK : SM_ERR_INVALID);
    if (want[0] != 0)
        cr_assert_eq(v.kafka_error, BR_BATCH_KERR_INVALID_RECORD);
}

Test(batch, record_walk_accepts_long_and_non_minimal_varints)
{
    /* len 15: attributes, a 10-byte timestampDelta (INT64_MIN zig-zags to all ones), delta 0,
     * key -1, value 0, no headers. */
    static const uint8_t ten[] = {30,   0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0x01, 0,    1,    0,    0};
    /* len 6 written on 5 bytes (0x8c 0x80 0x80 0x80 0x00), offsetDelta 0 as 0x80 0x00. */
    static const uint8_t padded[] = {0x8c, 0x80, 0x80, 0x80, 0x00, 0, 0, 0x80, 0x00, 1, 0};

    expect_walk_verdict(ten, sizeof(ten), 1, "");
    expect_walk_verdict(padded, sizeof(padded), 1, "");
}

Test(batch, record_walk_refuses_overlong_varints)
{
    /* A 5-byte record length whose last byte sets bits beyond 32. */
    static const uint8_t len5[] = {0x8c, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 1, 0, 0};
    /* A timestampDelta with 11 bytes (len 15). */
    static const uint8_t ts11[] = {30,   0,    0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x80, 0x00, 0,    1,    0};
    /* A 10-byte timestampDelta whose last byte carries bit 64 (len 14). */
    static const uint8_t ts10[] = {28,   0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x02, 0,    1,    0};
    /* An offsetDelta whose 5th byte carries the continuation bit (len 10). */
    static const uint8_t od5[] = {20, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 0};

    expect_walk_verdict(len5, sizeof(len5), 1, "record length runs past the batch");
    expect_walk_verdict(ts11, sizeof(ts11), 1, "record offset deltas are not 0..count-1");
    expect_walk_verdict(ts10, sizeof(ts10), 1, "record offset deltas are not 0..count-1");
    expect_walk_verdict(od5, sizeof(od5), 1, "record offset deltas are not 0..count-1");
}

Test(batch, record_walk_refuses_lengths_and_varints_that_run_out)
{
    static const uint8_t ok[] = {12, 0, 0, 0, 1, 0, 0};        /* len 6, then 6 bytes */
    static const uint8_t short_len[] = {10, 0, 0, 0, 1, 0, 0}; /* len 5 < the minimum 6 */
    static const uint8_t neg_len[] = {1, 0, 0, 0, 1, 0, 0};    /* len -1 */
    static const uint8_t cut_len[] = {12, 0, 0, 0, 1, 0, 0, 0x80};
    /* len 6 whose timestampDelta continues to the record end and beyond. */
    static const uint8_t ts_out[] = {12, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0, 0, 1, 0, 0, 0};
    static const uint8_t extra[] = {12, 0, 0, 0, 1, 0, 0, 0};

    expect_walk_verdict(ok, sizeof(ok), 1, "");
    expect_walk_verdict(short_len, sizeof(short_len), 1, "record length runs past the batch");
    expect_walk_verdict(neg_len, sizeof(neg_len), 1, "record length runs past the batch");
    /* The second record's length varint is cut by the batch end. */
    expect_walk_verdict(cut_len, sizeof(cut_len), 1, "bytes left after the last record");
    {
        uint8_t two[14];

        memcpy(two, ok, 7);
        memcpy(two + 7, ok, 7);
        two[10] = 2; /* second offsetDelta = 1 */
        expect_walk_verdict(two, 14, 2, "");
        two[7] = 0x80; /* its length varint now runs into the record */
        expect_walk_verdict(two, 14, 2, "record length runs past the batch");
        expect_walk_verdict(cut_len, sizeof(cut_len), 2,
                            "records count larger than the records "
                            "region allows");
    }
    expect_walk_verdict(ts_out, sizeof(ts_out), 1, "record offset deltas are not 0..count-1");
    expect_walk_verdict(extra, sizeof(extra), 1, "bytes left after the last record");
}

/* Deterministic xorshift64. */
static uint64_t walk_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(batch, record_walk_gives_the_readers_verdicts_on_mutated_batches)
{
    static const uint8_t nasty[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, 0x0c, 0x02};
    uint64_t seed = 0x5eed;
    size_t refused = 0;

    for (int trial = 0; trial < 3000; trial++) {
        sm_writer_t w;
        int32_t count = 1 + (int32_t)(walk_rng(&seed) % 6);
        size_t len;
        uint8_t *b;
        br_batch_verdict_t v;
        const char *want;

        /* Records with 1- to 10-byte timestamp deltas and 1- or 2-byte lengths. */
        sm_writer_init(&w, 0);
        for (int32_t i = 0; i < count; i++) {
            int64_t ts = (int64_t)(walk_rng(&seed) >> (walk_rng(&seed) % 64));
            int32_t vlen = (int32_t)(walk_rng(&seed) % 3 == 0 ? 70 + walk_rng(&seed) % 60
                                                              : walk_rng(&seed) % 8);
            uint8_t value[130] = {0};
            int32_t body = (int32_t)(1 + sm_varlong_size(ts) + sm_varint_size(i) + 1 +
                                     sm_varint_size(vlen) + (size_t)vlen + 1);

            sm_writer_varint(&w, body);
            sm_writer_i8(&w, 0);
            sm_writer_varlong(&w, ts);
            sm_writer_varint(&w, i);
            sm_writer_varint(&w, -1);
            sm_writer_varint(&w, vlen);
            sm_writer_raw(&w, value, (size_t)vlen);
            sm_writer_varint(&w, 0);
        }
        b = batch_around(sm_writer_data(&w), sm_writer_len(&w), count, &len);
        sm_writer_deinit(&w);
        for (int k = 1 + (int)(walk_rng(&seed) % 3); k > 0; k--) {
            size_t at = BR_BATCH_HEADER_SIZE + (size_t)(walk_rng(&seed) % (len - 61));

            b[at] = walk_rng(&seed) % 2 ? nasty[walk_rng(&seed) % sizeof(nasty)]
                                        : (uint8_t)walk_rng(&seed);
        }
        if (walk_rng(&seed) % 4 == 0) { /* records count and lastOffsetDelta off by one */
            int32_t c = count + (walk_rng(&seed) % 2 ? 1 : -1);

            if (c >= 1) {
                fx_put_be(b + BR_BATCH_OFF_RECORDS_COUNT, (uint32_t)c, 4);
                fx_put_be(b + BR_BATCH_OFF_LAST_DELTA, (uint32_t)(c - 1), 4);
                count = c;
            }
        }
        fx_fix_crc(b, len);
        want = reference_walk(b, len, count);
        validate(b, len, &v);
        free(b);
        cr_assert_str_eq(v.reason, want, "trial %d", trial);
        refused += want[0] != 0;
    }
    cr_assert_gt(refused, 300, "the mutations reach the refusals");
    cr_assert_lt(refused, 2900, "and leave valid batches too");
}
