/*
 * wire.h - the "kernel" the connection tests send through: it takes at
 * most `limit` bytes per call and keeps them, so the exact bytes on the
 * wire can be checked; and a program that sends a message in pieces,
 * resending after short counts and retrying on EAGAIN, as programs do.
 */
#ifndef TEST_WIRE_H
#define TEST_WIRE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "../../preload/ss_conn.h"

/* A connected socketpair whose first end the shim follows as a connection
 * with 127.0.0.1:port, accepted (server) or made (client). 0 when done. */
static inline int wire_pair(int sp[2], int server, uint16_t port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
        return -1;
    if (server)
        ss_conn_on_accept(sp[0], (struct sockaddr *)&sa, sizeof(sa));
    else
        ss_conn_on_connect(sp[0], (struct sockaddr *)&sa, sizeof(sa), 0, 0);
    return 0;
}

typedef struct wire {
    char out[65536];
    size_t len;
    size_t limit; /* most bytes taken per call */
    int calls;
} wire_t;

static ssize_t wire_send(void *arg, const struct iovec *iov, int cnt)
{
    wire_t *w = arg;
    size_t took = 0;
    int i;

    w->calls++;
    for (i = 0; i < cnt && took < w->limit; i++) {
        size_t n = iov[i].iov_len;

        if (n > w->limit - took)
            n = w->limit - took;
        memcpy(w->out + w->len, iov[i].iov_base, n);
        w->len += n;
        took += n;
    }
    return (ssize_t)took;
}

/* Send msg as a program would: `chunk` bytes per call, resending the rest
 * after a short count, retrying on EAGAIN. Every count is checked. */
static void wire_app_send(int fd, const void *msg, size_t len, size_t chunk, wire_t *w)
{
    const char *m = msg;
    size_t off = 0;
    int spins = 0;

    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        struct iovec v = {(void *)(m + off), n};
        ssize_t r = ss_conn_send(fd, &v, 1, 0, wire_send, w);

        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            assert_true(++spins < 100000);
            continue;
        }
        assert_true((size_t)r <= n); /* never more than the program passed */
        off += (size_t)r;
    }
}

#endif
