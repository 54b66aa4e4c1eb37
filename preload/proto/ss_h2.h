/*
 * ss_h2.h - an incremental HTTP/2 frame follower for one direction of one
 * connection (RFC 9113), in the manner of ss_http.h: bytes are fed as they
 * pass, split anywhere, and nothing is buffered but the current frame
 * header and, for the client's injection, a copy of one header frame.
 *
 * ss_h2_feed() stops at every event and returns how many bytes it used
 * before it; call it again (with what is left, even nothing) until it
 * returns SS_H2_EV_NONE:
 *   SS_H2_EV_HEADERS    a HEADERS or PUSH_PROMISE frame header was read: a
 *                       header block for d->stream begins (d->type says which);
 *   SS_H2_EV_FIELD      one decoded header field is in d->field;
 *   SS_H2_EV_BLOCK_END  the block's last byte was the last used (d->pos is
 *                       its end); d->block_end_stream if the stream ends too;
 *   SS_H2_EV_DATA_END   a DATA frame with END_STREAM ended on d->stream;
 *   SS_H2_EV_RESET      RST_STREAM on d->stream, error code in d->code;
 *   SS_H2_EV_ERROR      not HTTP/2 or not valid HPACK: stop feeding.
 * Every header block is decoded, even ones the caller ignores, so the
 * HPACK dynamic table stays in step with the peer's.
 */
#ifndef SS_H2_H
#define SS_H2_H

#include <stddef.h>
#include <stdint.h>

#include "ss_hpack.h"

#define SS_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define SS_H2_PREFACE_LEN 24

enum { SS_H2_DATA = 0, SS_H2_HEADERS = 1, SS_H2_RST_STREAM = 3, SS_H2_PUSH_PROMISE = 5,
       SS_H2_CONTINUATION = 9 };
enum { SS_H2_F_END_STREAM = 0x1, SS_H2_F_END_HEADERS = 0x4, SS_H2_F_PADDED = 0x8,
       SS_H2_F_PRIORITY = 0x20 };

typedef enum {
    SS_H2_EV_NONE = 0,
    SS_H2_EV_HEADERS,
    SS_H2_EV_FIELD,
    SS_H2_EV_BLOCK_END,
    SS_H2_EV_DATA_END,
    SS_H2_EV_RESET,
    SS_H2_EV_ERROR,
} ss_h2_ev_t;

typedef struct ss_h2_dir {
    uint64_t pos;              /* stream offset of the next byte */
    uint64_t frame_at;         /* offset of the current frame's first byte */
    uint8_t state;             /* private: SS_H2_S_* */
    uint8_t hlen;              /* private: frame header bytes read */
    uint8_t hdr[9];            /* the current frame's header */
    uint8_t type, flags;       /* of the current frame */
    uint32_t stream;           /* of the current frame */
    uint32_t left;             /* private: payload bytes left in the frame */
    uint32_t frag_left;        /* private: header block bytes left in it */
    uint8_t prefix_left;       /* private: priority / promised id bytes left */
    uint8_t pad;               /* private: padding at the frame's end */
    uint8_t in_block;          /* a header block awaits CONTINUATION */
    uint8_t block_end_stream;  /* the HEADERS that opened it had END_STREAM */
    uint32_t block_stream;     /* the stream of the open block */
    uint32_t code;             /* RST_STREAM's error code */
    ss_hpack_t *hpack;         /* this direction's decoder */
    ss_hpack_field_t field;    /* SS_H2_EV_FIELD */
    /* When set (ss_h2_copy_start), the header block's current frame from
     * its first byte to the block's end is copied here, up to copy_cap
     * (copy_over says it did not fit). */
    uint8_t *copy;
    uint16_t copy_cap, copy_len;
    uint8_t copy_over;
} ss_h2_dir_t;

/* A direction whose next byte, at stream offset pos, starts a frame.
 * Returns 0 if no HPACK decoder could be made (libnghttp2 missing). */
int ss_h2_init(ss_h2_dir_t *d, uint64_t pos);
void ss_h2_free(ss_h2_dir_t *d);

size_t ss_h2_feed(ss_h2_dir_t *d, const char *buf, size_t len, ss_h2_ev_t *ev);

/* On SS_H2_EV_HEADERS: copy the block's frames into buf from here on. */
void ss_h2_copy_start(ss_h2_dir_t *d, uint8_t *buf, uint16_t cap);

/* How many of the preface's bytes buf[0..len) matches from offset `at`
 * on; len - ... shorter means a mismatch at the returned index. */
size_t ss_h2_preface_match(const char *buf, size_t len, size_t at);

/* 1 if buf starts with a frame header a server's preface starts with: an
 * empty-stream SETTINGS frame. */
int ss_h2_server_preface(const char *buf, size_t len);

/* RST_STREAM's error code as a name ("CANCEL"), for error.type. */
const char *ss_h2_error_name(uint32_t code);

#endif
