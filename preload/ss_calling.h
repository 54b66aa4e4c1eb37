/*
 * ss_calling.h - the outgoing call a thread has in flight, for its log
 * lines.
 *
 * A line a service logs while it waits for a call it made (between
 * sending a request and reading the whole reply: "calling the payment
 * service", a retry, a slow-call warning from a callback) belongs to that
 * call's CLIENT span, not to the SERVER span it serves. So each CLIENT
 * span a thread sends (ss_conn.c's exchanges, libcurl's transfers) is
 * counted in the thread's slot until it ends, on whichever thread ends it
 * (the reply may be read on another one).
 *
 * The count is an XOR of the span ids in flight in the slot: one atomic
 * operation when a call starts and one when it ends, no lock, and nothing
 * that points at the span record (which may be freed, or reused, by then:
 * ss_span.c). The thread keeps the context of the last call it sent; a
 * line belongs to that call exactly when the slot's XOR is that call's id,
 * that is when it is the only call in flight in the slot: a thread with
 * two calls open at once (an event loop, pipelining, a second call made
 * while the first is open) gives its lines to neither, as with SERVER
 * spans (ss_serving.h), and once its last call ended the slot no longer
 * names it. Threads beyond the slots share them: a shared slot only ever
 * says "none" more often (another thread's call in it does not XOR to
 * this thread's id), never names another thread's call; a wrong name
 * would need the ids of three or more calls to XOR to a fourth's, a
 * chance of 2^-64.
 *
 * Only while log capture is on (SPANSHIM_LOGS): with it off no call is
 * counted, and a span's end costs the test of one field.
 */
#ifndef SS_CALLING_H
#define SS_CALLING_H

#include "ss_span.h"

#define SS_CALLING_SLOTS 1024

/* s, a CLIENT span with its context, was sent by this thread: counted in
 * its slot (s->calling_slot, s->calling_key) until ss_calling_end. */
void ss_calling_begin(ss_span_t *s);

/* s's context changed while it was counted (a copied traceparent or the
 * Node module's hint gave it another id: ss_span_start_ctx). */
void ss_calling_rekey(ss_span_t *s);

/* s, counted, ended or was dropped (on any thread). */
void ss_calling_end(ss_span_t *s);

/* 1 and *out: the CLIENT span this thread sent last, still in flight and
 * the only one in its slot. 0: none. */
int ss_calling_one(ss_ctx_t *out);

#endif
