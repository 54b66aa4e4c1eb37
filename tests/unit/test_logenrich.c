/*
 * test_logenrich.c - trace fields written into log lines
 * (preload/ss_logenrich.h, SPANSHIM_LOG_ENRICH) and the write that sends
 * them (ss_logcap_write).
 *
 * The plan and the commit are driven by a program that writes a stream
 * in pieces and a kernel that takes as much of each call as the test says
 * (all, a short count at every place, EAGAIN), the program writing again
 * from where it was told its bytes stopped, as a careful one does. What
 * came out is compared with the stream as each line should read: plain,
 * CRLF, JSON, an empty object, blank lines, a line with no end, a line
 * ended in a later write, a '}' or '\r' in an earlier write than its '\n'
 * (left as it is, counted), more lines in a write than a plan holds, a
 * writev of many pieces, and a line far over 8 KiB. At every split of the
 * stream into two and three writes (and into pieces of one writev), and
 * at every short count the kernel can give, the bytes are the same and
 * the program is told exactly its own.
 *
 * Through ss_logcap_write (records caught at the batcher's door): the
 * variable, on its own (no records) and with SPANSHIM_LOGS=all (a record
 * keeps the line as the program wrote it), a non-blocking fd's EAGAIN and
 * short writes, the counters, and owed fields lost at close.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../exporter/ex_batch.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_logcap.h"
#include "../../preload/ss_logenrich.h"
#include "../../preload/ss_logline.h"
#include "../../preload/ss_proto.h"
#include "../../preload/ss_serving.h"

static const ss_ctx_t CTX = {{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92,
                              0x9d, 0x0e, 0x0e, 0x47, 0x36},
                             {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
                             1,
                             1};

#define PLAIN " trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 trace_flags=01"
#define JSONB "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\"," \
              "\"trace_flags\":\"01\""
#define JSON "," JSONB

/* ---- the kernel and the program ------------------------------------------ */

#define OUTMAX (1 << 20)

static char out[OUTMAX];
static size_t outn;
static unsigned calls;
/* What the kernel takes at each call: a count, -1 for EAGAIN, then all. */
static long lims[4];
static int nlims, atlim;
static unsigned enriched, missed;

static void kernel_reset(void)
{
    outn = 0;
    calls = 0;
    nlims = atlim = 0;
    enriched = missed = 0;
}

static ssize_t kernel(const struct iovec *iov, int cnt)
{
    long lim = atlim < nlims ? lims[atlim++] : -2;
    size_t left = lim >= 0 ? (size_t)lim : SIZE_MAX, took = 0;
    int i;

    calls++;
    if (lim == -1) {
        errno = EAGAIN;
        return -1;
    }
    for (i = 0; i < cnt && left; i++) {
        size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;

        assert_true(outn + k <= OUTMAX);
        memcpy(out + outn, iov[i].iov_base, k);
        outn += k;
        took += k;
        left -= k;
    }
    return (ssize_t)took;
}

/* One write call, as ss_logcap_write makes it on a blocking fd: what the
 * program is told (-1: EAGAIN). */
static ssize_t one_write(ss_enrich_line_t *l, const ss_ctx_t *ctx, const struct iovec *iov,
                         int cnt)
{
    size_t total = 0, done = 0;
    ss_enrich_plan_t pl;
    ss_enrich_result_t res;
    int i;

    for (i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    for (;;) {
        int planned = ss_enrich_plan(l, ctx, iov, cnt, done, total - done, &pl);
        ssize_t r;

        if (planned) {
            size_t app = 0;

            for (i = 0; i < pl.cnt; i++) /* the plan holds its app bytes, in order */
                if (pl.kind[i] == SS_ENRICH_APP)
                    app += pl.iov[i].iov_len;
            assert_int_equal(app, pl.app);
            assert_true(pl.app > 0 && pl.app <= total - done);
            assert_true(pl.cnt <= SS_ENRICH_IOV);
        } else {
            assert_int_equal(done, 0);
        }
        r = planned ? kernel(pl.iov, pl.cnt) : kernel(iov, cnt);
        ss_enrich_commit(l, &pl, planned, iov, cnt, done, r, &res);
        enriched += res.enriched;
        missed += res.missed;
        if (r < 0)
            return done ? (ssize_t)done : -1;
        assert_true(res.app <= pl.app);
        done += res.app;
        if (done == total || (!res.whole && done > 0) || r == 0)
            return (ssize_t)done;
    }
}

/* The program writes n bytes of s as one write (again from where it was
 * told its bytes stopped, until all went). */
static void program(ss_enrich_line_t *l, const ss_ctx_t *ctx, const char *s, size_t n)
{
    size_t at = 0;
    int tries = 0;

    while (at < n) {
        struct iovec v = {(void *)(s + at), n - at};
        ssize_t k = one_write(l, ctx, &v, 1);

        assert_true(tries++ < 1000);
        if (k < 0)
            continue; /* EAGAIN: again later */
        assert_true((size_t)k <= n - at);
        at += (size_t)k;
    }
}

static void prog_str(ss_enrich_line_t *l, const ss_ctx_t *ctx, const char *s)
{
    program(l, ctx, s, strlen(s));
}

static void out_is(const char *want)
{
    size_t n = strlen(want);

    if (outn != n || memcmp(out, want, n) != 0) {
        print_error("got  [%.*s]\nwant [%s]\n", (int)outn, out, want);
        fail();
    }
}

/* ---- the fields ---------------------------------------------------------- */

static void format(void **state)
{
    char p[SS_ENRICH_FIELDS_MAX], j[SS_ENRICH_FIELDS_MAX];
    uint8_t pn, jn;
    ss_ctx_t c = CTX;

    (void)state;
    ss_enrich_format(&c, p, &pn, j, &jn);
    assert_string_equal(p, PLAIN);
    assert_string_equal(j, JSON);
    assert_int_equal(pn, strlen(PLAIN));
    assert_int_equal(jn, strlen(JSON));
    assert_true(jn < SS_ENRICH_FIELDS_MAX);
    c.flags = 0;
    ss_enrich_format(&c, p, &pn, j, &jn);
    assert_non_null(strstr(p, " trace_flags=00"));
}

/* ---- each form, written whole -------------------------------------------- */

static void forms(void **state)
{
    static const char *cases[][2] = {
        {"hello\n", "hello" PLAIN "\n"},
        {"hello\r\n", "hello" PLAIN "\r\n"},
        {"hello  \t\n", "hello  \t" PLAIN "\n"},
        {"{\"a\":1}\n", "{\"a\":1" JSON "}\n"},
        {"  { \"a\" : 1 }  \r\n", "  { \"a\" : 1 " JSON "}  \r\n"},
        {"{}\n", "{" JSONB "}\n"},
        {"{ }\n", "{ " JSONB "}\n"},
        {"\n", "\n"},
        {"   \n", "   \n"},
        {"\r\n", "\r\n"},
        {"{\"a\":1\n", "{\"a\":1" PLAIN "\n"},
        {"msg}\n", "msg}" PLAIN "\n"},
        {"no end yet", "no end yet"},
        {"a\nb\r\n\n{}\nlast", "a" PLAIN "\nb" PLAIN "\r\n\n{" JSONB "}\nlast"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ss_enrich_line_t l;

        ss_enrich_init(&l);
        kernel_reset();
        prog_str(&l, &CTX, cases[i][0]);
        out_is(cases[i][1]);
        assert_int_equal(calls, 1);
    }
}

/* ---- every split ----------------------------------------------------------- */

/* A stream of lines, each with where its fields go (p) and its '\n' (q). */
typedef struct line {
    const char *text, *enriched;
    size_t p, q;
} line_t;

static line_t L[6];
static int NL;
static char S[512];
static size_t SN, START[6];

static void add_line(const char *text, const char *enriched, const char *before)
{
    line_t *x = &L[NL];

    x->text = text;
    x->enriched = enriched;
    x->q = strlen(text) - 1;
    x->p = before ? (size_t)(strstr(text, before) - text) : x->q;
    START[NL] = SN;
    memcpy(S + SN, text, strlen(text));
    SN += strlen(text);
    NL++;
}

static int setup_stream(void **state)
{
    (void)state;
    NL = 0;
    SN = 0;
    add_line("plain line\r\n", "plain line" PLAIN "\r\n", "\r\n");
    add_line("{\"k\":\"v\"} \n", "{\"k\":\"v\"" JSON "} \n", "} \n");
    add_line("{}\n", "{" JSONB "}\n", "}\n");
    add_line("two words\n", "two words" PLAIN "\n", NULL);
    add_line("\n", "\n", NULL);
    return 0;
}

/* What the stream reads with writes ending at the bounds given: a line
 * whose insertion byte and '\n' are in different writes is as it was. */
static size_t expected(const size_t *bounds, int nb, char *w)
{
    size_t n = 0;
    int i, b;

    for (i = 0; i < NL; i++) {
        const line_t *x = &L[i];
        int split = 0;
        const char *t;

        for (b = 0; b < nb; b++)
            if (START[i] + x->p < bounds[b] && bounds[b] <= START[i] + x->q)
                split = 1;
        t = split ? x->text : x->enriched;
        memcpy(w + n, t, strlen(t));
        n += strlen(t);
    }
    return n;
}

static void expect_out(const char *w, size_t n)
{
    if (outn != n || memcmp(out, w, n) != 0) {
        print_error("got  [%.*s]\nwant [%.*s]\n", (int)outn, out, (int)n, w);
        fail();
    }
}

static void every_split_in_two_and_three_writes(void **state)
{
    static char w[4096];
    size_t k1, k2, n;

    (void)state;
    for (k1 = 0; k1 <= SN; k1++) {
        for (k2 = k1; k2 <= SN; k2++) {
            ss_enrich_line_t l;
            size_t bounds[2] = {k1, k2};
            unsigned want_missed = 0;
            int i, b;

            ss_enrich_init(&l);
            kernel_reset();
            program(&l, &CTX, S, k1);
            program(&l, &CTX, S + k1, k2 - k1);
            program(&l, &CTX, S + k2, SN - k2);
            n = expected(bounds, 2, w);
            expect_out(w, n);
            for (i = 0; i < NL; i++)
                for (b = 0; b < 2; b++)
                    if (START[i] + L[i].p < bounds[b] && bounds[b] <= START[i] + L[i].q &&
                        (b == 0 || bounds[0] <= START[i] + L[i].p)) {
                        want_missed++;
                        break;
                    }
            assert_int_equal(missed, want_missed);
        }
    }
}

/* The same splits as pieces of one writev: one write, so every line gets
 * its fields wherever the pieces end. */
static void every_split_in_writev_pieces(void **state)
{
    static char w[4096];
    size_t k1, k2, n = expected(NULL, 0, w);

    (void)state;
    for (k1 = 0; k1 <= SN; k1++) {
        for (k2 = k1; k2 <= SN; k2++) {
            struct iovec v[3] = {{S, k1}, {S + k1, k2 - k1}, {S + k2, SN - k2}};
            ss_enrich_line_t l;
            ssize_t r;

            ss_enrich_init(&l);
            kernel_reset();
            r = one_write(&l, &CTX, v, 3);
            assert_int_equal(r, SN);
            expect_out(w, n);
            assert_int_equal(enriched, 4);
            assert_int_equal(calls, 1);
        }
    }
}

/* The kernel takes a short count at every place of the plan, twice, or
 * says EAGAIN between: the same bytes, each set of fields once, and the
 * program told no more than its own. */
static void every_short_count(void **state)
{
    static char w[4096];
    size_t n = expected(NULL, 0, w), r1, r2;

    (void)state;
    for (r1 = 0; r1 <= n; r1++) {
        for (r2 = 0; r2 <= n - r1; r2 += (r1 % 7 == 0 ? 1 : 13)) {
            int mode;

            for (mode = 0; mode < 2; mode++) {
                ss_enrich_line_t l;

                ss_enrich_init(&l);
                kernel_reset();
                lims[0] = (long)r1;
                lims[1] = mode ? -1 : (long)r2;
                lims[2] = mode ? (long)r2 : -2;
                nlims = 3;
                program(&l, &CTX, S, SN);
                expect_out(w, n);
                assert_int_equal(l.carry_len, 0);
                assert_int_equal(l.s.has, 0);
            }
        }
    }
}

/* ---- between writes ------------------------------------------------------ */

static void line_ended_in_a_later_write(void **state)
{
    ss_enrich_line_t l;

    (void)state;
    ss_enrich_init(&l);
    kernel_reset();
    prog_str(&l, &CTX, "abc ");
    prog_str(&l, &CTX, "def");
    prog_str(&l, &CTX, "\nnext\n");
    out_is("abc def" PLAIN "\nnext" PLAIN "\n");
    /* a JSON line whose '}' comes with its '\n', begun writes before */
    ss_enrich_init(&l);
    kernel_reset();
    prog_str(&l, &CTX, "  {");
    prog_str(&l, &CTX, "\"a\":1");
    prog_str(&l, &CTX, "}\n");
    out_is("  {\"a\":1" JSON "}\n");
    ss_enrich_init(&l);
    kernel_reset();
    prog_str(&l, &CTX, "{ ");
    prog_str(&l, &CTX, "}\r\n");
    out_is("{ " JSONB "}\r\n");
}

static void end_byte_in_an_earlier_write(void **state)
{
    ss_enrich_line_t l;

    (void)state;
    ss_enrich_init(&l);
    kernel_reset();
    prog_str(&l, &CTX, "{\"a\":1}");
    prog_str(&l, &CTX, "\n");
    prog_str(&l, &CTX, "crlf\r");
    prog_str(&l, &CTX, "\n");
    prog_str(&l, &CTX, "fine\n");
    out_is("{\"a\":1}\ncrlf\r\nfine" PLAIN "\n");
    assert_int_equal(missed, 2);
    assert_int_equal(enriched, 1);
}

static void only_lines_ended_in_a_span(void **state)
{
    ss_enrich_line_t l;
    ss_enrich_plan_t pl;
    struct iovec v = {"outside\n", 8};

    (void)state;
    ss_enrich_init(&l);
    assert_int_equal(ss_enrich_plan(&l, NULL, &v, 1, 0, 8, &pl), 0); /* as it is */
    kernel_reset();
    prog_str(&l, NULL, "outside\n");
    prog_str(&l, NULL, "begun outside, ");
    prog_str(&l, &CTX, "ended inside\n");
    prog_str(&l, &CTX, "begun inside, ");
    prog_str(&l, NULL, "ended outside\n");
    out_is("outside\nbegun outside, ended inside" PLAIN "\nbegun inside, ended outside\n");
    assert_int_equal(missed, 0);
}

/* Fields cut by the kernel are owed, and go first even when the program
 * writes on outside any span, and the line's end gets no second set. */
static void owed_fields_go_first(void **state)
{
    ss_enrich_line_t l;
    struct iovec v = {"line\n", 5};
    ssize_t r;

    (void)state;
    ss_enrich_init(&l);
    kernel_reset();
    lims[0] = 4 + 10; /* "line" and 10 bytes of the fields */
    nlims = 1;
    r = one_write(&l, &CTX, &v, 1);
    assert_int_equal(r, 4);
    assert_int_equal(l.carry_len, strlen(PLAIN) - 10);
    assert_int_equal(l.s.done, 1);
    v.iov_base = "\n";
    v.iov_len = 1;
    r = one_write(&l, NULL, &v, 1);
    assert_int_equal(r, 1);
    out_is("line" PLAIN "\n");
    /* an error takes nothing: the carry stays owed */
    ss_enrich_init(&l);
    kernel_reset();
    lims[0] = 3;
    lims[1] = -1;
    nlims = 2;
    v.iov_base = "ab\n";
    v.iov_len = 3;
    assert_int_equal(one_write(&l, &CTX, &v, 1), 2);
    v.iov_base = "\n";
    v.iov_len = 1;
    assert_int_equal(one_write(&l, &CTX, &v, 1), -1);
    assert_int_equal(l.carry_len, strlen(PLAIN) - 1);
    assert_int_equal(one_write(&l, &CTX, &v, 1), 1);
    out_is("ab" PLAIN "\n");
}

/* ---- room ------------------------------------------------------------------ */

static void more_lines_than_a_plan_holds(void **state)
{
    static char in[2000], want[200 * (sizeof(PLAIN) + 8)];
    ss_enrich_line_t l;
    size_t n = 0, wn = 0;
    int i;

    (void)state;
    for (i = 0; i < 200; i++) {
        n += (size_t)sprintf(in + n, "l%d\n", i);
        wn += (size_t)sprintf(want + wn, "l%d" PLAIN "\n", i);
    }
    ss_enrich_init(&l);
    kernel_reset();
    {
        struct iovec v = {in, n};

        assert_int_equal(one_write(&l, &CTX, &v, 1), n); /* one call of the program's */
    }
    out_is(want);
    assert_true(calls > 200 / SS_ENRICH_POINTS);
    assert_int_equal(enriched, 200);
}

static void many_pieces_one_line(void **state)
{
    static struct iovec v[300];
    static char want[400];
    ss_enrich_line_t l;
    int i;

    (void)state;
    for (i = 0; i < 299; i++) {
        v[i].iov_base = "x";
        v[i].iov_len = 1;
        want[i] = 'x';
    }
    v[299].iov_base = "\n";
    v[299].iov_len = 1;
    strcpy(want + 299, PLAIN "\n");
    ss_enrich_init(&l);
    kernel_reset();
    assert_int_equal(one_write(&l, &CTX, v, 300), 300);
    out_is(want);
    assert_int_equal(enriched, 1);
    /* and pieces with a line in each */
    for (i = 0; i < 300; i++) {
        v[i].iov_base = i % 2 ? "\n" : "y";
        v[i].iov_len = 1;
    }
    ss_enrich_init(&l);
    kernel_reset();
    assert_int_equal(one_write(&l, &CTX, v, 300), 300);
    assert_int_equal(enriched, 150);
    assert_int_equal(outn, 150 * (2 + strlen(PLAIN)));
}

static void a_line_far_over_8k(void **state)
{
    static char in[3 * SS_LOGLINE_MAX], want[3 * SS_LOGLINE_MAX + 200];
    ss_enrich_line_t l;
    size_t n = sizeof(in) - 1;

    (void)state;
    memset(in, 'z', n);
    in[0] = '{';
    in[n - 2] = '}';
    in[n - 1] = '\n';
    memcpy(want, in, n - 2);
    sprintf(want + n - 2, "%s}\n", JSON);
    ss_enrich_init(&l);
    kernel_reset();
    program(&l, &CTX, in, SS_LOGLINE_MAX);        /* in two writes */
    program(&l, &CTX, in + SS_LOGLINE_MAX, n - SS_LOGLINE_MAX);
    assert_int_equal(outn, strlen(want));
    assert_memory_equal(out, want, outn);
}

/* ---- through ss_logcap_write --------------------------------------------- */

#define MAXREC 16
static char bodies[MAXREC][256];
static ss_ctx_t bodyctx[MAXREC];
static int ngot;

void __wrap_ex_batch_add_log(const ss_logrec_t *r);
void __wrap_ex_batch_add_log(const ss_logrec_t *r)
{
    assert_true(ngot < MAXREC);
    assert_true(r->body_len < sizeof(bodies[0]));
    memcpy(bodies[ngot], r->body, r->body_len);
    bodies[ngot][r->body_len] = '\0';
    bodyctx[ngot] = r->ctx;
    ngot++;
}

static ssize_t fake_fn(void *arg, const struct iovec *iov, int cnt)
{
    (void)arg;
    return kernel(iov, cnt);
}

static ssize_t lw(int fd, const char *s)
{
    struct iovec v = {(void *)s, strlen(s)};

    return ss_logcap_write(fd, &v, 1, fake_fn, NULL);
}

static uint16_t slot;

static void in_span(void)
{
    ss_ctx_t c = CTX;

    slot = ss_serving_begin();
    ss_conn_serving(&c, "", 0);
}

static int teardown_fd(void **state)
{
    (void)state;
    ss_logcap_closed_range(0, SS_LOGCAP_FDS);
    ss_conn_thread_reset();
    ss_logcap_configure(NULL, NULL);
    return 0;
}

static void configure_variable(void **state)
{
    (void)state;
    assert_int_equal(ss_logcap_configure(NULL, NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich(NULL), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_OFF);
    assert_int_equal(ss_logcap_enrich, 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_FDS); /* log fds followed, no records */
    assert_int_equal(ss_logcap_enrich, 1);
    assert_false(ss_logcap_records());
    assert_int_equal(ss_logcap_configure_enrich("yes please"), -1);
    assert_int_equal(ss_logcap_enrich, 0);
    assert_int_equal(ss_logcap_configure("span", NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_SPAN);
    assert_true(ss_logcap_records());
    assert_int_equal(ss_logcap_configure_enrich("off"), 0);
    assert_int_equal(ss_logcap_enrich, 0);
    /* configuring the capture again turns it off (set it after) */
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    assert_int_equal(ss_logcap_configure("span", NULL), 0);
    assert_int_equal(ss_logcap_enrich, 0);
}

static void enrich_alone_makes_no_record(void **state)
{
    uint64_t before = ss_count.logs_enriched;

    (void)state;
    ngot = 0;
    assert_int_equal(ss_logcap_configure(NULL, NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    ss_logcap_opened(40, AT_FDCWD, "/tmp/app.log", O_WRONLY);
    assert_true(ss_logcap_is_log(40));
    kernel_reset();
    assert_int_equal(lw(40, "before\n"), 7);
    in_span();
    assert_int_equal(lw(40, "inside\n{\"a\":2}\n"), 15);
    ss_serving_end(slot);
    assert_int_equal(lw(40, "after\n"), 6);
    out_is("before\ninside" PLAIN "\n{\"a\":2" JSON "}\nafter\n");
    assert_int_equal(ss_count.logs_enriched, before + 2);
    assert_int_equal(ngot, 0);
    /* a file that is not a log is not looked at */
    ss_logcap_opened(41, AT_FDCWD, "/tmp/app.bin", O_WRONLY);
    assert_false(ss_logcap_is_log(41));
}

static void records_keep_the_line_as_written(void **state)
{
    (void)state;
    ngot = 0;
    assert_int_equal(ss_logcap_configure("all", NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    ss_logcap_opened(42, AT_FDCWD, "/tmp/app.log", O_WRONLY);
    kernel_reset();
    in_span();
    lims[0] = 8; /* "{\"a\":2" and the first byte of the fields: one short write */
    nlims = 1;
    assert_int_equal(lw(42, "{\"a\":2}\n"), 6);
    assert_int_equal(ngot, 0);
    assert_int_equal(lw(42, "}\n"), 2);
    ss_serving_end(slot);
    lw(42, "out\n");
    out_is("{\"a\":2" JSON "}\nout\n");
    assert_int_equal(ngot, 2);
    assert_string_equal(bodies[0], "{\"a\":2}");
    assert_memory_equal(bodyctx[0].span_id, CTX.span_id, 8);
    assert_string_equal(bodies[1], "out");
    assert_false(bodyctx[1].valid);
}

static void nonblocking_eagain_and_short(void **state)
{
    int p[2];
    uint64_t lost = ss_count.logs_enrich_lost, owed = ss_count.logs_enrich_owed;

    (void)state;
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    assert_int_equal(ss_logcap_configure(NULL, NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    ss_logcap_opened(p[1], AT_FDCWD, "/tmp/pipe.log", O_WRONLY);
    kernel_reset();
    in_span();
    /* the kernel takes the line and 3 bytes of its fields: told 2 */
    lims[0] = 5;
    lims[1] = -1; /* the fd is full: nothing more */
    lims[2] = 2;  /* the owed fields only, in part */
    nlims = 3;    /* then all */
    assert_int_equal(lw(p[1], "ok\n"), 2);
    assert_int_equal(ss_count.logs_enrich_owed, owed + 1);
    errno = 0;
    assert_int_equal(lw(p[1], "\n"), -1);
    assert_int_equal(errno, EAGAIN);
    errno = 0;
    assert_int_equal(lw(p[1], "\n"), -1); /* only owed bytes went: EAGAIN */
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(lw(p[1], "\n"), 1);
    /* a plan with no room for all: the non-blocking fd is told part */
    {
        static char many[1000];
        size_t n = 0;
        ssize_t r;
        int i;

        for (i = 0; i < 100; i++)
            n += (size_t)sprintf(many + n, "m%02d\n", i);
        r = lw(p[1], many);
        assert_true(r > 0 && (size_t)r < n && many[r - 1] == '\n');
        while ((size_t)r < n) {
            ssize_t k = lw(p[1], many + r);

            assert_true(k > 0);
            r += k;
        }
    }
    ss_serving_end(slot);
    assert_int_equal(memcmp(out, "ok" PLAIN "\n", 3 + strlen(PLAIN)), 0);
    /* owed fields at close: lost, counted */
    in_span();
    kernel_reset();
    lims[0] = 4;
    nlims = 1;
    assert_int_equal(lw(p[1], "zz\n"), 2);
    ss_serving_end(slot);
    ss_logcap_closed(p[1]);
    assert_int_equal(ss_count.logs_enrich_lost, lost + 1);
    close(p[0]);
    close(p[1]);
}

static void errors_as_they_were(void **state)
{
    (void)state;
    assert_int_equal(ss_logcap_configure(NULL, NULL), 0);
    assert_int_equal(ss_logcap_configure_enrich("on"), 0);
    ss_logcap_opened(43, AT_FDCWD, "/tmp/e.log", O_WRONLY);
    in_span();
    kernel_reset();
    lims[0] = -1;
    nlims = 1;
    errno = 0;
    assert_int_equal(lw(43, "x\n"), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(outn, 0);
    /* nothing to write: the call as it was */
    kernel_reset();
    assert_int_equal(lw(43, ""), 0);
    assert_int_equal(calls, 1);
    ss_serving_end(slot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format),
        cmocka_unit_test(forms),
        cmocka_unit_test_setup(every_split_in_two_and_three_writes, setup_stream),
        cmocka_unit_test_setup(every_split_in_writev_pieces, setup_stream),
        cmocka_unit_test_setup(every_short_count, setup_stream),
        cmocka_unit_test(line_ended_in_a_later_write),
        cmocka_unit_test(end_byte_in_an_earlier_write),
        cmocka_unit_test(only_lines_ended_in_a_span),
        cmocka_unit_test(owed_fields_go_first),
        cmocka_unit_test(more_lines_than_a_plan_holds),
        cmocka_unit_test(many_pieces_one_line),
        cmocka_unit_test(a_line_far_over_8k),
        cmocka_unit_test_teardown(configure_variable, teardown_fd),
        cmocka_unit_test_teardown(enrich_alone_makes_no_record, teardown_fd),
        cmocka_unit_test_teardown(records_keep_the_line_as_written, teardown_fd),
        cmocka_unit_test_teardown(nonblocking_eagain_and_short, teardown_fd),
        cmocka_unit_test_teardown(errors_as_they_were, teardown_fd),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
