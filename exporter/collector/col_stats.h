/*
 * col_stats.h - the collector's own counters: what came in, what was
 * dropped and why, what went out. Shown on /metrics and in one line at exit.
 */
#ifndef COL_STATS_H
#define COL_STATS_H

#include "col_json.h"

/* X(field, metric, labels, help, said): help only on a family's first
 * series; `said`, when not NULL, is how the exit line names the count (it
 * shows only counts that are not zero). */
#define COL_COUNTERS(X)                                                                       \
    X(datagrams, "spanshim_collector_datagrams_total", NULL, "Datagrams received.", NULL)     \
    X(decoded, "spanshim_collector_datagrams_decoded_total", NULL,                            \
      "Datagrams that decoded as OTLP ExportTraceServiceRequest.", NULL)                      \
    X(spans, "spanshim_collector_spans_total", NULL,                                          \
      "Spans received, in decoded datagrams and OTLP/HTTP requests.", NULL)                   \
    X(bad, "spanshim_collector_datagrams_dropped_total", "reason=\"not_otlp\"",               \
      "Datagrams dropped, by reason.", "not OTLP")                                           \
    X(oversized, "spanshim_collector_datagrams_dropped_total", "reason=\"oversized\"", NULL,  \
      "oversized")                                                                            \
    X(too_deep, "spanshim_collector_datagrams_dropped_total", "reason=\"too_deep\"", NULL,    \
      "nested too deep")                                                                      \
    X(too_big, "spanshim_collector_datagrams_dropped_total", "reason=\"too_big_decoded\"",    \
      NULL, "too big decoded")                                                                \
    X(queue_full, "spanshim_collector_datagrams_dropped_total", "reason=\"queue_full\"", NULL, \
      "dropped behind")                                                                       \
    X(refused_uid, "spanshim_collector_datagrams_dropped_total", "reason=\"refused_uid\"",    \
      NULL, "from refused uids")                                                              \
    X(unhandled, "spanshim_collector_datagrams_dropped_total", "reason=\"stop_timeout\"",     \
      NULL, "datagrams not handled within the stop timeout")                                 \
    X(refused_lineage, "spanshim_collector_datagrams_dropped_total",                          \
      "reason=\"not_descendant\"", NULL, "from outside the traced program's processes")      \
    X(replayed, "spanshim_collector_replay_lines_total", NULL,                                \
      "Lines of the --replay files read in.", NULL)                                            \
    X(replay_bad, "spanshim_collector_replay_lines_bad_total", NULL,                          \
      "Lines of the --replay files that are not OTLP/JSON (skipped).",                         \
      "lines of the --replay files not OTLP/JSON")                                             \
    X(http_pb, "spanshim_collector_otlp_http_requests_total", "encoding=\"protobuf\"",       \
      "OTLP/HTTP requests POSTed to /v1/traces, by encoding.", NULL)                          \
    X(http_json, "spanshim_collector_otlp_http_requests_total", "encoding=\"json\"", NULL,    \
      NULL)                                                                                   \
    X(http_spans, "spanshim_collector_otlp_http_spans_total", NULL,                           \
      "Spans accepted from OTLP/HTTP requests.", NULL)                                        \
    X(http_rejected, "spanshim_collector_otlp_http_spans_rejected_total",                     \
      "reason=\"bad_id\"",                                                                    \
      "Spans of OTLP/HTTP requests rejected (partial success), by reason.",                   \
      "OTLP/HTTP spans rejected for their ids")                                               \
    X(http_loss_attrs, "spanshim_collector_otlp_http_loss_attributes_ignored_total", NULL,  \
      "Shim loss attributes (spanshim.spans_dropped.*) taken out of OTLP/HTTP requests.",    \
      "shim loss attributes from OTLP/HTTP ignored")                                          \
    X(http_not_found, "spanshim_collector_otlp_http_refused_total", "reason=\"not_found\"",   \
      "OTLP/HTTP requests refused, by reason.", "OTLP/HTTP requests to other paths")          \
    X(http_method, "spanshim_collector_otlp_http_refused_total", "reason=\"method\"", NULL,   \
      "OTLP/HTTP requests not POST")                                                          \
    X(http_media, "spanshim_collector_otlp_http_refused_total", "reason=\"media_type\"",      \
      NULL, "OTLP/HTTP requests of other content types or encodings")                         \
    X(http_too_large, "spanshim_collector_otlp_http_refused_total", "reason=\"too_large\"",   \
      NULL, "OTLP/HTTP requests too large")                                                   \
    X(http_too_slow, "spanshim_collector_otlp_http_refused_total", "reason=\"too_slow\"",     \
      NULL, "OTLP/HTTP requests whose body was not whole within 30 s")                        \
    X(http_bad, "spanshim_collector_otlp_http_refused_total", "reason=\"bad_request\"", NULL, \
      "OTLP/HTTP requests that did not decode")                                               \
    X(http_queue_full, "spanshim_collector_otlp_http_refused_total", "reason=\"queue_full\"", \
      NULL, "OTLP/HTTP requests refused behind")                                              \
    X(written, "spanshim_collector_jsonl_spans_total", NULL,                                  \
      "Spans written to the .jsonl file.", NULL)                                              \
    X(write_errors, "spanshim_collector_jsonl_write_errors_total", NULL,                      \
      "Batches the .jsonl file could not take (none of the batch is left in it).", NULL)      \
    X(unwritten, "spanshim_collector_jsonl_spans_not_written_total", NULL,                    \
      "Spans of the batches the .jsonl file could not take.", NULL)                           \
    X(log_datagrams, "spanshim_collector_log_datagrams_total", NULL,                          \
      "Logs datagrams received (counted among the datagrams too).", NULL)                     \
    X(log_decoded, "spanshim_collector_log_datagrams_decoded_total", NULL,                    \
      "Logs datagrams that decoded as OTLP ExportLogsServiceRequest.", NULL)                  \
    X(log_records, "spanshim_collector_log_records_total", NULL,                              \
      "Log records received, in decoded datagrams and OTLP/HTTP requests.", NULL)             \
    X(http_logs_pb, "spanshim_collector_otlp_http_log_requests_total", "encoding=\"protobuf\"", \
      "OTLP/HTTP requests POSTed to /v1/logs, by encoding.", NULL)                            \
    X(http_logs_json, "spanshim_collector_otlp_http_log_requests_total", "encoding=\"json\"",   \
      NULL, NULL)                                                                             \
    X(http_log_records, "spanshim_collector_otlp_http_log_records_total", NULL,               \
      "Log records accepted from OTLP/HTTP requests.", NULL)                                  \
    X(logs_written, "spanshim_collector_logs_jsonl_records_total", NULL,                      \
      "Log records written to the --logs-jsonl file.", NULL)                                  \
    X(logs_write_errors, "spanshim_collector_logs_jsonl_write_errors_total", NULL,            \
      "Batches of log records the --logs-jsonl file could not take.", NULL)                   \
    X(logs_unwritten, "spanshim_collector_logs_jsonl_records_not_written_total", NULL,        \
      "Log records of the batches the --logs-jsonl file could not take.", NULL)

typedef struct col_counts {
#define COL_COUNT_FIELD(f, m, l, h, said) unsigned long long f;
    COL_COUNTERS(COL_COUNT_FIELD)
#undef COL_COUNT_FIELD
} col_counts_t;

extern col_counts_t col_count;

#define COL_COUNT(f, n) __atomic_add_fetch(&col_count.f, (n), __ATOMIC_RELAXED)

/* The collector's own counters as Prometheus text (each sink renders its
 * own: col_sink.h). */
void col_stats_render(col_buf_t *b);
/* The exit line's first part: spans and datagrams, then each count with a
 * `said` that is not zero ("no datagram dropped" when there is none). */
void col_stats_totals(col_buf_t *b);
/* Whether a datagram was dropped for any reason. */
int col_stats_troubled(void);

#endif
