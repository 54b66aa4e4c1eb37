/*
 * ss_serving.h - how many requests each thread has in flight.
 *
 * Without a hint (ss_hint.h) the parent of an outgoing request is the
 * server span its thread last started. That is right where a thread
 * serves one request at a time (thread and process servers) and a guess
 * where it serves several at once (an event loop: aiohttp, asyncio, a
 * Node program without the module): then the outgoing request belongs to
 * any of them. The shim does not guess: a thread with more than one
 * request in flight gives its outgoing requests no parent (a new trace,
 * marked spanshim.parent.ambiguous=true), since a wrong parent puts a call
 * into another user's trace, while a new trace only leaves it unlinked.
 *
 * Each thread counts in one of SS_SERVING_SLOTS slots, which a request
 * remembers so that whichever thread ends it counts it off. Threads beyond
 * the slots share them: they may see more in flight than they serve (no
 * parent), never fewer (no wrong one).
 */
#ifndef SS_SERVING_H
#define SS_SERVING_H

#include <stdint.h>

#define SS_SERVING_SLOTS 1024

/* This thread started serving a request: its slot (never 0). */
uint16_t ss_serving_begin(void);

/* A request counted in slot ended (on any thread). */
void ss_serving_end(uint16_t slot);

/* This thread has at most one request in flight. */
int ss_serving_alone(void);

/* This thread has exactly one request in flight (the one it started last:
 * a log line it writes belongs to it). */
int ss_serving_one(void);

#endif
