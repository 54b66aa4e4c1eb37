/*
 * ex_otlp.c - span and resource encoding (see ex_otlp.h): the Span
 * message and what every span has; each protocol's attributes are its
 * own file's (ex_otlp_int.h).
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

#include <endian.h>
#include <stdio.h>

#define EX_VERSION "0.1.0"
#define EX_ATTRS_MAX 20

/* A span attribute: a string, or (str.p NULL) an integer. */
typedef struct ex_attr {
    ex_str_t key;
    ex_str_t str;
    int64_t num;
} ex_attr_t;

typedef struct ex_attrs {
    ex_attr_t a[EX_ATTRS_MAX];
    unsigned n;
} ex_attrs_t;

/* An empty value is left out, as the conventions ask. */
static void ex_attr_str(ex_attrs_t *a, ex_str_t key, ex_str_t v)
{
    if (v.n && a->n < EX_ATTRS_MAX)
        a->a[a->n++] = (ex_attr_t){key, v, 0};
}

static void ex_attr_int(ex_attrs_t *a, ex_str_t key, int64_t v)
{
    if (a->n < EX_ATTRS_MAX)
        a->a[a->n++] = (ex_attr_t){key, EX_NONE, v};
}

static uint8_t *ex_put_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    *p++ = (uint8_t)(field << 3 | PB_WT_64BIT);
    v = htole64(v);
    memcpy(p, &v, 8);
    return p + 8;
}

/* The part of each type of record (SS_SPAN_*). */
static const ex_span_enc_t ex_otlp_connect_enc;
static const ex_span_enc_t *const ex_otlp_encs[] = {
    [SS_SPAN_HTTP] = &ex_otlp_http_enc,
    [SS_SPAN_CONNECT] = &ex_otlp_connect_enc,
    [SS_SPAN_DB] = &ex_otlp_db_enc,
    [SS_SPAN_DNS] = &ex_otlp_dns_enc,
    [SS_SPAN_PROC] = &ex_otlp_proc_enc,
};

/* A connect that failed: the peer it was for, and the error. */
static void ex_connect_decide(const ss_span_t *s, ex_facts_t *f)
{
    (void)s;
    f->name = EX_LIT("connect");
}

static uint8_t *ex_connect_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    if (s->is_unix) /* the socket's path names the server */
        return ex_kv_str(p, EX_LIT("server.address"), f->peer);
    return ex_put_server_peer(p, s, f, 0);
}

static const ex_span_enc_t ex_otlp_connect_enc = {2 * 50 + SS_DNS_NAME_MAX, 0, ex_connect_decide,
                                                   ex_connect_attrs};

/* The attributes every span has, after its protocol's. */
static uint8_t *ex_put_common_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    if (f->peer.n && !f->peer_in_part) {
        p = ex_kv_str(p, EX_LIT("network.peer.address"), f->peer);
        if (!s->is_unix)
            p = ex_kv_int(p, EX_LIT("network.peer.port"), s->peer_port);
    }
    if (s->parent_ambiguous) /* see ss_serving.h */
        p = ex_kv_true(p, EX_LIT("spanshim.parent.ambiguous"));
    if (s->in_flight) /* a report of a span still open: its end is when it was seen */
        p = ex_kv_true(p, EX_LIT("spanshim.span.in_flight"));
    if (s->stacktrace) /* at most SS_STACK_TEXT_MAX - 1 bytes (ss_stack.h) */
        p = ex_kv_str(p, EX_LIT("code.stacktrace"), ex_cstr(s->stacktrace));
    return ex_kv_str(p, EX_LIT("error.type"), f->error_type);
}

/* The Span message, fields in number order, defaults left out, into p;
 * the caller checked the room. The layout is fixed, so the bytes are laid
 * out directly: nanopb's descriptor walk (pb_encode) cost more than the
 * request it describes. Field numbers and enum values are nanopb's
 * generated constants. */
static uint8_t *ex_put_span(uint8_t *p, const ss_span_t *s, const ex_span_enc_t *enc,
                            const ex_facts_t *f)
{
    uint32_t flags = htole32((uint32_t)(s->ctx.flags & 0x03) | 0x100u | (s->parent_remote ? 0x200u : 0));

    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_id_tag, s->ctx.trace_id, 16);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_span_id_tag, s->ctx.span_id, 8);
    if (s->ts_len)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_state_tag, s->ts, s->ts_len);
    if (s->has_parent)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_parent_span_id_tag, s->parent_id, 8);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_name_tag, f->name.p, f->name.n);
    *p++ = opentelemetry_proto_trace_v1_Span_kind_tag << 3 | PB_WT_VARINT;
    *p++ = s->kind == SS_KIND_SERVER     ? opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_SERVER
           : s->kind == SS_KIND_INTERNAL ? opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_INTERNAL
                                         : opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_CLIENT;
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_start_time_unix_nano_tag, s->start_ns);
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_end_time_unix_nano_tag, s->end_ns);
    p = enc->attrs(p, s, f);
    p = ex_put_common_attrs(p, s, f);
    if (f->error_type.n) { /* Status { code = 3: STATUS_CODE_ERROR } */
        *p++ = opentelemetry_proto_trace_v1_Span_status_tag << 3 | PB_WT_STRING;
        *p++ = 2;
        *p++ = opentelemetry_proto_trace_v1_Status_code_tag << 3 | PB_WT_VARINT;
        *p++ = opentelemetry_proto_trace_v1_Status_StatusCode_STATUS_CODE_ERROR;
    }
    p += ex_varint(p, opentelemetry_proto_trace_v1_Span_flags_tag << 3 | PB_WT_32BIT);
    memcpy(p, &flags, 4);
    return p + 4;
}

/* The span is written after room for its tag and a two-byte length (128
 * to 16383 bytes: nearly every span), so it is moved only when its length
 * takes one byte. */
#define EX_LEN_ROOM 3

size_t ex_otlp_span(const ss_span_t *s, uint8_t *buf, size_t cap)
{
    const ex_span_enc_t *enc;
    ex_facts_t f;
    size_t body, hn;

    if (s->type >= sizeof(ex_otlp_encs) / sizeof(ex_otlp_encs[0]))
        return 0;
    enc = ex_otlp_encs[s->type];
    if (cap < EX_SPAN_COMMON_WORST + enc->worst)
        return 0;
    f.peer = enc->own_peer ? EX_NONE : ex_cstr(s->peer_addr);
    f.error_type = s->error_type[0] ? ex_cstr(s->error_type) : EX_NONE;
    f.peer_in_part = 0;
    enc->decide(s, &f);

    body = (size_t)(ex_put_span(buf + EX_LEN_ROOM, s, enc, &f) - (buf + EX_LEN_ROOM));
    hn = 1 + ex_varint_len(body);
    if (hn != EX_LEN_ROOM) /* spans stay under EX_SPAN_MAX: hn is 2 or 3 */
        memmove(buf + hn, buf + EX_LEN_ROOM, body);
    buf[0] = (opentelemetry_proto_trace_v1_ScopeSpans_spans_tag << 3) | PB_WT_STRING;
    ex_varint(buf + 1, body);
    return hn + body;
}

int ex_otlp_parse_resource_attrs(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    int want_value = 0;

    out[0] = out[1] = '\0';
    if (in == NULL || cap < 2)
        return 0;
    for (; *in; in++) {
        char c = *in;

        if (c == '%') {
            int hi, lo;

            if (!in[1] || !in[2])
                goto bad;
            hi = in[1] <= '9' ? in[1] - '0' : (in[1] | 32) - 'a' + 10;
            lo = in[2] <= '9' ? in[2] - '0' : (in[2] | 32) - 'a' + 10;
            if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
                goto bad;
            c = (char)(hi << 4 | lo);
            in += 2;
        } else if (c == '=' && !want_value) {
            want_value = 1;
            c = '\0';
        } else if (c == ',') {
            if (!want_value)
                goto bad;
            want_value = 0;
            c = '\0';
        }
        if (o + 2 >= cap)
            goto bad;
        out[o++] = c;
    }
    if (o && !want_value)
        goto bad;
    out[o++] = '\0';
    out[o] = '\0';
    return 1;
bad:
    out[0] = out[1] = '\0';
    return 0;
}

size_t ex_otlp_resource(const ex_process_t *p, uint8_t *buf, size_t cap)
{
    opentelemetry_proto_resource_v1_Resource r = opentelemetry_proto_resource_v1_Resource_init_zero;
    opentelemetry_proto_common_v1_KeyValue kv[EX_ATTRS_MAX + 32];
    opentelemetry_proto_common_v1_AnyValue args[64];
    opentelemetry_proto_common_v1_ArrayValue arr;
    ex_attrs_t a;
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    const char *e;
    pb_size_t n = 0, i;

    a.n = 0;
    ex_attr_str(&a, EX_LIT("service.name"), ex_cstr(p->service_name));
    ex_attr_str(&a, EX_LIT("telemetry.sdk.name"), ex_cstr("spanshim"));
    ex_attr_str(&a, EX_LIT("telemetry.sdk.language"), ex_cstr("c"));
    ex_attr_str(&a, EX_LIT("telemetry.sdk.version"), ex_cstr(EX_VERSION));
    ex_attr_int(&a, EX_LIT("process.pid"), p->pid);
    ex_attr_str(&a, EX_LIT("process.executable.name"), ex_cstr(p->exe_name));
    ex_attr_str(&a, EX_LIT("process.executable.path"), ex_cstr(p->exe_path));
    ex_attr_str(&a, EX_LIT("process.command"), ex_cstr(p->command));
    ex_attr_str(&a, EX_LIT("host.name"), ex_cstr(p->host_name));
    for (i = 0; i < a.n; i++, n++) { /* the resource is encoded once: nanopb's way */
        memset(&kv[n], 0, sizeof(kv[n]));
        kv[n].key = (char *)a.a[i].key.p;
        kv[n].has_value = true;
        kv[n].value.which_value = a.a[i].str.p ? opentelemetry_proto_common_v1_AnyValue_string_value_tag
                                             : opentelemetry_proto_common_v1_AnyValue_int_value_tag;
        if (a.a[i].str.p) /* NUL-terminated: they came from ex_cstr */
            kv[n].value.value.string_value = (char *)a.a[i].str.p;
        else
            kv[n].value.value.int_value = a.a[i].num;
    }
    /* OTEL_RESOURCE_ATTRIBUTES: the detected values above win. */
    for (e = p->extra; e && *e && n < EX_ATTRS_MAX + 31; e += strlen(e) + 1, e += strlen(e) + 1) {
        const char *v = e + strlen(e) + 1;
        int dup = 0;

        for (i = 0; i < a.n; i++)
            dup |= strcmp(a.a[i].key.p, e) == 0;
        if (dup)
            continue;
        memset(&kv[n], 0, sizeof(kv[n]));
        kv[n].key = (char *)e;
        kv[n].has_value = true;
        kv[n].value.which_value = opentelemetry_proto_common_v1_AnyValue_string_value_tag;
        kv[n].value.value.string_value = (char *)v;
        n++;
    }
    if (p->argv && p->argc > 0) {
        int k, m = p->argc < 64 ? p->argc : 64;

        for (k = 0; k < m; k++) {
            memset(&args[k], 0, sizeof(args[k]));
            args[k].which_value = opentelemetry_proto_common_v1_AnyValue_string_value_tag;
            args[k].value.string_value = p->argv[k];
        }
        arr.values = args;
        arr.values_count = (pb_size_t)m;
        memset(&kv[n], 0, sizeof(kv[n]));
        kv[n].key = (char *)"process.command_args";
        kv[n].has_value = true;
        kv[n].value.which_value = opentelemetry_proto_common_v1_AnyValue_array_value_tag;
        kv[n].value.value.array_value = &arr;
        n++;
    }
    r.attributes = kv;
    r.attributes_count = n;
    if (!pb_encode(&os, opentelemetry_proto_resource_v1_Resource_fields, &r))
        return 0;
    return os.bytes_written;
}

size_t ex_otlp_resource_kv(uint8_t *buf, const char *key, const char *str, int64_t num)
{
    size_t kn = strlen(key), vn = str ? strlen(str) : 0, any, kv, n = 0;

    /* AnyValue { string_value = 1 | int_value = 3 } */
    any = str ? 1 + ex_varint_len(vn) + vn : 1 + ex_varint_len((uint64_t)num);
    kv = 1 + ex_varint_len(kn) + kn + 1 + ex_varint_len(any) + any;
    buf[n++] = opentelemetry_proto_resource_v1_Resource_attributes_tag << 3 | PB_WT_STRING;
    n += ex_varint(buf + n, kv);
    buf[n++] = 1 << 3 | PB_WT_STRING; /* KeyValue.key */
    n += ex_varint(buf + n, kn);
    memcpy(buf + n, key, kn);
    n += kn;
    buf[n++] = 2 << 3 | PB_WT_STRING; /* KeyValue.value */
    n += ex_varint(buf + n, any);
    if (str) {
        buf[n++] = 1 << 3 | PB_WT_STRING;
        n += ex_varint(buf + n, vn);
        memcpy(buf + n, str, vn);
        return n + vn;
    }
    buf[n++] = 3 << 3 | PB_WT_VARINT;
    return n + ex_varint(buf + n, (uint64_t)num);
}

size_t ex_otlp_envelope(const uint8_t *res, size_t res_len, size_t spans_len, uint8_t *buf,
                        size_t cap)
{
    return ex_otlp_envelope_more(res, res_len, NULL, 0, spans_len, buf, cap);
}

size_t ex_otlp_envelope_more(const uint8_t *res, size_t res_len, const uint8_t *more,
                             size_t more_len, size_t spans_len, uint8_t *buf, size_t cap)
{
    static const char scope_name[] = "spanshim", scope_version[] = EX_VERSION;
    uint8_t scope[64];
    size_t scope_len = 0, ss_len, rs_len, n = 0;

    /* InstrumentationScope { name = 1; version = 2; } */
    scope[scope_len++] = 0x0a;
    scope[scope_len++] = sizeof(scope_name) - 1;
    memcpy(scope + scope_len, scope_name, sizeof(scope_name) - 1);
    scope_len += sizeof(scope_name) - 1;
    scope[scope_len++] = 0x12;
    scope[scope_len++] = sizeof(scope_version) - 1;
    memcpy(scope + scope_len, scope_version, sizeof(scope_version) - 1);
    scope_len += sizeof(scope_version) - 1;

    ss_len = 1 + ex_varint_len(scope_len) + scope_len + spans_len;
    rs_len = 1 + ex_varint_len(res_len + more_len) + res_len + more_len + 1 +
             ex_varint_len(ss_len) + ss_len;
    if (cap < 32 + res_len + more_len + scope_len)
        return 0;
    buf[n++] = 0x0a; /* ExportTraceServiceRequest.resource_spans */
    n += ex_varint(buf + n, rs_len);
    buf[n++] = 0x0a; /* ResourceSpans.resource */
    n += ex_varint(buf + n, res_len + more_len);
    memcpy(buf + n, res, res_len);
    n += res_len;
    if (more_len) /* more Resource fields: a message's fields may come in any order */
        memcpy(buf + n, more, more_len);
    n += more_len;
    buf[n++] = 0x12; /* ResourceSpans.scope_spans */
    n += ex_varint(buf + n, ss_len);
    buf[n++] = 0x0a; /* ScopeSpans.scope */
    n += ex_varint(buf + n, scope_len);
    memcpy(buf + n, scope, scope_len);
    n += scope_len;
    return n; /* the spans (ScopeSpans.spans fields) follow */
}
