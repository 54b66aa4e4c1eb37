/*
 * ss_reap.c - children kept until they are reaped (see ss_reap.h).
 *
 * A slot is FREE, BUSY (one process is writing or reading it) or READY.
 * Whoever moves it from FREE or READY to BUSY owns it until it stores the
 * next state; an entry is read only by its owner. A reader checks pid and
 * ppid again once it owns the slot: the entry it saw may have been evicted
 * and replaced in between.
 */
#include "ss_reap.h"

#include <stddef.h>
#include <string.h>

static int ss_reap_claim(ss_reap_slot_t *s, uint32_t from)
{
    uint32_t want = from;

    return __atomic_compare_exchange_n(&s->state, &want, SS_REAP_BUSY, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static void ss_reap_fill(ss_reap_table_t *t, ss_reap_slot_t *s, const ss_reap_entry_t *e)
{
    const size_t rest = offsetof(ss_reap_entry_t, parent);

    memcpy((char *)&s->e + rest, (const char *)e + rest, sizeof(*e) - rest);
    __atomic_store_n(&s->e.pid, e->pid, __ATOMIC_RELAXED); /* read unowned: atomic */
    __atomic_store_n(&s->e.ppid, e->ppid, __ATOMIC_RELAXED);
    s->e.name[sizeof(s->e.name) - 1] = '\0';
    s->e.command[sizeof(s->e.command) - 1] = '\0';
    if (s->e.ts_len > SS_TS_FORWARD_MAX)
        s->e.ts_len = 0;
    s->e.ts[s->e.ts_len] = '\0';
    __atomic_store_n(&s->seq, __atomic_add_fetch(&t->seq, 1, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, SS_REAP_READY, __ATOMIC_RELEASE);
}

static int ss_reap_is(ss_reap_slot_t *s, int32_t pid, int32_t ppid)
{
    return __atomic_load_n(&s->e.pid, __ATOMIC_RELAXED) == pid &&
           __atomic_load_n(&s->e.ppid, __ATOMIC_RELAXED) == ppid;
}

int ss_reap_put(ss_reap_table_t *t, const ss_reap_entry_t *e)
{
    ss_reap_slot_t *oldest;
    unsigned i, tries;

    /* The same child already there: its pid was reused before the parent
     * reaped the first one (it never waits), so that entry is stale. */
    for (i = 0; i < SS_REAP_SLOTS; i++) {
        ss_reap_slot_t *s = &t->slot[i];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SS_REAP_READY &&
            ss_reap_is(s, e->pid, e->ppid) && ss_reap_claim(s, SS_REAP_READY)) {
            if (ss_reap_is(s, e->pid, e->ppid)) {
                ss_reap_fill(t, s, e);
                return SS_REAP_KEPT;
            }
            __atomic_store_n(&s->state, SS_REAP_READY, __ATOMIC_RELEASE);
        }
    }
    for (i = 0; i < SS_REAP_SLOTS; i++) {
        ss_reap_slot_t *s = &t->slot[i];

        if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) == SS_REAP_FREE &&
            ss_reap_claim(s, SS_REAP_FREE)) {
            ss_reap_fill(t, s, e);
            return SS_REAP_KEPT;
        }
    }
    for (tries = 0; tries < 4; tries++) { /* full: the oldest makes room */
        uint64_t seq = UINT64_MAX;

        oldest = NULL;
        for (i = 0; i < SS_REAP_SLOTS; i++) {
            ss_reap_slot_t *s = &t->slot[i];

            uint64_t q = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SS_REAP_READY && q < seq) {
                seq = q;
                oldest = s;
            }
        }
        if (oldest == NULL)
            return SS_REAP_NOT_KEPT;
        if (ss_reap_claim(oldest, SS_REAP_READY)) {
            __atomic_add_fetch(&t->evicted, 1, __ATOMIC_RELAXED);
            ss_reap_fill(t, oldest, e);
            return SS_REAP_KEPT_EVICTING;
        }
    }
    return SS_REAP_NOT_KEPT;
}

int ss_reap_take(ss_reap_table_t *t, int32_t pid, int32_t ppid, ss_reap_entry_t *out)
{
    unsigned i;

    for (i = 0; i < SS_REAP_SLOTS; i++) {
        ss_reap_slot_t *s = &t->slot[i];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SS_REAP_READY ||
            !ss_reap_is(s, pid, ppid))
            continue;
        if (!ss_reap_claim(s, SS_REAP_READY))
            continue;
        if (!ss_reap_is(s, pid, ppid)) {
            __atomic_store_n(&s->state, SS_REAP_READY, __ATOMIC_RELEASE);
            continue;
        }
        *out = s->e;
        __atomic_store_n(&s->state, SS_REAP_FREE, __ATOMIC_RELEASE);
        return 1;
    }
    return 0;
}
