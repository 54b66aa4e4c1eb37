/*
 * ss_inbound.c - the table of requests being served (see ss_inbound.h).
 */
#include "ss_inbound.h"
#include "../exporter/ss_lock.h"

#include <string.h>

typedef struct ss_inbound_entry {
    char tp[SS_TP_LEN];
    uint8_t used;
    uint64_t stamp;          /* insertion order, for eviction */
    ss_ctx_t ctx;
} ss_inbound_entry_t;

static ss_lock_t ss_inbound_lock = SS_LOCK_INIT;
static ss_inbound_entry_t ss_inbound[SS_INBOUND_SETS][SS_INBOUND_WAYS];
static uint64_t ss_inbound_clock;

/* The set: the last 8 characters of the parent-id part, which differ
 * between requests, as one word, multiplied (Fibonacci hashing) and its
 * top bits taken. */
static unsigned ss_inbound_set(const char *tp)
{
    uint64_t w;

    memcpy(&w, tp + 44, 8);
    return (unsigned)((w * 0x9e3779b97f4a7c15ull) >> 32) % SS_INBOUND_SETS;
}

/* Two traceparents (SS_TP_LEN bytes) equal: seven overlapping words. */
static int ss_inbound_same(const char *a, const char *b)
{
    uint64_t x, y, diff = 0;
    int i;

    for (i = 0; i < 6; i++) {
        memcpy(&x, a + 8 * i, 8);
        memcpy(&y, b + 8 * i, 8);
        diff |= x ^ y;
    }
    memcpy(&x, a + SS_TP_LEN - 8, 8);
    memcpy(&y, b + SS_TP_LEN - 8, 8);
    return (diff | (x ^ y)) == 0;
}

static int ss_inbound_same_id(const uint8_t a[8], const uint8_t b[8])
{
    uint64_t x, y;

    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return x == y;
}

void ss_inbound_add(const char *tp, const ss_ctx_t *ctx)
{
    ss_inbound_entry_t *set = ss_inbound[ss_inbound_set(tp)], *slot = &set[0];
    int i;

    ss_lock(&ss_inbound_lock);
    for (i = 0; i < SS_INBOUND_WAYS; i++) {
        if (!set[i].used) {
            slot = &set[i];
            break;
        }
        if (set[i].stamp < slot->stamp)
            slot = &set[i];
    }
    memcpy(slot->tp, tp, SS_TP_LEN);
    slot->ctx = *ctx;
    slot->used = 1;
    slot->stamp = ++ss_inbound_clock;
    ss_unlock(&ss_inbound_lock);
}

int ss_inbound_find(const char *tp, ss_ctx_t *ctx)
{
    ss_inbound_entry_t *set = ss_inbound[ss_inbound_set(tp)];
    int i, found = 0;

    ss_lock(&ss_inbound_lock);
    for (i = 0; i < SS_INBOUND_WAYS && !found; i++) {
        if (set[i].used && ss_inbound_same(set[i].tp, tp)) {
            *ctx = set[i].ctx;
            found = 1;
        }
    }
    ss_unlock(&ss_inbound_lock);
    return found;
}

int ss_inbound_has_prefix(const char *p, size_t n)
{
    int i, j, found = 0;

    ss_lock(&ss_inbound_lock);
    for (i = 0; i < SS_INBOUND_SETS && !found; i++)
        for (j = 0; j < SS_INBOUND_WAYS && !found; j++)
            found = ss_inbound[i][j].used && memcmp(ss_inbound[i][j].tp, p, n) == 0;
    ss_unlock(&ss_inbound_lock);
    return found;
}

void ss_inbound_remove(const char *tp, const uint8_t span_id[8])
{
    ss_inbound_entry_t *set = ss_inbound[ss_inbound_set(tp)];
    int i;

    ss_lock(&ss_inbound_lock);
    for (i = 0; i < SS_INBOUND_WAYS; i++)
        if (set[i].used && ss_inbound_same_id(set[i].ctx.span_id, span_id) &&
            ss_inbound_same(set[i].tp, tp))
            set[i].used = 0;
    ss_unlock(&ss_inbound_lock);
}

void ss_inbound_after_fork(void)
{
    ss_lock_reset(&ss_inbound_lock);
    memset(ss_inbound, 0, sizeof(ss_inbound));
}
