/*
 * col_stats.c - the collector's counters as Prometheus text (see col_stats.h).
 */
#include "col_stats.h"
#include "col_metrics.h"
#include "col_options.h"

col_counts_t col_count;

#define COL_LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)

void col_stats_render(col_buf_t *b)
{
#define COL_RENDER(f, m, l, h, said) col_metrics_counter(b, m, l, h, COL_LOAD(col_count.f));
    COL_COUNTERS(COL_RENDER)
#undef COL_RENDER
}

void col_stats_totals(col_buf_t *b)
{
    const char *sep = "; ";

    unsigned long long http = COL_LOAD(col_count.http_pb) + COL_LOAD(col_count.http_json) +
                              COL_LOAD(col_count.http_logs_pb) + COL_LOAD(col_count.http_logs_json);

    col_buf_printf(b, "spanshim-collector: %llu spans", COL_LOAD(col_count.spans));
    if (COL_LOAD(col_count.log_records))
        col_buf_printf(b, " and %llu log records", COL_LOAD(col_count.log_records));
    col_buf_printf(b, " in %llu datagrams", COL_LOAD(col_count.datagrams));
    if (http)
        col_buf_printf(b, " and %llu OTLP/HTTP requests", http);
    if (COL_LOAD(col_count.replayed)) {
        int i;

        col_buf_printf(b, " and %llu lines of ", COL_LOAD(col_count.replayed));
        for (i = 0; i < col_opt.n_replay; i++)
            col_buf_printf(b, "%s%s", i == 0 ? "" : i == col_opt.n_replay - 1 ? " and " : ", ",
                           col_opt.replay[i]);
    }
#define COL_SAY(f, m, l, h, said)                                                           \
    if ((said) != NULL && COL_LOAD(col_count.f)) {                                          \
        col_buf_printf(b, "%s%llu %s", sep, COL_LOAD(col_count.f), (const char *)(said));   \
        sep = ", ";                                                                        \
    }
    COL_COUNTERS(COL_SAY)
#undef COL_SAY
    if (sep[0] == ';')
        col_buf_puts(b, "; no datagram dropped");
}

int col_stats_troubled(void)
{
    int any = 0;

#define COL_ANY(f, m, l, h, said) any |= (said) != NULL && COL_LOAD(col_count.f) != 0;
    COL_COUNTERS(COL_ANY)
#undef COL_ANY
    return any;
}
