/*
 * ss_inflight.h - requests that never end: open spans reported while open,
 * and ended when the process image ends.
 *
 * A request stuck on a backend that never answers leaves no span at all
 * until it ends, and it may never end. Every span record is listed from
 * its alloc to its free (ss_span.c, under the lock the free list takes
 * anyway); a connection's exchange names the lock its fields are written
 * under (its connection's). The export thread's periodic tick walks the
 * list and, for a SERVER or CLIENT span still open SPANSHIM_INFLIGHT_MS
 * after it was first seen, copies it under that lock (tried, never waited
 * for: the owner takes the locks in the other order) and exports the copy:
 * the same trace and span id and start, the end time the time it was seen,
 * and spanshim.span.in_flight=true. It reports it again after twice the
 * interval, and so on, doubling up to SS_INFLIGHT_CAP_MS. When the span
 * ends it is exported whole as always; the collector keeps the last record
 * of a span id. The request path pays nothing more than a pointer stored
 * and two links under a lock it already takes.
 *
 * At exit (atexit, _exit) and exec the open spans end: each is exported
 * with status ERROR and error.type process_exit or process_exec, and its
 * own end, if it ever comes, is no news. If exec fails, they are open
 * again (their real end replaces the early one at the collector).
 *
 * Spans a fork child inherited are its parent's: the child lists only its
 * own, and the parent reports the others. Spans made inside libcurl's own
 * tracing and DNS lookups are reported only when they end.
 */
#ifndef SS_INFLIGHT_H
#define SS_INFLIGHT_H

#include <stdint.h>

#include "ss_span.h"

#define SS_INFLIGHT_DEFAULT_MS 5000u
#define SS_INFLIGHT_CAP_MS 300000u  /* the slowest interval: 5 minutes */
#define SS_INFLIGHT_BATCH 8         /* copies a tick makes at most */

/* How long after its report number `made` (0: the first, made
 * first_ms after the span was seen) the next one comes, in ms: first_ms,
 * doubled each time, at most SS_INFLIGHT_CAP_MS (or first_ms if larger). */
uint64_t ss_inflight_interval_ms(unsigned first_ms, unsigned made);

/* A connection's exchange s is written under lock: it may be reported. */
static inline void ss_inflight_owned(ss_span_t *s, ss_lock_t *lock)
{
    __atomic_store_n(&s->owner, lock, __ATOMIC_RELEASE);
}

/* The export thread's tick (mono_ns: CLOCK_MONOTONIC): report what is
 * due. Returns how many spans it reported. */
unsigned ss_inflight_tick(uint64_t mono_ns);

/* The process image ends (why: "process_exit", "process_exec"): every
 * open span of this process ends with that error. Returns how many. */
unsigned ss_inflight_end_all(const char *why);
/* The exec failed: the spans ended for it are open again. */
void ss_inflight_reopen(void);

#endif
