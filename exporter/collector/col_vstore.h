/*
 * col_vstore.h - the trace viewer's store: the most recent traces, in
 * memory, bounded, and what the viewer's JSON API says about them.
 *
 * The main thread adds spans (col_vstore_add); the web server's threads
 * read (the *_json functions); one lock keeps them apart. Each span is kept
 * as the OTLP JSON of a request holding just it with its resource and
 * scope (what a .jsonl line would say of it), plus the few fields the
 * lists and the service map are made of. Bounded three ways: traces,
 * spans and bytes (spans, their JSON, the traces' records); past any of
 * them the oldest trace (the first seen) goes, and is counted. One trace
 * keeps at most COL_VSTORE_TRACE_SPANS spans; more are counted and not
 * kept. A span that comes again with the same span id replaces the one
 * held (an in-flight span, marked spanshim.span.in_flight=true, is later
 * sent whole), except that an in-flight one never replaces a whole one.
 * Log records of a trace are kept beside its spans (col_vstore_add_logs),
 * as their record's OTLP JSON, at most COL_VSTORE_TRACE_LOGS a trace, in
 * its bytes: a record may come before its trace's spans, and makes the
 * trace as a span would. A record of no trace is not kept (counted).
 */
#ifndef COL_VSTORE_H
#define COL_VSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "col_json.h"
#include "col_otlp.h"

#define COL_VSTORE_TRACES 1000   /* --ui-max-traces' default */
#define COL_VSTORE_SPANS 100000  /* --ui-max-spans' default */
#define COL_VSTORE_MB 64         /* --ui-max-mb's default */
#define COL_VSTORE_TRACE_SPANS 1000
#define COL_VSTORE_TRACE_LOGS 1000
#define COL_VSTORE_LIST_MAX 1000 /* a list's `limit` at most (100 by default) */
#define COL_VSTORE_IN_FLIGHT "spanshim.span.in_flight"

typedef struct col_vstore_cfg {
    size_t max_traces, max_spans, max_bytes;
} col_vstore_cfg_t;

#define COL_VSTORE_COUNTERS(X)                                                             \
    X(spans_kept, "spans the viewer kept (replacements included)")                         \
    X(spans_replaced, "spans that replaced one with the same span id")                     \
    X(spans_stale, "in-flight spans not kept: the whole span was already held")            \
    X(spans_cut, "spans not kept: their trace already held the most it may")               \
    X(spans_no_room, "spans not kept: larger than the viewer may hold, or out of memory")  \
    X(spans_invalid, "spans not kept: no 16-byte trace id")                                \
    X(traces_evicted, "traces the viewer let go for newer ones (a cap was reached)")       \
    X(spans_evicted, "spans of the traces the viewer let go")                              \
    X(logs_kept, "log records the viewer kept")                                            \
    X(logs_cut, "log records not kept: their trace already held the most it may")          \
    X(logs_no_room, "log records not kept: larger than the viewer may hold, or out of memory") \
    X(logs_no_trace, "log records not kept: of no trace (no 16-byte trace id)")             \
    X(logs_evicted, "log records of the traces the viewer let go")

typedef struct col_vstore_counts {
#define COL_VSTORE_FIELD(name, what) unsigned long long name;
    COL_VSTORE_COUNTERS(COL_VSTORE_FIELD)
#undef COL_VSTORE_FIELD
} col_vstore_counts_t;

extern col_vstore_counts_t col_vstore_count;

/* Set the caps (any 0: its default); may be called again after
 * col_vstore_clear(). */
void col_vstore_init(const col_vstore_cfg_t *cfg);
/* Keep r's spans (r is the caller's: everything is copied). */
void col_vstore_add(const col_request_t *r);
/* Keep r's log records with their traces (r is the caller's). */
void col_vstore_add_logs(const col_logs_request_t *r);
/* Let every trace go (the counters stay). */
void col_vstore_clear(void);
/* What is held now. */
void col_vstore_held(size_t *traces, size_t *spans, size_t *bytes);

/* Which traces a list shows. */
typedef struct col_vstore_filter {
    char service[256]; /* "": any; else a span of this service */
    int status;        /* -1 any, 0 no error span, 1 an error span */
    uint64_t min_ns, max_ns; /* duration; max_ns 0: no upper bound */
    char trace_id[33]; /* lowercase hex prefix; "": any */
    size_t limit;
} col_vstore_filter_t;

void col_vstore_filter_init(col_vstore_filter_t *f);
/* One query argument (key=value) into f: 1, or 0 with *why when the value
 * is not one the key takes. Unknown keys are ignored. */
int col_vstore_filter_set(col_vstore_filter_t *f, const char *key, const char *value,
                          const char **why);

/* GET /api/traces: the traces f matches, the latest started first. */
void col_vstore_traces_json(col_buf_t *b, const col_vstore_filter_t *f);
/* GET /api/trace?id=: one trace with every span and, in "logs", every log
 * record kept ({"service":...,"record":{...}}); 0 if none has that id. */
int col_vstore_trace_json(col_buf_t *b, const char *hex_id);
/* GET /api/services: the service map of the traces held (col_vmap.c). */
void col_vstore_services_json(col_buf_t *b);

#endif
