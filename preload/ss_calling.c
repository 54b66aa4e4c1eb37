/*
 * ss_calling.c - the outgoing call a thread has in flight (see
 * ss_calling.h).
 */
#include "ss_calling.h"

#include <string.h>

static uint64_t ss_calling_open[SS_CALLING_SLOTS + 1]; /* slot 0: unused */
static uint32_t ss_calling_next;
static __thread uint16_t ss_calling_mine __attribute__((tls_model("initial-exec")));
/* The last call this thread sent: its key (0: none) and its context. */
static __thread uint64_t ss_calling_last __attribute__((tls_model("initial-exec")));
static __thread ss_ctx_t ss_calling_ctx __attribute__((tls_model("initial-exec")));

static uint64_t ss_calling_key(const ss_span_t *s)
{
    uint64_t k;

    memcpy(&k, s->ctx.span_id, sizeof(k));
    return k;
}

void ss_calling_begin(ss_span_t *s)
{
    uint64_t key = ss_calling_key(s);

    if (key == 0 || s->calling_slot)
        return; /* no id (never drawn), or counted already */
    if (ss_calling_mine == 0)
        ss_calling_mine = (uint16_t)(__atomic_fetch_add(&ss_calling_next, 1, __ATOMIC_RELAXED) %
                                     SS_CALLING_SLOTS + 1);
    s->calling_slot = ss_calling_mine;
    s->calling_key = key;
    __atomic_xor_fetch(&ss_calling_open[ss_calling_mine], key, __ATOMIC_RELAXED);
    ss_calling_last = key;
    ss_calling_ctx = s->ctx;
}

void ss_calling_rekey(ss_span_t *s)
{
    uint64_t old = s->calling_key, key = ss_calling_key(s);

    if (s->calling_slot == 0 || key == old)
        return;
    if (key == 0) {
        ss_calling_end(s);
        return;
    }
    __atomic_xor_fetch(&ss_calling_open[s->calling_slot], old ^ key, __ATOMIC_RELAXED);
    s->calling_key = key;
    if (s->calling_slot == ss_calling_mine && ss_calling_last == old) {
        ss_calling_last = key; /* the thread that sent it: its lines say the new id */
        ss_calling_ctx = s->ctx;
    }
}

void ss_calling_end(ss_span_t *s)
{
    if (s->calling_slot == 0 || s->calling_slot > SS_CALLING_SLOTS)
        return;
    __atomic_xor_fetch(&ss_calling_open[s->calling_slot], s->calling_key, __ATOMIC_RELAXED);
    s->calling_slot = 0;
    s->calling_key = 0;
}

int ss_calling_one(ss_ctx_t *out)
{
    if (ss_calling_last == 0 ||
        __atomic_load_n(&ss_calling_open[ss_calling_mine], __ATOMIC_RELAXED) != ss_calling_last)
        return 0;
    *out = ss_calling_ctx;
    return 1;
}
