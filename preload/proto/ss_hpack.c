/*
 * ss_hpack.c - HPACK for the HTTP/2 follower: libnghttp2's inflater,
 * loaded only when a connection first speaks HTTP/2, and the one kind of
 * field spanshim adds.
 *
 * Reading a header block means keeping that direction's dynamic table in
 * step with the peer's, Huffman codes included. That is libnghttp2's
 * inflater (Debian's libnghttp2.so.14, the library curl uses): it is
 * dlopen'ed the first time HTTP/2 is seen, so a process that never speaks
 * it neither pays for it nor gets a new library mapped.
 *
 * The field added to a request is a literal without indexing, with a new
 * name and no Huffman code (RFC 7541, 6.2.2). It leaves both dynamic tables
 * as they were, so the program's later blocks decode as before. It is
 * written here, not by nghttp2's deflater: a deflater told not to index
 * opens its first block with a table size update, which would shrink the
 * peer's table under the program's own encoder.
 */
#define _GNU_SOURCE
#include "ss_hpack.h"
#include "../ss_log.h"

#include <dlfcn.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <string.h>

/* A peer may let its encoder grow the table to what it announced in
 * SETTINGS_HEADER_TABLE_SIZE, which this follower does not read: accept
 * sizes up to this (memory stays bounded by it). */
#define SS_HPACK_TABLE_MAX 65536

/* The functions used, resolved from the library together. */
#define SS_NGHTTP2_FNS(X)              \
    X(nghttp2_hd_inflate_new)          \
    X(nghttp2_hd_inflate_del)          \
    X(nghttp2_hd_inflate_change_table_size) \
    X(nghttp2_hd_inflate_hd2)          \
    X(nghttp2_hd_inflate_end_headers)

static struct {
#define SS_NGHTTP2_PTR(name) __typeof__(name) *name;
    SS_NGHTTP2_FNS(SS_NGHTTP2_PTR)
#undef SS_NGHTTP2_PTR
    int ok;
} ss_ng;

static pthread_once_t ss_hpack_once = PTHREAD_ONCE_INIT;

static void ss_hpack_load(void)
{
    void *lib = dlopen("libnghttp2.so.14", RTLD_NOW | RTLD_LOCAL);

    if (lib == NULL) {
        ss_log(SS_LOG_WARN, "HTTP/2 seen, but libnghttp2.so.14 is not installed: "
                            "HTTP/2 connections are not traced");
        return;
    }
#define SS_NGHTTP2_SYM(name)                                    \
    if ((ss_ng.name = (__typeof__(name) *)dlsym(lib, #name)) == NULL) \
        return;
    SS_NGHTTP2_FNS(SS_NGHTTP2_SYM)
#undef SS_NGHTTP2_SYM
    ss_ng.ok = 1;
}

int ss_hpack_available(void)
{
    pthread_once(&ss_hpack_once, ss_hpack_load);
    return ss_ng.ok;
}

ss_hpack_t *ss_hpack_new(void)
{
    nghttp2_hd_inflater *inf = NULL;

    if (!ss_hpack_available() || ss_ng.nghttp2_hd_inflate_new(&inf) != 0)
        return NULL;
    if (ss_ng.nghttp2_hd_inflate_change_table_size(inf, SS_HPACK_TABLE_MAX) != 0) {
        ss_ng.nghttp2_hd_inflate_del(inf);
        return NULL;
    }
    return (ss_hpack_t *)inf;
}

void ss_hpack_free(ss_hpack_t *h)
{
    if (h)
        ss_ng.nghttp2_hd_inflate_del((nghttp2_hd_inflater *)h);
}

long ss_hpack_inflate(ss_hpack_t *h, const uint8_t *in, size_t n, int last,
                      ss_hpack_field_t *f, int *flags)
{
    nghttp2_hd_inflater *inf = (nghttp2_hd_inflater *)h;
    nghttp2_nv nv;
    int fl = 0;
    ssize_t r = ss_ng.nghttp2_hd_inflate_hd2(inf, &nv, &fl, in, n, last);

    *flags = 0;
    if (r < 0)
        return -1;
    if (fl & NGHTTP2_HD_INFLATE_EMIT) {
        f->name = (const char *)nv.name;
        f->name_len = nv.namelen;
        f->value = (const char *)nv.value;
        f->value_len = nv.valuelen;
        *flags |= SS_HPACK_FIELD;
    }
    if (fl & NGHTTP2_HD_INFLATE_FINAL) {
        ss_ng.nghttp2_hd_inflate_end_headers(inf);
        *flags |= SS_HPACK_DONE;
    }
    return (long)r;
}

/* An HPACK integer with a 7-bit prefix (RFC 7541, 5.1), after `first`'s
 * high bit. Returns the bytes written, 0 if cap is too small. */
static size_t ss_hpack_int7(uint8_t *out, size_t cap, size_t v)
{
    size_t n = 0;

    if (cap == 0)
        return 0;
    if (v < 127) {
        out[0] = (uint8_t)v;
        return 1;
    }
    out[n++] = 127;
    v -= 127;
    while (v >= 128) {
        if (n == cap)
            return 0;
        out[n++] = (uint8_t)(0x80 | (v & 0x7f));
        v >>= 7;
    }
    if (n == cap)
        return 0;
    out[n++] = (uint8_t)v;
    return n;
}

/* A string literal without Huffman code: length, then the bytes. */
static size_t ss_hpack_string(uint8_t *out, size_t cap, const char *s, size_t len)
{
    size_t n = ss_hpack_int7(out, cap, len);

    if (n == 0 || cap - n < len)
        return 0;
    memcpy(out + n, s, len);
    return n + len;
}

size_t ss_hpack_literal(uint8_t *out, size_t cap, const char *name, size_t name_len,
                        const char *value, size_t value_len)
{
    size_t n = 1, k;

    if (cap < 1)
        return 0;
    out[0] = 0x00; /* literal without indexing, new name */
    if ((k = ss_hpack_string(out + n, cap - n, name, name_len)) == 0)
        return 0;
    n += k;
    if ((k = ss_hpack_string(out + n, cap - n, value, value_len)) == 0)
        return 0;
    return n + k;
}
