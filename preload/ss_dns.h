/*
 * ss_dns.h - name lookups as CLIENT spans, and the names they gave.
 *
 * The hooks (hooks/hk_dns.c) time each lookup the program makes through
 * the C library and hand the result here. A lookup made while the thread
 * serves a request is a child of that request's SERVER span and leaves at
 * once. One made outside any request (libcurl resolves in a thread of its
 * own; a client resolves before it has anything to send) waits, unstarted,
 * for what it was made for: the first exchange on a connection to one of
 * the addresses it gave (ss_dns_exchange), or the libcurl transfer that
 * connected there or asked for the name (ss_dns_adopt). It becomes that
 * span's child, with the context the span ends with (an HTTP request may
 * take another parent once its head is read); one nobody claims within SS_DNS_WAIT_NS, or pushed out of
 * the table, or still waiting at exit, leaves as a trace of its own.
 *
 * A small process-wide table keeps the recent lookups, so a connection
 * made to an address a name gave carries the name (server.address of its
 * spans, whatever the protocol); the first SS_DNS_NAMES_MAX distinct
 * names can be carried (a connection points to a copy kept for good). No lookup is made for a numeric address
 * (AI_NUMERICHOST, "10.0.0.1"): no span.
 */
#ifndef SS_DNS_H
#define SS_DNS_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ss_span.h"

#define SS_DNS_TABLE_MAX 64                 /* lookups remembered */
#define SS_DNS_NAMES_MAX 512                /* distinct names connections can carry */
#define SS_DNS_WAIT_NS (10ull * 1000000000) /* a lookup waits this long for its request */

/* What a connection knows of its peer's name (ss_conn_t.dns). */
typedef struct ss_dns_conn {
    const char *name;            /* the name the program resolved for the peer, or NULL
                                  * (kept for the life of the process: see ss_dns.c) */
    uint8_t waiting;             /* its lookup waits for the first exchange */
} ss_dns_conn_t;

/* Are lookups recorded (the shim is on and exports spans)? */
int ss_dns_wanted(void);

/* Is name an address written out, resolved without a lookup? */
int ss_dns_is_numeric(const char *name);

/* A lookup ended: started at t0, ended at t1 (ns since the epoch).
 * getaddrinfo returned rc (errno err for EAI_SYSTEM) and res. */
void ss_dns_addrinfo_done(const char *node, uint64_t t0, uint64_t t1, int rc, int err,
                          const struct addrinfo *res);
/* gethostbyname*: op is SS_DNS_GETHOSTBYNAME...; h is the answer, or
 * NULL with herr (h_errno). */
void ss_dns_hostent_done(int op, const char *name, uint64_t t0, uint64_t t1,
                         const struct hostent *h, int herr);
/* getnameinfo of sa gave host (rc 0), or failed with rc (errno err). */
void ss_dns_nameinfo_done(const struct sockaddr *sa, socklen_t len, uint64_t t0, uint64_t t1,
                          int rc, int err, const char *host);

/* gethostbyname*_r found the caller's buffer too small (ERANGE): the
 * caller retries with a bigger one, and the retry is the same lookup.
 * ss_dns_retry_start gives the first attempt's start for a retry of name
 * on this thread (t0 otherwise). */
void ss_dns_retry_note(const char *name, uint64_t t0, uint64_t t1);
uint64_t ss_dns_retry_start(const char *name, uint64_t t0);

/* The connection core. A client connection to sa was made: its name. */
void ss_dns_conn_named(ss_dns_conn_t *d, const struct sockaddr *sa, socklen_t len);

/* An exchange's span s was created on a connection that knows d. */
void ss_dns_exchange_named(ss_span_t *s, ss_dns_conn_t *d);
static inline void ss_dns_exchange(ss_span_t *s, ss_dns_conn_t *d)
{
    if (__builtin_expect(d->name != NULL, 0))
        ss_dns_exchange_named(s, d);
}

/* s ends (exported: it leaves as a span) or is dropped: the lookup
 * claimed for it leaves, as its child if it does. */
void ss_dns_parent_ends(ss_span_t *s, int exported);

/* The libcurl transfer parent connected to addr (text, may be NULL or
 * "") for the URL's host (name, or name:port): the lookup waiting for
 * either becomes its child. */
void ss_dns_adopt(const ss_span_t *parent, const char *name, const char *addr);

/* At exit or exec: every lookup still waiting leaves. */
void ss_dns_flush(void);
/* In a fork child (after ss_span_after_fork): the waiting lookups are
 * the parent's to send. */
void ss_dns_after_fork(void);

/* Tests: where finished spans go instead of the exporter (NULL: export). */
extern void (*ss_dns_sink)(ss_span_t *s);

#endif
