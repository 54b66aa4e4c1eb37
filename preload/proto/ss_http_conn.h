/*
 * ss_http_conn.h - what the HTTP/1 and HTTP/2 modules (ss_http1.c,
 * ss_http2.c) share: a server exchange's context from its request head,
 * ending exchanges, and the rules for what an unanswered one was.
 */
#ifndef SS_HTTP_CONN_H
#define SS_HTTP_CONN_H

#include "../ss_proto.h"
#include "ss_http.h"

#define SS_HTTP_PENDING_MAX 8    /* HTTP/1 exchanges in flight on one connection */
#define SS_H2_STREAMS_MAX 128    /* HTTP/2 exchanges in flight on one connection */

/* A request head with exactly one traceparent of the version-00 length. */
int ss_http_conn_has_tp(const ss_http_head_t *h);

/* A server exchange's head is whole: its context (the traceparent's
 * child, or a new trace), and it is what this thread now serves. */
void ss_http_conn_server_head_end(ss_span_t *s);

/* Client: put s's traceparent over a copied value whose first byte is at
 * stream offset `at`, byte for byte, with the value bytes held back so far
 * (ss_send.c) in their places. */
void ss_http_conn_splice_tp(ss_span_t *s, uint64_t at);

/* The connection speaks HTTP (counted once, *seen its flag). */
void ss_http_conn_mark(uint8_t *seen);

/* End s and export it. */
void ss_http_conn_finish(ss_conn_t *c, ss_span_t *s);

/* End every open exchange (ss_proto_t.fail): with error_type, or, when
 * NULL (the program closed the connection), as it is if its response had
 * begun or a child it forked may be answering it, "no_response" if not. */
void ss_http_conn_fail(ss_conn_t *c, const char *error_type);

/* The response being read (resp, HTTP/1) gives the first open exchange
 * its status as soon as its status line has passed, whole head or not:
 * that is what the peer got. */
void ss_http_conn_take_status(ss_conn_t *c, const ss_http_t *resp);

/* ss_proto_t.eof of an HTTP/1 response reader: a client whose server
 * closed has a response delimited by the close complete, any other open
 * one cut or never come. A server's peer closing its side ends nothing:
 * the response may still go out. */
void ss_http_conn_client_eof(ss_conn_t *c, ss_http_t *resp);

#endif
