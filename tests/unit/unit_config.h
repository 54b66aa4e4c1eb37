/*
 * unit_config.h - the configuration the connection tests run with: the
 * defaults, and a collector socket that does not exist, so that spans are
 * recorded and counted but go nowhere; and the exporter hosted as the shim
 * hosts it. No in-flight reports (SPANSHIM_INFLIGHT_MS=0): the flush thread
 * would report a span a slow test (a sanitizer build) keeps open, at a time
 * of its own; test_inflight drives them with its own clock.
 */
#ifndef TEST_UNIT_CONFIG_H
#define TEST_UNIT_CONFIG_H

#include <stdlib.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_export.h"

/* A cmocka group setup. */
static inline int unit_config_setup(void **state)
{
    (void)state;
    setenv("SPANSHIM_SOCKET", "/nonexistent/spanshim-test.sock", 1);
    setenv("SPANSHIM_INFLIGHT_MS", "0", 1);
    ss_config_load();
    ss_export_init(0, NULL);
    return 0;
}

#endif
