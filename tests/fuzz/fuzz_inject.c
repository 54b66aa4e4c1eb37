/*
 * fuzz_inject.c - libFuzzer target for the header injector.
 *
 * The input is what a program writes on a client connection while the
 * process serves a request that came with SERVED (so a copy of it is
 * replaced), cut into writes by the first bytes, against a "kernel" that
 * takes a varying number of bytes per call, on a blocking or non-blocking
 * socket. Whatever the bytes are: every count the program sees is at most
 * what it passed (all of it on a blocking socket), the program's bytes all
 * arrive in order, whatever the shim added is only whole
 * "traceparent: ...\r\n" lines, and what it changed is only copies of
 * SERVED, each now a traceparent of the same trace. And written in pieces,
 * the wire is the one the same bytes make written whole, but for the ids.
 *
 * Input: byte 0 = nlimits (bits 0-2), non-blocking (bit 3), ncuts (bits
 * 4-7); then nlimits kernel limits, ncuts piece lengths (cycled; with none,
 * each piece's length comes from its first byte), then the program's bytes.
 * Bytes that begin as the binary app-server protocols do (uwsgi's 0x00,
 * FastCGI's 0x01, AJP13's 0x12) are those modules' to rewrite, each as its
 * protocol counts lengths: fuzz_uwsgi_conn and fuzz_dbconn take them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_export.h"
#include "../../preload/ss_fd.h"

#define SERVED "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TP_LEN 55

/* One run's wire: what the kernel took, then what reached the peer at close. */
typedef struct run {
    uint8_t out[1 << 20];
    size_t len;
} run_t;

static run_t whole, pieces;
static run_t *cur;
static const uint8_t *limits;
static size_t nlimits, call;

static ssize_t kernel(void *arg, const struct iovec *iov, int cnt)
{
    size_t limit = nlimits ? (size_t)limits[call++ % nlimits] % 97 + 1 : 4096, took = 0;
    int i;

    (void)arg;
    for (i = 0; i < cnt && took < limit; i++) {
        size_t n = iov[i].iov_len < limit - took ? iov[i].iov_len : limit - took;

        if (cur->len + n > sizeof(cur->out))
            abort();
        memcpy(cur->out + cur->len, iov[i].iov_base, n);
        cur->len += n;
        took += n;
    }
    return (ssize_t)took;
}

static int is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A version-00 traceparent value at p (TP_LEN bytes). */
static int is_tp(const uint8_t *p, size_t n)
{
    size_t i;

    if (n < TP_LEN || p[0] != '0' || p[1] != '0')
        return 0;
    for (i = 2; i < TP_LEN; i++)
        if (!(i == 2 || i == 35 || i == 52 ? p[i] == '-' : is_hex(p[i])))
            return 0;
    return 1;
}

/* An injected line: "traceparent: " a value CRLF. */
static size_t injected_line(const uint8_t *p, size_t n)
{
    if (n < 13 + TP_LEN + 2 || memcmp(p, "traceparent: ", 13) != 0 || !is_tp(p + 13, n - 13))
        return 0;
    return p[13 + TP_LEN] == '\r' && p[13 + TP_LEN + 1] == '\n' ? 13 + TP_LEN + 2 : 0;
}

/* The process serves a request that came with SERVED, and goes on serving it. */
static void serve(void)
{
    static const char req[] = "GET /in HTTP/1.1\r\nHost: me\r\ntraceparent: " SERVED "\r\n\r\n";
    struct iovec v = {(void *)req, sizeof(req) - 1};
    struct sockaddr_in sa;
    int sp[2];

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        abort();
    ss_conn_on_accept(sp[0], (struct sockaddr *)&sa, sizeof(sa));
    ss_conn_on_recv(sp[0], &v, 1, (ssize_t)v.iov_len, 0, 0);
    ss_conn_put(ss_fd_take(sp[0])); /* forgotten, not closed: its span stays open */
    close(sp[0]);
    close(sp[1]);
}

/* Write msg in pieces (cut lengths cycled; none: from each piece's first
 * byte; n_cuts 0 and whole: one write) as a program would, then close.
 * Returns how many of the program's bytes were taken. */
static size_t write_out(const uint8_t *msg, size_t len, const uint8_t *cuts, size_t ncuts,
                        int one_write, int nonblock, run_t *r)
{
    struct sockaddr_in sa;
    size_t off = 0, k = 0;
    uint8_t peer[4096];
    ssize_t got;
    int sp[2];

    cur = r;
    r->len = 0;
    call = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        abort();
    if (nonblock)
        fcntl(sp[0], F_SETFL, O_NONBLOCK);
    fcntl(sp[1], F_SETFL, O_NONBLOCK);
    ss_conn_on_connect(sp[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    while (off < len) {
        size_t chunk = one_write ? len - off
                       : ncuts  ? (size_t)cuts[k++ % ncuts] + 1
                                : (size_t)(msg[off] % 64) + 1;
        size_t sent = 0;
        int spins = 0;

        if (chunk > len - off)
            chunk = len - off;
        while (sent < chunk) {
            struct iovec v = {(void *)(msg + off + sent), chunk - sent};
            ssize_t w = ss_conn_send(sp[0], &v, 1, 0, kernel, NULL);

            if (w < 0 && nonblock && errno == EAGAIN && ++spins < 1000)
                continue;
            if (w < 0 || (size_t)w > chunk - sent)
                abort();
            if (!nonblock && (size_t)w != chunk - sent && ss_fd_followed(sp[0]))
                abort(); /* blocking: the shim sends all (the kernel here would not) */
            if (w == 0)
                break;
            sent += (size_t)w;
        }
        off += sent;
        if (sent < chunk)
            break;
    }
    ss_conn_on_close(sp[0]);
    /* Bytes held back went to the peer at close, after all the kernel took. */
    while ((got = read(sp[1], peer, sizeof(peer))) > 0) {
        if (r->len + (size_t)got > sizeof(r->out))
            abort();
        memcpy(r->out + r->len, peer, (size_t)got);
        r->len += (size_t)got;
    }
    close(sp[0]);
    close(sp[1]);
    return off;
}

/* Whether msg[j] starts the value of a header line named traceparent. */
static int tp_value_at(const uint8_t *msg, size_t j)
{
    static const char name[] = "traceparent";
    size_t i;

    while (j > 0 && (msg[j - 1] == ' ' || msg[j - 1] == '\t'))
        j--;
    if (j < 13 || msg[j - 1] != ':' || msg[j - 13] != '\n')
        return 0;
    for (i = 0; i < 11; i++)
        if ((msg[j - 12 + i] | 0x20) != name[i])
            return 0;
    return 1;
}

/* The wire is the program's bytes, in order, plus whole injected lines,
 * with copies of SERVED replaced by a traceparent of the same trace. */
static void check_wire(const run_t *r, const uint8_t *msg, size_t off)
{
    size_t i, j, w;

    for (i = 0, j = 0; i < r->len;) {
        if (off - j >= TP_LEN && memcmp(msg + j, SERVED, TP_LEN) == 0 && tp_value_at(msg, j) &&
            is_tp(r->out + i, r->len - i) && memcmp(r->out + i, SERVED, 35) == 0) {
            i += TP_LEN; /* a copy, replaced: same trace, this span */
            j += TP_LEN;
            continue;
        }
        if (j < off && r->out[i] == msg[j]) {
            /* Prefer the program's byte, unless an injected line starts here
             * and the program's bytes do not continue with the same line,
             * or with that line as a copy of SERVED (replaced). */
            size_t k = injected_line(r->out + i, r->len - i);

            if (k && !(off - j >= k && memcmp(r->out + i, msg + j, k) == 0) &&
                !(off - j >= k && memcmp(r->out + i, msg + j, 13) == 0 &&
                  memcmp(msg + j + 13, SERVED, TP_LEN) == 0 &&
                  memcmp(r->out + i + k - 2, msg + j + k - 2, 2) == 0)) {
                i += k;
                continue;
            }
            i++;
            j++;
            continue;
        }
        w = injected_line(r->out + i, r->len - i);
        if (w == 0)
            abort();
        i += w;
    }
    if (j != off)
        abort();
}

/* Two wires the same but for ids: every byte that differs lies inside a
 * traceparent value that both have at the same place, and neither is
 * SERVED (a copy replaced in one and not the other). */
static void same_but_ids(const run_t *a, const run_t *b)
{
    size_t i = 0;

    if (a->len != b->len)
        abort();
    while (i < a->len) {
        size_t v;

        if (a->out[i] == b->out[i]) {
            i++;
            continue;
        }
        for (v = i + 1; v-- > 0 && i - v < TP_LEN;)
            if (is_tp(a->out + v, a->len - v) && is_tp(b->out + v, b->len - v))
                break;
        if (v == (size_t)-1 || i - v >= TP_LEN || memcmp(a->out + v, SERVED, TP_LEN) == 0 ||
            memcmp(b->out + v, SERVED, TP_LEN) == 0)
            abort();
        i = v + TP_LEN;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    size_t ncuts, off, off_whole, len;
    const uint8_t *msg, *cuts;
    int nonblock;

    if (!ready) {
        setenv("SPANSHIM_SOCKET", "/nonexistent/fuzz.sock", 1);
        ss_config_load();
        ss_export_init(0, NULL);
        serve();
        ready = 1;
    }
    if (size < 4)
        return 0;
    nlimits = data[0] & 7;
    nonblock = (data[0] >> 3) & 1;
    ncuts = data[0] >> 4;
    if (size < 1 + nlimits + ncuts + 1)
        return 0;
    limits = data + 1;
    cuts = limits + nlimits;
    msg = cuts + ncuts;
    len = size - 1 - nlimits - ncuts;
    if (msg[0] == 0x00 || msg[0] == 0x01 || msg[0] == 0x12)
        return 0;

    off = write_out(msg, len, cuts, ncuts, 0, nonblock, &pieces);
    check_wire(&pieces, msg, off);
    off_whole = write_out(msg, len, NULL, 0, 1, nonblock, &whole);
    check_wire(&whole, msg, off_whole);
    if (off == len && off_whole == len)
        same_but_ids(&pieces, &whole);
    return 0;
}
