/*
 * col_vmap.c - the viewer's service map (GET /api/services): per service
 * its requests, errors and latency, per pair of services the calls between
 * them, of the traces the store holds (col_vstore_int.h), made when asked.
 * Bounded: at most COL_VSTORE_MAP_NODES services and COL_VSTORE_MAP_EDGES
 * edges (what does not fit is counted as left off), one sort a trace.
 */
#define _GNU_SOURCE
#include "col_vstore.h"
#include "col_vstore_int.h"

#include <stdlib.h>
#include <string.h>

#define COL_VSTORE_MAP_NODES 256 /* services on the map; more are left off, said so */
#define COL_VSTORE_MAP_EDGES 1024

typedef struct col_vnode {
    const char *service;
    unsigned long long requests, errors, timed;
    uint64_t sum_ns, max_ns;
} col_vnode_t;

typedef struct col_vedge {
    size_t from, to;
    unsigned long long calls, errors, timed;
    uint64_t sum_ns, max_ns;
} col_vedge_t;

typedef struct col_vmap {
    col_vnode_t node[COL_VSTORE_MAP_NODES];
    col_vedge_t edge[COL_VSTORE_MAP_EDGES];
    size_t nodes, edges, left_off;
} col_vmap_t;

/* The node of svc; COL_VSTORE_MAP_NODES if there is no room for it. */
static size_t col_vmap_node(col_vmap_t *m, const char *svc)
{
    size_t i;

    for (i = 0; i < m->nodes; i++)
        if (strcmp(m->node[i].service, svc) == 0)
            return i;
    if (m->nodes == COL_VSTORE_MAP_NODES)
        return m->left_off++, COL_VSTORE_MAP_NODES;
    m->node[m->nodes].service = svc;
    return m->nodes++;
}

static void col_vmap_time(unsigned long long *timed, uint64_t *sum, uint64_t *max,
                          const col_vspan_t *s)
{
    uint64_t d = col_vs_end(s) - s->start;

    if (s->in_flight)
        return; /* not over: no latency yet */
    (*timed)++;
    *sum += d;
    if (d > *max)
        *max = d;
}

static void col_vmap_edge(col_vmap_t *m, size_t from, size_t to, const col_vspan_t *s)
{
    size_t i;
    col_vedge_t *e;

    for (i = 0; i < m->edges && (m->edge[i].from != from || m->edge[i].to != to); i++)
        ;
    if (i == m->edges) {
        if (m->edges == COL_VSTORE_MAP_EDGES) {
            m->left_off++;
            return;
        }
        m->edge[m->edges++] = (col_vedge_t){.from = from, .to = to};
    }
    e = &m->edge[i];
    e->calls++;
    e->errors += (unsigned long long)s->error;
    col_vmap_time(&e->timed, &e->sum_ns, &e->max_ns, s);
}

static const col_vtrace_t *col_vs_sorting;

static int col_vs_by_id(const void *a, const void *b)
{
    return memcmp(col_vs_sorting->spans[*(const size_t *)a].id,
                  col_vs_sorting->spans[*(const size_t *)b].id, 8);
}

static const col_vspan_t *col_vs_parent(const col_vtrace_t *t, const size_t *by_id,
                                        const col_vspan_t *s)
{
    size_t lo = 0, hi = t->n;

    if (!s->has_parent)
        return NULL;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const col_vspan_t *p = &t->spans[by_id[mid]];
        int c = p->has_id ? memcmp(p->id, s->parent, 8) : -1;

        if (c == 0)
            return p;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* One trace onto the map: a service's requests are its spans that serve
 * (SERVER, CONSUMER) or begin the trace; an edge is a span whose parent is
 * another service's. */
static void col_vmap_trace(col_vmap_t *m, const col_vtrace_t *t, size_t *by_id)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        by_id[i] = i;
    col_vs_sorting = t; /* under col_vs_lock: one sort at a time */
    qsort(by_id, t->n, sizeof(*by_id), col_vs_by_id);
    for (i = 0; i < t->n; i++) {
        const col_vspan_t *s = &t->spans[i], *p = col_vs_parent(t, by_id, s);
        size_t to = col_vmap_node(m, s->service), from;

        if (to == COL_VSTORE_MAP_NODES)
            continue;
        if (p == NULL || s->kind == 2 || s->kind == 5) {
            col_vnode_t *n = &m->node[to];

            n->requests++;
            n->errors += (unsigned long long)s->error;
            col_vmap_time(&n->timed, &n->sum_ns, &n->max_ns, s);
        }
        if (p && strcmp(p->service, s->service) != 0 &&
            (from = col_vmap_node(m, p->service)) != COL_VSTORE_MAP_NODES)
            col_vmap_edge(m, from, to, s);
    }
}

static void col_vmap_latency(col_buf_t *b, unsigned long long timed, uint64_t sum, uint64_t max)
{
    col_vs_ms(b, "avgMs", timed ? sum / timed : 0);
    col_vs_ms(b, "maxMs", max);
}

static void col_vmap_json(col_buf_t *b, const col_vmap_t *m)
{
    size_t i;

    col_buf_puts(b, "{\"nodes\":[");
    for (i = 0; i < m->nodes; i++) {
        const col_vnode_t *n = &m->node[i];

        col_buf_puts(b, i ? ",{\"service\":" : "{\"service\":");
        col_json_string(b, n->service);
        col_buf_printf(b, ",\"requests\":%llu,\"errors\":%llu", n->requests, n->errors);
        col_vmap_latency(b, n->timed, n->sum_ns, n->max_ns);
        col_buf_put(b, "}", 1);
    }
    col_buf_puts(b, "],\"edges\":[");
    for (i = 0; i < m->edges; i++) {
        const col_vedge_t *e = &m->edge[i];

        col_buf_puts(b, i ? ",{\"from\":" : "{\"from\":");
        col_json_string(b, m->node[e->from].service);
        col_buf_puts(b, ",\"to\":");
        col_json_string(b, m->node[e->to].service);
        col_buf_printf(b, ",\"calls\":%llu,\"errors\":%llu", e->calls, e->errors);
        col_vmap_latency(b, e->timed, e->sum_ns, e->max_ns);
        col_buf_put(b, "}", 1);
    }
    col_buf_printf(b, "],\"leftOff\":%zu,\"traces\":%zu}", m->left_off, col_vs_traces);
}

void col_vstore_services_json(col_buf_t *b)
{
    col_vmap_t *m = calloc(1, sizeof(*m));
    size_t *by_id = malloc(COL_VSTORE_TRACE_SPANS * sizeof(*by_id));
    const col_vtrace_t *t;

    if (m == NULL || by_id == NULL) {
        b->oom = 1;
    } else {
        pthread_mutex_lock(&col_vs_lock);
        for (t = col_vs_oldest; t; t = t->newer)
            col_vmap_trace(m, t, by_id);
        col_vmap_json(b, m); /* the names are the store's: still under the lock */
        pthread_mutex_unlock(&col_vs_lock);
    }
    free(by_id);
    free(m);
}
