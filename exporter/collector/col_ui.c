/*
 * col_ui.c - the trace viewer's web server: the built-in page and the JSON
 * API (see col_ui.h for the routes).
 *
 * libmicrohttpd parses the requests and their query strings, on its own
 * thread; each value goes through col_vstore_filter_set, which refuses
 * what it does not take with a reason, answered as 400. The store's lock
 * is all these threads share with the main one.
 */
#define _GNU_SOURCE
#include "col_ui.h"
#include "col_http.h"
#include "col_json.h"
#include "col_shimloss.h"
#include "col_ui_assets.h"
#include "col_vstore.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct MHD_Daemon *col_ui_mhd;
static char col_ui_host[COL_HTTP_HOST_MAX]; /* as given to --ui */

/* Only this page's own files, scripts and styles; nothing from elsewhere. */
#define COL_UI_CSP                                                                          \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "         \
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static enum MHD_Result col_ui_reply(struct MHD_Connection *conn, unsigned status,
                                    const char *type, const void *data, size_t len,
                                    enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, mode);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (strncmp(type, "text/html", 9) == 0) {
        MHD_add_response_header(resp, "Content-Security-Policy", COL_UI_CSP);
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result col_ui_json(struct MHD_Connection *conn, unsigned status, col_buf_t *b)
{
    enum MHD_Result ret;

    if (b->oom) {
        col_buf_free(b);
        return MHD_NO;
    }
    ret = col_ui_reply(conn, status, "application/json", b->p ? b->p : "", b->len,
                       MHD_RESPMEM_MUST_COPY);
    col_buf_free(b);
    return ret;
}

static enum MHD_Result col_ui_error(struct MHD_Connection *conn, unsigned status,
                                    const char *why)
{
    col_buf_t b = {0};

    col_buf_puts(&b, "{\"error\":");
    col_json_string(&b, why);
    col_buf_puts(&b, "}");
    return col_ui_json(conn, status, &b);
}

/* Whether the Host header names this server by address, localhost or the
 * host given to --ui (absent: a client of HTTP/1.0, no browser). */
static int col_ui_host_ok(struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    char name[COL_HTTP_HOST_MAX];
    const char *end;
    unsigned char addr[16];
    size_t n;

    if (h == NULL)
        return 1;
    if (h[0] == '[') {
        h++;
        end = strchr(h, ']');
    } else {
        end = strchr(h, ':');
    }
    n = end ? (size_t)(end - h) : strlen(h);
    if (n == 0 || n >= sizeof(name))
        return 0;
    memcpy(name, h, n);
    name[n] = '\0';
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1 ||
           strcasecmp(name, "localhost") == 0 ||
           (col_ui_host[0] && strcasecmp(name, col_ui_host) == 0);
}

typedef struct col_ui_query {
    col_vstore_filter_t f;
    const char *why;
} col_ui_query_t;

static enum MHD_Result col_ui_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    col_ui_query_t *q = cls;

    (void)kind;
    return col_vstore_filter_set(&q->f, key, value ? value : "", &q->why) ? MHD_YES : MHD_NO;
}

static enum MHD_Result col_ui_traces(struct MHD_Connection *conn)
{
    col_ui_query_t q = {.why = NULL};
    col_buf_t b = {0};

    col_vstore_filter_init(&q.f);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, col_ui_arg, &q);
    if (q.why)
        return col_ui_error(conn, MHD_HTTP_BAD_REQUEST, q.why);
    col_vstore_traces_json(&b, &q.f);
    return col_ui_json(conn, MHD_HTTP_OK, &b);
}

static enum MHD_Result col_ui_trace(struct MHD_Connection *conn)
{
    const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
    col_vstore_filter_t f; /* its trace_id: the id checked and lowercased */
    const char *why;
    col_buf_t b = {0};

    if (id == NULL || strlen(id) != 32 || !col_vstore_filter_set(&f, "trace_id", id, &why))
        return col_ui_error(conn, MHD_HTTP_BAD_REQUEST, "id: a trace id of 32 hex digits");
    if (!col_vstore_trace_json(&b, f.trace_id)) {
        col_buf_free(&b);
        return col_ui_error(conn, MHD_HTTP_NOT_FOUND,
                            "no such trace held (never seen, or let go for newer ones)");
    }
    return col_ui_json(conn, MHD_HTTP_OK, &b);
}

static enum MHD_Result col_ui_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload, size_t *upload_len, void **state)
{
    unsigned i;

    (void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return col_ui_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
    if (!col_ui_host_ok(conn))
        return col_ui_error(conn, MHD_HTTP_FORBIDDEN,
                            "open the viewer by its address, localhost or the host given to --ui");
    if (strcmp(url, "/api/traces") == 0)
        return col_ui_traces(conn);
    if (strcmp(url, "/api/trace") == 0)
        return col_ui_trace(conn);
    if (strcmp(url, "/api/services") == 0) {
        col_buf_t b = {0};

        col_vstore_services_json(&b);
        return col_ui_json(conn, MHD_HTTP_OK, &b);
    }
    if (strcmp(url, "/api/lost") == 0) { /* what the shims lost before it came */
        col_buf_t b = {0};

        col_buf_puts(&b, "{\"lost\":");
        col_loss_json(&b);
        col_buf_put(&b, "}", 1);
        return col_ui_json(conn, MHD_HTTP_OK, &b);
    }
    if (strcmp(url, "/favicon.ico") == 0) /* none: a browser asks anyway */
        return col_ui_reply(conn, MHD_HTTP_NO_CONTENT, "image/x-icon", "", 0,
                            MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (i = 0; i < col_ui_n_assets; i++)
        if (strcmp(url, col_ui_assets[i].path) == 0)
            return col_ui_reply(conn, MHD_HTTP_OK, col_ui_assets[i].type, col_ui_assets[i].data,
                                col_ui_assets[i].len, MHD_RESPMEM_PERSISTENT);
    return col_ui_error(conn, MHD_HTTP_NOT_FOUND, "not found: the viewer is at /");
}

/* The URL to print: a wildcard address is reached at the loopback one. */
static void col_ui_say_where(void)
{
    const union MHD_DaemonInfo *port =
        MHD_get_daemon_info(col_ui_mhd, MHD_DAEMON_INFO_BIND_PORT);
    const char *host = col_ui_host;
    int v6 = strchr(host, ':') != NULL;

    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1", v6 = 0;
    else if (strcmp(host, "::") == 0)
        host = "::1";
    fprintf(stderr, "spanshim-collector: trace viewer at http://%s%s%s:%u/\n", v6 ? "[" : "",
            host, v6 ? "]" : "", port ? (unsigned)port->port : 0u);
}

int col_ui_start(const char *addr)
{
    col_ui_mhd = col_http_listen(addr, "--ui", "the trace viewer", col_ui_answer, NULL,
                                 col_ui_host);
    if (col_ui_mhd == NULL)
        return 0;
    col_ui_say_where();
    return 1;
}

void col_ui_stop(void)
{
    if (col_ui_mhd)
        MHD_stop_daemon(col_ui_mhd);
    col_ui_mhd = NULL;
}
