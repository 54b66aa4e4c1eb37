/*
 * ss_serving.c - requests in flight per thread (see ss_serving.h).
 */
#include "ss_serving.h"

static uint32_t ss_serving_open[SS_SERVING_SLOTS + 1]; /* slot 0: unused */
static uint32_t ss_serving_next;
static __thread uint16_t ss_serving_mine __attribute__((tls_model("initial-exec")));

static uint16_t ss_serving_slot(void)
{
    if (ss_serving_mine == 0)
        ss_serving_mine = (uint16_t)(__atomic_fetch_add(&ss_serving_next, 1, __ATOMIC_RELAXED) %
                                     SS_SERVING_SLOTS + 1);
    return ss_serving_mine;
}

uint16_t ss_serving_begin(void)
{
    uint16_t slot = ss_serving_slot();

    __atomic_add_fetch(&ss_serving_open[slot], 1, __ATOMIC_RELAXED);
    return slot;
}

void ss_serving_end(uint16_t slot)
{
    if (slot && slot <= SS_SERVING_SLOTS)
        __atomic_sub_fetch(&ss_serving_open[slot], 1, __ATOMIC_RELAXED);
}

int ss_serving_alone(void)
{
    return ss_serving_mine == 0 ||
           __atomic_load_n(&ss_serving_open[ss_serving_mine], __ATOMIC_RELAXED) <= 1;
}

int ss_serving_one(void)
{
    return ss_serving_mine != 0 &&
           __atomic_load_n(&ss_serving_open[ss_serving_mine], __ATOMIC_RELAXED) == 1;
}
