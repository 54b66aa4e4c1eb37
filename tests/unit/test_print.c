/*
 * test_print.c - --print's tree, with a clock the test moves: nothing
 * before a trace has been quiet COL_PRINT_QUIET_MS since its last span,
 * printed at exactly that; parents above children, siblings and roots in
 * start order, whatever order the spans came in; the held-spans cap
 * printing the least recently active trace early; the per-trace cap's
 * line; everything at a stop; each span's bar on the trace's time axis.
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

#include "../../exporter/collector/col_print.h"
#include "otlp_build.h"

#define QUIET COL_PRINT_QUIET_MS
#define TRACE(n) "00000000000000" n "ff00000000000000" /* tb's trace id n, random 0 */

static FILE *out;
static char *buf;
static size_t buf_len;

static int setup(void **state)
{
    (void)state;
    out = open_memstream(&buf, &buf_len);
    memset(&col_print_count, 0, sizeof(col_print_count));
    return out ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    col_print_due(out, 0, 1); /* what a failed test left held */
    fclose(out);
    free(buf);
    buf = NULL;
    return 0;
}

static const char *printed(void)
{
    fflush(out);
    return buf ? buf : "";
}

static void add(const tspan_t *t, size_t n, uint64_t now_ms)
{
    col_arena_t *arena;
    col_request_t *r = tb_request(t, n, &arena);

    assert_non_null(r);
    col_print_add(out, r, now_ms);
    col_arena_free(arena);
}

static void add_one(uint64_t trace, uint64_t id, uint64_t now_ms)
{
    tspan_t t = {.service = "svc", .trace = trace, .id = id, .kind = 2, .start = TB_MS,
                 .end = 2 * TB_MS, .name = "GET"};

    add(&t, 1, now_ms);
}

static size_t count(const char *text, const char *part)
{
    size_t n = 0;

    for (; (text = strstr(text, part)) != NULL; text++)
        n++;
    return n;
}

static void test_printed_once_quiet(void **state)
{
    (void)state;
    add_one(2, 1, 1000);
    add_one(1, 1, 1000);
    add_one(2, 2, 1000 + QUIET - 100); /* trace 2's quiet starts again: 1 is older now */
    col_print_due(out, 1000 + QUIET - 1, 0);
    assert_string_equal(printed(), "");
    col_print_due(out, 1000 + QUIET, 0);
    assert_string_equal(printed(),
                        "trace " TRACE("01") "  1 span  1.00 ms            |0                                1.00 ms|\n"
                        "  svc                      GET      server ok      -      1.00 ms  |========================================|\n");
    col_print_due(out, 1000 + 2 * QUIET - 101, 0);
    assert_int_equal(count(printed(), "trace "), 1);
    col_print_due(out, 1000 + 2 * QUIET - 100, 0);
    assert_int_equal(count(printed(), "trace " TRACE("02") "  2 spans"), 1);
    col_print_due(out, 1000 + 10 * QUIET, 0); /* each trace printed once */
    assert_int_equal(count(printed(), "trace "), 2);
    assert_int_equal(col_print_count.traces_early, 0);
}

static void test_tree_parents_above_children_in_start_order(void **state)
{
    tspan_t late[] = {
        {.service = "back", .trace = 7, .id = 0x50, .parent = 0x30, .kind = 3, .error = 1,
         .start = 1025 * TB_MS, .end = 1030 * TB_MS, .name = "db"},
        {.service = "back", .trace = 7, .id = 0x30, .parent = 0x20, .kind = 2,
         .start = 1020 * TB_MS, .end = 1040 * TB_MS, .name = "GET /b", .http_status = 200},
    };
    tspan_t rest[] = {
        {.service = "front", .trace = 7, .id = 0x20, .parent = 0x10, .kind = 3,
         .start = 1010 * TB_MS, .end = 1050 * TB_MS, .name = "call b"},
        {.service = "other", .trace = 7, .id = 0x60, .parent = 0x15, .kind = 1,
         .start = 999 * TB_MS, .end = 1002 * TB_MS, .name = "lost"},
        {.service = "front", .trace = 7, .id = 0x10, .kind = 2, .start = 1000 * TB_MS,
         .end = 1100 * TB_MS, .name = "GET /", .http_status = 200},
        {.service = "front", .trace = 7, .id = 0x40, .parent = 0x10, .kind = 1,
         .start = 1005 * TB_MS, .end = 1008 * TB_MS, .name = "render"},
    };

    (void)state;
    add(late, 2, 100); /* children first, from another process */
    add(rest, 4, 200);
    col_print_due(out, 200 + QUIET, 0);
    /* A span whose parent is not here (0x15, between ids that are) is a
     * root, in start order with the others. */
    assert_string_equal(printed(),
                        "trace " TRACE("07") "  6 spans  101.00 ms           |0                              101.00 ms|\n"
                        "  other                    lost     internal ok      -      3.00 ms  |=                                       |\n"
                        "  front                    GET /    server ok    200    100.00 ms    |========================================|\n"
                        "    front                  render   internal ok      -      3.00 ms  |  ==                                    |\n"
                        "    front                  call b   client ok      -     40.00 ms    |    ================                    |\n"
                        "      back                 GET /b   server ok    200     20.00 ms    |        ========                        |\n"
                        "        back               db       client ERROR   -      5.00 ms    |          ==                            |\n");
}

static void test_cycle_printed_once(void **state)
{
    tspan_t t[] = {
        {.service = "a", .trace = 3, .id = 1, .parent = 2, .start = 2 * TB_MS, .end = 3 * TB_MS,
         .name = "x"},
        {.service = "a", .trace = 3, .id = 2, .parent = 1, .start = 1 * TB_MS, .end = 3 * TB_MS,
         .name = "y"},
    };

    (void)state;
    add(t, 2, 0);
    col_print_due(out, QUIET, 0);
    assert_string_equal(printed(),
                        "trace " TRACE("03") "  2 spans  2.00 ms                |0                                2.00 ms|\n"
                        "  a                        y        unspecified ok      -      2.00 ms  |========================================|\n"
                        "    a                      x        unspecified ok      -      1.00 ms  |                    ====================|\n");
}

/* A database span: its name, and when it failed its status code (else,
 * or when it is empty, error.type) where HTTP's status is, cut at 24
 * columns, and its query, on one line, cut and escaped, after the
 * duration. */
static void test_database_spans(void **state)
{
    char long_query[200];
    tspan_t t[] = {
        {.service = "shop", .trace = 8, .id = 1, .kind = 2, .start = 1000 * TB_MS,
         .end = 1100 * TB_MS, .name = "GET /", .http_status = 500, .error = 1},
        {.service = "shop", .trace = 8, .id = 2, .parent = 1, .kind = 3, .start = 1010 * TB_MS,
         .end = 1012 * TB_MS, .name = "SELECT users", .db_system = "postgresql",
         .db_query = "SELECT * FROM users WHERE id = ?"},
        {.service = "shop", .trace = 8, .id = 3, .parent = 1, .kind = 3, .start = 1020 * TB_MS,
         .end = 1021 * TB_MS, .name = "SELECT nosuch", .db_system = "postgresql", .error = 1,
         .db_status = "42P01", .error_type = "42P01",
         .db_query = "SELECT *\n  FROM nosuch\tWHERE\r\n id = ?  "},
        {.service = "shop", .trace = 8, .id = 4, .parent = 1, .kind = 3, .start = 1030 * TB_MS,
         .end = 1031 * TB_MS, .name = "GET", .db_system = "redis", .error = 1,
         .error_type = "ECONNRESET", .db_query = "GET \x1b]0;x\x07"},
        {.service = "shop", .trace = 8, .id = 5, .parent = 1, .kind = 3, .start = 1040 * TB_MS,
         .end = 1041 * TB_MS, .name = "INSERT t", .db_system = "mysql", .error = 1,
         .db_status = "1062", .db_query = long_query},
        {.service = "shop", .trace = 8, .id = 6, .parent = 1, .kind = 3, .start = 1050 * TB_MS,
         .end = 1051 * TB_MS, .name = "SET", .db_system = "redis", .error = 1,
         .db_status = "WRONGTYPE"},
        {.service = "shop", .trace = 8, .id = 7, .parent = 1, .kind = 3, .start = 1060 * TB_MS,
         .end = 1061 * TB_MS, .name = "GET", .db_system = "redis", .error = 1, .db_status = "",
         .error_type = "response_truncated"},
        {.service = "shop", .trace = 8, .id = 8, .parent = 1, .kind = 3, .start = 1070 * TB_MS,
         .end = 1071 * TB_MS, .name = "GET", .db_system = "redis", .error = 1,
         .db_status = "\x1b[2JNOT_A_CODE_BUT_VERY_LONG_INDEED"},
    };

    (void)state;
    snprintf(long_query, sizeof(long_query), "INSERT INTO t (a, b, c, d, e, f, g) VALUES %s",
             "(?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)");
    add(t, 8, 0);
    col_print_due(out, QUIET, 0);
    assert_string_equal(
        printed(),
        "trace " TRACE("08") "  8 spans  100.00 ms                              |0                              100.00 ms|\n"
        "  shop                     GET /    server ERROR 500    100.00 ms                       |========================================|\n"
        "    shop                   SELECT users client ok      -      2.00 ms                   |    =                                   |\n"
        "    shop                   SELECT nosuch client ERROR 42P01      1.00 ms                |        =                               |  SELECT * FROM nosuch WHERE id = ?\n"
        "    shop                   GET      client ERROR ECONNRESET      1.00 ms                |            =                           |  GET \\x1b]0;x\\x07\n"
        "    shop                   INSERT t client ERROR 1062      1.00 ms                      |                =                       |  INSERT INTO t (a, b, c, d, e, f, g) VALUES (?, ?, ?, ?, ?...\n"
        "    shop                   SET      client ERROR WRONGTYPE      1.00 ms                 |                    =                   |\n"
        "    shop                   GET      client ERROR response_truncated      1.00 ms        |                        =               |\n"
        "    shop                   GET      client ERROR \\x1b[2JNOT_A_CODE_BUT_VE      1.00 ms  |                            =           |\n");
}

/* Bars: where the span starts and ends on the trace's 40 columns, a span
 * still in flight drawn open ("--->"), the axis over them. */
static void test_bars_on_the_time_axis(void **state)
{
    tspan_t t[] = {
        {.service = "a", .trace = 9, .id = 1, .kind = 2, .start = 0, .end = 400 * TB_MS,
         .name = "GET"},
        {.service = "a", .trace = 9, .id = 2, .parent = 1, .kind = 3, .start = 100 * TB_MS,
         .end = 200 * TB_MS, .name = "GET"},
        {.service = "a", .trace = 9, .id = 3, .parent = 1, .kind = 3, .start = 300 * TB_MS,
         .end = 400 * TB_MS, .name = "SET", .in_flight = 1},
    };
    const char *p;

    (void)state;
    add(t, 3, 0);
    col_print_due(out, QUIET, 0);
    p = printed();
    assert_non_null(strstr(p, "  3 spans  400.00 ms "));
    assert_non_null(strstr(p, " |0                              400.00 ms|\n"));
    assert_non_null(strstr(p, "ms  |========================================|\n"));
    assert_non_null(strstr(p, "ms  |          ==========                    |\n"));
    assert_non_null(strstr(p, "ms  |                              --------->|\n"));
}

/* A span reported in flight, again, then whole: printed once, as it was
 * last; a late report never replaces the whole span. */
static void test_in_flight_replaced_by_whole(void **state)
{
    tspan_t root = {.service = "a", .trace = 7, .id = 1, .kind = 2, .start = 0,
                    .end = 100 * TB_MS, .name = "GET", .in_flight = 1};
    tspan_t call = {.service = "a", .trace = 7, .id = 2, .parent = 1, .kind = 3,
                    .start = 10 * TB_MS, .end = 100 * TB_MS, .name = "POST", .in_flight = 1};
    const char *p;

    (void)state;
    add(&root, 1, 0);
    add(&call, 1, 0);
    root.end = call.end = 200 * TB_MS;
    add(&root, 1, 10);
    add(&call, 1, 10);
    root.in_flight = call.in_flight = 0;
    root.end = call.end = 400 * TB_MS;
    add(&root, 1, 20);
    add(&call, 1, 20);
    call.in_flight = 1;
    call.end = 300 * TB_MS;
    add(&call, 1, 30); /* late */
    col_print_due(out, 30 + QUIET, 0);
    p = printed();
    assert_non_null(strstr(p, "  2 spans  400.00 ms "));
    assert_int_equal(count(p, " GET "), 1);
    assert_int_equal(count(p, " POST "), 1);
    assert_int_equal(count(p, "->|"), 0); /* none drawn open */
}

/* Spans first..first+n of trace `trace`, in one request. */
static void add_many(uint64_t trace, uint64_t first, size_t n, uint64_t now_ms)
{
    tspan_t *t = calloc(n, sizeof(*t));
    size_t i;

    for (i = 0; i < n; i++)
        t[i] = (tspan_t){.service = "svc", .trace = trace, .id = first + i, .start = TB_MS,
                         .end = 2 * TB_MS};
    add(t, n, now_ms);
    free(t);
}

static void test_held_cap_prints_oldest_early(void **state)
{
    size_t k;

    (void)state;
    add_one(1, 1, 0);
    for (k = 0; k < COL_PRINT_MAX_SPANS / COL_PRINT_TRACE_SPANS - 1; k++)
        add_many(10 + k, 1, COL_PRINT_TRACE_SPANS, 1);
    add_many(99, 1, COL_PRINT_TRACE_SPANS - 1, 2); /* COL_PRINT_MAX_SPANS held */
    assert_string_equal(printed(), "");
    add_many(99, COL_PRINT_TRACE_SPANS, 1, 3); /* one more */
    assert_int_equal(count(printed(), "trace "), 1);
    assert_non_null(strstr(printed(), "trace " TRACE("01") "  1 span  "));
    assert_int_equal(col_print_count.traces_early, 1);
    col_print_due(out, 3, 1);
    assert_int_equal(count(printed(), "trace "), 11);
    assert_int_equal(col_print_count.spans_cut, 0);
}

static void test_trace_cap_line(void **state)
{
    (void)state;
    add_many(1, 1, COL_PRINT_TRACE_SPANS, 0);
    add_many(2, 1, COL_PRINT_TRACE_SPANS, 0);
    add_many(2, COL_PRINT_TRACE_SPANS + 1, 2, 0);
    col_print_due(out, QUIET, 0);
    assert_non_null(strstr(printed(), "trace " TRACE("01") "  1000 spans  1.00 ms  "));
    assert_non_null(
        strstr(printed(), "trace " TRACE("02") "  1000 spans (2 more not shown)  1.00 ms  |0"));
    assert_int_equal(count(printed(), "\n"), 2 + 2 * COL_PRINT_TRACE_SPANS);
    assert_int_equal(col_print_count.spans_cut, 2);
}

static void test_force_at_stop(void **state)
{
    (void)state;
    add_one(1, 1, 1000);
    col_print_due(out, 1000, 0);
    assert_string_equal(printed(), "");
    col_print_due(out, 1000, 1);
    assert_int_equal(count(printed(), "trace " TRACE("01")), 1);
    col_print_due(out, 1000 + QUIET, 1); /* and forgotten */
    assert_int_equal(count(printed(), "trace "), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_printed_once_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_parents_above_children_in_start_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cycle_printed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bars_on_the_time_axis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_replaced_by_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_cap_prints_oldest_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_cap_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_at_stop, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
