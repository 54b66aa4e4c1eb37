/*
 * test_json.c - the OTLP/JSON line of a request holding every field and
 * every attribute type, compared whole: ids as lowercase hex, other bytes
 * as base64, enums as numbers, 64-bit integers as decimal strings, default
 * values left out, strings escaped (quotes, backslashes, controls, invalid
 * UTF-8 as U+FFFD, valid UTF-8 as it is), doubles that JSON has no number
 * for as the strings OTLP/JSON names; and col_utf8_len at each bound.
 * The same requests packed and written straight from the wire
 * (col_json_wire) give the same bytes; what the walk does not take (a
 * field twice, a repeated field's run broken, a wire type the .proto does
 * not give, two members of a oneof, values nested deeper than the writer
 * goes) it leaves to decoding, writing nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_json.h"

#define VALUE_CASE(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x##_VALUE

/* Storage for one attribute: its KeyValue and AnyValue. */
typedef struct attr {
    col_kv_t kv;
    col_value_t v;
} attr_t;

/* a as key with a value of case vc, whose field the caller sets. */
static col_value_t *attr(attr_t *a, const char *key, int vc)
{
    opentelemetry__proto__common__v1__key_value__init(&a->kv);
    opentelemetry__proto__common__v1__any_value__init(&a->v);
    a->kv.key = (char *)key;
    a->kv.value = &a->v;
    a->v.value_case = (Opentelemetry__Proto__Common__V1__AnyValue__ValueCase)vc;
    return &a->v;
}

static const uint8_t trace_id[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t span_id[8] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
static const uint8_t parent_id[8] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88};

#define ID(a) ((ProtobufCBinaryData){sizeof(a), (uint8_t *)(a)})

static const char want_attrs[] =
    "[{\"key\":\"s\",\"value\":{\"stringValue\":\"x \\\"q\\\" \\\\ \\u0009\\u001f\x7f"
    "\xf0\x9f\x98\x80 \\ufffd\\ufffd\\ufffd \\ufffd\"}},"
    "{\"key\":\"t\",\"value\":{\"boolValue\":true}},"
    "{\"key\":\"f\",\"value\":{\"boolValue\":false}},"
    "{\"key\":\"min\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
    "{\"key\":\"big\",\"value\":{\"intValue\":\"9007199254740993\"}},"
    "{\"key\":\"zero\",\"value\":{\"intValue\":\"0\"}},"
    "{\"key\":\"d\",\"value\":{\"doubleValue\":2.5}},"
    "{\"key\":\"tenth\",\"value\":{\"doubleValue\":0.10000000000000001}},"
    "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
    "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"Infinity\"}},"
    "{\"key\":\"-inf\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
    "{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"y\"},"
    "{\"intValue\":\"7\"},{\"arrayValue\":{}}]}}},"
    "{\"key\":\"kv\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
    "{\"boolValue\":true}}]}}},"
    "{\"key\":\"b3\",\"value\":{\"bytesValue\":\"AP8Q\"}},"
    "{\"key\":\"b1\",\"value\":{\"bytesValue\":\"YQ==\"}},"
    "{\"key\":\"b2\",\"value\":{\"bytesValue\":\"YWI=\"}},"
    "{\"key\":\"unset\",\"value\":{}},"
    "{\"key\":\"k\\\"ey\",\"value\":{\"stringValue\":\"\"}}]";

/* req packed, then written from the wire: the same line. */
static void assert_wire_same(const col_request_t *req, const char *want)
{
    size_t n =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
    uint8_t *pb = malloc(n + 1);
    col_buf_t b = {0};
    size_t spans = 99;
    int res = 99;

    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, pb);
    assert_int_equal(col_json_wire(&b, pb, n, &spans, &res, NULL), 1);
    assert_string_equal(b.p, want);
    assert_int_equal(res, 0);
    free(pb);
    col_buf_free(&b);
}

static void test_every_field_and_type(void **state)
{
    attr_t a[18], inner[4], ev_attr, svc;
    col_kv_t *attrs[18], *kv_inner[1], *ev_attrs[1], *res_attrs[1];
    col_value_t *arr_values[3];
    Opentelemetry__Proto__Common__V1__ArrayValue arr, empty;
    Opentelemetry__Proto__Common__V1__KeyValueList kvl;
    col_event_t ev[2], *evp[2] = {&ev[0], &ev[1]};
    col_link_t link, *linkp[1] = {&link};
    Opentelemetry__Proto__Trace__V1__Status st, st_default;
    col_span_t span, bare, *spans[2] = {&span, &bare};
    col_scope_t scope;
    col_scope_spans_t ss, *ssp[1] = {&ss};
    col_resource_t res;
    col_resource_spans_t rs, empty_rs, *rsp[2] = {&rs, &empty_rs};
    col_request_t req;
    col_buf_t b = {0};
    char want[8192];
    size_t i = 0;

    (void)state;
    /* The next of the span's attributes. */
#define NEXT(key, vc) (attrs[i] = &a[i].kv, attr(&a[i++], key, VALUE_CASE(vc)))
    NEXT("s", STRING)->string_value =
        (char *)"x \"q\" \\ \t\x1f\x7f" "\xf0\x9f\x98\x80 \xed\xa0\x80 \xff";
    NEXT("t", BOOL)->bool_value = 1;
    NEXT("f", BOOL)->bool_value = 0;
    NEXT("min", INT)->int_value = INT64_MIN;
    NEXT("big", INT)->int_value = 9007199254740993; /* 2^53 + 1: no double holds it */
    NEXT("zero", INT)->int_value = 0;
    NEXT("d", DOUBLE)->double_value = 2.5;
    NEXT("tenth", DOUBLE)->double_value = 0.1;
    NEXT("nan", DOUBLE)->double_value = NAN;
    NEXT("inf", DOUBLE)->double_value = INFINITY;
    NEXT("-inf", DOUBLE)->double_value = -INFINITY;
    opentelemetry__proto__common__v1__array_value__init(&arr);
    opentelemetry__proto__common__v1__array_value__init(&empty);
    (arr_values[0] = attr(&inner[0], "", VALUE_CASE(STRING)))->string_value = (char *)"y";
    (arr_values[1] = attr(&inner[1], "", VALUE_CASE(INT)))->int_value = 7;
    (arr_values[2] = attr(&inner[2], "", VALUE_CASE(ARRAY)))->array_value = &empty;
    arr.values = arr_values;
    arr.n_values = 3;
    NEXT("arr", ARRAY)->array_value = &arr;
    opentelemetry__proto__common__v1__key_value_list__init(&kvl);
    attr(&inner[3], "k", VALUE_CASE(BOOL))->bool_value = 1;
    kv_inner[0] = &inner[3].kv;
    kvl.values = kv_inner;
    kvl.n_values = 1;
    NEXT("kv", KVLIST)->kvlist_value = &kvl;
    NEXT("b3", BYTES)->bytes_value = (ProtobufCBinaryData){3, (uint8_t *)"\x00\xff\x10"};
    NEXT("b1", BYTES)->bytes_value = (ProtobufCBinaryData){1, (uint8_t *)"a"};
    NEXT("b2", BYTES)->bytes_value = (ProtobufCBinaryData){2, (uint8_t *)"ab"};
    attrs[i] = &a[i].kv, attr(&a[i++], "unset", 0); /* no value at all */
    NEXT("k\"ey", STRING)->string_value = (char *)"";
#undef NEXT
    assert_int_equal(i, 18);

    opentelemetry__proto__trace__v1__span__event__init(&ev[0]);
    opentelemetry__proto__trace__v1__span__event__init(&ev[1]); /* all defaults: {} */
    ev[0].time_unix_nano = 5;
    ev[0].name = (char *)"ev";
    attr(&ev_attr, "e", VALUE_CASE(STRING))->string_value = (char *)"1";
    ev_attrs[0] = &ev_attr.kv;
    ev[0].attributes = ev_attrs;
    ev[0].n_attributes = 1;
    ev[0].dropped_attributes_count = 6;
    opentelemetry__proto__trace__v1__span__link__init(&link);
    link.trace_id = ID(trace_id);
    link.span_id = ID(parent_id);
    link.trace_state = (char *)"t";
    link.flags = 1;
    opentelemetry__proto__trace__v1__status__init(&st);
    st.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    st.message = (char *)"boom\"";
    opentelemetry__proto__trace__v1__status__init(&st_default);

    opentelemetry__proto__trace__v1__span__init(&span);
    span.trace_id = ID(trace_id);
    span.span_id = ID(span_id);
    span.trace_state = (char *)"k=v";
    span.parent_span_id = ID(parent_id);
    span.flags = 257;
    span.name = (char *)"GET \"/a\\b\"\n\x01 caf\xc3\xa9";
    span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
    span.start_time_unix_nano = 1700000000000000000ull;
    span.end_time_unix_nano = UINT64_MAX;
    span.attributes = attrs;
    span.n_attributes = 18;
    span.dropped_attributes_count = 3;
    span.events = evp;
    span.n_events = 2;
    span.dropped_events_count = 1;
    span.links = linkp;
    span.n_links = 1;
    span.dropped_links_count = 4;
    span.status = &st;
    opentelemetry__proto__trace__v1__span__init(&bare); /* defaults, but a status */
    bare.status = &st_default;

    opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
    scope.name = (char *)"lib";
    scope.version = (char *)"1.0";
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.scope = &scope;
    ss.spans = spans;
    ss.n_spans = 2;
    opentelemetry__proto__resource__v1__resource__init(&res);
    attr(&svc, "service.name", VALUE_CASE(STRING))->string_value = (char *)"shop";
    res_attrs[0] = &svc.kv;
    res.attributes = res_attrs;
    res.n_attributes = 1;
    res.dropped_attributes_count = 2;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.resource = &res;
    rs.scope_spans = ssp;
    rs.n_scope_spans = 1;
    rs.schema_url = (char *)"https://example.com/s";
    opentelemetry__proto__trace__v1__resource_spans__init(&empty_rs);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.resource_spans = rsp;
    req.n_resource_spans = 2;

    col_json_request(&b, &req);
    snprintf(want, sizeof(want),
             "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
             "\"value\":{\"stringValue\":\"shop\"}}],\"droppedAttributesCount\":2},"
             "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\"},\"spans\":["
             "{\"traceId\":\"000102030405060708090a0b0c0d0e0f\",\"spanId\":\"a0a1a2a3a4a5a6a7\","
             "\"traceState\":\"k=v\",\"parentSpanId\":\"ffeeddccbbaa9988\",\"flags\":257,"
             "\"name\":\"GET \\\"/a\\\\b\\\"\\u000a\\u0001 caf\xc3\xa9\",\"kind\":2,"
             "\"startTimeUnixNano\":\"1700000000000000000\","
             "\"endTimeUnixNano\":\"18446744073709551615\","
             "\"attributes\":%s,\"droppedAttributesCount\":3,"
             "\"events\":[{\"timeUnixNano\":\"5\",\"name\":\"ev\",\"attributes\":[{\"key\":\"e\","
             "\"value\":{\"stringValue\":\"1\"}}],\"droppedAttributesCount\":6},{}],"
             "\"droppedEventsCount\":1,"
             "\"links\":[{\"traceId\":\"000102030405060708090a0b0c0d0e0f\","
             "\"spanId\":\"ffeeddccbbaa9988\",\"traceState\":\"t\",\"flags\":1}],"
             "\"droppedLinksCount\":4,\"status\":{\"message\":\"boom\\\"\",\"code\":2}},"
             "{\"status\":{}}]}],\"schemaUrl\":\"https://example.com/s\"},{}]}",
             want_attrs);
    assert_false(b.oom);
    assert_string_equal(b.p, want);
    assert_wire_same(&req, want);
    col_buf_free(&b);
}

/* Ids of other lengths are written as sent: hex up to 64 bytes, base64 past. */
static void test_odd_ids(void **state)
{
    static uint8_t long_id[65];
    col_span_t span, *spans[1] = {&span};
    col_scope_spans_t ss, *ssp[1] = {&ss};
    col_resource_spans_t rs, *rsp[1] = {&rs};
    col_request_t req;
    col_buf_t b = {0};

    (void)state;
    opentelemetry__proto__trace__v1__span__init(&span);
    span.trace_id = (ProtobufCBinaryData){3, (uint8_t *)"\x01\x02\xab"};
    span.span_id = (ProtobufCBinaryData){sizeof(long_id), long_id};
    span.kind = -1;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.spans = spans;
    ss.n_spans = 1;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.scope_spans = ssp;
    rs.n_scope_spans = 1;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.resource_spans = rsp;
    req.n_resource_spans = 1;
    col_json_request(&b, &req);
    assert_string_equal(b.p, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
                             "{\"traceId\":\"0102ab\","
                             "\"spanId\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"kind\":-1}]}]}]}");
    assert_wire_same(&req, b.p);
    col_buf_free(&b);
}

/* bytes (as a C literal) walked: 0 and nothing written, or 1. */
static int walk(const char *bytes, size_t n, col_buf_t *b)
{
    size_t spans;
    int res;

    col_buf_reset(b);
    col_buf_puts(b, "x");
    if (col_json_wire(b, (const uint8_t *)bytes, n, &spans, &res, NULL))
        return 1;
    assert_string_equal(b->p, "x");
    return 0;
}

#define WALK(lit, b) walk(lit, sizeof(lit) - 1, b)

/* Request > ResourceSpans > ScopeSpans > Span (its bytes s). */
#define IN_SPAN(s) "\x0a" s

static void test_wire_left_to_decoding(void **state)
{
    col_buf_t b = {0};
    char deep[200];
    size_t i, n;
    int depth;

    (void)state;
    /* rs { ss { span { name "a" } } }: taken; with the name twice, not
     * (protobuf-c keeps the last). */
    assert_int_equal(WALK("\x0a\x07\x12\x05\x12\x03\x2a\x01" "a", &b), 1);
    assert_string_equal(b.p,
                        "x{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\"}]}]}]}");
    assert_int_equal(WALK("\x0a\x0a\x12\x08\x12\x06\x2a\x01" "a\x2a\x01" "b", &b), 0);
    /* a resource twice (merged by protobuf-c) */
    assert_int_equal(WALK("\x0a\x04\x0a\x00\x0a\x00", &b), 0);
    /* scope_spans, schema_url, scope_spans: the run broken */
    assert_int_equal(WALK("\x0a\x07\x12\x00\x1a\x01u\x12\x00", &b), 0);
    /* kind as a length-delimited field */
    assert_int_equal(WALK("\x0a\x07\x12\x05\x12\x03\x32\x01\x02", &b), 0);
    /* an attribute's AnyValue with a string and an int */
    assert_int_equal(
        WALK("\x0a\x0f\x12\x0d\x12\x0b\x4a\x09\x0a\x01k\x12\x04\x0a\x00\x18\x01", &b), 0);
    /* an unknown field is skipped, as decoding skips it */
    assert_int_equal(WALK("\x0a\x0a\x12\x08\x12\x06\xf8\x07\x05\x2a\x01" "a", &b), 1);
    /* cut short, and a group: refused by decoding too */
    assert_int_equal(WALK("\x0a\x07\x12\x05\x12\x03\x2a\x02" "a", &b), 0);
    assert_int_equal(WALK("\x0b\x0c", &b), 0);
    /* arrays in arrays, each holding the next: an innermost (empty) value as
     * deep as the writer goes (16) is written; one level more is left to
     * decoding, which writes it as {} */
    for (depth = 16; depth <= 17; depth++) {
        n = 0;
        for (i = 0; i < (size_t)depth; i++) { /* AnyValue{array_value{values: ...}} */
            deep[n++] = 0x2a;
            deep[n++] = 0;
            deep[n++] = 0x0a;
            deep[n++] = 0;
        }
        for (i = (size_t)depth; i-- > 0;) { /* lengths from the inside out */
            size_t inner = n - 4 * (i + 1);

            deep[4 * i + 3] = (char)inner;
            deep[4 * i + 1] = (char)(inner + 2);
        }
        {
            char req[300];
            size_t m = 0, kv = 2 + 1 + 2 + n, attr = 2 + kv, span = attr;

            req[m++] = 0x0a, req[m++] = (char)(span + 4);   /* ResourceSpans */
            req[m++] = 0x12, req[m++] = (char)(span + 2);   /* ScopeSpans */
            req[m++] = 0x12, req[m++] = (char)span;         /* Span */
            req[m++] = 0x4a, req[m++] = (char)kv;           /* attribute */
            req[m++] = 0x0a, req[m++] = 1, req[m++] = 'k';  /* key */
            req[m++] = 0x12, req[m++] = (char)n;            /* value */
            memcpy(req + m, deep, n);
            m += n;
            {
                col_arena_t *a = col_arena_new();
                col_decode_err_t why;

                assert_non_null(col_request_decode(a, (const uint8_t *)req, m, &why));
                col_arena_free(a);
            }
            assert_int_equal(walk(req, m, &b), depth == 16);
        }
    }
    col_buf_free(&b);
}

/* Prepend tag and the varint length of buf[start..cap) to it: the new start. */
static size_t wrap(uint8_t *buf, size_t cap, size_t start, uint8_t tag)
{
    uint8_t v[10];
    size_t n = 0, len = cap - start;

    do {
        v[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
        len >>= 7;
    } while (len);
    start -= n;
    memcpy(buf + start, v, n);
    buf[--start] = tag;
    return start;
}

/* Runs of attributes as the scan reads them: one-byte tags and lengths
 * taken in a loop of their own, a two-byte length amid them, the run
 * broken by another field, a length past the end. Each is written from
 * the wire as decoding writes it, or left to decoding as decoding refuses. */
static size_t put_varint(uint8_t *o, size_t v)
{
    size_t n = 0;

    for (; v > 0x7f; v >>= 7)
        o[n++] = (uint8_t)(v | 0x80);
    o[n++] = (uint8_t)v;
    return n;
}

static size_t varint_len(size_t v)
{
    uint8_t t[10];

    return put_varint(t, v);
}

/* Span.attributes: key, and a string of vlen bytes. */
static size_t put_kv(uint8_t *o, const char *key, size_t vlen)
{
    size_t klen = strlen(key), any = 1 + varint_len(vlen) + vlen;
    size_t kv = 2 + klen + 1 + varint_len(any) + any, n = 0;

    o[n++] = 0x4a;
    n += put_varint(o + n, kv);
    o[n++] = 0x0a, o[n++] = (uint8_t)klen; /* key */
    memcpy(o + n, key, klen);
    n += klen;
    o[n++] = 0x12; /* value */
    n += put_varint(o + n, any);
    o[n++] = 0x0a; /* string_value */
    n += put_varint(o + n, vlen);
    memset(o + n, 'v', vlen);
    return n + vlen;
}

/* The span's bytes in a request, written from the wire and by decoding:
 * whether the walk took it (then both wrote the same line). */
static int wire_as_decoded(const uint8_t *span, size_t n)
{
    uint8_t buf[4096];
    size_t start = sizeof(buf) - n;
    col_buf_t b = {0}, d = {0};
    col_arena_t *a = col_arena_new();
    col_decode_err_t why;
    const col_request_t *r;
    int took;

    memcpy(buf + start, span, n);
    start = wrap(buf, sizeof(buf), start, 0x12); /* ScopeSpans.spans */
    start = wrap(buf, sizeof(buf), start, 0x12); /* ResourceSpans.scope_spans */
    start = wrap(buf, sizeof(buf), start, 0x0a); /* resource_spans */
    took = walk((const char *)buf + start, sizeof(buf) - start, &b);
    r = col_request_decode(a, buf + start, sizeof(buf) - start, &why);
    if (took) {
        assert_non_null(r);
        col_buf_puts(&d, "x");
        col_json_request(&d, r);
        assert_string_equal(b.p, d.p);
    }
    col_arena_free(a);
    col_buf_free(&b);
    col_buf_free(&d);
    return took;
}

static void test_wire_attribute_runs(void **state)
{
    uint8_t span[2048];
    size_t n = 0;

    (void)state;
    n += put_kv(span + n, "a", 1);
    n += put_kv(span + n, "bb", 20);
    n += put_kv(span + n, "long", 300); /* a two-byte length amid the run */
    n += put_kv(span + n, "c", 0);
    n += put_kv(span + n, "d", 100);   /* its KeyValue 106 bytes: one byte still */
    assert_int_equal(wire_as_decoded(span, n), 1);
    n += put_kv(span + n, "e", 2);     /* the last ends where the span does */
    assert_int_equal(wire_as_decoded(span, n), 1);
    /* the run broken by the name, then an attribute again: left to decoding */
    span[n++] = 0x2a, span[n++] = 1, span[n++] = 'x';
    n += put_kv(span + n, "f", 3);
    assert_int_equal(wire_as_decoded(span, n), 0);
    /* an attribute whose length runs past the span's end: refused by both */
    n = put_kv(span, "a", 1);
    n += put_kv(span + n, "g", 5);
    assert_int_equal(wire_as_decoded(span, n - 1), 0);
}

/* Key-value lists in key-value lists, a plain attribute ("k": "v") in the
 * innermost: one level past what the writer descends, decoding writes {}
 * for it; the walk, if it takes the request, writes the same. */
static void test_wire_deep_key_value_lists(void **state)
{
    uint8_t buf[1024];
    size_t cap = sizeof(buf), at = cap, n, spans;
    col_arena_t *a = col_arena_new();
    col_decode_err_t why;
    col_request_t *r;
    col_buf_t walked = {0}, decoded = {0};
    int res, level;

    (void)state;
    at -= 8;
    memcpy(buf + at, "\x0a\x01k\x12\x03\x0a\x01v", 8); /* KeyValue k: "v" */
    for (level = 0; level < 17; level++) {
        at = wrap(buf, cap, at, 0x0a); /* KeyValueList.values */
        at = wrap(buf, cap, at, 0x32); /* AnyValue.kvlist_value */
        at = wrap(buf, cap, at, 0x12); /* KeyValue.value */
        at -= 3;
        memcpy(buf + at, "\x0a\x01k", 3); /* KeyValue.key */
    }
    at = wrap(buf, cap, at, 0x4a); /* Span.attributes */
    at = wrap(buf, cap, at, 0x12); /* ScopeSpans.spans */
    at = wrap(buf, cap, at, 0x12); /* ResourceSpans.scope_spans */
    at = wrap(buf, cap, at, 0x0a); /* ExportTraceServiceRequest.resource_spans */
    n = cap - at;
    r = col_request_decode(a, buf + at, n, &why);
    assert_non_null(r);
    col_json_request(&decoded, r);
    assert_non_null(strstr(decoded.p, "\"key\":\"k\",\"value\":{}"));
    if (col_json_wire(&walked, buf + at, n, &spans, &res, NULL))
        assert_string_equal(walked.p, decoded.p);
    col_buf_free(&walked);
    col_buf_free(&decoded);
    col_arena_free(a);
}

/* Valid UTF-8 passes whole; each boundary of what is not, refused. */
static void test_utf8_boundaries(void **state)
{
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"a", 1},         {"\x7f", 1},         {"\x80", 0},         {"\xbf", 0},
        {"\xc1\xbf", 0},  {"\xc2\x80", 2},      {"\xc2\x7f", 0},     {"\xc2", 0},
        {"\xe0\x9f\xbf", 0}, {"\xe0\xa0\x80", 3}, {"\xed\x9f\xbf", 3}, {"\xed\xa0\x80", 0},
        {"\xed\xbf\xbf", 0}, {"\xee\x80\x80", 3}, {"\xe2\x82", 0},
        {"\xf0\x8f\xbf\xbf", 0}, {"\xf0\x90\x80\x80", 4}, {"\xf4\x8f\xbf\xbf", 4},
        {"\xf4\x90\x80\x80", 0}, {"\xf8\x88\x80\x80\x80", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = col_utf8_len((const unsigned char *)cases[i].s);

        if (got != cases[i].len)
            print_error("case %zu: %zu, not %zu\n", i, got, cases[i].len);
        assert_int_equal(got, cases[i].len);
    }
}

/* Numbers at every count of digits: 10^k - 1, 10^k, 10^k + 1, and the
 * largest; written as printf writes them (the writer counts the digits
 * first and goes in groups of 8). */
static void test_numbers_at_each_length(void **state)
{
    uint64_t p = 1;
    char want[32];
    int k;

    (void)state;
    for (k = 0; k < 20; k++, p *= 10) {
        const uint64_t vs[] = {p - 1, p, p + 1, p * 5 - 1};
        size_t i;

        for (i = 0; i < 4; i++) {
            col_buf_t b = {0};

            if (k == 19 && i == 3)
                continue; /* past 2^64 */
            col_buf_u64(&b, vs[i]);
            snprintf(want, sizeof(want), "%" PRIu64, vs[i]);
            assert_string_equal(b.p, want);
            col_buf_free(&b);
        }
    }
    {
        col_buf_t b = {0};

        col_buf_u64(&b, UINT64_MAX);
        assert_string_equal(b.p, "18446744073709551615");
        col_buf_free(&b);
    }
}

/* What the string writer gives, one byte at a time as col_json.h says. */
static void ref_strn(char *out, const unsigned char *s, size_t n)
{
    size_t i, l;

    *out++ = '"';
    for (i = 0; i < n && s[i]; i += l) {
        unsigned char t[4] = {0, 0, 0, 0};

        l = 1;
        if (s[i] == '"' || s[i] == '\\') {
            out += sprintf(out, "\\%c", s[i]);
        } else if (s[i] < 0x20) {
            out += sprintf(out, "\\u%04x", s[i]);
        } else if (s[i] < 0x80) {
            *out++ = (char)s[i];
        } else {
            memcpy(t, s + i, n - i < 4 ? n - i : 4);
            if ((l = col_utf8_len(t)) == 0) {
                out += sprintf(out, "\\ufffd");
                l = 1;
            } else {
                memcpy(out, s + i, l);
                out += l;
            }
        }
    }
    *out++ = '"';
    *out = '\0';
}

/* Strings of 0 to 40 bytes, plain, then with a byte that is not plain at
 * each place (a quote, a control, NUL, DEL, a UTF-8 letter, a bad byte,
 * a letter cut by the end): the runs of 16 and of 8 and the last,
 * overlapping one all give what a byte at a time does. */
static void test_strings_at_each_length(void **state)
{
    static const char *const odd[] = {"\"", "\\", "\x01", "\x1f", "\x7f", "\xc3\xa9",
                                      "\xff", "\xe2\x82"};
    unsigned char in[64];
    char want[512];
    size_t n, at, k;

    (void)state;
    for (n = 0; n <= 40; n++) {
        for (at = 0; at <= n; at++) {
            for (k = 0; k <= sizeof(odd) / sizeof(odd[0]); k++) {
                col_buf_t b = {0};
                size_t len = n, i;

                for (i = 0; i < n; i++)
                    in[i] = (unsigned char)('A' + (i * 7) % 50); /* '"' and '\\' never */
                if (k < sizeof(odd) / sizeof(odd[0])) {
                    size_t ol = strlen(odd[k]);

                    if (at == n || at + ol > n)
                        continue;
                    memcpy(in + at, odd[k], ol);
                } else if (at < n) {
                    in[at] = '\0';
                } else if (at != 0) {
                    continue;
                }
                ref_strn(want, in, len);
                col_json_strn(&b, (const char *)in, len);
                if (strcmp(b.p, want) != 0)
                    print_error("n %zu at %zu odd %zu: %s, not %s\n", n, at, k, b.p, want);
                assert_string_equal(b.p, want);
                col_buf_free(&b);
            }
        }
    }
}

/* A string longer than what is written in one step (4 KiB) goes piece by
 * piece, each checked: the same bytes. */
static void test_long_string(void **state)
{
    static unsigned char in[9000];
    static char want[6 * sizeof(in) + 3];
    col_buf_t b = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i % 97 == 0 ? '"' : i % 89 == 0 ? 0x01 : i % 83 == 0 ? 0xff
                                : 'a' + i % 26);
    ref_strn(want, in, sizeof(in));
    col_json_strn(&b, (const char *)in, sizeof(in));
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(b.p, want);
    col_buf_free(&b);
}

/* Ids of every length to 20 bytes as lowercase hex, every byte value. */
static void test_hex_at_each_length(void **state)
{
    uint8_t id[20];
    char got[48], want[48];
    size_t n, i, v;

    (void)state;
    for (v = 0; v < 256; v += 5) {
        for (n = 0; n <= 20; n++) {
            for (i = 0; i < n; i++)
                id[i] = (uint8_t)(v + i * 37);
            for (i = 0; i < n; i++)
                sprintf(want + 2 * i, "%02x", id[i]);
            want[2 * n] = '\0';
            col_hex(id, n, got);
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_and_type),
        cmocka_unit_test(test_odd_ids),
        cmocka_unit_test(test_wire_left_to_decoding),
        cmocka_unit_test(test_wire_deep_key_value_lists),
        cmocka_unit_test(test_wire_attribute_runs),
        cmocka_unit_test(test_utf8_boundaries),
        cmocka_unit_test(test_numbers_at_each_length),
        cmocka_unit_test(test_strings_at_each_length),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_hex_at_each_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
