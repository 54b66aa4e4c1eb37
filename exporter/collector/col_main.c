/*
 * col_main.c - spanshim-collector: receive span datagrams, write OTLP JSON.
 *
 *   spanshim-collector --socket PATH [--jsonl FILE] [--print]
 *
 * One Unix datagram socket, one loop: each datagram is an OTLP
 * ExportTraceServiceRequest in protobuf, decoded with protobuf-c and
 * appended to FILE as one JSON line with a single write(), so a reader
 * never sees half a line. Anything that does not decode is counted and
 * logged, never fatal. SIGTERM or SIGINT: drain what is queued, write it,
 * print the totals, remove the socket, exit 0.
 */
#define _GNU_SOURCE
#include "col_json.h"
#include "col_otlp.h"
#include "col_print.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define COL_DGRAM_MAX (256 * 1024)
#define COL_DEFAULT_SOCKET "/tmp/spanshim.sock"

static volatile sig_atomic_t col_stop;
static volatile sig_atomic_t col_reopen;

static struct {
    unsigned long long datagrams, spans, bad, oversized, write_errors;
} col_count;

static struct {
    const char *socket_path;
    const char *jsonl;
    int print;
    int quiet;
} col_opt;

static uint64_t col_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void col_on_signal(int sig)
{
    if (sig == SIGHUP)
        col_reopen = 1;
    else
        col_stop = 1;
}

static void col_usage(FILE *f)
{
    fprintf(f, "usage: spanshim-collector [--socket PATH] [--jsonl FILE] [--print] [--quiet]\n"
               "  --socket PATH  Unix datagram socket to receive on (default $SPANSHIM_SOCKET,\n"
               "                 else " COL_DEFAULT_SOCKET ")\n"
               "  --jsonl FILE   append each batch as one OTLP JSON line\n"
               "  --print        print each trace as a tree once it is complete\n"
               "  --quiet        no totals line at exit\n");
}

static int col_open_jsonl(void)
{
    int fd;

    if (col_opt.jsonl == NULL)
        return -1;
    fd = open(col_opt.jsonl, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        fprintf(stderr, "spanshim-collector: cannot open %s: %s\n", col_opt.jsonl,
                strerror(errno));
    return fd;
}

/* Bind the socket, taking over a stale file but never a live collector. */
static int col_bind(const char *path)
{
    struct sockaddr_un sa;
    int fd, probe, size = 8 << 20;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "spanshim-collector: socket path too long: %s\n", path);
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        fprintf(stderr, "spanshim-collector: a collector already listens on %s\n", path);
        close(probe);
        return -1;
    }
    if (probe >= 0)
        close(probe);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "spanshim-collector: cannot bind %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Traced programs may run as other users (nginx workers): let them send. */
    chmod(path, 0666);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    return fd;
}

static size_t col_count_spans(const col_request_t *r)
{
    size_t n = 0, i, j;

    for (i = 0; i < r->n_resource_spans; i++)
        for (j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
            n += r->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

static void col_write_line(int fd, col_buf_t *b)
{
    size_t off = 0;

    col_buf_put(b, "\n", 1);
    if (b->oom) {
        col_count.write_errors++;
        fprintf(stderr, "spanshim-collector: out of memory formatting a batch; dropped\n");
        return;
    }
    while (off < b->len) {
        ssize_t w = write(fd, b->p + off, b->len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            col_count.write_errors++;
            fprintf(stderr, "spanshim-collector: write to %s failed: %s\n", col_opt.jsonl,
                    strerror(errno));
            return;
        }
        off += (size_t)w;
    }
}

static void col_handle(const uint8_t *data, size_t len, int jfd, col_buf_t *b)
{
    col_request_t *r = col_request_unpack(len, data);
    size_t n;

    col_count.datagrams++;
    if (r == NULL) {
        col_count.bad++;
        fprintf(stderr,
                "spanshim-collector: ignored a datagram of %zu bytes that is not an OTLP "
                "ExportTraceServiceRequest (%llu so far)\n",
                len, col_count.bad);
        return;
    }
    n = col_count_spans(r);
    col_count.spans += n;
    if (n && jfd >= 0) {
        col_buf_reset(b);
        col_json_request(b, r);
        col_write_line(jfd, b);
    }
    if (n && col_opt.print)
        col_print_add(r, col_now_ms());
    col_request_free(r);
}

/* Read every queued datagram without waiting. */
static void col_drain(int fd, uint8_t *buf, int jfd, col_buf_t *b)
{
    for (;;) {
        ssize_t n = recv(fd, buf, COL_DGRAM_MAX, MSG_DONTWAIT | MSG_TRUNC);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (n > COL_DGRAM_MAX) {
            col_count.oversized++;
            fprintf(stderr, "spanshim-collector: ignored an oversized datagram (%zd bytes)\n", n);
            continue;
        }
        col_handle(buf, (size_t)n, jfd, b);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"jsonl", required_argument, NULL, 'j'},
        {"print", no_argument, NULL, 'p'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct sigaction sa;
    col_buf_t b = {0};
    uint8_t *buf;
    int c, fd, jfd;

    col_opt.socket_path = getenv("SPANSHIM_SOCKET");
    if (col_opt.socket_path == NULL || *col_opt.socket_path == '\0')
        col_opt.socket_path = COL_DEFAULT_SOCKET;
    while ((c = getopt_long(argc, argv, "s:j:pqh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            col_opt.socket_path = optarg;
            break;
        case 'j':
            col_opt.jsonl = optarg;
            break;
        case 'p':
            col_opt.print = 1;
            break;
        case 'q':
            col_opt.quiet = 1;
            break;
        case 'h':
            col_usage(stdout);
            return 0;
        default:
            col_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        col_usage(stderr);
        return 2;
    }
    buf = malloc(COL_DGRAM_MAX);
    if (buf == NULL)
        return 1;
    jfd = col_open_jsonl();
    if (col_opt.jsonl && jfd < 0)
        return 1;
    fd = col_bind(col_opt.socket_path);
    if (fd < 0)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = col_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (!col_stop) {
        struct pollfd p = {fd, POLLIN, 0};

        if (poll(&p, 1, 100) > 0)
            col_drain(fd, buf, jfd, &b);
        if (col_reopen) {
            col_reopen = 0;
            if (jfd >= 0) {
                int nfd = col_open_jsonl();

                if (nfd >= 0) {
                    close(jfd);
                    jfd = nfd;
                }
            }
        }
        if (col_opt.print)
            col_print_due(stdout, col_now_ms(), 0);
    }
    col_drain(fd, buf, jfd, &b);
    if (col_opt.print)
        col_print_due(stdout, col_now_ms(), 1);
    unlink(col_opt.socket_path);
    if (!col_opt.quiet || col_count.bad || col_count.oversized || col_count.write_errors)
        fprintf(stderr,
                "spanshim-collector: %llu spans in %llu datagrams%s%s; %llu not OTLP, %llu "
                "oversized\n",
                col_count.spans, col_count.datagrams, col_opt.jsonl ? " written to " : "",
                col_opt.jsonl ? col_opt.jsonl : "", col_count.bad, col_count.oversized);
    col_buf_free(&b);
    free(buf);
    return 0;
}
