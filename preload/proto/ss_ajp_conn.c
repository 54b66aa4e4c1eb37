/*
 * ss_ajp_conn.c - AJP13 on a followed connection (ss_proto.h): Apache's
 * mod_proxy_ajp (the client) to Tomcat (the server).
 *
 * One exchange per FORWARD_REQUEST, ended by its END_RESPONSE (AJP does
 * not multiplex: a connection carries one request at a time, kept alive
 * for the next); CPING/CPONG is none. The request's fields and headers are
 * given their CGI names for the gateway layer (ss_gw.h): the method code's
 * name as REQUEST_METHOD, req_uri and the query_string attribute as
 * REQUEST_URI, remote_addr, server_name, server_port, is_ssl as HTTPS, and
 * the Host, User-Agent, traceparent and tracestate headers as HTTP_*. The
 * status is SEND_HEADERS'.
 *
 * The server side continues the request's context and serves it on the
 * thread that read it. The client side carries its context as a
 * traceparent (and tracestate) header: a traceparent the web server copied
 * from its client's request is overwritten in place, byte for byte;
 * otherwise one splice rewrites the packet from its length field to its
 * header count (new length, one or two headers more) and puts the headers
 * first. The web server writes a forward request in one write, so the
 * whole packet has been read ahead when the splice is laid out; when it
 * has not, or the packet would pass AJP's 8 KiB packet size (or the
 * splice its room), the request goes as it was, counted (ajp_not_injected).
 */
#define _GNU_SOURCE
#include "ss_ajp.h"
#include "ss_gw.h"
#include "ss_http_conn.h"
#include "../ss_log.h"

#include <stdlib.h>
#include <string.h>

#define SS_AJP_PENDING_MAX 2     /* exchanges open on one connection: one, and the next begun */

/* The headers added: "traceparent" and "tracestate" as strings. */
#define SS_AJP_TP_HEADER (2 + 11 + 1 + 2 + SS_TP_LEN + 1)
#define SS_AJP_TS_HEADER(n) (2 + 10 + 1 + 2 + (n) + 1)

typedef struct ss_ajp_conn {
    ss_ajp_t rd;                 /* the reader, both directions */
    ss_span_t *cur;              /* exchange whose request is being read */
    ss_gw_var_t var;             /* the value being captured */
    uint8_t in_var;              /* var is open */
    uint8_t in_query;            /* the query string is being appended to the target */
    uint8_t tp_seen;             /* client: the request has a traceparent header */
    uint8_t ts_seen;             /* client: ... and a tracestate header */
    uint8_t tp_late;             /* client: its value had gone out before it was whole */
    uint8_t copying;             /* client: the head's bytes go into cur's splice */
    uint16_t head_len;           /* client: bytes of it there */
    uint8_t head_whole;          /* client: all of it (length field to header count) */
    const char *why;             /* why it stopped */
} ss_ajp_conn_t;

#define AJ(c) ((ss_ajp_conn_t *)(c)->ps)

/* The web server's direction: what a client writes, what a server reads. */
static int ss_ajp_to_container(const ss_conn_t *c, int dir)
{
    return (c->role == SS_ROLE_CLIENT) == (dir == SS_DIR_OUT);
}

static int ss_ajp_detect_conn(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)
{
    return ss_ajp_to_container(c, dir) ? ss_ajp_detect(p, n) : 0;
}

static int ss_ajp_open(ss_conn_t *c)
{
    ss_ajp_conn_t *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return 0;
    ss_ajp_init(&m->rd);
    c->ps = m;
    return 1;
}

static void ss_ajp_close(ss_conn_t *c)
{
    free(c->ps);
}

static void ss_ajp_forget(ss_conn_t *c, ss_span_t *s)
{
    ss_ajp_conn_t *m = AJ(c);

    if (m->cur == s) {
        m->cur = NULL;
        m->in_var = m->in_query = m->copying = 0;
    }
}

static const char *ss_ajp_why_conn(const ss_conn_t *c)
{
    return AJ(c)->why;
}

/* ---- the request's values ------------------------------------------------ */

/* The CGI name a value goes by (NULL: not kept). */
static const char *ss_ajp_cgi_name(uint8_t field, size_t *n)
{
    static const struct {
        uint8_t field;
        uint8_t len;
        const char *name;
    } names[] = {
        {SS_AJP_F_URI, 11, "REQUEST_URI"},          {SS_AJP_F_REMOTE_ADDR, 11, "REMOTE_ADDR"},
        {SS_AJP_F_SERVER_NAME, 11, "SERVER_NAME"},  {SS_AJP_F_HOST, 9, "HTTP_HOST"},
        {SS_AJP_F_USER_AGENT, 15, "HTTP_USER_AGENT"}, {SS_AJP_F_TRACEPARENT, 16, "HTTP_TRACEPARENT"},
        {SS_AJP_F_TRACESTATE, 15, "HTTP_TRACESTATE"}, {SS_AJP_F_STORED_METHOD, 14, "REQUEST_METHOD"},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].field == field) {
            *n = names[i].len;
            return names[i].name;
        }
    return NULL;
}

/* Bytes of the query string, after the target's '?' (cut at its cap). */
static void ss_ajp_target_add(ss_span_t *s, const char *p, size_t n)
{
    ss_http_head_t *h = &s->http.head;
    size_t room = sizeof(h->target) - h->target_len;

    if (n > room) {
        n = room;
        h->target_trunc = 1;
    }
    memcpy(h->target + h->target_len, p, n);
    h->target_len = (uint16_t)(h->target_len + n);
}

static void ss_ajp_value_begin(ss_conn_t *c, ss_span_t *s)
{
    ss_ajp_conn_t *m = AJ(c);
    const ss_ajp_t *a = &m->rd;
    const char *name;
    size_t n;

    if (a->field == SS_AJP_F_QUERY_STRING) {
        m->in_query = 1;
        ss_ajp_target_add(s, "?", 1);
        return;
    }
    if (a->field == SS_AJP_F_TRACEPARENT) {
        if (m->tp_seen++ == 0)
            s->http.head.tp_pos = a->val_at;
    } else if (a->field == SS_AJP_F_TRACESTATE) {
        m->ts_seen = 1;
    }
    if ((name = ss_ajp_cgi_name(a->field, &n)) == NULL)
        return;
    ss_gw_var_begin(&m->var, s, name, n);
    m->in_var = 1;
}

static void ss_ajp_value_bytes(ss_ajp_conn_t *m, ss_span_t *s, const char *p, size_t n)
{
    if (m->in_query)
        ss_ajp_target_add(s, p, n);
    else if (m->in_var)
        ss_gw_var_bytes(&m->var, p, n);
}

/* Client: the first traceparent is whole; a copy of what a request being
 * served came with is overwritten in place with this exchange's. */
static void ss_ajp_client_tp(ss_conn_t *c, ss_span_t *s)
{
    const ss_ajp_t *a = &AJ(c)->rd;

    if (AJ(c)->tp_seen != 1 || a->val_len != SS_TP_LEN)
        return;
    if (a->val_at < c->out_sent) {
        AJ(c)->tp_late = 1; /* whether a copy or not, it stays as it went */
        return;
    }
    if (ss_gw_client_tp_copy(c, s))
        ss_http_conn_splice_tp(s, a->val_at); /* AJP holds nothing back */
}

static void ss_ajp_value_end(ss_conn_t *c, ss_span_t *s)
{
    ss_ajp_conn_t *m = AJ(c);
    int tp = m->in_var && ss_gw_var_is_tp(&m->var);

    if (m->in_var)
        ss_gw_var_end(&m->var);
    m->in_var = m->in_query = 0;
    if (tp && c->role == SS_ROLE_CLIENT)
        ss_ajp_client_tp(c, s);
}

/* The fields before the headers that are numbers. */
static void ss_ajp_port_and_ssl(ss_span_t *s, const ss_ajp_t *a)
{
    char port[8];
    int n = 0;
    unsigned v = a->server_port, d;

    for (d = 10000; d > 1 && v < d; d /= 10)
        ;
    for (; d; d /= 10)
        port[n++] = (char)('0' + v / d % 10);
    ss_gw_var(s, "SERVER_PORT", 11, port, (size_t)n);
    if (a->is_ssl)
        ss_gw_var(s, "HTTPS", 5, "on", 2);
}

/* ---- the client's splice ------------------------------------------------- */

static void ss_ajp_be16(char *p, size_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
}

/* Append a string header (name, value) at p; its length. */
static size_t ss_ajp_put_header(char *p, const char *name, size_t nlen, const char *val,
                                size_t vlen)
{
    size_t n = 0;

    ss_ajp_be16(p + n, nlen);
    memcpy(p + n + 2, name, nlen);
    p[n + 2 + nlen] = '\0';
    n += 2 + nlen + 1;
    ss_ajp_be16(p + n, vlen);
    memcpy(p + n + 2, val, vlen);
    p[n + 2 + vlen] = '\0';
    return n + 2 + vlen + 1;
}

/* The client's request is whole, with no traceparent: lay out the splice
 * that gives it one (and the tracestate), or count why it cannot. */
static void ss_ajp_client_insert(ss_conn_t *c, ss_span_t *s)
{
    const ss_ajp_conn_t *m = AJ(c);
    const ss_ajp_t *a = &m->rd;
    size_t ts = m->ts_seen ? 0 : s->ts_len;
    size_t add = SS_AJP_TP_HEADER + (ts ? SS_AJP_TS_HEADER(ts) : 0);
    size_t len = (size_t)a->pkt_len + add;
    char tp[SS_TP_LEN + 1];
    char *p = s->splice;

    if (!m->head_whole || a->pkt_at + 2 < c->out_sent || a->pkt_len + 4u > SS_AJP_PACKET_DEFAULT ||
        len + 4 > SS_AJP_PACKET_DEFAULT || m->head_len + add > SS_SPLICE_MAX ||
        a->num_headers + 2u > 0xFFFF) {
        SS_COUNT(ajp_not_injected);
        return;
    }
    ss_ajp_be16(p, len);
    ss_ajp_be16(p + m->head_len - 2, a->num_headers + (ts ? 2u : 1u));
    ss_tp_format(&s->ctx, tp);
    p += m->head_len;
    p += ss_ajp_put_header(p, "traceparent", 11, tp, SS_TP_LEN);
    if (ts)
        p += ss_ajp_put_header(p, "tracestate", 10, s->ts, ts);
    s->splice_at = a->pkt_at + 2;
    s->splice_del = m->head_len;
    s->splice_len = (uint16_t)(p - s->splice);
    s->splice_done = s->splice_owed = 0;
    s->splice_held = 0;
    s->splice_armed = 1;
    SS_COUNT(headers_injected);
}

static void ss_ajp_client_request_end(ss_conn_t *c, ss_span_t *s)
{
    ss_ajp_conn_t *m = AJ(c);

    s->http.head_done = 1;
    if (!ss_gw_client_propagates(s) || s->http.tp_copied)
        return;
    if (m->tp_late)
        SS_COUNT(ajp_not_injected);
    else if (m->tp_seen) {
        s->sampled = 0; /* the web server passes a context of its own */
        SS_COUNT(headers_own);
    }
    else
        ss_ajp_client_insert(c, s);
}

/* Client: the bytes of the head (length field to header count) the reader
 * just read go into the exchange's splice, where they are rewritten. */
static void ss_ajp_copy_head(ss_ajp_conn_t *m, const char *p, size_t n)
{
    if (!m->copying || m->cur == NULL)
        return;
    if (p == NULL || m->head_len + n > SS_SPLICE_MAX) {
        m->copying = 0; /* unseen bytes, or no room: nothing to rewrite */
        return;
    }
    memcpy(m->cur->splice + m->head_len, p, n);
    m->head_len = (uint16_t)(m->head_len + n);
}

/* ---- the web server's direction ------------------------------------------- */

static void ss_ajp_request_begin(ss_conn_t *c)
{
    ss_ajp_conn_t *m = AJ(c);
    ss_span_t *s;

    m->cur = NULL;
    m->in_var = m->in_query = m->tp_seen = m->ts_seen = m->tp_late = 0;
    m->copying = m->head_whole = 0;
    if ((s = ss_conn_exchange_new(c, SS_AJP_PENDING_MAX)) == NULL)
        return;
    s->http.gateway = SS_GW_AJP;
    m->cur = s;
    if (c->role == SS_ROLE_CLIENT) {
        /* What the reader has read of the packet from its length field on. */
        ss_ajp_be16(s->splice, m->rd.pkt_len);
        s->splice[2] = 2; /* FORWARD_REQUEST */
        m->head_len = 3;
        m->copying = 1;
    }
}

static void ss_ajp_on_request(ss_conn_t *c, const ss_ajp_ev_t *ev)
{
    ss_ajp_conn_t *m = AJ(c);
    ss_span_t *s = m->cur;
    const char *method;

    if (ev->type == SS_AJP_EV_REQUEST) {
        ss_ajp_request_begin(c);
        return;
    }
    if (s == NULL)
        return;
    switch (ev->type) {
    case SS_AJP_EV_METHOD:
        if ((method = ss_ajp_method_name(m->rd.method)) != NULL)
            ss_gw_var(s, "REQUEST_METHOD", 14, method, strlen(method));
        break;
    case SS_AJP_EV_VALUE_BEGIN:
        ss_ajp_value_begin(c, s);
        break;
    case SS_AJP_EV_VALUE_BYTES:
        ss_ajp_value_bytes(m, s, ev->p, ev->n);
        break;
    case SS_AJP_EV_VALUE_END:
        ss_ajp_value_end(c, s);
        break;
    case SS_AJP_EV_HEADERS:
        ss_ajp_port_and_ssl(s, &m->rd);
        m->head_whole = m->copying && m->head_len == m->rd.hdrs_at - (m->rd.pkt_at + 2);
        m->copying = 0;
        break;
    case SS_AJP_EV_REQUEST_END:
        if (c->role == SS_ROLE_CLIENT)
            ss_ajp_client_request_end(c, s);
        else
            ss_gw_server_request(s);
        break;
    default:
        break;
    }
}

/* ---- the container's direction -------------------------------------------- */

static int ss_ajp_on_response(ss_conn_t *c, const ss_ajp_ev_t *ev)
{
    ss_span_t *s = c->q_head;

    switch (ev->type) {
    case SS_AJP_EV_SEND_HEADERS:
    case SS_AJP_EV_BODY_CHUNK:
    case SS_AJP_EV_GET_BODY:
    case SS_AJP_EV_END_RESPONSE:
        if (s == NULL || !s->http.head_done) {
            AJ(c)->why = "unasked"; /* an answer to nothing we saw */
            return 0;
        }
        break;
    default:
        return 1;
    }
    if (ev->type == SS_AJP_EV_SEND_HEADERS) {
        s->http.status_code = AJ(c)->rd.status;
        s->http.response_begun = 1;
    } else if (ev->type == SS_AJP_EV_BODY_CHUNK) {
        s->http.response_begun = 1;
    } else if (ev->type == SS_AJP_EV_END_RESPONSE) {
        if (c->role == SS_ROLE_SERVER)
            s->end_ns = c->write_ns; /* the peer may read it before write() returns */
        ss_http_conn_finish(c, ss_conn_dequeue(c));
    }
    return 1;
}

/* ---- the module ------------------------------------------------------------ */

static int ss_ajp_feed_conn(ss_conn_t *c, int dir, const char *p, size_t n)
{
    ss_ajp_conn_t *m = AJ(c);
    int to = ss_ajp_to_container(c, dir);
    int rdir = to ? SS_AJP_TO_CONTAINER : SS_AJP_FROM_CONTAINER;

    while (n) {
        ss_ajp_ev_t ev;
        size_t used;

        if (p == NULL) { /* sendfile: AJP is never sent so */
            m->why = "unseen";
            return 0;
        }
        used = ss_ajp_feed(&m->rd, rdir, p, n, &ev);
        if (ev.type == SS_AJP_EV_ERROR) {
            m->why = ss_ajp_why(&m->rd);
            return 0;
        }
        if (to && ev.type != SS_AJP_EV_REQUEST)
            ss_ajp_copy_head(m, p, used);
        p += used;
        n -= used;
        if (to)
            ss_ajp_on_request(c, &ev);
        else if (!ss_ajp_on_response(c, &ev))
            return 0;
    }
    return 1;
}

static void ss_ajp_fail(ss_conn_t *c, const char *error_type)
{
    ss_http_conn_fail(c, error_type);
}

/* A client whose container closed: an answer begun was cut, none came
 * otherwise. A server's web server closing its side ends nothing. */
static void ss_ajp_eof(ss_conn_t *c)
{
    const ss_span_t *s = c->q_head;

    if (c->role != SS_ROLE_CLIENT || s == NULL)
        return;
    ss_http_conn_fail(c, s->http.response_begun ? "response_truncated" : "no_response");
}

const ss_proto_t ss_proto_ajp = {
    .name = "ajp",
    .roles = SS_ROLE_CLIENT | SS_ROLE_SERVER,
    .detect = ss_ajp_detect_conn,
    .open = ss_ajp_open,
    .feed = ss_ajp_feed_conn,
    .eof = ss_ajp_eof,
    .fail = ss_ajp_fail,
    .why = ss_ajp_why_conn,
    .forget = ss_ajp_forget,
    .close = ss_ajp_close,
};
