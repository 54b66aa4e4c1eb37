/*
 * test_tctx.c - W3C Trace Context, one test per rule of the reference
 * checklist (shared/reference/tracecontext.md), in its order. Rules that
 * are about whole requests (header names, repeated headers, injection)
 * are checked here through the parser and the connection tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_http.h"
#include "../../preload/ss_tctx.h"

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static int tp_ok(const char *s)
{
    ss_ctx_t c;

    return ss_tp_parse(s, strlen(s), &c);
}

static const char *ts_fwd(const char *in, char *out)
{
    size_t n = ss_ts_forward(in, strlen(in), 0, out);

    return n ? out : "";
}

/* Parse one request head and return its captured fields. */
static void parse_head(const char *req, ss_http_head_t *h)
{
    ss_http_t p;
    ss_http_ev_t ev;
    size_t off = 0, len = strlen(req);

    memset(h, 0, sizeof(*h));
    ss_http_init(&p, SS_HTTP_REQUEST);
    while (off < len) {
        off += ss_http_feed(&p, req + off, len - off, &ev);
        if (ev == SS_HTTP_EV_BEGIN)
            p.head = h;
        assert_int_not_equal(ev, SS_HTTP_EV_ERROR);
    }
}

/* traceparent: header name is case-insensitive; other spellings are other headers. */
static void test_tp_header_name(void **state)
{
    ss_http_head_t h;

    (void)state;
    parse_head("GET / HTTP/1.1\r\nTraceParent: " TP "\r\n\r\n", &h);
    assert_int_equal(h.tp_count, 1);
    parse_head("GET / HTTP/1.1\r\nTRACEPARENT: " TP "\r\n\r\n", &h);
    assert_int_equal(h.tp_count, 1);
    parse_head("GET / HTTP/1.1\r\ntrace-parent: " TP "\r\ntrace.parent: " TP "\r\n\r\n", &h);
    assert_int_equal(h.tp_count, 0);
}

/* Emit lowercase. */
static void test_tp_emit_lowercase(void **state)
{
    ss_ctx_t c;
    char out[SS_TP_LEN + 1];

    (void)state;
    memset(&c, 0xAB, sizeof(c));
    c.flags = 1;
    ss_tp_format(&c, out);
    assert_string_equal(out, "00-abababababababababababababababab-abababababababab-01");
}

/* Trim leading/trailing optional whitespace. */
static void test_tp_trim_ows(void **state)
{
    (void)state;
    assert_true(tp_ok("  " TP "\t "));
    assert_true(tp_ok("\t" TP));
}

/* version-traceid-parentid-flags, lowercase hex; uppercase is invalid. */
static void test_tp_format_and_case(void **state)
{
    ss_ctx_t c;

    (void)state;
    assert_true(ss_tp_parse(TP, strlen(TP), &c));
    assert_int_equal(c.trace_id[0], 0x4b);
    assert_int_equal(c.span_id[7], 0xb7);
    assert_int_equal(c.flags, 1);
    assert_false(tp_ok("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
    assert_false(tp_ok("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
    assert_false(tp_ok("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"));
}

/* version ff is invalid; version 00 is exactly 55 characters. */
static void test_tp_version_00_and_ff(void **state)
{
    (void)state;
    assert_false(tp_ok("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(tp_ok(TP "-suffix"));
    assert_false(tp_ok(TP "0"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));
}

/* Higher versions: >= 55 characters, flags followed by end or '-'. */
static void test_tp_higher_version(void **state)
{
    ss_ctx_t c;
    const char *v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";

    (void)state;
    assert_true(ss_tp_parse(v, strlen(v), &c));
    assert_int_equal(c.flags, 1);
    assert_true(tp_ok("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(tp_ok("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
    assert_false(tp_ok("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
}

/* trace-id and parent-id not all zero. */
static void test_tp_zero_ids(void **state)
{
    (void)state;
    assert_false(tp_ok("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    assert_false(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

/* More than one traceparent header: invalid (the parser counts them). */
static void test_tp_repeated(void **state)
{
    ss_http_head_t h;

    (void)state;
    parse_head("GET / HTTP/1.1\r\ntraceparent: " TP "\r\nTraceparent: " TP "\r\n\r\n", &h);
    assert_int_equal(h.tp_count, 2);
}

/* Flags: sampled and random bits kept, all others emitted as 0. */
static void test_tp_flags(void **state)
{
    ss_ctx_t c;
    char out[SS_TP_LEN + 1];

    (void)state;
    assert_true(tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"));
    ss_tp_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", SS_TP_LEN, &c);
    assert_int_equal(c.flags, SS_FLAG_SAMPLED | SS_FLAG_RANDOM);
    ss_tp_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", SS_TP_LEN, &c);
    assert_int_equal(c.flags, SS_FLAG_RANDOM);
    ss_tp_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fc", SS_TP_LEN, &c);
    assert_int_equal(c.flags, 0);
    c.flags = 0xff;
    ss_tp_format(&c, out);
    assert_string_equal(out + 53, "03");
}

/* tracestate: case-insensitive name, several headers joined in order. */
/* The word-at-a-time hex paths against the rules read one character at a
 * time: random contexts formatted and parsed back, then every single-byte
 * change of a valid header (a byte from a set that holds every hex digit,
 * both cases, and the bytes next to each range) accepted or refused
 * exactly as the reference decides. */
static int ref_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int ref_tp_parse(const char *s, ss_ctx_t *c)
{
    uint8_t b[26]; /* version, trace id, span id, flags */
    int i, j = 0, any_t = 0, any_s = 0;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < SS_TP_LEN; i++) {
        if (i == 2 || i == 35 || i == 52) {
            if (s[i] != '-')
                return 0;
            continue;
        }
        if (ref_hex(s[i]) < 0 || ref_hex(s[i + 1]) < 0)
            return 0;
        b[j++] = (uint8_t)(ref_hex(s[i]) << 4 | ref_hex(s[i + 1]));
        i++;
    }
    if (b[0] == 0xff)
        return 0;
    for (i = 0; i < 16; i++)
        any_t |= b[1 + i];
    for (i = 0; i < 8; i++)
        any_s |= b[17 + i];
    if (!any_t || !any_s)
        return 0;
    memcpy(c->trace_id, b + 1, 16);
    memcpy(c->span_id, b + 17, 8);
    c->flags = b[25] & (SS_FLAG_SAMPLED | SS_FLAG_RANDOM);
    c->valid = 1;
    return 1;
}

static void test_tp_words_match_reference(void **state)
{
    static const char bytes[] = "0123456789abcdefABCDEF/:`g@G-\x00\x80\xff ";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    ss_ctx_t in, got, want;
    char tp[SS_TP_LEN + 1], ref[SS_TP_LEN + 1];
    int round, i, k;

    (void)state;
    for (round = 0; round < 2000; round++) {
        memset(&in, 0, sizeof(in));
        for (i = 0; i < 16; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            in.trace_id[i] = (uint8_t)(x >> 56);
            if (i < 8)
                in.span_id[i] = (uint8_t)(x >> 48);
        }
        in.flags = (uint8_t)(x >> 40) & (SS_FLAG_SAMPLED | SS_FLAG_RANDOM);
        ss_tp_format(&in, tp);
        snprintf(ref, sizeof(ref), "00-");
        for (i = 0; i < 16; i++)
            snprintf(ref + 3 + 2 * i, 3, "%02x", in.trace_id[i]);
        ref[35] = '-';
        for (i = 0; i < 8; i++)
            snprintf(ref + 36 + 2 * i, 3, "%02x", in.span_id[i]);
        snprintf(ref + 52, 4, "-%02x", in.flags);
        assert_string_equal(tp, ref);
        /* Every position, with a few bytes each. */
        for (i = 0; i < SS_TP_LEN; i++) {
            for (k = 0; k < 3; k++) {
                char m[SS_TP_LEN + 1];

                x = x * 6364136223846793005ull + 1442695040888963407ull;
                memcpy(m, tp, sizeof(m));
                m[i] = bytes[(x >> 33) % (sizeof(bytes) - 1)];
                assert_int_equal(ss_tp_parse(m, SS_TP_LEN, &got), ref_tp_parse(m, &want));
                if (want.valid)
                    assert_memory_equal(&got, &want, sizeof(got));
            }
        }
    }
}

static void test_ts_joined(void **state)
{
    ss_http_head_t h;
    char out[SS_TS_FORWARD_MAX + 1];

    (void)state;
    parse_head("GET / HTTP/1.1\r\nTraceState: a=1\r\nTRACESTATE: b=2,c=3\r\n\r\n", &h);
    assert_int_equal(h.ts_count, 2);
    assert_int_equal(ss_ts_forward(h.ts, h.ts_len, 0, out), 11);
    assert_string_equal(out, "a=1,b=2,c=3");
}

/* Members: key=value, separated by ',' with OWS; empty members skipped. */
static void test_ts_members(void **state)
{
    char out[SS_TS_FORWARD_MAX + 1];

    (void)state;
    assert_string_equal(ts_fwd("a=1 ,\t b=2", out), "a=1,b=2");
    assert_string_equal(ts_fwd("a=1,,, b=2,", out), "a=1,b=2");
    assert_string_equal(ts_fwd(" , ", out), "");
}

/* key: starts with a lowercase letter or digit, then a-z 0-9 _ - * / @, max 256. */
static void test_ts_keys(void **state)
{
    char out[SS_TS_FORWARD_MAX + 1], key[300];

    (void)state;
    assert_string_equal(ts_fwd("0a_-*/@x=v", out), "0a_-*/@x=v");
    assert_string_equal(ts_fwd("tenant@vendor=v", out), "tenant@vendor=v");
    assert_string_equal(ts_fwd("A=1", out), "");
    assert_string_equal(ts_fwd("_a=1", out), "");
    assert_string_equal(ts_fwd("a.b=1", out), "");
    assert_string_equal(ts_fwd("=1", out), "");
    memset(key, 'k', 256);
    strcpy(key + 256, "=v");
    assert_int_equal(ss_ts_forward(key, strlen(key), 0, out), 258); /* 256 is the longest key */
    memset(key, 'k', 257);
    strcpy(key + 257, "=v");
    assert_string_equal(ts_fwd(key, out), "");
}

/* value: 1..256 of 0x20..0x7E except ',' '=', not ending in space;
 * a leading space is part of the value and survives byte-exact. */
static void test_ts_values(void **state)
{
    char out[SS_TS_FORWARD_MAX + 1], v[300];

    (void)state;
    assert_string_equal(ts_fwd("a= x!~", out), "a= x!~");
    assert_string_equal(ts_fwd("a=", out), "");
    assert_string_equal(ts_fwd("a=b=c", out), "");
    assert_string_equal(ts_fwd("a=\x7f", out), "");
    assert_string_equal(ts_fwd("a=\x01", out), "");
    strcpy(v, "a=");
    memset(v + 2, 'v', 256);
    v[258] = '\0';
    assert_int_equal(ss_ts_forward(v, strlen(v), 0, out), 258);
    strcpy(v, "a=");
    memset(v + 2, 'v', 257);
    v[259] = '\0';
    assert_string_equal(ts_fwd(v, out), "");
}

/* A bad member, or more than 32 members, drops the whole tracestate. */
static void test_ts_invalid_drops_all(void **state)
{
    char out[SS_TS_FORWARD_MAX + 1], in[512];
    int i;

    (void)state;
    assert_string_equal(ts_fwd("a=1,B=2,c=3", out), "");
    in[0] = '\0';
    for (i = 0; i < 32; i++)
        sprintf(in + strlen(in), "%sk%d=v", i ? "," : "", i);
    assert_true(ss_ts_forward(in, strlen(in), 0, out) > 0);
    strcat(in, ",k32=v");
    assert_int_equal(ss_ts_forward(in, strlen(in), 0, out), 0);
}

/* Forward at least 512 characters; cut whole members, longest > 128 first,
 * then from the right; never add a member of our own. */
static void test_ts_truncation(void **state)
{
    char out[SS_TS_FORWARD_MAX + 1], in[2048], big[200];
    int i;

    (void)state;
    memset(big, 'b', 150);
    big[150] = '\0';
    in[0] = '\0';
    for (i = 0; i < 20; i++) /* 20 x "kNN=vvvvvvvvvvvvvvvvvv" ~ 460 bytes */
        sprintf(in + strlen(in), "%sk%02d=%s", i ? "," : "", i, "vvvvvvvvvvvvvvvvvv");
    sprintf(in + strlen(in), ",long=%s", big);
    assert_true(strlen(in) > SS_TS_FORWARD_MAX);
    assert_true(ss_ts_forward(in, strlen(in), 0, out) <= SS_TS_FORWARD_MAX);
    assert_null(strstr(out, "long="));     /* the >128 member went first */
    assert_non_null(strstr(out, "k19=")); /* the short ones all stayed */
    /* Only short members: drop from the right. */
    in[0] = '\0';
    for (i = 0; i < 30; i++)
        sprintf(in + strlen(in), "%sk%02d=%s", i ? "," : "", i, "vvvvvvvvvvvvvvvvvv");
    assert_true(ss_ts_forward(in, strlen(in), 0, out) <= SS_TS_FORWARD_MAX);
    assert_non_null(strstr(out, "k00="));
    assert_null(strstr(out, "k29="));
    assert_int_equal(strncmp(out, in, strlen(out)), 0);
    /* A capture cut short: the partial last member is dropped. */
    assert_int_equal(ss_ts_forward("a=1,b=2,c=3xx", 13, 1, out), 7);
    assert_string_equal(out, "a=1,b=2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tp_header_name),    cmocka_unit_test(test_tp_emit_lowercase),
        cmocka_unit_test(test_tp_trim_ows),       cmocka_unit_test(test_tp_format_and_case),
        cmocka_unit_test(test_tp_version_00_and_ff), cmocka_unit_test(test_tp_higher_version),
        cmocka_unit_test(test_tp_zero_ids),       cmocka_unit_test(test_tp_repeated),
        cmocka_unit_test(test_tp_flags),          cmocka_unit_test(test_ts_joined),
        cmocka_unit_test(test_ts_members),        cmocka_unit_test(test_ts_keys),
        cmocka_unit_test(test_ts_values),         cmocka_unit_test(test_ts_invalid_drops_all),
        cmocka_unit_test(test_ts_truncation),     cmocka_unit_test(test_tp_words_match_reference),
    };

    return cmocka_run_group_tests_name("tracecontext", tests, NULL, NULL);
}
