/*
 * ss_lock.c - the contended halves of ss_lock (see ss_lock.h).
 */
#define _GNU_SOURCE
#include "ss_lock.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Mark the lock waited on (2) and sleep while it stays so; whoever then
 * takes it keeps the mark, since others may still be asleep. */
void ss_lock_wait(ss_lock_t *l)
{
    int saved = errno;

    while (__atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE) != 0)
        syscall(SYS_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
    errno = saved;
}

void ss_lock_wake(ss_lock_t *l)
{
    int saved = errno;

    syscall(SYS_futex, &l->v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}
