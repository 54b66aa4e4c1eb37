/*
 * test_sample.c - the six samplers and how their variables are read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/ss_sample.h"

static const uint8_t low_id[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t high_id[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
/* last 8 bytes 0x40.. : (x >> 1) / 2^63 = 0.25 */
static const uint8_t quarter_id[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0};

static void test_parse_defaults_and_names(void **state)
{
    ss_sampler_t s;

    (void)state;
    assert_int_equal(ss_sampler_parse(&s, NULL, NULL), 0);
    assert_int_equal(s.kind, SS_SAMPLER_PB_ALWAYS_ON);
    assert_int_equal(ss_sampler_parse(&s, "", ""), 0);
    assert_int_equal(s.kind, SS_SAMPLER_PB_ALWAYS_ON);
    assert_int_equal(ss_sampler_parse(&s, "always_off", NULL), 0);
    assert_int_equal(s.kind, SS_SAMPLER_ALWAYS_OFF);
    assert_int_equal(ss_sampler_parse(&s, "parentbased_traceidratio", "0.25"), 0);
    assert_int_equal(s.kind, SS_SAMPLER_PB_RATIO);
    assert_true(s.ratio == 0.25);
    assert_int_equal(ss_sampler_parse(&s, "jaeger_remote", NULL), -1);
    assert_int_equal(s.kind, SS_SAMPLER_PB_ALWAYS_ON);
}

static void test_parse_bad_ratio(void **state)
{
    ss_sampler_t s;

    (void)state;
    assert_int_equal(ss_sampler_parse(&s, "traceidratio", "1.5"), -1);
    assert_true(s.ratio == 1.0);
    assert_int_equal(ss_sampler_parse(&s, "traceidratio", "half"), -1);
    assert_true(s.ratio == 1.0);
    assert_int_equal(ss_sampler_parse(&s, "traceidratio", "-0.1"), -1);
    assert_int_equal(ss_sampler_parse(&s, "traceidratio", "0"), 0);
    assert_true(s.ratio == 0.0);
}

static void test_always(void **state)
{
    ss_sampler_t on = {SS_SAMPLER_ALWAYS_ON, 1}, off = {SS_SAMPLER_ALWAYS_OFF, 1};

    (void)state;
    assert_true(ss_sample(&on, low_id, 0, 0));
    assert_true(ss_sample(&on, low_id, 1, 0)); /* ignores an unsampled parent */
    assert_false(ss_sample(&off, low_id, 0, 0));
    assert_false(ss_sample(&off, low_id, 1, 1)); /* ignores a sampled parent */
}

static void test_ratio(void **state)
{
    ss_sampler_t r = {SS_SAMPLER_RATIO, 0.5};

    (void)state;
    assert_true(ss_sample(&r, low_id, 0, 0));
    assert_false(ss_sample(&r, high_id, 0, 0));
    r.ratio = 0.25;
    assert_false(ss_sample(&r, quarter_id, 0, 0)); /* exactly at the bound: not below */
    r.ratio = 0.2500001;
    assert_true(ss_sample(&r, quarter_id, 0, 0));
    r.ratio = 0.0;
    assert_false(ss_sample(&r, low_id, 0, 0));
    r.ratio = 1.0;
    assert_true(ss_sample(&r, high_id, 0, 0));
}

static void test_parent_based(void **state)
{
    ss_sampler_t on = {SS_SAMPLER_PB_ALWAYS_ON, 1}, off = {SS_SAMPLER_PB_ALWAYS_OFF, 1};
    ss_sampler_t ratio = {SS_SAMPLER_PB_RATIO, 0.5};

    (void)state;
    assert_true(ss_sample(&on, high_id, 0, 0));
    assert_true(ss_sample(&on, high_id, 1, 1));
    assert_false(ss_sample(&on, high_id, 1, 0));
    assert_false(ss_sample(&off, low_id, 0, 0));
    assert_true(ss_sample(&off, low_id, 1, 1));
    assert_true(ss_sample(&ratio, low_id, 0, 0));
    assert_false(ss_sample(&ratio, high_id, 0, 0));
    assert_true(ss_sample(&ratio, high_id, 1, 1));
    assert_false(ss_sample(&ratio, low_id, 1, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_defaults_and_names),
        cmocka_unit_test(test_parse_bad_ratio),
        cmocka_unit_test(test_always),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_parent_based),
    };

    return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
