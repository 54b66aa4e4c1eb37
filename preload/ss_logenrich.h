/*
 * ss_logenrich.h - trace context written into the program's own log lines
 * (SPANSHIM_LOG_ENRICH=on), as the write that ends each line goes out.
 *
 * A line whose end ('\n') is written while a span is current gains the
 * three fields OpenTelemetry's "Trace Context in non-OTLP Log Formats"
 * names, lowercase hex:
 *   - a plain line:  ` trace_id=<32> span_id=<16> trace_flags=<2>` before
 *     its "\n" (before its "\r\n");
 *   - a JSON line (its first non-blank byte '{', its last '}'):
 *     `,"trace_id":"<32>","span_id":"<16>","trace_flags":"<2>"` before that
 *     final '}' (no comma in an empty object: `{}`).
 * Blank is space, tab and '\r' (JSON's whitespace). A line of blanks, a
 * line with no end yet, and a line whose '}' (or the '\r' of its "\r\n")
 * came in an earlier write than its '\n' are left as they are (that byte
 * is gone: the last are counted as missed). Nothing else changes: no
 * length limit (a line over the capture's 8 KiB gets its fields too: only
 * its first and last non-blank bytes are kept here), no byte of the
 * program's removed or reordered, no NUL.
 *
 * One write is a plan and a commit, as the header injection's
 * (ss_send.c): the plan lays out an iovec of the application's bytes with
 * the fields in their places, one real writev sends it, and the commit
 * maps the kernel's count back to the application's bytes, which is all
 * the program is told. Fields the kernel took only part of are the line's
 * carry: they go first in the next write to that fd, before any later
 * byte of the program's (which, told that its bytes from the insertion
 * point on did not go, writes them again), and the line is done: its end
 * gets no second set. A write that ends more lines than the plan has room
 * for (SS_ENRICH_IOV entries: 20 to 30 lines) is planned up to the end of
 * the last line that fits (a line of more pieces than that: up to the last
 * piece that fits); the caller sends the rest in a further plan.
 *
 * Pure: no locks, no allocation, no globals. The caller keeps one
 * ss_enrich_line_t per stream and holds the stream's lock around each
 * call; the plan lives on its stack (1.7 KiB).
 */
#ifndef SS_LOGENRICH_H
#define SS_LOGENRICH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ss_tctx.h"

#define SS_ENRICH_IOV 64
#define SS_ENRICH_POINTS (SS_ENRICH_IOV / 2)
#define SS_ENRICH_FIELDS_MAX 96   /* the JSON form, 94 bytes */

/* The stream's unfinished line, as far as the kernel took it. */
typedef struct ss_enrich_state {
    uint8_t has;               /* a non-blank byte came */
    uint8_t first;             /* the first one */
    uint8_t last;              /* the last one */
    uint8_t prev;              /* the one before that (0: none) */
    uint8_t cr;                /* its last byte is '\r' */
    uint8_t done;              /* its fields went out (or are the carry) */
} ss_enrich_state_t;

typedef struct ss_enrich_line {
    ss_enrich_state_t s;
    uint8_t carry_len;         /* bytes of its fields still owed */
    char carry[SS_ENRICH_FIELDS_MAX];
} ss_enrich_line_t;

/* What each entry of a plan's iovec is. */
enum { SS_ENRICH_APP, SS_ENRICH_FIELDS, SS_ENRICH_CARRY };

typedef struct ss_enrich_plan {
    struct iovec iov[SS_ENRICH_IOV];
    uint8_t kind[SS_ENRICH_IOV];
    int cnt;
    size_t app;                /* application bytes in the plan (a prefix of those given) */
    size_t len;                /* all its bytes */
    uint8_t ctx;               /* a span was current */
    uint8_t carry_len;         /* the stream's carry, moved here */
    uint8_t plain_len, json_len;
    char carry[SS_ENRICH_FIELDS_MAX];
    char plain[SS_ENRICH_FIELDS_MAX];
    char json[SS_ENRICH_FIELDS_MAX];
    int npoints;
    size_t at[SS_ENRICH_POINTS];  /* where fields go, application offsets */
    uint8_t how[SS_ENRICH_POINTS];
} ss_enrich_plan_t;

/* What a commit found (for the counters). */
typedef struct ss_enrich_result {
    size_t app;                /* application bytes that went */
    unsigned enriched;         /* lines whose fields began to go out */
    unsigned missed;           /* lines ended in a span, left without (see above) */
    int owed;                  /* the kernel cut a set of fields: the rest is l's carry */
    int whole;                 /* the kernel took the whole plan */
} ss_enrich_result_t;

void ss_enrich_init(ss_enrich_line_t *l);

/* The fields of ctx in both forms (plain, JSON with its leading comma),
 * NUL-terminated; their lengths. */
void ss_enrich_format(const ss_ctx_t *ctx, char plain[SS_ENRICH_FIELDS_MAX], uint8_t *plain_len,
                      char json[SS_ENRICH_FIELDS_MAX], uint8_t *json_len);

/* Plan the application bytes of iov from byte `skip` on (n of them in all,
 * n > 0) for one write. ctx: the span current (NULL: none, no fields). l's
 * carry, if any, moves into the plan. Returns 0 when the bytes go as they
 * are (only with skip 0: no carry, no line to give fields; pl->app is n),
 * else 1 with pl laid out over pl->app of them (pl->app > 0). */
int ss_enrich_plan(ss_enrich_line_t *l, const ss_ctx_t *ctx, const struct iovec *iov, int cnt,
                   size_t skip, size_t n, ss_enrich_plan_t *pl);

/* The write of pl (planned: what ss_enrich_plan returned; 0: the
 * application's bytes of iov from skip went as they were) returned r (< 0:
 * nothing went). l follows the application's bytes that went; what was not
 * taken of a set of fields the kernel began is l's carry; a carry not
 * taken at all goes back to l. */
void ss_enrich_commit(ss_enrich_line_t *l, const ss_enrich_plan_t *pl, int planned,
                      const struct iovec *iov, int cnt, size_t skip, ssize_t r,
                      ss_enrich_result_t *out);

#endif
