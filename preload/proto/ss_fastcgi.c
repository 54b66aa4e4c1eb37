/*
 * ss_fastcgi.c - FastCGI on a followed connection (ss_proto.h): the web
 * server's requests to its application (nginx, Apache mod_proxy_fcgi) and
 * the app server's side of them (php-fpm, fcgiwrap).
 *
 * The records are read by ss_fcgi.c; each request id that begins is one
 * exchange, an HTTP span through the FastCGI gateway whose request is the
 * CGI variables of its FCGI_PARAMS (ss_gw.h), ended by its END_REQUEST with
 * the status of the CGI head in its STDOUT. Requests may be multiplexed
 * and the connection kept for more (FCGI_KEEP_CONN).
 *
 * A web server's request gets the context as one more FCGI_PARAMS record,
 * HTTP_TRACEPARENT (and HTTP_TRACESTATE), just before the empty PARAMS
 * record that ends its params; a copy of the traceparent a request being
 * served came with (a web server passes the client's headers on as
 * HTTP_* variables) is overwritten in place instead, byte for byte. Every
 * other byte goes as the program wrote it. Two things may be decided only
 * after a write has ended, so their bytes are held back (ss_send.c): a
 * traceparent value that may be a copy, until its end, and the first bytes
 * of a record header that may be the empty PARAMS record, until the header
 * is whole. A held header that was not that record goes out first on the
 * next write; when that write brings the empty record too, the bytes
 * between are carried in the same splice (copied as they are) so that the
 * context still goes in its place.
 */
#define _GNU_SOURCE
#include "ss_fcgi.h"
#include "ss_gw.h"
#include "ss_http_conn.h"
#include "../ss_config.h"
#include "../ss_inbound.h"
#include "../ss_log.h"

#include <stdlib.h>
#include <string.h>

/* One request (id) of the connection and its exchange. */
typedef struct ss_fastcgi_req {
    ss_span_t *s;
    uint16_t id;
    uint8_t in_tp;               /* the pair being read is the first HTTP_TRACEPARENT */
    uint8_t tp_whole;            /* ... of 55 bytes inside one record */
    uint8_t params_done;
    uint8_t held_hdr;            /* client: s's held bytes are a record header's */
    uint8_t var_open;            /* var is being captured */
    ss_gw_var_t var;             /* the pair being read */
} ss_fastcgi_req_t;

typedef struct ss_fastcgi {
    ss_fcgi_t f;
    ss_fastcgi_req_t reqs[SS_FCGI_REQS_MAX];
    ss_conn_t *c;                /* during a feed */
    ss_span_t *copy;             /* client: a released header's span, bytes after it copied */
    uint64_t copy_base;          /* ... from this stream offset */
    uint16_t copied;
    uint8_t seen;
    const char *why;
} ss_fastcgi_t;

#define FC(c) ((ss_fastcgi_t *)(c)->ps)

/* The direction of the requests: what a client writes, what a server reads. */
static int ss_fastcgi_is_req(const ss_conn_t *c, int dir)
{
    return (c->role == SS_ROLE_CLIENT) == (dir == SS_DIR_OUT);
}

static int ss_fastcgi_detect(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)
{
    if (!ss_fastcgi_is_req(c, dir))
        return 0; /* an app server never speaks first */
    return ss_fcgi_detect(p, n);
}

static int ss_fastcgi_open(ss_conn_t *c)
{
    ss_fastcgi_t *fc = calloc(1, sizeof(*fc));

    if (fc == NULL)
        return 0;
    ss_fcgi_init(&fc->f);
    c->ps = fc;
    return 1;
}

static void ss_fastcgi_close(ss_conn_t *c)
{
    free(c->ps);
}

static const char *ss_fastcgi_why(const ss_conn_t *c)
{
    return FC(c)->why;
}

static void ss_fastcgi_forget(ss_conn_t *c, ss_span_t *s)
{
    ss_fastcgi_t *fc = FC(c);
    size_t i;

    for (i = 0; i < SS_FCGI_REQS_MAX; i++)
        if (fc->reqs[i].s == s)
            memset(&fc->reqs[i], 0, sizeof(fc->reqs[i]));
    if (fc->copy == s)
        fc->copy = NULL;
}

static ss_fastcgi_req_t *ss_fastcgi_req(ss_fastcgi_t *fc, uint16_t id)
{
    size_t i;

    for (i = 0; i < SS_FCGI_REQS_MAX; i++)
        if (fc->reqs[i].s && fc->reqs[i].id == id)
            return &fc->reqs[i];
    return NULL;
}

/* ---- the context added to a web server's request ------------------------- */

static size_t ss_fastcgi_nv_len(uint8_t *p, size_t n)
{
    if (n < 128) {
        p[0] = (uint8_t)n;
        return 1;
    }
    p[0] = (uint8_t)(0x80 | n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    return 4;
}

static size_t ss_fastcgi_nv(uint8_t *p, const char *name, size_t nlen, const char *val, size_t vlen)
{
    size_t k = ss_fastcgi_nv_len(p, nlen);

    k += ss_fastcgi_nv_len(p + k, vlen);
    memcpy(p + k, name, nlen);
    memcpy(p + k + nlen, val, vlen);
    return k + nlen + vlen;
}

#define SS_FASTCGI_TS_NV (4 + 1 + 15) /* HTTP_TRACESTATE's name and lengths */
#define SS_FASTCGI_REC_MIN (SS_FCGI_HDR_LEN + 2 + 16 + SS_TP_LEN)

/* The PARAMS record carrying s's context, into p (room bytes, at least
 * SS_FASTCGI_REC_MIN); its length, 0 if there is no room. The tracestate
 * is left out when it does not fit. */
static size_t ss_fastcgi_record(const ss_span_t *s, uint16_t id, uint8_t *p, size_t room)
{
    char tp[SS_TP_LEN + 1];
    size_t n = SS_FCGI_HDR_LEN;

    if (room < SS_FASTCGI_REC_MIN)
        return 0;
    ss_tp_format(&s->ctx, tp);
    n += ss_fastcgi_nv(p + n, "HTTP_TRACEPARENT", 16, tp, SS_TP_LEN);
    if (s->ts_len && n + SS_FASTCGI_TS_NV + s->ts_len <= room)
        n += ss_fastcgi_nv(p + n, "HTTP_TRACESTATE", 15, s->ts, s->ts_len);
    p[0] = 1;
    p[1] = SS_FCGI_PARAMS;
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)id;
    p[4] = (uint8_t)((n - SS_FCGI_HDR_LEN) >> 8);
    p[5] = (uint8_t)(n - SS_FCGI_HDR_LEN);
    p[6] = p[7] = 0;
    return n;
}

static void ss_fastcgi_armed(ss_span_t *s, uint64_t at, size_t len, size_t del, size_t owed)
{
    s->splice_at = at;
    s->splice_len = (uint16_t)len;
    s->splice_del = (uint16_t)del;
    s->splice_owed = (uint16_t)owed;
    s->splice_done = 0;
    s->splice_held = 0;
    s->splice_armed = 1;
}

/* Bytes s's splice already carries ahead of stream offset at: none when it
 * is free; those released as they are and not sent yet, and the program's
 * bytes copied after them up to at, when that is what it holds; -1 when
 * nothing more can go in it before at. */
static long ss_fastcgi_ahead(const ss_conn_t *c, const ss_span_t *s, uint64_t at)
{
    const ss_fastcgi_t *fc = FC(c);

    if (at < c->out_sent)
        return -1; /* gone */
    if (!s->splice_armed)
        return 0;
    if (fc->copy != s || s->splice_held || fc->copy_base != c->out_sent ||
        s->splice_at != c->out_sent || s->splice_done || s->splice_del ||
        at - c->out_sent > fc->copied)
        return -1;
    return (long)(s->splice_len + (at - c->out_sent));
}

/* Put n bytes at stream offset at over del of the program's bytes, in s's
 * splice (ss_fastcgi_ahead: after what it carries). 0: it cannot. */
static int ss_fastcgi_splice(ss_conn_t *c, ss_span_t *s, uint64_t at, size_t del,
                             const void *bytes, size_t n)
{
    ss_fastcgi_t *fc = FC(c);
    long ahead = ss_fastcgi_ahead(c, s, at);
    size_t released = s->splice_armed ? s->splice_len : 0;

    if (ahead < 0 || (size_t)ahead + n > sizeof(s->splice))
        return 0;
    memcpy(s->splice + ahead, bytes, n);
    if (ahead)
        ss_fastcgi_armed(s, c->out_sent, (size_t)ahead + n, (size_t)ahead - released + del,
                         released);
    else
        ss_fastcgi_armed(s, at, n, del, 0);
    if (fc->copy == s)
        fc->copy = NULL;
    return 1;
}

/* Insert the record before the empty PARAMS record at stream offset at:
 * ahead of that record's first bytes when they are held (the splice then
 * carries all of them, owed), else through ss_fastcgi_splice. */
static void ss_fastcgi_insert(ss_conn_t *c, ss_fastcgi_req_t *r, uint64_t at)
{
    ss_span_t *s = r->s;
    uint8_t rec[SS_SPLICE_MAX];
    long ahead;
    size_t n;

    if (s->splice_held && r->held_hdr) {
        size_t held = s->splice_len;

        n = ss_fastcgi_record(s, r->id, rec, sizeof(s->splice) - held);
        memmove(s->splice + n, s->splice, held);
        memcpy(s->splice, rec, n);
        ss_fastcgi_armed(s, s->splice_at, n + held, 0, n + held);
        SS_COUNT(headers_injected);
    } else if ((ahead = ss_fastcgi_ahead(c, s, at)) >= 0 &&
               (n = ss_fastcgi_record(s, r->id, rec, sizeof(s->splice) - (size_t)ahead)) &&
               ss_fastcgi_splice(c, s, at, 0, rec, n)) {
        SS_COUNT(headers_injected);
    } else {
        SS_COUNT(fcgi_not_injected);
    }
    r->held_hdr = 0;
}

/* ---- a request begins, and its params ------------------------------------ */

static void ss_fastcgi_begin(ss_conn_t *c, const ss_fcgi_ev_t *ev)
{
    ss_fastcgi_t *fc = FC(c);
    ss_fastcgi_req_t *r = ss_fastcgi_req(fc, ev->id);
    ss_span_t *s;
    size_t i;

    if (!fc->seen) {
        fc->seen = 1;
        SS_COUNT(conns_fastcgi);
    }
    if (r) { /* begun again without an end: the first is over */
        s = r->s;
        strncpy(s->error_type, "request_restarted", sizeof(s->error_type) - 1);
        ss_http_conn_finish(c, s);
    }
    if (!ev->tracked)
        return;
    for (i = 0; i < SS_FCGI_REQS_MAX && fc->reqs[i].s; i++)
        ;
    if (i == SS_FCGI_REQS_MAX || (s = ss_conn_exchange_new(c, SS_FCGI_REQS_MAX)) == NULL)
        return;
    s->http.gateway = SS_GW_FASTCGI;
    r = &fc->reqs[i];
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->id = ev->id;
}

static void ss_fastcgi_param(ss_fastcgi_req_t *r, const ss_fcgi_ev_t *ev)
{
    ss_span_t *s = r->s;
    uint8_t tps = s->http.head.tp_count;

    /* A name longer than the parser keeps is none spanshim keeps. */
    ss_gw_var_begin(&r->var, s, ev->name, ev->name_cut ? 0 : ev->name_len);
    r->var_open = 1;
    r->in_tp = ss_gw_var_is_tp(&r->var) && tps == 0;
    if (r->in_tp) {
        s->http.head.tp_pos = ev->at;
        r->tp_whole = ev->value_len == SS_TP_LEN && ev->value_contig;
    }
}

/* The first HTTP_TRACEPARENT's value is whole: a copy to overwrite? */
static void ss_fastcgi_tp_end(ss_conn_t *c, ss_fastcgi_req_t *r)
{
    ss_span_t *s = r->s;
    uint64_t at = s->http.head.tp_pos;
    int held = s->splice_held && !r->held_hdr;
    char tp[SS_TP_LEN + 1];

    if (!r->tp_whole || (!held && ss_fastcgi_ahead(c, s, at) < 0) || !ss_gw_client_tp_copy(c, s)) {
        s->splice_held = 0; /* what was held goes as it is */
        return;
    }
    if (held) {
        ss_http_conn_splice_tp(s, at);
        return;
    }
    ss_tp_format(&s->ctx, tp);
    if (!ss_fastcgi_splice(c, s, at, SS_TP_LEN, tp, SS_TP_LEN))
        SS_COUNT(fcgi_not_injected); /* no room left after what the splice carries */
}

static void ss_fastcgi_param_end(ss_conn_t *c, ss_fastcgi_req_t *r)
{
    if (!r->var_open)
        return; /* a pair after the params ended: not the request's */
    r->var_open = 0;
    ss_gw_var_end(&r->var);
    if (r->in_tp && c->role == SS_ROLE_CLIENT)
        ss_fastcgi_tp_end(c, r);
    r->in_tp = 0;
}

/* A web server's request has all its params (the empty record at `at`). */
static void ss_fastcgi_client_params_end(ss_conn_t *c, ss_fastcgi_req_t *r, uint64_t at)
{
    ss_span_t *s = r->s;
    const ss_http_head_t *h = &s->http.head;
    ss_ctx_t parent;

    if (!ss_gw_client_propagates(s))
        return;
    if (h->tp_count == 0) {
        if (s->parent_ambiguous)
            SS_COUNT(parents_ambiguous);
        ss_fastcgi_insert(c, r, at);
    } else if (!s->http.tp_copied && h->tp_len == SS_TP_LEN && ss_inbound_find(h->tp, &parent)) {
        SS_COUNT(fcgi_not_injected); /* a copy it could not overwrite: split, or sent */
    } else if (!s->http.tp_copied) {
        s->sampled = 0; /* the program passes a context of its own */
        SS_COUNT(headers_own);
    }
}

static void ss_fastcgi_params_end(ss_conn_t *c, ss_fastcgi_req_t *r, uint64_t at)
{
    r->params_done = 1;
    if (c->role == SS_ROLE_SERVER) {
        ss_gw_server_request(r->s);
        return;
    }
    r->s->http.head_done = 1;
    ss_fastcgi_client_params_end(c, r, at);
}

/* A record header is whole: bytes of it held for a request that it turns
 * out not to end go out as they are, first. */
static void ss_fastcgi_record_seen(ss_conn_t *c, const ss_fcgi_ev_t *ev)
{
    ss_fastcgi_t *fc = FC(c);
    size_t i;

    for (i = 0; i < SS_FCGI_REQS_MAX; i++) {
        ss_fastcgi_req_t *r = &fc->reqs[i];

        if (!r->s || !r->held_hdr || !r->s->splice_held)
            continue;
        if (ev->type == SS_FCGI_PARAMS && ev->clen == 0 && ev->id == r->id)
            continue; /* it does: ss_fastcgi_insert */
        r->s->splice_held = 0;
        r->held_hdr = 0;
    }
}

/* ---- the answer ------------------------------------------------------------ */

static const char *ss_fastcgi_proto_error(uint8_t st)
{
    switch (st) {
    case 0:
        return NULL;
    case 1:
        return "cant_mpx_conn";
    case 2:
        return "overloaded";
    case 3:
        return "unknown_role";
    default:
        return "protocol_status";
    }
}

static void ss_fastcgi_end(ss_conn_t *c, ss_fastcgi_req_t *r, const ss_fcgi_ev_t *ev)
{
    ss_span_t *s = r->s;
    const char *e = ss_fastcgi_proto_error(ev->proto_status);

    if (c->role == SS_ROLE_SERVER && !s->http.head_done) {
        ss_conn_drop(c, s); /* answered before its params: no request to show */
        return;
    }
    if (e && s->error_type[0] == '\0')
        strncpy(s->error_type, e, sizeof(s->error_type) - 1);
    if (c->role == SS_ROLE_SERVER)
        s->end_ns = c->write_ns; /* the web server may read it before write() returns */
    ss_http_conn_finish(c, s);
}

/* ---- events ------------------------------------------------------------------ */

static void ss_fastcgi_on(void *arg, const ss_fcgi_ev_t *ev)
{
    ss_conn_t *c = arg;
    ss_fastcgi_req_t *r;

    if (ev->kind == SS_FCGI_EV_RECORD) {
        if (ev->dir == 0 && c->role == SS_ROLE_CLIENT)
            ss_fastcgi_record_seen(c, ev);
        return;
    }
    if (ev->kind == SS_FCGI_EV_BEGIN) {
        ss_fastcgi_begin(c, ev);
        return;
    }
    if ((r = ss_fastcgi_req(FC(c), ev->id)) == NULL)
        return;
    switch (ev->kind) {
    case SS_FCGI_EV_PARAM:
        if (ev->type == SS_FCGI_PARAMS && !r->params_done)
            ss_fastcgi_param(r, ev);
        break;
    case SS_FCGI_EV_VALUE:
        if (r->var_open)
            ss_gw_var_bytes(&r->var, ev->p, ev->n);
        break;
    case SS_FCGI_EV_PARAM_END:
        ss_fastcgi_param_end(c, r);
        break;
    case SS_FCGI_EV_PARAMS_END:
        if (!r->params_done)
            ss_fastcgi_params_end(c, r, ev->at);
        break;
    case SS_FCGI_EV_ABORT:
        strncpy(r->s->error_type, "aborted", sizeof(r->s->error_type) - 1);
        break;
    case SS_FCGI_EV_STDOUT:
        r->s->http.response_begun = 1;
        break;
    case SS_FCGI_EV_STATUS:
        r->s->http.status_code = ev->status;
        break;
    case SS_FCGI_EV_END:
        ss_fastcgi_end(c, r, ev);
        break;
    default:
        break;
    }
}

/* A web server's bytes after a released header, while its request still
 * waits for its empty PARAMS record: copied into the splice after the
 * released bytes, in case that record comes in this write. */
static void ss_fastcgi_copy(ss_fastcgi_t *fc, const ss_conn_t *c, const char *p, size_t n)
{
    uint64_t pos = fc->f.dir[0].pos;
    ss_span_t *s = fc->copy;
    size_t room;

    if (s == NULL)
        return;
    if (fc->copy_base != c->out_sent || pos != fc->copy_base + fc->copied || !s->splice_armed) {
        fc->copy = NULL;
        return;
    }
    room = sizeof(s->splice) - s->splice_len - fc->copied;
    if (n > room)
        n = room;
    memcpy(s->splice + s->splice_len + fc->copied, p, n);
    fc->copied = (uint16_t)(fc->copied + n);
}

/* Before feeding a web server's write: the copy begins where a held header
 * may be released in it. */
static void ss_fastcgi_copy_begin(ss_fastcgi_t *fc, const ss_conn_t *c)
{
    size_t i;

    if (fc->copy && fc->copy_base != c->out_sent)
        fc->copy = NULL; /* an earlier write's */
    if (fc->copy || fc->f.dir[0].pos != c->out_sent)
        return;
    for (i = 0; i < SS_FCGI_REQS_MAX; i++) {
        ss_fastcgi_req_t *r = &fc->reqs[i];

        if (r->s && r->held_hdr && r->s->splice_held) {
            fc->copy = r->s;
            fc->copy_base = c->out_sent;
            fc->copied = 0;
            return;
        }
    }
}

static int ss_fastcgi_feed(ss_conn_t *c, int dir, const char *p, size_t n)
{
    ss_fastcgi_t *fc = FC(c);
    ss_fcgi_sink_t sink = {c, ss_fastcgi_on};
    int req = ss_fastcgi_is_req(c, dir);

    if (p == NULL) {
        fc->why = "bytes unseen (sendfile)";
        return 0;
    }
    if (req && c->role == SS_ROLE_CLIENT) {
        ss_fastcgi_copy_begin(fc, c);
        ss_fastcgi_copy(fc, c, p, n);
    }
    if (!ss_fcgi_feed(&fc->f, req ? 0 : 1, (const uint8_t *)p, n, &sink)) {
        fc->why = ss_fcgi_why(&fc->f);
        return 0;
    }
    return 1;
}

/* ---- holding bytes back ---------------------------------------------------- */

/* Whether r's first traceparent value, still coming, may be a copy. */
static int ss_fastcgi_tp_may_be_copy(const ss_conn_t *c, const ss_fastcgi_req_t *r)
{
    const ss_span_t *s = r->s;
    const ss_http_head_t *h = &s->http.head;

    return r->in_tp && r->tp_whole && ss_gw_client_propagates(s) &&
           (s->splice_held || h->tp_pos >= c->out_sent) && h->tp_len < SS_TP_LEN &&
           ss_inbound_has_prefix(h->tp, h->tp_len);
}

/* The request whose empty PARAMS record the n header bytes h so far may
 * begin, if it still needs its context added. */
static ss_fastcgi_req_t *ss_fastcgi_may_end(ss_fastcgi_t *fc, const uint8_t *h, size_t n)
{
    size_t i;

    if (h[0] != 1 || (n > 1 && h[1] != SS_FCGI_PARAMS) || (n > 4 && h[4] != 0) ||
        (n > 5 && h[5] != 0))
        return NULL;
    for (i = 0; i < SS_FCGI_REQS_MAX; i++) {
        ss_fastcgi_req_t *r = &fc->reqs[i];
        const ss_span_t *s = r->s;

        if (!s || r->params_done || s->http.head.tp_count || !ss_gw_client_propagates(s))
            continue;
        if ((n > 2 && h[2] != (uint8_t)(r->id >> 8)) || (n > 3 && h[3] != (uint8_t)r->id))
            continue;
        if (s->splice_armed && !(s->splice_held && r->held_hdr))
            continue;
        return r;
    }
    return NULL;
}

static void ss_fastcgi_unhold(ss_fastcgi_t *fc)
{
    size_t i;

    for (i = 0; i < SS_FCGI_REQS_MAX; i++) {
        if (fc->reqs[i].s)
            fc->reqs[i].s->splice_held = 0;
        fc->reqs[i].held_hdr = 0;
    }
}

/* How many of a write's last bytes (of total) to hold back: a traceparent
 * value that may be a copy, or a record header that may end a request
 * still to get its context. Anything held before and not held on goes
 * first, as it is. */
static size_t ss_fastcgi_hold(ss_conn_t *c, size_t total, ss_span_t **into)
{
    ss_fastcgi_t *fc = FC(c);
    const ss_fcgi_stream_t *st = &fc->f.dir[0];
    uint64_t end = c->out_sent + total, from, hdr_at;
    size_t hn = ss_fcgi_hdr_partial(&fc->f, 0, &hdr_at);
    ss_fastcgi_req_t *r = st->req ? ss_fastcgi_req(fc, st->req->id) : NULL;
    ss_span_t *s;

    *into = NULL;
    if (hn == 0 && r && ss_fcgi_in_value(&fc->f, 0) && ss_fastcgi_tp_may_be_copy(c, r)) {
        s = r->s;
        from = s->splice_held ? c->out_sent : s->http.head.tp_pos;
        r->held_hdr = 0;
    } else if (hn && (r = ss_fastcgi_may_end(fc, st->hdr, hn)) != NULL) {
        s = r->s;
        from = s->splice_held ? c->out_sent : hdr_at;
        r->held_hdr = 1;
    } else {
        ss_fastcgi_unhold(fc);
        return 0;
    }
    *into = s;
    return from >= c->out_sent && from < end ? (size_t)(end - from) : 0;
}

/* ---- ends ------------------------------------------------------------------ */

static void ss_fastcgi_fail(ss_conn_t *c, const char *error_type)
{
    ss_http_conn_fail(c, error_type);
}

/* A web server whose app server closed: what had no END_REQUEST was cut
 * (its answer had begun) or never came. An app server's web server
 * closing ends nothing: the answer may still be written. */
static void ss_fastcgi_eof(ss_conn_t *c)
{
    ss_span_t *s;

    if (c->role != SS_ROLE_CLIENT)
        return;
    for (s = c->q_head; s; s = s->next)
        if (s->error_type[0] == '\0')
            strncpy(s->error_type, s->http.response_begun ? "response_truncated" : "no_response",
                    sizeof(s->error_type) - 1);
    ss_http_conn_fail(c, NULL);
}

const ss_proto_t ss_proto_fastcgi = {
    .name = "fastcgi",
    .roles = SS_ROLE_CLIENT | SS_ROLE_SERVER,
    .detect = ss_fastcgi_detect,
    .open = ss_fastcgi_open,
    .feed = ss_fastcgi_feed,
    .eof = ss_fastcgi_eof,
    .fail = ss_fastcgi_fail,
    .hold = ss_fastcgi_hold,
    .why = ss_fastcgi_why,
    .forget = ss_fastcgi_forget,
    .close = ss_fastcgi_close,
};
