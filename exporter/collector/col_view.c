/*
 * col_view.c - the trace viewer's sink, wanted when --ui is given: the
 * store it fills (col_vstore.h) and the web server that reads it
 * (col_ui.h). It only looks: every batch goes on to the sinks after it.
 */
#define _GNU_SOURCE
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_ui.h"
#include "col_vstore.h"

static int col_view_wanted(void)
{
    return col_opt.ui_listen != NULL;
}

static int col_view_start(void)
{
    col_vstore_init(&col_opt.ui_cfg);
    return col_ui_start(col_opt.ui_listen);
}

static int col_view_take(col_batch_t *b)
{
    col_vstore_add(b->r);
    return COL_PASS;
}

static void col_view_take_logs(col_logs_batch_t *b)
{
    col_vstore_add_logs(b->r);
}

static int col_view_stop(long left_ms)
{
    (void)left_ms;
    col_ui_stop();
    col_vstore_clear();
    return 1;
}

static void col_view_gauge(col_buf_t *b, const char *name, const char *help, size_t v)
{
    col_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %zu\n", name, help, name, name, v);
}

static void col_view_render(col_buf_t *b)
{
    size_t traces, spans, bytes;

#define COL_VIEW_RENDER(name, what)                                                         \
    col_metrics_counter(b, "spanshim_collector_view_" #name "_total", NULL, what,          \
                        __atomic_load_n(&col_vstore_count.name, __ATOMIC_RELAXED));
    COL_VSTORE_COUNTERS(COL_VIEW_RENDER)
#undef COL_VIEW_RENDER
    col_vstore_held(&traces, &spans, &bytes);
    col_view_gauge(b, "spanshim_collector_view_traces", "Traces the viewer holds.", traces);
    col_view_gauge(b, "spanshim_collector_view_spans", "Spans the viewer holds.", spans);
    col_view_gauge(b, "spanshim_collector_view_bytes", "Bytes the viewer's store takes.", bytes);
}

static void col_view_totals(col_buf_t *b)
{
#define COL_VIEW_LOAD(name) __atomic_load_n(&col_vstore_count.name, __ATOMIC_RELAXED)
    col_buf_printf(b, "the viewer kept %llu spans (%llu replacing one), let %llu older traces "
                      "(%llu spans) go, left out %llu spans (over %d in a trace), %llu for room",
                   COL_VIEW_LOAD(spans_kept), COL_VIEW_LOAD(spans_replaced),
                   COL_VIEW_LOAD(traces_evicted), COL_VIEW_LOAD(spans_evicted),
                   COL_VIEW_LOAD(spans_cut), COL_VSTORE_TRACE_SPANS, COL_VIEW_LOAD(spans_no_room));
    if (COL_VIEW_LOAD(logs_kept) + COL_VIEW_LOAD(logs_cut) + COL_VIEW_LOAD(logs_no_room))
        col_buf_printf(b, ", kept %llu log records, left out %llu (over %d in a trace), %llu for "
                          "room", COL_VIEW_LOAD(logs_kept), COL_VIEW_LOAD(logs_cut),
                       COL_VSTORE_TRACE_LOGS, COL_VIEW_LOAD(logs_no_room));
#undef COL_VIEW_LOAD
}

const col_sink_t col_sink_view = {
    .name = "view",
    .wanted = col_view_wanted,
    .start = col_view_start,
    .take = col_view_take,
    .stop = col_view_stop,
    .render = col_view_render,
    .totals = col_view_totals,
    .take_logs = col_view_take_logs,
};
