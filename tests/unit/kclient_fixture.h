/*
 * kclient_fixture: a Kafka client end for the unit suites that drive the broker's Kafka front
 * end (br_kafka) over a socketpair: attach a connection, send one framed request (header v1,
 * or v2 for a flexible version), and run the event loop until a whole response frame arrives.
 * Header-only (static inline) because every tests/unit/test_*.c is its own binary.
 */
#ifndef KCLIENT_FIXTURE_H
#define KCLIENT_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/br_kafka.h"
#include "sm_buf.h"

static inline int64_t kc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new connection of front end k; returns the client's end of it. */
static inline int kc_attach(br_kafka_t *k)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(br_kafka_add_connection(k, sv[0]), SM_OK);
    return sv[1];
}

/* Sends body (n raw bytes) as request (key, ver, corr) with client id "test"; `flexible` adds
 * the request header v2's empty tag section. */
static inline void kc_send(int fd, int16_t key, int16_t ver, int32_t corr, bool flexible,
                           const void *body, size_t n)
{
    sm_writer_t w;
    sm_writer_init(&w, 0);
    size_t at = sm_writer_reserve(&w, 4);
    sm_writer_i16(&w, key);
    sm_writer_i16(&w, ver);
    sm_writer_i32(&w, corr);
    sm_writer_str(&w, sm_str_of("test"));
    if (flexible)
        sm_writer_empty_tags(&w);
    sm_writer_raw(&w, body, n);
    sm_writer_patch_i32(&w, at, (int32_t)(sm_writer_len(&w) - 4));
    cr_assert_eq(sm_writer_err(&w), SM_OK);
    cr_assert_eq(write(fd, sm_writer_data(&w), sm_writer_len(&w)), (ssize_t)sm_writer_len(&w));
    sm_writer_deinit(&w);
}

/* Runs base's loop until a whole response frame is readable on fd or ms pass. Returns the
 * frame (after the size, starting with the correlation id; caller frees) or NULL; *closed (may
 * be NULL) is set when the peer closed the socket. */
static inline uint8_t *kc_recv(struct event_base *base, int fd, int ms, size_t *len, bool *closed)
{
    uint8_t *buf = malloc(4);
    size_t have = 0, need = 4;
    int64_t end = kc_mono_ms() + ms;

    if (closed != NULL)
        *closed = false;
    while (kc_mono_ms() < end) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 5) <= 0)
            continue;
        ssize_t n = recv(fd, buf + have, need - have, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            if (closed != NULL)
                *closed = true;
            break;
        }
        if (n < 0)
            continue;
        have += (size_t)n;
        bool sized = have > 4 || need > 4;
        if (have == 4 && need == 4) {
            need = 4 + (size_t)(((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) |
                                ((uint32_t)buf[2] << 8) | buf[3]);
            buf = realloc(buf, need);
            sized = true;
        }
        if (sized && have == need) {
            memmove(buf, buf + 4, need - 4);
            *len = need - 4;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* kc_recv into buf (cap bytes): the frame's length, -1 when the peer closed or reset the
 * connection, -2 when no whole frame came within ms. */
static inline int kc_recv_into(struct event_base *base, int fd, int ms, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    bool closed = false;
    uint8_t *f = kc_recv(base, fd, ms, &len, &closed);

    if (f == NULL)
        return closed ? -1 : -2;
    cr_assert_leq(len, cap, "a %zu-byte frame for a %zu-byte buffer", len, cap);
    memcpy(buf, f, len);
    free(f);
    return (int)len;
}

#endif
