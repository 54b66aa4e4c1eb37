/*
 * col_stop.h - the stop's clock: SIGTERM or SIGINT starts it, and every
 * part of the collector asks it how long it still has.
 *
 * A stop is over --stop-timeout after the signal. The first four fifths
 * go to what is queued (in the kernel and in memory); the last fifth to
 * writing what the sinks hold and to forwarding.
 */
#ifndef COL_STOP_H
#define COL_STOP_H

#include <stdint.h>

/* Set by the signal handler, read by every thread (the receiver, replay,
 * the HTTP servers' and forwarding's): atomic, since volatile
 * sig_atomic_t says nothing about other threads. A lock-free int's atomic
 * store is async-signal-safe. */
extern int col_stop_flag;

/* The signal handler's part (async-signal-safe). */
static inline void col_stop_request(void)
{
    __atomic_store_n(&col_stop_flag, 1, __ATOMIC_RELEASE);
}

static inline int col_stopping(void)
{
    return __atomic_load_n(&col_stop_flag, __ATOMIC_ACQUIRE) != 0;
}

/* When the stop must be over (CLOCK_MONOTONIC ms); 0 while there is none. */
uint64_t col_stop_deadline(void);
/* Stopping, and the part of the stop for handling what is queued is over. */
int col_stop_handling_over(void);
/* What is left of the stop's time, in ms. */
long col_stop_left_ms(void);

#endif
