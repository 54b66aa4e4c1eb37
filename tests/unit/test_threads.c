/*
 * test_threads.c - the shim's shared state under threads, for the thread
 * sanitizer: 8 threads run exchanges through the connection code at once,
 * server side and client side, handing connections to each other between
 * the request and the response, while the exporter batches and its flush
 * thread runs, and the spans still open are reported (SPANSHIM_INFLIGHT_MS=1). Each
 * request logs a line (SPANSHIM_LOGS=span) to one shared log file while it is
 * served, and to another that one thread keeps closing and opening again;
 * another tells the exporter of closes (as the close hook does) while the
 * flush thread connects to a collector's socket and sends. The checks are
 * the counts; the sanitizer checks the rest.
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
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../exporter/ex_batch.h"
#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_export.h"
#include "../../preload/ss_inflight.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_logcap.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/un.h>

#define THREADS 8
#define ROUNDS 300

static ssize_t sink(void *arg, const struct iovec *iov, int cnt)
{
    size_t t = 0;
    int i;

    (void)arg;
    for (i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return (ssize_t)t;
}

static int handed[THREADS * 2];
static pthread_mutex_t hand_lock = PTHREAD_MUTEX_INITIALIZER;
static int hand_head, hand_tail;

static void hand_over(int fd)
{
    pthread_mutex_lock(&hand_lock);
    handed[hand_tail++ % (THREADS * 2)] = fd;
    pthread_mutex_unlock(&hand_lock);
}

static int take_over(void)
{
    int fd = -1;

    while (fd < 0) {
        pthread_mutex_lock(&hand_lock);
        if (hand_head != hand_tail)
            fd = handed[hand_head++ % (THREADS * 2)];
        pthread_mutex_unlock(&hand_lock);
    }
    return fd;
}

#define LOG_FD 900
#define CHURN_FD 901

static void log_line(int fd, int i)
{
    char line[64];
    struct iovec v = {line, (size_t)snprintf(line, sizeof(line), "INFO served %d\n", i)};

    ss_logcap_wrote(fd, &v, 1, v.iov_len);
}

static void *worker(void *arg)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct sockaddr_in sa;
    int i;

    (void)arg;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < ROUNDS; i++) {
        char req[128];
        struct iovec v;
        int srv[2], cli[2], fd;

        /* Serve a request, and while serving, send one on: a child span. */
        socketpair(AF_UNIX, SOCK_STREAM, 0, srv);
        ss_conn_on_accept(srv[0], (struct sockaddr *)&sa, sizeof(sa));
        v.iov_base = req;
        v.iov_len = (size_t)snprintf(req, sizeof(req), "GET /in?i=%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
        ss_conn_on_recv(srv[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
        log_line(LOG_FD, i);
        log_line(CHURN_FD, i); /* a record or not: the fd comes and goes */

        socketpair(AF_UNIX, SOCK_STREAM, 0, cli);
        ss_conn_on_connect(cli[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
        v.iov_len = (size_t)snprintf(req, sizeof(req), "GET /out?i=%d HTTP/1.1\r\nHost: u\r\n\r\n", i);
        assert_int_equal(ss_conn_send(cli[0], &v, 1, 0, sink, NULL), (ssize_t)v.iov_len);
        /* Another thread reads the response of this connection. */
        hand_over(cli[0]);
        fd = take_over();
        v.iov_base = (void *)resp;
        v.iov_len = sizeof(resp) - 1;
        ss_conn_on_recv(fd, &v, 1, (ssize_t)v.iov_len, 0, 0);
        ss_conn_on_close(fd);
        close(fd);

        assert_int_equal(ss_conn_send(srv[0], &v, 1, 0, sink, NULL), (ssize_t)v.iov_len);
        ss_conn_on_close(srv[0]);
        close(srv[0]);
        close(srv[1]);
    }
    return NULL;
}

static int reporting;
static int collector = -1; /* a bare receiver where the exporter sends */

/* What the exporter sends, taken and dropped until the test ends. */
static void *receiver(void *arg)
{
    static char buf[256 * 1024];
    struct pollfd p = {0, POLLIN, 0};

    (void)arg;
    p.fd = collector;
    while (__atomic_load_n(&reporting, __ATOMIC_ACQUIRE))
        if (poll(&p, 1, 10) == 1)
            (void)!recv(collector, buf, sizeof(buf), MSG_DONTWAIT);
    return NULL;
}

/* The flush thread's in-flight walk, as fast as it goes, on a clock that
 * moves 10 ms a walk: open exchanges are copied under their connections'
 * locks while their threads work on them. */
static void *reporter(void *arg)
{
    uint64_t mono = 1000000000ull;

    (void)arg;
    while (__atomic_load_n(&reporting, __ATOMIC_ACQUIRE)) {
        ss_inflight_tick(mono += 10000000ull);
        ss_logcap_closed(CHURN_FD);
        ss_logcap_opened(CHURN_FD, AT_FDCWD, "/tmp/churn.log", O_WRONLY | O_APPEND);
    }
    return NULL;
}

/* Closes told to the exporter as the close hook tells them, taking no lock:
 * another number's, and now and then the numbers where the exporter keeps
 * its socket, as a program's closefrom would, so that the flush thread
 * connects again while this thread looks (the socket left open is the
 * test's to lose). */
static void *closer(void *arg)
{
    unsigned n = 0, forgot = 0;

    (void)arg;
    while (__atomic_load_n(&reporting, __ATOMIC_ACQUIRE)) {
        ss_export_fd_closed(CHURN_FD + 1);
        if (++n % 4096 == 0 && forgot < 40 && ++forgot)
            ss_export_fds_closed(600, 1000);
    }
    return NULL;
}

static void test_exchanges_on_many_threads(void **state)
{
    pthread_t t[THREADS], rep, rx, cl;
    int i;
    uint64_t before = ss_count.spans_recorded;

    (void)state;
    ss_logcap_opened(LOG_FD, AT_FDCWD, "/tmp/threads.log", O_WRONLY | O_APPEND);
    ss_logcap_opened(CHURN_FD, AT_FDCWD, "/tmp/churn.log", O_WRONLY | O_APPEND);
    __atomic_store_n(&reporting, 1, __ATOMIC_RELEASE);
    pthread_create(&rep, NULL, reporter, NULL);
    pthread_create(&rx, NULL, receiver, NULL);
    pthread_create(&cl, NULL, closer, NULL);
    for (i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ex_batch_flush();
    __atomic_store_n(&reporting, 0, __ATOMIC_RELEASE);
    pthread_join(rep, NULL);
    pthread_join(rx, NULL);
    pthread_join(cl, NULL);
    assert_int_equal(__atomic_load_n(&ss_count.spans_recorded, __ATOMIC_RELAXED) - before,
                     (uint64_t)THREADS * ROUNDS * 2);
    assert_int_equal(__atomic_load_n(&ss_count.headers_injected, __ATOMIC_RELAXED),
                     (uint64_t)THREADS * ROUNDS);
    /* every line of the shared log, and some of the other's */
    assert_true(__atomic_load_n(&ss_count.logs_captured, __ATOMIC_RELAXED) >=
                (uint64_t)THREADS * ROUNDS);
    assert_true(__atomic_load_n(&ss_count.logs_captured, __ATOMIC_RELAXED) <=
                (uint64_t)THREADS * ROUNDS * 2);
}

int main(void)
{
    int i;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchanges_on_many_threads),
    };

    struct sockaddr_un a = {.sun_family = AF_UNIX};

    snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/spanshim-threads.%d.sock", (int)getpid());
    unlink(a.sun_path);
    collector = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (collector < 0 || bind(collector, (struct sockaddr *)&a, sizeof(a)) != 0)
        return 1;
    setenv("SPANSHIM_SOCKET", a.sun_path, 1);
    /* Every span open over 1 ms is reported while the threads work: the
     * walk and its copies race the exchanges (under TSan too). */
    setenv("SPANSHIM_INFLIGHT_MS", "1", 1);
    setenv("SPANSHIM_LOGS", "span", 1);
    ss_config_load();
    ss_export_init(0, NULL);
    i = cmocka_run_group_tests_name("threads", tests, NULL, NULL);
    unlink(a.sun_path);
    return i;
}
