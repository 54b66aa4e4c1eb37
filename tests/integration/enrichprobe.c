/*
 * enrichprobe.c - a C program that writes log lines with write(2) and
 * writev(2) in every shape SPANSHIM_LOG_ENRICH has to place fields in,
 * and checks that each call returns exactly its length with errno left
 * as it was. Run with TRACEPARENT, every line is in its process span.
 *
 * usage: enrichprobe forms LOGFILE REPORT
 *          to stderr and LOGFILE: plain, CRLF, JSON in writev pieces, an
 *          empty object, a line in two writes, a JSON line whose '}' comes
 *          a write before its '\n', many lines in one write and in one
 *          writev (its last line ended by the next write), a line of 20000
 *          bytes, a write of nothing;
 *        enrichprobe nonblock LINES REPORT
 *          stdout made non-blocking with a one-page pipe buffer: LINES
 *          lines of up to 300 bytes written in writevs of up to 40 (more
 *          than a page: the pipe takes part), a line now and then in two
 *          calls, again from where each short write stopped and after
 *          poll() on EAGAIN, as a careful program does;
 * REPORT (not a log) gets "ok" and the counts, or the first call that
 * returned what it should not (then the exit status is 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static FILE *report;
static int calls;

static void bad(const char *what, ssize_t r, size_t want, int err)
{
    fprintf(report, "FAIL %s: returned %zd of %zu, errno %d\n", what, r, want, err);
    fclose(report);
    exit(1);
}

/* One call, which must take all of it and leave errno as it was. */
static void wr(int fd, const char *s, size_t n)
{
    ssize_t r;

    errno = EDOM;
    r = write(fd, s, n);
    calls++;
    if (r != (ssize_t)n || errno != EDOM)
        bad(s, r, n, errno);
}

static void ws(int fd, const char *s)
{
    wr(fd, s, strlen(s));
}

static void wv(int fd, const struct iovec *v, int cnt)
{
    size_t n = 0;
    ssize_t r;
    int i;

    for (i = 0; i < cnt; i++)
        n += v[i].iov_len;
    errno = EDOM;
    r = writev(fd, v, cnt);
    calls++;
    if (r != (ssize_t)n || errno != EDOM)
        bad(v[0].iov_base, r, n, errno);
}

static int forms(const char *logfile)
{
    static char many[4000], lng[20001];
    struct iovec json[3] = {{"{\"a\":", 5}, {"1}", 2}, {"\n", 1}};
    struct iovec vec[100];
    static char vbuf[100][16];
    int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644), i, n = 0;

    if (fd < 0)
        return 2;
    ws(2, "plain line\n");
    ws(2, "crlf line\r\n");
    wv(2, json, 3);
    ws(2, "{}\n");
    ws(2, "split ");
    ws(2, "line\n");
    ws(2, "{\"late\":1}");
    ws(2, "\n");
    ws(2, "a\nb\nc\n");
    for (i = 0; i < 100; i++)
        n += snprintf(many + n, sizeof(many) - (size_t)n, "{\"n\":%d}\n", i);
    wr(fd, many, (size_t)n);
    for (i = 0; i < 100; i++) {
        vec[i].iov_base = vbuf[i];
        vec[i].iov_len = (size_t)snprintf(vbuf[i], sizeof(vbuf[i]), i % 3 == 2 ? "v%d\n" : "v%d ", i);
    }
    wv(fd, vec, 100);
    ws(fd, "\n");
    memset(lng, 'L', sizeof(lng) - 1);
    lng[sizeof(lng) - 2] = '\n';
    wr(fd, lng, sizeof(lng) - 1);
    wr(2, "", 0);
    close(fd);
    fprintf(report, "ok %d calls\n", calls);
    return 0;
}

/* A write of n bytes, done in as many calls as the pipe makes it take. */
static void all(const struct iovec *in, int cnt, int *shorts, int *eagains)
{
    struct iovec v[64];
    int i, at = 0;
    size_t total = 0;

    for (i = 0; i < cnt; i++) {
        v[i] = in[i];
        total += in[i].iov_len;
    }
    while (total > 0) {
        struct pollfd p = {1, POLLOUT, 0};
        ssize_t r;

        errno = EDOM;
        r = writev(1, v + at, cnt - at);
        if (r < 0 && errno == EAGAIN) {
            (*eagains)++;
            poll(&p, 1, 5000);
            continue;
        }
        if (r <= 0 || (size_t)r > total || errno != EDOM)
            bad("nonblock", r, total, errno);
        if ((size_t)r < total)
            (*shorts)++;
        total -= (size_t)r;
        while (r > 0) {
            size_t k = (size_t)r < v[at].iov_len ? (size_t)r : v[at].iov_len;

            v[at].iov_base = (char *)v[at].iov_base + k;
            v[at].iov_len -= k;
            r -= (ssize_t)k;
            if (v[at].iov_len == 0)
                at++;
        }
    }
}

static int nonblock(int lines)
{
    static char buf[64][400], pad[301];
    struct iovec v[64];
    int i = 0, shorts = 0, eagains = 0;

    memset(pad, '.', sizeof(pad) - 1);
    if (fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK) < 0)
        return 2;
    (void)fcntl(1, F_SETPIPE_SZ, 4096);
    while (i < lines) {
        int cnt = 0, k = 1 + i % 40;

        while (cnt < k && i < lines) {
            int n = snprintf(buf[cnt], sizeof(buf[cnt]),
                             i % 2 ? "{\"line\":%d,\"pad\":\"%.*s\"}\n" : "line %d %.*s\n", i,
                             i * 37 % 300, pad);

            v[cnt].iov_base = buf[cnt];
            v[cnt].iov_len = (size_t)n;
            cnt++;
            i++;
        }
        if (k % 7 == 0 && v[cnt - 1].iov_len > 4) { /* the last line in two calls */
            struct iovec head = {v[cnt - 1].iov_base, 3};

            v[cnt - 1].iov_len -= 3;
            v[cnt - 1].iov_base = (char *)v[cnt - 1].iov_base + 3;
            all(v, cnt - 1, &shorts, &eagains);
            all(&head, 1, &shorts, &eagains);
            all(v + cnt - 1, 1, &shorts, &eagains);
            continue;
        }
        all(v, cnt, &shorts, &eagains);
    }
    fprintf(report, "ok %d lines %d short %d eagain\n", lines, shorts, eagains);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 4)
        return 2;
    report = fopen(argv[3], "w");
    if (report == NULL)
        return 2;
    rc = strcmp(argv[1], "forms") == 0 ? forms(argv[2]) : nonblock(atoi(argv[2]));
    fclose(report);
    return rc;
}
