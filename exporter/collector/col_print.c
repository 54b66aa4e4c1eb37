/*
 * col_print.c - the trace tree printer (see col_print.h).
 *
 * Traces are in a hash table keyed by trace id (col_hash: keyed, so no
 * sender can pile them into one bucket) and in a list by last activity,
 * oldest first: the quiet ones and the one to print early are at its
 * head. A trace is printed from three sorted orders of its spans (by
 * parent, by id, by start), so finding a span's children or whether its
 * parent is there is a binary search, not a scan.
 */
#define _GNU_SOURCE
#include "col_print.h"
#include "col_json.h"
#include "col_logs.h"
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_term.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define COL_PRINT_HASH 16384 /* above the most traces held: one span each */
#define COL_PRINT_COLS 64    /* columns of a name shown */
#define COL_PRINT_TEXT (4 * COL_PRINT_COLS + 1)
#define COL_PRINT_CODE_COLS 24  /* of a status: 503, 42P01, WRONGTYPE, response_truncated */
#define COL_PRINT_QUERY_COLS 60 /* of a failed query's text, "..." included */
#define COL_PRINT_BAR_COLS 40   /* of the time axis the bars are drawn on */

col_print_counts_t col_print_count;

typedef struct col_pspan {
    char id[17], parent[17];
    char service[COL_PRINT_TEXT], name[COL_PRINT_TEXT]; /* escaped */
    char code[4 * COL_PRINT_CODE_COLS + 1];   /* escaped; "" for none */
    char query[4 * COL_PRINT_QUERY_COLS + 1]; /* escaped; failed queries only */
    uint8_t service_cols, name_cols, code_cols;
    uint8_t kind, error, in_flight;
    uint64_t start, end;
} col_pspan_t;

/* A log record held with its trace, to be printed under its span. */
typedef struct col_plog {
    char span[17];   /* "" for none */
    uint64_t time;
    char sev[4 * 8 + 1]; /* escaped */
    char body[4 * COL_PRINT_LOG_COLS + 1];
    uint8_t sev_cols;
} col_plog_t;

typedef struct col_ptrace {
    char trace[33];
    struct col_ptrace *chain, *prev, *next;
    uint64_t last_ms;
    col_pspan_t *spans;
    size_t n, cap, cut;
    size_t in_flight; /* spans held that were reported still open */
    col_plog_t *logs;
    size_t n_logs, cap_logs, logs_cut;
} col_ptrace_t;

static struct {
    col_ptrace_t *hash[COL_PRINT_HASH];
    col_ptrace_t *oldest, *newest;
    size_t held, logs_held;
} pr;

static void col_idhex(ProtobufCBinaryData d, char *out, size_t max)
{
    if (d.len == 0 || d.len > max) {
        out[0] = '\0';
        return;
    }
    col_hex(d.data, d.len, out);
}

static unsigned col_trace_bucket(const char *trace)
{
    return (unsigned)(col_hash(trace, strlen(trace)) % COL_PRINT_HASH);
}

static void col_lru_unlink(col_ptrace_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        pr.oldest = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        pr.newest = t->prev;
    t->prev = t->next = NULL;
}

static void col_lru_append(col_ptrace_t *t)
{
    t->prev = pr.newest;
    if (pr.newest)
        pr.newest->next = t;
    else
        pr.oldest = t;
    pr.newest = t;
}

static col_ptrace_t *col_trace_for(const char *trace)
{
    unsigned b = col_trace_bucket(trace);
    col_ptrace_t *t;

    for (t = pr.hash[b]; t; t = t->chain)
        if (strcmp(t->trace, trace) == 0)
            return t;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    memcpy(t->trace, trace, sizeof(t->trace));
    t->chain = pr.hash[b];
    pr.hash[b] = t;
    col_lru_append(t);
    return t;
}

static void col_print_trace(FILE *out, col_ptrace_t *t);
static size_t col_put_padded(FILE *out, const char *text, size_t cols, size_t width);

/* Print t and forget it. */
static void col_trace_done(FILE *out, col_ptrace_t *t)
{
    col_ptrace_t **pp;

    col_print_trace(out, t);
    for (pp = &pr.hash[col_trace_bucket(t->trace)]; *pp; pp = &(*pp)->chain)
        if (*pp == t) {
            *pp = t->chain;
            break;
        }
    col_lru_unlink(t);
    pr.held -= t->n;
    pr.logs_held -= t->n_logs;
    free(t->spans);
    free(t->logs);
    free(t);
}

/* A place for one more span of t, or NULL (counted) past its cap. */
static col_pspan_t *col_trace_slot(col_ptrace_t *t)
{
    if (t->n == COL_PRINT_TRACE_SPANS) {
        t->cut++;
        col_print_count.spans_cut++;
        return NULL;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        col_pspan_t *ns;

        if (cap > COL_PRINT_TRACE_SPANS)
            cap = COL_PRINT_TRACE_SPANS;
        if ((ns = realloc(t->spans, cap * sizeof(*ns))) == NULL)
            return NULL;
        t->spans = ns;
        t->cap = cap;
    }
    return &t->spans[t->n++];
}

typedef struct col_padd {
    FILE *out;
    uint64_t now_ms;
    const col_resource_spans_t *rs; /* the resource whose service is in svc */
    char svc[COL_PRINT_TEXT];
    uint8_t svc_cols;
} col_padd_t;

/* The query's text on one line (each run of blanks one space, none at
 * either end), escaped, cut with "..." past COL_PRINT_QUERY_COLS. */
static void col_query_short(char *out, size_t cap, const char *text)
{
    char flat[4 * (COL_PRINT_QUERY_COLS + 1) + 1]; /* enough input for one column more */
    size_t n = 0;

    for (; *text && n < sizeof(flat) - 1; text++) {
        int blank = *text == ' ' || *text == '\t' || *text == '\n' || *text == '\r';

        if (!blank)
            flat[n++] = *text;
        else if (n && flat[n - 1] != ' ')
            flat[n++] = ' ';
    }
    if (n && flat[n - 1] == ' ')
        n--;
    flat[n] = '\0';
    if (col_term_text(out, cap, flat, COL_PRINT_QUERY_COLS + 1) > COL_PRINT_QUERY_COLS) {
        col_term_text(out, cap - 3, flat, COL_PRINT_QUERY_COLS - 3);
        strcat(out, "...");
    }
}

/* What the status column and the end of the line show: the HTTP status;
 * for a database span its status code (else error.type) and, when it
 * failed, the query. */
static void col_status_of(col_pspan_t *p, const col_span_t *s)
{
    int64_t http = col_attr_int(s->attributes, s->n_attributes, "http.response.status_code");
    const char *code = NULL, *query = NULL;
    char num[24];

    if (http) {
        snprintf(num, sizeof(num), "%lld", (long long)http);
        code = num;
    } else if (col_attr_str(s->attributes, s->n_attributes, "db.system.name")) {
        code = col_attr_str(s->attributes, s->n_attributes, "db.response.status_code");
        if ((code == NULL || code[0] == '\0') && p->error)
            code = col_attr_str(s->attributes, s->n_attributes, "error.type");
        if (p->error)
            query = col_attr_str(s->attributes, s->n_attributes, "db.query.text");
    }
    p->code_cols = (uint8_t)col_term_text(p->code, sizeof(p->code), code, COL_PRINT_CODE_COLS);
    p->query[0] = '\0';
    if (query)
        col_query_short(p->query, sizeof(p->query), query);
}

/* The span held with this id, newest first; NULL if none. */
static col_pspan_t *col_trace_same(col_ptrace_t *t, const char *id)
{
    size_t i = t->n;

    while (i--)
        if (strcmp(t->spans[i].id, id) == 0)
            return &t->spans[i];
    return NULL;
}

static void col_print_one(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                          const col_span_t *s, void *arg)
{
    col_padd_t *a = arg;
    char trace[33], id[17];
    col_ptrace_t *t;
    col_pspan_t *p = NULL;
    int in_flight;

    (void)ss;
    col_idhex(s->trace_id, trace, 16);
    if (trace[0] == '\0' || (t = col_trace_for(trace)) == NULL)
        return;
    t->last_ms = a->now_ms;
    col_lru_unlink(t);
    col_lru_append(t);
    /* A span reported still open, then again or whole, is printed once, as
     * it was last (an in-flight report never replaces the whole span).
     * Looked for only where a report is involved. */
    in_flight = col_attr_bool(s->attributes, s->n_attributes, "spanshim.span.in_flight");
    col_idhex(s->span_id, id, 8);
    if ((in_flight || t->in_flight) && id[0] && (p = col_trace_same(t, id)) != NULL) {
        if (in_flight && !p->in_flight)
            return;
        t->in_flight -= p->in_flight;
        pr.held--; /* counted again below */
    } else if ((p = col_trace_slot(t)) == NULL) {
        return;
    }
    t->in_flight += (size_t)(in_flight != 0);
    if (a->rs != rs) { /* escaped once per resource, not per span */
        const char *svc = col_service(rs);

        a->rs = rs;
        a->svc_cols = (uint8_t)col_term_text(a->svc, sizeof(a->svc), svc ? svc : "?",
                                             COL_PRINT_COLS);
    }
    memcpy(p->service, a->svc, sizeof(p->service));
    p->service_cols = a->svc_cols;
    p->name_cols = (uint8_t)col_term_text(p->name, sizeof(p->name), s->name, COL_PRINT_COLS);
    col_idhex(s->span_id, p->id, 8);
    col_idhex(s->parent_span_id, p->parent, 8);
    p->kind = s->kind >= 0 && s->kind <= 5 ? (uint8_t)s->kind : 6;
    p->error = s->status && s->status->code == 2;
    p->in_flight = (uint8_t)(in_flight != 0);
    col_status_of(p, s);
    p->start = s->start_time_unix_nano;
    p->end = s->end_time_unix_nano;
    pr.held++;
    while (pr.held > COL_PRINT_MAX_SPANS && pr.oldest != t) {
        col_print_count.traces_early++;
        col_trace_done(a->out, pr.oldest);
    }
}

void col_print_add(FILE *out, const col_request_t *r, uint64_t now_ms)
{
    static col_padd_t a;

    a.out = out;
    a.now_ms = now_ms;
    a.rs = NULL;
    col_each_span(r, col_print_one, &a);
}

/* ---- log records ------------------------------------------------------------ */

/* The severity as the record says it, else SeverityNumber's short name. */
static void col_log_severity(const col_log_t *l, char *out, size_t cap, uint8_t *cols)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    int n = (int)l->severity_number;
    const char *s = l->severity_text && l->severity_text[0] ? l->severity_text
                    : n >= 1 && n <= 24                     ? names[(n - 1) / 4]
                                                            : "-";

    *cols = (uint8_t)col_term_text(out, cap, s, 8);
}

/* The body on one line: a string as it is, anything else as its JSON;
 * escaped, cut at COL_PRINT_LOG_COLS columns. */
static void col_log_body(const col_log_t *l, char *out, size_t cap)
{
    const char *text = "";
    col_buf_t j = {0};

    if (l->body && l->body->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        text = l->body->string_value;
    else if (l->body) {
        col_json_any_value(&j, l->body);
        text = j.oom || j.p == NULL ? "" : j.p;
    }
    col_term_text(out, cap, text, COL_PRINT_LOG_COLS);
    col_buf_free(&j);
}

typedef struct col_plogs {
    FILE *out;
    uint64_t now_ms;
} col_plogs_t;

static void col_print_log(const col_resource_logs_t *rl, const col_scope_logs_t *sl,
                          const col_log_t *l, void *arg)
{
    col_plogs_t *a = arg;
    char trace[33];
    col_ptrace_t *t;
    col_plog_t *p;

    (void)sl;
    if (!col_log_has_trace(l)) { /* of no trace: said now, on a line of its own */
        char svc[COL_PRINT_TEXT], sev[4 * 8 + 1], body[4 * COL_PRINT_LOG_COLS + 1];
        const char *name = col_logs_service(rl);
        size_t cols = col_term_text(svc, sizeof(svc), name ? name : "?", COL_PRINT_COLS);
        uint8_t sev_cols;

        col_log_severity(l, sev, sizeof(sev), &sev_cols);
        col_log_body(l, body, sizeof(body));
        fputs("log  ", a->out);
        col_put_padded(a->out, svc, cols, 24);
        fputc(' ', a->out);
        col_put_padded(a->out, sev, sev_cols, 5);
        fprintf(a->out, "  %s\n", body);
        fflush(a->out);
        return;
    }
    col_hex(l->trace_id.data, 16, trace);
    if ((t = col_trace_for(trace)) == NULL)
        return;
    t->last_ms = a->now_ms;
    col_lru_unlink(t);
    col_lru_append(t);
    if (t->n_logs == COL_PRINT_TRACE_LOGS) {
        t->logs_cut++;
        col_print_count.logs_cut++;
        return;
    }
    if (t->n_logs == t->cap_logs) {
        size_t cap = t->cap_logs ? t->cap_logs * 2 : 4;
        col_plog_t *nl;

        if (cap > COL_PRINT_TRACE_LOGS)
            cap = COL_PRINT_TRACE_LOGS;
        if ((nl = realloc(t->logs, cap * sizeof(*nl))) == NULL)
            return;
        t->logs = nl;
        t->cap_logs = cap;
    }
    p = &t->logs[t->n_logs++];
    if (col_log_has_span(l))
        col_hex(l->span_id.data, 8, p->span);
    else
        p->span[0] = '\0';
    p->time = l->time_unix_nano ? l->time_unix_nano : l->observed_time_unix_nano;
    col_log_severity(l, p->sev, sizeof(p->sev), &p->sev_cols);
    col_log_body(l, p->body, sizeof(p->body));
    pr.logs_held++;
    while (pr.logs_held > COL_PRINT_MAX_LOGS && pr.oldest != t) {
        col_print_count.traces_early++;
        col_trace_done(a->out, pr.oldest);
    }
}

void col_print_add_logs(FILE *out, const col_logs_request_t *r, uint64_t now_ms)
{
    col_plogs_t a = {out, now_ms};

    col_each_log(r, col_print_log, &a);
}

/* Logs in the order printed: by span, then time, then arrival. */
static int col_log_order(const void *a, const void *b, void *arg)
{
    const col_plog_t *l = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(l[i].span, l[j].span);

    if (c)
        return c;
    if (l[i].time != l[j].time)
        return l[i].time < l[j].time ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* ---- printing one trace --------------------------------------------------- */

static const char *col_kind_name(int k)
{
    static const char *names[] = {"unspecified", "internal", "server", "client", "producer",
                                  "consumer"};

    return k >= 0 && k < 6 ? names[k] : "?";
}

/* Orders of a trace's spans; ties go by arrival, as the spans came. */
static int col_by_start(const void *a, const void *b, void *arg)
{
    const col_pspan_t *s = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;

    if (s[i].start != s[j].start)
        return s[i].start < s[j].start ? -1 : 1;
    return i < j ? -1 : i > j;
}

static int col_by_parent(const void *a, const void *b, void *arg)
{
    const col_pspan_t *s = arg;
    int c = strcmp(s[*(const size_t *)a].parent, s[*(const size_t *)b].parent);

    return c ? c : col_by_start(a, b, arg);
}

static int col_by_id(const void *a, const void *b, void *arg)
{
    const col_pspan_t *s = arg;

    return strcmp(s[*(const size_t *)a].id, s[*(const size_t *)b].id);
}

/* The first position in ord (sorted by field) whose span's field is >= key. */
static size_t col_lower(const col_pspan_t *s, const size_t *ord, size_t n, size_t field,
                        const char *key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp((const char *)&s[ord[mid]] + field, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where a line's bar goes: the trace's time axis, from its first start
 * (lo) to its last end, COL_PRINT_BAR_COLS wide, starting at column `at`. */
typedef struct col_axis {
    uint64_t lo, hi;
    size_t at;
} col_axis_t;

/* text (cols wide), then spaces up to width columns; the columns taken.
 * out NULL: only measure. */
static size_t col_put_padded(FILE *out, const char *text, size_t cols, size_t width)
{
    size_t w = cols > width ? cols : width;

    if (out) {
        fputs(text, out);
        for (; cols < width; cols++)
            fputc(' ', out);
    }
    return w;
}

/* The bar of [start, end) on the axis: '=' where the span ran ('-' and a
 * '>' at the end for a span still in flight), at least one column. */
static void col_put_bar(FILE *out, const col_pspan_t *s, const col_axis_t *ax)
{
    double span = ax->hi > ax->lo ? (double)(ax->hi - ax->lo) : 1.0;
    uint64_t start = s->start > ax->lo ? s->start : ax->lo, end = s->end > start ? s->end : start;
    size_t from = (size_t)((double)(start - ax->lo) / span * COL_PRINT_BAR_COLS + 0.5);
    size_t to = (size_t)((double)(end - ax->lo) / span * COL_PRINT_BAR_COLS + 0.5), c;

    if (from >= COL_PRINT_BAR_COLS)
        from = COL_PRINT_BAR_COLS - 1;
    if (to > COL_PRINT_BAR_COLS)
        to = COL_PRINT_BAR_COLS;
    if (to <= from)
        to = from + 1;
    fputc('|', out);
    for (c = 0; c < COL_PRINT_BAR_COLS; c++)
        fputc(c < from || c >= to ? ' ' : !s->in_flight ? '=' : c + 1 == to ? '>' : '-', out);
    fputc('|', out);
}

/* One span's line (out NULL: only its columns before the bar, returned). */
static size_t col_print_line(FILE *out, const col_pspan_t *s, size_t depth, const col_axis_t *ax)
{
    size_t cols = s->code[0] ? s->code_cols : 1, n = 2 * depth + 2;
    char ms[32];
    int len;

    if (out)
        fprintf(out, "%*s", (int)n, "");
    n += col_put_padded(out, s->service, s->service_cols, 2 * depth < 16 ? 24 - 2 * depth : 8);
    n += col_put_padded(out, " ", 1, 1);
    n += col_put_padded(out, s->name, s->name_cols, 8);
    len = snprintf(ms, sizeof(ms), " %-6s %-5s ", col_kind_name(s->kind),
                   s->error ? "ERROR" : "ok");
    n += col_put_padded(out, ms, (size_t)len, 0);
    for (; cols < 3; cols++, n++) /* right-aligned in three columns, as "%3s" */
        if (out)
            fputc(' ', out);
    n += col_put_padded(out, s->code[0] ? s->code : "-", s->code[0] ? s->code_cols : 1, 0);
    len = snprintf(ms, sizeof(ms), " %9.2f ms",
                   s->end > s->start ? (double)(s->end - s->start) / 1e6 : 0.0);
    n += col_put_padded(out, ms, (size_t)len, 0);
    if (out == NULL)
        return n;
    col_put_padded(out, "", 0, ax->at > n ? ax->at - n : 0);
    col_put_bar(out, s, ax);
    if (s->query[0])
        fprintf(out, "  %s", s->query);
    fputc('\n', out);
    return n;
}

typedef struct col_tree {
    const col_pspan_t *s;
    size_t n;
    size_t *by_parent, *by_id, *by_start;
    uint8_t *printed;
    struct col_frame {
        size_t span, depth, next; /* next: position in by_parent of the next child */
    } *stack;
    struct col_row {
        size_t span, depth;
    } *rows; /* the lines in the order drawn */
    size_t n_rows;
} col_tree_t;

static void col_row(col_tree_t *tr, size_t i, size_t depth)
{
    tr->printed[i] = 1;
    tr->rows[tr->n_rows++] = (struct col_row){i, depth};
}

/* Span i and everything under it as rows, children in start order, each
 * span once (ids may repeat, parents may form a cycle). */
static void col_tree_subtree(col_tree_t *tr, size_t i)
{
    size_t top = 0;

    col_row(tr, i, 0);
    tr->stack[top++] = (struct col_frame){
        i, 0, col_lower(tr->s, tr->by_parent, tr->n, offsetof(col_pspan_t, parent), tr->s[i].id)};
    while (top) {
        struct col_frame *f = &tr->stack[top - 1];
        size_t c;

        if (tr->s[f->span].id[0] == '\0' || f->next == tr->n ||
            strcmp(tr->s[tr->by_parent[f->next]].parent, tr->s[f->span].id) != 0) {
            top--;
            continue;
        }
        c = tr->by_parent[f->next++];
        if (tr->printed[c])
            continue;
        col_row(tr, c, f->depth + 1);
        tr->stack[top] = (struct col_frame){
            c, f->depth + 1,
            col_lower(tr->s, tr->by_parent, tr->n, offsetof(col_pspan_t, parent), tr->s[c].id)};
        top++;
    }
}

/* A span is a root if it has no parent, or its parent is not here. */
static int col_is_root(const col_tree_t *tr, size_t i)
{
    const char *parent = tr->s[i].parent;
    size_t k;

    if (parent[0] == '\0')
        return 1;
    k = col_lower(tr->s, tr->by_id, tr->n, offsetof(col_pspan_t, id), parent);
    return k == tr->n || strcmp(tr->s[tr->by_id[k]].id, parent) != 0;
}

/* The rows of t in the order drawn: the roots in start order, each with
 * its subtree; then what no root reached (a cycle). 0 if out of memory. */
static int col_tree_rows(col_tree_t *tr)
{
    size_t i, pass, n = tr->n;

    tr->by_parent = malloc(n * sizeof(size_t));
    tr->by_id = malloc(n * sizeof(size_t));
    tr->by_start = malloc(n * sizeof(size_t));
    tr->printed = calloc(n, 1);
    tr->stack = malloc(n * sizeof(*tr->stack));
    tr->rows = malloc(n * sizeof(*tr->rows));
    if (!tr->by_parent || !tr->by_id || !tr->by_start || !tr->printed || !tr->stack || !tr->rows)
        return 0;
    for (i = 0; i < n; i++)
        tr->by_parent[i] = tr->by_id[i] = tr->by_start[i] = i;
    qsort_r(tr->by_parent, n, sizeof(size_t), col_by_parent, (void *)tr->s);
    qsort_r(tr->by_id, n, sizeof(size_t), col_by_id, (void *)tr->s);
    qsort_r(tr->by_start, n, sizeof(size_t), col_by_start, (void *)tr->s);
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < n; i++) {
            size_t k = tr->by_start[i];

            if (!tr->printed[k] && (pass == 1 || col_is_root(tr, k)))
                col_tree_subtree(tr, k);
        }
    return 1;
}

/* A trace's log records sorted (col_log_order), and which are printed. */
typedef struct col_logs_ord {
    size_t *ord;
    uint8_t *done;
} col_logs_ord_t;

static void col_logs_order(const col_ptrace_t *t, col_logs_ord_t *lg)
{
    size_t i;

    if (t->n_logs == 0)
        return;
    lg->ord = malloc(t->n_logs * sizeof(size_t));
    lg->done = calloc(t->n_logs, 1);
    if (lg->ord == NULL || lg->done == NULL) { /* out of memory: the trace without its logs */
        free(lg->ord), free(lg->done);
        lg->ord = NULL, lg->done = NULL;
        return;
    }
    for (i = 0; i < t->n_logs; i++)
        lg->ord[i] = i;
    qsort_r(lg->ord, t->n_logs, sizeof(size_t), col_log_order, (void *)t->logs);
}

/* One record's line, as a child of the span above it: "log", the
 * severity, its time after the trace's start, the body. */
static void col_print_log_line(FILE *out, const col_plog_t *l, size_t depth, const col_axis_t *ax)
{
    fprintf(out, "%*slog ", (int)(2 * depth + 2), "");
    col_put_padded(out, l->sev, l->sev_cols, 5);
    if (l->time && ax->lo != UINT64_MAX && l->time >= ax->lo && l->time - ax->lo < 3600e9)
        fprintf(out, " %+9.2f ms", (double)(l->time - ax->lo) / 1e6);
    fprintf(out, "  %s\n", l->body);
}

/* The records of span `id` (binary search in the sorted order), once. */
static void col_print_span_logs(FILE *out, const col_ptrace_t *t, col_logs_ord_t *lg,
                                const char *id, size_t depth, const col_axis_t *ax)
{
    size_t lo = 0, hi = t->n_logs;

    if (id[0] == '\0')
        return;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(t->logs[lg->ord[mid]].span, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->n_logs && strcmp(t->logs[lg->ord[lo]].span, id) == 0; lo++)
        if (!lg->done[lg->ord[lo]]) {
            lg->done[lg->ord[lo]] = 1;
            col_print_log_line(out, &t->logs[lg->ord[lo]], depth, ax);
        }
}

/* The trace's line, its axis (0 to its length, over the bars), then a
 * line per span with its bar, all bars in one column, each span's log
 * records under it; records of no span held here last. */
static void col_print_trace(FILE *out, col_ptrace_t *t)
{
    col_tree_t tr = {t->spans, t->n, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    col_axis_t ax = {UINT64_MAX, 0, 0};
    col_logs_ord_t lg = {NULL, NULL};
    char head[256], len[32];
    size_t i, w;
    int n;

    for (i = 0; i < t->n; i++) {
        if (t->spans[i].start < ax.lo)
            ax.lo = t->spans[i].start;
        if (t->spans[i].end > ax.hi)
            ax.hi = t->spans[i].end;
    }
    if (t->n && !col_tree_rows(&tr)) { /* out of memory: as they came, flat */
        tr.n_rows = 0;
        for (i = 0; tr.rows && i < t->n; i++)
            tr.rows[tr.n_rows++] = (struct col_row){i, 0};
    }
    for (i = 0; i < tr.n_rows; i++)
        if ((w = col_print_line(NULL, &t->spans[tr.rows[i].span], tr.rows[i].depth, &ax)) > ax.at)
            ax.at = w;
    snprintf(len, sizeof(len), "%.2f ms", ax.hi > ax.lo ? (double)(ax.hi - ax.lo) / 1e6 : 0.0);
    n = snprintf(head, sizeof(head), "trace %s  %zu span%s", t->trace, t->n, t->n == 1 ? "" : "s");
    if (t->cut)
        n += snprintf(head + n, sizeof(head) - (size_t)n, " (%zu more not shown)", t->cut);
    if (t->n_logs)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "  %zu log record%s", t->n_logs,
                      t->n_logs == 1 ? "" : "s");
    if (t->logs_cut)
        n += snprintf(head + n, sizeof(head) - (size_t)n, " (%zu more not shown)", t->logs_cut);
    col_logs_order(t, &lg);
    n += snprintf(head + n, sizeof(head) - (size_t)n, "  %s", len);
    if ((size_t)n > ax.at)
        ax.at = (size_t)n;
    ax.at += 2;
    col_put_padded(out, head, (size_t)n, ax.at);
    fprintf(out, "|0%*s|\n", COL_PRINT_BAR_COLS - 1, len);
    for (i = 0; i < tr.n_rows; i++) {
        col_print_line(out, &t->spans[tr.rows[i].span], tr.rows[i].depth, &ax);
        if (lg.ord)
            col_print_span_logs(out, t, &lg, t->spans[tr.rows[i].span].id, tr.rows[i].depth + 1,
                                &ax);
    }
    for (i = 0; lg.ord && i < t->n_logs; i++) /* of no span held here: at the end */
        if (!lg.done[lg.ord[i]])
            col_print_log_line(out, &t->logs[lg.ord[i]], 0, &ax);
    free(tr.by_parent), free(tr.by_id), free(tr.by_start), free(tr.printed), free(tr.stack);
    free(tr.rows);
    free(lg.ord), free(lg.done);
    fflush(out);
}

void col_print_due(FILE *out, uint64_t now_ms, int force)
{
    while (pr.oldest && (force || now_ms - pr.oldest->last_ms >= COL_PRINT_QUIET_MS))
        col_trace_done(out, pr.oldest);
}

/* --print as a sink: traces printed on stdout as they become quiet. */
static int col_print_wanted(void)
{
    return col_opt.print;
}

static int col_print_take(col_batch_t *b)
{
    col_print_add(stdout, b->r, b->now_ms);
    return COL_PASS;
}

static void col_print_take_logs(col_logs_batch_t *b)
{
    col_print_add_logs(stdout, b->r, b->now_ms);
}

static void col_print_tick(uint64_t now_ms, int last)
{
    col_print_due(stdout, now_ms, last);
}

static void col_print_render(col_buf_t *b)
{
#define COL_RENDER_PRINT(name, what)                                                        \
    col_metrics_counter(b, "spanshim_collector_print_" #name "_total", NULL, what,          \
                        __atomic_load_n(&col_print_count.name, __ATOMIC_RELAXED));
    COL_PRINT_COUNTERS(COL_RENDER_PRINT)
#undef COL_RENDER_PRINT
}

static void col_print_totals(col_buf_t *b)
{
    if (col_print_count.spans_cut || col_print_count.traces_early)
        col_buf_printf(b, "; --print left out %llu spans (over %d in a trace), printed %llu "
                          "traces early (over %d spans held)",
                       col_print_count.spans_cut, COL_PRINT_TRACE_SPANS,
                       col_print_count.traces_early, COL_PRINT_MAX_SPANS);
    if (col_print_count.logs_cut)
        col_buf_printf(b, "; --print left out %llu log records (over %d in a trace)",
                       col_print_count.logs_cut, COL_PRINT_TRACE_LOGS);
}

const col_sink_t col_sink_print = {
    .name = "print",
    .wanted = col_print_wanted,
    .take = col_print_take,
    .tick = col_print_tick,
    .render = col_print_render,
    .totals = col_print_totals,
    .take_logs = col_print_take_logs,
};
