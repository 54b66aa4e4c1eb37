/*
 * col_stop.c - see col_stop.h.
 */
#include "col_stop.h"
#include "col_log.h"
#include "col_options.h"

int col_stop_flag;
_Static_assert(__atomic_always_lock_free(sizeof(int), 0), "the stop flag's store must be lock-free");
static uint64_t col_stop_at; /* when a stop must be over; 0: none yet */

/* Fixed by whichever thread sees the signal first. */
uint64_t col_stop_deadline(void)
{
    uint64_t at = __atomic_load_n(&col_stop_at, __ATOMIC_ACQUIRE), none = 0;

    if (at || !col_stopping())
        return at;
    at = col_now_ms() + (uint64_t)col_opt.stop_ms;
    if (!__atomic_compare_exchange_n(&col_stop_at, &none, at, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        at = none;
    return at;
}

int col_stop_handling_over(void)
{
    uint64_t at = col_stopping() ? col_stop_deadline() : 0;

    return at && col_now_ms() + (uint64_t)col_opt.stop_ms / 5 >= at;
}

long col_stop_left_ms(void)
{
    uint64_t at = col_stop_deadline(), now = col_now_ms();

    return at > now ? (long)(at - now) : 0;
}
