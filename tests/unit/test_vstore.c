/*
 * test_vstore.c - the viewer's store: what a trace's summary says (root,
 * services, duration, errors), a span that comes again replacing the one
 * held (and an in-flight one never replacing a whole one), the caps on
 * traces, spans and bytes letting the oldest trace go and counting it, the
 * per-trace cap, the list's filters and their refusals, the service map's
 * figures, names escaped in the JSON, and readers on other threads while
 * spans come in; the sink passing every batch on.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_sink.h"
#include "../../exporter/collector/col_vstore.h"
#include "otlp_build.h"

#define MS TB_MS
#define TRACE_HEX(n) "00000000000000" n "ff00000000000000" /* tb's trace id n, random 0 */

static col_buf_t out;

static int setup(void **state)
{
    (void)state;
    col_vstore_clear();
    col_vstore_init(NULL);
    memset(&col_vstore_count, 0, sizeof(col_vstore_count));
    col_buf_reset(&out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    col_vstore_clear();
    col_buf_free(&out);
    return 0;
}

static void add(const tspan_t *t, size_t n)
{
    col_arena_t *arena;
    col_request_t *r = tb_request(t, n, &arena);

    assert_non_null(r);
    col_vstore_add(r);
    col_arena_free(arena);
}

static const char *list(const char *query)
{
    col_vstore_filter_t f;
    char *q = strdup(query ? query : ""), *save = NULL, *kv;
    const char *why = NULL;

    col_vstore_filter_init(&f);
    for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');

        assert_non_null(eq);
        *eq = '\0';
        assert_true(col_vstore_filter_set(&f, kv, eq + 1, &why));
    }
    free(q);
    col_buf_reset(&out);
    col_vstore_traces_json(&out, &f);
    assert_false(out.oom);
    return out.p;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* curl -> frontend (server, client) -> inventory (server, error). */
static const tspan_t chain[] = {
    {.service = "curl", .trace = 1, .id = 1, .kind = 3, .start = 100 * MS, .end = 140 * MS,
     .name = "GET"},
    {.service = "frontend", .trace = 1, .id = 2, .parent = 1, .kind = 2, .start = 105 * MS,
     .end = 135 * MS, .name = "GET /checkout"},
    {.service = "frontend", .trace = 1, .id = 3, .parent = 2, .kind = 3, .start = 110 * MS,
     .end = 130 * MS, .name = "GET"},
    {.service = "inventory", .trace = 1, .id = 4, .parent = 3, .kind = 2, .start = 112 * MS,
     .end = 128 * MS, .name = "GET /inventory", .error = 1, .http_status = 500},
};

static void summary_and_spans(void **state)
{
    const char *j;

    (void)state;
    add(chain + 2, 2); /* children first: the root is found whatever the order */
    add(chain, 2);
    j = list(NULL);
    assert_non_null(strstr(j, "\"traceId\":\"" TRACE_HEX("01") "\""));
    assert_non_null(strstr(j, "\"rootName\":\"GET\",\"rootService\":\"curl\""));
    assert_non_null(strstr(j, "\"services\":[\"frontend\",\"inventory\",\"curl\"]"));
    assert_non_null(strstr(j, "\"startTimeUnixNano\":\"100000000\",\"durationMs\":40.000"));
    assert_non_null(strstr(j, "\"spanCount\":4,\"errorCount\":1,\"inFlightCount\":0,"
                              "\"error\":true,\"inFlight\":false"));
    assert_non_null(strstr(j, "\"matched\":1"));
    assert_non_null(strstr(j, "\"held\":{\"traces\":1,\"spans\":4,"));

    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("01")));
    j = out.p;
    assert_int_equal(count(j, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
                              "\"service.name\""), 4);
    assert_non_null(strstr(j, "\"scope\":{\"name\":\"test\"}"));
    assert_non_null(strstr(j, "\"name\":\"GET /inventory\""));
    assert_non_null(strstr(j, "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":"
                              "\"500\"}}"));
    assert_non_null(strstr(j, "\"status\":{\"code\":2}"));
    col_buf_reset(&out);
    assert_false(col_vstore_trace_json(&out, TRACE_HEX("02")));
    assert_int_equal(col_vstore_count.spans_kept, 4);
}

static void a_span_again_replaces_it(void **state)
{
    tspan_t s = chain[1];
    const char *j;

    (void)state;
    add(chain, 1);
    s.in_flight = 1;
    s.end = 0;
    add(&s, 1);
    j = list(NULL);
    assert_non_null(strstr(j, "\"spanCount\":2,\"errorCount\":0,\"inFlightCount\":1,"));
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("01")));
    assert_non_null(strstr(out.p, "spanshim.span.in_flight"));

    s = chain[1];
    s.name = "GET /checkout done";
    add(&s, 1);
    j = list(NULL);
    assert_non_null(strstr(j, "\"spanCount\":2,\"errorCount\":0,\"inFlightCount\":0,"));
    assert_int_equal(col_vstore_count.spans_replaced, 1);
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("01")));
    assert_null(strstr(out.p, "spanshim.span.in_flight"));
    assert_non_null(strstr(out.p, "GET /checkout done"));

    /* An in-flight copy that comes late does not undo the whole span. */
    s.in_flight = 1;
    s.name = "late";
    add(&s, 1);
    assert_int_equal(col_vstore_count.spans_stale, 1);
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("01")));
    assert_null(strstr(out.p, "late"));
    assert_int_equal(count(out.p, "\"resourceSpans\""), 2);
}

static void add_traces(size_t n, size_t spans_each)
{
    size_t i, k;

    for (i = 1; i <= n; i++)
        for (k = 1; k <= spans_each; k++) {
            tspan_t s = {.service = "svc", .trace = i, .id = k, .start = i * MS,
                         .end = i * MS + k};
            add(&s, 1);
        }
}

static void cap_on_traces(void **state)
{
    col_vstore_cfg_t cfg = {.max_traces = 3};
    size_t t, s, b;

    (void)state;
    col_vstore_init(&cfg);
    add_traces(5, 2);
    col_vstore_held(&t, &s, &b);
    assert_int_equal(t, 3);
    assert_int_equal(s, 6);
    assert_int_equal(col_vstore_count.traces_evicted, 2);
    assert_int_equal(col_vstore_count.spans_evicted, 4);
    col_buf_reset(&out);
    assert_false(col_vstore_trace_json(&out, TRACE_HEX("02"))); /* the oldest went */
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("03")));
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("05")));
}

static void cap_on_spans(void **state)
{
    col_vstore_cfg_t cfg = {.max_spans = 10};
    size_t t, s, b;

    (void)state;
    col_vstore_init(&cfg);
    add_traces(4, 4);
    col_vstore_held(&t, &s, &b);
    assert_int_equal(t, 2); /* 16 spans: the two oldest traces went */
    assert_int_equal(s, 8);
    assert_int_equal(col_vstore_count.traces_evicted, 2);
    assert_int_equal(col_vstore_count.spans_evicted, 8);
    /* One trace larger than the cap alone: what does not fit is not kept. */
    col_vstore_clear();
    add_traces(1, 12);
    col_vstore_held(&t, &s, &b);
    assert_int_equal(s, 10);
    assert_int_equal(col_vstore_count.spans_no_room, 2);
}

static void cap_on_bytes(void **state)
{
    col_vstore_cfg_t cfg = {.max_bytes = 8192};
    size_t t, s, b, i;

    (void)state;
    col_vstore_init(&cfg);
    for (i = 1; i <= 50; i++) {
        tspan_t x = {.service = "svc", .trace = i, .id = 1, .start = MS, .end = 2 * MS};

        add(&x, 1);
        col_vstore_held(&t, &s, &b);
        assert_true(b <= 8192);
    }
    assert_true(t > 1 && t < 50);
    assert_int_equal(col_vstore_count.traces_evicted, 50 - t);
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("32"))); /* the newest stays */
}

static void cap_per_trace(void **state)
{
    col_vstore_cfg_t cfg = {.max_spans = 5000};
    size_t t, s, b;

    (void)state;
    col_vstore_init(&cfg);
    add_traces(1, COL_VSTORE_TRACE_SPANS + 3);
    col_vstore_held(&t, &s, &b);
    assert_int_equal(s, COL_VSTORE_TRACE_SPANS);
    assert_int_equal(col_vstore_count.spans_cut, 3);
}

static void filters(void **state)
{
    tspan_t ok = {.service = "api", .trace = 2, .id = 9, .start = 200 * MS, .end = 205 * MS,
                  .name = "fast"};
    col_vstore_filter_t f;
    const char *why = NULL;

    (void)state;
    add(chain, 4); /* trace 1: 40 ms, an error, starts at 100 ms */
    add(&ok, 1);   /* trace 2: 5 ms, no error, starts later */
    assert_non_null(strstr(list(NULL), "\"matched\":2"));
    /* The latest started first. */
    assert_true(strstr(list(NULL), TRACE_HEX("02")) < strstr(list(NULL), TRACE_HEX("01")));
    assert_non_null(strstr(list("status=error"), TRACE_HEX("01")));
    assert_null(strstr(list("status=error"), TRACE_HEX("02")));
    assert_non_null(strstr(list("status=ok"), TRACE_HEX("02")));
    assert_null(strstr(list("status=ok"), TRACE_HEX("01")));
    assert_non_null(strstr(list("service=inventory"), "\"matched\":1"));
    assert_non_null(strstr(list("service=inventory"), TRACE_HEX("01")));
    assert_non_null(strstr(list("service=nobody"), "\"matched\":0"));
    assert_non_null(strstr(list("min_ms=10"), TRACE_HEX("01")));
    assert_null(strstr(list("min_ms=10"), TRACE_HEX("02")));
    assert_non_null(strstr(list("max_ms=5"), TRACE_HEX("02")));
    assert_null(strstr(list("max_ms=4.9"), TRACE_HEX("02")));
    assert_non_null(strstr(list("min_ms=5&max_ms=40"), "\"matched\":2"));
    assert_non_null(strstr(list("trace_id=0000000000000002"), "\"matched\":1"));
    assert_non_null(strstr(list("trace_id=0000000000000002"), TRACE_HEX("02")));
    assert_non_null(strstr(list("trace_id=" TRACE_HEX("01")), "\"matched\":1"));
    assert_non_null(strstr(list("trace_id=00000000000000010000"), "\"matched\":0"));
    assert_non_null(strstr(list("limit=1"), "\"matched\":2"));
    assert_int_equal(count(list("limit=1"), "\"traceId\""), 1);
    assert_non_null(strstr(list("unknown=1&status=any"), "\"matched\":2"));

    col_vstore_filter_init(&f);
    assert_true(col_vstore_filter_set(&f, "trace_id", "ABCdef", &why));
    assert_string_equal(f.trace_id, "abcdef");
    assert_false(col_vstore_filter_set(&f, "trace_id", "xyz", &why));
    assert_non_null(why);
    assert_false(col_vstore_filter_set(&f, "trace_id", TRACE_HEX("01") "0", &why));
    assert_false(col_vstore_filter_set(&f, "status", "bad", &why));
    assert_false(col_vstore_filter_set(&f, "min_ms", "nan", &why));
    assert_false(col_vstore_filter_set(&f, "min_ms", "-1", &why));
    assert_false(col_vstore_filter_set(&f, "max_ms", "1e400", &why));
    assert_false(col_vstore_filter_set(&f, "max_ms", "5ms", &why));
    assert_false(col_vstore_filter_set(&f, "limit", "0", &why));
    assert_false(col_vstore_filter_set(&f, "limit", "1001", &why));
    assert_false(col_vstore_filter_set(&f, "limit", "-5", &why));
    {
        char longname[300];

        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_false(col_vstore_filter_set(&f, "service", longname, &why));
    }
}

static void service_map(void **state)
{
    const char *j;

    (void)state;
    add(chain, 4);
    col_buf_reset(&out);
    col_vstore_services_json(&out);
    j = out.p;
    assert_false(out.oom);
    /* curl begins the trace (40 ms); frontend serves 30 ms; inventory 16 ms and fails. */
    assert_non_null(strstr(j, "{\"service\":\"curl\",\"requests\":1,\"errors\":0,"
                              "\"avgMs\":40.000,\"maxMs\":40.000}"));
    assert_non_null(strstr(j, "{\"service\":\"frontend\",\"requests\":1,\"errors\":0,"
                              "\"avgMs\":30.000,\"maxMs\":30.000}"));
    assert_non_null(strstr(j, "{\"service\":\"inventory\",\"requests\":1,\"errors\":1,"
                              "\"avgMs\":16.000,\"maxMs\":16.000}"));
    assert_non_null(strstr(j, "{\"from\":\"curl\",\"to\":\"frontend\",\"calls\":1,"
                              "\"errors\":0,\"avgMs\":30.000"));
    assert_non_null(strstr(j, "{\"from\":\"frontend\",\"to\":\"inventory\",\"calls\":1,"
                              "\"errors\":1,\"avgMs\":16.000"));
    assert_int_equal(count(j, "\"from\""), 2); /* frontend -> frontend is no edge */
}

static void names_are_escaped(void **state)
{
    tspan_t s = {.service = "a\"b\\c</script>", .trace = 3, .id = 1, .start = MS, .end = 2 * MS,
                 .name = "x\ny\x01\xff"};
    const char *j;

    (void)state;
    add(&s, 1);
    j = list(NULL);
    assert_non_null(strstr(j, "\"rootName\":\"x\\u000ay\\u0001\\ufffd\""));
    assert_non_null(strstr(j, "\"rootService\":\"a\\\"b\\\\c</script>\""));
    col_buf_reset(&out);
    col_vstore_services_json(&out);
    assert_non_null(strstr(out.p, "\"service\":\"a\\\"b\\\\c</script>\""));
}

static volatile int readers_stop;

static void *reader(void *arg)
{
    col_buf_t b = {0};
    col_vstore_filter_t f;

    (void)arg;
    col_vstore_filter_init(&f);
    while (!__atomic_load_n(&readers_stop, __ATOMIC_RELAXED)) {
        col_buf_reset(&b);
        col_vstore_traces_json(&b, &f);
        col_buf_reset(&b);
        col_vstore_services_json(&b);
        col_buf_reset(&b);
        col_vstore_trace_json(&b, TRACE_HEX("05"));
    }
    col_buf_free(&b);
    return NULL;
}

static void readers_on_other_threads(void **state)
{
    col_vstore_cfg_t cfg = {.max_traces = 20};
    pthread_t th[2];
    size_t t, s, b;
    int i;

    (void)state;
    col_vstore_init(&cfg);
    readers_stop = 0;
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
    add_traces(200, 5);
    __atomic_store_n(&readers_stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    col_vstore_held(&t, &s, &b);
    assert_int_equal(t, 20);
    assert_int_equal(s, 100);
}

static void the_sink_only_looks(void **state)
{
    col_arena_t *arena;
    col_request_t *r = tb_request(chain, 4, &arena);
    col_batch_t b = {.r = r, .spans = 4, .arena = arena};
    size_t t, s, bytes;

    (void)state;
    assert_string_equal(col_sink_view.name, "view");
    assert_int_equal(col_sink_view.take(&b), COL_PASS);
    assert_ptr_equal(b.arena, arena); /* the batch is still the caller's */
    col_arena_free(arena);
    col_vstore_held(&t, &s, &bytes);
    assert_int_equal(t, 1);
    assert_int_equal(s, 4);
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, TRACE_HEX("01"))); /* copied, not borrowed */
    assert_non_null(strstr(out.p, "GET /inventory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(summary_and_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(a_span_again_replaces_it, setup, teardown),
        cmocka_unit_test_setup_teardown(cap_on_traces, setup, teardown),
        cmocka_unit_test_setup_teardown(cap_on_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(cap_on_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(cap_per_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(filters, setup, teardown),
        cmocka_unit_test_setup_teardown(service_map, setup, teardown),
        cmocka_unit_test_setup_teardown(names_are_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_on_other_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(the_sink_only_looks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
