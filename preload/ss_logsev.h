/*
 * ss_logsev.h - the severity a log line gives itself, as OpenTelemetry's
 * SeverityNumber (1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20
 * ERROR, 21-24 FATAL; 0 unspecified) and its text.
 *
 * Programs say it in a few ways, tried in this order on the line:
 *   1. a syslog priority, "<PRI>" at the start (what syslog(3) and the
 *      journal's socket carry): its severity, PRI & 7;
 *   2. a JSON object line: its top-level "level", "severity", "levelname",
 *      "severity_text", "log.level", "loglevel" or "lvl", a word or a
 *      pino/bunyan number (10 trace ... 60 fatal);
 *   3. logfmt: a "level=", "lvl=" or "severity=" pair (quoted or not);
 *   4. a level word in the line's first SS_LOGSEV_SCAN bytes: in capitals
 *      as a whole word ("ERROR:root:...", "... WARNING ..."), or in any
 *      case in brackets ("[error]" as nginx writes it, "[core:warn]" as
 *      apache2 does), or first on the line before a colon ("error: ...").
 * Syslog's severities map as OpenTelemetry's data model says: emerg
 * FATAL, alert ERROR3, crit ERROR2, err ERROR, warning WARN, notice INFO2,
 * info INFO, debug DEBUG; the words the same way (notice INFO2, critical
 * ERROR2, alert ERROR3, emergency/panic/fatal FATAL, severe ERROR).
 *
 * A pure function of the line: allocation-free, bounded (each byte read
 * a bounded number of times), no locale.
 */
#ifndef SS_LOGSEV_H
#define SS_LOGSEV_H

#include <stddef.h>
#include <stdint.h>

#define SS_LOGSEV_SCAN 80

typedef struct ss_logsev {
    uint8_t number;          /* SeverityNumber; 0: the line does not say */
    uint8_t text_len;
    const char *text;        /* as the line says it (into the line), or a syslog name */
} ss_logsev_t;

void ss_logsev_of(const char *line, size_t len, ss_logsev_t *out);

/* A syslog priority's severity: number and name ("err", "warning", ...). */
void ss_logsev_syslog(unsigned pri, ss_logsev_t *out);

#endif
