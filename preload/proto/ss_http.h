/*
 * ss_http.h - an incremental, allocation-free HTTP/1.x message parser.
 *
 * One ss_http_t follows one direction of one connection: the requests a
 * client sends (or a server reads), or the responses coming back. Bytes are
 * fed as they pass the hook, split at any point; the parser never looks
 * back and never buffers, it keeps only the state of the current byte.
 *
 * ss_http_feed() stops at every event and returns how many bytes it used
 * before it, so the caller can act at exact byte positions:
 *   SS_HTTP_EV_BEGIN     the next byte is the first of a new message;
 *   SS_HTTP_EV_HEAD_END  the next byte starts the empty line that ends the
 *                        header block (where a header can be inserted);
 *   SS_HTTP_EV_TP_END    the next byte ends the line of a request head's
 *                        first traceparent: its value is whole in the
 *                        head's fields (only if want_tp_end is set);
 *   SS_HTTP_EV_END       the message ended just before the returned offset;
 *   SS_HTTP_EV_ERROR     the stream is not HTTP/1.x: stop feeding it.
 * SS_HTTP_EV_NONE means all input was used with no event.
 *
 * The few request headers spanshim needs (Host, User-Agent, traceparent,
 * tracestate) and the request line are copied, up to fixed caps, into the
 * ss_http_head_t the caller attaches after BEGIN; everything else is only
 * scanned for framing (Content-Length, Transfer-Encoding, Connection).
 */
#ifndef SS_HTTP_H
#define SS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "ss_http_span.h"

typedef enum {
    SS_HTTP_REQUEST = 0,
    SS_HTTP_RESPONSE = 1,
} ss_http_kind_t;

typedef enum {
    SS_HTTP_EV_NONE = 0,
    SS_HTTP_EV_BEGIN,
    SS_HTTP_EV_HEAD_END,
    SS_HTTP_EV_END,
    SS_HTTP_EV_ERROR,
    SS_HTTP_EV_TP_END,
} ss_http_ev_t;

typedef struct ss_http {
    uint8_t kind;         /* ss_http_kind_t */
    uint8_t state;        /* private: SS_S_* in ss_http.c */
    uint8_t hdr;          /* private: which header the current line is */
    uint8_t tok_len;      /* private: bytes in tok */
    char tok[24];         /* private: header name, then last value token */
    uint8_t in_trailer;   /* private: parsing chunked trailers */
    uint8_t vpos;         /* private: position in "HTTP/x.y" */
    uint8_t has_digit;    /* private: a digit seen in a number */
    /* The current message, valid from HEAD_END on. */
    uint8_t vmajor, vminor;
    uint16_t status;      /* responses */
    uint8_t chunked, has_cl, conn_close, conn_keep_alive, upgrade;
    uint8_t skip_body;    /* set by the caller for a response to HEAD */
    uint8_t want_tp_end;  /* set by the caller: report SS_HTTP_EV_TP_END */
    uint64_t cl;          /* Content-Length value */
    uint64_t remaining;   /* private: body or chunk bytes still to come */
    uint64_t pos;         /* stream offset of the next byte */
    ss_http_head_t *head; /* where request fields go; may be NULL */
} ss_http_t;

void ss_http_init(ss_http_t *p, ss_http_kind_t kind);

/* Use at most len bytes of buf; stop at the first event (see above).
 * buf NULL means len bytes went by unseen (sendfile): that is fine inside a
 * body, and an SS_HTTP_EV_ERROR anywhere else. */
size_t ss_http_feed(ss_http_t *p, const char *buf, size_t len, ss_http_ev_t *ev);

/* The stream ended. 1: a message ended by close is now complete;
 * 0: nothing was in progress; -1: a message was cut short. */
int ss_http_eof(ss_http_t *p);

/* The status code of the response being parsed once its status line is
 * whole, before its head is (0 until then, between messages, for requests). */
uint16_t ss_http_status(const ss_http_t *p);

/* 1 while the parser is between messages. */
int ss_http_idle(const ss_http_t *p);

/* 1 while the input so far ends inside the value of a request head's first
 * traceparent (its first byte seen, at head->tp_pos; not its line end). */
int ss_http_in_tp_value(const ss_http_t *p);

#endif
