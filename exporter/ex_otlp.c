/*
 * ex_otlp.c - span and resource encoding (see ex_otlp.h).
 *
 * Attribute names and the rules for each value follow the stable HTTP
 * semantic conventions; the span record holds raw request bytes, and this
 * file is where they become url.full, server.address and the like.
 */
#define _GNU_SOURCE
#include "ex_otlp.h"

#include <pb_encode.h>
#include <stdio.h>
#include <string.h>

#include "trace.pb.h"

#define EX_VERSION "0.1.0"
#define EX_ATTRS_MAX 20

typedef opentelemetry_proto_common_v1_KeyValue ex_kv_t;

/* A span attribute: a string or an integer value, lengths measured once. */
typedef struct ex_attr {
    const char *key;
    const char *str; /* NULL: the value is num */
    int64_t num;
    uint16_t klen;
    uint32_t vlen;
} ex_attr_t;

typedef struct ex_attrs {
    ex_attr_t a[EX_ATTRS_MAX];
    unsigned n;
} ex_attrs_t;

static void ex_attr_str(ex_attrs_t *a, const char *key, const char *v)
{
    if (v && *v && a->n < EX_ATTRS_MAX)
        a->a[a->n++] = (ex_attr_t){key, v, 0, (uint16_t)strlen(key), (uint32_t)strlen(v)};
}

static void ex_attr_int(ex_attrs_t *a, const char *key, int64_t v)
{
    if (a->n < EX_ATTRS_MAX)
        a->a[a->n++] = (ex_attr_t){key, NULL, v, (uint16_t)strlen(key), 0};
}

static size_t ex_varint_len(uint64_t v);
static size_t ex_varint(uint8_t *b, uint64_t v);

/* Bytes of a length-delimited field: key (field < 16), length, data. */
static uint8_t *ex_put_bytes(uint8_t *p, unsigned field, const void *data, size_t n)
{
    *p++ = (uint8_t)(field << 3 | PB_WT_STRING);
    p += ex_varint(p, n);
    memcpy(p, data, n);
    return p + n;
}

/* The most bytes the attributes can take once encoded. */
static size_t ex_attrs_max(const ex_attrs_t *a)
{
    size_t need = 0;
    unsigned i;

    for (i = 0; i < a->n; i++) /* 3 keys, 3 lengths of at most 5 bytes, a 10-byte varint */
        need += 28 + a->a[i].klen + a->a[i].vlen;
    return need;
}

/* Span.attributes: each a KeyValue {key = 1; value = 2} holding an
 * AnyValue {string_value = 1 | int_value = 3}, laid out with their lengths
 * known up front. The caller checked the room (ex_attrs_max). */
static uint8_t *ex_put_attrs(uint8_t *p, uint32_t tag, const ex_attrs_t *a)
{
    unsigned i;

    for (i = 0; i < a->n; i++) {
        const ex_attr_t *t = &a->a[i];
        size_t klen = t->klen, vlen = t->vlen;
        size_t any = t->str ? 1 + ex_varint_len(vlen) + vlen : 1 + ex_varint_len((uint64_t)t->num);

        *p++ = (uint8_t)(tag << 3 | PB_WT_STRING);
        p += ex_varint(p, 1 + ex_varint_len(klen) + klen + 1 + ex_varint_len(any) + any);
        p = ex_put_bytes(p, 1, t->key, klen);
        *p++ = 2 << 3 | PB_WT_STRING;
        p += ex_varint(p, any);
        if (t->str) {
            p = ex_put_bytes(p, 1, t->str, vlen);
        } else {
            *p++ = 3 << 3 | PB_WT_VARINT;
            p += ex_varint(p, (uint64_t)t->num);
        }
    }
    return p;
}

/* Copy a length-counted field into a NUL-terminated buffer. */
static char *ex_cstr(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst;
}

static int ex_known_method(const char *m)
{
    static const char *known[] = {"CONNECT", "DELETE", "GET",  "HEAD", "OPTIONS",
                                  "PATCH",   "POST",   "PUT",  "TRACE"};
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(m, known[i]) == 0)
            return 1;
    return 0;
}

/* Split "host", "host:port", "[v6]:port" into address and port (0 if none). */
static void ex_split_host(const char *host, char *addr, size_t cap, int *port)
{
    const char *colon = NULL, *end;

    *port = 0;
    if (host[0] == '[') {
        end = strchr(host, ']');
        if (end == NULL) {
            ex_cstr(addr, cap, host, strlen(host));
            return;
        }
        ex_cstr(addr, cap, host + 1, (size_t)(end - host - 1));
        if (end[1] == ':')
            colon = end + 1;
    } else {
        colon = strrchr(host, ':');
        ex_cstr(addr, cap, host, colon ? (size_t)(colon - host) : strlen(host));
    }
    if (colon && colon[1]) {
        int p = 0;
        const char *c;

        for (c = colon + 1; *c >= '0' && *c <= '9' && p < 65536; c++)
            p = p * 10 + (*c - '0');
        if (*c == '\0' && p > 0 && p < 65536)
            *port = p;
    }
}

/* url.full: absolute-form targets as sent (credentials redacted), others
 * put together from the scheme, the Host header and the target. */
/* Append s to out (length *n, capacity cap), cutting at the capacity. */
static void ex_append(char *out, size_t cap, size_t *n, const char *s)
{
    size_t k = strlen(s);

    if (k > cap - 1 - *n)
        k = cap - 1 - *n;
    memcpy(out + *n, s, k);
    *n += k;
    out[*n] = '\0';
}

static void ex_url_full(const ss_span_t *s, const char *target, const char *host, char *out,
                        size_t cap)
{
    size_t n = 0;

    const char *scheme_end = strstr(target, "://");
    const char *scheme = s->is_tls ? "https" : "http";

    if (scheme_end && target[0] != '/') {
        const char *auth = scheme_end + 3;
        const char *slash = strpbrk(auth, "/?#");
        const char *at = memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth));

        if (at)
            snprintf(out, cap, "%.*sREDACTED:REDACTED%s", (int)(auth - target), target, at);
        else
            snprintf(out, cap, "%s", target);
        return;
    }
    if (host[0]) { /* the usual case: no printf on the hot path */
        out[0] = '\0';
        ex_append(out, cap, &n, scheme);
        ex_append(out, cap, &n, "://");
        ex_append(out, cap, &n, host);
        ex_append(out, cap, &n, target);
    } else if (s->is_unix || s->peer_addr[0] == '\0')
        snprintf(out, cap, "%s://localhost%s", scheme, target);
    else if (strchr(s->peer_addr, ':'))
        snprintf(out, cap, "%s://[%s]:%u%s", scheme, s->peer_addr, s->peer_port, target);
    else
        snprintf(out, cap, "%s://%s:%u%s", scheme, s->peer_addr, s->peer_port, target);
}

static uint8_t *ex_put_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    int i;

    *p++ = (uint8_t)(field << 3 | PB_WT_64BIT);
    for (i = 0; i < 8; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* The Span message, fields in number order, defaults left out, into p;
 * the caller checked the room. The layout is fixed, so the bytes are laid
 * out directly: nanopb's descriptor walk (pb_encode) cost more than the
 * request it describes. Field numbers and enum values are nanopb's
 * generated constants. */
static uint8_t *ex_put_span(uint8_t *p, const ss_span_t *s, const char *name,
                            const ex_attrs_t *a, int error)
{
    uint32_t flags = (uint32_t)(s->ctx.flags & 0x03) | 0x100u | (s->parent_remote ? 0x200u : 0);
    int i;

    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_id_tag, s->ctx.trace_id, 16);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_span_id_tag, s->ctx.span_id, 8);
    if (s->ts_len)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_state_tag, s->ts, s->ts_len);
    if (s->has_parent)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_parent_span_id_tag, s->parent_id, 8);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_name_tag, name, strlen(name));
    *p++ = opentelemetry_proto_trace_v1_Span_kind_tag << 3 | PB_WT_VARINT;
    *p++ = s->kind == SS_KIND_SERVER ? opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_SERVER
                                     : opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_CLIENT;
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_start_time_unix_nano_tag, s->start_ns);
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_end_time_unix_nano_tag, s->end_ns);
    p = ex_put_attrs(p, opentelemetry_proto_trace_v1_Span_attributes_tag, a);
    if (error) { /* Status { code = 3: STATUS_CODE_ERROR } */
        *p++ = opentelemetry_proto_trace_v1_Span_status_tag << 3 | PB_WT_STRING;
        *p++ = 2;
        *p++ = opentelemetry_proto_trace_v1_Status_code_tag << 3 | PB_WT_VARINT;
        *p++ = opentelemetry_proto_trace_v1_Status_StatusCode_STATUS_CODE_ERROR;
    }
    p += ex_varint(p, opentelemetry_proto_trace_v1_Span_flags_tag << 3 | PB_WT_32BIT);
    for (i = 0; i < 4; i++)
        *p++ = (uint8_t)(flags >> (8 * i));
    return p;
}

size_t ex_otlp_span(const ss_span_t *s, uint8_t *buf, size_t cap)
{
    ex_attrs_t a;
    char method[SS_HTTP_METHOD_MAX + 1], target[SS_HTTP_TARGET_MAX + 1];
    char host[SS_HTTP_HOST_MAX + 1], ua[SS_HTTP_UA_MAX + 1];
    char addr[SS_HTTP_HOST_MAX + 1], url[SS_HTTP_HOST_MAX + SS_HTTP_TARGET_MAX + 64];
    char status[8];
    const char *name, *error_type = NULL;
    int port = 0, known, error = 0, default_port = s->is_tls ? 443 : 80;
    uint8_t head[1 + 5];
    size_t hn, max, body;

    a.n = 0;
    ex_cstr(method, sizeof(method), s->head.method, s->head.method_len);
    ex_cstr(target, sizeof(target), s->head.target, s->head.target_len);
    ex_cstr(host, sizeof(host), s->head.host, s->head.host_len);
    ex_cstr(ua, sizeof(ua), s->head.ua, s->head.ua_len);
    known = ex_known_method(method);

    if (!s->head_done) {
        name = "connect"; /* the connection failed before any request */
    } else {
        name = known ? method : "HTTP";
        ex_attr_str(&a, "http.request.method", known ? method : "_OTHER");
        if (!known)
            ex_attr_str(&a, "http.request.method_original", method);
    }
    if (s->status_code >= 100 && s->status_code <= 999) /* always, from HTTP */
        ex_cstr(status, sizeof(status), (char[]){(char)('0' + s->status_code / 100),
                                                 (char)('0' + s->status_code / 10 % 10),
                                                 (char)('0' + s->status_code % 10)}, 3);
    else if (s->status_code)
        snprintf(status, sizeof(status), "%u", s->status_code);
    if (s->error_type[0]) {
        error_type = s->error_type;
        error = 1;
    } else if (s->status_code >= (s->kind == SS_KIND_CLIENT ? 400 : 500)) {
        error_type = status;
        error = 1;
    }
    if (host[0])
        ex_split_host(host, addr, sizeof(addr), &port);
    else
        addr[0] = '\0';

    if (s->kind == SS_KIND_CLIENT) {
        if (addr[0]) {
            ex_attr_str(&a, "server.address", addr);
            ex_attr_int(&a, "server.port", port ? port : default_port);
        } else if (s->peer_addr[0] && !s->is_unix) {
            ex_attr_str(&a, "server.address", s->peer_addr);
            ex_attr_int(&a, "server.port", s->peer_port);
        }
        if (s->head_done) {
            ex_url_full(s, target, host, url, sizeof(url));
            ex_attr_str(&a, "url.full", url);
        }
    } else {
        char *q = strchr(target, '?');
        char *path = target;

        if (target[0] != '/' && strstr(target, "://")) {
            path = strchr(strstr(target, "://") + 3, '/');
            if (path == NULL || (q && path > q))
                path = (char *)"/";
        }
        if (q)
            *q++ = '\0';
        ex_attr_str(&a, "url.path", path);
        if (q && *q)
            ex_attr_str(&a, "url.query", q);
        ex_attr_str(&a, "url.scheme", s->is_tls ? "https" : "http");
        if (addr[0]) {
            ex_attr_str(&a, "server.address", addr);
            ex_attr_int(&a, "server.port", port ? port : default_port);
        } else if (s->local_port) {
            ex_attr_int(&a, "server.port", s->local_port);
        }
        if (!s->is_unix)
            ex_attr_str(&a, "client.address", s->peer_addr);
        ex_attr_str(&a, "user_agent.original", ua);
    }
    if (s->status_code)
        ex_attr_int(&a, "http.response.status_code", s->status_code);
    if (s->peer_addr[0]) {
        ex_attr_str(&a, "network.peer.address", s->peer_addr);
        if (!s->is_unix)
            ex_attr_int(&a, "network.peer.port", s->peer_port);
    }
    if (s->head_done)
        ex_attr_str(&a, "network.protocol.version",
                    s->http_version == 20 ? "2" : s->http_version == 30 ? "3"
                    : s->head_minor ? "1.1" : "1.0");
    if (s->resend_count)
        ex_attr_int(&a, "http.request.resend_count", s->resend_count);
    ex_attr_str(&a, "error.type", error_type);

    /* The span as ScopeSpans.spans: laid out after room for its tag and
     * length, which go in front once its length is known. */
    max = sizeof(head) + 18 + 10 + 4 + s->ts_len + 10 + 6 + strlen(name) + 2 + 9 + 9 +
          ex_attrs_max(&a) + 4 + 6;
    if (max > cap)
        return 0;
    body = (size_t)(ex_put_span(buf + sizeof(head), s, name, &a, error) - (buf + sizeof(head)));
    head[0] = (opentelemetry_proto_trace_v1_ScopeSpans_spans_tag << 3) | PB_WT_STRING;
    hn = 1 + ex_varint(head + 1, body);
    memmove(buf + hn, buf + sizeof(head), body);
    memcpy(buf, head, hn);
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
    ex_attr_str(&a, "service.name", p->service_name);
    ex_attr_str(&a, "telemetry.sdk.name", "spanshim");
    ex_attr_str(&a, "telemetry.sdk.language", "c");
    ex_attr_str(&a, "telemetry.sdk.version", EX_VERSION);
    ex_attr_int(&a, "process.pid", p->pid);
    ex_attr_str(&a, "process.executable.name", p->exe_name);
    ex_attr_str(&a, "process.executable.path", p->exe_path);
    ex_attr_str(&a, "process.command", p->command);
    ex_attr_str(&a, "host.name", p->host_name);
    for (i = 0; i < a.n; i++, n++) { /* the resource is encoded once: nanopb's way */
        memset(&kv[n], 0, sizeof(kv[n]));
        kv[n].key = (char *)a.a[i].key;
        kv[n].has_value = true;
        kv[n].value.which_value = a.a[i].str ? opentelemetry_proto_common_v1_AnyValue_string_value_tag
                                             : opentelemetry_proto_common_v1_AnyValue_int_value_tag;
        if (a.a[i].str)
            kv[n].value.value.string_value = (char *)a.a[i].str;
        else
            kv[n].value.value.int_value = a.a[i].num;
    }
    /* OTEL_RESOURCE_ATTRIBUTES: the detected values above win. */
    for (e = p->extra; e && *e && n < EX_ATTRS_MAX + 31; e += strlen(e) + 1, e += strlen(e) + 1) {
        const char *v = e + strlen(e) + 1;
        int dup = 0;

        for (i = 0; i < a.n; i++)
            dup |= strcmp(a.a[i].key, e) == 0;
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

static size_t ex_varint(uint8_t *b, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

static size_t ex_varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t ex_otlp_envelope(const uint8_t *res, size_t res_len, size_t spans_len, uint8_t *buf,
                        size_t cap)
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
    rs_len = 1 + ex_varint_len(res_len) + res_len + 1 + ex_varint_len(ss_len) + ss_len;
    if (cap < 32 + res_len + scope_len)
        return 0;
    buf[n++] = 0x0a; /* ExportTraceServiceRequest.resource_spans */
    n += ex_varint(buf + n, rs_len);
    buf[n++] = 0x0a; /* ResourceSpans.resource */
    n += ex_varint(buf + n, res_len);
    memcpy(buf + n, res, res_len);
    n += res_len;
    buf[n++] = 0x12; /* ResourceSpans.scope_spans */
    n += ex_varint(buf + n, ss_len);
    buf[n++] = 0x0a; /* ScopeSpans.scope */
    n += ex_varint(buf + n, scope_len);
    memcpy(buf + n, scope, scope_len);
    n += scope_len;
    return n; /* the spans (ScopeSpans.spans fields) follow */
}
