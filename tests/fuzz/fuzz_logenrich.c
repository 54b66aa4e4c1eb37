/*
 * fuzz_logenrich.c - libFuzzer target for the trace fields written into
 * log lines (preload/ss_logenrich.h).
 *
 * Input: a byte of flags (bit 0: a span is current), two bytes of seed,
 * then the stream the program writes. The seed cuts the stream into writes
 * (each a writev of up to four pieces, empty ones too), and picks what the
 * kernel takes of each call: all, a short count anywhere, or EAGAIN. The
 * program writes again from where it was told its bytes stopped. Then:
 *   - the program's bytes come out whole and in order, and the program is
 *     never told more than it gave;
 *   - what is not the program's comes in whole sets of fields, each the
 *     plain or the JSON form (with its comma, or without in an empty
 *     object), never two sets in one line, never with no span;
 *   - each set sits where the line says (found again here from the whole
 *     line: before a JSON line's final '}', the '\r' of "\r\n", or the
 *     '\n'), and in a line of that form;
 *   - each complete line with a non-blank byte, written in a span, got its
 *     fields or was counted missed, once; every write ended (no loop).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/ss_logenrich.h"

#define OUTMAX (1 << 18)

static unsigned char out[OUTMAX];
static uint8_t mine[OUTMAX];     /* 1: a byte of the program's */
static size_t outn;
static unsigned seed;

static unsigned rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 16 & 0x7fff;
}

static ssize_t kernel(const ss_enrich_plan_t *pl, int planned, const struct iovec *iov, int cnt)
{
    unsigned pick = rnd() % 8;
    size_t left = pick < 5 ? SIZE_MAX : rnd() % 300, took = 0;
    int i;

    if (pick == 7) {
        errno = EAGAIN;
        return -1;
    }
    if (planned) {
        iov = pl->iov;
        cnt = pl->cnt;
    }
    for (i = 0; i < cnt && left; i++) {
        size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;

        if (outn + k > OUTMAX)
            abort();
        memcpy(out + outn, iov[i].iov_base, k);
        memset(mine + outn, !planned || pl->kind[i] == SS_ENRICH_APP, k);
        outn += k;
        took += k;
        left -= k;
    }
    return (ssize_t)took;
}

static unsigned enriched, missed;

/* One write call, as ss_logcap_write makes it (a blocking fd). */
static ssize_t one_write(ss_enrich_line_t *l, const ss_ctx_t *ctx, const struct iovec *iov,
                         int cnt, size_t total)
{
    size_t done = 0;
    int loops = 0;

    for (;;) {
        ss_enrich_plan_t pl;
        ss_enrich_result_t res;
        int planned = ss_enrich_plan(l, ctx, iov, cnt, done, total - done, &pl);
        ssize_t r;

        if (planned && (pl.app == 0 || pl.app > total - done || pl.cnt > SS_ENRICH_IOV))
            abort();
        if (!planned && done)
            abort();
        r = kernel(&pl, planned, iov, cnt);
        ss_enrich_commit(l, &pl, planned, iov, cnt, done, r, &res);
        enriched += res.enriched;
        missed += res.missed;
        if (r < 0)
            return done ? (ssize_t)done : -1;
        if (res.app > pl.app || (size_t)r > (planned ? pl.len : total))
            abort();
        done += res.app;
        if (done == total || (!res.whole && done > 0) || r == 0)
            return (ssize_t)done;
        if (++loops > 100000)
            abort();
    }
}

static int blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static char plain[SS_ENRICH_FIELDS_MAX], json[SS_ENRICH_FIELDS_MAX];
static uint8_t plain_len, json_len;

/* The line p[0..n) ('\n' not in it) and a set of fields at offset at of
 * it, of length len: in its place, of its form. */
static void check_set(const unsigned char *p, size_t n, size_t at, const unsigned char *f,
                      size_t len)
{
    size_t a = 0, z = n, want;
    int js;

    while (a < n && blank(p[a]))
        a++;
    while (z > a && blank(p[z - 1]))
        z--;
    if (a == n)
        abort(); /* a blank line gets none */
    js = p[a] == '{' && z - 1 > a && p[z - 1] == '}';
    if (js) {
        size_t b = z - 1;

        while (b > a && blank(p[b - 1]))
            b--;
        want = z - 1;
        if (p[b - 1] == '{' ? !(len == (size_t)json_len - 1 && !memcmp(f, json + 1, len))
                            : !(len == json_len && !memcmp(f, json, len)))
            abort();
    } else {
        want = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
        if (len != plain_len || memcmp(f, plain, len))
            abort();
    }
    if (at != want)
        abort();
}

static const ss_ctx_t CTX = {{0xde, 0xad, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
                             {0xbe, 0xef, 1, 2, 3, 4, 5, 6},
                             1,
                             1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_enrich_line_t l;
    const ss_ctx_t *ctx;
    const unsigned char *s;
    size_t n, at = 0, i, o, lines = 0, line_start;
    static unsigned char app[OUTMAX];
    size_t appn = 0;

    if (size < 3)
        return 0;
    ctx = data[0] & 1 ? &CTX : NULL;
    seed = (unsigned)data[1] << 8 | data[2];
    s = data + 3;
    n = size - 3;
    if (n > OUTMAX / 4)
        return 0;
    ss_enrich_format(&CTX, plain, &plain_len, json, &json_len);
    ss_enrich_init(&l);
    outn = 0;
    enriched = missed = 0;
    while (at < n) {
        size_t len = rnd() % 4 == 0 ? n - at : 1 + rnd() % 64, told = 0;
        int tries = 0;

        if (len > n - at)
            len = n - at;
        /* one write of the program's: again until all of it went */
        while (told < len) {
            struct iovec v[4];
            size_t left = len - told, off = at + told;
            int cnt = 1 + (int)(rnd() % 4), k;
            ssize_t r;

            for (k = 0; k < cnt; k++) {
                size_t piece = k == cnt - 1 ? left : rnd() % (left + 1);

                v[k].iov_base = (void *)(s + off);
                v[k].iov_len = piece;
                off += piece;
                left -= piece;
            }
            r = one_write(&l, ctx, v, cnt, len - told);
            if (++tries > 100000)
                abort();
            if (r < 0)
                continue;
            if ((size_t)r > len - told)
                abort();
            told += (size_t)r;
        }
        at += len;
    }
    /* The program's bytes, whole and in order. */
    for (i = 0; i < outn; i++)
        if (mine[i])
            app[appn++] = out[i];
    if (appn != n || memcmp(app, s, n))
        abort();
    /* The rest: whole sets, in their places. */
    line_start = 0;
    appn = 0;
    for (o = 0; o < outn;) {
        if (mine[o]) {
            if (out[o] == '\n') {
                line_start = appn + 1;
            }
            appn++;
            o++;
            continue;
        }
        {
            size_t e = o, nl;

            if (ctx == NULL)
                abort();
            while (e < outn && !mine[e])
                e++;
            /* the line of the program's bytes this set sits in */
            for (nl = appn; nl < n && s[nl] != '\n'; nl++)
                ;
            if (nl == n)
                abort(); /* only lines with their end get fields */
            check_set(s + line_start, nl - line_start, appn - line_start, out + o, e - o);
            o = e;
            /* no second set before the line's end */
            for (e = o; e < outn && !(mine[e] && out[e] == '\n'); e++)
                if (!mine[e])
                    abort();
        }
    }
    /* Every complete non-blank line in a span: fields or missed, once. */
    line_start = 0;
    for (i = 0; i < n; i++) {
        if (s[i] != '\n')
            continue;
        for (o = line_start; o < i && blank(s[o]); o++)
            ;
        if (o < i)
            lines++;
        line_start = i + 1;
    }
    if (ctx ? enriched + missed != lines : enriched + missed != 0)
        abort();
    return 0;
}
