/*
 * col_tail.c - tail sampling.
 *
 * The practice of the OpenTelemetry Collector's tail sampling processor,
 * with its three most used policies: each trace is held until wait_ms have
 * passed since its last span, then kept if any span is an error (status
 * ERROR), or lasted longer than latency_ms, or else with probability
 * `ratio` (decided from the random part of the trace id, so every
 * collector makes the same choice for a trace). Kept spans carry
 * spanshim.sampling.policy = error | latency | probabilistic.
 *
 * Spans are held by reference into the decoded batches they came in (a
 * batch is freed when its last span is decided), in a hash of traces with
 * a list in order of last activity. Memory is bounded: past max_traces,
 * max_spans or max_bytes held (the bytes of the arenas the held batches
 * were decoded into: what they really take, whatever their spans carry),
 * the least recently active trace is decided at once.
 * Decisions are remembered (COL_DECIDED_MAX of them) so a span that comes
 * late follows its trace's fate.
 */
#define _GNU_SOURCE
#include "col_tail.h"
#include "col_log.h"
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_stop.h"

#include <stdlib.h>
#include <string.h>

#define COL_TRACE_HASH 65536
#define COL_DECIDED_MAX 100000

col_tail_counts_t col_tail_count;

enum { COL_DROP = 0, COL_KEEP_ERROR, COL_KEEP_LATENCY, COL_KEEP_RATIO };

/* A decoded batch, freed when no held span points into it. */
typedef struct col_held {
    col_arena_t *arena; /* where the request was decoded */
    size_t refs;
    size_t bytes;       /* the arena's, counted in tl.bytes while held */
} col_held_t;

typedef struct col_hspan {
    const col_resource_spans_t *rs;
    const col_scope_spans_t *ss;
    const col_span_t *s;
    col_held_t *batch;
} col_hspan_t;

typedef struct col_trace {
    uint8_t id[16];
    struct col_trace *chain, *prev, *next;
    uint64_t last_ms;
    uint8_t error, slow;
    col_hspan_t *spans;
    size_t n, cap;
} col_trace_t;

/* A decision remembered for late spans. */
typedef struct col_decided {
    uint8_t id[16];
    uint8_t policy;
    struct col_decided *chain, *fifo;
} col_decided_t;

static struct {
    col_tail_cfg_t cfg;
    col_tail_emit_fn emit;
    col_trace_t *hash[COL_TRACE_HASH];
    col_trace_t *oldest, *newest;
    size_t traces, spans, bytes;
    col_decided_t *dhash[COL_TRACE_HASH];
    col_decided_t *dhead, **dtail;
    size_t decided;
} tl;

static col_kv_t col_policy_kv[4];
static col_value_t col_policy_val[4];

void col_tail_init(const col_tail_cfg_t *cfg, col_tail_emit_fn emit)
{
    static const char *const names[] = {"", "error", "latency", "probabilistic"};
    int i;

    tl.cfg = *cfg;
    tl.emit = emit;
    tl.dtail = &tl.dhead;
    for (i = 1; i < 4; i++) {
        opentelemetry__proto__common__v1__key_value__init(&col_policy_kv[i]);
        opentelemetry__proto__common__v1__any_value__init(&col_policy_val[i]);
        col_policy_val[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        col_policy_val[i].string_value = (char *)names[i];
        col_policy_kv[i].key = (char *)"spanshim.sampling.policy";
        col_policy_kv[i].value = &col_policy_val[i];
    }
}

static unsigned col_trace_bucket(const uint8_t *id)
{
    return (unsigned)(col_hash(id, 16) % COL_TRACE_HASH);
}

/* ---- remembered decisions ------------------------------------------------- */

static col_decided_t *col_decided_find(const uint8_t *id)
{
    col_decided_t *d;

    for (d = tl.dhash[col_trace_bucket(id)]; d; d = d->chain)
        if (memcmp(d->id, id, 16) == 0)
            return d;
    return NULL;
}

static void col_decided_forget_oldest(void)
{
    col_decided_t *d = tl.dhead, **pp;

    tl.dhead = d->fifo;
    if (tl.dhead == NULL)
        tl.dtail = &tl.dhead;
    for (pp = &tl.dhash[col_trace_bucket(d->id)]; *pp; pp = &(*pp)->chain)
        if (*pp == d) {
            *pp = d->chain;
            break;
        }
    tl.decided--;
    free(d);
}

static void col_decided_add(const uint8_t *id, uint8_t policy)
{
    col_decided_t *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return;
    if (tl.decided >= COL_DECIDED_MAX)
        col_decided_forget_oldest();
    memcpy(d->id, id, 16);
    d->policy = policy;
    d->chain = tl.dhash[col_trace_bucket(id)];
    tl.dhash[col_trace_bucket(id)] = d;
    *tl.dtail = d;
    tl.dtail = &d->fifo;
    tl.decided++;
}

/* ---- emitting kept spans --------------------------------------------------- */

static void col_batch_put(col_held_t *b)
{
    if (--b->refs == 0) {
        tl.bytes -= b->bytes;
        col_arena_free(b->arena);
        free(b);
    }
}

/* A scope's spans in a trace's list: the run of one scope in the order by
 * scope, and where the scope and its resource first appear. */
typedef struct col_group {
    const col_scope_spans_t *ss;
    const col_resource_spans_t *rs;
    size_t first, res_first, at, n;
} col_group_t;

/* The output request's parts, one allocation each, for n spans at most. */
typedef struct col_out {
    size_t *by_scope;                       /* span indexes, by scope then arrival */
    col_group_t *groups;
    col_scope_spans_t *scopes, **scope_ptrs;
    col_resource_spans_t *res, **res_ptrs;
    col_span_t *copies, **span_ptrs;
    col_kv_t **attrs;                       /* n_attributes + 1 per span, laid end to end */
} col_out_t;

#define COL_CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int col_by_scope(const void *a, const void *b, void *arg)
{
    const col_hspan_t *s = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = COL_CMP((uintptr_t)s[i].ss, (uintptr_t)s[j].ss);

    return c ? c : COL_CMP(i, j);
}

static int col_by_resource(const void *a, const void *b)
{
    const col_group_t *x = a, *y = b;
    int c = COL_CMP((uintptr_t)x->rs, (uintptr_t)y->rs);

    return c ? c : COL_CMP(x->first, y->first);
}

static int col_by_first_seen(const void *a, const void *b)
{
    const col_group_t *x = a, *y = b;
    int c = COL_CMP(x->res_first, y->res_first);

    return c ? c : COL_CMP(x->first, y->first);
}

/* Group spans[0..n) by scope, the groups by resource, each in the order
 * first seen: three sorts, not a search per span. Returns the groups. */
static size_t col_group(const col_hspan_t *spans, size_t n, col_out_t *o)
{
    size_t i, ng = 0;

    for (i = 0; i < n; i++)
        o->by_scope[i] = i;
    qsort_r(o->by_scope, n, sizeof(size_t), col_by_scope, (void *)spans);
    for (i = 0; i < n; i++) {
        const col_hspan_t *h = &spans[o->by_scope[i]];

        if (ng == 0 || o->groups[ng - 1].ss != h->ss)
            o->groups[ng++] = (col_group_t){h->ss, h->rs, o->by_scope[i], 0, i, 0};
        o->groups[ng - 1].n++;
    }
    qsort(o->groups, ng, sizeof(*o->groups), col_by_resource);
    for (i = 0; i < ng; i++)
        o->groups[i].res_first = i && o->groups[i - 1].rs == o->groups[i].rs
                                     ? o->groups[i - 1].res_first : o->groups[i].first;
    qsort(o->groups, ng, sizeof(*o->groups), col_by_first_seen);
    return ng;
}

/* Emit spans[0..n) as one request, grouped by resource and scope as they
 * came, each span with the policy attribute added. The copies are shallow:
 * the decoded batches are neither changed nor freed here. */
static void col_tail_emit(const col_hspan_t *spans, size_t n, uint8_t policy)
{
    col_out_t o;
    size_t nattr = 0, ng, nres = 0, i, g, k = 0, ka = 0;
    col_resource_spans_t *R = NULL;
    col_request_t out;

    for (i = 0; i < n; i++)
        nattr += spans[i].s->n_attributes + 1;
    o.by_scope = calloc(n, sizeof(*o.by_scope));
    o.groups = calloc(n, sizeof(*o.groups));
    o.scopes = calloc(n, sizeof(*o.scopes));
    o.scope_ptrs = calloc(n, sizeof(*o.scope_ptrs));
    o.res = calloc(n, sizeof(*o.res));
    o.res_ptrs = calloc(n, sizeof(*o.res_ptrs));
    o.copies = calloc(n, sizeof(*o.copies));
    o.span_ptrs = calloc(n, sizeof(*o.span_ptrs));
    o.attrs = calloc(nattr, sizeof(*o.attrs));
    if (!o.by_scope || !o.groups || !o.scopes || !o.scope_ptrs || !o.res || !o.res_ptrs ||
        !o.copies || !o.span_ptrs || !o.attrs)
        goto done;
    ng = col_group(spans, n, &o);
    for (g = 0; g < ng; g++) {
        const col_group_t *G = &o.groups[g];
        col_scope_spans_t *S = &o.scopes[g];

        if (g == 0 || o.groups[g - 1].rs != G->rs) { /* a resource's scopes are together */
            R = &o.res[nres];
            opentelemetry__proto__trace__v1__resource_spans__init(R);
            R->resource = G->rs->resource;
            R->schema_url = G->rs->schema_url;
            R->scope_spans = o.scope_ptrs + g;
            o.res_ptrs[nres++] = R;
        }
        opentelemetry__proto__trace__v1__scope_spans__init(S);
        S->scope = G->ss->scope;
        S->schema_url = G->ss->schema_url;
        S->spans = o.span_ptrs + k;
        o.scope_ptrs[g] = S;
        R->n_scope_spans++;
        for (i = G->at; i < G->at + G->n; i++) {
            const col_span_t *src = spans[o.by_scope[i]].s;

            o.copies[k] = *src;
            o.copies[k].attributes = o.attrs + ka;
            if (src->n_attributes) /* none: attributes may be NULL */
                memcpy(o.attrs + ka, src->attributes, src->n_attributes * sizeof(col_kv_t *));
            ka += src->n_attributes;
            o.attrs[ka++] = &col_policy_kv[policy];
            o.copies[k].n_attributes = src->n_attributes + 1;
            o.span_ptrs[k] = &o.copies[k];
            S->n_spans++;
            k++;
        }
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&out);
    out.resource_spans = o.res_ptrs;
    out.n_resource_spans = nres;
    tl.emit(&out, n);
done:
    free(o.by_scope), free(o.groups), free(o.scopes), free(o.scope_ptrs), free(o.res);
    free(o.res_ptrs), free(o.copies), free(o.span_ptrs), free(o.attrs);
}

/* ---- traces ------------------------------------------------------------------ */

static uint8_t col_tail_policy(const col_trace_t *t)
{
    uint64_t r = 0;
    int i;

    if (t->error)
        return COL_KEEP_ERROR;
    if (t->slow)
        return COL_KEEP_LATENCY;
    for (i = 9; i < 16; i++) /* 56 random bits, as W3C trace context's random flag means */
        r = r << 8 | t->id[i];
    /* Compared as integers: a double holds 53 bits, and 2^56 - 1 as one is
     * 2^56, which even a ratio of 1 would drop. */
    return r < (uint64_t)(tl.cfg.ratio * 72057594037927936.0) ? COL_KEEP_RATIO : COL_DROP;
}

static void col_lru_unlink(col_trace_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        tl.oldest = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        tl.newest = t->prev;
    t->prev = t->next = NULL;
}

static void col_lru_append(col_trace_t *t)
{
    t->prev = tl.newest;
    t->next = NULL;
    if (tl.newest)
        tl.newest->next = t;
    else
        tl.oldest = t;
    tl.newest = t;
}

/* Count a decision: for a trace, or (trace_too 0) for a late span. */
static void col_tail_count_policy(uint8_t policy, size_t spans, int trace_too)
{
    switch (trace_too ? policy : 255) {
    case COL_KEEP_ERROR:
        col_tail_count.traces_kept_error++;
        break;
    case COL_KEEP_LATENCY:
        col_tail_count.traces_kept_latency++;
        break;
    case COL_KEEP_RATIO:
        col_tail_count.traces_kept_probabilistic++;
        break;
    case COL_DROP:
        col_tail_count.traces_dropped++;
        break;
    default:
        break;
    }
    if (policy == COL_DROP)
        col_tail_count.spans_dropped += spans;
    else
        col_tail_count.spans_kept += spans;
}

/* Decide t and let it go; with emit 0 (a stop whose time is over) it goes
 * unwritten, counted. */
static void col_trace_decide(col_trace_t *t, int emit)
{
    uint8_t policy = col_tail_policy(t);
    col_trace_t **pp;
    size_t i;

    if (!emit)
        col_tail_count.spans_unwritten_at_stop += t->n;
    else
        col_tail_count_policy(policy, t->n, 1);
    if (emit && policy != COL_DROP)
        col_tail_emit(t->spans, t->n, policy);
    col_decided_add(t->id, policy);
    col_lru_unlink(t);
    for (pp = &tl.hash[col_trace_bucket(t->id)]; *pp; pp = &(*pp)->chain)
        if (*pp == t) {
            *pp = t->chain;
            break;
        }
    for (i = 0; i < t->n; i++)
        col_batch_put(t->spans[i].batch);
    tl.traces--;
    tl.spans -= t->n;
    free(t->spans);
    free(t);
}

static col_trace_t *col_trace_get(const uint8_t *id)
{
    unsigned b = col_trace_bucket(id);
    col_trace_t *t;

    for (t = tl.hash[b]; t; t = t->chain)
        if (memcmp(t->id, id, 16) == 0)
            return t;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    memcpy(t->id, id, 16);
    t->chain = tl.hash[b];
    tl.hash[b] = t;
    tl.traces++;
    col_lru_append(t);
    return t;
}

typedef struct col_tadd {
    col_held_t *batch;
    uint64_t now_ms;
} col_tadd_t;

/* A span that follows a decided trace: emitted alone, or dropped. */
static void col_tail_late(const col_hspan_t *h, uint8_t policy)
{
    col_tail_count.late_spans++;
    col_tail_count_policy(policy, 1, 0);
    if (policy != COL_DROP)
        col_tail_emit(h, 1, policy);
}

static void col_tail_one(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                         const col_span_t *s, void *arg)
{
    col_tadd_t *a = arg;
    col_hspan_t h = {rs, ss, s, a->batch};
    const col_decided_t *d;
    col_trace_t *t;
    uint64_t dur;

    if (s->trace_id.len != 16) {
        col_tail_count.spans_dropped++; /* no trace to belong to */
        return;
    }
    if ((d = col_decided_find(s->trace_id.data)) != NULL) {
        col_tail_late(&h, d->policy);
        return;
    }
    if ((t = col_trace_get(s->trace_id.data)) == NULL)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        col_hspan_t *ns = realloc(t->spans, cap * sizeof(*ns));

        if (ns == NULL)
            return;
        t->spans = ns;
        t->cap = cap;
    }
    t->spans[t->n++] = h;
    a->batch->refs++;
    tl.spans++;
    dur = s->end_time_unix_nano > s->start_time_unix_nano
              ? s->end_time_unix_nano - s->start_time_unix_nano : 0;
    t->error |= s->status && s->status->code == 2;
    t->slow |= dur > (uint64_t)tl.cfg.latency_ms * 1000000u;
    t->last_ms = a->now_ms;
    col_lru_unlink(t);
    col_lru_append(t);
}

void col_tail_add(col_request_t *r, col_arena_t *arena, uint64_t now_ms)
{
    col_tadd_t a = {NULL, now_ms};

    if ((a.batch = calloc(1, sizeof(*a.batch))) == NULL) {
        col_arena_free(arena);
        return;
    }
    a.batch->arena = arena;
    a.batch->refs = 1; /* ours, while the spans are added */
    a.batch->bytes = col_arena_bytes(arena) + sizeof(*a.batch);
    tl.bytes += a.batch->bytes;
    col_each_span(r, col_tail_one, &a);
    col_batch_put(a.batch);
    col_tail_due(now_ms, 0);
}

void col_tail_due(uint64_t now_ms, int all)
{
    while (tl.oldest) {
        col_trace_t *t = tl.oldest;
        int over = tl.traces > tl.cfg.max_traces || tl.spans > tl.cfg.max_spans ||
                   tl.bytes > tl.cfg.max_bytes;

        if (!all && !over && t->last_ms + (uint64_t)tl.cfg.wait_ms > now_ms)
            break;
        if (over && !all && t->last_ms + (uint64_t)tl.cfg.wait_ms > now_ms)
            col_tail_count.traces_decided_early++;
        col_trace_decide(t, 1);
    }
}

void col_tail_stop(uint64_t (*now_ms)(void), uint64_t deadline_ms)
{
    while (tl.oldest)
        col_trace_decide(tl.oldest, now_ms() < deadline_ms);
}

void col_tail_reset(void)
{
    col_tail_due(0, 1);
    while (tl.dhead)
        col_decided_forget_oldest();
    memset(&col_tail_count, 0, sizeof(col_tail_count));
}

/* Tail sampling as a sink: it holds every batch, and hands what it keeps
 * to the sinks after it. */
static int col_tail_wanted(void)
{
    return col_opt.tail;
}

static void col_tail_pass(const col_request_t *r, size_t spans)
{
    col_batch_t b = {.r = (col_request_t *)r, .spans = spans, .now_ms = col_now_ms()};

    col_sinks_after(&col_sink_tail, &b);
}

static int col_tail_start(void)
{
    col_tail_init(&col_opt.tail_cfg, col_tail_pass);
    return 1;
}

static int col_tail_take(col_batch_t *b)
{
    if (b->arena == NULL)
        return COL_PASS; /* (not ours to keep) */
    col_tail_add(b->r, b->arena, b->now_ms);
    b->arena = NULL;
    return COL_HELD;
}

static void col_tail_tick(uint64_t now_ms, int last)
{
    if (last)
        col_tail_stop(col_now_ms, col_stop_deadline()); /* every trace held, in time */
    else
        col_tail_due(now_ms, 0);
}

static void col_tail_render(col_buf_t *b)
{
#define COL_RENDER_TAIL(name, what)                                                         \
    col_metrics_counter(b, "spanshim_collector_tail_" #name "_total", NULL, what,           \
                        __atomic_load_n(&col_tail_count.name, __ATOMIC_RELAXED));
    COL_TAIL_COUNTERS(COL_RENDER_TAIL)
#undef COL_RENDER_TAIL
}

static void col_tail_totals(col_buf_t *b)
{
    col_buf_printf(b, "; tail sampling kept %llu traces (%llu errors, %llu slow, %llu by "
                      "ratio) and dropped %llu, %llu decided early, %llu spans held unwritten "
                      "at the stop timeout",
                   col_tail_count.traces_kept_error + col_tail_count.traces_kept_latency +
                       col_tail_count.traces_kept_probabilistic,
                   col_tail_count.traces_kept_error, col_tail_count.traces_kept_latency,
                   col_tail_count.traces_kept_probabilistic, col_tail_count.traces_dropped,
                   col_tail_count.traces_decided_early, col_tail_count.spans_unwritten_at_stop);
}

const col_sink_t col_sink_tail = {
    .name = "tail",
    .wanted = col_tail_wanted,
    .start = col_tail_start,
    .take = col_tail_take,
    .tick = col_tail_tick,
    .render = col_tail_render,
    .totals = col_tail_totals,
};
