/*
 * test_otlp_log.c - log records encoded by the shim (ex_otlp_log.c), in a
 * logs datagram (EX_FRAME_LOGS, then the envelope and the records), read
 * back with protobuf-c's ExportLogsServiceRequest: every field where the
 * logs data model puts it, the trace context only when there was a span,
 * the stream or the file as attributes, a cut line marked; a trace
 * datagram never begins as a logs one; records that cannot be encoded
 * (empty, too long, no room) are refused, not cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/ex_otlp.h"
#include "logs_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_req_t;
typedef Opentelemetry__Proto__Logs__V1__LogRecord log_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

static uint8_t gram[EX_FRAME_LEN + EX_ENVELOPE_MAX + 4 * EX_LOG_MAX];

/* A logs datagram of the records, decoded (its frame checked). */
static logs_req_t *datagram(const ss_logrec_t *recs, int n)
{
    uint8_t res[] = {0x0a, 0x0e, 0x0a, 0x0c, 's', 'e', 'r', 'v', 'i', 'c', 'e', '.', 'n', 'a', 'm', 'e'};
    uint8_t body[4 * EX_LOG_MAX];
    size_t len = 0, env;
    int i;

    for (i = 0; i < n; i++) {
        size_t k = ex_otlp_log(&recs[i], body + len, sizeof(body) - len);

        assert_true(k > 0 && k <= EX_LOG_MAX);
        len += k;
    }
    memcpy(gram, EX_FRAME_LOGS, EX_FRAME_LEN);
    env = ex_otlp_envelope_more(res, sizeof(res), NULL, 0, len, gram + EX_FRAME_LEN,
                                sizeof(gram) - EX_FRAME_LEN);
    assert_true(env > 0);
    memcpy(gram + EX_FRAME_LEN + env, body, len);
    assert_int_equal(gram[0], 0);
    return opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
        NULL, env + len, gram + EX_FRAME_LEN);
}

static log_t *record(logs_req_t *r, size_t i)
{
    assert_non_null(r);
    assert_int_equal(r->n_resource_logs, 1);
    assert_int_equal(r->resource_logs[0]->n_scope_logs, 1);
    assert_string_equal(r->resource_logs[0]->scope_logs[0]->scope->name, "spanshim");
    assert_true(i < r->resource_logs[0]->scope_logs[0]->n_log_records);
    return r->resource_logs[0]->scope_logs[0]->log_records[i];
}

static const kv_t *attr(const log_t *l, const char *key)
{
    size_t i;

    for (i = 0; i < l->n_attributes; i++)
        if (strcmp(l->attributes[i]->key, key) == 0)
            return l->attributes[i];
    return NULL;
}

static void a_line_written_in_a_span(void **state)
{
    ss_logrec_t rec = {.time_ns = 1764583200123456789ull, .observed_ns = 1764583200123999999ull,
                       .severity = 17, .severity_text = "ERROR", .severity_text_len = 5,
                       .source = SS_LOG_STDERR, .body = "ERROR:root:boom", .body_len = 15};
    logs_req_t *r;
    log_t *l;

    (void)state;
    memset(rec.ctx.trace_id, 0xab, 16);
    memset(rec.ctx.span_id, 0xcd, 8);
    rec.ctx.flags = 1;
    rec.ctx.valid = 1;
    r = datagram(&rec, 1);
    l = record(r, 0);
    assert_int_equal(l->time_unix_nano, rec.time_ns);
    assert_int_equal(l->observed_time_unix_nano, rec.observed_ns);
    assert_int_equal(l->severity_number, 17);
    assert_string_equal(l->severity_text, "ERROR");
    assert_non_null(l->body);
    assert_int_equal(l->body->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    assert_string_equal(l->body->string_value, "ERROR:root:boom");
    assert_int_equal(l->flags, 1);
    assert_int_equal(l->trace_id.len, 16);
    assert_memory_equal(l->trace_id.data, rec.ctx.trace_id, 16);
    assert_int_equal(l->span_id.len, 8);
    assert_memory_equal(l->span_id.data, rec.ctx.span_id, 8);
    assert_string_equal(attr(l, "log.iostream")->value->string_value, "stderr");
    assert_null(attr(l, "spanshim.log.truncated"));
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
}

static void lines_outside_any_span_and_in_files(void **state)
{
    static char longline[8192];
    ss_logrec_t recs[3] = {
        {.time_ns = 5, .source = SS_LOG_STDOUT, .body = "plain", .body_len = 5},
        {.time_ns = 6, .source = SS_LOG_FILE, .path = "/var/log/app/error.log", .body = "x",
         .body_len = 1},
        {.time_ns = 7, .source = SS_LOG_SYSLOG, .severity = 9, .severity_text = "info",
         .severity_text_len = 4, .cut = 1, .body = longline, .body_len = sizeof(longline)},
    };
    logs_req_t *r;
    log_t *l;

    (void)state;
    memset(longline, 'y', sizeof(longline));
    r = datagram(recs, 3);
    l = record(r, 0);
    assert_int_equal(l->severity_number, 0);
    assert_string_equal(l->severity_text, "");
    assert_int_equal(l->trace_id.len, 0); /* no span: no context */
    assert_int_equal(l->span_id.len, 0);
    assert_int_equal(l->flags, 0);
    assert_int_equal(l->observed_time_unix_nano, 0);
    assert_string_equal(attr(l, "log.iostream")->value->string_value, "stdout");
    l = record(r, 1);
    assert_null(attr(l, "log.iostream"));
    assert_string_equal(attr(l, "log.file.path")->value->string_value, "/var/log/app/error.log");
    l = record(r, 2);
    assert_int_equal(strlen(l->body->string_value), sizeof(longline));
    assert_true(attr(l, "spanshim.log.truncated")->value->bool_value);
    assert_int_equal(l->n_attributes, 1);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
}

static void what_cannot_be_encoded_is_refused(void **state)
{
    static char toolong[8193];
    uint8_t buf[EX_LOG_MAX];
    ss_logrec_t rec = {.source = SS_LOG_STDOUT, .body = "ok", .body_len = 2};

    (void)state;
    assert_true(ex_otlp_log(&rec, buf, sizeof(buf)) > 0);
    assert_int_equal(ex_otlp_log(&rec, buf, 100), 0); /* no room for the worst case */
    rec.body_len = 0;
    assert_int_equal(ex_otlp_log(&rec, buf, sizeof(buf)), 0);
    rec.body = toolong;
    rec.body_len = sizeof(toolong);
    assert_int_equal(ex_otlp_log(&rec, buf, sizeof(buf)), 0);
}

static void a_trace_datagram_never_begins_as_a_logs_one(void **state)
{
    uint8_t env[EX_ENVELOPE_MAX], res[] = {0x0a, 0x00};

    (void)state;
    assert_true(ex_otlp_envelope(res, sizeof(res), 0, env, sizeof(env)) > 0);
    assert_int_not_equal(env[0], 0); /* a protobuf field's key is never 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_line_written_in_a_span),
        cmocka_unit_test(lines_outside_any_span_and_in_files),
        cmocka_unit_test(what_cannot_be_encoded_is_refused),
        cmocka_unit_test(a_trace_datagram_never_begins_as_a_logs_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
