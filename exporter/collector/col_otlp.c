/*
 * col_otlp.c - small readers of decoded OTLP messages, shared by the
 * collector's sinks (see col_otlp.h).
 */
#include "col_otlp.h"
#include "col_wire.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Under AddressSanitizer what a block holds beyond what was handed out is
 * poisoned, so a decoder writing past its allocation is caught there, not
 * only past the block (the fuzz targets' decoders all allocate here). */
#if defined(__SANITIZE_ADDRESS__)
#define COL_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COL_ARENA_ASAN 1
#endif
#endif
#ifdef COL_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define COL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define COL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define COL_POISON(p, n) ((void)(p), (void)(n))
#define COL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define COL_ARENA_FIRST (8 * 1024)
#define COL_ARENA_BLOCK (256 * 1024)

typedef struct col_block {
    struct col_block *next;
    size_t used, cap;
    max_align_t data[];
} col_block_t;

struct col_arena {
    ProtobufCAllocator alloc; /* first: protobuf-c hands it back to us */
    col_block_t *blocks;
    size_t bytes;             /* of every block, headers included */
    int over;                 /* an allocation would have passed COL_ARENA_MAX */
};

/* Blocks grow with what the arena holds, from 8 KiB to 256 KiB: a small
 * datagram kept by tail sampling keeps a small arena. */
static void *col_arena_alloc(void *arg, size_t asked)
{
    col_arena_t *a = arg;
    col_block_t *b = a->blocks;
    size_t n = (asked + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);

    if (n < asked)
        return NULL;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = a->bytes < COL_ARENA_FIRST ? COL_ARENA_FIRST
                     : a->bytes < COL_ARENA_BLOCK ? a->bytes : COL_ARENA_BLOCK;

        if (cap < n)
            cap = n;
        if (n > COL_ARENA_MAX || a->bytes + sizeof(*b) + cap > COL_ARENA_MAX) {
            a->over = 1; /* protobuf-c gives up: the message is refused */
            return NULL;
        }
        if ((b = malloc(sizeof(*b) + cap)) == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        COL_POISON(b->data, cap);
        b->next = a->blocks;
        a->blocks = b;
        a->bytes += sizeof(*b) + cap;
    }
    b->used += n;
    COL_UNPOISON((char *)b->data + b->used - n, asked);
    return (char *)b->data + b->used - n;
}

static void col_arena_nofree(void *arg, void *p)
{
    (void)arg, (void)p; /* all of it goes at once */
}

col_arena_t *col_arena_new(void)
{
    col_arena_t *a = calloc(1, sizeof(*a));

    if (a) {
        a->alloc.alloc = col_arena_alloc;
        a->alloc.free = col_arena_nofree;
        a->alloc.allocator_data = a;
    }
    return a;
}

/* Keep one block, as large as the message just decoded needed (at most
 * the usual size): an arena used for one datagram after another settles
 * on the size they need, with no malloc per datagram. */
void col_arena_reset(col_arena_t *a)
{
    size_t want = 0;
    col_block_t *keep = NULL, *b;

    for (b = a->blocks; b; b = b->next) {
        want += b->cap;
        if (b->cap <= COL_ARENA_BLOCK && (keep == NULL || b->cap > keep->cap))
            keep = b;
    }
    if (want > COL_ARENA_BLOCK)
        want = COL_ARENA_BLOCK;
    for (b = a->blocks; b;) {
        col_block_t *next = b->next;

        if (b != keep) {
            COL_UNPOISON(b->data, b->cap);
            free(b);
        }
        b = next;
    }
    if (keep && keep->cap < want) {
        COL_UNPOISON(keep->data, keep->cap);
        free(keep);
        if ((keep = malloc(sizeof(*keep) + want)) != NULL)
            keep->cap = want;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
        COL_POISON(keep->data, keep->cap);
    }
    a->blocks = keep;
    a->bytes = keep ? sizeof(*keep) + keep->cap : 0;
    a->over = 0;
}

void col_arena_free(col_arena_t *a)
{
    if (a == NULL)
        return;
    col_arena_reset(a);
    if (a->blocks)
        COL_UNPOISON(a->blocks->data, a->blocks->cap);
    free(a->blocks);
    free(a);
}

size_t col_arena_bytes(const col_arena_t *a)
{
    return a->bytes;
}

void *col_arena_get(col_arena_t *a, size_t n)
{
    return col_arena_alloc(a, n);
}

uint64_t col_hash(const void *p, size_t n)
{
    static uint64_t key;
    const uint8_t *b = p;
    uint64_t h;
    size_t i;

    if (key == 0 && getrandom(&key, sizeof(key), 0) != sizeof(key))
        key = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    h = key ^ (n * 0xff51afd7ed558ccdull);
    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull; /* FNV-1a's prime, from a secret start */
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

ProtobufCMessage *col_decode(const ProtobufCMessageDescriptor *desc, col_arena_t *a,
                             const uint8_t *data, size_t len, col_decode_err_t *why)
{
    ProtobufCMessage *m;

    switch (col_wire_check(desc, data, len)) {
    case COL_WIRE_OK:
        break;
    case COL_WIRE_TOO_DEEP:
        *why = COL_DECODE_TOO_DEEP;
        return NULL;
    default:
        *why = COL_DECODE_MALFORMED;
        return NULL;
    }
    m = protobuf_c_message_unpack(desc, &a->alloc, len, data);
    *why = m ? COL_DECODE_OK : a->over ? COL_DECODE_TOO_BIG : COL_DECODE_MALFORMED;
    return m;
}

col_request_t *col_request_decode(col_arena_t *a, const uint8_t *data, size_t len,
                                  col_decode_err_t *why)
{
    return (col_request_t *)col_decode(
        &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor, a,
        data, len, why);
}

col_logs_request_t *col_logs_request_decode(col_arena_t *a, const uint8_t *data, size_t len,
                                            col_decode_err_t *why)
{
    return (col_logs_request_t *)col_decode(
        &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor, a,
        data, len, why);
}

const char *col_decode_reason(col_decode_err_t why)
{
    switch (why) {
    case COL_DECODE_TOO_DEEP:
        return "nests messages more than " COL_STR(COL_WIRE_DEPTH_MAX) " deep";
    case COL_DECODE_TOO_BIG:
        return "would take more than " COL_STR(COL_ARENA_MAX_MB) " MiB decoded";
    default:
        return "is not an OTLP ExportTraceServiceRequest";
    }
}

#define COL_VALUE(v, what) \
    ((v) && (v)->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##what)

static const col_value_t *col_attr(col_kv_t **kv, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (kv[i]->key && strcmp(kv[i]->key, key) == 0)
            return kv[i]->value;
    return NULL;
}

const char *col_attr_str(col_kv_t **kv, size_t n, const char *key)
{
    const col_value_t *v = col_attr(kv, n, key);

    return COL_VALUE(v, STRING_VALUE) ? v->string_value : NULL;
}

int64_t col_attr_int(col_kv_t **kv, size_t n, const char *key)
{
    const col_value_t *v = col_attr(kv, n, key);

    return COL_VALUE(v, INT_VALUE) ? v->int_value : 0;
}

int col_attr_bool(col_kv_t **kv, size_t n, const char *key)
{
    const col_value_t *v = col_attr(kv, n, key);

    return COL_VALUE(v, BOOL_VALUE) ? v->bool_value != 0 : 0;
}

const char *col_service(const col_resource_spans_t *rs)
{
    return rs->resource ? col_attr_str(rs->resource->attributes, rs->resource->n_attributes,
                                       "service.name")
                        : NULL;
}

void col_each_span(const col_request_t *r, col_span_fn fn, void *arg)
{
    size_t i, j, k;

    for (i = 0; i < r->n_resource_spans; i++) {
        const col_resource_spans_t *rs = r->resource_spans[i];

        for (j = 0; j < rs->n_scope_spans; j++)
            for (k = 0; k < rs->scope_spans[j]->n_spans; k++)
                fn(rs, rs->scope_spans[j], rs->scope_spans[j]->spans[k], arg);
    }
}
