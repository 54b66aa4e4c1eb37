/*
 * col_vstore_int.h - the viewer store's records, for the modules that read
 * them under its lock (col_vstore.c, col_vmap.c); nothing else includes it.
 */
#ifndef COL_VSTORE_INT_H
#define COL_VSTORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "col_json.h"

typedef struct col_vspan {
    uint8_t id[8], parent[8];
    int has_id, has_parent;
    uint64_t start, end;
    int kind, error, in_flight;
    char *name, *service;
    char *json; /* an ExportTraceServiceRequest of this span alone */
    size_t bytes;
} col_vspan_t;

/* A log record of the trace: the span it was written in, if any. */
typedef struct col_vlog {
    uint8_t span[8];
    int has_span;
    uint64_t time;
    char *json; /* {"service":...,"record":{an OTLP/JSON LogRecord}} */
    size_t bytes;
} col_vlog_t;

typedef struct col_vtrace {
    struct col_vtrace *hnext;         /* in its bucket */
    struct col_vtrace *older, *newer; /* in the order first seen */
    uint8_t id[16];
    char hex[33];
    col_vspan_t *spans;
    size_t n, cap, bytes;
    col_vlog_t *logs;
    size_t n_logs, cap_logs;
} col_vtrace_t;

/* Taken by whoever reads or changes what follows. */
extern pthread_mutex_t col_vs_lock;
extern col_vtrace_t *col_vs_oldest; /* the traces, oldest first (->newer) */
extern size_t col_vs_traces;

/* The end of a span for durations: an in-flight span lasts as long as it
 * has been known to (its end as sent, at least its start). */
static inline uint64_t col_vs_end(const col_vspan_t *s)
{
    return s->end > s->start ? s->end : s->start;
}

/* ,"key":milliseconds with three decimals */
void col_vs_ms(col_buf_t *b, const char *key, uint64_t ns);

#endif
