/*
 * ss_span.c - span records: allocation, context, ending (see ss_span.h).
 *
 * After fork, the child holds copies of the records its parent had open,
 * with the same span ids (a connection inherited mid-request, a CGI child
 * that closes its copy before it execs). A span is the process's that gave
 * it its id: only that process exports it, so no span leaves twice. The
 * child still carries its copies along (they keep a connection's requests
 * and responses paired if it goes on serving it) and drops them at their
 * end; what the child starts itself is its own. The parent, for its part,
 * counts its forks: a child may have written (part of) the answer to a
 * request the parent read before it forked (see ss_conn_fail_all).
 *
 * Every record is also on the list of open records from its alloc to its
 * free (ss_inflight.h reports the ones that stay open), linked under the
 * free list's lock that both already take.
 */
#define _GNU_SOURCE
#include "ss_span.h"
#include "../exporter/ex_batch.h"
#include "ss_calling.h"
#include "ss_config.h"
#include "ss_dns.h"
#include "ss_id.h"
#include "../exporter/ss_lock.h"
#include "ss_log.h"
#include "ss_serving.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SS_SPAN_FREE_MAX 64     /* records kept for reuse */

static ss_lock_t ss_span_lock = SS_LOCK_INIT;
static ss_span_t *ss_span_freelist;
static unsigned ss_span_nfree;
/* Every record between its alloc and its free, newest first (the registry
 * ss_inflight.c walks), when SPANSHIM_INFLIGHT_MS asks for it. Linked and
 * unlinked under ss_span_lock, which alloc and free take anyway. */
static ss_span_t *ss_span_open;
/* Forks since the shim was loaded into this process image: every process
 * a record can be copied into has a higher count than the one it came from. */
static uint32_t ss_span_fork_gen;

static inline void span_link(ss_span_t *s)
{
    s->open_prev = NULL;
    s->open_next = ss_span_open;
    if (ss_span_open)
        ss_span_open->open_prev = s;
    ss_span_open = s;
    s->listed = ss_span_fork_gen + 1;
}

static inline void span_unlink(ss_span_t *s)
{
    if (s->open_prev)
        s->open_prev->open_next = s->open_next;
    else
        ss_span_open = s->open_next;
    if (s->open_next)
        s->open_next->open_prev = s->open_prev;
    s->listed = 0;
}
/* Forks this process has made (counted in the parent, any thread). */
static uint32_t ss_span_forks_made;

_Static_assert(offsetof(ss_span_t, error_type) ==
                   offsetof(ss_span_t, peer_addr) + sizeof(((ss_span_t *)0)->peer_addr) &&
               offsetof(ss_span_t, ts_len) ==
                   offsetof(ss_span_t, error_type) + sizeof(((ss_span_t *)0)->error_type),
               "ss_span_alloc zeroes what comes before peer_addr, then the strings' ends");

/* Inlined into both allocators: http says whether the protocol part is
 * HTTP's, to be reset, or the caller's to fill whole. */
static inline __attribute__((always_inline)) ss_span_t *span_alloc(int http)
{
    ss_span_t *s;
    int listed = ss_cfg.inflight_ms != 0;

    ss_lock(&ss_span_lock);
    s = ss_span_freelist;
    if (s) {
        ss_span_freelist = s->next;
        ss_span_nfree--;
        s->owner = NULL;
        s->inflight_due_ns = 0;
        s->inflight_n = 0;
        s->listed = 0;
        if (listed)
            span_link(s);
    }
    ss_unlock(&ss_span_lock);
    if (s == NULL) {
        /* Warming up (or a burst): the cold path links it on its own. */
        s = malloc(sizeof(*s));
        if (s == NULL)
            return NULL;
        s->owner = NULL;
        s->inflight_due_ns = 0;
        s->inflight_n = 0;
        s->listed = 0;
        if (listed) {
            ss_lock(&ss_span_lock);
            span_link(s);
            ss_unlock(&ss_span_lock);
            ex_batch_start(); /* the flush thread reports it if it never ends */
        }
    }
    /* Only the fixed part needs zeroing; strings carry their lengths or
     * end at a NUL: error.type's writers copy at most one byte less than
     * its size, and its last byte ends it. */
    memset(s, 0, offsetof(ss_span_t, peer_addr));
    s->peer_addr[0] = '\0';
    s->error_type[0] = s->error_type[sizeof(s->error_type) - 1] = '\0';
    s->ts_len = 0;
    s->ts[0] = '\0';
    s->server_name[0] = '\0';
    s->splice_at = 0;
    s->splice_len = s->splice_del = s->splice_done = s->splice_owed = 0;
    s->splice_armed = s->splice_held = 0;
    /* HTTP is the common case; other protocols fill their part whole. */
    if (http) {
        memset(&s->http, 0, offsetof(ss_span_http_t, head));
        ss_http_head_reset(&s->http.head);
    }
    s->next = NULL;
    return s;
}

ss_span_t *ss_span_alloc(void)
{
    return span_alloc(1);
}

ss_span_t *ss_span_alloc_bare(void)
{
    return span_alloc(0);
}

/* Every span ending frees its record: inlined there, as its clock read. */
static inline __attribute__((always_inline)) void span_free(ss_span_t *s)
{
    if (s->dns_child)
        ss_dns_parent_ends(s, 0);
    if (__builtin_expect(s->calling_slot != 0, 0))
        ss_calling_end(s); /* its thread's lines are no longer its own */
    ss_serving_end(s->serving_slot);
    ss_lock(&ss_span_lock);
    if (s->listed == ss_span_fork_gen + 1)
        span_unlink(s);
    if (ss_span_nfree < SS_SPAN_FREE_MAX) {
        s->next = ss_span_freelist;
        ss_span_freelist = s;
        ss_span_nfree++;
        s = NULL;
    }
    ss_unlock(&ss_span_lock);
    free(s);
}

void ss_span_free(ss_span_t *s)
{
    if (s != NULL)
        span_free(s);
}

void ss_span_after_fork(void)
{
    /* The records the parent had free are the child's to give back, if the
     * list was whole at the fork (its lock free); if another thread was
     * halfway through it, they are simply not reused. */
    ss_span_t *s = __atomic_load_n(&ss_span_lock.v, __ATOMIC_RELAXED) == 0 ? ss_span_freelist : NULL;
    unsigned n = 0;

    ss_lock_reset(&ss_span_lock);
    /* The records open at the fork are the parent's to report; the child
     * lists only its own (a copy listed in the parent's generation is never
     * unlinked: its neighbours may be gone). */
    ss_span_open = NULL;
    ss_span_freelist = NULL;
    ss_span_nfree = 0;
    while (s && n++ < SS_SPAN_FREE_MAX) {
        ss_span_t *next = s->next;

        free(s);
        s = next;
    }
    ss_span_fork_gen++;
}

void ss_span_forked(void)
{
    __atomic_add_fetch(&ss_span_forks_made, 1, __ATOMIC_RELAXED);
}

int ss_span_forked_since(const ss_span_t *s)
{
    return s->forks_made != __atomic_load_n(&ss_span_forks_made, __ATOMIC_RELAXED);
}

__thread uint64_t ss_recv_ns __attribute__((tls_model("initial-exec")));

void ss_span_start_ctx(ss_span_t *s, const ss_ctx_t *parent, int parent_remote)
{
    int sampled;

    if (parent && parent->valid) {
        memcpy(s->ctx.trace_id, parent->trace_id, 16);
        memcpy(s->parent_id, parent->span_id, 8);
        s->has_parent = 1;
        s->parent_remote = (uint8_t)parent_remote;
        s->ctx.flags = parent->flags & SS_FLAG_RANDOM;
        sampled = ss_sample_now(&ss_cfg.sampler, s->ctx.trace_id, 1,
                            parent->flags & SS_FLAG_SAMPLED);
        ss_id_span(s->ctx.span_id);
    } else {
        ss_id_trace_span(s->ctx.trace_id, s->ctx.span_id); /* the thread's generator once */
        s->ctx.flags = SS_FLAG_RANDOM;
        sampled = ss_sample_now(&ss_cfg.sampler, s->ctx.trace_id, 0, 0);
    }
    s->ctx.valid = 1;
    s->fork_gen = ss_span_fork_gen;
    s->forks_made = __atomic_load_n(&ss_span_forks_made, __ATOMIC_RELAXED);
    s->sampled = (uint8_t)(sampled && !ss_cfg.disabled);
    if (sampled)
        s->ctx.flags |= SS_FLAG_SAMPLED;
    if (__builtin_expect(s->calling_slot != 0, 0))
        ss_calling_rekey(s); /* a call in flight given another id: its lines follow */
}

int ss_span_is_own(const ss_span_t *s)
{
    return s->fork_gen == ss_span_fork_gen;
}

void ss_span_open_each(int (*fn)(ss_span_t *s, void *arg), void *arg)
{
    ss_span_t *s;

    ss_lock(&ss_span_lock);
    for (s = ss_span_open; s; s = s->open_next)
        if (!fn(s, arg))
            break;
    ss_unlock(&ss_span_lock);
}

/* Is the ended record worth exporting? An HTTP exchange is once its
 * request head passed; a failed connect sent nothing, but the failure is
 * news; the other protocols end only operations that began. */
int ss_span_is_news(const ss_span_t *s)
{
    if (!s->sampled)
        return 0;
    if (s->type == SS_SPAN_HTTP)
        return s->http.head_done || (s->error_type[0] && s->kind == SS_KIND_CLIENT);
    return 1;
}

void ss_span_end(ss_span_t *s)
{
    int news;

    if (s->end_ns == 0)
        s->end_ns = ss_recv_ns ? ss_recv_ns : ss_now_ns();
    news = ss_span_is_news(s) && !s->ended_early;
    if (s->dns_child)
        ss_dns_parent_ends(s, news);
    if (news) {
        if (!ss_span_is_own(s)) {
            SS_COUNT(spans_inherited); /* the parent's: it exports its own copy */
        } else {
            SS_COUNT(spans_recorded);
            if (__builtin_expect(s->stack_n != 0, 0))
                ss_stack_attach(s); /* its code.stacktrace, if wanted */
            ex_batch_add(s);
            if (s->stacktrace)
                ss_stack_release(s);
        }
    }
    span_free(s);
}

const char *ss_errno_name(int err, char *buf, size_t cap)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {ECONNREFUSED, "ECONNREFUSED"}, {ECONNRESET, "ECONNRESET"},
        {ECONNABORTED, "ECONNABORTED"}, {EPIPE, "EPIPE"},
        {ETIMEDOUT, "ETIMEDOUT"},       {EHOSTUNREACH, "EHOSTUNREACH"},
        {ENETUNREACH, "ENETUNREACH"},   {ENETDOWN, "ENETDOWN"},
        {ENOENT, "ENOENT"},             {EACCES, "EACCES"},
        {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].err == err)
            return names[i].name;
    snprintf(buf, cap, "errno_%d", err);
    return buf;
}
