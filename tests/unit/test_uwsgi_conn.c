/*
 * test_uwsgi_conn.c - the uwsgi module behind the connection core, driven
 * as the hooks drive it (conn_io.h, wire.h): nginx's requests written
 * whole, split in two at every byte and a byte at a time, and the exact
 * bytes that reach the wire - the header with the new datasize and our
 * HTTP_TRACEPARENT (and HTTP_TRACESTATE) first in the block, or a copied
 * HTTP_TRACEPARENT replaced in place when the block came with its header,
 * or the request as it was (the program's own traceparent, no room left);
 * the program told every byte went. Then the spans: nginx's CLIENT span
 * ended by uWSGI's answer (Content-Length, close, none), uWSGI's SERVER
 * span continuing the context read in the vars, and detection.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_proto.h"
#include "conn_io.h"
#include "unit_config.h"
#include "uwsgi_wire.h"
#include "wire.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define OK_CL "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
#define OK_CLOSE "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"

/* ---- spans, as they reach the batcher ---------------------------------- */

#define SPANS_MAX 8
static ss_span_t spans[SPANS_MAX];
static int nspans;

void __wrap_ex_batch_add(const ss_span_t *s);
void __wrap_ex_batch_add(const ss_span_t *s)
{
    if (nspans < SPANS_MAX)
        spans[nspans] = *s;
    nspans++;
}

/* ---- the request nginx serves meanwhile -------------------------------- */

static int srv[2];
static ss_ctx_t served;

/* The thread serves an HTTP request that came with TP (and tracestate ts). */
static void serve(const char *ts)
{
    char req[512];
    struct iovec v = {req, 0};

    v.iov_len = (size_t)snprintf(req, sizeof(req), "GET /in HTTP/1.1\r\nHost: me\r\n"
                                 "traceparent: " TP "\r\n%s%s%s\r\n", ts ? "tracestate: " : "",
                                 ts ? ts : "", ts ? "\r\n" : "");
    assert_int_equal(wire_pair(srv, 1, 80), 0);
    ss_conn_on_recv(srv[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    assert_true(ss_conn_thread_ctx(&served));
}

static void serve_end(void)
{
    ss_conn_on_close(srv[0]);
    close(srv[0]);
    close(srv[1]);
    ss_conn_thread_reset();
    memset(&served, 0, sizeof(served));
}

/* ---- nginx's side -------------------------------------------------------- */

static wire_t w;
static size_t resp_step; /* answers read this many bytes at a time (0: whole) */

/* The request written in two writes cut at `cut` (0: one write), or a
 * byte at a time (step 1); the answer read, then the peer's close if
 * eof. The span (nspans says how many came). */
static void client_run(const uint8_t *req, size_t n, size_t cut, size_t step, const char *resp,
                       int eof)
{
    static uint8_t buf[70000];
    int sp[2];
    size_t at = 0;

    memset(&w, 0, sizeof(w));
    w.limit = sizeof(w.out);
    nspans = 0;
    memcpy(buf, req, n);
    assert_int_equal(wire_pair(sp, 0, 3031), 0);
    while (at < n) {
        size_t k = step ? step : cut > at ? cut - at : n - at;

        if (k > n - at)
            k = n - at;
        assert_int_equal(conn_io_write(NULL, sp[0], buf + at, k, wire_send, &w), (ssize_t)k);
        at += k;
    }
    assert_memory_equal(buf, req, n); /* the program's buffer untouched */
    for (size_t i = 0, len = resp ? strlen(resp) : 0; i < len;) {
        size_t k = resp_step && resp_step < len - i ? resp_step : len - i;

        conn_io_read(NULL, sp[0], (void *)(resp + i), k);
        i += k;
    }
    if (eof)
        conn_io_peer_end(NULL, sp[0], 1);
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
}

/* req as it goes with span's context added: the new header, our vars,
 * the rest as it was. */
static size_t inserted(const uint8_t *req, size_t n, const ss_span_t *s, const char *ts,
                       uint8_t *out)
{
    size_t k = 4, ds = (size_t)req[1] | (size_t)req[2] << 8;
    char tp[SS_TP_LEN + 1];

    ss_tp_format(&s->ctx, tp);
    memcpy(out + k, "\x10\x00HTTP_TRACEPARENT\x37\x00", 20);
    k += 20;
    memcpy(out + k, tp, SS_TP_LEN);
    k += SS_TP_LEN;
    if (ts) {
        memcpy(out + k, "\x0f\x00HTTP_TRACESTATE", 17);
        k += 17;
        out[k++] = (uint8_t)strlen(ts);
        out[k++] = 0;
        memcpy(out + k, ts, strlen(ts));
        k += strlen(ts);
    }
    ds += k - 4;
    out[0] = req[0];
    out[1] = (uint8_t)ds;
    out[2] = (uint8_t)(ds >> 8);
    out[3] = req[3];
    memcpy(out + k, req + 4, n - 4);
    return k + n - 4;
}

/* req with the value at `at` (a traceparent) replaced by span's context. */
static size_t replaced(const uint8_t *req, size_t n, size_t at, const ss_span_t *s, uint8_t *out)
{
    char tp[SS_TP_LEN + 1];

    ss_tp_format(&s->ctx, tp);
    memcpy(out, req, n);
    memcpy(out + at, tp, SS_TP_LEN);
    return n;
}

static void wire_is(const uint8_t *want, size_t n, size_t cut, size_t step)
{
    if (w.len != n || memcmp(w.out, want, n) != 0)
        fail_msg("cut %zu step %zu: %zu bytes on the wire, %zu wanted%s", cut, step, w.len, n,
                 w.len == n ? " (different)" : "");
}

static void one_span(int kind, uint16_t status, const char *error)
{
    assert_int_equal(nspans, 1);
    assert_int_equal(spans[0].kind, kind);
    assert_int_equal(spans[0].type, SS_SPAN_HTTP);
    assert_int_equal(spans[0].http.gateway, SS_GW_UWSGI);
    assert_int_equal(spans[0].http.status_code, status);
    assert_string_equal(spans[0].error_type, error);
}

static int child_of_served(const ss_span_t *s)
{
    return s->has_parent && memcmp(s->parent_id, served.span_id, 8) == 0 &&
           memcmp(s->ctx.trace_id, served.trace_id, 16) == 0;
}

/* Where the value of HTTP_TRACEPARENT lies in req. */
static size_t tp_value_at(const uint8_t *req, size_t n)
{
    const uint8_t *k = memmem(req, n, "HTTP_TRACEPARENT", 16);

    assert_non_null(k);
    return (size_t)(k - req) + 16 + 2;
}

/* Bytes of a connection's first write detection needs to tell uwsgi: a
 * shorter first write went out while it looked, header and all. */
static size_t detect_len(const uint8_t *req)
{
    return 6 + ((size_t)req[4] | (size_t)req[5] << 8);
}

/* No traceparent in the vars: ours is added, at every split (but those
 * too early for detection), with the served request's tracestate when
 * there is one. */
static void test_client_adds_context(void **state)
{
    static uint8_t req[2048], want[4096];
    size_t n = uw_build(req, 0, uw_nginx_get, ""), wn;

    (void)state;
    for (int served_ts = 0; served_ts < 2; served_ts++) {
        const char *ts = served_ts ? "k=v,x=1" : NULL;

        if (served_ts)
            serve(ts);
        for (size_t cut = 0; cut < n; cut++) {
            client_run(req, n, cut, 0, OK_CL, 0);
            one_span(SS_KIND_CLIENT, 200, "");
            assert_int_equal(child_of_served(&spans[0]), served_ts);
            if (cut && cut < detect_len(req))
                wire_is(req, n, cut, 0);
            else
                wire_is(want, inserted(req, n, &spans[0], ts, want), cut, 0);
        }
        /* Past detection, a header cut anywhere: held until whole. */
        for (size_t at = 1; at < 4; at++) {
            static uint8_t two[4096], want2[8192];

            memcpy(two, req, n);
            memcpy(two + n, req, n);
            client_run(two, 2 * n, n + at, 0, OK_CL OK_CL, 0);
            assert_int_equal(nspans, 2);
            wn = inserted(req, n, &spans[0], ts, want2);
            wn += inserted(req, n, &spans[1], ts, want2 + wn);
            wire_is(want2, wn, n + at, 0);
        }
        client_run(req, n, 0, 1, OK_CL, 0);
        wire_is(req, n, 0, 1);
        assert_int_equal(spans[0].http.head.method_len, 3);
        assert_memory_equal(spans[0].http.head.target, "/", 1);
        if (served_ts)
            serve_end();
    }
}

/* nginx passes the client's traceparent on: a copy of what the request it
 * serves came with. In the header's write it is replaced in place (the
 * header as it was); in a later one our vars were already added. */
static void test_client_replaces_copy(void **state)
{
    static uint8_t req[2048], want[4096];
    size_t n = uw_build(req, 0, uw_nginx_post, "abc=1"), vars_end = n - 5;
    size_t at = tp_value_at(req, n);
    uint64_t replaced_before = ss_count.headers_replaced;

    (void)state;
    serve(NULL);
    for (size_t cut = 0; cut < n; cut++) {
        int whole = cut == 0 || cut >= vars_end;

        client_run(req, n, cut, 0, OK_CLOSE, 1);
        one_span(SS_KIND_CLIENT, 200, "");
        assert_true(child_of_served(&spans[0]));
        if (cut && cut < detect_len(req))
            wire_is(req, n, cut, 0);
        else if (whole)
            wire_is(want, replaced(req, n, at, &spans[0], want), cut, 0);
        else
            wire_is(want, inserted(req, n, &spans[0], NULL, want), cut, 0);
    }
    assert_int_equal(ss_count.headers_replaced - replaced_before, 1 + 5);
    serve_end();
}

/* A valid traceparent that is no copy is the program's own: the request
 * goes as it was and the span is not sent. */
static void test_client_own_traceparent(void **state)
{
    static uint8_t req[2048];
    size_t n = uw_build(req, 0, uw_nginx_post, "abc=1");
    uint64_t own = ss_count.headers_own;

    (void)state;
    client_run(req, n, 0, 0, OK_CL, 0);
    wire_is(req, n, 0, 0);
    assert_int_equal(nspans, 0);
    assert_int_equal(ss_count.headers_own, own + 1);
}

/* A block our vars would take past 65535 bytes goes as it was, counted. */
static void test_client_no_room(void **state)
{
    static char big[65535 - 4 - 2 - 2 - 2 - 60];
    static uint8_t req[70000];
    const char *kv[] = {"REQUEST_METHOD", "GET", "HTTP_COOKIE", big, NULL};
    uint64_t before = ss_count.uwsgi_not_injected;
    size_t n;

    (void)state;
    memset(big, 'c', sizeof(big) - 1);
    n = uw_build(req, 0, kv, "");
    assert_true(((size_t)req[1] | (size_t)req[2] << 8) + 75 > 65535);
    client_run(req, n, 0, 0, OK_CL, 0);
    wire_is(req, n, 0, 0);
    one_span(SS_KIND_CLIENT, 200, "");
    assert_int_equal(ss_count.uwsgi_not_injected, before + 1);
}

/* uWSGI's answers: ended by Content-Length, chunked, by the close, or
 * never; read whole and a byte at a time. Its status line repeats the
 * request's SERVER_PROTOCOL, HTTP/2.0 behind nginx's HTTP/2 listener. */
static void answers(const uint8_t *req, size_t n)
{
    client_run(req, n, 0, 0, "HTTP/2.0 201 Created\r\nContent-Length: 2\r\n\r\nok", 0);
    one_span(SS_KIND_CLIENT, 201, "");
    client_run(req, n, 0, 0, "HTTP/1.1 100 Continue\r\n\r\nHTTP/2.0 200 OK\r\n"
               "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0);
    one_span(SS_KIND_CLIENT, 200, "");
    client_run(req, n, 0, 0, "HTTP/3.0 200 OK\r\n\r\nclosed", 1);
    one_span(SS_KIND_CLIENT, 200, "");
    client_run(req, n, 0, 0, "Status: 200 OK\r\n\r\n", 1);
    assert_int_equal(nspans, 0); /* not HTTP: let go */
    client_run(req, n, 0, 0, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno",
               0);
    one_span(SS_KIND_CLIENT, 500, "");
    client_run(req, n, 0, 0, OK_CLOSE, 1); /* uWSGI closed: the body is whole */
    one_span(SS_KIND_CLIENT, 200, "");
    client_run(req, n, 0, 0, OK_CLOSE, 0); /* nginx closed first: what it got stands */
    one_span(SS_KIND_CLIENT, 200, "");
    client_run(req, n, 0, 0, NULL, 1);
    one_span(SS_KIND_CLIENT, 0, "no_response");
}

static void test_client_answers(void **state)
{
    static uint8_t req[2048];
    size_t n = uw_build(req, 0, uw_nginx_get, "");

    (void)state;
    for (resp_step = 0; resp_step < 2; resp_step++)
        answers(req, n);
    resp_step = 0;
}

/* ---- uWSGI's side -------------------------------------------------------- */

/* A worker reads the request (cut at `cut`), answers with resp, closes. */
static void server_run(const uint8_t *req, size_t n, size_t cut, const char *resp, ss_ctx_t *ctx)
{
    static uint8_t buf[4096];
    int sp[2];

    memset(&w, 0, sizeof(w));
    w.limit = sizeof(w.out);
    nspans = 0;
    memcpy(buf, req, n);
    assert_int_equal(wire_pair(sp, 1, 3031), 0);
    if (cut) {
        conn_io_read(NULL, sp[0], buf, cut);
        conn_io_read(NULL, sp[0], buf + cut, n - cut);
    } else {
        conn_io_read(NULL, sp[0], buf, n);
    }
    assert_true(ss_conn_thread_ctx(ctx));
    assert_int_equal(conn_io_write(NULL, sp[0], (void *)resp, strlen(resp), wire_send, &w),
                     (ssize_t)strlen(resp));
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    ss_conn_thread_reset();
}

static void test_server_continues_context(void **state)
{
    static uint8_t req[2048];
    size_t n = uw_build(req, 0, uw_nginx_post, "abc=1");
    ss_ctx_t parent, ctx;

    (void)state;
    assert_true(ss_tp_parse(TP, SS_TP_LEN, &parent));
    for (size_t cut = 0; cut < n; cut++) {
        server_run(req, n, cut, OK_CL, &ctx);
        one_span(SS_KIND_SERVER, 200, "");
        assert_memory_equal(spans[0].ctx.trace_id, parent.trace_id, 16);
        assert_memory_equal(spans[0].parent_id, parent.span_id, 8);
        assert_memory_equal(ctx.span_id, spans[0].ctx.span_id, 8); /* what the app served */
        assert_int_equal(spans[0].http.head.method_len, 4);
        assert_int_equal(spans[0].http.head.target_len, 8);
        assert_memory_equal(spans[0].http.head.target, "/x/y?q=1", 8);
        wire_is((const uint8_t *)OK_CL, strlen(OK_CL), cut, 0);
    }
    /* An answer ended by the close is whole at the close. */
    server_run(req, n, 0, OK_CLOSE, &ctx);
    one_span(SS_KIND_SERVER, 200, "");
    server_run(req, n, 0, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
               &ctx);
    one_span(SS_KIND_SERVER, 500, "");
}

/* ---- detection through the core ------------------------------------------ */

static void test_detected(void **state)
{
    static uint8_t req[2048];
    size_t n = uw_build(req, 0, uw_nginx_get, "");
    int sp[2];
    ss_conn_t *c;

    (void)state;
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    assert_int_equal(wire_pair(sp, 0, 3031), 0);
    wire_app_send(sp[0], req, n, 1, &w);
    c = ss_fd_get(sp[0]);
    assert_non_null(c);
    assert_non_null(c->proto);
    assert_string_equal(c->proto->name, "uwsgi");
    ss_conn_put(c);
    assert_int_equal(w.len, n); /* a byte at a time: gone before detection told */
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_adds_context),
        cmocka_unit_test(test_client_replaces_copy),
        cmocka_unit_test(test_client_own_traceparent),
        cmocka_unit_test(test_client_no_room),
        cmocka_unit_test(test_client_answers),
        cmocka_unit_test(test_server_continues_context),
        cmocka_unit_test(test_detected),
    };

    /* The spans' lines here are the protocol's attributes; a failed
     * exchange's code.stacktrace is test_stack's and test_stacks.py's. */
    ss_stack_mode = SS_STACKS_OFF;
    return cmocka_run_group_tests(tests, unit_config_setup, NULL);
}
