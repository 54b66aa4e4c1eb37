/*
 * col_jout.h - JSON pieces written into room already made.
 *
 * Writing a span's JSON through col_buf_put checked the buffer's room, moved
 * its length and wrote its NUL once per piece: some fifty times a span for
 * what is one run of bytes. These writers take a pointer into room the
 * caller has made (col_buf_room) for a bound it knows in advance, write
 * without any check and return where they stopped; the caller sets the
 * buffer's length once (col_buf_done). Each says what room it needs at
 * most. Strings are checked for bytes that need escaping eight at a time;
 * numbers and hex are written two digits per step from tables.
 */
#ifndef COL_JOUT_H
#define COL_JOUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "col_json.h"

/* Room for n more bytes and a NUL: where they go, or NULL (b->oom set). */
static inline char *col_buf_room(col_buf_t *b, size_t n)
{
    if (b->len + n + 1 > b->cap && !col_buf_grow(b, n))
        return NULL;
    return b->p + b->len;
}

/* What was written up to o is the buffer's now (NUL-terminated). */
static inline void col_buf_done(col_buf_t *b, char *o)
{
    b->len = (size_t)(o - b->p);
    *o = '\0';
}

/* A literal, its length known when built. */
/* Room for need more bytes (and a NUL) at o, a write position in b not yet
 * handed back with col_buf_done: o again, or where it moved; NULL if the
 * buffer cannot grow. */
static inline char *col_jo_reserve(col_buf_t *b, char *o, size_t need)
{
    size_t len = (size_t)(o - b->p);

    if (len + need + 1 > b->cap) {
        b->len = len;
        if (!col_buf_grow(b, need))
            return NULL;
        o = b->p + len;
    }
    return o;
}

#define COL_JO_LIT(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)

static inline char *col_jo_bytes(char *o, const void *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

extern const char col_jo_pairs[200];  /* "00" "01" ... "99" */
extern const char col_jo_hex2[512];   /* "00" "01" ... "ff" */

/* Exactly 8 digits of v (< 10^8) at q, in 32-bit steps. */
static inline void col_jo_8digits(char *q, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;

    memcpy(q, col_jo_pairs + 2 * (hi / 100), 2);
    memcpy(q + 2, col_jo_pairs + 2 * (hi % 100), 2);
    memcpy(q + 4, col_jo_pairs + 2 * (lo / 100), 2);
    memcpy(q + 6, col_jo_pairs + 2 * (lo % 100), 2);
}

/* Decimal digits of v: at most 20 bytes. A timestamp's 19 are two groups
 * of 8 and the rest, each group in 32-bit arithmetic. */
static inline char *col_jo_u64(char *o, uint64_t v)
{
    static const uint64_t pow10[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull,
                                       1000000ull, 10000000ull, 100000000ull, 1000000000ull,
                                       10000000000ull, 100000000000ull, 1000000000000ull,
                                       10000000000000ull, 100000000000000ull,
                                       1000000000000000ull, 10000000000000000ull,
                                       100000000000000000ull, 1000000000000000000ull,
                                       10000000000000000000ull};
    /* digits from the bit length (log10(2) ~ 1233/4096): t or t + 1 */
    unsigned t = (64u - (unsigned)__builtin_clzll(v | 1)) * 1233u >> 12;
    unsigned n = t + 1u - (v < pow10[t]) + (v == 0);
    char *e = o + n, *q = e;
    uint32_t w;

    while (v >= 100000000u) {
        q -= 8;
        col_jo_8digits(q, (uint32_t)(v % 100000000u));
        v /= 100000000u;
    }
    w = (uint32_t)v;
    while (w >= 100) {
        q -= 2;
        memcpy(q, col_jo_pairs + 2 * (w % 100), 2);
        w /= 100;
    }
    if (w >= 10)
        memcpy(q - 2, col_jo_pairs + 2 * w, 2);
    else
        q[-1] = (char)('0' + w);
    return e;
}

/* An int32 as decimal: at most 11 bytes. */
static inline char *col_jo_i32(char *o, int32_t v)
{
    if (v < 0) {
        *o++ = '-';
        return col_jo_u64(o, 0 - (uint64_t)(int64_t)v);
    }
    return col_jo_u64(o, (uint64_t)v);
}

/* Lowercase hex of n bytes: 2n bytes. With SSE2, 8 bytes a step: their
 * nibbles interleaved, high first, each made a digit or a letter. */
static inline char *col_jo_hex(char *o, const uint8_t *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    for (; i + 8 <= n; i += 8, o += 16) {
        __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(p + i));
        __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x0f));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0f));
        __m128i nib = _mm_unpacklo_epi8(hi, lo);
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(nib, _mm_set1_epi8(9)),
                                       _mm_set1_epi8('a' - '0' - 10));

        _mm_storeu_si128((__m128i *)(void *)o,
                         _mm_add_epi8(nib, _mm_add_epi8(letter, _mm_set1_epi8('0'))));
    }
#endif
    for (; i < n; i++, o += 2)
        memcpy(o, col_jo_hex2 + 2 * p[i], 2);
    return o;
}

/* Quoted base64 of n bytes: at most 4 * (n + 2) / 3 + 2 bytes. */
char *col_jo_base64(char *o, const uint8_t *p, size_t n);

/* An id as col_json_id writes it: quoted hex up to 64 bytes, else base64.
 * At most 2n + 2 bytes (base64's is less than that past 64). */
static inline char *col_jo_id(char *o, const uint8_t *p, size_t n)
{
    if (n > 64)
        return col_jo_base64(o, p, n);
    *o++ = '"';
    o = col_jo_hex(o, p, n);
    *o++ = '"';
    return o;
}

/* Bytes that go into a JSON string as they are: printable ASCII but the
 * quote and the backslash (NUL is not one: a C string ends there). */
extern const uint8_t col_json_plain[256];

/* Whether none of the 8 bytes of w needs escaping: no control byte, no
 * byte past ASCII, no quote, no backslash (each test is exact for "some
 * byte is", which is all that is asked). */
static inline int col_word_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t lt = (w - 0x20 * ones) & ~w;
    uint64_t q = w ^ (0x22 * ones), bs = w ^ (0x5c * ones);

    q = (q - ones) & ~q;
    bs = (bs - ones) & ~bs;
    return ((w | lt | q | bs) & high) == 0;
}

/* col_jo_strn for any string (escapes, UTF-8, a NUL). */
char *col_jo_strn_any(char *o, const char *s, size_t n);

#ifdef __SSE2__
/* Whether none of the 16 bytes at p needs escaping: as signed bytes, a
 * control byte and a byte past ASCII are both below 0x20. */
static inline int col_sse_bad(__m128i v)
{
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

    return _mm_movemask_epi8(bad);
}

static inline int col_16_plain(const unsigned char *p)
{
    return col_sse_bad(_mm_loadu_si128((const __m128i *)(const void *)p)) == 0;
}
#endif

/* A string as col_json_strn writes it: quoted, escaped, up to n bytes or a
 * NUL. At most 6n + 2 bytes (an escape or U+FFFD is 6 for one byte).
 * Inline for what nearly every string is, plain ASCII: 16 bytes a step
 * where SSE2 is (else 8), the last step the one that ends the string,
 * overlapping the one before; anything else is written again from its
 * start by col_jo_strn_any. */
static inline __attribute__((always_inline)) char *col_jo_strn(char *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint64_t w;
    size_t i;

    o[0] = '"';
#ifdef __SSE2__
    if (n >= 16) {
        for (i = 0; i + 16 <= n; i += 16) {
            if (!col_16_plain(u + i))
                return col_jo_strn_any(o, s, n);
            memcpy(o + 1 + i, u + i, 16);
        }
        if (i < n) {
            if (!col_16_plain(u + n - 16))
                return col_jo_strn_any(o, s, n);
            memcpy(o + 1 + n - 16, u + n - 16, 16);
        }
        o[1 + n] = '"';
        return o + n + 2;
    }
    if (n >= 8) { /* the first 8 and the last 8, in one check */
        __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)u),
                                       _mm_loadl_epi64((const __m128i *)(const void *)(u + n - 8)));

        if (col_sse_bad(v))
            return col_jo_strn_any(o, s, n);
        memcpy(o + 1, u, 8);
        memcpy(o + 1 + n - 8, u + n - 8, 8);
        o[1 + n] = '"';
        return o + n + 2;
    }
    if (n >= 4) { /* the first 4 and the last 4: 8 lanes of 16 */
        uint32_t a, z;

        memcpy(&a, u, 4);
        memcpy(&z, u + n - 4, 4);
        if (col_sse_bad(_mm_set_epi32(0, 0, (int)z, (int)a)) & 0xff)
            return col_jo_strn_any(o, s, n);
        memcpy(o + 1, &a, 4);
        memcpy(o + 1 + n - 4, &z, 4);
        o[1 + n] = '"';
        return o + n + 2;
    }
#endif
    if (n >= 8) {
        for (i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, u + i, 8);
            if (!col_word_plain(w))
                return col_jo_strn_any(o, s, n);
            memcpy(o + 1 + i, &w, 8);
        }
        if (i < n) {
            memcpy(&w, u + n - 8, 8);
            if (!col_word_plain(w))
                return col_jo_strn_any(o, s, n);
            memcpy(o + 1 + n - 8, &w, 8);
        }
    } else {
        for (i = 0; i < n; i++) {
            if (!col_json_plain[u[i]])
                return col_jo_strn_any(o, s, n);
            o[1 + i] = (char)u[i];
        }
    }
    o[1 + n] = '"';
    return o + n + 2;
}

#endif
