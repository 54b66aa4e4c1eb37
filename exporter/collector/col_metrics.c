/*
 * col_metrics.c - RED metrics and the service graph, from the spans.
 *
 * Every span received counts once, before tail sampling drops any, so the
 * numbers stay exact whatever is kept. A report of a span still open
 * (spanshim.span.in_flight=true) is not a call: it is counted on its own,
 * and its whole span counts when it comes. The names and labels are those of
 * the OpenTelemetry Collector's spanmetrics and servicegraph connectors,
 * so dashboards made for them work unchanged:
 *
 *   traces_span_metrics_calls_total{service_name, span_kind, status_code,
 *       http_request_method, http_response_status_code,
 *       db_system_name, db_operation_name}
 *   traces_span_metrics_duration_seconds (histogram, same labels)
 *   traces_service_graph_request_total{client, server[, connection_type]}
 *   traces_service_graph_request_failed_total{client, server[, ...]}
 *   traces_service_graph_request_server_seconds, ..._client_seconds
 *
 * The last four span labels are the connector's configured dimensions
 * (the attribute's name, dots made underscores): as there, a span without
 * the attribute has no such label, so an HTTP series has no db_ labels
 * and a database series no http_ ones.
 *
 * A graph edge is a CLIENT span and the SERVER span whose parent it is,
 * whichever arrives first; the first waits (at most COL_PEND_MS, and at
 * most COL_PEND_MAX of them) for the other. Errors: status code ERROR on
 * either side. A database CLIENT span (db.system.name) has no SERVER
 * span to wait for: as the connector does for a span with a database
 * name, it is an edge at once, to a node named from the span itself
 * (col_db_node), with connection_type="database" and the client's
 * duration on both sides. A DNS lookup (dns.question.name) is no request
 * to a service: it is no edge and waits for nothing. Series are capped
 * (COL_SERIES_MAX per family); label values come from the input, so they
 * are cut and escaped.
 */
#define _GNU_SOURCE
#include "col_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COL_SERIES_MAX 10000
#define COL_PEND_MAX 100000
#define COL_PEND_MS 10000
#define COL_LABEL_MAX 128
#define COL_BUCKETS 12
#define COL_HASH 4096
#define COL_PEND_HASH 65536

static const char *const col_le[COL_BUCKETS] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                 "0.25",  "0.5",   "1",    "2.5",   "5",    "10"};
static const double col_le_s[COL_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,   1,    2.5,   5,    10};

typedef struct col_hist {
    unsigned long long b[COL_BUCKETS], count;
    double sum;
} col_hist_t;

typedef struct col_series {
    struct col_series *chain, *next;
    char *labels;
    unsigned long long calls, failed;
    col_hist_t h, h2; /* spans: duration; edges: server, client seconds */
} col_series_t;

typedef struct col_table {
    col_series_t *hash[COL_HASH];
    col_series_t *all, **tail;
    size_t n;
    unsigned long long dropped;
} col_table_t;

/* A span waiting for the other side of its edge. */
typedef struct col_pend {
    struct col_pend *chain, *fifo;
    uint8_t id[8];     /* the client span's id */
    uint8_t client;    /* this is the client side */
    uint8_t error;
    uint8_t live;      /* still waiting (not yet paired) */
    char service[COL_LABEL_MAX];
    double seconds;
    uint64_t at_ms;
} col_pend_t;

static pthread_mutex_t col_m_lock = PTHREAD_MUTEX_INITIALIZER;
static col_table_t col_span_series, col_edge_series;
static col_pend_t *col_pend_hash[COL_PEND_HASH];
static col_pend_t *col_pend_head, **col_pend_tail = &col_pend_head;
static size_t col_pend_n;
static unsigned long long col_unpaired;
static unsigned long long col_in_flight; /* reports of open spans: not calls */

/* ---- series ------------------------------------------------------------- */

static col_series_t *col_series_get(col_table_t *t, const char *labels)
{
    unsigned b = (unsigned)(col_hash(labels, strlen(labels)) % COL_HASH);
    col_series_t *s;

    for (s = t->hash[b]; s; s = s->chain)
        if (strcmp(s->labels, labels) == 0)
            return s;
    if (t->n >= COL_SERIES_MAX || (s = calloc(1, sizeof(*s))) == NULL ||
        (s->labels = strdup(labels)) == NULL) {
        free(s);
        t->dropped++;
        return NULL;
    }
    if (t->tail == NULL)
        t->tail = &t->all;
    s->chain = t->hash[b];
    t->hash[b] = s;
    *t->tail = s;
    t->tail = &s->next;
    t->n++;
    return s;
}

static void col_hist_add(col_hist_t *h, double seconds)
{
    int i;

    for (i = 0; i < COL_BUCKETS; i++)
        if (seconds <= col_le_s[i])
            h->b[i]++;
    h->count++;
    h->sum += seconds;
}

/* name="value", the value cut to COL_LABEL_MAX and escaped. */
static void col_label(col_buf_t *b, const char *name, const char *v)
{
    size_t i;

    if (b->len)
        col_buf_put(b, ",", 1);
    col_buf_puts(b, name);
    col_buf_put(b, "=\"", 2);
    for (i = 0; v && v[i] && i < COL_LABEL_MAX; i++) {
        if (v[i] == '\\' || v[i] == '"')
            col_buf_put(b, "\\", 1);
        if (v[i] == '\n')
            col_buf_put(b, "\\n", 2);
        else
            col_buf_put(b, v + i, 1);
    }
    col_buf_put(b, "\"", 1);
}

/* A dimension: name="value" if the span has a value, else no label. */
static void col_dimension(col_buf_t *b, const char *name, const char *v)
{
    if (v && v[0])
        col_label(b, name, v);
}

/* ---- span metrics --------------------------------------------------------- */

static const char *col_kind_label(int k)
{
    static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                        "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                                        "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};

    return k >= 0 && k <= 5 ? names[k] : names[0];
}

static int col_span_error(const col_span_t *s)
{
    return s->status && s->status->code == 2;
}

static double col_span_seconds(const col_span_t *s)
{
    return s->end_time_unix_nano >= s->start_time_unix_nano
               ? (double)(s->end_time_unix_nano - s->start_time_unix_nano) / 1e9 : 0;
}

static void col_metrics_span(const col_resource_spans_t *rs, const col_span_t *s, col_buf_t *lb)
{
    static const char *const status[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                         "STATUS_CODE_ERROR"};
    const char *svc = col_service(rs);
    int64_t code = col_attr_int(s->attributes, s->n_attributes, "http.response.status_code");
    int st = s->status && s->status->code >= 0 && s->status->code <= 2 ? (int)s->status->code : 0;
    char codes[24] = "";
    col_series_t *se;

    if (code > 0 && code < 1000)
        snprintf(codes, sizeof(codes), "%lld", (long long)code);
    col_buf_reset(lb);
    col_label(lb, "service_name", svc ? svc : "unknown_service");
    col_label(lb, "span_kind", col_kind_label((int)s->kind));
    col_label(lb, "status_code", status[st]);
    col_dimension(lb, "http_request_method",
                  col_attr_str(s->attributes, s->n_attributes, "http.request.method"));
    col_dimension(lb, "http_response_status_code", codes);
    col_dimension(lb, "db_system_name",
                  col_attr_str(s->attributes, s->n_attributes, "db.system.name"));
    col_dimension(lb, "db_operation_name",
                  col_attr_str(s->attributes, s->n_attributes, "db.operation.name"));
    col_buf_put(lb, "", 1);
    if (lb->oom || (se = col_series_get(&col_span_series, lb->p)) == NULL)
        return;
    se->calls++;
    col_hist_add(&se->h, col_span_seconds(s));
}

/* ---- the service graph ---------------------------------------------------- */

static unsigned col_pend_bucket(const uint8_t *id)
{
    return (unsigned)(col_hash(id, 8) % COL_PEND_HASH);
}

static void col_pend_unlink(col_pend_t *p)
{
    col_pend_t **pp;

    for (pp = &col_pend_hash[col_pend_bucket(p->id)]; *pp; pp = &(*pp)->chain)
        if (*pp == p) {
            *pp = p->chain;
            break;
        }
    p->live = 0;
}

/* Forget what waited too long, or the oldest when too many wait. */
static void col_pend_expire(uint64_t now_ms)
{
    while (col_pend_head &&
           (col_pend_n > COL_PEND_MAX || col_pend_head->at_ms + COL_PEND_MS <= now_ms)) {
        col_pend_t *p = col_pend_head;

        col_pend_head = p->fifo;
        if (col_pend_head == NULL)
            col_pend_tail = &col_pend_head;
        if (p->live) {
            col_pend_unlink(p);
            col_unpaired++;
        }
        col_pend_n--;
        free(p);
    }
}

/* One request client -> server; type: connection_type, NULL for none. */
static void col_edge(const char *client, const char *server, const char *type, int error,
                     double server_s, double client_s, col_buf_t *lb)
{
    col_series_t *se;

    col_buf_reset(lb);
    col_label(lb, "client", client);
    col_label(lb, "server", server);
    col_dimension(lb, "connection_type", type);
    col_buf_put(lb, "", 1);
    if (lb->oom || (se = col_series_get(&col_edge_series, lb->p)) == NULL)
        return;
    se->calls++;
    se->failed += error != 0;
    col_hist_add(&se->h, server_s);
    col_hist_add(&se->h2, client_s);
}

/* "host:port", "[v6]:port" or "host" (no port, or 0) into buf. */
static const char *col_host_port(char *buf, size_t cap, const char *host, int64_t port)
{
    if (port <= 0 || port > 65535)
        return host;
    snprintf(buf, cap, strchr(host, ':') ? "[%.*s]:%lld" : "%.*s:%lld", COL_LABEL_MAX, host,
             (long long)port);
    return buf;
}

/* The node a database CLIENT span called, named from its attributes as
 * Tempo's service graph (the connector's origin) names one; the connector
 * itself takes db.namespace, which for Redis is a number and is the same
 * for many servers. peer.service, else server.address (with server.port,
 * which the shim sets only when it is not the system's default), else
 * network.peer.address:network.peer.port, else db.namespace, else
 * db.system.name. */
static const char *col_db_node(const col_span_t *s, char *buf, size_t cap)
{
    col_kv_t **kv = s->attributes;
    size_t n = s->n_attributes;
    const char *v;

    if ((v = col_attr_str(kv, n, "peer.service")) != NULL && v[0])
        return v;
    if ((v = col_attr_str(kv, n, "server.address")) != NULL && v[0])
        return col_host_port(buf, cap, v, col_attr_int(kv, n, "server.port"));
    if ((v = col_attr_str(kv, n, "network.peer.address")) != NULL && v[0])
        return col_host_port(buf, cap, v, col_attr_int(kv, n, "network.peer.port"));
    if ((v = col_attr_str(kv, n, "db.namespace")) != NULL && v[0])
        return v;
    return col_attr_str(kv, n, "db.system.name");
}

/* A CLIENT span no SERVER span will answer: a database call is an edge
 * now; a name lookup is none. Returns whether s was one of them. */
static int col_graph_alone(const col_resource_spans_t *rs, const col_span_t *s, col_buf_t *lb)
{
    const char *system = col_attr_str(s->attributes, s->n_attributes, "db.system.name");
    const char *svc = col_service(rs);
    char node[COL_LABEL_MAX + 32];

    if (system && system[0]) {
        col_edge(svc ? svc : "unknown_service", col_db_node(s, node, sizeof(node)), "database",
                 col_span_error(s), col_span_seconds(s), col_span_seconds(s), lb);
        return 1;
    }
    return col_attr_str(s->attributes, s->n_attributes, "dns.question.name") != NULL;
}

static void col_metrics_graph(const col_resource_spans_t *rs, const col_span_t *s,
                              uint64_t now_ms, col_buf_t *lb)
{
    int client = s->kind == 3;
    const ProtobufCBinaryData *id = client ? &s->span_id : &s->parent_span_id;
    const char *svc = col_service(rs);
    col_pend_t **pp, *p;

    if ((s->kind != 2 && s->kind != 3) || (client && col_graph_alone(rs, s, lb)) ||
        id->len != 8)
        return;
    for (pp = &col_pend_hash[col_pend_bucket(id->data)]; (p = *pp) != NULL; pp = &p->chain) {
        if (memcmp(p->id, id->data, 8) != 0)
            continue;
        if (p->client == client)
            return; /* the same side again (a resent span): it waits once */
        *pp = p->chain;
        p->live = 0;
        if (client)
            col_edge(svc ? svc : "unknown_service", p->service, NULL,
                     p->error || col_span_error(s), p->seconds, col_span_seconds(s), lb);
        else
            col_edge(p->service, svc ? svc : "unknown_service", NULL,
                     p->error || col_span_error(s), col_span_seconds(s), p->seconds, lb);
        return;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return;
    memcpy(p->id, id->data, 8);
    p->client = (uint8_t)client;
    p->error = (uint8_t)col_span_error(s);
    p->live = 1;
    strncpy(p->service, svc ? svc : "unknown_service", sizeof(p->service) - 1);
    p->seconds = col_span_seconds(s);
    p->at_ms = now_ms;
    p->chain = col_pend_hash[col_pend_bucket(p->id)];
    col_pend_hash[col_pend_bucket(p->id)] = p;
    *col_pend_tail = p;
    col_pend_tail = &p->fifo;
    col_pend_n++;
}

typedef struct col_madd {
    uint64_t now_ms;
    col_buf_t lb;
} col_madd_t;

static void col_metrics_one(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                            const col_span_t *s, void *arg)
{
    col_madd_t *m = arg;

    (void)ss;
    /* A span still open (the shim's in-flight report) is no call yet: its
     * whole span counts when it ends. */
    if (col_attr_bool(s->attributes, s->n_attributes, "spanshim.span.in_flight")) {
        col_in_flight++;
        return;
    }
    col_metrics_span(rs, s, &m->lb);
    col_metrics_graph(rs, s, m->now_ms, &m->lb);
}

void col_metrics_add(const col_request_t *r, uint64_t now_ms)
{
    static col_madd_t m;

    pthread_mutex_lock(&col_m_lock);
    m.now_ms = now_ms;
    col_pend_expire(now_ms);
    col_each_span(r, col_metrics_one, &m);
    col_pend_expire(now_ms);
    pthread_mutex_unlock(&col_m_lock);
}

static void col_table_clear(col_table_t *t)
{
    col_series_t *s, *next;

    for (s = t->all; s; s = next) {
        next = s->next;
        free(s->labels);
        free(s);
    }
    memset(t, 0, sizeof(*t));
}

void col_metrics_reset(void)
{
    pthread_mutex_lock(&col_m_lock);
    col_table_clear(&col_span_series);
    col_table_clear(&col_edge_series);
    while (col_pend_head) {
        col_pend_t *p = col_pend_head;

        col_pend_head = p->fifo;
        free(p);
    }
    col_pend_tail = &col_pend_head;
    memset(col_pend_hash, 0, sizeof(col_pend_hash));
    col_pend_n = 0;
    col_unpaired = 0;
    col_in_flight = 0;
    pthread_mutex_unlock(&col_m_lock);
}

/* ---- rendering ------------------------------------------------------------ */

static void col_render_hist(col_buf_t *b, const char *name, const char *labels,
                            const col_hist_t *h)
{
    int i;

    for (i = 0; i < COL_BUCKETS; i++)
        col_buf_printf(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, col_le[i], h->b[i]);
    col_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, h->count);
    col_buf_printf(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
    col_buf_printf(b, "%s_count{%s} %llu\n", name, labels, h->count);
}

void col_metrics_counter(col_buf_t *b, const char *name, const char *labels, const char *help,
                         unsigned long long v)
{
    if (help)
        col_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    col_buf_printf(b, "%s%s%s%s %llu\n", name, labels ? "{" : "", labels ? labels : "",
                   labels ? "}" : "", v);
}

void col_metrics_render(col_buf_t *b)
{
    const col_series_t *s;

    pthread_mutex_lock(&col_m_lock);
    col_buf_puts(b, "# HELP traces_span_metrics_calls_total Spans received, before sampling.\n"
                    "# TYPE traces_span_metrics_calls_total counter\n");
    for (s = col_span_series.all; s; s = s->next)
        col_buf_printf(b, "traces_span_metrics_calls_total{%s} %llu\n", s->labels, s->calls);
    col_buf_puts(b, "# HELP traces_span_metrics_duration_seconds Span durations.\n"
                    "# TYPE traces_span_metrics_duration_seconds histogram\n");
    for (s = col_span_series.all; s; s = s->next)
        col_render_hist(b, "traces_span_metrics_duration_seconds", s->labels, &s->h);
    col_buf_puts(b, "# HELP traces_service_graph_request_total Requests from one service to "
                    "another (a CLIENT span and its SERVER child), or to a database.\n"
                    "# TYPE traces_service_graph_request_total counter\n");
    for (s = col_edge_series.all; s; s = s->next)
        col_buf_printf(b, "traces_service_graph_request_total{%s} %llu\n", s->labels, s->calls);
    col_buf_puts(b, "# HELP traces_service_graph_request_failed_total Those with an error on "
                    "either side.\n# TYPE traces_service_graph_request_failed_total counter\n");
    for (s = col_edge_series.all; s; s = s->next)
        col_buf_printf(b, "traces_service_graph_request_failed_total{%s} %llu\n", s->labels,
                       s->failed);
    col_buf_puts(b, "# HELP traces_service_graph_request_server_seconds Server span durations.\n"
                    "# TYPE traces_service_graph_request_server_seconds histogram\n");
    for (s = col_edge_series.all; s; s = s->next)
        col_render_hist(b, "traces_service_graph_request_server_seconds", s->labels, &s->h);
    col_buf_puts(b, "# HELP traces_service_graph_request_client_seconds Client span durations.\n"
                    "# TYPE traces_service_graph_request_client_seconds histogram\n");
    for (s = col_edge_series.all; s; s = s->next)
        col_render_hist(b, "traces_service_graph_request_client_seconds", s->labels, &s->h2);
    col_buf_printf(b, "# HELP spanshim_collector_metric_series_dropped_total Series not made: "
                      "the cap of %d per family was reached.\n"
                      "# TYPE spanshim_collector_metric_series_dropped_total counter\n"
                      "spanshim_collector_metric_series_dropped_total %llu\n"
                      "# HELP spanshim_collector_graph_unpaired_total Spans whose other side "
                      "never came.\n# TYPE spanshim_collector_graph_unpaired_total counter\n"
                      "spanshim_collector_graph_unpaired_total %llu\n"
                      "# HELP spanshim_collector_metric_in_flight_reports_total Reports of "
                      "spans still open (spanshim.span.in_flight): not counted as calls.\n"
                      "# TYPE spanshim_collector_metric_in_flight_reports_total counter\n"
                      "spanshim_collector_metric_in_flight_reports_total %llu\n",
                   COL_SERIES_MAX, col_span_series.dropped + col_edge_series.dropped,
                   col_unpaired, col_in_flight);
    pthread_mutex_unlock(&col_m_lock);
}

void col_metrics_label(col_buf_t *b, const char *name, const char *v)
{
    col_label(b, name, v);
}
