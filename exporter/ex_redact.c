/*
 * ex_redact.c - query values of secret keys replaced (see ex_redact.h).
 *
 * This runs for every span whose target has a query, so a parameter costs
 * a scan of its key and, only when some key has the key's length, a
 * compare; nothing is copied until a value is redacted.
 */
#include "ex_redact.h"

#include <string.h>

/* The default keys. First OpenTelemetry's (url.query and url.full in the
 * semantic conventions: v1.44's five and the two of signature version 2
 * that the conventions' main branch has put back), then names that
 * carry credentials by convention: OAuth and OpenID tokens and client
 * secrets, API keys (`key` is how Google's APIs take one), passwords and
 * session ids. Left out on purpose: OAuth's `code` and `state` (one-time,
 * short-lived, and names used for much else) and substring matches
 * (`monkey`, `keyword`). */
#define EX_REDACT_DEFAULTS(X)                                                                \
    X("AWSAccessKeyId") X("Signature") X("sig") X("X-Goog-Signature") X("X-Amz-Signature")  \
    X("X-Amz-Credential") X("X-Amz-Security-Token")                                           \
    X("access_token") X("accessToken") X("refresh_token") X("refreshToken") X("id_token")   \
    X("auth_token") X("token") X("jwt") X("auth") X("authorization") X("client_secret")    \
    X("secret") X("password") X("passwd") X("pwd") X("api_key") X("apikey") X("api-key")   \
    X("x-api-key") X("key") X("session_id") X("sessionid") X("phpsessid") X("jsessionid")

#define EX_KEY_ENTRY(s) {s, sizeof(s) - 1},
#define EX_KEY_LEN_BIT(s) | 1ull << (sizeof(s) - 1)
#define EX_KEY_ONE(s) +1

static const ex_redact_keys_t ex_redact_defaults = {
    .lens = 0 EX_REDACT_DEFAULTS(EX_KEY_LEN_BIT),
    .n = 0 EX_REDACT_DEFAULTS(EX_KEY_ONE),
    .k = {EX_REDACT_DEFAULTS(EX_KEY_ENTRY)},
};
_Static_assert(0 EX_REDACT_DEFAULTS(EX_KEY_ONE) <= EX_REDACT_KEYS_MAX, "the defaults fit a list");

const ex_redact_keys_t *ex_redact_keys = &ex_redact_defaults;

static inline unsigned char ex_lower(unsigned char c)
{
    return (unsigned char)((unsigned)c - 'A' < 26u ? c + 32 : c);
}

static int ex_hex(unsigned char c)
{
    if ((unsigned)c - '0' < 10u)
        return c - '0';
    c = ex_lower(c);
    return (unsigned)c - 'a' < 6u ? c - 'a' + 10 : -1;
}

/* 1 if a and b (n bytes each) are equal ignoring ASCII case. */
static int ex_same_fold(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (ex_lower((unsigned char)a[i]) != ex_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* A parameter's key as compared: percent-decoded, '+' a space, lower case,
 * into buf. Its length, or EX_REDACT_KEY_MAX + 1 if it is longer. A '%'
 * not followed by two hex digits stays a '%', as URL parsers keep it. */
static size_t ex_key_decode(const char *p, size_t n, char buf[EX_REDACT_KEY_MAX])
{
    size_t i, d = 0;

    for (i = 0; i < n; i++, d++) {
        unsigned char c = (unsigned char)p[i];
        int hi, lo;

        if (d == EX_REDACT_KEY_MAX)
            return EX_REDACT_KEY_MAX + 1;
        if (c == '%' && i + 2 < n && (hi = ex_hex((unsigned char)p[i + 1])) >= 0 &&
            (lo = ex_hex((unsigned char)p[i + 2])) >= 0) {
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        buf[d] = (char)ex_lower(c);
    }
    return d;
}

/* 1 if key (n raw bytes) is one of k's. Out of line: most keys never
 * get here (ex_key_maybe). */
static __attribute__((noinline)) int ex_key_listed(const ex_redact_keys_t *k, const char *key,
                                                   size_t n)
{
    char buf[EX_REDACT_KEY_MAX];
    size_t d, i;

    if (n > 3 * EX_REDACT_KEY_MAX)
        return 0;
    d = ex_key_decode(key, n, buf);
    if (d > EX_REDACT_KEY_MAX || !(k->lens >> d & 1))
        return 0;
    for (i = 0; i < k->n; i++)
        if (k->k[i].n == d && ex_same_fold(buf, k->k[i].p, d))
            return 1;
    return 0;
}

/* What ends a key (EX_KEY_END: '=', '&', ';') or a value (EX_VALUE_END:
 * '&', ';'), and the '%' that makes a key's length uncertain. */
enum { EX_VALUE_END = 1, EX_KEY_END = 2, EX_PCT = 4 };
static const uint8_t ex_class[256] = {
    ['&'] = EX_VALUE_END | EX_KEY_END, [';'] = EX_VALUE_END | EX_KEY_END, ['='] = EX_KEY_END,
    ['%'] = EX_PCT,
};

/* Append n bytes of s to out (*o bytes of cap used), cut at cap. */
static void ex_put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    size_t k = n < cap - *o ? n : cap - *o;

    memcpy(out + *o, s, k);
    *o += k;
}

/* 0 if a key of n raw bytes cannot be one of k's: without a '%' (pct) its
 * length is known, and most keys are rejected by it alone. */
static inline int ex_key_maybe(const ex_redact_keys_t *k, size_t n, unsigned pct)
{
    return n && (pct || (n <= EX_REDACT_KEY_MAX && (k->lens >> n & 1)));
}

/* Where the next value to redact begins (after its '='), from p on; NULL
 * if no other is. */
static inline const char *ex_next_secret(const ex_redact_keys_t *k, const char *p, const char *end)
{
    while (p < end) {
        const char *key = p;
        unsigned seen = 0;

        while (p < end && !(ex_class[(uint8_t)*p] & EX_KEY_END))
            seen |= ex_class[(uint8_t)*p++];
        if (p < end && *p == '=' && p + 1 < end && p[1] != '&' &&
            ex_key_maybe(k, (size_t)(p - key), seen & EX_PCT) &&
            ex_key_listed(k, key, (size_t)(p - key)))
            return p + 1;
        while (p < end && !(ex_class[(uint8_t)*p] & EX_VALUE_END))
            p++;
        p += p < end; /* the separator */
    }
    return NULL;
}

/* The query with its secrets replaced, the first at v (ex_next_secret).
 * Out of line, so that a query without any costs only the scan. */
static __attribute__((noinline)) int ex_redact_from(const ex_redact_keys_t *k, const char *q,
                                                    const char *end, const char *v, char *out,
                                                    size_t cap, size_t *len)
{
    const char *kept = q;
    size_t o = 0;

    do { /* [kept, v) is shown, the value from v to the next '&' is not */
        const char *amp = memchr(v, '&', (size_t)(end - v));

        ex_put(out, cap, &o, kept, (size_t)(v - kept));
        ex_put(out, cap, &o, "REDACTED", 8);
        kept = amp ? amp : end;
        v = amp ? ex_next_secret(k, amp + 1, end) : NULL;
    } while (v);
    ex_put(out, cap, &o, kept, (size_t)(end - kept));
    *len = o;
    return 1;
}

int ex_redact_query(const ex_redact_keys_t *k, const char *q, size_t n, char *out, size_t cap,
                    size_t *len)
{
    const char *v = ex_next_secret(k, q, q + n);

    return v ? ex_redact_from(k, q, q + n, v, out, cap, len) : 0;
}

/* Append the key [p, p + n) to k unless it is there; -1 if full. */
static int ex_redact_add(ex_redact_keys_t *k, const char *p, size_t n)
{
    unsigned i;

    for (i = 0; i < k->n; i++)
        if (k->k[i].n == n && ex_same_fold(k->k[i].p, p, n))
            return 0;
    if (k->n == EX_REDACT_KEYS_MAX)
        return -1;
    k->k[k->n++] = (ex_redact_key_t){p, (uint8_t)n};
    k->lens |= 1ull << n;
    return 0;
}

static int ex_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One item of a list, [a, a + n): `default`, `none` or a key, copied to
 * pool (*used bytes of cap taken). -1 if it does not fit. */
static int ex_redact_item(ex_redact_keys_t *k, const char *a, size_t n, char *pool, size_t cap,
                          size_t *used)
{
    unsigned i;

    if (n == 7 && ex_same_fold(a, "default", 7)) {
        for (i = 0; i < ex_redact_defaults.n; i++)
            if (ex_redact_add(k, ex_redact_defaults.k[i].p, ex_redact_defaults.k[i].n) < 0)
                return -1;
        return 0;
    }
    if (n == 4 && ex_same_fold(a, "none", 4))
        return 0;
    if (n > EX_REDACT_KEY_MAX || *used + n > cap)
        return -1;
    memcpy(pool + *used, a, n);
    if (ex_redact_add(k, pool + *used, n) < 0)
        return -1;
    *used += n;
    return 0;
}

int ex_redact_parse(ex_redact_keys_t *k, const char *spec, char *pool, size_t pool_cap)
{
    size_t used = 0;
    int items = 0;

    memset(k, 0, sizeof(*k));
    while (spec && *spec) {
        const char *a = spec, *b;

        while (*spec && *spec != ',')
            spec++;
        b = spec;
        spec += *spec == ',';
        while (a < b && ex_blank(*a))
            a++;
        while (b > a && ex_blank(b[-1]))
            b--;
        if (a == b)
            continue;
        items++;
        if (ex_redact_item(k, a, (size_t)(b - a), pool, pool_cap, &used) < 0) {
            *k = ex_redact_defaults;
            return -1;
        }
    }
    if (items == 0)
        *k = ex_redact_defaults;
    return 0;
}

int ex_redact_configure(const char *spec)
{
    static ex_redact_keys_t keys;
    static char pool[EX_REDACT_POOL_MAX];
    int rc = ex_redact_parse(&keys, spec, pool, sizeof(pool));

    ex_redact_keys = &keys;
    return rc;
}
