/*
 * col_logs.c - a logs item from the queue decoded, counted and handed to
 * the sinks (see col_logs.h); small readers of decoded log records.
 */
#define _GNU_SOURCE
#include "col_logs.h"
#include "col_log.h"
#include "col_sink.h"
#include "col_stats.h"
#include "col_wire.h"

#include <stdio.h>

size_t col_logs_count(const col_logs_request_t *r)
{
    size_t n = 0, i, j;

    for (i = 0; i < r->n_resource_logs; i++)
        for (j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
            n += r->resource_logs[i]->scope_logs[j]->n_log_records;
    return n;
}

const char *col_logs_service(const col_resource_logs_t *rl)
{
    return rl->resource ? col_attr_str(rl->resource->attributes, rl->resource->n_attributes,
                                       "service.name")
                        : NULL;
}

void col_each_log(const col_logs_request_t *r, col_log_fn fn, void *arg)
{
    size_t i, j, k;

    for (i = 0; i < r->n_resource_logs; i++) {
        const col_resource_logs_t *rl = r->resource_logs[i];

        for (j = 0; j < rl->n_scope_logs; j++)
            for (k = 0; k < rl->scope_logs[j]->n_log_records; k++)
                fn(rl, rl->scope_logs[j], rl->scope_logs[j]->log_records[k], arg);
    }
}

int col_log_has_trace(const col_log_t *l)
{
    return col_id_valid(l->trace_id, 16);
}

int col_log_has_span(const col_log_t *l)
{
    return col_log_has_trace(l) && col_id_valid(l->span_id, 8);
}

static void col_logs_refused(const col_item_t *d, col_decode_err_t why)
{
    if (why == COL_DECODE_TOO_DEEP)
        COL_COUNT(too_deep, 1);
    else if (why == COL_DECODE_TOO_BIG)
        COL_COUNT(too_big, 1);
    else
        COL_COUNT(bad, 1);
    if (col_log_allowed())
        fprintf(stderr,
                "spanshim-collector: ignored a logs datagram of %zu bytes from pid %d uid %u "
                "that %s (%llu so far)\n",
                d->len, (int)d->pid, (unsigned)d->uid,
                why == COL_DECODE_MALFORMED ? "is not an OTLP ExportLogsServiceRequest"
                                            : col_decode_reason(why),
                col_count.bad + col_count.too_deep + col_count.too_big);
}

void col_logs_handle(const col_item_t *d)
{
    static col_arena_t *arena;
    col_logs_batch_t b = {0};
    col_decode_err_t why;

    if (d->from == COL_FROM_DGRAM)
        COL_COUNT(log_datagrams, 1);
    if (arena == NULL && (arena = col_arena_new()) == NULL) {
        COL_COUNT(queue_full, 1); /* out of memory: as if the queue were full */
        return;
    }
    b.wire = d->data + COL_FRAME_LEN;
    b.wire_len = d->len - COL_FRAME_LEN;
    b.r = col_logs_request_decode(arena, b.wire, b.wire_len, &why);
    if (b.r == NULL) {
        col_arena_reset(arena);
        col_logs_refused(d, why);
        return;
    }
    b.records = col_logs_count(b.r);
    COL_COUNT(log_decoded, d->from == COL_FROM_DGRAM);
    COL_COUNT(log_records, b.records);
    if (b.records) {
        b.now_ms = col_now_ms();
        col_sinks_take_logs(&b);
    }
    col_arena_reset(arena);
}
