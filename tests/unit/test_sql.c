/*
 * test_sql.c - SQL text to span attributes: literals hidden in each
 * dialect's quoting, comments dropped, IN lists collapsed, the summary and
 * the single operation and table, on the queries real clients send
 * (pgbench, psql, ORMs), and the caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_sql.h"

#define PG SS_SQL_POSTGRESQL
#define MY SS_SQL_MYSQL

static ss_db_op_t describe(ss_sql_dialect_t d, int parameterized, const char *q)
{
    ss_db_op_t op, again;

    memset(&op, 'x', sizeof(op)); /* every field is overwritten */
    ss_sql_describe(q, strlen(q), d, parameterized, &op);
    /* the sanitized text describes to itself */
    if (!parameterized) {
        ss_sql_describe(op.query_text, strlen(op.query_text), d, 0, &again);
        assert_string_equal(again.query_text, op.query_text);
    }
    return op;
}

/* q in dialect d: its sanitized text, summary, operation and table. */
static void check(ss_sql_dialect_t d, const char *q, const char *text, const char *summary,
                  const char *operation, const char *collection)
{
    ss_db_op_t op = describe(d, 0, q);

    assert_string_equal(op.query_text, text);
    assert_string_equal(op.summary, summary);
    assert_string_equal(op.operation, operation);
    assert_string_equal(op.collection, collection);
}

static void text_is(ss_sql_dialect_t d, const char *q, const char *text)
{
    ss_db_op_t op = describe(d, 0, q);

    assert_string_equal(op.query_text, text);
}

static void test_pgbench(void **state)
{
    (void)state;
    /* pgbench's TPC-B-like script, simple query mode */
    check(PG, "BEGIN;", "BEGIN;", "BEGIN", "BEGIN", "");
    check(PG, "UPDATE pgbench_accounts SET abalance = abalance + -4363 WHERE aid = 84245;",
          "UPDATE pgbench_accounts SET abalance = abalance + -? WHERE aid = ?;",
          "UPDATE pgbench_accounts", "UPDATE", "pgbench_accounts");
    check(PG, "SELECT abalance FROM pgbench_accounts WHERE aid = 84245;",
          "SELECT abalance FROM pgbench_accounts WHERE aid = ?;", "SELECT pgbench_accounts",
          "SELECT", "pgbench_accounts");
    check(PG,
          "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (5, 1, 84245, "
          "-4363, CURRENT_TIMESTAMP);",
          "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, -?, "
          "CURRENT_TIMESTAMP);",
          "INSERT pgbench_history", "INSERT", "pgbench_history");
    check(PG, "END;", "END;", "END", "END", "");
    check(PG, "copy pgbench_accounts from stdin with (freeze on)",
          "copy pgbench_accounts from stdin with (freeze on)", "copy pgbench_accounts", "copy",
          "pgbench_accounts");
    check(PG, "vacuum analyze pgbench_branches", "vacuum analyze pgbench_branches", "vacuum",
          "vacuum", "");
    check(PG, "truncate table pgbench_accounts, pgbench_branches",
          "truncate table pgbench_accounts, pgbench_branches",
          "truncate pgbench_accounts pgbench_branches", "truncate", "");
}

static void test_psql(void **state)
{
    (void)state;
    /* \d t */
    check(PG,
          "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN "
          "pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname "
          "OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default\n  AND "
          "pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;",
          "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN "
          "pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname "
          "OPERATOR(pg_catalog.~) ? COLLATE pg_catalog.default\n  AND "
          "pg_catalog.pg_table_is_visible(c.oid)\nORDER BY ?, ?;",
          "SELECT pg_catalog.pg_class pg_catalog.pg_namespace", "SELECT", "");
    /* \l: one table, functions after FROM-less SELECT list */
    check(PG,
          "SELECT d.datname as \"Name\",\n pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\"\n"
          "FROM pg_catalog.pg_database d\nORDER BY 1;",
          "SELECT d.datname as \"Name\",\n pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\"\n"
          "FROM pg_catalog.pg_database d\nORDER BY ?;",
          "SELECT pg_catalog.pg_database", "SELECT", "pg_catalog.pg_database");
    check(PG, "SELECT pg_catalog.set_config('search_path', '', false);",
          "SELECT pg_catalog.set_config(?, ?, ?);", "SELECT", "SELECT", "");
    /* a function after FROM is not a table */
    check(PG, "SELECT * FROM generate_series(1, 10) g", "SELECT * FROM generate_series(?, ?) g",
          "SELECT", "SELECT", "");
    check(PG, "SELECT EXTRACT(YEAR FROM ts) FROM events",
          "SELECT EXTRACT(YEAR FROM ts) FROM events", "SELECT events", "SELECT", "events");
}

static void test_orm(void **state)
{
    ss_db_op_t op;

    (void)state;
    /* Django on PostgreSQL (client-side interpolation) */
    check(PG,
          "SELECT \"auth_user\".\"id\", \"auth_user\".\"username\" FROM \"auth_user\" WHERE "
          "\"auth_user\".\"username\" = 'bob' LIMIT 21",
          "SELECT \"auth_user\".\"id\", \"auth_user\".\"username\" FROM \"auth_user\" WHERE "
          "\"auth_user\".\"username\" = ? LIMIT ?",
          "SELECT \"auth_user\"", "SELECT", "\"auth_user\"");
    /* SQLAlchemy through asyncpg: parameterized text taken as is */
    op = describe(PG, 1,
                  "INSERT INTO users (name, fullname) VALUES ($1::VARCHAR, $2::VARCHAR) "
                  "RETURNING users.id /* kept */");
    assert_string_equal(op.query_text, "INSERT INTO users (name, fullname) VALUES ($1::VARCHAR, "
                                       "$2::VARCHAR) RETURNING users.id /* kept */");
    assert_string_equal(op.summary, "INSERT users");
    assert_string_equal(op.operation, "INSERT");
    assert_string_equal(op.collection, "users");
    /* Rails on MySQL */
    check(MY, "SELECT `users`.* FROM `users` WHERE `users`.`id` = 1 LIMIT 1",
          "SELECT `users`.* FROM `users` WHERE `users`.`id` = ? LIMIT ?", "SELECT `users`",
          "SELECT", "`users`");
    /* Hibernate: aliases, joins, a subquery */
    check(PG,
          "select o1_0.id,c1_0.name from orders o1_0 join customers c1_0 on c1_0.id=o1_0.cust "
          "where o1_0.total>100.50 and o1_0.id in (select i.order_id from items i where "
          "i.sku='A-1')",
          "select o1_0.id,c1_0.name from orders o1_0 join customers c1_0 on c1_0.id=o1_0.cust "
          "where o1_0.total>? and o1_0.id in (select i.order_id from items i where i.sku=?)",
          "select orders customers select items", "", "");
    /* an upsert is one operation */
    check(PG,
          "INSERT INTO kv (k, v) VALUES ('a', 1) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
          "INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
          "INSERT kv", "INSERT", "kv");
    check(MY, "INSERT INTO kv VALUES ('a', 1) ON DUPLICATE KEY UPDATE v = v + 1",
          "INSERT INTO kv VALUES (?, ?) ON DUPLICATE KEY UPDATE v = v + ?", "INSERT kv",
          "INSERT", "kv");
    check(PG, "SELECT * FROM jobs WHERE state = 'queued' FOR UPDATE SKIP LOCKED LIMIT 1",
          "SELECT * FROM jobs WHERE state = ? FOR UPDATE SKIP LOCKED LIMIT ?", "SELECT jobs",
          "SELECT", "jobs");
}

static void test_postgresql_strings(void **state)
{
    (void)state;
    text_is(PG, "SELECT 'it''s', E'it\\'s \\\\', 'a\\' , 1", "SELECT ?, ?, ? , ?");
    text_is(PG, "SELECT $$x 'y' $$, $fn$ body $$ still $fn$, 1", "SELECT ?, ?, ?");
    text_is(PG, "SELECT $1, $2::int, a$b FROM t", "SELECT $1, $2::int, a$b FROM t");
    text_is(PG, "SELECT U&'d\\0061t', U&\"d\\0061t\"", "SELECT ?, U&\"d\\0061t\"");
    text_is(PG, "SELECT \"it's\", \"a\"\"b\" FROM \"T\"", "SELECT \"it's\", \"a\"\"b\" FROM \"T\"");
    text_is(PG, "SELECT X'1F', B'0101', N'n', x'ab'", "SELECT ?, ?, ?, ?");
    /* unterminated: hidden to the end */
    text_is(PG, "SELECT 'secret", "SELECT ?");
    text_is(PG, "SELECT $a$ secret", "SELECT ?");
    text_is(PG, "SELECT E'secret\\'", "SELECT ?");
}

static void test_mysql_strings(void **state)
{
    (void)state;
    text_is(MY, "SELECT 'it\\'s', \"dq \\\" x\", 'a''b', `col``x` FROM `t`",
            "SELECT ?, ?, ?, `col``x` FROM `t`");
    text_is(MY, "SELECT 0x1F, X'AB', b'101', 0b11, _utf8mb4'x', N'y'",
            "SELECT ?, ?, ?, ?, _utf8mb4?, ?");
    text_is(MY, "SELECT 1 # comment 'x'\nFROM t", "SELECT ? \nFROM t");
    text_is(MY, "SELECT 1 -- c 'x'\n", "SELECT ? \n");
    text_is(MY, "SELECT 1--1", "SELECT ?--?"); /* no space: not a comment in MySQL */
    text_is(MY, "SELECT a--/**/ x", "SELECT a--/**/ x");
    text_is(MY, "SELECT a --", "SELECT a --"); /* nothing after: kept */
    /* # is an operator in PostgreSQL */
    text_is(PG, "SELECT 5 # 3", "SELECT ? # ?");
}

static void test_numbers_and_booleans(void **state)
{
    (void)state;
    text_is(PG, "SELECT 1, 1.5, .5, 1e-3, 2E+10, 1., 0x1F, 0o17, 0b101, 1_000_000",
            "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
    text_is(PG, "SELECT t1.c2 FROM t1 WHERE c3 = -7 AND c4 > 3.14",
            "SELECT t1.c2 FROM t1 WHERE c3 = -? AND c4 > ?");
    text_is(PG, "SELECT TRUE, false, NULL", "SELECT ?, ?, NULL");
}

static void test_typed_literals(void **state)
{
    (void)state;
    text_is(PG,
            "SELECT * FROM t WHERE d > DATE '2024-01-01' AND ts < timestamp '2024-01-01 10:00' "
            "AND i = INTERVAL '1 day' AND x = '2024-01-01'::date",
            "SELECT * FROM t WHERE d > ? AND ts < ? AND i = ? AND x = ?::date");
    text_is(PG, "SELECT date /* c */ '2024-01-01'", "SELECT ?");
    /* a column called date stays */
    check(PG, "SELECT date FROM date WHERE date = current_date",
          "SELECT date FROM date WHERE date = current_date", "SELECT date", "SELECT", "date");
}

static void test_comments(void **state)
{
    (void)state;
    text_is(PG, "SELECT /* a /* nested 'x' */ still */ 1", "SELECT  ?");
    text_is(PG, "SELECT 1 -- 'secret'\nFROM t", "SELECT ? \nFROM t");
    text_is(PG, "SELECT a/**/b", "SELECT a b");
    text_is(PG, "SELECT 1 -/**/- 2", "SELECT ? - - ?");
    text_is(PG, "/* app=x */SELECT 1", "SELECT ?");
    text_is(MY, "SELECT /* a /* b */ 1 */", "SELECT  ? */"); /* MySQL does not nest */
    text_is(PG, "SELECT 1 /* unterminated 'x'", "SELECT ? ");
}

static void test_in_lists(void **state)
{
    (void)state;
    text_is(PG, "SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)");
    text_is(PG, "SELECT * FROM t WHERE id IN(1,-2,'x',TRUE)", "SELECT * FROM t WHERE id IN(?)");
    text_is(PG, "SELECT * FROM t WHERE id not in ( 'a' , 'b' )", "SELECT * FROM t WHERE id not in (?)");
    text_is(MY, "SELECT * FROM t WHERE id IN (?, ?, ?)", "SELECT * FROM t WHERE id IN (?)");
    text_is(PG, "SELECT * FROM t WHERE d IN (DATE '2024-01-01', DATE '2024-01-02')",
            "SELECT * FROM t WHERE d IN (?)");
    /* placeholders and expressions stay */
    text_is(PG, "SELECT * FROM t WHERE id IN ($1, $2)", "SELECT * FROM t WHERE id IN ($1, $2)");
    text_is(PG, "SELECT * FROM t WHERE id IN (1, a + 2)", "SELECT * FROM t WHERE id IN (?, a + ?)");
    text_is(PG, "SELECT * FROM t WHERE id IN (1)", "SELECT * FROM t WHERE id IN (?)");
}

static void test_summaries(void **state)
{
    (void)state;
    check(PG,
          "INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM "
          "orders WHERE order_id = 1",
          "INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM "
          "orders WHERE order_id = ?",
          "INSERT shipping_details SELECT orders", "", "");
    check(PG, "SELECT * FROM songs s JOIN artists a ON s.artist_id = a.id",
          "SELECT * FROM songs s JOIN artists a ON s.artist_id = a.id", "SELECT songs artists",
          "SELECT", "");
    check(PG, "WITH recent AS (SELECT id FROM orders WHERE ts > now()) SELECT * FROM recent",
          "WITH recent AS (SELECT id FROM orders WHERE ts > now()) SELECT * FROM recent",
          "SELECT orders SELECT recent", "", "");
    check(PG, "BEGIN; SELECT 1; COMMIT", "BEGIN; SELECT ?; COMMIT", "BEGIN SELECT COMMIT", "",
          "");
    check(PG, "DELETE FROM sessions WHERE expires < now()",
          "DELETE FROM sessions WHERE expires < now()", "DELETE sessions", "DELETE", "sessions");
    check(PG, "CREATE TEMP TABLE IF NOT EXISTS public.t (id int DEFAULT 5)",
          "CREATE TEMP TABLE IF NOT EXISTS public.t (id int DEFAULT ?)", "CREATE TABLE public.t",
          "CREATE TABLE", "public.t");
    check(PG, "CREATE TABLE t2 AS SELECT * FROM t1", "CREATE TABLE t2 AS SELECT * FROM t1",
          "CREATE TABLE t2 SELECT t1", "", "");
    check(PG, "DROP TABLE IF EXISTS a, b CASCADE", "DROP TABLE IF EXISTS a, b CASCADE",
          "DROP TABLE a b", "DROP TABLE", "");
    check(PG, "CREATE INDEX CONCURRENTLY i ON t (c)", "CREATE INDEX CONCURRENTLY i ON t (c)",
          "CREATE INDEX", "CREATE INDEX", "");
    check(PG,
          "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1 FROM secret $body$ LANGUAGE sql",
          "CREATE FUNCTION f() RETURNS int AS ? LANGUAGE sql", "CREATE FUNCTION",
          "CREATE FUNCTION", "");
    check(PG, "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
          "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
          "MERGE t s", "MERGE", "");
    check(PG, "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t",
          "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t", "EXPLAIN SELECT t", "", "");
    check(PG, "GRANT SELECT, INSERT ON t TO app", "GRANT SELECT, INSERT ON t TO app", "GRANT",
          "GRANT", "");
    check(PG, "SELECT * FROM a, b AS c, d e WHERE a.x = c.y",
          "SELECT * FROM a, b AS c, d e WHERE a.x = c.y", "SELECT a b d", "SELECT", "");
    check(PG, "SELECT * FROM (SELECT 1) AS x", "SELECT * FROM (SELECT ?) AS x", "SELECT SELECT",
          "", "");
    check(PG, "UPDATE ONLY public.\"Users\" u SET n = 1 FROM roles r WHERE r.id = u.role",
          "UPDATE ONLY public.\"Users\" u SET n = ? FROM roles r WHERE r.id = u.role",
          "UPDATE public.\"Users\" roles", "UPDATE", "");
    check(MY, "REPLACE INTO t (a) VALUES (1)", "REPLACE INTO t (a) VALUES (?)", "REPLACE t",
          "REPLACE", "t");
    check(MY, "USE shop", "USE shop", "USE", "USE", "");
    check(PG, "SET search_path = 'app'", "SET search_path = ?", "SET", "SET", "");
    check(PG, "SELECT 1", "SELECT ?", "SELECT", "SELECT", "");
    check(PG, "", "", "", "", "");
    check(PG, "  \n", "  \n", "", "", "");
    check(PG, "hello world", "hello world", "", "", "");
}

static void test_caps(void **state)
{
    char q[4096], want[600];
    size_t len = 0, k;
    ss_db_op_t op;

    (void)state;
    /* a long text is cut at a token boundary */
    len = (size_t)snprintf(q, sizeof(q), "SELECT ");
    for (k = 0; k < 200; k++)
        len += (size_t)snprintf(q + len, sizeof(q) - len, "col_%03zu, ", k);
    snprintf(q + len, sizeof(q) - len, "'x' FROM t");
    op = describe(PG, 0, q);
    assert_true(strlen(op.query_text) < SS_DB_QUERY_MAX);
    assert_true(strlen(op.query_text) > SS_DB_QUERY_MAX - 12);
    assert_memory_equal(op.query_text, q, strlen(op.query_text));
    k = strlen(op.query_text);
    assert_true(op.query_text[k - 1] == ' ' || op.query_text[k - 1] == ',' ||
                (op.query_text[k - 4] == '_'));
    assert_string_equal(op.summary, "SELECT t");
    /* a summary of many tables stops at a whole name within 255 */
    len = (size_t)snprintf(q, sizeof(q), "SELECT * FROM ");
    for (k = 0; k < 60; k++)
        len += (size_t)snprintf(q + len, sizeof(q) - len, "%stable_%02zu", k ? ", " : "", k);
    op = describe(PG, 0, q);
    len = (size_t)snprintf(want, sizeof(want), "SELECT");
    for (k = 0; len + 9 <= 255; k++)
        len += (size_t)snprintf(want + len, sizeof(want) - len, " table_%02zu", k);
    assert_string_equal(op.summary, want);
    assert_int_equal(op.collection[0], '\0');
    /* a table name longer than its field: in the summary, not the collection */
    memset(q, 0, sizeof(q));
    len = (size_t)snprintf(q, sizeof(q), "SELECT * FROM ");
    memset(q + len, 'n', 100);
    op = describe(PG, 0, q);
    assert_int_equal(strlen(op.summary), 7 + 100);
    assert_string_equal(op.operation, "SELECT");
    assert_string_equal(op.collection, "");
    /* a NUL ends the text */
    ss_sql_describe("SELECT 1\0'secret'", 17, PG, 0, &op);
    assert_string_equal(op.query_text, "SELECT ?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgbench),         cmocka_unit_test(test_psql),
        cmocka_unit_test(test_orm),             cmocka_unit_test(test_postgresql_strings),
        cmocka_unit_test(test_mysql_strings),   cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_typed_literals),  cmocka_unit_test(test_comments),
        cmocka_unit_test(test_in_lists),        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_caps),
    };

    return cmocka_run_group_tests_name("sql", tests, NULL, NULL);
}
