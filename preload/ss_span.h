/*
 * ss_span.h - one exchange as a span record: a common part (context,
 * kind, times, peer, error), the send path's splice, and the part of its
 * protocol (s->type says which: proto/ss_http_span.h, proto/ss_db.h,
 * proto/ss_dns_span.h), or of a process (ss_proc_span.h).
 *
 * A record is filled as the bytes pass (request head, then response
 * status; a command, then its reply) and handed to the exporter when the
 * exchange ends; the exporter
 * encodes it at once, so the record can be reused right after. Records
 * come from a small free list, so the hot path does not call malloc once
 * the process has warmed up.
 */
#ifndef SS_SPAN_H
#define SS_SPAN_H

#include <stdint.h>
#include <time.h>

#include "ss_stack.h"
#include "ss_tctx.h"
#include "../exporter/ss_lock.h"
#include "proto/ss_db.h"
#include "proto/ss_dns_span.h"
#include "proto/ss_http_span.h"
#include "ss_proc_span.h"

enum { SS_KIND_INTERNAL = 1, SS_KIND_SERVER = 2, SS_KIND_CLIENT = 3 };

/* Which protocol part a record holds. */
enum {
    SS_SPAN_HTTP = 0,             /* s->http */
    SS_SPAN_CONNECT,              /* a connect that failed: the common part only */
    SS_SPAN_DB,                   /* s->db */
    SS_SPAN_DNS,                  /* s->dns */
    SS_SPAN_PROC,                 /* s->proc: a process continuing a trace (ss_proc.h) */
};

/* Room for "traceparent: <55>\r\ntracestate: <512>\r\n" in HTTP/1, and in
 * HTTP/2 for the rewritten last frame of a request's header block: a
 * block frame of up to 1 KiB plus both fields. */
#define SS_SPLICE_H2_FRAME (9 + 1024)
#define SS_SPLICE_MAX (SS_SPLICE_H2_FRAME + 2 + 11 + 1 + SS_TP_LEN + 2 + 10 + 3 + SS_TS_FORWARD_MAX)

typedef struct ss_span {
    ss_ctx_t ctx;                 /* this span: trace id, span id, flags */
    uint8_t parent_id[8];
    uint8_t has_parent;
    uint8_t parent_remote;        /* parent came from another process */
    uint8_t kind;                 /* SS_KIND_* */
    uint8_t type;                 /* SS_SPAN_*: the protocol part */
    uint8_t sampled;
    uint8_t is_unix;              /* over a Unix socket */
    uint8_t is_tls;               /* inside TLS: https */
    uint16_t peer_port;
    uint16_t local_port;
    uint64_t start_ns, end_ns;
    uint32_t fork_gen;            /* ss_span_start_ctx's process (ss_span.c) */
    uint32_t forks_made;          /* forks its process had made by then */
    uint16_t serving_slot;        /* server: counted in flight there (ss_serving.h) */
    uint16_t calling_slot;        /* client: counted in flight there for log lines (ss_calling.h) */
    uint8_t parent_ambiguous;     /* client: its thread served several, none chosen */
    uint8_t in_flight;            /* a copy reported while the exchange is open (ss_inflight.h) */
    uint8_t ended_early;          /* ended as the process image ended (exit, exec): its
                                   * own end is no news (ss_inflight.h) */
    uint8_t stack_n;              /* client: return addresses in stack (SS_STACK_NONE: tried) */
    const char *stacktrace;       /* code.stacktrace while it is encoded, or NULL (ss_stack.h) */
    struct ss_span *dns_child;    /* the lookup made for this exchange: sent as its child
                                   * when it ends, with its final context (ss_dns.h) */
    uint64_t calling_key;         /* client: the id it is counted by there (ss_calling.h) */
    char peer_addr[108];
    char error_type[32];
    uint16_t ts_len;              /* tracestate carried (inbound, forwarded) */
    char ts[SS_TS_FORWARD_MAX + 1];
    char server_name[SS_DNS_NAME_MAX]; /* the name the program resolved for the peer, or "" */

    /* Client side: bytes to splice into the request stream. */
    uint64_t splice_at;           /* stream offset of the splice */
    uint16_t splice_len;          /* bytes to insert */
    uint16_t splice_del;          /* application bytes they replace */
    uint16_t splice_done;         /* inserted bytes already sent */
    uint16_t splice_owed;         /* its first bytes stand for application bytes the
                                   * program was told went out (held, see ss_send.c) */
    uint8_t splice_armed;
    uint8_t splice_held;          /* application bytes held back: nothing goes after them */
    char splice[SS_SPLICE_MAX];

    union {                       /* the protocol's part, by type */
        ss_span_http_t http;
        ss_span_db_t db;
        ss_span_dns_t dns;
        ss_span_proc_t proc;
    };

    struct ss_span *next;         /* queue of a connection, or free list */

    /* The open-span registry (ss_inflight.h), under ss_span.c's lock: every
     * record from its alloc to its free, linked where the free list already
     * takes that lock. */
    struct ss_span *open_prev, *open_next;
    ss_lock_t *owner;             /* the lock its fields are written under (a connection's);
                                   * NULL: not reported while open. Atomic. */
    uint64_t inflight_due_ns;     /* monotonic: next report in flight; 0: not seen yet */
    uint32_t inflight_n;          /* reports made in flight */
    uint32_t listed;              /* in the registry of this fork generation, plus 1 */
    void *stack[SS_STACK_DEPTH];  /* the program's frames at the call, innermost first */
} ss_span_t;

#define SS_STACK_NONE 0xff        /* stack_n: a capture was tried and found nothing */

ss_span_t *ss_span_alloc(void);
/* The same with the protocol part left as it was (the caller's to fill
 * whole, every field it reads: not HTTP's, whose part is reset above). */
ss_span_t *ss_span_alloc_bare(void);
void ss_span_free(ss_span_t *s);
/* In a fork child: the records it holds from before are its parent's. */
void ss_span_after_fork(void);
/* In the parent, after fork: a child shares whatever it had open. */
void ss_span_forked(void);
/* 1 if s's process has forked since s got its context. */
int ss_span_forked_since(const ss_span_t *s);

/* Whether this process gave s its id (not a copy a fork child inherited). */
int ss_span_is_own(const ss_span_t *s);

/* Whether an ended (or open) record is worth exporting (sampled, and for
 * HTTP once its request head passed). */
int ss_span_is_news(const ss_span_t *s);

/* The registry of open records (ss_inflight.h walks it): fn is called for
 * each, under the registry's lock (it must not allocate or free a span, nor
 * block on another lock), until it returns 0. Only this process's records
 * are listed: a fork child starts with none. */
void ss_span_open_each(int (*fn)(ss_span_t *s, void *arg), void *arg);

/* Wall-clock now, in ns since the epoch. Inline: most spans read it
 * twice, in the core's hot paths. */
static inline __attribute__((always_inline)) uint64_t ss_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The time a receive on a client connection returned, while the core
 * feeds what it read (ss_conn.c), else 0: the exchanges that end in that
 * call (their last byte was read then) end at it, one clock read for the
 * call and its stack check (ss_stack_at_wait) instead of one each. */
extern __thread uint64_t ss_recv_ns __attribute__((tls_model("initial-exec")));

/* The exchange ended: stamp the end, export it if sampled and this
 * process gave it its id, free it. */
void ss_span_end(ss_span_t *s);

/* Give the span its context, given the parent (NULL: a new trace). */
void ss_span_start_ctx(ss_span_t *s, const ss_ctx_t *parent, int parent_remote);

/* errno as an error.type value ("ECONNRESET"). */
const char *ss_errno_name(int err, char *buf, size_t cap);

#endif
