/*
 * ss_hint.h - a placeholder traceparent that names the inbound request an
 * outgoing one belongs to.
 *
 * An event loop (Node.js) serves many requests on one thread, so which
 * request an outgoing call belongs to is known only inside the program.
 * The module the shim loads into Node (spanshim-node.js) knows it, and
 * writes it into the outgoing request as a traceparent-shaped hint:
 *
 *   00-5350414e5348494d FFFFFFFF PPPP LLLL-00000000 SSSSSSSS-00
 *      "SPANSHIM"       fd       peer local          request number
 *                                port port           on the connection
 *
 * (the fd FFFFFFFF: the inbound connection had closed). The shim finds the
 * server span that fd, those ports and that number name, and writes the
 * client span's own traceparent over the hint, byte for byte: one valid
 * traceparent on the wire. A hint it cannot resolve still gives way, to a
 * new trace's: a placeholder never leaves the process.
 */
#ifndef SS_HINT_H
#define SS_HINT_H

#include <stddef.h>
#include <stdint.h>

#include "ss_tctx.h"

typedef struct ss_hint {
    uint32_t fd;
    uint16_t peer_port, local_port;
    uint32_t seq;
} ss_hint_t;

/* Could tp's first n bytes be the start of a hint? */
int ss_hint_has_prefix(const char *tp, size_t n);

/* Is tp (SS_TP_LEN bytes) a hint? Fills h when it is. */
int ss_hint_parse(const char *tp, ss_hint_t *h);

/* The context of the server span h names, open on this process's fd, and
 * the tracestate it carries (ts: SS_TS_FORWARD_MAX + 1 bytes); 0 if none. */
int ss_hint_resolve(const ss_hint_t *h, ss_ctx_t *parent, char *ts, uint16_t *ts_len);

#endif
