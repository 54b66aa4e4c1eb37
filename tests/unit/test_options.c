/*
 * test_options.c - the collector's command line (col_options.c): each
 * viewer bound lands where it says, and turns nothing else on.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../exporter/collector/col_options.h"

static void viewer_bounds_are_their_own(void **state)
{
    char *argv[] = {"spanshim-collector", "--socket", "/tmp/spanshim-unit-options.sock",
                    "--ui-max-traces", "7", "--ui-max-spans", "9", "--ui-max-mb", "3", NULL};

    (void)state;
    optind = 0;
    assert_int_equal(col_options_parse(9, argv), -1);
    assert_int_equal(col_opt.ui_cfg.max_traces, 7);
    assert_int_equal(col_opt.ui_cfg.max_spans, 9);
    assert_int_equal(col_opt.ui_cfg.max_bytes, (size_t)3 << 20);
    assert_int_equal(col_opt.fwd.in_flight, 0);
}

static void a_bad_bound_is_an_error(void **state)
{
    char *argv[] = {"spanshim-collector", "--ui-max-spans", "many", NULL};

    (void)state;
    optind = 0;
    assert_int_equal(col_options_parse(3, argv), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(viewer_bounds_are_their_own),
        cmocka_unit_test(a_bad_bound_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
