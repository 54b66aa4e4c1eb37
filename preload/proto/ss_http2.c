/*
 * ss_http2.c - HTTP/2 on a followed connection (ss_proto.h).
 *
 * A connection whose request direction opens with the HTTP/2 client
 * preface (h2c with prior knowledge, or h2 inside TLS), or whose server
 * speaks first with its SETTINGS (it knew the protocol from TLS's ALPN),
 * is followed frame by frame (ss_h2.c). Each stream is one
 * exchange in the connection's queue, found by its stream id: a HEADERS
 * block on a new stream in the request direction opens it (its fields fill
 * the same ss_http_head_t an HTTP/1 request head does), and END_STREAM or
 * RST_STREAM in the response direction ends it. Server spans take their
 * context from the block's traceparent exactly as HTTP/1 ones do.
 *
 * Injection on a client connection: the last frame of the request's header
 * block is copied as it is parsed, and the splice replaces it with the same
 * frame, its length grown, and a traceparent field after its fragment (a
 * literal without indexing, see ss_hpack.c). Padding stays where it was.
 * A frame too large to copy, or one already partly sent, goes unchanged
 * and is counted.
 */
#define _GNU_SOURCE
#include "ss_h2.h"
#include "ss_http_conn.h"
#include "../ss_config.h"
#include "../ss_log.h"

#include <stdlib.h>
#include <string.h>

typedef struct ss_http2 {
    ss_h2_dir_t req, resp;
    ss_span_t *req_span;  /* whose request block is being read */
    ss_span_t *resp_span; /* whose response block is being read */
    uint8_t preface;      /* bytes of the client's preface passed */
    uint8_t seen;         /* a request block was whole */
    const char *why;      /* why it stopped */
} ss_http2_t;

#define H2(c) ((ss_http2_t *)(c)->ps)

/* The request direction: what a client writes, what a server reads. */
static int ss_http2_is_req(const ss_conn_t *c, int dir)
{
    return (c->role == SS_ROLE_CLIENT) == (dir == SS_DIR_OUT);
}

/* The client's preface, or a server's SETTINGS frame first. */
static int ss_http2_detect(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)
{
    if (ss_http2_is_req(c, dir)) {
        if (ss_h2_preface_match((const char *)p, n, 0) < (n < SS_H2_PREFACE_LEN ? n : SS_H2_PREFACE_LEN))
            return 0;
        return n >= SS_H2_PREFACE_LEN ? 1 : -1;
    }
    if (n < 9) /* a frame header: length (a multiple of 6), SETTINGS, no flags, stream 0 */
        return (n <= 3 || p[3] == 0x4) && (n <= 4 || p[4] == 0) &&
               (n <= 5 || p[5] == 0) ? -1 : 0;
    return ss_h2_server_preface((const char *)p, n);
}

static int ss_http2_open(ss_conn_t *c)
{
    ss_http2_t *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return 0;
    if (!ss_h2_init(&h->req, SS_H2_PREFACE_LEN) || !ss_h2_init(&h->resp, 0)) {
        ss_h2_free(&h->req);
        free(h);
        SS_COUNT(h2_untraced);
        return 0;
    }
    c->ps = h;
    SS_COUNT(conns_h2);
    return 1;
}

static void ss_http2_close(ss_conn_t *c)
{
    ss_http2_t *h = H2(c);

    ss_h2_free(&h->req);
    ss_h2_free(&h->resp);
    free(h);
}

static void ss_http2_forget(ss_conn_t *c, ss_span_t *s)
{
    if (H2(c)->resp_span == s)
        H2(c)->resp_span = NULL;
    if (H2(c)->req_span == s)
        H2(c)->req_span = NULL;
}

static const char *ss_http2_why(const ss_conn_t *c)
{
    return H2(c)->why;
}

static ss_span_t *ss_http2_find(ss_conn_t *c, uint32_t stream)
{
    ss_span_t *s;

    for (s = c->q_head; s; s = s->next)
        if (s->http.stream_id == stream)
            return s;
    return NULL;
}

/* ---- fields ------------------------------------------------------------ */

/* A field into the head, cut at a NUL: HPACK carries any octet, but the
 * head holds text, as an HTTP/1 head does (its parser refuses NUL). */
static void ss_head_set(char *dst, size_t cap, uint16_t *len, uint8_t *trunc, const char *v,
                        size_t n)
{
    const char *nul = memchr(v, 0, n);

    if (nul)
        n = (size_t)(nul - v);
    if (n > cap) {
        n = cap;
        *trunc = 1;
    }
    memcpy(dst, v, n);
    *len = (uint16_t)n;
}

#define SS_HEAD_SET(h, field, f) \
    ss_head_set((h)->field, sizeof((h)->field), &(h)->field##_len, &(h)->field##_trunc, \
                (f)->value, (f)->value_len)

static int ss_field_is(const ss_hpack_field_t *f, const char *name)
{
    size_t n = strlen(name);

    return f->name_len == n && memcmp(f->name, name, n) == 0;
}

/* A request field: the pseudo-headers are the request line. */
static void ss_http2_req_field(ss_span_t *s, const ss_hpack_field_t *f)
{
    ss_http_head_t *h = &s->http.head;

    if (ss_field_is(f, ":method")) {
        SS_HEAD_SET(h, method, f);
    } else if (ss_field_is(f, ":path")) {
        SS_HEAD_SET(h, target, f);
    } else if (ss_field_is(f, ":authority") || (ss_field_is(f, "host") && h->host_len == 0)) {
        SS_HEAD_SET(h, host, f);
    } else if (ss_field_is(f, "user-agent")) {
        SS_HEAD_SET(h, ua, f);
    } else if (ss_field_is(f, "traceparent")) {
        if (h->tp_count++ == 0)
            SS_HEAD_SET(h, tp, f);
    } else if (ss_field_is(f, "tracestate")) {
        if (h->ts_count++ == 0)
            SS_HEAD_SET(h, ts, f);
        else
            h->ts_trunc = 1; /* several tracestate fields: not forwarded */
    }
}

static void ss_http2_status_field(ss_span_t *s, const ss_hpack_field_t *f)
{
    if (ss_field_is(f, ":status") && f->value_len == 3 && f->value[0] >= '1' &&
        f->value[0] <= '9' && f->value[1] >= '0' && f->value[1] <= '9' && f->value[2] >= '0' &&
        f->value[2] <= '9')
        s->http.status_code = (uint16_t)((f->value[0] - '0') * 100 + (f->value[1] - '0') * 10 +
                                    (f->value[2] - '0'));
}

/* ---- injection --------------------------------------------------------- */

/* Room a copy of the header frame may take in the splice, leaving room
 * for the fields added after it. */
static uint16_t ss_http2_copy_cap(const ss_span_t *s)
{
    size_t add = 2 + 11 + 1 + SS_TP_LEN + (s->ts_len ? 2 + 10 + 3 + s->ts_len : 0);

    return (uint16_t)(SS_SPLICE_MAX - add);
}

static void ss_http2_inject(ss_conn_t *c, ss_span_t *s, const ss_h2_dir_t *d)
{
    uint8_t *out = (uint8_t *)s->splice;
    size_t n = d->copy_len, k, flen;
    char tp[SS_TP_LEN + 1];

    if (d->copy != out || d->copy_over || d->frame_at < c->out_sent) {
        SS_COUNT(h2_not_injected);
        ss_log(SS_LOG_INFO, "HTTP/2 request headers too large to rewrite: sent without traceparent");
        return;
    }
    ss_tp_format(&s->ctx, tp);
    k = ss_hpack_literal(out + n, SS_SPLICE_MAX - n, "traceparent", 11, tp, SS_TP_LEN);
    n += k;
    if (k && s->ts_len)
        n += ss_hpack_literal(out + n, SS_SPLICE_MAX - n, "tracestate", 10, s->ts, s->ts_len);
    flen = ((size_t)out[0] << 16 | (size_t)out[1] << 8 | out[2]) + (n - d->copy_len);
    out[0] = (uint8_t)(flen >> 16);
    out[1] = (uint8_t)(flen >> 8);
    out[2] = (uint8_t)flen;
    s->splice_at = d->frame_at;
    s->splice_del = d->copy_len;
    s->splice_len = (uint16_t)n;
    s->splice_done = 0;
    s->splice_armed = 1;
    SS_COUNT(headers_injected);
}

/* A request's header block is complete. */
static void ss_http2_head_end(ss_conn_t *c, ss_span_t *s)
{
    ss_h2_dir_t *d = &H2(c)->req;

    s->http.head_done = 1;
    ss_http_conn_mark(&H2(c)->seen);
    if (c->role == SS_ROLE_SERVER) {
        ss_http_conn_server_head_end(s);
    } else if (ss_conn_in_library()) {
        s->sampled = 0; /* libcurl's transfer span covers it */
    } else if (s->http.head.tp_count) {
        /* The program's own (or a copy: HPACK cannot be rewritten in
         * place, so a forwarded one stays the program's). */
        s->sampled = 0;
        SS_COUNT(headers_own);
    } else if (ss_cfg.propagate && s->ctx.valid) {
        ss_http2_inject(c, s, d);
    }
    d->copy = NULL;
}

/* ---- ending streams ------------------------------------------------------ */

/* End stream s; `answered`: by the response direction (a server's span
 * then ends when the write that ends it started). */
static void ss_http2_end(ss_conn_t *c, ss_span_t *s, const char *error_type, int answered)
{
    if (s == NULL || !s->http.head_done)
        return;
    ss_conn_remove(c, s);
    if (error_type && s->error_type[0] == '\0')
        strncpy(s->error_type, error_type, sizeof(s->error_type) - 1);
    if (c->role == SS_ROLE_SERVER && answered)
        s->end_ns = c->write_ns;
    ss_http_conn_finish(c, s);
}

/* RST_STREAM's code as error.type; NO_ERROR (a stream closed early once its
 * answer was complete) is none. */
static const char *ss_http2_reset_error(uint32_t code)
{
    return code == 0 ? NULL : ss_h2_error_name(code);
}

/* The peer's end of the connection: streams that had begun answering were
 * cut short, the others got no answer. */
static void ss_http2_eof(ss_conn_t *c)
{
    ss_span_t *s;

    if (c->role != SS_ROLE_CLIENT)
        return; /* a client closing its side: the responses may still go */
    for (s = c->q_head; s; s = s->next)
        if (s->error_type[0] == '\0')
            strncpy(s->error_type, s->http.response_begun ? "response_truncated" : "no_response",
                    sizeof(s->error_type) - 1);
    ss_http_conn_fail(c, NULL);
}

/* ---- the two directions -------------------------------------------------- */

static void ss_http2_req_headers(ss_conn_t *c, ss_h2_dir_t *d)
{
    ss_span_t *s;

    H2(c)->req_span = NULL;
    if (d->type != SS_H2_HEADERS || ss_http2_find(c, d->stream))
        return; /* trailers, or a push promise: nothing to record */
    if ((s = ss_conn_exchange_new(c, SS_H2_STREAMS_MAX)) == NULL)
        return;
    s->http.stream_id = d->stream;
    s->http.http_version = 20;
    H2(c)->req_span = s;
    if (c->role == SS_ROLE_CLIENT)
        ss_h2_copy_start(d, (uint8_t *)s->splice, ss_http2_copy_cap(s));
}

static int ss_http2_feed_req(ss_conn_t *c, const char *p, size_t n)
{
    ss_http2_t *h = H2(c);
    ss_h2_ev_t ev;

    if (p == NULL) {
        h->why = "sendfile"; /* frames unseen */
        return 0;
    }
    if (h->preface < SS_H2_PREFACE_LEN) {
        size_t m = ss_h2_preface_match(p, n, h->preface);

        if (m < n && h->preface + m < SS_H2_PREFACE_LEN) {
            h->why = "preface";
            return 0;
        }
        h->preface = (uint8_t)(h->preface + m);
        p += m;
        n -= m;
        if (n == 0)
            return 1;
    }
    do {
        size_t used = ss_h2_feed(&h->req, p, n, &ev);

        p += used;
        n -= used;
        switch (ev) {
        case SS_H2_EV_HEADERS:
            ss_http2_req_headers(c, &h->req);
            break;
        case SS_H2_EV_FIELD:
            if (h->req_span)
                ss_http2_req_field(h->req_span, &h->req.field);
            break;
        case SS_H2_EV_BLOCK_END:
            if (h->req_span)
                ss_http2_head_end(c, h->req_span);
            h->req_span = NULL;
            break;
        case SS_H2_EV_RESET:
            ss_http2_end(c, ss_http2_find(c, h->req.stream), ss_http2_reset_error(h->req.code), 0);
            break;
        case SS_H2_EV_ERROR:
            SS_COUNT(http_errors);
            h->why = "malformed";
            return 0;
        case SS_H2_EV_DATA_END:
        case SS_H2_EV_NONE:
            break;
        }
    } while (n || ev != SS_H2_EV_NONE);
    return 1;
}

static int ss_http2_feed_resp(ss_conn_t *c, const char *p, size_t n)
{
    ss_http2_t *h = H2(c);
    ss_h2_ev_t ev;

    if (p == NULL) {
        h->why = "sendfile";
        return 0;
    }
    do {
        size_t used = ss_h2_feed(&h->resp, p, n, &ev);

        p += used;
        n -= used;
        switch (ev) {
        case SS_H2_EV_HEADERS:
            h->resp_span = h->resp.type == SS_H2_HEADERS ? ss_http2_find(c, h->resp.stream) : NULL;
            if (h->resp_span)
                h->resp_span->http.response_begun = 1;
            break;
        case SS_H2_EV_FIELD:
            if (h->resp_span)
                ss_http2_status_field(h->resp_span, &h->resp.field);
            break;
        case SS_H2_EV_BLOCK_END:
            if (h->resp_span && h->resp.block_end_stream)
                ss_http2_end(c, h->resp_span, NULL, 1);
            h->resp_span = NULL;
            break;
        case SS_H2_EV_DATA_END:
            ss_http2_end(c, ss_http2_find(c, h->resp.stream), NULL, 1);
            break;
        case SS_H2_EV_RESET:
            ss_http2_end(c, ss_http2_find(c, h->resp.stream), ss_http2_reset_error(h->resp.code), 1);
            break;
        case SS_H2_EV_ERROR:
            SS_COUNT(http_errors);
            h->why = "malformed";
            return 0;
        case SS_H2_EV_NONE:
            break;
        }
    } while (n || ev != SS_H2_EV_NONE);
    return 1;
}

/* ---- the module -------------------------------------------------------- */

static int ss_http2_feed(ss_conn_t *c, int dir, const char *p, size_t n)
{
    return ss_http2_is_req(c, dir) ? ss_http2_feed_req(c, p, n) : ss_http2_feed_resp(c, p, n);
}

const ss_proto_t ss_proto_http2 = {
    .name = "http2",
    .roles = SS_ROLE_CLIENT | SS_ROLE_SERVER,
    .detect = ss_http2_detect,
    .open = ss_http2_open,
    .feed = ss_http2_feed,
    .eof = ss_http2_eof,
    .fail = ss_http_conn_fail,
    .why = ss_http2_why,
    .forget = ss_http2_forget,
    .close = ss_http2_close,
};
