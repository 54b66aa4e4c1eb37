/*
 * ex_otlp_int.h - what the span encoder (ex_otlp.c) and its protocol parts
 * (ex_otlp_http.c, ex_otlp_db.c, ex_otlp_dns.c, ex_otlp_proc.c) share: the byte writers of
 * the protobuf wire format, and the interface of a protocol's part.
 *
 * A span is encoded in two steps. Its protocol's decide() reads the record
 * once and settles what several fields need (the name, error.type, URL
 * parts); then ex_otlp.c lays out the Span message in field order and
 * calls the protocol's attrs() for its attributes, adding the common ones
 * (network.peer.*, error.type) itself. Adding a protocol is one file with
 * an ex_span_enc_t and one line in ex_otlp.c's table.
 */
#ifndef EX_OTLP_INT_H
#define EX_OTLP_INT_H

#include <pb_encode.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ex_otlp.h"
#include "ex_redact.h"
#include "trace.pb.h"

/* A string and its length: the span record's fields are length-counted,
 * so nothing on this path copies them into C strings or measures them. */
typedef struct ex_str {
    const char *p;
    size_t n;
} ex_str_t;

#define EX_LIT(s) ((ex_str_t){(s), sizeof(s) - 1})
#define EX_NONE ((ex_str_t){NULL, 0})

/* An empty string (most of a span's optional fields) is not measured. */
static inline ex_str_t ex_cstr(const char *s)
{
    return (ex_str_t){s, s && s[0] ? strlen(s) : 0};
}

static inline size_t ex_varint(uint8_t *b, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

static inline size_t ex_varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}


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
        if (n) { /* 1 to 3: the first, the middle and the last, no loop */
            p[0] = s[0];
            p[n / 2] = s[n / 2];
            p[n - 1] = s[n - 1];
        }
    } else {
        memcpy(p, s, n);
    }
    return p + n;
}

/* A length inside a span: every one is below 16384 (EX_SPAN_MAX), so
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
 * (the caller made room for the worst case: EX_SPAN_MAX). Keys are short
 * literals: their length takes one byte. An empty string is left out, as
 * the conventions ask. */
#define EX_KV_TAG (opentelemetry_proto_trace_v1_Span_attributes_tag << 3 | PB_WT_STRING)

#define EX_INLINE static inline __attribute__((always_inline))

EX_INLINE uint8_t *ex_kv_str(uint8_t *p, ex_str_t key, ex_str_t v)
{
    size_t any = 1 + ex_len_size(v.n) + v.n;

    if (v.n == 0)
        return p;
    if (v.n < 128 - 6 - key.n) {
        /* The commonest case, all three lengths one byte (the KeyValue
         * is key.n + v.n + 6 bytes): one test instead of one per length. */
        p[0] = EX_KV_TAG;
        p[1] = (uint8_t)(key.n + v.n + 6);
        p[2] = 1 << 3 | PB_WT_STRING;
        p[3] = (uint8_t)key.n;
        p = ex_copy(p + 4, key.p, key.n);
        p[0] = 2 << 3 | PB_WT_STRING;
        p[1] = (uint8_t)(v.n + 2);
        p[2] = 1 << 3 | PB_WT_STRING;
        p[3] = (uint8_t)v.n;
        return ex_copy(p + 4, v.p, v.n);
    }
    *p++ = EX_KV_TAG;
    p = ex_put_len(p, 2 + key.n + 1 + ex_len_size(any) + any);
    *p++ = 1 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)key.n;
    p = ex_copy(p, key.p, key.n);
    *p++ = 2 << 3 | PB_WT_STRING;
    p = ex_put_len(p, any);
    return ex_put_bytes(p, 1, v.p, v.n);
}

/* The value's varint is written first, in its place after the fixed
 * bytes, and the two lengths that depend on it after: one pass over it. */
EX_INLINE uint8_t *ex_kv_int(uint8_t *p, ex_str_t key, int64_t v)
{
    uint8_t *k = p + 4 + key.n; /* the value's tag, length, AnyValue tag */
    size_t vn = ex_varint(k + 3, (uint64_t)v);

    p[0] = EX_KV_TAG;
    p[1] = (uint8_t)(2 + key.n + 3 + vn);
    p[2] = 1 << 3 | PB_WT_STRING;
    p[3] = (uint8_t)key.n;
    ex_copy(p + 4, key.p, key.n);
    k[0] = 2 << 3 | PB_WT_STRING;
    k[1] = (uint8_t)(1 + vn);
    k[2] = 3 << 3 | PB_WT_VARINT;
    return k + 3 + vn;
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

/* The facts of an HTTP span (ex_otlp_http.c). */
#define EX_URL_MAX (SS_HTTP_HOST_MAX + EX_REDACT_ROOM(SS_HTTP_TARGET_MAX) + 64)

typedef struct ex_http_facts {
    ex_str_t method, host, addr;
    ex_str_t url;                 /* client spans */
    ex_str_t path, query;         /* server spans */
    int known, port;
    char url_buf[EX_URL_MAX], status[8];
} ex_http_facts_t;

/* ... of a database span (ex_otlp_db.c): its name, put together. */
typedef struct ex_db_facts {
    ex_str_t operation;           /* db.operation.name, measured once */
    char name[SS_DB_SUMMARY_MAX + 8];
} ex_db_facts_t;

/* ... of a DNS span (ex_otlp_dns.c): its name, put together. */
typedef struct ex_dns_facts {
    char name[24 + SS_DNS_NAME_MAX];
} ex_dns_facts_t;

/* What a span's fields are made from, decided once. */
typedef struct ex_facts {
    ex_str_t name;                /* Span.name */
    ex_str_t error_type;          /* error.type; status ERROR when set */
    ex_str_t peer;                /* network.peer.address */
    uint8_t peer_in_part;         /* the protocol's part writes network.peer.* (in its place) */
    union {
        ex_http_facts_t http;
        ex_db_facts_t db;
        ex_dns_facts_t dns;
    };
} ex_facts_t;

/* One protocol's part of the encoding: one per SS_SPAN_* type. */
typedef struct ex_span_enc {
    size_t worst;                 /* the most bytes its attributes take */
    /* Settle f->peer (network.peer.address) in decide() itself: 0, the
     * encoder does, from the record's peer_addr, before decide(). */
    uint8_t own_peer;
    /* Settle f->name (and f->error_type, set to the record's error.type
     * when it has one), and whatever attrs() needs. */
    void (*decide)(const ss_span_t *s, ex_facts_t *f);
    /* Its attributes, into p; the room for its worst case was checked. */
    uint8_t *(*attrs)(uint8_t *p, const ss_span_t *s, const ex_facts_t *f);
} ex_span_enc_t;

extern const ex_span_enc_t ex_otlp_http_enc, ex_otlp_db_enc, ex_otlp_dns_enc, ex_otlp_proc_enc;

/* server.address and server.port of a client span without a better
 * source: the name the program resolved, else the peer's address; the
 * port left out when it is default_port (0: always written). Nothing over
 * a Unix socket. */
EX_INLINE uint8_t *ex_put_server_peer(uint8_t *p, const ss_span_t *s, const ex_facts_t *f,
                                      unsigned default_port)
{
    if (s->is_unix)
        return p;
    if (s->server_name[0])
        p = ex_kv_str(p, EX_LIT("server.address"), ex_cstr(s->server_name));
    else if (f->peer.n)
        p = ex_kv_str(p, EX_LIT("server.address"), f->peer);
    else
        return p;
    if (s->peer_port && s->peer_port != default_port)
        p = ex_kv_int(p, EX_LIT("server.port"), s->peer_port);
    return p;
}

/* The most bytes a span can take: these, for its fixed fields and common
 * attributes, and its part's worst (each part asserts the sum fits
 * EX_SPAN_MAX). */
#define EX_SPAN_COMMON_WORST                                                                \
    (200 + 7 * 50 + 2 * sizeof(((ss_span_t *)0)->peer_addr) + SS_DNS_NAME_MAX +             \
     sizeof(((ss_span_t *)0)->error_type) + SS_TS_FORWARD_MAX + EX_STACK_ROOM)

#endif
