/*
 * col_otlp.h - short names for the protobuf-c types of the OTLP messages
 * the collector decodes (generated from exporter/proto at build time).
 */
#ifndef COL_OTLP_H
#define COL_OTLP_H

#include "logs_service.pb-c.h"
#include "trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest col_request_t;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans col_resource_spans_t;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans col_scope_spans_t;
typedef Opentelemetry__Proto__Trace__V1__Span col_span_t;
typedef Opentelemetry__Proto__Trace__V1__Span__Event col_event_t;
typedef Opentelemetry__Proto__Trace__V1__Span__Link col_link_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue col_kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue col_value_t;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope col_scope_t;
typedef Opentelemetry__Proto__Resource__V1__Resource col_resource_t;
/* Logs (col_logs.h). */
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest col_logs_request_t;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs col_resource_logs_t;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs col_scope_logs_t;
typedef Opentelemetry__Proto__Logs__V1__LogRecord col_log_t;

/* A string or integer attribute by key (NULL / 0 if absent or of
 * another type). Keys and values come from the input: never trusted. */
const char *col_attr_str(col_kv_t **kv, size_t n, const char *key);
int64_t col_attr_int(col_kv_t **kv, size_t n, const char *key);
/* A bool attribute's value; 0 when it is absent or not a bool. */
int col_attr_bool(col_kv_t **kv, size_t n, const char *key);

/* The resource's service.name, or NULL. */
const char *col_service(const col_resource_spans_t *rs);

/* A hash of bytes from the input, keyed with a secret made at start, so
 * that no sender can choose ids that all land in one bucket. */
uint64_t col_hash(const void *p, size_t n);

/* Call fn for every span of r. */
typedef void (*col_span_fn)(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                            const col_span_t *s, void *arg);
void col_each_span(const col_request_t *r, col_span_fn fn, void *arg);

/* Decoding into an arena: every allocation of one datagram's message
 * comes from one chain of blocks, and freeing it is freeing the chain
 * (decoding is the collector's hot path; malloc and free per field were a
 * third of it). col_arena_reset keeps one block for the next one. An arena
 * holds at most COL_ARENA_MAX_MB MiB: past it allocations fail, so a
 * datagram of tiny repeated messages that would each take a large struct
 * (or merge into quadratic copies) is refused, not decoded. */
#define COL_ARENA_MAX_MB 64
#define COL_ARENA_MAX ((size_t)COL_ARENA_MAX_MB << 20)
typedef struct col_arena col_arena_t;
col_arena_t *col_arena_new(void);
void col_arena_reset(col_arena_t *a);
void col_arena_free(col_arena_t *a);
/* Bytes the arena has taken from malloc. */
size_t col_arena_bytes(const col_arena_t *a);
/* n bytes from the arena, for a decoder that fills messages itself (as
 * OTLP/JSON's does); NULL past COL_ARENA_MAX or out of memory. */
void *col_arena_get(col_arena_t *a, size_t n);

/* Why a message from outside did not decode. */
typedef enum {
    COL_DECODE_OK,
    COL_DECODE_MALFORMED, /* protobuf-c or the wire walk refused it */
    COL_DECODE_TOO_DEEP,  /* nested past COL_WIRE_DEPTH_MAX */
    COL_DECODE_TOO_BIG,   /* would take more than COL_ARENA_MAX decoded */
} col_decode_err_t;

/* The one way input is decoded: depth checked first (col_wire.h), then
 * unpacked into a; NULL, with *why, if it is refused. */
ProtobufCMessage *col_decode(const ProtobufCMessageDescriptor *desc, col_arena_t *a,
                             const uint8_t *data, size_t len, col_decode_err_t *why);
/* col_decode as an ExportTraceServiceRequest. */
col_request_t *col_request_decode(col_arena_t *a, const uint8_t *data, size_t len,
                                  col_decode_err_t *why);
/* col_decode as an ExportLogsServiceRequest. */
col_logs_request_t *col_logs_request_decode(col_arena_t *a, const uint8_t *data, size_t len,
                                            col_decode_err_t *why);
/* For a log line: "<the datagram> nests messages more than 64 deep"... */
const char *col_decode_reason(col_decode_err_t why);

#define COL_STR_(x) #x
#define COL_STR(x) COL_STR_(x)

#define col_request_unpack(len, data) \
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, data)
#define col_request_free(r) \
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL)

/* Whether id is a valid trace (len 16) or span (len 8) id: of that length
 * and not all zero, as W3C trace context and the logs data model say. One
 * rule for spans from outside (col_otlp_http.c) and log records (col_logs.c). */
static inline int col_id_valid(ProtobufCBinaryData id, size_t len)
{
    size_t i;

    if (id.len != len)
        return 0;
    for (i = 0; i < len; i++)
        if (id.data[i])
            return 1;
    return 0;
}

#endif
