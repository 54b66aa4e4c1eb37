/*
 * col_otlp.c - small readers of decoded OTLP messages, shared by the
 * collector's sinks (see col_otlp.h).
 */
#include "col_otlp.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define COL_ARENA_BLOCK (256 * 1024)

typedef struct col_block {
    struct col_block *next;
    size_t used, cap;
    max_align_t data[];
} col_block_t;

struct col_arena {
    ProtobufCAllocator alloc; /* first: protobuf-c hands it back to us */
    col_block_t *blocks;
};

static void *col_arena_alloc(void *arg, size_t n)
{
    col_arena_t *a = arg;
    col_block_t *b = a->blocks;

    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > COL_ARENA_BLOCK ? n : COL_ARENA_BLOCK;

        if ((b = malloc(sizeof(*b) + cap)) == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->blocks;
        a->blocks = b;
    }
    b->used += n;
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

void col_arena_reset(col_arena_t *a)
{
    col_block_t *keep = NULL, *b = a->blocks;

    while (b) {
        col_block_t *next = b->next;

        if (next == NULL && b->cap == COL_ARENA_BLOCK) {
            keep = b; /* the oldest, of the usual size */
            keep->used = 0;
        } else {
            free(b);
        }
        b = next;
    }
    a->blocks = keep;
}

void col_arena_free(col_arena_t *a)
{
    if (a == NULL)
        return;
    col_arena_reset(a);
    free(a->blocks);
    free(a);
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

col_request_t *col_request_decode(col_arena_t *a, const uint8_t *data, size_t len)
{
    return opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        &a->alloc, len, data);
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
