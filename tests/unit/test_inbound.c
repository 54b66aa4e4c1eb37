/*
 * test_inbound.c - the table of requests being served: found by the
 * traceparent they came with, removed only by their own span, and the
 * oldest entry of a full set giving way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/ss_inbound.h"

/* A traceparent whose trace id holds n; its parent-id part, which picks
 * the set, is the same for every n. */
static void tp_of(unsigned n, char tp[SS_TP_LEN + 1])
{
    snprintf(tp, SS_TP_LEN + 1, "00-%032x-00f067aa0ba902b7-01", n + 1);
}

static ss_ctx_t ctx_of(unsigned n)
{
    ss_ctx_t c;

    memset(&c, 0, sizeof(c));
    c.trace_id[15] = (uint8_t)(n + 1);
    c.span_id[0] = (uint8_t)(n + 1);
    c.span_id[7] = 0x5a;
    c.valid = 1;
    return c;
}

static void test_find_and_remove(void **state)
{
    char tp[SS_TP_LEN + 1], other[SS_TP_LEN + 1];
    ss_ctx_t in = ctx_of(1), got, wrong = ctx_of(2);

    (void)state;
    ss_inbound_after_fork(); /* an empty table */
    tp_of(1, tp);
    tp_of(2, other);
    ss_inbound_add(tp, &in);
    assert_true(ss_inbound_find(tp, &got));
    assert_memory_equal(&got, &in, sizeof(in));
    assert_false(ss_inbound_find(other, &got));
    /* A tp that differs in its last character only is another request. */
    memcpy(other, tp, SS_TP_LEN);
    other[SS_TP_LEN - 1] = '0';
    assert_false(ss_inbound_find(other, &got));
    /* Only the span that was added removes the entry. */
    ss_inbound_remove(tp, wrong.span_id);
    assert_true(ss_inbound_find(tp, &got));
    ss_inbound_remove(tp, in.span_id);
    assert_false(ss_inbound_find(tp, &got));
}

static void test_full_set_drops_oldest(void **state)
{
    char tp[SS_TP_LEN + 1];
    ss_ctx_t c, got;
    unsigned i;

    (void)state;
    ss_inbound_after_fork();
    for (i = 0; i <= SS_INBOUND_WAYS; i++) { /* one more than a set holds */
        tp_of(i, tp);
        c = ctx_of(i);
        ss_inbound_add(tp, &c);
    }
    tp_of(0, tp);
    assert_false(ss_inbound_find(tp, &got));
    for (i = 1; i <= SS_INBOUND_WAYS; i++) {
        tp_of(i, tp);
        c = ctx_of(i);
        assert_true(ss_inbound_find(tp, &got));
        assert_memory_equal(&got, &c, sizeof(c));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_remove),
        cmocka_unit_test(test_full_set_drops_oldest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
