/*
 * test_fork.c - a fork child's copies of its parent's exchanges.
 *
 * After fork both processes hold the connection with the same open
 * exchanges (same span ids). The child is simulated in this process by
 * ss_span_after_fork(), which is what the shim's fork handler runs in a
 * child: what was open before is the parent's and is never exported here,
 * however it ends; what the child starts on the connection is its own.
 * The parent's side is simulated by ss_span_forked(), its fork handler: a
 * request it had not answered whole when it forked may be the child's to
 * answer, through the descriptor it inherited (a CGI program).
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_span.h"
#include "unit_config.h"
#include "wire.h"

static const char req1[] = "GET /one HTTP/1.1\r\nHost: me\r\n\r\n";
static const char req2[] = "GET /two HTTP/1.1\r\nHost: me\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static int sp[2];

static int accepted(void)
{
    assert_int_equal(wire_pair(sp, 1, 0), 0);
    assert_true(ss_fd_followed(sp[0]));
    return sp[0];
}

static void app_recv(int fd, const char *p, size_t n)
{
    struct iovec v = {(void *)p, n};

    ss_conn_on_recv(fd, &v, 1, (ssize_t)n, 0, 0);
}

static void app_send(int fd, const char *p, size_t n)
{
    static wire_t w;

    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, p, n, n, &w);
    assert_int_equal(w.len, n); /* a server's bytes go out as they are */
}

static void app_answer(int fd)
{
    app_send(fd, resp, sizeof(resp) - 1);
}

static void app_close(int fd)
{
    ss_conn_on_close(fd);
    close(sp[0]);
    close(sp[1]);
    ss_conn_thread_reset();
}

/* A CGI launcher's child closes its copy of the request it inherited. */
static void test_child_close_ends_nothing(void **state)
{
    uint64_t recorded = ss_count.spans_recorded, inherited = ss_count.spans_inherited;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    ss_span_after_fork(); /* from here on, this is the child */
    app_close(fd);
    assert_int_equal(ss_count.spans_recorded, recorded);
    assert_int_equal(ss_count.spans_inherited, inherited + 1);
}

/* A child that answers the request it inherited and serves the next one
 * on the connection: the first is the parent's, the second the child's. */
static void test_child_serves_on(void **state)
{
    uint64_t recorded = ss_count.spans_recorded, inherited = ss_count.spans_inherited;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    ss_span_after_fork();
    app_answer(fd);
    assert_int_equal(ss_count.spans_recorded, recorded);
    assert_int_equal(ss_count.spans_inherited, inherited + 1);
    app_recv(fd, req2, sizeof(req2) - 1);
    app_answer(fd);
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
    app_close(fd);
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
    assert_int_equal(ss_count.spans_inherited, inherited + 1);
}

/* The parent read part of a head before it forked: the span is the child's,
 * which reads the rest and gives it its id. */
static void test_head_finished_by_the_child(void **state)
{
    uint64_t recorded = ss_count.spans_recorded, inherited = ss_count.spans_inherited;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, 10);
    ss_span_after_fork();
    app_recv(fd, req1 + 10, sizeof(req1) - 1 - 10);
    app_answer(fd);
    app_close(fd);
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
    assert_int_equal(ss_count.spans_inherited, inherited);
}

/* Without a fork in between, the same exchanges are exported as always. */
static void test_no_fork_exports(void **state)
{
    uint64_t recorded = ss_count.spans_recorded, inherited = ss_count.spans_inherited;
    uint64_t left = ss_count.responses_left_to_child;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    app_answer(fd);
    app_recv(fd, req2, sizeof(req2) - 1);
    app_close(fd); /* no answer: no_response */
    assert_int_equal(ss_count.spans_recorded, recorded + 2);
    assert_int_equal(ss_count.spans_inherited, inherited);
    assert_int_equal(ss_count.responses_left_to_child, left);
}

/* The parent forked after it read the request, wrote nothing (its exec'd
 * child answers through the socket) and closed: its span, not in error. */
static void test_parent_leaves_answer_to_child(void **state)
{
    uint64_t recorded = ss_count.spans_recorded, left = ss_count.responses_left_to_child;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    ss_span_forked();
    app_close(fd);
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
    assert_int_equal(ss_count.responses_left_to_child, left + 1);
}

/* A fork before the request was read leaves it the parent's to answer. */
static void test_fork_before_request(void **state)
{
    uint64_t left = ss_count.responses_left_to_child;
    int fd = accepted();

    (void)state;
    ss_span_forked();
    app_recv(fd, req1, sizeof(req1) - 1);
    app_close(fd); /* no answer: no_response */
    assert_int_equal(ss_count.responses_left_to_child, left);
}

/* python's http.server --cgi: the status line and two headers, then the
 * fork; the parent shuts its write side after the child exited. The span
 * ends there, before the close. */
static void test_shutdown_ends_head_left_to_child(void **state)
{
    static const char line[] = "HTTP/1.0 200 Script output follows\r\nServer: x\r\n";
    uint64_t recorded = ss_count.spans_recorded, left = ss_count.responses_left_to_child;
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    app_send(fd, line, sizeof(line) - 1);
    ss_span_forked();
    ss_conn_on_shutdown(fd, ss_now_ns());
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
    assert_int_equal(ss_count.responses_left_to_child, left + 1);
    app_close(fd);
    assert_int_equal(ss_count.spans_recorded, recorded + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_fork_exports),
        cmocka_unit_test(test_child_close_ends_nothing),
        cmocka_unit_test(test_child_serves_on),
        cmocka_unit_test(test_head_finished_by_the_child),
        cmocka_unit_test(test_parent_leaves_answer_to_child),
        cmocka_unit_test(test_fork_before_request),
        cmocka_unit_test(test_shutdown_ends_head_left_to_child),
    };

    return cmocka_run_group_tests_name("fork", tests, unit_config_setup, NULL);
}
