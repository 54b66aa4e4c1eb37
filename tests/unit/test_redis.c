/*
 * test_redis.c - the Redis follower fed recorded conversations (redis_wire.h)
 * and written ones (RESP3 types, pipelines past the FIFO, MONITOR, CLIENT
 * REPLY, let-go cases) at every split point: whole, every 2-way split and
 * byte by byte must report the same operations, in order, each with the
 * tag its command's first byte was given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_redis.h"
#include "redis_wire.h"

#define MAX_OPS 256
#define LINE_MAX 1024

typedef struct rec {
    uint64_t starts;
    uint64_t last_tag;
    int ordered;
    int n;
    char lines[MAX_OPS + 1][LINE_MAX];
} rec_t;

static uint64_t rec_start(void *arg)
{
    rec_t *r = arg;

    return ++r->starts;
}

static void rec_done(void *arg, const ss_db_op_t *op)
{
    rec_t *r = arg;

    if (op->tag <= r->last_tag || op->tag > r->starts)
        r->ordered = 0;
    r->last_tag = op->tag;
    if (r->n < MAX_OPS)
        snprintf(r->lines[r->n++], LINE_MAX, "%s|%s|%s|%s|%d|%u|%s", op->operation,
                 op->query_text, op->namespace_, op->status_code, op->error, op->batch_size,
                 op->summary);
}

/* Feed the conversation, cutting at global offset cut (0: no cut; 1 each
 * byte alone when bytewise). The lines reported, a last "LETGO why" line
 * when the follower let go. */
static void run(const wire_t *w, size_t cut, int bytewise, rec_t *r)
{
    ss_redis_t s;
    ss_db_sink_t sink = {r, rec_start, rec_done, NULL};
    size_t off = 0;
    int ok = 1;

    memset(r, 0, sizeof(*r));
    r->ordered = 1;
    ss_redis_init(&s);
    for (; w->bytes && ok; w++) {
        const uint8_t *p = (const uint8_t *)w->bytes;
        size_t n = strlen(w->bytes);
        size_t at = cut > off && cut < off + n ? cut - off : 0;
        if (bytewise)
            for (size_t i = 0; i < n && ok; i++)
                ok = ss_redis_feed(&s, w->dir, p + i, 1, &sink);
        else if (at)
            ok = ss_redis_feed(&s, w->dir, p, at, &sink) &&
                 ss_redis_feed(&s, w->dir, p + at, n - at, &sink);
        else
            ok = ss_redis_feed(&s, w->dir, p, n, &sink);
        off += n;
    }
    if (!ok)
        snprintf(r->lines[r->n++], LINE_MAX, "LETGO %s", ss_redis_why(&s));
}

static size_t total(const wire_t *w)
{
    size_t n = 0;

    for (; w->bytes; w++)
        n += strlen(w->bytes);
    return n;
}

static void same(const rec_t *a, const rec_t *b, size_t cut)
{
    if (a->n != b->n)
        fail_msg("cut %zu: %d operations, whole gave %d", cut, b->n, a->n);
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->lines[i], b->lines[i]) != 0)
            fail_msg("cut %zu: op %d '%s', whole gave '%s'", cut, i, b->lines[i], a->lines[i]);
    assert_true(b->ordered);
}

/* Whole, then every 2-way split and byte by byte: the same lines; the
 * whole run's lines are the ones expected (NULL-terminated). */
static void check(const wire_t *w, const char *const *expect)
{
    static rec_t whole, part;
    size_t n = total(w);
    int i;

    run(w, 0, 0, &whole);
    for (i = 0; expect[i]; i++) {
        if (i >= whole.n)
            fail_msg("missing op %d '%s'", i, expect[i]);
        assert_string_equal(whole.lines[i], expect[i]);
    }
    assert_int_equal(whole.n, i);
    assert_true(whole.ordered);
    for (size_t cut = 1; cut < n; cut++) {
        run(w, cut, 0, &part);
        same(&whole, &part, cut);
    }
    run(w, 0, 1, &part);
    same(&whole, &part, 0);
}

static const char *const cli_expect[] = {
    "SET|SET k ?|0||0|0|",
    "GET|GET k|0||0|0|",
    "LPUSH|LPUSH k ?|0|WRONGTYPE|1|0|",
    "SELECT|SELECT ?|2||0|0|",
    "SELECT|SELECT ?|2|ERR|1|0|",      /* an error changes nothing */
    "GET|GET k|2||0|0|",
    "AUTH|AUTH ?|2|ERR|1|0|",
    "MULTI|MULTI|2||0|0|",
    "SET|SET a ?|2||0|0|",
    "INCR|INCR a|2||0|0|",
    "EXEC|EXEC|2||0|2|MULTI",
    "EVAL|EVAL ? ?|2||0|0|",           /* nested arrays */
    "HELLO|HELLO ?|2||0|0|",           /* its RESP3 map */
    "HSET|HSET h ? ?|2||0|0|",
    "HGETALL|HGETALL h|2||0|0|",
    "DEL|DEL k ? ?|2||0|0|",
    NULL,
};

static void test_redis_cli(void **st)
{
    (void)st;
    check(cli_session, cli_expect);
}

static void test_benchmark_pipelines(void **st)
{
    static const char *cfg[] = {"CONFIG GET|CONFIG GET ?|0||0|0|",
                                "CONFIG GET|CONFIG GET ?|0||0|0|", NULL};
    const char *set[17], *get[17];

    (void)st;
    for (int i = 0; i < 16; i++) {
        set[i] = "SET|SET key:__rand_int__ ?|0||0|0|";
        get[i] = "GET|GET key:__rand_int__|0||0|0|";
    }
    set[16] = get[16] = NULL;
    check(bench_config, cfg);
    check(bench_set, set);
    check(bench_get, get);
}

#define PY_TX                                                                      \
    "CLIENT SETINFO|CLIENT SETINFO ? ?|0|ERR|1|0|",                                \
    "CLIENT SETINFO|CLIENT SETINFO ? ?|0|ERR|1|0|", "MULTI|MULTI|0||0|0|",         \
    "SET|SET p:1 ?|0||0|0|", "LPUSH|LPUSH p:1 ?|0||0|0|", "GET|GET p:1|0||0|0|",  \
    "EXEC|EXEC|0||0|3|MULTI", "SUBSCRIBE|SUBSCRIBE news ?|0||0|0|",               \
    "PSUBSCRIBE|PSUBSCRIBE n*|0||0|0|"
#define PY_END                                                                     \
    "PING|PING|0||0|0|", "UNSUBSCRIBE|UNSUBSCRIBE|0||0|0|",                        \
    "PUNSUBSCRIBE|PUNSUBSCRIBE|0||0|0|", "PING|PING|0||0|0|", "DEL|DEL p:1|0||0|0|"

/* redis-py's wire: a MULTI/EXEC pipeline in one write, pub/sub with
 * messages pushed between confirmations and commands. */
static void test_pubsub_resp2(void **st)
{
    static const char *const expect[] = {PY_TX, PY_END, NULL};

    (void)st;
    check(py_resp2, expect);
}

static void test_pubsub_resp3(void **st)
{
    static const char *const expect[] = {
        "HELLO|HELLO ?|0||0|0|", "HELLO|HELLO ?|0||0|0|", PY_TX,
        "GET|GET p:1|0||0|0|", PY_END, NULL};

    (void)st;
    check(py_resp3, expect);
}

/* A message pushed between two confirmations; UNSUBSCRIBE with nothing
 * subscribed (one confirmation, a null channel); shard channels in RESP3
 * with the server's own sunsubscribe pushed. */
static void test_pubsub_edges(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*1\r\n$11\r\nUNSUBSCRIBE\r\n*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n"
                    "$1\r\nb\r\n"},
        {SS_DB_IN, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
                   "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                   "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"
                   "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"},
        {SS_DB_OUT, "*3\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"
                    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n"
                    "*2\r\n$3\r\nGET\r\n$1\r\ns\r\n"},
        {SS_DB_IN, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
                   "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
                   "%1\r\n$5\r\nproto\r\n:3\r\n>3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"
                   ">3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n"
                   "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "UNSUBSCRIBE|UNSUBSCRIBE|0||0|0|", "SUBSCRIBE|SUBSCRIBE a ?|0||0|0|",
        "UNSUBSCRIBE|UNSUBSCRIBE a ?|0||0|0|", "HELLO|HELLO ?|0||0|0|",
        "SSUBSCRIBE|SSUBSCRIBE s|0||0|0|", "GET|GET s|0||0|0|", NULL};
    static const wire_t deep[] = {
        {SS_DB_OUT, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
                    "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
                    "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"},
        {0, NULL}};
    static char past[SS_REDIS_PENDING_MAX / 8 * 112 + 64];
    wire_t overflow[] = {{SS_DB_OUT, past}, {0, NULL}};
    static const char *const e_overflow[] = {
        "LETGO pipeline past its depth at a command with one reply per channel", NULL};

    (void)st;
    check(w, expect);
    past[0] = '\0';
    for (int i = 0; i < SS_REDIS_PENDING_MAX / 8; i++)
        strcat(past, deep[0].bytes);
    strcat(past, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n");
    check(overflow, e_overflow);
}

/* No field of any operation holds a password the recordings carry. */
static void test_no_password(void **st)
{
    static rec_t r;
    const wire_t *convs[] = {cli_session, py_resp3};

    (void)st;
    for (int c = 0; c < 2; c++) {
        run(convs[c], 0, 0, &r);
        assert_true(r.n > 0);
        for (int i = 0; i < r.n; i++) {
            assert_null(strstr(r.lines[i], "secretpw"));
            assert_null(strstr(r.lines[i], "nopass-secret"));
            assert_null(strstr(r.lines[i], "default"));
        }
    }
}

static void test_inline(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "PING\r\n"}, {SS_DB_IN, "+PONG\r\n"},
        {SS_DB_OUT, "\r\n  \r\nset k \"a b\" 'c'\r\nget \"my key\"\n"},
        {SS_DB_IN, "+OK\r\n$3\r\nabc\r\n"},
        {SS_DB_OUT, "auth user pw\r\n"}, {SS_DB_IN, "-WRONGPASS invalid\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "PING|PING|0||0|0|", "set|set k ? ?|0||0|0|", "get|get my?key|0||0|0|",
        "auth|auth ?|0|WRONGPASS|1|0|", NULL};

    (void)st;
    check(w, expect);
}

static void test_errors(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n"
                    "*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nFOO\r\n"},
        {SS_DB_IN, "-MOVED 3999 127.0.0.1:6381\r\n!21\r\nSYNTAX invalid syntax\r\n"
                   "-\r\n-ERR unknown command 'FOO'\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "GET|GET k1|0|MOVED|1|0|", "GET|GET k2|0|SYNTAX|1|0|", "PING|PING|0||1|0|",
        "FOO|FOO|0|ERR|1|0|", NULL};

    (void)st;
    check(w, expect);
}

/* Every RESP3 type; an attribute before a reply and inside one; a push
 * between replies; streamed strings and aggregates. */
static void test_resp3_types(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"},
        {SS_DB_IN, "%1\r\n$5\r\nproto\r\n:3\r\n"},
        {SS_DB_OUT, "*1\r\n$1\r\nA\r\n*1\r\n$1\r\nB\r\n*1\r\n$1\r\nC\r\n*1\r\n$1\r\nD\r\n"
                    "*1\r\n$1\r\nE\r\n*1\r\n$1\r\nF\r\n*1\r\n$1\r\nG\r\n*1\r\n$1\r\nH\r\n"
                    "*1\r\n$1\r\nI\r\n*1\r\n$1\r\nJ\r\n*1\r\n$1\r\nK\r\n"},
        {SS_DB_IN, "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.01\r\n"
                   "*2\r\n:2039123\r\n:9543892\r\n"              /* A: after its attribute */
                   "_\r\n"                                        /* B */
                   ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n" /* a push: no command */
                   ",-1.5e3\r\n#t\r\n(3492890328409238509324850943850943825024385\r\n"
                   "=15\r\ntxt:Some string\r\n~2\r\n+a\r\n|1\r\n+x\r\n+y\r\n+b\r\n"
                   "$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n"        /* H: streamed string */
                   "*?\r\n:1\r\n*?\r\n.\r\n%?\r\n+k\r\n:1\r\n.\r\n.\r\n" /* I */
                   "$0\r\n\r\n*-1\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "HELLO|HELLO ?|0||0|0|", "A|A|0||0|0|", "B|B|0||0|0|", "C|C|0||0|0|",
        "D|D|0||0|0|", "E|E|0||0|0|", "F|F|0||0|0|", "G|G|0||0|0|", "H|H|0||0|0|",
        "I|I|0||0|0|", "J|J|0||0|0|", "K|K|0||0|0|", NULL};

    (void)st;
    check(w, expect);
}

/* A RESP2 array starting "message" is a reply when not subscribed. */
static void test_message_array_is_a_reply(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"},
        {SS_DB_IN, "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"},
        {0, NULL}};
    static const char *const expect[] = {"LRANGE|LRANGE l ? ?|0||0|0|", NULL};

    (void)st;
    check(w, expect);
}

static void test_depth(void **st)
{
    static char deep_ok[32 * 4 + 16], deep_bad[33 * 4 + 16];
    wire_t ok[] = {{SS_DB_OUT, "*1\r\n$4\r\nPING\r\n"}, {SS_DB_IN, deep_ok}, {0, NULL}};
    wire_t bad[] = {{SS_DB_OUT, "*1\r\n$4\r\nPING\r\n"}, {SS_DB_IN, deep_bad}, {0, NULL}};
    static const char *const expect_ok[] = {"PING|PING|0||0|0|", NULL};
    static const char *const expect_bad[] = {"LETGO reply nested too deep", NULL};

    (void)st;
    for (int i = 0; i < 32; i++)
        strcat(deep_ok, "*1\r\n");
    strcat(deep_ok, ":1\r\n");
    for (int i = 0; i < 33; i++)
        strcat(deep_bad, "*1\r\n");
    strcat(deep_bad, ":1\r\n");
    check(ok, expect_ok);
    check(bad, expect_bad);
}

/* Past the FIFO, commands go untraced and their replies are still read in
 * order: the ones after match right. */
static void test_pipeline_past_fifo(void **st)
{
    static char pings[66 * 14 + 1], ten[10 * 7 + 1], rest[56 * 7 + 1];
    const char *expect[SS_REDIS_PENDING_MAX + 2];
    wire_t w[] = {{SS_DB_OUT, pings},
                  {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$1\r\nx\r\n"},     /* untraced */
                  {SS_DB_IN, ten},
                  {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$1\r\ny\r\n"},     /* untraced too */
                  {SS_DB_IN, rest},
                  {SS_DB_IN, "$1\r\nX\r\n$1\r\nY\r\n"},
                  {SS_DB_OUT, "*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n"},    /* traced again */
                  {SS_DB_IN, "-ERR not an integer\r\n"},
                  {0, NULL}};
    ss_redis_t s;

    (void)st;
    pings[0] = ten[0] = rest[0] = '\0';
    for (int i = 0; i < SS_REDIS_PENDING_MAX; i++) {
        strcat(pings, "*1\r\n$4\r\nPING\r\n");
        strcat(i < 10 ? ten : rest, "+PONG\r\n");
        expect[i] = "PING|PING|0||0|0|";
    }
    expect[SS_REDIS_PENDING_MAX] = "INCR|INCR z|0|ERR|1|0|";
    expect[SS_REDIS_PENDING_MAX + 1] = NULL;
    check(w, expect);
    ss_redis_init(&s);
    for (const wire_t *p = w; p->bytes; p++)
        assert_int_equal(ss_redis_feed(&s, p->dir, (const uint8_t *)p->bytes,
                                       strlen(p->bytes), NULL), 1);
    assert_int_equal(ss_redis_untraced(&s), 2);
}

static void test_select_in_multi_and_reset(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*1\r\n$5\r\nMULTI\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
                    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nEXEC\r\n*1\r\n$3\r\nGET\r\n"},
        {SS_DB_IN, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$-1\r\n-ERR wrong number\r\n"},
        {SS_DB_OUT, "*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n"},
        {SS_DB_IN, "+RESET\r\n+PONG\r\n"},
        {SS_DB_OUT, "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"
                    "*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n*1\r\n$4\r\nEXEC\r\n"},
        {SS_DB_IN, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:1\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "MULTI|MULTI|0||0|0|", "SELECT|SELECT ?|0||0|0|", "GET|GET k|0||0|0|",
        "EXEC|EXEC|3||0|2|MULTI", "GET|GET|3|ERR|1|0|", "RESET|RESET|0||0|0|",
        "PING|PING|0||0|0|", "MULTI|MULTI|0||0|0|", "INCR|INCR a|0||0|0|",
        "INCR|INCR b|0||0|0|", "EXEC|EXEC|0||0|2|MULTI INCR", NULL};

    (void)st;
    check(w, expect);
}

/* An aborted transaction is still its batch; the next one starts afresh. */
static void test_exec_abort(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
                    "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$3\r\nFOO\r\n"
                    "*1\r\n$4\r\nEXEC\r\n*1\r\n$4\r\nEXEC\r\n"},
        {SS_DB_IN, "+OK\r\n+QUEUED\r\n+QUEUED\r\n-ERR unknown command 'FOO'\r\n"
                   "-EXECABORT Transaction discarded because of previous errors.\r\n"
                   "-ERR EXEC without MULTI\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "MULTI|MULTI|0||0|0|", "SET|SET a ?|0||0|0|", "SET|SET b ?|0||0|0|",
        "FOO|FOO|0|ERR|1|0|", "EXEC|EXEC|0|EXECABORT|1|2|MULTI SET", "EXEC|EXEC|0|ERR|1|0|MULTI",
        NULL};

    (void)st;
    check(w, expect);
}

static void test_monitor_lets_go(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*1\r\n$7\r\nMONITOR\r\n"},
        {SS_DB_IN, "+OK\r\n+1339518083.107412 [0 127.0.0.1:60866] \"keys\" \"*\"\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "MONITOR|MONITOR|0||0|0|", "LETGO MONITOR: what follows is not replies", NULL};

    (void)st;
    check(w, expect);
}

/* The replies before CLIENT REPLY OFF are matched; then the follower lets go. */
static void test_client_reply_off(void **st)
{
    static const wire_t w[] = {
        {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n"
                    "$3\r\nOFF\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\n"},
        {SS_DB_IN, "$1\r\nA\r\n"},
        {SS_DB_OUT, "*1\r\n$4\r\nPING\r\n"},
        {0, NULL}};
    static const char *const expect[] = {
        "GET|GET a|0||0|0|", "LETGO CLIENT REPLY OFF/SKIP: replies may never come", NULL};
    static const wire_t on[] = {
        {SS_DB_OUT, "*3\r\n$6\r\nclient\r\n$5\r\nreply\r\n$2\r\non\r\n"},
        {SS_DB_IN, "+OK\r\n"},
        {0, NULL}};
    static const char *const expect_on[] = {"client reply|client reply ?|0||0|0|", NULL};

    (void)st;
    check(w, expect);
    check(on, expect_on);
}

static void test_let_go(void **st)
{
    static const wire_t stray[] = {{SS_DB_IN, "+OK\r\n"}, {0, NULL}};
    static const wire_t http[] = {
        {SS_DB_OUT, "*1\r\n$4\r\nPING\r\n"}, {SS_DB_IN, "HTTP/1.1 200 OK\r\n"}, {0, NULL}};
    static const wire_t notbulk[] = {{SS_DB_OUT, "*1\r\n:4\r\n"}, {0, NULL}};
    static const char *const e_stray[] = {"LETGO reply without a command", NULL};
    static const char *const e_http[] = {"LETGO not a RESP reply", NULL};
    static const char *const e_notbulk[] = {"LETGO command argument is not a bulk string", NULL};

    (void)st;
    check(stray, e_stray);
    check(http, e_http);
    check(notbulk, e_notbulk);
}

/* Keys are shown as printable ASCII; long keys and long commands are cut. */
static void test_bounds(void **st)
{
    static char big[4096];
    static rec_t r;
    wire_t w[] = {{SS_DB_OUT, big}, {SS_DB_IN, "+OK\r\n+OK\r\n"}, {0, NULL}};
    int o;

    (void)st;
    o = sprintf(big, "*3\r\n$3\r\nSET\r\n$4\r\nk\x01\xff" "z\r\n$1\r\nv\r\n*301\r\n$4\r\nMSET\r\n"
                     "$200\r\n");
    memset(big + o, 'K', 200);
    o += 200;
    o += sprintf(big + o, "\r\n");
    for (int i = 0; i < 299; i++)
        o += sprintf(big + o, "$1\r\nv\r\n");
    run(w, 0, 0, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.lines[0], "SET|SET k??z ?|0||0|0|");
    assert_true(strlen(r.lines[1]) < SS_DB_QUERY_MAX + 32);
    assert_non_null(strstr(r.lines[1], "MSET|MSET KKKK"));
    assert_non_null(strstr(r.lines[1], " ? ? ?"));
}

/* Headers and bulk strings whole in one buffer are read in one step, a
 * key a word at a time while its bytes are shown as they are: the same
 * operations as read byte by byte, for leading zeros, bytes that are not
 * shown at every place in a word, a key past its cap, counts the server
 * ignores, the reply types read whole, names of one to three bytes with
 * one not shown, a name past its cap, an empty key, "$-0" (an empty
 * string, not a null), a status line longer than its capture, and a bulk
 * string longer than its length. */
#define K10 "KKKKKKKKKK"
#define LONG_KEY K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 /* 120 bytes */
static const wire_t whole_pieces[] = {
    {SS_DB_OUT, "*02\r\n$003\r\nGET\r\n$016\r\nkey:__rand_int__\r\n"},
    {SS_DB_IN, "$05\r\nhello\r\n"},
    {SS_DB_OUT, "*3\r\n$3\r\nSET\r\n$32\r\nabcdefg\x01hijklmn\x7fopqrs uvwxyz\x80\xfe\tz\r\n$1\r\nv\r\n"},
    {SS_DB_IN, "+OK\r\n"},
    {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$5\r\nab\x7f" "cd\r\n"},
    {SS_DB_IN, "$-1\r\n"},
    {SS_DB_OUT, "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"},
    {SS_DB_IN, "+PONG\r\n"},
    {SS_DB_OUT, "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n"},
    {SS_DB_IN, ":12345\r\n"},
    {SS_DB_OUT, "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$0\r\n\r\n"},
    {SS_DB_IN, "*2\r\n$1\r\na\r\n$-1\r\n"},
    {SS_DB_OUT, "*2\r\n$3\r\nGET\r\n$120\r\n" LONG_KEY "\r\n"},
    {SS_DB_IN, "$-1\r\n"},
    {SS_DB_OUT, "*3\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n$1\r\nv\r\n"},
    {SS_DB_IN, "-WRONGTYPE Operation against a key\r\n"},
    {SS_DB_OUT, "*2\r\n$6\r\nCLIENT\r\n$0\r\n\r\n"},
    {SS_DB_IN, "-ERR unknown subcommand\r\n"},
    {SS_DB_OUT, "*2\r\n$3\r\nG\x01T\r\n$1\r\nk\r\n"},
    {SS_DB_IN, ":-5\r\n"},
    {SS_DB_OUT, "*1\r\n$40\r\n" K10 "ABCDEFGHIJABCDEFGHIJABCDEFGHIJ\r\n"},
    {SS_DB_IN, "$-0\r\n\r\n"},
    {SS_DB_OUT, "*2\r\n$2\r\nGE\r\n$0\r\n\r\n"},
    {SS_DB_IN, "+OK, and more words than a capture keeps\r\n"},
    {SS_DB_OUT, "*1\r\n$3\r\nGETX\r\n"},
    {0, NULL},
};
static const char *const whole_pieces_expect[] = {
    "GET|GET key:__rand_int__|0||0|0|",
    "SET|SET abcdefg?hijklmn?opqrs?uvwxyz???z ?|0||0|0|",
    "GET|GET ab?cd|0||0|0|",
    "PING|PING|0||0|0|",
    "INCR|INCR counter|0||0|0|",
    "MGET|MGET a ?|0||0|0|",
    "GET|GET " K10 K10 K10 K10 K10 K10 K10 K10 K10 "KKKKK|0||0|0|", /* cut at 95 */
    "LPUSH|LPUSH k ?|0|WRONGTYPE|1|0|",
    "CLIENT |CLIENT |0|ERR|1|0|",
    "G?T|G?T k|0||0|0|",
    "KKKKKKKKKKABCDEFGHIJABCDEFGHIJA|KKKKKKKKKKABCDEFGHIJABCDEFGHIJA|0||0|0|", /* cut at 31 */
    "GE|GE |0||0|0|",
    "LETGO bulk string longer than its length",
    NULL,
};

static void test_whole_pieces(void **st)
{
    (void)st;
    check(whole_pieces, whole_pieces_expect);
}

static void test_detect(void **st)
{
    (void)st;
    assert_int_equal(ss_redis_detect((const uint8_t *)"*2\r\n$3\r\nGET", 11, SS_DB_OUT), 1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"*2\r\n", 4, SS_DB_OUT), -1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"*12", 3, SS_DB_OUT), -1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"*2\r\n:3", 6, SS_DB_OUT), 0);
    assert_int_equal(ss_redis_detect((const uint8_t *)"PING\r\n", 6, SS_DB_OUT), 1);
    /* sixteen letters and nothing after them: no inline command (read to their end only) */
    {
        uint8_t *sixteen = malloc(16);

        memcpy(sixteen, "ABCDEFGHIJKLMNOP", 16);
        assert_int_equal(ss_redis_detect(sixteen, 16, SS_DB_OUT), 0);
        free(sixteen);
    }
    assert_int_equal(ss_redis_detect((const uint8_t *)"ping", 4, SS_DB_OUT), -1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"get k\r\n", 7, SS_DB_OUT), 1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, SS_DB_OUT), 0);
    assert_int_equal(ss_redis_detect((const uint8_t *)"GET / HTT", 9, SS_DB_OUT), -1);
    assert_int_equal(ss_redis_detect((const uint8_t *)"POST / HTTP/1.1\r\n", 17, SS_DB_OUT), 0);
    assert_int_equal(ss_redis_detect((const uint8_t *)"\x16\x03\x01", 3, SS_DB_OUT), 0);
    assert_int_equal(ss_redis_detect((const uint8_t *)"+OK\r\n", 5, SS_DB_IN), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_cli),
        cmocka_unit_test(test_benchmark_pipelines),
        cmocka_unit_test(test_pubsub_resp2),
        cmocka_unit_test(test_pubsub_resp3),
        cmocka_unit_test(test_pubsub_edges),
        cmocka_unit_test(test_no_password),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_resp3_types),
        cmocka_unit_test(test_message_array_is_a_reply),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_pipeline_past_fifo),
        cmocka_unit_test(test_select_in_multi_and_reset),
        cmocka_unit_test(test_exec_abort),
        cmocka_unit_test(test_monitor_lets_go),
        cmocka_unit_test(test_client_reply_off),
        cmocka_unit_test(test_let_go),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_whole_pieces),
        cmocka_unit_test(test_detect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
