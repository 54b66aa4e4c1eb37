/*
 * col_forward.h - OTLP/HTTP forwarding to another collector or backend
 * (see col_forward.c).
 */
#ifndef COL_FORWARD_H
#define COL_FORWARD_H

#include <stddef.h>
#include <stdint.h>

typedef struct col_fwd_cfg {
    char *url;               /* the full .../v1/traces URL; NULL: no forwarding */
    char *logs_url;          /* the full .../v1/logs URL; NULL: log records are not forwarded */
    const char *unix_socket; /* connect through this Unix socket instead of TCP */
    char *headers;           /* "k=v,k2=v2" as in OTEL_EXPORTER_OTLP_HEADERS */
    const char *ca_file;     /* OTEL_EXPORTER_OTLP_CERTIFICATE */
    long timeout_ms;         /* per request */
    int gzip;
    size_t queue_max;        /* bytes waiting to be sent, at most */
    long retry_max_ms;       /* give a batch up after retrying this long */
    int in_flight;           /* --otlp-forward-in-flight: reports of open spans too */
} col_fwd_cfg_t;

/* Counters, readable at any time (relaxed atomics). */
#define COL_FWD_COUNTERS(X)                                                  \
    X(exported_spans, "spans the endpoint accepted")                         \
    X(in_flight_skipped, "reports of spans still open, not forwarded")       \
    X(requests, "export requests sent")                                      \
    X(retries, "export requests retried")                                    \
    X(dropped_queue_full, "spans dropped: forwarding queue full")            \
    X(dropped_rejected, "spans dropped: the endpoint refused them (4xx/5xx)") \
    X(dropped_retries, "spans dropped: still failing after retrying")        \
    X(dropped_shutdown, "spans dropped: unsent at exit")                     \
    X(partial_rejected, "spans the endpoint rejected in a partial success")

typedef struct col_fwd_counts {
#define COL_FWD_FIELD(name, what) unsigned long long name;
    COL_FWD_COUNTERS(COL_FWD_FIELD)
#undef COL_FWD_FIELD
} col_fwd_counts_t;

extern col_fwd_counts_t col_fwd_count;
/* The same for log records (exported_spans: records accepted, and so on;
 * in_flight_skipped unused). */
extern col_fwd_counts_t col_fwd_log_count;

/* Fill cfg from the standard variables, then `endpoint` (a base URL, as
 * OTEL_EXPORTER_OTLP_ENDPOINT) if not NULL. Returns 0 on a bad value. */
int col_fwd_configure(col_fwd_cfg_t *cfg, const char *endpoint);

/* Start the sending thread. Returns 0 if it cannot. */
int col_fwd_start(const col_fwd_cfg_t *cfg);

/* Queue an ExportTraceServiceRequest (protobuf) of `spans` spans; the
 * bytes are copied. Dropped and counted if the queue is full. */
void col_fwd_submit(const uint8_t *pb, size_t len, size_t spans);
/* Queue an ExportLogsServiceRequest of `records` records for the logs URL,
 * in the same queue, by the same rules. */
void col_fwd_submit_logs(const uint8_t *pb, size_t len, size_t records);

/* Send what is queued (trying until deadline_ms from now), then stop.
 * Returns 0 if the sending thread was still busy at the deadline: what it
 * held is counted as dropped at shutdown, and the caller must leave with
 * _exit (the thread may be inside libcurl). */
int col_fwd_stop(long deadline_ms);

#endif
