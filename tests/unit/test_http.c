/*
 * test_http.c - the HTTP/1.x parser, fed every way a stream can be split.
 *
 * Each case is a byte stream and the events it must produce, at exact
 * offsets. Every case is run whole, split in two at every byte, and one
 * byte at a time; the events, their offsets and the captured request
 * fields must be the same every time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_http.h"

#define MAX_EV 32
#define MAX_MSG 8

typedef struct trace {
    int n;
    ss_http_ev_t ev[MAX_EV];
    uint64_t at[MAX_EV];
    uint16_t status[MAX_EV];
    uint8_t framing[MAX_EV]; /* conn_close, conn_keep_alive << 1, chunked << 2 */
    ss_http_head_t heads[MAX_MSG];
    int nmsg;
} trace_t;

typedef struct hcase {
    const char *name;
    ss_http_kind_t kind;
    const char *in;
    size_t len;             /* 0: strlen(in) */
    const char *expect;     /* events: B=begin H=head end E=end X=error */
    int head_request;       /* responses: the request was HEAD */
    int eof;                /* expected ss_http_eof() at the end, 2 = not checked */
} hcase_t;

/* Feed `in` in pieces of at most `step` bytes (or split once at `split`). */
static void run(const hcase_t *c, size_t split, size_t step, trace_t *t)
{
    ss_http_t p;
    size_t len = c->len ? c->len : strlen(c->in), off = 0;

    memset(t, 0, sizeof(*t));
    ss_http_init(&p, c->kind);
    p.want_tp_end = 1;
    while (off < len) {
        size_t end = step ? off + step : (off < split ? split : len);
        size_t n;
        ss_http_ev_t ev;

        if (end > len)
            end = len;
        n = ss_http_feed(&p, c->in + off, end - off, &ev);
        off += n;
        if (ev == SS_HTTP_EV_NONE) {
            assert_int_equal(off, end);
            continue;
        }
        assert_true(t->n < MAX_EV);
        t->ev[t->n] = ev;
        t->at[t->n] = p.pos;
        t->status[t->n] = p.status;
        t->framing[t->n] = (uint8_t)(p.conn_close | p.conn_keep_alive << 1 | p.chunked << 2);
        t->n++;
        assert_int_equal(p.pos, off);
        if (ev == SS_HTTP_EV_BEGIN) {
            if (c->kind == SS_HTTP_REQUEST && t->nmsg < MAX_MSG)
                p.head = &t->heads[t->nmsg++];
            p.skip_body = (uint8_t)c->head_request;
        }
        if (ev == SS_HTTP_EV_ERROR)
            break;
    }
    if (c->eof != 2) {
        int e = ss_http_eof(&p);

        if (e == 1) {
            t->ev[t->n] = SS_HTTP_EV_END;
            t->at[t->n] = len;
            t->n++;
        }
        assert_int_equal(e, c->eof);
    }
}

static void expect_events(const hcase_t *c, const trace_t *t)
{
    size_t i, n = strlen(c->expect);
    static const char code[] = {'-', 'B', 'H', 'E', 'X', 'T'};

    for (i = 0; i < n && i < (size_t)t->n; i++)
        if (code[t->ev[i]] != c->expect[i])
            fail_msg("%s: event %zu is %c, expected %c", c->name, i, code[t->ev[i]],
                     c->expect[i]);
    if ((size_t)t->n != n)
        fail_msg("%s: %d events, expected %zu", c->name, t->n, n);
}

static void same_trace(const hcase_t *c, const trace_t *a, const trace_t *b, size_t split)
{
    int i;

    if (a->n != b->n)
        fail_msg("%s split at %zu: %d events vs %d", c->name, split, b->n, a->n);
    for (i = 0; i < a->n; i++) {
        if (a->ev[i] != b->ev[i] || a->at[i] != b->at[i] || a->status[i] != b->status[i] ||
            a->framing[i] != b->framing[i])
            fail_msg("%s split at %zu: event %d differs", c->name, split, i);
    }
    assert_int_equal(a->nmsg, b->nmsg);
    for (i = 0; i < a->nmsg; i++)
        assert_memory_equal(&a->heads[i], &b->heads[i], sizeof(ss_http_head_t));
}

/* Run whole, at every split point and byte by byte. */
static void check_case(const hcase_t *c, trace_t *whole)
{
    size_t len = c->len ? c->len : strlen(c->in), k;
    trace_t t;

    run(c, len, 0, whole);
    expect_events(c, whole);
    for (k = 1; k < len; k++) {
        run(c, k, 0, &t);
        same_trace(c, whole, &t, k);
    }
    run(c, 0, 1, &t);
    same_trace(c, whole, &t, 1);
}

/* Every case of a table, each as check_case() does. */
#define CHECK_CASES(cases)                                                  \
    do {                                                                    \
        trace_t t_;                                                         \
        size_t i_;                                                          \
                                                                            \
        for (i_ = 0; i_ < sizeof(cases) / sizeof((cases)[0]); i_++)         \
            check_case(&(cases)[i_], &t_);                                  \
    } while (0)

#define FIELD_EQ(h, f, s)                                   \
    do {                                                    \
        assert_int_equal((h)->f##_len, strlen(s));          \
        assert_memory_equal((h)->f, s, strlen(s));          \
    } while (0)

static void test_get_with_context(void **state)
{
    static const char req[] =
        "GET /a/b?x=1 HTTP/1.1\r\n"
        "Host: example.com:8080\r\n"
        "User-Agent:  curl/7.88.1  \r\n"
        "TraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
        "tracestate: a=1\r\n"
        "X-Other: y\r\n"
        "TRACESTATE: b=2 , c=3\r\n"
        "\r\n";
    hcase_t c = {"get", SS_HTTP_REQUEST, req, 0, "BTHE", 0, 0};
    trace_t t;
    const ss_http_head_t *h;

    (void)state;
    check_case(&c, &t);
    assert_int_equal(t.at[1], strstr(req, "-01\r\n") + 3 - req); /* TP_END at its line end */
    assert_int_equal(t.at[2], strlen(req) - 2); /* HEAD_END is at the empty line */
    h = &t.heads[0];
    FIELD_EQ(h, method, "GET");
    FIELD_EQ(h, target, "/a/b?x=1");
    FIELD_EQ(h, host, "example.com:8080");
    FIELD_EQ(h, ua, "curl/7.88.1");
    FIELD_EQ(h, tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    FIELD_EQ(h, ts, "a=1,b=2 , c=3");
    assert_int_equal(h->tp_count, 1);
    assert_int_equal(h->ts_count, 2);
    assert_int_equal(h->tp_pos, strstr(req, "00-4bf9") - req);
}

static void test_post_content_length(void **state)
{
    hcase_t c = {"post-cl", SS_HTTP_REQUEST,
                 "POST /x HTTP/1.1\r\nContent-Length: 11\r\nHost: h\r\n\r\nhello world"
                 "GET /y HTTP/1.0\r\n\r\n",
                 0, "BHEBHE", 0, 0};
    trace_t t;

    (void)state;
    check_case(&c, &t);
    assert_int_equal(t.at[2], strstr(c.in, "GET") - c.in);
    FIELD_EQ(&t.heads[1], target, "/y");
}

static void test_chunked_with_trailers(void **state)
{
    hcase_t c = {"chunked", SS_HTTP_REQUEST,
                 "PUT /c HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                 "5;ext=1\r\nhello\r\n"
                 "A \r\n0123456789\r\n"
                 "0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n"
                 "\r\nDELETE /d HTTP/1.1\r\n\r\n",
                 0, "BHEBHE", 0, 0};
    trace_t t;

    (void)state;
    check_case(&c, &t);
    FIELD_EQ(&t.heads[1], method, "DELETE");
}

static void test_bare_lf(void **state)
{
    hcase_t c = {"lf", SS_HTTP_REQUEST, "GET / HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\n\n", 0,
                 "BHEBHE", 0, 0};
    trace_t t;

    (void)state;
    check_case(&c, &t);
    FIELD_EQ(&t.heads[0], host, "h");
}

static void test_obs_fold_and_long_names(void **state)
{
    hcase_t c = {"fold", SS_HTTP_REQUEST,
                 "GET / HTTP/1.1\r\nX-Folded: a\r\n  continued\r\n"
                 "X-A-Very-Long-Header-Name-That-Is-Not-Interesting: v\r\nHost: h\r\n\r\n",
                 0, "BHE", 0, 0};
    trace_t t;

    (void)state;
    check_case(&c, &t);
    FIELD_EQ(&t.heads[0], host, "h");
}

/* Headers nobody reads, each line whole, are taken to their end at once:
 * the same events and fields as byte by byte, at every split; a NUL in
 * such a value still ends the stream, a bare LF still ends the line. */
static void test_unread_headers(void **state)
{
    static const char nul[] = "GET / HTTP/1.1\r\nAccept: a\0b\r\nHost: h\r\n\r\n";
    hcase_t cases[] = {
        {"unread", SS_HTTP_REQUEST,
         "GET /a HTTP/1.1\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\nX-Empty:\r\n"
         "X-Tab: \tx\t\r\nHost: shop\r\nCookie: a=1; b=2\r\nUser-Agent: ua\r\n\r\n",
         0, "BHE", 0, 0},
        {"unread-lf", SS_HTTP_REQUEST, "GET / HTTP/1.1\r\nAccept: x\nHost: h\r\n\r\n", 0,
         "BHE", 0, 0},
        {"unread-nul", SS_HTTP_REQUEST, nul, sizeof(nul) - 1, "BX", 0, 2},
        /* names the 16-byte compare stops in or runs past: '_' and '~'
         * (tchars it leaves to the table), exactly 16 letters, 17 */
        {"name-bytes", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nX_Forwarded~For: a\r\nAbcdefghijklmnop: b\r\n"
         "Abcdefghijklmnopq: c\r\n_x: d\r\nHost: h\r\n\r\n", 0, "BHE", 0, 0},
        {"name-high-byte", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nX-Caf\xc3\xa9-Header-Name: v\r\nHost: h\r\n\r\n", 0, "BX", 0, 2},
        {"name-space", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nX-Long-Header-Name : v\r\nHost: h\r\n\r\n", 0, "BX", 0, 2},
        {"unread-response", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 03 Dec 2026 19:00:00 GMT\r\n"
         "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n",
         0, "BHE", 0, 0},
    };
    size_t i;
    trace_t t;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_case(&cases[i], &t);
        if (i == 0) {
            FIELD_EQ(&t.heads[0], host, "shop");
            FIELD_EQ(&t.heads[0], ua, "ua");
            FIELD_EQ(&t.heads[0], target, "/a");
        } else if (i == 1 || i == 3) {
            FIELD_EQ(&t.heads[0], host, "h");
        }
    }
}

/* Connection and Transfer-Encoding: the usual single tokens, taken whole
 * when their line is, give what the bytes one by one give, at every split,
 * and so do lists, spaces, other cases and other tokens. */
static void test_framing_tokens(void **state)
{
    hcase_t cases[] = {
        {"keep-alive", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 0, "BHE",
         0, 0},
        {"close", SS_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxyz", 0, "BHE",
         0, 1},
        {"chunked", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n", 0,
         "BHE", 0, 0},
        {"chunked-last", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
         0, "BHE", 0, 0},
        {"chunked-space", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked \r\n\r\n1\r\nx\r\n0\r\n\r\n", 0,
         "BHE", 0, 0},
        {"not-chunked", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkex\r\n\r\n1\r\nx", 0, "BHE", 0, 1},
        {"list", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n", 0, "BHE", 0,
         0},
        {"cr-in-token", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nConnection: keep\ralive\r\n\r\n", 0, "BX", 0, 2},
    };
    /* the flags at HEAD_END (close 1, keep-alive 2, chunked 4); -1: not looked at */
    static const int framing[] = {2, 1, 4, 4, -1, 0, -1, -1};
    size_t i;
    trace_t t;

    (void)state;
    _Static_assert(sizeof(framing) / sizeof(framing[0]) == sizeof(cases) / sizeof(cases[0]),
                   "a flag per case");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_case(&cases[i], &t);
        if (framing[i] >= 0)
            assert_int_equal(t.framing[1], framing[i]);
    }
}

static void test_not_http(void **state)
{
    static const char tls[] = "\x16\x03\x01\x02\x00\x01";
    hcase_t cases[] = {
        {"tls", SS_HTTP_REQUEST, tls, sizeof(tls) - 1, "X", 0, 2},
        {"redis", SS_HTTP_REQUEST, "*1\r\n$4\r\nPING\r\n", 0, "BX", 0, 2},
        {"inline", SS_HTTP_REQUEST, "PING\r\n", 0, "BX", 0, 2},
        {"h2", SS_HTTP_REQUEST, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, "BX", 0, 2},
        {"http09", SS_HTTP_REQUEST, "GET /\r\n", 0, "BX", 0, 2},
        {"smtp", SS_HTTP_RESPONSE, "220 mail ESMTP\r\n", 0, "X", 0, 2},
        {"cl-conflict", SS_HTTP_REQUEST,
         "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, "BX", 0, 2},
        {"cl-garbage", SS_HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 0,
         "BX", 0, 2},
        {"space-before-colon", SS_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 0, "BX",
         0, 2},
    };

    (void)state;
    CHECK_CASES(cases);
}

static void test_cl_repeated_same_value(void **state)
{
    hcase_t c = {"cl-same", SS_HTTP_REQUEST,
                 "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 0,
                 "BHE", 0, 0};
    trace_t t;

    (void)state;
    check_case(&c, &t);
}

static void test_responses(void **state)
{
    hcase_t cases[] = {
        {"200-cl", SS_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
         "BHE", 0, 0},
        {"no-reason", SS_HTTP_RESPONSE, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0, "BHE",
         0, 0},
        {"chunked", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
         0, "BHE", 0, 0},
        {"204", SS_HTTP_RESPONSE, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
                                  "HTTP/1.1 304 Not Modified\r\n\r\n", 0, "BHEBHE", 0, 0},
        {"head", SS_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0, "BHE",
         1, 0},
        {"100-continue", SS_HTTP_RESPONSE,
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 0,
         "BHEBHE", 0, 0},
        {"close-delimited", SS_HTTP_RESPONSE, "HTTP/1.0 200 OK\r\n\r\nuntil the end", 0, "BHE",
         0, 1},
        {"truncated", SS_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
         0, "BH", 0, -1},
        {"truncated-head", SS_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-", 0, "B", 0, -1},
        {"keep-alive", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
         "HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nb", 0, "BHEBHE", 0, 0},
        {"bad-status", SS_HTTP_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n", 0, "BX", 0, 2},
    };
    size_t i;
    trace_t t;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], &t);
    check_case(&cases[5], &t);
    assert_int_equal(t.status[1], 100);
    assert_int_equal(t.status[4], 201);
}

/* Feed all of s; the last event. */
static ss_http_ev_t feed_all(ss_http_t *p, const char *s, size_t n)
{
    ss_http_ev_t ev = SS_HTTP_EV_NONE;

    while (n) {
        size_t used = ss_http_feed(p, s, n, &ev);

        s += used;
        n -= used;
    }
    return ev;
}

/* The status is known once the status line is whole, head or not (python's
 * http.server --cgi writes only that line and two headers itself), fed
 * whole or a byte at a time; not before, not between messages. */
static void test_status_before_head(void **state)
{
    static const char part[] = "HTTP/1.0 200 Script output follows\r\nServer: x\r\n";
    static const char line_cut[] = "HTTP/1.1 404";
    ss_http_t p;
    size_t i;

    (void)state;
    ss_http_init(&p, SS_HTTP_RESPONSE);
    assert_int_equal(ss_http_status(&p), 0);
    assert_int_equal(feed_all(&p, part, sizeof(part) - 1), SS_HTTP_EV_NONE);
    assert_int_equal(ss_http_status(&p), 200);

    ss_http_init(&p, SS_HTTP_RESPONSE);
    for (i = 0; i < sizeof(line_cut) - 1; i++) {
        feed_all(&p, line_cut + i, 1);
        assert_int_equal(ss_http_status(&p), 0); /* "404" may go on: "4041" */
    }
    feed_all(&p, "\r", 1);
    assert_int_equal(ss_http_status(&p), 404);
    feed_all(&p, "\n\r\nbody", 7);
    assert_int_equal(ss_http_status(&p), 404); /* in a body delimited by the close */

    ss_http_init(&p, SS_HTTP_REQUEST);
    feed_all(&p, "GET / HTTP/1.1\r\n", 16);
    assert_int_equal(ss_http_status(&p), 0);
}

/* Messages as real programs write them. */
static void test_real_messages(void **state)
{
    hcase_t cases[] = {
        {"curl", SS_HTTP_REQUEST,
         "GET /checkout?item=42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
         "Accept: */*\r\n\r\n", 0, "BHE", 0, 0},
        {"urllib", SS_HTTP_REQUEST,
         "POST /orders HTTP/1.1\r\nAccept-Encoding: identity\r\nContent-Length: 22\r\n"
         "Host: 127.0.0.1:9000\r\nUser-Agent: Python-urllib/3.11\r\n"
         "Content-Type: application/json\r\nConnection: close\r\n\r\n{\"item\": 42, \"qty\": 3}",
         0, "BHE", 0, 0},
        {"http.server", SS_HTTP_RESPONSE,
         "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
         "Date: Sun, 22 Nov 2026 02:48:57 GMT\r\nContent-type: text/html; charset=utf-8\r\n"
         "Content-Length: 13\r\n\r\n<html></html>", 0, "BHE", 0, 0},
        {"nginx-chunked", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 02:48:57 GMT\r\n"
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
         "Connection: keep-alive\r\n\r\n15\r\n{\"item\":42,\"stock\":7}\r\n0\r\n\r\n", 0, "BHE", 0, 0},
        {"node-keepalive", SS_HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 02:48:57 GMT\r\nConnection: keep-alive\r\n"
         "Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok", 0, "BHE", 0, 0},
    };

    (void)state;
    CHECK_CASES(cases);
}

static void test_caps(void **state)
{
    char req[4096];
    hcase_t c = {"caps", SS_HTTP_REQUEST, req, 0, "BHE", 0, 0};
    trace_t t;
    ss_http_t p;
    ss_http_ev_t ev;
    size_t n;

    (void)state;
    memset(req, 0, sizeof(req));
    strcpy(req, "GET /");
    memset(req + 5, 'a', 1000);
    strcat(req, " HTTP/1.1\r\nHost: h\r\n\r\n");
    run(&c, strlen(req), 0, &t);
    expect_events(&c, &t);
    assert_int_equal(t.heads[0].target_len, SS_HTTP_TARGET_MAX);
    assert_int_equal(t.heads[0].target_trunc, 1);
    /* A method longer than any real one is not HTTP. */
    ss_http_init(&p, SS_HTTP_REQUEST);
    memset(req, 'A', 64);
    n = ss_http_feed(&p, req, 64, &ev);
    assert_int_equal(ev, SS_HTTP_EV_BEGIN);
    ss_http_feed(&p, req + n, 64 - n, &ev);
    assert_int_equal(ev, SS_HTTP_EV_ERROR);
}

/* The word-at-a-time paths: names matched in place in any case (and the
 * near misses that must not match), control bytes inside and at the edge
 * of an 8-byte word, a DEL in a long target. Split at every byte, so each
 * is also taken byte by byte and must come out the same. */
static void test_word_edges(void **state)
{
    static const char names[] =
        "POST /x HTTP/1.1\r\n"
        "CONTENT-LENGTX: 9\r\n"      /* 14 bytes, last one differs: not framing */
        "content-LENGTH: 3\r\n"
        "Hos: a\r\nHostx: b\r\nhOST: shop\r\n"
        "USER-AGENT: a\tbcdefghijklmnop\x01q\tr\r\n"
        "Transfer-EncodinG: identity\r\n"
        "\r\nabc";
    static const char nul[] = "GET / HTTP/1.1\r\nX-Long: abcdefghijk\0mnopqrstu\r\n\r\n";
    hcase_t cases[] = {
        {"nul-in-long-value", SS_HTTP_REQUEST, nul, sizeof(nul) - 1, "BX", 0, 2},
        {"del-in-long-target", SS_HTTP_REQUEST, "GET /abcdefghijklm\x7fnop HTTP/1.1\r\n\r\n", 0,
         "BX", 0, 2},
        {"cr-alone-in-value", SS_HTTP_REQUEST,
         "GET / HTTP/1.1\r\nX-Long: abcdefgh\rijklmnop\r\n\r\n", 0, "BX", 0, 2},
        {"version-1.2", SS_HTTP_REQUEST, "GET / HTTP/1.2\r\n\r\n", 0, "BX", 0, 2},
    };
    hcase_t c = {"names", SS_HTTP_REQUEST, names, 0, "BHE", 0, 2};
    const ss_http_head_t *h;
    size_t i;
    trace_t t;

    (void)state;
    check_case(&c, &t);
    assert_int_equal(t.at[2], strlen(names)); /* the body is the 3 bytes of content-LENGTH */
    h = &t.heads[0];
    FIELD_EQ(h, host, "shop");
    FIELD_EQ(h, ua, "a\tbcdefghijklmnop\x01q\tr");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], &t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_context),
        cmocka_unit_test(test_post_content_length),
        cmocka_unit_test(test_chunked_with_trailers),
        cmocka_unit_test(test_bare_lf),
        cmocka_unit_test(test_obs_fold_and_long_names),
        cmocka_unit_test(test_unread_headers),
        cmocka_unit_test(test_framing_tokens),
        cmocka_unit_test(test_not_http),
        cmocka_unit_test(test_cl_repeated_same_value),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_status_before_head),
        cmocka_unit_test(test_real_messages),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_word_edges),
    };

    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
