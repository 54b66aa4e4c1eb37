/*
 * ss_conn_h2.c - HTTP/2 exchanges on a followed connection.
 *
 * A connection whose request direction opens with the HTTP/2 client
 * preface (h2c with prior knowledge, or h2 inside TLS) is followed frame by
 * frame (ss_h2.c) instead of by the HTTP/1 parser. Each stream is one
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
#include "ss_conn.h"
#include "ss_conn_int.h"
#include "ss_config.h"
#include "proto/ss_h2.h"
#include "ss_log.h"

#include <stdlib.h>
#include <string.h>

#define SS_H2_STREAMS_MAX 128 /* exchanges in flight on one connection */

struct ss_conn_h2 {
    ss_h2_dir_t req, resp;
    ss_span_t *req_span;  /* whose request block is being read */
    ss_span_t *resp_span; /* whose response block is being read */
};

int ss_conn_h2_start(ss_conn_t *c)
{
    ss_conn_h2_t *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return 0;
    if (!ss_h2_init(&h->req, SS_H2_PREFACE_LEN) || !ss_h2_init(&h->resp, c->resp.pos)) {
        ss_h2_free(&h->req);
        free(h);
        SS_COUNT(h2_untraced);
        return 0;
    }
    c->h2 = h;
    SS_COUNT(conns_h2);
    return 1;
}

void ss_conn_h2_free(ss_conn_t *c)
{
    if (c->h2 == NULL)
        return;
    ss_h2_free(&c->h2->req);
    ss_h2_free(&c->h2->resp);
    free(c->h2);
    c->h2 = NULL;
}

uint64_t ss_conn_h2_req_pos(const ss_conn_t *c)
{
    return c->h2->req.pos;
}

static ss_span_t *ss_conn_h2_find(ss_conn_t *c, uint32_t stream)
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
static void ss_conn_h2_req_field(ss_span_t *s, const ss_hpack_field_t *f)
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

static void ss_conn_h2_status_field(ss_span_t *s, const ss_hpack_field_t *f)
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
static uint16_t ss_conn_h2_copy_cap(const ss_span_t *s)
{
    size_t add = 2 + 11 + 1 + SS_TP_LEN + (s->ts_len ? 2 + 10 + 3 + s->ts_len : 0);

    return (uint16_t)(SS_SPLICE_MAX - add);
}

static void ss_conn_h2_inject(ss_conn_t *c, ss_span_t *s, const ss_h2_dir_t *d)
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
static void ss_conn_h2_head_end(ss_conn_t *c, ss_span_t *s)
{
    ss_h2_dir_t *d = &c->h2->req;

    s->http.head_done = 1;
    ss_conn_mark_http(c);
    if (c->role == SS_ROLE_SERVER) {
        ss_conn_server_head_end(s);
    } else if (ss_conn_in_library()) {
        s->sampled = 0; /* libcurl's transfer span covers it */
    } else if (s->http.head.tp_count) {
        /* The program's own (or a copy: HPACK cannot be rewritten in
         * place, so a forwarded one stays the program's). */
        s->sampled = 0;
        SS_COUNT(headers_own);
    } else if (ss_cfg.propagate && s->ctx.valid) {
        ss_conn_h2_inject(c, s, d);
    }
    d->copy = NULL;
}

/* ---- ending streams ------------------------------------------------------ */

/* End stream s; `answered`: by the response direction (a server's span
 * then ends when the write that ends it started). */
static void ss_conn_h2_end(ss_conn_t *c, ss_span_t *s, const char *error_type, int answered)
{
    if (s == NULL || !s->http.head_done)
        return;
    if (c->h2->resp_span == s)
        c->h2->resp_span = NULL;
    if (c->h2->req_span == s)
        c->h2->req_span = NULL;
    ss_conn_remove(c, s);
    if (error_type && s->error_type[0] == '\0')
        strncpy(s->error_type, error_type, sizeof(s->error_type) - 1);
    if (c->role == SS_ROLE_SERVER && answered)
        s->end_ns = c->write_ns;
    ss_conn_finish(c, s);
}

/* RST_STREAM's code as error.type; NO_ERROR (a stream closed early once its
 * answer was complete) is none. */
static const char *ss_conn_h2_reset_error(uint32_t code)
{
    return code == 0 ? NULL : ss_h2_error_name(code);
}

/* The peer's end of the connection: streams that had begun answering were
 * cut short, the others got no answer. */
void ss_conn_h2_eof(ss_conn_t *c)
{
    ss_span_t *s;

    for (s = c->q_head; s; s = s->next)
        if (s->error_type[0] == '\0')
            strncpy(s->error_type, s->http.response_begun ? "response_truncated" : "no_response",
                    sizeof(s->error_type) - 1);
    ss_conn_fail_all(c, NULL);
}

/* ---- the two directions -------------------------------------------------- */

static void ss_conn_h2_req_headers(ss_conn_t *c, ss_h2_dir_t *d)
{
    ss_span_t *s;

    c->h2->req_span = NULL;
    if (d->type != SS_H2_HEADERS || ss_conn_h2_find(c, d->stream))
        return; /* trailers, or a push promise: nothing to record */
    if ((s = ss_conn_exchange_new(c, SS_H2_STREAMS_MAX)) == NULL)
        return;
    s->http.stream_id = d->stream;
    s->http.http_version = 20;
    c->h2->req_span = s;
    if (c->role == SS_ROLE_CLIENT)
        ss_h2_copy_start(d, (uint8_t *)s->splice, ss_conn_h2_copy_cap(s));
}

int ss_conn_h2_feed_req(ss_conn_t *c, const char *p, size_t n)
{
    ss_conn_h2_t *h = c->h2;
    ss_h2_ev_t ev;

    if (p == NULL)
        return 0; /* sendfile inside HTTP/2: frames unseen */
    do {
        size_t used = ss_h2_feed(&h->req, p, n, &ev);

        p += used;
        n -= used;
        switch (ev) {
        case SS_H2_EV_HEADERS:
            ss_conn_h2_req_headers(c, &h->req);
            break;
        case SS_H2_EV_FIELD:
            if (h->req_span)
                ss_conn_h2_req_field(h->req_span, &h->req.field);
            break;
        case SS_H2_EV_BLOCK_END:
            if (h->req_span)
                ss_conn_h2_head_end(c, h->req_span);
            h->req_span = NULL;
            break;
        case SS_H2_EV_RESET:
            ss_conn_h2_end(c, ss_conn_h2_find(c, h->req.stream), ss_conn_h2_reset_error(h->req.code), 0);
            break;
        case SS_H2_EV_ERROR:
            SS_COUNT(http_errors);
            return 0;
        case SS_H2_EV_DATA_END:
        case SS_H2_EV_NONE:
            break;
        }
    } while (n || ev != SS_H2_EV_NONE);
    return 1;
}

int ss_conn_h2_feed_resp(ss_conn_t *c, const char *p, size_t n)
{
    ss_conn_h2_t *h = c->h2;
    ss_h2_ev_t ev;

    if (p == NULL)
        return 0;
    do {
        size_t used = ss_h2_feed(&h->resp, p, n, &ev);

        p += used;
        n -= used;
        switch (ev) {
        case SS_H2_EV_HEADERS:
            h->resp_span = h->resp.type == SS_H2_HEADERS ? ss_conn_h2_find(c, h->resp.stream) : NULL;
            if (h->resp_span)
                h->resp_span->http.response_begun = 1;
            break;
        case SS_H2_EV_FIELD:
            if (h->resp_span)
                ss_conn_h2_status_field(h->resp_span, &h->resp.field);
            break;
        case SS_H2_EV_BLOCK_END:
            if (h->resp_span && h->resp.block_end_stream)
                ss_conn_h2_end(c, h->resp_span, NULL, 1);
            h->resp_span = NULL;
            break;
        case SS_H2_EV_DATA_END:
            ss_conn_h2_end(c, ss_conn_h2_find(c, h->resp.stream), NULL, 1);
            break;
        case SS_H2_EV_RESET:
            ss_conn_h2_end(c, ss_conn_h2_find(c, h->resp.stream), ss_conn_h2_reset_error(h->resp.code), 1);
            break;
        case SS_H2_EV_ERROR:
            SS_COUNT(http_errors);
            return 0;
        case SS_H2_EV_NONE:
            break;
        }
    } while (n || ev != SS_H2_EV_NONE);
    return 1;
}
