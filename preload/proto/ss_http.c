/*
 * ss_http.c - the HTTP/1.x state machine (see ss_http.h).
 *
 * One switch over explicit states. Where the input holds a whole run (a
 * method, a target, a header name up to its colon, a value up to its line
 * end, a body) the run is taken in one step: names are matched where they
 * lie instead of being copied, and value ends are found eight bytes at a
 * time; a header no span reads (most of a real head: Accept, Cookie, Date,
 * Server, ...) whose line is whole goes from its name to its line end at
 * once. Input cut inside a run falls back to the byte-at-a-time path, which
 * reaches the same state; fuzz_http holds the two to the same events.
 * Strict where strictness decides whether a stream is HTTP at all (request
 * line, header names), lenient where real peers differ (bare LF line ends,
 * chunk extensions, obs-fold).
 */
#include "ss_http.h"

#include <endian.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SS_HTTP_ONES 0x0101010101010101ull  /* a byte in every lane */
#define SS_HTTP_HIGHS 0x8080808080808080ull

enum {
    SS_S_START,         /* before a message */
    SS_S_METHOD,
    SS_S_TARGET,
    SS_S_REQ_VERSION,
    SS_S_RESP_VERSION,
    SS_S_STATUS,
    SS_S_REASON,
    SS_S_LINE_LF,       /* a CR was seen, LF must follow */
    SS_S_HDR_START,     /* at the start of a header (or trailer) line */
    SS_S_HDR_NAME,
    SS_S_HDR_OWS,
    SS_S_HDR_VALUE,
    SS_S_SKIP_LINE,     /* obs-fold continuation: ignored */
    SS_S_HEAD_TERM,     /* HEAD_END was reported; the empty line follows */
    SS_S_HEAD_LF,
    SS_S_BODY_CL,
    SS_S_CHUNK_SIZE,
    SS_S_CHUNK_EXT,
    SS_S_CHUNK_SIZE_LF,
    SS_S_CHUNK_DATA,
    SS_S_CHUNK_DATA_CR,
    SS_S_CHUNK_DATA_LF,
    SS_S_BODY_EOF,      /* a response body that ends when the stream does */
    SS_S_DEAD,
};

/* The headers whose values matter; the index is ss_http_t.hdr. */
enum {
    SS_H_OTHER,
    SS_H_CONTENT_LENGTH,
    SS_H_TRANSFER_ENCODING,
    SS_H_CONNECTION,
    SS_H_UPGRADE,
    SS_H_HOST,
    SS_H_USER_AGENT,
    SS_H_TRACEPARENT,
    SS_H_TRACESTATE,
};

/* Whether the n tchars at name spell `lower` in any case. A tchar ORed
 * with 0x20 equals a lowercase letter or '-' only if it is that letter in
 * either case or '-' (of other bytes only CR becomes '-'), so one OR
 * lowers a whole word. n is 4..17: two overlapping words (or half words)
 * cover it. */
static int ss_http_name_is(const unsigned char *name, size_t n, const char *lower)
{
    uint32_t a, b;
    uint64_t x, y;

    if (n < 8) {
        memcpy(&a, name, 4);
        memcpy(&b, lower, 4);
        if ((a | 0x20202020u) != b)
            return 0;
        memcpy(&a, name + n - 4, 4);
        memcpy(&b, lower + n - 4, 4);
        return (a | 0x20202020u) == b;
    }
    if (n > 16 && (name[16] | 0x20) != (unsigned char)lower[16])
        return 0;
    memcpy(&x, name, 8);
    memcpy(&y, lower, 8);
    if ((x | SS_HTTP_ONES * 0x20) != y)
        return 0;
    n = n > 16 ? 16 : n;
    memcpy(&x, name + n - 8, 8);
    memcpy(&y, lower + n - 8, 8);
    return (x | SS_HTTP_ONES * 0x20) == y;
}

static uint8_t ss_http_name_id(const unsigned char *name, size_t n)
{
    switch (n) {
    case 4:
        return ss_http_name_is(name, 4, "host") ? SS_H_HOST : SS_H_OTHER;
    case 7:
        return ss_http_name_is(name, 7, "upgrade") ? SS_H_UPGRADE : SS_H_OTHER;
    case 10:
        if (ss_http_name_is(name, 10, "connection"))
            return SS_H_CONNECTION;
        if (ss_http_name_is(name, 10, "user-agent"))
            return SS_H_USER_AGENT;
        return ss_http_name_is(name, 10, "tracestate") ? SS_H_TRACESTATE : SS_H_OTHER;
    case 11:
        return ss_http_name_is(name, 11, "traceparent") ? SS_H_TRACEPARENT : SS_H_OTHER;
    case 14:
        return ss_http_name_is(name, 14, "content-length") ? SS_H_CONTENT_LENGTH : SS_H_OTHER;
    case 17:
        return ss_http_name_is(name, 17, "transfer-encoding") ? SS_H_TRANSFER_ENCODING
                                                              : SS_H_OTHER;
    }
    return SS_H_OTHER;
}

/* RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~; one load per byte. */
static const uint8_t ss_http_tchars[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

static inline int ss_http_tchar(unsigned char c)
{
    return ss_http_tchars[c];
}

#ifdef __SSE2__
/* How many of the 16 bytes at s, from the first, are letters, digits or
 * '-' (what header names are made of, nearly always): one compare of the
 * 16 at once, where the table takes them one by one. Bytes >= 0x80 are
 * negative to the signed compares and so none of the three. */
static inline size_t ss_http_name_run16(const unsigned char *s)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    __m128i dash = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), dash));

    return (size_t)__builtin_ctz(~ok); /* ~ok has bit 16 set: at most 16 */
}
#endif

static unsigned char ss_http_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

void ss_http_init(ss_http_t *p, ss_http_kind_t kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = (uint8_t)kind;
    p->state = SS_S_START;
}

int ss_http_idle(const ss_http_t *p)
{
    return p->state == SS_S_START;
}

uint16_t ss_http_status(const ss_http_t *p)
{
    /* Every state after STATUS is past the status line (DEAD is last). */
    if (p->kind != SS_HTTP_RESPONSE || p->state <= SS_S_STATUS || p->state == SS_S_DEAD)
        return 0;
    return p->status;
}

int ss_http_in_tp_value(const ss_http_t *p)
{
    return p->state == SS_S_HDR_VALUE && p->hdr == SS_H_TRACEPARENT && p->head != NULL;
}

static void ss_http_begin(ss_http_t *p)
{
    p->hdr = SS_H_OTHER;
    p->tok_len = 0;
    p->in_trailer = 0;
    p->vpos = 0;
    p->has_digit = 0;
    p->vmajor = p->vminor = 0;
    p->status = 0;
    p->chunked = p->has_cl = p->conn_close = p->conn_keep_alive = p->upgrade = 0;
    p->skip_body = 0;
    p->cl = 0;
    p->remaining = 0;
    p->head = NULL;
}

/* Append one byte to a captured field, noting truncation at its cap. */
#define SS_HTTP_PUT(h, field, c)                              \
    do {                                                      \
        if ((h)->field##_len < sizeof((h)->field))            \
            (h)->field[(h)->field##_len++] = (char)(c);       \
        else                                                  \
            (h)->field##_trunc = 1;                           \
    } while (0)

/* Drop trailing spaces and tabs from a captured field. */
#define SS_HTTP_RTRIM(h, field, floor)                                        \
    do {                                                                      \
        while ((h)->field##_len > (floor) &&                                  \
               ((h)->field[(h)->field##_len - 1] == ' ' ||                    \
                (h)->field[(h)->field##_len - 1] == '\t'))                    \
            (h)->field##_len--;                                               \
    } while (0)

/* A header name ended at its colon; id is the header it names. */
static void ss_http_name_done(ss_http_t *p, uint8_t id)
{
    p->hdr = p->in_trailer ? (uint8_t)SS_H_OTHER : id;
    p->tok_len = 0;
    p->has_digit = 0;
    if (p->hdr == SS_H_CONTENT_LENGTH) {
        /* Keep an earlier value to compare: repeats must agree. */
        p->remaining = p->has_cl ? p->cl : UINT64_MAX;
        p->cl = 0;
    }
    if (p->head == NULL)
        return;
    /* Several tracestate lines form one list, joined with ','. */
    if (p->hdr == SS_H_TRACESTATE && p->head->ts_count++ > 0)
        SS_HTTP_PUT(p->head, ts, ',');
    if (p->hdr == SS_H_TRACEPARENT && p->head->tp_count++ > 0)
        p->hdr = SS_H_OTHER; /* only the first value is kept; two is invalid */
}

/* A value token (Transfer-Encoding coding, Connection option) ended. */
static void ss_http_token_done(ss_http_t *p)
{
    size_t n = p->tok_len;

    if (p->hdr == SS_H_TRANSFER_ENCODING)
        p->chunked = (n == 7 && memcmp(p->tok, "chunked", 7) == 0);
    else if (p->hdr == SS_H_CONNECTION) {
        if (n == 5 && memcmp(p->tok, "close", 5) == 0)
            p->conn_close = 1;
        else if (n == 10 && memcmp(p->tok, "keep-alive", 10) == 0)
            p->conn_keep_alive = 1;
    }
    p->tok_len = 0;
}

/* One byte of a header value; returns 0 if the message is broken. */
static int ss_http_value_byte(ss_http_t *p, unsigned char c)
{
    ss_http_head_t *h = p->head;

    switch (p->hdr) {
    case SS_H_CONTENT_LENGTH:
        if (c >= '0' && c <= '9') {
            if (p->has_digit == 2 || p->cl > (UINT64_MAX - 9) / 10)
                return 0;
            p->cl = p->cl * 10 + (uint64_t)(c - '0');
            p->has_digit = 1;
        } else if (c == ' ' || c == '\t') {
            if (p->has_digit)
                p->has_digit = 2; /* trailing whitespace only */
        } else {
            return 0;
        }
        return 1;
    case SS_H_TRANSFER_ENCODING:
    case SS_H_CONNECTION:
        if (c == ',') {
            ss_http_token_done(p);
        } else if (c != ' ' && c != '\t') {
            if (p->tok_len < sizeof(p->tok))
                p->tok[p->tok_len] = (char)ss_http_lower(c);
            if (p->tok_len < 255)
                p->tok_len++;
        }
        return 1;
    case SS_H_UPGRADE:
        p->upgrade = 1;
        return 1;
    }
    if (h == NULL)
        return 1;
    switch (p->hdr) {
    case SS_H_HOST:
        SS_HTTP_PUT(h, host, c);
        break;
    case SS_H_USER_AGENT:
        SS_HTTP_PUT(h, ua, c);
        break;
    case SS_H_TRACEPARENT:
        SS_HTTP_PUT(h, tp, c);
        break;
    case SS_H_TRACESTATE:
        SS_HTTP_PUT(h, ts, c);
        break;
    }
    return 1;
}

/* 8 bytes of s as a word, first byte lowest, and the word-at-a-time test
 * of "Bit Twiddling Hacks" (hasless): the high bit of each byte below n
 * (n <= 128) is set. Borrows can mark bytes after the first one found, so
 * only the lowest mark is exact; it is the only one used. */
static inline uint64_t ss_http_word(const unsigned char *s)
{
    uint64_t w;

    memcpy(&w, s, sizeof(w));
    return le64toh(w);
}

static inline uint64_t ss_http_below(uint64_t w, unsigned n)
{
    return (w - SS_HTTP_ONES * n) & ~w & SS_HTTP_HIGHS;
}

/* Where the value bytes at s[0..n) end: the first CR, LF or NUL, or n.
 * 16 bytes at a time (SSE2), then a word at a time; a control byte that
 * does not end the value (a tab) is stepped over. */
static inline __attribute__((always_inline)) size_t ss_http_value_end(const unsigned char *s,
                                                                   size_t n)
{
    size_t j = 0;

#ifdef __SSE2__
    while (j + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
        __m128i e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')),
                                              _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))),
                                 _mm_cmpeq_epi8(x, _mm_setzero_si128()));
        unsigned m = (unsigned)_mm_movemask_epi8(e);

        if (m)
            return j + (size_t)__builtin_ctz(m);
        j += 16;
    }
#endif
    while (j + 8 <= n) {
        uint64_t m = ss_http_below(ss_http_word(s + j), 14);

        if (m == 0) {
            j += 8;
            continue;
        }
        j += (size_t)__builtin_ctzll(m) / 8;
        if (s[j] == '\r' || s[j] == '\n' || s[j] == 0)
            return j;
        j++;
    }
    while (j < n && s[j] != '\r' && s[j] != '\n' && s[j] != 0)
        j++;
    return j;
}

/* Where the target bytes at s[0..n) end: the first byte <= ' ' or DEL. */
static size_t ss_http_target_end(const unsigned char *s, size_t n)
{
    size_t j = 0;

    while (j + 8 <= n) {
        uint64_t w = ss_http_word(s + j);
        uint64_t m = ss_http_below(w, 0x21) | ss_http_below(w ^ (SS_HTTP_ONES * 0x7f), 1);

        if (m)
            return j + (size_t)__builtin_ctzll(m) / 8;
        j += 8;
    }
    while (j < n && s[j] > ' ' && s[j] != 0x7f)
        j++;
    return j;
}

/* A Connection or Transfer-Encoding value that is one of the usual single
 * tokens, its line whole: put in tok at once, lowered, as the bytes one by
 * one would leave it (ss_http_value_done reads it at the line end). 0: the
 * byte path reads it (a list, spaces, another token, a cut line). */
static size_t ss_http_token_whole(ss_http_t *p, const unsigned char *s, size_t n)
{
    static const struct {
        char text[11];
        uint8_t len;
    } usual[] = {{"keep-alive", 10}, {"close", 5}, {"chunked", 7}, {"upgrade", 7}};
    size_t j = ss_http_value_end(s, n), k;

    if (j == n || p->tok_len != 0)
        return 0;
    for (k = 0; k < sizeof(usual) / sizeof(usual[0]); k++)
        if (j == usual[k].len && ss_http_name_is(s, j, usual[k].text)) {
            memcpy(p->tok, usual[k].text, j);
            p->tok_len = (uint8_t)j;
            return j;
        }
    return 0;
}

/* The run of value bytes at s[0..n) up to CR, LF or NUL, for a header
 * whose value is only skipped or copied whole (most of them): handled in
 * one go instead of byte by byte. Returns how many were used (0: the
 * caller goes byte by byte). */
static size_t ss_http_value_run(ss_http_t *p, const unsigned char *s, size_t n)
{
    ss_http_head_t *h = p->head;
    size_t j;
    char *dst = NULL;
    uint16_t *dlen = NULL;
    uint8_t *dtrunc = NULL;
    size_t cap = 0;

    switch (p->hdr) {
    case SS_H_OTHER:
        break;
#define SS_HTTP_RUN_INTO(tag, field)              \
    case tag:                                     \
        if (h) {                                  \
            dst = h->field;                       \
            dlen = &h->field##_len;               \
            dtrunc = &h->field##_trunc;           \
            cap = sizeof(h->field);               \
        }                                         \
        break;
        SS_HTTP_RUN_INTO(SS_H_HOST, host)
        SS_HTTP_RUN_INTO(SS_H_USER_AGENT, ua)
        SS_HTTP_RUN_INTO(SS_H_TRACEPARENT, tp)
        SS_HTTP_RUN_INTO(SS_H_TRACESTATE, ts)
#undef SS_HTTP_RUN_INTO
    case SS_H_CONNECTION:
    case SS_H_TRANSFER_ENCODING:
        return ss_http_token_whole(p, s, n);
    default:
        return 0; /* the other framing headers: their bytes are read one by one */
    }
    j = ss_http_value_end(s, n);
    if (dst) {
        size_t room = cap - *dlen, take = j < room ? j : room;

        memcpy(dst + *dlen, s, take);
        *dlen = (uint16_t)(*dlen + take);
        if (take < j)
            *dtrunc = 1;
    }
    return j;
}

/* A header line ended; returns 0 if its value breaks the message. */
static int ss_http_value_done(ss_http_t *p)
{
    ss_http_head_t *h = p->head;

    switch (p->hdr) {
    case SS_H_CONTENT_LENGTH:
        if (!p->has_digit || (p->remaining != UINT64_MAX && p->remaining != p->cl))
            return 0;
        p->has_cl = 1;
        break;
    case SS_H_TRANSFER_ENCODING:
    case SS_H_CONNECTION:
        if (p->tok_len)
            ss_http_token_done(p);
        break;
    }
    if (h != NULL) {
        switch (p->hdr) {
        case SS_H_HOST:
            SS_HTTP_RTRIM(h, host, 0);
            break;
        case SS_H_USER_AGENT:
            SS_HTTP_RTRIM(h, ua, 0);
            break;
        case SS_H_TRACEPARENT:
            SS_HTTP_RTRIM(h, tp, 0);
            break;
        case SS_H_TRACESTATE:
            SS_HTTP_RTRIM(h, ts, 0);
            break;
        }
    }
    p->hdr = SS_H_OTHER;
    p->tok_len = 0;
    return 1;
}

/* The header block (or the trailers) ended. Returns the event to report. */
static ss_http_ev_t ss_http_head_done(ss_http_t *p)
{
    if (p->in_trailer) {
        p->state = SS_S_START;
        return SS_HTTP_EV_END;
    }
    if (p->kind == SS_HTTP_RESPONSE &&
        (p->skip_body || (p->status >= 100 && p->status < 200) || p->status == 204 ||
         p->status == 304)) {
        p->state = SS_S_START;
        return SS_HTTP_EV_END;
    }
    if (p->chunked) {
        p->state = SS_S_CHUNK_SIZE;
        p->remaining = 0;
        p->has_digit = 0;
        return SS_HTTP_EV_NONE;
    }
    if (p->has_cl) {
        p->remaining = p->cl;
        if (p->cl == 0) {
            p->state = SS_S_START;
            return SS_HTTP_EV_END;
        }
        p->state = SS_S_BODY_CL;
        return SS_HTTP_EV_NONE;
    }
    if (p->kind == SS_HTTP_REQUEST) {
        p->state = SS_S_START;
        return SS_HTTP_EV_END;
    }
    p->state = SS_S_BODY_EOF;
    return SS_HTTP_EV_NONE;
}

static int ss_http_version_byte(ss_http_t *p, unsigned char c)
{
    static const char pre[] = "HTTP/";

    if (p->vpos < 5)
        return c == (unsigned char)pre[p->vpos++];
    if (p->vpos == 5 && c == '1') {
        p->vmajor = 1;
        p->vpos++;
        return 1;
    }
    if (p->vpos == 6 && c == '.')
        return ++p->vpos != 0;
    if (p->vpos == 7 && (c == '0' || c == '1')) {
        p->vminor = (uint8_t)(c - '0');
        p->vpos++;
        return 1;
    }
    return 0;
}

/* "HTTP/1.x" whole at s, before any of it was seen: taken at once. */
static int ss_http_version_whole(ss_http_t *p, const unsigned char *s, size_t n)
{
    if (p->vpos != 0 || n < 8 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1'))
        return 0;
    p->vmajor = 1;
    p->vminor = (uint8_t)(s[7] - '0');
    p->vpos = 8;
    return 1;
}

/* A status code's three digits at s[0..3), taken at once, as the
 * STATUS state would take them one by one: that state then sees what
 * follows them. 0 if they are not three digits. */
static int ss_http_status_whole(ss_http_t *p, const unsigned char *s)
{
    if (p->status != 0 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
        s[2] < '0' || s[2] > '9')
        return 0;
    p->status = (uint16_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    p->has_digit = 3;
    return 1;
}

/* Bytes that passed unseen (sendfile): only a body can take them. */
static size_t ss_http_skip(ss_http_t *p, size_t len, ss_http_ev_t *ev)
{
    size_t n = len;

    *ev = SS_HTTP_EV_NONE;
    switch (p->state) {
    case SS_S_BODY_EOF:
        break;
    case SS_S_BODY_CL:
    case SS_S_CHUNK_DATA:
        if (n > p->remaining)
            n = (size_t)p->remaining;
        p->remaining -= n;
        if (p->remaining == 0 && p->state == SS_S_CHUNK_DATA) {
            p->state = SS_S_CHUNK_DATA_CR;
        } else if (p->remaining == 0) {
            p->state = SS_S_START;
            *ev = SS_HTTP_EV_END;
        }
        break;
    default:
        n = 0; /* not a body: what those bytes were cannot be known */
        p->state = SS_S_DEAD;
        *ev = SS_HTTP_EV_ERROR;
        break;
    }
    p->pos += n;
    return n;
}

size_t ss_http_feed(ss_http_t *p, const char *buf, size_t len, ss_http_ev_t *ev)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    int ev_tp;
    uint8_t id;

    if (buf == NULL)
        return ss_http_skip(p, len, ev);
    *ev = SS_HTTP_EV_NONE;
    while (i < len) {
        unsigned char c = s[i];

        switch (p->state) {
        case SS_S_START:
            if (p->kind == SS_HTTP_REQUEST && (c == '\r' || c == '\n')) {
                i++; /* RFC 9112 2.2: ignore empty lines before a request */
                continue;
            }
            if (p->kind == SS_HTTP_REQUEST ? !ss_http_tchar(c) : c != 'H')
                goto dead;
            ss_http_begin(p);
            p->state = p->kind == SS_HTTP_REQUEST ? SS_S_METHOD : SS_S_RESP_VERSION;
            *ev = SS_HTTP_EV_BEGIN;
            goto out;
        case SS_S_METHOD:
            if (c == ' ') {
                if (p->tok_len == 0)
                    goto dead;
                p->tok_len = 0;
                p->state = SS_S_TARGET;
            } else if (ss_http_tchar(c) && p->tok_len < SS_HTTP_METHOD_MAX) {
                size_t j = i; /* the method's run in one go */

                while (j < len && ss_http_tchar(s[j]) && p->tok_len < SS_HTTP_METHOD_MAX) {
                    if (p->head)
                        SS_HTTP_PUT(p->head, method, s[j]);
                    p->tok_len++;
                    j++;
                }
                i = j;
                if (i + 1 < len && s[i] == ' ') { /* the space too: on to the target */
                    p->tok_len = 0;
                    p->state = SS_S_TARGET;
                    c = s[++i];
                    goto target;
                }
                continue;
            } else {
                goto dead;
            }
            break;
        case SS_S_TARGET:
        target:
            if (c > ' ' && c != 0x7f) { /* the target's run in one go */
                size_t j = i + ss_http_target_end(s + i, len - i);

                if (p->head) {
                    size_t room = sizeof(p->head->target) - p->head->target_len;
                    size_t take = j - i < room ? j - i : room;

                    memcpy(p->head->target + p->head->target_len, s + i, take);
                    p->head->target_len = (uint16_t)(p->head->target_len + take);
                    if (take < j - i)
                        p->head->target_trunc = 1;
                }
                p->has_digit = 1; /* target not empty */
                i = j;
                if (i + 1 < len && s[i] == ' ') { /* the space too: on to the version */
                    p->state = SS_S_REQ_VERSION;
                    c = s[++i];
                    goto req_version;
                }
                continue;
            }
            if (c == ' ' && p->has_digit) {
                p->state = SS_S_REQ_VERSION;
            } else if (c > ' ' && c != 0x7f) {
                if (p->head)
                    SS_HTTP_PUT(p->head, target, c);
                p->has_digit = 1; /* target not empty */
            } else {
                goto dead;
            }
            break;
        case SS_S_REQ_VERSION:
        req_version:
            if (ss_http_version_whole(p, s + i, len - i)) {
                i += 8;
                if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') { /* the line end too */
                    p->state = SS_S_HDR_START;
                    p->has_digit = 0;
                    i += 2;
                }
                continue;
            }
            if (p->vpos == 8 && (c == '\r' || c == '\n')) {
                p->state = c == '\r' ? SS_S_LINE_LF : SS_S_HDR_START;
                p->has_digit = 0;
            } else if (!ss_http_version_byte(p, c)) {
                goto dead;
            }
            break;
        case SS_S_RESP_VERSION:
            if (ss_http_version_whole(p, s + i, len - i)) {
                i += 8;
                if (i + 3 < len && s[i] == ' ' && ss_http_status_whole(p, s + i + 1)) {
                    i += 4; /* the space and three digits */
                    p->state = SS_S_STATUS;
                }
                continue;
            }
            if (p->vpos == 8 && c == ' ')
                p->state = SS_S_STATUS;
            else if (!ss_http_version_byte(p, c))
                goto dead;
            break;
        case SS_S_STATUS:
            if (c >= '0' && c <= '9' && p->status < 100) {
                p->status = (uint16_t)(p->status * 10 + (c - '0'));
                p->has_digit++;
            } else if (p->has_digit == 3 && p->status >= 100 && (c == ' ' || c == '\r' || c == '\n')) {
                p->has_digit = 0;
                p->state = c == ' ' ? SS_S_REASON : c == '\r' ? SS_S_LINE_LF : SS_S_HDR_START;
            } else {
                goto dead;
            }
            break;
        case SS_S_REASON:
            while (c != '\r' && c != '\n' && i + 1 < len)
                c = s[++i]; /* the reason phrase is not read */
            if (c == '\r')
                p->state = SS_S_LINE_LF;
            else if (c == '\n')
                p->state = SS_S_HDR_START;
            break;
        case SS_S_LINE_LF:
            if (c != '\n')
                goto dead;
            p->state = SS_S_HDR_START;
            break;
        case SS_S_HDR_START:
        hdr_start:
            if (c == '\r' || c == '\n') {
                if (p->in_trailer) {
                    p->state = c == '\r' ? SS_S_HEAD_LF : SS_S_HEAD_TERM;
                    if (c == '\n') {
                        i++;
                        *ev = ss_http_head_done(p);
                        goto out;
                    }
                    break;
                }
                p->state = SS_S_HEAD_TERM;
                *ev = SS_HTTP_EV_HEAD_END;
                goto out;
            }
            if (c == ' ' || c == '\t') {
                p->state = SS_S_SKIP_LINE;
            } else if (ss_http_tchar(c)) {
                size_t j = i + 1;

#ifdef __SSE2__
                if (len - i >= 16) /* the name's common bytes at once, the rest below */
                    j = i + ss_http_name_run16(s + i);
#endif
                while (j < len && ss_http_tchar(s[j]))
                    j++;
                if (j == len || s[j] != ':') {
                    p->tok_len = 0; /* cut (or broken): gathered in tok */
                    p->state = SS_S_HDR_NAME;
                    continue;
                }
                /* The whole name is here: matched where it lies. */
                id = ss_http_name_id(s + i, j - i);
                if (id == SS_H_OTHER) {
                    /* A header no one reads, its line whole: to its end at
                     * once, as the states below would take it (a NUL or a
                     * bare LF is left to them). */
                    size_t k = j + 1 + ss_http_value_end(s + j + 1, len - j - 1);

                    if (k + 1 < len && s[k] == '\r' && s[k + 1] == '\n') {
                        p->hdr = SS_H_OTHER;
                        p->tok_len = 0;
                        p->has_digit = 0;
                        i = k + 2;
                        if (i == len)
                            goto out;
                        c = s[i];
                        goto hdr_start;
                    }
                }
                ss_http_name_done(p, id);
                p->state = SS_S_HDR_OWS;
                i = j + 1;
                if (i == len)
                    goto out;
                c = s[i];
                goto hdr_ows;
            } else {
                goto dead;
            }
            break;
        case SS_S_HDR_OWS:
        hdr_ows:
            while (c == ' ' || c == '\t') {
                if (++i == len)
                    goto out;
                c = s[i];
            }
            if (p->hdr == SS_H_TRACEPARENT && p->head && c != '\r' && c != '\n')
                p->head->tp_pos = p->pos + i;
            p->state = SS_S_HDR_VALUE;
            __attribute__((fallthrough)); /* the byte is the value's first */
        case SS_S_HDR_VALUE:
            i += ss_http_value_run(p, s + i, len - i);
            while (i < len && s[i] != '\r' && s[i] != '\n' && s[i] != 0) {
                if (!ss_http_value_byte(p, s[i])) /* framing headers, byte by byte */
                    goto dead;
                i++;
            }
            if (i == len)
                goto out;
            c = s[i];
            ev_tp = p->hdr == SS_H_TRACEPARENT && p->want_tp_end && p->head != NULL;
            if (c == 0 || !ss_http_value_done(p))
                goto dead;
            if (ev_tp) {
                /* Reported at the line end, which is read next as the end
                 * of a value nobody follows. */
                *ev = SS_HTTP_EV_TP_END;
                goto out;
            }
            if (c == '\r' && i + 1 < len && s[i + 1] == '\n') { /* the line end whole */
                p->state = SS_S_HDR_START;
                i += 2;
                continue;
            }
            p->state = c == '\r' ? SS_S_LINE_LF : SS_S_HDR_START;
            break;
        case SS_S_HDR_NAME:
            if (ss_http_tchar(c)) { /* the name's run of tchars in one go */
                do {
                    if (p->tok_len < sizeof(p->tok))
                        p->tok[p->tok_len] = (char)ss_http_lower(s[i]);
                    if (p->tok_len < 255)
                        p->tok_len++;
                } while (++i < len && ss_http_tchar(s[i]));
                continue;
            }
            if (c != ':')
                goto dead;
            ss_http_name_done(p, p->tok_len < sizeof(p->tok)
                                     ? ss_http_name_id((const unsigned char *)p->tok, p->tok_len)
                                     : (uint8_t)SS_H_OTHER);
            p->state = SS_S_HDR_OWS;
            break;
        case SS_S_SKIP_LINE:
            if (c == '\r')
                p->state = SS_S_LINE_LF;
            else if (c == '\n')
                p->state = SS_S_HDR_START;
            break;
        case SS_S_HEAD_TERM:
            if (c == '\r' && i + 1 < len && s[i + 1] == '\n') { /* the end whole */
                i += 2;
                *ev = ss_http_head_done(p);
                if (*ev != SS_HTTP_EV_NONE)
                    goto out;
                continue;
            }
            if (c == '\r') {
                p->state = SS_S_HEAD_LF;
                break;
            }
            i++;
            *ev = ss_http_head_done(p);
            if (*ev != SS_HTTP_EV_NONE)
                goto out;
            continue;
        case SS_S_HEAD_LF:
            if (c != '\n')
                goto dead;
            i++;
            *ev = ss_http_head_done(p);
            if (*ev != SS_HTTP_EV_NONE)
                goto out;
            continue;
        case SS_S_BODY_CL:
        case SS_S_CHUNK_DATA: {
            size_t n = len - i;

            if (n > p->remaining)
                n = (size_t)p->remaining;
            i += n;
            p->remaining -= n;
            if (p->remaining == 0) {
                if (p->state == SS_S_CHUNK_DATA) {
                    p->state = SS_S_CHUNK_DATA_CR;
                    continue;
                }
                p->state = SS_S_START;
                *ev = SS_HTTP_EV_END;
                goto out;
            }
            continue;
        }
        case SS_S_CHUNK_SIZE: {
            int d = (c >= '0' && c <= '9') ? c - '0'
                    : (ss_http_lower(c) >= 'a' && ss_http_lower(c) <= 'f') ? ss_http_lower(c) - 'a' + 10
                    : -1;

            if (d >= 0) {
                if (p->remaining > (UINT64_MAX >> 4))
                    goto dead;
                p->remaining = (p->remaining << 4) | (uint64_t)d;
                p->has_digit = 1;
            } else if (!p->has_digit) {
                goto dead;
            } else if (c == ';' || c == ' ' || c == '\t') {
                p->state = SS_S_CHUNK_EXT;
            } else if (c == '\r') {
                p->state = SS_S_CHUNK_SIZE_LF;
            } else if (c == '\n') {
                p->state = SS_S_CHUNK_SIZE_LF;
                continue;
            } else {
                goto dead;
            }
            break;
        }
        case SS_S_CHUNK_EXT:
            if (c == '\r')
                p->state = SS_S_CHUNK_SIZE_LF;
            else if (c == '\n') {
                p->state = SS_S_CHUNK_SIZE_LF;
                continue;
            }
            break;
        case SS_S_CHUNK_SIZE_LF:
            if (c != '\n')
                goto dead;
            p->has_digit = 0;
            if (p->remaining == 0) {
                p->in_trailer = 1;
                p->state = SS_S_HDR_START;
            } else {
                p->state = SS_S_CHUNK_DATA;
            }
            break;
        case SS_S_CHUNK_DATA_CR:
            if (c == '\r')
                p->state = SS_S_CHUNK_DATA_LF;
            else if (c == '\n')
                p->state = SS_S_CHUNK_SIZE;
            else
                goto dead;
            break;
        case SS_S_CHUNK_DATA_LF:
            if (c != '\n')
                goto dead;
            p->state = SS_S_CHUNK_SIZE;
            break;
        case SS_S_BODY_EOF:
            i = len;
            continue;
        case SS_S_DEAD:
        default:
            goto dead;
        }
        i++;
    }
out:
    p->pos += i;
    return i;
dead:
    p->state = SS_S_DEAD;
    *ev = SS_HTTP_EV_ERROR;
    p->pos += i;
    return i;
}

int ss_http_eof(ss_http_t *p)
{
    if (p->state == SS_S_BODY_EOF) {
        p->state = SS_S_START;
        return 1;
    }
    return p->state == SS_S_START || p->state == SS_S_DEAD ? 0 : -1;
}
