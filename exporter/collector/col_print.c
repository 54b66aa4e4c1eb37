/*
 * col_print.c - the trace tree printer (see col_print.h).
 */
#include "col_print.h"
#include "col_json.h"

#include <stdlib.h>
#include <string.h>

typedef struct col_pspan {
    char trace[33], id[17], parent[17];
    char service[64], name[64];
    int kind, error;
    int64_t status_code;
    uint64_t start, end;
    int printed;
} col_pspan_t;

typedef struct col_ptrace {
    char trace[33];
    uint64_t last_ms;
    col_pspan_t *spans;
    size_t n, cap;
    struct col_ptrace *next;
} col_ptrace_t;

static col_ptrace_t *col_traces;
static col_ptrace_t **col_traces_tail = &col_traces;
static size_t col_held;

static void col_idhex(ProtobufCBinaryData d, char *out, size_t max)
{
    if (d.len == 0 || d.len > max) {
        out[0] = '\0';
        return;
    }
    col_hex(d.data, d.len, out);
}

static col_ptrace_t *col_trace_for(const char *trace)
{
    col_ptrace_t *t;

    for (t = col_traces; t; t = t->next)
        if (strcmp(t->trace, trace) == 0)
            return t;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    memcpy(t->trace, trace, sizeof(t->trace));
    *col_traces_tail = t; /* oldest first, so traces print in arrival order */
    col_traces_tail = &t->next;
    return t;
}

void col_print_add(const col_request_t *r, uint64_t now_ms)
{
    size_t i, j, k;

    for (i = 0; i < r->n_resource_spans; i++) {
        const col_resource_spans_t *rs = r->resource_spans[i];
        const char *svc = col_service(rs);

        for (j = 0; j < rs->n_scope_spans; j++) {
            for (k = 0; k < rs->scope_spans[j]->n_spans; k++) {
                const col_span_t *s = rs->scope_spans[j]->spans[k];
                char trace[33];
                col_ptrace_t *t;
                col_pspan_t *p;

                col_idhex(s->trace_id, trace, 16);
                if (trace[0] == '\0' || (t = col_trace_for(trace)) == NULL)
                    continue;
                if (t->n == t->cap) {
                    size_t cap = t->cap ? t->cap * 2 : 8;
                    col_pspan_t *ns = realloc(t->spans, cap * sizeof(*ns));

                    if (ns == NULL)
                        continue;
                    t->spans = ns;
                    t->cap = cap;
                }
                p = &t->spans[t->n++];
                memset(p, 0, sizeof(*p));
                memcpy(p->trace, trace, sizeof(trace));
                col_idhex(s->span_id, p->id, 8);
                col_idhex(s->parent_span_id, p->parent, 8);
                snprintf(p->service, sizeof(p->service), "%s", svc ? svc : "?");
                snprintf(p->name, sizeof(p->name), "%s", s->name ? s->name : "");
                p->kind = (int)s->kind;
                p->error = s->status && s->status->code == 2;
                p->status_code = col_attr_int(s->attributes, s->n_attributes,
                                              "http.response.status_code");
                p->start = s->start_time_unix_nano;
                p->end = s->end_time_unix_nano;
                t->last_ms = now_ms;
                col_held++;
            }
        }
    }
}

static const char *col_kind_name(int k)
{
    static const char *names[] = {"unspecified", "internal", "server", "client", "producer",
                                  "consumer"};

    return k >= 0 && k < 6 ? names[k] : "?";
}

static void col_print_children(FILE *out, col_ptrace_t *t, const char *parent, int depth)
{
    for (;;) {
        col_pspan_t *best = NULL;
        char st[24];
        size_t i;

        /* Children in start order; a span whose parent is absent is a root. */
        for (i = 0; i < t->n; i++) {
            col_pspan_t *s = &t->spans[i];
            int child = 0;

            if (s->printed)
                continue;
            if (parent) {
                child = strcmp(s->parent, parent) == 0;
            } else {
                size_t j;

                child = 1;
                for (j = 0; j < t->n && s->parent[0]; j++)
                    if (strcmp(t->spans[j].id, s->parent) == 0)
                        child = 0;
            }
            if (child && (best == NULL || s->start < best->start))
                best = s;
        }
        if (best == NULL)
            return;
        best->printed = 1;
        if (best->status_code)
            snprintf(st, sizeof(st), "%lld", (long long)best->status_code);
        else
            snprintf(st, sizeof(st), "-");
        fprintf(out, "%*s%-*s %-8s %-6s %-5s %3s %9.2f ms\n", 2 * depth + 2, "",
                24 - 2 * depth > 8 ? 24 - 2 * depth : 8, best->service, best->name,
                col_kind_name(best->kind), best->error ? "ERROR" : "ok", st,
                best->end > best->start ? (double)(best->end - best->start) / 1e6 : 0.0);
        col_print_children(out, t, best->id, depth + 1);
    }
}

static void col_print_trace(FILE *out, col_ptrace_t *t)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t i;

    for (i = 0; i < t->n; i++) {
        if (t->spans[i].start < lo)
            lo = t->spans[i].start;
        if (t->spans[i].end > hi)
            hi = t->spans[i].end;
    }
    fprintf(out, "trace %s  %zu span%s  %.2f ms\n", t->trace, t->n, t->n == 1 ? "" : "s",
            hi > lo ? (double)(hi - lo) / 1e6 : 0.0);
    col_print_children(out, t, NULL, 0);
    fflush(out);
}

void col_print_due(FILE *out, uint64_t now_ms, int force)
{
    col_ptrace_t **pp = &col_traces;

    while (*pp) {
        col_ptrace_t *t = *pp;
        int due = force || now_ms - t->last_ms >= COL_PRINT_QUIET_MS ||
                  (col_held > COL_PRINT_MAX_SPANS && pp == &col_traces);

        if (!due) {
            pp = &t->next;
            continue;
        }
        col_print_trace(out, t);
        col_held -= t->n;
        *pp = t->next;
        if (col_traces_tail == &t->next)
            col_traces_tail = pp;
        free(t->spans);
        free(t);
    }
}
