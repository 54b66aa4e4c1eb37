/*
 * test_fcgi.c - the FastCGI record follower fed recorded conversations
 * (fcgi_wire.h: nginx and Apache to php-fpm) and written ones (4-byte
 * lengths, pairs across records, multiplexed requests, CGI heads, abort,
 * management records, let-go cases) at every split point: whole, every
 * 2-way split and byte by byte must tell the same events with the same
 * stream offsets. Detection against other protocols' first bytes too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_fcgi.h"
#include "fcgi_wire.h"

#define MAX_LINES 512
#define LINE_MAX 640

typedef struct rec {
    int n;
    char lines[MAX_LINES + 1][LINE_MAX];
    char param[LINE_MAX];     /* the pair being told: "name=value" */
    size_t param_len;
    uint64_t param_at;
    int param_contig;
} rec_t;

static void add(rec_t *r, const char *fmt, ...)
{
    va_list ap;

    if (r->n >= MAX_LINES)
        return;
    va_start(ap, fmt);
    vsnprintf(r->lines[r->n++], LINE_MAX, fmt, ap);
    va_end(ap);
}

static void param_append(rec_t *r, const char *p, size_t n)
{
    if (n > sizeof(r->param) - 1 - r->param_len)
        n = sizeof(r->param) - 1 - r->param_len;
    memcpy(r->param + r->param_len, p, n);
    r->param_len += n;
    r->param[r->param_len] = '\0';
}

static void on_ev(void *arg, const ss_fcgi_ev_t *ev)
{
    rec_t *r = arg;

    switch (ev->kind) {
    case SS_FCGI_EV_RECORD:
        add(r, "REC %d t%u id%u len%u pad%u @%llu", ev->dir, ev->type, ev->id, ev->clen, ev->plen,
            (unsigned long long)ev->at);
        break;
    case SS_FCGI_EV_BEGIN:
        add(r, "BEGIN %u role%u flags%u tracked%u", ev->id, ev->role, ev->flags, ev->tracked);
        break;
    case SS_FCGI_EV_ABORT:
        add(r, "ABORT %u", ev->id);
        break;
    case SS_FCGI_EV_END:
        add(r, "END %u app%u proto%u", ev->id, ev->app_status, ev->proto_status);
        break;
    case SS_FCGI_EV_PARAM:
        r->param_len = 0;
        r->param[0] = '\0';
        param_append(r, ev->name, ev->name_len);
        param_append(r, ev->name_cut ? "...=" : "=", ev->name_cut ? 4 : 1);
        r->param_at = ev->at;
        r->param_contig = ev->value_contig;
        break;
    case SS_FCGI_EV_VALUE:
        if (r->param_contig &&
            ev->at != r->param_at + (r->param_len - (size_t)(strchr(r->param, '=') + 1 - r->param)))
            add(r, "VALUE OFFSET WRONG");
        param_append(r, ev->p, ev->n);
        break;
    case SS_FCGI_EV_PARAM_END:
        add(r, "PARAM %u t%u %s @%llu%s", ev->id, ev->type, r->param,
            (unsigned long long)r->param_at, r->param_contig ? "" : " split");
        break;
    case SS_FCGI_EV_PARAMS_END:
        add(r, "PARAMS_END %u @%llu", ev->id, (unsigned long long)ev->at);
        break;
    case SS_FCGI_EV_STDIN_END:
        add(r, "STDIN_END %u", ev->id);
        break;
    case SS_FCGI_EV_STDOUT:
        add(r, "STDOUT %u @%llu", ev->id, (unsigned long long)ev->at);
        break;
    case SS_FCGI_EV_STATUS:
        add(r, "STATUS %u %u", ev->id, ev->status);
        break;
    case SS_FCGI_EV_STDOUT_END:
        add(r, "STDOUT_END %u", ev->id);
        break;
    }
}

/* A conversation in chunks (the last has n 0). */
typedef struct conv {
    const fcgi_chunk_t *ch;
} conv_t;

/* Feed the conversation cutting the chunk that holds global offset cut
 * there (0: no cut), or every byte alone; a last "LETGO why" line when the
 * follower let go. */
static void run(const fcgi_chunk_t *ch, size_t cut, int bytewise, rec_t *r)
{
    static ss_fcgi_t f;
    ss_fcgi_sink_t sink = {r, on_ev};
    size_t off = 0;
    int ok = 1;

    memset(r, 0, sizeof(*r));
    ss_fcgi_init(&f);
    for (; ch->n && ok; ch++) {
        const uint8_t *p = (const uint8_t *)ch->bytes;
        size_t n = ch->n;
        size_t at = cut > off && cut < off + n ? cut - off : 0;

        if (bytewise)
            for (size_t i = 0; i < n && ok; i++)
                ok = ss_fcgi_feed(&f, ch->dir, p + i, 1, &sink);
        else if (at)
            ok = ss_fcgi_feed(&f, ch->dir, p, at, &sink) &&
                 ss_fcgi_feed(&f, ch->dir, p + at, n - at, &sink);
        else
            ok = ss_fcgi_feed(&f, ch->dir, p, n, &sink);
        off += n;
    }
    if (!ok)
        add(r, "LETGO %s", ss_fcgi_why(&f));
    if (f.untracked)
        add(r, "UNTRACKED %llu", (unsigned long long)f.untracked);
}

static size_t conv_len(const fcgi_chunk_t *ch)
{
    size_t n = 0;

    for (; ch->n; ch++)
        n += ch->n;
    return n;
}

static void same(const rec_t *a, const rec_t *b, const char *how)
{
    if (a->n != b->n)
        fail_msg("%s: %d lines, whole %d", how, b->n, a->n);
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->lines[i], b->lines[i]) != 0)
            fail_msg("%s: line %d: %s / whole: %s", how, i, b->lines[i], a->lines[i]);
}

/* Whole, every 2-way split and byte by byte agree; the whole run in *whole. */
static void every_split(const fcgi_chunk_t *ch, rec_t *whole)
{
    static rec_t other;
    size_t total = conv_len(ch);
    char how[32];

    run(ch, 0, 0, whole);
    run(ch, 0, 1, &other);
    same(whole, &other, "bytewise");
    for (size_t cut = 1; cut < total; cut++) {
        run(ch, cut, 0, &other);
        snprintf(how, sizeof(how), "cut at %zu", cut);
        same(whole, &other, how);
    }
}

static int has(const rec_t *r, const char *line)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->lines[i], line) == 0)
            return 1;
    return 0;
}

static int count_prefix(const rec_t *r, const char *prefix)
{
    int k = 0;

    for (int i = 0; i < r->n; i++)
        k += strncmp(r->lines[i], prefix, strlen(prefix)) == 0;
    return k;
}

static void expect(const rec_t *r, const char *line)
{
    if (!has(r, line)) {
        for (int i = 0; i < r->n; i++)
            print_message("  %s\n", r->lines[i]);
        fail_msg("missing: %s", line);
    }
}

static void no_letgo(const rec_t *r)
{
    assert_int_equal(count_prefix(r, "LETGO"), 0);
    assert_int_equal(count_prefix(r, "VALUE OFFSET WRONG"), 0);
}

/* ---- writing conversations ---------------------------------------------- */

typedef struct buf {
    uint8_t b[8192];
    size_t n;
} buf_t;

static void put(buf_t *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->b));
    if (n)
        memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void record(buf_t *b, uint8_t type, uint16_t id, const void *content, size_t clen, uint8_t pad)
{
    uint8_t h[8] = {1, type, (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(clen >> 8), (uint8_t)clen, pad, 0};
    static const uint8_t zeros[256];

    put(b, h, 8);
    put(b, content, clen);
    put(b, zeros, pad);
}

static void begin(buf_t *b, uint16_t id, uint8_t role, uint8_t flags)
{
    uint8_t body[8] = {0, role, flags, 0, 0, 0, 0, 0};

    record(b, SS_FCGI_BEGIN_REQUEST, id, body, 8, 0);
}

static void end(buf_t *b, uint16_t id, uint32_t app, uint8_t proto)
{
    uint8_t body[8] = {(uint8_t)(app >> 24), (uint8_t)(app >> 16), (uint8_t)(app >> 8), (uint8_t)app,
                       proto, 0, 0, 0};

    record(b, SS_FCGI_END_REQUEST, id, body, 8, 0);
}

static void nv_len(buf_t *b, size_t n, int four)
{
    if (n < 128 && !four) {
        uint8_t c = (uint8_t)n;
        put(b, &c, 1);
    } else {
        uint8_t c[4] = {(uint8_t)(0x80 | n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        put(b, c, 4);
    }
}

/* A pair into b (a PARAMS record's content being written). */
static void nv(buf_t *b, const char *name, const char *value, int four)
{
    nv_len(b, strlen(name), four);
    nv_len(b, strlen(value), four);
    put(b, name, strlen(name));
    put(b, value, strlen(value));
}

static void params(buf_t *b, uint16_t id, const buf_t *pairs, uint8_t pad)
{
    record(b, SS_FCGI_PARAMS, id, pairs->b, pairs->n, pad);
}

static void text(buf_t *b, uint8_t type, uint16_t id, const char *s)
{
    record(b, type, id, s, strlen(s), 0);
}

/* b as the chunks of one direction each, alternating at the given cuts. */
typedef struct written {
    fcgi_chunk_t ch[8];
} written_t;

static void one(written_t *w, const buf_t *out, const buf_t *in)
{
    memset(w, 0, sizeof(*w));
    w->ch[0] = (fcgi_chunk_t){0, out->n, (const char *)out->b};
    if (in && in->n)
        w->ch[1] = (fcgi_chunk_t){1, in->n, (const char *)in->b};
}

/* ---- recorded conversations --------------------------------------------- */

static rec_t r;

static void test_nginx_get_tp(void **state)
{
    (void)state;
    every_split(fcgi_nginx_get_tp, &r);
    no_letgo(&r);
    expect(&r, "BEGIN 1 role1 flags0 tracked1");
    expect(&r, "PARAM 1 t4 REQUEST_METHOD=GET @57");
    expect(&r, "PARAM 1 t4 REQUEST_URI=/index.php?a=1 @126");
    expect(&r, "PARAM 1 t4 SCRIPT_FILENAME=/var/www/html/index.php @455");
    assert_int_equal(count_prefix(&r, "PARAM 1 t4 HTTP_TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 @"), 1);
    assert_int_equal(count_prefix(&r, "PARAMS_END 1 @"), 1);
    expect(&r, "STDIN_END 1");
    expect(&r, "STDOUT 1 @8");
    expect(&r, "STATUS 1 200");
    expect(&r, "END 1 app0 proto0");
}

/* Where the empty PARAMS record is: right after the one with the pairs. */
static void test_params_end_offset(void **state)
{
    const uint8_t *p = (const uint8_t *)fcgi_nginx_get_tp[0].bytes;
    size_t clen = (size_t)(p[16 + 4] << 8 | p[16 + 5]), pad = p[16 + 6];
    char want[64];

    (void)state;
    run(fcgi_nginx_get_tp, 0, 0, &r);
    snprintf(want, sizeof(want), "PARAMS_END 1 @%zu", 16 + 8 + clen + pad);
    expect(&r, want);
    assert_int_equal(p[16 + 8 + clen + pad + 1], SS_FCGI_PARAMS);
}

static void test_nginx_404(void **state)
{
    (void)state;
    every_split(fcgi_nginx_404, &r);
    no_letgo(&r);
    expect(&r, "STATUS 1 404");
    expect(&r, "END 1 app0 proto0");
}

static void test_nginx_post(void **state)
{
    (void)state;
    every_split(fcgi_nginx_post, &r);
    no_letgo(&r);
    expect(&r, "PARAM 1 t4 REQUEST_METHOD=POST @54");
    expect(&r, "PARAM 1 t4 CONTENT_LENGTH=7 @121");
    assert_int_equal(count_prefix(&r, "REC 0 t5 id1 len7"), 1);
    expect(&r, "STDIN_END 1");
    expect(&r, "STATUS 1 200");
}

static void test_nginx_keep_conn(void **state)
{
    (void)state;
    every_split(fcgi_nginx_keep_conn, &r);
    no_letgo(&r);
    assert_int_equal(count_prefix(&r, "BEGIN 1 role1 flags1 tracked1"), 2);
    assert_int_equal(count_prefix(&r, "END 1 app0 proto0"), 2);
    expect(&r, "STATUS 1 200");
    expect(&r, "STATUS 1 500");
    expect(&r, "PARAM 1 t4 QUERY_STRING=code=500 @582");
}

static void test_apache(void **state)
{
    (void)state;
    every_split(fcgi_apache_get_tp, &r);
    no_letgo(&r);
    assert_int_equal(count_prefix(&r, "PARAM 1 t4 HTTP_TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 @"), 1);
    expect(&r, "STATUS 1 200");
    every_split(fcgi_apache_post_404, &r);
    no_letgo(&r);
    expect(&r, "PARAM 1 t4 REQUEST_METHOD=POST @632");
    expect(&r, "STATUS 1 404");
    expect(&r, "STDIN_END 1");
}

/* ---- written conversations ---------------------------------------------- */

static buf_t out, in, pairs;
static written_t w;

static void reset(void)
{
    out.n = in.n = pairs.n = 0;
}

/* 4-byte lengths: a long value, a long name (kept cut), and the 4-byte
 * form of short lengths too. */
static void test_long_lengths(void **state)
{
    char value[301], name[201];

    (void)state;
    reset();
    memset(value, 'v', 300);
    value[300] = '\0';
    memset(name, 'N', 200);
    name[200] = '\0';
    begin(&out, 1, 1, 0);
    nv(&pairs, "HTTP_COOKIE", value, 0);
    nv(&pairs, name, "x", 0);
    nv(&pairs, "SHORT", "four", 1);
    params(&out, 1, &pairs, 3);
    record(&out, SS_FCGI_PARAMS, 1, NULL, 0, 0);
    one(&w, &out, NULL);
    every_split(w.ch, &r);
    no_letgo(&r);
    char want[LINE_MAX];
    snprintf(want, sizeof(want), "PARAM 1 t4 HTTP_COOKIE=%s @40", value);
    expect(&r, want);
    snprintf(want, sizeof(want), "PARAM 1 t4 %.*s...=x @%d", SS_FCGI_NAME_MAX, name, 40 + 300 + 4 + 1 + 200);
    expect(&r, want);
    expect(&r, "PARAM 1 t4 SHORT=four @559");
    expect(&r, "PARAMS_END 1 @566");
}

/* A pair, and even one length of it, across records: the value told in
 * pieces, marked as not inside one record. */
static void test_pair_across_records(void **state)
{
    (void)state;
    reset();
    begin(&out, 1, 1, 0);
    nv(&pairs, "REQUEST_METHOD", "GET", 0);
    nv(&pairs, "HTTP_TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0);
    nv(&pairs, "LONG", "0123456789012345678901234567890123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789012345678901234567890123456789", 1);
    /* Cut at every place inside the pairs into two records. */
    for (size_t k = 1; k < pairs.n; k++) {
        buf_t a = {.n = 0}, b = {.n = 0};
        static rec_t whole;

        out.n = 16;
        put(&a, pairs.b, k);
        put(&b, pairs.b + k, pairs.n - k);
        params(&out, 1, &a, (uint8_t)(k % 8));
        params(&out, 1, &b, 0);
        record(&out, SS_FCGI_PARAMS, 1, NULL, 0, 0);
        one(&w, &out, NULL);
        run(w.ch, 0, 0, &whole);
        run(w.ch, 0, 1, &r);
        same(&whole, &r, "bytewise");
        no_letgo(&r);
        assert_int_equal(count_prefix(&r, "PARAM 1 t4 REQUEST_METHOD=GET @"), 1);
        assert_int_equal(count_prefix(&r, "PARAM 1 t4 HTTP_TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 @"), 1);
        assert_int_equal(count_prefix(&r, "PARAM 1 t4 LONG=0123456789"), 1);
        assert_int_equal(count_prefix(&r, "PARAMS_END 1"), 1);
    }
    /* The traceparent's value cut by a record header: split. */
    out.n = 16;
    {
        buf_t a = {.n = 0}, b = {.n = 0};
        size_t k = 2 + 14 + 3 + 2 + 16 + 10;

        put(&a, pairs.b, k);
        put(&b, pairs.b + k, pairs.n - k);
        params(&out, 1, &a, 0);
        params(&out, 1, &b, 0);
        record(&out, SS_FCGI_PARAMS, 1, NULL, 0, 0);
    }
    one(&w, &out, NULL);
    run(w.ch, 0, 0, &r);
    expect(&r, "PARAM 1 t4 HTTP_TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 @61 split");
}

/* Two requests multiplexed: records interleaved both ways, answered in
 * the other order. */
static void test_multiplexed(void **state)
{
    buf_t p1 = {.n = 0}, p2 = {.n = 0};

    (void)state;
    reset();
    begin(&out, 1, 1, SS_FCGI_KEEP_CONN);
    begin(&out, 2, 1, SS_FCGI_KEEP_CONN);
    nv(&p1, "REQUEST_URI", "/one", 0);
    nv(&p1, "HTTP_HOST", "a.example", 0);
    nv(&p2, "REQUEST_URI", "/two", 0);
    /* request 1's pairs in two records around request 2's */
    record(&out, SS_FCGI_PARAMS, 1, p1.b, 9, 0);
    params(&out, 2, &p2, 0);
    record(&out, SS_FCGI_PARAMS, 1, p1.b + 9, p1.n - 9, 1);
    record(&out, SS_FCGI_PARAMS, 2, NULL, 0, 0);
    record(&out, SS_FCGI_PARAMS, 1, NULL, 0, 0);
    record(&out, SS_FCGI_STDIN, 2, NULL, 0, 0);
    record(&out, SS_FCGI_STDIN, 1, NULL, 0, 0);
    text(&in, SS_FCGI_STDOUT, 2, "Status: 201 Created\r\nContent-Type: text/plain\r\n");
    text(&in, SS_FCGI_STDOUT, 1, "Content-Type: text/plain\r\n\r\none");
    text(&in, SS_FCGI_STDOUT, 2, "\r\ntwo");
    record(&in, SS_FCGI_STDOUT, 2, NULL, 0, 0);
    end(&in, 2, 0, 0);
    record(&in, SS_FCGI_STDOUT, 1, NULL, 0, 0);
    end(&in, 1, 3, 0);
    one(&w, &out, &in);
    every_split(w.ch, &r);
    no_letgo(&r);
    expect(&r, "PARAM 1 t4 REQUEST_URI=/one @86");
    expect(&r, "PARAM 1 t4 HTTP_HOST=a.example @101");
    expect(&r, "PARAM 2 t4 REQUEST_URI=/two @70");
    expect(&r, "STATUS 1 200");
    expect(&r, "STATUS 2 201");
    expect(&r, "END 1 app3 proto0");
    expect(&r, "END 2 app0 proto0");
}

static void head_status(const char *stdout_text, int stdout_end, const char *want)
{
    reset();
    begin(&out, 7, 1, 0);
    record(&out, SS_FCGI_PARAMS, 7, NULL, 0, 0);
    text(&in, SS_FCGI_STDOUT, 7, stdout_text);
    if (stdout_end)
        record(&in, SS_FCGI_STDOUT, 7, NULL, 0, 0);
    end(&in, 7, 0, 0);
    one(&w, &out, &in);
    every_split(w.ch, &r);
    no_letgo(&r);
    expect(&r, want);
    assert_int_equal(count_prefix(&r, "STATUS"), 1);
}

/* The CGI head: Status, Location without it, neither; bare LF line ends
 * (a shell script's printf), case, a head that never ends. */
static void test_cgi_head(void **state)
{
    (void)state;
    head_status("Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>", 1, "STATUS 7 404");
    head_status("Location: /elsewhere\r\n\r\n", 1, "STATUS 7 302");
    head_status("Location: /x\nStatus: 301\n\n", 0, "STATUS 7 301");
    head_status("Content-Type: text/plain\n\nStatus: 500\n", 1, "STATUS 7 200");
    head_status("status:503 Busy\n\n", 0, "STATUS 7 503");
    head_status("STATUS: 4040\n\n", 0, "STATUS 7 200");
    head_status("Status: 99\n\n", 0, "STATUS 7 200");
    head_status("X-Status: 500\nX-Location: /y\n\n", 0, "STATUS 7 200");
    head_status("Content-Type: text/plain\r\n", 1, "STATUS 7 200");
    head_status("Status: 502 Bad Gateway\r\n", 0, "STATUS 7 502");
}

/* No STDOUT at all: no status told. */
static void test_no_stdout(void **state)
{
    (void)state;
    reset();
    begin(&out, 1, 1, 0);
    end(&in, 1, 0, 2);
    one(&w, &out, &in);
    every_split(w.ch, &r);
    assert_int_equal(count_prefix(&r, "STATUS"), 0);
    expect(&r, "END 1 app0 proto2");
}

static void test_abort(void **state)
{
    (void)state;
    reset();
    begin(&out, 3, 1, SS_FCGI_KEEP_CONN);
    record(&out, SS_FCGI_PARAMS, 3, NULL, 0, 0);
    record(&out, SS_FCGI_ABORT_REQUEST, 3, NULL, 0, 0);
    text(&in, SS_FCGI_STDERR, 3, "PHP Warning: aborted");
    end(&in, 3, 1, 0);
    one(&w, &out, &in);
    every_split(w.ch, &r);
    no_letgo(&r);
    expect(&r, "ABORT 3");
    expect(&r, "END 3 app1 proto0");
    assert_int_equal(count_prefix(&r, "STDOUT"), 0);
}

/* FCGI_GET_VALUES and its result: pairs of request id 0. */
static void test_get_values(void **state)
{
    (void)state;
    reset();
    nv(&pairs, "FCGI_MAX_CONNS", "", 0);
    nv(&pairs, "FCGI_MPXS_CONNS", "", 0);
    record(&out, SS_FCGI_GET_VALUES, 0, pairs.b, pairs.n, 2);
    pairs.n = 0;
    nv(&pairs, "FCGI_MAX_CONNS", "8", 0);
    nv(&pairs, "FCGI_MPXS_CONNS", "0", 0);
    record(&in, SS_FCGI_GET_VALUES_RESULT, 0, pairs.b, pairs.n, 0);
    {
        uint8_t body[8] = {200};
        record(&in, SS_FCGI_UNKNOWN_TYPE, 0, body, 8, 0);
    }
    one(&w, &out, &in);
    every_split(w.ch, &r);
    no_letgo(&r);
    expect(&r, "PARAM 0 t9 FCGI_MAX_CONNS= @24");
    expect(&r, "PARAM 0 t9 FCGI_MPXS_CONNS= @41");
    expect(&r, "PARAM 0 t10 FCGI_MAX_CONNS=8 @24");
    expect(&r, "PARAM 0 t10 FCGI_MPXS_CONNS=0 @42");
    expect(&r, "REC 1 t11 id0 len8 pad0 @43");
}

/* More requests at once than followed: told untracked, framed still. */
static void test_past_the_cap(void **state)
{
    (void)state;
    reset();
    for (uint16_t id = 1; id <= SS_FCGI_REQS_MAX + 2; id++)
        begin(&out, id, 1, SS_FCGI_KEEP_CONN);
    pairs.n = 0;
    nv(&pairs, "REQUEST_URI", "/last", 0);
    params(&out, SS_FCGI_REQS_MAX + 2, &pairs, 0);
    record(&out, SS_FCGI_PARAMS, SS_FCGI_REQS_MAX + 2, NULL, 0, 0);
    end(&in, 1, 0, 0);
    begin(&out, 100, 1, 0);
    one(&w, &out, &in);
    w.ch[2] = (fcgi_chunk_t){0, 8 + 8, (const char *)out.b + out.n - 16};
    w.ch[0].n -= 16;
    every_split(w.ch, &r);
    no_letgo(&r);
    assert_int_equal(count_prefix(&r, "BEGIN"), SS_FCGI_REQS_MAX + 3);
    assert_int_equal(count_prefix(&r, "BEGIN 17 role1 flags1 tracked0"), 1);
    expect(&r, "BEGIN 100 role1 flags0 tracked1"); /* request 1's slot, free again */
    assert_int_equal(count_prefix(&r, "PARAM "), 0);
    expect(&r, "UNTRACKED 2");
}

/* ---- letting go ----------------------------------------------------------- */

static void letgo(const char *why)
{
    one(&w, &out, in.n ? &in : NULL);
    every_split(w.ch, &r);
    char want[LINE_MAX];
    snprintf(want, sizeof(want), "LETGO %s", why);
    expect(&r, want);
}

static void test_letgo(void **state)
{
    (void)state;
    reset();
    begin(&out, 1, 1, 0);
    out.b[0] = 2;
    letgo("not FastCGI version 1");

    reset();
    record(&out, SS_FCGI_BEGIN_REQUEST, 1, "\0\1\0\0\0\0\0", 7, 0);
    letgo("a record length its type cannot have");

    reset();
    begin(&out, 1, 1, 0);
    end(&in, 1, 0, 0);
    in.b[5] = 9;
    put(&in, "x", 1);
    letgo("a record length its type cannot have");

    reset();
    begin(&out, 1, 1, 0);
    nv(&pairs, "REQUEST_URI", "/x", 0);
    params(&out, 1, &pairs, 0);
    out.n--; /* the pair one short... */
    out.b[16 + 5]--;
    record(&out, SS_FCGI_PARAMS, 1, NULL, 0, 0);
    letgo("a parameter cut by the end of the params");

    reset();
    nv(&pairs, "FCGI_MAX_CONNS", "", 0);
    record(&out, SS_FCGI_GET_VALUES, 1, pairs.b, pairs.n, 0);
    letgo("a request id its type cannot have");

    reset();
    nv(&pairs, "FCGI_MAX_CONNS", "", 0);
    record(&out, SS_FCGI_GET_VALUES, 0, pairs.b, pairs.n - 1, 0);
    letgo("a value pair cut by the end of its record");

    reset();
    begin(&out, 1, 1, 0);
    record(&out, 0, 1, NULL, 0, 0);
    letgo("record type 0");
}

/* ---- detection ------------------------------------------------------------ */

static int detect(const char *p, size_t n)
{
    return ss_fcgi_detect((const uint8_t *)p, n);
}

static void test_detect(void **state)
{
    const char *b = fcgi_nginx_get_tp[0].bytes;

    (void)state;
    assert_int_equal(detect(b, 600), 1);
    assert_int_equal(detect(b, 10), 1);
    for (size_t n = 1; n < 10; n++)
        assert_int_equal(detect(b, n), -1);
    assert_int_equal(detect("\1\1\0\1\0\x08\0\0\0\2", 10), 1);  /* authorizer */
    assert_int_equal(detect("\1\1\0\1\0\x08\0\0\0\3", 10), 1);  /* filter */
    assert_int_equal(detect("\1\1\0\1\0\x08\0\0\0\4", 10), 0);  /* no such role */
    assert_int_equal(detect("\1\1\0\0\0\x08\0\0\0\1", 10), 0);  /* request id 0 */
    assert_int_equal(detect("\1\4\0\1\0\x08\0\0\0\1", 10), 0);  /* PARAMS first */
    assert_int_equal(detect("\1\1\0\1\0\x09\0\0\0\1", 10), 0);  /* length 9 */
    assert_int_equal(detect("\2\1\0\1\0\x08\0\0\0\1", 10), 0);  /* version 2 */
    /* other protocols' first bytes */
    assert_int_equal(detect("GET / HTTP/1.1\r\n", 16), 0);
    assert_int_equal(detect("PRI * HTTP/2.0\r\n", 16), 0);
    assert_int_equal(detect("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10), 0);  /* TLS */
    assert_int_equal(detect("*1\r\n$4\r\nPING\r\n", 14), 0);                     /* Redis */
    assert_int_equal(detect("\0\0\0\x08\x04\xd2\x16\x2f", 8), 0);                /* PG SSLRequest */
    assert_int_equal(detect("\0\0\0\x29\0\x03\0\0user", 12), 0);                 /* PG startup */
    assert_int_equal(detect("\x4a\0\0\0\x0a" "8.0.36\0", 12), 0);               /* MySQL greeting */
    assert_int_equal(detect("\1\1\0\0\x0a" "5.5.5-10", 13), 0);                 /* a 257-byte greeting */
    assert_int_equal(detect("", 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_get_tp),
        cmocka_unit_test(test_params_end_offset),
        cmocka_unit_test(test_nginx_404),
        cmocka_unit_test(test_nginx_post),
        cmocka_unit_test(test_nginx_keep_conn),
        cmocka_unit_test(test_apache),
        cmocka_unit_test(test_long_lengths),
        cmocka_unit_test(test_pair_across_records),
        cmocka_unit_test(test_multiplexed),
        cmocka_unit_test(test_cgi_head),
        cmocka_unit_test(test_no_stdout),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_get_values),
        cmocka_unit_test(test_past_the_cap),
        cmocka_unit_test(test_letgo),
        cmocka_unit_test(test_detect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
