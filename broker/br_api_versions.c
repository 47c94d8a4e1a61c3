/*
 * br_api_versions: the ApiVersions API (key 18, v0-3). It lists exactly the APIs registered in
 * the dispatch table, so what is advertised is what is served.
 *
 *   response v0-2                          response v3 (flexible; header still v0)
 *   error_code      int16                  error_code      int16
 *   api_keys        int32 N, N x           api_keys        uvarint N+1, N x
 *     api_key int16, min int16, max int16    api_key, min, max int16, tags (0x00)
 *   throttle_time   int32 (v1+)            throttle_time   int32
 *                                          tags            0x00
 *
 * A version we do not support gets the v0 layout with UNSUPPORTED_VERSION and the single entry
 * {18, min, max}, whatever version was asked (KIP-511): librdkafka then retries with a version
 * we have, and a client that cannot parse it falls back to v0.
 */
#include "broker/br_kafka.h"

#include "broker/br_api_info.h"

#define BR_API_VERSIONS_MAX  3
#define BR_API_VERSIONS_FLEX 3

typedef struct br_api_versions_enc {
    sm_writer_t *w;
    bool flexible;
} br_api_versions_enc_t;

static void br_api_versions_entry(void *arg, int16_t key, int16_t min, int16_t max)
{
    br_api_versions_enc_t *e = arg;

    sm_writer_i16(e->w, key);
    sm_writer_i16(e->w, min);
    sm_writer_i16(e->w, max);
    if (e->flexible)
        sm_writer_empty_tags(e->w);
}

static void br_api_versions_count(void *arg, int16_t key, int16_t min, int16_t max)
{
    (void)key;
    (void)min;
    (void)max;
    (*(int32_t *)arg)++;
}

void br_api_versions_encode(const br_kafka_t *k, int16_t version, sm_writer_t *w)
{
    int16_t min = 0, max = BR_API_VERSIONS_MAX;
    br_api_versions_enc_t e = {.w = w, .flexible = version >= BR_API_VERSIONS_FLEX};
    int32_t n = 0;

    (void)br_kafka_api_range(k, BR_KAFKA_API_VERSIONS, &min, &max);
    if (version < min || version > max) {
        sm_writer_i16(w, SM_KERR_UNSUPPORTED_VERSION);
        sm_writer_array_len(w, 1);
        sm_writer_i16(w, BR_KAFKA_API_VERSIONS);
        sm_writer_i16(w, min);
        sm_writer_i16(w, max);
        return;
    }
    br_kafka_foreach_api(k, br_api_versions_count, &n);
    sm_writer_i16(w, SM_KERR_NONE);
    if (e.flexible)
        sm_writer_compact_array_len(w, n);
    else
        sm_writer_array_len(w, n);
    br_kafka_foreach_api(k, br_api_versions_entry, &e);
    if (version >= 1)
        sm_writer_i32(w, 0); /* throttle_time_ms */
    if (e.flexible)
        sm_writer_empty_tags(w);
}

static void br_api_versions_handle(void *arg, br_kreq_t *req)
{
    int16_t version = br_kreq_api_version(req);
    br_kafka_t *k = br_kreq_kafka(req);
    sm_reader_t *r = br_kreq_body(req);
    int16_t min, max;

    (void)arg;
    if (br_kafka_api_range(k, BR_KAFKA_API_VERSIONS, &min, &max) && version >= min &&
        version <= max && version >= BR_API_VERSIONS_FLEX) {
        /* client_software_name and _version: informational only. */
        (void)sm_reader_compact_str(r);
        (void)sm_reader_compact_str(r);
        sm_reader_skip_tags(r);
        if (sm_reader_err(r) != SM_OK) {
            br_kreq_fail(req, "malformed ApiVersions request");
            return;
        }
    }
    br_api_versions_encode(k, version, br_kreq_writer(req));
    br_kreq_respond(req);
}

sm_err_t br_api_versions_register(br_kafka_t *k)
{
    return br_kafka_register(k, BR_KAFKA_API_VERSIONS, 0, BR_API_VERSIONS_MAX, BR_API_VERSIONS_FLEX,
                             br_api_versions_handle, NULL);
}
