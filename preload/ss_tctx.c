/*
 * ss_tctx.c - W3C Trace Context (Level 2) parsing and formatting.
 *
 * Follows the processing model to the letter: a bad traceparent means a new
 * trace and no tracestate; a bad tracestate only loses the tracestate.
 */
#include "ss_tctx.h"

#include <endian.h>
#include <string.h>

/* Lowercase hex digits' values with 0x20 set; 0 for every other byte
 * (uppercase is invalid in traceparent). */
#define SS_HEX_OK 0x20
static const uint8_t ss_hexval[256] = {
    ['0'] = 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    ['a'] = 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

#define SS_ONES 0x0101010101010101ull /* a byte in every lane of a word */
#define SS_HIGHS 0x8080808080808080ull

/* 8 lowercase hex chars into 4 bytes, a word at a time; 0 if one is not
 * lowercase hex. For a byte b < 0x80, b + (0x80 - lo) has its high bit set
 * exactly when b >= lo, without a carry into the next byte: two such
 * ranges find the digits and the letters. A letter's low nibble plus 9 is
 * its value; the nibbles are then paired and the pairs packed. */
static inline int ss_unhex8(const unsigned char *s, uint8_t out[4])
{
    uint64_t w, digit, letter, x;
    uint32_t v;

    memcpy(&w, s, 8);
    w = le64toh(w);
    if (w & SS_HIGHS)
        return 0;
    digit = (w + SS_ONES * (0x80 - '0')) & ~(w + SS_ONES * (0x80 - '9' - 1)) & SS_HIGHS;
    letter = (w + SS_ONES * (0x80 - 'a')) & ~(w + SS_ONES * (0x80 - 'f' - 1)) & SS_HIGHS;
    if ((digit | letter) != SS_HIGHS)
        return 0;
    x = (w & SS_ONES * 0x0f) + (letter >> 7) * 9;
    x = (x << 4 | x >> 8) & 0x00ff00ff00ff00ffull;
    x = (x | x >> 8) & 0x0000ffff0000ffffull;
    v = htole32((uint32_t)(x | x >> 16));
    memcpy(out, &v, 4);
    return 1;
}

/* 2 lowercase hex chars into a byte; 0 if one is not lowercase hex. */
static inline int ss_unhex2(const char *s, uint8_t *out)
{
    unsigned hi = ss_hexval[(unsigned char)s[0]], lo = ss_hexval[(unsigned char)s[1]];

    *out = (uint8_t)((hi & 15) << 4 | (lo & 15));
    return (hi & lo & SS_HEX_OK) != 0;
}

/* 8n lowercase hex chars into 4n bytes; 0 on a bad character. */
static inline int ss_unhex_words(const char *s, size_t n, uint8_t *out)
{
    size_t i;
    int ok = 1;

    for (i = 0; i < n; i++)
        ok &= ss_unhex8((const unsigned char *)s + 8 * i, out + 4 * i);
    return ok;
}

static int ss_all_zero(const uint8_t *b, size_t n)
{
    uint64_t w, any = 0;
    size_t i;

    for (i = 0; i < n; i += 8) {
        memcpy(&w, b + i, 8);
        any |= w;
    }
    return any == 0;
}

static int ss_ows(char c)
{
    return c == ' ' || c == '\t';
}

int ss_tp_parse(const char *s, size_t n, ss_ctx_t *ctx)
{
    uint8_t version, flags;

    memset(ctx, 0, sizeof(*ctx));
    while (n && ss_ows(s[0])) {
        s++;
        n--;
    }
    while (n && ss_ows(s[n - 1]))
        n--;
    if (n < SS_TP_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return 0;
    if (!ss_unhex2(s, &version) || version == 0xff)
        return 0;
    if (version == 0 && n != SS_TP_LEN)
        return 0;
    if (n > SS_TP_LEN && s[SS_TP_LEN] != '-')
        return 0;
    if (!ss_unhex_words(s + 3, 4, ctx->trace_id) || !ss_unhex_words(s + 36, 2, ctx->span_id) ||
        !ss_unhex2(s + 53, &flags))
        return 0;
    if (ss_all_zero(ctx->trace_id, 16) || ss_all_zero(ctx->span_id, 8))
        return 0;
    ctx->flags = flags & (SS_FLAG_SAMPLED | SS_FLAG_RANDOM);
    ctx->valid = 1;
    return 1;
}

/* 4 bytes into 8 lowercase hex chars, a word at a time: the bytes spread
 * to every other lane, split into nibbles, and each nibble n made '0' + n,
 * plus 39 more where n > 9 (which n + 0x76 tells by its high bit). */
static inline void ss_hex4(const uint8_t *b, char *out)
{
    uint32_t v;
    uint64_t x;

    memcpy(&v, b, 4);
    x = le32toh(v);
    x = (x | x << 16) & 0x0000ffff0000ffffull;
    x = (x | x << 8) & 0x00ff00ff00ff00ffull;
    x = (x >> 4 & 0x000f000f000f000full) | (x & 0x000f000f000f000full) << 8;
    x += SS_ONES * '0' + ((x + SS_ONES * (0x80 - 10)) & SS_HIGHS) / 0x80 * 39;
    x = htole64(x);
    memcpy(out, &x, 8);
}

void ss_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;

    for (; i + 4 <= n; i += 4)
        ss_hex4(b + i, out + 2 * i);
    for (; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void ss_tp_format(const ss_ctx_t *ctx, char out[SS_TP_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t flags = ctx->flags & (SS_FLAG_SAMPLED | SS_FLAG_RANDOM);
    int i;

    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    for (i = 0; i < 4; i++)
        ss_hex4(ctx->trace_id + 4 * i, out + 3 + 8 * i);
    out[35] = '-';
    ss_hex4(ctx->span_id, out + 36);
    ss_hex4(ctx->span_id + 4, out + 44);
    out[52] = '-';
    out[53] = digits[flags >> 4];
    out[54] = digits[flags & 15];
    out[55] = '\0';
}

/* key = (lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@") */
static int ss_ts_key_ok(const char *k, size_t n)
{
    size_t i;

    if (n == 0 || n > 256)
        return 0;
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= '0' && k[0] <= '9')))
        return 0;
    for (i = 1; i < n; i++) {
        char c = k[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '*' || c == '/' || c == '@'))
            return 0;
    }
    return 1;
}

/* value = 0*255(chr) nblk-chr; chr = 0x20-0x7E except "," and "=" */
static int ss_ts_value_ok(const char *v, size_t n)
{
    size_t i;

    if (n == 0 || n > 256 || v[n - 1] == ' ')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
            return 0;
    }
    return 1;
}

static int ss_ts_member_ok(const char *m, size_t n)
{
    const char *eq = memchr(m, '=', n);

    if (eq == NULL)
        return 0;
    return ss_ts_key_ok(m, (size_t)(eq - m)) &&
           ss_ts_value_ok(eq + 1, n - (size_t)(eq - m) - 1);
}

size_t ss_ts_forward(const char *in, size_t n, int cut, char *out)
{
    struct {
        uint16_t off, len;
        uint8_t keep;
    } m[33];
    size_t count = 0, i = 0, total, o = 0, k;

    if (cut) {
        /* The last member may be incomplete: drop it. */
        while (n && in[n - 1] != ',')
            n--;
    }
    while (i < n) {
        size_t start = i, end;

        while (i < n && in[i] != ',')
            i++;
        end = i++;
        while (start < end && ss_ows(in[start]))
            start++;
        while (end > start && ss_ows(in[end - 1]))
            end--;
        if (start == end)
            continue; /* empty members are allowed and skipped */
        if (count == 32 || !ss_ts_member_ok(in + start, end - start))
            return 0;
        m[count].off = (uint16_t)start;
        m[count].len = (uint16_t)(end - start);
        m[count].keep = 1;
        count++;
    }
    if (count == 0)
        return 0;
    total = count - 1;
    for (k = 0; k < count; k++)
        total += m[k].len;
    /* Too long: drop the longest members over 128 first, then from the right. */
    while (total > SS_TS_FORWARD_MAX) {
        size_t victim = count, longest = 128;

        for (k = 0; k < count; k++)
            if (m[k].keep && m[k].len > longest) {
                longest = m[k].len;
                victim = k;
            }
        if (victim == count)
            for (k = count; k-- > 0;)
                if (m[k].keep) {
                    victim = k;
                    break;
                }
        if (victim == count)
            return 0;
        m[victim].keep = 0;
        total -= m[victim].len + 1u;
    }
    for (k = 0; k < count; k++) {
        if (!m[k].keep)
            continue;
        if (o)
            out[o++] = ',';
        memcpy(out + o, in + m[k].off, m[k].len);
        o += m[k].len;
    }
    out[o] = '\0';
    return o;
}
