/*
 * test_fork.c - a fork child's copies of its parent's exchanges.
 *
 * After fork both processes hold the connection with the same open
 * exchanges (same span ids). The child is simulated in this process by
 * ss_span_after_fork(), which is what the shim's fork handler runs in a
 * child: what was open before is the parent's and is never exported here,
 * however it ends; what the child starts on the connection is its own.
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
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    ss_conn_on_accept(sp[0], (struct sockaddr *)&sa, sizeof(sa));
    assert_true(ss_fd_followed(sp[0]));
    return sp[0];
}

static void app_recv(int fd, const char *p, size_t n)
{
    struct iovec v = {(void *)p, n};

    ss_conn_on_recv(fd, &v, 1, (ssize_t)n, 0, 0);
}

static void app_answer(int fd)
{
    static wire_t w;

    memset(&w, 0, sizeof(w));
    w.limit = 4096;
    wire_app_send(fd, resp, sizeof(resp) - 1, sizeof(resp) - 1, &w);
    assert_int_equal(w.len, sizeof(resp) - 1); /* a server's bytes go out as they are */
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
    int fd = accepted();

    (void)state;
    app_recv(fd, req1, sizeof(req1) - 1);
    app_answer(fd);
    app_recv(fd, req2, sizeof(req2) - 1);
    app_close(fd); /* no answer: no_response */
    assert_int_equal(ss_count.spans_recorded, recorded + 2);
    assert_int_equal(ss_count.spans_inherited, inherited);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_fork_exports),
        cmocka_unit_test(test_child_close_ends_nothing),
        cmocka_unit_test(test_child_serves_on),
        cmocka_unit_test(test_head_finished_by_the_child),
    };

    return cmocka_run_group_tests_name("fork", tests, unit_config_setup, NULL);
}
