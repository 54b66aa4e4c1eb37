/*
 * col_otlp_http.c - the OTLP/HTTP receiver (see col_otlp_http.h).
 *
 * GNU libmicrohttpd serves it, as it serves /metrics: one polling thread
 * a listener, each request read into memory up to the cap, then decoded
 * there (protobuf-c with the datagrams' bounds, or OTLP/JSON), checked,
 * and put into the queue before it is answered, so a 200 means the spans
 * are the collector's. A request is decoded once more on the main thread,
 * as every queued request is: the receiver must decode anyway to answer
 * 400 or partial_success, and the queue holds one kind of thing.
 *
 * POST /v1/logs takes an ExportLogsServiceRequest by the same rules and
 * limits (types, gzip, the caps, 400/413/415/503); it is queued after the
 * logs frame (col_logs.h), as a shim's logs datagram is. A record's ids
 * are not checked: one whose trace_id or span_id is not valid is, as the
 * logs data model says, a record of no trace, not an error.
 */
#define _GNU_SOURCE
#include "col_otlp_http.h"
#include "col_http.h"
#include "col_json.h"
#include "col_log.h"
#include "col_logs.h"
#include "col_options.h"
#include "col_otlp.h"
#include "col_otlp_jsonin.h"
#include "col_queue.h"
#include "col_shimloss.h"
#include "col_socket.h"
#include "col_stats.h"
#include "status.pb-c.h"

#include <microhttpd.h>
#include <netdb.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#define COL_OTLP_PATH "/v1/traces"
#define COL_OTLP_LOGS_PATH "/v1/logs"
#define COL_RETRY_AFTER "1" /* seconds: the main thread empties the queue in far less */
/* A body must be whole within this: libmicrohttpd closes a connection idle
 * for 10 s, and this ends one that trickles (a byte every few seconds
 * would otherwise hold its share of the bodies' budget for ever). */
#define COL_OTLP_BODY_MS 30000

typedef enum { COL_ENC_NONE, COL_ENC_PROTOBUF, COL_ENC_JSON } col_enc_t;

/* One request being received. */
typedef struct {
    col_enc_t enc;
    int gzip;
    int too_large; /* the body passed the cap: the rest is read and dropped */
    int too_busy;  /* the bodies being received hold too much: the same, then 503 */
    int logs;      /* POST /v1/logs: an ExportLogsServiceRequest */
    size_t held;   /* bytes of body counted in col_otlp_held */
    uint64_t started_ms; /* when the request's head came */
    col_buf_t body;
} col_post_t;

/* Bytes of the bodies being received now, every connection's: at most
 * COL_OTLP_HELD_BODIES bodies' worth (64 connections each sending a body
 * of the cap at once would hold 64 of them). */
#define COL_OTLP_HELD_BODIES 4
static size_t col_otlp_held;

/* A body decoded, or one that will not be, gives back what it held at
 * once, not when its connection is done (which may come after its answer
 * is read, and after the next body was refused for want of that room). */
static void col_post_drop(col_post_t *p)
{
    if (p->held)
        __atomic_sub_fetch(&col_otlp_held, p->held, __ATOMIC_RELAXED);
    p->held = 0;
    col_buf_free(&p->body);
}

/* An answer: status, and what Status.message or the text says. */
typedef struct {
    unsigned status;
    char msg[256];
} col_answer_t;

static struct MHD_Daemon *col_otlp_mhd[COL_OTLP_LISTEN_MAX];
static int col_otlp_n;

/* ---- what the request is ------------------------------------------------ */

/* Content-Type's media type (parameters after ';' ignored, any case). */
static col_enc_t col_content_type(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n;

    if (v == NULL)
        return COL_ENC_NONE;
    v += strspn(v, " \t");
    n = strcspn(v, "; \t");
    if (n == 22 && strncasecmp(v, "application/x-protobuf", n) == 0)
        return COL_ENC_PROTOBUF;
    if (n == 16 && strncasecmp(v, "application/json", n) == 0)
        return COL_ENC_JSON;
    return COL_ENC_NONE;
}

/* Who sent it, for a log line: an address, or the Unix socket's peer. */
static void col_peer(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred who;
    socklen_t len = sizeof(who);

    snprintf(out, cap, "a client");
    if (ci && ci->client_addr && ci->client_addr->sa_family != AF_UNIX) {
        socklen_t salen = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                 : sizeof(struct sockaddr_in);

        if (getnameinfo(ci->client_addr, salen, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST))
            snprintf(out, cap, "a client");
    } else if (fd && getsockopt(fd->connect_fd, SOL_SOCKET, SO_PEERCRED, &who, &len) == 0) {
        snprintf(out, cap, "pid %d uid %u on the Unix socket", (int)who.pid, (unsigned)who.uid);
    }
}

/* ---- answers ------------------------------------------------------------ */

/* google.rpc.Code for a status, as gRPC maps HTTP's. */
static int col_rpc_code(unsigned status)
{
    switch (status) {
    case MHD_HTTP_NOT_FOUND:
        return 5; /* NOT_FOUND */
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        return 12; /* UNIMPLEMENTED */
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        return 14; /* UNAVAILABLE */
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return 8; /* RESOURCE_EXHAUSTED */
    case MHD_HTTP_INTERNAL_SERVER_ERROR:
        return 13; /* INTERNAL */
    default:
        return 3; /* INVALID_ARGUMENT */
    }
}

static enum MHD_Result col_send(struct MHD_Connection *c, unsigned status, col_enc_t enc,
                                const void *body, size_t len)
{
    static const char *const types[] = {"text/plain; charset=utf-8", "application/x-protobuf",
                                        "application/json"};
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, types[enc]);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, COL_RETRY_AFTER);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A failure: a google.rpc.Status in the request's encoding (text when it
 * has none of OTLP's), logged with who sent it. */
static enum MHD_Result col_fail(struct MHD_Connection *c, col_enc_t enc, const col_answer_t *a)
{
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    uint8_t pb[sizeof(a->msg) + 16];
    col_buf_t b = {0};
    enum MHD_Result ret;
    char peer[128];

    if (col_log_allowed()) {
        col_peer(c, peer, sizeof(peer));
        fprintf(stderr, "spanshim-collector: OTLP/HTTP: answered %u to %s: %s\n", a->status, peer,
                a->msg);
    }
    st.code = col_rpc_code(a->status);
    st.message = (char *)a->msg;
    if (enc == COL_ENC_PROTOBUF)
        return col_send(c, a->status, enc, pb, google__rpc__status__pack(&st, pb));
    if (enc == COL_ENC_JSON) {
        col_buf_printf(&b, "{\"code\":%d,\"message\":", st.code);
        col_json_string(&b, a->msg);
        col_buf_puts(&b, "}");
    } else {
        col_buf_printf(&b, "%s\n", a->msg);
    }
    ret = b.oom ? MHD_NO : col_send(c, a->status, enc, b.p, b.len);
    col_buf_free(&b);
    return ret;
}

static enum MHD_Result col_failf(struct MHD_Connection *c, col_enc_t enc, unsigned status,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result col_failf(struct MHD_Connection *c, col_enc_t enc, unsigned status,
                                 const char *fmt, ...)
{
    col_answer_t a = {.status = status};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a.msg, sizeof(a.msg), fmt, ap);
    va_end(ap);
    return col_fail(c, enc, &a);
}

/* 200: an ExportTraceServiceResponse, partial_success set if any span was
 * rejected. */
static enum MHD_Result col_accept(struct MHD_Connection *c, col_enc_t enc, size_t rejected)
{
    static const char why[] = "spans need a trace_id of 16 bytes and a span_id of 8 (neither all "
                              "zero) and a parent_span_id empty or of 8 bytes";
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse r =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    uint8_t pb[sizeof(why) + 32];
    char json[sizeof(why) + 96];

    if (rejected) {
        ps.rejected_spans = (int64_t)rejected;
        ps.error_message = (char *)why;
        r.partial_success = &ps;
    }
    if (enc == COL_ENC_PROTOBUF)
        return col_send(c, MHD_HTTP_OK, enc, pb,
                        opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
                            &r, pb));
    if (rejected)
        snprintf(json, sizeof(json),
                 "{\"partialSuccess\":{\"rejectedSpans\":\"%zu\",\"errorMessage\":\"%s\"}}",
                 rejected, why);
    else
        snprintf(json, sizeof(json), "{}");
    return col_send(c, MHD_HTTP_OK, enc, json, strlen(json));
}

/* ---- the body ----------------------------------------------------------- */

/* The gzip body inflated into out, at most max bytes: 1, or 0 with a. */
static int col_gunzip(const col_buf_t *in, size_t max, col_buf_t *out, col_answer_t *a)
{
    z_stream z;
    int rc = Z_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        a->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        snprintf(a->msg, sizeof(a->msg), "cannot inflate: out of memory");
        return 0;
    }
    z.next_in = (Bytef *)in->p;
    z.avail_in = (uInt)in->len;
    while (rc == Z_OK) {
        size_t room = out->len < 65536 ? 65536 : out->len;

        if (out->len + room > max + 1)
            room = max + 1 - out->len;
        if (room == 0 || !col_buf_grow(out, room))
            break;
        z.next_out = (Bytef *)out->p + out->len;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break; /* the stream ended early */
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END && z.avail_in == 0)
        return 1;
    if (out->len > max) {
        a->status = MHD_HTTP_CONTENT_TOO_LARGE;
        snprintf(a->msg, sizeof(a->msg), "the body inflates to more than %zu MiB (--otlp-max-mb)",
                 max >> 20);
    } else {
        a->status = out->oom ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST;
        snprintf(a->msg, sizeof(a->msg), "%s",
                 out->oom              ? "cannot inflate: out of memory"
                 : rc == Z_STREAM_END ? "bytes after the gzip stream"
                                      : "Content-Encoding is gzip, but the body is not gzip");
    }
    return 0;
}

/* The request decoded, protobuf or JSON: NULL with a if it is refused. */
static col_request_t *col_decode_body(col_arena_t *ar, col_enc_t enc, const col_buf_t *body,
                                      col_answer_t *a)
{
    col_jsonin_why_t jw;
    col_decode_err_t why;
    col_request_t *r;

    if (enc == COL_ENC_PROTOBUF) {
        r = col_request_decode(ar, (const uint8_t *)body->p, body->len, &why);
        if (r == NULL) {
            a->status = why == COL_DECODE_TOO_BIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
            snprintf(a->msg, sizeof(a->msg), "the body %s", col_decode_reason(why));
        }
        return r;
    }
    r = col_jsonin_request(ar, body->len ? body->p : "", body->len, &jw);
    if (r == NULL) {
        a->status = jw.err == COL_JSONIN_TOO_BIG || jw.err == COL_JSONIN_TOO_MANY
                        ? MHD_HTTP_CONTENT_TOO_LARGE
                        : MHD_HTTP_BAD_REQUEST;
        snprintf(a->msg, sizeof(a->msg), "not an OTLP/JSON ExportTraceServiceRequest: %s", jw.msg);
    }
    return r;
}

static int col_span_ok(const col_span_t *s)
{
    return col_id_valid(s->trace_id, 16) && col_id_valid(s->span_id, 8) &&
           (s->parent_span_id.len == 0 || s->parent_span_id.len == 8);
}

/* Drop the spans whose ids are not valid from r: how many went; *kept the
 * rest. */
static size_t col_reject_bad_ids(col_request_t *r, size_t *kept)
{
    size_t i, j, k, n, gone = 0;

    *kept = 0;
    for (i = 0; i < r->n_resource_spans; i++)
        for (j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            col_scope_spans_t *ss = r->resource_spans[i]->scope_spans[j];

            for (k = n = 0; k < ss->n_spans; k++)
                if (col_span_ok(ss->spans[k]))
                    ss->spans[n++] = ss->spans[k];
            gone += ss->n_spans - n;
            *kept += n;
            ss->n_spans = n;
        }
    return gone;
}

/* The shims' loss bookkeeping out of one resource (col_shimloss.h): no
 * client of the port may report what the shims lost. How many went. */
static size_t col_strip_loss_res(col_resource_t *res)
{
    size_t j, kept, gone;

    if (res == NULL)
        return 0;
    for (j = kept = 0; j < res->n_attributes; j++)
        if (!col_shimloss_key(res->attributes[j]->key))
            res->attributes[kept++] = res->attributes[j];
    gone = res->n_attributes - kept;
    res->n_attributes = kept;
    return gone;
}

/* ... out of every resource of a traces request. */
static size_t col_strip_loss(col_request_t *r)
{
    size_t i, gone = 0;

    for (i = 0; i < r->n_resource_spans; i++)
        gone += col_strip_loss_res(r->resource_spans[i]->resource);
    return gone;
}

/* Into the queue as protobuf: the body as it came, or r packed again when
 * it came as JSON or lost spans. 0 when the queue is full. */
static int col_enqueue(struct MHD_Connection *c, col_request_t *r, const col_buf_t *body,
                       int repack)
{
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred who = {0, (uid_t)-1, (gid_t)-1};
    socklen_t len = sizeof(who);
    uint8_t *pb;
    size_t n;
    int ok;

    if (fd && getsockopt(fd->connect_fd, SOL_SOCKET, SO_PEERCRED, &who, &len) < 0)
        who.uid = (uid_t)-1; /* not a Unix socket: nobody's */
    if (!repack)
        return col_queue_put((const uint8_t *)body->p, body->len, COL_FROM_OTLP_HTTP, who.pid,
                             who.uid);
    n = protobuf_c_message_get_packed_size(&r->base);
    if ((pb = malloc(n ? n : 1)) == NULL)
        return 0;
    protobuf_c_message_pack(&r->base, pb);
    ok = col_queue_put(pb, n, COL_FROM_OTLP_HTTP, who.pid, who.uid);
    free(pb);
    return ok;
}

/* Log records into the queue, after the logs frame: the body as it came,
 * or r packed again when it came as JSON or lost the shims' attributes. */
static int col_enqueue_logs(struct MHD_Connection *c, col_logs_request_t *r,
                            const col_buf_t *body, int repack)
{
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred who = {0, (uid_t)-1, (gid_t)-1};
    socklen_t len = sizeof(who);
    size_t n = repack ? protobuf_c_message_get_packed_size(&r->base) : body->len;
    uint8_t *pb = malloc(COL_FRAME_LEN + n);
    int ok;

    if (fd && getsockopt(fd->connect_fd, SOL_SOCKET, SO_PEERCRED, &who, &len) < 0)
        who.uid = (uid_t)-1;
    if (pb == NULL)
        return 0;
    memcpy(pb, COL_FRAME_LOGS, COL_FRAME_LEN);
    if (repack)
        protobuf_c_message_pack(&r->base, pb + COL_FRAME_LEN);
    else if (n)
        memcpy(pb + COL_FRAME_LEN, body->p, n);
    ok = col_queue_put(pb, COL_FRAME_LEN + n, COL_FROM_OTLP_HTTP, who.pid, who.uid);
    free(pb);
    return ok;
}

/* The logs request decoded, protobuf or JSON: NULL with a if refused. */
static col_logs_request_t *col_decode_logs_body(col_arena_t *ar, col_enc_t enc,
                                                const col_buf_t *body, col_answer_t *a)
{
    col_jsonin_why_t jw;
    col_decode_err_t why;
    col_logs_request_t *r;

    if (enc == COL_ENC_PROTOBUF) {
        r = col_logs_request_decode(ar, (const uint8_t *)body->p, body->len, &why);
        if (r == NULL) {
            a->status = why == COL_DECODE_TOO_BIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
            snprintf(a->msg, sizeof(a->msg), "the body %s",
                     why == COL_DECODE_MALFORMED ? "is not an OTLP ExportLogsServiceRequest"
                                                 : col_decode_reason(why));
        }
        return r;
    }
    r = (col_logs_request_t *)col_jsonin_decode(
        &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor, ar,
        body->len ? body->p : "", body->len, &jw);
    if (r == NULL) {
        a->status = jw.err == COL_JSONIN_TOO_BIG || jw.err == COL_JSONIN_TOO_MANY
                        ? MHD_HTTP_CONTENT_TOO_LARGE
                        : MHD_HTTP_BAD_REQUEST;
        snprintf(a->msg, sizeof(a->msg), "not an OTLP/JSON ExportLogsServiceRequest: %s", jw.msg);
    }
    return r;
}

/* ... out of every resource of a logs request. */
static size_t col_strip_loss_logs(col_logs_request_t *r)
{
    size_t i, gone = 0;

    for (i = 0; i < r->n_resource_logs; i++)
        gone += col_strip_loss_res(r->resource_logs[i]->resource);
    return gone;
}

/* 200: an (empty) ExportLogsServiceResponse. */
static enum MHD_Result col_accept_logs(struct MHD_Connection *c, col_enc_t enc)
{
    if (enc == COL_ENC_PROTOBUF)
        return col_send(c, MHD_HTTP_OK, enc, "", 0); /* no field set: no bytes */
    return col_send(c, MHD_HTTP_OK, enc, "{}", 2);
}

/* The whole logs body is here (inflated into body): decode, queue, answer. */
static enum MHD_Result col_finish_logs(struct MHD_Connection *c, col_post_t *p,
                                       const col_buf_t *body, col_answer_t *a)
{
    col_arena_t *ar = NULL;
    col_logs_request_t *r = NULL;
    size_t n = 0;
    enum MHD_Result ret;

    if (a->status == 0 && (ar = col_arena_new()) == NULL) {
        a->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        snprintf(a->msg, sizeof(a->msg), "out of memory");
    }
    if (a->status == 0 && (r = col_decode_logs_body(ar, p->enc, body, a)) != NULL) {
        size_t loss = col_strip_loss_logs(r);

        n = col_logs_count(r);
        if (loss) {
            COL_COUNT(http_loss_attrs, loss);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: OTLP/HTTP: ignored %zu shim loss "
                                "attributes of a logs request: only shims report those\n", loss);
        }
        if (n && !col_enqueue_logs(c, r, body, loss || p->enc == COL_ENC_JSON)) {
            a->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            snprintf(a->msg, sizeof(a->msg), "the collector is behind: retry after %s s",
                     COL_RETRY_AFTER);
        }
    }
    if (a->status == 0) {
        COL_COUNT(http_log_records, n);
        ret = col_accept_logs(c, p->enc);
    } else {
        if (a->status == MHD_HTTP_SERVICE_UNAVAILABLE)
            COL_COUNT(http_queue_full, 1);
        else if (a->status == MHD_HTTP_CONTENT_TOO_LARGE)
            COL_COUNT(http_too_large, 1);
        else
            COL_COUNT(http_bad, 1);
        ret = col_fail(c, p->enc, a);
    }
    col_arena_free(ar);
    return ret;
}

/* The whole body is here: decode, check, queue, answer. */
static enum MHD_Result col_finish(struct MHD_Connection *c, col_post_t *p)
{
    col_answer_t a = {0};
    col_buf_t inflated = {0}, *body = &p->body;
    col_arena_t *ar = NULL;
    col_request_t *r = NULL;
    size_t rejected = 0, kept = 0;
    enum MHD_Result ret;

    if (p->too_large) {
        COL_COUNT(http_too_large, 1);
        return col_failf(c, p->enc, MHD_HTTP_CONTENT_TOO_LARGE,
                         "the body is over %zu MiB (--otlp-max-mb)", col_opt.otlp_max_body >> 20);
    }
    if (p->too_busy) {
        COL_COUNT(http_queue_full, 1);
        return col_failf(c, p->enc, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "the collector is receiving too much at once: retry after %s s",
                         COL_RETRY_AFTER);
    }
    if (p->gzip && col_gunzip(&p->body, col_opt.otlp_max_body, &inflated, &a))
        body = &inflated;
    if (p->logs) {
        ret = col_finish_logs(c, p, body, &a);
        col_buf_free(&inflated);
        col_post_drop(p);
        return ret;
    }
    if (a.status == 0 && (ar = col_arena_new()) == NULL) {
        a.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        snprintf(a.msg, sizeof(a.msg), "out of memory");
    }
    if (a.status == 0 && (r = col_decode_body(ar, p->enc, body, &a)) != NULL) {
        size_t loss = col_strip_loss(r);

        rejected = col_reject_bad_ids(r, &kept);
        if (loss) {
            COL_COUNT(http_loss_attrs, loss);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: OTLP/HTTP: ignored %zu shim loss "
                                "attributes of a request: only shims report those\n", loss);
        }
        if (kept && !col_enqueue(c, r, body, rejected || loss || p->enc == COL_ENC_JSON)) {
            a.status = MHD_HTTP_SERVICE_UNAVAILABLE;
            snprintf(a.msg, sizeof(a.msg), "the collector is behind: retry after %s s",
                     COL_RETRY_AFTER);
        }
    }
    if (a.status == 0) {
        COL_COUNT(http_spans, kept);
        COL_COUNT(http_rejected, rejected);
        if (rejected && col_log_allowed())
            fprintf(stderr, "spanshim-collector: OTLP/HTTP: rejected %zu spans of a request for "
                            "their ids (%llu so far)\n",
                    rejected, __atomic_load_n(&col_count.http_rejected, __ATOMIC_RELAXED));
        ret = col_accept(c, p->enc, rejected);
    } else {
        if (a.status == MHD_HTTP_SERVICE_UNAVAILABLE)
            COL_COUNT(http_queue_full, 1);
        else if (a.status == MHD_HTTP_CONTENT_TOO_LARGE)
            COL_COUNT(http_too_large, 1);
        else
            COL_COUNT(http_bad, 1);
        ret = col_fail(c, p->enc, &a);
    }
    col_arena_free(ar);
    col_buf_free(&inflated);
    col_post_drop(p);
    return ret;
}

/* ---- libmicrohttpd's callbacks ------------------------------------------ */

/* The headers: refused now if the path, method, type, encoding or length
 * says so (the body is then not read), else a col_post_t to read into. */
static enum MHD_Result col_begin(struct MHD_Connection *c, const char *url, const char *method,
                                 void **state)
{
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    col_enc_t enc = col_content_type(c);
    int logs = strcmp(url, COL_OTLP_LOGS_PATH) == 0;
    col_post_t *p;

    if (!logs && strcmp(url, COL_OTLP_PATH) != 0) {
        COL_COUNT(http_not_found, 1);
        return col_failf(c, enc, MHD_HTTP_NOT_FOUND, "no %.100s here: OTLP/HTTP traces go to "
                         COL_OTLP_PATH ", logs to " COL_OTLP_LOGS_PATH, url);
    }
    if (strcmp(method, "POST") != 0) {
        COL_COUNT(http_method, 1);
        return col_failf(c, enc, MHD_HTTP_METHOD_NOT_ALLOWED, "%.20s: %s takes POST", method,
                         logs ? COL_OTLP_LOGS_PATH : COL_OTLP_PATH);
    }
    if (enc == COL_ENC_NONE) {
        COL_COUNT(http_media, 1);
        return col_failf(c, enc, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                         "Content-Type must be application/x-protobuf or application/json");
    }
    if (ce && strcasecmp(ce, "gzip") != 0 && strcasecmp(ce, "identity") != 0) {
        COL_COUNT(http_media, 1);
        return col_failf(c, enc, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                         "Content-Encoding %.40s: only gzip is taken", ce);
    }
    if (logs) {
        COL_COUNT(http_logs_pb, enc == COL_ENC_PROTOBUF);
        COL_COUNT(http_logs_json, enc == COL_ENC_JSON);
    } else {
        COL_COUNT(http_pb, enc == COL_ENC_PROTOBUF);
        COL_COUNT(http_json, enc == COL_ENC_JSON);
    }
    if (cl && strtoull(cl, NULL, 10) > col_opt.otlp_max_body) {
        COL_COUNT(http_too_large, 1);
        return col_failf(c, enc, MHD_HTTP_CONTENT_TOO_LARGE,
                         "the body is over %zu MiB (--otlp-max-mb)", col_opt.otlp_max_body >> 20);
    }
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return MHD_NO;
    p->enc = enc;
    p->logs = logs;
    p->gzip = ce && strcasecmp(ce, "gzip") == 0;
    p->started_ms = col_now_ms();
    *state = p;
    return MHD_YES;
}

static enum MHD_Result col_otlp_answer(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *upload, size_t *upload_len, void **state)
{
    col_post_t *p = *state;

    (void)cls, (void)version;
    if (p == NULL)
        return col_begin(c, url, method, state);
    if (*upload_len) {
        size_t n = *upload_len;

        if (col_now_ms() - p->started_ms > COL_OTLP_BODY_MS) {
            COL_COUNT(http_too_slow, 1);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: OTLP/HTTP: a body not whole after %d s: "
                                "connection closed\n", COL_OTLP_BODY_MS / 1000);
            return MHD_NO; /* closed; col_otlp_done gives back what it held */
        }
        if (p->too_large || p->body.len + n > col_opt.otlp_max_body) {
            col_post_drop(p);
            p->too_large = 1; /* read on, keep nothing, answer 413 at the end */
        } else if (p->too_busy || __atomic_add_fetch(&col_otlp_held, n, __ATOMIC_RELAXED) >
                                      COL_OTLP_HELD_BODIES * col_opt.otlp_max_body) {
            if (!p->too_busy)
                __atomic_sub_fetch(&col_otlp_held, n, __ATOMIC_RELAXED);
            col_post_drop(p);
            p->too_busy = 1; /* the same, and 503 at the end */
        } else {
            p->held += n;
            col_buf_put(&p->body, upload, n);
        }
        *upload_len = 0;
        return p->body.oom ? MHD_NO : MHD_YES;
    }
    return col_finish(c, p);
}

static void col_otlp_done(void *cls, struct MHD_Connection *c, void **state,
                          enum MHD_RequestTerminationCode why)
{
    col_post_t *p = *state;

    (void)cls, (void)c, (void)why;
    if (p) {
        __atomic_sub_fetch(&col_otlp_held, p->held, __ATOMIC_RELAXED);
        col_buf_free(&p->body);
        free(p);
    }
    *state = NULL;
}

/* ---- listening ---------------------------------------------------------- */

static struct MHD_Daemon *col_otlp_listen(const char *addr)
{
    struct MHD_Daemon *d;
    int fd;

    if (strncmp(addr, "unix:", 5) != 0)
        return col_http_listen_done(addr, "--otlp-listen", "OTLP/HTTP", col_otlp_answer,
                                    col_otlp_done, NULL, NULL);
    if ((fd = col_socket_listen(addr + 5, col_opt.socket_group)) < 0)
        return NULL;
    d = col_http_listen_fd(fd, addr, "OTLP/HTTP", col_otlp_answer, col_otlp_done, NULL);
    if (d == NULL)
        close(fd);
    return d;
}

int col_otlp_http_start(void)
{
    int i;

    for (i = 0; i < col_opt.n_otlp_listen; i++) {
        struct MHD_Daemon *d = col_otlp_listen(col_opt.otlp_listen[i]);

        if (d == NULL) {
            col_otlp_http_stop();
            return 0;
        }
        col_otlp_mhd[col_otlp_n++] = d;
    }
    return 1;
}

void col_otlp_http_stop(void)
{
    while (col_otlp_n > 0)
        MHD_stop_daemon(col_otlp_mhd[--col_otlp_n]);
}
