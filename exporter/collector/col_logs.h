/*
 * col_logs.h - log records: the shims' logs datagrams and OTLP/HTTP's
 * POST /v1/logs, decoded and handed to the sinks that take logs.
 *
 * A logs datagram is the two bytes COL_FRAME_LOGS, then an
 * ExportLogsServiceRequest (exporter/ex_otlp.h's EX_FRAME_LOGS: no
 * protobuf message begins with a 0 byte, so it never reads as a trace
 * datagram). The OTLP/HTTP receiver queues what it accepts on /v1/logs
 * framed the same way, so the queue holds one kind of item and the main
 * thread tells the signals apart by their first bytes. Decoding has the
 * trace datagrams' bounds (col_decode: depth walked first, 64 MiB decoded
 * at most) and their accounting: a datagram that does not decode is
 * counted under the same reasons (col_stats.h) and logged, rate-limited,
 * naming the sender.
 */
#ifndef COL_LOGS_H
#define COL_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "col_json.h"
#include "col_otlp.h"
#include "col_queue.h"

#define COL_FRAME_LOGS "\0L"
#define COL_FRAME_LEN 2

/* Whether p[0..n) is a logs datagram (the frame, then the request). */
static inline int col_logs_framed(const uint8_t *p, size_t n)
{
    return n >= COL_FRAME_LEN && p[0] == 0 && p[1] == 'L';
}

/* Decode a framed item and give it to the sinks (col_sinks_take_logs). */
void col_logs_handle(const col_item_t *d);

/* The records in r. */
size_t col_logs_count(const col_logs_request_t *r);
/* The resource's service.name, or NULL. */
const char *col_logs_service(const col_resource_logs_t *rl);

/* Call fn for every record of r. */
typedef void (*col_log_fn)(const col_resource_logs_t *rl, const col_scope_logs_t *sl,
                           const col_log_t *l, void *arg);
void col_each_log(const col_logs_request_t *r, col_log_fn fn, void *arg);

/* Whether a record's ids tie it to a trace / to a span: a trace_id of 16
 * bytes (a span_id of 8), not all zero. Anything else, as the logs data
 * model says, is a record of no trace (no span). */
int col_log_has_trace(const col_log_t *l);
int col_log_has_span(const col_log_t *l);

/* The JSON of r as one OTLP/JSON line (no newline): {"resourceLogs":[...]},
 * the encoding col_json.h's trace writer uses (col_json_log.c). */
void col_json_logs(col_buf_t *b, const col_logs_request_t *r);
/* One LogRecord's OTLP/JSON object. */
void col_json_log_record(col_buf_t *b, const col_log_t *l);

#endif
