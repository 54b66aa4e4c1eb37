/*
 * test_queue.c - the queue between receivers and the collector's main
 * thread (col_queue.h): its eventfd, which the main thread polls beside
 * the datagram socket, is readable exactly while items wait or once the
 * queue is closed; items come out oldest first, all at once; the cap in
 * bytes refuses what does not fit, and a taken queue has room again.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_queue.h"

static int readable(void)
{
    struct pollfd p = {col_queue_fd(), POLLIN, 0};

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static size_t drop_all(col_item_t *it)
{
    size_t n = 0;

    while (it) {
        col_item_t *next = it->next;

        col_queue_done(it);
        it = next;
        n++;
    }
    return n;
}

static void test_wakes_while_items_wait(void **state)
{
    col_item_t *all;
    int closed = 1;

    (void)state;
    assert_false(readable()); /* empty: the main thread sleeps */
    assert_null(col_queue_take(&closed));
    assert_int_equal(closed, 0);
    assert_true(col_queue_put((const uint8_t *)"one", 3, COL_FROM_OTLP_HTTP, 1, 2));
    assert_true(readable());
    assert_true(col_queue_put((const uint8_t *)"two", 3, COL_FROM_DGRAM, 3, 4));
    assert_true(readable());
    all = col_queue_take(&closed);
    assert_false(readable()); /* taken: nothing to wake for until the next put */
    assert_non_null(all);
    assert_memory_equal(all->data, "one", 3);
    assert_int_equal(all->from, COL_FROM_OTLP_HTTP);
    assert_int_equal(all->pid, 1);
    assert_non_null(all->next);
    assert_memory_equal(all->next->data, "two", 3);
    assert_int_equal(all->next->uid, 4);
    assert_null(all->next->next);
    assert_int_equal(drop_all(all), 2);
    assert_int_equal(col_queue_bytes(), 0);
    assert_true(col_queue_put((const uint8_t *)"three", 5, COL_FROM_REPLAY, 5, 6));
    assert_true(readable()); /* the put after a take rings again */
    assert_int_equal(drop_all(col_queue_take(&closed)), 1);
    assert_false(readable());
}

static void test_cap_refuses_then_frees(void **state)
{
    static uint8_t big[600];
    int closed;

    (void)state;
    /* The cap is 1024 bytes (main): one item of 600 and its header fits,
     * a second does not; refused, it leaves the queue as it was. */
    assert_true(col_queue_put(big, sizeof(big), COL_FROM_DGRAM, 0, 0));
    assert_false(col_queue_put(big, sizeof(big), COL_FROM_DGRAM, 0, 0));
    assert_int_equal(drop_all(col_queue_take(&closed)), 1);
    assert_true(col_queue_put(big, sizeof(big), COL_FROM_DGRAM, 0, 0));
    assert_int_equal(drop_all(col_queue_take(&closed)), 1);
    assert_false(readable());
}

static void test_closed_stays_readable(void **state)
{
    int closed = 0;

    (void)state;
    assert_true(col_queue_put((const uint8_t *)"last", 4, COL_FROM_DGRAM, 0, 0));
    col_queue_close();
    assert_true(readable());
    assert_int_equal(drop_all(col_queue_take(&closed)), 1);
    assert_int_equal(closed, 1);
    assert_true(readable()); /* the main thread sees the close however often it looks */
    assert_null(col_queue_take(&closed));
    assert_int_equal(closed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wakes_while_items_wait),
        cmocka_unit_test(test_cap_refuses_then_frees),
        cmocka_unit_test(test_closed_stays_readable), /* last: the queue stays closed */
    };

    if (!col_queue_init(1024))
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
