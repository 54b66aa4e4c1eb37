/*
 * ss_ajp.c - AJP13 read as events (ss_ajp.h).
 *
 * A packet's header is gathered byte by byte; its payload is read by
 * steps, each a byte, a 2-byte number or a string (a 2-byte length, the
 * bytes, a NUL; length 0xFFFF: no string, nothing follows). A FORWARD_
 * REQUEST is read whole, field by field: its fields and the few headers
 * and attributes spanshim keeps are handed out as values, the others
 * passed over. Of every other packet only the first bytes matter (the
 * prefix code, a status, the reuse flag); the rest is passed over in bulk.
 * Every step is checked against the bytes the packet has left, so a
 * length that lies stops the reading instead of running into the next
 * packet.
 */
#include "ss_ajp.h"

#include <string.h>

#define AJP_FORWARD_REQUEST 2
#define AJP_SEND_BODY_CHUNK 3
#define AJP_SEND_HEADERS 4
#define AJP_END_RESPONSE 5
#define AJP_GET_BODY_CHUNK 6
#define AJP_CPONG 9
#define AJP_CPING 10
#define AJP_METHOD_STORED 0xFF
#define AJP_ATTR_REQ_ATTRIBUTE 10
#define AJP_ATTR_SSL_KEY_SIZE 11
#define AJP_ATTR_STORED_METHOD 13
#define AJP_ATTR_QUERY_STRING 5
#define AJP_ATTR_DONE 0xFF
#define AJP_NULL_STRING 0xFFFF
#define AJP_FORWARD_MIN 18 /* code, method, five empty strings, port, is_ssl, 0 headers, 0xFF */

/* A header value read only to learn the body's length. */
#define F_CONTENT_LENGTH 0x40

/* Steps of a FORWARD_REQUEST, in their order; then the other packets'. */
enum {
    R_CODE = 0,
    R_METHOD,
    R_PROTOCOL,
    R_URI,
    R_REMOTE_ADDR,
    R_REMOTE_HOST,
    R_SERVER_NAME,
    R_PORT,
    R_SSL,
    R_NUM_HEADERS,
    R_HEADER_NAME,
    R_HEADER_VALUE,
    R_ATTR,
    R_ATTR_NAME,   /* a req_attribute's name, its value next */
    R_ATTR_VALUE,
    R_ATTR_INT,
    R_END,         /* after 0xFF: anything left is passed over */
    P_SKIP,        /* the rest of the packet passed over */
    P_STATUS,      /* SEND_HEADERS' status */
    P_REUSE,       /* END_RESPONSE's flag */
};

/* Where in a string: its length, its bytes, its NUL. */
enum { SP_LEN = 0, SP_BYTES, SP_NUL };

static const char *const ajp_methods[] = {
    NULL,       "OPTIONS",  "GET",       "HEAD",     "POST",        "PUT",
    "DELETE",   "TRACE",    "PROPFIND",  "PROPPATCH", "MKCOL",      "COPY",
    "MOVE",     "LOCK",     "UNLOCK",    "ACL",      "REPORT",      "VERSION-CONTROL",
    "CHECKIN",  "CHECKOUT", "UNCHECKOUT", "SEARCH",  "MKWORKSPACE", "UPDATE",
    "LABEL",    "MERGE",    "BASELINE-CONTROL", "MKACTIVITY",
};
#define AJP_METHODS_MAX ((uint8_t)(sizeof(ajp_methods) / sizeof(ajp_methods[0]) - 1))

/* The string header names matched, and what each is. */
static const struct {
    const char *name;
    uint8_t len, field;
} ajp_names[] = {
    {"host", 4, SS_AJP_F_HOST},
    {"user-agent", 10, SS_AJP_F_USER_AGENT},
    {"traceparent", 11, SS_AJP_F_TRACEPARENT},
    {"tracestate", 10, SS_AJP_F_TRACESTATE},
    {"content-length", 14, F_CONTENT_LENGTH},
};

/* Coded request header names (0xA001..0xA00E) and what each is. */
#define AJP_HEADER_CODE_MAX 0x0E
static uint8_t ajp_coded_field(uint8_t code)
{
    switch (code) {
    case 0x08:
        return F_CONTENT_LENGTH;
    case 0x0B:
        return SS_AJP_F_HOST;
    case 0x0E:
        return SS_AJP_F_USER_AGENT;
    default:
        return 0;
    }
}

const char *ss_ajp_method_name(uint8_t code)
{
    return code <= AJP_METHODS_MAX ? ajp_methods[code] : NULL;
}

void ss_ajp_init(ss_ajp_t *a)
{
    memset(a, 0, sizeof(*a));
}

const char *ss_ajp_why(const ss_ajp_t *a)
{
    return a->why;
}

static ss_ajp_ev_type_t ajp_stop(ss_ajp_t *a, const char *why)
{
    a->why = why;
    return SS_AJP_EV_ERROR;
}

/* ---- detection ------------------------------------------------------------ */

int ss_ajp_detect(const uint8_t *p, size_t n)
{
    static const uint8_t magic[2] = {0x12, 0x34};
    uint16_t len, plen;

    if (memcmp(p, magic, n < 2 ? n : 2) != 0)
        return 0;
    if (n < 5)
        return -1;
    len = (uint16_t)(p[2] << 8 | p[3]);
    if (p[4] == AJP_CPING)
        return len == 1;
    if (p[4] != AJP_FORWARD_REQUEST || len < AJP_FORWARD_MIN)
        return 0;
    if (n < 8)
        return -1;
    if (p[5] == 0 || (p[5] > AJP_METHODS_MAX && p[5] != AJP_METHOD_STORED))
        return 0;
    plen = (uint16_t)(p[6] << 8 | p[7]); /* the protocol: "HTTP/1.1" */
    return plen >= 1 && plen <= 32 && plen + 15u <= len;
}

/* ---- FORWARD_REQUEST -------------------------------------------------------- */

/* The value of string step `step` kept, as which field (0: none). */
static uint8_t ajp_step_field(const ss_ajp_dir_t *d)
{
    switch (d->step) {
    case R_PROTOCOL:
        return SS_AJP_F_PROTOCOL;
    case R_URI:
        return SS_AJP_F_URI;
    case R_REMOTE_ADDR:
        return SS_AJP_F_REMOTE_ADDR;
    case R_REMOTE_HOST:
        return SS_AJP_F_REMOTE_HOST;
    case R_SERVER_NAME:
        return SS_AJP_F_SERVER_NAME;
    case R_HEADER_VALUE:
    case R_ATTR_VALUE:
        return d->field;
    default:
        return 0;
    }
}

static int ajp_kept(uint8_t field)
{
    return field >= SS_AJP_F_PROTOCOL && field <= SS_AJP_F_STORED_METHOD;
}

static uint8_t ajp_name_field(const ss_ajp_t *a, uint16_t len)
{
    size_t i;

    if (len > SS_AJP_NAME_MAX)
        return 0;
    for (i = 0; i < sizeof(ajp_names) / sizeof(ajp_names[0]); i++)
        if (ajp_names[i].len == len && memcmp(a->name, ajp_names[i].name, len) == 0)
            return ajp_names[i].field;
    return 0;
}

/* The headers are over: attributes follow. */
static void ajp_to_attrs(ss_ajp_t *a, ss_ajp_dir_t *d)
{
    d->step = R_ATTR;
    a->attrs_at = d->pos;
}

/* A string step is over (its NUL read, or it was null): the next step. */
static void ajp_string_done(ss_ajp_t *a, ss_ajp_dir_t *d)
{
    d->num_have = 0;
    switch (d->step) {
    case R_HEADER_NAME:
        d->step = R_HEADER_VALUE;
        break;
    case R_HEADER_VALUE:
        d->field = 0;
        if (--d->count == 0)
            ajp_to_attrs(a, d);
        else
            d->step = R_HEADER_NAME;
        break;
    case R_ATTR_NAME:
        d->step = R_ATTR_VALUE;
        break;
    case R_ATTR_VALUE:
        d->field = 0;
        d->step = R_ATTR;
        break;
    default:
        d->step++; /* protocol .. server_name, then the port */
        break;
    }
}

/* A string's 2-byte length is read (d->num). */
static ss_ajp_ev_type_t ajp_string_len(ss_ajp_t *a, ss_ajp_dir_t *d)
{
    uint16_t len = d->num;
    uint8_t f;

    if (d->step == R_HEADER_NAME && (len >> 8) == 0xA0) {
        uint8_t code = (uint8_t)len;

        if (code == 0 || code > AJP_HEADER_CODE_MAX)
            return ajp_stop(a, "value");
        d->field = ajp_coded_field(code);
        d->step = R_HEADER_VALUE;
        d->num_have = 0;
        return SS_AJP_EV_NONE;
    }
    if (len == AJP_NULL_STRING) {
        if (d->step == R_HEADER_NAME || d->step == R_ATTR_NAME)
            return ajp_stop(a, "value");
        ajp_string_done(a, d);
        return SS_AJP_EV_NONE;
    }
    if ((uint32_t)len + 1 > d->left)
        return ajp_stop(a, "length");
    d->str_left = len;
    d->sp = len ? SP_BYTES : SP_NUL;
    a->name_len = 0;
    f = ajp_step_field(d);
    if (f == F_CONTENT_LENGTH) {
        a->content_length = 0;
        a->cl_done = 0;
    }
    if (!ajp_kept(f))
        return SS_AJP_EV_NONE;
    a->field = f;
    a->val_len = len;
    a->val_at = d->pos;
    return SS_AJP_EV_VALUE_BEGIN;
}

/* A string's NUL. */
static ss_ajp_ev_type_t ajp_string_nul(ss_ajp_t *a, ss_ajp_dir_t *d, uint8_t ch)
{
    uint8_t f = ajp_step_field(d);

    if (ch != 0)
        return ajp_stop(a, "value");
    d->sp = SP_LEN;
    if (d->step == R_HEADER_NAME)
        d->field = ajp_name_field(a, d->num);
    ajp_string_done(a, d);
    return ajp_kept(f) ? SS_AJP_EV_VALUE_END : SS_AJP_EV_NONE;
}

/* Bytes of a string: matched (a header name), counted (Content-Length) or
 * handed out (kept values). */
static void ajp_string_bytes(ss_ajp_t *a, ss_ajp_dir_t *d, const char *p, size_t n)
{
    size_t i;

    if (d->step == R_HEADER_NAME) {
        for (i = 0; i < n && a->name_len < SS_AJP_NAME_MAX; i++) {
            char ch = p[i];

            a->name[a->name_len++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
    } else if (d->field == F_CONTENT_LENGTH) {
        for (i = 0; i < n && !a->cl_done; i++) {
            if (p[i] < '0' || p[i] > '9')
                a->cl_done = 1;
            else if (a->content_length < 1000000000000000ULL)
                a->content_length = a->content_length * 10 + (uint64_t)(p[i] - '0');
        }
    }
}

/* Gather a 2-byte number; 1 when whole (d->num). */
static int ajp_num(ss_ajp_dir_t *d, uint8_t ch)
{
    d->num = (uint16_t)(d->num_have ? d->num | ch : ch << 8);
    if (++d->num_have < 2)
        return 0;
    d->num_have = 0;
    return 1;
}

static int ajp_is_string_step(uint8_t step)
{
    return (step >= R_PROTOCOL && step <= R_SERVER_NAME) ||
           (step >= R_HEADER_NAME && step <= R_ATTR_VALUE && step != R_ATTR);
}

static ss_ajp_ev_type_t ajp_attr(ss_ajp_t *a, ss_ajp_dir_t *d, uint8_t ch)
{
    switch (ch) {
    case AJP_ATTR_DONE:
        d->step = R_END;
        return SS_AJP_EV_NONE;
    case AJP_ATTR_REQ_ATTRIBUTE:
        d->step = R_ATTR_NAME;
        return SS_AJP_EV_NONE;
    case AJP_ATTR_SSL_KEY_SIZE:
        d->step = R_ATTR_INT;
        return SS_AJP_EV_NONE;
    default:
        if (ch == 0 || ch > AJP_ATTR_STORED_METHOD)
            return ajp_stop(a, "code");
        d->field = ch == AJP_ATTR_QUERY_STRING    ? SS_AJP_F_QUERY_STRING
                   : ch == AJP_ATTR_STORED_METHOD ? SS_AJP_F_STORED_METHOD
                                                  : 0;
        d->step = R_ATTR_VALUE;
        return SS_AJP_EV_NONE;
    }
}

/* One byte of a FORWARD_REQUEST (not of a string's bytes). */
static ss_ajp_ev_type_t ajp_request_byte(ss_ajp_t *a, ss_ajp_dir_t *d, uint8_t ch)
{
    if (ajp_is_string_step(d->step)) {
        if (d->sp == SP_NUL)
            return ajp_string_nul(a, d, ch);
        return ajp_num(d, ch) ? ajp_string_len(a, d) : SS_AJP_EV_NONE;
    }
    switch (d->step) {
    case R_METHOD:
        if (ch == 0 || (ch > AJP_METHODS_MAX && ch != AJP_METHOD_STORED))
            return ajp_stop(a, "value");
        a->method = ch;
        d->step = R_PROTOCOL;
        return SS_AJP_EV_METHOD;
    case R_PORT:
        if (ajp_num(d, ch)) {
            a->server_port = d->num;
            d->step = R_SSL;
        }
        return SS_AJP_EV_NONE;
    case R_SSL:
        a->is_ssl = ch;
        d->step = R_NUM_HEADERS;
        return SS_AJP_EV_NONE;
    case R_NUM_HEADERS:
        if (!ajp_num(d, ch))
            return SS_AJP_EV_NONE;
        a->num_headers = d->count = d->num;
        a->hdrs_at = d->pos;
        if (d->count == 0)
            ajp_to_attrs(a, d);
        else
            d->step = R_HEADER_NAME;
        return SS_AJP_EV_HEADERS;
    case R_ATTR:
        return ajp_attr(a, d, ch);
    case R_ATTR_INT:
        if (ajp_num(d, ch))
            d->step = R_ATTR;
        return SS_AJP_EV_NONE;
    default: /* R_END: passed over */
        return SS_AJP_EV_NONE;
    }
}

/* ---- packets ------------------------------------------------------------------ */

/* A packet's prefix code, to the container. */
static ss_ajp_ev_type_t ajp_code_to(ss_ajp_t *a, ss_ajp_dir_t *d, uint8_t ch)
{
    d->code = ch;
    switch (ch) {
    case AJP_FORWARD_REQUEST:
        if (d->left + 1u < AJP_FORWARD_MIN)
            return ajp_stop(a, "length");
        d->step = R_METHOD;
        a->pkt_at = d->pos - 5;
        a->pkt_len = (uint16_t)(d->left + 1);
        a->content_length = 0;
        a->method = 0;
        a->attrs_at = 0;
        return SS_AJP_EV_REQUEST;
    case AJP_CPING:
        d->step = P_SKIP;
        return SS_AJP_EV_NONE;
    default:
        return ajp_stop(a, "code");
    }
}

/* A packet's prefix code, from the container. */
static ss_ajp_ev_type_t ajp_code_from(ss_ajp_t *a, ss_ajp_dir_t *d, uint8_t ch)
{
    d->code = ch;
    switch (ch) {
    case AJP_SEND_HEADERS:
        d->step = P_STATUS;
        return SS_AJP_EV_NONE;
    case AJP_END_RESPONSE:
        d->step = P_REUSE;
        return SS_AJP_EV_NONE;
    case AJP_SEND_BODY_CHUNK:
        d->step = P_SKIP;
        return SS_AJP_EV_BODY_CHUNK;
    case AJP_GET_BODY_CHUNK:
    case AJP_CPONG:
        d->step = P_SKIP;
        return SS_AJP_EV_NONE;
    default:
        return ajp_stop(a, "code");
    }
}

/* One payload byte (not of a string's bytes, nor passed over in bulk). */
static ss_ajp_ev_type_t ajp_byte(ss_ajp_t *a, ss_ajp_dir_t *d, int dir, uint8_t ch)
{
    if (d->step == R_CODE)
        return dir == SS_AJP_TO_CONTAINER ? ajp_code_to(a, d, ch) : ajp_code_from(a, d, ch);
    if (d->step == P_STATUS) {
        if (!ajp_num(d, ch))
            return SS_AJP_EV_NONE;
        a->status = d->num;
        d->step = P_SKIP;
        return SS_AJP_EV_SEND_HEADERS;
    }
    if (d->step == P_REUSE) {
        a->reuse = ch;
        d->step = P_SKIP;
        return SS_AJP_EV_NONE;
    }
    return ajp_request_byte(a, d, ch);
}

/* The packet's last byte went: what its end is. */
static ss_ajp_ev_type_t ajp_packet_end(ss_ajp_t *a, ss_ajp_dir_t *d, int dir, ss_ajp_ev_type_t ev)
{
    uint8_t code = d->code, step = d->step, body = d->body;

    d->hlen = 0;
    d->code = 0;
    d->body = 0;
    d->step = R_CODE;
    d->num_have = 0;
    d->sp = SP_LEN;
    if (ev == SS_AJP_EV_ERROR)
        return ev;
    if (body)
        return SS_AJP_EV_NONE;
    if (dir == SS_AJP_TO_CONTAINER) {
        if (code == AJP_CPING)
            return SS_AJP_EV_CPING;
        if (step != R_END)
            return ajp_stop(a, "length");
        if (a->content_length > 0)
            a->body_owed = 1; /* the web server sends the first body packet unasked */
        return SS_AJP_EV_REQUEST_END;
    }
    switch (code) {
    case AJP_SEND_HEADERS:
        return step == P_SKIP ? ev : ajp_stop(a, "length");
    case AJP_END_RESPONSE:
        if (step != P_SKIP)
            return ajp_stop(a, "length");
        a->body_owed = 0; /* the exchange is over: no more body is read */
        return SS_AJP_EV_END_RESPONSE;
    case AJP_GET_BODY_CHUNK:
        if (a->body_owed < 0xFFFF)
            a->body_owed++;
        return SS_AJP_EV_GET_BODY;
    case AJP_CPONG:
        return SS_AJP_EV_CPONG;
    default:
        return ev;
    }
}

/* A header byte; when the header is whole, the packet begins. */
static ss_ajp_ev_type_t ajp_header_byte(ss_ajp_t *a, ss_ajp_dir_t *d, int dir, uint8_t ch)
{
    static const uint8_t magic[2][2] = {{0x12, 0x34}, {'A', 'B'}};

    d->hdr[d->hlen++] = ch;
    if (d->hlen <= 2 && ch != magic[dir][d->hlen - 1])
        return ajp_stop(a, "magic");
    if (d->hlen < 4)
        return SS_AJP_EV_NONE;
    d->left = (uint16_t)(d->hdr[2] << 8 | d->hdr[3]);
    d->step = R_CODE;
    if (dir == SS_AJP_TO_CONTAINER && a->body_owed) {
        a->body_owed--;
        d->body = 1;
        d->step = P_SKIP;
    }
    if (d->left == 0)
        return d->body ? ajp_packet_end(a, d, dir, SS_AJP_EV_NONE) : ajp_stop(a, "length");
    return SS_AJP_EV_NONE;
}

/* Bytes a step takes in bulk at once: a string's, or those passed over. */
static size_t ajp_bulk(const ss_ajp_dir_t *d)
{
    if (d->hlen < 4)
        return 0;
    if (d->step == P_SKIP || d->step == R_END)
        return d->left;
    if (ajp_is_string_step(d->step) && d->sp == SP_BYTES)
        return d->str_left;
    return 0;
}

size_t ss_ajp_feed(ss_ajp_t *a, int dir, const char *p, size_t n, ss_ajp_ev_t *ev)
{
    ss_ajp_dir_t *d = &a->d[dir];
    size_t i = 0;

    ev->type = SS_AJP_EV_NONE;
    ev->p = NULL;
    ev->n = 0;
    if (a->why) {
        ev->type = SS_AJP_EV_ERROR;
        return 0;
    }
    while (i < n && ev->type == SS_AJP_EV_NONE) {
        size_t bulk = ajp_bulk(d);
        ss_ajp_ev_type_t t;

        if (d->hlen < 4) {
            d->pos++;
            t = ajp_header_byte(a, d, dir, (uint8_t)p[i++]);
        } else if (bulk) {
            size_t k = n - i < bulk ? n - i : bulk;
            int strings = d->step != P_SKIP && d->step != R_END;

            if (strings) {
                ajp_string_bytes(a, d, p + i, k);
                d->str_left = (uint16_t)(d->str_left - k);
                if (d->str_left == 0)
                    d->sp = SP_NUL;
            }
            t = strings && ajp_kept(ajp_step_field(d)) ? SS_AJP_EV_VALUE_BYTES : SS_AJP_EV_NONE;
            if (t == SS_AJP_EV_VALUE_BYTES) {
                ev->p = p + i;
                ev->n = k;
            }
            d->pos += k;
            d->left = (uint16_t)(d->left - k);
            i += k;
            if (d->left == 0)
                t = ajp_packet_end(a, d, dir, t);
        } else {
            d->pos++;
            d->left--;
            t = ajp_byte(a, d, dir, (uint8_t)p[i++]);
            if (d->left == 0 && t != SS_AJP_EV_ERROR)
                t = ajp_packet_end(a, d, dir, t);
        }
        ev->type = t;
    }
    return i;
}
