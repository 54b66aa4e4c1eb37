/*
 * ss_logrec.h - one log record as the shim keeps it on its way to the
 * encoder (exporter/ex_otlp_log.c): a line a traced program wrote
 * (ss_logline.h), its severity (ss_logsev.h), where it was written, and
 * the trace context current on the thread that wrote it, if any.
 *
 * The body points into the line's bytes for the time the record is
 * encoded, which is at once: nothing here is owned.
 */
#ifndef SS_LOGREC_H
#define SS_LOGREC_H

#include <stdint.h>

#include "ss_tctx.h"

/* Where a line was written. */
enum {
    SS_LOG_STDOUT = 1,
    SS_LOG_STDERR,
    SS_LOG_FILE,               /* another file, named by path */
    SS_LOG_SYSLOG,             /* syslog(3), the syslog or the journal socket */
};

typedef struct ss_logrec {
    uint64_t time_ns;          /* when the line's first byte was written */
    uint64_t observed_ns;      /* when the line was complete */
    uint8_t severity;          /* SeverityNumber, 0: not said */
    uint8_t severity_text_len;
    uint8_t source;            /* SS_LOG_* */
    uint8_t cut;               /* the line was longer: its first bytes only */
    const char *severity_text; /* as the line said it */
    ss_ctx_t ctx;              /* the span current when it was written (valid: there was one) */
    const char *path;          /* SS_LOG_FILE: the file's path, else NULL */
    const char *ident;         /* SS_LOG_SYSLOG: openlog's ident (or the program's name), else NULL */
    const char *body;
    uint32_t body_len;
} ss_logrec_t;

#endif
