/*
 * ss_uwsgi_conn.c - the uwsgi protocol on a followed connection
 * (ss_proto.h): nginx's uwsgi_pass (the client) and uWSGI's workers (the
 * server).
 *
 * Requests go through the uwsgi parser (ss_uwsgi.c), their vars into the
 * exchange's HTTP part through the gateway layer (ss_gw.h); the answer is
 * plain HTTP/1, uWSGI's status line and headers, read by the HTTP/1
 * parser in response mode. One exchange per request, ended by the end of
 * its response (Content-Length, chunked, or the close).
 *
 * The client side carries its context as vars added at the front of the
 * vars block: the 4-byte packet header is the exchange's one splice, the
 * header with the block's new size followed by HTTP_TRACEPARENT (and
 * HTTP_TRACESTATE). A header cut by the end of a write is held back
 * (ss_send.c) until it is whole. When the whole block comes in the same
 * write as its header, the send path has not laid it out yet, so the end
 * of the block may still decide: an HTTP_TRACEPARENT that is a copy of what
 * the request nginx serves came with (nginx passes the client's headers
 * on) is then replaced in place, header untouched, rather than followed
 * by a second one; one that is the program's own leaves the request as
 * it was. A block that would grow past 65535 bytes goes as it was, and
 * so does a connection's first header when its first write was too short
 * for detection to tell it was one (it went out while detection looked).
 */
#define _GNU_SOURCE
#include "ss_gw.h"
#include "ss_http.h"
#include "ss_http_conn.h"
#include "ss_uwsgi.h"
#include "../ss_config.h"
#include "../ss_log.h"

#include <stdlib.h>
#include <string.h>

#define SS_UW_TP_VAR "\x10\x00HTTP_TRACEPARENT\x37\x00"
#define SS_UW_TP_VAR_LEN (2 + 16 + 2)
#define SS_UW_TS_NAME "\x0f\x00HTTP_TRACESTATE"
#define SS_UW_TS_NAME_LEN (2 + 15)

typedef struct ss_uwconn {
    ss_uwsgi_t req;              /* the request direction */
    ss_http_t resp;              /* the response direction: HTTP/1 */
    ss_span_t *cur;              /* exchange whose request is being parsed */
    ss_gw_var_t var;             /* the var being captured (var.s: cur, or NULL) */
    uint8_t seen;                /* a vars block was whole: this is uwsgi */
    uint8_t inserting;           /* client: cur's splice adds our vars */
    uint8_t ver_len;             /* bytes of the answer's version gathered */
    char ver[8];                 /* the answer's "HTTP/x.y", gathered */
    const char *why;             /* why it stopped */
} ss_uwconn_t;

#define UW(c) ((ss_uwconn_t *)(c)->ps)

/* The request direction: what a client writes, what a server reads. */
static int ss_uw_is_req(const ss_conn_t *c, int dir)
{
    return (c->role == SS_ROLE_CLIENT) == (dir == SS_DIR_OUT);
}

static int ss_uw_detect(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)
{
    return ss_uw_is_req(c, dir) ? ss_uwsgi_detect(p, n) : 0;
}

static int ss_uw_open(ss_conn_t *c)
{
    ss_uwconn_t *u = calloc(1, sizeof(*u));

    if (u == NULL)
        return 0;
    ss_uwsgi_init(&u->req);
    ss_http_init(&u->resp, SS_HTTP_RESPONSE);
    c->ps = u;
    return 1;
}

static void ss_uw_close(ss_conn_t *c)
{
    free(c->ps);
}

static void ss_uw_forget(ss_conn_t *c, ss_span_t *s)
{
    ss_uwconn_t *u = UW(c);

    if (u->cur == s)
        u->cur = NULL;
    if (u->var.s == s)
        u->var.s = NULL;
}

static const char *ss_uw_why(const ss_conn_t *c)
{
    return UW(c)->why;
}

/* ---- the client's splice --------------------------------------------- */

/* The bytes our vars take in the block. */
static size_t ss_uw_added_len(const ss_span_t *s)
{
    return SS_UW_TP_VAR_LEN + SS_TP_LEN + (s->ts_len ? SS_UW_TS_NAME_LEN + 2 + s->ts_len : 0);
}

/* The header is whole: lay out the new header and our vars over it. Held
 * header bytes (the write before ended inside it) are the splice's first
 * bytes: the new header's go over them, and the splice replaces the rest
 * of the header. */
static void ss_uw_splice_insert(ss_conn_t *c, ss_span_t *s)
{
    const ss_uwsgi_t *p = &UW(c)->req;
    size_t ds = p->datasize + ss_uw_added_len(s), n = 0;
    uint16_t held = s->splice_held ? s->splice_len : 0;
    char tp[SS_TP_LEN + 1];

    s->splice[n++] = (char)p->modifier1;
    s->splice[n++] = (char)(ds & 0xff);
    s->splice[n++] = (char)(ds >> 8);
    s->splice[n++] = (char)p->modifier2;
    memcpy(s->splice + n, SS_UW_TP_VAR, SS_UW_TP_VAR_LEN);
    n += SS_UW_TP_VAR_LEN;
    ss_tp_format(&s->ctx, tp);
    memcpy(s->splice + n, tp, SS_TP_LEN);
    n += SS_TP_LEN;
    if (s->ts_len) {
        memcpy(s->splice + n, SS_UW_TS_NAME, SS_UW_TS_NAME_LEN);
        n += SS_UW_TS_NAME_LEN;
        s->splice[n++] = (char)(s->ts_len & 0xff);
        s->splice[n++] = (char)(s->ts_len >> 8);
        memcpy(s->splice + n, s->ts, s->ts_len);
        n += s->ts_len;
    }
    s->splice_at = p->pkt_pos + held;
    s->splice_len = (uint16_t)n;
    s->splice_del = (uint16_t)(SS_UWSGI_HEADER_LEN - held);
    s->splice_done = 0;
    s->splice_owed = held;
    s->splice_held = 0;
    s->splice_armed = 1;
    UW(c)->inserting = 1;
}

/* The packet header is whole: our vars go in with it, if they fit. */
static void ss_uw_client_header(ss_conn_t *c, ss_span_t *s)
{
    if (!ss_gw_client_propagates(s)) {
        s->splice_held = 0; /* held bytes go as they are */
        return;
    }
    if (UW(c)->req.datasize + ss_uw_added_len(s) > SS_UWSGI_DATASIZE_MAX ||
        (!s->splice_held && UW(c)->req.pkt_pos < c->out_sent)) {
        /* No room, or the header went out before it was known to be one
         * (a connection's first bytes, cut before detection could tell). */
        s->splice_held = 0;
        SS_COUNT(uwsgi_not_injected);
        return;
    }
    ss_uw_splice_insert(c, s);
}

/* Whether cur's splice still is the untouched insertion at its header, in
 * this write: nothing of it sent, held or owed. */
static int ss_uw_insert_open(const ss_conn_t *c, const ss_span_t *s)
{
    return UW(c)->inserting && s->splice_armed && s->splice_owed == 0 &&
           s->splice_done == 0 && s->splice_at == UW(c)->req.pkt_pos &&
           s->splice_at >= c->out_sent;
}

/* The vars block is whole. If the block came with its header and holds
 * one HTTP_TRACEPARENT: a copy is replaced in place instead of our vars
 * being added; a valid one that is no copy is the program's own, and the
 * request and its span are left alone (an invalid one does not count:
 * uWSGI's side takes the first valid, ours). */
static void ss_uw_client_vars_end(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    int open = ss_uw_insert_open(c, s) && h->tp_count == 1 && h->tp_pos >= c->out_sent;
    ss_ctx_t own;

    s->http.head_done = 1;
    if (open && ss_gw_client_tp_copy(c, s)) {
        ss_http_conn_splice_tp(s, h->tp_pos); /* nothing is held: the header is not */
    } else if (open && h->tp_len == SS_TP_LEN && ss_tp_parse(h->tp, h->tp_len, &own)) {
        s->splice_armed = 0;
        s->sampled = 0;
        SS_COUNT(headers_own);
    } else if (UW(c)->inserting) {
        SS_COUNT(headers_injected);
    }
    UW(c)->inserting = 0;
}

/* How many of a write's last bytes (of total) to hold back: those of a
 * packet header the write ends inside, which our vars' header replaces. */
static size_t ss_uw_hold(ss_conn_t *c, size_t total, ss_span_t **into)
{
    ss_span_t *s = UW(c)->cur;
    uint64_t from, end = c->out_sent + total;

    *into = s;
    if (s == NULL)
        return 0;
    if (!ss_uwsgi_in_header(&UW(c)->req) || !ss_gw_client_propagates(s)) {
        s->splice_held = 0;
        return 0;
    }
    from = s->splice_held ? c->out_sent : UW(c)->req.pkt_pos;
    return from >= c->out_sent && from < end ? (size_t)(end - from) : 0;
}

/* ---- the request direction ------------------------------------------- */

static void ss_uw_req_begin(ss_conn_t *c)
{
    ss_uwconn_t *u = UW(c);
    ss_span_t *s;

    u->cur = NULL;
    u->var.s = NULL;
    u->inserting = 0;
    if ((s = ss_conn_exchange_new(c, SS_HTTP_PENDING_MAX)) == NULL)
        return;
    s->http.gateway = SS_GW_UWSGI;
    u->cur = s;
}

/* A var's key is whole: capture it (a key past the parser's cap is none
 * the gateway keeps). */
static void ss_uw_key(ss_uwconn_t *u)
{
    if (u->cur == NULL || u->req.key_trunc) {
        u->var.s = NULL;
        return;
    }
    ss_gw_var_begin(&u->var, u->cur, u->req.key, u->req.key_len);
}

static void ss_uw_var_end(ss_uwconn_t *u)
{
    if (u->var.s == NULL)
        return;
    if (ss_gw_var_is_tp(&u->var) && u->var.s->http.head.tp_count == 1)
        u->var.s->http.head.tp_pos = u->req.val_pos;
    ss_gw_var_end(&u->var);
    u->var.s = NULL;
}

/* One event point of the request direction; 0 to let go. */
static int ss_uw_req_event(ss_conn_t *c, unsigned ev)
{
    ss_uwconn_t *u = UW(c);

    if (ev & SS_UWSGI_EV_ERROR) {
        SS_COUNT(http_errors);
        u->why = u->req.why;
        return 0;
    }
    if (ev & SS_UWSGI_EV_BEGIN)
        ss_uw_req_begin(c);
    if (ev & SS_UWSGI_EV_HEADER) {
        if (u->req.modifier1 != 0) {
            u->why = "modifier"; /* not a WSGI request: its answer may be anything */
            return 0;
        }
        if (u->cur && c->role == SS_ROLE_CLIENT)
            ss_uw_client_header(c, u->cur);
    }
    if (ev & SS_UWSGI_EV_KEY)
        ss_uw_key(u);
    if ((ev & SS_UWSGI_EV_VALUE) && u->var.s)
        ss_gw_var_bytes(&u->var, u->req.piece, u->req.piece_len);
    if (ev & SS_UWSGI_EV_VAR_END)
        ss_uw_var_end(u);
    if (ev & SS_UWSGI_EV_VARS_END) {
        ss_http_conn_mark(&u->seen);
        if (u->cur && c->role == SS_ROLE_CLIENT)
            ss_uw_client_vars_end(c, u->cur);
        else if (u->cur)
            ss_gw_server_request(u->cur);
    }
    if (ev & SS_UWSGI_EV_END)
        u->cur = NULL;
    return 1;
}

static int ss_uw_feed_req(ss_conn_t *c, const char *p, size_t n)
{
    while (n) {
        unsigned ev;
        size_t used = ss_uwsgi_feed(&UW(c)->req, p, n, &ev);

        if (p)
            p += used; /* NULL: body bytes that went by unseen (sendfile) */
        n -= used;
        if (ev && !ss_uw_req_event(c, ev))
            return 0;
    }
    return 1;
}

/* ---- the response direction: uWSGI's HTTP/1 -------------------------- */

static int ss_uw_is_head(const ss_span_t *s)
{
    return s->http.head.method_len == 4 && memcmp(s->http.head.method, "HEAD", 4) == 0;
}

static int ss_uw_resp_event(ss_conn_t *c, ss_http_ev_t ev)
{
    ss_span_t *s = c->q_head;

    switch (ev) {
    case SS_HTTP_EV_BEGIN:
        if (s == NULL || !s->http.head_done) {
            SS_COUNT(http_errors);
            UW(c)->why = "unasked";
            return 0;
        }
        s->http.response_begun = 1;
        UW(c)->resp.skip_body = ss_uw_is_head(s);
        break;
    case SS_HTTP_EV_HEAD_END:
        if (s)
            s->http.status_code = UW(c)->resp.status;
        break;
    case SS_HTTP_EV_END:
        if (UW(c)->resp.status >= 100 && UW(c)->resp.status < 200)
            break; /* interim: the final response is still to come */
        if (s && c->role == SS_ROLE_SERVER)
            s->end_ns = c->write_ns; /* the peer may read it before write() returns */
        if (s)
            ss_http_conn_finish(c, ss_conn_dequeue(c));
        break;
    case SS_HTTP_EV_ERROR:
        SS_COUNT(http_errors);
        UW(c)->why = "malformed";
        return 0;
    default:
        break;
    }
    return 1;
}

/* Answer bytes to the HTTP/1 parser, up to the end of an answer: how
 * many it took, or -1 to let go. */
static long ss_uw_parse_resp(ss_conn_t *c, const char *p, size_t n)
{
    size_t left = n;

    while (left) {
        ss_http_ev_t ev;
        size_t used = ss_http_feed(&UW(c)->resp, p, left, &ev);

        if (p)
            p += used;
        left -= used;
        if (!ss_uw_resp_event(c, ev))
            return -1;
        if (ev == SS_HTTP_EV_END) {
            UW(c)->ver_len = 0; /* the next answer's version is gathered again */
            break;
        }
    }
    return (long)(n - left);
}

/* uWSGI's status line repeats the request's SERVER_PROTOCOL: "HTTP/2.0"
 * behind nginx's HTTP/2 listener. The HTTP/1 parser reads HTTP/1.x only,
 * so an answer's first 8 bytes are gathered, and "HTTP/d.d" of another
 * major read as "HTTP/1.1" (its framing is HTTP/1's all the same). Returns
 * how many of the n bytes it took (0: none to gather), or -1 to let go. */
static long ss_uw_resp_version(ss_conn_t *c, const char *p, size_t n)
{
    static const char pre[] = "HTTP/";
    ss_uwconn_t *u = UW(c);
    size_t k = 8 - u->ver_len;
    const char *v = u->ver;

    if (p == NULL || u->ver_len == 8 || !ss_http_idle(&u->resp))
        return 0;
    if (k > n)
        k = n;
    memcpy(u->ver + u->ver_len, p, k);
    u->ver_len = (uint8_t)(u->ver_len + k);
    if (u->ver_len < 8 && memcmp(v, pre, u->ver_len < 5 ? u->ver_len : 5) == 0)
        return (long)k; /* more to gather */
    if (u->ver_len == 8 && memcmp(v, pre, 5) == 0 && v[5] >= '2' && v[5] <= '9' &&
        v[6] == '.' && v[7] >= '0' && v[7] <= '9')
        memcpy(u->ver, "HTTP/1.1", 8);
    return ss_uw_parse_resp(c, u->ver, u->ver_len) < 0 ? -1 : (long)k;
}

static int ss_uw_feed_resp(ss_conn_t *c, const char *p, size_t n)
{
    while (n) {
        long took = ss_uw_resp_version(c, p, n), used = 0;

        if (took >= 0 && (size_t)took < n)
            used = ss_uw_parse_resp(c, p ? p + took : NULL, n - (size_t)took);
        if (took < 0 || used < 0)
            return 0;
        took += used;
        if (p)
            p += took;
        n -= (size_t)took;
    }
    /* A body that ends with the connection ends with its last byte written. */
    if (c->role == SS_ROLE_SERVER && c->q_head && c->q_head->http.response_begun)
        c->q_head->end_ns = c->write_ns;
    return 1;
}

/* ---- the module -------------------------------------------------------- */

static int ss_uw_feed(ss_conn_t *c, int dir, const char *p, size_t n)
{
    return ss_uw_is_req(c, dir) ? ss_uw_feed_req(c, p, n) : ss_uw_feed_resp(c, p, n);
}

static void ss_uw_fail(ss_conn_t *c, const char *error_type)
{
    ss_http_conn_take_status(c, &UW(c)->resp);
    ss_http_conn_fail(c, error_type);
}

/* uWSGI closing ends an answer without a Content-Length. */
static void ss_uw_eof(ss_conn_t *c)
{
    ss_http_conn_client_eof(c, &UW(c)->resp);
}

const ss_proto_t ss_proto_uwsgi = {
    .name = "uwsgi",
    .roles = SS_ROLE_CLIENT | SS_ROLE_SERVER,
    .detect = ss_uw_detect,
    .open = ss_uw_open,
    .feed = ss_uw_feed,
    .eof = ss_uw_eof,
    .fail = ss_uw_fail,
    .hold = ss_uw_hold,
    .why = ss_uw_why,
    .forget = ss_uw_forget,
    .close = ss_uw_close,
};
