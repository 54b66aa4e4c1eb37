/*
 * ss_conn.c - the protocol logic of a followed connection (see ss_conn.h).
 *
 * Four streams meet here: requests we send (client), responses we read
 * (client), requests we read (server), responses we send (server). Both
 * roles share one queue of exchanges per connection: a request creates one
 * when its first byte passes, the matching response (the first still open;
 * HTTP/1 answers in order) ends it. The thread that read a request's head
 * remembers that server span as the parent for the requests it then makes.
 * The send path, where trace headers are spliced in, is ss_send.c; HTTP/2,
 * recognised here by its preface, is ss_conn_h2.c.
 */
#define _GNU_SOURCE
#include "ss_conn.h"
#include "ss_conn_int.h"
#include "ss_config.h"
#include "ss_fd.h"
#include "proto/ss_h2.h"
#include "ss_hint.h"
#include "ss_inbound.h"
#include "ss_log.h"
#include "ss_real.h"
#include "ss_serving.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* The server span this thread last started serving: the parent of what it
 * sends, unless the request carries a copy of another one's traceparent
 * (see ss_inbound.h). */
static __thread struct {
    uint8_t active;
    ss_ctx_t ctx;
    uint16_t ts_len;
    char ts[SS_TS_FORWARD_MAX + 1];
} ss_cur __attribute__((tls_model("initial-exec")));

/* >0 while a library the shim traces at its own level (libcurl) works on
 * this thread: its requests are its spans, not the socket layer's. */
static __thread int ss_lib_depth __attribute__((tls_model("initial-exec")));

void ss_conn_library_enter(void)
{
    ss_lib_depth++;
}

void ss_conn_library_leave(void)
{
    ss_lib_depth--;
}

int ss_conn_in_library(void)
{
    return ss_lib_depth > 0;
}

/* The parent of a request this thread sends with nothing better to go
 * by: the server span it serves, if it serves only that one (see
 * ss_serving.h); s, if given, is marked when there were several. */
static const ss_ctx_t *ss_conn_guess_parent(ss_span_t *s)
{
    if (!ss_cur.active)
        return NULL;
    if (ss_serving_alone())
        return &ss_cur.ctx;
    if (s)
        s->parent_ambiguous = 1;
    return NULL;
}

int ss_conn_thread_ctx(ss_ctx_t *out)
{
    const ss_ctx_t *cur = ss_conn_guess_parent(NULL);

    if (cur == NULL)
        return 0;
    *out = *cur;
    return 1;
}

void ss_conn_thread_reset(void)
{
    ss_cur.active = 0;
}

/* ---- connections ----------------------------------------------------- */

static void ss_conn_peer_from(ss_conn_t *c, const struct sockaddr *sa, socklen_t len);
static uint16_t ss_sockaddr_port(const struct sockaddr_storage *ss);

static ss_conn_t *ss_conn_new(uint8_t role, uint8_t mode)
{
    ss_conn_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    ss_lock_reset(&c->lock);
    c->refs = 1; /* the creator's */
    c->role = role;
    c->mode = mode;
    ss_http_init(&c->req, SS_HTTP_REQUEST);
    ss_http_init(&c->resp, SS_HTTP_RESPONSE);
    c->req.want_tp_end = role == SS_ROLE_CLIENT; /* where a copy is replaced */
    return c;
}

static void ss_conn_drop_queue(ss_conn_t *c)
{
    while (c->q_head) {
        ss_span_t *s = c->q_head;

        c->q_head = s->next;
        ss_span_free(s);
    }
    c->q_tail = NULL;
    c->req_cur = NULL;
    c->pending = 0;
    c->req.head = NULL;
}

ss_conn_t *ss_conn_new_tls(int fd, int server)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ss_conn_t *c = ss_conn_new(server ? SS_ROLE_SERVER : SS_ROLE_CLIENT, SS_MODE_DETECT);

    if (c == NULL)
        return NULL;
    c->is_tls = 1;
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        ss_conn_peer_from(c, (struct sockaddr *)&ss, sl);
    sl = sizeof(ss);
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        c->local_port = ss_sockaddr_port(&ss);
    return c;
}

void ss_conn_end(ss_conn_t *c)
{
    ss_lock(&c->lock);
    ss_conn_send_owed(c, -1);
    ss_conn_fail_all(c, NULL);
    c->mode = SS_MODE_OPAQUE;
    ss_unlock(&c->lock);
}

void ss_conn_free(ss_conn_t *c)
{
    ss_conn_drop_queue(c);
    ss_conn_h2_free(c);
    free(c);
}

void ss_conn_after_fork(ss_conn_t *c)
{
    ss_lock_reset(&c->lock);
}

static void ss_conn_enqueue(ss_conn_t *c, ss_span_t *s)
{
    s->next = NULL;
    if (c->q_tail)
        c->q_tail->next = s;
    else
        c->q_head = s;
    c->q_tail = s;
    c->pending++;
}

/* Take s out of the queue, wherever it is (HTTP/2 streams end in any order). */
void ss_conn_remove(ss_conn_t *c, ss_span_t *s)
{
    ss_span_t **pp = &c->q_head, *prev = NULL;

    while (*pp && *pp != s) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = s->next;
    if (c->q_tail == s)
        c->q_tail = prev;
    if (c->req_cur == s)
        c->req_cur = NULL;
    if (c->req.head == &s->http.head)
        c->req.head = NULL;
    c->pending--;
    s->next = NULL;
}

static ss_span_t *ss_conn_dequeue(ss_conn_t *c)
{
    ss_span_t *s = c->q_head;

    if (s)
        ss_conn_remove(c, s);
    return s;
}

static void ss_conn_peer_from(ss_conn_t *c, const struct sockaddr *sa, socklen_t len)
{
    c->peer_addr[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &in->sin_addr, c->peer_addr, sizeof(c->peer_addr));
        c->peer_port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, c->peer_addr, sizeof(c->peer_addr));
        c->peer_port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path) : 0;

        c->is_unix = 1;
        if (n > sizeof(c->peer_addr) - 1)
            n = sizeof(c->peer_addr) - 1;
        if (n && un->sun_path[0] != '\0') {
            memcpy(c->peer_addr, un->sun_path, n);
            c->peer_addr[n] = '\0';
            c->peer_addr[strnlen(c->peer_addr, n)] = '\0';
        }
    }
}

static uint16_t ss_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

/* Stop following fd: the connection is not (or no longer) HTTP. */
void ss_conn_let_go(ss_conn_t *c, int fd)
{
    if (!c->is_tls)
        ss_conn_send_owed(c, fd);
    c->mode = SS_MODE_OPAQUE;
    ss_conn_drop_queue(c);
    ss_conn_h2_free(c);
    if (!c->is_tls) /* a TLS session is let go where it is kept (ss_tls.c) */
        ss_fd_put(ss_fd_take(fd));
}

/* ---- ending exchanges ---------------------------------------------------- */

/* A request head with exactly one traceparent of the version-00 length. */
static int ss_conn_has_tp(const ss_http_head_t *h)
{
    return h->tp_count == 1 && !h->tp_trunc && h->tp_len == SS_TP_LEN;
}

void ss_conn_finish(ss_conn_t *c, ss_span_t *s)
{
    if (s->kind == SS_KIND_SERVER && ss_conn_has_tp(&s->http.head) && s->http.head_done)
        ss_inbound_remove(s->http.head.tp, s->ctx.span_id);
    if (s->kind == SS_KIND_SERVER && ss_cur.active &&
        memcmp(ss_cur.ctx.span_id, s->ctx.span_id, 8) == 0)
        ss_cur.active = 0;
    (void)c;
    ss_span_end(s);
}

/* The response in progress gives the first open exchange its status as
 * soon as its status line has passed, whole head or not: that is what the
 * peer got (python's http.server --cgi writes the status line, its CGI
 * child the rest of the head). */
static void ss_conn_take_status_line(ss_conn_t *c)
{
    uint16_t st = ss_http_status(&c->resp);

    if (st && c->q_head && c->q_head->http.response_begun)
        c->q_head->http.status_code = st;
}

/* The program closed the connection of s, an exchange it served but had
 * not answered whole (it is still open), after it forked: the child it
 * forked (a CGI program with the socket as its stdout) may hold the
 * connection and write the rest, which this process never sees. The
 * answer is not known missing. */
static int ss_conn_left_to_child(const ss_span_t *s)
{
    int left = s->kind == SS_KIND_SERVER && ss_span_forked_since(s);

    if (left)
        SS_COUNT(responses_left_to_child);
    return left;
}

/* End every open exchange: with error_type (a reset, a truncation), or,
 * when error_type is NULL (the program closed the connection), as it is if
 * its response had begun (the program chose not to read the rest) or a
 * child it forked may be answering it, and with "no_response" if not. */
void ss_conn_fail_all(ss_conn_t *c, const char *error_type)
{
    ss_span_t *s;

    ss_conn_take_status_line(c);
    while ((s = ss_conn_dequeue(c)) != NULL) {
        const char *e = error_type;

        if (!s->http.head_done) {
            ss_span_free(s);
            continue;
        }
        if (e == NULL)
            e = ss_conn_left_to_child(s) || s->http.response_begun ? "" : "no_response";
        if (s->error_type[0] == '\0')
            strncpy(s->error_type, e, sizeof(s->error_type) - 1);
        ss_conn_finish(c, s);
    }
}

/* ---- the request direction ------------------------------------------- */

/* A new exchange at the end of the queue, its context started if this
 * side sends the request; NULL when `cap` are open or memory is short. */
ss_span_t *ss_conn_exchange_new(ss_conn_t *c, unsigned cap)
{
    ss_span_t *s = NULL;

    if (c->pending >= cap || (s = ss_span_alloc()) == NULL) {
        SS_COUNT(spans_dropped_memory);
        return NULL;
    }
    s->kind = c->role == SS_ROLE_CLIENT ? SS_KIND_CLIENT : SS_KIND_SERVER;
    s->start_ns = ss_now_ns();
    s->is_unix = c->is_unix;
    s->is_tls = c->is_tls;
    s->peer_port = c->peer_port;
    s->local_port = c->local_port;
    memcpy(s->peer_addr, c->peer_addr, sizeof(s->peer_addr));
    if (s->kind == SS_KIND_CLIENT) {
        /* The parent is what this thread is serving right now, if one. */
        const ss_ctx_t *parent = ss_conn_guess_parent(s);

        if (ss_cfg.disabled) {
            if (parent)
                s->ctx = *parent; /* propagate the inbound context as is */
        } else {
            ss_span_start_ctx(s, parent, 0);
        }
        if (parent && ss_cur.ts_len) {
            memcpy(s->ts, ss_cur.ts, ss_cur.ts_len + 1u);
            s->ts_len = ss_cur.ts_len;
        }
    }
    ss_conn_enqueue(c, s);
    return s;
}

static void ss_conn_req_begin(ss_conn_t *c)
{
    uint32_t seq = c->role == SS_ROLE_SERVER ? ++c->req_seq : 0;
    ss_span_t *s;

    c->req_cur = NULL;
    c->req.head = NULL;
    if ((s = ss_conn_exchange_new(c, SS_CONN_PENDING_MAX)) == NULL)
        return;
    s->http.seq = seq; /* what the Node module counts too (ss_hint.h) */
    c->req.head = &s->http.head;
    c->req_cur = s;
}

void ss_conn_mark_http(ss_conn_t *c)
{
    if (c->mode != SS_MODE_HTTP) {
        c->mode = SS_MODE_HTTP;
        SS_COUNT(conns_http);
    }
}

/* Lay out "traceparent: ...\r\n[tracestate: ...\r\n]" to insert at `at`. */
static void ss_conn_splice_insert(ss_span_t *s, uint64_t at)
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
 * byte), byte for byte. Value bytes held back so far (ss_send.c) are the
 * splice's first bytes, each where it belongs: ours go over them, any
 * held whitespace after the value stays, and the splice replaces what of
 * the value is still to come. */
static void ss_conn_splice_replace(ss_span_t *s, uint64_t at)
{
    uint16_t held = s->splice_held ? s->splice_len : 0;
    char tp[SS_TP_LEN + 1];

    ss_tp_format(&s->ctx, tp);
    memcpy(s->splice, tp, SS_TP_LEN);
    s->splice_at = at + held;
    s->splice_len = held > SS_TP_LEN ? held : SS_TP_LEN;
    s->splice_del = held < SS_TP_LEN ? (uint16_t)(SS_TP_LEN - held) : 0;
    s->splice_done = 0;
    s->splice_owed = held;
    s->splice_held = 0;
    s->splice_armed = 1;
    s->http.tp_copied = 1;
    SS_COUNT(headers_replaced);
}

/* The Node module's hint named the server span this request belongs to:
 * its child, or a new trace's root if that request is no longer served. */
static void ss_conn_client_hinted(ss_span_t *s, const ss_hint_t *hint)
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
static int ss_conn_tp_open(const ss_conn_t *c, const ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;

    return ss_lib_depth == 0 && ss_cfg.propagate && s->ctx.valid && h->tp_count == 1 &&
           !h->tp_trunc && (s->splice_held || h->tp_pos >= c->out_sent);
}

int ss_conn_tp_may_be_copy(const ss_conn_t *c, const ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    size_t n = h->tp_len, i;

    if (!ss_conn_tp_open(c, s))
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
static void ss_conn_client_tp_end(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    ss_ctx_t parent;
    ss_hint_t hint;

    if (ss_lib_depth == 0 && ss_conn_has_tp(h) && (s->splice_held || h->tp_pos >= c->out_sent) &&
        ss_hint_parse(h->tp, &hint)) {
        /* The Node module's hint: never left on the wire, whatever else is off. */
        ss_conn_client_hinted(s, &hint);
        ss_conn_splice_replace(s, h->tp_pos);
    } else if (ss_conn_tp_open(c, s) && h->tp_len == SS_TP_LEN && ss_inbound_find(h->tp, &parent)) {
        s->parent_ambiguous = 0;
        if (!ss_cfg.disabled) {
            if (!ss_cur.active || memcmp(ss_cur.ctx.span_id, parent.span_id, 8) != 0)
                s->ts_len = 0; /* its tracestate was copied along too */
            ss_span_start_ctx(s, &parent, 0);
        } else {
            s->ctx = parent;
        }
        ss_conn_splice_replace(s, h->tp_pos);
    }
    s->splice_held = 0;
}

static void ss_conn_client_head_end(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;

    if (ss_lib_depth > 0) {
        s->sampled = 0; /* libcurl's transfer span covers it, header and all */
        return;
    }
    if (!ss_cfg.propagate || !s->ctx.valid)
        return;
    if (h->tp_count == 0) {
        if (s->parent_ambiguous)
            SS_COUNT(parents_ambiguous);
        ss_conn_splice_insert(s, c->req.pos);
    } else if (!s->http.tp_copied) {
        /* The program traces itself: leave its header and its span alone. */
        s->sampled = 0;
        SS_COUNT(headers_own);
    }
}

void ss_conn_server_head_end(ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    ss_ctx_t parent;
    int ok = h->tp_count == 1 && ss_tp_parse(h->tp, h->tp_len, &parent);

    if (ok && h->ts_count)
        s->ts_len = (uint16_t)ss_ts_forward(h->ts, h->ts_len, h->ts_trunc, s->ts);
    if (ss_cfg.disabled) {
        if (ok)
            s->ctx = parent;
    } else {
        ss_span_start_ctx(s, ok ? &parent : NULL, 1);
    }
    if (!s->serving_slot)
        s->serving_slot = ss_serving_begin();
    ss_cur.active = s->ctx.valid;
    ss_cur.ctx = s->ctx;
    if (ok && ss_conn_has_tp(h))
        ss_inbound_add(h->tp, &s->ctx);
    ss_cur.ts_len = s->ts_len;
    memcpy(ss_cur.ts, s->ts, s->ts_len + 1u);
}

/* Feed request bytes to the HTTP/1 parser. */
static int ss_conn_feed_h1_req(ss_conn_t *c, const char *p, size_t n)
{
    while (n) {
        ss_http_ev_t ev;
        size_t used = ss_http_feed(&c->req, p, n, &ev);

        if (p)
            p += used; /* NULL: bytes that went by unseen (sendfile) */
        n -= used;
        switch (ev) {
        case SS_HTTP_EV_BEGIN:
            ss_conn_req_begin(c);
            break;
        case SS_HTTP_EV_TP_END:
            if (c->req_cur && c->role == SS_ROLE_CLIENT)
                ss_conn_client_tp_end(c, c->req_cur);
            break;
        case SS_HTTP_EV_HEAD_END:
            ss_conn_mark_http(c);
            if (c->req_cur) {
                c->req_cur->http.head_done = 1;
                c->req_cur->http.head_minor = c->req.vminor;
                if (c->role == SS_ROLE_CLIENT)
                    ss_conn_client_head_end(c, c->req_cur);
                else
                    ss_conn_server_head_end(c->req_cur);
            }
            break;
        case SS_HTTP_EV_END:
            c->req_cur = NULL;
            c->req.head = NULL;
            break;
        case SS_HTTP_EV_ERROR:
            if (c->mode == SS_MODE_HTTP)
                SS_COUNT(http_errors);
            else
                SS_COUNT(conns_opaque);
            return 0;
        case SS_HTTP_EV_NONE:
            break;
        }
    }
    return 1;
}

uint64_t ss_conn_req_pos(const ss_conn_t *c)
{
    if (c->h2_pre < SS_H2_PREFACE_LEN)
        return c->h2_pre; /* held back from both parsers so far */
    return c->h2 ? ss_conn_h2_req_pos(c) : c->req.pos;
}

/* Feed request bytes (p NULL: n unseen body bytes); returns 0 if the
 * stream turned out not to be HTTP. The first bytes may be the HTTP/2
 * preface: they are held back from the HTTP/1 parser while they match
 * it, and handed to it after all if they stop matching (unless the other
 * side already spoke HTTP/2). */
int ss_conn_feed_req(ss_conn_t *c, const char *p, size_t n)
{
    size_t m, k;

    if (c->h2_pre < SS_H2_PREFACE_LEN && n) {
        m = p ? ss_h2_preface_match(p, n, c->h2_pre) : 0;
        if (m < n && c->h2_pre + m < SS_H2_PREFACE_LEN) {
            if (c->h2)
                return 0;
            k = c->h2_pre;
            c->h2_pre = SS_CONN_NOT_H2;
            if (k && !ss_conn_feed_h1_req(c, SS_H2_PREFACE, k))
                return 0;
            return ss_conn_feed_h1_req(c, p, n);
        }
        c->h2_pre = (uint8_t)(c->h2_pre + m);
        p += m;
        n -= m;
        if (c->h2_pre < SS_H2_PREFACE_LEN)
            return 1;
        if (c->h2 == NULL && !ss_conn_h2_start(c))
            return 0;
    }
    if (c->h2)
        return ss_conn_h2_feed_req(c, p, n);
    return ss_conn_feed_h1_req(c, p, n);
}

/* ---- the response direction ------------------------------------------- */

static int ss_conn_is_method(const ss_span_t *s, const char *m)
{
    size_t n = strlen(m);

    return s->http.head.method_len == n && memcmp(s->http.head.method, m, n) == 0;
}

/* Feed response bytes (p NULL: n unseen body bytes); returns 0 if the
 * connection must be let go. */
int ss_conn_feed_resp(ss_conn_t *c, const char *p, size_t n)
{
    /* An HTTP/2 server may send its SETTINGS before reading the client's
     * preface (it knows the protocol from TLS's ALPN). */
    if (c->h2 == NULL && c->h2_pre < SS_H2_PREFACE_LEN && c->resp.pos == 0 && p &&
        ss_h2_server_preface(p, n) && !ss_conn_h2_start(c))
        return 0;
    if (c->h2)
        return ss_conn_h2_feed_resp(c, p, n);
    while (n) {
        ss_http_ev_t ev;
        size_t used = ss_http_feed(&c->resp, p, n, &ev);
        ss_span_t *s = c->q_head;

        if (p)
            p += used; /* NULL: bytes that went by unseen (sendfile) */
        n -= used;
        switch (ev) {
        case SS_HTTP_EV_BEGIN:
            if (s == NULL || !s->http.head_done) {
                SS_COUNT(http_errors);
                return 0; /* a response to nothing we saw */
            }
            s->http.response_begun = 1;
            c->resp.skip_body = ss_conn_is_method(s, "HEAD");
            break;
        case SS_HTTP_EV_HEAD_END:
            if (s)
                s->http.status_code = c->resp.status;
            break;
        case SS_HTTP_EV_END: {
            uint16_t st = c->resp.status;
            int tunnel = st == 101 || (s && ss_conn_is_method(s, "CONNECT") && st / 100 == 2);

            if (st >= 100 && st < 200 && st != 101)
                break; /* interim: the final response is still to come */
            if (s && c->role == SS_ROLE_SERVER)
                s->end_ns = c->write_ns; /* the peer may read it before write() returns */
            if (s)
                ss_conn_finish(c, ss_conn_dequeue(c));
            if (tunnel)
                return 0; /* what follows is not HTTP/1 */
            break;
        }
        case SS_HTTP_EV_ERROR:
            SS_COUNT(http_errors);
            return 0;
        case SS_HTTP_EV_TP_END: /* request heads only */
        case SS_HTTP_EV_NONE:
            break;
        }
    }
    return 1;
}

/* ---- descriptors ------------------------------------------------------ */

void ss_conn_on_new_fd(int fd)
{
    ss_fd_put(ss_fd_take(fd));
}

void ss_conn_on_close(int fd)
{
    ss_conn_t *c = ss_fd_take(fd);

    if (c == NULL)
        return;
    if (__atomic_load_n(&c->fds, __ATOMIC_ACQUIRE) == 0) {
        ss_lock(&c->lock);
        if (c->mode == SS_MODE_CONNECTING)
            c->mode = SS_MODE_OPAQUE;
        if (!c->is_tls)
            ss_conn_send_owed(c, fd);
        ss_conn_fail_all(c, NULL);
        ss_unlock(&c->lock);
    }
    ss_fd_put(c);
}

/* A server that shuts its write side has sent all it will on the
 * connection, and so has any child holding a copy of it: the client reads
 * the end of a response delimited by the close now, not at the close
 * (python's http.server shuts down, then closes). A client's shutdown is a
 * half-close before the response: it ends nothing. */
void ss_conn_on_shutdown(int fd, uint64_t at_ns)
{
    ss_conn_t *c = ss_fd_get(fd);
    ss_span_t *s;

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    if (c->role == SS_ROLE_SERVER) {
        for (s = c->q_head; s; s = s->next)
            s->end_ns = at_ns;
        ss_conn_fail_all(c, NULL);
    }
    ss_unlock(&c->lock);
    ss_fd_put(c);
}

void ss_conn_on_dup(int oldfd, int newfd)
{
    ss_conn_t *c;

    ss_conn_on_close(newfd); /* dup2 and dup3 close what newfd was */
    c = ss_fd_get(oldfd);
    if (c == NULL)
        return;
    ss_fd_put(ss_fd_set(newfd, c));
    ss_fd_put(c);
}

static int ss_conn_stream_type(int fd)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (ss_real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return 0;
    return type == SOCK_STREAM;
}

/* A connect that failed: a CLIENT span named "connect" says so. */
static void ss_conn_connect_failed(ss_conn_t *c, int err)
{
    char buf[24];
    ss_span_t *s;

    if (c->is_unix || ss_cfg.disabled || ss_lib_depth > 0 || (s = ss_span_alloc()) == NULL)
        return;
    s->kind = SS_KIND_CLIENT;
    s->type = SS_SPAN_CONNECT;
    s->start_ns = c->connect_ns;
    s->peer_port = c->peer_port;
    memcpy(s->peer_addr, c->peer_addr, sizeof(s->peer_addr));
    ss_span_start_ctx(s, ss_conn_guess_parent(s), 0);
    if (s->parent_ambiguous)
        SS_COUNT(parents_ambiguous);
    strncpy(s->error_type, ss_errno_name(err, buf, sizeof(buf)), sizeof(s->error_type) - 1);
    ss_span_end(s);
}

void ss_conn_on_connect(int fd, const struct sockaddr *addr, socklen_t len, int rc, int err)
{
    ss_conn_t *c;

    if (addr == NULL || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6 &&
                         addr->sa_family != AF_UNIX))
        return;
    if (rc < 0 && err != EINPROGRESS && err != EAGAIN && err != EINTR) {
        if (addr->sa_family == AF_UNIX || !ss_conn_stream_type(fd))
            return;
        c = ss_conn_new(SS_ROLE_CLIENT, SS_MODE_OPAQUE);
        if (c) {
            ss_conn_peer_from(c, addr, len);
            c->connect_ns = ss_now_ns();
            ss_conn_connect_failed(c, err);
            ss_conn_free(c);
        }
        return;
    }
    if (!ss_conn_stream_type(fd))
        return;
    c = ss_conn_new(SS_ROLE_CLIENT, rc == 0 ? SS_MODE_DETECT : SS_MODE_CONNECTING);
    if (c == NULL)
        return;
    ss_conn_peer_from(c, addr, len);
    c->connect_ns = ss_now_ns();
    ss_fd_put(ss_fd_set(fd, c)); /* replaces nothing: socket() cleared the slot */
    ss_fd_put(c);                /* the table holds it now */
}

void ss_conn_on_accept(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ss_conn_t *c = ss_conn_new(SS_ROLE_SERVER, SS_MODE_DETECT);

    if (c == NULL)
        return;
    if (addr == NULL || len == 0) {
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            ss_conn_peer_from(c, (struct sockaddr *)&ss, sl);
    } else {
        ss_conn_peer_from(c, addr, len);
    }
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        c->local_port = ss_sockaddr_port(&ss);
        if (ss.ss_family == AF_UNIX)
            c->is_unix = 1;
    }
    ss_fd_put(ss_fd_set(fd, c));
    ss_fd_put(c);
}

void ss_conn_on_sockerr(int fd, int err)
{
    ss_conn_t *c = ss_fd_get(fd);

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    if (c->mode == SS_MODE_CONNECTING) {
        if (err == 0) {
            c->mode = SS_MODE_DETECT;
        } else {
            ss_conn_connect_failed(c, err);
            ss_conn_let_go(c, fd);
        }
    }
    ss_unlock(&c->lock);
    ss_fd_put(c);
}

/* ---- receiving -------------------------------------------------------- */

int ss_errno_transient(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

void ss_conn_recv_on(ss_conn_t *c, int fd, const struct iovec *iov, int cnt, ssize_t r, int err)
{
    int keep = 1, i;
    char buf[24];

    ss_lock(&c->lock);
    if (c->mode == SS_MODE_OPAQUE)
        goto out;
    if (c->mode == SS_MODE_CONNECTING) {
        if (r < 0) {
            ss_conn_connect_failed(c, err);
            keep = 0;
            goto out;
        }
        c->mode = SS_MODE_DETECT;
    }
    if (r > 0) {
        size_t left = (size_t)r;

        for (i = 0; i < cnt && left && keep; i++) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

            keep = c->role == SS_ROLE_CLIENT ? ss_conn_feed_resp(c, iov[i].iov_base, n)
                                             : ss_conn_feed_req(c, iov[i].iov_base, n);
            left -= n;
        }
    } else if (r == 0 && c->role == SS_ROLE_CLIENT && c->h2) {
        ss_conn_h2_eof(c);
    } else if (r == 0 && c->role == SS_ROLE_CLIENT) {
        int e = ss_http_eof(&c->resp);

        if (e == 1 && c->q_head)
            ss_conn_finish(c, ss_conn_dequeue(c));
        ss_conn_fail_all(c, e < 0 ? "response_truncated" : "no_response");
    } else if (r < 0) {
        ss_conn_fail_all(c, ss_errno_name(err, buf, sizeof(buf)));
    }
out:
    if (!keep)
        ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
}

void ss_conn_on_recv(int fd, const struct iovec *iov, int cnt, ssize_t r, int err, int flags)
{
    ss_conn_t *c;

    if (flags & MSG_PEEK)
        return;
    if (r < 0 && ss_errno_transient(err))
        return;
    c = ss_fd_get(fd);
    if (c == NULL)
        return;
    ss_conn_recv_on(c, fd, iov, cnt, r, err);
    ss_fd_put(c);
}

void ss_conn_forget(int fd)
{
    ss_conn_t *c = ss_fd_get(fd);

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
    ss_fd_put(c);
}

static void ss_conn_close_one(int fd)
{
    ss_conn_on_close(fd);
}

void ss_conn_on_close_range(unsigned first, unsigned last)
{
    ss_fd_each(first, last, ss_conn_close_one);
}
