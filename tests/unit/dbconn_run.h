/*
 * dbconn_run.h - a database conversation driven through the connection
 * core as the hooks drive it: the bytes the program writes go through
 * ss_conn_send to a recording "kernel" (wire.h), the bytes it reads
 * through ss_conn_on_recv, each segment whole, split once at a global
 * offset, or a few bytes at a time, and the connection ends as the test
 * says (the program closes it, the server closes it, a reset). The spans
 * the core exports are caught on their way to the batcher (the test is
 * linked with --wrap=ex_batch_add), encoded as the shim encodes them,
 * decoded by the collector's decoder and written one line each:
 *   name|kind|status|parent|attr=value ...
 * where parent is "served" (a child of the server span the test set up
 * in `dbc_parent`), "root" (a new trace) or "other".
 */
#ifndef TEST_DBCONN_RUN_H
#define TEST_DBCONN_RUN_H

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/ex_otlp.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"
#include "../../preload/ss_log.h"
#include "conn_io.h"
#include "wire.h"

/* One segment: read (in 1) or written (in 0) by the program; in
 * DBC_TLS_ON: a TLS session starts on the socket here, and what follows
 * is its plaintext. */
#define DBC_TLS_ON 2

typedef struct dbc_seg {
    int in;
    const uint8_t *p;
    size_t n;
} dbc_seg_t;

#define DBC_SEGS 1024

typedef struct dbc_conv {
    dbc_seg_t seg[DBC_SEGS];
    size_t n;
} dbc_conv_t;

typedef enum { DBC_CLOSE, DBC_EOF, DBC_RESET } dbc_end_t;

#define DBC_LOG_MAX (256 * 1024)

typedef struct dbc_out {
    char log[DBC_LOG_MAX];
    size_t len;
    int spans;
    int followed;        /* still followed when the conversation ended */
    uint64_t let_go, opaque, db; /* counters' growth */
} dbc_out_t;

/* The server span the spans should be children of (valid 0: none). */
static ss_ctx_t dbc_parent;
static dbc_out_t *dbc_cur;
/* Set by a test: the program accepted the connection (it is the server);
 * the wire may differ from what it wrote (the test reads dbc_w itself);
 * each line ends with " span=" and the span's id. */
static int dbc_server, dbc_rewritten, dbc_ids;
/* Optional: shown every span caught, as decoded. */
static void (*dbc_on_span)(const col_span_t *s);

static void dbc_add(dbc_conv_t *c, int in, const void *p, size_t n)
{
    if (c->n >= DBC_SEGS)
        abort();
    c->seg[c->n].in = in;
    c->seg[c->n].p = p;
    c->seg[c->n].n = n;
    c->n++;
}

#define DBC_LIT(c, in, lit) dbc_add(c, in, lit, sizeof(lit) - 1)

static size_t dbc_total(const dbc_conv_t *c)
{
    size_t t = 0, i;

    for (i = 0; i < c->n; i++)
        t += c->seg[i].n;
    return t;
}

static void dbc_logf(dbc_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dbc_logf(dbc_out_t *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    o->len += (size_t)vsnprintf(o->log + o->len, sizeof(o->log) - o->len, fmt, ap);
    va_end(ap);
    if (o->len >= sizeof(o->log) - 1)
        abort();
}

static void dbc_line(dbc_out_t *o, const col_span_t *s)
{
    const char *parent = "other";
    size_t i;

    if (s->parent_span_id.len == 0)
        parent = "root";
    else if (dbc_parent.valid && s->parent_span_id.len == 8 &&
             memcmp(s->parent_span_id.data, dbc_parent.span_id, 8) == 0 &&
             memcmp(s->trace_id.data, dbc_parent.trace_id, 16) == 0)
        parent = "served";
    dbc_logf(o, "%s|%d|%d|%s|", s->name, (int)s->kind, s->status ? (int)s->status->code : 0,
             parent);
    for (i = 0; i < s->n_attributes; i++) {
        const col_kv_t *kv = s->attributes[i];

        if (kv->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
            dbc_logf(o, "%s%s=%lld", i ? " " : "", kv->key, (long long)kv->value->int_value);
        else
            dbc_logf(o, "%s%s=%s", i ? " " : "", kv->key, kv->value->string_value);
    }
    for (i = 0; dbc_ids && i < s->span_id.len; i++)
        dbc_logf(o, "%s%02x", i ? "" : " span=", s->span_id.data[i]);
    dbc_logf(o, "\n");
}

void __wrap_ex_batch_add(const ss_span_t *s);

/* The batcher's door: the span as it would leave, read back. */
void __wrap_ex_batch_add(const ss_span_t *s)
{
    static uint8_t res[EX_RESOURCE_MAX], buf[EX_ENVELOPE_MAX + EX_SPAN_MAX];
    static size_t res_len;
    uint8_t body[EX_SPAN_MAX];
    size_t n = ex_otlp_span(s, body, sizeof(body)), env;
    col_request_t *r;

    if (n == 0)
        abort(); /* a database span always fits */
    if (s->type == SS_SPAN_DB) {
        /* Its connection's encoded attributes (ss_db.h) are the bytes its
         * own fields give: encoded field by field, the span is the same. */
        static ss_span_t plain;
        static uint8_t again[EX_SPAN_MAX];

        memcpy(&plain, s, sizeof(plain));
        plain.db.fixed = NULL;
        if (ex_otlp_span(&plain, again, sizeof(again)) != n || memcmp(again, body, n) != 0)
            abort();
    }
    if (res_len == 0) {
        ex_process_t p;

        memset(&p, 0, sizeof(p));
        p.pid = 1;
        p.service_name = p.exe_name = p.exe_path = p.command = p.host_name = "t";
        res_len = ex_otlp_resource(&p, res, sizeof(res));
    }
    env = ex_otlp_envelope(res, res_len, n, buf, sizeof(buf));
    memcpy(buf + env, body, n);
    r = col_request_unpack(env + n, buf);
    if (r == NULL || r->n_resource_spans != 1 || r->resource_spans[0]->n_scope_spans != 1 ||
        r->resource_spans[0]->scope_spans[0]->n_spans != 1)
        abort();
    if (dbc_cur) {
        dbc_cur->spans++;
        dbc_line(dbc_cur, r->resource_spans[0]->scope_spans[0]->spans[0]);
    }
    if (dbc_on_span)
        dbc_on_span(r->resource_spans[0]->scope_spans[0]->spans[0]);
    col_request_free(r);
}

static wire_t dbc_w;

/* ---- the request the thread serves ---------------------------------------- */

static int dbc_srv[2];

/* A server connection whose request head the program read: the thread
 * serves it, and dbc_parent is its span. */
static void dbc_serve(const char *head)
{
    struct iovec v = {(void *)head, strlen(head)};

    assert_int_equal(wire_pair(dbc_srv, 1, 0), 0);
    ss_conn_on_recv(dbc_srv[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    assert_true(ss_conn_thread_ctx(&dbc_parent));
}

/* The served connection closed, and the thread serves nothing. */
static void dbc_serve_end(void)
{
    ss_conn_on_close(dbc_srv[0]);
    close(dbc_srv[0]);
    close(dbc_srv[1]);
    ss_conn_thread_reset();
    memset(&dbc_parent, 0, sizeof(dbc_parent));
}

static char dbc_want[65536];
static size_t dbc_want_len;

/* Bytes of one direction as the program passes them: what it writes must
 * reach the wire as it is, what it reads is not touched. */
static void dbc_piece(ss_conn_t *tls, int fd, int in, const uint8_t *p, size_t n)
{
    static uint8_t buf[65536];

    memcpy(buf, p, n);
    if (in) {
        conn_io_read(tls, fd, buf, n);
    } else {
        ssize_t r = conn_io_write(tls, fd, buf, n, wire_send, &dbc_w);

        if (r != (ssize_t)n)
            fail_msg("a write of %zu bytes returned %zd", n, r);
        if (dbc_want_len + n > sizeof(dbc_want))
            abort();
        memcpy(dbc_want + dbc_want_len, p, n);
        dbc_want_len += n;
    }
    if (memcmp(buf, p, n) != 0)
        fail_msg("the program's buffer was changed");
}

/* A TLS session's connection on fd (-1: none), to 127.0.0.1:port as
 * wire_pair's are (the socketpair under it has no such peer). */
static ss_conn_t *dbc_tls_new(int fd, uint16_t port)
{
    ss_conn_t *tls = ss_conn_new_tls(fd, 0);

    assert_non_null(tls);
    tls->is_unix = 0;
    tls->peer_port = port;
    strcpy(tls->peer_addr, "127.0.0.1");
    return tls;
}

/* The conversation, segments split at global offset `cut` (0: none) or
 * fed `step` bytes at a time (0: whole); over a TLS session's plaintext
 * when tls. The connection is to 127.0.0.1:port and ends by `end`. */
static void dbc_run(const dbc_conv_t *c, uint16_t port, int tls_side, size_t cut, size_t step,
                    dbc_end_t end, dbc_out_t *o)
{
    uint64_t let_go = ss_count.conns_let_go, opaque = ss_count.conns_opaque,
             db = ss_count.conns_db;
    ss_conn_t *tls = NULL;
    size_t off = 0, i;
    int sp[2] = {-1, -1}, fd = -1;

    memset(&dbc_w, 0, sizeof(dbc_w));
    dbc_w.limit = sizeof(dbc_w.out);
    dbc_want_len = 0;
    o->len = 0;
    o->log[0] = '\0';
    o->spans = 0;
    dbc_cur = o;
    if (tls_side)
        tls = dbc_tls_new(-1, port);
    else
        assert_int_equal(wire_pair(sp, dbc_server, port), 0);
    fd = sp[0];
    for (i = 0; i < c->n; i++) {
        const dbc_seg_t *s = &c->seg[i];
        size_t at = 0, k;

        if (s->in == DBC_TLS_ON)
            tls = dbc_tls_new(fd, port);

        while (at < s->n) {
            if (step)
                k = s->n - at < step ? s->n - at : step;
            else if (cut > off + at && cut < off + s->n)
                k = cut - off - at;
            else
                k = s->n - at;
            dbc_piece(tls, fd, s->in, s->p + at, k);
            at += k;
        }
        off += s->n;
    }
    if (!dbc_rewritten &&
        (dbc_w.len != dbc_want_len || memcmp(dbc_w.out, dbc_want, dbc_want_len) != 0))
        fail_msg("cut %zu step %zu: the wire is not what the program wrote", cut, step);
    o->followed = tls ? tls->mode != SS_MODE_OPAQUE : ss_fd_followed(fd);
    if (end != DBC_CLOSE)
        conn_io_peer_end(tls, fd, end == DBC_EOF);
    if (tls) {
        ss_conn_end(tls);
        ss_conn_put(tls);
    }
    if (fd >= 0) {
        ss_conn_on_close(sp[0]);
        close(sp[0]);
        close(sp[1]);
    }
    dbc_cur = NULL;
    o->let_go = ss_count.conns_let_go - let_go;
    o->opaque = ss_count.conns_opaque - opaque;
    o->db = ss_count.conns_db - db;
}

static void dbc_same(const dbc_out_t *a, const dbc_out_t *b, size_t cut, size_t step)
{
    if (strcmp(a->log, b->log) != 0)
        fail_msg("cut %zu step %zu gave\n%s\nwhole gave\n%s", cut, step, b->log, a->log);
    if (a->followed != b->followed || a->let_go != b->let_go || a->opaque != b->opaque ||
        a->db != b->db)
        fail_msg("cut %zu step %zu: followed %d let go %llu opaque %llu db %llu, whole "
                 "%d %llu %llu %llu", cut, step, b->followed, (unsigned long long)b->let_go,
                 (unsigned long long)b->opaque, (unsigned long long)b->db, a->followed,
                 (unsigned long long)a->let_go, (unsigned long long)a->opaque,
                 (unsigned long long)a->db);
}

static dbc_out_t dbc_whole, dbc_part;

/* Whole, split in two at every byte, 1 and 3 bytes at a time: the same
 * spans and the same fate; the whole run is left in dbc_whole. */
static const dbc_out_t *dbc_every_split(const dbc_conv_t *c, uint16_t port, int tls,
                                        dbc_end_t end)
{
    size_t total = dbc_total(c), cut;
    static const size_t steps[] = {1, 3};

    dbc_run(c, port, tls, 0, 0, end, &dbc_whole);
    for (cut = 1; cut < total; cut++) {
        dbc_run(c, port, tls, cut, 0, end, &dbc_part);
        dbc_same(&dbc_whole, &dbc_part, cut, 0);
    }
    for (cut = 0; cut < sizeof(steps) / sizeof(steps[0]); cut++) {
        dbc_run(c, port, tls, 0, steps[cut], end, &dbc_part);
        dbc_same(&dbc_whole, &dbc_part, 0, steps[cut]);
    }
    return &dbc_whole;
}

/* The log is exactly these lines (NULL-terminated). */
static void dbc_expect(const dbc_out_t *o, const char *const *lines)
{
    char want[DBC_LOG_MAX];
    size_t len = 0;

    for (; *lines; lines++)
        len += (size_t)snprintf(want + len, sizeof(want) - len, "%s\n", *lines);
    if (strcmp(o->log, want) != 0)
        fail_msg("spans:\n%s\nwanted:\n%s", o->log, want);
}

#endif
