/*
 * col_shimloss.h - the spans and log records the shims lost before they
 * reached this collector, per service and reason: on /metrics, in the exit
 * line and (spans) for the viewer.
 *
 * A shim that has lost spans (its collector socket full, no collector,
 * a socket it did not trust, its fd table full, a span too large, its
 * state cap) says so in every datagram after: cumulative counts since its
 * start as resource attributes spanshim.spans_dropped.<reason> (and
 * spanshim.logs_dropped.<reason> for log records), with
 * spanshim.loss.instance naming the process instance (exporter/ex_loss.h),
 * in trace and logs datagrams alike.
 * Per instance the largest value seen of each count is kept, and a
 * service's total grows by what an instance's value grew: a repeated or
 * late (reordered) datagram adds nothing, a fork child is an instance of
 * its own. Both tables are bounded; past COL_SHIMLOSS_INSTANCES the
 * instance heard from longest ago is forgotten (its counts stay in the
 * totals; should it speak again, what it had lost is counted once more,
 * and instances_forgotten says so), past COL_SHIMLOSS_SERVICES new
 * services are added up under "(other services)".
 *
 * The attributes are bookkeeping between shim and collector, not the
 * process's identity: they are taken out of the resource here, the first
 * sink, so the file, the viewer and backends see the resource as it was.
 * Nothing in them is trusted: values are integers or ignored, names cut.
 * Thread-safe: batches come on the main thread, scrapes on the HTTP
 * server's.
 */
#ifndef COL_SHIMLOSS_H
#define COL_SHIMLOSS_H

#include <stdint.h>

#include "col_json.h"
#include "col_otlp.h"
#include "col_sink.h"

#define COL_SHIMLOSS_INSTANCES 4096
#define COL_SHIMLOSS_SERVICES 256
#define COL_SHIMLOSS_NAME_MAX 128 /* bytes of a service name kept */

/* The reasons, as the shim names them and /metrics labels them. */
#define COL_SHIMLOSS_REASONS(X) \
    X(socket_full) X(no_collector) X(untrusted) X(fd_limit) X(too_large) X(state_cap) \
    X(busy_at_exit) X(stream_busy)

#define COL_SHIMLOSS_COUNTERS(X)                                                          \
    X(reports, "Resources that carried a shim's loss counts.")                            \
    X(instances_forgotten, "Process instances forgotten with the table full (their "      \
                           "losses, if they report again, are counted twice).")          \
    X(services_over, "Loss reports of services past the table, added up as one.")

typedef struct col_shimloss_counts {
#define COL_SHIMLOSS_FIELD(f, h) unsigned long long f;
    COL_SHIMLOSS_COUNTERS(COL_SHIMLOSS_FIELD)
#undef COL_SHIMLOSS_FIELD
} col_shimloss_counts_t;

extern col_shimloss_counts_t col_shimloss_count;

/* Whether key is the shims' loss bookkeeping. Only a shim's datagram may
 * say what the shims lost: receivers from outside (OTLP/HTTP) take such
 * attributes out before anything counts them. */
int col_shimloss_key(const char *key);
/* Read the loss counts of every resource of r and take them out of it. */
void col_shimloss_add(col_request_t *r, uint64_t now_ms);
/* The same for a logs request's resources: 1 if any had counts. */
int col_shimloss_add_logs(col_logs_request_t *r, uint64_t now_ms);

/* spanshim_shim_spans_dropped_total{service_name,reason},
 * spanshim_shim_logs_dropped_total{service_name,reason} and the module's
 * counters, in Prometheus text. */
void col_shimloss_render(col_buf_t *b);
/* For the exit line: "the shims lost N spans: SERVICE N (reason N, ...), ..."
 * ("... reported no lost spans" when none were), then, when some were,
 * "; the shims lost M log records: ..." the same way. */
void col_shimloss_totals(col_buf_t *b);
/* Spans lost in all, every service and reason; log records likewise. */
unsigned long long col_shimloss_total(void);
unsigned long long col_shimloss_logs_total(void);

/* For the viewer: [{"service":"...","reason":"...","spans":N}, ...]. */
void col_loss_json(col_buf_t *b);

/* For the unit tests: as if nothing had come. */
void col_shimloss_reset(void);

#endif
