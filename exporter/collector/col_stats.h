/*
 * col_stats.h - the collector's own counters: what came in, what was
 * dropped and why, what went out. Shown on /metrics and in one line at exit.
 */
#ifndef COL_STATS_H
#define COL_STATS_H

#include "col_json.h"

/* X(field, metric, labels, help): help only on a family's first series. */
#define COL_COUNTERS(X)                                                                       \
    X(datagrams, "spanshim_collector_datagrams_total", NULL, "Datagrams received.")           \
    X(decoded, "spanshim_collector_datagrams_decoded_total", NULL,                            \
      "Datagrams that decoded as OTLP ExportTraceServiceRequest.")                            \
    X(spans, "spanshim_collector_spans_total", NULL, "Spans received in decoded datagrams.")  \
    X(bad, "spanshim_collector_datagrams_dropped_total", "reason=\"not_otlp\"",               \
      "Datagrams dropped, by reason.")                                                        \
    X(oversized, "spanshim_collector_datagrams_dropped_total", "reason=\"oversized\"", NULL)  \
    X(too_deep, "spanshim_collector_datagrams_dropped_total", "reason=\"too_deep\"", NULL)    \
    X(too_big, "spanshim_collector_datagrams_dropped_total", "reason=\"too_big_decoded\"", NULL) \
    X(queue_full, "spanshim_collector_datagrams_dropped_total", "reason=\"queue_full\"", NULL) \
    X(refused_uid, "spanshim_collector_datagrams_dropped_total", "reason=\"refused_uid\"", NULL) \
    X(unhandled, "spanshim_collector_datagrams_dropped_total", "reason=\"stop_timeout\"", NULL) \
    X(refused_lineage, "spanshim_collector_datagrams_dropped_total",                          \
      "reason=\"not_descendant\"", NULL)                                                      \
    X(written, "spanshim_collector_jsonl_spans_total", NULL, "Spans written to the .jsonl file.") \
    X(write_errors, "spanshim_collector_jsonl_write_errors_total", NULL,                      \
      "Batches the .jsonl file could not take (none of the batch is left in it).")             \
    X(unwritten, "spanshim_collector_jsonl_spans_not_written_total", NULL,                    \
      "Spans of the batches the .jsonl file could not take.")

typedef struct col_counts {
#define COL_COUNT_FIELD(f, m, l, h) unsigned long long f;
    COL_COUNTERS(COL_COUNT_FIELD)
#undef COL_COUNT_FIELD
} col_counts_t;

extern col_counts_t col_count;

#define COL_COUNT(f, n) __atomic_add_fetch(&col_count.f, (n), __ATOMIC_RELAXED)

/* Every counter (the collector's, forwarding's, tail sampling's) as
 * Prometheus text. */
void col_stats_render(col_buf_t *b);

#endif
