/*
 * col_serve.h - the collector's HTTP endpoint: GET /metrics (see col_serve.c).
 */
#ifndef COL_SERVE_H
#define COL_SERVE_H

/* Listen on ADDR ("HOST:PORT", ":PORT" or "[V6]:PORT"). 0 if it cannot. */
int col_serve_start(const char *addr);
void col_serve_stop(void);

#endif
