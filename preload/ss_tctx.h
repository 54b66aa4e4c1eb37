/*
 * ss_tctx.h - W3C Trace Context: traceparent and tracestate.
 *
 * Pure functions over byte strings, so every rule of the specification is
 * a unit test: parse an inbound traceparent, format an outbound one, and
 * turn an inbound tracestate into the list to forward (or nothing).
 */
#ifndef SS_TCTX_H
#define SS_TCTX_H

#include <stddef.h>
#include <stdint.h>

#define SS_TP_LEN 55               /* "00-" 32 "-" 16 "-" 2 */
#define SS_TS_FORWARD_MAX 512      /* forwarded tracestate is cut to this */

#define SS_FLAG_SAMPLED 0x01
#define SS_FLAG_RANDOM 0x02

typedef struct ss_ctx {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags;                 /* W3C trace flags, only known bits */
    uint8_t valid;
} ss_ctx_t;

/* Parse a traceparent header value (untrimmed). Returns 1 and fills ctx
 * when valid, 0 otherwise. */
int ss_tp_parse(const char *s, size_t n, ss_ctx_t *ctx);

/* Write the version-00 form of ctx: SS_TP_LEN characters, then a NUL. */
void ss_tp_format(const ss_ctx_t *ctx, char out[SS_TP_LEN + 1]);

/* Validate an inbound tracestate list and write what to forward, members
 * joined by ',', byte-exact, cut to SS_TS_FORWARD_MAX by dropping whole
 * members. `cut` says the input itself was cut short by a capture cap (its
 * last member is then incomplete and dropped). Returns the output length;
 * 0 means forward nothing (absent, empty or invalid). out needs
 * SS_TS_FORWARD_MAX + 1 bytes. */
size_t ss_ts_forward(const char *in, size_t n, int cut, char *out);

/* Lowercase hex of n bytes into out (2n chars, then a NUL). */
void ss_hex(const uint8_t *b, size_t n, char *out);

#endif
