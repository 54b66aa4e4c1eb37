/*
 * ss_http1.c - HTTP/1.x on a followed connection (ss_proto.h).
 *
 * Requests go one way and responses the other, both through the HTTP/1
 * parser (ss_http.c). A request creates an exchange when its first byte
 * passes; the matching response (the first still open: HTTP/1 answers in
 * order) ends it. On a server connection the request head gives the
 * exchange its context (the traceparent's child) and makes it what the
 * thread serves. On a client connection the head's end is where the trace
 * headers are spliced in, and a traceparent the program copied from the
 * request it serves (a proxy) is replaced by this span's, byte for byte.
 */
#define _GNU_SOURCE
#include "ss_http.h"
#include "ss_http_conn.h"
#include "../ss_config.h"
#include "../ss_hint.h"
#include "../ss_inbound.h"
#include "../ss_log.h"

#include <stdlib.h>
#include <string.h>

typedef struct ss_http1 {
    ss_http_t req;               /* the request direction */
    ss_http_t resp;              /* the response direction */
    ss_span_t *req_cur;          /* exchange whose request is being parsed */
    uint32_t req_seq;            /* server: requests begun so far */
    uint8_t seen;                /* a request head was whole: this is HTTP */
    const char *why;             /* why it stopped */
} ss_http1_t;

#define H1(c) ((ss_http1_t *)(c)->ps)

/* The request direction: what a client writes, what a server reads. */
static int ss_http1_is_req(const ss_conn_t *c, int dir)
{
    return (c->role == SS_ROLE_CLIENT) == (dir == SS_DIR_OUT);
}

static int ss_http1_tchar(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A request line: a method, a space, and " HTTP/" before the line ends (a
 * Redis inline command, "SET k v", is none). A line longer than detection
 * looks at is taken for one. A server never speaks first. */
static int ss_http1_detect(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)
{
    const uint8_t *nl;
    size_t i;

    if (!ss_http1_is_req(c, dir))
        return 0;
    for (i = 0; i < n && i <= SS_HTTP_METHOD_MAX && p[i] != ' '; i++)
        if (!ss_http1_tchar(p[i]))
            return 0;
    if (i > SS_HTTP_METHOD_MAX || (i < n && i == 0))
        return 0;
    if (i == n)
        return -1;
    nl = memchr(p + i, '\n', n - i);
    if (nl == NULL)
        return n >= SS_DETECT_MAX ? 1 : -1;
    return memmem(p + i, (size_t)(nl - (p + i)), " HTTP/", 6) != NULL;
}

static int ss_http1_open(ss_conn_t *c)
{
    ss_http1_t *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return 0;
    ss_http_init(&h->req, SS_HTTP_REQUEST);
    ss_http_init(&h->resp, SS_HTTP_RESPONSE);
    h->req.want_tp_end = c->role == SS_ROLE_CLIENT; /* where a copy is replaced */
    c->ps = h;
    return 1;
}

static void ss_http1_close(ss_conn_t *c)
{
    free(c->ps);
}

static void ss_http1_forget(ss_conn_t *c, ss_span_t *s)
{
    ss_http1_t *h = H1(c);

    if (h->req_cur == s)
        h->req_cur = NULL;
    if (h->req.head == &s->http.head)
        h->req.head = NULL;
}

static const char *ss_http1_why(const ss_conn_t *c)
{
    return H1(c)->why;
}

/* ---- the request direction ------------------------------------------- */

static void ss_http1_req_begin(ss_conn_t *c)
{
    ss_http1_t *h = H1(c);
    uint32_t seq = c->role == SS_ROLE_SERVER ? ++h->req_seq : 0;
    ss_span_t *s;

    h->req_cur = NULL;
    h->req.head = NULL;
    if ((s = ss_conn_exchange_new(c, SS_HTTP_PENDING_MAX)) == NULL)
        return;
    s->http.seq = seq; /* what the Node module counts too (ss_hint.h) */
    h->req.head = &s->http.head;
    h->req_cur = s;
}

/* Lay out "traceparent: ...\r\n[tracestate: ...\r\n]" to insert at `at`. */
static void ss_http1_splice_insert(ss_span_t *s, uint64_t at)
{
    char tp[SS_TP_LEN + 1];
    size_t n = 0;

    ss_tp_format(&s->ctx, tp);
    memcpy(s->splice + n, "traceparent: ", 13);
    n += 13;
    memcpy(s->splice + n, tp, SS_TP_LEN);
    n += SS_TP_LEN;
    memcpy(s->splice + n, "\r\n", 2);
    n += 2;
    if (s->ts_len) {
        memcpy(s->splice + n, "tracestate: ", 12);
        n += 12;
        memcpy(s->splice + n, s->ts, s->ts_len);
        n += s->ts_len;
        memcpy(s->splice + n, "\r\n", 2);
        n += 2;
    }
    s->splice_at = at;
    s->splice_len = (uint16_t)n;
    s->splice_del = 0;
    s->splice_done = 0;
    s->splice_armed = 1;
    SS_COUNT(headers_injected);
}

/* The program forwards the traceparent it received (a proxy copying the
 * inbound headers): put this span's in its place (at, the value's first
 * byte), byte for byte. */
static void ss_http1_splice_replace(ss_span_t *s, uint64_t at)
{
    ss_http_conn_splice_tp(s, at);
    s->http.tp_copied = 1;
    SS_COUNT(headers_replaced);
}

/* The Node module's hint named the server span this request belongs to:
 * its child, or a new trace's root if that request is no longer served. */
static void ss_http1_client_hinted(ss_span_t *s, const ss_hint_t *hint)
{
    ss_ctx_t parent;

    s->parent_ambiguous = 0;
    s->ts_len = 0;
    if (ss_hint_resolve(hint, &parent, s->ts, &s->ts_len)) {
        SS_COUNT(hints_resolved);
        if (ss_cfg.disabled)
            s->ctx = parent;
        else
            ss_span_start_ctx(s, &parent, 0);
    } else {
        SS_COUNT(hints_unresolved);
        s->ts_len = 0;
        ss_span_start_ctx(s, NULL, 0);
    }
}

/* Whether the head's first traceparent may still be replaced: this
 * exchange propagates, the value is not cut, and none of it went out. */
static int ss_http1_tp_open(const ss_conn_t *c, const ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;

    return !ss_conn_in_library() && ss_cfg.propagate && s->ctx.valid && h->tp_count == 1 &&
           !h->tp_trunc && (s->splice_held || h->tp_pos >= c->out_sent);
}

static int ss_http1_tp_may_be_copy(const ss_conn_t *c, const ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    size_t n = h->tp_len, i;

    if (!ss_http1_tp_open(c, s))
        return 0;
    for (i = SS_TP_LEN; i < n; i++)
        if (h->tp[i] != ' ' && h->tp[i] != '\t')
            return 0; /* longer than a traceparent: what follows it is not OWS */
    return ss_inbound_has_prefix(h->tp, n < SS_TP_LEN ? n : SS_TP_LEN) ||
           ss_hint_has_prefix(h->tp, n < SS_TP_LEN ? n : SS_TP_LEN);
}

/* The head's first traceparent value ended. A copy of what a request being
 * served here came with: this request belongs to that server span, whoever
 * sends it, and its context goes in the copy's place. Decided here, at the
 * line's end and not the head's, so that a head written in pieces gets the
 * very bytes it would written whole: its value is held back until now at
 * most (ss_send.c), and anything still held goes as it is if no copy. */
static void ss_http1_client_tp_end(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    ss_ctx_t parent;
    ss_hint_t hint;

    if (!ss_conn_in_library() && ss_http_conn_has_tp(h) && (s->splice_held || h->tp_pos >= c->out_sent) &&
        ss_hint_parse(h->tp, &hint)) {
        /* The Node module's hint: never left on the wire, whatever else is off. */
        ss_http1_client_hinted(s, &hint);
        ss_http1_splice_replace(s, h->tp_pos);
    } else if (ss_http1_tp_open(c, s) && h->tp_len == SS_TP_LEN && ss_inbound_find(h->tp, &parent)) {
        s->parent_ambiguous = 0;
        if (!ss_cfg.disabled) {
            if (!ss_conn_serving_is(parent.span_id))
                s->ts_len = 0; /* its tracestate was copied along too */
            ss_span_start_ctx(s, &parent, 0);
        } else {
            s->ctx = parent;
        }
        ss_http1_splice_replace(s, h->tp_pos);
    }
    s->splice_held = 0;
}

static void ss_http1_client_head_end(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;

    if (ss_conn_in_library()) {
        s->sampled = 0; /* libcurl's transfer span covers it, header and all */
        return;
    }
    if (!ss_cfg.propagate || !s->ctx.valid)
        return;
    if (h->tp_count == 0) {
        if (s->parent_ambiguous)
            SS_COUNT(parents_ambiguous);
        ss_http1_splice_insert(s, H1(c)->req.pos);
    } else if (!s->http.tp_copied) {
        /* The program traces itself: leave its header and its span alone. */
        s->sampled = 0;
        SS_COUNT(headers_own);
    }
}

/* Feed request bytes to the HTTP/1 parser. */
static int ss_http1_feed_req(ss_conn_t *c, const char *p, size_t n)
{
    while (n) {
        ss_http_ev_t ev;
        size_t used = ss_http_feed(&H1(c)->req, p, n, &ev);

        if (p)
            p += used; /* NULL: bytes that went by unseen (sendfile) */
        n -= used;
        switch (ev) {
        case SS_HTTP_EV_BEGIN:
            ss_http1_req_begin(c);
            break;
        case SS_HTTP_EV_TP_END:
            if (H1(c)->req_cur && c->role == SS_ROLE_CLIENT)
                ss_http1_client_tp_end(c, H1(c)->req_cur);
            break;
        case SS_HTTP_EV_HEAD_END:
            ss_http_conn_mark(&H1(c)->seen);
            if (H1(c)->req_cur) {
                H1(c)->req_cur->http.head_done = 1;
                H1(c)->req_cur->http.head_minor = H1(c)->req.vminor;
                if (c->role == SS_ROLE_CLIENT)
                    ss_http1_client_head_end(c, H1(c)->req_cur);
                else
                    ss_http_conn_server_head_end(H1(c)->req_cur);
            }
            break;
        case SS_HTTP_EV_END:
            H1(c)->req_cur = NULL;
            H1(c)->req.head = NULL;
            break;
        case SS_HTTP_EV_ERROR:
            if (H1(c)->seen)
                SS_COUNT(http_errors);
            else
                SS_COUNT(conns_opaque); /* it looked like a request line */
            H1(c)->why = "malformed";
            return 0;
        case SS_HTTP_EV_NONE:
            break;
        }
    }
    return 1;
}

/* ---- the response direction ------------------------------------------- */

static int ss_http1_is_method(const ss_span_t *s, const char *m)
{
    size_t n = strlen(m);

    return s->http.head.method_len == n && memcmp(s->http.head.method, m, n) == 0;
}

/* Feed response bytes (p NULL: n unseen body bytes); returns 0 if the
 * connection must be let go. */
static int ss_http1_feed_resp(ss_conn_t *c, const char *p, size_t n)
{
    while (n) {
        ss_http_ev_t ev;
        size_t used = ss_http_feed(&H1(c)->resp, p, n, &ev);
        ss_span_t *s = c->q_head;

        if (p)
            p += used; /* NULL: bytes that went by unseen (sendfile) */
        n -= used;
        switch (ev) {
        case SS_HTTP_EV_BEGIN:
            if (s == NULL || !s->http.head_done) {
                SS_COUNT(http_errors);
                H1(c)->why = "unasked";
                return 0; /* a response to nothing we saw */
            }
            s->http.response_begun = 1;
            H1(c)->resp.skip_body = ss_http1_is_method(s, "HEAD");
            break;
        case SS_HTTP_EV_HEAD_END:
            if (s)
                s->http.status_code = H1(c)->resp.status;
            break;
        case SS_HTTP_EV_END: {
            uint16_t st = H1(c)->resp.status;
            int tunnel = st == 101 || (s && ss_http1_is_method(s, "CONNECT") && st / 100 == 2);

            if (st >= 100 && st < 200 && st != 101)
                break; /* interim: the final response is still to come */
            if (s && c->role == SS_ROLE_SERVER)
                s->end_ns = c->write_ns; /* the peer may read it before write() returns */
            if (s)
                ss_http_conn_finish(c, ss_conn_dequeue(c));
            if (tunnel) {
                H1(c)->why = "tunnel";
                return 0; /* what follows is not HTTP/1 */
            }
            break;
        }
        case SS_HTTP_EV_ERROR:
            SS_COUNT(http_errors);
            H1(c)->why = "malformed";
            return 0;
        case SS_HTTP_EV_TP_END: /* request heads only */
        case SS_HTTP_EV_NONE:
            break;
        }
    }
    return 1;
}


/* How many of a write's last bytes (of total) to hold back: those of a
 * traceparent value that is still coming and may be a copy (ss_send.c).
 * A hold that can no longer be one ends here: its bytes go first, as they
 * are. */
static size_t ss_http1_hold(ss_conn_t *c, size_t total, ss_span_t **into)
{
    ss_span_t *s = H1(c)->req_cur;
    uint64_t from, end = c->out_sent + total;

    *into = s;
    if (s == NULL)
        return 0;
    if (!ss_http_in_tp_value(&H1(c)->req) || !ss_http1_tp_may_be_copy(c, s)) {
        s->splice_held = 0;
        return 0;
    }
    from = s->splice_held ? c->out_sent : s->http.head.tp_pos;
    return from >= c->out_sent && from < end ? (size_t)(end - from) : 0;
}

/* ---- the module -------------------------------------------------------- */

static int ss_http1_feed(ss_conn_t *c, int dir, const char *p, size_t n)
{
    return ss_http1_is_req(c, dir) ? ss_http1_feed_req(c, p, n) : ss_http1_feed_resp(c, p, n);
}

/* python's http.server --cgi writes the status line, its CGI child the
 * rest of the head: the status is what the peer got. */
static void ss_http1_fail(ss_conn_t *c, const char *error_type)
{
    ss_http_conn_take_status(c, &H1(c)->resp);
    ss_http_conn_fail(c, error_type);
}

static void ss_http1_eof(ss_conn_t *c)
{
    ss_http_conn_client_eof(c, &H1(c)->resp);
}


const ss_proto_t ss_proto_http1 = {
    .name = "http1",
    .roles = SS_ROLE_CLIENT | SS_ROLE_SERVER,
    .detect = ss_http1_detect,
    .open = ss_http1_open,
    .feed = ss_http1_feed,
    .eof = ss_http1_eof,
    .fail = ss_http1_fail,
    .hold = ss_http1_hold,
    .why = ss_http1_why,
    .forget = ss_http1_forget,
    .close = ss_http1_close,
};
