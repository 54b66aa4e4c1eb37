/*
 * col_ui_assets.h - the trace viewer's page (exporter/collector/ui), built
 * into the collector by cmake/embed.cmake.
 */
#ifndef COL_UI_ASSETS_H
#define COL_UI_ASSETS_H

#include <stddef.h>

typedef struct col_ui_asset {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} col_ui_asset_t;

extern const col_ui_asset_t col_ui_assets[];
extern const unsigned col_ui_n_assets;

#endif
