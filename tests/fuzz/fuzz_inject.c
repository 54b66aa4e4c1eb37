/*
 * fuzz_inject.c - libFuzzer target for the header injector.
 *
 * The input is what a program writes on a client connection, cut into
 * writes by the first bytes, against a "kernel" that takes a varying number
 * of bytes per call. Whatever the bytes are: every count the program sees is
 * at most what it passed, the program's bytes all arrive in order, and
 * whatever the shim added is only whole "traceparent: ...\r\n" lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../preload/ss_config.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_fd.h"

static uint8_t wire[1 << 20];
static size_t wire_len;
static const uint8_t *limits;
static size_t nlimits, call;

static ssize_t kernel(void *arg, const struct iovec *iov, int cnt)
{
    size_t limit = nlimits ? (size_t)limits[call++ % nlimits] % 97 + 1 : 4096, took = 0;
    int i;

    (void)arg;
    for (i = 0; i < cnt && took < limit; i++) {
        size_t n = iov[i].iov_len < limit - took ? iov[i].iov_len : limit - took;

        if (wire_len + n > sizeof(wire))
            abort();
        memcpy(wire + wire_len, iov[i].iov_base, n);
        wire_len += n;
        took += n;
    }
    return (ssize_t)took;
}

static int is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* An injected line: "traceparent: 00-" 32 hex "-" 16 hex "-" 2 hex CRLF. */
static size_t injected_line(const uint8_t *p, size_t n)
{
    size_t i;

    if (n < 70 || memcmp(p, "traceparent: 00-", 16) != 0)
        return 0;
    for (i = 16; i < 68; i++)
        if (!(i == 48 || i == 65 ? p[i] == '-' : is_hex(p[i])))
            return 0;
    return p[68] == '\r' && p[69] == '\n' ? 70 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct sockaddr_in sa;
    int sp[2];
    size_t off, w, i, j;
    const uint8_t *msg;
    size_t len;

    if (!ready) {
        setenv("SPANSHIM_SOCKET", "/nonexistent/fuzz.sock", 1);
        ss_config_load();
        ready = 1;
    }
    if (size < 4)
        return 0;
    nlimits = data[0] % 8;
    limits = data + 1;
    msg = data + 1 + nlimits;
    if (size < 1 + nlimits + 1)
        return 0;
    len = size - 1 - nlimits;
    wire_len = 0;
    call = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        return 0;
    ss_conn_on_connect(sp[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    for (off = 0; off < len;) {
        size_t chunk = (size_t)(msg[off] % 64) + 1;
        struct iovec v;
        ssize_t r;

        if (chunk > len - off)
            chunk = len - off;
        v.iov_base = (void *)(msg + off);
        v.iov_len = chunk;
        r = ss_conn_send(sp[0], &v, 1, 0, kernel, NULL);
        if (r < 0 || (size_t)r > chunk)
            abort();
        if (r == 0)
            break;
        off += (size_t)r;
    }
    ss_conn_on_close(sp[0]);
    close(sp[0]);
    close(sp[1]);
    /* The wire is the program's bytes, in order, plus whole injected lines. */
    for (i = 0, j = 0; i < wire_len;) {
        if (j < off && wire[i] == msg[j]) {
            /* Prefer the program's byte, unless an injected line starts here
             * and the program's bytes do not continue with the same line. */
            size_t k = injected_line(wire + i, wire_len - i);

            if (k && !(off - j >= k && memcmp(wire + i, msg + j, k) == 0)) {
                i += k;
                continue;
            }
            i++;
            j++;
            continue;
        }
        w = injected_line(wire + i, wire_len - i);
        if (w == 0)
            abort();
        i += w;
    }
    if (j != off)
        abort();
    return 0;
}
