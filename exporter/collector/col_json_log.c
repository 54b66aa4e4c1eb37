/*
 * col_json_log.c - an ExportLogsServiceRequest as one line of OTLP JSON
 * (col_logs.h), written as col_json.c writes traces: lowerCamelCase keys,
 * traceId and spanId as lowercase hex, timeUnixNano and
 * observedTimeUnixNano as decimal strings (64-bit), severityNumber as an
 * integer, the body and attributes as AnyValues ({"stringValue":...}),
 * default values left out; strings escaped, invalid UTF-8 as U+FFFD. Logs
 * are decoded first (no wire walk): they are fewer than spans, and every
 * sink but the file needs them decoded anyway.
 */
#include "col_json.h"
#include "col_logs.h"

static void col_jl_key(col_buf_t *b, int *first, const char *key)
{
    if (!*first)
        col_buf_put(b, ",", 1);
    *first = 0;
    col_buf_put(b, "\"", 1);
    col_buf_puts(b, key);
    col_buf_put(b, "\":", 2);
}

static void col_jl_u64(col_buf_t *b, int *first, const char *key, uint64_t v, int quoted)
{
    if (v == 0)
        return;
    col_jl_key(b, first, key);
    if (quoted)
        col_buf_put(b, "\"", 1);
    col_buf_u64(b, v);
    if (quoted)
        col_buf_put(b, "\"", 1);
}

static void col_jl_str(col_buf_t *b, int *first, const char *key, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    col_jl_key(b, first, key);
    col_json_string(b, v);
}

static void col_jl_id(col_buf_t *b, int *first, const char *key, ProtobufCBinaryData d)
{
    if (d.len == 0)
        return;
    col_jl_key(b, first, key);
    col_json_id(b, d.data, d.len);
}

static void col_jl_attrs(col_buf_t *b, int *first, col_kv_t **kv, size_t n, uint32_t dropped)
{
    if (n) {
        col_jl_key(b, first, "attributes");
        col_json_kv_array(b, kv, n);
    }
    col_jl_u64(b, first, "droppedAttributesCount", dropped, 0);
}

void col_json_log_record(col_buf_t *b, const col_log_t *l)
{
    int first = 1, sev = (int)l->severity_number;

    col_buf_put(b, "{", 1);
    col_jl_u64(b, &first, "timeUnixNano", l->time_unix_nano, 1);
    col_jl_u64(b, &first, "observedTimeUnixNano", l->observed_time_unix_nano, 1);
    if (sev) {
        col_jl_key(b, &first, "severityNumber");
        if (sev > 0)
            col_buf_u64(b, (uint64_t)sev);
        else
            col_buf_printf(b, "%d", sev); /* not a severity, but as sent */
    }
    col_jl_str(b, &first, "severityText", l->severity_text);
    if (l->body) {
        col_jl_key(b, &first, "body");
        col_json_any_value(b, l->body);
    }
    col_jl_attrs(b, &first, l->attributes, l->n_attributes, l->dropped_attributes_count);
    col_jl_u64(b, &first, "flags", l->flags, 0);
    col_jl_id(b, &first, "traceId", l->trace_id);
    col_jl_id(b, &first, "spanId", l->span_id);
    col_jl_str(b, &first, "eventName", l->event_name);
    col_buf_put(b, "}", 1);
}

static void col_jl_scope_logs(col_buf_t *b, const col_scope_logs_t *sl)
{
    int first = 1;
    size_t i;

    col_buf_put(b, "{", 1);
    if (sl->scope) {
        int f = 1;

        col_jl_key(b, &first, "scope");
        col_buf_put(b, "{", 1);
        col_jl_str(b, &f, "name", sl->scope->name);
        col_jl_str(b, &f, "version", sl->scope->version);
        col_jl_attrs(b, &f, sl->scope->attributes, sl->scope->n_attributes,
                     sl->scope->dropped_attributes_count);
        col_buf_put(b, "}", 1);
    }
    if (sl->n_log_records) {
        col_jl_key(b, &first, "logRecords");
        col_buf_put(b, "[", 1);
        for (i = 0; i < sl->n_log_records; i++) {
            if (i)
                col_buf_put(b, ",", 1);
            col_json_log_record(b, sl->log_records[i]);
        }
        col_buf_put(b, "]", 1);
    }
    col_jl_str(b, &first, "schemaUrl", sl->schema_url);
    col_buf_put(b, "}", 1);
}

void col_json_logs(col_buf_t *b, const col_logs_request_t *r)
{
    size_t i, j;

    col_buf_puts(b, "{\"resourceLogs\":[");
    for (i = 0; i < r->n_resource_logs; i++) {
        const col_resource_logs_t *rl = r->resource_logs[i];
        int first = 1;

        col_buf_puts(b, i ? ",{" : "{");
        if (rl->resource) {
            int f = 1;

            col_jl_key(b, &first, "resource");
            col_buf_put(b, "{", 1);
            col_jl_attrs(b, &f, rl->resource->attributes, rl->resource->n_attributes,
                         rl->resource->dropped_attributes_count);
            col_buf_put(b, "}", 1);
        }
        if (rl->n_scope_logs) {
            col_jl_key(b, &first, "scopeLogs");
            col_buf_put(b, "[", 1);
            for (j = 0; j < rl->n_scope_logs; j++) {
                if (j)
                    col_buf_put(b, ",", 1);
                col_jl_scope_logs(b, rl->scope_logs[j]);
            }
            col_buf_put(b, "]", 1);
        }
        col_jl_str(b, &first, "schemaUrl", rl->schema_url);
        col_buf_put(b, "}", 1);
    }
    col_buf_puts(b, "]}");
}
