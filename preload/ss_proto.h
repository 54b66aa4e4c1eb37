/*
 * ss_proto.h - a protocol's module, as the connection core sees it, and
 * what the core offers the modules.
 *
 * Each protocol the shim follows is one module (preload/proto/) with one
 * ss_proto_t, listed once in proto/ss_protos.def: the table's order is the
 * order of detection. A connection's first bytes in either direction go
 * to every module's detect() in that order; the first to say yes while
 * none before it still wonders follows the connection from then on: its
 * open() makes its state (c->ps), the bytes detection saw are fed to it
 * first, and every later byte as it passes. Its exchanges are spans in the
 * connection's queue (ss_conn_exchange_new .. ss_conn_finish). When a
 * module stops being able to follow (feed() returns 0), the core lets the
 * connection go and counts why().
 *
 * Everything is called with the connection's lock held. Direction is the
 * program's: SS_DIR_OUT what it writes, SS_DIR_IN what it reads.
 */
#ifndef SS_PROTO_H
#define SS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ss_conn.h"
#include "ss_span.h"

struct ss_proto {
    const char *name;        /* for counters and log lines */
    uint8_t roles;           /* SS_ROLE_* it follows */
    /* The first n bytes of direction dir: 1 this protocol, 0 not, -1 more
     * bytes needed (at most SS_DETECT_MAX are ever given). */
    int (*detect)(const ss_conn_t *c, int dir, const uint8_t *p, size_t n);
    /* Begin following c (set c->ps). 0: it cannot (memory short). */
    int (*open)(ss_conn_t *c);
    /* n more bytes of direction dir (p NULL: n bytes went by unseen,
     * sendfile). 0: it can no longer follow; the connection is let go. */
    int (*feed)(ss_conn_t *c, int dir, const char *p, size_t n);
    /* The peer closed its side (a read returned 0). */
    void (*eof)(ss_conn_t *c);
    /* End the open exchanges: error_type, or NULL when the program closed
     * the connection (each protocol knows what an answer not read means). */
    void (*fail)(ss_conn_t *c, const char *error_type);
    /* Client, optional: how many of the last of `total` bytes the program
     * writes must be held back until more come, and the exchange whose
     * splice keeps them (ss_send.c). */
    size_t (*hold)(ss_conn_t *c, size_t total, ss_span_t **into);
    /* Why feed() returned 0: a short word, or NULL. */
    const char *(*why)(const ss_conn_t *c);
    /* Optional: the module stopped because the conversation goes on inside
     * TLS (why() "tls"), and c, the TLS session's connection, now holds
     * its state: go on with the plaintext from there. 0: it cannot (the
     * session's first bytes are then detected afresh). */
    int (*tls)(ss_conn_t *c);
    /* s leaves the queue: forget any pointer into it (optional). */
    void (*forget)(ss_conn_t *c, ss_span_t *s);
    /* Free c->ps (c->ps NULL: nothing). */
    void (*close)(ss_conn_t *c);
};

/* ---- what the core offers the modules ------------------------------------ */

/* A new exchange at the end of the queue, its context started if this
 * side sends the request (a client: child of what the thread serves);
 * NULL when `cap` are open or memory is short (counted). */
ss_span_t *ss_conn_exchange_new(ss_conn_t *c, unsigned cap);
/* The same for a record of another type (SS_SPAN_*, not HTTP), whose
 * protocol part the module fills whole (ss_span_alloc_bare). */
ss_span_t *ss_conn_exchange_new_as(ss_conn_t *c, unsigned cap, uint8_t type);
/* Take s out of the queue, wherever it is. */
void ss_conn_remove(ss_conn_t *c, ss_span_t *s);
/* The oldest exchange, out of the queue (NULL if none). */
ss_span_t *ss_conn_dequeue(ss_conn_t *c);
/* End s (out of the queue) and export it. */
void ss_conn_finish(ss_conn_t *c, ss_span_t *s);
/* Out of the queue, and dropped: an exchange that is not news. */
void ss_conn_drop(ss_conn_t *c, ss_span_t *s);

/* The server span this thread now serves (ctx, and the tracestate to
 * carry): the parent of what it sends. Cleared when span_id ends. */
void ss_conn_serving(const ss_ctx_t *ctx, const char *ts, uint16_t ts_len);
/* Whether span_id is the server span this thread serves. */
int ss_conn_serving_is(const uint8_t span_id[8]);
/* The context a client exchange sent now would have as its parent, and
 * its tracestate (NULL: none; s, if given, is marked when ambiguous). */
const ss_ctx_t *ss_conn_parent_now(ss_span_t *s, const char **ts, uint16_t *ts_len);

int ss_conn_in_library(void);   /* libcurl is at work on this thread */

#endif
