/*
 * col_serve.c - GET /metrics in Prometheus text: span metrics, the service
 * graph and the collector's own counters.
 *
 * The HTTP server is GNU libmicrohttpd (Debian's libmicrohttpd12) on its
 * own thread, rather than a parser of our own on a port anyone may reach.
 */
#define _GNU_SOURCE
#include "col_serve.h"
#include "col_http.h"
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    col_mhd = col_http_listen(addr, "--metrics-listen", "/metrics", col_serve_answer, NULL,
                             NULL);
    return col_mhd != NULL;
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
