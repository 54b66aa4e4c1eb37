/*
 * col_shimloss.c - the shims' lost spans and log records, per service (see
 * col_shimloss.h).
 *
 * Two flat tables under one lock, searched in order: an instance is looked
 * up only for a resource that carries loss counts (none while nothing is
 * lost), and both are bounded, so a sender that invents instances costs a
 * bounded scan, never memory.
 */
#define _GNU_SOURCE
#include "col_shimloss.h"
#include "col_logs.h"
#include "col_metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define COL_LOSS_PREFIX "spanshim.spans_dropped."
#define COL_LOSS_LOGS_PREFIX "spanshim.logs_dropped."
#define COL_LOSS_INSTANCE "spanshim.loss.instance"
#define COL_LOSS_OTHER "(other services)"

enum {
#define COL_LOSS_ENUM(r) COL_LOSS_##r,
    COL_SHIMLOSS_REASONS(COL_LOSS_ENUM)
#undef COL_LOSS_ENUM
    COL_LOSS_REASONS
};

static const char *const col_loss_reason[COL_LOSS_REASONS] = {
#define COL_LOSS_NAME(r) #r,
    COL_SHIMLOSS_REASONS(COL_LOSS_NAME)
#undef COL_LOSS_NAME
};

typedef unsigned long long col_loss_n_t[COL_LOSS_REASONS];

/* What is counted: spans, log records. */
enum { COL_LOSS_SPANS, COL_LOSS_LOGS, COL_LOSS_KINDS };

typedef struct col_loss_service {
    char name[COL_SHIMLOSS_NAME_MAX + 1];
    col_loss_n_t n[COL_LOSS_KINDS];
} col_loss_service_t;

typedef struct col_loss_instance {
    uint64_t key;      /* col_hash of service, instance id, host, pid */
    uint64_t seen_ms;  /* its last report */
    unsigned service;  /* index into col_loss_services */
    col_loss_n_t n[COL_LOSS_KINDS]; /* the largest count seen, by kind and reason */
} col_loss_instance_t;

/* What one resource said. */
typedef struct col_loss_report {
    long long n[COL_LOSS_KINDS][COL_LOSS_REASONS]; /* -1: not said */
    const char *instance;
    int any;
} col_loss_report_t;

col_shimloss_counts_t col_shimloss_count;

static pthread_mutex_t col_loss_lock = PTHREAD_MUTEX_INITIALIZER;
/* The last slot adds up the services past the table. */
static col_loss_service_t col_loss_services[COL_SHIMLOSS_SERVICES + 1];
static unsigned col_loss_services_n;
static col_loss_instance_t col_loss_instances[COL_SHIMLOSS_INSTANCES];
static unsigned col_loss_instances_n;

static int col_loss_reason_of(const char *name)
{
    int r;

    for (r = 0; r < COL_LOSS_REASONS; r++)
        if (strcmp(name, col_loss_reason[r]) == 0)
            return r;
    return -1;
}

/* One attribute: 1 if it is the shim's loss bookkeeping (then noted in
 * rep, when its value is of the right type), 0 if it is the resource's. */
static int col_loss_attr(const col_kv_t *kv, col_loss_report_t *rep)
{
    const col_value_t *v = kv->value;
    int r, kind;

    if (strcmp(kv->key, COL_LOSS_INSTANCE) == 0) {
        if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
            rep->instance = v->string_value;
        return 1;
    }
    if (strncmp(kv->key, COL_LOSS_PREFIX, sizeof(COL_LOSS_PREFIX) - 1) == 0) {
        kind = COL_LOSS_SPANS;
        r = col_loss_reason_of(kv->key + sizeof(COL_LOSS_PREFIX) - 1);
    } else if (strncmp(kv->key, COL_LOSS_LOGS_PREFIX, sizeof(COL_LOSS_LOGS_PREFIX) - 1) == 0) {
        kind = COL_LOSS_LOGS;
        r = col_loss_reason_of(kv->key + sizeof(COL_LOSS_LOGS_PREFIX) - 1);
    } else {
        return 0;
    }
    if (r >= 0 && v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE &&
        v->int_value >= 0) {
        rep->n[kind][r] = v->int_value;
        rep->any = 1;
    }
    return 1; /* a reason this collector does not know is still no identity */
}

/* Take the loss attributes out of res; what they said into rep. */
static int col_loss_take(col_resource_t *res, col_loss_report_t *rep)
{
    size_t i, kept = 0;
    int r, k;

    for (k = 0; k < COL_LOSS_KINDS; k++)
        for (r = 0; r < COL_LOSS_REASONS; r++)
            rep->n[k][r] = -1;
    rep->instance = NULL;
    rep->any = 0;
    for (i = 0; i < res->n_attributes; i++) {
        col_kv_t *kv = res->attributes[i];

        if (kv->key == NULL || strncmp(kv->key, "spanshim.", 9) != 0 || !col_loss_attr(kv, rep))
            res->attributes[kept++] = kv;
    }
    res->n_attributes = kept;
    return rep->any;
}

int col_shimloss_key(const char *key)
{
    return key && (strcmp(key, COL_LOSS_INSTANCE) == 0 ||
                   strncmp(key, COL_LOSS_PREFIX, sizeof(COL_LOSS_PREFIX) - 1) == 0 ||
                   strncmp(key, COL_LOSS_LOGS_PREFIX, sizeof(COL_LOSS_LOGS_PREFIX) - 1) == 0);
}

static unsigned col_loss_service_get(const char *name)
{
    unsigned i;

    for (i = 0; i < col_loss_services_n; i++)
        if (strncmp(col_loss_services[i].name, name, COL_SHIMLOSS_NAME_MAX) == 0)
            return i;
    if (col_loss_services_n == COL_SHIMLOSS_SERVICES) {
        col_shimloss_count.services_over++;
        return COL_SHIMLOSS_SERVICES;
    }
    snprintf(col_loss_services[i].name, sizeof(col_loss_services[i].name), "%s", name);
    return col_loss_services_n++;
}

/* The instance's entry: found, or made (in place of the one heard from
 * longest ago when the table is full). */
static col_loss_instance_t *col_loss_instance_get(uint64_t key, const char *service)
{
    col_loss_instance_t *e;
    unsigned i, oldest = 0;

    for (i = 0; i < col_loss_instances_n; i++)
        if (col_loss_instances[i].key == key)
            return &col_loss_instances[i];
    if (col_loss_instances_n < COL_SHIMLOSS_INSTANCES) {
        e = &col_loss_instances[col_loss_instances_n++];
    } else {
        for (i = 1; i < COL_SHIMLOSS_INSTANCES; i++)
            if (col_loss_instances[i].seen_ms < col_loss_instances[oldest].seen_ms)
                oldest = i;
        e = &col_loss_instances[oldest];
        col_shimloss_count.instances_forgotten++;
    }
    memset(e, 0, sizeof(*e));
    e->key = key;
    e->service = col_loss_service_get(service);
    return e;
}

static uint64_t col_loss_key(const col_resource_t *res, const char *service, const char *instance)
{
    char k[COL_SHIMLOSS_NAME_MAX + 512];
    const char *host = col_attr_str(res->attributes, res->n_attributes, "host.name");
    int n = snprintf(k, sizeof(k), "%.*s%c%.64s%c%.255s%c%" PRId64, COL_SHIMLOSS_NAME_MAX, service,
                     0, instance ? instance : "", 0, host ? host : "", 0,
                     col_attr_int(res->attributes, res->n_attributes, "process.pid"));

    return col_hash(k, n > 0 && (size_t)n < sizeof(k) ? (size_t)n : sizeof(k) - 1);
}

/* What grew since the instance's last report goes to its service. */
static void col_loss_count(const col_resource_t *res, const char *service,
                           const col_loss_report_t *rep, uint64_t now_ms)
{
    col_loss_instance_t *e = col_loss_instance_get(col_loss_key(res, service, rep->instance),
                                                   service);
    col_loss_service_t *s = &col_loss_services[e->service];
    int r, k;

    for (k = 0; k < COL_LOSS_KINDS; k++)
        for (r = 0; r < COL_LOSS_REASONS; r++)
            if (rep->n[k][r] >= 0 && (unsigned long long)rep->n[k][r] > e->n[k][r]) {
                s->n[k][r] += (unsigned long long)rep->n[k][r] - e->n[k][r];
                e->n[k][r] = (unsigned long long)rep->n[k][r];
            }
    if (now_ms > e->seen_ms)
        e->seen_ms = now_ms;
}

/* One resource's counts read and taken out of it: 1 if it had any. */
static int col_shimloss_resource(col_resource_t *res, const char *service, uint64_t now_ms)
{
    col_loss_report_t rep;

    if (res == NULL || !col_loss_take(res, &rep))
        return 0;
    pthread_mutex_lock(&col_loss_lock);
    col_shimloss_count.reports++;
    col_loss_count(res, service && service[0] ? service : "unknown_service", &rep, now_ms);
    pthread_mutex_unlock(&col_loss_lock);
    return 1;
}

void col_shimloss_add(col_request_t *r, uint64_t now_ms)
{
    size_t i;

    for (i = 0; i < r->n_resource_spans; i++)
        col_shimloss_resource(r->resource_spans[i]->resource, col_service(r->resource_spans[i]),
                              now_ms);
}

/* A logs datagram's resource is built as the traces' one, counts and all:
 * they are cumulative per instance, so reading them here too adds only
 * what grew. */
int col_shimloss_add_logs(col_logs_request_t *r, uint64_t now_ms)
{
    size_t i;
    int any = 0;

    for (i = 0; i < r->n_resource_logs; i++)
        any |= col_shimloss_resource(r->resource_logs[i]->resource,
                                     col_logs_service(r->resource_logs[i]), now_ms);
    return any;
}

/* Every service with a count, the one of the services past the table last. */
static const col_loss_service_t *col_loss_next(unsigned *i)
{
    while (*i <= COL_SHIMLOSS_SERVICES) {
        const col_loss_service_t *s = &col_loss_services[(*i)++];

        if (*i - 1 < col_loss_services_n || *i - 1 == COL_SHIMLOSS_SERVICES)
            return s;
    }
    return NULL;
}

static const char *col_loss_name(const col_loss_service_t *s)
{
    return s == &col_loss_services[COL_SHIMLOSS_SERVICES] ? COL_LOSS_OTHER : s->name;
}

/* What each kind is called on /metrics and in the exit line. */
static const struct {
    const char *metric, *help, *one, *many, *none;
} col_loss_kind[COL_LOSS_KINDS] = {
    [COL_LOSS_SPANS] = {"spanshim_shim_spans_dropped_total",
                        "Spans the shims lost before they reached the collector, by the shims' "
                        "own counts.",
                        "span", "spans", "the shims reported no lost spans"},
    [COL_LOSS_LOGS] = {"spanshim_shim_logs_dropped_total",
                       "Log records the shims lost before they reached the collector, by the "
                       "shims' own counts.",
                       "log record", "log records", NULL},
};

void col_shimloss_render(col_buf_t *b)
{
    const col_loss_service_t *s;
    unsigned i;
    int r, k;

    pthread_mutex_lock(&col_loss_lock);
    for (k = 0; k < COL_LOSS_KINDS; k++) {
        col_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", col_loss_kind[k].metric,
                       col_loss_kind[k].help, col_loss_kind[k].metric);
        i = 0;
        while ((s = col_loss_next(&i)) != NULL)
            for (r = 0; r < COL_LOSS_REASONS; r++) {
                col_buf_t lb = {0};

                if (s->n[k][r] == 0)
                    continue;
                col_metrics_label(&lb, "service_name", col_loss_name(s));
                col_metrics_label(&lb, "reason", col_loss_reason[r]);
                col_buf_printf(b, "%s{%s} %llu\n", col_loss_kind[k].metric, lb.p ? lb.p : "",
                               s->n[k][r]);
                col_buf_free(&lb);
            }
    }
#define COL_LOSS_RENDER(f, h) \
    col_metrics_counter(b, "spanshim_collector_shimloss_" #f "_total", NULL, h, \
                        col_shimloss_count.f);
    COL_SHIMLOSS_COUNTERS(COL_LOSS_RENDER)
#undef COL_LOSS_RENDER
    pthread_mutex_unlock(&col_loss_lock);
}

static unsigned long long col_loss_sum(const col_loss_service_t *s, int kind)
{
    unsigned long long n = 0;
    int r;

    for (r = 0; r < COL_LOSS_REASONS; r++)
        n += s->n[kind][r];
    return n;
}

static unsigned long long col_loss_total_of(int kind)
{
    const col_loss_service_t *s;
    unsigned long long n = 0;
    unsigned i = 0;

    pthread_mutex_lock(&col_loss_lock);
    while ((s = col_loss_next(&i)) != NULL)
        n += col_loss_sum(s, kind);
    pthread_mutex_unlock(&col_loss_lock);
    return n;
}

unsigned long long col_shimloss_total(void)
{
    return col_loss_total_of(COL_LOSS_SPANS);
}

unsigned long long col_shimloss_logs_total(void)
{
    return col_loss_total_of(COL_LOSS_LOGS);
}

/* "SERVICE N (reason N, reason N)" */
static void col_loss_service_line(col_buf_t *b, const col_loss_service_t *s, int kind)
{
    const char *sep = " (";
    int r;

    col_buf_printf(b, "%s %llu", col_loss_name(s), col_loss_sum(s, kind));
    for (r = 0; r < COL_LOSS_REASONS; r++)
        if (s->n[kind][r]) {
            col_buf_printf(b, "%s%s %llu", sep, col_loss_reason[r], s->n[kind][r]);
            sep = ", ";
        }
    col_buf_puts(b, ")");
}

/* One kind's part of the line: 0 if there was nothing to say. */
static int col_loss_totals_of(col_buf_t *b, int kind)
{
    const col_loss_service_t *s;
    unsigned long long total = col_loss_total_of(kind);
    unsigned i = 0, shown = 0, more = 0;

    if (total == 0) {
        if (col_loss_kind[kind].none == NULL)
            return 0;
        col_buf_puts(b, col_loss_kind[kind].none);
        return 1;
    }
    col_buf_printf(b, "the shims lost %llu %s before they got here: ", total,
                   total == 1 ? col_loss_kind[kind].one : col_loss_kind[kind].many);
    pthread_mutex_lock(&col_loss_lock);
    while ((s = col_loss_next(&i)) != NULL) {
        if (col_loss_sum(s, kind) == 0)
            continue;
        if (shown == 8) { /* a line, not a table: /metrics has them all */
            more++;
            continue;
        }
        if (shown++)
            col_buf_puts(b, ", ");
        col_loss_service_line(b, s, kind);
    }
    pthread_mutex_unlock(&col_loss_lock);
    if (more)
        col_buf_printf(b, " and %u more services (see /metrics)", more);
    return 1;
}

void col_shimloss_totals(col_buf_t *b)
{
    col_loss_totals_of(b, COL_LOSS_SPANS);
    if (col_shimloss_logs_total()) {
        col_buf_puts(b, "; ");
        col_loss_totals_of(b, COL_LOSS_LOGS);
    }
}

void col_loss_json(col_buf_t *b)
{
    const col_loss_service_t *s;
    unsigned i = 0;
    const char *sep = "";
    int r;

    col_buf_puts(b, "[");
    pthread_mutex_lock(&col_loss_lock);
    while ((s = col_loss_next(&i)) != NULL)
        for (r = 0; r < COL_LOSS_REASONS; r++) {
            if (s->n[COL_LOSS_SPANS][r] == 0 && s->n[COL_LOSS_LOGS][r] == 0)
                continue;
            col_buf_printf(b, "%s{\"service\":", sep);
            col_json_string(b, col_loss_name(s));
            col_buf_printf(b, ",\"reason\":\"%s\",\"spans\":%llu,\"records\":%llu}",
                           col_loss_reason[r], s->n[COL_LOSS_SPANS][r], s->n[COL_LOSS_LOGS][r]);
            sep = ",";
        }
    pthread_mutex_unlock(&col_loss_lock);
    col_buf_puts(b, "]");
}

void col_shimloss_reset(void)
{
    pthread_mutex_lock(&col_loss_lock);
    memset(col_loss_services, 0, sizeof(col_loss_services));
    memset(col_loss_instances, 0, sizeof(col_loss_instances));
    col_loss_services_n = col_loss_instances_n = 0;
    memset(&col_shimloss_count, 0, sizeof(col_shimloss_count));
    pthread_mutex_unlock(&col_loss_lock);
}

/* ---- the sink (col_sink.h): first in col_sinks.def, it looks at every
 * batch, takes the bookkeeping out of it and passes it on ---------------- */

static int col_shimloss_wanted(void)
{
    return 1; /* a loss is worth saying whatever else the collector does */
}

static int col_shimloss_take(col_batch_t *b)
{
    if (b->r) /* else the walk saw no spanshim.* resource key: nothing to count */
        col_shimloss_add(b->r, b->now_ms);
    return COL_PASS;
}

/* Decoded only when a resource may carry the counts: they must come out
 * of the JSON too, and the JSON from the wire would keep them. */
static int col_shimloss_needs_request(const col_batch_t *b)
{
    return b->spanshim_res;
}

static void col_shimloss_take_logs(col_logs_batch_t *b)
{
    if (col_shimloss_add_logs(b->r, b->now_ms))
        b->changed = 1;
}

static void col_shimloss_line(col_buf_t *b)
{
    col_buf_puts(b, "; ");
    col_shimloss_totals(b);
}

static int col_shimloss_troubled(void)
{
    return col_shimloss_total() != 0 || col_shimloss_logs_total() != 0;
}

const col_sink_t col_sink_shimloss = {
    .name = "shimloss",
    .wanted = col_shimloss_wanted,
    .take = col_shimloss_take,
    .needs_request = col_shimloss_needs_request,
    .render = col_shimloss_render,
    .totals = col_shimloss_line,
    .troubled = col_shimloss_troubled,
    .take_logs = col_shimloss_take_logs,
};
