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
#include "../../preload/ss_log.h"
#include "unit_config.h"
#include "wire.h"

static int pair[2];

static int follow_client(void)
{
    assert_int_equal(wire_pair(pair, 0, 8080), 0);
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

    assert_int_equal(wire_pair(sp, 1, 0), 0);
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
    static const char resp_cmd[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"; /* no protocol of the table */
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

/* A Redis inline command reads like a request line up to its end, which
 * has no " HTTP/": it is Redis's, written in any pieces; an HTTP request
 * line whose end detection does not see yet is still HTTP's. */
static void test_inline_command_not_http(void **state)
{
    static const char cmd[] = "SET greeting hello\r\n";
    static const char req[] = "GET /a-rather-long-path/that/goes/on/and/on/past/what/detection/keeps?x=1 "
                              "HTTP/1.1\r\nHost: a\r\n\r\n";
    static wire_t w;
    size_t chunk;

    (void)state;
    for (chunk = 1; chunk <= sizeof(cmd) - 1; chunk++) {
        uint64_t db = ss_count.conns_db, injected = ss_count.headers_injected;
        int fd = follow_client();

        memset(&w, 0, sizeof(w));
        w.limit = 4096;
        wire_app_send(fd, cmd, sizeof(cmd) - 1, chunk, &w);
        assert_int_equal(w.len, sizeof(cmd) - 1);
        assert_memory_equal(w.out, cmd, w.len);
        assert_int_equal(ss_count.conns_db, db + 1);
        assert_true(ss_fd_followed(fd));
        unfollow();

        fd = follow_client();
        memset(&w, 0, sizeof(w));
        w.limit = 4096;
        wire_app_send(fd, req, sizeof(req) - 1, chunk, &w);
        assert_int_equal(ss_count.headers_injected, injected + 1);
        unfollow();
    }
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

/* ---- heads written in pieces ------------------------------------------ */

/* A proxy's head: the copied traceparent among other lines (tinyproxy's
 * order), or none. Each piece is written by one call. */
#define PIECES_IN "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
static const char pieces_copy[] = "GET /fwd HTTP/1.1\r\nHost: up:81\r\nConnection: close\r\n"
                                  "Via: 1.1 t\r\ntraceparent: " PIECES_IN "\r\nAccept: */*\r\n\r\n";
static const char pieces_plain[] = "GET /fwd HTTP/1.1\r\nHost: up:81\r\nConnection: close\r\n"
                                   "Via: 1.1 t\r\nAccept: */*\r\n\r\n";

typedef struct pieces_run {
    wire_t w;
    char span_hex[17], parent_hex[17];
    int pending, sampled, has_parent;
} pieces_run_t;

/* The wire with the one traceparent value in it masked (ids are random). */
static void mask_tp(wire_t *w)
{
    char *v = memmem(w->out, w->len, "traceparent: ", 13);

    assert_non_null(v);
    assert_true((size_t)(v - w->out) + 13 + 55 <= w->len);
    memset(v + 13, 'x', 55);
}

/* Write msg in the pieces that cuts[0..n) end, each in one call: a blocking
 * socket takes every piece whole, a non-blocking one is written again after
 * a short count or EAGAIN, as programs do. The kernel takes `limit` bytes
 * per call. The request's span is looked at before the connection ends. */
static void send_pieces(const char *msg, size_t len, const size_t *cuts, int n, size_t limit,
                        int nonblock, pieces_run_t *run)
{
    int fd = follow_client(), i;
    size_t from = 0;
    ss_conn_t *c;

    memset(run, 0, sizeof(*run));
    run->w.limit = limit;
    if (nonblock)
        fcntl(fd, F_SETFL, O_NONBLOCK);
    for (i = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;

        if (nonblock) {
            wire_app_send(fd, msg + from, to - from, to - from, &run->w);
        } else {
            struct iovec v = {(void *)(msg + from), to - from};

            assert_int_equal(ss_conn_send(fd, &v, 1, 0, wire_send, &run->w), to - from);
        }
        from = to;
    }
    c = ss_fd_get(fd);
    assert_non_null(c);
    run->pending = c->pending;
    if (c->q_head) {
        run->sampled = c->q_head->sampled;
        run->has_parent = c->q_head->has_parent;
        ss_hex(c->q_head->ctx.span_id, 8, run->span_hex);
        ss_hex(c->q_head->parent_id, 8, run->parent_hex);
    }
    ss_conn_put(c);
    ss_conn_on_close(pair[0]);
    close(pair[0]);
    close(pair[1]);
}

/* One split against the whole write: the same bytes on the wire apart from
 * the random ids, one sampled CLIENT span, and its id in the header; a
 * copy is replaced by a child of the request being served. */
static void expect_as_whole(const char *msg, size_t len, const pieces_run_t *whole,
                            const size_t *cuts, int n, size_t limit, int nonblock,
                            const char *server_hex)
{
    static pieces_run_t run;
    uint64_t replaced = ss_count.headers_replaced, own = ss_count.headers_own;
    const char *v;

    send_pieces(msg, len, cuts, n, limit, nonblock, &run);
    v = memmem(run.w.out, run.w.len, "traceparent: ", 13);
    assert_non_null(v);
    assert_memory_equal(v + 13 + 36, run.span_hex, 16);
    if (server_hex) {
        assert_memory_equal(v + 13, PIECES_IN, 36); /* same trace */
        assert_true(run.has_parent);
        assert_memory_equal(run.parent_hex, server_hex, 16);
        assert_int_equal(ss_count.headers_replaced, replaced + 1);
    }
    assert_int_equal(ss_count.headers_own, own);
    assert_int_equal(run.pending, 1);
    assert_true(run.sampled);
    mask_tp(&run.w);
    if (run.w.len != whole->w.len || memcmp(run.w.out, whole->w.out, run.w.len) != 0)
        fail_msg("cut at %zu %zu (limit %zu, %s): the wire differs from the whole head's",
                 cuts[0], n > 1 ? cuts[1] : 0, limit, nonblock ? "non-blocking" : "blocking");
}

/* Every split of msg into 2 and 3 pieces, and one line per write. */
static void every_split(const char *msg, const char *server_hex)
{
    static pieces_run_t whole;
    size_t len = strlen(msg), cuts[64], i, j, k;
    static const size_t limits[] = {1, 7, 4096};
    int n = 0;

    send_pieces(msg, len, NULL, 0, 4096, 0, &whole);
    assert_int_equal(whole.w.len, len + (server_hex ? 0 : 13 + 55 + 2));
    mask_tp(&whole.w);
    for (i = 1; i < len; i++)
        for (k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
            expect_as_whole(msg, len, &whole, &i, 1, limits[k], 0, server_hex);
            expect_as_whole(msg, len, &whole, &i, 1, limits[k], 1, server_hex);
        }
    for (i = 1; i < len; i++)
        for (j = i + 1; j < len; j++) {
            cuts[0] = i;
            cuts[1] = j;
            expect_as_whole(msg, len, &whole, cuts, 2, 4096, 0, server_hex);
            expect_as_whole(msg, len, &whole, cuts, 2, 3, 1, server_hex);
        }
    for (i = 0; i + 1 < len; i++) /* one header line per write, "\r\n" last */
        if (msg[i] == '\r' && msg[i + 1] == '\n')
            cuts[n++] = i + 2;
    n--; /* the last line end is the message's end */
    expect_as_whole(msg, len, &whole, cuts, n, 4096, 0, server_hex);
    expect_as_whole(msg, len, &whole, cuts, n, 2, 1, server_hex);
}

static void test_pieces_copy_replaced(void **state)
{
    ss_ctx_t cur;
    char hex[17];

    (void)state;
    serve(PIECES_IN);
    assert_true(ss_conn_thread_ctx(&cur));
    ss_hex(cur.span_id, 8, hex);
    every_split(pieces_copy, hex);
    ss_conn_thread_reset();
}

static void test_pieces_header_added(void **state)
{
    (void)state;
    serve(PIECES_IN); /* a request being served: there is something to hold for */
    every_split(pieces_plain, NULL);
    ss_conn_thread_reset();
}

/* A traceparent the program set itself, written in pieces, goes as it is
 * and the span is the program's own. */
static void test_pieces_own_untouched(void **state)
{
    static const char own[] = "GET / HTTP/1.1\r\nHost: a\r\n"
                              "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-2222222222222222-01\r\n\r\n";
    static pieces_run_t run;
    size_t len = sizeof(own) - 1, i;
    uint64_t before;

    (void)state;
    serve(PIECES_IN); /* same trace, other parent: a prefix matches for a while */
    for (i = 1; i < len; i++) {
        before = ss_count.headers_own;
        send_pieces(own, len, &i, 1, 5, 0, &run);
        assert_int_equal(run.w.len, len);
        assert_memory_equal(run.w.out, own, len);
        assert_false(run.sampled);
        assert_int_equal(ss_count.headers_own, before + 1);
    }
    ss_conn_thread_reset();
}

/* A write that ends inside a value that may be a copy is told it all went
 * out; if the program closes then, the bytes held back still go first. */
/* While a request with PIECES_IN is served, write part (it ends inside a
 * value that may be a copy): it is all told as sent, and its last `held`
 * bytes, the value's, wait. */
static int send_held(const char *part, size_t held, size_t limit, wire_t *w)
{
    struct iovec v = {(void *)part, strlen(part)};
    int fd;

    serve(PIECES_IN);
    fd = follow_client();
    memset(w, 0, sizeof(*w));
    w->limit = limit;
    assert_int_equal(ss_conn_send(fd, &v, 1, 0, wire_send, w), v.iov_len);
    assert_int_equal(w->len, v.iov_len - held);
    assert_memory_equal(w->out, part, w->len);
    return fd;
}

static void test_pieces_held_sent_at_close(void **state)
{
    static const char part[] = "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f3577b34da6";
    static wire_t w;
    char got[64];
    int fd;

    (void)state;
    fd = send_held(part, 19, 4096, &w);
    ss_conn_on_close(fd);
    assert_int_equal(read(pair[1], got, sizeof(got)), 19);
    assert_memory_equal(got, part + w.len, 19);
    close(pair[0]);
    close(pair[1]);
    ss_conn_thread_reset();
}

/* Bytes held back go first when what follows shows the stream is not HTTP,
 * and the connection is let go only after them. */
static void test_pieces_held_then_not_http(void **state)
{
    static const char part[] = "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f35";
    static const char rest[] = "\0\1\2 not HTTP";
    static wire_t w;
    struct iovec v = {(void *)rest, sizeof(rest) - 1};
    int fd;

    (void)state;
    fd = send_held(part, 11, 3, &w);
    assert_int_equal(ss_conn_send(fd, &v, 1, 0, wire_send, &w), sizeof(rest) - 1);
    assert_int_equal(w.len, sizeof(part) - 1 + sizeof(rest) - 1);
    assert_memory_equal(w.out, part, sizeof(part) - 1);
    assert_memory_equal(w.out + sizeof(part) - 1, rest, sizeof(rest) - 1);
    assert_false(ss_fd_followed(fd));
    unfollow();
}

/* With two traceparent lines the first, a copy, is replaced at its line's
 * end whatever follows, and the span that went out in it is kept. */
static void test_pieces_second_traceparent(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\ntraceparent: " PIECES_IN "\r\n"
                              "traceparent: 00-11111111111111111111111111111111-2222222222222222-01\r\n\r\n";
    static pieces_run_t run;
    size_t len = sizeof(req) - 1, at = (size_t)(strstr(req, "\r\ntraceparent: 00-1") - req);

    (void)state;
    serve(PIECES_IN);
    send_pieces(req, len, &at, 1, 4096, 0, &run);
    assert_int_equal(run.w.len, len);
    assert_null(memmem(run.w.out, run.w.len, PIECES_IN, 55));
    assert_memory_equal(run.w.out + at - 55 + 36, run.span_hex, 16);
    assert_memory_equal(run.w.out + at, req + at, len - at);
    assert_true(run.sampled);
    ss_conn_thread_reset();
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
        cmocka_unit_test(test_inline_command_not_http),
        cmocka_unit_test(test_propagation_off),
        cmocka_unit_test(test_unsampled_still_propagated),
        cmocka_unit_test(test_pieces_copy_replaced),
        cmocka_unit_test(test_pieces_header_added),
        cmocka_unit_test(test_pieces_own_untouched),
        cmocka_unit_test(test_pieces_held_sent_at_close),
        cmocka_unit_test(test_pieces_held_then_not_http),
        cmocka_unit_test(test_pieces_second_traceparent),
    };

    return cmocka_run_group_tests_name("conn", tests, unit_config_setup, NULL);
}
