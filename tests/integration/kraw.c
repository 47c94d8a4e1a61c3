/*
 * kraw: a tiny raw Kafka client for tests/integration/0026_long_poll.sh. It hand-encodes
 * requests with the project's writer (common/sm_buf.h), sends them on a blocking socket with
 * bounded waits, and decodes the answers with the reader -- so a test can time a Fetch long
 * poll and send what no real client would: broken frames, absurd counts, unknown APIs, bad
 * CRCs.
 *
 *   kraw HOST:PORT apiversions
 *       ApiVersions v0; prints "error=E apis=N"; exit 0 when E is 0 and N > 0
 *   kraw HOST:PORT fetch TOPIC PARTITION OFFSET MAX_WAIT_MS MIN_BYTES
 *       Fetch v4 (replica -1, read_uncommitted) for one partition; prints
 *       "ms=T error=E hw=H bytes=B" where T is the time to the answer
 *   kraw HOST:PORT produce TOPIC PARTITION COUNT [badcrc]
 *       Produce v3, acks -1, one uncompressed batch of COUNT records ("kraw-<i>"), its CRC
 *       correct or (badcrc) flipped; prints "error=E base_offset=O"
 *   kraw HOST:PORT bad CASE
 *       sends one malformed request and reports what the broker did: "closed" (it closed the
 *       connection), "answer error=E" (a Kafka answer; E is the first error code in it) or
 *       "open" (neither within 3 s). Exit 0 when the outcome is an acceptable one for CASE:
 *         short-frame      size 3, 3 bytes: shorter than any header         -> closed
 *         huge-frame       size 2^31-1 (above socket.request.max.bytes)    -> closed at once
 *         negative-frame   size -1                                          -> closed
 *         zero-frame       size 0                                           -> closed
 *         unknown-api      api key 999                                      -> closed
 *         bad-version      Fetch v99                                        -> closed
 *         apiversions-v99  ApiVersions v99   -> answer error=35 (v0 format), listing ApiVersions
 *         truncated-body   Metadata v1 saying 5 topics, holding none        -> closed or error
 *         absurd-count     Produce v3 saying 2^31-1 topics                  -> closed or error
 *         garbage          Produce v3 header followed by 64 random bytes    -> closed or error
 *         bad-crc          Produce v3 with a damaged batch CRC   -> answer error=2 (or 87)
 *   kraw HOST:PORT hold SECONDS
 *       sends the first half of an ApiVersions frame and waits; prints "closed" or "open"
 *   kraw HOST:PORT idle N SECONDS
 *       opens N connections (each does one ApiVersions first), keeps them SECONDS, then checks
 *       that a fresh connection is still served; prints "opened=N served=1"
 *
 * Exit codes: 0 as described, 1 an unexpected answer, 2 usage or connection error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sm_buf.h"
#include "sm_crc32c.h"

#define KRAW_CORR     7
#define KRAW_WAIT_MS  3000
#define KRAW_MAX_RESP (64 * 1024 * 1024)

enum kraw_outcome { KRAW_CLOSED = 1, KRAW_ANSWER, KRAW_OPEN, KRAW_FAILED };

static int64_t kraw_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to HOST:PORT with receive timeouts of wait_ms; returns the fd or -1. */
static int kraw_connect(const char *hostport, int wait_ms)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in sa;
    struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
    int fd, one = 1;

    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
        return -1;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "kraw: connect %s: %s\n", hostport, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int kraw_send(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads exactly n bytes. Returns 0, or KRAW_CLOSED / KRAW_OPEN (timeout) / KRAW_FAILED. */
static int kraw_recv(int fd, void *p, size_t n)
{
    uint8_t *b = p;

    while (n > 0) {
        ssize_t k = recv(fd, b, n, 0);

        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0 || (k < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return KRAW_CLOSED;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return KRAW_OPEN;
        if (k < 0)
            return KRAW_FAILED;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Starts a request: frame size slot, header v1. Returns the size slot's position. */
static size_t kraw_begin(sm_writer_t *w, int16_t key, int16_t version)
{
    size_t slot = sm_writer_reserve(w, 4);

    sm_writer_i16(w, key);
    sm_writer_i16(w, version);
    sm_writer_i32(w, KRAW_CORR);
    sm_writer_str(w, sm_str_of("kraw"));
    return slot;
}

static void kraw_end(sm_writer_t *w, size_t slot)
{
    sm_writer_patch_i32(w, slot, (int32_t)(sm_writer_len(w) - slot - 4));
}

/*
 * Sends the writer's bytes and reads one answer into *resp (malloc'ed; the bytes after the
 * correlation id). Returns KRAW_ANSWER, KRAW_CLOSED, KRAW_OPEN or KRAW_FAILED.
 */
static int kraw_roundtrip(int fd, const sm_writer_t *w, uint8_t **resp, size_t *len)
{
    uint8_t hdr[8];
    sm_reader_t r;
    int32_t size, corr;
    int rc;

    *resp = NULL;
    *len = 0;
    if (sm_writer_err(w) != SM_OK)
        return KRAW_FAILED;
    if (kraw_send(fd, sm_writer_data(w), sm_writer_len(w)) != 0)
        return KRAW_CLOSED;
    rc = kraw_recv(fd, hdr, sizeof(hdr));
    if (rc != 0)
        return rc;
    sm_reader_init(&r, hdr, sizeof(hdr));
    size = sm_reader_i32(&r);
    corr = sm_reader_i32(&r);
    if (size < 4 || size > KRAW_MAX_RESP || corr != KRAW_CORR) {
        fprintf(stderr, "kraw: bad answer: size %" PRId32 " correlation id %" PRId32 "\n", size,
                corr);
        return KRAW_FAILED;
    }
    *len = (size_t)size - 4;
    *resp = malloc(*len + 1);
    if (*resp == NULL)
        return KRAW_FAILED;
    rc = kraw_recv(fd, *resp, *len);
    return rc == 0 ? KRAW_ANSWER : rc;
}

/* ApiVersions v0 answer: error, then the api keys. */
static int kraw_parse_apiversions(const uint8_t *b, size_t len, int16_t *error, int32_t *n)
{
    sm_reader_t r;

    sm_reader_init(&r, b, len);
    *error = sm_reader_i16(&r);
    *n = sm_reader_array_len(&r, 6);
    sm_reader_skip(&r, (size_t)(*n > 0 ? *n : 0) * 6);
    return sm_reader_err(&r) == SM_OK ? 0 : -1;
}

static int kraw_apiversions(const char *hp)
{
    sm_writer_t w;
    uint8_t *resp = NULL;
    size_t len;
    int16_t error = -1;
    int32_t n = 0;
    int fd = kraw_connect(hp, KRAW_WAIT_MS), rc = 2, out;

    sm_writer_init(&w, 64);
    if (fd < 0)
        goto out;
    kraw_end(&w, kraw_begin(&w, 18, 0));
    out = kraw_roundtrip(fd, &w, &resp, &len);
    rc = 1;
    if (out == KRAW_ANSWER && kraw_parse_apiversions(resp, len, &error, &n) == 0) {
        printf("error=%d apis=%" PRId32 "\n", error, n);
        rc = (error == 0 && n > 0) ? 0 : 1;
    } else {
        printf("%s\n", out == KRAW_CLOSED ? "closed" : "no answer");
    }
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    sm_writer_deinit(&w);
    return rc;
}

static void kraw_fetch_request(sm_writer_t *w, int16_t version, const char *topic, int32_t part,
                               int64_t offset, int32_t max_wait, int32_t min_bytes)
{
    size_t slot = kraw_begin(w, 1, version);

    sm_writer_i32(w, -1);       /* replica_id */
    sm_writer_i32(w, max_wait); /* max_wait_ms */
    sm_writer_i32(w, min_bytes);
    sm_writer_i32(w, 52428800); /* max_bytes (v3+) */
    sm_writer_i8(w, 0);         /* isolation_level (v4+) */
    sm_writer_array_len(w, 1);
    sm_writer_str(w, sm_str_of(topic));
    sm_writer_array_len(w, 1);
    sm_writer_i32(w, part);
    sm_writer_i64(w, offset);
    sm_writer_i32(w, 1048576); /* partition_max_bytes */
    kraw_end(w, slot);
}

/* Fetch v4 answer for one partition: error, high watermark and the size of its records. */
static int kraw_parse_fetch(const uint8_t *b, size_t len, int16_t *error, int64_t *hw,
                            int32_t *bytes)
{
    sm_reader_t r;
    int32_t nt, np, na;

    sm_reader_init(&r, b, len);
    sm_reader_i32(&r); /* throttle */
    nt = sm_reader_array_len(&r, 6);
    sm_reader_str(&r);
    np = sm_reader_array_len(&r, 30);
    sm_reader_i32(&r); /* partition */
    *error = sm_reader_i16(&r);
    *hw = sm_reader_i64(&r);
    sm_reader_i64(&r); /* last_stable_offset */
    na = sm_reader_nullable_array_len(&r, 16);
    sm_reader_skip(&r, (size_t)(na > 0 ? na : 0) * 16);
    *bytes = sm_reader_nullable_bytes(&r).len;
    if (sm_reader_err(&r) != SM_OK || nt != 1 || np != 1)
        return -1;
    return 0;
}

static int kraw_fetch(const char *hp, char **argv)
{
    sm_writer_t w;
    uint8_t *resp = NULL;
    size_t len;
    int16_t error = -1;
    int64_t hw = -1, t0;
    int32_t bytes = -1;
    int32_t max_wait = (int32_t)atoi(argv[3]);
    int fd = kraw_connect(hp, max_wait + 10000), rc = 2, out;

    sm_writer_init(&w, 128);
    if (fd < 0)
        goto out;
    kraw_fetch_request(&w, 4, argv[0], (int32_t)atoi(argv[1]), (int64_t)atoll(argv[2]), max_wait,
                       (int32_t)atoi(argv[4]));
    t0 = kraw_now_ms();
    out = kraw_roundtrip(fd, &w, &resp, &len);
    rc = 1;
    if (out == KRAW_ANSWER && kraw_parse_fetch(resp, len, &error, &hw, &bytes) == 0) {
        printf("ms=%" PRId64 " error=%d hw=%" PRId64 " bytes=%" PRId32 "\n", kraw_now_ms() - t0,
               error, hw, bytes);
        rc = 0;
    } else {
        printf("ms=%" PRId64 " %s\n", kraw_now_ms() - t0,
               out == KRAW_CLOSED ? "closed" : "no answer");
    }
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    sm_writer_deinit(&w);
    return rc;
}

/* One record of a batch, v2 layout (all varints zig-zag). */
static void kraw_record(sm_writer_t *w, int32_t delta)
{
    char val[32];
    sm_writer_t rec;

    snprintf(val, sizeof(val), "kraw-%" PRId32, delta);
    sm_writer_init(&rec, 64);
    sm_writer_i8(&rec, 0);      /* attributes */
    sm_writer_varlong(&rec, 0); /* timestampDelta */
    sm_writer_varint(&rec, delta);
    sm_writer_varint(&rec, -1); /* key: null */
    sm_writer_varint(&rec, (int32_t)strlen(val));
    sm_writer_raw(&rec, val, strlen(val));
    sm_writer_varint(&rec, 0); /* headers */
    sm_writer_varint(w, (int32_t)sm_writer_len(&rec));
    sm_writer_raw(w, sm_writer_data(&rec), sm_writer_len(&rec));
    if (sm_writer_err(&rec) != SM_OK)
        sm_writer_fail(w, sm_writer_err(&rec));
    sm_writer_deinit(&rec);
}

/*
 * A RecordBatch (magic 2) of count uncompressed records into b:
 *   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 | crc u32 |
 *   attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
 *   producerId i64 | producerEpoch i16 | baseSequence i32 | records count i32 | records
 * The CRC-32C covers attributes..end (byte 21 on); badcrc flips one bit of it.
 */
static void kraw_batch(sm_writer_t *b, int32_t count, int badcrc)
{
    struct timespec ts;
    int64_t now;
    uint32_t crc;
    int32_t i;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    sm_writer_i64(b, 0);
    sm_writer_i32(b, 0); /* patched */
    sm_writer_i32(b, 0);
    sm_writer_i8(b, 2);
    sm_writer_u32(b, 0); /* patched */
    sm_writer_i16(b, 0);
    sm_writer_i32(b, count - 1);
    sm_writer_i64(b, now);
    sm_writer_i64(b, now);
    sm_writer_i64(b, -1);
    sm_writer_i16(b, -1);
    sm_writer_i32(b, -1);
    sm_writer_i32(b, count);
    for (i = 0; i < count; i++)
        kraw_record(b, i);
    if (sm_writer_err(b) != SM_OK)
        return;
    sm_writer_patch_i32(b, 8, (int32_t)(sm_writer_len(b) - 12));
    crc = sm_crc32c(0, sm_writer_data(b) + 21, sm_writer_len(b) - 21);
    sm_writer_patch_u32(b, 17, badcrc ? crc ^ 0x10u : crc);
}

static void kraw_produce_request(sm_writer_t *w, const char *topic, int32_t part, int32_t count,
                                 int badcrc)
{
    sm_writer_t b;
    size_t slot = kraw_begin(w, 0, 3);

    sm_writer_init(&b, 256);
    kraw_batch(&b, count, badcrc);
    sm_writer_nullable_str(w, SM_STR_NULL); /* transactional_id */
    sm_writer_i16(w, -1);                   /* acks */
    sm_writer_i32(w, 10000);
    sm_writer_array_len(w, 1);
    sm_writer_str(w, sm_str_of(topic));
    sm_writer_array_len(w, 1);
    sm_writer_i32(w, part);
    sm_writer_bytes(w, sm_bytes_of(sm_writer_data(&b), sm_writer_len(&b)));
    if (sm_writer_err(&b) != SM_OK)
        sm_writer_fail(w, sm_writer_err(&b));
    sm_writer_deinit(&b);
    kraw_end(w, slot);
}

/* Produce v3 answer for one partition. */
static int kraw_parse_produce(const uint8_t *b, size_t len, int16_t *error, int64_t *base)
{
    sm_reader_t r;
    int32_t nt, np;

    sm_reader_init(&r, b, len);
    nt = sm_reader_array_len(&r, 6);
    sm_reader_str(&r);
    np = sm_reader_array_len(&r, 22);
    sm_reader_i32(&r);
    *error = sm_reader_i16(&r);
    *base = sm_reader_i64(&r);
    sm_reader_i64(&r); /* log_append_time */
    sm_reader_i32(&r); /* throttle */
    return (sm_reader_err(&r) == SM_OK && nt == 1 && np == 1) ? 0 : -1;
}

static int kraw_produce(const char *hp, char **argv, int badcrc)
{
    sm_writer_t w;
    uint8_t *resp = NULL;
    size_t len;
    int16_t error = -1;
    int64_t base = -1;
    int fd = kraw_connect(hp, 15000), rc = 2, out;

    sm_writer_init(&w, 256);
    if (fd < 0)
        goto out;
    kraw_produce_request(&w, argv[0], (int32_t)atoi(argv[1]), (int32_t)atoi(argv[2]), badcrc);
    out = kraw_roundtrip(fd, &w, &resp, &len);
    rc = 1;
    if (out == KRAW_ANSWER && kraw_parse_produce(resp, len, &error, &base) == 0) {
        printf("error=%d base_offset=%" PRId64 "\n", error, base);
        rc = 0;
    } else {
        printf("%s\n", out == KRAW_CLOSED ? "closed" : "no answer");
    }
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    sm_writer_deinit(&w);
    return rc;
}

/* Fills w with the bytes of one malformed request; returns -1 for an unknown case. */
static int kraw_bad_bytes(sm_writer_t *w, const char *c)
{
    size_t slot;
    int i;

    if (strcmp(c, "short-frame") == 0) {
        sm_writer_i32(w, 3);
        sm_writer_raw(w, "\0\022\0", 3);
    } else if (strcmp(c, "huge-frame") == 0) {
        sm_writer_i32(w, INT32_MAX);
        sm_writer_raw(w, "\0\022\0\0\0\0\0\7", 8);
    } else if (strcmp(c, "negative-frame") == 0) {
        sm_writer_i32(w, -1);
        sm_writer_raw(w, "\0\022\0\0\0\0\0\7", 8);
    } else if (strcmp(c, "zero-frame") == 0) {
        sm_writer_i32(w, 0);
    } else if (strcmp(c, "unknown-api") == 0) {
        kraw_end(w, kraw_begin(w, 999, 0));
    } else if (strcmp(c, "bad-version") == 0) {
        kraw_fetch_request(w, 99, "t", 0, 0, 100, 1);
    } else if (strcmp(c, "apiversions-v99") == 0) {
        kraw_end(w, kraw_begin(w, 18, 99));
    } else if (strcmp(c, "truncated-body") == 0) {
        slot = kraw_begin(w, 3, 1);
        sm_writer_i32(w, 5);
        kraw_end(w, slot);
    } else if (strcmp(c, "absurd-count") == 0) {
        slot = kraw_begin(w, 0, 3);
        sm_writer_nullable_str(w, SM_STR_NULL);
        sm_writer_i16(w, 1);
        sm_writer_i32(w, 1000);
        sm_writer_i32(w, INT32_MAX);
        kraw_end(w, slot);
    } else if (strcmp(c, "garbage") == 0) {
        slot = kraw_begin(w, 0, 3);
        for (i = 0; i < 64; i++)
            sm_writer_i8(w, (int8_t)(i * 37 + 11));
        kraw_end(w, slot);
    } else if (strcmp(c, "bad-crc") == 0) {
        return 1; /* built by the caller: it needs a topic */
    } else {
        return -1;
    }
    return 0;
}

/* First error code in an answer to a malformed request, by the API the case sent. */
static int kraw_bad_error(const char *c, const uint8_t *b, size_t len)
{
    int16_t e = -1;
    int64_t base;
    int32_t n;

    if (strcmp(c, "apiversions-v99") == 0) {
        if (kraw_parse_apiversions(b, len, &e, &n) != 0)
            return -1000;
        return e;
    }
    if (strcmp(c, "bad-crc") == 0 || strcmp(c, "garbage") == 0 || strcmp(c, "absurd-count") == 0) {
        if (kraw_parse_produce(b, len, &e, &base) != 0)
            return -1000;
        return e;
    }
    return len >= 2 ? (int16_t)((b[0] << 8) | b[1]) : -1000;
}

static int kraw_bad_ok(const char *c, int outcome, int error)
{
    if (strcmp(c, "apiversions-v99") == 0)
        return outcome == KRAW_ANSWER && error == 35;
    if (strcmp(c, "bad-crc") == 0)
        return outcome == KRAW_ANSWER && (error == 2 || error == 87);
    if (strcmp(c, "truncated-body") == 0 || strcmp(c, "absurd-count") == 0 ||
        strcmp(c, "garbage") == 0)
        return outcome == KRAW_CLOSED || (outcome == KRAW_ANSWER && error != 0);
    return outcome == KRAW_CLOSED;
}

static int kraw_bad(const char *hp, const char *c, const char *topic)
{
    sm_writer_t w;
    uint8_t *resp = NULL;
    size_t len = 0;
    int fd = -1, rc = 2, outcome, error = 0, kind;
    int64_t t0;

    sm_writer_init(&w, 256);
    kind = kraw_bad_bytes(&w, c);
    if (kind < 0) {
        fprintf(stderr, "kraw: unknown case %s\n", c);
        goto out;
    }
    if (kind == 1)
        kraw_produce_request(&w, topic != NULL ? topic : "t", 0, 3, 1);
    fd = kraw_connect(hp, KRAW_WAIT_MS);
    if (fd < 0)
        goto out;
    t0 = kraw_now_ms();
    outcome = kraw_roundtrip(fd, &w, &resp, &len);
    if (outcome == KRAW_ANSWER)
        error = kraw_bad_error(c, resp, len);
    if (outcome == KRAW_ANSWER)
        printf("answer error=%d ms=%" PRId64 "\n", error, kraw_now_ms() - t0);
    else
        printf("%s ms=%" PRId64 "\n",
               outcome == KRAW_CLOSED ? "closed"
               : outcome == KRAW_OPEN ? "open"
                                      : "failed",
               kraw_now_ms() - t0);
    rc = kraw_bad_ok(c, outcome, error) ? 0 : 1;
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    sm_writer_deinit(&w);
    return rc;
}

static int kraw_hold(const char *hp, int secs)
{
    sm_writer_t w;
    uint8_t byte;
    int fd = kraw_connect(hp, secs * 1000), rc = 2, outcome;

    sm_writer_init(&w, 64);
    if (fd < 0)
        goto out;
    kraw_end(&w, kraw_begin(&w, 18, 0));
    if (kraw_send(fd, sm_writer_data(&w), sm_writer_len(&w) / 2) != 0)
        goto out;
    outcome = kraw_recv(fd, &byte, 1);
    printf("%s\n", outcome == KRAW_CLOSED ? "closed" : outcome == KRAW_OPEN ? "open" : "data");
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    sm_writer_deinit(&w);
    return rc;
}

static int kraw_idle(const char *hp, int n, int secs)
{
    int *fds = calloc((size_t)(n > 0 ? n : 1), sizeof(*fds));
    int opened = 0, served = 0, i;
    sm_writer_t w;

    sm_writer_init(&w, 64);
    kraw_end(&w, kraw_begin(&w, 18, 0));
    for (i = 0; fds != NULL && i < n; i++) {
        uint8_t *resp = NULL;
        size_t len;

        fds[i] = kraw_connect(hp, KRAW_WAIT_MS);
        if (fds[i] < 0)
            break;
        opened++;
        if (i % 100 == 0 && kraw_roundtrip(fds[i], &w, &resp, &len) != KRAW_ANSWER) {
            free(resp);
            break;
        }
        free(resp);
    }
    sleep((unsigned)secs);
    served = kraw_apiversions(hp) == 0;
    for (i = 0; i < opened; i++)
        close(fds[i]);
    printf("opened=%d served=%d\n", opened, served);
    free(fds);
    sm_writer_deinit(&w);
    return (opened == n && served) ? 0 : 1;
}

static int kraw_usage(void)
{
    fprintf(stderr, "usage: kraw HOST:PORT apiversions | fetch TOPIC PART OFFSET MAX_WAIT_MS "
                    "MIN_BYTES | produce TOPIC PART COUNT [badcrc] | bad CASE [TOPIC] | hold "
                    "SECONDS | idle N SECONDS\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 3)
        return kraw_usage();
    cmd = argv[2];
    if (strcmp(cmd, "apiversions") == 0)
        return kraw_apiversions(argv[1]);
    if (strcmp(cmd, "fetch") == 0 && argc == 8)
        return kraw_fetch(argv[1], argv + 3);
    if (strcmp(cmd, "produce") == 0 && (argc == 6 || argc == 7))
        return kraw_produce(argv[1], argv + 3, argc == 7 && strcmp(argv[6], "badcrc") == 0);
    if (strcmp(cmd, "bad") == 0 && (argc == 4 || argc == 5))
        return kraw_bad(argv[1], argv[3], argc == 5 ? argv[4] : NULL);
    if (strcmp(cmd, "hold") == 0 && argc == 4)
        return kraw_hold(argv[1], atoi(argv[3]));
    if (strcmp(cmd, "idle") == 0 && argc == 5)
        return kraw_idle(argv[1], atoi(argv[3]), atoi(argv[4]));
    return kraw_usage();
}
