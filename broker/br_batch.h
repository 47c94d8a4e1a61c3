/*
 * br_batch: record batches (magic v2) as the storage engine sees them -- a 61-byte header in
 * front of records it never decodes. It parses headers, validates whole batches without
 * decompressing them (the checks Kafka's LogValidator makes on the fixed header, the CRC and,
 * for uncompressed batches, the records' offset deltas), splits a Produce `records` blob into
 * batch extents, and rewrites the few header fields the broker owns: baseOffset and
 * partitionLeaderEpoch (outside the CRC, so the CRC is left alone) and, for LogAppendTime
 * topics, the timestamp-type bit and maxTimestamp (after which the CRC is recomputed). It sits
 * between the Produce/Fetch handlers and br_log; it does no I/O and keeps no state.
 *
 *   0          8       12            16    17    21     23          27         35        43
 *   | baseOffset | length | leaderEpoch | magic | crc | attrs | lastOffDelta | baseTs | maxTs |
 *   43         51         53           57             61
 *   | producerId | prodEpoch | baseSequence | recordsCount | records ... (length + 12 bytes in all)
 *                                  crc = CRC-32C of bytes 21 .. end
 *
 * Errors. Functions return sm_err_t; a validation failure also fills a br_batch_verdict_t with
 * the Kafka error code the Produce handler puts in its response (the only place a Kafka code
 * is produced, STYLE.md rule 4), which batch failed and a static reason. br_batch_kafka_error()
 * maps the sm_err_t of any storage call (br_log_*) to the Kafka code for the response.
 */
#ifndef BR_BATCH_H
#define BR_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_err.h"

#define BR_BATCH_HEADER_SIZE  61 /* fixed header, records start here */
#define BR_BATCH_LOG_OVERHEAD 12 /* baseOffset + length: bytes not counted by `length` */
#define BR_BATCH_MIN_LENGTH   49 /* smallest `length` field: header minus the overhead */
#define BR_BATCH_MAGIC        2
#define BR_BATCH_CRC_START    21 /* first byte covered by the CRC (attributes) */

/* Byte offsets of the header fields. */
#define BR_BATCH_OFF_BASE_OFFSET    0
#define BR_BATCH_OFF_LENGTH         8
#define BR_BATCH_OFF_LEADER_EPOCH   12
#define BR_BATCH_OFF_MAGIC          16
#define BR_BATCH_OFF_CRC            17
#define BR_BATCH_OFF_ATTRIBUTES     21
#define BR_BATCH_OFF_LAST_DELTA     23
#define BR_BATCH_OFF_BASE_TS        27
#define BR_BATCH_OFF_MAX_TS         35
#define BR_BATCH_OFF_PRODUCER_ID    43
#define BR_BATCH_OFF_PRODUCER_EPOCH 51
#define BR_BATCH_OFF_BASE_SEQUENCE  53
#define BR_BATCH_OFF_RECORDS_COUNT  57

/* Attribute bits. */
#define BR_BATCH_ATTR_COMPRESSION_MASK 0x07
#define BR_BATCH_ATTR_LOG_APPEND_TIME  0x08
#define BR_BATCH_ATTR_TRANSACTIONAL    0x10
#define BR_BATCH_ATTR_CONTROL          0x20
#define BR_BATCH_COMPRESSION_MAX       4 /* zstd */

#define BR_BATCH_NO_TIMESTAMP (-1)

/* Kafka error codes produced at this boundary (ErrorCodes in the protocol). */
#define BR_BATCH_KERR_NONE                           0
#define BR_BATCH_KERR_UNKNOWN_SERVER_ERROR           (-1)
#define BR_BATCH_KERR_OFFSET_OUT_OF_RANGE            1
#define BR_BATCH_KERR_CORRUPT_MESSAGE                2
#define BR_BATCH_KERR_MESSAGE_TOO_LARGE              10
#define BR_BATCH_KERR_INVALID_TIMESTAMP              32
#define BR_BATCH_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT 43
#define BR_BATCH_KERR_KAFKA_STORAGE_ERROR            56
#define BR_BATCH_KERR_UNSUPPORTED_COMPRESSION_TYPE   76
#define BR_BATCH_KERR_INVALID_RECORD                 87

/* The fixed header, decoded. */
typedef struct br_batch_header {
    int64_t base_offset;
    int32_t length; /* the batchLength field: the batch is length + 12 bytes */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} br_batch_header_t;

/* Total size in bytes of the batch described by h (length + 12). */
size_t br_batch_size(const br_batch_header_t *h);

/* Offset of the last record: base_offset + last_offset_delta. */
int64_t br_batch_last_offset(const br_batch_header_t *h);

/* Limits and options of validation. A zero-initialised struct means: no size limit, no
 * timestamp-difference check, walk uncompressed records, refuse a partial trailing batch. */
typedef struct br_batch_limits {
    size_t max_batch_bytes;        /* max.message.bytes; 0 = no limit (-> MESSAGE_TOO_LARGE) */
    int64_t timestamp_diff_max_ms; /* message.timestamp.difference.max.ms; 0 = unchecked */
    int64_t now_ms;                /* broker time for the timestamp-difference check */
    bool skip_record_walk;         /* do not check uncompressed records' offset deltas */
    bool allow_partial_tail;       /* fetched data: stop quietly at a partial last batch */
} br_batch_limits_t;

/* Why validation failed. */
typedef struct br_batch_verdict {
    int16_t kafka_error; /* BR_BATCH_KERR_*; NONE when valid */
    size_t batch_index;  /* index of the failing batch in the blob */
    size_t byte_pos;     /* where that batch starts in the blob */
    const char *reason;  /* static text, "" when valid */
} br_batch_verdict_t;

/* One batch of a validated blob. */
typedef struct br_batch_extent {
    size_t pos;  /* first byte in the blob */
    size_t size; /* whole batch, bytes */
    br_batch_header_t hdr;
} br_batch_extent_t;

/* The batches of a validated blob, in order and back to back from byte 0. Caller's storage:
 * br_batch_set_init / br_batch_set_deinit. */
typedef struct br_batch_set {
    br_batch_extent_t *batches; /* owned */
    size_t count;
    size_t cap;
    size_t bytes;    /* sum of batch sizes: the blob's first `bytes` bytes */
    int64_t records; /* offsets the batches take: sum of last_offset_delta + 1 */
} br_batch_set_t;

void br_batch_set_init(br_batch_set_t *set);
void br_batch_set_deinit(br_batch_set_t *set); /* accepts NULL */

/* Decodes the fixed header from the first BR_BATCH_HEADER_SIZE bytes of buf. No check beyond
 * the length of buf. Returns SM_OK or SM_ERR_TRUNCATED (len < 61). Reading the magic byte
 * needs only 17 bytes: see br_batch_peek_magic. */
sm_err_t br_batch_header_parse(const uint8_t *buf, size_t len, br_batch_header_t *h);

/* The magic byte at offset 16, or -1 if len < 17. */
int br_batch_peek_magic(const uint8_t *buf, size_t len);

/* Structural checks on a decoded header alone (no CRC): magic 2 (else SM_ERR_UNSUPPORTED),
 * length >= 49 (else SM_ERR_CORRUPT), records_count >= 1 and == last_offset_delta + 1 (else
 * SM_ERR_INVALID), a known compression codec (SM_ERR_UNSUPPORTED), timestamps >= -1 and
 * maxTimestamp >= baseTimestamp for CreateTime batches (SM_ERR_INVALID with
 * INVALID_TIMESTAMP). Fills v (if not NULL) with the Kafka code and reason. Used by recovery,
 * which computes the CRC in chunks from the file. */
sm_err_t br_batch_check_header(const br_batch_header_t *h, br_batch_verdict_t *v);

/* Validates exactly one batch occupying all `len` bytes at buf. In Kafka's order: the frame
 * first -- magic, the length field against len, the CRC (damage is SM_ERR_CORRUPT /
 * CORRUPT_MESSAGE) -- then the header checks above, the limits (max_batch_bytes ->
 * SM_ERR_TOO_LARGE, the timestamp difference -> INVALID_TIMESTAMP), and unless skipped the
 * records of an uncompressed batch: each record's length fits, offset deltas are 0..count-1
 * and the records fill the batch exactly (SM_ERR_INVALID / INVALID_RECORD). On success h (if
 * not NULL) holds the header. */
sm_err_t br_batch_validate(const uint8_t *buf, size_t len, const br_batch_limits_t *lim,
                           br_batch_header_t *h, br_batch_verdict_t *v);

/* Validates every batch of a records blob and fills set (emptied first) with their extents.
 * Nothing may follow the last batch, and an empty blob is refused (CORRUPT_MESSAGE), unless
 * lim->allow_partial_tail: then a partial last batch ends the set without error (set->bytes <
 * len tells how much was whole) and an empty set is allowed. A magic 0/1 batch gives
 * SM_ERR_UNSUPPORTED (UNSUPPORTED_FOR_MESSAGE_FORMAT). Returns SM_OK, SM_ERR_NOMEM, or the
 * first failing batch's error with v filled; then set holds the batches before it. */
sm_err_t br_batch_validate_set(const uint8_t *buf, size_t len, const br_batch_limits_t *lim,
                               br_batch_set_t *set, br_batch_verdict_t *v);

/* Writes baseOffset and partitionLeaderEpoch into the batch at buf (at least 16 bytes). The
 * CRC does not cover them and is left as is. */
void br_batch_stamp(uint8_t *buf, int64_t base_offset, int32_t leader_epoch);

/* LogAppendTime: sets the timestamp-type attribute bit and maxTimestamp = now_ms in the whole
 * batch of `len` bytes at buf, then recomputes the CRC. */
void br_batch_set_log_append_time(uint8_t *buf, size_t len, int64_t now_ms);

/* The CRC-32C the batch of `len` bytes at buf should carry (bytes 21 .. len). */
uint32_t br_batch_compute_crc(const uint8_t *buf, size_t len);

/* The Kafka error code for an sm_err_t returned by the storage engine: SM_OK -> NONE,
 * SM_ERR_IO / SM_ERR_NOSPC -> KAFKA_STORAGE_ERROR, SM_ERR_RANGE -> OFFSET_OUT_OF_RANGE,
 * SM_ERR_CORRUPT -> CORRUPT_MESSAGE, SM_ERR_INVALID -> INVALID_RECORD, SM_ERR_UNSUPPORTED ->
 * UNSUPPORTED_FOR_MESSAGE_FORMAT, SM_ERR_TOO_LARGE -> MESSAGE_TOO_LARGE, SM_ERR_STATE (a failed
 * log) -> KAFKA_STORAGE_ERROR, anything else -> UNKNOWN_SERVER_ERROR. Validation failures
 * should use the verdict's code instead, which is finer (INVALID_TIMESTAMP). */
int16_t br_batch_kafka_error(sm_err_t err);

#endif
