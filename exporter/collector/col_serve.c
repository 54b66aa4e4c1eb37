/*
 * col_serve.c - GET /metrics in Prometheus text: span metrics, the service
 * graph and the collector's own counters.
 *
 * The HTTP server is GNU libmicrohttpd (Debian's libmicrohttpd12) on its
 * own thread, rather than a parser of our own on a port anyone may reach.
 */
#define _GNU_SOURCE
#include "col_serve.h"
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_stats.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct MHD_Daemon *col_mhd;

static enum MHD_Result col_serve_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload, size_t *upload_len, void **state)
{
    static const char nf[] = "not found: try /metrics\n";
    struct MHD_Response *resp;
    enum MHD_Result ret;
    col_buf_t b = {0};
    unsigned status = MHD_HTTP_OK;

    (void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        col_buf_puts(&b, "GET only\n");
    } else if (strcmp(url, "/metrics") != 0) {
        status = MHD_HTTP_NOT_FOUND;
        col_buf_puts(&b, nf);
    } else {
        col_sinks_render(&b);
        col_stats_render(&b);
    }
    if (b.oom) {
        col_buf_free(&b);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    col_buf_free(&b);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int col_serve_start(const char *addr)
{
    char host[256];
    const char *colon = strrchr(addr, ':'), *port;
    struct addrinfo hints, *ai = NULL;
    size_t n;
    int rc;

    if (colon == NULL) {
        fprintf(stderr, "spanshim-collector: --metrics-listen wants HOST:PORT, not %s\n", addr);
        return 0;
    }
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n >= sizeof(host))
        return 0;
    memcpy(host, addr, n);
    host[n] = '\0';
    port = colon + 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(n ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "spanshim-collector: --metrics-listen %s: %s\n", addr, gai_strerror(rc));
        return 0;
    }
    col_mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                                   (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                               0, NULL, NULL, col_serve_answer, NULL, MHD_OPTION_SOCK_ADDR,
                               ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, 64u,
                               MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (col_mhd == NULL) {
        fprintf(stderr, "spanshim-collector: cannot listen on %s for /metrics\n", addr);
        return 0;
    }
    return 1;
}

void col_serve_stop(void)
{
    if (col_mhd)
        MHD_stop_daemon(col_mhd);
    col_mhd = NULL;
}

/* Span metrics as a sink: every decoded batch, before any sampling (so the
 * figures are exact), served with every counter on /metrics. */
static int col_metrics_wanted(void)
{
    return col_opt.metrics_listen != NULL;
}

static int col_metrics_start(void)
{
    return col_serve_start(col_opt.metrics_listen);
}

static int col_metrics_take(col_batch_t *b)
{
    col_metrics_add(b->r, b->now_ms);
    return COL_PASS;
}

static int col_metrics_stop(long left_ms)
{
    (void)left_ms;
    col_serve_stop();
    return 1;
}

const col_sink_t col_sink_metrics = {
    .name = "metrics",
    .wanted = col_metrics_wanted,
    .start = col_metrics_start,
    .take = col_metrics_take,
    .stop = col_metrics_stop,
    .render = col_metrics_render,
};
