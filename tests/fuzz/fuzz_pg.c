/*
 * fuzz_pg.c - libFuzzer target for the PostgreSQL protocol follower
 * (ss_pg.h).
 *
 * Input: a flags byte (bit 0 clear: a StartupMessage and its answer are
 * fed first, to reach the later messages), then chunks, each a byte (bit
 * 7: the server's direction; bits 0-6: the chunk's length) and its bytes.
 * Whatever they are:
 *   - no crash, every reported field NUL-terminated within its cap;
 *   - never more done() calls than start() calls, each with a tag start()
 *     gave, in the order given;
 *   - fed whole, or byte by byte, the same starts, operations and result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_pg.h"

typedef struct {
    uint64_t starts, dones, last_done, hash;
} trace_t;

static void mix(trace_t *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t k;

    for (k = 0; k < n; k++)
        t->hash = (t->hash ^ b[k]) * 1099511628211ull;
}

static uint64_t on_start(void *arg)
{
    trace_t *t = arg;

    mix(t, "s", 1);
    return ++t->starts;
}

static void field(trace_t *t, const char *f, size_t cap)
{
    const char *nul = memchr(f, '\0', cap);

    if (!nul)
        abort();
    mix(t, f, (size_t)(nul - f) + 1);
}

static void on_done(void *arg, const ss_db_op_t *op)
{
    trace_t *t = arg;

    /* tags come back once each, oldest first */
    if (++t->dones > t->starts || op->tag <= t->last_done || op->tag > t->starts)
        abort();
    t->last_done = op->tag;
    field(t, op->operation, sizeof(op->operation));
    field(t, op->collection, sizeof(op->collection));
    field(t, op->namespace_, sizeof(op->namespace_));
    field(t, op->query_text, sizeof(op->query_text));
    field(t, op->summary, sizeof(op->summary));
    field(t, op->status_code, sizeof(op->status_code));
    mix(t, &op->tag, sizeof(op->tag));
    mix(t, &op->error, 1);
    mix(t, &op->batch_size, sizeof(op->batch_size));
}

/* A StartupMessage and AuthenticationOk/ReadyForQuery, to reach the messages. */
static const uint8_t startup[] = {0, 0, 0, 21, 0, 3, 0, 0, 'd', 'a', 't', 'a', 'b', 'a', 's',
                                  'e', 0, 'd', 'b', 0, 0};
static const uint8_t ready[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'};

static int run(const uint8_t *data, size_t size, int bytewise, trace_t *t, ss_pg_t *pg)
{
    ss_db_sink_t sink = {t, on_start, on_done, NULL};
    size_t at = 1;
    int go = 1;

    memset(t, 0, sizeof(*t));
    ss_pg_init(pg);
    if (!(data[0] & 1)) {
        go = ss_pg_feed(pg, SS_DB_OUT, startup, sizeof(startup), &sink);
        go = go && ss_pg_feed(pg, SS_DB_IN, ready, sizeof(ready), &sink);
    }
    while (go && at < size) {
        ss_db_dir_t dir = (data[at] & 0x80) ? SS_DB_IN : SS_DB_OUT;
        size_t n = data[at] & 0x7f, k;

        at++;
        if (n > size - at)
            n = size - at;
        if (!bytewise)
            go = ss_pg_feed(pg, dir, data + at, n, &sink);
        for (k = 0; bytewise && k < n && go; k++)
            go = ss_pg_feed(pg, dir, data + at + k, 1, &sink);
        at += n;
    }
    return go;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ss_pg_t a, b;
    trace_t ta, tb;
    int ga, gb;

    if (size < 1)
        return 0;
    ga = run(data, size, 0, &ta, &a);
    gb = run(data, size, 1, &tb, &b);
    if (ga != gb || ta.starts != tb.starts || ta.dones != tb.dones || ta.hash != tb.hash)
        abort();
    if ((ss_pg_why(&a) == NULL) != ga)
        abort();
    return 0;
}
