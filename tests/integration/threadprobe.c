/*
 * threadprobe.c - threads, signals and fork around the hooks.
 *
 *   threadprobe handoff PORT THREADS N   THREADS threads make N requests each
 *       over keep-alive connections that pass from thread to thread between
 *       sending a request and reading its response
 *   threadprobe signals PORT N           N requests while a 5 kHz timer's
 *       handler writes to a pipe, interrupting the thread inside hooks
 *   threadprobe fork PORT N              4 threads make requests while the
 *       main thread forks N children that each make one request
 *
 * Requests carry ?t=THREAD&i=I; the probe prints "ok COUNT" and exits 0
 * when every response was a complete 200.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dial.h"

static int port;
static long ok_count, bad_count;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static int dial(void)
{
    return probe_dial(port);
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_request(int fd, int t, int i)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET /ok?t=%d&i=%d HTTP/1.1\r\nHost: probe\r\n\r\n", t, i);

    return send_all(fd, req, (size_t)n);
}

/* Read one response with a Content-Length body; 0 if it was a 200. */
static int read_response(int fd)
{
    char buf[4096];
    size_t len = 0;

    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        char *end, *cl;

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        cl = strcasestr(buf, "content-length:");
        if (cl && len >= (size_t)(end - buf) + 4 + strtoul(cl + 15, NULL, 10))
            return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
    }
}

static void count(int good)
{
    pthread_mutex_lock(&count_lock);
    if (good)
        ok_count++;
    else
        bad_count++;
    pthread_mutex_unlock(&count_lock);
}

/* ---- handoff: connections pass between threads mid-request ------------ */

#define POOL 64
static int sent_q[POOL * 4], sent_head, sent_tail;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static int per_thread;

static void *handoff_worker(void *arg)
{
    int t = (int)(long)arg, i, fd = dial();

    for (i = 0; i < per_thread; i++) {
        int other;

        if (fd < 0 || send_request(fd, t, i) < 0) {
            count(0);
            return NULL;
        }
        /* Hand our connection over and take whichever is next. */
        pthread_mutex_lock(&q_lock);
        sent_q[sent_tail++ % (POOL * 4)] = fd;
        pthread_cond_signal(&q_cond);
        while (sent_head == sent_tail)
            pthread_cond_wait(&q_cond, &q_lock);
        other = sent_q[sent_head++ % (POOL * 4)];
        pthread_mutex_unlock(&q_lock);
        count(read_response(other) == 0);
        fd = other;
    }
    close(fd);
    return NULL;
}

static int run_handoff(int threads, int n)
{
    pthread_t th[256];
    int t;

    per_thread = n;
    for (t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, handoff_worker, (void *)(long)t);
    for (t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    return 0;
}

/* ---- signals: a handler that writes while we are inside hooks ---------- */

static int sig_pipe[2];
static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
    int saved = errno;
    char c = 's';

    (void)sig;
    if (write(sig_pipe[1], &c, 1) == 1)
        ticks++;
    errno = saved;
}

static int run_signals(int n)
{
    struct sigaction sa;
    struct itimerval it = {{0, 200}, {0, 200}};
    int fd = dial(), i;
    char drain[4096];

    if (pipe2(sig_pipe, O_NONBLOCK) < 0 || fd < 0)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    for (i = 0; i < n; i++) {
        count(send_request(fd, 0, i) == 0 && read_response(fd) == 0);
        while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
            ;
    }
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_REAL, &it, NULL);
    fprintf(stderr, "signals delivered: %d\n", (int)ticks);
    close(fd);
    return ticks > 0 ? 0 : 1;
}

/* ---- fork while other threads are inside hooks ------------------------- */

static int stop_threads; /* atomic */

static void *busy_worker(void *arg)
{
    int t = (int)(long)arg, i = 0, fd = dial();

    while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED) && fd >= 0) {
        count(send_request(fd, t, i) == 0 && read_response(fd) == 0);
        i++;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int run_fork(int n)
{
    pthread_t th[4];
    int t, i, rc = 0;

    for (t = 0; t < 4; t++)
        pthread_create(&th[t], NULL, busy_worker, (void *)(long)(t + 1));
    for (i = 0; i < n; i++) {
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            int fd = dial();

            _exit(fd >= 0 && send_request(fd, 100 + i, 0) == 0 && read_response(fd) == 0 ? 0 : 1);
        }
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 1;
        else
            printf("child %d %d\n", 100 + i, (int)pid);
    }
    __atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
    for (t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 4)
        return 2;
    port = atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "handoff") == 0 && argc == 5)
        rc = run_handoff(atoi(argv[3]), atoi(argv[4]));
    else if (strcmp(argv[1], "signals") == 0)
        rc = run_signals(atoi(argv[3]));
    else if (strcmp(argv[1], "fork") == 0)
        rc = run_fork(atoi(argv[3]));
    else
        return 2;
    printf("ok %ld bad %ld\n", ok_count, bad_count);
    return rc || bad_count ? 1 : 0;
}
