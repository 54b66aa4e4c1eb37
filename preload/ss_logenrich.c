/*
 * ss_logenrich.c - trace fields in the program's log lines (see
 * ss_logenrich.h).
 *
 * A plan is made in two passes over the application's bytes: the first
 * follows the line state through them and decides, at each '\n', where
 * that line's fields go (a JSON line's '}' may lie in an earlier piece of
 * the iovec than its '\n'); the second lays out the iovec, splitting the
 * program's pieces at those points. The commit walks the same bytes again,
 * as far as the kernel took them, so that the stream's line state is that
 * of the bytes that went, never of those the program will write again.
 *
 * Where a line's end is decided: only at its '\n', from its first and
 * last non-blank bytes, and only when the byte the fields go before (its
 * final '}', the '\r' of "\r\n", or the '\n') is in this write. The state
 * kept between writes is a few bytes, never the line: a line of any length
 * gets its fields.
 */
#include "ss_logenrich.h"

#include <string.h>

#define NONE ((size_t)-1)

enum { HOW_NONE, HOW_PLAIN, HOW_JSON, HOW_JSON_BARE, HOW_MISSED };

/* Where, among this write's application bytes, the line's last non-blank
 * byte and its trailing '\r' are (NONE: not in this write). */
typedef struct ss_enrich_pos {
    size_t last_at, cr_at;
} ss_enrich_pos_t;

static const ss_enrich_pos_t pos_none = {NONE, NONE};

static int blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

void ss_enrich_init(ss_enrich_line_t *l)
{
    memset(&l->s, 0, sizeof(l->s));
    l->carry_len = 0;
}

/* A literal's bytes, its length known when compiled. */
#define PUT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Without snprintf: this runs in whatever context the program writes in,
 * a signal handler's too. The hex is made once, into the plain form, and
 * copied from there into the JSON one. */
void ss_enrich_format(const ss_ctx_t *ctx, char plain[SS_ENRICH_FIELDS_MAX], uint8_t *plain_len,
                      char json[SS_ENRICH_FIELDS_MAX], uint8_t *json_len)
{
    char *o = plain, *t, *s, *f;

    o = PUT(o, " trace_id=");
    t = o;
    ss_hex(ctx->trace_id, sizeof(ctx->trace_id), o);
    o = PUT(o + 32, " span_id=");
    s = o;
    ss_hex(ctx->span_id, sizeof(ctx->span_id), o);
    o = PUT(o + 16, " trace_flags=");
    f = o;
    ss_hex(&ctx->flags, 1, o); /* and its NUL */
    *plain_len = (uint8_t)(o + 2 - plain);
    o = PUT(json, ",\"trace_id\":\"");
    memcpy(o, t, 32);
    o = PUT(o + 32, "\",\"span_id\":\"");
    memcpy(o, s, 16);
    o = PUT(o + 16, "\",\"trace_flags\":\"");
    memcpy(o, f, 2);
    o = PUT(o + 2, "\"");
    *o = '\0';
    *json_len = (uint8_t)(o - json);
}

/* n bytes at application offset `at`, none of them a '\n'. */
static void scan(ss_enrich_state_t *st, ss_enrich_pos_t *pos, const unsigned char *p, size_t n,
                 size_t at)
{
    size_t i, j;

    if (n == 0)
        return;
    st->cr = p[n - 1] == '\r';
    pos->cr_at = st->cr ? at + n - 1 : NONE;
    for (j = n; j > 0 && blank(p[j - 1]); j--)
        ;
    if (j == 0)
        return; /* all blank */
    j--;
    if (!st->has) {
        for (i = 0; blank(p[i]); i++)
            ;
        st->first = p[i];
        st->has = 1;
        st->last = 0;
    }
    for (i = j; i > 0 && blank(p[i - 1]); i--)
        ;
    st->prev = i > 0 ? p[i - 1] : st->last;
    st->last = p[j];
    pos->last_at = at + j;
}

/* A line ends at application offset q: what it gets. */
static int decide(const ss_enrich_state_t *st, const ss_enrich_pos_t *pos, int ctx)
{
    if (!ctx || st->done || !st->has)
        return HOW_NONE;
    if (st->first == '{' && st->last == '}') {
        if (pos->last_at == NONE)
            return HOW_MISSED;
        return st->prev == '{' ? HOW_JSON_BARE : HOW_JSON;
    }
    if (st->cr && pos->cr_at == NONE)
        return HOW_MISSED;
    return HOW_PLAIN;
}

/* The first piece of iov holding byte skip, and where in it. */
static int locate(const struct iovec *iov, int cnt, size_t skip, size_t *in)
{
    int i = 0;

    while (i < cnt && skip >= iov[i].iov_len) {
        skip -= iov[i].iov_len;
        i++;
    }
    *in = skip;
    return i;
}

static void push(ss_enrich_plan_t *pl, const void *base, size_t len, uint8_t kind)
{
    if (len == 0 || pl->cnt == SS_ENRICH_IOV) /* room: counted in the first pass */
        return;
    pl->iov[pl->cnt].iov_base = (void *)base;
    pl->iov[pl->cnt].iov_len = len;
    pl->kind[pl->cnt] = kind;
    pl->cnt++;
    pl->len += len;
}

/* The first pass: points, and how far the plan goes (its cut). */
static size_t points(const ss_enrich_line_t *l, int ctx, const struct iovec *iov, int cnt,
                     size_t skip, size_t n, ss_enrich_plan_t *pl)
{
    ss_enrich_state_t st = l->s;
    ss_enrich_pos_t pos = pos_none;
    size_t in, a = 0, ok = 0;
    int i = locate(iov, cnt, skip, &in), used = l->carry_len ? 1 : 0;

    for (; i < cnt && a < n; i++, in = 0) {
        const unsigned char *p = (const unsigned char *)iov[i].iov_base + in;
        size_t len = iov[i].iov_len - in, seg = a;

        if (len == 0)
            continue;
        if (len > n - a)
            len = n - a;
        if (used + 1 + 2 * pl->npoints > SS_ENRICH_IOV)
            return ok ? ok : a; /* a > 0: pieces before this one */
        used++;
        while (len > 0) {
            const unsigned char *nl = memchr(p, '\n', len);
            size_t k, q;
            int how;

            if (nl == NULL) {
                scan(&st, &pos, p, len, a);
                a += len;
                break;
            }
            k = (size_t)(nl - p);
            scan(&st, &pos, p, k, a);
            q = a + k;
            how = decide(&st, &pos, ctx);
            if (how == HOW_PLAIN || how == HOW_JSON || how == HOW_JSON_BARE) {
                if (pl->npoints == SS_ENRICH_POINTS ||
                    used + 2 * (pl->npoints + 1) > SS_ENRICH_IOV)
                    return ok ? ok : seg; /* no point yet: many pieces, seg > 0 */
                pl->at[pl->npoints] = how != HOW_PLAIN ? pos.last_at : st.cr ? q - 1 : q;
                pl->how[pl->npoints] = (uint8_t)how;
                pl->npoints++;
            }
            memset(&st, 0, sizeof(st));
            pos = pos_none;
            a = ok = q + 1;
            p = nl + 1;
            len -= k + 1;
        }
    }
    return a;
}

int ss_enrich_plan(ss_enrich_line_t *l, const ss_ctx_t *ctx, const struct iovec *iov, int cnt,
                   size_t skip, size_t n, ss_enrich_plan_t *pl)
{
    size_t in, a = 0, cut;
    int i, j = 0;

    pl->cnt = 0;
    pl->len = 0;
    pl->npoints = 0;
    pl->carry_len = 0;
    pl->ctx = ctx != NULL;
    pl->app = n;
    if (l->carry_len == 0 && ctx == NULL && skip == 0)
        return 0; /* no span: lines go as they are */
    cut = points(l, ctx != NULL, iov, cnt, skip, n, pl);
    if (l->carry_len == 0 && pl->npoints == 0 && skip == 0 && cut == n)
        return 0;
    pl->app = cut;
    if (pl->npoints)
        ss_enrich_format(ctx, pl->plain, &pl->plain_len, pl->json, &pl->json_len);
    if (l->carry_len) {
        memcpy(pl->carry, l->carry, l->carry_len);
        pl->carry_len = l->carry_len;
        l->carry_len = 0;
        push(pl, pl->carry, pl->carry_len, SS_ENRICH_CARRY);
    }
    for (i = locate(iov, cnt, skip, &in); i < cnt && a < cut; i++, in = 0) {
        const char *p = (const char *)iov[i].iov_base + in;
        size_t len = iov[i].iov_len - in, cur = a, e;

        if (len > cut - a)
            len = cut - a;
        e = a + len;
        while (j < pl->npoints && pl->at[j] < e) {
            push(pl, p + (cur - a), pl->at[j] - cur, SS_ENRICH_APP);
            cur = pl->at[j];
            if (pl->how[j] == HOW_PLAIN)
                push(pl, pl->plain, pl->plain_len, SS_ENRICH_FIELDS);
            else if (pl->how[j] == HOW_JSON)
                push(pl, pl->json, pl->json_len, SS_ENRICH_FIELDS);
            else
                push(pl, pl->json + 1, (size_t)pl->json_len - 1, SS_ENRICH_FIELDS);
            j++;
        }
        push(pl, p + (cur - a), e - cur, SS_ENRICH_APP);
        a = e;
    }
    return 1;
}

/* l follows n application bytes of iov from byte skip; pos, kept across
 * calls for one write, says which bytes were in it. Lines a span could not
 * give fields to are counted. */
static void follow(ss_enrich_line_t *l, ss_enrich_pos_t *pos, int ctx, const struct iovec *iov,
                   int cnt, size_t skip, size_t from, size_t n, ss_enrich_result_t *out)
{
    size_t in, a = from, end = from + n;
    int i = locate(iov, cnt, skip + from, &in);

    for (; i < cnt && a < end; i++, in = 0) {
        const unsigned char *p = (const unsigned char *)iov[i].iov_base + in;
        size_t len = iov[i].iov_len - in;

        if (len > end - a)
            len = end - a;
        while (len > 0) {
            const unsigned char *nl = memchr(p, '\n', len);
            size_t k;

            if (nl == NULL) {
                scan(&l->s, pos, p, len, a);
                a += len;
                break;
            }
            k = (size_t)(nl - p);
            scan(&l->s, pos, p, k, a);
            if (decide(&l->s, pos, ctx) == HOW_MISSED)
                out->missed++;
            memset(&l->s, 0, sizeof(l->s));
            *pos = pos_none;
            a += k + 1;
            p = nl + 1;
            len -= k + 1;
        }
    }
}

void ss_enrich_commit(ss_enrich_line_t *l, const ss_enrich_plan_t *pl, int planned,
                      const struct iovec *iov, int cnt, size_t skip, ssize_t r,
                      ss_enrich_result_t *out)
{
    ss_enrich_pos_t pos = pos_none;
    size_t left, app = 0, touched = NONE;
    int e;

    memset(out, 0, sizeof(*out));
    if (r < 0) {
        if (planned && pl->carry_len && l->carry_len == 0) {
            memcpy(l->carry, pl->carry, pl->carry_len);
            l->carry_len = pl->carry_len;
        }
        return;
    }
    if (!planned) {
        out->app = (size_t)r;
        out->whole = (size_t)r == pl->app;
        follow(l, &pos, pl->ctx, iov, cnt, skip, 0, (size_t)r, out);
        return;
    }
    left = (size_t)r;
    for (e = 0; e < pl->cnt && left > 0; e++) {
        size_t len = pl->iov[e].iov_len, take = len < left ? len : left;
        const char *base = pl->iov[e].iov_base;

        left -= take;
        if (pl->kind[e] == SS_ENRICH_APP) {
            app += take;
        } else if (take < len) { /* owed: first in the next write */
            memcpy(l->carry, base + take, len - take);
            l->carry_len = (uint8_t)(len - take);
            out->owed = 1;
        }
        if (pl->kind[e] == SS_ENRICH_FIELDS) {
            out->enriched++;
            touched = app;
        }
        if (take < len)
            break;
    }
    if (e == 0 && pl->cnt > 0 && pl->kind[0] == SS_ENRICH_CARRY && r == 0) {
        memcpy(l->carry, pl->carry, pl->carry_len); /* nothing taken: all still owed */
        l->carry_len = pl->carry_len;
    }
    out->whole = (size_t)r >= pl->len;
    out->app = app;
    if (touched == NONE) {
        follow(l, &pos, pl->ctx, iov, cnt, skip, 0, app, out);
        return;
    }
    /* The fields of the line unfinished at `touched` have gone (or are
     * owed): its end gets none again. */
    follow(l, &pos, pl->ctx, iov, cnt, skip, 0, touched, out);
    l->s.done = 1;
    follow(l, &pos, pl->ctx, iov, cnt, skip, touched, app - touched, out);
}
