/*
 * ss_uwsgi.h - an incremental, allocation-free parser of the requests of
 * the uwsgi protocol (what nginx's uwsgi_pass writes and uWSGI reads).
 *
 * A request is a 4-byte packet header - modifier1, the vars block's size
 * as a 16-bit little-endian number (datasize), modifier2 - then the vars
 * block: pairs of a 16-bit little-endian key length, the key, a 16-bit
 * little-endian value length and the value; then the body, CONTENT_LENGTH
 * bytes (a var of the block), of which only the count matters. The answer
 * is not this protocol's: uWSGI writes plain HTTP/1 (ss_http.h reads it).
 *
 * Bytes are fed as they pass, split anywhere; nothing is buffered but a
 * key (SS_UWSGI_KEY_MAX bytes: longer ones are named only by their length,
 * key_trunc). ss_uwsgi_feed() stops after every event point and returns
 * how many bytes it used; *ev holds every event of that point (bits):
 *   SS_UWSGI_EV_BEGIN     the next byte is a packet's first (at pkt_pos);
 *   SS_UWSGI_EV_HEADER    the 4-byte header is whole (modifier1, datasize,
 *                         modifier2); the vars block follows;
 *   SS_UWSGI_EV_KEY       a key is whole (key, key_len); its value's length
 *                         follows;
 *   SS_UWSGI_EV_VALUE     the last piece_len bytes used are a piece of the
 *                         current value (at piece; the value's first byte
 *                         is at stream offset val_pos, val_len long);
 *   SS_UWSGI_EV_VAR_END   the current value is whole;
 *   SS_UWSGI_EV_VARS_END  the vars block is whole; cl is CONTENT_LENGTH;
 *   SS_UWSGI_EV_END       the request, body and all, is whole;
 *   SS_UWSGI_EV_ERROR     not a uwsgi request (why says what): stop.
 */
#ifndef SS_UWSGI_H
#define SS_UWSGI_H

#include <stddef.h>
#include <stdint.h>

#define SS_UWSGI_KEY_MAX 32
#define SS_UWSGI_HEADER_LEN 4
#define SS_UWSGI_DATASIZE_MAX 65535u

enum {
    SS_UWSGI_EV_BEGIN = 1 << 0,
    SS_UWSGI_EV_HEADER = 1 << 1,
    SS_UWSGI_EV_KEY = 1 << 2,
    SS_UWSGI_EV_VALUE = 1 << 3,
    SS_UWSGI_EV_VAR_END = 1 << 4,
    SS_UWSGI_EV_VARS_END = 1 << 5,
    SS_UWSGI_EV_END = 1 << 6,
    SS_UWSGI_EV_ERROR = 1 << 7,
};

typedef struct ss_uwsgi {
    uint8_t state;           /* private: SS_U_* in ss_uwsgi.c */
    uint8_t key_trunc;       /* the key is longer than SS_UWSGI_KEY_MAX */
    uint8_t is_cl;           /* private: the value is CONTENT_LENGTH's */
    uint8_t cl_digits;       /* private: digits of CONTENT_LENGTH read */
    uint8_t modifier1, modifier2;
    uint16_t datasize;       /* the vars block's size */
    uint16_t left;           /* private: vars block bytes still to come */
    uint16_t key_len;        /* the key's length (key holds its first bytes) */
    uint16_t val_len;        /* the value's length */
    uint16_t val_left;       /* private: value (or key) bytes still to come */
    char key[SS_UWSGI_KEY_MAX];
    const char *piece;       /* SS_UWSGI_EV_VALUE: where the piece lies */
    size_t piece_len;
    uint64_t cl;             /* CONTENT_LENGTH (0 if none or empty) */
    uint64_t body_left;      /* private: body bytes still to come */
    uint64_t pos;            /* stream offset of the next byte */
    uint64_t pkt_pos;        /* stream offset of the packet's first byte */
    uint64_t val_pos;        /* stream offset of the value's first byte */
    const char *why;         /* SS_UWSGI_EV_ERROR: a short word */
} ss_uwsgi_t;

void ss_uwsgi_init(ss_uwsgi_t *p);

/* Use at most len bytes of buf; stop after the first event point (see
 * above). buf NULL: len bytes went by unseen (sendfile): fine inside a
 * body, an error anywhere else. */
size_t ss_uwsgi_feed(ss_uwsgi_t *p, const char *buf, size_t len, unsigned *ev);

/* 1 while the parser is between requests. */
int ss_uwsgi_idle(const ss_uwsgi_t *p);

/* 1 while the input so far ends inside a packet's header. */
int ss_uwsgi_in_header(const ss_uwsgi_t *p);

/* Whether the n first bytes of a stream begin a request nginx would write
 * to a WSGI app: modifier1 0, modifier2 0, a vars block that can hold a
 * var, and a first key of CGI style (an uppercase letter, then uppercase
 * letters, digits and '_') whose length fits the block. 1 yes, 0 no, -1
 * more bytes needed. */
int ss_uwsgi_detect(const uint8_t *p, size_t n);

#endif
