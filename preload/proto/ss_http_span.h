/*
 * ss_http_span.h - the HTTP part of a span record: the request line and
 * the few headers spanshim keeps (captured by the parser, ss_http.h), and
 * what the exchange's response and framing said. The encoder reads it
 * (exporter/ex_otlp_http.c); it depends on nothing but the C library.
 */
#ifndef SS_HTTP_SPAN_H
#define SS_HTTP_SPAN_H

#include <stdint.h>

#define SS_HTTP_METHOD_MAX 24
#define SS_HTTP_TARGET_MAX 512
#define SS_HTTP_HOST_MAX 256
#define SS_HTTP_UA_MAX 256
#define SS_HTTP_TP_MAX 64
#define SS_HTTP_TS_MAX 1024
#define SS_HTTP_SCRIPT_MAX 256   /* gateways: SCRIPT_FILENAME */
#define SS_HTTP_CLIENT_MAX 48    /* gateways: REMOTE_ADDR */

/* A captured string: bytes, length, and whether the cap cut it. */
#define SS_HTTP_FIELD(name, cap) \
    char name[cap];              \
    uint16_t name##_len;         \
    uint8_t name##_trunc

/* The captured fields, one table for the struct and for ss_http_head_reset. */
#define SS_HTTP_HEAD_FIELDS(X)           \
    X(method, SS_HTTP_METHOD_MAX)        \
    X(target, SS_HTTP_TARGET_MAX)        \
    X(host, SS_HTTP_HOST_MAX)            \
    X(ua, SS_HTTP_UA_MAX)                \
    X(tp, SS_HTTP_TP_MAX)                \
    X(ts, SS_HTTP_TS_MAX)                \
    X(script, SS_HTTP_SCRIPT_MAX)        \
    X(client, SS_HTTP_CLIENT_MAX)

#define SS_HTTP_HEAD_MEMBER(name, cap) SS_HTTP_FIELD(name, cap);

typedef struct ss_http_head {
    SS_HTTP_HEAD_FIELDS(SS_HTTP_HEAD_MEMBER)
    uint8_t tp_count;     /* traceparent header lines seen */
    uint8_t ts_count;     /* tracestate header lines seen */
    uint64_t tp_pos;      /* stream offset of the first traceparent value */
} ss_http_head_t;

/* Empty a head: lengths, caps and counts back to zero. The bytes are left
 * as they are (about 2 KiB); every reader goes by the lengths. */
#define SS_HTTP_HEAD_RESET(name, cap) h->name##_len = 0, h->name##_trunc = 0;

static inline void ss_http_head_reset(ss_http_head_t *h)
{
    SS_HTTP_HEAD_FIELDS(SS_HTTP_HEAD_RESET)
    h->tp_count = h->ts_count = 0;
    h->tp_pos = 0;
}

/* The app-server protocol an exchange went through (s->http.gateway): the
 * web server's request to its application, which carries the HTTP
 * request as CGI variables (proto/ss_gw.h). */
enum { SS_GW_NONE = 0, SS_GW_FASTCGI, SS_GW_UWSGI, SS_GW_AJP };

/* One HTTP exchange (HTTP/1.x, one HTTP/2 stream, or one request through
 * an app-server protocol). */
typedef struct ss_span_http {
    uint8_t head_done;            /* request head parsed: this is HTTP */
    uint8_t response_begun;
    uint8_t head_minor;           /* HTTP/1.x of the request */
    uint8_t http_version;         /* 10, 11, 20, 30; 0: from head_minor */
    uint8_t tp_copied;            /* the head's traceparent was a copy, replaced */
    uint16_t status_code;
    uint16_t resend_count;        /* libcurl: redirects followed */
    uint32_t stream_id;           /* HTTP/2: the exchange's stream */
    uint32_t seq;                 /* server, HTTP/1: its number on the connection, from 1 */
    uint8_t gateway;              /* SS_GW_*: through an app-server protocol */
    uint8_t gw_https;             /* gateway: the request came over TLS (HTTPS=on) */
    uint8_t gw_have_uri;          /* gateway: REQUEST_URI given (SCRIPT_NAME no longer stands in) */
    uint8_t gw_have_host;         /* gateway: HTTP_HOST given (SERVER_NAME no longer stands in) */
    uint16_t gw_server_port;      /* gateway: SERVER_PORT */
    ss_http_head_t head;          /* the request line and headers (last: not zeroed) */
} ss_span_http_t;

#endif
