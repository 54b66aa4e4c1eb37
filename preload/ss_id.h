/*
 * ss_id.h - random trace and span ids.
 *
 * A per-thread wyrand generator seeded from getrandom(), reseeded in
 * a fork child (ss_id_after_fork) so that parent and child never share ids.
 * Ids are never all zero.
 */
#ifndef SS_ID_H
#define SS_ID_H

#include <stdint.h>

void ss_id_span(uint8_t out[8]);
/* A span that starts a trace: its trace id, then its span id. */
void ss_id_trace_span(uint8_t trace[16], uint8_t span[8]);
void ss_id_after_fork(void);

#endif
