/*
 * col_json.c - OTLP JSON writer (see col_json.h).
 *
 * Strings from the wire are not trusted to be UTF-8: invalid sequences
 * become U+FFFD, control characters are escaped, so every line is valid
 * JSON whatever a sender wrote.
 */
#include "col_json.h"
#include "col_jout.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void col_buf_reset(col_buf_t *b)
{
    b->len = 0;
    b->oom = 0;
}

void col_buf_free(col_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int col_buf_grow(col_buf_t *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->len + more + 1 <= b->cap)
        return 1;
    cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

/* Short output (most: a number, an escape) goes through tmp; longer is
 * formatted again straight into b, never cut (a cut line of /metrics ran
 * into the next one). */
void col_buf_printf(col_buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        col_buf_put(b, tmp, (size_t)n);
        return;
    }
    if (!col_buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char col_jo_pairs[200] = "00010203040506070809101112131415161718192021222324"
                               "25262728293031323334353637383940414243444546474849"
                               "50515253545556575859606162636465666768697071727374"
                               "75767778798081828384858687888990919293949596979899";

#define COL_H16(x) #x "0" #x "1" #x "2" #x "3" #x "4" #x "5" #x "6" #x "7" \
                   #x "8" #x "9" #x "a" #x "b" #x "c" #x "d" #x "e" #x "f"
const char col_jo_hex2[512] = COL_H16(0) COL_H16(1) COL_H16(2) COL_H16(3) COL_H16(4) COL_H16(5)
    COL_H16(6) COL_H16(7) COL_H16(8) COL_H16(9) COL_H16(a) COL_H16(b) COL_H16(c) COL_H16(d)
    COL_H16(e) COL_H16(f);
#undef COL_H16

void col_hex(const uint8_t *p, size_t n, char *out)
{
    col_jo_hex(out, p, n)[0] = '\0';
}

size_t col_utf8_len(const unsigned char *s)
{
    size_t len, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Decimal digits of v, without printf (the hot path writes many: two
 * 19-digit timestamps a span), two digits a step (col_jout.h). */
void col_buf_u64(col_buf_t *b, uint64_t v)
{
    char *o = col_buf_room(b, 20);

    if (o)
        col_buf_done(b, col_jo_u64(o, v));
}

/* Bytes that go into a JSON string as they are: printable ASCII but the
 * quote and the backslash. NUL is not one of them, so a run stops at the
 * string's end too. */
const uint8_t col_json_plain[256] = {
    [' ' ... '!'] = 1, ['#' ... '['] = 1, [']' ... 0x7f] = 1, /* '"' and '\\' not */
};

/* The valid UTF-8 sequence at s with avail bytes left, as col_utf8_len
 * (a sequence cut by the end is not one). */
static size_t col_utf8_len_n(const unsigned char *s, size_t avail)
{
    unsigned char t[4] = {0, 0, 0, 0};

    if (avail >= 4)
        return col_utf8_len(s);
    memcpy(t, s, avail);
    return col_utf8_len(t);
}

char *col_jo_strn_any(char *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s, *start = u, *end = u + n;
    size_t l;

    *o++ = '"';
    for (;;) {
        uint64_t w;
        unsigned char c;

        while ((size_t)(end - u) >= 8) { /* plain ASCII, as most is: a word at a time */
            memcpy(&w, u, 8);
            if (!col_word_plain(w))
                break;
            memcpy(o, &w, 8);
            o += 8;
            u += 8;
        }
        if (u < end && end - start >= 8 && end - u < 8) {
            /* the last bytes: the word ending there, if all of it is plain
             * (then what came before it in it went out as it is, last) */
            memcpy(&w, end - 8, 8);
            if (col_word_plain(w)) {
                memcpy(o - (8 - (end - u)), &w, 8);
                o += end - u;
                break;
            }
        }
        while (u < end && col_json_plain[*u])
            *o++ = (char)*u++;
        if (u == end)
            break;
        c = *u;
        if (c == '\0')
            break; /* as a C string: it ends at a NUL */
        if (c == '"' || c == '\\') {
            o[0] = '\\';
            o[1] = (char)c;
            o += 2;
            u++;
        } else if (c < 0x20) {
            o = COL_JO_LIT(o, "\\u00");
            o = col_jo_hex(o, &c, 1);
            u++;
        } else if ((l = col_utf8_len_n(u, (size_t)(end - u))) == 0) {
            o = COL_JO_LIT(o, "\\ufffd");
            u++;
        } else {
            o = col_jo_bytes(o, u, l);
            u += l;
        }
    }
    *o++ = '"';
    return o;
}

/* Past this, a string is written piece by piece, each checked, so that its
 * room is what it takes, not six times its length made up front. */
#define COL_STRN_AT_ONCE 4096

static void col_json_strn_long(col_buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s, *end = u + n;
    size_t l;

    col_buf_put(b, "\"", 1);
    while (u < end) {
        const unsigned char *run = u;
        unsigned char c;
        char esc[6];

        while (run < end && col_json_plain[*run])
            run++;
        if (run > u) {
            col_buf_put(b, (const char *)u, (size_t)(run - u));
            u = run;
            if (u == end)
                break;
        }
        c = *u;
        if (c == '\0')
            break;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            col_buf_put(b, esc, 2);
            u++;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            col_jo_hex(esc + 4, &c, 1);
            col_buf_put(b, esc, 6);
            u++;
        } else if ((l = col_utf8_len_n(u, (size_t)(end - u))) == 0) {
            col_buf_puts(b, "\\ufffd");
            u++;
        } else {
            col_buf_put(b, (const char *)u, l);
            u += l;
        }
    }
    col_buf_put(b, "\"", 1);
}

void col_json_strn(col_buf_t *b, const char *s, size_t n)
{
    char *o;

    if (n > COL_STRN_AT_ONCE) {
        col_json_strn_long(b, s, n);
        return;
    }
    if ((o = col_buf_room(b, 6 * n + 2)) != NULL)
        col_buf_done(b, col_jo_strn(o, s, n));
}

void col_json_string(col_buf_t *b, const char *s)
{
    col_json_strn(b, s ? s : "", s ? strlen(s) : 0);
}

static void col_json_str(col_buf_t *b, const char *s)
{
    col_json_string(b, s);
}

static inline void col_json_key(col_buf_t *b, int *first, const char *key)
{
    if (!*first)
        col_buf_put(b, ",", 1);
    *first = 0;
    col_buf_put(b, "\"", 1);
    col_buf_puts(b, key);
    col_buf_put(b, "\":", 2);
}

char *col_jo_base64(char *o, const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    *o++ = '"';
    for (i = 0; i + 2 < n; i += 3, o += 4) {
        o[0] = t[p[i] >> 2];
        o[1] = t[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        o[2] = t[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        o[3] = t[p[i + 2] & 63];
    }
    if (n - i == 1) {
        o[0] = t[p[i] >> 2];
        o[1] = t[(p[i] & 3) << 4];
        o[2] = o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        o[0] = t[p[i] >> 2];
        o[1] = t[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        o[2] = t[(p[i + 1] & 15) << 2];
        o[3] = '=';
        o += 4;
    }
    *o++ = '"';
    return o;
}

void col_json_base64(col_buf_t *b, const uint8_t *p, size_t n)
{
    char *o = col_buf_room(b, (n + 2) / 3 * 4 + 2);

    if (o)
        col_buf_done(b, col_jo_base64(o, p, n));
}

void col_json_id(col_buf_t *b, const uint8_t *p, size_t n)
{
    char *o = col_buf_room(b, 2 * n + 2);

    if (o)
        col_buf_done(b, col_jo_id(o, p, n));
}

static void col_json_hexid(col_buf_t *b, int *first, const char *key, ProtobufCBinaryData d)
{
    if (d.len == 0)
        return;
    col_json_key(b, first, key);
    col_json_id(b, d.data, d.len);
}

void col_json_int_value(col_buf_t *b, int64_t v)
{
    col_buf_puts(b, "\"intValue\":\"");
    if (v < 0) {
        col_buf_put(b, "-", 1);
        col_buf_u64(b, 0 - (uint64_t)v);
    } else {
        col_buf_u64(b, (uint64_t)v);
    }
    col_buf_put(b, "\"", 1);
}

void col_json_double_value(col_buf_t *b, double v)
{
    if (v != v)
        col_buf_puts(b, "\"doubleValue\":\"NaN\"");
    else if (v > 1.7976931348623157e308)
        col_buf_puts(b, "\"doubleValue\":\"Infinity\"");
    else if (v < -1.7976931348623157e308)
        col_buf_puts(b, "\"doubleValue\":\"-Infinity\"");
    else
        col_buf_printf(b, "\"doubleValue\":%.17g", v);
}

static void col_json_kvs(col_buf_t *b, col_kv_t **kv, size_t n, int depth);

static void col_json_value(col_buf_t *b, const col_value_t *v, int depth)
{
    size_t i;

    col_buf_put(b, "{", 1);
    if (v == NULL || depth > 16) {
        col_buf_put(b, "}", 1);
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        col_buf_puts(b, "\"stringValue\":");
        col_json_str(b, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        col_buf_puts(b, v->bool_value ? "\"boolValue\":true" : "\"boolValue\":false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        col_json_int_value(b, v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        col_json_double_value(b, v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        col_buf_puts(b, "\"arrayValue\":{");
        if (v->array_value && v->array_value->n_values) {
            col_buf_puts(b, "\"values\":[");
            for (i = 0; i < v->array_value->n_values; i++) {
                if (i)
                    col_buf_put(b, ",", 1);
                col_json_value(b, v->array_value->values[i], depth + 1);
            }
            col_buf_put(b, "]", 1);
        }
        col_buf_put(b, "}", 1);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        col_buf_puts(b, "\"kvlistValue\":{");
        if (v->kvlist_value && v->kvlist_value->n_values) {
            col_buf_puts(b, "\"values\":");
            col_json_kvs(b, v->kvlist_value->values, v->kvlist_value->n_values, depth + 1);
        }
        col_buf_put(b, "}", 1);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        col_buf_puts(b, "\"bytesValue\":");
        col_json_base64(b, v->bytes_value.data, v->bytes_value.len);
        break;
    default:
        break;
    }
    col_buf_put(b, "}", 1);
}

static void col_json_kvs(col_buf_t *b, col_kv_t **kv, size_t n, int depth)
{
    size_t i;

    col_buf_put(b, "[", 1);
    for (i = 0; i < n; i++) {
        if (i)
            col_buf_put(b, ",", 1);
        col_buf_puts(b, "{\"key\":");
        col_json_str(b, kv[i]->key);
        col_buf_puts(b, ",\"value\":");
        col_json_value(b, kv[i]->value, depth);
        col_buf_put(b, "}", 1);
    }
    col_buf_put(b, "]", 1);
}

static void col_json_attrs(col_buf_t *b, int *first, col_kv_t **kv, size_t n, uint32_t dropped)
{
    if (n) {
        col_json_key(b, first, "attributes");
        col_json_kvs(b, kv, n, 0);
    }
    if (dropped) {
        col_json_key(b, first, "droppedAttributesCount");
        col_buf_u64(b, dropped);
    }
}

static void col_json_optstr(col_buf_t *b, int *first, const char *key, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    col_json_key(b, first, key);
    col_json_str(b, v);
}

static void col_json_u64(col_buf_t *b, int *first, const char *key, uint64_t v)
{
    if (v == 0)
        return;
    col_json_key(b, first, key);
    col_buf_put(b, "\"", 1);
    col_buf_u64(b, v);
    col_buf_put(b, "\"", 1);
}

static void col_json_span(col_buf_t *b, const col_span_t *s)
{
    int first = 1;
    size_t i;

    col_buf_put(b, "{", 1);
    col_json_hexid(b, &first, "traceId", s->trace_id);
    col_json_hexid(b, &first, "spanId", s->span_id);
    col_json_optstr(b, &first, "traceState", s->trace_state);
    col_json_hexid(b, &first, "parentSpanId", s->parent_span_id);
    if (s->flags) {
        col_json_key(b, &first, "flags");
        col_buf_u64(b, s->flags);
    }
    col_json_optstr(b, &first, "name", s->name);
    if (s->kind) {
        int kind = (int)s->kind; /* an int32 on the wire; the enum's type is unsigned */

        col_json_key(b, &first, "kind");
        if (kind >= 0)
            col_buf_u64(b, (uint64_t)kind);
        else
            col_buf_printf(b, "%d", kind); /* not a kind at all, but as sent */
    }
    col_json_u64(b, &first, "startTimeUnixNano", s->start_time_unix_nano);
    col_json_u64(b, &first, "endTimeUnixNano", s->end_time_unix_nano);
    col_json_attrs(b, &first, s->attributes, s->n_attributes, s->dropped_attributes_count);
    if (s->n_events) {
        col_json_key(b, &first, "events");
        col_buf_put(b, "[", 1);
        for (i = 0; i < s->n_events; i++) {
            const col_event_t *e = s->events[i];
            int f = 1;

            col_buf_puts(b, i ? ",{" : "{");
            col_json_u64(b, &f, "timeUnixNano", e->time_unix_nano);
            col_json_optstr(b, &f, "name", e->name);
            col_json_attrs(b, &f, e->attributes, e->n_attributes, e->dropped_attributes_count);
            col_buf_put(b, "}", 1);
        }
        col_buf_put(b, "]", 1);
    }
    if (s->dropped_events_count) {
        col_json_key(b, &first, "droppedEventsCount");
        col_buf_u64(b, s->dropped_events_count);
    }
    if (s->n_links) {
        col_json_key(b, &first, "links");
        col_buf_put(b, "[", 1);
        for (i = 0; i < s->n_links; i++) {
            const col_link_t *l = s->links[i];
            int f = 1;

            col_buf_puts(b, i ? ",{" : "{");
            col_json_hexid(b, &f, "traceId", l->trace_id);
            col_json_hexid(b, &f, "spanId", l->span_id);
            col_json_optstr(b, &f, "traceState", l->trace_state);
            col_json_attrs(b, &f, l->attributes, l->n_attributes, l->dropped_attributes_count);
            if (l->flags) {
                col_json_key(b, &f, "flags");
                col_buf_u64(b, l->flags);
            }
            col_buf_put(b, "}", 1);
        }
        col_buf_put(b, "]", 1);
    }
    if (s->dropped_links_count) {
        col_json_key(b, &first, "droppedLinksCount");
        col_buf_u64(b, s->dropped_links_count);
    }
    if (s->status) {
        int f = 1;

        col_json_key(b, &first, "status");
        col_buf_put(b, "{", 1);
        col_json_optstr(b, &f, "message", s->status->message);
        if (s->status->code) {
            col_json_key(b, &f, "code");
            col_buf_printf(b, "%d", (int)s->status->code);
        }
        col_buf_put(b, "}", 1);
    }
    col_buf_put(b, "}", 1);
}

static void col_json_scope_spans(col_buf_t *b, const col_scope_spans_t *ss)
{
    int first = 1;
    size_t i;

    col_buf_put(b, "{", 1);
    if (ss->scope) {
        int f = 1;

        col_json_key(b, &first, "scope");
        col_buf_put(b, "{", 1);
        col_json_optstr(b, &f, "name", ss->scope->name);
        col_json_optstr(b, &f, "version", ss->scope->version);
        col_json_attrs(b, &f, ss->scope->attributes, ss->scope->n_attributes,
                       ss->scope->dropped_attributes_count);
        col_buf_put(b, "}", 1);
    }
    if (ss->n_spans) {
        col_json_key(b, &first, "spans");
        col_buf_put(b, "[", 1);
        for (i = 0; i < ss->n_spans; i++) {
            if (i)
                col_buf_put(b, ",", 1);
            col_json_span(b, ss->spans[i]);
        }
        col_buf_put(b, "]", 1);
    }
    col_json_optstr(b, &first, "schemaUrl", ss->schema_url);
    col_buf_put(b, "}", 1);
}

void col_json_request(col_buf_t *b, const col_request_t *r)
{
    size_t i, j;

    col_buf_puts(b, "{\"resourceSpans\":[");
    for (i = 0; i < r->n_resource_spans; i++) {
        const col_resource_spans_t *rs = r->resource_spans[i];
        int first = 1;

        col_buf_puts(b, i ? ",{" : "{");
        if (rs->resource) {
            int f = 1;

            col_json_key(b, &first, "resource");
            col_buf_put(b, "{", 1);
            col_json_attrs(b, &f, rs->resource->attributes, rs->resource->n_attributes,
                           rs->resource->dropped_attributes_count);
            col_buf_put(b, "}", 1);
        }
        if (rs->n_scope_spans) {
            col_json_key(b, &first, "scopeSpans");
            col_buf_put(b, "[", 1);
            for (j = 0; j < rs->n_scope_spans; j++) {
                if (j)
                    col_buf_put(b, ",", 1);
                col_json_scope_spans(b, rs->scope_spans[j]);
            }
            col_buf_put(b, "]", 1);
        }
        col_json_optstr(b, &first, "schemaUrl", rs->schema_url);
        col_buf_put(b, "}", 1);
    }
    col_buf_puts(b, "]}");
}

/* For the logs writer (col_json_log.c): the same pieces, from outside. */
void col_json_kv_array(col_buf_t *b, col_kv_t **kv, size_t n)
{
    col_json_kvs(b, kv, n, 0);
}

void col_json_any_value(col_buf_t *b, const col_value_t *v)
{
    col_json_value(b, v, 0);
}
