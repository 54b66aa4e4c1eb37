/*
 * col_vstore.c - the trace viewer's bounded store and its JSON (see
 * col_vstore.h).
 *
 * Traces are found by id through a hash table keyed with col_hash (a sender
 * cannot choose ids that share a bucket) and kept on a list in the order
 * first seen, the oldest first, which is the order they go in when a cap is
 * reached. A span's JSON is made before the lock is taken, so the web
 * server's threads wait only for pointers to move. The service map is
 * col_vmap.c's.
 */
#define _GNU_SOURCE
#include "col_vstore.h"
#include "col_vstore_int.h"
#include "col_logs.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define COL_VSTORE_NAME_MAX 256  /* bytes of a name or service kept for the lists */
#define COL_VSTORE_LIST_SERVICES 16 /* services named in a trace's summary */

col_vstore_counts_t col_vstore_count;

pthread_mutex_t col_vs_lock = PTHREAD_MUTEX_INITIALIZER;
static col_vstore_cfg_t col_vs_cfg;
static col_vtrace_t **col_vs_bucket;
static size_t col_vs_nbuckets;
col_vtrace_t *col_vs_oldest;
size_t col_vs_traces;
static col_vtrace_t *col_vs_newest;
static size_t col_vs_spans, col_vs_bytes;

#define COL_VS_COUNT(f, n) __atomic_add_fetch(&col_vstore_count.f, (n), __ATOMIC_RELAXED)

void col_vstore_init(const col_vstore_cfg_t *cfg)
{
    size_t n = 64;

    col_vs_cfg.max_traces = cfg && cfg->max_traces ? cfg->max_traces : COL_VSTORE_TRACES;
    col_vs_cfg.max_spans = cfg && cfg->max_spans ? cfg->max_spans : COL_VSTORE_SPANS;
    col_vs_cfg.max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : (size_t)COL_VSTORE_MB << 20;
    while (n < col_vs_cfg.max_traces && n < ((size_t)1 << 20))
        n <<= 1;
    free(col_vs_bucket);
    col_vs_bucket = calloc(n, sizeof(*col_vs_bucket));
    col_vs_nbuckets = col_vs_bucket ? n : 0;
}

static void col_vspan_free(col_vspan_t *s)
{
    free(s->name);
    free(s->service);
    free(s->json);
}

static col_vtrace_t **col_vs_slot(const uint8_t *id)
{
    col_vtrace_t **p = &col_vs_bucket[col_hash(id, 16) & (col_vs_nbuckets - 1)];

    while (*p && memcmp((*p)->id, id, 16) != 0)
        p = &(*p)->hnext;
    return p;
}

/* Take t out of the table and the age list and free it. */
static void col_vs_drop(col_vtrace_t *t)
{
    col_vtrace_t **p = col_vs_slot(t->id);
    size_t i;

    *p = t->hnext;
    if (t->older)
        t->older->newer = t->newer;
    else
        col_vs_oldest = t->newer;
    if (t->newer)
        t->newer->older = t->older;
    else
        col_vs_newest = t->older;
    col_vs_traces--;
    col_vs_spans -= t->n;
    col_vs_bytes -= t->bytes;
    for (i = 0; i < t->n; i++)
        col_vspan_free(&t->spans[i]);
    for (i = 0; i < t->n_logs; i++)
        free(t->logs[i].json);
    free(t->spans);
    free(t->logs);
    free(t);
}

static void col_vs_evict_oldest(void)
{
    COL_VS_COUNT(traces_evicted, 1);
    COL_VS_COUNT(spans_evicted, col_vs_oldest->n);
    COL_VS_COUNT(logs_evicted, col_vs_oldest->n_logs);
    col_vs_drop(col_vs_oldest);
}

static col_vtrace_t *col_vs_trace(const uint8_t *id)
{
    col_vtrace_t **p = col_vs_slot(id), *t;

    if (*p)
        return *p;
    if (col_vs_traces >= col_vs_cfg.max_traces) {
        col_vs_evict_oldest();
        p = col_vs_slot(id); /* the chain may have changed */
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    memcpy(t->id, id, 16);
    col_hex(id, 16, t->hex);
    t->bytes = sizeof(*t);
    t->older = col_vs_newest;
    if (col_vs_newest)
        col_vs_newest->newer = t;
    else
        col_vs_oldest = t;
    col_vs_newest = t;
    *p = t;
    col_vs_traces++;
    col_vs_bytes += t->bytes;
    return t;
}

/* Make room for `bytes` more (and one span more if `one_more`), letting
 * the oldest traces but t go; 0 if t alone is too much. */
static int col_vs_room(const col_vtrace_t *t, size_t bytes, int one_more)
{
    while (col_vs_bytes + bytes > col_vs_cfg.max_bytes ||
           col_vs_spans + (size_t)one_more > col_vs_cfg.max_spans) {
        if (col_vs_oldest == t && t->newer == NULL)
            return 0;
        if (col_vs_oldest == t) { /* t is oldest but not alone: the next one goes */
            col_vtrace_t *next = t->newer;

            COL_VS_COUNT(traces_evicted, 1);
            COL_VS_COUNT(spans_evicted, next->n);
            COL_VS_COUNT(logs_evicted, next->n_logs);
            col_vs_drop(next);
            continue;
        }
        col_vs_evict_oldest();
    }
    return 1;
}

static col_vspan_t *col_vs_find(col_vtrace_t *t, const col_vspan_t *s)
{
    size_t i = t->n;

    if (!s->has_id)
        return NULL;
    while (i--) /* the newest first: a whole span follows its in-flight one soon */
        if (t->spans[i].has_id && memcmp(t->spans[i].id, s->id, 8) == 0)
            return &t->spans[i];
    return NULL;
}

/* Put s (whose strings are now the store's or freed) into trace `id`. */
static void col_vs_put(const uint8_t *id, col_vspan_t *s)
{
    col_vtrace_t *t = col_vs_trace(id);
    col_vspan_t *old;

    if (t == NULL) {
        COL_VS_COUNT(spans_no_room, 1);
        col_vspan_free(s);
        return;
    }
    old = col_vs_find(t, s);
    if (old && s->in_flight && !old->in_flight) {
        COL_VS_COUNT(spans_stale, 1);
        col_vspan_free(s);
        return;
    }
    if (old) {
        size_t was = old->bytes;

        if (s->bytes > was && !col_vs_room(t, s->bytes - was, 0)) {
            COL_VS_COUNT(spans_no_room, 1);
            col_vspan_free(s);
            return;
        }
        col_vspan_free(old);
        *old = *s;
        t->bytes += s->bytes - was;
        col_vs_bytes += s->bytes - was;
        COL_VS_COUNT(spans_replaced, 1);
        COL_VS_COUNT(spans_kept, 1);
        return;
    }
    if (t->n >= COL_VSTORE_TRACE_SPANS) {
        COL_VS_COUNT(spans_cut, 1);
        col_vspan_free(s);
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        col_vspan_t *p;

        if (cap > COL_VSTORE_TRACE_SPANS)
            cap = COL_VSTORE_TRACE_SPANS;
        if (!col_vs_room(t, (cap - t->cap) * sizeof(*p) + s->bytes, 1) ||
            (p = realloc(t->spans, cap * sizeof(*p))) == NULL) {
            COL_VS_COUNT(spans_no_room, 1);
            col_vspan_free(s);
            if (t->n == 0 && t->n_logs == 0)
                col_vs_drop(t);
            return;
        }
        t->bytes += (cap - t->cap) * sizeof(*p);
        col_vs_bytes += (cap - t->cap) * sizeof(*p);
        t->spans = p;
        t->cap = cap;
    } else if (!col_vs_room(t, s->bytes, 1)) {
        COL_VS_COUNT(spans_no_room, 1);
        col_vspan_free(s);
        return;
    }
    t->spans[t->n++] = *s;
    t->bytes += s->bytes;
    col_vs_bytes += s->bytes;
    col_vs_spans++;
    COL_VS_COUNT(spans_kept, 1);
}

static char *col_vs_strdup(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max) : 0;
    char *p = malloc(n + 1);

    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* The JSON of a request holding only s, with its resource and scope. */
static char *col_vs_span_json(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                              const col_span_t *s, size_t *len)
{
    col_span_t *sp = (col_span_t *)s;
    col_scope_spans_t ss1 = *ss, *ssp = &ss1;
    col_resource_spans_t rs1 = *rs, *rsp = &rs1;
    col_request_t req;
    col_buf_t b = {0};

    ss1.n_spans = 1;
    ss1.spans = &sp;
    rs1.n_scope_spans = 1;
    rs1.scope_spans = &ssp;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    col_json_request(&b, &req);
    if (b.oom) {
        col_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

static void col_vs_add_span(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                            const col_span_t *s, void *arg)
{
    col_vspan_t v;
    size_t len = 0;

    (void)arg;
    if (s->trace_id.len != 16) {
        COL_VS_COUNT(spans_invalid, 1);
        return;
    }
    memset(&v, 0, sizeof(v));
    if ((v.has_id = s->span_id.len == 8))
        memcpy(v.id, s->span_id.data, 8);
    if ((v.has_parent = s->parent_span_id.len == 8))
        memcpy(v.parent, s->parent_span_id.data, 8);
    v.start = s->start_time_unix_nano;
    v.end = s->end_time_unix_nano;
    v.kind = (int)s->kind;
    v.error = s->status && s->status->code ==
                               OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    v.in_flight = col_attr_bool(s->attributes, s->n_attributes, COL_VSTORE_IN_FLIGHT);
    v.name = col_vs_strdup(s->name, COL_VSTORE_NAME_MAX);
    v.service = col_vs_strdup(col_service(rs), COL_VSTORE_NAME_MAX);
    v.json = col_vs_span_json(rs, ss, s, &len);
    if (v.name == NULL || v.service == NULL || v.json == NULL) {
        COL_VS_COUNT(spans_no_room, 1);
        col_vspan_free(&v);
        return;
    }
    v.bytes = sizeof(v) + strlen(v.name) + strlen(v.service) + len + 3;
    pthread_mutex_lock(&col_vs_lock);
    if (col_vs_nbuckets == 0) {
        COL_VS_COUNT(spans_no_room, 1);
        col_vspan_free(&v);
    } else {
        col_vs_put(s->trace_id.data, &v);
    }
    pthread_mutex_unlock(&col_vs_lock);
}

void col_vstore_add(const col_request_t *r)
{
    col_each_span(r, col_vs_add_span, NULL);
}

/* Put l (its json now the store's or freed) into trace `id`. */
static void col_vs_put_log(const uint8_t *id, col_vlog_t *l)
{
    col_vtrace_t *t = col_vs_trace(id);

    if (t == NULL) {
        COL_VS_COUNT(logs_no_room, 1);
        free(l->json);
        return;
    }
    if (t->n_logs >= COL_VSTORE_TRACE_LOGS) {
        COL_VS_COUNT(logs_cut, 1);
        free(l->json);
        return;
    }
    if (t->n_logs == t->cap_logs) {
        size_t cap = t->cap_logs ? t->cap_logs * 2 : 8;
        col_vlog_t *p;

        if (cap > COL_VSTORE_TRACE_LOGS)
            cap = COL_VSTORE_TRACE_LOGS;
        if (!col_vs_room(t, (cap - t->cap_logs) * sizeof(*p) + l->bytes, 0) ||
            (p = realloc(t->logs, cap * sizeof(*p))) == NULL) {
            COL_VS_COUNT(logs_no_room, 1);
            free(l->json);
            if (t->n == 0 && t->n_logs == 0)
                col_vs_drop(t);
            return;
        }
        t->bytes += (cap - t->cap_logs) * sizeof(*p);
        col_vs_bytes += (cap - t->cap_logs) * sizeof(*p);
        t->logs = p;
        t->cap_logs = cap;
    } else if (!col_vs_room(t, l->bytes, 0)) {
        COL_VS_COUNT(logs_no_room, 1);
        free(l->json);
        return;
    }
    t->logs[t->n_logs++] = *l;
    t->bytes += l->bytes;
    col_vs_bytes += l->bytes;
    COL_VS_COUNT(logs_kept, 1);
}

static void col_vs_add_log(const col_resource_logs_t *rl, const col_scope_logs_t *sl,
                           const col_log_t *l, void *arg)
{
    col_buf_t b = {0};
    const char *svc;
    col_vlog_t v;

    (void)sl, (void)arg;
    if (!col_log_has_trace(l)) {
        COL_VS_COUNT(logs_no_trace, 1);
        return;
    }
    memset(&v, 0, sizeof(v));
    if ((v.has_span = col_log_has_span(l)))
        memcpy(v.span, l->span_id.data, 8);
    v.time = l->time_unix_nano ? l->time_unix_nano : l->observed_time_unix_nano;
    svc = col_logs_service(rl) ? col_logs_service(rl) : "";
    col_buf_puts(&b, "{\"service\":");
    col_json_strn(&b, svc, strnlen(svc, COL_VSTORE_NAME_MAX));
    col_buf_puts(&b, ",\"record\":");
    col_json_log_record(&b, l);
    col_buf_put(&b, "}", 1);
    if (b.oom) {
        COL_VS_COUNT(logs_no_room, 1);
        col_buf_free(&b);
        return;
    }
    v.json = b.p;
    v.bytes = sizeof(v) + b.len + 1;
    pthread_mutex_lock(&col_vs_lock);
    if (col_vs_nbuckets == 0) {
        COL_VS_COUNT(logs_no_room, 1);
        free(v.json);
    } else {
        col_vs_put_log(l->trace_id.data, &v);
    }
    pthread_mutex_unlock(&col_vs_lock);
}

void col_vstore_add_logs(const col_logs_request_t *r)
{
    col_each_log(r, col_vs_add_log, NULL);
}

void col_vstore_clear(void)
{
    pthread_mutex_lock(&col_vs_lock);
    while (col_vs_oldest)
        col_vs_drop(col_vs_oldest);
    pthread_mutex_unlock(&col_vs_lock);
}

void col_vstore_held(size_t *traces, size_t *spans, size_t *bytes)
{
    pthread_mutex_lock(&col_vs_lock);
    *traces = col_vs_traces;
    *spans = col_vs_spans;
    *bytes = col_vs_bytes;
    pthread_mutex_unlock(&col_vs_lock);
}

/* ---- filters ------------------------------------------------------------ */

void col_vstore_filter_init(col_vstore_filter_t *f)
{
    memset(f, 0, sizeof(*f));
    f->status = -1;
    f->limit = 100;
}

/* A duration in milliseconds (decimals allowed) as ns; 0 if not one. */
static int col_vs_parse_ms(const char *v, uint64_t *ns)
{
    char *end;
    double ms;

    if (*v == '\0')
        return 0;
    ms = strtod(v, &end);
    if (*end != '\0' || !isfinite(ms) || ms < 0 || ms > 1e12)
        return 0;
    *ns = (uint64_t)(ms * 1e6 + 0.5);
    return 1;
}

int col_vstore_filter_set(col_vstore_filter_t *f, const char *key, const char *value,
                          const char **why)
{
    size_t n = strlen(value), i;

    if (strcmp(key, "service") == 0) {
        if (n >= sizeof(f->service))
            return *why = "service: longer than 255 bytes", 0;
        memcpy(f->service, value, n + 1);
    } else if (strcmp(key, "status") == 0) {
        if (strcmp(value, "ok") == 0)
            f->status = 0;
        else if (strcmp(value, "error") == 0)
            f->status = 1;
        else if (n == 0 || strcmp(value, "any") == 0)
            f->status = -1;
        else
            return *why = "status: ok, error or any", 0;
    } else if (strcmp(key, "min_ms") == 0 || strcmp(key, "max_ms") == 0) {
        uint64_t *to = key[1] == 'i' ? &f->min_ns : &f->max_ns;

        if (n == 0)
            *to = 0;
        else if (!col_vs_parse_ms(value, to))
            return *why = "min_ms, max_ms: a number of milliseconds", 0;
    } else if (strcmp(key, "trace_id") == 0) {
        if (n >= sizeof(f->trace_id))
            return *why = "trace_id: at most 32 hex digits", 0;
        for (i = 0; i < n; i++) {
            char c = value[i];

            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return *why = "trace_id: hex digits only", 0;
            f->trace_id[i] = c;
        }
        f->trace_id[n] = '\0';
    } else if (strcmp(key, "limit") == 0) {
        char *end;
        unsigned long l = strtoul(value, &end, 10);

        if (n == 0 || *end != '\0' || value[0] == '-' || l < 1 || l > COL_VSTORE_LIST_MAX)
            return *why = "limit: 1 to " COL_STR(COL_VSTORE_LIST_MAX), 0;
        f->limit = l;
    }
    return 1;
}

/* ---- what the lists say of a trace ---------------------------------------- */

typedef struct col_vsum {
    const col_vtrace_t *t;
    const col_vspan_t *root;
    uint64_t start, end;
    size_t errors, in_flight;
} col_vsum_t;

static void col_vs_summarize(const col_vtrace_t *t, col_vsum_t *m)
{
    size_t i;

    memset(m, 0, sizeof(*m));
    m->t = t;
    for (i = 0; i < t->n; i++) {
        const col_vspan_t *s = &t->spans[i];

        if (i == 0 || s->start < m->start)
            m->start = s->start;
        if (col_vs_end(s) > m->end)
            m->end = col_vs_end(s);
        m->errors += (size_t)s->error;
        m->in_flight += (size_t)s->in_flight;
        /* The root: a span without a parent, else the one that started first. */
        if (m->root == NULL || (s->has_parent == m->root->has_parent && s->start < m->root->start) ||
            (!s->has_parent && m->root->has_parent))
            m->root = s;
    }
    for (i = 0; t->n == 0 && i < t->n_logs; i++) { /* only records yet: their times */
        if (i == 0 || t->logs[i].time < m->start)
            m->start = t->logs[i].time;
        if (t->logs[i].time > m->end)
            m->end = t->logs[i].time;
    }
}

static int col_vs_has_service(const col_vtrace_t *t, const char *svc)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->spans[i].service, svc) == 0)
            return 1;
    return 0;
}

static int col_vs_matches(const col_vsum_t *m, const col_vstore_filter_t *f)
{
    uint64_t d = m->end - m->start;

    if (f->status >= 0 && (m->errors > 0) != (f->status == 1))
        return 0;
    if (d < f->min_ns || (f->max_ns && d > f->max_ns))
        return 0;
    if (f->trace_id[0] && strncmp(m->t->hex, f->trace_id, strlen(f->trace_id)) != 0)
        return 0;
    return f->service[0] == '\0' || col_vs_has_service(m->t, f->service);
}

void col_vs_ms(col_buf_t *b, const char *key, uint64_t ns)
{
    col_buf_printf(b, ",\"%s\":%.3f", key, (double)ns / 1e6);
}

static void col_vs_services_of(col_buf_t *b, const col_vtrace_t *t)
{
    const char *seen[COL_VSTORE_LIST_SERVICES];
    size_t n = 0, i, j;

    col_buf_puts(b, ",\"services\":[");
    for (i = 0; i < t->n && n < COL_VSTORE_LIST_SERVICES; i++) {
        for (j = 0; j < n && strcmp(seen[j], t->spans[i].service) != 0; j++)
            ;
        if (j < n)
            continue;
        if (n)
            col_buf_put(b, ",", 1);
        col_json_string(b, t->spans[i].service);
        seen[n++] = t->spans[i].service;
    }
    col_buf_put(b, "]", 1);
}

static void col_vs_summary_json(col_buf_t *b, const col_vsum_t *m)
{
    col_buf_puts(b, "{\"traceId\":\"");
    col_buf_puts(b, m->t->hex);
    col_buf_puts(b, "\",\"rootName\":");
    col_json_string(b, m->root ? m->root->name : "");
    col_buf_puts(b, ",\"rootService\":");
    col_json_string(b, m->root ? m->root->service : "");
    col_vs_services_of(b, m->t);
    col_buf_printf(b, ",\"startTimeUnixNano\":\"%llu\"", (unsigned long long)m->start);
    col_vs_ms(b, "durationMs", m->end - m->start);
    col_buf_printf(b, ",\"spanCount\":%zu,\"errorCount\":%zu,\"inFlightCount\":%zu,"
                      "\"error\":%s,\"inFlight\":%s,\"logCount\":%zu}",
                   m->t->n, m->errors, m->in_flight, m->errors ? "true" : "false",
                   m->in_flight ? "true" : "false", m->t->n_logs);
}

static int col_vs_later_first(const void *a, const void *b)
{
    const col_vsum_t *x = a, *y = b;

    return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

static void col_vs_counters_json(col_buf_t *b)
{
    int first = 1;

    col_buf_printf(b, ",\"held\":{\"traces\":%zu,\"spans\":%zu,\"bytes\":%zu,"
                      "\"maxTraces\":%zu,\"maxSpans\":%zu,\"maxBytes\":%zu},\"counters\":{",
                   col_vs_traces, col_vs_spans, col_vs_bytes, col_vs_cfg.max_traces,
                   col_vs_cfg.max_spans, col_vs_cfg.max_bytes);
#define COL_VS_JSON(name, what)                                                          \
    col_buf_printf(b, "%s\"" #name "\":%llu", first ? "" : ",",                          \
                   __atomic_load_n(&col_vstore_count.name, __ATOMIC_RELAXED));          \
    first = 0;
    COL_VSTORE_COUNTERS(COL_VS_JSON)
#undef COL_VS_JSON
    col_buf_put(b, "}", 1);
}

void col_vstore_traces_json(col_buf_t *b, const col_vstore_filter_t *f)
{
    col_vsum_t *all;
    const col_vtrace_t *t;
    size_t n = 0, i;

    pthread_mutex_lock(&col_vs_lock);
    all = malloc((col_vs_traces ? col_vs_traces : 1) * sizeof(*all));
    for (t = col_vs_oldest; all && t; t = t->newer) {
        col_vs_summarize(t, &all[n]);
        if (col_vs_matches(&all[n], f))
            n++;
    }
    if (all)
        qsort(all, n, sizeof(*all), col_vs_later_first);
    col_buf_puts(b, "{\"traces\":[");
    for (i = 0; all && i < n && i < f->limit; i++) {
        if (i)
            col_buf_put(b, ",", 1);
        col_vs_summary_json(b, &all[i]);
    }
    col_buf_printf(b, "],\"matched\":%zu", n);
    col_vs_counters_json(b);
    col_buf_put(b, "}", 1);
    pthread_mutex_unlock(&col_vs_lock);
    if (all == NULL)
        b->oom = 1;
    free(all);
}

/* 32 hex digits as 16 bytes; 0 if hex is not that. */
static int col_vs_unhex(const char *hex, uint8_t *out)
{
    size_t i;

    for (i = 0; i < 32; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

        if (v < 0)
            return 0;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return hex[32] == '\0';
}

int col_vstore_trace_json(col_buf_t *b, const char *hex_id)
{
    const col_vtrace_t *t;
    col_vsum_t m;
    uint8_t id[16];
    size_t i;

    if (!col_vs_unhex(hex_id, id))
        return 0;
    pthread_mutex_lock(&col_vs_lock);
    t = col_vs_nbuckets ? *col_vs_slot(id) : NULL;
    if (t) {
        col_vs_summarize(t, &m);
        col_buf_puts(b, "{\"summary\":");
        col_vs_summary_json(b, &m);
        col_buf_puts(b, ",\"spans\":[");
        for (i = 0; i < t->n; i++) {
            if (i)
                col_buf_put(b, ",", 1);
            col_buf_puts(b, t->spans[i].json);
        }
        col_buf_puts(b, "],\"logs\":[");
        for (i = 0; i < t->n_logs; i++) {
            if (i)
                col_buf_put(b, ",", 1);
            col_buf_puts(b, t->logs[i].json);
        }
        col_buf_puts(b, "]}");
    }
    pthread_mutex_unlock(&col_vs_lock);
    return t != NULL;
}
