/*
 * fuzz_redact.c - libFuzzer target for query redaction and the URLs it
 * goes into.
 *
 * Input: a flags byte, then (flag 1) a SPANSHIM_REDACT_QUERY_KEYS value up
 * to the first '\n', then a query. Whatever the bytes are:
 *   - the list parses (or falls back to the defaults) within its limits;
 *   - the redacted query stays within EX_REDACT_ROOM, equals what a plain
 *     reference reading of the rules gives, and at any smaller capacity is
 *     cut to a prefix of it;
 *   - a span with the query in its target (client and server, the
 *     target's form chosen by the flags) always encodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/ex_otlp.h"
#include "../../exporter/ex_redact.h"

#define QUERY_MAX 4096

static char pool[EX_REDACT_POOL_MAX];

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The reference: is key (n bytes, raw) listed? Decoded whole, then compared. */
static int ref_listed(const ex_redact_keys_t *k, const char *key, size_t n)
{
    unsigned char dec[QUERY_MAX];
    size_t d = 0, i;
    unsigned j;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];

        if (c == '%' && i + 2 < n && hexval((unsigned char)key[i + 1]) >= 0 &&
            hexval((unsigned char)key[i + 2]) >= 0) {
            c = (unsigned char)(hexval((unsigned char)key[i + 1]) * 16 + hexval((unsigned char)key[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        dec[d++] = fold(c);
    }
    for (j = 0; j < k->n; j++) {
        if (k->k[j].n != d)
            continue;
        for (i = 0; i < d && fold((unsigned char)k->k[j].p[i]) == dec[i]; i++)
            ;
        if (i == d && d > 0)
            return 1;
    }
    return 0;
}

/* The reference, one '&'-separated segment at a time: parameters inside it
 * are separated by ';'; the first listed key with a value hides the rest
 * of the segment. Returns the length written to out. */
static size_t ref_redact(const ex_redact_keys_t *k, const char *q, size_t n, char *out)
{
    size_t o = 0, s = 0;

    for (;;) {
        const char *amp = memchr(q + s, '&', n - s);
        size_t e = amp ? (size_t)(amp - q) : n, p = s, hide = 0;

        while (p < e && !hide) {
            size_t ke = p;

            while (ke < e && q[ke] != '=' && q[ke] != ';')
                ke++;
            if (ke < e && q[ke] == '=' && ke + 1 < e && ref_listed(k, q + p, ke - p))
                hide = ke + 1;
            while (ke < e && q[ke] != ';')
                ke++;
            p = ke + 1;
        }
        memcpy(out + o, q + s, (hide ? hide : e) - s);
        o += (hide ? hide : e) - s;
        if (hide) {
            memcpy(out + o, "REDACTED", 8);
            o += 8;
        }
        if (!amp)
            return o;
        out[o++] = '&';
        s = e + 1;
    }
}

static void check_query(const ex_redact_keys_t *k, const char *q, size_t n, unsigned cut)
{
    static char out[EX_REDACT_ROOM(QUERY_MAX)], want[EX_REDACT_ROOM(QUERY_MAX)],
        part[EX_REDACT_ROOM(QUERY_MAX)];
    size_t len = 0, wn = ref_redact(k, q, n, want), plen = 0, cap;
    int hit = ex_redact_query(k, q, n, out, sizeof(out), &len);

    if (!hit) { /* nothing redacted: the reference agrees */
        if (wn != n || memcmp(want, q, n) != 0)
            abort();
        return;
    }
    if (len > EX_REDACT_ROOM(n) || len != wn || memcmp(out, want, len) != 0)
        abort();
    cap = cut % (len + 1);
    if (!ex_redact_query(k, q, n, part, cap, &plen) || plen != cap || memcmp(part, out, plen) != 0)
        abort();
}

static void check_span(const char *q, size_t n, uint8_t flags)
{
    static const char *const prefix[] = {"/p?", "http://u:p@h/p?", "https://h?", "*"};
    static uint8_t buf[EX_SPAN_MAX];
    ss_span_t s;
    const char *pre = prefix[flags >> 1 & 3];
    size_t pn = strlen(pre), tn;
    int kind;

    for (kind = SS_KIND_SERVER; kind <= SS_KIND_CLIENT; kind++) {
        memset(&s, 0, sizeof(s));
        s.kind = (uint8_t)kind;
        s.http.head_done = 1;
        memcpy(s.http.head.method, flags & 8 ? "CONNECT" : "OPTIONS", 7);
        s.http.head.method_len = 7;
        tn = pn + n < SS_HTTP_TARGET_MAX ? pn + n : SS_HTTP_TARGET_MAX;
        memcpy(s.http.head.target, pre, pn);
        memcpy(s.http.head.target + pn, q, tn - pn);
        s.http.head.target_len = (uint16_t)tn;
        if (flags & 16) {
            memset(s.http.head.host, 'h', SS_HTTP_HOST_MAX);
            s.http.head.host_len = SS_HTTP_HOST_MAX;
        } else {
            strcpy(s.peer_addr, "::1");
        }
        if (ex_otlp_span(&s, buf, sizeof(buf)) == 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char spec[EX_REDACT_POOL_MAX + 64];
    ex_redact_keys_t keys;
    const ex_redact_keys_t *k = ex_redact_keys;
    const char *q;
    uint8_t flags;
    size_t n;
    unsigned i;

    if (size < 2)
        return 0;
    flags = data[0];
    q = (const char *)data + 2;
    n = size - 2;
    if (flags & 1) {
        const char *nl = memchr(q, '\n', n);
        size_t sn = nl ? (size_t)(nl - q) : n;

        if (sn >= sizeof(spec))
            sn = sizeof(spec) - 1;
        memcpy(spec, q, sn);
        spec[sn] = '\0'; /* a NUL inside ends the value, as in the environment */
        if (ex_redact_parse(&keys, spec, pool, sizeof(pool)) < -1 || keys.n > EX_REDACT_KEYS_MAX)
            abort();
        for (i = 0; i < keys.n; i++)
            if (keys.k[i].n == 0 || keys.k[i].n > EX_REDACT_KEY_MAX)
                abort();
        k = &keys;
        q += nl ? sn + 1 : n;
        n -= nl ? sn + 1 : n;
    }
    if (n > QUERY_MAX)
        n = QUERY_MAX;
    check_query(k, q, n, data[1]);
    check_span(q, n, flags);
    return 0;
}
