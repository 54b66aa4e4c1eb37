/*
 * ss_logdgram.c - messages out of syslog and journal datagrams (see
 * ss_logdgram.h).
 */
#include "ss_logdgram.h"

#include <stdint.h>
#include <string.h>

static int ss_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

/* The message's end without trailing NULs, newlines and CRs. */
static size_t ss_trim(const char *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\0' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    return n;
}

/* Past the next space from i (a field of RFC 5424); n if there is none. */
static size_t ss_field(const char *p, size_t n, size_t i, size_t *start, size_t *len)
{
    *start = i;
    while (i < n && p[i] != ' ')
        i++;
    *len = i - *start;
    return i < n ? i + 1 : n;
}

/* "Mmm dd hh:mm:ss " at p (16 bytes; the day may be " d"). */
static int ss_bsd_stamp(const char *p, size_t n)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int m;

    if (n < 16 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' || p[15] != ' ')
        return 0;
    for (m = 0; m < 12; m++)
        if (memcmp(p, months + 3 * m, 3) == 0)
            break;
    return m < 12 && (p[4] == ' ' || ss_isdigit(p[4])) && ss_isdigit(p[5]) &&
           ss_isdigit(p[7]) && ss_isdigit(p[8]) && ss_isdigit(p[10]) && ss_isdigit(p[11]) &&
           ss_isdigit(p[13]) && ss_isdigit(p[14]);
}

/* RFC 5424's structured data: "-" or one or more "[...]" (with "\]"
 * escapes), then a space. Returns the index past it. */
static size_t ss_skip_sd(const char *p, size_t n, size_t i)
{
    if (i < n && p[i] == '-')
        return i + 1 < n ? i + 2 : n;
    while (i < n && p[i] == '[') {
        for (i++; i < n && p[i] != ']'; i++)
            if (p[i] == '\\' && i + 1 < n)
                i++;
        i++; /* the ']' */
    }
    return i < n ? i + 1 : n;
}

int ss_logdgram_syslog(const char *p, size_t n, ss_logmsg_t *out)
{
    size_t i = 1, s, l;
    unsigned pri = 0;

    memset(out, 0, sizeof(*out));
    out->pri = -1;
    n = ss_trim(p, n);
    if (n == 0)
        return 0;
    if (p[0] != '<') {
        out->body = p;
        out->body_len = n;
        return 1;
    }
    while (i < n && i < 5 && ss_isdigit(p[i]))
        pri = pri * 10 + (unsigned)(p[i++] - '0');
    if (i == 1 || i >= n || p[i] != '>' || pri > 191) {
        out->body = p; /* not a priority after all */
        out->body_len = n;
        return 1;
    }
    out->pri = (int)(pri & 7);
    i++;
    if (n - i >= 2 && p[i] == '1' && p[i + 1] == ' ') {
        i = ss_field(p, n, i + 2, &s, &l); /* timestamp */
        i = ss_field(p, n, i, &s, &l);     /* host */
        i = ss_field(p, n, i, &s, &l);     /* app */
        if (!(l == 1 && p[s] == '-')) {
            out->ident = p + s;
            out->ident_len = l;
        }
        i = ss_field(p, n, i, &s, &l); /* procid */
        i = ss_field(p, n, i, &s, &l); /* msgid */
        i = ss_skip_sd(p, n, i);
        if (n - i >= 3 && memcmp(p + i, "\xef\xbb\xbf", 3) == 0)
            i += 3;
    } else if (ss_bsd_stamp(p + i, n - i)) {
        size_t t = i + 16, e = t;

        while (e < n && e - t < 48 && p[e] != '[' && p[e] != ':' && p[e] != ' ')
            e++;
        if (e > t && e < n) {
            size_t k = e;

            if (p[k] == '[') {
                while (k < n && p[k] != ']')
                    k++;
                k++;
            }
            if (k + 1 < n && p[k] == ':' && p[k + 1] == ' ') {
                out->ident = p + t;
                out->ident_len = e - t;
                t = k + 2;
            }
        }
        i = t;
    }
    if (i >= n)
        return 0;
    out->body = p + i;
    out->body_len = n - i;
    return 1;
}

static uint64_t ss_le64(const char *p)
{
    uint64_t v = 0;
    int k;

    for (k = 7; k >= 0; k--)
        v = v << 8 | (uint8_t)p[k];
    return v;
}

static void ss_journal_field(const char *key, size_t klen, const char *v, size_t vlen,
                             ss_logmsg_t *out)
{
    if (klen == 7 && memcmp(key, "MESSAGE", 7) == 0) {
        out->body = v;
        out->body_len = ss_trim(v, vlen);
    } else if (klen == 8 && memcmp(key, "PRIORITY", 8) == 0) {
        if (vlen == 1 && v[0] >= '0' && v[0] <= '7')
            out->pri = v[0] - '0';
    } else if (klen == 17 && memcmp(key, "SYSLOG_IDENTIFIER", 17) == 0) {
        out->ident = v;
        out->ident_len = vlen;
    }
}

int ss_logdgram_journal(const char *p, size_t n, ss_logmsg_t *out)
{
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    out->pri = -1;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        const char *eq = memchr(p + i, '=', (size_t)((nl ? nl : p + n) - (p + i)));
        size_t end = nl ? (size_t)(nl - p) : n;

        if (eq) { /* KEY=value */
            size_t k = (size_t)(eq - p);

            ss_journal_field(p + i, k - i, eq + 1, end - k - 1, out);
            i = end + 1;
        } else if (nl) { /* KEY, then the length, the value, a newline */
            size_t k = end, at = end + 1;
            uint64_t len;

            if (n - at < 8)
                break;
            len = ss_le64(p + at);
            at += 8;
            if (len > n - at)
                break;
            ss_journal_field(p + i, k - i, p + at, (size_t)len, out);
            i = at + (size_t)len + 1;
        } else {
            break;
        }
    }
    if (out->body == NULL || out->body_len == 0) {
        out->body = NULL;
        return 0;
    }
    return 1;
}
