/*
 * col_http.h - a libmicrohttpd daemon on HOST:PORT, for the collector's
 * HTTP endpoints (/metrics, the trace viewer, the OTLP/HTTP receiver): one way to read the address
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

/* col_http_listen, with done called as each request ends, however it
 * ends (to free what the handler kept for it). */
struct MHD_Daemon *col_http_listen_done(const char *addr, const char *option, const char *serves,
                                        MHD_AccessHandlerCallback cb,
                                        MHD_RequestCompletedCallback done, void *cls,
                                        char host[COL_HTTP_HOST_MAX]);
/* The same on a socket already listening (a Unix one); `where` names it
 * in the error line. */
struct MHD_Daemon *col_http_listen_fd(int fd, const char *where, const char *serves,
                                      MHD_AccessHandlerCallback cb,
                                      MHD_RequestCompletedCallback done, void *cls);

#endif
