/*
 * test_fastcgi.c - the FastCGI module behind the connection core: the
 * recorded nginx and Apache conversations with php-fpm (fcgi_wire.h) and
 * written ones driven through ss_conn_send / ss_conn_on_recv as the web
 * server (client) and as the app server (server), whole, split in two at
 * every byte, and 1 and 3 bytes at a time. The web server's bytes on the
 * wire must be exactly the program's with the context added: one PARAMS
 * record before the empty one, or a copied HTTP_TRACEPARENT overwritten in
 * place by the FastCGI span's own traceparent. The spans are read back as
 * exported (dbconn_run.h): one per request, children of the request the
 * thread serves, the server side continuing the traceparent; statuses,
 * errors, aborts, a close without END_REQUEST, and detection.
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
#include "../../preload/proto/ss_fcgi.h"
#include "unit_config.h"

/* The span catcher and the "kernel" of the database tests (their drivers
 * compare the wire with the program's bytes: this test has its own). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "dbconn_run.h"
#pragma GCC diagnostic pop
#include "fcgi_wire.h"

#define TP_IN "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define FC_PORT 9000
#define FC_REQS 8

/* ---- the request the thread serves (nginx's SERVER span) ----------------- */

static int serving_tp(void **state)
{
    (void)state;
    dbc_serve("GET /index.php HTTP/1.1\r\nHost: me\r\ntraceparent: " TP_IN "\r\n"
              "tracestate: vendor=one\r\n\r\n");
    return 0;
}

static int serving_plain(void **state)
{
    (void)state;
    dbc_serve("GET /index.php HTTP/1.1\r\nHost: me\r\n\r\n");
    return 0;
}

static int served(void **state)
{
    (void)state;
    dbc_serve_end();
    return 0;
}

/* The app server: its spans' parent is the traceparent nginx passed. */
static int app_server(void **state)
{
    (void)state;
    assert_true(ss_tp_parse(TP_IN, SS_TP_LEN, &dbc_parent));
    return 0;
}

static int app_served(void **state)
{
    (void)state;
    ss_conn_thread_reset();
    memset(&dbc_parent, 0, sizeof(dbc_parent));
    return 0;
}

/* ---- driving a connection ------------------------------------------------ */

typedef struct fc_run {
    dbc_out_t log;
    char wire[65536];            /* what reached the peer */
    size_t wire_len;
    char wrote[65536];           /* what the program wrote */
    size_t wrote_len;
    int followed;
    int nspans;
    uint8_t span_id[FC_REQS][8], trace_id[FC_REQS][16]; /* exported, in order */
    uint8_t flags[FC_REQS];
    uint64_t injected, replaced, not_injected;
} fc_run_t;

static fc_run_t *fc_cur;

static void fc_on_span(const col_span_t *s)
{
    if (fc_cur == NULL || fc_cur->nspans >= FC_REQS)
        return;
    memcpy(fc_cur->span_id[fc_cur->nspans], s->span_id.data, 8);
    memcpy(fc_cur->trace_id[fc_cur->nspans], s->trace_id.data, 16);
    fc_cur->flags[fc_cur->nspans] = (uint8_t)(s->flags & 0x03);
    fc_cur->nspans++;
}

typedef enum { FC_CLOSE, FC_EOF } fc_end_t;

/* The conversation as the web server (client: it writes direction 0) or
 * the app server (it writes direction 1), segments split at global offset
 * cut (0: none) or fed step bytes at a time (0: whole). */
static void fc_drive(const fcgi_chunk_t *ch, int server, size_t cut, size_t step, fc_end_t end,
                     fc_run_t *o)
{
    static uint8_t buf[65536];
    uint64_t inj = ss_count.headers_injected, rep = ss_count.headers_replaced,
             not = ss_count.fcgi_not_injected;
    size_t off = 0;
    int sp[2];

    memset(&dbc_w, 0, sizeof(dbc_w));
    dbc_w.limit = sizeof(dbc_w.out);
    o->wrote_len = 0;
    o->nspans = 0;
    o->log.len = 0;
    o->log.log[0] = '\0';
    o->log.spans = 0;
    dbc_cur = &o->log;
    fc_cur = o;
    dbc_on_span = fc_on_span;
    assert_int_equal(wire_pair(sp, server, FC_PORT), 0);
    for (; ch->n; ch++) {
        int writes = ch->dir == (server ? 1 : 0);
        size_t at = 0, k;

        while (at < ch->n) {
            if (step)
                k = ch->n - at < step ? ch->n - at : step;
            else if (cut > off + at && cut < off + ch->n)
                k = cut - off - at;
            else
                k = ch->n - at;
            memcpy(buf, ch->bytes + at, k);
            if (writes) {
                ssize_t r = conn_io_write(NULL, sp[0], buf, k, wire_send, &dbc_w);

                if (r != (ssize_t)k)
                    fail_msg("a write of %zu bytes returned %zd", k, r);
                memcpy(o->wrote + o->wrote_len, ch->bytes + at, k);
                o->wrote_len += k;
            } else {
                conn_io_read(NULL, sp[0], buf, k);
            }
            if (memcmp(buf, ch->bytes + at, k) != 0)
                fail_msg("the program's buffer was changed");
            at += k;
        }
        off += ch->n;
    }
    o->followed = ss_fd_followed(sp[0]);
    if (end == FC_EOF)
        conn_io_peer_end(NULL, sp[0], 1);
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    memcpy(o->wire, dbc_w.out, dbc_w.len);
    o->wire_len = dbc_w.len;
    dbc_cur = NULL;
    fc_cur = NULL;
    o->injected = ss_count.headers_injected - inj;
    o->replaced = ss_count.headers_replaced - rep;
    o->not_injected = ss_count.fcgi_not_injected - not;
}

static size_t fc_total(const fcgi_chunk_t *ch)
{
    size_t n = 0;

    for (; ch->n; ch++)
        n += ch->n;
    return n;
}

/* What the wire should be for run o: o->wrote with the context of the
 * spans it exported where `want` puts it. */
typedef void (*fc_want_t)(const fc_run_t *o, char *out, size_t *len);

static void fc_check(const fc_run_t *o, fc_want_t want, size_t cut, size_t step)
{
    static char exp[65536];
    size_t len = 0;

    if (want) {
        want(o, exp, &len);
    } else {
        memcpy(exp, o->wrote, o->wrote_len);
        len = o->wrote_len;
    }
    if (o->wire_len != len || memcmp(o->wire, exp, len) != 0) {
        size_t i = 0;

        while (i < len && i < o->wire_len && o->wire[i] == exp[i])
            i++;
        if (getenv("FASTCGI_DUMP"))
            for (size_t k = i < 16 ? 0 : i - 16; k < i + 24 && k < len; k++)
                printf("%zu: %02x %02x\n", k, (uint8_t)o->wire[k], (uint8_t)exp[k]);
        fail_msg("cut %zu step %zu: the wire (%zu bytes) is not what was wanted (%zu), from byte %zu",
                 cut, step, o->wire_len, len, i);
    }
}

static fc_run_t fc_whole, fc_part;

static void fc_same(const fc_run_t *a, const fc_run_t *b, size_t cut, size_t step)
{
    if (strcmp(a->log.log, b->log.log) != 0)
        fail_msg("cut %zu step %zu gave\n%s\nwhole gave\n%s", cut, step, b->log.log, a->log.log);
    if (a->followed != b->followed || a->injected != b->injected || a->replaced != b->replaced ||
        a->not_injected != b->not_injected)
        fail_msg("cut %zu step %zu: followed %d injected %llu replaced %llu not %llu", cut, step,
                 b->followed, (unsigned long long)b->injected, (unsigned long long)b->replaced,
                 (unsigned long long)b->not_injected);
}

/* Whole, split in two at every byte, 1 and 3 bytes at a time: the same
 * spans, and each run's wire what want says; the whole run in fc_whole. */
static const fc_run_t *fc_every_split(const fcgi_chunk_t *ch, int server, fc_end_t end,
                                      fc_want_t want)
{
    static const size_t steps[] = {1, 3};
    size_t total = fc_total(ch), cut;

    fc_drive(ch, server, 0, 0, end, &fc_whole);
    fc_check(&fc_whole, want, 0, 0);
    for (cut = 1; cut < total; cut++) {
        fc_drive(ch, server, cut, 0, end, &fc_part);
        fc_check(&fc_part, want, cut, 0);
        fc_same(&fc_whole, &fc_part, cut, 0);
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        fc_drive(ch, server, 0, steps[i], end, &fc_part);
        fc_check(&fc_part, want, 0, steps[i]);
        fc_same(&fc_whole, &fc_part, 0, steps[i]);
    }
    return &fc_whole;
}

static void dump(const char *what, const fc_run_t *o)
{
    if (getenv("FASTCGI_DUMP"))
        printf("== %s: spans %d followed %d injected %llu replaced %llu not %llu\n%s", what,
               o->nspans, o->followed, (unsigned long long)o->injected,
               (unsigned long long)o->replaced, (unsigned long long)o->not_injected, o->log.log);
}

/* ---- the wire wanted ----------------------------------------------------- */

static void tp_of(const fc_run_t *o, int i, char tp[SS_TP_LEN + 1])
{
    ss_ctx_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    memcpy(ctx.trace_id, o->trace_id[i], 16);
    memcpy(ctx.span_id, o->span_id[i], 8);
    ctx.flags = o->flags[i];
    ctx.valid = 1;
    ss_tp_format(&ctx, tp);
}

/* Offset of the value of the first HTTP_TRACEPARENT in what was written. */
static size_t tp_value_at(const fc_run_t *o)
{
    const char *p = memmem(o->wrote, o->wrote_len, "HTTP_TRACEPARENT", 16);

    assert_non_null(p);
    return (size_t)(p - o->wrote) + 16;
}

static void want_copy_replaced(const fc_run_t *o, char *out, size_t *len)
{
    char tp[SS_TP_LEN + 1];
    size_t at = tp_value_at(o);

    assert_int_equal(o->nspans, 1);
    memcpy(out, o->wrote, o->wrote_len);
    tp_of(o, 0, tp);
    memcpy(out + at, tp, SS_TP_LEN);
    *len = o->wrote_len;
}

/* Offsets of the empty PARAMS records in what was written, in order. */
static size_t empty_params(const fc_run_t *o, size_t *at, uint16_t *id, size_t max)
{
    const uint8_t *p = (const uint8_t *)o->wrote;
    size_t i = 0, n = 0;

    while (i + 8 <= o->wrote_len) {
        size_t clen = (size_t)(p[i + 4] << 8 | p[i + 5]);

        if (p[i + 1] == SS_FCGI_PARAMS && clen == 0 && n < max) {
            at[n] = i;
            id[n++] = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
        }
        i += 8 + clen + p[i + 6];
    }
    return n;
}

static const char *want_ts; /* the tracestate the record carries, NULL none */
static const int *want_order; /* the span (export order) of each record, NULL: in order */

static size_t put_record(char *out, uint16_t id, const char *tp)
{
    size_t n = 8;

    out[n++] = 16;
    out[n++] = SS_TP_LEN;
    memcpy(out + n, "HTTP_TRACEPARENT", 16);
    memcpy(out + n + 16, tp, SS_TP_LEN);
    n += 16 + SS_TP_LEN;
    if (want_ts) {
        out[n++] = 15;
        out[n++] = (char)strlen(want_ts);
        memcpy(out + n, "HTTP_TRACESTATE", 15);
        memcpy(out + n + 15, want_ts, strlen(want_ts));
        n += 15 + strlen(want_ts);
    }
    out[0] = 1;
    out[1] = SS_FCGI_PARAMS;
    out[2] = (char)(id >> 8);
    out[3] = (char)id;
    out[4] = (char)((n - 8) >> 8);
    out[5] = (char)(n - 8);
    out[6] = out[7] = 0;
    return n;
}

/* A record before each empty PARAMS record, the i-th span's context. */
static void want_inserted(const fc_run_t *o, char *out, size_t *len)
{
    size_t at[FC_REQS], from = 0, n = 0, k;
    uint16_t id[FC_REQS];
    size_t m = empty_params(o, at, id, FC_REQS);

    assert_int_equal((size_t)o->nspans, m);
    for (k = 0; k < m; k++) {
        char tp[SS_TP_LEN + 1];

        memcpy(out + n, o->wrote + from, at[k] - from);
        n += at[k] - from;
        tp_of(o, want_order ? want_order[k] : (int)k, tp);
        n += put_record(out + n, id[k], tp);
        from = at[k];
    }
    memcpy(out + n, o->wrote + from, o->wrote_len - from);
    *len = n + o->wrote_len - from;
}

/* ---- the web server's side ----------------------------------------------- */

#define FC_CLIENT_ATTRS "network.protocol.name=fastcgi"

static int has_line(const fc_run_t *o, const char *prefix)
{
    const char *p = o->log.log;

    for (; *p; p = strchr(p, '\n') + 1)
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            return 1;
    return 0;
}

static void expect_line(const fc_run_t *o, const char *prefix)
{
    if (!has_line(o, prefix))
        fail_msg("no span line begins\n%s\nspans:\n%s", prefix, o->log.log);
}

/* nginx passing on the client's traceparent: overwritten in place by the
 * FastCGI span's, the span the served request's child. */
static void test_nginx_copy_replaced(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_nginx_get_tp, 0, FC_CLOSE, want_copy_replaced);
    dump("nginx copy", o);
    assert_int_equal(o->nspans, 1);
    assert_int_equal(o->replaced, 1);
    assert_int_equal(o->injected, 0);
    expect_line(o, "GET|3|0|served|");
    assert_non_null(strstr(o->log.log, "network.protocol.name=fastcgi"));
    assert_non_null(strstr(o->log.log, "http.response.status_code=200"));
    assert_non_null(strstr(o->log.log, "code.file.path=/var/www/html/index.php"));
}

static void test_apache_copy_replaced(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_apache_get_tp, 0, FC_CLOSE, want_copy_replaced);
    dump("apache copy", o);
    assert_int_equal(o->replaced, 1);
    expect_line(o, "GET|3|0|served|");
}

/* No traceparent passed on: one record added before the empty one, with
 * the tracestate of the request served. */
static void test_nginx_inserted(void **state)
{
    const fc_run_t *o;

    (void)state;
    want_ts = "vendor=one";
    o = fc_every_split(fcgi_nginx_404, 0, FC_CLOSE, want_inserted);
    want_ts = NULL;
    dump("nginx 404", o);
    assert_int_equal(o->injected, 1);
    expect_line(o, "GET|3|2|served|");
    assert_non_null(strstr(o->log.log, "http.response.status_code=404"));
}

static void test_nginx_post_inserted(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_nginx_post, 0, FC_CLOSE, want_inserted);
    dump("nginx post", o);
    expect_line(o, "POST|3|0|served|");
}

static void test_apache_post_inserted(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_apache_post_404, 0, FC_CLOSE, want_inserted);
    dump("apache post", o);
    expect_line(o, "POST|3|2|served|");
}

/* FCGI_KEEP_CONN: two requests on one connection, two spans, two records. */
static void test_keep_conn(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_nginx_keep_conn, 0, FC_CLOSE, want_inserted);
    dump("keep conn", o);
    assert_int_equal(o->nspans, 2);
    assert_int_equal(o->injected, 2);
    assert_true(o->followed);
    expect_line(o, "GET|3|0|served|");
    assert_non_null(strstr(o->log.log, "http.response.status_code=500"));
}


/* ---- the app server's side ------------------------------------------------ */

/* php-fpm reading nginx's request: a SERVER span continuing the
 * traceparent passed, with the request's HTTP attributes, its answer as
 * it was. */
static void test_fpm_server(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_nginx_get_tp, 1, FC_CLOSE, NULL);
    dump("fpm", o);
    assert_int_equal(o->nspans, 1);
    expect_line(o, "GET|2|0|served|");
    assert_non_null(strstr(o->log.log, "url.path=/index.php"));
    assert_non_null(strstr(o->log.log, "url.query=a=1"));
    assert_non_null(strstr(o->log.log, "client.address=127.0.0.1"));
    assert_non_null(strstr(o->log.log, "user_agent.original=curl/7.88.1"));
    assert_non_null(strstr(o->log.log, "network.protocol.name=fastcgi"));
    assert_non_null(strstr(o->log.log, "http.response.status_code=200"));
    assert_int_equal(o->injected + o->replaced, 0);
}

/* Two requests on a kept connection, the second answering 500: an error
 * on this side; no traceparent passed: each a trace of its own. */
static void test_fpm_keep_conn(void **state)
{
    const fc_run_t *o;

    (void)state;
    o = fc_every_split(fcgi_nginx_keep_conn, 1, FC_CLOSE, NULL);
    dump("fpm keep", o);
    assert_int_equal(o->nspans, 2);
    expect_line(o, "GET|2|0|root|");
    expect_line(o, "GET|2|2|root|");
    assert_non_null(strstr(o->log.log, "http.response.status_code=500"));
    assert_true(o->followed);
}

static uint8_t conv_buf[8192];
static size_t conv_len;
static fcgi_chunk_t conv[16];
static size_t conv_n;

static void rec(int dir, uint8_t type, uint16_t id, const void *content, size_t clen)
{
    uint8_t *p = conv_buf + conv_len;

    p[0] = 1;
    p[1] = type;
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)id;
    p[4] = (uint8_t)(clen >> 8);
    p[5] = (uint8_t)clen;
    p[6] = p[7] = 0;
    if (clen)
        memcpy(p + 8, content, clen);
    conv_len += 8 + clen;
    if (conv_n && conv[conv_n - 1].dir == dir &&
        conv[conv_n - 1].bytes + conv[conv_n - 1].n == (const char *)p) {
        conv[conv_n - 1].n += 8 + clen;
    } else {
        conv[conv_n++] = (fcgi_chunk_t){dir, 8 + clen, (const char *)p};
    }
    conv[conv_n] = (fcgi_chunk_t){0, 0, NULL};
}

#define REC(dir, type, id, lit) rec(dir, type, id, lit, sizeof(lit) - 1)

static void conv_reset(void)
{
    conv_len = conv_n = 0;
    conv[0] = (fcgi_chunk_t){0, 0, NULL};
}

/* A request of id with a few params and no traceparent. */
static void request(uint16_t id, uint8_t flags)
{
    uint8_t begin[8] = {0, 1, flags, 0, 0, 0, 0, 0};

    rec(0, SS_FCGI_BEGIN_REQUEST, id, begin, 8);
    REC(0, SS_FCGI_PARAMS, id, "\x0e\x03REQUEST_METHODGET\x0b\x02REQUEST_URI/x\x09\x01HTTP_HOSTh");
    REC(0, SS_FCGI_PARAMS, id, "");
    REC(0, SS_FCGI_STDIN, id, "");
}

/* The app server closed before END_REQUEST: the web server's span errs,
 * cut when its answer had begun, never answered when not. */
static void test_app_server_closed(void **state)
{
    const fc_run_t *o;

    (void)state;
    conv_reset();
    request(1, 0);
    o = fc_every_split(conv, 0, FC_EOF, want_inserted);
    dump("closed", o);
    expect_line(o, "GET|3|2|served|");
    assert_non_null(strstr(o->log.log, "error.type=no_response"));
    REC(1, SS_FCGI_STDOUT, 1, "Content-Type: text/html\r\n\r\nhalf");
    o = fc_every_split(conv, 0, FC_EOF, want_inserted);
    dump("closed after stdout", o);
    assert_non_null(strstr(o->log.log, "error.type=response_truncated"));
}

/* FCGI_ABORT_REQUEST: both sides' spans say aborted. */
static void test_abort(void **state)
{
    const fc_run_t *o;

    (void)state;
    conv_reset();
    request(1, SS_FCGI_KEEP_CONN);
    REC(0, SS_FCGI_ABORT_REQUEST, 1, "");
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\0\0\0\0");
    o = fc_every_split(conv, 0, FC_CLOSE, want_inserted);
    dump("abort client", o);
    assert_non_null(strstr(o->log.log, "error.type=aborted"));
    memset(&dbc_parent, 0, sizeof(dbc_parent));
    o = fc_every_split(conv, 1, FC_CLOSE, NULL);
    dump("abort server", o);
    expect_line(o, "GET|2|2|root|");
    assert_non_null(strstr(o->log.log, "error.type=aborted"));
}

/* Two requests multiplexed on one connection, answered in the other
 * order: each its own span and record, its own status. */
static void test_multiplexed(void **state)
{
    const fc_run_t *o;

    (void)state;
    conv_reset();
    request(1, SS_FCGI_KEEP_CONN);
    request(2, SS_FCGI_KEEP_CONN);
    REC(1, SS_FCGI_STDOUT, 2, "Status: 404 Not Found\r\n\r\n");
    REC(1, SS_FCGI_STDOUT, 1, "Location: /y\r\n\r\n");
    REC(1, SS_FCGI_END_REQUEST, 2, "\0\0\0\0\0\0\0\0");
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\0\0\0\0");
    want_order = (const int[]){1, 0}; /* request 2 ends first */
    o = fc_every_split(conv, 0, FC_CLOSE, want_inserted);
    want_order = NULL;
    dump("mux", o);
    assert_int_equal(o->nspans, 2);
    assert_int_equal(o->injected, 2);
    assert_true(strstr(o->log.log, "http.response.status_code=404") <
                strstr(o->log.log, "http.response.status_code=302"));
}

/* While php-fpm runs the script (params whole, no answer yet) the thread
 * serves the request: what the script calls is its child. */
static void test_fpm_serves_while_running(void **state)
{
    uint8_t begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    fc_run_t *o = &fc_part;
    ss_ctx_t now;
    int sp[2];

    (void)state;
    conv_reset();
    rec(0, SS_FCGI_BEGIN_REQUEST, 1, begin, 8);
    REC(0, SS_FCGI_PARAMS, 1, "\x0e\x03REQUEST_METHODGET\x10\x37HTTP_TRACEPARENT" TP_IN);
    REC(0, SS_FCGI_PARAMS, 1, "");
    memset(o, 0, sizeof(*o));
    dbc_cur = &o->log;
    assert_int_equal(wire_pair(sp, 1, FC_PORT), 0);
    conn_io_read(NULL, sp[0], conv_buf, conv_len);
    assert_true(ss_conn_thread_ctx(&now));
    assert_memory_equal(now.trace_id, dbc_parent.trace_id, 16);
    assert_memory_not_equal(now.span_id, dbc_parent.span_id, 8);
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    dbc_cur = NULL;
    expect_line(o, "GET|2|2|served|");
    assert_non_null(strstr(o->log.log, "error.type=no_response"));
}

/* A traceparent of the program's own (not one a served request came
 * with): its request goes as it is, its span left to it. */
static void test_own_traceparent(void **state)
{
    uint8_t begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    uint64_t own = ss_count.headers_own;
    const fc_run_t *o;

    (void)state;
    conv_reset();
    rec(0, SS_FCGI_BEGIN_REQUEST, 1, begin, 8);
    REC(0, SS_FCGI_PARAMS, 1, "\x10\x37HTTP_TRACEPARENT00-11111111111111111111111111111111-2222222222222222-01");
    REC(0, SS_FCGI_PARAMS, 1, "");
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\0\0\0\0");
    o = fc_every_split(conv, 0, FC_CLOSE, NULL);
    assert_int_equal(o->nspans, 0);
    assert_int_equal(o->injected + o->replaced, 0);
    assert_true(ss_count.headers_own > own);
}

/* A copy split by a record header cannot be overwritten in place: the
 * request goes as it is, counted, its span still the served one's child. */
static void test_copy_split_across_records(void **state)
{
    uint8_t begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    const fc_run_t *o;

    (void)state;
    conv_reset();
    rec(0, SS_FCGI_BEGIN_REQUEST, 1, begin, 8);
    REC(0, SS_FCGI_PARAMS, 1, "\x10\x37HTTP_TRACEPARENT00-0af7651916cd43dd8448eb211c80319c");
    REC(0, SS_FCGI_PARAMS, 1, "-b7ad6b7169203331-01");
    REC(0, SS_FCGI_PARAMS, 1, "");
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\0\0\0\0");
    o = fc_every_split(conv, 0, FC_CLOSE, NULL);
    assert_int_equal(o->nspans, 1);
    assert_int_equal(o->not_injected, 1);
    expect_line(o, "HTTP|3|0|served|"); /* no REQUEST_METHOD */
}

/* An app server refusing a request (FCGI_OVERLOADED): the web server's
 * span says so; the app server's side, answered before any params, has
 * no request to show. */
static void test_refused_overloaded(void **state)
{
    uint8_t begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    const fc_run_t *o;

    (void)state;
    conv_reset();
    request(1, 0);
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\2\0\0\0");
    o = fc_every_split(conv, 0, FC_CLOSE, want_inserted);
    dump("overloaded", o);
    expect_line(o, "GET|3|2|served|");
    assert_non_null(strstr(o->log.log, "error.type=overloaded"));
    conv_reset();
    rec(0, SS_FCGI_BEGIN_REQUEST, 1, begin, 8);
    REC(1, SS_FCGI_END_REQUEST, 1, "\0\0\0\0\2\0\0\0");
    o = fc_every_split(conv, 1, FC_CLOSE, NULL);
    assert_int_equal(o->nspans, 0);
    assert_true(o->followed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nginx_copy_replaced, serving_tp, served),
        cmocka_unit_test_setup_teardown(test_apache_copy_replaced, serving_tp, served),
        cmocka_unit_test_setup_teardown(test_nginx_inserted, serving_tp, served),
        cmocka_unit_test_setup_teardown(test_nginx_post_inserted, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_apache_post_inserted, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_keep_conn, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_app_server_closed, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_abort, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_multiplexed, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_refused_overloaded, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_own_traceparent, serving_plain, served),
        cmocka_unit_test_setup_teardown(test_copy_split_across_records, serving_tp, served),
        cmocka_unit_test_setup_teardown(test_fpm_server, app_server, app_served),
        cmocka_unit_test_setup_teardown(test_fpm_keep_conn, app_server, app_served),
        cmocka_unit_test_setup_teardown(test_fpm_serves_while_running, app_server, app_served),
    };

    /* The spans' lines here are the protocol's attributes; a failed
     * exchange's code.stacktrace is test_stack's and test_stacks.py's. */
    ss_stack_mode = SS_STACKS_OFF;
    return cmocka_run_group_tests(tests, unit_config_setup, NULL);
}
