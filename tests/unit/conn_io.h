/*
 * conn_io.h - a program's read, write and end of a followed connection,
 * passed to the core as the hooks pass them: on its fd, or on a TLS
 * session's plaintext when tls is not NULL. Shared by the unit tests and
 * the fuzz targets that drive whole conversations.
 */
#ifndef TEST_CONN_IO_H
#define TEST_CONN_IO_H

#include <errno.h>
#include <sys/uio.h>

#include "../../preload/ss_conn.h"

/* The program read n bytes into buf. */
static inline void conn_io_read(ss_conn_t *tls, int fd, void *buf, size_t n)
{
    struct iovec v = {buf, n};

    if (tls)
        ss_conn_recv_on(tls, -1, &v, 1, (ssize_t)n, 0);
    else
        ss_conn_on_recv(fd, &v, 1, (ssize_t)n, 0, 0);
}

/* The program writes n bytes of buf (blocking); what it is told went. */
static inline ssize_t conn_io_write(ss_conn_t *tls, int fd, void *buf, size_t n, ss_sendfn_t fn,
                                    void *arg)
{
    struct iovec v = {buf, n};

    return tls ? ss_conn_send_on(tls, -1, &v, 1, 0, fn, arg) : ss_conn_send(fd, &v, 1, 0, fn, arg);
}

/* A read returned 0 (eof) or failed with ECONNRESET. */
static inline void conn_io_peer_end(ss_conn_t *tls, int fd, int eof)
{
    struct iovec v = {NULL, 0};

    if (tls)
        ss_conn_recv_on(tls, -1, &v, 1, eof ? 0 : -1, ECONNRESET);
    else
        ss_conn_on_recv(fd, &v, 1, eof ? 0 : -1, ECONNRESET, 0);
}

#endif
