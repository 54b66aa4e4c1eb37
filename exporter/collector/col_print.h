/*
 * col_print.h - --print: each trace as an indented tree, once complete.
 *
 * Spans are held per trace until the trace has been quiet for
 * COL_PRINT_QUIET_MS (the spans of one request arrive from several
 * processes within a moment of each other), then printed parent above
 * child, each line with service, span name, kind, status, the HTTP
 * status (a database span's status code, or error.type, when it failed)
 * and duration, then a failed database span's query, on one line and cut.
 * Work per span is bounded whatever comes in: traces are found through a
 * hash table; at most COL_PRINT_MAX_SPANS are held, and a span past that
 * prints the least recently active trace at once; a trace holds at most
 * COL_PRINT_TRACE_SPANS (more are counted, not printed); a trace prints
 * in O(n log n). Names, codes and queries are escaped for the terminal
 * (col_term.h).
 */
#ifndef COL_PRINT_H
#define COL_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "col_otlp.h"

#define COL_PRINT_QUIET_MS 500
#define COL_PRINT_MAX_SPANS 10000
#define COL_PRINT_TRACE_SPANS 1000
/* Log records are held with their trace (COL_PRINT_MAX_LOGS in all, a
 * trace at most COL_PRINT_TRACE_LOGS) and printed under their span; a
 * record of no trace is printed as it comes. */
#define COL_PRINT_MAX_LOGS 10000
#define COL_PRINT_TRACE_LOGS 1000
#define COL_PRINT_LOG_COLS 120 /* of a record's body shown */

#define COL_PRINT_COUNTERS(X)                                                       \
    X(traces_early, "traces printed before they were quiet: too many spans held")  \
    X(spans_cut, "spans not printed: their trace already held the most it may")     \
    X(logs_cut, "log records not printed: their trace already held the most it may")

typedef struct col_print_counts {
#define COL_PRINT_FIELD(name, what) unsigned long long name;
    COL_PRINT_COUNTERS(COL_PRINT_FIELD)
#undef COL_PRINT_FIELD
} col_print_counts_t;

extern col_print_counts_t col_print_count;

/* Hold r's spans; print to out what the caps push out. */
void col_print_add(FILE *out, const col_request_t *r, uint64_t now_ms);
/* Hold r's log records with their traces (print those of no trace now). */
void col_print_add_logs(FILE *out, const col_logs_request_t *r, uint64_t now_ms);
/* Print traces quiet since now_ms - COL_PRINT_QUIET_MS (all if force). */
void col_print_due(FILE *out, uint64_t now_ms, int force);

#endif
