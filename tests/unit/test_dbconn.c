/*
 * test_dbconn.c - the database modules behind the connection core: the
 * recorded conversations of test_redis, test_pg and test_mysql (and a few
 * written ones) driven through ss_conn_send / ss_conn_on_recv whole, split
 * at every byte and a few bytes at a time (dbconn_run.h). Each must give
 * the same spans, exactly as exported (names, db.* attributes, errors,
 * server.port only off the default port, children of the server span the
 * thread serves), the bytes on the wire exactly the program's, and the
 * same fate: followed, let go and counted, or never taken. Then detection
 * (HTTP keeps its connections, Redis inline commands, what no module
 * knows), TLS (a session's plaintext alone, and a session taking over the
 * socket's conversation), the ends of a connection with an operation in
 * flight, and two threads on one connection.
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

#include <pthread.h>
#include <sched.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_proto.h"
#include "unit_config.h"

/* redis_wire.h names its type as wire.h does */
#define wire redis_wire
#define wire_t redis_wire_t
#include "redis_wire.h"
#undef wire
#undef wire_t
#include "mysql_recorded.h"
#include "pg_pgbench.h"

#include "dbconn_run.h"

static dbc_conv_t conv;

/* ---- the server span the database spans belong to ---------------------- */

static int serving(void **state)
{
    (void)state;
    dbc_serve("GET /in HTTP/1.1\r\nHost: me\r\n"
              "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n");
    return 0;
}

static int served(void **state)
{
    (void)state;
    dbc_serve_end();
    return 0;
}

/* ---- conversations ------------------------------------------------------- */

static void from_redis(const redis_wire_t *w)
{
    conv.n = 0;
    for (; w->bytes; w++)
        dbc_add(&conv, w->dir == SS_DB_IN, w->bytes, strlen(w->bytes));
}

static void from_mysql(const seg_t *s, size_t n)
{
    conv.n = 0;
    for (size_t i = 0; i < n; i++)
        dbc_add(&conv, s[i].in, s[i].p, s[i].n);
}

#define FROM_MYSQL(rec) from_mysql(rec, sizeof(rec) / sizeof(rec[0]))

static void from_pgbench(void)
{
    conv.n = 0;
    for (size_t i = 0; i < sizeof(pgbench_prepared) / sizeof(pgbench_prepared[0]); i++)
        dbc_add(&conv, pgbench_prepared[i].in, pgbench_prepared[i].b, pgbench_prepared[i].n);
}

/* PostgreSQL messages written from the protocol document, each direction's
 * run of messages one segment (one write, one read). */
static uint8_t pg_bytes[16384];
static size_t pg_len;

static void pg_msg(int in, char type, const void *body, size_t len)
{
    uint32_t n = (uint32_t)len + 4;
    uint8_t *p = pg_bytes + pg_len;
    dbc_seg_t *last = conv.n ? &conv.seg[conv.n - 1] : NULL;

    assert_true(pg_len + len + 5 <= sizeof(pg_bytes));
    if (type)
        *p++ = (uint8_t)type;
    *p++ = (uint8_t)(n >> 24);
    *p++ = (uint8_t)(n >> 16);
    *p++ = (uint8_t)(n >> 8);
    *p++ = (uint8_t)n;
    memcpy(p, body, len);
    p += len;
    if (last && last->in == in && last->p + last->n == pg_bytes + pg_len)
        last->n += (size_t)(p - (pg_bytes + pg_len));
    else
        dbc_add(&conv, in, pg_bytes + pg_len, (size_t)(p - (pg_bytes + pg_len)));
    pg_len = (size_t)(p - pg_bytes);
}

#define PG(in, type, lit) pg_msg(in, type, lit, sizeof(lit) - 1)

static void pg_start(void)
{
    conv.n = 0;
    pg_len = 0;
    PG(0, 0, "\0\3\0\0user\0app\0database\0shop\0\0");
    PG(1, 'R', "\0\0\0\0");
    PG(1, 'S', "server_version\00016.2\0");
    PG(1, 'K', "\0\0\4\322\1\2\3\4");
    PG(1, 'Z', "I");
}

/* ---- Redis ----------------------------------------------------------------- */

#define PEER(port) "server.address=127.0.0.1 network.peer.address=127.0.0.1 network.peer.port=" #port
#define R6379 PEER(6379)
#define R_PING "PING 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=PING db.query.text=PING " R6379

static void dump(const char *what, const dbc_out_t *o)
{
    if (getenv("DBCONN_DUMP"))
        printf("== %s: spans %d followed %d let_go %llu opaque %llu db %llu\n%s", what, o->spans,
               o->followed, (unsigned long long)o->let_go, (unsigned long long)o->opaque,
               (unsigned long long)o->db, o->log);
}

/* redis-cli's session: every kind of reply, errors with their prefix,
 * SELECT giving db.namespace, MULTI/EXEC a batch; the default port left out. */
static void test_redis_cli(void **state)
{
    static const char *const want[] = {
        "SET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=SET db.query.text=SET k ? " R6379,
        "GET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=GET db.query.text=GET k " R6379,
        "LPUSH 0|3|2|served|db.system.name=redis db.namespace=0 db.operation.name=LPUSH db.query.text=LPUSH k ? db.response.status_code=WRONGTYPE " R6379 " error.type=WRONGTYPE",
        "SELECT 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=SELECT db.query.text=SELECT ? " R6379,
        "SELECT 2|3|2|served|db.system.name=redis db.namespace=2 db.operation.name=SELECT db.query.text=SELECT ? db.response.status_code=ERR " R6379 " error.type=ERR",
        "GET 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=GET db.query.text=GET k " R6379,
        "AUTH 2|3|2|served|db.system.name=redis db.namespace=2 db.operation.name=AUTH db.query.text=AUTH ? db.response.status_code=ERR " R6379 " error.type=ERR",
        "MULTI 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=MULTI db.query.text=MULTI " R6379,
        "SET 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=SET db.query.text=SET a ? " R6379,
        "INCR 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=INCR db.query.text=INCR a " R6379,
        "MULTI|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=EXEC db.query.summary=MULTI db.query.text=EXEC db.operation.batch.size=2 " R6379,
        "EVAL 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=EVAL db.query.text=EVAL ? ? " R6379,
        "HELLO 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=HELLO db.query.text=HELLO ? " R6379,
        "HSET 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=HSET db.query.text=HSET h ? ? " R6379,
        "HGETALL 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=HGETALL db.query.text=HGETALL h " R6379,
        "DEL 2|3|0|served|db.system.name=redis db.namespace=2 db.operation.name=DEL db.query.text=DEL k ? ? " R6379,
        NULL};
    const dbc_out_t *o;

    (void)state;
    from_redis(cli_session);
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("cli", o);
    dbc_expect(o, want);
    assert_true(o->followed);
    assert_int_equal(o->db, 1);
    assert_int_equal(o->let_go + o->opaque, 0);
    assert_null(strstr(o->log, "secretpw"));
}

/* Off the default port, server.port says which; with no request served,
 * a span is a trace of its own. */
static void test_redis_port_and_root(void **state)
{
    static const char *const want[] = {
        "SET 0|3|0|root|db.system.name=redis db.namespace=0 db.operation.name=SET db.query.text=SET k ? "
        "server.address=127.0.0.1 server.port=6380 network.peer.address=127.0.0.1 network.peer.port=6380",
        NULL};

    (void)state;
    from_redis(cli_session);
    conv.n = 2;
    dbc_expect(dbc_every_split(&conv, 6380, 0, DBC_CLOSE), want);
}

/* redis-benchmark -P 16: sixteen commands in one write, sixteen replies
 * in one read, matched in order. */
static void test_redis_pipelines(void **state)
{
    const redis_wire_t *convs[] = {bench_config, bench_set, bench_get};
    const char *first[] = {
        "CONFIG GET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=CONFIG GET db.query.text=CONFIG GET ? " R6379 "\n",
        "SET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=SET db.query.text=SET key:__rand_int__ ? " R6379 "\n",
        "GET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=GET db.query.text=GET key:__rand_int__ " R6379 "\n"};
    const int spans[] = {2, 16, 16};

    (void)state;
    for (int i = 0; i < 3; i++) {
        const dbc_out_t *o;
        const char *p;
        int n = 0;

        from_redis(convs[i]);
        o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
        dump("bench", o);
        assert_int_equal(o->spans, spans[i]);
        for (p = o->log; *p; p += strlen(first[i]), n++)
            assert_memory_equal(p, first[i], strlen(first[i]));
        assert_int_equal(n, spans[i]);
    }
}

/* redis-py: a MULTI/EXEC pipeline in one write, pub/sub with pushed
 * messages (no span each), RESP3 after HELLO 3; no password anywhere. */
static void test_redis_py(void **state)
{
    const dbc_out_t *o;

    (void)state;
    from_redis(py_resp2);
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("py2", o);
    assert_int_equal(o->spans, 14);
    assert_non_null(strstr(o->log, "\nMULTI|3|0|served|db.system.name=redis db.namespace=0 "
                                   "db.operation.name=EXEC db.query.summary=MULTI db.query.text=EXEC "
                                   "db.operation.batch.size=3 "));
    assert_non_null(strstr(o->log, "\nSUBSCRIBE 0|3|0|served|"));
    from_redis(py_resp3);
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("py3", o);
    assert_int_equal(o->spans, 17);
    assert_null(strstr(o->log, "secretpw"));
    assert_null(strstr(o->log, "nopass-secret"));
    assert_int_equal(o->let_go, 0);
}

/* A pipeline deeper than the commands a connection follows awaiting
 * replies (64): those past it go untraced, their replies still pair with
 * their own commands, and what follows is traced again. */
static void test_redis_pipeline_past_cap(void **state)
{
    static char pings[70 * 14 + 1], pongs[70 * 7 + 1];
    char want[DBC_LOG_MAX];
    size_t len = 0;

    (void)state;
    pings[0] = pongs[0] = '\0';
    for (int i = 0; i < 70; i++) {
        strcat(pings, "*1\r\n$4\r\nPING\r\n");
        strcat(pongs, "+PONG\r\n");
    }
    conv.n = 0;
    dbc_add(&conv, 0, pings, strlen(pings));
    dbc_add(&conv, 1, pongs, strlen(pongs));
    DBC_LIT(&conv, 0, "*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n");
    DBC_LIT(&conv, 1, "-ERR not an integer\r\n");
    for (int i = 0; i < 64; i++)
        len += (size_t)snprintf(want + len, sizeof(want) - len, "%s\n", R_PING);
    snprintf(want + len, sizeof(want) - len,
             "INCR 0|3|2|served|db.system.name=redis db.namespace=0 db.operation.name=INCR "
             "db.query.text=INCR z db.response.status_code=ERR " R6379 " error.type=ERR\n");
    dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    assert_string_equal(dbc_whole.log, want);
}

/* One thread writes commands while another reads their replies on the
 * same connection (a pipelining client with a reader thread, at most 32
 * commands ahead): every command gets its own span, whoever ends it. */
#define THREADED_OPS 200

static int thr_fd;
static unsigned thr_sent, thr_read;

static void *thr_reader(void *arg)
{
    char pong[] = "+PONG\r\n";

    (void)arg;
    for (unsigned i = 0; i < THREADED_OPS; i++) {
        while (__atomic_load_n(&thr_sent, __ATOMIC_ACQUIRE) <= i)
            sched_yield();
        conn_io_read(NULL, thr_fd, pong, sizeof(pong) - 1);
        __atomic_store_n(&thr_read, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_redis_two_threads(void **state)
{
    static dbc_out_t o;
    static wire_t w;
    char ping[] = "*1\r\n$4\r\nPING\r\n";
    pthread_t reader;
    int sp[2];
    const char *p;
    int n = 0;

    (void)state;
    memset(&o, 0, sizeof(o));
    memset(&w, 0, sizeof(w));
    w.limit = sizeof(w.out);
    assert_int_equal(wire_pair(sp, 0, 6379), 0);
    thr_fd = sp[0];
    thr_sent = thr_read = 0;
    dbc_cur = &o;
    assert_int_equal(pthread_create(&reader, NULL, thr_reader, NULL), 0);
    for (unsigned i = 0; i < THREADED_OPS; i++) {
        while (i >= __atomic_load_n(&thr_read, __ATOMIC_ACQUIRE) + 32)
            sched_yield();
        assert_int_equal(conn_io_write(NULL, sp[0], ping, sizeof(ping) - 1, wire_send, &w),
                         sizeof(ping) - 1);
        __atomic_store_n(&thr_sent, i + 1, __ATOMIC_RELEASE);
    }
    pthread_join(reader, NULL);
    dbc_cur = NULL;
    assert_true(ss_fd_followed(sp[0]));
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    assert_int_equal(o.spans, THREADED_OPS);
    for (p = o.log; (p = strstr(p, "PING 0|3|0|root|")) != NULL; p++)
        n++;
    assert_int_equal(n, THREADED_OPS);
    assert_int_equal(w.len, THREADED_OPS * (sizeof(ping) - 1));
}

/* ---- PostgreSQL ---------------------------------------------------------- */

#define P5432 PEER(5432)

/* pgbench -M prepared: the SSLRequest answered N goes on in plaintext,
 * the StartupMessage names the database, each statement prepared once
 * and executed by name. */
static void test_pg_pgbench(void **state)
{
    const dbc_out_t *o;

    (void)state;
    from_pgbench();
    o = dbc_every_split(&conv, 5432, 0, DBC_CLOSE);
    dump("pgbench", o);
    assert_int_equal(o->spans, 28);
    assert_true(o->followed);
    assert_memory_equal(o->log, "BEGIN|3|0|served|db.system.name=postgresql db.namespace=bench "
                        "db.operation.name=BEGIN db.query.summary=BEGIN db.query.text=BEGIN; " P5432 "\n",
                        strlen("BEGIN|3|0|served|db.system.name=postgresql db.namespace=bench "
                               "db.operation.name=BEGIN db.query.summary=BEGIN db.query.text=BEGIN; " P5432 "\n"));
    assert_non_null(strstr(o->log, "\nUPDATE pgbench_accounts|3|0|served|db.system.name=postgresql "
                                   "db.namespace=bench db.collection.name=pgbench_accounts "
                                   "db.operation.name=UPDATE db.query.summary=UPDATE pgbench_accounts "
                                   "db.query.text=UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2; "));
}

/* Extended queries pipelined before one Sync, answered in order; then a
 * pipeline whose first statement fails: both end with its SQLSTATE. */
static void test_pg_pipelined(void **state)
{
    static const char *const want[] = {
        "INSERT a|3|0|served|db.system.name=postgresql db.namespace=shop db.collection.name=a db.operation.name=INSERT db.query.summary=INSERT a db.query.text=INSERT INTO a (x) VALUES ($1) " P5432,
        "SELECT b|3|0|served|db.system.name=postgresql db.namespace=shop db.collection.name=b db.operation.name=SELECT db.query.summary=SELECT b db.query.text=SELECT x FROM b " P5432,
        "INSERT a|3|2|served|db.system.name=postgresql db.namespace=shop db.collection.name=a db.operation.name=INSERT db.query.summary=INSERT a db.query.text=INSERT INTO a (x) VALUES ($1) db.response.status_code=23505 " P5432 " error.type=23505",
        "SELECT b|3|2|served|db.system.name=postgresql db.namespace=shop db.collection.name=b db.operation.name=SELECT db.query.summary=SELECT b db.query.text=SELECT x FROM b db.response.status_code=23505 " P5432 " error.type=23505",
        "SELECT|3|0|served|db.system.name=postgresql db.namespace=shop db.operation.name=SELECT db.query.summary=SELECT db.query.text=SELECT ? " P5432,
        NULL};
    int round;

    (void)state;
    pg_start();
    for (round = 0; round < 2; round++) {
        PG(0, 'P', "\0INSERT INTO a (x) VALUES ($1)\0\0\0");
        PG(0, 'B', "\0\0\0\0\0\1\0\0\0\6secret\0\0");
        PG(0, 'E', "\0\0\0\0\0");
        PG(0, 'P', "\0SELECT x FROM b\0\0\0");
        PG(0, 'B', "\0\0\0\0\0\0\0\0");
        PG(0, 'D', "P\0");
        PG(0, 'E', "\0\0\0\0\0");
        PG(0, 'S', "");
        PG(1, '1', "");
        PG(1, '2', "");
        if (round == 1) {
            PG(1, 'E', "SERROR\0VERROR\0C23505\0Mduplicate key\0Dsecret\0\0");
            PG(1, 'Z', "I");
            break;
        }
        PG(1, 'C', "INSERT 0 1\0");
        PG(1, '1', "");
        PG(1, '2', "");
        PG(1, 'T', "\0\1x\0\0\0@\1\0\1\0\0\0\27\0\4\377\377\377\377\0\0");
        PG(1, 'D', "\0\1\0\0\0\6secret");
        PG(1, 'C', "SELECT 1\0");
        PG(1, 'Z', "I");
    }
    PG(0, 'Q', "SELECT 1\0");
    PG(1, 'T', "\0\1x\0\0\0@\1\0\1\0\0\0\27\0\4\377\377\377\377\0\0");
    PG(1, 'D', "\0\1\0\0\0\1" "1");
    PG(1, 'C', "SELECT 1\0");
    PG(1, 'Z', "I");
    dbc_expect(dbc_every_split(&conv, 5432, 0, DBC_CLOSE), want);
    assert_null(strstr(dbc_whole.log, "secret"));
}

/* A corrupt PostgreSQL stream is let go and counted once, wherever the
 * writes were split; a protocol it does not know is never taken. */
static void test_pg_let_go(void **state)
{
    const dbc_out_t *o;

    (void)state;
    pg_start();
    PG(0, 'Q', "SELECT 1\0");
    PG(1, 'Z', "I"); /* an empty answer to nothing: fine */
    dbc_add(&conv, 0, "Q\0\0\0\3", 5); /* a length below 4 */
    o = dbc_every_split(&conv, 5432, 0, DBC_CLOSE);
    dump("corrupt", o);
    assert_int_equal(o->let_go, 1);
    assert_false(o->followed);

    /* corrupt in the very write detection decides on: counted the same */
    conv.n = 0;
    DBC_LIT(&conv, 0, "\0\0\0\x10\0\3\0\0user\0a\0\0Q\0\0\0\3");
    o = dbc_every_split(&conv, 5432, 0, DBC_CLOSE);
    dump("corrupt at once", o);
    assert_int_equal(o->let_go, 1);
    assert_int_equal(o->db, 1);
    assert_false(o->followed);

    conv.n = 0;
    pg_len = 0;
    PG(0, 0, "\0\2\0\0user\0x\0\0"); /* protocol 2: not taken at all */
    o = dbc_every_split(&conv, 5432, 0, DBC_CLOSE);
    dump("proto2", o);
    assert_false(o->followed);
    assert_int_equal(o->opaque, 1);
    assert_int_equal(o->let_go + o->db, 0);
}

/* The TLS handshake on the socket, passing untouched and unread; then
 * the session, whose plaintext follows. */
static void tls_starts(void)
{
    DBC_LIT(&conv, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x5b\x91"); /* ClientHello */
    DBC_LIT(&conv, 1, "\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03\x8e"); /* ServerHello */
    dbc_add(&conv, DBC_TLS_ON, NULL, 0);
}

static const char pg_select_t[] =
    "SELECT t|3|0|served|db.system.name=postgresql db.namespace=shop db.collection.name=t "
    "db.operation.name=SELECT db.query.summary=SELECT t db.query.text=SELECT * FROM t WHERE a = ? "
    P5432 "\n";

static void pg_select(void)
{
    PG(0, 'Q', "SELECT * FROM t WHERE a = 'x'\0");
    PG(1, 'C', "SELECT 0\0");
    PG(1, 'Z', "I");
}

/* The plaintext of a TLS session the core has not seen begin: it starts
 * with the StartupMessage, and is followed from there. */
static void test_pg_tls_plaintext(void **state)
{
    const dbc_out_t *o;

    (void)state;
    pg_start();
    pg_select();
    o = dbc_every_split(&conv, 5432, 1, DBC_CLOSE);
    dump("pg tls", o);
    assert_string_equal(o->log, pg_select_t);
}

/* SSLRequest answered S: the socket's handshake bytes pass untouched and
 * unread, the TLS session on it takes the conversation over (no let-go),
 * and its plaintext begins with the StartupMessage. */
static void test_pg_tls_handover(void **state)
{
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    pg_len = 0;
    PG(0, 0, "\x04\xd2\x16\x2f");
    dbc_add(&conv, 1, "S", 1);
    tls_starts();
    PG(0, 0, "\0\3\0\0user\0app\0database\0shop\0\0");
    PG(1, 'R', "\0\0\0\0");
    PG(1, 'Z', "I");
    pg_select();
    o = dbc_every_split(&conv, 5432, 0, DBC_CLOSE);
    dump("pg handover", o);
    assert_string_equal(o->log, pg_select_t);
    assert_int_equal(o->let_go + o->opaque, 0);
    assert_int_equal(o->db, 1);
}

/* ---- MySQL / MariaDB -------------------------------------------------------- */

#define M3306 PEER(3306)

/* The greeting is read first; the handshake's database is db.namespace;
 * MariaDB by its greeting; ERR packets give the error number. */
static void test_mysql_recorded(void **state)
{
    static const char *const want_query[] = {
        "SELECT users|3|0|served|db.system.name=mariadb db.namespace=shop db.collection.name=users db.operation.name=SELECT db.query.summary=SELECT users db.query.text=SELECT id, name FROM users WHERE id = ? " M3306,
        NULL};
    static const char *const want_error[] = {
        "SELECT missing|3|2|served|db.system.name=mariadb db.namespace=shop db.collection.name=missing db.operation.name=SELECT db.query.summary=SELECT missing db.query.text=SELECT * FROM missing db.response.status_code=1146 " M3306 " error.type=1146",
        NULL};
    const dbc_out_t *o;

    (void)state;
    FROM_MYSQL(rec_query);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("query", o);
    dbc_expect(o, want_query);
    FROM_MYSQL(rec_error);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("error", o);
    dbc_expect(o, want_error);
    FROM_MYSQL(rec_pymysql);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("pymysql", o);
    assert_int_equal(o->spans, 6);
    FROM_MYSQL(rec_multi);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("multi", o);
    assert_int_equal(o->spans, 5);
    assert_non_null(strstr(o->log, "db.operation.batch.size=2"));
}

/* A compressed connection is let go at the handshake, counted, its bytes
 * untouched. */
static void test_mysql_compressed(void **state)
{
    const dbc_out_t *o;

    (void)state;
    FROM_MYSQL(rec_compressed);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("compressed", o);
    assert_int_equal(o->spans, 0);
    assert_int_equal(o->let_go, 1);
    assert_int_equal(o->db, 1);
    assert_false(o->followed);
}

/* rec_query over TLS: from the greeting on the socket, whose module the
 * TLS session takes over, or the session's plaintext alone, which begins
 * with the full HandshakeResponse41 (sequence 2). */
static void mysql_tls_conv(int from_socket)
{
    static rec_tls_t t;
    static uint8_t ok[sizeof(rec_query_2)];

    rec_query_tls(&t);
    memcpy(ok, rec_query_2, sizeof(ok));
    ok[3] = 3;
    conv.n = 0;
    if (from_socket) {
        dbc_add(&conv, 1, t.greet, sizeof(t.greet));
        dbc_add(&conv, 0, t.ssl, sizeof(t.ssl));
        tls_starts();
    }
    dbc_add(&conv, 0, t.resp, sizeof(t.resp));
    dbc_add(&conv, 1, ok, sizeof(ok));
    for (size_t i = 3; i < sizeof(rec_query) / sizeof(rec_query[0]); i++)
        dbc_add(&conv, rec_query[i].in, rec_query[i].p, rec_query[i].n);
}

#define M_SELECT(system)                                                                    \
    "SELECT users|3|0|served|db.system.name=" system " db.namespace=shop "                  \
    "db.collection.name=users db.operation.name=SELECT db.query.summary=SELECT users "      \
    "db.query.text=SELECT id, name FROM users WHERE id = ? " M3306 "\n"

/* A TLS session's plaintext alone is followed from its first packet (the
 * server unknown: mysql). */
static void test_mysql_tls_plaintext(void **state)
{
    const dbc_out_t *o;

    (void)state;
    mysql_tls_conv(0);
    o = dbc_every_split(&conv, 3306, 1, DBC_CLOSE);
    dump("mysql tls", o);
    assert_string_equal(o->log, M_SELECT("mysql"));
}

/* MariaDB over TLS: the greeting read on the socket offers TLS, the SSL
 * request is written there, and the TLS session takes the conversation
 * over with the greeting's verdict (mariadb); no let-go. */
static void test_mysql_tls_handover(void **state)
{
    const dbc_out_t *o;

    (void)state;
    mysql_tls_conv(1);
    o = dbc_every_split(&conv, 3306, 0, DBC_CLOSE);
    dump("mysql handover", o);
    assert_string_equal(o->log, M_SELECT("mariadb"));
    assert_int_equal(o->let_go + o->opaque, 0);
    assert_int_equal(o->db, 1);
}

/* ---- the end of a connection with an operation in flight ------------------- */

static void in_flight(void)
{
    from_redis(cli_session);
    conv.n = 3; /* SET answered, GET written */
}

static void test_ends(void **state)
{
    const dbc_out_t *o;

    (void)state;
    in_flight();
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE); /* the program closed it: not news */
    dump("close", o);
    assert_int_equal(o->spans, 1);
    in_flight();
    o = dbc_every_split(&conv, 6379, 0, DBC_EOF);
    dump("eof", o);
    assert_int_equal(o->spans, 2);
    /* what never completed has no attributes but the connection's (not
     * another operation's, whose record it may reuse) */
    assert_non_null(strstr(o->log, "\n127.0.0.1:6379|3|2|served|db.system.name=redis " R6379
                                   " error.type=no_response\n"));
    in_flight();
    o = dbc_every_split(&conv, 6379, 0, DBC_RESET);
    dump("reset", o);
    assert_int_equal(o->spans, 2);
    assert_non_null(strstr(o->log, "\n127.0.0.1:6379|3|2|served|db.system.name=redis " R6379
                                   " error.type=ECONNRESET\n"));
}

/* Commands never answered leave no span and take no other's reply: an
 * empty command (*0), and CLIENT REPLY OFF, after which the follower lets
 * go (counted). */
static void test_never_answered(void **state)
{
    static const char *const want[] = {
        R_PING,
        R_PING,
        NULL};
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    DBC_LIT(&conv, 0, "*1\r\n$4\r\nPING\r\n");
    DBC_LIT(&conv, 1, "+PONG\r\n");
    DBC_LIT(&conv, 0, "*0\r\n*1\r\n$4\r\nPING\r\n");
    DBC_LIT(&conv, 1, "+PONG\r\n");
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("*0", o);
    dbc_expect(o, want);
    assert_true(o->followed);

    conv.n = 0;
    DBC_LIT(&conv, 0, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n"
                      "$3\r\nOFF\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\n");
    DBC_LIT(&conv, 1, "$1\r\nA\r\n");
    DBC_LIT(&conv, 0, "*1\r\n$4\r\nPING\r\n");
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("reply off", o);
    assert_int_equal(o->spans, 1);
    assert_int_equal(o->let_go, 1);
    assert_false(o->followed);
}

/* ---- detection through the core ------------------------------------------- */

/* The protocol following fd now ("" none). */
static const char *proto_of(int fd)
{
    ss_conn_t *c = ss_fd_get(fd);
    const char *name = c && c->proto ? c->proto->name : "";

    ss_conn_put(c);
    return name;
}

/* msg written a byte at a time on a connection to port: the protocol
 * that takes it is `proto`; how many bytes the wire has more. */
static size_t sent_bytewise(const char *msg, size_t len, uint16_t port, const char *proto)
{
    static wire_t w;
    int sp[2];

    assert_int_equal(wire_pair(sp, 0, port), 0);
    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(sp[0], msg, len, 1, &w);
    assert_string_equal(proto_of(sp[0]), proto);
    assert_true(w.len >= len);
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    return w.len - len;
}

/* HTTP/1 and HTTP/2 keep their connections (even on Redis's port): the first writes of each,
 * a byte at a time, are taken by their module and HTTP/1's gets its
 * traceparent. */
static void test_detect_http_wins(void **state)
{
    static const char h1[] = "GET /orders HTTP/1.1\r\nHost: shop\r\n\r\n";
    static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    static const char long_line[] = "GET /search?q=0123456789012345678901234567890123456789"
                                    "0123456789012345678901234567890123456789 HTTP/1.1\r\n"
                                    "Host: shop\r\n\r\n";

    (void)state;
    /* a traceparent line more on the wire */
    assert_int_equal(sent_bytewise(h1, sizeof(h1) - 1, 6379, "http1"), 13 + 55 + 2);
    /* a request line longer than detection keeps is still HTTP/1's */
    assert_int_equal(sent_bytewise(long_line, sizeof(long_line) - 1, 8080, "http1"), 13 + 55 + 2);
    assert_int_equal(sent_bytewise(h2, sizeof(h2) - 1, 5432, "http2"), 0);
}

/* Redis inline commands are Redis's, however they are split, though
 * their first word and a space read as a request line so far. */
static void test_detect_redis_inline(void **state)
{
    static const char *const want[] = {
        R_PING,
        "GET 0|3|0|served|db.system.name=redis db.namespace=0 db.operation.name=GET db.query.text=GET k " R6379,
        NULL};
    static const char *const want_get[] = {want[1], want[0], NULL};
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    DBC_LIT(&conv, 0, "PING\r\n");
    DBC_LIT(&conv, 1, "+PONG\r\n");
    DBC_LIT(&conv, 0, "GET k\r\n");
    DBC_LIT(&conv, 1, "$-1\r\n");
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("inline", o);
    dbc_expect(o, want);
    conv.n = 0;
    DBC_LIT(&conv, 0, "GET k\r\n");
    DBC_LIT(&conv, 1, "$-1\r\n");
    DBC_LIT(&conv, 0, "PING\r\n");
    DBC_LIT(&conv, 1, "+PONG\r\n");
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("inline get", o);
    dbc_expect(o, want_get);
}

/* What no module knows is let go at once and counted, whichever side
 * speaks first, its bytes as they were. */
static void test_detect_unknown(void **state)
{
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    DBC_LIT(&conv, 1, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    DBC_LIT(&conv, 0, "SSH-2.0-OpenSSH_9.2p1\r\n");
    o = dbc_every_split(&conv, 22, 0, DBC_CLOSE);
    dump("ssh", o);
    assert_int_equal(o->opaque, 1);
    assert_int_equal(o->db + o->let_go, 0);
    assert_false(o->followed);
    conv.n = 0;
    DBC_LIT(&conv, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" /* a ClientHello */
                      "\x5b\x91\x3e\x07\xc4\x12\x8a\x6d\xf0\x33\x19\xa2\x4e\x77\x0c\xd5"
                      "\x81\x2f\x64\xb9\x10\xe3\x58\x9c\x27\x4a\xbe\x06\x73\xcd\x95\x1f");
    o = dbc_every_split(&conv, 443, 0, DBC_CLOSE);
    assert_int_equal(o->opaque, 1);
    assert_false(o->followed);
}

/* A write some module still wonders about is settled by the answer: it
 * was a whole message, so "more" means no. */
static void test_detect_answer_settles(void **state)
{
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    DBC_LIT(&conv, 0, "*1\r");
    DBC_LIT(&conv, 1, "-ERR Protocol error\r\n");
    o = dbc_every_split(&conv, 6379, 0, DBC_CLOSE);
    dump("settles", o);
    assert_int_equal(o->opaque, 1);
    assert_false(o->followed);
    assert_int_equal(o->spans, 0);
}

/* Neither side's first words decide, and the side that spoke first
 * speaks again: what both said is all detection gets, whatever the split
 * (the fuzzer found a request line split so that the verdict, and the
 * order the module would have seen the two sides in, depended on it). */
static void test_detect_both_sides_undecided(void **state)
{
    const dbc_out_t *o;

    (void)state;
    conv.n = 0;
    DBC_LIT(&conv, 0, "GET \x83\x83\x83\x83\x83\x83\x83\x83");
    DBC_LIT(&conv, 1, "\x83/x");
    DBC_LIT(&conv, 0, "\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83"
                      "\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83"
                      "\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83 HTTP/1.1\r\n");
    o = dbc_every_split(&conv, 8080, 0, DBC_CLOSE);
    dump("both sides", o);
    assert_int_equal(o->opaque, 1);
    assert_int_equal(o->let_go, 0);
    assert_false(o->followed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_redis_cli, serving, served),
        cmocka_unit_test(test_redis_port_and_root),
        cmocka_unit_test_setup_teardown(test_redis_pipelines, serving, served),
        cmocka_unit_test_setup_teardown(test_redis_py, serving, served),
        cmocka_unit_test_setup_teardown(test_redis_pipeline_past_cap, serving, served),
        cmocka_unit_test(test_redis_two_threads),
        cmocka_unit_test_setup_teardown(test_pg_pgbench, serving, served),
        cmocka_unit_test_setup_teardown(test_pg_pipelined, serving, served),
        cmocka_unit_test_setup_teardown(test_pg_let_go, serving, served),
        cmocka_unit_test_setup_teardown(test_pg_tls_plaintext, serving, served),
        cmocka_unit_test_setup_teardown(test_pg_tls_handover, serving, served),
        cmocka_unit_test_setup_teardown(test_mysql_recorded, serving, served),
        cmocka_unit_test_setup_teardown(test_mysql_compressed, serving, served),
        cmocka_unit_test_setup_teardown(test_mysql_tls_plaintext, serving, served),
        cmocka_unit_test_setup_teardown(test_mysql_tls_handover, serving, served),
        cmocka_unit_test_setup_teardown(test_ends, serving, served),
        cmocka_unit_test_setup_teardown(test_never_answered, serving, served),
        cmocka_unit_test_setup_teardown(test_detect_http_wins, serving, served),
        cmocka_unit_test_setup_teardown(test_detect_redis_inline, serving, served),
        cmocka_unit_test(test_detect_unknown),
        cmocka_unit_test(test_detect_answer_settles),
        cmocka_unit_test(test_detect_both_sides_undecided),
    };

    /* The spans' lines here are the protocols' attributes; a failed
     * operation's code.stacktrace is test_stack's and test_stacks.py's. */
    ss_stack_mode = SS_STACKS_OFF;
    return cmocka_run_group_tests_name("dbconn", tests, unit_config_setup, NULL);
}
