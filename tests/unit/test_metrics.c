/*
 * test_metrics.c - the span metrics and the service graph, read back from
 * the rendered Prometheus text, with a clock the test moves: calls and
 * histogram buckets by the documented labels, errors, label escaping and
 * the series cap, lines of any length whole; a CLIENT span paired with
 * the SERVER span under it from another resource in either order, and a
 * half whose other never comes counted unpaired once its wait is over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_metrics.h"
#include "otlp_build.h"

#define PEND_MS 10000      /* how long half an edge waits (COL_PEND_MS) */
#define SERIES_MAX 10000   /* series per family (COL_SERIES_MAX) */
#define SECOND 1000000000ull

static col_buf_t text;

static int setup(void **state)
{
    (void)state;
    col_metrics_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    col_metrics_reset();
    col_buf_free(&text);
    return 0;
}

static void add(const tspan_t *t, size_t n, uint64_t now_ms)
{
    col_arena_t *arena;
    col_request_t *r = tb_request(t, n, &arena);

    assert_non_null(r);
    col_metrics_add(r, now_ms);
    col_arena_free(arena);
}

static const char *render(void)
{
    col_buf_reset(&text);
    col_metrics_render(&text);
    assert_false(text.oom);
    return text.p;
}

/* The text has this line, whole. */
static void assert_line(const char *line)
{
    char needle[1024];
    const char *t = render();

    snprintf(needle, sizeof(needle), "\n%s\n", line);
    if (strstr(t, needle) == NULL) {
        print_error("no line: %s\n", line);
        fail();
    }
}

static void assert_no(const char *part)
{
    if (strstr(render(), part) != NULL) {
        print_error("unexpected: %s\n", part);
        fail();
    }
}

#define SHOP_GET "service_name=\"shop\",span_kind=\"SPAN_KIND_SERVER\"," \
                 "status_code=\"STATUS_CODE_UNSET\",http_request_method=\"GET\","  \
                 "http_response_status_code=\"200\""

static void test_calls_and_buckets_by_labels(void **state)
{
    tspan_t t[] = {
        {.service = "shop", .trace = 1, .id = 1, .kind = 2, .start = SECOND,
         .end = SECOND + 100 * TB_MS, .method = "GET", .http_status = 200},
        {.service = "shop", .trace = 2, .id = 2, .kind = 2, .start = SECOND,
         .end = SECOND + 300 * TB_MS, .method = "GET", .http_status = 200},
        {.service = "shop", .trace = 3, .id = 3, .kind = 2, .start = SECOND,
         .end = SECOND + 300 * TB_MS, .method = "POST", .http_status = 200},
    };

    (void)state;
    add(t, 3, 0);
    assert_line("traces_span_metrics_calls_total{" SHOP_GET "} 2");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"0.05\"} 0");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"0.1\"} 1");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"0.25\"} 1");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"0.5\"} 2");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"10\"} 2");
    assert_line("traces_span_metrics_duration_seconds_bucket{" SHOP_GET ",le=\"+Inf\"} 2");
    assert_line("traces_span_metrics_duration_seconds_sum{" SHOP_GET "} 0.4");
    assert_line("traces_span_metrics_duration_seconds_count{" SHOP_GET "} 2");
    assert_line("traces_span_metrics_calls_total{service_name=\"shop\","
                "span_kind=\"SPAN_KIND_SERVER\","
                "status_code=\"STATUS_CODE_UNSET\",http_request_method=\"POST\","
                "http_response_status_code=\"200\"} 1");
    assert_line("# TYPE traces_span_metrics_duration_seconds histogram");
}

/* A report of a span still open is no call: the whole span counts, once;
 * the reports are counted on their own. */
static void test_in_flight_is_no_call(void **state)
{
    tspan_t open = {.service = "shop", .trace = 1, .id = 1, .kind = 2, .start = SECOND,
                    .end = SECOND + 300 * TB_MS, .method = "GET", .in_flight = 1};
    tspan_t whole = {.service = "shop", .trace = 1, .id = 1, .kind = 2, .start = SECOND,
                     .end = SECOND + 900 * TB_MS, .method = "GET", .http_status = 200};

    (void)state;
    add(&open, 1, 0);
    add(&open, 1, 10);
    assert_no("traces_span_metrics_calls_total{");
    assert_line("spanshim_collector_metric_in_flight_reports_total 2");
    add(&whole, 1, 20);
    assert_line("traces_span_metrics_calls_total{" SHOP_GET "} 1");
    assert_line("traces_span_metrics_duration_seconds_sum{" SHOP_GET "} 0.9");
}

static void test_errors_and_odd_labels(void **state)
{
    tspan_t t[] = {
        {.service = "shop", .trace = 1, .id = 1, .kind = 3, .end = 2 * SECOND, .error = 1,
         .method = "GET", .http_status = 503},
        {.service = NULL, .trace = 1, .id = 2, .kind = 9, .end = 20 * SECOND,
         .http_status = 1000},
        {.service = "a\"b\\c\nd", .trace = 1, .id = 3, .kind = 1, .end = 1},
    };

    (void)state;
    add(t, 3, 0);
    assert_line("traces_span_metrics_calls_total{service_name=\"shop\","
                "span_kind=\"SPAN_KIND_CLIENT\","
                "status_code=\"STATUS_CODE_ERROR\",http_request_method=\"GET\","
                "http_response_status_code=\"503\"} 1");
    /* No service: unknown_service; a kind past the enum: unspecified; a
     * status past three digits: none, no label, as no method is; more
     * than 10 s: only in +Inf. */
#define ODD "service_name=\"unknown_service\",span_kind=\"SPAN_KIND_UNSPECIFIED\"," \
            "status_code=\"STATUS_CODE_UNSET\""
    assert_line("traces_span_metrics_calls_total{" ODD "} 1");
    assert_line("traces_span_metrics_duration_seconds_bucket{" ODD ",le=\"10\"} 0");
    assert_line("traces_span_metrics_duration_seconds_bucket{" ODD ",le=\"+Inf\"} 1");
    assert_line("traces_span_metrics_calls_total{service_name=\"a\\\"b\\\\c\\nd\","
                "span_kind=\"SPAN_KIND_INTERNAL\",status_code=\"STATUS_CODE_UNSET\"} 1");
}

/* Each label value cut at 128 bytes; the lines, however long, whole. */
static void test_long_labels_cut_lines_whole(void **state)
{
    char svc[300], method[300], labels[800], want[1024];
    tspan_t t = {.service = svc, .trace = 1, .id = 1, .kind = 2, .end = 1, .method = method};
    size_t i;

    (void)state;
    memset(svc, 'x', sizeof(svc) - 1);
    svc[sizeof(svc) - 1] = '\0';
    memset(method, '"', sizeof(method) - 1); /* each escaped: 256 bytes */
    method[sizeof(method) - 1] = '\0';
    add(&t, 1, 0);
    snprintf(labels, sizeof(labels), "service_name=\"%.128s\",span_kind=\"SPAN_KIND_SERVER\","
             "status_code=\"STATUS_CODE_UNSET\",http_request_method=\"", svc);
    for (i = 0; i < 128; i++)
        strcat(labels, "\\\"");
    strcat(labels, "\"");
    snprintf(want, sizeof(want), "traces_span_metrics_calls_total{%s} 1", labels);
    assert_line(want);
    snprintf(want, sizeof(want), "traces_span_metrics_duration_seconds_bucket{%s,le=\"+Inf\"} 1",
             labels);
    assert_line(want);
    assert_line("spanshim_collector_graph_unpaired_total 0"); /* the text's last line */
}

static void test_series_cap(void **state)
{
    static char names[SERIES_MAX + 1][16];
    static tspan_t t[1000];
    size_t i, j;

    (void)state;
    for (i = 0; i < SERIES_MAX; i += 1000) {
        for (j = 0; j < 1000; j++) {
            snprintf(names[i + j], sizeof(names[0]), "s%zu", i + j);
            t[j] = (tspan_t){.service = names[i + j], .trace = 1, .id = j + 1, .kind = 2,
                             .end = 1};
        }
        add(t, 1000, 0);
    }
    assert_line("spanshim_collector_metric_series_dropped_total 0");
    snprintf(names[SERIES_MAX], sizeof(names[0]), "s%d", SERIES_MAX);
    t[0].service = names[SERIES_MAX];
    t[1].service = names[SERIES_MAX - 1]; /* an existing series still counts */
    add(t, 2, 0);
    assert_line("spanshim_collector_metric_series_dropped_total 1");
    assert_no("service_name=\"s10000\"");
    assert_line("traces_span_metrics_calls_total{service_name=\"s9999\","
                "span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_UNSET\"} 2");
}

#define EDGE "client=\"front\",server=\"back\""

static const tspan_t client = {.service = "front", .trace = 1, .id = 0x10, .parent = 0x01,
                               .kind = 3, .start = SECOND, .end = SECOND + 50 * TB_MS};
static const tspan_t server = {.service = "back", .trace = 1, .id = 0x20, .parent = 0x10,
                               .kind = 2, .start = SECOND, .end = SECOND + 30 * TB_MS};

static const tspan_t other = {.service = "x", .trace = 2, .id = 1, .kind = 1};

static void test_graph_pairs_either_order(void **state)
{
    tspan_t c2 = client, s2 = server;

    (void)state;
    add(&client, 1, 0);
    assert_no("traces_service_graph_request_total{");
    add(&server, 1, 5);
    assert_line("traces_service_graph_request_total{" EDGE "} 1");
    assert_line("traces_service_graph_request_failed_total{" EDGE "} 0");
    /* The server's duration and the client's, each in its histogram. */
    assert_line("traces_service_graph_request_server_seconds_bucket{" EDGE ",le=\"0.025\"} 0");
    assert_line("traces_service_graph_request_server_seconds_bucket{" EDGE ",le=\"0.05\"} 1");
    assert_line("traces_service_graph_request_client_seconds_bucket{" EDGE ",le=\"0.025\"} 0");
    assert_line("traces_service_graph_request_client_seconds_bucket{" EDGE ",le=\"0.05\"} 1");
    assert_line("traces_service_graph_request_server_seconds_sum{" EDGE "} 0.03");
    assert_line("traces_service_graph_request_client_seconds_sum{" EDGE "} 0.05");
    /* Server first, with an error: the same edge, failed. */
    s2.id = 0x21, s2.parent = 0x11, s2.error = 1;
    c2.id = 0x11;
    add(&s2, 1, 10);
    add(&c2, 1, 15);
    assert_line("traces_service_graph_request_total{" EDGE "} 2");
    assert_line("traces_service_graph_request_failed_total{" EDGE "} 1");
    assert_line("traces_service_graph_request_server_seconds_count{" EDGE "} 2");
    add(&other, 1, 3 * PEND_MS); /* the clock past every wait: no half was left alone */
    assert_line("spanshim_collector_graph_unpaired_total 0");
}

static void test_graph_half_expires_after_wait(void **state)
{
    tspan_t c2 = client, s2 = server;

    (void)state;
    add(&client, 1, 0);
    add(&server, 1, PEND_MS - 1); /* still waiting: paired */
    assert_line("traces_service_graph_request_total{" EDGE "} 1");
    c2.id = 0x11, s2.parent = 0x11;
    add(&c2, 1, PEND_MS);
    add(&s2, 1, 2 * PEND_MS); /* the client's wait is over: gone */
    assert_line("traces_service_graph_request_total{" EDGE "} 1");
    assert_line("spanshim_collector_graph_unpaired_total 1");
    add(&other, 1, 3 * PEND_MS - 1); /* the server waits still */
    assert_line("spanshim_collector_graph_unpaired_total 1");
    add(&other, 1, 3 * PEND_MS);
    assert_line("spanshim_collector_graph_unpaired_total 2");
}

static void test_graph_resent_half_waits_once(void **state)
{
    (void)state;
    add(&client, 1, 0);
    add(&client, 1, 1);
    add(&server, 1, 2);
    add(&server, 1, 3); /* the edge is made: this one waits alone */
    assert_line("traces_service_graph_request_total{" EDGE "} 1");
    add(&client, 1, 2 * PEND_MS);
    assert_line("spanshim_collector_graph_unpaired_total 1"); /* the second server */
}

static void test_graph_only_client_and_server(void **state)
{
    tspan_t internal = client, child = server;

    (void)state;
    internal.kind = 1; /* an INTERNAL parent is no client */
    add(&internal, 1, 0);
    add(&child, 1, 1);
    add(&internal, 1, 2 * PEND_MS);
    assert_no("traces_service_graph_request_total{");
    assert_line("spanshim_collector_graph_unpaired_total 1"); /* the server */
}

/* db.system.name and db.operation.name are dimensions, named as the
 * spanmetrics connector names them; a span without one has no label. */
static void test_database_dimensions(void **state)
{
    tspan_t t[] = {
        {.service = "shop", .trace = 1, .id = 1, .kind = 3, .end = 1, .db_system = "postgresql",
         .db_operation = "SELECT", .server_address = "db"},
        {.service = "shop", .trace = 1, .id = 2, .kind = 3, .end = 1, .db_system = "postgresql",
         .db_operation = "SELECT", .server_address = "db"},
        {.service = "shop", .trace = 1, .id = 3, .kind = 3, .end = 1, .error = 1,
         .db_system = "redis", .db_operation = "G\"E\\T", .db_status = "WRONGTYPE"},
        {.service = "shop", .trace = 1, .id = 4, .kind = 3, .end = 1, .db_system = "mysql"},
        {.service = "shop", .trace = 1, .id = 5, .kind = 2, .end = 1, .method = "GET",
         .http_status = 200},
    };

    (void)state;
    add(t, 5, 0);
#define SHOP_CLIENT "service_name=\"shop\",span_kind=\"SPAN_KIND_CLIENT\","
    assert_line("traces_span_metrics_calls_total{" SHOP_CLIENT "status_code=\"STATUS_CODE_UNSET\","
                "db_system_name=\"postgresql\",db_operation_name=\"SELECT\"} 2");
    assert_line("traces_span_metrics_duration_seconds_count{" SHOP_CLIENT
                "status_code=\"STATUS_CODE_UNSET\",db_system_name=\"postgresql\","
                "db_operation_name=\"SELECT\"} 2");
    assert_line("traces_span_metrics_calls_total{" SHOP_CLIENT "status_code=\"STATUS_CODE_ERROR\","
                "db_system_name=\"redis\",db_operation_name=\"G\\\"E\\\\T\"} 1");
    /* A query of several operations has none: no label. */
    assert_line("traces_span_metrics_calls_total{" SHOP_CLIENT "status_code=\"STATUS_CODE_UNSET\","
                "db_system_name=\"mysql\"} 1");
    /* An HTTP series has no db_ labels. */
    assert_line("traces_span_metrics_calls_total{" SHOP_GET "} 1");
}

#define DB_EDGE(server) "client=\"shop\",server=\"" server "\",connection_type=\"database\""

/* A database CLIENT span is an edge at once, to a node named from its
 * attributes, its duration on both sides; it waits for no SERVER span. */
static void test_graph_database_edge_at_once(void **state)
{
    char longname[300], want[600];
    tspan_t t[] = {
        {.service = "shop", .trace = 1, .id = 0x10, .parent = 1, .kind = 3, .start = SECOND,
         .end = SECOND + 20 * TB_MS, .db_system = "postgresql", .db_namespace = "orders",
         .server_address = "pg.internal", .peer_address = "10.0.0.5", .peer_port = 5432},
        {.service = "shop", .trace = 1, .id = 0x11, .parent = 1, .kind = 3, .error = 1,
         .start = SECOND, .end = SECOND + 200 * TB_MS, .db_system = "postgresql",
         .db_status = "42P01", .server_address = "pg.internal"},
        {.service = "shop", .trace = 1, .id = 0x12, .kind = 3, .db_system = "redis",
         .server_address = "cache", .server_port = 6380},
        {.service = "shop", .trace = 1, .id = 0x13, .kind = 3, .db_system = "redis",
         .peer_address = "::1", .peer_port = 6379},
        {.service = "shop", .trace = 1, .id = 0x14, .kind = 3, .db_system = "mysql",
         .db_namespace = "shopdb"},
        {.service = "shop", .trace = 1, .id = 0x15, .kind = 3, .db_system = "mariadb"},
        {.service = "shop", .trace = 1, .id = 0x16, .kind = 3, .db_system = "redis",
         .server_address = longname, .server_port = 7000},
    };

    (void)state;
    memset(longname, 'h', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    add(t, 7, 0);
    assert_line("traces_service_graph_request_total{" DB_EDGE("pg.internal") "} 2");
    assert_line("traces_service_graph_request_failed_total{" DB_EDGE("pg.internal") "} 1");
    assert_line("traces_service_graph_request_client_seconds_sum{" DB_EDGE("pg.internal") "} 0.22");
    assert_line("traces_service_graph_request_server_seconds_sum{" DB_EDGE("pg.internal") "} 0.22");
    assert_line("traces_service_graph_request_server_seconds_bucket{" DB_EDGE("pg.internal")
                ",le=\"0.025\"} 1");
    assert_line("traces_service_graph_request_total{" DB_EDGE("cache:6380") "} 1");
    assert_line("traces_service_graph_request_total{" DB_EDGE("[::1]:6379") "} 1");
    assert_line("traces_service_graph_request_total{" DB_EDGE("shopdb") "} 1");
    assert_line("traces_service_graph_request_total{" DB_EDGE("mariadb") "} 1");
    snprintf(want, sizeof(want), "traces_service_graph_request_total{" DB_EDGE("%.128s") "} 1",
             longname); /* cut like every label */
    assert_line(want);
    add(&other, 1, 3 * PEND_MS); /* the clock past every wait: nothing waited */
    assert_line("spanshim_collector_graph_unpaired_total 0");
    assert_line("traces_service_graph_request_total{" DB_EDGE("pg.internal") "} 2");
}

/* A name lookup is a CLIENT span no server answers: no edge, no wait. */
static void test_graph_dns_waits_for_nothing(void **state)
{
    tspan_t dns = {.service = "shop", .trace = 1, .id = 0x30, .parent = 1, .kind = 3,
                   .name = "getaddrinfo", .dns_name = "pg.internal"};
    tspan_t lone = client;

    (void)state;
    add(&dns, 1, 0);
    add(&lone, 1, 0);
    assert_non_null(strstr(render(), "_total{" SHOP_CLIENT)); /* the lookup was counted */
    add(&other, 1, 3 * PEND_MS);
    assert_line("spanshim_collector_graph_unpaired_total 1"); /* the HTTP client only */
    assert_no("traces_service_graph_request_total{");
}

static void test_counter_text(void **state)
{
    (void)state;
    col_buf_reset(&text);
    col_metrics_counter(&text, "x_total", "reason=\"a\"", "Xs.", 3);
    col_metrics_counter(&text, "x_total", NULL, NULL, 4);
    assert_string_equal(text.p, "# HELP x_total Xs.\n# TYPE x_total counter\n"
                                "x_total{reason=\"a\"} 3\nx_total 4\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calls_and_buckets_by_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_is_no_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_odd_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_labels_cut_lines_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_pairs_either_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_half_expires_after_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_resent_half_waits_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_only_client_and_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_dimensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_database_edge_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_dns_waits_for_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_text, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
