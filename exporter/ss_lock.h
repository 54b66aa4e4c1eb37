/*
 * ss_lock.h - the shim's mutex: one int and a futex.
 *
 * Every traced request takes a dozen short, almost never contended locks
 * (its connection, the span free list, the inbound table, the batch).
 * Through pthread_mutex_lock/unlock each pair cost about 65 instructions:
 * a call through the PLT, then the type and owner checks of a general
 * mutex. This lock is the three-state futex mutex of Drepper's "Futexes
 * Are Tricky" (0: free, 1: held, 2: held and maybe waited on), inline:
 * taking a free lock is one compare-and-swap, releasing an unwaited one
 * one exchange. A waiter sleeps in the kernel, never spins, so a holder
 * that is descheduled costs the others nothing.
 *
 * Not recursive, no owner: as with the default pthread mutex, taking a
 * lock twice in one thread deadlocks. A child after fork() sets its locks
 * back to SS_LOCK_INIT (another thread of the parent may have held one).
 *
 * It lives in exporter/, the bottom of the layers (hooks -> preload ->
 * exporter), so that both preload/ and the exporter take it inline: both
 * lock on their hot path (the batch takes one per span), it depends on
 * nothing but atomics and the futex call, and handed to the exporter
 * through its host interface (ex_host.h) it would become a call through a
 * pointer on every span instead of one inline compare-and-swap.
 */
#ifndef SS_LOCK_H
#define SS_LOCK_H

typedef struct ss_lock {
    int v;
} ss_lock_t;

#define SS_LOCK_INIT {0}

/* The contended halves, out of line (ss_lock.c). */
void ss_lock_wait(ss_lock_t *l);
void ss_lock_wake(ss_lock_t *l);

static inline void ss_lock(ss_lock_t *l)
{
    int expect = 0;

    if (!__atomic_compare_exchange_n(&l->v, &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        ss_lock_wait(l);
}

/* 1 if the lock was free and is now held; never waits. */
static inline int ss_trylock(ss_lock_t *l)
{
    int expect = 0;

    return __atomic_compare_exchange_n(&l->v, &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void ss_unlock(ss_lock_t *l)
{
    if (__atomic_exchange_n(&l->v, 0, __ATOMIC_RELEASE) == 2)
        ss_lock_wake(l);
}

static inline void ss_lock_reset(ss_lock_t *l)
{
    l->v = 0;
}

#endif
