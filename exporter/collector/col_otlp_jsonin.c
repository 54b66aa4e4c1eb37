/*
 * col_otlp_jsonin.c - OTLP/JSON into protobuf-c messages (see
 * col_otlp_jsonin.h).
 *
 * JSON is parsed by json-c (Debian's libjson-c5: kept up, strict mode,
 * UTF-8 checked, a depth limit of its own) rather than by a parser of
 * ours on input anyone may send; the tree is then walked with protobuf-c's
 * generated descriptors, which say each field's name, number, type and
 * where it lives in the struct, so every message of the schema is filled
 * by the same few functions instead of one hand-written reader each. The
 * text is counted before json-c sees it: json-c's tree takes some 800
 * bytes an object, so objects and values are capped first.
 */
#define _GNU_SOURCE
#include "col_otlp_jsonin.h"
#include "col_wire.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    col_arena_t *a;
    col_jsonin_why_t *why;
} col_jin_t;

/* An integer read from JSON: negative ones in s, the others in u. */
typedef struct {
    int neg;
    int64_t s;
    uint64_t u;
} col_jin_int_t;

static int col_jin_fail(col_jin_t *j, col_jsonin_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int col_jin_fail(col_jin_t *j, col_jsonin_err_t err, const char *fmt, ...)
{
    va_list ap;

    if (j->why->err != COL_JSONIN_OK)
        return 0; /* the first reason is the one told */
    j->why->err = err;
    va_start(ap, fmt);
    vsnprintf(j->why->msg, sizeof(j->why->msg), fmt, ap);
    va_end(ap);
    return 0;
}

/* The field's name as OTLP/JSON writes it: lowerCamelCase. */
static const char *col_jin_camel(const char *name, char *out, size_t cap)
{
    size_t n = 0;

    for (; *name && n + 1 < cap; name++)
        if (*name == '_' && name[1])
            out[n++] = (char)toupper((unsigned char)*++name);
        else
            out[n++] = *name;
    out[n] = '\0';
    return out;
}

/* Whether key names the field: its lowerCamelCase name or its proto name. */
static int col_jin_key_is(const char *name, const char *key)
{
    if (strcmp(name, key) == 0)
        return 1;
    for (; *name; name++, key++) {
        if (*name == '_' && name[1])
            name++;
        else if (*key == *name)
            continue;
        else
            return 0;
        if (*key != toupper((unsigned char)*name))
            return 0;
    }
    return *key == '\0';
}

static const ProtobufCFieldDescriptor *col_jin_field(const ProtobufCMessageDescriptor *d,
                                                     const char *key)
{
    unsigned i;

    for (i = 0; i < d->n_fields; i++)
        if (col_jin_key_is(d->fields[i].name, key))
            return &d->fields[i];
    return NULL; /* unknown: ignored, as OTLP/JSON says */
}

#define COL_JIN_FAIL(j, f, what, ...)                                                          \
    col_jin_fail(j, COL_JSONIN_SCHEMA, "%s: " what,                                           \
                 col_jin_camel((f)->name, (char[64]){0}, 64), ##__VA_ARGS__)

static void *col_jin_alloc(col_jin_t *j, size_t n)
{
    void *p = col_arena_get(j->a, n ? n : 1);

    if (p == NULL)
        col_jin_fail(j, COL_JSONIN_TOO_BIG,
                     "the request would take more than " COL_STR(COL_ARENA_MAX_MB)
                     " MiB decoded");
    return p;
}

/* ---- scalars ------------------------------------------------------------ */

/* A JSON number or a decimal string, as an integer. */
static int col_jin_read_int(json_object *v, col_jin_int_t *x)
{
    const char *s, *end;
    double d;

    memset(x, 0, sizeof(*x));
    switch (json_object_get_type(v)) {
    case json_type_int:
        x->s = json_object_get_int64(v);
        x->neg = x->s < 0;
        x->u = x->s == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)x->s;
        return 1;
    case json_type_double: /* 1e3 is an integer too */
        d = json_object_get_double(v);
        if (!isfinite(d) || d != floor(d) || d <= -9223372036854775808.0 ||
            d >= 18446744073709551616.0)
            return 0;
        x->neg = d < 0;
        if (x->neg)
            x->s = (int64_t)d;
        else
            x->u = (uint64_t)d;
        return 1;
    case json_type_string:
        s = json_object_get_string(v);
        x->neg = *s == '-';
        if (!isdigit((unsigned char)s[x->neg]) || json_object_get_string_len(v) > 20)
            return 0;
        errno = 0;
        if (x->neg)
            x->s = strtoll(s, (char **)&end, 10);
        else
            x->u = strtoull(s, (char **)&end, 10);
        return errno == 0 && *end == '\0';
    default:
        return 0;
    }
}

/* Whether x fits the field's integer type; written to dst if it does. */
static int col_jin_put_int(ProtobufCType t, const col_jin_int_t *x, void *dst)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!x->neg && x->u > INT64_MAX)
            return 0;
        *(int64_t *)dst = x->neg ? x->s : (int64_t)x->u;
        return 1;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)dst = x->u;
        return !x->neg;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)dst = (uint32_t)x->u;
        return !x->neg && x->u <= UINT32_MAX;
    default: /* int32, sint32, sfixed32, enum */
        if (x->neg ? x->s < INT32_MIN : x->u > INT32_MAX)
            return 0;
        *(int32_t *)dst = x->neg ? (int32_t)x->s : (int32_t)x->u;
        return 1;
    }
}

static int col_jin_int(col_jin_t *j, const ProtobufCFieldDescriptor *f, json_object *v,
                       void *dst)
{
    col_jin_int_t x;

    if (f->type == PROTOBUF_C_TYPE_ENUM && json_object_is_type(v, json_type_string) &&
        !isdigit((unsigned char)*json_object_get_string(v)) &&
        *json_object_get_string(v) != '-') {
        const ProtobufCEnumValue *e =
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_object_get_string(v));

        if (e == NULL)
            return COL_JIN_FAIL(j, f, "no such value");
        *(int32_t *)dst = e->value;
        return 1;
    }
    if (!col_jin_read_int(v, &x))
        return COL_JIN_FAIL(j, f, "not an integer (a number or a decimal string)");
    if (!col_jin_put_int(f->type, &x, dst))
        return COL_JIN_FAIL(j, f, "out of range");
    return 1;
}

static int col_jin_double(col_jin_t *j, const ProtobufCFieldDescriptor *f, json_object *v,
                          void *dst)
{
    double d;

    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
        d = json_object_get_double(v);
    } else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end = NULL;

        if (strcmp(s, "NaN") == 0)
            d = NAN;
        else if (strcmp(s, "Infinity") == 0)
            d = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            d = -INFINITY;
        else if (*s == '\0' || isspace((unsigned char)*s) || !isfinite(d = strtod(s, &end)) ||
                 *end != '\0')
            return COL_JIN_FAIL(j, f, "not a number");
    } else {
        return COL_JIN_FAIL(j, f, "not a number");
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT)
        *(float *)dst = (float)d;
    else
        *(double *)dst = d;
    return 1;
}

static int col_jin_string(col_jin_t *j, const ProtobufCFieldDescriptor *f, json_object *v,
                          void *dst)
{
    size_t n;
    char *s;

    if (!json_object_is_type(v, json_type_string))
        return COL_JIN_FAIL(j, f, "not a string");
    n = (size_t)json_object_get_string_len(v);
    if ((s = col_jin_alloc(j, n + 1)) == NULL)
        return 0;
    memcpy(s, json_object_get_string(v), n);
    s[n] = '\0'; /* a NUL inside ends it, as in the protobuf a datagram brings */
    *(char **)dst = s;
    return 1;
}

/* ---- bytes: hex for the ids, base64 for the rest ------------------------- */

static int col_jin_is_id(const char *name)
{
    return strcmp(name, "trace_id") == 0 || strcmp(name, "span_id") == 0 ||
           strcmp(name, "parent_span_id") == 0;
}

static int col_jin_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex (either case) into out: the number of bytes, or -1. */
static long col_jin_unhex(const char *s, size_t n, uint8_t *out)
{
    size_t i;

    if (n % 2)
        return -1;
    for (i = 0; i < n; i += 2) {
        int hi = col_jin_hexval((unsigned char)s[i]), lo = col_jin_hexval((unsigned char)s[i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

static int col_jin_b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Base64, standard or URL-safe, padded or not, into out: bytes, or -1. */
static long col_jin_unbase64(const char *s, size_t n, uint8_t *out)
{
    size_t i, len = 0, pad = 0;
    uint32_t acc = 0;

    while (pad < 2 && n > 0 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return -1;
    for (i = 0; i < n; i++) {
        int v = col_jin_b64val((unsigned char)s[i]);

        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[len++] = (uint8_t)(acc >> 16);
            out[len++] = (uint8_t)(acc >> 8);
            out[len++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (n % 4 == 2) {
        out[len++] = (uint8_t)(acc >> 4);
    } else if (n % 4 == 3) {
        out[len++] = (uint8_t)(acc >> 10);
        out[len++] = (uint8_t)(acc >> 2);
    }
    return (long)len;
}

static int col_jin_bytes(col_jin_t *j, const ProtobufCFieldDescriptor *f, json_object *v,
                         void *dst)
{
    ProtobufCBinaryData *b = dst;
    int hex = col_jin_is_id(f->name);
    const char *s;
    size_t n;
    long len;

    if (!json_object_is_type(v, json_type_string))
        return COL_JIN_FAIL(j, f, "not a string");
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    /* hex: n / 2 bytes; base64: 3 for every 4 characters, 2 for the last 3 */
    if ((b->data = col_jin_alloc(j, n / 4 * 3 + 3)) == NULL)
        return 0;
    len = hex ? col_jin_unhex(s, n, b->data) : col_jin_unbase64(s, n, b->data);
    if (len < 0)
        return hex ? COL_JIN_FAIL(j, f, "not a hex string") : COL_JIN_FAIL(j, f, "not base64");
    b->len = (size_t)len;
    return 1;
}

/* ---- messages ----------------------------------------------------------- */

static ProtobufCMessage *col_jin_message(col_jin_t *j, const ProtobufCMessageDescriptor *d,
                                         json_object *o, unsigned depth);

/* One value of field f (an element, if it is repeated) into dst. */
static int col_jin_one(col_jin_t *j, const ProtobufCFieldDescriptor *f, json_object *v,
                       void *dst, unsigned depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_object_is_type(v, json_type_object))
            return COL_JIN_FAIL(j, f, "not an object");
        return (*(ProtobufCMessage **)dst = col_jin_message(j, f->descriptor, v, depth + 1)) !=
               NULL;
    case PROTOBUF_C_TYPE_STRING:
        return col_jin_string(j, f, v, dst);
    case PROTOBUF_C_TYPE_BYTES:
        return col_jin_bytes(j, f, v, dst);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return COL_JIN_FAIL(j, f, "not true or false");
        *(protobuf_c_boolean *)dst = json_object_get_boolean(v) ? 1 : 0;
        return 1;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return col_jin_double(j, f, v, dst);
    default:
        return col_jin_int(j, f, v, dst);
    }
}

/* Bytes one element of a field of type t takes in its struct. */
static size_t col_jin_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default: /* 32-bit integers and enums */
        return sizeof(uint32_t);
    }
}

static int col_jin_repeated(col_jin_t *j, const ProtobufCFieldDescriptor *f, char *m,
                            json_object *v, unsigned depth)
{
    size_t n, i, size = col_jin_size(f->type);
    char *arr;

    if (!json_object_is_type(v, json_type_array))
        return COL_JIN_FAIL(j, f, "not an array");
    n = json_object_array_length(v);
    if (n == 0)
        return 1;
    if ((arr = col_jin_alloc(j, n * size)) == NULL)
        return 0;
    memset(arr, 0, n * size);
    for (i = 0; i < n; i++) {
        json_object *el = json_object_array_get_idx(v, i);

        if (el == NULL)
            return COL_JIN_FAIL(j, f, "null in the array");
        if (!col_jin_one(j, f, el, arr + i * size, depth))
            return 0;
    }
    *(size_t *)(m + f->quantifier_offset) = n;
    *(void **)(m + f->offset) = arr;
    return 1;
}

static int col_jin_set(col_jin_t *j, const ProtobufCFieldDescriptor *f, char *m, json_object *v,
                       unsigned depth)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return col_jin_repeated(j, f, m, v, depth);
    if (!col_jin_one(j, f, v, m + f->offset, depth))
        return 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(m + f->quantifier_offset) = f->id; /* the member set last wins */
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)(m + f->quantifier_offset) = 1;
    return 1;
}

static ProtobufCMessage *col_jin_message(col_jin_t *j, const ProtobufCMessageDescriptor *d,
                                         json_object *o, unsigned depth)
{
    ProtobufCMessage *m;

    if (depth > COL_WIRE_DEPTH_MAX) {
        col_jin_fail(j, COL_JSONIN_TOO_DEEP,
                     "messages nested more than " COL_STR(COL_WIRE_DEPTH_MAX) " deep");
        return NULL;
    }
    if ((m = col_jin_alloc(j, d->sizeof_message)) == NULL)
        return NULL;
    d->message_init(m);
    json_object_object_foreach(o, key, val)
    {
        const ProtobufCFieldDescriptor *f = col_jin_field(d, key);

        if (f && val && !col_jin_set(j, f, (char *)m, val, depth))
            return NULL; /* null is the default: nothing to set */
    }
    return m;
}

/* ---- the text ----------------------------------------------------------- */

/* Objects and values (the structural characters before them) counted
 * outside strings, before json-c builds a tree of them. */
static int col_jin_count(col_jin_t *j, const char *s, size_t len)
{
    size_t objects = 0, values = 0, i;
    int in_string = 0;

    for (i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = 0;
            continue;
        }
        switch (s[i]) {
        case '"':
            in_string = 1;
            break;
        case '{':
            objects++;
            /* fall through */
        case '[':
        case ',':
        case ':':
            values++;
            break;
        default:
            break;
        }
    }
    if (objects <= COL_JSONIN_OBJECTS_MAX && values <= COL_JSONIN_VALUES_MAX)
        return 1;
    return col_jin_fail(j, COL_JSONIN_TOO_MANY,
                        "%zu JSON objects and %zu values, more than the " COL_STR(
                            COL_JSONIN_OBJECTS_MAX) " and " COL_STR(COL_JSONIN_VALUES_MAX)
                        " a request may have",
                        objects, values);
}

static json_object *col_jin_parse(col_jin_t *j, const char *json, size_t len)
{
    json_tokener *tok;
    json_object *root;
    enum json_tokener_error err;
    size_t end;

    if (len > INT_MAX) {
        col_jin_fail(j, COL_JSONIN_TOO_MANY, "more JSON than json-c reads at once");
        return NULL;
    }
    if ((tok = json_tokener_new_ex(COL_JSONIN_DEPTH_MAX)) == NULL) {
        col_jin_fail(j, COL_JSONIN_TOO_BIG, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, json, (int)len);
    err = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (err == json_tokener_continue) { /* a bare literal or number ends at the end */
        root = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);
    while (err == json_tokener_success && end < len && isspace((unsigned char)json[end]))
        end++;
    if (err == json_tokener_success && end == len)
        return root;
    json_object_put(root);
    if (err == json_tokener_error_depth)
        col_jin_fail(j, COL_JSONIN_TOO_DEEP,
                     "JSON nested more than " COL_STR(COL_JSONIN_DEPTH_MAX) " deep");
    else if (err == json_tokener_continue || err == json_tokener_error_parse_eof)
        col_jin_fail(j, COL_JSONIN_SYNTAX, "the JSON ends early, at byte %zu", len);
    else if (err == json_tokener_success)
        col_jin_fail(j, COL_JSONIN_SYNTAX, "more after the JSON value, at byte %zu", end);
    else
        col_jin_fail(j, COL_JSONIN_SYNTAX, "not JSON: %s, at byte %zu",
                     json_tokener_error_desc(err), end);
    return NULL;
}

ProtobufCMessage *col_jsonin_decode(const ProtobufCMessageDescriptor *desc, col_arena_t *a,
                                    const char *json, size_t len, col_jsonin_why_t *why)
{
    col_jin_t j = {a, why};
    ProtobufCMessage *m = NULL;
    json_object *root;

    why->err = COL_JSONIN_OK;
    why->msg[0] = '\0';
    if (!col_jin_count(&j, json, len))
        return NULL;
    root = col_jin_parse(&j, json, len);
    if (why->err != COL_JSONIN_OK)
        return NULL;
    if (json_object_is_type(root, json_type_object)) /* not null, either */
        m = col_jin_message(&j, desc, root, 1);
    else
        col_jin_fail(&j, COL_JSONIN_SCHEMA, "not a JSON object");
    json_object_put(root);
    return why->err == COL_JSONIN_OK ? m : NULL;
}

col_request_t *col_jsonin_request(col_arena_t *a, const char *json, size_t len,
                                  col_jsonin_why_t *why)
{
    return (col_request_t *)col_jsonin_decode(
        &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor, a,
        json, len, why);
}
