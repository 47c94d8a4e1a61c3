/*
 * test_stream: sm_stream over socketpairs and loopback TCP -- whole reads in few wake-ups, the
 * read limit, EOF after the last bytes, write-through flushes, backpressure and on_drained,
 * sendfile chains, connect success and refusal, and freeing inside a callback.
 */
#include "sm_stream.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct rec {
    int reads, drained, connected, closes, close_err;
    bool free_on_read, free_on_close;
    sm_stream_t *s;
} rec_t;

static void rec_on_read(sm_stream_t *s, void *arg)
{
    rec_t *r = arg;

    r->reads++;
    if (r->free_on_read) {
        sm_stream_free(s);
        r->s = NULL;
    }
}

static void rec_on_drained(sm_stream_t *s, void *arg)
{
    (void)s;
    ((rec_t *)arg)->drained++;
}

static void rec_on_connected(sm_stream_t *s, void *arg)
{
    (void)s;
    ((rec_t *)arg)->connected++;
}

static void rec_on_close(sm_stream_t *s, int err, void *arg)
{
    rec_t *r = arg;

    r->closes++;
    r->close_err = err;
    if (r->free_on_close) {
        sm_stream_free(s);
        r->s = NULL;
    }
}

static const sm_stream_cbs_t rec_cbs = {rec_on_read, rec_on_drained, rec_on_connected,
                                        rec_on_close};

static struct event_base *base;

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    cr_assert_not_null(base);
}

static void teardown(void)
{
    event_base_free(base);
}

TestSuite(stream, .init = setup, .fini = teardown);

/* One loop iteration, blocking at most 10 ms. */
static void run_once(void)
{
    struct timeval tv = {0, 10000};

    event_base_loopexit(base, &tv);
    event_base_loop(base, EVLOOP_ONCE);
}

/* Runs the loop until cond holds or 200 iterations passed. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        for (int it_ = 0; it_ < 200 && !(cond); it_++)                                             \
            run_once();                                                                            \
    } while (0)

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        cr_assert_gt(n, 0, "write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static size_t read_avail(int fd, char *buf, size_t cap)
{
    size_t got = 0;

    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - got);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

Test(stream, reads_everything_the_socket_holds_in_one_wake_up)
{
    int sv[2];
    rec_t r = {0};
    static char data[200000];

    pair(sv);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7);
    /* A socketpair's buffer holds this much without a reader (the default is about 200 KiB). */
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    write_all(sv[1], data, 100000);
    RUN_UNTIL(evbuffer_get_length(sm_stream_input(r.s)) == 100000);
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 100000);
    cr_assert_eq(r.reads, 1, "100,000 waiting bytes came in %d wake-ups, not one", r.reads);
    cr_assert_eq(memcmp(evbuffer_pullup(sm_stream_input(r.s), -1), data, 100000), 0);
    sm_stream_free(r.s);
    close(sv[1]);
}

Test(stream, read_limit_stops_reading_until_the_input_drains)
{
    int sv[2];
    rec_t r = {0};
    char data[5000];

    pair(sv);
    memset(data, 'a', sizeof(data));
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    sm_stream_set_read_limit(r.s, 1000);
    write_all(sv[1], data, sizeof(data));
    RUN_UNTIL(r.reads > 0);
    RUN_UNTIL(r.reads > 1); /* no further read may come: the input is at its limit */
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 1000);
    cr_assert_eq(r.reads, 1);
    evbuffer_drain(sm_stream_input(r.s), 1000);
    sm_stream_read_enable(r.s, true);
    RUN_UNTIL(r.reads > 1);
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 1000);
    sm_stream_read_enable(r.s, false);
    evbuffer_drain(sm_stream_input(r.s), 1000);
    RUN_UNTIL(r.reads > 2); /* disabled: nothing more */
    cr_assert_eq(r.reads, 2);
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 0);
    sm_stream_free(r.s);
    close(sv[1]);
}

Test(stream, eof_comes_after_the_last_bytes)
{
    int sv[2];
    rec_t r = {0};

    pair(sv);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    write_all(sv[1], "bye", 3);
    close(sv[1]);
    RUN_UNTIL(r.closes > 0);
    cr_assert_eq(r.reads, 1);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(r.close_err, 0, "EOF is err 0, got %d", r.close_err);
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 3);
    RUN_UNTIL(r.closes > 1); /* inert: on_close runs once */
    cr_assert_eq(r.closes, 1);
    sm_stream_free(r.s);
}

Test(stream, flush_writes_at_once_without_the_loop)
{
    int sv[2];
    rec_t r = {0};
    char buf[64];

    pair(sv);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    evbuffer_add(sm_stream_output(r.s), "hello", 5);
    sm_stream_flush(r.s);
    cr_assert_eq(evbuffer_get_length(sm_stream_output(r.s)), 0);
    cr_assert_eq(read_avail(sv[1], buf, sizeof(buf)), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(r.drained, 0, "a flush that wrote everything does not call on_drained");
    sm_stream_free(r.s);
    close(sv[1]);
}

Test(stream, output_the_socket_refuses_leaves_when_writable)
{
    int sv[2];
    rec_t r = {0};
    size_t total = 4u * 1024 * 1024, got = 0;
    char *big = malloc(total), *back = malloc(total);

    cr_assert(big != NULL && back != NULL);
    pair(sv);
    for (size_t i = 0; i < total; i++)
        big[i] = (char)(i % 251);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    evbuffer_add(sm_stream_output(r.s), big, total);
    sm_stream_flush(r.s);
    cr_assert_gt(evbuffer_get_length(sm_stream_output(r.s)), 0, "4 MiB fit a socketpair?");
    for (int i = 0; i < 2000 && got < total; i++) {
        got += read_avail(sv[1], back + got, total - got);
        run_once();
    }
    RUN_UNTIL(r.drained > 0);
    got += read_avail(sv[1], back + got, total - got);
    cr_assert_eq(got, total);
    cr_assert_eq(memcmp(big, back, total), 0);
    cr_assert_eq(r.drained, 1);
    sm_stream_free(r.s);
    close(sv[1]);
    free(big);
    free(back);
}

Test(stream, file_segments_leave_by_sendfile)
{
    int sv[2];
    rec_t r = {0};
    char path[] = "/tmp/test_stream.XXXXXX", buf[64];
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    unlink(path);
    write_all(fd, "0123456789", 10);
    pair(sv);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    evbuffer_add(sm_stream_output(r.s), "<", 1);
    cr_assert_eq(evbuffer_add_file(sm_stream_output(r.s), fd, 2, 5), 0); /* owns fd */
    evbuffer_add(sm_stream_output(r.s), ">", 1);
    sm_stream_flush(r.s);
    cr_assert_eq(read_avail(sv[1], buf, sizeof(buf)), 7);
    cr_assert_eq(memcmp(buf, "<23456>", 7), 0);
    sm_stream_free(r.s);
    close(sv[1]);
}

/* The process's virtual size in KiB (VmSize). */
static long vm_size_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmSize: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

Test(stream, bytes_after_a_far_file_slice_take_a_small_chain)
{
    char path[] = "/tmp/test_stream.XXXXXX";
    int fd = mkstemp(path);
    struct evbuffer *b = evbuffer_new();
    off_t far = (off_t)512 * 1024 * 1024;
    long before;

    cr_assert_geq(fd, 0);
    unlink(path);
    cr_assert_eq(ftruncate(fd, far + 4096), 0); /* sparse: no disk used */
    (void)evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
    cr_assert_eq(evbuffer_add_file(b, fd, far, 100), 0); /* owns fd */
    before = vm_size_kib();
    cr_assert_eq(sm_stream_append(b, "tail", 4), 0);
    cr_assert_lt(vm_size_kib() - before, 64 * 1024,
                 "4 bytes after a slice ending at 512 MiB grew the process by %ld KiB",
                 vm_size_kib() - before);
    cr_assert_eq(evbuffer_get_length(b), 104);
    evbuffer_free(b);
}

Test(stream, a_write_to_a_closed_peer_is_reported_from_the_loop)
{
    int sv[2];
    rec_t r = {0};

    pair(sv);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    sm_stream_read_enable(r.s, false); /* so the close is learnt by writing */
    close(sv[1]);
    evbuffer_add(sm_stream_output(r.s), "x", 1);
    sm_stream_flush(r.s);
    cr_assert_eq(r.closes, 0, "never from inside sm_stream_flush");
    RUN_UNTIL(r.closes > 0);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(r.close_err, EPIPE, "got %d", r.close_err);
    sm_stream_free(r.s);
}

static int listener(struct sockaddr_in *sa)
{
    socklen_t len = sizeof(*sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)sa, sizeof(*sa)), 0);
    cr_assert_eq(listen(lfd, 4), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)sa, &len), 0);
    return lfd;
}

Test(stream, connect_then_queued_output_leaves)
{
    struct sockaddr_in sa;
    int lfd = listener(&sa), cfd;
    rec_t r = {0};
    char buf[16];

    cr_assert_eq(sm_stream_connect(base, (struct sockaddr *)&sa, sizeof(sa), &rec_cbs, &r, &r.s),
                 SM_OK);
    cr_assert_not(sm_stream_connected(r.s));
    evbuffer_add(sm_stream_output(r.s), "ping", 4);
    sm_stream_flush(r.s); /* nothing yet: connecting */
    cr_assert_eq(r.connected, 0, "never from inside sm_stream_connect");
    RUN_UNTIL(r.connected > 0);
    cr_assert_eq(r.connected, 1);
    cr_assert(sm_stream_connected(r.s));
    cfd = accept(lfd, NULL, NULL);
    cr_assert_geq(cfd, 0);
    RUN_UNTIL(evbuffer_get_length(sm_stream_output(r.s)) == 0);
    cr_assert_eq(read_avail(cfd, buf, sizeof(buf)), 4);
    write_all(cfd, "pong", 4);
    RUN_UNTIL(r.reads > 0);
    cr_assert_eq(evbuffer_get_length(sm_stream_input(r.s)), 4);
    sm_stream_free(r.s);
    close(cfd);
    close(lfd);
}

Test(stream, a_refused_connect_closes_with_its_error)
{
    struct sockaddr_in sa;
    int lfd = listener(&sa);
    rec_t r = {.free_on_close = true};

    close(lfd); /* nobody listens on that port now */
    cr_assert_eq(sm_stream_connect(base, (struct sockaddr *)&sa, sizeof(sa), &rec_cbs, &r, &r.s),
                 SM_OK);
    RUN_UNTIL(r.closes > 0);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(r.close_err, ECONNREFUSED, "got %d", r.close_err);
    cr_assert_eq(r.connected, 0);
    cr_assert_null(r.s, "freed inside on_close");
}

Test(stream, free_inside_on_read_is_safe_even_with_eof_pending)
{
    int sv[2];
    rec_t r = {.free_on_read = true};

    pair(sv);
    cr_assert_eq(sm_stream_new(base, sv[0], &rec_cbs, &r, &r.s), SM_OK);
    write_all(sv[1], "last", 4);
    close(sv[1]);
    RUN_UNTIL(r.reads > 0);
    cr_assert_eq(r.reads, 1);
    cr_assert_null(r.s);
    cr_assert_eq(r.closes, 0, "a freed stream reports nothing more");
    RUN_UNTIL(false);
}
