/*
 * test_conn.c - a followed connection driven directly: header injection
 * under every write size and every kernel acceptance size, the counts the
 * program sees, context from an inbound request, copied and own headers,
 * pipelining, and letting go of what is not HTTP.
 *
 * The "kernel" is a function that takes at most `limit` bytes per call and
 * records them, so the exact bytes on the wire are checked.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"
#include "unit_config.h"
#include "wire.h"

static int pair[2];

static int follow_client(void)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(8080);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    ss_conn_on_connect(pair[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    assert_true(ss_fd_followed(pair[0]));
    return pair[0];
}

static void unfollow(void)
{
    ss_conn_on_close(pair[0]);
    ss_conn_on_close(pair[1]);
    close(pair[0]);
    close(pair[1]);
    ss_conn_thread_reset();
}

/* The wire must be msg with exactly one header line added before the empty
 * line that ends the head; returns that line's value. */
static void expect_injected(const char *msg, size_t len, const wire_t *w, char *value)
{
    const char *end = strstr(msg, "\r\n\r\n");
    size_t head = (size_t)(end - msg) + 2, line;
    const char *tp;

    assert_true(w->len > len);
    assert_memory_equal(w->out, msg, head);
    tp = w->out + head;
    assert_memory_equal(tp, "traceparent: ", 13);
    line = (size_t)(strstr(tp, "\r\n") - tp) + 2;
    assert_int_equal(w->len, len + line);
    assert_memory_equal(w->out + head + line, msg + head, len - head);
    memcpy(value, tp + 13, 55);
    value[55] = '\0';
}

static void test_inject_every_split(void **state)
{
    static const char req[] = "POST /orders HTTP/1.1\r\nHost: shop:8080\r\n"
                              "Content-Length: 10\r\n\r\n0123456789";
    size_t chunks[] = {1, 2, 5, 17, 64, sizeof(req) - 1};
    size_t limits[] = {1, 3, 13, 40, 4096};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
            static wire_t w;
            char tp[56];
            int fd = follow_client();

            memset(&w, 0, sizeof(w));
            w.limit = limits[j];
            wire_app_send(fd, req, sizeof(req) - 1, chunks[i], &w);
            expect_injected(req, sizeof(req) - 1, &w, tp);
            assert_memory_equal(tp, "00-", 3);
            assert_memory_equal(tp + 52, "-03", 3); /* sampled, random trace id */
            unfollow();
        }
    }
}

static void test_nonblocking_partial_header(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static wire_t w;
    char tp[56];
    int fd = follow_client();

    (void)state;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    memset(&w, 0, sizeof(w));
    w.limit = 7; /* the kernel takes a few bytes at a time */
    wire_app_send(fd, req, sizeof(req) - 1, sizeof(req) - 1, &w);
    expect_injected(req, sizeof(req) - 1, &w, tp);
    unfollow();
}

/* A blocking socket sends everything it is given, however the kernel takes
 * it and however many iovecs there are (more than one plan holds). */
static void test_blocking_sends_everything(void **state)
{
    static const char req[] = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
                              "0123456789012345678901234567890123456789012345678901234567890123456789"
                              "012345678901234567890123456789";
    struct iovec iov[sizeof(req) - 1];
    static wire_t w;
    char tp[56];
    size_t i;
    int fd = follow_client();

    (void)state;
    for (i = 0; i < sizeof(req) - 1; i++) {
        iov[i].iov_base = (void *)(req + i);
        iov[i].iov_len = 1;
    }
    memset(&w, 0, sizeof(w));
    w.limit = 7;
    assert_int_equal(ss_conn_send(fd, iov, (int)(sizeof(req) - 1), 0, wire_send, &w),
                     sizeof(req) - 1);
    expect_injected(req, sizeof(req) - 1, &w, tp);
    unfollow();
}

static void test_pipelined_requests(void **state)
{
    static const char two[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    static wire_t w;
    const char *p;
    int fd = follow_client(), n = 0;

    (void)state;
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, two, sizeof(two) - 1, sizeof(two) - 1, &w);
    w.out[w.len] = '\0';
    for (p = w.out; (p = strstr(p, "\r\ntraceparent: 00-")) != NULL; p++)
        n++;
    assert_int_equal(n, 2);
    assert_int_equal(w.len, sizeof(two) - 1 + 2 * (13 + 55 + 2));
    unfollow();
}

static void test_own_traceparent_untouched(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n"
                              "traceparent: 00-11111111111111111111111111111111-2222222222222222-01\r\n\r\n";
    static wire_t w;
    int fd = follow_client();

    (void)state;
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, 9, &w);
    assert_int_equal(w.len, sizeof(req) - 1);
    assert_memory_equal(w.out, req, w.len);
    unfollow();
}

/* A server request sets this thread's context; a request sent while
 * serving continues its trace, and a copy of the inbound header is replaced.
 * serve_open leaves the request in flight on sp[0] (no response yet). */
static void serve_open(const char *inbound_tp, const char *inbound_ts, int sp[2])
{
    char req[1024];
    struct iovec v;
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    ss_conn_on_accept(sp[0], (struct sockaddr *)&sa, sizeof(sa));
    snprintf(req, sizeof(req), "GET /in HTTP/1.1\r\nHost: me\r\ntraceparent: %s\r\n%s%s%s\r\n",
             inbound_tp, inbound_ts ? "tracestate: " : "", inbound_ts ? inbound_ts : "",
             inbound_ts ? "\r\n" : "");
    v.iov_base = req;
    v.iov_len = strlen(req);
    ss_conn_on_recv(sp[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
}

static void serve_ts(const char *inbound_tp, const char *inbound_ts)
{
    int sp[2];

    serve_open(inbound_tp, inbound_ts, sp);
    close(sp[0]);
    close(sp[1]);
}

static void serve_close(int sp[2])
{
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
}

static void serve(const char *inbound_tp)
{
    serve_ts(inbound_tp, NULL);
}

/* What goes on the wire for a plain request sent while serving. */
static const char *outgoing_while_serving(const char *tp, const char *ts)
{
    static const char req[] = "GET /out HTTP/1.1\r\nHost: b\r\n\r\n";
    static wire_t w;
    int fd;

    serve_ts(tp, ts);
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, sizeof(req) - 1, &w);
    w.out[w.len] = '\0';
    unfollow();
    return w.out;
}

/* Rules of the processing model that need a whole exchange. */
static void test_context_processing_model(void **state)
{
    static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03";
    const char *out;

    (void)state;
    /* tracestate goes on with the continued trace, byte-exact. */
    out = outgoing_while_serving(tp, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
    assert_non_null(strstr(out, "traceparent: 00-0af7651916cd43dd8448eb211c80319c-"));
    assert_non_null(strstr(out, "-03\r\ntracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r\n\r\n"));
    /* A continued trace keeps the random flag exactly as received. */
    out = outgoing_while_serving("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL);
    assert_non_null(strstr(out, "-01\r\n\r\n"));
    /* A bad tracestate never invalidates traceparent: the trace goes on without it. */
    out = outgoing_while_serving(tp, "Bad=1");
    assert_non_null(strstr(out, "traceparent: 00-0af7651916cd43dd8448eb211c80319c-"));
    assert_null(strstr(out, "tracestate"));
    /* Invalid traceparent: a new trace, and tracestate is not even parsed. */
    out = outgoing_while_serving("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
                                 "congo=t61rcWkgMzE");
    assert_null(strstr(out, "0af7651916cd43dd8448eb211c80319c"));
    assert_non_null(strstr(out, "traceparent: 00-"));
    assert_null(strstr(out, "tracestate"));
    assert_non_null(strstr(out, "-03\r\n\r\n")); /* new random trace, sampled */
}

static void test_child_of_inbound_request(void **state)
{
    static const char in[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    static const char req[] = "GET /out HTTP/1.1\r\nHost: b\r\n\r\n";
    static wire_t w;
    ss_ctx_t cur;
    char tp[56], hex[17];
    int fd;

    (void)state;
    serve(in);
    assert_true(ss_conn_thread_ctx(&cur));
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, 5, &w);
    expect_injected(req, sizeof(req) - 1, &w, tp);
    assert_memory_equal(tp + 3, in + 3, 32);      /* same trace */
    assert_memory_not_equal(tp + 36, in + 36, 16); /* a new parent id: the client span */
    ss_hex(cur.span_id, 8, hex);
    assert_memory_not_equal(tp + 36, hex, 16);
    assert_memory_equal(tp + 53, "01", 2);         /* no random flag was received */
    unfollow();
}

static void test_copied_traceparent_replaced(void **state)
{
    static const char in[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    char req[256];
    static wire_t w;
    size_t len;
    int fd;

    (void)state;
    serve(in);
    len = (size_t)snprintf(req, sizeof(req),
                           "GET /fwd HTTP/1.1\r\nHost: up\r\ntraceparent: %s\r\nX: 1\r\n\r\n", in);
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 11;
    wire_app_send(fd, req, len, len, &w);
    assert_int_equal(w.len, len);                  /* same length: replaced in place */
    assert_null(memmem(w.out, w.len, in, 55));     /* the copy is gone */
    assert_non_null(memmem(w.out, w.len, in, 35)); /* same trace id */
    assert_memory_equal(w.out, req, (size_t)(strstr(req, in) - req));
    unfollow();
}

/* An event loop reads request A, then B, then sends A's upstream request
 * (a proxy copying A's headers): it belongs to A, not to the last one read. */
static void test_event_loop_copy_names_its_request(void **state)
{
    static const char a[] = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01";
    static const char b[] = "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bbbbbbbbbbbbbbbb-01";
    char req[256];
    static wire_t w;
    size_t len;
    int fd;

    (void)state;
    serve(a);
    serve(b);
    len = (size_t)snprintf(req, sizeof(req), "GET /up HTTP/1.1\r\nHost: up\r\ntraceparent: %s\r\n\r\n", a);
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, len, len, &w);
    assert_int_equal(w.len, len);
    assert_non_null(memmem(w.out, w.len, "traceparent: 00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-", 48));
    assert_null(memmem(w.out, w.len, a, 55));
    unfollow();
}

/* A request whose traceparent is the Node module's hint, naming the
 * request read first on fd in_fd; what goes on the wire, NUL-ended. */
static const char *send_hinted(int in_fd, unsigned seq)
{
    char req[256];
    static wire_t w;
    size_t len;
    int fd;

    len = (size_t)snprintf(req, sizeof(req),
                           "GET /up HTTP/1.1\r\nHost: up\r\n"
                           "traceparent: 00-5350414e5348494d%08x00000000-00000000%08x-00\r\n\r\n",
                           (unsigned)in_fd, seq);
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 9;
    wire_app_send(fd, req, len, len, &w);
    assert_int_equal(w.len, len); /* replaced in place */
    assert_memory_equal(w.out, req, (size_t)(strstr(req, "00-5350") - req));
    w.out[w.len] = '\0';
    assert_null(strstr(w.out, "5350414e5348494d"));
    unfollow();
    return w.out;
}

/* An event loop serves A and B at once; the hint names which one sends. */
static void test_hint_names_its_request(void **state)
{
    static const char a[] = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01";
    static const char b[] = "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bbbbbbbbbbbbbbbb-01";
    int sa[2], sb[2];

    (void)state;
    serve_open(a, NULL, sa);
    serve_open(b, NULL, sb);
    assert_non_null(strstr(send_hinted(sa[0], 1), "traceparent: 00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"));
    assert_non_null(strstr(send_hinted(sb[0], 1), "traceparent: 00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-"));
    /* No second request on A's connection: a new trace, a valid header. */
    assert_null(strstr(send_hinted(sa[0], 2), "aaaaaaaaaaaaaaaa"));
    serve_close(sa);
    serve_close(sb);
}

/* A hint naming nothing being served (the connection closed, or no such
 * fd) still gives way to a valid traceparent of a new trace. */
static void test_hint_unresolved_replaced(void **state)
{
    static const char a[] = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01";
    const char *out;
    int sa[2], in_fd;
    ss_ctx_t ctx;

    (void)state;
    serve_open(a, NULL, sa);
    in_fd = sa[0];
    serve_close(sa);
    out = send_hinted(in_fd, 1);
    assert_null(strstr(out, "aaaaaaaaaaaaaaaa"));
    assert_true(ss_tp_parse(strstr(out, "traceparent: ") + 13, 55, &ctx));
    out = send_hinted(-1, 1); /* the module's "connection closed" */
    assert_true(ss_tp_parse(strstr(out, "traceparent: ") + 13, 55, &ctx));
}

/* Without a hint, a thread serving two requests at once guesses neither. */
static void test_several_in_flight_no_parent(void **state)
{
    static const char a[] = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01";
    static const char b[] = "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bbbbbbbbbbbbbbbb-01";
    static const char req[] = "GET /out HTTP/1.1\r\nHost: b\r\n\r\n";
    static wire_t w;
    char tp[56];
    int sa[2], sb[2], fd;
    ss_ctx_t cur;

    (void)state;
    serve_open(a, NULL, sa);
    serve_open(b, NULL, sb);
    assert_false(ss_conn_thread_ctx(&cur));
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, sizeof(req) - 1, &w);
    expect_injected(req, sizeof(req) - 1, &w, tp);
    assert_memory_not_equal(tp + 3, a + 3, 32);
    assert_memory_not_equal(tp + 3, b + 3, 32);
    serve_close(sa); /* one left in flight: it is the parent again */
    assert_true(ss_conn_thread_ctx(&cur));
    unfollow();
    serve_close(sb);
}

static void test_not_http_let_go(void **state)
{
    static const char resp_cmd[] = "*1\r\n$4\r\nPING\r\n";
    static wire_t w;
    int fd = follow_client();

    (void)state;
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, resp_cmd, sizeof(resp_cmd) - 1, sizeof(resp_cmd) - 1, &w);
    assert_int_equal(w.len, sizeof(resp_cmd) - 1);
    assert_memory_equal(w.out, resp_cmd, w.len);
    assert_false(ss_fd_followed(fd)); /* no further cost */
    unfollow();
}

static void test_propagation_off(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static wire_t w;
    int fd;

    (void)state;
    ss_cfg.propagate = 0;
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, 3, &w);
    assert_int_equal(w.len, sizeof(req) - 1);
    ss_cfg.propagate = 1;
    unfollow();
}

static void test_unsampled_still_propagated(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static wire_t w;
    char tp[56];
    int fd;

    (void)state;
    ss_cfg.sampler.kind = SS_SAMPLER_ALWAYS_OFF;
    fd = follow_client();
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, req, sizeof(req) - 1, sizeof(req) - 1, &w);
    expect_injected(req, sizeof(req) - 1, &w, tp);
    assert_memory_equal(tp + 53, "02", 2); /* not sampled; random id flag only */
    ss_cfg.sampler.kind = SS_SAMPLER_PB_ALWAYS_ON;
    unfollow();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inject_every_split),
        cmocka_unit_test(test_nonblocking_partial_header),
        cmocka_unit_test(test_blocking_sends_everything),
        cmocka_unit_test(test_pipelined_requests),
        cmocka_unit_test(test_own_traceparent_untouched),
        cmocka_unit_test(test_child_of_inbound_request),
        cmocka_unit_test(test_context_processing_model),
        cmocka_unit_test(test_copied_traceparent_replaced),
        cmocka_unit_test(test_event_loop_copy_names_its_request),
        cmocka_unit_test(test_hint_names_its_request),
        cmocka_unit_test(test_hint_unresolved_replaced),
        cmocka_unit_test(test_several_in_flight_no_parent),
        cmocka_unit_test(test_not_http_let_go),
        cmocka_unit_test(test_propagation_off),
        cmocka_unit_test(test_unsampled_still_propagated),
    };

    return cmocka_run_group_tests_name("conn", tests, unit_config_setup, NULL);
}
