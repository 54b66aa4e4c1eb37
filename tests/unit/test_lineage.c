/*
 * test_lineage.c - the private collector's verdict on a sender's ancestry
 * (exporter/collector/col_lineage.c), on a /proc of our own making: each
 * process a directory with a stat and a status file, so parents, start
 * times, uids, reused pids and senders that are gone are set by the test.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../exporter/collector/col_lineage.h"

#define ROOT 100  /* `spanshim run` */
#define OWN 0     /* the collector's uid */
#define NOBODY 65534
#define ALICE 1000

static char proc[64];

static int make_proc(void **state)
{
    (void)state;
    snprintf(proc, sizeof(proc), "/tmp/spanshim-lineage.XXXXXX");
    if (mkdtemp(proc) == NULL)
        return -1;
    col_lineage_init(ROOT, OWN, proc);
    return 0;
}

static int remove_proc(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", proc);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(int pid, const char *name, const char *text)
{
    char path[160];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%d", proc, pid);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%d/%s", proc, pid, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A process: its parent, start time and real uid, with a command name
 * that has the characters stat's parser must get past. */
static void process(int pid, int ppid, unsigned long long start, unsigned uid)
{
    char stat[512], status[256];

    snprintf(stat, sizeof(stat),
             "%d (a) (b c)) S %d %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu 1000 "
             "10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
             pid, ppid, pid, pid, start);
    snprintf(status, sizeof(status),
             "Name:\ta\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"
             "Uid:\t%u\t%u\t%u\t%u\nGid:\t0\t0\t0\t0\n",
             pid, pid, ppid, uid, uid, uid, uid);
    put(pid, "stat", stat);
    put(pid, "status", status);
}

static void gone(int pid)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", proc, pid);
    assert_int_equal(system(cmd), 0);
}

/* The tree most tests use: init, ROOT under it, a root nginx master under
 * ROOT, its workers as nobody; alice's shell beside ROOT. */
static void tree(void)
{
    process(1, 0, 1, 0);
    process(ROOT, 1, 500, 0);
    process(200, ROOT, 600, 0);
    process(201, 200, 700, NOBODY);
    process(202, 200, 700, NOBODY);
    process(300, 1, 550, ALICE);
    process(301, 300, 560, ALICE);
}

static void test_descendants_of_any_uid(void **state)
{
    (void)state;
    tree();
    assert_int_equal(col_lineage_check(201, NOBODY), COL_LINEAGE_DESCENDANT);
    assert_int_equal(col_lineage_check(202, NOBODY), COL_LINEAGE_DESCENDANT);
    process(203, 202, 800, ALICE); /* a worker's child that became another user */
    assert_int_equal(col_lineage_check(203, ALICE), COL_LINEAGE_DESCENDANT);
    process(ROOT, 1, 500, 5);
    assert_int_equal(col_lineage_check(ROOT, 5), COL_LINEAGE_DESCENDANT); /* itself */
}

static void test_others_refused(void **state)
{
    (void)state;
    tree();
    assert_int_equal(col_lineage_check(300, ALICE), COL_LINEAGE_OUTSIDE);
    assert_int_equal(col_lineage_check(301, ALICE), COL_LINEAGE_OUTSIDE);
    /* The collector's own uid, descendant or not. */
    assert_int_equal(col_lineage_check(1, OWN), COL_LINEAGE_OWN_UID);
    assert_int_equal(col_lineage_check(0, OWN), COL_LINEAGE_OWN_UID);
}

static void test_gone_sender_by_uid(void **state)
{
    (void)state;
    tree();
    /* Nobody's datagram from a pid already reaped: no descendant ran as
     * nobody yet, so it is refused; once a worker proved nobody, accepted. */
    assert_int_equal(col_lineage_check(400, NOBODY), COL_LINEAGE_UNKNOWN);
    assert_int_equal(col_lineage_check(201, NOBODY), COL_LINEAGE_DESCENDANT);
    assert_int_equal(col_lineage_check(400, NOBODY), COL_LINEAGE_KNOWN_UID);
    /* Alice never ran in the tree: her vanished senders stay refused. */
    assert_int_equal(col_lineage_check(401, ALICE), COL_LINEAGE_UNKNOWN);
    assert_int_equal(col_lineage_check(0, ALICE), COL_LINEAGE_UNKNOWN); /* pid unknown */
}

/* pid's thread tid has these children (/proc/PID/task/TID/children). */
static void children(int pid, int tid, const char *list)
{
    char dir[160], name[64];

    snprintf(dir, sizeof(dir), "%s/%d/task", proc, pid);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/%d/task/%d", proc, pid, tid);
    mkdir(dir, 0755);
    snprintf(name, sizeof(name), "task/%d/children", tid);
    put(pid, name, list);
}

static void test_gone_sender_uid_found_in_the_tree(void **state)
{
    struct timespec later = {0, (COL_LINEAGE_SCAN_MS + 50) * 1000000L};

    (void)state;
    tree();
    children(ROOT, ROOT, "200 ");
    children(200, 200, "201 ");
    children(200, 210, "202 "); /* forked by another thread of the master */
    process(202, 200, 700, 33);
    /* A CGI's curl of uid 33 is gone before its datagram is read, and no
     * process of uid 33 has sent yet: the tree has one, the worker 202. */
    assert_int_equal(col_lineage_check(700, 33), COL_LINEAGE_KNOWN_UID);
    /* Alice's processes are not in the tree: her uid is not learnt. */
    children(1, 1, "100 300");
    nanosleep(&later, NULL);
    assert_int_equal(col_lineage_check(701, ALICE), COL_LINEAGE_UNKNOWN);
    /* The tree is searched again only after COL_LINEAGE_SCAN_MS. */
    process(203, 200, 800, 44);
    children(200, 200, "201 203");
    assert_int_equal(col_lineage_check(702, 44), COL_LINEAGE_UNKNOWN);
    nanosleep(&later, NULL);
    assert_int_equal(col_lineage_check(702, 44), COL_LINEAGE_KNOWN_UID);
}

static void test_reused_pid(void **state)
{
    (void)state;
    tree();
    assert_int_equal(col_lineage_check(201, NOBODY), COL_LINEAGE_DESCENDANT);
    /* 201 exits; alice's shell gets its number: a new start time, walked anew. */
    process(201, 300, 900, ALICE);
    assert_int_equal(col_lineage_check(201, ALICE), COL_LINEAGE_OUTSIDE);
    /* The other way: alice's 301 sends and exits, and a worker gets 301
     * before the datagram is read. The uid the kernel gave is not the
     * process's: the sender is gone, and alice is no descendant's uid. */
    process(301, 200, 950, NOBODY);
    assert_int_equal(col_lineage_check(301, ALICE), COL_LINEAGE_UNKNOWN);
}

static void test_verdict_kept(void **state)
{
    (void)state;
    tree();
    assert_int_equal(col_lineage_check(202, NOBODY), COL_LINEAGE_DESCENDANT);
    /* Its master exits: 202 is moved to init, yet it was started by the
     * traced program, and its pid and start time say it is that process. */
    process(202, 1, 700, NOBODY);
    gone(200);
    assert_int_equal(col_lineage_check(202, NOBODY), COL_LINEAGE_DESCENDANT);
    /* A process first seen after it was moved is judged by its parents now. */
    process(201, 1, 700, NOBODY);
    assert_int_equal(col_lineage_check(201, NOBODY), COL_LINEAGE_OUTSIDE);
}

static void test_loops_and_depth_are_bounded(void **state)
{
    int pid;

    (void)state;
    tree();
    process(500, 501, 10, ALICE);
    process(501, 500, 10, ALICE);
    assert_int_equal(col_lineage_check(500, ALICE), COL_LINEAGE_OUTSIDE);
    /* A chain deeper than COL_LINEAGE_DEPTH that does reach ROOT. */
    for (pid = 1000; pid < 1000 + COL_LINEAGE_DEPTH + 2; pid++)
        process(pid, pid == 1000 ? ROOT : pid - 1, 20, ALICE);
    assert_int_equal(col_lineage_check(pid - 1, ALICE), COL_LINEAGE_OUTSIDE);
    assert_int_equal(col_lineage_check(1005, ALICE), COL_LINEAGE_DESCENDANT);
}

static void test_unreadable_parent_cannot_tell(void **state)
{
    (void)state;
    tree();
    process(600, 601, 30, 7); /* its parent vanished and it was not moved (yet) */
    assert_int_equal(col_lineage_check(600, 7), COL_LINEAGE_UNKNOWN);
    put(602, "stat", "garbage without the parenthesis");
    assert_int_equal(col_lineage_check(602, 7), COL_LINEAGE_UNKNOWN);
    put(603, "stat", "603 (short) S 100");
    assert_int_equal(col_lineage_check(603, 7), COL_LINEAGE_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descendants_of_any_uid, make_proc, remove_proc),
        cmocka_unit_test_setup_teardown(test_others_refused, make_proc, remove_proc),
        cmocka_unit_test_setup_teardown(test_gone_sender_by_uid, make_proc, remove_proc),
        cmocka_unit_test_setup_teardown(test_gone_sender_uid_found_in_the_tree, make_proc,
                                        remove_proc),
        cmocka_unit_test_setup_teardown(test_reused_pid, make_proc, remove_proc),
        cmocka_unit_test_setup_teardown(test_verdict_kept, make_proc, remove_proc),
        cmocka_unit_test_setup_teardown(test_loops_and_depth_are_bounded, make_proc,
                                        remove_proc),
        cmocka_unit_test_setup_teardown(test_unreadable_parent_cannot_tell, make_proc,
                                        remove_proc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
