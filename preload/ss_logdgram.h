/*
 * ss_logdgram.h - a log message out of a datagram a program sends to the
 * local syslog socket (/dev/log) or to the journal's
 * (/run/systemd/journal/socket) itself, as Python's SysLogHandler,
 * logger(1), sd_journal_print and many daemons do (glibc's syslog(3) is
 * captured at the call, ss_logcap.h, and never passes the send hooks).
 *
 * syslog: "<PRI>" then either RFC 5424 ("1 TIMESTAMP HOST APP PROCID
 *   MSGID SD MSG": APP is the ident, MSG the message, a BOM dropped) or
 *   the BSD form; there a "Mmm dd hh:mm:ss " timestamp, when present, is
 *   followed by the tag, "ident[pid]: " or "ident: ", which is the ident;
 *   without one the rest is the message as it is (Python sends "<PRI>msg").
 *   A trailing NUL and newline are not part of it. No "<PRI>": the whole
 *   datagram is the message, priority unknown.
 * journal: the native protocol's fields, "KEY=value\n" or the binary-safe
 *   "KEY\n" + 64-bit little-endian length + value + "\n": MESSAGE is the
 *   message, PRIORITY (a digit) its priority, SYSLOG_IDENTIFIER its ident;
 *   the rest is skipped. No MESSAGE: no message.
 *
 * Pure functions over the datagram's bytes (outside input: fuzzed by
 * fuzz_logline): bounded, no allocation; the message and the ident point
 * into the datagram.
 */
#ifndef SS_LOGDGRAM_H
#define SS_LOGDGRAM_H

#include <stddef.h>

typedef struct ss_logmsg {
    const char *body;
    size_t body_len;
    int pri;                 /* the priority's severity 0-7 (facility dropped); -1: unknown */
    const char *ident;
    size_t ident_len;
} ss_logmsg_t;

/* 1 and *out filled if the datagram holds a message, else 0. */
int ss_logdgram_syslog(const char *p, size_t n, ss_logmsg_t *out);
int ss_logdgram_journal(const char *p, size_t n, ss_logmsg_t *out);

#endif
