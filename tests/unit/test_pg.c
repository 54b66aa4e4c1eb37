/*
 * test_pg.c - the PostgreSQL protocol follower on conversations written
 * from the protocol's documentation, each fed whole, split in two at every
 * byte of every segment, and byte by byte: the operations reported (and
 * when), the reasons a stream is let go, and the FIFO's bound.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_pg.h"
#include "pg_pgbench.h"

#define OUT SS_DB_OUT
#define IN SS_DB_IN

typedef struct {
    ss_db_dir_t dir;
    uint8_t b[4096];
    size_t n;
} seg_t;

typedef struct {
    seg_t seg[80];
    size_t n;
} conv_t;

/* ---- building conversations ---------------------------------------------- */

static seg_t *seg_for(conv_t *c, ss_db_dir_t dir)
{
    if (c->n == 0 || c->seg[c->n - 1].dir != dir) {
        assert_true(c->n < 80);
        c->seg[c->n].dir = dir;
        c->seg[c->n].n = 0;
        c->n++;
    }
    return &c->seg[c->n - 1];
}

static void put(seg_t *s, const void *p, size_t n)
{
    assert_true(s->n + n <= sizeof(s->b));
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void put32(seg_t *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    put(s, b, 4);
}

/* A message; type 0: untyped (the startup phase). */
static void msg(conv_t *c, ss_db_dir_t dir, char type, const void *body, size_t len)
{
    seg_t *s = seg_for(c, dir);

    if (type)
        put(s, &type, 1);
    put32(s, (uint32_t)len + 4);
    put(s, body, len);
}

#define M(c, dir, type, lit) msg(c, dir, type, lit, sizeof(lit) - 1)

static void startup(conv_t *c)
{
    M(c, OUT, 0, "\0\3\0\0user\0app\0database\0shop\0application_name\0psql\0\0");
    M(c, IN, 'R', "\0\0\0\12SCRAM-SHA-256\0\0");
    M(c, OUT, 'p', "SCRAM-SHA-256\0\0\0\0\40n,,n=,r=secretnonce0123456789xy");
    M(c, IN, 'R', "\0\0\0\13r=secretnonce");
    M(c, OUT, 'p', "c=biws,r=secretnonce,p=secretproof");
    M(c, IN, 'R', "\0\0\0\14v=secretsig");
    M(c, IN, 'R', "\0\0\0\0");
    M(c, IN, 'S', "server_version\00016.2\0");
    M(c, IN, 'K', "\0\0\4\322\1\2\3\4");
    M(c, IN, 'Z', "I");
}

static void rows(conv_t *c, const char *tag, size_t tag_len)
{
    M(c, IN, 'T', "\0\1id\0\0\0@\1\0\1\0\0\0\27\0\4\377\377\377\377\0\0");
    M(c, IN, 'D', "\0\1\0\0\0\6secret");
    M(c, IN, 'D', "\0\1\0\0\0\6secret");
    msg(c, IN, 'C', tag, tag_len);
}

#define ROWS(c, lit) rows(c, lit, sizeof(lit) - 1)

/* ParseComplete, BindComplete */
static void parsed_and_bound(conv_t *c)
{
    M(c, IN, '1', "");
    M(c, IN, '2', "");
}

/* ---- feeding ------------------------------------------------------------- */

static char log_buf[16384];
static size_t log_len;
static uint64_t next_tag;
static unsigned starts, dones;

static void logf_(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_len += (size_t)vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
    va_end(ap);
    assert_true(log_len < sizeof(log_buf));
}

static uint64_t on_start(void *arg)
{
    (void)arg;
    starts++;
    logf_("start %llu\n", (unsigned long long)++next_tag);
    return next_tag;
}

static void bounded(const char *f, size_t cap)
{
    assert_non_null(memchr(f, '\0', cap));
}

static void on_done(void *arg, const ss_db_op_t *op)
{
    (void)arg;
    dones++;
    bounded(op->operation, sizeof(op->operation));
    bounded(op->collection, sizeof(op->collection));
    bounded(op->namespace_, sizeof(op->namespace_));
    bounded(op->query_text, sizeof(op->query_text));
    bounded(op->summary, sizeof(op->summary));
    bounded(op->status_code, sizeof(op->status_code));
    logf_("done %llu ns=%s op=%s coll=%s sum=%s text=%s", (unsigned long long)op->tag,
          op->namespace_, op->operation, op->collection, op->summary, op->query_text);
    if (op->error)
        logf_(" error=%s", op->status_code);
    if (op->batch_size)
        logf_(" batch=%u", op->batch_size);
    logf_("\n");
}

static const ss_db_sink_t sink = {NULL, on_start, on_done, NULL};
static ss_pg_t pg;

static void reset(void)
{
    log_len = 0;
    log_buf[0] = '\0';
    next_tag = 0;
    starts = dones = 0;
    ss_pg_init(&pg);
}

/* Feed segment k's bytes in pieces of at most `step` (0: whole) or split
 * once at `cut`; returns the last feed's result. */
static int feed_seg(const seg_t *s, size_t cut, size_t step)
{
    size_t at = 0;
    int go = 1;

    if (step == 0 && cut > 0 && cut < s->n) {
        go = ss_pg_feed(&pg, s->dir, s->b, cut, &sink);
        return go ? ss_pg_feed(&pg, s->dir, s->b + cut, s->n - cut, &sink) : go;
    }
    if (step == 0)
        return ss_pg_feed(&pg, s->dir, s->b, s->n, &sink);
    for (at = 0; at < s->n && go; at += step)
        go = ss_pg_feed(&pg, s->dir, s->b + at, s->n - at < step ? s->n - at : step, &sink);
    return go;
}

/* The conversation fed with segment `split` cut at `cut` (or all by `step`). */
static int run(const conv_t *c, size_t split, size_t cut, size_t step)
{
    size_t k;
    int go = 1;

    reset();
    for (k = 0; k < c->n && go; k++)
        go = feed_seg(&c->seg[k], k == split ? cut : 0, step);
    return go;
}

/* Every way of feeding gives the same log and result as the whole; the
 * whole gives `want`. */
static void expect(const conv_t *c, int want_go, const char *why, const char *want)
{
    static char whole[sizeof(log_buf)];
    size_t k, cut;
    int go = run(c, (size_t)-1, 0, 0);

    assert_int_equal(go, want_go);
    if (why)
        assert_string_equal(ss_pg_why(&pg), why);
    else
        assert_null(ss_pg_why(&pg));
    assert_string_equal(log_buf, want);
    memcpy(whole, log_buf, log_len + 1);
    assert_int_equal(run(c, (size_t)-1, 0, 1), go);
    assert_string_equal(log_buf, whole);
    for (k = 0; k < c->n; k++)
        for (cut = 1; cut < c->seg[k].n; cut++) {
            assert_int_equal(run(c, k, cut, 0), go);
            assert_string_equal(log_buf, whole);
        }
    /* nothing secret kept anywhere in the state */
    assert_null(memmem(&pg, sizeof(pg), "secret", 6));
}

/* ---- conversations --------------------------------------------------------- */

static void test_simple_query(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    M(&c, OUT, 'Q', "SELECT name FROM users WHERE email = 'secret@example.com'\0");
    ROWS(&c, "SELECT 2\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op=SELECT coll=users sum=SELECT users text=SELECT name FROM users "
           "WHERE email = ?\n");
}

static void test_error_and_notice(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    M(&c, OUT, 'Q', "SELECT * FROM nope\0");
    M(&c, IN, 'E', "SERROR\0VERROR\0C42P01\0Mrelation \"nope\" does not exist\0P15\0\0");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'Q', "DROP TABLE IF EXISTS gone\0");
    M(&c, IN, 'N', "SNOTICE\0VNOTICE\0C00000\0Mtable \"gone\" does not exist, skipping\0\0");
    M(&c, IN, 'C', "DROP TABLE\0");
    M(&c, IN, 'Z', "I");
    M(&c, IN, 'A', "\0\0\0\1chan\0payload secret\0"); /* a notification: no span */
    M(&c, OUT, 'Q', "\0");
    M(&c, IN, 'I', "");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op=SELECT coll=nope sum=SELECT nope text=SELECT * FROM nope "
           "error=42P01\n"
           "start 2\n"
           "done 2 ns=shop op=DROP TABLE coll=gone sum=DROP TABLE gone text=DROP TABLE IF "
           "EXISTS gone\n"
           "start 3\n"
           "done 3 ns=shop op= coll= sum= text=\n");
}

static void test_multi_statement(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    M(&c, OUT, 'Q', "BEGIN; SELECT 1; COMMIT\0");
    M(&c, IN, 'C', "BEGIN\0");
    ROWS(&c, "SELECT 1\0");
    M(&c, IN, 'C', "COMMIT\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op= coll= sum=BEGIN SELECT COMMIT text=BEGIN; SELECT ?; COMMIT "
           "batch=3\n");
}

static void test_extended_unnamed(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    M(&c, OUT, 'P', "\0SELECT * FROM t WHERE id = $1 AND kind = 'a'\0\0\1\0\0\0\27");
    M(&c, OUT, 'B', "\0\0\0\1\0\0\0\1\0\0\0\6secret\0\1\0\0");
    M(&c, OUT, 'D', "P\0");
    M(&c, OUT, 'E', "\0\0\0\0\0");
    M(&c, OUT, 'S', "");
    parsed_and_bound(&c);
    ROWS(&c, "SELECT 2\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op=SELECT coll=t sum=SELECT t text=SELECT * FROM t WHERE id = $1 "
           "AND kind = 'a'\n");
}

static void test_extended_named(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    /* prepared alone: a span to its ReadyForQuery */
    M(&c, OUT, 'P', "s1\0UPDATE t SET a = $1 WHERE id = $2\0\0\0");
    M(&c, OUT, 'D', "Ss1\0");
    M(&c, OUT, 'S', "");
    M(&c, IN, '1', "");
    M(&c, IN, 't', "\0\2\0\0\0\27\0\0\0\27");
    M(&c, IN, 'n', "");
    M(&c, IN, 'Z', "I");
    /* executed twice by name on a named portal */
    M(&c, OUT, 'B', "p1\0s1\0\0\0\0\2\0\0\0\1" "1\0\0\0\6secret\0\0");
    M(&c, OUT, 'E', "p1\0\0\0\0\0");
    M(&c, OUT, 'S', "");
    M(&c, IN, '2', "");
    M(&c, IN, 'C', "UPDATE 1\0");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'B', "\0s1\0\0\0\0\2\0\0\0\1" "2\0\0\0\6secret\0\0");
    M(&c, OUT, 'E', "\0\0\0\0\0");
    M(&c, OUT, 'S', "");
    M(&c, IN, '2', "");
    M(&c, IN, 'C', "UPDATE 0\0");
    M(&c, IN, 'Z', "I");
    /* closed, then bound again: not known any more */
    M(&c, OUT, 'C', "Ss1\0");
    M(&c, OUT, 'S', "");
    M(&c, IN, '3', "");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'B', "\0s1\0\0\0\0\0\0\0");
    M(&c, OUT, 'E', "\0\0\0\0\0");
    M(&c, OUT, 'S', "");
    M(&c, IN, 'E', "SERROR\0VERROR\0C26000\0Mprepared statement \"s1\" does not exist\0\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op=UPDATE coll=t sum=UPDATE t text=UPDATE t SET a = $1 WHERE id = $2\n"
           "start 2\n"
           "done 2 ns=shop op=UPDATE coll=t sum=UPDATE t text=UPDATE t SET a = $1 WHERE id = $2\n"
           "start 3\n"
           "done 3 ns=shop op=UPDATE coll=t sum=UPDATE t text=UPDATE t SET a = $1 WHERE id = $2\n"
           "start 4\n"
           "done 4 ns=shop op= coll= sum= text= error=26000\n");
}

static void pipelined(conv_t *c)
{
    startup(c);
    M(c, OUT, 'P', "\0INSERT INTO a (x) VALUES ($1)\0\0\0");
    M(c, OUT, 'B', "\0\0\0\0\0\1\0\0\0\6secret\0\0");
    M(c, OUT, 'E', "\0\0\0\0\0");
    M(c, OUT, 'P', "\0SELECT x FROM b\0\0\0");
    M(c, OUT, 'B', "\0\0\0\0\0\0\0\0");
    M(c, OUT, 'D', "P\0");
    M(c, OUT, 'E', "\0\0\0\0\0");
    M(c, OUT, 'S', "");
}

static void test_pipelined(void **state)
{
    conv_t c = {0};

    (void)state;
    pipelined(&c);
    parsed_and_bound(&c);
    M(&c, IN, 'C', "INSERT 0 1\0");
    parsed_and_bound(&c);
    ROWS(&c, "SELECT 2\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "start 2\n"
           "done 1 ns=shop op=INSERT coll=a sum=INSERT a text=INSERT INTO a (x) VALUES ($1)\n"
           "done 2 ns=shop op=SELECT coll=b sum=SELECT b text=SELECT x FROM b\n");
}

static void test_pipelined_error_skips_to_sync(void **state)
{
    conv_t c = {0};

    (void)state;
    pipelined(&c);
    parsed_and_bound(&c);
    M(&c, IN, 'E', "SERROR\0VERROR\0C23505\0Mduplicate key\0Dsecret\0\0");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'Q', "SELECT 1\0");
    ROWS(&c, "SELECT 1\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "start 2\n"
           "done 1 ns=shop op=INSERT coll=a sum=INSERT a text=INSERT INTO a (x) VALUES ($1) "
           "error=23505\n"
           "done 2 ns=shop op=SELECT coll=b sum=SELECT b text=SELECT x FROM b error=23505\n"
           "start 3\n"
           "done 3 ns=shop op=SELECT coll= sum=SELECT text=SELECT ?\n");
}

static void test_copy(void **state)
{
    conv_t c = {0};

    (void)state;
    startup(&c);
    M(&c, OUT, 'Q', "COPY t (a, b) FROM STDIN\0");
    M(&c, IN, 'G', "\0\0\2\0\0\0\0");
    M(&c, OUT, 'd', "1\tsecret\n");
    M(&c, OUT, 'd', "2\tsecret\n");
    M(&c, OUT, 'c', "");
    M(&c, IN, 'C', "COPY 2\0");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'Q', "COPY t TO STDOUT\0");
    M(&c, IN, 'H', "\0\0\2\0\0\0\0");
    M(&c, IN, 'd', "1\tsecret\n");
    M(&c, IN, 'c', "");
    M(&c, IN, 'C', "COPY 1\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL,
           "start 1\n"
           "done 1 ns=shop op=COPY coll=t sum=COPY t text=COPY t (a, b) FROM STDIN\n"
           "start 2\n"
           "done 2 ns=shop op=COPY coll=t sum=COPY t text=COPY t TO STDOUT\n");
}

static void test_ssl_refused_then_clear(void **state)
{
    conv_t c = {0};

    (void)state;
    M(&c, OUT, 0, "\x04\xd2\x16\x2f"); /* SSLRequest */
    put(seg_for(&c, IN), "N", 1);
    M(&c, OUT, 0, "\x04\xd2\x16\x30"); /* GSSENCRequest */
    put(seg_for(&c, IN), "N", 1);
    startup(&c);
    M(&c, OUT, 'Q', "SELECT 1\0");
    ROWS(&c, "SELECT 1\0");
    M(&c, IN, 'Z', "I");
    expect(&c, 1, NULL, "start 1\ndone 1 ns=shop op=SELECT coll= sum=SELECT text=SELECT ?\n");
}

static void test_let_go(void **state)
{
    conv_t c = {0};

    (void)state;
    M(&c, OUT, 0, "\x04\xd2\x16\x2f");
    put(seg_for(&c, IN), "S", 1);
    put(seg_for(&c, OUT), "\x16\x03\x01", 3); /* a TLS ClientHello */
    expect(&c, 0, "tls", "");
    memset(&c, 0, sizeof(c));
    M(&c, OUT, 0, "\x04\xd2\x16\x30");
    put(seg_for(&c, IN), "G", 1);
    expect(&c, 0, "gssenc", "");
    memset(&c, 0, sizeof(c));
    M(&c, OUT, 0, "\x04\xd2\x16\x2e\0\0\4\322\1\2\3\4"); /* CancelRequest */
    expect(&c, 0, "cancel", "");
    memset(&c, 0, sizeof(c));
    M(&c, OUT, 0, "\0\2\0\0user\0x\0\0"); /* protocol 2 */
    expect(&c, 0, "protocol", "");
    memset(&c, 0, sizeof(c));
    startup(&c);
    put(seg_for(&c, OUT), "Q\0\0\0\3", 5); /* a length below 4 */
    expect(&c, 0, "corrupt", "start 1\n");
    memset(&c, 0, sizeof(c));
    startup(&c);
    put(seg_for(&c, IN), "D\x7f\xff\xff\xff", 5); /* absurd */
    expect(&c, 0, "corrupt", "");
    memset(&c, 0, sizeof(c));
    startup(&c);
    put(seg_for(&c, OUT), "?\0\0\0\4", 5); /* no such client message */
    expect(&c, 0, "corrupt", "");
    /* once let go, always */
    assert_int_equal(ss_pg_feed(&pg, OUT, (const uint8_t *)"Q", 1, &sink), 0);
}

static void test_fifo_bound(void **state)
{
    conv_t c = {0};
    unsigned k;

    (void)state;
    startup(&c);
    for (k = 0; k < 10; k++) {
        M(&c, OUT, 'B', "\0\0\0\0\0\0\0\0");
        M(&c, OUT, 'E', "\0\0\0\0\0");
    }
    M(&c, OUT, 'S', "");
    for (k = 0; k < 10; k++)
        M(&c, IN, 'C', "SELECT 0\0");
    M(&c, IN, 'Z', "I");
    M(&c, OUT, 'Q', "SELECT 1\0");
    ROWS(&c, "SELECT 1\0");
    M(&c, IN, 'Z', "I");
    run(&c, (size_t)-1, 0, 0);
    /* 7 traced (each keeps room for a Sync after it), 3 counted, then tracing again */
    assert_int_equal(starts, 8);
    assert_int_equal(dones, 8);
    assert_int_equal(pg.untraced, 3);
    assert_non_null(strstr(log_buf, "done 8 ns=shop op=SELECT coll= sum=SELECT text=SELECT ?\n"));
}

/* What the recorded pgbench run reports (test_recorded_pgbench). */
#define RECORDED_WANT \
    "start 1\n" \
    "done 1 ns=bench op=BEGIN coll= sum=BEGIN text=BEGIN;\n" \
    "start 2\n" \
    "done 2 ns=bench op=BEGIN coll= sum=BEGIN text=BEGIN;\n" \
    "start 3\n" \
    "done 3 ns=bench op=UPDATE coll=pgbench_accounts sum=UPDATE pgbench_accounts text=UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\n" \
    "start 4\n" \
    "done 4 ns=bench op=UPDATE coll=pgbench_accounts sum=UPDATE pgbench_accounts text=UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\n" \
    "start 5\n" \
    "done 5 ns=bench op=SELECT coll=pgbench_accounts sum=SELECT pgbench_accounts text=SELECT abalance FROM pgbench_accounts WHERE aid = $1;\n" \
    "start 6\n" \
    "done 6 ns=bench op=SELECT coll=pgbench_accounts sum=SELECT pgbench_accounts text=SELECT abalance FROM pgbench_accounts WHERE aid = $1;\n" \
    "start 7\n" \
    "done 7 ns=bench op=UPDATE coll=pgbench_tellers sum=UPDATE pgbench_tellers text=UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\n" \
    "start 8\n" \
    "done 8 ns=bench op=UPDATE coll=pgbench_tellers sum=UPDATE pgbench_tellers text=UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\n" \
    "start 9\n" \
    "done 9 ns=bench op=UPDATE coll=pgbench_branches sum=UPDATE pgbench_branches text=UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\n" \
    "start 10\n" \
    "done 10 ns=bench op=UPDATE coll=pgbench_branches sum=UPDATE pgbench_branches text=UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\n" \
    "start 11\n" \
    "done 11 ns=bench op=INSERT coll=pgbench_history sum=INSERT pgbench_history text=INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);\n" \
    "start 12\n" \
    "done 12 ns=bench op=INSERT coll=pgbench_history sum=INSERT pgbench_history text=INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);\n" \
    "start 13\n" \
    "done 13 ns=bench op=END coll= sum=END text=END;\n" \
    "start 14\n" \
    "done 14 ns=bench op=END coll= sum=END text=END;\n" \
    "start 15\n" \
    "done 15 ns=bench op=BEGIN coll= sum=BEGIN text=BEGIN;\n" \
    "start 16\n" \
    "done 16 ns=bench op=UPDATE coll=pgbench_accounts sum=UPDATE pgbench_accounts text=UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\n" \
    "start 17\n" \
    "done 17 ns=bench op=SELECT coll=pgbench_accounts sum=SELECT pgbench_accounts text=SELECT abalance FROM pgbench_accounts WHERE aid = $1;\n" \
    "start 18\n" \
    "done 18 ns=bench op=UPDATE coll=pgbench_tellers sum=UPDATE pgbench_tellers text=UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\n" \
    "start 19\n" \
    "done 19 ns=bench op=UPDATE coll=pgbench_branches sum=UPDATE pgbench_branches text=UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\n" \
    "start 20\n" \
    "done 20 ns=bench op=INSERT coll=pgbench_history sum=INSERT pgbench_history text=INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);\n" \
    "start 21\n" \
    "done 21 ns=bench op=END coll= sum=END text=END;\n" \
    "start 22\n" \
    "done 22 ns=bench op=BEGIN coll= sum=BEGIN text=BEGIN;\n" \
    "start 23\n" \
    "done 23 ns=bench op=UPDATE coll=pgbench_accounts sum=UPDATE pgbench_accounts text=UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\n" \
    "start 24\n" \
    "done 24 ns=bench op=SELECT coll=pgbench_accounts sum=SELECT pgbench_accounts text=SELECT abalance FROM pgbench_accounts WHERE aid = $1;\n" \
    "start 25\n" \
    "done 25 ns=bench op=UPDATE coll=pgbench_tellers sum=UPDATE pgbench_tellers text=UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\n" \
    "start 26\n" \
    "done 26 ns=bench op=UPDATE coll=pgbench_branches sum=UPDATE pgbench_branches text=UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\n" \
    "start 27\n" \
    "done 27 ns=bench op=INSERT coll=pgbench_history sum=INSERT pgbench_history text=INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);\n" \
    "start 28\n" \
    "done 28 ns=bench op=END coll= sum=END text=END;\n"

/* pgbench's prepared mode: each statement prepared once in a round trip
 * of its own (Parse, Sync: a span to its ReadyForQuery), then executed by
 * name; the SSLRequest refused. */
static void test_recorded_pgbench(void **state)
{
    static conv_t c;
    size_t k;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (k = 0; k < sizeof(pgbench_prepared) / sizeof(*pgbench_prepared); k++)
        put(seg_for(&c, pgbench_prepared[k].in ? IN : OUT), pgbench_prepared[k].b,
            pgbench_prepared[k].n);
    expect(&c, 1, NULL, RECORDED_WANT);
    assert_int_equal(starts, 28);
    assert_int_equal(dones, 28);
}

static void test_detect(void **state)
{
    static const uint8_t startup_msg[] = {0, 0, 0, 40, 0, 3, 0, 0, 'u'};
    static const uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    static const uint8_t gss[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};
    static const uint8_t cancel[] = {0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e};

    (void)state;
    assert_int_equal(ss_pg_detect(startup_msg, sizeof(startup_msg), OUT), 1);
    assert_int_equal(ss_pg_detect(ssl, 8, OUT), 1);
    assert_int_equal(ss_pg_detect(gss, 8, OUT), 1);
    assert_int_equal(ss_pg_detect(cancel, 8, OUT), 1);
    assert_int_equal(ss_pg_detect(startup_msg, 5, OUT), -1);
    assert_int_equal(ss_pg_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, OUT), 0);
    assert_int_equal(ss_pg_detect((const uint8_t *)"*1\r\n$4\r\nPING\r\n", 14, OUT), 0);
    assert_int_equal(ss_pg_detect((const uint8_t *)"\0\0\0\10\0\2\0\0", 8, OUT), 0);
    assert_int_equal(ss_pg_detect((const uint8_t *)"E\0\0\0\10", 5, IN), 1);
    assert_int_equal(ss_pg_detect((const uint8_t *)"HTTP/", 5, IN), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_query),
        cmocka_unit_test(test_error_and_notice),
        cmocka_unit_test(test_multi_statement),
        cmocka_unit_test(test_extended_unnamed),
        cmocka_unit_test(test_extended_named),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_pipelined_error_skips_to_sync),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_ssl_refused_then_clear),
        cmocka_unit_test(test_let_go),
        cmocka_unit_test(test_fifo_bound),
        cmocka_unit_test(test_recorded_pgbench),
        cmocka_unit_test(test_detect),
    };

    return cmocka_run_group_tests_name("pg", tests, NULL, NULL);
}
