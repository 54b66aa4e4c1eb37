/*
 * ss_curl.c - libcurl handles and their transfer spans (see ss_curl.h).
 *
 * The option numbers and info codes used here are libcurl's stable ABI
 * (curl/curl.h); they are written out so the shim builds without
 * libcurl's headers and never links libcurl.
 */
#define _GNU_SOURCE
#include "ss_curl.h"
#include "ss_calling.h"
#include "ss_config.h"
#include "ss_conn.h"
#include "ss_dns.h"
#include "../exporter/ss_lock.h"
#include "ss_log.h"
#include "ss_logcap.h"
#include "ss_real.h"
#include "ss_span.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_CURLOPT_URL 10002
#define SS_CURLOPT_HTTPHEADER 10023
#define SS_CURLOPT_CUSTOMREQUEST 10036
#define SS_CURLOPT_UNIX_SOCKET_PATH 10231
#define SS_CURLINFO_STRING 0x100000
#define SS_CURLINFO_LONG 0x200000
#define SS_CURLINFO_RESPONSE_CODE (SS_CURLINFO_LONG + 2)
#define SS_CURLINFO_REDIRECT_COUNT (SS_CURLINFO_LONG + 20)
#define SS_CURLINFO_OS_ERRNO (SS_CURLINFO_LONG + 25)
#define SS_CURLINFO_PRIMARY_IP (SS_CURLINFO_STRING + 32)
#define SS_CURLINFO_PRIMARY_PORT (SS_CURLINFO_LONG + 40)
#define SS_CURLINFO_HTTP_VERSION (SS_CURLINFO_LONG + 46)
#define SS_CURLINFO_EFFECTIVE_METHOD (SS_CURLINFO_STRING + 58)

struct ss_slist {              /* libcurl's struct curl_slist */
    char *data;
    struct ss_slist *next;
};

typedef struct ss_curl_handle {
    void *h;
    struct ss_slist *app_headers;  /* the program's list (not ours to touch) */
    struct ss_slist *ours;         /* the list used during a transfer */
    char url[SS_HTTP_TARGET_MAX];
    char unix_path[108];
    ss_span_t *span;               /* the transfer in progress */
    struct ss_curl_handle *next;
} ss_curl_handle_t;

#define SS_CURL_BUCKETS 256
static ss_lock_t ss_curl_lock = SS_LOCK_INIT;
static ss_curl_handle_t *ss_curl_table[SS_CURL_BUCKETS];

static unsigned ss_curl_bucket(const void *h)
{
    return (unsigned)(((uintptr_t)h >> 4) % SS_CURL_BUCKETS);
}

/* The state of h (created if asked); call with ss_curl_lock held. */
static ss_curl_handle_t *ss_curl_find(void *h, int create)
{
    ss_curl_handle_t *c;
    unsigned b = ss_curl_bucket(h);

    for (c = ss_curl_table[b]; c; c = c->next)
        if (c->h == h)
            return c;
    if (!create || (c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    c->h = h;
    c->next = ss_curl_table[b];
    ss_curl_table[b] = c;
    return c;
}

static void ss_curl_copy(char *dst, size_t cap, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, cap, "%s", src);
}

void ss_curl_setopt(void *h, int opt, void *arg)
{
    ss_curl_handle_t *c;

    if (opt != SS_CURLOPT_URL && opt != SS_CURLOPT_HTTPHEADER && opt != SS_CURLOPT_UNIX_SOCKET_PATH)
        return;
    ss_lock(&ss_curl_lock);
    c = ss_curl_find(h, 1);
    if (c && opt == SS_CURLOPT_URL)
        ss_curl_copy(c->url, sizeof(c->url), arg);
    else if (c && opt == SS_CURLOPT_HTTPHEADER)
        c->app_headers = arg;
    else if (c)
        ss_curl_copy(c->unix_path, sizeof(c->unix_path), arg);
    ss_unlock(&ss_curl_lock);
}

static int ss_curl_has_traceparent(const struct ss_slist *l)
{
    for (; l; l = l->next)
        if (l->data && strncasecmp(l->data, "traceparent:", 12) == 0)
            return 1;
    return 0;
}

/* The program's entries, then the trace headers: a list of the shim's. */
static struct ss_slist *ss_curl_headers(const struct ss_slist *app, const ss_span_t *s)
{
    struct ss_slist *ours = NULL, *l;
    char line[SS_TS_FORWARD_MAX + 16], tp[SS_TP_LEN + 1];

    for (; app; app = app->next) {
        l = ss_real_curl_slist_append(ours, app->data);
        if (l == NULL)
            goto fail;
        ours = l;
    }
    ss_tp_format(&s->ctx, tp);
    snprintf(line, sizeof(line), "traceparent: %s", tp);
    if ((l = ss_real_curl_slist_append(ours, line)) == NULL)
        goto fail;
    ours = l;
    if (s->ts_len) {
        snprintf(line, sizeof(line), "tracestate: %s", s->ts);
        if ((l = ss_real_curl_slist_append(ours, line)) == NULL)
            goto fail;
        ours = l;
    }
    return ours;
fail:
    ss_real_curl_slist_free_all(ours);
    return NULL;
}

void ss_curl_start(void *h)
{
    ss_curl_handle_t *c;
    ss_span_t *s;
    ss_ctx_t parent;
    char ts[SS_TS_FORWARD_MAX + 1];
    uint16_t ts_len;
    int has_parent = ss_conn_request_parent(&parent, ts, &ts_len);

    ss_lock(&ss_curl_lock);
    c = ss_curl_find(h, 1);
    if (c == NULL || c->span || ss_curl_has_traceparent(c->app_headers) ||
        (s = ss_span_alloc()) == NULL) {
        ss_unlock(&ss_curl_lock);
        return; /* the program traces itself, or no room: leave it alone */
    }
    s->kind = SS_KIND_CLIENT;
    s->start_ns = ss_now_ns();
    if (ss_cfg.disabled) {
        if (has_parent)
            s->ctx = parent;
    } else {
        ss_span_start_ctx(s, has_parent ? &parent : NULL, 0);
        if (__builtin_expect(ss_logcap_on, 0))
            ss_calling_begin(s); /* lines its callbacks log are the transfer's */
    }
    if (ts_len) { /* the parent's tracestate goes on with its context */
        memcpy(s->ts, ts, ts_len + 1u);
        s->ts_len = ts_len;
    }
    if (s->ctx.valid && ss_cfg.propagate) {
        c->ours = ss_curl_headers(c->app_headers, s);
        if (c->ours) {
            ss_real_curl_easy_setopt(h, SS_CURLOPT_HTTPHEADER, c->ours);
            SS_COUNT(headers_injected);
        }
    }
    c->span = s;
    ss_unlock(&ss_curl_lock);
}

/* The authority part of an absolute URL ("host:port"), for Host. */
static void ss_curl_authority(const char *url, char *out, size_t cap)
{
    const char *a = strstr(url, "://"), *end, *at;
    size_t n;

    out[0] = '\0';
    if (a == NULL)
        return;
    a += 3;
    end = a + strcspn(a, "/?#");
    at = memchr(a, '@', (size_t)(end - a));
    if (at)
        a = at + 1;
    n = (size_t)(end - a) < cap - 1 ? (size_t)(end - a) : cap - 1;
    memcpy(out, a, n);
    out[n] = '\0';
}

static const char *ss_curl_error_type(int result, long os_errno, char *buf, size_t cap)
{
    switch (result) {
    case 6:
        return "name_resolution";   /* CURLE_COULDNT_RESOLVE_HOST */
    case 18:
        return "response_truncated"; /* CURLE_PARTIAL_FILE */
    case 28:
        return "timeout";           /* CURLE_OPERATION_TIMEDOUT */
    case 35:
    case 60:
        return "tls";               /* CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION */
    case 52:
        return "no_response";       /* CURLE_GOT_NOTHING */
    }
    if (os_errno > 0)
        return ss_errno_name((int)os_errno, buf, cap);
    snprintf(buf, cap, "curl_error_%d", result);
    return buf;
}

static void ss_curl_set(char *field, uint16_t *len, size_t cap, const char *v)
{
    size_t n = v ? strlen(v) : 0;

    if (n > cap)
        n = cap;
    memcpy(field, v ? v : "", n);
    *len = (uint16_t)n;
}

void ss_curl_end(void *h, int result)
{
    ss_curl_handle_t *c;
    ss_span_t *s;
    char *method = NULL, *ip = NULL, host[SS_HTTP_HOST_MAX], buf[32];
    long code = 0, redirects = 0, os_errno = 0, port = 0, version = 0;

    ss_lock(&ss_curl_lock);
    c = ss_curl_find(h, 0);
    s = c ? c->span : NULL;
    if (s == NULL) {
        ss_unlock(&ss_curl_lock);
        return;
    }
    c->span = NULL;
    if (c->ours) {
        ss_real_curl_easy_setopt(h, SS_CURLOPT_HTTPHEADER, c->app_headers);
        ss_real_curl_slist_free_all(c->ours);
        c->ours = NULL;
    }
    ss_curl_copy(s->peer_addr, sizeof(s->peer_addr), c->unix_path);
    s->is_unix = c->unix_path[0] != '\0';
    s->is_tls = strncasecmp(c->url, "https:", 6) == 0;
    if (strstr(c->url, "://") == NULL) { /* libcurl's default scheme */
        char url[SS_HTTP_TARGET_MAX];

        snprintf(url, sizeof(url), "http://%s", c->url);
        ss_curl_set(s->http.head.target, &s->http.head.target_len, sizeof(s->http.head.target), url);
        ss_curl_authority(url, host, sizeof(host));
    } else {
        ss_curl_set(s->http.head.target, &s->http.head.target_len, sizeof(s->http.head.target), c->url);
        ss_curl_authority(c->url, host, sizeof(host));
    }
    ss_unlock(&ss_curl_lock);

    ss_real_curl_easy_getinfo(h, SS_CURLINFO_RESPONSE_CODE, &code);
    ss_real_curl_easy_getinfo(h, SS_CURLINFO_REDIRECT_COUNT, &redirects);
    ss_real_curl_easy_getinfo(h, SS_CURLINFO_OS_ERRNO, &os_errno);
    ss_real_curl_easy_getinfo(h, SS_CURLINFO_HTTP_VERSION, &version);
    ss_real_curl_easy_getinfo(h, SS_CURLINFO_EFFECTIVE_METHOD, &method);
    if (!s->is_unix) {
        ss_real_curl_easy_getinfo(h, SS_CURLINFO_PRIMARY_IP, &ip);
        ss_real_curl_easy_getinfo(h, SS_CURLINFO_PRIMARY_PORT, &port);
        ss_curl_copy(s->peer_addr, sizeof(s->peer_addr), ip);
        s->peer_port = (uint16_t)port;
    }
    ss_curl_set(s->http.head.method, &s->http.head.method_len, sizeof(s->http.head.method),
                method && *method ? method : "GET");
    ss_curl_set(s->http.head.host, &s->http.head.host_len, sizeof(s->http.head.host), host);
    s->http.head_done = 1;
    /* CURL_HTTP_VERSION_1_0 = 1, 1_1 = 2, 2_0 = 3, 3 = 30 */
    s->http.http_version = version == 1 ? 10 : version == 3 ? 20 : version == 30 ? 30 : 11;
    s->http.head_minor = version == 1 ? 0 : 1;
    s->http.status_code = (uint16_t)code;
    s->http.resend_count = (uint16_t)redirects;
    if (result != 0)
        snprintf(s->error_type, sizeof(s->error_type), "%s",
                 ss_curl_error_type(result, os_errno, buf, sizeof(buf)));
    ss_dns_adopt(s, host, s->is_unix ? NULL : ip); /* curl resolved in a thread of its own */
    ss_stack_at_end(s); /* in curl_easy_perform's hook, a slow or failed one's caller is below */
    ss_span_end(s);
}

void ss_curl_forget(void *h)
{
    ss_curl_handle_t **pp, *c = NULL;

    ss_lock(&ss_curl_lock);
    for (pp = &ss_curl_table[ss_curl_bucket(h)]; *pp; pp = &(*pp)->next)
        if ((*pp)->h == h) {
            c = *pp;
            *pp = c->next;
            break;
        }
    ss_unlock(&ss_curl_lock);
    if (c == NULL)
        return;
    if (c->ours)
        ss_real_curl_slist_free_all(c->ours);
    ss_span_free(c->span);
    free(c);
}

void ss_curl_dup(void *from, void *to)
{
    ss_curl_handle_t *a, *b;

    ss_lock(&ss_curl_lock);
    a = ss_curl_find(from, 0);
    if (a && (b = ss_curl_find(to, 1)) != NULL) {
        b->app_headers = a->app_headers;
        memcpy(b->url, a->url, sizeof(b->url));
        memcpy(b->unix_path, a->unix_path, sizeof(b->unix_path));
    }
    ss_unlock(&ss_curl_lock);
}

void ss_curl_after_fork(void)
{
    ss_lock_reset(&ss_curl_lock);
}
