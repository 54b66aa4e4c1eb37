/*
 * col_otlp.c - small readers of decoded OTLP messages, shared by the
 * collector's sinks (see col_otlp.h).
 */
#include "col_otlp.h"

#include <string.h>

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
