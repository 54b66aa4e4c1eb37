/*
 * otlp_build.h - requests for the unit tests of the collector's sinks,
 * made as they arrive: a list of spans becomes an
 * ExportTraceServiceRequest (one resource per service, in the order first
 * named, one scope each), packed by protobuf-c and decoded into an arena
 * by the collector's own decoder. Ids are numbers written big-endian, so
 * a test says "trace 7, span 2 under span 1" and sets the bits tail
 * sampling decides by.
 */
#ifndef TEST_OTLP_BUILD_H
#define TEST_OTLP_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/collector/col_otlp.h"

typedef struct tspan {
    const char *service; /* its resource's service.name; NULL: a resource without one */
    uint64_t trace;      /* the trace id's bytes 0..7 (byte 8 is 0xff) */
    uint64_t random;     /* its bytes 9..15: the 56 random bits */
    uint64_t id, parent; /* span ids; 0 is none */
    int kind;            /* the enum's number: 2 SERVER, 3 CLIENT */
    int error;           /* status ERROR */
    uint64_t start, end; /* ns */
    const char *name;
    const char *method;  /* http.request.method, if not NULL */
    int64_t http_status; /* http.response.status_code, if not 0 */
    /* A database or DNS client span's attributes, each if not NULL / 0. */
    const char *db_system, *db_operation, *db_namespace, *db_query, *db_status;
    const char *server_address, *peer_address, *error_type, *dns_name;
    int64_t server_port, peer_port;
    int in_flight;       /* spanshim.span.in_flight = true */
} tspan_t;

#define TB_MS 1000000ull /* ns in a millisecond, for start and end */
#define TB_ATTRS 14      /* the attributes a tspan_t can have */

typedef struct tb_span {
    col_span_t s;
    Opentelemetry__Proto__Trace__V1__Status st;
    uint8_t trace[16], id[8], parent[8];
    col_kv_t kv[TB_ATTRS], *kvp[TB_ATTRS];
    col_value_t v[TB_ATTRS];
} tb_span_t;

typedef struct tb_res {
    const char *service;
    col_resource_spans_t rs;
    col_resource_t res;
    col_kv_t kv, *kvp;
    col_value_t v;
    col_scope_spans_t ss, *ssp;
    col_scope_t scope;
    col_span_t **spans;
} tb_res_t;

static inline void tb_be(uint8_t *out, uint64_t v, size_t n)
{
    while (n--) {
        out[n] = (uint8_t)v;
        v >>= 8;
    }
}

static inline void tb_kv(col_kv_t *kv, col_value_t *v, const char *key)
{
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)key;
    kv->value = v;
}

/* The next attribute of b's span: key, a value of type vc. */
static inline col_value_t *tb_attr(tb_span_t *b, const char *key,
                                   Opentelemetry__Proto__Common__V1__AnyValue__ValueCase vc)
{
    size_t i = b->s.n_attributes++;

    tb_kv(&b->kv[i], &b->v[i], key);
    b->v[i].value_case = vc;
    b->kvp[i] = &b->kv[i];
    return &b->v[i];
}

#define TB_VC(type) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##type##_VALUE

static inline void tb_str(tb_span_t *b, const char *key, const char *v)
{
    if (v)
        tb_attr(b, key, TB_VC(STRING))->string_value = (char *)v;
}

static inline void tb_int(tb_span_t *b, const char *key, int64_t v)
{
    if (v)
        tb_attr(b, key, TB_VC(INT))->int_value = v;
}

static inline void tb_span(tb_span_t *b, const tspan_t *t)
{
    col_span_t *s = &b->s;

    opentelemetry__proto__trace__v1__span__init(s);
    tb_be(b->trace, t->trace, 8);
    b->trace[8] = 0xff; /* not one of the random bits */
    tb_be(b->trace + 9, t->random, 7);
    tb_be(b->id, t->id, 8);
    tb_be(b->parent, t->parent, 8);
    s->trace_id = (ProtobufCBinaryData){16, b->trace};
    if (t->id)
        s->span_id = (ProtobufCBinaryData){8, b->id};
    if (t->parent)
        s->parent_span_id = (ProtobufCBinaryData){8, b->parent};
    s->name = (char *)(t->name ? t->name : "op");
    s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)t->kind;
    s->start_time_unix_nano = t->start;
    s->end_time_unix_nano = t->end;
    if (t->error) {
        opentelemetry__proto__trace__v1__status__init(&b->st);
        b->st.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        s->status = &b->st;
    }
    s->attributes = b->kvp;
    tb_str(b, "http.request.method", t->method);
    tb_int(b, "http.response.status_code", t->http_status);
    tb_str(b, "db.system.name", t->db_system);
    tb_str(b, "db.operation.name", t->db_operation);
    tb_str(b, "db.namespace", t->db_namespace);
    tb_str(b, "db.query.text", t->db_query);
    tb_str(b, "db.response.status_code", t->db_status);
    tb_str(b, "server.address", t->server_address);
    tb_int(b, "server.port", t->server_port);
    tb_str(b, "network.peer.address", t->peer_address);
    tb_int(b, "network.peer.port", t->peer_port);
    tb_str(b, "error.type", t->error_type);
    tb_str(b, "dns.question.name", t->dns_name);
    if (t->in_flight)
        tb_attr(b, "spanshim.span.in_flight", TB_VC(BOOL))->bool_value = 1;
}

/* The resource of service svc among r[0..*nr), made if new. */
static inline tb_res_t *tb_res(tb_res_t *r, size_t *nr, const char *svc, size_t max_spans)
{
    size_t i;
    tb_res_t *x;

    for (i = 0; i < *nr; i++)
        if (r[i].service == svc || (r[i].service && svc && strcmp(r[i].service, svc) == 0))
            return &r[i];
    x = &r[(*nr)++];
    x->service = svc;
    opentelemetry__proto__trace__v1__resource_spans__init(&x->rs);
    opentelemetry__proto__resource__v1__resource__init(&x->res);
    opentelemetry__proto__trace__v1__scope_spans__init(&x->ss);
    opentelemetry__proto__common__v1__instrumentation_scope__init(&x->scope);
    if (svc) {
        tb_kv(&x->kv, &x->v, "service.name");
        x->v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        x->v.string_value = (char *)svc;
        x->kvp = &x->kv;
        x->res.attributes = &x->kvp;
        x->res.n_attributes = 1;
    }
    x->scope.name = (char *)"test";
    x->spans = calloc(max_spans, sizeof(*x->spans));
    x->ss.scope = &x->scope;
    x->ss.spans = x->spans;
    x->ssp = &x->ss;
    x->rs.resource = &x->res;
    x->rs.scope_spans = &x->ssp;
    x->rs.n_scope_spans = 1;
    return x;
}

/* The request of spans t[0..n), decoded into a new arena (*arena: the
 * caller's to free, or to hand to col_tail_add). */
static inline col_request_t *tb_request(const tspan_t *t, size_t n, col_arena_t **arena)
{
    tb_span_t *sp = calloc(n, sizeof(*sp));
    tb_res_t *rs = calloc(n, sizeof(*rs));
    col_resource_spans_t **rsp = calloc(n, sizeof(*rsp));
    col_request_t req, *out;
    col_decode_err_t why;
    size_t i, nr = 0, len;
    uint8_t *bytes;

    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    for (i = 0; i < n; i++) {
        tb_res_t *x = tb_res(rs, &nr, t[i].service, n);

        tb_span(&sp[i], &t[i]);
        x->spans[x->ss.n_spans++] = &sp[i].s;
    }
    for (i = 0; i < nr; i++)
        rsp[i] = &rs[i].rs;
    req.resource_spans = rsp;
    req.n_resource_spans = nr;
#define TB_REQ(f) opentelemetry__proto__collector__trace__v1__export_trace_service_request__##f
    len = TB_REQ(get_packed_size)(&req);
    bytes = malloc(len + 1);
    TB_REQ(pack)(&req, bytes);
#undef TB_REQ
    *arena = col_arena_new();
    out = col_request_decode(*arena, bytes, len, &why);
    for (i = 0; i < nr; i++)
        free(rs[i].spans);
    free(bytes), free(rsp), free(rs), free(sp);
    return out;
}

#endif
