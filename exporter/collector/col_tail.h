/*
 * col_tail.h - tail sampling: keep every error, every slow request, and a
 * share of the rest, deciding per trace once it is complete (see col_tail.c).
 */
#ifndef COL_TAIL_H
#define COL_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "col_otlp.h"

typedef struct col_tail_cfg {
    long wait_ms;       /* decide a trace this long after its last span */
    long latency_ms;    /* keep traces with a span longer than this */
    double ratio;       /* keep this share of the others */
    size_t max_traces;  /* held at once; past it, the oldest are decided early */
    size_t max_spans;   /* the same, in spans */
    size_t max_bytes;   /* the same, in bytes of the decoded batches held */
} col_tail_cfg_t;

/* What kept spans go to (the collector's sinks). */
typedef void (*col_tail_emit_fn)(const col_request_t *r, size_t spans);

#define COL_TAIL_COUNTERS(X)                                                 \
    X(traces_kept_error, "traces kept: a span was an error")                 \
    X(traces_kept_latency, "traces kept: a span was slower than the threshold") \
    X(traces_kept_probabilistic, "traces kept by the ratio")                 \
    X(traces_dropped, "traces dropped by the ratio")                         \
    X(traces_decided_early, "traces decided before their wait: too many traces, spans or bytes held") \
    X(spans_kept, "spans kept")                                              \
    X(spans_dropped, "spans dropped")                                        \
    X(late_spans, "spans that came after their trace was decided")          \
    X(spans_unwritten_at_stop, "spans held when the stop timeout ended, not written")

typedef struct col_tail_counts {
#define COL_TAIL_FIELD(name, what) unsigned long long name;
    COL_TAIL_COUNTERS(COL_TAIL_FIELD)
#undef COL_TAIL_FIELD
} col_tail_counts_t;

extern col_tail_counts_t col_tail_count;

void col_tail_init(const col_tail_cfg_t *cfg, col_tail_emit_fn emit);

/* Hold r's spans (r and the arena it was decoded into are the caller's no
 * more: they are freed when r's last span is decided). */
void col_tail_add(col_request_t *r, col_arena_t *arena, uint64_t now_ms);

/* Decide the traces whose wait is over (all of them if `all`). */
void col_tail_due(uint64_t now_ms, int all);

/* At a stop: decide every trace held, oldest first, while now_ms() is
 * before deadline_ms; the rest go unwritten (spans_unwritten_at_stop). */
void col_tail_stop(uint64_t (*now_ms)(void), uint64_t deadline_ms);

/* For the unit tests, between one configuration and the next: decide what
 * is held (as at a stop), forget the remembered decisions, zero the
 * counters; col_tail_init may then be called again. */
void col_tail_reset(void);

#endif
