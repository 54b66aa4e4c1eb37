/*
 * ex_otlp_log.c - a log record (preload/ss_logrec.h) as an OTLP LogRecord,
 * written out directly as the span encoder writes spans (ex_otlp_int.h's
 * byte writers), in field order:
 *
 *   time_unix_nano, severity_number, severity_text, body (a string),
 *   attributes (log.iostream "stdout"/"stderr", or log.file.path, or
 *   syslog.appname, openlog's ident, at most EX_LOG_IDENT_MAX bytes; and
 *   spanshim.log.truncated when the line was longer than it), flags (the
 *   span's W3C trace flags), trace_id, span_id, observed_time_unix_nano.
 *
 * trace_id, span_id and flags only when a span was current on the thread
 * that wrote the line: a line written outside any span has none, as the
 * logs data model says.
 */
#include "ex_otlp_int.h"

#include <endian.h>

#include "logs.pb.h"

#define EX_LOG_ATTR_TAG (opentelemetry_proto_logs_v1_LogRecord_attributes_tag << 3 | PB_WT_STRING)
#define EX_LOG_IDENT_MAX 64
#define EX_LOG_LEN_ROOM 3 /* the record's tag and its length (under 16384) */

_Static_assert(EX_LOG_MAX < 16384 - EX_LOG_LEN_ROOM, "a record's lengths take two bytes at most");
_Static_assert(EX_LOG_LEN_ROOM + 160 + 255 + 8192 + 512 <= EX_LOG_MAX, "the largest record fits EX_LOG_MAX");

static uint8_t *ex_log_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    *p++ = (uint8_t)(field << 3 | PB_WT_64BIT);
    v = htole64(v);
    memcpy(p, &v, 8);
    return p + 8;
}

/* An attribute: the span encoder's KeyValue under LogRecord's field. */
static uint8_t *ex_log_attr_str(uint8_t *p, ex_str_t key, ex_str_t v)
{
    uint8_t *at = p;

    p = ex_kv_str(p, key, v);
    if (p != at)
        *at = EX_LOG_ATTR_TAG;
    return p;
}

static uint8_t *ex_log_attr_true(uint8_t *p, ex_str_t key)
{
    uint8_t *at = p;

    p = ex_kv_true(p, key);
    *at = EX_LOG_ATTR_TAG;
    return p;
}

static uint8_t *ex_put_log(uint8_t *p, const ss_logrec_t *r)
{
    static const char *const streams[] = {[SS_LOG_STDOUT] = "stdout", [SS_LOG_STDERR] = "stderr"};
    size_t any;

    if (r->time_ns)
        p = ex_log_fixed64(p, opentelemetry_proto_logs_v1_LogRecord_time_unix_nano_tag, r->time_ns);
    if (r->severity) {
        *p++ = opentelemetry_proto_logs_v1_LogRecord_severity_number_tag << 3 | PB_WT_VARINT;
        *p++ = r->severity; /* at most 24: one byte */
    }
    if (r->severity_text_len)
        p = ex_put_bytes(p, opentelemetry_proto_logs_v1_LogRecord_severity_text_tag,
                         r->severity_text, r->severity_text_len);
    /* body: AnyValue { string_value = 1 } */
    any = 1 + ex_len_size(r->body_len) + r->body_len;
    *p++ = opentelemetry_proto_logs_v1_LogRecord_body_tag << 3 | PB_WT_STRING;
    p = ex_put_len(p, any);
    p = ex_put_bytes(p, 1, r->body, r->body_len);
    if (r->source == SS_LOG_STDOUT || r->source == SS_LOG_STDERR)
        p = ex_log_attr_str(p, EX_LIT("log.iostream"), ex_cstr(streams[r->source]));
    else if (r->source == SS_LOG_FILE && r->path)
        p = ex_log_attr_str(p, EX_LIT("log.file.path"), ex_cstr(r->path));
    else if (r->source == SS_LOG_SYSLOG && r->ident && r->ident[0]) {
        ex_str_t id = {r->ident, strnlen(r->ident, EX_LOG_IDENT_MAX)};

        p = ex_log_attr_str(p, EX_LIT("syslog.appname"), id);
    }
    if (r->cut)
        p = ex_log_attr_true(p, EX_LIT("spanshim.log.truncated"));
    if (r->ctx.valid) {
        uint32_t flags = htole32(r->ctx.flags);

        *p++ = opentelemetry_proto_logs_v1_LogRecord_flags_tag << 3 | PB_WT_32BIT;
        memcpy(p, &flags, 4);
        p += 4;
        p = ex_put_bytes(p, opentelemetry_proto_logs_v1_LogRecord_trace_id_tag, r->ctx.trace_id, 16);
        p = ex_put_bytes(p, opentelemetry_proto_logs_v1_LogRecord_span_id_tag, r->ctx.span_id, 8);
    }
    if (r->observed_ns)
        p = ex_log_fixed64(p, opentelemetry_proto_logs_v1_LogRecord_observed_time_unix_nano_tag,
                           r->observed_ns);
    return p;
}

size_t ex_otlp_log(const ss_logrec_t *r, uint8_t *buf, size_t cap)
{
    size_t body, hn, path_len = r->path ? strlen(r->path) : 0;

    if (r->source == SS_LOG_SYSLOG && r->ident)
        path_len = strnlen(r->ident, EX_LOG_IDENT_MAX); /* one or the other */

    /* the fixed fields, the attributes' framing and the longest key in
     * under 160 bytes; then the strings */
    if (r->body_len == 0 || r->body_len > 8192 || path_len > 512 ||
        cap < EX_LOG_LEN_ROOM + 160 + r->severity_text_len + r->body_len + path_len)
        return 0;
    body = (size_t)(ex_put_log(buf + EX_LOG_LEN_ROOM, r) - (buf + EX_LOG_LEN_ROOM));
    hn = 1 + ex_varint_len(body);
    if (hn != EX_LOG_LEN_ROOM)
        memmove(buf + hn, buf + EX_LOG_LEN_ROOM, body);
    buf[0] = opentelemetry_proto_logs_v1_ScopeLogs_log_records_tag << 3 | PB_WT_STRING;
    ex_varint(buf + 1, body);
    return hn + body;
}
