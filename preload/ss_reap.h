/*
 * ss_reap.h - the children this process started with a pre-assigned
 * process span, until they are reaped.
 *
 * A traced child ends its own process span at exit or exec; a child
 * killed by a signal (SIGKILL cannot be caught, and catching any other
 * would change the program) never does. So the process that starts a
 * child with a context chooses the span id the child's process span will
 * have (SPANSHIM_PROC_SPAN, ss_envctx.h) and keeps here what that span
 * would say; when it reaps the child and the status says a signal ended
 * it, it sends the span itself (ss_proc.h).
 *
 * A fork child that goes on to exec learns its own pid, not the parent,
 * so the table is a shared anonymous mapping made before any fork: every
 * fork and vfork child of the image writes into the same pages, and the
 * entry names the parent that is to reap it (its ppid). A fixed number of
 * slots, each claimed and released with one compare-and-swap: no lock,
 * nothing allocated, so a vfork child, a fork child of a threaded program
 * and a signal handler's wait may all use it. When every slot is taken
 * the oldest entry makes room (an evicted child killed later sends no
 * span) and the eviction is counted. These functions work on a table the
 * caller gives, so every rule is a unit test.
 */
#ifndef SS_REAP_H
#define SS_REAP_H

#include <stdint.h>

#include "ss_proc_span.h"
#include "ss_tctx.h"

#define SS_REAP_SLOTS 64

typedef struct ss_reap_entry {
    int32_t pid;                        /* the child */
    int32_t ppid;                       /* the process that reaps it */
    ss_ctx_t parent;                    /* the span the child's span is the child of */
    uint8_t span_id[8];                 /* the child's process span */
    uint8_t sampled;
    uint64_t start_ns;
    uint16_t ts_len;
    char ts[SS_TS_FORWARD_MAX + 1];     /* the tracestate it was given */
    char name[SS_PROC_NAME_MAX];        /* NUL-terminated */
    char command[SS_PROC_COMMAND_MAX];  /* NUL-terminated */
} ss_reap_entry_t;

typedef struct ss_reap_slot {
    uint32_t state;                     /* SS_REAP_FREE, _BUSY, _READY: atomic */
    uint64_t seq;                       /* the order entries came in (eviction) */
    ss_reap_entry_t e;
} ss_reap_slot_t;

typedef struct ss_reap_table {
    uint64_t seq;                       /* atomic */
    uint64_t evicted;                   /* atomic: entries that made room */
    ss_reap_slot_t slot[SS_REAP_SLOTS];
} ss_reap_table_t;

enum { SS_REAP_FREE = 0, SS_REAP_BUSY, SS_REAP_READY };
enum { SS_REAP_NOT_KEPT = 0, SS_REAP_KEPT, SS_REAP_KEPT_EVICTING };

/* Keep e (pid, ppid set): SS_REAP_KEPT; SS_REAP_KEPT_EVICTING when the
 * oldest entry had to go for it; SS_REAP_NOT_KEPT when every slot was
 * being written or read at that moment. An entry already there for the
 * same pid and ppid (a pid the parent never reaped, reused) is replaced. */
int ss_reap_put(ss_reap_table_t *t, const ss_reap_entry_t *e);

/* The entry for child pid of ppid, taken out of the table into out: 1, or
 * 0 if there is none. */
int ss_reap_take(ss_reap_table_t *t, int32_t pid, int32_t ppid, ss_reap_entry_t *out);

#endif
