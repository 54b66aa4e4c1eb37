/*
 * test_inflight.c - the registry of open spans and its reports
 * (preload/ss_inflight.h), driven through real connections with a clock the
 * test moves: the schedule of reports, what a report holds, an owner at
 * work, the end at exit or exec and its undoing, and a fork child's copies.
 * The spans the exporter is handed are caught (ex_batch_add is wrapped).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_export.h"
#include "../../preload/ss_fd.h"
#include "../../preload/ss_inflight.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_span.h"
#include "wire.h"

#define MS 1000000ull
#define T0 (1000000ull * MS) /* the test's monotonic clock */

static const char req[] = "GET /stuck HTTP/1.1\r\nHost: me\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static ss_span_t got[16];
static unsigned n_got;

void __wrap_ex_batch_add(const ss_span_t *s);
void __wrap_ex_batch_add(const ss_span_t *s)
{
    if (n_got < sizeof(got) / sizeof(got[0]))
        memcpy(&got[n_got++], s, sizeof(*s));
}

static int sp[2];

/* A server connection with a request read and not answered. */
static int open_request(void)
{
    struct iovec v = {(void *)req, sizeof(req) - 1};

    assert_int_equal(wire_pair(sp, 1, 0), 0);
    assert_true(ss_fd_followed(sp[0]));
    ss_conn_on_recv(sp[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    n_got = 0;
    return sp[0];
}

static void answer_and_close(int fd)
{
    static wire_t w;

    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, resp, sizeof(resp) - 1, sizeof(resp) - 1, &w);
    ss_conn_on_close(fd);
    close(sp[0]);
    close(sp[1]);
    ss_conn_thread_reset();
}

static void test_schedule(void **state)
{
    (void)state;
    assert_int_equal(ss_inflight_interval_ms(5000, 0), 5000);
    assert_int_equal(ss_inflight_interval_ms(5000, 1), 10000);
    assert_int_equal(ss_inflight_interval_ms(5000, 5), 160000);
    assert_int_equal(ss_inflight_interval_ms(5000, 6), SS_INFLIGHT_CAP_MS);
    assert_int_equal(ss_inflight_interval_ms(5000, 1000), SS_INFLIGHT_CAP_MS);
    assert_int_equal(ss_inflight_interval_ms(300, 3), 2400);
    assert_int_equal(ss_inflight_interval_ms(400000, 0), 400000); /* above the cap: as asked */
    assert_int_equal(ss_inflight_interval_ms(400000, 4), 400000);
}

/* Reported SPANSHIM_INFLIGHT_MS after it was first seen, then at doubling
 * intervals (ages 300, 600, 1200 ms), each a copy; then the whole span. */
static void test_reports_then_whole(void **state)
{
    int fd = open_request();
    uint8_t id[8];

    (void)state;
    assert_int_equal(ss_inflight_tick(T0), 0); /* first seen */
    assert_int_equal(ss_inflight_tick(T0 + 299 * MS), 0);
    assert_int_equal(ss_inflight_tick(T0 + 300 * MS), 1);
    assert_int_equal(n_got, 1);
    assert_int_equal(got[0].kind, SS_KIND_SERVER);
    assert_true(got[0].in_flight);
    assert_true(got[0].end_ns >= got[0].start_ns && got[0].end_ns != 0);
    assert_string_equal(got[0].error_type, "");
    assert_int_equal(got[0].http.head.target_len, 6);
    memcpy(id, got[0].ctx.span_id, 8);
    assert_int_equal(ss_inflight_tick(T0 + 599 * MS), 0);
    assert_int_equal(ss_inflight_tick(T0 + 600 * MS), 1);
    assert_int_equal(ss_inflight_tick(T0 + 1199 * MS), 0);
    assert_int_equal(ss_inflight_tick(T0 + 1200 * MS), 1);
    assert_int_equal(ss_inflight_tick(T0 + 2399 * MS), 0);
    assert_int_equal(n_got, 3);
    assert_memory_equal(got[2].ctx.span_id, id, 8);
    assert_memory_equal(got[2].ctx.trace_id, got[0].ctx.trace_id, 16);
    answer_and_close(fd);
    assert_int_equal(n_got, 4);
    assert_false(got[3].in_flight);
    assert_memory_equal(got[3].ctx.span_id, id, 8);
    assert_int_equal(got[3].http.status_code, 200);
    assert_int_equal(ss_inflight_tick(T0 + 3600 * 1000 * MS), 0); /* it is gone */
}

/* An owner at work holds its lock: the tick does not wait, and reports the
 * span on a later tick. */
static void test_owner_busy(void **state)
{
    int fd = open_request();
    ss_conn_t *c = ss_fd_get(fd);

    (void)state;
    assert_non_null(c);
    assert_int_equal(ss_inflight_tick(T0), 0);
    ss_lock(&c->lock);
    assert_int_equal(ss_inflight_tick(T0 + 300 * MS), 0);
    ss_unlock(&c->lock);
    assert_int_equal(ss_inflight_tick(T0 + 301 * MS), 1);
    ss_conn_put(c);
    answer_and_close(fd);
}

/* At exit, an owner that stays at work (a thread the exit stops, or this
 * one, interrupted inside the shim) keeps its record: it is not sent, and
 * it is counted lost. */
static void test_end_all_owner_busy(void **state)
{
    int fd = open_request();
    ss_conn_t *c = ss_fd_get(fd);
    uint64_t lost = ss_count.spans_lost_busy_at_exit;

    (void)state;
    assert_non_null(c);
    ss_lock(&c->lock);
    assert_int_equal(ss_inflight_end_all("process_exit"), 0);
    ss_unlock(&c->lock);
    assert_int_equal(n_got, 0);
    assert_int_equal(ss_count.spans_lost_busy_at_exit, lost + 1);
    ss_conn_put(c);
    answer_and_close(fd);
}

/* A request head not read whole is no span yet: nothing to report. */
static void test_not_begun(void **state)
{
    static const char half[] = "GET /half HTTP/1.1\r\nHo";
    struct iovec v = {(void *)half, sizeof(half) - 1};

    (void)state;
    assert_int_equal(wire_pair(sp, 1, 0), 0);
    ss_conn_on_recv(sp[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    n_got = 0;
    assert_int_equal(ss_inflight_tick(T0), 0);
    assert_int_equal(ss_inflight_tick(T0 + 3600 * 1000 * MS), 0);
    assert_int_equal(ss_inflight_end_all("process_exit"), 0);
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    assert_int_equal(n_got, 0);
}

/* At exit the open span ends with the error; its own end is no news. */
static void test_end_all(void **state)
{
    uint64_t recorded = ss_count.spans_recorded;
    int fd = open_request();

    (void)state;
    assert_int_equal(ss_inflight_end_all("process_exit"), 1);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].error_type, "process_exit");
    assert_false(got[0].in_flight);
    assert_int_equal(ss_inflight_end_all("process_exit"), 0); /* once */
    assert_int_equal(ss_inflight_tick(T0), 0);
    assert_int_equal(ss_inflight_tick(T0 + 3600 * 1000 * MS), 0);
    answer_and_close(fd);
    assert_int_equal(n_got, 1);
    assert_int_equal(ss_count.spans_recorded, recorded);
}

/* An exec that failed: the span is open again, and its end is news. */
static void test_reopen(void **state)
{
    int fd = open_request();

    (void)state;
    assert_int_equal(ss_inflight_end_all("process_exec"), 1);
    assert_string_equal(got[0].error_type, "process_exec");
    ss_inflight_reopen();
    answer_and_close(fd);
    assert_int_equal(n_got, 2);
    assert_string_equal(got[1].error_type, "");
    assert_memory_equal(got[1].ctx.span_id, got[0].ctx.span_id, 8);
}

/* A fork child's copies are its parent's: never reported, never ended here. */
static void test_fork_child(void **state)
{
    int fd = open_request();

    (void)state;
    ss_span_after_fork();
    assert_int_equal(ss_inflight_tick(T0), 0);
    assert_int_equal(ss_inflight_tick(T0 + 3600 * 1000 * MS), 0);
    assert_int_equal(ss_inflight_end_all("process_exit"), 0);
    answer_and_close(fd);
    assert_int_equal(n_got, 0);
    /* What the child starts is its own. */
    fd = open_request();
    assert_int_equal(ss_inflight_tick(T0), 0);
    assert_int_equal(ss_inflight_tick(T0 + 300 * MS), 1);
    answer_and_close(fd);
    assert_int_equal(n_got, 2);
}

/* The flush thread's own tick stays off (a clock of its own would race the
 * test's): the registry is on, the host has no tick. */
static int setup(void **state)
{
    (void)state;
    setenv("SPANSHIM_SOCKET", "/nonexistent/spanshim-test.sock", 1);
    setenv("SPANSHIM_INFLIGHT_MS", "0", 1);
    ss_config_load();
    ss_export_init(0, NULL);
    ss_cfg.inflight_ms = 300;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_reports_then_whole),
        cmocka_unit_test(test_owner_busy),
        cmocka_unit_test(test_end_all_owner_busy),
        cmocka_unit_test(test_not_begun),
        cmocka_unit_test(test_end_all),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_fork_child),
    };

    return cmocka_run_group_tests_name("inflight", tests, setup, NULL);
}
