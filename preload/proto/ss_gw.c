/*
 * ss_gw.c - CGI variables into an exchange's HTTP part, and the context
 * rules of the app-server hop (see ss_gw.h).
 *
 * Which variable fills what:
 *   REQUEST_METHOD    the method
 *   REQUEST_URI       the target (SCRIPT_NAME stands in when there is none)
 *   HTTP_HOST         the host (SERVER_NAME stands in when there is none)
 *   SERVER_PORT       the port, when the host gives none
 *   HTTPS             "on" or "1": the client spoke TLS to the web server
 *   REMOTE_ADDR       the client's address (client.address)
 *   HTTP_USER_AGENT   the user agent
 *   SCRIPT_FILENAME   the script run (code.file.path)
 *   HTTP_TRACEPARENT  the first valid one is the parent
 *   HTTP_TRACESTATE   the first one goes with it
 * A web server passes every request header on as HTTP_*, so a client's
 * traceparent arrives that way too, and the web server's shim adds its
 * own: which one an application reads depends on the app server (the
 * first for some, the last for others), so the modules replace a copy in
 * place where they can rather than add a second one.
 */
#define _GNU_SOURCE
#include "ss_gw.h"
#include "ss_http_conn.h"
#include "../ss_config.h"
#include "../ss_inbound.h"
#include "../ss_log.h"

#include <string.h>

enum {
    SS_GW_V_NONE = 0,
    SS_GW_V_METHOD,
    SS_GW_V_URI,
    SS_GW_V_SCRIPT_NAME,
    SS_GW_V_HOST,
    SS_GW_V_SERVER_NAME,
    SS_GW_V_PORT,
    SS_GW_V_HTTPS,
    SS_GW_V_REMOTE,
    SS_GW_V_UA,
    SS_GW_V_SCRIPT,
    SS_GW_V_TP,
    SS_GW_V_TS,
};

static const struct {
    const char *name;
    uint8_t len, which;
} ss_gw_vars[] = {
    {"REQUEST_METHOD", 14, SS_GW_V_METHOD},     {"REQUEST_URI", 11, SS_GW_V_URI},
    {"SCRIPT_NAME", 11, SS_GW_V_SCRIPT_NAME},   {"HTTP_HOST", 9, SS_GW_V_HOST},
    {"SERVER_NAME", 11, SS_GW_V_SERVER_NAME},   {"SERVER_PORT", 11, SS_GW_V_PORT},
    {"HTTPS", 5, SS_GW_V_HTTPS},                {"REMOTE_ADDR", 11, SS_GW_V_REMOTE},
    {"HTTP_USER_AGENT", 15, SS_GW_V_UA},        {"SCRIPT_FILENAME", 15, SS_GW_V_SCRIPT},
    {"HTTP_TRACEPARENT", 16, SS_GW_V_TP},       {"HTTP_TRACESTATE", 15, SS_GW_V_TS},
};

static uint8_t ss_gw_lookup(const char *name, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(ss_gw_vars) / sizeof(ss_gw_vars[0]); i++)
        if (ss_gw_vars[i].len == n && memcmp(ss_gw_vars[i].name, name, n) == 0)
            return ss_gw_vars[i].which;
    return SS_GW_V_NONE;
}

#define SS_GW_INTO(v, h, f) \
    ((v)->dst = (h)->f, (v)->len = &(h)->f##_len, (v)->trunc = &(h)->f##_trunc, (v)->cap = sizeof((h)->f))

/* Whether the head holds a traceparent of the version-00 form. */
static int ss_gw_tp_valid(const ss_http_head_t *h)
{
    ss_ctx_t ctx;

    return h->tp_len == SS_TP_LEN && !h->tp_trunc && ss_tp_parse(h->tp, h->tp_len, &ctx);
}

void ss_gw_var_begin(ss_gw_var_t *v, ss_span_t *s, const char *name, size_t n)
{
    ss_span_http_t *sh = &s->http;
    ss_http_head_t *h = &sh->head;

    memset(v, 0, sizeof(*v));
    v->s = s;
    v->which = ss_gw_lookup(name, n);
    switch (v->which) {
    case SS_GW_V_METHOD:
        SS_GW_INTO(v, h, method);
        break;
    case SS_GW_V_URI:
        sh->gw_have_uri = 1;
        SS_GW_INTO(v, h, target);
        break;
    case SS_GW_V_SCRIPT_NAME:
        if (!sh->gw_have_uri)
            SS_GW_INTO(v, h, target);
        break;
    case SS_GW_V_HOST:
        sh->gw_have_host = 1;
        SS_GW_INTO(v, h, host);
        break;
    case SS_GW_V_SERVER_NAME:
        if (!sh->gw_have_host)
            SS_GW_INTO(v, h, host);
        break;
    case SS_GW_V_REMOTE:
        SS_GW_INTO(v, h, client);
        break;
    case SS_GW_V_UA:
        SS_GW_INTO(v, h, ua);
        break;
    case SS_GW_V_SCRIPT:
        SS_GW_INTO(v, h, script);
        break;
    case SS_GW_V_TP:
        if (h->tp_count < 255)
            h->tp_count++;
        if (!ss_gw_tp_valid(h))
            SS_GW_INTO(v, h, tp);
        break;
    case SS_GW_V_TS:
        if (h->ts_count < 255)
            h->ts_count++;
        if (h->ts_count == 1)
            SS_GW_INTO(v, h, ts);
        break;
    default:
        break;
    }
    if (v->dst) { /* a variable given again replaces what it said */
        *v->len = 0;
        *v->trunc = 0;
    }
}

void ss_gw_var_bytes(ss_gw_var_t *v, const char *p, size_t n)
{
    size_t room, i;

    if (v->which == SS_GW_V_PORT) {
        for (i = 0; i < n && v->num <= 65535; i++)
            v->num = p[i] >= '0' && p[i] <= '9' ? v->num * 10 + (uint32_t)(p[i] - '0') : 65536;
        return;
    }
    if (v->which == SS_GW_V_HTTPS) {
        for (i = 0; i < n && v->word_len < sizeof(v->word); i++)
            v->word[v->word_len++] = p[i];
        if (i < n)
            v->word_len = sizeof(v->word); /* longer than any yes */
        return;
    }
    if (v->dst == NULL || n == 0)
        return;
    room = v->cap - *v->len;
    if (n > room) {
        n = room;
        *v->trunc = 1;
    }
    memcpy(v->dst + *v->len, p, n);
    *v->len = (uint16_t)(*v->len + n);
}

void ss_gw_var_end(ss_gw_var_t *v)
{
    if (v->which == SS_GW_V_PORT && v->num > 0 && v->num <= 65535)
        v->s->http.gw_server_port = (uint16_t)v->num;
    else if (v->which == SS_GW_V_HTTPS)
        v->s->http.gw_https = (v->word_len == 2 && strncasecmp(v->word, "on", 2) == 0) ||
                              (v->word_len == 1 && v->word[0] == '1');
    v->which = SS_GW_V_NONE;
    v->dst = NULL;
}

void ss_gw_var(ss_span_t *s, const char *name, size_t nlen, const char *val, size_t vlen)
{
    ss_gw_var_t v;

    ss_gw_var_begin(&v, s, name, nlen);
    ss_gw_var_bytes(&v, val, vlen);
    ss_gw_var_end(&v);
}

int ss_gw_var_is_tp(const ss_gw_var_t *v)
{
    return v->which == SS_GW_V_TP;
}

void ss_gw_server_request(ss_span_t *s)
{
    ss_http_head_t *h = &s->http.head;

    /* The first valid traceparent is the one: it stands as the head's only
     * one for the HTTP rules (ss_http_conn.c), and none when none is. */
    h->tp_count = ss_gw_tp_valid(h) ? 1 : 0;
    if (h->tp_count == 0)
        h->ts_count = 0;
    s->http.head_done = 1;
    ss_http_conn_server_head_end(s);
}

int ss_gw_client_propagates(const ss_span_t *s)
{
    return !ss_conn_in_library() && ss_cfg.propagate && s->ctx.valid;
}

int ss_gw_client_tp_copy(ss_conn_t *c, ss_span_t *s)
{
    const ss_http_head_t *h = &s->http.head;
    ss_ctx_t parent;

    (void)c;
    if (!ss_gw_client_propagates(s) || h->tp_len != SS_TP_LEN || h->tp_trunc ||
        !ss_inbound_find(h->tp, &parent))
        return 0;
    s->parent_ambiguous = 0;
    if (ss_cfg.disabled) {
        s->ctx = parent;
    } else {
        if (!ss_conn_serving_is(parent.span_id))
            s->ts_len = 0; /* its tracestate was passed on too */
        ss_span_start_ctx(s, &parent, 0);
    }
    s->http.tp_copied = 1;
    SS_COUNT(headers_replaced);
    return 1;
}
