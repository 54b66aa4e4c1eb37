/*
 * fuzz_dbconn.c - libFuzzer target for the connection core with its
 * protocol modules: detection from either direction, and the database
 * modules behind ss_db_conn.c, over one client connection driven as the
 * hooks drive it (ss_conn_send through a recording "kernel",
 * ss_conn_on_recv), then ended by a close, the peer's EOF or a reset.
 *
 * The input: a first byte choosing the peer's port (PostgreSQL's,
 * MySQL's, Redis's or another), whether the bytes are a TLS session's
 * plaintext, how the connection ends, and after which chunk (1-7; 0:
 * none) a TLS session starts on the socket and takes the rest of the
 * conversation as its plaintext (the hand-over after "tls"); then chunks,
 * each a header byte (high bit: read, else written; low bits: length - 1)
 * and its bytes. Trace headers are off (HTTP/1 would get one). The
 * conversation is fed twice, in its chunks and byte by byte: both must
 * export the same spans and count the same let-go and opaque connections.
 * Always: the bytes on the wire are exactly the bytes written, a read
 * buffer is never touched, every exported span encodes and has its
 * strings NUL-terminated within their fields, and no more spans than
 * commands could have begun (one per byte written). The seeds include
 * AJP13 conversations (mod_proxy_ajp's side of the AJP module).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "../../exporter/ex_otlp.h"
#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"
#include "../../preload/ss_log.h"
#include "../unit/conn_io.h"

typedef struct run {
    uint64_t spans, hash, out_bytes;
    uint8_t wire[1 << 16];
    size_t wire_len;
} run_t;

static run_t *cur;
static int sp[2] = {-1, -1};

static void mix(run_t *r, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        r->hash = (r->hash ^ b[i]) * 1099511628211ULL;
    r->hash = (r->hash ^ 0xff) * 1099511628211ULL;
}

static void mix_str(run_t *r, const char *f, size_t cap)
{
    const char *end = memchr(f, '\0', cap);

    if (end == NULL)
        abort();
    mix(r, f, (size_t)(end - f));
}

void __wrap_ex_batch_add(const ss_span_t *s);

/* Where a span would leave: it must encode; its fields are hashed. */
void __wrap_ex_batch_add(const ss_span_t *s)
{
    static uint8_t buf[EX_SPAN_MAX];
    const ss_db_op_t *op = &s->db.op;

    if (ex_otlp_span(s, buf, sizeof(buf)) == 0)
        abort();
    if (cur == NULL)
        return;
    cur->spans++;
    mix(cur, &s->type, 1);
    mix(cur, &s->kind, 1);
    mix_str(cur, s->error_type, sizeof(s->error_type));
    if (s->type != SS_SPAN_DB)
        return;
    mix_str(cur, s->db.system, 64);
    mix_str(cur, op->operation, sizeof(op->operation));
    mix_str(cur, op->collection, sizeof(op->collection));
    mix_str(cur, op->namespace_, sizeof(op->namespace_));
    mix_str(cur, op->query_text, sizeof(op->query_text));
    mix_str(cur, op->summary, sizeof(op->summary));
    mix_str(cur, op->status_code, sizeof(op->status_code));
    mix(cur, &op->batch_size, sizeof(op->batch_size));
    mix(cur, &op->error, 1);
}

/* The kernel: takes everything, keeps it. */
static ssize_t take(void *arg, const struct iovec *iov, int cnt)
{
    run_t *r = arg;
    size_t took = 0;

    for (int i = 0; i < cnt; i++) {
        if (r->wire_len + iov[i].iov_len > sizeof(r->wire))
            abort();
        memcpy(r->wire + r->wire_len, iov[i].iov_base, iov[i].iov_len);
        r->wire_len += iov[i].iov_len;
        took += iov[i].iov_len;
    }
    return (ssize_t)took;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SPANSHIM_SOCKET", "/nonexistent/spanshim-fuzz.sock", 1);
    setenv("SPANSHIM_LOG", "error", 1);
    ss_config_load();
    ss_cfg.propagate = 0; /* HTTP/1 gets no header: every byte on the wire is the program's */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
        abort();
    return 0;
}

/* Bytes of one direction, as the program passes them. */
static void piece(run_t *r, ss_conn_t *tls, int in, const uint8_t *p, size_t n)
{
    static uint8_t buf[256];

    memcpy(buf, p, n);
    if (in) {
        conn_io_read(tls, sp[0], buf, n);
    } else {
        if (conn_io_write(tls, sp[0], buf, n, take, r) != (ssize_t)n)
            abort();
        r->out_bytes += n;
    }
    if (memcmp(buf, p, n) != 0)
        abort();
}

static const uint16_t ports[] = {5432, 3306, 6379, 8080};

/* The conversation in its chunks (step 0) or step bytes at a time. */
static void feed(const uint8_t *data, size_t size, size_t step, run_t *r)
{
    struct sockaddr_in sa;
    ss_conn_t *tls = NULL;
    uint8_t mode = size ? data[0] : 0;
    size_t i = 1, chunks = 0, tls_at = mode >> 5; /* chunks before a TLS session; 0: none */
    uint8_t *want = malloc(size + 1);
    size_t want_len = 0;

    if (want == NULL)
        abort();

    memset(r, 0, sizeof(*r));
    cur = r;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(ports[mode & 3]);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (mode & 4) {
        tls = ss_conn_new_tls(-1, 0);
        if (tls == NULL)
            abort();
        tls->peer_port = ports[mode & 3];
    } else {
        ss_conn_on_connect(sp[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    }
    while (i < size) {
        int in = data[i] & 0x80;
        size_t n = (size_t)(data[i] & 0x7f) + 1;

        if (tls == NULL && tls_at && chunks++ == tls_at) {
            tls = ss_conn_new_tls(sp[0], 0); /* takes what the socket's module kept */
            if (tls == NULL)
                abort();
            tls->is_unix = 0;
            tls->peer_port = ports[mode & 3];
        }
        i++;
        if (n > size - i)
            n = size - i;
        for (size_t k = 0; k < n;) {
            size_t m = step && step < n - k ? step : n - k;

            piece(r, tls, in, data + i + k, m);
            k += m;
        }
        if (!in) {
            memcpy(want + want_len, data + i, n);
            want_len += n;
        }
        i += n;
    }
    if (r->wire_len != want_len || memcmp(r->wire, want, want_len) != 0)
        abort();
    free(want);
    if ((mode >> 3) & 3)
        conn_io_peer_end(tls, sp[0], ((mode >> 3) & 3) == 1);
    if (tls) {
        ss_conn_end(tls);
        ss_conn_put(tls);
    }
    if (!(mode & 4))
        ss_conn_on_close(sp[0]);
    cur = NULL;
    if (r->spans > r->out_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t a, b;
    uint64_t let_go = ss_count.conns_let_go, opaque = ss_count.conns_opaque;
    uint64_t let_go_a, opaque_a;

    feed(data, size, 0, &a);
    let_go_a = ss_count.conns_let_go - let_go;
    opaque_a = ss_count.conns_opaque - opaque;
    let_go = ss_count.conns_let_go;
    opaque = ss_count.conns_opaque;
    feed(data, size, 1, &b);
    if (a.spans != b.spans || a.hash != b.hash)
        abort();
    if (let_go_a != ss_count.conns_let_go - let_go || opaque_a != ss_count.conns_opaque - opaque)
        abort();
    return 0;
}
