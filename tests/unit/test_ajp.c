/*
 * test_ajp.c - the AJP13 reader (ss_ajp.h) fed conversations as Apache's
 * mod_proxy_ajp and Tomcat write them (ajp_wire.h) and broken ones, whole,
 * cut in two at every offset and byte by byte: every way must report the
 * same events with the same offsets, and stop at the same place for the
 * same reason. Detection against the first bytes of other protocols.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_ajp.h"
#include "ajp_wire.h"

#define TO SS_AJP_TO_CONTAINER
#define FROM SS_AJP_FROM_CONTAINER
#define LOG_MAX 8192

typedef struct piece {
    int dir;
    const char *p;
    size_t n;
} piece_t;

#define P(dir, a) {(dir), AJP_BYTES(a)}
#define END_PIECES {0, NULL, 0}

typedef struct log {
    char text[LOG_MAX];
    size_t len;
    char val[1024];
    size_t val_len;
} log_t;

static void say(log_t *l, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    l->len += (size_t)vsnprintf(l->text + l->len, LOG_MAX - l->len, fmt, ap);
    va_end(ap);
    assert_true(l->len < LOG_MAX);
}

static void on_event(log_t *l, const ss_ajp_t *a, const ss_ajp_ev_t *ev)
{
    switch (ev->type) {
    case SS_AJP_EV_REQUEST:
        say(l, "request at=%llu len=%u\n", (unsigned long long)a->pkt_at, a->pkt_len);
        break;
    case SS_AJP_EV_METHOD:
        say(l, "method %s\n", ss_ajp_method_name(a->method) ? ss_ajp_method_name(a->method) : "?");
        break;
    case SS_AJP_EV_VALUE_BEGIN:
        l->val_len = 0;
        break;
    case SS_AJP_EV_VALUE_BYTES:
        assert_true(ev->n > 0 && l->val_len + ev->n < sizeof(l->val));
        memcpy(l->val + l->val_len, ev->p, ev->n);
        l->val_len += ev->n;
        break;
    case SS_AJP_EV_VALUE_END:
        assert_int_equal(l->val_len, a->val_len);
        say(l, "value %d at=%llu '%.*s'\n", a->field, (unsigned long long)a->val_at,
            (int)l->val_len, l->val);
        break;
    case SS_AJP_EV_HEADERS:
        say(l, "headers n=%u port=%u ssl=%u at=%llu\n", a->num_headers, a->server_port, a->is_ssl,
            (unsigned long long)a->hdrs_at);
        break;
    case SS_AJP_EV_REQUEST_END:
        say(l, "request_end attrs_at=%llu cl=%llu\n", (unsigned long long)a->attrs_at,
            (unsigned long long)a->content_length);
        break;
    case SS_AJP_EV_CPING:
        say(l, "cping\n");
        break;
    case SS_AJP_EV_SEND_HEADERS:
        say(l, "status %u\n", a->status);
        break;
    case SS_AJP_EV_BODY_CHUNK:
        say(l, "chunk\n");
        break;
    case SS_AJP_EV_GET_BODY:
        say(l, "get_body\n");
        break;
    case SS_AJP_EV_END_RESPONSE:
        say(l, "end reuse=%u\n", a->reuse);
        break;
    case SS_AJP_EV_CPONG:
        say(l, "cpong\n");
        break;
    case SS_AJP_EV_ERROR:
        say(l, "error %s\n", ss_ajp_why(a));
        break;
    case SS_AJP_EV_NONE:
        break;
    }
}

/* Feed p[0..n) of one direction; 0 once it stopped. */
static int feed(ss_ajp_t *a, log_t *l, int dir, const char *p, size_t n)
{
    while (n) {
        ss_ajp_ev_t ev;
        size_t used = ss_ajp_feed(a, dir, p, n, &ev);

        on_event(l, a, &ev);
        if (ev.type == SS_AJP_EV_ERROR)
            return 0;
        assert_true(used > 0 && used <= n);
        p += used;
        n -= used;
    }
    return 1;
}

/* The conversation cut at global offset cut (0: whole pieces), or byte by
 * byte; the log it gave. */
static void run(const piece_t *w, size_t cut, int bytewise, log_t *l)
{
    ss_ajp_t a;
    size_t off = 0;
    int ok = 1;

    memset(l, 0, sizeof(*l));
    ss_ajp_init(&a);
    for (; w->p && ok; w++) {
        size_t at = cut > off && cut < off + w->n ? cut - off : 0;

        if (bytewise)
            for (size_t i = 0; i < w->n && ok; i++)
                ok = feed(&a, l, w->dir, w->p + i, 1);
        else if (at)
            ok = feed(&a, l, w->dir, w->p, at) && feed(&a, l, w->dir, w->p + at, w->n - at);
        else
            ok = feed(&a, l, w->dir, w->p, w->n);
        off += w->n;
    }
}

static size_t total(const piece_t *w)
{
    size_t n = 0;

    for (; w->p; w++)
        n += w->n;
    return n;
}

/* Every way of feeding w gives `want`. */
static void check_every_split(const piece_t *w, const char *want)
{
    log_t whole, other;
    size_t cut, n = total(w);

    run(w, 0, 0, &whole);
    assert_string_equal(whole.text, want);
    run(w, 0, 1, &other);
    assert_string_equal(other.text, want);
    for (cut = 1; cut < n; cut++) {
        run(w, cut, 0, &other);
        if (strcmp(other.text, want) != 0)
            fail_msg("cut at %zu:\n%s\nwanted:\n%s", cut, other.text, want);
    }
}

/* ---- conversations ---------------------------------------------------------- */

static void test_get_kept_alive(void **state)
{
    static const piece_t w[] = {
        P(TO, AJP_GET_TP), P(FROM, AJP_HEADERS_200), P(FROM, AJP_CHUNK), P(FROM, AJP_END),
        P(TO, AJP_GET),    P(FROM, AJP_HEADERS_500), P(FROM, AJP_END_CLOSE), END_PIECES,
    };
    (void)state;
    check_every_split(w, "request at=0 len=243\n"
                         "method GET\n"
                         "value 1 at=8 'HTTP/1.1'\n"
                         "value 2 at=19 '/app/page.jsp'\n"
                         "value 3 at=35 '127.0.0.1'\n"
                         "value 5 at=49 '127.0.0.1'\n"
                         "headers n=4 port=36562 ssl=0 at=64\n"
                         "value 6 at=68 '127.0.0.1:36562'\n"
                         "value 7 at=88 'curl/test'\n"
                         "value 8 at=122 '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'\n"
                         "value 10 at=181 'a=1&b=2'\n"
                         "request_end attrs_at=178 cl=0\n"
                         "status 200\n"
                         "chunk\n"
                         "end reuse=1\n"
                         "request at=247 len=171\n"
                         "method GET\n"
                         "value 1 at=255 'HTTP/1.1'\n"
                         "value 2 at=266 '/app/page.jsp'\n"
                         "value 3 at=282 '127.0.0.1'\n"
                         "value 5 at=296 '127.0.0.1'\n"
                         "headers n=3 port=36562 ssl=0 at=311\n"
                         "value 6 at=315 '127.0.0.1:36562'\n"
                         "value 7 at=335 'curl/test'\n"
                         "value 10 at=356 'a=1&b=2'\n"
                         "request_end attrs_at=353 cl=0\n"
                         "status 500\n"
                         "end reuse=0\n");
}

/* A body sent unasked after its request, then asked for (the empty packet:
 * its end), and a CPING between two exchanges. */
static void test_post_body_and_cping(void **state)
{
    static const piece_t w[] = {
        P(TO, AJP_CPING),        P(FROM, AJP_CPONG),        P(TO, AJP_POST),
        P(TO, AJP_POST_BODY),    P(FROM, AJP_GET_BODY),     P(TO, AJP_BODY_END),
        P(FROM, AJP_HEADERS_200), P(FROM, AJP_CHUNK),       P(FROM, AJP_END),
        P(TO, AJP_CPING),        P(FROM, AJP_CPONG),        END_PIECES,
    };
    (void)state;
    check_every_split(w, "cping\n"
                         "cpong\n"
                         "request at=5 len=202\n"
                         "method POST\n"
                         "value 1 at=13 'HTTP/1.1'\n"
                         "value 2 at=24 '/app/post'\n"
                         "value 3 at=36 '127.0.0.1'\n"
                         "value 5 at=50 '127.0.0.1'\n"
                         "headers n=5 port=36562 ssl=0 at=65\n"
                         "value 6 at=69 '127.0.0.1:36562'\n"
                         "value 7 at=89 'curl/7.88.1'\n"
                         "request_end attrs_at=153 cl=7\n"
                         "get_body\n"
                         "status 200\n"
                         "chunk\n"
                         "end reuse=1\n"
                         "cping\n"
                         "cpong\n");
}

/* A body the container never asked for the rest of: the next request after
 * END_RESPONSE is read as one, not as body. A chunked body (no
 * Content-Length) comes only when asked. */
static void test_body_owed_ends_with_response(void **state)
{
    static const piece_t w[] = {
        P(TO, AJP_GET), P(FROM, AJP_GET_BODY), P(TO, AJP_POST_BODY), P(FROM, AJP_GET_BODY),
        P(FROM, AJP_END), P(TO, AJP_CPING), END_PIECES,
    };
    log_t l;

    (void)state;
    run(w, 0, 0, &l);
    assert_non_null(strstr(l.text, "request_end attrs_at=106 cl=0\nget_body\nget_body\nend reuse=1\ncping\n"));
}

/* String header names in any case, a stored method, SSL and its key size. */
static void test_string_names_and_attributes(void **state)
{
    static const char req[] =
        "\x12\x34\x00\x6b"
        "\x02\xff"                                  /* method stored as an attribute */
        "\x00\x08HTTP/1.0\x00"
        "\x00\x01/\x00"
        "\x00\x03::1\x00"
        "\x00\x05h.exa\x00"
        "\x00\x00\x00"                              /* an empty server_name */
        "\x01\xbb\x01"                              /* 443, ssl */
        "\x00\x03"
        "\x00\x04HOST\x00\x00\x01h\x00"
        "\x00\x0aUser-Agent\x00\x00\x02ua\x00"
        "\x00\x0aTraceState\x00\x00\x03k=v\x00"
        "\x0b\x00\x80"                              /* ssl_key_size: a number */
        "\x0d\x00\x05PATCH\x00"                     /* stored_method */
        "\x08\x00\x03" "AES\x00"                    /* ssl_cipher: passed over */
        "\xff";
    static const piece_t w[] = {{TO, AJP_BYTES(req)}, P(FROM, AJP_HEADERS_200), P(FROM, AJP_END), END_PIECES};

    (void)state;
    check_every_split(w, "request at=0 len=107\n"
                         "method ?\n"
                         "value 1 at=8 'HTTP/1.0'\n"
                         "value 2 at=19 '/'\n"
                         "value 3 at=23 '::1'\n"
                         "value 4 at=29 'h.exa'\n"
                         "value 5 at=37 ''\n"
                         "headers n=3 port=443 ssl=1 at=43\n"
                         "value 6 at=52 'h'\n"
                         "value 7 at=69 'ua'\n"
                         "value 9 at=87 'k=v'\n"
                         "value 11 at=97 'PATCH'\n"
                         "request_end attrs_at=91 cl=0\n"
                         "status 200\n"
                         "end reuse=1\n");
}

/* ---- what is not AJP13 ---------------------------------------------------------- */

static void expect_error(const char *bytes, size_t n, int dir, const char *why)
{
    piece_t w[2] = {{dir, bytes, n}, END_PIECES};
    char want[64];
    log_t l;

    snprintf(want, sizeof(want), "error %s\n", why);
    run(w, 0, 0, &l);
    if (strstr(l.text, want) == NULL)
        fail_msg("wanted %s, got:\n%s", want, l.text);
    check_every_split(w, l.text);
}

static void test_errors(void **state)
{
    static const char bad_magic[] = "\x12\x35\x00\x01\x0a";
    static const char from_magic[] = "AC\x00\x01\x09";
    static const char bad_code[] = "\x12\x34\x00\x01\x07";      /* SHUTDOWN */
    static const char from_code[] = "AB\x00\x01\x02";
    static const char empty[] = "\x12\x34\x00\x00";
    static const char short_fr[] = "\x12\x34\x00\x05\x02\x02\x00\x00\x00";
    /* Five empty strings between the method and the port. */
#define EMPTY5 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
#define EMPTY4 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    static const char bad_method[] = "\x12\x34\x00\x17\x02\x40" EMPTY5 "\x00\x00\x00\x00\x00\xff";
    static const char long_string[] = "\x12\x34\x00\x17\x02\x02\x00\x40\x00" EMPTY4 "\x00\x00\x00\x00\x00\xff";
    static const char no_nul[] = "\x12\x34\x00\x18\x02\x02\x00\x01Hx" EMPTY4 "\x00\x00\x00\x00\x00\xff";
    static const char bad_header_code[] =
        "\x12\x34\x00\x1c\x02\x02" EMPTY5 "\x00\x00\x00\x00\x01\xa0\x0f\x00\x00\x00\xff";
    static const char bad_attr[] = "\x12\x34\x00\x18\x02\x02" EMPTY5 "\x00\x00\x00\x00\x00\x42\xff";
    static const char no_done[] = "\x12\x34\x00\x1a\x02\x02" EMPTY5 "\x00\x00\x00\x00\x00\x05\x00\x00\x00";
    static const char end_short[] = "AB\x00\x01\x05";

    (void)state;
    expect_error(AJP_BYTES(bad_magic), TO, "magic");
    expect_error(AJP_BYTES(from_magic), FROM, "magic");
    expect_error(AJP_BYTES(AJP_GET), FROM, "magic");
    expect_error(AJP_BYTES(bad_code), TO, "code");
    expect_error(AJP_BYTES(from_code), FROM, "code");
    expect_error(AJP_BYTES(empty), TO, "length");
    expect_error(AJP_BYTES(short_fr), TO, "length");
    expect_error(AJP_BYTES(bad_method), TO, "value");
    expect_error(AJP_BYTES(long_string), TO, "length");
    expect_error(AJP_BYTES(no_nul), TO, "value");
    expect_error(AJP_BYTES(bad_header_code), TO, "value");
    expect_error(AJP_BYTES(bad_attr), TO, "code");
    expect_error(AJP_BYTES(no_done), TO, "length");
    expect_error(AJP_BYTES(end_short), FROM, "length");
}

/* After an error nothing more is read. */
static void test_stops(void **state)
{
    ss_ajp_t a;
    ss_ajp_ev_t ev;

    (void)state;
    ss_ajp_init(&a);
    assert_int_equal(ss_ajp_feed(&a, TO, "GET ", 4, &ev), 1);
    assert_int_equal(ev.type, SS_AJP_EV_ERROR);
    assert_int_equal(ss_ajp_feed(&a, TO, AJP_BYTES(AJP_CPING), &ev), 0);
    assert_int_equal(ev.type, SS_AJP_EV_ERROR);
    assert_string_equal(ss_ajp_why(&a), "magic");
}

/* ---- detection ------------------------------------------------------------------- */

static int detect(const char *p, size_t n)
{
    return ss_ajp_detect((const uint8_t *)p, n);
}

static void test_detect(void **state)
{
    static const char pg_startup[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f";
    static const char mysql_greeting[] = "\x4a\x00\x00\x00\x0a" "8.0.36\x00";
    static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    static const char shutdown[] = "\x12\x34\x00\x01\x07";
    static const char cping_long[] = "\x12\x34\x00\x02\x0a\x00";
    static const char fr_short_len[] = "\x12\x34\x00\x08\x02\x02\x00\x08";
    static const char fr_bad_method[] = "\x12\x34\x00\xab\x02\x00\x00\x08";
    static const char fr_long_proto[] = "\x12\x34\x00\xab\x02\x02\x00\x80";
    size_t i;

    (void)state;
    assert_int_equal(detect(AJP_BYTES(AJP_GET)), 1);
    assert_int_equal(detect(AJP_BYTES(AJP_POST)), 1);
    assert_int_equal(detect(AJP_BYTES(AJP_CPING)), 1);
    for (i = 1; i < 8; i++)
        assert_int_equal(detect(AJP_GET, i), -1);
    for (i = 1; i < 5; i++)
        assert_int_equal(detect(AJP_CPING, i), -1);
    assert_int_equal(detect(AJP_BYTES("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 0);
    assert_int_equal(detect(AJP_BYTES("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), 0);
    assert_int_equal(detect(AJP_BYTES("*1\r\n$4\r\nPING\r\n")), 0);
    assert_int_equal(detect(AJP_BYTES(pg_startup)), 0);
    assert_int_equal(detect(AJP_BYTES(mysql_greeting)), 0);
    assert_int_equal(detect(AJP_BYTES(tls_hello)), 0);
    assert_int_equal(detect(AJP_BYTES(AJP_HEADERS_200)), 0); /* the container's side */
    assert_int_equal(detect(AJP_BYTES(AJP_POST_BODY)), 0);
    assert_int_equal(detect(AJP_BYTES(shutdown)), 0);
    assert_int_equal(detect(AJP_BYTES(cping_long)), 0);
    assert_int_equal(detect(AJP_BYTES(fr_short_len)), 0);
    assert_int_equal(detect(AJP_BYTES(fr_bad_method)), 0);
    assert_int_equal(detect(AJP_BYTES(fr_long_proto)), 0);
}

static void test_method_names(void **state)
{
    (void)state;
    assert_string_equal(ss_ajp_method_name(1), "OPTIONS");
    assert_string_equal(ss_ajp_method_name(2), "GET");
    assert_string_equal(ss_ajp_method_name(4), "POST");
    assert_string_equal(ss_ajp_method_name(27), "MKACTIVITY");
    assert_null(ss_ajp_method_name(0));
    assert_null(ss_ajp_method_name(28));
    assert_null(ss_ajp_method_name(0xff));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_kept_alive),
        cmocka_unit_test(test_post_body_and_cping),
        cmocka_unit_test(test_body_owed_ends_with_response),
        cmocka_unit_test(test_string_names_and_attributes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_stops),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_method_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
