/*
 * col_sink.h - where decoded spans go: one small interface for every sink.
 *
 * A batch (one decoded ExportTraceServiceRequest, whoever sent it: a shim's
 * datagram or an SDK's OTLP/HTTP request) is handed to each sink in the
 * order of col_sinks.def. A sink that only looks (metrics, the viewer)
 * returns COL_PASS and the batch goes on; a sink that holds batches to
 * decide later (tail sampling) takes the batch and its arena
 * (b->arena = NULL), returns COL_HELD, and hands what it keeps to the sinks
 * after it with col_sinks_after(). Everything a sink does runs on the
 * collector's main thread, except what it starts itself (a server, a
 * sending thread); what it counts it renders on /metrics and in the exit
 * line through its own functions, so the main file knows no sink's fields.
 *
 * Adding a sink: its module (the col_sink_t at its end), its options in
 * col_options.[ch] (col_opt), one line in col_sinks.def. A batch a held
 * sink hands on has arena NULL: no later sink may keep it.
 */
#ifndef COL_SINK_H
#define COL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "col_json.h"
#include "col_otlp.h"

typedef struct col_batch {
    col_request_t *r;   /* NULL when no sink needs it (then json is set) */
    size_t spans;       /* in the batch */
    col_arena_t *arena; /* r's; a sink that keeps r sets it to NULL and frees it later */
    uint64_t now_ms;    /* CLOCK_MONOTONIC, when the batch was handled */
    col_buf_t *json;    /* its OTLP JSON, written from the wire (col_json_wire), or NULL
                         * (also when no sink takes_json); a sink may append to it */
    int spanshim_res;   /* from the walk: a resource attribute key begins "spanshim." */
    int in_flight;      /* from the walk: a span may be a report of one still open */
    const uint8_t *wire; /* with json: the request's protobuf bytes, as received */
    size_t wire_len;
} col_batch_t;

/* A batch of log records (one decoded ExportLogsServiceRequest: a shim's
 * logs datagram or an OTLP/HTTP POST /v1/logs). Logs are never held: each
 * sink that takes them looks, copies what it keeps, and passes them on. */
typedef struct col_logs_batch {
    col_logs_request_t *r;
    size_t records;      /* in the batch */
    uint64_t now_ms;     /* CLOCK_MONOTONIC, when the batch was handled */
    const uint8_t *wire; /* r's protobuf bytes as received (after the frame) */
    size_t wire_len;
    int changed;         /* a sink took something out of r: wire says more than r */
} col_logs_batch_t;

enum { COL_PASS = 0, COL_HELD = 1 };

typedef struct col_sink {
    const char *name;
    /* Whether the options ask for this sink at all. */
    int (*wanted)(void);
    /* Start it (open files, listen, start threads): 0 after an error line
     * stops the collector from starting. NULL: nothing to start. */
    int (*start)(void);
    /* A batch: COL_PASS, or COL_HELD when the sink now owns it. */
    int (*take)(col_batch_t *b);
    /* Whether take() needs b->r for a batch whose JSON the collector made
     * from the wire without decoding (b->json, b->spanshim_res set). NULL:
     * always. When no wanted sink needs it, the batch is never decoded. */
    int (*needs_request)(const col_batch_t *b);
    /* Whether take() reads b->json. When no wanted sink does, the wire is
     * only read through (its spans counted, what decoding needs it found),
     * its JSON not written. */
    int takes_json;
    /* Called on the main thread at least every 100 ms; `last` once, when no
     * batch will come any more (the stop): emit everything held, by
     * col_stop_deadline() (col_stop.h). NULL: no timer work. */
    void (*tick)(uint64_t now_ms, int last);
    /* After the last tick: finish within left_ms. 0 if work is left that a
     * thread still does (the process then leaves with _exit). NULL: none. */
    int (*stop)(long left_ms);
    /* SIGHUP: reopen what logrotate moved. NULL: nothing to reopen. */
    void (*reopen)(void);
    /* Its counters as Prometheus text, and its part of the exit line
     * (appended after "; "). NULL: none. */
    void (*render)(col_buf_t *b);
    void (*totals)(col_buf_t *b);
    /* Whether a counter says something went wrong (forces the exit line). */
    int (*troubled)(void);
    /* A batch of log records, in the same order as spans go (a sink that
     * holds spans, tail sampling, lets logs by). NULL: the sink takes no
     * logs. */
    void (*take_logs)(col_logs_batch_t *b);
} col_sink_t;

/* Every sink: col_sinks.def, in the order batches go through them. */
#define COL_SINK_DECLARE(name) extern const col_sink_t col_sink_##name;
#define COL_SINK(name) COL_SINK_DECLARE(name)
#include "col_sinks.def"
#undef COL_SINK

/* The wanted sinks started, in order; 0 if one could not start. */
int col_sinks_start(void);
/* A decoded batch into the first sink. Frees b->arena unless a sink kept it. */
void col_sinks_take(col_batch_t *b);
/* A held batch (r in arena) into the sinks after `from`; arena is the
 * caller's again afterwards unless a later sink kept it (then NULL). */
/* A decoded batch of log records through every wanted sink that takes them. */
void col_sinks_take_logs(col_logs_batch_t *b);
void col_sinks_after(const col_sink_t *from, col_batch_t *b);
void col_sinks_tick(uint64_t now_ms, int last);
int col_sinks_stop(long left_ms);
void col_sinks_reopen(void);
void col_sinks_render(col_buf_t *b);
void col_sinks_totals(col_buf_t *b);
int col_sinks_troubled(void);
/* Whether every wanted sink can do without the decoded request for some
 * batches (each has needs_request): only then is the wire walked first. */
int col_sinks_may_skip_decode(void);
/* Whether a wanted sink reads a batch's JSON from the wire. */
int col_sinks_want_json(void);
/* Whether a wanted sink needs b decoded. */
int col_sinks_need_request(const col_batch_t *b);

#endif
