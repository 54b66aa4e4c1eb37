/*
 * ss_conn_int.h - what ss_conn.c (detection, lifecycle) and ss_send.c
 * (the send path) share. Not for the hooks: they use ss_conn.h; not for
 * the protocol modules: they use ss_proto.h.
 */
#ifndef SS_CONN_INT_H
#define SS_CONN_INT_H

#include "ss_conn.h"
#include "ss_proto.h"

/* Feed n bytes of direction dir (p NULL: n unseen bytes, sendfile) to the
 * protocol, or to detection while there is none. 0: let the connection go. */
int ss_conn_feed(ss_conn_t *c, int dir, const char *p, size_t n);

/* Its parts: detection (while no protocol follows c), and a module that
 * stopped (counted, and said why). */
int ss_conn_detect(ss_conn_t *c, int dir, const char *p, size_t n);
void ss_conn_stopped(ss_conn_t *c);

/* ss_conn_feed, inlined where a send or a receive feeds it: the bytes go
 * straight to the module that follows them. */
static inline __attribute__((always_inline)) int ss_conn_feed_in(ss_conn_t *c, int dir,
                                                                 const char *p, size_t n)
{
    int keep;

    if (n == 0 || c->mode == SS_MODE_OPAQUE)
        return 1; /* let go, its state kept for TLS (ss_conn_let_go) */
    c->fed[dir] += n;
    if (c->mode != SS_MODE_FOLLOW)
        return ss_conn_detect(c, dir, p, n);
    keep = c->proto->feed(c, dir, p, n);
    if (!keep)
        ss_conn_stopped(c);
    return keep;
}

/* Bytes held back that the program was told went out go now, as they are,
 * straight to socket fd, without waiting (best effort: the connection is
 * let go or closing; fd -1: they cannot, a TLS session ended). What does
 * not go is counted.
 * A fork child's copies are its parent's to send. */
void ss_conn_send_owed(ss_conn_t *c, int fd);

/* Stop following fd: no protocol, or its module can no longer follow. */
void ss_conn_let_go(ss_conn_t *c, int fd);

/* End every open exchange (error_type NULL: the program closed it). */
void ss_conn_fail_all(ss_conn_t *c, const char *error_type);

/* EAGAIN, EWOULDBLOCK, EINTR: nothing happened yet. */
int ss_errno_transient(int err);

#endif
