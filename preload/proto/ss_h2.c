/*
 * ss_h2.c - an incremental HTTP/2 frame follower (see ss_h2.h).
 *
 * A small state machine over the bytes of one direction: the 9-byte frame
 * header, then the payload, of which only three things matter here:
 * header blocks (HEADERS, PUSH_PROMISE, CONTINUATION: pad length and
 * priority skipped, the fragment handed to the HPACK decoder, padding
 * skipped), END_STREAM on DATA, and RST_STREAM's error code. Everything
 * else is counted past without a look.
 */
#define _GNU_SOURCE
#include "ss_h2.h"

#include <string.h>

enum {
    SS_H2_S_HEAD = 0, /* reading the 9-byte frame header */
    SS_H2_S_PADLEN,   /* the pad length byte of a PADDED frame */
    SS_H2_S_PREFIX,   /* priority fields, or PUSH_PROMISE's promised id */
    SS_H2_S_FRAG,     /* the header block fragment */
    SS_H2_S_FIELD_END,/* the decoder said field and done at once: say done */
    SS_H2_S_PAD,      /* padding after the fragment */
    SS_H2_S_RST,      /* RST_STREAM's error code */
    SS_H2_S_SKIP,     /* a payload nothing is read from */
    SS_H2_S_ERROR,
};

int ss_h2_init(ss_h2_dir_t *d, uint64_t pos)
{
    memset(d, 0, sizeof(*d));
    d->pos = pos;
    d->hpack = ss_hpack_new();
    return d->hpack != NULL;
}

void ss_h2_free(ss_h2_dir_t *d)
{
    ss_hpack_free(d->hpack);
    d->hpack = NULL;
}

void ss_h2_copy_start(ss_h2_dir_t *d, uint8_t *buf, uint16_t cap)
{
    d->copy = buf;
    d->copy_cap = cap;
    d->copy_len = 0;
    d->copy_over = cap < sizeof(d->hdr);
    if (!d->copy_over) {
        memcpy(buf, d->hdr, sizeof(d->hdr));
        d->copy_len = sizeof(d->hdr);
    }
}

static void ss_h2_copy(ss_h2_dir_t *d, const uint8_t *p, size_t n)
{
    if (d->copy == NULL || d->copy_over)
        return;
    if (n > (size_t)(d->copy_cap - d->copy_len)) {
        d->copy_over = 1;
        return;
    }
    memcpy(d->copy + d->copy_len, p, n);
    d->copy_len = (uint16_t)(d->copy_len + n);
}

static ss_h2_ev_t ss_h2_error(ss_h2_dir_t *d)
{
    d->state = SS_H2_S_ERROR;
    return SS_H2_EV_ERROR;
}

/* The payload is used up: the event the frame makes, if any. */
static ss_h2_ev_t ss_h2_frame_end(ss_h2_dir_t *d)
{
    d->state = SS_H2_S_HEAD;
    d->hlen = 0;
    if (d->type == SS_H2_DATA && (d->flags & SS_H2_F_END_STREAM))
        return SS_H2_EV_DATA_END;
    if (d->type == SS_H2_RST_STREAM)
        return SS_H2_EV_RESET;
    return SS_H2_EV_NONE;
}

/* After the fragment: the padding, if any, then the frame's end. */
static void ss_h2_fragment_done(ss_h2_dir_t *d)
{
    if (d->left)
        d->state = SS_H2_S_PAD;
    else
        ss_h2_frame_end(d); /* header frames make no event of their own */
}

/* A HEADERS or PUSH_PROMISE frame opens a header block. */
static ss_h2_ev_t ss_h2_block_begin(ss_h2_dir_t *d)
{
    uint32_t prefix = d->type == SS_H2_PUSH_PROMISE ? 4
                      : (d->flags & SS_H2_F_PRIORITY) ? 5 : 0;
    uint32_t need = prefix + ((d->flags & SS_H2_F_PADDED) ? 1 : 0);

    if (d->stream == 0 || d->left < need)
        return ss_h2_error(d);
    d->in_block = 1;
    d->block_stream = d->stream;
    d->block_end_stream = d->type == SS_H2_HEADERS && (d->flags & SS_H2_F_END_STREAM);
    d->pad = 0;
    d->prefix_left = (uint8_t)prefix;
    if (d->flags & SS_H2_F_PADDED) {
        d->state = SS_H2_S_PADLEN;
    } else {
        d->frag_left = d->left - prefix;
        d->state = prefix ? SS_H2_S_PREFIX : SS_H2_S_FRAG;
    }
    return SS_H2_EV_HEADERS;
}

/* The 9-byte header is in: decide how to read the payload. */
static ss_h2_ev_t ss_h2_frame_begin(ss_h2_dir_t *d)
{
    const uint8_t *h = d->hdr;

    d->frame_at = d->pos - sizeof(d->hdr);
    d->left = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
    d->type = h[3];
    d->flags = h[4];
    d->stream = ((uint32_t)h[5] & 0x7f) << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8];
    if (d->in_block != (d->type == SS_H2_CONTINUATION))
        return ss_h2_error(d); /* a block is one run of frames */
    if (d->type != SS_H2_CONTINUATION)
        d->copy = NULL;
    switch (d->type) {
    case SS_H2_HEADERS:
    case SS_H2_PUSH_PROMISE:
        return ss_h2_block_begin(d);
    case SS_H2_CONTINUATION:
        if (d->stream != d->block_stream)
            return ss_h2_error(d);
        d->pad = 0;
        d->frag_left = d->left;
        d->state = SS_H2_S_FRAG;
        if (d->copy) { /* only the block's last frame is ever rewritten */
            d->copy_len = 0;
            d->copy_over = 0;
            ss_h2_copy(d, d->hdr, sizeof(d->hdr));
        }
        return SS_H2_EV_NONE;
    case SS_H2_RST_STREAM:
        if (d->left != 4 || d->stream == 0)
            return ss_h2_error(d);
        d->code = 0;
        d->state = SS_H2_S_RST;
        return SS_H2_EV_NONE;
    default:
        d->state = SS_H2_S_SKIP;
        return d->left ? SS_H2_EV_NONE : ss_h2_frame_end(d);
    }
}

/* Decode what of the fragment is here (or, at its end, finish the block). */
static ss_h2_ev_t ss_h2_fragment(ss_h2_dir_t *d, const uint8_t *p, size_t n, size_t *used)
{
    int end = (d->flags & SS_H2_F_END_HEADERS) != 0;
    int flags;
    long r;

    if (n > d->frag_left)
        n = d->frag_left;
    *used = 0;
    if (n == 0 && d->frag_left > 0)
        return SS_H2_EV_NONE; /* more input needed */
    if (n == 0 && !end) {
        ss_h2_fragment_done(d); /* a CONTINUATION follows */
        return SS_H2_EV_NONE;
    }
    r = ss_hpack_inflate(d->hpack, p, n, end && n == d->frag_left, &d->field, &flags);
    if (r < 0 || (size_t)r > n || (r == 0 && n > 0 && flags == 0))
        return ss_h2_error(d);
    ss_h2_copy(d, p, (size_t)r);
    *used = (size_t)r;
    d->pos += (uint64_t)r;
    d->left -= (uint32_t)r;
    d->frag_left -= (uint32_t)r;
    if (flags & SS_HPACK_DONE) {
        d->in_block = 0;
        if (flags & SS_HPACK_FIELD) {
            d->state = SS_H2_S_FIELD_END;
            return SS_H2_EV_FIELD;
        }
        ss_h2_fragment_done(d);
        return SS_H2_EV_BLOCK_END;
    }
    if (flags & SS_HPACK_FIELD)
        return SS_H2_EV_FIELD;
    if (n == 0 && end)
        return ss_h2_error(d); /* the block ended inside a field */
    return SS_H2_EV_NONE;
}

/* Bytes of a payload that is only counted: padding, or a skipped frame. */
static size_t ss_h2_pass(ss_h2_dir_t *d, size_t avail, ss_h2_ev_t *ev)
{
    size_t n = avail < d->left ? avail : d->left;

    d->pos += n;
    d->left -= (uint32_t)n;
    *ev = d->left ? SS_H2_EV_NONE : ss_h2_frame_end(d);
    return n;
}

size_t ss_h2_feed(ss_h2_dir_t *d, const char *buf, size_t len, ss_h2_ev_t *ev)
{
    const uint8_t *p = (const uint8_t *)buf;
    size_t i = 0, n;

    *ev = SS_H2_EV_NONE;
    for (;;) {
        switch (d->state) {
        case SS_H2_S_HEAD:
            if (i == len)
                return i;
            d->hdr[d->hlen++] = p[i++];
            d->pos++;
            if (d->hlen == sizeof(d->hdr) && (*ev = ss_h2_frame_begin(d)) != SS_H2_EV_NONE)
                return i;
            break;
        case SS_H2_S_PADLEN:
            if (i == len)
                return i;
            ss_h2_copy(d, p + i, 1);
            d->pad = p[i++];
            d->pos++;
            d->left--;
            if ((uint32_t)d->pad + d->prefix_left > d->left) {
                *ev = ss_h2_error(d);
                return i;
            }
            d->frag_left = d->left - d->prefix_left - d->pad;
            d->state = d->prefix_left ? SS_H2_S_PREFIX : SS_H2_S_FRAG;
            break;
        case SS_H2_S_PREFIX:
            n = len - i < d->prefix_left ? len - i : d->prefix_left;
            if (n == 0)
                return i;
            ss_h2_copy(d, p + i, n);
            i += n;
            d->pos += n;
            d->left -= (uint32_t)n;
            d->prefix_left = (uint8_t)(d->prefix_left - n);
            if (d->prefix_left == 0)
                d->state = SS_H2_S_FRAG;
            break;
        case SS_H2_S_FRAG: {
            uint8_t st = d->state;

            *ev = ss_h2_fragment(d, p + i, len - i, &n);
            i += n;
            if (*ev != SS_H2_EV_NONE || (d->state == st && n == 0 && d->frag_left > 0))
                return i;
            break;
        }
        case SS_H2_S_FIELD_END:
            ss_h2_fragment_done(d);
            *ev = SS_H2_EV_BLOCK_END;
            return i;
        case SS_H2_S_RST:
            if (i == len)
                return i;
            d->code = d->code << 8 | p[i++];
            d->pos++;
            if (--d->left == 0) {
                *ev = ss_h2_frame_end(d);
                return i;
            }
            break;
        case SS_H2_S_PAD:
        case SS_H2_S_SKIP:
            if (i == len && d->left)
                return i;
            i += ss_h2_pass(d, len - i, ev);
            if (*ev != SS_H2_EV_NONE)
                return i;
            break;
        default:
            *ev = SS_H2_EV_ERROR;
            return i;
        }
    }
}

size_t ss_h2_preface_match(const char *buf, size_t len, size_t at)
{
    size_t i = 0;

    while (i < len && at + i < SS_H2_PREFACE_LEN && buf[i] == SS_H2_PREFACE[at + i])
        i++;
    return i;
}

int ss_h2_server_preface(const char *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint32_t n;

    if (len < 9)
        return 0;
    n = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return p[3] == 0x4 && p[4] == 0 && (p[5] | p[6] | p[7] | p[8]) == 0 && n % 6 == 0;
}

const char *ss_h2_error_name(uint32_t code)
{
    static const char *const names[] = {
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
        "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};

    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "h2_error";
}
