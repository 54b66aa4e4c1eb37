/*
 * ex_backlog.c - a ring of batch-sized slots in one lazily made mapping
 * (see ex_backlog.h).
 */
#define _GNU_SOURCE
#include "ex_backlog.h"
#include "ex_batch.h"

#include <string.h>
#include <sys/mman.h>

typedef struct ex_slot {
    size_t len;
    unsigned n;
    int kind;                 /* EX_BATCH_SPANS or EX_BATCH_LOGS */
    uint8_t spans[EX_BATCH_MAX];
} ex_slot_t;

static ex_slot_t *ex_slots; /* EX_BACKLOG_MAX of them, once needed */
static unsigned ex_first, ex_count_kept;

int ex_backlog_put(const uint8_t *spans, size_t len, unsigned n, int kind)
{
    ex_slot_t *s;

    if (ex_count_kept == EX_BACKLOG_MAX || len > EX_BATCH_MAX)
        return 0;
    if (ex_slots == NULL) {
        void *m = mmap(NULL, sizeof(ex_slot_t) * EX_BACKLOG_MAX, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (m == MAP_FAILED)
            return 0;
        ex_slots = m;
    }
    s = &ex_slots[(ex_first + ex_count_kept) % EX_BACKLOG_MAX];
    memcpy(s->spans, spans, len);
    s->len = len;
    s->n = n;
    s->kind = kind;
    __atomic_store_n(&ex_count_kept, ex_count_kept + 1, __ATOMIC_RELAXED);
    return 1;
}

unsigned ex_backlog_oldest(struct iovec *iov, unsigned max, size_t room, size_t *len,
                           unsigned *n, int *kind)
{
    unsigned k;

    *len = 0;
    *n = 0;
    *kind = EX_BATCH_SPANS;
    for (k = 0; k < max && k < ex_count_kept; k++) {
        ex_slot_t *s = &ex_slots[(ex_first + k) % EX_BACKLOG_MAX];

        if (k == 0)
            *kind = s->kind;
        else if (*len + s->len > room || s->kind != *kind)
            break;
        iov[k].iov_base = s->spans;
        iov[k].iov_len = s->len;
        *len += s->len;
        *n += s->n;
    }
    return k;
}

void ex_backlog_pop(unsigned k)
{
    if (k > ex_count_kept)
        k = ex_count_kept;
    ex_first = (ex_first + k) % EX_BACKLOG_MAX;
    __atomic_store_n(&ex_count_kept, ex_count_kept - k, __ATOMIC_RELAXED);
}

unsigned ex_backlog_count(void)
{
    return __atomic_load_n(&ex_count_kept, __ATOMIC_RELAXED);
}

void ex_backlog_after_fork(void)
{
    ex_first = ex_count_kept = 0; /* the mapping is the child's copy: reused */
}
