/*
 * ss_hpack.h - HPACK for the HTTP/2 follower (see ss_hpack.c).
 */
#ifndef SS_HPACK_H
#define SS_HPACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ss_hpack ss_hpack_t; /* one direction's decoder */

typedef struct ss_hpack_field {
    const char *name, *value;
    size_t name_len, value_len;
} ss_hpack_field_t;

enum { SS_HPACK_FIELD = 1, SS_HPACK_DONE = 2 }; /* ss_hpack_inflate() flags */

/* 1 if libnghttp2 could be loaded (tried once, on first use). */
int ss_hpack_available(void);

/* A decoder with the dynamic table of a new connection, or NULL. */
ss_hpack_t *ss_hpack_new(void);
void ss_hpack_free(ss_hpack_t *h);

/* Decode from in[0..n), `last` when these are the block's final bytes.
 * Returns the bytes used, or -1 if the block is not valid HPACK; *flags
 * says whether *f holds a field (valid until the next call, and while in
 * is) and whether the block is complete. Call again until DONE, or until
 * no field comes and all input is used. */
long ss_hpack_inflate(ss_hpack_t *h, const uint8_t *in, size_t n, int last,
                      ss_hpack_field_t *f, int *flags);

/* Encode name: value as a literal without indexing (no Huffman, new
 * name). Returns the bytes written to out, 0 if cap is too small. */
size_t ss_hpack_literal(uint8_t *out, size_t cap, const char *name, size_t name_len,
                        const char *value, size_t value_len);

#endif
