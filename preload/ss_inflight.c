/*
 * ss_inflight.c - open spans reported while open, ended when the process
 * image ends (see ss_inflight.h).
 *
 * A walk holds the registry's lock and only tries each record's owner
 * lock: the owner takes its connection's lock first and the registry's in
 * span_free, so waiting here could deadlock; a record whose owner is busy
 * is simply seen on the next tick. While both are held the record cannot
 * change or be freed, so it is copied whole; the copies are encoded and
 * batched after both are let go. One lock (ss_inflight_lock) orders the
 * ticks and the final walks, so an in-flight report never follows the
 * record that ended its span.
 */
#define _GNU_SOURCE
#include "ss_inflight.h"
#include "ss_config.h"
#include "ss_log.h"
#include "../exporter/ex_batch.h"

#include <string.h>
#include <time.h>

static ss_lock_t ss_inflight_lock = SS_LOCK_INIT;
static ss_span_t ss_inflight_copies[SS_INFLIGHT_BATCH];

uint64_t ss_inflight_interval_ms(unsigned first_ms, unsigned made)
{
    uint64_t v = first_ms;

    if (v >= SS_INFLIGHT_CAP_MS)
        return v;
    while (made-- > 0) {
        v *= 2;
        if (v >= SS_INFLIGHT_CAP_MS)
            return SS_INFLIGHT_CAP_MS;
    }
    return v;
}

enum { SS_WALK_TICK, SS_WALK_END, SS_WALK_REOPEN };

typedef struct ss_walk {
    int mode;
    uint64_t mono_ns, real_ns;
    const char *why;       /* SS_WALK_END: error.type */
    unsigned n;            /* copies made */
    unsigned busy;         /* owners found busy */
} ss_walk_t;

/* Open, this process's, sampled, begun (for HTTP: its request head
 * passed): what would be news if it ended now. */
static int ss_inflight_open(const ss_span_t *s)
{
    return s->ctx.valid && s->end_ns == 0 && !s->ended_early && ss_span_is_own(s) &&
           (s->kind == SS_KIND_SERVER || s->kind == SS_KIND_CLIENT) && ss_span_is_news(s);
}

static void ss_inflight_copy(ss_walk_t *w, const ss_span_t *s)
{
    ss_span_t *c = &ss_inflight_copies[w->n++];

    memcpy(c, s, sizeof(*c));
    c->end_ns = w->real_ns;
    c->dns_child = NULL; /* its lookup leaves with the span's own end */
    c->next = NULL;
    c->owner = NULL;
    c->stacktrace = NULL; /* the text is the ended span's, made only at its end (ss_stack.h) */
    if (w->mode == SS_WALK_END) {
        strncpy(c->error_type, w->why, sizeof(c->error_type) - 1);
        c->error_type[sizeof(c->error_type) - 1] = '\0';
        c->in_flight = 0;
    } else {
        c->in_flight = 1;
    }
}

static int ss_inflight_visit(ss_span_t *s, void *arg)
{
    ss_walk_t *w = arg;
    ss_lock_t *owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);

    if (owner == NULL)
        return 1;
    if (w->mode == SS_WALK_TICK) {
        /* The tick's own fields (the registry's lock guards them). */
        if (s->inflight_due_ns == 0) {
            s->inflight_due_ns = w->mono_ns + (uint64_t)ss_cfg.inflight_ms * 1000000ull;
            return 1;
        }
        if (w->mono_ns < s->inflight_due_ns)
            return 1;
    }
    if (w->n == SS_INFLIGHT_BATCH && w->mode != SS_WALK_REOPEN)
        return 0; /* the rest next time */
    if (!ss_trylock(owner)) {
        w->busy++;
        return 1;
    }
    if (w->mode == SS_WALK_REOPEN) {
        s->ended_early = 0;
    } else if (ss_inflight_open(s)) {
        ss_inflight_copy(w, s);
        if (w->mode == SS_WALK_END)
            s->ended_early = 1;
    }
    ss_unlock(owner);
    if (w->mode == SS_WALK_TICK) {
        s->inflight_due_ns = w->mono_ns +
                             ss_inflight_interval_ms(ss_cfg.inflight_ms, s->inflight_n) * 1000000ull;
        s->inflight_n++;
    }
    return 1;
}

static void ss_inflight_export(ss_walk_t *w)
{
    unsigned i;

    for (i = 0; i < w->n; i++)
        ex_batch_add(&ss_inflight_copies[i]);
}

unsigned ss_inflight_tick(uint64_t mono_ns)
{
    ss_walk_t w = {SS_WALK_TICK, mono_ns, ss_now_ns(), NULL, 0, 0};

    if (ss_cfg.inflight_ms == 0)
        return 0;
    ss_lock(&ss_inflight_lock);
    ss_span_open_each(ss_inflight_visit, &w);
    ss_inflight_export(&w);
    ss_unlock(&ss_inflight_lock);
    if (w.n)
        ss_log(SS_LOG_DEBUG, "%u spans reported in flight", w.n);
    return w.n;
}

unsigned ss_inflight_end_all(const char *why)
{
    const struct timespec pause = {0, 1000000L};
    unsigned total = 0, tries = 0;
    ss_walk_t w;

    if (ss_cfg.inflight_ms == 0)
        return 0;
    ss_lock(&ss_inflight_lock);
    for (;;) {
        w = (ss_walk_t){SS_WALK_END, 0, ss_now_ns(), why, 0, 0};
        ss_span_open_each(ss_inflight_visit, &w);
        ss_inflight_export(&w);
        total += w.n;
        if (w.n == SS_INFLIGHT_BATCH)
            continue; /* more */
        /* An owner at work in another thread: give it a moment, a few times. */
        if (w.busy == 0 || ++tries > 10)
            break;
        nanosleep(&pause, NULL);
    }
    ss_unlock(&ss_inflight_lock);
    if (total)
        ss_log(SS_LOG_DEBUG, "%u open spans ended: %s", total, why);
    /* Owners still at work: a thread inside the shim when another called
     * exit(), or this thread, interrupted there by a handler that did. The
     * records may be half written and the image ends: lost, and said so. */
    if (w.busy) {
        SS_COUNT_N(spans_lost_busy_at_exit, w.busy);
        ss_log(SS_LOG_ERROR, "%u open %s lost (%s): in use by a thread the image's end stopped",
               w.busy, w.busy == 1 ? "span" : "spans", why);
    }
    return total;
}

void ss_inflight_reopen(void)
{
    ss_walk_t w = {SS_WALK_REOPEN, 0, 0, NULL, 0, 0};

    if (ss_cfg.inflight_ms == 0)
        return;
    ss_lock(&ss_inflight_lock);
    ss_span_open_each(ss_inflight_visit, &w);
    ss_unlock(&ss_inflight_lock);
}
