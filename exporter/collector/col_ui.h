/*
 * col_ui.h - the trace viewer's web server (--ui HOST:PORT): the page, and
 * the JSON API over the viewer's store (col_vstore.h).
 *
 *   GET /                  the page (index.html, app.js, style.css, built in)
 *   GET /api/traces        ?service=&status=ok|error&min_ms=&max_ms=&trace_id=&limit=
 *   GET /api/trace?id=HEX  one trace, every span
 *   GET /api/services      the service map
 *
 * Only GET and HEAD. Requests must name the viewer by an IP address,
 * "localhost" or the HOST given to --ui (a web page elsewhere cannot read
 * the traces through a DNS name it points here: DNS rebinding); others get
 * 403. The page is served with a Content-Security-Policy allowing only
 * itself.
 */
#ifndef COL_UI_H
#define COL_UI_H

/* Listen on addr and say where on stderr; 0 after an error line. */
int col_ui_start(const char *addr);
void col_ui_stop(void);

#endif
