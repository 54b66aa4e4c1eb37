/*
 * col_log.h - the collector's clock and its rate limit on log lines.
 *
 * Lines about bad input (from senders, from the network) go through
 * col_log_allowed(): the first ones, then a few a second, so a flood of
 * garbage cannot flood the log too. What is not logged is still counted.
 */
#ifndef COL_LOG_H
#define COL_LOG_H

#include <stdint.h>

/* Whether a line about bad input may be written now. Thread-safe. */
int col_log_allowed(void);

/* CLOCK_MONOTONIC in ms. */
uint64_t col_now_ms(void);

#endif
