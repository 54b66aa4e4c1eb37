/*
 * test_logs.c - the collector's log records: a logs request decoded with
 * the datagrams' bounds (garbage and nesting past the bound refused, with
 * the reason), its OTLP JSON line byte for byte (ids hex, times as
 * strings, severityNumber an integer, body and attributes as AnyValues,
 * defaults left out, strings escaped), which records belong to a trace
 * or a span (invalid ids: none), --print's records under their span, the
 * ones of no trace at once, the per-trace cap counted; the viewer's store
 * keeping them beside the spans, a trace of records alone, the per-trace
 * cap, and letting them go with their trace.
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

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_logs.h"
#include "../../exporter/collector/col_print.h"
#include "../../exporter/collector/col_vstore.h"
#include "otlp_build.h"

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req_t;

static uint8_t TRACE[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                            0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static uint8_t SPAN[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};

/* A record for lrequest: what each test varies. */
typedef struct lrec {
    const uint8_t *trace; /* 16 bytes or NULL */
    size_t trace_len;
    const uint8_t *span;  /* 8 bytes or NULL */
    int severity;
    const char *text, *body;
    uint64_t time;
} lrec_t;

/* One resource (service.name svc), one scope "spanshim", the records;
 * packed by protobuf-c and decoded by the collector into *arena. */
static col_logs_request_t *lrequest(const char *svc, const lrec_t *recs, size_t n,
                                    col_arena_t **arena)
{
    req_t req = OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT,
                                                 *rlp = &rl;
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT,
                                              *slp = &sl;
    col_scope_t scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    col_resource_t res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    col_kv_t kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT, *kvp = &kv;
    col_value_t sv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    col_log_t *l = calloc(n, sizeof(*l)), **lp = calloc(n, sizeof(*lp));
    col_value_t *bodies = calloc(n, sizeof(*bodies));
    col_decode_err_t why;
    col_logs_request_t *r;
    uint8_t *pb;
    size_t i, len;

    sv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    sv.string_value = (char *)svc;
    kv.key = "service.name";
    kv.value = &sv;
    res.n_attributes = 1;
    res.attributes = &kvp;
    scope.name = "spanshim";
    for (i = 0; i < n; i++) {
        opentelemetry__proto__logs__v1__log_record__init(&l[i]);
        opentelemetry__proto__common__v1__any_value__init(&bodies[i]);
        bodies[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        bodies[i].string_value = (char *)recs[i].body;
        l[i].body = &bodies[i];
        l[i].time_unix_nano = recs[i].time;
        l[i].severity_number = recs[i].severity;
        l[i].severity_text = (char *)(recs[i].text ? recs[i].text : "");
        if (recs[i].trace) {
            l[i].trace_id.data = (uint8_t *)recs[i].trace;
            l[i].trace_id.len = recs[i].trace_len ? recs[i].trace_len : 16;
        }
        if (recs[i].span) {
            l[i].span_id.data = (uint8_t *)recs[i].span;
            l[i].span_id.len = 8;
        }
        lp[i] = &l[i];
    }
    sl.scope = &scope;
    sl.n_log_records = n;
    sl.log_records = lp;
    rl.resource = &res;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    req.n_resource_logs = 1;
    req.resource_logs = &rlp;
    len = protobuf_c_message_get_packed_size(&req.base);
    pb = malloc(len);
    protobuf_c_message_pack(&req.base, pb);
    *arena = col_arena_new();
    r = col_logs_request_decode(*arena, pb, len, &why);
    free(pb), free(l), free(lp), free(bodies);
    assert_non_null(r);
    return r;
}

static void json_line(void **state)
{
    static const uint8_t zero[16];
    lrec_t recs[] = {
        {TRACE, 0, SPAN, 17, "ERROR", "boom \"x\"\n\xff", 1764583200123456789ull},
        {NULL, 0, NULL, 0, NULL, "no trace", 0},
    };
    col_arena_t *a;
    col_logs_request_t *r = lrequest("svc", recs, 2, &a);
    col_buf_t b = {0};

    (void)state;
    (void)zero;
    col_json_logs(&b, r);
    assert_string_equal(
        b.p, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
             "{\"stringValue\":\"svc\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"spanshim\"},"
             "\"logRecords\":[{\"timeUnixNano\":\"1764583200123456789\",\"severityNumber\":17,"
             "\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"boom \\\"x\\\"\\u000a\\ufffd\"},"
             "\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"00f067aa0ba902b7\"},"
             "{\"body\":{\"stringValue\":\"no trace\"}}]}]}]}");
    assert_int_equal(col_logs_count(r), 2);
    col_buf_free(&b);
    col_arena_free(a);
}

static void which_belong_to_a_trace(void **state)
{
    static const uint8_t zero[16];
    lrec_t recs[] = {
        {TRACE, 0, SPAN, 9, NULL, "both", 1},
        {TRACE, 0, NULL, 9, NULL, "trace only", 1},
        {zero, 0, SPAN, 9, NULL, "zero trace", 1},
        {TRACE, 8, SPAN, 9, NULL, "short trace", 1},
        {TRACE, 0, zero, 9, NULL, "zero span", 1},
    };
    col_arena_t *a;
    col_logs_request_t *r = lrequest("svc", recs, 5, &a);
    col_log_t **l = r->resource_logs[0]->scope_logs[0]->log_records;

    (void)state;
    assert_true(col_log_has_trace(l[0]) && col_log_has_span(l[0]));
    assert_true(col_log_has_trace(l[1]) && !col_log_has_span(l[1]));
    assert_false(col_log_has_trace(l[2]) || col_log_has_span(l[2]));
    assert_false(col_log_has_trace(l[3]) || col_log_has_span(l[3]));
    assert_true(col_log_has_trace(l[4]) && !col_log_has_span(l[4]));
    assert_string_equal(col_logs_service(r->resource_logs[0]), "svc");
    col_arena_free(a);
}

static void decoding_is_bounded(void **state)
{
    uint8_t deep[2048], *p;
    size_t n = 0, i;
    col_decode_err_t why;
    col_arena_t *a = col_arena_new();
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};

    (void)state;
    assert_null(col_logs_request_decode(a, garbage, sizeof(garbage), &why));
    assert_int_equal(why, COL_DECODE_MALFORMED);
    /* resource_logs > scope_logs > log_records > body: AnyValue > array > ... 100 deep,
     * written from the inside out with one-byte lengths where they fit. */
    p = deep + sizeof(deep);
    *--p = 0;
    *--p = 0x0a; /* AnyValue.string_value "" */
    n = 2;
    for (i = 0; i < 100; i++) {
        size_t len = n;

        /* ArrayValue.values (1) = AnyValue, then AnyValue.array_value (5) = ArrayValue */
        p -= len < 128 ? 1 : 2;
        if (len < 128)
            p[0] = (uint8_t)len;
        else
            p[0] = (uint8_t)(len | 0x80), p[1] = (uint8_t)(len >> 7);
        *--p = 0x0a;
        n = (size_t)(deep + sizeof(deep) - p);
        len = n;
        p -= len < 128 ? 1 : 2;
        if (len < 128)
            p[0] = (uint8_t)len;
        else
            p[0] = (uint8_t)(len | 0x80), p[1] = (uint8_t)(len >> 7);
        *--p = 0x2a;
        n = (size_t)(deep + sizeof(deep) - p);
    }
    for (i = 0; i < 4; i++) { /* LogRecord.body 5, ScopeLogs 2, ResourceLogs 2, request 1 */
        static const uint8_t tags[] = {0x2a, 0x12, 0x12, 0x0a};
        size_t len = n;

        p -= 2;
        p[0] = (uint8_t)(len | 0x80), p[1] = (uint8_t)(len >> 7);
        *--p = tags[i];
        n = (size_t)(deep + sizeof(deep) - p);
    }
    assert_null(col_logs_request_decode(a, p, n, &why));
    assert_int_equal(why, COL_DECODE_TOO_DEEP);
    col_arena_free(a);
}

static char *printed(const col_logs_request_t *logs, const col_request_t *spans, uint64_t now)
{
    static char *buf;
    static size_t len;
    FILE *f;

    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    if (spans)
        col_print_add(f, spans, now);
    if (logs)
        col_print_add_logs(f, logs, now);
    col_print_due(f, now + 10000, 1);
    fclose(f);
    return buf;
}

static void printed_under_their_span(void **state)
{
    const tspan_t spans[] = {
        {.service = "shop", .trace = 0x4bf92f3577b34da6ull, .random = 0, .id = 1, .kind = 2,
         .start = 10 * TB_MS, .end = 20 * TB_MS, .name = "GET"},
    };
    uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xff, 0, 0, 0, 0, 0, 0, 0};
    uint8_t span1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    lrec_t recs[] = {
        {trace, 0, span1, 17, NULL, "late\x1b[2J", 15 * TB_MS},
        {trace, 0, span1, 9, "info", "early", 11 * TB_MS},
        {NULL, 0, NULL, 13, NULL, "alone", 0},
    };
    col_arena_t *a, *b;
    col_request_t *r = tb_request(spans, 1, &a);
    col_logs_request_t *l = lrequest("shop", recs, 3, &b);
    char *out = printed(l, r, 1000);

    (void)state;
    assert_non_null(strstr(out, "log  shop                     WARN   alone\n"));
    assert_non_null(strstr(out, "1 span  2 log records"));
    assert_non_null(strstr(out, "|\n    log info      +1.00 ms  early\n    log ERROR     +5.00 ms  "
                                "late\\x1b[2J\n"));
    assert_true(strstr(out, "alone") < strstr(out, "trace ")); /* at once, not held */
    col_arena_free(a);
    col_arena_free(b);
}

static void print_cap_per_trace(void **state)
{
    lrec_t *recs = calloc(COL_PRINT_TRACE_LOGS + 5, sizeof(*recs));
    unsigned long long before = col_print_count.logs_cut;
    col_arena_t *a;
    col_logs_request_t *l;
    char *out;
    size_t i;

    (void)state;
    for (i = 0; i < COL_PRINT_TRACE_LOGS + 5; i++)
        recs[i] = (lrec_t){TRACE, 0, SPAN, 9, NULL, "x", i + 1};
    l = lrequest("svc", recs, COL_PRINT_TRACE_LOGS + 5, &a);
    out = printed(l, NULL, 5000);
    assert_int_equal(col_print_count.logs_cut - before, 5);
    assert_non_null(strstr(out, "0 spans  1000 log records (5 more not shown)"));
    col_arena_free(a);
    free(recs);
}

static void viewer_keeps_them_beside_the_spans(void **state)
{
    const tspan_t spans[] = {
        {.service = "shop", .trace = 0x4bf92f3577b34da6ull, .id = 1, .kind = 2,
         .start = 10 * TB_MS, .end = 20 * TB_MS, .name = "GET"},
    };
    uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xff, 0, 0, 0, 0, 0, 0, 0};
    uint8_t span1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    lrec_t recs[] = {{trace, 0, span1, 9, NULL, "kept", 12 * TB_MS},
                     {NULL, 0, NULL, 9, NULL, "of no trace", 1}};
    lrec_t only[] = {{TRACE, 0, SPAN, 9, NULL, "first", 7 * TB_MS},
                     {TRACE, 0, SPAN, 9, NULL, "second", 9 * TB_MS}};
    col_arena_t *a, *b, *c;
    col_request_t *r = tb_request(spans, 1, &a);
    col_logs_request_t *l = lrequest("shop", recs, 2, &b), *l2 = lrequest("svc", only, 2, &c);
    col_buf_t out = {0};
    size_t traces, nspans, bytes_before, bytes;

    (void)state;
    col_vstore_init(NULL);
    memset(&col_vstore_count, 0, sizeof(col_vstore_count));
    col_vstore_add_logs(l); /* before the spans, as a line is written before its span ends */
    col_vstore_add(r);
    col_vstore_held(&traces, &nspans, &bytes_before);
    assert_int_equal(traces, 1);
    assert_int_equal(col_vstore_count.logs_kept, 1);
    assert_int_equal(col_vstore_count.logs_no_trace, 1);
    assert_true(col_vstore_trace_json(&out, "4bf92f3577b34da6ff00000000000000"));
    assert_non_null(strstr(out.p, "\"spanCount\":1,\"errorCount\":0,"));
    assert_non_null(strstr(out.p, "\"inFlight\":false,\"logCount\":1}"));
    assert_non_null(strstr(out.p, "\"logs\":[{\"service\":\"shop\",\"record\":{\"timeUnixNano\":"
                                  "\"12000000\",\"severityNumber\":9,\"body\":{\"stringValue\":"
                                  "\"kept\"},\"traceId\":\"4bf92f3577b34da6ff00000000000000\","
                                  "\"spanId\":\"0000000000000001\"}}]}"));
    /* A trace of records alone: listed, its times theirs. */
    col_vstore_add_logs(l2);
    col_buf_reset(&out);
    assert_true(col_vstore_trace_json(&out, "4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_non_null(strstr(out.p, "\"startTimeUnixNano\":\"7000000\",\"durationMs\":2.000,"
                                  "\"spanCount\":0,"));
    assert_non_null(strstr(out.p, "\"logCount\":2}"));
    col_vstore_held(&traces, &nspans, &bytes);
    assert_int_equal(traces, 2);
    assert_true(bytes > bytes_before);
    col_vstore_clear();
    col_vstore_held(&traces, &nspans, &bytes);
    assert_int_equal(traces + nspans + bytes, 0);
    col_buf_free(&out);
    col_arena_free(a);
    col_arena_free(b);
    col_arena_free(c);
}

static void viewer_caps(void **state)
{
    lrec_t *recs = calloc(COL_VSTORE_TRACE_LOGS + 3, sizeof(*recs));
    col_vstore_cfg_t one = {1, 100, 64 << 20};
    uint8_t other[16] = {1};
    lrec_t next = {other, 0, NULL, 9, NULL, "another trace", 1};
    col_arena_t *a, *b;
    col_logs_request_t *l, *l2;
    size_t i;

    (void)state;
    for (i = 0; i < COL_VSTORE_TRACE_LOGS + 3; i++)
        recs[i] = (lrec_t){TRACE, 0, SPAN, 9, NULL, "x", i + 1};
    l = lrequest("svc", recs, COL_VSTORE_TRACE_LOGS + 3, &a);
    l2 = lrequest("svc", &next, 1, &b);
    col_vstore_clear();
    col_vstore_init(&one);
    memset(&col_vstore_count, 0, sizeof(col_vstore_count));
    col_vstore_add_logs(l);
    assert_int_equal(col_vstore_count.logs_kept, COL_VSTORE_TRACE_LOGS);
    assert_int_equal(col_vstore_count.logs_cut, 3);
    col_vstore_add_logs(l2); /* one trace at most: the first goes, its records with it */
    assert_int_equal(col_vstore_count.traces_evicted, 1);
    assert_int_equal(col_vstore_count.logs_evicted, COL_VSTORE_TRACE_LOGS);
    col_vstore_clear();
    col_vstore_init(NULL);
    col_arena_free(a);
    col_arena_free(b);
    free(recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_line),
        cmocka_unit_test(which_belong_to_a_trace),
        cmocka_unit_test(decoding_is_bounded),
        cmocka_unit_test(printed_under_their_span),
        cmocka_unit_test(print_cap_per_trace),
        cmocka_unit_test(viewer_keeps_them_beside_the_spans),
        cmocka_unit_test(viewer_caps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
