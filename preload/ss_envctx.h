/*
 * ss_envctx.h - a child's environment with the trace context in it.
 *
 * OpenTelemetry's carrier for processes is the environment: TRACEPARENT
 * and TRACESTATE, upper case, holding the W3C values. A program hands
 * execve or posix_spawn the environment it wants its child to have; the
 * shim passes a copy of that array with those two entries put in place of
 * any the program had (an inherited TRACEPARENT names a span that is not
 * this request's), never writing into the program's arrays or environ.
 *
 * Pure functions on caller-provided memory: nothing is allocated, nothing
 * locked, so they may run in a fork child of a threaded program or in a
 * vfork child, and every rule is a unit test.
 */
#ifndef SS_ENVCTX_H
#define SS_ENVCTX_H

#include <stddef.h>
#include <stdint.h>

#include "ss_tctx.h"

#define SS_ENVCTX_TP_NAME "TRACEPARENT="
#define SS_ENVCTX_TS_NAME "TRACESTATE="
#define SS_ENVCTX_TP_ENTRY (sizeof(SS_ENVCTX_TP_NAME) - 1 + SS_TP_LEN + 1)
#define SS_ENVCTX_TS_ENTRY (sizeof(SS_ENVCTX_TS_NAME) - 1 + SS_TS_FORWARD_MAX + 1)

/* Entries in envp (NULL: none). */
size_t ss_envctx_count(char *const envp[]);

/* "TRACEPARENT=<ctx>" into tp, and "TRACESTATE=<ts>" into ts when ts_len
 * is not 0 (else ts is ""). */
void ss_envctx_entries(const ss_ctx_t *ctx, const char *tsv, uint16_t ts_len,
                       char tp[SS_ENVCTX_TP_ENTRY], char ts[SS_ENVCTX_TS_ENTRY]);

/* out (cap pointers): envp's entries but its TRACEPARENT= and TRACESTATE=
 * ones, in their order, then tp, then ts unless it is "", then NULL. The
 * strings are envp's own and tp/ts. Returns the entries written (not
 * counting the NULL), -1 if cap is short (ss_envctx_count(envp) + 3 is
 * always enough). */
long ss_envctx_build(char *const envp[], const char *tp, const char *ts, char **out, size_t cap);

/* The value of name ("TRACEPARENT") in envp, or NULL. */
const char *ss_envctx_get(char *const envp[], const char *name);

#endif
