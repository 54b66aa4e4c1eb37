/*
 * test_h2.c - HTTP/2 on the wire: the frame follower at every split, its
 * refusals, the HPACK field spanshim writes, and whole connections driven
 * through ss_conn (client injection checked by decoding what went out
 * with libnghttp2, server context from an inbound header block).
 *
 * Header blocks are made with libnghttp2's deflater, which indexes fields
 * and Huffman-codes them, so later blocks depend on the dynamic table.
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
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_export.h"
#include "../../preload/ss_fd.h"
#include "../../preload/proto/ss_h2.h"
#include "../../preload/proto/ss_hpack.h"
#include "../../preload/ss_log.h"
#include "wire.h"

/* ---- building frames ------------------------------------------------------ */

typedef struct buf {
    uint8_t b[65536];
    size_t len;
} buf_t;

static void put(buf_t *o, const void *p, size_t n)
{
    assert_true(o->len + n <= sizeof(o->b));
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

static void frame(buf_t *o, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
                  size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
                    (uint8_t)stream};

    put(o, h, 9);
    put(o, p, n);
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE}

static size_t deflate(nghttp2_hd_deflater *d, const nghttp2_nv *nv, size_t cnt, uint8_t *out)
{
    ssize_t r = nghttp2_hd_deflate_hd(d, out, 4096, nv, cnt);

    assert_true(r >= 0);
    return (size_t)r;
}

static const nghttp2_nv req_a[] = {
    NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "shop:8080"),
    NV(":path", "/orders?id=7"), NV("user-agent", "probe/1"), NV("accept", "*/*")};
static const nghttp2_nv req_b[] = {
    NV(":method", "POST"), NV(":scheme", "http"), NV(":authority", "shop:8080"),
    NV(":path", "/orders"), NV("user-agent", "probe/1"), NV("content-type", "text/plain")};
static const nghttp2_nv resp_200[] = {NV(":status", "200"), NV("server", "t")};

/* ---- following frames -------------------------------------------------------- */

/* Feed `in` in pieces of `chunk` bytes; write the events as text. */
static int follow(const buf_t *in, size_t chunk, char *log, size_t cap, uint64_t start)
{
    ss_h2_dir_t d;
    size_t off = 0, len = 0;
    int err = 0;

    assert_true(ss_h2_init(&d, start));
    log[0] = '\0';
    while (off < in->len && !err) {
        size_t n = in->len - off < chunk ? in->len - off : chunk;
        const char *p = (const char *)in->b + off;
        ss_h2_ev_t ev;

        off += n;
        do {
            size_t used = ss_h2_feed(&d, p, n, &ev);

            p += used;
            n -= used;
            switch (ev) {
            case SS_H2_EV_HEADERS:
                len += (size_t)snprintf(log + len, cap - len, "H%u/%u@%llu ", (unsigned)d.type,
                                        (unsigned)d.stream, (unsigned long long)d.frame_at);
                break;
            case SS_H2_EV_FIELD:
                len += (size_t)snprintf(log + len, cap - len, "%.*s=%.*s ", (int)d.field.name_len,
                                        d.field.name, (int)d.field.value_len, d.field.value);
                break;
            case SS_H2_EV_BLOCK_END:
                len += (size_t)snprintf(log + len, cap - len, "B%s@%llu ",
                                        d.block_end_stream ? "$" : "", (unsigned long long)d.pos);
                break;
            case SS_H2_EV_DATA_END:
                len += (size_t)snprintf(log + len, cap - len, "D%u ", (unsigned)d.stream);
                break;
            case SS_H2_EV_RESET:
                len += (size_t)snprintf(log + len, cap - len, "R%u:%s ", (unsigned)d.stream,
                                        ss_h2_error_name(d.code));
                break;
            case SS_H2_EV_ERROR:
                err = 1;
                break;
            case SS_H2_EV_NONE:
                break;
            }
        } while (!err && (n || ev != SS_H2_EV_NONE));
    }
    ss_h2_free(&d);
    return !err;
}

static void test_frames_every_split(void **state)
{
    static buf_t in;
    uint8_t blk[4096], pl[4200];
    static const uint8_t settings[6] = {0, 3, 0, 0, 0, 100}, rst[4] = {0, 0, 0, 8};
    static const uint8_t ping[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nghttp2_hd_deflater *df;
    size_t n, k, chunk;
    static char want[4096], got[4096];

    (void)state;
    assert_int_equal(nghttp2_hd_deflate_new(&df, 4096), 0);
    memset(&in, 0, sizeof(in));
    frame(&in, 4, 0, 0, settings, sizeof(settings));
    /* Stream 1: HEADERS (PADDED, PRIORITY) + CONTINUATION, then DATA. */
    n = deflate(df, req_a, 6, blk);
    pl[0] = 3;                      /* pad length */
    memcpy(pl + 1, "\x80\0\0\0\x10", 5); /* exclusive, stream 0, weight */
    memcpy(pl + 6, blk, 5);
    memset(pl + 11, 0, 3);
    frame(&in, SS_H2_HEADERS, SS_H2_F_PADDED | SS_H2_F_PRIORITY, 1, pl, 14);
    frame(&in, SS_H2_CONTINUATION, SS_H2_F_END_HEADERS, 1, blk + 5, n - 5);
    frame(&in, 8, 0, 1, "\0\0\0\1", 4);                   /* WINDOW_UPDATE */
    frame(&in, SS_H2_DATA, SS_H2_F_END_STREAM | SS_H2_F_PADDED, 1, "\2hi\0\0", 5);
    /* Stream 3: one HEADERS ending the stream, from the dynamic table. */
    k = deflate(df, req_b, 6, blk);
    frame(&in, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_END_STREAM, 3, blk, k);
    frame(&in, SS_H2_RST_STREAM, 0, 3, rst, 4);
    frame(&in, 6, 0, 0, ping, 8);                         /* PING */
    /* A PUSH_PROMISE's block is decoded too (the table must stay in step). */
    n = deflate(df, req_a, 6, blk);
    memcpy(pl, "\1\0\0\0\2", 5);
    memcpy(pl + 5, blk, n);
    pl[5 + n] = 0;
    frame(&in, SS_H2_PUSH_PROMISE, SS_H2_F_END_HEADERS | SS_H2_F_PADDED, 1, pl, n + 6);
    frame(&in, SS_H2_DATA, SS_H2_F_END_STREAM, 5, "", 0); /* empty, ends stream 5 */
    nghttp2_hd_deflate_del(df);

    assert_true(follow(&in, in.len, want, sizeof(want), 24));
    assert_non_null(strstr(want, "H1/1@39 :method=GET :scheme=http :authority=shop:8080 "
                                 ":path=/orders?id=7 user-agent=probe/1 accept=*/* B@"));
    assert_non_null(strstr(want, " D1 H1/3@"));
    assert_non_null(strstr(want, ":method=POST :scheme=http :authority=shop:8080 :path=/orders "
                                 "user-agent=probe/1 content-type=text/plain B$@"));
    assert_non_null(strstr(want, " R3:CANCEL H5/1@"));
    assert_non_null(strstr(want, "accept=*/* B@"));
    assert_true(strlen(want) > 200 && strcmp(want + strlen(want) - 3, "D5 ") == 0);
    for (chunk = 1; chunk < in.len; chunk++) {
        assert_true(follow(&in, chunk, got, sizeof(got), 24));
        assert_string_equal(got, want);
    }
}

/* What is not HTTP/2 stops the follower, wherever it is cut. */
static void test_frames_refused(void **state)
{
    static const uint8_t bad_hpack[] = {0x80}; /* index 0 does not exist */
    static buf_t in;
    char log[512];
    size_t chunk;
    int i;

    (void)state;
    for (i = 0; i < 6; i++) {
        memset(&in, 0, sizeof(in));
        switch (i) {
        case 0: /* CONTINUATION with no block open */
            frame(&in, SS_H2_CONTINUATION, SS_H2_F_END_HEADERS, 1, "\x82", 1);
            break;
        case 1: /* another frame inside a block */
            frame(&in, SS_H2_HEADERS, 0, 1, "\x82", 1);
            frame(&in, SS_H2_DATA, 0, 1, "x", 1);
            break;
        case 2: /* padding longer than the frame */
            frame(&in, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_PADDED, 1, "\x09\x82", 2);
            break;
        case 3: /* RST_STREAM of the wrong size */
            frame(&in, SS_H2_RST_STREAM, 0, 1, "\0\0\0", 3);
            break;
        case 4: /* not HPACK */
            frame(&in, SS_H2_HEADERS, SS_H2_F_END_HEADERS, 1, bad_hpack, 1);
            break;
        case 5: /* a header block on stream 0 */
            frame(&in, SS_H2_HEADERS, SS_H2_F_END_HEADERS, 0, "\x82", 1);
            break;
        }
        for (chunk = 1; chunk <= in.len; chunk++)
            assert_false(follow(&in, chunk, log, sizeof(log), 0));
    }
}

static void test_prefaces(void **state)
{
    static const char pre[] = SS_H2_PREFACE;

    (void)state;
    assert_int_equal(ss_h2_preface_match(pre, 24, 0), 24);
    assert_int_equal(ss_h2_preface_match(pre + 10, 5, 10), 5);
    assert_int_equal(ss_h2_preface_match("PRI /x HTTP/1.1", 15, 0), 4);
    assert_int_equal(ss_h2_preface_match("GET", 3, 0), 0);
    assert_true(ss_h2_server_preface("\0\0\x12\x04\0\0\0\0\0", 9));
    assert_true(ss_h2_server_preface("\0\0\0\x04\0\0\0\0\0", 9));
    assert_false(ss_h2_server_preface("\0\0\x12\x04\x01\0\0\0\0", 9)); /* an ACK */
    assert_false(ss_h2_server_preface("\0\0\x13\x04\0\0\0\0\0", 9));   /* not n * 6 */
    assert_false(ss_h2_server_preface("HTTP/1.1 200 OK\r\n", 17));
    assert_false(ss_h2_server_preface("\0\0\0\x04\0", 5));
    assert_string_equal(ss_h2_error_name(8), "CANCEL");
    assert_string_equal(ss_h2_error_name(99), "h2_error");
}

/* The field spanshim adds decodes, with libnghttp2, to what was meant, at
 * every length around the integer encoding's steps. */
static void test_literal_field(void **state)
{
    static const size_t lens[] = {0, 1, 55, 126, 127, 128, 254, 255, 300, 512, 16383, 16384};
    static char value[20000];
    uint8_t out[20100];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(value); i++)
        value[i] = (char)('a' + i % 26);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        nghttp2_hd_inflater *inf;
        nghttp2_nv nv;
        int fl = 0;
        size_t n = ss_hpack_literal(out, sizeof(out), "tracestate", 10, value, lens[i]);
        ssize_t r;

        assert_true(n >= 12 + lens[i]);
        assert_int_equal(out[0], 0x00); /* not indexed: no table changes */
        assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
        r = nghttp2_hd_inflate_hd2(inf, &nv, &fl, out, n, 1);
        assert_int_equal(r, (ssize_t)n);
        assert_true(fl & NGHTTP2_HD_INFLATE_EMIT);
        assert_int_equal(nv.namelen, 10);
        assert_memory_equal(nv.name, "tracestate", 10);
        assert_int_equal(nv.valuelen, lens[i]);
        assert_memory_equal(nv.value, value, lens[i]);
        nghttp2_hd_inflate_del(inf);
        /* Too little room is refused, never overrun. */
        assert_int_equal(ss_hpack_literal(out, n - 1, "tracestate", 10, value, lens[i]), 0);
    }
}

/* ---- whole connections ------------------------------------------------------ */

static int sp[2];

static int follow_as(int server)
{
    assert_int_equal(wire_pair(sp, server, 8080), 0);
    assert_true(ss_fd_followed(sp[0]));
    return sp[0];
}

static void unfollow(void)
{
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    ss_conn_thread_reset();
}

/* The program sends msg in pieces of `chunk`, resending after short counts. */
static void app_send(int fd, const buf_t *msg, size_t chunk, wire_t *w)
{
    wire_app_send(fd, msg->b, msg->len, chunk, w);
}

static void app_recv(int fd, const buf_t *msg)
{
    struct iovec v = {(void *)msg->b, msg->len};

    ss_conn_on_recv(fd, &v, 1, (ssize_t)msg->len, 0, 0);
}

/* A client's bytes: preface, SETTINGS, three requests sharing the dynamic
 * table (one padded, one split over CONTINUATION, one with its own
 * traceparent), DATA for the POST. */
static void client_stream(buf_t *o)
{
    static const nghttp2_nv own[] = {
        NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "shop:8080"),
        NV(":path", "/own"), NV("traceparent", "00-11111111111111111111111111111111-2222222222222222-01")};
    nghttp2_hd_deflater *df;
    uint8_t blk[4096], pl[4200];
    size_t n;

    memset(o, 0, sizeof(*o));
    assert_int_equal(nghttp2_hd_deflate_new(&df, 4096), 0);
    put(o, SS_H2_PREFACE, SS_H2_PREFACE_LEN);
    frame(o, 4, 0, 0, "", 0);
    n = deflate(df, req_a, 6, blk);
    pl[0] = 4;
    memcpy(pl + 1, blk, n);
    memset(pl + 1 + n, 0, 4);
    frame(o, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_END_STREAM | SS_H2_F_PADDED, 1, pl,
          n + 5);
    n = deflate(df, req_b, 6, blk);
    frame(o, SS_H2_HEADERS, 0, 3, blk, 3);
    frame(o, SS_H2_CONTINUATION, SS_H2_F_END_HEADERS, 3, blk + 3, n - 3);
    frame(o, SS_H2_DATA, SS_H2_F_END_STREAM, 3, "hello", 5);
    n = deflate(df, own, 5, blk);
    frame(o, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_END_STREAM, 5, blk, n);
    nghttp2_hd_deflate_del(df);
}

/* Decode what went out as the server would: every frame, every block. */
static void check_wire(const wire_t *w, const buf_t *sent, char tps[3][56], int added)
{
    nghttp2_hd_inflater *inf;
    size_t off = SS_H2_PREFACE_LEN, so = SS_H2_PREFACE_LEN;
    int blocks = 0, fields = 0;

    assert_memory_equal(w->out, SS_H2_PREFACE, SS_H2_PREFACE_LEN);
    assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
    while (off < w->len) {
        const uint8_t *h = (const uint8_t *)w->out + off;
        size_t len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        size_t pad = 0, pre = 0;
        const uint8_t *sh = sent->b + so;
        size_t slen = (size_t)sh[0] << 16 | (size_t)sh[1] << 8 | sh[2];

        assert_true(off + 9 + len <= w->len);
        assert_int_equal(h[3], sh[3]); /* the same frames, in order */
        assert_memory_equal(h + 4, sh + 4, 5);
        if (h[3] == SS_H2_HEADERS || h[3] == SS_H2_CONTINUATION) {
            int end = h[4] & SS_H2_F_END_HEADERS, fl;
            const uint8_t *p;
            size_t left;

            if (h[4] & SS_H2_F_PADDED)
                pad = h[9], pre = 1;
            p = h + 9 + pre;
            left = len - pre - pad;
            while (1) {
                nghttp2_nv nv;
                ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &fl, p, left, end);

                assert_true(r >= 0);
                p += r;
                left -= (size_t)r;
                if (fl & NGHTTP2_HD_INFLATE_EMIT) {
                    fields++;
                    if (nv.namelen == 11 && memcmp(nv.name, "traceparent", 11) == 0) {
                        assert_int_equal(nv.valuelen, 55);
                        memcpy(tps[blocks], nv.value, 55);
                        tps[blocks][55] = '\0';
                    }
                }
                if (fl & NGHTTP2_HD_INFLATE_FINAL) {
                    nghttp2_hd_inflate_end_headers(inf);
                    blocks++;
                    break;
                }
                if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
                    break;
            }
        } else {
            assert_int_equal(len, slen);
            assert_memory_equal(h + 9, sh + 9, len);
        }
        off += 9 + len;
        so += 9 + slen;
    }
    assert_int_equal(so, sent->len);
    assert_int_equal(blocks, 3);
    assert_int_equal(fields, 6 + 6 + 5 + added); /* ours in the first two; the third's own */
    nghttp2_hd_inflate_del(inf);
}

/* The program hands over its frames whole (libnghttp2 programs do); the
 * kernel takes them a few bytes at a time. */
static void test_client_injection_every_split(void **state)
{
    static buf_t req;
    size_t limits[] = {1, 5, 13, 64, 65536};
    size_t j;

    (void)state;
    client_stream(&req);
    for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
        static wire_t w;
        char tps[3][56];
        int fd = follow_as(0);

        memset(&w, 0, sizeof(w));
        memset(tps, 0, sizeof(tps));
        w.limit = limits[j];
        app_send(fd, &req, req.len, &w);
        check_wire(&w, &req, tps, 2);
        assert_memory_equal(tps[0], "00-", 3);
        assert_memory_equal(tps[1], "00-", 3);
        assert_string_not_equal(tps[0], tps[1]); /* one span each */
        assert_string_equal(tps[2], "00-11111111111111111111111111111111-2222222222222222-01");
        unfollow();
    }
}

/* A header frame the program writes in pieces has partly left before its
 * end is seen: it goes out unchanged, and is counted. */
static void test_client_frame_in_pieces(void **state)
{
    static buf_t req;
    static wire_t w;
    char tps[3][56];
    uint64_t before = ss_count.h2_not_injected;
    int fd = follow_as(0);

    (void)state;
    client_stream(&req);
    memset(&w, 0, sizeof(w));
    memset(tps, 0, sizeof(tps));
    w.limit = 65536;
    app_send(fd, &req, 1, &w);
    assert_int_equal(w.len, req.len);
    assert_memory_equal(w.out, req.b, req.len);
    check_wire(&w, &req, tps, 0);
    assert_int_equal(ss_count.h2_not_injected, before + 2);
    unfollow();
}

/* The answers end the client spans: END_STREAM on HEADERS or on DATA,
 * and a reset. The program's own-traced request records nothing. */
static void test_client_responses_end_spans(void **state)
{
    static buf_t req, resp;
    static wire_t w;
    static const uint8_t cancel[4] = {0, 0, 0, 8};
    nghttp2_hd_deflater *df;
    uint8_t blk[256];
    uint64_t before = ss_count.spans_recorded;
    size_t n;
    int fd = follow_as(0);

    (void)state;
    client_stream(&req);
    memset(&w, 0, sizeof(w));
    w.limit = 65536;
    app_send(fd, &req, req.len, &w);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(nghttp2_hd_deflate_new(&df, 4096), 0);
    frame(&resp, 4, 0, 0, "\0\3\0\0\0\x64", 6); /* the server's SETTINGS */
    n = deflate(df, resp_200, 2, blk);
    frame(&resp, SS_H2_HEADERS, SS_H2_F_END_HEADERS, 1, blk, n);
    frame(&resp, SS_H2_DATA, 0, 1, "ab", 2);
    app_recv(fd, &resp);
    assert_int_equal(ss_count.spans_recorded, before); /* stream 1 still open */
    memset(&resp, 0, sizeof(resp));
    frame(&resp, SS_H2_DATA, SS_H2_F_END_STREAM, 1, "c", 1);
    n = deflate(df, resp_200, 2, blk); /* all from the table now */
    frame(&resp, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_END_STREAM, 5, blk, n);
    frame(&resp, SS_H2_RST_STREAM, 0, 3, cancel, 4);
    app_recv(fd, &resp);
    assert_int_equal(ss_count.spans_recorded, before + 2); /* 1 and 3; 5 was the program's */
    nghttp2_hd_deflate_del(df);
    unfollow();
}

/* A server reads a request's context from its header block, also when it
 * spoke first (TLS with ALPN), and its answer ends the span. */
static void serve_h2(int settings_first)
{
    static const nghttp2_nv in[] = {
        NV(":method", "GET"), NV(":scheme", "https"), NV(":authority", "me"), NV(":path", "/in"),
        NV("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")};
    static buf_t req, resp;
    static wire_t w;
    nghttp2_hd_deflater *df;
    uint8_t blk[512];
    uint64_t before = ss_count.spans_recorded;
    ss_ctx_t cur;
    size_t n;
    int fd = follow_as(1);

    memset(&w, 0, sizeof(w));
    w.limit = 65536;
    memset(&resp, 0, sizeof(resp));
    frame(&resp, 4, 0, 0, "", 0);
    if (settings_first)
        app_send(fd, &resp, resp.len, &w);
    memset(&req, 0, sizeof(req));
    assert_int_equal(nghttp2_hd_deflate_new(&df, 4096), 0);
    put(&req, SS_H2_PREFACE, SS_H2_PREFACE_LEN);
    frame(&req, 4, 0, 0, "", 0);
    n = deflate(df, in, 5, blk);
    frame(&req, SS_H2_HEADERS, SS_H2_F_END_HEADERS | SS_H2_F_END_STREAM, 1, blk, n);
    app_recv(fd, &req);
    assert_true(ss_conn_thread_ctx(&cur));
    assert_memory_equal(cur.trace_id, "\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
    nghttp2_hd_deflate_del(df);
    assert_int_equal(nghttp2_hd_deflate_new(&df, 4096), 0);
    memset(&resp, 0, sizeof(resp));
    if (!settings_first)
        frame(&resp, 4, 0, 0, "", 0);
    n = deflate(df, resp_200, 2, blk);
    frame(&resp, SS_H2_HEADERS, SS_H2_F_END_HEADERS, 1, blk, n);
    frame(&resp, SS_H2_DATA, SS_H2_F_END_STREAM, 1, "ok", 2);
    app_send(fd, &resp, resp.len, &w);
    assert_int_equal(ss_count.spans_recorded, before + 1);
    /* The server's bytes went out untouched. */
    assert_int_equal(w.len, (settings_first ? 9 : 0) + resp.len);
    nghttp2_hd_deflate_del(df);
    unfollow();
}

static void test_server_context(void **state)
{
    (void)state;
    serve_h2(0);
    serve_h2(1);
}

/* An HTTP/1 request whose first bytes match the preface is HTTP/1 after all. */
static void test_http1_that_starts_like_h2(void **state)
{
    static const char req[] = "PRI /x HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t chunk;

    (void)state;
    for (chunk = 1; chunk < sizeof(req); chunk++) {
        static wire_t w;
        static buf_t msg;
        int fd = follow_as(0);

        memset(&msg, 0, sizeof(msg));
        put(&msg, req, sizeof(req) - 1);
        memset(&w, 0, sizeof(w));
        w.limit = 65536;
        app_send(fd, &msg, chunk, &w);
        assert_int_equal(w.len, sizeof(req) - 1 + 13 + 55 + 2);
        assert_memory_equal(w.out, req, sizeof(req) - 3);
        assert_memory_equal(w.out + sizeof(req) - 3, "traceparent: 00-", 16);
        unfollow();
    }
}

static int setup(void **state)
{
    (void)state;
    setenv("SPANSHIM_SOCKET", "/nonexistent/spanshim-test.sock", 1);
    ss_config_load();
    ss_export_init(0, NULL);
    return ss_hpack_available() ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_every_split),
        cmocka_unit_test(test_frames_refused),
        cmocka_unit_test(test_prefaces),
        cmocka_unit_test(test_literal_field),
        cmocka_unit_test(test_client_injection_every_split),
        cmocka_unit_test(test_client_frame_in_pieces),
        cmocka_unit_test(test_client_responses_end_spans),
        cmocka_unit_test(test_server_context),
        cmocka_unit_test(test_http1_that_starts_like_h2),
    };

    return cmocka_run_group_tests_name("h2", tests, setup, NULL);
}
