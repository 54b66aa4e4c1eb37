/*
 * ss_conn_int.h - what ss_conn.c (protocol and lifecycle) and ss_send.c
 * (the send path) share. Not for the hooks: they use ss_conn.h.
 */
#ifndef SS_CONN_INT_H
#define SS_CONN_INT_H

#include "ss_conn.h"

/* Feed bytes of the request / response direction (p NULL: n unseen body
 * bytes). 0 means the connection must be let go. */
int ss_conn_feed_req(ss_conn_t *c, const char *p, size_t n);
int ss_conn_feed_resp(ss_conn_t *c, const char *p, size_t n);

/* Stop following fd: the connection is not (or no longer) HTTP. */
void ss_conn_let_go(ss_conn_t *c, int fd);

/* End every open exchange (error_type NULL: the program closed it). */
void ss_conn_fail_all(ss_conn_t *c, const char *error_type);

/* EAGAIN, EWOULDBLOCK, EINTR: nothing happened yet. */
int ss_errno_transient(int err);

#endif
