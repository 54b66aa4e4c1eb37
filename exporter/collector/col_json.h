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

/* Length of the valid UTF-8 sequence at s (1..4; 1 for any ASCII byte),
 * or 0. s is NUL-ended: a NUL is no continuation byte, so the check stops
 * there. */
size_t col_utf8_len(const unsigned char *s);

/* Lowercase hex of bytes into out (2n + 1 bytes). */
void col_hex(const uint8_t *p, size_t n, char *out);

#endif
