/*
 * ss_inbound.c - the table of requests being served (see ss_inbound.h).
 */
#include "ss_inbound.h"
#include "ss_lock.h"

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

/* FNV-1a over the parent-id part, which is what differs between requests. */
static unsigned ss_inbound_set(const char *tp)
{
    uint32_t h = 2166136261u;
    int i;

    for (i = 36; i < 52; i++)
        h = (h ^ (unsigned char)tp[i]) * 16777619u;
    return h % SS_INBOUND_SETS;
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
        if (set[i].used && memcmp(set[i].tp, tp, SS_TP_LEN) == 0) {
            *ctx = set[i].ctx;
            found = 1;
        }
    }
    ss_unlock(&ss_inbound_lock);
    return found;
}

void ss_inbound_remove(const char *tp, const uint8_t span_id[8])
{
    ss_inbound_entry_t *set = ss_inbound[ss_inbound_set(tp)];
    int i;

    ss_lock(&ss_inbound_lock);
    for (i = 0; i < SS_INBOUND_WAYS; i++)
        if (set[i].used && memcmp(set[i].ctx.span_id, span_id, 8) == 0 &&
            memcmp(set[i].tp, tp, SS_TP_LEN) == 0)
            set[i].used = 0;
    ss_unlock(&ss_inbound_lock);
}

void ss_inbound_after_fork(void)
{
    ss_lock_reset(&ss_inbound_lock);
    memset(ss_inbound, 0, sizeof(ss_inbound));
}
