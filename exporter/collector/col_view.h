/*
 * col_view.h - the trace viewer as a sink (col_sink.h): wanted when --ui
 * is given; it keeps what comes in the viewer's store (col_vstore.h) and
 * serves it (col_ui.h).
 */
#ifndef COL_VIEW_H
#define COL_VIEW_H

#include "col_sink.h"

/* --ui HOST:PORT, --ui-max-traces N, --ui-max-spans N, --ui-max-mb N (name
 * without the dashes): 1, or 0 after an error line. */
int col_view_option(const char *name, const char *value);

#endif
