/*
 * fuzz_kafka_request: libFuzzer target for the broker's Kafka request decoders: the request
 * header (broker/br_kheader.c), the Produce, Fetch, ListOffsets and OffsetForLeaderEpoch bodies
 * (broker/br_kcodec_*.c) and the Metadata body (broker/br_api_info.h), followed by what a handler
 * does with a decoded request: Produce record sets through br_batch_validate_set, and the
 * responses encoded back with the writer. A follower decodes its leader's answers, so the
 * client-side decoders of FetchResponse and OffsetForLeaderEpochResponse are fuzzed too.
 *
 * The input is one request frame without its 4-byte size, as the listener hands it over:
 *
 *   api_key int16 | api_version int16 | correlation_id int32 | client_id | [tags] | body
 *
 * The header is read as v2 (flexible) when the first byte of the correlation id is odd, else
 * v1, so both header forms are covered whatever the api. api_key & 7 picks the decoder: 0
 * Produce, 1 Fetch, 2 ListOffsets, 3 and 7 Metadata (Kafka's own keys 0-3), 4
 * OffsetForLeaderEpoch request, 5 its response, 6 FetchResponse (the body is then read as the
 * response the follower gets); the version is folded into
 * the decoder's range so that most inputs reach a body decoder. A Produce partition whose records
 * start with byte 0xff at offset 16 (never a valid magic) is first copied and given a correct
 * CRC-32C and magic 2, so the validator's later checks are reached too. The bytes are copied to an
 * exact-size heap block so ASan sees any read past the end.
 *
 * Contract checked (abort on violation): a decoder that fails leaves its request empty; a
 * decoder that succeeds consumed the whole body; every view lies inside the frame.
 *
 * Built by the Makefile as $(BUILD)/fuzz/fuzz_kafka_request; run by 0004_fuzz.sh, or by hand:
 *   build/fuzz/fuzz_kafka_request -max_total_time=60 build/fuzz-corpus-kafka
 */
#include "broker/br_api_info.h"
#include "broker/br_batch.h"
#include "broker/br_kcodec_epoch.h"
#include "broker/br_kcodec_fetch.h"
#include "broker/br_kcodec_fetchc.h"
#include "broker/br_kcodec_listoffsets.h"
#include "broker/br_kcodec_produce.h"
#include "broker/br_kheader.h"
#include "sm_buf.h"
#include "sm_crc32c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_kafka_request: %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fuzz_inside(const uint8_t *buf, size_t len, const void *p, int32_t n)
{
    const uint8_t *q = p;

    if (n <= 0)
        return;
    FUZZ_CHECK(q >= buf && (size_t)n <= len && (size_t)(q - buf) <= len - (size_t)n);
}

static int16_t fuzz_fold(int16_t v, int16_t min, int16_t max)
{
    int span = max - min + 1;
    int x = v < 0 ? -(int)v : (int)v;

    return (int16_t)(min + x % span);
}

/* Validates one Produce partition's records as the handler would. */
static void fuzz_records(const uint8_t *rec, int32_t len)
{
    br_batch_limits_t lim = {.max_batch_bytes = 1048588, .timestamp_diff_max_ms = 0};
    br_batch_verdict_t v;
    br_batch_set_t set;
    uint8_t *copy;
    size_t n;

    if (rec == NULL || len < 0)
        return;
    n = (size_t)len;
    copy = malloc(n == 0 ? 1 : n);
    if (copy == NULL)
        return;
    if (n > 0)
        memcpy(copy, rec, n);
    if (n > 61 && copy[16] == 0xff) {
        size_t blen = n;
        uint32_t crc;

        copy[16] = 2;
        /* Make the batch length field agree with what we have, then seal it. */
        if (blen - 12 <= (size_t)INT32_MAX) {
            uint32_t l = (uint32_t)(blen - 12);

            copy[8] = (uint8_t)(l >> 24);
            copy[9] = (uint8_t)(l >> 16);
            copy[10] = (uint8_t)(l >> 8);
            copy[11] = (uint8_t)l;
        }
        crc = sm_crc32c(0, copy + 21, blen - 21);
        copy[17] = (uint8_t)(crc >> 24);
        copy[18] = (uint8_t)(crc >> 16);
        copy[19] = (uint8_t)(crc >> 8);
        copy[20] = (uint8_t)crc;
    }
    br_batch_set_init(&set);
    if (br_batch_validate_set(copy, n, &lim, &set, &v) == SM_OK)
        FUZZ_CHECK(set.bytes == n && set.count >= 1);
    else
        FUZZ_CHECK(set.bytes <= n);
    br_batch_set_deinit(&set);
    free(copy);
}

static void fuzz_produce(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_produce_req_t req;
    sm_writer_t w;
    int32_t t, p;

    memset(&req, 0, sizeof(req));
    if (br_kcodec_produce_decode(r, version, &req) != SM_OK) {
        FUZZ_CHECK(req.n_topics == 0);
        br_kcodec_produce_req_deinit(&req);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    for (t = 0; t < req.n_topics; t++) {
        fuzz_inside(buf, len, req.topics[t].name.ptr, req.topics[t].name.len);
        for (p = 0; p < req.topics[t].n_parts; p++) {
            const br_kcodec_produce_part_t *part = &req.topics[t].parts[p];

            fuzz_inside(buf, len, part->records.ptr, part->records.len);
            fuzz_records(part->records.ptr, part->records.len);
        }
    }
    if (version <= 2)
        br_kcodec_produce_fail_all(&req, 43);
    sm_writer_init(&w, 64);
    br_kcodec_produce_encode_response(&w, &req, 0);
    sm_writer_deinit(&w);
    br_kcodec_produce_req_deinit(&req);
}

static void fuzz_fetch(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_fetch_req_t req;
    br_kcodec_fetch_presp_t pr = {.error = 1, .high_watermark = 0};
    sm_writer_t w;
    int32_t t, p;

    memset(&req, 0, sizeof(req));
    if (br_kcodec_fetch_decode(r, version, &req) != SM_OK) {
        FUZZ_CHECK(req.n_topics == 0);
        br_kcodec_fetch_req_deinit(&req);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    sm_writer_init(&w, 64);
    br_kcodec_fetch_write_header(&w, version, 0, 0, 0, req.n_topics);
    for (t = 0; t < req.n_topics; t++) {
        fuzz_inside(buf, len, req.topics[t].name.ptr, req.topics[t].name.len);
        br_kcodec_fetch_write_topic(&w, version, req.topics[t].name, req.topics[t].n_parts);
        for (p = 0; p < req.topics[t].n_parts; p++) {
            pr.partition = req.topics[t].parts[p].partition;
            br_kcodec_fetch_write_partition(&w, version, &pr, 0);
        }
    }
    sm_writer_deinit(&w);
    br_kcodec_fetch_req_deinit(&req);
}

static void fuzz_list_offsets(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_listoffsets_req_t req;
    sm_writer_t w;
    int32_t t;

    memset(&req, 0, sizeof(req));
    if (br_kcodec_listoffsets_decode(r, version, &req) != SM_OK) {
        FUZZ_CHECK(req.n_topics == 0);
        br_kcodec_listoffsets_req_deinit(&req);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    for (t = 0; t < req.n_topics; t++)
        fuzz_inside(buf, len, req.topics[t].name.ptr, req.topics[t].name.len);
    sm_writer_init(&w, 64);
    br_kcodec_listoffsets_encode_response(&w, &req, 0);
    sm_writer_deinit(&w);
    br_kcodec_listoffsets_req_deinit(&req);
}

static void fuzz_metadata(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_api_metadata_req_t req;
    int32_t t;

    memset(&req, 0, sizeof(req));
    if (br_api_metadata_decode(r, version, &req) != SM_OK) {
        br_api_metadata_req_deinit(&req);
        return;
    }
    FUZZ_CHECK(req.n_topics >= -1);
    FUZZ_CHECK(req.n_topics <= 0 || req.topics != NULL);
    for (t = 0; t < req.n_topics; t++) {
        fuzz_inside(buf, len, req.topics[t].ptr, req.topics[t].len);
        (void)br_api_topic_name_valid(req.topics[t]);
    }
    br_api_metadata_req_deinit(&req);
}

static void fuzz_epoch_request(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_epoch_req_t req;
    sm_writer_t w;

    memset(&req, 0, sizeof(req));
    if (br_kcodec_epoch_req_decode(r, version, &req) != SM_OK) {
        FUZZ_CHECK(req.n_topics == 0);
        br_kcodec_epoch_req_deinit(&req);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    for (int32_t t = 0; t < req.n_topics; t++)
        fuzz_inside(buf, len, req.topics[t].name.ptr, req.topics[t].name.len);
    sm_writer_init(&w, 64);
    br_kcodec_epoch_req_encode(&w, &req);
    sm_writer_deinit(&w);
    br_kcodec_epoch_req_deinit(&req);
}

static void fuzz_epoch_response(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_epoch_resp_t resp;

    memset(&resp, 0, sizeof(resp));
    if (br_kcodec_epoch_resp_decode(r, version, &resp) != SM_OK) {
        FUZZ_CHECK(resp.n_topics == 0);
        br_kcodec_epoch_resp_deinit(&resp);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    for (int32_t t = 0; t < resp.n_topics; t++)
        fuzz_inside(buf, len, resp.topics[t].name.ptr, resp.topics[t].name.len);
    br_kcodec_epoch_resp_deinit(&resp);
}

static void fuzz_fetch_response(sm_reader_t *r, int16_t version, const uint8_t *buf, size_t len)
{
    br_kcodec_fetchc_resp_t resp;

    memset(&resp, 0, sizeof(resp));
    if (br_kcodec_fetchc_decode_response(r, version, &resp) != SM_OK) {
        FUZZ_CHECK(resp.n_topics == 0);
        br_kcodec_fetchc_resp_deinit(&resp);
        return;
    }
    FUZZ_CHECK(sm_reader_remaining(r) == 0);
    for (int32_t t = 0; t < resp.n_topics; t++) {
        fuzz_inside(buf, len, resp.topics[t].name.ptr, resp.topics[t].name.len);
        for (int32_t p = 0; p < resp.topics[t].n_parts; p++) {
            const br_kcodec_fetchc_part_t *fp = &resp.topics[t].parts[p];
            br_batch_limits_t lim = {.skip_record_walk = true, .allow_partial_tail = true};
            br_batch_verdict_t v;
            br_batch_set_t set;

            if (fp->records.len <= 0)
                continue;
            fuzz_inside(buf, len, fp->records.ptr, fp->records.len);
            br_batch_set_init(&set); /* what the follower does with them */
            (void)br_batch_validate_set(fp->records.ptr, (size_t)fp->records.len, &lim, &set, &v);
            br_batch_set_deinit(&set);
        }
    }
    br_kcodec_fetchc_resp_deinit(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size == 0 ? 1 : size);
    br_kheader_t h;
    sm_reader_t r;
    uint8_t out[BR_KHEADER_RESPONSE_MAX];

    if (buf == NULL)
        return 0;
    if (size > 0)
        memcpy(buf, data, size);
    memset(&h, 0, sizeof(h));
    sm_reader_init(&r, buf, size);
    br_kheader_read_fixed(&r, &h);
    br_kheader_read_rest(&r, &h, size > 4 && (buf[4] & 1) != 0);
    if (sm_reader_err(&r) != SM_OK)
        goto out;
    fuzz_inside(buf, size, h.client_id.ptr, h.client_id.len);
    FUZZ_CHECK(br_kheader_response(out, h.correlation_id, h.flexible, sm_reader_remaining(&r)) >=
               8);
    switch (h.api_key & 7) {
    case 0:
        fuzz_produce(
            &r,
            fuzz_fold(h.api_version, BR_KCODEC_PRODUCE_MIN_VERSION, BR_KCODEC_PRODUCE_MAX_VERSION),
            buf, size);
        break;
    case 1:
        fuzz_fetch(
            &r, fuzz_fold(h.api_version, BR_KCODEC_FETCH_MIN_VERSION, BR_KCODEC_FETCH_MAX_VERSION),
            buf, size);
        break;
    case 2:
        fuzz_list_offsets(&r,
                          fuzz_fold(h.api_version, BR_KCODEC_LISTOFFSETS_MIN_VERSION,
                                    BR_KCODEC_LISTOFFSETS_MAX_VERSION),
                          buf, size);
        break;
    case 4:
        fuzz_epoch_request(&r, fuzz_fold(h.api_version, 0, 4), buf, size);
        break;
    case 5:
        fuzz_epoch_response(&r, fuzz_fold(h.api_version, 0, 4), buf, size);
        break;
    case 6:
        fuzz_fetch_response(
            &r, fuzz_fold(h.api_version, BR_KCODEC_FETCH_MIN_VERSION, BR_KCODEC_FETCH_MAX_VERSION),
            buf, size);
        break;
    default:
        fuzz_metadata(&r, fuzz_fold(h.api_version, 0, 8), buf, size);
        break;
    }
out:
    free(buf);
    return 0;
}
