/*
 * col_forward.c - OTLP/HTTP forwarding: how spans leave this machine for
 * an OpenTelemetry Collector, Jaeger or Tempo.
 *
 * The main thread queues each decoded batch, re-encoded (so only fields
 * this collector understood travel on), and a sending thread posts them:
 * several batches laid end to end are one ExportTraceServiceRequest (a
 * repeated field's messages concatenate), sent when 200 ms have passed
 * since the first was queued or 4 MiB have gathered. HTTP is libcurl's:
 * keep-alive, HTTPS, gzip via zlib, a Unix socket if asked.
 *
 * What happens to a request follows the OTLP/HTTP specification: a 2xx is
 * done (a partial success is logged and counted, never retried); 429, 502,
 * 503, 504 and failures to connect or to get an answer in time are retried
 * with exponential backoff and jitter, or after Retry-After when the
 * endpoint says so; any other status drops the batch. A batch still
 * failing after retry_max_ms is dropped. While a batch is retried, new ones
 * wait in a queue of at most queue_max bytes; past that they are dropped.
 * Every drop is counted by its reason. Delivery is at least once: an
 * endpoint that handles a request after the timeout gets it again.
 *
 * Log records take the same way to the endpoint's /v1/logs: the same
 * queue (an item says which signal it is), batched only with their own
 * kind, the same retries, limits and stop, counted apart
 * (col_fwd_log_count). The partial success of a logs answer is an
 * ExportLogsServiceResponse's.
 *
 * A stop has a deadline: retries come sooner (no backoff past the first
 * step; a Retry-After only if it ends in time), and at the deadline the
 * sending thread is left to itself, a request in flight or not. Each
 * batch's spans are counted once, by the thread as it settles the batch
 * or by the stop that gave up on it, under the lock.
 */
#define _GNU_SOURCE
#include "col_forward.h"
#include "col_metrics.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_otlp.h"
#include "col_term.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef SPANSHIM_VERSION
#define SPANSHIM_VERSION "0"
#endif

#define COL_FWD_BATCH_MAX ((size_t)4 << 20) /* bytes per request (OTLP: under 64 MiB) */
#define COL_FWD_LINGER_MS 200               /* wait this long for more to batch */
#define COL_FWD_BACKOFF_MS 250              /* first retry delay */
#define COL_FWD_BACKOFF_MAX_MS 5000         /* retry delays grow up to this */
#define COL_FWD_RESPONSE_MAX 65536          /* response bytes kept */

col_fwd_counts_t col_fwd_count, col_fwd_log_count;

/* The counters of the signal being sent (fw.logs: set by the sending
 * thread for each batch it takes). */
#define COL_FWD_CNT(logs) ((logs) ? &col_fwd_log_count : &col_fwd_count)
#define COL_FWD_ADD(name, n) \
    __atomic_add_fetch(&COL_FWD_CNT(__atomic_load_n(&fw.logs, __ATOMIC_RELAXED))->name, (n), \
                       __ATOMIC_RELAXED)

typedef struct col_item {
    struct col_item *next;
    uint64_t at_ms;
    size_t len, spans; /* spans: or log records */
    int logs;          /* an ExportLogsServiceRequest, for logs_url */
    uint8_t data[];
} col_item_t;

static struct {
    col_fwd_cfg_t cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    col_item_t *head, **tail;
    size_t bytes;
    int stopping;
    uint64_t deadline_ms;
    size_t inflight;    /* spans of the batch being sent */
    int logs;           /* the batch being sent is of log records */
    int finished;       /* the sending thread is done */
    int abandoned;      /* the stop gave up waiting: the thread counts no more */
    CURL *curl;
    struct curl_slist *headers;
    unsigned seed;
} fw = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int col_fwd_stopping(void)
{
    return __atomic_load_n(&fw.stopping, __ATOMIC_ACQUIRE);
}

static uint64_t col_fwd_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
static void col_fwd_abstime(struct timespec *ts, uint64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* ---- configuration ------------------------------------------------------ */

static const char *col_fwd_env(const char *traces_name, const char *name)
{
    const char *v = getenv(traces_name);

    if (v == NULL || *v == '\0')
        v = getenv(name);
    return v && *v ? v : NULL;
}

/* base + path ("/v1/traces"), without a doubled slash. */
static char *col_fwd_join_path(const char *base, const char *path)
{
    size_t n = strlen(base), p = strlen(path);
    char *url;

    while (n && base[n - 1] == '/')
        n--;
    if ((url = malloc(n + p + 1)) == NULL)
        return NULL;
    memcpy(url, base, n);
    memcpy(url + n, path, p + 1);
    return url;
}

static char *col_fwd_join(const char *base)
{
    return col_fwd_join_path(base, "/v1/traces");
}

/* Where log records go: the flag's base + /v1/logs, else
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT
 * + /v1/logs, else a traces URL ending in /v1/traces with /v1/logs in
 * its place; NULL when none says. */
static char *col_fwd_logs_url(const char *endpoint, const char *traces_url)
{
    const char *v;
    size_t n;

    if (endpoint)
        return col_fwd_join_path(endpoint, "/v1/logs");
    if ((v = getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")) && *v)
        return strdup(v);
    if ((v = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) && *v)
        return col_fwd_join_path(v, "/v1/logs");
    if (traces_url && (n = strlen(traces_url)) >= 10 &&
        strcmp(traces_url + n - 10, "/v1/traces") == 0) {
        char *url = malloc(n - 10 + sizeof("/v1/logs"));

        if (url) {
            memcpy(url, traces_url, n - 10);
            memcpy(url + n - 10, "/v1/logs", sizeof("/v1/logs"));
        }
        return url;
    }
    return NULL;
}

int col_fwd_configure(col_fwd_cfg_t *cfg, const char *endpoint)
{
    const char *v;

    memset(cfg, 0, sizeof(*cfg));
    cfg->timeout_ms = 10000;
    cfg->queue_max = (size_t)64 << 20;
    cfg->retry_max_ms = 300000;
    if (endpoint)
        cfg->url = col_fwd_join(endpoint);
    else if ((v = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) && *v)
        cfg->url = strdup(v); /* the signal's own URL is used as it is */
    else if ((v = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) && *v)
        cfg->url = col_fwd_join(v);
    if (cfg->url)
        cfg->logs_url = col_fwd_logs_url(endpoint, cfg->url);
    if ((v = col_fwd_env("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")))
        cfg->headers = strdup(v);
    cfg->ca_file = col_fwd_env("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                               "OTEL_EXPORTER_OTLP_CERTIFICATE");
    if ((v = col_fwd_env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"))) {
        char *end;
        long ms = strtol(v, &end, 10);

        if (*end != '\0' || ms <= 0) {
            fprintf(stderr, "spanshim-collector: OTEL_EXPORTER_OTLP_TIMEOUT is not a number "
                            "of milliseconds: %s\n", v);
            return 0;
        }
        cfg->timeout_ms = ms;
    }
    if ((v = col_fwd_env("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                         "OTEL_EXPORTER_OTLP_COMPRESSION"))) {
        if (strcmp(v, "gzip") != 0 && strcmp(v, "none") != 0) {
            fprintf(stderr, "spanshim-collector: OTEL_EXPORTER_OTLP_COMPRESSION must be gzip "
                            "or none, not %s\n", v);
            return 0;
        }
        cfg->gzip = strcmp(v, "gzip") == 0;
    }
    return 1;
}

static int col_fwd_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decoding in place (W3C baggage octets, as the OTLP exporter
 * specification asks of header values). */
static void col_fwd_unescape(char *s)
{
    char *o = s;

    for (; *s; s++) {
        int h, l;

        if (*s == '%' && (h = col_fwd_hex(s[1])) >= 0 && (l = col_fwd_hex(s[2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static char *col_fwd_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return s;
}

/* "k1=v1,k2=v2" into "k1: v1" lines; a malformed pair is logged and skipped. */
static struct curl_slist *col_fwd_header_list(char *spec)
{
    struct curl_slist *l = NULL;
    char *save = NULL, *pair;

    for (pair = strtok_r(spec, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(pair, '='), *k, *v, line[1024];

        if (eq == NULL) {
            fprintf(stderr, "spanshim-collector: ignored OTLP header without '=': %s\n", pair);
            continue;
        }
        *eq = '\0';
        k = col_fwd_trim(pair);
        v = col_fwd_trim(eq + 1);
        col_fwd_unescape(k);
        col_fwd_unescape(v);
        if (*k == '\0' || strpbrk(k, ": \r\n") || strpbrk(v, "\r\n") ||
            snprintf(line, sizeof(line), "%s: %s", k, v) >= (int)sizeof(line)) {
            fprintf(stderr, "spanshim-collector: ignored malformed OTLP header %s\n", k);
            continue;
        }
        l = curl_slist_append(l, line);
    }
    return l;
}

/* ---- one request ----------------------------------------------------------- */

typedef struct col_resp {
    uint8_t data[COL_FWD_RESPONSE_MAX];
    size_t len;
} col_resp_t;

static size_t col_fwd_collect(char *p, size_t size, size_t n, void *arg)
{
    col_resp_t *r = arg;
    size_t take = size * n;

    if (take > sizeof(r->data) - r->len)
        take = sizeof(r->data) - r->len;
    memcpy(r->data + r->len, p, take);
    r->len += take;
    return size * n;
}

/* gzip (RFC 1952) of in; NULL if it cannot. */
static uint8_t *col_fwd_gzip(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream z;
    uint8_t *out;
    size_t cap;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    cap = deflateBound(&z, len);
    if ((out = malloc(cap)) == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

enum { COL_FWD_DONE, COL_FWD_RETRY, COL_FWD_DROP };

/* How a batch ended: the counter its spans go to. */
typedef enum {
    COL_FWD_SENT,
    COL_FWD_REFUSED,
    COL_FWD_GAVE_UP,
    COL_FWD_NO_MEMORY,
    COL_FWD_SHUTDOWN
} col_fwd_end_t;

static int col_fwd_retryable_curl(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

/* A logs answer's partial success (ExportLogsServiceResponse), as below. */
static size_t col_fwd_partial_logs(const col_resp_t *r, col_arena_t *arena)
{
    static unsigned refused;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *m;
    col_decode_err_t why;
    size_t rejected = 0;

    m = (void *)col_decode(
        &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor,
        arena, r->data, r->len, &why);
    if (m == NULL) {
        if (refused++ < 3)
            fprintf(stderr, "spanshim-collector: ignored the OTLP endpoint's answer of %zu "
                            "bytes: not an ExportLogsServiceResponse\n", r->len);
    } else if (m->partial_success && (m->partial_success->rejected_log_records > 0 ||
                                      (m->partial_success->error_message &&
                                       *m->partial_success->error_message))) {
        char msg[512];

        rejected = m->partial_success->rejected_log_records > 0
                       ? (size_t)m->partial_success->rejected_log_records : 0;
        col_term_text(msg, sizeof(msg), m->partial_success->error_message, 200);
        fprintf(stderr, "spanshim-collector: the OTLP endpoint rejected %zu log records of a "
                        "batch: %s\n", rejected, msg);
    }
    col_arena_reset(arena);
    return rejected;
}

/* A 2xx's body may say part of the batch was rejected: log it, count it.
 * The body is the endpoint's, so it is decoded as a datagram is, bounded. */
static size_t col_fwd_partial(const col_resp_t *r)
{
    static col_arena_t *arena;
    static unsigned refused;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *m;
    col_decode_err_t why;
    size_t rejected = 0;

    if (r->len == 0 || (arena == NULL && (arena = col_arena_new()) == NULL))
        return 0;
    if (fw.logs)
        return col_fwd_partial_logs(r, arena);
    m = (void *)col_decode(
        &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor,
        arena, r->data, r->len, &why);
    if (m == NULL) {
        if (refused++ < 3)
            fprintf(stderr, "spanshim-collector: ignored the OTLP endpoint's answer of %zu "
                            "bytes: not an ExportTraceServiceResponse\n", r->len);
    } else if (m->partial_success && (m->partial_success->rejected_spans > 0 ||
                                      (m->partial_success->error_message &&
                                       *m->partial_success->error_message))) {
        rejected = m->partial_success->rejected_spans > 0
                       ? (size_t)m->partial_success->rejected_spans : 0;
        char msg[512];

        col_term_text(msg, sizeof(msg), m->partial_success->error_message, 200);
        fprintf(stderr, "spanshim-collector: the OTLP endpoint rejected %zu spans of a batch: "
                        "%s\n", rejected, msg);
    }
    col_arena_reset(arena);
    return rejected;
}

/* POST one body. *retry_ms: the endpoint's Retry-After, or -1; *rejected:
 * the spans a partial success rejected. */
static int col_fwd_post(const uint8_t *body, size_t len, size_t spans, long *retry_ms,
                        size_t *rejected)
{
    static col_resp_t resp;
    CURLcode rc;
    long status = 0;
    curl_off_t after = -1;

    *retry_ms = -1;
    resp.len = 0;
    curl_easy_setopt(fw.curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(fw.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(fw.curl, CURLOPT_WRITEDATA, &resp);
    COL_FWD_ADD(requests, 1);
    rc = curl_easy_perform(fw.curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "spanshim-collector: OTLP export to %s failed: %s\n",
                fw.logs ? fw.cfg.logs_url : fw.cfg.url, curl_easy_strerror(rc));
        return col_fwd_retryable_curl(rc) ? COL_FWD_RETRY : COL_FWD_DROP;
    }
    curl_easy_getinfo(fw.curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        *rejected = col_fwd_partial(&resp);
        if (*rejected > spans)
            *rejected = spans;
        return COL_FWD_DONE;
    }
    if (status == 429 || status == 502 || status == 503 || status == 504) {
        if ((status == 429 || status == 503) &&
            curl_easy_getinfo(fw.curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after >= 0)
            *retry_ms = (long)(after > 3600 ? 3600 : after) * 1000;
        fprintf(stderr, "spanshim-collector: OTLP endpoint answered %ld; retrying\n", status);
        return COL_FWD_RETRY;
    }
    fprintf(stderr, "spanshim-collector: OTLP endpoint answered %ld; %zu %s dropped\n",
            status, spans, fw.logs ? "log records" : "spans");
    return COL_FWD_DROP;
}

/* The n-th retry's delay: exponential, capped, with +-50% jitter. */
static long col_fwd_backoff(int n)
{
    long base = COL_FWD_BACKOFF_MS;

    while (n-- > 0 && base < COL_FWD_BACKOFF_MAX_MS)
        base *= 2;
    if (base > COL_FWD_BACKOFF_MAX_MS)
        base = COL_FWD_BACKOFF_MAX_MS;
    return base / 2 + (long)(rand_r(&fw.seed) % (unsigned)base);
}

/* Sleep ms before a retry, unless the wait outlasts a stop's deadline
 * (then 0). A stop cuts a backoff to its first step; the endpoint's own
 * Retry-After (fixed) is kept. */
static int col_fwd_wait(long ms, int fixed)
{
    uint64_t until = col_fwd_now() + (uint64_t)ms;
    int ok = 1;

    pthread_mutex_lock(&fw.lock);
    for (;;) {
        uint64_t now = col_fwd_now();
        struct timespec ts;

        if (fw.stopping && !fixed && until > now + COL_FWD_BACKOFF_MS)
            until = now + COL_FWD_BACKOFF_MS;
        if (fw.stopping && until > fw.deadline_ms) {
            ok = 0;
            break;
        }
        if (now >= until)
            break;
        col_fwd_abstime(&ts, until - now);
        pthread_cond_timedwait(&fw.cond, &fw.lock, &ts);
    }
    pthread_mutex_unlock(&fw.lock);
    return ok;
}

/* Send a batch until it is done, refused, or out of time. */
static col_fwd_end_t col_fwd_send(const uint8_t *body, size_t len, size_t spans,
                                  size_t *rejected)
{
    uint64_t start = col_fwd_now();
    col_fwd_end_t end = COL_FWD_SENT;
    uint8_t *gz = NULL;
    size_t gz_len = 0;
    int n;

    if (fw.cfg.gzip && (gz = col_fwd_gzip(body, len, &gz_len)) != NULL) {
        body = gz;
        len = gz_len;
    }
    for (n = 0;; n++) {
        long after, delay;
        int r = col_fwd_post(body, len, spans, &after, rejected);

        if (r == COL_FWD_DONE)
            break;
        if (r == COL_FWD_DROP) {
            end = COL_FWD_REFUSED;
            break;
        }
        delay = after >= 0 ? after : col_fwd_backoff(n);
        if (!col_fwd_stopping() && (long)(col_fwd_now() - start) + delay > fw.cfg.retry_max_ms) {
            fprintf(stderr, "spanshim-collector: %zu %s dropped after retrying for %ld s\n",
                    spans, fw.logs ? "log records" : "spans", (long)(col_fwd_now() - start) / 1000);
            end = COL_FWD_GAVE_UP;
            break;
        }
        if (!col_fwd_wait(delay, after >= 0)) {
            end = COL_FWD_SHUTDOWN;
            break;
        }
        COL_FWD_ADD(retries, 1);
    }
    free(gz);
    return end;
}

/* Count a batch's spans by how it ended, unless a stop already has. */
static void col_fwd_settle(col_fwd_end_t end, size_t spans, size_t rejected)
{
    pthread_mutex_lock(&fw.lock);
    if (!fw.abandoned) {
        switch (end) {
        case COL_FWD_SENT:
            COL_FWD_ADD(partial_rejected, rejected);
            COL_FWD_ADD(exported_spans, spans - rejected);
            break;
        case COL_FWD_REFUSED:
            COL_FWD_ADD(dropped_rejected, spans);
            break;
        case COL_FWD_GAVE_UP:
            COL_FWD_ADD(dropped_retries, spans);
            break;
        case COL_FWD_NO_MEMORY:
            COL_FWD_ADD(dropped_queue_full, spans);
            break;
        case COL_FWD_SHUTDOWN:
            COL_FWD_ADD(dropped_shutdown, spans);
            break;
        }
    }
    fw.inflight = 0;
    pthread_mutex_unlock(&fw.lock);
}

/* ---- the sending thread ------------------------------------------------------ */

/* Wait for a batch worth sending; take it off the queue. NULL: stop. */
static col_item_t *col_fwd_take(size_t *len, size_t *spans)
{
    col_item_t *first, **pp;
    size_t n = 0, s = 0;

    pthread_mutex_lock(&fw.lock);
    for (;;) {
        uint64_t now = col_fwd_now();
        struct timespec ts;
        long wait;

        if (fw.head == NULL && fw.stopping)
            break;
        if (fw.head && (fw.stopping || fw.bytes >= COL_FWD_BATCH_MAX ||
                        now >= fw.head->at_ms + COL_FWD_LINGER_MS))
            break;
        wait = fw.head ? (long)(fw.head->at_ms + COL_FWD_LINGER_MS - now) : COL_FWD_LINGER_MS;
        col_fwd_abstime(&ts, (uint64_t)wait);
        pthread_cond_timedwait(&fw.cond, &fw.lock, &ts);
    }
    first = fw.head;
    /* One request is of one signal: the batch ends where the other begins
     * (that item stays at the head, for the next request). */
    for (pp = &fw.head; *pp && (n == 0 || n + (*pp)->len <= COL_FWD_BATCH_MAX) &&
                        (*pp)->logs == first->logs;
         pp = &(*pp)->next) {
        n += (*pp)->len;
        s += (*pp)->spans;
    }
    fw.head = *pp;
    *pp = NULL;
    if (fw.head == NULL)
        fw.tail = &fw.head;
    fw.bytes -= n;
    fw.inflight = s;
    if (first)
        __atomic_store_n(&fw.logs, first->logs, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&fw.lock);
    *len = n;
    *spans = s;
    return first;
}

static void *col_fwd_main(void *arg)
{
    col_item_t *items;
    size_t len, spans;

    (void)arg;
    while ((items = col_fwd_take(&len, &spans)) != NULL) {
        uint8_t *body = malloc(len ? len : 1);
        size_t off = 0;

        while (items) {
            col_item_t *next = items->next;

            if (body)
                memcpy(body + off, items->data, items->len);
            off += items->len;
            free(items);
            items = next;
        }
        size_t rejected = 0;
        col_fwd_end_t end = COL_FWD_NO_MEMORY;

        if (body && col_fwd_stopping() &&
            col_fwd_now() > __atomic_load_n(&fw.deadline_ms, __ATOMIC_ACQUIRE))
            end = COL_FWD_SHUTDOWN;
        else if (body) {
            curl_easy_setopt(fw.curl, CURLOPT_URL, fw.logs ? fw.cfg.logs_url : fw.cfg.url);
            end = col_fwd_send(body, len, spans, &rejected);
        }
        col_fwd_settle(end, spans, rejected);
        free(body);
    }
    pthread_mutex_lock(&fw.lock);
    fw.finished = 1;
    pthread_cond_broadcast(&fw.cond);
    pthread_mutex_unlock(&fw.lock);
    return NULL;
}

int col_fwd_start(const col_fwd_cfg_t *cfg)
{
    char *spec;

    fw.cfg = *cfg;
    fw.tail = &fw.head;
    fw.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (fw.curl = curl_easy_init()) == NULL)
        return 0;
    if (cfg->headers && (spec = strdup(cfg->headers)) != NULL) {
        fw.headers = col_fwd_header_list(spec);
        free(spec);
    }
    fw.headers = curl_slist_append(fw.headers, "Content-Type: application/x-protobuf");
    if (cfg->gzip)
        fw.headers = curl_slist_append(fw.headers, "Content-Encoding: gzip");
    curl_easy_setopt(fw.curl, CURLOPT_URL, cfg->url);
    curl_easy_setopt(fw.curl, CURLOPT_HTTPHEADER, fw.headers);
    curl_easy_setopt(fw.curl, CURLOPT_USERAGENT, "spanshim-collector/" SPANSHIM_VERSION);
    curl_easy_setopt(fw.curl, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(fw.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(fw.curl, CURLOPT_WRITEFUNCTION, col_fwd_collect);
    if (cfg->unix_socket)
        curl_easy_setopt(fw.curl, CURLOPT_UNIX_SOCKET_PATH, cfg->unix_socket);
    if (cfg->ca_file)
        curl_easy_setopt(fw.curl, CURLOPT_CAINFO, cfg->ca_file);
    if (pthread_create(&fw.thread, NULL, col_fwd_main, NULL) != 0)
        return 0;
    return 1;
}

static void col_fwd_queue(const uint8_t *pb, size_t len, size_t spans, int logs)
{
    col_item_t *it = malloc(sizeof(*it) + len);

    pthread_mutex_lock(&fw.lock);
    if (it == NULL || fw.bytes + len > fw.cfg.queue_max) {
        if (col_fwd_count.dropped_queue_full + col_fwd_log_count.dropped_queue_full == 0)
            fprintf(stderr, "spanshim-collector: the OTLP endpoint is not keeping up; "
                            "dropping %s\n", logs ? "log records" : "spans");
        __atomic_add_fetch(&COL_FWD_CNT(logs)->dropped_queue_full, spans, __ATOMIC_RELAXED);
        free(it);
    } else {
        it->next = NULL;
        it->logs = logs;
        it->at_ms = col_fwd_now();
        it->len = len;
        it->spans = spans;
        memcpy(it->data, pb, len);
        *fw.tail = it;
        fw.tail = &it->next;
        fw.bytes += len;
        if (fw.bytes >= COL_FWD_BATCH_MAX)
            pthread_cond_broadcast(&fw.cond);
    }
    pthread_mutex_unlock(&fw.lock);
}

void col_fwd_submit(const uint8_t *pb, size_t len, size_t spans)
{
    col_fwd_queue(pb, len, spans, 0);
}

void col_fwd_submit_logs(const uint8_t *pb, size_t len, size_t records)
{
    col_fwd_queue(pb, len, records, 1);
}

/* Give up on the sending thread: count what it holds and what waits. */
static void col_fwd_abandon(void)
{
    size_t n[2] = {0, 0};

    n[fw.logs != 0] = fw.inflight;
    while (fw.head) {
        col_item_t *it = fw.head;

        fw.head = it->next;
        n[it->logs != 0] += it->spans;
        free(it);
    }
    fw.tail = &fw.head;
    fw.bytes = 0;
    fw.abandoned = 1;
    __atomic_add_fetch(&col_fwd_count.dropped_shutdown, n[0], __ATOMIC_RELAXED);
    __atomic_add_fetch(&col_fwd_log_count.dropped_shutdown, n[1], __ATOMIC_RELAXED);
}

int col_fwd_stop(long deadline_ms)
{
    uint64_t deadline = col_fwd_now() + (uint64_t)deadline_ms;
    int finished;

    pthread_mutex_lock(&fw.lock);
    __atomic_store_n(&fw.deadline_ms, deadline, __ATOMIC_RELEASE);
    __atomic_store_n(&fw.stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&fw.cond);
    while (!fw.finished && col_fwd_now() < deadline) {
        struct timespec ts;

        col_fwd_abstime(&ts, deadline - col_fwd_now());
        pthread_cond_timedwait(&fw.cond, &fw.lock, &ts);
    }
    finished = fw.finished;
    if (!finished)
        col_fwd_abandon(); /* a request may be in flight: the process exits under it */
    pthread_mutex_unlock(&fw.lock);
    if (!finished)
        return 0;
    pthread_join(fw.thread, NULL);
    curl_easy_cleanup(fw.curl);
    curl_slist_free_all(fw.headers);
    curl_global_cleanup();
    return 1;
}

/* Forwarding as a sink: each batch queued for the endpoint, as it came
 * when nothing took it apart (a batch no sink needed decoded: its bytes),
 * else as this collector understood it (re-encoded). */
static int col_forward_wanted(void)
{
    return col_opt.fwd.url != NULL;
}

static int col_forward_start(void)
{
    if (col_fwd_start(&col_opt.fwd))
        return 1;
    fprintf(stderr, "spanshim-collector: cannot start forwarding to %s\n", col_opt.fwd.url);
    return 0;
}

/* A scope's spans as they were, while a stripped copy is packed. */
typedef struct col_fwd_saved {
    col_scope_spans_t *ss;
    col_span_t **spans;
    size_t n;
} col_fwd_saved_t;

/* Take the reports of spans still open (spanshim.span.in_flight) out of r
 * for packing: each scope that has one gets a compacted copy of its span
 * array; *saved (to give to col_fwd_restore) says what to put back.
 * Returns how many were taken out; -1: out of memory (r as it was). */
static long col_fwd_strip(col_request_t *r, col_fwd_saved_t **saved, size_t *n_saved)
{
    size_t i, j, k, scopes = 0;
    long out = 0;

    *saved = NULL;
    *n_saved = 0;
    for (i = 0; i < r->n_resource_spans; i++)
        scopes += r->resource_spans[i]->n_scope_spans;
    for (i = 0; i < r->n_resource_spans; i++) {
        col_resource_spans_t *rs = r->resource_spans[i];

        for (j = 0; j < rs->n_scope_spans; j++) {
            col_scope_spans_t *ss = rs->scope_spans[j];
            col_span_t **kept = NULL;
            size_t n = 0;

            for (k = 0; k < ss->n_spans; k++) {
                const col_span_t *s = ss->spans[k];

                if (!col_attr_bool(s->attributes, s->n_attributes, COL_IN_FLIGHT_KEY))
                    continue;
                if (kept == NULL) {
                    if (*saved == NULL && (*saved = calloc(scopes, sizeof(**saved))) == NULL)
                        goto oom;
                    if ((kept = malloc(ss->n_spans * sizeof(*kept))) == NULL)
                        goto oom;
                    memcpy(kept, ss->spans, k * sizeof(*kept));
                    n = k;
                }
            }
            if (kept == NULL)
                continue;
            for (k = n; k < ss->n_spans; k++)
                if (!col_attr_bool(ss->spans[k]->attributes, ss->spans[k]->n_attributes,
                                   COL_IN_FLIGHT_KEY))
                    kept[n++] = ss->spans[k];
            (*saved)[*n_saved] = (col_fwd_saved_t){ss, ss->spans, ss->n_spans};
            ++*n_saved;
            out += (long)(ss->n_spans - n);
            ss->spans = kept;
            ss->n_spans = n;
        }
    }
    return out;
oom:
    return -1;
}

static void col_fwd_restore(col_fwd_saved_t *saved, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(saved[i].ss->spans);
        saved[i].ss->spans = saved[i].spans;
        saved[i].ss->n_spans = saved[i].n;
    }
    free(saved);
}

static int col_forward_take(col_batch_t *b)
{
    col_fwd_saved_t *saved = NULL;
    size_t len, n_saved = 0, spans = b->spans;
    long stripped = 0;
    uint8_t *pb;

    if (b->r == NULL) { /* never decoded: forwarded as it came (no report in it) */
        col_fwd_submit(b->wire, b->wire_len, b->spans);
        return COL_PASS;
    }
    /* Reports of spans still open stay here unless asked for: a backend
     * keeps every span it is sent, and would hold two with one id. */
    if (!col_opt.fwd.in_flight && (stripped = col_fwd_strip(b->r, &saved, &n_saved)) < 0) {
        col_fwd_restore(saved, n_saved);
        __atomic_add_fetch(&col_fwd_count.dropped_queue_full, b->spans, __ATOMIC_RELAXED);
        return COL_PASS;
    }
    if (stripped > 0) {
        __atomic_add_fetch(&col_fwd_count.in_flight_skipped, (size_t)stripped, __ATOMIC_RELAXED);
        spans = spans > (size_t)stripped ? spans - (size_t)stripped : 0;
    }
    if (stripped > 0 && spans == 0) {
        col_fwd_restore(saved, n_saved);
        return COL_PASS;
    }
    len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
        b->r);
    if ((pb = malloc(len ? len : 1)) == NULL) {
        col_fwd_restore(saved, n_saved);
        __atomic_add_fetch(&col_fwd_count.dropped_queue_full, spans, __ATOMIC_RELAXED);
        return COL_PASS;
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(b->r, pb);
    col_fwd_restore(saved, n_saved);
    col_fwd_submit(pb, len, spans);
    free(pb);
    return COL_PASS;
}

/* Log records: as they came (the frame off), or re-encoded when a sink
 * took something out (the shims' loss attributes). */
static void col_forward_take_logs(col_logs_batch_t *b)
{
    uint8_t *pb;
    size_t len;

    if (col_opt.fwd.logs_url == NULL)
        return;
    if (!b->changed) {
        col_fwd_submit_logs(b->wire, b->wire_len, b->records);
        return;
    }
    len = protobuf_c_message_get_packed_size(&b->r->base);
    if ((pb = malloc(len ? len : 1)) == NULL) {
        __atomic_add_fetch(&col_fwd_log_count.dropped_queue_full, b->records, __ATOMIC_RELAXED);
        return;
    }
    protobuf_c_message_pack(&b->r->base, pb);
    col_fwd_submit_logs(pb, len, b->records);
    free(pb);
}

/* Its bytes are all it sends, but reports of open spans are taken out
 * (unless asked for): a batch the wire walk saw one in is decoded. */
static int col_forward_needs_request(const col_batch_t *b)
{
    return b->in_flight && !col_opt.fwd.in_flight;
}

static void col_forward_render(col_buf_t *b)
{
#define COL_RENDER_FWD(name, what)                                                          \
    col_metrics_counter(b, "spanshim_collector_forward_" #name "_total", NULL, what,        \
                        __atomic_load_n(&col_fwd_count.name, __ATOMIC_RELAXED));
    COL_FWD_COUNTERS(COL_RENDER_FWD)
#undef COL_RENDER_FWD
#define COL_RENDER_FWD_LOGS(name, metric, what)                                             \
    col_metrics_counter(b, "spanshim_collector_forward_" metric "_total", NULL, what,         \
                        __atomic_load_n(&col_fwd_log_count.name, __ATOMIC_RELAXED));
    COL_RENDER_FWD_LOGS(exported_spans, "log_records_exported", "log records the endpoint accepted")
    COL_RENDER_FWD_LOGS(requests, "log_requests", "log export requests sent")
    COL_RENDER_FWD_LOGS(retries, "log_retries", "log export requests retried")
    COL_RENDER_FWD_LOGS(dropped_queue_full, "log_records_dropped_queue_full",
                        "log records dropped: forwarding queue full")
    COL_RENDER_FWD_LOGS(dropped_rejected, "log_records_dropped_rejected",
                        "log records dropped: the endpoint refused them (4xx/5xx)")
    COL_RENDER_FWD_LOGS(dropped_retries, "log_records_dropped_retries",
                        "log records dropped: still failing after retrying")
    COL_RENDER_FWD_LOGS(dropped_shutdown, "log_records_dropped_shutdown",
                        "log records dropped: unsent at exit")
    COL_RENDER_FWD_LOGS(partial_rejected, "log_records_partial_rejected",
                        "log records the endpoint rejected in a partial success")
#undef COL_RENDER_FWD_LOGS
}

static void col_forward_totals(col_buf_t *b)
{
    col_buf_printf(b, "; forwarded to %s: %llu spans exported in %llu requests (%llu "
                      "retried), dropped %llu refused, %llu after retrying, %llu queue full, "
                      "%llu unsent at exit, %llu rejected in partial successes",
                   col_opt.fwd.url, col_fwd_count.exported_spans, col_fwd_count.requests,
                   col_fwd_count.retries, col_fwd_count.dropped_rejected,
                   col_fwd_count.dropped_retries, col_fwd_count.dropped_queue_full,
                   col_fwd_count.dropped_shutdown, col_fwd_count.partial_rejected);
    if (col_fwd_log_count.requests + col_fwd_log_count.dropped_queue_full +
        col_fwd_log_count.dropped_shutdown)
        col_buf_printf(b, "; log records forwarded to %s: %llu exported in %llu requests (%llu "
                          "retried), dropped %llu refused, %llu after retrying, %llu queue full, "
                          "%llu unsent at exit, %llu rejected in partial successes",
                       col_opt.fwd.logs_url, col_fwd_log_count.exported_spans,
                       col_fwd_log_count.requests, col_fwd_log_count.retries,
                       col_fwd_log_count.dropped_rejected, col_fwd_log_count.dropped_retries,
                       col_fwd_log_count.dropped_queue_full, col_fwd_log_count.dropped_shutdown,
                       col_fwd_log_count.partial_rejected);
}

const col_sink_t col_sink_forward = {
    .name = "forward",
    .wanted = col_forward_wanted,
    .start = col_forward_start,
    .take = col_forward_take,
    .needs_request = col_forward_needs_request,
    .stop = col_fwd_stop,
    .render = col_forward_render,
    .totals = col_forward_totals,
    .take_logs = col_forward_take_logs,
};
