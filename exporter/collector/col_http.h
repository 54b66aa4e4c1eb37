/*
 * col_http.h - a libmicrohttpd daemon on HOST:PORT, for the collector's
 * HTTP endpoints (/metrics, the trace viewer): one way to read the address
 * and the same limits on connections for each.
 */
#ifndef COL_HTTP_H
#define COL_HTTP_H

#include <microhttpd.h>

#define COL_HTTP_HOST_MAX 256

/* Listen on addr ("HOST:PORT", ":PORT" or "[V6]:PORT") and answer with cb
 * on the daemon's own thread; NULL after an error line naming `option`
 * (e.g. "--ui") and what it serves. host, if not NULL, gets HOST (no
 * brackets; "" for ":PORT"). */
struct MHD_Daemon *col_http_listen(const char *addr, const char *option, const char *serves,
                                   MHD_AccessHandlerCallback cb, void *cls,
                                   char host[COL_HTTP_HOST_MAX]);

#endif
