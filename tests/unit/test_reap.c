/*
 * test_reap.c - the children kept until they are reaped (ss_reap.h): an
 * entry is taken once, by the parent it names; the same child again
 * replaces its stale entry; a full table makes room by its oldest entry,
 * counted; two threads putting and taking at once lose nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/ss_reap.h"

static ss_reap_table_t table;

static ss_reap_entry_t entry(int32_t pid, int32_t ppid, uint8_t tag)
{
    ss_reap_entry_t e;

    memset(&e, 0, sizeof(e));
    e.pid = pid;
    e.ppid = ppid;
    memset(e.span_id, tag, 8);
    memset(e.name, 'n', sizeof(e.name)); /* not terminated: the table cuts it */
    e.ts_len = 9999;                     /* out of bounds: dropped */
    return e;
}

static void test_taken_once_by_its_parent(void **state)
{
    ss_reap_entry_t e = entry(100, 1, 0xaa), out;

    (void)state;
    memset(&table, 0, sizeof(table));
    assert_int_equal(ss_reap_put(&table, &e), SS_REAP_KEPT);
    assert_false(ss_reap_take(&table, 100, 2, &out)); /* another parent */
    assert_false(ss_reap_take(&table, 101, 1, &out));
    assert_true(ss_reap_take(&table, 100, 1, &out));
    assert_memory_equal(out.span_id, e.span_id, 8);
    assert_int_equal(out.name[sizeof(out.name) - 1], '\0');
    assert_int_equal(out.ts_len, 0);
    assert_false(ss_reap_take(&table, 100, 1, &out)); /* once */
}

static void test_same_child_replaced(void **state)
{
    ss_reap_entry_t a = entry(200, 1, 0x01), b = entry(200, 1, 0x02), out;
    unsigned i, used = 0;

    (void)state;
    memset(&table, 0, sizeof(table));
    assert_int_equal(ss_reap_put(&table, &a), SS_REAP_KEPT);
    assert_int_equal(ss_reap_put(&table, &b), SS_REAP_KEPT);
    for (i = 0; i < SS_REAP_SLOTS; i++)
        used += table.slot[i].state != SS_REAP_FREE;
    assert_int_equal(used, 1);
    assert_true(ss_reap_take(&table, 200, 1, &out));
    assert_int_equal(out.span_id[0], 0x02);
}

static void test_full_table_evicts_the_oldest(void **state)
{
    ss_reap_entry_t e, out;
    int32_t i;

    (void)state;
    memset(&table, 0, sizeof(table));
    for (i = 0; i < SS_REAP_SLOTS; i++) {
        e = entry(1000 + i, 1, (uint8_t)i);
        assert_int_equal(ss_reap_put(&table, &e), SS_REAP_KEPT);
    }
    e = entry(5000, 1, 0xee);
    assert_int_equal(ss_reap_put(&table, &e), SS_REAP_KEPT_EVICTING);
    assert_int_equal(table.evicted, 1);
    assert_false(ss_reap_take(&table, 1000, 1, &out)); /* the oldest went */
    assert_true(ss_reap_take(&table, 1001, 1, &out));
    assert_true(ss_reap_take(&table, 5000, 1, &out));
    assert_int_equal(out.span_id[0], 0xee);
}

#define PER_THREAD 20000

static void *hammer(void *arg)
{
    int32_t base = (int32_t)(intptr_t)arg, i;
    ss_reap_entry_t e, out;
    long lost = 0;

    for (i = 0; i < PER_THREAD; i++) {
        e = entry(base + (i % 16), base, (uint8_t)i);
        if (ss_reap_put(&table, &e) == SS_REAP_NOT_KEPT ||
            !ss_reap_take(&table, base + (i % 16), base, &out) || out.span_id[0] != (uint8_t)i)
            lost++;
    }
    return (void *)lost;
}

static void test_two_threads(void **state)
{
    pthread_t a, b;
    void *la, *lb;

    (void)state;
    memset(&table, 0, sizeof(table));
    assert_int_equal(pthread_create(&a, NULL, hammer, (void *)(intptr_t)10000), 0);
    assert_int_equal(pthread_create(&b, NULL, hammer, (void *)(intptr_t)20000), 0);
    pthread_join(a, &la);
    pthread_join(b, &lb);
    assert_int_equal((long)la, 0);
    assert_int_equal((long)lb, 0);
    assert_int_equal(table.evicted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken_once_by_its_parent),
        cmocka_unit_test(test_same_child_replaced),
        cmocka_unit_test(test_full_table_evicts_the_oldest),
        cmocka_unit_test(test_two_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
