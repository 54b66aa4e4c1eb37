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

/* While a request head's first traceparent value is still coming: could it
 * be a copy the shim would replace, so its bytes must be held back? */
int ss_conn_tp_may_be_copy(const ss_conn_t *c, const ss_span_t *s);

/* Bytes held back that the program was told went out go now, as they are,
 * straight to socket fd, without waiting (best effort: the connection is
 * let go or closing; fd -1: they cannot, a TLS session ended). What does
 * not go is counted.
 * A fork child's copies are its parent's to send. */
void ss_conn_send_owed(ss_conn_t *c, int fd);

/* Stop following fd: the connection is not (or no longer) HTTP. */
void ss_conn_let_go(ss_conn_t *c, int fd);

/* End every open exchange (error_type NULL: the program closed it). */
void ss_conn_fail_all(ss_conn_t *c, const char *error_type);

/* EAGAIN, EWOULDBLOCK, EINTR: nothing happened yet. */
int ss_errno_transient(int err);

/* Stream offset of the next request byte to parse. */
uint64_t ss_conn_req_pos(const ss_conn_t *c);

/* What HTTP/1 and HTTP/2 exchanges share (ss_conn.c). */
#define SS_CONN_NOT_H2 0xff
ss_span_t *ss_conn_exchange_new(ss_conn_t *c, unsigned cap); /* queued; NULL: none */
void ss_conn_remove(ss_conn_t *c, ss_span_t *s);              /* out of the queue */
void ss_conn_finish(ss_conn_t *c, ss_span_t *s);              /* end and export */
void ss_conn_mark_http(ss_conn_t *c);
void ss_conn_server_head_end(ss_span_t *s);                   /* context from the head */
int ss_conn_in_library(void);                                 /* libcurl is at work */

/* HTTP/2 (ss_conn_h2.c): start after the preface (0: cannot follow it). */
int ss_conn_h2_start(ss_conn_t *c);
void ss_conn_h2_free(ss_conn_t *c);
uint64_t ss_conn_h2_req_pos(const ss_conn_t *c);
int ss_conn_h2_feed_req(ss_conn_t *c, const char *p, size_t n);
int ss_conn_h2_feed_resp(ss_conn_t *c, const char *p, size_t n);
void ss_conn_h2_eof(ss_conn_t *c);

#endif
