/*
 * col_print.h - --print: each trace as an indented tree, once complete.
 *
 * Spans are held per trace until the trace has been quiet for
 * COL_PRINT_QUIET_MS (the spans of one request arrive from several
 * processes within a moment of each other), then printed parent above
 * child, each line with service, span name, kind, status and duration.
 * At most COL_PRINT_MAX_SPANS are held; past that the oldest trace is
 * printed early.
 */
#ifndef COL_PRINT_H
#define COL_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "col_otlp.h"

#define COL_PRINT_QUIET_MS 500
#define COL_PRINT_MAX_SPANS 10000

void col_print_add(const col_request_t *r, uint64_t now_ms);
/* Print traces quiet since now_ms - COL_PRINT_QUIET_MS (all if force). */
void col_print_due(FILE *out, uint64_t now_ms, int force);

#endif
