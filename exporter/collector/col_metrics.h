/*
 * col_metrics.h - RED metrics and the service graph, derived from every
 * span received (before any sampling), in Prometheus text (see
 * col_metrics.c). Thread-safe: spans come from the main thread, scrapes
 * from the HTTP server's.
 */
#ifndef COL_METRICS_H
#define COL_METRICS_H

#include <stdint.h>

#include "col_json.h"
#include "col_otlp.h"

/* Count r's spans; pair client and server spans into graph edges. */
void col_metrics_add(const col_request_t *r, uint64_t now_ms);

/* Append the span metrics and the service graph to b. */
void col_metrics_render(col_buf_t *b);

/* For the unit tests: forget every series and every span waiting for
 * its other side, and zero the counts, as if nothing had come. */
void col_metrics_reset(void);

/* Append one counter in Prometheus text; HELP and TYPE lines too when
 * help is given (the first series of a family). */
void col_metrics_counter(col_buf_t *b, const char *name, const char *labels, const char *help,
                         unsigned long long v);

/* Append name="value" (after a comma if b holds labels already), the value
 * cut and escaped as the label values of every series here are. */
void col_metrics_label(col_buf_t *b, const char *name, const char *v);

#endif
