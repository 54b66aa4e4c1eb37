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
 * Next to them goes one variable of the shim's own, SPANSHIM_PROC_SPAN:
 * the span id the child's process span is to have, chosen by the process
 * that starts it, so that this process can still send that span if the
 * child is killed by a signal before it can (ss_proc.h says when). Its
 * value, all lowercase hex, fixed width:
 *     <span id, 16>-<parent span id, 16>-<start, ns since the epoch, 16>-<ppid, 8>
 * It binds to the process it was made for by its parent's pid: a program
 * started by an untraced child (a grandchild, which inherits it) sees
 * another parent and ignores it; an exec keeps the pid and the parent, so
 * the next image of the same process takes it.
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
#define SS_ENVCTX_PS_NAME "SPANSHIM_PROC_SPAN="
#define SS_ENVCTX_PS_LEN (16 + 1 + 16 + 1 + 16 + 1 + 8)
#define SS_ENVCTX_PS_ENTRY (sizeof(SS_ENVCTX_PS_NAME) - 1 + SS_ENVCTX_PS_LEN + 1)

/* SPANSHIM_PROC_SPAN's value. */
typedef struct ss_envctx_ps {
    uint8_t span_id[8];    /* never all zero */
    uint8_t parent_id[8];  /* the span TRACEPARENT names, or for the next image
                            * of a process (TRACEPARENT naming span_id) its parent */
    uint64_t start_ns;     /* the process span's start */
    uint32_t ppid;         /* the parent process it was made for (not 0) */
} ss_envctx_ps_t;

/* "SPANSHIM_PROC_SPAN=<value>" into out. */
void ss_envctx_ps_format(const ss_envctx_ps_t *ps, char out[SS_ENVCTX_PS_ENTRY]);
/* The value (up to its NUL) into ps: 1 if it is one ss_envctx_ps_format
 * writes (exact length, lowercase hex, ids and ppid not zero), else 0. */
int ss_envctx_ps_parse(const char *value, ss_envctx_ps_t *ps);

/* Entries in envp (NULL: none). */
size_t ss_envctx_count(char *const envp[]);

/* "TRACEPARENT=<ctx>" into tp, and "TRACESTATE=<ts>" into ts when ts_len
 * is not 0 (else ts is ""). */
void ss_envctx_entries(const ss_ctx_t *ctx, const char *tsv, uint16_t ts_len,
                       char tp[SS_ENVCTX_TP_ENTRY], char ts[SS_ENVCTX_TS_ENTRY]);

/* out (cap pointers): envp's entries but its TRACEPARENT=, TRACESTATE= and
 * SPANSHIM_PROC_SPAN= ones, in their order, then tp, then ts and ps each
 * unless it is "", then NULL. The strings are envp's own and tp/ts/ps.
 * Returns the entries written (not counting the NULL), -1 if cap is short
 * (ss_envctx_count(envp) + 4 is always enough). */
long ss_envctx_build(char *const envp[], const char *tp, const char *ts, const char *ps,
                     char **out, size_t cap);

/* The value of name ("TRACEPARENT") in envp, or NULL. */
const char *ss_envctx_get(char *const envp[], const char *name);

#endif
