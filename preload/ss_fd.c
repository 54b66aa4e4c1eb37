/*
 * ss_fd.c - the fd table (see ss_fd.h).
 *
 * Chunks of 1024 slots are allocated the first time an fd in their range
 * is followed and never freed (an fd range once used tends to be reused).
 * Setting, taking and referencing go through one of 64 striped locks
 * (ss_lock); reading a NULL slot, as every untracked fd's hook does, takes
 * none.
 */
#define _GNU_SOURCE
#include "ss_fd.h"
#include "../exporter/ss_lock.h"

#include <stdlib.h>

#define SS_FD_STRIPES 64

/* A connection's counts, at its start (ss_fd.h). */
#define SS_FD_COUNTS(c) ((ss_fd_counts_t *)(void *)(c))

struct ss_conn **ss_fd_chunks[SS_FD_MAX / SS_FD_CHUNK];
static ss_lock_t ss_fd_locks[SS_FD_STRIPES];

static void ss_fd_lock(int fd)
{
    ss_lock(&ss_fd_locks[fd % SS_FD_STRIPES]);
}

static void ss_fd_unlock(int fd)
{
    ss_unlock(&ss_fd_locks[fd % SS_FD_STRIPES]);
}

/* A chunk's first followed fd allocates it. */
static __attribute__((noinline)) struct ss_conn **ss_fd_chunk_new(int fd)
{
    struct ss_conn **chunk = NULL, **fresh = calloc(SS_FD_CHUNK, sizeof(*fresh));

    if (fresh == NULL)
        return NULL;
    if (!__atomic_compare_exchange_n(&ss_fd_chunks[fd / SS_FD_CHUNK], &chunk, fresh, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        free(fresh); /* another thread won; chunk holds its pointer */
    else
        chunk = fresh;
    return chunk;
}

/* Inlined: finding a slot is on every followed call (ss_fd_get). */
static inline __attribute__((always_inline)) struct ss_conn **ss_fd_slot(int fd, int create)
{
    struct ss_conn **chunk;

    if ((unsigned)fd >= SS_FD_MAX)
        return NULL;
    chunk = __atomic_load_n(&ss_fd_chunks[fd / SS_FD_CHUNK], __ATOMIC_ACQUIRE);
    if (chunk == NULL && create)
        chunk = ss_fd_chunk_new(fd);
    return chunk ? &chunk[fd % SS_FD_CHUNK] : NULL;
}

struct ss_conn *ss_fd_get(int fd)
{
    struct ss_conn **slot = ss_fd_slot(fd, 0);
    struct ss_conn *c;

    if (slot == NULL || __atomic_load_n(slot, __ATOMIC_RELAXED) == NULL)
        return NULL;
    ss_fd_lock(fd);
    c = *slot;
    if (c)
        __atomic_add_fetch(&SS_FD_COUNTS(c)->refs, 1, __ATOMIC_RELAXED);
    ss_fd_unlock(fd);
    return c;
}

struct ss_conn *ss_fd_set(int fd, struct ss_conn *c)
{
    struct ss_conn **slot = ss_fd_slot(fd, 1);
    struct ss_conn *old;

    if (slot == NULL)
        return NULL; /* fd out of range: not followed */
    __atomic_add_fetch(&SS_FD_COUNTS(c)->refs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&SS_FD_COUNTS(c)->fds, 1, __ATOMIC_RELAXED);
    ss_fd_lock(fd);
    old = *slot;
    __atomic_store_n(slot, c, __ATOMIC_RELEASE);
    ss_fd_unlock(fd);
    if (old)
        __atomic_sub_fetch(&SS_FD_COUNTS(old)->fds, 1, __ATOMIC_ACQ_REL);
    return old;
}

struct ss_conn *ss_fd_take(int fd)
{
    struct ss_conn **slot = ss_fd_slot(fd, 0);
    struct ss_conn *c;

    if (slot == NULL || __atomic_load_n(slot, __ATOMIC_RELAXED) == NULL)
        return NULL;
    ss_fd_lock(fd);
    c = *slot;
    __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
    ss_fd_unlock(fd);
    if (c)
        __atomic_sub_fetch(&SS_FD_COUNTS(c)->fds, 1, __ATOMIC_ACQ_REL);
    return c;
}

void ss_fd_each(unsigned first, unsigned last, void (*fn)(int fd))
{
    unsigned c, j;

    if (last >= SS_FD_MAX)
        last = SS_FD_MAX - 1;
    for (c = first / SS_FD_CHUNK; first <= last && c <= last / SS_FD_CHUNK; c++) {
        struct ss_conn **chunk = __atomic_load_n(&ss_fd_chunks[c], __ATOMIC_ACQUIRE);

        if (chunk == NULL)
            continue;
        for (j = 0; j < SS_FD_CHUNK; j++) {
            unsigned fd = c * SS_FD_CHUNK + j;

            if (fd >= first && fd <= last && __atomic_load_n(&chunk[j], __ATOMIC_RELAXED))
                fn((int)fd);
        }
    }
}

void ss_fd_after_fork(void (*each)(struct ss_conn *c))
{
    size_t i, j;

    for (i = 0; i < SS_FD_STRIPES; i++)
        ss_lock_reset(&ss_fd_locks[i]);
    for (i = 0; i < SS_FD_MAX / SS_FD_CHUNK; i++) {
        struct ss_conn **chunk = ss_fd_chunks[i];

        if (chunk == NULL)
            continue;
        for (j = 0; j < SS_FD_CHUNK; j++)
            if (chunk[j])
                each(chunk[j]);
    }
}
