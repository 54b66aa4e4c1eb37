/*
 * col_json.h - an ExportTraceServiceRequest as one line of OTLP JSON.
 *
 * The mapping is the OTLP/JSON one: lowerCamelCase keys, ids as lowercase
 * hex, other bytes as base64, enums as numbers, 64-bit integers as decimal
 * strings, default values left out.
 */
#ifndef COL_JSON_H
#define COL_JSON_H

#include <stddef.h>
#include <string.h>

#include "col_otlp.h"

typedef struct col_buf {
    char *p;
    size_t len, cap;
    int oom;                 /* an allocation failed: the line is incomplete */
} col_buf_t;

void col_buf_reset(col_buf_t *b);
void col_buf_free(col_buf_t *b);
int col_buf_grow(col_buf_t *b, size_t more); /* room for more bytes and a NUL */

/* Append n bytes (kept NUL-terminated). Inline: JSON is made of many. */
static inline void col_buf_put(col_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap && !col_buf_grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Append a C string; inline, so a literal's length is known when built. */
static inline void col_buf_puts(col_buf_t *b, const char *s)
{
    col_buf_put(b, s, strlen(s));
}

void col_buf_printf(col_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append the JSON of r (no newline) to b. */
void col_json_request(col_buf_t *b, const col_request_t *r);

/* Append the JSON of a whole ExportTraceServiceRequest straight from its
 * protobuf bytes, without decoding it: exactly what decoding it and
 * col_json_request would write. 0 (b as it was) when the bytes are not in
 * the plain form this walk takes (col_json_wire.c says which); the caller
 * then decodes. *spans: the spans in it. *spanshim_res: a resource
 * attribute's key begins with "spanshim." (a sink may want those decoded).
 * *in_flight (if not NULL): an attribute spanshim.span.in_flight is in it. */
int col_json_wire(col_buf_t *b, const uint8_t *p, size_t n, size_t *spans, int *spanshim_res,
                  int *in_flight);

/* What col_json_wire would say of the request (its return, *spans,
 * *spanshim_res, *in_flight), for the cost of its reading alone: nothing
 * is written. For a collector no sink of which reads the JSON. */
int col_json_wire_check(const uint8_t *p, size_t n, size_t *spans, int *spanshim_res,
                        int *in_flight);

/* The attribute of a shim's report of a span still open. */
#define COL_IN_FLIGHT_KEY "spanshim.span.in_flight"

/* Pieces both writers use. A string's JSON, as C sees it: up to n bytes or
 * a NUL; control characters escaped, invalid UTF-8 as U+FFFD. */
void col_json_strn(col_buf_t *b, const char *s, size_t n);
/* An id as quoted lowercase hex (base64 past 64 bytes: no id at all). */
void col_json_id(col_buf_t *b, const uint8_t *p, size_t n);
void col_json_base64(col_buf_t *b, const uint8_t *p, size_t n);
void col_buf_u64(col_buf_t *b, uint64_t v);
/* "intValue":"N" and "doubleValue":N (NaN and the infinities as strings). */
void col_json_int_value(col_buf_t *b, int64_t v);
void col_json_double_value(col_buf_t *b, double v);
/* s as a JSON string, quoted and escaped (invalid UTF-8 as U+FFFD; NULL
 * as ""). */
void col_json_string(col_buf_t *b, const char *s);

/* A KeyValue list as a JSON array, and an AnyValue's object, as the trace
 * writer writes them (for col_json_log.c). */
void col_json_kv_array(col_buf_t *b, col_kv_t **kv, size_t n);
void col_json_any_value(col_buf_t *b, const col_value_t *v);

/* Length of the valid UTF-8 sequence at s (1..4; 1 for any ASCII byte),
 * or 0. s is NUL-ended: a NUL is no continuation byte, so the check stops
 * there. */
size_t col_utf8_len(const unsigned char *s);

/* Lowercase hex of bytes into out (2n + 1 bytes). */
void col_hex(const uint8_t *p, size_t n, char *out);

#endif
