/*
 * col_otlp_jsonin.h - OTLP/JSON from outside (an SDK's POST /v1/traces
 * with Content-Type: application/json) into the same protobuf-c messages
 * a datagram decodes to.
 *
 * The rules are the OTLP/JSON ones over the protobuf JSON mapping: keys in
 * lowerCamelCase (the proto names are accepted too, as the mapping says
 * parsers must), unknown keys ignored, null as the default; traceId,
 * spanId and parentSpanId as hex (either case), other bytes as base64
 * (standard or URL-safe, padded or not); enums as integers (names are
 * accepted too); 64-bit integers as decimal strings or numbers; doubles as
 * numbers or "NaN", "Infinity", "-Infinity". Nothing is trusted: JSON
 * nested more than COL_JSONIN_DEPTH_MAX deep, with more than
 * COL_JSONIN_OBJECTS_MAX objects or COL_JSONIN_VALUES_MAX values (json-c
 * takes some 800 bytes an object), messages nested past
 * COL_WIRE_DEPTH_MAX, or what would take more than COL_ARENA_MAX decoded
 * is refused before or while it is decoded.
 */
#ifndef COL_OTLP_JSONIN_H
#define COL_OTLP_JSONIN_H

#include <stddef.h>

#include "col_otlp.h"

#define COL_JSONIN_DEPTH_MAX 160
#define COL_JSONIN_OBJECTS_MAX 200000
#define COL_JSONIN_VALUES_MAX 2000000

typedef enum {
    COL_JSONIN_OK,
    COL_JSONIN_SYNTAX,   /* not JSON, or more after it */
    COL_JSONIN_TOO_DEEP, /* JSON or messages nested too deep */
    COL_JSONIN_TOO_MANY, /* too many objects or values */
    COL_JSONIN_TOO_BIG,  /* more than COL_ARENA_MAX decoded */
    COL_JSONIN_SCHEMA,   /* JSON, but a value of the wrong kind for its field */
} col_jsonin_err_t;

typedef struct {
    col_jsonin_err_t err;
    char msg[200]; /* for the log line and the client: what, and where */
} col_jsonin_why_t;

/* The message of type desc in json[0..len), allocated from a; NULL, with
 * why filled in, if it is refused. */
ProtobufCMessage *col_jsonin_decode(const ProtobufCMessageDescriptor *desc, col_arena_t *a,
                                    const char *json, size_t len, col_jsonin_why_t *why);
/* col_jsonin_decode as an ExportTraceServiceRequest. */
col_request_t *col_jsonin_request(col_arena_t *a, const char *json, size_t len,
                                  col_jsonin_why_t *why);

#endif
