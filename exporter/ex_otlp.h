/*
 * ex_otlp.h - OTLP protobuf encoding of span records (nanopb, no malloc).
 *
 * A span is encoded the moment it ends, as one `spans` field of a
 * ScopeSpans message, so a batch is just those bytes laid end to end; the
 * envelope around them (ExportTraceServiceRequest > ResourceSpans >
 * Resource, ScopeSpans > InstrumentationScope) is written when the batch
 * is sent, with the resource encoded once per process.
 */
#ifndef EX_OTLP_H
#define EX_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "../preload/ss_logrec.h"
#include "../preload/ss_span.h"

/* code.stacktrace's key and value, at most (ss_stack.h) */
#define EX_STACK_ROOM (SS_STACK_TEXT_MAX + 32)
#define EX_SPAN_MAX (8192 + EX_STACK_ROOM) /* one encoded span, at most */
#define EX_RESOURCE_MAX 4096    /* the encoded resource, at most */
#define EX_LOSS_ATTRS_MAX 768     /* the loss counts added to the resource, at most (ex_loss.h) */
#define EX_ENVELOPE_MAX (EX_RESOURCE_MAX + EX_LOSS_ATTRS_MAX + 128)

/* Encode s as field 2 (tag, length, Span) into buf. Returns the length,
 * or 0 if it does not fit. */
size_t ex_otlp_span(const ss_span_t *s, uint8_t *buf, size_t cap);

/* A database span's attributes that are its connection's (ss_db.h), from
 * s, into *out: 0 when they do not fit (its spans are then encoded field
 * by field). */
int ex_otlp_db_fixed(const ss_span_t *s, ss_db_fixed_t *out);

/* Log records (ex_otlp_log.c). A datagram is an ExportTraceServiceRequest
 * or, after the two bytes EX_FRAME_LOGS, an ExportLogsServiceRequest. No
 * protobuf message begins with a 0 byte (there is no field 0), so the two
 * never read as each other, and a collector that knows no logs counts such
 * a datagram as undecodable instead of misreading it. ResourceLogs and
 * ScopeLogs have ResourceSpans' and ScopeSpans' field numbers, so the
 * envelope after the frame is ex_otlp_envelope_more's, and the records
 * are laid end to end as spans are. */
#define EX_FRAME_LOGS "\0L"
#define EX_FRAME_LEN 2
#define EX_LOG_MAX (8192 + 1024) /* one encoded record, at most (a line: ss_logline.h) */

/* Encode r as field 2 of ScopeLogs (tag, length, LogRecord) into buf:
 * the length, or 0 if it does not fit. */
size_t ex_otlp_log(const ss_logrec_t *r, uint8_t *buf, size_t cap);

/* Resource attributes of this process (read once, again after fork). */
typedef struct ex_process {
    int pid;
    const char *service_name;     /* resolved: never NULL */
    const char *exe_name, *exe_path, *command, *host_name;
    char *const *argv;            /* for process.command_args, or NULL */
    int argc;
    const char *extra;            /* OTEL_RESOURCE_ATTRIBUTES, decoded, or NULL */
} ex_process_t;

/* Encode the Resource message (without a field tag). 0 if it cannot. */
size_t ex_otlp_resource(const ex_process_t *p, uint8_t *buf, size_t cap);

/* Write the envelope that goes before `spans_len` bytes of spans. */
size_t ex_otlp_envelope(const uint8_t *res, size_t res_len, size_t spans_len, uint8_t *buf,
                        size_t cap);
/* The same with more_len bytes of Resource fields (ex_otlp_resource_kv's)
 * after the resource's own. */
size_t ex_otlp_envelope_more(const uint8_t *res, size_t res_len, const uint8_t *more,
                             size_t more_len, size_t spans_len, uint8_t *buf, size_t cap);

/* One Resource.attributes field, into buf: key (under 100 bytes) with the
 * string str, or with the integer num when str is NULL. Returns its length
 * (at most EX_RESOURCE_KV_MAX with a string under 32 bytes). */
#define EX_RESOURCE_KV_MAX 160
size_t ex_otlp_resource_kv(uint8_t *buf, const char *key, const char *str, int64_t num);

/* Decode OTEL_RESOURCE_ATTRIBUTES ("k=v,k2=v2", percent-encoded) into
 * out as "k\0v\0k2\0v2\0\0". Returns 0 and leaves out empty on any error. */
int ex_otlp_parse_resource_attrs(const char *in, char *out, size_t cap);

#endif
