/*
 * test_jsonin.c - OTLP/JSON from SDKs into protobuf-c messages: a request
 * with every field and attribute type, written the ways senders write it
 * (lowerCamelCase and proto names, 64-bit integers as strings and
 * numbers, ids in either case, base64 standard and URL-safe, enum names),
 * decoded and written back as the collector's canonical OTLP JSON line and
 * compared whole; the id rules; unknown keys and nulls; and bad input of
 * every kind refused with its reason (syntax, wrong kinds, ranges, bad hex
 * and base64, depth of JSON and of messages, too many objects, invalid
 * UTF-8), never decoded into something else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_otlp_jsonin.h"
#include "../../exporter/collector/col_wire.h"

static col_arena_t *arena;

static int setup(void **state)
{
    (void)state;
    arena = col_arena_new();
    return arena == NULL;
}

static int teardown(void **state)
{
    (void)state;
    col_arena_free(arena);
    return 0;
}

static col_request_t *decode(const char *json, col_jsonin_why_t *why)
{
    col_arena_reset(arena);
    return col_jsonin_request(arena, json, strlen(json), why);
}

/* json decoded and written back as the .jsonl line is. */
static void assert_reads_as(const char *json, const char *want)
{
    col_jsonin_why_t why;
    col_request_t *r = decode(json, &why);
    col_buf_t b = {0};

    if (r == NULL)
        fail_msg("refused: %s", why.msg);
    col_json_request(&b, r);
    assert_string_equal(b.p, want);
    col_buf_free(&b);
}

static void assert_refused(const char *json, col_jsonin_err_t err, const char *says)
{
    col_jsonin_why_t why;

    if (decode(json, &why) != NULL)
        fail_msg("decoded: %.80s", json);
    if (why.err != err)
        fail_msg("%.80s: reason %d (%s), not %d", json, why.err, why.msg, err);
    if (strstr(why.msg, says) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", why.msg, says);
}

#define EMPTY "{\"resourceSpans\":[]}"
#define SPAN_IN(x) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" x "}]}]}]}"
#define ATTR_IN(x) SPAN_IN("\"attributes\":[{\"key\":\"a\",\"value\":" x "}]")

/* What every form writes the same: the span's counts, events and links. */
#define SPAN_REST                                                                               \
    "\"droppedAttributesCount\":3,"                                                             \
    "\"events\":[{\"timeUnixNano\":\"5\",\"name\":\"ev\",\"attributes\":[{\"key\":\"e\","       \
    "\"value\":{\"stringValue\":\"1\"}}],\"droppedAttributesCount\":6},{}],"                    \
    "\"droppedEventsCount\":1,"                                                                 \
    "\"links\":[{\"traceId\":\"000102030405060708090a0b0c0d0e0f\","                             \
    "\"spanId\":\"ffeeddccbbaa9988\",\"traceState\":\"t\",\"flags\":1}],"                       \
    "\"droppedLinksCount\":4,"

static const char every_field_in[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"shop\"}}],\"dropped_attributes_count\":2},"
    "\"schemaUrl\":\"https://example.com/s\",\"unknownField\":{\"x\":[1,2]},"
    "\"scope_spans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\","
    "\"droppedAttributesCount\":\"1\"},\"spans\":[{"
    "\"traceId\":\"000102030405060708090A0B0C0D0E0F\",\"span_id\":\"a0a1a2a3a4a5a6a7\","
    "\"traceState\":\"k=v\",\"parentSpanId\":\"FFEEDDCCBBAA9988\",\"flags\":257,"
    "\"name\":\"GET /a caf\\u00e9 \\ud83d\\ude00\",\"kind\":\"SPAN_KIND_SERVER\","
    "\"startTimeUnixNano\":1700000000000000000,"
    "\"end_time_unix_nano\":\"18446744073709551615\","
    "\"attributes\":["
    "{\"key\":\"s\",\"value\":{\"stringValue\":\"x\\\"\"}},"
    "{\"key\":\"t\",\"value\":{\"boolValue\":true}},"
    "{\"key\":\"min\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
    "{\"key\":\"big\",\"value\":{\"int_value\":9007199254740993}},"
    "{\"key\":\"e\",\"value\":{\"intValue\":1e3}},"
    "{\"key\":\"d\",\"value\":{\"doubleValue\":2.5}},"
    "{\"key\":\"di\",\"value\":{\"doubleValue\":3}},"
    "{\"key\":\"ds\",\"value\":{\"doubleValue\":\"0.5\"}},"
    "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
    "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
    "{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"y\"},"
    "{\"intValue\":\"7\"},{\"arrayValue\":{}}]}}},"
    "{\"key\":\"kv\",\"value\":{\"kvlist_value\":{\"values\":[{\"key\":\"k\",\"value\":"
    "{\"boolValue\":true}}]}}},"
    "{\"key\":\"b3\",\"value\":{\"bytesValue\":\"AP8Q\"}},"
    "{\"key\":\"b1\",\"value\":{\"bytesValue\":\"YQ\"}},"
    "{\"key\":\"bu\",\"value\":{\"bytesValue\":\"-_8=\"}},"
    "{\"key\":\"unset\",\"value\":null},"
    "{\"key\":\"last\",\"value\":{\"stringValue\":\"gone\",\"intValue\":5}}],"
    SPAN_REST
    "\"status\":{\"code\":2,\"message\":\"boom\"}},"
    "{\"status\":{},\"parentSpanId\":\"\",\"name\":null}]}]},{}]}";

static const char every_field_out[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"shop\"}}],\"droppedAttributesCount\":2},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\","
    "\"droppedAttributesCount\":1},\"spans\":["
    "{\"traceId\":\"000102030405060708090a0b0c0d0e0f\",\"spanId\":\"a0a1a2a3a4a5a6a7\","
    "\"traceState\":\"k=v\",\"parentSpanId\":\"ffeeddccbbaa9988\",\"flags\":257,"
    "\"name\":\"GET /a caf\xc3\xa9 \xf0\x9f\x98\x80\",\"kind\":2,"
    "\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"18446744073709551615\","
    "\"attributes\":["
    "{\"key\":\"s\",\"value\":{\"stringValue\":\"x\\\"\"}},"
    "{\"key\":\"t\",\"value\":{\"boolValue\":true}},"
    "{\"key\":\"min\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
    "{\"key\":\"big\",\"value\":{\"intValue\":\"9007199254740993\"}},"
    "{\"key\":\"e\",\"value\":{\"intValue\":\"1000\"}},"
    "{\"key\":\"d\",\"value\":{\"doubleValue\":2.5}},"
    "{\"key\":\"di\",\"value\":{\"doubleValue\":3}},"
    "{\"key\":\"ds\",\"value\":{\"doubleValue\":0.5}},"
    "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
    "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
    "{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"y\"},"
    "{\"intValue\":\"7\"},{\"arrayValue\":{}}]}}},"
    "{\"key\":\"kv\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
    "{\"boolValue\":true}}]}}},"
    "{\"key\":\"b3\",\"value\":{\"bytesValue\":\"AP8Q\"}},"
    "{\"key\":\"b1\",\"value\":{\"bytesValue\":\"YQ==\"}},"
    "{\"key\":\"bu\",\"value\":{\"bytesValue\":\"+/8=\"}},"
    "{\"key\":\"unset\",\"value\":{}},"
    "{\"key\":\"last\",\"value\":{\"intValue\":\"5\"}}],"
    SPAN_REST
    "\"status\":{\"message\":\"boom\",\"code\":2}},"
    "{\"status\":{}}]}],\"schemaUrl\":\"https://example.com/s\"},{}]}";

static void test_every_field_every_form(void **state)
{
    (void)state;
    assert_reads_as(every_field_in, every_field_out);
    /* what the collector writes, it reads back the same */
    assert_reads_as(every_field_out, every_field_out);
}

static void test_ids_hex_any_case_any_length(void **state)
{
    col_jsonin_why_t why;
    col_request_t *r;
    col_span_t *s;

    (void)state;
    r = decode(SPAN_IN("\"traceId\":\"aBcD\",\"spanId\":\"\",\"parentSpanId\":\"00ff\""), &why);
    assert_non_null(r);
    s = r->resource_spans[0]->scope_spans[0]->spans[0];
    /* lengths are the receiver's to judge (partial success), not the decoder's */
    assert_int_equal(s->trace_id.len, 2);
    assert_memory_equal(s->trace_id.data, "\xab\xcd", 2);
    assert_int_equal(s->span_id.len, 0);
    assert_memory_equal(s->parent_span_id.data, "\x00\xff", 2);
    assert_refused(SPAN_IN("\"traceId\":\"abc\""), COL_JSONIN_SCHEMA, "traceId: not a hex");
    assert_refused(SPAN_IN("\"spanId\":\"zz00000000000000\""), COL_JSONIN_SCHEMA,
                   "spanId: not a hex");
    /* base64, as the standard mapping has it, is no id */
    assert_refused(SPAN_IN("\"parentSpanId\":\"AAECAwQFBgc=\""), COL_JSONIN_SCHEMA,
                   "parentSpanId: not a hex");
    assert_refused(SPAN_IN("\"traceId\":16"), COL_JSONIN_SCHEMA, "traceId: not a string");
    /* a link's ids are hex too */
    assert_refused(SPAN_IN("\"links\":[{\"spanId\":\"AAECAwQFBgc=\"}]"), COL_JSONIN_SCHEMA,
                   "spanId: not a hex");
}

/* Long bytes, then more allocations after them: each value whole. */
static void test_long_bytes(void **state)
{
    static const char b64[] = /* bytes 0, 1, 2... 299 */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7"
        "PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3"
        "eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKz"
        "tLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v"
        "8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSor";
    char json[1024];
    col_jsonin_why_t why;
    col_request_t *r;
    col_span_t *s;
    uint8_t want[300];
    int i;

    (void)state;
    for (i = 0; i < 300; i++)
        want[i] = (uint8_t)i;
    snprintf(json, sizeof(json),
             SPAN_IN("\"attributes\":[{\"key\":\"b\",\"value\":{\"bytesValue\":\"%s\"}},"
                     "{\"key\":\"after\",\"value\":{\"stringValue\":\"%s\"}}]"),
             b64, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    r = decode(json, &why);
    assert_non_null(r);
    s = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_int_equal(s->attributes[0]->value->bytes_value.len, 300);
    assert_memory_equal(s->attributes[0]->value->bytes_value.data, want, 300);
    assert_int_equal(strlen(s->attributes[1]->value->string_value), 60);
}

static void test_numbers_and_ranges(void **state)
{
    (void)state;
    assert_refused(SPAN_IN("\"startTimeUnixNano\":-1"), COL_JSONIN_SCHEMA,
                   "startTimeUnixNano: out of range");
    assert_refused(SPAN_IN("\"startTimeUnixNano\":\"18446744073709551616\""), COL_JSONIN_SCHEMA,
                   "startTimeUnixNano: not an integer");
    assert_refused(SPAN_IN("\"startTimeUnixNano\":\" 5\""), COL_JSONIN_SCHEMA, "not an integer");
    assert_refused(SPAN_IN("\"startTimeUnixNano\":\"5x\""), COL_JSONIN_SCHEMA, "not an integer");
    assert_refused(SPAN_IN("\"startTimeUnixNano\":1.5"), COL_JSONIN_SCHEMA, "not an integer");
    assert_refused(SPAN_IN("\"startTimeUnixNano\":true"), COL_JSONIN_SCHEMA, "not an integer");
    assert_refused(SPAN_IN("\"flags\":4294967296"), COL_JSONIN_SCHEMA, "flags: out of range");
    assert_refused(SPAN_IN("\"droppedAttributesCount\":-1"), COL_JSONIN_SCHEMA, "out of range");
    assert_refused(SPAN_IN("\"kind\":2147483648"), COL_JSONIN_SCHEMA, "kind: out of range");
    assert_refused(SPAN_IN("\"kind\":\"SPAN_KIND_NONE\""), COL_JSONIN_SCHEMA, "kind: no such");
    assert_refused(ATTR_IN("{\"intValue\":\"9223372036854775808\"}"), COL_JSONIN_SCHEMA,
                   "intValue: out of range");
    assert_refused(ATTR_IN("{\"intValue\":9223372036854775808}"), COL_JSONIN_SCHEMA,
                   "intValue: out of range");
    assert_refused(ATTR_IN("{\"doubleValue\":\"fast\"}"), COL_JSONIN_SCHEMA,
                   "doubleValue: not a number");
    assert_refused(ATTR_IN("{\"doubleValue\":\"1e999\"}"), COL_JSONIN_SCHEMA, "not a number");
    assert_refused(ATTR_IN("{\"boolValue\":1}"), COL_JSONIN_SCHEMA, "boolValue: not true");
    /* an enum value the schema does not name is kept, as protobuf keeps it */
    assert_reads_as(SPAN_IN("\"kind\":9"),
                    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":9}]}]}]}");
}

static void test_wrong_kinds(void **state)
{
    (void)state;
    assert_refused("{\"resourceSpans\":{}}", COL_JSONIN_SCHEMA, "resourceSpans: not an array");
    assert_refused("{\"resourceSpans\":[1]}", COL_JSONIN_SCHEMA, "resourceSpans: not an object");
    assert_refused("{\"resourceSpans\":[null]}", COL_JSONIN_SCHEMA, "resourceSpans: null in");
    assert_refused(SPAN_IN("\"name\":5"), COL_JSONIN_SCHEMA, "name: not a string");
    assert_refused(SPAN_IN("\"status\":[]"), COL_JSONIN_SCHEMA, "status: not an object");
    assert_refused(ATTR_IN("{\"bytesValue\":\"a\"}"), COL_JSONIN_SCHEMA, "bytesValue: not base64");
    assert_refused(ATTR_IN("{\"bytesValue\":\"a*==\"}"), COL_JSONIN_SCHEMA, "not base64");
    assert_refused(ATTR_IN("{\"bytesValue\":\"YQ=\"}"), COL_JSONIN_SCHEMA, "not base64");
    assert_refused("[]", COL_JSONIN_SCHEMA, "not a JSON object");
    assert_refused("null", COL_JSONIN_SCHEMA, "not a JSON object");
    assert_refused("\"x\"", COL_JSONIN_SCHEMA, "not a JSON object");
}

static void test_not_json(void **state)
{
    col_jsonin_why_t why;

    (void)state;
    assert_refused("", COL_JSONIN_SYNTAX, "ends early");
    assert_refused("{\"resourceSpans\":[", COL_JSONIN_SYNTAX, "ends early");
    assert_refused("{} {}", COL_JSONIN_SYNTAX, "");
    assert_refused("{\"a\":1,}", COL_JSONIN_SYNTAX, "not JSON");
    assert_refused("{\"a\":\"\xff\"}", COL_JSONIN_SYNTAX, "not JSON");
    assert_refused("\x1f\x8b\x08", COL_JSONIN_SYNTAX, "not JSON");
    /* bytes after a NUL are not ignored */
    assert_null(col_jsonin_request(arena, "{}\0{", 4, &why));
    assert_int_equal(why.err, COL_JSONIN_SYNTAX);
    /* whitespace around it is JSON */
    assert_reads_as(" \n{}\r\n", EMPTY);
    assert_reads_as("{\"resourceSpans\":null,\"other\":[{\"deep\":[[[]]]}]}", EMPTY);
}

/* An attribute whose value nests n arrays in arrays. */
static char *nested_arrays(unsigned n)
{
    static const char open[] = "{\"arrayValue\":{\"values\":[", close[] = "]}}";
    size_t cap = n * (sizeof(open) + sizeof(close)) + 256, len = 0;
    char *s = malloc(cap);
    unsigned i;

    len += (size_t)sprintf(s + len, "%s",
                           "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":"
                           "[{\"key\":\"a\",\"value\":");
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%s", open);
    len += (size_t)sprintf(s + len, "{}");
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%s", close);
    sprintf(s + len, "}]}]}]}]}");
    return s;
}

static void test_depth(void **state)
{
    col_jsonin_why_t why;
    /* 6 messages to the first AnyValue, then 2 a level (ArrayValue, AnyValue) */
    unsigned levels = (COL_WIRE_DEPTH_MAX - 6) / 2;
    char *s = nested_arrays(levels), *deeper = nested_arrays(levels + 1), *json;

    (void)state;
    assert_non_null(decode(s, &why));
    assert_refused(deeper, COL_JSONIN_TOO_DEEP, "messages nested more than");
    free(s);
    free(deeper);
    /* JSON itself, where no field is known: json-c's own limit */
    json = malloc(2 * COL_JSONIN_DEPTH_MAX + 64);
    strcpy(json, "{\"x\":");
    memset(json + 5, '[', COL_JSONIN_DEPTH_MAX);
    memset(json + 5 + COL_JSONIN_DEPTH_MAX, ']', COL_JSONIN_DEPTH_MAX);
    strcpy(json + 5 + 2 * COL_JSONIN_DEPTH_MAX, "}");
    assert_refused(json, COL_JSONIN_TOO_DEEP, "JSON nested more than");
    free(json);
}

static void test_too_many(void **state)
{
    size_t n = COL_JSONIN_OBJECTS_MAX + 1, i, len;
    char *json = malloc(n * 3 + 64);

    (void)state;
    len = (size_t)sprintf(json, "{\"x\":[");
    for (i = 0; i < n; i++) {
        memcpy(json + len, "{},", 3);
        len += 3;
    }
    strcpy(json + len - 1, "]}");
    assert_refused(json, COL_JSONIN_TOO_MANY, "JSON objects");
    /* braces inside strings are no objects */
    len = (size_t)sprintf(json, "{\"x\":\"");
    memset(json + len, '{', n);
    strcpy(json + len + n, "\"}");
    assert_reads_as(json, EMPTY);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_field_every_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_hex_any_case_any_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_and_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
