/*
 * ss_inbound.h - the requests this process is serving, by the traceparent
 * they arrived with.
 *
 * A proxy (nginx's proxy_pass, a Python app forwarding headers) copies the
 * inbound traceparent into the request it sends on. Finding that copy here
 * names the exact SERVER span the outgoing request belongs to, whichever
 * thread or event-loop turn sends it, so the shim can make the request a
 * child of that span and put the child's context in place of the copy.
 *
 * A small set-associative table (SS_INBOUND_SETS x SS_INBOUND_WAYS): an
 * entry lives while its server span is open; when a set is full, the oldest
 * entry in it gives way.
 */
#ifndef SS_INBOUND_H
#define SS_INBOUND_H

#include <stddef.h>

#include "ss_tctx.h"

#define SS_INBOUND_SETS 128
#define SS_INBOUND_WAYS 8

/* Remember that the server span ctx is serving a request that came with
 * traceparent tp (SS_TP_LEN bytes). */
void ss_inbound_add(const char *tp, const ss_ctx_t *ctx);

/* The server span serving the request that came with tp, if any. */
int ss_inbound_find(const char *tp, ss_ctx_t *ctx);

/* Whether the n bytes at p (n <= SS_TP_LEN) begin the traceparent of some
 * request being served: a value still coming may be a copy. A scan of the
 * whole table, for the rare write that ends inside a traceparent. */
int ss_inbound_has_prefix(const char *p, size_t n);

/* The server span that came with tp has ended. */
void ss_inbound_remove(const char *tp, const uint8_t span_id[8]);

/* In a fork child: the parent's requests are not the child's. */
void ss_inbound_after_fork(void);

#endif
