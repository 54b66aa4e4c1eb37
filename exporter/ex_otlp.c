/*
 * ex_otlp.c - span and resource encoding (see ex_otlp.h).
 *
 * Attribute names and the rules for each value follow the stable HTTP
 * semantic conventions; the span record holds raw request bytes, and this
 * file is where they become url.full, server.address and the like, with
 * secrets redacted (userinfo here, query values in ex_redact.c).
 */
#define _GNU_SOURCE
#include "ex_otlp.h"
#include "ex_redact.h"

#include <endian.h>
#include <pb_encode.h>
#include <stdio.h>
#include <string.h>

#include "trace.pb.h"

#define EX_VERSION "0.1.0"
#define EX_ATTRS_MAX 20

/* A string and its length: the span record's fields are length-counted,
 * so nothing on this path copies them into C strings or measures them. */
typedef struct ex_str {
    const char *p;
    size_t n;
} ex_str_t;

#define EX_LIT(s) ((ex_str_t){(s), sizeof(s) - 1})
#define EX_NONE ((ex_str_t){NULL, 0})

static ex_str_t ex_cstr(const char *s)
{
    return (ex_str_t){s, s ? strlen(s) : 0};
}

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

static size_t ex_varint_len(uint64_t v);
static size_t ex_varint(uint8_t *b, uint64_t v);

/* n bytes from src to p: short runs (most keys and values) inline as
 * overlapping words, longer ones by memcpy. Returns p + n. */
static inline uint8_t *ex_copy(uint8_t *p, const void *src, size_t n)
{
    const uint8_t *s = src;
    uint64_t x, y;
    uint32_t u, v;

    if (n >= 8 && n <= 16) {
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(p, &x, 8);
        memcpy(p + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&u, s, 4);
        memcpy(&v, s + n - 4, 4);
        memcpy(p, &u, 4);
        memcpy(p + n - 4, &v, 4);
    } else if (n < 4) {
        size_t i;

        for (i = 0; i < n; i++)
            p[i] = s[i];
    } else {
        memcpy(p, s, n);
    }
    return p + n;
}

/* A length inside a span: every one is below 16384 (EX_SPAN_WORST), so
 * its varint takes one byte or two. */
static inline size_t ex_len_size(size_t n)
{
    return n < 0x80 ? 1 : 2;
}

static inline uint8_t *ex_put_len(uint8_t *p, size_t n)
{
    if (n < 0x80) {
        *p++ = (uint8_t)n;
    } else {
        *p++ = (uint8_t)(n | 0x80);
        *p++ = (uint8_t)(n >> 7);
    }
    return p;
}

/* Bytes of a length-delimited field: key (field < 16), length, data. */
static inline uint8_t *ex_put_bytes(uint8_t *p, unsigned field, const void *data, size_t n)
{
    *p++ = (uint8_t)(field << 3 | PB_WT_STRING);
    p = ex_put_len(p, n);
    return ex_copy(p, data, n);
}

/* One Span.attributes field: a KeyValue {key = 1; value = 2} holding an
 * AnyValue {string_value = 1 | int_value = 3}, written where it is decided
 * (the caller made room for the worst case: EX_SPAN_WORST). Keys are short
 * literals: their length takes one byte. An empty string is left out, as
 * the conventions ask. */
#define EX_KV_TAG (opentelemetry_proto_trace_v1_Span_attributes_tag << 3 | PB_WT_STRING)

#define EX_INLINE static inline __attribute__((always_inline))

EX_INLINE uint8_t *ex_kv_str(uint8_t *p, ex_str_t key, ex_str_t v)
{
    size_t any = 1 + ex_len_size(v.n) + v.n;

    if (v.n == 0)
        return p;
    *p++ = EX_KV_TAG;
    p = ex_put_len(p, 2 + key.n + 1 + ex_len_size(any) + any);
    *p++ = 1 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)key.n;
    p = ex_copy(p, key.p, key.n);
    *p++ = 2 << 3 | PB_WT_STRING;
    p = ex_put_len(p, any);
    return ex_put_bytes(p, 1, v.p, v.n);
}

EX_INLINE uint8_t *ex_kv_int(uint8_t *p, ex_str_t key, int64_t v)
{
    size_t any = 1 + ex_varint_len((uint64_t)v);

    *p++ = EX_KV_TAG;
    *p++ = (uint8_t)(2 + key.n + 2 + any);
    *p++ = 1 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)key.n;
    p = ex_copy(p, key.p, key.n);
    *p++ = 2 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)any;
    *p++ = 3 << 3 | PB_WT_VARINT;
    return p + ex_varint(p, (uint64_t)v);
}

EX_INLINE uint8_t *ex_kv_true(uint8_t *p, ex_str_t key)
{
    *p++ = EX_KV_TAG;
    *p++ = (uint8_t)(2 + key.n + 4);
    *p++ = 1 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)key.n;
    p = ex_copy(p, key.p, key.n);
    *p++ = 2 << 3 | PB_WT_STRING;
    *p++ = 2;
    *p++ = 2 << 3 | PB_WT_VARINT; /* AnyValue.bool_value */
    *p++ = 1;
    return p;
}

/* The method as http.request.method wants it: known ones as they are. */
static int ex_known_method(ex_str_t m)
{
    static const ex_str_t known[] = {EX_LIT("GET"),     EX_LIT("POST"),  EX_LIT("PUT"),
                                     EX_LIT("DELETE"),  EX_LIT("HEAD"),  EX_LIT("PATCH"),
                                     EX_LIT("OPTIONS"), EX_LIT("TRACE"), EX_LIT("CONNECT")};
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].n == m.n && memcmp(known[i].p, m.p, m.n) == 0)
            return 1;
    return 0;
}

/* Split "host", "host:port", "[v6]:port" into address and port (0 if none). */
static ex_str_t ex_split_host(ex_str_t host, int *port)
{
    const char *colon = NULL, *end = host.p + host.n;
    ex_str_t addr = host;

    *port = 0;
    if (host.p[0] == '[') {
        const char *close = memchr(host.p, ']', host.n);

        if (close == NULL)
            return host;
        addr = (ex_str_t){host.p + 1, (size_t)(close - host.p - 1)};
        if (close + 1 < end && close[1] == ':')
            colon = close + 1;
    } else {
        colon = memrchr(host.p, ':', host.n);
        if (colon)
            addr.n = (size_t)(colon - host.p);
    }
    if (colon && colon + 1 < end) {
        int p = 0;
        const char *c;

        for (c = colon + 1; c < end && *c >= '0' && *c <= '9' && p < 65536; c++)
            p = p * 10 + (*c - '0');
        if (c == end && p > 0 && p < 65536)
            *port = p;
    }
    return addr;
}

/* Append s to out (length *n, capacity cap), cutting at the capacity. */
static void ex_append(char *out, size_t cap, size_t *n, ex_str_t s)
{
    size_t k = s.n < cap - *n ? s.n : cap - *n;

    memcpy(out + *n, s.p, k);
    *n += k;
}

static int ex_is_connect(ex_str_t method)
{
    return method.n == 7 && memcmp(method.p, "CONNECT", 7) == 0;
}

/* Append s, the end of a target, and redact the secrets of its query (its
 * '?' on, inside s; EX_NONE if none) where they were copied. Cut by the
 * capacity, s loses its whole query rather than show part of one. */
static void ex_append_target(char *out, size_t cap, size_t *n, ex_str_t s, ex_str_t query)
{
    size_t at = *n + s.n - query.n + 1, m; /* where the query's first byte goes */

    ex_append(out, cap, n, s);
    if (query.n < 2)
        return;
    if (*n != at + query.n - 1)
        *n = at - 1 < *n ? at - 1 : *n;
    else if (ex_redact_query(ex_redact_keys, query.p + 1, query.n - 1, out + at, cap - at, &m))
        *n = at + m;
}

/* An absolute-form target: as sent, credentials and query secrets
 * redacted (the target itself when there are none). The userinfo ends at
 * the authority's last '@', as URL parsers read it: a password with a raw
 * '@' is hidden whole. */
static ex_str_t ex_url_absolute(ex_str_t target, const char *auth, ex_str_t query, char *out,
                                size_t cap)
{
    const char *q = query.n ? query.p : target.p + target.n, *at = NULL, *c;
    size_t n = 0, m, head = (size_t)(q - target.p) + 1;

    for (c = auth; c < q && *c != '/' && *c != '#'; c++)
        if (*c == '@')
            at = c;
    if (at) {
        ex_append(out, cap, &n, (ex_str_t){target.p, (size_t)(auth - target.p)});
        ex_append(out, cap, &n, EX_LIT("REDACTED:REDACTED"));
        ex_append_target(out, cap, &n, (ex_str_t){at, (size_t)(target.p + target.n - at)}, query);
        return (ex_str_t){out, n};
    }
    if (query.n == 0 || head > cap ||
        !ex_redact_query(ex_redact_keys, q + 1, query.n - 1, out + head, cap - head, &m))
        return target;
    memcpy(out, target.p, head);
    return (ex_str_t){out, head + m};
}

/* url.full: absolute-form targets as sent (secrets redacted), others put
 * together from the scheme, the Host header and the target. For `OPTIONS
 * *` and CONNECT's authority-form the URL has an empty path (RFC 9112,
 * 3.3): `http://host:port`. */
static ex_str_t ex_url_full(const ss_span_t *s, ex_str_t target, ex_str_t host, ex_str_t peer,
                            char *out, size_t cap)
{
    ex_str_t scheme = s->is_tls ? EX_LIT("https") : EX_LIT("http");
    const char *q = memchr(target.p, '?', target.n);
    ex_str_t query = q ? (ex_str_t){q, (size_t)(target.p + target.n - q)} : EX_NONE;
    const char *scheme_end = target.n && target.p[0] != '/' ? memmem(target.p, target.n, "://", 3)
                                                             : NULL;
    char port[16];
    size_t n = 0;

    if (scheme_end)
        return ex_url_absolute(target, scheme_end + 3, query, out, cap);
    ex_append(out, cap, &n, scheme);
    ex_append(out, cap, &n, EX_LIT("://"));
    if (ex_is_connect((ex_str_t){s->head.method, s->head.method_len}) && target.n &&
        target.p[0] != '/') {
        ex_append(out, cap, &n, target);
        return (ex_str_t){out, n};
    }
    if (host.n) { /* the usual case */
        ex_append(out, cap, &n, host);
    } else if (s->is_unix || peer.n == 0) {
        ex_append(out, cap, &n, EX_LIT("localhost"));
    } else {
        int v6 = memchr(peer.p, ':', peer.n) != NULL;

        if (v6)
            ex_append(out, cap, &n, EX_LIT("["));
        ex_append(out, cap, &n, peer);
        ex_append(out, cap, &n, v6 ? EX_LIT("]:") : EX_LIT(":"));
        ex_append(out, cap, &n, (ex_str_t){port, (size_t)snprintf(port, sizeof(port), "%u", s->peer_port)});
    }
    if (target.n == 1 && target.p[0] == '*')
        return (ex_str_t){out, n};
    ex_append_target(out, cap, &n, target, query);
    return (ex_str_t){out, n};
}

/* url.path and url.query of a server span: the target split at '?', an
 * absolute-form target's path taken after its authority, the query's
 * secrets redacted into out. CONNECT's authority-form has no path; `*`
 * (OPTIONS) is kept as the path, as HTTP servers give it. */
static void ex_url_parts(ex_str_t target, int connect, ex_str_t *path, ex_str_t *query, char *out,
                         size_t cap)
{
    const char *q = memchr(target.p, '?', target.n), *end = target.p + target.n;
    size_t m;

    *path = (ex_str_t){target.p, q ? (size_t)(q - target.p) : target.n};
    *query = q ? (ex_str_t){q + 1, (size_t)(end - q - 1)} : EX_NONE;
    if (query->n && ex_redact_query(ex_redact_keys, query->p, query->n, out, cap, &m))
        *query = (ex_str_t){out, m};
    if (target.n && target.p[0] != '/') {
        const char *sep = memmem(target.p, target.n, "://", 3);
        const char *slash = sep ? memchr(sep + 3, '/', (size_t)(end - sep - 3)) : NULL;

        if (sep && (slash == NULL || (q && slash > q)))
            *path = EX_LIT("/");
        else if (sep)
            *path = (ex_str_t){slash, (size_t)((q ? q : end) - slash)};
        else if (connect)
            *path = EX_NONE;
    }
}

static uint8_t *ex_put_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    *p++ = (uint8_t)(field << 3 | PB_WT_64BIT);
    v = htole64(v);
    memcpy(p, &v, 8);
    return p + 8;
}

/* What a span's attributes are made from: the request head's fields and
 * the values derived from them once. */
typedef struct ex_facts {
    ex_str_t method, host, addr, peer, error_type;
    ex_str_t url;                 /* client spans */
    ex_str_t path, query;         /* server spans */
    int known, port;
} ex_facts_t;

/* The attributes of a client span that are not common to both kinds. */
static uint8_t *ex_client_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    if (f->addr.n) {
        p = ex_kv_str(p, EX_LIT("server.address"), f->addr);
        p = ex_kv_int(p, EX_LIT("server.port"), f->port ? f->port : s->is_tls ? 443 : 80);
    } else if (f->peer.n && !s->is_unix) {
        p = ex_kv_str(p, EX_LIT("server.address"), f->peer);
        p = ex_kv_int(p, EX_LIT("server.port"), s->peer_port);
    }
    return ex_kv_str(p, EX_LIT("url.full"), f->url);
}

/* ... and of a server span. */
static uint8_t *ex_server_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    p = ex_kv_str(p, EX_LIT("url.path"), f->path);
    p = ex_kv_str(p, EX_LIT("url.query"), f->query);
    p = ex_kv_str(p, EX_LIT("url.scheme"), s->is_tls ? EX_LIT("https") : EX_LIT("http"));
    if (f->addr.n) {
        p = ex_kv_str(p, EX_LIT("server.address"), f->addr);
        p = ex_kv_int(p, EX_LIT("server.port"), f->port ? f->port : s->is_tls ? 443 : 80);
    } else if (s->local_port) {
        p = ex_kv_int(p, EX_LIT("server.port"), s->local_port);
    }
    if (!s->is_unix)
        p = ex_kv_str(p, EX_LIT("client.address"), f->peer);
    return ex_kv_str(p, EX_LIT("user_agent.original"), (ex_str_t){s->head.ua, s->head.ua_len});
}

/* Span.attributes, in the order the conventions list them. */
static uint8_t *ex_put_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    if (s->head_done) {
        p = ex_kv_str(p, EX_LIT("http.request.method"), f->known ? f->method : EX_LIT("_OTHER"));
        if (!f->known)
            p = ex_kv_str(p, EX_LIT("http.request.method_original"), f->method);
    }
    p = s->kind == SS_KIND_CLIENT ? ex_client_attrs(p, s, f) : ex_server_attrs(p, s, f);
    if (s->status_code)
        p = ex_kv_int(p, EX_LIT("http.response.status_code"), s->status_code);
    if (f->peer.n) {
        p = ex_kv_str(p, EX_LIT("network.peer.address"), f->peer);
        if (!s->is_unix)
            p = ex_kv_int(p, EX_LIT("network.peer.port"), s->peer_port);
    }
    if (s->head_done)
        p = ex_kv_str(p, EX_LIT("network.protocol.version"),
                      s->http_version == 20 ? EX_LIT("2") : s->http_version == 30 ? EX_LIT("3")
                      : s->head_minor ? EX_LIT("1.1") : EX_LIT("1.0"));
    if (s->resend_count)
        p = ex_kv_int(p, EX_LIT("http.request.resend_count"), s->resend_count);
    if (s->parent_ambiguous) /* see ss_serving.h */
        p = ex_kv_true(p, EX_LIT("spanshim.parent.ambiguous"));
    return ex_kv_str(p, EX_LIT("error.type"), f->error_type);
}

/* The Span message, fields in number order, defaults left out, into p;
 * the caller checked the room. The layout is fixed, so the bytes are laid
 * out directly: nanopb's descriptor walk (pb_encode) cost more than the
 * request it describes. Field numbers and enum values are nanopb's
 * generated constants. */
static uint8_t *ex_put_span(uint8_t *p, const ss_span_t *s, ex_str_t name, const ex_facts_t *f)
{
    uint32_t flags = htole32((uint32_t)(s->ctx.flags & 0x03) | 0x100u | (s->parent_remote ? 0x200u : 0));

    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_id_tag, s->ctx.trace_id, 16);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_span_id_tag, s->ctx.span_id, 8);
    if (s->ts_len)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_trace_state_tag, s->ts, s->ts_len);
    if (s->has_parent)
        p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_parent_span_id_tag, s->parent_id, 8);
    p = ex_put_bytes(p, opentelemetry_proto_trace_v1_Span_name_tag, name.p, name.n);
    *p++ = opentelemetry_proto_trace_v1_Span_kind_tag << 3 | PB_WT_VARINT;
    *p++ = s->kind == SS_KIND_SERVER ? opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_SERVER
                                     : opentelemetry_proto_trace_v1_Span_SpanKind_SPAN_KIND_CLIENT;
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_start_time_unix_nano_tag, s->start_ns);
    p = ex_put_fixed64(p, opentelemetry_proto_trace_v1_Span_end_time_unix_nano_tag, s->end_ns);
    p = ex_put_attrs(p, s, f);
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

/* A status code as error.type: three digits, without printf. */
static ex_str_t ex_status(unsigned code, char out[8])
{
    if (code > 999)
        return (ex_str_t){out, (size_t)snprintf(out, 8, "%u", code)};
    out[0] = (char)('0' + code / 100);
    out[1] = (char)('0' + code / 10 % 10);
    out[2] = (char)('0' + code % 10);
    return (ex_str_t){out, 3};
}

/* The most bytes a span can take: at most 17 attributes of at most 50
 * bytes of framing and key, their values (the method twice, the URL, the
 * target's parts, the address, the peer three times, the user agent, an
 * error), the trace state, and under 200 bytes of fixed fields. A query
 * grows when its values are redacted (EX_REDACT_ROOM). */
#define EX_URL_MAX (SS_HTTP_HOST_MAX + EX_REDACT_ROOM(SS_HTTP_TARGET_MAX) + 64)
#define EX_SPAN_WORST                                                                    \
    (17 * 50 + 2 * SS_HTTP_METHOD_MAX + EX_URL_MAX + EX_REDACT_ROOM(SS_HTTP_TARGET_MAX) +   \
     SS_HTTP_HOST_MAX +                                                                    \
     3 * sizeof(((ss_span_t *)0)->peer_addr) + SS_HTTP_UA_MAX + sizeof(((ss_span_t *)0)->error_type) + \
     SS_TS_FORWARD_MAX + 200)
_Static_assert(EX_SPAN_WORST <= EX_SPAN_MAX, "a span always fits EX_SPAN_MAX");

/* The span is written after room for its tag and a two-byte length (128
 * to 16383 bytes: nearly every span), so it is moved only when its length
 * takes one byte. */
#define EX_LEN_ROOM 3

size_t ex_otlp_span(const ss_span_t *s, uint8_t *buf, size_t cap)
{
    ex_facts_t f;
    ex_str_t name;
    char url_buf[EX_URL_MAX], status[8];
    size_t body, hn;

    if (cap < EX_SPAN_WORST)
        return 0;
    f.method = (ex_str_t){s->head.method, s->head.method_len};
    f.host = (ex_str_t){s->head.host, s->head.host_len};
    f.peer = ex_cstr(s->peer_addr);
    f.known = ex_known_method(f.method);
    f.port = 0;
    f.addr = f.host.n ? ex_split_host(f.host, &f.port) : EX_NONE;
    f.url = f.path = f.query = EX_NONE;
    if (s->kind == SS_KIND_CLIENT && s->head_done)
        f.url = ex_url_full(s, (ex_str_t){s->head.target, s->head.target_len}, f.host, f.peer,
                            url_buf, sizeof(url_buf));
    else if (s->kind == SS_KIND_SERVER) /* url_buf: one kind or the other */
        ex_url_parts((ex_str_t){s->head.target, s->head.target_len}, ex_is_connect(f.method),
                     &f.path, &f.query, url_buf, sizeof(url_buf));
    f.error_type = EX_NONE;
    if (s->error_type[0])
        f.error_type = ex_cstr(s->error_type);
    else if (s->status_code >= (s->kind == SS_KIND_CLIENT ? 400 : 500))
        f.error_type = ex_status(s->status_code, status);
    if (!s->head_done)
        name = EX_LIT("connect"); /* the connection failed before any request */
    else
        name = f.known ? f.method : EX_LIT("HTTP");

    body = (size_t)(ex_put_span(buf + EX_LEN_ROOM, s, name, &f) - (buf + EX_LEN_ROOM));
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
