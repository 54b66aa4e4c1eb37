/*
 * ss_gw.h - what the app-server protocols share: FastCGI, uwsgi and AJP
 * carry the web server's HTTP request to the application as variables
 * named as CGI names them (REQUEST_METHOD, REQUEST_URI, HTTP_HOST, ...;
 * AJP's fields and headers are given those names by its module). This
 * turns them into the exchange's HTTP part (s->http, with gateway set),
 * gives a server exchange its context and a client exchange the rules for
 * the context it carries. Each module knows its framing and its offsets;
 * none knows what the variables mean.
 */
#ifndef SS_GW_H
#define SS_GW_H

#include <stddef.h>
#include <stdint.h>

#include "../ss_proto.h"

/* A variable being captured: where its value's bytes go. */
typedef struct ss_gw_var {
    ss_span_t *s;
    uint8_t which;               /* what it is (ss_gw.c), 0: not kept */
    char *dst;                   /* the field it fills, NULL if none */
    uint16_t *len;
    uint8_t *trunc;
    uint16_t cap;
    uint32_t num;                /* SERVER_PORT's digits so far */
    char word[4];                /* HTTPS's first bytes */
    uint8_t word_len;
} ss_gw_var_t;

/* Variable `name` (whole) of s's request begins; its value follows in any
 * number of pieces. Names spanshim does not keep capture nothing. */
void ss_gw_var_begin(ss_gw_var_t *v, ss_span_t *s, const char *name, size_t n);
void ss_gw_var_bytes(ss_gw_var_t *v, const char *p, size_t n);
void ss_gw_var_end(ss_gw_var_t *v);
/* A whole variable at once. */
void ss_gw_var(ss_span_t *s, const char *name, size_t nlen, const char *val, size_t vlen);
/* Whether v is HTTP_TRACEPARENT. The module sets s->http.head.tp_pos, the
 * value's stream offset, itself: it alone knows offsets. */
int ss_gw_var_is_tp(const ss_gw_var_t *v);

/* Server side: the request's variables are whole. s's context is the
 * child of its first valid HTTP_TRACEPARENT (a new trace if none),
 * head_done is set, and s is what the thread now serves. */
void ss_gw_server_request(ss_span_t *s);

/* Client side: whether s carries its context at all (propagation on, a
 * valid context, not libcurl's own transfer). The module then adds
 * HTTP_TRACEPARENT (ss_tp_format) and, when s->ts_len, HTTP_TRACESTATE
 * (s->ts), and counts headers_injected. */
int ss_gw_client_propagates(const ss_span_t *s);

/* Client side, when HTTP_TRACEPARENT's value is whole and none of it has
 * gone out: 1 if it is a copy of what a request being served here came
 * with (a web server passes the client's headers on as HTTP_*
 * variables). s is then that server span's child, and the module must put
 * s's traceparent over the value in place, byte for byte (counted
 * headers_replaced here). */
int ss_gw_client_tp_copy(ss_conn_t *c, ss_span_t *s);

#endif
