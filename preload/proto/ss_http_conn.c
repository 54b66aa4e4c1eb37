/*
 * ss_http_conn.c - what the HTTP/1 and HTTP/2 modules share (see
 * ss_http_conn.h).
 */
#define _GNU_SOURCE
#include "ss_http_conn.h"
#include "../ss_config.h"
#include "../ss_inbound.h"
#include "../ss_log.h"
#include "../ss_serving.h"

#include <string.h>

int ss_http_conn_has_tp(const ss_http_head_t *h)
{
    return h->tp_count == 1 && !h->tp_trunc && h->tp_len == SS_TP_LEN;
}

void ss_http_conn_server_head_end(ss_span_t *s)
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
    ss_conn_serving(&s->ctx, s->ts, s->ts_len);
    if (ok && ss_http_conn_has_tp(h))
        ss_inbound_add(h->tp, &s->ctx);
}

/* Value bytes held back so far (ss_send.c) are the splice's first bytes,
 * each where it belongs: ours go over them, any held bytes after the value
 * stay, and the splice replaces what of the value is still to come. */
void ss_http_conn_splice_tp(ss_span_t *s, uint64_t at)
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
}

void ss_http_conn_mark(uint8_t *seen)
{
    if (!*seen) {
        *seen = 1;
        SS_COUNT(conns_http);
    }
}

void ss_http_conn_finish(ss_conn_t *c, ss_span_t *s)
{
    if (s->kind == SS_KIND_SERVER && ss_http_conn_has_tp(&s->http.head) && s->http.head_done)
        ss_inbound_remove(s->http.head.tp, s->ctx.span_id);
    ss_conn_finish(c, s);
}

/* The program closed the connection of s, an exchange it served but had
 * not answered whole (it is still open), after it forked: the child it
 * forked (a CGI program with the socket as its stdout) may hold the
 * connection and write the rest, which this process never sees. The
 * answer is not known missing. */
static int ss_http_conn_left_to_child(const ss_span_t *s)
{
    int left = s->kind == SS_KIND_SERVER && ss_span_forked_since(s);

    if (left)
        SS_COUNT(responses_left_to_child);
    return left;
}

void ss_http_conn_fail(ss_conn_t *c, const char *error_type)
{
    ss_span_t *s;

    while ((s = ss_conn_dequeue(c)) != NULL) {
        const char *e = error_type;

        if (!s->http.head_done) {
            ss_span_free(s);
            continue;
        }
        if (e == NULL)
            e = ss_http_conn_left_to_child(s) || s->http.response_begun ? "" : "no_response";
        if (s->error_type[0] == '\0')
            strncpy(s->error_type, e, sizeof(s->error_type) - 1);
        ss_http_conn_finish(c, s);
    }
}

void ss_http_conn_take_status(ss_conn_t *c, const ss_http_t *resp)
{
    uint16_t st = ss_http_status(resp);

    if (st && c->q_head && c->q_head->http.response_begun)
        c->q_head->http.status_code = st;
}

void ss_http_conn_client_eof(ss_conn_t *c, ss_http_t *resp)
{
    int e;

    if (c->role != SS_ROLE_CLIENT)
        return;
    e = ss_http_eof(resp);
    if (e == 1 && c->q_head)
        ss_http_conn_finish(c, ss_conn_dequeue(c));
    ss_http_conn_take_status(c, resp);
    ss_http_conn_fail(c, e < 0 ? "response_truncated" : "no_response");
}
