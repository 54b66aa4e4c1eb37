/*
 * test_mysql.c - the MySQL / MariaDB follower fed recorded conversations
 * (mysql_recorded.h) at every split point: whole, every 2-way split and
 * byte by byte must report the same operations; then what it reports
 * (namespace from the handshake, COM_INIT_DB and USE, ERR numbers,
 * multi-statements, prepared statements by id, LOCAL INFILE) and where
 * it lets go (TLS, compression, a pipeline past its FIFO).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_mysql.h"
#include "../../preload/proto/ss_mysql_text.h"
#include "mysql_recorded.h"


#define MAX_OPS 32

typedef struct got {
    int starts, n;
    uint64_t tag;
    ss_db_op_t ops[MAX_OPS];
} got_t;

typedef struct run {
    got_t got;
    int rc;
    const char *why;
    ss_mysql_t st;
} run_t;

static uint64_t on_start(void *arg)
{
    got_t *g = arg;

    g->starts++;
    return ++g->tag;
}

static void on_done(void *arg, const ss_db_op_t *op)
{
    got_t *g = arg;

    assert_true(g->n < MAX_OPS);
    assert_true(g->n < g->starts);
    g->ops[g->n++] = *op;
}

static void feed(run_t *r, int in, const uint8_t *p, size_t n)
{
    ss_db_sink_t sink = {&r->got, on_start, on_done, NULL};

    if (r->rc)
        r->rc = ss_mysql_feed(&r->st, in ? SS_DB_IN : SS_DB_OUT, p, n, &sink);
    r->why = ss_mysql_why(&r->st);
}

static void run_start(run_t *r)
{
    memset(r, 0, sizeof(*r));
    ss_mysql_init(&r->st);
    r->rc = 1;
}

/* Feed the conversation; the segment holding global offset `cut` is
 * split there, or with step > 0 every segment goes in step-byte calls. */
static void run_conv(run_t *r, const seg_t *c, size_t nseg, size_t cut, size_t step)
{
    size_t at = 0;

    for (size_t i = 0; i < nseg; i++) {
        const uint8_t *p = c[i].p;
        size_t n = c[i].n;

        if (step) {
            for (size_t k = 0; k < n; k += step)
                feed(r, c[i].in, p + k, n - k < step ? n - k : step);
        } else if (cut > at && cut < at + n) {
            feed(r, c[i].in, p, cut - at);
            feed(r, c[i].in, p + (cut - at), n - (cut - at));
        } else {
            feed(r, c[i].in, p, n);
        }
        at += n;
    }
}

static void assert_same_op(const ss_db_op_t *a, const ss_db_op_t *b)
{
    assert_int_equal(a->tag, b->tag);
    assert_string_equal(a->operation, b->operation);
    assert_string_equal(a->collection, b->collection);
    assert_string_equal(a->namespace_, b->namespace_);
    assert_string_equal(a->query_text, b->query_text);
    assert_string_equal(a->summary, b->summary);
    assert_string_equal(a->status_code, b->status_code);
    assert_int_equal(a->batch_size, b->batch_size);
    assert_int_equal(a->error, b->error);
}

static void assert_same_run(const run_t *a, const run_t *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->got.starts, b->got.starts);
    assert_int_equal(a->got.n, b->got.n);
    for (int i = 0; i < a->got.n; i++)
        assert_same_op(&a->got.ops[i], &b->got.ops[i]);
    if (a->why || b->why)
        assert_string_equal(a->why, b->why);
}

static run_t whole, other;

/* The conversation whole, then at every split, then byte by byte: the
 * whole run is left in `whole`. */
static void every_split(const seg_t *c, size_t nseg)
{
    size_t total = 0;

    for (size_t i = 0; i < nseg; i++)
        total += c[i].n;
    run_start(&whole);
    run_conv(&whole, c, nseg, 0, 0);
    for (size_t cut = 1; cut < total; cut++) {
        run_start(&other);
        run_conv(&other, c, nseg, cut, 0);
        assert_same_run(&whole, &other);
    }
    run_start(&other);
    run_conv(&other, c, nseg, 0, 1);
    assert_same_run(&whole, &other);
}

#define EVERY_SPLIT(rec) every_split(rec, sizeof(rec) / sizeof(rec[0]))

static const ss_db_op_t *op(int i)
{
    assert_true(i < whole.got.n);
    return &whole.got.ops[i];
}

/* ---- the recorded conversations ---- */

static void test_query_result_set(void **state)
{
    (void)state;
    EVERY_SPLIT(rec_query);
    assert_int_equal(whole.rc, 1);
    assert_string_equal(ss_mysql_system(&whole.st), "mariadb");
    assert_int_equal(whole.got.starts, 1);
    assert_int_equal(whole.got.n, 1);
    assert_int_equal(op(0)->tag, 1);
    assert_string_equal(op(0)->namespace_, "shop"); /* the handshake's database */
    assert_string_equal(op(0)->query_text, "SELECT id, name FROM users WHERE id = ?");
    assert_string_equal(op(0)->operation, "SELECT");
    assert_string_equal(op(0)->collection, "users");
    assert_int_equal(op(0)->error, 0);
    assert_int_equal(op(0)->batch_size, 0);
}

static void test_error(void **state)
{
    (void)state;
    EVERY_SPLIT(rec_error);
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.n, 1);
    assert_int_equal(op(0)->error, 1);
    assert_string_equal(op(0)->status_code, "1146");
    assert_string_equal(op(0)->collection, "missing");
}

static void test_init_db_ping_prepared(void **state)
{
    (void)state;
    EVERY_SPLIT(rec_pymysql);
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.starts, 6); /* COM_STMT_CLOSE and COM_QUIT: no reply, no span */
    assert_int_equal(whole.got.n, 6);
    assert_string_equal(op(0)->namespace_, "shop");
    assert_string_equal(op(1)->operation, "COM_INIT_DB");
    assert_string_equal(op(1)->namespace_, "other");
    assert_string_equal(op(2)->operation, "COM_PING");
    assert_string_equal(op(2)->namespace_, "other");
    assert_string_equal(op(3)->query_text, "SELECT COUNT(*) FROM shop.users WHERE name = ?");
    assert_string_equal(op(3)->namespace_, "other");
    /* the prepared text as is, and the execution named by its id */
    assert_string_equal(op(4)->query_text, "SELECT name FROM shop.users WHERE id = ?");
    assert_string_equal(op(5)->query_text, "SELECT name FROM shop.users WHERE id = ?");
    assert_string_equal(op(5)->operation, "SELECT");
    assert_int_equal(op(5)->error, 0);
    assert_int_equal(whole.st.unknown_stmt, 0);
}

static void test_use_multi_statement_infile(void **state)
{
    (void)state;
    EVERY_SPLIT(rec_multi);
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.n, 5);
    assert_string_equal(op(0)->namespace_, ""); /* connected without a database */
    assert_string_equal(op(1)->namespace_, "shop");
    /* two statements, two result sets: one operation */
    assert_int_equal(op(2)->batch_size, 2);
    assert_string_equal(op(2)->namespace_, "shop");
    assert_int_equal(op(2)->error, 0);
    assert_string_equal(op(3)->operation, "LOAD"); /* LOCAL INFILE followed to its OK */
    assert_int_equal(op(3)->error, 0);
    assert_string_equal(op(4)->query_text, "COMMIT");
}

static void test_compressed_lets_go(void **state)
{
    (void)state;
    EVERY_SPLIT(rec_compressed);
    assert_int_equal(whole.rc, 0);
    assert_string_equal(whole.why, "compressed");
    assert_int_equal(whole.got.starts, 0);
}

/* ---- conversations made from the protocol documents ---- */

static uint8_t buf[4 + 0xffffff + 64];

static void handshake(run_t *r)
{
    run_start(r);
    run_conv(r, rec_query, 3, 0, 0); /* greeting, response, OK */
    assert_int_equal(r->rc, 1);
}

/* OK, seq 1, autocommit */
static const uint8_t ok_1[] = {7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};

/* After the handshake, one command written and its reply read. */
static void exchange(const uint8_t *out, size_t out_n, const uint8_t *in, size_t in_n)
{
    handshake(&whole);
    feed(&whole, 0, out, out_n);
    feed(&whole, 1, in, in_n);
    assert_int_equal(whole.rc, 1);
}

static void test_ssl_request(void **state)
{
    rec_tls_t t;

    (void)state;
    rec_query_tls(&t);
    run_start(&whole);
    feed(&whole, 1, t.greet, sizeof(t.greet));
    assert_int_equal(whole.rc, 1);
    feed(&whole, 0, t.ssl, sizeof(t.ssl));
    assert_int_equal(whole.rc, 0);
    assert_string_equal(whole.why, "tls");
    /* the plaintext after TLS goes on from the full response (seq 2) */
    ss_mysql_tls(&whole.st);
    whole.rc = 1;
    feed(&whole, 0, t.resp, sizeof(t.resp));
    run_conv(&whole, rec_query + 2, 4, 0, 0);
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.n, 1);
    assert_string_equal(op(0)->namespace_, "shop");
    assert_string_equal(op(0)->operation, "SELECT");
}

/* A COM_QUERY past 16 MB: one 0xffffff packet and its continuation. */
static void test_large_packet(void **state)
{
    static const uint8_t cont[] = {5, 0, 0, 1, ' ', ' ', ' ', ' ', '1'};

    (void)state;
    handshake(&whole);
    buf[0] = buf[1] = buf[2] = 0xff;
    buf[3] = 0;
    buf[4] = 0x03;
    memcpy(buf + 5, "SELECT", 6);
    memset(buf + 11, ' ', 0xffffff - 7);
    feed(&whole, 0, buf, 4 + 0xffffff);
    feed(&whole, 0, cont, sizeof(cont));
    assert_int_equal(whole.got.starts, 1);
    assert_int_equal(whole.got.n, 0);
    feed(&whole, 1, ok_1, sizeof(ok_1));
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.n, 1);
    assert_string_equal(op(0)->operation, "SELECT");
    assert_int_equal(whole.st.cut, 1);
}

static void test_pipeline(void **state)
{
    static const uint8_t ping[] = {1, 0, 0, 0, 0x0e};

    (void)state;
    handshake(&whole);
    for (int i = 0; i < SS_MYSQL_OPS + 2; i++)
        feed(&whole, 0, ping, sizeof(ping));
    for (int i = 0; i < SS_MYSQL_OPS + 2; i++)
        feed(&whole, 1, ok_1, sizeof(ok_1));
    assert_int_equal(whole.rc, 1);
    assert_int_equal(whole.got.starts, SS_MYSQL_OPS);
    assert_int_equal(whole.got.n, SS_MYSQL_OPS); /* the rest untraced, counted */
    assert_int_equal(whole.st.untraced, 2);
    for (int i = 0; i < SS_MYSQL_OPS; i++)
        assert_int_equal(op(i)->tag, i + 1);
    /* past the FIFO: let go, never a wrong match */
    for (int i = 0; i <= SS_MYSQL_PENDING; i++)
        feed(&whole, 0, ping, sizeof(ping));
    assert_int_equal(whole.rc, 0);
    assert_string_equal(whole.why, "pipeline");
}

/* COM_QUIT sent before the reply to the command ahead of it was read:
 * that reply still ends its operation. */
static void test_quit_behind_a_command(void **state)
{
    static const uint8_t ping_quit[] = {1, 0, 0, 0, 0x0e, 1, 0, 0, 0, 0x01};

    (void)state;
    exchange(ping_quit, sizeof(ping_quit), ok_1, sizeof(ok_1));
    assert_int_equal(whole.got.starts, 1);
    assert_int_equal(whole.got.n, 1);
    assert_string_equal(op(0)->operation, "COM_PING");
}

/* COM_STMT_EXECUTE of an id never prepared: an operation without text. */
static void test_unknown_statement(void **state)
{
    static const uint8_t exec[] = {10, 0, 0, 0, 0x17, 99, 0, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t err[] = {9, 0, 0, 1, 0xff, 0x13, 0x05, '#', 'H', 'Y', '0', '0', '0'};

    (void)state;
    exchange(exec, sizeof(exec), err, sizeof(err));
    assert_int_equal(whole.got.n, 1);
    assert_string_equal(op(0)->operation, "COM_STMT_EXECUTE");
    assert_string_equal(op(0)->query_text, "");
    assert_string_equal(op(0)->status_code, "1299");
    assert_int_equal(whole.st.unknown_stmt, 1);
}

/* An ERR answering a one-reply command gives its number: COM_INIT_DB of
 * a database that is not there (PyMySQL's select_db). */
static void test_init_db_error(void **state)
{
    static const uint8_t init_db[] = {8, 0, 0, 0, 0x02, 'n', 'o', 'w', 'h', 'e', 'r', 'e'};
    static const uint8_t err[] = {16,  0,   0,   1,   0xff, 0x19, 0x04, '#', '4', '2',
                                  '0', '0', '0', 'U', 'n',  'k',  'n',  'o', 'w', 'n'};

    (void)state;
    exchange(init_db, sizeof(init_db), err, sizeof(err));
    assert_int_equal(whole.got.n, 1);
    assert_string_equal(op(0)->operation, "COM_INIT_DB");
    assert_int_equal(op(0)->error, 1);
    assert_string_equal(op(0)->status_code, "1049");
}

/* ---- a MySQL 8 conversation made from the protocol documents ---- */

typedef struct conv {
    seg_t segs[64];
    size_t n, used;
    uint8_t mem[8192];
} conv_t;

static conv_t conv;

/* One packet as its own segment. */
static void pkt(int in, uint8_t seq, const void *payload, size_t n)
{
    uint8_t *p = conv.mem + conv.used;

    assert_true(conv.n < 64 && conv.used + 4 + n <= sizeof(conv.mem));
    p[0] = (uint8_t)n;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)(n >> 16);
    p[3] = seq;
    memcpy(p + 4, payload, n);
    conv.segs[conv.n++] = (seg_t){in, p, 4 + n};
    conv.used += 4 + n;
}

#define PKT(in, seq, lit) pkt(in, seq, lit, sizeof(lit) - 1)

/* PROTOCOL_41, SECURE_CONNECTION, CONNECT_WITH_DB, PLUGIN_AUTH(_LENENC),
 * MULTI_STATEMENTS / RESULTS, TRANSACTIONS, DEPRECATE_EOF,
 * QUERY_ATTRIBUTES, and bit 0 (MySQL, not MariaDB). */
#define CAPS "\x09\xa2\x2b\x09"

#define OK_AUTOCOMMIT "\x00\x00\x00\x02\x00\x00\x00"
#define COLDEF_NAME "\x03" "def" "\0\0\0\x04name\0\x0c\x21\0\0\0\0\0\xfd\0\0\0\0\0"
/* statement 5, no cursor, once, one BIGINT parameter: 7 */
#define EXECUTE_5_WITH_7 "\x17\x05\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x07\0\0\0\0\0\0\0"

static void mysql8_conversation(void)
{
    memset(&conv, 0, sizeof(conv));
    PKT(1, 0, "\x0a" "8.0.36\0" "\x08\0\0\0" "abcdefgh\0" "\x09\xa2" "\xff" "\x02\0" "\x2b\x09"
              "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst\0" "caching_sha2_password");
    PKT(0, 1, CAPS "\0\0\0\x01" "\xff" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
              "app\0" "\x20" "0123456789abcdef0123456789abcdef" "inventory\0"
              "caching_sha2_password");
    PKT(1, 2, "\x01\x03"); /* fast auth: the password was right */
    PKT(1, 3, OK_AUTOCOMMIT);
    /* COM_QUERY with (empty) query attributes; a result set ending in OK 0xfe */
    PKT(0, 0, "\x03\x00\x01" "SELECT name FROM items WHERE id = 7");
    PKT(1, 1, "\x01");
    PKT(1, 2, "\x03" "def" "\x09" "inventory" "\x05" "items" "\x05" "items" "\x04" "name"
              "\x04" "name" "\x0c" "\x21\x00\x50\x00\x00\x00\xfd\x00\x00\x00\x00\x00");
    PKT(1, 3, "\x03" "box");
    PKT(1, 4, "\xfe\x00\x00\x02\x00\x00\x00");
    /* an error, SQLSTATE marker and all */
    PKT(0, 0, "\x03\x00\x01" "SELECT nope FROM items");
    PKT(1, 1, "\xff\x1e\x04#42S22Unknown column 'nope' in 'field list'");
    /* COM_CHANGE_USER with an auth switch on the way */
    PKT(0, 0, "\x11" "bob\0" "\x14" "01234567890123456789" "shop\0" "\x21\x00"
              "mysql_native_password\0");
    PKT(1, 1, "\xfe" "mysql_native_password\0" "01234567890123456789");
    PKT(0, 2, "abcdefghijabcdefghij");
    PKT(1, 3, OK_AUTOCOMMIT);
    PKT(0, 0, "\x0e");
    PKT(1, 1, OK_AUTOCOMMIT);
    /* prepared: PREPARE_OK with one parameter and one column, no EOFs */
    PKT(0, 0, "\x16" "SELECT name FROM items WHERE id = ?");
    PKT(1, 1, "\x00\x05\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00");
    PKT(1, 2, "\x03" "def" "\0\0\0\x01?\0\x0c\x3f\0\0\0\0\0\x08\x80\0\0\0\0");
    PKT(1, 3, COLDEF_NAME);
    PKT(0, 0, "\x18\x05\x00\x00\x00\x00\x00" "long data never waited for");
    PKT(0, 0, EXECUTE_5_WITH_7);
    PKT(1, 1, "\x01");
    PKT(1, 2, COLDEF_NAME);
    PKT(1, 3, "\x00\x00\x03" "box");
    PKT(1, 4, "\xfe\x00\x00\x02\x00\x00\x00");
    PKT(0, 0, "\x1a\x05\x00\x00\x00");
    PKT(1, 1, OK_AUTOCOMMIT);
    PKT(0, 0, "\x09");
    PKT(1, 1, "Uptime: 5  Threads: 1  Questions: 9");
    /* closed (no reply), then executed: the server and the follower forgot it */
    PKT(0, 0, "\x19\x05\x00\x00\x00");
    PKT(0, 0, EXECUTE_5_WITH_7);
    PKT(1, 1, "\xff\xdb\x04#HY000Unknown prepared statement handler");
    /* a procedure: a result set, more results, then its OK; one statement */
    PKT(0, 0, "\x03\x00\x01" "CALL restock(3)");
    PKT(1, 1, "\x01");
    PKT(1, 2, COLDEF_NAME);
    PKT(1, 3, "\x03" "box");
    PKT(1, 4, "\xfe\x00\x00\x0a\x00\x00\x00");
    PKT(1, 5, "\x00\x01\x00\x02\x00\x00\x00");
    PKT(0, 0, "\x01");
}

static void test_mysql8(void **state)
{
    (void)state;
    mysql8_conversation();
    every_split(conv.segs, conv.n);
    assert_int_equal(whole.rc, 1);
    assert_string_equal(ss_mysql_system(&whole.st), "mysql");
    assert_int_equal(whole.got.n, 10);
    assert_string_equal(op(0)->namespace_, "inventory");
    assert_string_equal(op(0)->query_text, "SELECT name FROM items WHERE id = ?");
    assert_int_equal(op(0)->error, 0);
    assert_int_equal(op(1)->error, 1);
    assert_string_equal(op(1)->status_code, "1054");
    assert_string_equal(op(2)->operation, "COM_CHANGE_USER");
    assert_string_equal(op(2)->namespace_, "shop");
    assert_string_equal(op(3)->operation, "COM_PING");
    assert_string_equal(op(3)->namespace_, "shop");
    assert_string_equal(op(4)->query_text, "SELECT name FROM items WHERE id = ?");
    assert_string_equal(op(5)->query_text, "SELECT name FROM items WHERE id = ?");
    assert_string_equal(op(5)->collection, "items");
    assert_string_equal(op(6)->operation, "COM_STMT_RESET");
    assert_string_equal(op(7)->operation, "COM_STATISTICS");
    assert_string_equal(op(8)->operation, "COM_STMT_EXECUTE");
    assert_string_equal(op(8)->query_text, "");
    assert_string_equal(op(8)->status_code, "1243");
    assert_int_equal(whole.st.unknown_stmt, 1);
    assert_string_equal(op(9)->operation, "CALL");
    assert_int_equal(op(9)->batch_size, 0);
    assert_int_equal(op(9)->error, 0);
}

static void test_detect(void **state)
{
    static const uint8_t http[] = "HTTP/1.1 200 OK\r\n\r\n";
    static const uint8_t get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789";

    (void)state;
    assert_int_equal(ss_mysql_detect(rec_query_0, sizeof(rec_query_0), SS_DB_IN), 1);
    assert_int_equal(ss_mysql_detect(rec_query_0, 12, SS_DB_IN), -1);
    assert_int_equal(ss_mysql_detect(http, sizeof(http) - 1, SS_DB_IN), 0);
    assert_int_equal(ss_mysql_detect(rec_query_1, sizeof(rec_query_1), SS_DB_OUT), 1);
    assert_int_equal(ss_mysql_detect(get, sizeof(get) - 1, SS_DB_OUT), 0);
    assert_int_equal(ss_mysql_detect(rec_query_1, 20, SS_DB_OUT), -1);
    /* a server's ERR instead of a greeting is not followed */
    assert_int_equal(ss_mysql_detect(rec_error_3, sizeof(rec_error_3), SS_DB_IN), 0);
}

/* ---- what the follower reads in SQL text itself ---- */

static void test_statements_and_use(void **state)
{
    char db[8];

    (void)state;
#define STMTS(q) ss_mysql_statements(q, sizeof(q) - 1)
    assert_int_equal(STMTS("SELECT 1"), 1);
    assert_int_equal(STMTS("SELECT 1;"), 1);
    assert_int_equal(STMTS("SELECT 1 ;  \n"), 1);
    assert_int_equal(STMTS("SELECT 1; SELECT 2;SELECT 3"), 3);
    assert_int_equal(STMTS("SELECT ';', \";\", `a;b`, 'it\\'s;' FROM t"), 1);
    assert_int_equal(STMTS("SELECT 1 -- ; SELECT 2\n"), 1);
    assert_int_equal(STMTS("SELECT 1 # ;x\n; SELECT 2"), 2);
    assert_int_equal(STMTS("SELECT /* ; x */ 1; /* c */"), 1); /* a comment is no statement */
    assert_int_equal(STMTS("SELECT 'unterminated; SELECT 2"), 1);
#define USE(q) ss_mysql_use_db(q, sizeof(q) - 1, db, sizeof(db))
    assert_true(USE("USE shop"));
    assert_string_equal(db, "shop");
    assert_true(USE("  use `my db` ;"));
    assert_string_equal(db, "my db");
    assert_true(USE("USE averylongname")); /* cut to the field */
    assert_string_equal(db, "averylo");
    assert_false(USE("USE shop; SELECT 1"));
    assert_false(USE("USER shop"));
    assert_false(USE("USE `open"));
    assert_false(USE("USE "));
    assert_false(USE("SELECT 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_result_set),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_init_db_ping_prepared),
        cmocka_unit_test(test_use_multi_statement_infile),
        cmocka_unit_test(test_compressed_lets_go),
        cmocka_unit_test(test_ssl_request),
        cmocka_unit_test(test_large_packet),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_quit_behind_a_command),
        cmocka_unit_test(test_unknown_statement),
        cmocka_unit_test(test_init_db_error),
        cmocka_unit_test(test_mysql8),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_statements_and_use),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
