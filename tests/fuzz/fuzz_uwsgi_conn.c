/*
 * fuzz_uwsgi_conn.c - libFuzzer target for the uwsgi module behind the
 * connection core, with trace context on: nginx's side (requests written,
 * context spliced in) and uWSGI's (requests read, answers written).
 *
 * The input: a first byte (bit 0: the server's side; bits 1-2: the end,
 * a close, the peer's EOF or a reset; bit 3: the client's thread serves a
 * request that came with a traceparent), then chunks, each a header byte
 * (high bit: read, else written; low bits: length - 1) and its bytes.
 * Always: every write is told its whole length; a server's answers reach
 * the wire as written; a client's uwsgi wire, read back as requests,
 * holds as many whole requests as the program wrote and fails where the
 * program's bytes fail (the lengths spliced are right); every span
 * encodes. The server's side, fed in its chunks and byte by byte, exports
 * the same spans.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "../../exporter/ex_otlp.h"
#include "../../preload/proto/ss_uwsgi.h"
#include "../../preload/ss_conn.h"
#include "../unit/conn_io.h"
#include "../unit/unit_config.h"

#define WIRE_MAX (1 << 17)

typedef struct run {
    uint64_t spans, hash;
    uint8_t wire[WIRE_MAX];
    size_t wire_len;
    uint8_t wrote[WIRE_MAX];
    size_t wrote_len;
} run_t;

static run_t *cur;

void __wrap_ex_batch_add(const ss_span_t *s);

void __wrap_ex_batch_add(const ss_span_t *s)
{
    static uint8_t buf[EX_SPAN_MAX];

    if (ex_otlp_span(s, buf, sizeof(buf)) == 0)
        abort();
    if (cur == NULL)
        return;
    cur->spans++;
    cur->hash = (cur->hash ^ s->kind ^ (uint64_t)s->http.status_code << 8) * 1099511628211ULL;
    for (const char *e = s->error_type; *e; e++)
        cur->hash = (cur->hash ^ (uint8_t)*e) * 1099511628211ULL;
}

static int sp[2] = {-1, -1};

/* What reached the peer's end so far, in order. */
static void drain(run_t *r)
{
    ssize_t got;

    while ((got = recv(sp[1], r->wire + r->wire_len, sizeof(r->wire) - r->wire_len,
                       MSG_DONTWAIT)) > 0)
        r->wire_len += (size_t)got;
}

/* The kernel: takes everything, onto the socket, where the bytes the core
 * sends itself (held ones, when it lets go) go too. */
static ssize_t take(void *arg, const struct iovec *iov, int cnt)
{
    run_t *r = arg;
    ssize_t took = writev(sp[0], iov, cnt);
    size_t want = 0;

    for (int i = 0; i < cnt; i++)
        want += iov[i].iov_len;
    if (took < 0 || (size_t)took != want)
        abort(); /* the socket's buffer holds more than a run writes */
    drain(r);
    return took;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SPANSHIM_LOG", "error", 1);
    return unit_config_setup(NULL); /* the shim's defaults: trace context on */
}

/* An HTTP request that came with a traceparent, served on this thread;
 * its connection (close it when done). */
static int serve(int srv[2])
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: h\r\ntraceparent: "
                              "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
    struct sockaddr_in sa;
    struct iovec v = {(void *)req, sizeof(req) - 1};

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, srv) != 0)
        abort();
    ss_conn_on_accept(srv[0], (struct sockaddr *)&sa, sizeof(sa));
    ss_conn_on_recv(srv[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    return srv[0];
}

/* Whole requests in b[0..n) and where parsing failed (0: it did not). */
static void requests(const uint8_t *b, size_t n, uint64_t *whole, uint64_t *failed_at)
{
    ss_uwsgi_t p;
    size_t i = 0;

    ss_uwsgi_init(&p);
    *whole = *failed_at = 0;
    while (i < n) {
        unsigned ev;

        i += ss_uwsgi_feed(&p, (const char *)b + i, n - i, &ev);
        if (ev & SS_UWSGI_EV_END)
            (*whole)++;
        if (ev & SS_UWSGI_EV_ERROR) {
            *failed_at = 1 + *whole;
            return;
        }
    }
}

/* The conversation in its chunks (step 0) or step bytes at a time. */
static void feed(const uint8_t *data, size_t size, size_t step, run_t *r)
{
    static uint8_t buf[128];
    uint8_t mode = size ? data[0] : 0;
    int server = mode & 1, end = (mode >> 1) & 3, srv[2] = {-1, -1};
    struct sockaddr_in sa;
    size_t i = 1;

    memset(r, 0, sizeof(*r));
    cur = r;
    if (!server && (mode & 8))
        serve(srv);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(3031);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
        abort();
    if (server)
        ss_conn_on_accept(sp[0], (struct sockaddr *)&sa, sizeof(sa));
    else
        ss_conn_on_connect(sp[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    while (i < size) {
        int in = data[i] & 0x80;
        size_t n = (size_t)(data[i] & 0x7f) + 1;

        i++;
        if (n > size - i)
            n = size - i;
        for (size_t k = 0; k < n;) {
            size_t m = step && step < n - k ? step : n - k;

            memcpy(buf, data + i + k, m);
            if (in) {
                conn_io_read(NULL, sp[0], buf, m);
            } else {
                if (conn_io_write(NULL, sp[0], buf, m, take, r) != (ssize_t)m)
                    abort();
                memcpy(r->wrote + r->wrote_len, data + i + k, m);
                r->wrote_len += m;
            }
            if (memcmp(buf, data + i + k, m) != 0)
                abort(); /* the program's buffer untouched */
            k += m;
        }
        i += n;
    }
    if (end)
        conn_io_peer_end(NULL, sp[0], end == 1);
    ss_conn_on_close(sp[0]);
    drain(r); /* held bytes the close sent */
    close(sp[0]);
    close(sp[1]);
    if (srv[0] >= 0) {
        ss_conn_on_close(srv[0]);
        close(srv[0]);
        close(srv[1]);
    }
    ss_conn_thread_reset();
    cur = NULL;
}

/* What reached the wire, against what the program wrote. The peer's EOF
 * or reset ends the open exchanges, the one being written too: a header
 * it held back (at most 3 bytes, the conversation's last) goes with it. */
static void check_wire(const run_t *r, int server, int peer_end)
{
    uint64_t whole_w, failed_w, whole_p, failed_p;

    if (server) {
        if (r->wire_len != r->wrote_len || memcmp(r->wire, r->wrote, r->wrote_len) != 0)
            abort();
        return;
    }
    if (r->wire_len + (peer_end ? 3 : 0) < r->wrote_len)
        abort();
    if (ss_uwsgi_detect(r->wrote, r->wrote_len < 64 ? r->wrote_len : 64) != 1)
        return; /* another protocol's (HTTP/1 adds its own header) */
    requests(r->wire, r->wire_len, &whole_w, &failed_w);
    requests(r->wrote, r->wrote_len, &whole_p, &failed_p);
    if (whole_w != whole_p || failed_w != failed_p)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t a, b;
    int server = size && (data[0] & 1), peer_end = size && ((data[0] >> 1) & 3) != 0;

    if (size > WIRE_MAX / 2)
        return 0;
    feed(data, size, 0, &a);
    check_wire(&a, server, peer_end);
    feed(data, size, 1, &b);
    check_wire(&b, server, peer_end);
    if (server && (a.spans != b.spans || a.hash != b.hash))
        abort();
    return 0;
}
