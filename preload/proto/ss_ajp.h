/*
 * ss_ajp.h - AJP13, the Apache JServ Protocol 1.3 between a web server
 * (Apache's mod_proxy_ajp, mod_jk) and a servlet container (Tomcat), read
 * as events from the bytes as they pass, split anywhere.
 *
 * Every packet is a 4-byte header and a payload: 0x12 0x34 and a 16-bit
 * length to the container, 'A' 'B' and a length from it (big-endian, the
 * header not counted). To the container: FORWARD_REQUEST (a request's
 * line, its fields and headers, attributes up to 0xFF), body packets (a
 * 16-bit length and data; empty: the body's end) and CPING. From it:
 * SEND_HEADERS (the status), SEND_BODY_CHUNK, END_RESPONSE (whether the
 * connection is kept), GET_BODY_CHUNK and CPONG. Which packet to the
 * container is a body packet is known from the state only: the first
 * after a request with a Content-Length above 0, and one after each
 * GET_BODY_CHUNK.
 *
 * Allocation-free and bounded: a few bytes of state a direction, values
 * handed out as they pass (never copied), a header name matched in a
 * 16-byte buffer. Anything that is not AJP13 as written stops the reading
 * (SS_AJP_EV_ERROR, ss_ajp_why()).
 */
#ifndef SS_AJP_H
#define SS_AJP_H

#include <stddef.h>
#include <stdint.h>

#define SS_AJP_PACKET_DEFAULT 8192 /* both sides' default packet size, header included */
#define SS_AJP_NAME_MAX 16         /* bytes of a header name matched */

/* The two directions. */
enum { SS_AJP_TO_CONTAINER = 0, SS_AJP_FROM_CONTAINER = 1 };

/* What a piece of bytes was: one event per call of ss_ajp_feed. */
typedef enum {
    SS_AJP_EV_NONE = 0,
    SS_AJP_EV_REQUEST,       /* a FORWARD_REQUEST's prefix byte: it begins (pkt_at, pkt_len) */
    SS_AJP_EV_METHOD,        /* its method code (method; ss_ajp_method_name) */
    SS_AJP_EV_VALUE_BEGIN,   /* a value follows (field, val_at, val_len; SS_AJP_F_*) */
    SS_AJP_EV_VALUE_BYTES,   /* bytes of it (ev->p, ev->n) */
    SS_AJP_EV_VALUE_END,     /* it is whole */
    SS_AJP_EV_HEADERS,       /* num_headers read: server_port, is_ssl, num_headers, hdrs_at */
    SS_AJP_EV_REQUEST_END,   /* the FORWARD_REQUEST packet is whole */
    SS_AJP_EV_CPING,         /* a whole CPING */
    SS_AJP_EV_SEND_HEADERS,  /* the response's status is read (status) */
    SS_AJP_EV_BODY_CHUNK,    /* a SEND_BODY_CHUNK begins */
    SS_AJP_EV_GET_BODY,      /* a whole GET_BODY_CHUNK */
    SS_AJP_EV_END_RESPONSE,  /* a whole END_RESPONSE (reuse) */
    SS_AJP_EV_CPONG,         /* a whole CPONG */
    SS_AJP_EV_ERROR,         /* not AJP13: nothing more is read (ss_ajp_why) */
} ss_ajp_ev_type_t;

/* Which value SS_AJP_EV_VALUE_BEGIN announces. Headers other than these
 * and attributes other than the query string pass with no event. */
enum {
    SS_AJP_F_PROTOCOL = 1,
    SS_AJP_F_URI,
    SS_AJP_F_REMOTE_ADDR,
    SS_AJP_F_REMOTE_HOST,
    SS_AJP_F_SERVER_NAME,
    SS_AJP_F_HOST,           /* header Host (0xA00B) */
    SS_AJP_F_USER_AGENT,     /* header User-Agent (0xA00E) */
    SS_AJP_F_TRACEPARENT,    /* header traceparent */
    SS_AJP_F_TRACESTATE,     /* header tracestate */
    SS_AJP_F_QUERY_STRING,   /* attribute 0x05 */
    SS_AJP_F_STORED_METHOD,  /* attribute 0x0D: the method, when its code is 0xFF */
};

typedef struct ss_ajp_ev {
    ss_ajp_ev_type_t type;
    const char *p;           /* SS_AJP_EV_VALUE_BYTES */
    size_t n;
} ss_ajp_ev_t;

typedef struct ss_ajp_dir {
    uint64_t pos;            /* bytes of this direction read */
    uint8_t hdr[4];          /* the packet header being gathered */
    uint8_t hlen;
    uint8_t code;            /* the packet's prefix code (0: not read yet) */
    uint8_t body;            /* a body packet (to the container) */
    uint8_t step;            /* where in the packet (ss_ajp.c) */
    uint8_t sp;              /* where in a string: length, bytes, NUL */
    uint16_t left;           /* payload bytes still to come */
    uint16_t num;            /* 2-byte number being gathered */
    uint8_t num_have;        /* its bytes gathered */
    uint16_t str_left;       /* value bytes still to come */
    uint16_t count;          /* headers (to come) */
    uint8_t field;           /* the value being read (SS_AJP_F_*, 0: none kept) */
} ss_ajp_dir_t;

typedef struct ss_ajp {
    ss_ajp_dir_t d[2];
    const char *why;         /* set once it stopped */
    uint32_t body_owed;      /* body packets the web server is to send */
    /* the request being read, to the container */
    uint64_t pkt_at;         /* offset of its packet's first byte */
    uint16_t pkt_len;        /* its payload length */
    uint8_t method;          /* its method code */
    uint8_t is_ssl;
    uint16_t server_port;
    uint16_t num_headers;
    uint64_t hdrs_at;        /* offset of its first header */
    uint64_t attrs_at;       /* offset of its first attribute (or the 0xFF) */
    uint64_t content_length; /* its Content-Length (0: none) */
    uint8_t cl_done;         /* a byte past its digits was read */
    uint8_t field;           /* the value announced last (SS_AJP_F_*) */
    uint16_t val_len;        /* its length */
    uint64_t val_at;         /* offset of its first byte */
    char name[SS_AJP_NAME_MAX]; /* a header name being matched, lowercased */
    uint8_t name_len;
    /* from the container */
    uint16_t status;         /* SEND_HEADERS' status */
    uint8_t reuse;           /* END_RESPONSE's reuse flag */
} ss_ajp_t;

void ss_ajp_init(ss_ajp_t *a);
/* Read what of p[0..n) the next event needs (at least one byte while
 * n > 0), say what it was in *ev and return how many bytes that was. After
 * SS_AJP_EV_ERROR nothing more is read (0 returned, ERROR again). */
size_t ss_ajp_feed(ss_ajp_t *a, int dir, const char *p, size_t n, ss_ajp_ev_t *ev);
/* Why it stopped ("magic", "length", "code", "value", "order"), or NULL. */
const char *ss_ajp_why(const ss_ajp_t *a);
/* A method code's name ("GET"), or NULL (0xFF: the stored_method attribute
 * names it; others unknown). */
const char *ss_ajp_method_name(uint8_t code);
/* The first n bytes a web server sent: 1 a FORWARD_REQUEST or a CPING as
 * mod_proxy_ajp and mod_jk write them, 0 not, -1 more needed (at most 8). */
int ss_ajp_detect(const uint8_t *p, size_t n);

#endif
