/*
 * col_stats.c - the collector's counters as Prometheus text (see col_stats.h).
 */
#include "col_stats.h"
#include "col_forward.h"
#include "col_metrics.h"
#include "col_print.h"
#include "col_tail.h"

col_counts_t col_count;

#define COL_LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)

void col_stats_render(col_buf_t *b)
{
#define COL_RENDER(f, m, l, h) col_metrics_counter(b, m, l, h, COL_LOAD(col_count.f));
    COL_COUNTERS(COL_RENDER)
#undef COL_RENDER
#define COL_RENDER_FWD(name, what) \
    col_metrics_counter(b, "spanshim_collector_forward_" #name "_total", NULL, what, \
                        COL_LOAD(col_fwd_count.name));
    COL_FWD_COUNTERS(COL_RENDER_FWD)
#undef COL_RENDER_FWD
#define COL_RENDER_TAIL(name, what) \
    col_metrics_counter(b, "spanshim_collector_tail_" #name "_total", NULL, what, \
                        COL_LOAD(col_tail_count.name));
    COL_TAIL_COUNTERS(COL_RENDER_TAIL)
#undef COL_RENDER_TAIL
#define COL_RENDER_PRINT(name, what) \
    col_metrics_counter(b, "spanshim_collector_print_" #name "_total", NULL, what, \
                        COL_LOAD(col_print_count.name));
    COL_PRINT_COUNTERS(COL_RENDER_PRINT)
#undef COL_RENDER_PRINT
}
