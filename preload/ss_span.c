/*
 * ss_span.c - span records: allocation, context, ending (see ss_span.h).
 */
#define _GNU_SOURCE
#include "ss_span.h"
#include "../exporter/ex_batch.h"
#include "ss_config.h"
#include "ss_id.h"
#include "ss_lock.h"
#include "ss_log.h"

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

ss_span_t *ss_span_alloc(void)
{
    ss_span_t *s;

    ss_lock(&ss_span_lock);
    s = ss_span_freelist;
    if (s) {
        ss_span_freelist = s->next;
        ss_span_nfree--;
    }
    ss_unlock(&ss_span_lock);
    if (s == NULL)
        s = malloc(sizeof(*s));
    if (s == NULL)
        return NULL;
    /* Only the fixed part needs zeroing; strings carry their lengths. */
    memset(s, 0, offsetof(ss_span_t, ts));
    s->ts_len = 0;
    s->ts[0] = '\0';
    ss_http_head_reset(&s->head);
    s->splice_at = 0;
    s->splice_len = s->splice_del = s->splice_done = 0;
    s->splice_armed = 0;
    s->next = NULL;
    return s;
}

void ss_span_free(ss_span_t *s)
{
    if (s == NULL)
        return;
    ss_lock(&ss_span_lock);
    if (ss_span_nfree < SS_SPAN_FREE_MAX) {
        s->next = ss_span_freelist;
        ss_span_freelist = s;
        ss_span_nfree++;
        s = NULL;
    }
    ss_unlock(&ss_span_lock);
    free(s);
}

void ss_span_after_fork(void)
{
    /* Another thread may have been halfway through the list: start over
     * (the records it held are simply not reused). */
    ss_lock_reset(&ss_span_lock);
    ss_span_freelist = NULL;
    ss_span_nfree = 0;
}

uint64_t ss_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ss_span_start_ctx(ss_span_t *s, const ss_ctx_t *parent, int parent_remote)
{
    int sampled;

    if (parent && parent->valid) {
        memcpy(s->ctx.trace_id, parent->trace_id, 16);
        memcpy(s->parent_id, parent->span_id, 8);
        s->has_parent = 1;
        s->parent_remote = (uint8_t)parent_remote;
        s->ctx.flags = parent->flags & SS_FLAG_RANDOM;
        sampled = ss_sample(&ss_cfg.sampler, s->ctx.trace_id, 1,
                            parent->flags & SS_FLAG_SAMPLED);
    } else {
        ss_id_trace(s->ctx.trace_id);
        s->ctx.flags = SS_FLAG_RANDOM;
        sampled = ss_sample(&ss_cfg.sampler, s->ctx.trace_id, 0, 0);
    }
    ss_id_span(s->ctx.span_id);
    s->ctx.valid = 1;
    s->sampled = (uint8_t)(sampled && !ss_cfg.disabled);
    if (sampled)
        s->ctx.flags |= SS_FLAG_SAMPLED;
}

void ss_span_end(ss_span_t *s)
{
    if (s->end_ns == 0)
        s->end_ns = ss_now_ns();
    if (s->sampled && s->head_done) {
        SS_COUNT(spans_recorded);
        ex_batch_add(s);
    } else if (s->sampled && s->error_type[0] && s->kind == SS_KIND_CLIENT) {
        /* A failed connect: no request went out, but the failure is news. */
        SS_COUNT(spans_recorded);
        ex_batch_add(s);
    }
    ss_span_free(s);
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
