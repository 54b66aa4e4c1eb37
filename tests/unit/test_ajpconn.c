/*
 * test_ajpconn.c - the AJP13 module behind the connection core, driven as
 * the hooks drive it (dbconn_run.h) with the packets mod_proxy_ajp and
 * Tomcat write (ajp_wire.h). Tomcat's side: the spans, whole, split at
 * every byte and a few bytes at a time, each continuing its request's
 * traceparent (or a new trace), CPING/CPONG none, a body read, and the
 * request being what the thread serves. Apache's side: the spans at every
 * split, and the exact bytes on the wire: a traceparent (and tracestate)
 * header put first with the packet's length and header count rewritten,
 * a copied traceparent overwritten in place, and the request as it was,
 * counted, when its packet was not read ahead whole or would pass 8 KiB.
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

#include "../../preload/ss_config.h"
#include "../../preload/ss_proto.h"
#include "../../preload/ss_tctx.h"
#include "unit_config.h"

#include "ajp_wire.h"
#include "dbconn_run.h"

#define AJP_PORT 8009
#define TP_IN "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static dbc_conv_t conv;

#define ADD(in, a) dbc_add(&conv, (in), AJP_BYTES(a))

static void parent_is(const char *tp)
{
    assert_true(ss_tp_parse(tp, SS_TP_LEN, &dbc_parent));
}

/* ---- Tomcat's side ---------------------------------------------------------- */

static void test_server_spans_every_split(void **state)
{
    static const char *const want[] = {
        "GET|2|0|served|http.request.method=GET url.path=/app/page.jsp url.query=a=1&b=2 "
        "url.scheme=http server.address=127.0.0.1 server.port=36562 client.address=127.0.0.1 "
        "user_agent.original=curl/test http.response.status_code=200 network.protocol.name=ajp "
        "network.peer.address=127.0.0.1",
        "GET|2|2|root|http.request.method=GET url.path=/app/page.jsp url.query=a=1&b=2 "
        "url.scheme=http server.address=127.0.0.1 server.port=36562 client.address=127.0.0.1 "
        "user_agent.original=curl/test http.response.status_code=500 network.protocol.name=ajp "
        "network.peer.address=127.0.0.1 error.type=500",
        "POST|2|0|root|http.request.method=POST url.path=/app/post url.scheme=http "
        "server.address=127.0.0.1 server.port=36562 client.address=127.0.0.1 "
        "user_agent.original=curl/7.88.1 http.response.status_code=200 network.protocol.name=ajp "
        "network.peer.address=127.0.0.1",
        NULL,
    };

    (void)state;
    parent_is(TP_IN);
    dbc_server = 1;
    conv.n = 0;
    ADD(1, AJP_GET_TP);
    ADD(0, AJP_HEADERS_200);
    ADD(0, AJP_CHUNK);
    ADD(0, AJP_END);
    ADD(1, AJP_CPING);
    ADD(0, AJP_CPONG);
    ADD(1, AJP_GET);
    ADD(0, AJP_HEADERS_500);
    ADD(0, AJP_END);
    ADD(1, AJP_POST);
    ADD(1, AJP_POST_BODY);
    ADD(0, AJP_GET_BODY);
    ADD(1, AJP_BODY_END);
    ADD(0, AJP_HEADERS_200);
    ADD(0, AJP_CHUNK);
    ADD(0, AJP_END_CLOSE);
    dbc_expect(dbc_every_split(&conv, AJP_PORT, 0, DBC_EOF), want);
    assert_true(dbc_whole.followed);
}

static int as_client(void **state)
{
    (void)state;
    dbc_server = 0;
    return 0;
}

/* A request read is what the thread serves until its END_RESPONSE goes. */
static void test_server_serves_on_thread(void **state)
{
    ss_ctx_t ctx, in;
    int sp[2];
    static wire_t w;
    char buf[sizeof(AJP_GET_TP)];

    (void)state;
    assert_true(ss_tp_parse(TP_IN, SS_TP_LEN, &in));
    ss_conn_thread_reset();
    w.limit = sizeof(w.out);
    assert_int_equal(wire_pair(sp, 1, AJP_PORT), 0);
    memcpy(buf, AJP_GET_TP, sizeof(AJP_GET_TP));
    conn_io_read(NULL, sp[0], buf, sizeof(AJP_GET_TP) - 1);
    assert_true(ss_conn_thread_ctx(&ctx));
    assert_memory_equal(ctx.trace_id, in.trace_id, 16);
    assert_memory_not_equal(ctx.span_id, in.span_id, 8);
    wire_app_send(sp[0], AJP_BYTES(AJP_HEADERS_200), 7, &w);
    assert_true(ss_conn_thread_ctx(&ctx));
    wire_app_send(sp[0], AJP_BYTES(AJP_END), 7, &w);
    assert_false(ss_conn_thread_ctx(&ctx));
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
}

/* ---- Apache's side ------------------------------------------------------------ */

/* The web server serves a request that came with a traceparent, and a
 * tracestate in serving_ts: the AJP requests it sends are that span's
 * children. */
#define SERVED_HEAD                        \
    "GET /in HTTP/1.1\r\nHost: me\r\n"     \
    "traceparent: " TP_IN "\r\n"

static int serving(void **state)
{
    (void)state;
    dbc_serve(SERVED_HEAD "\r\n");
    return 0;
}

static int serving_ts(void **state)
{
    (void)state;
    dbc_serve(SERVED_HEAD "tracestate: k=v\r\n\r\n");
    return 0;
}

static int served(void **state)
{
    (void)state;
    dbc_serve_end();
    ss_cfg.propagate = 1;
    dbc_rewritten = dbc_ids = 0;
    return 0;
}

static void client_conv(void)
{
    conv.n = 0;
    ADD(0, AJP_GET);
    ADD(1, AJP_HEADERS_200);
    ADD(1, AJP_CHUNK);
    ADD(1, AJP_END);
    ADD(0, AJP_GET_TP);
    ADD(1, AJP_HEADERS_500);
    ADD(1, AJP_END_CLOSE);
}

/* One GET, answered 200, with the spans' ids logged and the wire left to
 * the test. */
static void one_get(void)
{
    dbc_rewritten = dbc_ids = 1;
    conv.n = 0;
    ADD(0, AJP_GET);
    ADD(1, AJP_HEADERS_200);
    ADD(1, AJP_END);
}

static const char *const client_want[] = {
    "GET|3|0|served|http.request.method=GET server.address=127.0.0.1 server.port=8009 "
    "url.full=http://127.0.0.1:36562/app/page.jsp?a=1&b=2 http.response.status_code=200 "
    "network.protocol.name=ajp network.peer.address=127.0.0.1 network.peer.port=8009",
    "GET|3|2|served|http.request.method=GET server.address=127.0.0.1 server.port=8009 "
    "url.full=http://127.0.0.1:36562/app/page.jsp?a=1&b=2 http.response.status_code=500 "
    "network.protocol.name=ajp network.peer.address=127.0.0.1 network.peer.port=8009 error.type=500",
    NULL,
};

/* The spans at every split; propagation off, so the wire is the program's. */
static void test_client_spans_every_split(void **state)
{
    (void)state;
    ss_cfg.propagate = 0;
    client_conv();
    dbc_expect(dbc_every_split(&conv, AJP_PORT, 0, DBC_CLOSE), client_want);
}

/* The span id a log line ends with, as hex. */
static const char *line_span(const char *log, int n)
{
    static char id[17];
    const char *p = log;

    for (; n > 0; n--)
        p = strchr(p, '\n') + 1;
    p = strstr(p, " span=");
    assert_non_null(p);
    memcpy(id, p + 6, 16);
    id[16] = '\0';
    return id;
}

/* AJP_GET as it must go out with headers of `add` bytes first. */
static size_t rewritten_get(char *out, const char *headers, size_t add, unsigned count)
{
    size_t at = 64, n = sizeof(AJP_GET) - 1, len = n - 4 + add; /* its headers begin at 64 */

    memcpy(out, AJP_GET, at);
    out[2] = (char)(len >> 8);
    out[3] = (char)len;
    out[at - 2] = 0;
    out[at - 1] = (char)count;
    memcpy(out + at, headers, add);
    memcpy(out + at + add, AJP_GET + at, n - at);
    return n + add;
}

/* The header "traceparent: 00-<trace>-<span>-01" as AJP writes a string header. */
static size_t tp_header(char *out, const char *span)
{
    return (size_t)sprintf(out, "%c%ctraceparent%c%c%c00-0af7651916cd43dd8448eb211c80319c-%s-01%c",
                           0, 11, 0, 0, 55, span, 0);
}

static void expect_wire(const char *want, size_t n)
{
    if (dbc_w.len != n || memcmp(dbc_w.out, want, n) != 0) {
        size_t i = 0;

        while (i < n && i < dbc_w.len && dbc_w.out[i] == want[i])
            i++;
        fail_msg("the wire (%zu bytes) differs from the %zu wanted at byte %zu", dbc_w.len, n, i);
    }
}

/* A request without a traceparent gets one first among its headers; one
 * with a copy of the served request's has it overwritten in place. */
static void test_client_wire_exact(void **state)
{
    static char want[4096], hdr[128], *p;
    uint64_t injected = ss_count.headers_injected, replaced = ss_count.headers_replaced;
    const char *tp2;
    size_t n;

    (void)state;
    dbc_rewritten = dbc_ids = 1;
    client_conv();
    dbc_run(&conv, AJP_PORT, 0, 0, 0, DBC_CLOSE, &dbc_whole);
    assert_int_equal(dbc_whole.spans, 2);
    n = rewritten_get(want, hdr, tp_header(hdr, line_span(dbc_whole.log, 0)), 4);
    p = want + n;
    memcpy(p, AJP_GET_TP, sizeof(AJP_GET_TP) - 1);
    tp2 = line_span(dbc_whole.log, 1);
    memcpy(p + 122 + 36, tp2, 16); /* the value's span id, in place */
    n += sizeof(AJP_GET_TP) - 1;
    expect_wire(want, n);
    assert_int_equal(ss_count.headers_injected, injected + 1);
    assert_int_equal(ss_count.headers_replaced, replaced + 1);
    assert_non_null(strstr(dbc_whole.log, "GET|3|0|served|"));
    assert_non_null(strstr(dbc_whole.log, "GET|3|2|served|"));
}

/* The served request's tracestate goes along as a second header. */
static void test_client_wire_tracestate(void **state)
{
    static char want[4096], hdr[128];
    size_t n, k;

    (void)state;
    one_get();
    dbc_run(&conv, AJP_PORT, 0, 0, 0, DBC_CLOSE, &dbc_whole);
    k = tp_header(hdr, line_span(dbc_whole.log, 0));
    memcpy(hdr + k, "\x00\x0atracestate\x00\x00\x03k=v\x00", 19);
    n = rewritten_get(want, hdr, k + 19, 5);
    expect_wire(want, n);
}

/* Written in pieces, the packet's head goes before the request is whole:
 * the request goes as it was, counted; written whole from the cut on, it
 * is rewritten as ever. */
static void test_client_not_read_ahead(void **state)
{
    static char want[4096], hdr[128];
    size_t cut, n;

    (void)state;
    one_get();
    for (cut = 1; cut < sizeof(AJP_GET) - 1; cut++) {
        uint64_t missed = ss_count.ajp_not_injected;

        dbc_run(&conv, AJP_PORT, 0, cut, 0, DBC_CLOSE, &dbc_whole);
        assert_int_equal(dbc_whole.spans, 1);
        if (cut <= 2) {
            n = rewritten_get(want, hdr, tp_header(hdr, line_span(dbc_whole.log, 0)), 4);
            expect_wire(want, n);
            assert_int_equal(ss_count.ajp_not_injected, missed);
        } else {
            expect_wire(AJP_GET, sizeof(AJP_GET) - 1);
            assert_int_equal(ss_count.ajp_not_injected, missed + 1);
        }
    }
}

/* A traceparent that is no copy of a served request's is the web
 * server's own context: its request goes as it was, and its span is left
 * to whoever made that context (HTTP/1's rule). */
static void test_client_own_context(void **state)
{
    uint64_t own = ss_count.headers_own;

    (void)state;
    dbc_rewritten = 1;
    conv.n = 0;
    ADD(0, AJP_GET_TP);
    ADD(1, AJP_HEADERS_200);
    ADD(1, AJP_END);
    dbc_run(&conv, AJP_PORT, 0, 0, 0, DBC_CLOSE, &dbc_whole);
    expect_wire(AJP_GET_TP, sizeof(AJP_GET_TP) - 1);
    assert_int_equal(dbc_whole.spans, 0);
    assert_int_equal(ss_count.headers_own, own + 1);
    dbc_rewritten = 0;
}

/* A packet that would pass 8 KiB with the header goes as it was. */
static void test_client_packet_full(void **state)
{
    static char big[8192];
    size_t n = sizeof(AJP_GET) - 1, at = 64, add = 8192 - 4 - (n - 4) - 40;
    size_t len = n - 4 + add;
    uint64_t missed = ss_count.ajp_not_injected;

    (void)state;
    dbc_rewritten = 1;
    /* AJP_GET with one more header, "x-pad" and a value that fills it. */
    memcpy(big, AJP_GET, at);
    big[2] = (char)(len >> 8);
    big[3] = (char)len;
    big[at - 1] = 4;
    memcpy(big + at, "\x00\x05x-pad\x00", 8);
    big[at + 8] = (char)((add - 8 - 3) >> 8);
    big[at + 9] = (char)(add - 8 - 3);
    memset(big + at + 10, 'p', add - 8 - 3);
    big[at + add - 1] = 0;
    memcpy(big + at + add, AJP_GET + at, n - at);
    conv.n = 0;
    dbc_add(&conv, 0, big, n + add);
    DBC_LIT(&conv, 1, AJP_HEADERS_200);
    DBC_LIT(&conv, 1, AJP_END);
    dbc_run(&conv, AJP_PORT, 0, 0, 0, DBC_CLOSE, &dbc_whole);
    assert_int_equal(dbc_whole.spans, 1);
    expect_wire(big, n + add);
    assert_int_equal(ss_count.ajp_not_injected, missed + 1);
}

/* ---- detection ------------------------------------------------------------------ */

/* The container's side of a conversation is not taken for a web server's. */
static void test_detect_direction(void **state)
{
    (void)state;
    conv.n = 0;
    ADD(1, AJP_GET); /* a client reading a forward request: not AJP's client */
    ADD(0, AJP_HEADERS_200);
    dbc_run(&conv, AJP_PORT, 0, 0, 0, DBC_CLOSE, &dbc_whole);
    assert_false(dbc_whole.followed);
    assert_int_equal(dbc_whole.spans, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_server_spans_every_split, as_client),
        cmocka_unit_test(test_server_serves_on_thread),
        cmocka_unit_test_setup_teardown(test_client_spans_every_split, serving, served),
        cmocka_unit_test_setup_teardown(test_client_wire_exact, serving, served),
        cmocka_unit_test_setup_teardown(test_client_wire_tracestate, serving_ts, served),
        cmocka_unit_test_setup_teardown(test_client_not_read_ahead, serving, served),
        cmocka_unit_test_setup_teardown(test_client_packet_full, serving, served),
        cmocka_unit_test(test_client_own_context),
        cmocka_unit_test(test_detect_direction),
    };

    /* The spans' lines here are the protocol's attributes; a failed
     * exchange's code.stacktrace is test_stack's and test_stacks.py's. */
    ss_stack_mode = SS_STACKS_OFF;
    return cmocka_run_group_tests_name("ajpconn", tests, unit_config_setup, NULL);
}
