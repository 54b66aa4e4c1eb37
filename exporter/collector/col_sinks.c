/*
 * col_sinks.c - the chain of sinks (see col_sink.h): the wanted ones of
 * col_sinks.def, in its order.
 */
#include "col_sink.h"

#define COL_SINK(name) &col_sink_##name,
static const col_sink_t *const col_all_sinks[] = {
#include "col_sinks.def"
};
#undef COL_SINK

#define COL_N_SINKS (sizeof(col_all_sinks) / sizeof(col_all_sinks[0]))

static const col_sink_t *col_on[COL_N_SINKS];
static size_t col_n_on;

int col_sinks_start(void)
{
    size_t i;

    col_n_on = 0;
    for (i = 0; i < COL_N_SINKS; i++) {
        const col_sink_t *k = col_all_sinks[i];

        if (!k->wanted())
            continue;
        if (k->start && !k->start())
            return 0;
        col_on[col_n_on++] = k;
    }
    return 1;
}

/* Through the wanted sinks from index i on, until one holds the batch. */
static void col_sinks_from(size_t i, col_batch_t *b)
{
    for (; i < col_n_on; i++)
        if (col_on[i]->take && col_on[i]->take(b) == COL_HELD)
            return;
}

void col_sinks_take(col_batch_t *b)
{
    col_sinks_from(0, b);
    if (b->arena)
        col_arena_reset(b->arena);
}

void col_sinks_take_logs(col_logs_batch_t *b)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->take_logs)
            col_on[i]->take_logs(b);
}

void col_sinks_after(const col_sink_t *from, col_batch_t *b)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i] == from) {
            col_sinks_from(i + 1, b);
            return;
        }
}

void col_sinks_tick(uint64_t now_ms, int last)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->tick)
            col_on[i]->tick(now_ms, last);
}

int col_sinks_stop(long left_ms)
{
    int done = 1;
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->stop && !col_on[i]->stop(left_ms))
            done = 0;
    return done;
}

void col_sinks_reopen(void)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->reopen)
            col_on[i]->reopen();
}

/* Every sink's counters, wanted or not: /metrics shows the same series
 * whatever the options (a zero says the sink is off or idle). */
void col_sinks_render(col_buf_t *b)
{
    size_t i;

    for (i = 0; i < COL_N_SINKS; i++)
        if (col_all_sinks[i]->render)
            col_all_sinks[i]->render(b);
}

void col_sinks_totals(col_buf_t *b)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->totals)
            col_on[i]->totals(b);
}

int col_sinks_troubled(void)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->troubled && col_on[i]->troubled())
            return 1;
    return 0;
}

int col_sinks_may_skip_decode(void)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->take && col_on[i]->needs_request == NULL)
            return 0;
    return 1;
}

int col_sinks_want_json(void)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->takes_json)
            return 1;
    return 0;
}

int col_sinks_need_request(const col_batch_t *b)
{
    size_t i;

    for (i = 0; i < col_n_on; i++)
        if (col_on[i]->take && (col_on[i]->needs_request == NULL || col_on[i]->needs_request(b)))
            return 1;
    return 0;
}
